"""Time dask-ml's LinearRegression on a Dask cluster, in a process of its own (a script:
bench/test_dask.py runs it through peers.run_peer).

Why a separate process, and a cluster of its own: dask-ml imports scikit-learn, which the
benchmark process must never load (its OpenMP pool would perturb the rows timed after it;
peers.sklearn_sgd_row asserts that), and a LocalCluster's scheduler runs in the process
that made it, where it would import dask-ml's modules to read its tasks. This script
starts the same cluster as the benchmark's (2 worker processes of 1 thread) and makes the
same data on it (dask_problem.make_problem).

Protocol: one JSON request on stdin, one JSON answer on stdout.

request = {"n": rows, "block": rows per block, "rounds": fits to time,
           "check": {"min_r2": float}}
answer = {"times_s": [seconds of each timed fit], "r2": training R^2, "dask_ml_version"}
The first fit is the check (and the warm-up): an R^2 below min_r2 answers {"error": ...}
with exit status 1, and nothing is timed.
"""
import json
import sys
import time

from dask_problem import make_problem


def main():
    request = json.load(sys.stdin)
    import dask_ml
    import distributed
    from dask_ml.linear_model import LinearRegression

    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        client.wait_for_workers(2)
        X, y = make_problem(client, request["n"], request["block"])

        def fit():
            return LinearRegression().fit(X, y)

        model = fit()
        residual = ((y - model.predict(X)) ** 2).sum()
        total = ((y - y.mean()) ** 2).sum()
        r2 = float(1.0 - (residual / total).compute())
        if r2 < request["check"]["min_r2"]:
            json.dump({"error": f"R^2 {r2!r} below {request['check']['min_r2']!r}"},
                      sys.stdout)
            return 1
        times = []
        for _ in range(request["rounds"]):
            start = time.perf_counter()
            fit()
            times.append(time.perf_counter() - start)
    json.dump({"times_s": times, "r2": r2, "dask_ml_version": dask_ml.__version__},
              sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
