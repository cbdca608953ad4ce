"""The scenarios of "threads never lose" (issue 14): the default thread count against one
thread, per pass size, in the situations a user meets.

Each scenario times two contenders, the default n_threads (all cores) and n_threads=1,
interleaved round by round (the order alternates), so that slow drifts of the machine's
load hit both alike. A round's "before" step is not timed:

- ``alone``: 20 ms without work first (pools idle, as for an occasional call);
- ``loop``: a batch of back-to-back calls timed as one (a user's loop over a kernel);
- ``busy-core``: as ``alone``, while another process spins on one core;
- ``after-blas``: right after a NumPy matmul on all cores (OpenBLAS's workers spin on);
- ``python-threads``: two Python threads each run a batch of calls at once; the round is
  the time until both are done.

Run as a script for a report with more rounds than the benchmark suite uses:

    python bench/_harness/thread_scenarios.py [--rounds 15] [--dtype float64] [n ...]

It imports NumPy, so the benchmark session's thread pinning must already be in place
when the suite imports it (it is: conftest.py pins first).
"""
import argparse
import os
import subprocess
import sys
import threading
import time

import numpy as np
from threadpoolctl import threadpool_limits

__all__ = ["CORES", "D", "SCENARIOS", "make_problem", "run_scenario", "summary",
           "busy_core", "BATCH"]

CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
D = 32
#: Calls per timed batch in the ``loop`` and ``python-threads`` scenarios.
BATCH = 8
SCENARIOS = ("alone", "loop", "busy-core", "after-blas", "python-threads")


def make_problem(n, dtype=np.float64, d=D, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype)
    y = (X @ np.linspace(-1, 1, d).astype(dtype) + 0.1).astype(dtype)
    return X, y


class busy_core:
    """Context manager: another process spinning on one core for the duration."""

    def __enter__(self):
        self.process = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.2)  # let it start spinning
        return self

    def __exit__(self, *exc):
        self.process.kill()
        self.process.wait()


def _caller(X, y, n_threads):
    from linreg import kernels

    w, b = np.zeros(X.shape[1], X.dtype), np.zeros(1, X.dtype)
    gw, gb = np.empty_like(w), np.empty_like(b)
    return lambda: kernels.loss_and_grad(X, y, w, b, gw, gb, n_threads=n_threads)


def run_scenario(scenario, X, y, rounds, threads=(None, 1)):
    """{n_threads: [seconds per round]} for the scenario (see the module docstring).

    ``None`` stands for the default, all cores (`CORES`), passed explicitly so that the
    benchmark session's pinning of OpenMP's default does not change what is measured.
    """
    calls = {t: _caller(X, y, CORES if t is None else t) for t in threads}
    second = {t: _caller(X.copy(), y.copy(), CORES if t is None else t) for t in threads} \
        if scenario == "python-threads" else None
    A = np.random.default_rng(1).standard_normal((400, 400))
    times = {t: [] for t in threads}
    for call in calls.values():  # warm up: first-touch, thread creation
        call()
    for r in range(rounds):
        order = threads if r % 2 == 0 else tuple(reversed(threads))
        for t in order:
            call = calls[t]
            if scenario in ("alone", "busy-core"):
                time.sleep(0.02)
            elif scenario == "after-blas":
                time.sleep(0.02)
                with threadpool_limits(CORES, user_api="blas"):
                    A @ A
            if scenario == "loop":
                start = time.perf_counter()
                for _ in range(BATCH):
                    call()
                times[t].append((time.perf_counter() - start) / BATCH)
            elif scenario == "python-threads":
                other, barrier = second[t], threading.Barrier(2)

                def batch(f):
                    barrier.wait()
                    for _ in range(BATCH):
                        f()

                worker = threading.Thread(target=batch, args=(other,))
                worker.start()
                start = time.perf_counter()
                batch(call)
                worker.join()
                times[t].append((time.perf_counter() - start) / BATCH)
            else:
                start = time.perf_counter()
                call()
                times[t].append(time.perf_counter() - start)
    return times


def summary(times):
    """(median, p10, p90) in ms."""
    a = np.asarray(times) * 1e3
    return float(np.median(a)), float(np.percentile(a, 10)), float(np.percentile(a, 90))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sizes", nargs="*", type=int,
                        default=[2**12, 2**14, 2**15, 2**16, 2**17, 2**19, 2**20])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--dtype", default="float64")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    args = parser.parse_args(argv)
    for scenario in args.scenarios.split(","):
        for n in args.sizes:
            X, y = make_problem(n, np.dtype(args.dtype))
            if scenario == "busy-core":
                with busy_core():
                    times = run_scenario(scenario, X, y, args.rounds)
            else:
                times = run_scenario(scenario, X, y, args.rounds)
            (m0, lo0, hi0), (m1, lo1, hi1) = summary(times[None]), summary(times[1])
            print(f"{scenario:15s} n={n:8d} ({n * D:>9d} el) default {m0:8.3f} ms "
                  f"[{lo0:7.3f}, {hi0:7.3f}]  1-thread {m1:8.3f} ms [{lo1:7.3f}, {hi1:7.3f}]"
                  f"  ratio {m0 / m1:5.2f}", flush=True)


if __name__ == "__main__":
    main()
