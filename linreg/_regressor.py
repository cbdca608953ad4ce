"""The base class of GDRegressor and SGDRegressor: what both estimators share.

fit, partial_fit, predict, score and save; the transaction that leaves a model as it was
when a fit fails; the publishing of fitted attributes (all at once, under one lock); the
feature names of data frames (get_params / set_params / repr come from
`linreg._params`). A fit's epochs, shared with data in blocks, are `linreg._train`'s.
The subclasses in `linreg.estimators` supply the plan of a fit (`_plan`, from a
`linreg._sources` source; `_chunk_step`, `_solver`); the parameters are checked by
`linreg._options`.
"""
import functools

import numpy as np

from linreg import _auto, _blocked_fit, _model_file, kernels
from linreg._early_stopping import hold_out
from linreg._options import (
    FITTED_LOCK,
    FITTING,
    MAX_EPOCHS,
    check_options,
    init_array,
    same_value,
)
from linreg._params import EstimatorParams
from linreg._sources import ArraySource
from linreg._structs import Settings, StopRule, new_training_state, reported_slot
from linreg._validation import (
    all_finite,
    as_data_matrix,
    as_targets,
    cast_to_dtype,
    check_feature_names,
    check_int,
    check_sample_weight,
    feature_names,
)
from linreg.exceptions import not_fitted_error
from linreg.solvers import new_model
from linreg._train import train
from linreg.training import run_epochs

__all__ = ["GradientDescentRegressor", "reported_slot", "VALIDATION_ATTRIBUTES"]

#: The fitted attributes of early_stopping, published only by a fit that used it.
VALIDATION_ATTRIBUTES = ("validation_scores_", "best_validation_score_")


class GradientDescentRegressor(EstimatorParams):
    """What GDRegressor and SGDRegressor share: checking, state, the training loop."""

    def fit(self, X, y=None, coef_init=None, intercept_init=None, sample_weight=None):
        """Train on (X, y) from zero weights (or from the current ones with warm_start).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            float32 data trains in float32 without a copy (when C-contiguous); other
            real data trains in float64. A data frame (pandas, polars, anything with
            `columns`) whose column names are all str sets feature_names_in_.
            A Dask array or data frame trains where its blocks live (see the README's
            "Dask" section); a re-iterable of (X, y) or (X, y, sample_weight) tuples
            (y None) trains chunk by chunk, reading one chunk at a time.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        coef_init : array-like of shape (n_features,) or (n_outputs, n_features), optional
            The coefficients to start from, shaped like coef_ (as scikit-learn's).
        intercept_init : float or array-like of shape (n_outputs,), optional
            The intercept to start from; with fit_intercept=False it stays there.
            Giving either starts a new trajectory even with warm_start: the other starts
            from zero (or, with warm_start, from the fitted value), and loss_curve_ and
            the step state (t_, the velocity) start afresh.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights, not all zero (None: all 1). The loss is the weighted
            MSE, sum_i w_i |r_i|^2 / (sum_i w_i k), so GD with integer weights trains
            as GD on rows repeated that many times. SGD scales each sample's update by
            its weight, as scikit-learn's SGDRegressor (a mini-batch's gradient is its
            weighted sum over its row count). Positional order as scikit-learn's.

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
        train = functools.partial(self._fit, coef_init=coef_init, intercept_init=intercept_init,
                                  sample_weight=sample_weight)
        if _blocked_fit.is_blocked(X, y, sample_weight) or _blocked_fit.is_chunk_iterable(X, y):
            # Dask collections, chunks: see linreg._blocked_fit (and the README's "Dask").
            train = functools.partial(_blocked_fit.fit, self, coef_init=coef_init,
                                      intercept_init=intercept_init, sample_weight=sample_weight)
        return self._transaction(train, X, y, reset_feature_names=True)

    def _fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        X, Y = self._check_data(X, y)
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        options = self._check_options()
        Y2 = Y.reshape(X.shape[0], -1)
        monitor = rows = None
        if options.early_stopping:  # train on the other rows, score on the held-out ones
            monitor, sample_weight, rows = hold_out(X, Y2, sample_weight, options,
                                                    self.random_state)
        # The plan and the epochs are those of data in blocks too (linreg._train).
        return train(self, ArraySource(X, Y2, sample_weight, rows, Y_given=Y), options,
                     coef_init, intercept_init, monitor)

    def _refuse_changed_params(self, params_at_start, epoch):
        """Raise RuntimeError if the callback changed a parameter: the fit runs with the
        settings it started with, so a change would be silently ignored. The change is
        undone (the failed fit leaves the model as it was before it)."""
        now = self.get_params()
        changed = [name for name in self._param_names
                   if not same_value(now[name], params_at_start[name])]
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

    def _carry_step_state(self, model, state, rule, carry_average=False):
        """Continue the fitted model's step state (scikit-learn's t_): its update count
        and, when this fit has momentum and the last one kept a velocity of this shape,
        that velocity (as one torch.optim.SGD would across calls); likewise the average
        of the iterates."""
        previous = self.__dict__.get("_training_state_")
        if previous is None:
            return
        state["t"] = previous["t"]
        velocity = self.__dict__.get("_velocity_")
        if (rule.momentum and velocity is not None and velocity.shape == model.shape[1:]
                and previous["velocity_steps"][0] > 0):
            model[rule.slots["velocity"]] = cast_to_dtype(velocity, model.dtype, "the velocity")
            state["velocity_steps"] = previous["velocity_steps"]
        # partial_fit: the average of the iterates goes on too (scikit-learn's, across
        # calls): it is the published coef_ and intercept_; a warm fit averages afresh,
        # after its own first update.
        d = model.shape[1] - 1
        if (carry_average and rule.average_start >= 0 and previous["averaged"][0] > 0
                and self._published_iterate(d, model.shape[2]) is not None):
            average = model[rule.slots["average"]]
            average[:d] = cast_to_dtype(np.transpose(self.coef_).reshape(d, -1), model.dtype,
                                        "coef_")
            average[d] = cast_to_dtype(np.atleast_1d(self.intercept_), model.dtype,
                                       "intercept_")
            state["averaged"] = previous["averaged"]

    def _published_iterate(self, d, k):
        """The last iterate (d + 1, k) of a fit whose coef_ and intercept_ are averages,
        if they are still the ones it published (None if not, or without averaging)."""
        published_coef, published_intercept, iterate = (
            self.__dict__.get("_iterate_") or (None, None, None))
        if (iterate is None or published_coef is not self.__dict__.get("coef_")
                or published_intercept is not self.__dict__.get("intercept_")
                or iterate.shape != (d + 1, k)):
            return None
        return iterate

    def _settings(self, options, n_samples, step):
        """The kernels' Settings for this fit, around the step rule `step` (with
        early_stopping the compiled rule is off: the validation score decides)."""
        return Settings(step, StopRule.off() if options.early_stopping else options.stop,
                        n_threads=options.n_threads, snapshot_every=options.log_every)

    def _new_state(self):
        return new_training_state()

    # The step state (_training_state_, a TRAINING_STATE array, and _velocity_, the
    # velocity slot or None) is what warm_start and partial_fit continue; like t_ and
    # method_ it is not saved in model files.
    _FITTED = ("coef_", "intercept_", "loss_curve_", "n_iter_", "n_features_in_", "method_",
               "_stream_moments_", "_stream_largest_norm_", "feature_names_in_", "t_",
               "_training_state_", "_velocity_", "_iterate_") + VALIDATION_ATTRIBUTES

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
        with FITTED_LOCK:
            if id(self) in FITTING:
                raise RuntimeError(
                    f"this {type(self).__name__} is being fitted in another thread; an "
                    "estimator object fits one call at a time (use sklearn.base.clone or "
                    "copy.deepcopy for one estimator per thread)"
                )
            FITTING[id(self)] = names
            state = {name: self.__dict__[name] for name in self._FITTED if name in self.__dict__}
        try:
            return train(X, y)
        except BaseException:
            with FITTED_LOCK:
                for name in self._FITTED:
                    self.__dict__.pop(name, None)
                self.__dict__.update(state)
            raise
        finally:
            with FITTED_LOCK:
                FITTING.pop(id(self), None)

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
        if _blocked_fit.is_blocked(X):  # lazily, a Dask array
            return _blocked_fit.predict(self, X)
        self._check_fitted()
        self._feature_names_for(X, reset=False)
        X = as_data_matrix(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input"
            )
        with FITTED_LOCK:  # coef_ and intercept_ of one fit, never of two
            coef, intercept = self.coef_, self.intercept_
        with np.errstate(over="ignore"):
            W = np.ascontiguousarray(np.transpose(coef), dtype=X.dtype)
            b = np.atleast_1d(np.asarray(intercept, dtype=X.dtype))
        if not (all_finite(W) and all_finite(b)):
            raise ValueError(
                f"the model's coefficients do not fit in X's dtype {X.dtype}: pass X as float64"
            )
        return kernels.predict(X, W, b, n_threads=self.n_threads)

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch on (X, y), continuing from the current weights (zeros if unfitted).

        For data that arrive in chunks or streams: each call is one epoch over the rows
        given, with the model's settings (lr, batch_size, shuffle, momentum, ...);
        `epochs`, `tol` and `warm_start` do not apply. loss_curve_ gets one more entry;
        the step state carries over from call to call (t_ counts every update, and the
        velocity continues, as one torch.optim.SGD would). sample_weight weights the
        chunk's rows as in `fit`; with lr="auto" the running statistics are weighted.

        Returns
        -------
        self

        Raises
        ------
        DivergenceError
            As in `fit`, which leaves the model as it was before the call.
        """
        train = functools.partial(self._partial_fit, sample_weight=sample_weight)
        if _blocked_fit.is_blocked(X, y, sample_weight):  # the estimator moves to the blocks
            train = functools.partial(_blocked_fit.partial_fit, self, sample_weight=sample_weight)
        return self._transaction(train, X, y, reset_feature_names=False)

    def _partial_fit(self, X, y, sample_weight=None):
        X, Y = self._check_data(X, y)
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        options = self._check_options()
        fitted = hasattr(self, "coef_")
        W, b = self._initial_params(X, Y, continue_from_fitted=fitted)
        Y2 = Y.reshape(X.shape[0], -1)
        scaling = None
        if options.precondition:
            # Running statistics over the chunks seen: the first chunk's, merged with
            # every later one's (Chan et al.), so each step is safe for the data at hand.
            scaling = self._stream_scaling(X, options.n_threads, fitted, options.fit_intercept,
                                           options.ridge(Y2.shape[1]), sample_weight)
        step = self._chunk_step(X, Y2, options, scaling, sample_weight)
        full = self._settings(options, X.shape[0], step)
        settings = Settings(full.step, n_threads=full.n_threads, shuffle=full.shuffle)
        # One epoch: the Gram statistics would cost more than the epoch itself.
        solver = self._solver(X, Y2, settings, "fused", sample_weight)
        model = new_model(W, b, settings.step)
        if scaling is not None:
            _auto.fill_scaling(model, settings.step, scaling)
        previous = self.loss_curve_ if fitted else np.empty(0)
        state = self._new_state()
        if fitted:
            self._carry_step_state(model, state, settings.step, carry_average=True)
        losses = run_epochs(solver, model, state, 1, settings.step.lr,
                            lr_lambda=options.lr_lambda, first_epoch=len(previous))
        self._publish(model, state, W.ndim, previous, losses, 1, solver, streaming=True)
        return self

    def _stream_scaling(self, X, n_threads, fitted, fit_intercept, ridge, sample_weight=None):
        """The preconditioner for a partial_fit chunk: running moments of every chunk
        (weighted: then n counts weight)."""
        # Centred: the moments to merge.
        chunk = _auto.scaling_from_data(X, n_threads, sample_weight=sample_weight)
        n = X.shape[0] if sample_weight is None else float(sample_weight.sum())
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
        with FITTED_LOCK:
            self.__dict__["_stream_moments_"] = moments
        total, mean, m2 = moments
        return _auto.scaling_for(mean, m2 / total, fit_intercept, ridge)

    def _chunk_step(self, X, Y, options, scaling, sample_weight=None):
        """The step rule of one partial_fit epoch."""
        if options.auto:
            return options.with_user_schedule(options.with_user_momentum(_auto.gd_chunk_rule(
                X, scaling, Y.shape[1], options.n_threads, l2=options.l2,
                fit_intercept=options.fit_intercept, sample_weight=sample_weight)))
        return options.rule()

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R^2 of predict(X) against y.

        R^2 = 1 - sum(w (y - y_pred)**2) / sum(w (y - mean_w(y))**2), averaged over
        outputs with equal weights (scikit-learn's r2_score default), w the sample
        weights (all 1 without them). A constant y gives 1.0 for a perfect prediction
        and 0.0 otherwise.
        """
        if _blocked_fit.is_blocked(X, y, sample_weight):  # lazily, a 0-d Dask array
            return _blocked_fit.score(self, X, y, sample_weight)
        y_pred = self.predict(X)
        y = as_targets(y, y_pred.shape[0], np.float64, name="y")
        if not all_finite(y):
            raise ValueError("y contains NaN or infinity")
        if y.shape != y_pred.shape:
            raise ValueError(f"y has shape {y.shape}, but the predictions have shape {y_pred.shape}")
        weights = check_sample_weight(sample_weight, y.shape[0])
        y2 = y.reshape(len(y), -1)
        w = np.ones((y2.shape[0], 1)) if weights is None else weights[:, None]
        residual = (w * (y2 - y_pred.reshape(y2.shape)) ** 2).sum(axis=0)
        mean = (w * y2).sum(axis=0) / w.sum()
        total = (w * (y2 - mean) ** 2).sum(axis=0)
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
        return check_options(self)

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
            coef = init_array(coef_init, "coef_init", (coef_shape,), X.dtype)
            W = np.ascontiguousarray(np.transpose(coef))
        if intercept_init is not None:
            b_shapes = ((), W_shape[1:] or (1,))
            b = init_array(intercept_init, "intercept_init", b_shapes, X.dtype).reshape(-1)
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
            # With averaging, coef_ is the average: training goes on from the last
            # iterate, as scikit-learn's does (its _standard_coef).
            # (Unless coef_ or intercept_ was replaced since: then it goes on from them.)
            coef, intercept = self.coef_, self.intercept_
            d, k = coef_shape[-1], (W_shape[1] if len(W_shape) == 2 else 1)
            iterate = self._published_iterate(d, k)
            if iterate is not None:
                coef = np.transpose(iterate[:d]) if len(coef_shape) == 2 else iterate[:d, 0]
                intercept = iterate[d]
            # A copy (training writes into it) that refuses values beyond X's dtype.
            if W is None:
                W = cast_to_dtype(np.transpose(coef), X.dtype, "coef_")
            if b is None:
                b = cast_to_dtype(np.atleast_1d(intercept), X.dtype, "intercept_")
        if W is None:
            W = np.zeros(W_shape, dtype=X.dtype)
        if b is None:
            b = np.zeros(W_shape[1:] or (1,), dtype=X.dtype)
        return W, b

    def _publish(self, model, state, w_ndim, previous_losses, losses, n_iter, solver,
                 streaming=False, validation=None):
        """Set the fitted attributes from `model` (see linreg.solvers.new_model), all at
        once: a predict in another thread sees the old fit or the new, never a mix. With
        averaging, the model is the average of the iterates. `validation`: the
        attributes of early_stopping (none without it)."""
        d = model.shape[1] - 1
        rule = solver.settings.step
        slot = reported_slot(rule, state)
        W = model[slot, :d]  # (d, k), C-contiguous: coef_ is its transpose, a view
        fitted_coef = np.transpose(W) if w_ndim == 2 else W[:, 0]
        fitted_intercept = model[slot, d].copy() if w_ndim == 2 else float(model[slot, d, 0])
        fitted = {
            "coef_": fitted_coef,
            "intercept_": fitted_intercept,
            "loss_curve_": (np.concatenate([previous_losses, losses]) if len(previous_losses)
                            else losses.copy()),
            "n_iter_": n_iter,
            "n_features_in_": d,
            "t_": int(state["t"][0]),
            "_training_state_": state.copy(),
            "_velocity_": model[rule.slots["velocity"]].copy() if rule.momentum else None,
            # The last iterate, where training goes on from, when coef_ is the average
            # (with the coef_ and intercept_ it goes with, to tell a replaced one).
            "_iterate_": (fitted_coef, fitted_intercept, model[0].copy()) if slot else None,
        }
        fitted.update(self._fitted_extras(solver))
        fitted.update(validation or {})
        with FITTED_LOCK:
            for name in VALIDATION_ATTRIBUTES:
                self.__dict__.pop(name, None)
            if not streaming:  # a fit starts the running statistics of partial_fit afresh
                self.__dict__.pop("_stream_moments_", None)
                self.__dict__.pop("_stream_largest_norm_", None)
            self.__dict__.update(fitted)
            names = FITTING.get(id(self))  # this fit's, from _transaction
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
