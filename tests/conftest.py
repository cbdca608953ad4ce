"""Shared fixtures for the tests of the compiled kernels (data makers: _helpers.py).

The tests import the installed package (pytest runs with --import-mode=importlib, so the
source tree is not on sys.path). Every kernel test takes the `impl` fixture, which runs it
once per compiled variant ("generic" always, "avx2" when the CPU and the build have it)
by pointing `linreg._compiled.build` at that variant.
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
    # (test_properties.py then runs ten times as many), to hunt for new failures locally.
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


# Queries and checks, not kernel calls on the data.
NOT_RECORDED = {"all_finite", "openmp_max_threads", "built_with_openmp", "cpu_has_avx2_fma"}


class RecordingKernels:
    """Stands in for a compiled module: records the arguments of every kernel call (not
    of the queries in NOT_RECORDED), then delegates."""

    def __init__(self, module):
        self._module = module
        self.calls = []

    def __getattr__(self, name):
        target = getattr(self._module, name)
        if not callable(target) or name in NOT_RECORDED:
            return target

        def wrapper(*args):
            self.calls.append((name, args))
            return target(*args)

        return wrapper


@pytest.fixture
def recorder(impl, monkeypatch):
    """Like `impl`, but wrapped so that the arguments passed down can be inspected."""
    rec = RecordingKernels(impl)
    monkeypatch.setattr(linreg._compiled, "build", rec)
    return rec
