"""Training with a learning rate far too large: it stops, and W, b stay finite.

gd_epochs returns the number of epochs completed (fewer than asked when the training
diverged) and never applies an update that would make a parameter non-finite. sgd_epoch
returns a non-finite mean loss when the epoch diverged, and must leave W, b finite too.
"""
import numpy as np
import pytest

import linreg.kernels as kernels
from _helpers import param_shapes

N, D = 10, 4


def divergent_problem(dtype, k, seed, y_scale=1.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D)).astype(dtype)
    Y = (y_scale * rng.standard_normal((N,) if k is None else (N, k))).astype(dtype)
    w_shape, b_shape = param_shapes(D, k)
    return X, Y, np.zeros(w_shape, dtype), np.zeros(b_shape, dtype)


@pytest.mark.parametrize("k", [None, 3], ids=["y1d", "k3"])
@pytest.mark.parametrize("lr", [10.0, 1e300], ids=["lr10", "lr1e300"])
def test_gd_epochs_stops_with_finite_parameters(impl, dtype, k, lr):
    n_epochs = 3000
    X, Y, W, b = divergent_problem(dtype, k, seed=41)
    snapshot = [a.tobytes() for a in (X, Y)]
    loss_out = np.full(n_epochs, -1.0)  # a loss is never negative: marks unwritten entries
    n_completed = kernels.gd_epochs(X, Y, W, b, lr, loss_out)

    assert isinstance(n_completed, int)
    assert 0 <= n_completed < n_epochs
    assert np.isfinite(W).all() and np.isfinite(b).all()
    assert np.isfinite(loss_out[:n_completed]).all()
    # The diverging epoch's loss is recorded; the entries after it are not touched.
    assert loss_out[n_completed] != -1.0
    assert (loss_out[n_completed + 1 :] == -1.0).all()
    if n_completed > 1:
        assert loss_out[n_completed - 1] > loss_out[0]  # it really diverged
    # W, b are the parameters after exactly n_completed epochs ...
    X2, Y2, W2, b2 = divergent_problem(dtype, k, seed=41)
    if n_completed:
        assert kernels.gd_epochs(X2, Y2, W2, b2, lr, np.empty(n_completed)) == n_completed
    np.testing.assert_array_equal(W, W2)
    np.testing.assert_array_equal(b, b2)
    # ... and one more epoch is refused again, leaving them as they are.
    assert kernels.gd_epochs(X2, Y2, W2, b2, lr, np.empty(1)) == 0
    np.testing.assert_array_equal(W2, W)
    assert [a.tobytes() for a in (X, Y)] == snapshot


@pytest.mark.parametrize("k", [None, 3], ids=["y1d", "k3"])
@pytest.mark.parametrize(
    "batch",
    [
        "1",
        "3",
        "all",
    ],
)
def test_sgd_epoch_diverges_with_finite_parameters(impl, dtype, k, batch):
    # lr 1e300 with targets of order 1e10: the first update already overflows.
    X, Y, W, b = divergent_problem(dtype, k, seed=40, y_scale=1e10)
    snapshot = [a.tobytes() for a in (X, Y)]
    batch_size = {"1": 1, "3": 3, "all": N}[batch]

    mean_loss = kernels.sgd_epoch(X, Y, W, b, 1e300, batch_size=batch_size)

    assert not np.isfinite(mean_loss)
    assert [a.tobytes() for a in (X, Y)] == snapshot
    assert np.isfinite(W).all(), W
    assert np.isfinite(b).all(), b


@pytest.mark.parametrize("k", [None, 3], ids=["y1d", "k3"])
def test_mini_batch_sgd_refuses_the_overflowing_update(impl, dtype, k):
    # The first batch's update overflows, so it is not applied: W, b stay at their start.
    X, Y, W, b = divergent_problem(dtype, k, seed=40, y_scale=1e10)
    W[...] = 0.25
    b[...] = -0.5
    mean_loss = kernels.sgd_epoch(X, Y, W, b, 1e300, batch_size=4)
    assert mean_loss == np.inf
    assert (W == 0.25).all() and (b == -0.5).all()
