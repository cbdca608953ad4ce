"""Fixtures of the thread tests."""
import os

import pytest

from linreg import _compiled


@pytest.fixture
def policy():
    """The build's thread-policy test hook, with no backoff in any size class before and
    after the test."""
    build = _compiled.build
    build._thread_policy("reset")
    yield build._thread_policy
    build._thread_policy("reset")


@pytest.fixture
def two_blas_threads():
    """NumPy's BLAS with 2 threads for the test (skipped on one core, or without
    threadpoolctl)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core")
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        yield
