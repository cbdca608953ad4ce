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


cdef extern from *:
    """
    /* G[j, :] += (a0 x0 + a1 x1) + (a2 x2 + a3 x3), one row of G's lower triangle for four
       centred rows x_r (a_r = x_r[j] times its row's weight). Rows of G are the only
       array written (`restrict`: otherwise gcc checked them against the rows for overlap
       before each one).
       AVX build: with 4-double vectors, the triangle taken by whole vectors (entries
       above the diagonal in the last one are computed and never read: the merge mirrors
       the lower triangle), a row's last partial vector entry by entry. Left to itself,
       gcc 12 turned the plain loop at d = 8 into shuffles across rows of G and spilled
       them (18 ms for 2^21 rows, X.T @ X + sums: 29 ms).
       Other builds: for up to LINREG_GRAM_SQUARE_MAX features the whole row (every row
       of G then has the same length, and its loop vectorizes without per-row set-up and
       tails), else the triangle. The entries on and below the diagonal are the same. */
    #define LINREG_GRAM_SQUARE_MAX 16
    #if defined(__AVX__) && (defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 9))
    typedef double linreg_gram_d4 __attribute__((vector_size(32), aligned(8), may_alias));
    static inline __attribute__((always_inline)) void linreg_gram_row4(
            double* restrict g, const double* restrict x0, const double* restrict x1,
            const double* restrict x2, const double* restrict x3, double a0, double a1,
            double a2, double a3, Py_ssize_t j, Py_ssize_t d) {
        const Py_ssize_t whole = d & ~(Py_ssize_t) 3;  /* columns in whole vectors */
        Py_ssize_t l = 0;
        for (; l <= j && l < whole; l += 4)
            *(linreg_gram_d4*) (g + l) = *(linreg_gram_d4*) (g + l)
                + ((a0 * *(const linreg_gram_d4*) (x0 + l) + a1 * *(const linreg_gram_d4*) (x1 + l))
                   + (a2 * *(const linreg_gram_d4*) (x2 + l) + a3 * *(const linreg_gram_d4*) (x3 + l)));
        for (; l <= j; l++)
            g[l] = g[l] + ((a0 * x0[l] + a1 * x1[l]) + (a2 * x2[l] + a3 * x3[l]));
    }
    #if defined(LINREG_AVX512_KERNELS)
    /* avx512 build: the same with 8-double vectors, then one of 4, compiled for AVX-512,
       with the loops that inline it ("wide": 8 and 16 features, and any other width
       above 16 or with several outputs, weighted or not). The loops for 1 to 7 and 9 to
       15 features keep the AVX2 code: compiled for AVX-512 they took 1.1-1.3x its time
       (float64, 2e5 rows, one thread: 2.4 against 2.1 ns a row at d = 2, 7.0 against
       5.7 at d = 7, 10.0 against 9.0 at d = 12; at d = 8 5.2 against 5.7, at d = 16
       12.6 against 14.3). */
    #define LINREG_GRAM_WIDE_FN static __attribute__((target(LINREG_AVX512_TARGET)))
    /* |Yc|^2 of a row in the order of the outputs, a chain of FMAs, which gcc 12 does not
       vectorize: compiled for AVX-512 it vectorized `s += v * v` for unit-stride Y only
       (a copy of the loop for y_col == 1), so a C- and a Fortran-ordered Y gave
       different bits. */
    #define LINREG_GRAM_WIDE_ADD_SQUARE(s, v) ((s) = __builtin_fma((v), (v), (s)))
    typedef double linreg_gram_d8 __attribute__((vector_size(64), aligned(8), may_alias));
    LINREG_GRAM_WIDE_FN inline __attribute__((always_inline)) void linreg_gram_row(
            double* restrict g, const double* restrict x0, const double* restrict x1,
            const double* restrict x2, const double* restrict x3, double a0, double a1,
            double a2, double a3, Py_ssize_t j, Py_ssize_t d) {
        /* d = 8 keeps the 4-double vectors: 1.1x the time with one 8-double vector a row */
        const Py_ssize_t whole8 = d > 8 ? d & ~(Py_ssize_t) 7 : 0, whole4 = d & ~(Py_ssize_t) 3;
        Py_ssize_t l = 0;
        for (; l <= j && l < whole8; l += 8)
            *(linreg_gram_d8*) (g + l) = *(linreg_gram_d8*) (g + l)
                + ((a0 * *(const linreg_gram_d8*) (x0 + l) + a1 * *(const linreg_gram_d8*) (x1 + l))
                   + (a2 * *(const linreg_gram_d8*) (x2 + l) + a3 * *(const linreg_gram_d8*) (x3 + l)));
        for (; l <= j && l < whole4; l += 4)
            *(linreg_gram_d4*) (g + l) = *(linreg_gram_d4*) (g + l)
                + ((a0 * *(const linreg_gram_d4*) (x0 + l) + a1 * *(const linreg_gram_d4*) (x1 + l))
                   + (a2 * *(const linreg_gram_d4*) (x2 + l) + a3 * *(const linreg_gram_d4*) (x3 + l)));
        for (; l <= j; l++)
            g[l] = g[l] + ((a0 * x0[l] + a1 * x1[l]) + (a2 * x2[l] + a3 * x3[l]));
    }
    #else
    #define LINREG_GRAM_WIDE_FN static
    #define LINREG_GRAM_WIDE_ADD_SQUARE(s, v) ((s) += (v) * (v))
    #define linreg_gram_row linreg_gram_row4
    #endif
    #else
    #define LINREG_GRAM_WIDE_FN static
    #define LINREG_GRAM_WIDE_ADD_SQUARE(s, v) ((s) += (v) * (v))
    static inline __attribute__((always_inline)) void linreg_gram_row(
            double* restrict g, const double* restrict x0, const double* restrict x1,
            const double* restrict x2, const double* restrict x3, double a0, double a1,
            double a2, double a3, Py_ssize_t j, Py_ssize_t d) {
        const Py_ssize_t width = d <= LINREG_GRAM_SQUARE_MAX ? d : j + 1;
        for (Py_ssize_t l = 0; l < width; l++)
            g[l] = g[l] + ((a0 * x0[l] + a1 * x1[l]) + (a2 * x2[l] + a3 * x3[l]));
    }
    #define linreg_gram_row4 linreg_gram_row
    #endif
    /* The loops for the widths that keep the AVX2 code (the same as "wide" outside the
       avx512 build). */
    #define LINREG_GRAM_NARROW_FN static
    #define LINREG_GRAM_NARROW_ADD_SQUARE(s, v) ((s) += (v) * (v))
    #define LINREG_GRAM_WIDE_ROW linreg_gram_row
    #define LINREG_GRAM_NARROW_ROW linreg_gram_row4

    /* Rows 0..4 groups - 1 of X (rows x_step elements apart) and Y (y_row, y_col):
       centred into xc (4 d doubles) and yc (4 k), added into G, C (d, k); returns yy plus
       their |Yc|^2; WEIGHTED: each row's terms times its weight sw[i] (the left factor
       a_r of G's and C's terms, and the row's |yc|^2). The arithmetic of `_gram_rows`, in C, compiled once per
       width up to 16 with one output (D, K constants; D = 0 and K = 0 take d and k as
       given), so that the loops over a row unroll: at d = 8 the loop Cython wrote spent
       more on its counters and tails than on the multiply-adds. */
    #define LINREG_GRAM_GROUPS(NAME, T, D, K, KIND, WEIGHTED)                            \
    LINREG_GRAM_##KIND##_FN double NAME(const T* restrict X, Py_ssize_t x_step, const T* restrict Y,      \
                       Py_ssize_t y_row, Py_ssize_t y_col, Py_ssize_t groups,            \
                       Py_ssize_t d_given, Py_ssize_t k_given, const double* restrict mu, \
                       const double* restrict ybar, double* restrict G,                  \
                       double* restrict C, double* restrict xc, double yy,               \
                       const double* restrict sw) {                                      \
        const Py_ssize_t d = D ? D : d_given, k = K ? K : k_given;                       \
        double* restrict yc = xc + 4 * d;                                                \
        (void) sw;                                                                       \
        for (Py_ssize_t m = 0; m < groups; m++) {                                        \
            double row_yy[4];  /* each row's |yc|^2, then the group's: 4 short chains */ \
            double wr[4] = {1.0, 1.0, 1.0, 1.0};                                         \
            if (WEIGHTED)                                                                \
                for (Py_ssize_t r = 0; r < 4; r++) wr[r] = sw[4 * m + r];                \
            for (Py_ssize_t r = 0; r < 4; r++) {                                         \
                const T* restrict x = X + (4 * m + r) * x_step;                          \
                const T* restrict y = Y + (4 * m + r) * y_row;                           \
                double s = 0.0;                                                          \
                for (Py_ssize_t j = 0; j < d; j++)                                       \
                    xc[r * d + j] = (double) x[j] - mu[j];                               \
                for (Py_ssize_t o = 0; o < k; o++) {                                     \
                    const double v = (double) y[o * y_col] - ybar[o];                    \
                    yc[r * k + o] = v;                                                   \
                    LINREG_GRAM_##KIND##_ADD_SQUARE(s, v);                               \
                }                                                                        \
                row_yy[r] = WEIGHTED ? wr[r] * s : s;                                    \
            }                                                                            \
            yy += (row_yy[0] + row_yy[1]) + (row_yy[2] + row_yy[3]);                     \
            for (Py_ssize_t j = 0; j < d; j++) {                                         \
                const double a0 = WEIGHTED ? wr[0] * xc[j] : xc[j];                      \
                const double a1 = WEIGHTED ? wr[1] * xc[d + j] : xc[d + j];              \
                const double a2 = WEIGHTED ? wr[2] * xc[2 * d + j] : xc[2 * d + j];      \
                const double a3 = WEIGHTED ? wr[3] * xc[3 * d + j] : xc[3 * d + j];      \
                LINREG_GRAM_##KIND##_ROW(G + j * d, xc, xc + d, xc + 2 * d, xc + 3 * d,  \
                                a0, a1, a2, a3, j, d);                                   \
                for (Py_ssize_t o = 0; o < k; o++)                                       \
                    C[j * k + o] += (a0 * yc[o] + a1 * yc[k + o])                        \
                                    + (a2 * yc[2 * k + o] + a3 * yc[3 * k + o]);         \
            }                                                                            \
        }                                                                                \
        return yy;                                                                       \
    }
    #define LINREG_GRAM_WIDTHS(T, S, W)                                                     \
        LINREG_GRAM_GROUPS(linreg_gram_groups_##S##_any, T, 0, 0, WIDE, W)                  \
        LINREG_GRAM_GROUPS(linreg_gram_groups_##S##_1, T, 1, 1, NARROW, W)                  \
        LINREG_GRAM_GROUPS(linreg_gram_groups_##S##_2, T, 2, 1, NARROW, W)                  \
        LINREG_GRAM_GROUPS(linreg_gram_groups_##S##_3, T, 3, 1, NARROW, W)                  \
        LINREG_GRAM_GROUPS(linreg_gram_groups_##S##_4, T, 4, 1, NARROW, W)                  \
        LINREG_GRAM_GROUPS(linreg_gram_groups_##S##_5, T, 5, 1, NARROW, W)                  \
        LINREG_GRAM_GROUPS(linreg_gram_groups_##S##_6, T, 6, 1, NARROW, W)                  \
        LINREG_GRAM_GROUPS(linreg_gram_groups_##S##_7, T, 7, 1, NARROW, W)                  \
        LINREG_GRAM_GROUPS(linreg_gram_groups_##S##_8, T, 8, 1, WIDE, W)                    \
        LINREG_GRAM_GROUPS(linreg_gram_groups_##S##_9, T, 9, 1, NARROW, W)                  \
        LINREG_GRAM_GROUPS(linreg_gram_groups_##S##_10, T, 10, 1, NARROW, W)                \
        LINREG_GRAM_GROUPS(linreg_gram_groups_##S##_11, T, 11, 1, NARROW, W)                \
        LINREG_GRAM_GROUPS(linreg_gram_groups_##S##_12, T, 12, 1, NARROW, W)                \
        LINREG_GRAM_GROUPS(linreg_gram_groups_##S##_13, T, 13, 1, NARROW, W)                \
        LINREG_GRAM_GROUPS(linreg_gram_groups_##S##_14, T, 14, 1, NARROW, W)                \
        LINREG_GRAM_GROUPS(linreg_gram_groups_##S##_15, T, 15, 1, NARROW, W)                \
        LINREG_GRAM_GROUPS(linreg_gram_groups_##S##_16, T, 16, 1, WIDE, W)                  \
        typedef double (*linreg_gram_groups_##S##_fn)(                                   \
            const T*, Py_ssize_t, const T*, Py_ssize_t, Py_ssize_t, Py_ssize_t,           \
            Py_ssize_t, Py_ssize_t, const double*, const double*, double*, double*,      \
            double*, double, const double*);                                                            \
        static double linreg_gram_groups_##S(                                            \
                const T* X, Py_ssize_t x_step, const T* Y, Py_ssize_t y_row,              \
                Py_ssize_t y_col, Py_ssize_t groups, Py_ssize_t d, Py_ssize_t k,          \
                const double* mu, const double* ybar, double* G, double* C, double* xc,  \
                double yy, const double* sw) {                                                             \
            /* A table, not a switch: gcc would inline every width into one function. */ \
            static const linreg_gram_groups_##S##_fn by_width[17] = {                    \
                0, linreg_gram_groups_##S##_1, linreg_gram_groups_##S##_2,               \
                linreg_gram_groups_##S##_3, linreg_gram_groups_##S##_4, linreg_gram_groups_##S##_5,\
                linreg_gram_groups_##S##_6, linreg_gram_groups_##S##_7, linreg_gram_groups_##S##_8,\
                linreg_gram_groups_##S##_9, linreg_gram_groups_##S##_10, linreg_gram_groups_##S##_11,\
                linreg_gram_groups_##S##_12, linreg_gram_groups_##S##_13, linreg_gram_groups_##S##_14,\
                linreg_gram_groups_##S##_15, linreg_gram_groups_##S##_16};               \
            linreg_gram_groups_##S##_fn f = (k == 1 && d <= 16) ? by_width[d]           \
                                                                : linreg_gram_groups_##S##_any; \
            return f(X, x_step, Y, y_row, y_col, groups, d, k, mu, ybar, G, C, xc, yy, sw);  \
        }
    LINREG_GRAM_WIDTHS(double, f64, 0)
    LINREG_GRAM_WIDTHS(float, f32, 0)
    /* With sample weights: linreg_gram_groups_wf64 and _wf32. */
    LINREG_GRAM_WIDTHS(double, wf64, 1)
    LINREG_GRAM_WIDTHS(float, wf32, 1)
    """
    double linreg_gram_groups_f64(
        const double* X, Py_ssize_t x_step, const double* Y, Py_ssize_t y_row,
        Py_ssize_t y_col, Py_ssize_t groups, Py_ssize_t d, Py_ssize_t k, const double* mu,
        const double* ybar, double* G, double* C, double* xc, double yy, const double* sw,
    ) noexcept nogil
    double linreg_gram_groups_f32(
        const float* X, Py_ssize_t x_step, const float* Y, Py_ssize_t y_row,
        Py_ssize_t y_col, Py_ssize_t groups, Py_ssize_t d, Py_ssize_t k, const double* mu,
        const double* ybar, double* G, double* C, double* xc, double yy, const double* sw,
    ) noexcept nogil
    double linreg_gram_groups_wf64(
        const double* X, Py_ssize_t x_step, const double* Y, Py_ssize_t y_row,
        Py_ssize_t y_col, Py_ssize_t groups, Py_ssize_t d, Py_ssize_t k, const double* mu,
        const double* ybar, double* G, double* C, double* xc, double yy, const double* sw,
    ) noexcept nogil
    double linreg_gram_groups_wf32(
        const float* X, Py_ssize_t x_step, const float* Y, Py_ssize_t y_row,
        Py_ssize_t y_col, Py_ssize_t groups, Py_ssize_t d, Py_ssize_t k, const double* mu,
        const double* ybar, double* G, double* C, double* xc, double yy, const double* sw,
    ) noexcept nogil


cdef inline void _gram_rows(
    const floating[:, ::1] X, const floating[:, :] Y, const double* mu, const double* ybar,
    Py_ssize_t start, Py_ssize_t stop, double* G, double* C, double* yy, double* xc,
    const double* sample_weight,
) noexcept nogil:
    """Add the centred rows start..stop-1, each times its weight (1 when sample_weight is
    NULL), into G's lower triangle, C and yy.

    `xc` is scratch for 4 centred rows (4 d doubles) and 4 centred targets (4 k). The
    groups of four rows go to the C loops above (`linreg_gram_groups_*`, weighted or
    not); the last rows, fewer than four, stay here.
    """
    cdef Py_ssize_t d = X.shape[1], k = Y.shape[1], i = start, j, l, o
    cdef double* yc = xc + 4 * d
    cdef double a0, w
    cdef double* g
    # |Yc|^2 in a register: summed through yy, every row waited on a store and a load.
    cdef double yc_squares = yy[0]
    cdef Py_ssize_t groups = (stop - start) // 4
    cdef Py_ssize_t y_row = Y.strides[0] // <Py_ssize_t> sizeof(floating)
    cdef Py_ssize_t y_col = Y.strides[1] // <Py_ssize_t> sizeof(floating)
    if groups > 0 and sample_weight == NULL:
        if floating is double:
            yc_squares = linreg_gram_groups_f64(&X[start, 0], d, &Y[start, 0], y_row, y_col,
                                                groups, d, k, mu, ybar, G, C, xc, yc_squares,
                                                NULL)
        else:
            yc_squares = linreg_gram_groups_f32(&X[start, 0], d, &Y[start, 0], y_row, y_col,
                                                groups, d, k, mu, ybar, G, C, xc, yc_squares,
                                                NULL)
        i = start + 4 * groups
    elif groups > 0:
        if floating is double:
            yc_squares = linreg_gram_groups_wf64(&X[start, 0], d, &Y[start, 0], y_row, y_col,
                                                 groups, d, k, mu, ybar, G, C, xc, yc_squares,
                                                 sample_weight + start)
        else:
            yc_squares = linreg_gram_groups_wf32(&X[start, 0], d, &Y[start, 0], y_row, y_col,
                                                 groups, d, k, mu, ybar, G, C, xc, yc_squares,
                                                 sample_weight + start)
        i = start + 4 * groups
    while i < stop:  # w x a product exact for w = 1: the unweighted bits are unchanged
        w = 1.0 if sample_weight == NULL else sample_weight[i]
        for j in range(d):
            xc[j] = X[i, j] - mu[j]
        for o in range(k):
            yc[o] = Y[i, o] - ybar[o]
            yc_squares += w * yc[o] * yc[o]
        for j in range(d):
            a0 = w * xc[j]
            g = G + j * d
            for l in range(j + 1):
                g[l] = g[l] + a0 * xc[l]
            for o in range(k):
                C[j * k + o] += a0 * yc[o]
        i += 1
    yy[0] = yc_squares


cdef inline void _add_column_sums(
    const floating[:, ::1] X, const floating[:, :] Y, Py_ssize_t start, Py_ssize_t stop,
    const double* sample_weight, double* sums,
) noexcept nogil:
    """Add sum_i w_i x_i (d) and sum_i w_i y_i (k) over rows start..stop-1 into sums, in
    double. Unweighted, four rows are summed before they are added: adding each row
    into `sums` made every element wait on the previous row's store (float32, d = 8,
    2^21 rows: 5.7 ms, a fifth of the Gram pass; 2.3 ms by four rows)."""
    cdef Py_ssize_t d = X.shape[1], k = Y.shape[1], i = start, j, o
    cdef double wi
    if sample_weight == NULL:
        while i + 4 <= stop:
            for j in range(d):
                sums[j] += ((<double> X[i, j] + <double> X[i + 1, j])
                            + (<double> X[i + 2, j] + <double> X[i + 3, j]))
            for o in range(k):
                sums[d + o] += ((<double> Y[i, o] + <double> Y[i + 1, o])
                                + (<double> Y[i + 2, o] + <double> Y[i + 3, o]))
            i += 4
    while i < stop:
        wi = 1.0 if sample_weight == NULL else sample_weight[i]
        for j in range(d):
            sums[j] += wi * X[i, j]
        for o in range(k):
            sums[d + o] += wi * Y[i, o]
        i += 1


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


cdef enum:
    # Rows a run of `centre_rows`'s sums adds up before it goes into the totals.
    CENTRE_RUN_ROWS = 256


cdef void _centre_run(
    const floating[:, ::1] X, const floating[:, ::1] Y, const floating* c, const double* sw,
    floating[:, ::1] out, Py_ssize_t start, Py_ssize_t stop, bint with_cross,
    double* part,
) noexcept nogil:
    """`centre_rows` on rows start..stop-1 (one run): their centred rows into out, their
    sums into part (zeroed here: d + k column sums, then, with_cross, d k + 1 cross
    products; k more doubles of scratch after them)."""
    cdef Py_ssize_t d = X.shape[1], k = Y.shape[1], i, j, o
    cdef Py_ssize_t width = d + k + (d * k + 1 if with_cross else 0)
    cdef bint fused = with_cross and k == 1
    cdef bint targets_out = out.shape[1] >= d + k
    cdef double* s = part
    cdef double* xy = part + d + k
    cdef double* wy = part + width  # w_i (Y[i, o] - shift[d + o]), this row's
    cdef const floating* x
    cdef floating* row
    cdef floating root = 1
    cdef double w = 1.0, yc
    memset(part, 0, width * sizeof(double))
    for i in range(start, stop):
        x = &X[i, 0]
        row = &out[i, 0]
        if sw != NULL:
            w = sw[i]
            root = <floating> sqrt(w)
        for o in range(k):
            yc = <double> Y[i, o] - <double> c[d + o]
            wy[o] = w * yc
            s[d + o] += wy[o]
            if targets_out:
                row[d + o] = (Y[i, o] - c[d + o]) * root
            if with_cross:
                xy[d * k] += wy[o] * yc
        # One output's X^T y in the same loop as the sums (the row is read once); more
        # outputs in loops of their own below.
        if sw == NULL:
            for j in range(d):
                row[j] = x[j] - c[j]
            # A loop of its own that reads the stored differences: in one loop,
            # -fassociative-math let gcc add s[j] + x[j] - c[j] in another order, which
            # put the rounding of x (not of x - c) into the sums (float64: the means
            # 5e-14 off, not 1e-15). float32: the difference in double, exact (float32's
            # rounding would put ~1e-8 of a column's spread into its mean).
            if floating is double:
                if fused:
                    for j in range(d):
                        s[j] += row[j]
                        xy[j] += wy[0] * row[j]
                else:
                    for j in range(d):
                        s[j] += row[j]
            else:
                if fused:
                    for j in range(d):
                        s[j] += <double> x[j] - <double> c[j]
                        xy[j] += wy[0] * (<double> x[j] - <double> c[j])
                else:
                    for j in range(d):
                        s[j] += <double> x[j] - <double> c[j]
        else:
            for j in range(d):
                row[j] = (x[j] - c[j]) * root
                s[j] += w * (<double> x[j] - <double> c[j])
            if fused:
                for j in range(d):
                    xy[j] += wy[0] * (<double> x[j] - <double> c[j])
        if with_cross and not fused:
            for o in range(k):
                for j in range(d):
                    xy[o * d + j] += wy[o] * (<double> x[j] - <double> c[j])


def centre_rows(
    const floating[:, ::1] X,
    const floating[:, ::1] Y,
    const floating[::1] shift,
    const double[::1] sample_weight,
    floating[:, ::1] out,
    double[::1] sums,
    double[::1] cross,
    int n_threads=1,
):
    """One block of the Gram pass's products path (linreg._gram), in one read of its rows:
    out[i, j] = r_i (X[i, j] - shift[j]) for j < d, with r_i the root of row i's weight
    (1 without weights) rounded to X's dtype, and, when out has d + k columns, out[i,
    d + o] = r_i (Y[i, o] - shift[d + o]). Added in double: sums[j] +=
    w_i (X[i, j] - shift[j]), sums[d + o] += w_i (Y[i, o] - shift[d + o]) and, unless
    `cross` is None, cross[o d + j] += w_i (X[i, j] - shift[j]) (Y[i, o] - shift[d + o])
    and cross[k d] += w_i (Y[i, o] - shift[d + o])^2: the targets' products without a
    syrk on d + k columns (OpenBLAS's edge kernels made 65 columns cost more than 64).
    The sums of each run of CENTRE_RUN_ROWS rows are taken apart, in row order, then
    added into the totals in run order: the runs may go to up to n_threads threads
    (at d = 64 the centring was as long as the products on two threads) and the bits
    do not depend on it. The caller checks the shapes (X: (m, d), Y: (m, k),
    sample_weight: (m,) or None, out: (m, >= d))."""
    cdef Py_ssize_t m = X.shape[0], d = X.shape[1], k = Y.shape[1], j, r
    cdef bint with_cross = cross is not None
    cdef Py_ssize_t width = d + k + (d * k + 1 if with_cross else 0)
    cdef Py_ssize_t stride = _whole_lines(width + k)  # a run's sums and scratch
    cdef Py_ssize_t n_runs = (m + CENTRE_RUN_ROWS - 1) // CENTRE_RUN_ROWS
    cdef const double* sw = NULL if sample_weight is None else &sample_weight[0]
    cdef void* block = NULL
    cdef double* parts
    cdef double* total_s = &sums[0]
    cdef double* total_xy = NULL if cross is None else &cross[0]
    cdef int threads = 1 if n_threads < 1 else n_threads
    if threads > n_runs:
        threads = <int> n_runs
    if m == 0:
        return
    parts = _alloc_lines(n_runs * stride, &block)
    if parts == NULL:
        raise MemoryError()
    with nogil:
        # Runs of CENTRE_RUN_ROWS rows are summed apart, then added into the totals:
        # one sum over all the rows, in order, was 1e-15 off (|Y|^2, 10^4 rows) where a
        # syrk's, summed in BLAS's panels of rows, was 1e-16.
        for r in prange(n_runs, num_threads=threads, schedule="static"):
            _centre_run(X, Y, &shift[0], sw, out, r * CENTRE_RUN_ROWS,
                        min((r + 1) * CENTRE_RUN_ROWS, m), with_cross, parts + r * stride)
        for r in range(n_runs):
            for j in range(d + k):
                total_s[j] += parts[r * stride + j]
            if total_xy != NULL:
                for j in range(d * k + 1):
                    total_xy[j] += parts[r * stride + d + k + j]
    free(block)
