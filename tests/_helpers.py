"""Data makers and comparison helpers shared by the test modules (not a test module).

conftest.py puts this directory on sys.path so that the tests can `import _helpers`;
only this directory is added, never the repository root, so `import linreg` still finds
the installed package.
"""
import ctypes
import importlib
import mmap
from pathlib import Path
from typing import NamedTuple

import numpy as np

import linreg._kernels_generic


def available_impls():
    """Names of the compiled variants this machine can run, narrowest first."""
    names = ["generic"]
    for name, check in (("avx2", "cpu_has_avx2_fma"), ("avx512", "cpu_has_avx512")):
        if getattr(linreg._kernels_generic, check)():
            try:
                importlib.import_module(f"linreg._kernels_{name}")
            except ImportError:
                continue
            names.append(name)
    return names


#: The compiled variants under test: "generic", and "avx2" and "avx512" where they can run.
IMPLS = available_impls()


def param_shapes(d, k):
    """(W shape, b shape) for n_features d and k outputs (None: 1-D targets)."""
    if k is None:
        return (d,), (1,)
    return (d, k), (k,)


def make_problem(n, d, k, dtype, seed=0):
    """A random problem (X, Y, W, b) in `dtype`, with O(1) residuals at W, b.

    k None gives 1-D Y and W. The targets come from a random linear model plus noise and
    an offset, so the residuals at the (random, small) starting W, b do not cancel.
    """
    rng = np.random.default_rng(seed)
    w_shape, b_shape = param_shapes(d, k)
    X = rng.standard_normal((n, d))
    W_true = rng.standard_normal(w_shape) / np.sqrt(d)
    y_shape = (n,) if k is None else (n, k)
    Y = X @ W_true + 0.5 + 0.3 * rng.standard_normal(y_shape)
    W = 0.1 * rng.standard_normal(w_shape)
    b = 0.1 * rng.standard_normal(b_shape)
    return tuple(np.ascontiguousarray(a, dtype=dtype) for a in (X, Y, W, b))


def stable_lr(d, k):
    """A learning rate for which GD and per-sample SGD on make_problem data contract."""
    return 0.1 * (1 if k is None else k) / (d + 1)


def stable_lr_for(W):
    """stable_lr for the shape of W: (d,) or (d, k)."""
    return stable_lr(W.shape[0], None if W.ndim == 1 else W.shape[1])


def tolerance(dtype):
    """The relative tolerance of kernel-vs-reference comparisons for `dtype`."""
    return 1e-12 if np.dtype(dtype) == np.float64 else 1e-5


def assert_close(actual, expected, dtype, err_msg=""):
    """assert_allclose at `tolerance(dtype)`, with atol scaled to max|expected|.

    The absolute part matters for gradient entries, which can cancel to near zero.
    """
    rtol = tolerance(dtype)
    expected = np.asarray(expected, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64)
    assert actual.shape == expected.shape, (actual.shape, expected.shape, err_msg)
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, err_msg=err_msg)


class KernelProblem(NamedTuple):
    """What the kernel contract (kernels/conftest.py) hands a test: the compiled build in
    use (already installed as `linreg._compiled.build`) and the arrays (X, Y in the
    layout under test; W, b C-contiguous, in X's dtype)."""

    build: object
    X: np.ndarray
    Y: np.ndarray
    W: np.ndarray
    b: np.ndarray

    @property
    def dtype(self):
        return self.W.dtype


def reference_dtypes(dtype):
    """The dtypes the reference runs in to check a kernel in `dtype`: the same, and for
    float32 also float64 (the kernels accumulate in double, so they must be close to
    both)."""
    return [np.dtype(dtype)] + ([np.dtype(np.float64)] if np.dtype(dtype) == np.float32 else [])


def assert_matches_reference(run, problem, err_msg=""):
    """Run `run(module, X, Y, W, b)` with `linreg.reference` and with `linreg.kernels`,
    and assert that every output agrees: exactly for integers (counts, row orders,
    generator states), at `tolerance(problem.dtype)` for floats.

    Parameters
    ----------
    run : callable(module, X, Y, W, b) -> dict of name: value
        Calls `module.<kernel>` (the two modules have the same signatures) and returns
        what to compare: return values, output buffers, the updated W and b.
    problem : KernelProblem
        The reference runs first, on C-contiguous copies of X, Y, W, b in each of
        `reference_dtypes(problem.dtype)`; then the kernels run on the problem's own
        arrays (their layout, read-only flags, ...), so W and b, if trained, end up
        updated in place as in a caller's code.
    err_msg : str
        Prefixed to the failure messages.

    Returns
    -------
    dict
        The kernels' outputs, for further checks (their dtype, say).

    X and Y must come back unmodified from the kernels (bytes, strides and flags).
    """
    import linreg.kernels
    import linreg.reference

    expected = []
    for ref_dtype in reference_dtypes(problem.dtype):
        copies = (np.array(a, dtype=ref_dtype, order="C") for a in problem[1:])
        expected.append((ref_dtype.name, run(linreg.reference, *copies)))
    before = (snapshot(problem.X), snapshot(problem.Y))
    actual = run(linreg.kernels, problem.X, problem.Y, problem.W, problem.b)
    assert (snapshot(problem.X), snapshot(problem.Y)) == before, f"{err_msg}: X or Y modified"
    for label, outputs in expected:
        assert actual.keys() == outputs.keys()
        for name, value in outputs.items():
            what = f"{err_msg} {name} vs the {label} reference".strip()
            if np.asarray(value).dtype.kind in "biu":  # counts, row orders, generator states
                np.testing.assert_array_equal(actual[name], value, err_msg=what)
            else:
                assert_close(actual[name], value, problem.dtype, what)
    return actual


def as_float64(*arrays):
    """float64 copies: the reference run in double on the same (float32) data."""
    return tuple(np.array(a, dtype=np.float64) for a in arrays)


def fused_pass(X, Y, W, b, sample_weight=None, n_threads=1):
    """(loss, grad_W, grad_b) of one `kernels.loss_and_grad` call into fresh buffers."""
    from linreg import kernels

    gW, gb = np.empty_like(W), np.empty_like(b)
    loss = kernels.loss_and_grad(X, Y, W, b, gW, gb, sample_weight=sample_weight,
                                 n_threads=n_threads)
    return loss, gW, gb


def float64_truth(X, Y, W, b, sample_weight=None):
    """(loss, grad_W, grad_b, predictions) of linreg.reference in float64 on the
    float64 values of the data: the truth a float32 or float64 pass is held to."""
    from linreg import reference

    X, Y, W, b = as_float64(X, Y, W, b)
    gW, gb = np.empty_like(W), np.empty_like(b)
    loss = reference.loss_and_grad(X, Y, W, b, gW, gb, sample_weight=sample_weight)
    return loss, gW, gb, reference.predict(X, W, b)


def pass_tolerance(dtype, d):
    """Relative error a pass over X (d columns) may have against the float64 truth: a few
    roundings of the dtype per term of a row's sum (float32 sums a row's products in
    float32)."""
    return 1e-12 if dtype == np.float64 else 4e-6 * max(1.0, np.sqrt(d))


def uneven_weights(n, seed=1):
    """Sample weights in [0, 3), every seventh row's 0 (it counts for nothing), the
    first row's 1.5 (at least one row counts)."""
    w = np.random.default_rng(seed).uniform(0.0, 3.0, n)
    w[::7] = 0.0
    w[0] = 1.5
    return w


def assert_close_scaled(got, want, rtol, what):
    """got == want in float64 within rtol, relative to want or to its largest value."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(want))))
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale, err_msg=what)


class GuardedArray:
    """A copy of `values` (C order) whose last element is the last before a page that
    may not be read (Linux: mmap + mprotect), so that a kernel reading past it stops
    the process (SIGSEGV). `.array` is the copy; keep this object alive while it is used."""

    def __init__(self, values):
        page = mmap.PAGESIZE
        size = values.nbytes
        data_pages = -(-size // page)
        self._map = mmap.mmap(-1, (data_pages + 1) * page)
        base = ctypes.addressof(ctypes.c_char.from_buffer(self._map))
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        if libc.mprotect(ctypes.c_void_p(base + data_pages * page), page, 0) != 0:
            raise OSError(ctypes.get_errno(), "mprotect failed")
        self.array = np.frombuffer(self._map, dtype=values.dtype, count=values.size,
                                   offset=data_pages * page - size).reshape(values.shape)
        self.array[...] = values


def make_readonly(*arrays):
    for a in arrays:
        a.flags.writeable = False
    return arrays


# -- helpers of the hardening tests (issue 6) ----------------------------------------------

#: Memory layouts every entry point must accept for X (and Y): C order, Fortran order,
#: every other row, every other column, and both axes reversed (negative strides).
LAYOUTS = ["C", "F", "row-strided", "col-strided", "negative-stride"]


def in_layout(A, layout):
    """A view holding the values of A (1-D or 2-D) in `layout`; the view shares no memory
    with A. 1-D arrays have no Fortran order or columns: "F" gives a contiguous copy and
    "col-strided" the same as "row-strided"."""
    A = np.asarray(A)
    if layout == "C":
        return np.array(A, order="C")
    if layout == "F":
        return np.array(A, order="F")
    if layout == "row-strided" or (layout == "col-strided" and A.ndim == 1):
        big = np.zeros((2 * A.shape[0],) + A.shape[1:], dtype=A.dtype)
        big[::2] = A
        return big[::2]
    if layout == "col-strided":
        big = np.zeros((A.shape[0], 2 * A.shape[1]), dtype=A.dtype)
        big[:, ::2] = A
        return big[:, ::2]
    if layout == "negative-stride":
        flip = (slice(None, None, -1),) * A.ndim
        return A[flip].copy()[flip]
    raise ValueError(f"unknown layout {layout!r}")


def snapshot(a):
    """Everything observable about an input: for an ndarray its bytes, dtype, shape,
    strides and flags, plus the bytes of the whole buffer it views (so that writes into
    the gaps of a strided view are seen too); for anything else a deep copy."""
    import copy

    if not isinstance(a, np.ndarray):
        return ("object", type(a), copy.deepcopy(a))
    base = a
    while isinstance(base.base, np.ndarray):
        base = base.base
    return (
        "ndarray",
        a.dtype.str,
        a.shape,
        a.strides,
        a.flags.writeable,
        a.flags.c_contiguous,
        a.flags.f_contiguous,
        a.tobytes(order="A"),
        base.tobytes(order="A") if base is not a else None,
    )


# -- the seed tutorial ---------------------------------------------------------------------

SEED_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "seed"

# The first ten lines of the seed's expected-output.txt (PyTorch 2.13, CPU).
SEED_EPOCH_LINES = [
    "Epoch [100/1000], W: 2.618, b: 0.869, Loss: 0.1089",
    "Epoch [200/1000], W: 2.699, b: 0.683, Loss: 0.0673",
    "Epoch [300/1000], W: 2.764, b: 0.537, Loss: 0.0416",
    "Epoch [400/1000], W: 2.814, b: 0.422, Loss: 0.0257",
    "Epoch [500/1000], W: 2.854, b: 0.332, Loss: 0.0159",
    "Epoch [600/1000], W: 2.885, b: 0.261, Loss: 0.0098",
    "Epoch [700/1000], W: 2.910, b: 0.205, Loss: 0.0061",
    "Epoch [800/1000], W: 2.929, b: 0.161, Loss: 0.0037",
    "Epoch [900/1000], W: 2.944, b: 0.127, Loss: 0.0023",
    "Epoch [1000/1000], W: 2.956, b: 0.100, Loss: 0.0014",
]
# Its last line: the prediction for x = 10 after training.
SEED_PREDICTION_AT_10 = 29.661359786987305


def linear_data(k=None, dtype=np.float64, seed=0, n=30, d=4, noise=0.1):
    """(X, y) with a linear signal plus an offset and noise of scale `noise`; k None: 1-D y."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W = rng.standard_normal((d,) if k is None else (d, k))
    y = X @ W + 0.5 + noise * rng.standard_normal((n,) if k is None else (n, k))
    return X.astype(dtype), y.astype(dtype)


def small_model(Estimator, **params):
    """A small, reproducible model: 3 epochs, a fixed seed for SGD."""
    defaults = {"epochs": 3}
    if Estimator is linreg.SGDRegressor:
        defaults["random_state"] = 0
    defaults.update(params)
    return Estimator(**defaults)


def imported_modules(module_name):
    """Every module `module_name` imports anywhere in its source, functions included
    (`from a import b` counts as importing a and a.b); empty for a compiled module."""
    import ast
    import importlib.util

    origin = importlib.util.find_spec(module_name).origin
    if not origin.endswith(".py"):
        return set()
    with open(origin, encoding="utf-8") as file:
        tree = ast.parse(file.read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found
