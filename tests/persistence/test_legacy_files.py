"""Files written by linreg before the format was hardened (version 1, numpy.savez) load
exactly, and files written now are still version-1 files that plain numpy reads alike.

data/v1_*.linreg were written by `model.save` at commit 634f4c9 (the last one before
this change):

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3)); y = X @ np.array([1.0, -2.0, 0.5]) + 0.25
    GDRegressor(lr=0.05, epochs=20, method="fused").fit(X.astype(np.float32),
        y.astype(np.float32)).save("v1_gd_float32_1d_output.linreg")
    SGDRegressor(lr=0.01, epochs=4, random_state=3, batch_size=4).fit(
        X, np.stack([y, 2 * y], axis=1)).save("v1_sgd_float64_2_outputs.linreg")
    SGDRegressor(lr=0.2, tol=1e-3, shuffle=False).save("v1_unfitted.linreg")
"""
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from _archives import members_of, model_bytes

import linreg

DATA = Path(__file__).resolve().parent / "data"
FILES = sorted(DATA.glob("v1_*.linreg"))


def test_the_legacy_files_are_there():
    assert [f.name for f in FILES] == ["v1_gd_float32_1d_output.linreg",
                                       "v1_sgd_float64_2_outputs.linreg", "v1_unfitted.linreg"]


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_legacy_files_load_exactly(path):
    stored = members_of(path.read_bytes())  # what plain numpy reads
    model = linreg.load(path)
    assert type(model).__name__ == str(stored["estimator"])
    if "coef_" not in stored:
        assert not hasattr(model, "coef_")
        # The file holds every parameter as it was, epochs=100 (then the default) included.
        assert model.get_params() == linreg.SGDRegressor(lr=0.2, tol=1e-3, shuffle=False,
                                                         epochs=100).get_params()
        return
    np.testing.assert_array_equal(model.coef_, stored["coef_"])
    assert model.coef_.dtype == stored["coef_"].dtype
    np.testing.assert_array_equal(model.intercept_, stored["intercept_"])
    np.testing.assert_array_equal(model.loss_curve_, stored["loss_curve_"])
    assert (model.n_iter_, model.n_features_in_) == (int(stored["n_iter_"]), 3)
    X = np.linspace(-1, 1, 12, dtype=stored["coef_"].dtype).reshape(4, 3)
    expected = X @ stored["coef_"].T + stored["intercept_"]
    np.testing.assert_allclose(model.predict(X), expected, rtol=1e-6)


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_files_written_now_hold_the_same_members(path):
    legacy = members_of(path.read_bytes())
    model = linreg.load(path)
    current = members_of(model_bytes(model))
    assert sorted(current) == sorted(legacy)
    for name in legacy:
        if name == "params":
            # Parameters added since keep their defaults; the old ones are unchanged.
            old, now = json.loads(str(legacy[name])), json.loads(str(current[name]))
            defaults = type(model)().get_params()
            assert {key: now[key] for key in old} == old
            assert all(now[key] == defaults[key] for key in set(now) - set(old))
            continue
        assert current[name].dtype == legacy[name].dtype, name
        np.testing.assert_array_equal(current[name], legacy[name])


def test_files_written_now_are_stored_uncompressed():
    data = model_bytes(linreg.load(FILES[0]))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}
