"""The estimators guard the compiled kernels (issue 6).

Every bad input to GDRegressor / SGDRegressor (fit, partial_fit, predict, score) raises
ValueError or TypeError with a message that names the argument and says what is wrong,
and a failed call leaves the model as it was (bad input to `linreg.load`:
../persistence/test_load_input_checks.py). Integer, bool and list
inputs are converted; Fortran-ordered, strided, negative-stride, read-only and memory-
mapped arrays are accepted and give bit for bit the coefficients of the C-contiguous
float copy (the kernels are deterministic and see the same values).

Bugs found here were fixed in linreg/; see the report of the
hardening branch for the reproductions.
"""
import numpy as np
import pytest

import linreg
from _helpers import linear_data, small_model, LAYOUTS, in_layout

N, D = 30, 4
ESTIMATORS = [linreg.GDRegressor, linreg.SGDRegressor]
EST_IDS = ["GD", "SGD"]


def data(k=None, dtype=np.float64, seed=0, n=N, d=D):
    """(X, y) with a linear signal; k None gives 1-D y."""
    return linear_data(k=k, dtype=dtype, seed=seed, n=n, d=d)


def new(Estimator, **params):
    """A small, reproducible model: 3 epochs, a fixed seed for SGD."""
    return small_model(Estimator, **params)


def fitted_state(model):
    """Copies of the fitted attributes (None for an unfitted model)."""
    if not hasattr(model, "coef_"):
        return None
    return (
        np.array(model.coef_, copy=True),
        np.array(model.intercept_, copy=True),
        np.array(model.loss_curve_, copy=True),
        model.n_iter_,
        model.n_features_in_,
    )


def assert_same_state(actual, expected):
    if expected is None:
        assert actual is None, "a failed call left an unfitted model fitted"
        return
    assert actual is not None, "a failed call unfitted the model"
    for a, e in zip(actual, expected):
        np.testing.assert_array_equal(a, e)


def assert_same_fit(actual, expected, exact=True):
    """Bit-identical fitted models (same dtype too); with exact=False (a Fortran-ordered
    X, read in place by passes that sum in another order) equal up to rounding."""
    assert np.asarray(actual.coef_).dtype == np.asarray(expected.coef_).dtype
    assert actual.n_iter_ == expected.n_iter_
    pairs = [(actual.coef_, expected.coef_), (actual.intercept_, expected.intercept_),
             (actual.loss_curve_, expected.loss_curve_)]
    for a, e in pairs:
        assert_same_values(a, e, exact, np.asarray(expected.coef_).dtype)


def assert_same_values(actual, expected, exact=True, dtype=None):
    if exact:
        np.testing.assert_array_equal(actual, expected)
    else:
        dtype = np.asarray(expected).dtype if dtype is None else dtype
        rtol = 1e-9 if dtype == np.float64 else 2e-4
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol)


def same_score(value, exact=True):
    """score() sums with NumPy, whose pairwise sums round differently for other layouts of
    y: equal up to rounding (the predictions themselves are compared bit for bit)."""
    tolerance = 1e-12 if exact else 1e-6
    return pytest.approx(value, rel=tolerance, abs=tolerance)


def _set(a, index, value):
    """A copy of the float array `a` with a[index] = value."""
    a = np.array(a, copy=True)
    a[index] = value
    return a


# ----------------------------------------------------------------------------- bad data

# (id, make(X, y) -> (X, y), exception, regex naming the argument)
BAD_DATA = [
    ("X-nan", lambda X, y: (_set(X, (3, 1), np.nan), y), ValueError, r"\bX contains NaN or infinity"),
    ("X-inf", lambda X, y: (_set(X, (0, 0), np.inf), y), ValueError, r"\bX contains NaN or infinity"),
    ("X-neg-inf", lambda X, y: (_set(X, (-1, -1), -np.inf), y), ValueError, r"\bX contains NaN or infinity"),
    ("X-nan-fortran", lambda X, y: (np.asfortranarray(_set(X, (5, 2), np.nan)), y), ValueError,
     r"\bX contains NaN or infinity"),
    ("y-nan", lambda X, y: (X, _set(y, 7, np.nan)), ValueError, r"\by contains NaN or infinity"),
    ("y-inf", lambda X, y: (X, _set(y, -1, np.inf)), ValueError, r"\by contains NaN or infinity"),
    ("y2d-nan", lambda X, y: (X, _set(np.stack([y, y], 1), (4, 1), np.nan)), ValueError,
     r"\by contains NaN or infinity"),
    ("y-strided-inf", lambda X, y: (X, in_layout(_set(y, 2, -np.inf), "row-strided")), ValueError,
     r"\by contains NaN or infinity"),
    ("y-short", lambda X, y: (X, y[:-1]), ValueError, rf"\by has {N - 1} samples but X has {N}\b"),
    ("y-long", lambda X, y: (X, np.append(y, 0.0)), ValueError, rf"\by has {N + 1} samples but X has {N}\b"),
    ("X-no-samples", lambda X, y: (X[:0], y[:0]), ValueError, r"\bX has 0 sample\(s\)"),
    ("X-no-features", lambda X, y: (X[:, :0], y), ValueError, r"\bX has 0 feature\(s\)"),
    ("y-no-outputs", lambda X, y: (X, np.empty((N, 0))), ValueError, r"\by needs at least one output"),
    ("X-3d", lambda X, y: (X[:, :, None], y), ValueError, r"\bX must be 2-D.*got 3-D"),
    ("X-1d", lambda X, y: (X[:, 0], y), ValueError, r"\bX must be 2-D.*got 1-D.*reshape"),
    ("X-scalar", lambda X, y: (1.5, y), ValueError, r"\bX must be 2-D.*got 0-D"),
    ("y-3d", lambda X, y: (X, y.reshape(N, 1, 1)), ValueError, r"\by must be 1-D .* or 2-D .*got 3-D"),
    ("y-scalar", lambda X, y: (X, 1.5), ValueError, r"\by must be 1-D .* or 2-D .*got 0-D"),
    # Object arrays of numbers are converted (tests/validation/test_object_and_nullable_inputs.py).
    ("X-object", lambda X, y: (X.astype(str).astype(object), y), TypeError,
     r"\bX must hold real numbers.*object holding str"),
    ("X-str", lambda X, y: (X.astype(str), y), TypeError, r"\bX must hold real numbers.*<U"),
    ("X-bytes", lambda X, y: (X.astype("S8"), y), TypeError, r"\bX must hold real numbers.*S8"),
    ("X-datetime", lambda X, y: (X.astype("datetime64[s]"), y), TypeError,
     r"\bX must hold real numbers.*datetime64"),
    ("X-timedelta", lambda X, y: (X.astype("timedelta64[s]"), y), TypeError,
     r"\bX must hold real numbers.*timedelta64"),
    ("X-structured", lambda X, y: (np.zeros((N, D), dtype=[("a", "f8")]), y), TypeError,
     r"\bX must hold real numbers"),
    ("X-complex", lambda X, y: (X + 0j, y), ValueError, r"Complex data not supported: X has dtype complex(64|128)"),
    ("y-object", lambda X, y: (X, y.astype(str).astype(object)), TypeError,
     r"\by must hold real numbers.*object holding str"),
    ("y-str", lambda X, y: (X, y.astype(str)), TypeError, r"\by must hold real numbers.*<U"),
    ("y-datetime", lambda X, y: (X, y.astype("datetime64[s]")), TypeError,
     r"\by must hold real numbers.*datetime64"),
    ("y-complex", lambda X, y: (X, y.astype(np.complex64)), ValueError,
     r"Complex data not supported: y has dtype complex64"),
    ("X-None", lambda X, y: (None, y), ValueError, r"\bX is None"),
    ("y-None", lambda X, y: (X, None), ValueError, r"\by is None"),
    ("X-ragged", lambda X, y: ([[1.0, 2.0], [3.0]], [1.0, 2.0]), ValueError, r"\bX could not be converted"),
    ("y-ragged", lambda X, y: (X[:2], [[1.0], [2.0, 3.0]]), ValueError, r"\by could not be converted"),
]


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize(("make", "exc", "match"),
                         [pytest.param(*case[1:], id=case[0]) for case in BAD_DATA])
def test_bad_data_is_refused_by_name_and_the_model_is_untouched(Estimator, method, dtype, make,
                                                                 exc, match):
    X, y = make(*data(dtype=dtype))
    unfitted = new(Estimator)
    with pytest.raises(exc, match=match):
        getattr(unfitted, method)(X, y)
    assert_same_state(fitted_state(unfitted), None)

    model = new(Estimator).fit(*data(dtype=dtype, seed=1))
    before = fitted_state(model)
    with pytest.raises(exc, match=match):
        getattr(model, method)(X, y)
    assert_same_state(fitted_state(model), before)


# (id, make(X) -> X for a model fitted on D features, exception, regex)
BAD_X = [
    ("nan", lambda X: _set(X, (2, 2), np.nan), ValueError, r"\bX contains NaN or infinity"),
    ("inf", lambda X: _set(X, (0, 3), np.inf), ValueError, r"\bX contains NaN or infinity"),
    ("nan-strided", lambda X: in_layout(_set(X, (9, 0), np.nan), "col-strided"), ValueError,
     r"\bX contains NaN or infinity"),
    ("fewer-features", lambda X: X[:, :-1], ValueError,
     rf"\bX has {D - 1} features, but \w+Regressor is expecting {D} features"),
    ("more-features", lambda X: np.hstack([X, X]), ValueError,
     rf"\bX has {2 * D} features, but \w+Regressor is expecting {D} features"),
    ("no-samples", lambda X: X[:0], ValueError, r"\bX has 0 sample\(s\)"),
    ("3d", lambda X: X[None], ValueError, r"\bX must be 2-D"),
    ("1d", lambda X: X[0], ValueError, r"\bX must be 2-D.*reshape"),
    ("object", lambda X: X.astype(str).astype(object), TypeError, r"\bX must hold real numbers"),
    ("str", lambda X: X.astype(str), TypeError, r"\bX must hold real numbers"),
    ("datetime", lambda X: X.astype("datetime64[ms]"), TypeError, r"\bX must hold real numbers"),
    ("complex", lambda X: X + 1j, ValueError, r"Complex data not supported: X"),
    ("None", lambda X: None, ValueError, r"\bX is None"),
]


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
@pytest.mark.parametrize("method", ["predict", "score"])
@pytest.mark.parametrize("k", [None, 2], ids=["y1d", "k2"])
@pytest.mark.parametrize(("make", "exc", "match"),
                         [pytest.param(*case[1:], id=case[0]) for case in BAD_X])
def test_predict_and_score_refuse_bad_x_by_name(Estimator, method, k, make, exc, match):
    X, y = data(k=k)
    model = new(Estimator).fit(X, y)
    before = fitted_state(model)
    args = (make(X),) if method == "predict" else (make(X), y)
    with pytest.raises(exc, match=match):
        getattr(model, method)(*args)
    assert_same_state(fitted_state(model), before)


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
@pytest.mark.parametrize(
    ("make", "exc", "match"),
    [
        pytest.param(lambda y: y[:-1], ValueError, r"\by has 29 samples but X has 30",
                     id="short"),
        pytest.param(lambda y: np.append(y, 1.0), ValueError, r"\by has 31 samples but X has 30",
                     id="long"),
        pytest.param(lambda y: y.reshape(N, 1, 1), ValueError, r"\by\b", id="3d"),
        pytest.param(lambda y: None, ValueError, r"\by\b", id="None"),
        pytest.param(lambda y: _set(y, 3, np.nan), ValueError, r"\by contains NaN",
                     id="nan"),
        pytest.param(lambda y: _set(y, 0, np.inf), ValueError, r"\by contains NaN",
                     id="inf"),
        pytest.param(lambda y: y.astype(str), TypeError, r"\by must hold real numbers",
                     id="str"),
        pytest.param(lambda y: y.astype(str).astype(object), TypeError,
                     r"\by must hold real numbers", id="object"),
        pytest.param(lambda y: y.astype("datetime64[s]"), TypeError, r"\by must hold real",
                     id="datetime"),
        pytest.param(lambda y: y + 1j, ValueError, r"Complex data not supported: y",
                     id="complex"),
    ],
)
@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::numpy.exceptions.ComplexWarning")
def test_score_refuses_bad_y_by_name(Estimator, make, exc, match):
    X, y = data()
    model = new(Estimator).fit(X, y)
    with pytest.raises(exc, match=match):
        model.score(X, make(y))


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
@pytest.mark.parametrize("method", ["predict", "score"])
def test_use_before_fit_is_a_not_fitted_error(Estimator, method):
    X, y = data()
    model = new(Estimator)
    # Also after a fit that failed: it must not leave a half-fitted model behind.
    with pytest.raises(ValueError):
        model.fit(X, y[:-1])
    args = (X,) if method == "predict" else (X, y)
    with pytest.raises(linreg.NotFittedError, match=rf"This {Estimator.__name__} instance is "
                       r"not fitted yet\. Call 'fit'") as info:
        getattr(model, method)(*args)
    # The NotFittedError convention: a ValueError and an AttributeError at once.
    assert isinstance(info.value, ValueError) and isinstance(info.value, AttributeError)


# ------------------------------------------------------------------------- bad settings

BAD_SETTINGS = [
    ({"lr": 0}, ValueError, r"\blr must be a positive finite number, got 0"),
    ({"lr": -0.1}, ValueError, r"\blr must be a positive finite number, got -0\.1"),
    ({"lr": float("nan")}, ValueError, r"\blr must be a positive finite number, got nan"),
    ({"lr": float("inf")}, ValueError, r"\blr must be a positive finite number, got inf"),
    ({"lr": -float("inf")}, ValueError, r"\blr must be a positive finite number, got -inf"),
    ({"lr": np.float32("nan")}, ValueError, r"\blr must be a positive finite number"),
    ({"lr": "0.1"}, TypeError, r"\blr must be a real number( or 'auto')?, got str"),
    ({"lr": None}, TypeError, r"\blr must be a real number, got NoneType"),
    ({"lr": True}, TypeError, r"\blr must be a real number, got bool"),
    ({"lr": 0.1j}, TypeError, r"\blr must be a real number, got complex"),
    ({"lr": np.array([0.1])}, TypeError, r"\blr must be a real number, got ndarray"),
    ({"epochs": 0}, ValueError, r"\bepochs must be between 1 and \d+, got 0"),
    ({"epochs": -3}, ValueError, r"\bepochs must be between 1 and \d+, got -3"),
    ({"epochs": np.int64(0)}, ValueError, r"\bepochs must be between 1 and \d+, got 0"),
    ({"epochs": 2.0}, TypeError, r"\bepochs must be an integer, got float"),
    ({"epochs": "3"}, TypeError, r"\bepochs must be an integer( or 'auto')?, got str"),
    ({"epochs": None}, TypeError, r"\bepochs must be an integer, got NoneType"),
    ({"epochs": True}, TypeError, r"\bepochs must be an integer, got bool"),
    ({"epochs": 10**30}, ValueError, r"\bepochs must be between 1 and \d+, got 10+\.\.\. \(31 digits\)"),
    ({"log_every": -1}, ValueError, r"\blog_every\b"),
    ({"tol": "small"}, TypeError, r"\btol\b"),
    ({"tol": 1e-3, "n_iter_no_change": 0}, ValueError, r"\bn_iter_no_change\b"),
    ({"callback": 3}, TypeError, r"\bcallback\b"),
    ({"warm_start": "no"}, TypeError, r"\bwarm_start\b"),
]
SGD_BAD_SETTINGS = [
    # fit bounds batch_size by n; partial_fit takes a chunk smaller than it as one short
    # batch (a DataLoader without drop_last), so it only needs it >= 1.
    ({"batch_size": 0}, ValueError, r"\bbatch_size must be (between 1 and \d+|>= 1), got 0"),
    ({"batch_size": -1}, ValueError, r"\bbatch_size must be (between 1 and \d+|>= 1), got -1"),
    ({"batch_size": 2.0}, TypeError, r"\bbatch_size must be an integer, got float"),
    ({"batch_size": True}, TypeError, r"\bbatch_size must be an integer, got bool"),
    ({"batch_size": None}, TypeError, r"\bbatch_size must be an integer, got NoneType"),
    ({"shuffle": "yes"}, TypeError, r"\bshuffle\b"),
    ({"random_state": "seed"}, TypeError, r"\brandom_state\b"),
]


def settings_cases():
    for Estimator, name in zip(ESTIMATORS, EST_IDS):
        cases = BAD_SETTINGS + (SGD_BAD_SETTINGS if Estimator is linreg.SGDRegressor else [])
        for params, exc, match in cases:
            given = ",".join(f"{key}={value!r}" for key, value in params.items())
            yield pytest.param(Estimator, params, exc, match, id=f"{name}-{given}")


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize(("Estimator", "params", "exc", "match"), list(settings_cases()))
def test_bad_settings_are_refused_by_name_and_the_model_is_untouched(method, Estimator, params,
                                                                     exc, match):
    X, y = data()
    model = new(Estimator, **params)  # stored as given, checked when used
    assert all(getattr(model, key) is value for key, value in params.items())
    with pytest.raises(exc, match=match):
        getattr(model, method)(X, y)
    assert_same_state(fitted_state(model), None)

    model = new(Estimator).fit(X, y)
    before = fitted_state(model)
    model.set_params(**params)
    with pytest.raises(exc, match=match):
        getattr(model, method)(X, y)
    assert_same_state(fitted_state(model), before)


def test_fit_bounds_batch_size_by_the_rows():
    X, y = data()
    with pytest.raises(ValueError, match=rf"\bbatch_size must be between 1 and {N}, got {N + 1}"):
        linreg.SGDRegressor(batch_size=N + 1, random_state=0).fit(X, y)


def test_partial_fit_takes_a_chunk_smaller_than_batch_size_as_one_batch():
    # As a DataLoader without drop_last: the last batch of a pass is shorter.
    X, y = data()
    model = linreg.SGDRegressor(lr=0.01, batch_size=8, random_state=0).partial_fit(X, y)
    one_batch = linreg.SGDRegressor(lr=0.01, batch_size=5, random_state=0)
    one_batch.partial_fit(X, y)
    model.partial_fit(X[:5], y[:5])
    one_batch.set_params(batch_size=5).partial_fit(X[:5], y[:5])
    assert model.n_iter_ == 1 and np.isfinite(model.coef_).all()
    assert len(model.loss_curve_) == 2


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
def test_unknown_option_in_set_params_lists_the_valid_ones(Estimator):
    model = Estimator()
    valid = list(model.get_params())
    with pytest.raises(ValueError, match=rf"Invalid parameter 'bogus' for {Estimator.__name__}"
                       ) as info:
        model.set_params(bogus=1)
    message = str(info.value)
    listed = message.split("valid parameters are:", 1)[1]
    assert [name.strip() for name in listed.split(",")] == valid
    assert not hasattr(model, "bogus")


def test_gd_has_no_sgd_options():
    with pytest.raises(ValueError, match=r"Invalid parameter 'batch_size' for GDRegressor.*"
                       r"valid parameters are: lr, epochs"):
        linreg.GDRegressor().set_params(batch_size=4)


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
def test_unknown_constructor_keyword_is_pythons_type_error(Estimator):
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'bogus'"):
        Estimator(bogus=1)


# ------------------------------------------------------------------- conversions accepted


class ArrayLike:
    """Not an ndarray, but converts to one (NumPy's __array__ protocol)."""

    def __init__(self, array):
        self.array = array

    def __array__(self, dtype=None, copy=None):
        return self.array


# (id, convert(X, y) -> (X', y'), the float dtype training must use). The expected model is
# fitted on np.ascontiguousarray of the converted values in that dtype.
CONVERSIONS = [
    ("int-X-int-y", lambda X, y: ((10 * X).astype(np.int64), (10 * y).astype(np.int32)), np.float64),
    ("uint8-X", lambda X, y: ((X > 0).astype(np.uint8), y), np.float64),
    ("bool-X-bool-y", lambda X, y: (X > 0, y > 0), np.float64),
    ("float16-X", lambda X, y: (X.astype(np.float16), y), np.float64),
    ("list-X-list-y", lambda X, y: (X.tolist(), y.tolist()), np.float64),
    ("tuple-X", lambda X, y: (tuple(map(tuple, X.tolist())), y), np.float64),
    ("list-X-2d-list-y", lambda X, y: (X.tolist(), np.stack([y, -y], 1).tolist()), np.float64),
    ("float32-X-int-y", lambda X, y: (X.astype(np.float32), (10 * y).astype(np.int64)), np.float32),
    ("float32-X-float64-y", lambda X, y: (X.astype(np.float32), y), np.float32),
    ("float64-X-float32-y", lambda X, y: (X, y.astype(np.float32)), np.float64),
    ("int-X-float32-y", lambda X, y: ((10 * X).astype(np.int16), y.astype(np.float32)), np.float64),
    ("array-like-X-y", lambda X, y: (ArrayLike(X), ArrayLike(y)), np.float64),
]


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
@pytest.mark.parametrize(("convert", "train_dtype"),
                         [pytest.param(*case[1:], id=case[0]) for case in CONVERSIONS])
def test_int_bool_and_list_inputs_are_converted(Estimator, convert, train_dtype):
    Xc, yc = convert(*data())
    X_expected = np.ascontiguousarray(np.asarray(Xc), dtype=train_dtype)
    y_expected = np.asarray(yc).astype(train_dtype)
    expected = new(Estimator).fit(X_expected, y_expected)
    model = new(Estimator).fit(Xc, yc)
    assert model.coef_.dtype == train_dtype
    assert_same_fit(model, expected)
    np.testing.assert_array_equal(model.predict(Xc), expected.predict(X_expected))
    assert model.predict(Xc).dtype == train_dtype
    assert model.score(Xc, yc) == same_score(expected.score(X_expected, np.asarray(yc)))
    again = new(Estimator).partial_fit(Xc, yc)
    np.testing.assert_array_equal(again.coef_, new(Estimator).partial_fit(X_expected, y_expected).coef_)


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("k", [None, 3], ids=["y1d", "k3"])
@pytest.mark.parametrize(
    ("x_layout", "y_layout"),
    [(layout, "C") for layout in LAYOUTS[1:]]
    + [("C", layout) for layout in LAYOUTS[1:]]
    + [("negative-stride", "row-strided"), ("F", "negative-stride")],
)
def test_any_layout_gives_the_coefficients_of_the_c_contiguous_copy(Estimator, dtype, k, x_layout,
                                                                     y_layout):
    X, y = data(k=k, dtype=dtype)
    Xv, yv = in_layout(X, x_layout), in_layout(y, y_layout)
    np.testing.assert_array_equal(Xv, X)
    np.testing.assert_array_equal(yv, y)
    expected = new(Estimator).fit(X, y)
    model = new(Estimator).fit(Xv, yv)
    exact = x_layout != "F"  # Fortran order is read in place, summed in another order
    assert_same_fit(model, expected, exact)
    assert model.coef_.dtype == dtype
    assert_same_values(model.predict(Xv), expected.predict(X), exact)
    assert model.score(Xv, yv) == same_score(expected.score(X, y), exact)
    assert_same_values(new(Estimator).partial_fit(Xv, yv).coef_,
                       new(Estimator).partial_fit(X, y).coef_, exact)


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("k", [None, 2], ids=["y1d", "k2"])
@pytest.mark.parametrize("layout", ["C", "F", "negative-stride"])
def test_read_only_inputs_work(Estimator, dtype, k, layout):
    X, y = data(k=k, dtype=dtype)
    Xr, yr = in_layout(X, layout), in_layout(y, layout)
    Xr.flags.writeable = False
    yr.flags.writeable = False
    expected = new(Estimator).fit(X, y)
    model = new(Estimator).fit(Xr, yr)
    exact = layout != "F"
    assert_same_fit(model, expected, exact)
    assert_same_values(model.predict(Xr), expected.predict(X), exact)
    assert model.score(Xr, yr) == same_score(expected.score(X, y), exact)
    model.partial_fit(Xr, yr)
    expected.partial_fit(X, y)
    assert_same_fit(model, expected, exact)


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
@pytest.mark.parametrize("file_dtype", [np.float32, np.float64, np.int32], ids=["f32", "f64", "i32"])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("k", [None, 2], ids=["y1d", "k2"])
def test_memmaps_work(tmp_path, Estimator, file_dtype, order, k):
    X, y = data(k=k)
    X, y = (10 * X).astype(file_dtype), (10 * y).astype(file_dtype)
    for name, a in (("X", X), ("y", y)):
        m = np.memmap(tmp_path / name, dtype=file_dtype, mode="w+", shape=a.shape, order=order)
        m[...] = a
        m.flush()
        del m
    Xm = np.memmap(tmp_path / "X", dtype=file_dtype, mode="r", shape=X.shape, order=order)
    ym = np.memmap(tmp_path / "y", dtype=file_dtype, mode="r", shape=y.shape, order=order)
    assert not Xm.flags.writeable and not ym.flags.writeable
    train_dtype = np.float32 if file_dtype == np.float32 else np.float64
    Xc = np.ascontiguousarray(X, dtype=train_dtype)
    yc = y.astype(train_dtype)
    expected = new(Estimator).fit(Xc, yc)
    model = new(Estimator).fit(Xm, ym)
    exact = order != "F" or file_dtype != train_dtype  # a converted X is C-ordered
    assert_same_fit(model, expected, exact)
    prediction = model.predict(Xm)
    assert type(prediction) is np.ndarray  # a plain array, not a view of the file
    assert_same_values(prediction, expected.predict(Xc), exact)
    assert model.score(Xm, ym) == same_score(expected.score(Xc, yc), exact)
    assert_same_values(new(Estimator).partial_fit(Xm, ym).coef_,
                       new(Estimator).partial_fit(Xc, yc).coef_, exact)
    # The files are untouched.
    np.testing.assert_array_equal(np.fromfile(tmp_path / "X", dtype=file_dtype),
                                  np.ravel(X, order=order))
    np.testing.assert_array_equal(np.fromfile(tmp_path / "y", dtype=file_dtype),
                                  np.ravel(y, order=order))
