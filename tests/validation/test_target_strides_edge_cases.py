"""Targets whose strides are not whole elements (a float64 field of a packed record
array: 12 bytes apart, unaligned). The kernels step through Y by strides // itemsize
elements, so such a Y was read at the wrong addresses: finite data diverged."""
import numpy as np
import pytest

import linreg
from linreg import kernels


def packed_field(values):
    """`values` (float64) as the field of a packed (float32, float64) record array."""
    records = np.zeros(values.shape[0], dtype=[("tag", "f4"), ("value", "f8")])
    records["value"] = values
    field = records["value"]
    assert field.strides == (12,) and not field.flags.aligned
    return field


@pytest.mark.parametrize("d", [7, 8])
@pytest.mark.parametrize("method", ["fused", "gram"])
def test_targets_with_strides_of_no_whole_element_train_as_a_copy(method, d):
    rng = np.random.default_rng(d)
    X = rng.standard_normal((103, d))
    y = X @ np.arange(1.0, d + 1) + 1.0
    packed = packed_field(y)
    model = linreg.GDRegressor(method=method, epochs=300, n_threads=1).fit(X, packed)
    same = linreg.GDRegressor(method=method, epochs=300, n_threads=1).fit(X, y)
    np.testing.assert_array_equal(model.coef_, same.coef_)
    np.testing.assert_array_equal(model.loss_curve_, same.loss_curve_)


def test_kernels_read_such_targets_as_a_copy():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 8))
    y = rng.standard_normal(50)
    W, b = np.ones(8), np.zeros(1)
    grad_W, grad_b = np.empty(8), np.empty(1)
    want = kernels.loss_and_grad(X, y, W, b, grad_W, grad_b, n_threads=1)
    assert kernels.loss_and_grad(X, packed_field(y), W, b, grad_W, grad_b,
                                 n_threads=1) == want
    assert kernels.gram_statistics(X, packed_field(y)).yy == kernels.gram_statistics(X, y).yy
