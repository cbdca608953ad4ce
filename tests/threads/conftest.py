"""Fixtures of the thread tests."""
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
