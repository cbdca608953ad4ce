"""The Gram reference point of wide, short data (d > 0.15 n, conjugate-gradient steps) on
ill-conditioned data: lr="auto" GD takes its residual sum, ref_sse, as the least loss and
stops once within 1e-6 of it, so a point far from the least-squares solution (steps that
had not converged) stopped fits early, far above the least loss, and without a warning.
"""
import warnings

import numpy as np
import pytest

import linreg
from linreg import kernels


def wide_ill_conditioned(n, d, condition, seed=0):
    """(X, y): n rows of d features whose centred Gram matrix has the given condition
    number (singular values spread geometrically), offset by 3, and y = X w + noise."""
    rng = np.random.default_rng(seed)
    m = min(n, d)
    U, _ = np.linalg.qr(rng.standard_normal((n, m)))
    V, _ = np.linalg.qr(rng.standard_normal((d, m)))
    X = (U * np.geomspace(1.0, 1.0 / condition, m)) @ V.T * 10.0 + 3.0
    y = X @ rng.standard_normal(d) + 1e-3 * rng.standard_normal(n)
    return X, y


def least_squares_sse(X, y):
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    coef = np.linalg.lstsq(Xc, yc, rcond=None)[0]
    return float(np.sum((Xc @ coef - yc) ** 2))


@pytest.mark.parametrize("n, d, condition", [(300, 100, 1e3), (100, 60, 1e6)])
def test_wide_reference_point_is_the_least_squares_fit(n, d, condition):
    X, y = wide_ill_conditioned(n, d, condition)
    stats = kernels.gram_statistics(X, y, n_threads=1)
    least = least_squares_sse(X, y)
    # ref_sse is "the least any loss can be" (gram.pxi): the point must be the solution's.
    assert stats.ref_sse == pytest.approx(least, rel=1e-6, abs=1e-12 * stats.yy)


@pytest.mark.parametrize("n, d, condition", [(300, 100, 1e3), (100, 60, 1e6)])
def test_auto_gd_on_wide_data_does_not_stop_far_above_the_least_loss(n, d, condition):
    X, y = wide_ill_conditioned(n, d, condition)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = linreg.GDRegressor(method="gram", epochs=3000, n_threads=1).fit(X, y)
    warned = any(issubclass(w.category, linreg.ConvergenceWarning) for w in caught)
    loss = float(np.mean((model.predict(X) - y) ** 2))
    least = least_squares_sse(X, y) / n
    # Either the fit reached the least loss (its stopping rule), or it says it did not.
    assert warned or loss <= least * (1 + 1e-4) + 1e-12 * np.var(y)
