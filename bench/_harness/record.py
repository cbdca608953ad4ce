"""What every benchmark row records for report.py: its group and extra_info, and the
rows that did not run (pytest-benchmark's JSON has no skipped tests).
"""
import numpy as np

from linreg import kernels

from .threads import THREADS, blas_threads

__all__ = ["Sized", "describe", "record_skipped_row", "skipped_rows"]


class Sized:
    """What `describe` needs of a problem, for rows without a Problem: dtype, n, d, k."""

    def __init__(self, dtype, n, d, k=1):
        self.dtype, self.n, self.d, self.k = np.dtype(dtype), n, d, k


def describe(benchmark, *, work, impl, p, **more):
    """Set the row's group ("<work>-<dtype>") and the extra_info that report.py reads.

    Parameters
    ----------
    benchmark : pytest-benchmark's fixture
    work : str
        What the group measures (report.py orders groups by it).
    impl : str
        The implementation: "linreg", "numpy-reference", "numpy-matmul-floor",
        "sklearn", "torch", ...
    p : Problem or any object with dtype, n, d and k
    **more
        Further extra_info: "description" (one paragraph, the group's work), "variant",
        "rounds", ...
    """
    benchmark.group = f"{work}-{p.dtype.name}"
    benchmark.extra_info.update(
        work=work,
        impl=impl,
        dtype=p.dtype.name,
        n=p.n,
        d=p.d,
        k=p.k,
        threads=blas_threads(),
        thread_limit=THREADS,
        linreg_simd=kernels.simd,
        **more,
    )


_skipped = []  # one dict per skipped row of this session, in the order they were skipped


def record_skipped_row(item, report):
    """Remember a skipped benchmark (a peer that did not run) with its group and reason.

    Parameters
    ----------
    item : pytest.Item
    report : pytest.TestReport
        Of the setup or call phase; ignored unless it is a skip.
    """
    if not report.skipped or report.when == "teardown":
        return
    entry = {"test": item.nodeid, "reason": "skipped"}
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        entry["reason"] = str(report.longrepr[2]).removeprefix("Skipped: ")
    bench = getattr(item, "funcargs", {}).get("benchmark")
    if bench is not None:
        entry["group"] = bench.group
        info = bench.extra_info
        for key in ("impl", "variant", "work", "dtype", "n", "d", "k", "threads"):
            if info.get(key) is not None:
                entry[key] = info[key]
    _skipped.append(entry)


def skipped_rows():
    """The rows skipped so far (a new list), for the JSON's "not_run"."""
    return list(_skipped)
