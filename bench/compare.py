"""python bench/compare.py before.json after.json > table.md: see bench/_harness/compare.py."""
import sys

from _harness.compare import main  # bench/ is on sys.path: it holds this script

if __name__ == "__main__":
    sys.exit(main())
