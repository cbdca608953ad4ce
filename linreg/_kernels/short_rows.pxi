# Whole passes over rows of 2 to 4 elements, one output: each step of rows split into
# its columns (AVX2 and avx512 builds; the generic build keeps rows.pxi's loop compiled
# for the width).
#
# At these widths a step's rows are a few vectors, and rows.pxi's loop ends every row's
# dot product in a sum across the lanes of a vector: about 5 cycles a float32 row, 2.4-2.6
# times the time of `X @ w` at d = 2 and 3. Here a step (8 float32 rows or 4 float64)
# is rearranged in registers into its d columns, each a vector over the step's rows, so
# that nothing is summed across lanes: the dot products, residuals, loss and gradient
# terms are vertical sums, like a BLAS gemv's on a transposed block. (One masked vector a
# row, the loop for 9 to 32 float32 elements, took 1.7-2.7x rows.pxi's time at 2 to 7.)
#
# All of it is in double, float32 too: a product of two float32 is exact in double, and
# converting the columns costs what the float32 sums would have saved. A float32 row's
# dot product is therefore exact up to one rounding in double (rows.pxi's loop sums it in
# float32), and the gradient terms r_i x_ij are products in double (one_output.pxi rounds
# r_i to float32 and sums 8 terms in float32). Rows after the last step take the same
# arithmetic one at a time, so the whole run is summed alike.
#
# 1 thread, X of 2^24 elements, time / that of `X @ w` (before -> after): float32 d = 2
# 2.59 -> 0.93, d = 3 2.44 -> 1.01, d = 4 1.00 -> 0.59; float64 d = 2 1.09 -> 0.78, d = 3
# 1.09 -> 0.79, d = 4 0.87 -> 0.63. The sums depend on the run of rows only, as elsewhere.

cdef extern from *:
    """
    #if defined(__AVX2__) && defined(__FMA__)
    #include <immintrin.h>
    #define LINREG_SHORT_ROWS 1
    /* A step of 8 rows of D = 2, 3 or 4 float32, as D columns over the 8 rows, in double
       (lo: the first four lanes, hi: the last four). D = 2 splits the pairs with one
       shuffle each, which leaves the rows in the order 0 1 4 5 | 2 3 6 7; D = 3 gathers
       each column from the three vectors with two blends (the lanes a column takes from
       each vector are disjoint) and one permutation, in the rows' order. */
    LINREG_INLINE void linreg_columns_of_8_rows_f32(
        const int D, const float* x, __m256d* lo, __m256d* hi)
    {
        __m256 c[4];
        if (D == 4) {
            /* rows 0 1 | 2 3 | 4 5 | 6 7: a 4 x 4 transpose in each half, which leaves
               the rows in the order 0 2 4 6 | 1 3 5 7 */
            __m256 v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8);
            __m256 v2 = _mm256_loadu_ps(x + 16), v3 = _mm256_loadu_ps(x + 24);
            __m256 t0 = _mm256_unpacklo_ps(v0, v1), t1 = _mm256_unpacklo_ps(v2, v3);
            __m256 t2 = _mm256_unpackhi_ps(v0, v1), t3 = _mm256_unpackhi_ps(v2, v3);
            c[0] = _mm256_shuffle_ps(t0, t1, 0x44);
            c[1] = _mm256_shuffle_ps(t0, t1, 0xEE);
            c[2] = _mm256_shuffle_ps(t2, t3, 0x44);
            c[3] = _mm256_shuffle_ps(t2, t3, 0xEE);
        } else if (D == 2) {
            __m256 v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8);
            c[0] = _mm256_shuffle_ps(v0, v1, 0x88);
            c[1] = _mm256_shuffle_ps(v0, v1, 0xDD);
        } else {
            __m256 v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8);
            __m256 v2 = _mm256_loadu_ps(x + 16);
            /* column m, row i: element 3 i + m, lane (3 i + m) % 8 of vector (3 i + m) / 8 */
            c[0] = _mm256_permutevar8x32_ps(
                _mm256_blend_ps(_mm256_blend_ps(v0, v1, 0x92), v2, 0x24),
                _mm256_setr_epi32(0, 3, 6, 1, 4, 7, 2, 5));
            c[1] = _mm256_permutevar8x32_ps(
                _mm256_blend_ps(_mm256_blend_ps(v0, v1, 0x24), v2, 0x49),
                _mm256_setr_epi32(1, 4, 7, 2, 5, 0, 3, 6));
            c[2] = _mm256_permutevar8x32_ps(
                _mm256_blend_ps(_mm256_blend_ps(v0, v1, 0x49), v2, 0x92),
                _mm256_setr_epi32(2, 5, 0, 3, 6, 1, 4, 7));
        }
        for (int j = 0; j < D; j++) {
            lo[j] = _mm256_cvtps_pd(_mm256_castps256_ps128(c[j]));
            hi[j] = _mm256_cvtps_pd(_mm256_extractf128_ps(c[j], 1));
        }
    }

    /* One row of D float32 or float64 elements, in double: a step's arithmetic for one
       row, for the rows after the last step (generic in the row's type). */
    #define linreg_short_row_tail(D, x, w, bias, y_t, grad, sse, r_sum) do {            \\
            double s_ = 0.0;                                                       \\
            for (int j_ = 0; j_ < (D); j_++) s_ += (double) (x)[j_] * (double) (w)[j_]; \\
            double r_ = s_ + (bias) - (double) (y_t);                                \\
            *(sse) += r_ * r_;                                                     \\
            *(r_sum) += r_;                                                        \\
            for (int j_ = 0; j_ < (D); j_++) (grad)[j_] += (double) (x)[j_] * r_;    \\
        } while (0)

    LINREG_INLINE double linreg_short_rows_f32(
        const int D, const float* X, const Py_ssize_t* rows, Py_ssize_t start,
        Py_ssize_t stop, const float* y, Py_ssize_t y_step, const float* w, double bias,
        double* grad, double* bias_sum, Py_ssize_t* done)
    {
        Py_ssize_t t = start;
        if (rows != NULL) {  /* only whole passes, which read X in order */
            *done = t;
            return 0.0;
        }
        __m256d wv[4], g_lo[4], g_hi[4], x_lo[4], x_hi[4];
        for (int j = 0; j < D; j++) {
            wv[j] = _mm256_set1_pd((double) w[j]);
            g_lo[j] = g_hi[j] = _mm256_setzero_pd();
        }
        const __m256d bv = _mm256_set1_pd(bias);
        __m256d sse_lo = _mm256_setzero_pd(), sse_hi = sse_lo, sum_lo = sse_lo, sum_hi = sse_lo;
        _Pragma("GCC unroll 2")
        for (; t + 8 <= stop; t += 8) {
            linreg_columns_of_8_rows_f32(D, X + D * t, x_lo, x_hi);
            const float* yt = y + t * y_step;
            __m256 yv;
            if (D == 4)  /* the rows' order of the columns: 0 2 4 6 | 1 3 5 7 */
                yv = y_step == 1
                    ? _mm256_permutevar8x32_ps(_mm256_loadu_ps(yt),
                                               _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7))
                    : _mm256_setr_ps(yt[0], yt[2 * y_step], yt[4 * y_step], yt[6 * y_step],
                                     yt[y_step], yt[3 * y_step], yt[5 * y_step],
                                     yt[7 * y_step]);
            else if (D == 2)  /* the rows' order of the columns: 0 1 4 5 | 2 3 6 7 */
                yv = y_step == 1
                    ? _mm256_castpd_ps(_mm256_permute4x64_pd(
                          _mm256_castps_pd(_mm256_loadu_ps(yt)), 0xD8))
                    : _mm256_setr_ps(yt[0], yt[y_step], yt[4 * y_step], yt[5 * y_step],
                                     yt[2 * y_step], yt[3 * y_step], yt[6 * y_step],
                                     yt[7 * y_step]);
            else
                yv = y_step == 1 ? _mm256_loadu_ps(yt) : _mm256_setr_ps(
                    yt[0], yt[y_step], yt[2 * y_step], yt[3 * y_step], yt[4 * y_step],
                    yt[5 * y_step], yt[6 * y_step], yt[7 * y_step]);
            __m256d s_lo = _mm256_mul_pd(x_lo[0], wv[0]), s_hi = _mm256_mul_pd(x_hi[0], wv[0]);
            for (int j = 1; j < D; j++) {
                s_lo = _mm256_fmadd_pd(x_lo[j], wv[j], s_lo);
                s_hi = _mm256_fmadd_pd(x_hi[j], wv[j], s_hi);
            }
            __m256d r_lo = _mm256_sub_pd(_mm256_add_pd(s_lo, bv),
                                         _mm256_cvtps_pd(_mm256_castps256_ps128(yv)));
            __m256d r_hi = _mm256_sub_pd(_mm256_add_pd(s_hi, bv),
                                         _mm256_cvtps_pd(_mm256_extractf128_ps(yv, 1)));
            sse_lo = _mm256_fmadd_pd(r_lo, r_lo, sse_lo);
            sse_hi = _mm256_fmadd_pd(r_hi, r_hi, sse_hi);
            sum_lo = _mm256_add_pd(sum_lo, r_lo);
            sum_hi = _mm256_add_pd(sum_hi, r_hi);
            for (int j = 0; j < D; j++) {
                g_lo[j] = _mm256_fmadd_pd(x_lo[j], r_lo, g_lo[j]);
                g_hi[j] = _mm256_fmadd_pd(x_hi[j], r_hi, g_hi[j]);
            }
        }
        for (int j = 0; j < D; j++)
            grad[j] += linreg_lanes_total(_mm256_add_pd(g_lo[j], g_hi[j]));
        double total = linreg_lanes_total(_mm256_add_pd(sse_lo, sse_hi));
        double r_sum = linreg_lanes_total(_mm256_add_pd(sum_lo, sum_hi));
        for (; t < stop; t++)  /* the rows after the last step, in double alike */
            linreg_short_row_tail(D, X + D * t, w, bias, y[t * y_step], grad, &total, &r_sum);
        *bias_sum += r_sum;
        *done = t;
        return total;
    }
    /* `linreg_columns_of_8_rows_f32` for float64: a step of 4 rows of D = 2, 3 or 4
       doubles, split into D columns over the 4 rows (D = 2: in the order 0 2 1 3). */
    LINREG_INLINE void linreg_columns_of_4_rows_f64(const int D, const double* x, __m256d* c)
    {
        __m256d v0 = _mm256_loadu_pd(x), v1 = _mm256_loadu_pd(x + 4);
        if (D == 2) {
            c[0] = _mm256_unpacklo_pd(v0, v1);
            c[1] = _mm256_unpackhi_pd(v0, v1);
        } else if (D == 3) {
            __m256d v2 = _mm256_loadu_pd(x + 8);
            c[0] = _mm256_permute4x64_pd(
                _mm256_blend_pd(_mm256_blend_pd(v0, v1, 0x4), v2, 0x2), 0x6C);
            c[1] = _mm256_permute4x64_pd(
                _mm256_blend_pd(_mm256_blend_pd(v0, v1, 0x9), v2, 0x4), 0xB1);
            c[2] = _mm256_permute4x64_pd(
                _mm256_blend_pd(_mm256_blend_pd(v0, v1, 0x2), v2, 0x9), 0xC6);
        } else {
            __m256d v2 = _mm256_loadu_pd(x + 8), v3 = _mm256_loadu_pd(x + 12);
            __m256d t0 = _mm256_unpacklo_pd(v0, v1), t1 = _mm256_unpackhi_pd(v0, v1);
            __m256d t2 = _mm256_unpacklo_pd(v2, v3), t3 = _mm256_unpackhi_pd(v2, v3);
            c[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
            c[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
            c[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
            c[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
        }
    }

    LINREG_INLINE double linreg_short_rows_f64(
        const int D, const double* X, const Py_ssize_t* rows, Py_ssize_t start,
        Py_ssize_t stop, const double* y, Py_ssize_t y_step, const double* w, double bias,
        double* grad, double* bias_sum, Py_ssize_t* done)
    {
        Py_ssize_t t = start;
        if (rows != NULL) {  /* only whole passes, which read X in order */
            *done = t;
            return 0.0;
        }
        __m256d wv[4], g[4], c[4];
        for (int j = 0; j < D; j++) {
            wv[j] = _mm256_set1_pd(w[j]);
            g[j] = _mm256_setzero_pd();
        }
        const __m256d bv = _mm256_set1_pd(bias);
        __m256d sse = _mm256_setzero_pd(), sum = sse;
        _Pragma("GCC unroll 2")
        for (; t + 4 <= stop; t += 4) {
            linreg_columns_of_4_rows_f64(D, X + D * t, c);
            const double* yt = y + t * y_step;
            __m256d yv;
            if (D == 2)
                yv = y_step == 1 ? _mm256_permute4x64_pd(_mm256_loadu_pd(yt), 0xD8)
                                 : _mm256_setr_pd(yt[0], yt[2 * y_step], yt[y_step],
                                                  yt[3 * y_step]);
            else
                yv = y_step == 1 ? _mm256_loadu_pd(yt)
                                 : _mm256_setr_pd(yt[0], yt[y_step], yt[2 * y_step],
                                                  yt[3 * y_step]);
            __m256d s = _mm256_mul_pd(c[0], wv[0]);
            for (int j = 1; j < D; j++) s = _mm256_fmadd_pd(c[j], wv[j], s);
            __m256d r = _mm256_sub_pd(_mm256_add_pd(s, bv), yv);
            sse = _mm256_fmadd_pd(r, r, sse);
            sum = _mm256_add_pd(sum, r);
            for (int j = 0; j < D; j++) g[j] = _mm256_fmadd_pd(c[j], r, g[j]);
        }
        for (int j = 0; j < D; j++) grad[j] += linreg_lanes_total(g[j]);
        double total = linreg_lanes_total(sse), r_sum = linreg_lanes_total(sum);
        for (; t < stop; t++)  /* the rows after the last step */
            linreg_short_row_tail(D, X + D * t, w, bias, y[t * y_step], grad, &total, &r_sum);
        *bias_sum += r_sum;
        *done = t;
        return total;
    }
    static double linreg_short_rows_f64_any(
        const double* X, Py_ssize_t d, const Py_ssize_t* rows, Py_ssize_t start,
        Py_ssize_t stop, const double* y, Py_ssize_t y_step, const double* w, double bias,
        double* grad, double* bias_sum, Py_ssize_t* done)
    {
        if (d == 4)
            return linreg_short_rows_f64(4, X, rows, start, stop, y, y_step, w, bias, grad,
                                          bias_sum, done);
        if (d == 2)
            return linreg_short_rows_f64(2, X, rows, start, stop, y, y_step, w, bias, grad,
                                          bias_sum, done);
        return linreg_short_rows_f64(3, X, rows, start, stop, y, y_step, w, bias, grad,
                                      bias_sum, done);
    }
    static double linreg_short_rows_f32_any(
        const float* X, Py_ssize_t d, const Py_ssize_t* rows, Py_ssize_t start,
        Py_ssize_t stop, const float* y, Py_ssize_t y_step, const float* w, double bias,
        double* grad, double* bias_sum, Py_ssize_t* done)
    {
        if (d == 4)
            return linreg_short_rows_f32(4, X, rows, start, stop, y, y_step, w, bias, grad,
                                          bias_sum, done);
        if (d == 2)
            return linreg_short_rows_f32(2, X, rows, start, stop, y, y_step, w, bias, grad,
                                          bias_sum, done);
        return linreg_short_rows_f32(3, X, rows, start, stop, y, y_step, w, bias, grad,
                                      bias_sum, done);
    }
    #else
    #define LINREG_SHORT_ROWS 0
    static double linreg_short_rows_f32_any(
        const float* X, Py_ssize_t d, const Py_ssize_t* rows, Py_ssize_t start,
        Py_ssize_t stop, const float* y, Py_ssize_t y_step, const float* w, double bias,
        double* grad, double* bias_sum, Py_ssize_t* done) { *done = start; return 0.0; }
    static double linreg_short_rows_f64_any(
        const double* X, Py_ssize_t d, const Py_ssize_t* rows, Py_ssize_t start,
        Py_ssize_t stop, const double* y, Py_ssize_t y_step, const double* w, double bias,
        double* grad, double* bias_sum, Py_ssize_t* done) { *done = start; return 0.0; }
    #endif
    """
    int LINREG_SHORT_ROWS
    double linreg_short_rows_f32_any(
        const float* X, Py_ssize_t d, const Py_ssize_t* rows, Py_ssize_t start,
        Py_ssize_t stop, const float* y, Py_ssize_t y_step, const float* w, double bias,
        double* grad, double* bias_sum, Py_ssize_t* done) noexcept nogil
    double linreg_short_rows_f64_any(
        const double* X, Py_ssize_t d, const Py_ssize_t* rows, Py_ssize_t start,
        Py_ssize_t stop, const double* y, Py_ssize_t y_step, const double* w, double bias,
        double* grad, double* bias_sum, Py_ssize_t* done) noexcept nogil


cdef double _short_rows(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    const Py_ssize_t* rows,
    Py_ssize_t start,
    Py_ssize_t stop,
    const WorkBuffers* work,
    double* grad_by_output,
    double* grad_bias,
) noexcept nogil:
    """`_sums_one_output` for rows of 2 to 4 elements in whole passes, in the C loops above
    (AVX2 and avx512 builds). Where they sum nothing (the generic build; a subset of
    rows, which whole passes never give) the loop compiled for the width does."""
    cdef Py_ssize_t done = start
    cdef Py_ssize_t y_step = Y.strides[0] // <Py_ssize_t> sizeof(floating)
    cdef double sse
    if floating is float:
        sse = linreg_short_rows_f32_any(
            &X[0, 0], X.shape[1], rows, start, stop, &Y[0, 0], y_step, work.w_by_output_f32,
            work.bias[0], grad_by_output, grad_bias, &done)
    else:
        sse = linreg_short_rows_f64_any(
            &X[0, 0], X.shape[1], rows, start, stop, &Y[0, 0], y_step, work.w_by_output,
            work.bias[0], grad_by_output, grad_bias, &done)
    if done == stop:
        return sse
    return sse + _one_output_by_d(X, Y, rows, done, stop, work, grad_by_output, grad_bias)

