"""The Gram statistics behind GD's "gram" method: computing them, the reference point
that keeps their loss from cancelling, and checking a GramStatistics before a kernel
trusts it. `linreg.kernels` exposes them checked; `linreg.solvers` calls
`gram_statistics_of` on data the estimators validated.
"""
import numbers

import numpy as np

from linreg import _compiled
from linreg._blas import blas_threads, judged_blas_threads
from linreg._gram_products import block_products
from linreg._reference_cg import REFERENCE_CG_TOLERANCE, _conjugate_gradient_point
from linreg._structs import GramStatistics
from linreg._validation import all_finite, check_int, check_param, raise_if_not_finite

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


#: Rows of X centred at a time into the scratch of the Gram pass (`_block_rows`): a
#: scratch of 4096 d elements, 32 KiB d at most, i.e. at most twice the statistics' d^2
#: doubles from d = 2048 on, less above.
GRAM_BLOCK_ROWS = 4096

#: The one-pass products (`_one_pass_products`) shift the rows by the mean of this many
#: rows spread over X, and keep the shifted sums when their correction cancels at most
#: SHIFT_CORRECTION_MAX of each column's centred sum of squares (a bit at most).
SHIFT_SAMPLE_ROWS = 256
SHIFT_CORRECTION_MAX = 1.0

#: Up to this many outputs the targets' products X^T Y, |Y|^2 are added up in double in
#: the compiled centring loop (`centre_rows`, d k multiply-adds a row at a read's speed)
#: and the syrk runs on X's d columns only; with more, the targets are k more columns of
#: the syrk. OpenBLAS's edge kernels made a syrk on 65 columns cost more than on 64.
TARGETS_IN_PASS_MAX = 8

#: Rows of XtX corrected at a time for the shift (`_one_pass_products`): one d^2
#: temporary and three passes over d^2 doubles took 10 ms at d = 2048.
CORRECTION_ROWS = 64


#: Up to this many features (by X's dtype) a C-ordered X's statistics come from the
#: compiled pass, in double for both dtypes (`_compiled_statistics`); above, from the
#: blocks' products (`_one_pass_products`, `linreg._gram_products`). By the build the
#: process runs, measured on one thread at 2^22 elements, compiled pass / products path
#: time. avx512 build (products by its own kernel): float64 at d = 16, 20, 24, 32, 48,
#: 64: 0.70, 0.98, 1.04, 1.12, 1.28, 1.59; float32 at d = 8, 12, 16, 20, 24, 32: 0.65,
#: 0.64, 0.78, 1.16, 1.21, 1.36. Other builds (products by BLAS's syrk), float64 at
#: d = 24, 32, 40, 48, 56: avx2 0.94, 0.99, 1.05, 1.04, 1.09; float32 (sgemm runs twice
#: dgemm's speed) at d = 16, 20, 24: avx2 0.72, 1.34, 1.56.
COMPILED_GRAM_MAX_FEATURES = (
    {np.dtype(np.float64): 20, np.dtype(np.float32): 16} if _compiled.simd == "avx512"
    else {np.dtype(np.float64): 32, np.dtype(np.float32): 16})

#: ...and up to this many a Fortran-ordered X's (unweighted), its rows transposed into
#: C order in cache (`gram_products_by_columns`). Wider, BLAS is as fast (float64, 2e5
#: rows, one thread: 11 against 19 ns a row at d = 12, 19 against 25 at 16, 34 and 34
#: at 20, 44 against 41 at 24).
COMPILED_FORTRAN_GRAM_MAX_FEATURES = 16


def _block_rows(d, itemsize=8):
    """Rows per block: GRAM_BLOCK_ROWS whatever d and the dtype (`itemsize` is kept for
    the callers). BLAS runs longer blocks faster, and a block's d^2 bookkeeping (the
    product's zeroing and NumPy's copy of its triangle, the add into the sum) weighs as
    much at any d against its rows d^2 / 2 multiply-adds: one thread, thread time, a
    syrk over 2^23 elements in blocks of 1024 / 2048 / 4096 rows took float64 99 / 91 /
    87 ms at d = 512, 356 / 314 / 311 at d = 2048 (float32 46 / 42 / 39 and 194 / 169 /
    150). A float32 block's sums stay in float32 (see `_shifted_products`): measured
    against double on the same values, 6e-8 of the largest entry at d = 8 and 1e-7 at
    d = 512 whether blocks have 512 or 4096 rows; a diagonal entry, relative to itself,
    a few 1e-6 at worst."""
    return GRAM_BLOCK_ROWS


def _means(X, Y, n_threads, sample_weight):
    """(mean_X, mean_Y, total weight) in double, for the Fortran-order paths;
    X's sums compiled, chunked (the same bits for any n_threads)."""
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


def _centred_products(X, Y, mean_X, mean_Y, n_threads, sample_weight):
    """(XtX, XtY, yy): the centred sums of a Fortran-ordered X in builds without the
    products kernel (otherwise, and for a C-ordered X, `_one_pass_products`), at the
    means `_means` read first, block by block of rows through NumPy's BLAS.

    Each block of rows is centred into a scratch of X's dtype (NumPy's subtract), the
    targets as k more columns, and the blocks' products are added up in double by
    `linreg._gram_products.block_products` (its note says which products, their threads
    and their accuracy; a Fortran-ordered scratch takes BLAS's syrk). Weighted rows are
    scaled by the root of their weight. Ctrl-C is seen between two blocks.

    float32 data: the products are summed in float32 over short runs of rows, then in
    double (see block_products). The centring point is the mean
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
    order = "F" if not X.flags.c_contiguous else "C"  # the scratch follows X
    # The block's centred targets are k more columns of the scratch, so that one syrk
    # gives X^T X, X^T Y and |Y|^2 at once: BLAS splits a syrk among its threads by
    # output entries (the bits do not depend on n_threads), where a gemv X^T y split
    # the sum over rows (tests/threads caught it).
    scratch = np.empty((rows, d + k), dtype=dtype, order=order)

    def centred(start, threads):
        m = min(rows, n - start)
        S = scratch if m == rows else np.empty((m, d + k), dtype=dtype, order=order)
        np.subtract(X[start:start + m], centre_X, out=S[:, :d])
        np.subtract(Y[start:start + m], centre_Y, out=S[:, d:], casting="same_kind")
        if sample_weight is not None:
            S *= np.sqrt(sample_weight[start:start + m])[:, None].astype(dtype)
        return S

    XtX, XtY, yy = block_products(centred, n, rows, d, d + k, dtype, n_threads,
                                  c_order=order == "C")
    if single:
        total = float(n) if sample_weight is None else float(sample_weight.sum())
        delta_X = mean_X - centre_X
        delta_Y = mean_Y - centre_Y
        yy = _remove_offset(XtX, XtY, yy, delta_X, delta_Y, total)
    return XtX, XtY, yy


def _remove_offset(XtX, XtY, yy, delta_X, delta_Y, total):
    """Sums taken around a point off the means by (delta_X, delta_Y), made centred in
    place: sum w (x - c)(x - c)^T is the centred sum plus W delta delta^T. Returns yy."""
    d = XtX.shape[0]
    for top in range(0, d, CORRECTION_ROWS):  # a temporary that stays in cache
        # W (delta_i delta_j), symmetric as XtX is; (W delta_i) delta_j would not be.
        strip = np.outer(delta_X[top:top + CORRECTION_ROWS], delta_X)
        strip *= total
        XtX[top:top + CORRECTION_ROWS] -= strip
    XtY -= total * np.outer(delta_X, delta_Y)
    return yy - total * float(np.vdot(delta_Y, delta_Y))


def gram_statistics_of(X, Y, y_1d, n_threads, sample_weight=None, check_finite=False):
    """`gram_statistics` of a validated X (C or Fortran order, used in place), 2-D Y and
    sample_weight (float64 or None); linreg.solvers calls it directly. With
    `check_finite`, a non-finite X raises ValueError("X contains NaN or infinity"):
    seen in the one pass's sums where X takes `_one_pass_products` (its own read of X
    took 1.9 ms of the 20 at d = 64, float64, 2^23 elements), else by a read first."""
    check_gram_features(X.shape[1])
    d = X.shape[1]
    narrow = d <= COMPILED_GRAM_MAX_FEATURES[X.dtype]
    compiled_pass = X.flags.c_contiguous and narrow
    by_columns = (not X.flags.c_contiguous and narrow and sample_weight is None
                  and d <= COMPILED_FORTRAN_GRAM_MAX_FEATURES)
    # A Fortran-ordered X takes the one read too where the build's own kernel does the
    # products (its blocks copied into C order first): through BLAS its two reads and
    # Fortran-ordered syrk stay (X 2^20 x 32, float64, one thread: one read 1.0x the
    # C-order statistics' time, two 1.45x).
    one_pass = not (compiled_pass or by_columns) and (
        X.flags.c_contiguous or (_compiled.build.has_gram_products and X.flags.f_contiguous))
    if check_finite and not one_pass:
        raise_if_not_finite(X=X)
    if compiled_pass:
        return _compiled_statistics(X, Y, y_1d, n_threads, sample_weight)
    if by_columns:
        return _compiled_statistics_by_columns(X, Y, y_1d, n_threads)
    if one_pass:
        mean_X, mean_Y, total, XtX, XtY, yy = _one_pass_products(X, Y, n_threads,
                                                                 sample_weight, check_finite)
    else:
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


def _sampled_shift(X, Y, sample_weight):
    """The centring shift of the one-pass products: the (weighted) mean of at most
    SHIFT_SAMPLE_ROWS rows spread evenly over X (and Y's), rounded to X's dtype, as one
    array of d + k. Spread, not the first rows: sorted or drifting data have a first
    block far from the mean (see `_one_pass_products`). 0 where the sample weighs 0."""
    n, d = X.shape
    rows = np.unique(np.linspace(0, n - 1, min(n, SHIFT_SAMPLE_ROWS)).astype(np.intp))
    sample = np.concatenate([X[rows], Y[rows].astype(X.dtype, copy=False)], axis=1)
    sums = np.empty(sample.shape[1])
    weights = None if sample_weight is None else np.ascontiguousarray(sample_weight[rows])
    _compiled.for_layout("column_sums", sample)[0](sample, sums, 1, weights)
    weight = float(rows.size) if weights is None else float(weights.sum())
    if weight > 0:
        sums /= weight
    else:
        sums[:] = 0.0
    return sums.astype(X.dtype)


def _shifted_products(X, Y, shift, n_threads, sample_weight):
    """(sums, XtX, XtY, yy): sums (d + k,) of w (z - shift) over the rows z = [x, y],
    and XtX, XtY, yy the products of those shifted rows, not yet corrected for the
    shift's offset from the mean: one read of X, block by block (a Fortran-ordered X's
    blocks first copied into C order by `rows_of_columns`, the avx512 build only).

    Each block of rows is shifted into a scratch of X's dtype by the compiled
    `centre_rows`, which adds up the block's column sums in double as it goes (the
    means need no pass of their own) and, for at most TARGETS_IN_PASS_MAX outputs, the
    targets' products X^T Y and |Y|^2 in double too; the blocks' products (on the d
    columns, more outputs are k more columns) are added up in double by
    `linreg._gram_products.block_products` (its note says which products, their threads
    and their accuracy: the compiled kernel in the avx512 build, BLAS's syrk in the
    others). The blocks are fixed by the size and the compiled sums run on one thread in
    row order, so the bits do not depend on n_threads (tests/threads checks it). Weighted
    rows are scaled by the root of their weight. Ctrl-C is seen between two blocks.
    """
    n, d = X.shape
    k = Y.shape[1]
    dtype = X.dtype
    rows = min(n, _block_rows(d, X.itemsize))
    Y = np.ascontiguousarray(Y, dtype=dtype)
    targets_in_pass = k <= TARGETS_IN_PASS_MAX
    width = d if targets_in_pass else d + k
    scratch = np.empty((rows, width), dtype=dtype)
    sums = np.zeros(d + k)
    cross = np.zeros(d * k + 1) if targets_in_pass else None
    # A Fortran-ordered X's block is first copied into C order (d columns transposed).
    by_columns = not X.flags.c_contiguous
    rows_copy = np.empty((rows, d), dtype=dtype) if by_columns else None

    def centred(start, threads):
        m = min(rows, n - start)
        S = scratch[:m]  # C order: its first m rows are contiguous
        weights = None if sample_weight is None else sample_weight[start:start + m]
        block = X[start:start + m]
        if by_columns:
            block = rows_copy[:m]
            _compiled.build.rows_of_columns(X.T, start, block)
        _compiled.build.centre_rows(block, Y[start:start + m], shift, weights, S, sums,
                                    cross, threads)
        return S

    XtX, XtY, yy = block_products(centred, n, rows, d, width, dtype, n_threads)
    if targets_in_pass:
        XtY = np.ascontiguousarray(cross[:d * k].reshape(k, d).T)
        yy = float(cross[d * k])
    return sums, XtX, XtY, yy


def _one_pass_products(X, Y, n_threads, sample_weight, check_finite=False):
    """(mean_X, mean_Y, total, XtX, XtY, yy) of X (C-ordered; or Fortran-ordered in the
    avx512 build, see gram_statistics_of) in one read of it, in place
    of `_means` then `_centred_products` (two reads).

    The rows are shifted by s, an estimate of the mean (`_sampled_shift`), and the
    shift's offset delta = mean - s, known at the end from the shifted sums, is removed
    exactly: sum w (x - s)(x - s)^T = centred sum + W delta delta^T (likewise X^T Y and
    |Y|^2). The correction cancels: the shifted sums are rounded on the scale of
    G_jj + W delta_j^2, not the centred G_jj. Up to SHIFT_CORRECTION_MAX times G_jj (at
    most a bit lost) for every column, or a delta within rounding of s (as far as the
    two-pass way centres at the mean rounded to X's dtype), the pass stands; otherwise
    (an unrepresentative sample: heavy weights on a few far rows) the rows are read again
    at the mean the first read gave, i.e. the two-pass way. With `check_finite`, a
    non-finite X raises ValueError after the first read (its sums are not finite).

    Why: on one thread (2 cores shared with other work, thread time, 2^23 elements) the
    two-pass way's statistics took 1.29-1.38x NumPy's X.T @ X + X.sum(0) at d = 64,
    of which the separate means pass was 2.0 ms of 23 (float64) and 1.1 of 13
    (float32), the centring 2.7 / 1.2, and the targets' column in the syrk (65
    columns) 1.4 / 1.2 more than the 64 columns alone. This pass's products alone
    (the shift, the centring with its sums, the syrk, the correction) now take
    1.01-1.02x NumPy's X.T @ X + X.sum(0) at d = 64, 1.04-1.06x at d = 512 (the
    padded product beats NumPy's own syrk there). The whole kernels.gram_statistics
    (its validation read folded into this pass) went from 1.34-1.36x to 1.03-1.06x at
    d = 64, 1.09-1.12x to 1.08-1.09x at 512, 1.20-1.28x to 1.12-1.13x at 2048 (float64),
    1.40-1.42x to 1.18-1.20x, 1.35-1.38x to 1.17-1.21x, 1.30x to 1.16-1.17x (float32);
    what remains is the reference point (the solve or the conjugate gradients, see
    `linreg._reference_cg`) and, for float32, the fused residual pass.
    """
    n, d = X.shape
    total = float(n) if sample_weight is None else float(sample_weight.sum())
    shift = _sampled_shift(X, Y, sample_weight)
    for attempt in range(2):
        sums, XtX, XtY, yy = _shifted_products(X, Y, shift, n_threads, sample_weight)
        # A NaN or infinity in X makes its column's sum one (finite data whose shifted
        # sums overflow, |x| ~ 1e308 / n, are told apart by reading X).
        if check_finite and not np.isfinite(sums[:d]).all() and not all_finite(X):
            raise ValueError("X contains NaN or infinity")
        delta = sums / total
        delta_X, delta_Y = delta[:d], delta[d:]
        yy = _remove_offset(XtX, XtY, yy, delta_X, delta_Y, total)
        shift64 = shift.astype(np.float64)
        mean = shift64 + delta
        if attempt == 1 or _shift_kept(delta, shift, XtX.diagonal(), yy, total):
            return mean[:d], mean[d:], total, XtX, XtY, yy
        shift = mean.astype(X.dtype)


def _shift_kept(delta, shift, diagonal, yy, total):
    """True when the shifted sums' correction cancelled at most SHIFT_CORRECTION_MAX of
    what it kept (W delta_j^2 against G_jj, for every column of X, and against |Yc|^2 for
    the targets), or delta is within the rounding of the shift itself (np.spacing in X's
    dtype: the two-pass way's centre, the mean rounded to that dtype, is as far off)."""
    d = diagonal.shape[0]
    ulp = np.spacing(np.abs(shift)).astype(np.float64)
    with np.errstate(all="ignore"):
        cancelled = total * delta * delta
    near = np.abs(delta) <= ulp
    columns = (cancelled[:d] <= SHIFT_CORRECTION_MAX * diagonal) | near[:d]
    targets = (float(cancelled[d:].sum()) <= SHIFT_CORRECTION_MAX * yy) or bool(near[d:].all())
    return bool(columns.all()) and targets


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
    # BLAS on the calling thread: its products here are O(d^2 k) (a few ms at d = 2048),
    # and OpenBLAS's workers, once woken, spin for 0.1-0.2 s after its last call, which
    # took a core from what runs next (the next Gram pass's threads: 1.5x its time).
    with np.errstate(all="ignore"), blas_threads(1):
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


