"""linreg: train y = XW + b on mean squared error by gradient descent, fast.

`linreg.kernels` holds the compiled, checked kernels; `linreg.reference` their
plain-NumPy twins.
"""
from linreg import kernels, reference

__version__ = "0.1.0"

__all__ = ["kernels", "reference", "__version__"]
