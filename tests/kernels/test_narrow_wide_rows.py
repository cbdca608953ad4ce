"""The one-output fused pass at d = 8 (its own loop: 8 float32 or 4 float64 rows a step,
`one_output.pxi`) and at d = 2048 (rows too long to prefetch whole).

The d = 8 loop sums whole steps of rows in vectors and leaves the rows that do not fill
a step to the general loop, so the row counts here are not multiples of 8 and span
several chunks (8192 rows each): every chunk has a vectorized part, and the last one a
tail. Each result is compared with `linreg.reference` evaluated in float64, and must be
the same to the last bit on 1 and 2 threads. Y is read contiguously and through a
stride (a column of a wider array). Mini-batch SGD at d = 8 keeps the loop of rows.pxi
(the one a Fortran-ordered X's row copies share): checked against the reference too.
"""
import numpy as np
import pytest

from linreg import kernels, reference

DTYPES = [pytest.param(np.float32, id="float32"), pytest.param(np.float64, id="float64")]
# float32: products and short sums in float32 (a step's gradient terms, a row's dot
# product), sums over rows in double; float64 throughout.
RTOL = {np.float32: 2e-5, np.float64: 1e-12}
# (d, n): d = 8 over 3 chunks and a tail of 5 rows; d = 2048 with a tail of 3 rows.
SHAPES = [pytest.param(8, 3 * 8192 + 13, id="d8"), pytest.param(2048, 1027, id="d2048")]


def _problem(d, n, dtype, seed):
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((n, d)) + 0.5).astype(dtype)
    w = (rng.standard_normal(d) / np.sqrt(d)).astype(dtype)
    # Targets unlike X @ w (residuals of either sign, not small), as a column of a wider
    # array so that the loop reads them through a stride of three elements.
    wide = (rng.standard_normal((n, 3)) * 2.0).astype(dtype)
    return X, wide[:, 1], w, np.array([0.25], dtype)


def _fused(X, y, w, b, n_threads):
    grad_w = np.full_like(w, np.nan)
    grad_b = np.full_like(b, np.nan)
    loss = kernels.loss_and_grad(X, y, w, b, grad_w, grad_b, n_threads=n_threads)
    return loss, grad_w, grad_b


def _oracle(X, y, w, b):
    X64, y64, w64, b64 = (a.astype(np.float64) for a in (X, y, w, b))
    grad_w, grad_b = np.empty_like(w64), np.empty_like(b64)
    loss = reference.loss_and_grad(X64, y64, w64, b64, grad_w, grad_b)
    return loss, grad_w, grad_b


def _assert_close(got, want, rtol):
    loss, grad_w, grad_b = got
    want_loss, want_w, want_b = want
    assert loss == pytest.approx(want_loss, rel=rtol)
    scale = max(np.abs(want_w).max(), np.abs(want_b).max())
    np.testing.assert_allclose(grad_w, want_w, rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(grad_b, want_b, rtol=rtol, atol=rtol * scale)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("d, n", SHAPES)
def test_fused_pass_matches_reference(d, n, dtype):
    X, y, w, b = _problem(d, n, dtype, seed=d)
    assert y.strides[0] == 3 * y.itemsize and n % 8 != 0
    _assert_close(_fused(X, y, w, b, n_threads=1), _oracle(X, y, w, b), RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("d, n", SHAPES)
def test_fused_pass_contiguous_targets(d, n, dtype):
    # A contiguous y takes the loop's vector load of 8 (4) targets at once.
    X, y, w, b = _problem(d, n, dtype, seed=d + 1)
    y = np.ascontiguousarray(y)
    _assert_close(_fused(X, y, w, b, n_threads=1), _oracle(X, y, w, b), RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("d, n", SHAPES)
def test_fused_pass_same_bits_on_one_and_two_threads(d, n, dtype):
    X, y, w, b = _problem(d, n, dtype, seed=d + 2)
    one = _fused(X, y, w, b, n_threads=1)
    two = _fused(X, y, w, b, n_threads=2)
    assert one[0] == two[0]
    np.testing.assert_array_equal(one[1], two[1])
    np.testing.assert_array_equal(one[2], two[2])


@pytest.mark.parametrize("dtype", DTYPES)
def test_each_row_of_a_step_has_its_own_residual(dtype):
    # One row in the middle of a step differs from the others: a loop that mixed up the
    # rows of a step (lanes of its residual vector, or the broadcast of one residual to
    # the wrong row) would put that row's weight on another row's features.
    n, d = 8 * 64 + 3, 8
    X = np.zeros((n, d), dtype)
    X[:, 0] = 1.0
    X[13, :] = np.arange(1, d + 1, dtype=dtype)  # row 5 of the second step (float32)
    y = np.zeros(n, dtype)
    y[13] = -1.0
    w = np.ones(d, dtype)
    b = np.zeros(1, dtype)
    _assert_close(_fused(X, y, w, b, n_threads=1), _oracle(X, y, w, b), RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_minibatch_sgd_over_a_subset_of_rows(dtype):
    # Mini-batch SGD sums each batch over rows taken through an index (`rows` in the
    # loop): batches of 12 rows (SGD keeps the loop of rows.pxi at d = 8, the one its
    # Fortran-order copies share; this pins down that it still matches the reference),
    # over a shuffled subset of the rows, with Y through a stride.
    X, y, w, b = _problem(8, 1000, dtype, seed=3)
    order = np.random.default_rng(4).permutation(1000)[:601]
    W, bias = w.copy(), b.copy()
    W_want, b_want = w.astype(np.float64), b.astype(np.float64)
    loss = kernels.sgd_epoch(X, y, W, bias, 0.01, order=order, batch_size=12)
    want = reference.sgd_epoch(X.astype(np.float64), y.astype(np.float64), W_want, b_want,
                               0.01, order=order, batch_size=12)
    rtol = 1e-4 if dtype == np.float32 else 1e-10  # float32: W is rounded after each update
    assert loss == pytest.approx(want, rel=rtol)
    np.testing.assert_allclose(W, W_want, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(bias, b_want, rtol=rtol, atol=rtol)
