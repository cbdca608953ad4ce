"""The passes that load a row's last vector whole read nothing past X's or Y's last row.

row_vectors.pxi (one output: float32 rows of 5 to 31 elements and float64 rows of 5 to
15, but 8) and few_outputs.pxi (rows of 5 to 31, 2 to 4 outputs) load a row's last
partial vector whole, running into the next row, and clear the lanes past the row; the
last step of a run must leave a row after it. outputs.pxi reads a partial tile of targets (k not a multiple of the tile's
8 or 16 outputs) whole from Y's rows but the last, which it copies. The lanes past the
row count for nothing, so values read past the end would not show: only a read of memory
that is not there does. Here X or Y ends exactly where a page that may not be read
begins (Linux, mmap + mprotect), for row counts that are and are not multiples of a
step's 8 rows; a read past it would stop the process (SIGSEGV).
"""
import sys

import numpy as np
import pytest

from _helpers import GuardedArray
from linreg import kernels

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="guard pages through libc's mprotect (Linux)")


def _loss_and_grad(X, Y, W, b):
    grad_W, grad_b = np.empty_like(W), np.empty_like(b)
    loss = kernels.loss_and_grad(X, Y, W, b, grad_W, grad_b, n_threads=1)
    return loss, grad_W, grad_b


@pytest.mark.parametrize("n", [64, 67, 72 + 7], ids=lambda n: f"n{n}")
@pytest.mark.parametrize(("dtype", "d", "k"), [
    (np.float32, 5, 1), (np.float32, 6, 1), (np.float32, 7, 1),
    (np.float64, 5, 1), (np.float64, 7, 1), (np.float64, 9, 1), (np.float64, 13, 1),
    (np.float64, 15, 1),
    (np.float32, 8, 1), (np.float32, 9, 1), (np.float32, 12, 1), (np.float32, 16, 1),
    (np.float32, 17, 1), (np.float32, 20, 1), (np.float32, 31, 1), (np.float32, 32, 1),
    (np.float32, 5, 2), (np.float32, 7, 3), (np.float32, 12, 4), (np.float32, 31, 2),
    (np.float32, 2, 1), (np.float32, 3, 1), (np.float64, 3, 1), (np.float32, 4, 2),
], ids=lambda v: np.dtype(v).name if isinstance(v, type) else str(v))
def test_pass_reads_nothing_past_x(impl, dtype, d, k, n):
    rng = np.random.default_rng(d * 100 + k * 10 + n)
    values = (rng.standard_normal((n, d)) + 0.5).astype(dtype)
    guarded = GuardedArray(values)
    X = guarded.array
    assert X.flags.c_contiguous
    Y = rng.standard_normal((n, k)).astype(dtype)
    W = (rng.standard_normal((d, k)) / np.sqrt(d)).astype(dtype)
    b = np.full(k, 0.25, dtype)
    got = _loss_and_grad(X, Y, W, b)
    want = _loss_and_grad(values.copy(), Y, W, b)
    assert got[0] == want[0]
    assert np.array_equal(got[1], want[1]) and np.array_equal(got[2], want[2])


@pytest.mark.parametrize("n", [64, 67, 72 + 7], ids=lambda n: f"n{n}")
@pytest.mark.parametrize(("dtype", "d"), [
    (np.float32, 5), (np.float32, 12), (np.float32, 31), (np.float64, 7), (np.float64, 13),
], ids=lambda v: np.dtype(v).name if isinstance(v, type) else str(v))
def test_weighted_pass_reads_nothing_past_x(impl, dtype, d, n):
    """The weighted steps (one output) load rows whole as the unweighted ones do."""
    rng = np.random.default_rng(d * 10 + n)
    values = (rng.standard_normal((n, d)) + 0.5).astype(dtype)
    guarded = GuardedArray(values)
    Y = rng.standard_normal((n, 1)).astype(dtype)
    W = (rng.standard_normal((d, 1)) / np.sqrt(d)).astype(dtype)
    b = np.full(1, 0.25, dtype)
    weights = rng.uniform(0.0, 2.0, n)
    got, want = [], []
    for X, out in ((guarded.array, got), (values.copy(), want)):
        grad_W, grad_b = np.empty_like(W), np.empty_like(b)
        out.append(kernels.loss_and_grad(X, Y, W, b, grad_W, grad_b, sample_weight=weights,
                                         n_threads=1))
        out.extend([grad_W, grad_b])
    assert got[0] == want[0]
    assert np.array_equal(got[1], want[1]) and np.array_equal(got[2], want[2])


@pytest.mark.parametrize("n", [64, 67], ids=lambda n: f"n{n}")
@pytest.mark.parametrize("k", [5, 7, 12, 17])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_pass_reads_nothing_past_y(impl, dtype, k, n):
    d = 3
    rng = np.random.default_rng(k * 10 + n)
    X = (rng.standard_normal((n, d)) + 0.5).astype(dtype)
    values = rng.standard_normal((n, k)).astype(dtype)
    guarded = GuardedArray(values)
    Y = guarded.array
    W = (rng.standard_normal((d, k)) / np.sqrt(d)).astype(dtype)
    b = np.linspace(-0.5, 0.5, k).astype(dtype)
    got = _loss_and_grad(X, Y, W, b)
    want = _loss_and_grad(X, values.copy(), W, b)
    assert got[0] == want[0]
    assert np.array_equal(got[1], want[1]) and np.array_equal(got[2], want[2])


@pytest.mark.parametrize("n", [64, 67], ids=lambda n: f"n{n}")
@pytest.mark.parametrize(("d", "k"), [(8, 1), (9, 1), (12, 1), (16, 1), (17, 1), (32, 1),
                                    (5, 2), (7, 3), (12, 4), (31, 2)])
def test_predict_reads_nothing_past_x(impl, d, k, n):
    """predict on float32 rows loaded a whole vector at a time (one output: the masked
    16-row steps of row_predict.pxi; 2 to 4 outputs: few_outputs.pxi's steps)."""
    rng = np.random.default_rng(d * 10 + k + n)
    values = (rng.standard_normal((n, d)) + 0.5).astype(np.float32)
    X = GuardedArray(values).array
    W = (rng.standard_normal((d, k)) / np.sqrt(d)).astype(np.float32)
    b = np.full(k, 0.25, np.float32)
    got = kernels.predict(X, W, b, n_threads=1)
    assert np.array_equal(got, kernels.predict(values.copy(), W, b, n_threads=1))


@pytest.mark.parametrize("n", [64, 67], ids=lambda n: f"n{n}")
@pytest.mark.parametrize("d", [5, 7, 8])
def test_float64_predict_reads_nothing_past_x(impl, d, n):
    """predict on float64 rows of 5 to 8, each loaded as one masked register
    (row_predict.pxi)."""
    rng = np.random.default_rng(d * 10 + n)
    values = (rng.standard_normal((n, d)) + 0.5).astype(np.float64)
    X = GuardedArray(values).array
    W = (rng.standard_normal((d, 1)) / np.sqrt(d)).astype(np.float64)
    b = np.full(1, 0.25, np.float64)
    got = kernels.predict(X, W, b, n_threads=1)
    assert np.array_equal(got, kernels.predict(values.copy(), W, b, n_threads=1))


@pytest.mark.parametrize("n", [7, 15, 33, 64, 67, 130], ids=lambda n: f"n{n}")
@pytest.mark.parametrize(("d", "k"), [(5, 5), (16, 8), (32, 9)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_fortran_column_tiles_read_nothing_past_x_or_y(impl, dtype, d, k, n):
    """Five outputs or more on a Fortran-ordered X (column_tiles_avx512.pxi): the last
    block's columns are loaded masked, and its targets row by row; X's last column, then
    Y's last row, end where the page that may not be read begins."""
    rng = np.random.default_rng(d * 100 + k * 10 + n)
    values = (rng.standard_normal((n, d)) + 0.5).astype(dtype)
    guarded_x = GuardedArray(np.ascontiguousarray(values.T))
    X = guarded_x.array.T
    assert X.flags.f_contiguous and not X.flags.c_contiguous
    targets = rng.standard_normal((n, k)).astype(dtype)
    guarded_y = GuardedArray(targets)
    W = (rng.standard_normal((d, k)) / np.sqrt(d)).astype(dtype)
    b = np.full(k, 0.25, dtype)
    want = _loss_and_grad(np.asfortranarray(values), targets.copy(), W, b)
    for got in (_loss_and_grad(X, targets.copy(), W, b),
                _loss_and_grad(np.asfortranarray(values), guarded_y.array, W, b)):
        assert got[0] == want[0]
        assert np.array_equal(got[1], want[1]) and np.array_equal(got[2], want[2])
