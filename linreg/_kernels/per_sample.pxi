# Per-sample SGD on one output with the options of scikit-learn's SGDRegressor: sample
# weights, schedules, L2, averaging, L1, no intercept, and linreg's preconditioning.
#
# The speed of per-sample SGD is the work per sample beyond the dot product. The general
# step (_sample_step_general) makes one pass over W per option (decay, update, average,
# truncation), in a loop over k outputs that gcc cannot vectorize well: 3x the time of
# the plain loop at d = 32. Here, as in scikit-learn's WeightVector:
#
# - L2 decay is a scale factor: the true weights are `wscale * v`, where v is what the
#   model's slot 0 holds during the pass; decaying multiplies wscale (O(1)), the update
#   adds (c / wscale) x to v, and wscale is folded into v when it gets small and at the
#   end of the pass (the slot holds the true weights between passes);
# - the update, the average and the L1 truncation of weight j need only weight j, so
#   each is one vectorizable pass over d contiguous values, with no per-output loop.
#
# The arithmetic is the general step's (tests hold both to the NumPy twin), up to the
# rounding of the scale factor.

#: Fold the L2 scale factor into the weights once it is below this (as scikit-learn):
#: the stored weights grow as 1 / wscale.
cdef double WSCALE_FLOOR = 1e-9


cdef inline void _axpy(double a, const floating* x, floating* y, Py_ssize_t d) noexcept nogil:
    """y += a x, in y's dtype."""
    cdef Py_ssize_t j
    cdef floating af = <floating> a
    for j in range(d):
        y[j] = y[j] + af * x[j]


cdef inline void _fold_scale(floating* v, Py_ssize_t d, double* wscale) noexcept nogil:
    """v = wscale * v, wscale = 1: the stored weights become the true ones."""
    cdef Py_ssize_t j
    cdef double s = wscale[0]
    if s == 1.0:
        return
    for j in range(d):
        v[j] = <floating> (s * v[j])
    wscale[0] = 1.0


cdef inline double _precondition_update(
    floating* w, const floating* x, Py_ssize_t d, double c, double lr_l2,
    const floating* centre, const floating* scale, bint fit_intercept,
) noexcept nogil:
    """The preconditioned step of one sample (see _precondition) with the L2 penalty's
    gradient lr_l2 w folded in: w_j -= c z_j + lr_l2 w_j / s_j^2, with z_j the centred
    (or, without an intercept, only scaled) feature over s_j^2. Returns what b moves
    by: c (1 - mu.z) - lr_l2 sum_j mu_j w_j / s_j^2 (0 without an intercept)."""
    cdef Py_ssize_t j
    cdef double z, pen, mu_z = 0.0, mu_pen = 0.0
    if not fit_intercept:
        for j in range(d):
            w[j] = <floating> (w[j] - (c * x[j] + lr_l2 * w[j]) * scale[j])
        return 0.0
    for j in range(d):
        z = (x[j] - centre[j]) * scale[j]
        pen = lr_l2 * scale[j] * w[j]
        mu_z = mu_z + centre[j] * z
        mu_pen = mu_pen + centre[j] * pen
        w[j] = <floating> (w[j] - (c * z + pen))
    return c * (1.0 - mu_z) - mu_pen


cdef inline void _axpy_and_average(
    double a, const floating* x, floating* v, floating* avg, Py_ssize_t d, double wscale,
    double inv,
) noexcept nogil:
    """_axpy then _average_in in one pass over v (no L1 truncation between them)."""
    cdef Py_ssize_t j
    cdef floating af = <floating> a
    for j in range(d):
        v[j] = v[j] + af * x[j]
        avg[j] = <floating> (avg[j] + (wscale * v[j] - avg[j]) * inv)


cdef inline void _average_in(
    floating* avg, const floating* v, Py_ssize_t d, double wscale, double inv,
) noexcept nogil:
    """avg += (wscale v - avg) inv: one more iterate into the running average."""
    cdef Py_ssize_t j
    for j in range(d):
        avg[j] = <floating> (avg[j] + (wscale * v[j] - avg[j]) * inv)


cdef inline void _truncate_scaled(
    floating* v, floating* q, Py_ssize_t d, double wscale, double u,
) noexcept nogil:
    """_truncate_l1 on the scaled weights wscale v (scikit-learn's l1penalty)."""
    cdef Py_ssize_t j
    cdef double z, new
    for j in range(d):
        z = wscale * v[j]
        new = z
        if z > 0.0:
            new = z - (u + q[j]) if z - (u + q[j]) > 0.0 else 0.0
        elif z < 0.0:
            new = z + (u - q[j]) if z + (u - q[j]) < 0.0 else 0.0
        v[j] = <floating> (new / wscale)
        q[j] = <floating> (q[j] + (new - z))


cdef double _sgd_per_sample_k1(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    floating[:, :, ::1] model,
    const Py_ssize_t* rows,
    Py_ssize_t m,
    const StepRule* rule,
    TrainingState* state,
    const double* sample_weight,
    RowCopies* copies,
) noexcept nogil:
    """One update per sample for one output and no momentum, in place, with every other
    option of the rule; returns sum_i w_i r_i^2.

    As `_sgd_per_sample`: a non-finite residual returns at once (that update not
    applied), Ctrl-C returns NaN with outcome INTERRUPTED; the updates are counted in
    state.t. Each sample: its residual, its learning rate, the L2 decay (a scale factor
    without preconditioning; folded into the update with it), the update, the average,
    the L1 truncation, in scikit-learn's order.
    """
    cdef Py_ssize_t d = model.shape[1] - 1, t, i
    cdef const floating* x
    cdef floating* v = _slot(model, 0)
    cdef floating* b = v + d
    cdef floating* avg = _slot(model, rule.slot_average) if rule.average_start >= 0 else NULL
    cdef floating* q = _slot(model, rule.slot_l1) if rule.l1 != 0.0 else NULL
    cdef const floating* centre = _slot(model, rule.slot_centre) if rule.precondition else NULL
    cdef const floating* scale = _slot(model, rule.slot_scale) if rule.precondition else NULL
    cdef double wscale = 1.0, inv_wscale = 1.0, lr = _learning_rate(rule, state), s, sw = 1.0
    cdef double c, decay
    cdef double sse = 0.0, inv, b_step
    cdef Py_ssize_t look_every = INTERRUPT_CHECK_WORK // (8 * d + 64) + 1
    cdef Py_ssize_t until_look = look_every
    cdef bint scale_decay = rule.l2 != 0.0 and not rule.precondition
    cdef floating* avg_b = avg + d if avg != NULL else NULL
    # The update count in a local: a store per sample through `state` costs (see
    # _sgd_per_sample_plain); state.t is written back before every return.
    cdef int64_t count = state.t
    cdef bint averaging
    # The preconditioned slots hold one value per feature, repeated for each of the k
    # outputs: with k = 1 they are plain vectors.
    state.lr_now = lr
    for t in range(m):
        i = rows[t] if rows != NULL else t
        x = _sample_row(X, Y, rows, t, m, d, copies)
        until_look -= 1
        if until_look == 0:
            until_look = look_every
            if _interrupt_requested():
                _fold_scale(v, d, &wscale)
                state.t = count
                state.outcome = OUTCOME_INTERRUPTED
                return NAN
        s = wscale * _dot_short_chain(x, v, d) + b[0] - Y[i, 0]
        if not isfinite(s):
            _fold_scale(v, d, &wscale)
            state.t = count
            return s
        if sample_weight != NULL:
            sw = sample_weight[i]
        sse += sw * s * s
        if rule.schedule != SCHEDULE_CONSTANT:
            lr = _learning_rate_at(rule, count + 1, state.lr_factor)
        # The sample's loss is r^2 (k = 1): its gradient is 2 r x, weighted.
        c = lr * 2.0 * sw * s
        count += 1
        averaging = avg != NULL and count > rule.average_start
        if averaging:
            state.averaged += 1
            inv = 1.0 / <double> state.averaged
        if rule.precondition:
            b_step = _precondition_update(v, x, d, c, lr * rule.l2, centre, scale,
                                          rule.fit_intercept)
            if averaging:
                _average_in(avg, v, d, wscale, inv)
        else:
            if scale_decay:
                # scikit-learn's: never below zero when lr l2 > 1 (then W is zeroed).
                decay = 1.0 - lr * rule.l2
                wscale *= decay if decay > 0.0 else 0.0
                if wscale < WSCALE_FLOOR:
                    _fold_scale(v, d, &wscale)
                # Not on the chain residual -> update -> next residual: a division there
                # cost a quarter of the time of a sample.
                inv_wscale = 1.0 / wscale
            if averaging:
                _axpy_and_average(-c * inv_wscale, x, v, avg, d, wscale, inv)
            else:
                _axpy(-c * inv_wscale, x, v, d)
            b_step = c
        if rule.fit_intercept:
            b[0] = <floating> (b[0] - b_step)
        if averaging:
            avg_b[0] = <floating> (avg_b[0] + (b[0] - avg_b[0]) * inv)
        if q != NULL:
            state.l1_total += lr * rule.l1
            _truncate_scaled(v, q, d, wscale, state.l1_total)
    _fold_scale(v, d, &wscale)
    state.t = count
    state.lr_now = lr
    return sse


cdef enum:
    # `_sgd_per_sample_plain_multi` takes up to this many outputs (its residuals' array).
    PLAIN_MULTI_MAX_OUTPUTS = 16


cdef double _sgd_per_sample_plain_multi(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    floating[:, :, ::1] model,
    const Py_ssize_t* rows,
    Py_ssize_t m,
    double lr,
    TrainingState* state,
    RowCopies* copies,
) noexcept nogil:
    """`_sgd_per_sample` for k > 1 outputs with no option on: the residuals and the
    update are loops over a row of W (k contiguous values), without the per-sample calls
    and option tests of _sample_step_general, whose arithmetic it repeats but for the
    order of a residual's sum over features (four runs side by side; at k = 8 the
    general step cost 1.9x the time per output-weight of one output).

    k is at most PLAIN_MULTI_MAX_OUTPUTS: the residuals live in a local array, which
    gcc knows no pointer into W reaches, so the loops over a row of W vectorize (through
    a pointer they could not: it might alias W). As `_sgd_per_sample`: a non-finite residual
    returns at once (that update not applied), Ctrl-C returns NaN with outcome
    INTERRUPTED; the updates are counted in state.t."""
    cdef Py_ssize_t d = model.shape[1] - 1, k = Y.shape[1], t, i, j, o
    cdef const floating* x
    cdef floating* w = &model[0, 0, 0]
    cdef floating* b = w + d * k
    cdef floating* row
    cdef double r[PLAIN_MULTI_MAX_OUTPUTS]
    cdef double r1[PLAIN_MULTI_MAX_OUTPUTS]
    cdef double r2[PLAIN_MULTI_MAX_OUTPUTS]
    cdef double r3[PLAIN_MULTI_MAX_OUTPUTS]
    cdef double s, xj, x0, x1, x2, x3, sse = 0.0
    # A sample's loss is the mean over its k outputs, so its gradient carries 2/k.
    cdef double c = lr * (2.0 / k)
    cdef int64_t count = state.t
    cdef Py_ssize_t look_every = INTERRUPT_CHECK_WORK // (4 * d * k + 64) + 1
    cdef Py_ssize_t until_look = look_every
    for t in range(m):
        i = rows[t] if rows != NULL else t
        x = _sample_row(X, Y, rows, t, m, d, copies)
        until_look -= 1
        if until_look == 0:
            until_look = look_every
            if _interrupt_requested():
                state.t = count
                state.outcome = OUTCOME_INTERRUPTED
                return NAN
        # Four runs of features summed side by side, then added: with one running sum per
        # output, each multiply-add waited for the last (through memory: r is an array).
        # float64, 5 epochs, 1 thread, ns per output-weight at k = 8 (k = 1 for scale):
        # d = 4 0.78 -> 0.55 (2.15), d = 32 0.34 -> 0.27 (0.45), d = 64 0.32 -> 0.24 (0.31).
        for o in range(k):
            r[o] = 0.0
            r1[o] = 0.0
            r2[o] = 0.0
            r3[o] = 0.0
        j = 0
        while j + 4 <= d:
            x0 = x[j]
            x1 = x[j + 1]
            x2 = x[j + 2]
            x3 = x[j + 3]
            row = w + j * k
            for o in range(k):
                r[o] = r[o] + x0 * row[o]
                r1[o] = r1[o] + x1 * row[k + o]
                r2[o] = r2[o] + x2 * row[2 * k + o]
                r3[o] = r3[o] + x3 * row[3 * k + o]
            j += 4
        while j < d:
            xj = x[j]
            row = w + j * k
            for o in range(k):
                r[o] = r[o] + xj * row[o]
            j += 1
        for o in range(k):
            r[o] = (b[o] - Y[i, o]) + ((r[o] + r1[o]) + (r2[o] + r3[o]))
        s = 0.0
        for o in range(k):
            s += r[o] * r[o]
        if not isfinite(s):
            state.t = count
            return s
        sse += s
        for o in range(k):
            r[o] = c * r[o]
        for j in range(d):
            xj = x[j]
            row = w + j * k
            for o in range(k):
                row[o] = <floating> (row[o] - r[o] * xj)
        for o in range(k):
            b[o] = <floating> (b[o] - r[o])
        count += 1
    state.t = count
    return sse
