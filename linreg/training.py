"""The epoch loop shared by the GD and SGD trainers: chunking, logging, callbacks.

The epochs themselves run in compiled code (`gd_epochs`, `sgd_epochs`), which also applies
the stopping rule, so that stopping is exact, and records the weights for log lines.
Python only gets control back where it is needed: before a callback, and about every
`CHUNK_SECONDS` so that Ctrl-C is honoured promptly and log lines appear. Without a
callback, a fit of tiny data is one call.
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
        return f"{values.item():.3f}"
    text = np.array2string(
        values, precision=3, floatmode="fixed", separator=", ", threshold=8, edgeitems=3,
        max_line_width=sys.maxsize,
    )
    return text.replace("\n", "")


def run_epochs(run_chunk, n_epochs, lr, *, work_per_epoch, early_stop=None, log_every=0,
               log_line=None, n_params=0, callback=None):
    """Run `n_epochs` epochs through `run_chunk`, printing log lines and calling back.

    Parameters
    ----------
    run_chunk : callable(loss_out, snapshots, snapshot_every, first_epoch) -> int
        Runs len(loss_out) epochs in compiled code, writing each epoch's loss and, every
        snapshot_every epochs, the parameters into a row of `snapshots`; returns how
        many epochs completed (a compiled `gd_epochs` / `sgd_epochs` call).
    n_epochs : int
    lr : float
        Only for the message of a DivergenceError.
    work_per_epoch : int
        About how many multiply-adds an epoch costs: sizes the first chunk, later ones
        are sized from measured time.
    early_stop : ndarray, optional
        The stopping-rule state passed to the kernels, to tell a stop from a divergence.
    log_every : int
        Print `log_line(epoch, loss, params)` for every log_every-th epoch (0: never),
        params being that epoch's snapshot row of `n_params` values. Lines are printed
        when the chunk holding their epoch returns, at most about CHUNK_SECONDS late.
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
    snapshots = None
    while done < n_epochs:
        size = min(n_epochs - done, 1 if callback is not None else chunk)
        if log_every:
            snapshots = np.empty(((done + size) // log_every - done // log_every, n_params))
        start = time.perf_counter()
        completed = run_chunk(losses[done : done + size], snapshots, log_every, done)
        elapsed = time.perf_counter() - start
        first_logged = (done // log_every + 1) * log_every if log_every else 0
        done += completed
        if log_every:
            for row, epoch in enumerate(range(first_logged, done + 1, log_every)):
                print(log_line(epoch, losses[epoch - 1], snapshots[row]), flush=True)
        stopped = completed < size
        if stopped and (early_stop is None or early_stop[3] < early_stop[1]):
            error = DivergenceError(done + 1, lr)
            error.losses = losses[:done]
            raise error
        if callback is not None and callback(done, float(losses[done - 1])):
            stopped = True
        if stopped:
            break
        per_epoch = elapsed / completed
        chunk = max(1, int(CHUNK_SECONDS / per_epoch)) if per_epoch > 0 else n_epochs
    return losses[:done]
