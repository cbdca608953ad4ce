"""Speed of whole training runs (the estimators' fit) against NumPy and scikit-learn.

Every benchmark first checks that its implementation computes what its baseline computes,
so a fast wrong answer cannot win; timings are never asserted. The one assertion that is
not a correctness check of a result is `test_memory_fit`'s: fitting must not copy X
(a property of the code, measured with tracemalloc, not a timing).

Targets (issue 3, "Speed"), read from `bench/report.py`'s tables:
* seed-gd-1000-epochs: the seed tutorial's 1000 GD epochs on x = [[1], [2], [3]], ten log
  lines, `linreg.demo.fit_linreg` >= 100x faster than `linreg.demo.fit_numpy` (the same
  loop in plain NumPy);
* sgd-10-epochs-float64, n = 1e5, d = 32, 10 per-sample SGD epochs: linreg >= 3x faster
  than scikit-learn's SGDRegressor with the same settings, both in order (where the two
  trajectories are the same to 1e-9) and shuffled (random_state=0 on both sides: different
  random orders, so only the losses are compared); and >= 100x faster than
  `linreg.reference.sgd_epochs` (a Python loop over samples; one timed round: ~4 s);
* gd-20-epochs-float64, n = 1e6, d = 32, 20 GD epochs: linreg's GDRegressor >= 1.5x
  faster than `linreg.reference.gd_epochs`;
* memory-fit: fitting a C-contiguous float32/float64 X (n = 1e6, d = 32) allocates at
  most 5% of X's bytes, plus 8 bytes per sample for the shuffle order (asserted).

scikit-learn is never imported into this process: it runs in a subprocess
(`bench/sklearn_sgd.py`) that times its own rounds; they are recorded in
extra_info["external_times_s"], which report.py uses for those rows (see report.py).
"""
import contextlib
import io
import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from linreg import GDRegressor, SGDRegressor, demo, reference

FLOAT64 = [pytest.param(np.float64, id="float64")]
DTYPES = FLOAT64 + [pytest.param(np.float32, id="float32")]

# ---------------------------------------------------------------------------------------
# seed-gd-1000-epochs: the seed tutorial's workload, printed lines and all
# ---------------------------------------------------------------------------------------

SEED_GROUP = "seed-gd-1000-epochs"
SEED_IMPLS = {"linreg": demo.fit_linreg, "numpy-reference": demo.fit_numpy}


def _fit_quietly(fit, x, y):
    """One seed fit with its log lines captured (both sides pay for the same capture)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        fit(x, y)
    return out.getvalue()


@pytest.mark.parametrize("impl", list(SEED_IMPLS))
def test_seed_gd_1000_epochs(benchmark, expected, describe, impl):
    x, y = demo.seed_data()
    fit = SEED_IMPLS[impl]
    want = expected(SEED_GROUP, lambda: _fit_quietly(demo.fit_numpy, x, y)).splitlines()
    got = _fit_quietly(fit, x, y).splitlines()  # before any timing
    assert len(want) == demo.EPOCHS // demo.LOG_EVERY, want
    assert got == want, "the printed log lines differ from the plain-NumPy loop's"

    seed = SimpleNamespace(dtype=x.dtype, n=x.shape[0], d=x.shape[1], k=1)
    describe(benchmark, work=SEED_GROUP, impl=impl, p=seed, lr=demo.LR, epochs=demo.EPOCHS,
             log_every=demo.LOG_EVERY)
    benchmark.group = SEED_GROUP  # one float32 workload: no dtype suffix
    benchmark(_fit_quietly, fit, x, y)


# ---------------------------------------------------------------------------------------
# sgd-10-epochs: 10 per-sample SGD epochs, in order and shuffled, vs scikit-learn + NumPy
# ---------------------------------------------------------------------------------------

SGD_N, SGD_D, SGD_EPOCHS, SGD_LR = 100_000, 32, 10, 1e-3
SGD_WORK = "sgd-10-epochs"

#: Timed rounds (after one warm-up fit) per (variant, impl). The reference loop takes
#: ~0.4 s per epoch, so it gets one honest round of the full 10 epochs.
SGD_ROUNDS = {
    ("no-shuffle", "linreg"): 20,
    ("no-shuffle", "sklearn"): 10,
    ("no-shuffle", "numpy-reference"): 1,
    ("shuffle", "linreg"): 10,
    ("shuffle", "sklearn"): 7,
}

#: Shuffled runs follow different random orders on the two sides, so they are only
#: required to reach a training MSE within this factor of the least-squares optimum's.
SHUFFLED_MSE_FACTOR = 1.10

SKLEARN_SCRIPT = Path(__file__).with_name("sklearn_sgd.py")


def _sgd_linreg(shuffle):
    return SGDRegressor(lr=SGD_LR, epochs=SGD_EPOCHS, batch_size=1, shuffle=shuffle,
                        random_state=0 if shuffle else None)


def _reference_sgd(p):
    """linreg.reference.sgd_epochs from zero, in natural order: the oracle."""
    W, b = p.zero_params()
    losses = np.empty(SGD_EPOCHS)
    reference.sgd_epochs(p.X, p.Y, W, b, SGD_LR, losses)
    return losses, W, b


def _mse(model, p):
    residual = model.predict(p.X) - p.Y
    return float(np.vdot(residual, residual)) / p.n


def _least_squares_mse(p):
    """Training MSE of the exact least-squares fit with intercept (the best possible)."""
    A = np.hstack([p.X, np.ones((p.n, 1), dtype=p.dtype)])
    solution = np.linalg.lstsq(A, p.Y, rcond=None)[0]
    residual = A @ solution - p.Y
    return float(np.vdot(residual, residual)) / p.n


@pytest.fixture(scope="session")
def sgd_data_files(problem, tmp_path_factory):
    """The SGD problem's X and y saved once as .npy, for the scikit-learn subprocess."""
    p = problem(SGD_N, SGD_D)
    folder = tmp_path_factory.mktemp("sgd-data")
    paths = folder / "X.npy", folder / "y.npy"
    np.save(paths[0], p.X)
    np.save(paths[1], p.Y)
    return tuple(str(path) for path in paths)


def _run_sklearn(request):
    """Run bench/sklearn_sgd.py on a JSON request; its JSON answer (see that script)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, str(SKLEARN_SCRIPT)], input=json.dumps(request),
                          capture_output=True, text=True, env=env, timeout=600)
    try:
        answer = json.loads(proc.stdout)
    except ValueError:
        raise RuntimeError(
            f"{SKLEARN_SCRIPT.name} exited with {proc.returncode}:\n{proc.stderr}"
        ) from None
    if proc.returncode or "error" in answer:
        raise AssertionError(f"scikit-learn check failed: {answer.get('error')}\n{proc.stderr}")
    return answer


def _pool_threads(threadpools, api):
    counts = {pool["num_threads"] for pool in threadpools if pool["user_api"] == api}
    return max(counts) if counts else None


def _linreg_sgd_answer(p, expected, shuffle):
    """linreg's fit of the SGD problem (computed once): coef, intercept, MSE, R^2."""

    def compute():
        model = _sgd_linreg(shuffle).fit(p.X, p.Y)
        mse = _mse(model, p)
        return SimpleNamespace(coef=model.coef_.copy(), intercept=model.intercept_,
                               losses=model.loss_curve_.copy(), mse=mse,
                               r2=1.0 - mse / float(np.var(p.Y)))

    return expected((SGD_WORK, "linreg", shuffle, p.n, p.d), compute)


SGD_CASES = [pytest.param(variant, impl, id=f"{variant}-{impl}")
             for variant, impl in SGD_ROUNDS]


@pytest.mark.parametrize("variant, impl", SGD_CASES)
@pytest.mark.parametrize("dtype", FLOAT64)
def test_sgd_10_epochs(benchmark, problem, expected, rtol_for, describe, sgd_data_files,
                       dtype, variant, impl):
    p = problem(SGD_N, SGD_D, 1, dtype)
    shuffle = variant == "shuffle"
    rtol = rtol_for(p.dtype)
    rounds = SGD_ROUNDS[variant, impl]
    describe(benchmark, work=SGD_WORK, impl=impl, p=p, variant=variant, lr=SGD_LR,
             epochs=SGD_EPOCHS, batch_size=1, shuffle=shuffle,
             random_state=0 if shuffle else None)

    if shuffle:
        best_mse = expected((SGD_WORK, "lstsq", p.n, p.d), lambda: _least_squares_mse(p))
        max_mse = SHUFFLED_MSE_FACTOR * best_mse
        benchmark.extra_info.update(least_squares_mse=best_mse, max_mse=max_mse)
    else:
        want_losses, want_W, want_b = expected((SGD_WORK, "reference", p.n, p.d),
                                               lambda: _reference_sgd(p))

    if impl == "linreg":
        got = _linreg_sgd_answer(p, expected, shuffle)  # before any timing
        if shuffle:
            assert got.mse <= max_mse, (got.mse, best_mse)
        else:
            np.testing.assert_allclose(got.coef, want_W, rtol=rtol, err_msg="coef_")
            np.testing.assert_allclose(got.intercept, want_b[0], rtol=rtol,
                                       err_msg="intercept_")
            np.testing.assert_allclose(got.losses, want_losses, rtol=rtol,
                                       err_msg="loss_curve_")
        benchmark.extra_info.update(mse=got.mse, r2=got.r2)
        model = _sgd_linreg(shuffle)
        benchmark.pedantic(model.fit, args=(p.X, p.Y), rounds=rounds, warmup_rounds=1,
                           iterations=1)

    elif impl == "numpy-reference":
        # The reference is the oracle: its check run is the one that computed want_*.
        last = {}

        def fresh_params():  # every round trains from W = 0, b = 0
            W, b = p.zero_params()
            last.update(W=W, b=b)
            return (p.X, p.Y, W, b, SGD_LR, np.empty(SGD_EPOCHS)), {}

        benchmark.extra_info["rounds"] = rounds
        benchmark.pedantic(reference.sgd_epochs, setup=fresh_params, rounds=rounds,
                           warmup_rounds=0, iterations=1)
        np.testing.assert_array_equal(last["W"], want_W)  # the timed run did the work
        np.testing.assert_array_equal(last["b"], want_b)

    else:  # sklearn, in its own process
        assert "sklearn" not in sys.modules, "scikit-learn must not load into this process"
        if shuffle:
            check = {"max_mse": max_mse}
        else:  # the same trajectory as linreg's fit
            mine = _linreg_sgd_answer(p, expected, shuffle)
            check = {"coef": mine.coef.tolist(), "intercept": mine.intercept, "rtol": rtol}
        external_rounds = 1 if benchmark.disabled else rounds
        request = dict(X=sgd_data_files[0], y=sgd_data_files[1], lr=SGD_LR,
                       epochs=SGD_EPOCHS, shuffle=shuffle,
                       random_state=0 if shuffle else None, rounds=external_rounds,
                       check=check)
        answer = {}

        def run_in_subprocess():
            # The subprocess checks its first fit against `check` before it times
            # anything, and fails (so nothing is recorded) when the check fails.
            answer.update(_run_sklearn(request))

        # One round: pytest-benchmark's own stats for this row are the wall time of the
        # whole subprocess (interpreter start, imports, data load, check fit, the timed
        # fits). report.py shows the fits timed inside it (external_times_s) instead.
        benchmark.pedantic(run_in_subprocess, rounds=1, warmup_rounds=0, iterations=1)

        if shuffle:  # both sides near the optimum, so near each other
            mine = _linreg_sgd_answer(p, expected, shuffle)
            assert answer["mse"] <= max_mse, (answer["mse"], best_mse)
            np.testing.assert_allclose(answer["mse"], mine.mse, rtol=SHUFFLED_MSE_FACTOR - 1)
        else:
            np.testing.assert_allclose(answer["coef"], mine.coef, rtol=rtol, err_msg="coef_")
        benchmark.extra_info.update(
            external_times_s=answer["times_s"],
            external_process=(
                f"{SKLEARN_SCRIPT.name}: scikit-learn {answer['sklearn_version']} "
                "SGDRegressor(penalty=None, learning_rate='constant', eta0=2*lr, tol=None,"
                " average=False) fit, timed with time.perf_counter in a subprocess with "
                "OMP_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1 and threadpoolctl limits=1"
            ),
            threads=_pool_threads(answer["threadpools"], "blas"),
            openmp_threads=_pool_threads(answer["threadpools"], "openmp"),
            rounds=external_rounds,
            mse=answer["mse"],
            r2=answer["r2"],
            sklearn_version=answer["sklearn_version"],
        )


# ---------------------------------------------------------------------------------------
# gd-20-epochs: 20 full-batch GD epochs on 1e6 x 32 float64
# ---------------------------------------------------------------------------------------

GD_N, GD_D, GD_EPOCHS, GD_LR = 1_000_000, 32, 20, 0.1
GD_WORK = "gd-20-epochs"
GD_ROUNDS = {"linreg": (5, 1), "numpy-reference": (3, 0)}  # (rounds, warmup_rounds)


def _reference_gd(p):
    W, b = p.zero_params()
    losses = np.empty(GD_EPOCHS)
    reference.gd_epochs(p.X, p.Y, W, b, GD_LR, losses)
    return losses, W, b


@pytest.mark.parametrize("impl", list(GD_ROUNDS))
@pytest.mark.parametrize("dtype", FLOAT64)
def test_gd_20_epochs(benchmark, problem, expected, rtol_for, describe, dtype, impl):
    p = problem(GD_N, GD_D, 1, dtype)
    rtol = rtol_for(p.dtype)
    want_losses, want_W, want_b = expected((GD_WORK, "reference", p.n, p.d),
                                           lambda: _reference_gd(p))
    rounds, warmup_rounds = GD_ROUNDS[impl]
    describe(benchmark, work=GD_WORK, impl=impl, p=p, lr=GD_LR, epochs=GD_EPOCHS,
             rounds=rounds)

    if impl == "linreg":
        model = GDRegressor(lr=GD_LR, epochs=GD_EPOCHS).fit(p.X, p.Y)  # before any timing
        np.testing.assert_allclose(model.coef_, want_W, rtol=rtol, err_msg="coef_")
        np.testing.assert_allclose(model.intercept_, want_b[0], rtol=rtol,
                                   err_msg="intercept_")
        np.testing.assert_allclose(model.loss_curve_, want_losses, rtol=rtol,
                                   err_msg="loss_curve_")
        benchmark.pedantic(model.fit, args=(p.X, p.Y), rounds=rounds,
                           warmup_rounds=warmup_rounds, iterations=1)
    else:
        # The reference is the oracle: its check run is the one that computed want_*.
        last = {}

        def fresh_params():
            W, b = p.zero_params()
            last.update(W=W, b=b)
            return (p.X, p.Y, W, b, GD_LR, np.empty(GD_EPOCHS)), {}

        benchmark.pedantic(reference.gd_epochs, setup=fresh_params, rounds=rounds,
                           warmup_rounds=warmup_rounds, iterations=1)
        np.testing.assert_array_equal(last["W"], want_W)  # the timed run did the work
        np.testing.assert_array_equal(last["b"], want_b)


# ---------------------------------------------------------------------------------------
# memory-fit: fit allocates no copy of a C-contiguous float32/float64 X (asserted)
# ---------------------------------------------------------------------------------------

MEM_N, MEM_D = 1_000_000, 32
MEMORY_GROUP = "memory-fit"
#: Allowed peak extra memory of a fit: this share of X's bytes (which rules out any copy
#: of X, or even a boolean mask over it) ...
MEMORY_SHARE_OF_X = 0.05
#: ... plus, when shuffling, the order of the samples (one intp per sample).
SHUFFLE_ORDER_BYTES_PER_SAMPLE = 8

MEMORY_FITS = {  # name: (estimator factory, shuffles)
    "GDRegressor": (lambda: GDRegressor(lr=0.1, epochs=5), False),
    "SGDRegressor-shuffle": (
        lambda: SGDRegressor(lr=1e-3, epochs=2, shuffle=True, random_state=0), True
    ),
}
MEMORY_ROUNDS = 3


def _peak_extra_traced_bytes(fn):
    """Peak bytes traced by tracemalloc while fn() runs, above those traced before it.

    tracemalloc sees Python objects and NumPy's array buffers (NumPy reports them to it);
    it does not see a malloc made inside compiled code (linreg's kernels malloc only
    O(d * k) scratch), which is what `_peak_rss_extra_bytes` cross-checks.
    """
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        if started:
            tracemalloc.stop()


def _status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _peak_rss_extra_bytes(fn):
    """Linux: rise of the peak resident set size while fn() runs (None elsewhere).

    Writing "5" to /proc/self/clear_refs resets the peak (VmHWM) to the current RSS.
    Recorded for information only: it catches a copy of X however it is allocated (~100%
    of X's bytes), but misses allocations served from memory the allocator already holds
    (after an earlier fit, the 8 MB shuffle order typically is), and moves for reasons of
    its own.
    """
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        before = _status_kib("VmRSS")
    except (OSError, KeyError):
        return None
    fn()
    return (_status_kib("VmHWM") - before) * 1024


@pytest.mark.parametrize("fit_name", list(MEMORY_FITS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_memory_fit(benchmark, problem, describe, dtype, fit_name):
    p = problem(MEM_N, MEM_D, 1, dtype)
    make, shuffles = MEMORY_FITS[fit_name]
    assert p.X.flags.c_contiguous and p.X.dtype == dtype
    model = make()

    peak_extra = _peak_extra_traced_bytes(lambda: model.fit(p.X, p.Y))
    peak_rss_extra = _peak_rss_extra_bytes(lambda: model.fit(p.X, p.Y))
    allowance = MEMORY_SHARE_OF_X * p.X.nbytes
    if shuffles:
        allowance += SHUFFLE_ORDER_BYTES_PER_SAMPLE * p.n

    describe(benchmark, work=MEMORY_GROUP, impl="linreg", p=p, fit=fit_name,
             estimator=repr(model), peak_extra_bytes=peak_extra,
             peak_rss_extra_bytes=peak_rss_extra, x_bytes=p.X.nbytes,
             allowance_bytes=allowance, rounds=MEMORY_ROUNDS)
    benchmark.group = MEMORY_GROUP
    assert peak_extra <= allowance, (
        f"{fit_name}.fit on a C-contiguous {p.dtype} X of {p.X.nbytes:,} bytes allocated "
        f"up to {peak_extra:,} bytes ({peak_extra / p.X.nbytes:.1%} of X), over the "
        f"allowance of {allowance:,.0f}: it must not copy X"
    )
    # The fit's time is recorded too (report.py shows it beside the memory).
    benchmark.pedantic(model.fit, args=(p.X, p.Y), rounds=MEMORY_ROUNDS, warmup_rounds=0,
                       iterations=1)
