"""All cores, and GD that does not re-read the data (issue 7).

- `epoch-all-cores-*`: one fused loss-and-gradient pass with every core on both sides:
  linreg with n_threads = the machine's cores, NumPy with BLAS allowed as many threads
  (the reference, and one `X @ w`, a single read of X).
- `gd-1000-epochs-float64`: GDRegressor (method "auto", which takes "gram" here: one pass
  for the centred statistics, then O(d^2) per epoch) against the plain NumPy loop,
  single-threaded both sides.
- `blas-after-linreg`: a BLAS call timed right after a threaded linreg call, and right
  after another BLAS call: idle OpenMP workers spinning would make the first slower.
"""
import os

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import linreg
from linreg import kernels, reference

N, D = 1_000_000, 32
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


@pytest.fixture(scope="module")
def tall_problem():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((N, D))
    w = rng.standard_normal(D)
    y = X @ w + 0.5 + 0.1 * rng.standard_normal(N)
    return X, y


def describe(benchmark, impl, threads, **extra):
    benchmark.extra_info.update(impl=impl, threads=threads, **extra)


# -- one epoch on all cores -------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("impl", ["linreg", "numpy-reference", "numpy-matmul-floor"])
def test_epoch_all_cores(benchmark, tall_problem, dtype, impl):
    X, y = (a.astype(dtype) for a in tall_problem)
    w, b = np.full(D, 0.1, dtype), np.zeros(1, dtype)
    grad_w, grad_b = np.empty_like(w), np.empty_like(b)
    benchmark.group = f"epoch-all-cores-{np.dtype(dtype).name}"
    describe(benchmark, impl, CORES, n=N, d=D, k=1)
    with threadpool_limits(CORES):  # the session pins BLAS to 1 thread; lift it here
        if impl == "numpy-matmul-floor":
            out = np.empty(N, dtype)
            benchmark(np.matmul, X, w, out=out)
            return
        expected_W, expected_b = np.empty_like(w), np.empty_like(b)
        expected = reference.loss_and_grad(X.astype(np.float64), y.astype(np.float64),
                                           w.astype(np.float64), b.astype(np.float64),
                                           expected_W.astype(np.float64), expected_b.astype(np.float64))
        if impl == "linreg":
            run = lambda: kernels.loss_and_grad(X, y, w, b, grad_w, grad_b, n_threads=CORES)  # noqa: E731
        else:
            run = lambda: reference.loss_and_grad(X, y, w, b, grad_w, grad_b)  # noqa: E731
        rtol = 1e-9 if dtype == np.float64 else 1e-4
        assert run() == pytest.approx(expected, rel=rtol)  # right before it is timed
        benchmark(run)


# -- 1000 GD epochs ----------------------------------------------------------------------

GD_EPOCHS, GD_LR = 1000, 0.05


_numpy_gd_runs = []  # (W, b, losses) of the NumPy loop's runs, to check linreg against


def numpy_gd(X, y):
    W, b, losses = np.zeros(D), np.zeros(1), np.empty(GD_EPOCHS)
    assert reference.gd_epochs(X, y, W, b, GD_LR, losses) == GD_EPOCHS
    _numpy_gd_runs.append((W, b, losses))


def test_gd_1000_epochs_numpy_reference(benchmark, tall_problem):
    X, y = tall_problem
    benchmark.group = "gd-1000-epochs-float64"
    describe(benchmark, "numpy-reference", 1, n=N, d=D, k=1, epochs=GD_EPOCHS)
    # ~25 s a round, so one round; the linreg benchmark below checks against its result.
    benchmark.pedantic(numpy_gd, args=(X, y), rounds=1, iterations=1)


def test_gd_1000_epochs_linreg(benchmark, tall_problem):
    X, y = tall_problem
    if not _numpy_gd_runs:  # run alone (-k): compute the expected answer here
        numpy_gd(X, y)
    W, b, losses = _numpy_gd_runs[-1]
    model = linreg.GDRegressor(lr=GD_LR, epochs=GD_EPOCHS, n_threads=1)
    model.fit(X, y)  # checked before it is timed
    assert model.method_ == "gram"
    np.testing.assert_allclose(model.coef_, W, rtol=1e-9)
    np.testing.assert_allclose(model.intercept_, b[0], rtol=1e-9)
    np.testing.assert_allclose(model.loss_curve_, losses, rtol=1e-9)
    benchmark.group = "gd-1000-epochs-float64"
    describe(benchmark, "linreg", 1, n=N, d=D, k=1, epochs=GD_EPOCHS, method="gram")
    benchmark.pedantic(model.fit, args=(X, y), rounds=5, iterations=1, warmup_rounds=1)


# -- idle workers after a threaded call --------------------------------------------------


@pytest.mark.parametrize("after", ["linreg-threaded-call", "blas-call"])
def test_blas_right_after(benchmark, tall_problem, after):
    X, y = tall_problem
    w, b = np.zeros(D), np.zeros(1)
    grad_w, grad_b = np.empty_like(w), np.empty_like(b)
    A = np.random.default_rng(0).standard_normal((600, 600))
    def before():  # pytest-benchmark's setup must return None
        if after == "linreg-threaded-call":
            kernels.loss_and_grad(X, y, w, b, grad_w, grad_b, n_threads=CORES)
        else:
            X.T @ y

    benchmark.group = "blas-after-linreg"
    describe(benchmark, f"A @ A after {after}", CORES,
             note="600x600 matmul with BLAS on all cores, timed right after the call named")
    with threadpool_limits(CORES):
        benchmark.pedantic(np.matmul, args=(A, A), setup=before, rounds=30, iterations=1)
