"""The Gram statistics' BLAS path keeps its bits on any thread count, where OpenBLAS's
threads do not: its ssyrk (float32 blocks of d + k >= 32 columns; dsyrk keeps them)
changes the order of its sums with the partition among threads."""
import numpy as np
import pytest

from linreg import _blas, _gram, kernels

pytestmark = pytest.mark.skipif(not _blas.can_set_blas_threads(),
                                reason="NumPy's BLAS is not an OpenBLAS >= 0.3.27")


def statistics_on(n_threads, policy, X, Y):
    policy("reset")  # no backoff from an earlier pass: n_threads=2 gets two threads
    return kernels.gram_statistics(X, Y, n_threads=n_threads)


@pytest.mark.parametrize("d, k", [(40, 1), (64, 3)])
def test_float32_blas_path_statistics_do_not_depend_on_the_thread_count(
        policy, two_blas_threads, d, k):
    rng = np.random.default_rng(d)
    X = rng.standard_normal((20_000, d)).astype(np.float32)
    Y = (X @ rng.standard_normal((d, k)) + rng.standard_normal((20_000, k))).astype(np.float32)
    one, two = statistics_on(1, policy, X, Y), statistics_on(2, policy, X, Y)
    for name in ("mean_X", "mean_Y", "XtX", "XtY", "ref_W", "ref_grad"):
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name), err_msg=name)
    assert one.yy == two.yy
    assert one.ref_sse == two.ref_sse


def test_the_exact_residual_sum_does_not_depend_on_the_thread_count(two_blas_threads):
    # Near-exact fits take the reference point's residual sum from the rows, block by
    # block through BLAS: its sum of squares went through OpenBLAS's ddot, which splits
    # long sums among its threads (different bits on 1 and 2 threads).
    rng = np.random.default_rng(3)
    X = rng.standard_normal((20_000, 64))
    Y = rng.standard_normal((20_000, 3))
    a = rng.standard_normal((64, 3))
    sums = [_gram._centred_residual_sum(X, Y, X.mean(axis=0), Y.mean(axis=0), a, threads, None)
            for threads in (1, 2)]
    assert sums[0] == sums[1]
