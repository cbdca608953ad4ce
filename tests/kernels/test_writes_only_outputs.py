"""The kernels write only where they are documented to (issue 6).

`loss_and_grad` writes into grad_W and grad_b, `predict` into out, the trainers into W, b
(and loss_out, early_stop's state, order and rng_state when shuffling); X and Y are never
modified. Every output buffer sits between guard values in a larger array, so a write one
element too far is seen as well. `snapshot` (in _helpers) records an array's bytes,
dtype, shape, strides and flags, and the bytes of the whole buffer a view looks into.
"""
import numpy as np
import pytest

import linreg.kernels as kernels
import linreg.reference as reference
from _helpers import make_problem, snapshot

N, D = 23, 5  # five blocks of four rows and a tail of three

GUARD = 7.0e5  # a value no kernel computes here


def guarded(values, dtype):
    """A C-contiguous copy of `values` between two guard elements of a larger array; returns
    (view, whole)."""
    values = np.asarray(values, dtype=dtype)
    whole = np.full(values.size + 2, GUARD, dtype=dtype)
    view = whole[1:-1].reshape(values.shape)
    view[...] = values
    return view, whole


def assert_guards(whole, name):
    assert whole[0] == GUARD and whole[-1] == GUARD, f"a kernel wrote outside {name}"


def kernel_problem(dtype, k, layout):
    X, Y, W, b = make_problem(N, D, k, dtype, seed=5)
    if layout == "fortran":
        X = np.asfortranarray(X)
    elif layout == "strided":
        big = np.zeros((2 * N, D), dtype=dtype)
        big[::2] = X
        X = big[::2]
        bigY = np.zeros((N, 2) + Y.shape[1:], dtype=dtype)
        bigY[:, 0] = Y
        Y = bigY[:, 0]
    elif layout == "readonly":
        X.flags.writeable = False
        Y.flags.writeable = False
    return X, Y, W, b


KERNEL_CASES = [(dtype, k, layout) for dtype in (np.float32, np.float64) for k in (None, 1, 3)
                for layout in ("C", "fortran", "strided", "readonly")]
KERNEL_IDS = [f"{np.dtype(t).name}-{'y1d' if k is None else f'k{k}'}-{lay}"
              for t, k, lay in KERNEL_CASES]


@pytest.mark.parametrize(("dtype", "k", "layout"), KERNEL_CASES, ids=KERNEL_IDS)
def test_loss_and_grad_writes_only_the_gradients(impl, dtype, k, layout):
    X, Y, W, b = kernel_problem(dtype, k, layout)
    watched = {"X": X, "Y": Y, "W": W, "b": b}
    before = {name: snapshot(a) for name, a in watched.items()}
    grad_W, whole_W = guarded(np.full(W.shape, np.nan), dtype)
    grad_b, whole_b = guarded(np.full(b.shape, np.nan), dtype)
    loss = kernels.loss_and_grad(X, Y, W, b, grad_W, grad_b)
    assert np.isfinite(loss)
    assert np.isfinite(grad_W).all() and np.isfinite(grad_b).all(), "a gradient entry was not written"
    assert_guards(whole_W, "grad_W")
    assert_guards(whole_b, "grad_b")
    for name, a in watched.items():
        assert snapshot(a) == before[name], f"loss_and_grad modified {name}"


@pytest.mark.parametrize(("dtype", "k", "layout"), KERNEL_CASES, ids=KERNEL_IDS)
def test_predict_writes_only_out(impl, dtype, k, layout):
    X, _, W, b = kernel_problem(dtype, k, layout)
    watched = {"X": X, "W": W, "b": b}
    before = {name: snapshot(a) for name, a in watched.items()}
    out, whole = guarded(np.full((N,) + W.shape[1:], np.nan), dtype)
    result = kernels.predict(X, W, b, out=out)
    assert result is out
    assert np.isfinite(out).all(), "a prediction was not written"
    assert_guards(whole, "out")
    allocated = kernels.predict(X, W, b)
    np.testing.assert_array_equal(allocated, out)
    for name, a in watched.items():
        assert snapshot(a) == before[name], f"predict modified {name}"


@pytest.mark.parametrize(("dtype", "k", "layout"), KERNEL_CASES, ids=KERNEL_IDS)
@pytest.mark.parametrize("early", [False, True], ids=["no-stop", "early-stop"])
def test_gd_epochs_writes_only_w_b_loss_out_and_the_stopping_state(impl, dtype, k, layout, early):
    X, Y, W0, b0 = kernel_problem(dtype, k, layout)
    before = {"X": snapshot(X), "Y": snapshot(Y)}
    W, whole_W = guarded(W0, dtype)
    b, whole_b = guarded(b0, dtype)
    loss_out, whole_loss = guarded(np.full(6, -1.0), np.float64)
    # tol=1e30: no epoch after the first counts as an improvement, so the rule with
    # n_iter_no_change=2 fires at the end of the third epoch.
    early_stop = kernels.new_early_stop(1e30, 2) if early else None
    n_done = kernels.gd_epochs(X, Y, W, b, 0.01, loss_out, early_stop=early_stop)
    assert n_done == (3 if early else 6)
    assert (loss_out[:n_done] >= 0).all() and (loss_out[n_done:] == -1.0).all()
    assert not np.array_equal(W, W0), "W was not updated"
    assert_guards(whole_W, "W")
    assert_guards(whole_b, "b")
    assert_guards(whole_loss, "loss_out")
    if early:
        # the settings are kept
        assert early_stop["tol"][0] == 1e30 and early_stop["n_iter_no_change"][0] == 2
        assert early_stop["bad_epochs"][0] == 2 and early_stop["best_loss"][0] == loss_out[:3].min()
        assert early_stop["stopped"][0]
    assert snapshot(X) == before["X"] and snapshot(Y) == before["Y"]


@pytest.mark.parametrize(("dtype", "k", "layout"), KERNEL_CASES, ids=KERNEL_IDS)
@pytest.mark.parametrize("batch_size", [1, 4])
def test_sgd_epoch_writes_only_w_and_b(impl, dtype, k, layout, batch_size):
    X, Y, W0, b0 = kernel_problem(dtype, k, layout)
    order = np.array([4, 0, 22, 4, 9, 13, 2, 21], dtype=np.intp)
    order.flags.writeable = False
    listed = [1, 2, 3, 22]
    before = {name: snapshot(a) for name, a in {"X": X, "Y": Y, "order": order, "list": listed}.items()}
    W, whole_W = guarded(W0, dtype)
    b, whole_b = guarded(b0, dtype)
    for rows in (None, order, listed):
        mean = kernels.sgd_epoch(X, Y, W, b, 0.01, order=rows, batch_size=batch_size)
        assert np.isfinite(mean)
    assert not np.array_equal(W, W0), "W was not updated"
    assert_guards(whole_W, "W")
    assert_guards(whole_b, "b")
    for name, a in {"X": X, "Y": Y, "order": order, "list": listed}.items():
        assert snapshot(a) == before[name], f"sgd_epoch modified {name}"


@pytest.mark.parametrize(("dtype", "k", "layout"), KERNEL_CASES, ids=KERNEL_IDS)
@pytest.mark.parametrize("shuffled", [False, True], ids=["fixed-order", "shuffled"])
def test_sgd_epochs_writes_only_what_it_documents(impl, dtype, k, layout, shuffled):
    X, Y, W0, b0 = kernel_problem(dtype, k, layout)
    before = {"X": snapshot(X), "Y": snapshot(Y)}
    W, whole_W = guarded(W0, dtype)
    b, whole_b = guarded(b0, dtype)
    order, whole_order = guarded(np.arange(N)[::-1], np.intp)
    original_order = order.copy()
    rng_state, whole_rng = guarded([12345], np.uint64)
    loss_out, whole_loss = guarded(np.full(5, -1.0), np.float64)
    n_done = kernels.sgd_epochs(X, Y, W, b, 0.01, loss_out, order=order, batch_size=3,
                                rng_state=rng_state if shuffled else None)
    assert n_done == 5 and (loss_out >= 0).all()
    for whole, name in ((whole_W, "W"), (whole_b, "b"), (whole_loss, "loss_out")):
        assert_guards(whole, name)
    assert whole_order[0] == whole_order[-1] == np.intp(GUARD), "a kernel wrote outside order"
    assert whole_rng[0] == whole_rng[-1] == np.uint64(GUARD), "a kernel wrote outside rng_state"
    if shuffled:
        assert rng_state[0] != 12345, "rng_state was not advanced"
        assert sorted(order) == sorted(original_order), "the shuffle lost or duplicated rows"
        assert not np.array_equal(order, original_order)
    else:
        np.testing.assert_array_equal(order, original_order)
        assert rng_state[0] == 12345
    assert snapshot(X) == before["X"] and snapshot(Y) == before["Y"]


@pytest.mark.parametrize("func", ["loss_and_grad", "predict", "gd_epochs", "sgd_epoch"])
@pytest.mark.parametrize("bad", ["X-nan", "Y-inf", "W-nan", "W-shape", "lr"])
def test_rejected_kernel_calls_write_nothing(impl, func, bad):
    X, Y, W, b = make_problem(N, D, 3, np.float64, seed=6)
    if bad == "X-nan":
        X[7, 2] = np.nan
    elif bad == "Y-inf":
        Y[-1, 0] = np.inf
    elif bad == "W-nan":
        W[0, 0] = np.nan
    elif bad == "W-shape":
        W = np.zeros((D + 1, 3))
    grad_W, grad_b = np.full(W.shape, -2.0), np.full(b.shape, -2.0)
    out, loss_out = np.full((N, 3), -2.0), np.full(3, -2.0)
    lr = -1.0 if bad == "lr" else 0.01
    everything = {"X": X, "Y": Y, "W": W, "b": b, "grad_W": grad_W, "grad_b": grad_b, "out": out,
                  "loss_out": loss_out}
    before = {name: snapshot(a) for name, a in everything.items()}
    call = {
        "loss_and_grad": lambda: kernels.loss_and_grad(X, Y, W, b, grad_W, grad_b),
        "predict": lambda: kernels.predict(X, W, b, out=out),
        "gd_epochs": lambda: kernels.gd_epochs(X, Y, W, b, lr, loss_out),
        "sgd_epoch": lambda: kernels.sgd_epoch(X, Y, W, b, lr),
    }[func]
    if (bad == "Y-inf" and func == "predict") or (bad == "lr" and func in ("loss_and_grad", "predict")):
        call()  # the argument is not used by this kernel
        return
    # NaN/inf in the data are found from the result, after the work: then only the output
    # buffers may have been written. Everything else is refused before any work.
    found_late = bad in ("X-nan", "Y-inf")
    with pytest.raises(ValueError):
        call()
    may_change = {"grad_W", "grad_b", "out", "loss_out", "W", "b"} if found_late else set()
    for name, a in everything.items():
        if name not in may_change:
            assert snapshot(a) == before[name], f"a rejected {func} call modified {name}"
    assert np.isfinite(W).all() or bad == "W-nan"


def test_sgd_epochs_reads_a_read_only_order_when_not_shuffling(impl):
    X, Y, W, b = make_problem(N, D, None, np.float64, seed=7)
    order = np.arange(N, dtype=np.intp)[::-1].copy()
    order.flags.writeable = False
    W1, b1 = W.copy(), b.copy()
    n_done = kernels.sgd_epochs(X, Y, W1, b1, 0.01, np.empty(2), order=order)
    W2, b2 = W.copy(), b.copy()
    assert n_done == kernels.sgd_epochs(X, Y, W2, b2, 0.01, np.empty(2), order=order.copy()) == 2
    np.testing.assert_array_equal(W1, W2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_predict_into_an_out_that_overlaps_x(impl, dtype):
    rng = np.random.default_rng(8)
    X = rng.standard_normal((9, 2)).astype(dtype)
    W = rng.standard_normal((2, 2)).astype(dtype)
    b = rng.standard_normal(2).astype(dtype)
    expected = X @ W + b
    X_copy = X.copy()  # NumPy gets the same call right
    np.testing.assert_allclose(reference.predict(X_copy, W, b, out=X_copy), expected, rtol=1e-6)
    try:
        got = kernels.predict(X, W, b, out=X)
    except ValueError as error:
        assert "out" in str(error)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-5)

