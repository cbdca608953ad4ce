"""Speed of linreg's kernels against linreg.reference (plain NumPy), single-threaded.

Every benchmark first checks that its implementation computes what the reference
computes, so a fast wrong answer cannot win; timings are never asserted.

Targets (the Cython kernels' reason to exist), read from `bench/report.py`'s table:
* loss_and_grad, n = 1e6, d = 32, k = 1: linreg >= 1.5x faster than the reference (which
  reads X twice, X @ W then X.T @ R), and within 1.3x of `X @ w` (one read of X, the
  floor for anything that must look at all of X);
* one per-sample SGD epoch, n = 1e5, d = 32: linreg >= 100x faster than the reference's
  Python loop over samples.

predict (n = 1e6, d = 32) has no target; it shows how close linreg's predict comes to the
floor (`X @ w` into a preallocated buffer, one read of X) and what the estimator's
predict (which allocates and checks its output) adds.
"""
import numpy as np
import pytest

from _harness.problems import rtol_for
from _harness.record import describe
from linreg import GDRegressor, kernels, reference

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
def test_loss_and_grad(benchmark, problem, expected, dtype, impl):
    p = problem(LOSS_N, LOSS_D, 1, dtype)
    want = expected(("loss_and_grad", p.dtype.name, p.n, p.d, p.k),
                    lambda: _reference_loss_and_grad(p))
    run, check = LOSS_AND_GRAD_IMPLS[impl](p, want, rtol_for(p.dtype))
    check()  # before any timing; also warms caches and page tables
    describe(benchmark, work="loss_and_grad", impl=impl, p=p, description=(
        "One fused pass computing the loss and both gradients at a fixed (W, b): "
        "kernels.loss_and_grad vs linreg.reference.loss_and_grad (X @ W, then X.T @ R: "
        "two reads of X). numpy-matmul-floor is `X @ w` alone into a preallocated "
        "buffer: one read of X and no gradient, the floor for anything that reads X."))
    benchmark(run)


# ---------------------------------------------------------------------------------------
# predict: XW + b over a large X
# ---------------------------------------------------------------------------------------

PREDICT_N, PREDICT_D = 1_000_000, 32


def _close(got, want, rtol, what):
    """assert_allclose with an absolute floor of rtol * max|want| (entries near 0)."""
    want = np.asarray(want)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * float(np.abs(want).max()),
                               err_msg=what)


def _predict_into(fn):
    """Benchmark maker for fn(X, W, b, out) writing XW + b into a preallocated buffer."""

    def make(p, want, rtol):
        buf = np.empty(p.Y.shape, dtype=p.dtype)

        def run():
            return fn(p.X, p.W, p.b, buf)

        def check():
            run()
            _close(buf, want, rtol, "predictions")

        return run, check, {"output": "preallocated (out=)"}

    return make


def _predict_estimator(p, want, rtol):
    """A fitted GDRegressor's predict(X): validates X, allocates and checks its output."""
    model = GDRegressor(lr=0.1, epochs=1).fit(p.X[:100], p.Y[:100])
    model.coef_ = p.W.copy()  # predict the same XW + b as the other rows
    model.intercept_ = float(p.b[0])

    def run():
        return model.predict(p.X)

    def check():
        _close(run(), want, rtol, "predictions")

    return run, check, {"output": "allocated per call"}


def _predict_expression(p, want, rtol):
    """`X @ W + b`, as NumPy users write it: allocates the result and one temporary."""

    def run():
        return p.X @ p.W + p.b

    def check():
        _close(run(), want, rtol, "predictions")

    return run, check, {"output": "allocated per call (+ one temporary)"}


def _predict_floor(p, want, rtol):
    """X @ w into a preallocated buffer, without + b: one read of X (the speed floor)."""
    buf = np.empty(p.Y.shape, dtype=p.dtype)

    def run():
        return np.matmul(p.X, p.W, out=buf)

    def check():
        run()
        _close(buf, want - p.b, rtol, "X @ w")

    return run, check, {"output": "preallocated (out=)"}


PREDICT_IMPLS = {
    "linreg": _predict_into(kernels.predict),
    "linreg-estimator": _predict_estimator,
    "numpy-reference": _predict_into(reference.predict),
    "numpy-expression": _predict_expression,
    "numpy-matmul-floor": _predict_floor,
}


@pytest.mark.parametrize("impl", list(PREDICT_IMPLS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_predict(benchmark, problem, expected, dtype, impl):
    p = problem(PREDICT_N, PREDICT_D, 1, dtype)
    # The oracle in float64 (then rounded), so float32 rows are held to the exact answer.
    want = expected(("predict", p.dtype.name, p.n, p.d, p.k), lambda: reference.predict(
        p.X.astype(np.float64), p.W.astype(np.float64), p.b.astype(np.float64)
    ).astype(p.dtype))
    run, check, info = PREDICT_IMPLS[impl](p, want, rtol_for(p.dtype))
    check()  # before any timing; also warms caches and page tables
    describe(benchmark, work="predict", impl=impl, p=p, description=(
        "XW + b at a fixed (W, b). linreg: kernels.predict into a preallocated out; "
        "linreg-estimator: a fitted GDRegressor's predict(X) (checks X, allocates its "
        "output); numpy-reference: linreg.reference.predict into out; numpy-expression: "
        "`X @ W + b` (allocates); numpy-matmul-floor: `X @ w` into out, without + b."),
        **info)
    benchmark(run)


# ---------------------------------------------------------------------------------------
# sgd_epoch: one per-sample SGD epoch (batch_size=1, natural order) from W = 0, b = 0
# ---------------------------------------------------------------------------------------

SGD_N, SGD_D, SGD_LR = 100_000, 32, 0.01

# (rounds, warmup_rounds) per implementation: the reference takes ~0.25 s per epoch.
SGD_ROUNDS = {"linreg": (30, 1), "numpy-reference": (3, 0)}

#: The epoch's mean loss of the float32 reference is summed in float32 (NumPy 2 keeps
#: `python float + float32 scalar` in float32), so over 1e5 samples it is only good to
#: ~1e-4 relative; W and b are still held to rtol_for(float32).
SGD_LOSS_RTOL = {"float32": 1e-3}
SGD_IMPLS = {"linreg": kernels.sgd_epoch, "numpy-reference": reference.sgd_epoch}


def _sgd_from_zero(fn, p):
    W, b = p.zero_params()
    loss = fn(p.X, p.Y, W, b, SGD_LR)
    return loss, W, b


@pytest.mark.parametrize("impl", list(SGD_IMPLS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd_epoch(benchmark, problem, expected, dtype, impl):
    p = problem(SGD_N, SGD_D, 1, dtype)
    fn = SGD_IMPLS[impl]
    want = expected(("sgd_epoch", p.dtype.name, p.n, p.d, p.k, SGD_LR),
                    lambda: _sgd_from_zero(reference.sgd_epoch, p))

    got = _sgd_from_zero(fn, p)  # before any timing
    rtol = rtol_for(p.dtype)
    np.testing.assert_allclose(got[0], want[0], rtol=SGD_LOSS_RTOL.get(p.dtype.name, rtol),
                               err_msg="mean loss")
    np.testing.assert_allclose(got[1], want[1], rtol=rtol, err_msg="W")
    np.testing.assert_allclose(got[2], want[2], rtol=rtol, err_msg="b")

    def fresh_params():  # every round trains from the same start: W = 0, b = 0
        W, b = p.zero_params()
        return (p.X, p.Y, W, b, SGD_LR), {}

    rounds, warmup_rounds = SGD_ROUNDS[impl]
    describe(benchmark, work="sgd_epoch", impl=impl, p=p, lr=SGD_LR, batch_size=1,
             description=(f"One per-sample SGD epoch (lr {SGD_LR}, natural order) from "
                          "W = 0, b = 0: kernels.sgd_epoch vs linreg.reference.sgd_epoch "
                          "(the NumPy loop over samples)."),
             rounds=rounds)
    benchmark.pedantic(fn, setup=fresh_params, rounds=rounds, warmup_rounds=warmup_rounds,
                       iterations=1)
