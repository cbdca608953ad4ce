"""Imports run one way in the whole of linreg/ (issue 11): no module reaches itself
through the modules it imports, imports inside functions included (they would hide a
circle until run time)."""
import pkgutil

import pytest

import linreg
from _helpers import imported_modules

MODULES = sorted(f"linreg.{info.name}" for info in pkgutil.iter_modules(linreg.__path__))


def imports_of(module):
    return imported_modules(module) & set(MODULES)


def test_the_graph_is_read():
    assert "linreg._compiled" in imports_of("linreg.solvers")
    assert {"linreg._compiled", "linreg._validation"} <= imports_of("linreg.kernels")
    assert "linreg._regressor" in imports_of("linreg.estimators")


@pytest.mark.parametrize("start", MODULES)
def test_no_module_reaches_itself(start):
    seen, todo = set(), list(imports_of(start))
    while todo:
        module = todo.pop()
        assert module != start, f"{start} imports itself through {sorted(seen)}"
        if module not in seen:
            seen.add(module)
            todo.extend(imports_of(module))
