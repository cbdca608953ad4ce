"""linreg.WorkerLostError: the public name of "a Dask worker was lost during the fit",
so users can catch it without reaching into a private module."""
import numpy as np
import pytest

import linreg
import linreg.exceptions


def test_worker_lost_error_is_public():
    assert linreg.WorkerLostError is linreg.exceptions.WorkerLostError
    assert "WorkerLostError" in linreg.__all__
    assert "WorkerLostError" in linreg.exceptions.__all__
    assert issubclass(linreg.WorkerLostError, RuntimeError)


def test_a_lost_worker_surfaces_as_the_public_error():
    dask = pytest.importorskip("dask")
    pytest.importorskip("dask.array")
    from linreg._blocks import DaskBlocks

    class KilledWorker(Exception):  # the name Dask's scheduler gives a lost worker
        pass

    def lose_the_worker():
        raise KilledWorker("worker tcp://127.0.0.1:1 died holding the task")

    blocks = DaskBlocks(dask.array.ones((4, 2), chunks=2), np.ones(4))
    with pytest.raises(linreg.WorkerLostError, match="worker") as caught:
        blocks._compute(dask.delayed(lose_the_worker)())
    assert isinstance(caught.value.__cause__, KilledWorker)
    with pytest.raises(ZeroDivisionError):  # the work's own errors pass unchanged
        blocks._compute(dask.delayed(lambda: 1 / 0)())
