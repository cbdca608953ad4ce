"""The compiled entry points stay small: settings travel as one struct, so adding an
optimizer adds a field, never an argument (issue 11: at most 8 parameters each)."""
import inspect

import pytest

from _helpers import IMPLS
import linreg._compiled

MAX_PARAMETERS = 8


def entry_points(module):
    return {name: getattr(module, name) for name in dir(module)
            if not name.startswith("_") and callable(getattr(module, name))
            and type(getattr(module, name)).__name__.endswith(("function", "method"))}


@pytest.mark.parametrize("build", IMPLS)
def test_every_compiled_entry_point_takes_at_most_8_parameters(build):
    module = linreg._compiled.load_build(build)
    found = entry_points(module)
    assert {"gd_epochs", "gd_epochs_gram", "sgd_epochs", "loss_and_grad"} <= set(found)
    counts = {name: len(inspect.signature(f).parameters) for name, f in found.items()}
    assert max(counts.values()) <= MAX_PARAMETERS, counts
