"""The optimizer options of the one step function (linreg/_kernels/step.pxi) against
their NumPy twins in linreg.reference: preconditioning, torch-style momentum (with
dampening and Nesterov), averaging, for GD over rows, GD from the Gram statistics and
per-sample SGD, in float64, trajectory for trajectory."""
import numpy as np
import pytest

from linreg import _auto, reference, solvers
from linreg._structs import Settings, StepRule, History, new_training_state


def unscaled_problem(n=300, d=5, k=2, seed=0):
    rng = np.random.default_rng(seed)
    scales = np.logspace(-2, 2, d)
    X = rng.standard_normal((n, d)) * scales + rng.uniform(-50, 50, d)
    Y = X @ (rng.standard_normal((d, k)) / scales[:, None]) + 3.0 + rng.standard_normal((n, k))
    return np.ascontiguousarray(X), np.ascontiguousarray(Y)


def run(solver_class, X, Y, rule, epochs):
    settings = Settings(rule)
    solver = solver_class(X, Y, settings)
    model = solvers.new_model(np.zeros((X.shape[1], Y.shape[1])), np.zeros(Y.shape[1]), rule)
    scaling = _auto.scaling_from_data(X, 1)
    if rule.precondition:
        _auto.fill_scaling(model, rule, scaling)
    state = new_training_state()
    losses = np.empty(epochs)
    assert solver.run(model, state, History(losses)) == epochs
    return model, state, losses, scaling


RULES = {
    "preconditioned": StepRule(0.2, precondition=True),
    "momentum": StepRule(1e-4, momentum=0.9),
    "momentum-dampening": StepRule(1e-4, momentum=0.8, dampening=0.3),
    "nesterov": StepRule(1e-4, momentum=0.9, nesterov=True),
    "preconditioned-nesterov": StepRule(0.2, momentum=0.7, nesterov=True, precondition=True),
}


@pytest.mark.parametrize("solver_class", [solvers.FusedGD, solvers.GramGD], ids=["rows", "gram"])
@pytest.mark.parametrize("name", list(RULES))
def test_gd_step_rules_follow_their_numpy_twin(solver_class, name):
    X, Y = unscaled_problem()
    rule = RULES[name]
    model, state, losses, scaling = run(solver_class, X, Y, rule, 40)
    W, b = np.zeros((X.shape[1], Y.shape[1])), np.zeros(Y.shape[1])
    expected = reference.gd_train(X, Y, W, b, rule, 40, scaling.centre, scaling.inv_var)
    np.testing.assert_allclose(losses, expected, rtol=1e-10)
    np.testing.assert_allclose(model[0, :-1], W, rtol=1e-10, atol=1e-12 * np.abs(W).max())
    np.testing.assert_allclose(model[0, -1], b, rtol=1e-10)
    assert state["t"][0] == 40 and state["velocity_steps"][0] == (40 if rule.momentum else 0)


def test_preconditioning_is_gd_on_standardized_features():
    # An independent oracle: plain GD on Z = (X - mean) / std, mapped back to X's units.
    X, Y = unscaled_problem(k=1)
    rule = StepRule(0.3, precondition=True)
    model, _, losses, _ = run(solvers.FusedGD, X, Y, rule, 25)
    mean, std = X.mean(axis=0), X.std(axis=0)
    Z = (X - mean) / std
    U, c = np.zeros((X.shape[1], 1)), np.zeros(1)
    for _ in range(25):
        R = Z @ U + c - Y
        U -= 0.3 * (2.0 / R.size) * (Z.T @ R)
        c -= 0.3 * (2.0 / R.size) * R.sum(axis=0)
    W = U / std[:, None]
    np.testing.assert_allclose(model[0, :-1], W, rtol=1e-9)
    np.testing.assert_allclose(model[0, -1], c - mean @ W, rtol=1e-9)


@pytest.mark.parametrize("rule", [StepRule(0.01, precondition=True),
                                  StepRule(0.01, precondition=True, average_start=300),
                                  StepRule(1e-6, average_start=0)],
                         ids=["preconditioned", "preconditioned-averaged", "averaged"])
@pytest.mark.parametrize("k", [1, 3])
def test_per_sample_step_rules_follow_their_numpy_twin(rule, k):
    X, Y = unscaled_problem(n=120, k=k)
    model, state, losses, scaling = run(solvers.SGD, X, Y, rule, 4)
    W, b = np.zeros((X.shape[1], k)), np.zeros(k)
    expected, W_avg, b_avg = reference.sgd_train(X, Y, W, b, rule, 4, scaling.centre,
                                                 scaling.inv_var)
    np.testing.assert_allclose(losses, expected, rtol=1e-9)
    np.testing.assert_allclose(model[0, :-1], W, rtol=1e-9, atol=1e-12)
    if rule.average_start >= 0:
        slot = rule.slots["average"]
        assert state["averaged"][0] == 4 * 120 - rule.average_start
        np.testing.assert_allclose(model[slot, :-1], W_avg, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(model[slot, -1], b_avg, rtol=1e-9)
