"""Five to sixteen outputs on a Fortran-ordered X of at most 32 columns, summed from the
columns in the avx512 build (linreg/_kernels/column_tiles_avx512.pxi; the other builds,
wider X and more outputs copy blocks of rows into C order, column_rows.pxi).

Exercised: blocks (64 float32 or 32 float64 rows) cut by the end of X and by chunks, a
block's chunks (16 or 8 rows) partly filled, tiles of 8 outputs partly empty and two of
them, every layout of Y (its targets transposed, loaded by column or gathered), sample
weights, d up to 32 and just past it. Each result is compared with float64 sums of the
float64 values (the truth) and with the same values in C order; the layout of Y must
change no bit (nor must the thread count: test_fortran_row_blocks.py).
"""
import numpy as np
import pytest

from _helpers import assert_close_scaled as _check_close
from _helpers import float64_truth as _truth
from _helpers import fused_pass as _fused
from _helpers import LAYOUTS, in_layout, make_problem
from _helpers import pass_tolerance as _tolerance
from _helpers import uneven_weights as _weights

DTYPES = [pytest.param(np.float32, id="float32"), pytest.param(np.float64, id="float64")]

# (n, d, k): rows around the blocks and chunks, tiles of 8 outputs.
SHAPES = [
    (2, 3, 5),        # one chunk, two rows
    (15, 16, 8),      # less than a chunk
    (16, 7, 6),
    (17, 12, 9),      # a second tile of one output
    (63, 32, 5),      # the widest rows
    (64, 5, 8),       # one whole block
    (65, 9, 16),      # a whole block and one row; two whole tiles
    (130, 20, 13),
    (1000, 31, 7),
    (4099, 11, 16),   # two whole tiles
    (300, 8, 17),     # past 16 outputs: the copied blocks
    (500, 33, 6),     # past 32 columns: the copied blocks
    (20_011, 6, 5),   # several chunks (8192 rows), the last short
]


def _pass(X, Y, W, b, sw=None, n_threads=1):
    return tuple(np.asarray(r) for r in _fused(X, Y, W, b, sw, n_threads=n_threads))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("n, d, k", SHAPES, ids=[f"n{n}-d{d}-k{k}" for n, d, k in SHAPES])
def test_column_tiles_match_truth_and_c_order(impl, dtype, weighted, n, d, k):
    X, Y, W, b = make_problem(n, d, k, dtype, seed=n + d + k)
    XF = np.asfortranarray(X)
    sw = _weights(n) if weighted else None
    rtol = _tolerance(dtype, d)
    got = _pass(XF, Y, W, b, sw)
    for g, want, c, what in zip(got, _truth(X, Y, W, b, sw), _pass(X, Y, W, b, sw),
                                ("loss", "grad_W", "grad_b")):
        _check_close(g, want, rtol, f"Fortran order vs float64 truth: {what}")
        _check_close(g, c, 2 * rtol, f"Fortran order vs C order: {what}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n, d, k", [(67, 10, 5), (1000, 16, 8), (129, 3, 15)],
                         ids=["n67-d10-k5", "n1000-d16-k8", "n129-d3-k15"])
def test_targets_in_any_layout_give_the_same_bits(impl, dtype, n, d, k):
    X, Y, W, b = make_problem(n, d, k, dtype, seed=d + k)
    XF = np.asfortranarray(X)
    want = _pass(XF, Y, W, b)
    _check_close(want[1], _truth(X, Y, W, b, None)[1], _tolerance(dtype, d),
                 "Fortran order vs float64 truth: grad_W")
    for layout in LAYOUTS:  # C, Fortran (a DataFrame's), strided rows and columns, reversed
        for got, w in zip(_pass(XF, in_layout(Y, layout), W, b), want):
            assert np.array_equal(got, w), f"Y {layout}"


def test_column_tiles_accuracy_over_many_rows(impl):
    """Sums over 2^21 rows: the float32 sums are per block of 64 rows, the rest in double,
    so the error does not grow with n (as far from the truth as the C-order pass)."""
    n, d, k = 1 << 21, 8, 8
    X, Y, W, b = make_problem(n, d, k, np.float32, seed=11)
    XF = np.asfortranarray(X)
    truth = _truth(X, Y, W, b, None)
    fortran, c_order = _pass(XF, Y, W, b), _pass(X, Y, W, b)
    for got, c, want in zip(fortran, c_order, truth):
        scale = float(np.max(np.abs(want)))
        err_f = float(np.max(np.abs(got - want))) / scale
        err_c = float(np.max(np.abs(c - want))) / scale
        assert err_f < 1e-5
        assert err_f <= 10 * max(err_c, 1e-7)
