"""The harness of the linreg benchmarks: everything but the fixtures (bench/conftest.py)
and the benchmarks themselves (bench/test_*.py).

Modules:

* `threads`: the thread pinning (1 BLAS / OpenMP thread on every side) and the thread
  counts actually seen;
* `problems`: the generated regression problems and the tolerances of the checks
  (`make_unscaled_problem`: raw features with scales from 1e-3 to 1e3);
* `least_squares`: the least-squares optimum of a problem, computed in NumPy, and the
  relative gap of a model's loss to it (bench/test_auto_lr.py's measure);
* `record`: what each row records for the report (`describe`: group and extra_info) and
  the rows that did not run;
* `peers`: scikit-learn and PyTorch, each run in a subprocess by the scripts beside it,
  `peer_sklearn_sgd.py`, `peer_sklearn_lstsq.py` (LinearRegression),
  `peer_sklearn_sgd_capped.py` (SGDRegressor under a time cap) and `peer_torch.py`;
* `machine`: the machine description written into the JSON, and the load other
  processes put on the machine during each row;
* `pytest_hooks`: the pytest hooks that write skipped rows and the machine into the JSON;
* `report`: the Markdown report of one JSON file (`python bench/report.py bench.json`);
* `compare`: the before/after table of two JSON files (`python bench/compare.py a b`).

`report` and `compare` need only the standard library and NumPy (not linreg, pytest or
threadpoolctl); this file imports nothing, so they can run anywhere.

Conventions (so that new peers and workloads slot in):

* a benchmark is `test_<name>[<dtype>-...-<impl>]` with `benchmark.group =
  "<work>-<dtype>"` (set by `record.describe`); impl ids: `linreg`, `numpy-reference`
  (linreg.reference), `numpy-matmul-floor` (one read of X: the memory-bound floor),
  `sklearn`, `torch`; settings of one workload that share a group are told apart by
  extra_info["variant"] (e.g. shuffle / no-shuffle);
* `extra_info` of every benchmark holds impl, work, dtype, n, d, k, the thread count and
  a one-paragraph description of the group's work, which `report` reads; conftest.py's
  `record_other_load` adds how busy other processes kept the (shared) machine;
* data come from the session-scoped `problem` fixture (each data set is generated once
  per session: 1e6 x 32 float64 is 256 MB), and reference answers from the
  session-scoped `expected` cache, so each is computed once however many peers use it;
* peers that load an OpenMP runtime (scikit-learn, PyTorch) never load into the
  benchmark process: they run in a subprocess (`peers.run_peer`) with every thread pool
  pinned to 1, check their result against linreg's before they time anything, and
  report their own timings (extra_info["external_times_s"]);
* a row measured against a target instead of an identical answer (bench/test_auto_lr.py:
  time to within 1e-6 of the least-squares loss) records extra_info["relative_gap"],
  "target_gap", "reached", "capped" and "budget"; a row that must reach the target
  asserts it before it is timed, the others are timed anyway and `report` marks them ✗;
* a peer that cannot run (not installed, or no such work: scikit-learn has no float32
  SGD) is a skipped test with a stated reason, after `describe` has named its group:
  `pytest_hooks` records it and writes the list into the JSON as "not_run", which
  `report` prints under the group.
"""
