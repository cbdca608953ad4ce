# The fused pass for one output over rows of 8 elements, in C with AVX2+FMA intrinsics
# (rows.pxi's `_one_output_by_d` calls it; the generic build keeps the loop of rows.pxi),
# and the helpers its steps share with row_vectors.pxi's (other widths, sample weights).
#
# At d = 8 the loop of rows.pxi spends about 8 cycles a row: each row's dot product ends
# in a sum across the lanes of a vector, and each group of four rows converts and adds 8
# gradient elements through memory. Here a step takes 8 rows (float32: a row is one
# vector) or 4 rows (float64: two vectors), and
# - the dot products of the step's rows are reduced together, one hadd tree giving one
#   vector of the step's sums (float32: 8 products summed in float32, then promoted, as a
#   run of F32_CHUNK in `_dot`), so that the residuals r = s + b - y, the loss r^2 and
#   the bias sum are vectors in double (lane i sums the rows i, i + L, i + 2L, ... of
#   the run; the lanes are added once, at the end);
# - the gradient term of the step, sum_i r_i x_i, is summed in registers (float32: each
#   four rows' terms in float32, the residuals rounded to float32, exactly as
#   `_add_rank4`, then promoted) and added to the gradient held in double registers,
#   written back once per run of rows.
# The run's rows that do not fill a step are left to the loop of rows.pxi. The avx512
# build takes float32 rows 16 a step first (`linreg_step_16_f32`: the same sums in the
# same precision, reduced with fewer instructions).
#
# Every step asks for the lines of X 8 KB ahead (`linreg_prefetch_ahead`): a step's
# arithmetic takes about as long as its read from memory, and with the hardware
# prefetcher alone the pass waited on memory. 1 thread, 2^24 float32 / 2^23 float64
# elements, time with / without: float32 d = 8 0.86, d = 12 0.86, d = 20 0.93, d = 32
# 0.81; float64 d = 8 0.72 (a C harness: 8 KB to 32 KB ahead alike, 1 to 4 KB little
# or nothing).
#
# The sums are deterministic and depend on the run of rows only, as elsewhere; their
# order differs from rows.pxi's loop (lanes of rows instead of one running sum), not
# their precision: every sum over rows is in double.

cdef extern from *:
    """
    #if defined(__AVX2__) && defined(__FMA__)
    #include <immintrin.h>
    #define LINREG_ROWS_OF_8 1

    /* The lane sums of eight vectors: out[i] = sum over the lanes of p_i. */
    static inline __m256 linreg_lane_sums_8x8(__m256 p0, __m256 p1, __m256 p2, __m256 p3,
                                              __m256 p4, __m256 p5, __m256 p6, __m256 p7)
    {
        __m256 h0123 = _mm256_hadd_ps(_mm256_hadd_ps(p0, p1), _mm256_hadd_ps(p2, p3));
        __m256 h4567 = _mm256_hadd_ps(_mm256_hadd_ps(p4, p5), _mm256_hadd_ps(p6, p7));
        /* h0123 = [s0..s3 of the low halves | s0..s3 of the high halves], h4567 alike */
        return _mm256_add_ps(_mm256_blend_ps(h0123, h4567, 0xF0),
                             _mm256_permute2f128_ps(h0123, h4567, 0x21));
    }

    /* The lane sums of four vectors: out[i] = sum over the lanes of p_i. */
    static inline __m256d linreg_lane_sums_4x4(__m256d p0, __m256d p1, __m256d p2, __m256d p3)
    {
        __m256d h01 = _mm256_hadd_pd(p0, p1), h23 = _mm256_hadd_pd(p2, p3);
        /* h01 = [p0 01, p1 01, p0 23, p1 23], h23 alike */
        return _mm256_add_pd(_mm256_blend_pd(h01, h23, 0xC),
                             _mm256_permute2f128_pd(h01, h23, 0x21));
    }

    static inline double linreg_lanes_total(__m256d v)
    {
        __m128d h = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
        return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
    }

    #define LINREG_INLINE static inline __attribute__((always_inline))

    /* Before a step reads the `bytes` of X at x (rows in order), ask for the lines
       LINREG_ROWS_AHEAD_BYTES further on, up to `end` (the run's last row). The
       hardware prefetcher alone leaves these passes waiting on memory: they spend
       about as many cycles a row on arithmetic as the read takes. */
    #define LINREG_ROWS_AHEAD_BYTES 8192
    LINREG_INLINE void linreg_prefetch_ahead(const void* x, Py_ssize_t bytes,
                                             const void* end)
    {
        const char* p = (const char*) x + LINREG_ROWS_AHEAD_BYTES;
        for (Py_ssize_t l = 0; l < bytes; l += 64)
            if (p + l < (const char*) end) LINREG_PREFETCH(p + l);
    }
    #define LINREG_ROWS_OF_V_ARGS                                                        \
        const float* X, Py_ssize_t d, const Py_ssize_t* rows, Py_ssize_t start,          \
        Py_ssize_t stop, const float* y, Py_ssize_t y_step, const float* w, double bias, \
        double* grad, double* bias_sum, Py_ssize_t* done
    #define LINREG_ROWS_OF_V_NAMES X, d, rows, start, stop, y, y_step, w, bias, grad,    \
        bias_sum, done

    /* One step of 8 float32 rows x0..x7 (their targets yv): residuals, loss, gradient.
       WEIGHTED: each row's residual r_i counts as q_i = s_i r_i in the bias and gradient
       sums and q_i r_i in the loss (s_lo, s_hi: the rows' sample weights). */
    LINREG_INLINE void linreg_step_8_f32(
        const float* x0, const float* x1, const float* x2, const float* x3,
        const float* x4, const float* x5, const float* x6, const float* x7, __m256 yv,
        __m256 wv, __m256d bv, const int WEIGHTED, __m256d s_lo, __m256d s_hi,
        __m256d* g_lo, __m256d* g_hi, __m256d* sse, __m256d* sum)
    {
        __m256 a0 = _mm256_loadu_ps(x0), a1 = _mm256_loadu_ps(x1);
        __m256 a2 = _mm256_loadu_ps(x2), a3 = _mm256_loadu_ps(x3);
        __m256 a4 = _mm256_loadu_ps(x4), a5 = _mm256_loadu_ps(x5);
        __m256 a6 = _mm256_loadu_ps(x6), a7 = _mm256_loadu_ps(x7);
        __m256 s = linreg_lane_sums_8x8(
            _mm256_mul_ps(a0, wv), _mm256_mul_ps(a1, wv), _mm256_mul_ps(a2, wv),
            _mm256_mul_ps(a3, wv), _mm256_mul_ps(a4, wv), _mm256_mul_ps(a5, wv),
            _mm256_mul_ps(a6, wv), _mm256_mul_ps(a7, wv));
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
        /* The residuals rounded to float32, each broadcast from memory (a load, where a
           shuffle would take the vector pipes the hadd tree and conversions need). */
        float rf[8];
        _mm256_storeu_ps(rf, _mm256_set_m128(_mm256_cvtpd_ps(q_hi), _mm256_cvtpd_ps(q_lo)));
        /* ((f0 x0 + f1 x1) + (f2 x2 + f3 x3)) + ((f4 x4 + ...)) in float32, then double */
        __m256 q = _mm256_add_ps(
            _mm256_add_ps(
                _mm256_fmadd_ps(_mm256_broadcast_ss(rf + 1), a1,
                                _mm256_mul_ps(_mm256_broadcast_ss(rf), a0)),
                _mm256_fmadd_ps(_mm256_broadcast_ss(rf + 3), a3,
                                _mm256_mul_ps(_mm256_broadcast_ss(rf + 2), a2))),
            _mm256_add_ps(
                _mm256_fmadd_ps(_mm256_broadcast_ss(rf + 5), a5,
                                _mm256_mul_ps(_mm256_broadcast_ss(rf + 4), a4)),
                _mm256_fmadd_ps(_mm256_broadcast_ss(rf + 7), a7,
                                _mm256_mul_ps(_mm256_broadcast_ss(rf + 6), a6))));
        *g_lo = _mm256_add_pd(*g_lo, _mm256_cvtps_pd(_mm256_castps256_ps128(q)));
        *g_hi = _mm256_add_pd(*g_hi, _mm256_cvtps_pd(_mm256_extractf128_ps(q, 1)));
    }

    /* One step of 4 float64 rows x0..x3 (their targets yv). */
    LINREG_INLINE void linreg_step_4_f64(
        const double* x0, const double* x1, const double* x2, const double* x3, __m256d yv,
        __m256d w_lo, __m256d w_hi, __m256d bv, const int WEIGHTED, __m256d sv,
        __m256d* g_lo, __m256d* g_hi, __m256d* sse, __m256d* sum)
    {
        __m256d a0l = _mm256_loadu_pd(x0), a0h = _mm256_loadu_pd(x0 + 4);
        __m256d a1l = _mm256_loadu_pd(x1), a1h = _mm256_loadu_pd(x1 + 4);
        __m256d a2l = _mm256_loadu_pd(x2), a2h = _mm256_loadu_pd(x2 + 4);
        __m256d a3l = _mm256_loadu_pd(x3), a3h = _mm256_loadu_pd(x3 + 4);
        __m256d s = linreg_lane_sums_4x4(
            _mm256_fmadd_pd(a0h, w_hi, _mm256_mul_pd(a0l, w_lo)),
            _mm256_fmadd_pd(a1h, w_hi, _mm256_mul_pd(a1l, w_lo)),
            _mm256_fmadd_pd(a2h, w_hi, _mm256_mul_pd(a2l, w_lo)),
            _mm256_fmadd_pd(a3h, w_hi, _mm256_mul_pd(a3l, w_lo)));
        __m256d r = _mm256_sub_pd(_mm256_add_pd(s, bv), yv);
        __m256d q = WEIGHTED ? _mm256_mul_pd(sv, r) : r;
        *sse = _mm256_fmadd_pd(q, r, *sse);
        *sum = _mm256_add_pd(*sum, q);
        __m256d r01 = _mm256_permute2f128_pd(q, q, 0x00), r23 = _mm256_permute2f128_pd(q, q, 0x11);
        __m256d q0 = _mm256_permute_pd(r01, 0x0), q1 = _mm256_permute_pd(r01, 0xF);
        __m256d q2 = _mm256_permute_pd(r23, 0x0), q3 = _mm256_permute_pd(r23, 0xF);
        *g_lo = _mm256_add_pd(*g_lo, _mm256_add_pd(
            _mm256_fmadd_pd(q1, a1l, _mm256_mul_pd(q0, a0l)),
            _mm256_fmadd_pd(q3, a3l, _mm256_mul_pd(q2, a2l))));
        *g_hi = _mm256_add_pd(*g_hi, _mm256_add_pd(
            _mm256_fmadd_pd(q1, a1h, _mm256_mul_pd(q0, a0h)),
            _mm256_fmadd_pd(q3, a3h, _mm256_mul_pd(q2, a2h))));
    }

    #if defined(LINREG_AVX512_KERNELS) && (defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 9))
    #define LINREG_ROWS_OF_16_F32 1
    #define LINREG_AVX512_INLINE \
        static inline __attribute__((always_inline, target(LINREG_AVX512_TARGET)))
    /* The avx512 build: steps of 16 float32 rows of 8, two rows a register (z0..z7).
       Their dot products are reduced together by 14 shuffles and 7 adds (the AVX2 step
       above takes 6 hadds and 3 more a step of 8 rows): the sums come out in the lane
       order LINREG_SUM_LANE below, and y is permuted to match. Each row's 8 products
       summed in float32, the gradient terms of the step's 8 rows of each half summed in
       float32, then in double: the precision of the AVX2 step. C harness, 2^21 rows:
       0.56x its time in cache, 0.71x from memory (2.25 -> 1.59 ms); fused epoch A/B,
       2^21 rows, 1 thread: 0.73 (0.72-0.75), 2.28 -> 1.66 ms. */
    /* Sixteen rows' sums from four registers of 4 rows x 4 partial sums (q0: rows 0-3,
       q1: 4-7, ...; each 128-bit block one row): s, in the lane order LINREG_SUM_LANE. */
    LINREG_AVX512_INLINE __m512 linreg_sums_of_16(__m512 q0, __m512 q1, __m512 q2, __m512 q3)
    {
        __m512 v0 = _mm512_add_ps(_mm512_unpacklo_ps(q0, q1), _mm512_unpackhi_ps(q0, q1));
        __m512 v1 = _mm512_add_ps(_mm512_unpacklo_ps(q2, q3), _mm512_unpackhi_ps(q2, q3));
        return _mm512_add_ps(_mm512_unpacklo_ps(v0, v1), _mm512_unpackhi_ps(v0, v1));
    }
    /* Two registers' 128-bit blocks added in pairs: blocks (lo) + blocks (hi), the block
       orders of _mm512_shuffle_f32x4. 0x88 / 0xDD: from two registers of [row: j0-3, j4-7,
       row: j0-3, j4-7] to one of 4 rows x 4 partial sums; 0x44 / 0xEE: from two rows of
       16 lanes to [row a: 2 blocks | row b: 2 blocks]. */
    #define LINREG_FOLD_BLOCKS(a, b, lo, hi) \
        _mm512_add_ps(_mm512_shuffle_f32x4((a), (b), (lo)), _mm512_shuffle_f32x4((a), (b), (hi)))
    /* The end of a step of 16 rows: r = s + b - y in double (y_lanes: y in s's lane
       order), the loss and bias sums; returns the residuals in float32, in s's order. */
    LINREG_AVX512_INLINE __m512 linreg_residuals_16(__m512 s, __m512 y_lanes, __m512d bv,
                                                     __m512d* sse, __m512d* sum)
    {
        __m512d r_lo = _mm512_sub_pd(
            _mm512_add_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(s)), bv),
            _mm512_cvtps_pd(_mm512_castps512_ps256(y_lanes)));
        __m512d r_hi = _mm512_sub_pd(
            _mm512_add_pd(_mm512_cvtps_pd(_mm512_extractf32x8_ps(s, 1)), bv),
            _mm512_cvtps_pd(_mm512_extractf32x8_ps(y_lanes, 1)));
        *sse = _mm512_add_pd(*sse, _mm512_fmadd_pd(r_hi, r_hi, _mm512_mul_pd(r_lo, r_lo)));
        *sum = _mm512_add_pd(*sum, _mm512_add_pd(r_lo, r_hi));
        return _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(r_lo)),
                                  _mm512_cvtpd_ps(r_hi), 1);
    }
    LINREG_AVX512_INLINE void linreg_step_16_f32(
        __m512 z0, __m512 z1, __m512 z2, __m512 z3, __m512 z4, __m512 z5, __m512 z6,
        __m512 z7, __m512 y_lanes, __m512 ww, __m512d bv, const __m512i* pairs,
        __m512d* g, __m512d* sse, __m512d* sum)
    {
        __m512 p0 = _mm512_mul_ps(z0, ww), p1 = _mm512_mul_ps(z1, ww);
        __m512 p2 = _mm512_mul_ps(z2, ww), p3 = _mm512_mul_ps(z3, ww);
        __m512 p4 = _mm512_mul_ps(z4, ww), p5 = _mm512_mul_ps(z5, ww);
        __m512 p6 = _mm512_mul_ps(z6, ww), p7 = _mm512_mul_ps(z7, ww);
        /* 128-bit blocks [row j0-3 | row j4-7]: add the halves, 4 rows x 4 partials */
        __m512 s = linreg_sums_of_16(
            LINREG_FOLD_BLOCKS(p0, p1, 0x88, 0xDD), LINREG_FOLD_BLOCKS(p2, p3, 0x88, 0xDD),
            LINREG_FOLD_BLOCKS(p4, p5, 0x88, 0xDD), LINREG_FOLD_BLOCKS(p6, p7, 0x88, 0xDD));
        /* The residuals in float32; each register's two rows' residuals across its halves */
        __m512 rf = linreg_residuals_16(s, y_lanes, bv, sse, sum);
        __m512 t = _mm512_add_ps(
            _mm512_add_ps(
                _mm512_fmadd_ps(_mm512_permutexvar_ps(pairs[1], rf), z1,
                                _mm512_mul_ps(_mm512_permutexvar_ps(pairs[0], rf), z0)),
                _mm512_fmadd_ps(_mm512_permutexvar_ps(pairs[3], rf), z3,
                                _mm512_mul_ps(_mm512_permutexvar_ps(pairs[2], rf), z2))),
            _mm512_add_ps(
                _mm512_fmadd_ps(_mm512_permutexvar_ps(pairs[5], rf), z5,
                                _mm512_mul_ps(_mm512_permutexvar_ps(pairs[4], rf), z4)),
                _mm512_fmadd_ps(_mm512_permutexvar_ps(pairs[7], rf), z7,
                                _mm512_mul_ps(_mm512_permutexvar_ps(pairs[6], rf), z6))));
        /* t: [rows 2k | rows 2k + 1] of 8 features: the halves added in double */
        *g = _mm512_add_pd(*g, _mm512_add_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(t)),
                                             _mm512_cvtps_pd(_mm512_extractf32x8_ps(t, 1))));
    }
    /* The lane of row i's sum in linreg_step_16_f32's s: lane 4 t + u holds row t (u = 0),
       8 + t (1), 4 + t (2), 12 + t (3). */
    #define LINREG_SUM_LANE(i) (4 * ((i) % 4) + ((i) < 4 ? 0 : (i) < 8 ? 2 : (i) < 12 ? 1 : 3))
    /* The lane -> row index of LINREG_SUM_LANE, for linreg_y_lanes_16. */
    LINREG_AVX512_INLINE __m512i linreg_y_order_16(void)
    {
        int lanes[16];
        for (int l = 0; l < 16; l++) lanes[LINREG_SUM_LANE(l)] = l;
        return _mm512_loadu_si512(lanes);
    }
    /* y of rows t..t+15 in the lane order of their sums (y_order: linreg_y_order_16). */
    LINREG_AVX512_INLINE __m512 linreg_y_lanes_16(const float* y, Py_ssize_t t,
                                                  Py_ssize_t y_step, __m512i y_order)
    {
        float yb[16];
        if (y_step == 1)
            return _mm512_permutexvar_ps(y_order, _mm512_loadu_ps(y + t));
        for (int l = 0; l < 16; l++) yb[l] = y[(t + l) * y_step];
        return _mm512_permutexvar_ps(y_order, _mm512_loadu_ps(yb));
    }

    /* `linreg_rows_of_8_f32` in steps of 16 rows (rows NULL only): adds to grad and
       *bias_sum, returns the loss; *done: the position after the last row summed. */
    static __attribute__((noinline, target(LINREG_AVX512_TARGET))) double linreg_rows_of_16_f32(
        const float* X, const Py_ssize_t* rows, Py_ssize_t start, Py_ssize_t stop,
        const float* y, Py_ssize_t y_step, const float* w, double bias, double* grad,
        double* bias_sum, Py_ssize_t* done)
    {
        if (rows != NULL) {  /* a subset of rows (no whole pass gives one): the AVX2 loop's */
            *done = start;
            return 0.0;
        }
        const __m512 ww = _mm512_broadcast_f32x8(_mm256_loadu_ps(w));
        const __m512d bv = _mm512_set1_pd(bias);
        __m512d g = _mm512_loadu_pd(grad), sse = _mm512_setzero_pd(), sum = sse;
        int pair[8][16];
        __m512i pairs[8];
        Py_ssize_t t = start, l, k;
        for (k = 0; k < 8; k++) {
            for (l = 0; l < 16; l++) pair[k][l] = LINREG_SUM_LANE(2 * k + (l >= 8));
            pairs[k] = _mm512_loadu_si512(pair[k]);
        }
        const __m512i y_order = linreg_y_order_16();
        for (; t + 16 <= stop; t += 16) {
            const float* x = X + 8 * t;
            linreg_prefetch_ahead(x, 16 * 8 * sizeof(float), X + 8 * stop);
            linreg_step_16_f32(
                _mm512_loadu_ps(x), _mm512_loadu_ps(x + 16), _mm512_loadu_ps(x + 32),
                _mm512_loadu_ps(x + 48), _mm512_loadu_ps(x + 64), _mm512_loadu_ps(x + 80),
                _mm512_loadu_ps(x + 96), _mm512_loadu_ps(x + 112),
                linreg_y_lanes_16(y, t, y_step, y_order), ww, bv, pairs, &g, &sse, &sum);
        }
        _mm512_storeu_pd(grad, g);
        *bias_sum += _mm512_reduce_add_pd(sum);
        *done = t;
        return _mm512_reduce_add_pd(sse);
    }
    #endif

    /* Rows start..stop-1 (rows[start:stop] when rows is not NULL) of X (rows of 8 floats),
       8 at a time: grad[0:8] += sum r_i x_i, *bias_sum += sum r_i, returns sum r_i^2,
       r_i = x_i . w + bias - y[i y_step]. *done: the position after the last row summed
       (rows after it, fewer than 8, are the caller's). Three loops (y contiguous, y
       strided, a subset of rows), each with only its own values in registers. */
    static double linreg_rows_of_8_f32(
        const float* X, const Py_ssize_t* rows, Py_ssize_t start, Py_ssize_t stop,
        const float* y, Py_ssize_t y_step, const float* w, double bias, double* grad,
        double* bias_sum, Py_ssize_t* done)
    {
        double sse_of_16 = 0.0;
    #if defined(LINREG_ROWS_OF_16_F32)
        sse_of_16 = linreg_rows_of_16_f32(X, rows, start, stop, y, y_step, w, bias, grad,
                                          bias_sum, &start);
    #endif
        const __m256 wv = _mm256_loadu_ps(w);
        const __m256d bv = _mm256_set1_pd(bias), zero = _mm256_setzero_pd();
        __m256d g_lo = _mm256_loadu_pd(grad), g_hi = _mm256_loadu_pd(grad + 4);
        __m256d sse = _mm256_setzero_pd(), sum = _mm256_setzero_pd();
        Py_ssize_t t = start;
        if (rows == NULL && y_step == 1) {
            for (; t + 8 <= stop; t += 8) {
                const float* x = X + 8 * t;
                linreg_prefetch_ahead(x, 8 * 8 * sizeof(float), X + 8 * stop);
                linreg_step_8_f32(x, x + 8, x + 16, x + 24, x + 32, x + 40, x + 48, x + 56,
                                  _mm256_loadu_ps(y + t), wv, bv, 0, zero, zero, &g_lo, &g_hi,
                                  &sse, &sum);
            }
        } else if (rows == NULL) {
            for (; t + 8 <= stop; t += 8) {
                const float* x = X + 8 * t;
                const float* yt = y + t * y_step;
                linreg_prefetch_ahead(x, 8 * 8 * sizeof(float), X + 8 * stop);
                __m256 yv = _mm256_setr_ps(yt[0], yt[y_step], yt[2 * y_step], yt[3 * y_step],
                                           yt[4 * y_step], yt[5 * y_step], yt[6 * y_step],
                                           yt[7 * y_step]);
                linreg_step_8_f32(x, x + 8, x + 16, x + 24, x + 32, x + 40, x + 48, x + 56,
                                  yv, wv, bv, 0, zero, zero, &g_lo, &g_hi, &sse, &sum);
            }
        } else {
            for (; t + 8 <= stop; t += 8) {
                const Py_ssize_t* i = rows + t;
                __m256 yv = _mm256_setr_ps(y[i[0] * y_step], y[i[1] * y_step],
                                           y[i[2] * y_step], y[i[3] * y_step],
                                           y[i[4] * y_step], y[i[5] * y_step],
                                           y[i[6] * y_step], y[i[7] * y_step]);
                linreg_step_8_f32(X + 8 * i[0], X + 8 * i[1], X + 8 * i[2], X + 8 * i[3],
                                  X + 8 * i[4], X + 8 * i[5], X + 8 * i[6], X + 8 * i[7],
                                  yv, wv, bv, 0, zero, zero, &g_lo, &g_hi, &sse, &sum);
            }
        }
        _mm256_storeu_pd(grad, g_lo);
        _mm256_storeu_pd(grad + 4, g_hi);
        *bias_sum += linreg_lanes_total(sum);
        *done = t;
        return sse_of_16 + linreg_lanes_total(sse);
    }

    /* `linreg_rows_of_8_f32` for float64 rows, 4 at a time. */
    static double linreg_rows_of_8_f64(
        const double* X, const Py_ssize_t* rows, Py_ssize_t start, Py_ssize_t stop,
        const double* y, Py_ssize_t y_step, const double* w, double bias, double* grad,
        double* bias_sum, Py_ssize_t* done)
    {
        const __m256d w_lo = _mm256_loadu_pd(w), w_hi = _mm256_loadu_pd(w + 4);
        const __m256d bv = _mm256_set1_pd(bias);
        __m256d g_lo = _mm256_loadu_pd(grad), g_hi = _mm256_loadu_pd(grad + 4);
        __m256d sse = _mm256_setzero_pd(), sum = _mm256_setzero_pd();
        Py_ssize_t t = start;
        if (rows == NULL && y_step == 1) {
            for (; t + 4 <= stop; t += 4) {
                const double* x = X + 8 * t;
                linreg_prefetch_ahead(x, 4 * 8 * sizeof(double), X + 8 * stop);
                linreg_step_4_f64(x, x + 8, x + 16, x + 24, _mm256_loadu_pd(y + t),
                                  w_lo, w_hi, bv, 0, bv, &g_lo, &g_hi, &sse, &sum);
            }
        } else if (rows == NULL) {
            for (; t + 4 <= stop; t += 4) {
                const double* x = X + 8 * t;
                const double* yt = y + t * y_step;
                linreg_prefetch_ahead(x, 4 * 8 * sizeof(double), X + 8 * stop);
                __m256d yv = _mm256_setr_pd(yt[0], yt[y_step], yt[2 * y_step], yt[3 * y_step]);
                linreg_step_4_f64(x, x + 8, x + 16, x + 24, yv, w_lo, w_hi, bv, 0, bv,
                                  &g_lo, &g_hi, &sse, &sum);
            }
        } else {
            for (; t + 4 <= stop; t += 4) {
                const Py_ssize_t* i = rows + t;
                __m256d yv = _mm256_setr_pd(y[i[0] * y_step], y[i[1] * y_step],
                                            y[i[2] * y_step], y[i[3] * y_step]);
                linreg_step_4_f64(X + 8 * i[0], X + 8 * i[1], X + 8 * i[2], X + 8 * i[3],
                                  yv, w_lo, w_hi, bv, 0, bv, &g_lo, &g_hi, &sse, &sum);
            }
        }
        _mm256_storeu_pd(grad, g_lo);
        _mm256_storeu_pd(grad + 4, g_hi);
        *bias_sum += linreg_lanes_total(sum);
        *done = t;
        return linreg_lanes_total(sse);
    }
    #else
    #define LINREG_ROWS_OF_8 0
    static double linreg_rows_of_8_f32(
        const float* X, const Py_ssize_t* rows, Py_ssize_t start, Py_ssize_t stop,
        const float* y, Py_ssize_t y_step, const float* w, double bias, double* grad,
        double* bias_sum, Py_ssize_t* done) { *done = start; return 0.0; }
    static double linreg_rows_of_8_f64(
        const double* X, const Py_ssize_t* rows, Py_ssize_t start, Py_ssize_t stop,
        const double* y, Py_ssize_t y_step, const double* w, double bias, double* grad,
        double* bias_sum, Py_ssize_t* done) { *done = start; return 0.0; }
    #endif
    """
    int LINREG_ROWS_OF_8
    double linreg_rows_of_8_f32(
        const float* X, const Py_ssize_t* rows, Py_ssize_t start, Py_ssize_t stop,
        const float* y, Py_ssize_t y_step, const float* w, double bias, double* grad,
        double* bias_sum, Py_ssize_t* done) noexcept nogil
    double linreg_rows_of_8_f64(
        const double* X, const Py_ssize_t* rows, Py_ssize_t start, Py_ssize_t stop,
        const double* y, Py_ssize_t y_step, const double* w, double bias, double* grad,
        double* bias_sum, Py_ssize_t* done) noexcept nogil


cdef inline double _rows_of_8(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    const Py_ssize_t* rows,
    Py_ssize_t start,
    Py_ssize_t stop,
    const WorkBuffers* work,
    double* grad_by_output,
    double* grad_bias,
) noexcept nogil:
    """`_sums_one_output` for rows of 8 elements: whole steps of 16 then 8 rows (float32;
    16: avx512 build) or 4 (float64) in the C loops above (AVX2 and AVX-512 builds), the
    rest in the loop below compiled with d = 8."""
    cdef RowWidth8 width
    cdef Py_ssize_t done = start
    cdef Py_ssize_t y_step = Y.strides[0] // <Py_ssize_t> sizeof(floating)
    cdef double sse = 0.0
    if LINREG_ROWS_OF_8:
        if floating is float:
            sse = linreg_rows_of_8_f32(&X[0, 0], rows, start, stop, &Y[0, 0], y_step,
                                       work.w_by_output_f32, work.bias[0], grad_by_output,
                                       grad_bias, &done)
        else:
            sse = linreg_rows_of_8_f64(&X[0, 0], rows, start, stop, &Y[0, 0], y_step,
                                       work.w_by_output, work.bias[0], grad_by_output,
                                       grad_bias, &done)
        if done == stop:
            return sse
    return sse + _sums_one_output(X, Y, rows, done, stop, work, grad_by_output, grad_bias,
                                  width)
