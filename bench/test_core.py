"""Speed of linreg's kernels against linreg.reference (plain NumPy), single-threaded.

Every benchmark first checks that its implementation computes what the reference
computes, so a fast wrong answer cannot win; timings are never asserted.

Targets (the Cython kernels' reason to exist), read from `bench/report.py`'s table:
* loss_and_grad, n = 1e6, d = 32, k = 1: linreg >= 1.5x faster than the reference (which
  reads X twice, X @ W then X.T @ R), and within 1.3x of `X @ w` (one read of X, the
  floor for anything that must look at all of X);
* one per-sample SGD epoch, n = 1e5, d = 32: linreg >= 100x faster than the reference's
  Python loop over samples.
"""
import numpy as np
import pytest

from linreg import kernels, reference

DTYPES = [pytest.param(np.float64, id="float64"), pytest.param(np.float32, id="float32")]

# ---------------------------------------------------------------------------------------
# loss_and_grad: one full pass (loss and both gradients) over a large X
# ---------------------------------------------------------------------------------------

LOSS_N, LOSS_D = 1_000_000, 32


def _reference_loss_and_grad(p):
    grad_W, grad_b = np.empty_like(p.W), np.empty_like(p.b)
    loss = reference.loss_and_grad(p.X, p.Y, p.W, p.b, grad_W, grad_b)
    return loss, grad_W, grad_b


def _loss_and_grad_with(fn):
    """Benchmark maker for an implementation with reference.loss_and_grad's signature."""

    def make(p, want, rtol):
        grad_W, grad_b = np.empty_like(p.W), np.empty_like(p.b)

        def run():
            return fn(p.X, p.Y, p.W, p.b, grad_W, grad_b)

        def check():
            loss = run()
            np.testing.assert_allclose(loss, want[0], rtol=rtol, err_msg="loss")
            np.testing.assert_allclose(grad_W, want[1], rtol=rtol, err_msg="grad_W")
            np.testing.assert_allclose(grad_b, want[2], rtol=rtol, err_msg="grad_b")

        return run, check

    return make


def _matmul_floor(p, want, rtol):
    """X @ w into a preallocated buffer: one read of X, no gradient (the speed floor)."""
    buf = np.empty(p.Y.shape, dtype=p.dtype)

    def run():
        return np.matmul(p.X, p.W, out=buf)

    def check():
        run()
        np.testing.assert_allclose(
            buf, reference.predict(p.X, p.W, np.zeros_like(p.b)), rtol=rtol
        )

    return run, check


LOSS_AND_GRAD_IMPLS = {
    "linreg": _loss_and_grad_with(kernels.loss_and_grad),
    "numpy-reference": _loss_and_grad_with(reference.loss_and_grad),
    "numpy-matmul-floor": _matmul_floor,
}


@pytest.mark.parametrize("impl", list(LOSS_AND_GRAD_IMPLS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_loss_and_grad(benchmark, problem, expected, rtol_for, describe, dtype, impl):
    p = problem(LOSS_N, LOSS_D, 1, dtype)
    want = expected(("loss_and_grad", p.dtype.name, p.n, p.d, p.k),
                    lambda: _reference_loss_and_grad(p))
    run, check = LOSS_AND_GRAD_IMPLS[impl](p, want, rtol_for(p.dtype))
    check()  # before any timing; also warms caches and page tables
    describe(benchmark, work="loss_and_grad", impl=impl, p=p)
    benchmark(run)


# ---------------------------------------------------------------------------------------
# sgd_epoch: one per-sample SGD epoch (batch_size=1, natural order) from W = 0, b = 0
# ---------------------------------------------------------------------------------------

SGD_N, SGD_D, SGD_LR = 100_000, 32, 0.01

# (rounds, warmup_rounds) per implementation: the reference takes ~0.4 s per epoch.
SGD_ROUNDS = {"linreg": (30, 1), "numpy-reference": (3, 0)}
SGD_IMPLS = {"linreg": kernels.sgd_epoch, "numpy-reference": reference.sgd_epoch}


def _sgd_from_zero(fn, p):
    W, b = p.zero_params()
    loss = fn(p.X, p.Y, W, b, SGD_LR)
    return loss, W, b


@pytest.mark.parametrize("impl", list(SGD_IMPLS))
@pytest.mark.parametrize("dtype", [DTYPES[0]])
def test_sgd_epoch(benchmark, problem, expected, rtol_for, describe, dtype, impl):
    p = problem(SGD_N, SGD_D, 1, dtype)
    fn = SGD_IMPLS[impl]
    want = expected(("sgd_epoch", p.dtype.name, p.n, p.d, p.k, SGD_LR),
                    lambda: _sgd_from_zero(reference.sgd_epoch, p))

    got = _sgd_from_zero(fn, p)  # before any timing
    rtol = rtol_for(p.dtype)
    np.testing.assert_allclose(got[0], want[0], rtol=rtol, err_msg="mean loss")
    np.testing.assert_allclose(got[1], want[1], rtol=rtol, err_msg="W")
    np.testing.assert_allclose(got[2], want[2], rtol=rtol, err_msg="b")

    def fresh_params():  # every round trains from the same start: W = 0, b = 0
        W, b = p.zero_params()
        return (p.X, p.Y, W, b, SGD_LR), {}

    rounds, warmup_rounds = SGD_ROUNDS[impl]
    describe(benchmark, work="sgd_epoch", impl=impl, p=p, lr=SGD_LR, batch_size=1,
             rounds=rounds)
    benchmark.pedantic(fn, setup=fresh_params, rounds=rounds, warmup_rounds=warmup_rounds,
                       iterations=1)
