"""verbose: a progress bar on a terminal, plain lines otherwise, nothing at verbose=0
(issue 16). The terminal case runs the command with its stderr on a pseudo-terminal."""
import io
import os
import pty
import re
import subprocess

import numpy as np
import pytest

import linreg
from linreg import _progress
from _cli import LINREG

# Long enough to return to Python several times (chunks of ~0.1 s): 300 fused epochs over
# 100000 x 20 (a few tenths of a second on a 2-core machine).
LONG_FIT = ["--lr", "0.01", "--epochs", "300", "--method", "fused", "--tol", "None"]


@pytest.fixture(scope="module")
def big_npz(tmp_path_factory):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100_000, 20))
    y = X @ rng.normal(size=20) + rng.normal(size=100_000)
    path = tmp_path_factory.mktemp("progress") / "big.npz"
    np.savez(path, X=X, y=y)
    return path


def run_on_a_terminal(args):
    """Run `linreg ARGS` with stderr on a pseudo-terminal; returns (status, what it wrote)."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen([LINREG, *map(str, args)], stdout=subprocess.DEVNULL,
                               stderr=terminal, stdin=subprocess.DEVNULL)
    os.close(terminal)
    written = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        written += chunk
    os.close(controller)
    return process.wait(timeout=120), written.decode()


def test_a_terminal_gets_a_bar_redrawn_in_place(big_npz):
    status, written = run_on_a_terminal(["fit", big_npz, *LONG_FIT, "--verbose", "1"])
    assert status == 0
    # The pty turns \n into \r\n; every report starts with \r and clear-to-end-of-line.
    reports = [r for r in written.split("\r\x1b[K") if r]
    assert reports, repr(written)
    final = reports[-1]
    assert re.fullmatch(r"GDRegressor \[#{20}\] epoch 300/300, loss [\d.e+-]+, done in "
                        r"[\d.]+s\r\n", final), repr(final)
    for report in reports[:-1]:
        assert re.fullmatch(r"GDRegressor \[#*\.*\] epoch \d+/300, loss [\d.e+-]+, [\d.]+s "
                            r"elapsed, about [\d.]+s left", report), repr(report)
    assert "\n" not in "".join(reports[:-1])  # redrawn in place, not scrolled


def test_a_pipe_gets_plain_lines(big_npz):
    result = subprocess.run([LINREG, "fit", big_npz, *LONG_FIT, "--verbose", "1"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr and "\x1b" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines[-1].startswith("GDRegressor: epoch 300/300, loss ")
    assert lines[-1].split(", ")[-1].startswith("done in ")
    for line in lines[:-1]:
        assert re.fullmatch(r"GDRegressor: epoch \d+/300, loss [\d.e+-]+, [\d.]+s elapsed, "
                            r"about [\d.]+s left", line)


def test_verbose_0_says_nothing(big_npz):
    result = subprocess.run([LINREG, "fit", big_npz, "--lr", "0.01", "--epochs", "20"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stderr == ""


class FakeClock:
    """time.perf_counter that moves only when told."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class TextStream(io.StringIO):
    def __init__(self, terminal):
        super().__init__()
        self.terminal = terminal

    def isatty(self):
        return self.terminal


@pytest.mark.parametrize("terminal", [False, True])
def test_reports_are_spaced_in_time_not_per_update(monkeypatch, terminal):
    clock = FakeClock()
    monkeypatch.setattr(_progress.time, "perf_counter", clock)
    stream = TextStream(terminal)
    progress = _progress.Progress(1000, 1, stream=stream, name="GD")
    interval = _progress.BAR_SECONDS if terminal else _progress.LINE_SECONDS
    # 99 chunk returns 0.26 interval apart: a report at every 4th (1.04 intervals since
    # the last), 24 in all, then the final one.
    for epoch in range(10, 1000, 10):
        clock.now += 0.26 * interval
        progress.update(epoch, 1.0 / epoch)
    progress.close(1000, 1e-3)
    text = stream.getvalue()
    reports = text.count("\r\x1b[K") if terminal else len(text.splitlines())
    assert reports == 24 + 1, text
    # The first report, at epoch 40 after 1.04 intervals: 960 epochs more take 24 times
    # as long.
    elapsed = 1.04 * interval
    assert (f"epoch 40/1000, loss 0.025, {_progress._duration(elapsed)} elapsed, about "
            f"{_progress._duration(24 * elapsed)} left") in text


def test_verbose_has_no_python_per_epoch(monkeypatch):
    # Progress is told only when a compiled chunk returns: for a small problem, the whole
    # fit is one chunk, so no update at all, one final report.
    calls = []
    monkeypatch.setattr(_progress.Progress, "update",
                        lambda self, epoch, loss: calls.append(epoch))
    stream = TextStream(False)
    monkeypatch.setattr(_progress.sys, "stderr", stream)
    X = np.random.default_rng(0).normal(size=(50, 2))
    linreg.GDRegressor(lr=0.01, epochs=5000, method="fused", verbose=1).fit(X, X[:, 0])
    assert calls == []
    assert stream.getvalue().startswith("GDRegressor: epoch 5000/5000, loss ")
