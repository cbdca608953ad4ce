"""No kernel writes into memory that another argument uses (issue 10, "Memory safety").

`loss_and_grad(..., grad_W=X[0])` used to write the gradient into X, and `sgd_epochs` did
not check W, b, loss_out or rng_state against `order`: a write there corrupted validated
row indices and X was then read out of bounds. Every function of linreg.kernels that
writes into a caller's buffer now refuses, before any work, an output that shares memory
with an input or with another output, naming both.

Each case places every argument in one shared byte buffer, all apart except the pair
under test, whose output starts at the other's first byte ("head") or ends on its first
element ("tail"). The whole buffer must be left unchanged by the refusal.
"""
import numpy as np
import pytest

import linreg.kernels as kernels
from linreg import _validation
from linreg._validation import check_no_overlap
from _aliasing_cases import D, FUNCS, K, N, call, fill, nbytes, specs
from _helpers import make_problem

ALIGN = 64


def _round_up(value, multiple):
    return -(-value // multiple) * multiple


def place(func, dtype, k, pair=None, where="head", gap=True):
    """Views of one shared buffer for the arguments of `func` (and the buffer).

    Apart (with room between them when `gap`, side by side otherwise) except `pair` =
    (output, other): the output starts at the other's first byte ("head") or ends on
    its first element ("tail").
    """
    spec = specs(func, dtype, k)
    room = max(nbytes(s) for s in spec.values()) + ALIGN if gap else 0
    offsets, at = {}, ALIGN + room
    for name, s in spec.items():
        if pair is not None and name == pair[0]:
            continue
        at = _round_up(at, ALIGN if gap else np.dtype(s[1]).itemsize)
        offsets[name] = at
        at += nbytes(s) + room
    if pair is not None:
        out, other = pair
        itemsize = np.dtype(spec[out][1]).itemsize
        offsets[out] = offsets[other] if where == "head" else \
            offsets[other] - nbytes(spec[out]) + itemsize
    buffer = np.zeros(at + room + ALIGN, dtype=np.uint8)
    arrays = {name: np.ndarray(s[0], dtype=s[1], buffer=buffer, offset=offsets[name])
              for name, s in spec.items()}
    fill(func, arrays, dtype, k)
    return arrays, buffer


def pairs():
    """(func, output, other): every output against every input and every later output."""
    for func in FUNCS:
        spec = specs(func, np.float64, None)
        outputs = [n for n, s in spec.items() if s[2] == "out"]
        for i, out in enumerate(outputs):
            for other in outputs[i + 1:] + [n for n, s in spec.items() if s[2] == "in"]:
                yield pytest.param(func, out, other, id=f"{func}-{out}-{other}")


def names_both(message, a, b):
    return a in message and b in message and "memory" in message


@pytest.mark.parametrize("where", ["head", "tail"])
@pytest.mark.parametrize(("func", "out", "other"), list(pairs()))
def test_an_output_overlapping_another_argument_is_refused(impl, func, out, other, where):
    arrays, buffer = place(func, np.float64, None, pair=(out, other), where=where)
    assert np.shares_memory(arrays[out], arrays[other])
    before = buffer.copy()
    with pytest.raises(ValueError) as info:
        call(func, arrays, np.float64, None)
    assert names_both(str(info.value), out, other), str(info.value)
    np.testing.assert_array_equal(buffer, before)  # refused before any work


@pytest.mark.parametrize(("func", "out", "other"), [
    ("loss_and_grad", "grad_W", "X"), ("gd_epochs", "W", "Y"), ("gd_epochs", "loss_out", "X"),
    ("sgd_epochs+shuffle", "order", "X"), ("predict", "out", "W"),
])
def test_float32_arguments_overlapping_float64_ones_are_refused(impl, func, out, other):
    arrays, buffer = place(func, np.float32, K, pair=(out, other))
    before = buffer.copy()
    with pytest.raises(ValueError) as info:
        call(func, arrays, np.float32, K)
    assert names_both(str(info.value), out, other), str(info.value)
    np.testing.assert_array_equal(buffer, before)


@pytest.mark.parametrize("k", [None, K])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("func", FUNCS)
def test_arguments_packed_side_by_side_in_one_buffer_are_fine(impl, func, dtype, k):
    # No false alarm: adjacent views of one buffer share no byte.
    arrays, _ = place(func, dtype, k, gap=False)
    separate = {name: a.copy() for name, a in arrays.items()}
    inputs = {name: a.copy() for name, a in arrays.items()
              if specs(func, dtype, k)[name][2] == "in"}
    result = call(func, arrays, dtype, k)
    expected = call(func, separate, dtype, k)
    if isinstance(result, np.ndarray):
        np.testing.assert_array_equal(result, expected)
    else:
        assert result == expected
    for name, a in arrays.items():
        np.testing.assert_array_equal(a, separate[name], err_msg=name)
    for name, a in inputs.items():
        np.testing.assert_array_equal(arrays[name], a, err_msg=f"{name} was modified")


# ----------------------------------------------------------------- specific reproductions


def test_loss_and_grad_into_a_row_of_x_is_refused(impl):
    X, Y, W, b = make_problem(N, D, None, np.float64, seed=1)
    X_before = X.copy()
    with pytest.raises(ValueError, match=r"grad_W.*X"):
        kernels.loss_and_grad(X, Y, W, b, X[0], np.empty(1))
    np.testing.assert_array_equal(X, X_before)


@pytest.mark.parametrize("layout", ["F", "int64"])
def test_an_output_inside_an_x_that_gets_converted_is_refused(impl, layout):
    # The kernel reads a converted copy of X, but the caller's X would still be written.
    X, Y, W, b = make_problem(N, D, None, np.float64, seed=1)
    if layout == "F":
        X_given = np.asfortranarray(X)  # copied to C order
        grad_W = X_given[0]  # strided, inside X
    else:
        X_given = np.round(X * 10).astype(np.int64)  # converted to float64
        grad_W = X_given.view(np.float64)[0]
    before = X_given.copy()
    with pytest.raises(ValueError, match=r"grad_W.*X"):
        kernels.loss_and_grad(X_given, Y, W, b, grad_W, np.empty(1))
    np.testing.assert_array_equal(X_given, before)


def test_an_output_inside_a_foreign_array_is_refused(impl):
    class ArrayLike:  # not an ndarray: only the converted X (a view of it) can tell
        def __init__(self, data):
            self._data = data

        def __array__(self, dtype=None, copy=None):
            return self._data

    X, Y, W, b = make_problem(N, D, None, np.float64, seed=1)
    before = X.copy()
    with pytest.raises(ValueError, match=r"grad_W.*X"):
        kernels.loss_and_grad(ArrayLike(X), Y, W, b, X[1], np.empty(1))
    np.testing.assert_array_equal(X, before)


def test_interleaved_but_disjoint_views_are_fine(impl):
    X, Y, W, b = make_problem(N, D, None, np.float64, seed=1)
    M = np.zeros((N, 2 * D))
    M[:, ::2] = X
    grad_W = M[0, 1::2]  # the odd columns of row 0: between X's entries, not on them
    expected_W = np.empty_like(W)
    expected = kernels.loss_and_grad(X, Y, W, b, expected_W, np.empty(1))
    assert kernels.loss_and_grad(M[:, ::2], Y, W, b, grad_W, np.empty(1)) == expected
    np.testing.assert_array_equal(grad_W, expected_W)
    np.testing.assert_array_equal(M[:, ::2], X)


def test_sgd_epochs_refuses_loss_out_over_order(impl):
    # The crash: the losses written over `order` become row indices far out of
    # range, read on the next epoch (shuffled or not).
    X, Y, W, b = make_problem(N, D, None, np.float64, seed=1)
    buffer = np.zeros(N, dtype=np.intp)
    order = buffer
    order[...] = np.arange(N)
    loss_out = buffer.view(np.float64)[:3]
    with pytest.raises(ValueError, match=r"loss_out.*order|order.*loss_out"):
        kernels.sgd_epochs(X, Y, W, b, 0.01, loss_out, order=order)
    np.testing.assert_array_equal(order, np.arange(N))


def test_a_read_only_input_may_be_shared_by_several_inputs(impl):
    # Only writes matter: X and Y (and W, b in loss_and_grad) may view one buffer.
    base = np.random.default_rng(3).standard_normal(N * D + N)
    X, Y = base[: N * D].reshape(N, D), base[N * D - N:N * D]  # Y overlaps X's last rows
    W, b = X[0].copy(), np.zeros(1)
    kernels.loss_and_grad(X, Y, W, b, np.empty(D), np.empty(1))
    kernels.predict(X, X[1], X[2, :1])


# ------------------------------------------------------------------ check_no_overlap


def test_check_no_overlap_names_the_output_and_what_it_overlaps():
    base = np.zeros(20)
    with pytest.raises(ValueError, match=r"^grad_W shares memory with X: grad_W is written "
                       r"in place, so it must not overlap X$"):
        check_no_overlap({"grad_W": base[:3]}, {"X": base[2:].reshape(6, 3)})
    with pytest.raises(ValueError, match=r"^W shares memory with b\b"):
        check_no_overlap({"W": base[:3], "b": base[2:3]}, {})


def test_check_no_overlap_skips_none_and_what_is_no_ndarray():
    base = np.zeros(20)
    check_no_overlap({"out": base[:3], "early_stop": None},
                     {"X": [[0.0, 1.0]], "Y": None, "W": base[3:6], "b": (None, base[6:7])})


def test_check_no_overlap_checks_every_array_of_an_argument():
    # X as given (a Fortran-ordered array) and as converted (its C-ordered copy).
    X_given = np.asfortranarray(np.zeros((4, 3)))
    X = np.ascontiguousarray(X_given)
    check_no_overlap({"grad_W": np.zeros(3)}, {"X": (X_given, X)})
    for inside in (X_given[0], X[0]):
        with pytest.raises(ValueError, match=r"^grad_W shares memory with X\b"):
            check_no_overlap({"grad_W": inside}, {"X": (X_given, X)})


def test_check_no_overlap_allows_interleaved_views_and_inputs_that_overlap():
    base = np.zeros((4, 6))
    check_no_overlap({"out": base[:, 1::2]}, {"X": base[:, ::2]})  # disjoint columns
    check_no_overlap({}, {"X": base, "Y": base[0]})  # only read: may overlap


def test_check_no_overlap_refuses_what_it_cannot_settle(monkeypatch):
    # With no effort allowed, interleaved (disjoint) views cannot be told apart from
    # overlapping ones: refused, as a possible overlap. Never a missed one.
    monkeypatch.setattr(_validation, "MAX_OVERLAP_WORK", 0)
    base = np.zeros((4, 6))
    with pytest.raises(ValueError, match=r"^out may share memory with X\b"):
        check_no_overlap({"out": base[:, 1::2]}, {"X": base[:, ::2]})
    check_no_overlap({"out": np.zeros(3)}, {"X": base})  # separate buffers: settled
