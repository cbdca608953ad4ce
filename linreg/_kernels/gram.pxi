# GD from sufficient statistics.
#
# For MSE, a full-batch gradient needs X only through centred statistics: with means
# mu (of X's rows) and ybar (of Y's), Xc = X - mu and Yc = Y - ybar,
#     G = Xc^T Xc (d, d),  C = Xc^T Yc (d, k),
# and, per output o, c0 = w^T mu + b - ybar,
#     sum_i r_i x_i = (G w - C) + n mu c0,   sum_i r_i = n c0,
#     sum_i r_i^2 = |Xc w - Yc|^2 + n c0^2.
# So after one pass for the statistics an epoch costs O(d^2 k) instead of O(n d k).
#
# The loss. Evaluated as w^T G w - 2 w^T C + |Yc|^2 it cancels: near a good fit the
# three terms are ~ |Yc|^2 and their sum is tiny, so it came out as rounding noise, even
# negative. Instead it is expanded around a reference point a close to the least-squares
# solution (computed once, see linreg.kernels.gram_statistics) with residual sum
# s_a = |Xc a - Yc|^2: with D = w - a and g_a = G a - C,
#     |Xc w - Yc|^2 = s_a + D^T (2 g_a + G D),   G w - C = G D + g_a.
# D^T G D >= 0 is accurate relative to itself and g_a is tiny, so the loss no longer
# cancels: its error is small relative to the loss itself. s_a, the least any loss can
# be, comes from the statistics when it is large enough to be accurate there (over 1e-6
# |Yc|^2), else from an exact pass over the rows. A total that rounding still pushes
# below zero is reported as zero.


cdef struct GramView:
    # The statistics a GD epoch reads (linreg._structs.GramStatistics), all in double.
    const double* XtX            # (d, d): G
    const double* XtY            # (d, k): C
    const double* mean_X         # (d,): mu
    const double* mean_Y         # (k,): ybar
    double* ref_by_output        # (k, d): the reference point a, by output
    double* ref_grad_by_output   # (k, d): g_a = G a - C, by output
    double ref_sse               # s_a summed over the outputs
    double n                     # n_samples


cdef double _gram_pass(const GramView* gram, Py_ssize_t d, Py_ssize_t k, WorkBuffers* work) noexcept nogil:
    """The sums of `_pass_over_rows`, into work.grad_by_output and work.grad_bias, from
    the statistics; returns the sum of squared residuals (never negative)."""
    cdef Py_ssize_t j, l, o
    cdef const double* w
    cdef const double* a
    cdef const double* g_a
    cdef const double* g_row
    cdef double c0, gd, centred = gram.ref_sse, offsets = 0.0
    for o in range(k):
        w = work.w_by_output + o * d
        a = gram.ref_by_output + o * d
        g_a = gram.ref_grad_by_output + o * d
        c0 = work.bias[o] - gram.mean_Y[o]
        for j in range(d):
            c0 += gram.mean_X[j] * w[j]
        work.grad_bias[o] = gram.n * c0
        offsets += gram.n * c0 * c0
        for j in range(d):
            g_row = gram.XtX + j * d
            gd = 0.0
            for l in range(d):
                gd = gd + g_row[l] * (w[l] - a[l])  # (G D)_j
            centred += (w[j] - a[j]) * (2.0 * g_a[j] + gd)
            work.grad_by_output[o * d + j] = (gd + g_a[j]) + gram.n * gram.mean_X[j] * c0
    return (centred if centred > 0.0 else 0.0) + offsets


cdef inline void _gram_rows(
    const floating[:, ::1] X, const floating[:, :] Y, const double* mu, const double* ybar,
    Py_ssize_t start, Py_ssize_t stop, double* G, double* C, double* yy, double* xc,
    const double* sample_weight,
) noexcept nogil:
    """Add the centred rows start..stop-1, each times its weight (1 when sample_weight is
    NULL), into G's lower triangle, C and yy.

    `xc` is scratch for 4 centred rows (4 d doubles), 4 centred targets (4 k) and the
    same 4 rows times their weights (4 d).
    """
    cdef Py_ssize_t d = X.shape[1], k = Y.shape[1], i = start, j, l, o, r, n_r
    cdef double* yc = xc + 4 * d
    # Without weights the weighted rows are the rows (inlined with NULL, no copy is made).
    cdef double* wxc = xc if sample_weight == NULL else xc + 4 * d + 4 * k
    cdef double a0, a1, a2, a3, w
    cdef double* g
    while i < stop:
        n_r = 4 if i + 4 <= stop else 1
        for r in range(n_r):
            w = 1.0 if sample_weight == NULL else sample_weight[i + r]
            for j in range(d):
                xc[r * d + j] = X[i + r, j] - mu[j]
                if sample_weight != NULL:
                    wxc[r * d + j] = w * xc[r * d + j]
            for o in range(k):
                yc[r * k + o] = Y[i + r, o] - ybar[o]
                yy[0] += w * yc[r * k + o] * yc[r * k + o]
        if n_r == 4:
            for j in range(d):
                a0 = wxc[j]; a1 = wxc[d + j]; a2 = wxc[2 * d + j]; a3 = wxc[3 * d + j]
                g = G + j * d
                for l in range(j + 1):
                    g[l] = g[l] + ((a0 * xc[l] + a1 * xc[d + l]) + (a2 * xc[2 * d + l] + a3 * xc[3 * d + l]))
                for o in range(k):
                    C[j * k + o] += (a0 * yc[o] + a1 * yc[k + o]) + (a2 * yc[2 * k + o] + a3 * yc[3 * k + o])
        else:
            for j in range(d):
                a0 = wxc[j]
                g = G + j * d
                for l in range(j + 1):
                    g[l] = g[l] + a0 * xc[l]
                for o in range(k):
                    C[j * k + o] += a0 * yc[o]
        i += n_r


cdef extern from *:
    """
    /* A flag the threads of one pass share: volatile, so that a thread's loop re-reads
       it instead of keeping the first value in a register. */
    static inline int linreg_flag_get(volatile int* flag) { return *flag; }
    static inline void linreg_flag_set(volatile int* flag) { *flag = 1; }
    """
    int linreg_flag_get(int* flag) noexcept nogil
    void linreg_flag_set(int* flag) noexcept nogil


cdef void _gram_chunk(
    const floating[:, ::1] X, const floating[:, :] Y, const double* mu, const double* ybar,
    Py_ssize_t start, Py_ssize_t stop, double* G, double* C, double* yy, double* xc,
    int* interrupted, const double* sample_weight,
) noexcept nogil:
    """`_gram_rows` over start..stop-1, in blocks between which Ctrl-C is looked for
    (by Python's main thread, see _interrupt_requested) and obeyed (by every thread).

    The blocks are whole multiples of 4 rows, so the sums are exactly those of one call.
    """
    cdef Py_ssize_t d = X.shape[1], block, at = start, until
    block = INTERRUPT_CHECK_WORK // (d * d + 1)
    block = 4 if block < 4 else block // 4 * 4
    while at < stop:
        if linreg_flag_get(interrupted):
            return
        until = at + block if at + block < stop else stop
        # Two inlined copies, with and without weights (see _accumulate_rows).
        if sample_weight == NULL:
            _gram_rows(X, Y, mu, ybar, at, until, G, C, yy, xc, NULL)
        else:
            _gram_rows(X, Y, mu, ybar, at, until, G, C, yy, xc, sample_weight)
        at = until
        if at < stop and _interrupt_requested():
            linreg_flag_set(interrupted)
