"""python bench/report.py bench.json > bench/RESULTS.md: see bench/_harness/report.py."""
import sys

from _harness.report import main  # bench/ is on sys.path: it holds this script

if __name__ == "__main__":
    sys.exit(main(sys.argv))
