"""The blocked pass over a Fortran-ordered X (linreg/_kernels/columns.pxi, column_lines.pxi).

The fused epoch and predict read X = Xt.T in blocks of rows (1024 rows at d <= 32, at
least 64; predict with one output 4096 at any width), four columns at a time a cache line at a time, and sum each block's gradient
while the next block's residuals are built (a pipeline over blocks and outputs). Every
edge of that is exercised here: rows that end mid-line (8 float64 / 16 float32 rows),
mid-block and mid-chunk (chunks of 8192 rows), two rows, fewer rows than a block, blocks
of the minimum 64 rows (wide X), d % 4 columns left over after the groups of four,
several outputs (the pipeline's step crosses outputs as well as blocks) and sample
weights (zeros included). Each result is compared with the same values in C order, with
linreg.reference, and with float64 sums of the float64 values (the truth), and the
thread count must change no bit.
"""
import numpy as np
import pytest

from _helpers import assert_close_scaled as _check_close
from _helpers import float64_truth as _truth
from _helpers import fused_pass as _fused
from _helpers import make_problem
from _helpers import pass_tolerance as _tolerance
from _helpers import uneven_weights as _weights
from linreg import kernels, reference

# (n, d): lines, blocks and chunks cut at odd places; d % 4 = 0, 1, 3; small blocks.
SHAPES = [
    (2, 5),        # two rows: less than a line
    (15, 4),       # less than one float32 line
    (17, 3),       # only the d % 4 columns
    (1023, 8),     # one row short of a block
    (1025, 9),     # one row into a second block
    (3109, 32),    # three blocks and 37 rows, the benchmark's width
    (17413, 6),    # three chunks of 8192 rows (the last short), blocks cut by chunks
    (1000, 301),   # wide rows: blocks of 64 rows, shorter than the prefetch distance
    (1100, 19),    # over 16 columns (one output takes the blocks): 3 columns left over
    (700, 22),     # ... and 2
    # predict with one output takes blocks of 4096 rows whatever the width:
    (9000, 21),    # two of them and a short one, across a chunk of 8192 rows
    (4500, 301),   # wide rows: one block of 4096 and 404 rows
]


def _as_fortran(*arrays):
    return tuple(np.asfortranarray(a) for a in arrays)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("k", [None, 1, 3], ids=["y1d", "k1", "k3"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("n, d", SHAPES, ids=[f"n{n}-d{d}" for n, d in SHAPES])
def test_fortran_pass_matches_c_order_reference_and_truth(impl, dtype, k, weighted, n, d):
    X, Y, W, b = make_problem(n, d, k, dtype, seed=n + d)
    sw = _weights(n) if weighted else None
    (XF,) = _as_fortran(X)
    assert XF.flags.f_contiguous and not XF.flags.c_contiguous  # the by-columns path
    rtol = _tolerance(dtype, d)
    loss_t, gW_t, gb_t, pred_t = _truth(X, Y, W, b, sw)

    loss_f, gW_f, gb_f = _fused(XF, Y, W, b, sw)
    pred_f = kernels.predict(XF, W, b)
    for got, want, what in [(loss_f, loss_t, "loss"), (gW_f, gW_t, "grad_W"),
                            (gb_f, gb_t, "grad_b"), (pred_f, pred_t, "predict")]:
        _check_close(got, want, rtol, f"Fortran order vs float64 truth: {what}")

    loss_c, gW_c, gb_c = _fused(X, Y, W, b, sw)
    pred_c = kernels.predict(X, W, b)
    gW_r, gb_r = np.empty_like(W), np.empty_like(b)
    loss_r = reference.loss_and_grad(X, Y, W, b, gW_r, gb_r, sample_weight=sw)
    pred_r = reference.predict(X, W, b)
    # The C-order pass and the NumPy reference (in the data's dtype) differ from the
    # Fortran-order pass only in the order of their sums.
    for other, name in [((loss_c, gW_c, gb_c, pred_c), "C order"),
                        ((loss_r, gW_r, gb_r, pred_r), "linreg.reference")]:
        for got, want, what in zip((loss_f, gW_f, gb_f, pred_f), other,
                                   ("loss", "grad_W", "grad_b", "predict")):
            _check_close(got, want, 2 * rtol if dtype == np.float64 else 4 * rtol,
                         f"Fortran order vs {name}: {what}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_fortran_pass_float32_accuracy_not_worse_than_c_order(impl, dtype):
    """The error against the float64 truth is within a small factor of the C-order
    pass's, with an offset that makes the sums large (sums over rows in double)."""
    n, d = 3 * 8192 + 1000, 32
    X, Y, W, b = make_problem(n, d, None, dtype, seed=3)
    X = (X + np.asarray(3.0, dtype)).astype(dtype)  # large, same-signed terms
    Y = (Y + np.asarray(40.0, dtype)).astype(dtype)
    loss_t, gW_t, gb_t, pred_t = _truth(X, Y, W, b)
    loss_c, gW_c, gb_c = _fused(X, Y, W, b)
    loss_f, gW_f, gb_f = _fused(np.asfortranarray(X), Y, W, b)
    pred_c, pred_f = kernels.predict(X, W, b), kernels.predict(np.asfortranarray(X), W, b)
    eps = np.finfo(dtype).eps
    for f, c, t, what in [(loss_f, loss_c, loss_t, "loss"), (gW_f, gW_c, gW_t, "grad_W"),
                          (gb_f, gb_c, gb_t, "grad_b"), (pred_f, pred_c, pred_t, "predict")]:
        t = np.asarray(t, dtype=np.float64)
        err_f = np.max(np.abs(np.asarray(f, np.float64) - t))
        err_c = np.max(np.abs(np.asarray(c, np.float64) - t))
        floor = 4 * eps * float(np.max(np.abs(t)))
        assert err_f <= 2 * err_c + floor, (what, err_f, err_c, floor)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("k", [None, 3], ids=["y1d", "k3"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_fortran_pass_bits_do_not_depend_on_threads(impl, dtype, k, weighted):
    # 150_011 x 8: over 2^20 elements, so threads are used; 19 chunks, the last short.
    n, d = 150_011, 8
    X, Y, W, b = make_problem(n, d, k, dtype, seed=5)
    XF = np.asfortranarray(X)
    sw = _weights(n) if weighted else None
    results = []
    for n_threads in (1, 2, 3):
        loss, gW, gb = _fused(XF, Y, W, b, sw, n_threads=n_threads)
        results.append((loss, gW, gb, kernels.predict(XF, W, b, n_threads=n_threads)))
    for other in results[1:]:
        for got, want in zip(other, results[0]):
            np.testing.assert_array_equal(got, want)
    # ...and they are the right numbers.
    truth = _truth(X, Y, W, b, sw)
    for got, want in zip(results[0], truth):
        _check_close(got, want, _tolerance(dtype, d), "Fortran order vs float64 truth")


def test_fortran_pass_is_deterministic_and_leaves_inputs_alone(impl):
    n, d = 5000, 13
    X, Y, W, b = make_problem(n, d, 3, np.float32, seed=9)
    XF = np.asfortranarray(X)
    before = [a.copy() for a in (XF, Y, W, b)]
    first = _fused(XF, Y, W, b)
    second = _fused(XF, Y, W, b)
    for got, want in zip(second, first):
        np.testing.assert_array_equal(got, want)
    for a, saved in zip((XF, Y, W, b), before):
        np.testing.assert_array_equal(a, saved)
