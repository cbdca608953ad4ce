# The end of an epoch: scikit-learn's stopping rule, and snapshots of W, b for log lines.


cdef bint _end_epoch(double loss, const StopRule* rule, TrainingState* state) noexcept nogil:
    """Count the epoch just completed; True (and outcome CONVERGED) when the stopping
    rule fires: `rule.patience` epochs in a row whose loss is not below
    best_loss - max(tol, rtol best_loss), or once the loss is at most rule.target. The
    rule's counters live in `state`, so it carries across calls."""
    cdef double margin
    state.epoch += 1
    if loss <= rule.target:
        state.outcome = OUTCOME_CONVERGED
        return True
    if rule.patience <= 0:
        return False
    margin = rule.rtol * state.best_loss if rule.rtol * state.best_loss > rule.tol else rule.tol
    if loss > state.best_loss - margin:
        state.bad_epochs += 1
    else:
        state.bad_epochs = 0
    if loss < state.best_loss:
        state.best_loss = loss
    if state.bad_epochs >= rule.patience:
        if rule.adaptive and 2.0 * state.lr_now > 1e-6:
            state.lr_factor /= 5.0
            state.bad_epochs = 0
            return False
        state.outcome = OUTCOME_CONVERGED
        return True
    return False


cdef inline void _snapshot(
    floating[:, :, ::1] model, int slot, double[:, ::1] snapshots,
    int64_t every, int64_t first_epoch, int64_t epoch_number,
) noexcept nogil:
    """Record a slot of `model` (W's d*k values in W's C order, then b's k) into a row of
    `snapshots` if the 1-based `epoch_number` is a multiple of `every`: row s holds the
    (s+1)-th such epoch after `first_epoch` (the epochs completed before this call)."""
    cdef Py_ssize_t s, i, n
    cdef const floating* p
    if every <= 0 or epoch_number % every != 0 or snapshots is None:
        return
    s = epoch_number // every - first_epoch // every - 1
    if s < 0 or s >= snapshots.shape[0]:
        return
    n = model.shape[1] * model.shape[2]
    p = &model[slot, 0, 0]
    for i in range(n):
        snapshots[s, i] = p[i]
