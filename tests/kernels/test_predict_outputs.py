"""predict for five outputs or more through the fused pass's tiles (outputs.pxi).

`_predict_over_outputs` runs the tiles' residual loop with targets of 0, which leaves
xW + b summed as in the fused pass, and copies each row's live lanes into `out`. These
tests run every build over widths around the tiles' (8 outputs; 16 for float32 in the
avx512 build), blocks of 32 rows with a remainder, enough rows for several chunks, and
`out` in C order, Fortran order, strided and reversed, against a float64 oracle; and that
the thread count changes no bit.
"""
import numpy as np
import pytest

from linreg import kernels

DTYPES = [pytest.param(np.float32, id="float32"), pytest.param(np.float64, id="float64")]
# float32: a row's products summed in float32 (runs of 32), as in test_row_widths.py.
RTOL = {np.float32: 2e-5, np.float64: 1e-12}


def _out(n, k, dtype, layout):
    if layout == "C":
        return np.full((n, k), np.nan, dtype)
    if layout == "F":
        return np.full((n, k), np.nan, dtype, order="F")
    if layout == "reversed":  # a negative row stride
        return np.full((n, k), np.nan, dtype)[::-1]
    return np.full((n, 3 * k), np.nan, dtype)[:, 1::3]


@pytest.mark.parametrize("layout", ["C", "F", "strided", "reversed"])
@pytest.mark.parametrize("n", [37, 2 * 8192 + 45])
@pytest.mark.parametrize("k", [5, 8, 12, 16, 17, 33])
@pytest.mark.parametrize("d", [1, 5, 16, 40])
@pytest.mark.parametrize("dtype", DTYPES)
def test_predict_several_outputs(impl, dtype, d, k, n, layout):
    rng = np.random.default_rng(1000 * d + 10 * k + n % 7)
    X = (rng.standard_normal((n, d)) + 0.5).astype(dtype)
    W = (rng.standard_normal((d, k)) / np.sqrt(d)).astype(dtype)
    b = np.linspace(-1.0, 1.0, k).astype(dtype)
    out = _out(n, k, dtype, layout)
    kernels.predict(X, W, b, out, n_threads=1)
    want = X.astype(np.float64) @ W.astype(np.float64) + b.astype(np.float64)
    rtol = RTOL[dtype]
    np.testing.assert_allclose(out, want, rtol=rtol, atol=rtol * np.abs(want).max())
    two = _out(n, k, dtype, layout)
    kernels.predict(X, W, b, two, n_threads=2)
    assert np.array_equal(two, out)
