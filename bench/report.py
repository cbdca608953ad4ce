"""Markdown summary of a pytest-benchmark JSON file of the linreg benchmarks.

Usage: python bench/report.py results.json

Prints a header naming the machine (CPU, cores, NumPy and its BLAS, linreg's SIMD
variant, thread counts), then one table per benchmark group: each implementation's
median time and "linreg speedup" = that implementation's median / linreg's median, so
a value above 1 means linreg is faster. For the `numpy-matmul-floor` row (X @ w, one
read of X) the ratio shows how close linreg comes to the floor: 1/1.3 = 0.77 or more
meets the "within 1.3x of X @ w" target.

Standard library and NumPy only.
"""
import json
import os
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
        groups[b.get("group") or "(no group)"].append(b)

    for group in sorted(groups):
        members = groups[group]
        by_impl = {_impl(b): b for b in members}
        linreg = by_impl.get(LINREG)
        base = linreg["stats"]["median"] if linreg else None
        order = sorted(by_impl, key=lambda i: (i != LINREG, i))
        size = _problem(members)
        lines += ["", f"## {group}" + (f" ({size})" if size else ""), ""]
        lines += [
            "| implementation | median (ms) | IQR (ms) | rounds | threads | linreg speedup |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for impl in order:
            s = by_impl[impl]["stats"]
            threads = by_impl[impl].get("extra_info", {}).get("threads", "?")
            if impl == LINREG:
                ratio = "1.00x (the denominator)"
            elif base:
                ratio = _fmt_ratio(s["median"] / base)
            else:
                ratio = "n/a (no linreg row)"
            lines.append(
                f"| {impl} | {s['median'] * 1e3:.3f} | {s['iqr'] * 1e3:.3f} | {s['rounds']}"
                f" | {threads} | {ratio} |"
            )
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
