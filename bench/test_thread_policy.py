"""Threads never lose (issue 14): the default thread count against one thread, per pass
size, in every situation of `_harness.thread_scenarios` (alone, a loop of back-to-back
calls, another process spinning on one core, right after a NumPy matmul on all cores,
two Python threads calling at once).

Each row is one contender of one scenario and size; its rounds interleave with the
other contender's (`run_scenario` times both, alternating), so the row's pedantic round
runs the whole scenario once and the times of its contender's calls are recorded in
extra_info: "call_times_s", which the report reads as the row's rounds, and median, p10,
p90 in ms, with the ratio default / 1 thread. "default" is every core (`CORES`), passed
explicitly: the benchmark session pins OpenMP's own default to 1.

The ``alone`` groups from 2^22 elements also time the machine's own limit there: the
same bytes read from memory with every core and with one (numpy-dot-read rows,
`_harness.bandwidth.read_after_idle`), each read after the same idle pause. Two threads
cannot gain more on a pass held by memory than the memory gives two readers.

Nothing about the speed is asserted (the machine is shared); the results are checked
bit for bit against one thread first.
"""
import numpy as np
import pytest

from _harness.bandwidth import read_after_idle
from _harness.thread_scenarios import (BATCH, CORES, D, SCENARIOS, busy_core, make_problem,
                                       run_scenario, summary)
from linreg import kernels

#: Rows per pass size: 2**16 elements (never threaded), 2**20 (the threshold), 2**22
#: (where 2 threads must be 1.6x faster alone) and 2**25.
SIZES = {"2^16": 2**16 // D, "2^20": 2**20 // D, "2^22": 2**22 // D, "2^25": 2**25 // D}
ROUNDS = 15
_results = {}


def _scenario_times(scenario, size, rounds):
    key = (scenario, size, rounds)
    if key not in _results:
        X, y = make_problem(SIZES[size])
        if scenario == "busy-core":
            with busy_core():
                _results[key] = run_scenario(scenario, X, y, rounds)
        else:
            _results[key] = run_scenario(scenario, X, y, rounds)
    return _results[key]


def test_results_are_bit_identical_for_any_thread_count():
    X, y = make_problem(SIZES["2^22"])
    w, b = np.linspace(-1, 1, D), np.array([0.3])
    out = []
    for n_threads in (1, CORES, 3):
        gw, gb = np.empty(D), np.empty(1)
        out.append((kernels.loss_and_grad(X, y, w, b, gw, gb, n_threads=n_threads), gw, gb))
    for loss, gw, gb in out[1:]:
        assert loss == out[0][0]
        np.testing.assert_array_equal(gw, out[0][1])
        np.testing.assert_array_equal(gb, out[0][2])


@pytest.mark.parametrize("threads", ["default", "1-thread"])
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_thread_policy(benchmark, request, scenario, size, threads):
    disabled = request.config.getoption("benchmark_disable", False)
    rounds = 2 if disabled else ROUNDS
    benchmark.group = f"threads-never-lose-{scenario}-{size}"
    times = {}

    def run():
        times.update(_scenario_times(scenario, size, rounds))

    benchmark.pedantic(run, rounds=1, iterations=1)
    median, p10, p90 = summary(times[None if threads == "default" else 1])
    ratio = summary(times[None])[0] / summary(times[1])[0]
    benchmark.extra_info.update(
        impl=f"linreg ({threads})", threads=CORES if threads == "default" else 1,
        work=f"threads-never-lose-{scenario}", n=SIZES[size], d=D, k=1,
        elements=SIZES[size] * D, scenario=scenario, rounds=rounds,
        median_ms=median, p10_ms=p10, p90_ms=p90, ratio_default_to_1_thread=ratio,
        call_times_s=list(times[None if threads == "default" else 1]),
        denominator=threads == "1-thread",  # the group's ratios: default / 1 thread
        calls_per_round=BATCH if scenario in ("loop", "python-threads") else 1,
        description=(
            f"kernels.loss_and_grad, float64, d = {D}, {SIZES[size] * D:,} elements: the "
            f"default thread count ({CORES}, all cores) against n_threads=1, "
            f"scenario '{scenario}' (bench/_harness/thread_scenarios.py), {rounds} "
            "interleaved rounds; a row's median, IQR and rounds are its calls' (one "
            "pedantic round times the whole scenario for both rows: extra_info "
            "call_times_s); the ratio column is default / 1 thread, gathered in the table "
            "'Threads never lose'."))
    assert np.isfinite(median)


#: Sizes whose "alone" group gets the memory's own limit (the target's 2^22 and over).
READ_SIZES = ("2^22", "2^25")


@pytest.mark.parametrize("threads", ["default", "1-thread"])
@pytest.mark.parametrize("size", READ_SIZES)
def test_memory_read_after_idle(benchmark, request, size, threads):
    disabled = request.config.getoption("benchmark_disable", False)
    rounds = 2 if disabled else ROUNDS
    n_bytes = SIZES[size] * D * 8  # X's bytes (float64)
    benchmark.group = f"threads-never-lose-alone-{size}"
    key = ("read", size, rounds)
    count = CORES if threads == "default" else 1

    def run():
        if key not in _results:
            _results[key] = read_after_idle(n_bytes, rounds, threads=(CORES, 1))

    benchmark.pedantic(run, rounds=1, iterations=1)
    times = _results[key]
    median, p10, p90 = summary(times[count])
    benchmark.extra_info.update(
        impl=f"numpy-dot-read ({threads})", threads=count,
        work="threads-never-lose-alone", n=SIZES[size], d=D, k=1, elements=SIZES[size] * D,
        scenario="alone", rounds=rounds, median_ms=median, p10_ms=p10, p90_ms=p90,
        ratio_default_to_1_thread=summary(times[CORES])[0] / summary(times[1])[0],
        call_times_s=list(times[count]),
        description=(
            f"The memory's limit for the rows beside it: X's {n_bytes:,} bytes read once "
            f"per round by {CORES} Python threads (np.dot on their shares, BLAS on 1 thread) "
            "and by 1, each read after the same 20 ms idle pause as the 'alone' scenario "
            "(bench/_harness/bandwidth.py, read_after_idle)."))
    assert np.isfinite(median)
