"""Lets the command-line tests `import _cli` (this folder's helpers); a CSV fixture."""
import sys
from pathlib import Path

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from _cli import linear_data, write_csv  # noqa: E402  (needs the sys.path entry above)


@pytest.fixture
def data_csv(tmp_path):
    """data.csv with columns a, b, c (features) and target (y = 2a - b + 0.5c + 3)."""
    X, y = linear_data()
    rows = [[*row, target] for row, target in zip(X.tolist(), y.tolist())]
    return write_csv(tmp_path / "data.csv", ["a", "b", "c", "target"], rows)
