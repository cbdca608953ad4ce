# The end of an epoch: scikit-learn's stopping rule, and snapshots of W, b for log lines.


cdef bint _end_epoch(double loss, const StopRule* rule, TrainingState* state) noexcept nogil:
    """Count the epoch just completed; True (and outcome CONVERGED) when the stopping
    rule fires: `rule.patience` epochs in a row whose loss is not below
    best_loss - tol. The rule's counters live in `state`, so it carries across calls."""
    state.epoch += 1
    if rule.patience <= 0:
        return False
    if loss > state.best_loss - rule.tol:
        state.bad_epochs += 1
    else:
        state.bad_epochs = 0
    if loss < state.best_loss:
        state.best_loss = loss
    if state.bad_epochs >= rule.patience:
        state.outcome = OUTCOME_CONVERGED
        return True
    return False


cdef inline void _snapshot(
    const floating[:, ::1] W, const floating[::1] b, double[:, ::1] snapshots,
    int64_t every, int64_t first_epoch, int64_t epoch_number,
) noexcept nogil:
    """Record W (d*k, in W's C order) then b (k) into a row of `snapshots` if the
    1-based `epoch_number` is a multiple of `every`: row s holds the (s+1)-th such
    epoch after `first_epoch` (the epochs completed before this call)."""
    cdef Py_ssize_t s, j, o, d, k
    cdef double* row
    if every <= 0 or epoch_number % every != 0 or snapshots is None:
        return
    s = epoch_number // every - first_epoch // every - 1
    if s < 0 or s >= snapshots.shape[0]:
        return
    d = W.shape[0]; k = W.shape[1]
    row = &snapshots[s, 0]
    for j in range(d):
        for o in range(k):
            row[j * k + o] = W[j, o]
    for o in range(k):
        row[d * k + o] = b[o]
