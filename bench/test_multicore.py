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
import time

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


def _record_row(benchmark, impl, threads, **extra):
    """The extra_info report.py reads (this module sets each row's group itself)."""
    benchmark.extra_info.update(impl=impl, threads=threads, **extra)


# -- one epoch on all cores -------------------------------------------------------------


#: Idle thread pools (OpenBLAS's workers, OpenMP's) spin for a while after a call before
#: they sleep; a row timed right after another's would share the cores with them.
SETTLE_SECONDS = 0.5


@pytest.fixture(scope="module")
def expected_loss(tall_problem):
    """The reference loss at the fixed (w, b) per dtype, on one BLAS thread (no pool)."""
    X, y = tall_problem
    w, b = np.full(D, 0.1), np.zeros(1)
    return {dtype: reference.loss_and_grad(X.astype(dtype), y.astype(dtype), w.astype(dtype),
                                           b.astype(dtype), np.empty(D, dtype), np.empty(1, dtype))
            for dtype in (np.float64, np.float32)}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("impl", ["linreg", "numpy-reference", "numpy-matmul-floor"])
def test_epoch_all_cores(benchmark, tall_problem, expected_loss, dtype, impl):
    X, y = (a.astype(dtype) for a in tall_problem)
    w, b = np.full(D, 0.1, dtype), np.zeros(1, dtype)
    grad_w, grad_b = np.empty_like(w), np.empty_like(b)
    benchmark.group = f"epoch-all-cores-{np.dtype(dtype).name}"
    _record_row(benchmark, impl, CORES, n=N, d=D, k=1, work="epoch-all-cores", description=(
        f"One fused loss-and-gradient pass with all {CORES} cores on both sides: "
        f"kernels.loss_and_grad(n_threads={CORES}) vs linreg.reference.loss_and_grad and one "
        f"`X @ w` (a single read of X), with BLAS allowed {CORES} threads. Each row starts "
        f"after {SETTLE_SECONDS} s without work; linreg's rows first put OpenBLAS's idle "
        "workers to rest (they compete with other threads long after a BLAS call)."))
    if impl == "numpy-matmul-floor":
        out = np.empty(N, dtype)
        run = lambda: np.matmul(X, w, out=out)  # noqa: E731
    elif impl == "linreg":
        run = lambda: kernels.loss_and_grad(X, y, w, b, grad_w, grad_b, n_threads=CORES)  # noqa: E731
    else:
        run = lambda: reference.loss_and_grad(X, y, w, b, grad_w, grad_b)  # noqa: E731
    # The session pins BLAS to 1 thread; the NumPy rows get all cores. linreg's call makes
    # no BLAS call, but OpenBLAS's workers, once woken by the NumPy rows, keep competing
    # for the cores (a 2-thread linreg pass measured 4.4 ms after a 1-thread BLAS call,
    # 7.8 to 13.5 ms after 2-thread ones): its rows keep BLAS at 1 thread and make one
    # such call first, which lets OpenBLAS's workers go idle.
    blas_threads = 1 if impl == "linreg" else CORES
    with threadpool_limits(blas_threads):
        if impl == "linreg":
            X[:256].T @ y[:256]
        if impl != "numpy-matmul-floor":  # checked right before it is timed
            rtol = 1e-9 if dtype == np.float64 else 1e-4
            assert run() == pytest.approx(expected_loss[dtype], rel=rtol)
        time.sleep(SETTLE_SECONDS)
        benchmark(run)


# -- 1000 GD epochs ----------------------------------------------------------------------

GD_EPOCHS, GD_LR = 1000, 0.05
GD_DESCRIPTION = (
    f"GDRegressor(lr={GD_LR}, epochs={GD_EPOCHS}).fit, single-threaded: method 'auto' takes "
    "'gram' (one pass for the centred statistics, then O(d^2) per epoch) vs the plain NumPy "
    "loop (linreg.reference.gd_epochs: two reads of X per epoch). Same losses and weights "
    "to 1e-9 (checked)."
)


_numpy_gd_runs = []  # (W, b, losses) of the NumPy loop's runs, to check linreg against


def numpy_gd(X, y):
    W, b, losses = np.zeros(D), np.zeros(1), np.empty(GD_EPOCHS)
    assert reference.gd_epochs(X, y, W, b, GD_LR, losses) == GD_EPOCHS
    _numpy_gd_runs.append((W, b, losses))


def test_gd_1000_epochs_numpy_reference(benchmark, tall_problem):
    X, y = tall_problem
    benchmark.group = "gd-1000-epochs-float64"
    _record_row(benchmark, "numpy-reference", 1, n=N, d=D, k=1, epochs=GD_EPOCHS,
                work="gd-1000-epochs", description=GD_DESCRIPTION)
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
    _record_row(benchmark, "linreg", 1, n=N, d=D, k=1, epochs=GD_EPOCHS, method="gram",
                work="gd-1000-epochs", description=GD_DESCRIPTION)
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
    _record_row(benchmark, f"A @ A after {after}", CORES, work="blas-after-linreg", description=(
        f"A 600x600 matmul (BLAS on {CORES} threads) timed right after a linreg call on "
        f"{CORES} threads, and right after another BLAS call: idle OpenMP workers left "
        "spinning by linreg would slow the first (they made it 1.8x slower before linreg "
        "released them after each call)."))
    with threadpool_limits(CORES):
        benchmark.pedantic(np.matmul, args=(A, A), setup=before, rounds=30, iterations=1)
