"""The verbose parameter (scikit-learn's name) of both estimators (issue 16): a
parameter like the others, checked at fit, kept by model files, and without effect on
what the fit computes."""
import io

import numpy as np
import pytest

import linreg
from linreg import _progress


@pytest.mark.parametrize("cls", [linreg.GDRegressor, linreg.SGDRegressor])
def test_verbose_is_a_parameter_defaulting_to_0(cls):
    assert cls().get_params()["verbose"] == 0
    assert cls(verbose=2).get_params()["verbose"] == 2
    assert cls().set_params(verbose=1).verbose == 1


@pytest.mark.parametrize("cls", [linreg.GDRegressor, linreg.SGDRegressor])
def test_model_files_keep_verbose(cls, tmp_path):
    model = cls(verbose=3)
    model.save(tmp_path / "m.linreg")
    assert linreg.load(tmp_path / "m.linreg").verbose == 3


@pytest.mark.parametrize("value, error, message", [
    (-1, ValueError, "verbose must be"),
    (1.5, TypeError, "verbose must be an integer"),
    ("yes", TypeError, "verbose must be an integer"),
])
def test_bad_verbose_is_refused_by_name(value, error, message):
    with pytest.raises(error, match=message):
        linreg.GDRegressor(verbose=value).fit([[1.0], [2.0]], [1.0, 2.0])


@pytest.mark.parametrize("cls, params", [
    (linreg.GDRegressor, {"lr": 0.01, "epochs": 300, "method": "fused"}),
    (linreg.SGDRegressor, {"random_state": 0}),
])
def test_verbose_changes_nothing_in_the_fit(cls, params, monkeypatch):
    monkeypatch.setattr(_progress.sys, "stderr", io.StringIO())
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = X @ [1.0, -2.0, 0.5, 3.0] + 0.1 * rng.normal(size=300)
    quiet = cls(**params).fit(X, y)
    loud = cls(verbose=True, **params).fit(X, y)
    np.testing.assert_array_equal(quiet.coef_, loud.coef_)
    np.testing.assert_array_equal(quiet.loss_curve_, loud.loss_curve_)
    assert _progress.sys.stderr.getvalue().startswith(f"{cls.__name__}: epoch ")
