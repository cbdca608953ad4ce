"""linreg: train y = XW + b on mean squared error by gradient descent, fast.

- `GDRegressor`, `SGDRegressor`: scikit-learn-style estimators (full-batch and stochastic).
- `save(model, path)` (or `model.save(path)`), `load(path)`: portable model files
  (no code runs on loading).
- `linreg.kernels`: the compiled, checked kernels they run on.
- `linreg.reference`: plain-NumPy twins of those kernels.
- `plot_loss_curve(model, ax=None)`: the loss per epoch, log scale (needs matplotlib,
  the optional extra ``linreg[plot]``, imported only when called).
- The `linreg` command (`linreg.cli`): ``linreg demo | fit | predict | bench``.
"""
from linreg import kernels, reference
from linreg.estimators import GDRegressor, SGDRegressor
from linreg.exceptions import (
    ConvergenceWarning,
    DivergenceError,
    NotFittedError,
    WorkerLostError,
)
from linreg.persistence import load, save
from linreg.plotting import plot_loss_curve

__version__ = "0.1.0"

__all__ = [
    "GDRegressor",
    "SGDRegressor",
    "DivergenceError",
    "ConvergenceWarning",
    "NotFittedError",
    "WorkerLostError",
    "load",
    "save",
    "plot_loss_curve",
    "kernels",
    "reference",
    "__version__",
]
