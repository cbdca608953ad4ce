"""The seed tutorial reproduced: GDRegressor's log lines and prediction, and the demo.

The seed (../shared/seed next to the repository) trains y = xW + b on x = [1, 2, 3],
y = [3, 6, 9] from W = b = 0 with lr 0.01 for 1000 full-batch epochs and prints every
100th epoch; _helpers.SEED_EPOCH_LINES holds what its PyTorch run printed.
"""
import re

import numpy as np
import pytest

import linreg
from _helpers import SEED_EPOCH_LINES, SEED_PREDICTION_AT_10

SEED_LINES = SEED_EPOCH_LINES


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gd_prints_the_seed_lines_and_predicts_like_the_seed(dtype, capsys):
    x = np.array([[1.0], [2.0], [3.0]], dtype=dtype)
    y = np.array([3.0, 6.0, 9.0], dtype=dtype)
    model = linreg.GDRegressor(lr=0.01, epochs=1000, log_every=100).fit(x, y)
    assert capsys.readouterr().out.splitlines() == SEED_LINES
    prediction = model.predict(np.array([[10.0]], dtype=dtype))
    assert prediction.shape == (1,) and prediction.dtype == dtype
    assert abs(float(prediction[0]) - SEED_PREDICTION_AT_10) < 1e-5


def test_demo_prints_the_seed_output_then_the_speedup():
    import io

    from linreg.demo import main

    out = io.StringIO()
    main(out)
    lines = out.getvalue().splitlines()
    assert lines[:10] == SEED_LINES
    label, value = lines[10].rsplit(": ", 1)
    assert label == "prediction after training for input 10"
    assert abs(float(value) - SEED_PREDICTION_AT_10) < 1e-5
    assert re.fullmatch(r"linreg trained the 1000 epochs in [\d.]+ ms, \d+x faster than .*", lines[11])


def test_the_demos_numpy_baseline_does_the_same_work(capsys):
    from linreg.demo import fit_numpy, seed_data

    W, b = fit_numpy(*seed_data())
    assert capsys.readouterr().out.splitlines() == SEED_LINES
    assert abs(float(10 * W[0] + b[0]) - SEED_PREDICTION_AT_10) < 1e-5
