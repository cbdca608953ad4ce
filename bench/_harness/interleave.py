"""Contenders of one group timed call by call in alternation, for the rows whose target is
a ratio between them (issue 14: fused epoch / `X @ w`, Fortran / C order, several
outputs / `X @ W`).

pytest-benchmark times a row's rounds back to back, then the next row's. This machine's
memory changes speed by itself over seconds (bench/RESULTS.md, "Threads never lose"), so
two rows timed a few seconds apart can differ by 10-20% with neither changed, and their
ratio with them. Here every round calls each contender once, the order alternating from
round to round, so that both sides of a ratio see the same memory. The first row of a
group runs the whole group once; every row then reports its own contender's calls as
extra_info["call_times_s"], which report.py (`row_timing`) reads as the row's rounds, as
for the thread policy's rows.
"""
import math
import time

__all__ = ["interleaved_times", "record_interleaved"]

_cache = {}


def interleaved_times(key, contenders, *, max_time=1.0, min_rounds=5, max_rounds=200):
    """{name: [seconds of each call]} for the callables in `contenders`, timed once per key.

    Parameters
    ----------
    key : hashable
        The group; its times are computed on the first call and kept for the session.
    contenders : dict of str to callable
        Each called with no argument. Called once each to warm up (untimed) and to size
        the rounds.
    max_time : float, default 1.0
        About the seconds each contender gets, as pytest-benchmark's --benchmark-max-time
        gives each row.
    min_rounds, max_rounds : int, default 5 and 200
        Bounds on the rounds; 1 round (no warm-up) when min_rounds is 1 (the suite's
        --benchmark-disable run, which checks that every row runs).

    Returns
    -------
    dict of str to list of float
        Every contender's calls in round order, ``rounds`` of them each.
    """
    if key in _cache:
        return _cache[key]
    names = list(contenders)
    rounds = 1
    if min_rounds > 1:
        slowest = 0.0
        for name in names:
            start = time.perf_counter()
            contenders[name]()
            slowest = max(slowest, time.perf_counter() - start)
        rounds = int(min(max_rounds, max(min_rounds, math.ceil(max_time / max(slowest, 1e-6)))))
    times = {name: [] for name in names}
    for r in range(rounds):
        for name in (names if r % 2 == 0 else names[::-1]):
            call = contenders[name]
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    _cache[key] = times
    return times


def record_interleaved(benchmark, request, key, contenders, impl):
    """Time the group `key` (once per session) and record `impl`'s calls on this row.

    The row's one pedantic round is the whole group's timing (or nothing, when an earlier
    row of the group ran it); its median, IQR and rounds come from extra_info
    "call_times_s".

    Parameters
    ----------
    benchmark : pytest-benchmark's fixture
    request : pytest's request (for the --benchmark-* options)
    key : hashable
        The group.
    contenders : dict of str to callable
        Every contender of the group, ``impl`` among them.
    impl : str
        This row's contender.

    Returns
    -------
    list of float
        This row's call times, in seconds.
    """
    config = request.config
    if config.getoption("benchmark_disable", False):
        limits = {"max_time": 0.0, "min_rounds": 1}
    else:
        limits = {"max_time": float(config.getoption("benchmark_max_time", 1.0) or 1.0),
                  "min_rounds": int(config.getoption("benchmark_min_rounds", 5) or 5)}
    found = {}

    def run():
        found.update(interleaved_times(key, contenders, **limits))

    benchmark.pedantic(run, rounds=1, iterations=1)
    calls = list(found[impl])
    benchmark.extra_info.update(
        call_times_s=calls, rounds=len(calls), interleaved_with=sorted(set(found) - {impl}))
    return calls
