# Predict with several outputs from a narrow Fortran-ordered X (2 to LNAR_MAX = 16
# columns), in one pass: every column side by side, as column_narrow.pxi, each output's
# predictions a vector of rows.
#
# A column's values for consecutive rows are consecutive: a vector of them times the
# broadcast weight w_jo adds column j's term to output o's predictions of those rows.
# So the multiply-adds go along rows, one vector per output and step of rows (8 float32
# or 4 float64 rows a vector; 2 vectors a step for up to 4 outputs, so that enough
# independent sums are in flight), with no reduction across lanes: d k multiply-adds a
# vector of rows, the C-order loops' count, none wasted. Outputs go 8 (float32) or 4
# (float64) at a time, the number of outputs in a group a constant in the compiled loop.
# Before, a Fortran X of few columns took the blocked pass over columns, one output at a
# time, or the copy of blocks into C order (k >= 5): 2^24 elements, one thread, Fortran
# time / C time, 1.2-2.5 (k = 2 to 8, d = 2 to 16).
#
# Precision as the C-order predict: a row's products summed in the data's dtype (float32:
# at most 16 of them, under F32_CHUNK), then the bias added in double and the sum rounded
# to the dtype. The rows past the last whole step go through a zero-padded copy.

cdef extern from *:
    """
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
    #else
    static void lnout_predict_f(const float* x, Py_ssize_t cs, int d, Py_ssize_t m,
        const float* w, const double* bias, int k, float* out, Py_ssize_t orow,
        Py_ssize_t ocol) { }
    static void lnout_predict_d(const double* x, Py_ssize_t cs, int d, Py_ssize_t m,
        const double* w, const double* bias, int k, double* out, Py_ssize_t orow,
        Py_ssize_t ocol) { }
    #endif
    """
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
