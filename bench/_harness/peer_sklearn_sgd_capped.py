"""Run scikit-learn's SGDRegressor under a time cap in a process of its own (a script:
peers.py runs it), recording how close to the least-squares loss it gets.

Why a separate process: see peer_sklearn_sgd.py (scikit-learn's OpenMP threads). Every
thread pool is pinned to one thread.

On raw features of very different scales scikit-learn's SGD does not come near the
least-squares loss in any time this benchmark can spend (its defaults ran 1000 epochs
without stopping), so it runs epoch by epoch with `partial_fit` (the updates of `fit`,
with the learning-rate schedule carried on through `t_`), the clock running only inside
`partial_fit`, until the first of: the relative gap reaches target_gap, the time cap, the
epoch budget, a non-finite model.

Protocol: one JSON request on stdin, one JSON answer on stdout.

request = {
    "X": "path/to/X.npy", "y": "path/to/y.npy",
    "params": SGDRegressor's parameters ({"random_state": 0} for the defaults),
    "eta0_grid": null, or eta0 values to try first (untimed): each runs grid_epochs
          epochs from scratch and the one with the lowest gap is then run under the cap,
    "grid_epochs": int,
    "best_loss": the least-squares training MSE, "target_gap": 1e-6,
    "time_cap_s": seconds of partial_fit after which the run stops,
    "max_epochs": epochs after which the run stops,
}
answer = {
    "times_s": [seconds spent in partial_fit over the whole run],
    "relative_gap": the gap at the end, "best_gap": the lowest gap after any epoch,
    "reached": whether the gap came within target_gap, "epochs": epochs run,
    "stopped_by": "target" | "time cap" | "epoch budget" | "non-finite",
    "trajectory": [[epoch, seconds so far, gap], ...],
    "eta0": the eta0 run, "grid": [[eta0, gap after grid_epochs], ...] (or null),
    "warnings": the distinct warning messages scikit-learn issued,
    "sklearn_version": str, "threadpools": threadpoolctl.threadpool_info(),
}
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before NumPy (OpenBLAS) and scikit-learn (OpenMP) load

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402


def relative_gap(X, y, model, best_loss):
    """(MSE - best_loss) / best_loss, as bench/_harness/least_squares.py computes it."""
    if not (np.all(np.isfinite(model.coef_)) and np.all(np.isfinite(model.intercept_))):
        return float("inf")
    residual = X @ model.coef_
    residual += float(model.intercept_[0])
    residual -= y
    loss = float(residual @ residual) / len(y)
    return loss / best_loss - 1.0 if np.isfinite(loss) else float("inf")


def run(X, y, params, request, max_epochs, time_cap_s, seen):
    """Epochs of partial_fit from scratch; (gap, trajectory, seconds, stopped_by)."""
    from sklearn.linear_model import SGDRegressor

    model = SGDRegressor(**params)
    trajectory, spent, stopped_by = [], 0.0, "epoch budget"
    for epoch in range(1, max_epochs + 1):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            start = time.perf_counter()
            try:
                model.partial_fit(X, y)
                failed = False
            except (ValueError, FloatingPointError) as exc:  # its overflow check
                failed = True
                seen.add(f"{type(exc).__name__}: {exc}")
            spent += time.perf_counter() - start
        seen.update(str(w.message) for w in caught)
        gap = float("inf") if failed else relative_gap(X, y, model, request["best_loss"])
        trajectory.append([epoch, spent, gap])
        if not np.isfinite(gap):
            stopped_by = "non-finite"
            break
        if gap <= request["target_gap"]:
            stopped_by = "target"
            break
        if spent >= time_cap_s:
            stopped_by = "time cap"
            break
    return trajectory, spent, stopped_by


def main():
    request = json.load(sys.stdin)
    X = np.load(request["X"])
    y = np.load(request["y"])
    seen = set()
    with threadpool_limits(limits=1):
        import sklearn
        from sklearn.linear_model import SGDRegressor

        params = dict(request["params"])
        grid = None
        if request.get("eta0_grid"):
            grid = []
            for eta0 in request["eta0_grid"]:
                trajectory, _, _ = run(X, y, dict(params, eta0=eta0), request,
                                       request["grid_epochs"], float("inf"), set())
                grid.append([eta0, trajectory[-1][2]])
            params["eta0"] = min(grid, key=lambda row: row[1])[0]
        trajectory, spent, stopped_by = run(X, y, params, request, request["max_epochs"],
                                            request["time_cap_s"], seen)
        gaps = [gap for _, _, gap in trajectory]
        answer = {
            "times_s": [spent],
            "relative_gap": gaps[-1],
            "best_gap": min(gaps),
            "reached": bool(min(gaps) <= request["target_gap"]),
            "epochs": len(trajectory),
            "stopped_by": stopped_by,
            "trajectory": trajectory,
            "eta0": params.get("eta0", SGDRegressor().eta0),
            "grid": grid,
            "warnings": sorted(seen)[:10],
            "sklearn_version": sklearn.__version__,
            "threadpools": threadpool_info(),
        }
    json.dump(answer, sys.stdout)  # an infinite gap goes as Infinity, which json.loads reads
    return 0


if __name__ == "__main__":
    sys.exit(main())
