"""The Gram pass against BLAS (issue 14): linreg's statistics for GD "gram" against
NumPy's ``X.T @ X`` plus column sums on the same X.

`kernels.gram_statistics(X, y)` computes more than its peer: the means, the centred
XᵀX, XᵀY and |Yc|², and a reference point near the least-squares solution with its
exact residual sum (one more pass over the rows for float32, or for a near-exact fit).
The peer, numpy-xtx, is the uncentred ``X.T @ X`` (OpenBLAS syrk) and ``X.sum(axis=0)``.
Variants: 1 thread on both sides, and every core on both sides (linreg's n_threads caps
its BLAS calls; the peer's BLAS is set with threadpoolctl). d from 8 to 2048; X has
2**23 elements (2**24 at d = 8), 2**25 at d = 2048 would take seconds per round.
Target: linreg at least as fast (speedup column >= 1.0).

Each row checks its product against a float64 computation first.
"""
import functools

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from _harness.bandwidth import CORES
from _harness.record import Sized, describe
from linreg import kernels

ROWS = {8: 1 << 21, 64: 1 << 17, 512: 1 << 14, 2048: 1 << 12}
DTYPES = [pytest.param(np.float64, id="float64"), pytest.param(np.float32, id="float32")]
THREAD_VARIANTS = {"1-thread": 1, "all-cores": CORES}


@functools.lru_cache(maxsize=1)  # the arrays are large: keep only the current ones
def _problem(d, dtype):
    rng = np.random.default_rng(d)
    X = (rng.standard_normal((ROWS[d], d)) + rng.uniform(-3, 3, d)).astype(dtype)
    # Noise: an exact fit would add a pass over the rows for the reference point's
    # residual sum (float64; float32 always makes it), which a real fit rarely needs.
    y = (X @ rng.standard_normal(d).astype(dtype) + 1.0
         + rng.standard_normal(ROWS[d]).astype(dtype)).astype(dtype)
    X64 = X.astype(np.float64)
    centred = X64 - X64.mean(axis=0)
    return (X, y, centred.T @ centred, X64.T @ X64)


@pytest.mark.parametrize("impl", ["linreg", "numpy-xtx"])
@pytest.mark.parametrize("variant", list(THREAD_VARIANTS))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("d", list(ROWS))
def test_gram_pass(benchmark, d, dtype, variant, impl):
    X, y, centred_xtx, raw_xtx = _problem(d, dtype)
    threads = THREAD_VARIANTS[variant]
    if impl == "linreg":
        def run():
            return kernels.gram_statistics(X, y, n_threads=threads)

        got, want, rtol = run().XtX, centred_xtx, 1e-6 if X.dtype == np.float32 else 1e-10
    else:
        def run():
            return X.T @ X, X.sum(axis=0)

        with threadpool_limits(limits=threads, user_api="blas"):
            got = run()[0]
        # NumPy's float32 product sums every row in float32: its own accuracy.
        want, rtol = raw_xtx, 1e-3 if X.dtype == np.float32 else 1e-10
    assert np.abs(got - want).max() <= rtol * np.abs(want).max()
    describe(benchmark, work=f"gram-pass-d{d}", impl=impl, p=Sized(X.dtype, *X.shape),
             variant=variant, description=(
                 "The Gram statistics of GD 'gram' (kernels.gram_statistics: means, centred "
                 "XᵀX and XᵀY, a reference point and its residual sum) against NumPy's "
                 "X.T @ X plus X.sum(axis=0), 1 thread or every core on both sides. "
                 "Target: linreg at least as fast (speedup >= 1.0)."))
    benchmark.extra_info["threads"] = threads
    with threadpool_limits(limits=threads, user_api="blas"):
        benchmark(run)
