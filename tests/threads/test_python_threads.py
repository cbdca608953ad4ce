"""The kernels release the GIL (issue 6).

(a) Several threads training independent models at once, on the very same X and y
    arrays, get bit for bit the results of training the models one after another.
(b) The work really overlaps, shown without any timing threshold: the trainers write
    loss_out[e] as each epoch ends and predict writes `out` row by row, so the main thread,
    polling that buffer while a worker thread runs one kernel call, can see the call part
    done (some entries written, others not yet). If the kernel held the GIL for the whole
    call, the main thread could not run a single line of Python between the call's start
    and its end, and would only ever see "not started" or "finished". The test also counts
    the main thread's loop iterations strictly between the worker's perf_counter stamps of
    the call's start and end, while the call was seen in progress.
(The speedup with 2 threads is measured by the benchmarks, not here.)
"""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import linreg
import linreg.kernels as kernels
from linreg import _compiled

# ---------------------------------------------------------------- (a) same results


def shared_data(dtype, k, n=3000, d=24, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W = rng.standard_normal((d,) if k is None else (d, k)) / np.sqrt(d)
    y = X @ W + 0.3 + 0.1 * rng.standard_normal((n,) if k is None else (n, k))
    return X.astype(dtype), y.astype(dtype)


MODELS = {
    "gd": lambda: linreg.GDRegressor(lr=0.05, epochs=300),
    "gd-tol": lambda: linreg.GDRegressor(lr=0.05, epochs=5000, tol=1e-7, n_iter_no_change=3),
    "sgd": lambda: linreg.SGDRegressor(lr=0.002, epochs=8, random_state=11),
    "sgd-batch": lambda: linreg.SGDRegressor(lr=0.02, epochs=30, batch_size=16, random_state=12),
    "sgd-no-shuffle": lambda: linreg.SGDRegressor(lr=0.002, epochs=8, shuffle=False),
}
JOBS = [(model, dtype, k) for model in MODELS for dtype in (np.float32, np.float64)
        for k in (None, 3)]


@pytest.fixture(scope="module")
def datasets():
    return {(dtype, k): shared_data(dtype, k) for dtype in (np.float32, np.float64)
            for k in (None, 3)}


def train(job, datasets):
    model_name, dtype, k = job
    X, y = datasets[(dtype, k)]
    model = MODELS[model_name]().fit(X, y)
    return (model.coef_.copy(), np.array(model.intercept_), model.loss_curve_.copy(),
            model.n_iter_, model.predict(X))


def assert_identical(got, expected, job):
    for a, e in zip(got, expected):
        assert np.asarray(a).dtype == np.asarray(e).dtype, job
        np.testing.assert_array_equal(a, e, err_msg=str(job))


def test_threads_training_independent_models_match_sequential_training(datasets):
    sequential = {job: train(job, datasets) for job in JOBS}
    # Every job twice, in two orders, four threads at a time, all on the same arrays.
    schedule = JOBS + JOBS[::-1]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda job: (job, train(job, datasets)), schedule))
    assert len(results) == 2 * len(JOBS)
    for job, got in results:
        assert_identical(got, sequential[job], job)
    for (X, y) in datasets.values():  # shared inputs, read by all, written by none
        assert np.isfinite(X).all() and X.flags.writeable


def kernel_jobs(X, Y, seed):
    """Runs each public kernel from its own W, b (X and Y are shared); returns the results."""
    rng = np.random.default_rng(seed)
    W = (0.1 * rng.standard_normal((X.shape[1],) + Y.shape[1:])).astype(X.dtype)
    b = np.zeros(1 if Y.ndim == 1 else Y.shape[1], dtype=X.dtype)
    out = {}
    grad_W, grad_b = np.empty_like(W), np.empty_like(b)
    out["loss"] = kernels.loss_and_grad(X, Y, W, b, grad_W, grad_b)
    out["grad_W"], out["grad_b"] = grad_W, grad_b
    out["predict"] = kernels.predict(X, W, b)
    W1, b1, losses = W.copy(), b.copy(), np.empty(40)
    out["gd"] = (kernels.gd_epochs(X, Y, W1, b1, 0.05, losses), W1, b1, losses)
    W2, b2, losses2 = W.copy(), b.copy(), np.empty(3)
    order, state = np.arange(X.shape[0], dtype=np.intp), np.array([seed], dtype=np.uint64)
    out["sgd"] = (kernels.sgd_epochs(X, Y, W2, b2, 0.002, losses2, order=order, batch_size=1,
                                     rng_state=state), W2, b2, losses2, order, state)
    return out


def flatten(result):
    items = []
    for key in sorted(result):
        value = result[key]
        items.extend(value if isinstance(value, tuple) else (value,))
    return items


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("k", [None, 3], ids=["y1d", "k3"])
def test_threads_running_kernels_on_shared_arrays_match_sequential_runs(impl, datasets, dtype, k):
    X, Y = datasets[(dtype, k)]
    seeds = list(range(8))
    sequential = {seed: flatten(kernel_jobs(X, Y, seed)) for seed in seeds}
    with ThreadPoolExecutor(4) as pool:
        concurrent = dict(zip(seeds, pool.map(lambda s: flatten(kernel_jobs(X, Y, s)), seeds)))
    for seed in seeds:
        assert len(concurrent[seed]) == len(sequential[seed])
        for a, e in zip(concurrent[seed], sequential[seed]):
            np.testing.assert_array_equal(a, e, err_msg=f"seed {seed}")


# ------------------------------------------------------------- (b) the work overlaps

SENTINEL = -1.0  # a loss is never negative


class Watch:
    """Runs `call` in a worker thread while the main thread polls `progress()`.

    progress() -> (done, total) from what the call has written so far. Records, for every
    poll of the main thread, the time and the progress seen.
    """

    def __init__(self, call, progress):
        self.call, self.progress = call, progress
        self.start = self.end = None
        self.error = None
        self.polls = []

    def _work(self):
        try:
            self.start = time.perf_counter()
            self.result = self.call()
            self.end = time.perf_counter()
        except BaseException as error:  # reported by the main thread
            self.error = error

    def run(self):
        worker = threading.Thread(target=self._work)
        worker.start()
        polls = self.polls
        while worker.is_alive():
            polls.append((time.perf_counter(), self.progress()))
        worker.join()
        if self.error is not None:
            raise self.error
        return self

    def during_the_call(self):
        """Polls made strictly between the worker's start and end stamps while the call
        was seen part done (see _part_done)."""
        return [(t, p) for t, (p, total) in self.polls
                if self.start < t < self.end and _part_done(p, total)]


def _part_done(p, total):
    if isinstance(p, tuple):  # (chunk, epochs written) of (chunk, chunk length)
        return p[0] == total[0] and 0 < p[1] < total[1]
    return 0 < p < total


def prefix_written(buffer, is_written):
    """A progress() for a buffer the kernel fills from the front."""
    state = {"p": 0}

    def progress():
        p = state["p"]
        while p < len(buffer) and is_written(buffer[p]):
            p += 1
        state["p"] = p
        return p, len(buffer)

    return progress


def assert_seen_in_progress(watch):
    during = watch.during_the_call()
    distinct = sorted({p for _, p in during})
    # The proof of overlap: Python ran while the kernel was between two of its steps, at
    # least twice at different steps.
    assert len(distinct) >= 2, (
        f"the main thread saw the call part done at fewer than two of its steps "
        f"({len(watch.polls)} polls, partial states {distinct}): is the GIL held during it?")
    assert len(during) > 1000, f"only {len(during)} main-thread iterations during the call"


def overlapping_run(make_watch, check=assert_seen_in_progress, attempts=4):
    """The first of up to `attempts` runs of a fresh `make_watch()` that passes `check`
    (else check's error for the last). A loaded machine can keep the main thread off
    its core for most of a call (seen: 5488 polls, all but one before the kernel
    started, with three processes spinning beside the test); a kernel that held the GIL
    would never be seen part done, however often it ran."""
    for attempt in range(attempts):
        watch = make_watch().run()
        try:
            check(watch)
            return watch
        except AssertionError:
            if attempt == attempts - 1:
                raise


def medium_problem(dtype, k=None, n=4000, d=32):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((n, d)).astype(dtype)
    Y = (X @ (rng.standard_normal((d,) if k is None else (d, k)) / np.sqrt(d))).astype(dtype)
    W = np.zeros((d,) if k is None else (d, k), dtype)
    b = np.zeros(1 if k is None else k, dtype)
    return X, Y, W, b


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_gd_epochs_runs_while_python_runs(impl, dtype):
    # 16000 rows: at 4000 the faster one-output passes left a loaded machine's main thread
    # too few turns during the call (generic build, float32, while CI ran beside it).
    X, Y, W, b = medium_problem(dtype, n=16000)

    def make_watch():
        loss_out = np.full(4000, SENTINEL)
        return Watch(lambda: kernels.gd_epochs(X, Y, W, b, 0.01, loss_out),
                     prefix_written(loss_out, lambda v: v != SENTINEL))

    assert overlapping_run(make_watch).result == 4000


@pytest.mark.parametrize("batch_size", [1, 32])
def test_sgd_epochs_runs_while_python_runs(impl, batch_size):
    X, Y, W, b = medium_problem(np.float64, k=3)
    epochs = 60 if batch_size == 1 else 200

    def make_watch():
        loss_out = np.full(epochs, SENTINEL)
        order, state = np.arange(X.shape[0], dtype=np.intp), np.array([5], dtype=np.uint64)
        return Watch(lambda: kernels.sgd_epochs(X, Y, W, b, 1e-3, loss_out, order=order,
                                                batch_size=batch_size, rng_state=state),
                     prefix_written(loss_out, lambda v: v != SENTINEL))

    assert overlapping_run(make_watch).result == epochs


def test_predict_runs_while_python_runs(impl):
    # predict writes its output row by row: a NaN-filled `out` fills from the front.
    X, _, W, b = medium_problem(np.float32, n=400_000, d=16)
    W[:] = 0.25
    runs = []

    def make_watch():
        outs = [np.full(X.shape[0], np.nan, dtype=np.float32) for _ in range(20)]
        current = {"i": 0}
        runs.append(outs)

        def calls():
            for i, out in enumerate(outs):
                current["i"] = i
                # One OpenMP thread: with the pool kept between calls, predict's threads
                # take every core of a 2-core machine and the polling thread barely runs.
                kernels.predict(X, W, b, out=out, n_threads=1)
            return len(outs)

        def progress():
            # Rows written in the buffer being filled: its first row is, its last one is not.
            out = outs[current["i"]]
            if np.isnan(out[0]):
                return 0, 2
            return (1, 2) if np.isnan(out[-1]) else (2, 2)

        return Watch(calls, progress)

    def check(watch):
        during = watch.during_the_call()
        # One sighting of a half-written `out` is already impossible with the GIL held.
        assert len(during) > 100, (
            f"the main thread saw a predict call half done only {len(during)} times in "
            f"{len(watch.polls)} polls: is the GIL held during it?")

    watch = overlapping_run(make_watch, check)
    assert watch.result == 20
    for outs in runs:
        for out in outs:
            np.testing.assert_array_equal(out, outs[0])


class PublishingKernels:
    """Stands in for the compiled module of an estimator: before each training call it
    fills loss_out with SENTINEL and publishes it, so the main thread can watch it."""

    def __init__(self, module):
        self._module = module
        self.loss_outs = []

    def __getattr__(self, name):
        target = getattr(self._module, name)
        if name not in ("gd_epochs", "sgd_epochs"):
            return target

        def published(*args):
            # gd_epochs(X, Y, model, settings, state, sample_weight, history),
            # sgd_epochs(X, Y, model, settings, state, order, sample_weight, history)
            loss_out = args[-1].losses
            loss_out[...] = SENTINEL
            self.loss_outs.append(loss_out)
            return target(*args)

        return published


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: linreg.GDRegressor(lr=0.01, epochs=6000, method="fused"),
                     id="GDRegressor"),
        pytest.param(lambda: linreg.SGDRegressor(lr=1e-3, epochs=2500, random_state=0),
                     id="SGDRegressor"),
    ],
)
def test_estimator_fit_runs_while_python_runs(impl, monkeypatch, make):
    X, Y, _, _ = medium_problem(np.float64)
    model = make()

    def make_watch():
        publishing = PublishingKernels(impl)
        monkeypatch.setattr(_compiled, "build", publishing)
        return Watch(lambda: model.fit(X, Y), _chunk_progress(publishing))

    watch = overlapping_run(make_watch)
    assert watch.result is model and model.n_iter_ == model.epochs
    assert np.isfinite(model.coef_).all()


def _chunk_progress(publishing):
    """A progress() for the training calls `publishing` makes."""
    seen = {}

    def progress():
        # Progress within the chunk being run, as (chunk number, epochs written) so that
        # states of different chunks are told apart. Between chunks (Python, GIL held)
        # the last chunk published is either not started or finished: never part done.
        chunks = publishing.loss_outs
        if not chunks:
            return (0, 0), (0, 1)
        current = chunks[-1]
        written = seen.get(len(chunks), 0)  # entries already seen written stay written
        while written < len(current) and current[written] != SENTINEL:
            written += 1
        seen[len(chunks)] = written
        return (len(chunks), written), (len(chunks), len(current))

    return progress
