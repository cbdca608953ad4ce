"""Whole passes over rows of 1 to 4 elements, 1 to 4 outputs: the C loops that split each
step of rows into columns (`linreg_short_rows_f32` / `_f64`, one_output.pxi; AVX2 and
avx512 builds, the generic build keeps rows.pxi's loop).

A step of 8 float32 (4 float64) rows is rearranged in registers into its d columns, so
the dot products, residuals and gradient terms are vertical sums in double, rows in a
permuted order for d = 2 (float32, float64) and d = 4 (float32). These tests run every
build on row counts that leave every possible remainder after the steps, with enough
rows for several chunks, against a float64 oracle; check that Y's stride, its permuted
loads and the thread count change no bit; and that float32 rows are summed in double.
"""
import importlib

import numpy as np
import pytest

import linreg._compiled
import linreg.kernels as kernels
from _helpers import IMPLS

DTYPES = [pytest.param(np.float32, id="float32"), pytest.param(np.float64, id="float64")]
WIDTHS = [1, 2, 3, 4, 5]
OUTPUTS = [1, 2, 4]
# Several chunks (more than 2 * 8192 rows), then each remainder after steps of 8 rows.
ROW_COUNTS = [2 * 8192 + 8 + r for r in range(8)] + [1, 7, 8, 9, 15]
RTOL = {np.float32: 2e-6, np.float64: 1e-13}


def _problem(n, d, dtype, seed, k=1):
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((n, d)) + 0.5).astype(dtype)
    W = (rng.standard_normal((d, k)) / np.sqrt(d)).astype(dtype)
    b = np.linspace(0.25, -0.25, k).astype(dtype)
    wide = rng.standard_normal((n, 2 * k + 1)).astype(dtype)  # Y: k columns of it
    return X, wide[:, 1:k + 1], W, b


def _run(X, Y, W, b, n_threads=1):
    grad_W = np.full_like(W, np.nan)
    grad_b = np.full_like(b, np.nan)
    loss = kernels.loss_and_grad(X, Y, W, b, grad_W, grad_b, n_threads=n_threads)
    return loss, grad_W, grad_b


def _oracle(X, Y, W, b):
    X64 = X.astype(np.float64)
    R = X64 @ W.astype(np.float64) + b.astype(np.float64) - Y.astype(np.float64)
    n, k = R.shape
    return float(np.mean(R * R)), 2.0 / (n * k) * (X64.T @ R), 2.0 / (n * k) * R.sum(axis=0)


def _assert_same_bits(one, other):
    assert one[0] == other[0]
    assert np.array_equal(one[1], other[1]) and np.array_equal(one[2], other[2])


@pytest.mark.parametrize("n", ROW_COUNTS)
@pytest.mark.parametrize("k", OUTPUTS)
@pytest.mark.parametrize("d", WIDTHS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_short_rows_match_oracle(impl, dtype, d, k, n):
    X, Y, W, b = _problem(n, d, dtype, seed=1000 * d + 10 * k + n, k=k)
    loss, grad_W, grad_b = _run(X, Y, W, b)
    want_loss, want_W, want_b = _oracle(X, Y, W, b)
    rtol = RTOL[dtype]
    assert loss == pytest.approx(want_loss, rel=rtol)
    scale = max(np.abs(want_W).max(), np.abs(want_b).max())
    # grad_W and grad_b are rounded to X's dtype.
    tol = max(rtol, np.finfo(dtype).eps)
    np.testing.assert_allclose(grad_W, want_W, rtol=tol, atol=tol * scale)
    np.testing.assert_allclose(grad_b, want_b, rtol=tol, atol=tol * scale)


@pytest.mark.parametrize(("d", "k"), [(d, k) for d in (1, 2, 3, 4) for k in OUTPUTS])
@pytest.mark.parametrize("dtype", DTYPES)
def test_short_rows_same_bits_for_any_y_layout_and_thread_count(impl, dtype, d, k):
    """Y read through its strides (rows 2 k + 1 apart: gathered in the columns' order of
    rows), C-ordered (k = 1: loaded whole, then permuted), Fortran-ordered or reversed
    gives the same bits; 2 threads give 1 thread's bits."""
    X, Y, W, b = _problem(2 * 8192 + 13, d, dtype, seed=d + 10 * k, k=k)
    strided = _run(X, Y, W, b)
    _assert_same_bits(strided, _run(X, np.ascontiguousarray(Y), W, b))
    _assert_same_bits(strided, _run(X, np.asfortranarray(Y), W, b))
    reversed_y = np.ascontiguousarray(Y[::-1])[::-1]  # negative row stride
    _assert_same_bits(strided, _run(X, reversed_y, W, b))
    _assert_same_bits(strided, _run(X, Y, W, b, n_threads=2))


@pytest.mark.parametrize("build", [name for name in IMPLS if name != "generic"])
@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("d", [2, 3, 4])
def test_float32_short_rows_are_summed_in_double(d, k, build, monkeypatch):
    """A float32 row's products are summed in double: with rows near 1000 and weights
    that cancel, the residuals are differences of products near 700, whose float32 sums
    would be off by about 3e-5 (a relative 1e-3 of the loss here); in double the loss
    agrees with the float64 oracle on the same float32 values to 1e-12. (The generic
    build sums them in float32.)"""
    module = importlib.import_module(f"linreg._kernels_{build}")
    monkeypatch.setattr(linreg._compiled, "build", module)
    rng = np.random.default_rng(d)
    n = 4096 + 5
    X = (1000.0 + rng.standard_normal((n, d)) * 0.05).astype(np.float32)
    W = np.repeat(np.array([[0.7], [-0.7], [0.35], [-0.35]][:d], np.float32), k, axis=1)
    if d == 3:
        W[2] = 0.0  # the first two cancel; the third adds nothing
    W[:, -1] *= 2.0  # another output, other residuals
    Y = np.zeros((n, k), np.float32)
    b = np.zeros(k, np.float32)
    loss, _, _ = _run(X, Y, W, b)
    want_loss, _, _ = _oracle(X, Y, W, b)
    assert loss == pytest.approx(want_loss, rel=1e-12)


@pytest.mark.parametrize("build", [name for name in IMPLS if name != "generic"])
def test_float32_one_element_rows_are_multiplied_in_double(build, monkeypatch):
    """Rows of one element and one output take the same columns (rows.pxi's loop
    rounded each product x w to float32): with targets that are those products rounded
    to float32, the residuals are the rounding errors alone, about 1e-5 each, which a
    float32 product would make 0. The loss agrees with the float64 oracle to 1e-12."""
    module = importlib.import_module(f"linreg._kernels_{build}")
    monkeypatch.setattr(linreg._compiled, "build", module)
    rng = np.random.default_rng(7)
    n = 2 * 8192 + 5
    X = (1000.0 + rng.standard_normal((n, 1))).astype(np.float32)
    W = np.array([[0.7]], np.float32)
    Y = (X * W[0, 0]).astype(np.float32)  # float32 products: rounded
    b = np.zeros(1, np.float32)
    want_loss, _, _ = _oracle(X, Y, W, b)
    assert want_loss > 1e-12
    for n_threads in (1, 2):
        loss, _, _ = _run(X, Y, W, b, n_threads=n_threads)
        assert loss == pytest.approx(want_loss, rel=1e-12)


def _out_in_layout(n, k, dtype, layout):
    """An output buffer (n, k) in the named layout: C, Fortran, or every other column of a
    wider array (both strides above one element)."""
    if layout == "C":
        return np.full((n, k), np.nan, dtype)
    if layout == "F":
        return np.full((n, k), np.nan, dtype, order="F")
    if layout == "reversed":  # rows in reverse order in memory: a negative row stride
        return np.full((n, k), np.nan, dtype)[::-1]
    return np.full((n, 2 * k), np.nan, dtype)[:, ::2]


@pytest.mark.parametrize("layout", ["C", "F", "strided", "reversed"])
@pytest.mark.parametrize("n", [2 * 8192 + 8 + r for r in (0, 3, 7)] + [5])
@pytest.mark.parametrize("k", [1, 2, 3, 4])
@pytest.mark.parametrize("d", [1, 2, 3, 4])
@pytest.mark.parametrize("dtype", DTYPES)
def test_short_rows_predict(impl, dtype, d, k, n, layout):
    """predict writes each row's outputs where they belong in any layout of `out` (the
    rows of a step come out of its columns permuted; C-ordered outputs of 2 and 4 are
    interleaved in registers), each the float64 prediction rounded once to the dtype (the
    generic build: a float32 row summed in float32), and the thread count changes no
    bit."""
    X, _, W, b = _problem(n, d, dtype, seed=100 * d + 10 * k + n % 10, k=k)
    out = _out_in_layout(n, k, dtype, layout)
    got = kernels.predict(X, W, b, out, n_threads=1)
    assert got is out or np.shares_memory(got, out)
    want = X.astype(np.float64) @ W.astype(np.float64) + b.astype(np.float64)
    if dtype == np.float32 and impl.__name__.endswith("generic"):
        # rows.pxi's loop: a row's products summed in float32
        np.testing.assert_allclose(out, want, rtol=1e-6, atol=1e-6 * np.abs(want).max())
    elif dtype == np.float32:
        # one rounding of a double sum: within half a float32 ulp, plus the double's error
        np.testing.assert_allclose(out, want, rtol=6.5e-8, atol=1e-12)
    else:
        np.testing.assert_allclose(out, want, rtol=1e-14, atol=1e-14)
    two = kernels.predict(X, W, b, _out_in_layout(n, k, dtype, layout), n_threads=2)
    assert np.array_equal(two, out)


@pytest.mark.parametrize("n", [2 * 8192 + 8 + 5, 9])
@pytest.mark.parametrize("k", OUTPUTS)
@pytest.mark.parametrize("d", [1, 2, 3, 4])
@pytest.mark.parametrize("dtype", DTYPES)
def test_weighted_short_rows_match_oracle(impl, dtype, d, k, n):
    """Sample weights go through the same columns, each step's weights permuted into the
    columns' order of rows (float32 d = 2 and 4, float64 d = 2), the rows after the last
    step weighted alike; 2 threads give 1 thread's bits."""
    X, Y, W, b = _problem(n, d, dtype, seed=2000 * d + 10 * k + n, k=k)
    weights = np.random.default_rng(d + k).uniform(0.0, 2.0, n)
    grad_W, grad_b = np.full_like(W, np.nan), np.full_like(b, np.nan)
    loss = kernels.loss_and_grad(X, Y, W, b, grad_W, grad_b, sample_weight=weights,
                                 n_threads=1)
    X64 = X.astype(np.float64)
    R = X64 @ W.astype(np.float64) + b.astype(np.float64) - Y.astype(np.float64)
    Q = weights[:, None] * R
    total = weights.sum() * k
    want_W, want_b = 2.0 / total * (X64.T @ Q), 2.0 / total * Q.sum(axis=0)
    rtol = RTOL[dtype]
    assert loss == pytest.approx(float((Q * R).sum() / total), rel=rtol)
    scale = max(np.abs(want_W).max(), np.abs(want_b).max())
    tol = max(rtol, np.finfo(dtype).eps)
    np.testing.assert_allclose(grad_W, want_W, rtol=tol, atol=tol * scale)
    np.testing.assert_allclose(grad_b, want_b, rtol=tol, atol=tol * scale)
    two = [np.empty_like(W), np.empty_like(b)]
    assert kernels.loss_and_grad(X, Y, W, b, *two, sample_weight=weights, n_threads=2) == loss
    assert np.array_equal(two[0], grad_W) and np.array_equal(two[1], grad_b)
