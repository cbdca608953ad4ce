"""Measure the per-width tables of linreg._method.NARROW_ROW_NS on this machine.

For each width d (one output, 200,000 rows, one thread, the minimum of 7 runs): the
nanoseconds per row of a fused epoch (`kernels.loss_and_grad`) and of the Gram
statistics (`linreg._gram.gram_statistics_of`), for X in C and in Fortran order, both
dtypes. Run on a quiet machine, after any change to those passes:

    python bench/calibrate_narrow.py [widths, default 1,...,16] [orders, default C,F]
"""
import numpy as np, time, sys
from threadpoolctl import threadpool_limits
from linreg import kernels
import linreg._gram as G
rng = np.random.default_rng(0)
def tmin(f, r=7):
    ts = []
    for _ in range(r):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return min(ts)
widths = [int(a) for a in sys.argv[1].split(",")] if len(sys.argv) > 1 else list(range(1, 17))
orders = sys.argv[2].split(",") if len(sys.argv) > 2 else ["C", "F"]
n = 200_000
res = {}
with threadpool_limits(1):
    for dt in (np.float64, np.float32):
        for order in orders:
            for d in widths:
                X = np.asarray(rng.standard_normal((n, d)), dtype=dt, order=order)
                y = (X @ rng.standard_normal(d).astype(dt) + rng.standard_normal(n).astype(dt)).astype(dt)
                w = np.zeros(d, dt); b = np.zeros(1, dt); gw = np.empty(d, dt); gb = np.empty(1, dt)
                fe = tmin(lambda: kernels.loss_and_grad(X, y, w, b, gw, gb, n_threads=1))
                st = tmin(lambda: G.gram_statistics_of(X, y[:, None], True, 1))
                res[(np.dtype(dt).name, order, d)] = (fe / n * 1e9, st / n * 1e9)
            name = np.dtype(dt).name
            print(name, order, "fused", tuple(round(res[(name, order, d)][0], 2) for d in widths), flush=True)
            print(name, order, "gram ", tuple(round(res[(name, order, d)][1], 1) for d in widths), flush=True)
