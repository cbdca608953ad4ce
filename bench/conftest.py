"""Shared fixtures of the linreg benchmarks (pytest-benchmark).

Run from the repository root:

    pytest bench --benchmark-only --benchmark-json=results.json
    python bench/report.py results.json > results.md

PyTorch, an optional peer, is not in the `test` extra: install it (its CPU build is
enough, e.g. from https://download.pytorch.org/whl/cpu) to include it; without it, its
benchmarks are skipped and report.py lists them as not run, with the reason.

CI runs `pytest bench --benchmark-disable`: every benchmark body then runs once, which
still exercises the correctness check each benchmark makes before it is timed.

Conventions (so that new peers and workloads slot in):

* a benchmark is `test_<name>[<dtype>-...-<impl>]` with `benchmark.group =
  "<work>-<dtype>"` (set by `describe`); impl ids: `linreg`, `numpy-reference`
  (linreg.reference), `numpy-matmul-floor` (one read of X: the memory-bound floor),
  `sklearn`, `torch`; settings of one workload that share a group are told apart by
  extra_info["variant"] (e.g. shuffle / no-shuffle);
* `extra_info` of every benchmark holds impl, work, dtype, n, d, k, the thread count and
  a one-paragraph description of the group's work, which `bench/report.py` reads;
  `_record_other_load` adds how busy other processes kept the (shared) machine;
* data come from the session-scoped `problem` factory (each data set is generated once
  per session: 1e6 x 32 float64 is 256 MB), and reference answers from the
  session-scoped `expected` cache, so each is computed once however many peers use it.
* peers that load an OpenMP runtime (scikit-learn, PyTorch) never load into this process:
  they run in a subprocess (`run_peer`: bench/sklearn_sgd.py, bench/torch_peer.py) with
  every thread pool pinned to 1, check their result against linreg's before they time
  anything, and report their own timings (extra_info["external_times_s"]);
* a peer that cannot run (not installed, or no such work: scikit-learn has no float32
  SGD) is a skipped test with a stated reason, after `describe` has named its group: the
  `pytest_runtest_makereport` hook below records it and `pytest_benchmark_update_json`
  writes the list into the JSON as "not_run", which report.py prints under the group
  (pytest-benchmark's JSON has no skipped tests).
"""
import os

# Belt and braces: single-threaded BLAS even before threadpoolctl gets to act. This must
# run before NumPy is imported (which loads OpenBLAS and reads these once).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from importlib import metadata  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

from linreg import kernels  # noqa: E402

#: Threads given to BLAS (and any other thread pool) in every benchmark, on both sides.
THREADS = 1

SEED = 20240601


@pytest.fixture(scope="session", autouse=True)
def single_threaded():
    """Pin every native thread pool (OpenBLAS, OpenMP) to THREADS for the whole session."""
    with threadpool_limits(limits=THREADS):
        yield THREADS


def blas_threads():
    """The thread counts the BLAS pools actually have now (to record, not to assume)."""
    counts = {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}
    return max(counts) if counts else None


@dataclass(frozen=True)
class Problem:
    """A regression problem y = X w_true + b_true + noise and a point (W, b) to evaluate.

    W and b are neither zero nor the truth, so residuals and gradients are far from zero
    and relative tolerances are meaningful. W, b must not be modified by benchmarks that
    read them; in-place trainers get copies (`fresh_params`).
    """

    X: np.ndarray
    Y: np.ndarray
    W: np.ndarray
    b: np.ndarray
    w_true: np.ndarray
    b_true: np.ndarray

    @property
    def n(self):
        return self.X.shape[0]

    @property
    def d(self):
        return self.X.shape[1]

    @property
    def k(self):
        return 1 if self.Y.ndim == 1 else self.Y.shape[1]

    @property
    def dtype(self):
        return self.X.dtype

    def zero_params(self):
        """Fresh, writable, C-contiguous zero W and b (the start of a training run)."""
        return np.zeros_like(self.W), np.zeros_like(self.b)


def _make_problem(n, d, k, rng):
    X = rng.standard_normal((n, d))
    shape_w = (d,) if k == 1 else (d, k)
    w_true = rng.uniform(0.5, 1.5, size=shape_w) * rng.choice([-1.0, 1.0], size=shape_w)
    b_true = rng.uniform(-1.0, 1.0, size=(k,))
    Y = X @ w_true
    Y += b_true
    Y += 0.1 * rng.standard_normal(Y.shape)
    W = w_true + rng.uniform(0.5, 1.0, size=shape_w) * rng.choice([-1.0, 1.0], size=shape_w)
    b = b_true + 0.5
    return Problem(X, Y, W, b, w_true, b_true)


def _astype(p, dtype):
    return Problem(*(np.ascontiguousarray(a, dtype=dtype) for a in
                     (p.X, p.Y, p.W, p.b, p.w_true, p.b_true)))


@pytest.fixture(scope="session")
def problem():
    """problem(n, d, k=1, dtype=np.float64) -> Problem, generated once per session.

    The float32 problem is the float64 one rounded, so both dtypes see the same data.
    """
    cache = {}

    def get(n, d, k=1, dtype=np.float64):
        dtype = np.dtype(dtype)
        key = (n, d, k, dtype.name)
        if key not in cache:
            if dtype == np.float64:
                rng = np.random.default_rng([SEED, n, d, k])
                cache[key] = _make_problem(n, d, k, rng)
            else:
                cache[key] = _astype(get(n, d, k, np.float64), dtype)
        return cache[key]

    return get


@pytest.fixture(scope="session")
def expected():
    """expected(key, compute) -> compute() computed once per session under `key`.

    Holds the answers of `linreg.reference` that every implementation is checked against
    before it is timed (the reference SGD epoch alone takes ~0.4 s).
    """
    cache = {}

    def get(key, compute):
        if key not in cache:
            cache[key] = compute()
        return cache[key]

    return get


def _cpu_seconds():
    """(machine busy, machine steal, this process + its waited-for children) CPU seconds,
    and the wall clock. Linux only (/proc/stat); OSError elsewhere."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    hz = os.sysconf("SC_CLK_TCK")
    mine = os.times()
    return ((user + nice + system + irq + softirq) / hz, steal / hz,
            mine.user + mine.system + mine.children_user + mine.children_system,
            time.perf_counter())


@pytest.fixture(autouse=True)
def _record_other_load(request):
    """extra_info["other_load_cores"]: cores other processes kept busy during the test.

    The machine's busy CPU time (from /proc/stat) minus this process's own (peer
    subprocesses included), over the test's wall time, checks and all; plus the
    hypervisor's steal time as "steal_cores". The machine is shared: report.py flags a
    group as noisy when either was high during it.
    """
    if "benchmark" not in request.fixturenames:
        yield
        return
    bench = request.getfixturevalue("benchmark")
    try:
        before = _cpu_seconds()
    except (OSError, ValueError):
        yield
        return
    yield
    after = _cpu_seconds()
    wall = after[3] - before[3]
    if wall > 0:
        others = (after[0] - before[0]) - (after[2] - before[2])
        bench.extra_info["other_load_cores"] = round(max(0.0, others) / wall, 2)
        bench.extra_info["steal_cores"] = round((after[1] - before[1]) / wall, 2)


# Helpers reach the benchmark modules as fixtures: with --import-mode=importlib this
# conftest is not importable by name.


def _rtol_for(dtype):
    """Agreement demanded with the reference: float64 to 1e-9, float32 to 1e-4."""
    return 1e-9 if np.dtype(dtype) == np.float64 else 1e-4


@pytest.fixture(scope="session")
def rtol_for():
    """rtol_for(dtype): the relative tolerance of the pre-timing correctness checks."""
    return _rtol_for


def _describe(benchmark, *, work, impl, p, **more):
    """Set the group and the extra_info that bench/report.py reads."""
    benchmark.group = f"{work}-{p.dtype.name}"
    benchmark.extra_info.update(
        work=work,
        impl=impl,
        dtype=p.dtype.name,
        n=p.n,
        d=p.d,
        k=p.k,
        threads=blas_threads(),
        thread_limit=THREADS,
        linreg_simd=kernels.simd,
        **more,
    )


@pytest.fixture(scope="session")
def describe():
    """describe(benchmark, work=..., impl=..., p=problem, **extra): group + extra_info."""
    return _describe


# ---------------------------------------------------------------------------------------
# Peers in subprocesses, data files for them, and the record of peers that did not run
# ---------------------------------------------------------------------------------------

#: Environment of every peer subprocess: all thread pools pinned to THREADS before any
#: library loads (the scripts also pin with threadpoolctl, and torch.set_num_threads).
PEER_ENV = {var: str(THREADS) for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                          "MKL_NUM_THREADS")}

#: Import name -> distribution name of the optional peers.
PEERS = {"sklearn": "scikit-learn", "torch": "torch"}

_peer_versions = None
_not_run = []


def _probe_peers():
    """{import name: version or None}: which peers import, tried in ONE subprocess.

    Importing them here would load their OpenMP runtimes into the benchmark process; a
    subprocess also tells "importable" from merely "installed" (a broken install skips
    with the import error as its reason instead of failing every peer benchmark).
    """
    global _peer_versions
    if _peer_versions is None:
        code = (
            "import json, importlib\n"
            "out = {}\n"
            f"for name in {sorted(PEERS)!r}:\n"
            "    try:\n"
            "        out[name] = importlib.import_module(name).__version__\n"
            "    except Exception as exc:\n"
            "        out[name] = 'not importable: ' + type(exc).__name__ + ': ' + str(exc)[:200]\n"
            "print(json.dumps(out))\n"
        )
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env=dict(os.environ, **PEER_ENV), timeout=300)
        if proc.returncode:
            raise RuntimeError(f"probing the peers failed:\n{proc.stderr}")
        _peer_versions = json.loads(proc.stdout)
    return _peer_versions


def _require_peer(name, reason=None):
    """Skip the calling benchmark, with a stated reason, when peer `name` cannot import.

    Returns the peer's version. Call it after `describe` so the skip is listed under
    the benchmark's group.
    """
    found = _probe_peers()[name]
    if found.startswith("not importable"):
        pytest.skip(reason or f"{PEERS[name]} is not installed in this environment "
                    f"({found}); it is an optional peer")
    return found


@pytest.fixture(scope="session")
def require_peer():
    """require_peer("torch" | "sklearn", reason=None) -> version, or skip with a reason."""
    return _require_peer


def _run_peer(script, request, timeout=1800):
    """Run a peer script (a path) on a JSON request; its JSON answer.

    The script checks its result against request["check"] before it times anything and
    answers {"error": ...} with a non-zero exit status when the check fails: that fails
    the benchmark loudly, naming the difference.
    """
    proc = subprocess.run([sys.executable, str(script)], input=json.dumps(request),
                          capture_output=True, text=True, env=dict(os.environ, **PEER_ENV),
                          timeout=timeout)
    try:
        answer = json.loads(proc.stdout)
    except ValueError:
        raise RuntimeError(
            f"{os.path.basename(script)} exited with {proc.returncode}:\n{proc.stderr}"
        ) from None
    if proc.returncode or "error" in answer:
        raise AssertionError(f"{os.path.basename(script)}: the peer's check failed: "
                             f"{answer.get('error')}\n{proc.stderr}")
    return answer


@pytest.fixture(scope="session")
def run_peer():
    """run_peer(script, request) -> answer: a peer in its own process (see _run_peer)."""
    return _run_peer


@pytest.fixture(scope="session")
def data_files(tmp_path_factory):
    """data_files(key, X, y) -> (X.npy, y.npy) paths, saved once per key, for peers."""
    cache = {}

    def get(key, X, y):
        if key not in cache:
            folder = tmp_path_factory.mktemp("data-" + "-".join(str(part) for part in key))
            paths = folder / "X.npy", folder / "y.npy"
            np.save(paths[0], X)
            np.save(paths[1], y)
            cache[key] = tuple(str(path) for path in paths)
        return cache[key]

    return get


def pool_threads(threadpools, api):
    """Largest thread count among threadpoolctl's pools of one user_api (None if none)."""
    counts = {pool["num_threads"] for pool in threadpools if pool["user_api"] == api}
    return max(counts) if counts else None


@pytest.fixture(scope="session")
def peer_threads():
    """peer_threads(threadpools, api): see pool_threads."""
    return pool_threads


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Record every skipped benchmark (a peer that did not run) with its group and reason."""
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or report.when == "teardown":
        return
    entry = {"test": item.nodeid, "reason": "skipped"}
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        entry["reason"] = str(report.longrepr[2]).removeprefix("Skipped: ")
    bench = getattr(item, "funcargs", {}).get("benchmark")
    if bench is not None:
        entry["group"] = bench.group
        info = bench.extra_info
        for key in ("impl", "variant", "work", "dtype", "n", "d", "k", "threads"):
            if info.get(key) is not None:
                entry[key] = info[key]
    _not_run.append(entry)


def pytest_benchmark_update_json(config, benchmarks, output_json):
    """Add the peers that did not run (pytest-benchmark's JSON has no skipped tests)."""
    output_json["not_run"] = list(_not_run)


def _distribution_version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def pytest_benchmark_update_machine_info(config, machine_info):
    """Record what the numbers depend on beyond the CPU: NumPy, its BLAS, linreg's SIMD,
    and the versions of the peers."""
    blas = {}
    try:
        blas = dict(np.show_config(mode="dicts")["Build Dependencies"]["blas"])
    except Exception:  # NumPy < 1.25 has no mode="dicts"
        pass
    machine_info["numpy"] = {"version": np.__version__, "blas": blas}
    machine_info["threadpools"] = threadpool_info()
    machine_info["linreg"] = {"simd": kernels.simd, "thread_limit": THREADS}
    machine_info["cpu_count"] = os.cpu_count()
    machine_info["peers"] = {
        dist: (_peer_versions or {}).get(name) or _distribution_version(dist)
        for name, dist in PEERS.items()
    }
