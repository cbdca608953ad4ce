"""The optional peers (scikit-learn, PyTorch), each run in a subprocess of its own.

Why subprocesses: both load an OpenMP runtime whose worker threads keep spinning for a
while after a parallel region, stealing a core from whatever the benchmark process times
next. They are never imported into the benchmark process: a peer script beside this
module (`peer_sklearn_sgd.py`, `peer_torch.py`) reads one JSON request on stdin, checks
its first fit against the request's "check" (linreg's answer), times its own rounds and
answers in JSON on stdout. Every thread pool is pinned to THREADS, in the environment
before anything loads and again inside the script.

A benchmark row of a peer is one pedantic round of pytest-benchmark that runs the whole
subprocess (`time_in_subprocess`); the fits timed inside it go to
extra_info["external_times_s"], which report.py (and compare.py) use for that row.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .threads import PINNED_THREAD_ENV, pool_threads

__all__ = ["PEERS", "SKLEARN_SGD_SCRIPT", "SKLEARN_LSTSQ_SCRIPT", "SKLEARN_SGD_CAPPED_SCRIPT",
           "TORCH_SCRIPT", "probe_peers", "probed_versions", "require_peer", "run_peer",
           "time_in_subprocess", "torch_row", "sklearn_sgd_row", "sklearn_lstsq_row",
           "sklearn_sgd_capped_row"]

#: Import name -> distribution name of the optional peers.
PEERS = {"sklearn": "scikit-learn", "torch": "torch"}

#: scikit-learn's SGDRegressor, per-sample SGD (see the script's docstring).
SKLEARN_SGD_SCRIPT = Path(__file__).with_name("peer_sklearn_sgd.py")
#: scikit-learn's LinearRegression, checked against the least-squares loss.
SKLEARN_LSTSQ_SCRIPT = Path(__file__).with_name("peer_sklearn_lstsq.py")
#: scikit-learn's SGDRegressor epoch by epoch under a time cap (optionally an eta0 grid).
SKLEARN_SGD_CAPPED_SCRIPT = Path(__file__).with_name("peer_sklearn_sgd_capped.py")
#: The seed tutorial's PyTorch loops: full-batch GD, per-sample SGD, the seed's run.
TORCH_SCRIPT = Path(__file__).with_name("peer_torch.py")

_probed_versions = None  # {import name: version or "not importable: ..."}, once probed


def _peer_env():
    return dict(os.environ, **PINNED_THREAD_ENV)


def probe_peers():
    """{import name: version or "not importable: <error>"}, tried in ONE subprocess.

    Importing the peers here would load their OpenMP runtimes into the benchmark process;
    a subprocess also tells "importable" from merely "installed" (a broken install skips
    with the import error as its reason instead of failing every peer benchmark). The
    answer is cached for the session.
    """
    global _probed_versions
    if _probed_versions is None:
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
                              env=_peer_env(), timeout=300)
        if proc.returncode:
            raise RuntimeError(f"probing the peers failed:\n{proc.stderr}")
        _probed_versions = json.loads(proc.stdout)
    return _probed_versions


def probed_versions():
    """{distribution name: what the probe found, or None if no benchmark probed}.

    Does not start a probe: the machine description records what the run saw.
    """
    return {dist: (_probed_versions or {}).get(name) for name, dist in PEERS.items()}


def require_peer(name, reason=None):
    """Skip the calling benchmark, with a stated reason, when peer `name` cannot import.

    Parameters
    ----------
    name : {"sklearn", "torch"}
        The peer's import name.
    reason : str, optional
        The skip's reason; by default, that the peer is not installed.

    Returns
    -------
    str
        The peer's version. Call it after `record.describe` so that the skip is listed
        under the benchmark's group.
    """
    found = probe_peers()[name]
    if found.startswith("not importable"):
        pytest.skip(reason or f"{PEERS[name]} is not installed in this environment "
                    f"({found}); it is an optional peer")
    return found


def run_peer(script, request, timeout=1800):
    """Run a peer script (a path) on a JSON request; its JSON answer (a dict).

    The script checks its result against request["check"] before it times anything and
    answers {"error": ...} with a non-zero exit status when the check fails: that fails
    the benchmark loudly (AssertionError), naming the difference. A script that crashes
    without an answer raises RuntimeError with its stderr.
    """
    proc = subprocess.run([sys.executable, str(script)], input=json.dumps(request),
                          capture_output=True, text=True, env=_peer_env(), timeout=timeout)
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


def time_in_subprocess(benchmark, script, request, rounds):
    """Run a peer's subprocess as this row's one pedantic round; return its answer.

    The subprocess checks its first fit against request["check"] before it times
    anything (and fails the benchmark when the check fails), then times `rounds` fits
    itself (1 under --benchmark-disable). pytest-benchmark's own stats for the row are
    the wall time of the whole subprocess (interpreter start, imports, data load, check
    fit, the timed fits); report.py shows the fits timed inside it (external_times_s).
    """
    request = dict(request, rounds=1 if benchmark.disabled else rounds)
    answer = {}

    def run_in_subprocess():
        answer.update(run_peer(script, request))

    benchmark.pedantic(run_in_subprocess, rounds=1, warmup_rounds=0, iterations=1)
    benchmark.extra_info.update(external_times_s=answer["times_s"], rounds=request["rounds"])
    return answer


def torch_row(benchmark, data_paths, request, rounds, loop):
    """A PyTorch row: peer_torch.py runs `request` on the data saved at `data_paths`.

    Parameters
    ----------
    benchmark : pytest-benchmark's fixture
    data_paths : (str, str)
        X.npy and y.npy (conftest.py's `data_files`).
    request : dict
        peer_torch.py's request without X, y and rounds.
    rounds : int
        Fits to time in the subprocess.
    loop : str
        The loop PyTorch runs, in words, for the report's "Peer processes".

    Returns
    -------
    dict
        The script's answer.
    """
    assert "torch" not in sys.modules, "PyTorch must not load into this process"
    answer = time_in_subprocess(benchmark, TORCH_SCRIPT,
                                dict(request, X=data_paths[0], y=data_paths[1]), rounds)
    benchmark.extra_info.update(
        external_process=(
            f"{TORCH_SCRIPT.name}: PyTorch {answer['torch_version']} "
            f"({answer['torch_blas']}): {loop}; X and y as torch.from_numpy tensors (no "
            "copy); timed with time.perf_counter in a subprocess with "
            "torch.set_num_threads(1), OMP_NUM_THREADS=1, MKL_NUM_THREADS=1, "
            "OPENBLAS_NUM_THREADS=1"
        ),
        threads=answer["torch_threads"],
        interop_threads=answer["torch_interop_threads"],
        openmp_threads=pool_threads(answer["threadpools"], "openmp"),
        torch_version=answer["torch_version"],
        mse=answer["mse"],
    )
    return answer


def sklearn_sgd_row(benchmark, request, rounds, dtype_name):
    """A scikit-learn row: peer_sklearn_sgd.py runs `request` (X and y paths included).

    Parameters
    ----------
    benchmark : pytest-benchmark's fixture
    request : dict
        peer_sklearn_sgd.py's request without rounds.
    rounds : int
        Fits to time in the subprocess.
    dtype_name : str
        The data's dtype, to note when scikit-learn trained in another one.

    Returns
    -------
    dict
        The script's answer.
    """
    assert "sklearn" not in sys.modules, "scikit-learn must not load into this process"
    answer = time_in_subprocess(benchmark, SKLEARN_SGD_SCRIPT, request, rounds)
    benchmark.extra_info.update(
        external_process=(
            f"{SKLEARN_SGD_SCRIPT.name}: scikit-learn {answer['sklearn_version']} "
            "SGDRegressor(penalty=None, learning_rate='constant', eta0=2*lr, tol=None,"
            " average=False) fit (coef_ in the dtype of X: it trains float32 data in"
            " float32), timed with time.perf_counter in a subprocess with "
            "OMP_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1 and threadpoolctl limits=1"
        ),
        threads=pool_threads(answer["threadpools"], "blas"),
        openmp_threads=pool_threads(answer["threadpools"], "openmp"),
        mse=answer["mse"],
        r2=answer["r2"],
        sklearn_version=answer["sklearn_version"],
        sklearn_dtype=answer.get("coef_dtype"),
    )
    if request.get("options"):
        benchmark.extra_info["external_process"] += (
            f"; with these parameters instead: {request['options']}")
    if answer.get("coef_dtype") not in (None, dtype_name):  # an old scikit-learn
        benchmark.extra_info["external_process"] += (
            f" [this scikit-learn trained {dtype_name} data in {answer['coef_dtype']}]")
    return answer


def _sklearn_info(answer):
    return dict(threads=pool_threads(answer["threadpools"], "blas"),
                openmp_threads=pool_threads(answer["threadpools"], "openmp"),
                sklearn_version=answer["sklearn_version"])


def sklearn_lstsq_row(benchmark, request, rounds):
    """A LinearRegression row: peer_sklearn_lstsq.py fits `request` (see its docstring).

    Parameters
    ----------
    benchmark : pytest-benchmark's fixture
    request : dict
        peer_sklearn_lstsq.py's request without rounds.
    rounds : int
        Fits to time in the subprocess.

    Returns
    -------
    dict
        The script's answer; its relative gap is also in extra_info.
    """
    assert "sklearn" not in sys.modules, "scikit-learn must not load into this process"
    answer = time_in_subprocess(benchmark, SKLEARN_LSTSQ_SCRIPT, request, rounds)
    benchmark.extra_info.update(
        external_process=(
            f"{SKLEARN_LSTSQ_SCRIPT.name}: scikit-learn {answer['sklearn_version']} "
            "LinearRegression(**params).fit (it centres a copy of X, then "
            "scipy.linalg.lstsq with cond=tol), timed with time.perf_counter in a "
            "subprocess with OMP_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1 and threadpoolctl "
            "limits=1"
        ),
        rank=answer["rank"],
        ignored_params=answer["ignored_params"],
        **_sklearn_info(answer),
    )
    return answer


def sklearn_sgd_capped_row(benchmark, request):
    """A capped SGDRegressor row: peer_sklearn_sgd_capped.py runs `request` once.

    The row's time is the time spent in partial_fit over the whole run (to the target,
    or to the cap); pytest-benchmark's stats time the whole subprocess, grid included.

    Parameters
    ----------
    benchmark : pytest-benchmark's fixture
    request : dict
        peer_sklearn_sgd_capped.py's request.

    Returns
    -------
    dict
        The script's answer.
    """
    assert "sklearn" not in sys.modules, "scikit-learn must not load into this process"
    answer = {}

    def run_in_subprocess():
        answer.update(run_peer(SKLEARN_SGD_CAPPED_SCRIPT, request))

    benchmark.pedantic(run_in_subprocess, rounds=1, warmup_rounds=0, iterations=1)
    benchmark.extra_info.update(
        external_times_s=answer["times_s"], rounds=1,
        external_process=(
            f"{SKLEARN_SGD_CAPPED_SCRIPT.name}: scikit-learn {answer['sklearn_version']} "
            "SGDRegressor(**params) run epoch by epoch with partial_fit (the updates of "
            "fit, its learning-rate schedule carried on), the clock running only inside "
            "partial_fit, stopped at the target gap, the time cap or the epoch budget; "
            "OMP_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1 and threadpoolctl limits=1"
        ),
        **_sklearn_info(answer),
    )
    return answer
