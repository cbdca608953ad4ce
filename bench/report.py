"""python bench/report.py bench.json [--readme README.md] > bench/RESULTS.md

Writes the full report (see bench/_harness/report.py) on stdout; with --readme, also
rewrites the README's benchmark table (bench/_harness/readme_table.py) from the same run.
"""
import sys

from _harness.readme_table import readme_table, replace_table  # bench/ is on sys.path
from _harness.report import main


def run(argv):
    if len(argv) == 4 and argv[2] == "--readme":
        import json

        with open(argv[1]) as file:
            data = json.load(file)
        with open(argv[3]) as file:
            text = file.read()
        with open(argv[3], "w") as file:
            file.write(replace_table(text, readme_table(data)))
        argv = argv[:2]
    return main(argv)


if __name__ == "__main__":
    sys.exit(run(sys.argv))
