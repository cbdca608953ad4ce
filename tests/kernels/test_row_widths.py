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


def _oracle(X, Y, W, b):
    X64 = X.astype(np.float64)
    R = X64 @ W.astype(np.float64) + b.astype(np.float64) - Y.astype(np.float64)
    n = X.shape[0]
    return float(np.mean(R * R)), 2.0 / n * (X64.T @ R), 2.0 / n * R.sum(axis=0)


def _run(X, Y, W, b, n_threads):
    grad_W = np.full_like(W, np.nan)
    grad_b = np.full_like(b, np.nan)
    loss = kernels.loss_and_grad(X, Y, W, b, grad_W, grad_b, n_threads=n_threads)
    return loss, grad_W, grad_b


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("d", WIDTHS, ids=[f"d{d}" for d in WIDTHS])
def test_one_output_matches_oracle_at_every_width(d, dtype):
    X, Y, W, b = _problem(d, dtype, seed=d)
    assert Y.strides[0] == 3 * Y.itemsize
    loss, grad_W, grad_b = _run(X, Y, W, b, n_threads=1)
    want_loss, want_W, want_b = _oracle(X, Y, W, b)
    rtol = RTOL[dtype]
    assert loss == pytest.approx(want_loss, rel=rtol)
    scale = max(np.abs(want_W).max(), np.abs(want_b).max())
    np.testing.assert_allclose(grad_W, want_W, rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(grad_b, want_b, rtol=rtol, atol=rtol * scale)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("d", [1, 2, 4, 6, 7, 9, 13, 20, 64, 256], ids=lambda d: f"d{d}")
def test_one_output_same_bits_for_any_thread_count(d, dtype):
    X, Y, W, b = _problem(d, dtype, seed=100 + d)
    one = _run(X, Y, W, b, n_threads=1)
    two = _run(X, Y, W, b, n_threads=2)
    assert one[0] == two[0]
    assert np.array_equal(one[1], two[1]) and np.array_equal(one[2], two[2])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("d", [3, 5, 64], ids=lambda d: f"d{d}")
def test_one_output_same_bits_for_contiguous_and_strided_y(d, dtype):
    """Y read through its stride gives what a contiguous copy gives."""
    X, Y, W, b = _problem(d, dtype, seed=200 + d)
    strided = _run(X, Y, W, b, n_threads=1)
    contiguous = _run(X, np.ascontiguousarray(Y), W, b, n_threads=1)
    assert strided[0] == contiguous[0]
    assert np.array_equal(strided[1], contiguous[1])
    assert np.array_equal(strided[2], contiguous[2])


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
    outputs = []
    for n_threads in (1, 2):
        grad_W, grad_b = np.full_like(W, np.nan), np.full_like(b, np.nan)
        loss = kernels.loss_and_grad(X, Y, W, b, grad_W, grad_b, sample_weight=weights,
                                     n_threads=n_threads)
        outputs.append((loss, grad_W, grad_b))
    X64 = X.astype(np.float64)
    R = X64 @ W.astype(np.float64) + b.astype(np.float64) - Y.astype(np.float64)
    w = np.ones(N_ROWS) if weights is None else weights
    scale = 2.0 / (w.sum() * k)
    want_loss = float((w[:, None] * R * R).sum() / (w.sum() * k))
    want_W, want_b = scale * (X64.T @ (w[:, None] * R)), scale * (w @ R)
    loss, grad_W, grad_b = outputs[0]
    rtol = RTOL[dtype]
    assert loss == pytest.approx(want_loss, rel=rtol)
    atol = rtol * max(np.abs(want_W).max(), np.abs(want_b).max())
    np.testing.assert_allclose(grad_W, want_W, rtol=rtol, atol=atol)
    np.testing.assert_allclose(grad_b, want_b, rtol=rtol, atol=atol)
    assert outputs[1][0] == loss
    assert np.array_equal(outputs[1][1], grad_W) and np.array_equal(outputs[1][2], grad_b)


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
    loss, grad_W, grad_b = _run(X, Y, W, b, n_threads=1)
    want_loss, want_W, want_b = _oracle(X, Y, W, b)
    rtol = RTOL[dtype]
    assert loss == pytest.approx(want_loss, rel=rtol)
    atol = rtol * max(np.abs(want_W).max(), np.abs(want_b).max())
    np.testing.assert_allclose(grad_W, want_W, rtol=rtol, atol=atol)
    np.testing.assert_allclose(grad_b, want_b, rtol=rtol, atol=atol)


def _weighted_oracle(X, Y, W, b, weights):
    X64 = X.astype(np.float64)
    R = X64 @ W.astype(np.float64) + b.astype(np.float64) - Y.astype(np.float64)
    total = weights.sum()
    Q = weights[:, None] * R
    return float((Q * R).sum() / total), 2.0 / total * (X64.T @ Q), 2.0 / total * Q.sum(axis=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("d", list(range(1, 34)) + [64], ids=lambda d: f"d{d}")
def test_weighted_one_output_matches_oracle_at_every_width(d, dtype):
    """Sample weights at every width: float32 rows of 5 to 32 and float64 rows of 5 to 16
    take row_vectors.pxi's weighted steps (AVX2 and AVX-512 builds), the others rows.pxi's
    weighted loop."""
    X, Y, W, b = _problem(d, dtype, seed=300 + d)
    weights = np.random.default_rng(d).uniform(0.0, 2.0, N_ROWS)
    grad_W = np.full_like(W, np.nan)
    grad_b = np.full_like(b, np.nan)
    loss = kernels.loss_and_grad(X, Y, W, b, grad_W, grad_b, sample_weight=weights,
                                 n_threads=1)
    want_loss, want_W, want_b = _weighted_oracle(X, Y, W, b, weights)
    rtol = RTOL[dtype]
    assert loss == pytest.approx(want_loss, rel=rtol)
    scale = max(np.abs(want_W).max(), np.abs(want_b).max())
    np.testing.assert_allclose(grad_W, want_W, rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(grad_b, want_b, rtol=rtol, atol=rtol * scale)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("d", [5, 8, 12, 13, 31], ids=lambda d: f"d{d}")
def test_weighted_one_output_same_bits_for_any_thread_count_and_y_layout(d, dtype):
    X, Y, W, b = _problem(d, dtype, seed=400 + d)
    weights = np.random.default_rng(d).uniform(0.0, 2.0, N_ROWS)
    runs = []
    for Yk, n_threads in ((Y, 1), (Y, 2), (np.ascontiguousarray(Y), 1)):
        grad_W, grad_b = np.empty_like(W), np.empty_like(b)
        loss = kernels.loss_and_grad(X, Yk, W, b, grad_W, grad_b, sample_weight=weights,
                                     n_threads=n_threads)
        runs.append((loss, grad_W, grad_b))
    for other in runs[1:]:
        assert other[0] == runs[0][0]
        assert np.array_equal(other[1], runs[0][1]) and np.array_equal(other[2], runs[0][2])
