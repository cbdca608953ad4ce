"""The least-squares optimum of a problem, and how far a model's training loss is from it:
the measure of bench/test_auto_lr.py ("time to reach within 1e-6 relative of the least
squares loss").

The optimum is computed in NumPy, independently of linreg: the normal equations of the
centred, standardized columns (well conditioned whatever the raw scales), accumulated in
chunks of rows, then refined with the exact residuals. The peer scripts compute the gap
of their own models with the same formula (`relative_gap`), from the loss passed to them.
"""
from typing import NamedTuple

import numpy as np

__all__ = ["TARGET_GAP", "LeastSquares", "least_squares", "mse", "relative_gap"]

#: The target: training MSE within this relative distance of the least-squares MSE.
TARGET_GAP = 1e-6

_CHUNK_ROWS = 1 << 16  # rows per block: the standardized block is 16 MB at d = 32


class LeastSquares(NamedTuple):
    """The least-squares fit with intercept of (X, y)."""

    coef: np.ndarray  #: shape (d,)
    intercept: float
    loss: float  #: its training MSE, mean((X coef + intercept - y)**2)


def mse(X, y, coef, intercept):
    """Training MSE of (coef, intercept) on (X, y), in float64 (inf if non-finite)."""
    residual = X @ np.asarray(coef, dtype=np.float64)
    residual += float(np.ravel(intercept)[0]) if np.ndim(intercept) else float(intercept)
    residual -= y
    loss = float(residual @ residual) / len(y)
    return loss if np.isfinite(loss) else np.inf


def relative_gap(X, y, coef, intercept, best_loss):
    """(MSE - best_loss) / best_loss: 0 at the least-squares fit, inf when non-finite."""
    return mse(X, y, coef, intercept) / best_loss - 1.0


def least_squares(X, y, refinements=2):
    """The least-squares fit with intercept of a float64 X (n, d) and 1-D y.

    Solves the normal equations of Z = (X - mean) / std (so the raw columns' scales do not
    enter the condition number), then refines `refinements` times: Z^T r with the exact
    residuals r of the current fit gives the correction. The intercept of any coef is
    mean(y) - mean(X) @ coef.

    Returns
    -------
    LeastSquares
    """
    n, d = X.shape
    mean = X.mean(axis=0)
    centred = X - mean
    std = np.sqrt(np.einsum("ij,ij->j", centred, centred) / n)
    del centred
    y_mean = float(y.mean())

    def scaled_products(vector, gram=None):
        """Z^T vector, and Z^T Z into `gram` when given, block by block."""
        product = np.zeros(d)
        for start in range(0, n, _CHUNK_ROWS):
            block = X[start:start + _CHUNK_ROWS] - mean
            block /= std
            if gram is not None:
                gram += block.T @ block
            product += block.T @ vector[start:start + _CHUNK_ROWS]
        return product

    gram = np.zeros((d, d))
    product = scaled_products(y - y_mean, gram)
    coef = np.linalg.solve(gram, product) / std
    for _ in range(refinements):
        residual = y - (X @ coef + (y_mean - mean @ coef))
        coef += np.linalg.solve(gram, scaled_products(residual)) / std
    intercept = y_mean - float(mean @ coef)
    return LeastSquares(coef, intercept, mse(X, y, coef, intercept))
