"""model.save / linreg.load: exact round trips, and clear errors for anything else."""
import io
import pickle
import zipfile

import numpy as np
import pytest

import linreg


def fitted(Estimator=linreg.SGDRegressor, k=None, dtype=np.float64, **params):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 4)).astype(dtype)
    y = (X @ rng.standard_normal((4,) if k is None else (4, k)) + 0.5).astype(dtype)
    return Estimator(epochs=5, **params).fit(X, y), X


@pytest.mark.parametrize("Estimator", [linreg.GDRegressor, linreg.SGDRegressor])
@pytest.mark.parametrize("k", [None, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_predicts_bit_identically(tmp_path, Estimator, k, dtype):
    seeded = {"random_state": 0} if Estimator is linreg.SGDRegressor else {}
    model, X = fitted(Estimator, k, dtype, lr=0.05, **seeded)
    path = tmp_path / "model.linreg"
    model.save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["model.linreg"]  # no ".npz" appended
    loaded = linreg.load(path)
    assert type(loaded) is Estimator and loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.predict(X).dtype == dtype
    np.testing.assert_array_equal(loaded.coef_, model.coef_)
    assert loaded.coef_.dtype == model.coef_.dtype
    assert type(loaded.intercept_) is type(model.intercept_)
    np.testing.assert_array_equal(loaded.loss_curve_, model.loss_curve_)
    assert (loaded.n_iter_, loaded.n_features_in_) == (model.n_iter_, model.n_features_in_)
    # the loaded model trains on, like the original
    np.testing.assert_array_equal(
        loaded.set_params(warm_start=True).fit(X, model.predict(X)).coef_,
        model.set_params(warm_start=True).fit(X, model.predict(X)).coef_,
    )


def test_unfitted_model_round_trips(tmp_path):
    linreg.GDRegressor(lr=0.5, tol=1e-3).save(tmp_path / "m")
    loaded = linreg.load(tmp_path / "m")
    assert loaded.get_params() == linreg.GDRegressor(lr=0.5, tol=1e-3).get_params()
    with pytest.raises(linreg.NotFittedError):
        loaded.predict([[1.0]])


def test_unsavable_parameters_warn_and_load_as_none(tmp_path):
    model, _ = fitted(callback=lambda epoch, loss, model: False,
                      random_state=np.random.default_rng(1))
    with pytest.warns(UserWarning) as record:
        model.save(tmp_path / "m")
    messages = sorted(str(w.message).split("=")[0] for w in record)
    assert messages == ["callback", "random_state"]
    assert all("cannot be saved" in str(w.message) for w in record)
    loaded = linreg.load(tmp_path / "m")
    assert loaded.callback is None and loaded.random_state is None


def test_the_file_holds_no_pickle(tmp_path):
    model, _ = fitted(k=2)
    model.save(tmp_path / "m")
    with np.load(tmp_path / "m", allow_pickle=False) as archive:
        assert all(archive[name].dtype.kind in "fiuU" for name in archive.files)


def write_archive(path, **arrays):
    with open(path, "wb") as file:
        np.savez(file, **arrays)


def valid_contents(tmp_path):
    model, _ = fitted(k=2)
    model.save(tmp_path / "valid")
    with np.load(tmp_path / "valid") as archive:
        return {name: archive[name] for name in archive.files}


def test_truncated_corrupt_and_foreign_files_are_refused(tmp_path):
    model, _ = fitted()
    model.save(tmp_path / "m")
    data = (tmp_path / "m").read_bytes()
    cases = {
        "truncated": data[: len(data) // 2],
        "empty": b"",
        "text": b"coef = [1, 2, 3]\n",
        "flipped": data[:200] + bytes([data[200] ^ 0xFF]) + data[201:],
    }
    buffer = io.BytesIO()
    np.save(buffer, np.arange(3.0))
    cases["npy"] = buffer.getvalue()
    cases["pickle"] = pickle.dumps(model)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    cases["zip"] = buffer.getvalue()
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match="linreg model file"):
            linreg.load(tmp_path / name)
            pytest.fail(f"{name} was loaded")
    with pytest.raises(FileNotFoundError):
        linreg.load(tmp_path / "missing")


@pytest.mark.parametrize(
    "change, match",
    [
        ({"format": np.array("other")}, "linreg-model"),
        ({"version": np.array(99)}, "version 99.*upgrade"),
        ({"estimator": np.array("Lasso")}, "unknown estimator"),
        ({"params": np.array('{"eta0": 1}')}, "invalid parameters"),
        ({"params": np.array("{not json")}, "invalid parameters"),
        ({"coef_": np.ones((2, 5))}, "coef_ and n_features_in_ disagree"),
        ({"intercept_": np.ones(3)}, "intercept_ of shape"),
        ({"coef_": np.full((2, 4), np.nan)}, "NaN"),
        ({"coef_": np.ones((2, 4), dtype=np.int64)}, "float array"),
        ({"loss_curve_": np.ones((2, 2))}, "loss_curve_"),
        ({"loss_curve_": np.array([1.0, np.nan])}, "loss_curve_"),
        ({"n_iter_": np.array(-1)}, "n_iter_"),
    ],
)
def test_inconsistent_contents_are_refused(tmp_path, change, match):
    contents = valid_contents(tmp_path)
    contents.update(change)
    write_archive(tmp_path / "bad", **contents)
    with pytest.raises(ValueError, match=match):
        linreg.load(tmp_path / "bad")


def test_missing_fitted_entries_are_refused(tmp_path):
    contents = valid_contents(tmp_path)
    del contents["intercept_"]
    write_archive(tmp_path / "bad", **contents)
    with pytest.raises(ValueError, match="incomplete model.*intercept_"):
        linreg.load(tmp_path / "bad")
