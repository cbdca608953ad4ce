"""The epoch loop shared by the GD and SGD trainers: chunking, logging, callbacks.

The epochs themselves run in compiled code (`gd_epochs`, `sgd_epochs`), which also applies
the stopping rule, so that stopping is exact. Python only gets control back where it is
needed: at a log line, before a callback, and about every `CHUNK_SECONDS` so that Ctrl-C
is honoured promptly. With no logging and no callback, a fit of tiny data is one call.
"""
import sys
import time

import numpy as np

from linreg.exceptions import DivergenceError

__all__ = ["run_epochs", "format_log_line", "CHUNK_SECONDS"]

#: Longest stretch of compiled epochs between two returns to Python (for Ctrl-C).
CHUNK_SECONDS = 0.1


def format_log_line(epoch, n_epochs, W, b, loss):
    """The seed tutorial's progress line, e.g. 'Epoch [100/1000], W: 2.618, b: 0.869, Loss: 0.1089'.

    One weight (one bias) prints as a number with 3 decimals, as in the seed; several
    print as a compact bracketed list, summarized when long.
    """
    return f"Epoch [{epoch}/{n_epochs}], W: {_compact(W)}, b: {_compact(b)}, Loss: {loss:.4f}"


def _compact(values):
    if values.size == 1:
        return f"{float(values[(0,) * values.ndim]):.3f}"
    text = np.array2string(
        values, precision=3, floatmode="fixed", separator=", ", threshold=8, edgeitems=3,
        max_line_width=sys.maxsize,
    )
    return text.replace("\n", "")


def run_epochs(run_chunk, n_epochs, lr, *, work_per_epoch, early_stop=None, log_every=0,
               log_line=None, callback=None):
    """Run `n_epochs` epochs through `run_chunk`, returning at log points and callbacks.

    Parameters
    ----------
    run_chunk : callable(loss_out) -> int
        Runs len(loss_out) epochs in compiled code, writing each epoch's loss, and
        returns how many completed (a compiled `gd_epochs` / `sgd_epochs` call).
    n_epochs : int
    work_per_epoch : int
        About how many multiply-adds an epoch costs (n * d * k): sizes the first chunk,
        later ones are sized from measured time.
    lr : float
        Only for the message of a DivergenceError.
    early_stop : ndarray, optional
        The stopping-rule state passed to the kernels, to tell a stop from a divergence.
    log_every : int
        Print `log_line(epoch, loss)` after every log_every-th epoch (0: never).
    callback : callable(epoch, loss) -> bool, optional
        Called after every epoch; returning True stops training.

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
    done = 0
    # A first guess of CHUNK_SECONDS' worth of epochs at a pessimistic 10 ns per
    # multiply-add; measured times take over after the first chunk.
    chunk = max(1, int(CHUNK_SECONDS / (10e-9 * max(work_per_epoch, 1))))
    while done < n_epochs:
        stop_at = n_epochs
        if log_every:
            stop_at = min(stop_at, (done // log_every + 1) * log_every)
        if callback is not None:
            stop_at = done + 1
        size = min(stop_at - done, chunk)
        start = time.perf_counter()
        completed = run_chunk(losses[done : done + size])
        elapsed = time.perf_counter() - start
        done += completed
        stopped = completed < size
        if stopped and (early_stop is None or early_stop[3] < early_stop[1]):
            error = DivergenceError(done + 1, lr)
            error.losses = losses[:done]
            raise error
        if log_every and done % log_every == 0:
            print(log_line(done, losses[done - 1]), flush=True)
        if callback is not None and callback(done, float(losses[done - 1])):
            stopped = True
        if stopped:
            break
        per_epoch = elapsed / completed
        chunk = max(1, int(CHUNK_SECONDS / per_epoch)) if per_epoch > 0 else n_epochs
    return losses[:done]
