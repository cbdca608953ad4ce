"""What a Dask user sees (issue 15): lazy predict and score, Dask data frames, bad
blocks refused with the model left as it was, a worker restarted mid-fit, partial_fit
over blocks, X never gathered into the client, and Dask never imported for NumPy data."""
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest

import dask
import dask.array as da

import linreg
from _blocked_data import make_data, relative


def test_predict_and_score_stay_lazy_and_match_in_memory(client):
    X, y = make_data(k=2)
    model = linreg.GDRegressor().fit(X, y)
    Xd, yd = da.from_array(X, chunks=(600, 5)), da.from_array(y, chunks=(600, 2))
    predicted = model.predict(Xd)
    assert isinstance(predicted, da.Array) and predicted.shape == (X.shape[0], 2)
    np.testing.assert_array_equal(predicted.compute(), model.predict(X))
    scored = model.score(Xd, yd)
    assert isinstance(scored, da.Array) and scored.ndim == 0
    assert float(scored) == pytest.approx(model.score(X, y), rel=1e-12)
    w = np.linspace(0.0, 2.0, X.shape[0])
    weighted = model.score(Xd, yd, sample_weight=da.from_array(w, chunks=600))
    assert float(weighted) == pytest.approx(model.score(X, y, sample_weight=w), rel=1e-12)


def test_dask_data_frames_fit_with_their_column_names(client):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, y = make_data()
    frame = pd.DataFrame(X, columns=list("abcde"))
    ddf = dd.from_pandas(frame, npartitions=3)
    dy = dd.from_pandas(pd.Series(y, name="y"), npartitions=3)
    blocked = linreg.GDRegressor().fit(ddf, dy)
    local = linreg.GDRegressor().fit(frame, y)
    assert list(blocked.feature_names_in_) == list("abcde")
    assert relative(blocked.coef_, local.coef_) < 1e-10
    np.testing.assert_allclose(blocked.predict(ddf).compute(), local.predict(frame), rtol=1e-10)


def test_a_bad_block_is_refused_and_the_model_left_as_it_was(client):
    X, y = make_data()
    model = linreg.GDRegressor().fit(X, y)
    before = model.coef_.copy()
    X[1500, 2] = np.nan  # in the third block, first seen on its worker
    with pytest.raises(ValueError, match="X contains NaN"):
        model.fit(da.from_array(X, chunks=(700, 5)), da.from_array(y, chunks=700))
    np.testing.assert_array_equal(model.coef_, before)
    with pytest.raises(ValueError, match="rows"):
        model.fit(da.from_array(X[:100], chunks=50), da.from_array(y[:99], chunks=50))


def test_a_worker_restarted_mid_fit_completes_or_fails_clearly(client):
    X, y = make_data()
    Xd, yd = da.from_array(X, chunks=(500, 5)), da.from_array(y, chunks=500)
    params = dict(method="fused", lr=0.002, epochs=6)
    expected = linreg.GDRegressor(**params).fit(X, y)
    restarted = []

    def restart_one_worker(epoch, loss, model):
        if epoch == 3 and not restarted:
            worker = sorted(client.scheduler_info()["workers"])[0]
            client.restart_workers([worker])
            restarted.append(worker)
        return False

    model = linreg.GDRegressor(**params).fit(X[:10], y[:10])
    before = model.coef_.copy()
    model.set_params(callback=restart_one_worker)
    try:
        model.fit(Xd, yd)
    except linreg._blocks.WorkerLostError as error:  # the clear way to fail
        assert "worker" in str(error)
        np.testing.assert_array_equal(model.coef_, before)
    else:  # lost blocks recomputed from their source: the same fit
        print("completed after the restart")
        assert relative(model.coef_, expected.coef_) < 1e-10
    assert restarted
    client.wait_for_workers(2)


def test_partial_fit_over_blocks_is_partial_fit_block_after_block(client):
    X, y = make_data()
    chunks = (700, 1, 300, 1002)
    # lr="auto": each call's step comes from the running statistics of the blocks seen,
    # so one partial_fit of all rows would differ.
    blocked = linreg.SGDRegressor(shuffle=False).partial_fit(
        da.from_array(X, chunks=(chunks, 5)), da.from_array(y, chunks=(chunks,)))
    local = linreg.SGDRegressor(shuffle=False)
    start = 0
    for size in chunks:
        local.partial_fit(X[start:start + size], y[start:start + size])
        start += size
    np.testing.assert_array_equal(blocked.coef_, local.coef_)
    assert blocked.t_ == local.t_ == X.shape[0]
    whole = linreg.SGDRegressor(shuffle=False).partial_fit(X, y)
    assert not np.array_equal(whole.coef_, blocked.coef_)


def test_the_client_never_holds_x(client):
    # X is made on the workers (40 MB); a fit that gathered it would allocate that much
    # here (tracemalloc sees NumPy's allocations).
    X = da.random.default_rng(0).normal(size=(320_000, 16), chunks=(40_000, 16))
    y = X @ da.arange(1.0, 17.0) + 1.0
    tracemalloc.start()
    try:
        model = linreg.GDRegressor().fit(X, y)
        fused = linreg.GDRegressor(method="fused", lr=0.01, epochs=3).fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < X.nbytes / 20, (peak, X.nbytes)
    np.testing.assert_allclose(model.coef_, np.arange(1.0, 17.0), rtol=1e-8)
    assert fused.n_iter_ == 3


def test_an_on_disk_zarr_array_fits_through_the_cluster(client, tmp_path):
    zarr = pytest.importorskip("zarr")
    X, y = make_data()
    store = zarr.open(str(tmp_path / "X.zarr"), mode="w", shape=X.shape, chunks=(500, 5),
                      dtype=X.dtype)
    store[:] = X
    blocked = linreg.GDRegressor().fit(da.from_zarr(str(tmp_path / "X.zarr")),
                                       da.from_array(y, chunks=500))
    assert relative(blocked.coef_, linreg.GDRegressor().fit(X, y).coef_) < 1e-10


def test_a_memmap_fits_with_bounded_memory_on_the_local_scheduler(tmp_path):
    # No distributed client: Dask's threaded scheduler reads the .npy file chunk by
    # chunk (pages of a memmap are not Python allocations).
    X, y = make_data(n=200_000)
    np.save(tmp_path / "X.npy", X)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    with dask.config.set(scheduler="threads"):
        Xd = da.from_array(mapped, chunks=(20_000, 5))
        yd = da.from_array(y, chunks=20_000)
        tracemalloc.start()
        try:
            blocked = linreg.GDRegressor(method="fused", lr=0.002, epochs=3).fit(Xd, yd)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < X.nbytes / 4, (peak, X.nbytes)
    local = linreg.GDRegressor(method="fused", lr=0.002, epochs=3).fit(X, y)
    assert relative(blocked.coef_, local.coef_) < 1e-10


def test_numpy_fits_never_import_dask(tmp_path):
    code = textwrap.dedent("""
        import sys
        import numpy as np
        import linreg
        X = np.random.default_rng(0).normal(size=(50, 3)); y = X.sum(axis=1)
        model = linreg.GDRegressor().fit(X, y)
        model.predict(X); model.score(X, y)
        linreg.GDRegressor().fit([(X[:20], y[:20]), (X[20:], y[20:])])
        linreg.SGDRegressor(epochs=2).partial_fit(X, y)
        assert not [m for m in sys.modules if m.split(".")[0] in ("dask", "distributed")]
    """)
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)  # off the source tree
