"""The estimators' three modules import one way: estimators -> _regressor -> _options.

linreg.estimators holds the public classes, linreg._regressor their shared base class,
linreg._options the checks of their parameters; nothing lower imports anything higher,
not even inside a function (which would hide an import circle until run time).
"""
import pytest

import linreg.estimators
from _helpers import imported_modules

LAYERS = ["linreg.estimators", "linreg._regressor", "linreg._options"]


@pytest.mark.parametrize("lower, higher", [(LAYERS[i], LAYERS[j])
                                           for i in range(3) for j in range(i)])
def test_a_lower_layer_never_imports_a_higher_one(lower, higher):
    assert higher not in imported_modules(lower)


@pytest.mark.parametrize("higher, lower", [(LAYERS[0], LAYERS[1]), (LAYERS[1], LAYERS[2])])
def test_each_layer_builds_on_the_next(higher, lower):
    assert lower in imported_modules(higher)


def test_the_public_classes_still_live_in_linreg_estimators():
    assert linreg.estimators.__all__ == ["GDRegressor", "SGDRegressor", "choose_method"]
    for name in ("GDRegressor", "SGDRegressor", "choose_method"):
        assert getattr(linreg.estimators, name).__module__ == "linreg.estimators"
    assert linreg.GDRegressor is linreg.estimators.GDRegressor
    assert linreg.SGDRegressor is linreg.estimators.SGDRegressor
