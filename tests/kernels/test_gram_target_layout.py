"""The Gram statistics do not depend on the memory layout of Y, on every build.

The compiled Gram pass reads Y through its strides (a row step and a column step), so a
C-ordered and a Fortran-ordered Y of several outputs go through the same C loop with
different steps. Compiled for AVX-512 (the avx512 build), gcc 12 made a second,
vectorized copy of the loop summing |Yc|^2 for a column step of 1, which summed in
another order: a GD fit on an int32 memory-mapped Y in Fortran order (converted to
float64, still Fortran-ordered) differed in the last bits from the fit on the same Y
in C order. Within one build, the bits must not depend on the layout.
"""
import numpy as np
import pytest

from linreg import kernels


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k", [2, 3, 9])
@pytest.mark.parametrize("d", [1, 4, 8, 12, 20])
def test_gram_statistics_same_bits_for_c_and_fortran_y(impl, d, k, dtype):
    rng = np.random.default_rng(10 * d + k)
    n = 203  # groups of four rows and a tail of three
    X = (rng.standard_normal((n, d)) * 3 + 1).astype(dtype)
    Y = (rng.standard_normal((n, k)) * np.geomspace(0.1, 100, k) + 5).astype(dtype)
    by_c = kernels.gram_statistics(X, np.ascontiguousarray(Y), n_threads=1)
    by_f = kernels.gram_statistics(X, np.asfortranarray(Y), n_threads=1)
    assert by_c.yy == by_f.yy
    for name in ("mean_Y", "XtX", "XtY", "ref_grad"):
        np.testing.assert_array_equal(getattr(by_c, name), getattr(by_f, name), err_msg=name)
    assert by_c.ref_sse == by_f.ref_sse
