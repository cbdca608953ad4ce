"""The seed tutorial's example, run through linreg, and timed against plain NumPy.

`python -m linreg` prints the seed's ten progress lines digit for digit, the prediction
for x = 10, and how much faster linreg ran than the same loop in plain NumPy.
"""
import contextlib
import io
import sys
import time

import numpy as np

from linreg.estimators import GDRegressor
from linreg.training import format_log_line

__all__ = ["seed_data", "fit_linreg", "fit_numpy", "main"]

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


def _median_seconds(fn, repeats):
    times = []
    for _ in range(repeats):
        with contextlib.redirect_stdout(io.StringIO()):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return float(np.median(times))


def main(out=None):
    out = sys.stdout if out is None else out
    x, y = seed_data()
    with contextlib.redirect_stdout(out):
        model = fit_linreg(x, y)
    prediction = model.predict(np.array([[10.0]], dtype=np.float32))[0]
    print(f"prediction after training for input 10: {float(prediction)}", file=out)
    t_linreg = _median_seconds(lambda: fit_linreg(x, y), 51)
    t_numpy = _median_seconds(lambda: fit_numpy(x, y), 11)
    print(
        f"linreg trained the {EPOCHS} epochs in {t_linreg * 1e3:.3f} ms, "
        f"{t_numpy / t_linreg:.0f}x faster than the same loop in plain NumPy "
        f"({t_numpy * 1e3:.1f} ms), measured just now",
        file=out,
    )
