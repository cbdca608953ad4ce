# The fused pass for 2 to 4 outputs over float32 rows, in C with AVX2+FMA intrinsics
# (rows.pxi's `_accumulate_rows` calls it for whole passes without sample weights; the
# generic build keeps the loop of rows.pxi).
#
# rows.pxi's general loop (`_sums_over_rows`) takes each output in turn over a group of
# four rows: per row and output a dot product ending in a sum across lanes, then a
# rank-4 update of that output's gradient through memory. Here a step loads its 8 rows
# ONCE and does, for each of the K outputs from those registers, the work of the
# one-output step (`linreg_step_8_f32`, one_output.pxi; `linreg_step_v_f32`,
# row_vectors.pxi): one hadd tree giving the 8 row sums, the residuals in double (y
# read through Y's strides), the residuals rounded to float32 and broadcast, and the
# gradient terms of the 8 rows summed in float32, then added to double accumulators held for the whole run of rows. K and the
# number of vectors a row takes are constants in each compiled loop.
# - Rows of 5 to 32 elements: V = ceil(d / 8) vectors a row; when d is not a multiple
#   of 8 the last one is loaded whole (running into the next row) and its lanes past
#   the row zeroed by an AND, and a run's last step must leave a row after it so that
#   no load leaves the run. _mm256_maskload_ps instead (as one_output.pxi) took 3.2-3.6x
#   the time of `X @ W` at d = 5..7, k = 2 (1.3-1.6x with the AND), as slow as the old loop.
# - Rows of 1 to 4 elements take short_rows.pxi's loops instead (each step split into
#   columns; at d = 4, k = 2 1.03x the time of `X @ W`, 1.12x with two rows a vector
#   and a hadd tree here; k = 4: 1.47x, 1.73x).
# The run's rows that do not fill a step are left to rows.pxi's loop.
#
# Measured (1 thread, X of 2^23 float32, time / `np.matmul(X, W, out=out)`, median of 3
# runs, before -> after): k = 2: d = 4 3.29 -> 1.12, d = 8 2.98 -> 1.37, d = 16 2.14 ->
# 1.24; k = 3: 3.69 -> 1.35, 3.41 -> 1.58, 2.34 -> 1.33; k = 4: 4.96 -> 1.73, 4.68 -> 2.09,
# 3.42 -> 1.86; d = 5..7, k = 2: 3.3-3.6 -> 1.3-1.6 (the d = 4 figures are from the two
# rows a vector loop, since replaced by short_rows.pxi's). Not tried: float64 (its k = 2
# to 4 passes read 0.5-1.05x `X @ W` at d = 8 and 16 in rows.pxi's loop), rows of more
# than 32.
#
# `predict` for 2 to 4 outputs on rows of 5 to 20 elements takes the same steps without
# the gradient (`linreg_few_predict_v_f32`): time / `X @ W`, before -> after, d = 8:
# 2.2-2.8 -> 1.5, d = 16: 1.5-1.9 -> 1.1-1.2.
#
# Precision as one_output.pxi: a row's products summed in float32 (at most 32), then
# promoted; the gradient terms of a step's 8 rows summed in float32 (residuals rounded
# to float32), then promoted; every sum over rows in double. The sums depend on the run
# of rows only (so the thread count changes no bit).

cdef extern from *:
    """
    #if defined(__AVX2__) && defined(__FMA__)
    #define LINREG_FEW_OUTPUTS 1

    /* A step's targets, rows in the lanes' order [0 2 4 6 | 1 3 5 7] (the order in
       which the steps' hadd trees leave the row sums): yv[o] for output o, read
       through Y's strides, or (Y C-contiguous, y_row == K) from K whole vectors by
       shuffles (8 scalar loads an output: k = 2 at d = 8 1.45x the time of `X @ W`,
       1.34x by shuffles; d = 16 1.37x, 1.21x). */
    static const int LINREG_FEW_ORDER[8] = {0, 2, 4, 6, 1, 3, 5, 7};
    LINREG_INLINE void linreg_few_targets(const int K, const int CONTIGUOUS, const float* yt,
                                          Py_ssize_t y_row, Py_ssize_t y_col, __m256* yv)
    {
        if (CONTIGUOUS && K == 2) {
            /* v0 = rows 0..3, v1 = rows 4..7: [y00 y10 y40 y50 | y20 y30 y60 y70] */
            const __m256i order = _mm256_setr_epi32(0, 4, 2, 6, 1, 5, 3, 7);
            __m256 v0 = _mm256_loadu_ps(yt), v1 = _mm256_loadu_ps(yt + 8);
            yv[0] = _mm256_permutevar8x32_ps(_mm256_shuffle_ps(v0, v1, 0x88), order);
            yv[1] = _mm256_permutevar8x32_ps(_mm256_shuffle_ps(v0, v1, 0xDD), order);
        } else if (CONTIGUOUS && K == 4) {
            /* v_j = rows 2j, 2j + 1: a transpose by unpacks and shuffles */
            __m256 v0 = _mm256_loadu_ps(yt), v1 = _mm256_loadu_ps(yt + 8);
            __m256 v2 = _mm256_loadu_ps(yt + 16), v3 = _mm256_loadu_ps(yt + 24);
            __m256 l01 = _mm256_unpacklo_ps(v0, v1), l23 = _mm256_unpacklo_ps(v2, v3);
            __m256 h01 = _mm256_unpackhi_ps(v0, v1), h23 = _mm256_unpackhi_ps(v2, v3);
            yv[0] = _mm256_shuffle_ps(l01, l23, 0x44);
            yv[1] = _mm256_shuffle_ps(l01, l23, 0xEE);
            yv[2] = _mm256_shuffle_ps(h01, h23, 0x44);
            yv[3] = _mm256_shuffle_ps(h01, h23, 0xEE);
        } else if (CONTIGUOUS && K == 3) {
            /* element 3 i + o of the three vectors, by lane permutes and blends */
            __m256 v0 = _mm256_loadu_ps(yt), v1 = _mm256_loadu_ps(yt + 8);
            __m256 v2 = _mm256_loadu_ps(yt + 16);
            /* element e = 3 ORDER[i] + o of the 24 is lane e % 8 of vector e / 8 */
            static const int lane[3][8] = {{0, 6, 4, 2, 3, 1, 7, 5}, {1, 7, 5, 3, 4, 2, 0, 6}, {2, 0, 6, 4, 5, 3, 1, 7}};
            static const int from1[3][8] = {{0, 0, -1, 0, 0, -1, -1, 0}, {0, 0, -1, 0, 0, -1, 0, 0},
                                             {0, -1, -1, 0, 0, -1, 0, 0}};
            static const int from2[3][8] = {{0, 0, 0, -1, 0, 0, 0, -1}, {0, 0, 0, -1, 0, 0, -1, -1},
                                             {0, 0, 0, -1, 0, 0, -1, -1}};
            for (int o = 0; o < 3; o++) {
                __m256i idx = _mm256_loadu_si256((const __m256i*) lane[o]);
                __m256 y = _mm256_permutevar8x32_ps(v0, idx);
                y = _mm256_blendv_ps(y, _mm256_permutevar8x32_ps(v1, idx), _mm256_castsi256_ps(
                    _mm256_loadu_si256((const __m256i*) from1[o])));
                yv[o] = _mm256_blendv_ps(y, _mm256_permutevar8x32_ps(v2, idx), _mm256_castsi256_ps(
                    _mm256_loadu_si256((const __m256i*) from2[o])));
            }
        } else {
            for (int o = 0; o < K; o++) {
                const float* y = yt + o * y_col;
                yv[o] = _mm256_setr_ps(y[0], y[2 * y_row], y[4 * y_row], y[6 * y_row],
                                       y[y_row], y[3 * y_row], y[5 * y_row], y[7 * y_row]);
            }
        }
    }

    /* The residuals of 8 rows for one output (their sums s, targets yv, both with rows
       in the same lanes): sse, the bias sum, and the residuals rounded to float32. */
    LINREG_INLINE __m256 linreg_few_residuals(__m256 s, __m256 yv, __m256d bv,
                                              __m256d* sse, __m256d* sum)
    {
        __m256d r_lo = _mm256_sub_pd(
            _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(s)), bv),
            _mm256_cvtps_pd(_mm256_castps256_ps128(yv)));
        __m256d r_hi = _mm256_sub_pd(
            _mm256_add_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(s, 1)), bv),
            _mm256_cvtps_pd(_mm256_extractf128_ps(yv, 1)));
        *sse = _mm256_add_pd(*sse, _mm256_fmadd_pd(r_hi, r_hi, _mm256_mul_pd(r_lo, r_lo)));
        *sum = _mm256_add_pd(*sum, _mm256_add_pd(r_lo, r_hi));
        return _mm256_set_m128(_mm256_cvtpd_ps(r_hi), _mm256_cvtpd_ps(r_lo));
    }

    /* A step's 8 rows of V vectors (x: the first row, rows d apart), the last vector
       loaded whole and its lanes past the row cleared (MASKED). */
    LINREG_INLINE void linreg_few_load_rows(const int V, const int MASKED, const float* x,
                                            Py_ssize_t d, __m256i mask, __m256 a[8][4])
    {
        for (int i = 0; i < 8; i++) {
            for (int v = 0; v < V - 1; v++) a[i][v] = _mm256_loadu_ps(x + i * d + 8 * v);
            a[i][V - 1] = _mm256_loadu_ps(x + i * d + 8 * (V - 1));
            if (MASKED) a[i][V - 1] = _mm256_and_ps(a[i][V - 1], _mm256_castsi256_ps(mask));
        }
    }

    /* The 8 rows' dot products with one output's weights w[0:V], rows in the lanes' order
       [0 2 4 6 | 1 3 5 7]: a row's products summed in float32. */
    LINREG_INLINE __m256 linreg_few_row_sums(const int V, __m256 a[8][4], const __m256* w)
    {
        __m256 p[8];
        for (int i = 0; i < 8; i++) {
            p[i] = _mm256_mul_ps(a[i][0], w[0]);
            for (int v = 1; v < V; v++) p[i] = _mm256_fmadd_ps(a[i][v], w[v], p[i]);
        }
        return linreg_lane_sums_8x8(p[0], p[2], p[4], p[6], p[1], p[3], p[5], p[7]);
    }

    /* One step of 8 rows of V vectors (x: the first row, rows d apart) for K outputs:
       w[o V + v] output o's weights, yv[o] its targets, g[(o V + v) 2 + h] its gradient. */
    LINREG_INLINE void linreg_few_step_v_f32(
        const int K, const int V, const int MASKED, const float* x, Py_ssize_t d,
        __m256i mask, const __m256* yv, const __m256* w, const __m256d* bv, __m256d* g,
        __m256d* sse, __m256d* sum)
    {
        __m256 a[8][4];
        linreg_few_load_rows(V, MASKED, x, d, mask, a);
        for (int o = 0; o < K; o++) {
            __m256 s = linreg_few_row_sums(V, a, w + o * V);
            float rf[8];
            _mm256_storeu_ps(rf, linreg_few_residuals(s, yv[o], bv[o], sse, sum + o));
            __m256 b[8];
            for (int i = 0; i < 8; i++) b[LINREG_FEW_ORDER[i]] = _mm256_broadcast_ss(rf + i);
            for (int v = 0; v < V; v++) {
                /* ((f0 x0 + f1 x1) + (f2 x2 + f3 x3)) + (...) in float32, as one_output.pxi */
                __m256 q = _mm256_add_ps(
                    _mm256_add_ps(_mm256_fmadd_ps(b[1], a[1][v], _mm256_mul_ps(b[0], a[0][v])),
                                  _mm256_fmadd_ps(b[3], a[3][v], _mm256_mul_ps(b[2], a[2][v]))),
                    _mm256_add_ps(_mm256_fmadd_ps(b[5], a[5][v], _mm256_mul_ps(b[4], a[4][v])),
                                  _mm256_fmadd_ps(b[7], a[7][v], _mm256_mul_ps(b[6], a[6][v]))));
                __m256d* gv = g + 2 * (o * V + v);
                gv[0] = _mm256_add_pd(gv[0], _mm256_cvtps_pd(_mm256_castps256_ps128(q)));
                gv[1] = _mm256_add_pd(gv[1], _mm256_cvtps_pd(_mm256_extractf128_ps(q, 1)));
            }
        }
    }

    #define LINREG_FEW_ARGS                                                              \\
        const float* X, Py_ssize_t d, Py_ssize_t start, Py_ssize_t stop, const float* Y, \\
        Py_ssize_t y_row, Py_ssize_t y_col, const float* W, const double* bias,          \\
        double* grad, double* bias_sums, Py_ssize_t* done
    #define LINREG_FEW_NAMES X, d, start, stop, Y, y_row, y_col, W, bias, grad, bias_sums, done

    /* Rows start..stop-1 of X (rows of d floats, V vectors), 8 at a time, K outputs:
       grad[o d : o d + d] += sum_i r_io x_i, bias_sums[o] += sum_i r_io, returns the sum
       of r_io^2, r_io = x_i . W[o d : o d + d] + bias[o] - Y[i y_row + o y_col].
       *done: the position after the last row summed (the rest are the caller's). */
    LINREG_INLINE double linreg_few_rows_v_f32(const int K, const int V, const int MASKED,
                                               const int CONTIGUOUS, LINREG_FEW_ARGS)
    {
        const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i mask = _mm256_cmpgt_epi32(
            _mm256_set1_epi32((int) (d - 8 * (V - 1))), lanes);
        __m256 wv[16];
        __m256d bv[4], sum[4], g[32];
        double held[32];  /* one output's gradient, padded to whole vectors */
        for (int o = 0; o < K; o++) {
            const float* w = W + o * d;
            for (int v = 0; v < V - 1; v++) wv[o * V + v] = _mm256_loadu_ps(w + 8 * v);
            wv[o * V + V - 1] = _mm256_maskload_ps(w + 8 * (V - 1), mask);
            bv[o] = _mm256_set1_pd(bias[o]);
            sum[o] = _mm256_setzero_pd();
            for (Py_ssize_t j = 0; j < 8 * V; j++) held[j] = j < d ? grad[o * d + j] : 0.0;
            for (int v = 0; v < 2 * V; v++) g[2 * o * V + v] = _mm256_loadu_pd(held + 4 * v);
        }
        __m256d sse = _mm256_setzero_pd();
        __m256 yv[4];
        Py_ssize_t t = start;
        for (; t + 8 + MASKED <= stop; t += 8) {
            linreg_few_targets(K, CONTIGUOUS, Y + t * y_row, y_row, y_col, yv);
            linreg_few_step_v_f32(K, V, MASKED, X + t * d, d, mask, yv, wv, bv, g, &sse, sum);
        }
        for (int o = 0; o < K; o++) {
            for (int v = 0; v < 2 * V; v++) _mm256_storeu_pd(held + 4 * v, g[2 * o * V + v]);
            for (Py_ssize_t j = 0; j < d; j++) grad[o * d + j] = held[j];
            bias_sums[o] += linreg_lanes_total(sum[o]);
        }
        *done = t;
        return linreg_lanes_total(sse);
    }

    /* Predictions out[t, o] = x_t . W[o d : o d + d] + bias[o], rows start..stop-1, 8 at
       a time: each output's row sums as in the pass (float32), the bias added in double,
       rounded once to float32. Returns the position after the last row written (the rest
       are the caller's). */
    LINREG_INLINE Py_ssize_t linreg_few_predict_v_f32(
        const int K, const int V, const int MASKED, const float* X, Py_ssize_t d,
        Py_ssize_t start, Py_ssize_t stop, const float* W, const double* bias, float* out,
        Py_ssize_t out_row, Py_ssize_t out_col)
    {
        const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i mask = _mm256_cmpgt_epi32(
            _mm256_set1_epi32((int) (d - 8 * (V - 1))), lanes);
        const __m256i in_order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
        __m256 wv[16], a[8][4], v[4];
        __m256d bv[4];
        for (int o = 0; o < K; o++) {
            const float* w = W + o * d;
            for (int c = 0; c < V - 1; c++) wv[o * V + c] = _mm256_loadu_ps(w + 8 * c);
            wv[o * V + V - 1] = _mm256_maskload_ps(w + 8 * (V - 1), mask);
            bv[o] = _mm256_set1_pd(bias[o]);
        }
        Py_ssize_t t = start;
        for (; t + 8 + MASKED <= stop; t += 8) {
            linreg_few_load_rows(V, MASKED, X + t * d, d, mask, a);
            for (int o = 0; o < K; o++) {
                __m256 s = linreg_few_row_sums(V, a, wv + o * V);
                __m256d lo = _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(s)), bv[o]);
                __m256d hi = _mm256_add_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(s, 1)), bv[o]);
                v[o] = _mm256_permutevar8x32_ps(
                    _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo)), in_order);
            }
            linreg_store_output_rows_f32(K, v, out + t * out_row, out_row, out_col);
        }
        return t;
    }

    #define LINREG_FEW_PREDICT(K, V, MASKED)                                             \\
        static Py_ssize_t linreg_few_predict_##K##_##V##_##MASKED(                       \\
            const float* X, Py_ssize_t d, Py_ssize_t start, Py_ssize_t stop,             \\
            const float* W, const double* bias, float* out, Py_ssize_t out_row,          \\
            Py_ssize_t out_col) {                                                        \\
            return linreg_few_predict_v_f32(K, V, MASKED, X, d, start, stop, W, bias,    \\
                                            out, out_row, out_col); }
    #define LINREG_FEW_PREDICT_K(K)                                                      \\
        LINREG_FEW_PREDICT(K, 1, 0) LINREG_FEW_PREDICT(K, 1, 1) LINREG_FEW_PREDICT(K, 2, 0) \\
        LINREG_FEW_PREDICT(K, 2, 1) LINREG_FEW_PREDICT(K, 3, 0) LINREG_FEW_PREDICT(K, 3, 1) \\
        LINREG_FEW_PREDICT(K, 4, 0) LINREG_FEW_PREDICT(K, 4, 1)
    LINREG_FEW_PREDICT_K(2)
    LINREG_FEW_PREDICT_K(3)
    LINREG_FEW_PREDICT_K(4)
    /* the loop for K outputs, V vectors a row, masked or not */
    #define LINREG_FEW_PICK(K, V)                                                        \\
        (masked ? linreg_few_predict_##K##_##V##_1 : linreg_few_predict_##K##_##V##_0)
    #define LINREG_FEW_PREDICT_CASE(K)                                                   \\
        case K: switch (V) {                                                             \\
            case 1: return LINREG_FEW_PICK(K, 1)(LINREG_FEW_PREDICT_NAMES);              \\
            case 2: return LINREG_FEW_PICK(K, 2)(LINREG_FEW_PREDICT_NAMES);              \\
            case 3: return LINREG_FEW_PICK(K, 3)(LINREG_FEW_PREDICT_NAMES);              \\
            default: return LINREG_FEW_PICK(K, 4)(LINREG_FEW_PREDICT_NAMES);             \\
        }
    #define LINREG_FEW_PREDICT_NAMES X, d, start, stop, W, bias, out, out_row, out_col
    /* K = 2..4 outputs' predictions over rows of d elements (`linreg_few_outputs_fit`). */
    static Py_ssize_t linreg_few_outputs_predict_f32(
        Py_ssize_t K, const float* X, Py_ssize_t d, Py_ssize_t start, Py_ssize_t stop,
        const float* W, const double* bias, float* out, Py_ssize_t out_row, Py_ssize_t out_col)
    {
        const int masked = d % 8 != 0;
        const Py_ssize_t V = (d + 7) / 8;
        switch (K) {
            LINREG_FEW_PREDICT_CASE(2)
            LINREG_FEW_PREDICT_CASE(3)
            LINREG_FEW_PREDICT_CASE(4)
        }
        return start;
    }

    #define LINREG_FEW_V(K, V, MASKED)                                                   \\
        static double linreg_few_##K##_##V##_##MASKED(LINREG_FEW_ARGS)                   \\
        {                                                                                \\
            return y_row == K && y_col == 1                                              \\
                ? linreg_few_rows_v_f32(K, V, MASKED, 1, LINREG_FEW_NAMES)               \\
                : linreg_few_rows_v_f32(K, V, MASKED, 0, LINREG_FEW_NAMES);              \\
        }
    #define LINREG_FEW_K(K)                                                              \\
        LINREG_FEW_V(K, 1, 0) LINREG_FEW_V(K, 1, 1) LINREG_FEW_V(K, 2, 0)                \\
        LINREG_FEW_V(K, 2, 1) LINREG_FEW_V(K, 3, 0) LINREG_FEW_V(K, 3, 1)                \\
        LINREG_FEW_V(K, 4, 0) LINREG_FEW_V(K, 4, 1)                                      \\
        static double linreg_few_##K(LINREG_FEW_ARGS)                                    \\
        {                                                                                \\
            const int masked = d % 8 != 0;                                               \\
            switch ((d + 7) / 8) {                                                       \\
                case 1: return masked ? linreg_few_##K##_1_1(LINREG_FEW_NAMES)           \\
                                      : linreg_few_##K##_1_0(LINREG_FEW_NAMES);          \\
                case 2: return masked ? linreg_few_##K##_2_1(LINREG_FEW_NAMES)           \\
                                      : linreg_few_##K##_2_0(LINREG_FEW_NAMES);          \\
                case 3: return masked ? linreg_few_##K##_3_1(LINREG_FEW_NAMES)           \\
                                      : linreg_few_##K##_3_0(LINREG_FEW_NAMES);          \\
                default: return masked ? linreg_few_##K##_4_1(LINREG_FEW_NAMES)          \\
                                       : linreg_few_##K##_4_0(LINREG_FEW_NAMES);         \\
            }                                                                            \\
        }
    LINREG_FEW_K(2)
    LINREG_FEW_K(3)
    LINREG_FEW_K(4)

    /* Whether `linreg_few_outputs_f32` takes rows of d elements. */
    static int linreg_few_outputs_fit(Py_ssize_t d) { return 5 <= d && d <= 32; }

    /* K = 2..4 outputs over rows of d elements (`linreg_few_outputs_fit`). */
    static double linreg_few_outputs_f32(Py_ssize_t K, LINREG_FEW_ARGS)
    {
        switch (K) {
            case 2: return linreg_few_2(LINREG_FEW_NAMES);
            case 3: return linreg_few_3(LINREG_FEW_NAMES);
            default: return linreg_few_4(LINREG_FEW_NAMES);
        }
    }
    #else
    #define LINREG_FEW_OUTPUTS 0
    static int linreg_few_outputs_fit(Py_ssize_t d) { return 0; }
    static Py_ssize_t linreg_few_outputs_predict_f32(
        Py_ssize_t K, const float* X, Py_ssize_t d, Py_ssize_t start, Py_ssize_t stop,
        const float* W, const double* bias, float* out, Py_ssize_t out_row, Py_ssize_t out_col)
        { return start; }
    static double linreg_few_outputs_f32(
        Py_ssize_t K, const float* X, Py_ssize_t d, Py_ssize_t start, Py_ssize_t stop,
        const float* Y, Py_ssize_t y_row, Py_ssize_t y_col, const float* W,
        const double* bias, double* grad, double* bias_sums, Py_ssize_t* done)
        { *done = start; return 0.0; }
    #endif
    """
    int LINREG_FEW_OUTPUTS
    bint linreg_few_outputs_fit(Py_ssize_t d) noexcept nogil
    Py_ssize_t linreg_few_outputs_predict_f32(
        Py_ssize_t K, const float* X, Py_ssize_t d, Py_ssize_t start, Py_ssize_t stop,
        const float* W, const double* bias, float* out, Py_ssize_t out_row,
        Py_ssize_t out_col) noexcept nogil
    double linreg_few_outputs_f32(
        Py_ssize_t K, const float* X, Py_ssize_t d, Py_ssize_t start, Py_ssize_t stop,
        const float* Y, Py_ssize_t y_row, Py_ssize_t y_col, const float* W,
        const double* bias, double* grad, double* bias_sums, Py_ssize_t* done) noexcept nogil


cdef inline bint _few_outputs_take(Py_ssize_t d, Py_ssize_t k) noexcept nogil:
    """Whether a float32 whole pass without sample weights takes `_few_outputs_f32`."""
    return LINREG_FEW_OUTPUTS and 2 <= k <= 4 and linreg_few_outputs_fit(d)


cdef double _few_outputs_f32(
    const float[:, ::1] X,
    const float[:, :] Y,
    Py_ssize_t start,
    Py_ssize_t stop,
    const WorkBuffers* work,
    double* grad_by_output,
    double* grad_bias,
) noexcept nogil:
    """`_sums_over_rows` (no sample weights, rows start..stop-1) for 2 to 4 outputs: whole
    steps of 8 rows in the C loops above, the rest in `_sums_over_rows`."""
    cdef Py_ssize_t done = start
    cdef Py_ssize_t y_row = Y.strides[0] // <Py_ssize_t> sizeof(float)
    cdef Py_ssize_t y_col = Y.strides[1] // <Py_ssize_t> sizeof(float)
    cdef double sse = linreg_few_outputs_f32(
        Y.shape[1], &X[0, 0], X.shape[1], start, stop, &Y[0, 0], y_row, y_col,
        work.w_by_output_f32, work.bias, grad_by_output, grad_bias, &done)
    if done == stop:
        return sse
    return sse + _sums_over_rows(X, Y, NULL, done, stop, work, grad_by_output, grad_bias,
                                 NULL, NULL)


cdef Py_ssize_t _few_outputs_predict_f32(
    const float[:, ::1] X, float[:, :] out, const WorkBuffers* work, Py_ssize_t start,
    Py_ssize_t stop,
) noexcept nogil:
    """`_predict_rows` for 2 to 4 outputs (`_few_outputs_take`): whole steps of 8 rows in
    the C loops above; returns the first row not written."""
    cdef Py_ssize_t out_row = out.strides[0] // <Py_ssize_t> sizeof(float)
    cdef Py_ssize_t out_col = out.strides[1] // <Py_ssize_t> sizeof(float)
    return linreg_few_outputs_predict_f32(out.shape[1], &X[0, 0], X.shape[1], start, stop,
                                          work.w_by_output_f32, work.bias, &out[0, 0],
                                          out_row, out_col)
