"""The estimators' parameters, checked at fit, and the state every fit shares.

`check_options` turns a GDRegressor's or SGDRegressor's constructor parameters into a
`FitOptions` (scikit-learn style: checked at fit, not in __init__), with the checks of
single values it uses (`check_real`, `init_array` for coef_init / intercept_init,
`splitmix_seed` for random_state, `same_value` to spot a parameter changed during fit).
`FITTING` and `FITTED_LOCK` guard the fitted attributes of every estimator.
"""
import dataclasses
import math
import numbers
import threading
from typing import NamedTuple

import numpy as np

from linreg import kernels
from linreg._structs import StepRule, StopRule
from linreg._validation import cast_to_dtype, check_int, check_lr

__all__ = [
    "MAX_EPOCHS",
    "BLOW_UP_FACTOR",
    "FITTING",
    "FITTED_LOCK",
    "FitOptions",
    "Plan",
    "check_options",
    "check_real",
    "init_array",
    "same_value",
    "splitmix_seed",
]

#: The loss curve holds one float64 per epoch: 10**9 epochs would already take 8 GB.
MAX_EPOCHS = 10**9

#: tol=None with early_stopping: scikit-learn's default tol, on the validation R^2.
DEFAULT_VALIDATION_TOL = 1e-3

#: A fit whose last loss is this many times its first is reported (ConvergenceWarning):
#: it grew by orders of magnitude without overflowing, so lr is above the stable limit.
BLOW_UP_FACTOR = 1e3

# Estimator objects being fitted (by id), each with the feature names its fit publishes,
# and the lock that guards it and every change of fitted attributes: one lock for all
# estimators, held for microseconds at a time.
FITTING = {}
FITTED_LOCK = threading.Lock()


class FitOptions(NamedTuple):
    """The constructor's parameters, checked, as one fit uses them."""

    lr: object  # a float, or "auto"
    precondition: bool
    epochs: int
    log_every: int
    verbose: int
    n_threads: int
    stop: StopRule
    user_stop: bool  # whether tol was given (else lr="auto" brings its own rule)
    patience: int
    callback: object
    warm: bool
    momentum: float
    dampening: float
    nesterov: bool
    l2: float  # alpha with penalty="l2", alpha (1 - l1_ratio) with "elasticnet", else 0
    fit_intercept: bool
    schedule: dict  # the StepRule fields of lr_schedule (schedule, power_t, ...)
    lr_lambda: object  # a callable lr_schedule (the factor on lr per epoch), or None
    l1: float  # alpha with penalty="l1", alpha l1_ratio with "elasticnet", else 0
    average_start: int  # -1: no averaging (average=False)
    early_stopping: bool
    validation_fraction: float
    validation_tol: float  # early_stopping: the least rise of the validation R^2 that counts

    @property
    def auto(self):
        return isinstance(self.lr, str)

    def rule(self, **fields):
        """The StepRule of a numeric lr with every user option, and `fields`."""
        fields = {"average_start": self.average_start, **self.schedule, **fields}
        return StepRule(self.lr, momentum=self.momentum, dampening=self.dampening,
                        nesterov=self.nesterov, l2=self.l2, fit_intercept=self.fit_intercept,
                        precondition=self.precondition, l1=self.l1, **fields)

    def with_user_schedule(self, step):
        """lr="auto"'s StepRule `step` with the user's schedule and averaging, if given."""
        fields = dict(self.schedule)
        if self.l1:
            fields["l1"] = self.l1
        if self.average_start >= 0:
            fields["average_start"] = self.average_start
        return dataclasses.replace(step, **fields) if fields else step

    def ridge(self, n_outputs):
        """What the L2 penalty adds to each feature's variance in the preconditioner."""
        return 0.5 * n_outputs * self.l2

    def with_user_momentum(self, step):
        """lr="auto"'s StepRule `step`, its momentum replaced by the user's if given."""
        if self.momentum == 0:
            return step
        return dataclasses.replace(step, momentum=self.momentum, dampening=self.dampening,
                                   nesterov=self.nesterov)


class Plan(NamedTuple):
    """How one fit trains: the solver (holding the settings) and the preconditioner."""

    solver: object
    scaling: object  # an _auto.Scaling, or None


def check_options(estimator):
    """The parameters of `estimator` (a GDRegressor or SGDRegressor), checked, as one
    fit uses them (scikit-learn style: at fit, not in __init__).

    The epochs are checked by the estimator's own `_check_epochs(lr)`, since what
    epochs="auto" means depends on the class and on lr."""
    if not isinstance(estimator.warm_start, (bool, np.bool_)):
        raise TypeError(f"warm_start must be True or False, got {estimator.warm_start!r}")
    if estimator.callback is not None and not callable(estimator.callback):
        raise TypeError("callback must be callable(epoch, loss, model) or None")
    patience = check_int(estimator.n_iter_no_change, "n_iter_no_change", 1)
    if estimator.tol is None:
        stop = StopRule.off()
    else:
        early_stop = kernels.new_early_stop(estimator.tol, estimator.n_iter_no_change)
        stop = StopRule(float(early_stop["tol"][0]), int(early_stop["n_iter_no_change"][0]))
    if isinstance(estimator.lr, str):
        if estimator.lr != "auto":
            raise TypeError(f"lr must be a real number or 'auto', got str {estimator.lr!r}")
        lr = "auto"
    else:
        lr = check_lr(estimator.lr)
    if isinstance(estimator.precondition, str):
        if estimator.precondition != "auto":
            raise ValueError("precondition must be 'auto', True or False, got "
                             f"{estimator.precondition!r}")
        precondition = lr == "auto"
    elif isinstance(estimator.precondition, (bool, np.bool_)):
        precondition = bool(estimator.precondition)
        if lr == "auto" and not precondition:
            raise ValueError("lr='auto' steps in centred, scaled coordinates: it needs "
                             "precondition='auto' or True")
    else:
        raise TypeError("precondition must be 'auto', True or False, got "
                        f"{type(estimator.precondition).__name__}")
    momentum = check_real(estimator.momentum, "momentum", 0.0, 1.0, "in [0, 1)",
                          high_open=True)
    dampening = check_real(estimator.dampening, "dampening", 0.0, 1.0, "in [0, 1]")
    for name in ("nesterov", "fit_intercept"):
        if not isinstance(getattr(estimator, name), (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False, got {getattr(estimator, name)!r}")
    if estimator.nesterov and (momentum == 0 or dampening != 0):
        raise ValueError(
            "nesterov=True needs momentum > 0 and dampening=0 (torch.optim.SGD's rule), "
            f"got momentum={momentum}, dampening={dampening}"
        )
    penalties = "None, 'l2', 'l1' or 'elasticnet'"
    if estimator.penalty is not None and not isinstance(estimator.penalty, str):
        raise TypeError(f"penalty must be {penalties}, got {type(estimator.penalty).__name__}")
    if estimator.penalty not in (None, "l2", "l1", "elasticnet"):
        raise ValueError(f"penalty must be {penalties}, got {estimator.penalty!r}")
    alpha = check_real(estimator.alpha, "alpha", 0.0, math.inf, "a finite number >= 0")
    l1_ratio = check_real(estimator.l1_ratio, "l1_ratio", 0.0, 1.0, "in [0, 1]")
    l1_share = {None: 0.0, "l2": 0.0, "l1": 1.0, "elasticnet": l1_ratio}[estimator.penalty]
    if l1_share and alpha and momentum and not estimator.nesterov:
        raise ValueError(
            f"momentum={momentum} with penalty={estimator.penalty!r}: momentum on the "
            "gradient would move the L1 proximal step's fixed point; use nesterov=True "
            "(FISTA's extrapolation, for GD and mini-batches) or momentum=0")
    lr_lambda = estimator.lr_schedule if callable(estimator.lr_schedule) else None
    schedule = {} if lr_lambda is not None else _check_schedule(estimator, alpha)
    if not isinstance(estimator.early_stopping, (bool, np.bool_)):
        raise TypeError(f"early_stopping must be True or False, got {estimator.early_stopping!r}")
    validation_fraction = check_real(estimator.validation_fraction, "validation_fraction",
                                     0.0, 1.0, "strictly between 0 and 1", high_open=True)
    if validation_fraction == 0.0:
        raise ValueError("validation_fraction must be strictly between 0 and 1, got "
                         f"{estimator.validation_fraction!r}")
    # The rule of early_stopping judges the validation R^2, which has no units: tol is
    # then scikit-learn's own (no factor 2), and None means its default.
    validation_tol = DEFAULT_VALIDATION_TOL if estimator.tol is None else stop.tol
    if schedule.get("schedule") == "adaptive":
        if estimator.tol is None and not estimator.early_stopping:
            raise ValueError("lr_schedule='adaptive' divides lr by 5 when the loss stops "
                             "improving by tol: it needs a tol (scikit-learn's default is "
                             "tol=1e-3, which is tol=2e-3 here)")
        schedule = {}
        stop = dataclasses.replace(stop, adaptive=True)
    return FitOptions(
        lr=lr,
        precondition=precondition,
        epochs=estimator._check_epochs(lr),
        log_every=check_int(estimator.log_every, "log_every", 0),
        verbose=int(estimator.verbose) if isinstance(estimator.verbose, (bool, np.bool_))
        else check_int(estimator.verbose, "verbose", 0),  # scikit-learn takes True too
        n_threads=kernels.resolve_n_threads(estimator.n_threads),
        stop=stop,
        user_stop=estimator.tol is not None,
        patience=patience,
        callback=estimator.callback,
        warm=bool(estimator.warm_start) and hasattr(estimator, "coef_"),
        momentum=momentum,
        dampening=dampening,
        nesterov=bool(estimator.nesterov),
        l2=alpha * (1.0 - l1_share) if estimator.penalty is not None else 0.0,
        l1=alpha * l1_share,
        fit_intercept=bool(estimator.fit_intercept),
        schedule=schedule,
        lr_lambda=lr_lambda,
        average_start=_check_average(estimator.average),
        early_stopping=bool(estimator.early_stopping),
        validation_fraction=validation_fraction,
        validation_tol=validation_tol,
    )


#: lr_schedule's values (scikit-learn's learning_rate names).
LR_SCHEDULES = ("constant", "invscaling", "optimal", "adaptive")


def _check_schedule(estimator, alpha):
    """The StepRule fields of lr_schedule and power_t ({} for "constant"), as scikit-
    learn's SGD: t counts updates from 1; "optimal" is 1 / (alpha (t0 + t - 1)) with
    scikit-learn's t0, in linreg's units (its alpha is alpha / 2 here)."""
    schedule = estimator.lr_schedule
    if not isinstance(schedule, str):
        raise TypeError(f"lr_schedule must be one of {', '.join(map(repr, LR_SCHEDULES))} or "
                        f"a callable epoch -> factor, got {type(schedule).__name__}")
    if schedule not in LR_SCHEDULES:
        raise ValueError(f"lr_schedule must be one of {', '.join(map(repr, LR_SCHEDULES))}, "
                         f"got {schedule!r}")
    power_t = check_real(estimator.power_t, "power_t", -math.inf, math.inf, "a finite number")
    if schedule == "invscaling":
        return {"schedule": "invscaling", "power_t": power_t}
    if schedule == "optimal":
        if alpha <= 0:
            raise ValueError("lr_schedule='optimal' is 1 / (alpha (t0 + t)): it needs alpha > 0")
        alpha_sk = alpha / 2.0
        t0 = 1.0 / (math.sqrt(1.0 / math.sqrt(alpha_sk)) * alpha_sk)
        return {"schedule": "optimal", "optimal_t0": t0, "schedule_alpha": alpha}
    return {"schedule": "adaptive"} if schedule == "adaptive" else {}


def _check_average(average):
    """average_start of the StepRule: -1 for False, average - 1 for an int (the update,
    counted from 1, at which averaging starts, as scikit-learn's), 0 for True."""
    if isinstance(average, (bool, np.bool_)):
        return 0 if average else -1
    if not isinstance(average, numbers.Integral):
        raise TypeError(f"average must be True, False or a positive int, got "
                        f"{type(average).__name__}")
    return check_int(average, "average", 1) - 1


def splitmix_seed(random_state):
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


def same_value(a, b):
    """Whether a parameter still has the value `b` (identity, or equal and same type)."""
    if a is b:
        return True
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # arrays and other objects without a truth value for ==
        return False


def check_real(value, name, low, high, expected, high_open=False):
    """A real number in [low, high] (or [low, high) with high_open), as float."""
    if type(value) is not float and (
        isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real)
    ):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    number = float(value)
    if not (math.isfinite(number) and low <= number <= high) or (high_open and number == high):
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return number


def init_array(value, name, shapes, dtype):
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
