"""The machine's read bandwidth, the physical limit of any pass that reads X once.

A STREAM-like read: a 256 MiB float64 array (8 times the 32 MiB L3 of the machines this
project measures on, so it comes from memory) is read once per round by `threads`
Python threads, each reducing its contiguous share with ``np.dot(a, a)`` (OpenBLAS's
ddot: one vectorized load per element, both operands the same stream; NumPy releases
the GIL inside it, and the benchmark session pins BLAS to one thread, so each Python
thread is one core). The threads are started once and wait on a barrier, so a round
costs no thread start.

`bytes_per_second` is what report.py divides by to give each fused epoch's share of
the limit. `read_after_idle` times the same read of fewer bytes, each round after an
idle pause: what the memory gives a lone pass with 1 and with several threads (the
thread policy's "alone" scenario, bench/test_thread_policy.py).
"""
import os
import threading
import time

import numpy as np

__all__ = ["READ_BYTES", "CORES", "ParallelRead", "read_after_idle"]

#: Bytes read per round.
READ_BYTES = 256 << 20

CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


class ParallelRead:
    """Read `READ_BYTES` once per call with `threads` threads (a context manager).

    Examples
    --------
    >>> with ParallelRead(2) as read:  # doctest: +SKIP
    ...     total = read()
    """

    def __init__(self, threads, n_bytes=READ_BYTES):
        self.threads = threads
        self.array = np.random.default_rng(0).random(n_bytes // 8)
        step = -(-self.array.size // threads)
        self.shares = [self.array[i:i + step] for i in range(0, self.array.size, step)]
        self.results = [0.0] * len(self.shares)
        self._start = threading.Barrier(len(self.shares))  # the caller and each worker
        self._done = threading.Barrier(len(self.shares))
        self._stop = False
        self._workers = [threading.Thread(target=self._work, args=(i,), daemon=True)
                         for i in range(1, len(self.shares))]

    def _work(self, i):
        while True:
            self._start.wait()
            if self._stop:
                return
            self.results[i] = float(np.dot(self.shares[i], self.shares[i]))
            self._done.wait()

    def __enter__(self):
        for worker in self._workers:
            worker.start()
        return self

    def __call__(self):
        """One read of the array; returns the sum of squares."""
        self._start.wait()
        self.results[0] = float(np.dot(self.shares[0], self.shares[0]))
        self._done.wait()
        return sum(self.results)

    def __exit__(self, *exc):
        self._stop = True
        self._start.wait()
        for worker in self._workers:
            worker.join()
        return False


def read_after_idle(n_bytes, rounds, threads=(CORES, 1), idle_s=0.02):
    """{threads: [seconds per read]}: `n_bytes` read once per round by each thread count
    in `threads`, every read after `idle_s` without work, the order alternating by round.

    The pause is the thread policy's "alone" scenario (bench/_harness/thread_scenarios.py):
    what a lone pass over X finds, its data evicted and the other core idle. The threads
    wait on a barrier between reads, as OpenMP's workers wait between passes.
    """
    readers = {t: ParallelRead(t, n_bytes) for t in threads}
    times = {t: [] for t in threads}
    for reader in readers.values():
        reader.__enter__()
    try:
        expected = {t: reader() for t, reader in readers.items()}  # warm up
        for r in range(rounds):
            for t in (threads if r % 2 == 0 else tuple(reversed(threads))):
                time.sleep(idle_s)
                start = time.perf_counter()
                total = readers[t]()
                times[t].append(time.perf_counter() - start)
                if not np.isclose(total, expected[t]):
                    raise AssertionError(f"{t} threads read {total}, expected {expected[t]}")
    finally:
        for reader in readers.values():
            reader.__exit__(None, None, None)
    return times
