"""The fixtures of the linreg benchmarks (pytest-benchmark); the harness they use (thread
pinning, problems, peers in subprocesses, machine description, report) is bench/_harness/.

Run from the repository root:

    pytest bench --benchmark-only --benchmark-json=bench.json
    python bench/report.py bench.json > bench/RESULTS.md

PyTorch, an optional peer, is in the `test` extra only as torch==2.13.0 on x86_64 Python
3.11 (the CPU build these machines keep on disk); elsewhere install it (its CPU build is
enough) to include it. Without it, its benchmarks are skipped and report.py lists them
as not run, with the reason.

CI runs `pytest bench --benchmark-disable`: every benchmark body then runs once, which
still exercises the correctness check each benchmark makes before it is timed.

Fixtures: `single_threaded` and `record_other_load` (autouse), `problem`, `expected`,
`data_files`. The benchmark modules import the rest from `_harness` (this directory is
put on sys.path below: with --import-mode=importlib, it is not otherwise).
"""
import sys
from pathlib import Path

_BENCH_DIR = str(Path(__file__).resolve().parent)
if _BENCH_DIR not in sys.path:
    sys.path.insert(0, _BENCH_DIR)

from _harness.threads import pin_thread_env_vars  # noqa: E402  (imports no NumPy)

pin_thread_env_vars()  # before NumPy is imported: OpenBLAS reads the variables once

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from _harness import machine  # noqa: E402
from _harness.problems import make_problem  # noqa: E402
from _harness.threads import THREADS  # noqa: E402

# pytest calls hooks found in a conftest, imported ones included: they write the skipped
# rows and the machine description into the JSON.
from _harness.pytest_hooks import (  # noqa: E402, F401
    pytest_benchmark_update_json,
    pytest_benchmark_update_machine_info,
    pytest_runtest_makereport,
)


@pytest.fixture(scope="session", autouse=True)
def single_threaded():
    """Pin every native thread pool (OpenBLAS, OpenMP) to THREADS for the whole session."""
    with threadpool_limits(limits=THREADS):
        yield THREADS


@pytest.fixture(autouse=True)
def record_other_load(request):
    """extra_info["other_load_cores"]: cores other processes kept busy during the test.

    The machine's busy CPU time (from /proc/stat) minus this process's own (peer
    subprocesses included), over the test's wall time, checks and all; plus the
    hypervisor's steal time as "steal_cores". The machine is shared: report.py flags a
    group as noisy when either was high during it.
    """
    if "benchmark" not in request.fixturenames:
        yield
        return
    bench = request.getfixturevalue("benchmark")
    try:
        before = machine.cpu_times()
    except (OSError, ValueError):
        yield
        return
    yield
    bench.extra_info.update(machine.other_load(before, machine.cpu_times()))


@pytest.fixture(scope="session")
def problem():
    """problem(n, d, k=1, dtype=np.float64) -> Problem, generated once per session.

    The float32 problem is the float64 one rounded, so both dtypes see the same data.
    """
    cache = {}

    def get(n, d, k=1, dtype=np.float64):
        dtype = np.dtype(dtype)
        key = (n, d, k, dtype.name)
        if key not in cache:
            if dtype == np.float64:
                cache[key] = make_problem(n, d, k)
            else:
                cache[key] = get(n, d, k, np.float64).astype(dtype)
        return cache[key]

    return get


@pytest.fixture(scope="session")
def expected():
    """expected(key, compute) -> compute() computed once per session under `key`.

    Holds the answers of `linreg.reference` that every implementation is checked against
    before it is timed (the reference SGD epoch alone takes ~0.4 s).
    """
    cache = {}

    def get(key, compute):
        if key not in cache:
            cache[key] = compute()
        return cache[key]

    return get


@pytest.fixture(scope="session")
def data_files(tmp_path_factory):
    """data_files(key, X, y) -> (X.npy, y.npy) paths, saved once per key, for the peers."""
    cache = {}

    def get(key, X, y):
        if key not in cache:
            folder = tmp_path_factory.mktemp("data-" + "-".join(str(part) for part in key))
            paths = folder / "X.npy", folder / "y.npy"
            np.save(paths[0], X)
            np.save(paths[1], y)
            cache[key] = tuple(str(path) for path in paths)
        return cache[key]

    return get
