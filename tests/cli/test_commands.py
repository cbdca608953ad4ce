"""Each command of `linreg`, run as a subprocess as a user would (issue 16)."""
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest

import linreg
from _cli import LINREG, REPO_ROOT, linear_data, run, write_csv
from _helpers import SEED_EPOCH_LINES, SEED_PREDICTION_AT_10

SPEED_LINE = re.compile(
    r"linreg trained the 1000 epochs in [\d.]+ ms, (\d+)x faster than the same loop in "
    r"plain NumPy \([\d.]+ ms\); median of (\d+) paired runs, middle half (\d+)x-(\d+)x, "
    r"measured just now")


def check_demo_output(stdout):
    lines = stdout.splitlines()
    assert lines[:10] == SEED_EPOCH_LINES
    label, value = lines[10].rsplit(": ", 1)
    assert label == "prediction after training for input 10"
    assert abs(float(value) - SEED_PREDICTION_AT_10) < 1e-5
    match = SPEED_LINE.fullmatch(lines[11])
    assert match, lines[11]
    median, runs, low, high = map(int, match.groups())
    assert runs >= 21 and low <= median <= high
    assert len(lines) == 12


def test_the_console_script_is_installed():
    assert subprocess.run([LINREG, "--help"], capture_output=True).returncode == 0


def test_linreg_demo_runs_from_the_source_tree(tmp_path):
    # The repository root holds the uncompiled linreg/ folder: the console script must
    # still run the installed package (what `python -P -m linreg` was for).
    result = run("demo", cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    check_demo_output(result.stdout)


def test_python_m_linreg_without_arguments_is_the_demo(tmp_path):
    result = subprocess.run([sys.executable, "-m", "linreg"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    check_demo_output(result.stdout)


def test_fit_prints_the_summary(data_csv):
    result = run("fit", data_csv, "--target", "target")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "GDRegressor() on" in out and "200 rows, 3 features, target 'target'" in out
    assert re.search(r"^epochs: +\d+ \(method (gram|fused)\)$", out, re.M)
    assert re.search(r"^final loss: +[\d.e-]+ ", out, re.M)
    r2 = float(re.search(r"^R\^2: +([\d.]+)", out, re.M).group(1))
    assert r2 > 0.999
    assert re.search(r"^time: +[\d.]+ s$", out, re.M)
    coefficients = dict(re.findall(r"^  (\w+) +(\S+)$", out, re.M))
    assert set(coefficients) == {"a", "b", "c", "intercept"}
    assert abs(float(coefficients["a"]) - 2.0) < 0.01
    assert abs(float(coefficients["intercept"]) - 3.0) < 0.01


def test_fit_options_are_estimator_parameters(data_csv, tmp_path):
    model_path = tmp_path / "m.linreg"
    result = run("fit", data_csv, "--target", "target", "--lr", "0.01", "--epochs", "7",
                 "--method=fused", "--tol", "None", "--save", model_path)
    assert result.returncode == 0, result.stderr
    assert "GDRegressor(lr=0.01, epochs=7, method='fused') on" in result.stdout
    assert re.search(r"^epochs: +7 \(method fused\)$", result.stdout, re.M)
    model = linreg.load(model_path)
    assert model.get_params()["lr"] == 0.01 and model.n_iter_ == 7
    assert list(model.feature_names_in_) == ["a", "b", "c"]


def test_fit_with_sgd_and_a_batch_size(data_csv, tmp_path):
    model_path = tmp_path / "m.linreg"
    result = run("fit", data_csv, "--target", "target", "--sgd", "--batch-size", "16",
                 "--random-state", "0", "--save", model_path)
    assert result.returncode == 0, result.stderr
    model = linreg.load(model_path)
    assert isinstance(model, linreg.SGDRegressor)
    assert model.batch_size == 16 and model.random_state == 0


def test_fit_features_picks_columns(data_csv, tmp_path):
    model_path = tmp_path / "m.linreg"
    result = run("fit", data_csv, "--target", "target", "--features", "c,a", "--save", model_path)
    assert result.returncode == 0, result.stderr
    assert list(linreg.load(model_path).feature_names_in_) == ["c", "a"]


def test_predict_selects_the_models_columns_by_name(data_csv, tmp_path):
    model_path = tmp_path / "m.linreg"
    assert run("fit", data_csv, "--target", "target", "--save", model_path).returncode == 0
    # The columns reordered and one more: the model's names pick its three, in its order.
    X, y = linear_data()
    shuffled = write_csv(tmp_path / "new.csv", ["extra", "c", "target", "a", "b"],
                         [[7, r[2], t, r[0], r[1]] for r, t in zip(X.tolist(), y.tolist())])
    result = run("predict", model_path, shuffled)
    assert result.returncode == 0, result.stderr
    predictions = np.array([float(line) for line in result.stdout.splitlines()])
    model = linreg.load(model_path)
    assert predictions.shape == (200,)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # X has no names: the same values
        expected = model.predict(X)
    # Equal up to the summation order of the data's memory layout (the CSV's columns
    # may come as a Fortran-ordered array, which predict reads in place).
    np.testing.assert_allclose(predictions, expected, rtol=1e-13, atol=1e-14)


def test_predict_writes_a_file(data_csv, tmp_path):
    model_path, output = tmp_path / "m.linreg", tmp_path / "predictions.txt"
    assert run("fit", data_csv, "--target", "target", "--save", model_path).returncode == 0
    result = run("predict", model_path, data_csv, "--output", output)
    assert result.returncode == 0 and result.stdout == ""
    assert len(output.read_text().splitlines()) == 200


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_fit_and_predict_numpy_files(tmp_path, suffix):
    X, y = linear_data()
    if suffix == ".npy":
        data = tmp_path / "data.npy"
        np.save(data, np.column_stack([X, y]))
        target = ["--target", "-1"]
    else:
        data = tmp_path / "data.npz"
        np.savez(data, X=X, y=y)
        target = []  # an .npz of X and y: y is the target
    model_path = tmp_path / "m.linreg"
    result = run("fit", data, *target, "--save", model_path)
    assert result.returncode == 0, result.stderr
    np.save(tmp_path / "features.npy", X)
    result = run("predict", model_path, tmp_path / "features.npy")
    assert result.returncode == 0, result.stderr
    predictions = np.array([float(line) for line in result.stdout.splitlines()])
    np.testing.assert_allclose(predictions, y, atol=0.1)


def test_fit_reads_quoted_csv_and_ignores_unused_text_columns(tmp_path):
    X, y = linear_data(50)
    rows = [[f'"{r[0]}"', r[1], r[2], "label", t] for r, t in zip(X.tolist(), y.tolist())]
    data = write_csv(tmp_path / "q.csv", ["a", "b", "c", "name", "target"], rows)
    result = run("fit", data, "--target", "target", "--features", "a,b,c")
    assert result.returncode == 0, result.stderr
    assert "50 rows, 3 features" in result.stdout


def test_bench_prints_its_table():
    result = run("bench", "--rounds", "1", timeout=300)
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if re.search(r"\d+(\.\d+)?x \(", line)]
    assert len(rows) == 4
    for row in rows:
        assert re.search(r"[\d.]+ ms \([\d.]+-[\d.]+\) +[\d.]+ ms \([\d.]+-[\d.]+\) +[\d.]+x", row)
