"""Estimators: GDRegressor (full-batch gradient descent) and SGDRegressor (stochastic).

Both fit y = XW + b on the mean squared error, exactly as the seed tutorial's PyTorch loop
does, with the scikit-learn estimator conventions: parameters stored unchanged by
``__init__`` and checked by ``fit``, fitted attributes ending in an underscore.
"""
import dataclasses
import math

import numpy as np

from linreg import _auto, _method
from linreg._options import FITTED_LOCK, MAX_EPOCHS, Plan, splitmix_seed
from linreg._regressor import GradientDescentRegressor
from linreg._structs import Settings, StopRule, new_training_state
from linreg._validation import check_int
from linreg.solvers import SGD, FusedGD, GramGD

__all__ = ["GDRegressor", "SGDRegressor", "choose_method"]


class GDRegressor(GradientDescentRegressor):
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
    verbose : int, default 0
        scikit-learn's name: > 0 reports the fit's progress on stderr (epoch, loss,
        time elapsed and left), as a bar redrawn in place when stderr is a terminal and
        as plain lines otherwise (at most one a second at verbose=1, verbose times as
        often above). Reported only where the compiled epochs return to Python anyway
        (about every 0.1 s), so it does not slow the fit.
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
        dampening=0. With an L1 part in the penalty it is FISTA instead (momentum
        without nesterov is refused there): the gradient is taken at the extrapolated
        point y = x + momentum (x - x_previous) and the proximal step gives the next x,
        whose zeros are exact; coef_ is x, loss_curve_ the loss at y.
    penalty : {None, "l2", "l1", "elasticnet"}, default None
        The objective becomes MSE + alpha * R(w) with scikit-learn's R: "l2"
        ||w||^2 / 2, "l1" ||w||_1, "elasticnet" l1_ratio ||w||_1 + (1 - l1_ratio)
        ||w||^2 / 2 (scikit-learn's alpha is half of this alpha, as its eta0 is 2 * lr),
        on the coefficients only, never the intercept. The L2 part adds alpha * W to the
        gradient before the momentum: exactly torch.optim.SGD's weight_decay=alpha on W
        alone. The L1 part is, per sample, scikit-learn's cumulative truncation; for GD
        and mini-batches, the proximal step (soft thresholding after each update), so
        coefficients are exactly zero where the penalty wins. With "l2", GD's stopping
        rules (tol, and lr="auto"'s target, the least objective) judge that objective;
        with an L1 part lr="auto" stops when the loss stops improving by 1e-8 of itself;
        loss_curve_ records the MSE.
    l1_ratio : float, default 0.15
        The L1 share of "elasticnet", in [0, 1].
    alpha : float, default 0.0001
        The penalty's strength, finite and >= 0; unused with penalty=None, except by
        lr_schedule="optimal".
    fit_intercept : bool, default True
        False: the intercept is never updated; it stays at intercept_init (0 unless
        given to fit). Preconditioning then only scales the features, by their
        uncentred second moments, and does not centre them (b cannot absorb the means).
    lr_schedule : {"constant", "invscaling", "optimal", "adaptive"} or callable, default "constant"
        scikit-learn's learning_rate, t counting updates from 1 (and across warm starts
        and partial_fit, like its t_): "invscaling" steps lr / t**power_t;
        "optimal" steps 1 / (alpha (t0 + t - 1)) with scikit-learn's t0 (needs alpha >
        0; lr is not used); "adaptive" divides lr by 5 each time the loss has not
        improved by tol for n_iter_no_change epochs (needs tol), and stops once lr is
        at most 5e-7. With lr="auto" the schedule starts from the automatic step.
        A callable epoch -> factor is torch's LambdaLR: epoch e (counted from 0, and on
        across warm starts and partial_fit calls) steps with lr * factor(e), so
        ``lambda e: 0.1 ** (e // 30)`` is StepLR(step_size=30, gamma=0.1), and warm-up
        or cosine decay are one line each. It is called for a chunk of epochs before
        the chunk runs in compiled code, and must return finite numbers >= 0. A model
        file cannot hold it (it is saved as None, with a warning).
    power_t : float, default 0.25
        The exponent of "invscaling".
    average : bool or int, default False
        Average the iterates (scikit-learn's): True from the first update, an int from
        that update on (counted from 1 in this fit; partial_fit goes on averaging across
        calls). coef_ and intercept_ are then the averages; training goes on from the
        last iterate.
    early_stopping : bool, default False
        scikit-learn's: hold out validation_fraction of the rows (scikit-learn's split:
        ShuffleSplit with random_state), train on the others, and stop once the
        validation R^2 has not risen by tol (here on R^2, as scikit-learn's, with no
        factor 2; tol=None means its default 1e-3) for n_iter_no_change epochs in a
        row; "adaptive" divides lr by 5 instead while it can. The fit keeps the weights
        of the best epoch (scikit-learn's SGDRegressor keeps the last ones); n_iter_ is
        the epochs run. The held-out rows are copied once; each epoch costs a
        prediction over them. partial_fit ignores it (as scikit-learn's).
    validation_fraction : float, default 0.1
        The share of rows held out by early_stopping, strictly between 0 and 1.
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None
        Only for early_stopping's validation split (an int gives scikit-learn's split).

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
    validation_scores_ : ndarray of shape (n_iter_,)
        With early_stopping: the validation R^2 after each epoch of the last fit.
    best_validation_score_ : float
        With early_stopping: the best of them, whose weights the model holds.

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
                    "verbose", "tol", "n_iter_no_change", "warm_start", "callback",
                    "momentum", "dampening", "nesterov", "penalty", "alpha", "fit_intercept",
                    "lr_schedule", "power_t", "average", "l1_ratio", "early_stopping",
                    "validation_fraction", "random_state")

    def __init__(self, lr="auto", epochs=1000, method="auto", precondition="auto",
                 n_threads=None, log_every=0, verbose=0, tol=None, n_iter_no_change=5,
                 warm_start=False, callback=None, momentum=0.0, dampening=0.0, nesterov=False,
                 penalty=None, alpha=0.0001, fit_intercept=True, lr_schedule="constant",
                 power_t=0.25, average=False, l1_ratio=0.15, early_stopping=False,
                 validation_fraction=0.1, random_state=None):
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.l1_ratio = l1_ratio
        self.lr_schedule = lr_schedule
        self.power_t = power_t
        self.average = average
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
        self.verbose = verbose
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.callback = callback

    def _plan(self, source, options, intercept, t_start):
        """The solver of this fit, from `source` (a `linreg._sources.ArraySource` or
        `BlockSource`: the data in memory or in blocks, which give the statistics);
        `intercept` (k,) is where b starts (and stays without an intercept), `t_start`
        the updates already made (warm start). GD trains on every row, weighted
        (early_stopping's held-out rows weigh 0)."""
        k = source.n_outputs
        method = _method.choose_method(self.method, source.n_samples, source.n_features, k,
                               options.epochs, source.dtype)
        stats = scaling = None
        if method == "gram":
            stats = source.gram_statistics(options.n_threads)
            if options.precondition:
                scaling = _auto.scaling_from_stats(stats, options.fit_intercept,
                                                   options.ridge(k))
        else:
            source.prepare_passes()  # every epoch reads X
            if options.precondition:
                scaling = source.scaling(options.n_threads, options.fit_intercept,
                                         options.ridge(k))
        if options.auto:
            if stats is not None:
                step, stop = _auto.gd_rules(stats, scaling, k, options.epochs,
                                            options.patience, source.dtype, l2=options.l2,
                                            fit_intercept=options.fit_intercept,
                                            intercept=intercept.astype(np.float64))
            else:  # lambda_max by power iterations, one pass over X each
                top = _auto.power_lambda_max(source.gradient(options.n_threads),
                                             source.n_features, scaling, source.dtype, k,
                                             options.l2)
                step, stop = _auto.fused_gd_rules(
                    top, *source.target_moments(options.n_threads), options.patience, k,
                    l2=options.l2, fit_intercept=options.fit_intercept)
            step = options.with_user_schedule(options.with_user_momentum(step))
            if options.l1:
                # Plain proximal GD (ISTA), unless the user asked for FISTA (nesterov):
                # the tuned momentum is torch's, on the gradient, which would move the
                # proximal step's fixed point; and the target is the smooth objective's,
                # not this one's.
                if not options.nesterov:
                    step = dataclasses.replace(step, momentum=0.0, nesterov=False)
                stop = StopRule(0.0, options.patience, rtol=_auto.FUSED_RTOL)
            if stop.patience and step.momentum:
                # The rule stops when the loss stalls; momentum makes it oscillate over
                # about 1 / (1 - momentum) epochs, which is no stall (with a user's 0.9
                # it stopped 0.2% above the least loss after 22 epochs).
                stop = dataclasses.replace(
                    stop, patience=math.ceil(stop.patience / (1.0 - step.momentum)))
            if options.user_stop:  # the user's rule, and the target
                stop = StopRule(options.stop.tol, options.stop.patience, target=stop.target)
        else:
            step, stop = options.rule(), options.stop
            if step.average_start >= 0 and t_start:
                step = dataclasses.replace(step, average_start=step.average_start + t_start)
        settings = self._settings(options._replace(stop=stop), source.n_samples, step)
        solver = (source.gram_solver(settings, stats) if method == "gram"
                  else source.fused_solver(settings))
        return Plan(solver, scaling)

    def _solver(self, X, Y, settings, method, sample_weight=None):
        return FusedGD(X, Y, settings, sample_weight)

    def _fitted_extras(self, solver):
        return {"method_": "gram" if isinstance(solver, GramGD) else "fused"}


class SGDRegressor(GradientDescentRegressor):
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
    log_every, verbose, tol, n_iter_no_change, warm_start, callback :
        As in `GDRegressor`.
    lr_schedule, power_t, average :
        As in `GDRegressor`, one update per batch; with batch_size=1, shuffle=False and
        a numeric lr they follow scikit-learn's SGDRegressor(learning_rate=lr_schedule,
        eta0=2*lr, power_t, average, alpha=alpha/2) update for update.
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
    early_stopping, validation_fraction :
        As in `GDRegressor`; the held-out rows are not visited by the epochs (as
        scikit-learn's), and random_state also draws the split.

    Attributes
    ----------
    coef_, intercept_, loss_curve_, n_iter_, t_, n_features_in_, feature_names_in_ :
        As in `GDRegressor`; t_ counts updates (one per batch).
    validation_scores_, best_validation_score_ :
        As in `GDRegressor`, with early_stopping.

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
                    "n_threads", "log_every", "verbose", "tol", "n_iter_no_change",
                    "warm_start", "callback", "momentum", "dampening", "nesterov", "penalty",
                    "alpha", "fit_intercept", "lr_schedule", "power_t", "average", "l1_ratio",
                    "early_stopping", "validation_fraction")

    def __init__(self, lr="auto", epochs="auto", batch_size=1, shuffle=True, random_state=None,
                 precondition="auto", n_threads=None, log_every=0, verbose=0, tol=None,
                 n_iter_no_change=5, warm_start=False, callback=None, momentum=0.0,
                 dampening=0.0, nesterov=False, penalty=None, alpha=0.0001,
                 fit_intercept=True, lr_schedule="constant", power_t=0.25, average=False,
                 l1_ratio=0.15, early_stopping=False, validation_fraction=0.1):
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.l1_ratio = l1_ratio
        self.lr_schedule = lr_schedule
        self.power_t = power_t
        self.average = average
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
        self.verbose = verbose
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
        base = super()._settings(options, n_samples, step)
        return Settings(step, base.stop, shuffle=bool(self.shuffle),
                        n_threads=options.n_threads, snapshot_every=options.log_every)

    def _new_state(self):
        # Drawn once per fit, so a Generator as random_state advances once per fit.
        return new_training_state(splitmix_seed(self.random_state)[0] if self.shuffle else 0)

    def _plan(self, source, options, intercept, t_start):
        """As GDRegressor's; an epoch visits the source's training rows only
        (early_stopping leaves the held-out ones out)."""
        k = source.n_outputs
        batch_size = self._batch_size(source.n_visited, clip=False)
        self._refuse_per_sample_fista(options, batch_size)
        source.prepare_passes()  # every epoch reads X
        scaling = (source.scaling(options.n_threads, options.fit_intercept, options.ridge(k))
                   if options.precondition else None)
        if options.auto:
            largest, mean_norm = source.row_norms(scaling, options.n_threads)
            step, stop = _auto.sgd_rules_for_norm(largest, mean_norm, source.n_samples, k,
                                                  batch_size, options.patience, True,
                                                  l2=options.l2,
                                                  fit_intercept=options.fit_intercept,
                                                  scaling=scaling)
            stop = _auto.sgd_stop_with_floor(stop, *source.target_moments(options.n_threads))
            step = options.with_user_schedule(options.with_user_momentum(step))
            if options.user_stop:
                stop = options.stop
        else:
            step, stop = options.rule(batch_size=batch_size), options.stop
        if step.average_start >= 0 and t_start:
            # Averaging starts after this fit's first epoch, wherever t_ stands.
            step = dataclasses.replace(step, average_start=step.average_start + t_start)
        settings = self._settings(options._replace(stop=stop), source.n_samples, step)
        return Plan(source.sgd_solver(settings), scaling)

    @staticmethod
    def _refuse_per_sample_fista(options, batch_size):
        """nesterov with an L1 part is FISTA, a proximal method for GD and mini-batches;
        per sample, L1 is scikit-learn's cumulative truncation, which has no momentum."""
        if options.l1 and options.momentum and batch_size == 1:
            raise ValueError(
                "momentum with an L1 penalty (nesterov=True: FISTA) needs batch_size > 1: "
                "per sample, the L1 penalty is scikit-learn's truncation, which takes no "
                "momentum; use a batch_size > 1 or momentum=0")

    def _chunk_step(self, X, Y, options, scaling, sample_weight=None):
        batch_size = self._batch_size(X.shape[0], clip=True)
        self._refuse_per_sample_fista(options, batch_size)
        if options.auto:
            # The largest row seen so far in the stream bounds every step, so no chunk can
            # make a step unstable for the rows it holds.
            largest, mean = _auto.row_norms(X, scaling, options.n_threads, sample_weight)
            largest = max(largest, self.__dict__.get("_stream_largest_norm_") or 0.0)
            with FITTED_LOCK:
                self.__dict__["_stream_largest_norm_"] = largest
            step, _ = _auto.sgd_rules_for_norm(largest, mean, X.shape[0], Y.shape[1],
                                               batch_size, options.patience, average=False,
                                               l2=options.l2,
                                               fit_intercept=options.fit_intercept,
                                               scaling=scaling)
            return options.with_user_schedule(options.with_user_momentum(step))
        return options.rule(batch_size=batch_size)

    def _solver(self, X, Y, settings, method, sample_weight=None):
        return SGD(X, Y, settings, sample_weight)


def choose_method(method, n_samples, n_features, n_outputs, epochs, dtype=np.float64):
    """What GDRegressor(method=...) uses for this problem: "fused" or "gram".

    The one decision for data in memory and in blocks (`linreg._method`, where its
    cost model is described).

    Parameters
    ----------
    method : {"auto", "fused", "gram"}
    n_samples, n_features, n_outputs, epochs : int
        The problem's size and the epoch budget.
    dtype : numpy dtype, default float64
        The training dtype (float32 or float64), whose speeds the costs take.

    Returns
    -------
    str
        "fused" or "gram".
    """
    return _method.choose_method(method, n_samples, n_features, n_outputs, epochs, dtype)
