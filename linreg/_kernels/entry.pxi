# The entry points Python calls (through linreg.kernels, or linreg.solvers for trusted
# data). Unchecked: every argument must already be what it says, see linreg/kernels.py.
# Each takes at most 8 parameters: settings travel as one struct (a dict from
# linreg._structs), the training state as a structured array updated in place.


def openmp_max_threads():
    """OpenMP's default team size (OMP_NUM_THREADS or the cores); 1 in a serial build."""
    return linreg_max_threads()


def built_with_openmp():
    """True when these kernels were compiled with OpenMP."""
    return bool(linreg_has_openmp())


def cpu_has_avx2_fma():
    """True when this CPU (and OS) can run the AVX2+FMA build of these kernels."""
    return bool(linreg_cpu_has_avx2_fma())


def cpu_has_avx512():
    """True when this CPU (and OS) can run the AVX-512 build of these kernels (AVX-512 F,
    DQ, VL and BW, with AVX2 and FMA)."""
    return bool(linreg_cpu_has_avx512())


cdef enum:
    # `all_finite` reads its array as one run, in blocks of this many elements, and stops
    # after the first block holding a NaN or infinity. (Row by row, a column of 4M
    # float32 took 4.0 ms, 1 ns an element: a test per row of one element.)
    FINITE_BLOCK = 4096


def all_finite(const floating[:, ::1] A):
    """True when no entry of the C-contiguous 2-D array A is NaN or infinite."""
    cdef Py_ssize_t size = A.shape[0] * A.shape[1], start = 0, stop, j
    cdef const floating* a
    cdef floating largest = FLT_MAX if floating is float else DBL_MAX
    cdef int bad = 0
    if size == 0:
        return True
    a = &A[0, 0]
    with nogil:
        while start < size and not bad:
            stop = start + FINITE_BLOCK if start + FINITE_BLOCK < size else size
            # |x| <= largest is false for NaN and +-inf. Unlike x * 0 or x - x, which
            # -fassociative-math lets gcc fold to 0, a comparison cannot be folded away;
            # or-ing it over a block vectorizes, where an early exit per element would not.
            for j in range(start, stop):
                bad |= not (fabs(a[j]) <= largest)
            start = stop
    return not bad


def weights_status(const double[::1] weights):
    """0 when every weight is finite and non-negative and one is positive; otherwise 1
    (a NaN or infinity), 2 (a negative weight) or 3 (all zero), in that order. One read
    of the weights, in blocks as `all_finite`."""
    cdef Py_ssize_t size = weights.shape[0], start = 0, stop, j
    cdef const double* a
    cdef int bad = 0, negative = 0, positive = 0
    if size == 0:
        return 3
    a = &weights[0]
    with nogil:
        while start < size and not bad:
            stop = start + FINITE_BLOCK if start + FINITE_BLOCK < size else size
            for j in range(start, stop):
                bad |= not (fabs(a[j]) <= DBL_MAX)
                negative |= a[j] < 0.0
                positive |= a[j] > 0.0
            start = stop
    return 1 if bad else (2 if negative else (0 if positive else 3))


def shuffle(Py_ssize_t[::1] order, uint64_t[::1] rng_state):
    """Shuffle `order` in place as `sgd_epochs` does at the start of an epoch."""
    cdef int interrupted
    with nogil:
        interrupted = _shuffle(&order[0], order.shape[0], &rng_state[0])
    if interrupted:
        _raise_pending()


cdef double _weight_total(const double[::1] sample_weight, Py_ssize_t n):
    """sum_i w_i, in order (n when there are no weights)."""
    cdef double total = 0.0
    cdef Py_ssize_t i
    if sample_weight is None:
        return <double> n
    for i in range(n):
        total += sample_weight[i]
    return total


def loss_and_grad(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    const floating[:, :] W,
    const floating[:] b,
    floating[:, :] grad_W,
    floating[:] grad_b,
    int n_threads=1,
    const double[::1] sample_weight=None,
):
    """Fused forward pass, MSE loss and gradients in one pass over X; see linreg.kernels.

    With sample_weight (n,), the weighted loss sum_i w_i |r_i|^2 / (sum_i w_i k) and its
    gradients."""
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], k = Y.shape[1], j, o
    cdef double sse, total = _weight_total(sample_weight, n), scale
    cdef WorkBuffers work
    scale = 2.0 / (total * k)
    _work_alloc(&work, d, k, n)
    work.sample_weight = NULL if sample_weight is None else &sample_weight[0]
    n_threads = _threads_for(n, d, n_threads)
    with nogil:
        _load_params(W, b, &work)
        sse = _pass_over_rows(X, Y, &work, n_threads)
        for o in range(k):
            for j in range(d):
                grad_W[j, o] = <floating> (scale * work.grad_by_output[o * d + j])
            grad_b[o] = <floating> (scale * work.grad_bias[o])
        _release_threads(work.n_chunks, n_threads)
        _work_free(&work)
    return sse / (total * k)


def predict(
    const floating[:, ::1] X,
    const floating[:, :] W,
    const floating[:] b,
    floating[:, :] out,
    int n_threads=1,
):
    """out = X W + b, the same sums as the residuals of `loss_and_grad`; see linreg.kernels."""
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], k = W.shape[1], c, n_chunks
    cdef int caller
    cdef WorkBuffers work
    _work_alloc(&work, d, k)
    n_chunks = _n_chunks(n, d, 1)
    n_threads = _threads_for(n, d, n_threads)
    with nogil:
        _load_params(W, b, &work)
        if n_chunks == 1:
            _predict_rows(X, out, &work, 0, n)
        else:
            caller = linreg_caller_cpu()
            for c in prange(n_chunks, num_threads=n_threads, schedule="static"):
                linreg_keep_off_cpu(caller)  # platform.pxi; static: every thread gets chunks
                _predict_rows(X, out, &work, c * n // n_chunks, (c + 1) * n // n_chunks)
            _release_threads(n_chunks, n_threads)
        _work_free(&work)


def gram_statistics(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    double[::1] mean_X,
    double[::1] mean_Y,
    double[:, ::1] XtX,
    double[:, ::1] XtY,
    int n_threads=1,
    const double[::1] sample_weight=None,
):
    """Centred statistics of (X, Y) for `gd_epochs_gram`, in double; returns yy.

    With sample_weight, every sum is weighted: the weighted means, then
    sum_i w_i (x_i - mean)(x_i - mean)^T and the like.

    Two passes over X: the means, then the centred products (lower triangle, mirrored).
    Chunked like `_pass_over_rows`, so the thread count does not change the result.
    Ctrl-C is obeyed within about INTERRUPT_CHECK_WORK multiply-adds.
    """
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], k = Y.shape[1], c, i, j, o
    # Per chunk, on whole cache lines (see _alloc_lines): sums of X's and Y's columns;
    # G (d*d), C (d*k) and yy; scratch for four centred rows.
    cdef Py_ssize_t stride_means = _whole_lines(d + k), at_yy = d * d + d * k
    cdef Py_ssize_t stride = _whole_lines(at_yy + 1), stride_scratch = _whole_lines(4 * d + 4 * k)
    cdef const double* sw = NULL if sample_weight is None else &sample_weight[0]
    cdef double total = _weight_total(sample_weight, n)
    cdef Py_ssize_t n_chunks = _n_chunks(n, d, stride)
    cdef Py_ssize_t n_mean_chunks = _n_chunks(n, d, stride_means)
    cdef void* sums_block = NULL
    cdef void* stats_block = NULL
    cdef void* scratch_block = NULL
    cdef double* sums = _alloc_lines(n_mean_chunks * stride_means, &sums_block)
    cdef double* stats = _alloc_lines(n_chunks * stride, &stats_block)
    cdef double* scratch = _alloc_lines(n_chunks * stride_scratch, &scratch_block)
    cdef double* part
    cdef double yy = 0.0
    cdef int interrupted = 0
    if sums == NULL or stats == NULL or scratch == NULL:
        free(sums_block); free(stats_block); free(scratch_block)
        raise MemoryError()
    n_threads = _threads_for(n, d, n_threads)
    with nogil:
        for c in prange(n_mean_chunks, num_threads=n_threads, schedule="static"):
            part = sums + c * stride_means
            memset(part, 0, (d + k) * sizeof(double))
            _add_column_sums(X, Y, c * n // n_mean_chunks, (c + 1) * n // n_mean_chunks, sw,
                             part)
        memset(&mean_X[0], 0, d * sizeof(double))
        memset(&mean_Y[0], 0, k * sizeof(double))
        for c in range(n_mean_chunks):
            for j in range(d):
                mean_X[j] += sums[c * stride_means + j]
            for o in range(k):
                mean_Y[o] += sums[c * stride_means + d + o]
        for j in range(d):
            mean_X[j] /= total
        for o in range(k):
            mean_Y[o] /= total
        # Static: chunk c goes to thread c % n_threads, so the calling thread (0), the
        # one that can see Ctrl-C, always has work, even with a single chunk.
        for c in prange(n_chunks, num_threads=n_threads, schedule="static", chunksize=1):
            part = stats + c * stride
            memset(part, 0, (at_yy + 1) * sizeof(double))
            _gram_chunk(X, Y, &mean_X[0], &mean_Y[0], c * n // n_chunks, (c + 1) * n // n_chunks,
                        part, part + d * d, part + at_yy, scratch + c * stride_scratch,
                        &interrupted, sw)
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
        _release_threads(n_chunks if n_chunks > n_mean_chunks else n_mean_chunks, n_threads)
        free(sums_block); free(stats_block); free(scratch_block)
    if interrupted:
        _raise_pending()
    return yy


def column_moments(
    const floating[:, ::1] X,
    double[::1] mean_out,
    double[::1] var_out,
    int n_threads=1,
    const double[::1] sample_weight=None,
):
    """Each column's mean and variance (divided by n; weighted by sample_weight when
    given), in double: two passes over X, chunked like `_pass_over_rows`, so the thread
    count does not change the result."""
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], c, i, j
    cdef const double* sw = NULL if sample_weight is None else &sample_weight[0]
    cdef double total = _weight_total(sample_weight, n), wi
    cdef Py_ssize_t stride = _whole_lines(d)
    cdef Py_ssize_t n_chunks = _n_chunks(n, d, stride)
    cdef void* block = NULL
    cdef double* sums = _alloc_lines(n_chunks * stride, &block)
    cdef double* part
    cdef double delta
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
                    part[j] += wi * X[i, j]
        memset(&mean_out[0], 0, d * sizeof(double))
        for c in range(n_chunks):
            for j in range(d):
                mean_out[j] += sums[c * stride + j]
        for j in range(d):
            mean_out[j] /= total
        for c in prange(n_chunks, num_threads=n_threads, schedule="static"):
            part = sums + c * stride
            memset(part, 0, d * sizeof(double))
            for i in range(c * n // n_chunks, (c + 1) * n // n_chunks):
                wi = 1.0 if sw == NULL else sw[i]
                for j in range(d):
                    delta = X[i, j] - mean_out[j]
                    part[j] += wi * delta * delta
        memset(&var_out[0], 0, d * sizeof(double))
        for c in range(n_chunks):
            for j in range(d):
                var_out[j] += sums[c * stride + j]
        for j in range(d):
            var_out[j] /= total
        _release_threads(n_chunks, n_threads)
        free(block)


def scaled_row_norms(
    const floating[:, ::1] X,
    const double[::1] centre,
    const double[::1] inv_var,
    int n_threads=1,
):
    """(max, mean) over the rows of sum_j (x_ij - centre_j)^2 inv_var_j: the squared
    norms of the centred, scaled rows, which bound a step's curvature."""
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], c, i, j
    cdef Py_ssize_t n_chunks = _n_chunks(n, d, 8)
    cdef double* sums = <double*> malloc(n_chunks * 8 * sizeof(double))
    cdef double norm, delta, largest, total
    if sums == NULL:
        raise MemoryError()
    n_threads = _threads_for(n, d, n_threads)
    with nogil:
        for c in prange(n_chunks, num_threads=n_threads, schedule="static"):
            largest = 0.0
            total = 0.0
            for i in range(c * n // n_chunks, (c + 1) * n // n_chunks):
                norm = 0.0
                for j in range(d):
                    delta = X[i, j] - centre[j]
                    norm = norm + delta * delta * inv_var[j]
                total = total + norm
                if norm > largest:
                    largest = norm
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
    return largest, total / n


def centred_residual_sum(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    const double[::1] mean_X,
    const double[::1] mean_Y,
    const double[:, ::1] A,
    int n_threads=1,
    const double[::1] sample_weight=None,
):
    """sum_i w_i |(x_i - mean_X) A - (y_i - mean_Y)|^2, every product and sum in double
    (w_i = 1 without sample_weight).

    The residual sum at the reference point of the Gram loss (see gram.pxi) when the fit
    is nearly exact; chunked like `_pass_over_rows`, so the thread count does not change
    the result.
    """
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], k = Y.shape[1], c, i, j, o
    cdef Py_ssize_t n_chunks = _n_chunks(n, d, 8)
    cdef double* sums = <double*> malloc(n_chunks * 8 * sizeof(double))
    cdef double r, part, total = 0.0, wi
    cdef const double* sw = NULL if sample_weight is None else &sample_weight[0]
    if sums == NULL:
        raise MemoryError()
    n_threads = _threads_for(n, d, n_threads)
    with nogil:
        for c in prange(n_chunks, num_threads=n_threads, schedule="static"):
            part = 0.0
            for i in range(c * n // n_chunks, (c + 1) * n // n_chunks):
                wi = 1.0 if sw == NULL else sw[i]
                for o in range(k):
                    r = mean_Y[o] - Y[i, o]
                    for j in range(d):
                        r = r + (X[i, j] - mean_X[j]) * A[j, o]
                    part = part + wi * r * r
            sums[8 * c] = part
        for c in range(n_chunks):
            total += sums[8 * c]
        _release_threads(n_chunks, n_threads)
        free(sums)
    return total


cdef inline void _check_outcome(const TrainingState* state) except *:
    if state.outcome == OUTCOME_INTERRUPTED:
        _raise_pending()


def gd_epochs(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    floating[:, :, ::1] model,
    Settings settings,
    TrainingState[::1] state,
    const double[::1] sample_weight,
    history,
):
    """Up to len(history.losses) full-batch GD epochs in place; returns the epochs
    completed.

    model[0, :d] is W (d, k) and model[0, d] is b (k,); the slots the settings name
    hold the optimizer's arrays. Why it returned is in state[0].outcome (see Outcome).
    sample_weight (n,) or None weights the loss (sum_i w_i |r_i|^2 / (sum_i w_i k)).
    `history` (linreg._structs.History) receives each epoch's loss and the snapshots.
    """
    cdef double[::1] loss_out = history.losses
    cdef double[:, ::1] snapshots = history.snapshots
    cdef const double[::1] lr_factors = history.lr_factors
    cdef const double* factors = NULL if lr_factors is None else &lr_factors[0]
    cdef Py_ssize_t d = X.shape[1], completed
    cdef WorkBuffers work
    _work_alloc(&work, d, Y.shape[1], X.shape[0])
    if sample_weight is not None:
        work.sample_weight = &sample_weight[0]
        work.weight_total = _weight_total(sample_weight, X.shape[0])
    with nogil:
        completed = _gd_loop(X, Y, NULL, model, &settings, &state[0], loss_out, snapshots,
                             factors, &work)
        _work_free(&work)
    return completed


def gd_epochs_gram(
    stats,
    floating[:, :, ::1] model,
    Settings settings,
    TrainingState[::1] state,
    history,
):
    """`gd_epochs` from a linreg._structs.GramStatistics, O(d^2 k) per epoch."""
    cdef double[::1] loss_out = history.losses
    cdef double[:, ::1] snapshots = history.snapshots
    cdef const double[::1] lr_factors = history.lr_factors
    cdef const double* factors = NULL if lr_factors is None else &lr_factors[0]
    cdef const double[:, ::1] XtX = stats.XtX
    cdef const double[:, ::1] XtY = stats.XtY
    cdef const double[::1] mean_X = stats.mean_X
    cdef const double[::1] mean_Y = stats.mean_Y
    cdef const double[:, ::1] ref_W = stats.ref_W
    cdef const double[:, ::1] ref_grad = stats.ref_grad
    cdef Py_ssize_t d = XtY.shape[0], k = XtY.shape[1], j, o, completed
    cdef GramView gram
    cdef WorkBuffers work
    cdef double* by_output = <double*> malloc(2 * d * k * sizeof(double) + 1)
    if by_output == NULL:
        raise MemoryError()
    gram.XtX = &XtX[0, 0]
    gram.XtY = &XtY[0, 0]
    gram.mean_X = &mean_X[0]
    gram.mean_Y = &mean_Y[0]
    gram.ref_by_output = by_output
    gram.ref_grad_by_output = by_output + d * k
    for o in range(k):
        for j in range(d):
            gram.ref_by_output[o * d + j] = ref_W[j, o]
            gram.ref_grad_by_output[o * d + j] = ref_grad[j, o]
    gram.ref_sse = stats.ref_sse
    gram.n = <double> stats.weight_total
    try:
        _work_alloc(&work, d, k)
    except MemoryError:
        free(by_output)
        raise
    with nogil:
        completed = _gd_loop[floating](None, None, &gram, model, &settings, &state[0], loss_out,
                                       snapshots, factors, &work)
        _work_free(&work)
        free(by_output)
    return completed


def sgd_epochs(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    floating[:, :, ::1] model,
    Settings settings,
    TrainingState[::1] state,
    const Py_ssize_t[::1] order,
    const double[::1] sample_weight,
    history,
):
    """Up to len(history.losses) SGD epochs in place over the rows in `order` (None: all,
    in their order); returns the epochs completed, and why in state[0].outcome.

    With sample_weight (n,), each sample's update is scaled by its weight (scikit-learn's
    rule; a mini-batch's gradient is the batch's weighted sum over its row count), and an
    epoch's loss is sum_i w_i |r_i|^2 / (sum_i w_i k) over the rows in `order`.

    With settings.shuffle each epoch first shuffles `order` in place with the generator
    state[0].rng. `order` is declared const so that a read-only order works without
    shuffling; linreg.kernels has checked that it is writable when shuffled.
    """
    completed = _sgd_epochs(X, Y, model, &settings, &state[0], order, sample_weight, history,
                            NULL)
    _check_outcome(&state[0])
    return completed


cdef Py_ssize_t _sgd_epochs(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    floating[:, :, ::1] model,
    const Settings* settings,
    TrainingState* state,
    const Py_ssize_t[::1] order,
    const double[::1] sample_weight,
    history,
    RowCopies* copies,
) except -1:
    """`sgd_epochs` (and `sgd_epochs_by_columns`, X then a Fortran-ordered array's
    transpose, read through `copies`) up to the check of the outcome."""
    cdef double[::1] loss_out = history.losses
    cdef double[:, ::1] snapshots = history.snapshots
    cdef const double[::1] lr_factors = history.lr_factors
    cdef const double* factors = NULL if lr_factors is None else &lr_factors[0]
    cdef Py_ssize_t n = Y.shape[0], d = model.shape[1] - 1, completed, t
    cdef Py_ssize_t m = n if order is None else order.shape[0]
    cdef Py_ssize_t* rows = NULL if order is None else <Py_ssize_t*> &order[0]
    cdef WorkBuffers work
    cdef double pass_total = 0.0
    cdef double* backup = <double*> malloc(model.shape[0] * model.shape[1] * model.shape[2]
                                           * sizeof(double))
    if backup == NULL:
        raise MemoryError()
    try:
        _work_alloc(&work, d, Y.shape[1])
    except MemoryError:
        free(backup)
        raise
    work.weight_total = <double> n
    work.pass_weight_total = <double> m
    if sample_weight is not None:
        work.sample_weight = &sample_weight[0]
        work.weight_total = _weight_total(sample_weight, n)
        if order is None:
            work.pass_weight_total = work.weight_total
        else:
            for t in range(m):
                pass_total += sample_weight[order[t]]
            work.pass_weight_total = pass_total
    with nogil:
        completed = _sgd_loop(X, Y, model, settings, state, rows, m, loss_out, snapshots,
                              factors, &work, backup, copies)
        _work_free(&work)
        free(backup)
    return completed
