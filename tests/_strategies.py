"""Hypothesis strategies shared by the property tests (kernels/test_properties.py and
estimators/test_properties.py): random problems of any shape, dtype, memory layout and
magnitude, sometimes with one NaN or infinity.

Not a test module; conftest.py puts this directory on sys.path, so test modules in any
folder can `from _strategies import problems`.
"""
import os
import types
import warnings

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import note
from hypothesis import strategies as st

from _helpers import LAYOUTS, in_layout

#: HYPOTHESIS_PROFILE=explore runs ten times as many examples (see conftest.py).
SCALE = 10 if os.environ.get("HYPOTHESIS_PROFILE") == "explore" else 1

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
#: The dtypes X and Y are drawn in (W and b are in the working dtype, float32 or float64).
DTYPES = [np.dtype(t) for t in (np.float32, np.float64, np.int64, np.bool_)]

# Powers of ten spanned by (X, W and b, Y), per working dtype: wide, yet the exact loss,
# gradients and predictions stay well inside the dtype's range (see the overflow tests).
SAFE_EXPONENTS = {F32: ((-6, 6), (-4, 4), (-8, 8)), F64: ((-60, 60), (-30, 30), (-90, 90))}
HUGE_EXPONENTS = {F32: ((0, 36), (0, 36), (0, 36)), F64: ((0, 300), (0, 300), (0, 300))}

SPECIAL_TARGETS = [None] * 6 + ["X", "X", "Y", "Y", "W", "b"]


def examples(n):
    return n * SCALE


def working_dtype(dtype):
    return F32 if np.dtype(dtype) == F32 else F64


def draw_values(draw, shape, dtype, exponent_range):
    """An array of `dtype`: bools, integers up to 2**40, or floats m * 10**e (|m| <= 1,
    one exponent e per array, optionally spread over the columns by up to 10**+-2)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return draw(hnp.arrays(np.bool_, shape))
    if dtype.kind == "i":
        bits = draw(st.integers(0, 40))
        return draw(hnp.arrays(np.int64, shape, elements=st.integers(-(2**bits), 2**bits)))
    mantissas = draw(hnp.arrays(
        np.float64, shape,
        elements=st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False, allow_subnormal=False),
    ))
    low, high = exponent_range
    if dtype == F32:  # a float32 Y for float64 X: within float32's own range
        low, high = max(low, -36), min(high, 36)
    exponent = draw(st.integers(low, high))
    if len(shape) == 2 and draw(st.booleans()):
        spread = draw(hnp.arrays(np.int64, (shape[1],), elements=st.integers(-2, 2)))
        mantissas = mantissas * 10.0 ** spread
    with np.errstate(over="ignore", under="ignore"):
        return (mantissas * 10.0**exponent).astype(dtype)


@st.composite
def problems(draw, exponents=SAFE_EXPONENTS, specials=True, params=True, max_n=40):
    """X, Y (and W, b) of random shape, dtype, layout and magnitude; sometimes one NaN or
    infinity in X, Y, W or b. Returns a namespace with the arrays as passed (`X`, `Y`,
    `W`, `b`), their validated versions (`Xv`, `Yv`) and what was injected (`special`)."""
    n = draw(st.integers(1, max_n))
    d = draw(st.integers(1, 12))
    k = draw(st.sampled_from([None, 1, 3]))
    x_dtype = draw(st.sampled_from(DTYPES))
    y_dtype = draw(st.sampled_from(DTYPES))
    wdt = working_dtype(x_dtype)
    ex, ew, ey = exponents[wdt]
    X = draw_values(draw, (n, d), x_dtype, ex)
    Y = draw_values(draw, (n,) if k is None else (n, k), y_dtype, ey)
    W = b = None
    if params:
        W = draw_values(draw, (d,) if k is None else (d, k), wdt, ew)
        b = draw_values(draw, (1 if k is None else k,), wdt, ew)
    special = None
    target = draw(st.sampled_from(SPECIAL_TARGETS)) if specials else None
    arrays = {"X": X, "Y": Y, "W": W, "b": b}
    if target is not None and arrays[target] is not None and arrays[target].dtype.kind == "f":
        value = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
        flat = draw(st.integers(0, arrays[target].size - 1))
        arrays[target].reshape(-1)[flat] = value
        special = (target, value, flat)
    x_layout = draw(st.sampled_from(LAYOUTS))
    y_layout = draw(st.sampled_from(LAYOUTS))
    note(f"n={n} d={d} k={k} X {x_dtype}/{x_layout} Y {y_dtype}/{y_layout} special={special}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # float64 -> float32 overflow
        Yv = Y.astype(wdt)
    return types.SimpleNamespace(
        n=n, d=d, k=k, wdt=wdt, special=special,
        X=in_layout(X, x_layout), Y=in_layout(Y, y_layout), W=W, b=b,
        Xv=np.ascontiguousarray(X, dtype=wdt), Yv=Yv,
        x_layout=x_layout, y_layout=y_layout,
    )


def stable_lr(p, c):
    """lr = c / (1 + max_i |x_i|^2): non-expansive steps for c <= 0.5 (see the top)."""
    return c / (1.0 + float((p.Xv.astype(np.float64) ** 2).sum(axis=1).max()))
