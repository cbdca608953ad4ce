"""Markdown table comparing two pytest-benchmark JSON files: a "before" and an "after" run.

Usage: python bench/compare.py BEFORE.json AFTER.json [--threshold 0.05] [--spread range]

Made to show that a change did not slow anything: run the same benchmarks before and
after it, in one session on one machine (`pytest bench --benchmark-only
--benchmark-json=before.json`, then the same with after.json), and compare. One row per
benchmark found in both files, in the after run's order:

* the median of each side and its spread: the interquartile range q1-q3 (default) or
  min-max (--spread range), in ms;
* "after / before" = after's median / before's median: above 1, the after run is slower;
* a flag when after is more than --threshold (default 0.05, 5%) slower, noting when the
  two spreads overlap (then the difference is within the rounds' own scatter: run again
  before believing it).

Rows timed in another process (scikit-learn and PyTorch, extra_info["external_times_s"])
use those timings, as report.py does, and are marked with a dagger. Benchmarks found in
one file only are listed under the table; so are differences between the two machine
descriptions (CPU, cores, NumPy, linreg's SIMD build), which make the ratios meaningless.

Exit status: 0; with --fail-if-slower, 1 when a row is flagged. Standard library only.
"""
import argparse
import json
import math
import sys

from .report import row_timing

__all__ = ["compare", "main"]


def _ms(seconds):
    """Milliseconds with about four significant digits, without exponent notation."""
    value = seconds * 1e3
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.3f}"
    return f"{value:.4f}"


def _spread(timing, spread):
    """(low, high) seconds of a RowTiming: (q1, q3) for "iqr", (min, max) for "range"."""
    return (timing.q1, timing.q3) if spread == "iqr" else (timing.min, timing.max)


def _rows(data):
    """{fullname: benchmark entry} of the entries that carry timing stats."""
    return {b["fullname"]: b for b in data.get("benchmarks", []) if b.get("stats")}


def _display_names(fullnames):
    """{fullname: the short test name, or the full name when two modules share it}."""
    short = {name: name.rsplit("::", 1)[-1] for name in fullnames}
    counts = {}
    for name in short.values():
        counts[name] = counts.get(name, 0) + 1
    return {full: name if counts[name] == 1 else full for full, name in short.items()}


def _run_line(label, path, data):
    commit = data.get("commit_info") or {}
    parts = [data.get("datetime", "date unknown")]
    if commit.get("id"):
        parts.append(f"commit {commit['id'][:10]}" + (" (dirty)" if commit.get("dirty") else ""))
    parts.append(f"{len(_rows(data))} timed benchmarks")
    return f"- {label}: `{path}` ({', '.join(parts)})"


def _machine_differences(before, after):
    """What differs between the machine descriptions that matters for timings."""
    def facts(data):
        machine = data.get("machine_info") or {}
        cpu = machine.get("cpu") or {}
        return {
            "CPU": cpu.get("brand_raw") or machine.get("processor"),
            "cores": cpu.get("count") or machine.get("cpu_count"),
            "host": machine.get("node"),
            "Python": machine.get("python_version"),
            "NumPy": (machine.get("numpy") or {}).get("version"),
            "linreg SIMD build": (machine.get("linreg") or {}).get("simd"),
        }

    old, new = facts(before), facts(after)
    return [f"{key}: {old[key]} -> {new[key]}" for key in old if old[key] != new[key]]


def compare(before, after, *, before_name="before", after_name="after", threshold=0.05,
            spread="iqr"):
    """The comparison of two pytest-benchmark runs, as Markdown.

    Parameters
    ----------
    before, after : dict
        The parsed JSON files (pytest's --benchmark-json).
    before_name, after_name : str
        How to name the files in the header (their paths).
    threshold : float, default 0.05
        A row is flagged when after's median exceeds before's by more than this share.
    spread : {"iqr", "range"}, default "iqr"
        The spread shown for each side: q1-q3, or min-max.

    Returns
    -------
    text : str
        The Markdown.
    slower : list of str
        The names of the flagged rows.
    """
    if spread not in ("iqr", "range"):
        raise ValueError(f"spread must be 'iqr' or 'range', not {spread!r}")
    if not (isinstance(threshold, (int, float)) and threshold >= 0):
        raise ValueError(f"threshold must be a number >= 0, not {threshold!r}")
    old, new = _rows(before), _rows(after)
    common = [name for name in new if name in old]
    names = _display_names(set(old) | set(new))
    spread_label = "q1-q3" if spread == "iqr" else "min-max"
    lines = [
        "# Benchmarks: after / before",
        "",
        _run_line("before", before_name, before),
        _run_line("after", after_name, after),
        f"- medians and spreads ({spread_label}) in ms; \"after / before\" above 1: the after"
        f" run is slower; ⚠ flags a row more than {threshold:.0%} slower",
    ]
    differences = _machine_differences(before, after)
    if differences:
        lines.append("- **different machines or builds** (the ratios compare them, not the"
                     " code): " + "; ".join(differences))
    lines += [
        "",
        f"| benchmark | before median | before {spread_label} | after median"
        f" | after {spread_label} | after / before | |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    slower, log_ratios, any_external = [], [], False
    for fullname in common:
        was, now = row_timing(old[fullname]), row_timing(new[fullname])
        label = names[fullname]
        if was.external or now.external:
            label += " †"
            any_external = True
        was_low, was_high = _spread(was, spread)
        now_low, now_high = _spread(now, spread)
        if was.median > 0 and now.median > 0:
            ratio = now.median / was.median
            log_ratios.append(math.log(ratio))
            ratio_text = f"{ratio:.3f}"
        else:
            ratio, ratio_text = None, "n/a"
        flag = ""
        if ratio is not None and ratio > 1 + threshold:
            slower.append(names[fullname])
            flag = f"⚠ {ratio - 1:.1%} slower"
            if now_low <= was_high:
                flag += f" ({spread_label} ranges overlap)"
        lines.append(
            f"| {label} | {_ms(was.median)} | {_ms(was_low)}-{_ms(was_high)}"
            f" | {_ms(now.median)} | {_ms(now_low)}-{_ms(now_high)} | {ratio_text} | {flag} |"
        )
    lines.append("")
    if log_ratios:
        geomean = math.exp(sum(log_ratios) / len(log_ratios))
        lines.append(f"{len(common)} benchmarks compared; geometric mean of after / before:"
                     f" {geomean:.3f}; more than {threshold:.0%} slower: {len(slower)}"
                     + (f" ({', '.join(slower)})." if slower else "."))
    else:
        lines.append("No benchmark with timings is in both files.")
    if any_external:
        lines += ["", "† timed in a separate process (scikit-learn, PyTorch): the rounds it"
                  " timed itself (extra_info[\"external_times_s\"]), as in report.py."]
    for label, only in (("before", [n for n in old if n not in new]),
                        ("after", [n for n in new if n not in old])):
        if only:
            lines += ["", f"Only in {label}: " + ", ".join(names[n] for n in only) + "."]
    return "\n".join(lines), slower


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python bench/compare.py",
        description="Compare two pytest-benchmark JSON files (before, after) as Markdown.")
    parser.add_argument("before", help="JSON of the run before the change")
    parser.add_argument("after", help="JSON of the run after the change")
    parser.add_argument("--threshold", type=float, default=0.05,
                        help="flag rows whose after median exceeds before's by more than"
                             " this share (default 0.05)")
    parser.add_argument("--spread", choices=("iqr", "range"), default="iqr",
                        help="spread shown per side: q1-q3 (iqr, default) or min-max (range)")
    parser.add_argument("--fail-if-slower", action="store_true",
                        help="exit with status 1 when a row is flagged")
    args = parser.parse_args(argv)
    if args.threshold < 0:
        parser.error(f"--threshold must be >= 0, not {args.threshold}")
    data = []
    for path in (args.before, args.after):
        try:
            with open(path) as f:
                data.append(json.load(f))
        except (OSError, ValueError) as exc:
            parser.error(f"cannot read {path}: {exc}")
    text, slower = compare(data[0], data[1], before_name=args.before, after_name=args.after,
                           threshold=args.threshold, spread=args.spread)
    print(text)
    return 1 if args.fail_if_slower and slower else 0


if __name__ == "__main__":
    sys.exit(main())
