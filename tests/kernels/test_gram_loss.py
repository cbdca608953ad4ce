"""The "gram" method's loss never goes negative and stays accurate relative to itself
near convergence, where w'Gw - 2w'c + yy used to cancel to noise (issue 10)."""
import numpy as np
import pytest

import linreg
from linreg import kernels


def good_fit_problem(n=5000, d=8, noise=1e-3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 1.5, d) + rng.uniform(-1, 1, d)
    y = X @ rng.standard_normal(d) + 1.0 + noise * rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("noise", [1e-3, 1e-6, 0.0])
def test_gram_losses_are_never_negative_and_match_fused(impl, noise):
    X, y = good_fit_problem(noise=noise)
    gram = linreg.GDRegressor(lr=0.05, epochs=1500, method="gram").fit(X, y)
    fused = linreg.GDRegressor(lr=0.05, epochs=1500, method="fused").fit(X, y)
    assert (gram.loss_curve_ >= 0).all()
    # Accurate relative to the loss itself, down to the noise floor of the statistics.
    floor = 1e-13 * y.var()
    np.testing.assert_allclose(gram.loss_curve_, fused.loss_curve_, rtol=1e-6, atol=floor)


def test_gram_with_tol_zero_runs_like_fused(impl):
    X, y = good_fit_problem(noise=1e-3)
    params = dict(lr=0.05, epochs=1000, tol=0.0, n_iter_no_change=5)
    gram = linreg.GDRegressor(method="gram", **params).fit(X, y)
    fused = linreg.GDRegressor(method="fused", **params).fit(X, y)
    assert gram.n_iter_ == fused.n_iter_


def test_log_lines_never_print_a_negative_loss(capsys):
    X, y = good_fit_problem(noise=0.0)
    linreg.GDRegressor(lr=0.05, epochs=1500, log_every=20, method="gram").fit(X, y)
    out = capsys.readouterr().out
    assert out.count("Epoch [") == 75 and "Loss: -" not in out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gram_statistics_reference_point_residual_is_exact(impl, dtype):
    X, y = good_fit_problem(n=3000, noise=1e-2)
    X, y = X.astype(dtype), y.astype(dtype)
    stats = kernels.gram_statistics(X, y)
    Xc = X.astype(np.float64) - stats.mean_X
    R = Xc @ stats.ref_W[:, 0] - (y - stats.mean_Y[0])
    rtol = 1e-5 if dtype == np.float32 else 1e-9
    np.testing.assert_allclose(stats.ref_sse, R @ R, rtol=rtol)
    np.testing.assert_allclose(stats.ref_grad, stats.XtX @ stats.ref_W - stats.XtY,
                               rtol=1e-12, atol=1e-12 * np.abs(stats.XtY).max())
