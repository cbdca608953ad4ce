"""What a user gets wrong: exit status 2, one line on stderr, no traceback (issue 16)."""
import numpy as np
import pytest

from _cli import assert_one_line_error, run, write_csv


def test_a_missing_data_file(tmp_path):
    line = assert_one_line_error(run("fit", tmp_path / "nope.csv", "--target", "y"))
    assert "nope.csv: no such file" in line


def test_an_unknown_column(data_csv):
    line = assert_one_line_error(run("fit", data_csv, "--target", "price"))
    assert "unknown column 'price'" in line and "'target'" in line


def test_an_unknown_feature_column(data_csv):
    line = assert_one_line_error(run("fit", data_csv, "--target", "target", "--features", "a,z"))
    assert "unknown column 'z'" in line


def test_a_non_numeric_column(tmp_path):
    data = write_csv(tmp_path / "t.csv", ["a", "city", "y"], [[1, "Oslo", 2], [2, "Rome", 4]])
    line = assert_one_line_error(run("fit", data, "--target", "y"))
    assert "column 'city' is not numeric" in line and "'Oslo'" in line and "--features" in line


def test_an_empty_cell(tmp_path):
    data = write_csv(tmp_path / "t.csv", ["a", "y"], [[1, 2], ["", 4]])
    line = assert_one_line_error(run("fit", data, "--target", "y"))
    assert "column 'a' is not numeric (line 3 is empty)" in line


def test_a_file_that_is_not_a_model(data_csv):
    line = assert_one_line_error(run("predict", data_csv, data_csv))
    assert "data.csv" in line and "not a readable linreg model file" in line


def test_a_missing_model_file(data_csv, tmp_path):
    line = assert_one_line_error(run("predict", tmp_path / "m.linreg", data_csv))
    assert "m.linreg: no such file" in line


def test_predict_data_without_the_models_columns(data_csv, tmp_path):
    assert run("fit", data_csv, "--target", "target", "--save", tmp_path / "m.linreg").returncode == 0
    other = write_csv(tmp_path / "o.csv", ["a", "b"], [[1, 2]])
    line = assert_one_line_error(run("predict", tmp_path / "m.linreg", other))
    assert "unknown column 'c'" in line


def test_predict_with_the_wrong_number_of_columns(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.ones((5, 2)) * np.arange(5)[:, None], y=np.arange(5.0))
    assert run("fit", tmp_path / "d.npz", "--save", tmp_path / "m.linreg").returncode == 0
    np.save(tmp_path / "three.npy", np.ones((4, 3)))
    line = assert_one_line_error(run("predict", tmp_path / "m.linreg", tmp_path / "three.npy"))
    assert "takes 2 features" in line and "has 3 columns" in line


def test_an_unknown_format(tmp_path):
    (tmp_path / "d.xlsx").write_bytes(b"PK")
    line = assert_one_line_error(run("fit", tmp_path / "d.xlsx", "--target", "y"))
    assert "unknown data format '.xlsx'" in line


@pytest.mark.parametrize("options, expected", [
    (["--batch-size", "8"], "--batch-size: not a parameter of GDRegressor (it is one of "
                            "SGDRegressor's: add --sgd)"),
    (["--lrr", "0.1"], "unknown option --lrr"),
    (["--lr", "-1"], "lr must be a positive finite number, got -1"),
    (["--verbose", "-1"], "verbose must be"),
    (["--lr"], "--lr needs a value"),
])
def test_bad_parameters(data_csv, options, expected):
    line = assert_one_line_error(run("fit", data_csv, "--target", "target", *options))
    assert expected in line


def test_plot_to_a_name_that_is_not_png(data_csv, tmp_path):
    line = assert_one_line_error(run("fit", data_csv, "--target", "target", "--plot",
                                     tmp_path / "curve.jpg"))
    assert "ending in .png" in line
