"""The torch.optim.SGD options of the one step function (linreg/_kernels/step.pxi):
L2 weight decay, no intercept, and momentum for per-sample and mini-batch SGD, against
their NumPy twins in linreg.reference (float64, 1e-10), on both compiled builds, for GD
over rows, GD from the Gram statistics, per-sample and mini-batch SGD."""
import numpy as np
import pytest

from linreg import _auto, reference, solvers
from linreg._structs import Outcome, Settings, StepRule, StopRule, History, new_training_state


def unscaled_problem(n=120, d=5, k=2, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    scales = np.logspace(-1, 1, d)
    X = rng.standard_normal((n, d)) * scales + rng.uniform(-3, 3, d)
    Y = X @ (rng.standard_normal((d, k)) / scales[:, None]) + 3.0 + rng.standard_normal((n, k))
    return np.ascontiguousarray(X, dtype=dtype), np.ascontiguousarray(Y, dtype=dtype)


def start_point(d, k, seed=1):
    """A start away from zero, so that decay and a fixed intercept show."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((d, k)), rng.standard_normal(k)


def scaling_for(X, rule):
    return _auto.scaling_from_data(X, 1, fit_intercept=rule.fit_intercept)


def run(solver_class, X, Y, rule, epochs, stop=StopRule()):
    solver = solver_class(X, Y, Settings(rule, stop))
    W0, b0 = start_point(X.shape[1], Y.shape[1])
    model = solvers.new_model(W0.astype(X.dtype), b0.astype(X.dtype), rule)
    scaling = scaling_for(X, rule)
    if rule.precondition:
        _auto.fill_scaling(model, rule, scaling)
    state = new_training_state()
    losses = np.empty(epochs)
    completed = solver.run(model, state, History(losses))
    return model, state, losses[:completed], scaling


def assert_model_is(model, W, b, rtol=1e-10):
    np.testing.assert_allclose(model[0, :-1], W, rtol=rtol, atol=rtol * np.abs(W).max())
    np.testing.assert_allclose(model[0, -1], b, rtol=rtol, atol=rtol * np.abs(b).max())


GD_RULES = {
    "l2": StepRule(0.01, l2=0.5),
    "l2-momentum": StepRule(0.01, l2=0.3, momentum=0.9),
    "l2-dampening": StepRule(0.01, l2=0.3, momentum=0.8, dampening=0.4),
    "l2-nesterov": StepRule(0.01, l2=0.3, momentum=0.9, nesterov=True),
    "no-intercept": StepRule(0.01, fit_intercept=False),
    "no-intercept-nesterov-l2": StepRule(0.01, fit_intercept=False, momentum=0.5,
                                         nesterov=True, l2=0.2),
    "l2-preconditioned": StepRule(0.2, l2=0.05, precondition=True),
    "no-intercept-preconditioned": StepRule(0.2, fit_intercept=False, precondition=True),
    "no-intercept-preconditioned-momentum-l2": StepRule(0.1, fit_intercept=False,
                                                        precondition=True, momentum=0.6,
                                                        l2=0.05),
}


@pytest.mark.parametrize("solver_class", [solvers.FusedGD, solvers.GramGD], ids=["rows", "gram"])
@pytest.mark.parametrize("name", list(GD_RULES))
def test_gd_options_follow_their_numpy_twin(impl, solver_class, name):
    X, Y = unscaled_problem()
    rule = GD_RULES[name]
    model, state, losses, scaling = run(solver_class, X, Y, rule, 30)
    W, b = start_point(X.shape[1], Y.shape[1])
    b_start = b.copy()
    expected = reference.gd_train(X, Y, W, b, rule, 30, scaling.centre, scaling.inv_var)
    np.testing.assert_allclose(losses, expected, rtol=1e-10)
    assert_model_is(model, W, b)
    if not rule.fit_intercept:  # b never moves, not even by rounding
        np.testing.assert_array_equal(model[0, -1], b_start)
    assert state["t"][0] == 30 and state["velocity_steps"][0] == (30 if rule.momentum else 0)


SGD_RULES = {
    "momentum": StepRule(0.002, momentum=0.9),
    "dampening": StepRule(0.002, momentum=0.7, dampening=0.5),
    "nesterov": StepRule(0.002, momentum=0.9, nesterov=True),
    "l2": StepRule(0.002, l2=2.0),  # scikit-learn's decay, per sample
    "l2-momentum": StepRule(0.002, l2=2.0, momentum=0.5, nesterov=True),
    "no-intercept": StepRule(0.002, fit_intercept=False),
    "no-intercept-l2-momentum": StepRule(0.002, fit_intercept=False, l2=1.0, momentum=0.8),
    "l2-preconditioned": StepRule(0.01, l2=0.5, precondition=True),
    "no-intercept-preconditioned": StepRule(0.01, fit_intercept=False, precondition=True),
    "momentum-preconditioned-averaged": StepRule(0.005, momentum=0.5, precondition=True,
                                                 average_start=30),
    "l2-averaged": StepRule(0.002, l2=1.0, average_start=20),
}


@pytest.mark.parametrize("batch_size", [1, 7], ids=["per-sample", "batch7"])
@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("name", list(SGD_RULES))
def test_sgd_options_follow_their_numpy_twin(impl, name, k, batch_size):
    X, Y = unscaled_problem(k=k)
    base = SGD_RULES[name]
    rule = StepRule(**{**base.__dict__, "batch_size": batch_size})
    model, state, losses, scaling = run(solvers.SGD, X, Y, rule, 3)
    W, b = start_point(X.shape[1], k)
    b_start = b.copy()
    expected, W_avg, b_avg = reference.sgd_train(X, Y, W, b, rule, 3, scaling.centre,
                                                 scaling.inv_var)
    np.testing.assert_allclose(losses, expected, rtol=1e-10)
    assert_model_is(model, W, b)
    updates = 3 * -(-X.shape[0] // batch_size)
    assert state["t"][0] == updates
    assert state["velocity_steps"][0] == (updates if rule.momentum else 0)
    if rule.momentum:  # the velocity was kept, and moved
        assert np.abs(model[rule.slots["velocity"]]).max() > 0
    if not rule.fit_intercept:
        np.testing.assert_array_equal(model[0, -1], b_start)
    if rule.average_start >= 0:
        slot = rule.slots["average"]
        np.testing.assert_allclose(model[slot, :-1], W_avg, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(model[slot, -1], b_avg, rtol=1e-10)


@pytest.mark.parametrize("k", [1, 3])
def test_per_sample_decay_is_torch_weight_decay(impl, k):
    # scikit-learn's W *= 1 - lr l2, then W -= lr g, is torch's W -= lr (g + l2 W): the
    # same trajectory, written the other way in NumPy.
    X, Y = unscaled_problem(k=k)
    lr, l2 = 0.002, 3.0
    model, _, losses, _ = run(solvers.SGD, X, Y, StepRule(lr, l2=l2), 2)
    W, b = start_point(X.shape[1], k)
    expected = []
    for _ in range(2):
        sse = 0.0
        for i in range(X.shape[0]):
            r = X[i] @ W + b - Y[i]
            sse += r @ r
            W -= lr * ((2.0 / k) * np.outer(X[i], r) + l2 * W)
            b -= lr * (2.0 / k) * r
        expected.append(sse / Y.size)
    np.testing.assert_allclose(losses, expected, rtol=1e-10)
    assert_model_is(model, W, b)


def test_per_sample_decay_clips_at_zero_as_scikit_learn(impl):
    # lr l2 > 1: scikit-learn clips the factor at 0, so after the first sample W is that
    # sample's update alone (torch's W (1 - lr l2) would flip the sign instead).
    X, Y = unscaled_problem(n=1, k=1)
    lr, l2 = 0.1, 30.0
    model, _, _, _ = run(solvers.SGD, X, Y, StepRule(lr, l2=l2), 1)
    W, b = start_point(X.shape[1], 1)
    r = X[0] @ W + b - Y[0]
    np.testing.assert_allclose(model[0, :-1, 0], -lr * 2.0 * r * X[0], rtol=1e-12)


@pytest.mark.parametrize("solver_class", [solvers.FusedGD, solvers.GramGD], ids=["rows", "gram"])
def test_gd_stopping_judges_the_objective_with_l2(impl, solver_class):
    # The target is above every epoch's loss but below its objective (the penalty
    # shrinks by about 1% an epoch): the rule must not fire on the loss alone.
    X, Y = unscaled_problem()
    rule = StepRule(1e-3, l2=5.0)
    _, _, first, _ = run(solver_class, X, Y, rule, 1)
    W0, _ = start_point(X.shape[1], Y.shape[1])
    penalty = 0.5 * 5.0 * np.vdot(W0, W0)
    objective = first[0] + penalty
    target = first[0] + 0.4 * penalty
    _, state, losses, _ = run(solver_class, X, Y, rule, 3, StopRule(target=target))
    assert len(losses) == 3 and state["outcome"][0] == Outcome.RUNNING
    _, state, losses, _ = run(solver_class, X, Y, rule, 3, StopRule(target=objective * 1.001))
    assert len(losses) == 1 and state["outcome"][0] == Outcome.CONVERGED


@pytest.mark.parametrize("name", ["l2-nesterov", "no-intercept-preconditioned-momentum-l2"])
def test_options_train_in_float32(impl, name):
    X, Y = unscaled_problem()
    rule = GD_RULES[name]
    model32, _, losses32, _ = run(solvers.FusedGD, X.astype(np.float32), Y.astype(np.float32),
                                  rule, 30)
    model64, _, losses64, _ = run(solvers.FusedGD, X, Y, rule, 30)
    assert model32.dtype == np.float32
    np.testing.assert_allclose(losses32, losses64, rtol=1e-4)
    np.testing.assert_allclose(model32[0], model64[0], rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("solver_class", [solvers.FusedGD, solvers.SGD], ids=["gd", "sgd"])
def test_without_an_intercept_preconditioning_only_scales(impl, solver_class):
    # A centre slot holding the features' means (as a centred scaling would) is ignored:
    # the direction is g_w * scale, and b does not move.
    X, Y = unscaled_problem()
    rule = StepRule(0.01, fit_intercept=False, precondition=True)
    centred = _auto.scaling_from_data(X, 1)
    assert np.abs(centred.centre).max() > 0.5
    W0, b0 = start_point(X.shape[1], Y.shape[1])
    model = solvers.new_model(W0, b0, rule)
    _auto.fill_scaling(model, rule, centred)
    losses = np.empty(2)
    solver_class(X, Y, Settings(rule)).run(model, new_training_state(), History(losses))
    W, b = W0.copy(), b0.copy()
    twin = reference.gd_train if solver_class is solvers.FusedGD else (
        lambda *args: reference.sgd_train(*args)[0])
    expected = twin(X, Y, W, b, rule, 2, np.zeros_like(centred.centre), centred.inv_var)
    np.testing.assert_allclose(losses, expected, rtol=1e-10)
    assert_model_is(model, W, b)
    np.testing.assert_array_equal(model[0, -1], b0)
