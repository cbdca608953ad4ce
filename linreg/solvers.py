"""Solvers: one compiled training loop each, bound to data the estimators validated.

The middle of three layers (kernels / solvers / estimators, as in celer): a solver holds
a problem's X and Y (2-D, in the kernels' layout and dtype), the fit's `Settings`, and
whatever it computed once for the fit (the Gram statistics, a shuffle order), and runs
epochs through `run(model, state, history)`. `linreg.training.run_epochs`
drives it in chunks. The data are checked once, by the estimators; here only what costs
O(1) is checked again, since the compiled loops trust every argument.
"""
import numpy as np

from linreg import _compiled
from linreg._structs import TRAINING_STATE, History
from linreg._gram import gram_statistics_of

__all__ = ["FusedGD", "GramGD", "SGD", "new_model"]


def new_model(W, b, rule=None):
    """The loops' array: model[0, :d] is W (d, k), model[0, d] is b (k,), then a zeroed
    slot of the same shape for each array the step rule keeps (see StepRule.slots)."""
    W2 = W.reshape(W.shape[0], -1)
    d, k = W2.shape
    model = np.zeros((1 + (len(rule.slots) if rule is not None else 0), d + 1, k),
                     dtype=W.dtype)
    model[0, :d] = W2
    model[0, d] = b
    return model


class _Solver:
    """What the three solvers share: the problem, checked for what the loops trust."""

    def __init__(self, X, Y, settings, sample_weight=None):
        if (X.dtype not in (np.float32, np.float64) or X.ndim != 2
                or not (X.flags.c_contiguous or X.flags.f_contiguous)):
            raise TypeError("X must be a C- or Fortran-contiguous 2-D float32 or float64 array")
        if Y.dtype != X.dtype or Y.ndim != 2 or Y.shape[0] != X.shape[0]:
            raise TypeError("Y must be 2-D, in X's dtype, with X's rows")
        if sample_weight is not None and (
                sample_weight.dtype != np.float64 or sample_weight.shape != (X.shape[0],)
                or not sample_weight.flags.c_contiguous):
            raise TypeError("sample_weight must be a C-contiguous float64 array of n_samples")
        self.X, self.Y, self.settings = X, Y, settings
        self.sample_weight = sample_weight
        self._struct = settings.as_struct()

    def _check(self, model, state, history):
        loss_out = history.losses
        d, k = self.X.shape[1], self.Y.shape[1]
        if (model.dtype != self.X.dtype or model.shape != (1 + len(self.settings.step.slots),
                                                            d + 1, k)
                or not model.flags.c_contiguous):
            raise TypeError("model must come from new_model, in X's dtype, with the rule's slots")
        if state.dtype != TRAINING_STATE or state.shape != (1,):
            raise TypeError("state must come from linreg._structs.new_training_state")
        if loss_out.dtype != np.float64 or loss_out.ndim != 1:
            raise TypeError("loss_out must be a 1-D float64 array")

    @property
    def work_per_epoch(self):
        """About how many multiply-adds an epoch costs (sizes the first chunk)."""
        return self.X.size * self.Y.shape[1]


class FusedGD(_Solver):
    """Full-batch GD, each epoch one fused pass over X (weighted by sample_weight)."""

    def run(self, model, state, history):
        self._check(model, state, history)
        kernel, X = _compiled.for_layout("gd_epochs", self.X)  # C or Fortran, in place
        return kernel(X, self.Y, model, self._struct, state, self.sample_weight, history)


class GramGD(_Solver):
    """Full-batch GD from the centred Gram statistics, computed once here: O(d^2 k) an
    epoch after that."""

    def __init__(self, X, Y, settings, sample_weight=None, stats=None):
        super().__init__(X, Y, settings, sample_weight)
        if stats is None:
            stats = gram_statistics_of(X, Y, Y.shape[1] == 1, settings.n_threads,
                                       sample_weight)
        self.stats = stats

    def run(self, model, state, history):
        self._check(model, state, history)
        return _compiled.build.gd_epochs_gram(self.stats, model, self._struct, state, history)

    @property
    def work_per_epoch(self):
        return self.X.shape[1] ** 2 * self.Y.shape[1]


class SGD(_Solver):
    """SGD (per sample or mini-batch); with settings.shuffle, a new order every epoch
    from the generator in the training state (8 bytes per sample for the order).

    A Fortran-ordered X is read in place, not copied: the kernel copies the rows a pass
    is about to visit, a chunk at a time, into a ring of a few KB (see
    linreg/_kernels/row_copies.pxi); the results equal those of the C-ordered X, bit for
    bit for the plain loops, to rounding with options."""

    def __init__(self, X, Y, settings, sample_weight=None, rows=None):
        super().__init__(X, Y, settings, sample_weight)
        m = X.shape[0] if rows is None else rows.shape[0]
        if not 1 <= settings.step.batch_size <= m:
            raise ValueError("batch_size must be between 1 and the number of rows trained on")
        if rows is not None:
            # The rows an epoch visits (early stopping leaves the validation rows out),
            # a copy: shuffling permutes it in place.
            self.order = np.array(rows, dtype=np.intp)
        else:
            self.order = np.arange(X.shape[0], dtype=np.intp) if settings.shuffle else None

    def run(self, model, state, history):
        self._check(model, state, history)
        kernel, X = _compiled.for_layout("sgd_epochs", self.X)  # C or Fortran, in place
        return kernel(X, self.Y, model, self._struct, state, self.order, self.sample_weight,
                      history)
