"""A process forked after linreg ran threaded passes (multiprocessing's default start on
Linux) can still train: libgomp's workers do not exist in the child, and a threaded
pass there waited for them forever. The child runs every pass on one thread (marked at
the fork by platform.pxi's pthread_atfork handler)."""
import os
import signal
import time
import traceback

import numpy as np
import pytest

import linreg
from linreg import kernels

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork")


def _in_forked_child(work, timeout=60.0):
    """Run work() in a forked child; its exit code (1 on an exception), or fail the test
    if it has not finished within `timeout` seconds (then it is killed)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            work()
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail(f"the forked child did not finish in {timeout:.0f} s")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_child_forked_after_threaded_passes_trains(dtype):
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core: no threaded pass to fork after")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1 << 16, 96)).astype(dtype)
    y = (X @ rng.standard_normal(96) + rng.standard_normal(1 << 16)).astype(dtype)
    W, b = np.zeros(96, dtype), np.zeros(1, dtype)
    # Threaded in the parent: libgomp's pool starts.
    kernels.loss_and_grad(X, y, W, b, np.empty_like(W), np.empty_like(b), n_threads=2)
    kernels.gram_statistics(X, y, n_threads=2)
    expected = {method: linreg.GDRegressor(epochs=3, method=method, n_threads=1).fit(X, y)
                for method in ("fused", "gram")}

    def child():  # the same models, bit for bit (the thread count changes no bit)
        for method, model in expected.items():
            again = linreg.GDRegressor(epochs=3, method=method, n_threads=2).fit(X, y)
            np.testing.assert_array_equal(again.coef_, model.coef_)
        kernels.gram_statistics(X, y, n_threads=2)

    assert _in_forked_child(child) == 0
