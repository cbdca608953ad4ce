"""The compiled Gram pass for narrow rows: each width up to 16 with a loop of its own for
one output (4-double vectors in the AVX2 build, a row's last partial vector entry by
entry) and the general loop for wider rows and several outputs, on each compiled build
(`impl`), against the NumPy twin, with sample weights (which take the general loop) and
with row counts that leave a tail of 1 to 3 rows after the groups of four.
"""
import numpy as np
import pytest

from linreg import kernels, reference


@pytest.mark.parametrize("n", [4, 1001, 1003])
@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("d", [1, 2, 3, 4, 5, 7, 8, 9, 11, 12, 16, 17])
def test_narrow_gram_statistics_match_the_reference(impl, dtype, d, k, n):
    rng = np.random.default_rng(100 * d + n)
    X = (rng.standard_normal((n, d)) * np.geomspace(0.5, 20, d) + 7.0).astype(dtype)
    Y = (X @ rng.standard_normal((d, k)) + rng.standard_normal((n, k))).astype(dtype)
    for weights in (None, rng.uniform(0.0, 2.0, n)):
        ours = kernels.gram_statistics(X, Y, sample_weight=weights, n_threads=1)
        theirs = reference.gram_statistics(X, Y, sample_weight=weights)
        rtol = 1e-12 if dtype == np.float64 else 1e-6
        for name in ("mean_X", "mean_Y", "XtX", "XtY"):
            want = getattr(theirs, name)
            np.testing.assert_allclose(getattr(ours, name), want, rtol=rtol,
                                       atol=rtol * np.abs(want).max(), err_msg=name)
        assert ours.yy == pytest.approx(theirs.yy, rel=rtol)
        np.testing.assert_array_equal(ours.XtX, ours.XtX.T)


@pytest.mark.parametrize("d", [4, 8, 16])
def test_narrow_gram_statistics_are_the_same_on_every_thread_count(impl, d):
    rng = np.random.default_rng(d)
    X = rng.standard_normal((300_001, d)) + 2.0
    y = X @ rng.standard_normal(d) + rng.standard_normal(300_001)
    one = kernels.gram_statistics(X, y, n_threads=1)
    two = kernels.gram_statistics(X, y, n_threads=2)
    for name in ("mean_X", "mean_Y", "XtX", "XtY"):
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name), err_msg=name)
    assert one.yy == two.yy
