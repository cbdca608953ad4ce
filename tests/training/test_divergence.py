"""Training that diverges (issue 6): DivergenceError, and the state the model is left in.

test_estimators.py covers the basic GD and per-sample SGD case. This file adds shuffled
and mini-batch SGD, float32, 2-D y, warm starts and partial_fit, and checks the
documented behaviour exactly:

- the error is a ValueError whose message names its epoch and lr (also its attributes),
  and it carries the losses of the epochs before it (`losses`), which do not depend on
  how the epochs are chunked;
- a fit or partial_fit that diverges leaves the model exactly as it was before the call:
  unfitted stays unfitted, a fitted model keeps its weights, losses and n_iter_;
- so a model never holds NaN or infinity, and never weights that overflow predict.
"""
import numpy as np
import pytest

import linreg

LR = 0.5


def problem(dtype, k, n=60, d=4, seed=3):
    """Unscaled features (standard deviation 10): LR diverges on them within ~100 epochs."""
    rng = np.random.default_rng(seed)
    X = 10 * rng.standard_normal((n, d))
    W = rng.standard_normal((d,) if k is None else (d, k))
    y = X @ W + 1.0 + rng.standard_normal((n,) if k is None else (n, k))
    return X.astype(dtype), y.astype(dtype)


MODELS = {
    "gd": lambda **p: linreg.GDRegressor(lr=LR, epochs=5000, **p),
    "sgd-shuffled": lambda **p: linreg.SGDRegressor(lr=LR, epochs=5000, random_state=0, **p),
    "sgd-in-order": lambda **p: linreg.SGDRegressor(lr=LR, epochs=5000, shuffle=False, **p),
    "sgd-batch-8": lambda **p: linreg.SGDRegressor(lr=LR, epochs=5000, batch_size=8,
                                                   random_state=0, **p),
    "sgd-batch-8-in-order": lambda **p: linreg.SGDRegressor(lr=LR, epochs=5000, batch_size=8,
                                                            shuffle=False, **p),
}
CASES = [(name, dtype, k) for name in MODELS for dtype in (np.float32, np.float64)
         for k in (None, 2)]
IDS = [f"{name}-{np.dtype(dtype).name}-{'y1d' if k is None else 'k2'}" for name, dtype, k in CASES]


def diverge(model, X, y):
    with pytest.raises(linreg.DivergenceError) as info:
        model.fit(X, y)
    return info.value


FITTED = ("coef_", "intercept_", "loss_curve_", "n_iter_", "n_features_in_")


def assert_unfitted(model, X):
    for attribute in FITTED:
        assert not hasattr(model, attribute), attribute
    with pytest.raises(linreg.NotFittedError):
        model.predict(X)


@pytest.mark.parametrize(("name", "dtype", "k"), CASES, ids=IDS)
def test_divergence_is_reported_and_leaves_the_model_unfitted(name, dtype, k):
    X, y = problem(dtype, k)
    model = MODELS[name]()
    error = diverge(model, X, y)

    assert isinstance(error, ValueError)
    assert isinstance(error.epoch, int) and 1 <= error.epoch < 5000 and error.lr == LR
    message = str(error)
    assert f"training diverged at epoch {error.epoch} with lr={LR:g}" in message
    assert "smaller lr" in message
    assert len(error.losses) == error.epoch - 1 and np.isfinite(error.losses).all()
    if len(error.losses) >= 2:
        assert error.losses[-1] > error.losses[0], "it did not really diverge"
    assert_unfitted(model, X)

    # The same epoch and losses however the epochs are chunked (a callback returns after
    # each one), and the callback's view of the model does not survive the failure.
    seen = []
    chunked = MODELS[name](callback=lambda epoch, loss, m: seen.append(epoch) and False)
    again = diverge(chunked, X, y)
    assert again.epoch == error.epoch
    assert seen == list(range(1, error.epoch))
    np.testing.assert_array_equal(again.losses, error.losses)
    assert_unfitted(chunked, X)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("k", [None, 2], ids=["y1d", "k2"])
def test_gd_losses_are_those_of_the_epochs_before(dtype, k):
    X, y = problem(dtype, k)
    error = diverge(MODELS["gd"](), X, y)
    assert error.epoch >= 2
    last = linreg.GDRegressor(lr=LR, epochs=error.epoch - 1).fit(X, y)
    np.testing.assert_array_equal(last.loss_curve_, error.losses)
    # One more epoch from there is the one that diverges, and changes nothing.
    before = (last.coef_.copy(), np.copy(last.intercept_), last.loss_curve_.copy())
    last.set_params(warm_start=True, epochs=1)
    with pytest.raises(linreg.DivergenceError, match=r"at epoch 1 with"):
        last.fit(X, y)
    np.testing.assert_array_equal(last.coef_, before[0])
    np.testing.assert_array_equal(last.intercept_, before[1])
    np.testing.assert_array_equal(last.loss_curve_, before[2])


@pytest.mark.parametrize("name", list(MODELS))
def test_warm_start_divergence_keeps_the_earlier_model(name):
    X, y = problem(np.float64, None)
    model = MODELS[name](warm_start=True)
    model.set_params(lr=1e-4, epochs=3).fit(X, y)  # a stable first fit
    before = {a: np.copy(getattr(model, a)) for a in FITTED}
    model.set_params(lr=LR, epochs=5000)
    diverge(model, X, y)
    for attribute, value in before.items():
        np.testing.assert_array_equal(getattr(model, attribute), value, err_msg=attribute)
    assert np.isfinite(model.predict(X)).all()


def overflowing_data(dtype, k):
    """Features ~1e8: at lr=1e300 the very first update would overflow, in both dtypes,
    so it is refused (or, per sample, undone) and the model keeps its starting point."""
    X, y = problem(dtype, k)
    return (X * 1e7).astype(dtype), y


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("k", [None, 2], ids=["y1d", "k2"])
def test_partial_fit_divergence_on_an_unfitted_model_leaves_it_unfitted(name, dtype, k):
    X, y = overflowing_data(dtype, k)
    model = MODELS[name]().set_params(lr=1e300)
    with pytest.raises(linreg.DivergenceError, match=r"training diverged at epoch 1 with lr=1e\+300"):
        model.partial_fit(X, y)
    for attribute in ("coef_", "intercept_", "loss_curve_", "n_iter_", "n_features_in_"):
        assert not hasattr(model, attribute), attribute
    with pytest.raises(linreg.NotFittedError):
        model.predict(X)


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_partial_fit_divergence_on_a_fitted_model_changes_nothing(name, dtype):
    X, y = problem(dtype, 2)
    model = MODELS[name]().set_params(lr=1e-4, epochs=2).fit(X, y)
    before = {a: np.copy(getattr(model, a)) for a in FITTED}
    model.set_params(lr=1e300)
    with pytest.raises(linreg.DivergenceError, match=r"at epoch 1 with lr=1e\+300"):
        model.partial_fit(overflowing_data(dtype, 2)[0], y)
    for attribute, value in before.items():
        np.testing.assert_array_equal(getattr(model, attribute), value, err_msg=attribute)
    assert np.isfinite(model.predict(X)).all()


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: linreg.GDRegressor(lr=0.2, epochs=10_000), id="gd"),
        pytest.param(lambda: linreg.SGDRegressor(lr=1.0, epochs=1000, shuffle=False), id="sgd"),
        pytest.param(lambda: linreg.SGDRegressor(lr=0.3, epochs=1000, batch_size=3, shuffle=False),
                     id="sgd-batch"),
    ],
)
def test_float32_divergence_leaves_no_unusable_weights(make):
    # The seed tutorial's data in float32: the weights reach ~1e38 before an update
    # overflows; keeping them would leave a model that cannot even predict its data.
    x = np.array([[1.0], [2.0], [3.0]], dtype=np.float32)
    y = np.array([3.0, 6.0, 9.0], dtype=np.float32)
    model = make()
    with pytest.raises(linreg.DivergenceError):
        model.fit(x, y)
    assert_unfitted(model, x)
