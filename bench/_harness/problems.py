"""The regression problems the benchmarks run on, and the agreement demanded of results.

conftest.py's `problem` fixture caches what `make_problem` makes (each data set once per
session: 1e6 x 32 float64 is 256 MB).
"""
from dataclasses import dataclass

import numpy as np

__all__ = ["SEED", "Problem", "make_problem", "UnscaledProblem", "make_unscaled_problem",
           "rtol_for"]

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


@dataclass(frozen=True)
class UnscaledProblem:
    """A regression problem on raw features of very different scales (bench/test_auto_lr.py).

    y = X w_true + b_true + noise, with column j of X drawn as
    offsets[j] + scales[j] * z_j, where z is standard normal and AR(1)-correlated across
    neighbouring columns (correlation `rho` between columns j and j + 1): the scales make
    plain gradient descent on X hopeless, the correlation keeps the problem from being
    trivial once the columns are standardized.

    Attributes
    ----------
    X : ndarray, shape (n, d), float64, C-contiguous
    Y : ndarray, shape (n,)
    w_true : ndarray, shape (d,)
        Scaled so that every column contributes about equally to y: w_true[j] * scales[j]
        is in +-[0.5, 1.5].
    b_true : float
    scales, offsets : ndarray, shape (d,)
        The columns' standard deviations (log-spaced) and means.
    rho : float
    noise : float
        Standard deviation of the noise (so the least-squares MSE is about noise**2).
    """

    X: np.ndarray
    Y: np.ndarray
    w_true: np.ndarray
    b_true: float
    scales: np.ndarray
    offsets: np.ndarray
    rho: float
    noise: float

    @property
    def n(self):
        return self.X.shape[0]

    @property
    def d(self):
        return self.X.shape[1]

    @property
    def k(self):
        return 1

    @property
    def dtype(self):
        return self.X.dtype


def make_unscaled_problem(n, d, *, smallest_scale=1e-3, largest_scale=1e3, rho=0.5, noise=1.0):
    """The float64 UnscaledProblem of size (n, d), the same for every call with these
    arguments.

    Column scales are log-spaced from `smallest_scale` to `largest_scale`; each column's
    mean is its scale times a number in +-[1, 5] (centring matters, as in real data).

    Parameters
    ----------
    n, d : int
        Samples and features.
    smallest_scale, largest_scale : float, defaults 1e-3 and 1e3
    rho : float, default 0.5
        Correlation of neighbouring columns before scaling.
    noise : float, default 1.0

    Returns
    -------
    UnscaledProblem
    """
    rng = np.random.default_rng([SEED, n, d, 12])  # 12: the issue that asked for it
    scales = np.logspace(np.log10(smallest_scale), np.log10(largest_scale), d)
    offsets = scales * rng.uniform(1.0, 5.0, d) * rng.choice([-1.0, 1.0], d)
    X = rng.standard_normal((n, d))
    for j in range(1, d):  # AR(1) across columns, in place (X is 8 n d bytes already)
        X[:, j] *= np.sqrt(1.0 - rho**2)
        X[:, j] += rho * X[:, j - 1]
    X *= scales
    X += offsets
    w_true = rng.uniform(0.5, 1.5, d) * rng.choice([-1.0, 1.0], d) / scales
    b_true = float(rng.uniform(-1.0, 1.0))
    Y = X @ w_true
    Y += b_true
    Y += noise * rng.standard_normal(n)
    return UnscaledProblem(X, Y, w_true, b_true, scales, offsets, rho, noise)


def rtol_for(dtype):
    """Agreement demanded with the reference before timing: float64 to 1e-9, float32 to 1e-4."""
    return 1e-9 if np.dtype(dtype) == np.float64 else 1e-4
