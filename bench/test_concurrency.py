"""The one multi-threaded group: two independent models trained at once in two threads.

linreg's kernels release the GIL for the whole of a compiled run of epochs, so a user can
train several models at once from Python threads (a hyper-parameter search, one model
per target, ...). This group measures what that buys on this machine:

* gd-20-epochs-2-models-float64: GDRegressor(lr=0.1, epochs=20) fitted on two different
  problems of n = 500,000, d = 32 (the two halves of the 1,000,000 x 32 problem of the
  gd-20-epochs group: 128 MB of X each), either one after the other in the calling
  thread ("sequential", 1 thread) or at once, one per thread of a
  concurrent.futures.ThreadPoolExecutor(2) ("2-threads", 2 threads = the 2 cores of the
  machine these benchmarks were written on). The same two fits with the NumPy
  reference loop (`linreg.reference.gd_epochs`), sequential and in 2 threads, are the
  baseline. BLAS stays pinned to 1 thread per calling thread (threadpoolctl), so
  "2-threads" means 2 threads in all, on each side.

report.py prints, besides the usual table (whose "linreg speedup" compares rows of the
same variant), the speedup of the 2-thread run over the sequential one per
implementation: ideally 2x on 2 cores; both fits stream X from memory, so memory
bandwidth, not the cores, may cap it. Nothing about it is asserted.

Before anything is timed: every fit matches the NumPy reference's (rtol 1e-9), and the
fits made in the 2 threads equal the sequential ones bit for bit (the kernels are
deterministic and share no state between calls).
"""
import os
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import numpy as np
import pytest

from _harness.problems import rtol_for
from _harness.record import describe
from linreg import GDRegressor, reference

N, D, EPOCHS, LR = 1_000_000, 32, 20, 0.1
N_EACH = N // 2
WORK = "gd-20-epochs-2-models"
WORKERS = 2

#: Timed rounds (after one warm-up round for linreg) per implementation.
ROUNDS = {"linreg": 5, "numpy-reference": 3}
VARIANTS = {"sequential": 1, "2-threads": WORKERS}  # variant: threads


def _fit_linreg(X, y):
    model = GDRegressor(lr=LR, epochs=EPOCHS).fit(X, y)
    return model.coef_, np.array([model.intercept_], dtype=X.dtype)


def _fit_reference(X, y):
    W = np.zeros(X.shape[1], dtype=X.dtype)
    b = np.zeros(1, dtype=X.dtype)
    reference.gd_epochs(X, y, W, b, LR, np.empty(EPOCHS))
    return W, b


FITS = {"linreg": _fit_linreg, "numpy-reference": _fit_reference}


@pytest.fixture(scope="module")
def pool():
    with ThreadPoolExecutor(WORKERS, thread_name_prefix="bench-fit") as executor:
        yield executor


def _make_fit_all(fit, problems, variant, pool):
    """A callable fitting every (X, y) of `problems`: in turn, or at once in `pool`."""
    if variant == "sequential":
        return lambda: [fit(X, y) for X, y in problems]
    return lambda: list(pool.map(lambda xy: fit(*xy), problems))


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("impl", list(FITS))
@pytest.mark.parametrize("dtype", [pytest.param(np.float64, id="float64")])
def test_two_models_at_once(benchmark, problem, expected, pool, dtype, impl, variant):
    p = problem(N, D, 1, dtype)
    problems = [(p.X[:N_EACH], p.Y[:N_EACH]), (p.X[N_EACH:], p.Y[N_EACH:])]
    assert all(X.flags.c_contiguous for X, _ in problems)  # views: no copy of X
    rtol = rtol_for(p.dtype)
    fit = FITS[impl]
    want = expected((WORK, "reference", p.dtype.name),
                    lambda: [_fit_reference(X, y) for X, y in problems])

    # Before any timing: the sequential fits match the reference, and the fits made in
    # the threads equal the sequential ones bit for bit.
    sequential = expected((WORK, impl, p.dtype.name),
                          lambda: _make_fit_all(fit, problems, "sequential", pool)())
    for (W, b), (want_W, want_b) in zip(sequential, want):
        np.testing.assert_allclose(W, want_W, rtol=rtol, err_msg="coef_")
        np.testing.assert_allclose(b, want_b, rtol=rtol, err_msg="intercept_")
    run = _make_fit_all(fit, problems, variant, pool)
    if variant != "sequential":
        for (W, b), (seq_W, seq_b) in zip(run(), sequential):
            np.testing.assert_array_equal(W, seq_W, err_msg="a threaded fit differs")
            np.testing.assert_array_equal(b, seq_b, err_msg="a threaded fit differs")

    each = SimpleNamespace(n=N_EACH, d=D, k=1, dtype=p.dtype)
    describe(benchmark, work=WORK, impl=impl, p=each, variant=variant, models=len(problems),
             lr=LR, epochs=EPOCHS, rounds=ROUNDS[impl], cpu_count=os.cpu_count(),
             description=(
                 f"Multi-threaded: GDRegressor(lr={LR}, epochs={EPOCHS}).fit on two "
                 f"different problems of n = {N_EACH:,} (each row times both fits), one "
                 f"after the other (sequential, 1 thread) or at once in a "
                 f"ThreadPoolExecutor({WORKERS}) (2-threads; linreg releases the GIL), on a "
                 f"{os.cpu_count()}-core machine; the NumPy reference loop likewise. BLAS "
                 "has 1 thread per calling thread. The threaded fits equal the sequential "
                 "ones bit for bit (checked)."))
    benchmark.extra_info.update(
        threads=VARIANTS[variant],  # Python threads fitting at once, BLAS 1 thread each
        workers=VARIANTS[variant],
        blas_threads_per_worker=benchmark.extra_info["threads"],
    )
    benchmark.pedantic(run, rounds=ROUNDS[impl], warmup_rounds=1 if impl == "linreg" else 0,
                       iterations=1)
