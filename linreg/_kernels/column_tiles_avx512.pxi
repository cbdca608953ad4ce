# Five to sixteen outputs on a Fortran-ordered X of at most 32 columns, in the avx512
# build: the fused pass summed from the columns themselves, with no copy into C order
# (included by column_rows.pxi, which copies blocks of rows in the other cases).
#
# Why: a block of rows copied into C order (column_rows.pxi) costs its transposition on
# top of the C-order loops' work, and both are bound by arithmetic: at d = 16, k = 8
# (2^21 rows, float32, one thread) the C-order pass took 10 ms and the pass by copied
# blocks 15.8, of which 3.1 ms was the copy's shuffles with X in cache. Column-major
# data has the layout the residuals want: consecutive rows of a column are one register
# (16 float32, 8 float64), so a tile's residuals for those rows are 8 registers
# r[o] = sum_j x_j w[j, o] + b[o] - y[:, o], each FMA a column times a broadcast weight,
# and only the targets are reordered (Y's rows transposed by permutes; a Fortran-ordered
# Y, a DataFrame's, is loaded as it is). The gradient G[j, o] = sum_i x_ij q_io is then
# a sum across rows, i.e. across lanes: per block, each (column, output) pair's lanes
# are summed by a tree of shuffles, 8 outputs at a time into one vector of doubles.
#
# Blocks of 4 registers' rows (64 float32, 32 float64): the block's columns are kept in
# L1 (a local copy, with a column of ones whose gradient is the bias's) between the
# residuals and the gradient; the lines 512 bytes of a column further on (LINREG_CT_AHEAD
# rows), of X's columns and of Y, are requested as a block is read (without the requests
# for Y the float32 pass took 1.25x the time at d = 16: 17 streams, and the hardware
# followed X's, not Y's).
#
# A/B against the copied blocks, one thread, 2^25 elements, Fortran time (Fortran / C
# time before -> after), 8 outputs:
#   float32: d = 4 0.60x (1.33 -> 0.81), 8 0.59x, 12 0.49x, 16 0.70x (1.56 -> 1.07; Y in
#            Fortran order 0.63x), 24 0.51x, 32 0.76x (1.50 -> 1.20);
#   float64: d = 4 0.83x, 8 0.76x, 12 0.62x, 16 0.79x (1.28 -> 0.92; Y in Fortran order
#            0.77x), 24 0.60x, 32 0.96x.
# At d = 16, 5 outputs: 0.66x / 0.77x; 16 outputs: 0.93x / 0.78x. Past 16 outputs the
# copied blocks are kept: float32 20 and 24 outputs took 1.01-1.02x, 32 1.53x (the
# C-order loops take 16 float32 outputs a tile, two tiles at once, where each tile of 8
# here has its own residual sums, transposes and gradient trees); float64 24 outputs
# 0.94x at d = 16 but 1.11-1.12x at d = 4 and 8, 32 outputs 1.05-1.22x. At d = 16 and 32
# those columns were 2^21 and 2^20 rows long, a multiple of 4 KB apart, so a block's
# columns shared cache sets (in a C harness, float32, k = 8, d = 32: 1.22 of the C-order
# time, and 0.80 with 1000 rows more).
#
# Precision. float64: all in double. float32, as the C-order float32 tiles
# (output_tiles_avx512.pxi): a row's d <= 32 products summed in float32 (one run of
# F32_CHUNK), the residual r = (p + b) - y and q = w r in float32 (b and w rounded to
# float32), the loss and bias terms summed over the block in float32 and added in
# double. The gradient's float32 sum over a block is 4 terms a lane in order, then the
# 16 lanes pairwise: at most 8 roundings deep, where the C-order tiles' sum of 32 rows
# in order is up to 31. The results differ from the C-order pass's by the order of the
# sums only; the runs of rows are the chunks', so the thread count changes no bit.

cdef extern from *:
    """
    #if defined(LINREG_TILES_AVX512)
    #define LINREG_COLUMN_TILES 1
    #include <immintrin.h>
    /* Chunks (a register's rows: 16 float32, 8 float64) per block, and how many rows
       ahead a block's columns and targets are requested (512 bytes of a column). */
    #define LINREG_CT_CHUNKS 4
    #define LINREG_CT_AHEAD 128
    #define LINREG_CT_AHEAD_D 64
    #define LINREG_CT_MAX_D 32
    #define LINREG_CT_MAX_K 16
    #define LINREG_CT_INLINE \
        static inline __attribute__((always_inline, target(LINREG_AVX512_TARGET)))

    /* Lanes of the first `rows` rows of a 16-row chunk (all of them from 16 on). */
    LINREG_CT_INLINE __mmask16 linreg_ct_rows(Py_ssize_t rows)
    {
        return rows >= 16 ? (__mmask16) 0xFFFF
               : rows <= 0 ? (__mmask16) 0 : (__mmask16) ((1u << rows) - 1);
    }

    /* Sixteen rows of a tile's targets (row i's output o at y + i * ys + o * yc, the
       first `live` outputs read, the others 0; rows from `rows` on 0) -> c[o], the 16
       rows of output o. Rows of contiguous outputs (yc == 1) are loaded whole and the
       row and output bits of the lanes swapped by three rounds of two-source permutes;
       contiguous rows (ys == 1: Y in Fortran order, a DataFrame's) are loaded as they
       are; other layouts (strided views) are gathered. */
    LINREG_CT_INLINE __m256 linreg_ct_target_row(const float* y, Py_ssize_t yc, __mmask8 outs)
    {
        if (yc == 1)
            return outs == 0xFF ? _mm256_loadu_ps(y) : _mm256_maskz_loadu_ps(outs, y);
        return _mm512_mask_i64gather_ps(
            _mm256_setzero_ps(), outs,
            _mm512_mullo_epi64(_mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7), _mm512_set1_epi64(yc)),
            y, 4);
    }

    LINREG_CT_INLINE void linreg_ct_targets(const float* y, Py_ssize_t ys, Py_ssize_t yc,
                                            int live, int rows, __m512* c)
    {
        __m512 r[8], s[8];
        const __mmask8 outs = (__mmask8) ((1u << live) - 1);
        /* lane i of the result: lane idx[i] of the first source (idx < 16) or the second */
        const __m512i a1 = _mm512_setr_epi32(0, 16, 2, 18, 4, 20, 6, 22,
                                             8, 24, 10, 26, 12, 28, 14, 30);
        const __m512i b1 = _mm512_setr_epi32(1, 17, 3, 19, 5, 21, 7, 23,
                                             9, 25, 11, 27, 13, 29, 15, 31);
        const __m512i a2 = _mm512_setr_epi32(0, 1, 16, 17, 4, 5, 20, 21,
                                             8, 9, 24, 25, 12, 13, 28, 29);
        const __m512i b2 = _mm512_setr_epi32(2, 3, 18, 19, 6, 7, 22, 23,
                                             10, 11, 26, 27, 14, 15, 30, 31);
        const __m512i a3 = _mm512_setr_epi32(0, 8, 1, 9, 2, 10, 3, 11,
                                             16, 24, 17, 25, 18, 26, 19, 27);
        const __m512i b3 = _mm512_setr_epi32(4, 12, 5, 13, 6, 14, 7, 15,
                                             20, 28, 21, 29, 22, 30, 23, 31);
        int p;
        if (ys == 1 && yc != 1) {
            const __mmask16 in_rows = linreg_ct_rows(rows);
            for (p = 0; p < 8; p++)
                c[p] = p >= live ? _mm512_setzero_ps()
                       : rows >= 16 ? _mm512_loadu_ps(y + p * yc)
                       : _mm512_maskz_loadu_ps(in_rows, y + p * yc);
            return;
        }
        for (p = 0; p < 8; p++) {  /* r[p]: rows 2p and 2p + 1, 8 outputs each */
            __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
            if (2 * p < rows) lo = linreg_ct_target_row(y + (2 * p) * ys, yc, outs);
            if (2 * p + 1 < rows) hi = linreg_ct_target_row(y + (2 * p + 1) * ys, yc, outs);
            r[p] = _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
        }
        for (p = 0; p < 8; p += 2) {
            s[p] = _mm512_permutex2var_ps(r[p], a1, r[p + 1]);
            s[p + 1] = _mm512_permutex2var_ps(r[p], b1, r[p + 1]);
        }
        for (p = 0; p < 8; p++) {
            if (p & 2) continue;
            r[p] = _mm512_permutex2var_ps(s[p], a2, s[p + 2]);
            r[p + 2] = _mm512_permutex2var_ps(s[p], b2, s[p + 2]);
        }
        for (p = 0; p < 4; p++) {
            c[p] = _mm512_permutex2var_ps(r[p], a3, r[p + 4]);
            c[p + 4] = _mm512_permutex2var_ps(r[p], b3, r[p + 4]);
        }
    }

    /* The lane sums of a0..a7, as 8 doubles: halves, quarters, pairs, then in order. */
    LINREG_CT_INLINE __m512d linreg_ct_sums8(__m512 a0, __m512 a1, __m512 a2, __m512 a3,
                                             __m512 a4, __m512 a5, __m512 a6, __m512 a7)
    {
        #define LINREG_CT_FOLD(a, b, lo, hi) \
            _mm512_add_ps(_mm512_shuffle_f32x4(a, b, lo), _mm512_shuffle_f32x4(a, b, hi))
        __m512 t01 = LINREG_CT_FOLD(a0, a1, 0x44, 0xEE), t23 = LINREG_CT_FOLD(a2, a3, 0x44, 0xEE);
        __m512 t45 = LINREG_CT_FOLD(a4, a5, 0x44, 0xEE), t67 = LINREG_CT_FOLD(a6, a7, 0x44, 0xEE);
        /* each a half of 8 lanes; then each a quarter of 4 */
        __m512 u0 = LINREG_CT_FOLD(t01, t23, 0x88, 0xDD), u1 = LINREG_CT_FOLD(t45, t67, 0x88, 0xDD);
        __m512 v = _mm512_add_ps(
            _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(u0), _mm512_castps_pd(u1))),
            _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(u0), _mm512_castps_pd(u1))));
        __m512 z = _mm512_add_ps(v, _mm512_permute_ps(v, 0xB1));
        const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 2, 6, 10, 14, 0, 0, 0, 0, 0, 0, 0, 0);
        return _mm512_cvtps_pd(_mm512_castps512_ps256(_mm512_permutexvar_ps(order, z)));
    }

    /* One feature's terms of output o for the two chunks' residual sums (u, v: the
       column's 32 rows), and one pair of columns' (u, v) gradient terms of output o. */
    #define LINREG_CT_TERMS(o) do { __m512 w_ = _mm512_set1_ps(wj[o]);                  \
            a##o = _mm512_fmadd_ps(u, w_, a##o); e##o = _mm512_fmadd_ps(v, w_, e##o); } while (0)
    #define LINREG_CT_FIRST(o) do { s##o = _mm512_mul_ps(xa[0], q[0][o]);                \
            t##o = _mm512_mul_ps(xb[0], q[0][o]); } while (0)
    #define LINREG_CT_GRADIENT(o) do { __m512 q_ = q[c][o];                             \
            s##o = _mm512_fmadd_ps(u, q_, s##o); t##o = _mm512_fmadd_ps(v, q_, t##o); } while (0)

    /* One block of m rows (m == 64 when `full`, a constant after inlining: full blocks
       have no masks) for one tile of 8 outputs, `live` of them real: column j of the
       block at xt + j * ld, d <= 32; w (d, 8) the tile's weights, bf its bias, in
       float32; the targets' rows y_step apart, their outputs y_col; weights NULL or the
       block's. Adds the gradient into g (d + 1, 8; row d the bias's) and returns the
       block's loss terms. Requests the lines `ahead` rows on of each column (0: none). */
    LINREG_CT_INLINE double linreg_ct_block(
        const float* xt, Py_ssize_t ld, Py_ssize_t m, Py_ssize_t d, const float* w,
        const float* bf, const float* y, Py_ssize_t y_step, Py_ssize_t y_col, int live,
        const double* weights, Py_ssize_t ahead, double* g, const int full)
    {
        enum { CH = LINREG_CT_CHUNKS };
        __m512 yc[CH][8], q[CH][8];  /* the block's targets, then its residuals */
        __m512 xs[LINREG_CT_MAX_D + 1][CH];  /* its columns, then a column of ones */
        __m512 sv = _mm512_setzero_ps();
        Py_ssize_t j;
        int c, o;
        for (c = 0; c < CH; c++)
            linreg_ct_targets(y + (16 * c) * y_step, y_step, y_col, live,
                              full ? 16 : (int) (m - 16 * c), yc[c]);
        for (c = 0; c < CH; c += 2) {  /* residual sums, 32 rows at a time */
            const __mmask16 m0 = full ? 0xFFFF : linreg_ct_rows(m - 16 * c);
            const __mmask16 m1 = full ? 0xFFFF : linreg_ct_rows(m - 16 * c - 16);
            __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            __m512 a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            __m512 e0 = a0, e1 = a0, e2 = a0, e3 = a0, e4 = a0, e5 = a0, e6 = a0, e7 = a0;
            for (j = 0; j < d; j++) {
                const float* xj = xt + j * ld + 16 * c;
                const float* wj = w + 8 * j;
                __m512 u = full ? _mm512_loadu_ps(xj) : _mm512_maskz_loadu_ps(m0, xj);
                __m512 v = full ? _mm512_loadu_ps(xj + 16) : _mm512_maskz_loadu_ps(m1, xj + 16);
                xs[j][c] = u; xs[j][c + 1] = v;
                if (ahead) {
                    _mm_prefetch((const char*) (xj + ahead), _MM_HINT_T0);
                    _mm_prefetch((const char*) (xj + ahead + 16), _MM_HINT_T0);
                }
                LINREG_CT_TERMS(0); LINREG_CT_TERMS(1); LINREG_CT_TERMS(2); LINREG_CT_TERMS(3);
                LINREG_CT_TERMS(4); LINREG_CT_TERMS(5); LINREG_CT_TERMS(6); LINREG_CT_TERMS(7);
            }
            q[c][0] = a0; q[c][1] = a1; q[c][2] = a2; q[c][3] = a3;
            q[c][4] = a4; q[c][5] = a5; q[c][6] = a6; q[c][7] = a7;
            q[c + 1][0] = e0; q[c + 1][1] = e1; q[c + 1][2] = e2; q[c + 1][3] = e3;
            q[c + 1][4] = e4; q[c + 1][5] = e5; q[c + 1][6] = e6; q[c + 1][7] = e7;
        }
        for (c = 0; c < CH; c++) {  /* r = (p + b) - y, q = w r: 0 past the block's rows */
            const __mmask16 mc = full ? 0xFFFF : linreg_ct_rows(m - 16 * c);
            __m512 wt = _mm512_set1_ps(1.0f);
            if (weights) {
                const double* wc = weights + 16 * c;
                __m256 lo = _mm512_cvtpd_ps(_mm512_maskz_loadu_pd((__mmask8) mc, wc));
                __m256 hi = _mm512_cvtpd_ps(_mm512_maskz_loadu_pd((__mmask8) (mc >> 8), wc + 8));
                wt = _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
            }
            for (o = 0; o < 8; o++) {
                __m512 r = _mm512_sub_ps(_mm512_add_ps(q[c][o], _mm512_set1_ps(bf[o])), yc[c][o]);
                __m512 qo = weights ? _mm512_mul_ps(wt, r) : r;
                if (!full) qo = _mm512_maskz_mov_ps(mc, qo);
                q[c][o] = qo;
                if (o < live)  /* as the C-order tiles, the loss of the outputs there are */
                    sv = _mm512_fmadd_ps(qo, r, sv);
            }
        }
        for (c = 0; c < CH; c++) xs[d][c] = _mm512_set1_ps(1.0f);
        for (j = 0; j <= d; j += 2) {  /* the gradient, two columns at a time */
            const __m512* xa = xs[j];
            const __m512* xb = xs[j + 1 <= d ? j + 1 : j];
            __m512 s0, s1, s2, s3, s4, s5, s6, s7, t0, t1, t2, t3, t4, t5, t6, t7;
            LINREG_CT_FIRST(0); LINREG_CT_FIRST(1); LINREG_CT_FIRST(2); LINREG_CT_FIRST(3);
            LINREG_CT_FIRST(4); LINREG_CT_FIRST(5); LINREG_CT_FIRST(6); LINREG_CT_FIRST(7);
            for (c = 1; c < CH; c++) {
                __m512 u = xa[c], v = xb[c];
                LINREG_CT_GRADIENT(0); LINREG_CT_GRADIENT(1); LINREG_CT_GRADIENT(2);
                LINREG_CT_GRADIENT(3); LINREG_CT_GRADIENT(4); LINREG_CT_GRADIENT(5);
                LINREG_CT_GRADIENT(6); LINREG_CT_GRADIENT(7);
            }
            _mm512_storeu_pd(g + 8 * j, _mm512_add_pd(_mm512_loadu_pd(g + 8 * j),
                linreg_ct_sums8(s0, s1, s2, s3, s4, s5, s6, s7)));
            if (j + 1 <= d)
                _mm512_storeu_pd(g + 8 * (j + 1), _mm512_add_pd(_mm512_loadu_pd(g + 8 * (j + 1)),
                    linreg_ct_sums8(t0, t1, t2, t3, t4, t5, t6, t7)));
        }
        return (double) _mm512_reduce_add_ps(sv);
    }

    /* The fused pass's sums over n rows of a float32 X in Fortran order (column j of the
       run at xt + j * ld), d <= LINREG_CT_MAX_D, for k outputs in tiles of 8: w_tiles
       (tiles, d, 8) and bias (tiles * 8, zero past k) the tiles' weights and bias; Y's
       first row at y, rows y_step apart, outputs y_col apart; weights NULL or the run's.
       Adds the gradient into g_tiles (tiles, d + 1, 8; row d of a tile the bias's) and
       returns the loss terms' sum. */
    static __attribute__((noinline, target(LINREG_AVX512_TARGET))) double linreg_column_tiles_f(
        const float* xt, Py_ssize_t ld, Py_ssize_t n, Py_ssize_t d, Py_ssize_t k,
        const float* w_tiles, const double* bias, const float* y, Py_ssize_t y_step,
        Py_ssize_t y_col, const double* weights, double* g_tiles)
    {
        const Py_ssize_t rows = 16 * LINREG_CT_CHUNKS, tiles = (k + 7) / 8;
        Py_ssize_t i, t, p;
        double sse = 0.0;
        for (i = 0; i < n; i += rows) {
            const int full = n - i >= rows;
            if (full && y_col == 1)  /* the targets `ahead` rows on (X's: in the blocks) */
                for (p = 0; p < rows * y_step; p += 16)
                    _mm_prefetch((const char*) (y + (i + LINREG_CT_AHEAD) * y_step + p),
                                 _MM_HINT_T0);
            else if (full && y_step == 1)  /* Y in Fortran order: its columns' */
                for (p = 0; p < k * rows; p += 16)
                    _mm_prefetch((const char*) (y + i + LINREG_CT_AHEAD + (p / rows) * y_col
                                                + p % rows), _MM_HINT_T0);
            for (t = 0; t < tiles; t++) {
                const int live = k - 8 * t < 8 ? (int) (k - 8 * t) : 8;
                float bf[8];
                int o;
                for (o = 0; o < 8; o++) bf[o] = (float) bias[8 * t + o];
                if (full)
                    sse += linreg_ct_block(xt + i, ld, rows, d, w_tiles + t * d * 8, bf,
                                           y + i * y_step + 8 * t * y_col, y_step, y_col, live,
                                           weights ? weights + i : NULL,
                                           t == 0 ? LINREG_CT_AHEAD : 0,
                                           g_tiles + t * (d + 1) * 8, 1);
                else
                    sse += linreg_ct_block(xt + i, ld, n - i, d, w_tiles + t * d * 8, bf,
                                           y + i * y_step + 8 * t * y_col, y_step, y_col, live,
                                           weights ? weights + i : NULL, 0,
                                           g_tiles + t * (d + 1) * 8, 0);
            }
        }
        return sse;
    }

    /* float64: the same, 8 rows a register, blocks of 32 rows (4 chunks of 8). */

    /* Eight rows of a tile's targets -> c[o], the 8 rows of output o (see
       linreg_ct_targets; an 8 x 8 transpose: unpack, then two rounds of permutes). */
    LINREG_CT_INLINE __m512d linreg_ct_target_row_d(const double* y, Py_ssize_t yc, __mmask8 outs)
    {
        if (yc == 1)
            return outs == 0xFF ? _mm512_loadu_pd(y) : _mm512_maskz_loadu_pd(outs, y);
        return _mm512_mask_i64gather_pd(
            _mm512_setzero_pd(), outs,
            _mm512_mullo_epi64(_mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7), _mm512_set1_epi64(yc)),
            y, 8);
    }

    LINREG_CT_INLINE void linreg_ct_targets_d(const double* y, Py_ssize_t ys, Py_ssize_t yc,
                                              int live, int rows, __m512d* c)
    {
        __m512d r[8], s[8];
        const __mmask8 outs = (__mmask8) ((1u << live) - 1);
        const __m512i a2 = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
        const __m512i b2 = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
        int p;
        if (ys == 1 && yc != 1) {
            const __mmask8 in_rows = (__mmask8) linreg_ct_rows(rows < 8 ? rows : 8);
            for (p = 0; p < 8; p++)
                c[p] = p >= live ? _mm512_setzero_pd()
                       : rows >= 8 ? _mm512_loadu_pd(y + p * yc)
                       : _mm512_maskz_loadu_pd(in_rows, y + p * yc);
            return;
        }
        for (p = 0; p < 8; p++)
            r[p] = p < rows ? linreg_ct_target_row_d(y + p * ys, yc, outs) : _mm512_setzero_pd();
        for (p = 0; p < 8; p += 2) {
            s[p] = _mm512_unpacklo_pd(r[p], r[p + 1]);
            s[p + 1] = _mm512_unpackhi_pd(r[p], r[p + 1]);
        }
        for (p = 0; p < 8; p++) {
            if (p & 2) continue;
            r[p] = _mm512_permutex2var_pd(s[p], a2, s[p + 2]);
            r[p + 2] = _mm512_permutex2var_pd(s[p], b2, s[p + 2]);
        }
        for (p = 0; p < 4; p++) {
            c[p] = _mm512_shuffle_f64x2(r[p], r[p + 4], 0x44);
            c[p + 4] = _mm512_shuffle_f64x2(r[p], r[p + 4], 0xEE);
        }
    }

    /* The lane sums of a0..a7: halves, quarters, pairs, then in order. */
    LINREG_CT_INLINE __m512d linreg_ct_sums8_d(__m512d a0, __m512d a1, __m512d a2, __m512d a3,
                                               __m512d a4, __m512d a5, __m512d a6, __m512d a7)
    {
        #define LINREG_CT_FOLD_D(a, b, lo, hi) \
            _mm512_add_pd(_mm512_shuffle_f64x2(a, b, lo), _mm512_shuffle_f64x2(a, b, hi))
        __m512d t01 = LINREG_CT_FOLD_D(a0, a1, 0x44, 0xEE), t23 = LINREG_CT_FOLD_D(a2, a3, 0x44, 0xEE);
        __m512d t45 = LINREG_CT_FOLD_D(a4, a5, 0x44, 0xEE), t67 = LINREG_CT_FOLD_D(a6, a7, 0x44, 0xEE);
        __m512d u0 = LINREG_CT_FOLD_D(t01, t23, 0x88, 0xDD), u1 = LINREG_CT_FOLD_D(t45, t67, 0x88, 0xDD);
        __m512d v = _mm512_add_pd(_mm512_unpacklo_pd(u0, u1), _mm512_unpackhi_pd(u0, u1));
        return _mm512_permutexvar_pd(_mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7), v);
    }

    #define LINREG_CT_TERMS_D(o) do { __m512d w_ = _mm512_set1_pd(wj[o]);               \
            a##o = _mm512_fmadd_pd(u, w_, a##o); e##o = _mm512_fmadd_pd(v, w_, e##o); } while (0)
    #define LINREG_CT_FIRST_D(o) do { s##o = _mm512_mul_pd(xa[0], q[0][o]);              \
            t##o = _mm512_mul_pd(xb[0], q[0][o]); } while (0)
    #define LINREG_CT_GRADIENT_D(o) do { __m512d q_ = q[c][o];                          \
            s##o = _mm512_fmadd_pd(u, q_, s##o); t##o = _mm512_fmadd_pd(v, q_, t##o); } while (0)

    /* linreg_ct_block for float64: blocks of 32 rows (m == 32 when `full`), w and the
       bias in double, everything summed in double. */
    LINREG_CT_INLINE double linreg_ct_block_d(
        const double* xt, Py_ssize_t ld, Py_ssize_t m, Py_ssize_t d, const double* w,
        const double* bias, const double* y, Py_ssize_t y_step, Py_ssize_t y_col, int live,
        const double* weights, Py_ssize_t ahead, double* g, const int full)
    {
        enum { CH = LINREG_CT_CHUNKS };
        __m512d yc[CH][8], q[CH][8];
        __m512d xs[LINREG_CT_MAX_D + 1][CH];
        __m512d sv = _mm512_setzero_pd();
        Py_ssize_t j;
        int c, o;
        for (c = 0; c < CH; c++)
            linreg_ct_targets_d(y + (8 * c) * y_step, y_step, y_col, live,
                                full ? 8 : (int) (m - 8 * c), yc[c]);
        for (c = 0; c < CH; c += 2) {  /* residual sums, 16 rows at a time */
            const __mmask8 m0 = full ? 0xFF : (__mmask8) linreg_ct_rows(m - 8 * c < 8 ? m - 8 * c : 8);
            const __mmask8 m1 = full ? 0xFF : (__mmask8) linreg_ct_rows(m - 8 * c - 8 < 8 ? m - 8 * c - 8 : 8);
            __m512d a0 = _mm512_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
            __m512d a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            __m512d e0 = a0, e1 = a0, e2 = a0, e3 = a0, e4 = a0, e5 = a0, e6 = a0, e7 = a0;
            for (j = 0; j < d; j++) {
                const double* xj = xt + j * ld + 8 * c;
                const double* wj = w + 8 * j;
                __m512d u = full ? _mm512_loadu_pd(xj) : _mm512_maskz_loadu_pd(m0, xj);
                __m512d v = full ? _mm512_loadu_pd(xj + 8) : _mm512_maskz_loadu_pd(m1, xj + 8);
                xs[j][c] = u; xs[j][c + 1] = v;
                if (ahead) {
                    _mm_prefetch((const char*) (xj + ahead), _MM_HINT_T0);
                    _mm_prefetch((const char*) (xj + ahead + 8), _MM_HINT_T0);
                }
                LINREG_CT_TERMS_D(0); LINREG_CT_TERMS_D(1); LINREG_CT_TERMS_D(2);
                LINREG_CT_TERMS_D(3); LINREG_CT_TERMS_D(4); LINREG_CT_TERMS_D(5);
                LINREG_CT_TERMS_D(6); LINREG_CT_TERMS_D(7);
            }
            q[c][0] = a0; q[c][1] = a1; q[c][2] = a2; q[c][3] = a3;
            q[c][4] = a4; q[c][5] = a5; q[c][6] = a6; q[c][7] = a7;
            q[c + 1][0] = e0; q[c + 1][1] = e1; q[c + 1][2] = e2; q[c + 1][3] = e3;
            q[c + 1][4] = e4; q[c + 1][5] = e5; q[c + 1][6] = e6; q[c + 1][7] = e7;
        }
        for (c = 0; c < CH; c++) {  /* r = (p + b) - y, q = w r: 0 past the block's rows */
            const __mmask8 mc = full ? 0xFF : (__mmask8) linreg_ct_rows(m - 8 * c < 8 ? m - 8 * c : 8);
            __m512d wt = _mm512_set1_pd(1.0);
            if (weights) wt = _mm512_maskz_loadu_pd(mc, weights + 8 * c);
            for (o = 0; o < 8; o++) {
                __m512d r = _mm512_sub_pd(_mm512_add_pd(q[c][o], _mm512_set1_pd(bias[o])), yc[c][o]);
                __m512d qo = weights ? _mm512_mul_pd(wt, r) : r;
                if (!full) qo = _mm512_maskz_mov_pd(mc, qo);
                q[c][o] = qo;
                if (o < live)
                    sv = _mm512_fmadd_pd(qo, r, sv);
            }
        }
        for (c = 0; c < CH; c++) xs[d][c] = _mm512_set1_pd(1.0);
        for (j = 0; j <= d; j += 2) {  /* the gradient, two columns at a time */
            const __m512d* xa = xs[j];
            const __m512d* xb = xs[j + 1 <= d ? j + 1 : j];
            __m512d s0, s1, s2, s3, s4, s5, s6, s7, t0, t1, t2, t3, t4, t5, t6, t7;
            LINREG_CT_FIRST_D(0); LINREG_CT_FIRST_D(1); LINREG_CT_FIRST_D(2); LINREG_CT_FIRST_D(3);
            LINREG_CT_FIRST_D(4); LINREG_CT_FIRST_D(5); LINREG_CT_FIRST_D(6); LINREG_CT_FIRST_D(7);
            for (c = 1; c < CH; c++) {
                __m512d u = xa[c], v = xb[c];
                LINREG_CT_GRADIENT_D(0); LINREG_CT_GRADIENT_D(1); LINREG_CT_GRADIENT_D(2);
                LINREG_CT_GRADIENT_D(3); LINREG_CT_GRADIENT_D(4); LINREG_CT_GRADIENT_D(5);
                LINREG_CT_GRADIENT_D(6); LINREG_CT_GRADIENT_D(7);
            }
            _mm512_storeu_pd(g + 8 * j, _mm512_add_pd(_mm512_loadu_pd(g + 8 * j),
                linreg_ct_sums8_d(s0, s1, s2, s3, s4, s5, s6, s7)));
            if (j + 1 <= d)
                _mm512_storeu_pd(g + 8 * (j + 1), _mm512_add_pd(_mm512_loadu_pd(g + 8 * (j + 1)),
                    linreg_ct_sums8_d(t0, t1, t2, t3, t4, t5, t6, t7)));
        }
        return _mm512_reduce_add_pd(sv);
    }

    /* linreg_column_tiles_f for float64 (w_tiles in double). */
    static __attribute__((noinline, target(LINREG_AVX512_TARGET))) double linreg_column_tiles_d(
        const double* xt, Py_ssize_t ld, Py_ssize_t n, Py_ssize_t d, Py_ssize_t k,
        const double* w_tiles, const double* bias, const double* y, Py_ssize_t y_step,
        Py_ssize_t y_col, const double* weights, double* g_tiles)
    {
        const Py_ssize_t rows = 8 * LINREG_CT_CHUNKS, tiles = (k + 7) / 8;
        Py_ssize_t i, t, p;
        double sse = 0.0;
        for (i = 0; i < n; i += rows) {
            const int full = n - i >= rows;
            if (full && y_col == 1)
                for (p = 0; p < rows * y_step; p += 8)
                    _mm_prefetch((const char*) (y + (i + LINREG_CT_AHEAD_D) * y_step + p),
                                 _MM_HINT_T0);
            else if (full && y_step == 1)
                for (p = 0; p < k * rows; p += 8)
                    _mm_prefetch((const char*) (y + i + LINREG_CT_AHEAD_D + (p / rows) * y_col
                                                + p % rows), _MM_HINT_T0);
            for (t = 0; t < tiles; t++) {
                const int live = k - 8 * t < 8 ? (int) (k - 8 * t) : 8;
                if (full)
                    sse += linreg_ct_block_d(xt + i, ld, rows, d, w_tiles + t * d * 8, bias + 8 * t,
                                             y + i * y_step + 8 * t * y_col, y_step, y_col, live,
                                             weights ? weights + i : NULL,
                                             t == 0 ? LINREG_CT_AHEAD_D : 0,
                                             g_tiles + t * (d + 1) * 8, 1);
                else
                    sse += linreg_ct_block_d(xt + i, ld, n - i, d, w_tiles + t * d * 8, bias + 8 * t,
                                             y + i * y_step + 8 * t * y_col, y_step, y_col, live,
                                             weights ? weights + i : NULL, 0,
                                             g_tiles + t * (d + 1) * 8, 0);
            }
        }
        return sse;
    }
    #else
    #define LINREG_COLUMN_TILES 0
    #define LINREG_CT_MAX_D 0
    #define LINREG_CT_MAX_K 0
    static double linreg_column_tiles_f(
        const float* xt, Py_ssize_t ld, Py_ssize_t n, Py_ssize_t d, Py_ssize_t k,
        const float* w_tiles, const double* bias, const float* y, Py_ssize_t y_step,
        Py_ssize_t y_col, const double* weights, double* g_tiles) { return 0.0; }
    static double linreg_column_tiles_d(
        const double* xt, Py_ssize_t ld, Py_ssize_t n, Py_ssize_t d, Py_ssize_t k,
        const double* w_tiles, const double* bias, const double* y, Py_ssize_t y_step,
        Py_ssize_t y_col, const double* weights, double* g_tiles) { return 0.0; }
    #endif
    """
    bint LINREG_COLUMN_TILES
    Py_ssize_t LINREG_CT_MAX_D
    Py_ssize_t LINREG_CT_MAX_K
    double linreg_column_tiles_f(
        const float* xt, Py_ssize_t ld, Py_ssize_t n, Py_ssize_t d, Py_ssize_t k,
        const float* w_tiles, const double* bias, const float* y, Py_ssize_t y_step,
        Py_ssize_t y_col, const double* weights, double* g_tiles) noexcept nogil
    double linreg_column_tiles_d(
        const double* xt, Py_ssize_t ld, Py_ssize_t n, Py_ssize_t d, Py_ssize_t k,
        const double* w_tiles, const double* bias, const double* y, Py_ssize_t y_step,
        Py_ssize_t y_col, const double* weights, double* g_tiles) noexcept nogil


cdef inline bint _column_tiles_take(Py_ssize_t d, Py_ssize_t k) noexcept nogil:
    """Whether a pass over a Fortran-ordered X of d columns with k outputs (k >= 5:
    `_row_blocks_take`) goes through `linreg_column_tiles_*` (the avx512 build, d <= 32,
    k <= 16)."""
    return LINREG_COLUMN_TILES and d <= LINREG_CT_MAX_D and k <= LINREG_CT_MAX_K


cdef double _column_tile_sums(
    const floating[:, ::1] Xt, const floating[:, :] Y, Py_ssize_t start, Py_ssize_t stop,
    const WorkBuffers* work, double* grad_by_output, double* grad_bias, bint* done,
) noexcept nogil:
    """`_row_block_sums` by `linreg_column_tiles_*`: adds the gradient of rows
    start..stop-1 into grad_by_output (k, d) and grad_bias (k,), returns their loss
    terms' sum, and sets done. Leaves done False (nothing added) if its working copies
    (W and the gradient by tile, O(d k)) cannot be allocated."""
    cdef Py_ssize_t d = Xt.shape[0], k = Y.shape[1], tiles = (k + OUTPUT_TILE - 1) // OUTPUT_TILE
    cdef Py_ssize_t padded = tiles * OUTPUT_TILE, t, o, j, live, at
    cdef Py_ssize_t y_step = Y.strides[0] // <Py_ssize_t> sizeof(floating)
    cdef Py_ssize_t y_col = Y.strides[1] // <Py_ssize_t> sizeof(floating)
    cdef const double* weights = (NULL if work.sample_weight == NULL
                                  else work.sample_weight + start)
    cdef double sse
    # One allocation: the gradient by tile (tiles, d + 1, 8), the bias (padded), then W
    # by tile (tiles, d, 8) in X's dtype.
    cdef double* g_tiles = <double*> malloc(
        (padded * (d + 1) + padded) * sizeof(double) + padded * d * sizeof(floating))
    cdef double* bias_tiles
    cdef floating* w_tiles
    done[0] = False
    if g_tiles == NULL:
        return 0.0
    bias_tiles = g_tiles + padded * (d + 1)
    w_tiles = <floating*> (bias_tiles + padded)
    memset(g_tiles, 0, (padded * (d + 1) + padded) * sizeof(double))
    _tile_weights(work, d, k, OUTPUT_TILE, w_tiles, bias_tiles)
    if floating is float:
        sse = linreg_column_tiles_f(&Xt[0, start], Xt.shape[1], stop - start, d, k, w_tiles,
                                    bias_tiles, &Y[start, 0], y_step, y_col, weights, g_tiles)
    else:
        sse = linreg_column_tiles_d(&Xt[0, start], Xt.shape[1], stop - start, d, k, w_tiles,
                                    bias_tiles, &Y[start, 0], y_step, y_col, weights, g_tiles)
    for t in range(tiles):
        live = k - t * OUTPUT_TILE if k - t * OUTPUT_TILE < OUTPUT_TILE else OUTPUT_TILE
        at = t * (d + 1) * OUTPUT_TILE
        for o in range(live):
            for j in range(d):
                grad_by_output[(t * OUTPUT_TILE + o) * d + j] += g_tiles[at + j * OUTPUT_TILE + o]
            grad_bias[t * OUTPUT_TILE + o] += g_tiles[at + d * OUTPUT_TILE + o]
    free(g_tiles)
    done[0] = True
    return sse
