"""float32 data at the ends of float32's range: squares past it in the Gram products
(the block is redone in double), and column variances whose inverse float32 cannot hold
(a clear ValueError, not weights frozen at 0), and a divergence message that does not
suggest lr=nan."""
import math

import numpy as np
import pytest

from linreg import GDRegressor, SGDRegressor, kernels
from linreg.exceptions import DivergenceError


def _scaled(scale, d, seed=0):
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((3000, d)) * scale).astype(np.float32)
    y = (X.astype(np.float64) @ rng.standard_normal(d) / scale + 0.01
         * rng.standard_normal(3000)).astype(np.float32)
    return X, y


def test_float32_gram_products_past_float32_range_are_taken_in_double():
    # |x| ~ 1e18: squares ~1e36, sums over a block past float32's 3.4e38; d = 20 goes
    # through sgemm. The statistics were inf (and GD "auto" raised LinAlgError from
    # eigvalsh); they match double's now.
    X, y = _scaled(1e18, 20)
    ours = kernels.gram_statistics(X, y, n_threads=1)
    exact = kernels.gram_statistics(X.astype(np.float64), y.astype(np.float64), n_threads=1)
    assert np.isfinite(ours.XtX).all()
    assert np.abs(ours.XtX - exact.XtX).max() <= 1e-5 * np.abs(exact.XtX).max()
    gram = GDRegressor(method="gram", epochs=200).fit(X, y)
    fused = GDRegressor(method="fused", epochs=200).fit(X, y)
    np.testing.assert_allclose(gram.coef_ * 1e18, fused.coef_ * 1e18, rtol=1e-3, atol=1e-3)
    assert gram.loss_curve_[-1] < 1e-3


@pytest.mark.parametrize("scale", [1e25, 1e-25])
@pytest.mark.parametrize("make", [lambda: GDRegressor(method="gram", epochs=5),
                                  lambda: GDRegressor(method="fused", epochs=5),
                                  lambda: SGDRegressor(epochs=2)],
                         ids=["gd-gram", "gd-fused", "sgd"])
def test_float32_variances_float32_cannot_invert_are_refused(make, scale):
    # 1 / var rounds to 0 (std 1e25) or inf (std 1e-25) in float32: the weights were
    # frozen at 0 with only a ConvergenceWarning, or became NaN.
    X, y = _scaled(scale, 4)
    model = make()
    with pytest.raises(ValueError, match="X is float32.*variance.*float64"):
        model.fit(X, y)
    assert not hasattr(model, "coef_")
    model.fit(X.astype(np.float64), y.astype(np.float64))  # the way out works
    assert np.isfinite(model.coef_).all()


def test_divergence_with_a_non_finite_lr_does_not_suggest_one():
    message = str(DivergenceError(3, math.nan))
    assert "lr=nan" in message and "e.g. lr=nan" not in message
    assert "not finite" in message
    assert "e.g. lr=0.01" in str(DivergenceError(3, 0.1))
