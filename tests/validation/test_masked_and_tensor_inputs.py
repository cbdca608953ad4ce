"""Masked arrays and tensors that record gradients, as inputs (issue 10, "Inputs").

A numpy.ma.MaskedArray with masked entries is refused by name (its hidden values would
otherwise train the model); one without masked entries is used through its data, without
a copy. An object whose __array__ refuses while it records gradients (torch's
requires_grad) is used through its detached view, also without a copy; any other
exception from a foreign __array__ becomes a ValueError/TypeError naming the argument.

torch is optional: `StandInTensor` mimics the behaviour that matters, and one test runs
the real thing when torch is installed.
"""
import numpy as np
import pytest

import linreg
import linreg.kernels as kernels
from linreg._validation import as_data_matrix, as_targets
from _helpers import make_problem

N, D = 12, 3
ESTIMATORS = [linreg.GDRegressor, linreg.SGDRegressor]
EST_IDS = ["GD", "SGD"]


def data(dtype=np.float64):
    X, y, _, _ = make_problem(N, D, None, dtype, seed=11)
    return X, y


def new(Estimator, **params):
    if Estimator is linreg.SGDRegressor:
        params.setdefault("random_state", 0)
    return Estimator(epochs=3, **params)


def masked(A, *positions):
    """A masked array over A (no copy) with the given entries masked."""
    mask = np.zeros(A.shape, dtype=bool)
    for position in positions:
        mask[position] = True
    return np.ma.MaskedArray(A, mask=mask, copy=False)


# ------------------------------------------------------------------------ masked arrays


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize(("which", "positions", "match"), [
    ("X", [(0, 0)], r"^X is a masked array with 1 masked entry; fill or drop them"),
    ("X", [(0, 0), (5, 2), (11, 1)], r"^X is a masked array with 3 masked entries; fill or drop"),
    ("y", [(4,)], r"^y is a masked array with 1 masked entry; fill or drop them"),
])
def test_fit_refuses_masked_entries_by_name_and_leaves_the_model(Estimator, method, which,
                                                                 positions, match):
    X, y = data()
    args = {"X": X, "y": y}
    args[which] = masked(args[which], *positions)
    model = new(Estimator)
    with pytest.raises(ValueError, match=match):
        getattr(model, method)(args["X"], args["y"])
    assert not hasattr(model, "coef_")


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
def test_predict_and_score_refuse_masked_entries(Estimator):
    X, y = data()
    model = new(Estimator).fit(X, y)
    with pytest.raises(ValueError, match=r"^X is a masked array with 1 masked entry"):
        model.predict(masked(X, (2, 2)))
    with pytest.raises(ValueError, match=r"^X is a masked array with 1 masked entry"):
        model.score(masked(X, (2, 2)), y)
    with pytest.raises(ValueError, match=r"^y is a masked array with 2 masked entries"):
        model.score(X, masked(y, (0,), (1,)))


def kernel_call(func, X, Y=None, W=None, b=None):
    if func == "loss_and_grad":
        grad_W, grad_b = np.empty(np.shape(W)), np.empty(np.shape(b))
        return kernels.loss_and_grad(X, Y, W, b, grad_W, grad_b)
    if func == "predict":
        return kernels.predict(X, W, b)
    if func == "gd_epochs":
        return kernels.gd_epochs(X, Y, W, b, 0.01, np.empty(2))
    if func == "sgd_epoch":
        return kernels.sgd_epoch(X, Y, W, b, 0.01)
    if func == "sgd_epochs":
        return kernels.sgd_epochs(X, Y, W, b, 0.01, np.empty(2))
    return kernels.gram_statistics(X, Y)


# The array arguments of each kernel that reads data.
KERNEL_ARGS = {"loss_and_grad": "XYWb", "predict": "XWb", "gd_epochs": "XYWb",
               "sgd_epoch": "XYWb", "sgd_epochs": "XYWb", "gram_statistics": "XY"}


@pytest.mark.parametrize(("func", "which"), [
    (func, which) for func, names in KERNEL_ARGS.items() for which in names
])
def test_kernels_refuse_masked_entries_by_name(impl, func, which):
    X, Y, W, b = make_problem(N, D, None, np.float64, seed=3)
    args = {"X": X, "Y": Y, "W": W, "b": b}
    if func == "predict":
        del args["Y"]
    if func == "gram_statistics":
        del args["W"], args["b"]
    args[which] = masked(args[which], (0,) * args[which].ndim)
    before = {name: np.array(np.ma.getdata(a), copy=True) for name, a in args.items()}
    with pytest.raises(ValueError, match=rf"^{which} is a masked array with 1 masked entry"):
        kernel_call(func, **args)
    for name, a in args.items():
        np.testing.assert_array_equal(np.ma.getdata(a), before[name], err_msg=name)


@pytest.mark.parametrize("func", ["sgd_epoch", "sgd_epochs"])
def test_a_masked_order_is_refused(impl, func):
    X, Y, W, b = make_problem(N, D, None, np.float64, seed=3)
    order = masked(np.arange(N, dtype=np.intp), (3,))
    with pytest.raises(ValueError, match=r"^order is a masked array with 1 masked entry"):
        if func == "sgd_epoch":
            kernels.sgd_epoch(X, Y, W, b, 0.01, order=order)
        else:
            kernels.sgd_epochs(X, Y, W, b, 0.01, np.empty(2), order=order)


# Regression guards: the fix must keep mask-free masked arrays working and uncopied.

@pytest.mark.parametrize("mask", ["nomask", "all-false"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_mask_free_masked_array_reaches_the_kernels_uncopied(mask, dtype):
    X, y = data(dtype)
    Xm = np.ma.MaskedArray(X, copy=False) if mask == "nomask" else masked(X)
    ym = np.ma.MaskedArray(y, copy=False) if mask == "nomask" else masked(y)
    X_checked = as_data_matrix(Xm)
    assert type(X_checked) is np.ndarray
    assert X_checked.dtype == dtype and X_checked.flags.c_contiguous
    assert np.shares_memory(X_checked, X)
    Y_checked = as_targets(ym, N, np.dtype(dtype))
    assert type(Y_checked) is np.ndarray and np.shares_memory(Y_checked, y)


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
def test_a_mask_free_masked_array_trains_like_its_data(Estimator):
    X, y = data()
    plain = new(Estimator).fit(X, y)
    from_masked = new(Estimator).fit(masked(X), masked(y))
    np.testing.assert_array_equal(from_masked.coef_, plain.coef_)
    np.testing.assert_array_equal(from_masked.intercept_, plain.intercept_)


# -------------------------------------------------------- tensors that record gradients


class StandInTensor:
    """Behaves like a torch tensor for numpy: __array__ raises RuntimeError while
    requires_grad is set (torch's message), and detach() returns a view without grad."""

    def __init__(self, data, requires_grad=True):
        self._data = data
        self.requires_grad = requires_grad
        self.detach_calls = 0

    def detach(self):
        self.detach_calls += 1
        return StandInTensor(self._data, requires_grad=False)  # the same memory

    def __array__(self, dtype=None, copy=None):
        if self.requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. "
                "Use tensor.detach().numpy() instead."
            )
        return self._data if dtype is None else self._data.astype(dtype, copy=False)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_tensor_that_requires_grad_is_used_detached_without_a_copy(dtype):
    X, y = data(dtype)
    tX, ty = StandInTensor(X), StandInTensor(y)
    X_checked = as_data_matrix(tX)
    assert np.shares_memory(X_checked, X) and X_checked.dtype == dtype
    assert np.shares_memory(as_targets(ty, N, np.dtype(dtype)), y)
    assert tX.requires_grad and ty.requires_grad  # the caller's objects are untouched


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
def test_estimators_train_on_tensors_that_require_grad(Estimator):
    X, y = data()
    plain = new(Estimator).fit(X, y)
    model = new(Estimator).fit(StandInTensor(X), StandInTensor(y))
    np.testing.assert_array_equal(model.coef_, plain.coef_)
    np.testing.assert_array_equal(model.predict(StandInTensor(X)), plain.predict(X))
    assert model.score(StandInTensor(X), StandInTensor(y)) == plain.score(X, y)


def test_kernels_take_tensors_that_require_grad(impl):
    X, Y, W, b = make_problem(N, D, None, np.float64, seed=5)
    gW, gb = np.empty_like(W), np.empty_like(b)
    expected = kernels.loss_and_grad(X, Y, W, b, gW, gb)
    gW2, gb2 = np.empty_like(W), np.empty_like(b)
    assert kernels.loss_and_grad(StandInTensor(X), StandInTensor(Y), W, b, gW2, gb2) == expected
    np.testing.assert_array_equal(gW2, gW)


class FailingArray:
    """A foreign array-like whose __array__ raises `error`."""

    def __init__(self, error):
        self.error = error

    def __array__(self, dtype=None, copy=None):
        raise self.error


@pytest.mark.parametrize("error", [
    RuntimeError("device not ready"),
    KeyError("storage"),
    ZeroDivisionError("bad stride"),
    OSError("backing file gone"),
], ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("which", ["X", "y"])
def test_a_foreign_array_that_fails_to_convert_is_a_clear_error(error, which):
    X, y = data()
    args = {"X": X, "y": y}
    args[which] = FailingArray(error)
    with pytest.raises((TypeError, ValueError),
                       match=rf"^{which} could not be converted to a numeric array.*"
                       rf"{type(error).__name__}"):
        linreg.GDRegressor(epochs=2).fit(args["X"], args["y"])


def test_a_tensor_whose_detach_fails_is_a_clear_error():
    class Undetachable(StandInTensor):
        def detach(self):
            raise RuntimeError("cannot detach a view created in no_grad mode")

    X, y = data()
    with pytest.raises((TypeError, ValueError), match=r"^X .*RuntimeError.*detach"):
        linreg.GDRegressor(epochs=2).fit(Undetachable(X), y)


def test_real_torch_tensors_that_require_grad():
    torch = pytest.importorskip("torch")
    X, y = data()
    tX = torch.tensor(X, requires_grad=True)
    ty = torch.tensor(y, requires_grad=True)
    # torch's own conversion refuses: this is the behaviour the stand-in mimics.
    with pytest.raises(RuntimeError, match="requires grad"):
        np.asarray(tX)
    X_checked = as_data_matrix(tX)
    assert np.shares_memory(X_checked, tX.detach().numpy())  # detached view, no copy
    model = linreg.GDRegressor(epochs=3).fit(tX, ty)
    np.testing.assert_array_equal(model.coef_, linreg.GDRegressor(epochs=3).fit(X, y).coef_)
    assert tX.requires_grad and tX.grad is None
    np.testing.assert_array_equal(tX.detach().numpy(), X)
