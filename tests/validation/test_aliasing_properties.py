"""Property test (hypothesis): the kernels' arguments drawn as views of one buffer.

Every array argument of a writing kernel is either its own array or a view at a random
offset into one shared buffer (inputs X, Y and order sometimes every other row, so that
their bytes interleave with others'). Whatever the draw, exactly one of these holds:

- some output shares a byte with another argument: the call raises ValueError and the
  buffer (every argument) is left as it was;
- nothing that is written overlaps anything else: the call succeeds, no input changes,
  and no byte outside the outputs changes (no write lands anywhere else).

So a missed overlap fails, and so does a false alarm on views that only interleave.
"""
import contextlib
import importlib

import numpy as np
from hypothesis import event, given, note, settings
from hypothesis import strategies as st

from linreg import _compiled
from _aliasing_cases import FUNCS, K, call, fill, nbytes, specs
from _helpers import IMPLS

MODULES = [importlib.import_module(f"linreg._kernels_{name}") for name in IMPLS]
# Inputs that may have any layout (the others must be C-contiguous: `order` is used in
# place by sgd_epochs, so only sgd_epoch takes a strided one).
STRIDABLE = {"X", "Y"}


@contextlib.contextmanager
def using(module):
    saved = _compiled.build
    _compiled.build = module
    try:
        yield
    finally:
        _compiled.build = saved


@st.composite
def arguments(draw):
    """(func, dtype, k, arrays, buffer) with arrays placed at random in `buffer`."""
    func = draw(st.sampled_from(FUNCS))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    k = draw(st.sampled_from([None, K]))
    spec = specs(func, dtype, k)
    total = sum(2 * nbytes(s) for s in spec.values())
    size = draw(st.integers(total // 4, 2 * total)) // 8 * 8 + 8
    buffer = np.zeros(size, dtype=np.uint8)
    arrays = {}
    for name, (shape, item_dtype, role) in spec.items():
        item_dtype = np.dtype(item_dtype)
        stridable = name in STRIDABLE or (name == "order" and func == "sgd_epoch")
        step = draw(st.sampled_from([1, 2])) if stridable else 1
        full_shape = (shape[0] * step,) + tuple(shape[1:])
        size_needed = int(np.prod(full_shape)) * item_dtype.itemsize
        if draw(st.booleans()) and size_needed <= size:
            slot = draw(st.integers(0, (size - size_needed) // item_dtype.itemsize))
            whole = np.ndarray(full_shape, dtype=item_dtype, buffer=buffer,
                               offset=slot * item_dtype.itemsize)
        else:
            whole = np.zeros(full_shape, dtype=item_dtype)
        arrays[name] = whole[::step]
    fill(func, arrays, dtype, k)
    return func, dtype, k, arrays, buffer


def written_bytes(arrays, outputs, buffer):
    """A mask of the bytes of `buffer` that the outputs cover (their whole extent)."""
    mask = np.zeros(buffer.shape, dtype=bool)
    start = buffer.__array_interface__["data"][0]
    for name in outputs:
        a = arrays[name]
        low, high = np.byte_bounds(a) if hasattr(np, "byte_bounds") else \
            np.lib.array_utils.byte_bounds(a)
        if start <= low < start + buffer.size:
            mask[low - start:high - start] = True
    return mask


@settings(max_examples=400)
@given(drawn=arguments(), module=st.sampled_from(MODULES))
def test_writes_never_land_on_another_argument(drawn, module):
    func, dtype, k, arrays, buffer = drawn
    roles = specs(func, dtype, k)
    outputs = [name for name in arrays if roles[name][2] == "out"]
    overlapping = [
        (out, other) for i, out in enumerate(outputs) for other in arrays
        if other != out and (other not in outputs or outputs.index(other) > i)
        and np.shares_memory(arrays[out], arrays[other])  # exact
    ]
    note(f"{func} {np.dtype(dtype)} k={k} overlapping={overlapping}")
    event("overlap" if overlapping else "no overlap")
    buffer_before = buffer.copy()
    inputs_before = {name: arrays[name].copy() for name in arrays if name not in outputs}
    with using(module):
        try:
            call(func, arrays, dtype, k)
        except ValueError as error:
            assert overlapping, f"refused arguments that share no memory: {error}"
            np.testing.assert_array_equal(buffer, buffer_before)
            return
    assert not overlapping, f"{func} accepted overlapping arguments {overlapping}"
    for name, before in inputs_before.items():
        np.testing.assert_array_equal(arrays[name], before, err_msg=f"{name} was modified")
    outside = ~written_bytes(arrays, outputs, buffer)
    np.testing.assert_array_equal(buffer[outside], buffer_before[outside])
