"""GD from sufficient statistics: the same trajectory as the fused path, far cheaper.

The tests run on each compiled build (`impl`); `dtype` (float32, float64) and `k` (1-D
or 2-D targets) come from the kernel contract, kernels/conftest.py.
(GDRegressor's choice between the two: ../estimators/test_gd_method.py.)
"""
import numpy as np
import pytest

from linreg import kernels, reference


def seed(dtype):
    return np.array([[1.0], [2.0], [3.0]], dtype), np.array([3.0, 6.0, 9.0], dtype)


def random_problem(dtype, k=3):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 10))
    Y = X @ rng.standard_normal((10, k)) + 0.1 * rng.standard_normal((2000, k))
    return X.astype(dtype), Y.astype(dtype)


def ill_conditioned(dtype):
    # Two nearly collinear columns (condition number ~1e8) and one far from zero.
    rng = np.random.default_rng(1)
    Z = rng.standard_normal((3000, 2))
    X = np.c_[Z, Z[:, 0] + 1e-4 * rng.standard_normal(3000), 100.0 + Z[:, 1]]
    y = X @ [1.0, 2.0, 3.0, 0.5] + 0.01 * rng.standard_normal(3000)
    return X.astype(dtype), y.astype(dtype)


CASES = {
    "seed": (seed, 0.01, 1000),
    "random": (random_problem, 0.05, 300),
    "ill-conditioned": (ill_conditioned, 1e-5, 1000),
}


def params_like(X, Y):
    W = np.zeros((X.shape[1],) if Y.ndim == 1 else (X.shape[1], Y.shape[1]), X.dtype)
    return W, np.zeros(1 if Y.ndim == 1 else Y.shape[1], X.dtype)


@pytest.mark.parametrize("case", CASES)
def test_gram_follows_the_fused_trajectory(impl, case, dtype):
    make, lr, epochs = CASES[case]
    X, Y = make(dtype)
    W_f, b_f = params_like(X, Y)
    W_g, b_g = params_like(X, Y)
    loss_f, loss_g = np.empty(epochs), np.empty(epochs)
    assert kernels.gd_epochs(X, Y, W_f, b_f, lr, loss_f) == epochs
    assert kernels.gd_epochs_gram(kernels.gram_statistics(X, Y), W_g, b_g, lr, loss_g) == epochs
    rtol = 1e-9 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(loss_g, loss_f, rtol=rtol)
    scale = np.abs(W_f).max()
    np.testing.assert_allclose(W_g, W_f, rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(b_g, b_f, rtol=rtol, atol=rtol * np.abs(b_f).max())


def test_statistics_and_epochs_match_the_reference(impl, k, dtype):
    X, Y = random_problem(dtype, 1 if k is None else k)
    if k is None:
        Y = Y[:, 0].copy()
    ours, theirs = kernels.gram_statistics(X, Y), reference.gram_statistics(X, Y)
    assert ours.n_samples == theirs.n_samples and ours.y_1d == theirs.y_1d == (k is None)
    for name in ("mean_X", "mean_Y"):
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-11,
                                   atol=1e-9, err_msg=name)
    # float32 data: the products are summed in float32 within blocks of rows (sgemm's
    # speed), to about 1e-7 of the largest entry (linreg._gram._centred_products).
    rtol = 1e-11 if dtype == np.float64 else 1e-6
    for name in ("XtX", "XtY"):
        want = getattr(theirs, name)
        np.testing.assert_allclose(getattr(ours, name), want, rtol=rtol,
                                   atol=max(1e-9, rtol * np.abs(want).max()), err_msg=name)
    assert ours.yy == pytest.approx(theirs.yy, rel=1e-12 if dtype == np.float64 else 1e-6)
    np.testing.assert_array_equal(ours.XtX, ours.XtX.T)
    W1, b1 = params_like(X, Y)
    W2, b2 = params_like(X, Y)
    l1, l2 = np.empty(20), np.empty(20)
    kernels.gd_epochs_gram(ours, W1, b1, 0.05, l1)
    reference.gd_epochs_gram(theirs, W2, b2, 0.05, l2)
    rtol = 1e-10 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(l1, l2, rtol=rtol)
    np.testing.assert_allclose(W1, W2, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("d", [28, 40])  # above COMPILED_GRAM_MAX_FEATURES (float32): BLAS's path
def test_float32_statistics_of_raw_data_are_accurate_in_double(d):
    # Columns far from zero (mean / spread up to 1e6), many rows, blocks of rows: the
    # float32 statistics, centred at the mean rounded to float32 and corrected for that
    # rounding, stay within 1e-6 of the double ones on the same values; an uncentred or
    # uncorrected float32 pass would be off by far more.
    rng = np.random.default_rng(5)
    n = 20_000
    X = (rng.standard_normal((n, d)) * np.geomspace(1e-3, 10, d)
         + rng.uniform(-1000, 1000, d)).astype(np.float32)
    y = (X @ rng.standard_normal(d) + rng.standard_normal(n)).astype(np.float32)
    ours = kernels.gram_statistics(X, y, n_threads=1)
    exact = kernels.gram_statistics(X.astype(np.float64), y.astype(np.float64), n_threads=1)
    for name in ("XtX", "XtY"):
        got, want = getattr(ours, name), getattr(exact, name)
        assert np.abs(got - want).max() <= 1e-6 * np.abs(want).max(), name
    diagonal = np.diag(exact.XtX)
    # Each diagonal entry, a float32 sum of up to 4096 positive terms per block, within
    # 1e-5 of itself (uncorrected for the rounded centre: 1.6e-4).
    assert np.abs(np.diag(ours.XtX) / diagonal - 1).max() <= 1e-5
    # The residual sum at the reference point comes from the rows: as accurate as the
    # fused pass's loss (float32 products of values up to 1e3, residuals near 1): 2e-6 to
    # 1e-5 here, against 1.3e-5 to 3.4e-5 from the statistics, an error that grows as
    # the fit leaves less of |Yc|^2 unexplained (~1e-4 here).
    assert ours.ref_sse == pytest.approx(
        float(np.sum((X.astype(np.float64) @ ours.ref_W[:, 0] + (
            exact.mean_Y[0] - exact.mean_X @ ours.ref_W[:, 0]) - y) ** 2)), rel=1e-4)


@pytest.mark.parametrize("n", [4, 1003, 9000])
@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("d", [1, 2, 3, 4, 5, 7, 8, 9, 11, 12, 16, 17, 48, 60])
def test_the_compiled_and_the_blas_paths_match_the_reference(impl, d, order, k, n, dtype):
    # C order up to 48 features (float64) or 16 (float32): the compiled pass (double),
    # whose groups of four unweighted rows have a loop of their own for each width up
    # to 16 with one output (4-double vectors in the AVX2 build) and a general one
    # otherwise; n = 1003 leaves a tail of 3 rows. Wider or Fortran-ordered data:
    # blocks through BLAS.
    rng = np.random.default_rng(100 * d + n)
    X = np.asarray((rng.standard_normal((n, d)) * np.geomspace(0.5, 20, d) + 3.0)
                   .astype(dtype), order=order)
    Y = (X @ rng.standard_normal((d, k)) + rng.standard_normal((n, k))).astype(dtype)
    w = rng.uniform(0.0, 2.0, n)
    for weights in (None, w):
        ours = kernels.gram_statistics(X, Y, sample_weight=weights)
        theirs = reference.gram_statistics(X, Y, sample_weight=weights)
        rtol = 1e-11 if dtype == np.float64 else 1e-6
        for name in ("mean_X", "mean_Y", "XtX", "XtY"):
            want = getattr(theirs, name)
            np.testing.assert_allclose(getattr(ours, name), want, rtol=rtol,
                                       atol=rtol * np.abs(want).max(), err_msg=name)
        assert ours.yy == pytest.approx(theirs.yy, rel=rtol)
        np.testing.assert_array_equal(ours.XtX, ours.XtX.T)
        if n > d + 1:  # else the fit is exact: the residual sum is rounding noise
            assert ours.ref_sse == pytest.approx(theirs.ref_sse, rel=1e-4)


@pytest.mark.parametrize("d", [4, 8, 16])
def test_narrow_gram_statistics_are_the_same_on_every_thread_count(impl, d):
    rng = np.random.default_rng(d)
    X = rng.standard_normal((300_001, d)) + 2.0
    y = X @ rng.standard_normal(d) + rng.standard_normal(300_001)
    one = kernels.gram_statistics(X, y, n_threads=1)
    two = kernels.gram_statistics(X, y, n_threads=2)
    for name in ("mean_X", "mean_Y", "XtX", "XtY"):
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name), err_msg=name)
    assert one.yy == two.yy


def test_gram_diverges_and_stops_like_the_fused_path(impl):
    X, y = random_problem(np.float64, 1)
    y = y[:, 0].copy()
    stats = kernels.gram_statistics(X, y)
    W, b = params_like(X, y)
    losses = np.empty(100)
    n = kernels.gd_epochs_gram(stats, W, b, 50.0, losses)
    assert n < 100 and np.isfinite(W).all() and np.isfinite(b).all()
    W, b = params_like(X, y)
    stop = kernels.new_early_stop(1e-4, 2)
    W_f, b_f = params_like(X, y)
    stop_f = kernels.new_early_stop(1e-4, 2)
    n_gram = kernels.gd_epochs_gram(stats, W, b, 0.05, np.empty(1000), early_stop=stop)
    n_fused = kernels.gd_epochs(X, y, W_f, b_f, 0.05, np.empty(1000), early_stop=stop_f)
    assert n_gram == n_fused < 1000
