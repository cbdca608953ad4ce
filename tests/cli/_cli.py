"""Running the `linreg` command as a user does: a subprocess, from a given directory.

Not a test module. The command is the console script installed next to the Python
running the tests (the `linreg` of its environment), so no PATH lookup can pick another.
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

#: The `linreg` console script of the environment under test.
LINREG = str(Path(sys.executable).with_name("linreg"))
REPO_ROOT = Path(__file__).resolve().parents[2]


def run(*args, cwd=None, timeout=120, env=None):
    """`linreg ARGS...` in `cwd`; returns the CompletedProcess (text, both streams)."""
    return subprocess.run([LINREG, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def write_csv(path, names, rows):
    """A CSV file with a header row; `rows` is a list of lists of cells (any type)."""
    lines = [",".join(names)] + [",".join(str(cell) for cell in row) for row in rows]
    Path(path).write_text("\n".join(lines) + "\n")
    return path


def linear_data(n=200, seed=0):
    """(X (n, 3), y): y = 2 x0 - x1 + 0.5 x2 + 3, small noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = X @ [2.0, -1.0, 0.5] + 3.0 + 0.01 * rng.normal(size=n)
    return X, y


def assert_one_line_error(result):
    """Exit status 2, a single line on stderr, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]
