"""A real 2-worker Dask cluster (processes, one thread each) for the tests of this
folder, started once per session; the tests skip cleanly only when dask or distributed
is not installed (the `test` extra installs both). The blocked-fit data
(tests/_blocked_data.py) is shared with tests/estimators/test_chunk_iterables.py, which
fits chunks without Dask."""
import pytest

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
