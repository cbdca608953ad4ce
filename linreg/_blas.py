"""The BLAS that NumPy links, for the Gram statistics: its thread count, per calling thread.

linreg's Gram pass (`linreg._gram`) multiplies blocks of centred rows with NumPy's
matmul, i.e. with the BLAS NumPy was built against (OpenBLAS in NumPy's wheels), which
is 3-8x faster than a compiled loop at d >= 128. That BLAS has its own threads; linreg's
`n_threads` must hold for them too. OpenBLAS >= 0.3.27 has
``openblas_set_num_threads_local``, which sets the count for the calling thread only
(other Python threads, and the process default, are untouched) and returns the previous
one: `blas_threads(n)` uses it, never above the process-wide count (which
threadpoolctl's limits set), and restores it on exit.

Where NumPy's BLAS is not such an OpenBLAS (MKL, Accelerate, an older OpenBLAS), the
count cannot be set without threadpoolctl (not a runtime dependency): BLAS then uses its
own default, which `threadpoolctl.threadpool_limits` limits. The results do not depend
on it either way (see `linreg._gram`). Found once, by looking at the shared libraries
the process has loaded (Linux).

`judged_blas_threads` puts BLAS's threads under the kernels' thread policy: on a busy
machine OpenBLAS's threads, synchronizing on every call, lost to one thread by up to
60x (a Gram fit of 1e6 x 32: 0.2-6.4 s against 0.1 s).
"""
import contextlib
import ctypes
import threading
import time

from linreg import _compiled

__all__ = ["blas_threads", "can_set_blas_threads", "judged_blas_threads", "judged_threads"]

_lock = threading.Lock()
_found = None  # (set_local, get_global) once looked for; (None, None) when absent

# The process-wide getter, under the names OpenBLAS builds give it (NumPy's wheels
# prefix and suffix every symbol: scipy_openblas ... 64_).
_GETTERS = ("openblas_get_num_threads", "scipy_openblas_get_num_threads64_",
            "openblas_get_num_threads64_", "scipy_openblas_get_num_threads")


def _loaded_openblas_paths():
    try:
        with open("/proc/self/maps") as maps:
            fields = [line.split() for line in maps]
    except OSError:  # not Linux: no way to find it without threadpoolctl
        return []
    paths = {f[-1] for f in fields if len(f) >= 6 and "openblas" in f[-1].lower()}
    return sorted(paths)


def _find():
    global _found
    with _lock:
        if _found is not None:
            return _found
        _found = (None, None)
        import numpy  # noqa: F401 - loads NumPy's BLAS, if it is not loaded yet

        for path in _loaded_openblas_paths():
            try:
                lib = ctypes.CDLL(path)
                set_local = lib.openblas_set_num_threads_local
            except (OSError, AttributeError):
                continue
            set_local.argtypes, set_local.restype = [ctypes.c_int], ctypes.c_int
            get_global = None
            for name in _GETTERS:
                get_global = getattr(lib, name, None)
                if get_global is not None:
                    get_global.argtypes, get_global.restype = [], ctypes.c_int
                    break
            _found = (set_local, get_global)
            break
        return _found


def can_set_blas_threads():
    """True when `blas_threads` sets NumPy's BLAS thread count (OpenBLAS >= 0.3.27)."""
    return _find()[0] is not None


@contextlib.contextmanager
def blas_threads(n_threads):
    """Within the block, NumPy's BLAS calls from this thread use at most n_threads
    threads (and no more than the process-wide count); a no-op where that cannot be set.
    """
    set_local, get_global = _find()
    if set_local is None:
        yield
        return
    limit = int(n_threads)
    if get_global is not None:
        limit = min(limit, max(1, int(get_global())))
    previous = set_local(max(1, limit))
    try:
        yield
    finally:
        set_local(previous)


@contextlib.contextmanager
def judged_threads(work_rows, work_cols, n_threads):
    """Yields the threads (at most n_threads) the kernels' thread policy gives, now, a
    pass over a (work_rows, work_cols) array (the same work), for work done outside a
    pass, by several calls (the Gram pass's compiled products, block after block); the
    block's wall and CPU time are then judged as a threaded pass's are."""
    build = _compiled.build
    threads = build.foreign_threads_begin(work_rows, work_cols, max(1, int(n_threads)))
    wall, cpu = time.perf_counter_ns(), time.process_time_ns()
    try:
        yield threads
    finally:
        build.foreign_threads_end(threads, work_rows, work_cols,
                                  time.perf_counter_ns() - wall, time.process_time_ns() - cpu)


@contextlib.contextmanager
def judged_blas_threads(work_rows, work_cols, n_threads):
    """`blas_threads` with the count the kernels' thread policy gives, now, a pass over
    a (work_rows, work_cols) array (the same work), at most n_threads; the block's wall
    and CPU time are then judged as a threaded pass's are, so BLAS's threads back off
    when they lose (a busy core, another pass) and come back when they gain. Where BLAS's
    count cannot be set, BLAS keeps its own (as `blas_threads`)."""
    if not can_set_blas_threads():
        yield
        return
    with judged_threads(work_rows, work_cols, n_threads) as threads, blas_threads(threads):
        yield
