"""GDRegressor and SGDRegressor on data held in blocks: Dask collections (arrays, data
frames, series) and, for GDRegressor.fit, re-iterables of (X, y) chunks.

`linreg._regressor` sends fit, partial_fit, predict and score here when X (or y) is a
Dask collection, and fit when X is an iterable of chunks (see `linreg._blocks`). A fit
is planned as in memory, from statistics merged over the blocks instead of computed
from X (see `linreg._blocked_solvers`), and trained by `linreg.training.run_epochs`, so
warm starts, callbacks, log lines, the stopping rules and the transaction (a failed fit
leaves the model as it was) are the in-memory ones:

- GDRegressor, method "gram": one pass over the blocks for the merged Gram statistics
  (a second only for a nearly exact fit), then every epoch locally on `GramGD`.
- GDRegressor, method "fused": X persisted on the workers, one round trip an epoch.
- SGDRegressor: the model goes through the blocks in order, each epoch.

predict and score on Dask collections stay lazy (map_blocks) and return Dask arrays.
"""
import copy
import dataclasses
import warnings

import numpy as np

from linreg import _auto, kernels
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
from linreg._blocks import (
    ChunkBlocks,
    DaskBlocks,
    as_dask_array,
    is_chunk_iterable,
    is_dask_collection,
)
from linreg._gram import GRAM_MAX_FEATURES
from linreg._options import FITTED_LOCK, FITTING, Plan
from linreg._structs import Outcome, StopRule
from linreg._validation import all_finite, as_data_matrix
from linreg.exceptions import convergence_warning
from linreg.solvers import GramGD, new_model
from linreg.training import format_log_line, run_epochs

__all__ = ["is_blocked", "is_chunk_iterable", "fit", "partial_fit", "predict", "score", "choose_blocked_method"]

#: "auto" takes "gram" on blocks up to this many features: each block sends d^2 doubles
#: (8 MB at d = 1024), once.
BLOCKED_GRAM_MAX_FEATURES = 4096


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


def choose_blocked_method(method, n_samples, n_features, n_outputs, epochs):
    """GDRegressor(method=...) on blocks: "auto" counts multiply-adds as
    `linreg.estimators.choose_method` does (gram: n d^2 / 2 once plus epochs d^2 k; fused:
    epochs 2 n d k) up to BLOCKED_GRAM_MAX_FEATURES."""
    if method not in ("auto", "fused", "gram"):
        raise ValueError(f"method must be one of 'auto', 'fused', 'gram', got {method!r}")
    if method != "auto":
        return method
    n, d, k = n_samples, n_features, n_outputs
    fused = epochs * 2 * n * d * k
    gram = n * (d * (d + 1) // 2 + d * k + d + k) + epochs * (d * d * k + 2 * d * k)
    limit = min(BLOCKED_GRAM_MAX_FEATURES, GRAM_MAX_FEATURES)
    return "gram" if d <= limit and gram < fused else "fused"


def _plan_gd(estimator, blocks, options, intercept, t_start):
    """GDRegressor._plan for blocks: the same rules from merged statistics."""
    n, d, k, dtype = blocks.n_samples, blocks.n_features, blocks.n_outputs, blocks.dtype
    method = choose_blocked_method(estimator.method, n, d, k, options.epochs)
    stats = scaling = None
    if method == "gram":
        stats = blocked_gram_statistics(blocks, options.n_threads)
        if options.precondition:
            scaling = _auto.scaling_from_stats(stats, options.fit_intercept, options.ridge(k))
    else:
        blocks.persist()  # every epoch reads the blocks: keep them on the workers
        if options.precondition:
            mean, var = blocked_moments(blocks, options.n_threads)
            scaling = _auto.scaling_for(mean, var, options.fit_intercept, options.ridge(k))
    if options.auto:
        if stats is not None:
            step, stop = _auto.gd_rules(stats, scaling, k, options.epochs, options.patience,
                                        None, None, options.n_threads, dtype, l2=options.l2,
                                        fit_intercept=options.fit_intercept,
                                        intercept=intercept.astype(np.float64))
        else:
            top = _auto.power_lambda_max(blocked_gradient(blocks, total_weight(blocks),
                                                          options.n_threads),
                                         d, scaling, dtype, k, options.l2)
            y_mean, y_var = blocked_moments(blocks, options.n_threads, of_targets=True,
                                            weighted=False)
            step, stop = _auto.fused_gd_rules(top, float(y_var.mean()), y_mean,
                                              options.patience, k, l2=options.l2,
                                              fit_intercept=options.fit_intercept)
        step = options.with_user_schedule(options.with_user_momentum(step))
        if options.l1:  # as GDRegressor._plan: plain proximal GD, the rtol rule
            step = dataclasses.replace(step, momentum=0.0, nesterov=False)
            stop = StopRule(0.0, options.patience, rtol=_auto.FUSED_RTOL)
        if options.user_stop:
            stop = StopRule(options.stop.tol, options.stop.patience, target=stop.target)
    else:
        step, stop = options.rule(), options.stop
        if step.average_start >= 0 and t_start:
            step = dataclasses.replace(step, average_start=step.average_start + t_start)
    settings = estimator._settings(options._replace(stop=stop), n, step)
    if stats is not None:
        return Plan(GramGD(*placeholder_problem(d, k, dtype), settings, None, stats), scaling)
    return Plan(BlockedFusedGD(blocks, settings, total_weight(blocks)), scaling)


def _plan_sgd(estimator, blocks, options, intercept, t_start):
    """SGDRegressor._plan for blocks: the same rules from merged statistics."""
    n, k = blocks.n_samples, blocks.n_outputs
    batch_size = estimator._batch_size(n, clip=False)
    blocks.persist()
    scaling = None
    if options.precondition:
        mean, var = blocked_moments(blocks, options.n_threads)
        scaling = _auto.scaling_for(mean, var, options.fit_intercept, options.ridge(k))
    if options.auto:
        largest, mean_norm = blocked_row_norms(blocks, scaling, options.n_threads)
        if blocks.has_weights:  # as _auto.row_norms: bounds times the largest weight
            heaviest = largest_weight(blocks)
            largest, mean_norm = largest * heaviest, mean_norm * heaviest
        step, stop = _auto.sgd_rules_for_norm(largest, mean_norm, n, k, batch_size,
                                              options.patience, True, l2=options.l2,
                                              fit_intercept=options.fit_intercept,
                                              scaling=scaling)
        y_mean, y_var = blocked_moments(blocks, options.n_threads, of_targets=True)
        stop = _auto.sgd_stop_with_floor(stop, float(y_var.mean()), y_mean)
        step = options.with_user_schedule(options.with_user_momentum(step))
        if options.user_stop:
            stop = options.stop
    else:
        step, stop = options.rule(batch_size=batch_size), options.stop
    if step.average_start >= 0 and t_start:
        step = dataclasses.replace(step, average_start=step.average_start + t_start)
    settings = estimator._settings(options._replace(stop=stop), n, step)
    return Plan(BlockedSGD(blocks, settings, total_weight(blocks)), scaling)


def fit(estimator, X, y, coef_init=None, intercept_init=None, sample_weight=None):
    """`estimator.fit` on blocks (called inside its transaction): as `_fit` in
    linreg._regressor, the plan from the blocks."""
    blocks = blocks_of(X, y, sample_weight)
    options = estimator._check_options()
    if options.early_stopping:
        raise ValueError("early_stopping=True is not supported on Dask collections or "
                         "chunks yet: hold out a validation block and score it in a "
                         "callback")
    params_at_start = estimator.get_params()
    d, k = blocks.n_features, blocks.n_outputs
    X0 = np.empty((0, d), dtype=blocks.dtype)
    Y0 = np.empty((0,) if blocks.y_1d else (0, k), dtype=blocks.dtype)
    W, b = estimator._initial_params(X0, Y0, options.warm, coef_init, intercept_init)
    continued = options.warm and coef_init is None and intercept_init is None
    carried = estimator.__dict__.get("_training_state_") if continued else None
    planner = _plan_gd if "method" in estimator._param_names else _plan_sgd
    plan = planner(estimator, blocks, options, b,
                   int(carried["t"][0]) if carried is not None else 0)
    rule = plan.solver.settings.step
    model = new_model(W, b, rule)
    if plan.scaling is not None:
        _auto.fill_scaling(model, rule, plan.scaling)
    state = estimator._new_state()
    if continued:
        estimator._carry_step_state(model, state, rule)
    previous = estimator.loss_curve_ if continued else np.empty(0)

    def log_line(epoch, loss, params):
        return format_log_line(epoch, options.epochs, params[: d * k].reshape(W.shape),
                               params[d * k:], loss)

    callback = None
    if options.callback is not None:

        def callback(epoch, losses):
            estimator._publish(model.copy(), state, W.ndim, previous, losses, epoch,
                               plan.solver)
            stop = bool(options.callback(epoch, float(losses[-1]), estimator))
            estimator._refuse_changed_params(params_at_start, epoch)
            return stop

    losses = run_epochs(plan.solver, model, state, options.epochs, rule.lr,
                        log_every=options.log_every, log_line=log_line, callback=callback,
                        lr_lambda=options.lr_lambda, first_epoch=len(previous))
    estimator._publish(model, state, W.ndim, previous, losses, len(losses), plan.solver)
    estimator._warn_if_blown_up(losses, rule.lr)
    if (options.auto and len(losses) == options.epochs
            and state["outcome"][0] != Outcome.CONVERGED):
        warnings.warn(
            f"{type(estimator).__name__} did not converge in epochs={options.epochs}: its "
            "stopping rule had not fired; raise epochs (or, if the features are nearly "
            "collinear, expect a slow fit)", convergence_warning(), stacklevel=4)
    return estimator


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
