"""Gram statistics of wide, short data (more than 0.15 features per row): the reference
point of the loss expansion comes from conjugate-gradient steps, not from a d^3 solve.

The point is only a centre for the expansion (any point gives the same loss in exact
arithmetic); these tests check that it is near the least-squares solution (then the
expansion does not cancel), that it is the least-norm one when XtX is singular, and that
GD on such statistics follows the reference's trajectory.
"""
import numpy as np
import pytest

from linreg import kernels, reference
from linreg._gram import SOLVE_MAX_FEATURES_PER_ROW, _conjugate_gradient_point


def _wide(n, d, k, dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.geomspace(0.1, 10, d) + rng.uniform(-5, 5, d)
    Y = X @ rng.standard_normal((d, k)) + 2.0 + 0.1 * rng.standard_normal((n, k))
    return X.astype(dtype), Y.astype(dtype)


def _least_norm_solution(stats):
    return np.linalg.lstsq(stats.XtX, stats.XtY, rcond=1e-12)[0]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_point_of_wide_data_is_the_least_squares_solution(dtype):
    n, d = 600, 200  # d / n = 0.33: conjugate gradients
    assert d > SOLVE_MAX_FEATURES_PER_ROW * n
    X, Y = _wide(n, d, 2, dtype)
    stats = kernels.gram_statistics(X, Y, n_threads=1)
    want = _least_norm_solution(stats)
    tol = 1e-8 if dtype == np.float64 else 1e-5
    assert np.abs(stats.ref_W - want).max() <= tol * np.abs(want).max()
    # Its gradient and residual sum are those of the point itself, from the statistics.
    np.testing.assert_allclose(stats.ref_grad, stats.XtX @ stats.ref_W - stats.XtY,
                               atol=1e-9 * np.abs(stats.XtY).max())
    # float32: from the fused pass's float32 products (a few 1e-6 of the sum here).
    Xc = X.astype(np.float64) - stats.mean_X
    Yc = Y.astype(np.float64) - stats.mean_Y
    assert stats.ref_sse == pytest.approx(float(np.sum((Xc @ stats.ref_W - Yc) ** 2)),
                                          rel=1e-4 if dtype == np.float32 else 1e-9)


def test_more_features_than_rows_give_an_exact_fit_of_least_scaled_norm():
    # XtX is singular (rank n - 1 after centring): the steps start at 0 and stay in the
    # range of the correlation-scaled matrix, so they approach its least-norm solution
    # (in the scaled variables), which fits the rows exactly.
    n, d = 50, 120
    X, Y = _wide(n, d, 1, np.float64, seed=3)
    stats = kernels.gram_statistics(X, Y, n_threads=1)
    root = 1 / np.sqrt(stats.XtX.diagonal())
    want = root[:, None] * np.linalg.lstsq(stats.XtX * np.outer(root, root),
                                           root[:, None] * stats.XtY, rcond=1e-12)[0]
    assert np.isfinite(stats.ref_W).all()
    assert np.abs(stats.ref_W - want).max() <= 1e-6 * np.abs(want).max()
    # The exact fit's residual sum is taken from the rows: tiny next to |Yc|^2.
    assert stats.ref_sse <= 1e-12 * stats.yy


def test_conjugate_gradients_stop_per_column():
    # A zero column of targets is solved at once (0), a constant feature (root 0) stays
    # at 0, and the other column converges to the solution.
    rng = np.random.default_rng(7)
    A = rng.standard_normal((40, 30))
    XtX = A.T @ A
    XtX[0, :] = XtX[:, 0] = 0.0  # a constant column: centred, it is all zeros
    B = np.c_[XtX @ rng.standard_normal(30), np.zeros(30)]
    root = np.zeros(30)
    root[1:] = 1 / np.sqrt(XtX.diagonal()[1:])
    got = _conjugate_gradient_point(XtX, B, root, 1e-12)
    assert np.all(got[:, 1] == 0.0)
    assert got[0, 0] == 0.0
    want = np.linalg.lstsq(XtX, B[:, :1], rcond=None)[0][:, 0]
    np.testing.assert_allclose(got[:, 0], want, rtol=1e-8, atol=1e-8 * np.abs(want).max())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gd_on_wide_statistics_follows_the_reference(dtype):
    X, Y = _wide(300, 100, 1, dtype, seed=5)
    ours = kernels.gram_statistics(X, Y[:, 0], n_threads=1)
    theirs = reference.gram_statistics(X, Y[:, 0])
    W1, W2 = np.zeros(100, dtype), np.zeros(100, dtype)
    b1, b2 = np.zeros(1, dtype), np.zeros(1, dtype)
    l1, l2 = np.empty(25), np.empty(25)
    kernels.gd_epochs_gram(ours, W1, b1, 1e-4, l1)
    reference.gd_epochs_gram(theirs, W2, b2, 1e-4, l2)
    rtol = 1e-10 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(l1, l2, rtol=rtol)
    np.testing.assert_allclose(W1, W2, rtol=rtol, atol=rtol * np.abs(W2).max())


def test_wide_statistics_do_not_depend_on_the_thread_count():
    X, Y = _wide(400, 150, 2, np.float64, seed=9)
    one = kernels.gram_statistics(X, Y, n_threads=1)
    two = kernels.gram_statistics(X, Y, n_threads=2)
    for name in ("XtX", "XtY", "ref_W", "ref_grad"):
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name), err_msg=name)
    assert one.ref_sse == two.ref_sse
