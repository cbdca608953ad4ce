"""lr="auto" (the default): fits converge on raw, unscaled data without tuning, stop when
converged, warn when the epoch budget ends first, and leave a numeric lr's behaviour
exactly as it was (issue 12)."""
import warnings

import numpy as np
import pytest

import linreg


def unscaled(n=2000, d=8, k=None, seed=0, offset=1e3, decades=3):
    """Features with scales from 1e-3 to 1e3 and large offsets: plain GD diverges."""
    rng = np.random.default_rng(seed)
    scales = np.logspace(-decades, decades, d)
    X = rng.standard_normal((n, d)) * scales + offset * rng.uniform(-1, 1, d)
    w = rng.standard_normal(d if k is None else (d, k)) / (scales if k is None else scales[:, None])
    return X, X @ w + 7.0 + 0.1 * rng.standard_normal(n if k is None else (n, k))


def least_squares_loss(X, y):
    A = np.column_stack([X, np.ones(len(X))])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    R = A @ coef - y
    return float(np.vdot(R, R)) / R.size, coef


def no_warnings():
    catcher = warnings.catch_warnings()
    catcher.__enter__()
    warnings.simplefilter("error")
    return catcher


@pytest.mark.parametrize("k", [None, 3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gd_defaults_reach_the_least_squares_loss_on_unscaled_data(k, dtype):
    # float32 cannot hold a model of features spanning 1e-3..1e3 on offsets of 1e3 to
    # 1e-6 of the loss (its coefficients round), so it gets milder data.
    X, y = unscaled(k=k) if dtype == np.float64 else unscaled(k=k, offset=10.0, decades=1)
    X, y = X.astype(dtype), y.astype(dtype)
    # The least-squares loss of the data as given (float32 rounds the small features).
    best, coef = least_squares_loss(X.astype(np.float64), y.astype(np.float64))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = linreg.GDRegressor().fit(X, y)
    assert model.method_ == "gram" and model.n_iter_ < 1000
    W = np.transpose(model.coef_).astype(np.float64)
    loss = np.mean((X.astype(np.float64) @ W + model.intercept_ - y) ** 2)
    gap = 1e-6 if dtype == np.float64 else 1e-4
    assert loss <= best * (1 + gap)


@pytest.mark.parametrize("k", [None, 3])
def test_sgd_defaults_reach_least_squares_r2_on_unscaled_data(k):
    X, y = unscaled(k=k)
    best_loss, _ = least_squares_loss(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = linreg.SGDRegressor(random_state=0).fit(X, y)
    assert model.n_iter_ < 100
    # Within 5% of the least-squares loss; for one output, within 0.02 of its R^2.
    assert np.mean((model.predict(X) - y) ** 2) <= best_loss * 1.05
    if k is None:
        assert model.score(X, y) >= 1 - best_loss / y.var() - 0.02


def test_gd_over_rows_converges_too():
    X, y = unscaled(d=6, offset=10.0)
    best, _ = least_squares_loss(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = linreg.GDRegressor(method="fused").fit(X, y)
    assert model.method_ == "fused"
    assert np.mean((model.predict(X) - y) ** 2) <= best * (1 + 1e-4)


@pytest.mark.parametrize("Estimator", [linreg.GDRegressor, linreg.SGDRegressor])
def test_a_short_budget_warns_that_training_did_not_converge(Estimator):
    X, y = unscaled()
    with pytest.warns(linreg.ConvergenceWarning, match="did not converge in epochs=2"):
        model = Estimator(epochs=2).fit(X, y)
    assert model.n_iter_ == 2 and np.isfinite(model.coef_).all()


@pytest.mark.parametrize("Estimator", [linreg.GDRegressor, linreg.SGDRegressor])
def test_a_numeric_lr_never_stops_early_nor_warns_about_the_budget(Estimator):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    y = X @ [1.0, -2.0, 0.5] + 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = Estimator(lr=0.01, epochs=7).fit(X, y)
    assert model.n_iter_ == 7


@pytest.mark.parametrize("Estimator", [linreg.GDRegressor, linreg.SGDRegressor])
def test_auto_stays_finite_on_extreme_scales(Estimator):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((500, 4)) * [1e-6, 1.0, 1e6, 1e9] + [0.0, 1e8, -1e5, 3.0]
    y = X @ [1e6, 2.0, 3e-6, 1e-9] + rng.standard_normal(500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linreg.ConvergenceWarning)
        model = Estimator(random_state=0).fit(X, y) if Estimator is linreg.SGDRegressor \
            else Estimator().fit(X, y)
    assert np.isfinite(model.coef_).all() and np.isfinite(model.intercept_)
    assert model.score(X, y) > 0.5


def test_precondition_with_a_numeric_lr_is_gd_on_standardized_columns():
    X, y = unscaled(n=300, d=4, offset=10.0)
    model = linreg.GDRegressor(lr=0.1, epochs=30, precondition=True, method="fused").fit(X, y)
    mean, std = X.mean(axis=0), X.std(axis=0)
    Z = (X - mean) / std
    u, c = np.zeros(4), 0.0
    for _ in range(30):
        r = Z @ u + c - y
        u -= 0.1 * 2 / len(y) * (Z.T @ r)
        c -= 0.1 * 2 / len(y) * r.sum()
    np.testing.assert_allclose(model.coef_, u / std, rtol=1e-9)
    np.testing.assert_allclose(model.intercept_, c - mean @ (u / std), rtol=1e-8)


def test_precondition_settings_are_checked():
    X, y = unscaled(n=50, d=2)
    with pytest.raises(ValueError, match="lr='auto' steps in centred, scaled coordinates"):
        linreg.GDRegressor(precondition=False).fit(X, y)
    with pytest.raises(ValueError, match="precondition must be 'auto', True or False"):
        linreg.GDRegressor(precondition="yes").fit(X, y)
    with pytest.raises(TypeError, match="precondition must be 'auto', True or False"):
        linreg.SGDRegressor(precondition=1).fit(X, y)
    with pytest.raises(TypeError, match="lr must be a real number or 'auto'"):
        linreg.GDRegressor(lr="fast").fit(X, y)


@pytest.mark.parametrize("batch_size", [1, 16])
def test_partial_fit_with_auto_is_safe_on_unscaled_streams(batch_size):
    X, y = unscaled(n=3000, d=5)
    model = linreg.SGDRegressor(batch_size=batch_size, random_state=0)
    start = 0
    for size in [7, 500, 3, 1200, 1290]:  # chunks of unequal sizes, some below batch_size
        model.partial_fit(X[start:start + size], y[start:start + size])
        start += size
        assert np.isfinite(model.coef_).all()
    assert model.score(X, y) > 0.9
    assert len(model.loss_curve_) == 5


def test_gd_partial_fit_with_auto_is_safe():
    X, y = unscaled(n=1000, d=5)
    model = linreg.GDRegressor()
    for chunk in np.array_split(np.arange(1000), 10):
        model.partial_fit(X[chunk], y[chunk])
    assert np.isfinite(model.coef_).all()
    assert model.loss_curve_[-1] < model.loss_curve_[0]


def test_auto_models_save_and_load_bit_identically(tmp_path):
    X, y = unscaled(n=300, d=4)
    for model in (linreg.GDRegressor().fit(X, y), linreg.SGDRegressor(random_state=0).fit(X, y)):
        model.save(tmp_path / "m")
        np.testing.assert_array_equal(linreg.load(tmp_path / "m").predict(X), model.predict(X))


@pytest.mark.parametrize("Estimator", [linreg.GDRegressor, linreg.SGDRegressor])
def test_degenerate_data_converge_without_warning(Estimator):
    # One sample, or more columns than rows: exact fits whose loss only tends to zero,
    # and null directions (no gradient there) that must not slow the fit.
    rng = np.random.default_rng(0)
    for X, y in [(rng.standard_normal((1, 3)), np.array([2.0])),
                 (np.repeat(rng.standard_normal((50, 1)), 3, axis=1), rng.standard_normal(50))]:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            model = Estimator().fit(X, y)
        assert model.n_iter_ < 100 and np.isfinite(model.coef_).all()


@pytest.mark.parametrize("momentum", [0.5, 0.9, 0.99])
def test_fused_auto_with_a_users_momentum_does_not_stop_on_an_oscillation(momentum):
    # Momentum makes the loss oscillate for about 1 / (1 - momentum) epochs: the rule
    # that stops on a stalled loss must not read that as a stall (with 0.9 it stopped
    # after 22 epochs, 0.2% above the least loss).
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5000, 8)) * [1, 10, 0.1, 5, 1, 1, 2, 3] + [0, 100, 1, 0, 0, 5, 0, 0]
    X[:, 1] += 9.0 * X[:, 0]
    y = X @ rng.standard_normal(8) + rng.standard_normal(5000)
    least = linreg.GDRegressor(method="gram").fit(X, y).loss_curve_[-1]
    model = linreg.GDRegressor(method="fused", momentum=momentum, nesterov=True).fit(X, y)
    assert model.loss_curve_[-1] <= least * (1 + 1e-6)
