"""Time scikit-learn's LinearRegression in a process of its own (a script: peers.py runs it).

Why a separate process: scikit-learn loads an OpenMP runtime (and LinearRegression's
lstsq runs in BLAS threads); keeping it out of the pytest process keeps its thread pools
from slowing whatever is timed next. OMP_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1 and
threadpoolctl pin it to one thread, like linreg on the other side.

Protocol: one JSON request on stdin, one JSON answer on stdout.

request = {
    "X": "path/to/X.npy", "y": "path/to/y.npy",
    "params": LinearRegression's parameters (e.g. {} for the defaults, {"tol": 1e-12}),
    "best_loss": the least-squares training MSE, "target_gap": 1e-6,
    "require_target": whether the fit must come within target_gap of best_loss,
    "rounds": how many fits to time,
}
answer = {
    "times_s": [seconds of each timed fit], "coef": [...], "intercept": float,
    "relative_gap": (MSE - best_loss) / best_loss of the fit, "rank": its rank_,
    "ignored_params": parameters this scikit-learn's LinearRegression does not have,
    "check_fit_s": seconds of the check fit, "sklearn_version": str,
    "threadpools": threadpoolctl.threadpool_info(),
}

The first fit is the check (and the warm-up): with require_target, a fit whose gap is
above target_gap answers {"error": ...} with exit status 1 and nothing is timed. Each
timed fit is one call of `fit` (the estimator is built once, outside the timing), timed
with time.perf_counter; every timed fit's coefficients must equal the check fit's, bit
for bit.
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before NumPy (OpenBLAS) and scikit-learn (OpenMP) load

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402
from peer_timing import time_refits  # noqa: E402


def relative_gap(X, y, coef, intercept, best_loss):
    """(MSE - best_loss) / best_loss, as bench/_harness/least_squares.py computes it."""
    residual = X @ coef
    residual += intercept
    residual -= y
    loss = float(residual @ residual) / len(y)
    return loss / best_loss - 1.0 if np.isfinite(loss) else float("inf")


def main():
    request = json.load(sys.stdin)
    X = np.load(request["X"])
    y = np.load(request["y"])
    with threadpool_limits(limits=1):
        import sklearn
        from sklearn.linear_model import LinearRegression

        # LinearRegression has `tol` (lstsq's cutoff, default 1e-6) since scikit-learn 1.7;
        # before, lstsq ran with its own cutoff (machine epsilon): run without it there.
        known = LinearRegression().get_params()
        params = {name: value for name, value in request["params"].items() if name in known}
        model = LinearRegression(**params)
        start = time.perf_counter()
        model.fit(X, y)  # the check fit, also the warm-up
        check_fit_s = time.perf_counter() - start
        gap = relative_gap(X, y, model.coef_, float(model.intercept_), request["best_loss"])
        if request["require_target"] and not gap <= request["target_gap"]:
            json.dump({"error": f"relative gap {gap:.3g} to the least-squares loss, above "
                                f"the target {request['target_gap']:g}"}, sys.stdout)
            return 1
        times, error = time_refits(lambda: model.fit(X, y), request["rounds"],
                                   model.coef_.copy(), lambda fitted: fitted.coef_)
        if error:
            json.dump({"error": error}, sys.stdout)
            return 1
        answer = {
            "times_s": times,
            "coef": model.coef_.tolist(),
            "intercept": float(model.intercept_),
            "relative_gap": gap,
            "rank": int(model.rank_),
            "ignored_params": sorted(set(request["params"]) - set(params)),
            "check_fit_s": check_fit_s,
            "sklearn_version": sklearn.__version__,
            "threadpools": threadpool_info(),
        }
    json.dump(answer, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
