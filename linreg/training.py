"""The epoch loop shared by the GD and SGD trainers: chunking, logging, callbacks.

The epochs themselves run in compiled code (through a `linreg.solvers` solver), which also
applies the stopping rule, so that stopping is exact, and records the weights for log
lines. The training state says why each call returned (converged, diverged, or all
epochs done), so a fit stops at the same epoch however its epochs are cut into calls.
Python only gets control back where it is needed: before a callback, and about every
`CHUNK_SECONDS` so that Ctrl-C is honoured promptly and log lines appear. Without a
callback, a fit of tiny data is one call.
"""
import math
import numbers
import sys
import time

import numpy as np

from linreg._structs import History, Outcome
from linreg.exceptions import DivergenceError

__all__ = ["run_epochs", "format_log_line", "lr_factors", "CHUNK_SECONDS"]

#: Longest stretch of compiled epochs between two returns to Python (for Ctrl-C).
CHUNK_SECONDS = 0.1


def lr_factors(lr_lambda, first, count):
    """[lr_lambda(first), ..., lr_lambda(first + count - 1)] as a float64 array, each
    checked: a real number, finite and >= 0 (else TypeError / ValueError naming
    lr_schedule and the epoch)."""
    factors = np.empty(count)
    for i in range(count):
        value = lr_lambda(first + i)
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise TypeError(f"lr_schedule({first + i}) must return a real number (the factor "
                            f"on lr), got {type(value).__name__}")
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"lr_schedule({first + i}) must return a finite factor >= 0, "
                             f"got {value!r}")
        factors[i] = value
    return factors


def format_log_line(epoch, n_epochs, W, b, loss):
    """The seed tutorial's progress line, e.g. 'Epoch [100/1000], W: 2.618, b: 0.869, Loss: 0.1089'.

    One weight (one bias) prints as a number with 3 decimals, as in the seed; several
    print as a compact bracketed list, summarized when long.
    """
    return f"Epoch [{epoch}/{n_epochs}], W: {_compact(W)}, b: {_compact(b)}, Loss: {loss:.4f}"


def _compact(values):
    if values.size == 1:
        return f"{values.item():.3f}"
    text = np.array2string(
        values, precision=3, floatmode="fixed", separator=", ", threshold=8, edgeitems=3,
        max_line_width=sys.maxsize,
    )
    return text.replace("\n", "")


def run_epochs(solver, model, state, n_epochs, lr, *, log_every=0, log_line=None,
               callback=None, lr_lambda=None, first_epoch=0):
    """Run up to `n_epochs` epochs of `solver`, printing log lines and calling back.

    Parameters
    ----------
    solver : a linreg.solvers solver
        Its ``run(model, state, history)`` runs len(history.losses) epochs in compiled
        code and writes each epoch's loss and, every log_every epochs (the solver's
        settings.snapshot_every), the parameters into a row of history.snapshots.
    model : ndarray of shape (slots, n_features + 1, n_outputs)
        The parameters (see linreg.solvers.new_model), updated in place.
    state : ndarray of dtype linreg._structs.TRAINING_STATE, shape (1,)
        The training state, updated in place; its ``outcome`` says why each call
        returned, so stopping does not depend on how the epochs are cut into calls.
    n_epochs : int
    lr : float
        Only for the message of a DivergenceError.
    log_every : int
        Print `log_line(epoch, loss, params)` for every log_every-th epoch (0: never),
        params being that epoch's snapshot row of d*k + k values. Lines are printed
        when the chunk holding their epoch returns, at most about CHUNK_SECONDS late.
    callback : callable(epoch, losses) -> bool, optional
        Called after every epoch with the losses so far; returning True stops training.
    lr_lambda : callable(epoch) -> float, optional
        A factor on lr for each epoch, counted from 0 at `first_epoch` (torch's
        LambdaLR): evaluated for a whole chunk before the chunk runs, so no Python runs
        between its epochs. Each value must be a finite real number >= 0.

    Returns
    -------
    losses : ndarray of shape (n_completed,)
        The loss of every completed epoch.

    Raises
    ------
    DivergenceError
        When an epoch's loss or parameters are not finite; ``exc.losses`` holds the
        losses of the epochs completed before it.
    """
    losses = np.empty(n_epochs)
    n_params = model.shape[1] * model.shape[2]
    done = 0
    # A first guess of CHUNK_SECONDS' worth of epochs at a pessimistic 10 ns per
    # multiply-add; measured times take over after the first chunk.
    chunk = max(1, int(CHUNK_SECONDS / (10e-9 * max(solver.work_per_epoch, 1))))
    snapshots = None
    while done < n_epochs:
        size = min(n_epochs - done, 1 if callback is not None else chunk)
        if log_every:
            snapshots = np.empty(((done + size) // log_every - done // log_every, n_params))
        factors = (None if lr_lambda is None
                   else lr_factors(lr_lambda, first_epoch + done, size))
        start = time.perf_counter()
        completed = solver.run(model, state,
                               History(losses[done : done + size], snapshots, factors))
        elapsed = time.perf_counter() - start
        first_logged = (done // log_every + 1) * log_every if log_every else 0
        done += completed
        if log_every:
            for row, epoch in enumerate(range(first_logged, done + 1, log_every)):
                print(log_line(epoch, losses[epoch - 1], snapshots[row]), flush=True)
        outcome = int(state["outcome"][0])
        if outcome == Outcome.DIVERGED:
            error = DivergenceError(done + 1, lr)
            error.losses = losses[:done].copy()
            raise error
        # The callback sees every completed epoch, the one the rule stopped at included.
        if callback is not None and completed and callback(done, losses[:done]):
            break
        if outcome == Outcome.CONVERGED:
            break
        per_epoch = elapsed / max(completed, 1)
        chunk = max(1, int(CHUNK_SECONDS / per_epoch)) if per_epoch > 0 else n_epochs
    return losses[:done]
