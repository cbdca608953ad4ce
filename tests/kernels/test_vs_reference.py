"""The compiled kernels agree with their plain-NumPy twins in `linreg.reference`, over
sizes chosen against the kernels' structure.

Rows are taken four at a time (n not a multiple of 4 exercises the tail, n=1 has only a
tail), float32 dot products are summed in runs of 32 terms (d=33 and d=70 end in a
partial run, d=32 and d=64 in a full one). The tests run on the kernel contract
(kernels/conftest.py: every compiled build, dtype and shape of the targets), on
C-contiguous data, writable or read-only (test_contract.py and test_layout.py cover the
other layouts), and compare through `_helpers.assert_matches_reference`.

Tolerances: rtol 1e-12 in float64, 1e-5 in float32, each with an absolute part of rtol
times the largest expected magnitude (gradient entries can cancel). float32 results are
checked against the reference run in float32 and against the reference run in float64 on
the same float32 data (the kernels accumulate in double, so they must be close to both).
"""
import numpy as np
import pytest

import linreg.kernels as kernels
from _helpers import assert_matches_reference, make_readonly, snapshot, stable_lr_for

SHAPES = [(1, 1), (2, 3), (3, 33), (5, 1), (7, 70), (8, 32), (12, 64), (1003, 70)]
SHAPE_IDS = [f"n{n}-d{d}" for n, d in SHAPES]
# SGD walks the rows in Python in the reference: a smaller set keeps the suite fast.
SGD_SHAPES = [(1, 1), (2, 3), (5, 1), (7, 70), (8, 32), (1003, 33)]
SGD_SHAPE_IDS = [f"n{n}-d{d}" for n, d in SGD_SHAPES]


pytestmark = [
    pytest.mark.parametrize("layout", ["C"]),
    pytest.mark.parametrize("readonly", [False, True], ids=["writable", "readonly"]),
]


@pytest.mark.parametrize(("n", "d"), SHAPES, ids=SHAPE_IDS)
def test_loss_and_grad(problem_factory, dtype, readonly, n, d):
    problem = problem_factory(n, d, seed=1000 * n + d)
    if readonly:
        make_readonly(*problem[1:])
    W_b = snapshot(problem.W), snapshot(problem.b)

    def run(module, X, Y, W, b):
        grad_W = np.full_like(W, np.nan)  # NaN: every entry must be written
        grad_b = np.full_like(b, np.nan)
        loss = module.loss_and_grad(X, Y, W, b, grad_W, grad_b)
        return {"loss": loss, "grad_W": grad_W, "grad_b": grad_b}

    outputs = assert_matches_reference(run, problem)

    assert isinstance(outputs["loss"], float)
    assert outputs["grad_W"].dtype == dtype and outputs["grad_b"].dtype == dtype
    assert (snapshot(problem.W), snapshot(problem.b)) == W_b


@pytest.mark.parametrize(("n", "d"), SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("given_out", [False, True], ids=["alloc", "out"])
def test_predict(problem_factory, dtype, k, readonly, n, d, given_out):
    problem = problem_factory(n, d, seed=1000 * n + d + 1)
    if readonly:
        make_readonly(*problem[1:])
    W_b = snapshot(problem.W), snapshot(problem.b)
    out_shape = (n,) if k is None else (n, k)
    outs = []

    def run(module, X, Y, W, b):
        out = None
        if given_out and module is kernels:
            out = np.full(out_shape, np.nan, dtype=W.dtype)
        outs.append(out)
        return {"predictions": module.predict(X, W, b, out=out)}

    result = assert_matches_reference(run, problem)["predictions"]

    if given_out:
        assert result is outs[-1]
    assert result.shape == out_shape and result.dtype == dtype
    assert (snapshot(problem.W), snapshot(problem.b)) == W_b


@pytest.mark.parametrize(("n", "d"), SHAPES, ids=SHAPE_IDS)
def test_gd_epochs(problem_factory, dtype, readonly, n, d):
    n_epochs = 7
    problem = problem_factory(n, d, seed=1000 * n + d + 2)
    if readonly:
        make_readonly(problem.X, problem.Y)

    def run(module, X, Y, W, b):
        loss_out = np.full(n_epochs, np.nan)
        n_done = module.gd_epochs(X, Y, W, b, stable_lr_for(W), loss_out)
        return {"epochs done": n_done, "loss_out": loss_out, "W": W, "b": b}

    outputs = assert_matches_reference(run, problem)

    # The problem must not diverge, or the test is moot.
    assert outputs["epochs done"] == n_epochs
    assert problem.W.dtype == dtype and problem.b.dtype == dtype
    # Several epochs must have moved the parameters: the loss goes down.
    assert outputs["loss_out"][-1] < outputs["loss_out"][0]


def make_order(kind, n, rng):
    if kind == "natural":
        return None
    if kind == "permutation":
        return rng.permutation(n)
    # Repeats (more entries than rows) of a random subset, given as int32 to be converted.
    assert kind == "repeats"
    return rng.integers(0, n, size=n // 2 + 3).astype(np.int32)


@pytest.mark.parametrize(("n", "d"), SGD_SHAPES, ids=SGD_SHAPE_IDS)
@pytest.mark.parametrize("order_kind", ["natural", "permutation", "repeats"])
@pytest.mark.parametrize("batch", ["1", "3", "all"])
def test_sgd_epoch(problem_factory, dtype, readonly, n, d, order_kind, batch):
    problem = problem_factory(n, d, seed=1000 * n + d + 3)
    rng = np.random.default_rng(n + d)
    order = make_order(order_kind, n, rng)
    m = n if order is None else order.shape[0]
    batch_size = {"1": 1, "3": min(3, m), "all": m}[batch]
    if readonly:
        make_readonly(problem.X, problem.Y)
        if order is not None:
            order.flags.writeable = False
    order_snapshot = None if order is None else order.copy()

    def run(module, X, Y, W, b):
        # The kernels convert the int32 order; the reference takes it as intp.
        rows = order if module is kernels or order is None else order.astype(np.intp)
        mean_loss = module.sgd_epoch(X, Y, W, b, stable_lr_for(W), order=rows, batch_size=batch_size)
        return {"mean loss": mean_loss, "W": W, "b": b}

    outputs = assert_matches_reference(run, problem)

    assert isinstance(outputs["mean loss"], float)
    assert np.isfinite(outputs["mean loss"])  # and so is the reference's, close to it
    assert problem.W.dtype == dtype and problem.b.dtype == dtype
    if order is not None:
        np.testing.assert_array_equal(order, order_snapshot)
