# `predict` for rows of 1 to 4 elements and 1 to 4 outputs (AVX2 and avx512 builds):
# short_rows.pxi's columns of a step of rows, each prediction in double from the bias on,
# rounded once (time / `X @ W`, before -> after: float32 d = 2, k = 1 2.18 -> 0.95,
# k = 2 2.38 -> 1.23, k = 4 3.79 -> 1.15; d = 4, k = 1 0.86 -> 0.55, k = 2 3.11 -> 1.52,
# k = 4 3.61 -> 1.38; float64 d = 2, k = 2 1.98 -> 0.88, d = 4, k = 4 1.79 -> 1.14).

cdef extern from *:
    """
    #if LINREG_SHORT_ROWS
    /* A step's 8 rows of K outputs into out (dst: the step's first row; rows out_row and
       outputs out_col elements apart), v[o] output o's, rows in order: a vector store an
       output when rows are contiguous; C-ordered rows of 2 or 4 outputs interleaved in
       registers and stored whole (element by element, k = 2 at d = 2 took 1.63x the time
       of `X @ W`, 1.23x so); else element by element. */
    LINREG_INLINE void linreg_store_output_rows_f32(const int K, const __m256* v, float* dst,
                                                    Py_ssize_t out_row, Py_ssize_t out_col)
    {
        if (out_row == 1) {
            for (int o = 0; o < K; o++) _mm256_storeu_ps(dst + o * out_col, v[o]);
        } else if (K == 2 && out_row == 2 && out_col == 1) {
            __m256 lo = _mm256_unpacklo_ps(v[0], v[1]);  /* rows 0 1 | 4 5 */
            __m256 hi = _mm256_unpackhi_ps(v[0], v[1]);  /* rows 2 3 | 6 7 */
            _mm256_storeu_ps(dst, _mm256_permute2f128_ps(lo, hi, 0x20));
            _mm256_storeu_ps(dst + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
        } else if (K == 4 && out_row == 4 && out_col == 1) {
            __m256 a = _mm256_unpacklo_ps(v[0], v[1]), b = _mm256_unpacklo_ps(v[2], v[3]);
            __m256 c = _mm256_unpackhi_ps(v[0], v[1]), e = _mm256_unpackhi_ps(v[2], v[3]);
            __m256 r04 = _mm256_shuffle_ps(a, b, 0x44), r15 = _mm256_shuffle_ps(a, b, 0xEE);
            __m256 r26 = _mm256_shuffle_ps(c, e, 0x44), r37 = _mm256_shuffle_ps(c, e, 0xEE);
            _mm256_storeu_ps(dst, _mm256_permute2f128_ps(r04, r15, 0x20));
            _mm256_storeu_ps(dst + 8, _mm256_permute2f128_ps(r26, r37, 0x20));
            _mm256_storeu_ps(dst + 16, _mm256_permute2f128_ps(r04, r15, 0x31));
            _mm256_storeu_ps(dst + 24, _mm256_permute2f128_ps(r26, r37, 0x31));
        } else {
            for (int o = 0; o < K; o++) {
                float lanes[8];
                _mm256_storeu_ps(lanes, v[o]);
                for (int i = 0; i < 8; i++) dst[i * out_row + o * out_col] = lanes[i];
            }
        }
    }

    /* `linreg_store_output_rows_f32` for float64: 4 rows. */
    LINREG_INLINE void linreg_store_output_rows_f64(const int K, const __m256d* v, double* dst,
                                                    Py_ssize_t out_row, Py_ssize_t out_col)
    {
        if (out_row == 1) {
            for (int o = 0; o < K; o++) _mm256_storeu_pd(dst + o * out_col, v[o]);
        } else if ((K == 2 || K == 4) && out_row == K && out_col == 1) {
            __m256d lo = _mm256_unpacklo_pd(v[0], v[1]);  /* rows 0 | 2 of outputs 0 1 */
            __m256d hi = _mm256_unpackhi_pd(v[0], v[1]);  /* rows 1 | 3 */
            if (K == 2) {
                _mm256_storeu_pd(dst, _mm256_permute2f128_pd(lo, hi, 0x20));
                _mm256_storeu_pd(dst + 4, _mm256_permute2f128_pd(lo, hi, 0x31));
            } else {
                __m256d lo2 = _mm256_unpacklo_pd(v[2], v[3]), hi2 = _mm256_unpackhi_pd(v[2], v[3]);
                _mm256_storeu_pd(dst, _mm256_permute2f128_pd(lo, lo2, 0x20));
                _mm256_storeu_pd(dst + 4, _mm256_permute2f128_pd(hi, hi2, 0x20));
                _mm256_storeu_pd(dst + 8, _mm256_permute2f128_pd(lo, lo2, 0x31));
                _mm256_storeu_pd(dst + 12, _mm256_permute2f128_pd(hi, hi2, 0x31));
            }
        } else {
            for (int o = 0; o < K; o++) {
                double lanes[4];
                _mm256_storeu_pd(lanes, v[o]);
                for (int i = 0; i < 4; i++) dst[i * out_row + o * out_col] = lanes[i];
            }
        }
    }

    /* Predictions out[t, o] = x_t . w_o + b_o for rows start..stop-1, from the same
       columns: each in double, from the bias on, rounded once to the data's type. */
    LINREG_INLINE void linreg_short_predict_f32(
        const int D, const int K, const float* X, Py_ssize_t start, Py_ssize_t stop,
        const float* W, const double* bias, float* out, Py_ssize_t out_row, Py_ssize_t out_col)
    {
        /* the row in each lane of a step's columns */
        static const int in_order[8] = {0, 1, 2, 3, 4, 5, 6, 7};
        static const int order_2[8] = {0, 1, 4, 5, 2, 3, 6, 7};
        static const int order_4[8] = {0, 2, 4, 6, 1, 3, 5, 7};
        const int* order = D == 2 ? order_2 : D == 4 ? order_4 : in_order;
        __m256d wv[4][4], bv[4], x_lo[4], x_hi[4];
        for (int o = 0; o < K; o++) {
            bv[o] = _mm256_set1_pd(bias[o]);
            for (int j = 0; j < D; j++) wv[o][j] = _mm256_set1_pd((double) W[o * D + j]);
        }
        /* out's rows whole, K = 2 or 4 outputs side by side: interleaved in registers
           (`linreg_store_output_rows_f32`, called with out's strides as constants: with
           them as variables, k = 4 at d = 2 took 1.37x the time). */
        const int rows_whole = (K == 2 || K == 4) && out_row == K && out_col == 1;
        Py_ssize_t t = start;
        for (; t + 8 <= stop; t += 8) {
            linreg_columns_of_8_rows_f32(D, X + D * t, x_lo, x_hi);
            __m256 v[4];
            for (int o = 0; o < K; o++) {
                __m256d s_lo = bv[o], s_hi = bv[o];
                for (int j = 0; j < D; j++) {
                    s_lo = _mm256_fmadd_pd(x_lo[j], wv[o][j], s_lo);
                    s_hi = _mm256_fmadd_pd(x_hi[j], wv[o][j], s_hi);
                }
                v[o] = _mm256_set_m128(_mm256_cvtpd_ps(s_hi), _mm256_cvtpd_ps(s_lo));
                if (out_row == 1 || rows_whole) {  /* back to the rows' order */
                    if (D == 2)
                        v[o] = _mm256_castpd_ps(
                            _mm256_permute4x64_pd(_mm256_castps_pd(v[o]), 0xD8));
                    else if (D == 4)
                        v[o] = _mm256_permutevar8x32_ps(
                            v[o], _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
                }
                if (out_row == 1) {
                    _mm256_storeu_ps(out + t + o * out_col, v[o]);
                } else if (!rows_whole) {
                    float lanes[8];
                    float* dst = out + t * out_row + o * out_col;
                    _mm256_storeu_ps(lanes, v[o]);
                    for (int i = 0; i < 8; i++) dst[order[i] * out_row] = lanes[i];
                }
            }
            if (rows_whole && out_row != 1)  /* out_row == K, out_col == 1: constants */
                linreg_store_output_rows_f32(K, v, out + t * K, K, 1);
        }
        for (; t < stop; t++)
            for (int o = 0; o < K; o++) {
                double s = bias[o];
                for (int j = 0; j < D; j++)
                    s = fma((double) X[D * t + j], (double) W[o * D + j], s);
                out[t * out_row + o * out_col] = (float) s;
            }
    }

    LINREG_INLINE void linreg_short_predict_f64(
        const int D, const int K, const double* X, Py_ssize_t start, Py_ssize_t stop,
        const double* W, const double* bias, double* out, Py_ssize_t out_row, Py_ssize_t out_col)
    {
        static const int in_order[4] = {0, 1, 2, 3}, order_2[4] = {0, 2, 1, 3};
        const int* order = D == 2 ? order_2 : in_order;
        __m256d wv[4][4], bv[4], c[4];
        for (int o = 0; o < K; o++) {
            bv[o] = _mm256_set1_pd(bias[o]);
            for (int j = 0; j < D; j++) wv[o][j] = _mm256_set1_pd(W[o * D + j]);
        }
        const int rows_whole = (K == 2 || K == 4) && out_row == K && out_col == 1;
        Py_ssize_t t = start;
        for (; t + 4 <= stop; t += 4) {
            linreg_columns_of_4_rows_f64(D, X + D * t, c);
            __m256d v[4];
            for (int o = 0; o < K; o++) {
                __m256d s = bv[o];
                for (int j = 0; j < D; j++) s = _mm256_fmadd_pd(c[j], wv[o][j], s);
                v[o] = (out_row == 1 || rows_whole) && D == 2 ? _mm256_permute4x64_pd(s, 0xD8) : s;
                if (out_row == 1) {
                    _mm256_storeu_pd(out + t + o * out_col, v[o]);
                } else if (!rows_whole) {
                    double lanes[4];
                    double* dst = out + t * out_row + o * out_col;
                    _mm256_storeu_pd(lanes, s);
                    for (int i = 0; i < 4; i++) dst[order[i] * out_row] = lanes[i];
                }
            }
            if (rows_whole && out_row != 1)  /* out_row == K, out_col == 1: constants */
                linreg_store_output_rows_f64(K, v, out + t * K, K, 1);
        }
        for (; t < stop; t++)
            for (int o = 0; o < K; o++) {
                double s = bias[o];
                for (int j = 0; j < D; j++) s = fma(X[D * t + j], W[o * D + j], s);
                out[t * out_row + o * out_col] = s;
            }
    }

    #define LINREG_PREDICT_ARGS(T) const T* X, Py_ssize_t start, Py_ssize_t stop,          \\
        const T* W, const double* bias, T* out, Py_ssize_t out_row, Py_ssize_t out_col
    #define LINREG_PREDICT_NAMES X, start, stop, W, bias, out, out_row, out_col
    #define LINREG_PREDICT_FN(SUF, T, D, K)                                              \\
        static __attribute__((noinline)) void linreg_short_predict_##SUF##_##D##_##K(    \\
            LINREG_PREDICT_ARGS(T))                                                      \\
            { linreg_short_predict_##SUF(D, K, LINREG_PREDICT_NAMES); }
    #define LINREG_PREDICT_FNS_D(SUF, T, D)                                              \\
        LINREG_PREDICT_FN(SUF, T, D, 1) LINREG_PREDICT_FN(SUF, T, D, 2)                  \\
        LINREG_PREDICT_FN(SUF, T, D, 3) LINREG_PREDICT_FN(SUF, T, D, 4)
    #define LINREG_PREDICT_FNS(SUF, T)                                                   \\
        LINREG_PREDICT_FNS_D(SUF, T, 1) LINREG_PREDICT_FNS_D(SUF, T, 2)                  \\
        LINREG_PREDICT_FNS_D(SUF, T, 3) LINREG_PREDICT_FNS_D(SUF, T, 4)
    LINREG_PREDICT_FNS(f32, float)
    LINREG_PREDICT_FNS(f64, double)
    #define LINREG_PREDICT_CASES_D(SUF, D)                                               \\
        case 16 * (D) + 1: linreg_short_predict_##SUF##_##D##_1(LINREG_PREDICT_NAMES); return; \\
        case 16 * (D) + 2: linreg_short_predict_##SUF##_##D##_2(LINREG_PREDICT_NAMES); return; \\
        case 16 * (D) + 3: linreg_short_predict_##SUF##_##D##_3(LINREG_PREDICT_NAMES); return; \\
        case 16 * (D) + 4: linreg_short_predict_##SUF##_##D##_4(LINREG_PREDICT_NAMES); return;
    #define LINREG_PREDICT_SWITCH(SUF)                                                   \\
        switch (16 * d + k) {                                                            \\
            LINREG_PREDICT_CASES_D(SUF, 1) LINREG_PREDICT_CASES_D(SUF, 2)                \\
            LINREG_PREDICT_CASES_D(SUF, 3) LINREG_PREDICT_CASES_D(SUF, 4)                \\
        }
    static void linreg_short_predict_f32_any(Py_ssize_t d, Py_ssize_t k,
                                             LINREG_PREDICT_ARGS(float))
        { LINREG_PREDICT_SWITCH(f32) }
    static void linreg_short_predict_f64_any(Py_ssize_t d, Py_ssize_t k,
                                             LINREG_PREDICT_ARGS(double))
        { LINREG_PREDICT_SWITCH(f64) }
    #else
    #define LINREG_PREDICT_ARGS(T) const T* X, Py_ssize_t start, Py_ssize_t stop,          \\
        const T* W, const double* bias, T* out, Py_ssize_t out_row, Py_ssize_t out_col
    static void linreg_short_predict_f32_any(Py_ssize_t d, Py_ssize_t k,
                                             LINREG_PREDICT_ARGS(float)) {}
    static void linreg_short_predict_f64_any(Py_ssize_t d, Py_ssize_t k,
                                             LINREG_PREDICT_ARGS(double)) {}
    #endif
    """
    void linreg_short_predict_f32_any(
        Py_ssize_t d, Py_ssize_t k, const float* X, Py_ssize_t start, Py_ssize_t stop,
        const float* W, const double* bias, float* out, Py_ssize_t out_row,
        Py_ssize_t out_col) noexcept nogil
    void linreg_short_predict_f64_any(
        Py_ssize_t d, Py_ssize_t k, const double* X, Py_ssize_t start, Py_ssize_t stop,
        const double* W, const double* bias, double* out, Py_ssize_t out_row,
        Py_ssize_t out_col) noexcept nogil


cdef inline bint _short_predict_takes(Py_ssize_t d, Py_ssize_t k) noexcept nogil:
    """Whether `_predict_rows` takes `_short_predict`: rows of 1 to 4 elements, 1 to 4
    outputs."""
    return LINREG_SHORT_ROWS and 1 <= d <= 4 and 1 <= k <= 4


cdef void _short_predict(
    const floating[:, ::1] X, floating[:, :] out, const WorkBuffers* work, Py_ssize_t start,
    Py_ssize_t stop,
) noexcept nogil:
    """`_predict_rows` for rows start..stop-1 (`_short_predict_takes`), in the C loops
    above."""
    cdef Py_ssize_t itemsize = sizeof(floating)
    cdef Py_ssize_t out_row = out.strides[0] // itemsize, out_col = out.strides[1] // itemsize
    if floating is float:
        linreg_short_predict_f32_any(X.shape[1], out.shape[1], &X[0, 0], start, stop,
                                     work.w_by_output_f32, work.bias, &out[0, 0], out_row,
                                     out_col)
    else:
        linreg_short_predict_f64_any(X.shape[1], out.shape[1], &X[0, 0], start, stop,
                                     work.w_by_output, work.bias, &out[0, 0], out_row, out_col)
