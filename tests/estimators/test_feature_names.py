"""feature_names_in_ from data frames, and column names checked as scikit-learn does
(issue 12, "scikit-learn conventions").

fit (and a first partial_fit) on a data frame whose column names are all strings sets
feature_names_in_ (an object ndarray of str); predict, score and a later partial_fit
refuse X whose names differ or are reordered (ValueError in scikit-learn's words), and
warn (UserWarning) when only one of X and the fit had names. Names that are not all
strings (pandas' default integer labels) set nothing; names mixing strings and other
types are a TypeError, as in scikit-learn. pandas, polars and scikit-learn are test
extras: their tests skip without them.
"""
import warnings

import numpy as np
import pytest

import linreg

ESTIMATORS = [linreg.GDRegressor, linreg.SGDRegressor]
EST_IDS = ["GD", "SGD"]
NAMES = ["age", "bmi", "bp"]


def new(Estimator, **params):
    if Estimator is linreg.SGDRegressor:
        params.setdefault("random_state", 0)
    return Estimator(lr=0.05, epochs=5, **params)


def data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, len(NAMES)))
    return X, X @ np.array([1.0, -2.0, 0.5]) + 0.25


class Frame:
    """A minimal data frame by duck typing: `columns` and `__array__`, nothing else."""

    def __init__(self, values, columns):
        self.values = np.asarray(values)
        self.columns = list(columns)

    def __array__(self, dtype=None, copy=None):
        return self.values if dtype is None else self.values.astype(dtype)


def frame(kind, X, columns):
    if kind == "pandas":
        pd = pytest.importorskip("pandas")
        return pd.DataFrame(X, columns=columns)
    if kind == "polars":
        pl = pytest.importorskip("polars")
        return pl.DataFrame({name: X[:, j] for j, name in enumerate(columns)})
    return Frame(X, columns)


FRAMES = ["pandas", "polars", "duck"]


def caught(call, *args):
    """(result, [warnings]) of call(*args), every warning recorded."""
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        result = call(*args)
    return result, records


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
@pytest.mark.parametrize("kind", FRAMES)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_fit_on_a_frame_sets_feature_names_in_(Estimator, kind, method):
    X, y = data()
    model, records = caught(getattr(new(Estimator), method), frame(kind, X, NAMES), y)
    assert not records, [str(r.message) for r in records]
    names = model.feature_names_in_
    assert isinstance(names, np.ndarray) and names.dtype == object and names.shape == (3,)
    assert list(names) == NAMES and all(type(name) is str for name in names)
    # The same model as on the ndarray: names change nothing else.
    plain = getattr(new(Estimator), method)(X, y)
    # A pandas frame is a Fortran-ordered array, read in place: equal up to rounding.
    np.testing.assert_allclose(model.coef_, plain.coef_, rtol=1e-10, atol=1e-12)
    assert not hasattr(plain, "feature_names_in_")
    _, records = caught(model.predict, frame(kind, X, NAMES))
    assert not records, [str(r.message) for r in records]


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
def test_names_that_are_not_all_strings_set_nothing(Estimator):
    pd = pytest.importorskip("pandas")
    X, y = data()
    for columns in (None, [0, 1, 2], [("a", 1), ("a", 2), ("b", 1)]):
        df = pd.DataFrame(X, columns=pd.MultiIndex.from_tuples(columns)
                          if columns and isinstance(columns[0], tuple) else columns)
        model, records = caught(new(Estimator).fit, df, y)
        assert not hasattr(model, "feature_names_in_") and not records
        # No names at fit, none now: nothing to warn about either.
        assert not caught(model.predict, df)[1]


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_names_mixing_strings_and_other_types_are_refused(Estimator, method):
    pd = pytest.importorskip("pandas")
    X, y = data()
    model = new(Estimator)
    with pytest.raises(TypeError, match=r"^Feature names are only supported if all input "
                       r"features have string names, but your input has \['int', 'str'\] "
                       r"as feature name / column name types\. .*astype\(str\)"):
        getattr(model, method)(pd.DataFrame(X, columns=["a", 1, "b"]), y)
    assert not hasattr(model, "coef_")


def check_messages():
    """(make bad columns from NAMES, the message after scikit-learn's first line)."""
    return [
        pytest.param(lambda: NAMES[::-1],
                     "Feature names must be in the same order as they were in fit.\n",
                     id="reordered"),
        pytest.param(lambda: ["age", "BMI", "bp"],
                     "Feature names unseen at fit time:\n- BMI\n"
                     "Feature names seen at fit time, yet now missing:\n- bmi\n",
                     id="renamed"),
        pytest.param(lambda: NAMES[:2],
                     "Feature names seen at fit time, yet now missing:\n- bp\n",
                     id="fewer"),
        pytest.param(lambda: NAMES + ["sex"],
                     "Feature names unseen at fit time:\n- sex\n", id="more"),
    ]


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
@pytest.mark.parametrize("kind", FRAMES)
@pytest.mark.parametrize(("columns", "detail"), check_messages())
@pytest.mark.parametrize("method", ["predict", "score", "partial_fit"])
def test_other_column_names_are_refused_in_scikit_learns_words(Estimator, kind, columns,
                                                              detail, method):
    X, y = data()
    model = new(Estimator).fit(frame(kind, X, NAMES), y)
    before = model.coef_.copy(), model.loss_curve_.copy()
    bad_columns = columns()
    X_bad = np.resize(X, (len(X), len(bad_columns)))  # names are checked before shapes
    args = (frame(kind, X_bad, bad_columns),) + (() if method == "predict" else (y,))
    with pytest.raises(ValueError) as info:
        getattr(model, method)(*args)
    assert str(info.value) == ("The feature names should match those that were passed "
                               "during fit.\n" + detail)
    np.testing.assert_array_equal(model.coef_, before[0])  # partial_fit changed nothing
    np.testing.assert_array_equal(model.loss_curve_, before[1])
    assert list(model.feature_names_in_) == NAMES


def test_long_lists_of_names_are_cut_after_five():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 8))
    model = linreg.GDRegressor(lr=0.05, epochs=3).fit(
        pd.DataFrame(X, columns=[f"f{j}" for j in range(8)]), X[:, 0])
    with pytest.raises(ValueError) as info:
        model.predict(pd.DataFrame(X, columns=[f"g{j}" for j in range(8)]))
    assert str(info.value) == (
        "The feature names should match those that were passed during fit.\n"
        "Feature names unseen at fit time:\n- g0\n- g1\n- g2\n- g3\n- g4\n- ...\n"
        "Feature names seen at fit time, yet now missing:\n- f0\n- f1\n- f2\n- f3\n- f4\n"
        "- ...\n")


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
@pytest.mark.parametrize("method", ["predict", "score", "partial_fit"])
def test_warns_when_fitted_with_names_and_given_none(Estimator, method):
    pd = pytest.importorskip("pandas")
    X, y = data()
    model = new(Estimator).fit(pd.DataFrame(X, columns=NAMES), y)
    args = (X,) + (() if method == "predict" else (y,))
    _, records = caught(getattr(model, method), *args)
    assert [(r.category, str(r.message)) for r in records] == [
        (UserWarning, f"X does not have valid feature names, but {Estimator.__name__} was "
                      "fitted with feature names")]
    assert records[0].filename == __file__  # attributed to the caller, not to linreg
    assert list(model.feature_names_in_) == NAMES  # partial_fit keeps them


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
@pytest.mark.parametrize("method", ["predict", "score", "partial_fit"])
def test_warns_when_fitted_without_names_and_given_some(Estimator, method):
    pd = pytest.importorskip("pandas")
    X, y = data()
    model = new(Estimator).fit(X, y)
    args = (pd.DataFrame(X, columns=NAMES),) + (() if method == "predict" else (y,))
    _, records = caught(getattr(model, method), *args)
    assert [(r.category, str(r.message)) for r in records] == [
        (UserWarning, f"X has feature names, but {Estimator.__name__} was fitted without "
                      "feature names")]
    assert records[0].filename == __file__
    assert not hasattr(model, "feature_names_in_")


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
def test_refit_replaces_or_removes_the_names(Estimator):
    pd = pytest.importorskip("pandas")
    X, y = data()
    model = new(Estimator).fit(pd.DataFrame(X, columns=NAMES), y)
    model.fit(pd.DataFrame(X, columns=["x", "y", "z"]), y)
    assert list(model.feature_names_in_) == ["x", "y", "z"]
    model.fit(X, y)
    assert not hasattr(model, "feature_names_in_")
    # warm_start continues the weights, but the names are those of the latest fit.
    model = new(Estimator, warm_start=True).fit(X, y)
    model.fit(pd.DataFrame(X, columns=NAMES), y)
    assert list(model.feature_names_in_) == NAMES


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
def test_a_failed_fit_keeps_the_previous_names(Estimator):
    pd = pytest.importorskip("pandas")
    X, y = data()
    model = new(Estimator).fit(pd.DataFrame(X, columns=NAMES), y)
    with pytest.raises(ValueError, match="y contains NaN"):
        model.fit(pd.DataFrame(X, columns=["x", "y", "z"]), np.full_like(y, np.nan))
    assert list(model.feature_names_in_) == NAMES
    with pytest.raises(ValueError, match="y contains NaN"):
        model.fit(X, np.full_like(y, np.nan))
    assert list(model.feature_names_in_) == NAMES
    unfitted = new(Estimator)
    with pytest.raises(ValueError, match="y contains NaN"):
        unfitted.fit(pd.DataFrame(X, columns=NAMES), np.full_like(y, np.nan))
    assert not hasattr(unfitted, "feature_names_in_")


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
def test_the_fitted_names_are_a_copy(Estimator):
    pd = pytest.importorskip("pandas")
    X, y = data()
    df = pd.DataFrame(X, columns=list(NAMES))
    model = new(Estimator).fit(df, y)
    df.columns = ["x", "y", "z"]  # renaming the caller's frame afterwards
    assert list(model.feature_names_in_) == NAMES


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
def test_scikit_learns_own_column_name_check(Estimator):
    """scikit-learn's check_dataframe_column_names_consistency, which check_estimator
    does not run for third-party estimators (scikit-learn runs it on its own)."""
    pytest.importorskip("pandas")
    pytest.importorskip("sklearn")
    from sklearn.utils.estimator_checks import check_dataframe_column_names_consistency

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Estimator .* does not inherit from")
        check_dataframe_column_names_consistency(Estimator.__name__, new(Estimator))


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
def test_names_agree_with_scikit_learns_linear_regression(Estimator):
    """The same data frames give the same names, warnings and errors as scikit-learn's."""
    pd = pytest.importorskip("pandas")
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LinearRegression

    X, y = data()
    cases = [pd.DataFrame(X, columns=NAMES), pd.DataFrame(X), X,
             pd.DataFrame(X, columns=NAMES[::-1]), pd.DataFrame(X, columns=["a", "b", "c"])]
    for fit_X in cases[:3]:
        ours, theirs = new(Estimator).fit(fit_X, y), LinearRegression().fit(fit_X, y)
        assert hasattr(ours, "feature_names_in_") == hasattr(theirs, "feature_names_in_")
        if hasattr(theirs, "feature_names_in_"):
            np.testing.assert_array_equal(ours.feature_names_in_, theirs.feature_names_in_)
        for predict_X in cases:
            outcomes = []
            for model in (ours, theirs):
                try:
                    _, records = caught(model.predict, predict_X)
                    outcomes.append([str(r.message).replace(type(model).__name__, "M")
                                     for r in records])
                except ValueError as exc:
                    outcomes.append(str(exc))
            assert outcomes[0] == outcomes[1]
