"""The stopping rule (tol, n_iter_no_change) fires at the same epoch however the epochs
are cut into compiled calls: with or without a callback, for any chunk length, any thread
count, and exactly where the NumPy twin stops (issue 10)."""
import numpy as np
import pytest

import linreg
import linreg.training
from linreg import kernels, reference


def noisy_problem(n=200, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n)
    return X, y


GD = dict(lr=0.05, epochs=3000, tol=1e-3, n_iter_no_change=5, method="fused")
SGD = dict(lr=0.01, epochs=300, tol=1e-3, n_iter_no_change=5, shuffle=False)


def fit(Estimator, params, X, y, **extra):
    return Estimator(**params, **extra).fit(X, y)


@pytest.mark.parametrize(("Estimator", "params"), [(linreg.GDRegressor, GD),
                                                   (linreg.SGDRegressor, SGD)],
                         ids=["GD", "SGD"])
def test_a_callback_does_not_change_where_training_stops(Estimator, params):
    X, y = noisy_problem()
    plain = fit(Estimator, params, X, y)
    called = []
    with_callback = fit(Estimator, params, X, y, callback=lambda e, loss, m: called.append(e))
    assert plain.n_iter_ < params["epochs"], "the rule should fire on this problem"
    assert with_callback.n_iter_ == plain.n_iter_
    assert called == list(range(1, plain.n_iter_ + 1))
    np.testing.assert_array_equal(with_callback.coef_, plain.coef_)
    np.testing.assert_array_equal(with_callback.loss_curve_, plain.loss_curve_)


@pytest.mark.parametrize(("Estimator", "params"), [(linreg.GDRegressor, GD),
                                                   (linreg.SGDRegressor, SGD)],
                         ids=["GD", "SGD"])
@pytest.mark.parametrize("chunk_seconds", [0.0, 1e-6, 1e-4])
def test_chunk_length_does_not_change_where_training_stops(Estimator, params, chunk_seconds,
                                                           monkeypatch):
    # CHUNK_SECONDS = 0: every compiled call runs one epoch, so the stop always falls
    # on the last epoch of a call (it was lost there before).
    X, y = noisy_problem()
    plain = fit(Estimator, params, X, y)
    monkeypatch.setattr(linreg.training, "CHUNK_SECONDS", chunk_seconds)
    chunked = fit(Estimator, params, X, y)
    assert chunked.n_iter_ == plain.n_iter_ < params["epochs"]
    np.testing.assert_array_equal(chunked.coef_, plain.coef_)


@pytest.mark.parametrize("n_threads", [1, 2])
def test_thread_count_does_not_change_where_training_stops(n_threads):
    X, y = noisy_problem(n=40_000, d=32)  # big enough for threads to share the pass
    plain = fit(linreg.GDRegressor, dict(GD, epochs=500), X, y, n_threads=1)
    threaded = fit(linreg.GDRegressor, dict(GD, epochs=500), X, y, n_threads=n_threads)
    assert threaded.n_iter_ == plain.n_iter_
    np.testing.assert_array_equal(threaded.coef_, plain.coef_)


def test_gd_stops_where_the_numpy_twin_stops():
    X, y = noisy_problem()
    model = fit(linreg.GDRegressor, GD, X, y)
    W, b = np.zeros(X.shape[1]), np.zeros(1)
    losses = np.empty(GD["epochs"])
    stop = kernels.new_early_stop(GD["tol"], GD["n_iter_no_change"])
    n = reference.gd_epochs(X, y, W, b, GD["lr"], losses, early_stop=stop)
    assert model.n_iter_ == n
    np.testing.assert_allclose(model.coef_, W, rtol=1e-12)


def test_kernels_report_the_stop_explicitly():
    X, y = noisy_problem()
    W, b = np.zeros(X.shape[1]), np.zeros(1)
    stop = kernels.new_early_stop(GD["tol"], GD["n_iter_no_change"])
    done = 0
    # One epoch per call: the stop is the last epoch of a call, and says so.
    while done < GD["epochs"]:
        done += kernels.gd_epochs(X, y, W, b, GD["lr"], np.empty(1), early_stop=stop)
        if stop["stopped"][0]:
            break
    assert stop["stopped"][0] and done == fit(linreg.GDRegressor, GD, X, y).n_iter_
