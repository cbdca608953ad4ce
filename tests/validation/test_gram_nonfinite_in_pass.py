"""kernels.gram_statistics finds a NaN or infinity in a C-ordered X of the BLAS path
inside its one pass over X (the shifted column sums), not by a read of its own: the
same ValueError naming X wherever the bad value sits, in either dtype."""
import numpy as np
import pytest

from linreg import kernels


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("row", [0, 1, 4097, 9_999], ids=["first", "second", "block-2", "last"])
def test_a_non_finite_x_is_named(dtype, bad, row):
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((10_000, 70)) + 5.0).astype(dtype)
    y = rng.standard_normal(10_000).astype(dtype)
    X[row, 69 - row % 70] = bad
    before = X.copy()
    with pytest.raises(ValueError, match="X contains NaN or infinity"):
        kernels.gram_statistics(X, y, n_threads=1)
    np.testing.assert_array_equal(X, before)  # never modified


@pytest.mark.parametrize("order", ["C", "F"])
def test_a_non_finite_y_is_named_and_narrow_or_fortran_x_still_checked(order):
    rng = np.random.default_rng(1)
    for d in (8, 70):  # the compiled path and the BLAS path
        X = np.asarray(rng.standard_normal((500, d)), order=order)
        y = rng.standard_normal(500)
        y[7] = np.nan
        with pytest.raises(ValueError, match="Y contains NaN or infinity"):
            kernels.gram_statistics(X, y)
        y[7] = 0.0
        X[3, 2] = np.inf
        with pytest.raises(ValueError, match="X contains NaN or infinity"):
            kernels.gram_statistics(X, y)


def test_finite_x_whose_shifted_sums_overflow_is_not_called_non_finite():
    # Finite values of +-1.5e305 in halves: the shifted sums overflow, X does not hold
    # NaN or infinity, so whatever else happens the error is not that one.
    X = np.full((4096, 70), 1.5e305)
    X[2048:] *= -1
    y = np.zeros(4096)
    try:
        kernels.gram_statistics(X, y, n_threads=1)
    except (ValueError, FloatingPointError, OverflowError) as error:
        assert "X contains NaN or infinity" not in str(error)
