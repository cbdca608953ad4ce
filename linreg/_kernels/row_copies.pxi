# SGD on a Fortran-ordered X, read in place: the rows a pass is about to visit, copied a
# few at a time into a small C-ordered scratch that the SGD loops read instead of X.
#
# SGD reads single rows, and a row of a Fortran-ordered X is d values n apart. The loops
# of per_sample.pxi, loops.pxi and rows.pxi stay as they are: they ask `_sample_row` (or
# `_sums_over_rows` asks `_copied_row`) for the row at position t of the pass, which, for
# such an X (given as its C-ordered transpose Xt, (d, n)), is read from a ring of
# 4 chunks of rows (a chunk: a cache line of each column, 8 float64 or 16 float32 rows),
# kept 2 chunks ahead of t. The ring is 4 * 64 * d bytes, allocated once per call.
#
# In natural order a chunk is a cache line of each column, transposed 4 x 4 in vector
# registers (linreg_transpose_*), the lines STREAM_AHEAD chunks on asked for (d streams
# are too many for the hardware prefetcher). In a shuffled order (or a subset of rows)
# each row is gathered from the d columns, its values in d cache lines where a C-ordered
# row shares a few; rows GATHER_AHEAD positions on are asked for, the order being known.
#
# A shuffled pass over a Fortran X is held by those d lines a row, not by the copy: at
# 1e5 x 32 float64 (bench fortran-order-sgd-epoch-shuffled), gathering the rows alone into
# a ring, prefetched 8 rows ahead, took 6.1-8.1 ms (a C harness; 2 to 16 rows ahead, or
# column by column over runs of 64 to 1024 rows: no faster, the latter 14 ms), against
# 4.8 ms for the whole C-order epoch and 8.0 ms for the Fortran one (NumPy's take of the
# same rows: 11.2 ms).
#
# The loops then make the same arithmetic on the same values as on a C-ordered X. The
# plain loops give the same bits; but gcc may compile a loop twice (unswitched on whether
# `copies` is NULL) and, with -fassociative-math, round some sums of the two copies
# differently: with options, and in mini-batches with d % 4 != 0, results agree to an
# ulp or so per update (tests/training/test_sgd_fortran.py).


cdef extern from *:
    """
    #if defined(__SSE2__) || defined(_M_X64)
    #include <emmintrin.h>
    #endif
    #if defined(__AVX__)
    #include <immintrin.h>
    /* o[r d + c] = s[c stride + r] for r, c < 4: a 4 x 4 block through registers. */
    static inline void linreg_t4x4_f64(const double* s, Py_ssize_t stride, double* o,
                                       Py_ssize_t d) {
        __m256d a0 = _mm256_loadu_pd(s), a1 = _mm256_loadu_pd(s + stride);
        __m256d a2 = _mm256_loadu_pd(s + 2 * stride), a3 = _mm256_loadu_pd(s + 3 * stride);
        __m256d t0 = _mm256_unpacklo_pd(a0, a1), t1 = _mm256_unpackhi_pd(a0, a1);
        __m256d t2 = _mm256_unpacklo_pd(a2, a3), t3 = _mm256_unpackhi_pd(a2, a3);
        _mm256_storeu_pd(o, _mm256_permute2f128_pd(t0, t2, 0x20));
        _mm256_storeu_pd(o + d, _mm256_permute2f128_pd(t1, t3, 0x20));
        _mm256_storeu_pd(o + 2 * d, _mm256_permute2f128_pd(t0, t2, 0x31));
        _mm256_storeu_pd(o + 3 * d, _mm256_permute2f128_pd(t1, t3, 0x31));
    }
    #endif
    /* dst[r d + j] = src[j stride + r] for r < m, j < d: m rows of the columns src,
       src + stride, ... transposed, 4 x 4 (or 2 x 2) blocks through vector registers. */
    static void linreg_transpose_f64(const double* src, Py_ssize_t stride, Py_ssize_t d,
                                     Py_ssize_t m, double* dst) {
        Py_ssize_t r = 0, j;
    #if defined(__AVX__)
        for (; r + 4 <= m; r += 4) {
            for (j = 0; j + 4 <= d; j += 4)
                linreg_t4x4_f64(src + j * stride + r, stride, dst + r * d + j, d);
            for (; j < d; j++) {
                const double* s = src + j * stride + r;
                dst[r * d + j] = s[0]; dst[(r + 1) * d + j] = s[1];
                dst[(r + 2) * d + j] = s[2]; dst[(r + 3) * d + j] = s[3];
            }
        }
    #elif defined(__SSE2__) || defined(_M_X64)
        for (; r + 2 <= m; r += 2) {
            for (j = 0; j + 2 <= d; j += 2) {
                const double* s = src + j * stride + r;
                __m128d a0 = _mm_loadu_pd(s), a1 = _mm_loadu_pd(s + stride);
                _mm_storeu_pd(dst + r * d + j, _mm_unpacklo_pd(a0, a1));
                _mm_storeu_pd(dst + (r + 1) * d + j, _mm_unpackhi_pd(a0, a1));
            }
            for (; j < d; j++) {
                dst[r * d + j] = src[j * stride + r];
                dst[(r + 1) * d + j] = src[j * stride + r + 1];
            }
        }
    #endif
        for (; r < m; r++)
            for (j = 0; j < d; j++)
                dst[r * d + j] = src[j * stride + r];
    }
    static void linreg_transpose_f32(const float* src, Py_ssize_t stride, Py_ssize_t d,
                                     Py_ssize_t m, float* dst) {
        Py_ssize_t r = 0, j;
    #if defined(__SSE2__) || defined(_M_X64)
        for (; r + 4 <= m; r += 4) {
            for (j = 0; j + 4 <= d; j += 4) {
                const float* s = src + j * stride + r;
                __m128 a0 = _mm_loadu_ps(s), a1 = _mm_loadu_ps(s + stride);
                __m128 a2 = _mm_loadu_ps(s + 2 * stride), a3 = _mm_loadu_ps(s + 3 * stride);
                float* o = dst + r * d + j;
                _MM_TRANSPOSE4_PS(a0, a1, a2, a3);
                _mm_storeu_ps(o, a0); _mm_storeu_ps(o + d, a1);
                _mm_storeu_ps(o + 2 * d, a2); _mm_storeu_ps(o + 3 * d, a3);
            }
            for (; j < d; j++) {
                const float* s = src + j * stride + r;
                dst[r * d + j] = s[0]; dst[(r + 1) * d + j] = s[1];
                dst[(r + 2) * d + j] = s[2]; dst[(r + 3) * d + j] = s[3];
            }
        }
    #endif
        for (; r < m; r++)
            for (j = 0; j < d; j++)
                dst[r * d + j] = src[j * stride + r];
    }

    /* A block of rows of a Fortran-ordered X copied into C order for the Gram pass
       (`rows_of_columns`): dst[r d + j] = src[j stride + r] for r < m, j < d, as
       linreg_transpose_*, but eight columns at a time through the whole block, lines of
       those eight asked for LINREG_BLOCK_AHEAD lines on. linreg_transpose_* goes across
       all d columns a few rows at a time: when X's rows are a multiple of 1024 (a
       column 4 KB apart, or a power of two), the d lines at one offset share a cache
       set, so at d = 32 they evicted one another before each was read whole (float32,
       2^20 x 32 in blocks of 4096 rows, C harness: 10.6 ms, now 6.7; at d = 128, 129
       ms, now 48; 2^20 + 37 rows: 10.4 and 6.7). */
    #define LINREG_BLOCK_AHEAD 8
    #if defined(__AVX__)
    static inline void linreg_t8x8_f32(const float* s, Py_ssize_t stride, float* o,
                                       Py_ssize_t d) {
        __m256 a0 = _mm256_loadu_ps(s), a1 = _mm256_loadu_ps(s + stride);
        __m256 a2 = _mm256_loadu_ps(s + 2 * stride), a3 = _mm256_loadu_ps(s + 3 * stride);
        __m256 a4 = _mm256_loadu_ps(s + 4 * stride), a5 = _mm256_loadu_ps(s + 5 * stride);
        __m256 a6 = _mm256_loadu_ps(s + 6 * stride), a7 = _mm256_loadu_ps(s + 7 * stride);
        __m256 t0 = _mm256_unpacklo_ps(a0, a1), t1 = _mm256_unpackhi_ps(a0, a1);
        __m256 t2 = _mm256_unpacklo_ps(a2, a3), t3 = _mm256_unpackhi_ps(a2, a3);
        __m256 t4 = _mm256_unpacklo_ps(a4, a5), t5 = _mm256_unpackhi_ps(a4, a5);
        __m256 t6 = _mm256_unpacklo_ps(a6, a7), t7 = _mm256_unpackhi_ps(a6, a7);
        __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
        __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
        __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
        __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
        _mm256_storeu_ps(o, _mm256_permute2f128_ps(u0, u4, 0x20));
        _mm256_storeu_ps(o + d, _mm256_permute2f128_ps(u1, u5, 0x20));
        _mm256_storeu_ps(o + 2 * d, _mm256_permute2f128_ps(u2, u6, 0x20));
        _mm256_storeu_ps(o + 3 * d, _mm256_permute2f128_ps(u3, u7, 0x20));
        _mm256_storeu_ps(o + 4 * d, _mm256_permute2f128_ps(u0, u4, 0x31));
        _mm256_storeu_ps(o + 5 * d, _mm256_permute2f128_ps(u1, u5, 0x31));
        _mm256_storeu_ps(o + 6 * d, _mm256_permute2f128_ps(u2, u6, 0x31));
        _mm256_storeu_ps(o + 7 * d, _mm256_permute2f128_ps(u3, u7, 0x31));
    }
    #endif
    /* Groups of four columns j0.. of rows 0..m-1 (m a multiple of 8) after the groups of
       eight, 4 x 4 blocks through registers; returns the first column left (the last
       d % 4 go one at a time: LINREG_LAST_COLUMNS). Column by column, a block of X of
       4 columns (several outputs on a Fortran X, column_rows.pxi) took 0.6 ns a value. */
    #if defined(__AVX__)
    static Py_ssize_t linreg_fours_f64(const double* src, Py_ssize_t stride, Py_ssize_t d,
                                       Py_ssize_t j, Py_ssize_t m, double* dst) {
        Py_ssize_t r;
        for (; j + 4 <= d; j += 4)
            for (r = 0; r < m; r += 4)
                linreg_t4x4_f64(src + j * stride + r, stride, dst + r * d + j, d);
        return j;
    }
    static Py_ssize_t linreg_fours_f32(const float* src, Py_ssize_t stride, Py_ssize_t d,
                                       Py_ssize_t j, Py_ssize_t m, float* dst) {
        Py_ssize_t r;
        for (; j + 4 <= d; j += 4)
            for (r = 0; r < m; r += 4) {
                const float* s = src + j * stride + r;
                __m128 a0 = _mm_loadu_ps(s), a1 = _mm_loadu_ps(s + stride);
                __m128 a2 = _mm_loadu_ps(s + 2 * stride), a3 = _mm_loadu_ps(s + 3 * stride);
                float* o = dst + r * d + j;
                _MM_TRANSPOSE4_PS(a0, a1, a2, a3);
                _mm_storeu_ps(o, a0); _mm_storeu_ps(o + d, a1);
                _mm_storeu_ps(o + 2 * d, a2); _mm_storeu_ps(o + 3 * d, a3);
            }
        return j;
    }
    #endif
    /* The columns j0..d-1 of rows 0..m-1 (after the groups of eight), one at a time. */
    #define LINREG_LAST_COLUMNS(src, stride, d, j0, m, dst) do {                       \\
            Py_ssize_t jj_, rr_;                                                      \\
            for (jj_ = (j0); jj_ < (d); jj_++)                                        \\
                for (rr_ = 0; rr_ < (m); rr_++)                                       \\
                    (dst)[rr_ * (d) + jj_] = (src)[jj_ * (stride) + rr_];             \\
        } while (0)
    static void linreg_transpose_block_f32(const float* src, Py_ssize_t stride,
                                           Py_ssize_t d, Py_ssize_t m, float* dst) {
    #if defined(__AVX__)
        Py_ssize_t whole = m & ~(Py_ssize_t) 15, ahead = LINREG_BLOCK_AHEAD * 16, j = 0, r, c;
        for (; j + 8 <= d; j += 8) {
            const float* s = src + j * stride;
            for (r = 0; r < whole; r += 16) {
                if (r + ahead < m)
                    for (c = 0; c < 8; c++) LINREG_PREFETCH(s + c * stride + r + ahead);
                linreg_t8x8_f32(s + r, stride, dst + r * d + j, d);
                linreg_t8x8_f32(s + r + 8, stride, dst + (r + 8) * d + j, d);
            }
        }
        j = linreg_fours_f32(src, stride, d, j, whole, dst);
        LINREG_LAST_COLUMNS(src, stride, d, j, whole, dst);
        if (whole < m)
            linreg_transpose_f32(src + whole, stride, d, m - whole, dst + whole * d);
    #else
        linreg_transpose_f32(src, stride, d, m, dst);
    #endif
    }
    static void linreg_transpose_block_f64(const double* src, Py_ssize_t stride,
                                           Py_ssize_t d, Py_ssize_t m, double* dst) {
    #if defined(__AVX__)
        Py_ssize_t whole = m & ~(Py_ssize_t) 7, ahead = LINREG_BLOCK_AHEAD * 8, j = 0, r, c;
        for (; j + 8 <= d; j += 8) {
            const double* s = src + j * stride;
            for (r = 0; r < whole; r += 8) {
                if (r + ahead < m)
                    for (c = 0; c < 8; c++) LINREG_PREFETCH(s + c * stride + r + ahead);
                linreg_t4x4_f64(s + r, stride, dst + r * d + j, d);
                linreg_t4x4_f64(s + 4 * stride + r, stride, dst + r * d + j + 4, d);
                linreg_t4x4_f64(s + r + 4, stride, dst + (r + 4) * d + j, d);
                linreg_t4x4_f64(s + 4 * stride + r + 4, stride, dst + (r + 4) * d + j + 4, d);
            }
        }
        j = linreg_fours_f64(src, stride, d, j, whole, dst);
        LINREG_LAST_COLUMNS(src, stride, d, j, whole, dst);
        if (whole < m)
            linreg_transpose_f64(src + whole, stride, d, m - whole, dst + whole * d);
    #else
        linreg_transpose_f64(src, stride, d, m, dst);
    #endif
    }
    """
    void linreg_transpose_block_f64(const double* src, Py_ssize_t stride, Py_ssize_t d,
                                    Py_ssize_t m, double* dst) noexcept nogil
    void linreg_transpose_block_f32(const float* src, Py_ssize_t stride, Py_ssize_t d,
                                    Py_ssize_t m, float* dst) noexcept nogil
    void linreg_transpose_f64(const double* src, Py_ssize_t stride, Py_ssize_t d,
                              Py_ssize_t m, double* dst) noexcept nogil
    void linreg_transpose_f32(const float* src, Py_ssize_t stride, Py_ssize_t d,
                              Py_ssize_t m, float* dst) noexcept nogil


cdef enum:
    # Rows of a shuffled order asked for ahead of the one being copied.
    GATHER_AHEAD = 8
    # Chunks of a natural order whose lines are asked for ahead of the one being copied.
    STREAM_AHEAD = 4


cdef struct RowCopies:
    # The rows of a Fortran-ordered X that a pass over it visits next, in C order: a ring
    # of `capacity` rows, position p of the pass in row p % capacity.
    void* rows               # (capacity, d) in X's dtype
    Py_ssize_t capacity      # a power of two, at least ahead + chunk + 4
    Py_ssize_t chunk         # rows copied at a time (a cache line of each column)
    Py_ssize_t ahead         # how far ahead of the row being read rows are copied
    Py_ssize_t copied        # positions 0..copied-1 of the pass are copied (the last
                             # `capacity` of them are held)
    Py_ssize_t pass_length   # positions in the pass: rows beyond it are never copied


cdef int _row_copies_alloc(RowCopies* copies, Py_ssize_t d, Py_ssize_t itemsize) except -1:
    copies.chunk = 64 // itemsize
    copies.ahead = 2 * copies.chunk
    copies.capacity = 4 * copies.chunk
    copies.rows = malloc(copies.capacity * d * itemsize)
    if copies.rows == NULL:
        raise MemoryError()
    copies.copied = copies.pass_length = 0
    return 0


cdef inline void _start_pass(RowCopies* copies, Py_ssize_t pass_length) noexcept nogil:
    """A new pass (a new order, or the same rows again): nothing copied for it yet."""
    if copies != NULL:
        copies.copied = 0
        copies.pass_length = pass_length


cdef inline void _prefetch_column_values(
    const floating[:, ::1] Xt, Py_ssize_t i,
) noexcept nogil:
    """Ask for row i of X = Xt.T: one cache line per column."""
    cdef Py_ssize_t j
    for j in range(Xt.shape[0]):
        LINREG_PREFETCH(&Xt[j, i])


cdef void _copy_ahead(
    const floating[:, ::1] Xt, const Py_ssize_t* rows, Py_ssize_t t, RowCopies* copies,
) noexcept nogil:
    """Copy the rows of the pass (rows[p]; NULL: p) of X = Xt.T at the positions p up to
    t + copies.ahead (a chunk at a time) into the ring, unless the pass ends first."""
    cdef Py_ssize_t d = Xt.shape[0], mask = copies.capacity - 1, p, stop, r, j, i
    cdef floating* out = <floating*> copies.rows
    cdef floating* row
    cdef const floating* col
    while copies.copied <= t + copies.ahead and copies.copied < copies.pass_length:
        p = copies.copied
        stop = p + copies.chunk if p + copies.chunk < copies.pass_length else copies.pass_length
        row = out + (p & mask) * d  # the chunk's rows are consecutive in the ring
        if rows == NULL:
            # A cache line of each column: d streams too many for the hardware's
            # prefetcher to follow, so the lines some chunks on are asked for.
            if p + STREAM_AHEAD * copies.chunk < copies.pass_length:
                for j in range(d):
                    LINREG_PREFETCH(&Xt[j, p + STREAM_AHEAD * copies.chunk])
            if floating is double:
                linreg_transpose_f64(&Xt[0, p], Xt.shape[1], d, stop - p, row)
            else:
                linreg_transpose_f32(&Xt[0, p], Xt.shape[1], d, stop - p, row)
        else:
            for r in range(stop - p):
                if r + p + GATHER_AHEAD < copies.pass_length:
                    _prefetch_column_values(Xt, rows[p + r + GATHER_AHEAD])
                i = rows[p + r]
                for j in range(d):
                    row[r * d + j] = Xt[j, i]
        copies.copied = stop


cdef inline const floating* _copied_row(
    const floating[:, ::1] Xt, const Py_ssize_t* rows, Py_ssize_t t, RowCopies* copies,
) noexcept nogil:
    """The copy of the row at position t of the pass, copying ahead when due."""
    if t + copies.ahead >= copies.copied:
        _copy_ahead(Xt, rows, t, copies)
    return <const floating*> copies.rows + (t & (copies.capacity - 1)) * Xt.shape[0]


cdef inline const floating* _sample_row(
    const floating[:, ::1] X, const floating[:, :] Y, const Py_ssize_t* rows, Py_ssize_t t,
    Py_ssize_t m, Py_ssize_t d, RowCopies* copies,
) noexcept nogil:
    """The row at position t of a pass over rows[:m] (NULL: 0..m-1) of the per-sample
    loops: &X[row, 0], asking for the row PREFETCH_AHEAD positions on in a shuffled order
    (a cache miss the hardware cannot predict); or, when `copies` is not NULL (X is then
    the transpose of a Fortran-ordered array), the row's copy."""
    if rows != NULL and t + PREFETCH_AHEAD < m:
        LINREG_PREFETCH(&Y[rows[t + PREFETCH_AHEAD], 0])
        if copies == NULL:
            _prefetch_row(&X[rows[t + PREFETCH_AHEAD], 0], d * sizeof(floating))
    if copies == NULL:
        return &X[rows[t] if rows != NULL else t, 0]
    return _copied_row(X, rows, t, copies)
