"""What a callback sees, and the warning for a fit that blows up without overflowing
(issue 10)."""
import warnings

import numpy as np
import pytest

import linreg


def problem(n=100, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)


@pytest.mark.parametrize("Estimator", [linreg.GDRegressor, linreg.SGDRegressor])
@pytest.mark.parametrize("k", [None, 2], ids=["y1d", "k2"])
def test_callback_sees_a_snapshot_that_training_does_not_overwrite(Estimator, k):
    X, y = problem()
    if k:
        y = np.column_stack([y, -y])
    history = []

    def keep(epoch, loss, model):
        history.append((model.coef_, model.intercept_, model.loss_curve_, loss))

    model = Estimator(lr=0.01, epochs=5, callback=keep).fit(X, y)
    coefs = [h[0] for h in history]
    # Each epoch's coefficients are its own: later epochs did not write into them.
    assert all(not np.array_equal(a, b) for a, b in zip(coefs, coefs[1:]))
    np.testing.assert_array_equal(coefs[-1], model.coef_)
    assert not np.shares_memory(coefs[-1], model.coef_)
    if k:
        intercepts = [h[1] for h in history]
        assert all(not np.array_equal(a, b) for a, b in zip(intercepts, intercepts[1:]))
    for epoch, (_, _, curve, loss) in enumerate(history, start=1):
        assert len(curve) == epoch and curve[-1] == loss
    np.testing.assert_array_equal(history[-1][2], model.loss_curve_)


@pytest.mark.parametrize("Estimator", [linreg.GDRegressor, linreg.SGDRegressor])
def test_a_finite_blow_up_warns(Estimator):
    X, y = problem()
    # GD is stable up to lr = 1 / lambda_max(X^T X / n); a little above it the loss grows
    # by orders of magnitude in a few dozen epochs without overflowing.
    lam = np.linalg.eigvalsh(np.cov(X.T, bias=True) + np.outer(X.mean(0), X.mean(0))).max()
    if Estimator is linreg.GDRegressor:
        model = Estimator(lr=1.3 / lam, epochs=60, method="fused")
    else:  # per-sample SGD: stable below about 1 / |x|^2, here ~0.2
        model = Estimator(lr=0.25, epochs=10, shuffle=False)
    with pytest.warns(linreg.ConvergenceWarning, match="the loss grew from"):
        model.fit(X, y)
    assert np.isfinite(model.coef_).all() and model.score(X, y) < -100


def test_convergence_warning_is_a_user_warning_and_sklearns_when_loaded():
    assert issubclass(linreg.ConvergenceWarning, UserWarning)
    sklearn_exceptions = pytest.importorskip("sklearn.exceptions")
    X, y = problem()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        linreg.GDRegressor(lr=5.0, epochs=40, method="fused").fit(X, y)
    assert any(issubclass(w.category, sklearn_exceptions.ConvergenceWarning) for w in caught)


@pytest.mark.parametrize("Estimator", [linreg.GDRegressor, linreg.SGDRegressor])
def test_a_converging_fit_does_not_warn(Estimator):
    X, y = problem()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Estimator(lr=0.01, epochs=50).fit(X, y)


def test_explicit_gram_past_its_limit_is_refused_before_any_allocation():
    X = np.zeros((2, 8193), dtype=np.float32)
    with pytest.raises(ValueError, match="8192 features"):
        linreg.GDRegressor(method="gram", epochs=2).fit(X, np.zeros(2, dtype=np.float32))
