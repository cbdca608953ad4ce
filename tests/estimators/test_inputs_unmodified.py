"""Inputs are never modified (issue 6): X and y byte for byte after every kind of fit.

`snapshot` records an array's bytes, dtype, shape, strides and flags, and the bytes of the
whole buffer a view looks into (so a write into the gaps of a strided view counts too).
Every kind of training the estimators do is run on X and y, including the fits that fail,
and the snapshots before and after must be equal. (What the kernels may write:
../kernels/test_writes_only_outputs.py.)
"""
import warnings

import numpy as np
import pytest

import linreg
from _helpers import snapshot

N, D = 23, 5  # five blocks of four rows and a tail of three


def data(k=None, dtype=np.float64, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    X = scale * rng.standard_normal((N, D))
    W = rng.standard_normal((D,) if k is None else (D, k))
    y = X @ W + 0.5 + 0.1 * rng.standard_normal((N,) if k is None else (N, k))
    if np.dtype(dtype).kind in "iu":
        return np.round(10 * X).astype(dtype), np.round(10 * y).astype(dtype)
    return X.astype(dtype), y.astype(dtype)


def sgd(**params):
    return linreg.SGDRegressor(**{"epochs": 3, "random_state": 0, **params})


# (id, train(model_maker) -> runs fits on X, y; the expected exception or None)
def _fit(model):
    return lambda X, y: model().fit(X, y)


def _warm(model):
    def train(X, y):
        m = model(warm_start=True)
        m.fit(X, y)
        m.fit(X, y)
        return m
    return train


def _partial(model):
    def train(X, y):
        m = model()
        m.partial_fit(X, y)
        m.partial_fit(X, y)
        return m
    return train


def _fit_then_partial(model):
    def train(X, y):
        return model().fit(X, y).partial_fit(X, y)
    return train


def _fit_predict_score(model):
    def train(X, y):
        m = model().fit(X, y)
        m.predict(X)
        m.score(X, y)
        return m
    return train


def _with_callback_and_log(model):
    def train(X, y):
        return model(callback=lambda epoch, loss, m: m.predict(X) is None, log_every=1).fit(X, y)
    return train


def GD(**params):
    return linreg.GDRegressor(**{"epochs": 4, **params})


TRAININGS = {
    "gd-fit": _fit(GD),
    "gd-fit-tol": _fit(lambda **p: GD(tol=0.0, n_iter_no_change=1, epochs=50, **p)),
    "gd-warm-start": _warm(GD),
    "gd-partial-fit": _partial(GD),
    "gd-fit-then-partial": _fit_then_partial(GD),
    "gd-predict-score": _fit_predict_score(GD),
    "gd-callback-log": _with_callback_and_log(GD),
    "sgd-shuffled": _fit(sgd),
    "sgd-not-shuffled": _fit(lambda **p: sgd(shuffle=False, **p)),
    "sgd-batch-7-shuffled": _fit(lambda **p: sgd(batch_size=7, **p)),
    "sgd-batch-7-not-shuffled": _fit(lambda **p: sgd(batch_size=7, shuffle=False, **p)),
    "sgd-batch-n": _fit(lambda **p: sgd(batch_size=N, **p)),
    "sgd-warm-start": _warm(sgd),
    "sgd-partial-fit": _partial(sgd),
    "sgd-partial-fit-batch": _partial(lambda **p: sgd(batch_size=5, **p)),
    "sgd-fit-then-partial": _fit_then_partial(sgd),
    "sgd-predict-score": _fit_predict_score(sgd),
    "sgd-callback-log": _with_callback_and_log(sgd),
}
FAILING = {
    "gd-diverges": (_fit(lambda **p: GD(lr=1e3, epochs=1000, **p)), linreg.DivergenceError),
    "sgd-diverges": (_fit(lambda **p: sgd(lr=1e3, epochs=1000, **p)), linreg.DivergenceError),
    "sgd-batch-diverges": (_fit(lambda **p: sgd(lr=1e3, batch_size=4, epochs=1000, **p)),
                           linreg.DivergenceError),
    "partial-fit-diverges": (_partial(lambda **p: sgd(lr=1e3, **p)), linreg.DivergenceError),
    "bad-lr": (_fit(lambda **p: GD(lr=-1.0, **p)), ValueError),
    "bad-epochs": (_fit(lambda **p: sgd(epochs=0, **p)), ValueError),
    "bad-batch-size": (_fit(lambda **p: sgd(batch_size=N + 1, **p)), ValueError),
    "bad-callback": (_fit(lambda **p: GD(callback=1, **p)), TypeError),
    "callback-raises": (_fit(lambda **p: GD(callback=lambda e, l, m: 1 / 0, **p)),
                        ZeroDivisionError),
}


def inputs(dtype, k, layout):
    """(X, y) in the given dtype and layout; y is C-ordered unless the layout is odd."""
    X, y = data(k=k, dtype=dtype)
    if layout == "fortran":
        X = np.asfortranarray(X)
    elif layout == "strided":
        big = np.zeros((N, 2 * D), dtype=X.dtype)
        big[:, 1::2] = X
        X = big[:, 1::2]
        bigy = np.zeros((2 * N,) + y.shape[1:], dtype=y.dtype)
        bigy[::2] = y
        y = bigy[::2]
    elif layout == "negative":
        X = X[::-1].copy()[::-1]
        y = y[::-1].copy()[::-1]
    elif layout == "readonly":
        X.flags.writeable = False
        y.flags.writeable = False
    elif layout == "list":
        X, y = X.tolist(), y.tolist()
    return X, y


def run_and_compare(train, X, y, expected_error=None):
    before = (snapshot(X), snapshot(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if expected_error is None:
            train(X, y)
        else:
            with pytest.raises(expected_error):
                train(X, y)
    assert snapshot(X) == before[0], "X was modified"
    assert snapshot(y) == before[1], "y was modified"


CASES = [
    ("float64", None, "C"), ("float64", 2, "C"), ("float32", None, "C"), ("float32", 3, "C"),
    ("int64", None, "C"), ("int32", 2, "C"), ("float64", 2, "fortran"), ("float32", None, "fortran"),
    ("float64", None, "strided"), ("float32", 2, "negative"), ("float64", 2, "readonly"),
    ("float64", None, "list"),
]


@pytest.mark.parametrize("training", list(TRAININGS))
@pytest.mark.parametrize(("dtype", "k", "layout"), CASES,
                         ids=[f"{t}-{'y1d' if k is None else f'k{k}'}-{lay}" for t, k, lay in CASES])
def test_fits_leave_x_and_y_unmodified(training, dtype, k, layout, capsys):
    X, y = inputs(dtype, k, layout)
    run_and_compare(TRAININGS[training], X, y)


@pytest.mark.parametrize("failing", list(FAILING))
@pytest.mark.parametrize(("dtype", "k", "layout"), CASES,
                         ids=[f"{t}-{'y1d' if k is None else f'k{k}'}-{lay}" for t, k, lay in CASES])
def test_failing_fits_leave_x_and_y_unmodified(failing, dtype, k, layout):
    train, error = FAILING[failing]
    X, y = inputs(dtype, k, layout)
    if failing.endswith("diverges"):
        X = (np.asarray(X) * 1e3).astype(np.asarray(X).dtype)
        if layout == "readonly":
            X.flags.writeable = False
    run_and_compare(train, X, y, error)


def test_the_snapshot_sees_a_write_into_a_gap_of_a_strided_view():
    # The comparison must be able to fail: a write the view itself cannot see is caught.
    big = np.zeros((4, 6))
    view = big[:, ::2]
    before = snapshot(view)
    big[0, 1] = 1.0
    assert snapshot(view) != before
    flipped = np.zeros(3)
    before = snapshot(flipped)
    flipped.flags.writeable = False
    assert snapshot(flipped) != before


def test_fits_do_not_write_into_the_fitted_arrays_of_a_previous_fit():
    # warm_start and partial_fit start from the fitted weights: from a copy of them.
    X, y = data(k=2)
    for model in (GD(warm_start=True), sgd(warm_start=True)):
        model.fit(X, y)
        coef, intercept, curve = model.coef_, model.intercept_, model.loss_curve_
        kept = [a.copy() for a in (coef, intercept, curve)]
        model.fit(X, y)
        model.partial_fit(X, y)
        for a, b in zip((coef, intercept, curve), kept):
            np.testing.assert_array_equal(a, b)
        assert model.coef_ is not coef
