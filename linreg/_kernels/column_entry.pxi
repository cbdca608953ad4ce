# The entry points of the passes over a Fortran-ordered X (given as its C-ordered
# transpose Xt, see columns.pxi): the fused epoch, predict, GD and SGD. One output takes
# the pass over columns (columns.pxi, column_narrow.pxi); several outputs take blocks of
# rows copied into C order (column_rows.pxi), whose scratch is allocated here, with the
# GIL, as a typed memoryview the passes slice per thread.


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
    cdef floating[:, ::1] row_blocks = _row_block_scratch(d, k, n_threads, sizeof(floating))
    with nogil:
        _load_params(W, b, &work)
        sse = _pass_over_rows(Xt, Y, &work, n_threads, row_blocks)
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
    cdef Py_ssize_t scratch = _predict_block_rows(d, k, sizeof(floating))
    cdef WorkBuffers work
    cdef double* r
    cdef int failed = 0, caller
    _work_alloc(&work, d, k)
    n_chunks = _n_chunks(n, d, 1)
    n_threads = _threads_for(n, d, n_threads)
    # Few columns and several outputs take one pass over the columns (column_outputs.pxi).
    cdef floating[:, ::1] row_blocks = None
    if not _narrow_outputs_take(d, k, sizeof(floating)):
        row_blocks = _row_block_scratch(d, k, n_threads, sizeof(floating))
    with nogil:
        _load_params(W, b, &work)
        caller = linreg_caller_cpu()
        for c in prange(n_chunks, num_threads=n_threads, schedule="static"):
            linreg_keep_off_cpu(caller)  # platform.pxi; static: every thread gets chunks
            if row_blocks is not None:
                _predict_row_blocks(Xt, out, &work, c * n // n_chunks, (c + 1) * n // n_chunks,
                                    row_blocks, linreg_thread_id())
            else:
                r = <double*> malloc(scratch * sizeof(double))
                if r == NULL:
                    failed += 1
                else:
                    _predict_columns(Xt, out, &work, c * n // n_chunks,
                                     (c + 1) * n // n_chunks, r)
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
    # As many blocks as the epochs' passes may use threads (_gd_loop: _threads_for).
    cdef floating[:, ::1] row_blocks = _row_block_scratch(
        d, Y.shape[1], settings.n_threads, sizeof(floating))
    _work_alloc(&work, d, Y.shape[1], Xt.shape[1])
    work.by_columns = 1
    if sample_weight is not None:
        work.sample_weight = &sample_weight[0]
        work.weight_total = _weight_total(sample_weight, Xt.shape[1])
    with nogil:
        completed = _gd_loop(Xt, Y, NULL, model, &settings, &state[0], loss_out, snapshots,
                             factors, &work, row_blocks)
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
