"""feature_names_in_ in model files (issue 12).

A model fitted on a data frame with string column names keeps feature_names_in_ through
save / load: the file gets an optional member, feature_names_in_, one JSON text holding
the names, and is format version 2 (a linreg that reads version 1 only says "upgrade"
instead of failing on an unknown member). A model without names is still written as
version 1, exactly as before. Reading stays bounded and refuses a names member that does
not fit the model.
"""
import io
import json
import zipfile

import numpy as np
import pytest

import linreg
from linreg import _model_file

NAMES = ["age", "bmi", "bp"]


def data(n=30, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    return X, X @ np.array([1.0, -2.0, 0.5]) + 0.25


def fitted_with(names, Estimator=linreg.GDRegressor, dtype=np.float64):
    """A fitted model whose feature_names_in_ are `names` (set as fit would from a
    data frame, so that the tests need no pandas)."""
    X, y = data()
    model = Estimator(lr=0.05, epochs=3).fit(X.astype(dtype), y.astype(dtype))
    model.feature_names_in_ = np.array(names, dtype=object)
    return model


def saved(model):
    buffer = io.BytesIO()
    model.save(buffer)
    return buffer.getvalue()


def members(data_bytes):
    with np.load(io.BytesIO(data_bytes), allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def npz(arrays):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", "w") as member:
                np.lib.format.write_array(member, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


@pytest.mark.parametrize("Estimator", [linreg.GDRegressor, linreg.SGDRegressor])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_names_survive_save_and_load(Estimator, dtype):
    pd = pytest.importorskip("pandas")
    X, y = data()
    seeded = {"random_state": 0} if Estimator is linreg.SGDRegressor else {}
    model = Estimator(lr=0.05, epochs=3, **seeded).fit(
        pd.DataFrame(X.astype(dtype), columns=NAMES), y.astype(dtype))
    loaded = linreg.load(io.BytesIO(saved(model)))
    names = loaded.feature_names_in_
    assert isinstance(names, np.ndarray) and names.dtype == object
    assert list(names) == NAMES and all(type(name) is str for name in names)
    df = pd.DataFrame(X.astype(dtype), columns=NAMES)
    np.testing.assert_array_equal(loaded.predict(df), model.predict(df))
    with pytest.raises(ValueError, match="Feature names must be in the same order"):
        loaded.predict(df[NAMES[::-1]])
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        loaded.predict(X.astype(dtype))


@pytest.mark.parametrize("names", [
    ["", " ", "a,b", 'qu"ote', "back\\slash", "[", "]"][:3],
    ["tempéra­ture", "数据", "emoji 😀"],
    ["nul\x00", "\x00", "tab\tnew\nline"],  # numpy's str arrays would drop trailing NULs
    ["lone \ud800 surrogate", "x" * 100_000, "y"],
    ["dup", "dup", "dup"],
], ids=["punctuation", "unicode", "control", "surrogate-and-long", "duplicates"])
def test_any_str_round_trips_exactly(names):
    loaded = linreg.load(io.BytesIO(saved(fitted_with(names))))
    assert list(loaded.feature_names_in_) == names


def test_a_file_with_names_is_version_2_and_one_without_is_version_1():
    with_names = members(saved(fitted_with(NAMES)))
    assert int(with_names["version"]) == 2
    assert json.loads(str(with_names["feature_names_in_"])) == NAMES
    without = members(saved(fitted_with(NAMES).fit(*data())))
    assert int(without["version"]) == 1 and "feature_names_in_" not in without
    unfitted = members(saved(linreg.SGDRegressor()))
    assert int(unfitted["version"]) == 1


def valid_members():
    return members(saved(fitted_with(NAMES)))


@pytest.mark.parametrize(("change", "match"), [
    (lambda m: m.update(feature_names_in_=np.array(json.dumps(NAMES[:2]))),
     r"feature_names_in_ holds 2 names, but n_features_in_ is 3"),
    (lambda m: m.update(feature_names_in_=np.array("not json")),
     r"feature_names_in_ is not valid JSON"),
    (lambda m: m.update(feature_names_in_=np.array('{"a": 1}')),
     r"feature_names_in_ must be a JSON array of strings"),
    (lambda m: m.update(feature_names_in_=np.array('["a", 1, "c"]')),
     r"feature_names_in_ must be a JSON array of strings"),
    (lambda m: m.update(feature_names_in_=np.array("[" * 100_000 + "]" * 100_000)),
     r"feature_names_in_ (is not valid JSON|must be a JSON array)"),
    (lambda m: m.update(feature_names_in_=np.array(NAMES)),
     r"'feature_names_in_' must be a text \(a 0-d str array\)"),
    (lambda m: m.update(version=np.array(1)),
     r"unknown members 'feature_names_in_.npy'; version 1 files hold"),
    (lambda m: [m.pop(name) for name in _model_file.FITTED],
     r"\['feature_names_in_'\] without the fitted model"),
], ids=["count", "not-json", "object", "not-str", "deep", "str-array", "version-1",
        "unfitted"])
def test_load_refuses_names_that_do_not_fit_the_model(change, match):
    arrays = valid_members()
    change(arrays)
    with pytest.raises(ValueError, match=match):
        linreg.load(io.BytesIO(npz(arrays)))


def test_a_linreg_reading_version_1_only_is_told_to_upgrade(monkeypatch):
    monkeypatch.setattr(_model_file, "VERSION", 1)
    with pytest.raises(ValueError, match=r"format version 2; this linreg reads up to "
                                         r"version 1: upgrade linreg"):
        linreg.load(io.BytesIO(saved(fitted_with(NAMES))))


def test_reading_names_is_charged_to_the_expansion_bound():
    """A small deflated file holding many empty names: their str objects cost far more
    than their text, and the bound counts them (loading stays within about 32 x the
    file's size + 1 MiB)."""
    n = 20_000
    X = np.zeros((2, n))
    model = linreg.GDRegressor(lr=0.01, epochs=1).fit(X, np.zeros(2))
    model.feature_names_in_ = np.array([""] * n, dtype=object)
    arrays = members(saved(model))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", "w") as member:
                np.lib.format.write_array(member, array, allow_pickle=False)
    data_bytes = buffer.getvalue()
    text_bytes = 4 * len(str(arrays["feature_names_in_"]))
    budget = _model_file.MAX_EXPANSION * len(data_bytes) + _model_file.EXPANSION_ALLOWANCE
    decompressed = sum(a.nbytes for a in arrays.values())
    # The file fits the bound by its decompressed size; the names' objects do not.
    assert decompressed < budget < decompressed + 72 * n and text_bytes < budget
    with pytest.raises(ValueError, match=r"feature_names_in_ \(as Python strings\)"):
        linreg.load(io.BytesIO(data_bytes))


def test_old_files_still_load_without_names():
    from pathlib import Path

    data_dir = Path(__file__).resolve().parents[1] / "persistence" / "data"
    for path in sorted(data_dir.glob("v1_*.linreg")):
        model = linreg.load(path)
        assert not hasattr(model, "feature_names_in_")
