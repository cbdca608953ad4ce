"""The pass over rows for several outputs (issue 14): with five outputs or more (float64:
five to 16) the AVX2 build sums the residuals and the gradient across outputs in tiles of
8 lanes, over blocks of 32 rows (linreg/_kernels/outputs.pxi). These tests aim at its edges: k not a multiple
of the tile (the last tile partly empty), d below a vector and above the float32 run of
32 features, n not a multiple of the 4-row step or the 32-row block, sample weights, a
subset of rows in any order (mini-batch SGD), Y in a strided layout, the thread count, and
the float32 sums on a long X against float64.
"""
import numpy as np
import pytest

from _helpers import make_problem
from linreg import kernels, reference

KS = [5, 8, 9, 17, 33]
DS = [1, 5, 16, 37]


def reference_sums(X, Y, W, b, sample_weight=None):
    """loss, grad_W, grad_b of the NumPy twin, in float64 whatever X's dtype."""
    X, Y, W, b = (np.asarray(a, dtype=np.float64) for a in (X, Y, W, b))
    grad_W, grad_b = np.empty_like(W), np.empty_like(b)
    loss = reference.loss_and_grad(X, Y, W, b, grad_W, grad_b, sample_weight=sample_weight)
    return loss, grad_W, grad_b


def assert_close(got, expected, rtol):
    """Each output within rtol of the reference, relative to its largest entry: a lane or
    a feature summed wrongly (or left out) is off by O(1) of that scale."""
    for name, g, e in zip(("loss", "grad_W", "grad_b"), got, expected):
        scale = np.max(np.abs(e))
        np.testing.assert_allclose(g, e, rtol=0, atol=rtol * scale, err_msg=name)


def kernel_sums(X, Y, W, b, **options):
    grad_W, grad_b = np.empty_like(W), np.empty_like(b)
    loss = kernels.loss_and_grad(X, Y, W, b, grad_W, grad_b, **options)
    return loss, grad_W, grad_b


@pytest.mark.parametrize("k", KS)
@pytest.mark.parametrize("d", DS)
@pytest.mark.parametrize("n", [3, 77])
def test_every_output_and_feature_matches_the_reference(impl, n, d, k):
    X, Y, W, b = make_problem(n, d, k, np.float64, seed=n + d + k)
    assert_close(kernel_sums(X, Y, W, b), reference_sums(X, Y, W, b), rtol=1e-12)


# float32 k <= 8 takes the 8-output tiles (in the avx512 build: two rows' residuals in
# one register, and from 16 features the gradient by output, 16 features across the
# lanes, the last run masked); k > 8 the 16-output tiles there.
@pytest.mark.parametrize("k", [5, 8, 9, 33])
@pytest.mark.parametrize("d", [5, 15, 16, 17, 37])
def test_float32_matches_the_float64_sums_of_the_same_data(impl, d, k):
    X, Y, W, b = make_problem(1003, d, k, np.float32, seed=d * k)
    assert_close(kernel_sums(X, Y, W, b), reference_sums(X, Y, W, b), rtol=2e-6)


@pytest.mark.parametrize("d", [5, 20])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [8, 9, 17])
def test_sample_weights_weigh_each_row_in_every_lane(impl, dtype, k, d):
    X, Y, W, b = make_problem(301, d, k, dtype, seed=k)
    weights = np.random.default_rng(k).uniform(0.0, 3.0, 301)
    weights[::7] = 0.0  # dropped rows, whatever their residuals
    got = kernel_sums(X, Y, W, b, sample_weight=weights)
    expected = reference_sums(X, Y, W, b, sample_weight=weights)
    assert_close(got, expected, rtol=2e-6 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_strided_targets_are_read_where_they_are(impl, dtype):
    X, Y, W, b = make_problem(130, 6, 9, dtype, seed=9)
    wide = np.zeros((130, 27), dtype)
    wide[:, ::3] = Y  # Y's rows are not contiguous: each target read through its stride
    Y_fortran = np.asfortranarray(Y)
    expected = reference_sums(X, Y, W, b)
    rtol = 2e-6 if dtype == np.float32 else 1e-12
    assert_close(kernel_sums(X, wide[:, ::3], W, b), expected, rtol)
    assert_close(kernel_sums(X, Y_fortran, W, b), expected, rtol)


@pytest.mark.parametrize("batch_size", [3, 32, 45])
@pytest.mark.parametrize("k", [9, 33])
def test_mini_batches_over_a_subset_of_rows_match_the_reference(impl, k, batch_size):
    X, Y, W, b = make_problem(200, 6, k, np.float64, seed=k + batch_size)
    order = np.random.default_rng(batch_size).integers(0, 200, 150)  # repeats, some rows never
    W_ref, b_ref = W.copy(), b.copy()
    loss = kernels.sgd_epoch(X, Y, W, b, 0.05, order=order, batch_size=batch_size)
    expected = reference.sgd_epoch(X, Y, W_ref, b_ref, 0.05, order=order, batch_size=batch_size)
    np.testing.assert_allclose(loss, expected, rtol=1e-12)
    np.testing.assert_allclose(W, W_ref, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(b, b_ref, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("d", [1, 3, 4, 37])  # the residuals' four runs of features, and the rest
@pytest.mark.parametrize("k", [2, 8, 16])
def test_per_sample_sgd_with_several_outputs_matches_the_reference(impl, d, k):
    X, Y, W, b = make_problem(150, d, k, np.float64, seed=d + k)
    order = np.random.default_rng(d * k).permutation(150)
    W_ref, b_ref = W.copy(), b.copy()
    loss = kernels.sgd_epoch(X, Y, W, b, 0.02, order=order)
    expected = reference.sgd_epoch(X, Y, W_ref, b_ref, 0.02, order=order)
    np.testing.assert_allclose(loss, expected, rtol=1e-12)
    np.testing.assert_allclose(W, W_ref, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(b, b_ref, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("d, k", [(7, 11), (20, 8)])  # float32 k = 8: the 8-output tiles
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_thread_count_changes_no_bit(impl, dtype, d, k):
    X, Y, W, b = make_problem(50_003, d, k, dtype, seed=11)  # several chunks
    one = kernel_sums(X, Y, W, b, n_threads=1)
    for n_threads in (2, 3):
        other = kernel_sums(X, Y, W, b, n_threads=n_threads)
        assert one[0] == other[0]
        np.testing.assert_array_equal(one[1], other[1])
        np.testing.assert_array_equal(one[2], other[2])


@pytest.mark.parametrize("d, k", [(6, 9), (6, 8), (20, 8)])
def test_float32_sums_on_a_long_X_stay_close_to_float64(impl, d, k):
    # A long X whose columns are far from centred: each feature's gradient is a sum of
    # 400 000 terms of one sign, where float32 running sums would drift by ~1e-3.
    n = 400_000
    rng = np.random.default_rng(14)
    X = (rng.standard_normal((n, d), dtype=np.float32) + 1.0).astype(np.float32)
    W = (0.3 * rng.standard_normal((d, k))).astype(np.float32)
    Y = (X @ W + 0.1 * rng.standard_normal((n, k), dtype=np.float32) + 0.5).astype(np.float32)
    b = np.zeros(k, np.float32)
    loss, grad_W, grad_b = kernel_sums(X, Y, W, b)
    ref_loss, ref_W, ref_b = reference_sums(X, Y, W, b)
    assert abs(loss - ref_loss) <= 1e-6 * ref_loss
    assert np.max(np.abs(grad_W - ref_W)) <= 1e-5 * np.max(np.abs(ref_W))
    assert np.max(np.abs(grad_b - ref_b)) <= 1e-5 * np.max(np.abs(ref_b))


# float32 with more than 16 outputs in the avx512 build: two 16-output tiles summed at
# once (rows of at most 32 features), each lane doing the arithmetic of its tile alone.
# The gradient is of the mean over the n k targets: with k a power of two, scaling each
# tile's gradient by 16 / k is exact, so the bits must agree.
@pytest.mark.parametrize("k", [32, 64])
@pytest.mark.parametrize("d", [3, 16, 32, 33])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_float32_outputs_get_the_bits_of_their_tile_alone(impl, weighted, d, k):
    X, Y, W, b = make_problem(1003, d, k, np.float32, seed=d + k)
    sw = np.random.default_rng(d).random(1003) if weighted else None
    _, grad_W, grad_b = kernel_sums(X, Y, W, b, sample_weight=sw)
    for o0 in range(0, k, 16):  # each tile of 16 outputs, on its own
        tile = slice(o0, o0 + 16)
        _, tile_W, tile_b = kernel_sums(X, np.ascontiguousarray(Y[:, tile]),
                                        np.ascontiguousarray(W[:, tile]), b[tile].copy(),
                                        sample_weight=sw)
        np.testing.assert_array_equal(grad_W[:, tile] * np.float32(k / 16), tile_W)
        np.testing.assert_array_equal(grad_b[tile] * np.float32(k / 16), tile_b)
