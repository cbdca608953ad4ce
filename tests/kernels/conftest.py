"""The contract of the kernel tests: compiled build x dtype x memory layout x targets.

A kernel test that asks for `problem` runs once for every combination of

- `impl`: the compiled build, "generic" and, where the CPU and the build have them,
  "avx2" and "avx512" (from ../conftest.py: it points `linreg._compiled.build` at that build, so calls
  through `linreg.kernels` run on it);
- `dtype`: float32 and float64;
- `layout`: every memory layout of X and Y that _helpers.LAYOUTS names (C order, Fortran
  order, strided rows, strided columns, negative strides);
- `k`: 1-D targets ("y1d"), and 2-D targets with 1 and 3 outputs ("k1", "k3").

and gets a KernelProblem (build, X, Y, W, b). `problem_factory(n, d, seed)` makes one of
another size under the same parametrization. `_helpers.assert_matches_reference` then
runs the same code with linreg.kernels and with linreg.reference (the NumPy twins) and
compares every output at the dtype's tolerance. A test narrows an axis by parametrizing
its name directly, e.g. ``@pytest.mark.parametrize("layout", ["C"])``.
"""
import numpy as np
import pytest

import linreg._compiled
from _helpers import LAYOUTS, KernelProblem, in_layout, make_problem

DTYPES = [np.float32, np.float64]
KS = [None, 1, 3]

# The default problem: two blocks of four rows and a tail of three, and more features
# than a SIMD vector of float64 holds.
N, D = 11, 6


@pytest.fixture(params=DTYPES, ids=lambda t: np.dtype(t).name)
def dtype(request):
    """The dtype of X, Y, W and b."""
    return request.param


@pytest.fixture(params=LAYOUTS)
def layout(request):
    """The memory layout of X and Y (W and b, updated in place, stay C-contiguous)."""
    return request.param


@pytest.fixture(params=KS, ids=lambda k: "y1d" if k is None else f"k{k}")
def k(request):
    """The number of outputs: None for 1-D Y and W, else Y of shape (n, k)."""
    return request.param


@pytest.fixture
def problem_factory(impl, dtype, layout, k):
    """make(n, d, seed=0) -> a KernelProblem of that size on this build, dtype, layout
    and number of outputs (data from _helpers.make_problem: O(1) residuals at W, b)."""

    def make(n, d, seed=0):
        X, Y, W, b = make_problem(n, d, k, dtype, seed=seed)
        return KernelProblem(impl, in_layout(X, layout), in_layout(Y, layout), W, b)

    return make


@pytest.fixture
def problem(problem_factory):
    """A KernelProblem of N x D data on every build x dtype x layout x k."""
    return problem_factory(N, D, seed=N * D)


# -- recording what reaches the compiled build ----------------------------------------

# Queries and checks, not kernel calls on the data.
NOT_RECORDED = {"all_finite", "openmp_max_threads", "built_with_openmp", "cpu_has_avx2_fma",
                "cpu_has_avx512"}


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
