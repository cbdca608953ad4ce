"""The torch.optim.SGD options of both estimators (issue 13): momentum, dampening,
nesterov, penalty="l2" with alpha, fit_intercept, fit's coef_init / intercept_init, the
step state that warm_start and partial_fit carry (t_, the velocity), and a callback that
changes a parameter. Trajectories against torch itself: test_torch_parity.py."""
import warnings

import numpy as np
import pytest

import linreg
from linreg.exceptions import ConvergenceWarning, DivergenceError

ESTIMATORS = [linreg.GDRegressor, linreg.SGDRegressor]


def data(n=200, d=4, k=None, seed=0, offset=0.0, noise=0.1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.logspace(-1, 1, d) + offset
    W = rng.standard_normal((d,) if k is None else (d, k))
    return X, X @ W + 2.0 + noise * rng.standard_normal((n,) if k is None else (n, k))


# -- checks ----------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("params, error, match", [
    ({"momentum": -0.1}, ValueError, r"momentum must be in \[0, 1\), got -0.1"),
    ({"momentum": 1.0}, ValueError, r"momentum must be in \[0, 1\)"),
    ({"momentum": float("nan")}, ValueError, "momentum must be"),
    ({"momentum": "0.9"}, TypeError, "momentum must be a real number, got str"),
    ({"dampening": 1.5}, ValueError, r"dampening must be in \[0, 1\], got 1.5"),
    ({"dampening": True}, TypeError, "dampening must be a real number, got bool"),
    ({"nesterov": 1}, TypeError, "nesterov must be True or False"),
    ({"nesterov": True}, ValueError, "nesterov=True needs momentum > 0 and dampening=0"),
    ({"nesterov": True, "momentum": 0.9, "dampening": 0.1}, ValueError,
     "nesterov=True needs momentum > 0 and dampening=0"),
    ({"penalty": "l3"}, ValueError, "penalty must be None, 'l2', 'l1' or 'elasticnet', got 'l3'"),
    ({"penalty": "L1"}, ValueError, "penalty must be None, 'l2', 'l1' or 'elasticnet'"),
    ({"penalty": 2}, TypeError, "penalty must be None, 'l2', 'l1' or 'elasticnet', got int"),
    ({"l1_ratio": 1.5}, ValueError, r"l1_ratio must be in \[0, 1\]"),
    ({"l1_ratio": "x"}, TypeError, "l1_ratio must be a real number"),
    ({"alpha": -1.0}, ValueError, "alpha must be a finite number >= 0, got -1.0"),
    ({"alpha": np.inf}, ValueError, "alpha must be a finite number >= 0"),
    ({"alpha": None}, TypeError, "alpha must be a real number, got NoneType"),
    ({"fit_intercept": "no"}, TypeError, "fit_intercept must be True or False"),
])
def test_bad_options_are_refused_by_name(cls, params, error, match):
    X, y = data()
    model = cls(lr=0.01, epochs=2, **params)
    with pytest.raises(error, match=match):
        model.fit(X, y)
    assert not hasattr(model, "coef_")


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_the_new_parameters_round_trip_through_get_params(cls):
    model = cls(momentum=0.5, dampening=0.2, penalty="l2", alpha=0.3, fit_intercept=False)
    params = model.get_params()
    assert {name: params[name] for name in ("momentum", "dampening", "nesterov", "penalty",
                                            "alpha", "fit_intercept")} == {
        "momentum": 0.5, "dampening": 0.2, "nesterov": False, "penalty": "l2", "alpha": 0.3,
        "fit_intercept": False}
    assert cls(**params).get_params() == params


# -- fit_intercept ------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("lr", ["auto", 0.01])
@pytest.mark.parametrize("k", [None, 2])
def test_without_an_intercept_b_stays_where_it_starts(cls, lr, k):
    X, y = data(k=k)
    kwargs = {"random_state": 0} if cls is linreg.SGDRegressor else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = cls(lr=lr if lr == "auto" else 0.001, epochs=20, fit_intercept=False,
                    **kwargs).fit(X, y)
        assert np.all(model.intercept_ == 0.0)
        start = 1.5 if k is None else np.array([1.5, -0.25])
        model.fit(X, y, intercept_init=start)
    np.testing.assert_array_equal(model.intercept_, start)


#: How close to the least objective lr="auto" GD stops: the Gram target is 1e-6 of it;
#: over X the rule is "no improvement by 1e-8 of itself", which leaves more.
GAP = {"gram": 2e-6, "fused": 1e-4}


def objective(model, X, y, alpha=0.0):
    r = model.predict(X) - y
    return np.mean(r**2) + 0.5 * alpha * np.vdot(model.coef_, model.coef_)


@pytest.mark.parametrize("method", ["gram", "fused"])
def test_auto_without_an_intercept_reaches_the_least_squares_fit_through_the_origin(method):
    # Large feature means: a centred preconditioner would move b (or diverge); scaling
    # by the uncentred second moments converges to the fit without intercept.
    X, y = data(n=400, offset=5.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # it must converge, not warn
        model = linreg.GDRegressor(method=method, fit_intercept=False, epochs=20000).fit(X, y)
    expected = np.linalg.lstsq(X, y, rcond=None)[0]
    least = np.mean((X @ expected - y) ** 2)
    assert model.intercept_ == 0.0
    assert least <= objective(model, X, y) <= least * (1 + GAP[method])
    np.testing.assert_allclose(model.coef_, expected, rtol=0.01, atol=0.01)


def test_auto_sgd_without_an_intercept_is_near_the_fit_through_the_origin():
    X, y = data(n=2000, offset=5.0)
    model = linreg.SGDRegressor(fit_intercept=False, random_state=0).fit(X, y)
    expected = np.linalg.lstsq(X, y, rcond=None)[0]
    assert model.intercept_ == 0.0
    np.testing.assert_allclose(model.coef_, expected, rtol=0.02, atol=0.02)


# -- penalty="l2" -------------------------------------------------------------------------


def ridge(X, y, alpha, fit_intercept=True):
    """argmin mean((Xw + b - y)^2) + alpha/2 |w|^2 (one output)."""
    n = X.shape[0]
    if fit_intercept:
        Xc, yc = X - X.mean(axis=0), y - y.mean()
        w = np.linalg.solve(Xc.T @ Xc + 0.5 * n * alpha * np.eye(X.shape[1]), Xc.T @ yc)
        return w, y.mean() - X.mean(axis=0) @ w
    return np.linalg.solve(X.T @ X + 0.5 * n * alpha * np.eye(X.shape[1]), X.T @ y), 0.0


@pytest.mark.parametrize("method", ["gram", "fused"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_auto_gd_with_l2_reaches_the_ridge_solution(method, fit_intercept):
    X, y = data(n=300, offset=1.0)
    alpha = 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # it must converge, not warn
        model = linreg.GDRegressor(method=method, penalty="l2", alpha=alpha,
                                   fit_intercept=fit_intercept, epochs=20000).fit(X, y)
    w, b = ridge(X, y, alpha, fit_intercept)
    least = np.mean((X @ w + b - y) ** 2) + 0.5 * alpha * (w @ w)
    assert least <= objective(model, X, y, alpha) <= least * (1 + GAP[method])
    np.testing.assert_allclose(model.coef_, w, rtol=1e-2, atol=1e-3)
    # A penalty of this size moves the fit well away from least squares.
    assert np.abs(w - ridge(X, y, 0.0, fit_intercept)[0]).max() > 0.01


def test_numeric_gd_with_l2_reaches_the_ridge_solution_and_alpha_is_unused_without_it():
    X, y = data(n=300)
    model = linreg.GDRegressor(lr=0.003, epochs=20000, penalty="l2", alpha=0.5,
                               precondition=False, method="gram").fit(X, y)
    w, b = ridge(X, y, 0.5)
    np.testing.assert_allclose(model.coef_, w, rtol=1e-6)
    plain = linreg.GDRegressor(lr=0.003, epochs=50, alpha=0.5).fit(X, y)
    reference = linreg.GDRegressor(lr=0.003, epochs=50).fit(X, y)
    np.testing.assert_array_equal(plain.coef_, reference.coef_)


def test_auto_sgd_with_l2_is_near_the_ridge_solution():
    X, y = data(n=3000)
    model = linreg.SGDRegressor(penalty="l2", alpha=0.5, random_state=0).fit(X, y)
    w, b = ridge(X, y, 0.5)
    np.testing.assert_allclose(model.coef_, w, rtol=0.02, atol=0.02)


# -- coef_init, intercept_init -------------------------------------------------------------


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_fit_starts_from_coef_init_and_intercept_init(cls):
    X, y = data()
    w0, b0 = np.array([0.5, -1.0, 2.0, 0.25]), 3.0
    model = cls(lr=0.01, epochs=1, shuffle=False) if cls is linreg.SGDRegressor else cls(
        lr=0.01, epochs=1)
    model.set_params(batch_size=len(y)) if cls is linreg.SGDRegressor else None
    model.fit(X, y, coef_init=w0, intercept_init=b0)
    r = X @ w0 + b0 - y
    np.testing.assert_allclose(model.coef_, w0 - 0.01 * 2.0 / len(y) * (X.T @ r), rtol=1e-12)
    assert model.intercept_ == pytest.approx(b0 - 0.01 * 2.0 * r.mean(), rel=1e-12)
    assert model.loss_curve_[0] == pytest.approx(np.mean(r**2), rel=1e-12)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("kwargs, error, match", [
    ({"coef_init": np.zeros(3)}, ValueError, r"coef_init has shape \(3,\), but this X and y "
                                             r"need \(4,\)"),
    ({"coef_init": np.zeros((1, 4))}, ValueError, "coef_init has shape"),
    ({"intercept_init": np.zeros(2)}, ValueError, r"intercept_init has shape \(2,\)"),
    ({"coef_init": [0, 0, np.nan, 0]}, ValueError, "coef_init contains NaN or infinity"),
    ({"intercept_init": np.inf}, ValueError, "intercept_init contains NaN or infinity"),
    ({"coef_init": ["a"] * 4}, TypeError, "coef_init must hold real numbers"),
    ({"coef_init": [1e39, 0, 0, 0]}, ValueError, "coef_init holds values beyond the range "
                                                 "of float32"),
])
def test_bad_initial_values_are_refused_by_name(cls, kwargs, error, match):
    X, y = data()
    model = cls(lr=0.01, epochs=2)
    with pytest.raises(error, match=match):
        model.fit(X.astype(np.float32), y.astype(np.float32), **kwargs)
    assert not hasattr(model, "coef_")


def test_initial_values_are_not_modified_and_two_outputs_take_coef_shaped_init():
    X, Y = data(k=2)
    coef_init, intercept_init = np.ones((2, 4)), np.array([1.0, 2.0])
    kept = coef_init.copy(), intercept_init.copy()
    model = linreg.GDRegressor(lr=0.01, epochs=3).fit(X, Y, coef_init=coef_init,
                                                      intercept_init=intercept_init)
    np.testing.assert_array_equal(coef_init, kept[0])
    np.testing.assert_array_equal(intercept_init, kept[1])
    assert model.coef_.shape == (2, 4) and not np.shares_memory(model.coef_, coef_init)


# -- the step state across calls ----------------------------------------------------------


def momentum_model(cls, epochs, **extra):
    kwargs = dict(lr=0.002, epochs=epochs, momentum=0.9, nesterov=True, penalty="l2",
                  alpha=0.1, **extra)
    if cls is linreg.SGDRegressor:
        kwargs.update(shuffle=False, batch_size=16)
    return cls(**kwargs)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_warm_start_continues_the_velocity_and_t(cls):
    X, y = data()
    once = momentum_model(cls, 12).fit(X, y)
    twice = momentum_model(cls, 5, warm_start=True).fit(X, y)
    twice.set_params(epochs=7).fit(X, y)
    np.testing.assert_allclose(twice.coef_, once.coef_, rtol=1e-12)
    np.testing.assert_allclose(twice.loss_curve_, once.loss_curve_, rtol=1e-12)
    assert twice.t_ == once.t_ == 12 * (1 if cls is linreg.GDRegressor else 13)
    # Without warm_start, a fit starts afresh: t_ and velocity alike.
    again = momentum_model(cls, 5).fit(X, y)
    again.set_params(epochs=7).fit(X, y)
    assert again.t_ == 7 * (1 if cls is linreg.GDRegressor else 13)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_partial_fit_continues_the_velocity_and_t(cls):
    X, y = data()
    fitted = momentum_model(cls, 3).fit(X, y)
    streamed = momentum_model(cls, 1)
    for _ in range(3):
        streamed.partial_fit(X, y)
    np.testing.assert_allclose(streamed.coef_, fitted.coef_, rtol=1e-12)
    assert streamed.t_ == fitted.t_


def test_coef_init_starts_a_new_trajectory_even_with_warm_start():
    X, y = data()
    model = momentum_model(linreg.GDRegressor, 5, warm_start=True).fit(X, y)
    intercept_before = model.intercept_
    model.fit(X, y, coef_init=np.zeros(4), intercept_init=intercept_before)
    fresh = momentum_model(linreg.GDRegressor, 5).fit(X, y, coef_init=np.zeros(4),
                                                       intercept_init=intercept_before)
    assert model.t_ == 5 and len(model.loss_curve_) == 5
    np.testing.assert_array_equal(model.coef_, fresh.coef_)
    np.testing.assert_array_equal(model.loss_curve_, fresh.loss_curve_)


def test_a_failed_warm_fit_keeps_the_step_state():
    X, y = data()
    model = momentum_model(linreg.GDRegressor, 5, warm_start=True).fit(X, y)
    t, velocity = model.t_, model._velocity_.copy()
    with pytest.raises(DivergenceError):
        model.set_params(lr=1e6, epochs=50).fit(X, y)
    assert model.t_ == t
    np.testing.assert_array_equal(model._velocity_, velocity)


def test_the_step_state_is_not_saved_in_model_files(tmp_path):
    X, y = data()
    model = momentum_model(linreg.GDRegressor, 5, warm_start=True).fit(X, y)
    model.save(tmp_path / "m.linreg")
    loaded = linreg.load(tmp_path / "m.linreg")
    assert not hasattr(loaded, "t_") and not hasattr(loaded, "_velocity_")
    loaded.fit(X, y)  # continues from the coefficients with a fresh step state
    assert loaded.t_ == 5


def test_auto_sgd_takes_a_users_momentum():
    X, y = data(n=500)
    plain = linreg.SGDRegressor(random_state=0).fit(X, y)
    assert plain._velocity_ is None
    model = linreg.SGDRegressor(random_state=0, momentum=0.5).fit(X, y)
    assert model._velocity_ is not None and np.abs(model._velocity_).max() > 0
    assert model.score(X, y) > 0.99


# -- a callback cannot change parameters --------------------------------------------------


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("name, value", [("lr", 0.5), ("momentum", 0.9), ("alpha", 1.0),
                                         ("epochs", 3)])
def test_a_callback_that_changes_a_parameter_raises(cls, name, value):
    X, y = data()

    def callback(epoch, loss, model):
        if epoch == 2:
            setattr(model, name, value)

    model = cls(lr=0.01, epochs=5, callback=callback)
    with pytest.raises(RuntimeError, match=f"parameters cannot change during fit; the "
                                           f"callback set {name}={value!r}.*at epoch 2"):
        model.fit(X, y)
    assert getattr(model, name) == cls(lr=0.01, epochs=5).get_params()[name]  # undone
    assert not hasattr(model, "coef_")


def test_a_callback_that_reads_or_restores_parameters_is_fine():
    X, y = data()
    seen = []

    def callback(epoch, loss, model):
        seen.append(model.get_params()["lr"])
        model.set_params(lr=model.lr)  # the same value: no change

    linreg.GDRegressor(lr=0.01, epochs=3, callback=callback).fit(X, y)
    assert seen == [0.01] * 3


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_auto_steps_account_for_the_penalty_on_tiny_features(cls):
    # A feature of scale 1e-3 has a weight of order 1e3, whose penalty curvature alpha
    # is 1e6 times its data curvature after scaling: a step blind to it diverges.
    X, y = data(n=500)
    X[:, 0] *= 1e-3
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        kwargs = {"random_state": 0} if cls is linreg.SGDRegressor else {"epochs": 20000}
        model = cls(penalty="l2", alpha=1.0, **kwargs).fit(X, y)
    w, b = ridge(X, y, 1.0)
    np.testing.assert_allclose(model.coef_, w, rtol=0.02, atol=0.02)
