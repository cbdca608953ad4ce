# The training loops: epochs run here so that no Python runs per epoch or per sample.
#
# They never leave non-finite parameters behind: a GD or mini-batch step whose loss or
# new parameters are not finite is not applied, and a per-sample SGD epoch that ends
# with non-finite parameters (or is interrupted) is rolled back to its start, W, b and
# the training state alike. Why a loop returned is in state.outcome, never left to be inferred.


cdef inline int _reported_slot(const StepRule* rule, const TrainingState* state) noexcept nogil:
    """The slot that holds the model a user sees: the average of the iterates once there
    is one, else the parameters."""
    return rule.slot_average if rule.average_start >= 0 and state.averaged > 0 else 0


cdef double _squared_norm_W(floating[:, :, ::1] model) noexcept nogil:
    """|W|^2 of the parameters (slot 0), in double."""
    cdef Py_ssize_t i, n = (model.shape[1] - 1) * model.shape[2]
    cdef const floating* p = &model[0, 0, 0]
    cdef double total = 0.0
    for i in range(n):
        total += <double> p[i] * p[i]
    return total


cdef Py_ssize_t _gd_loop(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    const GramView* gram,
    floating[:, :, ::1] model,
    const Settings* settings,
    TrainingState* state,
    double[::1] loss_out,
    double[:, ::1] snapshots,
    const double* lr_factors,
    WorkBuffers* work,
    floating[:, ::1] row_blocks=None,
) noexcept nogil:
    """GD epochs, the sums from a pass over X, or from `gram` when it is not NULL.
    `row_blocks`: the scratch of a Fortran-ordered X's pass (column_rows.pxi).

    With an L2 penalty the stopping rule judges the objective, the loss plus
    l2/2 |W|^2 at the same point, which GD decreases (loss_out records the loss).
    `lr_factors` (one per epoch of this call, or NULL) sets state.lr_factor at the start
    of each epoch: a callable lr_schedule, evaluated ahead by Python.
    Returns the number of epochs completed by this call.
    """
    cdef Py_ssize_t d = model.shape[1] - 1, k = model.shape[2], epoch
    cdef int64_t first_epoch = state.epoch
    cdef double nk = (gram.n if gram != NULL else work.weight_total) * k
    cdef double loss, judged
    cdef int n_threads = _threads_for(X.shape[0], X.shape[1], settings.n_threads) if gram == NULL else 1
    state.outcome = OUTCOME_RUNNING
    _load_model(model, work, _gradient_slot(&settings.step, state))
    for epoch in range(loss_out.shape[0]):
        if lr_factors != NULL:
            state.lr_factor = lr_factors[epoch]
        if gram != NULL:
            loss = _gram_pass(gram, d, k, work) / nk
        else:
            loss = _pass_over_rows(X, Y, work, n_threads, row_blocks) / nk
        loss_out[epoch] = loss
        judged = loss
        if settings.step.l2 != 0.0:
            judged = loss + 0.5 * settings.step.l2 * _squared_norm_W(model)
        if not isfinite(loss) or not _take_step(model, work, 2.0 / nk, &settings.step, state):
            state.outcome = OUTCOME_DIVERGED
            break
        if _end_epoch(judged, &settings.stop, state):
            _snapshot(model, _reported_slot(&settings.step, state), snapshots,
                      settings.snapshot_every, first_epoch, state.epoch)
            break
        _snapshot(model, _reported_slot(&settings.step, state), snapshots,
                  settings.snapshot_every, first_epoch, state.epoch)
    if gram == NULL:
        _release_threads(work.n_chunks, n_threads)
    return state.epoch - first_epoch


cdef double _sgd_per_sample_plain(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    floating[:, :, ::1] model,
    const Py_ssize_t* rows,
    Py_ssize_t m,
    double lr,
    TrainingState* state,
    RowCopies* copies,
) noexcept nogil:
    """`_sgd_per_sample` for one output with no option on: the common case, and the one
    whose speed is the dot product's latency. A function of its own so that the options'
    code cannot change how this loop compiles (sharing a function with it cost 2-6%)."""
    cdef Py_ssize_t d = model.shape[1] - 1, t, i
    cdef const floating* x
    cdef floating* w = &model[0, 0, 0]
    cdef floating* b = w + d
    cdef double s, sse = 0.0
    cdef int64_t t_start = state.t
    # A sample costs about as much as 64 more elements of work (its update waits for
    # its dot product), so a small model looks for Ctrl-C about every 10 ms.
    cdef Py_ssize_t look_every = INTERRUPT_CHECK_WORK // (4 * d + 64) + 1
    cdef Py_ssize_t until_look = look_every
    for t in range(m):
        i = rows[t] if rows != NULL else t
        x = _sample_row(X, Y, rows, t, m, d, copies)
        until_look -= 1
        if until_look == 0:
            until_look = look_every
            if _interrupt_requested():
                state.t = t_start + t
                state.outcome = OUTCOME_INTERRUPTED
                return NAN
        s = _dot_short_chain(x, w, d) + b[0] - Y[i, 0]
        if not isfinite(s):
            state.t = t_start + t
            return s
        sse += s * s
        # A sample's loss is the mean over its k = 1 outputs: its gradient carries 2.
        _sample_step(w, b, x, s, d, 2.0, lr)
    # Counted once per pass: a store per sample through the state pointer cost 5%.
    state.t = t_start + m
    return sse


cdef double _sgd_per_sample(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    floating[:, :, ::1] model,
    const Py_ssize_t* rows,
    Py_ssize_t m,
    double* r,
    const StepRule* rule,
    TrainingState* state,
    WorkBuffers* work,
    RowCopies* copies,
) noexcept nogil:
    """One update per sample, in place; returns the summed squared residuals.

    `r` is scratch for k residuals; `work` gives momentum its direction and velocity.
    Returns a non-finite value, without applying that update, at the first sample whose
    residual is not finite; NaN with outcome INTERRUPTED when Ctrl-C was pressed. The
    updates applied are counted in state.t. Chosen once per pass: one output with no
    option on goes to `_sgd_per_sample_plain`, one output without momentum to
    `_sgd_per_sample_k1`, up to 16 outputs with no option on to
    `_sgd_per_sample_plain_multi`; the rest to _sample_step_general. A sample's update is scaled
    by its weight (work.sample_weight), as scikit-learn's. With `copies` (not NULL), X is
    a Fortran-ordered array's transpose, its rows read through their copies
    (row_copies.pxi).
    """
    cdef Py_ssize_t d = model.shape[1] - 1, k = Y.shape[1], t, i, j, o
    cdef const floating* x
    cdef floating* w = &model[0, 0, 0]
    cdef floating* b = w + d * k
    cdef double s, sse = 0.0
    # A sample's loss is the mean over its k outputs, so its gradient carries 2/k.
    cdef double grad_scale = 2.0 / k
    cdef double lr = _learning_rate(rule, state)
    cdef Py_ssize_t look_every = INTERRUPT_CHECK_WORK // (4 * d * k + 64) + 1
    cdef Py_ssize_t until_look = look_every
    state.lr_now = lr
    cdef double sw = 1.0
    if (k == 1 and not rule.precondition and rule.average_start < 0 and rule.momentum == 0.0
            and rule.l2 == 0.0 and rule.fit_intercept and rule.schedule == SCHEDULE_CONSTANT
            and rule.l1 == 0.0 and work.sample_weight == NULL):
        return _sgd_per_sample_plain(X, Y, model, rows, m, lr, state, copies)
    if k == 1 and rule.momentum == 0.0:
        return _sgd_per_sample_k1(X, Y, model, rows, m, rule, state, work.sample_weight,
                                  copies)
    if (k <= PLAIN_MULTI_MAX_OUTPUTS and not rule.precondition and rule.average_start < 0
            and rule.momentum == 0.0 and rule.l2 == 0.0 and rule.fit_intercept
            and rule.schedule == SCHEDULE_CONSTANT and rule.l1 == 0.0
            and work.sample_weight == NULL):
        return _sgd_per_sample_plain_multi(X, Y, model, rows, m, lr, state, copies)
    for t in range(m):
        i = rows[t] if rows != NULL else t
        x = _sample_row(X, Y, rows, t, m, d, copies)
        until_look -= 1
        if until_look == 0:
            until_look = look_every
            if _interrupt_requested():
                state.outcome = OUTCOME_INTERRUPTED
                return NAN
        for o in range(k):
            r[o] = b[o] - Y[i, o]
        for j in range(d):
            for o in range(k):
                r[o] = r[o] + x[j] * w[j * k + o]
        s = 0.0
        for o in range(k):
            s += r[o] * r[o]
        if not isfinite(s):
            return s
        if work.sample_weight != NULL:
            sw = work.sample_weight[i]
        sse += sw * s
        if rule.schedule != SCHEDULE_CONSTANT:
            lr = _learning_rate(rule, state)
            state.lr_now = lr
        # scikit-learn scales a sample's update by its weight.
        _sample_step_general(model, x, r, grad_scale * sw, lr, rule, state, work)
    return sse


cdef double _sgd_mini_batch(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    floating[:, :, ::1] model,
    const Py_ssize_t* rows,
    Py_ssize_t m,
    WorkBuffers* work,
    const StepRule* rule,
    TrainingState* state,
    RowCopies* copies,
) noexcept nogil:
    """One update per batch of rows, in place; returns the summed squared residuals.

    A batch whose loss or step is not finite is not applied, and the pass stops there;
    NaN with outcome INTERRUPTED when Ctrl-C was pressed. With `copies` (not NULL), X is
    a Fortran-ordered array's transpose, its rows read through their copies.
    """
    cdef Py_ssize_t d = model.shape[1] - 1, k = Y.shape[1], start = 0, stop
    cdef Py_ssize_t batch_size = rule.batch_size
    cdef int64_t work_done = 0
    cdef double batch_sse, sse = 0.0
    _load_model(model, work, _gradient_slot(rule, state))
    while start < m:
        stop = start + batch_size if start + batch_size < m else m
        _zero_grad(work, d, k)
        if copies == NULL:
            batch_sse = _accumulate_rows(X, Y, rows, start, stop, work, work.grad_by_output,
                                         work.grad_bias)
        else:
            batch_sse = _accumulate_copied_rows(X, Y, rows, start, stop, work, copies)
        if not isfinite(batch_sse):
            return batch_sse
        sse += batch_sse
        if not _take_step(model, work, 2.0 / (<double> (stop - start) * k), rule, state):
            return INFINITY
        work_done += (stop - start) * d * k
        start = stop
        if work_done >= INTERRUPT_CHECK_WORK:
            work_done = 0
            if start < m and _interrupt_requested():
                state.outcome = OUTCOME_INTERRUPTED
                return NAN
    return sse


cdef double _sse_of_all_rows(
    const floating[:, ::1] X, const floating[:, :] Y, WorkBuffers* work, RowCopies* copies,
) noexcept nogil:
    """`_pass_over_rows` on one thread (SGD's work buffers make one chunk); with `copies`,
    through them, so that a Fortran-ordered X gives the C-ordered pass's sum bit for bit."""
    if copies == NULL:
        return _pass_over_rows(X, Y, work, 1)
    _zero_grad(work, X.shape[0], Y.shape[1])
    _start_pass(copies, Y.shape[0])
    return _accumulate_copied_rows(X, Y, NULL, 0, Y.shape[0], work, copies)


cdef Py_ssize_t _sgd_loop(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    floating[:, :, ::1] model,
    const Settings* settings,
    TrainingState* state,
    Py_ssize_t* rows,
    Py_ssize_t m,
    double[::1] loss_out,
    double[:, ::1] snapshots,
    const double* lr_factors,
    WorkBuffers* work,
    double* backup,
    RowCopies* copies,
) noexcept nogil:
    """SGD epochs over the m rows listed in `rows` (NULL: 0..m-1), shuffled at the start
    of every epoch when settings.shuffle. Returns the epochs completed by this call.
    `lr_factors` as in `_gd_loop`.

    `backup` has room for every slot of `model`: a per-sample epoch's starting point,
    to roll back to (its updates are not checked one by one: that would cost a second
    pass over the weights per sample).

    `copies` is NULL for a C-ordered X; otherwise X is the (d, n) transpose of a
    Fortran-ordered one, whose rows every pass reads through `copies` (row_copies.pxi)."""
    cdef Py_ssize_t epoch
    cdef int64_t first_epoch = state.epoch
    cdef TrainingState at_start
    cdef double sse, loss, judged
    state.outcome = OUTCOME_RUNNING
    for epoch in range(loss_out.shape[0]):
        if settings.shuffle and rows != NULL and _shuffle(rows, m, &state.rng):
            state.outcome = OUTCOME_INTERRUPTED
            break
        if lr_factors != NULL:
            state.lr_factor = lr_factors[epoch]
        at_start = state[0]
        _start_pass(copies, m)
        if settings.step.batch_size == 1:
            _copy_model(model, backup, False)
            # work.grad_bias has room for k doubles: the per-sample residuals.
            sse = _sgd_per_sample(X, Y, model, rows, m, work.grad_bias, &settings.step, state,
                                  work, copies)
            if state.outcome == OUTCOME_INTERRUPTED or not _model_finite(model):
                _copy_model(model, backup, True)
                at_start.outcome = state.outcome
                state[0] = at_start
                if state.outcome != OUTCOME_INTERRUPTED:
                    sse = INFINITY
        else:
            sse = _sgd_mini_batch(X, Y, model, rows, m, work, &settings.step, state, copies)
        loss = sse / (work.pass_weight_total * Y.shape[1])
        loss_out[epoch] = loss
        if state.outcome == OUTCOME_INTERRUPTED:
            break
        if not isfinite(loss):
            state.outcome = OUTCOME_DIVERGED
            break
        judged = loss
        if settings.stop.on_average and _reported_slot(&settings.step, state) != 0:
            _load_model(model, work, settings.step.slot_average)
            judged = _sse_of_all_rows(X, Y, work, copies) / (work.weight_total * Y.shape[1])
        if _end_epoch(judged, &settings.stop, state):
            _snapshot(model, _reported_slot(&settings.step, state), snapshots,
                      settings.snapshot_every, first_epoch, state.epoch)
            break
        _snapshot(model, _reported_slot(&settings.step, state), snapshots,
                  settings.snapshot_every, first_epoch, state.epoch)
    return state.epoch - first_epoch
