"""Python mirrors of the compiled kernels' structs, and the types shared across layers.

The training loops read their settings from one C struct, `Settings` (see
linreg/_kernels/step.pxi), which Python fills once per fit from the frozen dataclasses
here, and keep their progress in a `TrainingState` that lives in a NumPy structured
array of dtype `TRAINING_STATE`, updated in place by every call. Adding an optimizer
setting means a field here and in step.pxi (see linreg/_kernels/README.md).

This module imports nothing from linreg, so every layer (and the NumPy twins in
`linreg.reference`) can use it.
"""
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

__all__ = [
    "gradient_slot",
    "reported_slot",
    "StepRule",
    "StopRule",
    "Settings",
    "Outcome",
    "TRAINING_STATE",
    "new_training_state",
    "EARLY_STOP",
    "GramStatistics",
    "History",
]


class Outcome:
    """Why a training loop returned: TrainingState.outcome (the enum in step.pxi)."""

    RUNNING = 0  # it ran every epoch it was asked for
    CONVERGED = 1  # the stopping rule fired; that epoch counts
    DIVERGED = 2  # a loss or parameter became non-finite; that epoch was not applied
    INTERRUPTED = 3  # a signal (Ctrl-C) is pending; the entry point raised it


#: The schedules the kernels know (StepRule.schedule), by name.
SCHEDULES = {"constant": 0, "invscaling": 1, "optimal": 2}


@dataclass(frozen=True)
class StepRule:
    """How an update is made from a gradient, fixed for a fit.

    Parameters
    ----------
    lr : float
        The learning rate, positive and finite (checked by the caller).
    schedule : str, default "constant"
        How the learning rate changes with the update count (a key of SCHEDULES).
    batch_size : int, default 1
        Rows per SGD update (1: per sample); GD ignores it.
    momentum, dampening : float, default 0.0
        torch.optim.SGD's: velocity v = momentum v + (1 - dampening) g (v = g at first).
    nesterov : bool, default False
        Step along g + momentum v instead of v.
    precondition : bool, default False
        Step in centred, scaled coordinates (the model's centre and scale slots); only
        scaled, uncentred, without an intercept.
    l2 : float, default 0.0
        L2 penalty (l2/2) |W|^2 on W, never b: the gradient gets + l2 W before the
        momentum, as torch.optim.SGD's weight_decay; per-sample SGD without momentum
        decays W by max(0, 1 - lr l2) before each sample's update (scikit-learn's way,
        the same step while lr l2 <= 1). GD's stopping rules then judge the objective.
    fit_intercept : bool, default True
        False: b is never updated; it keeps the value it starts from.
    average_start : int, default -1
        Average the iterates after this many updates (the average is the model then);
        -1: no averaging.
    """

    lr: float
    schedule: str = "constant"
    batch_size: int = 1
    momentum: float = 0.0
    dampening: float = 0.0
    nesterov: bool = False
    precondition: bool = False
    average_start: int = -1
    l2: float = 0.0
    fit_intercept: bool = True
    power_t: float = 0.25
    optimal_t0: float = 0.0
    schedule_alpha: float = 0.0
    l1: float = 0.0

    @property
    def slots(self):
        """{name: slot index} of the arrays this rule keeps beside the parameters."""
        names = []
        if self.momentum:
            names.append("velocity")
        if self.average_start >= 0:
            names.append("average")
        if self.precondition:
            names += ["centre", "scale"]
        if self.l1:
            names.append("l1")
        return {name: i + 1 for i, name in enumerate(names)}

    def as_struct(self):
        """The dict Cython converts to the C struct (every field, C types)."""
        slots = self.slots
        return {"lr": float(self.lr), "schedule": SCHEDULES[self.schedule],
                "batch_size": int(self.batch_size), "momentum": float(self.momentum),
                "dampening": float(self.dampening), "nesterov": bool(self.nesterov),
                "precondition": bool(self.precondition),
                "average_start": int(self.average_start),
                "l2": float(self.l2), "fit_intercept": bool(self.fit_intercept),
                "power_t": float(self.power_t), "optimal_t0": float(self.optimal_t0),
                "schedule_alpha": float(self.schedule_alpha), "l1": float(self.l1),
                "slot_l1": slots.get("l1", -1),
                "slot_velocity": slots.get("velocity", -1),
                "slot_average": slots.get("average", -1),
                "slot_centre": slots.get("centre", -1), "slot_scale": slots.get("scale", -1)}


@dataclass(frozen=True)
class StopRule:
    """scikit-learn's stopping rule: stop after `patience` epochs in a row whose loss is
    not below best_loss - max(tol, rtol * best_loss); patience 0 turns it off. Also
    stop once the loss is at most `target`. With `on_average` (SGD with averaging) the
    rule judges the averaged model's loss, from one more pass over the rows an epoch."""

    tol: float = 0.0
    patience: int = 0
    rtol: float = 0.0
    target: float = -np.inf
    on_average: bool = False  # SGD with averaging: judge the average's loss
    adaptive: bool = False  # scikit-learn's "adaptive": divide lr by 5 instead of stopping

    @classmethod
    def off(cls):
        return cls(0.0, 0)

    def as_struct(self):
        return {"tol": float(self.tol), "patience": int(self.patience),
                "rtol": float(self.rtol), "target": float(self.target),
                "on_average": bool(self.on_average), "adaptive": bool(self.adaptive)}


@dataclass(frozen=True)
class Settings:
    """Everything a training loop needs to know, fixed for a fit (the C `Settings`)."""

    step: StepRule
    stop: StopRule = StopRule()
    shuffle: bool = False
    n_threads: int = 1
    snapshot_every: int = 0

    def as_struct(self):
        return {
            "step": self.step.as_struct(),
            "stop": self.stop.as_struct(),
            "shuffle": bool(self.shuffle),
            "n_threads": int(self.n_threads),
            "snapshot_every": int(self.snapshot_every),
        }


#: The training state of one fit, the C `TrainingState`; aligned like the C struct.
TRAINING_STATE = np.dtype(
    [
        ("epoch", np.int64),  # epochs completed since the fit began
        ("t", np.int64),  # updates applied since the fit began
        ("lr_now", np.float64),  # learning rate of the latest update
        ("best_loss", np.float64),  # stopping rule: lowest epoch loss so far
        ("bad_epochs", np.int64),  # stopping rule: epochs in a row without improvement
        ("outcome", np.int64),  # an Outcome: why the last call returned
        ("rng", np.uint64),  # splitmix64 state of the shuffling generator
        ("velocity_steps", np.int64),  # updates the velocity has seen
        ("averaged", np.int64),  # iterates in the average
        ("lr_factor", np.float64),  # "adaptive": the factor on lr
        ("l1_total", np.float64),  # per-sample L1: the penalty a weight could have received
    ],
    align=True,
)


_FRESH_STATE = np.zeros(1, dtype=TRAINING_STATE)
_FRESH_STATE["best_loss"] = np.inf
_FRESH_STATE["lr_factor"] = 1.0


def new_training_state(rng=0):
    """A fresh TrainingState (shape (1,)): nothing done yet, the generator at `rng`."""
    state = _FRESH_STATE.copy()
    if rng:
        state["rng"] = rng
    return state


#: The stopping rule with its state, as `linreg.kernels.new_early_stop` returns it.
EARLY_STOP = np.dtype(
    [
        ("tol", np.float64),
        ("n_iter_no_change", np.int64),
        ("best_loss", np.float64),  # lowest epoch loss so far
        ("bad_epochs", np.int64),  # epochs in a row without improvement
        ("stopped", np.bool_),  # whether the rule fired in the last call
    ]
)


class GramStatistics(NamedTuple):
    """What full-batch GD needs of (X, Y), centred, in float64.

    See `linreg.kernels.gram_statistics`. `ref_W`, `ref_grad` and `ref_sse` expand the
    loss around a point near the least-squares solution, so that it does not cancel
    (see linreg/_kernels/gram.pxi). With sample weights every sum is weighted, the means
    too, and `weight_total` takes the place of n_samples in the loss.
    """

    n_samples: int
    mean_X: np.ndarray  # (n_features,)
    mean_Y: np.ndarray  # (n_outputs,)
    XtX: np.ndarray  # (n_features, n_features): Xc^T Xc, Xc = X - mean_X
    XtY: np.ndarray  # (n_features, n_outputs): Xc^T Yc, Yc = Y - mean_Y
    yy: float  # sum of Yc**2
    y_1d: bool  # whether Y was 1-D (then W is 1-D too)
    ref_W: np.ndarray  # (n_features, n_outputs): the reference point a
    ref_grad: np.ndarray  # (n_features, n_outputs): XtX a - XtY
    ref_sse: float  # |Xc a - Yc|^2, from a pass over the rows
    weight_total: float  # sum of the sample weights (n_samples without weights)


class History(NamedTuple):
    """Where a training loop records its epochs: each one's loss (float64, one entry per
    epoch it may run) and, every Settings.snapshot_every epochs, the parameters (one
    row of d k + k float64 values each; None when not recorded). `lr_factors`, when
    given, sets the training state's lr_factor (the factor on lr) at the start of each
    of those epochs: a callable lr_schedule, evaluated ahead."""

    losses: np.ndarray  # (n_epochs,)
    snapshots: object = None  # (n_snapshots, (d + 1) k) or None
    lr_factors: object = None  # (n_epochs,) float64, C-contiguous, or None


def gradient_slot(rule, state):
    """The slot whose point the next gradient is taken at (`_gradient_slot` in step.pxi):
    with L1 and Nesterov (FISTA), the extrapolated point in the velocity slot once there
    is one, else the parameters (slot 0)."""
    if rule.l1 and rule.nesterov and state["velocity_steps"][0] > 0:
        return rule.slots["velocity"]
    return 0


def reported_slot(rule, state):
    """The slot of the model a user sees: the average of the iterates once there is one
    (with averaging, `rule` a StepRule), else the parameters (slot 0)."""
    return rule.slots["average"] if rule.average_start >= 0 and state["averaged"][0] else 0
