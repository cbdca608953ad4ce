"""Fits on Dask arrays against in-memory fits of the concatenated data (issue 15): GD
"gram" and "fused" to 1e-10 relative, in-order SGD exactly, on a real 2-worker cluster.
Blocks of unequal sizes, a single block, float32, 2-D y and sample weights."""
import numpy as np
import pytest

import dask.array as da

import linreg
from _blocked_data import UNEQUAL, make_data, relative

RTOL = 1e-10


@pytest.mark.parametrize("chunks", [UNEQUAL, ((2003,),)], ids=["unequal", "one-block"])
@pytest.mark.parametrize("params", [
    dict(method="gram"),
    dict(method="fused", epochs=300),
    dict(method="gram", lr=0.002, epochs=40, momentum=0.9, lr_schedule="invscaling",
         average=5),
    dict(method="fused", lr=0.002, epochs=40, momentum=0.9, nesterov=True, penalty="l2",
         alpha=0.01),
    dict(method="fused", lr=0.002, epochs=40, penalty="l1", alpha=0.05),
    dict(method="fused", lr=0.004, epochs=20, lr_schedule=lambda epoch: 0.9**epoch),
], ids=["gram-auto", "fused-auto", "gram-options", "fused-options", "fused-l1",
        "fused-lambda-schedule"])
def test_gd_on_dask_equals_gd_in_memory(client, chunks, params):
    X, y = make_data()
    Xd = da.from_array(X, chunks=(chunks[0], 5))
    yd = da.from_array(y, chunks=chunks)
    local = linreg.GDRegressor(**params).fit(X, y)
    blocked = linreg.GDRegressor(**params).fit(Xd, yd)
    assert blocked.method_ == local.method_ == params["method"]
    assert blocked.n_iter_ == local.n_iter_
    assert relative(blocked.coef_, local.coef_) < RTOL
    assert relative(blocked.intercept_, local.intercept_) < RTOL
    assert relative(blocked.loss_curve_, local.loss_curve_) < RTOL
    assert isinstance(blocked.coef_, np.ndarray)


@pytest.mark.parametrize("method", ["gram", "fused"])
def test_gd_float32_two_outputs_and_weights(client, method):
    X, y = make_data(k=3, dtype=np.float32)
    w = np.random.default_rng(1).uniform(0.0, 3.0, size=X.shape[0])
    Xd, yd = da.from_array(X, chunks=(UNEQUAL[0], 5)), da.from_array(y, chunks=(UNEQUAL[0], 3))
    wd = da.from_array(w, chunks=UNEQUAL)
    params = dict(method=method, lr=0.002, epochs=30)
    local = linreg.GDRegressor(**params).fit(X, y, sample_weight=w)
    blocked = linreg.GDRegressor(**params).fit(Xd, yd, sample_weight=wd)
    assert blocked.coef_.shape == (3, 5) and blocked.coef_.dtype == np.float32
    # float32 parameters: the step rounds to float32 in both, from sums equal to ~1e-15.
    assert relative(blocked.coef_, local.coef_) < 1e-5
    assert relative(blocked.loss_curve_, local.loss_curve_) < 1e-5
    unweighted = linreg.GDRegressor(**params).fit(Xd, yd)
    assert relative(unweighted.coef_, blocked.coef_) > 1e-4  # the weights were used


@pytest.mark.parametrize("params", [
    dict(lr=0.0005, epochs=3, shuffle=False),
    dict(lr=0.0005, epochs=3, shuffle=False, batch_size=64, momentum=0.5),
    dict(lr=0.0005, epochs=3, shuffle=False, batch_size=7, average=True, penalty="l2"),
    dict(lr=0.0005, epochs=2, shuffle=False, lr_schedule="invscaling", penalty="l1"),
    dict(lr=0.0005, epochs=3, shuffle=False, lr_schedule=lambda epoch: 1.0 / (1 + epoch)),
], ids=["per-sample", "batches-momentum", "batches-across-blocks-average", "l1",
        "lambda-schedule"])
def test_in_order_sgd_on_dask_equals_sgd_in_memory_exactly(client, params):
    X, y = make_data()
    Xd = da.from_array(X, chunks=(UNEQUAL[0], 5))
    yd = da.from_array(y, chunks=UNEQUAL)
    local = linreg.SGDRegressor(**params).fit(X, y)
    blocked = linreg.SGDRegressor(**params).fit(Xd, yd)
    np.testing.assert_array_equal(blocked.coef_, local.coef_)
    np.testing.assert_array_equal(blocked.intercept_, local.intercept_)
    assert blocked.t_ == local.t_
    assert relative(blocked.loss_curve_, local.loss_curve_) < 1e-12


def test_weighted_in_order_sgd_equals_in_memory(client):
    X, y = make_data(k=2)
    w = np.random.default_rng(2).uniform(0.0, 2.0, size=X.shape[0])
    Xd = da.from_array(X, chunks=(UNEQUAL[0], 5))
    params = dict(lr=0.0005, epochs=2, shuffle=False, batch_size=5)
    local = linreg.SGDRegressor(**params).fit(X, y, sample_weight=w)
    blocked = linreg.SGDRegressor(**params).fit(
        Xd, da.from_array(y, chunks=(UNEQUAL[0], 2)), sample_weight=da.from_array(w, chunks=UNEQUAL))
    np.testing.assert_array_equal(blocked.coef_, local.coef_)


def test_shuffled_sgd_is_reproducible_and_shuffles(client):
    X, y = make_data()
    Xd, yd = da.from_array(X, chunks=(500, 5)), da.from_array(y, chunks=500)
    params = dict(lr=0.0005, epochs=2, random_state=3)
    first = linreg.SGDRegressor(**params).fit(Xd, yd)
    again = linreg.SGDRegressor(**params).fit(Xd, yd)
    in_order = linreg.SGDRegressor(**params, shuffle=False).fit(Xd, yd)
    np.testing.assert_array_equal(first.coef_, again.coef_)
    assert not np.array_equal(first.coef_, in_order.coef_)


@pytest.mark.filterwarnings("ignore::linreg.ConvergenceWarning")
def test_lr_auto_sgd_on_dask_is_close_to_in_memory(client):
    X, y = make_data()
    Xd, yd = da.from_array(X, chunks=(UNEQUAL[0], 5)), da.from_array(y, chunks=UNEQUAL)
    local = linreg.SGDRegressor(shuffle=False, epochs=4).fit(X, y)
    blocked = linreg.SGDRegressor(shuffle=False, epochs=4).fit(Xd, yd)
    # The preconditioner and step come from merged moments: equal up to rounding.
    assert relative(blocked.coef_, local.coef_) < 1e-9
