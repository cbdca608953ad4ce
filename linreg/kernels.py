"""Compiled kernels for y = XW + b under mean squared error, with argument checking.

Shapes follow the seed tutorial: X (n_samples, n_features), Y (n_samples, n_outputs),
W (n_features, n_outputs), b (n_outputs,). A 1-D target Y of shape (n_samples,) goes with
a 1-D W of shape (n_features,) and b of shape (1,).

The loss is the mean over all n*k entries of the squared residual R = XW + b - Y,

    L = 1/(n k) sum_{i,o} R_io^2,   dL/dW = 2/(n k) X^T R,   dL/db = 2/(n k) sum_i R_i,

which is PyTorch's ``torch.mean((pred - y) ** 2)``.

The kernels come from a compiled module chosen at import: `_kernels_avx512` on CPUs with
AVX-512 (F, DQ, VL, BW), else `_kernels_avx2` on CPUs with AVX2 and FMA, else
`_kernels_generic` (set LINREG_SIMD=generic, avx2 or avx512 to force one; `simd` names
the one in use). The builds round differently in the last bits (FMA, wider vector sums);
each is deterministic.

Every function takes X as float32 or float64 and works in that dtype: a C-contiguous X
is used in place, never copied, and so is a Fortran-ordered one (pandas' layout) except
by the SGD kernels, which read rows and copy it to C order; other real dtypes are
converted to float64 and other layouts copied to C order. Y is converted to X's dtype. The parameter and output arrays
(W, b, grad_W, grad_b, out) are never converted: they must already have X's dtype and
the right shape. Sums are accumulated in double for both dtypes, and the GIL is released
while a kernel runs. `linreg.reference` holds a plain-NumPy twin of each function.

Passes over X are shared among `n_threads` OpenMP threads (default: all cores) in
chunks of rows fixed by the problem's size, so results do not depend on the thread count.

Errors: ValueError or TypeError naming the argument, before any work is done. NaN or
infinity in X or Y is detected from the result, at no extra cost when there is none
(`sgd_epoch` and `sgd_epochs` with an `order` check X and Y first, since they do not read
every row), and raised as ValueError; the in-place kernels may then have updated W and b
partly.
"""
import numbers

import numpy as np

from linreg import _compiled
from linreg._structs import (
    EARLY_STOP,
    GramStatistics,
    History,
    Outcome,
    Settings,
    StepRule,
    StopRule,
    new_training_state,
)
from linreg._gram import GRAM_MAX_FEATURES, check_gram_statistics, gram_statistics_of
from linreg._validation import (
    all_finite,
    as_data_matrix,
    as_targets,
    check_int,
    check_lr,
    check_n_threads,
    check_no_overlap,
    check_sample_weight,
    check_order,
    check_param,
    raise_if_not_finite,
)

__all__ = [
    "loss_and_grad",
    "predict",
    "gd_epochs",
    "sgd_epoch",
    "sgd_epochs",
    "new_early_stop",
    "shuffle",
    "gram_statistics",
    "gd_epochs_gram",
    "GramStatistics",
    "GRAM_MAX_FEATURES",
    "resolve_n_threads",
    "simd",
]


#: Which compiled kernels are in use: "avx512", "avx2" or "generic".
simd = _compiled.simd


def resolve_n_threads(n_threads):
    """The thread count to use: n_threads, or OpenMP's default (all cores) when None.

    A count above 4 x the available CPUs is capped there with a warning; one of 2**31 or
    more is a ValueError (see `linreg._validation.check_n_threads`).
    """
    n_threads = check_n_threads(n_threads)
    if n_threads is None:
        return _compiled.build.openmp_max_threads()
    return n_threads


def _checked_problem(X, Y, W, b, *, in_place=False):
    """Validate (X, Y, W, b); return them with X, Y, W as 2-D arrays for the kernels
    (X in C or Fortran order, read in place)."""
    X = as_data_matrix(X)
    Y = as_targets(Y, X.shape[0], X.dtype)
    n_features = X.shape[1]
    n_outputs = 1 if Y.ndim == 1 else Y.shape[1]
    W_shape = (n_features,) if Y.ndim == 1 else (n_features, n_outputs)
    check_param(W, "W", W_shape, X.dtype, writable=in_place, contiguous=in_place)
    check_param(b, "b", (n_outputs,), X.dtype, writable=in_place, contiguous=in_place)
    raise_if_not_finite(W=W, b=b)
    return X, Y.reshape(X.shape[0], n_outputs), W.reshape(n_features, n_outputs), b


def _raise_for_non_finite_data(X, Y, what):
    """Called when a result is not finite: blame X or Y, or else report an overflow."""
    raise_if_not_finite(X=X, Y=Y)
    raise ValueError(
        f"{what} overflowed to a non-finite value with finite inputs; "
        "scale X and Y down (or use float64)"
    )


def loss_and_grad(X, Y, W, b, grad_W, grad_b, *, sample_weight=None, n_threads=None):
    """Fused forward pass, MSE loss and gradients in one pass over X.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    Y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    W : ndarray of shape (n_features,) or (n_features, n_outputs), X's dtype
        1-D exactly when Y is 1-D.
    b : ndarray of shape (n_outputs,), X's dtype (shape (1,) for 1-D Y)
    grad_W : ndarray like W, writable
        Receives dL/dW = 2/(n k) X^T (XW + b - Y).
    grad_b : ndarray like b, writable
        Receives dL/db = 2/(n k) sum over samples of (XW + b - Y).
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights, not all zero: the loss becomes sum_i w_i |r_i|^2 /
        (sum_i w_i k) and the gradients follow (integer weights: the rows repeated).
    n_threads : int, optional
        Threads to share the rows among (default: OpenMP's default, all cores). The
        result is the same, to the last bit, for any thread count.

    Returns
    -------
    loss : float
        L = mean over all n*k entries of (XW + b - Y)**2 (weighted with sample_weight).

    Examples
    --------
    >>> import numpy as np
    >>> X, y = np.array([[1.0], [2.0]]), np.array([1.0, 3.0])
    >>> gW, gb = np.empty(1), np.empty(1)
    >>> loss_and_grad(X, y, np.zeros(1), np.zeros(1), gW, gb, sample_weight=[1.0, 3.0])
    7.0
    """
    X_given, Y_given = X, Y
    X, Y, W2, b = _checked_problem(X, Y, W, b)
    check_param(grad_W, "grad_W", W.shape, X.dtype, writable=True)
    check_param(grad_b, "grad_b", b.shape, X.dtype, writable=True)
    check_no_overlap({"grad_W": grad_W, "grad_b": grad_b},
                     {"X": (X_given, X), "Y": (Y_given, Y), "W": W, "b": b})
    sample_weight = check_sample_weight(sample_weight, X.shape[0])
    n_threads = resolve_n_threads(n_threads)
    kernel, Xk = _compiled.for_layout("loss_and_grad", X)  # C or Fortran order, in place
    loss = kernel(Xk, Y, W2, b, grad_W.reshape(W2.shape), grad_b, n_threads, sample_weight)
    if not np.isfinite(loss):
        _raise_for_non_finite_data(X, Y, "the loss")
    if not (all_finite(grad_W) and all_finite(grad_b)):
        _raise_for_non_finite_data(X, Y, "the gradient")
    return loss


def predict(X, W, b, out=None, *, n_threads=None):
    """Predictions XW + b.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    W : ndarray of shape (n_features,) or (n_features, n_outputs), X's dtype
    b : ndarray of shape (n_outputs,), X's dtype (shape (1,) for 1-D W)
    out : ndarray of shape (n_samples,) or (n_samples, n_outputs), optional
        Writable, X's dtype, 1-D exactly when W is 1-D. Allocated when None.
    n_threads : int, optional
        As in `loss_and_grad`.

    Returns
    -------
    out : ndarray of shape (n_samples,) or (n_samples, n_outputs)
    """
    X_given, X = X, as_data_matrix(X)
    if not isinstance(W, np.ndarray) or W.ndim not in (1, 2):
        raise ValueError("W must be a 1-D or 2-D ndarray of shape (n_features[, n_outputs])")
    n_outputs = 1 if W.ndim == 1 else W.shape[1]
    check_param(W, "W", (X.shape[1],) + W.shape[1:], X.dtype)
    check_param(b, "b", (n_outputs,), X.dtype)
    raise_if_not_finite(W=W, b=b)
    out_shape = (X.shape[0],) + W.shape[1:]
    if out is None:
        out = np.empty(out_shape, dtype=X.dtype)
    else:
        check_param(out, "out", out_shape, X.dtype, writable=True)
        check_no_overlap({"out": out}, {"X": (X_given, X), "W": W, "b": b})
    n_threads = resolve_n_threads(n_threads)
    kernel, Xk = _compiled.for_layout("predict", X)
    kernel(Xk, W.reshape(X.shape[1], n_outputs), b, out.reshape(X.shape[0], n_outputs), n_threads)
    if not all_finite(out):
        raise_if_not_finite(X=X)
        raise ValueError("the predictions overflowed to a non-finite value with finite inputs")
    return out


def new_early_stop(tol, n_iter_no_change):
    """State of the stopping rule for `gd_epochs`, `gd_epochs_gram` and `sgd_epochs`.

    Training stops after `n_iter_no_change` epochs in a row whose loss is not below
    best_loss - tol (best_loss: the lowest epoch loss so far), as in scikit-learn.

    Returns
    -------
    early_stop : ndarray of shape (1,), structured
        Fields ``tol``, ``n_iter_no_change`` (the rule), ``best_loss``, ``bad_epochs``
        (its state, updated in place by the kernels, so one state can span several
        calls) and ``stopped`` (whether the rule fired in the last call).

    Examples
    --------
    >>> stop = new_early_stop(1e-4, 5)
    >>> int(stop["n_iter_no_change"][0]), bool(stop["stopped"][0])
    (5, False)
    """
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real):
        raise TypeError(f"tol must be a real number, got {type(tol).__name__}")
    tol = float(tol)
    if not np.isfinite(tol):
        raise ValueError(f"tol must be a finite number, got {tol}")
    n_iter_no_change = check_int(n_iter_no_change, "n_iter_no_change", 1)
    early_stop = np.zeros(1, dtype=EARLY_STOP)
    early_stop["tol"] = tol
    early_stop["n_iter_no_change"] = n_iter_no_change
    early_stop["best_loss"] = np.inf
    return early_stop


def _check_early_stop(early_stop):
    if early_stop is None:
        return None
    if not (isinstance(early_stop, np.ndarray) and early_stop.dtype == EARLY_STOP
            and early_stop.shape == (1,)):
        raise TypeError("early_stop must come from linreg.kernels.new_early_stop")
    if not early_stop.flags.writeable:
        raise ValueError("early_stop is updated in place, but it is read-only")
    tol, patience = float(early_stop["tol"][0]), int(early_stop["n_iter_no_change"][0])
    if not np.isfinite(tol) or patience < 1 or np.isnan(early_stop["best_loss"][0]):
        raise ValueError("early_stop holds an invalid rule: make it with new_early_stop")
    return early_stop


def _check_loss_out(loss_out):
    if not (isinstance(loss_out, np.ndarray) and loss_out.ndim == 1 and loss_out.size >= 1):
        raise ValueError("loss_out must be a non-empty 1-D ndarray (one entry per epoch)")
    return check_param(
        loss_out, "loss_out", loss_out.shape, np.float64, writable=True, contiguous=True
    )


def _run_loop(loop, W, b, lr, early_stop, *, batch_size=1, shuffle=False, n_threads=1,
              rng_state=None):
    """Run a compiled training loop on (W, b) in place, with the stopping rule of
    `early_stop` (updated in place); returns the epochs completed.

    The loops keep W and b in one `model` array (W, then b as its last row); this copies
    them in and back, O(d k), and the rule and the generator in and out of a training
    state.
    """
    W2 = W.reshape(W.shape[0], -1)
    d, k = W2.shape
    model = np.empty((1, d + 1, k), dtype=W.dtype)
    model[0, :d] = W2
    model[0, d] = b
    stop = StopRule.off()
    state = new_training_state()
    if early_stop is not None:
        stop = StopRule(float(early_stop["tol"][0]), int(early_stop["n_iter_no_change"][0]))
        state["best_loss"] = early_stop["best_loss"]
        state["bad_epochs"] = early_stop["bad_epochs"]
    if rng_state is not None:
        state["rng"] = rng_state[0]
    settings = Settings(StepRule(lr, batch_size=batch_size), stop, shuffle=shuffle,
                        n_threads=n_threads).as_struct()
    try:
        completed = loop(model, settings, state)
    finally:
        W2[...] = model[0, :d]
        b[...] = model[0, d]
        if early_stop is not None:
            early_stop["best_loss"] = state["best_loss"]
            early_stop["bad_epochs"] = state["bad_epochs"]
            early_stop["stopped"] = state["outcome"][0] == Outcome.CONVERGED
        if rng_state is not None:
            rng_state[0] = state["rng"][0]
    return completed


def gd_epochs(X, Y, W, b, lr, loss_out, *, early_stop=None, n_threads=None):
    """Full-batch gradient descent: len(loss_out) epochs in one call, W and b in place.

    Each epoch computes the loss over all samples (recorded in loss_out before the
    update, as the seed tutorial logs it), then W -= lr * dL/dW and b -= lr * dL/db.

    Parameters
    ----------
    X, Y : as in `loss_and_grad`
    W, b : ndarrays as in `loss_and_grad`, writable and C-contiguous; updated in place
    lr : float
        Learning rate, positive and finite.
    loss_out : ndarray of shape (n_epochs,), float64, writable
        loss_out[e] receives the loss at the start of epoch e.
    early_stop : ndarray, optional
        A stopping rule from `new_early_stop`, updated in place.
    n_threads : int, optional
        As in `loss_and_grad`.

    Returns
    -------
    n_completed : int
        The number of epochs completed. A number below n_epochs means either that the
        stopping rule fired (early_stop["stopped"] is then True; that epoch's update counts)
        or that training diverged at epoch n_completed: loss_out[n_completed] holds its
        (possibly non-finite) loss, that epoch's update was not applied because it would
        have made a parameter non-finite, and W, b are left at their last finite values.
    """
    X_given, Y_given = X, Y
    X, Y, W2, b = _checked_problem(X, Y, W, b, in_place=True)
    lr = check_lr(lr)
    _check_loss_out(loss_out)
    _check_early_stop(early_stop)
    check_no_overlap({"W": W, "b": b, "loss_out": loss_out, "early_stop": early_stop},
                     {"X": (X_given, X), "Y": (Y_given, Y)})
    n_threads = resolve_n_threads(n_threads)

    def loop(model, settings, state):
        kernel, Xk = _compiled.for_layout("gd_epochs", X)
        return kernel(Xk, Y, model, settings, state, None, History(loss_out))

    n_completed = _run_loop(loop, W, b, lr, early_stop, n_threads=n_threads)
    if n_completed < loss_out.shape[0] and not np.isfinite(loss_out[n_completed]):
        raise_if_not_finite(X=X, Y=Y)
    return n_completed


def sgd_epoch(X, Y, W, b, lr, order=None, batch_size=1):
    """One epoch of stochastic gradient descent, W and b updated in place.

    The rows are visited in `order` (natural order when None) in batches of
    `batch_size`; each batch B makes one update with the gradient of its own mean loss,
    W -= lr * 2/(|B| k) X_B^T R_B and b -= lr * 2/(|B| k) sum_B R_B, with R_B computed
    just before that update. batch_size=1 is per-sample SGD.

    Parameters
    ----------
    X, Y : as in `loss_and_grad`
    W, b : ndarrays as in `loss_and_grad`, writable and C-contiguous; updated in place
    lr : float
        Learning rate, positive and finite.
    order : array-like of int, shape (m,), optional
        Row indices, each in [0, n_samples); repeats and subsets are allowed.
    batch_size : int, default 1
        Rows per update, from 1 to the number of rows visited.

    Returns
    -------
    mean_loss : float
        The mean of the squared residuals seen during the epoch, each computed before
        the update it drives. Non-finite when training diverged: the epoch stopped at
        the first non-finite loss without applying that update, and W, b are finite (the
        last finite values; with batch_size=1, the values the epoch started from if the
        per-sample updates themselves overflowed).
    """
    X_given, Y_given, order_given = X, Y, order
    X, Y, W2, b = _checked_problem(X, Y, W, b, in_place=True)
    lr = check_lr(lr)
    if order is not None:
        order = check_order(order, X.shape[0])
        # Rows outside `order` are never read, so a NaN there would go unnoticed.
        raise_if_not_finite(X=X, Y=Y)
    check_no_overlap({"W": W, "b": b},
                     {"X": (X_given, X), "Y": (Y_given, Y), "order": (order_given, order)})
    n_rows = X.shape[0] if order is None else order.shape[0]
    batch_size = check_int(batch_size, "batch_size", 1, n_rows)
    loss_out = np.empty(1)

    kernel, Xk = _compiled.for_layout("sgd_epochs", X)  # C or Fortran order, in place

    def loop(model, settings, state):
        return kernel(Xk, Y, model, settings, state, order, None, History(loss_out))

    _run_loop(loop, W, b, lr, None, batch_size=batch_size)
    mean_loss = float(loss_out[0])
    if not np.isfinite(mean_loss):
        raise_if_not_finite(X=X, Y=Y)
    return mean_loss


def sgd_epochs(X, Y, W, b, lr, loss_out, *, order=None, batch_size=1, rng_state=None,
               early_stop=None):
    """Up to len(loss_out) epochs of SGD in one call, W and b in place.

    Each epoch is an `sgd_epoch` pass over `order`. With `rng_state`, the epoch first
    shuffles `order` in place (Fisher-Yates driven by the splitmix64 generator whose
    state is rng_state[0], advanced in place), so the same state gives bit-identical
    training however the epochs are split between calls.

    Parameters
    ----------
    X, Y, W, b, lr : as in `sgd_epoch`
    loss_out : ndarray of shape (n_epochs,), float64, writable
        loss_out[e] receives epoch e's mean loss.
    order : ndarray of intp, shape (m,), optional
        Row indices; required (and modified in place) when rng_state is given.
    batch_size : int, default 1
    rng_state : ndarray of shape (1,), uint64, optional
    early_stop : ndarray, optional
        A stopping rule from `new_early_stop`, updated in place.

    Returns
    -------
    n_completed : int
        Fewer than n_epochs: the stopping rule fired (that epoch counts), or epoch
        n_completed diverged (non-finite loss_out[n_completed]; W, b hold the last finite
        values, reached within that epoch).
    """
    X_given, Y_given = X, Y
    X, Y, W2, b = _checked_problem(X, Y, W, b, in_place=True)
    lr = check_lr(lr)
    _check_loss_out(loss_out)
    _check_early_stop(early_stop)
    if order is not None:
        if not (isinstance(order, np.ndarray) and order.dtype == np.intp):
            raise TypeError("order must be an ndarray of dtype intp (it may be shuffled in place)")
        check_order(order, X.shape[0])
        check_param(order, "order", order.shape, np.intp, writable=rng_state is not None,
                    contiguous=True)
        raise_if_not_finite(X=X, Y=Y)  # rows outside `order` are never read
    if rng_state is not None:
        if order is None:
            raise ValueError("rng_state shuffles `order`, so order must be given with it")
        check_param(rng_state, "rng_state", (1,), np.uint64, writable=True)
    shuffled = rng_state is not None  # then `order` is written too
    check_no_overlap({"W": W, "b": b, "loss_out": loss_out, "early_stop": early_stop,
                      "rng_state": rng_state, "order": order if shuffled else None},
                     {"X": (X_given, X), "Y": (Y_given, Y), "order": None if shuffled else order})
    n_rows = X.shape[0] if order is None else order.shape[0]
    batch_size = check_int(batch_size, "batch_size", 1, n_rows)

    kernel, Xk = _compiled.for_layout("sgd_epochs", X)  # C or Fortran order, in place

    def loop(model, settings, state):
        return kernel(Xk, Y, model, settings, state, order, None, History(loss_out))

    n_completed = _run_loop(loop, W, b, lr, early_stop, batch_size=batch_size,
                            shuffle=rng_state is not None, rng_state=rng_state)
    if n_completed < loss_out.shape[0] and not np.isfinite(loss_out[n_completed]):
        raise_if_not_finite(X=X, Y=Y)
    return n_completed


def shuffle(order, rng_state):
    """Shuffle `order` (ndarray of intp) in place exactly as `sgd_epochs` does per epoch."""
    if not (isinstance(order, np.ndarray) and order.dtype == np.intp and order.ndim == 1):
        raise TypeError("order must be a 1-D ndarray of dtype intp")
    check_param(order, "order", order.shape, np.intp, writable=True, contiguous=True)
    check_param(rng_state, "rng_state", (1,), np.uint64, writable=True)
    check_no_overlap({"order": order, "rng_state": rng_state}, {})
    if order.shape[0]:
        _compiled.build.shuffle(order, rng_state)


def gram_statistics(X, Y, *, sample_weight=None, n_threads=None):
    """The centred sufficient statistics of (X, Y) for `gd_epochs_gram`, in one go.

    For MSE the full-batch gradient depends on X only through these, so after this
    O(n d^2) computation each GD epoch costs O(d^2 k), whatever n. Passes over X: the
    means and the centred products (compiled, for few features), or one pass of both
    (a C-ordered X of more features: blocks shifted near the mean, the offset removed
    exactly); plus, when the best fit is nearly exact (or for float32 data), the
    residuals at a reference point near the solution.

    Parameters
    ----------
    X, Y : as in `loss_and_grad`
    sample_weight : array-like of shape (n_samples,), optional
        As in `loss_and_grad`: every sum weighted, the means too.
    n_threads : int, optional
        As in `loss_and_grad`.

    Returns
    -------
    GramStatistics
        float64 throughout; memory 8 (d^2 + 3 d k + d + k) bytes, plus 8 d^2 while it
        is computed.

    Raises
    ------
    ValueError
        With more than GRAM_MAX_FEATURES features, or non-finite data.
    KeyboardInterrupt
        Ctrl-C is obeyed within about 50 ms of work, even in one huge pass.
    """
    X = as_data_matrix(X)
    Y = as_targets(Y, X.shape[0], X.dtype)
    raise_if_not_finite(Y=Y)  # X: by gram_statistics_of, within its one pass if it can
    y_1d = Y.ndim == 1
    sample_weight = check_sample_weight(sample_weight, X.shape[0])
    return gram_statistics_of(X, Y.reshape(X.shape[0], -1), y_1d, resolve_n_threads(n_threads),
                              sample_weight, check_finite=True)


def gd_epochs_gram(stats, W, b, lr, loss_out, *, early_stop=None):
    """`gd_epochs` driven by `gram_statistics(X, Y)` instead of X: O(d^2 k) per epoch.

    Same epochs, losses and updates as `gd_epochs(X, Y, ...)` up to rounding (the sums
    are regrouped), with the same return value and divergence behaviour. The loss is
    never negative (see `gram_statistics`).

    Parameters
    ----------
    stats : GramStatistics
    W, b : as in `gd_epochs` (float32 or float64, writable, C-contiguous)
    lr, loss_out, early_stop : as in `gd_epochs`
    """
    d, k = check_gram_statistics(stats)
    if not isinstance(W, np.ndarray) or W.dtype not in (np.float32, np.float64):
        raise TypeError("W must be a float32 or float64 ndarray")
    check_param(W, "W", (d,) if stats.y_1d else (d, k), W.dtype, writable=True, contiguous=True)
    check_param(b, "b", (k,), W.dtype, writable=True, contiguous=True)
    raise_if_not_finite(W=W, b=b)
    lr = check_lr(lr)
    _check_loss_out(loss_out)
    check_no_overlap({"W": W, "b": b, "loss_out": loss_out, "early_stop": early_stop},
                     {f"stats.{field}": getattr(stats, field)
                      for field in ("XtX", "XtY", "mean_X", "mean_Y", "ref_W", "ref_grad")})
    _check_early_stop(early_stop)

    def loop(model, settings, state):
        return _compiled.build.gd_epochs_gram(stats, model, settings, state, History(loss_out))

    return _run_loop(loop, W, b, lr, early_stop)
