"""GDRegressor and SGDRegressor: the seed's semantics, scikit-learn's trajectory, options."""
import re
import signal
import threading
import time

import numpy as np
import pytest

import linreg
from _helpers import SEED_EPOCH_LINES, SEED_PREDICTION_AT_10
from linreg import _compiled, kernels, reference

SEED_LINES = SEED_EPOCH_LINES


def make_problem(n=200, d=5, k=None, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W = rng.standard_normal((d,) if k is None else (d, k))
    y = X @ W + 0.5 + 0.1 * rng.standard_normal((n,) if k is None else (n, k))
    return X.astype(dtype), y.astype(dtype)


def rng_state_for(seed):
    """The kernels' shuffle state that SGDRegressor(random_state=seed) starts from."""
    return np.random.SeedSequence(seed).generate_state(1, dtype=np.uint64)


# -- the seed tutorial -------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gd_prints_the_seed_lines_and_predicts_like_the_seed(dtype, capsys):
    x = np.array([[1.0], [2.0], [3.0]], dtype=dtype)
    y = np.array([3.0, 6.0, 9.0], dtype=dtype)
    model = linreg.GDRegressor(lr=0.01, epochs=1000, log_every=100).fit(x, y)
    assert capsys.readouterr().out.splitlines() == SEED_LINES
    prediction = model.predict(np.array([[10.0]], dtype=dtype))
    assert prediction.shape == (1,) and prediction.dtype == dtype
    assert abs(float(prediction[0]) - SEED_PREDICTION_AT_10) < 1e-5


def test_demo_prints_the_seed_output_then_the_speedup():
    import io

    from linreg.demo import main

    out = io.StringIO()
    main(out)
    lines = out.getvalue().splitlines()
    assert lines[:10] == SEED_LINES
    label, value = lines[10].rsplit(": ", 1)
    assert label == "prediction after training for input 10"
    assert abs(float(value) - SEED_PREDICTION_AT_10) < 1e-5
    assert re.fullmatch(r"linreg trained the 1000 epochs in [\d.]+ ms, \d+x faster than .*", lines[11])


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
    whole = linreg.GDRegressor(epochs=10).fit(X, y)
    halves = linreg.GDRegressor(epochs=5, warm_start=True).fit(X, y).fit(X, y)
    np.testing.assert_array_equal(halves.coef_, whole.coef_)
    np.testing.assert_array_equal(halves.loss_curve_, whole.loss_curve_)
    assert halves.n_iter_ == 5
    cold = linreg.GDRegressor(epochs=5).fit(X, y).fit(X, y)
    assert len(cold.loss_curve_) == 5


def test_stopping_rule_stops_where_the_reference_does():
    X, y = make_problem()
    model = linreg.GDRegressor(lr=0.1, epochs=5000, tol=1e-6, n_iter_no_change=3).fit(X, y)
    W, b, losses = np.zeros(X.shape[1]), np.zeros(1), np.empty(5000)
    n = reference.gd_epochs(X, y, W, b, 0.1, losses, early_stop=kernels.new_early_stop(1e-6, 3))
    assert 3 < model.n_iter_ == n < 5000
    np.testing.assert_allclose(model.coef_, W, rtol=1e-12)


def test_callback_sees_each_epoch_and_can_stop():
    X, y = make_problem()
    seen = []

    def callback(epoch, loss, model):
        seen.append((epoch, loss, model.coef_.copy()))
        return epoch == 7

    model = linreg.GDRegressor(epochs=100, callback=callback).fit(X, y)
    assert [e for e, _, _ in seen] == list(range(1, 8))
    assert model.n_iter_ == 7 and len(model.loss_curve_) == 7
    np.testing.assert_array_equal([l for _, l, _ in seen], model.loss_curve_)
    np.testing.assert_array_equal(seen[2][2], linreg.GDRegressor(epochs=3).fit(X, y).coef_)


def test_log_lines_with_several_weights_keep_the_seed_prefix(capsys):
    X, y = make_problem(d=4, k=2)
    linreg.GDRegressor(epochs=4, log_every=2).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    for epoch, line in zip((2, 4), lines):
        assert re.fullmatch(rf"Epoch \[{epoch}/4\], W: \[.*\], b: \[.*\], Loss: \d+\.\d{{4}}", line)


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


def test_same_seed_is_bit_identical_whatever_the_chunking(capsys):
    X, y = make_problem()
    plain = linreg.SGDRegressor(epochs=6, random_state=3).fit(X, y)
    logged = linreg.SGDRegressor(epochs=6, random_state=3, log_every=1).fit(X, y)
    capsys.readouterr()
    np.testing.assert_array_equal(plain.coef_, logged.coef_)
    np.testing.assert_array_equal(plain.loss_curve_, logged.loss_curve_)
    other = linreg.SGDRegressor(epochs=6, random_state=4).fit(X, y)
    assert not np.array_equal(plain.coef_, other.coef_)
    generator = linreg.SGDRegressor(epochs=2, random_state=np.random.default_rng(0)).fit(X, y)
    assert np.isfinite(generator.coef_).all()


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
        if name not in ("gd_epochs", "sgd_epochs", "gram_statistics"):
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


def test_inputs_are_unchanged_and_array_likes_are_accepted():
    X, y = make_problem(n=20, d=3)
    X_before, y_before = X.tobytes(), y.tobytes()

    class ArrayLike:
        def __init__(self, array):
            self.array = array

        def __array__(self, dtype=None, copy=None):
            return self.array

    from_arrays = linreg.SGDRegressor(epochs=3, random_state=0).fit(X, y)
    from_lists = linreg.SGDRegressor(epochs=3, random_state=0).fit(X.tolist(), y.tolist())
    from_objects = linreg.SGDRegressor(epochs=3, random_state=0).fit(ArrayLike(X), ArrayLike(y))
    assert X.tobytes() == X_before and y.tobytes() == y_before
    np.testing.assert_array_equal(from_lists.coef_, from_arrays.coef_)
    np.testing.assert_array_equal(from_objects.coef_, from_arrays.coef_)
    ints = linreg.GDRegressor(epochs=3).fit(np.arange(12).reshape(6, 2), np.arange(6))
    assert ints.coef_.dtype == np.float64


# -- failures ----------------------------------------------------------------------------


@pytest.mark.parametrize("Estimator", [linreg.GDRegressor, linreg.SGDRegressor])
def test_divergence_raises_and_leaves_the_model_as_it_was(Estimator):
    X, y = make_problem()
    params = {"shuffle": False} if Estimator is linreg.SGDRegressor else {}
    model = Estimator(lr=50.0, epochs=1000, **params)
    with pytest.raises(linreg.DivergenceError, match=r"epoch \d+ with lr=50.*smaller lr") as info:
        model.fit(X * 1e3, y)
    assert isinstance(info.value, ValueError)
    assert 1 <= info.value.epoch < 1000 and info.value.lr == 50.0
    assert len(info.value.losses) == info.value.epoch - 1
    assert not hasattr(model, "coef_")  # unfitted before, unfitted after
    fitted = Estimator(lr=0.01, epochs=3, **params).fit(X, y)
    coef = fitted.coef_.copy()
    with pytest.raises(linreg.DivergenceError):
        fitted.set_params(lr=50.0, epochs=1000, warm_start=True).fit(X * 1e3, y)
    np.testing.assert_array_equal(fitted.coef_, coef)  # fitted before: kept as it was


@pytest.mark.parametrize(
    "params, match",
    [
        ({"lr": 0}, "lr"),
        ({"lr": -1.0}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"lr": "fast"}, "lr"),
        ({"epochs": 0}, "epochs"),
        ({"epochs": 2.5}, "epochs"),
        ({"log_every": -1}, "log_every"),
        ({"tol": "small"}, "tol"),
        ({"tol": 1e-3, "n_iter_no_change": 0}, "n_iter_no_change"),
        ({"callback": 3}, "callback"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 1000}, "batch_size"),
        ({"shuffle": "yes"}, "shuffle"),
        ({"random_state": "seed"}, "random_state"),
        ({"warm_start": "no"}, "warm_start"),
        ({"epochs": 10**30}, "epochs"),
    ],
)
def test_bad_settings_fail_at_fit_with_their_name(params, match):
    model = linreg.SGDRegressor(**params)  # stored unchanged, as scikit-learn requires
    assert all(getattr(model, name) is value for name, value in params.items())
    with pytest.raises((ValueError, TypeError), match=match):
        model.fit(*make_problem(n=50))


def test_predict_checks_its_input():
    with pytest.raises(linreg.NotFittedError, match="not fitted"):
        linreg.GDRegressor().predict([[1.0]])
    model = linreg.GDRegressor(epochs=2).fit(*make_problem(d=5))
    with pytest.raises(ValueError, match="3 features.*expecting 5 features"):
        model.predict(np.ones((4, 3)))


def test_nan_in_the_data_is_named():
    X, y = make_problem()
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        linreg.GDRegressor().fit(X, y)
    X[3, 1] = 0.0
    y[0] = np.inf
    with pytest.raises(ValueError, match="y contains NaN"):
        linreg.SGDRegressor().fit(X, y)


def test_ctrl_c_interrupts_a_long_fit():
    X, y = make_problem(n=20_000, d=32)
    model = linreg.GDRegressor(lr=1e-3, epochs=10**7)  # hours if nothing interrupted it
    main = threading.main_thread().ident
    timer = threading.Timer(0.3, signal.pthread_kill, (main, signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            model.fit(X, y)
    finally:
        timer.cancel()
    # Not a timing claim: only that the fit did not run its 10**7 epochs.
    assert time.perf_counter() - start < 60


@pytest.mark.parametrize("Estimator", [linreg.GDRegressor, linreg.SGDRegressor])
@pytest.mark.parametrize("k", [None, 2])
def test_log_lines_do_not_depend_on_the_chunking(Estimator, k, capsys, monkeypatch):
    # Log lines are printed from weights the kernel records at each log epoch, when the
    # chunk holding it returns; one-epoch chunks must print exactly the same lines.
    X, y = make_problem(n=64, d=3, k=k)
    params = {"random_state": 0} if Estimator is linreg.SGDRegressor else {"method": "fused"}
    Estimator(epochs=30, log_every=7, **params).fit(X, y)
    whole = capsys.readouterr().out
    monkeypatch.setattr("linreg.training.CHUNK_SECONDS", 0.0)
    Estimator(epochs=30, log_every=7, **params).fit(X, y)
    assert capsys.readouterr().out == whole
    assert [line.split("]")[0] for line in whole.splitlines()] == [
        f"Epoch [{e}/30" for e in (7, 14, 21, 28)
    ]


def test_the_demos_numpy_baseline_does_the_same_work(capsys):
    from linreg.demo import fit_numpy, seed_data

    W, b = fit_numpy(*seed_data())
    assert capsys.readouterr().out.splitlines() == SEED_LINES
    assert abs(float(10 * W[0] + b[0]) - SEED_PREDICTION_AT_10) < 1e-5


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
