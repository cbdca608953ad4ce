# The settings structs, the training state, and the one place that knows how to take a
# step. Gradient sources (a pass over rows, the Gram statistics, a mini-batch, a single
# sample) produce a gradient; the functions here turn it into an update of W and b.
#
# Python fills `Settings` once per fit from frozen dataclasses (linreg/_structs.py) and
# keeps `TrainingState` in a NumPy structured array of the same layout, which the
# loops update in place: the state (update count, stopping rule, generator) carries
# across calls, so a fit split into chunks of epochs trains exactly like one call.

cdef enum Schedule:
    # How the learning rate changes with the update count t (StepRule.schedule).
    SCHEDULE_CONSTANT = 0

cdef enum Outcome:
    # Why a training loop returned (TrainingState.outcome).
    OUTCOME_RUNNING = 0      # it ran every epoch it was asked for
    OUTCOME_CONVERGED = 1    # the stopping rule fired (that epoch counts)
    OUTCOME_DIVERGED = 2     # a loss or a parameter became non-finite (rolled back)
    OUTCOME_INTERRUPTED = 3  # a signal (Ctrl-C) is pending (the epoch was rolled back)


cdef struct StepRule:
    # Fixed for a fit (linreg._structs.StepRule).
    double lr                # base learning rate
    int schedule             # a Schedule
    Py_ssize_t batch_size    # rows per SGD update (1: per sample); GD ignores it


cdef struct StopRule:
    # scikit-learn's stopping rule: stop after `patience` epochs in a row whose loss is
    # not below best_loss - tol. patience 0: no rule.
    double tol
    int64_t patience


cdef struct Settings:
    # Everything a training loop needs to know, fixed for a fit.
    StepRule step
    StopRule stop
    bint shuffle             # SGD: shuffle `order` at the start of every epoch
    int n_threads            # threads for passes over X (results do not depend on it)
    int64_t snapshot_every   # record W, b after every this many epochs (0: never)


cdef struct TrainingState:
    # Carried across calls (linreg._structs.TRAINING_STATE); flat, for NumPy's sake.
    int64_t epoch            # epochs completed since the fit began
    int64_t t                # updates applied since the fit began
    double lr_now            # learning rate of the latest update
    double best_loss         # stopping rule: lowest epoch loss so far
    int64_t bad_epochs       # stopping rule: epochs in a row without improvement
    int64_t outcome          # an Outcome: why the last call returned
    uint64_t rng             # splitmix64 state of the shuffling generator


cdef inline double _learning_rate(const StepRule* rule, const TrainingState* state) noexcept nogil:
    """The learning rate of the next update."""
    return rule.lr


cdef bint _take_step(
    floating[:, ::1] W, floating[::1] b, WorkBuffers* work, double grad_scale,
    const StepRule* rule, TrainingState* state,
) noexcept nogil:
    """The update from a dense gradient: W -= lr * grad_scale * work.grad_by_output^T,
    b -= lr * grad_scale * work.grad_bias, but only if every new value is finite.

    The new values, rounded to W's dtype, are left in work.w_by_output(_f32) and
    work.bias, so the next pass needs no reload. Returns False, leaving W, b and the
    state untouched, on a non-finite value.
    """
    cdef Py_ssize_t d = W.shape[0], k = W.shape[1], j, o
    cdef double lr = _learning_rate(rule, state)
    cdef double step = lr * grad_scale
    cdef floating new
    cdef bint finite = True
    for o in range(k):
        for j in range(d):
            new = <floating> (W[j, o] - step * work.grad_by_output[o * d + j])
            finite &= isfinite(new)
            work.w_by_output[o * d + j] = new
            work.w_by_output_f32[o * d + j] = <float> new
        new = <floating> (b[o] - step * work.grad_bias[o])
        finite &= isfinite(new)
        work.bias[o] = new
    if not finite:
        return False
    for o in range(k):
        for j in range(d):
            W[j, o] = <floating> work.w_by_output[o * d + j]
        b[o] = <floating> work.bias[o]
    state.t += 1
    state.lr_now = lr
    return True


cdef inline void _sample_step(
    floating* w, floating* b, const floating* x, double residual, Py_ssize_t d,
    double grad_scale, double lr,
) noexcept nogil:
    """The update from one sample's gradient, single output: w -= c x, b -= c, with
    c = lr * grad_scale * residual. Unchecked (see _sgd_per_sample); the caller counts
    the update in the training state (once per pass, not per sample: a store per sample
    through the state pointer cost 5% of small-model SGD)."""
    # The update in W's dtype, as PyTorch does: converting W and x to double and back
    # made float32 SGD compute-bound.
    cdef floating c = <floating> (lr * grad_scale * residual)
    cdef Py_ssize_t j
    for j in range(d):
        w[j] = w[j] - c * x[j]
    b[0] = b[0] - c


cdef inline void _sample_step_multi(
    floating* w, floating* b, const floating* x, double* residuals, Py_ssize_t d,
    Py_ssize_t k, double grad_scale, double lr,
) noexcept nogil:
    """`_sample_step` for k outputs: W (d, k) -= x c^T, b -= c, c = lr grad_scale r.
    `residuals` is overwritten with c."""
    cdef double xj
    cdef floating* w_row
    cdef Py_ssize_t j, o
    for o in range(k):
        residuals[o] = lr * grad_scale * residuals[o]
        b[o] = <floating> (b[o] - residuals[o])
    for j in range(d):
        xj = x[j]
        w_row = w + j * k
        for o in range(k):
            w_row[o] = <floating> (w_row[o] - residuals[o] * xj)
