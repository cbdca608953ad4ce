"""`linreg._validation.all_finite`: the NaN/infinity check behind every input check.

For C-contiguous float32/float64 arrays it runs the compiled all_finite, which reads the
array as one run in blocks of 4096 entries; other arrays go through np.isfinite. A single
NaN, +inf or -inf must be found wherever it is: first, middle, last, either side of a
block's end, and in runs shorter than a SIMD vector (which only a scalar loop sees). The tests of the compiled path run on every build
(`impl`): each has its own SIMD loops.
"""
import itertools

import numpy as np
import pytest

import linreg.kernels
from linreg._validation import all_finite

DTYPES = [np.float32, np.float64]
SHAPES = [
    (1,), (5,), (33,),          # 1-D: rows of one entry
    (1, 1), (4, 1),             # one column
    (1, 3), (3, 3),             # rows shorter than a vector of either dtype
    (2, 4), (5, 8), (3, 9),     # whole vectors, and whole vectors plus a tail
    (2, 33), (1, 70),           # long rows
    (2, 3, 4),                  # 3-D: rows of 12
    (4097,), (3, 2731),         # one block of 4096 entries and a little more
]
VALUES = {"nan": np.nan, "inf": np.inf, "-inf": -np.inf}


def _positions(size):
    return {"first": 0, "middle": size // 2, "last": size - 1,
            "block end": min(4095, size - 1), "block start": min(4096, size - 1)}


def cases():
    for dtype, shape, value in itertools.product(DTYPES, SHAPES, VALUES):
        size = int(np.prod(shape))
        for position, flat in _positions(size).items():
            yield pytest.param(
                dtype, shape, VALUES[value], flat,
                id=f"{np.dtype(dtype).name}-{'x'.join(map(str, shape))}-{value}-{position}",
            )


def test_is_the_validation_function():
    assert linreg.kernels.all_finite is all_finite


@pytest.mark.parametrize(("dtype", "shape", "value", "flat"), list(cases()))
def test_finds_a_single_non_finite_entry(impl, dtype, shape, value, flat):
    array = np.ones(shape, dtype=dtype)
    array.reshape(-1)[flat] = value
    before = array.tobytes()
    assert all_finite(array) is False
    assert array.tobytes() == before


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_finite_arrays_pass(impl, dtype, shape):
    rng = np.random.default_rng(50)
    info = np.finfo(dtype)
    array = rng.standard_normal(shape).astype(dtype)
    extremes = np.array([info.max, -info.max, info.tiny, info.smallest_subnormal, -0.0, 0.0],
                        dtype=dtype)
    flat = array.reshape(-1)
    flat[: min(flat.size, extremes.size)] = extremes[: flat.size]
    assert all_finite(array) is True


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("value", list(VALUES.values()), ids=list(VALUES))
@pytest.mark.parametrize(
    "view",
    [
        pytest.param(lambda a: np.asfortranarray(a), id="fortran"),
        pytest.param(lambda a: a[:, ::2], id="column-strided"),
        pytest.param(lambda a: a[::-1], id="negative-stride"),
    ],
)
def test_non_contiguous_arrays(dtype, value, view):
    base = np.ones((6, 20), dtype=dtype)
    for i, j in [(0, 0), (3, 4), (5, 8)]:
        array = view(base.copy())
        assert all_finite(array) is True
        array[i, j] = value
        assert all_finite(array) is False


@pytest.mark.parametrize("dtype", [np.float16, np.int64, np.bool_],
                         ids=["float16", "int64", "bool"])
def test_other_dtypes(dtype):
    array = np.ones((3, 5), dtype=dtype)
    assert all_finite(array) is True
    if dtype == np.float16:
        array[1, 2] = np.nan
        assert all_finite(array) is False


@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0)])
def test_empty_arrays_are_finite(shape):
    assert all_finite(np.empty(shape)) is True
