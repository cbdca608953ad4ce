"""GDRegressor and SGDRegressor: the trajectories of the NumPy reference and of
scikit-learn, warm starts, and the data they train on.

Elsewhere: the seed tutorial in test_seed_tutorial.py, bad input in test_input_checks.py,
the epoch loop (stopping, callbacks, log lines, Ctrl-C) and divergence in ../training/.
"""
import numpy as np
import pytest

import linreg
from linreg import _compiled, reference


def make_problem(n=200, d=5, k=None, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W = rng.standard_normal((d,) if k is None else (d, k))
    y = X @ W + 0.5 + 0.1 * rng.standard_normal((n,) if k is None else (n, k))
    return X.astype(dtype), y.astype(dtype)


def rng_state_for(seed):
    """The kernels' shuffle state that SGDRegressor(random_state=seed) starts from."""
    return np.random.SeedSequence(seed).generate_state(1, dtype=np.uint64)


# -- GD ----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [None, 3])
def test_gd_matches_the_numpy_loop(dtype, k):
    X, y = make_problem(k=k, dtype=dtype)
    model = linreg.GDRegressor(lr=0.05, epochs=40).fit(X, y)
    W = np.zeros((X.shape[1],) if k is None else (X.shape[1], k), dtype)
    b = np.zeros(1 if k is None else k, dtype)
    losses = np.empty(40)
    assert reference.gd_epochs(X, y, W, b, 0.05, losses) == 40
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(model.loss_curve_, losses, rtol=rtol)
    np.testing.assert_allclose(model.coef_, W.T, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(model.intercept_, b[0] if k is None else b, rtol=rtol)
    assert model.coef_.dtype == dtype
    assert model.coef_.shape == ((X.shape[1],) if k is None else (k, X.shape[1]))
    assert model.n_iter_ == 40 and model.n_features_in_ == X.shape[1]
    assert isinstance(model.intercept_, float) if k is None else model.intercept_.shape == (k,)
    assert model.predict(X).shape == y.shape


def test_full_batch_sgd_is_gd():
    X, y = make_problem()
    gd = linreg.GDRegressor(lr=0.05, epochs=30).fit(X, y)
    sgd = linreg.SGDRegressor(lr=0.05, epochs=30, batch_size=len(X), shuffle=False).fit(X, y)
    np.testing.assert_allclose(sgd.coef_, gd.coef_, rtol=1e-12)
    np.testing.assert_allclose(sgd.loss_curve_, gd.loss_curve_, rtol=1e-12)


def test_warm_start_continues_exactly():
    X, y = make_problem()
    # A numeric lr: plain GD, whose whole state is W and b (lr="auto" also carries
    # momentum, which a new fit starts afresh). One method for both: "auto" may take
    # "fused" for 5 epochs and "gram" for 10, which round differently.
    whole = linreg.GDRegressor(lr=0.01, epochs=10, method="gram").fit(X, y)
    halves = linreg.GDRegressor(lr=0.01, epochs=5, method="gram",
                                warm_start=True).fit(X, y).fit(X, y)
    np.testing.assert_array_equal(halves.coef_, whole.coef_)
    np.testing.assert_array_equal(halves.loss_curve_, whole.loss_curve_)
    assert halves.n_iter_ == 5
    cold = linreg.GDRegressor(lr=0.01, epochs=5).fit(X, y).fit(X, y)
    assert len(cold.loss_curve_) == 5


# -- SGD ---------------------------------------------------------------------------------


@pytest.mark.parametrize("epochs", [1, 5])
def test_sgd_follows_scikit_learn(epochs):
    sklearn_linear = pytest.importorskip("sklearn.linear_model")
    X, y = make_problem(n=300, d=6)
    ours = linreg.SGDRegressor(lr=0.01, epochs=epochs, shuffle=False).fit(X, y)
    theirs = sklearn_linear.SGDRegressor(
        penalty=None, learning_rate="constant", eta0=0.02, tol=None, shuffle=False,
        max_iter=epochs,
    ).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_[0], rtol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_size", [1, 7])
@pytest.mark.parametrize("k", [None, 2])
def test_shuffled_sgd_matches_the_reference_with_the_same_seed(dtype, batch_size, k):
    X, y = make_problem(n=101, k=k, dtype=dtype)
    model = linreg.SGDRegressor(lr=0.01, epochs=4, batch_size=batch_size, random_state=42)
    model.fit(X, y)
    W = np.zeros((X.shape[1],) if k is None else (X.shape[1], k), dtype)
    b = np.zeros(1 if k is None else k, dtype)
    losses = np.empty(4)
    order = np.arange(len(X))
    reference.sgd_epochs(X, y, W, b, 0.01, losses, order=order, batch_size=batch_size,
                         rng_state=rng_state_for(42))
    rtol = 1e-12 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(model.loss_curve_, losses, rtol=rtol)
    np.testing.assert_allclose(model.coef_, W.T, rtol=rtol, atol=rtol)


def test_no_shuffle_visits_rows_in_order():
    X, y = make_problem()
    model = linreg.SGDRegressor(lr=0.01, epochs=2, shuffle=False).fit(X, y)
    W, b = np.zeros(X.shape[1]), np.zeros(1)
    first = reference.sgd_epoch(X, y, W, b, 0.01)
    second = reference.sgd_epoch(X, y, W, b, 0.01)
    np.testing.assert_allclose(model.loss_curve_, [first, second], rtol=1e-12)
    np.testing.assert_allclose(model.coef_, W, rtol=1e-12)


# -- data handling -----------------------------------------------------------------------


class Recording:
    """Stands in for the compiled module and records the X each training kernel receives."""

    def __init__(self, compiled):
        self.compiled = compiled
        self.seen = []

    def __getattr__(self, name):
        function = getattr(self.compiled, name)
        # column_sums: the Gram pass's compiled read of X (its products go through BLAS).
        if name not in ("gd_epochs", "sgd_epochs", "gram_statistics", "column_sums"):
            return function

        def recorded(X, *args):
            self.seen.append(X)
            return function(X, *args)

        return recorded


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("Estimator", [linreg.GDRegressor, linreg.SGDRegressor])
def test_fit_trains_on_x_itself_in_its_dtype(Estimator, dtype, monkeypatch):
    X, y = make_problem(dtype=dtype)
    recording = Recording(_compiled.build)
    monkeypatch.setattr(_compiled, "build", recording)
    model = Estimator(epochs=3).fit(X, y)
    assert recording.seen and all(seen is X for seen in recording.seen)
    assert model.coef_.dtype == dtype


# -- failures ----------------------------------------------------------------------------


def test_float32_input_to_a_model_too_large_for_float32_is_refused():
    X, y = make_problem()
    model = linreg.GDRegressor(epochs=1).fit(X, y)
    model.coef_ = model.coef_ * 1e300  # fits in float64, not in float32
    with pytest.raises(ValueError, match="coefficients do not fit in X's dtype float32"):
        model.predict(X.astype(np.float32))
    assert np.isfinite(model.predict(X)).all()


@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_continuing_needs_the_same_features_and_outputs(how):
    X, y = make_problem(d=5)
    model = linreg.SGDRegressor(epochs=2, warm_start=True, random_state=0).fit(X, y)
    coef = model.coef_.copy()
    go = model.fit if how == "warm_start" else model.partial_fit
    with pytest.raises(ValueError, match="X has 3 features, but SGDRegressor is expecting 5"):
        go(X[:, :3], y)
    with pytest.raises(ValueError, match=r"y of shape \(200, 2\) does not fit the fitted coef_"):
        go(X, np.c_[y, y])
    np.testing.assert_array_equal(model.coef_, coef)
