# Training over blocks of rows held elsewhere (Dask workers, chunks read one at a time;
# see linreg/_blocked_solvers.py). A GD epoch is cut at the one place where the rows are
# no longer needed: the sums of a pass (`gradient_sums`, run where each block is) are
# added up in a fixed order, then `gd_step_from_sums` takes the step with the same
# `_take_step` and stopping rule as `_gd_loop`, so every option of the step rule works
# unchanged. SGD's passes run block after block (`sgd_pass`, the model moving to the
# data) and `end_sgd_epoch` closes the epoch as `_sgd_loop` does.


def gradient_sums(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    const floating[:, :] W,
    const floating[:] b,
    double[::1] sums_out,
    int n_threads=1,
    const double[::1] sample_weight=None,
):
    """The residual sums of one pass over the block (X, Y) at (W, b), in double, exactly
    as `_gd_loop` computes them (`_pass_over_rows`): sums_out[:d k] = sum_i w_i r_i x_i
    laid out by output (k, d), then sum_i w_i r_i (k), then sum_i w_i |r_i|^2 (1)."""
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], k = Y.shape[1], j
    cdef WorkBuffers work
    cdef double sse
    _work_alloc(&work, d, k, n)
    work.sample_weight = NULL if sample_weight is None else &sample_weight[0]
    n_threads = _threads_for(n, d, n_threads)
    with nogil:
        _load_params(W, b, &work)
        sse = _pass_over_rows(X, Y, &work, n_threads)
        for j in range(d * k + k):  # grad_bias follows grad_by_output (see _work_alloc)
            sums_out[j] = work.grad_by_output[j]
        sums_out[d * k + k] = sse
        _release_threads(work.n_chunks, n_threads)
        _work_free(&work)


def gd_step_from_sums(
    floating[:, :, ::1] model,
    Settings settings,
    TrainingState[::1] state,
    const double[::1] sums,
    double weight_total,
):
    """One epoch of `_gd_loop` from the summed `gradient_sums` of all blocks: the loss
    (returned), the step (`_take_step`, every option of settings.step) and the stopping
    rule. Why it returned is in state[0].outcome: RUNNING, CONVERGED, or DIVERGED (the
    step was not applied: the loss or a new parameter was not finite)."""
    cdef Py_ssize_t d = model.shape[1] - 1, k = model.shape[2], j
    cdef double nk = weight_total * k, loss, judged
    cdef WorkBuffers work
    _work_alloc(&work, d, k)
    state[0].outcome = OUTCOME_RUNNING
    with nogil:
        _load_model(model, &work, _gradient_slot(&settings.step, &state[0]))
        for j in range(d * k + k):
            work.grad_by_output[j] = sums[j]
        loss = sums[d * k + k] / nk
        judged = loss
        if settings.step.l2 != 0.0:  # the objective at the point the loss was taken at
            judged = loss + 0.5 * settings.step.l2 * _squared_norm_W(model)
        if not isfinite(loss) or not _take_step(model, &work, 2.0 / nk, &settings.step,
                                                &state[0]):
            state[0].outcome = OUTCOME_DIVERGED
        else:
            _end_epoch(judged, &settings.stop, &state[0])
        _work_free(&work)
    return loss


def sgd_pass(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    floating[:, :, ::1] model,
    Settings settings,
    TrainingState[::1] state,
    const Py_ssize_t[::1] order=None,
    const double[::1] sample_weight=None,
):
    """The updates of `_sgd_loop` over one block's rows (in `order`, None: all in
    order), without ending the epoch; returns their summed squared residuals, weighted
    by sample_weight (n,) when given, each sample's update scaled by its weight as in
    `sgd_epochs`. A non-finite sum means the pass stopped there (per sample: the model
    may be non-finite, the caller rolls the epoch back; batches: the bad batch was not
    applied). Batches are batch_size rows of this block, the last one shorter."""
    cdef Py_ssize_t d = X.shape[1], k = Y.shape[1]
    cdef Py_ssize_t m = X.shape[0] if order is None else order.shape[0]
    cdef const Py_ssize_t* rows = NULL if order is None else &order[0]
    cdef WorkBuffers work
    cdef double sse = 0.0
    if m == 0:
        return 0.0
    _work_alloc(&work, d, k)
    if sample_weight is not None:
        work.sample_weight = &sample_weight[0]
    state[0].outcome = OUTCOME_RUNNING
    with nogil:
        if settings.step.batch_size == 1:
            # work.grad_bias has room for k doubles: the per-sample residuals.
            sse = _sgd_per_sample(X, Y, model, rows, m, work.grad_bias, &settings.step,
                                  &state[0], &work, NULL)
        else:
            sse = _sgd_mini_batch(X, Y, model, rows, m, &work, &settings.step, &state[0], NULL)
        _work_free(&work)
    _check_outcome(&state[0])
    return sse


def end_sgd_epoch(Settings settings, TrainingState[::1] state, double judged):
    """Close an SGD epoch whose loss (or, with stop.on_average, the average's loss) is
    `judged`, as `_sgd_loop` does: count it and apply the stopping rule. Returns whether
    the rule fired (then state[0].outcome is CONVERGED)."""
    state[0].outcome = OUTCOME_RUNNING
    return bool(_end_epoch(judged, &settings.stop, &state[0]))
