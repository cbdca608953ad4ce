"""Property-based tests (hypothesis) of the kernels over shapes, dtypes, memory layouts
and values (issue 6). The strategies that draw the problems are in ../_strategies.py;
the estimators' property is in ../estimators/test_properties.py.

Every call either returns what `linreg.reference` computes on the validated arrays (X
converted to float32/float64 and made C-contiguous, Y converted to X's dtype), within a
tolerance derived below, or raises one of the documented errors: ValueError / TypeError
naming the bad argument. Never a crash, a hang, or a silent NaN or infinity.

Tolerances. For one sample i and output o let M_io = sum_j |x_ij w_jo| + |b_o| + |y_io|.
A residual r_io computed in working precision eps (2**-23 for float32, 2**-52 for float64)
by a dot product of d terms and two additions is off by at most about (d + 2) eps M_io;
we allow E_io = 2 (d + 4) eps M_io, which also covers the reference's own float64
rounding. Then, with nk = n * k,

    loss:   (1/nk) sum (2 |r| E + E**2)  +  sums of nk terms in double: 4 (nk + 2) 2**-52 loss
    dL/dW:  (2/nk) sum_i |x_ij| (E_io + (n + 8) eps |r_io|)  +  the final rounding eps |g|
    dL/db:  (2/nk) sum_i (E_io + (n + 8) eps |r_io|)         +  eps |g|
    XW + b: 2 (d + 4) eps (sum_j |x_ij w_jo| + |b_o|)          +  eps |out|

((n + 8) eps |r| covers r rounded to float32, the float32 products and sums of four rows
and the sum over n rows in double.) A small absolute floor covers products that fall into
the subnormal range. Each bound is multiplied by SAFETY. The trainers are checked along a
reference trajectory: with lr <= 0.5 / (1 + max_i |x_i|**2) every step is non-expansive
(the step matrix I - lr 2/(|B| k) A^T A, A = [X_B 1], has eigenvalues in [0, 1]), so
errors only add up: the bound after t steps is the sum over steps of lr * |gradient bound|
plus the rounding of the new parameters to their dtype.

Run with HYPOTHESIS_PROFILE=explore for random (not derandomized) examples, ten times as
many.
"""
import contextlib
import importlib
import math
import re
import types

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import linreg.kernels as kernels
from linreg import _compiled
import linreg.reference as reference
from _helpers import IMPLS, in_layout
from _strategies import F32, F64, HUGE_EXPONENTS, examples, problems, stable_lr

MODULES = [importlib.import_module(f"linreg._kernels_{name}") for name in IMPLS]

EPS = {F32: 2.0**-23, F64: 2.0**-52}
FLOOR = {F32: 1e-42, F64: 1e-320}
SAFETY = 4.0


@contextlib.contextmanager
def using(module):
    """Run `linreg.kernels` on the compiled variant `module` (generic, avx2 or avx512)."""
    saved = _compiled.build
    _compiled.build = module
    try:
        yield
    finally:
        _compiled.build = saved


# ------------------------------------------------------------------ problems, outcomes


def as2d(p, W=None, b=None):
    """float64 2-D copies (X, Y, W, b) of the validated problem."""
    W = p.W if W is None else W
    b = p.b if b is None else b
    k = 1 if p.k is None else p.k
    return (p.Xv.astype(np.float64), p.Yv.astype(np.float64).reshape(p.n, k),
            np.asarray(W, dtype=np.float64).reshape(p.d, k), np.asarray(b, dtype=np.float64))


def expected_data_error(p, uses_y=True):
    """The documented error for NaN/inf in the (validated) inputs, or None."""
    if p.special is not None and p.special[0] in ("W", "b"):
        return ValueError, rf"\b{p.special[0]} contains NaN or infinity"
    if not np.isfinite(p.Xv).all():
        return ValueError, r"\bX contains NaN or infinity"
    if uses_y and not np.isfinite(p.Yv).all():
        return ValueError, r"\bY contains NaN or infinity"
    return None


@contextlib.contextmanager
def documented_outcome(expected):
    """The block raises exactly `expected` = (types, regex), or, when None, nothing."""
    try:
        yield
    except (ValueError, TypeError) as error:
        if expected is None:
            raise AssertionError(f"valid input refused: {error!r}") from error
        assert isinstance(error, expected[0]), f"{error!r} is not {expected[0]}"
        assert re.search(expected[1], str(error)), f"{str(error)!r} !~ {expected[1]!r}"
        raise _Refused() from None
    else:
        assert expected is None, f"accepted invalid input (expected {expected})"


class _Refused(Exception):
    pass


# ---------------------------------------------------------------------- tolerances


def bounds(X, Y, W, b, eps, floor):
    """SAFETY-scaled error bounds of (loss, grad_W, grad_b) for float64 2-D arrays."""
    n, d = X.shape
    k = Y.shape[1]
    nk = n * k
    absX = np.abs(X)
    R = X @ W + b - Y
    absR = np.abs(R)
    E = 2 * (d + 4) * eps * (absX @ np.abs(W) + np.abs(b) + np.abs(Y)) + floor
    loss = float((R * R).sum() / nk)
    tol_loss = float((2 * absR * E + E * E).sum() / nk) + 4 * (nk + 2) * EPS[F64] * loss + floor
    T = E + (n + 8) * eps * absR
    grad_W = 2.0 / nk * (X.T @ R)
    grad_b = 2.0 / nk * R.sum(axis=0)
    tol_W = 2.0 / nk * (absX.T @ T) + eps * np.abs(grad_W) + floor
    tol_b = 2.0 / nk * T.sum(axis=0) + eps * np.abs(grad_b) + floor
    return SAFETY * tol_loss, SAFETY * tol_W, SAFETY * tol_b


def prediction_bound(X, W, b, eps, floor):
    d = X.shape[1]
    out = X @ W + b
    return SAFETY * (2 * (d + 4) * eps * (np.abs(X) @ np.abs(W) + np.abs(b)) + eps * np.abs(out)
                     + floor)


def assert_within(actual, expected, tol, what):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, (what, actual.shape, expected.shape)
    excess = np.abs(actual - expected) - tol
    assert (excess <= 0).all(), (
        f"{what}: kernel {actual.ravel()[np.argmax(excess)]!r} vs reference "
        f"{expected.ravel()[np.argmax(excess)]!r}, tolerance {np.ravel(tol)[np.argmax(excess)]!r}"
    )


# -------------------------------------------------------------- (a) loss_and_grad, predict

GRAD_CORRUPTIONS = {
    "W-dtype": (TypeError, r"\bW must have dtype"),
    "W-shape": (ValueError, r"\bW must have shape"),
    "W-list": (TypeError, r"\bW must be a numpy\.ndarray"),
    "b-shape": (ValueError, r"\bb must have shape"),
    "Y-rows": (ValueError, r"\bY has \d+ samples but X has \d+"),
    "grad_W-readonly": (ValueError, r"\bgrad_W is written to in place, but it is read-only"),
    "grad_b-dtype": (TypeError, r"\bgrad_b must have dtype"),
    "grad_W-shape": (ValueError, r"\bgrad_W must have shape"),
}


def corrupt(p, what, W, b, Y, buffers):
    """Apply one corruption; returns (W, b, Y, buffers)."""
    other = F64 if p.wdt == F32 else F32
    if what == "W-dtype":
        W = W.astype(other)
    elif what == "W-shape":
        W = np.zeros((p.d + 1,) + W.shape[1:], dtype=p.wdt)
    elif what == "W-list":
        W = W.tolist()
    elif what == "b-shape":
        b = np.zeros(b.shape[0] + 1, dtype=p.wdt)
    elif what == "Y-rows":
        Y = np.concatenate([Y, Y[:1]])
    elif what == "grad_W-readonly":
        buffers[0].flags.writeable = False
    elif what == "grad_b-dtype":
        buffers[1] = buffers[1].astype(other)
    elif what == "grad_W-shape":
        buffers[0] = np.empty((p.d + 1,) + W.shape[1:], dtype=p.wdt)
    return W, b, Y, buffers


@given(p=problems(), w_layout=st.sampled_from(["C", "F", "row-strided", "negative-stride"]),
       corruption=st.sampled_from([None] * 8 + list(GRAD_CORRUPTIONS)))
@settings(max_examples=examples(300))
def test_loss_and_grad_matches_the_reference_or_refuses(p, w_layout, corruption):
    W, b = in_layout(p.W, w_layout), in_layout(p.b, w_layout)
    expected = expected_data_error(p)
    Y = p.Y
    buffers = [np.full(p.W.shape, -1.0, dtype=p.wdt), np.full(p.b.shape, -1.0, dtype=p.wdt)]
    if corruption is not None:
        W, b, Y, buffers = corrupt(p, corruption, W, b, Y, buffers)
        special_in_params = p.special is not None and p.special[0] in ("W", "b")
        # Argument errors come first, except that non-finite W/b are found before the
        # gradient buffers are looked at.
        if not (corruption.startswith("grad") and special_in_params):
            expected = GRAD_CORRUPTIONS[corruption]
    X2, Y2, W2, b2 = as2d(p)
    for module in MODULES:
        with using(module):
            grad_W, grad_b = (buf.copy() if buf.flags.writeable else buf for buf in buffers)
            try:
                with documented_outcome(expected):
                    loss = kernels.loss_and_grad(p.X, Y, W, b, grad_W, grad_b)
            except _Refused:
                continue
        assert isinstance(loss, float) and math.isfinite(loss), loss
        assert np.isfinite(grad_W).all() and np.isfinite(grad_b).all()
        ref_gW, ref_gb = np.empty_like(W2), np.empty_like(b2)
        ref_loss = reference.loss_and_grad(X2, Y2, W2, b2, ref_gW, ref_gb)
        tol_loss, tol_W, tol_b = bounds(X2, Y2, W2, b2, EPS[p.wdt], FLOOR[p.wdt])
        assert_within(loss, ref_loss, tol_loss, f"{module.__name__} loss")
        assert_within(grad_W.reshape(W2.shape), ref_gW, tol_W, f"{module.__name__} grad_W")
        assert_within(grad_b, ref_gb, tol_b, f"{module.__name__} grad_b")


PREDICT_CORRUPTIONS = {
    "W-dtype": (TypeError, r"\bW must have dtype"),
    "W-shape": (ValueError, r"\bW must have shape"),
    "b-shape": (ValueError, r"\bb must have shape"),
    "out-shape": (ValueError, r"\bout must have shape"),
    "out-dtype": (TypeError, r"\bout must have dtype"),
    "out-readonly": (ValueError, r"\bout is written to in place, but it is read-only"),
}


@given(p=problems(), w_layout=st.sampled_from(["C", "F", "row-strided", "negative-stride"]),
       out_layout=st.sampled_from([None, "C", "F", "row-strided", "negative-stride"]),
       corruption=st.sampled_from([None] * 6 + list(PREDICT_CORRUPTIONS)))
@settings(max_examples=examples(200))
def test_predict_matches_the_reference_or_refuses(p, w_layout, out_layout, corruption):
    W, b = in_layout(p.W, w_layout), in_layout(p.b, w_layout)
    expected = expected_data_error(p, uses_y=False)
    out_shape = (p.n,) + p.W.shape[1:]
    out = None if out_layout is None else in_layout(np.full(out_shape, -1.0, p.wdt), out_layout)
    if corruption is not None:
        other = F64 if p.wdt == F32 else F32
        if corruption == "W-dtype":
            W = W.astype(other)
        elif corruption == "W-shape":
            W = np.zeros((p.d + 1,) + W.shape[1:], dtype=p.wdt)
        elif corruption == "b-shape":
            b = np.zeros(b.shape[0] + 1, dtype=p.wdt)
        elif corruption == "out-shape":
            out = np.empty((p.n + 1,) + out_shape[1:], dtype=p.wdt)
        elif corruption == "out-dtype":
            out = np.empty(out_shape, dtype=other)
        elif corruption == "out-readonly":
            out = np.empty(out_shape, dtype=p.wdt)
            out.flags.writeable = False
        special_in_params = expected is not None and p.special[0] in ("W", "b")
        if not (corruption.startswith("out") and special_in_params):
            expected = PREDICT_CORRUPTIONS[corruption]
    X2, _, W2, b2 = as2d(p)
    for module in MODULES:
        with using(module):
            buffer = None if out is None else (out.copy() if out.flags.writeable else out)
            try:
                with documented_outcome(expected):
                    result = kernels.predict(p.X, W, b, out=buffer)
            except _Refused:
                continue
        assert result.shape == out_shape and result.dtype == p.wdt
        if buffer is not None:
            assert result is buffer
        assert np.isfinite(result).all()
        expected_out = reference.predict(X2, W2, b2)
        assert_within(result.reshape(expected_out.shape), expected_out,
                      prediction_bound(X2, W2, b2, EPS[p.wdt], FLOOR[p.wdt]), module.__name__)


# --------------------------------------------------- (b) the trainers along a trajectory


class Trajectory:
    """The reference trajectory in float64 with a running bound on the parameter error."""

    def __init__(self, p, lr):
        self.p, self.lr = p, lr
        self.X, self.Y, W2, b2 = as2d(p)
        self.W = W2.reshape(p.W.shape).copy()  # the reference takes the kernels' shapes
        self.b = b2.copy()
        self.Yref = self.Y.reshape(p.Yv.shape)
        self.err = 0.0  # bound on |(W, b) kernel - (W, b) reference|_2
        # The loss is Lipschitz-smooth with constant at most 2 max_i (|x_i|^2 + 1) / k.
        self.smooth = 2.0 * float((np.sum(self.X**2, axis=1) + 1).max()) / self.Y.shape[1]

    def W2(self):
        return self.W.reshape(self.p.d, -1)

    def loss_tolerance(self, tol_loss, rows):
        XB, YB = self.X[rows], self.Y[rows]
        R = XB @ self.W2() + self.b - YB
        gnorm = 2.0 / YB.size * math.hypot(float(np.linalg.norm(XB.T @ R)), float(np.linalg.norm(R.sum(0))))
        return tol_loss + gnorm * self.err + self.smooth * self.err**2

    def step(self, rows, run):
        """One update on `rows` with `run()` (a reference call); returns (loss, bound)."""
        tol_loss, tol_W, tol_b = bounds(self.X[rows], self.Y[rows], self.W2(), self.b,
                                        EPS[self.p.wdt], FLOOR[self.p.wdt])
        loss_tol = self.loss_tolerance(tol_loss, rows)
        loss = run()
        eps = EPS[self.p.wdt] + EPS[F64]  # rounding of the new parameters
        self.err += self.lr * math.hypot(float(np.linalg.norm(tol_W)), float(np.linalg.norm(tol_b)))
        self.err += eps * math.hypot(float(np.linalg.norm(self.W)), float(np.linalg.norm(self.b)))
        return loss, loss_tol

    def gd_epoch(self):
        loss_out = np.empty(1)
        rows = np.arange(self.p.n)
        _, tol = self.step(rows, lambda: reference.gd_epochs(self.X,
                                                             self.Yref, self.W, self.b, self.lr,
                                                             loss_out))
        return float(loss_out[0]), tol

    def sgd_epoch(self, order, batch_size):
        rows = np.arange(self.p.n) if order is None else np.asarray(order)
        total, tol_total = 0.0, 0.0
        for start in range(0, len(rows), batch_size):
            batch = rows[start:start + batch_size]
            loss, tol = self.step(batch, lambda: reference.sgd_epoch(
                self.X, self.Yref, self.W, self.b, self.lr, order=batch, batch_size=len(batch)))
            total += loss * len(batch)
            tol_total += tol * len(batch)
        return total / len(rows), tol_total / len(rows)

    def assert_params_close(self, W, b, what):
        diff = math.hypot(float(np.linalg.norm(np.asarray(W, np.float64) - self.W)),
                          float(np.linalg.norm(np.asarray(b, np.float64) - self.b)))
        assert diff <= 2 * self.err + FLOOR[self.p.wdt], (
            f"{what}: |(W, b) - reference| = {diff!r} > bound {2 * self.err!r}")


@given(p=problems(specials=False), epochs=st.integers(1, 5), c=st.floats(0.01, 0.5))
@settings(max_examples=examples(100))
def test_gd_epochs_follows_the_reference_trajectory(p, epochs, c):
    lr = stable_lr(p, c)
    for module in MODULES:
        W, b = p.W.copy(), p.b.copy()
        loss_out = np.full(epochs + 1, -1.0)
        with using(module):
            n_done = kernels.gd_epochs(p.X, p.Y, W, b, lr, loss_out[:epochs])
        assert n_done == epochs, f"no divergence is possible at lr={lr}, got {n_done}"
        assert loss_out[epochs] == -1.0, "gd_epochs wrote past loss_out"
        assert np.isfinite(W).all() and np.isfinite(b).all()
        ref = Trajectory(p, lr)
        for epoch in range(epochs):
            loss, tol = ref.gd_epoch()
            assert_within(loss_out[epoch], loss, tol, f"{module.__name__} loss of epoch {epoch}")
        ref.assert_params_close(W, b, module.__name__)


@st.composite
def sgd_plans(draw, n):
    """(mode, order, batch_size, epochs) for sgd_epoch / sgd_epochs over n samples."""
    mode = draw(st.sampled_from(["natural", "order", "shuffled"]))
    order = None
    if mode == "order":
        order = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=2 * n))
    elif mode == "shuffled":
        order = np.arange(n, dtype=np.intp)
    m = n if order is None else len(order)
    batch_size = draw(st.one_of(st.just(1), st.just(m), st.integers(1, m)))
    epochs = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**64 - 1))
    return mode, order, batch_size, epochs, seed


@given(data=st.data(), p=problems(specials=False), c=st.floats(0.01, 0.5))
@settings(max_examples=examples(100))
def test_sgd_follows_the_reference_trajectory(data, p, c):
    mode, order, batch_size, epochs, seed = data.draw(sgd_plans(p.n))
    lr = stable_lr(p, c)
    for module in MODULES:
        W, b = p.W.copy(), p.b.copy()
        ref = Trajectory(p, lr)
        with using(module):
            if mode != "shuffled":
                losses = [kernels.sgd_epoch(p.X, p.Y, W, b, lr, order=order, batch_size=batch_size)
                          for _ in range(epochs)]
                orders = [order] * epochs
            else:
                kernel_order = order.copy()
                rng_state = np.array([seed], dtype=np.uint64)
                loss_out = np.full(epochs, -1.0)
                n_done = kernels.sgd_epochs(p.X, p.Y, W, b, lr, loss_out, order=kernel_order,
                                            batch_size=batch_size, rng_state=rng_state)
                assert n_done == epochs
                losses = list(loss_out)
                ref_order, ref_state = order.copy(), np.array([seed], dtype=np.uint64)
                orders = []
                for _ in range(epochs):
                    reference.shuffle(ref_order, ref_state)
                    orders.append(ref_order.copy())
                np.testing.assert_array_equal(kernel_order, ref_order)
                assert rng_state[0] == ref_state[0]
        assert np.isfinite(W).all() and np.isfinite(b).all()
        for epoch, (loss, rows) in enumerate(zip(losses, orders)):
            ref_loss, tol = ref.sgd_epoch(rows, batch_size)
            assert_within(loss, ref_loss, tol, f"{module.__name__} mean loss of epoch {epoch}")
        ref.assert_params_close(W, b, module.__name__)


@given(p=problems(specials=False, exponents={F32: ((-6, 12), (-4, 12), (-8, 12)),
                                             F64: ((-60, 150), (-30, 150), (-90, 150))}),
       epochs=st.integers(1, 6), log_lr=st.integers(0, 300), batch=st.sampled_from(["1", "3", "all"]))
@settings(max_examples=examples(100))
def test_trainers_with_a_large_lr_stop_with_finite_parameters(p, epochs, log_lr, batch):
    lr = min(stable_lr(p, 0.5) * 10.0**log_lr, 1e300)
    lr = lr if lr > 0 else 1e300
    for module in MODULES:
        with using(module):
            W, b = p.W.copy(), p.b.copy()
            loss_out = np.full(epochs + 1, -1.0)
            n_done = kernels.gd_epochs(p.X, p.Y, W, b, lr, loss_out[:epochs])
            assert 0 <= n_done <= epochs
            assert np.isfinite(W).all() and np.isfinite(b).all(), "gd_epochs left non-finite W, b"
            assert np.isfinite(loss_out[:n_done]).all()
            if n_done < epochs:  # diverged: that epoch's loss is recorded, nothing after it
                assert loss_out[n_done] != -1.0
                assert (loss_out[n_done + 1:] == -1.0).all()
            # W, b are the parameters after exactly n_done epochs.
            W2, b2 = p.W.copy(), p.b.copy()
            if n_done:
                assert kernels.gd_epochs(p.X, p.Y, W2, b2, lr, np.empty(n_done)) == n_done
            np.testing.assert_array_equal(W2, W)
            np.testing.assert_array_equal(b2, b)

            W, b = p.W.copy(), p.b.copy()
            batch_size = {"1": 1, "3": min(3, p.n), "all": p.n}[batch]
            for _ in range(epochs):
                mean = kernels.sgd_epoch(p.X, p.Y, W, b, lr, batch_size=batch_size)
                assert np.isfinite(W).all() and np.isfinite(b).all(), "sgd_epoch left non-finite W, b"
                if not math.isfinite(mean):
                    break


# -------------------------------------------------------------------- overflow regime


@given(p=problems(specials=False, exponents=HUGE_EXPONENTS))
@settings(max_examples=examples(100))
def test_predict_never_returns_an_overflow(p):
    for module in MODULES:
        with using(module):
            try:
                out = kernels.predict(p.X, p.W, p.b)
            except ValueError as error:
                assert "overflowed" in str(error), error
            else:
                assert np.isfinite(out).all()


@given(p=problems(specials=False, exponents=HUGE_EXPONENTS))
@example(p=types.SimpleNamespace(  # X = 1e300, y = 1e10, W = b = 0: loss 1e20, dL/dW = -inf
    n=5, d=2, k=None, wdt=F64, special=None, X=np.full((5, 2), 1e300), Y=np.full(5, 1e10),
    W=np.zeros(2), b=np.zeros(1), Xv=None, Yv=None, x_layout="C", y_layout="C"))
@settings(max_examples=examples(60))
def test_loss_and_grad_never_returns_a_non_finite_gradient(p):
    for module in MODULES:
        with using(module):
            grad_W, grad_b = np.empty_like(p.W), np.empty_like(p.b)
            try:
                loss = kernels.loss_and_grad(p.X, p.Y, p.W, p.b, grad_W, grad_b)
            except ValueError as error:
                assert "overflowed" in str(error), error
            else:
                assert math.isfinite(loss)
                assert np.isfinite(grad_W).all() and np.isfinite(grad_b).all(), (
                    f"loss {loss!r} is finite but grad_W = {grad_W!r}, grad_b = {grad_b!r}")


@pytest.mark.parametrize("dtype, x, y", [(np.float64, 1e300, 1e10), (np.float32, 1e30, 1e15)],
                         ids=["float64", "float32"])
def test_gradient_overflow_is_reported(impl, dtype, x, y):
    X = np.full((5, 2), x, dtype)
    Y = np.full(5, y, dtype)
    W, b = np.zeros(2, dtype), np.zeros(1, dtype)
    grad_W, grad_b = np.empty_like(W), np.empty_like(b)
    with pytest.raises(ValueError, match="overflowed"):
        loss = kernels.loss_and_grad(X, Y, W, b, grad_W, grad_b)
        # Reached only without the error: show what came back.
        pytest.fail(f"returned loss={loss!r} with grad_W={grad_W!r}")
