"""Bad input raises ValueError or TypeError naming the argument; inputs are never modified.

Every check snapshots the bytes of X and Y (and of W and b when the error must come
before any work is done) and compares them after the call.
"""
import itertools

import numpy as np
import pytest

import linreg.kernels as kernels
from _helpers import make_problem

N, D = 9, 5  # two blocks of four rows plus a one-row tail
FUNCS = ["loss_and_grad", "predict", "gd_epochs", "sgd_epoch"]
TRAINERS = ["gd_epochs", "sgd_epoch"]
WITH_Y = ["loss_and_grad", "gd_epochs", "sgd_epoch"]


def call(func, X, Y, W, b, **kw):
    """Call a public kernel with otherwise valid arguments (overridable by keyword)."""
    if func == "loss_and_grad":
        grad_W = kw.pop("grad_W", None)
        grad_b = kw.pop("grad_b", None)
        if grad_W is None:
            grad_W = np.empty_like(np.asarray(W))
        if grad_b is None:
            grad_b = np.empty_like(np.asarray(b))
        return kernels.loss_and_grad(X, Y, W, b, grad_W, grad_b)
    if func == "predict":
        return kernels.predict(X, W, b, **kw)
    lr = kw.pop("lr", 0.01)
    if func == "gd_epochs":
        loss_out = kw.pop("loss_out", None)
        return kernels.gd_epochs(X, Y, W, b, lr, np.empty(3) if loss_out is None else loss_out)
    return kernels.sgd_epoch(X, Y, W, b, lr, **kw)


def _bytes(a):
    return a.tobytes(order="A") if isinstance(a, np.ndarray) else repr(a)


def assert_rejected(exc, match, func, X, Y, W, b, *, params_untouched=True, **kw):
    """`func` raises `exc` matching `match`; X and Y (and W, b) are left as they were."""
    watched = {"X": X, "Y": Y}
    if params_untouched:
        watched.update(W=W, b=b)
    before = {name: _bytes(a) for name, a in watched.items()}
    with pytest.raises(exc, match=match):
        call(func, X, Y, W, b, **kw)
    for name, a in watched.items():
        assert _bytes(a) == before[name], f"{func} modified {name}"


@pytest.fixture
def valid_problem():
    """Valid arguments (X, Y, W, b) for every kernel: each test spoils one of them."""
    return make_problem(N, D, None, np.float64, seed=30)


# ------------------------------------------------------------------ NaN and infinity

POSITIONS = {"first": 0, "middle": 5, "last": -1}
DTYPES = [np.float32, np.float64]
VALUES = {"nan": np.nan, "inf": np.inf, "-inf": -np.inf}


def non_finite_cases(funcs, which):
    """Cases (func, dtype, k, value, position) for a bad entry in X or Y.

    """
    for func, dtype, k, value, position in itertools.product(
        funcs, DTYPES, [None, 3], VALUES, POSITIONS
    ):
        yield pytest.param(
            func, dtype, k, VALUES[value], position,
            id=f"{func}-{np.dtype(dtype).name}-{'y1d' if k is None else 'k3'}-{value}-{position}",
        )


@pytest.mark.parametrize(("func", "dtype", "k", "value", "position"),
                         list(non_finite_cases(FUNCS, "X")))
def test_non_finite_x_is_rejected(impl, func, dtype, k, value, position):
    X, Y, W, b = make_problem(N, D, k, dtype, seed=31)
    X.reshape(-1)[POSITIONS[position]] = value
    # Training may have updated W, b before it met the bad row; X and Y are untouched.
    assert_rejected(
        ValueError, r"\bX contains NaN or infinity", func, X, Y, W, b,
        params_untouched=func in ("loss_and_grad", "predict"),
    )


@pytest.mark.parametrize(("func", "dtype", "k", "value", "position"),
                         list(non_finite_cases(WITH_Y, "Y")))
def test_non_finite_y_is_rejected(impl, func, dtype, k, value, position):
    X, Y, W, b = make_problem(N, D, k, dtype, seed=32)
    Y.reshape(-1)[POSITIONS[position]] = value
    assert_rejected(
        ValueError, r"\bY contains NaN or infinity", func, X, Y, W, b,
        params_untouched=func == "loss_and_grad",
    )


def non_finite_param_cases():
    for func, k, name, position in itertools.product(
        FUNCS, [None, 3], ["W", "b"], ["first", "last"]
    ):
        yield pytest.param(
            func, k, name, position,
            id=f"{func}-{'y1d' if k is None else 'k3'}-{name}-{position}",
        )


@pytest.mark.parametrize(("func", "k", "name", "position"), list(non_finite_param_cases()))
def test_non_finite_parameters_are_rejected(impl, func, k, name, position):
    X, Y, W, b = make_problem(N, D, k, np.float64, seed=33)
    params = {"W": W, "b": b}
    params[name].reshape(-1)[POSITIONS[position]] = np.nan
    assert_rejected(
        ValueError, rf"\b{name} contains NaN or infinity", func, X, Y, params["W"], params["b"]
    )


@pytest.mark.parametrize(
    ("func", "row", "col"),
    [
        pytest.param(func, row, col, id=f"{func}-{row}-{col}")
        for func in ["loss_and_grad", "predict"]
        for row, col in [(3, 2), (8, 4)]
    ],
)
def test_non_finite_x_in_a_non_contiguous_array(impl, valid_problem, func, row, col):
    X, Y, W, b = valid_problem
    Xf = np.asfortranarray(X)
    Xf[row, col] = np.nan
    assert_rejected(ValueError, r"\bX contains NaN", func, Xf, Y, W, b)


# ------------------------------------------------------------------ shapes and dtypes


@pytest.mark.parametrize("func", WITH_Y)
@pytest.mark.parametrize("y_rows", [N - 1, N + 1])
def test_mismatched_sample_counts(impl, valid_problem, func, y_rows):
    X, _, W, b = valid_problem
    Y = np.ones(y_rows)
    assert_rejected(ValueError, rf"\bY has {y_rows} samples but X has {N}\b", func, X, Y, W, b)


def test_predict_out_with_wrong_sample_count(impl, valid_problem):
    X, _, W, b = valid_problem
    out = np.empty(N + 1)
    assert_rejected(ValueError, r"\bout must have shape", "predict", X, None, W, b, out=out)


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize(
    "make_x",
    [
        pytest.param(lambda: np.ones((N, D, 1)), id="3-D"),
        pytest.param(lambda: np.ones(N), id="1-D"),
        pytest.param(lambda: np.float64(1.0), id="scalar"),
    ],
)
def test_x_must_be_2d(impl, valid_problem, func, make_x):
    _, Y, W, b = valid_problem
    assert_rejected(ValueError, r"\bX must be 2-D", func, make_x(), Y, W, b)


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("shape", [(0, D), (N, 0), (0, 0)], ids=["no-rows", "no-cols", "0x0"])
def test_empty_x(impl, valid_problem, func, shape):
    _, Y, W, b = valid_problem
    Y = np.ones(shape[0])
    W = np.zeros(shape[1])
    what = "sample" if shape[0] == 0 else "feature"
    assert_rejected(ValueError, rf"\bX has 0 {what}\(s\) \(shape=\({shape[0]}, {shape[1]}\)\) "
                    r"while a minimum of 1 is required", func, np.ones(shape), Y, W, b)


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize(
    "make_x",
    [
        pytest.param(lambda X: X.astype(str).astype(object), id="object"),  # of text
        pytest.param(lambda X: X.astype(str), id="str"),
        pytest.param(lambda X: X.astype("datetime64[s]"), id="datetime"),
    ],
)
def test_x_must_hold_real_numbers(impl, valid_problem, func, make_x):
    X, Y, W, b = valid_problem
    assert_rejected(TypeError, r"\bX must hold real numbers", func, make_x(X.round()), Y, W, b)


@pytest.mark.parametrize("func", WITH_Y)
@pytest.mark.parametrize("name", ["X", "Y"])
def test_complex_data_is_refused(impl, valid_problem, func, name):
    arrays = dict(zip("XYWb", valid_problem))
    arrays[name] = arrays[name].astype(np.complex128)
    assert_rejected(ValueError, rf"Complex data not supported: {name} has dtype complex128",
                    func, arrays["X"], arrays["Y"], arrays["W"], arrays["b"])


@pytest.mark.parametrize("func", FUNCS)
def test_ragged_x(impl, valid_problem, func):
    _, Y, W, b = valid_problem
    ragged = [[1.0] * D] * (N - 1) + [[1.0] * (D - 1)]
    assert_rejected(ValueError, r"\bX could not be converted", func, ragged, Y, W, b)


@pytest.mark.parametrize("func", WITH_Y)
@pytest.mark.parametrize(
    "make_y",
    [
        pytest.param(lambda Y: Y.astype(str), id="str"),
    ],
)
def test_y_must_hold_real_numbers(impl, valid_problem, func, make_y):
    X, Y, W, b = valid_problem
    assert_rejected(TypeError, r"\bY must hold real numbers", func, X, make_y(Y), W, b)


@pytest.mark.parametrize("func", WITH_Y)
def test_y_must_be_1d_or_2d(impl, valid_problem, func):
    X, Y, W, b = valid_problem
    assert_rejected(ValueError, r"\bY must be 1-D .* or 2-D", func, X, Y.reshape(N, 1, 1), W, b)


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize(
    ("k", "w_shape"),
    [(None, (D + 1,)), (None, (D - 1,)), (3, (D + 1, 3)), (3, (D, 2)), (3, (D,)), (3, (3, D))],
    ids=["1d-long", "1d-short", "2d-rows", "2d-cols", "1d-for-2d-Y", "transposed"],
)
def test_wrong_w_shape(impl, func, k, w_shape):
    X, Y, _, b = make_problem(N, D, k, np.float64, seed=33)
    W = np.zeros(w_shape)
    predict_outputs = 1 if len(w_shape) == 1 else w_shape[1]
    if func == "predict" and w_shape[0] == D and predict_outputs != b.shape[0]:
        # predict takes the number of outputs from W, so then b has the wrong shape.
        match = r"\bb must have shape"
    else:
        match = r"\bW must have shape"
    assert_rejected(ValueError, match, func, X, Y, W, b)


@pytest.mark.parametrize("func", WITH_Y)
def test_2d_w_with_1d_y(impl, valid_problem, func):
    X, Y, W, b = valid_problem
    assert_rejected(ValueError, r"\bW must have shape \(5,\)", func, X, Y, W.reshape(D, 1), b)


def test_predict_3d_w(impl, valid_problem):
    X, Y, W, b = valid_problem
    assert_rejected(ValueError, r"\bW must be a 1-D or 2-D ndarray", "predict", X, Y,
                    W.reshape(D, 1, 1), b)


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("name", ["W", "b"])
@pytest.mark.parametrize(
    "convert",
    [
        pytest.param(lambda a: a.astype(np.float32), id="float32"),
        pytest.param(lambda a: a.astype(np.int64), id="int64"),
        pytest.param(lambda a: a.tolist(), id="list"),
    ],
)
def test_wrong_param_dtype_or_type(impl, valid_problem, func, name, convert):
    X, Y, W, b = valid_problem
    params = {"W": W, "b": b}
    params[name] = convert(params[name])
    if isinstance(params[name], list):
        match = rf"\b{name} must be a numpy.ndarray"
        if func == "predict" and name == "W":
            # predict needs W's dimensions before anything else.
            with pytest.raises(ValueError, match=r"\bW must be a 1-D or 2-D ndarray"):
                call(func, X, Y, params["W"], params["b"])
            return
    else:
        match = rf"\b{name} must have dtype float64"
    assert_rejected(TypeError, match, func, X, Y, params["W"], params["b"])


@pytest.mark.parametrize("func", FUNCS)
def test_float64_params_with_float32_x(impl, func):
    X, Y, W, b = make_problem(N, D, 3, np.float32, seed=34)
    assert_rejected(TypeError, r"\bW must have dtype float32", func, X, Y, W.astype(np.float64), b)


@pytest.mark.parametrize("func", FUNCS)
def test_wrong_b_shape(impl, func):
    X, Y, W, b = make_problem(N, D, 3, np.float64, seed=35)
    assert_rejected(ValueError, r"\bb must have shape \(3,\)", func, X, Y, W, np.zeros(2))
    X, Y, W, b = make_problem(N, D, None, np.float64, seed=35)
    assert_rejected(ValueError, r"\bb must have shape \(1,\)", func, X, Y, W, np.zeros(()))


# ------------------------------------------------------------------ output buffers


@pytest.mark.parametrize("name", ["grad_W", "grad_b"])
def test_read_only_grad(impl, valid_problem, name):
    X, Y, W, b = valid_problem
    buf = np.empty_like(W if name == "grad_W" else b)
    buf.flags.writeable = False
    assert_rejected(ValueError, rf"\b{name} is written to in place, but it is read-only",
                    "loss_and_grad", X, Y, W, b, **{name: buf})


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("grad_W", lambda W, b: np.empty(W.shape, np.float32)),
        ("grad_W", lambda W, b: np.empty(W.shape[0] + 1)),
        ("grad_W", lambda W, b: list(W)),
        ("grad_b", lambda W, b: np.empty(2)),
        ("grad_b", lambda W, b: np.empty(1, np.float32)),
    ],
    ids=["grad_W-float32", "grad_W-shape", "grad_W-list", "grad_b-shape", "grad_b-float32"],
)
def test_bad_grad_buffer(impl, valid_problem, name, make):
    X, Y, W, b = valid_problem
    with pytest.raises((ValueError, TypeError), match=rf"\b{name} must"):
        call("loss_and_grad", X, Y, W, b, **{name: make(W, b)})


@pytest.mark.parametrize(
    "make_out",
    [
        pytest.param(lambda: np.empty(N, np.float32), id="float32"),
        pytest.param(lambda: np.empty((N, 1)), id="2-D"),
        pytest.param(lambda: np.empty(N - 1), id="short"),
    ],
)
def test_bad_predict_out(impl, valid_problem, make_out):
    X, Y, W, b = valid_problem
    with pytest.raises((ValueError, TypeError), match=r"\bout must"):
        call("predict", X, Y, W, b, out=make_out())


def test_read_only_predict_out(impl, valid_problem):
    X, Y, W, b = valid_problem
    out = np.empty(N)
    out.flags.writeable = False
    assert_rejected(ValueError, r"\bout is written to in place", "predict", X, Y, W, b, out=out)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: np.empty((3, 1)), id="2-D"),
        pytest.param(lambda: np.empty(0), id="empty"),
        pytest.param(lambda: np.empty(3, np.float32), id="float32"),
        pytest.param(lambda: np.empty(6)[::2], id="strided"),
        pytest.param(lambda: [0.0, 0.0], id="list"),
    ],
)
def test_bad_loss_out(impl, valid_problem, make):
    X, Y, W, b = valid_problem
    with pytest.raises((ValueError, TypeError), match=r"\bloss_out\b"):
        call("gd_epochs", X, Y, W, b, loss_out=make())


def test_read_only_loss_out(impl, valid_problem):
    X, Y, W, b = valid_problem
    loss_out = np.empty(3)
    loss_out.flags.writeable = False
    assert_rejected(ValueError, r"\bloss_out is written to in place", "gd_epochs", X, Y, W, b,
                    loss_out=loss_out)


# ------------------------------------------------------------------ in-place parameters


@pytest.mark.parametrize("func", TRAINERS)
@pytest.mark.parametrize("name", ["W", "b"])
def test_read_only_params_for_training(impl, valid_problem, func, name):
    X, Y, W, b = valid_problem
    params = {"W": W, "b": b}
    params[name].flags.writeable = False
    assert_rejected(ValueError, rf"\b{name} is written to in place, but it is read-only",
                    func, X, Y, W, b)


@pytest.mark.parametrize("func", TRAINERS)
@pytest.mark.parametrize(
    ("k", "make_w"),
    [
        (3, lambda W: np.asfortranarray(W)),
        (3, lambda W: np.repeat(W, 2, axis=1)[:, ::2]),
        (None, lambda W: np.repeat(W, 2)[::2]),
        (None, lambda W: W[::-1].copy()[::-1]),
    ],
    ids=["fortran", "column-strided", "1d-strided", "1d-negative-stride"],
)
def test_non_contiguous_w_for_training(impl, func, k, make_w):
    X, Y, W, b = make_problem(N, D, k, np.float64, seed=36)
    Wv = make_w(W)
    np.testing.assert_array_equal(Wv, W)
    assert not Wv.flags.c_contiguous
    assert_rejected(ValueError, r"\bW is updated in place and must be C-contiguous", func,
                    X, Y, Wv, b)


@pytest.mark.parametrize("func", TRAINERS)
def test_non_contiguous_b_for_training(impl, func):
    X, Y, W, b = make_problem(N, D, 3, np.float64, seed=37)
    bv = np.repeat(b, 2)[::2]
    assert_rejected(ValueError, r"\bb is updated in place and must be C-contiguous", func,
                    X, Y, W, bv)


@pytest.mark.parametrize("func", ["loss_and_grad", "predict"])
def test_non_contiguous_params_are_fine_when_only_read(impl, func):
    X, Y, W, b = make_problem(N, D, 3, np.float64, seed=38)
    expected = call(func, X, Y, W, b)
    got = call(func, X, Y, np.asfortranarray(W), np.repeat(b, 2)[::2])
    np.testing.assert_array_equal(got, expected)


# ------------------------------------------------------------------ learning rate


@pytest.mark.parametrize("func", TRAINERS)
@pytest.mark.parametrize("lr", [0.0, -0.01, -np.inf, np.inf, np.nan], ids=str)
def test_lr_out_of_range(impl, valid_problem, func, lr):
    X, Y, W, b = valid_problem
    assert_rejected(ValueError, r"\blr must be a positive finite number", func, X, Y, W, b, lr=lr)


@pytest.mark.parametrize("func", TRAINERS)
@pytest.mark.parametrize("lr", ["0.01", None, True, np.array([0.01]), 1j],
                         ids=["str", "None", "bool", "array", "complex"])
def test_lr_not_a_real_number(impl, valid_problem, func, lr):
    X, Y, W, b = valid_problem
    assert_rejected(TypeError, r"\blr must be a real number", func, X, Y, W, b, lr=lr)


@pytest.mark.parametrize("func", TRAINERS)
@pytest.mark.parametrize("lr", [1, np.float32(0.01), np.int64(1)], ids=["int", "float32", "int64"])
def test_lr_real_number_types_are_accepted(impl, valid_problem, func, lr):
    X, Y, W, b = valid_problem
    call(func, X, Y, W.copy(), b.copy(), lr=lr)


# ------------------------------------------------------------------ order and batch_size


@pytest.mark.parametrize(
    ("order", "exc", "match"),
    [
        ([0, 1, N], ValueError, rf"\border holds row indices from 0 to {N}, outside \[0, {N}\)"),
        ([2, -1, 0], ValueError, r"\border holds row indices from -1"),
        (np.array([0, 2**40]), ValueError, r"\border holds row indices"),
        (np.array([0.0, 1.0]), TypeError, r"\border must be an array of integer row indices"),
        (np.array([True, False]), TypeError, r"\border must be an array of integer"),
        ([0.5], TypeError, r"\border must be an array of integer"),
        (np.array([], dtype=np.intp), ValueError, r"\border must be a non-empty 1-D array"),
        (np.zeros((2, 2), dtype=np.intp), ValueError, r"\border must be a non-empty 1-D"),
        (np.intp(0), ValueError, r"\border must be a non-empty 1-D"),
    ],
    ids=["too-large", "negative", "huge", "float", "bool", "float-list", "empty", "2-D",
         "scalar"],
)
def test_bad_order(impl, valid_problem, order, exc, match):
    X, Y, W, b = valid_problem
    order_before = _bytes(order)
    assert_rejected(exc, match, "sgd_epoch", X, Y, W, b, order=order)
    assert _bytes(order) == order_before


@pytest.mark.parametrize(
    ("batch_size", "order", "exc", "match"),
    [
        (0, None, ValueError, rf"\bbatch_size must be between 1 and {N}, got 0"),
        (-1, None, ValueError, r"\bbatch_size must be between 1 and"),
        (N + 1, None, ValueError, rf"\bbatch_size must be between 1 and {N}, got {N + 1}"),
        # The bound is the number of rows visited, not the number of samples.
        (4, np.array([1, 2, 3]), ValueError, r"\bbatch_size must be between 1 and 3, got 4"),
        (2.0, None, TypeError, r"\bbatch_size must be an integer"),
        (True, None, TypeError, r"\bbatch_size must be an integer"),
        ("2", None, TypeError, r"\bbatch_size must be an integer"),
    ],
    ids=["zero", "negative", "above-n", "above-order-length", "float", "bool", "str"],
)
def test_bad_batch_size(impl, valid_problem, batch_size, order, exc, match):
    X, Y, W, b = valid_problem
    assert_rejected(exc, match, "sgd_epoch", X, Y, W, b, order=order, batch_size=batch_size)


def test_batch_size_numpy_integer_is_accepted(impl, valid_problem):
    X, Y, W, b = valid_problem
    W1, b1, W2, b2 = W.copy(), b.copy(), W.copy(), b.copy()
    m1 = kernels.sgd_epoch(X, Y, W1, b1, 0.01, batch_size=np.int32(N))
    m2 = kernels.sgd_epoch(X, Y, W2, b2, 0.01, batch_size=N)
    assert m1 == m2
    np.testing.assert_array_equal(W1, W2)


@pytest.mark.parametrize("func", ["sgd_epoch", "sgd_epochs"])
@pytest.mark.parametrize("where", ["X", "Y"])
def test_nan_in_rows_that_order_skips_is_still_refused(impl, func, where):
    rng = np.random.default_rng(9)
    X, Y = rng.standard_normal((9, 3)), rng.standard_normal(9)
    {"X": X, "Y": Y}[where].reshape(-1)[-1] = np.nan  # in row 8
    order = np.array([0, 1, 2, 3], dtype=np.intp)  # row 8 is never visited
    W, b = np.zeros(3), np.zeros(1)
    with pytest.raises(ValueError, match=rf"\b{where} contains NaN or infinity"):
        if func == "sgd_epoch":
            kernels.sgd_epoch(X, Y, W, b, 0.01, order=order)
        else:
            kernels.sgd_epochs(X, Y, W, b, 0.01, np.empty(2), order=order)
