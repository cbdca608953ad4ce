"""python bench/report.py bench.json [--readme README.md] > bench/RESULTS.md

Writes the full report (see bench/_harness/report.py) on stdout, with the table of
"threads never lose" (bench/_harness/thread_table.py) before the groups; with --readme,
also rewrites the README's benchmark table (bench/_harness/readme_table.py) and its
thread table from the same run.
"""
import json
import sys

from _harness.readme_table import readme_table, replace_table  # bench/ is on sys.path
from _harness.report import report
from _harness.thread_table import replace_thread_table, thread_table


def _with_thread_table(text, lines):
    """The report with the thread table as its first section, before the first group."""
    if not lines:
        return text
    head, sep, rest = text.partition("\n## ")
    section = "\n".join(["", "## Threads never lose (bench/test_thread_policy.py)", ""] + lines)
    return head + section + "\n" + sep + rest


def run(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--readme"):
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    with open(argv[1]) as file:
        data = json.load(file)
    threads = thread_table(data.get("benchmarks", []))
    if len(argv) == 4:
        with open(argv[3]) as file:
            text = file.read()
        text = replace_thread_table(replace_table(text, readme_table(data)), threads)
        with open(argv[3], "w") as file:
            file.write(text)
    print(_with_thread_table(report(data), threads))
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv))
