"""sample_weight in fit, partial_fit and score (issue 13): GD on the weighted MSE (integer
weights train as repeated rows), per-sample SGD scaling each update by its weight as
scikit-learn's SGDRegressor does (update for update, and against the NumPy twin), weighted
R^2 as scikit-learn's r2_score, and bad weights refused by name."""
import numpy as np
import pytest

import linreg
from _helpers import linear_data
from linreg import reference

sklearn_linear = pytest.importorskip("sklearn.linear_model")
sklearn_metrics = pytest.importorskip("sklearn.metrics")


def problem(n=80, d=5, seed=0, k=None):
    return linear_data(k=k, seed=seed, n=n, d=d, noise=0.3)


def weights(n, seed=1, zeros=True):
    """Real weights in [0, 3), some exactly zero."""
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.0, 3.0, n)
    if zeros:
        w[::7] = 0.0
    return w


SGD_CASES = {
    "plain": dict(),
    "l2": dict(penalty="l2", alpha=0.02),
    "l1": dict(penalty="l1", alpha=0.01),
    "elasticnet": dict(penalty="elasticnet", alpha=0.02, l1_ratio=0.4),
    "invscaling": dict(lr_schedule="invscaling", power_t=0.3),
    "optimal": dict(lr_schedule="optimal", penalty="l2", alpha=2.0),
    "average": dict(average=True),
    "l2-invscaling-average": dict(lr_schedule="invscaling", penalty="l2", alpha=0.02,
                                  average=10),
}


def sklearn_sgd(params, lr, epochs):
    return sklearn_linear.SGDRegressor(
        penalty=params.get("penalty"), alpha=params.get("alpha", 0.0001) / 2,
        l1_ratio=params.get("l1_ratio", 0.15),
        learning_rate=params.get("lr_schedule", "constant"), eta0=2 * lr,
        power_t=params.get("power_t", 0.25), average=params.get("average", False),
        max_iter=epochs, shuffle=False, tol=None)


@pytest.mark.parametrize("name", list(SGD_CASES))
def test_weighted_per_sample_sgd_follows_scikit_learn(name):
    params = SGD_CASES[name]
    X, y = problem()
    w = weights(len(y))
    ours = linreg.SGDRegressor(lr=0.01, epochs=4, shuffle=False, **params).fit(
        X, y, sample_weight=w)
    theirs = sklearn_sgd(params, 0.01, 4).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_[0], rtol=1e-9)
    # Without weights the trajectory is another one: the weights were used.
    unweighted = linreg.SGDRegressor(lr=0.01, epochs=4, shuffle=False, **params).fit(X, y)
    assert np.abs(unweighted.coef_ - ours.coef_).max() > 1e-3


@pytest.mark.parametrize("name", list(SGD_CASES))
def test_weighted_per_sample_sgd_follows_the_numpy_twin(name):
    params = dict(SGD_CASES[name])
    X, y = problem(seed=2)
    w_sample = weights(len(y), seed=3)
    ours = linreg.SGDRegressor(lr=0.01, epochs=3, shuffle=False, **params).fit(
        X, y, sample_weight=w_sample)
    average = params.pop("average", False)
    w, b = np.zeros(X.shape[1]), np.zeros(1)
    losses, w_avg, b_avg, _ = reference.sgd_sklearn_rule(
        X, y, w, b, lr=0.01, epochs=3, penalty=params.get("penalty"),
        alpha=params.get("alpha", 0.0001), l1_ratio=params.get("l1_ratio", 0.15),
        schedule=params.get("lr_schedule", "constant"), power_t=params.get("power_t", 0.25),
        average=int(average), sample_weight=w_sample)
    np.testing.assert_allclose(ours.coef_, w if w_avg is None else w_avg, rtol=1e-9,
                               atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, (b if b_avg is None else b_avg)[0], rtol=1e-9)
    # loss_curve_ is the weighted mean of the squared errors seen in each epoch.
    np.testing.assert_allclose(ours.loss_curve_, losses, rtol=1e-9)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k", [None, 3], ids=["y1d", "k3"])
@pytest.mark.parametrize("params", [
    dict(method="fused"),
    dict(method="gram"),
    dict(method="fused", momentum=0.9, nesterov=True, penalty="l2", alpha=0.05),
    dict(method="gram", lr_schedule="invscaling", average=True),
], ids=["fused", "gram", "fused-nesterov-l2", "gram-invscaling-average"])
def test_gd_with_integer_weights_trains_as_gd_on_repeated_rows(dtype, k, params):
    X, y = problem(n=60, k=k)
    X, y = X.astype(dtype), y.astype(dtype)
    counts = np.random.default_rng(4).integers(0, 4, len(y))
    weighted = linreg.GDRegressor(lr=0.05, epochs=40, **params).fit(
        X, y, sample_weight=counts)
    repeated = linreg.GDRegressor(lr=0.05, epochs=40, **params).fit(
        np.repeat(X, counts, axis=0), np.repeat(y, counts, axis=0))
    rtol = 1e-10 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(weighted.intercept_, repeated.intercept_, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=rtol)


@pytest.mark.parametrize("Estimator", [linreg.GDRegressor, linreg.SGDRegressor])
def test_lr_auto_reaches_weighted_least_squares(Estimator):
    rng = np.random.default_rng(5)
    # Raw units, and weights that matter: half the rows follow another line.
    X = rng.normal(size=(3000, 4)) * [1.0, 50.0, 0.02, 3.0] + [0.0, 200.0, 1.0, -4.0]
    y = X @ [1.0, 0.02, 30.0, -2.0] + 3.0 + 0.1 * rng.standard_normal(3000)
    y[1500:] += 5.0 * X[1500:, 0]
    w = np.where(np.arange(3000) < 1500, 4.0, 0.25)
    model = Estimator(random_state=0).fit(X, y, sample_weight=w) if (
        Estimator is linreg.SGDRegressor) else Estimator().fit(X, y, sample_weight=w)
    A = np.column_stack([X, np.ones(len(y))]) * np.sqrt(w)[:, None]
    solution = np.linalg.lstsq(A, y * np.sqrt(w), rcond=None)[0]
    best = 1 - np.sum(w * (A / np.sqrt(w)[:, None] @ solution - y) ** 2) / np.sum(
        w * (y - np.average(y, weights=w)) ** 2)
    unweighted_best = linreg.GDRegressor().fit(X, y).score(X, y, sample_weight=w)
    assert best - unweighted_best > 1e-3  # the weights change the answer
    assert model.score(X, y, sample_weight=w) == pytest.approx(best, abs=1e-4)


@pytest.mark.parametrize("batch_size", [1, 7])
def test_weights_of_one_change_nothing(batch_size):
    X, y = problem(seed=6)
    ones = np.ones(len(y))
    for make in (lambda: linreg.SGDRegressor(lr=0.01, epochs=3, shuffle=False,
                                             batch_size=batch_size, penalty="l2"),
                 lambda: linreg.GDRegressor(lr=0.05, epochs=30, method="fused")):
        weighted, plain = make().fit(X, y, sample_weight=ones), make().fit(X, y)
        np.testing.assert_allclose(weighted.coef_, plain.coef_, rtol=1e-13)
        np.testing.assert_allclose(weighted.loss_curve_, plain.loss_curve_, rtol=1e-13)


def test_mini_batch_gradient_is_the_weighted_sum_over_the_batch_rows():
    X, y = problem(n=30, d=3, seed=7)
    w_sample = weights(30, seed=8)
    model = linreg.SGDRegressor(lr=0.02, epochs=2, batch_size=4, shuffle=False).fit(
        X, y, sample_weight=w_sample)
    w, b = np.zeros(3), 0.0
    for _ in range(2):
        for start in range(0, 30, 4):
            rows = slice(start, start + 4)
            r = (X[rows] @ w + b - y[rows]) * w_sample[rows]
            count = len(r)
            w, b = w - 0.02 * 2 * X[rows].T @ r / count, b - 0.02 * 2 * r.sum() / count
    np.testing.assert_allclose(model.coef_, w, rtol=1e-12)
    np.testing.assert_allclose(model.intercept_, b, rtol=1e-12)


@pytest.mark.parametrize("Estimator", [linreg.GDRegressor, linreg.SGDRegressor])
def test_partial_fit_with_weights_is_one_weighted_epoch(Estimator):
    X, y = problem(seed=9)
    w = weights(len(y), seed=10)
    params = dict(lr=0.01) if Estimator is linreg.GDRegressor else dict(lr=0.01, shuffle=False)
    streamed = Estimator(**params).partial_fit(X, y, sample_weight=w)
    fitted = Estimator(epochs=1, **params).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(streamed.coef_, fitted.coef_, rtol=1e-13)
    assert not np.allclose(streamed.coef_, Estimator(**params).partial_fit(X, y).coef_)


def test_score_with_weights_is_scikit_learn_r2_score():
    X, y = problem(seed=11, k=2)
    w = weights(len(y), seed=12)
    model = linreg.GDRegressor(lr=0.05, epochs=50).fit(X, y)
    expected = sklearn_metrics.r2_score(y, model.predict(X), sample_weight=w)
    assert model.score(X, y, sample_weight=w) == pytest.approx(expected, rel=1e-12)
    assert model.score(X, y, sample_weight=w) != pytest.approx(model.score(X, y), rel=1e-6)


BAD_WEIGHTS = [
    (np.full(80, -1.0), "non-negative"),
    (np.r_[np.nan, np.ones(79)], "NaN or infinity"),
    (np.ones(79), r"shape \(80,\)"),
    (np.ones((80, 1)), r"shape \(80,\)"),
    (np.zeros(80), "all zero"),
    (["a"] * 80, "sample_weight"),
]


@pytest.mark.parametrize("bad, message", BAD_WEIGHTS,
                         ids=["negative", "nan", "short", "2-D", "zero", "strings"])
@pytest.mark.parametrize("call", ["fit", "partial_fit", "score"])
def test_bad_weights_are_refused_by_name(bad, message, call):
    X, y = problem()
    model = linreg.GDRegressor(lr=0.01, epochs=2)
    if call == "score":
        model.fit(X, y)
    with pytest.raises((ValueError, TypeError), match=message) as error:
        getattr(model, call)(X, y, sample_weight=bad)
    assert "sample_weight" in str(error.value)
    if call != "score":
        assert not hasattr(model, "coef_")


def test_weights_are_not_modified():
    X, y = problem()
    w = weights(len(y))
    before = w.copy()
    w.flags.writeable = False
    linreg.SGDRegressor(lr=0.01, epochs=2).fit(X, y, sample_weight=w)
    linreg.GDRegressor().fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(w, before)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("options", [dict(), dict(momentum=0.5), dict(penalty="l2", alpha=0.1),
                                     dict(penalty="l1", alpha=0.05)],
                         ids=["plain", "momentum", "l2", "l1"])
def test_weighted_per_sample_sgd_with_two_outputs_scales_each_update(dtype, options):
    X, Y = problem(n=40, d=3, seed=13, k=2)
    X, Y = X.astype(dtype), Y.astype(dtype)
    w_sample = weights(40, seed=14)
    model = linreg.SGDRegressor(lr=0.01, epochs=2, shuffle=False, **options).fit(
        X, Y, sample_weight=w_sample)
    W, b, velocity = np.zeros((3, 2)), np.zeros(2), None
    u, q = 0.0, np.zeros((3, 2))  # the L1 penalty a weight could have, and has, received
    X64, Y64 = X.astype(np.float64), Y.astype(np.float64)
    for _ in range(2):
        for i in range(40):
            r = X64[i] @ W + b - Y64[i]
            g_W, g_b = w_sample[i] * np.outer(X64[i], r), w_sample[i] * r  # 2/k = 1
            if options.get("momentum"):
                g = np.vstack([g_W, g_b])
                velocity = g if velocity is None else 0.5 * velocity + g
                g_W, g_b = velocity[:3], velocity[3]
            if options.get("penalty") == "l2":
                W *= 1 - 0.01 * 0.1
            W -= 0.01 * g_W
            b -= 0.01 * g_b
            if options.get("penalty") == "l1":
                u += 0.01 * 0.05
                before = W.copy()
                W = np.where(W > 0, np.maximum(0, W - (u + q)),
                             np.where(W < 0, np.minimum(0, W + (u - q)), W))
                q += W - before
    rtol = 1e-12 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(model.coef_, W.T, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(model.intercept_, b, rtol=rtol, atol=rtol)
