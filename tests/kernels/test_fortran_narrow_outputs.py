"""Several outputs from a narrow Fortran-ordered X (linreg/_kernels/column_outputs.pxi):
1 to 16 columns, every column side by side, each output's predictions a vector of rows;
predict with outputs in groups of 8 (float32) or 4 (float64), the fused pass for 2 or 3
outputs (the tests of the fused pass are at the end).

Exercised: every width, group sizes 1 to 8 and several groups (float32 from 9 outputs
takes blocks of rows copied into C order instead), rows that end mid-step (16 float32,
8 float64 rows), blocks of 1024 rows with several groups, outputs written through
strides (a column view, a Fortran-ordered output) next to untouched memory. Each result
is compared with float64 sums of the float64 values (the truth) and with C order; the
thread count must change no bit. The generic build (no AVX) takes the pass over
columns for the same calls.
"""
import numpy as np
import pytest

from _helpers import assert_close_scaled, pass_tolerance
from _helpers import float64_truth as _truth
from _helpers import fused_pass as _fused
from _helpers import uneven_weights as _weights
from linreg import kernels

WIDTHS = list(range(1, 17))
OUTPUTS = [2, 3, 4, 5, 7, 8, 9, 13, 32]


def _problem(n, d, k, dtype, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype)
    W = rng.standard_normal((d, k)).astype(dtype)
    b = rng.standard_normal(k).astype(dtype)
    return X, W, b


def _check(got, X, W, b, what):
    truth = X.astype(np.float64) @ W.astype(np.float64) + b.astype(np.float64)
    # float32: a row's d products summed in float32, then the bias in double.
    rtol = 1e-13 if X.dtype == np.float64 else 4e-6 * np.sqrt(X.shape[1])
    scale = max(1.0, float(np.max(np.abs(truth))))
    np.testing.assert_allclose(got, truth, rtol=rtol, atol=rtol * scale, err_msg=what)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("k", OUTPUTS, ids=[f"k{k}" for k in OUTPUTS])
@pytest.mark.parametrize("d", WIDTHS, ids=[f"d{d}" for d in WIDTHS])
def test_every_width_and_group(impl, dtype, k, d):
    # 1053 rows: 65 float32 steps of 16 and 13 rows, 131 float64 steps of 8 and 5.
    X, W, b = _problem(1053, d, k, dtype, seed=d * 100 + k)
    XF = np.asfortranarray(X)
    got = kernels.predict(XF, W, b)
    _check(got, X, W, b, "Fortran order vs float64 truth")
    np.testing.assert_allclose(got, kernels.predict(X, W, b),
                               rtol=1e-13 if dtype == np.float64 else 1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("n", [1, 3, 7, 8, 9, 15, 16, 17, 1023, 1024, 1025, 2049, 8193])
def test_rows_cut_anywhere(impl, dtype, n):
    for d, k in [(3, 2), (16, 8), (5, 13)]:
        X, W, b = _problem(n, d, k, dtype, seed=n + d)
        _check(kernels.predict(np.asfortranarray(X), W, b), X, W, b, f"n={n} d={d} k={k}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("k", [4, 8, 13])
def test_strided_outputs_and_nothing_beside(impl, dtype, k):
    n, d = 1500, 6
    X, W, b = _problem(n, d, k, dtype, seed=k)
    XF = np.asfortranarray(X)
    want = kernels.predict(XF, W, b)
    wide = np.full((n, 2 * k), 7.0, dtype)
    kernels.predict(XF, W, b, out=wide[:, 1::2])  # every other column of a wider array
    np.testing.assert_array_equal(wide[:, 1::2], want)
    assert (wide[:, ::2] == 7.0).all()
    fortran_out = np.zeros((n, k), dtype, order="F")  # a row of the output is strided
    kernels.predict(XF, W, b, out=fortran_out)
    np.testing.assert_array_equal(fortran_out, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_bits_do_not_depend_on_threads(impl, dtype):
    n, d, k = 300_007, 8, 6  # over 2^21 elements: threads take chunks
    X, W, b = _problem(n, d, k, dtype, seed=2)
    XF = np.asfortranarray(X)
    results = [kernels.predict(XF, W, b, n_threads=t) for t in (1, 2, 3)]
    for other in results[1:]:
        np.testing.assert_array_equal(other, results[0])
    _check(results[0], X, W, b, "Fortran order vs float64 truth")


# ------------------------------------------------------------------ the fused pass

def _fused_truth(X, Y, W, b, sample_weight=None):
    return _truth(X, Y, W, b, sample_weight)[:3]  # (loss, grad_W, grad_b)


def _check_fused(got, want, dtype, d, what):
    for g, w, name in zip(got, want, ("loss", "grad_W", "grad_b")):
        assert_close_scaled(g, w, pass_tolerance(dtype, d), f"{what}: {name}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("k", [2, 3, 4])  # 4: the blocked pass over columns
@pytest.mark.parametrize("n", [1, 5, 16, 17, 1053, 20001])
def test_fused_every_width(impl, dtype, weighted, k, n):
    for d in WIDTHS:
        rng = np.random.default_rng(n * 31 + d * 7 + k)
        X = rng.standard_normal((n, d)).astype(dtype)
        Y = rng.standard_normal((n, k)).astype(dtype)
        W = (0.3 * rng.standard_normal((d, k))).astype(dtype)
        b = rng.standard_normal(k).astype(dtype)
        sw = _weights(n) if weighted else None
        got = _fused(np.asfortranarray(X), Y, W, b, sw)
        _check_fused(got, _fused_truth(X, Y, W, b, sw), dtype, d, f"d={d}: vs float64 truth")
        _check_fused(got, _fused(X, Y, W, b, sw), dtype, d, f"d={d}: vs C order")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_fused_strided_y(impl, dtype):
    n, d, k = 3001, 7, 3
    rng = np.random.default_rng(3)
    XF = np.asfortranarray(rng.standard_normal((n, d)).astype(dtype))
    Y = rng.standard_normal((n, k)).astype(dtype)
    W, b = (0.3 * rng.standard_normal((d, k))).astype(dtype), np.ones(k, dtype)
    wide = np.zeros((n, 2 * k), dtype)
    wide[:, ::2] = Y
    for other in (wide[:, ::2], np.asfortranarray(Y)):
        for got, want in zip(_fused(XF, other, W, b), _fused(XF, Y, W, b)):
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_fused_bits_do_not_depend_on_threads(impl, dtype, weighted):
    n, d, k = 300_007, 8, 2
    rng = np.random.default_rng(4)
    X = rng.standard_normal((n, d)).astype(dtype)
    Y = rng.standard_normal((n, k)).astype(dtype)
    W, b = (0.3 * rng.standard_normal((d, k))).astype(dtype), np.zeros(k, dtype)
    XF = np.asfortranarray(X)
    sw = _weights(n) if weighted else None
    results = [_fused(XF, Y, W, b, sw, n_threads=t) for t in (1, 2, 3)]
    for other in results[1:]:
        for got, want in zip(other, results[0]):
            np.testing.assert_array_equal(got, want)
    _check_fused(results[0], _fused_truth(X, Y, W, b, sw), dtype, d, "vs float64 truth")
