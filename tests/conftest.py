"""Fixtures for every test folder (data makers and comparisons: _helpers.py).

The tests import the installed package (pytest runs with --import-mode=importlib, so the
source tree is not on sys.path). This directory, and only it, is put on sys.path so that
test modules in any folder can `import _helpers` (and `_strategies`). A test that takes
the `impl` fixture runs once per compiled variant ("generic" always, "avx2" and "avx512"
when the CPU and the build have them), with `linreg._compiled.build` pointed at that variant. The kernel
tests' contract (build x dtype x layout x targets) is in kernels/conftest.py.
"""
import importlib
import os
import sys
from pathlib import Path

import pytest

import linreg._compiled
import linreg.kernels

# Let the test modules `import _helpers` (this directory only, not the repository root).
_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

from _helpers import IMPLS  # noqa: E402  (needs the sys.path entry above)

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # pragma: no cover - hypothesis is in the `test` extra
    pass
else:
    # "ci" (the default): derandomized, so every run tries the same examples, and no
    # example database on disk. "explore" (HYPOTHESIS_PROFILE=explore): random examples
    # (the test_properties.py files then run ten times as many), to hunt for new failures
    # locally.
    _COMMON = dict(deadline=None, print_blob=True,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    settings.register_profile("ci", derandomize=True, database=None, **_COMMON)
    settings.register_profile("explore", derandomize=False, **_COMMON)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(params=IMPLS)
def impl(request, monkeypatch):
    """The compiled module under test, installed as `linreg._compiled.build`."""
    module = importlib.import_module(f"linreg._kernels_{request.param}")
    monkeypatch.setattr(linreg._compiled, "build", module)
    return module
