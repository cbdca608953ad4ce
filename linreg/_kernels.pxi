# Compiled kernels of linreg. Unchecked: call them through `linreg.kernels`.
#
# This file is included by `_kernels_generic.pyx` (any x86-64 / any CPU) and
# `_kernels_avx2.pyx` (built with -mavx2 -mfma); `linreg.kernels` picks one at import.
#
# Design
# ------
# The model is Y ~ X W + b with X (n, d), Y (n, k), W (d, k), b (k,), and the loss is the
# mean over all n*k entries of R**2 with R = X W + b - Y (PyTorch's mean((pred - y)**2)).
# Its gradients are dW = 2/(n k) X^T R and db = 2/(n k) sum_i R_i.
#
# Everything is built on one primitive, `_accumulate_rows`: for a run of rows of X it
# computes the residuals and adds r_i x_i into a gradient accumulator, so X is read from
# memory exactly once per pass. Rows are taken four at a time: the four dot products run
# side by side (their latencies overlap instead of chaining), and the four rank-one
# updates of the gradient are summed before they touch the accumulator, so it is loaded
# and stored once per four rows. The four rows stay in L1 between the two uses.
#
# Precision: every sum over rows (gradient, loss) is accumulated in double, for both
# dtypes, so its error does not grow with n. For float32 data the products and short
# sums (a row's dot product in runs of at most F32_CHUNK terms, the gradient terms of
# four rows) stay in float32: converting every element of X to double twice would make
# the kernel compute-bound at well below the speed of reading X.
#
# W is copied into transposed buffers WT (k, d) in double and WT32 in float32, so that
# each output's dot product runs over contiguous memory; gradients go into a double
# buffer GT (k, d). All are d*k small and live in a `_Work` struct allocated per call.
#
# Threads: a pass over all rows is cut into chunks fixed by the problem's size alone,
# each summing into its own cache-line-aligned buffer, added up in chunk order; so any
# thread count gives the same bits (see MIN_CHUNK_ROWS, _pass_over_rows).
#
# The training loops (`gd_epochs`, `gd_epochs_gram`, `sgd_epochs`) live here so that no
# Python runs per epoch or per sample. They never leave non-finite parameters behind: a
# GD or mini-batch step whose loss or new parameters are not finite is not applied, and
# a per-sample SGD epoch that ends non-finite is rolled back to its start; both are
# reported to the caller, which raises.
#
# All argument checking (shapes, dtypes, contiguity, index bounds) is done by the Python
# layer in `linreg.kernels`; here bounds checks are off and the GIL is released.

from cython cimport floating
from cython.parallel cimport prange
from libc.float cimport DBL_MAX, FLT_MAX
from libc.math cimport INFINITY, fabs, isfinite
from libc.stdint cimport uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memset

cdef extern from *:
    """
    static int linreg_cpu_has_avx2_fma(void) {
    #if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    #else
        return 0;
    #endif
    }
    """
    int linreg_cpu_has_avx2_fma() noexcept nogil

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    static int linreg_max_threads(void) { return omp_get_max_threads(); }
    static int linreg_has_openmp(void) { return 1; }
    #else
    static int linreg_max_threads(void) { return 1; }
    static int linreg_has_openmp(void) { return 0; }
    #endif
    /* After a threaded kernel, libgomp's idle workers spin for a while waiting for more
       work, and slow whatever the process runs next (a BLAS call took 1.8x as long).
       omp_pause_resource_all(omp_pause_soft) lets them go. libgomp pauses only the
       calling thread's pool, so this is safe while other Python threads run their own
       kernels; other runtimes may pause the whole process, so it is libgomp only. */
    #if defined(_OPENMP) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 10
    static int linreg_release_threads(void) { return omp_pause_resource_all(omp_pause_soft); }
    #else
    static int linreg_release_threads(void) { return 0; }
    #endif
    """
    int linreg_max_threads() noexcept nogil
    int linreg_has_openmp() noexcept nogil
    int linreg_release_threads() noexcept nogil

cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define LINREG_PREFETCH(p) __builtin_prefetch(p)
    #else
    #define LINREG_PREFETCH(p) ((void)0)
    #endif
    """
    void LINREG_PREFETCH(const void* p) noexcept nogil

cdef enum:
    # Longest run of float32 products summed in float32 before the sum moves to double.
    F32_CHUNK = 32
    # How many samples ahead SGD prefetches the rows of a shuffled order: a row fetched
    # from memory takes about as long as this many per-sample updates of a small model.
    PREFETCH_AHEAD = 4
    # Passes over all rows are cut into chunks that threads share. The chunking depends
    # only on the problem's size, never on the thread count, and each chunk sums into its
    # own buffer, reduced in chunk order: results are the same for any n_threads.
    MIN_CHUNK_ROWS = 8192
    MAX_CHUNKS = 256
    MAX_CHUNK_BUFFER_DOUBLES = 1 << 22  # 32 MB of partial sums at most
    MIN_PARALLEL_ELEMENTS = 1 << 20  # about a millisecond of work for one thread


cdef inline int _threads_for(Py_ssize_t n_rows, Py_ssize_t n_cols, int n_threads) noexcept nogil:
    """n_threads for a pass over at least MIN_PARALLEL_ELEMENTS elements, else 1.

    Waking OpenMP's workers (released after every call, see linreg_release_threads)
    costs about 70 us, more than a small pass gains. The chunks, and so the results,
    are the same either way.
    """
    return n_threads if n_rows * n_cols >= MIN_PARALLEL_ELEMENTS else 1


cdef inline void _release_threads(Py_ssize_t n_chunks, int n_threads) noexcept nogil:
    """Let OpenMP's workers sleep now, if this call used any (see linreg_release_threads)."""
    if n_chunks > 1 and n_threads > 1:
        linreg_release_threads()


cdef Py_ssize_t _n_chunks(
    Py_ssize_t n_rows, Py_ssize_t n_cols, Py_ssize_t doubles_per_chunk
) noexcept nogil:
    """How many chunks a pass over an (n_rows, n_cols) array is cut into.

    The partial sums (doubles_per_chunk each) stay below 32 MB and below 1/8 byte per
    element of the array, i.e. about 3% of a float32 X: fitting allocates no X-sized
    memory.
    """
    cdef Py_ssize_t c = n_rows // MIN_CHUNK_ROWS
    if c > MAX_CHUNKS:
        c = MAX_CHUNKS
    if c > MAX_CHUNK_BUFFER_DOUBLES // doubles_per_chunk:
        c = MAX_CHUNK_BUFFER_DOUBLES // doubles_per_chunk
    if c > n_rows * n_cols // (64 * doubles_per_chunk):
        c = n_rows * n_cols // (64 * doubles_per_chunk)
    return c if c > 1 else 1


cdef inline void _prefetch_row(const void* row, Py_ssize_t n_bytes) noexcept nogil:
    cdef const char* p = <const char*> row
    cdef Py_ssize_t offset
    for offset in range(0, n_bytes, 64):
        LINREG_PREFETCH(p + offset)


def openmp_max_threads():
    """OpenMP's default team size (OMP_NUM_THREADS or the cores); 1 in a serial build."""
    return linreg_max_threads()


def built_with_openmp():
    """True when these kernels were compiled with OpenMP."""
    return bool(linreg_has_openmp())


def cpu_has_avx2_fma():
    """True when this CPU (and OS) can run the AVX2+FMA build of these kernels."""
    return bool(linreg_cpu_has_avx2_fma())


cdef struct _Work:
    double* WT   # (k, d): W transposed, in double
    float* WT32  # (k, d): W transposed, in float32 (read for float32 data only)
    double* GT   # (k, d): sum over rows of r_i x_i, transposed
    double* b    # (k,)
    double* gb   # (k,): sum over rows of r_i
    Py_ssize_t n_chunks  # chunks of a pass over all rows (see MIN_CHUNK_ROWS)
    double* chunk_sums   # per chunk: GT (k*d), gb (k), sse (1); NULL for one chunk
    Py_ssize_t chunk_stride  # doubles from one chunk's sums to the next (whole lines)
    void* chunk_block    # what to free for chunk_sums


cdef inline Py_ssize_t _whole_lines(Py_ssize_t n_doubles) noexcept nogil:
    """n_doubles rounded up to whole 64-byte cache lines (8 doubles)."""
    return (n_doubles + 7) // 8 * 8


cdef double* _alloc_lines(Py_ssize_t n_doubles, void** block) noexcept nogil:
    """Room for n_doubles starting on a cache line; free(block[0]) releases it.

    Threads write their chunks' partial sums side by side: if two chunks shared a cache
    line, the line would bounce between the cores on every update (a 2-thread float32
    pass ran slower than 1 thread, depending on where malloc had put the sums).
    """
    block[0] = malloc(n_doubles * sizeof(double) + 64)
    if block[0] == NULL:
        return NULL
    return <double*> ((<size_t> block[0] + 63) & ~(<size_t> 63))


cdef int _work_alloc(_Work* work, Py_ssize_t d, Py_ssize_t k, Py_ssize_t n_rows=0) except -1:
    """Buffers for a problem with d features and k outputs; chunk buffers for n_rows."""
    cdef double* block = <double*> malloc((2 * d * k + 2 * k) * sizeof(double))
    cdef float* block32 = <float*> malloc(d * k * sizeof(float))
    work.chunk_stride = _whole_lines(d * k + k + 1)
    work.n_chunks = _n_chunks(n_rows, d, work.chunk_stride)
    work.chunk_sums = NULL
    work.chunk_block = NULL
    if work.n_chunks > 1:
        work.chunk_sums = _alloc_lines(work.n_chunks * work.chunk_stride, &work.chunk_block)
    if block == NULL or block32 == NULL or (work.n_chunks > 1 and work.chunk_sums == NULL):
        free(block)
        free(block32)
        free(work.chunk_block)
        raise MemoryError()
    work.WT = block
    work.GT = block + d * k
    work.gb = block + 2 * d * k  # right after GT: the two are summed as one run
    work.b = block + 2 * d * k + k
    work.WT32 = block32
    return 0


cdef inline void _work_free(_Work* work) noexcept nogil:
    free(work.WT)
    free(work.WT32)
    free(work.chunk_block)


cdef void _load_params(const floating[:, :] W, const floating[:] b, _Work* work) noexcept nogil:
    cdef Py_ssize_t d = W.shape[0], k = W.shape[1], j, o
    for o in range(k):
        for j in range(d):
            work.WT[o * d + j] = W[j, o]
            work.WT32[o * d + j] = <float> W[j, o]
        work.b[o] = b[o]


cdef inline void _zero_grad(_Work* work, Py_ssize_t d, Py_ssize_t k) noexcept nogil:
    memset(work.GT, 0, d * k * sizeof(double))
    memset(work.gb, 0, k * sizeof(double))


cdef inline const floating* _weights(const floating* x, const _Work* work, Py_ssize_t o, Py_ssize_t d) noexcept nogil:
    """Output o's weights in the dtype of x (whose only role is to pick the dtype)."""
    if floating is float:
        return work.WT32 + o * d
    else:
        return work.WT + o * d


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


cdef double _accumulate_rows(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    const Py_ssize_t* rows,
    Py_ssize_t start,
    Py_ssize_t stop,
    const _Work* work,
    double* GT,
    double* gb,
) noexcept nogil:
    """Add sum_i r_i x_i into GT (k, d) and sum_i r_i into gb (k,); return sum_i |r_i|^2.

    The rows are rows[start:stop] when `rows` is not NULL, else start..stop-1. The
    weights are read from `work`, which is not written, so threads may share it.
    """
    cdef Py_ssize_t d = X.shape[1], k = Y.shape[1]
    cdef Py_ssize_t t = start, j, o, i0, i1, i2, i3
    cdef const floating* x0
    cdef const floating* x1
    cdef const floating* x2
    cdef const floating* x3
    cdef double* g
    cdef double s[4]
    cdef double r0, r1, r2, r3
    cdef double sse = 0.0
    while t + 4 <= stop:
        if rows != NULL:
            i0 = rows[t]; i1 = rows[t + 1]; i2 = rows[t + 2]; i3 = rows[t + 3]
        else:
            i0 = t; i1 = t + 1; i2 = t + 2; i3 = t + 3
        x0 = &X[i0, 0]; x1 = &X[i1, 0]; x2 = &X[i2, 0]; x3 = &X[i3, 0]
        for o in range(k):
            _dot4(x0, x1, x2, x3, _weights(x0, work, o, d), d, s)
            r0 = s[0] + work.b[o] - Y[i0, o]
            r1 = s[1] + work.b[o] - Y[i1, o]
            r2 = s[2] + work.b[o] - Y[i2, o]
            r3 = s[3] + work.b[o] - Y[i3, o]
            sse += (r0 * r0 + r1 * r1) + (r2 * r2 + r3 * r3)
            gb[o] += (r0 + r1) + (r2 + r3)
            _add_rank4(GT + o * d, x0, x1, x2, x3, r0, r1, r2, r3, d)
        t += 4
    while t < stop:
        i0 = rows[t] if rows != NULL else t
        x0 = &X[i0, 0]
        for o in range(k):
            r0 = _dot(x0, _weights(x0, work, o, d), d) + work.b[o] - Y[i0, o]
            sse += r0 * r0
            gb[o] += r0
            g = GT + o * d
            for j in range(d):
                g[j] = g[j] + r0 * x0[j]
        t += 1
    return sse


cdef double _pass_over_rows(
    const floating[:, ::1] X, const floating[:, :] Y, _Work* work, int n_threads
) noexcept nogil:
    """Residual sums over all rows into work.GT and work.gb; returns the SSE.

    With several chunks (large n), threads take chunks; each chunk sums into its own
    buffer and the buffers are added in chunk order, so the thread count does not
    change a single bit of the result.
    """
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], k = Y.shape[1]
    cdef Py_ssize_t n_chunks = work.n_chunks, stride = work.chunk_stride, c, j
    cdef Py_ssize_t at_sse = d * k + k  # GT (d*k), then gb (k), then the SSE
    cdef double* sums
    cdef double sse = 0.0
    _zero_grad(work, d, k)
    if n_chunks == 1:
        return _accumulate_rows(X, Y, NULL, 0, n, work, work.GT, work.gb)
    for c in prange(n_chunks, num_threads=n_threads, schedule="dynamic", nogil=True):
        sums = work.chunk_sums + c * stride
        memset(sums, 0, at_sse * sizeof(double))
        sums[at_sse] = _accumulate_rows(
            X, Y, NULL, c * n // n_chunks, (c + 1) * n // n_chunks, work, sums, sums + d * k
        )
    for c in range(n_chunks):
        sums = work.chunk_sums + c * stride
        for j in range(at_sse):
            work.GT[j] += sums[j]  # GT then gb, laid out alike in both
        sse += sums[at_sse]
    return sse


cdef bint _step_params(
    floating[:, ::1] W, floating[::1] b, double step, _Work* work
) noexcept nogil:
    """W -= step * GT^T, b -= step * gb, but only if every new value is finite.

    The new values, rounded to W's dtype, are left in work.WT, work.WT32 and work.b, so
    the next pass needs no reload. Returns False, leaving W and b untouched, on a
    non-finite value.
    """
    cdef Py_ssize_t d = W.shape[0], k = W.shape[1], j, o
    cdef floating new
    cdef bint finite = True
    for o in range(k):
        for j in range(d):
            new = <floating> (W[j, o] - step * work.GT[o * d + j])
            finite &= isfinite(new)
            work.WT[o * d + j] = new
            work.WT32[o * d + j] = <float> new
        new = <floating> (b[o] - step * work.gb[o])
        finite &= isfinite(new)
        work.b[o] = new
    if not finite:
        return False
    for o in range(k):
        for j in range(d):
            W[j, o] = <floating> work.WT[o * d + j]
        b[o] = <floating> work.b[o]
    return True


cdef bint _should_stop(double loss, double[::1] early_stop) noexcept nogil:
    """The stopping rule, scikit-learn's: stop after n_iter_no_change epochs in a row
    whose loss is not below best_loss - tol.

    early_stop = [tol, n_iter_no_change, best_loss, epochs_without_improvement]; the
    last two are updated in place, so the rule carries across calls.
    """
    if early_stop is None:
        return False
    if loss > early_stop[2] - early_stop[0]:
        early_stop[3] += 1
    else:
        early_stop[3] = 0
    if loss < early_stop[2]:
        early_stop[2] = loss
    return early_stop[3] >= early_stop[1]


cdef inline uint64_t _splitmix64(uint64_t* state) noexcept nogil:
    """Next output of the splitmix64 generator (Steele, Lea and Flood, 2014)."""
    state[0] += <uint64_t> 0x9E3779B97F4A7C15
    cdef uint64_t z = state[0]
    z = (z ^ (z >> 30)) * <uint64_t> 0xBF58476D1CE4E5B9
    z = (z ^ (z >> 27)) * <uint64_t> 0x94D049BB133111EB
    return z ^ (z >> 31)


cdef void _shuffle(Py_ssize_t* order, Py_ssize_t m, uint64_t* state) noexcept nogil:
    """Fisher-Yates shuffle of order[:m] in place. The modulo bias is below m / 2**64."""
    cdef Py_ssize_t i, j, tmp
    for i in range(m - 1, 0, -1):
        j = <Py_ssize_t> (_splitmix64(state) % <uint64_t> (i + 1))
        tmp = order[i]; order[i] = order[j]; order[j] = tmp


def shuffle(Py_ssize_t[::1] order, uint64_t[::1] rng_state):
    """Shuffle `order` in place as `sgd_epochs` does at the start of an epoch."""
    with nogil:
        _shuffle(&order[0], order.shape[0], &rng_state[0])


cdef struct _Snapshots:
    # Where to copy (W, b) after some epochs, so that log lines need no return to Python:
    # row s of `rows` gets W (d*k, in W's C order) then b (k) after the epoch whose
    # 1-based number, counted from `first_epoch`, is the (s+1)-th multiple of `every`.
    double* rows
    Py_ssize_t n_rows
    Py_ssize_t every
    Py_ssize_t first_epoch


cdef inline void _snapshot(
    const floating[:, ::1] W, const floating[::1] b, _Snapshots* snap, Py_ssize_t epoch
) noexcept nogil:
    """Record W, b if 0-based `epoch` (of this call) is a snapshot epoch."""
    cdef Py_ssize_t number = snap.first_epoch + epoch + 1, s, j, o, d, k
    cdef double* row
    if snap.every == 0 or number % snap.every != 0:
        return
    s = number // snap.every - (snap.first_epoch // snap.every) - 1
    if s >= snap.n_rows:
        return
    d = W.shape[0]; k = W.shape[1]
    row = snap.rows + s * (d * k + k)
    for j in range(d):
        for o in range(k):
            row[j * k + o] = W[j, o]
    for o in range(k):
        row[d * k + o] = b[o]


cdef void _snapshots_from(_Snapshots* snap, double[:, ::1] rows, Py_ssize_t every,
                          Py_ssize_t first_epoch):
    snap.rows = &rows[0, 0] if rows is not None and rows.shape[0] > 0 else NULL
    snap.n_rows = rows.shape[0] if snap.rows != NULL else 0
    snap.every = every if snap.rows != NULL else 0
    snap.first_epoch = first_epoch


cdef bint _params_finite(const floating[:, ::1] W, const floating[::1] b) noexcept nogil:
    cdef Py_ssize_t j, o
    cdef bint finite = True
    for j in range(W.shape[0]):
        for o in range(W.shape[1]):
            finite &= isfinite(W[j, o])
    for o in range(b.shape[0]):
        finite &= isfinite(b[o])
    return finite


cdef void _restore_params(floating[:, ::1] W, floating[::1] b, const _Work* work) noexcept nogil:
    """W, b = the values `_load_params` put in work (exact: W's dtype fits in double)."""
    cdef Py_ssize_t d = W.shape[0], k = W.shape[1], j, o
    for o in range(k):
        for j in range(d):
            W[j, o] = <floating> work.WT[o * d + j]
        b[o] = <floating> work.b[o]


def loss_and_grad(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    const floating[:, :] W,
    const floating[:] b,
    floating[:, :] grad_W,
    floating[:] grad_b,
    int n_threads=1,
):
    """Fused forward pass, MSE loss and gradients in one pass over X; see linreg.kernels."""
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], k = Y.shape[1], j, o
    cdef double sse, scale = 2.0 / (<double> n * k)
    cdef _Work work
    _work_alloc(&work, d, k, n)
    n_threads = _threads_for(n, d, n_threads)
    with nogil:
        _load_params(W, b, &work)
        sse = _pass_over_rows(X, Y, &work, n_threads)
        for o in range(k):
            for j in range(d):
                grad_W[j, o] = <floating> (scale * work.GT[o * d + j])
            grad_b[o] = <floating> (scale * work.gb[o])
        _release_threads(work.n_chunks, n_threads)
        _work_free(&work)
    return sse / (<double> n * k)


cdef void _predict_rows(
    const floating[:, ::1] X, floating[:, :] out, const _Work* work, Py_ssize_t start,
    Py_ssize_t stop,
) noexcept nogil:
    cdef Py_ssize_t d = X.shape[1], k = out.shape[1], i = start, o
    cdef const floating* x0
    cdef double s[4]
    while i + 4 <= stop:
        x0 = &X[i, 0]
        for o in range(k):
            _dot4(x0, x0 + d, x0 + 2 * d, x0 + 3 * d, _weights(x0, work, o, d), d, s)
            out[i, o] = <floating> (s[0] + work.b[o])
            out[i + 1, o] = <floating> (s[1] + work.b[o])
            out[i + 2, o] = <floating> (s[2] + work.b[o])
            out[i + 3, o] = <floating> (s[3] + work.b[o])
        i += 4
    while i < stop:
        x0 = &X[i, 0]
        for o in range(k):
            out[i, o] = <floating> (_dot(x0, _weights(x0, work, o, d), d) + work.b[o])
        i += 1


def predict(
    const floating[:, ::1] X,
    const floating[:, :] W,
    const floating[:] b,
    floating[:, :] out,
    int n_threads=1,
):
    """out = X W + b, the same sums as the residuals of `loss_and_grad`; see linreg.kernels."""
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], k = W.shape[1], c, n_chunks
    cdef _Work work
    _work_alloc(&work, d, k)
    n_chunks = _n_chunks(n, d, 1)
    n_threads = _threads_for(n, d, n_threads)
    with nogil:
        _load_params(W, b, &work)
        if n_chunks == 1:
            _predict_rows(X, out, &work, 0, n)
        else:
            for c in prange(n_chunks, num_threads=n_threads, schedule="static"):
                _predict_rows(X, out, &work, c * n // n_chunks, (c + 1) * n // n_chunks)
            _release_threads(n_chunks, n_threads)
        _work_free(&work)


# -- GD from sufficient statistics ------------------------------------------------------
#
# For MSE, a full-batch gradient needs X only through centred statistics: with means
# mu (of X's rows) and ybar (of Y's), Xc = X - mu and Yc = Y - ybar,
#     G = Xc^T Xc (d, d),  C = Xc^T Yc (d, k),  yy = sum |Yc|^2,
# and c0 = W^T mu + b - ybar, the sums a pass over rows produces are
#     sum_i r_i x_i^T = (G W - C) + n mu c0^T,   sum_i r_i = n c0,
#     sum_i |r_i|^2 = tr(W^T (G W - C)) - tr(W^T C) + yy + n |c0|^2,
# (the cross terms vanish because the columns of Xc and Yc sum to zero). So after one
# pass for the statistics, an epoch costs O(d^2 k) instead of O(n d k). Centring keeps
# the statistics small where raw X^T X would be dominated by the means, which is what
# keeps the loss accurate as it approaches zero.


cdef struct _Gram:
    const double* G      # (d, d)
    const double* C      # (d, k)
    const double* mu     # (d,)
    const double* ybar   # (k,)
    double yy
    double n


cdef double _gram_pass(const _Gram* gram, Py_ssize_t d, Py_ssize_t k, _Work* work) noexcept nogil:
    """The sums of `_pass_over_rows`, into work.GT and work.gb, from the statistics."""
    cdef Py_ssize_t j, l, o
    cdef const double* w
    cdef const double* g_row
    cdef double c0, e, wE, wC, dot, sse = gram.yy
    for o in range(k):
        w = work.WT + o * d
        c0 = work.b[o] - gram.ybar[o]
        for j in range(d):
            c0 += gram.mu[j] * w[j]
        work.gb[o] = gram.n * c0
        wE = 0.0
        wC = 0.0
        for j in range(d):
            g_row = gram.G + j * d
            dot = 0.0
            for l in range(d):
                dot = dot + g_row[l] * w[l]
            e = dot - gram.C[j * k + o]
            work.GT[o * d + j] = e + gram.n * gram.mu[j] * c0
            wE += w[j] * e
            wC += w[j] * gram.C[j * k + o]
        sse += (wE - wC) + gram.n * c0 * c0
    return sse


cdef void _gram_rows(
    const floating[:, ::1] X, const floating[:, :] Y, const double* mu, const double* ybar,
    Py_ssize_t start, Py_ssize_t stop, double* G, double* C, double* yy, double* xc,
) noexcept nogil:
    """Add the centred rows start..stop-1 into G's lower triangle, C and yy.

    `xc` is scratch for 4 centred rows (4 d doubles) and 4 centred targets (4 k).
    """
    cdef Py_ssize_t d = X.shape[1], k = Y.shape[1], i = start, j, l, o, r, n_r
    cdef double* yc = xc + 4 * d
    cdef double a0, a1, a2, a3
    cdef double* g
    while i < stop:
        n_r = 4 if i + 4 <= stop else 1
        for r in range(n_r):
            for j in range(d):
                xc[r * d + j] = X[i + r, j] - mu[j]
            for o in range(k):
                yc[r * k + o] = Y[i + r, o] - ybar[o]
                yy[0] += yc[r * k + o] * yc[r * k + o]
        if n_r == 4:
            for j in range(d):
                a0 = xc[j]; a1 = xc[d + j]; a2 = xc[2 * d + j]; a3 = xc[3 * d + j]
                g = G + j * d
                for l in range(j + 1):
                    g[l] = g[l] + ((a0 * xc[l] + a1 * xc[d + l]) + (a2 * xc[2 * d + l] + a3 * xc[3 * d + l]))
                for o in range(k):
                    C[j * k + o] += (a0 * yc[o] + a1 * yc[k + o]) + (a2 * yc[2 * k + o] + a3 * yc[3 * k + o])
        else:
            for j in range(d):
                a0 = xc[j]
                g = G + j * d
                for l in range(j + 1):
                    g[l] = g[l] + a0 * xc[l]
                for o in range(k):
                    C[j * k + o] += a0 * yc[o]
        i += n_r


def gram_statistics(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    double[::1] mean_X,
    double[::1] mean_Y,
    double[:, ::1] XtX,
    double[:, ::1] XtY,
    int n_threads=1,
):
    """Centred statistics of (X, Y) for `gd_epochs_gram`, in double; returns yy.

    Two passes over X: the means, then the centred products (lower triangle, mirrored).
    Chunked like `_pass_over_rows`, so the thread count does not change the result.
    """
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], k = Y.shape[1], c, i, j, o, start, stop
    # Per chunk, on whole cache lines (see _alloc_lines): sums of X's and Y's columns;
    # G (d*d), C (d*k) and yy; scratch for four centred rows.
    cdef Py_ssize_t stride_means = _whole_lines(d + k), at_yy = d * d + d * k
    cdef Py_ssize_t stride = _whole_lines(at_yy + 1), stride_scratch = _whole_lines(4 * (d + k))
    cdef Py_ssize_t n_chunks = _n_chunks(n, d, stride)
    cdef Py_ssize_t n_mean_chunks = _n_chunks(n, d, stride_means)
    cdef void* sums_block = NULL
    cdef void* stats_block = NULL
    cdef void* scratch_block = NULL
    cdef double* sums = _alloc_lines(n_mean_chunks * stride_means, &sums_block)
    cdef double* stats = _alloc_lines(n_chunks * stride, &stats_block)
    cdef double* scratch = _alloc_lines(n_chunks * stride_scratch, &scratch_block)
    cdef double* part
    cdef double yy = 0.0
    if sums == NULL or stats == NULL or scratch == NULL:
        free(sums_block); free(stats_block); free(scratch_block)
        raise MemoryError()
    n_threads = _threads_for(n, d, n_threads)
    with nogil:
        for c in prange(n_mean_chunks, num_threads=n_threads, schedule="static"):
            part = sums + c * stride_means
            memset(part, 0, (d + k) * sizeof(double))
            for i in range(c * n // n_mean_chunks, (c + 1) * n // n_mean_chunks):
                for j in range(d):
                    part[j] += X[i, j]
                for o in range(k):
                    part[d + o] += Y[i, o]
        memset(&mean_X[0], 0, d * sizeof(double))
        memset(&mean_Y[0], 0, k * sizeof(double))
        for c in range(n_mean_chunks):
            for j in range(d):
                mean_X[j] += sums[c * stride_means + j]
            for o in range(k):
                mean_Y[o] += sums[c * stride_means + d + o]
        for j in range(d):
            mean_X[j] /= n
        for o in range(k):
            mean_Y[o] /= n
        for c in prange(n_chunks, num_threads=n_threads, schedule="dynamic"):
            part = stats + c * stride
            memset(part, 0, (at_yy + 1) * sizeof(double))
            _gram_rows(X, Y, &mean_X[0], &mean_Y[0], c * n // n_chunks, (c + 1) * n // n_chunks,
                       part, part + d * d, part + at_yy, scratch + c * stride_scratch)
        memset(&XtX[0, 0], 0, d * d * sizeof(double))
        memset(&XtY[0, 0], 0, d * k * sizeof(double))
        for c in range(n_chunks):
            part = stats + c * stride
            for j in range(d):
                for i in range(j + 1):
                    XtX[j, i] += part[j * d + i]
                for o in range(k):
                    XtY[j, o] += part[d * d + j * k + o]
            yy += part[at_yy]
        for j in range(d):
            for i in range(j):
                XtX[i, j] = XtX[j, i]
        _release_threads(n_chunks if n_chunks > n_mean_chunks else n_mean_chunks, n_threads)
        free(sums_block); free(stats_block); free(scratch_block)
    return yy


cdef Py_ssize_t _gd_loop(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    const _Gram* gram,
    floating[:, ::1] W,
    floating[::1] b,
    double lr,
    double[::1] loss_out,
    double[::1] early_stop,
    _Work* work,
    int n_threads,
    _Snapshots* snap,
) noexcept nogil:
    """The GD epochs: sums from a pass over X, or from `gram` when it is not NULL."""
    cdef Py_ssize_t d = W.shape[0], k = W.shape[1], epoch, completed = 0
    cdef double nk = (gram.n if gram != NULL else <double> X.shape[0]) * k
    cdef double loss, step = lr * 2.0 / nk
    _load_params[floating](W, b, work)
    for epoch in range(loss_out.shape[0]):
        if gram != NULL:
            loss = _gram_pass(gram, d, k, work) / nk
        else:
            loss = _pass_over_rows(X, Y, work, n_threads) / nk
        loss_out[epoch] = loss
        if not isfinite(loss) or not _step_params(W, b, step, work):
            break
        completed = epoch + 1
        _snapshot[floating](W, b, snap, epoch)
        if _should_stop(loss, early_stop):
            break
    return completed


def gd_epochs(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    floating[:, ::1] W,
    floating[::1] b,
    double lr,
    double[::1] loss_out,
    double[::1] early_stop=None,
    int n_threads=1,
    double[:, ::1] snapshots=None,
    Py_ssize_t snapshot_every=0,
    Py_ssize_t first_epoch=0,
):
    """Run up to len(loss_out) full-batch GD epochs in place; see linreg.kernels.

    Returns the number of epochs completed. Fewer than requested means either that the
    stopping rule fired (see `_should_stop`; that epoch's update was applied and counts)
    or that the next epoch diverged: its loss is in loss_out and W, b are as before it.
    `snapshots` (see `_Snapshots`) records W, b every `snapshot_every` epochs.
    """
    cdef Py_ssize_t completed
    cdef _Work work
    cdef _Snapshots snap
    _snapshots_from(&snap, snapshots, snapshot_every, first_epoch)
    _work_alloc(&work, X.shape[1], Y.shape[1], X.shape[0])
    n_threads = _threads_for(X.shape[0], X.shape[1], n_threads)
    with nogil:
        completed = _gd_loop(X, Y, NULL, W, b, lr, loss_out, early_stop, &work, n_threads,
                             &snap)
        _release_threads(work.n_chunks, n_threads)
        _work_free(&work)
    return completed


def gd_epochs_gram(
    const double[:, ::1] XtX,
    const double[:, ::1] XtY,
    const double[::1] mean_X,
    const double[::1] mean_Y,
    double yy,
    Py_ssize_t n_samples,
    floating[:, ::1] W,
    floating[::1] b,
    double lr,
    double[::1] loss_out,
    double[::1] early_stop=None,
    double[:, ::1] snapshots=None,
    Py_ssize_t snapshot_every=0,
    Py_ssize_t first_epoch=0,
):
    """`gd_epochs` from the statistics of `gram_statistics`, O(d^2 k) per epoch."""
    cdef Py_ssize_t completed
    cdef _Gram gram
    cdef _Work work
    cdef _Snapshots snap
    _snapshots_from(&snap, snapshots, snapshot_every, first_epoch)
    gram.G = &XtX[0, 0]
    gram.C = &XtY[0, 0]
    gram.mu = &mean_X[0]
    gram.ybar = &mean_Y[0]
    gram.yy = yy
    gram.n = <double> n_samples
    _work_alloc(&work, W.shape[0], W.shape[1])
    with nogil:
        completed = _gd_loop[floating](None, None, &gram, W, b, lr, loss_out, early_stop, &work, 1,
                                       &snap)
        _work_free(&work)
    return completed


cdef double _sgd_per_sample(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    floating[:, ::1] W,
    floating[::1] b,
    double lr,
    const Py_ssize_t* rows,
    Py_ssize_t m,
    double* r,
) noexcept nogil:
    """One update per sample, in place; returns the summed squared residuals.

    `r` is scratch for k residuals. Returns a non-finite value, without applying that
    update, at the first sample whose residual is not finite.
    """
    cdef Py_ssize_t d = X.shape[1], k = Y.shape[1], t, i, j, o
    cdef const floating* x
    cdef floating* w = &W[0, 0]
    cdef floating* w_row
    cdef floating c_w
    cdef double s, xj, sse = 0.0
    # A sample's loss is the mean over its k outputs, so its gradient carries 2/k.
    cdef double step = 2.0 * lr / k
    for t in range(m):
        i = rows[t] if rows != NULL else t
        x = &X[i, 0]
        # Rows in a shuffled order are cache misses the hardware prefetcher cannot
        # predict; ask for them ahead (natural order needs no help).
        if rows != NULL and t + PREFETCH_AHEAD < m:
            _prefetch_row(&X[rows[t + PREFETCH_AHEAD], 0], d * sizeof(floating))
            LINREG_PREFETCH(&Y[rows[t + PREFETCH_AHEAD], 0])
        if k == 1:
            s = _dot_short_chain(x, w, d) + b[0] - Y[i, 0]
            if not isfinite(s):
                return s
            sse += s * s
            # The update in W's dtype, as PyTorch does: converting W and x to double and
            # back made float32 SGD compute-bound.
            c_w = <floating> (step * s)
            for j in range(d):
                w[j] = w[j] - c_w * x[j]
            b[0] = b[0] - c_w
        else:
            for o in range(k):
                r[o] = b[o] - Y[i, o]
            for j in range(d):
                xj = x[j]
                w_row = w + j * k
                for o in range(k):
                    r[o] = r[o] + xj * w_row[o]
            s = 0.0
            for o in range(k):
                s += r[o] * r[o]
            if not isfinite(s):
                return s
            sse += s
            for o in range(k):
                r[o] = step * r[o]
                b[o] = <floating> (b[o] - r[o])
            for j in range(d):
                xj = x[j]
                w_row = w + j * k
                for o in range(k):
                    w_row[o] = <floating> (w_row[o] - r[o] * xj)
    return sse


cdef double _sgd_mini_batch(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    floating[:, ::1] W,
    floating[::1] b,
    double lr,
    const Py_ssize_t* rows,
    Py_ssize_t m,
    Py_ssize_t batch_size,
    _Work* work,
) noexcept nogil:
    """One update per batch of rows, in place; returns the summed squared residuals."""
    cdef Py_ssize_t d = X.shape[1], k = Y.shape[1], start = 0, stop
    cdef double batch_sse, sse = 0.0
    _load_params[floating](W, b, work)
    while start < m:
        stop = start + batch_size if start + batch_size < m else m
        _zero_grad(work, d, k)
        batch_sse = _accumulate_rows(X, Y, rows, start, stop, work, work.GT, work.gb)
        if not isfinite(batch_sse):
            return batch_sse
        sse += batch_sse
        if not _step_params(W, b, lr * 2.0 / (<double> (stop - start) * k), work):
            return INFINITY
        start = stop
    return sse


cdef double _sgd_pass(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    floating[:, ::1] W,
    floating[::1] b,
    double lr,
    const Py_ssize_t* rows,
    Py_ssize_t m,
    Py_ssize_t batch_size,
    _Work* work,
) noexcept nogil:
    """One SGD epoch over m rows; returns its mean loss (non-finite: diverged).

    On divergence W and b are left finite: per-sample updates are not checked one by
    one (that would cost a second pass over the weights per sample), so the epoch's
    starting point is kept in work.WT / work.b and restored if they ended non-finite.
    """
    cdef double sse
    if batch_size == 1:
        _load_params[floating](W, b, work)
        # work.gb has room for k doubles: the per-sample residuals.
        sse = _sgd_per_sample(X, Y, W, b, lr, rows, m, work.gb)
        if not _params_finite(W, b):
            _restore_params(W, b, work)
            return INFINITY
    else:
        sse = _sgd_mini_batch(X, Y, W, b, lr, rows, m, batch_size, work)
    return sse / (<double> m * Y.shape[1])


def sgd_epoch(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    floating[:, ::1] W,
    floating[::1] b,
    double lr,
    const Py_ssize_t[::1] order,
    Py_ssize_t batch_size,
):
    """One epoch of (mini-batch) SGD in place; returns the epoch's mean loss.

    `order` lists the rows in the order they are used (None: 0..n-1). A non-finite return
    value means the epoch stopped at a non-finite loss, without applying that update.
    """
    cdef Py_ssize_t m = X.shape[0] if order is None else order.shape[0]
    cdef const Py_ssize_t* rows = NULL if order is None else &order[0]
    cdef double loss
    cdef _Work work
    _work_alloc(&work, X.shape[1], Y.shape[1])
    with nogil:
        loss = _sgd_pass(X, Y, W, b, lr, rows, m, batch_size, &work)
        _work_free(&work)
    return loss


def sgd_epochs(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    floating[:, ::1] W,
    floating[::1] b,
    double lr,
    double[::1] loss_out,
    const Py_ssize_t[::1] order,
    Py_ssize_t batch_size,
    uint64_t[::1] rng_state,
    double[::1] early_stop=None,
    double[:, ::1] snapshots=None,
    Py_ssize_t snapshot_every=0,
    Py_ssize_t first_epoch=0,
):
    """Run up to len(loss_out) SGD epochs in place; returns the number completed.

    Each epoch first shuffles `order` in place with the splitmix64 state `rng_state`
    (updated in place) unless rng_state is None, then makes one `sgd_epoch` pass over it
    (order None: natural order, no shuffling). Fewer epochs than requested: the stopping
    rule fired (that epoch counts) or the next epoch diverged (its loss is non-finite in
    loss_out; W, b hold the last finite values).
    """
    cdef Py_ssize_t m = X.shape[0] if order is None else order.shape[0]
    # `order` is const so that a read-only order works without shuffling; with
    # rng_state the caller (linreg.kernels) has checked that it is writable.
    cdef Py_ssize_t* rows = NULL if order is None else <Py_ssize_t*> &order[0]
    cdef uint64_t* state = NULL if rng_state is None else &rng_state[0]
    cdef Py_ssize_t epoch, completed = 0
    cdef double loss
    cdef _Work work
    cdef _Snapshots snap
    _snapshots_from(&snap, snapshots, snapshot_every, first_epoch)
    _work_alloc(&work, X.shape[1], Y.shape[1])
    with nogil:
        for epoch in range(loss_out.shape[0]):
            if state != NULL and rows != NULL:
                _shuffle(rows, m, state)
            loss = _sgd_pass(X, Y, W, b, lr, rows, m, batch_size, &work)
            loss_out[epoch] = loss
            if not isfinite(loss):
                break
            completed = epoch + 1
            _snapshot[floating](W, b, &snap, epoch)
            if _should_stop(loss, early_stop):
                break
        _work_free(&work)
    return completed


def all_finite(const floating[:, ::1] A):
    """True when no entry of the C-contiguous 2-D array A is NaN or infinite."""
    cdef Py_ssize_t n = A.shape[0], d = A.shape[1], i, j
    cdef const floating* a
    cdef floating largest = FLT_MAX if floating is float else DBL_MAX
    cdef int bad = 0
    with nogil:
        for i in range(n):
            a = &A[i, 0]
            # |x| <= largest is false for NaN and +-inf. Unlike x * 0 or x - x, which
            # -fassociative-math lets gcc fold to 0, a comparison cannot be folded away;
            # or-ing it over a row vectorizes, where an early exit per element would not.
            for j in range(d):
                bad |= not (fabs(a[j]) <= largest)
            if bad:
                break
    return not bad
