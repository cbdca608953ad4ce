"""Values that do not fit in X's float32 get a message that says so (issue 10, "Inputs").

A finite y beyond float32's range with float32 X used to be reported as "y contains NaN
or infinity" (the cast made it infinite), and a warm start from float64 coefficients
beyond float32's range as a divergence at epoch 1. Both now say what is wrong and what
to do (pass X as float64), without numpy's "overflow encountered in cast" warning.
"""
import warnings

import numpy as np
import pytest

import linreg
import linreg.kernels as kernels
from linreg._validation import as_targets, cast_to_dtype
from _helpers import make_problem

N, D = 10, 3
ESTIMATORS = [linreg.GDRegressor, linreg.SGDRegressor]
EST_IDS = ["GD", "SGD"]
F32_MAX = float(np.finfo(np.float32).max)


def data(k=None):
    X, y, _, _ = make_problem(N, D, k, np.float64, seed=21)
    return X, y


def new(Estimator, **params):
    if Estimator is linreg.SGDRegressor:
        params.setdefault("random_state", 0)
    return Estimator(epochs=3, **params)


# (value put in y, how the message shows the largest |value|)
BIG = [(1e300, r"1e\+300"), (-1e300, r"1e\+300"), (1e39, r"1e\+39"),
       (2 * F32_MAX, r"6\.8\d*e\+38")]


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize(("value", "shown"), BIG)
@pytest.mark.parametrize("k", [None, 2])
def test_y_beyond_float32_with_float32_x_says_so(Estimator, method, value, shown, k):
    X, y = data(k)
    y.flat[3] = value
    model = new(Estimator)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=(
            rf"^y holds values beyond the float32 range of X \(largest \|value\| {shown}\): "
            r"pass X as float64"
        )):
            getattr(model, method)(X.astype(np.float32), y)
    assert not hasattr(model, "coef_")


def test_infinity_in_y_is_still_reported_as_infinity():
    X, y = data()
    y[2] = np.inf
    with pytest.raises(ValueError, match=r"^y contains NaN or infinity"):
        linreg.GDRegressor(epochs=2).fit(X.astype(np.float32), y)


def test_y_just_inside_float32_is_not_an_error_of_range():
    y = np.array([F32_MAX, -F32_MAX, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        converted = as_targets(y, 3, np.dtype(np.float32))
    assert converted.dtype == np.float32 and np.isfinite(converted).all()


def kernel_call(func, X, Y, W, b):
    if func == "loss_and_grad":
        return kernels.loss_and_grad(X, Y, W, b, np.empty_like(W), np.empty_like(b))
    if func == "gd_epochs":
        return kernels.gd_epochs(X, Y, W, b, 0.01, np.empty(2))
    if func == "sgd_epoch":
        return kernels.sgd_epoch(X, Y, W, b, 0.01)
    if func == "sgd_epochs":
        return kernels.sgd_epochs(X, Y, W, b, 0.01, np.empty(2))
    return kernels.gram_statistics(X, Y)


@pytest.mark.parametrize("func", ["loss_and_grad", "gd_epochs", "sgd_epoch", "sgd_epochs",
                                  "gram_statistics"])
@pytest.mark.parametrize("k", [None, 2])
def test_kernels_say_y_does_not_fit_in_float32(impl, func, k):
    X, Y, W, b = make_problem(N, D, k, np.float32, seed=4)
    Y64 = Y.astype(np.float64)
    Y64[-1] = 1e300
    W_before, b_before = W.copy(), b.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=(
            r"^Y holds values beyond the float32 range of X \(largest \|value\| 1e\+300\): "
            r"pass X as float64"
        )):
            kernel_call(func, X, Y64, W, b)
    np.testing.assert_array_equal(W, W_before)
    np.testing.assert_array_equal(b, b_before)


# ---------------------------------------------------------------- warm start


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize(("attribute", "k"), [("coef_", None), ("coef_", 2),
                                              ("intercept_", None), ("intercept_", 2)])
def test_warm_start_from_coefficients_beyond_float32_says_so(Estimator, method, attribute, k):
    X, y = data(k)
    model = new(Estimator, warm_start=True).fit(X, y)
    big = np.array(getattr(model, attribute), dtype=np.float64, copy=True)
    big.flat[0] = 1e300
    setattr(model, attribute, big if big.ndim else float(big))
    saved = {name: np.array(getattr(model, name), copy=True) for name in ("coef_", "intercept_")}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError) as info:
            getattr(model, method)(X.astype(np.float32), y)
    assert not isinstance(info.value, linreg.DivergenceError)
    assert str(info.value).startswith(
        f"{attribute} holds values beyond the range of float32 (the dtype of X) "
        "(largest |value| 1e+300)"
    ), str(info.value)
    assert "pass X as float64" in str(info.value)
    for name, value in saved.items():  # the failed call left the model as it was
        np.testing.assert_array_equal(getattr(model, name), value)


def test_warm_start_within_float32_still_continues():
    X, y = data()
    model = linreg.GDRegressor(epochs=3, warm_start=True).fit(X, y)
    model.fit(X.astype(np.float32), y)
    assert model.coef_.dtype == np.float32 and model.loss_curve_.shape == (6,)


# ------------------------------------------------------------------ cast_to_dtype


def test_cast_to_dtype_returns_a_new_c_contiguous_array():
    source = np.arange(12.0).reshape(3, 4).T  # Fortran order
    for dtype in (np.float32, np.float64):
        out = cast_to_dtype(source, dtype, "coef_")
        assert out.dtype == dtype and out.flags.c_contiguous and out.flags.writeable
        assert not np.shares_memory(out, source)
        np.testing.assert_array_equal(out, source)


@pytest.mark.parametrize("value", [1e39, -1e300, np.finfo(np.float64).max])
def test_cast_to_dtype_refuses_what_overflows_naming_it(value):
    source = np.array([[1.0, value], [2.0, 3.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"^W0 holds values beyond the range of float32 "
                           r"\(the dtype of X\)"):
            cast_to_dtype(source, np.float32, "W0")
    np.testing.assert_array_equal(source, [[1.0, value], [2.0, 3.0]])
