"""n_threads has an upper bound (issue 10, "Memory safety through the checked API").

n_threads=200000 used to segfault inside OpenMP and 1000 could make libgomp print
"Thread creation failed" and exit the process. A count above 4 x the CPUs available to
this process is now capped to that with a warning, and one that does not fit C's int
(>= 2**31) is a ValueError. The calls below ran in-process on the old code only at the
cost of the whole test run (n_threads=200000 killed it with SIGSEGV).
"""
import os
import warnings

import numpy as np
import pytest

import linreg
import linreg.kernels as kernels
from linreg._validation import ThreadCountWarning, check_n_threads
from _helpers import make_problem

# Big enough that the kernels really use threads: n * d >= 2**21 and several row chunks.
N_BIG, D_BIG = 65536, 32


def cpus_available():
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def capped_message(n_threads, cpus):
    return (rf"^n_threads={n_threads} is more than 4 x the {cpus} CPUs available; "
            rf"using {4 * cpus}$")


@pytest.fixture(scope="module")
def big_problem():
    return make_problem(N_BIG, D_BIG, None, np.float64, seed=41)


# ---------------------------------------------------------------- check_n_threads


def test_none_and_counts_up_to_four_per_cpu_pass_unchanged():
    limit = 4 * cpus_available()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_n_threads(None) is None
        assert check_n_threads(1) == 1
        assert check_n_threads(np.int32(limit)) == limit
        assert type(check_n_threads(np.int64(1))) is int


@pytest.mark.parametrize("extra", [1, 1000, 200000, 2**31 - 1])
def test_more_than_four_per_cpu_is_capped_with_a_warning(extra):
    cpus = cpus_available()
    n_threads = extra if extra > 4 * cpus else 4 * cpus + extra
    with pytest.warns(ThreadCountWarning, match=capped_message(n_threads, cpus)):
        assert check_n_threads(n_threads) == 4 * cpus
    assert issubclass(ThreadCountWarning, UserWarning)


@pytest.mark.parametrize("n_threads", [2**31, 2**63, 10**400])
def test_counts_beyond_c_int_are_refused(n_threads):
    with pytest.raises(ValueError, match=r"^n_threads must be between 1 and 2147483647"):
        check_n_threads(n_threads)


@pytest.mark.parametrize(("n_threads", "exc"), [(0, ValueError), (-3, ValueError),
                                                (2.0, TypeError), ("4", TypeError),
                                                (True, TypeError)])
def test_bad_counts_are_refused_by_name(n_threads, exc):
    with pytest.raises(exc, match=r"^n_threads must be"):
        check_n_threads(n_threads)


def test_the_cap_follows_the_cpus_this_process_may_use(monkeypatch):
    # Affinity, not the machine's total: a process pinned to 3 of 64 CPUs gets 12.
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 5, 9}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    with pytest.warns(ThreadCountWarning, match=capped_message(13, 3)):
        assert check_n_threads(13) == 12


def test_without_affinity_the_cap_follows_cpu_count(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 5)
    with pytest.warns(ThreadCountWarning, match=capped_message(21, 5)):
        assert check_n_threads(21) == 20
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # "undeterminable": one CPU
    with pytest.warns(ThreadCountWarning, match=capped_message(5, 1)):
        assert check_n_threads(5) == 4


def test_the_warning_points_at_the_callers_line():
    with pytest.warns(ThreadCountWarning) as record:
        kernels.resolve_n_threads(10**6)
    assert record[0].filename == __file__
    with pytest.warns(ThreadCountWarning) as record:
        X, y = make_problem(20, 2, None, np.float64, seed=1)[:2]
        linreg.GDRegressor(epochs=1, n_threads=10**6).fit(X, y)
    assert record[0].filename == __file__


# ------------------------------------------------------- through the kernels, in-process


@pytest.mark.parametrize("n_threads", [1000, 200000])
def test_kernels_with_absurd_thread_counts_run_capped(impl, big_problem, n_threads):
    X, Y, W, b = big_problem
    cpus = cpus_available()
    gW1, gb1 = np.empty_like(W), np.empty_like(b)
    expected = kernels.loss_and_grad(X, Y, W, b, gW1, gb1, n_threads=1)
    gW, gb = np.empty_like(W), np.empty_like(b)
    with pytest.warns(ThreadCountWarning, match=capped_message(n_threads, cpus)):
        loss = kernels.loss_and_grad(X, Y, W, b, gW, gb, n_threads=n_threads)
    assert loss == expected  # same chunks whatever the thread count
    np.testing.assert_array_equal(gW, gW1)
    with pytest.warns(ThreadCountWarning):
        pred = kernels.predict(X, W, b, n_threads=n_threads)
    np.testing.assert_array_equal(pred, kernels.predict(X, W, b, n_threads=1))
    with pytest.warns(ThreadCountWarning):
        stats = kernels.gram_statistics(X, Y, n_threads=n_threads)
    np.testing.assert_array_equal(stats.XtX, kernels.gram_statistics(X, Y, n_threads=1).XtX)
    W1, b1, W2, b2 = W.copy(), b.copy(), W.copy(), b.copy()
    kernels.gd_epochs(X, Y, W1, b1, 0.01, np.empty(2), n_threads=1)
    with pytest.warns(ThreadCountWarning):
        kernels.gd_epochs(X, Y, W2, b2, 0.01, np.empty(2), n_threads=n_threads)
    np.testing.assert_array_equal(W2, W1)


@pytest.mark.parametrize("n_threads", [1000, 200000])
@pytest.mark.parametrize("method", ["fused", "gram"])
def test_gd_regressor_with_absurd_thread_counts_runs_capped(big_problem, n_threads, method):
    X, y = big_problem[:2]
    reference = linreg.GDRegressor(epochs=2, method=method, n_threads=1).fit(X, y)
    model = linreg.GDRegressor(epochs=2, method=method, n_threads=n_threads)
    with pytest.warns(ThreadCountWarning, match=capped_message(n_threads, cpus_available())):
        model.fit(X, y)
    np.testing.assert_array_equal(model.coef_, reference.coef_)
    with pytest.warns(ThreadCountWarning):
        np.testing.assert_array_equal(model.predict(X), reference.predict(X))
    assert model.n_threads == n_threads  # the setting is stored as given


@pytest.mark.parametrize("n_threads", [1000, 200000])
def test_sgd_regressor_with_absurd_thread_counts_predicts_capped(big_problem, n_threads):
    X, y = big_problem[0][:2000], big_problem[1][:2000]
    model = linreg.SGDRegressor(epochs=1, random_state=0, n_threads=n_threads)
    with pytest.warns(ThreadCountWarning):
        model.fit(X, y)
    with pytest.warns(ThreadCountWarning):
        pred = model.predict(big_problem[0])
    model.set_params(n_threads=1)
    np.testing.assert_array_equal(pred, model.predict(big_problem[0]))
