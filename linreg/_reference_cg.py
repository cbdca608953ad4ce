"""Conjugate gradients for the reference point of the Gram statistics' loss expansion
(`linreg._gram._reference_point`) on wide, short data, where a solve would cost more
than the pass over the rows: in double, or, from MIXED_CG_MIN_FEATURES features, refined
in double around steps with the matrix rounded to float32.
"""
import numpy as np

__all__ = ["REFERENCE_CG_STEPS", "REFERENCE_CG_TOLERANCE", "MIXED_CG_MIN_FEATURES"]

#: At most this many conjugate-gradient steps (one product with the d x d matrix each,
#: ~0.8 ms at d = 2048, where the matrix is read from memory): on the correlation
#: scale, data as well conditioned as Gaussian noise with n = 2d need about 60 for 1e-10.
REFERENCE_CG_STEPS = 64
#: ...stopping once each column's residual is this fraction of its start, by the dtype
#: the point is rounded to: a float32 point is not nearer than float32 rounding (~6e-8
#: of each entry). At d = 2048, n = 4096 the steps took 48 ms for 1e-10 (3e-10 from the
#: solution) and 31 ms for 1e-7, against 144 ms for the solve.
REFERENCE_CG_TOLERANCE = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-7}

#: From this many features the steps multiply by the matrix rounded to float32
#: (`_refined_conjugate_gradients`): where the double matrix (8 d^2 bytes, 2 MiB at d =
#: 512) leaves the cache, a float32 product reads half as much. At most MIXED_CG_STEPS
#: float32 steps (~1/4 of a double one at d = 2048) in at most MIXED_CG_REFINEMENTS
#: rounds, each reducing its residual by MIXED_CG_INNER_TOLERANCE (float32's rounding of
#: the matrix limits a round to about cond * 6e-8).
MIXED_CG_MIN_FEATURES = 512
MIXED_CG_STEPS = 4 * REFERENCE_CG_STEPS
MIXED_CG_REFINEMENTS = 6
MIXED_CG_INNER_TOLERANCE = 1e-4

#: Rows of the matrix scaled and rounded to float32 at a time (no d^2 temporary).
STRIP_ROWS = 64


def _conjugate_gradient_point(XtX, XtY, root, tolerance):
    """Approximately solve XtX A = XtY (XtX symmetric positive semi-definite, d x d; XtY
    d x k) by conjugate gradients on the correlation scale (root: 1 / sqrt of XtX's
    diagonal, 0 for a constant column), each column on its own, from A = 0, until every
    column's residual is `tolerance` of its start; None if some column's is not within
    the steps allowed. From MIXED_CG_MIN_FEATURES features on, by refinement with
    float32 steps (`_refined_conjugate_gradients`), else all in double
    (`_double_conjugate_gradients`)."""
    if XtX.shape[0] >= MIXED_CG_MIN_FEATURES:
        return _refined_conjugate_gradients(XtX, XtY, root, tolerance)
    return _double_conjugate_gradients(XtX, XtY, root, tolerance)


def _refined_conjugate_gradients(XtX, XtY, root, tolerance):
    """`_conjugate_gradient_point` by iterative refinement: the steps multiply by the
    scaled matrix rounded to float32 (half the bytes: at d = 2048 it stays in cache,
    0.18 ms a product against 0.75 in double, one thread), each refinement reducing its
    residual by MIXED_CG_INNER_TOLERANCE; the residual that decides is recomputed in
    double after each (at most MIXED_CG_REFINEMENTS), so the point meets the same test
    as the double steps'. A curvature the float32 matrix loses (ill-conditioned data)
    stops that column's steps; unconverged, None (the caller solves)."""
    d = XtX.shape[0]
    scale = root[:, None]
    B = scale * XtY
    start = np.einsum("ij,ij->j", B, B)
    stop = tolerance ** 2 * start
    A32 = np.empty((d, d), dtype=np.float32)
    for top in range(0, d, STRIP_ROWS):  # no d^2 temporary in double
        A32[top:top + STRIP_ROWS] = (XtX[top:top + STRIP_ROWS]
                                          * scale[top:top + STRIP_ROWS] * root)
    X = np.zeros_like(B)
    R = B.copy()
    rr = start.copy()
    steps = 0
    for _ in range(MIXED_CG_REFINEMENTS):
        active = rr > stop
        if not active.any():
            return scale * X
        if steps >= MIXED_CG_STEPS:
            break
        E, used = _float32_steps(A32, R, active, MIXED_CG_INNER_TOLERANCE,
                                 MIXED_CG_STEPS - steps)
        steps += used
        X += E
        R = B - scale * (XtX @ (scale * X))
        rr = np.einsum("ij,ij->j", R, R)
    if (rr > stop).any():
        return None
    return scale * X


def _float32_steps(A32, B, active, tolerance, max_steps):
    """(E, steps): conjugate-gradient steps on A32 E = B (columns not `active` left at
    0), products with the float32 matrix, vectors in double; stopping at `tolerance` of
    each column's start, a non-positive curvature, or max_steps."""
    E, steps, _ = _cg_steps(lambda P: (A32 @ P.astype(np.float32)).astype(np.float64), B,
                            active, tolerance, max_steps)
    return E, steps


def _cg_steps(product, B, active, tolerance, max_steps):
    """(X, steps, still active): conjugate-gradient steps on A X = B, column by column
    from X = 0, `product(P)` giving A P; columns not `active` stay at 0. A column stops
    at `tolerance` of its start's residual or a non-positive curvature; every column
    after max_steps (those then still above their tolerance come back active)."""
    X = np.zeros_like(B)
    R = np.where(active, B, 0.0)
    P = R.copy()
    rr = np.einsum("ij,ij->j", R, R)
    stop = tolerance ** 2 * rr
    active = active & (rr > 0)
    steps = 0
    while steps < max_steps and active.any():
        AP = product(P)
        steps += 1
        curvature = np.einsum("ij,ij->j", P, AP)
        active &= curvature > 0
        step = np.divide(rr, curvature, out=np.zeros_like(rr), where=active)
        X += step * P
        R -= step * AP
        rr_next = np.einsum("ij,ij->j", R, R)
        active &= rr_next > stop
        P *= np.divide(rr_next, rr, out=np.zeros_like(rr), where=active)
        P += R
        rr = rr_next
    return X, steps, active


def _double_conjugate_gradients(XtX, XtY, root, tolerance):
    """Approximately solve XtX A = XtY (XtX symmetric positive semi-definite, d x d; XtY
    d x k) by conjugate gradients on the correlation scale (root: 1 / sqrt of XtX's
    diagonal, 0 for a constant column), each column on its own, from A = 0: at most
    REFERENCE_CG_STEPS steps, stopping once every column's residual is `tolerance` of
    its start; None if some column's has not by then. From 0, the steps stay in XtX's
    range, so a singular XtX (more features than rows, repeated columns) gives the least-norm
    solution's direction; a column whose curvature vanishes keeps the point reached."""
    scale = root[:, None]
    X, _, active = _cg_steps(lambda P: scale * (XtX @ (scale * P)),  # never formed
                             scale * XtY, np.ones(XtY.shape[1], dtype=bool), tolerance,
                             REFERENCE_CG_STEPS)
    if active.any():  # not converged within REFERENCE_CG_STEPS: the caller solves
        return None
    return scale * X
