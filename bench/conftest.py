"""Shared fixtures of the linreg benchmarks (pytest-benchmark).

Run from the repository root:

    pytest bench --benchmark-only --benchmark-min-rounds=10 --benchmark-json=results.json
    python bench/report.py results.json

CI runs `pytest bench --benchmark-disable`: every benchmark body then runs once, which
still exercises the correctness check each benchmark makes before it is timed.

Conventions (so that new peers and workloads slot in):

* a benchmark is `test_<work>[<dtype>-<impl>]` with `benchmark.group = "<work>-<dtype>"`;
  impl ids: `linreg`, `numpy-reference` (linreg.reference, the baseline of every
  speedup), `numpy-matmul-floor` (one read of X: the memory-bound floor), later e.g.
  `sklearn-...`, `torch-...`;
* `extra_info` of every benchmark holds impl, work, dtype, n, d, k and the thread count,
  which `bench/report.py` reads;
* data come from the session-scoped `problem` factory (each data set is generated once
  per session: 1e6 x 32 float64 is 256 MB), and reference answers from the
  session-scoped `expected` cache, so each is computed once however many peers use it.
"""
import os

# Belt and braces: single-threaded BLAS even before threadpoolctl gets to act. This must
# run before NumPy is imported (which loads OpenBLAS and reads these once).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

from linreg import kernels  # noqa: E402

#: Threads given to BLAS (and any other thread pool) in every benchmark, on both sides.
THREADS = 1

SEED = 20240601


@pytest.fixture(scope="session", autouse=True)
def single_threaded():
    """Pin every native thread pool (OpenBLAS, OpenMP) to THREADS for the whole session."""
    with threadpool_limits(limits=THREADS):
        yield THREADS


def blas_threads():
    """The thread counts the BLAS pools actually have now (to record, not to assume)."""
    counts = {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}
    return max(counts) if counts else None


@dataclass(frozen=True)
class Problem:
    """A regression problem y = X w_true + b_true + noise and a point (W, b) to evaluate.

    W and b are neither zero nor the truth, so residuals and gradients are far from zero
    and relative tolerances are meaningful. W, b must not be modified by benchmarks that
    read them; in-place trainers get copies (`fresh_params`).
    """

    X: np.ndarray
    Y: np.ndarray
    W: np.ndarray
    b: np.ndarray
    w_true: np.ndarray
    b_true: np.ndarray

    @property
    def n(self):
        return self.X.shape[0]

    @property
    def d(self):
        return self.X.shape[1]

    @property
    def k(self):
        return 1 if self.Y.ndim == 1 else self.Y.shape[1]

    @property
    def dtype(self):
        return self.X.dtype

    def zero_params(self):
        """Fresh, writable, C-contiguous zero W and b (the start of a training run)."""
        return np.zeros_like(self.W), np.zeros_like(self.b)


def _make_problem(n, d, k, rng):
    X = rng.standard_normal((n, d))
    shape_w = (d,) if k == 1 else (d, k)
    w_true = rng.uniform(0.5, 1.5, size=shape_w) * rng.choice([-1.0, 1.0], size=shape_w)
    b_true = rng.uniform(-1.0, 1.0, size=(k,))
    Y = X @ w_true
    Y += b_true
    Y += 0.1 * rng.standard_normal(Y.shape)
    W = w_true + rng.uniform(0.5, 1.0, size=shape_w) * rng.choice([-1.0, 1.0], size=shape_w)
    b = b_true + 0.5
    return Problem(X, Y, W, b, w_true, b_true)


def _astype(p, dtype):
    return Problem(*(np.ascontiguousarray(a, dtype=dtype) for a in
                     (p.X, p.Y, p.W, p.b, p.w_true, p.b_true)))


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
                rng = np.random.default_rng([SEED, n, d, k])
                cache[key] = _make_problem(n, d, k, rng)
            else:
                cache[key] = _astype(get(n, d, k, np.float64), dtype)
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


# Helpers reach the benchmark modules as fixtures: with --import-mode=importlib this
# conftest is not importable by name.


def _rtol_for(dtype):
    """Agreement demanded with the reference: float64 to 1e-9, float32 to 1e-4."""
    return 1e-9 if np.dtype(dtype) == np.float64 else 1e-4


@pytest.fixture(scope="session")
def rtol_for():
    """rtol_for(dtype): the relative tolerance of the pre-timing correctness checks."""
    return _rtol_for


def _describe(benchmark, *, work, impl, p, **more):
    """Set the group and the extra_info that bench/report.py reads."""
    benchmark.group = f"{work}-{p.dtype.name}"
    benchmark.extra_info.update(
        work=work,
        impl=impl,
        dtype=p.dtype.name,
        n=p.n,
        d=p.d,
        k=p.k,
        threads=blas_threads(),
        thread_limit=THREADS,
        linreg_simd=kernels.simd,
        **more,
    )


@pytest.fixture(scope="session")
def describe():
    """describe(benchmark, work=..., impl=..., p=problem, **extra): group + extra_info."""
    return _describe


def pytest_benchmark_update_machine_info(config, machine_info):
    """Record what the numbers depend on beyond the CPU: NumPy, its BLAS, linreg's SIMD."""
    blas = {}
    try:
        blas = dict(np.show_config(mode="dicts")["Build Dependencies"]["blas"])
    except Exception:  # NumPy < 1.25 has no mode="dicts"
        pass
    machine_info["numpy"] = {"version": np.__version__, "blas": blas}
    machine_info["threadpools"] = threadpool_info()
    machine_info["linreg"] = {"simd": kernels.simd, "thread_limit": THREADS}
    machine_info["cpu_count"] = os.cpu_count()
