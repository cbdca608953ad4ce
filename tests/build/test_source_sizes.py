"""No source file of linreg over 600 lines (issue 11): one module, one job."""
from pathlib import Path

import pytest

import linreg

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(Path(linreg.__file__).parent.glob("*.py")) + sorted(
    (REPO_ROOT / "linreg" / "_kernels").glob("*.pxi"))


def test_the_sources_are_found():
    names = {path.name for path in SOURCES}
    assert {"estimators.py", "kernels.py", "step.pxi", "loops.pxi"} <= names


@pytest.mark.parametrize("path", SOURCES, ids=[path.name for path in SOURCES])
def test_no_source_file_is_over_600_lines(path):
    assert len(path.read_text().splitlines()) <= 600
