"""Peak extra memory of a call: bytes traced by tracemalloc, and the rise of the peak
resident set size (Linux). Used in the benchmark process (bench/test_training.py) and in
the fresh processes of bench/_harness/fortran_memory.py.
"""
import tracemalloc

__all__ = ["peak_extra_traced_bytes", "peak_rss_extra_bytes"]


def peak_extra_traced_bytes(fn):
    """Peak bytes traced by tracemalloc while fn() runs, above those traced before it.

    tracemalloc sees Python objects and NumPy's array buffers (NumPy reports them to it);
    it does not see a malloc made inside compiled code (linreg's kernels malloc only
    O(d * k) scratch), which is what `peak_rss_extra_bytes` cross-checks.
    """
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        if started:
            tracemalloc.stop()


def _status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def peak_rss_extra_bytes(fn):
    """Linux: rise of the peak resident set size while fn() runs (None elsewhere).

    Writing "5" to /proc/self/clear_refs resets the peak (VmHWM) to the current RSS.
    Recorded for information only: it catches a copy of X however it is allocated (~100%
    of X's bytes), but misses allocations served from memory the allocator already holds
    (after an earlier fit, the 8 MB shuffle order typically is), and moves for reasons of
    its own.
    """
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        before = _status_kib("VmRSS")
    except (OSError, KeyError):
        return None
    fn()
    return (_status_kib("VmHWM") - before) * 1024
