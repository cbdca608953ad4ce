"""The one-output pass over rows at every row width it compiles separately.

`rows.pxi` runs one output through `_sums_one_output`, compiled with d a constant for
d = 2..8 (float32; float64: 2, 3) and once for any d, and whole passes over rows of 8
elements (one_output.pxi), and of 5 to 32 float32 and 5 to 16 float64 (row_vectors.pxi),
through C loops (AVX2 and AVX-512 builds), rows of 1 to 4 through short_rows.pxi's; rows of 288 B to 32 KB per
group of four are prefetched ahead (`_prefetch_distance`). These tests run each width on
enough rows for several chunks (n > 2 * 8192, not a multiple of 4: a tail of single
rows in the last chunk), against a float64 NumPy oracle, and check that the thread
count changes no bit. Y is also given as a column of a wider array (a row stride other
than one element: the loop reads Y through its stride).
"""
import numpy as np
import pytest

import linreg.kernels as kernels

N_ROWS = 2 * 8192 + 3
WIDTHS = list(range(1, 34)) + [64, 130, 256]
# float32: products and short sums in float32, sums over rows in double.
RTOL = {np.float32: 2e-5, np.float64: 1e-12}


def _problem(d, dtype, seed):
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((N_ROWS, d)) + 0.5).astype(dtype)
    W = (rng.standard_normal((d, 1)) / np.sqrt(d)).astype(dtype)
    b = np.array([0.25], dtype)
    wide = rng.standard_normal((N_ROWS, 3)).astype(dtype)  # Y: its middle column
    return X, wide[:, 1:2], W, b


def _oracle(X, Y, W, b, weights=None):
    """The float64 loss and gradients (means over the n k residuals), each row's residual
    weighted when `weights`."""
    X64 = X.astype(np.float64)
    R = X64 @ W.astype(np.float64) + b.astype(np.float64) - Y.astype(np.float64)
    weights = np.ones(X.shape[0]) if weights is None else weights
    total = weights.sum() * R.shape[1]
    Q = weights[:, None] * R
    return float((Q * R).sum() / total), 2.0 / total * (X64.T @ Q), 2.0 / total * Q.sum(axis=0)


def _run(X, Y, W, b, n_threads, weights=None):
    grad_W = np.full_like(W, np.nan)
    grad_b = np.full_like(b, np.nan)
    loss = kernels.loss_and_grad(X, Y, W, b, grad_W, grad_b, sample_weight=weights,
                                 n_threads=n_threads)
    return loss, grad_W, grad_b


def _assert_close_to_oracle(got, want, dtype):
    rtol = RTOL[dtype]
    assert got[0] == pytest.approx(want[0], rel=rtol)
    scale = max(np.abs(want[1]).max(), np.abs(want[2]).max())
    np.testing.assert_allclose(got[1], want[1], rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(got[2], want[2], rtol=rtol, atol=rtol * scale)


def _assert_same_bits(one, other):
    assert one[0] == other[0]
    assert np.array_equal(one[1], other[1]) and np.array_equal(one[2], other[2])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("d", WIDTHS, ids=[f"d{d}" for d in WIDTHS])
def test_one_output_matches_oracle_at_every_width(d, dtype):
    X, Y, W, b = _problem(d, dtype, seed=d)
    assert Y.strides[0] == 3 * Y.itemsize
    _assert_close_to_oracle(_run(X, Y, W, b, n_threads=1), _oracle(X, Y, W, b), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("d", [1, 2, 4, 6, 7, 8, 9, 13, 20, 64, 256], ids=lambda d: f"d{d}")
def test_one_output_same_bits_for_any_thread_count(d, dtype):
    X, Y, W, b = _problem(d, dtype, seed=100 + d)
    _assert_same_bits(_run(X, Y, W, b, n_threads=1), _run(X, Y, W, b, n_threads=2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("d", [3, 5, 8, 13, 64], ids=lambda d: f"d{d}")
def test_one_output_same_bits_for_contiguous_and_strided_y(d, dtype):
    """Y read through its stride gives what a contiguous copy gives."""
    X, Y, W, b = _problem(d, dtype, seed=200 + d)
    _assert_same_bits(_run(X, Y, W, b, n_threads=1),
                      _run(X, np.ascontiguousarray(Y), W, b, n_threads=1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("d", [8, 64, 256], ids=lambda d: f"d{d}")
@pytest.mark.parametrize(("k", "weighted"), [(1, True), (3, False), (3, True)],
                         ids=["k1-weighted", "k3", "k3-weighted"])
def test_general_loop_matches_oracle(d, dtype, k, weighted):
    """The loop for several outputs or sample weights (it prefetches groups of four rows
    of 1 KB or more, all at once) against the oracle, 1 and 2 threads alike."""
    rng = np.random.default_rng(300 + d + k)
    X = (rng.standard_normal((N_ROWS, d)) + 0.5).astype(dtype)
    W = (rng.standard_normal((d, k)) / np.sqrt(d)).astype(dtype)
    b = np.linspace(-0.5, 0.5, k).astype(dtype)
    Y = rng.standard_normal((N_ROWS, k)).astype(dtype)
    weights = rng.uniform(0.5, 2.0, N_ROWS) if weighted else None
    one = _run(X, Y, W, b, 1, weights)
    _assert_close_to_oracle(one, _oracle(X, Y, W, b, weights), dtype)
    _assert_same_bits(one, _run(X, Y, W, b, 2, weights))


@pytest.mark.parametrize(("dtype", "d"), [(np.float32, 8200), (np.float64, 4100)],
                         ids=["float32-d8200", "float64-d4100"])
def test_long_rows_match_oracle(dtype, d):
    """Groups of four rows over 32 KB, whose heads are prefetched while the gradient of
    the group before is added (a tail of three rows; X kept small: 203 rows)."""
    rng = np.random.default_rng(d)
    X = (rng.standard_normal((203, d)) + 0.5).astype(dtype)
    W = (rng.standard_normal((d, 1)) / np.sqrt(d)).astype(dtype)
    b = np.array([0.25], dtype)
    Y = rng.standard_normal((203, 1)).astype(dtype)
    _assert_close_to_oracle(_run(X, Y, W, b, n_threads=1), _oracle(X, Y, W, b), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("d", list(range(1, 34)) + [64], ids=lambda d: f"d{d}")
def test_weighted_one_output_matches_oracle_at_every_width(d, dtype):
    """Sample weights at every width: float32 rows of 1 to 32 and float64 rows of 1 to 16
    take the weighted steps of short_rows.pxi and row_vectors.pxi (AVX2 and AVX-512
    builds), the others rows.pxi's weighted loop."""
    X, Y, W, b = _problem(d, dtype, seed=300 + d)
    weights = np.random.default_rng(d).uniform(0.0, 2.0, N_ROWS)
    _assert_close_to_oracle(_run(X, Y, W, b, 1, weights), _oracle(X, Y, W, b, weights),
                            dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("d", [2, 5, 8, 12, 13, 31], ids=lambda d: f"d{d}")
def test_weighted_one_output_same_bits_for_any_thread_count_and_y_layout(d, dtype):
    X, Y, W, b = _problem(d, dtype, seed=400 + d)
    weights = np.random.default_rng(d).uniform(0.0, 2.0, N_ROWS)
    one = _run(X, Y, W, b, 1, weights)
    _assert_same_bits(one, _run(X, Y, W, b, 2, weights))
    _assert_same_bits(one, _run(X, np.ascontiguousarray(Y), W, b, 1, weights))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("d", WIDTHS)
def test_predict_one_output_at_every_width(impl, d, dtype):
    """predict for one output at every width (float32 rows of 8 to 32: the 16-row steps of
    row_predict.pxi in the avx512 build, then rows.pxi's loop for the tail): each row
    within its float32 rounding of the float64 product, the same bits for any thread
    count and for an output that is a column of a wider array."""
    X, _, W, b = _problem(d, dtype, seed=d + 7)
    X = X[:N_ROWS - 2]  # 16 382 rows: the last 14 after the last step of 16
    want = X.astype(np.float64) @ W.astype(np.float64) + float(b[0])
    got = kernels.predict(X, W, b, n_threads=1)
    # A row's products and their sum rounded in its dtype: a few ulps of sum |x_j w_j|.
    bound = 4 * d * np.finfo(dtype).eps * (np.abs(X).astype(np.float64) @ np.abs(W) + abs(b[0]))
    assert np.all(np.abs(got - want) <= bound)
    assert np.array_equal(got, kernels.predict(X, W, b, n_threads=2))
    wide = np.full((X.shape[0], 3), np.nan, dtype=dtype)
    kernels.predict(X, W, b, wide[:, 1:2], n_threads=1)
    assert np.array_equal(wide[:, 1:2], got)
