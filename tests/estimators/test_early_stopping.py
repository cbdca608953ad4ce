"""early_stopping and validation_fraction (issue 13): scikit-learn's validation split and
stopping rule, epoch for epoch against SGDRegressor itself, keeping the best weights."""
import warnings

import numpy as np
import pytest

import linreg
from _helpers import linear_data
from linreg._early_stopping import validation_split

sklearn_linear = pytest.importorskip("sklearn.linear_model")
sklearn_selection = pytest.importorskip("sklearn.model_selection")


def problem(n=400, d=5, seed=0, k=None):
    return linear_data(k=k, seed=seed, n=n, d=d, noise=0.5)


def sklearn_sgd(lr, epochs, patience, **params):
    return sklearn_linear.SGDRegressor(
        eta0=2 * lr, learning_rate=params.pop("lr_schedule", "constant"), penalty=None,
        shuffle=False, early_stopping=True, random_state=0, tol=1e-3,
        n_iter_no_change=patience, max_iter=epochs, **params)


@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.5])
@pytest.mark.parametrize("seed", [0, 7])
def test_the_split_is_scikit_learn_shuffle_split(fraction, seed):
    train, validation = validation_split(101, fraction, seed)
    splitter = sklearn_selection.ShuffleSplit(test_size=fraction, random_state=seed)
    their_train, their_validation = next(splitter.split(np.zeros((101, 1))))
    np.testing.assert_array_equal(train, np.sort(their_train))
    np.testing.assert_array_equal(validation, np.sort(their_validation))


CASES = {
    "constant": dict(lr=0.005),
    "invscaling": dict(lr=0.02, lr_schedule="invscaling", power_t=0.4),
    "weighted": dict(lr=0.005, weights=True),
    "fraction-0.3": dict(lr=0.005, validation_fraction=0.3),
}


@pytest.mark.parametrize("name", list(CASES))
def test_sgd_stops_at_scikit_learns_epoch_with_the_best_weights(name):
    params = dict(CASES[name])
    lr = params.pop("lr")
    X, y = problem()
    w = np.random.default_rng(1).uniform(0.5, 2.0, len(y)) if params.pop("weights", False) else None
    ours = linreg.SGDRegressor(lr=lr, shuffle=False, early_stopping=True, random_state=0,
                               tol=1e-3, n_iter_no_change=3, epochs=200, **params).fit(
        X, y, sample_weight=w)
    theirs = sklearn_sgd(lr, 200, 3, **params).fit(X, y, sample_weight=w)
    assert ours.n_iter_ == theirs.n_iter_
    assert len(ours.validation_scores_) == ours.n_iter_
    best_epoch = int(np.argmax(ours.validation_scores_)) + 1
    # scikit-learn keeps the last weights: trained for the best epoch's count, they are
    # the weights linreg kept.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its ConvergenceWarning at max_iter
        at_best = sklearn_sgd(lr, best_epoch, 10**6, **params).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.coef_, at_best.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, at_best.intercept_[0], rtol=1e-9)


def test_adaptive_divides_the_step_where_scikit_learn_does():
    X, y = problem(seed=2)
    ours = linreg.SGDRegressor(lr=0.02, shuffle=False, early_stopping=True, random_state=0,
                               lr_schedule="adaptive", n_iter_no_change=2, epochs=60).fit(X, y)
    theirs = sklearn_sgd(0.02, 60, 2, lr_schedule="adaptive").fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ > 2


@pytest.mark.parametrize("Estimator", [linreg.GDRegressor, linreg.SGDRegressor])
def test_the_model_holds_the_best_epochs_weights(Estimator):
    X, y = problem(seed=3)
    # A step too long for the validation rows to keep improving: the scores go down.
    model = Estimator(lr=0.3 if Estimator is linreg.GDRegressor else 0.05, epochs=50,
                      early_stopping=True, random_state=4, n_iter_no_change=4).fit(X, y)
    _, validation = validation_split(len(y), 0.1, 4)
    assert model.best_validation_score_ == max(model.validation_scores_)
    assert model.score(X[validation], y[validation]) == pytest.approx(
        model.best_validation_score_, rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k", [None, 2], ids=["y1d", "k2"])
def test_gd_trains_on_the_other_rows_and_scores_every_epoch(dtype, k):
    X, y = problem(n=120, seed=5, k=k)
    X, y = X.astype(dtype), y.astype(dtype)
    model = linreg.GDRegressor(lr=0.05, epochs=12, early_stopping=True, random_state=6,
                               tol=-1.0).fit(X, y)  # tol < 0: never "no improvement"
    train, validation = validation_split(120, 0.1, 6)
    assert model.n_iter_ == 12
    for epochs, score in enumerate(model.validation_scores_, start=1):
        alone = linreg.GDRegressor(lr=0.05, epochs=epochs).fit(X[train], y[train])
        rtol = 1e-12 if dtype == np.float64 else 1e-5
        assert alone.score(X[validation], y[validation]) == pytest.approx(score, rel=rtol)


def test_defaults_stop_early_on_raw_data():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(3000, 4)) * [1.0, 50.0, 0.02, 3.0] + [0.0, 200.0, 1.0, -4.0]
    y = X @ [1.0, 0.02, 30.0, -2.0] + 3.0 + rng.standard_normal(3000)
    for model in (linreg.GDRegressor(early_stopping=True),
                  linreg.SGDRegressor(early_stopping=True, random_state=0)):
        model.fit(X, y)
        assert model.n_iter_ < 100
        assert model.best_validation_score_ > 0.99 * linreg.GDRegressor().fit(X, y).score(X, y)


def test_without_early_stopping_there_are_no_validation_scores():
    X, y = problem(n=60)
    model = linreg.GDRegressor(lr=0.05, epochs=5, early_stopping=True).fit(X, y)
    assert hasattr(model, "validation_scores_")
    model.set_params(early_stopping=False).fit(X, y)
    assert not hasattr(model, "validation_scores_")
    assert not hasattr(model, "best_validation_score_")


def test_the_callback_still_runs_every_epoch():
    X, y = problem(n=60)
    seen = []
    linreg.SGDRegressor(lr=0.005, epochs=8, early_stopping=True, random_state=0,
                        tol=-1.0, callback=lambda epoch, loss, m: seen.append(epoch)).fit(X, y)
    assert seen == list(range(1, 9))


@pytest.mark.parametrize("params, error, message", [
    (dict(validation_fraction=0.0), ValueError, "validation_fraction"),
    (dict(validation_fraction=1.0), ValueError, "validation_fraction"),
    (dict(validation_fraction=-0.2), ValueError, "validation_fraction"),
    (dict(validation_fraction="a"), TypeError, "validation_fraction"),
    (dict(early_stopping="yes"), TypeError, "early_stopping"),
    (dict(n_samples=1), ValueError, "both need at least one"),
])
@pytest.mark.parametrize("Estimator", [linreg.GDRegressor, linreg.SGDRegressor])
def test_bad_settings_are_refused_by_name(Estimator, params, error, message):
    params = {"early_stopping": True, **params}
    n = params.pop("n_samples", 20)
    X, y = problem(n=20)
    model = Estimator(lr=0.01, epochs=3, **params)
    with pytest.raises(error, match=message):
        model.fit(X[:n], y[:n])
    assert not hasattr(model, "coef_")


def test_zero_weights_on_every_validation_row_are_refused():
    X, y = problem(n=50)
    _, validation = validation_split(50, 0.1, 0)
    w = np.ones(50)
    w[validation] = 0.0
    with pytest.raises(ValueError, match="validation rows are all zero"):
        linreg.GDRegressor(early_stopping=True, random_state=0).fit(X, y, sample_weight=w)
