"""Object arrays of numbers and pandas' nullable dtypes as inputs (issue 12).

An object array that holds only real numbers (Python's or numpy's ints, floats, bools,
Fraction, Decimal) is converted to float64, as scikit-learn's check_dtype_object
expects; one holding anything else (text, None, dicts, ...) stays a TypeError naming the
argument and the type, complex numbers a ValueError. pandas' nullable dtypes (Int64,
Float64, boolean) become float64; a missing value (pd.NA) is a ValueError naming the
argument and the column. linreg never imports pandas or polars itself.
"""
import decimal
import fractions
import subprocess
import sys

import numpy as np
import pytest

import linreg
import linreg.kernels as kernels
from linreg._validation import as_data_matrix, as_targets

ESTIMATORS = [linreg.GDRegressor, linreg.SGDRegressor]
EST_IDS = ["GD", "SGD"]


def new(Estimator, **params):
    if Estimator is linreg.SGDRegressor:
        params.setdefault("random_state", 0)
    return Estimator(lr=0.002, epochs=4, **params)


def data(n=24, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.integers(-5, 6, size=(n, d)).astype(np.float64)  # exact in every type below
    return X, X @ np.array([1.0, -2.0, 0.5][:d]) + 0.25


def objects(A, kind):
    """A as an object array whose elements are of one kind of Python number."""
    convert = {
        "float": float,
        "int": lambda v: int(v),
        "numpy": np.float32,
        "fraction": lambda v: fractions.Fraction(int(v)),
        "decimal": lambda v: decimal.Decimal(int(v)),
        "bool": lambda v: bool(v > 0),
        "mixed": lambda v: int(v) if v > 0 else float(v),
    }[kind]
    out = np.empty(A.shape, dtype=object)
    for index, value in np.ndenumerate(A):
        out[index] = convert(value)
    return out


KINDS = ["float", "int", "numpy", "fraction", "decimal", "bool", "mixed"]


@pytest.mark.parametrize("kind", KINDS)
def test_object_arrays_of_numbers_become_float64(kind):
    X, _ = data()
    converted = as_data_matrix(objects(X, kind))
    expected = objects(X, kind).astype(np.float64)
    assert converted.dtype == np.float64 and converted.flags.c_contiguous
    np.testing.assert_array_equal(converted, expected)
    np.testing.assert_array_equal(as_targets(objects(X[:, 0], kind), len(X), np.float64),
                                  expected[:, 0])


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize("kind", ["float", "int", "mixed"])
def test_estimators_train_on_object_arrays_as_on_float64(Estimator, method, kind):
    X, y = data()
    model = getattr(new(Estimator), method)(objects(X, kind), objects(y, "float"))
    plain = getattr(new(Estimator), method)(X, y)
    np.testing.assert_array_equal(model.coef_, plain.coef_)
    np.testing.assert_array_equal(model.predict(objects(X, kind)), plain.predict(X))
    assert model.score(objects(X, kind), objects(y, "float")) == plain.score(X, y)


def test_kernels_take_object_arrays_of_numbers_too():
    X, y = data()
    W, b = np.zeros(3), np.zeros(1)
    np.testing.assert_array_equal(kernels.predict(objects(X, "int"), W + 1.0, b),
                                  kernels.predict(X, W + 1.0, b))


def with_element(A, value, position=(1, 2)):
    out = A.astype(object)
    out[position] = value
    return out


@pytest.mark.parametrize(("value", "shown"), [
    ("1.5", r"str \(text is not converted to numbers\)"),
    (b"1.5", r"bytes \(text is not converted to numbers\)"),
    (None, r"NoneType \(float\(\) argument must be a string or a real number, not "
           r"'NoneType'\)"),
    ({"foo": "bar"}, r"dict \(float\(\) argument must be a string or a real number, not "
                     r"'dict'\)"),
    ([1.0], r"list"),
    (np.array([1.0, 2.0]), r"ndarray"),
    (np.datetime64("2024-01-01"), r"datetime64"),
])
@pytest.mark.parametrize("which", ["X", "y"])
def test_object_arrays_of_other_things_stay_a_type_error(value, shown, which):
    X, y = data()
    if which == "X":
        args = (with_element(X, value), y)
    else:
        args = (X, with_element(y, value, position=3))
    for method in ("fit", "partial_fit"):
        model = new(linreg.GDRegressor)
        with pytest.raises(TypeError, match=rf"^{which} must hold real numbers \(bool, int or "
                           rf"float\), got dtype object holding {shown}"):
            getattr(model, method)(*args)
        assert not hasattr(model, "coef_")
    with pytest.raises(TypeError, match=rf"^X must hold real numbers.*holding {shown}"):
        new(linreg.GDRegressor).fit(X, y).predict(with_element(X, value))


def test_the_message_lists_every_kind_of_non_number():
    X, y = data()
    A = with_element(with_element(X, "a"), None, position=(0, 0))
    with pytest.raises(TypeError, match=r"holding NoneType, str \("):
        as_data_matrix(A)


def test_object_complex_numbers_are_a_value_error():
    X, y = data()
    with pytest.raises(ValueError, match=r"^Complex data not supported: X holds complex"):
        new(linreg.GDRegressor).fit(with_element(X, 1 + 2j), y)


@pytest.mark.parametrize(("value", "match"), [
    (10**400, r"^X holds a number beyond the float64 range"),
    (decimal.Decimal("sNaN"), r"^X could not be converted to float64"),
])
def test_object_numbers_that_have_no_float64_are_a_value_error(value, match):
    X, y = data()
    with pytest.raises(ValueError, match=match):
        new(linreg.GDRegressor).fit(with_element(X, value), y)


@pytest.mark.parametrize("value", [float("nan"), decimal.Decimal("Infinity")])
def test_object_nan_and_infinity_are_refused_as_in_float_arrays(value):
    X, y = data()
    with pytest.raises(ValueError, match=r"^X contains NaN or infinity"):
        new(linreg.GDRegressor).fit(with_element(X, value), y)


def test_an_object_array_is_not_modified():
    X, y = data()
    A = objects(X, "int")
    kept = A.copy()
    new(linreg.GDRegressor).fit(A, y)
    assert all(type(a) is int for a in A.flat)
    np.testing.assert_array_equal(A, kept)


# ------------------------------------------------------------------ pandas nullable


NULLABLE = ["Int64", "Float64", "boolean", "UInt8", "Float32"]


def nullable_frame(pd, X, dtype):
    values = X > 0 if dtype == "boolean" else (np.abs(X) if dtype.startswith("U") else X)
    return pd.DataFrame({f"c{j}": pd.array(values[:, j], dtype=dtype)
                         for j in range(X.shape[1])}), values.astype(np.float64)


@pytest.mark.parametrize("dtype", NULLABLE)
@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
def test_pandas_nullable_dtypes_without_missing_values_are_float64(dtype, Estimator):
    pd = pytest.importorskip("pandas")
    X, y = data()
    df, values = nullable_frame(pd, X, dtype)
    converted = as_data_matrix(df)
    assert converted.dtype == np.float64 and converted.flags.c_contiguous
    np.testing.assert_array_equal(converted, values)
    target = pd.Series(pd.array(values[:, 0], dtype="Float64"))
    model = new(Estimator).fit(df, target)
    plain = new(Estimator).fit(values, values[:, 0])
    np.testing.assert_array_equal(model.coef_, plain.coef_)
    np.testing.assert_array_equal(model.predict(df), plain.predict(values))


def test_a_frame_mixing_nullable_and_numpy_columns():
    pd = pytest.importorskip("pandas")
    X, y = data()
    df = pd.DataFrame({"a": pd.array(X[:, 0].astype(int), dtype="Int64"),
                       "b": X[:, 1].astype(np.float32), "c": X[:, 2] > 0})
    expected = np.column_stack([X[:, 0], X[:, 1], X[:, 2] > 0]).astype(np.float64)
    np.testing.assert_array_equal(as_data_matrix(df), expected)


@pytest.mark.parametrize("dtype", ["Int64", "Float64", "boolean"])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_pandas_missing_values_are_a_value_error_naming_the_column(dtype, method):
    pd = pytest.importorskip("pandas")
    X, y = data()
    df, values = nullable_frame(pd, X, dtype)
    fitted = new(linreg.GDRegressor).fit(df, y)
    df.iloc[[2, 5], 1] = pd.NA
    model = new(linreg.GDRegressor)
    with pytest.raises(ValueError, match=r"^X column 'c1' has 2 missing values \(pd\.NA\) "
                                         r"out of 24: fill or drop them$"):
        getattr(model, method)(df, y)
    assert not hasattr(model, "coef_")
    target = pd.Series(pd.array(y, dtype="Float64"))
    target.iloc[0] = pd.NA
    with pytest.raises(ValueError, match=r"^y has 1 missing value \(pd\.NA\) out of 24"):
        getattr(model, method)(values, target)
    with pytest.raises(ValueError, match=r"^X column 'c1' has 2 missing values"):
        fitted.predict(df)
    with pytest.raises(ValueError, match=r"^y has 1 missing value"):
        fitted.score(nullable_frame(pd, X, dtype)[0], target)


def test_pandas_text_and_dates_stay_a_type_error():
    pd = pytest.importorskip("pandas")
    X, y = data()
    text = pd.DataFrame({"a": X[:, 0], "b": X[:, 1].astype(str)})
    with pytest.raises(TypeError, match=r"^X must hold real numbers.*holding str"):
        new(linreg.GDRegressor).fit(text, y)
    dates = pd.DataFrame({"a": pd.date_range("2024-01-01", periods=len(X))})
    with pytest.raises(TypeError, match=r"^X must hold real numbers"):
        new(linreg.GDRegressor).fit(dates, y)


def test_pandas_and_polars_inputs_are_not_modified():
    pd = pytest.importorskip("pandas")
    X, y = data()
    df = pd.concat([pd.DataFrame(X[:, :1], columns=["a"]),
                    pd.DataFrame(X[:, 1:], columns=["b", "c"])], axis=1)
    kept = df.copy()
    new(linreg.GDRegressor).fit(df, pd.Series(y))
    pd.testing.assert_frame_equal(df, kept)


def test_linreg_imports_neither_pandas_nor_polars():
    code = (
        "import sys, numpy as np, linreg\n"
        "X = np.arange(12.0).reshape(6, 2); y = X[:, 0]\n"
        "m = linreg.GDRegressor(lr=0.01, epochs=2).fit(X.astype(object), y)\n"
        "m.predict(X); m.score(X, y)\n"
        "print(sorted(name for name in ('pandas', 'polars', 'sklearn') if name in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd="/")
    assert out.stdout.strip() == "[]"
