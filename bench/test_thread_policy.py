"""Threads never lose (issue 14): the default thread count against one thread, per pass
size, in every situation of `_harness.thread_scenarios` (alone, a loop of back-to-back
calls, another process spinning on one core, right after a NumPy matmul on all cores,
two Python threads calling at once).

Each row is one contender of one scenario and size; its rounds interleave with the
other contender's (`run_scenario` times both, alternating), so the row's pedantic round
runs the whole scenario once and the times of its contender are recorded in extra_info
(median, p10, p90 in ms), with the ratio default / 1 thread. "default" is every core
(`CORES`), passed explicitly: the benchmark session pins OpenMP's own default to 1.

Nothing about the speed is asserted (the machine is shared); the results are checked
bit for bit against one thread first.
"""
import numpy as np
import pytest

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
        calls_per_round=BATCH if scenario in ("loop", "python-threads") else 1,
        description=(
            f"kernels.loss_and_grad, float64, d = {D}, {SIZES[size] * D:,} elements: the "
            f"default thread count ({CORES}, all cores) against n_threads=1, "
            f"scenario '{scenario}' (bench/_harness/thread_scenarios.py), {rounds} "
            "interleaved rounds; the row's own stats time the whole scenario, its "
            "median/p10/p90 per call are in extra_info."))
    assert np.isfinite(median)
