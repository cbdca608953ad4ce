"""Memory layout and dtype handling of the public kernels.

Any layout of X or Y must give exactly the results of the C-contiguous array with the
same values (the kernels get a C-ordered copy, and they are deterministic). Integer and
bool X become float64. A C-contiguous float32/float64 X is handed to the compiled module
as is: the very same object, never a copy, and float32 stays float32 all the way down.
`dtype` comes from the kernel contract (kernels/conftest.py); `recorder` from there too.
"""
import numpy as np
import pytest

import linreg.kernels as kernels
import linreg.reference as reference
from _helpers import assert_close, make_problem, stable_lr

N, D = 11, 6  # n: two blocks of four rows plus a tail of three


def run_all(X, Y, W, b):
    """Results of all four kernels for (X, Y) from the parameters (W, b), which are kept."""
    res = {}
    grad_W, grad_b = np.empty_like(W), np.empty_like(b)
    res["loss"] = kernels.loss_and_grad(X, Y, W, b, grad_W, grad_b)
    res["grad_W"], res["grad_b"] = grad_W, grad_b
    res["predict"] = kernels.predict(X, W, b)
    W1, b1 = W.copy(), b.copy()
    losses = np.empty(4)
    res["gd_n"] = kernels.gd_epochs(X, Y, W1, b1, stable_lr(W.shape[0], None), losses)
    res["gd_losses"], res["gd_W"], res["gd_b"] = losses, W1, b1
    for batch_size in (1, 4):
        W2, b2 = W.copy(), b.copy()
        order = np.array([3, 0, 10, 3, 7, 1])
        mean = kernels.sgd_epoch(
            X, Y, W2, b2, stable_lr(W.shape[0], None), order=order, batch_size=batch_size
        )
        res[f"sgd{batch_size}"], res[f"sgd{batch_size}_W"], res[f"sgd{batch_size}_b"] = (
            mean,
            W2,
            b2,
        )
    return res


def assert_same_results(actual, expected):
    assert actual.keys() == expected.keys()
    for key in expected:
        a, e = np.asarray(actual[key]), np.asarray(expected[key])
        assert a.dtype == e.dtype, key
        np.testing.assert_array_equal(a, e, err_msg=key)


def x_layouts(X):
    """Views with the values of X but other layouts (none C-contiguous)."""
    n, d = X.shape
    wide = np.zeros((n, 2 * d), dtype=X.dtype)
    wide[:, ::2] = X
    tall = np.zeros((2 * n, d), dtype=X.dtype)
    tall[::2] = X
    return {
        "fortran": np.asfortranarray(X),
        "column-strided": wide[:, ::2],
        "row-strided": tall[::2],
        "negative-row-stride": X[::-1].copy()[::-1],
        "negative-column-stride": X[:, ::-1].copy()[:, ::-1],
        "fortran-negative": np.asfortranarray(X[::-1])[::-1],
    }


@pytest.mark.parametrize("k", [None, 3], ids=["y1d", "k3"])
@pytest.mark.parametrize(
    "layout",
    [
        "fortran",
        "column-strided",
        "row-strided",
        "negative-row-stride",
        "negative-column-stride",
        "fortran-negative",
    ],
)
def test_x_layout_gives_same_results(impl, dtype, k, layout):
    X, Y, W, b = make_problem(N, D, k, dtype, seed=7)
    Xv = x_layouts(X)[layout]
    assert not Xv.flags.c_contiguous
    np.testing.assert_array_equal(Xv, X)
    snapshot = Xv.tobytes(order="A")
    expected = run_all(X, Y, W, b)
    assert_same_results(run_all(Xv, Y, W, b), expected)
    assert Xv.tobytes(order="A") == snapshot
    # And the results are right, not just consistent.
    gW, gb = np.empty_like(W), np.empty_like(b)
    assert_close(expected["loss"], reference.loss_and_grad(X, Y, W, b, gW, gb), dtype)
    assert_close(expected["grad_W"], gW, dtype)


def y_layouts(Y):
    n = Y.shape[0]
    if Y.ndim == 1:
        block = np.zeros((n, 3), dtype=Y.dtype)
        block[:, 1] = Y
        tall = np.zeros(2 * n, dtype=Y.dtype)
        tall[::2] = Y
        return {
            "column-of-2d": block[:, 1],
            "strided": tall[::2],
            "negative-stride": Y[::-1].copy()[::-1],
        }
    k = Y.shape[1]
    wide = np.zeros((n, 2 * k), dtype=Y.dtype)
    wide[:, ::2] = Y
    return {
        "fortran": np.asfortranarray(Y),
        "column-strided": wide[:, ::2],
        "negative-stride": Y[::-1].copy()[::-1],
    }


@pytest.mark.parametrize(
    ("k", "layout"),
    [
        (None, "column-of-2d"),
        (None, "strided"),
        (None, "negative-stride"),
        (3, "fortran"),
        (3, "column-strided"),
        (3, "negative-stride"),
    ],
)
def test_y_layout_gives_same_results(impl, dtype, k, layout):
    X, Y, W, b = make_problem(N, D, k, dtype, seed=8)
    Yv = y_layouts(Y)[layout]
    assert not Yv.flags.c_contiguous
    np.testing.assert_array_equal(Yv, Y)
    assert_same_results(run_all(X, Yv, W, b), run_all(X, Y, W, b))


@pytest.mark.parametrize(
    "make_x",
    [
        pytest.param(lambda rng: rng.integers(-3, 4, size=(N, D)), id="int64"),
        pytest.param(lambda rng: rng.integers(-3, 4, size=(N, D)).astype(np.int32), id="int32"),
        pytest.param(lambda rng: rng.integers(0, 5, size=(N, D)).astype(np.uint8), id="uint8"),
        pytest.param(lambda rng: rng.random((N, D)) < 0.5, id="bool"),
        pytest.param(lambda rng: rng.integers(-3, 4, size=(N, D)).tolist(), id="list"),
    ],
)
@pytest.mark.parametrize("k", [None, 3], ids=["y1d", "k3"])
def test_int_and_bool_x_become_float64(recorder, make_x, k):
    rng = np.random.default_rng(9)
    X = make_x(rng)
    X_float = np.array(X, dtype=np.float64)
    _, Y, W, b = make_problem(N, D, k, np.float64, seed=9)
    recorder.calls.clear()
    results = run_all(X, Y, W, b)
    assert recorder.calls, "nothing reached the compiled kernels"
    for name, args in recorder.calls:
        passed_X = args[0]
        assert passed_X.dtype == np.float64, name
        assert passed_X.flags.c_contiguous, name
        np.testing.assert_array_equal(passed_X, X_float, err_msg=name)
    assert_same_results(results, run_all(X_float, Y, W, b))
    # float32 parameters do not go with an integer X (it is float64 data).
    with pytest.raises(TypeError, match=r"\bW must have dtype float64"):
        kernels.predict(X, W.astype(np.float32), b)


@pytest.mark.parametrize("k", [None, 3], ids=["y1d", "k3"])
def test_int_y_is_converted_to_x_dtype(impl, dtype, k):
    X, _, W, b = make_problem(N, D, k, dtype, seed=10)
    rng = np.random.default_rng(10)
    Y_int = rng.integers(-5, 6, size=(N,) if k is None else (N, k))
    assert_same_results(run_all(X, Y_int, W, b), run_all(X, Y_int.astype(dtype), W, b))


@pytest.mark.parametrize("k", [None, 1, 3], ids=["y1d", "k1", "k3"])
def test_c_contiguous_x_is_not_copied(recorder, dtype, k):
    X, Y, W, b = make_problem(N, D, k, dtype, seed=11)
    recorder.calls.clear()
    results = run_all(X, Y, W, b)
    calls = recorder.calls
    assert sorted({name for name, _ in calls}) == [
        "gd_epochs",
        "loss_and_grad",
        "predict",
        "sgd_epochs",
    ]
    for name, args in calls:
        passed_X, *rest = args
        # The very same array object, not a copy (nor a view of one).
        assert passed_X is X, name
        assert np.shares_memory(passed_X, X), name
        # float32 stays float32: every array passed down has X's dtype (the kernels are
        # fused-type functions, so this selects the float32 specialization), except
        # gd_epochs' float64 loss_out.
        assert passed_X.dtype == dtype, name
        arrays = [a for a in rest if isinstance(a, np.ndarray)]
        if name in ("gd_epochs", "sgd_epochs"):
            # (Y, model, state, [order,] sample_weight, history): the training state,
            # the order and the history's float64 losses are not in X's dtype.
            assert rest[-1].losses.dtype == np.float64 and arrays[2].dtype.fields is not None
            arrays = arrays[:2]
        assert arrays and all(a.dtype == dtype for a in arrays), name
        if name != "predict":
            # Y of X's dtype is not copied either (only reshaped to 2-D).
            assert np.shares_memory(rest[0], Y), name
    assert results["grad_W"].dtype == dtype and results["grad_b"].dtype == dtype
    assert results["predict"].dtype == dtype
    assert results["gd_W"].dtype == dtype and results["sgd1_W"].dtype == dtype

    # The parameters are updated in the caller's arrays: the training loop's model
    # (W, then b as its last row) ends equal to them.
    W_gd, b_gd = np.array(W), np.array(b)
    kernels.gd_epochs(X, Y, W_gd, b_gd, 0.01, np.empty(2))
    model = recorder.calls[-1][1][2]
    assert not np.array_equal(W_gd, W)
    np.testing.assert_array_equal(model[0, :-1].reshape(W_gd.shape), W_gd)
    np.testing.assert_array_equal(model[0, -1], b_gd)

    # And the results are right.
    gW, gb = np.empty_like(W), np.empty_like(b)
    assert_close(results["loss"], reference.loss_and_grad(X, Y, W, b, gW, gb), dtype)
    assert_close(results["grad_W"], gW, dtype)
    assert_close(results["grad_b"], gb, dtype)
    assert_close(results["predict"], reference.predict(X, W, b), dtype)


@pytest.mark.parametrize("layout", ["fortran", "row-strided", "negative-row-stride"])
def test_non_contiguous_float32_x_is_copied_as_float32(recorder, layout):
    X, Y, W, b = make_problem(N, D, None, np.float32, seed=12)
    Xv = x_layouts(X)[layout]
    recorder.calls.clear()
    kernels.predict(Xv, W, b)
    (name, args), = recorder.calls
    passed_X = args[0]
    assert passed_X.dtype == np.float32
    assert passed_X.flags.c_contiguous
    assert not np.shares_memory(passed_X, Xv)
    np.testing.assert_array_equal(passed_X, X)


def test_float64_y_with_float32_x_is_converted_to_float32(recorder):
    X, Y, W, b = make_problem(N, D, 3, np.float32, seed=13)
    Y64 = Y.astype(np.float64)
    recorder.calls.clear()
    grad_W, grad_b = np.empty_like(W), np.empty_like(b)
    loss = kernels.loss_and_grad(X, Y64, W, b, grad_W, grad_b)
    (name, args), = recorder.calls
    assert args[1].dtype == np.float32
    gW, gb = np.empty_like(W), np.empty_like(b)
    assert loss == kernels.loss_and_grad(X, Y, W, b, gW, gb)
    np.testing.assert_array_equal(grad_W, gW)
