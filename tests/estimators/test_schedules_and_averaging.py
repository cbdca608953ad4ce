"""lr_schedule ("constant", "invscaling", "optimal", "adaptive"), power_t and average:
scikit-learn's semantics (issue 13), per-sample SGD against SGDRegressor itself and its
NumPy twin, GD and mini-batches against NumPy loops, float64, fixed order."""
import warnings

import numpy as np
import pytest

import linreg
from linreg import reference

sklearn_linear = pytest.importorskip("sklearn.linear_model")


def problem(n=80, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, X @ rng.standard_normal(d) + 0.5 + 0.3 * rng.standard_normal(n)


CASES = {
    "invscaling": dict(lr_schedule="invscaling", power_t=0.3),
    "optimal": dict(lr_schedule="optimal", alpha=2.0, penalty="l2"),
    "constant-average": dict(average=True),
    "invscaling-average-from-50": dict(lr_schedule="invscaling", average=50),
    "l2-invscaling-average": dict(lr_schedule="invscaling", penalty="l2", alpha=0.02,
                                  average=True),
}


def sklearn_for(params, lr, epochs, **extra):
    return sklearn_linear.SGDRegressor(
        penalty=params.get("penalty"), alpha=params.get("alpha", 0.0001) / 2,
        learning_rate=params.get("lr_schedule", "constant"), eta0=2 * lr,
        power_t=params.get("power_t", 0.25), average=params.get("average", False),
        max_iter=epochs, shuffle=False, **extra)


@pytest.mark.parametrize("name", list(CASES))
def test_per_sample_sgd_follows_scikit_learn(name):
    params = CASES[name]
    X, y = problem()
    ours = linreg.SGDRegressor(lr=0.01, epochs=4, shuffle=False, **params).fit(X, y)
    theirs = sklearn_for(params, 0.01, 4, tol=None).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_[0], rtol=1e-9)
    assert ours.t_ == 4 * len(y)


@pytest.mark.parametrize("name", list(CASES))
def test_per_sample_sgd_follows_the_numpy_twin(name):
    params = dict(CASES[name])
    X, y = problem(seed=1)
    ours = linreg.SGDRegressor(lr=0.01, epochs=3, shuffle=False, **params).fit(X, y)
    average = params.pop("average", False)
    w, b = np.zeros(X.shape[1]), np.zeros(1)
    losses, w_avg, b_avg, _ = reference.sgd_sklearn_rule(
        X, y, w, b, lr=0.01, epochs=3, penalty=params.get("penalty"),
        alpha=params.get("alpha", 0.0001), schedule=params.get("lr_schedule", "constant"),
        power_t=params.get("power_t", 0.25), average=int(average))
    np.testing.assert_allclose(ours.coef_, w if w_avg is None else w_avg, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.loss_curve_, losses, rtol=1e-9)


def test_adaptive_divides_the_step_where_scikit_learn_does():
    X, y = problem(n=60)
    ours = linreg.SGDRegressor(lr=0.05, epochs=40, shuffle=False, lr_schedule="adaptive",
                               tol=2e-3, n_iter_no_change=3).fit(X, y)
    theirs = sklearn_linear.SGDRegressor(learning_rate="adaptive", eta0=0.1, penalty=None,
                                         max_iter=40, tol=1e-3, n_iter_no_change=3,
                                         shuffle=False).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9)


def test_partial_fit_averages_across_calls_as_scikit_learn():
    X, y = problem(n=90)
    ours = linreg.SGDRegressor(lr=0.01, shuffle=False, average=True,
                               lr_schedule="invscaling")
    theirs = sklearn_for({"average": True, "lr_schedule": "invscaling"}, 0.01, 1, tol=None)
    for chunk in np.array_split(np.arange(90), 3):
        ours.partial_fit(X[chunk], y[chunk])
        theirs.partial_fit(X[chunk], y[chunk])
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_[0], rtol=1e-9)


@pytest.mark.parametrize("batch_size", [None, 16])
def test_gd_and_mini_batches_decay_the_step_per_update(batch_size):
    X, y = problem(n=64)
    power_t, lr = 0.5, 0.05
    if batch_size is None:
        model = linreg.GDRegressor(lr=lr, epochs=30, lr_schedule="invscaling", power_t=power_t,
                                   method="fused").fit(X, y)
        batches = [np.arange(64)] * 30
    else:
        model = linreg.SGDRegressor(lr=lr, epochs=5, batch_size=batch_size, shuffle=False,
                                    lr_schedule="invscaling", power_t=power_t).fit(X, y)
        batches = [np.arange(s, s + batch_size) for _ in range(5) for s in range(0, 64, 16)]
    w, b = np.zeros(X.shape[1]), 0.0
    for t, rows in enumerate(batches, start=1):
        r = X[rows] @ w + b - y[rows]
        step = lr / t**power_t * 2 / len(rows)
        w -= step * (X[rows].T @ r)
        b -= step * r.sum()
    np.testing.assert_allclose(model.coef_, w, rtol=1e-10)
    np.testing.assert_allclose(model.intercept_, b, rtol=1e-10)


@pytest.mark.parametrize("Estimator", [linreg.GDRegressor, linreg.SGDRegressor])
def test_averaging_gd_is_the_mean_of_its_iterates(Estimator):
    X, y = problem(n=50)
    extra = {"shuffle": False, "batch_size": 50} if Estimator is linreg.SGDRegressor else {}
    averaged = Estimator(lr=0.05, epochs=10, average=3, **extra).fit(X, y)
    iterates = [Estimator(lr=0.05, epochs=e, **extra).fit(X, y).coef_ for e in range(3, 11)]
    np.testing.assert_allclose(averaged.coef_, np.mean(iterates, axis=0), rtol=1e-10)


BAD = [
    ({"lr_schedule": "cosine"}, ValueError, "lr_schedule must be one of"),
    ({"lr_schedule": 3}, TypeError, "lr_schedule must be one of"),
    ({"lr_schedule": "optimal", "alpha": 0.0}, ValueError, "needs alpha > 0"),
    ({"lr_schedule": "adaptive"}, ValueError, "needs a tol"),
    ({"power_t": float("nan")}, ValueError, "power_t must be a finite number"),
    ({"average": 0}, ValueError, "average must be"),
    ({"average": 1.5}, TypeError, "average must be True, False or a positive int"),
]


@pytest.mark.parametrize(("params", "error", "message"), BAD)
@pytest.mark.parametrize("Estimator", [linreg.GDRegressor, linreg.SGDRegressor])
def test_bad_schedule_settings_are_refused_by_name(Estimator, params, error, message):
    X, y = problem(n=20)
    with pytest.raises(error, match=message):
        Estimator(**params).fit(X, y)


def test_auto_lr_composes_with_a_schedule():
    X, y = problem(n=500)
    X = X * [1.0, 100.0, 0.01, 10.0, 1.0] + [0.0, 1e3, 5.0, 0.0, 0.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linreg.ConvergenceWarning)
        model = linreg.SGDRegressor(random_state=0, lr_schedule="invscaling").fit(X, y)
    assert np.isfinite(model.coef_).all() and model.score(X, y) > 0.8
