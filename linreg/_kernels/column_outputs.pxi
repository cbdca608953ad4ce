# Several outputs from a narrow Fortran-ordered X (1 to LNAR_MAX = 16 columns), in one
# pass: every column side by side, as column_narrow.pxi, each output's predictions a
# vector of rows. Predict for any number of outputs; the fused pass for 2 or 3.
#
# A column's values for consecutive rows are consecutive: a vector of them times the
# broadcast weight w_jo adds column j's term to output o's predictions of those rows.
# So the multiply-adds go along rows, one vector per output and step of rows (8 float32
# or 4 float64 rows a vector; 2 vectors a step for up to 4 outputs, so that enough
# independent sums are in flight), with no reduction across lanes: d k multiply-adds a
# vector of rows, the C-order loops' count, none wasted. Predict takes outputs 8
# (float32) or 4 (float64) at a time, the number of outputs in a group a constant in the
# compiled loop. Before, a Fortran X of few columns took the blocked pass over columns,
# one output at a time, or the copy of blocks into C order (k >= 5): 2^24 elements, one
# thread, Fortran time / C time, 1.2-3.6 (k = 2 to 8, d = 2 to 16).
#
# Precision as the C-order passes: a row's products summed in the data's dtype (float32:
# at most 16 of them, under F32_CHUNK), then the bias added (and y subtracted) in
# double; the fused pass's loss sums in double, float32's gradient terms from the
# residuals rounded to float32, 8 rows a lane, then double. The rows past the last
# whole step go through a zero-padded copy (weight 0 in the fused pass).

cdef extern from *:
    """
    #define LNOUT_SUMS_MAX_K 3  /* outputs of the fused pass here (lnout_sums_*) */
    #if LCOL_AVX
    /* Outputs o0..o0+NG-1 (NG a constant, at most 8) of rows 0..m-1 of the d columns at
       x + j cs, w (k, d) the weights by output: out[i orow + o ocol] = x_i . w_o + b_o;
       RV vectors of 8 rows a step. */
    static inline __attribute__((always_inline)) void lnout_f(
        const float* x, Py_ssize_t cs, const int d, Py_ssize_t m, const float* w,
        const double* bias, int o0, const int ng, const int rv, float* out,
        Py_ssize_t orow, Py_ssize_t ocol)
    {
        __m256 bw[LNAR_MAX * 8], acc[16], xv;
        float pad[LNAR_MAX * 16], lanes[16 * 8];
        const int step = 8 * rv;
        Py_ssize_t i, cstride;
        const float* xs;
        int j, o, h, r, rows;
        for (j = 0; j < d; j++)
            for (o = 0; o < ng; o++) bw[j * 8 + o] = _mm256_set1_ps(w[(o0 + o) * d + j]);
        for (i = 0; i < m; i += step) {
            rows = m - i < step ? (int) (m - i) : step;
            xs = x + i;
            cstride = cs;
            if (rows < step) {  /* the last rows, zero-padded */
                for (j = 0; j < d; j++)
                    for (r = 0; r < step; r++)
                        pad[j * step + r] = r < rows ? x[j * cs + i + r] : 0.0f;
                xs = pad;
                cstride = step;
            }
            for (o = 0; o < ng * rv; o++) acc[o] = _mm256_setzero_ps();
            for (j = 0; j < d; j++) {
                const float* c = xs + j * cstride;
                if (rows == step && (rv == 2 || (i & 15) == 0))  /* once a line */
                    LINREG_PREFETCH((const char*) c + LNAR_AHEAD_BYTES);
                for (h = 0; h < rv; h++) {
                    xv = _mm256_loadu_ps(c + 8 * h);
                    for (o = 0; o < ng; o++)
                        acc[o * rv + h] = _mm256_fmadd_ps(xv, bw[j * 8 + o], acc[o * rv + h]);
                }
            }
            for (o = 0; o < ng * rv; o++) {  /* the bias added in double, 8 rows at once */
                __m256d b = _mm256_set1_pd(bias[o0 + o / rv]);
                __m128 lo = _mm256_cvtpd_ps(_mm256_add_pd(
                    _mm256_cvtps_pd(_mm256_castps256_ps128(acc[o])), b));
                __m128 hi = _mm256_cvtpd_ps(_mm256_add_pd(
                    _mm256_cvtps_pd(_mm256_extractf128_ps(acc[o], 1)), b));
                _mm256_storeu_ps(lanes + 8 * o, _mm256_set_m128(hi, lo));
            }
            if (ng == 8 && ocol == 1 && rows == step) {  /* 8 rows of 8 outputs, transposed */
                linreg_t8x8_f32(lanes, 8, out + i * orow + o0, orow);
                continue;
            }
            for (r = 0; r < rows; r++)
                for (o = 0; o < ng; o++)
                    out[(i + r) * orow + (o0 + o) * ocol] = lanes[o * step + r];
        }
    }
    static inline __attribute__((always_inline)) void lnout_d(
        const double* x, Py_ssize_t cs, const int d, Py_ssize_t m, const double* w,
        const double* bias, int o0, const int ng, const int rv, double* out,
        Py_ssize_t orow, Py_ssize_t ocol)
    {
        __m256d bw[LNAR_MAX * 4], acc[8], xv;
        double pad[LNAR_MAX * 8], lanes[8 * 4];
        const int step = 4 * rv;
        Py_ssize_t i, cstride;
        const double* xs;
        int j, o, h, r, rows;
        for (j = 0; j < d; j++)
            for (o = 0; o < ng; o++) bw[j * 4 + o] = _mm256_set1_pd(w[(o0 + o) * d + j]);
        for (i = 0; i < m; i += step) {
            rows = m - i < step ? (int) (m - i) : step;
            xs = x + i;
            cstride = cs;
            if (rows < step) {
                for (j = 0; j < d; j++)
                    for (r = 0; r < step; r++)
                        pad[j * step + r] = r < rows ? x[j * cs + i + r] : 0.0;
                xs = pad;
                cstride = step;
            }
            for (o = 0; o < ng * rv; o++) acc[o] = _mm256_setzero_pd();
            for (j = 0; j < d; j++) {
                const double* c = xs + j * cstride;
                if (rows == step && (i & 7) == 0)  /* once a line */
                    LINREG_PREFETCH((const char*) c + LNAR_AHEAD_BYTES);
                for (h = 0; h < rv; h++) {
                    xv = _mm256_loadu_pd(c + 4 * h);
                    for (o = 0; o < ng; o++)
                        acc[o * rv + h] = _mm256_fmadd_pd(xv, bw[j * 4 + o], acc[o * rv + h]);
                }
            }
            for (o = 0; o < ng * rv; o++)
                _mm256_storeu_pd(lanes + 4 * o,
                                 _mm256_add_pd(acc[o], _mm256_set1_pd(bias[o0 + o / rv])));
            if (ng == 4 && ocol == 1 && rows == step) {  /* 2 x 4 rows of 4 outputs */
                linreg_t4x4_f64(lanes, 8, out + i * orow + o0, orow);
                linreg_t4x4_f64(lanes + 4, 8, out + (i + 4) * orow + o0, orow);
                continue;
            }
            for (r = 0; r < rows; r++)
                for (o = 0; o < ng; o++)
                    out[(i + r) * orow + (o0 + o) * ocol] = lanes[o * step + r];
        }
    }
    /* The fused pass's sums for the NG outputs (all of them) over rows 0..m-1:
       g[o d + j] += sum_i v_i r_io x_ij, gb[o] += sum_i v_i r_io, *sse += sum_i v_i r_io^2, with
       r_io = x_i . w_o + b_o - y[i yrow + o ycol] and v_i = sw[i] (1 when sw is NULL);
       the rows of a last partial step zero-padded, with weight 0. The residuals in
       double; float32's gradient terms from them rounded to float32, 8 rows a lane in
       float32, then double (as the C-order pass). */
    static inline __attribute__((always_inline)) void lnoutg_d(
        const double* x, Py_ssize_t cs, const int d, Py_ssize_t m, const double* w,
        const double* bias, const int ng, const double* y, Py_ssize_t yrow,
        Py_ssize_t ycol, const double* sw, double* g, double* gb, double* sse)
    {
        __m256d bw[LNAR_MAX * 4], ga[LNAR_MAX * 4], acc[8], q[8], t[4], vb[4], e, xv;
        double pad[LNAR_MAX * 8], py[4 * 8], pv[8];
        const int step = 8;
        Py_ssize_t i, cstride;
        const double* xs;
        int j, o, h, r, rows;
        e = _mm256_setzero_pd();
        for (o = 0; o < ng; o++) { t[o] = e; vb[o] = _mm256_set1_pd(bias[o]); }
        for (j = 0; j < d; j++)
            for (o = 0; o < ng; o++) {
                bw[j * 4 + o] = _mm256_set1_pd(w[o * d + j]);
                ga[j * 4 + o] = e;
            }
        for (i = 0; i < m; i += step) {
            rows = m - i < step ? (int) (m - i) : step;
            xs = x + i;
            cstride = cs;
            for (o = 0; o < ng; o++)
                for (r = 0; r < step; r++)
                    py[o * 8 + r] = r < rows ? y[(i + r) * yrow + o * ycol] : 0.0;
            for (r = 0; r < step; r++)
                pv[r] = r >= rows ? 0.0 : (sw == NULL ? 1.0 : sw[i + r]);
            if (rows < step) {
                for (j = 0; j < d; j++)
                    for (r = 0; r < step; r++)
                        pad[j * step + r] = r < rows ? x[j * cs + i + r] : 0.0;
                xs = pad;
                cstride = step;
            }
            for (o = 0; o < ng * 2; o++) acc[o] = _mm256_setzero_pd();
            for (j = 0; j < d; j++) {
                const double* c = xs + j * cstride;
                if (rows == step)
                    LINREG_PREFETCH((const char*) c + LNAR_AHEAD_BYTES);
                for (h = 0; h < 2; h++) {
                    xv = _mm256_loadu_pd(c + 4 * h);
                    for (o = 0; o < ng; o++)
                        acc[o * 2 + h] = _mm256_fmadd_pd(xv, bw[j * 4 + o], acc[o * 2 + h]);
                }
            }
            for (o = 0; o < ng; o++)
                for (h = 0; h < 2; h++) {
                    __m256d rr = _mm256_sub_pd(_mm256_add_pd(acc[o * 2 + h], vb[o]),
                                               _mm256_loadu_pd(py + o * 8 + 4 * h));
                    __m256d qq = _mm256_mul_pd(rr, _mm256_loadu_pd(pv + 4 * h));
                    e = _mm256_fmadd_pd(qq, rr, e);
                    t[o] = _mm256_add_pd(t[o], qq);
                    q[o * 2 + h] = qq;
                }
            for (j = 0; j < d; j++) {
                const double* c = xs + j * cstride;
                __m256d x0 = _mm256_loadu_pd(c), x1 = _mm256_loadu_pd(c + 4);
                for (o = 0; o < ng; o++)
                    ga[j * 4 + o] = _mm256_fmadd_pd(
                        x1, q[o * 2 + 1], _mm256_fmadd_pd(x0, q[o * 2], ga[j * 4 + o]));
            }
        }
        for (j = 0; j < d; j++)
            for (o = 0; o < ng; o++) g[o * d + j] += lcol_lanes(ga[j * 4 + o]);
        for (o = 0; o < ng; o++) gb[o] += lcol_lanes(t[o]);
        *sse += lcol_lanes(e);
    }
    static inline __attribute__((always_inline)) void lnoutg_f(
        const float* x, Py_ssize_t cs, const int d, Py_ssize_t m, const float* w,
        const double* bias, const int ng, const float* y, Py_ssize_t yrow,
        Py_ssize_t ycol, const double* sw, double* g, double* gb, double* sse)
    {
        __m256 bw[LNAR_MAX * 8], gf[LNAR_MAX * 8], acc[8], q[8], xv;
        __m256d ga[LNAR_MAX * 8], t[8], vb[8], e;
        float pad[LNAR_MAX * 16];
        double py[8 * 16], pv[16];
        const int rv = 2, step = 16;  /* two vectors of 8 rows a step */
        Py_ssize_t i, cstride, n_step = 0;
        const float* xs;
        int j, o, h, r, rows;
        e = _mm256_setzero_pd();
        for (o = 0; o < ng; o++) { t[o] = e; vb[o] = _mm256_set1_pd(bias[o]); }
        for (j = 0; j < d; j++)
            for (o = 0; o < ng; o++) {
                bw[j * 8 + o] = _mm256_set1_ps(w[o * d + j]);
                gf[j * 8 + o] = _mm256_setzero_ps();
                ga[j * 8 + o] = e;
            }
        for (i = 0; i < m; i += step) {
            rows = m - i < step ? (int) (m - i) : step;
            xs = x + i;
            cstride = cs;
            for (o = 0; o < ng; o++)
                for (r = 0; r < step; r++)
                    py[o * 16 + r] = r < rows ? (double) y[(i + r) * yrow + o * ycol] : 0.0;
            for (r = 0; r < step; r++)
                pv[r] = r >= rows ? 0.0 : (sw == NULL ? 1.0 : sw[i + r]);
            if (rows < step) {
                for (j = 0; j < d; j++)
                    for (r = 0; r < step; r++)
                        pad[j * step + r] = r < rows ? x[j * cs + i + r] : 0.0f;
                xs = pad;
                cstride = step;
            }
            for (o = 0; o < ng * rv; o++) acc[o] = _mm256_setzero_ps();
            for (j = 0; j < d; j++) {
                const float* c = xs + j * cstride;
                if (rows == step && (rv == 2 || (i & 15) == 0))  /* once a line */
                    LINREG_PREFETCH((const char*) c + LNAR_AHEAD_BYTES);
                for (h = 0; h < rv; h++) {
                    xv = _mm256_loadu_ps(c + 8 * h);
                    for (o = 0; o < ng; o++)
                        acc[o * rv + h] = _mm256_fmadd_ps(xv, bw[j * 8 + o], acc[o * rv + h]);
                }
            }
            for (o = 0; o < ng; o++)
                for (h = 0; h < rv; h++) {
                    __m256 s = acc[o * rv + h];
                    __m256d r0 = _mm256_sub_pd(
                        _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(s)), vb[o]),
                        _mm256_loadu_pd(py + o * 16 + 8 * h));
                    __m256d r1 = _mm256_sub_pd(
                        _mm256_add_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(s, 1)), vb[o]),
                        _mm256_loadu_pd(py + o * 16 + 8 * h + 4));
                    __m256d q0 = _mm256_mul_pd(r0, _mm256_loadu_pd(pv + 8 * h));
                    __m256d q1 = _mm256_mul_pd(r1, _mm256_loadu_pd(pv + 8 * h + 4));
                    e = _mm256_fmadd_pd(q0, r0, _mm256_fmadd_pd(q1, r1, e));
                    t[o] = _mm256_add_pd(t[o], _mm256_add_pd(q0, q1));
                    q[o * rv + h] = _mm256_set_m128(_mm256_cvtpd_ps(q1), _mm256_cvtpd_ps(q0));
                }
            for (j = 0; j < d; j++) {
                const float* c = xs + j * cstride;
                for (h = 0; h < rv; h++) {
                    xv = _mm256_loadu_ps(c + 8 * h);
                    for (o = 0; o < ng; o++)
                        gf[j * 8 + o] = _mm256_fmadd_ps(xv, q[o * rv + h], gf[j * 8 + o]);
                }
            }
            if (++n_step % (8 / rv) == 0) {  /* 8 rows a lane in float32, then double */
                for (j = 0; j < d; j++)
                    for (o = 0; o < ng; o++) {
                        ga[j * 8 + o] = _mm256_add_pd(ga[j * 8 + o], lcol_promote(gf[j * 8 + o]));
                        gf[j * 8 + o] = _mm256_setzero_ps();
                    }
            }
        }
        for (j = 0; j < d; j++)
            for (o = 0; o < ng; o++)
                g[o * d + j] += lcol_lanes(
                    _mm256_add_pd(ga[j * 8 + o], lcol_promote(gf[j * 8 + o])));
        for (o = 0; o < ng; o++) gb[o] += lcol_lanes(t[o]);
        *sse += lcol_lanes(e);
    }
    /* The outputs in groups of 8 (float32) or 4 (float64), each group's size a constant;
       up to half a group, two vectors of rows a step. */
    #define LNOUT_GROUP(F, NG, RV) \
        F(x + s, cs, d, mb, w, bias, o0, NG, RV, out + s * orow, orow, ocol)
    /* Over several groups, blocks of LNOUT_BLOCK_ROWS rows (in L2) take every group in
       turn: X is read from memory once. */
    #define LNOUT_BLOCK_ROWS 1024
    static void lnout_predict_f(const float* x, Py_ssize_t cs, int d, Py_ssize_t m,
                                const float* w, const double* bias, int k, float* out,
                                Py_ssize_t orow, Py_ssize_t ocol)
    {
        int o0;
        Py_ssize_t s, mb;
        for (s = 0; s < m; s += mb) {
            mb = m - s < LNOUT_BLOCK_ROWS || k <= 8 ? m - s : LNOUT_BLOCK_ROWS;
            for (o0 = 0; o0 < k; o0 += 8)
                switch (k - o0 < 8 ? k - o0 : 8) {
                    case 1: LNOUT_GROUP(lnout_f, 1, 2); break;
                    case 2: LNOUT_GROUP(lnout_f, 2, 2); break;
                    case 3: LNOUT_GROUP(lnout_f, 3, 2); break;
                    case 4: LNOUT_GROUP(lnout_f, 4, 2); break;
                    case 5: LNOUT_GROUP(lnout_f, 5, 1); break;
                    case 6: LNOUT_GROUP(lnout_f, 6, 1); break;
                    case 7: LNOUT_GROUP(lnout_f, 7, 1); break;
                    default: LNOUT_GROUP(lnout_f, 8, 1); break;
                }
        }
    }
    static void lnout_predict_d(const double* x, Py_ssize_t cs, int d, Py_ssize_t m,
                                const double* w, const double* bias, int k, double* out,
                                Py_ssize_t orow, Py_ssize_t ocol)
    {
        int o0;
        Py_ssize_t s, mb;
        for (s = 0; s < m; s += mb) {
            mb = m - s < LNOUT_BLOCK_ROWS || k <= 4 ? m - s : LNOUT_BLOCK_ROWS;
            for (o0 = 0; o0 < k; o0 += 4)
                switch (k - o0 < 4 ? k - o0 : 4) {
                    case 1: LNOUT_GROUP(lnout_d, 1, 2); break;
                    case 2: LNOUT_GROUP(lnout_d, 2, 2); break;
                    case 3: LNOUT_GROUP(lnout_d, 3, 2); break;
                    default: LNOUT_GROUP(lnout_d, 4, 2); break;
                }
        }
    }
    /* The fused pass for 2 or 3 outputs (LNOUT_SUMS_MAX_K), against the pass over
       columns (A/B, 2^24 elements, one thread): k = 2 0.64-0.92x the time, k = 3
       0.71-1.02x. From 4 outputs it lost: k = 4 at d = 3 and 4 1.2-1.7x (d = 12 and 16
       0.94-1.09x); k = 8 at d = 16 2.0-2.1x the time of blocks of rows copied into C
       order (column_rows.pxi), a step's d k gradient vectors no longer in registers. */
    #define LNOUTG_GROUP_D(NG) lnoutg_d(x, cs, d, m, w, bias, NG, y, yrow, ycol, sw, g, gb, sse)
    #define LNOUTG_GROUP_F(NG) lnoutg_f(x, cs, d, m, w, bias, NG, y, yrow, ycol, sw, g, gb, sse)
    static void lnout_sums_f(const float* x, Py_ssize_t cs, int d, Py_ssize_t m,
                             const float* w, const double* bias, int k, const float* y,
                             Py_ssize_t yrow, Py_ssize_t ycol, const double* sw, double* g,
                             double* gb, double* sse)
    {
        if (k == 2) LNOUTG_GROUP_F(2);
        else if (k == 3) LNOUTG_GROUP_F(3);
    }
    static void lnout_sums_d(const double* x, Py_ssize_t cs, int d, Py_ssize_t m,
                             const double* w, const double* bias, int k, const double* y,
                             Py_ssize_t yrow, Py_ssize_t ycol, const double* sw, double* g,
                             double* gb, double* sse)
    {
        if (k == 2) LNOUTG_GROUP_D(2);
        else if (k == 3) LNOUTG_GROUP_D(3);
    }
    #else
    static void lnout_sums_f(const float* x, Py_ssize_t cs, int d, Py_ssize_t m,
        const float* w, const double* bias, int k, const float* y, Py_ssize_t yrow,
        Py_ssize_t ycol, const double* sw, double* g, double* gb, double* sse) { }
    static void lnout_sums_d(const double* x, Py_ssize_t cs, int d, Py_ssize_t m,
        const double* w, const double* bias, int k, const double* y, Py_ssize_t yrow,
        Py_ssize_t ycol, const double* sw, double* g, double* gb, double* sse) { }
    static void lnout_predict_f(const float* x, Py_ssize_t cs, int d, Py_ssize_t m,
        const float* w, const double* bias, int k, float* out, Py_ssize_t orow,
        Py_ssize_t ocol) { }
    static void lnout_predict_d(const double* x, Py_ssize_t cs, int d, Py_ssize_t m,
        const double* w, const double* bias, int k, double* out, Py_ssize_t orow,
        Py_ssize_t ocol) { }
    #endif
    """
    int LNOUT_SUMS_MAX_K
    void lnout_sums_f(const float* x, Py_ssize_t cs, int d, Py_ssize_t m, const float* w,
                      const double* bias, int k, const float* y, Py_ssize_t yrow,
                      Py_ssize_t ycol, const double* sw, double* g, double* gb,
                      double* sse) noexcept nogil
    void lnout_sums_d(const double* x, Py_ssize_t cs, int d, Py_ssize_t m, const double* w,
                      const double* bias, int k, const double* y, Py_ssize_t yrow,
                      Py_ssize_t ycol, const double* sw, double* g, double* gb,
                      double* sse) noexcept nogil
    void lnout_predict_f(const float* x, Py_ssize_t cs, int d, Py_ssize_t m, const float* w,
                         const double* bias, int k, float* out, Py_ssize_t orow,
                         Py_ssize_t ocol) noexcept nogil
    void lnout_predict_d(const double* x, Py_ssize_t cs, int d, Py_ssize_t m,
                         const double* w, const double* bias, int k, double* out,
                         Py_ssize_t orow, Py_ssize_t ocol) noexcept nogil


cdef inline bint _narrow_outputs_take(
    Py_ssize_t d, Py_ssize_t k, Py_ssize_t itemsize
) noexcept nogil:
    """Whether predict on a Fortran-ordered X takes this file's loop: float32 up to one
    group of outputs, float64 any number. (float32, k = 32: Fortran / C time 1.15-1.44
    here, 1.04-1.31 through blocks of rows copied into C order, column_rows.pxi; float64
    0.85-1.14 here, 1.06-1.20 so; 2^24 elements, one thread, d = 2 to 16.)"""
    return LNAR_BUILT and 1 <= d <= LNAR_MAX and 2 <= k and (k <= 8 or itemsize == 8)


cdef inline void _narrow_outputs_predict(
    const floating[:, ::1] Xt, floating[:, :] out, const WorkBuffers* work,
    Py_ssize_t start, Py_ssize_t stop,
) noexcept nogil:
    """`_predict_columns` when `_narrow_outputs_take`: rows start..stop-1 (at least one)."""
    cdef Py_ssize_t cs = Xt.strides[0] // sizeof(floating)
    cdef Py_ssize_t orow = out.strides[0] // sizeof(floating)
    cdef Py_ssize_t ocol = out.strides[1] // sizeof(floating)
    if floating is double:
        lnout_predict_d(&Xt[0, start], cs, <int> Xt.shape[0], stop - start, work.w_by_output,
                        work.bias, <int> out.shape[1], &out[start, 0], orow, ocol)
    else:
        lnout_predict_f(&Xt[0, start], cs, <int> Xt.shape[0], stop - start,
                        work.w_by_output_f32, work.bias, <int> out.shape[1], &out[start, 0],
                        orow, ocol)


cdef inline bint _narrow_output_sums_take(Py_ssize_t d, Py_ssize_t k) noexcept nogil:
    """Whether the fused pass over a Fortran-ordered X takes this file's loop."""
    return LNAR_BUILT and 1 <= d <= LNAR_MAX and 2 <= k <= LNOUT_SUMS_MAX_K


cdef inline double _narrow_outputs_sums(
    const floating[:, ::1] Xt, const floating[:, :] Y, Py_ssize_t start, Py_ssize_t stop,
    const WorkBuffers* work, double* grad_by_output, double* grad_bias,
) noexcept nogil:
    """`_column_block_sums` when `_narrow_output_sums_take`: rows start..stop-1 (at least
    one), 2 or 3 outputs, sample weights or not."""
    cdef Py_ssize_t cs = Xt.strides[0] // sizeof(floating)
    cdef Py_ssize_t yrow = Y.strides[0] // sizeof(floating)
    cdef Py_ssize_t ycol = Y.strides[1] // sizeof(floating)
    cdef const double* sw = NULL if work.sample_weight == NULL else work.sample_weight + start
    cdef double sse = 0.0
    if floating is double:
        lnout_sums_d(&Xt[0, start], cs, <int> Xt.shape[0], stop - start, work.w_by_output,
                     work.bias, <int> Y.shape[1], &Y[start, 0], yrow, ycol, sw,
                     grad_by_output, grad_bias, &sse)
    else:
        lnout_sums_f(&Xt[0, start], cs, <int> Xt.shape[0], stop - start,
                     work.w_by_output_f32, work.bias, <int> Y.shape[1], &Y[start, 0], yrow,
                     ycol, sw, grad_by_output, grad_bias, &sse)
    return sse
