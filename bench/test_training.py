"""Speed of whole training runs (the estimators' fit) against NumPy, scikit-learn, PyTorch.

Every benchmark first checks that its implementation computes what its baseline computes,
so a fast wrong answer cannot win; timings are never asserted. The one assertion that is
not a correctness check of a result is `test_memory_fit`'s: fitting must not copy X
(a property of the code, measured with tracemalloc, not a timing).

Groups (each holds the same work done by every implementation in it; single-threaded:
BLAS, OpenMP and torch pinned to 1 thread on every side):

* seed-gd-1000-epochs: the seed tutorial's 1000 GD epochs on x = [[1], [2], [3]] (float32),
  ten log lines: `linreg.demo.fit_linreg` vs `linreg.demo.fit_numpy` (the same loop in
  plain NumPy) vs the seed's PyTorch loop; all three must print the same ten lines.
  Target: linreg >= 100x faster than NumPy.
* gd-200-epochs-<dtype>, n = 10,000, d = 32 (2.6 MB of float64: X stays in cache), 200
  GD epochs: a medium problem where the cost of each epoch's Python and dispatch
  overhead (NumPy's ~10 calls, PyTorch's autograd graph) shows next to the arithmetic;
* gd-20-epochs-<dtype>, n = 1,000,000, d = 32, 20 GD epochs: memory-bound. Target
  (float64): linreg's GDRegressor >= 1.5x faster than `linreg.reference.gd_epochs`;
  In both GD groups linreg, NumPy and PyTorch follow the same trajectory: PyTorch's
  final W, b and per-epoch losses must match linreg's to 1e-6 (float64) / 1e-4 (float32).
* sgd-10-epochs-<dtype>, n = 100,000, d = 32, 10 per-sample SGD epochs, in natural order
  and shuffled (random_state=0 / seed 0 on every side: different random orders, so
  shuffled runs are only required to reach a training MSE near the least-squares
  optimum's): linreg vs the NumPy reference loop vs scikit-learn's SGDRegressor (recent
  versions train float32 data in float32; the row records the dtype it trained in).
  Targets: linreg >= 3x faster than scikit-learn and >= 100x faster than NumPy. PyTorch
  does not run here (listed as not run: too slow).
* sgd-1-epoch-n10k-<dtype>, n = 10,000, d = 32, one per-sample SGD epoch, natural order
  and shuffled: the same work at a size where PyTorch's per-sample loop (one autograd
  step per sample) is practical; all four peers.

scikit-learn and PyTorch are never imported into this process: they run in a subprocess
(`bench/_harness/peer_sklearn_sgd.py`, `bench/_harness/peer_torch.py`, started by
`_harness.peers`) that checks its result against linreg's and then times its own rounds;
they are recorded in extra_info["external_times_s"], which report.py uses for those rows
(see bench/_harness/report.py). A peer that is not installed, or cannot do
the group's work, is skipped with its reason, and report.py lists it under the group.
"""
import contextlib
import io
from types import SimpleNamespace

import numpy as np
import pytest

from _harness import peers
from _harness.memory import peak_extra_traced_bytes, peak_rss_extra_bytes
from _harness.problems import rtol_for
from _harness.record import describe
from linreg import GDRegressor, SGDRegressor, demo, reference

FLOAT64 = [pytest.param(np.float64, id="float64")]
DTYPES = FLOAT64 + [pytest.param(np.float32, id="float32")]

#: Agreement demanded of PyTorch's W, b and losses with linreg's (the same arithmetic,
#: summed in other orders; float32 PyTorch also sums in float32 where linreg uses double).
TORCH_RTOL = {"float64": 1e-6, "float32": 1e-4}


def _close(got, want, rtol, what):
    """assert_allclose with an absolute floor of rtol * max|want| (entries near 0)."""
    want = np.asarray(want, dtype=np.float64)
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), want, rtol=rtol,
                               atol=rtol * float(np.abs(want).max()), err_msg=what)


# ---------------------------------------------------------------------------------------
# seed-gd-1000-epochs: the seed tutorial's workload, printed lines and all
# ---------------------------------------------------------------------------------------

SEED_GROUP = "seed-gd-1000-epochs"
SEED_IMPLS = {"linreg": demo.fit_linreg, "numpy-reference": demo.fit_numpy}
SEED_TORCH_ROUNDS = 20
SEED_TORCH_LOOP = ("the seed's loop (pred = X @ W + b; loss = ((pred - y)**2).mean(); "
                   "zero_grad; backward; torch.optim.SGD step), printing its line every "
                   "100 epochs into a StringIO")


def _fit_quietly(fit, x, y):
    """One seed fit with its log lines captured (both sides pay for the same capture)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        fit(x, y)
    return out.getvalue()


@pytest.mark.parametrize("impl", list(SEED_IMPLS) + ["torch"])
def test_seed_gd_1000_epochs(benchmark, expected, data_files, impl):
    x, y = demo.seed_data()
    want = expected(SEED_GROUP, lambda: _fit_quietly(demo.fit_numpy, x, y)).splitlines()
    assert len(want) == demo.EPOCHS // demo.LOG_EVERY, want
    seed = SimpleNamespace(dtype=x.dtype, n=x.shape[0], d=x.shape[1], k=1)
    describe(benchmark, work=SEED_GROUP, impl=impl, p=seed, lr=demo.LR, epochs=demo.EPOCHS,
             log_every=demo.LOG_EVERY, description=(
                 f"The seed tutorial: {demo.EPOCHS} full-batch GD epochs (lr {demo.LR}) on "
                 "x = [[1], [2], [3]], y = [3, 6, 9] in float32, printing a log line every "
                 f"{demo.LOG_EVERY} epochs (into a StringIO): GDRegressor(log_every=100).fit"
                 " vs the same loop in NumPy vs the seed's PyTorch loop. All three print "
                 "the same ten lines."))
    benchmark.group = SEED_GROUP  # one float32 workload: no dtype suffix

    if impl == "torch":
        peers.require_peer("torch")
        model = GDRegressor(lr=demo.LR, epochs=demo.EPOCHS).fit(x, y)
        check = {"lines": want, "coef": model.coef_.tolist(), "intercept": model.intercept_,
                 "losses": model.loss_curve_.tolist(), "rtol": TORCH_RTOL["float32"]}
        request = dict(work="seed", lr=demo.LR, epochs=demo.EPOCHS, log_every=demo.LOG_EVERY,
                       check=check)
        answer = peers.torch_row(benchmark, data_files(("seed",), x, y), request,
                                 SEED_TORCH_ROUNDS, SEED_TORCH_LOOP)
        assert answer["lines"] == want
        return

    fit = SEED_IMPLS[impl]
    got = _fit_quietly(fit, x, y).splitlines()  # before any timing
    assert got == want, "the printed log lines differ from the plain-NumPy loop's"
    benchmark(_fit_quietly, fit, x, y)


# ---------------------------------------------------------------------------------------
# gd-<epochs>-epochs: full-batch GD, a medium problem and a large one, vs NumPy and torch
# ---------------------------------------------------------------------------------------

GD_CASES = {  # work: (n, d, epochs, lr)
    "gd-200-epochs": (10_000, 32, 200, 0.01),
    "gd-20-epochs": (1_000_000, 32, 20, 0.1),
}
GD_ROUNDS = {  # (work, impl): (rounds, warmup_rounds); PyTorch's warm-up is its check fit
    ("gd-200-epochs", "linreg"): (50, 1),
    ("gd-200-epochs", "numpy-reference"): (20, 1),
    ("gd-200-epochs", "torch"): (20, 0),
    ("gd-20-epochs", "linreg"): (5, 1),
    ("gd-20-epochs", "numpy-reference"): (3, 0),
    ("gd-20-epochs", "torch"): (3, 0),
}
GD_DESCRIPTIONS = {
    "gd-200-epochs": (
        "GDRegressor(lr={lr}, epochs={epochs}).fit from zero vs the same loop in NumPy "
        "(linreg.reference.gd_epochs) and in PyTorch (the seed's loop). A medium problem: "
        "X (2.6 MB in float64) stays in cache, so the per-epoch overhead of each side "
        "(NumPy's ~10 calls, PyTorch's autograd) shows beside the arithmetic."
    ),
    "gd-20-epochs": (
        "GDRegressor(lr={lr}, epochs={epochs}).fit from zero vs the same loop in NumPy "
        "(linreg.reference.gd_epochs) and in PyTorch (the seed's loop). A large problem: "
        "every epoch streams X from memory (linreg once, NumPy and PyTorch twice)."
    ),
}
GD_TORCH_LOOP = ("the seed's loop (pred = X @ W + b; loss = ((pred - y)**2).mean(); "
                 "zero_grad; backward; torch.optim.SGD step; loss.item() per epoch)")


def _reference_gd(p, lr, epochs):
    W, b = p.zero_params()
    losses = np.empty(epochs)
    reference.gd_epochs(p.X, p.Y, W, b, lr, losses)
    return losses, W, b


@pytest.mark.parametrize("work, impl", [pytest.param(*key, id="-".join(key))
                                        for key in GD_ROUNDS])
@pytest.mark.parametrize("dtype", DTYPES)
def test_gd(benchmark, problem, expected, data_files, dtype, work, impl):
    n, d, epochs, lr = GD_CASES[work]
    p = problem(n, d, 1, dtype)
    rtol = rtol_for(p.dtype)
    rounds, warmup_rounds = GD_ROUNDS[work, impl]
    describe(benchmark, work=work, impl=impl, p=p, lr=lr, epochs=epochs, rounds=rounds,
             description=GD_DESCRIPTIONS[work].format(lr=lr, epochs=epochs))
    if impl == "torch":
        peers.require_peer("torch")
    want_losses, want_W, want_b = expected((work, "reference", p.dtype.name),
                                           lambda: _reference_gd(p, lr, epochs))

    def linreg_fit():  # computed once, checked against the reference
        model = GDRegressor(lr=lr, epochs=epochs).fit(p.X, p.Y)
        _close(model.coef_, want_W, rtol, "coef_")
        _close(model.intercept_, want_b[0], rtol, "intercept_")
        _close(model.loss_curve_, want_losses, rtol, "loss_curve_")
        return model

    if impl == "linreg":
        model = expected((work, "linreg", p.dtype.name), linreg_fit)  # before any timing
        benchmark.pedantic(model.fit, args=(p.X, p.Y), rounds=rounds,
                           warmup_rounds=warmup_rounds, iterations=1)

    elif impl == "numpy-reference":
        # The reference is the oracle: its check run is the one that computed want_*.
        last = {}

        def fresh_params():
            W, b = p.zero_params()
            last.update(W=W, b=b)
            return (p.X, p.Y, W, b, lr, np.empty(epochs)), {}

        benchmark.pedantic(reference.gd_epochs, setup=fresh_params, rounds=rounds,
                           warmup_rounds=warmup_rounds, iterations=1)
        np.testing.assert_array_equal(last["W"], want_W)  # the timed run did the work
        np.testing.assert_array_equal(last["b"], want_b)

    else:  # PyTorch, in its own process
        mine = expected((work, "linreg", p.dtype.name), linreg_fit)
        torch_rtol = TORCH_RTOL[p.dtype.name]
        check = {"coef": mine.coef_.tolist(), "intercept": mine.intercept_,
                 "losses": mine.loss_curve_.tolist(), "rtol": torch_rtol,
                 "atol": torch_rtol * float(np.abs(mine.coef_).max())}
        answer = peers.torch_row(benchmark,
                                 data_files(("gd", p.n, p.d, p.dtype.name), p.X, p.Y),
                                 dict(work="gd", lr=lr, epochs=epochs, check=check), rounds,
                                 GD_TORCH_LOOP)
        _close(answer["coef"], mine.coef_, torch_rtol, "PyTorch's W")  # and once more here
        _close(answer["losses"], mine.loss_curve_, torch_rtol, "PyTorch's losses")


# ---------------------------------------------------------------------------------------
# sgd-*: per-sample SGD epochs, in order and shuffled, vs NumPy, scikit-learn and torch
# ---------------------------------------------------------------------------------------

SGD_D, SGD_LR = 32, 1e-3
SGD_CASES = {  # work: (n, epochs)
    "sgd-10-epochs": (100_000, 10),
    "sgd-1-epoch-n10k": (10_000, 1),
}

#: Timed rounds (after one warm-up fit) per (work, variant, impl); None: not run, with
#: the reason in SGD_NOT_RUN. The NumPy loop takes ~0.25 s per 100,000 samples, so it
#: gets one honest round of the full 10 epochs; PyTorch's ~100-150 us per sample.
SGD_ROUNDS = {
    "sgd-10-epochs": {"linreg": 20, "sklearn": 10, "numpy-reference": 1, "torch": None},
    "sgd-1-epoch-n10k": {"linreg": 200, "sklearn": 50, "numpy-reference": 10, "torch": 3},
}
SGD_NOT_RUN = {
    ("sgd-10-epochs", "torch"): (
        "PyTorch's per-sample loop (one autograd step per sample) costs ~100-150 us per "
        "sample here: 10 epochs of 100,000 samples would take ~2-3 minutes per round; it "
        "runs the same per-sample work at n = 10,000 in the sgd-1-epoch-n10k groups"
    ),
}
SGD_DESCRIPTION = (
    "SGDRegressor(lr={lr}, epochs={epochs}, batch_size=1).fit from zero (per-sample SGD) "
    "vs the same loop in NumPy (linreg.reference), scikit-learn's SGDRegressor "
    "(eta0 = 2 * lr: its loss is half the squared error) and a PyTorch loop over samples. "
    "no-shuffle: natural order, every side follows linreg's trajectory (checked); "
    "shuffle: a new random order per epoch, seeded with 0 on each side but by different "
    "generators, so only the training MSE is checked (within 10% of the least-squares "
    "optimum's and of linreg's)."
)
SGD_SMALL_NOTE = " n = 10,000: the size at which PyTorch's per-sample loop is practical."
SGD_TORCH_LOOP = ("the seed's step on one sample at a time (for i in order: pred = X[i] @ W "
                  "+ b; loss = ((pred - y[i])**2).mean(); zero_grad; backward; "
                  "torch.optim.SGD step; loss.item()), shuffled with a new "
                  "torch.randperm per epoch from torch.Generator().manual_seed(0)")

#: Shuffled runs follow different random orders on the various sides, so they are only
#: required to reach a training MSE within this factor of the least-squares optimum's,
#: and within this factor of linreg's.
SHUFFLED_MSE_FACTOR = 1.10

#: The epoch's mean loss of the float32 reference loop is summed in float32 (NumPy 2 keeps
#: `python float + float32 scalar` in float32), so over 1e5 samples it is only good to
#: ~1e-4 relative; W and b are still held to rtol_for(float32).
SGD_LOSS_RTOL = {"float32": 1e-3}


def _sgd_linreg(epochs, shuffle):
    return SGDRegressor(lr=SGD_LR, epochs=epochs, batch_size=1, shuffle=shuffle,
                        random_state=0 if shuffle else None)


def _reference_sgd(p, epochs):
    """linreg.reference.sgd_epochs from zero, in natural order: the oracle."""
    W, b = p.zero_params()
    losses = np.empty(epochs)
    reference.sgd_epochs(p.X, p.Y, W, b, SGD_LR, losses)
    return losses, W, b


def _reference_sgd_shuffled(p, epochs):
    """The NumPy loop shuffled as a NumPy user shuffles: a new permutation per epoch from
    np.random.default_rng(0), then linreg.reference.sgd_epoch over it."""
    W, b = p.zero_params()
    losses = np.empty(epochs)
    rng = np.random.default_rng(0)
    for epoch in range(epochs):
        losses[epoch] = reference.sgd_epoch(p.X, p.Y, W, b, SGD_LR, rng.permutation(p.n))
    return losses, W, b


def _mse_of(W, b, p):
    residual = (p.X @ W + b - p.Y).astype(np.float64)
    return float(np.vdot(residual, residual)) / p.n


def _least_squares_mse(p):
    """Training MSE of the exact least-squares fit with intercept (the best possible),
    computed in float64 for both dtypes."""
    A = np.hstack([p.X, np.ones((p.n, 1), dtype=p.dtype)]).astype(np.float64)
    y = p.Y.astype(np.float64)
    solution = np.linalg.lstsq(A, y, rcond=None)[0]
    residual = A @ solution - y
    return float(np.vdot(residual, residual)) / p.n


def _linreg_sgd_answer(p, expected, work, epochs, shuffle):
    """linreg's fit of the SGD problem (computed once): coef, intercept, losses, MSE, R^2."""

    def compute():
        model = _sgd_linreg(epochs, shuffle).fit(p.X, p.Y)
        mse = _mse_of(model.coef_, model.intercept_, p)
        return SimpleNamespace(coef=model.coef_.copy(), intercept=model.intercept_,
                               losses=model.loss_curve_.copy(), mse=mse,
                               r2=1.0 - mse / float(np.var(p.Y.astype(np.float64))))

    return expected((work, "linreg", shuffle, p.dtype.name), compute)


SGD_TESTS = [pytest.param(work, variant, impl, id=f"{work}-{variant}-{impl}")
             for work in SGD_CASES for variant in ("no-shuffle", "shuffle")
             for impl in SGD_ROUNDS[work]]


@pytest.mark.parametrize("work, variant, impl", SGD_TESTS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd(benchmark, problem, expected, data_files, dtype, work, variant, impl):
    n, epochs = SGD_CASES[work]
    p = problem(n, SGD_D, 1, dtype)
    shuffle = variant == "shuffle"
    rtol = rtol_for(p.dtype)
    rounds = SGD_ROUNDS[work][impl]
    describe(benchmark, work=work, impl=impl, p=p, variant=variant, lr=SGD_LR,
             epochs=epochs, batch_size=1, shuffle=shuffle,
             random_state=0 if shuffle else None, rounds=rounds,
             description=SGD_DESCRIPTION.format(lr=SGD_LR, epochs=epochs) + (
                 SGD_SMALL_NOTE if work == "sgd-1-epoch-n10k" else ""))
    if rounds is None:
        pytest.skip(SGD_NOT_RUN[work, impl])
    if impl == "sklearn":
        peers.require_peer("sklearn")
    if impl == "torch":
        peers.require_peer("torch")

    if shuffle:
        best_mse = expected((work, "lstsq", p.dtype.name), lambda: _least_squares_mse(p))
        max_mse = SHUFFLED_MSE_FACTOR * best_mse
        benchmark.extra_info.update(least_squares_mse=best_mse, max_mse=max_mse)
    else:
        want_losses, want_W, want_b = expected((work, "reference", p.dtype.name),
                                               lambda: _reference_sgd(p, epochs))
    mine = _linreg_sgd_answer(p, expected, work, epochs, shuffle)  # linreg's, checked:
    if shuffle:
        assert mine.mse <= max_mse, (mine.mse, best_mse)
    else:
        _close(mine.coef, want_W, rtol, "linreg coef_")
        _close(mine.intercept, want_b[0], rtol, "linreg intercept_")
        _close(mine.losses, want_losses, SGD_LOSS_RTOL.get(p.dtype.name, rtol),
               "linreg loss_curve_")

    if impl == "linreg":
        benchmark.extra_info.update(mse=mine.mse, r2=mine.r2)
        model = _sgd_linreg(epochs, shuffle)
        benchmark.pedantic(model.fit, args=(p.X, p.Y), rounds=rounds, warmup_rounds=1,
                           iterations=1)

    elif impl == "numpy-reference":
        if shuffle:  # other random orders than linreg's: near the optimum, near linreg
            got = expected((work, "reference-shuffle", p.dtype.name),
                           lambda: _reference_sgd_shuffled(p, epochs))
            got_mse = _mse_of(got[1], got[2], p)
            assert got_mse <= max_mse, (got_mse, best_mse)
            np.testing.assert_allclose(got_mse, mine.mse, rtol=SHUFFLED_MSE_FACTOR - 1)
            benchmark.extra_info.update(mse=got_mse, shuffle_with="np.random.default_rng(0)"
                                        ".permutation(n) per epoch")
            want_W, want_b = got[1], got[2]
        # Otherwise the reference is the oracle: its check run computed want_*.
        last = {}

        def run(W, b):
            if shuffle:
                rng = np.random.default_rng(0)
                for _ in range(epochs):
                    reference.sgd_epoch(p.X, p.Y, W, b, SGD_LR, rng.permutation(p.n))
            else:
                reference.sgd_epochs(p.X, p.Y, W, b, SGD_LR, np.empty(epochs))

        def fresh_params():  # every round trains from W = 0, b = 0
            W, b = p.zero_params()
            last.update(W=W, b=b)
            return (W, b), {}

        benchmark.pedantic(run, setup=fresh_params, rounds=rounds, warmup_rounds=0,
                           iterations=1)
        np.testing.assert_array_equal(last["W"], want_W)  # the timed run did the work
        np.testing.assert_array_equal(last["b"], want_b)

    elif impl == "sklearn":  # in its own process
        if shuffle:
            check = {"max_mse": max_mse}
        else:  # the same trajectory as linreg's fit
            check = {"coef": mine.coef.tolist(), "intercept": mine.intercept, "rtol": rtol}
        files = data_files(("sgd", p.n, p.d, p.dtype.name), p.X, p.Y)
        request = dict(X=files[0], y=files[1], lr=SGD_LR, epochs=epochs, shuffle=shuffle,
                       random_state=0 if shuffle else None, check=check)
        answer = peers.sklearn_sgd_row(benchmark, request, rounds, p.dtype.name)
        if shuffle:  # both sides near the optimum, so near each other
            assert answer["mse"] <= max_mse, (answer["mse"], best_mse)
            np.testing.assert_allclose(answer["mse"], mine.mse, rtol=SHUFFLED_MSE_FACTOR - 1)
        else:
            np.testing.assert_allclose(answer["coef"], mine.coef, rtol=rtol, err_msg="coef_")

    else:  # PyTorch, in its own process
        torch_rtol = TORCH_RTOL[p.dtype.name]
        if shuffle:
            check = {"max_mse": max_mse}
        else:
            check = {"coef": mine.coef.tolist(), "intercept": mine.intercept,
                     "losses": mine.losses.tolist(), "rtol": torch_rtol,
                     "atol": torch_rtol * float(np.abs(mine.coef).max())}
        answer = peers.torch_row(benchmark,
                                 data_files(("sgd", p.n, p.d, p.dtype.name), p.X, p.Y),
                                 dict(work="sgd", lr=SGD_LR, epochs=epochs, shuffle=shuffle,
                                      seed=0, check=check), rounds, SGD_TORCH_LOOP)
        if shuffle:
            np.testing.assert_allclose(answer["mse"], mine.mse, rtol=SHUFFLED_MSE_FACTOR - 1)
        else:
            _close(answer["coef"], mine.coef, torch_rtol, "PyTorch's W")


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


@pytest.mark.parametrize("fit_name", list(MEMORY_FITS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_memory_fit(benchmark, problem, dtype, fit_name):
    p = problem(MEM_N, MEM_D, 1, dtype)
    make, shuffles = MEMORY_FITS[fit_name]
    assert p.X.flags.c_contiguous and p.X.dtype == dtype
    model = make()

    peak_extra = peak_extra_traced_bytes(lambda: model.fit(p.X, p.Y))
    peak_rss_extra = peak_rss_extra_bytes(lambda: model.fit(p.X, p.Y))
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
