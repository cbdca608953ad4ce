"""The Gram statistics behind GD's "gram" method: computing them, the reference point
that keeps their loss from cancelling, and checking a GramStatistics before a kernel
trusts it. `linreg.kernels` exposes them checked; `linreg.solvers` calls
`gram_statistics_of` on data the estimators validated.
"""
import numbers

import numpy as np

from linreg import _compiled
from linreg._structs import GramStatistics
from linreg._validation import all_finite, check_int, check_param

__all__ = ["GRAM_MAX_FEATURES", "EXACT_RESIDUALS_BELOW", "gram_statistics_of",
           "check_gram_statistics", "check_gram_features", "statistics_with_reference"]

#: An explicit method="gram" is refused past this many features: the statistics take
#: 16 d^2 bytes (the matrix and one chunk's partial sums), 1 GiB at d = 8192.
GRAM_MAX_FEATURES = 8192


#: The loss expansion needs the exact residual sum at its reference point only when the
#: best fit leaves less than this fraction of |Yc|^2 unexplained: above it, the sum from
#: the statistics (which cancels to ~1e-16 |Yc|^2) is already accurate to ~1e-10.
EXACT_RESIDUALS_BELOW = 1e-6


def gram_statistics_of(X, Y, y_1d, n_threads, sample_weight=None):
    """`gram_statistics` of a validated X, 2-D Y and sample_weight (float64 or None);
    linreg.solvers calls it directly."""
    check_gram_features(X.shape[1])
    d, k = X.shape[1], Y.shape[1]
    mean_X, mean_Y = np.empty(d), np.empty(k)
    XtX, XtY = np.empty((d, d)), np.empty((d, k))
    yy = float(_compiled.build.gram_statistics(X, Y, mean_X, mean_Y, XtX, XtY, n_threads,
                                               sample_weight))
    total = float(X.shape[0]) if sample_weight is None else float(sample_weight.sum())

    def residual_sum(a):
        return _compiled.build.centred_residual_sum(X, Y, mean_X, mean_Y, a, n_threads,
                                                    sample_weight)

    return statistics_with_reference(X.shape[0], mean_X, mean_Y, XtX, XtY, yy, y_1d, total,
                                     residual_sum)


def check_gram_features(n_features):
    """Refuse Gram statistics past GRAM_MAX_FEATURES (ValueError naming the way out)."""
    if n_features > GRAM_MAX_FEATURES:
        raise ValueError(
            f"X has {n_features} features: the Gram statistics would take "
            f"{16 * n_features ** 2 / 2**30:.1f} GiB; at most {GRAM_MAX_FEATURES} features "
            "are supported (use method='fused')"
        )


def statistics_with_reference(n_samples, mean_X, mean_Y, XtX, XtY, yy, y_1d, total,
                              residual_sum):
    """The GramStatistics of these centred sums, with the reference point of their loss
    expansion; `residual_sum(a)` is |Xc a - Yc|^2 from a pass over the rows (weighted),
    called only when the statistics cannot give it accurately. Data held in blocks
    (linreg._blocked_solvers) merge their sums first and pass a distributed pass here."""
    with np.errstate(all="ignore"):
        ref_W, ref_grad, ref_sse = _reference_point(mean_X, mean_Y, XtX, XtY, yy,
                                                    residual_sum)
    return GramStatistics(n_samples, mean_X, mean_Y, XtX, XtY, yy, y_1d, ref_W, ref_grad,
                          ref_sse, total)


def _reference_point(mean_X, mean_Y, XtX, XtY, yy, residual_sum):
    """(a, XtX a - XtY, |Xc a - Yc|^2) for a point a near the least-squares solution.

    Any point makes the loss expansion of gd_epochs_gram exact; the nearer the solution,
    the less it cancels. A tiny ridge keeps the solve defined for singular XtX (constant
    or repeated columns); a = 0, the plain expansion, is the fallback. When the best fit
    is nearly exact, the residual sum at a is computed from the rows, in double.
    """
    d, k = XtY.shape
    a = np.zeros((d, k))
    diagonal = XtX.diagonal()
    if d == 1:  # one feature: the solve is a division
        if diagonal[0] > 0:
            a = XtY / (diagonal[0] * (1 + 1e-13))
    else:
        # Solved on the correlation scale, so that the ridge is tiny for every feature
        # whatever its units (a ridge relative to the largest variance would swamp the
        # smallest ones, and the point would not be near the solution).
        root = np.zeros(d)
        np.divide(1.0, np.sqrt(diagonal), out=root, where=diagonal > 0)
        scaled = XtX * np.outer(root, root)
        scaled.flat[:: d + 1] += 1e-13
        try:
            a = root[:, None] * np.linalg.solve(scaled, root[:, None] * XtY)
        except np.linalg.LinAlgError:
            a = np.zeros((d, k))
    if not np.isfinite(a).all():
        a = np.zeros((d, k))
    ref_grad = XtX @ a
    ref_grad -= XtY
    sse = float(np.vdot(a, ref_grad) - np.vdot(a, XtY)) + yy
    if sse < EXACT_RESIDUALS_BELOW * yy:
        sse = residual_sum(a)
        if not np.isfinite(sse):  # the residuals overflowed: expand around a = 0 instead
            return np.zeros((d, k)), -XtY, yy
    return a, ref_grad, max(sse, 0.0)


def check_gram_statistics(stats):
    """Every field of a GramStatistics, against each other: the kernel trusts them all."""
    if not isinstance(stats, GramStatistics):
        raise TypeError("stats must come from linreg.kernels.gram_statistics")
    check_int(stats.n_samples, "stats.n_samples", 1)
    XtY = stats.XtY
    if not (isinstance(XtY, np.ndarray) and XtY.ndim == 2 and XtY.shape[0] >= 1
            and XtY.shape[1] >= 1):
        raise ValueError("stats.XtY must be a 2-D ndarray of shape (n_features, n_outputs)")
    d, k = XtY.shape
    shapes = {"mean_X": (d,), "mean_Y": (k,), "XtX": (d, d), "XtY": (d, k), "ref_W": (d, k),
              "ref_grad": (d, k)}
    for name, shape in shapes.items():
        array = getattr(stats, name)
        check_param(array, f"stats.{name}", shape, np.float64, contiguous=True)
        if not all_finite(array):
            raise ValueError(f"stats.{name} contains NaN or infinity")
    total = stats.weight_total
    if not isinstance(total, numbers.Real) or not (np.isfinite(total) and total > 0):
        raise ValueError(f"stats.weight_total must be a finite number > 0, got {total!r}")
    for name in ("yy", "ref_sse"):
        value = getattr(stats, name)
        if not isinstance(value, numbers.Real) or not (np.isfinite(value) and value >= 0):
            raise ValueError(f"stats.{name} must be a finite number >= 0, got {value!r}")
    if not isinstance(stats.y_1d, (bool, np.bool_)) or (stats.y_1d and k != 1):
        raise ValueError("stats.y_1d must be a bool, and True only for one output")
    return d, k


