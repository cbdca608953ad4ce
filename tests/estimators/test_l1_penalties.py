"""penalty="l1" and "elasticnet" (issue 13): per sample, scikit-learn's cumulative
truncation, update for update against SGDRegressor itself and its NumPy twin; for GD and
mini-batches, the proximal step, whose coefficients are exactly zero where the penalty
wins. float64, fixed order."""
import numpy as np
import pytest

import linreg
from linreg import reference

sklearn_linear = pytest.importorskip("sklearn.linear_model")


def problem(n=80, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = np.array([2.0, -1.5, 0.0, 0.0, 0.7, 0.0])[:d]
    return X, X @ w + 0.5 + 0.3 * rng.standard_normal(n)


CASES = {
    "l1-constant": dict(penalty="l1", alpha=0.05),
    "elasticnet-invscaling": dict(penalty="elasticnet", alpha=0.04, l1_ratio=0.4,
                                  lr_schedule="invscaling", power_t=0.3),
    "l1-optimal": dict(penalty="l1", alpha=1.0, lr_schedule="optimal"),
    "elasticnet-constant": dict(penalty="elasticnet", alpha=0.1, l1_ratio=0.8),
}


@pytest.mark.parametrize("name", list(CASES))
def test_per_sample_sgd_follows_scikit_learn(name):
    params = CASES[name]
    X, y = problem()
    ours = linreg.SGDRegressor(lr=0.01, epochs=5, shuffle=False, **params).fit(X, y)
    theirs = sklearn_linear.SGDRegressor(
        penalty=params["penalty"], alpha=params["alpha"] / 2,
        l1_ratio=params.get("l1_ratio", 0.15), learning_rate=params.get("lr_schedule", "constant"),
        eta0=0.02, power_t=params.get("power_t", 0.25), max_iter=5, tol=None,
        shuffle=False).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_[0], rtol=1e-9)


@pytest.mark.parametrize("name", list(CASES))
def test_per_sample_sgd_follows_the_numpy_twin(name):
    params = dict(CASES[name])
    X, y = problem(seed=2)
    ours = linreg.SGDRegressor(lr=0.01, epochs=3, shuffle=False, **params).fit(X, y)
    w, b = np.zeros(X.shape[1]), np.zeros(1)
    losses, _, _, _ = reference.sgd_sklearn_rule(
        X, y, w, b, lr=0.01, epochs=3, penalty=params["penalty"], alpha=params["alpha"],
        l1_ratio=params.get("l1_ratio", 0.15), schedule=params.get("lr_schedule", "constant"),
        power_t=params.get("power_t", 0.25))
    np.testing.assert_allclose(ours.coef_, w, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.loss_curve_, losses, rtol=1e-9)


@pytest.mark.parametrize("batch_size", [None, 20])
def test_gd_and_mini_batches_take_the_proximal_step(batch_size):
    X, y = problem(n=80)
    lr, alpha = 0.05, 0.3
    if batch_size is None:
        model = linreg.GDRegressor(lr=lr, epochs=300, penalty="l1", alpha=alpha,
                                   method="fused").fit(X, y)
        batches = [np.arange(80)] * 300
    else:
        model = linreg.SGDRegressor(lr=lr, epochs=40, batch_size=batch_size, shuffle=False,
                                    penalty="l1", alpha=alpha).fit(X, y)
        batches = [np.arange(s, s + batch_size) for _ in range(40) for s in range(0, 80, 20)]
    w, b = np.zeros(X.shape[1]), 0.0
    for rows in batches:  # ISTA: a gradient step on the MSE, then soft thresholding
        r = X[rows] @ w + b - y[rows]
        w = w - lr * 2 / len(rows) * (X[rows].T @ r)
        b -= lr * 2 / len(rows) * r.sum()
        w = np.sign(w) * np.maximum(np.abs(w) - lr * alpha, 0.0)
    np.testing.assert_allclose(model.coef_, w, rtol=1e-9, atol=1e-12)
    assert (model.coef_ == 0).sum() >= 2  # the three zero weights: exactly zero, mostly
    np.testing.assert_array_equal(model.coef_ == 0, w == 0)


def test_gd_lasso_reaches_the_lasso_solution_with_lr_auto():
    X, y = problem(n=400)
    model = linreg.GDRegressor(penalty="l1", alpha=0.2, epochs=5000).fit(X, y)
    # The lasso optimality conditions: 2/n X^T r = -alpha sign(w) where w != 0, and
    # |2/n X^T r| <= alpha where w == 0.
    r = X @ model.coef_ + model.intercept_ - y
    g = 2 / len(y) * (X.T @ r)
    active = model.coef_ != 0
    np.testing.assert_allclose(g[active], -0.2 * np.sign(model.coef_[active]), atol=1e-4)
    assert (np.abs(g[~active]) <= 0.2 + 1e-4).all() and (~active).sum() >= 1


def test_momentum_with_an_l1_penalty_is_refused_without_nesterov():
    X, y = problem(n=20)
    with pytest.raises(ValueError, match="momentum=0.9 with penalty='l1'.*nesterov=True"):
        linreg.GDRegressor(lr=0.01, momentum=0.9, penalty="l1", alpha=0.1).fit(X, y)
    with pytest.raises(ValueError, match="needs batch_size > 1"):
        linreg.SGDRegressor(lr=0.01, momentum=0.9, nesterov=True, penalty="l1").fit(X, y)


@pytest.mark.parametrize("batch_size", [None, 16], ids=["gd", "batch16"])
@pytest.mark.parametrize("k", [None, 2], ids=["y1d", "k2"])
def test_nesterov_with_l1_is_fista_as_its_numpy_twin(batch_size, k):
    X, y = problem(n=64)
    Y = y if k is None else np.column_stack([y, -0.5 * y + X[:, 1]])
    params = dict(lr=0.02, momentum=0.8, nesterov=True, penalty="l1", alpha=0.15,
                  precondition=False)
    if batch_size is None:
        model = linreg.GDRegressor(epochs=40, method="fused", **params).fit(X, Y)
    else:
        model = linreg.SGDRegressor(epochs=8, batch_size=batch_size, shuffle=False,
                                    **params).fit(X, Y)
    W, b = np.zeros((6, 1 if k is None else 2)), np.zeros(1 if k is None else 2)
    losses = reference.fista_train(X, Y.reshape(64, -1), W, b, lr=0.02, momentum=0.8,
                                   l1=0.15, n_epochs=len(model.loss_curve_),
                                   batch_size=batch_size)
    np.testing.assert_allclose(model.loss_curve_, losses, rtol=1e-12)
    coef = W[:, 0] if k is None else W.T
    np.testing.assert_allclose(model.coef_, coef, rtol=1e-12, atol=1e-15)
    # The zeros of the proximal step are exact, in the published coefficients.
    assert (np.asarray(model.coef_) == 0).sum() >= 2
    np.testing.assert_array_equal(np.asarray(model.coef_) == 0, coef == 0)


def test_fista_reaches_the_lasso_solution_faster_than_ista():
    X, y = problem(n=400)
    X = X * [1.0, 3.0, 0.3, 1.0, 2.0, 0.5]  # an ill-conditioned problem
    lasso = sklearn_linear.Lasso(alpha=0.1 / 2, tol=1e-12, max_iter=100000).fit(X, y)
    errors = {}
    for name, extra in {"ista": {}, "fista": dict(momentum=0.9, nesterov=True)}.items():
        model = linreg.GDRegressor(lr=0.01, epochs=300, penalty="l1", alpha=0.1,
                                   precondition=False, **extra).fit(X, y)
        errors[name] = np.abs(model.coef_ - lasso.coef_).max()
    # 300 epochs at a step a fifth of the stable one: FISTA is at the solution, ISTA
    # still about 5e-3 away.
    assert errors["fista"] < 1e-7 and errors["ista"] > 1e-3


def test_fista_goes_on_across_chunks_and_warm_starts():
    X, y = problem(n=64, seed=3)
    params = dict(lr=0.02, momentum=0.8, nesterov=True, penalty="elasticnet", alpha=0.2,
                  l1_ratio=0.5)
    whole = linreg.GDRegressor(epochs=30, **params).fit(X, y)
    warm = linreg.GDRegressor(epochs=12, warm_start=True, **params).fit(X, y)
    warm.set_params(epochs=18).fit(X, y)
    np.testing.assert_allclose(warm.coef_, whole.coef_, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(warm.loss_curve_, whole.loss_curve_, rtol=1e-13)
    # A callback makes every epoch a compiled call of its own: the same trajectory.
    seen = linreg.GDRegressor(epochs=30, callback=lambda *a: False, **params).fit(X, y)
    np.testing.assert_array_equal(seen.coef_, whole.coef_)
