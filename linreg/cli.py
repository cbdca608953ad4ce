"""The `linreg` command: ``linreg demo | fit | predict | bench``.

`main(argv)` parses the command line and returns the exit status: 0 on success, 2 for
anything the user can fix (a missing file, an unknown column, a column that is not
numeric, a file that is not a model, a bad parameter), reported as one line on stderr
without a traceback. ``python -m linreg`` runs the same command; without arguments it
runs the demo.
"""
import argparse
import ast
import functools
import os
import sys
import time
import warnings

import numpy as np

from linreg import demo
from linreg._quick_bench import run_quick_bench
from linreg._tables import FORMATS, TableError, read_table
from linreg.estimators import GDRegressor, SGDRegressor
from linreg.exceptions import DivergenceError
from linreg.persistence import load
from linreg.plotting import PLOT_EXTRA_HINT, plot_loss_curve

__all__ = ["main", "UsageError", "PLOT_SIZE_INCHES", "PLOT_DPI"]

#: The --plot picture: 6.4 x 4.8 inches at 100 dpi, a 640 x 480 PNG.
PLOT_SIZE_INCHES = (6.4, 4.8)
PLOT_DPI = 100


class UsageError(Exception):
    """Something the user can fix: printed as one line, exit status 2."""


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="linreg",
        description="Train y = XW + b on mean squared error by gradient descent, fast.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "demo", help="the seed tutorial's example, timed against plain NumPy (the default)",
        description="The seed tutorial's example: its ten progress lines, the prediction "
                    "for x = 10, and how much faster linreg ran than plain NumPy.")
    fit = commands.add_parser(
        "fit", allow_abbrev=False,  # --s must not mean --save: estimator options pass through
        help="train on a data file and print the fit's summary",
        description=f"Train on DATA ({FORMATS}) to predict the column --target from the "
                    "others (or from --features). Any parameter of the estimator is an "
                    "option: --lr 0.01, --epochs 500, --method gram, --batch-size 32 "
                    "(with --sgd), --tol 1e-4, --random-state 0, --verbose 1, ...; values "
                    "are read as Python literals (numbers, True, None), else as text.",
        epilog="GDRegressor's parameters: " + ", ".join(GDRegressor._param_names)
               + ". SGDRegressor's: " + ", ".join(SGDRegressor._param_names) + ".")
    fit.add_argument("data", metavar="DATA", help=f"the data file ({FORMATS})")
    fit.add_argument("--target", metavar="COLUMN",
                     help="the column to predict (required for CSV and Parquet; an index "
                          "such as -1 for unnamed arrays; default 'y' for an .npz of X, y)")
    fit.add_argument("--features", metavar="COLUMNS",
                     help="comma-separated columns to train on (default: all but the target)")
    fit.add_argument("--sgd", action="store_true",
                     help="train with SGDRegressor (default: GDRegressor, full-batch)")
    fit.add_argument("--save", metavar="MODEL", help="write the fitted model to this file")
    fit.add_argument("--plot", metavar="FILE.png",
                     help=f"draw the loss curve (log scale) into a 640x480 PNG; needs "
                          f"matplotlib ({PLOT_EXTRA_HINT})")
    predict = commands.add_parser(
        "predict", help="predict with a saved model, one line per row",
        description="Predict every row of DATA with the model file MODEL (written by "
                    "`linreg fit --save` or model.save). A model fitted on named columns "
                    "takes those columns from DATA, by name; otherwise DATA holds just the "
                    "features. One prediction per line (comma-separated for several outputs).")
    predict.add_argument("model", metavar="MODEL")
    predict.add_argument("data", metavar="DATA", help=f"the data file ({FORMATS})")
    predict.add_argument("--output", metavar="FILE", help="write there instead of stdout")
    bench = commands.add_parser(
        "bench", help="a quick (under a minute) comparison with plain NumPy on this machine",
        description="Time a few fits against the same loops written in plain NumPy, on "
                    "this machine, and print a table (median and spread of repeated "
                    "runs). The full benchmark suite is in the repository's bench/.")
    bench.add_argument("--rounds", type=int, metavar="N",
                       help="paired rounds per problem (default: 5 to 15, about 6 s each)")
    return parser


def main(argv=None):
    """Run the `linreg` command with `argv` (default: sys.argv[1:]); return the exit status.

    Parameters
    ----------
    argv : list of str, optional

    Returns
    -------
    int
        0 on success, 2 for a usage error (reported on stderr as one line), 130 when
        interrupted.

    Examples
    --------
    >>> main(["fit", "no-such-file.csv", "--target", "y"])
    2
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _build_parser()
    arguments, extra = parser.parse_known_args(argv)
    command = arguments.command or "demo"
    if extra and command != "fit":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        with warnings.catch_warnings():
            warnings.showwarning = functools.partial(_show_warning, command)
            _run(command, arguments, extra)
    except (UsageError, TableError, DivergenceError) as error:
        _say(f"linreg {command}: error: {_one_line(error)}")
        return 2
    except KeyboardInterrupt:
        _say(f"linreg {command}: interrupted")
        return 130
    except BrokenPipeError:  # `linreg predict ... | head`: the reader left, fine
        sys.stderr.close()
        return 0
    return 0


def _run(command, arguments, extra):
    if command == "demo":
        demo.main()
    elif command == "fit":
        _fit(arguments, extra)
    elif command == "predict":
        _predict(arguments)
    else:
        if arguments.rounds is not None and arguments.rounds < 1:
            raise UsageError(f"--rounds must be at least 1, got {arguments.rounds}")
        run_quick_bench(rounds=arguments.rounds)


def _say(text):
    print(text, file=sys.stderr, flush=True)


def _show_warning(command, message, category, filename, lineno, file=None, line=None):
    # One line, without the source line of linreg's code it was raised in.
    _say(f"linreg {command}: warning: {category.__name__}: {_one_line(message)}")


def _one_line(error):
    return " ".join(str(error).split())


def _parameters(extra, estimator_class):
    """--name VALUE pairs (or --name=VALUE) as constructor parameters of the class."""
    known = set(estimator_class._param_names)
    params, i = {}, 0
    while i < len(extra):
        option = extra[i]
        if not option.startswith("--") or len(option) < 3:
            raise UsageError(f"unexpected argument {option!r} (options are --name VALUE)")
        name, has_value, value = option[2:].partition("=")
        name = name.replace("-", "_")
        if not has_value:
            if i + 1 >= len(extra):
                raise UsageError(f"--{name.replace('_', '-')} needs a value")
            value = extra[i + 1]
            i += 1
        i += 1
        if name not in known:
            other = SGDRegressor if estimator_class is GDRegressor else GDRegressor
            hint = (f" (it is one of {other.__name__}'s: {'drop' if other is GDRegressor else 'add'}"
                    " --sgd)" if name in other._param_names else "")
            raise UsageError(f"unknown option --{name.replace('_', '-')}: not a parameter of "
                             f"{estimator_class.__name__}{hint}; see linreg fit --help")
        if name == "callback":
            raise UsageError("--callback cannot be given on the command line")
        params[name] = _literal(value)
    return params


def _literal(text):
    """'0.01' -> 0.01, 'None' / 'none' -> None, 'true' -> True, '[1, 2]' -> [1, 2];
    anything else stays text ('auto', 'l2')."""
    lowered = {"none": None, "true": True, "false": False}
    if text.lower() in lowered:
        return lowered[text.lower()]
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text


def _fit(arguments, extra):
    estimator_class = SGDRegressor if arguments.sgd else GDRegressor
    params = _parameters(extra, estimator_class)
    table = read_table(arguments.data)
    target = arguments.target
    if target is None:
        if table.named or "y" not in table.names:
            raise UsageError("--target COLUMN is required: the column to predict, one of "
                             + ", ".join(repr(n) for n in table.names[:20]))
        target = "y"
    target_index = table.index(target)
    if arguments.features is not None:
        features = [name.strip() for name in arguments.features.split(",") if name.strip()]
        if not features:
            raise UsageError("--features names no column")
        if table.names[target_index] in features:
            raise UsageError(f"the target {target!r} is also among --features")
    else:
        features = [name for j, name in enumerate(table.names) if j != target_index]
        if not features:
            raise UsageError(f"{arguments.data}: no column besides the target to train on")
    X = table.select(features)
    if table.named:
        X = _Columns(X, features)  # the model records them, as from a data frame
    y = table.values[:, target_index]
    if arguments.plot is not None:
        _check_plot_path(arguments.plot)
    try:
        model = estimator_class(**params)
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
    except (TypeError, ValueError) as error:
        raise UsageError(_one_line(error)) from None
    _print_summary(model, arguments, table.names[target_index], features, X, y, seconds)
    if arguments.save is not None:
        try:
            model.save(arguments.save)
        except OSError as error:
            raise UsageError(f"cannot write {arguments.save}: {error.strerror or error}") from None
        print(f"model saved to {arguments.save}")
    if arguments.plot is not None:
        _save_plot(model, arguments.plot)
        print(f"loss curve drawn in {arguments.plot}")


class _Columns:
    """Named columns for fit: a data frame's two traits linreg reads (`columns`, and
    the values through __array__), so the model records feature_names_in_."""

    def __init__(self, values, names):
        self.values, self.columns = values, [str(name) for name in names]
        self.shape = values.shape

    def __array__(self, dtype=None, copy=None):
        return self.values if dtype is None else self.values.astype(dtype)


def _print_summary(model, arguments, target, features, X, y, seconds):
    losses = model.loss_curve_
    params = {name: value for name, value in model.get_params().items()
              if value is not None and not callable(value)}
    changed = {name: value for name, value in params.items()
               if value != type(model)().get_params()[name]}
    shown = ", ".join(f"{name}={value!r}" for name, value in changed.items())
    print(f"{type(model).__name__}({shown}) on {arguments.data}: {len(y)} rows, "
          f"{len(features)} features, target {target!r}")
    method = f" (method {model.method_})" if hasattr(model, "method_") else ""
    print(f"epochs:     {model.n_iter_}{method}")
    print(f"final loss: {losses[-1]:.6g} (MSE on the training data)")
    print(f"R^2:        {model.score(X, y):.6f} (on the training data)")
    print(f"time:       {seconds:.3f} s")
    if len(features) <= 20:
        width = max(len(name) for name in features + ["intercept"])
        print("coefficients:")
        for name, value in zip(features, np.ravel(model.coef_)):
            print(f"  {name:<{width}}  {value: .6g}")
        print(f"  {'intercept':<{width}}  {float(model.intercept_): .6g}")


def _check_plot_path(path):
    """Refuse a bad --plot before training (not after a long fit)."""
    if not path.lower().endswith(".png"):
        raise UsageError(f"--plot writes a PNG file: give a name ending in .png, got {path!r}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"--plot {path}: no such directory {folder}")
    try:
        import matplotlib  # noqa: F401 - only checking that it is there
    except ImportError:
        raise UsageError(f"--plot needs matplotlib: {PLOT_EXTRA_HINT}") from None


def _save_plot(model, path):
    # A Figure without pyplot: no GUI backend, no global state, works without a display.
    from matplotlib.figure import Figure

    figure = Figure(figsize=PLOT_SIZE_INCHES, dpi=PLOT_DPI)
    plot_loss_curve(model, ax=figure.add_subplot())
    figure.tight_layout()
    try:
        figure.savefig(path, dpi=PLOT_DPI, format="png")
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None


def _predict(arguments):
    try:
        model = load(arguments.model)
    except FileNotFoundError:
        raise UsageError(f"{arguments.model}: no such file") from None
    except (OSError, ValueError, TypeError) as error:
        raise UsageError(_one_line(error)) from None  # load's messages name the file
    if not hasattr(model, "coef_"):
        raise UsageError(f"{arguments.model}: the model in this file was never fitted")
    table = read_table(arguments.data)
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        if not table.named:
            raise UsageError(f"the model was fitted on named columns ({', '.join(names)}); "
                             f"{arguments.data} has no column names")
        X = _Columns(table.select([str(name) for name in names]), names)
    else:
        if table.not_numeric:
            raise UsageError(next(iter(table.not_numeric.values())))
        X = table.values
        if X.shape[1] != model.n_features_in_:
            raise UsageError(f"the model takes {model.n_features_in_} features, "
                             f"{arguments.data} has {X.shape[1]} columns")
    try:
        predictions = model.predict(X)
    except (TypeError, ValueError) as error:
        raise UsageError(_one_line(error)) from None
    rows = predictions.reshape(len(predictions), -1)
    lines = "".join(",".join(repr(float(v)) for v in row) + "\n" for row in rows)
    if arguments.output is None:
        sys.stdout.write(lines)
        sys.stdout.flush()
        return
    try:
        with open(arguments.output, "w") as file:
            file.write(lines)
    except OSError as error:
        raise UsageError(f"cannot write {arguments.output}: {error.strerror or error}") from None
