"""The one-pass loop over a narrow Fortran-ordered X (linreg/_kernels/column_narrow.pxi).

One output on 2 to 16 columns, with sample weights or without: every column side by side, 8
float64 or 16 float32 rows a step, the rows past the last whole step copied into a
zero-padded step whose extra residuals are masked to 0. Checked here at every width it
takes and the first it does not (17), with every count of rows left past the last
whole step: against float64 sums of the same values (the truth), against the same
values in C order, with a strided y and output (the same bits), on 1 and 2 threads (the
same bits), and with X ending at a page that may not be read; in every build (the
generic one, without AVX, takes the blocked pass of columns.pxi for these too).
"""
import sys

import numpy as np
import pytest

from _helpers import GuardedArray
from _helpers import float64_truth as _truth
from _helpers import fused_pass as _fused
from linreg import kernels

DTYPES = [np.float32, np.float64]
WIDTHS = list(range(2, 18))


def _problem(n, d, dtype, seed=0):
    rng = np.random.default_rng(seed + 1000 * d + n)
    X = rng.standard_normal((n, d)).astype(dtype)
    y = (X @ rng.standard_normal(d) + rng.standard_normal(n)).astype(dtype)
    w = rng.standard_normal(d).astype(dtype)
    return np.asfortranarray(X), y, w, np.array([0.25], dtype)


def _sample_weight(n, seed=0):
    """Weights from 0 to 3, every fifth one 0 (a row that counts for nothing)."""
    v = np.random.default_rng(seed).uniform(0.0, 3.0, n)
    v[::5] = 0.0
    return v


def _close(got, want, dtype, d):
    # float32: a row's products are summed in float32, its gradient terms take the
    # residual rounded to float32; every longer sum is in double.
    rtol = 1e-12 if dtype == np.float64 else 4e-6 * max(1.0, np.sqrt(d))
    scale = max(1.0, float(np.max(np.abs(want))))
    np.testing.assert_allclose(got, want, rtol=0, atol=rtol * scale)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("d", WIDTHS)
@pytest.mark.parametrize("extra", [0, 1, 7, 9, 15], ids=lambda e: f"extra{e}")
def test_fused_epoch_and_predict_match_the_truth(impl, dtype, d, extra):
    step = 16 if dtype == np.float32 else 8
    n = 5 * step + extra  # rows past the last whole step: extra % step
    X, y, w, b = _problem(n, d, dtype)
    loss, gw, gb = _fused(X, y, w, b)
    out = np.empty(n, dtype)
    kernels.predict(X, w, b, out, n_threads=1)
    t_loss, t_gw, t_gb, t_pred = _truth(X, y, w, b)
    _close(np.array([loss]), np.array([t_loss]), dtype, d)
    _close(gw, t_gw, dtype, d)
    _close(gb, t_gb, dtype, d)
    _close(out, t_pred, dtype, d)
    # The same values in C order take other loops: equal up to the order of the sums.
    c_loss, c_gw, c_gb = _fused(np.ascontiguousarray(X), y, w, b)
    _close(np.array([loss]), np.array([c_loss]), dtype, d)
    _close(gw, c_gw, dtype, d)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("d", [2, 3, 8, 13, 16])
@pytest.mark.parametrize("n", [2, 9, 17, 40, 1003])  # n = 2: one row weighs 0
def test_sample_weights_match_the_truth(impl, dtype, d, n):
    X, y, w, b = _problem(n, d, dtype, seed=11)
    v = _sample_weight(n)
    loss, gw, gb = _fused(X, y, w, b, sample_weight=v)
    t_loss, t_gw, t_gb, _ = _truth(X, y, w, b, sample_weight=v)
    _close(np.array([loss]), np.array([t_loss]), dtype, d)
    _close(gw, t_gw, dtype, d)
    _close(gb, t_gb, dtype, d)
    c_loss, c_gw, _ = _fused(np.ascontiguousarray(X), y, w, b, sample_weight=v)
    _close(np.array([loss]), np.array([c_loss]), dtype, d)
    _close(gw, c_gw, dtype, d)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize(("n", "d"), [(2, 2), (3, 5), (15, 16), (17, 8), (1000, 11)])
def test_a_strided_y_and_output_give_the_same_bits(impl, dtype, n, d):
    X, y, w, b = _problem(n, d, dtype, seed=3)
    strided_y = np.repeat(y[:, None], 3, axis=1)[:, 1]
    assert not strided_y.flags.c_contiguous
    want = _fused(X, y, w, b)
    got = _fused(X, strided_y, w, b)
    assert got[0] == want[0]
    assert np.array_equal(got[1], want[1]) and np.array_equal(got[2], want[2])
    out = np.empty(n, dtype)
    kernels.predict(X, w, b, out, n_threads=1)
    wide = np.full((n, 2), np.nan, dtype)
    kernels.predict(X, w, b, wide[:, 1], n_threads=1)
    assert np.array_equal(wide[:, 1], out)
    assert np.isnan(wide[:, 0]).all()  # nothing written between the strided outputs


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("d", [2, 7, 16])
def test_thread_count_changes_no_bit(impl, dtype, d):
    # At least 2^21 elements, so that 2 threads are allowed to share the chunks.
    n = (1 << 21) // d + 37
    X, y, w, b = _problem(n, d, dtype, seed=5)
    for v in (None, _sample_weight(n)):
        one = _fused(X, y, w, b, n_threads=1, sample_weight=v)
        two = _fused(X, y, w, b, n_threads=2, sample_weight=v)
        assert one[0] == two[0]
        assert np.array_equal(one[1], two[1]) and np.array_equal(one[2], two[2])
    p1, p2 = np.empty(n, dtype), np.empty(n, dtype)
    kernels.predict(X, w, b, p1, n_threads=1)
    kernels.predict(X, w, b, p2, n_threads=2)
    assert np.array_equal(p1, p2)


@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="guard pages through libc's mprotect (Linux)")
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize(("n", "d"), [(16, 2), (23, 5), (64, 16), (71, 9)])
def test_reads_nothing_past_x(impl, dtype, n, d):
    # X's last column ends where a page that may not be read begins: a whole vector
    # loaded past the last row would stop the process (SIGSEGV).
    values = _problem(n, d, dtype, seed=7)[0]
    guarded = GuardedArray(np.ascontiguousarray(values.T))  # X.T in C order: X in F order
    X = guarded.array.T
    assert X.flags.f_contiguous and not X.flags.c_contiguous
    _, y, w, b = _problem(n, d, dtype, seed=7)
    loss, gw, gb = _fused(X, y, w, b)
    t_loss, t_gw, _, t_pred = _truth(values, y, w, b)
    _close(np.array([loss]), np.array([t_loss]), dtype, d)
    _close(gw, t_gw, dtype, d)
    out = np.empty(n, dtype)
    kernels.predict(X, w, b, out, n_threads=1)
    _close(out, t_pred, dtype, d)
