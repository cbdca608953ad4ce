"""Sample weights in the kernels' passes and statistics (issue 13, first part): the
weighted loss sum_i w_i |r_i|^2 / (sum_i w_i k); integer weights are the rows repeated,
zero weights the rows dropped, on both builds, both dtypes, 1-D and 2-D targets."""
import numpy as np
import pytest

from _helpers import make_problem
from linreg import kernels, reference


def repeated(X, Y, counts):
    return np.repeat(X, counts, axis=0), np.repeat(Y, counts, axis=0)


def rtol(dtype):
    return 2e-5 if dtype == np.float32 else 1e-11


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [None, 3], ids=["y1d", "k3"])
def test_integer_weights_are_the_rows_repeated(impl, dtype, k):
    X, Y, W, b = make_problem(200, 6, k, dtype, seed=3)
    counts = np.random.default_rng(3).integers(0, 4, 200)
    gW, gb, gW2, gb2 = (np.empty_like(a) for a in (W, b, W, b))
    loss = kernels.loss_and_grad(X, Y, W, b, gW, gb, sample_weight=counts)
    Xr, Yr = repeated(X, Y, counts)
    expected = kernels.loss_and_grad(Xr, Yr, W, b, gW2, gb2)
    np.testing.assert_allclose(loss, expected, rtol=rtol(dtype))
    np.testing.assert_allclose(gW, gW2, rtol=rtol(dtype) * 10, atol=1e-6 if dtype == np.float32 else 1e-12)
    np.testing.assert_allclose(gb, gb2, rtol=rtol(dtype) * 10, atol=1e-6 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("k", [None, 2], ids=["y1d", "k2"])
def test_real_weights_match_the_numpy_twin(impl, k):
    X, Y, W, b = make_problem(300, 5, k, np.float64, seed=4)
    w = np.random.default_rng(4).uniform(0, 2, 300)
    gW, gb, rW, rb = (np.empty_like(a) for a in (W, b, W, b))
    loss = kernels.loss_and_grad(X, Y, W, b, gW, gb, sample_weight=w)
    expected = reference.loss_and_grad(X, Y, W, b, rW, rb, sample_weight=w)
    np.testing.assert_allclose(loss, expected, rtol=1e-12)
    np.testing.assert_allclose(gW, rW, rtol=1e-11)
    np.testing.assert_allclose(gb, rb, rtol=1e-11)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("n", "d", "k"), [(400, 5, None), (400, 5, 3)]
                         + [(2 * 8192 + 7, d, None) for d in (1, 2, 4, 8, 13, 16, 17)],
                         ids=lambda v: "y1d" if v is None else str(v))
def test_weighted_gram_statistics_are_those_of_the_repeated_rows(impl, dtype, n, d, k):
    """Weighted groups of four rows take the compiled loops of their width (1 to 16
    features, one output; others the loop for any width), the last rows Cython's."""
    X, Y, _, _ = make_problem(n, d, k, dtype, seed=5)
    counts = np.random.default_rng(5).integers(0, 3, n)
    weighted = kernels.gram_statistics(X, Y, sample_weight=counts)
    plain = kernels.gram_statistics(*repeated(X, Y, counts))
    assert weighted.weight_total == plain.n_samples == counts.sum()
    tol = 1e-5 if dtype == np.float32 else 1e-10
    for field in ("mean_X", "mean_Y", "XtX", "XtY"):
        np.testing.assert_allclose(getattr(weighted, field), getattr(plain, field), rtol=tol,
                                   atol=tol * np.abs(getattr(plain, field)).max(), err_msg=field)
    np.testing.assert_allclose(weighted.yy, plain.yy, rtol=tol)
    twin = reference.gram_statistics(X.astype(np.float64), Y.astype(np.float64), counts)
    np.testing.assert_allclose(weighted.XtX, twin.XtX, rtol=tol, atol=tol * np.abs(twin.XtX).max())


def test_gd_from_weighted_statistics_is_gd_on_the_repeated_rows(impl):
    X, Y, _, _ = make_problem(300, 4, None, np.float64, seed=6)
    counts = np.random.default_rng(6).integers(0, 4, 300)
    stats = kernels.gram_statistics(X, Y, sample_weight=counts)
    W, b, W2, b2 = np.zeros(4), np.zeros(1), np.zeros(4), np.zeros(1)
    losses, losses2 = np.empty(50), np.empty(50)
    kernels.gd_epochs_gram(stats, W, b, 0.05, losses)
    kernels.gd_epochs(*repeated(X, Y, counts), W2, b2, 0.05, losses2)
    np.testing.assert_allclose(losses, losses2, rtol=1e-9)
    np.testing.assert_allclose(W, W2, rtol=1e-9)


def test_zero_weights_drop_rows(impl):
    X, Y, W, b = make_problem(100, 3, None, np.float64, seed=7)
    w = np.zeros(100)
    w[:60] = 1.0
    gW, gb, gW2, gb2 = (np.empty_like(a) for a in (W, b, W, b))
    loss = kernels.loss_and_grad(X, Y, W, b, gW, gb, sample_weight=w)
    assert loss == pytest.approx(kernels.loss_and_grad(X[:60], Y[:60], W, b, gW2, gb2), rel=1e-13)


@pytest.mark.parametrize(("weights", "message"), [
    (np.full(10, -1.0), "must be non-negative"),
    (np.full(10, np.nan), "contains NaN or infinity"),
    (np.ones(9), r"must have shape \(10,\)"),
    (np.ones((10, 1)), r"must have shape \(10,\)"),
    (np.zeros(10), "all zero"),
])
def test_bad_weights_are_refused_by_name(weights, message):
    X, Y, W, b = make_problem(10, 2, None, np.float64, seed=8)
    with pytest.raises(ValueError, match=rf"sample_weight {message}|sample_weight.*{message}"):
        kernels.loss_and_grad(X, Y, W, b, np.empty(2), np.empty(1), sample_weight=weights)
    with pytest.raises(ValueError, match="sample_weight"):
        kernels.gram_statistics(X, Y, sample_weight=weights)


def _one_bad_weight(n, at, value):
    weights = np.ones(n)
    weights[at] = value
    return weights


@pytest.mark.parametrize(("weights", "message"), [
    (_one_bad_weight(5000, 0, -1e-300), "must be non-negative, got a minimum of -1e-300"),
    (_one_bad_weight(5000, 4095, -2.0), "must be non-negative, got a minimum of -2"),
    (_one_bad_weight(5000, 4096, -2.0), "must be non-negative"),
    (_one_bad_weight(5000, 4999, np.inf), "contains NaN or infinity"),
    (_one_bad_weight(5000, 4100, np.nan), "contains NaN or infinity"),
    (_one_bad_weight(5000, 7, -np.inf), "contains NaN or infinity"),  # non-finite is named first
    (np.full(5000, -0.0), "is all zero"),
], ids=["tiny-negative-first", "negative-block-end", "negative-second-block",
        "inf-last", "nan-second-block", "minus-inf", "negative-zeros"])
def test_one_bad_weight_anywhere_is_found(weights, message):
    """The weights are checked in one compiled read, block by block (`weights_status`):
    a single bad weight is found wherever it is, before or after a block's end."""
    X, Y, W, b = make_problem(weights.shape[0], 2, None, np.float64, seed=10)
    with pytest.raises(ValueError, match=f"sample_weight {message}"):
        kernels.loss_and_grad(X, Y, W, b, np.empty(2), np.empty(1), sample_weight=weights)


def test_weights_are_not_modified_nor_copied_when_float64():
    X, Y, W, b = make_problem(50, 2, None, np.float64, seed=9)
    w = np.random.default_rng(9).uniform(0, 1, 50)
    before = w.copy()
    kernels.loss_and_grad(X, Y, W, b, np.empty(2), np.empty(1), sample_weight=w)
    kernels.gram_statistics(X, Y, sample_weight=w)
    np.testing.assert_array_equal(w, before)
