"""The compiled kernels agree with their plain-NumPy twins in `linreg.reference`.

Tolerances: rtol 1e-12 in float64, 1e-5 in float32, each with an absolute part of rtol
times the largest expected magnitude (gradient entries can cancel). float32 results are
checked against the reference run in float32 and against the reference run in float64 on
the same float32 data (the kernels accumulate in double, so they must be close to both).

The sizes are chosen against the kernel's structure: rows are taken four at a time (n not
a multiple of 4 exercises the tail, n=1 has only a tail), float32 dot products are summed
in runs of 32 terms (d=33 and d=70 end in a partial run, d=32 and d=64 in a full one).
"""
import numpy as np
import pytest

import linreg.kernels as kernels
import linreg.reference as reference
from _helpers import as_float64, assert_close, make_problem, make_readonly, stable_lr

SHAPES = [(1, 1), (2, 3), (3, 33), (5, 1), (7, 70), (8, 32), (12, 64), (1003, 70)]
SHAPE_IDS = [f"n{n}-d{d}" for n, d in SHAPES]
# SGD walks the rows in Python in the reference: a smaller set keeps the suite fast.
SGD_SHAPES = [(1, 1), (2, 3), (5, 1), (7, 70), (8, 32), (1003, 33)]
SGD_SHAPE_IDS = [f"n{n}-d{d}" for n, d in SGD_SHAPES]
DTYPES = [np.float32, np.float64]
KS = [None, 1, 3]


def k_id(k):
    return "y1d" if k is None else f"k{k}"


def references(dtype, *arrays):
    """[(label, arrays)] to compare against: the same dtype, plus float64 for float32."""
    out = [(np.dtype(dtype).name, tuple(np.array(a) for a in arrays))]
    if np.dtype(dtype) == np.float32:
        out.append(("float64", as_float64(*arrays)))
    return out


pytestmark = [
    pytest.mark.parametrize("dtype", DTYPES, ids=lambda t: np.dtype(t).name),
    pytest.mark.parametrize("k", KS, ids=k_id),
    pytest.mark.parametrize("readonly", [False, True], ids=["writable", "readonly"]),
]


@pytest.mark.parametrize(("n", "d"), SHAPES, ids=SHAPE_IDS)
def test_loss_and_grad(impl, dtype, k, readonly, n, d):
    X, Y, W, b = make_problem(n, d, k, dtype, seed=1000 * n + d)
    expected = []
    for label, (Xr, Yr, Wr, br) in references(dtype, X, Y, W, b):
        gW, gb = np.empty_like(Wr), np.empty_like(br)
        expected.append((label, reference.loss_and_grad(Xr, Yr, Wr, br, gW, gb), gW, gb))
    if readonly:
        make_readonly(X, Y, W, b)
    snapshot = [a.tobytes() for a in (X, Y, W, b)]

    grad_W = np.full_like(W, np.nan)  # NaN: every entry must be written
    grad_b = np.full_like(b, np.nan)
    loss = kernels.loss_and_grad(X, Y, W, b, grad_W, grad_b)

    assert isinstance(loss, float)
    assert grad_W.dtype == dtype and grad_b.dtype == dtype
    for label, exp_loss, exp_gW, exp_gb in expected:
        assert_close(loss, exp_loss, dtype, f"loss vs {label} reference")
        assert_close(grad_W, exp_gW, dtype, f"grad_W vs {label} reference")
        assert_close(grad_b, exp_gb, dtype, f"grad_b vs {label} reference")
    assert [a.tobytes() for a in (X, Y, W, b)] == snapshot


@pytest.mark.parametrize(("n", "d"), SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("given_out", [False, True], ids=["alloc", "out"])
def test_predict(impl, dtype, k, readonly, n, d, given_out):
    X, _, W, b = make_problem(n, d, k, dtype, seed=1000 * n + d + 1)
    expected = [
        (label, reference.predict(Xr, Wr, br))
        for label, (Xr, Wr, br) in references(dtype, X, W, b)
    ]
    if readonly:
        make_readonly(X, W, b)
    snapshot = [a.tobytes() for a in (X, W, b)]

    out_shape = (n,) if k is None else (n, k)
    out = np.full(out_shape, np.nan, dtype=dtype) if given_out else None
    result = kernels.predict(X, W, b, out=out)

    if given_out:
        assert result is out
    assert result.shape == out_shape and result.dtype == dtype
    for label, exp in expected:
        assert_close(result, exp, dtype, f"predictions vs {label} reference")
    assert [a.tobytes() for a in (X, W, b)] == snapshot


@pytest.mark.parametrize(("n", "d"), SHAPES, ids=SHAPE_IDS)
def test_gd_epochs(impl, dtype, k, readonly, n, d):
    n_epochs = 7
    X, Y, W, b = make_problem(n, d, k, dtype, seed=1000 * n + d + 2)
    lr = stable_lr(d, k)
    expected = []
    for label, (Xr, Yr, Wr, br) in references(dtype, X, Y, W, b):
        losses = np.empty(n_epochs)
        done = reference.gd_epochs(Xr, Yr, Wr, br, lr, losses)
        assert done == n_epochs  # the problem must not diverge, or the test is moot
        expected.append((label, losses, Wr, br))
    if readonly:
        make_readonly(X, Y)
    snapshot = [a.tobytes() for a in (X, Y)]

    loss_out = np.full(n_epochs, np.nan)
    n_completed = kernels.gd_epochs(X, Y, W, b, lr, loss_out)

    assert n_completed == n_epochs
    assert W.dtype == dtype and b.dtype == dtype
    for label, exp_losses, exp_W, exp_b in expected:
        assert_close(loss_out, exp_losses, dtype, f"loss_out vs {label} reference")
        assert_close(W, exp_W, dtype, f"W vs {label} reference")
        assert_close(b, exp_b, dtype, f"b vs {label} reference")
    # Several epochs must have moved the parameters: the loss goes down.
    assert loss_out[-1] < loss_out[0]
    assert [a.tobytes() for a in (X, Y)] == snapshot


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
def test_sgd_epoch(impl, dtype, k, readonly, n, d, order_kind, batch):
    X, Y, W, b = make_problem(n, d, k, dtype, seed=1000 * n + d + 3)
    rng = np.random.default_rng(n + d)
    order = make_order(order_kind, n, rng)
    m = n if order is None else order.shape[0]
    batch_size = {"1": 1, "3": min(3, m), "all": m}[batch]
    lr = stable_lr(d, k)
    expected = []
    for label, (Xr, Yr, Wr, br) in references(dtype, X, Y, W, b):
        ref_order = None if order is None else order.astype(np.intp)
        mean_loss = reference.sgd_epoch(Xr, Yr, Wr, br, lr, ref_order, batch_size)
        assert np.isfinite(mean_loss)
        expected.append((label, mean_loss, Wr, br))
    if readonly:
        make_readonly(X, Y)
        if order is not None:
            order.flags.writeable = False
    snapshot = [a.tobytes() for a in (X, Y)]
    order_snapshot = None if order is None else order.copy()

    mean_loss = kernels.sgd_epoch(X, Y, W, b, lr, order=order, batch_size=batch_size)

    assert isinstance(mean_loss, float)
    assert W.dtype == dtype and b.dtype == dtype
    for label, exp_loss, exp_W, exp_b in expected:
        assert_close(mean_loss, exp_loss, dtype, f"mean loss vs {label} reference")
        assert_close(W, exp_W, dtype, f"W vs {label} reference")
        assert_close(b, exp_b, dtype, f"b vs {label} reference")
    assert [a.tobytes() for a in (X, Y)] == snapshot
    if order is not None:
        np.testing.assert_array_equal(order, order_snapshot)
