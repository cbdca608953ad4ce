# Fortran-ordered X, read in place (pandas hands DataFrames to NumPy column-major).
#
# Every entry point here takes Xt, the C-contiguous (d, n) transpose of a Fortran-ordered
# X (n, d): column j of X is the contiguous run Xt[j, :]. `linreg._compiled.for_layout`
# picks these `*_by_columns` entry points for such an X, so no copy of X is ever made.
#
# A pass goes through each chunk of rows (the same chunks as a pass over a C-ordered X,
# so the thread count changes no bit here either) in blocks of rows whose columns stay in
# cache between two uses: the residuals of a block are built four columns at a time
# (r += x_j w_j + ... + x_j+3 w_j+3, along contiguous memory), then the gradient sums of
# four columns are four dot products with them that share each load of the residuals.
# Both are unit-stride loops that vectorize, as in a BLAS gemv.
# The results equal those of the C-order passes up to the order of summation: here a
# row's prediction is summed column by column in double, there in float32 runs of
# F32_CHUNK for float32 data; the gradient's and loss's sums over rows go block by block.
#
# SGD (`sgd_epochs_by_columns`) reads single rows: it copies the rows a pass is about to
# visit into a small C-ordered scratch and runs the C-order loops on it (row_copies.pxi),
# so its results equal the C-order ones exactly.


cdef enum:
    # Rows of a block: its residuals (k doubles a row) stay in L1, its columns in L2.
    COLUMN_BLOCK_BYTES = 1 << 18
    MIN_BLOCK_ROWS = 64
    MAX_BLOCK_ROWS = 2048


cdef inline Py_ssize_t _block_rows(Py_ssize_t d, Py_ssize_t itemsize) noexcept nogil:
    cdef Py_ssize_t m = COLUMN_BLOCK_BYTES // (d * itemsize) // 16 * 16
    return MIN_BLOCK_ROWS if m < MIN_BLOCK_ROWS else (MAX_BLOCK_ROWS if m > MAX_BLOCK_ROWS else m)


cdef double _column_block_sums(
    const floating[:, ::1] Xt, const floating[:, :] Y, Py_ssize_t start, Py_ssize_t stop,
    const WorkBuffers* work, double* grad_by_output, double* grad_bias, double* r,
) noexcept nogil:
    """`_accumulate_rows` over rows start..stop-1 of X = Xt.T: add sum_i w_i r_i x_i into
    grad_by_output (k, d), sum_i w_i r_i into grad_bias; return sum_i w_i |r_i|^2.

    `r` is scratch for _block_rows(d) * k doubles (each block's residuals, by output)."""
    cdef Py_ssize_t d = Xt.shape[0], n = Xt.shape[1], k = Y.shape[1]
    cdef Py_ssize_t block = _block_rows(d, sizeof(floating)), s = start, m, i, j, o
    cdef const double* sw = work.sample_weight
    cdef const floating* w
    cdef double* ro
    cdef double sse = 0.0, part
    while s < stop:
        m = block if s + block <= stop else stop - s
        for o in range(k):
            ro = r + o * block
            part = work.bias[o]
            for i in range(m):
                ro[i] = part - Y[s + i, o]
            w = _weights(&Xt[0, 0], work, o, d)
            _add_columns(Xt, s, m, w, d, ro)
            # The weighted residuals q_i = w_i r_i, in place, after their squares are summed.
            part = 0.0
            if sw == NULL:
                for i in range(m):
                    part = part + ro[i] * ro[i]
            else:
                for i in range(m):
                    part = part + sw[s + i] * ro[i] * ro[i]
                    ro[i] = sw[s + i] * ro[i]
            sse += part
            part = 0.0
            for i in range(m):
                part = part + ro[i]
            grad_bias[o] += part
            _dot_columns(Xt, s, m, ro, d, grad_by_output + o * d)
        s += m
    return sse


cdef inline void _add_columns(
    const floating[:, ::1] Xt, Py_ssize_t s, Py_ssize_t m, const floating* w, Py_ssize_t d,
    double* r,
) noexcept nogil:
    """r[i] += sum_j X[s + i, j] w[j] for i < m, four columns at a time: the residuals
    are loaded and stored once per four columns, not once per column (one column at a
    time the pass took 1.5-3.3x the time of the C-order pass)."""
    cdef Py_ssize_t j = 0, i
    cdef const floating* x0
    cdef const floating* x1
    cdef const floating* x2
    cdef const floating* x3
    cdef floating w0, w1, w2, w3
    while j + 4 <= d:
        x0 = &Xt[j, s]; x1 = &Xt[j + 1, s]; x2 = &Xt[j + 2, s]; x3 = &Xt[j + 3, s]
        w0 = w[j]; w1 = w[j + 1]; w2 = w[j + 2]; w3 = w[j + 3]
        for i in range(m):
            # float32: the four products summed in float32, then added in double (the
            # C-order pass sums runs of F32_CHUNK in float32; converting each product
            # to double made a float32 pass 1.9x the time of a C-order one at d = 32).
            r[i] = r[i] + <double> ((x0[i] * w0 + x1[i] * w1) + (x2[i] * w2 + x3[i] * w3))
        j += 4
    while j < d:
        x0 = &Xt[j, s]
        w0 = w[j]
        for i in range(m):
            r[i] = r[i] + <double> (x0[i] * w0)
        j += 1


cdef inline void _dot_columns(
    const floating[:, ::1] Xt, Py_ssize_t s, Py_ssize_t m, const double* r, Py_ssize_t d,
    double* g,
) noexcept nogil:
    """g[j] += sum_i X[s + i, j] r[i] for every column j, four columns at a time (the
    residuals read once per four columns)."""
    cdef Py_ssize_t j = 0, i
    cdef const floating* x0
    cdef const floating* x1
    cdef const floating* x2
    cdef const floating* x3
    cdef double g0, g1, g2, g3, ri
    while j + 4 <= d:
        x0 = &Xt[j, s]; x1 = &Xt[j + 1, s]; x2 = &Xt[j + 2, s]; x3 = &Xt[j + 3, s]
        g0 = 0.0; g1 = 0.0; g2 = 0.0; g3 = 0.0
        for i in range(m):
            ri = r[i]
            g0 = g0 + x0[i] * ri
            g1 = g1 + x1[i] * ri
            g2 = g2 + x2[i] * ri
            g3 = g3 + x3[i] * ri
        g[j] += g0; g[j + 1] += g1; g[j + 2] += g2; g[j + 3] += g3
        j += 4
    while j < d:
        x0 = &Xt[j, s]
        g0 = 0.0
        for i in range(m):
            g0 = g0 + x0[i] * r[i]
        g[j] += g0
        j += 1


cdef double _pass_over_columns(
    const floating[:, ::1] Xt, const floating[:, :] Y, WorkBuffers* work, int n_threads
) noexcept nogil:
    """`_pass_over_rows` for X = Xt.T (Fortran order); the same chunks, reduced alike.
    Returns NaN if the scratch cannot be allocated (reported like a non-finite loss)."""
    cdef Py_ssize_t n = Xt.shape[1], d = Xt.shape[0], k = Y.shape[1]
    cdef Py_ssize_t n_chunks = work.n_chunks, stride = work.chunk_stride, c, j
    cdef Py_ssize_t at_sse = d * k + k, scratch = _block_rows(d, sizeof(floating)) * k
    cdef double* sums
    cdef double* r
    cdef double sse = 0.0
    _zero_grad(work, d, k)
    if n_chunks == 1:
        r = <double*> malloc(scratch * sizeof(double))
        if r == NULL:
            return NAN
        sse = _column_block_sums(Xt, Y, 0, n, work, work.grad_by_output, work.grad_bias, r)
        free(r)
        return sse
    for c in prange(n_chunks, num_threads=n_threads, schedule="dynamic", nogil=True):
        sums = work.chunk_sums + c * stride
        memset(sums, 0, at_sse * sizeof(double))
        r = <double*> malloc(scratch * sizeof(double))
        if r == NULL:
            sums[at_sse] = NAN
        else:
            sums[at_sse] = _column_block_sums(Xt, Y, c * n // n_chunks, (c + 1) * n // n_chunks,
                                              work, sums, sums + d * k, r)
            free(r)
    for c in range(n_chunks):
        sums = work.chunk_sums + c * stride
        for j in range(at_sse):
            work.grad_by_output[j] += sums[j]
        sse += sums[at_sse]
    return sse


cdef void _predict_columns(
    const floating[:, ::1] Xt, floating[:, :] out, const WorkBuffers* work, Py_ssize_t start,
    Py_ssize_t stop, double* r,
) noexcept nogil:
    """`_predict_rows` for X = Xt.T; `r` is scratch for _block_rows(d) doubles."""
    cdef Py_ssize_t d = Xt.shape[0], k = out.shape[1], s = start, m, i, j, o
    cdef Py_ssize_t block = _block_rows(d, sizeof(floating))
    cdef const floating* w
    while s < stop:
        m = block if s + block <= stop else stop - s
        for o in range(k):
            for i in range(m):
                r[i] = work.bias[o]
            w = _weights(&Xt[0, 0], work, o, d)
            _add_columns(Xt, s, m, w, d, r)
            for i in range(m):
                out[s + i, o] = <floating> r[i]
        s += m


def loss_and_grad_by_columns(
    const floating[:, ::1] Xt,
    const floating[:, :] Y,
    const floating[:, :] W,
    const floating[:] b,
    floating[:, :] grad_W,
    floating[:] grad_b,
    int n_threads=1,
    const double[::1] sample_weight=None,
):
    """`loss_and_grad` for the Fortran-ordered X = Xt.T (Xt: (d, n), C-contiguous)."""
    cdef Py_ssize_t n = Xt.shape[1], d = Xt.shape[0], k = Y.shape[1], j, o
    cdef double sse, total = _weight_total(sample_weight, n), scale
    cdef WorkBuffers work
    scale = 2.0 / (total * k)
    _work_alloc(&work, d, k, n)
    work.sample_weight = NULL if sample_weight is None else &sample_weight[0]
    work.by_columns = 1
    n_threads = _threads_for(n, d, n_threads)
    with nogil:
        _load_params(W, b, &work)
        sse = _pass_over_rows(Xt, Y, &work, n_threads)
        for o in range(k):
            for j in range(d):
                grad_W[j, o] = <floating> (scale * work.grad_by_output[o * d + j])
            grad_b[o] = <floating> (scale * work.grad_bias[o])
        _release_threads(work.n_chunks, n_threads)
        _work_free(&work)
    return sse / (total * k)


def predict_by_columns(
    const floating[:, ::1] Xt,
    const floating[:, :] W,
    const floating[:] b,
    floating[:, :] out,
    int n_threads=1,
):
    """`predict` for the Fortran-ordered X = Xt.T."""
    cdef Py_ssize_t n = Xt.shape[1], d = Xt.shape[0], k = W.shape[1], c, n_chunks
    cdef Py_ssize_t scratch = _block_rows(d, sizeof(floating))
    cdef WorkBuffers work
    cdef double* r
    cdef int failed = 0
    _work_alloc(&work, d, k)
    n_chunks = _n_chunks(n, d, 1)
    n_threads = _threads_for(n, d, n_threads)
    with nogil:
        _load_params(W, b, &work)
        for c in prange(n_chunks, num_threads=n_threads, schedule="static"):
            r = <double*> malloc(scratch * sizeof(double))
            if r == NULL:
                failed += 1
            else:
                _predict_columns(Xt, out, &work, c * n // n_chunks, (c + 1) * n // n_chunks, r)
                free(r)
        _release_threads(n_chunks, n_threads)
        _work_free(&work)
    if failed:
        raise MemoryError()


def gd_epochs_by_columns(
    const floating[:, ::1] Xt,
    const floating[:, :] Y,
    floating[:, :, ::1] model,
    Settings settings,
    TrainingState[::1] state,
    const double[::1] sample_weight,
    history,
):
    """`gd_epochs` for the Fortran-ordered X = Xt.T."""
    cdef double[::1] loss_out = history.losses
    cdef double[:, ::1] snapshots = history.snapshots
    cdef const double[::1] lr_factors = history.lr_factors
    cdef const double* factors = NULL if lr_factors is None else &lr_factors[0]
    cdef Py_ssize_t d = Xt.shape[0], completed
    cdef WorkBuffers work
    _work_alloc(&work, d, Y.shape[1], Xt.shape[1])
    work.by_columns = 1
    if sample_weight is not None:
        work.sample_weight = &sample_weight[0]
        work.weight_total = _weight_total(sample_weight, Xt.shape[1])
    with nogil:
        completed = _gd_loop(Xt, Y, NULL, model, &settings, &state[0], loss_out, snapshots,
                             factors, &work)
        _work_free(&work)
    return completed


def sgd_epochs_by_columns(
    const floating[:, ::1] Xt,
    const floating[:, :] Y,
    floating[:, :, ::1] model,
    Settings settings,
    TrainingState[::1] state,
    const Py_ssize_t[::1] order,
    const double[::1] sample_weight,
    history,
):
    """`sgd_epochs` for the Fortran-ordered X = Xt.T: its rows copied a few at a time, as
    the passes reach them, into a scratch of a few tens of KB (row_copies.pxi); the
    results equal those of the C-ordered X bit for bit."""
    cdef RowCopies copies
    _row_copies_alloc(&copies, Xt.shape[0], sizeof(floating))
    try:
        completed = _sgd_epochs(Xt, Y, model, &settings, &state[0], order, sample_weight,
                                history, &copies)
    finally:
        free(copies.rows)
    _check_outcome(&state[0])
    return completed


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
