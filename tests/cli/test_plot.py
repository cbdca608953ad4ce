"""plot_loss_curve and `linreg fit --plot` (issue 16): a PNG of 640 x 480, a log y axis,
matplotlib only when asked for."""
import struct
import subprocess
import sys

import numpy as np
import pytest

import linreg
from _cli import run

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")


def png_size(path):
    """(width, height) from a PNG's IHDR chunk, after checking the signature."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_fit_plot_writes_a_640_by_480_png(data_csv, tmp_path):
    picture = tmp_path / "curve.png"
    result = run("fit", data_csv, "--target", "target", "--lr", "0.01", "--epochs", "50",
                 "--plot", picture)
    assert result.returncode == 0, result.stderr
    assert f"loss curve drawn in {picture}" in result.stdout
    assert png_size(picture) == (640, 480)


def test_plot_loss_curve_draws_every_epoch_on_a_log_scale():
    from matplotlib.figure import Figure

    X = np.arange(10.0).reshape(-1, 1)
    model = linreg.GDRegressor(lr=0.001, epochs=40).fit(X, 3 * X[:, 0] + 1)
    ax = Figure().add_subplot()
    assert linreg.plot_loss_curve(model, ax=ax) is ax
    assert ax.get_yscale() == "log"
    (line,) = ax.lines
    np.testing.assert_array_equal(line.get_xdata(), np.arange(1, 41))
    np.testing.assert_array_equal(line.get_ydata(), model.loss_curve_)


def test_plot_loss_curve_without_an_axes_uses_pyplots():
    import matplotlib.pyplot as pyplot

    model = linreg.GDRegressor(lr=0.01, epochs=5).fit([[1.0], [2.0]], [1.0, 2.0])
    pyplot.figure()
    try:
        assert linreg.plot_loss_curve(model) is pyplot.gca()
    finally:
        pyplot.close("all")


def test_an_unfitted_model_has_no_curve():
    with pytest.raises(AttributeError):
        linreg.plot_loss_curve(linreg.GDRegressor())


def run_python(code, cwd):
    # Not from the repository root, whose linreg/ source folder would shadow the package.
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=cwd)


def test_import_linreg_does_not_import_matplotlib(tmp_path):
    result = run_python("import sys, linreg, linreg.cli; print('matplotlib' in sys.modules)",
                        tmp_path)
    assert result.stdout.strip() == "False", result.stderr


def test_without_matplotlib_the_error_names_the_extra(tmp_path):
    # sys.modules[name] = None makes `import name` fail, as if it were not installed.
    result = run_python(
        "import sys; sys.modules['matplotlib'] = None\n"
        "import linreg\n"
        "model = linreg.GDRegressor(lr=0.01, epochs=5).fit([[1.0], [2.0]], [1.0, 2.0])\n"
        "try:\n"
        "    linreg.plot_loss_curve(model)\n"
        "except ImportError as error:\n"
        "    print(error)\n", tmp_path)
    assert 'pip install "linreg[plot]"' in result.stdout, result.stderr


def test_fit_plot_without_matplotlib_is_a_one_line_error(data_csv, tmp_path):
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "from linreg.cli import main\n"
            f"sys.exit(main(['fit', {str(data_csv)!r}, '--target', 'target', '--plot', "
            f"{str(tmp_path / 'c.png')!r}]))\n")
    result = run_python(code, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == ('linreg fit: error: --plot needs matplotlib: '
                                     'pip install "linreg[plot]"')
    assert result.stdout == ""  # refused before training
