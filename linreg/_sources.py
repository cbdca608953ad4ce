"""Where a fit's plan takes its statistics from: the data in memory, or data in blocks.

`GDRegressor._plan` and `SGDRegressor._plan` (linreg.estimators) decide a fit's method,
step and stopping rule from a few statistics of the data (the Gram statistics, column
moments, row norms, a gradient for power iterations, the targets' moments) and then
build its solver. They ask a *source* for them, so one plan serves both kinds of data
and every option reaches both:

- `ArraySource`: X, Y (and sample_weight) validated in memory; each statistic is one
  compiled pass over X, exactly the calls the in-memory fit always made.
- `BlockSource`: blocks of rows (`linreg._blocks`: Dask collections, chunks); each
  statistic is computed where each block lives and merged in a fixed tree
  (`linreg._blocked_solvers`), and the solvers read the blocks.

Both have the same attributes and methods (n_samples, n_features, n_outputs, dtype,
n_visited, X_like, Y_like; prepare_passes, gram_statistics, scaling, gradient,
target_moments, row_norms, gram_solver, fused_solver, sgd_solver).
"""
import numpy as np

from linreg import _auto
from linreg._blocked_solvers import (
    BlockedFusedGD,
    BlockedSGD,
    blocked_gradient,
    blocked_gram_statistics,
    blocked_moments,
    blocked_row_norms,
    largest_weight,
    placeholder_problem,
    total_weight,
)
from linreg._gram import gram_statistics_of
from linreg.solvers import SGD, FusedGD, GramGD

__all__ = ["ArraySource", "BlockSource"]


class ArraySource:
    """A fit's data in memory.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Validated (finite, float32 or float64, C or Fortran order).
    Y : ndarray of shape (n_samples, n_outputs)
        The targets, 2-D, in X's dtype.
    sample_weight : ndarray of shape (n_samples,) or None
        The training weights (early_stopping: 0 on the held-out rows).
    rows : ndarray of shape (n_visited,) or None
        The rows an SGD epoch visits (early_stopping's training rows); None: all.
    Y_given : ndarray, optional
        Y as the user shaped it (1-D or 2-D), for the initial parameters' shapes and
        messages; Y by default.
    """

    def __init__(self, X, Y, sample_weight=None, rows=None, Y_given=None):
        self.X, self.Y, self.sample_weight, self.rows = X, Y, sample_weight, rows
        self.n_samples, self.n_features = X.shape
        self.n_outputs = Y.shape[1]
        self.dtype = X.dtype
        self.n_visited = self.n_samples if rows is None else len(rows)
        self.X_like, self.Y_like = X, Y if Y_given is None else Y_given

    def prepare_passes(self):
        """Nothing to do: X is in memory for every pass."""

    def gram_statistics(self, n_threads):
        return gram_statistics_of(self.X, self.Y, self.n_outputs == 1, n_threads,
                                  self.sample_weight)

    def scaling(self, n_threads, fit_intercept, ridge):
        return _auto.scaling_from_data(self.X, n_threads, fit_intercept, ridge,
                                       self.sample_weight)

    def gradient(self, n_threads):
        return _auto.loss_gradient(self.X, self.Y, n_threads, self.sample_weight)

    def target_moments(self, n_threads):
        """(mean variance over outputs, means (k,)) of Y, unweighted, over every row."""
        return float(np.var(self.Y, axis=0).mean()), self.Y.mean(axis=0)

    def row_norms(self, scaling, n_threads):
        return _auto.row_norms(self.X, scaling, n_threads, self.sample_weight)

    def gram_solver(self, settings, stats):
        return GramGD(self.X, self.Y, settings, self.sample_weight, stats)

    def fused_solver(self, settings):
        return FusedGD(self.X, self.Y, settings, self.sample_weight)

    def sgd_solver(self, settings):
        return SGD(self.X, self.Y, settings, self.sample_weight, self.rows)


class BlockSource:
    """A fit's data in blocks of rows (a `linreg._blocks.DaskBlocks` or `ChunkBlocks`):
    the statistics of `ArraySource`, merged over the blocks."""

    def __init__(self, blocks):
        self.blocks = blocks
        self.n_samples, self.n_features = blocks.n_samples, blocks.n_features
        self.n_outputs, self.dtype = blocks.n_outputs, blocks.dtype
        self.n_visited = self.n_samples
        d, k = self.n_features, self.n_outputs
        self.X_like = np.empty((0, d), dtype=self.dtype)
        self.Y_like = np.empty((0,) if blocks.y_1d else (0, k), dtype=self.dtype)

    def prepare_passes(self):
        """Every epoch reads the blocks: keep them on the workers."""
        self.blocks.persist()

    def gram_statistics(self, n_threads):
        return blocked_gram_statistics(self.blocks, n_threads)

    def scaling(self, n_threads, fit_intercept, ridge):
        mean, var = blocked_moments(self.blocks, n_threads)
        return _auto.scaling_for(mean, var, fit_intercept, ridge)

    def gradient(self, n_threads):
        return blocked_gradient(self.blocks, total_weight(self.blocks), n_threads)

    def target_moments(self, n_threads):
        y_mean, y_var = blocked_moments(self.blocks, n_threads, of_targets=True,
                                        weighted=False)
        return float(y_var.mean()), y_mean

    def row_norms(self, scaling, n_threads):
        """As `linreg._auto.row_norms`: with weights, both bounds times the largest."""
        largest, mean_norm = blocked_row_norms(self.blocks, scaling, n_threads)
        if self.blocks.has_weights:
            heaviest = largest_weight(self.blocks)
            largest, mean_norm = largest * heaviest, mean_norm * heaviest
        return largest, mean_norm

    def gram_solver(self, settings, stats):
        placeholders = placeholder_problem(self.n_features, self.n_outputs, self.dtype)
        return GramGD(*placeholders, settings, None, stats)

    def fused_solver(self, settings):
        return BlockedFusedGD(self.blocks, settings, total_weight(self.blocks))

    def sgd_solver(self, settings):
        return BlockedSGD(self.blocks, settings, total_weight(self.blocks))
