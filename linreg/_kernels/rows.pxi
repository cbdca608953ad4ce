# Passes over rows of X: the residual sums that make a gradient, and predictions.
#
# Everything is built on one primitive, `_accumulate_rows`: for a run of rows of X it
# computes the residuals and adds r_i x_i into a gradient accumulator, so X is read from
# memory exactly once per pass. Rows are taken four at a time: the four dot products run
# side by side (their latencies overlap instead of chaining), and the four rank-one
# updates of the gradient are summed before they touch the accumulator, so it is loaded
# and stored once per four rows. The four rows stay in L1 between the two uses.


cdef double _accumulate_rows(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    const Py_ssize_t* rows,
    Py_ssize_t start,
    Py_ssize_t stop,
    const WorkBuffers* work,
    double* grad_by_output,
    double* grad_bias,
) noexcept nogil:
    """Add sum_i w_i r_i x_i into grad_by_output (k, d) and sum_i w_i r_i into grad_bias
    (k,); return sum_i w_i |r_i|^2 (w_i: work.sample_weight, or 1).

    The rows are rows[start:stop] when `rows` is not NULL, else start..stop-1. The
    weights are read from `work`, which is not written, so threads may share it.
    Two copies of the loop are compiled, with and without sample weights: a test of
    the weights inside it cost a float64 pass 27%.
    """
    # Five outputs or more: vectorized across outputs (outputs.pxi). Below that a tile of
    # 8 lanes is mostly empty and the loop below is as fast or faster; so it is for
    # float64 with k = 32 (1.16x the time of this loop at d = 4: Y's rows are read a tile
    # at a time, not in order), so float64 takes the tiles up to k = 16.
    if (Y.shape[1] > OUTPUT_TILE // 2 and LINREG_OUTPUT_TILES
            and (floating is float or Y.shape[1] <= 2 * OUTPUT_TILE)):
        if work.sample_weight == NULL:
            return _sums_over_outputs(X, Y, rows, start, stop, work, grad_by_output, grad_bias,
                                      NULL)
        return _sums_over_outputs(X, Y, rows, start, stop, work, grad_by_output, grad_bias,
                                  work.sample_weight)
    if work.sample_weight == NULL:
        return _sums_over_rows(X, Y, rows, start, stop, work, grad_by_output, grad_bias, NULL,
                               NULL)
    return _sums_over_rows(X, Y, rows, start, stop, work, grad_by_output, grad_bias,
                           work.sample_weight, NULL)


cdef double _accumulate_copied_rows(
    const floating[:, ::1] Xt,
    const floating[:, :] Y,
    const Py_ssize_t* rows,
    Py_ssize_t start,
    Py_ssize_t stop,
    const WorkBuffers* work,
    RowCopies* copies,
) noexcept nogil:
    """`_accumulate_rows` into work.grad_by_output and work.grad_bias for the Fortran-ordered
    X = Xt.T, its rows read through `copies` (row_copies.pxi): the same sums, bit for bit."""
    if work.sample_weight == NULL:
        return _sums_over_rows(Xt, Y, rows, start, stop, work, work.grad_by_output,
                               work.grad_bias, NULL, copies)
    return _sums_over_rows(Xt, Y, rows, start, stop, work, work.grad_by_output, work.grad_bias,
                           work.sample_weight, copies)


cdef inline double _sums_over_rows(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    const Py_ssize_t* rows,
    Py_ssize_t start,
    Py_ssize_t stop,
    const WorkBuffers* work,
    double* grad_by_output,
    double* grad_bias,
    const double* sample_weight,
    RowCopies* copies,
) noexcept nogil:
    """`_accumulate_rows` with the weights as an argument, inlined with NULL or not; with
    `copies` (not NULL: X is a Fortran-ordered array's transpose), the rows are read
    from their copies, four at a time (the copies' capacity is a multiple of 4)."""
    cdef Py_ssize_t d = X.shape[1] if copies == NULL else X.shape[0], k = Y.shape[1]
    cdef Py_ssize_t t = start, j, o, i0, i1, i2, i3
    cdef const floating* x0
    cdef const floating* x1
    cdef const floating* x2
    cdef const floating* x3
    cdef double* g
    cdef double s[4]
    cdef double r0, r1, r2, r3, q0, q1, q2, q3
    cdef double sse = 0.0
    while t + 4 <= stop:
        if rows != NULL:
            i0 = rows[t]; i1 = rows[t + 1]; i2 = rows[t + 2]; i3 = rows[t + 3]
        else:
            i0 = t; i1 = t + 1; i2 = t + 2; i3 = t + 3
        if copies == NULL:
            x0 = &X[i0, 0]; x1 = &X[i1, 0]; x2 = &X[i2, 0]; x3 = &X[i3, 0]
        else:
            x3 = _copied_row(X, rows, t + 3, copies)  # rows t..t+3 copied
            x0 = _copied_row(X, rows, t, copies)
            x1 = _copied_row(X, rows, t + 1, copies)
            x2 = _copied_row(X, rows, t + 2, copies)
        for o in range(k):
            _dot4(x0, x1, x2, x3, _weights(x0, work, o, d), d, s)
            r0 = s[0] + work.bias[o] - Y[i0, o]
            r1 = s[1] + work.bias[o] - Y[i1, o]
            r2 = s[2] + work.bias[o] - Y[i2, o]
            r3 = s[3] + work.bias[o] - Y[i3, o]
            if sample_weight == NULL:
                q0 = r0; q1 = r1; q2 = r2; q3 = r3
            else:
                q0 = sample_weight[i0] * r0; q1 = sample_weight[i1] * r1
                q2 = sample_weight[i2] * r2; q3 = sample_weight[i3] * r3
            sse += (q0 * r0 + q1 * r1) + (q2 * r2 + q3 * r3)
            grad_bias[o] += (q0 + q1) + (q2 + q3)
            _add_rank4(grad_by_output + o * d, x0, x1, x2, x3, q0, q1, q2, q3, d)
        t += 4
    while t < stop:
        i0 = rows[t] if rows != NULL else t
        x0 = &X[i0, 0] if copies == NULL else _copied_row(X, rows, t, copies)
        for o in range(k):
            r0 = _dot(x0, _weights(x0, work, o, d), d) + work.bias[o] - Y[i0, o]
            q0 = r0 if sample_weight == NULL else sample_weight[i0] * r0
            sse += q0 * r0
            grad_bias[o] += q0
            g = grad_by_output + o * d
            for j in range(d):
                g[j] = g[j] + q0 * x0[j]
        t += 1
    return sse


cdef double _pass_over_rows(
    const floating[:, ::1] X, const floating[:, :] Y, WorkBuffers* work, int n_threads
) noexcept nogil:
    """Residual sums over all rows into work.grad_by_output and work.grad_bias; returns
    the SSE.

    With several chunks (large n), threads take chunks; each chunk sums into its own
    buffer and the buffers are added in chunk order, so the thread count does not
    change a single bit of the result.
    """
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], k = Y.shape[1]
    cdef Py_ssize_t n_chunks = work.n_chunks, stride = work.chunk_stride, c, j
    cdef Py_ssize_t at_sse = d * k + k  # grad_by_output (d*k), then grad_bias (k), then the SSE
    cdef double* sums
    cdef double sse = 0.0
    cdef ThreadPlan plan
    cdef long long began
    if work.by_columns:  # X is a Fortran-ordered array's transpose (columns.pxi)
        return _pass_over_columns(X, Y, work, n_threads)
    _zero_grad(work, d, k)
    if n_chunks == 1:
        return _accumulate_rows(X, Y, NULL, 0, n, work, work.grad_by_output, work.grad_bias)
    n_threads = _plan_threads(&plan, n, d, n_chunks, n_threads)  # platform.pxi
    for c in prange(n_chunks, num_threads=n_threads, schedule="dynamic", nogil=True):
        began = _chunk_begin(&plan)
        sums = work.chunk_sums + c * stride
        memset(sums, 0, at_sse * sizeof(double))
        sums[at_sse] = _accumulate_rows(
            X, Y, NULL, c * n // n_chunks, (c + 1) * n // n_chunks, work, sums, sums + d * k
        )
        _chunk_end(&plan, began)
    _end_plan(&plan, n_chunks)
    for c in range(n_chunks):
        sums = work.chunk_sums + c * stride
        for j in range(at_sse):
            work.grad_by_output[j] += sums[j]  # then grad_bias: laid out alike in both
        sse += sums[at_sse]
    return sse


cdef void _predict_rows(
    const floating[:, ::1] X, floating[:, :] out, const WorkBuffers* work, Py_ssize_t start,
    Py_ssize_t stop,
) noexcept nogil:
    cdef Py_ssize_t d = X.shape[1], k = out.shape[1], i = start, o
    cdef const floating* x0
    cdef double s[4]
    cdef const floating* w
    cdef floating* po
    cdef Py_ssize_t step
    cdef double bias
    if k == 1:
        # One output: the weights, the bias and the output's address hoisted (the
        # general loop below took 1.45x the time of a loss-and-gradient pass).
        w = _weights(<const floating*> NULL, work, 0, d)  # NULL: only its type counts
        bias = work.bias[0]
        po = &out[0, 0]
        step = out.strides[0] // sizeof(floating)
        while i + 4 <= stop:
            x0 = &X[i, 0]
            _dot4(x0, x0 + d, x0 + 2 * d, x0 + 3 * d, w, d, s)
            po[i * step] = <floating> (s[0] + bias)
            po[(i + 1) * step] = <floating> (s[1] + bias)
            po[(i + 2) * step] = <floating> (s[2] + bias)
            po[(i + 3) * step] = <floating> (s[3] + bias)
            i += 4
    while i + 4 <= stop:
        x0 = &X[i, 0]
        for o in range(k):
            _dot4(x0, x0 + d, x0 + 2 * d, x0 + 3 * d, _weights(x0, work, o, d), d, s)
            out[i, o] = <floating> (s[0] + work.bias[o])
            out[i + 1, o] = <floating> (s[1] + work.bias[o])
            out[i + 2, o] = <floating> (s[2] + work.bias[o])
            out[i + 3, o] = <floating> (s[3] + work.bias[o])
        i += 4
    while i < stop:
        x0 = &X[i, 0]
        for o in range(k):
            out[i, o] = <floating> (_dot(x0, _weights(x0, work, o, d), d) + work.bias[o])
        i += 1
