"""What the numbers depend on beyond the code: the machine description written into the
JSON, and the load other processes put on the (shared) machine while a benchmark ran.
"""
import os
import time
from importlib import metadata
from typing import NamedTuple

import numpy as np
from threadpoolctl import threadpool_info

from linreg import kernels

from .threads import THREADS

__all__ = ["describe_machine", "CpuTimes", "cpu_times", "other_load"]


def _distribution_version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def describe_machine(machine_info, peer_versions):
    """Add to pytest-benchmark's `machine_info` (in place) NumPy, its BLAS, the thread
    pools, linreg's SIMD build, the core count and the versions of the peers.

    Parameters
    ----------
    machine_info : dict
        pytest-benchmark's description (CPU, Python, system), updated in place.
    peer_versions : dict
        {distribution name: version as its subprocess reported it, or None when it was
        never probed (the installed distribution's version is recorded then)}.
    """
    blas = {}
    try:
        blas = dict(np.show_config(mode="dicts")["Build Dependencies"]["blas"])
    except Exception:  # NumPy < 1.25 has no mode="dicts"
        pass
    machine_info["numpy"] = {"version": np.__version__, "blas": blas}
    machine_info["threadpools"] = threadpool_info()
    machine_info["linreg"] = {"simd": kernels.simd, "thread_limit": THREADS}
    machine_info["cpu_count"] = os.cpu_count()
    machine_info["peers"] = {
        dist: version or _distribution_version(dist) for dist, version in peer_versions.items()
    }


class CpuTimes(NamedTuple):
    """CPU seconds spent so far, and the wall clock (seconds, arbitrary origin)."""

    machine_busy: float  #: all CPUs of the machine, busy (user, nice, system, irq)
    machine_steal: float  #: all CPUs, taken by the hypervisor
    this_process: float  #: this process and its waited-for children (the peers)
    wall: float


def cpu_times():
    """CpuTimes now. Linux only (/proc/stat): OSError or ValueError elsewhere."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    hz = os.sysconf("SC_CLK_TCK")
    mine = os.times()
    return CpuTimes((user + nice + system + irq + softirq) / hz, steal / hz,
                    mine.user + mine.system + mine.children_user + mine.children_system,
                    time.perf_counter())


def other_load(before, after):
    """Cores other processes kept busy between two CpuTimes, and the hypervisor's steal.

    Returns
    -------
    dict
        {"other_load_cores": (machine busy - this process) / wall time,
        "steal_cores": steal / wall time}, rounded to 0.01; empty when no time passed.
    """
    wall = after.wall - before.wall
    if wall <= 0:
        return {}
    others = (after.machine_busy - before.machine_busy) - (after.this_process
                                                           - before.this_process)
    return {"other_load_cores": round(max(0.0, others) / wall, 2),
            "steal_cores": round((after.machine_steal - before.machine_steal) / wall, 2)}
