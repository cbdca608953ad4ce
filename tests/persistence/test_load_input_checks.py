"""`linreg.load` guards the compiled kernels too (issue 6): a bad path raises
ValueError or TypeError naming it, and a loaded model checks its input like the original.
"""
import numpy as np
import pytest

import linreg
from _helpers import linear_data, small_model

N, D = 30, 4
ESTIMATORS = [linreg.GDRegressor, linreg.SGDRegressor]
EST_IDS = ["GD", "SGD"]


def data(k=None, dtype=np.float64, seed=0, n=N, d=D):
    """(X, y) with a linear signal; k None gives 1-D y."""
    return linear_data(k=k, dtype=dtype, seed=seed, n=n, d=d)


def new(Estimator, **params):
    """A small, reproducible model: 3 epochs, a fixed seed for SGD."""
    return small_model(Estimator, **params)


def _set(a, index, value):
    """A copy of the float array `a` with a[index] = value."""
    a = np.array(a, copy=True)
    a[index] = value
    return a


@pytest.mark.parametrize("path", [None, 123, 4.5, ["model.npz"]], ids=["None", "int", "float", "list"])
def test_load_refuses_a_path_of_the_wrong_type_by_name(path):
    with pytest.raises(TypeError, match=r"\bpath\b"):
        linreg.load(path)


def test_load_refuses_a_directory_naming_it(tmp_path):
    with pytest.raises(ValueError, match=rf"{tmp_path}.* is not a readable linreg model file"):
        linreg.load(tmp_path)


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=EST_IDS)
def test_a_loaded_model_checks_its_input_like_the_original(tmp_path, Estimator):
    X, y = data()
    new(Estimator).fit(X, y).save(tmp_path / "m")
    model = linreg.load(tmp_path / "m")
    with pytest.raises(ValueError, match=rf"\bX has {D - 1} features.*expecting {D}"):
        model.predict(X[:, 1:])
    with pytest.raises(ValueError, match=r"\bX contains NaN"):
        model.predict(_set(X, (0, 0), np.nan))
    with pytest.raises(ValueError, match=r"\by contains NaN"):
        model.partial_fit(X, _set(y, 0, np.nan))
    linreg.GDRegressor(lr=-1.0).save(tmp_path / "bad")
    with pytest.raises(ValueError, match=r"\blr must be a positive finite number"):
        linreg.load(tmp_path / "bad").fit(X, y)
