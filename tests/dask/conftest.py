"""A real 2-worker Dask cluster (processes, one thread each) for the tests of this
folder, started once per session; the tests skip cleanly only when dask or distributed
is not installed (the `test` extra installs both)."""
import sys
from pathlib import Path

import pytest

# This folder's helpers (_blocked_data), importable from its test modules.
sys.path.insert(0, str(Path(__file__).resolve().parent))

pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="session")
def cluster():
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None, memory_limit="1GiB") as local:
        yield local


@pytest.fixture
def client(cluster):
    """A client of the session's cluster, made the default one for the test."""
    with distributed.Client(cluster) as connected:
        connected.wait_for_workers(2)
        yield connected
