"""Pictures of a fit: `plot_loss_curve(model, ax=None)`.

matplotlib is an optional extra (``pip install "linreg[plot]"``): it is imported when a
plot is asked for, never by ``import linreg``. Imports nothing from linreg.
"""
import numpy as np

__all__ = ["plot_loss_curve", "PLOT_EXTRA_HINT"]

PLOT_EXTRA_HINT = 'pip install "linreg[plot]"'


def _require_matplotlib(pyplot=False):
    """matplotlib (its pyplot if asked), or ImportError naming the extra to install."""
    try:
        import matplotlib  # optional: only when a plot is asked for
        if pyplot:
            import matplotlib.pyplot
    except ImportError:
        raise ImportError(
            f"plot_loss_curve needs matplotlib, an optional extra of linreg: {PLOT_EXTRA_HINT} "
            "(or pip install matplotlib)"
        ) from None
    return matplotlib


def plot_loss_curve(model, ax=None):
    """Plot a fitted model's loss per epoch (``model.loss_curve_``), log-scale y.

    Parameters
    ----------
    model : GDRegressor or SGDRegressor, fitted
        Anything with a ``loss_curve_`` of one loss per epoch.
    ax : matplotlib.axes.Axes, optional
        Where to draw; by default the current Axes of pyplot (a new figure if none).

    Returns
    -------
    matplotlib.axes.Axes
        `ax`, with the curve, labelled axes and a log-scale y axis.

    Raises
    ------
    ImportError
        Without matplotlib, naming the extra to install.
    linreg.NotFittedError, AttributeError
        If `model` has no loss curve (not fitted).
    ValueError
        If the loss curve is empty.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import linreg
    >>> model = linreg.GDRegressor(lr=0.01, epochs=200).fit([[1.0], [2.0], [3.0]], [3, 6, 9])
    >>> ax = linreg.plot_loss_curve(model)
    >>> ax.get_yscale(), len(ax.lines[0].get_xdata())
    ('log', 200)
    """
    losses = np.asarray(model.loss_curve_, dtype=np.float64)
    if losses.size == 0:
        raise ValueError("the model's loss_curve_ is empty: nothing to plot")
    if ax is None:
        ax = _require_matplotlib(pyplot=True).pyplot.gca()
    else:
        _require_matplotlib()  # the same message without matplotlib, whatever ax is
    epochs = np.arange(1, losses.size + 1)
    # A loss of exactly 0 (an exact fit) has no place on a log scale: left out (NaN),
    # rather than drawn at some tiny value that would squash the rest of the curve.
    shown = np.where(losses > 0, losses, np.nan)
    ax.plot(epochs, shown, label=type(model).__name__)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (MSE)")
    ax.set_title(f"{type(model).__name__}: {losses.size} epochs, final loss {losses[-1]:.4g}")
    ax.grid(True, which="major", alpha=0.3)
    return ax
