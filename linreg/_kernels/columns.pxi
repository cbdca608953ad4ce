# Fortran-ordered X, read in place (pandas hands DataFrames to NumPy column-major).
#
# Every entry point here takes Xt, the C-contiguous (d, n) transpose of a Fortran-ordered
# X (n, d): column j of X is the contiguous run Xt[j, :]. `linreg._compiled.for_layout`
# picks these `*_by_columns` entry points for such an X, so no copy of X is ever made.
#
# A pass goes through each chunk of rows (a C-order pass's chunks: the thread count
# changes no bit) in blocks of rows (1024 at d <= 32; predict with one output, which
# reads a block once, 4096 at any width): a block's residuals are built four
# columns at a time (r += x_j w_j + ... + x_j+3 w_j+3, along contiguous memory), then
# the gradient sums of four columns are four dot products with them, as in a BLAS gemv.
#
# Two things made that run near the C-order pass's speed (X 2^20 x 32, one thread,
# Fortran time / C time, bench/test_fortran_order.py; float64, float32):
# - A pipeline (`_block_step`): a block's gradient is summed while the next block's
#   residuals are built, in one loop over rows (the block still in cache), so memory
#   streams during all the arithmetic (after its own residuals: idle a third of the pass).
# - Software prefetching: a block's four columns are four short streams (8 KB each in
#   float64) the hardware prefetcher picks up late, so the loop asks for the lines 8 KB
#   on in its reading order, a line of each column per line of rows, into the next four
#   columns and block (every fourth line only: 1.9x). The inner loop is C
#   (column_lines.pxi): the sums stay in vector registers across the block.
# Fused epoch, Fortran / C time: float64 1.62-1.65 -> 1.35-1.38, float32 1.89-1.92 -> 1.20-1.23.
# One output on 2 to 16 columns takes column_narrow.pxi's loop instead.
#
# The results equal those of the C-order passes up to the order of summation: a row's
# four products are summed in the data's dtype (float32: then added in double, as the
# C-order pass adds runs of F32_CHUNK float32 products), its prediction is summed in
# double; the loss's sums over rows are in double, block by block, and so are the
# gradient's, but for float32 X, where as in the C-order pass the residuals are rounded
# to float32 and 8 rows' terms summed in float32 first (in cache, 2^16 x 32: 0.76x the
# time of double terms; from memory the pass is held by its reads: d = 12 0.89, 32 1.00).
#
# SGD (`sgd_epochs_by_columns`) runs the C-order loops on copies of rows (row_copies.pxi).


cdef enum:
    # Rows of a block: at most COLUMN_BLOCK_ROWS, and at most COLUMN_BLOCK_BYTES of X
    # (two blocks, the one read and the one before it, stay in L2), rounded to a multiple
    # of 64 rows, at least MIN_BLOCK_ROWS. 1024 rows for both dtypes at d = 32: float32
    # blocks of 2048 rows took 1.23x the time of a C-order pass, 1024 1.19x (float64:
    # 512 rows 1.40x, 1024 and 2048 1.34x, in the same run).
    COLUMN_BLOCK_BYTES = 1 << 18
    COLUMN_BLOCK_ROWS = 1024
    MIN_BLOCK_ROWS = 64
    # Under four columns nothing is prefetched (the loops over four columns do it), so
    # longer blocks make longer streams for the hardware prefetcher; longer than 2048 rows
    # the two residual runs (16 KB each) no longer stay in L1 (float32, d = 3: 8192 rows
    # took 1.6x the C-order time, 2048 1.0x).
    NARROW_BLOCK_ROWS = 2048
    # The loops go through a block's rows a line (64 bytes of each of four columns) at a
    # time, and before each line ask for the lines COLUMN_AHEAD_BYTES further on in the
    # order the residual loop reads X (four columns side by side): 8 KB of X, 2 KB of a
    # column (float64, d = 32: 1.34x the C-order time; 4 KB 1.45x, 12 KB 1.41x, 16 KB
    # 1.55x; float32: 1.19x, 4 KB 1.39x, 12 KB 1.28x).
    COLUMN_AHEAD_BYTES = 8192
    # Predict with one output reads a block once: its blocks are PREDICT_BLOCK_ROWS
    # rows, however wide, so that each column is a long stream. Four columns read side by
    # side took 1.16x the time of one sequential read of the same bytes in blocks of 4 KB
    # of a column, 1.03-1.06x in blocks of 16 KB (C harness, float64 2^20 x 32,
    # prefetching 8 KB ahead, one thread). Predict on a Fortran X, one thread, A/B
    # against blocks of `_block_rows` (1024 rows; 64 at d = 512 in float64, 128 in
    # float32): blocks of 16 KB of a column took float32 (4096 rows) at d = 32 0.87x the
    # time, d = 19 0.81x, d = 512 0.63x; float64 (2048 rows) d = 32 0.94x, d = 512 0.60x.
    # Then float64 in 4096 rows against 2048 0.89-0.94x, float32 in 8192 against 4096
    # 0.96-1.05x: 4096 rows for both.
    PREDICT_BLOCK_ROWS = 4096


cdef inline Py_ssize_t _block_rows(Py_ssize_t d, Py_ssize_t itemsize) noexcept nogil:
    cdef Py_ssize_t m = COLUMN_BLOCK_BYTES // (d * itemsize) // 64 * 64
    cdef Py_ssize_t most = COLUMN_BLOCK_ROWS if d >= 4 else NARROW_BLOCK_ROWS
    return MIN_BLOCK_ROWS if m < MIN_BLOCK_ROWS else (most if m > most else m)


cdef inline Py_ssize_t _predict_block_rows(
    Py_ssize_t d, Py_ssize_t k, Py_ssize_t itemsize,
) noexcept nogil:
    """Rows of `_predict_columns`'s blocks: PREDICT_BLOCK_ROWS with one output, whose
    blocks are read once (nothing of them need stay in cache); with several, each
    output reads the block again from cache: `_block_rows`."""
    cdef Py_ssize_t m = _block_rows(d, itemsize)
    return PREDICT_BLOCK_ROWS if k == 1 and PREDICT_BLOCK_ROWS > m else m


cdef struct ColumnBlock:
    # Where a pass over a block's columns reads, and what it prefetches.
    Py_ssize_t n           # X's rows: the stride between two columns of Xt
    Py_ssize_t d
    Py_ssize_t start       # the block's first row
    Py_ssize_t rows
    Py_ssize_t next_rows   # rows of the block after it (0 at the end of X): prefetched
    Py_ssize_t ahead       # rows of a column ahead of the residual loop; 0: no prefetching


include "column_lines.pxi"
include "column_narrow.pxi"
include "column_outputs.pxi"


cdef inline void _block4(
    const floating* a, Py_ssize_t m_a, const floating* b, Py_ssize_t m_b, Py_ssize_t n,
    const floating* w, double* r, const double* q, const float* qf, double* g,
    const floating* pf_lo, Py_ssize_t lo_stop, const floating* pf_hi, Py_ssize_t split,
    Py_ssize_t hi_stop,
) noexcept nogil:
    if floating is double:
        lcol_block_d(a, m_a, b, m_b, n, w, r, q, g, pf_lo, lo_stop, pf_hi, split, hi_stop)
    else:
        lcol_block_f(a, m_a, b, m_b, n, w, r, q, qf, g, pf_lo, lo_stop, pf_hi, split, hi_stop)


cdef inline const floating* _group_rows(
    const floating* X0, const ColumnBlock* blk, Py_ssize_t j, Py_ssize_t* rows,
) noexcept nogil:
    """Where the residual loop reads the four columns j..j+3 (counted on into the next
    block's columns past the last four of this one), and how many rows: NULL past X."""
    cdef Py_ssize_t groups = blk.d - blk.d % 4
    if j < groups:
        rows[0] = blk.rows
        return X0 + j * blk.n + blk.start
    if blk.next_rows and j - groups < groups:
        rows[0] = blk.next_rows
        return X0 + (j - groups) * blk.n + blk.start + blk.rows
    rows[0] = 0
    return NULL


cdef void _block_step(
    const floating* X0, const ColumnBlock* blk, const floating* w, double* r,
    Py_ssize_t prev_start, Py_ssize_t prev_rows, const double* q, const float* qf, double* g,
) noexcept nogil:
    """One step of the pipeline: r[i] += sum_j X[blk.start + i, j] w[j] (i < blk.rows)
    and g[j] += sum_i X[prev_start + i, j] q[i] (i < prev_rows; j < d - d % 4, the rest
    is `_dot_tail`'s; float32 X: q rounded to float32 in qf, see column_lines.pxi), four
    columns at a time,
    each four in one loop over lines of rows (column_lines.pxi), prefetching blk.ahead
    rows of four columns ahead of the residual loop when blk.ahead is not 0.

    The previous block's gradient is summed here, while this block's columns come from
    memory (see the top of this file). Either part may be empty (rows 0)."""
    cdef Py_ssize_t n = blk.n, d = blk.d, m = blk.rows, s = blk.start, j = 0, i
    cdef Py_ssize_t skip = 0, within = 0, split = 0, lo_stop = 0, hi_stop = 0, rows
    cdef const floating* a
    cdef const floating* b
    cdef const floating* pf_lo = NULL
    cdef const floating* pf_hi = NULL
    if blk.ahead and m:
        # `ahead` rows on in the order the loop reads X: `skip` groups of four columns
        # on, `within` rows into them, the rest in the group after.
        skip = 4 * (blk.ahead // m)
        within = blk.ahead % m
        split = m - within
    while j + 4 <= d:
        a = X0 + j * n + s
        b = X0 + j * n + prev_start
        if blk.ahead and m:
            pf_lo = _group_rows(X0, blk, j + skip, &rows)
            lo_stop = 0
            if pf_lo != NULL and rows > within:
                pf_lo = pf_lo + within
                lo_stop = split if rows - within > split else rows - within
            pf_hi = _group_rows(X0, blk, j + skip + 4, &rows)
            hi_stop = split + (within if within < rows else rows)
        _block4(a, m, b, prev_rows, n, w + j, r, q, qf, g + j, pf_lo, lo_stop, pf_hi, split,
                hi_stop)
        j += 4
    if j < d and m:  # the residual terms of the last d % 4 columns (`_dot_tail`: gradient)
        _tail_residuals(X0 + j * n + s, n, d - j, m, w + j, r)


cdef inline void _dot_tail(
    const floating* X0, Py_ssize_t n, Py_ssize_t d, Py_ssize_t s, Py_ssize_t m,
    const double* q, double* g,
) noexcept nogil:
    """g[j] += sum_i X[s + i, j] q[i] (i < m) for the last d % 4 columns, right after
    the block's residuals, while its columns are still in L1 (a step later, from L2,
    float32 at d = 3 took 1.45x the C-order time, against 1.0x)."""
    cdef Py_ssize_t j = d - d % 4
    if j == d or m == 0:
        return
    if floating is double:  # column_lines.pxi
        lcol_tail_grad_double(X0 + j * n + s, n, <int> (d - j), m, q, g + j)
    else:
        lcol_tail_grad_float(X0 + j * n + s, n, <int> (d - j), m, q, g + j)


cdef inline void _start_block(
    ColumnBlock* blk, Py_ssize_t n, Py_ssize_t d, Py_ssize_t s, Py_ssize_t stop,
    Py_ssize_t block, Py_ssize_t itemsize,
) noexcept nogil:
    cdef Py_ssize_t ahead = COLUMN_AHEAD_BYTES // (4 * itemsize)
    blk.n = n
    blk.d = d
    blk.start = s
    blk.rows = block if s + block <= stop else stop - s
    # The next block is the next chunk's first one at the end of a chunk: with one
    # thread it is read next. Prefetching changes no result.
    blk.next_rows = block if s + blk.rows + block <= n else n - s - blk.rows
    # Blocks shorter than the distance (wide rows) prefetch some groups of four columns
    # on (float64, d = 512, blocks of 64 rows: 1.85x the C-order time, 2.0x without).
    blk.ahead = ahead


cdef double _column_block_sums(
    const floating[:, ::1] Xt, const floating[:, :] Y, Py_ssize_t start, Py_ssize_t stop,
    const WorkBuffers* work, double* grad_by_output, double* grad_bias, double* scratch,
) noexcept nogil:
    """`_accumulate_rows` over rows start..stop-1 of X = Xt.T: add sum_i w_i r_i x_i into
    grad_by_output (k, d), sum_i w_i r_i into grad_bias; return sum_i w_i |r_i|^2.

    A pipeline over the blocks of rows and, within a block, the outputs: each step builds
    one block's residuals for one output while it sums the gradient of the step before
    (`_block_step`). `scratch` holds 3 _block_rows(d) doubles: those two residual runs,
    then the two runs rounded to float32 (float32 X)."""
    cdef Py_ssize_t d = Xt.shape[0], k = Y.shape[1], ahead
    cdef Py_ssize_t block = _block_rows(d, sizeof(floating)), s = start, m, o
    cdef Py_ssize_t prev_start = start, prev_rows = 0, prev_output = 0
    cdef const double* sw = work.sample_weight
    cdef const floating* X0 = &Xt[0, 0]
    cdef const floating* w
    cdef double* r = scratch
    cdef double* q = scratch + block  # the previous step's weighted residuals
    cdef float* rf = <float*> (scratch + 2 * block)  # r and q in float32 (float32 X)
    cdef float* qf = rf + block
    cdef double* swap
    cdef float* swap_f
    cdef double sse = 0.0
    cdef ColumnBlock blk
    if _narrow_columns_take(d, k) and stop > start:  # column_narrow.pxi
        return _narrow_column_sums(Xt, Y, start, stop, work, grad_by_output, grad_bias)
    if _narrow_output_sums_take(d, k) and stop > start:  # column_outputs.pxi
        return _narrow_outputs_sums(Xt, Y, start, stop, work, grad_by_output, grad_bias)
    while s < stop:
        _start_block(&blk, Xt.shape[1], d, s, stop, block, sizeof(floating))
        m = blk.rows
        ahead = blk.ahead
        # The next block's y, asked for now: it arrives while this block's columns are
        # read. Each block's y starts a new 4 KB page, where the hardware prefetcher
        # stops, and its loads stalled the pass (float32 fused epoch, d = 8: 0.84x the
        # time with this; d = 32 and float64 about equal).
        if blk.next_rows and Y.strides[0] <= 64:
            _prefetch_row(&Y[s + m, 0], blk.next_rows * Y.strides[0])
        for o in range(k):
            if m:
                _start_residuals(r, &Y[s, o], Y.strides[0] // sizeof(floating), work.bias[o], m)
            w = _weights(X0, work, o, d)
            # Only the first output's step reads the block from memory; the others find
            # it in cache.
            blk.ahead = ahead if o == 0 else 0
            _block_step(X0, &blk, w, r, prev_start, prev_rows, q, qf,
                        grad_by_output + prev_output * d)
            # The weighted residuals q_i = w_i r_i, in place, after their squares are summed.
            lcol_finish(r, NULL if sw == NULL else sw + s, m, &sse, &grad_bias[o],
                        rf if floating is float else NULL)
            _dot_tail(X0, blk.n, d, s, m, r, grad_by_output + o * d)
            if d >= 4:  # under four columns there is no pipeline: r stays in L1
                swap = q; q = r; r = swap
                swap_f = qf; qf = rf; rf = swap_f
                prev_start = s; prev_rows = m; prev_output = o
        s += m
    blk.rows = 0
    blk.ahead = 0
    _block_step(X0, &blk, _weights(X0, work, 0, d), r, prev_start, prev_rows, q, qf,
                grad_by_output + prev_output * d)  # the last step's gradient
    return sse


cdef double _pass_over_columns(
    const floating[:, ::1] Xt, const floating[:, :] Y, WorkBuffers* work, int n_threads,
    floating[:, ::1] row_blocks=None,
) noexcept nogil:
    """`_pass_over_rows` for X = Xt.T (Fortran order); the same chunks, reduced alike.
    Returns NaN if the scratch cannot be allocated (reported like a non-finite loss).
    Given `row_blocks` (several outputs), by blocks of rows instead (column_rows.pxi)."""
    cdef Py_ssize_t n = Xt.shape[1], d = Xt.shape[0], k = Y.shape[1]
    cdef Py_ssize_t n_chunks = work.n_chunks, stride = work.chunk_stride, c, j
    cdef Py_ssize_t at_sse = d * k + k, scratch = 3 * _block_rows(d, sizeof(floating))
    cdef double* sums
    cdef double* r
    cdef double sse = 0.0
    if row_blocks is not None:
        return _pass_over_row_blocks(Xt, Y, work, n_threads, row_blocks)
    _zero_grad(work, d, k)
    if n_chunks == 1:
        r = <double*> malloc(scratch * sizeof(double))
        if r == NULL:
            return NAN
        sse = _column_block_sums(Xt, Y, 0, n, work, work.grad_by_output, work.grad_bias, r)
        free(r)
        return sse
    if n_threads == 1:  # the same chunks, in order, with one scratch
        r = <double*> malloc(scratch * sizeof(double))
        if r == NULL:
            return NAN
        for c in range(n_chunks):
            sums = work.chunk_sums + c * stride
            memset(sums, 0, at_sse * sizeof(double))
            sums[at_sse] = _column_block_sums(Xt, Y, c * n // n_chunks, (c + 1) * n // n_chunks,
                                              work, sums, sums + d * k, r)
        free(r)
    else:
        _chunks_over_columns(Xt, Y, work, n_threads, scratch)
    for c in range(n_chunks):
        sums = work.chunk_sums + c * stride
        for j in range(at_sse):
            work.grad_by_output[j] += sums[j]
        sse += sums[at_sse]
    return sse


cdef void _chunks_over_columns(
    const floating[:, ::1] Xt, const floating[:, :] Y, WorkBuffers* work, int n_threads,
    Py_ssize_t scratch,
) noexcept nogil:
    cdef Py_ssize_t n = Xt.shape[1], d = Xt.shape[0], k = Y.shape[1]
    cdef Py_ssize_t n_chunks = work.n_chunks, stride = work.chunk_stride, c, at_sse = d * k + k
    cdef double* sums
    cdef double* r
    cdef int caller = linreg_caller_cpu()  # kept off it between passes (platform.pxi)
    with parallel(num_threads=n_threads):
        linreg_free_cpu()  # while it works, a worker runs anywhere
        for c in prange(n_chunks, schedule="dynamic"):
            sums = work.chunk_sums + c * stride
            memset(sums, 0, at_sse * sizeof(double))
            r = <double*> malloc(scratch * sizeof(double))
            if r == NULL:
                sums[at_sse] = NAN
            else:
                sums[at_sse] = _column_block_sums(
                    Xt, Y, c * n // n_chunks, (c + 1) * n // n_chunks, work, sums, sums + d * k, r)
                free(r)
        linreg_keep_off_cpu(caller)  # the next wake-up on another CPU


cdef void _predict_columns(
    const floating[:, ::1] Xt, floating[:, :] out, const WorkBuffers* work, Py_ssize_t start,
    Py_ssize_t stop, double* r,
) noexcept nogil:
    """`_predict_rows` for X = Xt.T; `r` is scratch for _predict_block_rows(d, k)
    doubles. The residual loop of `_block_step` alone, prefetching ahead (float32 took
    1.5x the time of the C-order predict without)."""
    cdef Py_ssize_t d = Xt.shape[0], k = out.shape[1], s = start, m, i, o, ahead
    cdef double part
    cdef Py_ssize_t block = _predict_block_rows(d, k, sizeof(floating))
    cdef const floating* X0 = &Xt[0, 0]
    cdef const floating* w
    cdef ColumnBlock blk
    if _narrow_columns_take(d, k) and stop > start:  # column_narrow.pxi
        _narrow_column_predict(Xt, out, work, start, stop)
        return
    if _narrow_outputs_take(d, k, sizeof(floating)) and stop > start:  # column_outputs.pxi
        _narrow_outputs_predict(Xt, out, work, start, stop)
        return
    while s < stop:
        _start_block(&blk, Xt.shape[1], d, s, stop, block, sizeof(floating))
        m = blk.rows
        ahead = blk.ahead
        for o in range(k):
            part = work.bias[o]
            for i in range(m):
                r[i] = part
            w = _weights(X0, work, o, d)
            blk.ahead = ahead if o == 0 else 0
            _block_step(X0, &blk, w, r, s, 0, <const double*> NULL, <const float*> NULL,
                        <double*> NULL)
            if m:
                _store_rows(&out[s, o], out.strides[0] // sizeof(floating), r, m)
        s += m


def column_sums(const floating[:, ::1] A, double[::1] out, int n_threads=1,
                const double[::1] sample_weight=None):
    """out[j] = sum_i w_i A[i, j] (w_i = 1 without weights), in double. Chunks of rows
    fixed by the size, reduced in order: the same bits for any n_threads."""
    cdef Py_ssize_t n = A.shape[0], d = A.shape[1], c, i, j
    cdef Py_ssize_t stride = _whole_lines(d), n_chunks = _n_chunks(n, d, stride)
    cdef const double* sw = NULL if sample_weight is None else &sample_weight[0]
    cdef void* block = NULL
    cdef double* sums = _alloc_lines(n_chunks * stride, &block)
    cdef double* part
    cdef double wi
    if sums == NULL:
        raise MemoryError()
    n_threads = _threads_for(n, d, n_threads)
    with nogil:
        for c in prange(n_chunks, num_threads=n_threads, schedule="static"):
            part = sums + c * stride
            memset(part, 0, d * sizeof(double))
            for i in range(c * n // n_chunks, (c + 1) * n // n_chunks):
                wi = 1.0 if sw == NULL else sw[i]
                for j in range(d):
                    part[j] += wi * A[i, j]
        memset(&out[0], 0, d * sizeof(double))
        for c in range(n_chunks):
            for j in range(d):
                out[j] += sums[c * stride + j]
        _release_threads(n_chunks, n_threads)
        free(block)


def column_sums_by_columns(const floating[:, ::1] At, double[::1] out, int n_threads=1,
             const double[::1] sample_weight=None):
    """`column_sums` of A = At.T (Fortran order): out[j] = sum_i w_i At[j, i]. One column
    per thread at a time, each summed in one fixed order: the same bits for any n_threads."""
    cdef Py_ssize_t d = At.shape[0], n = At.shape[1], i, j
    cdef const double* sw = NULL if sample_weight is None else &sample_weight[0]
    cdef const floating* a
    cdef double total
    n_threads = _threads_for(n, d, n_threads)
    with nogil:
        for j in prange(d, num_threads=n_threads, schedule="static"):
            a = &At[j, 0]
            total = 0.0
            if sw == NULL:
                for i in range(n):
                    total = total + a[i]
            else:
                for i in range(n):
                    total = total + sw[i] * a[i]
            out[j] = total
        _release_threads(2, n_threads)


def column_moments_by_columns(const floating[:, ::1] At, double[::1] mean_out,
                              double[::1] var_out, int n_threads=1,
                              const double[::1] sample_weight=None):
    """`column_moments` of the Fortran-ordered A = At.T: one column per thread at a time,
    each summed in one fixed order, so the thread count changes no bit."""
    cdef Py_ssize_t d = At.shape[0], n = At.shape[1], i, j
    cdef const double* sw = NULL if sample_weight is None else &sample_weight[0]
    cdef double total = _weight_total(sample_weight, n), mean, var, delta
    cdef const floating* a
    n_threads = _threads_for(n, d, n_threads)
    with nogil:
        for j in prange(d, num_threads=n_threads, schedule="static"):
            a = &At[j, 0]
            mean = 0.0
            var = 0.0
            if sw == NULL:
                for i in range(n):
                    mean = mean + a[i]
                mean = mean / total
                for i in range(n):
                    delta = a[i] - mean
                    var = var + delta * delta
            else:
                for i in range(n):
                    mean = mean + sw[i] * a[i]
                mean = mean / total
                for i in range(n):
                    delta = a[i] - mean
                    var = var + sw[i] * delta * delta
            mean_out[j] = mean
            var_out[j] = var / total
        _release_threads(2, n_threads)


def scaled_row_norms_by_columns(const floating[:, ::1] At, const double[::1] centre,
                                const double[::1] inv_var, int n_threads=1):
    """`scaled_row_norms` of the Fortran-ordered A = At.T, by blocks of rows."""
    cdef Py_ssize_t d = At.shape[0], n = At.shape[1], c, i, j, s, m, stop
    cdef Py_ssize_t n_chunks = _n_chunks(n, d, 8), block = _block_rows(d, sizeof(floating))
    cdef double* sums = <double*> malloc(n_chunks * 8 * sizeof(double))
    cdef double* r
    cdef const floating* a
    cdef double largest, total, delta, scale, centre_j
    cdef int failed = 0
    if sums == NULL:
        raise MemoryError()
    n_threads = _threads_for(n, d, n_threads)
    with nogil:
        for c in prange(n_chunks, num_threads=n_threads, schedule="static"):
            largest = 0.0
            total = 0.0
            r = <double*> malloc(block * sizeof(double))
            if r == NULL:
                failed += 1
            else:
                s = c * n // n_chunks
                stop = (c + 1) * n // n_chunks
                while s < stop:
                    m = block if s + block <= stop else stop - s
                    memset(r, 0, m * sizeof(double))
                    for j in range(d):
                        a = &At[j, s]
                        centre_j = centre[j]
                        scale = inv_var[j]
                        for i in range(m):
                            delta = a[i] - centre_j
                            r[i] = r[i] + delta * delta * scale
                    for i in range(m):
                        total = total + r[i]
                        if r[i] > largest:
                            largest = r[i]
                    s = s + m
                free(r)
            sums[8 * c] = largest
            sums[8 * c + 1] = total
        largest = 0.0
        total = 0.0
        for c in range(n_chunks):
            if sums[8 * c] > largest:
                largest = sums[8 * c]
            total += sums[8 * c + 1]
        _release_threads(n_chunks, n_threads)
        free(sums)
    if failed:
        raise MemoryError()
    return largest, total / n

