"""The fused epoch with several outputs (issue 14): k in {2, 8, 32}, single-threaded.

One `kernels.loss_and_grad` with Y of shape (n, k) against `X @ W` into a preallocated
(n, k) buffer (numpy-matmul-floor: one read of X, the predictions written, no gradient)
and against linreg.reference.loss_and_grad (X @ W, then X.T @ R). X has 2**23 elements
(n = 2**23 / d rows). linreg and the floor are timed call by call in alternation
(`_harness.interleave`), so that both see the same state of the machine's memory.
Targets: linreg within 1.3x of the floor (speedup column >= 0.77) and at least 1.5x
faster than the reference.

Each row checks its result against the float64 reference before it is timed.
"""
import functools

import numpy as np
import pytest

from _harness.interleave import record_interleaved
from _harness.problems import rtol_for
from _harness.record import Sized, describe
from linreg import kernels, reference

ELEMENTS = 1 << 23
D_VALUES = [4, 16]
K_VALUES = [2, 8, 32]
DTYPES = [pytest.param(np.float64, id="float64"), pytest.param(np.float32, id="float32")]


@functools.lru_cache(maxsize=1)  # the arrays are large: keep only the current ones
def _problem(d, k, dtype):
    rng = np.random.default_rng(100 * d + k)
    n = ELEMENTS // d
    X = rng.standard_normal((n, d)).astype(dtype)
    W_true = rng.standard_normal((d, k))
    Y = (X @ W_true.astype(dtype) + rng.standard_normal((n, k)).astype(dtype)).astype(dtype)
    return (X, Y, (0.5 * W_true).astype(dtype), np.full(k, 0.25, dtype))


def _run(impl, X, Y, W, b):
    """(run, what run's result is checked on) for one contender."""
    if impl == "numpy-matmul-floor":
        out = np.empty_like(Y)
        return (lambda: np.matmul(X, W, out=out)), out
    fn = kernels.loss_and_grad if impl == "linreg" else reference.loss_and_grad
    grad_W, grad_b = np.empty_like(W), np.empty_like(b)
    return (lambda: fn(X, Y, W, b, grad_W, grad_b)), grad_W


#: The contenders of the targets' ratio, timed call by call in alternation.
PAIRED = ("linreg", "numpy-matmul-floor")


@pytest.mark.parametrize("impl", ["linreg", "numpy-matmul-floor", "numpy-reference"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", K_VALUES)
@pytest.mark.parametrize("d", D_VALUES)
def test_multi_output_epoch(benchmark, request, d, k, dtype, impl):
    X, Y, W, b = _problem(d, k, dtype)
    rtol = rtol_for(X.dtype)
    X64, Y64, W64, b64 = (a.astype(np.float64) for a in (X, Y, W, b))
    run, result = _run(impl, X, Y, W, b)
    if impl == "numpy-matmul-floor":
        run()
        want = X64 @ W64
        np.testing.assert_allclose(result, want, rtol=rtol,
                                   atol=rtol * float(np.abs(want).max()))
    else:
        want_W, want_b = np.empty_like(W64), np.empty_like(b64)
        want = reference.loss_and_grad(X64, Y64, W64, b64, want_W, want_b)
        # NumPy's float32 sums over all rows (the reference's) drift by up to 1e-3.
        loose = 100 * rtol if (impl != "linreg" and X.dtype == np.float32) else rtol
        assert run() == pytest.approx(want, rel=loose)
        np.testing.assert_allclose(result, want_W, rtol=loose,
                                   atol=loose * float(np.abs(want_W).max()))
    del X64, Y64
    describe(benchmark, work=f"multi-output-epoch-d{d}-k{k}", impl=impl,
             p=Sized(X.dtype, X.shape[0], d, k), description=(
                 f"One fused epoch with k = {k} outputs at d = {d}: kernels.loss_and_grad "
                 "against X @ W into a preallocated buffer (one read of X, no gradient: "
                 "the floor), the two timed call by call in alternation "
                 "(bench/_harness/interleave.py), and the NumPy reference (X @ W, then "
                 "X.T @ R). 1 thread. Targets: within 1.3x of the floor (speedup >= "
                 "0.77), >= 1.5x faster than the reference."))
    if impl in PAIRED:
        record_interleaved(benchmark, request, ("multi-output-epoch", d, k, X.dtype.name),
                           {name: _run(name, X, Y, W, b)[0] for name in PAIRED}, impl)
    else:
        benchmark(run)
