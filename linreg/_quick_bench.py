"""`linreg bench`: a quick comparison with plain NumPy on this machine (under a minute).

Four fits, each timed against the same loop written in plain NumPy as a NumPy expert
writes it (same dtype, same epochs, same updates; for many GD epochs, from X^T X), in
paired rounds: one NumPy run, one linreg run, the ratio of the two, so that both see the
same machine load. Both sides run single-threaded (linreg's n_threads=1, NumPy's BLAS
pinned to one thread where it lets itself be, see linreg._blas): on a busy machine a
multi-threaded BLAS slowed down 40-fold in places, which would flatter linreg. The
table shows medians and the range of the middle half of the rounds. The full suite,
with the peers (scikit-learn, PyTorch) and the problem sizes of the README, is the
repository's bench/. Imports linreg's estimators only.
"""
import sys
import time

import numpy as np

from linreg._blas import blas_threads, can_set_blas_threads
from linreg.estimators import GDRegressor, SGDRegressor

__all__ = ["run_quick_bench", "CASES"]

#: Stop adding rounds to a case once it has this many seconds of timings (or ROUNDS_MAX).
CASE_SECONDS = 6.0
ROUNDS_MIN, ROUNDS_MAX = 5, 15


def _data(n, d, dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(dtype)
    y = (X @ rng.normal(size=d) + 0.5 + 0.1 * rng.normal(size=n)).astype(dtype)
    return X, y


def _numpy_gd(X, y, lr, epochs):
    """Full-batch GD as in the seed, vectorized: one forward and one gradient pass."""
    n = X.shape[0]
    W = np.zeros(X.shape[1], dtype=X.dtype)
    b = X.dtype.type(0)
    step = X.dtype.type(2 * lr / n)
    for _ in range(epochs):
        r = X @ W
        r += b
        r -= y
        W -= step * (X.T @ r)
        b -= step * r.sum()
    return W, b


def _numpy_gram_gd(X, y, lr, epochs):
    """The same GD as an expert writes it for many epochs: X^T X, X^T y and the sums
    once, then each epoch's gradient from them, O(d^2) per epoch."""
    n = X.shape[0]
    G, c, s, ybar = X.T @ X, X.T @ y, X.sum(axis=0), y.mean()
    W = np.zeros(X.shape[1], dtype=X.dtype)
    b = X.dtype.type(0)
    step = X.dtype.type(2 * lr / n)
    for _ in range(epochs):
        grad_W = G @ W + b * s - c
        grad_b = s @ W + n * (b - ybar)
        W -= step * grad_W
        b -= step * grad_b
    return W, b


def _numpy_sgd(X, y, lr, epochs, batch_size):
    """Mini-batch SGD in a fixed order (no shuffle): NumPy per batch."""
    n = X.shape[0]
    W = np.zeros(X.shape[1], dtype=X.dtype)
    b = X.dtype.type(0)
    for _ in range(epochs):
        for start in range(0, n, batch_size):
            xb, yb = X[start:start + batch_size], y[start:start + batch_size]
            r = xb @ W + b - yb
            scale = X.dtype.type(2 * lr / len(yb))
            W -= scale * (xb.T @ r)
            b -= scale * r.sum()
    return W, b


#: (label, data maker, linreg fit, NumPy fit): small enough that a case takes seconds.
CASES = [
    ("GD, 100 epochs, 20000 x 32, float64",
     lambda: _data(20000, 32, np.float64),
     lambda X, y: GDRegressor(lr=0.01, epochs=100, method="fused", n_threads=1).fit(X, y),
     lambda X, y: _numpy_gd(X, y, 0.01, 100)),
    ("GD, 100 epochs, 20000 x 32, float32",
     lambda: _data(20000, 32, np.float32),
     lambda X, y: GDRegressor(lr=0.01, epochs=100, method="fused", n_threads=1).fit(X, y),
     lambda X, y: _numpy_gd(X, y, 0.01, 100)),
    ("GD, 1000 epochs, 20000 x 32, Gram",
     lambda: _data(20000, 32, np.float64),
     lambda X, y: GDRegressor(lr=0.01, epochs=1000, method="gram", n_threads=1).fit(X, y),
     lambda X, y: _numpy_gram_gd(X, y, 0.01, 1000)),
    ("SGD, batch 32, 5 epochs, 20000 x 32",
     lambda: _data(20000, 32, np.float64),
     lambda X, y: SGDRegressor(lr=0.001, epochs=5, batch_size=32, shuffle=False,
                                          n_threads=1).fit(X, y),
     lambda X, y: _numpy_sgd(X, y, 0.001, 5, 32)),
]


def _time(fn, *args):
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def measure(make_data, fit_linreg, fit_numpy, rounds=None):
    """Paired rounds of one case (`rounds` of them, or ROUNDS_MIN and more until
    CASE_SECONDS, at most ROUNDS_MAX); returns (linreg seconds, NumPy seconds, ratios)."""
    X, y = make_data()
    fit_linreg(X, y)  # warm-up (first-call costs, thread pool start)
    linreg_times, numpy_times = [], []
    spent = 0.0
    low, high = (ROUNDS_MIN, ROUNDS_MAX) if rounds is None else (rounds, rounds)
    while len(linreg_times) < high and (len(linreg_times) < low or spent < CASE_SECONDS):
        numpy_times.append(_time(fit_numpy, X, y))
        linreg_times.append(_time(fit_linreg, X, y))
        spent += numpy_times[-1] + linreg_times[-1]
    linreg_times, numpy_times = np.array(linreg_times), np.array(numpy_times)
    return linreg_times, numpy_times, numpy_times / linreg_times


def _ms(seconds):
    low, mid, high = np.percentile(seconds * 1e3, [25, 50, 75])
    return f"{_number(mid)} ms ({_number(low)}-{_number(high)})"


def _number(value):
    """Three significant digits, never in exponent notation: 0.123, 12.3, 1234."""
    return f"{value:.3g}" if value < 1000 else f"{value:.0f}"


def run_quick_bench(out=None, cases=CASES, rounds=None):
    """Run the quick benchmark and print its table on `out` (stdout by default).

    Parameters
    ----------
    out : file object, optional
    cases : list of (label, make_data, fit_linreg, fit_numpy), default CASES
    rounds : int, optional
        Paired rounds per case; by default at least ROUNDS_MIN, then more while the
        case has taken less than CASE_SECONDS, at most ROUNDS_MAX (under a minute in
        all on a 2-core machine).
    """
    out = sys.stdout if out is None else out
    pinned = "" if can_set_blas_threads() else (
        " (NumPy's BLAS could not be pinned: it uses its own thread count)")
    print("linreg against the same loop in plain NumPy, on this machine, one thread each"
          f"{pinned}: median, and in brackets the middle half of the rounds", file=out)
    header = ("problem", "linreg", "NumPy", "speed-up", "rounds")
    rows = []
    for label, make_data, fit_linreg, fit_numpy in cases:
        with blas_threads(1):
            linreg_s, numpy_s, ratios = measure(make_data, fit_linreg, fit_numpy, rounds)
        low, mid, high = np.percentile(ratios, [25, 50, 75])
        rows.append((label, _ms(linreg_s), _ms(numpy_s), f"{mid:.1f}x ({low:.1f}-{high:.1f})",
                     str(len(ratios))))
    widths = [max(len(row[i]) for row in rows + [header]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths)] + rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip(), file=out)
    out.flush()
