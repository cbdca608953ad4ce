"""The thread policy (platform.pxi): when a pass uses its threads, and the pool kept
between calls. No timing: the decisions are driven through the build's test hooks."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from linreg import _compiled, kernels

BIG = 2**23  # elements of a pass well above MIN_PARALLEL_ELEMENTS (2**21)



def test_small_passes_run_on_one_thread(policy):
    assert policy("threads_for", 2**21 - 1, 1, 2) == 1
    assert policy("threads_for", 2**21, 1, 2) == 2
    assert policy("threads_for", BIG, 1, 1) == 1


def test_size_classes_double():
    size_class = lambda elements: _compiled.build._thread_policy("size_class", elements, 1)  # noqa: E731
    assert [size_class(2**k) for k in range(20, 28)] == list(range(8))
    assert size_class(2**21 - 1) == 0 and size_class(2**40) == 7


def test_a_pass_that_gained_too_little_sends_its_class_and_smaller_to_one_thread(policy):
    # The threads spent 300 ns of CPU time in chunks, the pass took 1000 ns: one thread
    # alone would have taken ~300 ns, so the threads lost.
    _, solo = policy("judge", 1000, 300, 3)
    assert all(0 < ns <= 50e6 for ns in solo[:4]) and solo[4:] == [0] * 4
    assert policy("threads_for", 2**22, 1, 2) == 1  # class 2
    assert policy("threads_for", 2**24, 1, 2) == 2  # class 4: not judged
    # A second loss in a row doubles the wait.
    _, solo = policy("judge", 1000, 300, 3)
    assert 50e6 < solo[3] <= 100e6
    # A pass of class 1 that gained (2000 ns of work done in 1000 ns) clears class 1
    # and the larger ones, not the smaller.
    _, solo = policy("judge", 1000, 2000, 1)
    assert solo[0] > 0 and solo[1:] == [0] * 7
    assert policy("threads_for", 2**22, 1, 2) == 2
    # ... but remembers: a loss right after waits half the last wait (100 ms) again,
    # not the first 50 ms... twice that quartered: 50 ms.
    _, solo = policy("judge", 1000, 300, 1)
    assert 0 < solo[1] <= 50e6


def test_a_threaded_pass_that_another_pass_overlapped_lost(policy):
    # Two Python threads fitting at once: a pass that took both cores while the other
    # thread's pass had not begun yet, which then ran beside it on one core anyway. Its own
    # threads gained (4 ms of work in 1 ms), but the other pass paid for it.
    threads, (_, solo) = policy("overlap", BIG, 1, 1)
    assert threads == 2
    assert all(0 < ns <= 50e6 for ns in solo[:4]) and solo[4:] == [0] * 4  # class 3
    assert policy("threads_for", BIG, 1, 2) == 1
    # Alone, the same gain keeps threads in use.
    policy("reset")
    threads, (_, solo) = policy("overlap", BIG, 1, 0)
    assert threads == 2 and solo == [0] * 8
    assert policy("threads_for", BIG, 1, 2) == 2
    assert policy("state")[0] == 0  # both passes gave their cores back


def test_the_wait_is_capped():
    build = _compiled.build
    build._thread_policy("reset")
    try:
        for _ in range(12):
            _, solo = build._thread_policy("judge", 1000, 300, 0)
        assert 1e9 < solo[0] <= 2e9
    finally:
        build._thread_policy("reset")


def test_cores_held_by_other_passes_are_not_asked_for(policy):
    cores = os.cpu_count()
    policy("hold", cores - 1)
    try:
        assert policy("threads_for", BIG, 1, cores) == 1
    finally:
        policy("leave", cores - 1)
    assert policy("state")[0] == 0
    assert policy("threads_for", BIG, 1, 64) == min(64, cores)


def test_passes_give_back_their_cores(policy):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2**16, 32))  # 2**21 elements: threaded, several chunks
    y, w, b = X[:, 0].copy(), np.zeros(32), np.zeros(1)
    for n_threads in (1, 2):
        kernels.loss_and_grad(X, y, w, b, np.empty(32), np.empty(1), n_threads=n_threads)
        kernels.gd_epochs(X, y, w.copy(), b.copy(), 0.01, np.empty(3), n_threads=n_threads)
        assert policy("state")[0] == 0


def _in_fresh_python(code, **env):
    environ = {k: v for k, v in os.environ.items()
               if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    environ.update(env)
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=environ,
                         capture_output=True, text=True, check=True, cwd=os.path.dirname(__file__))
    return out.stdout.split()


CHECK_POOL = """
    import os
    from linreg import _compiled
    print(_compiled.build.keep_thread_pool(), "GOMP_SPINCOUNT" in os.environ)
"""


def test_the_pool_is_kept_with_a_short_spin_set_only_while_libgomp_loads():
    assert _in_fresh_python(CHECK_POOL) == ["True", "False"]


def test_a_user_wait_policy_is_respected():
    # The user's own passive policy: kept, their variable untouched.
    assert _in_fresh_python(CHECK_POOL, OMP_WAIT_POLICY="passive") == ["True", "False"]
    # Active (spin until the next work): the workers are let go after every call.
    assert _in_fresh_python(CHECK_POOL, OMP_WAIT_POLICY="active") == ["False", "False"]


def test_libgomp_loaded_before_linreg_keeps_its_default_spin():
    code = """
        import ctypes, ctypes.util, os
        ctypes.CDLL(ctypes.util.find_library("gomp") or "libgomp.so.1")
        from linreg import _compiled
        print(_compiled.build.keep_thread_pool(), "GOMP_SPINCOUNT" in os.environ)
    """
    assert _in_fresh_python(code) == ["False", "False"]


def test_wide_rows_make_several_chunks_so_threads_can_share_them():
    n_chunks = lambda n, d: _compiled.build._thread_policy("n_chunks", n, d, d + 8)  # noqa: E731
    assert n_chunks(8192, 2048) == 8  # 2^24 elements: 2^21 each, not one chunk of 8192 rows
    assert n_chunks(8192, 8) == 1  # narrow rows: still 8192 rows at least
    assert n_chunks(2**20, 32) == 128  # as before: rows decide
