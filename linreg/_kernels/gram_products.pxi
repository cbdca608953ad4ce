# The Gram pass's products SᵀS of a block of centred rows, compiled (the avx512 build).
#
# Why: NumPy's BLAS (OpenBLAS 0.3.31 in NumPy's wheels) runs its Haswell kernels on CPUs
# it does not know, AVX-512 ones included (this VM's AMD Zen 5 among them): 256-bit
# FMAs, half of what the core can do. Its dsyrk ran at 29 G multiply-adds/s on one
# thread (d = 2048), this file's at 59 (2.0x); d = 512 2.2x, d = 64 1.5x. On a CPU
# whose BLAS has AVX-512 kernels, both sit near the FMA units' peak.
#
# How, as a BLAS does a syrk (Goto's blocking, in two levels):
# - A slab of GRAM_SLAB_ROWS rows of S is packed into panels of one vector's width
#   (8 doubles, 16 floats): panel q holds columns [q w, q w + w) of every row of the
#   slab, row after row, zero past S's last column. Each panel is then read in order.
# - The lower triangle of the product is cut into tiles of 8 rows by 3 vectors of
#   columns (8 x 24 doubles, 8 x 48 floats): 24 accumulators in registers, and per row
#   of the slab 3 vector loads and 8 broadcasts for 24 FMAs, so both FMA pipes stay fed
#   from L1 and L2. A tile on the diagonal takes only the vectors that reach its last
#   row; the few entries above the diagonal it still computes are never read (the
#   caller mirrors the lower triangle).
# - Each tile adds its slab's sums into `acc`, a double matrix the caller keeps across
#   blocks: float32 slabs are summed in float32 over GRAM_SLAB_ROWS (512) rows and
#   promoted to double per slab (as a BLAS-quality mixed kernel does; the BLAS path
#   summed 4096 rows in float32). Slabs of 512 rather than 256 rows halve the traffic to
#   acc, which at d = 2048 (32 MB) leaves the cache. A float32 tile whose sums overflow
#   (values past ~1e19) is redone in double from the same packed values, so raw data of
#   any float32 scale works.
# - Threads split the tiles, never a sum: every entry is added up in the same order
#   whatever the thread count, so the bits do not depend on it. Each thread takes an
#   equal share of the tiles (by their vectors) and packs, into its own scratch, the
#   panels its tiles read: threads never wait for each other within a call. A packing
#   shared by the threads took a barrier after it and after the tiles, twice a slab;
#   with libgomp's short spin (linreg._compiled) the workers slept at each, and 2 threads
#   took 2.5x one thread's time at d = 64.
# Other builds: NumPy's BLAS (`linreg._gram_products` chooses); `has_gram_products` says which.

cdef extern from *:
    """
    #define LINREG_GRAM_SLAB_ROWS 512
    #ifdef _OPENMP
    static int linreg_team_size(void) { return omp_get_num_threads(); }
    #else
    static int linreg_team_size(void) { return 1; }
    #endif
    #if defined(LINREG_AVX512_KERNELS) \
        && (defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 9))
    #define LINREG_GRAM_PRODUCTS 1
    #include <immintrin.h>
    #define LINREG_GP_FN static __attribute__((noinline, target(LINREG_AVX512_TARGET)))
    #define LINREG_GP_INLINE \
        static inline __attribute__((always_inline, target(LINREG_AVX512_TARGET)))

    /* Panel q of a slab (rows [0, m) of S, ld elements apart): S[i, q w + c] at
       P[i w + c], zero past column `width`. */
    LINREG_GP_FN void linreg_gp_pack_d(const double* S, Py_ssize_t ld, Py_ssize_t m,
                                       Py_ssize_t width, Py_ssize_t q, double* P) {
        const Py_ssize_t c0 = 8 * q, left = width - c0;
        if (left >= 8) {
            for (Py_ssize_t i = 0; i < m; i++)
                _mm512_storeu_pd(P + 8 * i, _mm512_loadu_pd(S + i * ld + c0));
        } else {
            const __mmask8 lanes = (__mmask8) ((1u << left) - 1);
            for (Py_ssize_t i = 0; i < m; i++)
                _mm512_storeu_pd(P + 8 * i, _mm512_maskz_loadu_pd(lanes, S + i * ld + c0));
        }
    }
    LINREG_GP_FN void linreg_gp_pack_f(const float* S, Py_ssize_t ld, Py_ssize_t m,
                                       Py_ssize_t width, Py_ssize_t q, float* P) {
        const Py_ssize_t c0 = 16 * q, left = width - c0;
        if (left >= 16) {
            for (Py_ssize_t i = 0; i < m; i++)
                _mm512_storeu_ps(P + 16 * i, _mm512_loadu_ps(S + i * ld + c0));
        } else {
            const __mmask16 lanes = (__mmask16) ((1u << left) - 1);
            for (Py_ssize_t i = 0; i < m; i++)
                _mm512_storeu_ps(P + 16 * i, _mm512_maskz_loadu_ps(lanes, S + i * ld + c0));
        }
    }

    /* One tile, float64: acc[r, v] += sum_i A[i, r] B_v[i] for its 8 rows (A: 8 of a
       panel's columns, a row `a_step` apart) and NV vectors of columns (B: NV panels,
       `b_step` apart). */
    #define LINREG_GP_TILE_D(NV)                                                        \
    LINREG_GP_INLINE void linreg_gp_tile_d##NV(const double* A, Py_ssize_t a_step,      \
            const double* B, Py_ssize_t b_step, Py_ssize_t m, double* acc,              \
            Py_ssize_t ld_acc, int rows_ok, int cols_ok) {                              \
        __m512d c[8][NV];                                                               \
        for (int r = 0; r < 8; r++)                                                     \
            for (int v = 0; v < NV; v++) c[r][v] = _mm512_setzero_pd();                 \
        for (Py_ssize_t i = 0; i < m; i++) {                                            \
            __m512d b[NV];                                                              \
            for (int v = 0; v < NV; v++) b[v] = _mm512_loadu_pd(B + v * b_step + 8 * i); \
            for (int r = 0; r < 8; r++) {                                               \
                const __m512d a = _mm512_set1_pd(A[a_step * i + r]);                    \
                for (int v = 0; v < NV; v++) c[r][v] = _mm512_fmadd_pd(a, b[v], c[r][v]); \
            }                                                                           \
        }                                                                               \
        if (rows_ok == 8 && cols_ok == 8 * NV) {                                        \
            for (int r = 0; r < 8; r++)                                                 \
                for (int v = 0; v < NV; v++) {                                          \
                    double* out = acc + r * ld_acc + 8 * v;                             \
                    _mm512_storeu_pd(out, _mm512_add_pd(_mm512_loadu_pd(out), c[r][v])); \
                }                                                                       \
            return;                                                                     \
        }                                                                               \
        for (int r = 0; r < rows_ok; r++)  /* a tile past acc's edge: its part in it */ \
            for (int v = 0; v < NV && 8 * v < cols_ok; v++) {                           \
                double* out = acc + r * ld_acc + 8 * v;                                 \
                const int left = cols_ok - 8 * v;                                       \
                const __mmask8 in = left >= 8 ? (__mmask8) 0xff : (__mmask8) ((1u << left) - 1); \
                _mm512_mask_storeu_pd(out, in, _mm512_add_pd(                           \
                    _mm512_maskz_loadu_pd(in, out), c[r][v]));                           \
            }                                                                           \
    }
    LINREG_GP_TILE_D(1)
    LINREG_GP_TILE_D(2)
    LINREG_GP_TILE_D(3)

    /* float32's tile, in double: the fallback for a tile whose float32 sums overflowed
       (nv vectors of 16 columns; the rows_ok x cols_ok that lie in acc). */
    LINREG_GP_FN void linreg_gp_tile_f_in_double(const float* A, const float* B,
            Py_ssize_t b_step, int nv, Py_ssize_t m, double* acc, Py_ssize_t ld_acc,
            int rows_ok, int cols_ok) {
        for (int r = 0; r < rows_ok; r++)
            for (int l = 0; l < cols_ok; l++) {
                double s = 0.0;
                for (Py_ssize_t i = 0; i < m; i++)
                    s += (double) A[16 * i + r] * (double) B[(l / 16) * b_step + 16 * i + l % 16];
                acc[r * ld_acc + l] += s;
            }
    }
    /* One tile, float32: sums over the slab in float32, then promoted and added into
       the double acc (one conversion per 8 lanes), or the tile in double if a sum is
       not finite. */
    #define LINREG_GP_TILE_F(NV)                                                        \
    LINREG_GP_INLINE void linreg_gp_tile_f##NV(const float* A, const float* B,          \
            Py_ssize_t b_step, Py_ssize_t m, double* acc, Py_ssize_t ld_acc,            \
            int rows_ok, int cols_ok) {                                                 \
        __m512 c[8][NV];                                                                \
        for (int r = 0; r < 8; r++)                                                     \
            for (int v = 0; v < NV; v++) c[r][v] = _mm512_setzero_ps();                 \
        for (Py_ssize_t i = 0; i < m; i++) {                                            \
            __m512 b[NV];                                                               \
            for (int v = 0; v < NV; v++) b[v] = _mm512_loadu_ps(B + v * b_step + 16 * i); \
            for (int r = 0; r < 8; r++) {                                               \
                const __m512 a = _mm512_set1_ps(A[16 * i + r]);                         \
                for (int v = 0; v < NV; v++) c[r][v] = _mm512_fmadd_ps(a, b[v], c[r][v]); \
            }                                                                           \
        }                                                                               \
        __mmask16 bad = 0;                                                              \
        for (int r = 0; r < 8; r++)                                                     \
            for (int v = 0; v < NV; v++)  /* NaN, +inf, -inf (quiet or signalling) */   \
                bad |= _mm512_fpclass_ps_mask(c[r][v], 0x99);                           \
        if (bad) {                                                                      \
            linreg_gp_tile_f_in_double(A, B, b_step, NV, m, acc, ld_acc, rows_ok, cols_ok); \
            return;                                                                     \
        }                                                                               \
        for (int r = 0; r < rows_ok; r++)                                               \
            for (int h = 0; h < 2 * NV && 8 * h < cols_ok; h++) {  /* 8 lanes a half */  \
                double* out = acc + r * ld_acc + 8 * h;                                 \
                const __m512 v_ = c[r][h / 2];                                          \
                const __m512d half = _mm512_cvtps_pd(h % 2 ? _mm512_extractf32x8_ps(v_, 1) \
                                                           : _mm512_castps512_ps256(v_)); \
                const int left = cols_ok - 8 * h;                                       \
                if (left >= 8) {                                                        \
                    _mm512_storeu_pd(out, _mm512_add_pd(_mm512_loadu_pd(out), half));   \
                } else {                                                                \
                    const __mmask8 in = (__mmask8) ((1u << left) - 1);                  \
                    _mm512_mask_storeu_pd(out, in, _mm512_add_pd(                       \
                        _mm512_maskz_loadu_pd(in, out), half));                          \
                }                                                                       \
            }                                                                           \
    }
    LINREG_GP_TILE_F(1)
    LINREG_GP_TILE_F(2)
    LINREG_GP_TILE_F(3)

    /* The vectors of tile (p, g): 3, fewer in the last column of tiles, and on the
       diagonal only as many as reach the group's last row (8 g + 7): the entries right
       of it are above the diagonal, never read (float32 at d = 64 did 1.3x the
       multiply-adds needed without this). */
    #define LINREG_GP_NV(p, g, panels, LANES)                                           \
        linreg_gp_vectors((panels) - 3 * (p), 8 * (g) + 8 - 3 * (LANES) * (p), LANES)
    static inline Py_ssize_t linreg_gp_vectors(Py_ssize_t panels_left, Py_ssize_t reach,
                                               Py_ssize_t lanes) {
        Py_ssize_t nv = panels_left < 3 ? panels_left : 3;
        const Py_ssize_t needed = (reach + lanes - 1) / lanes;
        return needed < nv ? needed : nv;
    }
    #define LINREG_GP_EDGES(LANES)                                                      \
        const Py_ssize_t rows_left = width - 8 * g, cols_left = width - 3 * LANES * p;  \
        const int rows_ok = rows_left < 8 ? (int) rows_left : 8;                        \
        const int cols_ok = cols_left < nv * LANES ? (int) cols_left : (int) (nv * LANES)
    /* Tile (p, g): columns [3 p w, 3 p w + nv w) of the product (w lanes, nv its
       vectors, above) against rows [8 g, 8 g + 8), for every group g of 8 rows from
       the column's first on (the lower triangle); only its part inside acc's width is
       added. P: the packed slab (m rows, panels m w elements apart). */
    LINREG_GP_INLINE void linreg_gp_tile_at_d(const double* P, Py_ssize_t m, Py_ssize_t p,
            Py_ssize_t nv, Py_ssize_t g, Py_ssize_t width, double* acc, Py_ssize_t ld_acc) {
        const double* A = P + g * m * 8;
        const double* B = P + 3 * p * m * 8;
        double* out = acc + 8 * g * ld_acc + 24 * p;
        LINREG_GP_EDGES(8);
        if (nv == 3) linreg_gp_tile_d3(A, 8, B, m * 8, m, out, ld_acc, rows_ok, cols_ok);
        else if (nv == 2) linreg_gp_tile_d2(A, 8, B, m * 8, m, out, ld_acc, rows_ok, cols_ok);
        else linreg_gp_tile_d1(A, 8, B, m * 8, m, out, ld_acc, rows_ok, cols_ok);
    }
    LINREG_GP_INLINE void linreg_gp_tile_at_f(const float* P, Py_ssize_t m, Py_ssize_t p,
            Py_ssize_t nv, Py_ssize_t g, Py_ssize_t width, double* acc, Py_ssize_t ld_acc) {
        const float* A = P + (g / 2) * m * 16 + 8 * (g % 2);
        const float* B = P + 3 * p * m * 16;
        double* out = acc + 8 * g * ld_acc + 48 * p;
        LINREG_GP_EDGES(16);
        if (nv == 3) linreg_gp_tile_f3(A, B, m * 16, m, out, ld_acc, rows_ok, cols_ok);
        else if (nv == 2) linreg_gp_tile_f2(A, B, m * 16, m, out, ld_acc, rows_ok, cols_ok);
        else linreg_gp_tile_f1(A, B, m * 16, m, out, ld_acc, rows_ok, cols_ok);
    }

    /* One thread's share of a block: the tiles, taken column after column (groups of 8
       rows in order within one), whose weight (nv: the vectors a tile's row has) adds
       up to [lo, hi) of the total; for each slab, the panels they read (from the
       first one's column on) are packed into this thread's own P, then its tiles run.
       No thread waits for another within a block: packing twice what two threads
       share costs one load and store per 24 FMAs of the tiles at most. */
    #define LINREG_GP_SHARE(S_, T, LANES, GROUPS_PER_PANEL)                             \
    LINREG_GP_FN void linreg_gp_share_##S_(const T* S, Py_ssize_t ld, Py_ssize_t m,     \
            Py_ssize_t width, double* acc, Py_ssize_t ld_acc, T* P, Py_ssize_t lo,      \
            Py_ssize_t hi) {                                                            \
        const Py_ssize_t panels = (width + LANES - 1) / LANES;                          \
        const Py_ssize_t groups = (width + 7) / 8;  /* of 8 rows, from acc's top */     \
        Py_ssize_t first = -1, at = 0;                                                  \
        for (Py_ssize_t p = 0; 3 * p < panels && first < 0; p++)                        \
            for (Py_ssize_t g = GROUPS_PER_PANEL * 3 * p; g < groups; g++) {             \
                if (at >= lo && at < hi) { first = p; break; }                          \
                at += LINREG_GP_NV(p, g, panels, LANES);                                \
            }                                                                           \
        if (first < 0) return;                                                          \
        for (Py_ssize_t s = 0; s < m; s += LINREG_GRAM_SLAB_ROWS) {                     \
            const Py_ssize_t rows = m - s < LINREG_GRAM_SLAB_ROWS ? m - s : LINREG_GRAM_SLAB_ROWS; \
            for (Py_ssize_t q = 3 * first; q < panels; q++)                             \
                linreg_gp_pack_##S_(S + s * ld, ld, rows, width, q, P + q * rows * LANES); \
            at = 0;                                                                     \
            for (Py_ssize_t p = 0; 3 * p < panels; p++)                                 \
                for (Py_ssize_t g = GROUPS_PER_PANEL * 3 * p; g < groups; g++) {         \
                    const Py_ssize_t nv = LINREG_GP_NV(p, g, panels, LANES);            \
                    if (at >= lo && at < hi)                                            \
                        linreg_gp_tile_at_##S_(P, rows, p, nv, g, width, acc, ld_acc);  \
                    at += nv;                                                           \
                }                                                                       \
        }                                                                               \
    }
    LINREG_GP_SHARE(d, double, 8, 1)
    LINREG_GP_SHARE(f, float, 16, 2)

    /* acc's lower triangle (and a few entries above it) += SᵀS for S (m, width), rows
       ld apart; P: a packed slab's scratch per thread (GRAM_SLAB_ROWS x panels x lanes
       each). Each thread takes an equal share of the tiles' weight. */
    #define LINREG_GP_PRODUCTS(S_, T, LANES, GROUPS_PER_PANEL)                          \
    static void linreg_gram_products_##S_(const T* S, Py_ssize_t ld, Py_ssize_t m,      \
            Py_ssize_t width, double* acc, Py_ssize_t ld_acc, T* P, int threads) {      \
        const Py_ssize_t panels = (width + LANES - 1) / LANES;                          \
        const Py_ssize_t per_thread = LINREG_GRAM_SLAB_ROWS * panels * LANES;           \
        const Py_ssize_t groups = (width + 7) / 8;                                      \
        Py_ssize_t total = 0;                                                           \
        for (Py_ssize_t p = 0; 3 * p < panels; p++)                                     \
            for (Py_ssize_t g = GROUPS_PER_PANEL * 3 * p; g < groups; g++)               \
                total += LINREG_GP_NV(p, g, panels, LANES);                             \
        (void) threads;                                                                 \
        _Pragma("omp parallel num_threads(threads) if (threads > 1)")                  \
        {                                                                               \
            const Py_ssize_t t = linreg_thread_id(), n_t = linreg_team_size();           \
            linreg_gp_share_##S_(S, ld, m, width, acc, ld_acc, P + t * per_thread,       \
                                 total * t / n_t, total * (t + 1) / n_t);               \
        }                                                                               \
    }
    LINREG_GP_PRODUCTS(d, double, 8, 1)
    LINREG_GP_PRODUCTS(f, float, 16, 2)
    #else
    #define LINREG_GRAM_PRODUCTS 0
    static void linreg_gram_products_d(const double* S, Py_ssize_t ld, Py_ssize_t m,
            Py_ssize_t width, double* acc, Py_ssize_t ld_acc, double* P, int threads) {}
    static void linreg_gram_products_f(const float* S, Py_ssize_t ld, Py_ssize_t m,
            Py_ssize_t width, double* acc, Py_ssize_t ld_acc, float* P, int threads) {}
    #endif
    """
    int LINREG_GRAM_PRODUCTS
    int LINREG_GRAM_SLAB_ROWS
    void linreg_gram_products_d(const double* S, Py_ssize_t ld, Py_ssize_t m,
                                Py_ssize_t width, double* acc, Py_ssize_t ld_acc, double* P,
                                int threads) noexcept nogil
    void linreg_gram_products_f(const float* S, Py_ssize_t ld, Py_ssize_t m,
                                Py_ssize_t width, double* acc, Py_ssize_t ld_acc, float* P,
                                int threads) noexcept nogil


#: Whether this build computes the Gram pass's products itself (`add_gram_products`);
#: otherwise linreg._gram takes them from NumPy's BLAS.
has_gram_products = bool(LINREG_GRAM_PRODUCTS)

#: Rows of a block summed at a time, in float32 for float32 data (see the note above).
GRAM_SLAB_ROWS = LINREG_GRAM_SLAB_ROWS


def gram_products_lanes(dtype_itemsize):
    """The width of `add_gram_products`'s packed panels, to which `packed`'s size is
    rounded: one vector (8 doubles, 16 floats)."""
    return 8 if dtype_itemsize == 8 else 16


def add_gram_products(const floating[:, ::1] S, double[:, :] acc, floating[::1] packed,
                      int n_threads, bint last=True):
    """acc[j, l] += sum_i S[i, j] S[i, l] for l <= j (the lower triangle; a few entries
    above the diagonal get sums too, which the caller must not read), in double; float32
    rows are summed in float32 over GRAM_SLAB_ROWS rows at a time. `acc` is at least
    (w, w) for S's w columns, its rows contiguous (they may be further apart than its
    width); `packed` holds, for w rounded up to `gram_products_lanes`, at least
    GRAM_SLAB_ROWS times that many elements per thread: as many threads as it holds
    scratch for, at most n_threads, which do not change the bits. `last`: the pass's
    last call, after which OpenMP's workers are let go (see linreg_release_threads; not
    after every block: starting them again is slow). The avx512 build only
    (`has_gram_products`)."""
    cdef Py_ssize_t m = S.shape[0], width = S.shape[1]
    cdef Py_ssize_t lanes = gram_products_lanes(sizeof(floating))
    cdef Py_ssize_t per_thread = LINREG_GRAM_SLAB_ROWS * ((width + lanes - 1) // lanes) * lanes
    cdef int threads = n_threads if n_threads > 1 else 1
    if packed.shape[0] < per_thread or acc.shape[0] < width or acc.shape[1] < width:
        raise ValueError("add_gram_products: acc or packed is too small")
    if acc.strides[1] != sizeof(double):
        raise ValueError("add_gram_products: acc's rows must be contiguous")
    if threads > packed.shape[0] // per_thread:
        threads = packed.shape[0] // per_thread
    if not LINREG_GRAM_PRODUCTS:
        raise RuntimeError("this build has no compiled Gram products")
    if m == 0:
        return
    with nogil:
        if floating is double:
            linreg_gram_products_d(&S[0, 0], S.strides[0] // 8, m, width, &acc[0, 0],
                                   acc.strides[0] // 8, &packed[0], threads)
        else:
            linreg_gram_products_f(&S[0, 0], S.strides[0] // 4, m, width, &acc[0, 0],
                                   acc.strides[0] // 8, &packed[0], threads)
    if last:
        _release_threads(2, threads)


def mirror_lower(const double[:, :] acc, double[:, ::1] out):
    """out = the symmetric matrix whose lower triangle is acc's (out (w, w), acc at least
    that; in place when they are the same array): what `add_gram_products` leaves, made
    whole. In blocks of 8 x 8, so that the
    transposed writes stay in cache: with rows 2^k bytes apart, a column of a larger
    block falls into one set of L1 (blocks of 64: 11.7 ms at d = 2048; NumPy's tril +
    tril.T takes three d^2 temporaries). The caller checks the shapes."""
    cdef Py_ssize_t w = out.shape[0], top, left, j, l, j_end, l_end
    cdef double v
    with nogil:
        for top in range(0, w, 8):
            j_end = top + 8 if top + 8 < w else w
            for left in range(0, top + 1, 8):
                for j in range(top, j_end):
                    l_end = left + 8 if left + 8 < j + 1 else j + 1
                    for l in range(left, l_end):
                        v = acc[j, l]
                        out[j, l] = v
                        out[l, j] = v
