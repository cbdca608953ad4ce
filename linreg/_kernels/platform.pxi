# Shims to the C compiler, OpenMP and Python: CPU features, thread counts, prefetching,
# how passes are cut into chunks, and the Ctrl-C check. See README.md in this folder.

from cython.parallel cimport parallel, prange
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
    /* Every feature the avx512 build is compiled for (setup.py). gcc's and clang's check
       includes the OS's part: a feature counts only if XGETBV shows the OS saves its
       registers (the zmm state, for AVX-512) across context switches. */
    static int linreg_cpu_has_avx512(void) {
    #if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
            && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")
            && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
    #else
        return 0;
    #endif
    }
    """
    int linreg_cpu_has_avx2_fma() noexcept nogil
    int linreg_cpu_has_avx512() noexcept nogil

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
    /* The thread policy's shared state (see _plan_threads). One copy per build module;
       every field is read and written with atomics, as several Python threads may run
       kernels at once. */
    #if defined(__GNUC__) || defined(__clang__)
    #define LINREG_ATOMIC_ADD(p, v) __atomic_add_fetch((p), (v), __ATOMIC_RELAXED)
    #define LINREG_LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
    #define LINREG_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
    #else  /* a torn read only costs one pass its best thread count */
    #define LINREG_ATOMIC_ADD(p, v) (*(p) += (v))
    #define LINREG_LOAD(p) (*(p))
    #define LINREG_STORE(p, v) (*(p) = (v))
    #endif
    static int linreg_threads_in_use = 0;        /* OpenMP threads of passes under way */
    static long long linreg_passes_begun = 0;     /* passes planned so far, any thread count */
    /* Per size class of pass (elements: 2^20, 2^21, ..., 2^27 and more): passes of that
       class run on 1 thread until solo_until; backoff is the last such wait. */
    #define LINREG_SIZE_CLASSES 8
    static long long linreg_solo_until_ns[LINREG_SIZE_CLASSES];
    static long long linreg_backoff_ns[LINREG_SIZE_CLASSES];
    static int linreg_keep_pool = 0;             /* set by linreg._compiled, see below */
    static int linreg_threads_enter(int n) { return LINREG_ATOMIC_ADD(&linreg_threads_in_use, n) - n; }
    static void linreg_threads_leave(int n) { LINREG_ATOMIC_ADD(&linreg_threads_in_use, -n); }
    static int linreg_threads_busy(void) { return LINREG_LOAD(&linreg_threads_in_use); }
    static long long linreg_pass_begins(void) { return LINREG_ATOMIC_ADD(&linreg_passes_begun, 1); }
    static long long linreg_passes_so_far(void) { return LINREG_LOAD(&linreg_passes_begun); }
    static void linreg_add_ns(long long* total, long long ns) { LINREG_ATOMIC_ADD(total, ns); }
    static long long linreg_solo_until(int c) { return LINREG_LOAD(&linreg_solo_until_ns[c]); }
    static long long linreg_backoff(int c) { return LINREG_LOAD(&linreg_backoff_ns[c]); }
    static void linreg_set_solo(int c, long long until, long long backoff) {
        LINREG_STORE(&linreg_solo_until_ns[c], until); LINREG_STORE(&linreg_backoff_ns[c], backoff);
    }
    /* The calling thread's CPU time: what a chunk cost it, not counting the time it was
       descheduled (busy cores), which would make threads look better than they are. */
    #if defined(__linux__) || defined(__APPLE__)
    #include <time.h>
    static long long linreg_cpu_ns(void) {
        struct timespec ts;
        if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
        return (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec;
    }
    #elif defined(_OPENMP)
    static long long linreg_cpu_ns(void) { return (long long) (omp_get_wtime() * 1e9); }
    #else
    static long long linreg_cpu_ns(void) { return 0; }
    #endif
    #ifdef _OPENMP
    static int linreg_cores(void) { return omp_get_num_procs(); }
    static int linreg_thread_id(void) { return omp_get_thread_num(); }
    /* OpenMP's clock (clock_gettime through the vDSO in libgomp: ~20 ns). */
    static long long linreg_now_ns(void) { return (long long) (omp_get_wtime() * 1e9); }
    #else
    static int linreg_cores(void) { return 1; }
    static int linreg_thread_id(void) { return 0; }
    static long long linreg_now_ns(void) { return 0; }
    #endif
    /* Releasing the pool: only where libgomp's workers would otherwise spin long after
       a call (their default, or a user's OMP_WAIT_POLICY=active) and slow whatever the
       process runs next. omp_pause_resource_all(omp_pause_soft) ends them; the next
       threaded call starts new ones (slow to place). linreg._compiled sets a short spin
       (GOMP_SPINCOUNT) before libgomp loads and then keeps the pool (keep_pool = 1).
       libgomp pauses only the calling thread's pool, so this is safe while other Python
       threads run their own kernels; other runtimes may pause the whole process, so it
       is libgomp only. */
    #if defined(_OPENMP) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 10
    static int linreg_release_threads(void) {
        return LINREG_LOAD(&linreg_keep_pool) ? 0 : omp_pause_resource_all(omp_pause_soft);
    }
    #else
    static int linreg_release_threads(void) { return 0; }
    #endif
    static void linreg_set_keep_pool(int keep) { LINREG_STORE(&linreg_keep_pool, keep); }
    static int linreg_get_keep_pool(void) { return LINREG_LOAD(&linreg_keep_pool); }
    /* A child forked after libgomp started its workers has the pool but not its threads:
       a threaded pass there waited for them forever (multiprocessing's default start on
       Linux). The child, marked at the fork, runs every pass on one thread. */
    static int linreg_forked = 0;
    #if defined(__unix__) || defined(__APPLE__)
    #include <pthread.h>
    static void linreg_mark_forked(void) { linreg_forked = 1; }
    static int linreg_watch_forks(void) { return pthread_atfork(NULL, NULL, linreg_mark_forked); }
    #else
    static int linreg_watch_forks(void) { return 0; }
    #endif
    static int linreg_in_forked_child(void) { return linreg_forked; }
    /* Keeping OpenMP's workers off the calling thread's CPU. A worker woken by the
       caller is placed by Linux near its waker: on this VM it started 1.3 ms after the
       pass began (median, C harness; 0.1 ms when kept off), and a 2-thread pass over
       2^22 float64 elements took 1.5-1.8x the time of one thread. Each worker, as it
       leaves a parallel region (not in a chunk: a worker stuck on the caller's CPU may
       get none), sets its own affinity to the CPUs it was allowed, less the caller's
       current one, for its next wake-up; as it enters the next, it is allowed every CPU
       again (linreg_free_cpu). Kept off -1: this worker is never moved. */
    #if defined(__linux__) && defined(_OPENMP)
    #include <sched.h>
    #include <pthread.h>
    #endif
    #if defined(__linux__) && defined(_OPENMP) && defined(CPU_SET) && defined(__GLIBC__)
    static __thread int linreg_kept_off_cpu = -2;  /* -2: not yet read its allowed CPUs */
    static __thread cpu_set_t linreg_allowed_cpus;
    static int linreg_caller_cpu(void) { return sched_getcpu(); }
    static void linreg_keep_off_cpu(int cpu) {
        cpu_set_t mask;
        if (cpu < 0 || cpu >= CPU_SETSIZE || linreg_kept_off_cpu == cpu
                || omp_get_thread_num() == 0)
            return;  /* -3 (freed) never equals a CPU: pinned again */
        if (linreg_kept_off_cpu == -2 && pthread_getaffinity_np(
                pthread_self(), sizeof(cpu_set_t), &linreg_allowed_cpus) != 0) {
            linreg_kept_off_cpu = -1;
            return;
        }
        if (linreg_kept_off_cpu == -1) return;
        linreg_kept_off_cpu = cpu;
        memcpy(&mask, &linreg_allowed_cpus, sizeof(cpu_set_t));
        CPU_CLR(cpu, &mask);
        if (CPU_COUNT(&mask) == 0) mask = linreg_allowed_cpus;  /* only the caller's CPU */
        pthread_setaffinity_np(pthread_self(), sizeof(cpu_set_t), &mask);
    }
    /* While it works, a kept-off worker may run anywhere it was allowed: pinned, it
       shared its one CPU with another Python thread's pass and kept the caller waiting
       (two Python threads fitting at once, 2^22 elements: 1.05-1.08x the 1-thread time,
       0.99-1.00x unpinned, 1.01-1.03x freed so). Kept off again as it leaves. */
    static void linreg_free_cpu(void) {
        if (linreg_kept_off_cpu < 0 || omp_get_thread_num() == 0) return;
        pthread_setaffinity_np(pthread_self(), sizeof(cpu_set_t), &linreg_allowed_cpus);
        linreg_kept_off_cpu = -3;  /* allowed everywhere until kept off again */
    }
    #else
    static int linreg_caller_cpu(void) { return -1; }
    static void linreg_keep_off_cpu(int cpu) { (void) cpu; }
    static void linreg_free_cpu(void) { }
    #endif
    """
    int linreg_max_threads() noexcept nogil
    int linreg_has_openmp() noexcept nogil
    int linreg_release_threads() noexcept nogil
    int linreg_threads_enter(int n) noexcept nogil
    void linreg_threads_leave(int n) noexcept nogil
    int linreg_threads_busy() noexcept nogil
    long long linreg_pass_begins() noexcept nogil
    long long linreg_passes_so_far() noexcept nogil
    long long linreg_solo_until(int size_class) noexcept nogil
    long long linreg_backoff(int size_class) noexcept nogil
    void linreg_set_solo(int size_class, long long until, long long backoff) noexcept nogil
    long long linreg_cpu_ns() noexcept nogil
    void linreg_add_ns(long long* total, long long ns) noexcept nogil
    int LINREG_SIZE_CLASSES
    int linreg_cores() noexcept nogil
    int linreg_thread_id() noexcept nogil
    long long linreg_now_ns() noexcept nogil
    void linreg_set_keep_pool(int keep) noexcept nogil
    int linreg_get_keep_pool() noexcept nogil
    int linreg_watch_forks() noexcept nogil
    int linreg_in_forked_child() noexcept nogil
    int linreg_caller_cpu() noexcept nogil
    void linreg_keep_off_cpu(int cpu) noexcept nogil
    void linreg_free_cpu() noexcept nogil


linreg_watch_forks()

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
    # ... or 2^21 elements, whichever makes more chunks: at d = 2048 a pass over 8192
    # rows was one chunk, so one thread, at 1.67x the time of a 2-thread X @ w.
    MIN_CHUNK_ELEMENTS = 1 << 21
    MAX_CHUNKS = 256
    MAX_CHUNK_BUFFER_DOUBLES = 1 << 22  # 32 MB of partial sums at most
    # Passes under this many elements run on one thread: at 2^20 (0.4 ms for one thread,
    # float64, d = 32) 2 threads gained nothing back to back (0.99-1.02x the 1-thread
    # time) and lost 1.09-1.19x after 20 ms idle (the worker's wake-up; three runs); at
    # 2^21, 0.82x back to back, 1.09x after idle.
    MIN_PARALLEL_ELEMENTS = 1 << 21

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


# -- The thread policy ---------------------------------------------------------------
#
# A pass over X may use n_threads OpenMP threads; whether it does is decided per pass,
# from three things (README.md, "Threads", says why):
# - its size: under MIN_PARALLEL_ELEMENTS, waking a worker costs more than it gains;
# - the cores other linreg passes of this process hold now (Python threads fitting at
#   once): threads beyond the cores would only wait for each other;
# - how the last threaded passes of its size class (2^20, 2^21, ... elements) went:
#   each threaded pass over rows measures what it gained, the time one thread would have
#   taken (the CPU time its threads spent in chunks) over the pass's wall time. A pass that gained less than THREADS_MUST_GAIN (a worker woken late, on a
#   busy or halted core, or preempted by another process or BLAS's spinning workers)
#   sends its class and the smaller ones to one thread for FIRST_BACKOFF_NS, doubling
#   per loss up to MAX_BACKOFF_NS; a pass that gained lets its class and the larger ones
#   use threads again, and quarters their backoff (a class whose passes win and lose by
#   turns, gains near the threshold, stays mostly on one thread). A threaded pass after
#   a loss is thus a probe, at most one per backoff. A threaded pass during which another
#   pass of this process began (another Python thread's fit, which found no free core and
#   took one anyway) lost too, whatever its own threads gained: its worker and the other
#   pass shared a core, and the other pass paid for it.
# The chunks do not depend on the thread count, so neither do the results.

cdef double THREADS_MUST_GAIN = 1.1
cdef long long FIRST_BACKOFF_NS = 50 * 1000 * 1000
cdef long long MAX_BACKOFF_NS = 2000 * 1000 * 1000


cdef struct ThreadPlan:
    int n_threads            # threads the pass uses
    int size_class           # see _size_class
    long long start_ns       # when it began (threaded passes only)
    long long chunks_cpu_ns  # CPU time the threads spent in chunks, added up
    int caller_cpu           # the CPU the calling thread ran on as the pass began
    long long passes_begun   # linreg_passes_begun, this pass included, as it began


cdef inline int _size_class(Py_ssize_t n_rows, Py_ssize_t n_cols) noexcept nogil:
    """0 for passes under 2^21 elements, 1 under 2^22, ..., LINREG_SIZE_CLASSES - 1 above."""
    cdef int c = 0
    cdef Py_ssize_t elements = (n_rows * n_cols) // <Py_ssize_t> MIN_PARALLEL_ELEMENTS
    while elements > 0 and c < LINREG_SIZE_CLASSES - 1:
        elements //= 2
        c += 1
    return c


cdef inline int _threads_for(Py_ssize_t n_rows, Py_ssize_t n_cols, int n_threads) noexcept nogil:
    """The threads a pass over an (n_rows, n_cols) array may use: n_threads, or fewer
    (see the thread policy above). The chunks, and so the results, are the same either way.
    """
    cdef int free_cores
    if n_threads <= 1 or n_rows * n_cols < MIN_PARALLEL_ELEMENTS or linreg_in_forked_child():
        return 1
    if linreg_now_ns() < linreg_solo_until(_size_class(n_rows, n_cols)):
        return 1
    free_cores = linreg_cores() - linreg_threads_busy()
    if free_cores <= 1:
        return 1
    return n_threads if n_threads < free_cores else free_cores


cdef inline int _plan_threads(
    ThreadPlan* plan, Py_ssize_t n_rows, Py_ssize_t n_cols, Py_ssize_t n_chunks, int n_threads
) noexcept nogil:
    """Decide the threads of one pass (at most n_threads) and hold them until _end_plan."""
    cdef int threads = _threads_for(n_rows, n_cols, n_threads) if n_chunks > 1 else 1
    cdef int before = linreg_threads_enter(threads)
    plan.passes_begun = linreg_pass_begins()
    if threads > 1 and before + threads > linreg_cores():  # another pass took cores meanwhile
        linreg_threads_leave(threads - 1)
        threads = 1
    plan.n_threads = threads
    plan.size_class = _size_class(n_rows, n_cols)
    plan.chunks_cpu_ns = 0
    plan.start_ns = linreg_now_ns() if threads > 1 else 0
    plan.caller_cpu = linreg_caller_cpu() if threads > 1 else -1
    return threads


cdef inline long long _chunk_begin(const ThreadPlan* plan) noexcept nogil:
    """This thread's CPU time as a chunk of a threaded pass starts; else -1."""
    if plan.n_threads > 1:
        return linreg_cpu_ns()
    return -1


cdef inline void _chunk_end(ThreadPlan* plan, long long began) noexcept nogil:
    """Add a chunk's CPU time (CPU time, not wall time: a thread descheduled mid-chunk,
    cores being busy, would make one thread look slower than it is)."""
    if began >= 0:
        linreg_add_ns(&plan.chunks_cpu_ns, linreg_cpu_ns() - began)


cdef void _judge_threads(
    int size_class, long long elapsed_ns, long long chunks_cpu_ns, long long now_ns,
    bint overlapped=False,
) noexcept nogil:
    """Back off to one thread after a threaded pass that gained too little, or that
    overlapped another pass (see the thread policy above); use threads again after one
    that gained. One thread alone would have taken about the CPU time the threads spent
    in chunks (more when threads share memory bandwidth, so a loss found is a real one).
    The calling thread may have done no chunk at all: a worker woken onto its core can
    preempt it and do them all."""
    cdef long long backoff
    cdef int c
    if elapsed_ns <= 0 or chunks_cpu_ns <= 0:
        return
    if overlapped or chunks_cpu_ns < THREADS_MUST_GAIN * elapsed_ns:
        backoff = linreg_backoff(size_class)
        backoff = FIRST_BACKOFF_NS if backoff == 0 else 2 * backoff
        if backoff > MAX_BACKOFF_NS:
            backoff = MAX_BACKOFF_NS
        for c in range(size_class + 1):  # smaller passes would lose more
            if linreg_backoff(c) <= backoff:
                linreg_set_solo(c, now_ns + backoff, backoff)
    else:  # threads from now on, but a loss soon after waits longer than the first
        for c in range(size_class, LINREG_SIZE_CLASSES):
            if linreg_backoff(c) != 0:
                linreg_set_solo(c, 0, linreg_backoff(c) // 4)


cdef inline void _end_plan(ThreadPlan* plan, Py_ssize_t n_chunks) noexcept nogil:
    """Give the pass's threads back and judge what they gained."""
    cdef long long now
    linreg_threads_leave(plan.n_threads)
    if plan.n_threads > 1:
        now = linreg_now_ns()
        _judge_threads(plan.size_class, now - plan.start_ns, plan.chunks_cpu_ns, now,
                       linreg_passes_so_far() != plan.passes_begun)


cdef inline void _release_threads(Py_ssize_t n_chunks, int n_threads) noexcept nogil:
    """Let OpenMP's workers go now, if this call used any and the pool is not kept (see
    linreg_release_threads)."""
    if n_chunks > 1 and n_threads > 1:
        linreg_release_threads()


def foreign_threads_begin(Py_ssize_t n_rows, Py_ssize_t n_cols, int n_threads):
    """The threads (at most n_threads) that work done by another library's threads, as
    much work as a pass over an (n_rows, n_cols) array, may use now by the thread
    policy; they are held as a pass holds them until `foreign_threads_end`. For NumPy's
    BLAS in the Gram pass (linreg._gram), whose results do not depend on its threads."""
    cdef int threads = _threads_for(n_rows, n_cols, n_threads)
    cdef int before = linreg_threads_enter(threads)
    linreg_pass_begins()  # a threaded pass under way meanwhile overlapped this work
    if threads > 1 and before + threads > linreg_cores():  # another pass took cores meanwhile
        linreg_threads_leave(threads - 1)
        threads = 1
    return threads


def foreign_threads_end(int threads, Py_ssize_t n_rows, Py_ssize_t n_cols,
                        long long elapsed_ns, long long cpu_ns):
    """Give back the threads of `foreign_threads_begin` and judge what they gained:
    cpu_ns, the CPU time the process spent on the work, against elapsed_ns, its wall
    time (as `_judge_threads` judges a pass)."""
    linreg_threads_leave(threads)
    if threads > 1:
        _judge_threads(_size_class(n_rows, n_cols), elapsed_ns, cpu_ns, linreg_now_ns())


def keep_thread_pool(keep=None):
    """Whether OpenMP's workers are kept between calls (True) or ended after every
    threaded call (False); sets it when `keep` is given. linreg._compiled keeps them
    when libgomp's workers were told to spin briefly (GOMP_SPINCOUNT) as it loaded."""
    if keep is not None:
        linreg_set_keep_pool(1 if keep else 0)
    return bool(linreg_get_keep_pool())


def _thread_policy(op, Py_ssize_t a=0, Py_ssize_t b=0, int c=0):
    """Test hooks into the thread policy (not public). Returns (threads in use, then per
    size class: the ns from now its passes stay on 1 thread), or what `op` asks:
    ("threads_for", n_rows, n_cols, n_threads): what _threads_for decides;
    ("size_class", n_rows, n_cols): _size_class;
    ("n_chunks", n_rows, n_cols, doubles_per_chunk): _n_chunks;
    ("hold", n) / ("leave", n): take or give back n cores as a pass does;
    ("judge", elapsed_ns, chunks_cpu_ns, size_class): judge, now, a threaded pass;
    ("overlap", n_rows, n_cols, other): plan a pass of 2 threads, plan and end another
    pass meanwhile if `other`, then end the first as a pass of 1 ms whose threads did
    4 ms of work (a gain); returns (its threads, the state);
    ("state",): the state; ("reset",): no backoff in any class."""
    cdef long long now = linreg_now_ns()
    cdef int k
    cdef ThreadPlan plan, meanwhile
    if op == "overlap":
        _plan_threads(&plan, a, b, 2, 2)
        if c:
            _plan_threads(&meanwhile, a, b, 2, 1)
            _end_plan(&meanwhile, 2)
        plan.start_ns = linreg_now_ns() - 1000000
        plan.chunks_cpu_ns = 4000000
        _end_plan(&plan, 2)
        return plan.n_threads, _thread_policy("state")
    if op == "threads_for":
        return _threads_for(a, b, c)
    if op == "size_class":
        return _size_class(a, b)
    if op == "n_chunks":
        return _n_chunks(a, b, c)
    if op == "hold":
        linreg_threads_enter(<int> a)
    elif op == "leave":
        linreg_threads_leave(<int> a)
    elif op == "judge":
        _judge_threads(c, a, b, now)
    elif op == "reset":
        for k in range(LINREG_SIZE_CLASSES):
            linreg_set_solo(k, 0, 0)
    elif op != "state":
        raise ValueError(f"unknown op {op!r}")
    return (linreg_threads_busy(),
            [max(0, linreg_solo_until(k) - now) for k in range(LINREG_SIZE_CLASSES)])


cdef Py_ssize_t _n_chunks(
    Py_ssize_t n_rows, Py_ssize_t n_cols, Py_ssize_t doubles_per_chunk
) noexcept nogil:
    """How many chunks a pass over an (n_rows, n_cols) array is cut into.

    The partial sums (doubles_per_chunk each) stay below 32 MB and below 1/8 byte per
    element of the array, i.e. about 3% of a float32 X: fitting allocates no X-sized
    memory.
    """
    cdef Py_ssize_t c = n_rows // MIN_CHUNK_ROWS
    if c < n_rows * n_cols // MIN_CHUNK_ELEMENTS:  # wide rows: fewer rows make a chunk
        c = n_rows * n_cols // MIN_CHUNK_ELEMENTS
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
