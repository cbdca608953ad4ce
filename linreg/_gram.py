"""The Gram statistics behind GD's "gram" method: computing them, the reference point
that keeps their loss from cancelling, and checking a GramStatistics before a kernel
trusts it. `linreg.kernels` exposes them checked; `linreg.solvers` calls
`gram_statistics_of` on data the estimators validated.
"""
import numbers

import numpy as np

from linreg import _compiled
from linreg._blas import judged_blas_threads
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


#: The reference point of the loss expansion is solved for (LU, d^3 / 3 multiply-adds)
#: up to this many features per row of data, where the solve costs at most about a
#: tenth of the Gram pass (n d^2 / 2); wider, shorter data take conjugate-gradient steps
#: (d = 2048, n = 4096: the solve took 144 ms, half of X.T @ X's 307 ms).
SOLVE_MAX_FEATURES_PER_ROW = 0.15

#: At most this many conjugate-gradient steps (one product with the d x d matrix each,
#: ~0.8 ms at d = 2048, where the matrix is read from memory): on the correlation
#: scale, data as well conditioned as Gaussian noise with n = 2d need about 60 for 1e-10.
REFERENCE_CG_STEPS = 64
#: ...stopping once each column's residual is this fraction of its start, by the dtype
#: the point is rounded to: a float32 point is not nearer than float32 rounding (~6e-8
#: of each entry). At d = 2048, n = 4096 the steps took 48 ms for 1e-10 (3e-10 from the
#: solution) and 31 ms for 1e-7, against 144 ms for the solve.
REFERENCE_CG_TOLERANCE = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-7}


#: Rows of X centred at a time into the scratch of the Gram pass: at most 4096, and a
#: scratch of at most max(4 MiB, 8 d^2 bytes), i.e. never more than the matrix itself
#: takes beyond 4 MiB. With fewer rows a block's d^2 bookkeeping (adding the block's
#: product into the sum) starts to show next to its n_rows d^2 / 2 multiply-adds.
GRAM_BLOCK_ROWS = 4096
GRAM_BLOCK_DOUBLES = 1 << 19


#: Up to this many features (by X's dtype) a C-ordered X's statistics come from the
#: compiled pass, in double for both dtypes (`_compiled_statistics`); above, from BLAS.
#: Measured on one thread at 2^24 elements, compiled / BLAS path: float64 0.65 at d = 16,
#: 0.75 at 32, 0.80 at 48, 1.03 at 64; float32 (sgemm runs twice dgemm's speed) 0.85 at
#: 16, 1.07 at 24, 1.22 at 32.
COMPILED_GRAM_MAX_FEATURES = {np.dtype(np.float64): 48, np.dtype(np.float32): 16}

#: ...and up to this many a Fortran-ordered X's (unweighted), its rows transposed into
#: C order in cache (`gram_products_by_columns`). Wider, BLAS is as fast (float64, 2e5
#: rows, one thread: 11 against 19 ns a row at d = 12, 19 against 25 at 16, 34 and 34
#: at 20, 44 against 41 at 24).
COMPILED_FORTRAN_GRAM_MAX_FEATURES = 16


def _block_rows(d, itemsize=8):
    """Rows per block for X of `itemsize` bytes: a float32 block has as many bytes as a
    float64 one (up to 4096 rows: BLAS runs longer blocks faster, 512-row blocks took
    1.5x as long at d = 64). A float32 block's sums stay in float32 (see
    `_centred_products`): measured against double on the same values, 6e-8 of the
    largest entry at d = 8 and 1e-7 at d = 512 whether blocks have 512 or 4096 rows; a
    diagonal entry, relative to itself, a few 1e-6 at worst."""
    doubles = max(GRAM_BLOCK_DOUBLES, d * d) * 8 // itemsize
    return max(1, min(GRAM_BLOCK_ROWS, doubles // d))


def _means(X, Y, n_threads, sample_weight):
    """(mean_X, mean_Y, total weight) in double; X's sums compiled, chunked (the same
    bits for any n_threads)."""
    n, d = X.shape
    total = float(n) if sample_weight is None else float(sample_weight.sum())
    sums, Xk = _compiled.for_layout("column_sums", X)
    mean_X = np.empty(d)
    sums(Xk, mean_X, n_threads, sample_weight)
    mean_X /= total
    # Y is n k, X's size / d at most: NumPy's sums (single-threaded) do, on C order so
    # that Y's layout changes no bit.
    Y = np.ascontiguousarray(Y)
    if sample_weight is None:
        mean_Y = Y.sum(axis=0, dtype=np.float64)
    else:
        mean_Y = sample_weight @ Y.astype(np.float64, copy=False)
    mean_Y /= total
    return mean_X, mean_Y, total


def _syrk_work(rows, d):
    """(rows, columns) of the pass over rows with as much work as the syrk of (rows, d)
    rows (rows d^2 / 2 multiply-adds, at about 8 per element of a pass: the thread
    policy's size threshold, 2^20 elements, is then about a millisecond of either)."""
    return rows, max(1, d * d // 16)


def _centred_products(X, Y, mean_X, mean_Y, n_threads, sample_weight):
    """(XtX, XtY, yy): the centred sums, block by block of rows through NumPy's BLAS.

    Each block of rows is centred into a scratch of X's dtype, multiplied by its own
    transpose (a syrk), and added into the float64 XtX in block order; the targets
    likewise. The blocks are fixed by the size, and BLAS splits a product among its
    threads by output entries, never along the sum, so the bits do not depend on
    n_threads (tests/threads checks it). BLAS uses at most n_threads threads, as many as
    the kernels' thread policy gives the pass's products, judged over the whole pass
    (`linreg._blas.judged_blas_threads`). Weighted rows are scaled by the root of their
    weight.
    Ctrl-C is seen between two blocks.

    float64 data: every product and sum is in double. float32 data: the products and
    the sums inside a block of at most `GRAM_BLOCK_ROWS` rows are in float32
    (sgemm's speed, twice dgemm's), each block's sums are promoted to double before
    they are added up, so the error of a block's float32 sum (a few 1e-6 of an entry
    at worst, see `_block_rows`) is not compounded over n. The centring point is the mean
    rounded to float32 (so that a block is centred in float32); its offset delta from
    the exact mean is removed at the end, exactly: sum w (x - c)(x - c)^T equals the
    centred sum plus W delta delta^T.
    """
    n, d = X.shape
    k = Y.shape[1]
    single = X.dtype == np.float32
    rows = min(n, _block_rows(d, X.itemsize))
    dtype = np.float32 if single else np.float64
    centre_X = mean_X.astype(dtype)
    centre_Y = mean_Y.astype(dtype)
    fortran = not X.flags.c_contiguous
    order = "F" if fortran else "C"  # the scratch follows X: the centring streams both
    # The block's centred targets are k more columns of the scratch, so that one syrk
    # gives X^T X, X^T Y and |Y|^2 at once: BLAS splits a syrk among its threads by
    # output entries (the bits do not depend on n_threads), where a gemv X^T y split
    # the sum over rows (tests/threads caught it).
    scratch = np.empty((rows, d + k), dtype=dtype, order=order)
    product = np.empty((d + k, d + k), dtype=dtype)
    XtX, XtY, yy = np.zeros((d, d)), np.zeros((d, k)), 0.0
    # One thread count for the whole pass: OpenBLAS lost its gain when the count changed
    # from block to block (d = 512: 6.2 ms a block with 2 threads against 4.4 ms).
    # float32 on one BLAS thread: OpenBLAS's ssyrk (unlike dsyrk) changed the bits with
    # its partition among threads (d + k >= 32; tests/threads).
    with judged_blas_threads(*_syrk_work(n, d + k), 1 if single else n_threads):
        for start in range(0, n, rows):
            m = min(rows, n - start)
            S = scratch if m == rows else np.empty((m, d + k), dtype=dtype, order=order)
            if fortran:
                np.subtract(X[start:start + m], centre_X, out=S[:, :d])
            else:  # rows d of every d + k elements apart: compiled, at a read's speed
                _compiled.build.centre_rows(X, start, start + m, centre_X, S)
            np.subtract(Y[start:start + m], centre_Y, out=S[:, d:], casting="same_kind")
            if sample_weight is not None:
                S *= np.sqrt(sample_weight[start:start + m])[:, None].astype(dtype)
            np.matmul(S.T, S, out=product)
            block = product
            if single and not np.isfinite(product).all():
                # Squares past float32's range (centred values of 1.8e19 and up): this
                # block in double instead, so that raw data of any float32 scale works.
                wide = S.astype(np.float64)
                block = wide.T @ wide
            XtX += block[:d, :d]
            XtY += block[:d, d:]
            yy += float(np.trace(block[d:, d:], dtype=np.float64))
    if single:
        total = float(n) if sample_weight is None else float(sample_weight.sum())
        delta_X = mean_X - centre_X
        delta_Y = mean_Y - centre_Y
        XtX -= total * np.outer(delta_X, delta_X)
        XtY -= total * np.outer(delta_X, delta_Y)
        yy -= total * float(np.vdot(delta_Y, delta_Y))
    return XtX, XtY, yy


def gram_statistics_of(X, Y, y_1d, n_threads, sample_weight=None):
    """`gram_statistics` of a validated X (C or Fortran order, used in place), 2-D Y and
    sample_weight (float64 or None); linreg.solvers calls it directly."""
    check_gram_features(X.shape[1])
    if X.shape[1] <= COMPILED_GRAM_MAX_FEATURES[X.dtype]:
        if X.flags.c_contiguous:
            return _compiled_statistics(X, Y, y_1d, n_threads, sample_weight)
        if sample_weight is None and X.shape[1] <= COMPILED_FORTRAN_GRAM_MAX_FEATURES:
            return _compiled_statistics_by_columns(X, Y, y_1d, n_threads)
    mean_X, mean_Y, total = _means(X, Y, n_threads, sample_weight)
    XtX, XtY, yy = _centred_products(X, Y, mean_X, mean_Y, n_threads, sample_weight)

    if X.dtype == np.float32:
        # float32 statistics are accurate to ~1e-7 of their size, which the residual sum
        # at the reference point, from them, would amplify by |Yc|^2 / s_a: it comes from
        # the rows whatever its size, by one fused pass (as fast as X @ w), at a point
        # that float32 represents.
        def residual_sum(a):
            return _fused_residual_sum(X, Y, mean_X, mean_Y, a, total, n_threads,
                                       sample_weight)

        return statistics_with_reference(X.shape[0], mean_X, mean_Y, XtX, XtY, yy, y_1d,
                                         total, residual_sum, exact_below=np.inf,
                                         point_dtype=np.float32)

    def residual_sum(a):
        return _centred_residual_sum(X, Y, mean_X, mean_Y, a, n_threads, sample_weight)

    return statistics_with_reference(X.shape[0], mean_X, mean_Y, XtX, XtY, yy, y_1d, total,
                                     residual_sum)


def _compiled_statistics(X, Y, y_1d, n_threads, sample_weight):
    """The statistics of a C-ordered X of few features from the compiled pass (the means,
    then the centred products, every product and sum in double, OpenMP's threads under
    the thread policy): up to COMPILED_GRAM_MAX_FEATURES it beats BLAS's syrk, whose
    narrow blocks run far below its speed (d = 8, 2^21 rows: 29 ms against 49 ms, and
    NumPy's X.T @ X 36)."""
    n, d = X.shape
    k = Y.shape[1]
    total = float(n) if sample_weight is None else float(sample_weight.sum())
    mean_X, mean_Y = np.empty(d), np.empty(k)
    XtX, XtY = np.empty((d, d)), np.empty((d, k))
    yy = float(_compiled.build.gram_statistics(X, Y.astype(X.dtype, copy=False), mean_X,
                                               mean_Y, XtX, XtY, n_threads, sample_weight))

    def residual_sum(a):
        return _centred_residual_sum(X, Y, mean_X, mean_Y, a, n_threads, sample_weight)

    return statistics_with_reference(n, mean_X, mean_Y, XtX, XtY, yy, y_1d, total,
                                     residual_sum)


def _compiled_statistics_by_columns(X, Y, y_1d, n_threads):
    """`_compiled_statistics` of a Fortran-ordered X (unweighted): the means, X's from its
    columns, then the centred products from the compiled loops on blocks of rows
    transposed in cache (`gram_products_by_columns`, columns.pxi). Through BLAS, a
    DataFrame's few columns took 3.4x the C-order pass at d = 2 and 2.0x at d = 8
    (float64, 2^22 elements, one thread); now 1.2x and 1.2x."""
    n, d = X.shape
    k = Y.shape[1]
    mean_X, mean_Y, total = _means(X, Y, n_threads, None)
    XtX, XtY = np.empty((d, d)), np.empty((d, k))
    yy = float(_compiled.build.gram_products_by_columns(
        X.T, Y.astype(X.dtype, copy=False), mean_X, mean_Y, XtX, XtY, n_threads))

    def residual_sum(a):
        return _centred_residual_sum(X, Y, mean_X, mean_Y, a, n_threads, None)

    return statistics_with_reference(n, mean_X, mean_Y, XtX, XtY, yy, y_1d, total,
                                     residual_sum)


def _fused_residual_sum(X, Y, mean_X, mean_Y, a, total, n_threads, sample_weight):
    """sum_i w_i |(x_i - mean_X) a - (y_i - mean_Y)|^2 for a float32 X and a point `a`
    that float32 represents, from the fused loss pass (float32 products, sums in double:
    GD's own accuracy). Its intercept mean_Y - mean_X a is rounded to float32; the
    offset delta this adds to every residual, whose weighted sum is zero, is removed
    exactly: sum w (r + delta)^2 = sum w r^2 + W |delta|^2."""
    d, k = a.shape
    intercept = mean_Y - mean_X @ a
    W32 = np.ascontiguousarray(a, dtype=np.float32)
    b32 = intercept.astype(np.float32)
    offset = b32.astype(np.float64) - intercept
    grad_W, grad_b = np.empty((d, k), np.float32), np.empty(k, np.float32)
    kernel, Xk = _compiled.for_layout("loss_and_grad", X)
    Y32 = Y.astype(np.float32, copy=False)
    loss = kernel(Xk, Y32, W32, b32, grad_W, grad_b, n_threads, sample_weight)
    return loss * total * k - total * float(np.vdot(offset, offset))


def _centred_residual_sum(X, Y, mean_X, mean_Y, a, n_threads, sample_weight):
    """sum_i w_i |(x_i - mean_X) a - (y_i - mean_Y)|^2, every product and sum in double,
    block by block like `_centred_products` (the same bits for any n_threads)."""
    n, d = X.shape
    rows = min(n, _block_rows(d))
    order = "C" if X.flags.c_contiguous else "F"
    scratch = np.empty((rows, d), order=order)
    total = 0.0
    with judged_blas_threads(n, d * a.shape[1], n_threads):
        for start in range(0, n, rows):
            m = min(rows, n - start)
            S = scratch if m == rows else np.empty((m, d), order=order)
            np.subtract(X[start:start + m], mean_X, out=S)
            R = S @ a
            R -= Y[start:start + m]
            R += mean_Y
            if sample_weight is not None:
                R *= np.sqrt(sample_weight[start:start + m])[:, None]
            # Not np.vdot: OpenBLAS's ddot splits long sums among its threads, so the
            # bits would change with n_threads; einsum sums in one order.
            total += float(np.einsum("ij,ij->", R, R))
    return total


def check_gram_features(n_features):
    """Refuse Gram statistics past GRAM_MAX_FEATURES (ValueError naming the way out)."""
    if n_features > GRAM_MAX_FEATURES:
        raise ValueError(
            f"X has {n_features} features: the Gram statistics would take "
            f"{16 * n_features ** 2 / 2**30:.1f} GiB; at most {GRAM_MAX_FEATURES} features "
            "are supported (use method='fused')"
        )


def statistics_with_reference(n_samples, mean_X, mean_Y, XtX, XtY, yy, y_1d, total,
                              residual_sum, exact_below=EXACT_RESIDUALS_BELOW,
                              point_dtype=np.float64):
    """The GramStatistics of these centred sums, with the reference point of their loss
    expansion; `residual_sum(a)` is |Xc a - Yc|^2 from a pass over the rows (weighted),
    called only when the statistics leave less than `exact_below` of |Yc|^2 unexplained
    (always, with np.inf), at a point rounded to `point_dtype`. Data held in blocks
    (linreg._blocked_solvers) merge their sums first and pass a distributed pass here."""
    with np.errstate(all="ignore"):
        ref_W, ref_grad, ref_sse = _reference_point(n_samples, mean_X, mean_Y, XtX, XtY, yy,
                                                    residual_sum, exact_below, point_dtype)
    return GramStatistics(n_samples, mean_X, mean_Y, XtX, XtY, yy, y_1d, ref_W, ref_grad,
                          ref_sse, total)


def _reference_point(n_samples, mean_X, mean_Y, XtX, XtY, yy, residual_sum, exact_below,
                     point_dtype):
    """(a, XtX a - XtY, |Xc a - Yc|^2) for a point a near the least-squares solution.

    Any point makes the loss expansion of gd_epochs_gram exact; the nearer the solution,
    the less it cancels: its error is about the double rounding of the loss at a, so a
    point whose loss is within a few digits of the least is as good as the solution. A
    tiny ridge keeps the solve defined for singular XtX (constant or repeated columns);
    a = 0, the plain expansion, is the fallback. For wide, short data, where the solve
    would cost more than a tenth of the pass over the rows, the point comes from a few
    conjugate-gradient steps instead (`_conjugate_gradient_point`). When the best fit is
    nearly exact, the residual sum at a is computed from the rows, in double.
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
        if d > SOLVE_MAX_FEATURES_PER_ROW * n_samples:
            a = _conjugate_gradient_point(XtX, XtY, root,
                                          REFERENCE_CG_TOLERANCE[np.dtype(point_dtype)])
        if a is None or d <= SOLVE_MAX_FEATURES_PER_ROW * n_samples:
            # lr="auto" takes s_a as the least loss and stops within 1e-6 of it: steps
            # that did not converge (ill-conditioned data) would stop fits far above it.
            scaled = XtX * np.outer(root, root)
            scaled.flat[:: d + 1] += 1e-13
            try:
                a = root[:, None] * np.linalg.solve(scaled, root[:, None] * XtY)
            except np.linalg.LinAlgError:
                a = np.zeros((d, k))
    a = a.astype(point_dtype).astype(np.float64)  # the point the row pass can take
    if not np.isfinite(a).all():
        a = np.zeros((d, k))
    ref_grad = XtX @ a
    ref_grad -= XtY
    sse = float(np.einsum("ij,ij->", a, ref_grad) - np.einsum("ij,ij->", a, XtY)) + yy
    if sse < exact_below * yy:
        sse = residual_sum(a)
        if not np.isfinite(sse):  # the residuals overflowed: expand around a = 0 instead
            return np.zeros((d, k)), -XtY, yy
    return a, ref_grad, max(sse, 0.0)


def _conjugate_gradient_point(XtX, XtY, root, tolerance):
    """Approximately solve XtX A = XtY (XtX symmetric positive semi-definite, d x d; XtY
    d x k) by conjugate gradients on the correlation scale (root: 1 / sqrt of XtX's
    diagonal, 0 for a constant column), each column on its own, from A = 0: at most
    REFERENCE_CG_STEPS steps, stopping once every column's residual is `tolerance` of
    its start; None if some column's has not by then. From 0, the steps stay in XtX's
    range, so a singular XtX (more features than rows, repeated columns) gives the least-norm
    solution's direction; a column whose curvature vanishes keeps the point reached."""
    scale = root[:, None]
    X = np.zeros_like(XtY)
    R = scale * XtY
    P = R.copy()
    rr = np.einsum("ij,ij->j", R, R)
    stop = tolerance ** 2 * rr
    active = rr > 0
    for _ in range(REFERENCE_CG_STEPS):
        if not active.any():
            break
        AP = scale * (XtX @ (scale * P))  # the scaled matrix, never formed (d^2 doubles)
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
    if active.any():  # not converged within REFERENCE_CG_STEPS: the caller solves
        return None
    return scale * X


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


