# predict for one output in the avx512 build, over float32 rows of 8 to 32 elements (the
# 16-row steps of the fused pass, one_output.pxi's reduction and row_vectors.pxi's loads,
# without the residuals and the gradient) and float64 rows of 5 to 8 (8 rows a step, one
# register a row, reduced in double). rows.pxi's `_predict_rows` calls them first and
# takes the rows after the last step; other builds and widths keep its loop of four rows
# (`_dot4`, whose sums across lanes, a row at a time, held it up: float32 predict took
# 1.4-1.5x the fused pass's time at d = 8 to 16 and was no faster than `X @ w`).
#
# Precision as rows.pxi's loop: a row's products summed in the data's dtype (float32: at
# most 32), the bias added in double, the sum rounded to the dtype once. A row's order of
# summation is fixed by d alone: the same bits for any thread count (chunks are fixed by
# size).
#
# A/B against rows.pxi's loop, 2^24 elements, 1 thread, 4 rounds, min/min (per-round
# range): float32 d = 8 0.58 (0.56-0.79), 12 0.54 (0.51-0.59), 16 0.59 (0.55-0.63), 20
# 0.84, 32 0.97, 64 (not taken) 0.99; float64 d = 5 0.77 (0.73-0.86), 6 0.74 (0.71-0.81),
# 8 0.81 (0.80-0.86). At 2^25 elements, float32 d = 8: 7.27 -> 4.44 ms, the fused pass
# 4.11, `X @ w` 6.82.

cdef extern from *:
    """
    #if defined(LINREG_ROWS_OF_16_F32)
    /* float32 rows of 8 to 32 elements, R = 1 or 2 registers a row, 16 rows a step:
       the 16 rows' sums as linreg_rows_of_16r_f32 (row_vectors.pxi) makes them, put back
       in row order, plus the bias in double, rounded to float32: out[t * out_step] for rows
       start..; returns the position after the last step. */
    LINREG_AVX512_INLINE Py_ssize_t linreg_predict_16r_f32(
        const int R, const float* X, Py_ssize_t d, Py_ssize_t start, Py_ssize_t stop,
        const float* w, double bias, float* out, Py_ssize_t out_step)
    {
        const __mmask16 m = (__mmask16) ((1u << (d - 16 * (R - 1))) - 1);
        __m512 ww[2];
        ww[0] = R == 1 ? _mm512_maskz_loadu_ps(m, w) : _mm512_loadu_ps(w);
        ww[1] = R == 1 ? ww[0] : _mm512_maskz_loadu_ps(m, w + 16);
        const __m512d bv = _mm512_set1_pd(bias);
        int order[16];
        Py_ssize_t t = start;
        int i;
        for (i = 0; i < 16; i++) order[i] = LINREG_SUM_LANE(i);  /* row i's lane in s */
        const __m512i row_order = _mm512_loadu_si512(order);
        for (; t + 16 <= stop; t += 16) {
            const float* x = X + t * d;
            __m512 p[16];
            linreg_prefetch_ahead(x, 16 * d * (Py_ssize_t) sizeof(float), X + stop * d);
            for (i = 0; i < 16; i++) {
                if (R == 1)
                    p[i] = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i * d), ww[0]);
                else
                    p[i] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i * d + 16), ww[1],
                                           _mm512_mul_ps(_mm512_loadu_ps(x + i * d), ww[0]));
            }
            __m512 s = _mm512_permutexvar_ps(row_order, linreg_row_sums_16(p));
            __m512 o = _mm512_insertf32x8(
                _mm512_castps256_ps512(_mm512_cvtpd_ps(_mm512_add_pd(
                    _mm512_cvtps_pd(_mm512_castps512_ps256(s)), bv))),
                _mm512_cvtpd_ps(_mm512_add_pd(_mm512_cvtps_pd(_mm512_extractf32x8_ps(s, 1)), bv)),
                1);
            if (out_step == 1) {
                _mm512_storeu_ps(out + t, o);
            } else {
                float held[16];
                _mm512_storeu_ps(held, o);
                for (i = 0; i < 16; i++) out[(t + i) * out_step] = held[i];
            }
        }
        return t;
    }
    static __attribute__((noinline, target(LINREG_AVX512_TARGET))) Py_ssize_t
    linreg_predict_rows_f32(const float* X, Py_ssize_t d, Py_ssize_t start, Py_ssize_t stop,
                            const float* w, double bias, float* out, Py_ssize_t out_step)
    {
        if (d < 8 || d > 32) return start;
        return d <= 16 ? linreg_predict_16r_f32(1, X, d, start, stop, w, bias, out, out_step)
                       : linreg_predict_16r_f32(2, X, d, start, stop, w, bias, out, out_step);
    }
    /* float64 rows of 5 to 8 elements, a row one register (masked), 8 rows a step:
       their products reduced by three levels of shuffles and adds, which leave the 8
       sums in row order; plus the bias, all in double. (Rows of 9 to 16, two registers
       a row: 1.01-1.03x the time of rows.pxi's loop, so they keep it.) */
    static __attribute__((noinline, target(LINREG_AVX512_TARGET))) Py_ssize_t
    linreg_predict_rows_f64(const double* X, Py_ssize_t d, Py_ssize_t start, Py_ssize_t stop,
                            const double* w, double bias, double* out, Py_ssize_t out_step)
    {
        if (d < 5 || d > 8) return start;
        const __mmask8 m = (__mmask8) ((1u << d) - 1);
        const __m512d ww = _mm512_maskz_loadu_pd(m, w), bv = _mm512_set1_pd(bias);
        Py_ssize_t t = start;
        int i, k;
        for (; t + 8 <= stop; t += 8) {
            const double* x = X + t * d;
            __m512d p[8], a[4];
            linreg_prefetch_ahead(x, 8 * d * (Py_ssize_t) sizeof(double), X + stop * d);
            for (i = 0; i < 8; i++) p[i] = _mm512_mul_pd(_mm512_maskz_loadu_pd(m, x + i * d), ww);
            /* each 128-bit block [row 2k, row 2k + 1], four partial sums of each */
            for (k = 0; k < 4; k++)
                a[k] = _mm512_add_pd(_mm512_unpacklo_pd(p[2 * k], p[2 * k + 1]),
                                     _mm512_unpackhi_pd(p[2 * k], p[2 * k + 1]));
            /* blocks [rows 0-1, 0-1, 2-3, 2-3] and [rows 4-5, 4-5, 6-7, 6-7], two partials */
            __m512d b0 = _mm512_add_pd(_mm512_shuffle_f64x2(a[0], a[1], 0x88),
                                       _mm512_shuffle_f64x2(a[0], a[1], 0xDD));
            __m512d b1 = _mm512_add_pd(_mm512_shuffle_f64x2(a[2], a[3], 0x88),
                                       _mm512_shuffle_f64x2(a[2], a[3], 0xDD));
            __m512d o = _mm512_add_pd(_mm512_add_pd(_mm512_shuffle_f64x2(b0, b1, 0x88),
                                                    _mm512_shuffle_f64x2(b0, b1, 0xDD)), bv);
            if (out_step == 1) {
                _mm512_storeu_pd(out + t, o);
            } else {
                double held[8];
                _mm512_storeu_pd(held, o);
                for (i = 0; i < 8; i++) out[(t + i) * out_step] = held[i];
            }
        }
        return t;
    }
    #else
    /* Builds without AVX-512: predict keeps rows.pxi's loop. */
    static Py_ssize_t linreg_predict_rows_f64(const double* X, Py_ssize_t d, Py_ssize_t start,
                                              Py_ssize_t stop, const double* w, double bias,
                                              double* out, Py_ssize_t out_step)
        { return start; }
    static Py_ssize_t linreg_predict_rows_f32(const float* X, Py_ssize_t d, Py_ssize_t start,
                                              Py_ssize_t stop, const float* w, double bias,
                                              float* out, Py_ssize_t out_step)
        { return start; }
    #endif
    """
    Py_ssize_t linreg_predict_rows_f32(const float* X, Py_ssize_t d, Py_ssize_t start,
                                       Py_ssize_t stop, const float* w, double bias,
                                       float* out, Py_ssize_t out_step) noexcept nogil
    Py_ssize_t linreg_predict_rows_f64(const double* X, Py_ssize_t d, Py_ssize_t start,
                                       Py_ssize_t stop, const double* w, double bias,
                                       double* out, Py_ssize_t out_step) noexcept nogil


cdef inline Py_ssize_t _predict_row_steps(
    const floating* X, Py_ssize_t d, Py_ssize_t start, Py_ssize_t stop, const floating* w,
    double bias, floating* out, Py_ssize_t out_step,
) noexcept nogil:
    """The steps above over rows start.. of X (d elements a row) for one output, where
    they apply; returns the position after the last (start where they do not)."""
    if floating is float:
        return linreg_predict_rows_f32(X, d, start, stop, w, bias, out, out_step)
    else:
        return linreg_predict_rows_f64(X, d, start, stop, w, bias, out, out_step)
