"""The Examples sections of linreg's docstrings run, and print what they say."""
import doctest
import importlib

import pytest

MODULES = ["linreg.estimators", "linreg.kernels", "linreg.persistence", "linreg.reference"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    failed, attempted = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert failed == 0
    if name == "linreg.estimators":
        assert attempted >= 10
