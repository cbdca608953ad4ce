"""Thread pinning of the benchmarks: one BLAS / OpenMP thread on every side unless a
benchmark says otherwise, and the thread counts actually seen (recorded, not assumed).

This module must not import NumPy: `pin_thread_env_vars` has to run before NumPy loads
OpenBLAS (which reads the variables once, when it loads).
"""
import os

from threadpoolctl import threadpool_info

__all__ = ["THREADS", "THREAD_ENV_VARS", "PINNED_THREAD_ENV", "pin_thread_env_vars",
           "blas_threads", "pool_threads"]

#: Threads given to BLAS (and any other thread pool) in every benchmark, on both sides.
THREADS = 1

#: The environment variables that size the native thread pools when a library loads.
THREAD_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

#: Environment of every peer subprocess: all thread pools pinned to THREADS before any
#: library loads (the peer scripts also pin with threadpoolctl, and torch.set_num_threads).
PINNED_THREAD_ENV = {var: str(THREADS) for var in THREAD_ENV_VARS}


def pin_thread_env_vars():
    """Set THREAD_ENV_VARS to THREADS in this process's environment.

    Belt and braces: single-threaded BLAS even before threadpoolctl gets to act. Call it
    before NumPy is imported.
    """
    os.environ.update(PINNED_THREAD_ENV)


def pool_threads(threadpools, api):
    """Largest thread count among threadpoolctl's pools of one user_api (None if none).

    Parameters
    ----------
    threadpools : list of dict
        ``threadpoolctl.threadpool_info()``, of this process or of a peer's.
    api : {"blas", "openmp"}
        The pools' ``user_api``.
    """
    counts = {pool["num_threads"] for pool in threadpools if pool["user_api"] == api}
    return max(counts) if counts else None


def blas_threads():
    """The thread count the BLAS pools of this process have now (None without BLAS)."""
    return pool_threads(threadpool_info(), "blas")
