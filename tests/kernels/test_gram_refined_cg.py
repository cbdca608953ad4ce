"""The reference point of wide, short data from conjugate gradients refined in double
around float32 steps (linreg._reference_cg._refined_conjugate_gradients, from
MIXED_CG_MIN_FEATURES features): the same test on its residual as the double steps."""
import numpy as np
import pytest

from linreg import kernels
from linreg._reference_cg import MIXED_CG_MIN_FEATURES, _refined_conjugate_gradients


def _spd(d, n, seed, condition=None):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, d)) * rng.uniform(0.1, 10, d)
    if condition is not None:  # columns nearly dependent: a tiny smallest eigenvalue
        A[:, 1] = A[:, 0] + A[:, 1] / condition
    return A.T @ A, rng


@pytest.mark.parametrize("tolerance", [1e-7, 1e-10, 1e-12])
def test_refined_steps_meet_the_tolerance_in_double(tolerance):
    d = MIXED_CG_MIN_FEATURES + 8
    XtX, rng = _spd(d, 3 * d, seed=1)
    B = XtX @ rng.standard_normal((d, 2))
    B[:, 1] = 0.0  # a zero column: solved at once
    root = 1 / np.sqrt(XtX.diagonal())
    got = _refined_conjugate_gradients(XtX, B, root, tolerance)
    assert got is not None
    assert np.all(got[:, 1] == 0.0)
    residual = root * (B[:, 0] - XtX @ got[:, 0])
    assert np.linalg.norm(residual) <= tolerance * np.linalg.norm(root * B[:, 0])


def test_refined_steps_give_up_on_a_matrix_float32_cannot_hold():
    # Condition ~1e14 on the correlation scale: float32 rounding of the matrix hides the
    # small eigenvalue, so the double residual cannot reach 1e-10: None, and the caller
    # solves.
    d = MIXED_CG_MIN_FEATURES
    XtX, rng = _spd(d, 2 * d, seed=2, condition=1e7)
    B = XtX @ rng.standard_normal((d, 1))
    root = 1 / np.sqrt(XtX.diagonal())
    got = _refined_conjugate_gradients(XtX, B, root, 1e-10)
    if got is not None:  # converged after all: then it must meet the test
        residual = root * (B[:, 0] - XtX @ got[:, 0])
        assert np.linalg.norm(residual) <= 1e-10 * np.linalg.norm(root * B[:, 0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_wide_reference_point_from_refined_steps(dtype):
    # d > 0.15 n: the point comes from conjugate gradients, here the refined ones.
    rng = np.random.default_rng(3)
    n, d = 1500, MIXED_CG_MIN_FEATURES + 8
    X = (rng.standard_normal((n, d)) + rng.uniform(-3, 3, d)).astype(dtype)
    y = (X @ rng.standard_normal(d) + rng.standard_normal(n)).astype(dtype)
    one = kernels.gram_statistics(X, y, n_threads=1)
    two = kernels.gram_statistics(X, y, n_threads=2)
    for name in ("XtX", "XtY", "ref_W", "ref_grad"):
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name), err_msg=name)
    root = 1 / np.sqrt(one.XtX.diagonal())
    want = root[:, None] * np.linalg.solve(one.XtX * np.outer(root, root),
                                           root[:, None] * one.XtY)
    tolerance = 1e-8 if dtype == np.float64 else 1e-5
    assert np.abs(one.ref_W - want).max() <= tolerance * np.abs(want).max()
