"""Lets this folder's test modules `import _aliasing_cases` (tests/ itself is put on
sys.path by tests/conftest.py; pytest runs with --import-mode=importlib)."""
import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
