"""Markdown summary of a pytest-benchmark JSON file of the linreg benchmarks.

Usage: python bench/report.py results.json

Prints a header naming the machine (CPU, cores, NumPy and its BLAS, linreg's SIMD
variant, thread counts), then one table per benchmark group: each implementation's
median time and "linreg speedup" = that implementation's median / linreg's median, so
a value above 1 means linreg is faster. For the `numpy-matmul-floor` row (X @ w, one
read of X) the ratio shows how close linreg comes to the floor: 1/1.3 = 0.77 or more
meets the "within 1.3x of X @ w" target.

What a benchmark can add to its extra_info, and what the report does with it:

* "variant" (e.g. "shuffle" / "no-shuffle"): several settings of one workload share a
  group; each row is labelled "impl (variant)" and its speedup is taken against the
  linreg row of the *same* variant.
* "external_times_s": a list of seconds, one per round, of work timed in another process
  (scikit-learn runs in a subprocess so that its OpenMP threads cannot slow the benchmark
  process; see bench/sklearn_sgd.py). pytest-benchmark cannot time work it does not run,
  so its own stats for such a row are the wall time of launching that process (imports
  and data loading included) and are NOT used: the row's median, IQR and rounds are
  computed from external_times_s instead (quartiles as pytest-benchmark computes them)
  and the row is marked with a dagger. "external_process" describes how they were taken.
* "peak_extra_bytes" (with "x_bytes" and "allowance_bytes"): the row is a memory
  measurement (the memory-fit group): it goes to the "Memory" section, which prints the
  peak extra memory of a fit as a percentage of X's bytes, and not to a timing table.

Standard library and NumPy only.
"""
import json
import os
import statistics
import sys
from collections import defaultdict

LINREG = "linreg"


def _impl(bench):
    """The implementation id: extra_info["impl"], else the last id in the test's brackets."""
    impl = bench.get("extra_info", {}).get("impl")
    if impl:
        return impl
    name = bench.get("name", "")
    if "[" in name:
        return name[name.index("[") + 1 : name.rindex("]")].split("-", 1)[-1]
    return name


def _cpu_model(machine):
    cpu = machine.get("cpu") or {}
    for key in ("brand_raw", "brand"):
        if cpu.get(key):
            details = [f"{k} {cpu[k]}" for k in ("family", "model") if k in cpu]
            if cpu.get("hz_advertised_friendly"):
                details.append(cpu["hz_advertised_friendly"])
            return cpu[key] + (f" ({', '.join(details)})" if details else "")
    try:  # the JSON lacks it when py-cpuinfo is missing: read this machine's instead
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip() + " (from /proc/cpuinfo)"
    except OSError:
        pass
    return machine.get("processor") or "unknown"


def _cores(machine):
    cpu = machine.get("cpu") or {}
    count = cpu.get("count") or machine.get("cpu_count")
    if count:
        return str(count)
    return f"{os.cpu_count()} (of the machine running this report)"


def _numpy_and_blas(machine):
    """NumPy version and BLAS as recorded by bench/conftest.py when the benchmarks ran.

    Falls back to numpy.show_config(mode="dicts") of the interpreter running this report.
    """
    info = machine.get("numpy") or {}
    version, blas, note = info.get("version"), info.get("blas") or {}, ""
    if not version or not blas:
        import numpy as np

        note = " (from the NumPy running this report)"
        version = version or np.__version__
        try:
            blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        except Exception:
            blas = {}
    if blas:
        blas_text = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
        config = blas.get("openblas configuration")
        if config:
            blas_text += f" ({config})"
    else:
        blas_text = "unknown"
    pools = [p for p in machine.get("threadpools") or [] if p.get("user_api") == "blas"]
    if pools:
        kernel = ", ".join(sorted({str(p.get("architecture")) for p in pools}))
        blas_text += f", kernel {kernel}"
    return version, blas_text + note


def _simd(machine, benches):
    simd = (machine.get("linreg") or {}).get("simd")
    if simd:
        return simd
    found = {b.get("extra_info", {}).get("linreg_simd") for b in benches} - {None}
    return ", ".join(sorted(found)) or "unknown"


def _threads(benches):
    found = sorted({str(b.get("extra_info", {}).get("threads", "?")) for b in benches})
    return ", ".join(found)


def _problem(benches):
    """The problem size of a group, when all its benchmarks share it."""
    sizes = {
        tuple(b.get("extra_info", {}).get(key) for key in ("n", "d", "k")) for b in benches
    }
    if len(sizes) == 1:
        n, d, k = sizes.pop()
        if n is not None:
            return f"n = {n:,}, d = {d}, k = {k}"
    return ""


def _fmt_ratio(x):
    return f"{x:.2f}x" if x < 10 else f"{x:.0f}x"


def _quartiles(data):
    """(Q1, Q3) of sorted data, computed as pytest-benchmark computes them."""
    rounds = len(data)
    if rounds == 1:
        return data[0], data[0]
    if rounds % 2:  # method 3
        n, q = rounds // 4, rounds % 4
        if q == 1:
            return (0.25 * data[n - 1] + 0.75 * data[n],
                    0.75 * data[3 * n] + 0.25 * data[3 * n + 1])
        return (0.75 * data[n] + 0.25 * data[n + 1],
                0.25 * data[3 * n + 1] + 0.75 * data[3 * n + 2])
    return statistics.median(data[: rounds // 2]), statistics.median(data[rounds // 2 :])


def _timing(bench):
    """(median s, IQR s, rounds, external?) of a row.

    From extra_info["external_times_s"] when the work was timed in another process,
    else from pytest-benchmark's stats.
    """
    external = bench.get("extra_info", {}).get("external_times_s")
    if external:
        data = sorted(float(t) for t in external)
        q1, q3 = _quartiles(data)
        return statistics.median(data), q3 - q1, len(data), True
    s = bench["stats"]
    return s["median"], s["iqr"], s["rounds"], False


def _variant(bench):
    return bench.get("extra_info", {}).get("variant")


def _is_memory(bench):
    return "peak_extra_bytes" in bench.get("extra_info", {})


def _timing_table(members):
    """The rows of one group's timing table, and whether a row was timed externally."""
    rows = {(_variant(b), _impl(b)): b for b in members}
    base = {
        variant: _timing(b)[0] for (variant, impl), b in rows.items() if impl == LINREG
    }
    lines = [
        "| implementation | median (ms) | IQR (ms) | rounds | threads | linreg speedup |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    any_external = False
    for variant, impl in sorted(rows, key=lambda r: (r[0] or "", r[1] != LINREG, r[1])):
        bench = rows[variant, impl]
        median, iqr, rounds, external = _timing(bench)
        any_external |= external
        threads = bench.get("extra_info", {}).get("threads", "?")
        label = impl + (f" ({variant})" if variant else "") + (" †" if external else "")
        if impl == LINREG:
            ratio = "1.00x (the denominator)"
        elif base.get(variant):
            ratio = _fmt_ratio(median / base[variant])
        else:
            ratio = "n/a (no linreg row)"
        lines.append(
            f"| {label} | {median * 1e3:.3f} | {iqr * 1e3:.3f} | {rounds} | {threads}"
            f" | {ratio} |"
        )
    return lines, any_external


def _memory_section(benches):
    """Peak extra memory of fits (rows with extra_info["peak_extra_bytes"])."""
    lines = [
        "",
        "## Memory: peak extra memory of fit (tracemalloc)",
        "",
        "Peak bytes traced by tracemalloc during one fit (NumPy reports its buffers to it),"
        " above those traced before it, as a share of X's bytes; the allowance is 5% of X"
        " plus 8 bytes per sample when shuffling. Peak RSS rise (Linux, informational) is"
        " the rise of VmHWM during another fit: a copy of X would show as about 100%, but"
        " small allocations served from memory the allocator already holds (such as the"
        " shuffle order, after earlier fits) do not raise it.",
        "",
        "| fit | dtype | n | d | X (MB) | peak extra (MB) | peak extra / X"
        " | allowance / X | peak RSS rise / X | fit median (ms) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    key = lambda b: (b["extra_info"].get("fit", ""), b["extra_info"].get("dtype", ""))  # noqa: E731
    for b in sorted(benches, key=key):
        info = b["extra_info"]
        x_bytes = info["x_bytes"]
        rss = info.get("peak_rss_extra_bytes")
        rss_text = "n/a" if rss is None else f"{rss / x_bytes:.2%}"
        lines.append(
            f"| {info.get('fit', _impl(b))} | {info.get('dtype', '?')} | {info.get('n', 0):,}"
            f" | {info.get('d', '?')} | {x_bytes / 1e6:.1f}"
            f" | {info['peak_extra_bytes'] / 1e6:.3f}"
            f" | {info['peak_extra_bytes'] / x_bytes:.2%}"
            f" | {info['allowance_bytes'] / x_bytes:.2%} | {rss_text}"
            f" | {_timing(b)[0] * 1e3:.3f} |"
        )
    return lines


def report(data):
    benches = data.get("benchmarks", [])
    machine = data.get("machine_info", {})
    version, blas = _numpy_and_blas(machine)
    lines = [
        "# linreg benchmarks",
        "",
        f"- CPU: {_cpu_model(machine)}, {_cores(machine)} cores"
        f" ({machine.get('machine', '?')}, {machine.get('system', '?')})",
        f"- Python {machine.get('python_version', '?')}, NumPy {version}, BLAS {blas}",
        f"- linreg kernels: {_simd(machine, benches)}",
        f"- Threads: {_threads(benches)} (BLAS pinned with threadpoolctl, both sides)",
        f"- Run: {data.get('datetime', '?')}; times are medians over rounds",
    ]

    groups = defaultdict(list)
    for b in benches:
        if not _is_memory(b):
            groups[b.get("group") or "(no group)"].append(b)

    for group in sorted(groups):
        members = groups[group]
        size = _problem(members)
        lines += ["", f"## {group}" + (f" ({size})" if size else ""), ""]
        table, any_external = _timing_table(members)
        lines += table
        if any_external:
            notes = sorted({b["extra_info"].get("external_process", "another process")
                            for b in members if _timing(b)[3]})
            lines += ["", "† timed in a separate process, rounds reported in"
                      " extra_info[\"external_times_s\"] (pytest-benchmark's own stats for"
                      " this row time the whole subprocess and are not used): "
                      + "; ".join(notes)]

    memory = [b for b in benches if _is_memory(b)]
    if memory:
        lines += _memory_section(memory)
    return "\n".join(lines)


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        data = json.load(f)
    print(report(data))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
