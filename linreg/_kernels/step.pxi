# The settings structs, the training state, and the one place that knows how to take a
# step. Gradient sources (a pass over rows, the Gram statistics, a mini-batch, a single
# sample) produce a gradient; the functions here turn it into an update of W and b.
#
# Python fills `Settings` once per fit from frozen dataclasses (linreg/_structs.py) and
# keeps `TrainingState` in a NumPy structured array of the same layout, which the
# loops update in place: the state (update count, stopping rule, generator) carries
# across calls, so a fit split into chunks of epochs trains exactly like one call.

cdef enum Schedule:
    # How the learning rate changes with the update count t (StepRule.schedule), as
    # scikit-learn's SGD: t counts updates from 1.
    SCHEDULE_CONSTANT = 0    # lr (times state.lr_factor: "adaptive" divides it by 5)
    SCHEDULE_INVSCALING = 1  # lr / t^power_t
    SCHEDULE_OPTIMAL = 2     # 1 / (schedule_alpha (optimal_t0 + t - 1))

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
    double power_t           # SCHEDULE_INVSCALING's exponent
    double optimal_t0        # SCHEDULE_OPTIMAL's t0 (scikit-learn's, from alpha)
    double schedule_alpha    # SCHEDULE_OPTIMAL's alpha (the penalty's, linreg's units)
    Py_ssize_t batch_size    # rows per SGD update (1: per sample); GD ignores it
    double momentum          # torch.optim.SGD's: velocity v = momentum v + (1 - dampening) g
    double dampening
    bint nesterov            # step along g + momentum v instead of v
    bint precondition        # step in centred, scaled coordinates (see _precondition)
    double l2                # L2 penalty: the gradient gets + l2 W (never b) before the
                             # momentum (torch's weight_decay); per-sample SGD without
                             # momentum decays W by max(0, 1 - lr l2) instead (scikit-learn)
    bint fit_intercept       # False: b is never updated (it keeps its initial value)
    double l1                # L1 penalty l1 |W|_1 (never b): per sample, scikit-learn's
                             # cumulative truncation (slot_l1: what each weight received);
                             # GD and mini-batches, the proximal step (soft thresholding)
    int64_t average_start    # average the iterates after this many updates; -1: never
    # Where the optimizer's arrays are in `model` (slots of shape (d + 1, k) each: W's d
    # rows, then b), -1 when unused. Slot 0 is always the parameters.
    int slot_velocity
    int slot_average
    int slot_centre          # row j, every column: the mean of feature j
    int slot_scale           # row j, every column: 1 / its variance (row d: 1)
    int slot_l1              # the L1 penalty each weight has received (per sample)


cdef struct StopRule:
    # scikit-learn's stopping rule: stop after `patience` epochs in a row whose loss is
    # not below best_loss - max(tol, rtol * best_loss). patience 0: no rule. Also stop
    # (that epoch counts) once the loss is at most `target` (-inf: never).
    double tol
    double rtol
    int64_t patience
    double target
    # scikit-learn's "adaptive" schedule: when the rule fires, divide the learning rate by
    # 5 and go on, unless it is already at most 5e-7 (scikit-learn's eta 1e-6).
    bint adaptive
    # SGD with averaging: judge by the averaged model's loss (a pass over the rows per
    # epoch) rather than by the epoch's running loss, which stalls at the iterates' noise
    # floor while the average still improves.
    bint on_average


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
    int64_t velocity_steps   # updates the velocity has seen (torch: the first sets v = g)
    int64_t averaged         # iterates in the average
    double lr_factor         # "adaptive": the factor on lr (1, then 1/5, 1/25...)
    double l1_total          # per-sample L1: the penalty each weight could have received


cdef inline double _learning_rate(const StepRule* rule, const TrainingState* state) noexcept nogil:
    """The learning rate of the next update, number t = state.t + 1."""
    return _learning_rate_at(rule, state.t + 1, state.lr_factor)


cdef inline double _learning_rate_at(const StepRule* rule, int64_t t, double lr_factor) noexcept nogil:
    """The learning rate of update number t (from 1), with the factor on lr."""
    cdef double tt = <double> t
    if rule.schedule == SCHEDULE_INVSCALING:
        # scikit-learn's default exponent, 1/4, and 1/2 by square roots: pow costs about
        # as much as the rest of a per-sample update at d = 32 (the two agree to an ulp).
        if rule.power_t == 0.25:
            return rule.lr / sqrt(sqrt(tt))
        if rule.power_t == 0.5:
            return rule.lr / sqrt(tt)
        return rule.lr / pow(tt, rule.power_t)
    if rule.schedule == SCHEDULE_OPTIMAL:
        return 1.0 / (rule.schedule_alpha * (rule.optimal_t0 + tt - 1.0))
    return rule.lr * lr_factor


cdef inline floating* _slot(floating[:, :, ::1] model, int slot) noexcept nogil:
    """The (d + 1) * k values of a slot of `model`: W (d, k) row by row, then b (k)."""
    return &model[slot, 0, 0]


cdef void _precondition(
    double* g, Py_ssize_t d, Py_ssize_t k, const floating* centre, const floating* scale,
    bint fit_intercept,
) noexcept nogil:
    """Turn the gradient g (W's (d, k) rows, then b's k) into the step direction of GD on
    centred, scaled features z = (x - mu) / s, mapped back to (W, b).

    With u = s w and c = b + mu.w, the gradient in (u, c) is ((g_w - mu g_b) / s, g_b);
    a step along it, mapped back, moves w by q = (g_w - mu g_b) / s^2 and b by
    g_b - mu.q. O(d k): an exact diagonal preconditioner that never touches X.

    Without an intercept b is fixed, so c = b + mu.w is not a free coordinate: the
    centring is dropped and the features are only scaled, z = x / s (u = s w): w moves
    by g_w / s^2 and b's entries of g are left alone (the caller has zeroed them). The
    scale slot then holds 1 / mean(x^2), the uncentred second moment (linreg._auto).
    """
    cdef Py_ssize_t j, o
    cdef double q, mu
    if not fit_intercept:
        for j in range(d):
            for o in range(k):
                g[j * k + o] = g[j * k + o] * scale[j * k]
        return
    for j in range(d):
        mu = centre[j * k]
        for o in range(k):
            q = (g[j * k + o] - mu * g[d * k + o]) * scale[j * k]
            g[j * k + o] = q
    for o in range(k):
        for j in range(d):
            g[d * k + o] -= centre[j * k] * g[j * k + o]


cdef bint _direction(
    floating[:, :, ::1] model, double* g, const StepRule* rule, const TrainingState* state,
    WorkBuffers* work,
) noexcept nogil:
    """Turn the loss gradient g ((d + 1) k, laid out like a slot) into the step
    direction, in place: + l2 W (the penalty's gradient, as torch's weight_decay, never
    on b), b's entries zeroed without an intercept, preconditioned, then torch's
    momentum. The new velocity goes to work.velocity (the caller stores it once the step
    is applied). Returns whether that velocity is finite in W's dtype."""
    cdef Py_ssize_t d = model.shape[1] - 1, k = model.shape[2], i, o, n = (d + 1) * k
    cdef const floating* p = _slot(model, 0)
    cdef const floating* v
    cdef double gi
    cdef bint finite = True
    if rule.l2 != 0.0:
        for i in range(d * k):
            g[i] = g[i] + rule.l2 * p[i]
    if not rule.fit_intercept:
        for o in range(k):
            g[d * k + o] = 0.0
    if rule.precondition:
        _precondition(g, d, k, _slot(model, rule.slot_centre), _slot(model, rule.slot_scale),
                      rule.fit_intercept)
    if rule.momentum != 0.0:
        # torch.optim.SGD: v = g on the first step, then momentum v + (1 - dampening) g;
        # the direction is v, or g + momentum v with nesterov.
        v = _slot(model, rule.slot_velocity)
        for i in range(n):
            gi = g[i]
            if state.velocity_steps == 0:
                work.velocity[i] = gi
            else:
                work.velocity[i] = rule.momentum * v[i] + (1.0 - rule.dampening) * gi
            finite &= isfinite(<floating> work.velocity[i])
            g[i] = gi + rule.momentum * work.velocity[i] if rule.nesterov else work.velocity[i]
    return finite


cdef inline void _keep_velocity(
    floating[:, :, ::1] model, const StepRule* rule, TrainingState* state, WorkBuffers* work,
) noexcept nogil:
    """Store the velocity of the step just applied (see _direction)."""
    cdef Py_ssize_t i, n = model.shape[1] * model.shape[2]
    cdef floating* v
    if rule.momentum == 0.0:
        return
    v = _slot(model, rule.slot_velocity)
    for i in range(n):
        v[i] = <floating> work.velocity[i]
    state.velocity_steps += 1


cdef bint _take_step(
    floating[:, :, ::1] model, WorkBuffers* work, double grad_scale,
    const StepRule* rule, TrainingState* state,
) noexcept nogil:
    """The update from a dense gradient, grad_scale * (work.grad_by_output^T,
    work.grad_bias): preconditioned, with momentum, then W, b -= lr * direction, but only
    if every new value is finite.

    The new values, rounded to W's dtype, are left in work.w_by_output(_f32) and
    work.bias, so the next pass needs no reload. Returns False, leaving the model and
    the state untouched, on a non-finite value.
    """
    cdef Py_ssize_t d = model.shape[1] - 1, k = model.shape[2], j, o
    cdef floating* p = _slot(model, 0)
    cdef double lr = _learning_rate(rule, state)
    cdef double step = lr * grad_scale
    cdef double* g = work.direction
    cdef floating new
    cdef bint finite = True
    cdef bint plain = (not rule.precondition and rule.momentum == 0.0 and rule.l2 == 0.0
                       and rule.fit_intercept)
    if _is_fista(rule):
        return _fista_step(model, work, grad_scale, rule, state)
    if plain:
        # W -= (lr grad_scale) sums: the seed tutorial's update, rounded as it always was.
        for o in range(k):
            for j in range(d):
                new = <floating> (p[j * k + o] - step * work.grad_by_output[o * d + j])
                finite &= isfinite(new)
                work.w_by_output[o * d + j] = new
                work.w_by_output_f32[o * d + j] = <float> new
            new = <floating> (p[d * k + o] - step * work.grad_bias[o])
            finite &= isfinite(new)
            work.bias[o] = new
    else:
        for o in range(k):
            for j in range(d):
                g[j * k + o] = grad_scale * work.grad_by_output[o * d + j]
            g[d * k + o] = grad_scale * work.grad_bias[o]
        finite = _direction(model, g, rule, state, work)
        for o in range(k):
            for j in range(d):
                new = <floating> (p[j * k + o] - lr * g[j * k + o])
                finite &= isfinite(new)
                work.w_by_output[o * d + j] = new
                work.w_by_output_f32[o * d + j] = <float> new
            # Without an intercept g's b entries are 0: b stays exactly as it was.
            new = <floating> (p[d * k + o] - lr * g[d * k + o])
            finite &= isfinite(new)
            work.bias[o] = new
    if not finite:
        return False
    for o in range(k):
        for j in range(d):
            p[j * k + o] = <floating> work.w_by_output[o * d + j]
        p[d * k + o] = <floating> work.bias[o]
    if rule.l1 != 0.0:
        # The proximal step of the L1 penalty: weights it would push across zero are
        # exactly zero (the next pass reads the thresholded weights).
        _soft_threshold(model, 0, lr * rule.l1, rule)
        _load_model(model, work)
    _keep_velocity(model, rule, state, work)
    state.t += 1
    state.lr_now = lr
    _add_to_average(model, rule, state)
    return True


cdef inline void _add_to_average(
    floating[:, :, ::1] model, const StepRule* rule, TrainingState* state,
) noexcept nogil:
    """After update state.t: fold the parameters into the running average of the iterates
    once more than average_start updates were made (avg += (w - avg) / count)."""
    cdef Py_ssize_t i, n
    cdef floating* p
    cdef floating* avg
    cdef double inv
    if rule.average_start < 0 or state.t <= rule.average_start:
        return
    n = model.shape[1] * model.shape[2]
    p = _slot(model, 0)
    avg = _slot(model, rule.slot_average)
    state.averaged += 1
    inv = 1.0 / <double> state.averaged
    for i in range(n):
        avg[i] = <floating> (avg[i] + (p[i] - avg[i]) * inv)


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


cdef inline void _truncate_l1(
    floating[:, :, ::1] model, double lr, const StepRule* rule, TrainingState* state,
) noexcept nogil:
    """scikit-learn's per-sample L1 (Tsuruoka et al., 2009): after the update, pull every
    weight towards zero by what the cumulative penalty owes it, never across zero."""
    cdef Py_ssize_t j, n
    cdef floating* w
    cdef floating* q
    cdef double z, u
    if rule.l1 == 0.0:
        return
    n = (model.shape[1] - 1) * model.shape[2]
    w = _slot(model, 0)
    q = _slot(model, rule.slot_l1)
    state.l1_total += lr * rule.l1
    u = state.l1_total
    for j in range(n):
        z = w[j]
        if z > 0.0:
            w[j] = <floating> (z - (u + q[j]) if z - (u + q[j]) > 0.0 else 0.0)
        elif z < 0.0:
            w[j] = <floating> (z + (u - q[j]) if z + (u - q[j]) < 0.0 else 0.0)
        q[j] = <floating> (q[j] + (w[j] - z))


cdef inline void _soft_threshold(
    floating[:, :, ::1] model, int slot, double threshold, const StepRule* rule,
) noexcept nogil:
    """The proximal step of threshold |W|_1 on a slot of the model (W's rows, then b):
    W = sign(W) max(|W| - threshold, 0).

    Preconditioned, the step is taken in centred, scaled coordinates u = s w, c = b +
    mu.w, where the penalty is sum |u_j| / s_j: so weight j's threshold is threshold /
    s_j^2, and b moves to keep c where the step left it."""
    cdef Py_ssize_t d = model.shape[1] - 1, k = model.shape[2], j, o
    cdef floating* w = _slot(model, slot)
    cdef floating* b = w + d * k
    cdef const floating* centre = NULL
    cdef const floating* scale = NULL
    cdef double limit, old
    if rule.precondition:
        centre = _slot(model, rule.slot_centre)
        scale = _slot(model, rule.slot_scale)
    for j in range(d):
        limit = threshold if scale == NULL else threshold * scale[j * k]
        for o in range(k):
            old = w[j * k + o]
            if old > limit:
                w[j * k + o] = <floating> (old - limit)
            elif old < -limit:
                w[j * k + o] = <floating> (old + limit)
            else:
                w[j * k + o] = 0.0
            if centre != NULL and rule.fit_intercept:
                b[o] = <floating> (b[o] + centre[j * k] * (old - w[j * k + o]))


cdef inline void _sample_step_general(
    floating[:, :, ::1] model, const floating* x, double* residuals, double grad_scale,
    double lr, const StepRule* rule, TrainingState* state, WorkBuffers* work,
) noexcept nogil:
    """The update from one sample's gradient, any k, with every option of the rule:
    preconditioned, L2, momentum, no intercept, averaged after it. `residuals` (k) is
    overwritten. Unchecked, like _sample_step: the epoch is rolled back if it ends
    non-finite.

    With momentum (or L2 with preconditioning) the step is _take_step's, from the dense
    gradient g x^T (O(d k) anyway: the velocity is dense). Otherwise L2 is scikit-learn's
    per-sample decay, W *= max(0, 1 - lr l2) after the residual and before the sample's
    update: algebraically torch's W -= lr (g + l2 W) while lr l2 <= 1 (scikit-learn clips
    at 0 beyond it), and no second pass over W."""
    cdef Py_ssize_t d = model.shape[1] - 1, k = model.shape[2], j, o
    cdef floating* w = _slot(model, 0)
    cdef floating* b = w + d * k
    cdef const floating* centre
    cdef const floating* scale
    cdef double* g = work.direction
    cdef double z, mu_dot_z = 0.0, decay
    if rule.momentum != 0.0 or (rule.precondition and rule.l2 != 0.0):
        for j in range(d):
            for o in range(k):
                g[j * k + o] = grad_scale * residuals[o] * x[j]
        for o in range(k):
            g[d * k + o] = grad_scale * residuals[o]
        _direction(model, g, rule, state, work)
        for j in range(d * k + k):
            w[j] = <floating> (w[j] - lr * g[j])
        _keep_velocity(model, rule, state, work)
        state.t += 1
        _add_to_average(model, rule, state)
        _truncate_l1(model, lr, rule, state)
        return
    for o in range(k):
        residuals[o] = lr * grad_scale * residuals[o]
    if rule.l2 != 0.0:
        decay = 1.0 - lr * rule.l2
        if decay < 0.0:
            decay = 0.0
        for j in range(d * k):
            w[j] = <floating> (w[j] * decay)
    if rule.precondition:
        # The direction of _precondition for g_w = r x, g_b = r: q = r (x - mu) / s^2,
        # and b moves by r (1 - mu.(x - mu) / s^2); without an intercept q = r x / s^2.
        centre = _slot(model, rule.slot_centre)
        scale = _slot(model, rule.slot_scale)
        for j in range(d):
            if rule.fit_intercept:
                z = (x[j] - centre[j * k]) * scale[j * k]
                mu_dot_z += centre[j * k] * z
            else:
                z = x[j] * scale[j * k]
            for o in range(k):
                w[j * k + o] = <floating> (w[j * k + o] - residuals[o] * z)
        if rule.fit_intercept:
            for o in range(k):
                b[o] = <floating> (b[o] - residuals[o] * (1.0 - mu_dot_z))
    else:
        for j in range(d):
            for o in range(k):
                w[j * k + o] = <floating> (w[j * k + o] - residuals[o] * x[j])
        if rule.fit_intercept:
            for o in range(k):
                b[o] = <floating> (b[o] - residuals[o])
    state.t += 1
    _add_to_average(model, rule, state)
    _truncate_l1(model, lr, rule, state)


cdef inline bint _is_fista(const StepRule* rule) noexcept nogil:
    """L1 with Nesterov momentum: FISTA's extrapolation instead of torch's momentum on
    the gradient (which would move the proximal step's fixed point)."""
    return rule.l1 != 0.0 and rule.nesterov


cdef inline int _gradient_slot(const StepRule* rule, const TrainingState* state) noexcept nogil:
    """The slot whose point the next gradient is taken at: FISTA's extrapolated point
    (kept in the velocity slot) once there is one, else the parameters."""
    return rule.slot_velocity if _is_fista(rule) and state.velocity_steps > 0 else 0


cdef bint _fista_step(
    floating[:, :, ::1] model, WorkBuffers* work, double grad_scale,
    const StepRule* rule, TrainingState* state,
) noexcept nogil:
    """FISTA with a constant momentum m (Beck and Teboulle's extrapolation): the gradient
    g = grad_scale * (work's sums) was taken at y, the extrapolated point; the new
    iterate is x' = prox(y - lr g) (soft thresholding, exactly zero where the penalty
    wins), and the next point y' = x' + m (x' - x). Slot 0 holds the iterates x (what a
    user sees: sparse), the velocity slot y; the work buffers are left at y'.

    The direction takes the L2 part, the intercept rule and the preconditioner as
    `_direction` does, without its momentum. Returns False, leaving the model and the
    state untouched, on a non-finite value."""
    cdef Py_ssize_t d = model.shape[1] - 1, k = model.shape[2], j, o, i, n = (d + 1) * k
    cdef floating* x = _slot(model, 0)
    cdef floating* y = _slot(model, rule.slot_velocity)
    cdef const floating* at = _slot(model, _gradient_slot(rule, state))
    cdef double lr = _learning_rate(rule, state)
    cdef double* g = work.direction
    cdef double* candidate = work.velocity
    cdef double old, new
    cdef bint finite = True
    cdef StepRule gradient_only = rule[0]
    gradient_only.momentum = 0.0
    for o in range(k):
        for j in range(d):
            g[j * k + o] = grad_scale * work.grad_by_output[o * d + j]
        g[d * k + o] = grad_scale * work.grad_bias[o]
    # _direction reads W from slot 0 for the L2 part: the gradient point is y, so the
    # L2 term is taken at y through a model whose slot 0 is y for that call.
    if rule.l2 != 0.0:
        for i in range(d * k):
            g[i] = g[i] + rule.l2 * at[i]
        gradient_only.l2 = 0.0
    _direction(model, g, &gradient_only, state, work)
    for i in range(n):
        candidate[i] = at[i] - lr * g[i]
        finite &= isfinite(<floating> candidate[i])
    if not finite:
        return False
    # y's slot takes the candidate and its proximal step; then x and y move on.
    for i in range(n):
        y[i] = <floating> candidate[i]
    _soft_threshold(model, rule.slot_velocity, lr * rule.l1, rule)
    for i in range(n):
        old = x[i]
        new = y[i]
        x[i] = <floating> new
        y[i] = <floating> (new + rule.momentum * (new - old))
    _load_model(model, work, rule.slot_velocity)
    state.velocity_steps += 1
    state.t += 1
    state.lr_now = lr
    _add_to_average(model, rule, state)
    return True
