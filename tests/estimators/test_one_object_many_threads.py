"""One estimator object used from several threads (issue 10): a second fit of the same
object while one runs is refused with a clear error (so it cannot roll back over the
first), and predict reads the coefficients and intercept of one fit, never a mix."""
import threading

import numpy as np
import pytest

import linreg


def problem(n=200, d=4, k=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, X @ rng.standard_normal((d, k)) + 3.0


@pytest.mark.parametrize("Estimator", [linreg.GDRegressor, linreg.SGDRegressor])
def test_a_second_fit_of_the_same_object_is_refused_while_one_runs(Estimator):
    X, y = problem()
    in_fit, release = threading.Event(), threading.Event()

    def hold(epoch, loss, model):
        in_fit.set()
        release.wait(10)

    seeded = {"random_state": 0} if Estimator is linreg.SGDRegressor else {}
    model = Estimator(lr=0.01, epochs=3, callback=hold, **seeded)
    first = threading.Thread(target=model.fit, args=(X, y))
    first.start()
    assert in_fit.wait(10)
    try:
        with pytest.raises(RuntimeError, match="being fitted in another thread"):
            model.fit(X, 2 * y)
        with pytest.raises(RuntimeError, match="being fitted in another thread"):
            model.partial_fit(X, 2 * y)
    finally:
        release.set()
        first.join(10)
    # The first fit completed and was not rolled back by the refused ones.
    expected = Estimator(lr=0.01, epochs=3, **seeded).fit(X, y)
    np.testing.assert_array_equal(model.coef_, expected.coef_)
    np.testing.assert_array_equal(model.intercept_, expected.intercept_)
    model.set_params(callback=None).fit(X, y)  # and the object can be fitted again


def test_predict_during_a_refit_uses_one_fits_coefficients():
    X, y = problem()
    old = linreg.GDRegressor(lr=0.01, epochs=5).fit(X, y)
    old_prediction = old.predict(X)
    predictions, in_fit, release = [], threading.Event(), threading.Event()

    def hold(epoch, loss, model):
        if epoch == 1:
            in_fit.set()
            release.wait(10)

    old.set_params(callback=hold, epochs=50, warm_start=True)
    refit = threading.Thread(target=old.fit, args=(X, y))
    refit.start()
    assert in_fit.wait(10)
    snapshot = (old.coef_.copy(), old.intercept_.copy())
    for _ in range(20):
        predictions.append(old.predict(X))
    release.set()
    refit.join(10)
    during = X @ snapshot[0].T + snapshot[1]
    for prediction in predictions:
        assert np.allclose(prediction, during, rtol=1e-12)
    assert not np.allclose(old.predict(X), old_prediction)
