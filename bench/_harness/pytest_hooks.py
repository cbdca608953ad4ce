"""The pytest hooks of the benchmarks. bench/conftest.py imports them by name: pytest
only calls hooks defined in (or imported into) a conftest or a registered plugin.
"""
import pytest

from . import machine, peers, record

__all__ = ["pytest_runtest_makereport", "pytest_benchmark_update_json",
           "pytest_benchmark_update_machine_info"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Record every skipped benchmark (a peer that did not run) with its group and reason."""
    outcome = yield
    record.record_skipped_row(item, outcome.get_result())


def pytest_benchmark_update_json(config, benchmarks, output_json):
    """Add the peers that did not run (pytest-benchmark's JSON has no skipped tests)."""
    output_json["not_run"] = record.skipped_rows()


def pytest_benchmark_update_machine_info(config, machine_info):
    """Record what the numbers depend on beyond the CPU: NumPy, its BLAS, linreg's SIMD
    build, and the versions of the peers."""
    machine.describe_machine(machine_info, peers.probed_versions())
