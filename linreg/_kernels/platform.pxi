# Shims to the C compiler, OpenMP and Python: CPU features, thread counts, prefetching,
# how passes are cut into chunks, and the Ctrl-C check. See README.md in this folder.

from cython.parallel cimport prange
from libc.float cimport DBL_MAX, FLT_MAX
from libc.math cimport INFINITY, NAN, fabs, isfinite, pow, sqrt
from libc.stdint cimport int64_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset

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

cdef extern from "Python.h":
    # Declared here without Cython's `except -1`, so that a pending KeyboardInterrupt
    # stays set for the entry point to raise (see _interrupt_requested).
    int linreg_check_signals "PyErr_CheckSignals" () noexcept
    unsigned long PyThread_get_thread_ident() noexcept nogil

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

# Work (elements of X touched, or multiply-adds) between two looks for Ctrl-C: about
# 50 ms. Looking needs the GIL, which another Python thread may hold for up to its
# switch interval (5 ms), so looking much more often would slow concurrent fits.
cdef int64_t INTERRUPT_CHECK_WORK = 1 << 26

# Signals are delivered to Python's main thread only: kernels running in other threads
# never look (they could not see a Ctrl-C anyway).
import threading as _threading
cdef unsigned long _main_thread_ident = <unsigned long> _threading.main_thread().ident


cdef int _interrupt_requested() noexcept nogil:
    """1 when a signal handler raised (Ctrl-C: KeyboardInterrupt), leaving it pending.

    The caller stops its work, returns to its entry point, which raises the pending
    exception (see _raise_pending). Only Python's main thread looks.
    """
    cdef int raised = 0
    if PyThread_get_thread_ident() != _main_thread_ident:
        return 0
    with gil:
        raised = linreg_check_signals() != 0
    return raised


cdef int _raise_pending() except -1:
    """Propagate the exception left pending by _interrupt_requested."""
    return -1


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
