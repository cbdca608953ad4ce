# The multi-output tiles of outputs.pxi in the avx512 build (included by outputs.pxi).
#
# Compiled for AVX-512, function by function (LINREG_AVX512_TARGET, set by setup.py; the
# rest of the build is compiled for AVX2, see setup.py): a tile of 8 doubles is one
# 512-bit register, 8 float32 lanes one 256-bit vector converted to double in one
# instruction, and more than 8 float32 outputs take tiles of 16 (one register). The loops
# take 8 rows (residuals) or 8 features (gradient) side by side instead of 4, so that 8
# independent sums keep both FMA pipes busy (an FMA waits 4 cycles for its sum: 4 chains
# of one register each would do half the work a cycle). The arithmetic, its order and
# precision are those of the AVX2 kernels in outputs.pxi (see there), lane by lane,
# except in float32: a row's end (r = p + b - y, the loss and bias terms) is done in
# float32 and its terms summed over the block in float32 (in double it took more than a
# row's products at d = 16); tiles of 8 outputs, whose 8-lane vectors used half a
# register, end two rows at once, and from 16 features the gradient is summed
# by output with the features across the lanes (see the kernels). Measured, one thread,
# float32 k = 8, time / that of `X @ W`: d = 4 1.50 -> 1.22-1.26, d = 16 1.72-1.77 -> 1.24-1.30.
# From 8 features the products of two rows share a register too: 8 features of each
# row loaded into one register, lane j of either half spread over its half by vpermps
# (one permute and one 16-lane FMA where there were two 8-lane FMAs). Spreading 16
# features of two rows by vpermt2ps was as fast with plain loads, 2-3x slower with masked
# ones (masked loads are slow on AMD); two broadcasts blended were 1.1x slower, and so was
# interleaving the two rows through a scratch and broadcasting 64 bits at a time, with
# one shuffle a row instead of eight: the permutes are not what bounds this loop.

cdef extern from *:
    """
    #if defined(LINREG_AVX512_KERNELS) && (defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 9))
    #define LINREG_TILES_AVX512 1
    #define LINREG_OUTPUT_TILES 1
    #define LINREG_OUTPUT_TILE 8
    /* float64 takes these tiles up to k = 32 (at k = 32, d = 16: 0.68x the time of the
       avx2 build, which keeps the loop of rows.pxi there) */
    #define LINREG_OUTPUT_TILES_F64_MAX_K 32
    typedef double linreg_d8 __attribute__((vector_size(64), aligned(8), may_alias));
    typedef float linreg_f8 __attribute__((vector_size(32), aligned(4), may_alias));
    #include <immintrin.h>
    /* 8 floats <-> 8 doubles, one instruction each (gcc 12 lowers __builtin_convertvector
       between these widths through two 4-lane halves). */
    #define LINREG_F8_TO_D8(f) ((linreg_d8) _mm512_cvtps_pd((__m256) (f)))
    #define LINREG_D8_TO_F8(v) ((linreg_f8) _mm512_cvtpd_ps((__m512d) (v)))
    /* Compiled for AVX-512 (the rest of the build is not, see setup.py), so not inlined
       into the Cython loop that calls them (inlined, gcc 12 also spilled three of the
       eight float32 row sums to the stack in the inner loop). */
    #define LINREG_TILE_KERNEL static __attribute__((noinline, target(LINREG_AVX512_TARGET)))

    /* The end of one row of a tile: r = a + b - y, q = w r; the loss and bias sums, q
       stored in the data's type. */
    #define LINREG_ROW_END_D(a, i) do {                                         \
            linreg_d8 r_ = (a) + bv - *(const linreg_d8*) ys[i];                 \
            linreg_d8 q_ = r_;                                                  \
            if (weights) q_ = weights[i] * r_;                                  \
            sv += q_ * r_; cv += q_;                                            \
            *(linreg_d8*) (q_block + 8 * (i)) = q_; } while (0)
    #define LINREG_LANES_IN                                                     \
        linreg_d8 bv = *(const linreg_d8*) bias, sv = *(const linreg_d8*) sse_lanes; \
        linreg_d8 cv = *(const linreg_d8*) bias_lanes
    #define LINREG_LANES_OUT                                                    \
        *(linreg_d8*) sse_lanes = sv; *(linreg_d8*) bias_lanes = cv

    LINREG_TILE_KERNEL void linreg_tile_residuals_d(
        const double* const* xs, Py_ssize_t m, const double* w, Py_ssize_t d,
        const double* const* ys, const double* bias, const double* weights, double* q_block,
        double* sse_lanes, double* bias_lanes)
    {
        Py_ssize_t i = 0, j;
        LINREG_LANES_IN;
        for (; i + 8 <= m; i += 8) {
            const double *x0 = xs[i], *x1 = xs[i + 1], *x2 = xs[i + 2], *x3 = xs[i + 3];
            const double *x4 = xs[i + 4], *x5 = xs[i + 5], *x6 = xs[i + 6], *x7 = xs[i + 7];
            linreg_d8 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
            linreg_d8 a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0};
            for (j = 0; j < d; j++) {
                linreg_d8 wj = *(const linreg_d8*) (w + 8 * j);
                a0 += x0[j] * wj; a1 += x1[j] * wj; a2 += x2[j] * wj; a3 += x3[j] * wj;
                a4 += x4[j] * wj; a5 += x5[j] * wj; a6 += x6[j] * wj; a7 += x7[j] * wj;
            }
            LINREG_ROW_END_D(a0, i); LINREG_ROW_END_D(a1, i + 1);
            LINREG_ROW_END_D(a2, i + 2); LINREG_ROW_END_D(a3, i + 3);
            LINREG_ROW_END_D(a4, i + 4); LINREG_ROW_END_D(a5, i + 5);
            LINREG_ROW_END_D(a6, i + 6); LINREG_ROW_END_D(a7, i + 7);
        }
        for (; i < m; i++) {
            const double* x0 = xs[i];
            linreg_d8 a0 = {0};
            for (j = 0; j < d; j++)
                a0 += x0[j] * *(const linreg_d8*) (w + 8 * j);
            LINREG_ROW_END_D(a0, i);
        }
        LINREG_LANES_OUT;
    }

    /* float32, tiles of 8 outputs: the residuals of two rows in one 16-lane register (r_i
       in lanes 0-7, r_i+1 in 8-15), computed in float32, r = (p + b) - y, and the loss
       and bias sums over the block in float32 (promoted to double at its end; at most 32
       rows). In double lane by lane, as the AVX2 kernels do, a row's end was 9 vector
       operations on 8 doubles, the most of a row's work at small d. */
    typedef float linreg_f16 __attribute__((vector_size(64), aligned(4), may_alias));
    #define LINREG_F16_LO(f) ((linreg_d8) _mm512_cvtps_pd(_mm512_castps512_ps256((__m512) (f))))
    #define LINREG_F16_HI(f) ((linreg_d8) _mm512_cvtps_pd((__m256) _mm512_extractf64x4_pd((__m512d) (f), 1)))
    #define LINREG_F8_PAIR(lo, hi) \
        ((linreg_f16) _mm512_insertf32x8(_mm512_castps256_ps512((__m256) (lo)), (__m256) (hi), 1))
    #define LINREG_F8_SPLAT(s) ((linreg_f8) _mm256_set1_ps(s))
    /* x[j0:j0+8] of rows a and b in one register; lane j of either half is spread
       over its half by vpermps (pair_lanes, then + 1 per feature). */
    #define LINREG_ROWS_PAIR(a, b, j0) \
        ((__m512) LINREG_F8_PAIR(*(const linreg_f8*) ((a) + (j0)), *(const linreg_f8*) ((b) + (j0))))
    #define LINREG_ROW_PAIR_END_F(pa, pb, i, sq, q) LINREG_PAIR_END_F(LINREG_F8_PAIR(pa, pb), i, sq, q)
    #define LINREG_PAIR_END_F(p, i, sq, q) do {                                        \
            linreg_f16 y_ = LINREG_F8_PAIR(*(const linreg_f8*) ys[i],           \
                                           *(const linreg_f8*) ys[(i) + 1]);    \
            linreg_f16 r_ = ((p) + b2) - y_;                                    \
            linreg_f16 q_ = r_;                                                 \
            if (weights) q_ = LINREG_F8_PAIR(LINREG_F8_SPLAT((float) weights[i]), \
                                             LINREG_F8_SPLAT((float) weights[(i) + 1])) * r_; \
            (sq) = q_ * r_; (q) = q_;                                           \
            *(linreg_f16*) (q_block + 8 * (i)) = q_; } while (0)
    #define LINREG_ROW_END_F(p, i) do {                                         \
            linreg_f8 r_ = ((p) + b8) - *(const linreg_f8*) ys[i];              \
            linreg_f8 q_ = r_;                                                  \
            if (weights) q_ = (float) weights[i] * r_;                          \
            s8 += q_ * r_; c8 += q_;                                            \
            *(linreg_f8*) (q_block + 8 * (i)) = q_; } while (0)

    LINREG_TILE_KERNEL void linreg_tile_residuals_f(
        const float* const* xs, Py_ssize_t m, const float* w, Py_ssize_t d,
        const float* const* ys, const double* bias, const double* weights, float* q_block,
        double* sse_lanes, double* bias_lanes)
    {
        Py_ssize_t i = 0, j, j0, j1;
        linreg_f8 b8 = (linreg_f8) _mm512_cvtpd_ps(*(const __m512d*) bias);
        linreg_f8 s8 = {0}, c8 = {0};
        linreg_f16 b2 = LINREG_F8_PAIR(b8, b8), s2 = {0}, c2 = {0};
        const __m512i pair_lanes = _mm512_set_epi32(8, 8, 8, 8, 8, 8, 8, 8, 0, 0, 0, 0, 0, 0, 0, 0);
        const __m512i next_lane = _mm512_set1_epi32(1);
        for (; i + 8 <= m; i += 8) {
            const float *x0 = xs[i], *x1 = xs[i + 1], *x2 = xs[i + 2], *x3 = xs[i + 3];
            const float *x4 = xs[i + 4], *x5 = xs[i + 5], *x6 = xs[i + 6], *x7 = xs[i + 7];
            linreg_f16 sq0, sq1, sq2, sq3, q0, q1, q2, q3;  /* the pairs' loss and bias terms */
            linreg_f8 p0 = {0}, p1 = {0}, p2 = {0}, p3 = {0};
            linreg_f8 p4 = {0}, p5 = {0}, p6 = {0}, p7 = {0};
            if (d >= 8 && d <= 32) {  /* one run of F32_CHUNK features, rows by pairs */
                linreg_f16 h0 = {0}, h1 = {0}, h2 = {0}, h3 = {0};
                for (j0 = 0; j0 + 8 <= d; j0 += 8) {
                    __m512 z0 = LINREG_ROWS_PAIR(x0, x1, j0), z1 = LINREG_ROWS_PAIR(x2, x3, j0);
                    __m512 z2 = LINREG_ROWS_PAIR(x4, x5, j0), z3 = LINREG_ROWS_PAIR(x6, x7, j0);
                    __m512i at = pair_lanes;
                    for (j = j0; j < j0 + 8; j++) {
                        linreg_f16 wj = (linreg_f16) _mm512_broadcast_f32x8(
                            *(const __m256*) (w + 8 * j));
                        h0 += (linreg_f16) _mm512_permutexvar_ps(at, z0) * wj;
                        h1 += (linreg_f16) _mm512_permutexvar_ps(at, z1) * wj;
                        h2 += (linreg_f16) _mm512_permutexvar_ps(at, z2) * wj;
                        h3 += (linreg_f16) _mm512_permutexvar_ps(at, z3) * wj;
                        at = _mm512_add_epi32(at, next_lane);
                    }
                }
                for (j = j0; j < d; j++) {
                    linreg_f16 wj = (linreg_f16) _mm512_broadcast_f32x8(*(const __m256*) (w + 8 * j));
                    h0 += LINREG_F8_PAIR(LINREG_F8_SPLAT(x0[j]), LINREG_F8_SPLAT(x1[j])) * wj;
                    h1 += LINREG_F8_PAIR(LINREG_F8_SPLAT(x2[j]), LINREG_F8_SPLAT(x3[j])) * wj;
                    h2 += LINREG_F8_PAIR(LINREG_F8_SPLAT(x4[j]), LINREG_F8_SPLAT(x5[j])) * wj;
                    h3 += LINREG_F8_PAIR(LINREG_F8_SPLAT(x6[j]), LINREG_F8_SPLAT(x7[j])) * wj;
                }
                LINREG_PAIR_END_F(h0, i, sq0, q0); LINREG_PAIR_END_F(h1, i + 2, sq1, q1);
                LINREG_PAIR_END_F(h2, i + 4, sq2, q2); LINREG_PAIR_END_F(h3, i + 6, sq3, q3);
                s2 += (sq0 + sq1) + (sq2 + sq3); c2 += (q0 + q1) + (q2 + q3);
                continue;
            }
            if (d <= 32) {  /* one run of F32_CHUNK features */
                for (j = 0; j < d; j++) {
                    linreg_f8 wj = *(const linreg_f8*) (w + 8 * j);
                    p0 += x0[j] * wj; p1 += x1[j] * wj; p2 += x2[j] * wj; p3 += x3[j] * wj;
                    p4 += x4[j] * wj; p5 += x5[j] * wj; p6 += x6[j] * wj; p7 += x7[j] * wj;
                }
            } else {  /* runs of 32 features summed in float32, added in double */
                linreg_d8 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
                linreg_d8 a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0};
                for (j0 = 0; j0 < d; j0 = j1) {
                    linreg_f8 u0 = {0}, u1 = {0}, u2 = {0}, u3 = {0};
                    linreg_f8 u4 = {0}, u5 = {0}, u6 = {0}, u7 = {0};
                    j1 = d - j0 > 32 ? j0 + 32 : d;
                    for (j = j0; j < j1; j++) {
                        linreg_f8 wj = *(const linreg_f8*) (w + 8 * j);
                        u0 += x0[j] * wj; u1 += x1[j] * wj; u2 += x2[j] * wj; u3 += x3[j] * wj;
                        u4 += x4[j] * wj; u5 += x5[j] * wj; u6 += x6[j] * wj; u7 += x7[j] * wj;
                    }
                    a0 += LINREG_F8_TO_D8(u0); a1 += LINREG_F8_TO_D8(u1);
                    a2 += LINREG_F8_TO_D8(u2); a3 += LINREG_F8_TO_D8(u3);
                    a4 += LINREG_F8_TO_D8(u4); a5 += LINREG_F8_TO_D8(u5);
                    a6 += LINREG_F8_TO_D8(u6); a7 += LINREG_F8_TO_D8(u7);
                }
                p0 = LINREG_D8_TO_F8(a0); p1 = LINREG_D8_TO_F8(a1);
                p2 = LINREG_D8_TO_F8(a2); p3 = LINREG_D8_TO_F8(a3);
                p4 = LINREG_D8_TO_F8(a4); p5 = LINREG_D8_TO_F8(a5);
                p6 = LINREG_D8_TO_F8(a6); p7 = LINREG_D8_TO_F8(a7);
            }
            LINREG_ROW_PAIR_END_F(p0, p1, i, sq0, q0); LINREG_ROW_PAIR_END_F(p2, p3, i + 2, sq1, q1);
            LINREG_ROW_PAIR_END_F(p4, p5, i + 4, sq2, q2); LINREG_ROW_PAIR_END_F(p6, p7, i + 6, sq3, q3);
            s2 += (sq0 + sq1) + (sq2 + sq3); c2 += (q0 + q1) + (q2 + q3);
        }
        for (; i < m; i++) {
            const float* x0 = xs[i];
            linreg_d8 a0 = {0};
            linreg_f8 p0;
            for (j0 = 0; j0 < d; j0 = j1) {
                linreg_f8 u0 = {0};
                j1 = d - j0 > 32 ? j0 + 32 : d;
                for (j = j0; j < j1; j++)
                    u0 += x0[j] * *(const linreg_f8*) (w + 8 * j);
                a0 += LINREG_F8_TO_D8(u0);
            }
            p0 = LINREG_D8_TO_F8(a0);
            LINREG_ROW_END_F(p0, i);
        }
        s8 += (linreg_f8) _mm512_castps512_ps256((__m512) s2)
              + (linreg_f8) _mm512_extractf32x8_ps((__m512) s2, 1);
        c8 += (linreg_f8) _mm512_castps512_ps256((__m512) c2)
              + (linreg_f8) _mm512_extractf32x8_ps((__m512) c2, 1);
        *(linreg_d8*) sse_lanes += LINREG_F8_TO_D8(s8);
        *(linreg_d8*) bias_lanes += LINREG_F8_TO_D8(c8);
    }

    /* g (d, 8) += the block's sums for features j..j+N-1 (N = 8, 4 or 1 side by side). */
    #define LINREG_TILE_GRADIENT(T, V, ADD, N)                                  \
        for (; j + N <= d; j += N) {                                            \
            V c[N];                                                             \
            for (int f = 0; f < N; f++) c[f] = (V) {0};                         \
            for (i = 0; i < m; i++) {                                           \
                const T* x = xs[i] + j;                                         \
                V q = *(const V*) (q_block + 8 * i);                            \
                for (int f = 0; f < N; f++) c[f] += x[f] * q;                   \
            }                                                                   \
            for (int f = 0; f < N; f++) *(linreg_d8*) (g + 8 * (j + f)) += ADD(c[f]); \
        }
    #define LINREG_SAME(v) (v)

    LINREG_TILE_KERNEL void linreg_tile_gradient_d(
        const double* const* xs, Py_ssize_t m, const double* q_block, Py_ssize_t d, double* g)
    {
        Py_ssize_t i, j = 0;
        LINREG_TILE_GRADIENT(double, linreg_d8, LINREG_SAME, 8)
        LINREG_TILE_GRADIENT(double, linreg_d8, LINREG_SAME, 4)
        LINREG_TILE_GRADIENT(double, linreg_d8, LINREG_SAME, 1)
    }

    /* float32, tiles of 8 outputs, g += the block's sums. Rows of LINREG_F32_BY_OUTPUT_D
       features or more: features across the lanes, 16 at a time, each row's 8 residuals
       broadcast from q_block (8 FMAs on 16 lanes a row, where 8 outputs across the lanes
       took 16 on 8, and 16 broadcasts), into g laid out by output, (8, d); shorter rows:
       outputs across the lanes, into g (d, 8), even and odd rows in separate sums (an
       FMA waits 4 cycles for its sum). Each sum over the block in float32, then added in
       double. */
    #define LINREG_F32_BY_OUTPUT_D 16
    #define linreg_tile_gradient_f_by_output(d) ((d) >= LINREG_F32_BY_OUTPUT_D)
    #define LINREG_TILE_GRADIENT_F_PAIRS(N)                                     \
        for (; j + N <= d; j += N) {                                            \
            linreg_f8 c[N], e[N];                                               \
            for (int f = 0; f < N; f++) { c[f] = (linreg_f8) {0}; e[f] = (linreg_f8) {0}; } \
            for (i = 0; i + 2 <= m; i += 2) {                                   \
                const float* x = xs[i] + j;                                     \
                const float* xb = xs[i + 1] + j;                                \
                linreg_f8 q = *(const linreg_f8*) (q_block + 8 * i);            \
                linreg_f8 qb = *(const linreg_f8*) (q_block + 8 * i + 8);       \
                for (int f = 0; f < N; f++) { c[f] += x[f] * q; e[f] += xb[f] * qb; } \
            }                                                                   \
            if (i < m) {                                                        \
                const float* x = xs[i] + j;                                     \
                linreg_f8 q = *(const linreg_f8*) (q_block + 8 * i);            \
                for (int f = 0; f < N; f++) c[f] += x[f] * q;                   \
            }                                                                   \
            for (int f = 0; f < N; f++)                                         \
                *(linreg_d8*) (g + 8 * (j + f)) += LINREG_F8_TO_D8(c[f] + e[f]); \
        }
    #define LINREG_ADD_BY_OUTPUT(o, c) do {                                     \
            double* g_ = g + (o) * d + j;                                       \
            _mm512_mask_storeu_pd(g_, lo, _mm512_add_pd(                        \
                _mm512_maskz_loadu_pd(lo, g_), (__m512d) LINREG_F16_LO(c)));    \
            _mm512_mask_storeu_pd(g_ + 8, hi, _mm512_add_pd(                    \
                _mm512_maskz_loadu_pd(hi, g_ + 8), (__m512d) LINREG_F16_HI(c))); \
        } while (0)

    LINREG_TILE_KERNEL void linreg_tile_gradient_f(
        const float* const* xs, Py_ssize_t m, const float* q_block, Py_ssize_t d, double* g)
    {
        Py_ssize_t i, j = 0;
        if (!linreg_tile_gradient_f_by_output(d)) {
            LINREG_TILE_GRADIENT_F_PAIRS(8)
            LINREG_TILE_GRADIENT_F_PAIRS(4)
            LINREG_TILE_GRADIENT_F_PAIRS(1)
            return;
        }
        for (j = 0; j < d; j += 16) {
            __mmask16 live = d - j >= 16 ? (__mmask16) 0xffff : (__mmask16) ((1u << (d - j)) - 1);
            __mmask8 lo = (__mmask8) live, hi = (__mmask8) (live >> 8);
            linreg_f16 c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0};
            linreg_f16 c4 = {0}, c5 = {0}, c6 = {0}, c7 = {0};
            if (live == (__mmask16) 0xffff) {
                for (i = 0; i < m; i++) {
                    linreg_f16 x = *(const linreg_f16*) (xs[i] + j);
                    const float* q = q_block + 8 * i;
                    c0 += x * q[0]; c1 += x * q[1]; c2 += x * q[2]; c3 += x * q[3];
                    c4 += x * q[4]; c5 += x * q[5]; c6 += x * q[6]; c7 += x * q[7];
                }
            } else {  /* masked loads only for the last run: they are slow on AMD */
                for (i = 0; i < m; i++) {
                    linreg_f16 x = (linreg_f16) _mm512_maskz_loadu_ps(live, xs[i] + j);
                    const float* q = q_block + 8 * i;
                    c0 += x * q[0]; c1 += x * q[1]; c2 += x * q[2]; c3 += x * q[3];
                    c4 += x * q[4]; c5 += x * q[5]; c6 += x * q[6]; c7 += x * q[7];
                }
            }
            LINREG_ADD_BY_OUTPUT(0, c0); LINREG_ADD_BY_OUTPUT(1, c1);
            LINREG_ADD_BY_OUTPUT(2, c2); LINREG_ADD_BY_OUTPUT(3, c3);
            LINREG_ADD_BY_OUTPUT(4, c4); LINREG_ADD_BY_OUTPUT(5, c5);
            LINREG_ADD_BY_OUTPUT(6, c6); LINREG_ADD_BY_OUTPUT(7, c7);
        }
    }

    /* Tiles of 16 float32 outputs (one 512-bit register), for k > 8: w (d, 16), ys[i] and
       q_block rows of 16, bias and the lane sums 16 doubles (lo: outputs 0-7, hi: 8-15). */
    #define LINREG_OUTPUT_TILES_F16 1
    /* A row's end in float32, as for the tiles of 8 outputs: r = (p + b) - y, the loss
       and bias terms summed over the block in float32 (in double, lo and hi: one tile,
       d = 16, in L1, the residuals took 1.6x the time). */
    #define LINREG_ROW_END_F16(p, i, sq, q) do {                                \
            linreg_f16 r_ = ((p) + b16) - *(const linreg_f16*) ys[i];           \
            linreg_f16 q_ = r_;                                                 \
            if (weights) q_ = (float) weights[i] * r_;                          \
            (sq) = q_ * r_; (q) = q_;                                           \
            *(linreg_f16*) (q_block + 16 * (i)) = q_; } while (0)
    /* The 8 rows' terms added pairwise, then into the block's sum: one chain of 8 adds
       (3 cycles each) bounded the loop. */
    #define LINREG_SUM8(v) ((((v)[0] + (v)[1]) + ((v)[2] + (v)[3])) + (((v)[4] + (v)[5]) + ((v)[6] + (v)[7])))

    LINREG_TILE_KERNEL void linreg_tile16_residuals_f(
        const float* const* xs, Py_ssize_t m, const float* w, Py_ssize_t d,
        const float* const* ys, const double* bias, const double* weights, float* q_block,
        double* sse_lanes, double* bias_lanes)
    {
        Py_ssize_t i = 0, j, j0, j1, r;
        linreg_f16 b16 = LINREG_F8_PAIR(_mm512_cvtpd_ps(*(const __m512d*) bias),
                                        _mm512_cvtpd_ps(*(const __m512d*) (bias + 8)));
        linreg_f16 s16 = {0}, c16 = {0};
        for (; i + 8 <= m; i += 8) {
            const float *x0 = xs[i], *x1 = xs[i + 1], *x2 = xs[i + 2], *x3 = xs[i + 3];
            const float *x4 = xs[i + 4], *x5 = xs[i + 5], *x6 = xs[i + 6], *x7 = xs[i + 7];
            linreg_f16 p[8];
            if (d <= 32) {  /* one run of F32_CHUNK features */
                linreg_f16 p0 = {0}, p1 = {0}, p2 = {0}, p3 = {0};
                linreg_f16 p4 = {0}, p5 = {0}, p6 = {0}, p7 = {0};
                for (j = 0; j < d; j++) {
                    linreg_f16 wj = *(const linreg_f16*) (w + 16 * j);
                    p0 += x0[j] * wj; p1 += x1[j] * wj; p2 += x2[j] * wj; p3 += x3[j] * wj;
                    p4 += x4[j] * wj; p5 += x5[j] * wj; p6 += x6[j] * wj; p7 += x7[j] * wj;
                }
                p[0] = p0; p[1] = p1; p[2] = p2; p[3] = p3;
                p[4] = p4; p[5] = p5; p[6] = p6; p[7] = p7;
            } else {  /* runs of 32 features summed in float32, added in double */
                linreg_d8 al[8], ah[8];
                for (r = 0; r < 8; r++) { al[r] = (linreg_d8) {0}; ah[r] = (linreg_d8) {0}; }
                for (j0 = 0; j0 < d; j0 = j1) {
                    linreg_f16 p0 = {0}, p1 = {0}, p2 = {0}, p3 = {0};
                    linreg_f16 p4 = {0}, p5 = {0}, p6 = {0}, p7 = {0};
                    j1 = d - j0 > 32 ? j0 + 32 : d;
                    for (j = j0; j < j1; j++) {
                        linreg_f16 wj = *(const linreg_f16*) (w + 16 * j);
                        p0 += x0[j] * wj; p1 += x1[j] * wj; p2 += x2[j] * wj; p3 += x3[j] * wj;
                        p4 += x4[j] * wj; p5 += x5[j] * wj; p6 += x6[j] * wj; p7 += x7[j] * wj;
                    }
                    al[0] += LINREG_F16_LO(p0); ah[0] += LINREG_F16_HI(p0);
                    al[1] += LINREG_F16_LO(p1); ah[1] += LINREG_F16_HI(p1);
                    al[2] += LINREG_F16_LO(p2); ah[2] += LINREG_F16_HI(p2);
                    al[3] += LINREG_F16_LO(p3); ah[3] += LINREG_F16_HI(p3);
                    al[4] += LINREG_F16_LO(p4); ah[4] += LINREG_F16_HI(p4);
                    al[5] += LINREG_F16_LO(p5); ah[5] += LINREG_F16_HI(p5);
                    al[6] += LINREG_F16_LO(p6); ah[6] += LINREG_F16_HI(p6);
                    al[7] += LINREG_F16_LO(p7); ah[7] += LINREG_F16_HI(p7);
                }
                for (r = 0; r < 8; r++)
                    p[r] = LINREG_F8_PAIR(LINREG_D8_TO_F8(al[r]), LINREG_D8_TO_F8(ah[r]));
            }
            {
                linreg_f16 sq[8], q[8];
                for (r = 0; r < 8; r++) LINREG_ROW_END_F16(p[r], i + r, sq[r], q[r]);
                s16 += LINREG_SUM8(sq); c16 += LINREG_SUM8(q);
            }
        }
        for (; i < m; i++) {
            const float* x0 = xs[i];
            linreg_d8 al0 = {0}, ah0 = {0};
            for (j0 = 0; j0 < d; j0 = j1) {
                linreg_f16 p0 = {0};
                j1 = d - j0 > 32 ? j0 + 32 : d;
                for (j = j0; j < j1; j++)
                    p0 += x0[j] * *(const linreg_f16*) (w + 16 * j);
                al0 += LINREG_F16_LO(p0); ah0 += LINREG_F16_HI(p0);
            }
            {
                linreg_f16 sq, q;
                LINREG_ROW_END_F16(LINREG_F8_PAIR(LINREG_D8_TO_F8(al0), LINREG_D8_TO_F8(ah0)),
                                   i, sq, q);
                s16 += sq; c16 += q;
            }
        }
        *(linreg_d8*) sse_lanes += LINREG_F16_LO(s16);
        *(linreg_d8*) (sse_lanes + 8) += LINREG_F16_HI(s16);
        *(linreg_d8*) bias_lanes += LINREG_F16_LO(c16);
        *(linreg_d8*) (bias_lanes + 8) += LINREG_F16_HI(c16);
    }

    /* g (d, 16) += the block's sums, features j..j+N-1 side by side (N = 8, 4, 1). */
    #define LINREG_TILE16_GRADIENT(N)                                           \
        for (; j + N <= d; j += N) {                                            \
            linreg_f16 c[N];                                                    \
            for (int f = 0; f < N; f++) c[f] = (linreg_f16) {0};                \
            for (i = 0; i < m; i++) {                                           \
                const float* x = xs[i] + j;                                     \
                linreg_f16 q = *(const linreg_f16*) (q_block + 16 * i);         \
                for (int f = 0; f < N; f++) c[f] += x[f] * q;                   \
            }                                                                   \
            for (int f = 0; f < N; f++) {                                       \
                *(linreg_d8*) (g + 16 * (j + f)) += LINREG_F16_LO(c[f]);        \
                *(linreg_d8*) (g + 16 * (j + f) + 8) += LINREG_F16_HI(c[f]);    \
            }                                                                   \
        }

    LINREG_TILE_KERNEL void linreg_tile16_gradient_f(
        const float* const* xs, Py_ssize_t m, const float* q_block, Py_ssize_t d, double* g)
    {
        Py_ssize_t i, j = 0;
        LINREG_TILE16_GRADIENT(8)
        LINREG_TILE16_GRADIENT(4)
        LINREG_TILE16_GRADIENT(1)
    }

    /* Two tiles of 16 float32 outputs at once (k > 16), rows of at most F32_CHUNK (32)
       features: each x broadcast feeds both tiles' sums, 16 independent sums where one
       tile had 8 (an FMA waits 4 cycles for its sum, and 8 chains fill two pipes with
       nothing to spare), and one load of x for two FMAs. Every lane does the arithmetic
       of linreg_tile16_*_f in the same order, so the results are the same bits.
       A/B against one tile at a time, one thread, 2^23 elements: k = 32 at d = 16
       0.79x the time, d = 4 0.80x, d = 32 0.74x; k = 24 at d = 16 0.77x, k = 20 at
       d = 8 0.81x. */
    #define LINREG_OUTPUT_TILE_PAIRS 1
    #define LINREG_PAIR_END_F16(p, i, b16v, ysv, qblk, sq, q) do {             \
            linreg_f16 r_ = ((p) + (b16v)) - *(const linreg_f16*) (ysv)[i];     \
            linreg_f16 q_ = r_;                                                 \
            if (weights) q_ = (float) weights[i] * r_;                          \
            (sq) = q_ * r_; (q) = q_;                                           \
            *(linreg_f16*) ((qblk) + 16 * (i)) = q_; } while (0)
    #define LINREG_BIAS16(b) LINREG_F8_PAIR(_mm512_cvtpd_ps(*(const __m512d*) (b)),    \
                                            _mm512_cvtpd_ps(*(const __m512d*) ((b) + 8)))
    #define LINREG_LANES16_OUT(v, lanes) do {                                   \
            *(linreg_d8*) (lanes) += LINREG_F16_LO(v);                          \
            *(linreg_d8*) ((lanes) + 8) += LINREG_F16_HI(v); } while (0)

    LINREG_TILE_KERNEL void linreg_tile16x2_residuals_f(
        const float* const* xs, Py_ssize_t m, const float* wa, const float* wb, Py_ssize_t d,
        const float* const* ysa, const float* const* ysb, const double* biasa,
        const double* biasb, const double* weights, float* qa, float* qb,
        double* ssea, double* sseb, double* bsuma, double* bsumb)
    {
        Py_ssize_t i = 0, j, r;
        linreg_f16 ba = LINREG_BIAS16(biasa), bb = LINREG_BIAS16(biasb);
        linreg_f16 sa = {0}, ca = {0}, sb = {0}, cb = {0};
        for (; i + 8 <= m; i += 8) {
            const float *x0 = xs[i], *x1 = xs[i + 1], *x2 = xs[i + 2], *x3 = xs[i + 3];
            const float *x4 = xs[i + 4], *x5 = xs[i + 5], *x6 = xs[i + 6], *x7 = xs[i + 7];
            linreg_f16 p0 = {0}, p1 = {0}, p2 = {0}, p3 = {0};
            linreg_f16 p4 = {0}, p5 = {0}, p6 = {0}, p7 = {0};
            linreg_f16 u0 = {0}, u1 = {0}, u2 = {0}, u3 = {0};
            linreg_f16 u4 = {0}, u5 = {0}, u6 = {0}, u7 = {0};
            for (j = 0; j < d; j++) {
                linreg_f16 wj = *(const linreg_f16*) (wa + 16 * j);
                linreg_f16 vj = *(const linreg_f16*) (wb + 16 * j);
                float e0 = x0[j], e1 = x1[j], e2 = x2[j], e3 = x3[j];
                float e4 = x4[j], e5 = x5[j], e6 = x6[j], e7 = x7[j];
                p0 += e0 * wj; p1 += e1 * wj; p2 += e2 * wj; p3 += e3 * wj;
                p4 += e4 * wj; p5 += e5 * wj; p6 += e6 * wj; p7 += e7 * wj;
                u0 += e0 * vj; u1 += e1 * vj; u2 += e2 * vj; u3 += e3 * vj;
                u4 += e4 * vj; u5 += e5 * vj; u6 += e6 * vj; u7 += e7 * vj;
            }
            {
                linreg_f16 p[8] = {p0, p1, p2, p3, p4, p5, p6, p7};
                linreg_f16 u[8] = {u0, u1, u2, u3, u4, u5, u6, u7};
                linreg_f16 sq[8], q[8];
                for (r = 0; r < 8; r++) LINREG_PAIR_END_F16(p[r], i + r, ba, ysa, qa, sq[r], q[r]);
                sa += LINREG_SUM8(sq); ca += LINREG_SUM8(q);
                for (r = 0; r < 8; r++) LINREG_PAIR_END_F16(u[r], i + r, bb, ysb, qb, sq[r], q[r]);
                sb += LINREG_SUM8(sq); cb += LINREG_SUM8(q);
            }
        }
        for (; i < m; i++) {
            const float* x0 = xs[i];
            linreg_f16 p0 = {0}, u0 = {0}, sq, q;
            for (j = 0; j < d; j++) {
                p0 += x0[j] * *(const linreg_f16*) (wa + 16 * j);
                u0 += x0[j] * *(const linreg_f16*) (wb + 16 * j);
            }
            LINREG_PAIR_END_F16(p0, i, ba, ysa, qa, sq, q);
            sa += sq; ca += q;
            LINREG_PAIR_END_F16(u0, i, bb, ysb, qb, sq, q);
            sb += sq; cb += q;
        }
        LINREG_LANES16_OUT(sa, ssea); LINREG_LANES16_OUT(ca, bsuma);
        LINREG_LANES16_OUT(sb, sseb); LINREG_LANES16_OUT(cb, bsumb);
    }

    /* ga, gb (d, 16) += the block's sums of two tiles, features j..j+N-1 side by side. */
    #define LINREG_TILE16X2_GRADIENT(N)                                         \
        for (; j + N <= d; j += N) {                                            \
            linreg_f16 c[N], e[N];                                              \
            for (int f = 0; f < N; f++) { c[f] = (linreg_f16) {0}; e[f] = (linreg_f16) {0}; } \
            for (i = 0; i < m; i++) {                                           \
                const float* x = xs[i] + j;                                     \
                linreg_f16 q = *(const linreg_f16*) (qa + 16 * i);              \
                linreg_f16 v = *(const linreg_f16*) (qb + 16 * i);              \
                for (int f = 0; f < N; f++) { c[f] += x[f] * q; e[f] += x[f] * v; } \
            }                                                                   \
            for (int f = 0; f < N; f++) {                                       \
                LINREG_LANES16_OUT(c[f], ga + 16 * (j + f));                    \
                LINREG_LANES16_OUT(e[f], gb + 16 * (j + f));                    \
            }                                                                   \
        }

    LINREG_TILE_KERNEL void linreg_tile16x2_gradient_f(
        const float* const* xs, Py_ssize_t m, const float* qa, const float* qb, Py_ssize_t d,
        double* ga, double* gb)
    {
        Py_ssize_t i, j = 0;
        LINREG_TILE16X2_GRADIENT(8)
        LINREG_TILE16X2_GRADIENT(4)
        LINREG_TILE16X2_GRADIENT(1)
    }
    #endif
    """
