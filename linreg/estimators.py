"""Estimators: GDRegressor (full-batch gradient descent) and SGDRegressor (stochastic).

Both fit y = XW + b on the mean squared error, exactly as the seed tutorial's PyTorch loop
does, with the scikit-learn estimator conventions: parameters stored unchanged by
``__init__`` and checked by ``fit``, fitted attributes ending in an underscore.
"""
import dataclasses
import functools
import math
import numbers
import threading
import warnings
from typing import NamedTuple

import numpy as np

from linreg import _auto, _model_file, kernels
from linreg._gram import gram_statistics_of
from linreg._structs import Outcome, Settings, StepRule, StopRule, new_training_state
from linreg._validation import (
    all_finite,
    as_data_matrix,
    as_targets,
    cast_to_dtype,
    check_feature_names,
    check_int,
    check_lr,
    feature_names,
)
from linreg.exceptions import convergence_warning, not_fitted_error
from linreg.solvers import SGD, FusedGD, GramGD, new_model
from linreg.training import format_log_line, run_epochs

__all__ = ["GDRegressor", "SGDRegressor", "choose_method"]

#: The loss curve holds one float64 per epoch: 10**9 epochs would already take 8 GB.
MAX_EPOCHS = 10**9

#: A fit whose last loss is this many times its first is reported (ConvergenceWarning):
#: it grew by orders of magnitude without overflowing, so lr is above the stable limit.
BLOW_UP_FACTOR = 1e3

# Estimator objects being fitted (by id), each with the feature names its fit publishes,
# and the lock that guards it and every change of fitted attributes: one lock for all
# estimators, held for microseconds at a time.
_FITTING = {}
_FITTED_LOCK = threading.Lock()


class _FitOptions(NamedTuple):
    """The constructor's parameters, checked, as one fit uses them."""

    lr: object  # a float, or "auto"
    precondition: bool
    epochs: int
    log_every: int
    n_threads: int
    stop: StopRule
    user_stop: bool  # whether tol was given (else lr="auto" brings its own rule)
    patience: int
    callback: object
    warm: bool
    momentum: float
    dampening: float
    nesterov: bool
    l2: float  # alpha with penalty="l2", else 0
    fit_intercept: bool

    @property
    def auto(self):
        return isinstance(self.lr, str)

    def rule(self, **fields):
        """The StepRule of a numeric lr with every user option, and `fields`."""
        return StepRule(self.lr, momentum=self.momentum, dampening=self.dampening,
                        nesterov=self.nesterov, l2=self.l2, fit_intercept=self.fit_intercept,
                        precondition=self.precondition, **fields)

    def ridge(self, n_outputs):
        """What the L2 penalty adds to each feature's variance in the preconditioner."""
        return 0.5 * n_outputs * self.l2

    def with_user_momentum(self, step):
        """lr="auto"'s StepRule `step`, its momentum replaced by the user's if given."""
        if self.momentum == 0:
            return step
        return dataclasses.replace(step, momentum=self.momentum, dampening=self.dampening,
                                   nesterov=self.nesterov)


class _Plan(NamedTuple):
    """How one fit trains: the solver (holding the settings) and the preconditioner."""

    solver: object
    scaling: object  # an _auto.Scaling, or None


class _GradientDescentRegressor:
    """What GDRegressor and SGDRegressor share: checking, state, the training loop."""

    def fit(self, X, y, coef_init=None, intercept_init=None):
        """Train on (X, y) from zero weights (or from the current ones with warm_start).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            float32 data trains in float32 without a copy (when C-contiguous); other
            real data trains in float64. A data frame (pandas, polars, anything with
            `columns`) whose column names are all str sets feature_names_in_.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        coef_init : array-like of shape (n_features,) or (n_outputs, n_features), optional
            The coefficients to start from, shaped like coef_ (as scikit-learn's).
        intercept_init : float or array-like of shape (n_outputs,), optional
            The intercept to start from; with fit_intercept=False it stays there.
            Giving either starts a new trajectory even with warm_start: the other starts
            from zero (or, with warm_start, from the fitted value), and loss_curve_ and
            the step state (t_, the velocity) start afresh.

        Returns
        -------
        self

        Raises
        ------
        DivergenceError
            If the loss or a weight becomes non-finite. Like any error raised by fit
            (and Ctrl-C), it leaves the model exactly as it was before the call.
        RuntimeError
            If the callback changes a parameter of the model (parameters cannot change
            during fit); the change is undone.
        """
        train = functools.partial(self._fit, coef_init=coef_init, intercept_init=intercept_init)
        return self._transaction(train, X, y, reset_feature_names=True)

    def _fit(self, X, y, coef_init=None, intercept_init=None):
        X, Y = self._check_data(X, y)
        options = self._check_options()
        params_at_start = self.get_params()
        W, b = self._initial_params(X, Y, options.warm, coef_init, intercept_init)
        # warm_start continues the fitted trajectory: its losses and its step state.
        continued = options.warm and coef_init is None and intercept_init is None
        carried = self.__dict__.get("_training_state_") if continued else None
        plan = self._plan(X, Y.reshape(X.shape[0], -1), options, b,
                          int(carried["t"][0]) if carried is not None else 0)
        rule = plan.solver.settings.step
        model = new_model(W, b, rule)
        if plan.scaling is not None:
            _auto.fill_scaling(model, rule, plan.scaling)
        d, k = X.shape[1], model.shape[2]
        state = self._new_state()
        if continued:
            self._carry_step_state(model, state, rule)
        previous = self.loss_curve_ if continued else np.empty(0)

        def log_line(epoch, loss, params):
            W_logged = params[: d * k].reshape(W.shape)
            return format_log_line(epoch, options.epochs, W_logged, params[d * k :], loss)

        callback = None
        if options.callback is not None:

            def callback(epoch, losses):
                # The callback sees a snapshot: training goes on updating `model`.
                self._publish(model.copy(), state, W.ndim, previous, losses, epoch,
                              plan.solver)
                stop = bool(options.callback(epoch, float(losses[-1]), self))
                self._refuse_changed_params(params_at_start, epoch)
                return stop

        losses = run_epochs(plan.solver, model, state, options.epochs, rule.lr,
                            log_every=options.log_every, log_line=log_line, callback=callback)
        self._publish(model, state, W.ndim, previous, losses, len(losses), plan.solver)
        self._warn_if_blown_up(losses, rule.lr)
        if (options.auto and len(losses) == options.epochs
                and state["outcome"][0] != Outcome.CONVERGED):
            warnings.warn(
                f"{type(self).__name__} did not converge in epochs={options.epochs}: its "
                "stopping rule had not fired; raise epochs (or, if the features are "
                "nearly collinear, expect a slow fit)",
                convergence_warning(), stacklevel=3,
            )
        return self

    def _refuse_changed_params(self, params_at_start, epoch):
        """Raise RuntimeError if the callback changed a parameter: the fit runs with the
        settings it started with, so a change would be silently ignored. The change is
        undone (the failed fit leaves the model as it was before it)."""
        now = self.get_params()
        changed = [name for name in self._param_names
                   if not _same_value(now[name], params_at_start[name])]
        if not changed:
            return
        shown = ", ".join(f"{name}={now[name]!r} (was {params_at_start[name]!r})"
                          for name in changed)
        for name in changed:
            setattr(self, name, params_at_start[name])
        raise RuntimeError(
            f"{type(self).__name__} parameters cannot change during fit; the callback "
            f"set {shown} at epoch {epoch}. The change was undone and the fit left the "
            "model as it was: return True from the callback to stop, then set the "
            "parameter and fit again (warm_start=True continues from there)"
        )

    def _carry_step_state(self, model, state, rule):
        """Continue the fitted model's step state (scikit-learn's t_): its update count
        and, when this fit has momentum and the last one kept a velocity of this shape,
        that velocity (as one torch.optim.SGD would across calls)."""
        previous = self.__dict__.get("_training_state_")
        if previous is None:
            return
        state["t"] = previous["t"]
        velocity = self.__dict__.get("_velocity_")
        if (rule.momentum and velocity is not None and velocity.shape == model.shape[1:]
                and previous["velocity_steps"][0] > 0):
            model[rule.slots["velocity"]] = cast_to_dtype(velocity, model.dtype, "the velocity")
            state["velocity_steps"] = previous["velocity_steps"]

    def _settings(self, options, n_samples, step):
        """The kernels' Settings for this fit, around the step rule `step`."""
        return Settings(step, options.stop, n_threads=options.n_threads,
                        snapshot_every=options.log_every)

    def _new_state(self):
        return new_training_state()

    def _warn_if_blown_up(self, losses, lr):
        if len(losses) > 1 and losses[-1] > BLOW_UP_FACTOR * losses[0]:
            warnings.warn(
                f"the loss grew from {losses[0]:.3g} to {losses[-1]:.3g} over {len(losses)} "
                f"epochs: lr={lr:g} is above the stable limit; try a smaller lr or scale "
                "the features",
                convergence_warning(),
                stacklevel=4,
            )

    # The step state (_training_state_, a TRAINING_STATE array, and _velocity_, the
    # velocity slot or None) is what warm_start and partial_fit continue; like t_ and
    # method_ it is not saved in model files.
    _FITTED = ("coef_", "intercept_", "loss_curve_", "n_iter_", "n_features_in_", "method_",
               "_stream_moments_", "_stream_largest_norm_", "feature_names_in_", "t_",
               "_training_state_", "_velocity_")

    def _transaction(self, train, X, y, reset_feature_names):
        """Run train(X, y); if it raises, put the fitted attributes back as they were.

        A failed fit (divergence, bad input, Ctrl-C, a callback's exception) thus never
        leaves a half-trained model: unfitted stays unfitted, fitted keeps its weights.
        One estimator object is fitted by one thread at a time: a second fit started
        while one runs raises RuntimeError (clone the estimator for each thread).
        X's column names are taken (fit, a first partial_fit) or checked against
        feature_names_in_ (partial_fit) first, before X is converted, as scikit-learn does.
        """
        names = self._feature_names_for(X, reset_feature_names or not hasattr(self, "coef_"))
        with _FITTED_LOCK:
            if id(self) in _FITTING:
                raise RuntimeError(
                    f"this {type(self).__name__} is being fitted in another thread; an "
                    "estimator object fits one call at a time (use sklearn.base.clone or "
                    "copy.deepcopy for one estimator per thread)"
                )
            _FITTING[id(self)] = names
            state = {name: self.__dict__[name] for name in self._FITTED if name in self.__dict__}
        try:
            return train(X, y)
        except BaseException:
            with _FITTED_LOCK:
                for name in self._FITTED:
                    self.__dict__.pop(name, None)
                self.__dict__.update(state)
            raise
        finally:
            with _FITTED_LOCK:
                _FITTING.pop(id(self), None)

    def predict(self, X):
        """Predictions XW + b.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            With the columns fit saw: a data frame whose column names differ from
            feature_names_in_ (or are in another order) is a ValueError; names on only
            one side warn (UserWarning), as in scikit-learn.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Shaped like the y given to fit, in X's float dtype.
        """
        self._check_fitted()
        self._feature_names_for(X, reset=False)
        X = as_data_matrix(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input"
            )
        with _FITTED_LOCK:  # coef_ and intercept_ of one fit, never of two
            coef, intercept = self.coef_, self.intercept_
        with np.errstate(over="ignore"):
            W = np.ascontiguousarray(np.transpose(coef), dtype=X.dtype)
            b = np.atleast_1d(np.asarray(intercept, dtype=X.dtype))
        if not (all_finite(W) and all_finite(b)):
            raise ValueError(
                f"the model's coefficients do not fit in X's dtype {X.dtype}: pass X as float64"
            )
        return kernels.predict(X, W, b, n_threads=self.n_threads)

    def partial_fit(self, X, y):
        """One epoch on (X, y), continuing from the current weights (zeros if unfitted).

        For data that arrive in chunks or streams: each call is one epoch over the rows
        given, with the model's settings (lr, batch_size, shuffle, momentum, ...);
        `epochs`, `tol` and `warm_start` do not apply. loss_curve_ gets one more entry;
        the step state carries over from call to call (t_ counts every update, and the
        velocity continues, as one torch.optim.SGD would).

        Returns
        -------
        self

        Raises
        ------
        DivergenceError
            As in `fit`, which leaves the model as it was before the call.
        """
        return self._transaction(self._partial_fit, X, y, reset_feature_names=False)

    def _partial_fit(self, X, y):
        X, Y = self._check_data(X, y)
        options = self._check_options()
        fitted = hasattr(self, "coef_")
        W, b = self._initial_params(X, Y, continue_from_fitted=fitted)
        Y2 = Y.reshape(X.shape[0], -1)
        scaling = None
        if options.precondition:
            # Running statistics over the chunks seen: the first chunk's, merged with
            # every later one's (Chan et al.), so each step is safe for the data at hand.
            scaling = self._stream_scaling(X, options.n_threads, fitted, options.fit_intercept,
                                           options.ridge(Y2.shape[1]))
        step = self._chunk_step(X, Y2, options, scaling)
        full = self._settings(options, X.shape[0], step)
        settings = Settings(full.step, n_threads=full.n_threads, shuffle=full.shuffle)
        # One epoch: the Gram statistics would cost more than the epoch itself.
        solver = self._solver(X, Y2, settings, method="fused")
        model = new_model(W, b, settings.step)
        if scaling is not None:
            _auto.fill_scaling(model, settings.step, scaling)
        previous = self.loss_curve_ if fitted else np.empty(0)
        state = self._new_state()
        if fitted:
            self._carry_step_state(model, state, settings.step)
        losses = run_epochs(solver, model, state, 1, settings.step.lr)
        self._publish(model, state, W.ndim, previous, losses, 1, solver, streaming=True)
        return self

    def _stream_scaling(self, X, n_threads, fitted, fit_intercept, ridge):
        """The preconditioner for a partial_fit chunk: running moments of every chunk."""
        chunk = _auto.scaling_from_data(X, n_threads)  # centred: the moments to merge
        n = X.shape[0]
        var = np.zeros_like(chunk.inv_var)
        np.divide(1.0, chunk.inv_var, out=var, where=chunk.inv_var != 1.0)
        moments = (n, chunk.centre, var * n)
        previous = self.__dict__.get("_stream_moments_") if fitted else None
        if previous is not None and previous[1].shape == chunk.centre.shape:
            n_a, mean_a, m2_a = previous
            delta = chunk.centre - mean_a
            total = n_a + n
            moments = (total, mean_a + delta * (n / total),
                       m2_a + var * n + delta**2 * (n_a * n / total))
        with _FITTED_LOCK:
            self.__dict__["_stream_moments_"] = moments
        total, mean, m2 = moments
        return _auto.scaling_for(mean, m2 / total, fit_intercept, ridge)

    def _chunk_step(self, X, Y, options, scaling):
        """The step rule of one partial_fit epoch."""
        if options.auto:
            return options.with_user_momentum(_auto.gd_chunk_rule(
                X, scaling, Y.shape[1], options.n_threads, l2=options.l2,
                fit_intercept=options.fit_intercept))
        return options.rule()

    def score(self, X, y):
        """Coefficient of determination R^2 of predict(X) against y.

        R^2 = 1 - sum((y - y_pred)**2) / sum((y - mean(y))**2), averaged over outputs
        with equal weights (scikit-learn's r2_score default). A constant y gives 1.0
        for a perfect prediction and 0.0 otherwise.
        """
        y_pred = self.predict(X)
        y = as_targets(y, y_pred.shape[0], np.float64, name="y")
        if not all_finite(y):
            raise ValueError("y contains NaN or infinity")
        if y.shape != y_pred.shape:
            raise ValueError(f"y has shape {y.shape}, but the predictions have shape {y_pred.shape}")
        y2 = y.reshape(len(y), -1)
        residual = ((y2 - y_pred.reshape(y2.shape)) ** 2).sum(axis=0)
        total = ((y2 - y2.mean(axis=0)) ** 2).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(total > 0, 1.0 - residual / np.where(total > 0, total, 1.0),
                          np.where(residual == 0, 1.0, 0.0))
        return float(r2.mean())

    def save(self, path):
        """Write this model to `path` in a portable file whose loading runs no code.

        `linreg.load(path)` reads it back; `linreg._model_file` defines the format.
        A callback, or a Generator as random_state, cannot be saved: they load as None,
        with a warning at save time.

        Parameters
        ----------
        path : str, bytes or os.PathLike, or a binary file object with write()
            A file name is written atomically (a new file in the same directory,
            flushed to disk, then renamed over `path`): a failed save leaves a file
            already at `path` as it was.
        """
        _model_file.write(path, self._model_file_members())

    def __sklearn_tags__(self):
        # Only scikit-learn calls this, so it may import scikit-learn.
        from sklearn.utils import InputTags, RegressorTags, Tags, TargetTags

        return Tags(
            estimator_type="regressor",
            target_tags=TargetTags(required=True, multi_output=True, single_output=True),
            regressor_tags=RegressorTags(),
            input_tags=InputTags(two_d_array=True),
        )

    _estimator_type = "regressor"  # how scikit-learn before 1.6 recognized regressors

    # -- internals ---------------------------------------------------------------------

    def _check_data(self, X, y):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )
        X = as_data_matrix(X)
        Y = as_targets(y, X.shape[0], X.dtype, name="y")
        if not all_finite(X):
            raise ValueError("X contains NaN or infinity")
        if not all_finite(Y):
            raise ValueError("y contains NaN or infinity")
        return X, Y

    def _feature_names_for(self, X, reset):
        """The feature names a fit on X publishes (reset: X's, None without names);
        otherwise X's names checked against feature_names_in_, which stay."""
        if reset:
            return feature_names(X)
        fitted_names = getattr(self, "feature_names_in_", None)
        check_feature_names(fitted_names, X, type(self).__name__)
        return fitted_names

    def _check_options(self):
        """Check the constructor's parameters (scikit-learn style: at fit, not in __init__)."""
        if not isinstance(self.warm_start, (bool, np.bool_)):
            raise TypeError(f"warm_start must be True or False, got {self.warm_start!r}")
        if self.callback is not None and not callable(self.callback):
            raise TypeError("callback must be callable(epoch, loss, model) or None")
        patience = check_int(self.n_iter_no_change, "n_iter_no_change", 1)
        if self.tol is None:
            stop = StopRule.off()
        else:
            early_stop = kernels.new_early_stop(self.tol, self.n_iter_no_change)
            stop = StopRule(float(early_stop["tol"][0]), int(early_stop["n_iter_no_change"][0]))
        if isinstance(self.lr, str):
            if self.lr != "auto":
                raise TypeError(f"lr must be a real number or 'auto', got str {self.lr!r}")
            lr = "auto"
        else:
            lr = check_lr(self.lr)
        if isinstance(self.precondition, str):
            if self.precondition != "auto":
                raise ValueError("precondition must be 'auto', True or False, got "
                                 f"{self.precondition!r}")
            precondition = lr == "auto"
        elif isinstance(self.precondition, (bool, np.bool_)):
            precondition = bool(self.precondition)
            if lr == "auto" and not precondition:
                raise ValueError("lr='auto' steps in centred, scaled coordinates: it needs "
                                 "precondition='auto' or True")
        else:
            raise TypeError("precondition must be 'auto', True or False, got "
                            f"{type(self.precondition).__name__}")
        momentum = _check_real(self.momentum, "momentum", 0.0, 1.0, "in [0, 1)",
                               high_open=True)
        dampening = _check_real(self.dampening, "dampening", 0.0, 1.0, "in [0, 1]")
        for name in ("nesterov", "fit_intercept"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if self.nesterov and (momentum == 0 or dampening != 0):
            raise ValueError(
                "nesterov=True needs momentum > 0 and dampening=0 (torch.optim.SGD's rule), "
                f"got momentum={momentum}, dampening={dampening}"
            )
        if self.penalty is not None and not isinstance(self.penalty, str):
            raise TypeError(f"penalty must be None or 'l2', got {type(self.penalty).__name__}")
        if self.penalty not in (None, "l2"):
            raise ValueError(f"penalty must be None or 'l2', got {self.penalty!r}")
        alpha = _check_real(self.alpha, "alpha", 0.0, math.inf, "a finite number >= 0")
        return _FitOptions(
            lr=lr,
            precondition=precondition,
            epochs=self._check_epochs(lr),
            log_every=check_int(self.log_every, "log_every", 0),
            n_threads=kernels.resolve_n_threads(self.n_threads),
            stop=stop,
            user_stop=self.tol is not None,
            patience=patience,
            callback=self.callback,
            warm=bool(self.warm_start) and hasattr(self, "coef_"),
            momentum=momentum,
            dampening=dampening,
            nesterov=bool(self.nesterov),
            l2=alpha if self.penalty == "l2" else 0.0,
            fit_intercept=bool(self.fit_intercept),
        )

    def _check_epochs(self, lr):
        return check_int(self.epochs, "epochs", 1, MAX_EPOCHS)

    @staticmethod
    def _coef_shape(X, Y):
        return (X.shape[1],) if Y.ndim == 1 else (Y.shape[1], X.shape[1])

    def _initial_params(self, X, Y, continue_from_fitted, coef_init=None, intercept_init=None):
        """W (d,) or (d, k) and b (k,), C-contiguous in X's dtype: coef_init and
        intercept_init when given, else zeros, or copies of the fitted ones."""
        coef_shape = self._coef_shape(X, Y)
        W_shape = coef_shape[::-1]
        W = b = None
        if coef_init is not None:
            coef = _init_array(coef_init, "coef_init", (coef_shape,), X.dtype)
            W = np.ascontiguousarray(np.transpose(coef))
        if intercept_init is not None:
            b_shapes = ((), W_shape[1:] or (1,))
            b = _init_array(intercept_init, "intercept_init", b_shapes, X.dtype).reshape(-1)
        if continue_from_fitted and (W is None or b is None):
            if X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                    f"{self.n_features_in_} features as input"
                )
            if np.shape(self.coef_) != coef_shape:
                raise ValueError(
                    f"y of shape {Y.shape} does not fit the fitted coef_ of shape "
                    f"{np.shape(self.coef_)}: continuing training needs the same outputs"
                )
            # A copy (training writes into it) that refuses values beyond X's dtype.
            if W is None:
                W = cast_to_dtype(np.transpose(self.coef_), X.dtype, "coef_")
            if b is None:
                b = cast_to_dtype(np.atleast_1d(self.intercept_), X.dtype, "intercept_")
        if W is None:
            W = np.zeros(W_shape, dtype=X.dtype)
        if b is None:
            b = np.zeros(W_shape[1:] or (1,), dtype=X.dtype)
        return W, b

    def _publish(self, model, state, w_ndim, previous_losses, losses, n_iter, solver,
                 streaming=False):
        """Set the fitted attributes from `model` (see linreg.solvers.new_model), all at
        once: a predict in another thread sees the old fit or the new, never a mix. With
        averaging, the model is the average of the iterates."""
        d = model.shape[1] - 1
        rule = solver.settings.step
        slot = rule.slots["average"] if rule.average_start >= 0 and state["averaged"][0] else 0
        W = model[slot, :d]  # (d, k), C-contiguous: coef_ is its transpose, a view
        fitted = {
            "coef_": np.transpose(W) if w_ndim == 2 else W[:, 0],
            "intercept_": model[slot, d].copy() if w_ndim == 2 else float(model[slot, d, 0]),
            "loss_curve_": (np.concatenate([previous_losses, losses]) if len(previous_losses)
                            else losses.copy()),
            "n_iter_": n_iter,
            "n_features_in_": d,
            "t_": int(state["t"][0]),
            "_training_state_": state.copy(),
            "_velocity_": model[rule.slots["velocity"]].copy() if rule.momentum else None,
        }
        fitted.update(self._fitted_extras(solver))
        with _FITTED_LOCK:
            if not streaming:  # a fit starts the running statistics of partial_fit afresh
                self.__dict__.pop("_stream_moments_", None)
                self.__dict__.pop("_stream_largest_norm_", None)
            self.__dict__.update(fitted)
            names = _FITTING.get(id(self))  # this fit's, from _transaction
            if names is None:
                self.__dict__.pop("feature_names_in_", None)
            else:
                self.__dict__["feature_names_in_"] = names

    def _fitted_extras(self, solver):
        return {}

    def _check_fitted(self):
        if not hasattr(self, "coef_"):
            raise not_fitted_error(
                f"This {type(self).__name__} instance is not fitted yet. "
                "Call 'fit' with appropriate arguments before using this estimator."
            )

    def __repr__(self):
        params = self.get_params()
        defaults = type(self)().get_params()
        shown = [f"{k}={v!r}" for k, v in params.items() if v is not defaults[k] and v != defaults[k]]
        return f"{type(self).__name__}({', '.join(shown)})"

    def get_params(self, deep=True):
        """The constructor's parameters, as scikit-learn's get_params."""
        return {name: getattr(self, name) for name in self._param_names}

    def set_params(self, **params):
        """Set constructor parameters, as scikit-learn's set_params; returns self."""
        for name, value in params.items():
            if name not in self._param_names:
                raise ValueError(
                    f"Invalid parameter {name!r} for {type(self).__name__}; "
                    f"valid parameters are: {', '.join(self._param_names)}"
                )
            setattr(self, name, value)
        return self

    def _model_file_members(self):
        """This model as the members of a model file, {name: array}: the format's marker
        and version, this class's name, the parameters as JSON and, when fitted, the
        fitted attributes (`linreg._model_file` defines them; save and linreg.save write
        them)."""
        fitted = None
        if hasattr(self, "coef_"):
            fitted = {name: getattr(self, name) for name in _model_file.FITTED}
            fitted.update({name: getattr(self, name) for name in _model_file.OPTIONAL_FITTED
                           if hasattr(self, name)})
        return _model_file.members(type(self).__name__, self.get_params(), fitted)


class GDRegressor(_GradientDescentRegressor):
    """Linear regression y = XW + b trained by full-batch gradient descent on the MSE.

    Every epoch computes the loss over all samples, L = mean((XW + b - y)**2) (the
    epoch's logged loss, taken before the update), then updates W and b along its
    gradient. With a numeric lr the update is W -= lr * dL/dW, b -= lr * dL/db: exactly
    the seed tutorial's PyTorch loop with optim.SGD. With lr="auto" (the default) it
    works on raw data without tuning (see `lr` and `precondition`).

    Parameters
    ----------
    lr : float or "auto", default "auto"
        Learning rate. "auto" steps on centred, scaled features (see `precondition`)
        with the step 1 / lambda_max of that Hessian, so GD cannot diverge, and Nesterov
        momentum tuned to its condition number when the Gram statistics give it; the fit
        stops once its loss is within 1e-6 of the least-squares loss (1e-4 for float32
        data; without the Gram statistics: when the loss stops improving by 1e-8 of
        itself) and warns with `linreg.ConvergenceWarning` if `epochs` ends first.
        A number trains exactly the user's loop, and nothing stops early unless `tol`
        asks for it.
    epochs : int, default 1000
        Number of epochs (full passes, one update each): with lr="auto", the most.
    method : {"auto", "fused", "gram"}, default "auto"
        How an epoch's loss and gradient are computed. "fused" reads X once per epoch
        (O(n d k)). "gram" first computes the centred statistics X^T X, X^T y, the
        means (O(n d^2), once), after which an epoch costs O(d^2 k) whatever n: many
        epochs then cost about one pass over the data. The two give the same trajectory
        up to rounding; "gram"'s loss is never negative and accurate relative to itself.
        "auto" (see `choose_method`) takes "gram" when it is cheaper.
    precondition : {"auto", True, False}, default "auto"
        Train on centred features scaled to unit variance, without copying X: the
        gradient is mapped through that change of variables (O(d) per step), and coef_,
        intercept_, predict and save stay in X's units. "auto": with lr="auto" only.
        With penalty="l2" the scale is 1 / (variance + n_outputs * alpha / 2), the
        penalized curvature; with fit_intercept=False the features are not centred and
        the second moment mean(x^2) replaces the variance.
    n_threads : int or None, default None
        Threads for the passes over X (None: OpenMP's default, all cores). Results do
        not depend on it.
    log_every : int, default 0
        Print a line in the seed's format every log_every epochs; 0 is silent.
    tol : float or None, default None
        With a number, stop after `n_iter_no_change` epochs in a row whose loss is not
        below best_loss - tol. None: with a numeric lr, all epochs; with lr="auto", its
        own rule.
    n_iter_no_change : int, default 5
    warm_start : bool, default False
        Continue from the fitted coefficients instead of zeros, with the step state:
        t_ goes on counting and the velocity continues (momentum), so fit(epochs=a)
        then a warm fit(epochs=b) trains as one fit of a + b epochs would.
    callback : callable(epoch, loss, model) -> bool, optional
        Called after every epoch (1-based epoch, that epoch's loss, this model with a
        snapshot of its coef_, intercept_, loss_curve_ and t_); returning True stops
        training. Parameters cannot change during fit: a callback that changes one (lr,
        momentum, ... anything get_params returns) makes fit raise RuntimeError, the
        change undone.
    momentum : float, default 0.0
        torch.optim.SGD's momentum, in [0, 1): a velocity v = g on the first update,
        then v = momentum * v + (1 - dampening) * g, and the step W -= lr * v (b
        likewise). With lr="auto", 0 lets "auto" choose (Nesterov momentum tuned to the
        condition number when the Gram statistics give it); a positive momentum, with
        its dampening and nesterov, replaces that choice.
    dampening : float, default 0.0
        torch.optim.SGD's dampening, in [0, 1].
    nesterov : bool, default False
        Step along g + momentum * v instead of v (torch's); needs momentum > 0 and
        dampening=0.
    penalty : {None, "l2"}, default None
        None, or "l2": the objective becomes MSE + alpha * ||w||^2 / 2 (scikit-learn's
        L2 term; its alpha is half of this alpha, as its eta0 is 2 * lr), on the
        coefficients only, never the intercept. The gradient gets + alpha * W before
        the momentum: exactly torch.optim.SGD's weight_decay=alpha on W alone.
        Only these two are accepted for now. With "l2", GD's stopping rules (tol, and
        lr="auto"'s target, the least objective) judge that objective; loss_curve_
        still records the MSE.
    alpha : float, default 0.0001
        The penalty's strength, finite and >= 0; unused with penalty=None.
    fit_intercept : bool, default True
        False: the intercept is never updated; it stays at intercept_init (0 unless
        given to fit). Preconditioning then only scales the features, by their
        uncentred second moments, and does not centre them (b cannot absorb the means).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_outputs, n_features)
    intercept_ : float or ndarray of shape (n_outputs,)
    loss_curve_ : ndarray of shape (n_epochs_total,)
        The loss of every epoch since the weights were last zeroed (warm starts append).
    n_iter_ : int
        Epochs run by the last fit.
    t_ : int
        Updates made since the weights were last zeroed (warm starts and partial_fit
        go on counting), as scikit-learn's t_ (which is this plus one). Like the
        velocity it carries, it is not saved in model files: a loaded model continues
        with t_ and the velocity afresh.
    n_features_in_ : int
    feature_names_in_ : ndarray of str (object dtype), shape (n_features,)
        The column names of a data frame given to fit, when they are all strings;
        absent otherwise.
    method_ : str
        "fused" or "gram": what the last fit used.

    If training diverges, fit raises `linreg.DivergenceError` (with the epoch, the lr and
    the losses up to it) and, like any failed fit, leaves the model as it was before the
    call: unfitted if it was unfitted.

    Examples
    --------
    >>> import numpy as np
    >>> import linreg
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 3)) * [1.0, 100.0, 0.01] + [0.0, 1000.0, 5.0]
    >>> y = X @ [2.0, 0.03, -400.0] + 1.0
    >>> model = linreg.GDRegressor().fit(X, y)          # raw, unscaled data
    >>> bool(np.allclose(model.coef_, [2.0, 0.03, -400.0]))
    True
    >>> x = np.array([[1.0], [2.0], [3.0]], dtype=np.float32)
    >>> seed = linreg.GDRegressor(lr=0.01, epochs=1000).fit(x, [3.0, 6.0, 9.0])
    >>> round(float(seed.predict(np.array([[10.0]], dtype=np.float32))[0]), 4)
    29.6614
    """

    _param_names = ("lr", "epochs", "method", "precondition", "n_threads", "log_every",
                    "tol", "n_iter_no_change", "warm_start", "callback", "momentum",
                    "dampening", "nesterov", "penalty", "alpha", "fit_intercept")

    def __init__(self, lr="auto", epochs=1000, method="auto", precondition="auto",
                 n_threads=None, log_every=0, tol=None, n_iter_no_change=5, warm_start=False,
                 callback=None, momentum=0.0, dampening=0.0, nesterov=False, penalty=None,
                 alpha=0.0001, fit_intercept=True):
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.penalty = penalty
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.lr = lr
        self.precondition = precondition
        self.epochs = epochs
        self.method = method
        self.n_threads = n_threads
        self.log_every = log_every
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.callback = callback

    def _plan(self, X, Y, options, intercept, t_start):
        """The solver of this fit; `intercept` (k,) is where b starts (and stays without
        an intercept), `t_start` the updates already made (warm start)."""
        method = choose_method(self.method, *X.shape, Y.shape[1], options.epochs)
        stats = scaling = None
        if method == "gram":
            stats = gram_statistics_of(X, Y, Y.shape[1] == 1, options.n_threads)
            if options.precondition:
                scaling = _auto.scaling_from_stats(stats, options.fit_intercept,
                                                   options.ridge(Y.shape[1]))
        elif options.precondition:
            scaling = _auto.scaling_from_data(X, options.n_threads, options.fit_intercept,
                                              options.ridge(Y.shape[1]))
        if options.auto:
            step, stop = _auto.gd_rules(stats, scaling, Y.shape[1], options.epochs,
                                        options.patience, X, Y, options.n_threads, X.dtype,
                                        l2=options.l2, fit_intercept=options.fit_intercept,
                                        intercept=intercept.astype(np.float64))
            step = options.with_user_momentum(step)
            if options.user_stop:  # the user's rule, and the target
                stop = StopRule(options.stop.tol, options.stop.patience, target=stop.target)
        else:
            step, stop = options.rule(), options.stop
        settings = self._settings(options._replace(stop=stop), X.shape[0], step)
        solver = GramGD(X, Y, settings, stats) if method == "gram" else FusedGD(X, Y, settings)
        return _Plan(solver, scaling)

    def _solver(self, X, Y, settings, method):
        return FusedGD(X, Y, settings)

    def _fitted_extras(self, solver):
        return {"method_": "gram" if isinstance(solver, GramGD) else "fused"}


class SGDRegressor(_GradientDescentRegressor):
    """Linear regression y = XW + b trained by stochastic gradient descent on the MSE.

    Each epoch visits the samples in order (a new random order per epoch when shuffle
    is on) in batches of `batch_size`, and makes one update per batch with the gradient
    of that batch's mean squared error. The default batch_size=1 is per-sample SGD. An
    epoch's loss is the mean of the squared errors seen during it, each computed just
    before the update it drives.

    With a numeric lr, shuffle=False and batch_size=1 the trajectory is scikit-learn's
    SGDRegressor(penalty=None, learning_rate="constant", eta0=2*lr, tol=None,
    shuffle=False), whose loss is half the squared error.

    Parameters
    ----------
    lr : float or "auto", default "auto"
        Learning rate. "auto" steps on centred, scaled features (see `precondition`)
        with the largest step that is stable for every sample (or batch), 1 / max_i
        |z_i|^2 as scikit-learn's SAG takes, and averages the iterates after the first
        epoch (coef_ and intercept_ are then the averages), which converges where a
        constant step alone stalls at a noise floor. It stops when the averaged model's
        loss (one more pass over the rows an epoch) has not improved by 1e-5 of itself
        for `n_iter_no_change` epochs, and warns with `linreg.ConvergenceWarning` if
        `epochs` ends first. In `partial_fit` it keeps running statistics of the chunks
        seen, so every step is stable for the rows seen so far. A number trains with
        exactly that constant step.
    epochs : int or "auto", default "auto"
        The most epochs: "auto" is 1000 with lr="auto" (which stops when converged; on
        small data an epoch is few updates) and 100 with a numeric lr.
    batch_size : int, default 1
        Samples per update, from 1 to n_samples; a partial_fit chunk smaller than it is
        one shorter batch.
    shuffle : bool, default True
        Visit the samples in a new random order every epoch.
    random_state : int, numpy.random.Generator, numpy.random.RandomState or None
        Seeds the shuffling; the same int gives bit-identical fits. None: fresh entropy.
    precondition : {"auto", True, False}, default "auto"
        As in `GDRegressor`.
    n_threads : int or None, default None
        Threads for the passes over X outside the updates (statistics, predict, score):
        SGD's updates are sequential by nature.
    log_every, tol, n_iter_no_change, warm_start, callback :
        As in `GDRegressor`.
    momentum, dampening, nesterov : float, float, bool, default 0.0, 0.0, False
        As in `GDRegressor`: torch.optim.SGD's rule, one velocity update per batch (per
        sample with batch_size=1, as torch with batches of one). With lr="auto", a
        positive momentum is used beside the averaging.
    penalty : {None, "l2"}, default None
        As in `GDRegressor`. Per sample without momentum it is applied as scikit-learn
        does, W *= max(0, 1 - lr * alpha) before each sample's update (torch's weight
        decay while lr * alpha <= 1); with momentum or batches, as torch's weight_decay.
        The stopping rule (tol) judges the epoch's loss, as scikit-learn's.
    alpha : float, default 0.0001
        As in `GDRegressor`.
    fit_intercept : bool, default True
        As in `GDRegressor`.

    Attributes
    ----------
    coef_, intercept_, loss_curve_, n_iter_, t_, n_features_in_, feature_names_in_ :
        As in `GDRegressor`; t_ counts updates (one per batch).

    Examples
    --------
    >>> import numpy as np
    >>> import linreg
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 3)) * [1.0, 100.0, 0.01] + [0.0, 1000.0, 5.0]
    >>> y = X @ [2.0, 0.03, -400.0] + 1.0 + 0.1 * rng.normal(size=2000)
    >>> model = linreg.SGDRegressor(random_state=0).fit(X, y)
    >>> bool(model.score(X, y) > 0.99)
    True
    """

    _param_names = ("lr", "epochs", "batch_size", "shuffle", "random_state", "precondition",
                    "n_threads", "log_every", "tol", "n_iter_no_change", "warm_start",
                    "callback", "momentum", "dampening", "nesterov", "penalty", "alpha",
                    "fit_intercept")

    def __init__(self, lr="auto", epochs="auto", batch_size=1, shuffle=True, random_state=None,
                 precondition="auto", n_threads=None, log_every=0, tol=None,
                 n_iter_no_change=5, warm_start=False, callback=None, momentum=0.0,
                 dampening=0.0, nesterov=False, penalty=None, alpha=0.0001,
                 fit_intercept=True):
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.penalty = penalty
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.lr = lr
        self.precondition = precondition
        self.epochs = epochs
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.random_state = random_state
        self.n_threads = n_threads
        self.log_every = log_every
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.callback = callback

    def _check_epochs(self, lr):
        if isinstance(self.epochs, str):
            if self.epochs != "auto":
                raise TypeError(f"epochs must be an integer or 'auto', got str {self.epochs!r}")
            return 1000 if lr == "auto" else 100
        return check_int(self.epochs, "epochs", 1, MAX_EPOCHS)

    def _batch_size(self, n_samples, clip):
        """batch_size, checked; `clip` (partial_fit) lets a chunk be smaller than it."""
        batch_size = check_int(self.batch_size, "batch_size", 1, None if clip else n_samples)
        return min(batch_size, n_samples)

    def _settings(self, options, n_samples, step):
        if not isinstance(self.shuffle, (bool, np.bool_)):
            raise TypeError(f"shuffle must be True or False, got {self.shuffle!r}")
        return Settings(step, options.stop, shuffle=bool(self.shuffle),
                        n_threads=options.n_threads, snapshot_every=options.log_every)

    def _new_state(self):
        # Drawn once per fit, so a Generator as random_state advances once per fit.
        return new_training_state(_splitmix_seed(self.random_state)[0] if self.shuffle else 0)

    def _plan(self, X, Y, options, intercept, t_start):
        batch_size = self._batch_size(X.shape[0], clip=False)
        scaling = (_auto.scaling_from_data(X, options.n_threads, options.fit_intercept,
                                           options.ridge(Y.shape[1]))
                   if options.precondition else None)
        if options.auto:
            step, stop = _auto.sgd_rules(scaling, X, Y, batch_size, options.patience,
                                         options.n_threads, l2=options.l2,
                                         fit_intercept=options.fit_intercept)
            step = options.with_user_momentum(step)
            if step.average_start >= 0 and t_start:
                # Averaging starts after this fit's first epoch, wherever t_ stands.
                step = dataclasses.replace(step, average_start=step.average_start + t_start)
            if options.user_stop:
                stop = options.stop
        else:
            step = options.rule(batch_size=batch_size)
            stop = options.stop
        settings = self._settings(options._replace(stop=stop), X.shape[0], step)
        return _Plan(SGD(X, Y, settings), scaling)

    def _chunk_step(self, X, Y, options, scaling):
        batch_size = self._batch_size(X.shape[0], clip=True)
        if options.auto:
            # The largest row seen so far in the stream bounds every step, so no chunk can
            # make a step unstable for the rows it holds.
            largest, mean = _auto.row_norms(X, scaling, options.n_threads)
            largest = max(largest, self.__dict__.get("_stream_largest_norm_") or 0.0)
            with _FITTED_LOCK:
                self.__dict__["_stream_largest_norm_"] = largest
            step, _ = _auto.sgd_rules_for_norm(largest, mean, X.shape[0], Y.shape[1],
                                               batch_size, options.patience, average=False,
                                               l2=options.l2,
                                               fit_intercept=options.fit_intercept,
                                               scaling=scaling)
            return options.with_user_momentum(step)
        return options.rule(batch_size=batch_size)

    def _solver(self, X, Y, settings, method):
        return SGD(X, Y, settings)


#: "auto" picks "gram" only up to this many features (the statistics are d*d doubles).
GRAM_MAX_FEATURES = 4096


def choose_method(method, n_samples, n_features, n_outputs, epochs):
    """What GDRegressor(method=...) uses for this problem: "fused" or "gram".

    "auto" counts multiply-adds: the fused path costs epochs * 2 n d k (forward and
    gradient), the gram path n (d (d+1)/2 + d k + d + k) once for the statistics plus
    epochs * (d^2 k + 2 d k); it takes "gram" when that is smaller and d is at most
    GRAM_MAX_FEATURES. For n much larger than d this means: gram once epochs * k
    exceeds about d / 4.
    """
    if method not in ("auto", "fused", "gram"):
        raise ValueError(f"method must be one of 'auto', 'fused', 'gram', got {method!r}")
    if method != "auto":
        return method
    n, d, k = n_samples, n_features, n_outputs
    fused = epochs * 2 * n * d * k
    gram = n * (d * (d + 1) // 2 + d * k + d + k) + epochs * (d * d * k + 2 * d * k)
    return "gram" if d <= GRAM_MAX_FEATURES and gram < fused else "fused"


def _splitmix_seed(random_state):
    """A uint64 state (shape (1,)) for the kernels' shuffling generator."""
    if isinstance(random_state, np.random.Generator):
        return random_state.integers(0, 2**64, size=1, dtype=np.uint64)
    if isinstance(random_state, np.random.RandomState):
        return random_state.randint(0, 2**64, size=1, dtype=np.uint64)
    if random_state is None or (
        isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool)
    ):
        if random_state is not None and random_state < 0:
            raise ValueError(f"random_state must be a non-negative int, got {random_state}")
        return np.random.SeedSequence(random_state).generate_state(1, dtype=np.uint64)
    raise TypeError(
        "random_state must be None, an int, a numpy.random.Generator or a "
        f"numpy.random.RandomState, got {type(random_state).__name__}"
    )


def _same_value(a, b):
    """Whether a parameter still has the value `b` (identity, or equal and same type)."""
    if a is b:
        return True
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # arrays and other objects without a truth value for ==
        return False


def _check_real(value, name, low, high, expected, high_open=False):
    """A real number in [low, high] (or [low, high) with high_open), as float."""
    if type(value) is not float and (
        isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real)
    ):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    number = float(value)
    if not (math.isfinite(number) and low <= number <= high) or (high_open and number == high):
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return number


def _init_array(value, name, shapes, dtype):
    """coef_init or intercept_init: real numbers of one of `shapes`, finite, cast to
    `dtype` (a copy; values beyond its range are refused)."""
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    if array.shape not in shapes:
        wanted = " or ".join(str(shape) for shape in shapes)
        raise ValueError(f"{name} has shape {array.shape}, but this X and y need {wanted}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return cast_to_dtype(array, dtype, name)
