"""linreg.reference.sgd_sklearn_rule, the NumPy twin of scikit-learn's per-sample SGD in
linreg's units (its eta is 2 lr, its alpha is alpha / 2, its tol is tol / 2), against
scikit-learn itself, trajectory for trajectory: every penalty, schedule, averaging and
sample weights, float64, fixed order. The compiled rules will be held to this twin."""
import numpy as np
import pytest

from linreg import reference

sklearn_linear = pytest.importorskip("sklearn.linear_model")


def problem(n=80, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + 0.5 + 0.3 * rng.standard_normal(n)
    return X, y


CASES = {
    "l2-constant": dict(penalty="l2", alpha=0.01, schedule="constant"),
    "l1-constant": dict(penalty="l1", alpha=0.05, schedule="constant"),
    "elasticnet-invscaling": dict(penalty="elasticnet", alpha=0.02, l1_ratio=0.4,
                                  schedule="invscaling", power_t=0.3),
    "l2-optimal": dict(penalty="l2", alpha=2.0, schedule="optimal"),
    "none-invscaling-average": dict(schedule="invscaling", average=1),
    "l2-constant-average-from-50": dict(penalty="l2", alpha=0.01, average=50),
    "l1-optimal-average": dict(penalty="l1", alpha=1.0, schedule="optimal", average=1),
    "weighted-elasticnet": dict(penalty="elasticnet", alpha=0.02, sample_weight=True),
}


@pytest.mark.parametrize("name", list(CASES))
def test_the_twin_follows_scikit_learn(name):
    case = dict(CASES[name])
    X, y = problem()
    lr, epochs = 0.01, 4
    weights = None
    if case.pop("sample_weight", False):
        weights = np.random.default_rng(1).uniform(0.2, 2.0, len(y))
    theirs = sklearn_linear.SGDRegressor(
        penalty=case.get("penalty"), alpha=case.get("alpha", 0.0001) / 2,
        l1_ratio=case.get("l1_ratio", 0.15), learning_rate=case.get("schedule", "constant"),
        eta0=2 * lr, power_t=case.get("power_t", 0.25), average=case.get("average", 0) or False,
        max_iter=epochs, tol=None, shuffle=False,
    ).fit(X, y, sample_weight=weights)
    w, b = np.zeros(X.shape[1]), np.zeros(1)
    _, w_avg, b_avg, _ = reference.sgd_sklearn_rule(X, y, w, b, lr=lr, epochs=epochs,
                                                    sample_weight=weights, **case)
    ours_w = w if w_avg is None else w_avg
    ours_b = b if b_avg is None else b_avg
    np.testing.assert_allclose(ours_w, theirs.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours_b, theirs.intercept_, rtol=1e-9, atol=1e-12)


def test_adaptive_divides_the_step_where_scikit_learn_does():
    X, y = problem(n=60)
    lr, tol = 0.05, 1e-3
    theirs = sklearn_linear.SGDRegressor(learning_rate="adaptive", eta0=2 * lr, penalty=None,
                                         max_iter=40, tol=tol, n_iter_no_change=3,
                                         shuffle=False).fit(X, y)
    w, b = np.zeros(X.shape[1]), np.zeros(1)
    _, _, _, epochs = reference.sgd_sklearn_rule(X, y, w, b, lr=lr, epochs=40,
                                                 schedule="adaptive", tol=2 * tol,
                                                 n_iter_no_change=3)
    assert epochs == theirs.n_iter_
    np.testing.assert_allclose(w, theirs.coef_, rtol=1e-9)
    np.testing.assert_allclose(b, theirs.intercept_, rtol=1e-9)


def test_optimal_t0_is_scikit_learns():
    # At t = 1 the optimal schedule's step is scikit-learn's initial eta0 (for alpha / 2),
    # halved into linreg's units.
    alpha = 0.01
    t0 = reference.sklearn_optimal_t0(alpha)
    typw = np.sqrt(1.0 / np.sqrt(alpha / 2))
    assert 1.0 / ((alpha / 2) * t0) == pytest.approx(typw)
