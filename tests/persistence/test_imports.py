"""Imports run one way: persistence -> estimators -> _model_file -> _safe_npz, and the
format layer (_model_file and its bounded reader _safe_npz) imports nothing else from
linreg; no import inside a function closes a circle."""
import pkgutil

import pytest

import linreg
from _helpers import imported_modules

SUBMODULES = {f"linreg.{info.name}" for info in pkgutil.iter_modules(linreg.__path__)}


def linreg_imports(module_name):
    """The linreg submodules `module_name` imports anywhere in its source, functions
    included (`from linreg import x` counts as importing linreg.x, not the package)."""
    return imported_modules(module_name) & SUBMODULES


def reachable(start):
    seen, todo = set(), [start]
    while todo:
        for name in linreg_imports(todo.pop()) - seen:
            seen.add(name)
            todo.append(name)
    return seen


def test_the_model_file_format_imports_nothing_from_linreg():
    assert {"linreg._model_file", "linreg._safe_npz"} <= SUBMODULES
    assert linreg_imports("linreg._model_file") == {"linreg._safe_npz"}
    assert linreg_imports("linreg._safe_npz") == set()


@pytest.mark.parametrize("module", ["linreg.estimators", "linreg._regressor", "linreg._options",
                                    "linreg._model_file", "linreg._safe_npz"])
def test_nothing_below_persistence_imports_it(module):
    assert "linreg.persistence" not in reachable(module)


def test_persistence_builds_on_the_estimators_and_the_format():
    assert {"linreg.estimators", "linreg._model_file"} <= linreg_imports("linreg.persistence")
    # The estimators' base class (linreg._regressor) writes model files.
    assert "linreg._regressor" in linreg_imports("linreg.estimators")
    assert "linreg._model_file" in linreg_imports("linreg._regressor")
