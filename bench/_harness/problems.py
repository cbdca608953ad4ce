"""The regression problems the benchmarks run on, and the agreement demanded of results.

conftest.py's `problem` fixture caches what `make_problem` makes (each data set once per
session: 1e6 x 32 float64 is 256 MB).
"""
from dataclasses import dataclass

import numpy as np

__all__ = ["SEED", "Problem", "make_problem", "rtol_for"]

#: Seeds every generated problem (with its n, d and k).
SEED = 20240601


@dataclass(frozen=True)
class Problem:
    """A regression problem y = X w_true + b_true + noise and a point (W, b) to evaluate.

    W and b are neither zero nor the truth, so residuals and gradients are far from zero
    and relative tolerances are meaningful. W, b must not be modified by benchmarks that
    read them; in-place trainers start from `zero_params()`.

    Attributes
    ----------
    X : ndarray, shape (n, d)
    Y : ndarray, shape (n,) when k == 1, else (n, k)
    W : ndarray, shape (d,) when k == 1, else (d, k)
    b : ndarray, shape (k,)
    w_true, b_true : ndarray, shapes of W and b
        The coefficients that generated Y (before the noise).
    """

    X: np.ndarray
    Y: np.ndarray
    W: np.ndarray
    b: np.ndarray
    w_true: np.ndarray
    b_true: np.ndarray

    @property
    def n(self):
        return self.X.shape[0]

    @property
    def d(self):
        return self.X.shape[1]

    @property
    def k(self):
        return 1 if self.Y.ndim == 1 else self.Y.shape[1]

    @property
    def dtype(self):
        return self.X.dtype

    def zero_params(self):
        """Fresh, writable, C-contiguous zero W and b (the start of a training run)."""
        return np.zeros_like(self.W), np.zeros_like(self.b)

    def astype(self, dtype):
        """The same problem with every array rounded to `dtype` (C-contiguous copies)."""
        return Problem(*(np.ascontiguousarray(a, dtype=dtype) for a in
                         (self.X, self.Y, self.W, self.b, self.w_true, self.b_true)))


def make_problem(n, d, k=1):
    """The float64 problem of size (n, d, k), the same for every call with these sizes.

    Parameters
    ----------
    n, d : int
        Samples and features.
    k : int, default 1
        Targets; k == 1 gives a 1-D Y and W.

    Returns
    -------
    Problem
    """
    rng = np.random.default_rng([SEED, n, d, k])
    X = rng.standard_normal((n, d))
    shape_w = (d,) if k == 1 else (d, k)
    w_true = rng.uniform(0.5, 1.5, size=shape_w) * rng.choice([-1.0, 1.0], size=shape_w)
    b_true = rng.uniform(-1.0, 1.0, size=(k,))
    Y = X @ w_true
    Y += b_true
    Y += 0.1 * rng.standard_normal(Y.shape)
    W = w_true + rng.uniform(0.5, 1.0, size=shape_w) * rng.choice([-1.0, 1.0], size=shape_w)
    b = b_true + 0.5
    return Problem(X, Y, W, b, w_true, b_true)


def rtol_for(dtype):
    """Agreement demanded with the reference before timing: float64 to 1e-9, float32 to 1e-4."""
    return 1e-9 if np.dtype(dtype) == np.float64 else 1e-4
