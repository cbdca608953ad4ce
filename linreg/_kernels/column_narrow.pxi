# Narrow Fortran-ordered X (2 to LNAR_MAX = 16 columns, one output, sample weights or not):
# every column side by side, a cache line of rows at a time, in one pass.
#
# The blocked pipeline of columns.pxi reads each column a block of rows at a time and
# reads the block again for the gradient; it pays per block and per group of four
# columns (the residual run stored and reloaded, the block's ends, the d % 4 columns in
# loops of their own). With few columns those costs were the pass (2^25 elements, one
# thread, Fortran / C time, float32 / float64): fused epoch d = 2 3.6 / 2.5x, d = 3
# 3.1 / 2.5x, d = 8 1.9 / 1.5x, d = 16 1.6 / 1.4x; predict d = 8 1.5 / 1.3x. Here the
# columns are d long streams, which the hardware prefetcher follows (each is also
# asked for LNAR_AHEAD_BYTES ahead, once per line), and a line of rows' residuals stays
# in registers from its dot products to its gradient terms: X is read once. Same run:
# fused epoch 1.1-1.3x at d = 2 to 16 (0.7x at d = 5 and 6, where the C-order pass has
# no loop of its own), predict 0.6-1.3x. More columns side by side lose: at d = 32 with
# 2^20 rows every column's line falls in one cache set (3.4x; the blocks of four
# columns take d > 16), and float32 predict at d = 20 to 28 took 1.4-1.7x.
#
# Precision as in the C-order pass: float32 sums a row's products in float32 and adds
# them to the bias and -y in double; the loss's sums are in double; the gradient's
# terms take the residuals rounded to float32, each lane summing 8 rows' terms in
# float32 before they are promoted to double (float64: all in double); with sample
# weights v, the loss sums v r^2 and v r, the gradient v r x. The rows past
# the last whole line take the same step, copied into a zero-padded one with their
# residuals masked to 0 past them (a scalar loop there was compiled twice, for a
# contiguous y and a strided one, with different roundings). The result depends on
# the rows a chunk holds only, not on the thread count.

cdef extern from *:
    """
    #define LNAR_MAX 16
    #define LNAR_AHEAD_BYTES 1024
    #if LCOL_AVX
    /* float64, one step: 8 rows (a line of each column) at x + j cs. The residuals
       r = x . w + bias - y and q = v r (v: the rows' sample weights, 0 for the padding
       of a last partial step; v NULL: 1) go into the loss's sums (q r and q) and the
       gradient's (q x, into acc); predict (!grad) returns x . w + bias in r0, r1. */
    static inline __attribute__((always_inline)) void lnar_step_d(
        const double* x, Py_ssize_t cs, const int d, const __m256d* wv, __m256d vb,
        const double* y, Py_ssize_t ys, const double* v, const int grad,
        __m256d* acc, __m256d* e, __m256d* t, __m256d* r0, __m256d* r1)
    {
        __m256d a0 = _mm256_setzero_pd(), a1 = a0, b0 = a0, b1 = a0, q0, q1;
        int j;
        for (j = 0; j < d; j++) {
            const double* c = x + j * cs;
            LINREG_PREFETCH((const char*) c + LNAR_AHEAD_BYTES);
            if (j & 1) {
                b0 = _mm256_fmadd_pd(_mm256_loadu_pd(c), wv[j], b0);
                b1 = _mm256_fmadd_pd(_mm256_loadu_pd(c + 4), wv[j], b1);
            } else {
                a0 = _mm256_fmadd_pd(_mm256_loadu_pd(c), wv[j], a0);
                a1 = _mm256_fmadd_pd(_mm256_loadu_pd(c + 4), wv[j], a1);
            }
        }
        *r0 = _mm256_add_pd(_mm256_add_pd(a0, b0), vb);
        *r1 = _mm256_add_pd(_mm256_add_pd(a1, b1), vb);
        if (!grad) return;
        if (ys == 1) {
            *r0 = _mm256_sub_pd(*r0, _mm256_loadu_pd(y));
            *r1 = _mm256_sub_pd(*r1, _mm256_loadu_pd(y + 4));
        } else {
            *r0 = _mm256_sub_pd(*r0, _mm256_set_pd(y[3 * ys], y[2 * ys], y[ys], y[0]));
            *r1 = _mm256_sub_pd(*r1, _mm256_set_pd(y[7 * ys], y[6 * ys], y[5 * ys], y[4 * ys]));
        }
        q0 = *r0; q1 = *r1;
        if (v != NULL) {
            q0 = _mm256_mul_pd(q0, _mm256_loadu_pd(v));
            q1 = _mm256_mul_pd(q1, _mm256_loadu_pd(v + 4));
        }
        e[0] = _mm256_fmadd_pd(q0, *r0, e[0]); e[1] = _mm256_fmadd_pd(q1, *r1, e[1]);
        t[0] = _mm256_add_pd(t[0], q0); t[1] = _mm256_add_pd(t[1], q1);
        for (j = 0; j < d; j++) {
            const double* c = x + j * cs;
            acc[j] = _mm256_fmadd_pd(_mm256_loadu_pd(c + 4), q1,
                                     _mm256_fmadd_pd(_mm256_loadu_pd(c), q0, acc[j]));
        }
    }

    /* float32, one step: 16 rows; the products and the gradient's terms in float32 (its
       lanes promoted by the caller), the residuals and the loss's sums in double. */
    static inline __attribute__((always_inline)) void lnar_step_f(
        const float* x, Py_ssize_t cs, const int d, const __m256* wv, __m256d vb,
        const float* y, Py_ssize_t ys, const double* v, const int grad,
        __m256* acc, __m256d* e, __m256d* t, __m256d* r)
    {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, b0 = a0, b1 = a0, s0, s1, q0, q1;
        __m256d q[4];
        int j;
        for (j = 0; j < d; j++) {
            const float* c = x + j * cs;
            LINREG_PREFETCH((const char*) c + LNAR_AHEAD_BYTES);
            if (j & 1) {
                b0 = _mm256_fmadd_ps(_mm256_loadu_ps(c), wv[j], b0);
                b1 = _mm256_fmadd_ps(_mm256_loadu_ps(c + 8), wv[j], b1);
            } else {
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(c), wv[j], a0);
                a1 = _mm256_fmadd_ps(_mm256_loadu_ps(c + 8), wv[j], a1);
            }
        }
        s0 = _mm256_add_ps(a0, b0); s1 = _mm256_add_ps(a1, b1);
        r[0] = _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(s0)), vb);
        r[1] = _mm256_add_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(s0, 1)), vb);
        r[2] = _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(s1)), vb);
        r[3] = _mm256_add_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(s1, 1)), vb);
        if (!grad) return;
        if (ys == 1) {
            __m256 y0 = _mm256_loadu_ps(y), y1 = _mm256_loadu_ps(y + 8);
            r[0] = _mm256_sub_pd(r[0], _mm256_cvtps_pd(_mm256_castps256_ps128(y0)));
            r[1] = _mm256_sub_pd(r[1], _mm256_cvtps_pd(_mm256_extractf128_ps(y0, 1)));
            r[2] = _mm256_sub_pd(r[2], _mm256_cvtps_pd(_mm256_castps256_ps128(y1)));
            r[3] = _mm256_sub_pd(r[3], _mm256_cvtps_pd(_mm256_extractf128_ps(y1, 1)));
        } else {
            double v[16];
            for (j = 0; j < 16; j++) v[j] = (double) y[j * ys];
            for (j = 0; j < 4; j++) r[j] = _mm256_sub_pd(r[j], _mm256_loadu_pd(v + 4 * j));
        }
        for (j = 0; j < 4; j++)
            q[j] = v == NULL ? r[j] : _mm256_mul_pd(r[j], _mm256_loadu_pd(v + 4 * j));
        e[0] = _mm256_fmadd_pd(q[0], r[0], _mm256_fmadd_pd(q[1], r[1], e[0]));
        e[1] = _mm256_fmadd_pd(q[2], r[2], _mm256_fmadd_pd(q[3], r[3], e[1]));
        t[0] = _mm256_add_pd(t[0], _mm256_add_pd(q[0], q[1]));
        t[1] = _mm256_add_pd(t[1], _mm256_add_pd(q[2], q[3]));
        q0 = _mm256_set_m128(_mm256_cvtpd_ps(q[1]), _mm256_cvtpd_ps(q[0]));
        q1 = _mm256_set_m128(_mm256_cvtpd_ps(q[3]), _mm256_cvtpd_ps(q[2]));
        for (j = 0; j < d; j++) {
            const float* c = x + j * cs;
            acc[j] = _mm256_fmadd_ps(_mm256_loadu_ps(c + 8), q1,
                                     _mm256_fmadd_ps(_mm256_loadu_ps(c), q0, acc[j]));
        }
    }

    /* Rows 0..m-1 of the d columns at x + j cs (y's stride ys; sample weights v_i = sw[i],
       or 1 when sw is NULL): g[j] += sum_i v_i r_i x_ij, *sse += sum_i v_i r_i^2,
       *total += sum_i v_i r_i; or (!grad) out[i os] = x_i . w + bias. The rows past the
       last whole step are copied into a zero-padded step whose extra rows weigh 0, so
       that every row takes the same arithmetic. */
    static inline __attribute__((always_inline)) void lnar_d(
        const double* x, Py_ssize_t cs, const int d, Py_ssize_t m, const double* w,
        double bias, const double* y, Py_ssize_t ys, const double* sw, double* g,
        double* sse, double* total, const int grad, double* out, Py_ssize_t os)
    {
        __m256d acc[LNAR_MAX], wv[LNAR_MAX], e[2], t[2], r0, r1;
        const __m256d vb = _mm256_set1_pd(bias);
        double px[LNAR_MAX * 8], py[8], pv[8], lanes[8];  /* the padded step: x, y, weights */
        Py_ssize_t i, whole = m & ~(Py_ssize_t) 7, rest = m - whole;
        int j;
        e[0] = e[1] = t[0] = t[1] = _mm256_setzero_pd();
        for (j = 0; j < d; j++) { acc[j] = e[0]; wv[j] = _mm256_set1_pd(w[j]); }
        for (i = 0; i < whole; i += 8) {
            lnar_step_d(x + i, cs, d, wv, vb, grad ? y + i * ys : NULL, ys,
                        sw == NULL ? NULL : sw + i, grad, acc, e, t, &r0, &r1);
            if (grad) continue;
            if (os == 1) {
                _mm256_storeu_pd(out + i, r0); _mm256_storeu_pd(out + i + 4, r1);
            } else {
                _mm256_storeu_pd(lanes, r0); _mm256_storeu_pd(lanes + 4, r1);
                for (j = 0; j < 8; j++) out[(i + j) * os] = lanes[j];
            }
        }
        if (rest) {
            for (i = 0; i < 8; i++) {
                pv[i] = i >= rest ? 0.0 : (sw == NULL ? 1.0 : sw[whole + i]);
                py[i] = i < rest && grad ? y[(whole + i) * ys] : 0.0;
                for (j = 0; j < d; j++) px[j * 8 + i] = i < rest ? x[j * cs + whole + i] : 0.0;
            }
            lnar_step_d(px, 8, d, wv, vb, py, 1, pv, grad, acc, e, t, &r0, &r1);
            if (!grad) {
                _mm256_storeu_pd(lanes, r0); _mm256_storeu_pd(lanes + 4, r1);
                for (i = 0; i < rest; i++) out[(whole + i) * os] = lanes[i];
            }
        }
        if (!grad) return;
        for (j = 0; j < d; j++) g[j] += lcol_lanes(acc[j]);
        *sse += lcol_lanes(_mm256_add_pd(e[0], e[1]));
        *total += lcol_lanes(_mm256_add_pd(t[0], t[1]));
    }

    static inline __attribute__((always_inline)) void lnar_f(
        const float* x, Py_ssize_t cs, const int d, Py_ssize_t m, const float* w,
        double bias, const float* y, Py_ssize_t ys, const double* sw, double* g,
        double* sse, double* total, const int grad, float* out, Py_ssize_t os)
    {
        __m256 acc[LNAR_MAX], wv[LNAR_MAX];
        __m256d dacc[LNAR_MAX], e[2], t[2], r[4];
        const __m256d vb = _mm256_set1_pd(bias);
        float px[LNAR_MAX * 16], py[16], fl[16];
        double pv[16];  /* the padded step's weights (0 past the rows) */
        Py_ssize_t i, whole = m & ~(Py_ssize_t) 15, rest = m - whole, step = 0;
        int j;
        e[0] = e[1] = t[0] = t[1] = _mm256_setzero_pd();
        for (j = 0; j < d; j++) {
            acc[j] = _mm256_setzero_ps(); dacc[j] = e[0]; wv[j] = _mm256_set1_ps(w[j]);
        }
        for (i = 0; i < whole; i += 16) {
            lnar_step_f(x + i, cs, d, wv, vb, grad ? y + i * ys : NULL, ys,
                        sw == NULL ? NULL : sw + i, grad, acc, e, t, r);
            if (!grad) {
                __m256 f0 = _mm256_set_m128(_mm256_cvtpd_ps(r[1]), _mm256_cvtpd_ps(r[0]));
                __m256 f1 = _mm256_set_m128(_mm256_cvtpd_ps(r[3]), _mm256_cvtpd_ps(r[2]));
                if (os == 1) {
                    _mm256_storeu_ps(out + i, f0); _mm256_storeu_ps(out + i + 8, f1);
                } else {
                    _mm256_storeu_ps(fl, f0); _mm256_storeu_ps(fl + 8, f1);
                    for (j = 0; j < 16; j++) out[(i + j) * os] = fl[j];
                }
            } else if (++step % LCOL_F32_LINES == 0) {  /* 8 rows a lane, then double */
                for (j = 0; j < d; j++) {
                    dacc[j] = _mm256_add_pd(dacc[j], lcol_promote(acc[j]));
                    acc[j] = _mm256_setzero_ps();
                }
            }
        }
        if (rest) {
            for (i = 0; i < 16; i++) {
                pv[i] = i >= rest ? 0.0 : (sw == NULL ? 1.0 : sw[whole + i]);
                py[i] = i < rest && grad ? y[(whole + i) * ys] : 0.0f;
                for (j = 0; j < d; j++) px[j * 16 + i] = i < rest ? x[j * cs + whole + i] : 0.0f;
            }
            lnar_step_f(px, 16, d, wv, vb, py, 1, pv, grad, acc, e, t, r);
            if (!grad) {
                _mm256_storeu_ps(fl, _mm256_set_m128(_mm256_cvtpd_ps(r[1]), _mm256_cvtpd_ps(r[0])));
                _mm256_storeu_ps(fl + 8, _mm256_set_m128(_mm256_cvtpd_ps(r[3]), _mm256_cvtpd_ps(r[2])));
                for (i = 0; i < rest; i++) out[(whole + i) * os] = fl[i];
            }
        }
        if (!grad) return;
        for (j = 0; j < d; j++) g[j] += lcol_lanes(_mm256_add_pd(dacc[j], lcol_promote(acc[j])));
        *sse += lcol_lanes(_mm256_add_pd(e[0], e[1]));
        *total += lcol_lanes(_mm256_add_pd(t[0], t[1]));
    }

    /* d a constant in each case: the loops over columns unrolled, the sums in registers */
    #define LNAR_CASES(F, ...) switch (d) { \\
        case 2: F(__VA_ARGS__, 2); break; case 3: F(__VA_ARGS__, 3); break;        \\
        case 4: F(__VA_ARGS__, 4); break; case 5: F(__VA_ARGS__, 5); break;        \\
        case 6: F(__VA_ARGS__, 6); break; case 7: F(__VA_ARGS__, 7); break;        \\
        case 8: F(__VA_ARGS__, 8); break; case 9: F(__VA_ARGS__, 9); break;        \\
        case 10: F(__VA_ARGS__, 10); break; case 11: F(__VA_ARGS__, 11); break;    \\
        case 12: F(__VA_ARGS__, 12); break; case 13: F(__VA_ARGS__, 13); break;    \\
        case 14: F(__VA_ARGS__, 14); break; case 15: F(__VA_ARGS__, 15); break;    \\
        default: F(__VA_ARGS__, 16); break; }
    #define LNAR_SUMS_D(x, cs, m, w, bias, y, ys, sw, g, sse, total, D) \\
        lnar_d(x, cs, D, m, w, bias, y, ys, sw, g, sse, total, 1, NULL, 0)
    #define LNAR_SUMS_F(x, cs, m, w, bias, y, ys, sw, g, sse, total, D) \\
        lnar_f(x, cs, D, m, w, bias, y, ys, sw, g, sse, total, 1, NULL, 0)
    #define LNAR_PRED_D(x, cs, m, w, bias, out, os, D) \\
        lnar_d(x, cs, D, m, w, bias, NULL, 0, NULL, NULL, NULL, NULL, 0, out, os)
    #define LNAR_PRED_F(x, cs, m, w, bias, out, os, D) \\
        lnar_f(x, cs, D, m, w, bias, NULL, 0, NULL, NULL, NULL, NULL, 0, out, os)
    static void lnar_sums_d(const double* x, Py_ssize_t cs, int d, Py_ssize_t m,
                            const double* w, double bias, const double* y, Py_ssize_t ys,
                            const double* sw, double* g, double* sse, double* total)
    { LNAR_CASES(LNAR_SUMS_D, x, cs, m, w, bias, y, ys, sw, g, sse, total) }
    static void lnar_sums_f(const float* x, Py_ssize_t cs, int d, Py_ssize_t m,
                            const float* w, double bias, const float* y, Py_ssize_t ys,
                            const double* sw, double* g, double* sse, double* total)
    { LNAR_CASES(LNAR_SUMS_F, x, cs, m, w, bias, y, ys, sw, g, sse, total) }
    static void lnar_predict_d(const double* x, Py_ssize_t cs, int d, Py_ssize_t m,
                               const double* w, double bias, double* out, Py_ssize_t os)
    { LNAR_CASES(LNAR_PRED_D, x, cs, m, w, bias, out, os) }
    static void lnar_predict_f(const float* x, Py_ssize_t cs, int d, Py_ssize_t m,
                               const float* w, double bias, float* out, Py_ssize_t os)
    { LNAR_CASES(LNAR_PRED_F, x, cs, m, w, bias, out, os) }
    #define LNAR_BUILT 1
    #else
    #define LNAR_BUILT 0
    static void lnar_sums_d(const double* x, Py_ssize_t cs, int d, Py_ssize_t m,
        const double* w, double bias, const double* y, Py_ssize_t ys, const double* sw,
        double* g, double* sse, double* total) { }
    static void lnar_sums_f(const float* x, Py_ssize_t cs, int d, Py_ssize_t m,
        const float* w, double bias, const float* y, Py_ssize_t ys, const double* sw,
        double* g, double* sse, double* total) { }
    static void lnar_predict_d(const double* x, Py_ssize_t cs, int d, Py_ssize_t m,
        const double* w, double bias, double* out, Py_ssize_t os) { }
    static void lnar_predict_f(const float* x, Py_ssize_t cs, int d, Py_ssize_t m,
        const float* w, double bias, float* out, Py_ssize_t os) { }
    #endif
    """
    int LNAR_BUILT
    int LNAR_MAX
    void lnar_sums_d(const double* x, Py_ssize_t cs, int d, Py_ssize_t m, const double* w,
                     double bias, const double* y, Py_ssize_t ys, const double* sw,
                     double* g, double* sse, double* total) noexcept nogil
    void lnar_sums_f(const float* x, Py_ssize_t cs, int d, Py_ssize_t m, const float* w,
                     double bias, const float* y, Py_ssize_t ys, const double* sw,
                     double* g, double* sse, double* total) noexcept nogil
    void lnar_predict_d(const double* x, Py_ssize_t cs, int d, Py_ssize_t m, const double* w,
                        double bias, double* out, Py_ssize_t os) noexcept nogil
    void lnar_predict_f(const float* x, Py_ssize_t cs, int d, Py_ssize_t m, const float* w,
                        double bias, float* out, Py_ssize_t os) noexcept nogil


cdef inline bint _narrow_columns_take(Py_ssize_t d, Py_ssize_t k) noexcept nogil:
    """Whether a pass over a Fortran-ordered X takes this file's loop."""
    return LNAR_BUILT and 2 <= d <= LNAR_MAX and k == 1


cdef inline double _narrow_column_sums(
    const floating[:, ::1] Xt, const floating[:, :] Y, Py_ssize_t start, Py_ssize_t stop,
    const WorkBuffers* work, double* grad_by_output, double* grad_bias,
) noexcept nogil:
    """`_column_block_sums` (columns.pxi) when `_narrow_columns_take`: rows start..stop-1
    (at least one) of X = Xt.T, one output, sample weights or not."""
    cdef Py_ssize_t cs = Xt.strides[0] // sizeof(floating), ys = Y.strides[0] // sizeof(floating)
    cdef const double* sw = NULL if work.sample_weight == NULL else work.sample_weight + start
    cdef double sse = 0.0
    if floating is double:
        lnar_sums_d(&Xt[0, start], cs, <int> Xt.shape[0], stop - start, work.w_by_output,
                    work.bias[0], &Y[start, 0], ys, sw, grad_by_output, &sse, grad_bias)
    else:
        lnar_sums_f(&Xt[0, start], cs, <int> Xt.shape[0], stop - start, work.w_by_output_f32,
                    work.bias[0], &Y[start, 0], ys, sw, grad_by_output, &sse, grad_bias)
    return sse


cdef inline void _narrow_column_predict(
    const floating[:, ::1] Xt, floating[:, :] out, const WorkBuffers* work,
    Py_ssize_t start, Py_ssize_t stop,
) noexcept nogil:
    """`_predict_columns` when `_narrow_columns_take`: rows start..stop-1 (at least one)."""
    cdef Py_ssize_t cs = Xt.strides[0] // sizeof(floating), os = out.strides[0] // sizeof(floating)
    if floating is double:
        lnar_predict_d(&Xt[0, start], cs, <int> Xt.shape[0], stop - start, work.w_by_output,
                       work.bias[0], &out[start, 0], os)
    else:
        lnar_predict_f(&Xt[0, start], cs, <int> Xt.shape[0], stop - start,
                       work.w_by_output_f32, work.bias[0], &out[start, 0], os)
