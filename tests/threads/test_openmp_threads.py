"""n_threads: the passes over X are shared among threads without changing a single bit."""
import numpy as np
import pytest

import linreg
from linreg import _compiled, kernels

# Large enough for several chunks of rows (a chunk is at least 8192 rows) and for the
# kernels to use threads at all (passes over fewer than 2**21 elements run on one).
N, D = 320_003, 7
assert N * D >= 2**21


def problem(dtype, k, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D)).astype(dtype)
    Y = rng.standard_normal((N,) if k is None else (N, k)).astype(dtype)
    W = rng.standard_normal((D,) if k is None else (D, k)).astype(dtype)
    b = rng.standard_normal(1 if k is None else k).astype(dtype)
    return X, Y, W, b


def test_built_with_openmp():
    # The build falls back to serial kernels (with a notice) where the compiler has no
    # OpenMP; gcc has it, and then more than one thread must be on offer.
    assert _compiled.build.built_with_openmp()
    assert _compiled.build.openmp_max_threads() >= 1
    assert kernels.resolve_n_threads(None) == _compiled.build.openmp_max_threads()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [None, 3])
def test_results_do_not_depend_on_the_thread_count(dtype, k):
    X, Y, W, b = problem(dtype, k)
    results = []
    for n_threads in (1, 2, 3):
        grad_W, grad_b = np.empty_like(W), np.empty_like(b)
        loss = kernels.loss_and_grad(X, Y, W, b, grad_W, grad_b, n_threads=n_threads)
        pred = kernels.predict(X, W, b, n_threads=n_threads)
        W_gd, b_gd, losses = W.copy(), b.copy(), np.empty(3)
        kernels.gd_epochs(X, Y, W_gd, b_gd, 0.01, losses, n_threads=n_threads)
        stats = kernels.gram_statistics(X, Y, n_threads=n_threads)
        results.append([loss, grad_W, grad_b, pred, W_gd, b_gd, losses, stats.XtX, stats.XtY,
                        stats.mean_X, stats.yy])
    for other in results[1:]:
        for a, b_ in zip(results[0], other):
            np.testing.assert_array_equal(a, b_)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_threaded_passes_match_the_reference(dtype):
    from linreg import reference

    X, Y, W, b = problem(dtype, 2)
    grad_W, grad_b = np.empty_like(W), np.empty_like(b)
    ref_W, ref_b = np.empty_like(W), np.empty_like(b)
    X64, Y64 = X.astype(np.float64), Y.astype(np.float64)
    loss = kernels.loss_and_grad(X, Y, W, b, grad_W, grad_b, n_threads=2)
    ref = reference.loss_and_grad(X64, Y64, W.astype(np.float64), b.astype(np.float64),
                                  ref_W.astype(np.float64), ref_b.astype(np.float64))
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    assert loss == pytest.approx(ref, rel=rtol)
    np.testing.assert_allclose(kernels.predict(X, W, b, n_threads=2),
                               reference.predict(X64, W.astype(np.float64), b.astype(np.float64)),
                               rtol=rtol, atol=rtol)


@pytest.mark.parametrize("n_threads", [0, -1, 1.5, "2"])
def test_bad_thread_counts_are_refused(n_threads):
    X, Y, W, b = problem(np.float64, None)
    with pytest.raises((ValueError, TypeError), match="n_threads"):
        kernels.predict(X, W, b, n_threads=n_threads)
    with pytest.raises((ValueError, TypeError), match="n_threads"):
        linreg.GDRegressor(n_threads=n_threads, epochs=1).fit(X, Y)


def test_estimators_give_the_same_model_with_any_thread_count():
    X, Y, _, _ = problem(np.float64, None)
    for method in ("fused", "gram"):
        one = linreg.GDRegressor(epochs=5, method=method, n_threads=1).fit(X, Y)
        two = linreg.GDRegressor(epochs=5, method=method, n_threads=2).fit(X, Y)
        np.testing.assert_array_equal(one.coef_, two.coef_)
        np.testing.assert_array_equal(one.loss_curve_, two.loss_curve_)
        np.testing.assert_array_equal(one.predict(X), two.predict(X))
