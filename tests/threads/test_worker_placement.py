"""Between passes, OpenMP's workers keep off the calling thread's CPU (platform.pxi,
linreg_keep_off_cpu): Linux woke them next to the caller, and a 2-thread pass lost to
one thread. Run in a fresh process, whose main thread is moved from one CPU to the other
between passes."""
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux affinity only"),
    pytest.mark.skipif(
        not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
        reason="needs two CPUs"),
]

SCRIPT = textwrap.dedent("""\
    import os
    import numpy as np
    from linreg import _compiled, kernels

    main_tid = os.getpid()
    allowed_at_start = os.sched_getaffinity(0)
    cpus = sorted(allowed_at_start)[:2]
    X = np.random.default_rng(0).standard_normal((2**17, 16))
    y, w, b = X[:, 0].copy(), np.zeros(16), np.zeros(1)
    gw, gb = np.empty(16), np.empty(1)

    def workers_allowed():
        out = {}
        for tid in os.listdir("/proc/self/task"):
            if int(tid) != main_tid:
                out[int(tid)] = os.sched_getaffinity(int(tid))
        return out

    def passes_until_kept_off(cpu):
        # Threaded passes from CPU `cpu` until a worker is allowed every CPU but it.
        # Move this (the main) thread there and let it go: it stays, unless the kernel
        # has a reason to move it. (Pinned, OpenMP would count one CPU: no threads.)
        os.sched_setaffinity(0, {cpu})
        os.sched_setaffinity(0, allowed_at_start)
        for attempt in range(200):  # a pass the policy ran on one thread moved no worker
            _compiled.build._thread_policy("reset")
            kernels.loss_and_grad(X, y, w, b, gw, gb, n_threads=2)
            allowed = workers_allowed()
            if allowed_at_start - {cpu} in allowed.values():
                return attempt, allowed
        return None, allowed

    kernels.loss_and_grad(X, y, w, b, gw, gb, n_threads=2)  # the pool, unpinned
    for cpu in (cpus[1], cpus[0], cpus[1]):
        attempt, allowed = passes_until_kept_off(cpu)
        assert attempt is not None, (cpu, allowed)
    print("ok")
""")


def test_openmp_workers_keep_off_the_callers_cpu(tmp_path):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="2")
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                            env=env, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("ok")
