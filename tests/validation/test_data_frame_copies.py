"""Data frames reach the kernels with at most one copy (issue 12, "Fewer copies").

The kernels read C-order arrays. A pandas DataFrame of one float dtype held in one block
is a column-major view for np.asarray, so one copy (to C order) is needed; a frame held
in several blocks (pd.concat, columns added one at a time, mixed dtypes) used to be
copied twice (pandas interleaves the blocks into a new column-major array, then that is
copied to C order), and is now copied once, column by column. Peak memory is measured
with tracemalloc, which numpy reports its allocations to: one copy of X peaks at X's
size, two at twice it.
"""
import tracemalloc

import numpy as np
import pytest

import linreg
from linreg._validation import as_data_matrix

pd = pytest.importorskip("pandas")

# 25.6 MB of float64, 12.8 MB of float32: far above the few kB pandas allocates itself,
# and above what other threads may allocate meanwhile (tracemalloc counts every
# thread's): at 20,000 rows (1.3 MB of float32) a peak once read 1.22x X in CI, where
# 20 runs here read 1.008-1.009x.
N, D = 200_000, 16


def traced_peak(convert, *args):
    """(result, peak bytes traced while running convert(*args))."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = convert(*args)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def values(dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal((N, D)).astype(dtype)


def one_block(X):
    return pd.DataFrame(X, columns=[f"f{j}" for j in range(D)])


def concatenated(X):
    """Two blocks of the same dtype, as pd.concat(axis=1) leaves them."""
    half = D // 2
    return pd.concat([pd.DataFrame(X[:, :half], columns=[f"f{j}" for j in range(half)]),
                      pd.DataFrame(X[:, half:], columns=[f"f{j}" for j in range(half, D)])],
                     axis=1)


def column_by_column(X):
    """A frame built by adding columns one at a time: one block per column."""
    df = pd.DataFrame(index=range(len(X)))
    for j in range(X.shape[1]):
        df[f"f{j}"] = X[:, j]
    return df


FRAMES = [one_block, concatenated, column_by_column]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("make", FRAMES)
def test_a_single_dtype_frame_is_copied_at_most_once(make, dtype):
    X = values(dtype)
    df = make(X)
    converted, peak = traced_peak(as_data_matrix, df)
    assert converted.dtype == dtype
    assert converted.flags.c_contiguous or converted.flags.f_contiguous
    np.testing.assert_array_equal(converted, X)
    # One block is a column-major view, which the kernels read in place: no copy.
    limit = 0.1 if make is one_block else 1.2
    assert peak < limit * X.nbytes, f"peak {peak / X.nbytes:.2f} x X's size"


def test_a_frame_of_mixed_dtypes_is_copied_once_into_the_common_dtype():
    X = values()
    df = pd.DataFrame({f"f{j}": (X[:, j] * 100).astype(np.int32) if j % 2 else X[:, j]
                       for j in range(D)})
    expected = np.asarray(df)  # the dtype np.asarray chooses: float64
    converted, peak = traced_peak(as_data_matrix, df)
    assert converted.dtype == expected.dtype == np.float64 and converted.flags.c_contiguous
    np.testing.assert_array_equal(converted, expected)
    assert peak < 1.2 * X.nbytes, f"peak {peak / X.nbytes:.2f} x X's size"


def test_float32_mixed_with_small_integers_stays_float32_as_numpy_promotes():
    """numpy's promotion of the columns' dtypes (pandas' own np.asarray makes an object
    array of a frame with a bool column, and float64 of that)."""
    X = values(np.float32)
    df = pd.DataFrame({"a": X[:, 0], "b": (X[:, 1] * 10).astype(np.int8), "c": X[:, 2] > 0})
    converted = as_data_matrix(df)
    assert converted.dtype == np.float32
    np.testing.assert_array_equal(converted, np.asarray(df).astype(np.float32))


def test_a_frame_viewing_a_c_order_array_is_not_copied():
    X = values()
    df = pd.DataFrame(X, copy=False)
    converted, peak = traced_peak(as_data_matrix, df)
    assert np.shares_memory(converted, X) and peak < 0.1 * X.nbytes


@pytest.mark.parametrize("make", FRAMES)
def test_fit_on_a_frame_costs_one_copy_and_trains_as_on_the_array(make):
    X = values()
    y = X @ np.linspace(-1, 1, D)
    df = make(X)
    model = linreg.GDRegressor(lr=0.1, epochs=2, method="fused")
    model, peak = traced_peak(model.fit, df, y)
    plain = linreg.GDRegressor(lr=0.1, epochs=2, method="fused").fit(X, y)
    # A one-block frame is trained on in place (Fortran order): the same model up to
    # the order of summation, and no copy of X.
    np.testing.assert_allclose(model.coef_, plain.coef_, rtol=1e-12)
    limit = 0.2 if make is one_block else 1.2
    assert peak < limit * X.nbytes, f"peak {peak / X.nbytes:.2f} x X's size"


def test_polars_is_asked_for_c_order_directly():
    """polars allocates the arrays it returns outside Python's tracer: what tracemalloc
    sees is numpy's own copy, which a Fortran-order result from np.asarray needed."""
    pl = pytest.importorskip("polars")
    X = values()
    df = pl.DataFrame({f"f{j}": X[:, j] for j in range(D)})  # polars copies each column
    converted, peak = traced_peak(as_data_matrix, df)
    assert converted.flags.c_contiguous and converted.dtype == np.float64
    np.testing.assert_array_equal(converted, X)
    assert peak < 0.2 * X.nbytes, f"peak {peak / X.nbytes:.2f} x X's size"


def test_polars_columns_side_by_side_are_viewed_not_copied():
    pl = pytest.importorskip("polars")
    F = np.asfortranarray(values())
    df = pl.DataFrame({f"f{j}": F[:, j] for j in range(D)})  # polars keeps the buffer
    converted, peak = traced_peak(as_data_matrix, df)
    assert converted.flags.f_contiguous  # used in place by the kernels
    np.testing.assert_array_equal(converted, F)
    assert peak < 0.2 * F.nbytes, f"peak {peak / F.nbytes:.2f} x X's size"
