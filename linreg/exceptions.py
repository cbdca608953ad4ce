"""Exceptions raised by linreg."""

__all__ = ["DivergenceError", "NotFittedError"]


class DivergenceError(ValueError):
    """Training produced a non-finite loss or weight.

    Attributes
    ----------
    epoch : int
        The 1-based epoch at which it happened.
    lr : float
        The learning rate in use.
    """

    def __init__(self, epoch, lr):
        self.epoch = epoch
        self.lr = lr
        super().__init__(
            f"training diverged at epoch {epoch} with lr={lr:g}: the loss or a weight "
            f"became non-finite. Try a smaller lr (e.g. lr={lr / 10:g}) or scale the "
            "features (e.g. standardize the columns of X)."
        )


class NotFittedError(ValueError, AttributeError):
    """A model was used for prediction before it was fitted."""
