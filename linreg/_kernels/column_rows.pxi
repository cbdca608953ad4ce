# Several outputs on a Fortran-ordered X: each block of rows copied into C order, in a
# scratch that stays in L2, and summed there by the C-order pass's own loops. (The
# avx512 build's fused pass sums 5 to 16 outputs on up to 32 columns from the columns
# themselves instead: column_tiles_avx512.pxi.)
#
# Why: the pass over columns (columns.pxi) builds the residuals of one output at a time,
# so each block of X is read k times for the residuals and k times for the gradient
# (from L2, but one output's four columns at a time); the C-order loops for k outputs
# (outputs.pxi, few_outputs.pxi, short_rows.pxi) read a row once for every output. With
# several outputs the Fortran pass took 1.2-3.6x the C-order time (2^24 elements, one
# thread; k = 8: 2.7-3.6x, d = 2 and 4: 1.7-3.4x; predict 1.3-2.4x). A block here is
# ROW_BLOCK_BYTES of X, transposed eight columns at a time through the whole block
# (linreg_transpose_block_*, the Gram pass's copy, prefetching on along each column), so
# X is read from memory once, and the block once more from L2 by the loops.
#
# The sums are the C-order loops' over each block, added in block order into the chunk's
# sums: the chunks, and so the results, do not depend on the thread count. Each thread
# has its own block of the scratch, which the entry points allocate (with the GIL): a
# pass given none (`row_blocks` None) takes the columns' pass.


from cython.view cimport array as _scratch_array

include "column_tiles_avx512.pxi"

cdef enum:
    # X in a block: two blocks' worth (the copy, and the block being read for it) stay
    # in L2 (1 MB a core here).
    ROW_BLOCK_BYTES = 1 << 17
    # Rows in a block: a multiple of 16 (a float32 line of each column), at least this.
    MIN_ROW_BLOCK_ROWS = 16


cdef inline bint _row_blocks_take(Py_ssize_t d, Py_ssize_t k) noexcept nogil:
    """Whether a pass over a Fortran-ordered X with d columns and k outputs goes through
    blocks of rows copied into C order, not over its columns: from five outputs, where
    the C-order loops go across outputs (outputs.pxi). With 2 to 4 the copy cost more
    than it saved (fused epoch, Fortran / C time, d = 4 to 16: 1.2-1.4 over columns,
    1.35-4.4 by row blocks; k = 8: 2.7-3.6 over columns, 1.4-2.3 by row blocks)."""
    return k > OUTPUT_TILE // 2


cdef inline Py_ssize_t _row_block_rows(Py_ssize_t d, Py_ssize_t itemsize) noexcept nogil:
    cdef Py_ssize_t m = ROW_BLOCK_BYTES // (d * itemsize) // 16 * 16
    return MIN_ROW_BLOCK_ROWS if m < MIN_ROW_BLOCK_ROWS else m


cdef object _row_block_scratch(Py_ssize_t d, Py_ssize_t k, int n_threads, Py_ssize_t itemsize):
    """The scratch of a pass with row blocks, (n_threads blocks' rows, d) in X's dtype (by
    itemsize), one block per thread (a pass uses at most a thread a core); None when the
    pass goes over columns instead."""
    cdef int slots = min(max(n_threads, 1), max(linreg_cores(), 1))
    if not _row_blocks_take(d, k):
        return None
    return _scratch_array(shape=(slots * _row_block_rows(d, itemsize), d),
                          itemsize=itemsize, format="f" if itemsize == 4 else "d")


cdef inline void _copy_row_block(
    const floating[:, ::1] Xt, Py_ssize_t start, Py_ssize_t m, floating* out,
) noexcept nogil:
    """out[i, j] = X[start + i, j] for i < m, X = Xt.T, out C-ordered (m, d)."""
    if floating is double:
        linreg_transpose_block_f64(&Xt[0, start], Xt.shape[1], Xt.shape[0], m, out)
    else:
        linreg_transpose_block_f32(&Xt[0, start], Xt.shape[1], Xt.shape[0], m, out)


cdef double _row_block_sums(
    const floating[:, ::1] Xt, const floating[:, :] Y, Py_ssize_t start, Py_ssize_t stop,
    const WorkBuffers* work, double* grad_by_output, double* grad_bias,
    floating[:, ::1] row_blocks, int slot,
) noexcept nogil:
    """`_column_block_sums` by blocks of rows copied into slot `slot` of row_blocks."""
    cdef Py_ssize_t rows = _row_block_rows(Xt.shape[0], sizeof(floating)), s = start, m
    cdef floating[:, ::1] block = row_blocks[slot * rows:(slot + 1) * rows]
    cdef WorkBuffers local = work[0]  # the weights' rows counted from the block's first
    cdef double sse = 0.0
    cdef bint done = False
    if _column_tiles_take(Xt.shape[0], Y.shape[1]):  # column_tiles_avx512.pxi
        sse = _column_tile_sums(Xt, Y, start, stop, work, grad_by_output, grad_bias, &done)
        if done:
            return sse
    while s < stop:
        m = rows if s + rows <= stop else stop - s
        _copy_row_block(Xt, s, m, &block[0, 0])
        if work.sample_weight != NULL:
            local.sample_weight = work.sample_weight + s
        sse += _accumulate_rows(block[:m], Y[s:s + m], NULL, 0, m, &local, grad_by_output,
                                grad_bias, True)
        s += m
    return sse


cdef double _pass_over_row_blocks(
    const floating[:, ::1] Xt, const floating[:, :] Y, WorkBuffers* work, int n_threads,
    floating[:, ::1] row_blocks,
) noexcept nogil:
    """`_pass_over_columns` by blocks of rows (one per thread in row_blocks)."""
    cdef Py_ssize_t n = Xt.shape[1], d = Xt.shape[0], k = Y.shape[1]
    cdef Py_ssize_t n_chunks = work.n_chunks, stride = work.chunk_stride, c, j
    cdef Py_ssize_t at_sse = d * k + k
    cdef double* sums
    cdef double sse = 0.0
    cdef int caller
    _zero_grad(work, d, k)
    if n_chunks == 1:
        return _row_block_sums(Xt, Y, 0, n, work, work.grad_by_output, work.grad_bias,
                               row_blocks, 0)
    if n_threads == 1:
        for c in range(n_chunks):
            sums = work.chunk_sums + c * stride
            memset(sums, 0, at_sse * sizeof(double))
            sums[at_sse] = _row_block_sums(Xt, Y, c * n // n_chunks, (c + 1) * n // n_chunks,
                                           work, sums, sums + d * k, row_blocks, 0)
    else:
        caller = linreg_caller_cpu()  # kept off it between passes (platform.pxi)
        with parallel(num_threads=n_threads):
            linreg_free_cpu()  # while it works, a worker runs anywhere
            for c in prange(n_chunks, schedule="dynamic"):
                sums = work.chunk_sums + c * stride
                memset(sums, 0, at_sse * sizeof(double))
                sums[at_sse] = _row_block_sums(
                    Xt, Y, c * n // n_chunks, (c + 1) * n // n_chunks, work, sums,
                    sums + d * k, row_blocks, linreg_thread_id())
            linreg_keep_off_cpu(caller)  # the next wake-up on another CPU
    for c in range(n_chunks):
        sums = work.chunk_sums + c * stride
        for j in range(at_sse):
            work.grad_by_output[j] += sums[j]
        sse += sums[at_sse]
    return sse


cdef void _predict_row_blocks(
    const floating[:, ::1] Xt, floating[:, :] out, const WorkBuffers* work, Py_ssize_t start,
    Py_ssize_t stop, floating[:, ::1] row_blocks, int slot,
) noexcept nogil:
    """`_predict_columns` by blocks of rows copied into slot `slot` of row_blocks."""
    cdef Py_ssize_t rows = _row_block_rows(Xt.shape[0], sizeof(floating)), s = start, m
    cdef floating[:, ::1] block = row_blocks[slot * rows:(slot + 1) * rows]
    while s < stop:
        m = rows if s + rows <= stop else stop - s
        _copy_row_block(Xt, s, m, &block[0, 0])
        _predict_rows(block[:m], out[s:s + m], work, 0, m)
        s += m
