"""A/B of the avx2 and avx512 builds: each process races both, in turns, call by call.

    for i in 1 2 3 4; do for s in avx2 avx512; do
        OPENBLAS_NUM_THREADS=1 LINREG_SIMD=$s python bench/ab_builds.py [GROUP ...] >> ab.jsonl
    done; done
    python bench/ab_builds.py --table ab.jsonl

Every case runs on one thread (n_threads=1; NumPy's BLAS limited by the caller with
OPENBLAS_NUM_THREADS=1) and times linreg and its NumPy peer alternately in the same
process, REPEATS rounds of one call each (both builds and NumPy, the order rotated
each round); a line of JSON per case gives the medians (ms), their spread (min, max),
and each build's median ratio to its neighbours (avx2, NumPy). LINREG_SIMD picks which
build goes first in the rotation; alternate it across processes. GROUPS: fused (loss_and_grad, one output, 2**24 elements of X,
the shapes of bench/test_floor.py), multi (k outputs, 2**23 elements, the shapes of
bench/test_multi_output_epoch.py), gram (gram_statistics, 2**24 elements), sgd (one
epoch of per-sample SGD in natural order, 2**22 elements), predict (2**24 elements).
Not a pytest module (its name does not start with test_): the suite's benchmarks are the
test_*.py files next to it.
"""
import json
import os
import statistics
import sys
import time

import numpy as np

REPEATS = 9
#: The builds raced against each other (linreg.kernels runs the one _compiled.build names).
BUILDS = {}
GROUPS = ("fused", "multi", "gram", "sgd", "predict")


def _timed(fn):
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3


def _race(linreg_call, numpy_fn):
    """Times of linreg_call(module) on every build and of numpy_fn (None: none), taken in
    turns (the order rotated each round, one warm-up each): per runner the median and
    (min, max) in ms, and per build the median over rounds of its time over the same
    round's avx2 time and NumPy time (neighbouring calls: the machine's load, which
    changed the absolute times up to 2x here, mostly cancels)."""
    runners = {name: (lambda m=module: linreg_call(m)) for name, module in BUILDS.items()}
    if numpy_fn is not None:
        runners["numpy"] = numpy_fn
    names = list(runners)
    for name in names:
        runners[name]()
    times = {name: [] for name in names}
    for round_ in range(REPEATS):
        for name in names[round_ % len(names):] + names[:round_ % len(names)]:
            times[name].append(_timed(runners[name]))
    out = {name: {"ms": statistics.median(t), "range": [min(t), max(t)]}
           for name, t in times.items()}
    for name in BUILDS:
        for peer in ("avx2", "numpy"):
            if peer in times and peer != name:
                out[name][f"over_{peer}"] = statistics.median(
                    a / b for a, b in zip(times[name], times[peer]))
    return out


def _on(module):
    """linreg.kernels, running on the compiled module `module` (as the tests' `impl`)."""
    from linreg import _compiled, kernels

    _compiled.build = module
    return kernels


def _cases(groups):
    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        name = np.dtype(dtype).name
        if "fused" in groups:
            for d in (1, 4, 8, 32, 256, 2048):
                n = (1 << 24) // d
                X = rng.standard_normal((n, d)).astype(dtype)
                y = rng.standard_normal(n).astype(dtype)
                w, b = rng.standard_normal(d).astype(dtype), np.array([0.25], dtype)
                gw, gb, out = np.empty_like(w), np.empty_like(b), np.empty_like(y)
                yield f"fused d={d} {name}", _race(
                    lambda m: _on(m).loss_and_grad(X, y, w, b, gw, gb, n_threads=1),
                    lambda: np.matmul(X, w, out=out))
                del X
        if "multi" in groups:
            for d in (4, 16):
                for k in (2, 8, 32):
                    n = (1 << 23) // d
                    X = rng.standard_normal((n, d)).astype(dtype)
                    Y = rng.standard_normal((n, k)).astype(dtype)
                    W, b = rng.standard_normal((d, k)).astype(dtype), np.full(k, 0.25, dtype)
                    gW, gb, out = np.empty_like(W), np.empty_like(b), np.empty_like(Y)
                    yield f"multi d={d} k={k} {name}", _race(
                        lambda m: _on(m).loss_and_grad(X, Y, W, b, gW, gb, n_threads=1),
                        lambda: np.matmul(X, W, out=out))
                    del X, Y
        if "gram" in groups:
            for d in (8, 16, 32, 48) if dtype is np.float64 else (8, 16):
                n = (1 << 24) // d
                X = (rng.standard_normal((n, d)) + rng.uniform(-3, 3, d)).astype(dtype)
                y = (X @ rng.standard_normal(d).astype(dtype) + 1.0
                     + rng.standard_normal(n).astype(dtype)).astype(dtype)
                yield f"gram d={d} {name}", _race(
                    lambda m: _on(m).gram_statistics(X, y, n_threads=1),
                    lambda: (X.T @ X, X.sum(axis=0)))
                del X
        if "sgd" in groups:
            for d in (8, 64):
                n = (1 << 22) // d
                X = rng.standard_normal((n, d)).astype(dtype)
                y = (X @ rng.standard_normal(d).astype(dtype)).astype(dtype)
                losses = np.empty(1)

                def sgd(m):
                    w, b = np.zeros(d, dtype), np.zeros(1, dtype)
                    _on(m).sgd_epochs(X, y, w, b, 0.01 / d, losses)

                yield f"sgd d={d} {name}", _race(sgd, None)
        if "predict" in groups:
            for d in (8, 32, 256):
                n = (1 << 24) // d
                X = rng.standard_normal((n, d)).astype(dtype)
                w, b = rng.standard_normal(d).astype(dtype), np.array([0.25], dtype)
                out, out2 = np.empty(n, dtype), np.empty(n, dtype)
                yield f"predict d={d} {name}", _race(
                    lambda m: _on(m).predict(X, w, b, out, n_threads=1),
                    lambda: np.matmul(X, w, out=out2))
                del X


def _table(path):
    """Per case, the median over processes of: each build's median time, avx512/avx2 (the
    median ratio of neighbouring calls; its min-max over processes), each build / NumPy."""
    rows = {}
    for line in open(path):
        r = json.loads(line)
        rows.setdefault(r["case"], []).append(r)
    print("| case | avx2 ms | avx512 ms | avx512/avx2 (min-max over processes) "
          "| avx2/NumPy | avx512/NumPy |")
    print("|---|---|---|---|---|---|")
    med = statistics.median
    for case, runs in rows.items():
        ratios = [r["avx512"]["over_avx2"] for r in runs]
        cells = [case, f"{med(r['avx2']['ms'] for r in runs):.2f}",
                 f"{med(r['avx512']['ms'] for r in runs):.2f}",
                 f"{med(ratios):.3f} ({min(ratios):.2f}-{max(ratios):.2f})"]
        for name in ("avx2", "avx512"):
            if "over_numpy" in runs[0][name]:
                cells.append(f"{med(r[name]['over_numpy'] for r in runs):.2f}")
            else:
                cells.append("-")
        print("| " + " | ".join(cells) + " |")


def main(argv):
    if argv[:1] == ["--table"]:
        _table(argv[1])
        return
    import importlib

    from linreg import _compiled, kernels

    default = _compiled.build
    # The build LINREG_SIMD picked first, then the other: each process runs both.
    for name in [kernels.simd] + [n for n in ("avx2", "avx512") if n != kernels.simd]:
        BUILDS[name] = importlib.import_module(f"linreg._kernels_{name}")
    groups = argv or GROUPS
    for case, result in _cases(groups):
        print(json.dumps({"case": case, "first": kernels.simd,
                          "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"), **result}),
              flush=True)
    _compiled.build = default


if __name__ == "__main__":
    main(sys.argv[1:])
