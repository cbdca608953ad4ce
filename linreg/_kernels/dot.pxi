# Dot products and rank-4 updates: the arithmetic of every pass over rows.
#
# Precision: every sum over rows (gradient, loss) is accumulated in double, for both
# dtypes, so its error does not grow with n. For float32 data the products and short
# sums (a row's dot product in runs of at most F32_CHUNK terms, the gradient terms of
# four rows) stay in float32: converting every element of X to double twice would make
# the kernel compute-bound at well below the speed of reading X. (The d = 8 loop of
# one_output.pxi sums the gradient terms of 8 float32 rows in float32 before promoting
# them, not 4: a short run of rows all the same.)


cdef inline double _dot(const floating* x, const floating* w, Py_ssize_t d) noexcept nogil:
    """sum_j x[j] w[j], in double (float32: in runs of F32_CHUNK float32 terms)."""
    cdef Py_ssize_t j0 = 0, j1, j
    cdef floating part
    cdef double s = 0.0
    while j0 < d:
        j1 = j0 + F32_CHUNK if (floating is float and j0 + F32_CHUNK < d) else d
        part = 0.0
        for j in range(j0, j1):
            part = part + x[j] * w[j]
        s += part
        j0 = j1
    return s


cdef inline double _dot_short_chain(const floating* x, const floating* w, Py_ssize_t d) noexcept nogil:
    """`_dot`, for when its latency is the bottleneck (per-sample SGD, where each dot
    product waits for the previous update): it sums the row's four quarters side by side,
    four dependency chains a quarter as long. In float32 a quarter is a short sum, so
    rows longer than 4 * F32_CHUNK use `_dot`."""
    if floating is float and d > 4 * F32_CHUNK:
        return _dot(x, w, d)
    cdef Py_ssize_t q = d // 4, j
    cdef floating s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    for j in range(q):
        s0 = s0 + x[j] * w[j]
        s1 = s1 + x[q + j] * w[q + j]
        s2 = s2 + x[2 * q + j] * w[2 * q + j]
        s3 = s3 + x[3 * q + j] * w[3 * q + j]
    for j in range(4 * q, d):
        s0 = s0 + x[j] * w[j]
    return (<double> s0 + <double> s1) + (<double> s2 + <double> s3)


cdef enum:
    # The pass over rows prefetches the rows it will read a few groups of four rows
    # ahead (see `_ahead_of`): at least this many bytes ahead of the group it reads...
    PREFETCH_DISTANCE_BYTES = 8192
    # ...for groups of four rows of at least this many bytes, float64 rows of 9 elements
    # (float64 d = 12, 384 B: 0.84x the time without; rows of 5 to 7, 96 to 224 B, took
    # 1.2x the time prefetched; the C loops of one_output.pxi, row_vectors.pxi and
    # short_rows.pxi, which take float32 rows of 1 to 32 and float64 rows of 1 to 16,
    # prefetch their own)
    # and at most this many
    # (the group is read twice, by `_dot4` then by `_add_rank4`, and should stay in L1
    # between the two; longer rows are long streams the hardware follows).
    PREFETCH_MIN_GROUP_BYTES = 288
    # With several outputs, or sample weights (rows.pxi, `_sums_over_rows`): there the
    # work per group leaves the hardware prefetcher more time (k = 8, float64, d = 16,
    # 512 B: 5% slower prefetching).
    PREFETCH_MIN_GROUP_BYTES_OUTPUTS = 1024
    PREFETCH_MAX_GROUP_BYTES = 32768
    # Longer rows (one output): while `_add_rank4` works from cache, the first this many
    # bytes of each row of the next group are asked for, a running start for the four
    # streams (float64, d = 2048: 1.3x the time of `X @ w` without).
    LONG_ROW_HEAD_BYTES = 4096
    # `_add_rank4` works through the row in blocks of this many columns when it
    # prefetches, one block's share of the prefetches before each block.
    RANK4_BLOCK = 32


cdef inline void _prefetch_span(const char* p, Py_ssize_t start, Py_ssize_t stop) noexcept nogil:
    """Ask for the cache lines of p[start:stop], start a multiple of 64 from p."""
    while start < stop:
        LINREG_PREFETCH(p + start)
        start += 64


cdef inline void _dot4(
    const floating* x0, const floating* x1, const floating* x2, const floating* x3,
    const floating* w, Py_ssize_t d, double* s, const char* ahead,
) noexcept nogil:
    """s[r] = _dot(x_r, w) for four rows in one loop, so the four sums overlap.

    `ahead`, when not NULL, is a run of 4 d elements read later (the rows of a group
    further on): its first half is prefetched as the F32_CHUNK runs go (all at once
    for float64, one run), its second half by `_add_rank4`. Prefetching changes no
    arithmetic: the sums are the same with or without it.
    """
    cdef Py_ssize_t j0 = 0, j1, j, fetched = 0
    cdef floating p0, p1, p2, p3, wj
    s[0] = 0.0; s[1] = 0.0; s[2] = 0.0; s[3] = 0.0
    while j0 < d:
        j1 = j0 + F32_CHUNK if (floating is float and j0 + F32_CHUNK < d) else d
        if ahead != NULL:  # the first half (two rows' worth) of `ahead`, pro rata
            _prefetch_span(ahead, fetched, 2 * j1 * <Py_ssize_t> sizeof(floating))
            fetched = (2 * j1 * <Py_ssize_t> sizeof(floating) + 63) & ~(<Py_ssize_t> 63)
        p0 = 0.0; p1 = 0.0; p2 = 0.0; p3 = 0.0
        for j in range(j0, j1):
            wj = w[j]
            p0 = p0 + x0[j] * wj
            p1 = p1 + x1[j] * wj
            p2 = p2 + x2[j] * wj
            p3 = p3 + x3[j] * wj
        s[0] += p0; s[1] += p1; s[2] += p2; s[3] += p3
        j0 = j1


cdef inline void _add_rank4(
    double* g,
    const floating* x0, const floating* x1, const floating* x2, const floating* x3,
    double r0, double r1, double r2, double r3, Py_ssize_t d, const char* ahead,
) noexcept nogil:
    """g += r0 x0 + r1 x1 + r2 x2 + r3 x3 (float32: the four terms summed in float32).

    `ahead` as in `_dot4`, whose second half is prefetched here, block by block of
    RANK4_BLOCK columns (the sums are the same: each g[j] is its own)."""
    cdef Py_ssize_t j, j0 = 0, j1, fetched = 0
    cdef Py_ssize_t half = 2 * d * <Py_ssize_t> sizeof(floating)
    cdef floating f0 = <floating> r0, f1 = <floating> r1, f2 = <floating> r2, f3 = <floating> r3
    if ahead == NULL:
        for j in range(d):
            g[j] = g[j] + <double> ((f0 * x0[j] + f1 * x1[j]) + (f2 * x2[j] + f3 * x3[j]))
        return
    while j0 < d:
        j1 = j0 + RANK4_BLOCK if j0 + RANK4_BLOCK < d else d
        _prefetch_span(ahead + half, fetched, 2 * j1 * <Py_ssize_t> sizeof(floating))
        fetched = (2 * j1 * <Py_ssize_t> sizeof(floating) + 63) & ~(<Py_ssize_t> 63)
        for j in range(j0, j1):
            g[j] = g[j] + <double> ((f0 * x0[j] + f1 * x1[j]) + (f2 * x2[j] + f3 * x3[j]))
        j0 = j1


cdef inline void _add_rank4_long_rows(
    double* g,
    const floating* x0, const floating* x1, const floating* x2, const floating* x3,
    double r0, double r1, double r2, double r3, Py_ssize_t d, const char* ahead,
) noexcept nogil:
    """`_add_rank4` for rows too long to prefetch whole (`_sums_one_output`): block by
    block, it asks for the first LONG_ROW_HEAD_BYTES of each of the four rows at `ahead`
    (the next group). A function of its own: `_add_rank4` is inlined into every loop
    compiled with d a constant, where a larger body cost float32 at d = 4 30%."""
    cdef Py_ssize_t j, j0 = 0, j1, fetched = 0, upto
    cdef Py_ssize_t row_bytes = d * <Py_ssize_t> sizeof(floating)
    cdef floating f0 = <floating> r0, f1 = <floating> r1, f2 = <floating> r2, f3 = <floating> r3
    while j0 < d:
        j1 = j0 + RANK4_BLOCK if j0 + RANK4_BLOCK < d else d
        upto = (LONG_ROW_HEAD_BYTES * j1) // d
        _prefetch_span(ahead, fetched, upto)
        _prefetch_span(ahead + row_bytes, fetched, upto)
        _prefetch_span(ahead + 2 * row_bytes, fetched, upto)
        _prefetch_span(ahead + 3 * row_bytes, fetched, upto)
        fetched = (upto + 63) & ~(<Py_ssize_t> 63)
        for j in range(j0, j1):
            g[j] = g[j] + <double> ((f0 * x0[j] + f1 * x1[j]) + (f2 * x2[j] + f3 * x3[j]))
        j0 = j1
