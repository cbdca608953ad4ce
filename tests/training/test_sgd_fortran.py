"""SGD reads a Fortran-ordered X in place (issue 14): no copy of X, and the same result,
bit for bit, as the C-ordered X (the loops run on copies of the rows they visit, see
linreg/_kernels/row_copies.pxi).

N is not a multiple of the copies' chunks (8 float64 rows, 16 float32 ones), so every
remainder of the copies is taken. Per sample, d = 7 takes the transposes' remainders too.

Known limit: the loops test once per row whether rows are read in place or from their
copies; gcc may compile the loop twice (unswitched on that test) and, with
-fassociative-math, round some sums differently in the two copies. The plain loops agree
bit for bit (tested here in both builds); with options, and in mini-batches with
d % 4 != 0, the two agree to an ulp or so per update, not always bit for bit.
"""

import numpy as np
import pytest

import linreg
from linreg import _compiled, solvers
from linreg._structs import History, Settings, StepRule, StopRule, new_training_state

N = 1_003


def data(dtype, d, k, seed=0):
    rng = np.random.default_rng(seed)
    X = np.asfortranarray(rng.standard_normal((N, d)).astype(dtype))
    W = rng.standard_normal((d,) if k is None else (d, k))
    noise = rng.standard_normal((N,) if k is None else (N, k))
    y = (X @ W + 0.5 + 0.1 * noise).astype(dtype)
    weights = rng.uniform(0.5, 2.0, N)
    assert X.flags.f_contiguous and not X.flags.c_contiguous
    return X, y, weights


def fitted(X, y, weights, **options):
    model = linreg.SGDRegressor(random_state=3, **options)
    model.fit(X, y, sample_weight=weights)
    return model


def assert_same_fit(a, b):
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.intercept_, b.intercept_)
    np.testing.assert_array_equal(a.loss_curve_, b.loss_curve_)
    assert (a.n_iter_, a.t_) == (b.n_iter_, b.t_)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [None, 3])
@pytest.mark.parametrize("batch_size", [1, 5, 32])
@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_fortran_x_trains_exactly_as_c_order(dtype, k, batch_size, shuffle, weighted):
    X, y, weights = data(dtype, 7 if batch_size == 1 else 8, k)
    weights = weights if weighted else None
    options = dict(lr=0.01, epochs=4, batch_size=batch_size, shuffle=shuffle, tol=0.0)
    f_order = fitted(X, y, weights, **options)
    c_order = fitted(np.ascontiguousarray(X), y, weights, **options)
    assert_same_fit(f_order, c_order)
    assert np.all(np.isfinite(f_order.coef_)) and f_order.t_ > 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", [
    dict(early_stopping=True, validation_fraction=0.2),  # an order of a subset of rows
    dict(early_stopping=True, shuffle=False, batch_size=8),
    dict(average=True, penalty="l2", alpha=1e-3),  # the one-output loop with options
    dict(momentum=0.9, nesterov=True),  # the general per-sample step
    dict(lr_schedule="invscaling", penalty="l1", alpha=1e-3),
    dict(momentum=0.5, nesterov=True, batch_size=16, penalty="elasticnet", alpha=1e-3),
    dict(lr="auto", epochs=6),  # averaging judged by a pass over every row
], ids=["early_stopping", "early_stopping_batches", "average_l2", "nesterov",
        "invscaling_l1", "batch_momentum", "auto"])
def test_fortran_x_trains_as_c_order_with_options(dtype, options):
    X, y, weights = data(dtype, 9, None, seed=1)
    options = {"lr": 0.01, "epochs": 4, "tol": 0.0, **options}
    f_order = fitted(X, y, weights, **options)
    c_order = fitted(np.ascontiguousarray(X), y, weights, **options)
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(f_order.coef_, c_order.coef_, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(f_order.intercept_, c_order.intercept_, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(f_order.loss_curve_, c_order.loss_curve_, rtol=rtol)
    assert (f_order.n_iter_, f_order.t_) == (c_order.n_iter_, c_order.t_)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 4])
@pytest.mark.parametrize("batch_size", [1, 7])
def test_solver_reads_fortran_x_through_its_transpose_and_equals_c_order(
        dtype, k, batch_size, monkeypatch):
    X, y, _ = data(dtype, 7 if batch_size == 1 else 8, k, seed=2)
    d = X.shape[1]
    calls = []
    by_columns = _compiled.build.sgd_epochs_by_columns

    def recording(Xt, *args):
        calls.append(Xt)
        return by_columns(Xt, *args)

    monkeypatch.setattr(_compiled.build, "sgd_epochs_by_columns", recording, raising=True)
    settings = Settings(step=StepRule(lr=0.01, batch_size=batch_size), stop=StopRule.off(),
                        shuffle=True, n_threads=1)
    results = []
    for X_given in (X, np.ascontiguousarray(X)):
        solver = solvers.SGD(X_given, y, settings)
        assert solver.X is X_given  # no copy, either layout
        model = solvers.new_model(np.zeros((d, k), dtype), np.zeros(k, dtype), settings.step)
        state = new_training_state(99)
        losses = np.empty(3)
        assert solver.run(model, state, History(losses)) == 3
        results.append((model, losses, state))
    assert len(calls) == 1 and calls[0].base is X and calls[0].shape == (d, N)
    (model_f, losses_f, state_f), (model_c, losses_c, state_c) = results
    np.testing.assert_array_equal(model_f, model_c)
    np.testing.assert_array_equal(losses_f, losses_c)
    assert state_f.tobytes() == state_c.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("d", [7, 9])
def test_mini_batches_agree_to_rounding_when_d_is_not_a_multiple_of_4(dtype, d):
    X, y, weights = data(dtype, d, None, seed=4)
    options = dict(lr=0.01, epochs=4, batch_size=5, tol=0.0)
    f_order = fitted(X, y, weights, **options)
    c_order = fitted(np.ascontiguousarray(X), y, weights, **options)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(f_order.coef_, c_order.coef_, rtol=rtol)
    np.testing.assert_allclose(f_order.loss_curve_, c_order.loss_curve_, rtol=rtol)
    assert f_order.t_ == c_order.t_
