"""Values known without the reference: the seed tutorial's numbers, finite differences.

The seed (../shared/seed next to the repository) trains y = xW + b on x = [1, 2, 3],
y = [3, 6, 9] from W = b = 0 with lr 0.01 for 1000 full-batch epochs and prints every
100th epoch; `expected-output.txt` is what its PyTorch run printed.

Tests run on every compiled build (`impl`) and take `dtype` (float32, float64) and `k`
(the targets' shape) from the kernel contract, kernels/conftest.py.
"""
import numpy as np
import pytest

import linreg.kernels as kernels
from _helpers import SEED_DIR, SEED_EPOCH_LINES, SEED_PREDICTION_AT_10, make_problem, param_shapes


def seed_problem(dtype, y_2d):
    X = np.array([[1.0], [2.0], [3.0]], dtype=dtype)
    Y = np.array([3.0, 6.0, 9.0], dtype=dtype)
    if y_2d:
        Y = Y.reshape(3, 1)
    w_shape, b_shape = param_shapes(1, 1 if y_2d else None)
    return X, Y, np.zeros(w_shape, dtype=dtype), np.zeros(b_shape, dtype=dtype)


def test_embedded_seed_output_matches_the_file():
    path = SEED_DIR / "expected-output.txt"
    if not path.exists():
        pytest.skip(f"{path} is absent; the test uses the embedded copy")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[:10] == SEED_EPOCH_LINES
    assert lines[10].rstrip().endswith(repr(SEED_PREDICTION_AT_10))


# ----------------------------------------------------------------- hand-computed values


@pytest.mark.parametrize("y_2d", [False, True], ids=["y1d", "y2d"])
def test_seed_loss_and_gradients_at_zero(impl, dtype, y_2d):
    # r = XW + b - y = -[3, 6, 9]: loss = (9 + 36 + 81) / 3 = 42,
    # dW = 2/3 * (1*-3 + 2*-6 + 3*-9) = -28, db = 2/3 * (-3 - 6 - 9) = -12.
    X, Y, W, b = seed_problem(dtype, y_2d)
    grad_W, grad_b = np.full_like(W, np.nan), np.full_like(b, np.nan)
    loss = kernels.loss_and_grad(X, Y, W, b, grad_W, grad_b)
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    assert loss == pytest.approx(42.0, rel=rtol)
    np.testing.assert_allclose(grad_W, np.full(W.shape, -28.0), rtol=rtol)
    np.testing.assert_allclose(grad_b, [-12.0], rtol=rtol)
    np.testing.assert_array_equal(kernels.predict(X, W, b), np.zeros_like(Y))


def test_seed_data_as_two_identical_outputs(impl, dtype):
    # Two copies of y as two outputs: the loss (a mean over all 6 entries) is still 42,
    # and each output's gradient is halved by the 1/(n k) = 1/6: dW = -14, db = -6.
    X, Y, _, _ = seed_problem(dtype, False)
    Y2 = np.stack([Y, Y], axis=1)
    W, b = np.zeros((1, 2), dtype=dtype), np.zeros(2, dtype=dtype)
    grad_W, grad_b = np.empty_like(W), np.empty_like(b)
    loss = kernels.loss_and_grad(X, Y2, W, b, grad_W, grad_b)
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    assert loss == pytest.approx(42.0, rel=rtol)
    np.testing.assert_allclose(grad_W, [[-14.0, -14.0]], rtol=rtol)
    np.testing.assert_allclose(grad_b, [-6.0, -6.0], rtol=rtol)


def test_seed_predict_by_hand(impl, dtype):
    X = np.array([[1.0], [2.0], [3.0], [10.0], [-4.0]], dtype=dtype)
    W, b = np.array([3.0], dtype=dtype), np.array([0.5], dtype=dtype)
    np.testing.assert_array_equal(kernels.predict(X, W, b), [3.5, 6.5, 9.5, 30.5, -11.5])


def test_seed_first_gd_step_by_hand(impl, dtype):
    # From W = b = 0 one epoch at lr 0.01: W = 0.28, b = 0.12, and the recorded loss is
    # the one before the update, 42.
    X, Y, W, b = seed_problem(dtype, False)
    loss_out = np.full(1, np.nan)
    assert kernels.gd_epochs(X, Y, W, b, 0.01, loss_out) == 1
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    assert loss_out[0] == pytest.approx(42.0, rel=rtol)
    assert W[0] == pytest.approx(0.28, rel=rtol)
    assert b[0] == pytest.approx(0.12, rel=rtol)


# ------------------------------------------------------------------ the seed trajectory


@pytest.mark.parametrize("y_2d", [False, True], ids=["y1d", "y2d"])
def test_seed_trajectory(impl, dtype, y_2d):
    X, Y, W, b = seed_problem(dtype, y_2d)
    lines, all_losses = [], []
    for chunk in range(10):
        loss_out = np.full(100, np.nan)
        assert kernels.gd_epochs(X, Y, W, b, 0.01, loss_out) == 100
        all_losses.append(loss_out)
        epoch = 100 * (chunk + 1)
        # The loss of epoch e is computed before its update (loss_out[e-1]); W and b
        # are the values after that update, as the seed prints them.
        lines.append(
            f"Epoch [{epoch}/1000], W: {W.item():.3f}, b: {b.item():.3f}, "
            f"Loss: {loss_out[-1]:.4f}"
        )
    assert lines == SEED_EPOCH_LINES

    prediction = kernels.predict(np.array([[10.0]], dtype=dtype), W, b)
    assert prediction.dtype == dtype
    assert abs(prediction.item() - SEED_PREDICTION_AT_10) <= 1e-5

    # Chunking does not change the run: one call of 1000 epochs ends at the same place.
    X, Y, W1, b1 = seed_problem(dtype, y_2d)
    loss_out = np.full(1000, np.nan)
    assert kernels.gd_epochs(X, Y, W1, b1, 0.01, loss_out) == 1000
    np.testing.assert_array_equal(loss_out, np.concatenate(all_losses))
    np.testing.assert_array_equal(W1, W)
    np.testing.assert_array_equal(b1, b)
    # The loss decreases monotonically on this convex, well-conditioned problem.
    assert np.all(np.diff(loss_out) < 0)


# ------------------------------------------------------------------ finite differences


def _loss(X, Y, W, b):
    return kernels.loss_and_grad(X, Y, W, b, np.empty_like(W), np.empty_like(b))


@pytest.mark.parametrize(("n", "d"), [(1, 1), (7, 5), (13, 35)], ids=["n1-d1", "n7-d5", "n13-d35"])
def test_gradients_match_central_differences(impl, k, n, d):
    X, Y, W, b = make_problem(n, d, k, np.float64, seed=20 + n + d)
    grad_W, grad_b = np.empty_like(W), np.empty_like(b)
    kernels.loss_and_grad(X, Y, W, b, grad_W, grad_b)

    # The loss is quadratic, so central differences are exact up to rounding
    # (about eps * loss / h).
    h = 1e-5
    fd_W = np.empty_like(W)
    for idx in np.ndindex(W.shape):
        Wp, Wm = W.copy(), W.copy()
        Wp[idx] += h
        Wm[idx] -= h
        fd_W[idx] = (_loss(X, Y, Wp, b) - _loss(X, Y, Wm, b)) / (2 * h)
    fd_b = np.empty_like(b)
    for o in range(b.shape[0]):
        bp, bm = b.copy(), b.copy()
        bp[o] += h
        bm[o] -= h
        fd_b[o] = (_loss(X, Y, W, bp) - _loss(X, Y, W, bm)) / (2 * h)

    scale = max(1.0, float(np.max(np.abs(grad_W))), float(np.max(np.abs(grad_b))))
    np.testing.assert_allclose(grad_W, fd_W, rtol=1e-6, atol=1e-7 * scale)
    np.testing.assert_allclose(grad_b, fd_b, rtol=1e-6, atol=1e-7 * scale)
