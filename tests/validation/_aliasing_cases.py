"""The array arguments of every writing kernel of linreg.kernels, for the aliasing tests.

`specs` lists them with their roles (read or written), `fill` gives them valid values,
`call` runs the kernel on them. Shared by test_kernel_output_aliasing.py and
test_aliasing_properties.py (this folder's conftest.py puts it on sys.path).
"""
import numpy as np

import linreg.kernels as kernels
from _helpers import make_problem
from linreg._structs import EARLY_STOP

__all__ = ["N", "D", "K", "FUNCS", "specs", "nbytes", "fill", "call"]

N, D, K = 6, 3, 2


def specs(func, dtype, k):
    """{name: (shape, dtype, role)} of the array arguments of `func`, role "in" or "out"."""
    dtype = np.dtype(dtype)
    w_shape = (D,) if k is None else (D, k)
    n_out = 1 if k is None else k
    y_shape = (N,) if k is None else (N, k)
    X, Y = ((N, D), dtype, "in"), (y_shape, dtype, "in")
    W_in, b_in = (w_shape, dtype, "in"), ((n_out,), dtype, "in")
    W_out, b_out = (w_shape, dtype, "out"), ((n_out,), dtype, "out")
    loss_out, early_stop = ((3,), np.float64, "out"), ((1,), EARLY_STOP, "out")
    order_in, order_out = ((N,), np.intp, "in"), ((N,), np.intp, "out")
    rng_state = ((1,), np.uint64, "out")
    if func == "loss_and_grad":
        return dict(X=X, Y=Y, W=W_in, b=b_in, grad_W=(w_shape, dtype, "out"),
                    grad_b=((n_out,), dtype, "out"))
    if func == "predict":
        return dict(X=X, W=W_in, b=b_in, out=(y_shape, dtype, "out"))
    if func == "gd_epochs":
        return dict(X=X, Y=Y, W=W_out, b=b_out, loss_out=loss_out, early_stop=early_stop)
    if func == "gd_epochs_gram":
        f8 = np.dtype(np.float64)
        return {"stats.XtX": ((D, D), f8, "in"), "stats.XtY": ((D, n_out), f8, "in"),
                "stats.mean_X": ((D,), f8, "in"), "stats.mean_Y": ((n_out,), f8, "in"),
                "stats.ref_W": ((D, n_out), f8, "in"), "stats.ref_grad": ((D, n_out), f8, "in"),
                "W": W_out, "b": b_out, "loss_out": loss_out, "early_stop": early_stop}
    if func == "sgd_epoch":
        return dict(X=X, Y=Y, W=W_out, b=b_out, order=order_in)
    if func == "sgd_epochs":
        return dict(X=X, Y=Y, W=W_out, b=b_out, loss_out=loss_out, early_stop=early_stop,
                    order=order_in)
    if func == "sgd_epochs+shuffle":  # with rng_state, order is shuffled in place
        return dict(X=X, Y=Y, W=W_out, b=b_out, loss_out=loss_out, early_stop=early_stop,
                    order=order_out, rng_state=rng_state)
    if func == "shuffle":
        return dict(order=order_out, rng_state=rng_state)
    raise ValueError(func)


FUNCS = ["loss_and_grad", "predict", "gd_epochs", "gd_epochs_gram", "sgd_epoch", "sgd_epochs",
         "sgd_epochs+shuffle", "shuffle"]


def nbytes(spec):
    """Bytes of one (shape, dtype, role) entry of `specs`."""
    shape, dtype, _ = spec
    return int(np.prod(shape)) * np.dtype(dtype).itemsize


def fill(func, arrays, dtype, k):
    """Valid values, written outputs first, then W and b (read too), then inputs, `order`
    at the very end: where two arguments overlap, what is read keeps valid values (finite
    parameters, row indices in range), so that the overlap is what gets refused."""
    X, Y, W, b = make_problem(N, D, k, dtype, seed=12)
    values = {"X": X, "Y": Y, "W": W, "b": b, "loss_out": 0.0,
              "early_stop": kernels.new_early_stop(1e-3, 2), "rng_state": 12345,
              "grad_W": 0.0, "grad_b": 0.0, "out": 0.0}
    if func == "gd_epochs_gram":
        stats = kernels.gram_statistics(X.astype(np.float64), Y.astype(np.float64))
        for field in ("XtX", "XtY", "mean_X", "mean_Y", "ref_W", "ref_grad"):
            values[f"stats.{field}"] = getattr(stats, field)
    roles = specs(func, dtype, k)

    def rank(name):  # later writes win where arguments overlap
        if name == "order":
            return 3
        return 2 if roles[name][2] == "in" else 1 if name in ("W", "b") else 0

    names = sorted(arrays, key=rank)
    for name in names:
        if name == "order":
            arrays[name][...] = np.arange(N)[::-1]
        else:
            arrays[name][...] = np.asarray(values[name]).reshape(arrays[name].shape) \
                if np.ndim(values[name]) else values[name]


def call(func, a, dtype, k):
    """Run `func` on the arrays `a` (from `specs`), with lr 0.01 for the trainers."""
    if func == "loss_and_grad":
        return kernels.loss_and_grad(a["X"], a["Y"], a["W"], a["b"], a["grad_W"], a["grad_b"])
    if func == "predict":
        return kernels.predict(a["X"], a["W"], a["b"], out=a["out"])
    if func == "gd_epochs":
        return kernels.gd_epochs(a["X"], a["Y"], a["W"], a["b"], 0.01, a["loss_out"],
                                 early_stop=a["early_stop"])
    if func == "gd_epochs_gram":
        X, Y, _, _ = make_problem(N, D, k, np.float64, seed=12)
        stats = kernels.gram_statistics(X, Y)._replace(
            XtX=a["stats.XtX"], XtY=a["stats.XtY"], mean_X=a["stats.mean_X"],
            mean_Y=a["stats.mean_Y"], ref_W=a["stats.ref_W"], ref_grad=a["stats.ref_grad"])
        return kernels.gd_epochs_gram(stats, a["W"], a["b"], 0.01, a["loss_out"],
                                      early_stop=a["early_stop"])
    if func == "sgd_epoch":
        return kernels.sgd_epoch(a["X"], a["Y"], a["W"], a["b"], 0.01, order=a["order"])
    if func in ("sgd_epochs", "sgd_epochs+shuffle"):
        return kernels.sgd_epochs(a["X"], a["Y"], a["W"], a["b"], 0.01, a["loss_out"],
                                  order=a["order"], rng_state=a.get("rng_state"),
                                  early_stop=a["early_stop"])
    return kernels.shuffle(a["order"], a["rng_state"])
