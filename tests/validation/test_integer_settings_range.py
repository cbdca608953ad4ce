"""Integer settings too large for the C types behind them (issue 10, "Memory safety").

`log_every >= 2**63`, `n_threads >= 2**31`, `n_iter_no_change = 10**400`, a huge
`n_samples` in a GramStatistics... used to raise OverflowError or an opaque "Buffer dtype
mismatch". Each is now a ValueError (or TypeError) that names the argument, and its
message stays short even for a 400-digit number.
"""
import numpy as np
import pytest

import linreg
import linreg.kernels as kernels
from linreg._validation import check_int
from _helpers import make_problem

N, D = 10, 3
ESTIMATORS = [linreg.GDRegressor, linreg.SGDRegressor]
EST_IDS = ["GD", "SGD"]
HUGE = [2**31, 2**63, 2**64, 10**400]  # for n_threads (a C int)
BEYOND_INT64 = [2**63, 2**64, 10**400]  # for the settings held in int64 or double
LABELS = {2**31: "2**31", 2**63: "2**63", 2**64: "2**64", 10**400: "10**400", 0: "0", -1: "-1"}


def data():
    X, y, _, _ = make_problem(N, D, None, np.float64, seed=31)
    return X, y


def assert_named_error(call, name):
    """call() raises ValueError or TypeError (not OverflowError) naming `name`, briefly."""
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    message = str(info.value)
    assert not isinstance(info.value, OverflowError)
    assert message.startswith(f"{name} "), message
    assert len(message) < 200, message


def settings_cases():
    # epochs and batch_size were already bounded; only their message for a 400-digit
    # number was not short.
    for Estimator, est_id in zip(ESTIMATORS, EST_IDS):
        for value in HUGE:
            yield pytest.param(Estimator, "n_threads", value, {},
                               id=f"{est_id}-n_threads={LABELS[value]}")
        for value in BEYOND_INT64:
            yield pytest.param(Estimator, "log_every", value, {},
                               id=f"{est_id}-log_every={LABELS[value]}")
            yield pytest.param(Estimator, "n_iter_no_change", value, {"tol": 1e-3},
                               id=f"{est_id}-n_iter_no_change={LABELS[value]}")
        yield pytest.param(Estimator, "epochs", 10**400, {}, id=f"{est_id}-epochs=10**400")
    yield pytest.param(linreg.SGDRegressor, "batch_size", 10**400, {},
                       id="SGD-batch_size=10**400")
    yield pytest.param(linreg.GDRegressor, "log_every", -(10**400), {}, id="log_every=-10**400")


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize(("Estimator", "name", "value", "extra"), list(settings_cases()))
def test_estimator_settings_beyond_c_types_are_refused_by_name(Estimator, name, value, extra,
                                                               method):
    # partial_fit checks every setting too, even those it does not use (as for epochs=0).
    X, y = data()
    model = Estimator(epochs=2, **{name: value, **extra}) if name != "epochs" else \
        Estimator(epochs=value)
    assert_named_error(lambda: getattr(model, method)(X, y), name)
    assert not hasattr(model, "coef_")


def test_the_largest_int64_n_iter_no_change_and_log_every_are_accepted():
    # A guard against refusing too much: these fit the C types (a double and a
    # Py_ssize_t), so they keep working.
    X, y = data()
    model = linreg.GDRegressor(epochs=4, tol=1e-3, n_iter_no_change=2**63 - 1,
                               log_every=2**63 - 1).fit(X, y)
    assert model.n_iter_ == 4


@pytest.mark.parametrize("value", HUGE, ids=LABELS.get)
@pytest.mark.parametrize("func", ["loss_and_grad", "predict", "gd_epochs", "gram_statistics"])
def test_kernel_n_threads_beyond_c_int_is_refused_by_name(impl, func, value):
    X, Y, W, b = make_problem(N, D, None, np.float64, seed=2)
    W_before = W.copy()
    calls = {
        "loss_and_grad": lambda: kernels.loss_and_grad(X, Y, W, b, np.empty_like(W),
                                                       np.empty_like(b), n_threads=value),
        "predict": lambda: kernels.predict(X, W, b, n_threads=value),
        "gd_epochs": lambda: kernels.gd_epochs(X, Y, W, b, 0.01, np.empty(2), n_threads=value),
        "gram_statistics": lambda: kernels.gram_statistics(X, Y, n_threads=value),
    }
    assert_named_error(calls[func], "n_threads")
    np.testing.assert_array_equal(W, W_before)


def test_kernel_batch_size_of_400_digits_gets_a_short_message(impl):
    X, Y, W, b = make_problem(N, D, None, np.float64, seed=2)
    assert_named_error(lambda: kernels.sgd_epoch(X, Y, W, b, 0.01, batch_size=10**400),
                       "batch_size")
    assert_named_error(lambda: kernels.sgd_epochs(X, Y, W, b, 0.01, np.empty(2),
                                                  batch_size=10**400), "batch_size")


@pytest.mark.parametrize("value", [2**63, 2**64, 10**400], ids=LABELS.get)
def test_new_early_stop_refuses_n_iter_no_change_beyond_int64(value):
    assert_named_error(lambda: kernels.new_early_stop(0.1, value), "n_iter_no_change")


@pytest.mark.parametrize("value", [2**63, 2**64, 10**400, 0, -1], ids=LABELS.get)
def test_gd_epochs_gram_refuses_an_impossible_n_samples(impl, value):
    X, Y, W, b = make_problem(N, D, None, np.float64, seed=2)
    stats = kernels.gram_statistics(X, Y)._replace(n_samples=value)
    W_before = W.copy()
    assert_named_error(lambda: kernels.gd_epochs_gram(stats, W, b, 0.01, np.empty(2)),
                       "stats.n_samples")
    np.testing.assert_array_equal(W, W_before)


# ------------------------------------------------------------------ check_int itself


@pytest.mark.parametrize("value", [2**63, 2**64, 10**400, np.uint64(2**64 - 1)], ids=LABELS.get)
def test_check_int_never_returns_a_value_beyond_int64(value):
    with pytest.raises(ValueError, match=r"^setting must be between 0 and 2\*\*63 - 1, got "):
        check_int(value, "setting", 0)
    with pytest.raises(ValueError, match=r"^setting must be between 0 and"):
        check_int(value, "setting", 0, 2**80)  # a caller's bound beyond int64 is capped too


def test_check_int_limits_are_inclusive_and_types_kept():
    assert check_int(2**63 - 1, "setting", 0) == 2**63 - 1
    assert type(check_int(np.int64(5), "setting", 0)) is int
    assert check_int(-(2**63), "setting", -(2**70)) == -(2**63)
    with pytest.raises(ValueError, match=r"^setting must be"):
        check_int(-(2**63) - 1, "setting", -(2**70))


def test_check_int_shortens_a_huge_number_in_its_message():
    with pytest.raises(ValueError, match=r"^epochs must be between 1 and 1000, got 100000\.\.\. "
                       r"\(401 digits\)$"):
        check_int(10**400, "epochs", 1, 1000)
    with pytest.raises(ValueError, match=r"got -10000\.\.\. \(401 digits\)$"):
        check_int(-(10**400), "epochs", 1, 1000)
