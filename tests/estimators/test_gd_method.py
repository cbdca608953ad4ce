"""GDRegressor(method=...): "fused" and "gram" train the same model, and "auto" picks
the cheaper. (The Gram kernels themselves: ../kernels/test_gram.py.)
"""
import numpy as np
import pytest

import linreg
from linreg.estimators import choose_method


def random_problem(dtype, k=3):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 10))
    Y = X @ rng.standard_normal((10, k)) + 0.1 * rng.standard_normal((2000, k))
    return X.astype(dtype), Y.astype(dtype)


def test_estimator_methods_agree_and_auto_follows_the_rule():
    X, Y = random_problem(np.float64)
    fused = linreg.GDRegressor(lr=0.05, epochs=200, method="fused").fit(X, Y)
    gram = linreg.GDRegressor(lr=0.05, epochs=200, method="gram").fit(X, Y)
    auto = linreg.GDRegressor(lr=0.05, epochs=200).fit(X, Y)
    assert (fused.method_, gram.method_, auto.method_) == ("fused", "gram", "gram")
    np.testing.assert_allclose(gram.coef_, fused.coef_, rtol=1e-9)
    np.testing.assert_allclose(gram.loss_curve_, fused.loss_curve_, rtol=1e-9)
    with pytest.raises(ValueError, match="method must be one of"):
        linreg.GDRegressor(method="newton").fit(X, Y)


@pytest.mark.parametrize(
    "n, d, k, epochs, expected",
    [
        (1_000_000, 32, 1, 1000, "gram"),  # many epochs over tall data
        (1_000_000, 32, 1, 1, "fused"),  # one epoch: the statistics cost more than it
        (1_000_000, 32, 1, 6, "fused"),  # below the measured break-even (~7.2-7.7 epochs)
        (1_000_000, 32, 1, 20, "gram"),
        (3, 1, 1, 1000, "gram"),  # the seed
        (100, 5000, 1, 1000, "fused"),  # too many features for d*d statistics
    ],
)
def test_auto_rule(n, d, k, epochs, expected):
    assert choose_method("auto", n, d, k, epochs) == expected
    assert choose_method("fused", n, d, k, epochs) == "fused"
