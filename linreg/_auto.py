"""What lr="auto" means: step sizes, momentum, preconditioner and stopping rule from the
data's own statistics, so that a fit on raw, unscaled data converges without tuning.

Preconditioning trains on centred, scaled features z = (x - mu) / s without copying X:
the step function maps the gradient through that change of variables (an O(d) transform,
see `_precondition` in linreg/_kernels/step.pxi), so W and b stay in the user's units.
In those coordinates the Hessian of the loss is (2/k) blockdiag(R, 1), R the features'
correlation matrix, whatever the raw scales were.

- GD with the Gram statistics: R and its extreme eigenvalues are exact, so the step is
  1 / lambda_max (GD cannot diverge) with Nesterov momentum tuned to the condition number
  (capped so that the epoch budget can still converge), and the fit stops once its loss
  is within 1e-6 of the least-squares loss, which the statistics give.
- GD over X ("fused"): lambda_max from a few power iterations (one pass over X each), no
  momentum (the condition number is unknown), and the fit stops when the loss has not
  improved by 1e-8 of itself for n_iter_no_change epochs.
- SGD: the largest step that is safe for every sample (1 / max_i |z_i|^2, as
  scikit-learn's SAG; for mini-batches, for every batch), with the iterates averaged
  after the first epoch (Polyak-
  Ruppert), which converges where a constant step alone stalls at a noise floor; it
  stops when the averaged model's loss (one more pass over the rows an epoch) has not
  improved by 1e-5 of itself for n_iter_no_change epochs.

This module imports linreg's compiled build and structs only.
"""
from typing import NamedTuple

import numpy as np

from linreg import _compiled
from linreg._structs import StepRule, StopRule

__all__ = ["Scaling", "scaling_for", "scaling_from_stats", "scaling_from_data", "fill_scaling", "gd_rules",
           "sgd_rules", "sgd_rules_for_norm", "gd_chunk_rule", "row_norms",
           "POWER_ITERATIONS", "TARGET_GAP", "FUSED_RTOL", "SGD_RTOL"]

#: Power iterations for lambda_max when there are no Gram statistics.
POWER_ITERATIONS = 12
#: GD with Gram statistics stops once (loss - least-squares loss) <= this * that loss
#: (float32 arithmetic resolves the loss to about 1e-6 of itself, so 1e-4 there).
TARGET_GAP = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 1e-4}
#: GD over X stops when the loss has not improved by this fraction of itself.
FUSED_RTOL = 1e-8
#: SGD stops when its averaged model's loss has not improved by this fraction of itself.
SGD_RTOL = 1e-5


class Scaling(NamedTuple):
    """The preconditioner: each feature's mean and 1 / variance (1 for constant ones)."""

    centre: np.ndarray  # (d,)
    inv_var: np.ndarray  # (d,)


def _inverse_variance(var):
    inv = np.ones_like(var)
    np.divide(1.0, var, out=inv, where=var > 0)
    return inv


def scaling_for(mean, var, fit_intercept=True):
    """The preconditioner of features with these means and variances: centred and scaled
    to unit variance; without an intercept, uncentred (centre 0) and scaled to a unit
    second moment, 1 / (var + mean^2), since b cannot absorb the means then."""
    if fit_intercept:
        return Scaling(np.asarray(mean, dtype=np.float64).copy(), _inverse_variance(var))
    return Scaling(np.zeros_like(mean, dtype=np.float64), _inverse_variance(var + mean**2))


def scaling_from_stats(stats, fit_intercept=True):
    """The preconditioner from Gram statistics: free (the means and XtX's diagonal)."""
    return scaling_for(stats.mean_X, stats.XtX.diagonal() / stats.n_samples, fit_intercept)


def scaling_from_data(X, n_threads, fit_intercept=True):
    """The preconditioner from one fused pass over X (two passes, compiled)."""
    d = X.shape[1]
    centre, var = np.empty(d), np.empty(d)
    _compiled.build.column_moments(X, centre, var, n_threads)
    return scaling_for(centre, var, fit_intercept)


def fill_scaling(model, rule, scaling):
    """Write the preconditioner into the model's centre and scale slots (row d: 0 and 1)."""
    slots = rule.slots
    d = model.shape[1] - 1
    model[slots["centre"], :d] = scaling.centre[:, None]
    model[slots["centre"], d] = 0
    model[slots["scale"], :d] = scaling.inv_var[:, None]
    model[slots["scale"], d] = 1


def _eigen_range(stats, scaling):
    """Extreme eigenvalues of the correlation matrix R = D XtX D / n, D = diag(s^-1)."""
    root = np.sqrt(scaling.inv_var)
    R = stats.XtX * np.outer(root, root) / stats.n_samples
    eigenvalues = np.linalg.eigvalsh(R)
    return max(float(eigenvalues[-1]), 0.0), max(float(eigenvalues[0]), 0.0)


def _power_lambda_max(X, Y, scaling, n_threads):
    """lambda_max of R by power iteration, one pass over X per iteration.

    R v = D Xc^T Xc D v / n, and Xc^T Xc w = n/2 (g(w, -mu.w) - g(0, 0)) for the gradient
    g of the single-output loss on Y's first column: the kernels' own pass, no copy of X.
    """
    n, d = X.shape
    root = np.sqrt(scaling.inv_var)
    Y1 = Y[:, :1]
    grad_W, grad_b = np.empty((d, 1), dtype=X.dtype), np.empty(1, dtype=X.dtype)
    zero_W, zero_b = np.zeros((d, 1), dtype=X.dtype), np.zeros(1, dtype=X.dtype)
    _compiled.build.loss_and_grad(X, Y1, zero_W, zero_b, grad_W, grad_b, n_threads)
    at_zero = grad_W[:, 0].astype(np.float64)
    v = np.random.default_rng(0).standard_normal(d)
    estimate = 1.0
    for _ in range(POWER_ITERATIONS):
        v /= np.linalg.norm(v)
        w = (root * v).astype(X.dtype)[:, None]
        b = np.array([-(scaling.centre @ w[:, 0])], dtype=X.dtype)
        _compiled.build.loss_and_grad(X, Y1, w, b, grad_W, grad_b, n_threads)
        Rv = root * (grad_W[:, 0] - at_zero) / 2.0
        estimate = float(v @ Rv)
        if not np.isfinite(estimate) or np.linalg.norm(Rv) == 0:
            break
        v = Rv
    return max(estimate, 0.0)


def gd_rules(stats, scaling, n_outputs, epochs, patience, X, Y, n_threads, dtype):
    """(StepRule, StopRule) of lr="auto" GD on data of `dtype`; with `stats` (Gram
    statistics) the exact version, else from power iterations over X and Y (2-D)."""
    k = n_outputs
    if stats is not None:
        top, bottom = _eigen_range(stats, scaling)
    else:
        top, bottom = _power_lambda_max(X, Y, scaling, n_threads), 0.0
    largest = max(top, 1.0)  # the intercept's direction has eigenvalue 1
    lr = k / (2.0 * largest)
    if stats is None:
        stop = StopRule(0.0, patience, rtol=FUSED_RTOL)
        return StepRule(lr, precondition=True), stop
    smallest = min(bottom, 1.0)
    # Nesterov momentum for condition number kappa converges like (1 - 1/sqrt(kappa));
    # tuned to more than the budget can use it slows every direction, so kappa is
    # capped at (epochs / 10)^2.
    kappa = largest / smallest if smallest > 0 else np.inf
    kappa = min(kappa, max(epochs / 10.0, 2.0) ** 2)
    momentum = (np.sqrt(kappa) - 1.0) / (np.sqrt(kappa) + 1.0)
    least = stats.ref_sse / (stats.n_samples * k)
    target = least * (1.0 + TARGET_GAP[dtype]) + 1e-15 * stats.yy / (stats.n_samples * k)
    step = StepRule(lr, momentum=float(momentum), nesterov=momentum > 0, precondition=True)
    return step, StopRule(0.0, 0, target=float(target))


def sgd_rules(scaling, X, n_outputs, batch_size, patience, n_threads, average=True):
    """(StepRule, StopRule) of lr="auto" SGD on X."""
    largest, mean = _compiled.build.scaled_row_norms(X, scaling.centre, scaling.inv_var,
                                                     n_threads)
    return sgd_rules_for_norm(largest, mean, X.shape[0], n_outputs, batch_size, patience,
                              average)


def sgd_rules_for_norm(largest_norm, mean_norm, n_samples, n_outputs, batch_size, patience,
                       average):
    """`sgd_rules` given the largest and the mean squared norm of the centred, scaled
    rows. A batch of B rows has curvature at most min(R^2, R^2 / B + mean), R^2 the
    largest (plus 1 for the intercept): the step is its inverse, stable for every batch
    (scikit-learn's SAG takes the same step for single samples)."""
    largest, mean = largest_norm + 1.0, mean_norm + 1.0
    curvature = min(largest, largest / batch_size + mean)
    lr = n_outputs / (2.0 * curvature)
    updates_per_epoch = -(-n_samples // batch_size)
    step = StepRule(lr, batch_size=batch_size, precondition=True,
                    average_start=updates_per_epoch if average else -1)
    return step, StopRule(0.0, patience, rtol=SGD_RTOL, on_average=average)


def row_norms(X, scaling, n_threads):
    """(max, mean) of |z_i|^2 over the centred, scaled rows of X."""
    return _compiled.build.scaled_row_norms(X, scaling.centre, scaling.inv_var, n_threads)


def gd_chunk_rule(X, scaling, n_outputs, n_threads):
    """A safe lr="auto" step for one GD epoch on a chunk (partial_fit): 1 / trace of the
    chunk's preconditioned Hessian, which bounds its largest eigenvalue."""
    _, mean_norm = _compiled.build.scaled_row_norms(X, scaling.centre, scaling.inv_var,
                                                    n_threads)
    return StepRule(n_outputs / (2.0 * (mean_norm + 1.0)), precondition=True)
