"""Time scikit-learn's SGDRegressor in a process of its own (a script: peers.py runs it).

Why a separate process: scikit-learn loads an OpenMP runtime, and OpenMP worker threads
keep spinning for a while after a parallel region, stealing a core from whatever the
benchmark process times next. Importing scikit-learn only here keeps it (and its thread
pools) out of the pytest process altogether; OMP_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1
and threadpoolctl pin it to one thread like linreg on the other side.

Protocol: one JSON request on stdin, one JSON answer on stdout.

request = {
    "X": "path/to/X.npy", "y": "path/to/y.npy",
    "lr": linreg's learning rate (scikit-learn's eta0 is 2 * lr: its loss is half the
          squared error), "epochs": int, "shuffle": bool, "random_state": int or null,
    "rounds": how many fits to time,
    "options": optional {name: value} of SGDRegressor's own parameters (penalty, alpha,
          learning_rate, power_t, average: scikit-learn's units) replacing the defaults,
    "check": {"coef": [...], "intercept": float, "rtol": float}   (same trajectory)
          or {"max_mse": float}                                   (similar loss only),
}
answer = {
    "times_s": [seconds of each timed fit], "coef": [...], "intercept": float,
    "mse": training MSE, "r2": training R^2, "check_fit_s": seconds of the check fit,
    "coef_dtype": the dtype scikit-learn trained in (recent versions keep float32),
    "sklearn_version": str, "threadpools": threadpoolctl.threadpool_info(),
}

The first fit is the check (and the warm-up): if its result fails `check`, the answer is
{"error": ...} with exit status 1 and nothing is timed. Each timed fit is one call of
`fit` (the estimator is built once, outside the timing, as on linreg's side), timed with
time.perf_counter; every timed fit's coefficients must equal the check fit's, bit for bit.
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


def make_estimator(lr, epochs, shuffle, random_state, options=None):
    """scikit-learn's SGDRegressor on linreg's SGDRegressor(lr, epochs, batch_size=1,
    shuffle, random_state) trajectory (the same one exactly when shuffle is False);
    `options` replace its parameters (scikit-learn's names and units)."""
    from sklearn.linear_model import SGDRegressor

    return SGDRegressor(**{**dict(
        loss="squared_error",
        penalty=None,
        learning_rate="constant",
        eta0=2.0 * lr,
        max_iter=epochs,
        tol=None,
        shuffle=shuffle,
        random_state=random_state,
        fit_intercept=True,
        average=False,
    ), **(options or {})})


def _check(model, X, y, check):
    """None when the fit passes `check`, else a message."""
    coef, intercept = model.coef_, float(model.intercept_[0])
    if "coef" in check:
        want, rtol = np.asarray(check["coef"]), check["rtol"]
        if not np.allclose(coef, want, rtol=rtol, atol=0):
            worst = float(np.max(np.abs(coef - want) / np.abs(want)))
            return f"coef_ differs from linreg's: max relative difference {worst:.3g} > {rtol}"
        if not np.isclose(intercept, check["intercept"], rtol=rtol, atol=0):
            return f"intercept_ {intercept!r} differs from linreg's {check['intercept']!r}"
    if "max_mse" in check:
        mse = float(np.mean((model.predict(X) - y) ** 2))
        if not mse <= check["max_mse"]:
            return f"training MSE {mse:.6g} above {check['max_mse']:.6g}"
    return None


def main():
    request = json.load(sys.stdin)
    X = np.load(request["X"])
    y = np.load(request["y"])
    with threadpool_limits(limits=1):
        import sklearn

        model = make_estimator(
            request["lr"], request["epochs"], request["shuffle"], request["random_state"],
            request.get("options"),
        )
        start = time.perf_counter()
        model.fit(X, y)  # the check fit, also the warm-up
        check_fit_s = time.perf_counter() - start
        error = _check(model, X, y, request["check"])
        if error:
            json.dump({"error": error}, sys.stdout)
            return 1
        times, error = time_refits(lambda: model.fit(X, y), request["rounds"],
                                   model.coef_.copy(), lambda fitted: fitted.coef_)
        if error:
            json.dump({"error": error}, sys.stdout)
            return 1
        answer = {
            "times_s": times,
            "coef": model.coef_.tolist(),
            "coef_dtype": model.coef_.dtype.name,
            "intercept": float(model.intercept_[0]),
            "mse": float(np.mean((model.predict(X) - y) ** 2)),
            "r2": float(model.score(X, y)),
            "check_fit_s": check_fit_s,
            "sklearn_version": sklearn.__version__,
            "threadpools": threadpool_info(),
        }
    json.dump(answer, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
