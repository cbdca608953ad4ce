"""Data of the blocked-fit tests: a problem with unscaled features, and a relative gap."""
import numpy as np


def make_data(n=2003, d=5, k=None, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = (rng.normal(size=(n, d)) * [1.0, 10.0, 0.1, 3.0, 1.0][:d] + [0.0, 5.0, 1.0, 0.0, 2.0][:d])
    coef = np.arange(1.0, d + 1) if k is None else rng.normal(size=(d, k))
    y = X @ coef + 0.5 + 0.1 * rng.normal(size=(n,) if k is None else (n, k))
    return X.astype(dtype), y.astype(dtype)


UNEQUAL = ((700, 1, 300, 1002),)  # one block of a single row


def relative(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))
