# Passes over rows of X for several outputs (Y of shape (n, k), k >= 5; float64 k <= 16 in
# the AVX2 build, 32 in the avx512 one, whose kernels are in output_tiles_avx512.pxi).
#
# The loop of rows.pxi computes, per row and per output, a dot product of the row with
# that output's weights: a sum across vector lanes for every output of every row, and
# one rank-4 gradient update per output and four rows. With several outputs the work
# vectorizes the other way, across outputs: W is laid out by feature in tiles of
# OUTPUT_TILE outputs, (tiles, d, OUTPUT_TILE), so a row's residuals for one tile are
# r[0:T] = sum_j x_j W[j, 0:T] + b[0:T] - y[0:T] (x_j broadcast; no sums across lanes),
# and the gradient G[j, 0:T] += sum_i x_ij q_i[0:T], each lane an output.
#
# Rows go in blocks of OUTPUT_BLOCK_ROWS: for each tile, the residuals of the block's
# rows (four rows side by side, so their sums overlap), then the gradient over the block
# (four features side by side, each summed over the block's rows in registers, then added
# to the tile's gradient). The block's rows stay in L1 between the two uses, so X is read
# from memory once per pass whatever k is.
#
# Precision, as elsewhere (dot.pxi): sums over rows are accumulated in double. For
# float32 data a residual's dot product is summed in float32 in runs of F32_CHUNK
# features, and the gradient's sum over a block (OUTPUT_BLOCK_ROWS = F32_CHUNK rows) in
# float32 before it is added in double; the loss and the bias gradient are summed in
# double row by row, except by the avx512 build's float32 tiles, which compute a
# residual in float32 and sum the loss and bias terms over the block in float32 too
# (output_tiles_avx512.pxi).
#
# The last tile of k outputs may be partly empty: its weights and bias are 0 there, so
# its empty lanes compute r = 0 (or NaN for an infinite x), which is never read back.
# The sums of a run of rows depend on the run only, not on the thread that sums it.

include "output_tiles_avx512.pxi"

cdef enum:
    # Outputs in one tile: the lanes of the loops over outputs (the 8 of the C kernels
    # below, LINREG_OUTPUT_TILE).
    OUTPUT_TILE = 8
    # The widest tile (float32 in the avx512 build: 16 outputs, one 512-bit register).
    OUTPUT_TILE_MAX = 16
    # Rows per block. float32 sums a block's gradient terms in float32: a short sum of at
    # most F32_CHUNK terms, like a dot product's run.
    OUTPUT_BLOCK_ROWS = 32
    # How many blocks ahead `_sums_over_outputs` requests the rows and targets it reads.
    PREFETCH_BLOCKS_AHEAD = 2

# The loops over a tile's lanes are written with GCC/clang vector extensions: gcc does
# not vectorize them across outputs by itself (with -fassociative-math it vectorizes the
# sums over features instead, with strided loads of W, or keeps the lanes in scalars on
# the stack). They are built for AVX (the avx2 and avx512 builds) only: the generic build, and
# compilers without the extensions (MSVC), get LINREG_OUTPUT_TILES = 0 and the loop of
# rows.pxi. Vectors wider than a register (8 doubles in one) were lowered by gcc 12
# through the stack, 4x slower: a tile of doubles is two registers, lo and hi.

cdef extern from *:
    """
    #if defined(LINREG_TILES_AVX512)
    /* the avx512 build: output_tiles_avx512.pxi */
    #elif defined(__AVX__) && (defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 9))
    #define LINREG_OUTPUT_TILES 1
    #define LINREG_OUTPUT_TILE 8
    #define LINREG_OUTPUT_TILES_F64_MAX_K 16
    #define LINREG_OUTPUT_TILES_F16 0
    #define linreg_tile16_residuals_f(xs, m, w, d, ys, bias, weights, q, sse, bsum) ((void)0)
    #define linreg_tile16_gradient_f(xs, m, q, d, g) ((void)0)
    #define LINREG_OUTPUT_TILE_PAIRS 0
    #define linreg_tile16x2_residuals_f(xs, m, wa, wb, d, ysa, ysb, ba, bb, weights, qa, qb, sa, sb, ca, cb) ((void)0)
    #define linreg_tile16x2_gradient_f(xs, m, qa, qb, d, ga, gb) ((void)0)
    #define linreg_tile_gradient_f_by_output(d) 0
    /* One AVX register: 4 doubles, 8 floats, or 4 floats in its lower half. A tile of 8
       outputs is two double vectors (lo, hi) or one float vector. (Wider generic vectors
       are lowered through the stack by gcc 12.) */
    typedef double linreg_d4 __attribute__((vector_size(32), aligned(8), may_alias));
    typedef float linreg_f8 __attribute__((vector_size(32), aligned(4), may_alias));
    typedef float linreg_f4 __attribute__((vector_size(16), aligned(4), may_alias));
    typedef union { linreg_f8 v; linreg_f4 h[2]; } linreg_f8_halves;

    #define LINREG_F8_ADD_TO(lo, hi, f) do {                                   \
            linreg_f8_halves u_; u_.v = (f);                                    \
            (lo) += __builtin_convertvector(u_.h[0], linreg_d4);                \
            (hi) += __builtin_convertvector(u_.h[1], linreg_d4); } while (0)

    /* The end of one row of a tile: r = a + b - y, q = w r; the loss and bias sums, q stored
       in the data's type. */
    #define LINREG_ROW_END_D(al, ah, i) do {                                    \
            linreg_d4 rl_ = (al) + bl - *(const linreg_d4*) ys[i];              \
            linreg_d4 rh_ = (ah) + bh - *(const linreg_d4*) (ys[i] + 4);        \
            linreg_d4 ql_ = rl_, qh_ = rh_;                                     \
            if (weights) { ql_ = weights[i] * rl_; qh_ = weights[i] * rh_; }    \
            sl += ql_ * rl_; sh += qh_ * rh_; cl += ql_; ch += qh_;             \
            *(linreg_d4*) (q_block + 8 * (i)) = ql_;                            \
            *(linreg_d4*) (q_block + 8 * (i) + 4) = qh_; } while (0)
    #define LINREG_ROW_END_F(al, ah, i) do {                                    \
            linreg_d4 yl_ = {0}, yh_ = {0};                                     \
            LINREG_F8_ADD_TO(yl_, yh_, *(const linreg_f8*) ys[i]);              \
            linreg_d4 rl_ = (al) + bl - yl_, rh_ = (ah) + bh - yh_;             \
            linreg_d4 ql_ = rl_, qh_ = rh_;                                     \
            if (weights) { ql_ = weights[i] * rl_; qh_ = weights[i] * rh_; }    \
            sl += ql_ * rl_; sh += qh_ * rh_; cl += ql_; ch += qh_;             \
            *(linreg_f4*) (q_block + 8 * (i)) = __builtin_convertvector(ql_, linreg_f4);      \
            *(linreg_f4*) (q_block + 8 * (i) + 4) = __builtin_convertvector(qh_, linreg_f4); \
        } while (0)
    #define LINREG_LANES_IN                                                     \
        linreg_d4 bl = *(const linreg_d4*) bias, bh = *(const linreg_d4*) (bias + 4);              \
        linreg_d4 sl = *(const linreg_d4*) sse_lanes, sh = *(const linreg_d4*) (sse_lanes + 4);    \
        linreg_d4 cl = *(const linreg_d4*) bias_lanes, ch = *(const linreg_d4*) (bias_lanes + 4)
    #define LINREG_LANES_OUT                                                    \
        *(linreg_d4*) sse_lanes = sl; *(linreg_d4*) (sse_lanes + 4) = sh;       \
        *(linreg_d4*) bias_lanes = cl; *(linreg_d4*) (bias_lanes + 4) = ch

    static inline void linreg_tile_residuals_d(
        const double* const* xs, Py_ssize_t m, const double* w, Py_ssize_t d,
        const double* const* ys, const double* bias, const double* weights, double* q_block,
        double* sse_lanes, double* bias_lanes)
    {
        Py_ssize_t i = 0, j;
        LINREG_LANES_IN;
        for (; i + 4 <= m; i += 4) {
            const double *x0 = xs[i], *x1 = xs[i + 1], *x2 = xs[i + 2], *x3 = xs[i + 3];
            linreg_d4 a0l = {0}, a0h = {0}, a1l = {0}, a1h = {0};
            linreg_d4 a2l = {0}, a2h = {0}, a3l = {0}, a3h = {0};
            for (j = 0; j < d; j++) {
                linreg_d4 wl = *(const linreg_d4*) (w + 8 * j);
                linreg_d4 wh = *(const linreg_d4*) (w + 8 * j + 4);
                a0l += x0[j] * wl; a0h += x0[j] * wh; a1l += x1[j] * wl; a1h += x1[j] * wh;
                a2l += x2[j] * wl; a2h += x2[j] * wh; a3l += x3[j] * wl; a3h += x3[j] * wh;
            }
            LINREG_ROW_END_D(a0l, a0h, i); LINREG_ROW_END_D(a1l, a1h, i + 1);
            LINREG_ROW_END_D(a2l, a2h, i + 2); LINREG_ROW_END_D(a3l, a3h, i + 3);
        }
        for (; i < m; i++) {
            const double* x0 = xs[i];
            linreg_d4 a0l = {0}, a0h = {0};
            for (j = 0; j < d; j++) {
                a0l += x0[j] * *(const linreg_d4*) (w + 8 * j);
                a0h += x0[j] * *(const linreg_d4*) (w + 8 * j + 4);
            }
            LINREG_ROW_END_D(a0l, a0h, i);
        }
        LINREG_LANES_OUT;
    }

    static inline void linreg_tile_residuals_f(
        const float* const* xs, Py_ssize_t m, const float* w, Py_ssize_t d,
        const float* const* ys, const double* bias, const double* weights, float* q_block,
        double* sse_lanes, double* bias_lanes)
    {
        Py_ssize_t i = 0, j, j0, j1;
        LINREG_LANES_IN;
        for (; i + 4 <= m; i += 4) {
            const float *x0 = xs[i], *x1 = xs[i + 1], *x2 = xs[i + 2], *x3 = xs[i + 3];
            linreg_d4 a0l = {0}, a0h = {0}, a1l = {0}, a1h = {0};
            linreg_d4 a2l = {0}, a2h = {0}, a3l = {0}, a3h = {0};
            for (j0 = 0; j0 < d; j0 = j1) {  /* runs of F32_CHUNK (32) features in float */
                linreg_f8 p0 = {0}, p1 = {0}, p2 = {0}, p3 = {0};
                j1 = d - j0 > 32 ? j0 + 32 : d;
                for (j = j0; j < j1; j++) {
                    linreg_f8 wj = *(const linreg_f8*) (w + 8 * j);
                    p0 += x0[j] * wj; p1 += x1[j] * wj; p2 += x2[j] * wj; p3 += x3[j] * wj;
                }
                LINREG_F8_ADD_TO(a0l, a0h, p0); LINREG_F8_ADD_TO(a1l, a1h, p1);
                LINREG_F8_ADD_TO(a2l, a2h, p2); LINREG_F8_ADD_TO(a3l, a3h, p3);
            }
            LINREG_ROW_END_F(a0l, a0h, i); LINREG_ROW_END_F(a1l, a1h, i + 1);
            LINREG_ROW_END_F(a2l, a2h, i + 2); LINREG_ROW_END_F(a3l, a3h, i + 3);
        }
        for (; i < m; i++) {
            const float* x0 = xs[i];
            linreg_d4 a0l = {0}, a0h = {0};
            for (j0 = 0; j0 < d; j0 = j1) {
                linreg_f8 p0 = {0};
                j1 = d - j0 > 32 ? j0 + 32 : d;
                for (j = j0; j < j1; j++)
                    p0 += x0[j] * *(const linreg_f8*) (w + 8 * j);
                LINREG_F8_ADD_TO(a0l, a0h, p0);
            }
            LINREG_ROW_END_F(a0l, a0h, i);
        }
        LINREG_LANES_OUT;
    }

    static inline void linreg_tile_gradient_d(
        const double* const* xs, Py_ssize_t m, const double* q_block, Py_ssize_t d, double* g)
    {
        Py_ssize_t i, j = 0;
        for (; j + 4 <= d; j += 4) {
            linreg_d4 c0l = {0}, c0h = {0}, c1l = {0}, c1h = {0};
            linreg_d4 c2l = {0}, c2h = {0}, c3l = {0}, c3h = {0};
            for (i = 0; i < m; i++) {
                const double* x = xs[i] + j;
                linreg_d4 ql = *(const linreg_d4*) (q_block + 8 * i);
                linreg_d4 qh = *(const linreg_d4*) (q_block + 8 * i + 4);
                c0l += x[0] * ql; c0h += x[0] * qh; c1l += x[1] * ql; c1h += x[1] * qh;
                c2l += x[2] * ql; c2h += x[2] * qh; c3l += x[3] * ql; c3h += x[3] * qh;
            }
            double* gj = g + 8 * j;
            *(linreg_d4*) gj += c0l; *(linreg_d4*) (gj + 4) += c0h;
            *(linreg_d4*) (gj + 8) += c1l; *(linreg_d4*) (gj + 12) += c1h;
            *(linreg_d4*) (gj + 16) += c2l; *(linreg_d4*) (gj + 20) += c2h;
            *(linreg_d4*) (gj + 24) += c3l; *(linreg_d4*) (gj + 28) += c3h;
        }
        for (; j < d; j++) {
            linreg_d4 c0l = {0}, c0h = {0};
            for (i = 0; i < m; i++) {
                c0l += xs[i][j] * *(const linreg_d4*) (q_block + 8 * i);
                c0h += xs[i][j] * *(const linreg_d4*) (q_block + 8 * i + 4);
            }
            *(linreg_d4*) (g + 8 * j) += c0l; *(linreg_d4*) (g + 8 * j + 4) += c0h;
        }
    }

    static inline void linreg_tile_gradient_f(
        const float* const* xs, Py_ssize_t m, const float* q_block, Py_ssize_t d, double* g)
    {
        Py_ssize_t i, j = 0;
        for (; j + 4 <= d; j += 4) {
            linreg_f8 c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0};
            for (i = 0; i < m; i++) {
                const float* x = xs[i] + j;
                linreg_f8 q = *(const linreg_f8*) (q_block + 8 * i);
                c0 += x[0] * q; c1 += x[1] * q; c2 += x[2] * q; c3 += x[3] * q;
            }
            double* gj = g + 8 * j;
            LINREG_F8_ADD_TO(*(linreg_d4*) gj, *(linreg_d4*) (gj + 4), c0);
            LINREG_F8_ADD_TO(*(linreg_d4*) (gj + 8), *(linreg_d4*) (gj + 12), c1);
            LINREG_F8_ADD_TO(*(linreg_d4*) (gj + 16), *(linreg_d4*) (gj + 20), c2);
            LINREG_F8_ADD_TO(*(linreg_d4*) (gj + 24), *(linreg_d4*) (gj + 28), c3);
        }
        for (; j < d; j++) {
            linreg_f8 c0 = {0};
            for (i = 0; i < m; i++)
                c0 += xs[i][j] * *(const linreg_f8*) (q_block + 8 * i);
            LINREG_F8_ADD_TO(*(linreg_d4*) (g + 8 * j), *(linreg_d4*) (g + 8 * j + 4), c0);
        }
    }
    #else
    #define LINREG_OUTPUT_TILES 0
    #define LINREG_OUTPUT_TILE 8
    #define LINREG_OUTPUT_TILES_F64_MAX_K 16
    #define LINREG_OUTPUT_TILES_F16 0
    #define linreg_tile16_residuals_f(xs, m, w, d, ys, bias, weights, q, sse, bsum) ((void)0)
    #define linreg_tile16_gradient_f(xs, m, q, d, g) ((void)0)
    #define LINREG_OUTPUT_TILE_PAIRS 0
    #define linreg_tile16x2_residuals_f(xs, m, wa, wb, d, ysa, ysb, ba, bb, weights, qa, qb, sa, sb, ca, cb) ((void)0)
    #define linreg_tile16x2_gradient_f(xs, m, qa, qb, d, ga, gb) ((void)0)
    #define linreg_tile_residuals_d(xs, m, w, d, ys, bias, weights, q, sse, bsum) ((void)0)
    #define linreg_tile_residuals_f(xs, m, w, d, ys, bias, weights, q, sse, bsum) ((void)0)
    #define linreg_tile_gradient_d(xs, m, q, d, g) ((void)0)
    #define linreg_tile_gradient_f(xs, m, q, d, g) ((void)0)
    #define linreg_tile_gradient_f_by_output(d) 0
    #endif
    """
    # Whether this compiler built the kernels below (GCC >= 9, clang); 0: never called.
    int LINREG_OUTPUT_TILES
    # The most outputs float64 takes the tiles for (see `_sums_over_rows`).
    int LINREG_OUTPUT_TILES_F64_MAX_K
    # Whether float32 has tiles of 16 outputs (the avx512 build), taken for k > 8.
    int LINREG_OUTPUT_TILES_F16
    # For the block's rows xs[0:m] and one tile of outputs: q_i = w_i r_i into q_block
    # (m, 8) in X's dtype, sum_i w_i r_i^2 added into sse_lanes and sum_i w_i r_i into
    # bias_lanes (8 each, double). w: the tile's weights (d, 8); ys[i]: the 8 targets of
    # row i; weights: the rows' sample weights (m,), or NULL for none.
    void linreg_tile_residuals_d(const double* const* xs, Py_ssize_t m, const double* w,
                                 Py_ssize_t d, const double* const* ys, const double* bias,
                                 const double* weights, double* q_block, double* sse_lanes,
                                 double* bias_lanes) noexcept nogil
    void linreg_tile_residuals_f(const float* const* xs, Py_ssize_t m, const float* w,
                                 Py_ssize_t d, const float* const* ys, const double* bias,
                                 const double* weights, float* q_block, double* sse_lanes,
                                 double* bias_lanes) noexcept nogil
    # g (d, 8) += sum_i x_i q_i over the block's rows; each feature's block sum in X's
    # dtype, then added in double.
    void linreg_tile_gradient_d(const double* const* xs, Py_ssize_t m, const double* q_block,
                                Py_ssize_t d, double* g) noexcept nogil
    void linreg_tile_gradient_f(const float* const* xs, Py_ssize_t m, const float* q_block,
                                Py_ssize_t d, double* g) noexcept nogil
    # Whether linreg_tile_gradient_f lays g out by output, (8, d), for rows of d features
    # (the avx512 build, long rows); otherwise (d, 8).
    bint linreg_tile_gradient_f_by_output(Py_ssize_t d) noexcept nogil
    # The same for tiles of 16 float32 outputs: w (d, 16), q_block (m, 16), g (d, 16),
    # sse_lanes and bias_lanes 16 each.
    void linreg_tile16_residuals_f(const float* const* xs, Py_ssize_t m, const float* w,
                                   Py_ssize_t d, const float* const* ys, const double* bias,
                                   const double* weights, float* q_block, double* sse_lanes,
                                   double* bias_lanes) noexcept nogil
    void linreg_tile16_gradient_f(const float* const* xs, Py_ssize_t m, const float* q_block,
                                  Py_ssize_t d, double* g) noexcept nogil
    # Whether two tiles of 16 float32 outputs can be summed at once (the avx512 build):
    # the same as two calls of the above, for rows of at most F32_CHUNK features.
    int LINREG_OUTPUT_TILE_PAIRS
    void linreg_tile16x2_residuals_f(const float* const* xs, Py_ssize_t m, const float* wa,
                                     const float* wb, Py_ssize_t d, const float* const* ysa,
                                     const float* const* ysb, const double* biasa,
                                     const double* biasb, const double* weights, float* qa,
                                     float* qb, double* ssea, double* sseb, double* bsuma,
                                     double* bsumb) noexcept nogil
    void linreg_tile16x2_gradient_f(const float* const* xs, Py_ssize_t m, const float* qa,
                                    const float* qb, Py_ssize_t d, double* ga,
                                    double* gb) noexcept nogil


cdef extern from *:
    """
    /* A tile's targets, dst[0:T] (T a multiple of 8), from src[o step] for o < live and 0
       past it: built in registers and stored whole. Stored element by element they were
       read back as vectors by the residual loop before the stores had retired, and a
       vector load over several pending scalar stores waits for them all (float32, d = 4,
       time / that of `X @ W`: k = 5, a partial tile, 2.86 -> 2.18; k = 8, full tiles
       read from Y, 1.4). Only strided Y and Y's last row are copied now. */
    #if defined(__AVX__)
    #include <immintrin.h>
    #define LINREG_LANE(j) (c + (j) < live ? src[(c + (j)) * step] : 0)
    static inline void linreg_tile_targets_f(float* dst, const float* src, Py_ssize_t step,
                                             Py_ssize_t live, Py_ssize_t T)
    {
        for (Py_ssize_t c = 0; c < T; c += 8)
            _mm256_storeu_ps(dst + c, _mm256_setr_ps(
                LINREG_LANE(0), LINREG_LANE(1), LINREG_LANE(2), LINREG_LANE(3),
                LINREG_LANE(4), LINREG_LANE(5), LINREG_LANE(6), LINREG_LANE(7)));
    }
    static inline void linreg_tile_targets_d(double* dst, const double* src, Py_ssize_t step,
                                             Py_ssize_t live, Py_ssize_t T)
    {
        for (Py_ssize_t c = 0; c < T; c += 4)
            _mm256_storeu_pd(dst + c, _mm256_setr_pd(
                LINREG_LANE(0), LINREG_LANE(1), LINREG_LANE(2), LINREG_LANE(3)));
    }
    #undef LINREG_LANE
    #else
    static inline void linreg_tile_targets_f(float* dst, const float* src, Py_ssize_t step,
                                             Py_ssize_t live, Py_ssize_t T)
        { for (Py_ssize_t o = 0; o < T; o++) dst[o] = o < live ? src[o * step] : 0.0f; }
    static inline void linreg_tile_targets_d(double* dst, const double* src, Py_ssize_t step,
                                             Py_ssize_t live, Py_ssize_t T)
        { for (Py_ssize_t o = 0; o < T; o++) dst[o] = o < live ? src[o * step] : 0.0; }
    #endif
    """
    void linreg_tile_targets_f(float* dst, const float* src, Py_ssize_t step, Py_ssize_t live,
                               Py_ssize_t T) noexcept nogil
    void linreg_tile_targets_d(double* dst, const double* src, Py_ssize_t step,
                               Py_ssize_t live, Py_ssize_t T) noexcept nogil


cdef inline Py_ssize_t _tile_width(Py_ssize_t k, bint is_float) noexcept nogil:
    """Outputs per tile: 16 for float32 with more than 8 outputs in the avx512 build."""
    return (2 * OUTPUT_TILE if is_float and LINREG_OUTPUT_TILES_F16 and k > OUTPUT_TILE
            else OUTPUT_TILE)


cdef inline void _tile_weights(
    const WorkBuffers* work, Py_ssize_t d, Py_ssize_t k, Py_ssize_t T, floating* w_tiles,
    double* bias_tiles,
) noexcept nogil:
    """W by tile, (tiles, d, T) in X's dtype, zero past the last output, and the bias
    (k,) into bias_tiles (padded to whole tiles; its tail is the caller's)."""
    cdef Py_ssize_t n_tiles = (k + T - 1) // T, t, o0, live, j, o
    cdef const floating* w_by_output = _weights(<const floating*> NULL, work, 0, d)
    for t in range(n_tiles):
        o0 = t * T
        live = k - o0 if k - o0 < T else T
        for j in range(d):
            for o in range(T):
                w_tiles[t * d * T + j * T + o] = (
                    w_by_output[(o0 + o) * d + j] if o < live else 0.0)
        for o in range(live):
            bias_tiles[o0 + o] = work.bias[o0 + o]


cdef bint _predict_over_outputs(
    const floating[:, ::1] X, floating[:, :] out, const WorkBuffers* work, Py_ssize_t start,
    Py_ssize_t stop,
) noexcept nogil:
    """`_predict_rows` for several outputs (k >= 5) by the tiles of the fused pass: the
    residual loop with targets of 0 and no weights leaves each row's predictions, xW + b
    summed as in the pass, in its q_block, which is copied into out. Returns False
    (nothing written) if its working copies cannot be allocated.

    Per output, a dot product ending in a sum across lanes took 3.2x the time of
    `X @ W` for float32 at d = 16, k = 8, and 4.4x at d = 4."""
    cdef Py_ssize_t d = X.shape[1], k = out.shape[1]
    cdef Py_ssize_t T = _tile_width(k, floating is float)
    cdef Py_ssize_t n_tiles = (k + T - 1) // T, padded = n_tiles * T, tile_size = d * T
    cdef Py_ssize_t at = start, m, i, t, o0, live, o
    cdef const floating* xs[OUTPUT_BLOCK_ROWS]
    cdef const floating* ys[OUTPUT_BLOCK_ROWS]
    cdef floating zeros[OUTPUT_TILE_MAX]
    cdef floating q_block[OUTPUT_BLOCK_ROWS * OUTPUT_TILE_MAX]
    cdef double lanes[2 * OUTPUT_TILE_MAX]  # the loss and bias sums, not used
    # The bias (padded), then W by tile in X's dtype.
    cdef double* bias_tiles = <double*> malloc(padded * sizeof(double)
                                               + padded * d * sizeof(floating))
    cdef floating* w_tiles
    if bias_tiles == NULL:
        return False
    w_tiles = <floating*> (bias_tiles + padded)
    memset(bias_tiles, 0, padded * sizeof(double))
    _tile_weights(work, d, k, T, w_tiles, bias_tiles)
    for o in range(OUTPUT_TILE_MAX):
        zeros[o] = 0
    for i in range(OUTPUT_BLOCK_ROWS):
        ys[i] = zeros
    while at < stop:
        m = stop - at if stop - at < OUTPUT_BLOCK_ROWS else OUTPUT_BLOCK_ROWS
        for i in range(m):
            xs[i] = &X[at + i, 0]
        for t in range(n_tiles):
            o0 = t * T
            live = k - o0 if k - o0 < T else T
            memset(lanes, 0, sizeof(lanes))
            if floating is double:
                linreg_tile_residuals_d(xs, m, w_tiles + t * tile_size, d, ys, bias_tiles + o0,
                                        NULL, q_block, lanes, lanes + OUTPUT_TILE_MAX)
            elif T != OUTPUT_TILE:
                linreg_tile16_residuals_f(xs, m, w_tiles + t * tile_size, d, ys,
                                          bias_tiles + o0, NULL, q_block, lanes,
                                          lanes + OUTPUT_TILE_MAX)
            else:
                linreg_tile_residuals_f(xs, m, w_tiles + t * tile_size, d, ys, bias_tiles + o0,
                                        NULL, q_block, lanes, lanes + OUTPUT_TILE_MAX)
            for i in range(m):
                for o in range(live):
                    out[at + i, o0 + o] = q_block[i * T + o]
        at += m
    free(bias_tiles)
    return True


cdef inline void _tile_targets(
    const floating[:, :] Y, const Py_ssize_t* block_rows, Py_ssize_t m, Py_ssize_t o0,
    Py_ssize_t T, bint y_rows_contiguous, bint read_on, Py_ssize_t last_row,
    floating* y_copies, const floating** ys,
) noexcept nogil:
    """ys[i]: where the tile of outputs o0..o0+T-1 reads the targets of the block's row i
    (i < m): in Y, or in y_copies (m, T) for a strided Y, and for a partial tile on Y's
    last row."""
    cdef Py_ssize_t k = Y.shape[1], i
    cdef Py_ssize_t live = k - o0 if k - o0 < T else T
    cdef Py_ssize_t y_col = Y.strides[1] // <Py_ssize_t> sizeof(floating)
    if live == T and y_rows_contiguous:
        for i in range(m):
            ys[i] = &Y[block_rows[i], o0]
    elif y_rows_contiguous and read_on:
        # A partial tile reads on past the row's last target, into the next row (its
        # lanes' results are never read back), except on Y's last row: as fast as a full
        # tile (A/B, 1 thread, 2^24 elements, d = 4: float32 k = 5 0.56x the time of
        # copies, k = 12 0.52x; float64 k = 5 0.80x, k = 12 1.06x, at d = 16 1.00x).
        for i in range(m):
            if block_rows[i] < last_row:
                ys[i] = &Y[block_rows[i], o0]
            elif floating is float:
                linreg_tile_targets_f(y_copies + i * T, &Y[block_rows[i], o0], y_col, live, T)
                ys[i] = y_copies + i * T
            else:
                linreg_tile_targets_d(y_copies + i * T, &Y[block_rows[i], o0], y_col, live, T)
                ys[i] = y_copies + i * T
    else:
        for i in range(m):
            if floating is float:
                linreg_tile_targets_f(y_copies + i * T, &Y[block_rows[i], o0], y_col, live, T)
            else:
                linreg_tile_targets_d(y_copies + i * T, &Y[block_rows[i], o0], y_col, live, T)
            ys[i] = y_copies + i * T


cdef inline double _sums_over_outputs(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    const Py_ssize_t* rows,
    Py_ssize_t start,
    Py_ssize_t stop,
    const WorkBuffers* work,
    double* grad_by_output,
    double* grad_bias,
    const double* sample_weight,
) noexcept nogil:
    """`_sums_over_rows` (rows.pxi) for several outputs (k >= 5), vectorized across outputs: adds
    sum_i w_i r_i x_i into grad_by_output (k, d) and sum_i w_i r_i into grad_bias (k,);
    returns sum_i w_i |r_i|^2. Rows rows[start:stop], or start..stop-1 when `rows` is
    NULL; inlined with sample_weight NULL or not.

    Its working copies (W and the gradient by tile, O(d k)) are allocated per call; if
    that fails, the sums are those of `_sums_over_rows`.
    """
    cdef Py_ssize_t d = X.shape[1], k = Y.shape[1]
    # Outputs per tile: 16 for float32 with more than 8 outputs in the avx512 build.
    cdef Py_ssize_t T = _tile_width(k, floating is float)
    cdef Py_ssize_t n_tiles = (k + T - 1) // T
    cdef Py_ssize_t padded = n_tiles * T, tile_size = d * T
    cdef bint y_rows_contiguous = Y.strides[1] == sizeof(floating)
    cdef Py_ssize_t y_row = Y.strides[0] // <Py_ssize_t> sizeof(floating)
    cdef Py_ssize_t last_row = Y.shape[0] - 1
    # Whether a partial tile (the last, k % T outputs) may read its row's T targets whole:
    # the T - k % T past the row's end lie in the next row's first (rows ascending, at
    # least that far apart), so only Y's last row needs a copy.
    cdef bint read_on = y_row >= T - k % T
    cdef Py_ssize_t t, o0, live, i, j, o, m, at, row, ahead, last
    cdef const floating* xs[OUTPUT_BLOCK_ROWS]
    cdef const floating* ys[OUTPUT_BLOCK_ROWS]
    cdef const floating* ys_next[OUTPUT_BLOCK_ROWS]  # the next tile's, for a pair of tiles
    cdef Py_ssize_t block_rows[OUTPUT_BLOCK_ROWS]
    cdef double block_weights[OUTPUT_BLOCK_ROWS]
    # A partial or strided tile's targets, and the residuals: room for two tiles (a pair).
    cdef floating y_copies[2 * OUTPUT_BLOCK_ROWS * OUTPUT_TILE_MAX]
    cdef floating q_block[2 * OUTPUT_BLOCK_ROWS * OUTPUT_TILE_MAX]
    cdef double sse = 0.0
    # One allocation: the gradient by tile (tiles, d, T), the bias, its gradient and the
    # loss by lane (3 x padded), then W by tile (tiles, d, T) in X's dtype.
    cdef double* g_tiles = <double*> malloc(
        (padded * d + 3 * padded) * sizeof(double) + padded * d * sizeof(floating))
    cdef double* bias_tiles
    cdef double* bias_lanes
    cdef double* sse_lanes
    cdef floating* w_tiles
    if g_tiles == NULL:
        return _sums_over_rows(X, Y, rows, start, stop, work, grad_by_output, grad_bias,
                               sample_weight, NULL)
    bias_tiles = g_tiles + padded * d
    bias_lanes = bias_tiles + padded
    sse_lanes = bias_lanes + padded
    w_tiles = <floating*> (sse_lanes + padded)
    memset(g_tiles, 0, (padded * d + 3 * padded) * sizeof(double))
    _tile_weights(work, d, k, T, w_tiles, bias_tiles)
    at = start
    while at < stop:
        m = stop - at if stop - at < OUTPUT_BLOCK_ROWS else OUTPUT_BLOCK_ROWS
        for i in range(m):
            row = rows[at + i] if rows != NULL else at + i
            block_rows[i] = row
            xs[i] = &X[row, 0]
            if sample_weight != NULL:
                block_weights[i] = sample_weight[row]
        ahead = at + PREFETCH_BLOCKS_AHEAD * OUTPUT_BLOCK_ROWS
        if rows == NULL and ahead < stop and y_rows_contiguous and y_row == k:
            # The rows and targets of the block PREFETCH_BLOCKS_AHEAD ahead requested now:
            # the residuals waited on Y (float32 k = 32, d = 16: two lines of Y a row, one
            # per tile), and the hardware prefetcher does not run ahead while the block's
            # gradient works in L1. Min of 3 runs, one thread, before -> after: float32
            # k = 32 d = 4 20.6 -> 13.0 ms, d = 16 10.1 -> 7.5 (with the tile kernels'
            # float32 row ends); float64 k = 32 d = 16 27.4 -> 21.0, k = 8 d = 16 5.8 -> 4.5.
            # Targets alone: float64 k = 8 d = 16 went to 6.3; 4 blocks ahead: no better.
            last = ahead + OUTPUT_BLOCK_ROWS if ahead + OUTPUT_BLOCK_ROWS < stop else stop
            _prefetch_row(&Y[ahead, 0], (last - ahead) * k * sizeof(floating))
            _prefetch_row(&X[ahead, 0], (last - ahead) * d * sizeof(floating))
        t = 0
        while t < n_tiles:
            o0 = t * T
            _tile_targets(Y, block_rows, m, o0, T, y_rows_contiguous, read_on, last_row,
                          y_copies, ys)
            if (floating is float and T != OUTPUT_TILE and LINREG_OUTPUT_TILE_PAIRS
                    and t + 1 < n_tiles and d <= F32_CHUNK):
                # Two tiles at once (output_tiles_avx512.pxi): the same bits as two.
                _tile_targets(Y, block_rows, m, o0 + T, T, y_rows_contiguous, read_on,
                              last_row, y_copies + OUTPUT_BLOCK_ROWS * OUTPUT_TILE_MAX,
                              ys_next)
                linreg_tile16x2_residuals_f(
                    xs, m, w_tiles + t * tile_size, w_tiles + (t + 1) * tile_size, d, ys,
                    ys_next, bias_tiles + o0, bias_tiles + o0 + T,
                    NULL if sample_weight == NULL else block_weights, q_block,
                    q_block + OUTPUT_BLOCK_ROWS * OUTPUT_TILE_MAX, sse_lanes + o0,
                    sse_lanes + o0 + T, bias_lanes + o0, bias_lanes + o0 + T)
                linreg_tile16x2_gradient_f(
                    xs, m, q_block, q_block + OUTPUT_BLOCK_ROWS * OUTPUT_TILE_MAX, d,
                    g_tiles + t * tile_size, g_tiles + (t + 1) * tile_size)
                t += 2
                continue
            if floating is double:
                linreg_tile_residuals_d(xs, m, w_tiles + t * tile_size, d, ys, bias_tiles + o0,
                                        NULL if sample_weight == NULL else block_weights,
                                        q_block, sse_lanes + o0, bias_lanes + o0)
                linreg_tile_gradient_d(xs, m, q_block, d, g_tiles + t * tile_size)
            elif T != OUTPUT_TILE:
                linreg_tile16_residuals_f(xs, m, w_tiles + t * tile_size, d, ys, bias_tiles + o0,
                                          NULL if sample_weight == NULL else block_weights,
                                          q_block, sse_lanes + o0, bias_lanes + o0)
                linreg_tile16_gradient_f(xs, m, q_block, d, g_tiles + t * tile_size)
            else:
                linreg_tile_residuals_f(xs, m, w_tiles + t * tile_size, d, ys, bias_tiles + o0,
                                        NULL if sample_weight == NULL else block_weights,
                                        q_block, sse_lanes + o0, bias_lanes + o0)
                linreg_tile_gradient_f(xs, m, q_block, d, g_tiles + t * tile_size)
            t += 1
        at += m
    for t in range(n_tiles):
        o0 = t * T
        live = k - o0 if k - o0 < T else T
        if floating is float and T == OUTPUT_TILE and linreg_tile_gradient_f_by_output(d):
            for o in range(live):
                for j in range(d):
                    grad_by_output[(o0 + o) * d + j] += g_tiles[t * tile_size + o * d + j]
            continue
        for o in range(live):
            for j in range(d):
                grad_by_output[(o0 + o) * d + j] += g_tiles[t * tile_size + j * T + o]
    for o in range(k):
        grad_bias[o] += bias_lanes[o]
        sse += sse_lanes[o]
    free(g_tiles)
    return sse
