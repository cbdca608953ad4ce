"""GDRegressor and SGDRegressor on data held in blocks: Dask collections (arrays, data
frames, series) and, for GDRegressor.fit, re-iterables of (X, y) chunks.

`linreg._regressor` sends fit, partial_fit, predict and score here when X (or y) is a
Dask collection, and fit when X is an iterable of chunks (see `linreg._blocks`). A fit
is planned by the estimator's own `_plan`, from statistics merged over the blocks
instead of computed from X (`linreg._sources.BlockSource`, `linreg._blocked_solvers`),
and trained by `linreg._train.train`, so warm starts, callbacks, log lines, verbose
progress, the stopping rules and the transaction (a failed fit leaves the model as it
was) are the in-memory ones:

- GDRegressor, method "gram": one pass over the blocks for the merged Gram statistics
  (a second only for a nearly exact fit), then every epoch locally on `GramGD`.
- GDRegressor, method "fused": X persisted on the workers, one round trip an epoch.
- SGDRegressor: the model goes through the blocks in order, each epoch.

predict and score on Dask collections stay lazy (map_blocks) and return Dask arrays.
"""
import copy

import numpy as np

from linreg import kernels
from linreg._blocks import (
    ChunkBlocks,
    DaskBlocks,
    as_dask_array,
    is_chunk_iterable,
    is_dask_collection,
)
from linreg._options import FITTED_LOCK, FITTING
from linreg._sources import BlockSource
from linreg._train import train
from linreg._validation import all_finite, as_data_matrix

__all__ = ["is_blocked", "is_chunk_iterable", "fit", "partial_fit", "predict", "score"]


def is_blocked(X, y=None, sample_weight=None):
    """Whether fit's arguments are blocked data: a Dask collection among them."""
    return any(is_dask_collection(value) for value in (X, y, sample_weight))


def blocks_of(X, y, sample_weight=None):
    """The blocks of a fit: DaskBlocks when any argument is a Dask collection, else the
    chunks of a re-iterable X (y None)."""
    if is_blocked(X, y, sample_weight):
        return DaskBlocks(X, y, sample_weight)
    if sample_weight is not None:
        raise ValueError("with chunks of (X, y), give each chunk's weights as a third "
                         "item of the chunk, not sample_weight")
    return ChunkBlocks(X)


def fit(estimator, X, y, coef_init=None, intercept_init=None, sample_weight=None):
    """`estimator.fit` on blocks (called inside its transaction): the plan and the
    epochs of the in-memory fit (`estimator._plan`, `linreg._train.train`), the
    statistics merged over the blocks (`linreg._sources.BlockSource`)."""
    blocks = blocks_of(X, y, sample_weight)
    options = estimator._check_options()
    if options.early_stopping:
        raise ValueError("early_stopping=True is not supported on Dask collections or "
                         "chunks yet: hold out a validation block and score it in a "
                         "callback")
    return train(estimator, BlockSource(blocks), options, coef_init, intercept_init)


# -- partial_fit: the estimator moves through the blocks (dask-ml's Incremental) ---------

def _block_partial_fit(estimator, X, Y, w, is_last, y_1d):
    """A copy of `estimator` after partial_fit on one block (run where the block is)."""
    fitted = copy.deepcopy(estimator)
    fitted.__dict__.pop("feature_names_in_", None)  # the caller keeps the names
    y = Y[:, 0] if y_1d and getattr(Y, "ndim", 1) == 2 else Y
    if w is None:
        return fitted.partial_fit(X, y)
    return fitted.partial_fit(X, y, sample_weight=w)


def partial_fit(estimator, X, y, sample_weight=None):
    """One partial_fit per block, in order, the estimator moving to each block (inside
    the caller's transaction); the fitted attributes come back to `estimator`."""
    blocks = DaskBlocks(X, y, sample_weight)
    blocks.persist()
    fitted = blocks.chain(_block_partial_fit, estimator, range(blocks.n_blocks), blocks.y_1d)
    names = {name: fitted.__dict__[name] for name in estimator._FITTED
             if name in fitted.__dict__ and name != "feature_names_in_"}
    with FITTED_LOCK:
        for name in estimator._FITTED:
            estimator.__dict__.pop(name, None)
        estimator.__dict__.update(names)
        feature_names = FITTING.get(id(estimator))
        if feature_names is not None:
            estimator.__dict__["feature_names_in_"] = feature_names
    return estimator


# -- predict and score, lazily --------------------------------------------------------

def _predict_block(X, W, b, n_threads):
    X = as_data_matrix(X)
    if X.dtype != W.dtype:
        X = np.ascontiguousarray(X, dtype=W.dtype)
    return kernels.predict(X, W, b, n_threads=n_threads)


def predict(estimator, X):
    """estimator.predict(X) for a Dask collection X: a Dask array, one task per block."""
    estimator._check_fitted()
    estimator._feature_names_for(X, reset=False)
    X = as_dask_array(X, "X", 2)
    if X.ndim != 2 or X.shape[1] != estimator.n_features_in_:
        raise ValueError(f"X has {X.shape[1] if X.ndim == 2 else 'no'} features, but "
                         f"{type(estimator).__name__} is expecting "
                         f"{estimator.n_features_in_} features as input")
    if X.numblocks[1] > 1:
        X = X.rechunk({1: -1})
    dtype = np.dtype(np.float32) if X.dtype == np.float32 else np.dtype(np.float64)
    with FITTED_LOCK:
        coef, intercept = estimator.coef_, estimator.intercept_
    with np.errstate(over="ignore"):
        W = np.ascontiguousarray(np.transpose(coef), dtype=dtype)
        b = np.atleast_1d(np.asarray(intercept, dtype=dtype))
    if not (all_finite(W.reshape(W.shape[0], -1)) and all_finite(b[None, :])):
        raise ValueError(f"the model's coefficients do not fit in X's dtype {dtype}: "
                         "pass X as float64")
    kwargs = dict(W=W, b=b, n_threads=estimator.n_threads, dtype=dtype)
    if W.ndim == 1:
        return X.map_blocks(_predict_block, drop_axis=1, chunks=(X.chunks[0],), **kwargs)
    return X.map_blocks(_predict_block, chunks=(X.chunks[0], (W.shape[1],)), **kwargs)


def _finite_block(y):
    y = np.asarray(y, dtype=np.float64)
    if not np.isfinite(y).all():
        raise ValueError("y contains NaN or infinity")
    return y


def score(estimator, X, y, sample_weight=None):
    """estimator.score(X, y) on Dask collections: R^2 as a 0-d Dask array (weighted by
    sample_weight when given), computed where the blocks are."""
    import dask.array as da  # the caller passed a Dask collection

    y_pred = predict(estimator, X)
    n = y_pred.shape[0]
    if is_dask_collection(y):
        y = as_dask_array(y, "y", 2)
    else:
        y = da.from_array(np.asarray(y), chunks=(y_pred.chunks[0],) + np.shape(y)[1:])
    if y.shape != y_pred.shape:
        raise ValueError(f"y has shape {y.shape}, but the predictions have shape "
                         f"{y_pred.shape}")
    y = y.rechunk({0: y_pred.chunks[0]}).map_blocks(_finite_block, dtype=np.float64)
    y2, p2 = y.reshape(n, -1), y_pred.astype(np.float64).reshape(n, -1)
    if sample_weight is None:
        weights = da.ones((n, 1), chunks=(y_pred.chunks[0], 1))
    else:
        if is_dask_collection(sample_weight):
            sample_weight = as_dask_array(sample_weight, "sample_weight", 1)
        else:
            sample_weight = da.from_array(np.asarray(sample_weight, dtype=np.float64),
                                          chunks=(y_pred.chunks[0],))
        if sample_weight.shape != (n,):
            raise ValueError(f"sample_weight must have shape ({n},), got "
                             f"{sample_weight.shape}")
        weights = sample_weight.rechunk({0: y_pred.chunks[0]})[:, None]
    mean = (weights * y2).sum(axis=0) / weights.sum()
    residual = (weights * (y2 - p2) ** 2).sum(axis=0)
    total = (weights * (y2 - mean) ** 2).sum(axis=0)
    safe = da.where(total > 0, total, 1.0)
    r2 = da.where(total > 0, 1.0 - residual / safe, da.where(residual == 0, 1.0, 0.0))
    return r2.mean()
