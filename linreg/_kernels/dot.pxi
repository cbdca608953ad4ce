# Dot products and rank-4 updates: the arithmetic of every pass over rows.
#
# Precision: every sum over rows (gradient, loss) is accumulated in double, for both
# dtypes, so its error does not grow with n. For float32 data the products and short
# sums (a row's dot product in runs of at most F32_CHUNK terms, the gradient terms of
# four rows) stay in float32: converting every element of X to double twice would make
# the kernel compute-bound at well below the speed of reading X.


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


cdef inline void _dot4(
    const floating* x0, const floating* x1, const floating* x2, const floating* x3,
    const floating* w, Py_ssize_t d, double* s,
) noexcept nogil:
    """s[r] = _dot(x_r, w) for four rows in one loop, so the four sums overlap."""
    cdef Py_ssize_t j0 = 0, j1, j
    cdef floating p0, p1, p2, p3, wj
    s[0] = 0.0; s[1] = 0.0; s[2] = 0.0; s[3] = 0.0
    while j0 < d:
        j1 = j0 + F32_CHUNK if (floating is float and j0 + F32_CHUNK < d) else d
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
    double r0, double r1, double r2, double r3, Py_ssize_t d,
) noexcept nogil:
    """g += r0 x0 + r1 x1 + r2 x2 + r3 x3 (float32: the four terms summed in float32)."""
    cdef Py_ssize_t j
    cdef floating f0 = <floating> r0, f1 = <floating> r1, f2 = <floating> r2, f3 = <floating> r3
    for j in range(d):
        g[j] = g[j] + <double> ((f0 * x0[j] + f1 * x1[j]) + (f2 * x2[j] + f3 * x3[j]))
