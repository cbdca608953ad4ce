"""The float32 pass for 2 to 4 outputs (linreg/_kernels/few_outputs.pxi).

In the AVX2 builds a whole pass over float32 rows of 5 to 32 elements with k = 2..4 and
no sample weights takes steps of 8 rows in C (1 to 4 vectors a row, the last one loaded
whole and masked; rows of 1 to 4 elements take short_rows.pxi's loops), its targets read
through Y's strides (or, Y C-contiguous, by whole vectors and shuffles), and leaves the
rows that do not fill a step to rows.pxi's loop. These tests run every k and every d
from 1 to 33 (the widths around the kernel's too) on every build, for n that leave each
remainder of 8 rows, in one chunk and in two (n > 2 * 8192 rows: chunk ends are not
multiples of 8), against the float64 sums of the same data; and check that the thread
count changes no bit.
"""
import numpy as np
import pytest

from linreg import kernels, reference

KS = [2, 3, 4]
DS = list(range(1, 34))
TWO_CHUNKS = 2 * 8192  # rows.pxi's chunks hold at least 8192 rows
# float32: a row's products and 8 rows' gradient terms summed in float32, as in
# test_row_widths.py
RTOL = 2e-5


def _problem(n, d, k, seed):
    """X (n, d) float32 with a non-zero mean, W, a non-zero bias, and Y's values as a
    (n, 2 k + 1) array whose columns the tests slice in different layouts."""
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((n, d)) + 0.5).astype(np.float32)
    W = (rng.standard_normal((d, k)) / np.sqrt(d)).astype(np.float32)
    b = (0.3 * rng.standard_normal(k) + 0.25).astype(np.float32)
    wide = rng.standard_normal((n, 2 * k + 1)).astype(np.float32)
    return X, W, b, wide


def _targets(wide, k, layout):
    """k columns of `wide` in the named memory layout."""
    if layout == "C":
        return np.ascontiguousarray(wide[:, :k])
    if layout == "column-slice":  # rows 2 k + 1 elements apart, columns contiguous
        return wide[:, 1:k + 1]
    if layout == "every-other-column":  # both strides more than one element
        return wide[:, ::2][:, :k]
    return np.asfortranarray(wide[:, :k])  # "F": columns contiguous, rows one element apart


def _run(X, Y, W, b, n_threads=1):
    grad_W, grad_b = np.full_like(W, np.nan), np.full_like(b, np.nan)
    loss = kernels.loss_and_grad(X, Y, W, b, grad_W, grad_b, n_threads=n_threads)
    return loss, grad_W, grad_b


def _float64_sums(X, Y, W, b):
    X, Y, W, b = (np.asarray(a, dtype=np.float64) for a in (X, Y, W, b))
    grad_W, grad_b = np.empty_like(W), np.empty_like(b)
    loss = reference.loss_and_grad(X, Y, W, b, grad_W, grad_b)
    return loss, grad_W, grad_b


def _assert_close(got, want):
    loss, grad_W, grad_b = got
    want_loss, want_W, want_b = want
    assert loss == pytest.approx(want_loss, rel=RTOL)
    # Per output: a lane, a feature or an output summed wrongly is off by O(1) of it.
    for o in range(want_W.shape[1]):
        scale = max(np.abs(want_W[:, o]).max(), abs(want_b[o]))
        np.testing.assert_allclose(grad_W[:, o], want_W[:, o], rtol=0, atol=RTOL * scale,
                                   err_msg=f"grad_W[:, {o}]")
    np.testing.assert_allclose(grad_b, want_b, rtol=RTOL, atol=RTOL * np.abs(want_b).max())


@pytest.mark.parametrize("layout", ["C", "column-slice", "F"])
@pytest.mark.parametrize("d", DS, ids=lambda d: f"d{d}")
@pytest.mark.parametrize("k", KS, ids=lambda k: f"k{k}")
def test_matches_float64_sums_of_the_same_data(impl, k, d, layout):
    # n: less than a step, one step and a row, and two runs leaving remainders of 8 that
    # vary with d and k (over the widths, every remainder for every k)
    for n in (7, 9, 8 * 5 + (d * k) % 8, 8 * 23 + (d + k) % 8):
        X, W, b, wide = _problem(n, d, k, seed=1000 * k + 10 * d + n % 8)
        Y = _targets(wide, k, layout)
        _assert_close(_run(X, Y, W, b), _float64_sums(X, Y, W, b))


@pytest.mark.parametrize("layout", ["C", "column-slice", "F"])
@pytest.mark.parametrize("d", [1, 3, 4, 5, 7, 8, 9, 16, 17, 24, 32, 33], ids=lambda d: f"d{d}")
@pytest.mark.parametrize("k", KS, ids=lambda k: f"k{k}")
def test_matches_float64_sums_over_two_chunks(impl, k, d, layout):
    """Two chunks of rows: a chunk ends where it may, not at a multiple of 8 rows."""
    n = TWO_CHUNKS + 1 + (d + k) % 8
    X, W, b, wide = _problem(n, d, k, seed=2000 * k + d)
    Y = _targets(wide, k, layout)
    _assert_close(_run(X, Y, W, b), _float64_sums(X, Y, W, b))


@pytest.mark.parametrize("d", [4, 5, 8, 16, 23], ids=lambda d: f"d{d}")
@pytest.mark.parametrize("k", KS, ids=lambda k: f"k{k}")
def test_targets_with_both_strides_above_one(impl, k, d):
    X, W, b, wide = _problem(8 * 11 + 3, d, k, seed=d + k)
    Y = _targets(wide, k, "every-other-column")
    assert Y.strides[0] > Y.itemsize and Y.strides[1] > Y.itemsize
    _assert_close(_run(X, Y, W, b), _float64_sums(X, Y, W, b))


@pytest.mark.parametrize("d", [4, 6, 8, 13, 32], ids=lambda d: f"d{d}")
@pytest.mark.parametrize("k", KS, ids=lambda k: f"k{k}")
def test_same_bits_for_any_thread_count(impl, k, d):
    X, W, b, wide = _problem(TWO_CHUNKS + 5, d, k, seed=7 * d + k)
    for layout in ("C", "F"):
        Y = _targets(wide, k, layout)
        one, two = _run(X, Y, W, b, n_threads=1), _run(X, Y, W, b, n_threads=2)
        assert one[0] == two[0]
        assert np.array_equal(one[1], two[1]) and np.array_equal(one[2], two[2])


@pytest.mark.parametrize("d", [5, 7, 12, 31], ids=lambda d: f"d{d}")
@pytest.mark.parametrize("k", KS, ids=lambda k: f"k{k}")
def test_nothing_read_past_the_rows_counts(impl, k, d):
    """A row's last partial vector is loaded whole: what lies after X's last row (NaN
    here, in the same buffer) must count for nothing."""
    n = 8 * 9  # whole steps up to X's end: the last must be left to rows.pxi's loop
    X, W, b, wide = _problem(n, d, k, seed=d * k)
    buffer = np.full((n + 2, d), np.nan, np.float32)
    buffer[:n] = X
    X_view = buffer[:n]
    assert X_view.flags.c_contiguous
    Y = _targets(wide, k, "C")
    got = _run(X_view, Y, W, b)
    assert np.isfinite(got[0]) and np.isfinite(got[1]).all() and np.isfinite(got[2]).all()
    _assert_close(got, _float64_sums(X, Y, W, b))


def _out(n, k, layout):
    if layout == "C":
        return np.full((n, k), np.nan, np.float32)
    if layout == "F":
        return np.full((n, k), np.nan, np.float32, order="F")
    if layout == "reversed":  # a negative row stride
        return np.full((n, k), np.nan, np.float32)[::-1]
    return np.full((n, 2 * k + 1), np.nan, np.float32)[:, 1::2]


@pytest.mark.parametrize("layout", ["C", "F", "strided", "reversed"])
@pytest.mark.parametrize("n", [8 * 9, 8 * 9 + 5, TWO_CHUNKS + 45])
@pytest.mark.parametrize("d", [5, 7, 8, 9, 16, 17, 31, 32, 33], ids=lambda d: f"d{d}")
@pytest.mark.parametrize("k", KS, ids=lambda k: f"k{k}")
def test_predict_matches_float64_of_the_same_data(impl, k, d, n, layout):
    """predict for 2 to 4 outputs (rows of 5 to 20 elements: the same steps, a row's
    products summed in float32, the bias added in double, one rounding; longer rows:
    rows.pxi's loop) writes each row's outputs where they belong in any layout of `out`
    (C-ordered rows of 2 and 4 outputs interleaved in registers), and the thread count
    changes no bit."""
    X, W, b, _ = _problem(n, d, k, seed=7 * d + k + n % 5)
    out = _out(n, k, layout)
    kernels.predict(X, W, b, out, n_threads=1)
    want = X.astype(np.float64) @ W.astype(np.float64) + b.astype(np.float64)
    np.testing.assert_allclose(out, want, rtol=RTOL, atol=RTOL * np.abs(want).max())
    two = _out(n, k, layout)
    kernels.predict(X, W, b, two, n_threads=2)
    assert np.array_equal(two, out)
