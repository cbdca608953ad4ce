# The multi-output tiles of outputs.pxi in the avx512 build (included by outputs.pxi).
#
# Compiled for AVX-512, function by function (LINREG_AVX512_TARGET, set by setup.py; the
# rest of the build is compiled for AVX2, see setup.py): a tile of 8 doubles is one
# 512-bit register, 8 float32 lanes one 256-bit vector converted to double in one
# instruction, and more than 8 float32 outputs take tiles of 16 (one register). The loops
# take 8 rows (residuals) or 8 features (gradient) side by side instead of 4, so that 8
# independent sums keep both FMA pipes busy (an FMA waits 4 cycles for its sum: 4 chains
# of one register each would do half the work a cycle). The arithmetic, its order and
# precision are those of the AVX2 kernels in outputs.pxi (see there), lane by lane.

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
    #define LINREG_ROW_END_F(a, i) do {                                         \
            linreg_d8 r_ = (a) + bv - LINREG_F8_TO_D8(*(const linreg_f8*) ys[i]); \
            linreg_d8 q_ = r_;                                                  \
            if (weights) q_ = weights[i] * r_;                                  \
            sv += q_ * r_; cv += q_;                                            \
            *(linreg_f8*) (q_block + 8 * (i)) = LINREG_D8_TO_F8(q_); \
        } while (0)
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

    LINREG_TILE_KERNEL void linreg_tile_residuals_f(
        const float* const* xs, Py_ssize_t m, const float* w, Py_ssize_t d,
        const float* const* ys, const double* bias, const double* weights, float* q_block,
        double* sse_lanes, double* bias_lanes)
    {
        Py_ssize_t i = 0, j, j0, j1;
        LINREG_LANES_IN;
        for (; i + 8 <= m; i += 8) {
            const float *x0 = xs[i], *x1 = xs[i + 1], *x2 = xs[i + 2], *x3 = xs[i + 3];
            const float *x4 = xs[i + 4], *x5 = xs[i + 5], *x6 = xs[i + 6], *x7 = xs[i + 7];
            linreg_d8 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
            linreg_d8 a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0};
            for (j0 = 0; j0 < d; j0 = j1) {  /* runs of F32_CHUNK (32) features in float */
                linreg_f8 p0 = {0}, p1 = {0}, p2 = {0}, p3 = {0};
                linreg_f8 p4 = {0}, p5 = {0}, p6 = {0}, p7 = {0};
                j1 = d - j0 > 32 ? j0 + 32 : d;
                for (j = j0; j < j1; j++) {
                    linreg_f8 wj = *(const linreg_f8*) (w + 8 * j);
                    p0 += x0[j] * wj; p1 += x1[j] * wj; p2 += x2[j] * wj; p3 += x3[j] * wj;
                    p4 += x4[j] * wj; p5 += x5[j] * wj; p6 += x6[j] * wj; p7 += x7[j] * wj;
                }
                a0 += LINREG_F8_TO_D8(p0); a1 += LINREG_F8_TO_D8(p1);
                a2 += LINREG_F8_TO_D8(p2); a3 += LINREG_F8_TO_D8(p3);
                a4 += LINREG_F8_TO_D8(p4); a5 += LINREG_F8_TO_D8(p5);
                a6 += LINREG_F8_TO_D8(p6); a7 += LINREG_F8_TO_D8(p7);
            }
            LINREG_ROW_END_F(a0, i); LINREG_ROW_END_F(a1, i + 1);
            LINREG_ROW_END_F(a2, i + 2); LINREG_ROW_END_F(a3, i + 3);
            LINREG_ROW_END_F(a4, i + 4); LINREG_ROW_END_F(a5, i + 5);
            LINREG_ROW_END_F(a6, i + 6); LINREG_ROW_END_F(a7, i + 7);
        }
        for (; i < m; i++) {
            const float* x0 = xs[i];
            linreg_d8 a0 = {0};
            for (j0 = 0; j0 < d; j0 = j1) {
                linreg_f8 p0 = {0};
                j1 = d - j0 > 32 ? j0 + 32 : d;
                for (j = j0; j < j1; j++)
                    p0 += x0[j] * *(const linreg_f8*) (w + 8 * j);
                a0 += LINREG_F8_TO_D8(p0);
            }
            LINREG_ROW_END_F(a0, i);
        }
        LINREG_LANES_OUT;
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

    LINREG_TILE_KERNEL void linreg_tile_gradient_f(
        const float* const* xs, Py_ssize_t m, const float* q_block, Py_ssize_t d, double* g)
    {
        Py_ssize_t i, j = 0;
        LINREG_TILE_GRADIENT(float, linreg_f8, LINREG_F8_TO_D8, 8)
        LINREG_TILE_GRADIENT(float, linreg_f8, LINREG_F8_TO_D8, 4)
        LINREG_TILE_GRADIENT(float, linreg_f8, LINREG_F8_TO_D8, 1)
    }

    /* Tiles of 16 float32 outputs (one 512-bit register), for k > 8: w (d, 16), ys[i] and
       q_block rows of 16, bias and the lane sums 16 doubles (lo: outputs 0-7, hi: 8-15). */
    #define LINREG_OUTPUT_TILES_F16 1
    typedef float linreg_f16 __attribute__((vector_size(64), aligned(4), may_alias));
    #define LINREG_F16_LO(f) ((linreg_d8) _mm512_cvtps_pd(_mm512_castps512_ps256((__m512) (f))))
    #define LINREG_F16_HI(f) ((linreg_d8) _mm512_cvtps_pd((__m256) _mm512_extractf64x4_pd((__m512d) (f), 1)))
    #define LINREG_ROW_END_F16(al, ah, i) do {                                  \
            linreg_f16 y_ = *(const linreg_f16*) ys[i];                         \
            linreg_d8 rl_ = (al) + bl - LINREG_F16_LO(y_);                      \
            linreg_d8 rh_ = (ah) + bh - LINREG_F16_HI(y_);                      \
            linreg_d8 ql_ = rl_, qh_ = rh_;                                     \
            if (weights) { ql_ = weights[i] * rl_; qh_ = weights[i] * rh_; }    \
            sl += ql_ * rl_; sh += qh_ * rh_; cl += ql_; ch += qh_;             \
            *(linreg_f8*) (q_block + 16 * (i)) = LINREG_D8_TO_F8(ql_);          \
            *(linreg_f8*) (q_block + 16 * (i) + 8) = LINREG_D8_TO_F8(qh_); } while (0)

    LINREG_TILE_KERNEL void linreg_tile16_residuals_f(
        const float* const* xs, Py_ssize_t m, const float* w, Py_ssize_t d,
        const float* const* ys, const double* bias, const double* weights, float* q_block,
        double* sse_lanes, double* bias_lanes)
    {
        Py_ssize_t i = 0, j, j0, j1, r;
        linreg_d8 bl = *(const linreg_d8*) bias, bh = *(const linreg_d8*) (bias + 8);
        linreg_d8 sl = *(const linreg_d8*) sse_lanes, sh = *(const linreg_d8*) (sse_lanes + 8);
        linreg_d8 cl = *(const linreg_d8*) bias_lanes, ch = *(const linreg_d8*) (bias_lanes + 8);
        for (; i + 8 <= m; i += 8) {
            const float *x0 = xs[i], *x1 = xs[i + 1], *x2 = xs[i + 2], *x3 = xs[i + 3];
            const float *x4 = xs[i + 4], *x5 = xs[i + 5], *x6 = xs[i + 6], *x7 = xs[i + 7];
            linreg_d8 al[8], ah[8];
            for (r = 0; r < 8; r++) { al[r] = (linreg_d8) {0}; ah[r] = (linreg_d8) {0}; }
            for (j0 = 0; j0 < d; j0 = j1) {  /* runs of F32_CHUNK (32) features in float */
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
            for (r = 0; r < 8; r++) LINREG_ROW_END_F16(al[r], ah[r], i + r);
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
            LINREG_ROW_END_F16(al0, ah0, i);
        }
        *(linreg_d8*) sse_lanes = sl; *(linreg_d8*) (sse_lanes + 8) = sh;
        *(linreg_d8*) bias_lanes = cl; *(linreg_d8*) (bias_lanes + 8) = ch;
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
    #endif
    """
