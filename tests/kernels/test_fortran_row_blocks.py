"""Several outputs on a Fortran-ordered X: blocks of rows copied into C order and summed
by the C-order loops (linreg/_kernels/column_rows.pxi), for k >= 5 outputs.

Exercised: blocks cut by the end of X and by chunks (8192 rows), rows that end mid-line
(16 float32 rows), the copy's groups of eight and four columns and the columns left
over (d = 1 to 13, 33), wide rows (blocks of 16 rows), sample weights (their rows counted
from each block's first), strided Y and outputs. Each result is compared with the same
values in C order and with float64 sums of the float64 values (the truth); the thread
count must change no bit; GD on a Fortran X follows the C-order fit.
"""
import numpy as np
import pytest

import linreg
from _helpers import assert_close_scaled as _check_close
from _helpers import float64_truth as _truth
from _helpers import fused_pass as _fused
from _helpers import make_problem
from _helpers import pass_tolerance as _tolerance
from _helpers import uneven_weights as _weights
from linreg import kernels

# (n, d, k): every d % 8 and d % 4 the copy handles, blocks and lines cut at odd places.
SHAPES = [
    (1, 3, 5),        # one row
    (37, 1, 8),       # one column, less than a line of rows
    (1000, 2, 5),
    (2049, 4, 8),     # a block of 4 columns and one row more (float32: 8192 rows a block)
    (5001, 5, 6),
    (4113, 7, 17),
    (3000, 8, 8),
    (2100, 12, 5),    # a group of eight and one of four
    (1999, 13, 9),    # ... and one column left over
    (17413, 6, 5),    # three chunks, the last short
    (1033, 33, 8),    # 1024 float32 rows a block: two blocks
    (300, 2049, 5),   # wide rows: blocks of 16 rows
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("n, d, k", SHAPES, ids=[f"n{n}-d{d}-k{k}" for n, d, k in SHAPES])
def test_row_blocks_match_truth_and_c_order(impl, dtype, weighted, n, d, k):
    X, Y, W, b = make_problem(n, d, k, dtype, seed=n + d + k)
    XF = np.asfortranarray(X)
    assert XF.flags.f_contiguous and (n == 1 or d == 1 or not XF.flags.c_contiguous)
    sw = _weights(n) if weighted else None
    rtol = _tolerance(dtype, d)
    fortran = (*_fused(XF, Y, W, b, sw), kernels.predict(XF, W, b))
    c_order = (*_fused(X, Y, W, b, sw), kernels.predict(X, W, b))
    for got, want, c, what in zip(fortran, _truth(X, Y, W, b, sw), c_order,
                                  ("loss", "grad_W", "grad_b", "predict")):
        _check_close(got, want, rtol, f"Fortran order vs float64 truth: {what}")
        _check_close(got, c, 2 * rtol, f"Fortran order vs C order: {what}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_row_blocks_strided_y_and_output(impl, dtype):
    """Y a strided view (every other column of a wider array) and predict into a
    non-contiguous output: the same numbers as contiguous ones."""
    n, d, k = 3001, 9, 6
    X, Y, W, b = make_problem(n, d, k, dtype, seed=4)
    XF = np.asfortranarray(X)
    wide = np.zeros((n, 2 * k), dtype)
    wide[:, ::2] = Y
    Y_strided = wide[:, ::2]
    assert not Y_strided.flags.c_contiguous
    for got, want in zip(_fused(XF, Y_strided, W, b), _fused(XF, np.ascontiguousarray(Y), W, b)):
        np.testing.assert_array_equal(got, want)
    out_wide = np.zeros((n, 2 * k), dtype)
    kernels.predict(XF, W, b, out=out_wide[:, 1::2])
    np.testing.assert_array_equal(out_wide[:, 1::2], kernels.predict(XF, W, b))
    assert not out_wide[:, ::2].any()  # nothing written beside the output


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("n, d, k", [(150_011, 8, 8), (300_007, 9, 12), (70_001, 40, 6)],
                         ids=["one-tile", "two-tiles", "wide"])
def test_row_blocks_bits_do_not_depend_on_threads(impl, dtype, weighted, n, d, k):
    # Over 2^20 elements, so threads take chunks. Up to 32 columns and 16 outputs, the
    # avx512 build's fused pass sums the columns in place (column_tiles_avx512.pxi): one
    # tile of outputs, then two, the second partial; 40 columns copy blocks of rows.
    X, Y, W, b = make_problem(n, d, k, dtype, seed=5)
    XF = np.asfortranarray(X)
    sw = _weights(n) if weighted else None
    results = [(*_fused(XF, Y, W, b, sw, n_threads=t), kernels.predict(XF, W, b, n_threads=t))
               for t in (1, 2, 3)]
    for other in results[1:]:
        for got, want in zip(other, results[0]):
            np.testing.assert_array_equal(got, want)
    for got, want in zip(results[0], _truth(X, Y, W, b, sw)):
        _check_close(got, want, _tolerance(dtype, d), "Fortran order vs float64 truth")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_gd_on_fortran_x_follows_c_order(impl, dtype):
    """GD epochs (gd_epochs_by_columns, the scratch allocated per fit) on a Fortran X with
    8 outputs: the C-order fit's weights, up to the order of the sums; X untouched."""
    n, d, k = 20_000, 12, 8
    X, Y, W, b = make_problem(n, d, k, dtype, seed=6)
    XF = np.asfortranarray(X)
    before = XF.copy(order="K")
    fits = [linreg.GDRegressor(lr=0.05, epochs=30, n_threads=2).fit(A, Y) for A in (X, XF)]
    rtol = 1e-10 if dtype == np.float64 else 2e-4
    np.testing.assert_allclose(fits[1].coef_, fits[0].coef_, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(fits[1].intercept_, fits[0].intercept_, rtol=rtol, atol=rtol)
    np.testing.assert_array_equal(XF, before)
