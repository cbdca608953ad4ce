"""NumPy's BLAS under the kernels' thread policy (linreg._blas.judged_blas_threads), as
the Gram pass uses it: BLAS gets the threads a pass of the same work would get, and a
block whose threads lost sends that work to one thread. No timing: the decisions are
read through the build's test hooks and OpenBLAS's per-thread count."""
import os
import time

import numpy as np
import pytest

from linreg import _blas, kernels

pytestmark = pytest.mark.skipif(not _blas.can_set_blas_threads(),
                                reason="NumPy's BLAS is not an OpenBLAS >= 0.3.27")

BIG = (1 << 12, 1 << 12)  # the work of a pass over 2**24 elements: threaded



def _local_blas_threads():
    set_local = _blas._find()[0]
    current = set_local(1)
    set_local(current)
    return current


def test_blas_gets_the_threads_the_policy_gives(policy, two_blas_threads):
    with _blas.judged_blas_threads(*BIG, 2):
        assert _local_blas_threads() == 2
    with _blas.judged_blas_threads(1 << 10, 1 << 5, 2):  # 2**15 elements: too small
        assert _local_blas_threads() == 1
    policy("hold", len(os.sched_getaffinity(0)) - 1)  # a pass holds cores
    try:
        with _blas.judged_blas_threads(*BIG, 2):
            assert _local_blas_threads() == 1
    finally:
        policy("leave", len(os.sched_getaffinity(0)) - 1)
    assert policy("state")[0] == 0  # every core given back


def test_a_block_whose_threads_lost_sends_its_work_to_one_thread(policy, two_blas_threads):
    # Wall time far above the CPU time spent: the threads waited (a busy core).
    with _blas.judged_blas_threads(*BIG, 2):
        assert _local_blas_threads() == 2
        time.sleep(0.02)
    _, solo = policy("state")
    assert max(solo) > 0
    with _blas.judged_blas_threads(*BIG, 2):
        assert _local_blas_threads() == 1


def test_the_gram_pass_backs_off_and_keeps_its_bits(policy, two_blas_threads):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20_000, 300))
    y = X @ rng.standard_normal(300)
    free = kernels.gram_statistics(X, y, n_threads=2)
    cores = len(os.sched_getaffinity(0))
    policy("hold", cores - 1)  # another pass holds the other cores: BLAS gets one thread
    try:
        backed_off = kernels.gram_statistics(X, y, n_threads=2)
    finally:
        policy("leave", cores - 1)
    np.testing.assert_array_equal(free.XtX, backed_off.XtX)
    np.testing.assert_array_equal(free.XtY, backed_off.XtY)
