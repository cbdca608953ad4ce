"""Fortran-ordered X used in place (issue 14): each pass on X in Fortran order against
the same pass on the same values in C order, and the peak memory of a fit on a
Fortran-ordered X (or a pandas DataFrame, whose values NumPy sees in Fortran order)
measured in a fresh process.

Timing groups ``fortran-order-<pass>-<dtype>``: impl "linreg" is X in C order (the
denominator), "linreg-fortran" the same values in Fortran order, so the speedup column
is Fortran time / C time. Target: 1.3 or less for every pass: the fused epoch
(`kernels.loss_and_grad`), predict (`kernels.predict`), the Gram pass
(`kernels.gram_statistics`), and SGD (`SGDRegressor.fit`, one per-sample epoch, in
order and shuffled). The two layouts are timed call by call in alternation
(`_harness.interleave`), so that both see the same state of the machine's memory. X is
2**20 x 32 for the passes (256 MiB in float64), 1e5 x 32 for SGD; the fused epoch,
predict and the Gram pass also on 2**22 x 8 ("-d8": few columns take loops of their
own), the fused epoch and predict on 2**21 x 16 with 8 outputs ("-k8"); 1 thread.

Memory rows (the "Memory" section): peak bytes traced by tracemalloc and the rise of the
peak resident set during one call, in a process that does nothing else
(bench/_harness/fortran_memory.py); a copy of X shows as about 100% of X. Allowance: 5%
of X, plus 8 bytes per sample when shuffling.
"""
import functools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from _harness.interleave import record_interleaved
from _harness.problems import rtol_for
from _harness.record import Sized, describe
from linreg import SGDRegressor, kernels

N, D = 1 << 20, 32
SGD_N = 100_000
DTYPES = [pytest.param(np.float64, id="float64"), pytest.param(np.float32, id="float32")]
LAYOUTS = {"linreg": "C", "linreg-fortran": "F"}


@functools.lru_cache(maxsize=2)  # the arrays are large: keep only the current ones
def _data(n, dtype, order, d=D):
    rng = np.random.default_rng(n)
    X = np.asarray(rng.standard_normal((n, d)), dtype=dtype, order=order)
    y = (X @ np.linspace(-1, 1, d).astype(dtype) + 0.5).astype(dtype)
    return (X, y)


def _pass(name, X, y):
    """(run, result) of one pass over X."""
    dtype = X.dtype
    w, b = np.linspace(-0.5, 0.5, X.shape[1]).astype(dtype), np.array([0.1], dtype)
    if name.endswith("-k8"):  # K outputs: each y scaled and shifted
        y = (y[:, None] * np.linspace(0.5, 1.5, K, dtype=dtype)
             + np.arange(K, dtype=dtype)).astype(dtype)
        w = (w[:, None] * np.linspace(1.0, -1.0, K, dtype=dtype)).astype(dtype)
        b = np.full(K, 0.1, dtype)
    if name.startswith("fused-epoch"):
        gw, gb = np.empty_like(w), np.empty_like(b)

        def run():
            return kernels.loss_and_grad(X, y, w, b, gw, gb, n_threads=1), gw
    elif name.startswith("predict"):
        out = np.empty_like(y)

        def run():
            return kernels.predict(X, w, b, out, n_threads=1)
    elif name.startswith("gram-pass"):
        def run():
            return kernels.gram_statistics(X, y, n_threads=1).XtX
    else:
        shuffle = name == "sgd-epoch-shuffled"
        model = SGDRegressor(lr=1e-3, epochs=1, shuffle=shuffle, random_state=0,
                             n_threads=1)

        def run():
            return model.fit(X, y).coef_
    return run


PASSES = ["fused-epoch", "predict", "gram-pass", "fused-epoch-d8", "predict-d8",
          "gram-pass-d8", "fused-epoch-k8", "predict-k8", "sgd-epoch-in-order",
          "sgd-epoch-shuffled"]
#: Passes on X of 8 columns (as many elements: 4 N rows): a DataFrame of few columns, whose
#: fused epoch and predict take the one-pass loop over 2 to 16 columns side by side
#: (column_narrow.pxi) and whose statistics come from the compiled pass on transposed
#: blocks (gram_columns.pxi).
NARROW_D = 8
#: Passes with K outputs on X of MULTI_D columns (as many elements): from five outputs the
#: avx512 build's fused pass sums a Fortran X's columns in place (column_tiles_avx512.pxi);
#: predict, and the other builds, copy a block of rows at a time into C order
#: (column_rows.pxi).
K, MULTI_D = 8, 16


@pytest.mark.parametrize("impl", list(LAYOUTS))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", PASSES)
def test_fortran_order(benchmark, request, name, dtype, impl):
    n = SGD_N if name.startswith("sgd") else N
    d = NARROW_D if name.endswith("-d8") else MULTI_D if name.endswith("-k8") else D
    n = n * D // d
    X, y = _data(n, dtype, LAYOUTS[impl], d)
    assert X.flags.f_contiguous == (impl == "linreg-fortran")
    # The same values in the other layout must give the same answer (up to the order
    # of the sums).
    other_impl = "linreg" if impl == "linreg-fortran" else "linreg-fortran"
    other, _ = _data(n, dtype, LAYOUTS[other_impl], d)
    got, want = _pass(name, X, y)(), _pass(name, other, y)()
    rtol = rtol_for(X.dtype)
    for g, w in zip(got if isinstance(got, tuple) else (got,),
                    want if isinstance(want, tuple) else (want,)):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * float(np.max(np.abs(w))))
    describe(benchmark, work=f"fortran-order-{name}", impl=impl,
             p=Sized(X.dtype, n, d, K if name.endswith("-k8") else 1),
             description=(
                 f"{name} on X in C order (linreg) and on the same values in Fortran "
                 "order (linreg-fortran), 1 thread, the two timed call by call in "
                 "alternation (bench/_harness/interleave.py): the speedup column is "
                 "Fortran time / C time. Target: 1.3 or less, with no copy of X."))
    # Both layouts' arrays are alive here (the cache keeps two): the group's first row
    # times both.
    record_interleaved(benchmark, request, ("fortran-order", name, np.dtype(dtype).name),
                       {impl: _pass(name, X, y), other_impl: _pass(name, other, y)}, impl)


MEMORY_CASES = ["GDRegressor-fused", "GDRegressor-gram", "SGDRegressor-shuffle", "predict",
                "GDRegressor-fused-DataFrame"]
MEMORY_N = 1_000_000


@pytest.mark.parametrize("case", MEMORY_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_fortran_memory(benchmark, dtype, case):
    if case.endswith("DataFrame"):
        pytest.importorskip("pandas")
    script = Path(__file__).resolve().parent / "_harness" / "fortran_memory.py"
    dtype_name = np.dtype(dtype).name
    result = {}

    def run():
        out = subprocess.run([sys.executable, str(script), case, dtype_name, str(MEMORY_N),
                              str(D)], capture_output=True, text=True, check=True)
        result.update(json.loads(out.stdout))

    benchmark.group = "memory-fit"
    benchmark.pedantic(run, rounds=1, iterations=1)
    allowance = 0.05 * result["x_bytes"] + (8 * MEMORY_N if "shuffle" in case else 0)
    describe(benchmark, work="memory-fit", impl="linreg", p=Sized(dtype, MEMORY_N, D),
             fit=f"{case} (Fortran X, fresh process)", peak_extra_bytes=result["peak_extra_bytes"],
             peak_rss_extra_bytes=result["peak_rss_extra_bytes"], x_bytes=result["x_bytes"],
             allowance_bytes=allowance, external_times_s=result["times_s"],
             external_process="bench/_harness/fortran_memory.py: one call on a "
                              "Fortran-ordered X in a fresh process, three timed calls after")
    assert result["peak_extra_bytes"] <= allowance, (
        f"{case} on a Fortran-ordered {dtype_name} X allocated {result['peak_extra_bytes']:,}"
        f" bytes ({result['peak_extra_bytes'] / result['x_bytes']:.1%} of X): a copy of X")
