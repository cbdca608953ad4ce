"""Peak extra memory of one call on a Fortran-ordered X, in a fresh process.

    python bench/_harness/fortran_memory.py CASE DTYPE N D

prints one JSON object: x_bytes, peak_extra_bytes (tracemalloc), peak_rss_extra_bytes
(rise of VmHWM, Linux; null elsewhere) and times_s (three timed calls). The process
does nothing else, so its resident set shows any copy of X as ~100% of X's bytes.
CASE is one of CASES: the estimators' fit (GD fused and gram, SGD shuffled) and
predict on an ndarray in Fortran order, and GD's fit on a pandas DataFrame (whose
values NumPy sees in Fortran order) when pandas is importable.
"""
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from _harness.memory import peak_extra_traced_bytes, peak_rss_extra_bytes  # noqa: E402

CASES = ("GDRegressor-fused", "GDRegressor-gram", "SGDRegressor-shuffle", "predict",
         "GDRegressor-fused-DataFrame")


def _call(case, X, y):
    from linreg import GDRegressor, SGDRegressor

    if case == "predict":
        model = GDRegressor(lr=0.1, epochs=1).fit(X[:100], y[:100])
        return lambda: model.predict(X)
    if case.startswith("SGDRegressor"):
        model = SGDRegressor(lr=1e-3, epochs=1, shuffle=True, random_state=0)
    else:
        model = GDRegressor(lr=0.1, epochs=5, method=case.split("-")[1])
    return lambda: model.fit(X, y)


def main(case, dtype, n, d):
    rng = np.random.default_rng(0)
    X = np.asfortranarray(rng.standard_normal((n, d)), dtype=dtype)
    y = (X @ np.linspace(-1, 1, d).astype(dtype) + 0.5).astype(dtype)
    x_bytes = X.nbytes
    if case.endswith("DataFrame"):
        import pandas as pd

        X = pd.DataFrame(X, columns=[f"x{j}" for j in range(d)], copy=False)
        assert X.to_numpy().flags.f_contiguous
    call = _call(case, X, y)
    rss = peak_rss_extra_bytes(call)  # first: the process has touched nothing else yet
    traced = peak_extra_traced_bytes(call)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    print(json.dumps({"x_bytes": x_bytes, "peak_extra_bytes": traced,
                      "peak_rss_extra_bytes": rss, "times_s": times}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
