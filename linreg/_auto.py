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

The options compose: an L2 penalty adds its curvature, (k/2) l2, to each feature's
variance in the scale (so R plus the penalty keeps a unit diagonal), and the Gram target becomes the least objective (loss + penalty,
which GD's stopping rule then judges); without an intercept b cannot absorb the means,
so the features are only scaled, z = x / s with s^2 = mean(x^2) (uncentred), and every
bound above is taken on those uncentred z, without the intercept's direction. A user's
momentum replaces the tuned one (the estimators do that).

This module imports linreg's compiled build and structs only.
"""
from typing import NamedTuple

import numpy as np

from linreg import _compiled
from linreg._structs import StepRule, StopRule

__all__ = ["Scaling", "scaling_for", "scaling_from_stats", "scaling_from_data", "fill_scaling", "gd_rules",
           "loss_gradient", "sgd_rules_for_norm", "gd_chunk_rule", "row_norms",
           "POWER_ITERATIONS", "TARGET_GAP", "FUSED_RTOL", "SGD_RTOL",
           "fused_gd_rules", "power_lambda_max", "sgd_stop_with_floor"]

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


def scaling_for(mean, var, fit_intercept=True, ridge=0.0):
    """The preconditioner of features with these means and variances: centred and scaled
    to unit variance; without an intercept, uncentred (centre 0) and scaled to a unit
    second moment, 1 / (var + mean^2), since b cannot absorb the means then.

    An L2 penalty adds `ridge` = (k/2) l2 to every feature's curvature in these units
    (the Hessian's diagonal is (2/k)(var_j + (k/2) l2)), so the scale is
    1 / (var + ridge): the diagonal preconditioner of the penalized objective. Without
    it a feature of tiny scale, whose weight the penalty holds, would be stiff."""
    second = np.asarray(var, dtype=np.float64)
    if not fit_intercept:
        second = second + np.asarray(mean, dtype=np.float64) ** 2
    centre = np.array(mean, dtype=np.float64) if fit_intercept else np.zeros(len(second))
    return Scaling(centre, _inverse_variance(second + ridge))


def scaling_from_stats(stats, fit_intercept=True, ridge=0.0):
    """The preconditioner from Gram statistics: free (the means and XtX's diagonal)."""
    return scaling_for(stats.mean_X, stats.XtX.diagonal() / stats.weight_total,
                       fit_intercept, ridge)


def _loss_and_grad(X, *args):
    kernel, Xk = _compiled.for_layout("loss_and_grad", X)  # C or Fortran order, in place
    return kernel(Xk, *args)


def _scaled_row_norms(X, *args):
    kernel, Xk = _compiled.for_layout("scaled_row_norms", X)
    return kernel(Xk, *args)


def scaling_from_data(X, n_threads, fit_intercept=True, ridge=0.0, sample_weight=None):
    """The preconditioner from one fused pass over X (two passes, compiled); with
    sample_weight, of the weighted moments."""
    d = X.shape[1]
    centre, var = np.empty(d), np.empty(d)
    moments, Xk = _compiled.for_layout("column_moments", X)
    moments(Xk, centre, var, n_threads, sample_weight)
    return scaling_for(centre, var, fit_intercept, ridge)


def fill_scaling(model, rule, scaling):
    """Write the preconditioner into the model's centre and scale slots (row d: 0 and 1).

    The model is in X's dtype: a float32 X whose column variances float32 cannot invert
    (1 / var below its smallest number: std above ~1e19, or above its largest: std below
    ~1e-19) is a ValueError, where the rounded scale (0 or inf) would freeze those
    weights at 0 or make them NaN."""
    slots = rule.slots
    d = model.shape[1] - 1
    info = np.finfo(model.dtype)
    inv_var = scaling.inv_var
    if ((inv_var < info.tiny) | (inv_var > info.max)).any():
        j = int(np.argmax((inv_var < info.tiny) | (inv_var > info.max)))
        raise ValueError(
            f"X is {model.dtype} and its column {j} has variance {1 / inv_var[j]:.3g}, "
            f"whose inverse {model.dtype} cannot hold (it rounds to "
            f"{float(inv_var[j].astype(model.dtype)):g}): the preconditioner needs "
            "1 / variance. Convert X to float64, or rescale its columns."
        )
    model[slots["centre"], :d] = scaling.centre[:, None]
    model[slots["centre"], d] = 0
    model[slots["scale"], :d] = scaling.inv_var[:, None]
    model[slots["scale"], d] = 1


def _penalty_curvature(scaling, n_outputs, l2):
    """The L2 penalty's curvature in the preconditioned coordinates, in the units of R:
    (l2/2)|w|^2 with w = u / s has Hessian l2 / s^2 = l2 inv_var, against the loss's
    (2/k) R, so it adds (k/2) l2 inv_var_j to R's diagonal."""
    return 0.5 * n_outputs * l2 * scaling.inv_var


def _eigen_range(stats, scaling, n_outputs=1, l2=0.0, fit_intercept=True):
    """(largest, smallest non-null) eigenvalue of the correlation matrix R = D XtX D / n,
    D = diag(s^-1), plus the penalty's diagonal; without an intercept, of the uncentred
    second moments D (XtX + n mu mu^T) D / n (the scaling is then uncentred too). n is
    the total sample weight; the smallest is inf when R is null."""
    root = np.sqrt(scaling.inv_var)
    second = stats.XtX if fit_intercept else (
        stats.XtX + stats.weight_total * np.outer(stats.mean_X, stats.mean_X))
    R = second * np.outer(root, root) / stats.weight_total
    if l2:
        R[np.diag_indices_from(R)] += _penalty_curvature(scaling, n_outputs, l2)
    eigenvalues = np.linalg.eigvalsh(R)
    top = max(float(eigenvalues[-1]), 0.0)
    # Directions R does not see (constant or repeated columns, fewer rows than columns)
    # get no gradient, so they do not slow GD: the smallest eigenvalue that counts is the
    # smallest one above rounding.
    seen = eigenvalues[eigenvalues > 1e-10 * top]
    return top, float(seen[0]) if seen.size else np.inf


def loss_gradient(X, Y, n_threads, sample_weight=None):
    """gradient(w, b) for `power_lambda_max` on X and Y (2-D) in memory: dL/dW (d,) in
    float64 of the (weighted) single-output loss on Y's first column, one pass over X
    per call with the kernels' own pass, no copy of X; with sample_weight, the weighted
    pass gives the weighted R (weighted moments, n the total weight)."""
    Y1 = Y[:, :1]
    d = X.shape[1]
    grad_W, grad_b = np.empty((d, 1), dtype=X.dtype), np.empty(1, dtype=X.dtype)

    def gradient(w, b):
        _loss_and_grad(X, Y1, w, b, grad_W, grad_b, n_threads, sample_weight)
        return grad_W[:, 0].astype(np.float64)

    return gradient


def power_lambda_max(gradient, n_features, scaling, dtype, n_outputs=1, l2=0.0):
    """lambda_max of R (plus the penalty's diagonal) by power iteration; `gradient(w, b)`
    is dL/dW (d,) in float64 of the single-output loss on Y's first column at w (d, 1)
    and b (1,), both of `dtype`: one pass over the rows per call.

    R v = D Xc^T Xc D v / n, and Xc^T Xc w = n/2 (g(w, -mu.w) - g(0, 0)) for that
    gradient g. With an uncentred scaling (centre 0: no intercept) the same pass gives
    the uncentred X^T X w, as that case needs.
    """
    d = n_features
    root = np.sqrt(scaling.inv_var)
    penalty = _penalty_curvature(scaling, n_outputs, l2)
    at_zero = gradient(np.zeros((d, 1), dtype=dtype), np.zeros(1, dtype=dtype))
    v = np.random.default_rng(0).standard_normal(d)
    estimate = 1.0
    for _ in range(POWER_ITERATIONS):
        v /= np.linalg.norm(v)
        w = (root * v).astype(dtype)[:, None]
        b = np.array([-(scaling.centre @ w[:, 0])], dtype=dtype)
        Rv = root * (gradient(w, b) - at_zero) / 2.0 + penalty * v
        estimate = float(v @ Rv)
        if not np.isfinite(estimate) or np.linalg.norm(Rv) == 0:
            break
        v = Rv
    return max(estimate, 0.0)


def _spread(variance, mean):
    """The scale of a loss floor for exact fits: Y's variance (per entry), or, for a
    constant Y, its mean square."""
    return variance if variance > 0 else float(np.mean(np.square(mean)))


def _optimal_objective(stats, n_outputs, l2, fit_intercept, intercept, dtype):
    """The least value of the objective, loss + (l2/2)|W|^2, from the Gram statistics,
    with b free or (no intercept) fixed at `intercept` (k,); and the size of Y about
    that intercept, sum |Y - b|^2 (the target's floor is a fraction of it).

    The minimizer solves (XtX' + (n k l2 / 2) I) W = XtY' (primed: uncentred about b
    without an intercept) and is rounded to `dtype` as training's W would be; its loss
    is the Gram expansion around ref_W (see gram.pxi), which does not cancel."""
    n, k = stats.weight_total, n_outputs
    A, B = stats.XtX, stats.XtY
    c0 = np.zeros(k)
    size = stats.yy
    if not fit_intercept:
        shift = stats.mean_Y - intercept
        A = A + n * np.outer(stats.mean_X, stats.mean_X)
        B = B + n * np.outer(stats.mean_X, shift)
        size = stats.yy + n * float(shift @ shift)
    A = A + (0.5 * n * k * l2) * np.eye(A.shape[0])
    W = np.linalg.lstsq(A, B, rcond=None)[0].astype(dtype).astype(np.float64)
    if not fit_intercept:
        c0 = W.T @ stats.mean_X - shift
    D = W - stats.ref_W
    centred = max(stats.ref_sse + float(np.vdot(D, 2.0 * stats.ref_grad + stats.XtX @ D)), 0.0)
    sse = centred + n * float(c0 @ c0)
    return sse / (n * k) + 0.5 * l2 * float(np.vdot(W, W)), size


def gd_rules(stats, scaling, n_outputs, epochs, patience, dtype, *, l2=0.0,
             fit_intercept=True, intercept=None):
    """(StepRule, StopRule) of lr="auto" GD on data of `dtype` from its Gram statistics
    `stats` (without them: `fused_gd_rules`).

    With an L2 penalty the step accounts for its curvature and the target is the least
    objective (the kernels then judge the objective); without an intercept the scaling
    is uncentred and b stays at `intercept` (k,)."""
    k = n_outputs
    top, bottom = _eigen_range(stats, scaling, k, l2, fit_intercept)
    largest = max(top, 1.0)  # the intercept's direction has eigenvalue 1
    lr = k / (2.0 * largest)
    options = dict(l2=float(l2), fit_intercept=bool(fit_intercept), precondition=True)
    smallest = min(bottom, 1.0)
    # Nesterov momentum for condition number kappa converges like (1 - 1/sqrt(kappa));
    # tuned to more than the budget can use it slows every direction, so kappa is
    # capped at (epochs / 10)^2.
    kappa = largest / smallest if smallest > 0 else np.inf
    kappa = min(kappa, max(epochs / 10.0, 2.0) ** 2)
    momentum = (np.sqrt(kappa) - 1.0) / (np.sqrt(kappa) + 1.0)
    if l2 == 0 and fit_intercept:
        least, size = stats.ref_sse / (stats.weight_total * k), stats.yy
    else:
        least, size = _optimal_objective(stats, k, l2, fit_intercept, intercept, dtype)
    # Plus a floor for exact fits, whose loss only tends to zero.
    target = least * (1.0 + TARGET_GAP[dtype]) + 1e-15 * _spread(
        size / (stats.weight_total * k), stats.mean_Y)
    step = StepRule(lr, momentum=float(momentum), nesterov=momentum > 0, **options)
    return step, StopRule(0.0, 0, target=float(target))


def fused_gd_rules(top, y_variance, y_mean, patience, n_outputs, *, l2=0.0,
                   fit_intercept=True):
    """lr="auto" GD's rules without Gram statistics, given lambda_max `top` (power iterations) and
    Y's mean variance over outputs and its means (k,), from which the floor comes."""
    lr = n_outputs / (2.0 * max(top, 1.0))  # the intercept's direction has eigenvalue 1
    # An exact fit's loss only tends to zero: a floor of 1e-15 of Y's variance.
    stop = StopRule(0.0, patience, rtol=FUSED_RTOL, target=1e-15 * _spread(y_variance, y_mean))
    return StepRule(lr, l2=float(l2), fit_intercept=bool(fit_intercept), precondition=True), stop


def sgd_stop_with_floor(stop, y_variance, y_mean):
    """SGD's StopRule `stop` with its target: an exact fit's loss only tends to zero, so
    stop below 1e-12 of Y's variance (mean over outputs; y_mean (k,) for a constant Y)."""
    return StopRule(stop.tol, stop.patience, rtol=stop.rtol,
                    target=1e-12 * _spread(y_variance, y_mean), on_average=stop.on_average)


def sgd_rules_for_norm(largest_norm, mean_norm, n_samples, n_outputs, batch_size, patience,
                       average, *, l2=0.0, fit_intercept=True, scaling=None):
    """lr="auto" SGD's rules given the largest and the mean squared norm of the centred, scaled
    rows. A batch of B rows has curvature at most min(R^2, R^2 / B + mean), R^2 the
    largest (plus 1 for the intercept): the step is its inverse, stable for every batch
    (scikit-learn's SAG takes the same step for single samples). An L2 penalty adds its
    largest curvature (`scaling` gives it); without an intercept there is no + 1."""
    extra = 1.0 if fit_intercept else 0.0
    if l2:
        extra += float(_penalty_curvature(scaling, n_outputs, l2).max(initial=0.0))
    largest, mean = largest_norm + extra, mean_norm + extra
    curvature = min(largest, largest / batch_size + mean)
    lr = n_outputs / (2.0 * curvature)
    updates_per_epoch = -(-n_samples // batch_size)
    step = StepRule(lr, batch_size=batch_size, precondition=True,
                    average_start=updates_per_epoch if average else -1, l2=float(l2),
                    fit_intercept=bool(fit_intercept))
    return step, StopRule(0.0, patience, rtol=SGD_RTOL, on_average=average)


def row_norms(X, scaling, n_threads, sample_weight=None):
    """(max, mean) of |z_i|^2 over the centred, scaled rows of X; with sample_weight,
    bounds on those of w_i |z_i|^2 (the curvature of sample i's weighted update): both
    times the largest weight."""
    largest, mean = _scaled_row_norms(X, scaling.centre, scaling.inv_var, n_threads)
    if sample_weight is not None:
        heaviest = float(sample_weight.max())
        largest, mean = largest * heaviest, mean * heaviest
    return largest, mean


def gd_chunk_rule(X, scaling, n_outputs, n_threads, *, l2=0.0, fit_intercept=True,
                  sample_weight=None):
    """A safe lr="auto" step for one GD epoch on a chunk (partial_fit): 1 / trace of the
    chunk's preconditioned Hessian, which bounds its largest eigenvalue (the penalty's
    largest curvature added, the intercept's 1 only with an intercept). With
    sample_weight the trace is the weighted mean of |z_i|^2, bounded by the largest
    |z_i|^2 and by the mean times max(w) / mean(w)."""
    largest, mean_norm = _scaled_row_norms(X, scaling.centre, scaling.inv_var,
                                                    n_threads)
    if sample_weight is not None:
        mean_norm = min(largest, mean_norm * float(sample_weight.max() / sample_weight.mean()))
    extra = 1.0 if fit_intercept else 0.0
    if l2:
        extra += float(_penalty_curvature(scaling, n_outputs, l2).max(initial=0.0))
    return StepRule(n_outputs / (2.0 * (mean_norm + extra)), precondition=True, l2=float(l2),
                    fit_intercept=bool(fit_intercept))
