"""Exceptions raised by linreg."""
import math
import sys

__all__ = ["DivergenceError", "NotFittedError", "ConvergenceWarning", "WorkerLostError"]


class DivergenceError(ValueError):
    """Training produced a non-finite loss or weight.

    Attributes
    ----------
    epoch : int
        The 1-based epoch at which it happened.
    lr : float
        The learning rate in use.
    losses : ndarray
        The loss of every epoch completed before it (set by the trainer).

    The estimator that raised it is left as it was before the failed call.
    """

    def __init__(self, epoch, lr):
        self.epoch = epoch
        self.lr = lr
        if math.isfinite(lr):
            advice = (f"Try a smaller lr (e.g. lr={lr / 10:g}) or scale the features "
                      "(e.g. standardize the columns of X).")
        else:  # an lr="auto" from statistics that overflowed: no smaller lr to suggest
            advice = ("The learning rate itself is not finite: the data's scale overflowed "
                      "the arithmetic (X's squares past its dtype's range?). Scale the "
                      "features (e.g. standardize the columns of X) or use float64.")
        super().__init__(
            f"training diverged at epoch {epoch} with lr={lr:g}: the loss or a weight "
            f"became non-finite. {advice}"
        )


class WorkerLostError(RuntimeError):
    """A Dask worker (and the blocks of X it held) was lost while a fit ran.

    The fit that raised it left the estimator as it was before the call; fitting again
    recomputes the lost blocks from their source. Its __cause__ is Dask's own error.
    """


class NotFittedError(ValueError, AttributeError):
    """A model was used for prediction before it was fitted.

    When scikit-learn has been imported, the error raised is also an instance of
    scikit-learn's NotFittedError, so its tools recognize it; linreg never imports
    scikit-learn itself.
    """


def not_fitted_error(message):
    """A NotFittedError, which is also scikit-learn's when scikit-learn is loaded."""
    sklearn_exceptions = sys.modules.get("sklearn.exceptions")
    if sklearn_exceptions is None:
        return NotFittedError(message)
    both = _NOT_FITTED_WITH_SKLEARN.get(sklearn_exceptions.NotFittedError)
    if both is None:
        both = type("NotFittedError", (NotFittedError, sklearn_exceptions.NotFittedError), {})
        both.__module__ = __name__
        _NOT_FITTED_WITH_SKLEARN[sklearn_exceptions.NotFittedError] = both
    return both(message)


_NOT_FITTED_WITH_SKLEARN = {}


class ConvergenceWarning(UserWarning):
    """Training ended without converging: the loss blew up (by orders of magnitude, yet
    finite), or, later, the epoch budget ran out first.

    When scikit-learn has been imported, the warning issued is also an instance of
    scikit-learn's ConvergenceWarning, so its filters apply; linreg never imports
    scikit-learn itself.
    """


def convergence_warning():
    """The class to warn with: ConvergenceWarning, and scikit-learn's when it is loaded."""
    sklearn_exceptions = sys.modules.get("sklearn.exceptions")
    if sklearn_exceptions is None:
        return ConvergenceWarning
    both = _CONVERGENCE_WITH_SKLEARN.get(sklearn_exceptions.ConvergenceWarning)
    if both is None:
        both = type("ConvergenceWarning",
                    (ConvergenceWarning, sklearn_exceptions.ConvergenceWarning), {})
        both.__module__ = __name__
        _CONVERGENCE_WITH_SKLEARN[sklearn_exceptions.ConvergenceWarning] = both
    return both


_CONVERGENCE_WITH_SKLEARN = {}
