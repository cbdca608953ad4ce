"""One fit, from its plan to the published model: what the fit of data in memory
(`GradientDescentRegressor._fit`, linreg._regressor) and of data in blocks
(`linreg._blocked_fit.fit`) share, so that warm starts, callbacks, verbose progress,
log lines, early_stopping, the warnings and the publishing of fitted attributes are
the same code for both.

The caller checks the data and the options, holds out early_stopping's validation rows
(and gives their `ValidationMonitor`), and wraps the data in a source
(`linreg._sources`); `train` asks the estimator for its plan (`_plan`), runs the epochs
(`linreg.training.run_epochs`) and publishes. It runs inside the estimator's
transaction, which undoes everything if it raises.
"""
import warnings

import numpy as np

from linreg import _auto
from linreg._options import BLOW_UP_FACTOR
from linreg._progress import Progress
from linreg._structs import Outcome, reported_slot
from linreg.exceptions import convergence_warning
from linreg.solvers import new_model
from linreg.training import format_log_line, run_epochs

__all__ = ["train", "warn_if_blown_up"]

#: Frames from `train` up to the user's call: train <- _fit (or _blocked_fit.fit) <-
#: _transaction <- fit <- the user.
_USER_FRAME = 5


def train(estimator, source, options, coef_init=None, intercept_init=None, monitor=None):
    """Fit `estimator` on `source` (the data, see linreg._sources) and publish.

    Parameters
    ----------
    estimator : GDRegressor or SGDRegressor
    source : linreg._sources.ArraySource or BlockSource
    options : linreg._options.FitOptions
        The estimator's parameters, checked.
    coef_init, intercept_init : array-like or None
        As `fit`'s.
    monitor : linreg._early_stopping.ValidationMonitor or None
        With early_stopping: scores every epoch on the held-out rows; the fit keeps the
        best epoch's weights.

    Returns
    -------
    estimator
    """
    params_at_start = estimator.get_params()
    W, b = estimator._initial_params(source.X_like, source.Y_like, options.warm, coef_init,
                                     intercept_init)
    # warm_start continues the fitted trajectory: its losses and its step state.
    continued = options.warm and coef_init is None and intercept_init is None
    carried = estimator.__dict__.get("_training_state_") if continued else None
    plan = estimator._plan(source, options, b,
                           int(carried["t"][0]) if carried is not None else 0)
    rule = plan.solver.settings.step
    model = new_model(W, b, rule)
    if plan.scaling is not None:
        _auto.fill_scaling(model, rule, plan.scaling)
    d, k = source.n_features, model.shape[2]
    state = estimator._new_state()
    if continued:
        estimator._carry_step_state(model, state, rule)
    previous = estimator.loss_curve_ if continued else np.empty(0)

    def log_line(epoch, loss, params):
        W_logged = params[: d * k].reshape(W.shape)
        return format_log_line(epoch, options.epochs, W_logged, params[d * k :], loss)

    callback = None
    if options.callback is not None or monitor is not None:

        def callback(epoch, losses):
            stop = monitor is not None and monitor.after_epoch(
                epoch, model, reported_slot(rule, state), state, rule.lr)
            if options.callback is not None:
                # The callback sees a snapshot: training goes on updating `model`.
                estimator._publish(model.copy(), state, W.ndim, previous, losses, epoch,
                                   plan.solver)
                stop = bool(options.callback(epoch, float(losses[-1]), estimator)) or stop
                estimator._refuse_changed_params(params_at_start, epoch)
            return stop

    progress = (Progress(options.epochs, options.verbose, name=type(estimator).__name__)
                if options.verbose else None)
    losses = run_epochs(plan.solver, model, state, options.epochs, rule.lr,
                        log_every=options.log_every, log_line=log_line, callback=callback,
                        lr_lambda=options.lr_lambda, first_epoch=len(previous),
                        progress=progress)
    validation = None
    if monitor is not None:
        if monitor.best_model is not None:  # the best epoch's weights, not the last
            model[...] = monitor.best_model
        validation = {"validation_scores_": np.array(monitor.scores),
                      "best_validation_score_": monitor.best_score}
    estimator._publish(model, state, W.ndim, previous, losses, len(losses), plan.solver,
                       validation=validation)
    warn_if_blown_up(losses, rule.lr, _USER_FRAME + 1)
    if (options.auto and len(losses) == options.epochs
            and state["outcome"][0] != Outcome.CONVERGED):
        warnings.warn(
            f"{type(estimator).__name__} did not converge in epochs={options.epochs}: its "
            "stopping rule had not fired; raise epochs (or, if the features are "
            "nearly collinear, expect a slow fit)",
            convergence_warning(), stacklevel=_USER_FRAME,
        )
    return estimator


def warn_if_blown_up(losses, lr, stacklevel):
    """ConvergenceWarning when the loss grew by BLOW_UP_FACTOR over the fit (finite, so
    not a DivergenceError): lr is above the stable limit."""
    if len(losses) > 1 and losses[-1] > BLOW_UP_FACTOR * losses[0]:
        warnings.warn(
            f"the loss grew from {losses[0]:.3g} to {losses[-1]:.3g} over {len(losses)} "
            f"epochs: lr={lr:g} is above the stable limit; try a smaller lr or scale "
            "the features",
            convergence_warning(),
            stacklevel=stacklevel,
        )
