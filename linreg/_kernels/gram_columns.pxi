# -- The Gram pass on a Fortran-ordered X ----------------------------------------------
#
# Up to COMPILED_GRAM_MAX_FEATURES (linreg._gram) a C-ordered X's centred products come
# from the compiled loops of gram.pxi, which take four rows at a time. A Fortran-ordered
# X of as few columns went through BLAS, whose narrow blocks run far below its speed
# (float64, 2^22 elements, one thread: 3.4x the C-order pass at d = 2, 2.0x at d = 8).
# Here its rows are transposed into C order a block of GRAM_TRANSPOSE_ROWS at a time
# (4 x 4 transposes in vector registers, row_copies.pxi), the block stays in L1, and
# gram.pxi's loops take its groups of four rows as they take a C-ordered X's. The
# chunks are those of `gram_statistics`, so the thread count changes no bit. Up to
# COMPILED_FORTRAN_GRAM_MAX_FEATURES (16) features, unweighted; wider, BLAS is as fast.

cdef enum:
    # Rows transposed at a time: at most 48 float64 columns, 24 KB, stay in L1 while the
    # Gram loops read them.
    GRAM_TRANSPOSE_ROWS = 64


cdef void _gram_chunk_by_columns(
    const floating[:, ::1] Xt, const floating[:, :] Y, const double* mu, const double* ybar,
    Py_ssize_t start, Py_ssize_t stop, double* G, double* C, double* yy, double* xc,
    floating* rows, int* interrupted,
) noexcept nogil:
    """`_gram_chunk` (unweighted) for X = Xt.T: rows start..stop-1 in blocks transposed
    into `rows` (GRAM_TRANSPOSE_ROWS x d), whose groups of four rows go to gram.pxi's
    loops; the last rows of the chunk (fewer than four) one by one. Ctrl-C is looked for
    between blocks, about every INTERRUPT_CHECK_WORK multiply-adds."""
    cdef Py_ssize_t d = Xt.shape[0], k = Y.shape[1], n = Xt.shape[1]
    cdef Py_ssize_t at = start, m, groups, i, j, l, o, since_check = 0
    cdef Py_ssize_t y_row = Y.strides[0] // <Py_ssize_t> sizeof(floating)
    cdef Py_ssize_t y_col = Y.strides[1] // <Py_ssize_t> sizeof(floating)
    cdef Py_ssize_t check_rows = INTERRUPT_CHECK_WORK // (d * d + 1)
    cdef double yc_squares = yy[0], a, yc
    cdef double* g
    while at < stop:
        if linreg_flag_get(interrupted):
            return
        m = GRAM_TRANSPOSE_ROWS if at + GRAM_TRANSPOSE_ROWS <= stop else stop - at
        groups = m // 4
        if groups > 0:
            if floating is double:
                linreg_transpose_f64(&Xt[0, at], n, d, 4 * groups, rows)
                yc_squares = linreg_gram_groups_f64(rows, d, &Y[at, 0], y_row, y_col, groups,
                                                    d, k, mu, ybar, G, C, xc, yc_squares,
                                                    NULL)
            else:
                linreg_transpose_f32(&Xt[0, at], n, d, 4 * groups, rows)
                yc_squares = linreg_gram_groups_f32(rows, d, &Y[at, 0], y_row, y_col, groups,
                                                    d, k, mu, ybar, G, C, xc, yc_squares,
                                                    NULL)
        for i in range(at + 4 * groups, at + m):  # the chunk's last rows
            for j in range(d):
                xc[j] = Xt[j, i] - mu[j]
            for j in range(d):
                a = xc[j]
                g = G + j * d
                for l in range(j + 1):
                    g[l] = g[l] + a * xc[l]
            for o in range(k):
                yc = Y[i, o] - ybar[o]
                yc_squares += yc * yc
                for j in range(d):
                    C[j * k + o] += xc[j] * yc
        at += m
        since_check += m
        if since_check >= check_rows and at < stop:
            since_check = 0
            if _interrupt_requested():
                linreg_flag_set(interrupted)
    yy[0] = yc_squares


def gram_products_by_columns(
    const floating[:, ::1] Xt,
    const floating[:, :] Y,
    const double[::1] mean_X,
    const double[::1] mean_Y,
    double[:, ::1] XtX,
    double[:, ::1] XtY,
    int n_threads=1,
):
    """The centred products of `gram_statistics` (unweighted, around the given means)
    for the Fortran-ordered X = Xt.T: XtX (d, d), XtY (d, k) written; returns yy, the
    centred targets' sum of squares. Every product and sum in double; chunked like
    `gram_statistics`, so the thread count changes no bit. Ctrl-C is obeyed within
    about INTERRUPT_CHECK_WORK multiply-adds."""
    cdef Py_ssize_t n = Xt.shape[1], d = Xt.shape[0], k = Y.shape[1], c, i, j, o
    cdef Py_ssize_t at_yy = d * d + d * k, stride = _whole_lines(at_yy + 1)
    # Per chunk: scratch for gram.pxi's loops (four centred rows, targets, weighted rows)
    # and the transposed block (GRAM_TRANSPOSE_ROWS rows of X's dtype).
    cdef Py_ssize_t stride_scratch = _whole_lines(8 * d + 4 * k)
    cdef Py_ssize_t stride_rows = _whole_lines(GRAM_TRANSPOSE_ROWS * d)
    cdef Py_ssize_t n_chunks = _n_chunks(n, d, stride)
    cdef void* stats_block = NULL
    cdef void* scratch_block = NULL
    cdef double* stats = _alloc_lines(n_chunks * stride, &stats_block)
    cdef double* scratch = _alloc_lines(n_chunks * (stride_scratch + stride_rows),
                                        &scratch_block)
    cdef double* part
    cdef double* own
    cdef double yy = 0.0
    cdef int interrupted = 0
    if stats == NULL or scratch == NULL:
        free(stats_block); free(scratch_block)
        raise MemoryError()
    n_threads = _threads_for(n, d, n_threads)
    with nogil:
        # Static, one chunk at a time: the calling thread, which sees Ctrl-C, has work.
        for c in prange(n_chunks, num_threads=n_threads, schedule="static", chunksize=1):
            part = stats + c * stride
            own = scratch + c * (stride_scratch + stride_rows)
            memset(part, 0, (at_yy + 1) * sizeof(double))
            _gram_chunk_by_columns(Xt, Y, &mean_X[0], &mean_Y[0], c * n // n_chunks,
                                   (c + 1) * n // n_chunks, part, part + d * d, part + at_yy,
                                   own, <floating*> (own + stride_scratch), &interrupted)
        if not interrupted:
            memset(&XtX[0, 0], 0, d * d * sizeof(double))
            memset(&XtY[0, 0], 0, d * k * sizeof(double))
            for c in range(n_chunks):
                part = stats + c * stride
                for j in range(d):
                    for i in range(j + 1):
                        XtX[j, i] += part[j * d + i]
                    for o in range(k):
                        XtY[j, o] += part[d * d + j * k + o]
                yy += part[at_yy]
            for j in range(d):
                for i in range(j):
                    XtX[i, j] = XtX[j, i]
        _release_threads(n_chunks, n_threads)
        free(stats_block); free(scratch_block)
    if interrupted:
        _raise_pending()
    return yy



def rows_of_columns(const floating[:, ::1] Xt, Py_ssize_t start, floating[:, ::1] out):
    """out[i, j] = Xt[j, start + i] for the out.shape[0] rows i: a block of the rows of
    the Fortran-ordered X = Xt.T copied into C order (eight columns at a time through
    the block, in 8 x 8 or 4 x 4 transposes in registers: `linreg_transpose_block_*`,
    row_copies.pxi), for the Gram pass's one read of a Fortran-ordered X
    (linreg._gram._shifted_products), which then centres it as it centres a C-ordered
    block. The caller checks the shapes (out (m, d), start + m <= X's rows)."""
    cdef Py_ssize_t d = Xt.shape[0], n = Xt.shape[1], m = out.shape[0]
    with nogil:
        if floating is double:
            linreg_transpose_block_f64(&Xt[0, start], n, d, m, &out[0, 0])
        else:
            linreg_transpose_block_f32(&Xt[0, start], n, d, m, &out[0, 0])
