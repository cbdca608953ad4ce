"""The seed tutorial's example, run through linreg, and timed against plain NumPy.

`linreg demo` (or `python -m linreg`) prints the seed's ten progress lines digit for
digit, the prediction for x = 10, and how much faster linreg ran than the same loop in
plain NumPy: the median of paired runs, with its spread.
"""
import contextlib
import io
import sys
import time

import numpy as np

from linreg.estimators import GDRegressor
from linreg.training import format_log_line

__all__ = ["seed_data", "fit_linreg", "fit_numpy", "measure_speedup", "speed_line", "main"]

LR, EPOCHS, LOG_EVERY = 0.01, 1000, 100


def seed_data(dtype=np.float32):
    """The seed's training set: x = [[1], [2], [3]], y = [3, 6, 9] (float32, like torch.float)."""
    return np.array([[1.0], [2.0], [3.0]], dtype=dtype), np.array([3.0, 6.0, 9.0], dtype=dtype)


def fit_linreg(x, y):
    """The seed's loop as a linreg user writes it; prints the ten lines. Returns the model."""
    return GDRegressor(lr=LR, epochs=EPOCHS, log_every=LOG_EVERY).fit(x, y)


def fit_numpy(x, y):
    """The seed's loop in plain NumPy, as a NumPy expert writes it; prints the lines.

    One epoch per Python iteration, in x's dtype, with in-place updates and no checks
    beyond what the seed does: the honest baseline for "how much faster".
    Returns (W, b).
    """
    n = x.shape[0]
    W = np.zeros(x.shape[1], dtype=x.dtype)
    b = np.zeros(1, dtype=x.dtype)
    step = x.dtype.type(2 * LR / n)  # dL/dW = 2/n x^T r
    for epoch in range(1, EPOCHS + 1):
        r = x @ W
        r += b
        r -= y
        loss = r @ r / n
        W -= step * (x.T @ r)
        b -= step * r.sum()
        if epoch % LOG_EVERY == 0:
            print(format_log_line(epoch, EPOCHS, W, b, loss))
    return W, b


#: Paired timings behind the speed line: each round takes the median of NUMPY_PER_ROUND
#: NumPy fits and of LINREG_PER_ROUND linreg fits (one linreg fit is ~100x shorter, so a
#: single one is at the mercy of one scheduler tick), and their ratio. Pairing makes each
#: ratio see the same machine load; the line prints the median over the rounds and their
#: middle half. Measured on a loaded 2-core machine: with one NumPy and 5 linreg fits a
#: round, the middle half spanned 55x-92x; with 3 and 15 it spans about 2%, and four
#: demos in a row printed 94x, 95x, 94x, 95x (about 1.2 s of timing in all).
ROUNDS, NUMPY_PER_ROUND, LINREG_PER_ROUND = 41, 3, 15


def _seconds(fn):
    with contextlib.redirect_stdout(io.StringIO()):
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start


def measure_speedup(x, y, rounds=ROUNDS, numpy_per_round=NUMPY_PER_ROUND,
                    linreg_per_round=LINREG_PER_ROUND):
    """Time linreg against plain NumPy on the seed's fit, in paired rounds.

    Returns
    -------
    dict
        ``linreg_s`` and ``numpy_s``: the median seconds of one fit; ``ratios``: the
        speed-up of each round (the median of its NumPy fits over the median of its
        linreg fits), sorted.
    """
    _seconds(lambda: fit_linreg(x, y))  # warm-up: first-call costs are not the loop's
    _seconds(lambda: fit_numpy(x, y))
    linreg_times, numpy_times, ratios = [], [], []
    for _ in range(rounds):
        t_numpy = float(np.median([_seconds(lambda: fit_numpy(x, y))
                                   for _ in range(numpy_per_round)]))
        t_linreg = float(np.median([_seconds(lambda: fit_linreg(x, y))
                                    for _ in range(linreg_per_round)]))
        numpy_times.append(t_numpy)
        linreg_times.append(t_linreg)
        ratios.append(t_numpy / t_linreg)
    return {"linreg_s": float(np.median(linreg_times)),
            "numpy_s": float(np.median(numpy_times)), "ratios": sorted(ratios)}


def speed_line(timing):
    """The demo's last line, from `measure_speedup`'s result."""
    ratios = np.array(timing["ratios"])
    low, mid, high = np.percentile(ratios, [25, 50, 75])
    return (f"linreg trained the {EPOCHS} epochs in {timing['linreg_s'] * 1e3:.3f} ms, "
            f"{mid:.0f}x faster than the same loop in plain NumPy "
            f"({timing['numpy_s'] * 1e3:.1f} ms); median of {len(ratios)} paired runs, "
            f"middle half {low:.0f}x-{high:.0f}x, measured just now")


def main(out=None):
    """Print the seed's ten lines, the prediction for x = 10, and the speed line."""
    out = sys.stdout if out is None else out
    x, y = seed_data()
    with contextlib.redirect_stdout(out):
        model = fit_linreg(x, y)
    prediction = model.predict(np.array([[10.0]], dtype=np.float32))[0]
    print(f"prediction after training for input 10: {float(prediction)}", file=out)
    print(speed_line(measure_speedup(x, y)), file=out)
