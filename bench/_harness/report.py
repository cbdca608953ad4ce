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
  process; see bench/_harness/peers.py). pytest-benchmark cannot time work it does not
  run, so its own stats for such a row are the wall time of launching that process (imports
  and data loading included) and are NOT used: the row's median, IQR and rounds are
  computed from external_times_s instead (quartiles as pytest-benchmark computes them)
  and the row is marked with a dagger. "external_process" describes how they were taken.
* "call_times_s": a list of seconds, one per call of the row's work, timed inside a
  scenario whose one pedantic round times all its contenders together (the thread
  policy's rows, bench/test_thread_policy.py; the contenders timed call by call in
  alternation by bench/_harness/interleave.py): the row's median, IQR and rounds are
  computed from it, as from external_times_s, without the dagger.
* "peak_extra_bytes" (with "x_bytes" and "allowance_bytes"): the row is a memory
  measurement (the memory-fit group): it goes to the "Memory" section, which prints the
  peak extra memory of a fit as a percentage of X's bytes, and not to a timing table.
* "read_bytes" with "read_bandwidth_threads": the row reads that many bytes once per
  round with that many threads. The read-bandwidth group's rows (work "read-bandwidth")
  give the machine's bytes per second; every other such row gets its share of the
  bandwidth with as many threads, listed under its table.
* "workers" (threads fitting at once): in a group whose rows of one implementation come
  with several worker counts (the multi-threaded group: "sequential" with 1, "2-threads"
  with 2), the report adds that implementation's concurrent speedup, sequential median /
  concurrent median (ideal: the number of workers).
* "denominator": True on the row that stands for linreg in a group without a plain
  "linreg" row (the thread policy's "linreg (1-thread)"): the group's ratios are taken
  against it.
* "threads": the threads column (the thread pools' sizes, or the workers).
* "relative_gap", "target_gap", "reached", "capped", "budget" (bench/test_auto_lr.py):
  the row's result against a target rather than a time to an identical answer. A row
  with reached False is marked ✗: its time is its whole run, so its ratio is a lower
  bound ("> 12x") when it stopped at its budget still short ("capped"), and "n/a" when
  it finished with an answer short of the target; a line under the table lists every
  row's gap and budget.
* any row with 3 or more rounds whose IQR exceeds UNSTABLE_IQR of its median is marked
  unstable (⚠) and named under the table.
* "other_load_cores", "steal_cores" (bench/conftest.py measures them around every test):
  cores kept busy by other processes / taken by the hypervisor; a group where they
  exceed NOISY_CORES is flagged as noisy.

Besides the benchmarks, the JSON's "not_run" list (written by
bench/_harness/pytest_hooks.py: pytest-benchmark's JSON has no skipped tests) names the
peers that did not run and why; each is listed under its group ("not run: ..."), or at the end when it has no group.

Groups appear in the order of WORK_ORDER (kernels, then training runs), float64 first.

Standard library and NumPy only.
"""
import json
import os
import statistics
import sys
from collections import defaultdict
from typing import NamedTuple

__all__ = ["report", "RowTiming", "row_timing", "main"]

LINREG = "linreg"
READ_BANDWIDTH = "read-bandwidth"

#: The order of the sections (extra_info["work"]); other work comes after, by name.
WORK_ORDER = [
    "loss_and_grad",
    "predict",
    "sgd_epoch",
    "seed-gd-1000-epochs",
    "gd-200-epochs",
    "gd-20-epochs",
    "gd-20-epochs-2-models",
    "sgd-10-epochs",
    "sgd-1-epoch-n10k",
    "epoch-all-cores",
    "gd-1000-epochs",
    "blas-after-linreg",
    "reach-1e-6-unscaled",
    "memory-fit",
]

PEER_NAMES = {"scikit-learn": "scikit-learn", "torch": "PyTorch"}


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
    """NumPy version and BLAS as bench/_harness/machine.py recorded them in the benchmarks' run.

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
    """The header's line on threads: what single-threaded means, and the exceptions."""
    def info(b):
        return b.get("extra_info", {})

    def threads(b):
        try:
            return int(info(b).get("threads", 1))
        except (TypeError, ValueError):
            return 1

    workers = {b.get("group") for b in benches if (info(b).get("workers") or 1) > 1}
    all_cores = {b.get("group") for b in benches
                 if threads(b) > 1 and (info(b).get("workers") or 1) == 1} - workers
    text = ("single-threaded comparisons (threads column 1): BLAS and OpenMP pinned to 1"
            " thread on every side (threadpoolctl and OMP/OPENBLAS/MKL_NUM_THREADS=1;"
            " PyTorch also torch.set_num_threads(1)); scikit-learn and PyTorch, which load"
            " OpenMP, run in a separate process")
    if all_cores:
        n = sorted({threads(b) for b in benches if b.get("group") in all_cores})
        text += (f". All cores ({', '.join(map(str, n))} threads on both sides: linreg's"
                 f" n_threads and BLAS's pool): {', '.join(sorted(all_cores))}")
    if workers:
        counts = sorted({info(b)["workers"] for b in benches
                         if (info(b).get("workers") or 1) > 1})
        text += (f". Multi-threaded by Python threads: {', '.join(sorted(workers))}, with"
                 f" {', '.join(map(str, counts))} Python threads fitting at once"
                 " (1 BLAS thread each)")
    return text


def _peers(machine, benches):
    """Versions of the optional peers, as recorded by bench/_harness/machine.py."""
    peers = machine.get("peers") or {}
    found = {b.get("extra_info", {}).get("sklearn_version") for b in benches} - {None}
    if found and not peers.get("scikit-learn"):
        peers["scikit-learn"] = ", ".join(sorted(found))
    found = {b.get("extra_info", {}).get("torch_version") for b in benches} - {None}
    if found and not peers.get("torch"):
        peers["torch"] = ", ".join(sorted(found))
    parts = [f"{PEER_NAMES.get(name, name)} {version or 'not installed'}"
             for name, version in sorted(peers.items())]
    return "; ".join(parts) or "not recorded"


def _problem(benches):
    """The problem size of a group, when all its benchmarks share it."""
    sizes = {  # a not_run entry has n, d, k at its top level
        tuple(b.get("extra_info", b).get(key) for key in ("n", "d", "k")) for b in benches
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


class RowTiming(NamedTuple):
    """The timing of one row, in seconds."""

    median: float
    iqr: float  #: q3 - q1
    q1: float
    q3: float
    min: float
    max: float
    rounds: int
    external: bool  #: timed in another process (extra_info["external_times_s"])


def row_timing(bench):
    """RowTiming of a row (one entry of the JSON's "benchmarks").

    From extra_info["external_times_s"] when the work was timed in another process, or
    ["call_times_s"] when it was timed call by call inside a scenario, else from
    pytest-benchmark's stats.
    """
    info = bench.get("extra_info", {})
    external = info.get("external_times_s")
    times = external or info.get("call_times_s")
    if times:
        data = sorted(float(t) for t in times)
        q1, q3 = _quartiles(data)
        return RowTiming(statistics.median(data), q3 - q1, q1, q3, data[0], data[-1],
                         len(data), bool(external))
    s = bench["stats"]
    return RowTiming(s["median"], s["iqr"], s["q1"], s["q3"], s["min"], s["max"],
                     s["rounds"], False)


def _variant(bench):
    return bench.get("extra_info", {}).get("variant")


def _is_memory(bench):
    return "peak_extra_bytes" in bench.get("extra_info", {})


#: A row whose IQR exceeds this share of its median is marked unstable: its rounds moved
#: between levels (on a shared or virtual machine, often for reasons no load figure shows).
UNSTABLE_IQR = 0.2


def _timing_table(members):
    """The rows of one group's timing table, whether a row was timed externally, and the
    labels of the unstable rows."""
    rows = {(_variant(b), _impl(b)): b for b in members}
    base = {
        variant: row_timing(b).median for (variant, impl), b in rows.items()
        if impl == LINREG or b.get("extra_info", {}).get("denominator")
    }
    lines = [
        "| implementation | median (ms) | IQR (ms) | rounds | threads | linreg speedup |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    any_external = False
    unstable = []
    for variant, impl in sorted(rows, key=lambda r: (r[0] or "", r[1] != LINREG, r[1])):
        bench = rows[variant, impl]
        timing = row_timing(bench)
        median, iqr, rounds, external = timing.median, timing.iqr, timing.rounds, timing.external
        any_external |= external
        threads = bench.get("extra_info", {}).get("threads", "?")
        label = impl + (f" ({variant})" if variant else "")
        if rounds >= 3 and median > 0 and iqr > UNSTABLE_IQR * median:
            unstable.append(f"{label}: IQR {iqr / median:.0%} of the median")
            label += " ⚠"
        label += " †" if external else ""
        info = bench.get("extra_info", {})
        short = info.get("reached") is False
        if short:
            label += " ✗"
        if impl == LINREG or info.get("denominator"):
            ratio = "1.00x (the denominator)"
        elif not base.get(variant):
            ratio = "n/a (no linreg row)"
        elif short and info.get("capped"):  # it would need more than the time it ran
            ratio = "> " + _fmt_ratio(median / base[variant])
        elif short:
            ratio = "n/a (short of the target)"
        else:
            ratio = _fmt_ratio(median / base[variant])
        lines.append(
            f"| {label} | {median * 1e3:.3f} | {iqr * 1e3:.3f} | {rounds} | {threads}"
            f" | {ratio} |"
        )
    return lines, any_external, unstable


def _gap_lines(members):
    """Each row's relative gap to its target (rows with extra_info["relative_gap"])."""
    rows = [b for b in members if "relative_gap" in b.get("extra_info", {})]
    if not rows:
        return []
    target = rows[0]["extra_info"].get("target_gap")
    parts = []
    for b in sorted(rows, key=lambda b: (_impl(b) != LINREG, _impl(b))):
        info = b["extra_info"]
        mark = " ✗" if info.get("reached") is False else ""
        budget = f" ({info['budget']})" if info.get("budget") else ""
        parts.append(f"{_impl(b)}{mark}: {info['relative_gap']:.3g}{budget}")
    return ["", f"Relative gap (MSE - MSE*) / MSE* reached (target {target:g}; ✗: not"
            " reached, the time shown is the whole run): " + "; ".join(parts) + "."]


def _is_bandwidth_probe(bench):
    return bench.get("extra_info", {}).get("work") == READ_BANDWIDTH


def _read_bandwidth(benches):
    """{threads: bytes per second} of the read-bandwidth rows (bench/test_floor.py)."""
    out = {}
    for b in benches:
        info = b.get("extra_info", {})
        if _is_bandwidth_probe(b) and info.get("read_bytes"):
            out[info["read_bandwidth_threads"]] = info["read_bytes"] / row_timing(b).median
    return out


def _bandwidth_lines(members, bandwidth):
    """The read bandwidth itself, or each row's share of it (rows with "read_bytes":
    bytes read / median, against the read-bandwidth row with as many threads)."""
    if any(_is_bandwidth_probe(b) for b in members):
        parts = [f"{rate / 1e9:.1f} GB/s with {threads} thread(s)"
                 for threads, rate in sorted(bandwidth.items())]
        return ["", "Read bandwidth: " + ", ".join(parts) + "."] if parts else []
    scaling = _bandwidth_scaling_line(members, bandwidth)
    if scaling:
        return scaling
    parts = []
    for b in sorted(members, key=lambda b: (_variant(b) or "", _impl(b) != LINREG, _impl(b))):
        info = b.get("extra_info", {})
        rate = bandwidth.get(info.get("read_bandwidth_threads"))
        if info.get("read_bytes") and rate:
            share = info["read_bytes"] / row_timing(b).median / rate
            label = _impl(b) + (f" ({_variant(b)})" if _variant(b) else "")
            parts.append(f"{label} {share:.0%}")
    if not parts:
        return []
    return ["", "Share of the read bandwidth (bytes of X / median, against the"
            " read-bandwidth row with as many threads): " + "; ".join(parts) + "."]


def _bandwidth_scaling_line(members, bandwidth):
    """For the thread policy's rows of a pass alone (bench/test_thread_policy.py): the
    read bandwidth of the same run with all cores over one thread, the most the threads
    can gain on a pass that reads its X from memory."""
    infos = [b.get("extra_info", {}) for b in members]
    cores = max((i.get("threads", 1) for i in infos), default=1)
    if not any(i.get("scenario") == "alone" and "ratio_default_to_1_thread" in i
               for i in infos) or cores < 2 or 1 not in bandwidth or cores not in bandwidth:
        return []
    return ["", f"The read bandwidth of this run with {cores} threads over 1 thread"
            f" (read-bandwidth rows): {bandwidth[cores] / bandwidth[1]:.2f}x, the most"
            f" {cores} threads can gain on a pass reading X from memory."]


def _concurrency_lines(members):
    """Per implementation: sequential median / concurrent median (rows with "workers")."""
    by_impl = defaultdict(dict)
    for b in members:
        workers = b.get("extra_info", {}).get("workers")
        if workers:
            by_impl[_impl(b)][workers] = row_timing(b).median
    lines = []
    for impl in sorted(by_impl, key=lambda i: (i != LINREG, i)):
        runs = by_impl[impl]
        if 1 not in runs:
            continue
        for workers in sorted(w for w in runs if w > 1):
            lines.append(
                f"- {impl}: {workers} fits in {workers} threads took"
                f" {runs[workers] * 1e3:.1f} ms against {runs[1] * 1e3:.1f} ms one after"
                f" the other: concurrent speedup {runs[1] / runs[workers]:.2f}x"
                f" (ideal {workers:.2f}x)"
            )
    if lines:
        lines = ["", "Concurrent speedup (sequential median / concurrent median):"] + lines
    return lines


#: A group is flagged as noisy when other processes (or the hypervisor's steal) kept
#: more than this many cores busy, on average over one of its benchmarks.
NOISY_CORES = 0.2


def _load_lines(members, machine):
    """A note on the load other processes put on the (shared) machine during the group."""
    others = [b["extra_info"]["other_load_cores"] for b in members
              if "other_load_cores" in b.get("extra_info", {})]
    steal = [b["extra_info"].get("steal_cores", 0.0) for b in members
             if "other_load_cores" in b.get("extra_info", {})]
    if not others:
        return []
    worst = max(o + s for o, s in zip(others, steal))
    text = (f"Load from other processes while this group ran: {min(others):.2f} to"
            f" {max(others):.2f} cores (of {_cores(machine)})")
    if max(steal) > 0.005:
        text += f", hypervisor steal up to {max(steal):.2f} cores"
    if worst > NOISY_CORES:
        text = "**Noisy:** " + text + ": these timings are less reliable than the others"
    return ["", text + "."]


def _not_run_lines(entries):
    """'Not run' notes: one per (implementation, reason), its variants merged."""
    merged = defaultdict(list)
    for entry in entries:
        key = (entry.get("impl") or entry.get("test", "?"), entry.get("reason", "skipped"))
        if entry.get("variant"):
            merged[key].append(entry["variant"])
        else:
            merged.setdefault(key, [])
    lines = []
    for (impl, reason), variants in sorted(merged.items()):
        label = impl + (f" ({', '.join(sorted(set(variants)))})" if variants else "")
        lines.append(f"- not run: {label}: {reason}")
    return lines


def _group_key(group, work, dtype):
    index = WORK_ORDER.index(work) if work in WORK_ORDER else len(WORK_ORDER)
    return index, work or "", dtype != "float64", group


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
            f" | {row_timing(b).median * 1e3:.3f} |"
        )
    return lines


def report(data):
    benches = data.get("benchmarks", [])
    machine = data.get("machine_info", {})
    not_run = data.get("not_run", [])
    version, blas = _numpy_and_blas(machine)
    lines = [
        "# linreg benchmarks",
        "",
        f"- CPU: {_cpu_model(machine)}, {_cores(machine)} cores"
        f" ({machine.get('machine', '?')}, {machine.get('system', '?')})",
        f"- Python {machine.get('python_version', '?')}, NumPy {version}, BLAS {blas}",
        f"- Peers: {_peers(machine, benches)}",
        f"- linreg kernels: {_simd(machine, benches)}",
        f"- Threads: {_threads(benches)}",
        f"- Run: {data.get('datetime', '?')}; times are medians over rounds; \"linreg"
        " speedup\" = that row's median / linreg's median in the same group (and variant):"
        " above 1, linreg is faster",
    ]

    groups = defaultdict(list)
    for b in benches:
        if not _is_memory(b):
            groups[b.get("group") or "(no group)"].append(b)
    skipped = defaultdict(list)
    for entry in not_run:
        skipped[entry.get("group")].append(entry)

    def key(group):
        members = groups.get(group) or skipped.get(group)
        info = members[0].get("extra_info", members[0])
        return _group_key(group, info.get("work"), info.get("dtype"))

    bandwidth = _read_bandwidth(benches)
    timed_groups = set(groups) | {g for g in skipped if g and g != "memory-fit"}
    peer_notes = []  # external_process descriptions, numbered in order of appearance
    for group in sorted(timed_groups, key=key):
        members = groups.get(group, [])
        size = _problem(members or skipped[group])
        lines += ["", f"## {group}" + (f" ({size})" if size else ""), ""]
        descriptions = [b["extra_info"]["description"] for b in members
                        if b.get("extra_info", {}).get("description")]
        if descriptions:
            lines += [descriptions[0], ""]
        unstable = []
        if members:
            table, any_external, unstable = _timing_table(members)
            lines += table
        else:
            any_external = False
            lines.append("(no implementation ran)")
        if any_external:
            refs = []
            for b in members:
                note = b["extra_info"].get("external_process", "another process")
                if row_timing(b).external:
                    if note not in peer_notes:
                        peer_notes.append(note)
                    refs.append(f"P{peer_notes.index(note) + 1}")
            lines += ["", "† timed in a separate process that checked its result first"
                      " (its own timed rounds; pytest-benchmark's stats of the row time the"
                      f" whole subprocess and are not used): see {', '.join(sorted(set(refs)))}"
                      " under \"Peer processes\"."]
        if unstable:
            lines += ["", f"⚠ unstable (IQR above {UNSTABLE_IQR:.0%} of the median: its"
                      " rounds moved between levels, so its median and ratio are less"
                      " reliable): " + "; ".join(unstable) + "."]
        lines += _gap_lines(members)
        lines += _bandwidth_lines(members, bandwidth)
        lines += _concurrency_lines(members)
        lines += _load_lines(members, machine)
        if skipped.get(group):
            lines += [""] + _not_run_lines(skipped[group])

    memory = [b for b in benches if _is_memory(b)]
    if memory:
        lines += _memory_section(memory)
        if skipped.get("memory-fit"):
            lines += [""] + _not_run_lines(skipped["memory-fit"])
    if skipped.get(None):
        lines += ["", "## Not run (no group)", ""] + _not_run_lines(skipped[None])
    if peer_notes:
        lines += ["", "## Peer processes", ""]
        lines += [f"- P{i}: {note}" for i, note in enumerate(peer_notes, 1)]
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
