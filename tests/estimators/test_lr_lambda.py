"""A callable lr_schedule, epoch -> factor on lr (torch's LambdaLR; issue 13): against the
NumPy twins, across warm starts and partial_fit, with lr="auto", and bad factors refused.
The torch trajectories are in test_torch_parity.py."""
import numpy as np
import pytest

import linreg
from linreg import reference
from linreg._structs import StepRule


def problem(n=60, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, X @ rng.standard_normal(d) + 0.5 + 0.2 * rng.standard_normal(n)


def halving(epoch):
    return 0.5 ** (epoch // 3)


@pytest.mark.parametrize("method", ["fused", "gram"])
def test_gd_follows_the_numpy_twin(method):
    X, y = problem()
    model = linreg.GDRegressor(lr=0.1, epochs=10, method=method, momentum=0.5,
                               lr_schedule=halving).fit(X, y)
    W, b = np.zeros((4, 1)), np.zeros(1)
    losses = reference.gd_train(X, y[:, None], W, b, StepRule(0.1, momentum=0.5), 10,
                                lr_factors=[halving(e) for e in range(10)])
    np.testing.assert_allclose(model.loss_curve_, losses, rtol=1e-12)
    np.testing.assert_allclose(model.coef_, W[:, 0], rtol=1e-12)


@pytest.mark.parametrize("batch_size", [1, 8])
def test_sgd_follows_the_numpy_twin(batch_size):
    X, y = problem(seed=1)
    model = linreg.SGDRegressor(lr=0.02, epochs=7, batch_size=batch_size, shuffle=False,
                                penalty="l2", alpha=0.1, average=5,
                                lr_schedule=halving).fit(X, y)
    W, b = np.zeros((4, 1)), np.zeros(1)
    rule = StepRule(0.02, batch_size=batch_size, l2=0.1, average_start=4)
    losses, W_avg, _ = reference.sgd_train(X, y[:, None], W, b, rule, 7,
                                           lr_factors=[halving(e) for e in range(7)])
    np.testing.assert_allclose(model.loss_curve_, losses, rtol=1e-12)
    np.testing.assert_allclose(model.coef_, W_avg[:, 0], rtol=1e-12)


def test_epochs_count_on_across_warm_starts_and_partial_fit():
    X, y = problem(seed=2)
    whole = linreg.GDRegressor(lr=0.1, epochs=9, lr_schedule=halving).fit(X, y)
    warm = linreg.GDRegressor(lr=0.1, epochs=4, lr_schedule=halving, warm_start=True).fit(X, y)
    warm.set_params(epochs=5).fit(X, y)
    np.testing.assert_allclose(warm.coef_, whole.coef_, rtol=1e-13)
    streamed = linreg.GDRegressor(lr=0.1, lr_schedule=halving)
    for _ in range(9):
        streamed.partial_fit(X, y)
    np.testing.assert_allclose(streamed.coef_, whole.coef_, rtol=1e-13)


def test_epochs_seen_by_the_schedule():
    seen = []

    def schedule(epoch):
        seen.append(epoch)
        return 1.0

    X, y = problem()
    linreg.SGDRegressor(lr=0.01, epochs=6, lr_schedule=schedule, random_state=0).fit(X, y)
    assert seen == list(range(6))


def test_composes_with_lr_auto():
    X, y = problem(seed=3)
    X = X * [1.0, 100.0, 0.01, 5.0]  # raw scales: lr="auto" is the base of the factor
    frozen = linreg.GDRegressor(epochs=8, lr_schedule=lambda e: 1.0 if e < 3 else 0.0,
                                method="fused", tol=0.0).fit(X, y)
    # No step after the third epoch: the loss stays where the third step left it.
    assert frozen.loss_curve_[2] > frozen.loss_curve_[3]
    np.testing.assert_array_equal(frozen.loss_curve_[3:], frozen.loss_curve_[3])
    free = linreg.GDRegressor(epochs=8, method="fused", tol=0.0).fit(X, y)
    np.testing.assert_allclose(free.loss_curve_[:4], frozen.loss_curve_[:4], rtol=1e-13)


@pytest.mark.parametrize("schedule, error, message", [
    (lambda e: float("nan"), ValueError, r"lr_schedule\(0\) must return a finite factor"),
    (lambda e: -1.0 if e == 2 else 1.0, ValueError, r"lr_schedule\(2\)"),
    (lambda e: "fast", TypeError, "must return a real number"),
    (lambda e: None, TypeError, "must return a real number"),
])
@pytest.mark.parametrize("Estimator", [linreg.GDRegressor, linreg.SGDRegressor])
def test_bad_factors_are_refused_and_leave_the_model_unfitted(Estimator, schedule, error,
                                                             message):
    X, y = problem()
    model = Estimator(lr=0.01, epochs=5, lr_schedule=schedule)
    with pytest.raises(error, match=message):
        model.fit(X, y)
    assert not hasattr(model, "coef_")


def test_an_error_in_the_schedule_propagates():
    def broken(epoch):
        raise KeyError("schedule table")

    X, y = problem()
    with pytest.raises(KeyError, match="schedule table"):
        linreg.GDRegressor(lr=0.01, lr_schedule=broken).fit(X, y)
