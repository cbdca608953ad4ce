# Whole passes for one output over float32 rows of 5 to 32 elements and float64 rows of 5
# to 16 (but 8, which one_output.pxi's own loops take), with or without sample weights:
# one_output.pxi's step with one to four vectors a row (AVX2 and AVX-512 builds; the
# generic build keeps rows.pxi's loops). The helpers, the prefetching and the precision
# are one_output.pxi's.
#
# float32 rows take one_output.pxi's step of 8 rows with one to four vectors a row, the
# last loaded whole and its lanes past the row cleared (`linreg_rows_of_n_f32`; with a
# masked load the pass took 1.03-1.06x the time):
# rows.pxi's loop for any d spent its time on vector tails there (1 thread, 2^23
# elements, time / that of `X @ w`, before -> after: d = 9 1.29 -> 0.82, 12 1.94 ->
# 1.20, 15 1.54 -> 0.68, 20 1.74 -> 1.22, 23 1.29 -> 0.70, 28 1.73 -> 1.29, 31 1.09 ->
# 0.75, 32 1.14 -> 1.06).
# Rows of 5 to 7 came later (rows.pxi's loop compiled for their width, 2^24 elements,
# 5.2-5.7 ms; here 2.8-3.9 ms, d = 7 0.50x, d = 6 0.63x, d = 5 0.73x the time), and
# float64 rows of 5 to 16 (but 8) likewise, 4 rows a step, one to four vectors a row
# (`linreg_rows_of_n_f64`; 2^23 elements, time / rows.pxi's loop: d = 5, 6, 7 0.55-0.57,
# 9, 10 0.60, 12, 13 0.72-0.74, 15 0.69, 16 0.80; rows of 20 stay with rows.pxi, whose
# prefetched groups of four rows take about the time of the read).
#
# Whole passes with sample weights take the same steps (`linreg_weighted_rows_of_n_*`,
# `_weighted_rows`): each residual r_i counts as w_i r_i in the bias and gradient sums
# and w_i r_i^2 in the loss, as in rows.pxi's weighted loop, which took 1.4-2.9x the time
# of an unweighted pass at these widths (2^23 elements, 1 thread, time / before: float32
# d = 5, 8, 12, 16, 32 0.55, 0.50, 0.53, 0.55, 0.66; float64 d = 5, 8, 12, 16 0.53-0.58);
# rows of 8 included, through one_output.pxi's steps of 8 elements.

cdef extern from *:
    """
    #if defined(__AVX2__) && defined(__FMA__)
    /* Rows of d float32, d = 8 (V - 1) + 1 .. 8 V for V = 1..4: a row is V - 1
       full vectors and one partial one, loaded whole (running into the next row, which
       the caller guarantees is there) and its lanes past the row cleared. A step of 8
       rows as `linreg_step_8_f32`: the products of a row summed across its lanes in
       float32 (a run of at most 32, as `_dot`'s F32_CHUNK), the gradient terms of the
       8 rows in float32, then promoted. */
    LINREG_INLINE void linreg_step_v_f32(
        const int V, const float* const* x, __m256i mask, __m256 yv, const __m256* w,
        __m256d bv, const int WEIGHTED, __m256d s_lo, __m256d s_hi, __m256d* g,
        __m256d* sse, __m256d* sum)
    {
        __m256 a[8][4], p[8];
        for (int i = 0; i < 8; i++) {
            for (int v = 0; v < V - 1; v++) a[i][v] = _mm256_loadu_ps(x[i] + 8 * v);
            a[i][V - 1] = _mm256_and_ps(_mm256_loadu_ps(x[i] + 8 * (V - 1)),
                                        _mm256_castsi256_ps(mask));
            p[i] = _mm256_mul_ps(a[i][0], w[0]);
            for (int v = 1; v < V; v++) p[i] = _mm256_fmadd_ps(a[i][v], w[v], p[i]);
        }
        __m256 s = linreg_lane_sums_8x8(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]);
        __m256d r_lo = _mm256_sub_pd(
            _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(s)), bv),
            _mm256_cvtps_pd(_mm256_castps256_ps128(yv)));
        __m256d r_hi = _mm256_sub_pd(
            _mm256_add_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(s, 1)), bv),
            _mm256_cvtps_pd(_mm256_extractf128_ps(yv, 1)));
        __m256d q_lo = WEIGHTED ? _mm256_mul_pd(s_lo, r_lo) : r_lo;
        __m256d q_hi = WEIGHTED ? _mm256_mul_pd(s_hi, r_hi) : r_hi;
        *sse = _mm256_add_pd(*sse, _mm256_fmadd_pd(q_hi, r_hi, _mm256_mul_pd(q_lo, r_lo)));
        *sum = _mm256_add_pd(*sum, _mm256_add_pd(q_lo, q_hi));
        float rf[8];
        _mm256_storeu_ps(rf, _mm256_set_m128(_mm256_cvtpd_ps(q_hi), _mm256_cvtpd_ps(q_lo)));
        __m256 b[8];
        for (int i = 0; i < 8; i++) b[i] = _mm256_broadcast_ss(rf + i);
        for (int v = 0; v < V; v++) {
            /* ((f0 x0 + f1 x1) + (f2 x2 + f3 x3)) + (...) in float32, as the d = 8 step */
            __m256 q = _mm256_add_ps(
                _mm256_add_ps(_mm256_fmadd_ps(b[1], a[1][v], _mm256_mul_ps(b[0], a[0][v])),
                              _mm256_fmadd_ps(b[3], a[3][v], _mm256_mul_ps(b[2], a[2][v]))),
                _mm256_add_ps(_mm256_fmadd_ps(b[5], a[5][v], _mm256_mul_ps(b[4], a[4][v])),
                              _mm256_fmadd_ps(b[7], a[7][v], _mm256_mul_ps(b[6], a[6][v]))));
            g[2 * v] = _mm256_add_pd(g[2 * v], _mm256_cvtps_pd(_mm256_castps256_ps128(q)));
            g[2 * v + 1] = _mm256_add_pd(g[2 * v + 1],
                                         _mm256_cvtps_pd(_mm256_extractf128_ps(q, 1)));
        }
    }

    /* Rows start..stop-1 of X (rows of d floats, V vectors), 8 at a time, as
       `linreg_rows_of_8_f32`; with `rows` (a subset, which whole passes never give)
       nothing, *done = start, and the caller's loop sums them. */
    LINREG_INLINE double linreg_rows_of_v_f32(
        const int V, const int WEIGHTED, const double* sw, const float* X, Py_ssize_t d,
        const Py_ssize_t* rows, Py_ssize_t start, Py_ssize_t stop, const float* y,
        Py_ssize_t y_step, const float* w, double bias, double* grad, double* bias_sum,
        Py_ssize_t* done)
    {
        const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i mask = _mm256_cmpgt_epi32(
            _mm256_set1_epi32((int) (d - 8 * (V - 1))), lanes);
        __m256 wv[4];
        for (int v = 0; v < V - 1; v++) wv[v] = _mm256_loadu_ps(w + 8 * v);
        wv[V - 1] = _mm256_maskload_ps(w + 8 * (V - 1), mask);
        const __m256d bv = _mm256_set1_pd(bias);
        double held[32];  /* the gradient, padded to whole vectors */
        for (Py_ssize_t j = 0; j < 8 * V; j++) held[j] = j < d ? grad[j] : 0.0;
        __m256d g[8];
        for (int v = 0; v < 2 * V; v++) g[v] = _mm256_loadu_pd(held + 4 * v);
        __m256d sse = _mm256_setzero_pd(), sum = _mm256_setzero_pd();
        const float* x[8];
        Py_ssize_t t = start;
        /* Only whole passes, which read X in order (rows == NULL): a step's last vectors
           are read whole, running into the next row, and their lanes past the row
           cleared (with a masked load, vmaskmovps, the pass took 1.03-1.06x the time at
           d = 9..31, 1 thread, 2^24 elements). The last step leaves a row after it, so no
           read leaves the run. */
        if (rows == NULL) {
            for (; t + 8 < stop; t += 8) {
                for (int i = 0; i < 8; i++) x[i] = X + (t + i) * d;
                linreg_prefetch_ahead(x[0], 8 * d * (Py_ssize_t) sizeof(float),
                                      X + stop * d);
                const float* yt = y + t * y_step;
                __m256 yv = y_step == 1 ? _mm256_loadu_ps(yt) : _mm256_setr_ps(
                    yt[0], yt[y_step], yt[2 * y_step], yt[3 * y_step], yt[4 * y_step],
                    yt[5 * y_step], yt[6 * y_step], yt[7 * y_step]);
                __m256d s_lo = bv, s_hi = bv;
                if (WEIGHTED) {
                    s_lo = _mm256_loadu_pd(sw + t);
                    s_hi = _mm256_loadu_pd(sw + t + 4);
                }
                linreg_step_v_f32(V, x, mask, yv, wv, bv, WEIGHTED, s_lo, s_hi, g, &sse,
                                  &sum);
            }
        }
        for (int v = 0; v < 2 * V; v++) _mm256_storeu_pd(held + 4 * v, g[v]);
        for (Py_ssize_t j = 0; j < d; j++) grad[j] = held[j];
        *bias_sum += linreg_lanes_total(sum);
        *done = t;
        return linreg_lanes_total(sse);
    }

    #if defined(LINREG_ROWS_OF_16_F32)
    /* The avx512 build: float32 rows of 9 to 32 elements, 16 rows a step, a row R = 1
       or 2 registers (the last a masked load: no lane past the row is read; with two,
       a row's products are added lane by lane first, at most 32 summed in float32). The 16 rows' dot products
       are folded pairwise into one_output.pxi's 4 rows x 4 partial sums (16 shuffles and
       8 adds), then reduced as its rows of 8 are (`linreg_sums_of_16`); each row's
       residual is broadcast from its lane to the row's gradient terms, the 16 rows' terms
       summed in float32, then in double. C harness, d = 9, 12, 16: 1.15-1.2 ns a row in
       cache, 1.2-1.4 from memory; the pass with the AVX2 step, d = 12: 1.7. Fused epoch,
       2^24 elements, 1 thread, time / the AVX2 step's: d = 9 0.78, 12 0.81 (2.41 -> 1.95
       ms), 13 0.84, 16 0.86 (3 rounds, per-round 0.76-0.89); two registers a row:
       d = 17 0.88, 20 0.89, 28 0.85, 32 0.84-0.87, 24 (no partial vector in the AVX2
       step) 1.00. */
    /* The sums of 16 rows from their products p[i] (row i's 16 lanes of partial sums),
       folded pairwise into 4 rows x 4 partial sums each, then reduced by
       linreg_sums_of_16: in its lane order LINREG_SUM_LANE (also row_predict.pxi's). */
    LINREG_AVX512_INLINE __m512 linreg_row_sums_16(const __m512* p)
    {
        __m512 c[8];
        for (int k = 0; k < 8; k++) c[k] = LINREG_FOLD_BLOCKS(p[2 * k], p[2 * k + 1], 0x44, 0xEE);
        return linreg_sums_of_16(
            LINREG_FOLD_BLOCKS(c[0], c[1], 0x88, 0xDD), LINREG_FOLD_BLOCKS(c[2], c[3], 0x88, 0xDD),
            LINREG_FOLD_BLOCKS(c[4], c[5], 0x88, 0xDD), LINREG_FOLD_BLOCKS(c[6], c[7], 0x88, 0xDD));
    }
    LINREG_AVX512_INLINE double linreg_rows_of_16r_f32(
        const int R, const float* X, Py_ssize_t d, Py_ssize_t start, Py_ssize_t stop,
        const float* y, Py_ssize_t y_step, const float* w, double bias, double* grad,
        double* bias_sum, Py_ssize_t* done)
    {
        /* R registers a row: R - 1 whole, the last masked */
        const __mmask16 m = (__mmask16) ((1u << (d - 16 * (R - 1))) - 1);
        __m512 ww[2];
        ww[0] = R == 1 ? _mm512_maskz_loadu_ps(m, w) : _mm512_loadu_ps(w);
        ww[1] = R == 1 ? ww[0] : _mm512_maskz_loadu_ps(m, w + 16);
        const __m512d bv = _mm512_set1_pd(bias);
        double held[32];  /* the gradient, padded to 16 R */
        __m512i lane_of[16];
        __m512d g[4];
        Py_ssize_t t = start, j;
        int i, k, v;
        for (j = 0; j < 16 * R; j++) held[j] = j < d ? grad[j] : 0.0;
        for (v = 0; v < 2 * R; v++) g[v] = _mm512_loadu_pd(held + 8 * v);
        __m512d sse = _mm512_setzero_pd(), sum = sse;
        for (i = 0; i < 16; i++) lane_of[i] = _mm512_set1_epi32(LINREG_SUM_LANE(i));
        const __m512i y_order = linreg_y_order_16();
        for (; t + 16 <= stop; t += 16) {
            const float* x = X + t * d;
            __m512 z[16][2], p[16], b[16];
            linreg_prefetch_ahead(x, 16 * d * (Py_ssize_t) sizeof(float), X + stop * d);
            for (i = 0; i < 16; i++) {
                if (R == 1) {
                    z[i][0] = _mm512_maskz_loadu_ps(m, x + i * d);
                    p[i] = _mm512_mul_ps(z[i][0], ww[0]);
                } else {
                    z[i][0] = _mm512_loadu_ps(x + i * d);
                    z[i][1] = _mm512_maskz_loadu_ps(m, x + i * d + 16);
                    p[i] = _mm512_fmadd_ps(z[i][1], ww[1], _mm512_mul_ps(z[i][0], ww[0]));
                }
            }
            __m512 rf = linreg_residuals_16(linreg_row_sums_16(p),
                                            linreg_y_lanes_16(y, t, y_step, y_order), bv,
                                            &sse, &sum);
            /* Each row's residual across a register: once for both registers of a row
               (R = 2); with one, as it is used (held for the row, 1.03x the time) */
            for (i = 0; i < 16 && R == 2; i++) b[i] = _mm512_permutexvar_ps(lane_of[i], rf);
            for (v = 0; v < R; v++) {
                __m512 a[8];
                for (k = 0; k < 8; k++)
                    a[k] = _mm512_fmadd_ps(
                        R == 2 ? b[2 * k + 1] : _mm512_permutexvar_ps(lane_of[2 * k + 1], rf),
                        z[2 * k + 1][v],
                        _mm512_mul_ps(R == 2 ? b[2 * k] : _mm512_permutexvar_ps(lane_of[2 * k], rf),
                                      z[2 * k][v]));
                __m512 terms = _mm512_add_ps(
                    _mm512_add_ps(_mm512_add_ps(a[0], a[1]), _mm512_add_ps(a[2], a[3])),
                    _mm512_add_ps(_mm512_add_ps(a[4], a[5]), _mm512_add_ps(a[6], a[7])));
                g[2 * v] = _mm512_add_pd(g[2 * v], _mm512_cvtps_pd(_mm512_castps512_ps256(terms)));
                g[2 * v + 1] = _mm512_add_pd(g[2 * v + 1],
                                             _mm512_cvtps_pd(_mm512_extractf32x8_ps(terms, 1)));
            }
        }
        for (v = 0; v < 2 * R; v++) _mm512_storeu_pd(held + 8 * v, g[v]);
        for (j = 0; j < d; j++) grad[j] = held[j];
        *bias_sum += _mm512_reduce_add_pd(sum);
        *done = t;
        return _mm512_reduce_add_pd(sse);
    }
    #define LINREG_ROWS_OF_16R_ARGS                                                      \
        const float* X, Py_ssize_t d, Py_ssize_t start, Py_ssize_t stop, const float* y,  \
        Py_ssize_t y_step, const float* w, double bias, double* grad, double* bias_sum,  \
        Py_ssize_t* done
    #define LINREG_ROWS_OF_16R_NAMES X, d, start, stop, y, y_step, w, bias, grad, bias_sum, done
    static __attribute__((noinline, target(LINREG_AVX512_TARGET))) double
    linreg_rows_of_16m_f32(LINREG_ROWS_OF_16R_ARGS)
        { return linreg_rows_of_16r_f32(1, LINREG_ROWS_OF_16R_NAMES); }
    static __attribute__((noinline, target(LINREG_AVX512_TARGET))) double
    linreg_rows_of_32m_f32(LINREG_ROWS_OF_16R_ARGS)
        { return linreg_rows_of_16r_f32(2, LINREG_ROWS_OF_16R_NAMES); }
    #endif

    /* float32 rows of 5 to 32 elements, their vectors' count a constant in each loop.
       (Rows of 2 to 4 take short_rows.pxi's columns.) */
    static double linreg_rows_of_1v_f32(LINREG_ROWS_OF_V_ARGS)
        { return linreg_rows_of_v_f32(1, 0, NULL, LINREG_ROWS_OF_V_NAMES); }
    static double linreg_rows_of_2v_f32(LINREG_ROWS_OF_V_ARGS)
        { return linreg_rows_of_v_f32(2, 0, NULL, LINREG_ROWS_OF_V_NAMES); }
    static double linreg_rows_of_3v_f32(LINREG_ROWS_OF_V_ARGS)
        { return linreg_rows_of_v_f32(3, 0, NULL, LINREG_ROWS_OF_V_NAMES); }
    static double linreg_rows_of_4v_f32(LINREG_ROWS_OF_V_ARGS)
        { return linreg_rows_of_v_f32(4, 0, NULL, LINREG_ROWS_OF_V_NAMES); }
    static double linreg_rows_of_n_f32(LINREG_ROWS_OF_V_ARGS)
    {
        double sse = 0.0;
    #if defined(LINREG_ROWS_OF_16_F32)
        if (rows == NULL && d > 8)  /* whole passes: steps of 16 rows first */
            sse = (d <= 16 ? linreg_rows_of_16m_f32 : linreg_rows_of_32m_f32)(
                X, d, start, stop, y, y_step, w, bias, grad, bias_sum, &start);
    #endif
        switch ((d + 7) / 8) {
            case 1: return linreg_rows_of_1v_f32(LINREG_ROWS_OF_V_NAMES);
            case 2: return sse + linreg_rows_of_2v_f32(LINREG_ROWS_OF_V_NAMES);
            case 3: return sse + linreg_rows_of_3v_f32(LINREG_ROWS_OF_V_NAMES);
            default: return sse + linreg_rows_of_4v_f32(LINREG_ROWS_OF_V_NAMES);
        }
    }

    /* float64 rows of d = 4 (V - 1) + 1 .. 4 V elements, V = 2..4, as
       `linreg_step_v_f32`: a step of 4 rows, V vectors a row, the last loaded whole and
       its lanes past the row cleared; the rows' dot products reduced together (as
       `linreg_step_4_f64`), the gradient terms of the 4 rows summed in registers. */
    LINREG_INLINE void linreg_step_v_f64(
        const int V, const double* const* x, __m256i mask, __m256d yv, const __m256d* w,
        __m256d bv, const int WEIGHTED, __m256d sv, __m256d* g, __m256d* sse, __m256d* sum)
    {
        __m256d a[4][4], p[4];
        for (int i = 0; i < 4; i++) {
            for (int v = 0; v < V - 1; v++) a[i][v] = _mm256_loadu_pd(x[i] + 4 * v);
            a[i][V - 1] = _mm256_and_pd(_mm256_loadu_pd(x[i] + 4 * (V - 1)),
                                        _mm256_castsi256_pd(mask));
            p[i] = _mm256_mul_pd(a[i][0], w[0]);
            for (int v = 1; v < V; v++) p[i] = _mm256_fmadd_pd(a[i][v], w[v], p[i]);
        }
        __m256d s = linreg_lane_sums_4x4(p[0], p[1], p[2], p[3]);
        __m256d r = _mm256_sub_pd(_mm256_add_pd(s, bv), yv);
        __m256d q = WEIGHTED ? _mm256_mul_pd(sv, r) : r;
        *sse = _mm256_fmadd_pd(q, r, *sse);
        *sum = _mm256_add_pd(*sum, q);
        __m256d r01 = _mm256_permute2f128_pd(q, q, 0x00), r23 = _mm256_permute2f128_pd(q, q, 0x11);
        __m256d q0 = _mm256_permute_pd(r01, 0x0), q1 = _mm256_permute_pd(r01, 0xF);
        __m256d q2 = _mm256_permute_pd(r23, 0x0), q3 = _mm256_permute_pd(r23, 0xF);
        for (int v = 0; v < V; v++)
            g[v] = _mm256_add_pd(g[v], _mm256_add_pd(
                _mm256_fmadd_pd(q1, a[1][v], _mm256_mul_pd(q0, a[0][v])),
                _mm256_fmadd_pd(q3, a[3][v], _mm256_mul_pd(q2, a[2][v]))));
    }

    /* Rows start..stop-1 of X (rows of d doubles, V vectors), 4 at a time, as
       `linreg_rows_of_v_f32`: whole passes only (rows == NULL), the last step leaving a
       row after it. */
    LINREG_INLINE double linreg_rows_of_v_f64(
        const int V, const int WEIGHTED, const double* sw, const double* X, Py_ssize_t d,
        const Py_ssize_t* rows, Py_ssize_t start, Py_ssize_t stop, const double* y,
        Py_ssize_t y_step, const double* w, double bias, double* grad, double* bias_sum,
        Py_ssize_t* done)
    {
        const __m256i mask = _mm256_cmpgt_epi64(
            _mm256_set1_epi64x((long long) (d - 4 * (V - 1))),
            _mm256_setr_epi64x(0, 1, 2, 3));
        __m256d wv[4];
        for (int v = 0; v < V - 1; v++) wv[v] = _mm256_loadu_pd(w + 4 * v);
        wv[V - 1] = _mm256_maskload_pd(w + 4 * (V - 1), mask);
        const __m256d bv = _mm256_set1_pd(bias);
        double held[16];  /* the gradient, padded to whole vectors */
        for (Py_ssize_t j = 0; j < 4 * V; j++) held[j] = j < d ? grad[j] : 0.0;
        __m256d g[4];
        for (int v = 0; v < V; v++) g[v] = _mm256_loadu_pd(held + 4 * v);
        __m256d sse = _mm256_setzero_pd(), sum = _mm256_setzero_pd();
        const double* x[4];
        Py_ssize_t t = start;
        if (rows == NULL) {
            for (; t + 4 < stop; t += 4) {
                for (int i = 0; i < 4; i++) x[i] = X + (t + i) * d;
                linreg_prefetch_ahead(x[0], 4 * d * (Py_ssize_t) sizeof(double),
                                      X + stop * d);
                const double* yt = y + t * y_step;
                __m256d yv = y_step == 1 ? _mm256_loadu_pd(yt) : _mm256_setr_pd(
                    yt[0], yt[y_step], yt[2 * y_step], yt[3 * y_step]);
                linreg_step_v_f64(V, x, mask, yv, wv, bv, WEIGHTED,
                                  WEIGHTED ? _mm256_loadu_pd(sw + t) : bv, g, &sse, &sum);
            }
        }
        for (int v = 0; v < V; v++) _mm256_storeu_pd(held + 4 * v, g[v]);
        for (Py_ssize_t j = 0; j < d; j++) grad[j] = held[j];
        *bias_sum += linreg_lanes_total(sum);
        *done = t;
        return linreg_lanes_total(sse);
    }

    #define LINREG_ROWS_OF_V_F64_ARGS                                                    \
        const double* X, Py_ssize_t d, const Py_ssize_t* rows, Py_ssize_t start,         \
        Py_ssize_t stop, const double* y, Py_ssize_t y_step, const double* w,            \
        double bias, double* grad, double* bias_sum, Py_ssize_t* done
    static double linreg_rows_of_2v_f64(LINREG_ROWS_OF_V_F64_ARGS)
        { return linreg_rows_of_v_f64(2, 0, NULL, LINREG_ROWS_OF_V_NAMES); }
    static double linreg_rows_of_3v_f64(LINREG_ROWS_OF_V_F64_ARGS)
        { return linreg_rows_of_v_f64(3, 0, NULL, LINREG_ROWS_OF_V_NAMES); }
    static double linreg_rows_of_4v_f64(LINREG_ROWS_OF_V_F64_ARGS)
        { return linreg_rows_of_v_f64(4, 0, NULL, LINREG_ROWS_OF_V_NAMES); }
    /* float64 rows of 5 to 16 elements (8: `linreg_rows_of_8_f64`). */
    static double linreg_rows_of_n_f64(LINREG_ROWS_OF_V_F64_ARGS)
    {
        switch ((d + 3) / 4) {
            case 2: return linreg_rows_of_2v_f64(LINREG_ROWS_OF_V_NAMES);
            case 3: return linreg_rows_of_3v_f64(LINREG_ROWS_OF_V_NAMES);
            default: return linreg_rows_of_4v_f64(LINREG_ROWS_OF_V_NAMES);
        }
    }

    /* Whole passes with sample weights (sw[t]: row t's), rows start..stop-1 in order: the
       steps above with each residual weighted (`linreg_step_8_f32`). */
    #define LINREG_WEIGHTED_ARGS(T)                                                      \\
        const double* sw, const T* X, Py_ssize_t d, Py_ssize_t start, Py_ssize_t stop,   \\
        const T* y, Py_ssize_t y_step, const T* w, double bias, double* grad,            \\
        double* bias_sum, Py_ssize_t* done
    static double linreg_weighted_rows_of_8_f32(LINREG_WEIGHTED_ARGS(float))
    {
        const __m256 wv = _mm256_loadu_ps(w);
        const __m256d bv = _mm256_set1_pd(bias);
        __m256d g_lo = _mm256_loadu_pd(grad), g_hi = _mm256_loadu_pd(grad + 4);
        __m256d sse = _mm256_setzero_pd(), sum = _mm256_setzero_pd();
        Py_ssize_t t = start;
        (void) d;
        for (; t + 8 <= stop; t += 8) {
            const float* x = X + 8 * t;
            linreg_prefetch_ahead(x, 8 * 8 * sizeof(float), X + 8 * stop);
            const float* yt = y + t * y_step;
            __m256 yv = y_step == 1 ? _mm256_loadu_ps(yt) : _mm256_setr_ps(
                yt[0], yt[y_step], yt[2 * y_step], yt[3 * y_step], yt[4 * y_step],
                yt[5 * y_step], yt[6 * y_step], yt[7 * y_step]);
            linreg_step_8_f32(x, x + 8, x + 16, x + 24, x + 32, x + 40, x + 48, x + 56,
                              yv, wv, bv, 1, _mm256_loadu_pd(sw + t),
                              _mm256_loadu_pd(sw + t + 4), &g_lo, &g_hi, &sse, &sum);
        }
        _mm256_storeu_pd(grad, g_lo);
        _mm256_storeu_pd(grad + 4, g_hi);
        *bias_sum += linreg_lanes_total(sum);
        *done = t;
        return linreg_lanes_total(sse);
    }
    static double linreg_weighted_rows_of_8_f64(LINREG_WEIGHTED_ARGS(double))
    {
        const __m256d w_lo = _mm256_loadu_pd(w), w_hi = _mm256_loadu_pd(w + 4);
        const __m256d bv = _mm256_set1_pd(bias);
        __m256d g_lo = _mm256_loadu_pd(grad), g_hi = _mm256_loadu_pd(grad + 4);
        __m256d sse = _mm256_setzero_pd(), sum = _mm256_setzero_pd();
        Py_ssize_t t = start;
        (void) d;
        for (; t + 4 <= stop; t += 4) {
            const double* x = X + 8 * t;
            linreg_prefetch_ahead(x, 4 * 8 * sizeof(double), X + 8 * stop);
            const double* yt = y + t * y_step;
            __m256d yv = y_step == 1 ? _mm256_loadu_pd(yt) : _mm256_setr_pd(
                yt[0], yt[y_step], yt[2 * y_step], yt[3 * y_step]);
            linreg_step_4_f64(x, x + 8, x + 16, x + 24, yv, w_lo, w_hi, bv, 1,
                              _mm256_loadu_pd(sw + t), &g_lo, &g_hi, &sse, &sum);
        }
        _mm256_storeu_pd(grad, g_lo);
        _mm256_storeu_pd(grad + 4, g_hi);
        *bias_sum += linreg_lanes_total(sum);
        *done = t;
        return linreg_lanes_total(sse);
    }
    #define LINREG_WEIGHTED_V_FN(SUF, T, V)                                              \\
        static double linreg_weighted_rows_of_##V##v_##SUF(LINREG_WEIGHTED_ARGS(T)) {   \\
            return linreg_rows_of_v_##SUF(V, 1, sw, X, d, NULL, start, stop, y, y_step,  \\
                                          w, bias, grad, bias_sum, done); }
    LINREG_WEIGHTED_V_FN(f32, float, 1) LINREG_WEIGHTED_V_FN(f32, float, 2)
    LINREG_WEIGHTED_V_FN(f32, float, 3) LINREG_WEIGHTED_V_FN(f32, float, 4)
    LINREG_WEIGHTED_V_FN(f64, double, 2) LINREG_WEIGHTED_V_FN(f64, double, 3)
    LINREG_WEIGHTED_V_FN(f64, double, 4)
    #define LINREG_WEIGHTED_NAMES                                                        \\
        sw, X, d, start, stop, y, y_step, w, bias, grad, bias_sum, done
    static double linreg_weighted_rows_of_n_f32(LINREG_WEIGHTED_ARGS(float))
    {
        if (d == 8) return linreg_weighted_rows_of_8_f32(LINREG_WEIGHTED_NAMES);
        switch ((d + 7) / 8) {
            case 1: return linreg_weighted_rows_of_1v_f32(LINREG_WEIGHTED_NAMES);
            case 2: return linreg_weighted_rows_of_2v_f32(LINREG_WEIGHTED_NAMES);
            case 3: return linreg_weighted_rows_of_3v_f32(LINREG_WEIGHTED_NAMES);
            default: return linreg_weighted_rows_of_4v_f32(LINREG_WEIGHTED_NAMES);
        }
    }
    static double linreg_weighted_rows_of_n_f64(LINREG_WEIGHTED_ARGS(double))
    {
        if (d == 8) return linreg_weighted_rows_of_8_f64(LINREG_WEIGHTED_NAMES);
        switch ((d + 3) / 4) {
            case 2: return linreg_weighted_rows_of_2v_f64(LINREG_WEIGHTED_NAMES);
            case 3: return linreg_weighted_rows_of_3v_f64(LINREG_WEIGHTED_NAMES);
            default: return linreg_weighted_rows_of_4v_f64(LINREG_WEIGHTED_NAMES);
        }
    }
    #else
    static double linreg_rows_of_n_f32(
        const float* X, Py_ssize_t d, const Py_ssize_t* rows, Py_ssize_t start,
        Py_ssize_t stop, const float* y, Py_ssize_t y_step, const float* w, double bias,
        double* grad, double* bias_sum, Py_ssize_t* done) { *done = start; return 0.0; }
    static double linreg_rows_of_n_f64(
        const double* X, Py_ssize_t d, const Py_ssize_t* rows, Py_ssize_t start,
        Py_ssize_t stop, const double* y, Py_ssize_t y_step, const double* w, double bias,
        double* grad, double* bias_sum, Py_ssize_t* done) { *done = start; return 0.0; }
    #define LINREG_WEIGHTED_ARGS(T)                                                      \\
        const double* sw, const T* X, Py_ssize_t d, Py_ssize_t start, Py_ssize_t stop,   \\
        const T* y, Py_ssize_t y_step, const T* w, double bias, double* grad,            \\
        double* bias_sum, Py_ssize_t* done
    static double linreg_weighted_rows_of_n_f32(LINREG_WEIGHTED_ARGS(float))
        { *done = start; return 0.0; }
    static double linreg_weighted_rows_of_n_f64(LINREG_WEIGHTED_ARGS(double))
        { *done = start; return 0.0; }
    #endif
    """
    double linreg_rows_of_n_f32(
        const float* X, Py_ssize_t d, const Py_ssize_t* rows, Py_ssize_t start,
        Py_ssize_t stop, const float* y, Py_ssize_t y_step, const float* w, double bias,
        double* grad, double* bias_sum, Py_ssize_t* done) noexcept nogil
    double linreg_rows_of_n_f64(
        const double* X, Py_ssize_t d, const Py_ssize_t* rows, Py_ssize_t start,
        Py_ssize_t stop, const double* y, Py_ssize_t y_step, const double* w, double bias,
        double* grad, double* bias_sum, Py_ssize_t* done) noexcept nogil
    double linreg_weighted_rows_of_n_f32(
        const double* sw, const float* X, Py_ssize_t d, Py_ssize_t start, Py_ssize_t stop,
        const float* y, Py_ssize_t y_step, const float* w, double bias, double* grad,
        double* bias_sum, Py_ssize_t* done) noexcept nogil
    double linreg_weighted_rows_of_n_f64(
        const double* sw, const double* X, Py_ssize_t d, Py_ssize_t start, Py_ssize_t stop,
        const double* y, Py_ssize_t y_step, const double* w, double bias, double* grad,
        double* bias_sum, Py_ssize_t* done) noexcept nogil


cdef inline bint _rows_of_n_wins(Py_ssize_t d, Py_ssize_t itemsize) noexcept nogil:
    """Whether a whole pass over rows of d elements takes `linreg_rows_of_n_f32` /
    `_f64` (above): float32 rows of 5 to 32 elements, float64 rows of 5 to 16,
    but 8 (`_rows_of_8`; 1 to 4: short_rows.pxi)."""
    if d == 8:
        return False
    return 4 < d <= 32 if itemsize == 4 else 4 < d <= 16


cdef double _rows_of_n(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    const Py_ssize_t* rows,
    Py_ssize_t start,
    Py_ssize_t stop,
    const WorkBuffers* work,
    double* grad_by_output,
    double* grad_bias,
) noexcept nogil:
    """`_sums_one_output` for rows `_rows_of_n_wins` takes, in whole passes: steps of 8
    float32 or 4 float64 rows in the C loops above (AVX2 and AVX-512
    builds), the rest in the loop for any d."""
    cdef RowWidthAny width
    cdef Py_ssize_t done = start
    cdef Py_ssize_t y_step = Y.strides[0] // <Py_ssize_t> sizeof(floating)
    cdef double sse
    if floating is float:
        sse = linreg_rows_of_n_f32(&X[0, 0], X.shape[1], rows, start, stop, &Y[0, 0],
                                   y_step, work.w_by_output_f32, work.bias[0],
                                   grad_by_output, grad_bias, &done)
    else:
        sse = linreg_rows_of_n_f64(&X[0, 0], X.shape[1], rows, start, stop, &Y[0, 0],
                                   y_step, work.w_by_output, work.bias[0],
                                   grad_by_output, grad_bias, &done)
    if done == stop:
        return sse
    return sse + _sums_one_output(X, Y, rows, done, stop, work, grad_by_output, grad_bias,
                                  width)


cdef double _weighted_rows(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    Py_ssize_t start,
    Py_ssize_t stop,
    const WorkBuffers* work,
    double* grad_by_output,
    double* grad_bias,
) noexcept nogil:
    """`_sums_over_rows` with work.sample_weight for a whole pass over rows start..stop-1,
    one output, rows that `_weighted_rows_take`: steps in the C loops above
    (AVX2 and AVX-512 builds), the rest in that loop."""
    cdef Py_ssize_t done = start
    cdef Py_ssize_t y_step = Y.strides[0] // <Py_ssize_t> sizeof(floating)
    cdef double sse
    if floating is float:
        sse = linreg_weighted_rows_of_n_f32(
            work.sample_weight, &X[0, 0], X.shape[1], start, stop, &Y[0, 0], y_step,
            work.w_by_output_f32, work.bias[0], grad_by_output, grad_bias, &done)
    else:
        sse = linreg_weighted_rows_of_n_f64(
            work.sample_weight, &X[0, 0], X.shape[1], start, stop, &Y[0, 0], y_step,
            work.w_by_output, work.bias[0], grad_by_output, grad_bias, &done)
    if done == stop:
        return sse
    return sse + _sums_over_rows(X, Y, NULL, done, stop, work, grad_by_output, grad_bias,
                                 work.sample_weight, NULL)


cdef inline bint _weighted_rows_take(
    Py_ssize_t d, Py_ssize_t k, Py_ssize_t itemsize
) noexcept nogil:
    """Whether a whole pass with sample weights takes `_weighted_rows`: one output, float32
    rows of 5 to 32 elements, float64 rows of 5 to 16 (AVX2 and AVX-512 builds)."""
    return (LINREG_ROWS_OF_8 and k == 1
            and (4 < d <= 32 if itemsize == 4 else 4 < d <= 16))
