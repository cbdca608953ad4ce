# Whole passes over rows of 1 to 4 elements for 1 to 4 outputs, with or without sample
# weights (their predictions: short_predict.pxi): each step of rows split into its
# columns (AVX2 and avx512 builds; the generic build keeps rows.pxi's loops).
#
# At these widths a step's rows are a few vectors, and rows.pxi's loops end every row's
# dot product, for every output, in a sum across the lanes of a vector: about 5 cycles a
# float32 row, 2.4-2.6 times the time of `X @ w` at d = 2 and 3. Here a step (8 float32
# rows or 4 float64) is rearranged in registers into its d columns, each a vector over
# the step's rows, so that nothing is summed across lanes: for each output, the dot
# products, residuals, loss and gradient terms are vertical sums, like a BLAS gemv's on
# a transposed block, from the same columns. (One masked vector a row, the loop for 9 to
# 32 float32 elements, took 1.7-2.7x rows.pxi's time at 2 to 7; few_outputs.pxi's two
# rows of 4 a vector and a hadd tree, k = 2 at d = 4, 1.12x `X @ W` against 1.03x here.)
#
# All of it is in double, float32 too: a product of two float32 is exact in double, and
# converting the columns costs what the float32 sums would have saved. A float32 row's
# dot product is therefore exact up to one rounding in double (rows.pxi's loop sums it in
# float32), and the gradient terms r_i x_ij are products in double (one_output.pxi rounds
# r_i to float32 and sums 8 terms in float32). Rows after the last step take the same
# arithmetic one at a time, so the whole run is summed alike.
#
# 1 thread, X of 2^24 elements (one output; 2^23 for several), time / that of `X @ w`
# (`X @ W`), before -> after:
# - one output: float32 d = 2 2.59 -> 0.93, d = 3 2.44 -> 1.01, d = 4 1.00 -> 0.59;
#   float64 d = 2 1.09 -> 0.78, d = 3 1.09 -> 0.79, d = 4 0.87 -> 0.63;
# - k = 2, 3, 4: float32 d = 1 0.23-0.27 (X @ W on one column is slow), d = 2 2.97 ->
#   0.58, 3.39 -> 0.67, 4.72 -> 1.08; d = 3 0.76-1.07; d = 4 (few_outputs.pxi's loop)
#   1.12 -> 1.03, 1.35 -> 1.04, 1.73 -> 1.47; float64 d = 2 2.13 -> 0.56, 2.27 -> 0.50,
#   2.76 -> 0.66; d = 4 1.19 -> 0.57, 1.20 -> 0.53, 1.74 -> 0.74.
# The sums depend on the run of rows only, as elsewhere.
#
# Rows of one element for one output came later: rows.pxi's loop took 1.6 ns a row
# (float32, 2^24 rows: 26 ms, 7% of the read bandwidth; float64 2^23 rows 8.7 ms), a chain
# of scalar sums; here 4.0 and 3.5 ms. And the passes ask for X's lines 8 KB ahead of each
# step (`linreg_prefetch_ahead`, one_output.pxi): 1 thread, 2^24 float32 / 2^23 float64
# elements, time before -> after: float32 d = 2 0.88x, d = 4 0.85x; float64 d = 2 0.89x,
# d = 4 0.73x. Sample weights came last (`linreg_wshort_*`; rows.pxi's weighted loop, a
# lane sum per row, took 3.5-11x an unweighted pass; now 0.39-0.64x its time, float32
# d = 2: 12.6 -> 6.2 ms, the weights' own read 8 bytes a row).
#

cdef extern from *:
    """
    #if defined(__AVX2__) && defined(__FMA__)
    #include <immintrin.h>
    #include <math.h>
    #define LINREG_SHORT_ROWS 1
    /* A step of 8 rows of D = 1 to 4 float32, as D columns over the 8 rows, in double
       (lo: the first four lanes, hi: the last four). D = 1 is one load; D = 2 splits the
       pairs with one shuffle each, which leaves the rows in the order 0 1 4 5 | 2 3 6 7;
       D = 3 gathers each column from the three vectors with two blends (the lanes a
       column takes from each vector are disjoint) and one permutation, in the rows'
       order. */
    LINREG_INLINE void linreg_columns_of_8_rows_f32(
        const int D, const float* x, __m256d* lo, __m256d* hi)
    {
        __m256 c[4];
        if (D == 1) {
            c[0] = _mm256_loadu_ps(x);
        } else if (D == 4) {
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

    /* `linreg_columns_of_8_rows_f32` for float64: a step of 4 rows of D = 1 to 4
       doubles, split into D columns over the 4 rows (D = 2: in the order 0 2 1 3). */
    LINREG_INLINE void linreg_columns_of_4_rows_f64(const int D, const double* x, __m256d* c)
    {
        __m256d v0 = _mm256_loadu_pd(x);
        if (D == 1) {
            c[0] = v0;
            return;
        }
        __m256d v1 = _mm256_loadu_pd(x + 4);
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


    /* The targets of output o for a step's rows, in its columns' order of rows (float32
       D = 2: 0 1 4 5 | 2 3 6 7; D = 4: 0 2 4 6 | 1 3 5 7; else in order): yt points at
       the step's first row's target; rows y_row elements apart (1: one vector load,
       permuted to that order). */
    LINREG_INLINE __m256 linreg_short_targets_f32(const int D, const float* yt, Py_ssize_t y_row)
    {
        if (y_row == 1) {
            __m256 v = _mm256_loadu_ps(yt);
            if (D == 2)
                return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), 0xD8));
            if (D == 4)
                return _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7));
            return v;
        }
        const Py_ssize_t s = y_row;
        if (D == 2)
            return _mm256_setr_ps(yt[0], yt[s], yt[4 * s], yt[5 * s], yt[2 * s], yt[3 * s],
                                  yt[6 * s], yt[7 * s]);
        if (D == 4)
            return _mm256_setr_ps(yt[0], yt[2 * s], yt[4 * s], yt[6 * s], yt[s], yt[3 * s],
                                  yt[5 * s], yt[7 * s]);
        return _mm256_setr_ps(yt[0], yt[s], yt[2 * s], yt[3 * s], yt[4 * s], yt[5 * s],
                              yt[6 * s], yt[7 * s]);
    }

    /* float64: 4 rows (D = 2: in the order 0 2 1 3). */
    LINREG_INLINE __m256d linreg_short_targets_f64(const int D, const double* yt, Py_ssize_t y_row)
    {
        if (y_row == 1) {
            __m256d v = _mm256_loadu_pd(yt);
            return D == 2 ? _mm256_permute4x64_pd(v, 0xD8) : v;
        }
        const Py_ssize_t s = y_row;
        if (D == 2)
            return _mm256_setr_pd(yt[0], yt[2 * s], yt[s], yt[3 * s]);
        return _mm256_setr_pd(yt[0], yt[s], yt[2 * s], yt[3 * s]);
    }

    /* The sample weights of a step's rows (sw: the first row's), in its columns' order of
       rows, as the targets: float32 steps of 8 rows in two halves, float64 steps of 4. */
    LINREG_INLINE void linreg_short_weights_f32(const int D, const double* sw, __m256d* lo,
                                                __m256d* hi)
    {
        __m256d a = _mm256_loadu_pd(sw), b = _mm256_loadu_pd(sw + 4);
        if (D == 2) {  /* 0 1 4 5 | 2 3 6 7 */
            *lo = _mm256_permute2f128_pd(a, b, 0x20);
            *hi = _mm256_permute2f128_pd(a, b, 0x31);
        } else if (D == 4) {  /* 0 2 4 6 | 1 3 5 7 */
            *lo = _mm256_permute4x64_pd(_mm256_unpacklo_pd(a, b), 0xD8);
            *hi = _mm256_permute4x64_pd(_mm256_unpackhi_pd(a, b), 0xD8);
        } else {
            *lo = a;
            *hi = b;
        }
    }
    LINREG_INLINE __m256d linreg_short_weights_f64(const int D, const double* sw)
    {
        __m256d v = _mm256_loadu_pd(sw);
        return D == 2 ? _mm256_permute4x64_pd(v, 0xD8) : v;
    }

    /* The rows after the last step, one at a time, in double alike (T: float or double):
       for each of the K outputs, r = x . w_o + b_o - y_o; loss, bias and gradient sums
       (WEIGHTED: of q = sw_t r, the loss of q r).
       Every product is an explicit fma, here and in the steps, and none is added
       separately: gcc contracts a multiply and an add into an fma where it sees fit
       (-ffp-contract=fast), and did so differently in the loops it compiles for
       different strides of Y, which then gave different bits (float64, d = 1, k = 4). */
    #define LINREG_SHORT_TAIL(T, D, K, WEIGHTED) do {                                      \\
            for (; t < stop; t++) {                                                    \\
                const T* x_ = X + (D) * t;                                             \\
                for (int o_ = 0; o_ < (K); o_++) {                                     \\
                    double s_ = bias[o_];                                              \\
                    for (int j_ = 0; j_ < (D); j_++)                                   \\
                        s_ = fma((double) x_[j_], (double) W[o_ * (D) + j_], s_);      \\
                    double r_ = s_ - (double) Y[t * y_row + o_ * y_col];               \\
                    double q_ = (WEIGHTED) ? sw[t] * r_ : r_;                          \\
                    total = fma(q_, r_, total);                                        \\
                    r_sum[o_] += q_;                                                   \\
                    for (int j_ = 0; j_ < (D); j_++)                                   \\
                        grad[o_ * (D) + j_] = fma((double) x_[j_], q_,                 \\
                                                  grad[o_ * (D) + j_]);                \\
                }                                                                      \\
            }                                                                          \\
        } while (0)

    #define LINREG_SHORT_ARGS(T)                                                         \\
        const T* X, Py_ssize_t start, Py_ssize_t stop, const T* Y, Py_ssize_t y_row,     \\
        Py_ssize_t y_col, const T* W, const double* bias, double* grad, double* bias_sum,  \\
        const double* sw
    #define LINREG_SHORT_NAMES X, start, stop, Y, y_row, y_col, W, bias, grad, bias_sum, sw

    /* Rows start..stop-1 of X (rows of D float32), K outputs (W: (K, D), output o's
       weights at W + o D; Y[t, o] at Y + t y_row + o y_col): grad (K, D) += sum_t r_to
       x_t, bias_sum[o] += sum_t r_to; returns sum_to r_to^2 (WEIGHTED: q_to = sw[t] r_to
       in the sums, q_to r_to in the loss). Steps of 8 rows; the loop is unrolled twice for
       one output (0.97x -> 0.92x the time of `X @ w` at D = 2). */
    LINREG_INLINE double linreg_short_rows_f32(const int D, const int K, const int WEIGHTED,
                                               LINREG_SHORT_ARGS(float))
    {
        __m256d wv[4][4], bv[4], g_lo[4][4], g_hi[4][4], sum_lo[4], sum_hi[4];
        __m256d x_lo[4], x_hi[4];
        for (int o = 0; o < K; o++) {
            bv[o] = _mm256_set1_pd(bias[o]);
            sum_lo[o] = sum_hi[o] = _mm256_setzero_pd();
            for (int j = 0; j < D; j++) {
                wv[o][j] = _mm256_set1_pd((double) W[o * D + j]);
                g_lo[o][j] = g_hi[o][j] = _mm256_setzero_pd();
            }
        }
        __m256d sse_lo = _mm256_setzero_pd(), sse_hi = sse_lo;
        Py_ssize_t t = start;
        _Pragma("GCC unroll 2")
        for (; t + 8 <= stop; t += 8) {
            linreg_prefetch_ahead(X + D * t, 8 * D * sizeof(float), X + D * stop);
            linreg_columns_of_8_rows_f32(D, X + D * t, x_lo, x_hi);
            __m256d sw_lo = bv[0], sw_hi = bv[0];
            if (WEIGHTED) linreg_short_weights_f32(D, sw + t, &sw_lo, &sw_hi);
            for (int o = 0; o < K; o++) {
                __m256 yv = linreg_short_targets_f32(D, Y + t * y_row + o * y_col, y_row);
                __m256d s_lo = bv[o], s_hi = bv[o];
                for (int j = 0; j < D; j++) {
                    s_lo = _mm256_fmadd_pd(x_lo[j], wv[o][j], s_lo);
                    s_hi = _mm256_fmadd_pd(x_hi[j], wv[o][j], s_hi);
                }
                __m256d r_lo = _mm256_sub_pd(s_lo, _mm256_cvtps_pd(_mm256_castps256_ps128(yv)));
                __m256d r_hi = _mm256_sub_pd(s_hi, _mm256_cvtps_pd(_mm256_extractf128_ps(yv, 1)));
                __m256d q_lo = WEIGHTED ? _mm256_mul_pd(sw_lo, r_lo) : r_lo;
                __m256d q_hi = WEIGHTED ? _mm256_mul_pd(sw_hi, r_hi) : r_hi;
                sse_lo = _mm256_fmadd_pd(q_lo, r_lo, sse_lo);
                sse_hi = _mm256_fmadd_pd(q_hi, r_hi, sse_hi);
                sum_lo[o] = _mm256_add_pd(sum_lo[o], q_lo);
                sum_hi[o] = _mm256_add_pd(sum_hi[o], q_hi);
                for (int j = 0; j < D; j++) {
                    g_lo[o][j] = _mm256_fmadd_pd(x_lo[j], q_lo, g_lo[o][j]);
                    g_hi[o][j] = _mm256_fmadd_pd(x_hi[j], q_hi, g_hi[o][j]);
                }
            }
        }
        double total = linreg_lanes_total(_mm256_add_pd(sse_lo, sse_hi)), r_sum[4];
        for (int o = 0; o < K; o++) {
            r_sum[o] = linreg_lanes_total(_mm256_add_pd(sum_lo[o], sum_hi[o]));
            for (int j = 0; j < D; j++)
                grad[o * D + j] += linreg_lanes_total(_mm256_add_pd(g_lo[o][j], g_hi[o][j]));
        }
        LINREG_SHORT_TAIL(float, D, K, WEIGHTED);
        for (int o = 0; o < K; o++) bias_sum[o] += r_sum[o];
        return total;
    }

    /* `linreg_short_rows_f32` for float64 rows, steps of 4. */
    LINREG_INLINE double linreg_short_rows_f64(const int D, const int K, const int WEIGHTED,
                                               LINREG_SHORT_ARGS(double))
    {
        __m256d wv[4][4], bv[4], g[4][4], sum[4], c[4];
        for (int o = 0; o < K; o++) {
            bv[o] = _mm256_set1_pd(bias[o]);
            sum[o] = _mm256_setzero_pd();
            for (int j = 0; j < D; j++) {
                wv[o][j] = _mm256_set1_pd(W[o * D + j]);
                g[o][j] = _mm256_setzero_pd();
            }
        }
        __m256d sse = _mm256_setzero_pd();
        Py_ssize_t t = start;
        _Pragma("GCC unroll 2")
        for (; t + 4 <= stop; t += 4) {
            linreg_prefetch_ahead(X + D * t, 4 * D * sizeof(double), X + D * stop);
            linreg_columns_of_4_rows_f64(D, X + D * t, c);
            __m256d wt = WEIGHTED ? linreg_short_weights_f64(D, sw + t) : bv[0];
            for (int o = 0; o < K; o++) {
                __m256d yv = linreg_short_targets_f64(D, Y + t * y_row + o * y_col, y_row);
                __m256d s = bv[o];
                for (int j = 0; j < D; j++) s = _mm256_fmadd_pd(c[j], wv[o][j], s);
                __m256d r = _mm256_sub_pd(s, yv);
                __m256d q = WEIGHTED ? _mm256_mul_pd(wt, r) : r;
                sse = _mm256_fmadd_pd(q, r, sse);
                sum[o] = _mm256_add_pd(sum[o], q);
                for (int j = 0; j < D; j++) g[o][j] = _mm256_fmadd_pd(c[j], q, g[o][j]);
            }
        }
        double total = linreg_lanes_total(sse), r_sum[4];
        for (int o = 0; o < K; o++) {
            r_sum[o] = linreg_lanes_total(sum[o]);
            for (int j = 0; j < D; j++) grad[o * D + j] += linreg_lanes_total(g[o][j]);
        }
        LINREG_SHORT_TAIL(double, D, K, WEIGHTED);
        for (int o = 0; o < K; o++) bias_sum[o] += r_sum[o];
        return total;
    }

    /* One function per (D, K), not inlined into the dispatch: gcc inlining them all into
       one function let each width's register allocation move with the others (rows.pxi,
       `_one_output_by_d`). */
    #define LINREG_SHORT_FN(SUF, T, D, K)                                                \\
        static __attribute__((noinline)) double linreg_short_##SUF##_##D##_##K(          \\
            LINREG_SHORT_ARGS(T)) { return linreg_short_rows_##SUF(D, K, 0, LINREG_SHORT_NAMES); } \\
        static __attribute__((noinline)) double linreg_wshort_##SUF##_##D##_##K(         \\
            LINREG_SHORT_ARGS(T)) { return linreg_short_rows_##SUF(D, K, 1, LINREG_SHORT_NAMES); }
    #define LINREG_SHORT_FNS(SUF, T)                                                     \\
        LINREG_SHORT_FN(SUF, T, 1, 1) LINREG_SHORT_FN(SUF, T, 1, 2)                      \\
        LINREG_SHORT_FN(SUF, T, 1, 3) LINREG_SHORT_FN(SUF, T, 1, 4)                      \\
        LINREG_SHORT_FN(SUF, T, 2, 1) LINREG_SHORT_FN(SUF, T, 2, 2)                      \\
        LINREG_SHORT_FN(SUF, T, 2, 3) LINREG_SHORT_FN(SUF, T, 2, 4)                      \\
        LINREG_SHORT_FN(SUF, T, 3, 1) LINREG_SHORT_FN(SUF, T, 3, 2)                      \\
        LINREG_SHORT_FN(SUF, T, 3, 3) LINREG_SHORT_FN(SUF, T, 3, 4)                      \\
        LINREG_SHORT_FN(SUF, T, 4, 1) LINREG_SHORT_FN(SUF, T, 4, 2)                      \\
        LINREG_SHORT_FN(SUF, T, 4, 3) LINREG_SHORT_FN(SUF, T, 4, 4)
    LINREG_SHORT_FNS(f32, float)
    LINREG_SHORT_FNS(f64, double)
    #define LINREG_SHORT_CASE(SUF, D, K)                                                 \\
        case 8 * (D) + (K): return sw ? linreg_wshort_##SUF##_##D##_##K(LINREG_SHORT_NAMES) \\
                                      : linreg_short_##SUF##_##D##_##K(LINREG_SHORT_NAMES);
    #define LINREG_SHORT_SWITCH(SUF)                                                     \\
        switch (8 * d + k) {                                                             \\
            LINREG_SHORT_CASE(SUF, 1, 1) LINREG_SHORT_CASE(SUF, 1, 2)                    \\
            LINREG_SHORT_CASE(SUF, 1, 3) LINREG_SHORT_CASE(SUF, 1, 4)                    \\
            LINREG_SHORT_CASE(SUF, 2, 1) LINREG_SHORT_CASE(SUF, 2, 2)                    \\
            LINREG_SHORT_CASE(SUF, 2, 3) LINREG_SHORT_CASE(SUF, 2, 4)                    \\
            LINREG_SHORT_CASE(SUF, 3, 1) LINREG_SHORT_CASE(SUF, 3, 2)                    \\
            LINREG_SHORT_CASE(SUF, 3, 3) LINREG_SHORT_CASE(SUF, 3, 4)                    \\
            LINREG_SHORT_CASE(SUF, 4, 1) LINREG_SHORT_CASE(SUF, 4, 2)                    \\
            LINREG_SHORT_CASE(SUF, 4, 3) LINREG_SHORT_CASE(SUF, 4, 4)                    \\
        }                                                                                \\
        return 0.0;
    static double linreg_short_rows_f32_any(Py_ssize_t d, Py_ssize_t k, LINREG_SHORT_ARGS(float))
        { LINREG_SHORT_SWITCH(f32) }
    static double linreg_short_rows_f64_any(Py_ssize_t d, Py_ssize_t k, LINREG_SHORT_ARGS(double))
        { LINREG_SHORT_SWITCH(f64) }

    #else
    #define LINREG_SHORT_ROWS 0
    #define LINREG_SHORT_ARGS(T)                                                         \\
        const T* X, Py_ssize_t start, Py_ssize_t stop, const T* Y, Py_ssize_t y_row,     \\
        Py_ssize_t y_col, const T* W, const double* bias, double* grad, double* bias_sum,  \\
        const double* sw
    static double linreg_short_rows_f32_any(Py_ssize_t d, Py_ssize_t k, LINREG_SHORT_ARGS(float))
        { return 0.0; }
    static double linreg_short_rows_f64_any(Py_ssize_t d, Py_ssize_t k, LINREG_SHORT_ARGS(double))
        { return 0.0; }
    #endif
    """
    int LINREG_SHORT_ROWS
    double linreg_short_rows_f32_any(
        Py_ssize_t d, Py_ssize_t k, const float* X, Py_ssize_t start, Py_ssize_t stop,
        const float* Y, Py_ssize_t y_row, Py_ssize_t y_col, const float* W, const double* bias,
        double* grad, double* bias_sum, const double* sw) noexcept nogil
    double linreg_short_rows_f64_any(
        Py_ssize_t d, Py_ssize_t k, const double* X, Py_ssize_t start, Py_ssize_t stop,
        const double* Y, Py_ssize_t y_row, Py_ssize_t y_col, const double* W,
        const double* bias, double* grad, double* bias_sum, const double* sw) noexcept nogil


cdef inline bint _short_rows_take(Py_ssize_t d, Py_ssize_t k) noexcept nogil:
    """Whether a whole pass takes `_short_rows`: rows of 1 to 4 elements and 1 to 4
    outputs, with or without sample weights."""
    return LINREG_SHORT_ROWS and 1 <= d <= 4 and 1 <= k <= 4


cdef double _short_rows(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    Py_ssize_t start,
    Py_ssize_t stop,
    const WorkBuffers* work,
    double* grad_by_output,
    double* grad_bias,
) noexcept nogil:
    """`_accumulate_rows` for a whole pass over rows start..stop-1 (`_short_rows_take`;
    work.sample_weight, when not NULL, weighs each row), in the C loops above."""
    cdef Py_ssize_t itemsize = sizeof(floating)
    cdef Py_ssize_t y_row = Y.strides[0] // itemsize, y_col = Y.strides[1] // itemsize
    if floating is float:
        return linreg_short_rows_f32_any(
            X.shape[1], Y.shape[1], &X[0, 0], start, stop, &Y[0, 0], y_row, y_col,
            work.w_by_output_f32, work.bias, grad_by_output, grad_bias, work.sample_weight)
    else:
        return linreg_short_rows_f64_any(
            X.shape[1], Y.shape[1], &X[0, 0], start, stop, &Y[0, 0], y_row, y_col,
            work.w_by_output, work.bias, grad_by_output, grad_bias, work.sample_weight)
