"""The epoch loop of the estimators (linreg.training): the stopping rule, callbacks, log
lines, chunking and Ctrl-C. (What a fit that diverges leaves behind: test_divergence.py.)
"""
import re
import signal
import threading
import time

import numpy as np
import pytest

import linreg
from linreg import kernels, reference


def make_problem(n=200, d=5, k=None, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W = rng.standard_normal((d,) if k is None else (d, k))
    y = X @ W + 0.5 + 0.1 * rng.standard_normal((n,) if k is None else (n, k))
    return X.astype(dtype), y.astype(dtype)


# -- the stopping rule and callbacks ---------------------------------------------------


def test_stopping_rule_stops_where_the_reference_does():
    X, y = make_problem()
    model = linreg.GDRegressor(lr=0.1, epochs=5000, tol=1e-6, n_iter_no_change=3).fit(X, y)
    W, b, losses = np.zeros(X.shape[1]), np.zeros(1), np.empty(5000)
    n = reference.gd_epochs(X, y, W, b, 0.1, losses, early_stop=kernels.new_early_stop(1e-6, 3))
    assert 3 < model.n_iter_ == n < 5000
    np.testing.assert_allclose(model.coef_, W, rtol=1e-12)


def test_callback_sees_each_epoch_and_can_stop():
    X, y = make_problem()
    seen = []

    def callback(epoch, loss, model):
        seen.append((epoch, loss, model.coef_.copy()))
        return epoch == 7

    # One method for both fits: "auto" may take "fused" for 3 epochs and "gram" for 100
    # (with lr="auto", gram also brings tuned momentum).
    model = linreg.GDRegressor(epochs=100, method="gram", callback=callback).fit(X, y)
    assert [e for e, _, _ in seen] == list(range(1, 8))
    assert model.n_iter_ == 7 and len(model.loss_curve_) == 7
    np.testing.assert_array_equal([l for _, l, _ in seen], model.loss_curve_)
    np.testing.assert_array_equal(seen[2][2],
                                  linreg.GDRegressor(epochs=3, method="gram").fit(X, y).coef_)


# -- log lines and chunking ------------------------------------------------------------


def test_log_lines_with_several_weights_keep_the_seed_prefix(capsys):
    X, y = make_problem(d=4, k=2)
    linreg.GDRegressor(epochs=4, log_every=2).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    for epoch, line in zip((2, 4), lines):
        assert re.fullmatch(rf"Epoch \[{epoch}/4\], W: \[.*\], b: \[.*\], Loss: \d+\.\d{{4}}", line)


@pytest.mark.parametrize("Estimator", [linreg.GDRegressor, linreg.SGDRegressor])
@pytest.mark.parametrize("k", [None, 2])
def test_log_lines_do_not_depend_on_the_chunking(Estimator, k, capsys, monkeypatch):
    # Log lines are printed from weights the kernel records at each log epoch, when the
    # chunk holding it returns; one-epoch chunks must print exactly the same lines.
    X, y = make_problem(n=64, d=3, k=k)
    params = {"random_state": 0} if Estimator is linreg.SGDRegressor else {"method": "fused"}
    Estimator(lr=0.01, epochs=30, log_every=7, **params).fit(X, y)
    whole = capsys.readouterr().out
    monkeypatch.setattr("linreg.training.CHUNK_SECONDS", 0.0)
    Estimator(lr=0.01, epochs=30, log_every=7, **params).fit(X, y)
    assert capsys.readouterr().out == whole
    assert [line.split("]")[0] for line in whole.splitlines()] == [
        f"Epoch [{e}/30" for e in (7, 14, 21, 28)
    ]


def test_same_seed_is_bit_identical_whatever_the_chunking(capsys):
    X, y = make_problem()
    plain = linreg.SGDRegressor(epochs=6, random_state=3).fit(X, y)
    logged = linreg.SGDRegressor(epochs=6, random_state=3, log_every=1).fit(X, y)
    capsys.readouterr()
    np.testing.assert_array_equal(plain.coef_, logged.coef_)
    np.testing.assert_array_equal(plain.loss_curve_, logged.loss_curve_)
    other = linreg.SGDRegressor(epochs=6, random_state=4).fit(X, y)
    assert not np.array_equal(plain.coef_, other.coef_)
    generator = linreg.SGDRegressor(epochs=2, random_state=np.random.default_rng(0)).fit(X, y)
    assert np.isfinite(generator.coef_).all()


# -- Ctrl-C ---------------------------------------------------------------------------


def test_ctrl_c_interrupts_a_long_fit():
    X, y = make_problem(n=20_000, d=32)
    model = linreg.GDRegressor(lr=1e-3, epochs=10**7)  # hours if nothing interrupted it
    main = threading.main_thread().ident
    timer = threading.Timer(0.3, signal.pthread_kill, (main, signal.SIGINT))
    # Python's own handler, whatever the runner left: a process started in the
    # background by a shell without job control inherits SIGINT ignored, and Python
    # then keeps it ignored (no KeyboardInterrupt at all).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    start = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            model.fit(X, y)
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    # Not a timing claim: only that the fit did not run its 10**7 epochs.
    assert time.perf_counter() - start < 60
