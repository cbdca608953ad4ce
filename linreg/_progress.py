"""What `verbose` shows during a fit: a progress bar on a terminal, log lines elsewhere.

`linreg.training.run_epochs` calls `Progress.update` where the compiled epochs return to
Python anyway (about every `linreg.training.CHUNK_SECONDS`), never once per epoch, so a
verbose fit runs the same compiled calls as a silent one: the only cost is formatting a
line a few times a second. Imports nothing from linreg.
"""
import sys
import time

__all__ = ["Progress", "BAR_SECONDS", "LINE_SECONDS"]

#: Shortest time between two redraws of the bar (a terminal).
BAR_SECONDS = 0.1
#: Shortest time between two log lines (not a terminal), at verbose=1; verbose=2 and more
#: divide it, down to one line per return to Python.
LINE_SECONDS = 1.0
BAR_WIDTH = 20


class Progress:
    """Report a fit's progress on `stream` (sys.stderr by default).

    Parameters
    ----------
    n_epochs : int
        The most epochs the fit runs (a fit whose stopping rule fires ends earlier, so
        the time left shown is an upper bound).
    verbose : int
        1: the bar on a terminal, a line at most every LINE_SECONDS otherwise; higher
        values write lines more often (every LINE_SECONDS / verbose).
    stream : file object, optional
        Where to write; a stream whose ``isatty()`` is True gets the bar, redrawn in
        place with a carriage return, any other gets plain lines.
    name : str
        Printed at the start of each line, e.g. "GDRegressor".

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> progress = Progress(1000, 1, stream=out, name="GDRegressor")
    >>> progress.update(1000, 0.5)
    >>> progress.close(1000, 0.5)
    >>> out.getvalue().startswith("GDRegressor: epoch 1000/1000, loss 0.5")
    True
    """

    def __init__(self, n_epochs, verbose, stream=None, name="fit"):
        self.n_epochs = n_epochs
        self.stream = sys.stderr if stream is None else stream
        self.name = name
        isatty = getattr(self.stream, "isatty", None)
        self.terminal = bool(isatty()) if callable(isatty) else False
        self.interval = BAR_SECONDS if self.terminal else LINE_SECONDS / max(int(verbose), 1)
        self.start = time.perf_counter()
        self.last_shown = self.start
        self.shown_epoch = 0

    def update(self, epoch, loss):
        """Epochs `epoch` (1-based, the last completed) done, its loss `loss`: show it if
        the last report is at least `interval` seconds old."""
        now = time.perf_counter()
        if now - self.last_shown < self.interval or epoch >= self.n_epochs:
            return  # the last epoch is reported by close()
        self.last_shown = now
        self._show(epoch, loss, now)

    def close(self, epoch, loss):
        """The fit ended after `epoch` epochs (its last loss `loss`): the final report,
        always written, ending the bar's line."""
        if epoch > 0:
            self._show(epoch, loss, time.perf_counter(), final=True)

    def _show(self, epoch, loss, now, final=False):
        elapsed = now - self.start
        if final:
            timing = f"done in {_duration(elapsed)}"
        else:
            left = elapsed / epoch * (self.n_epochs - epoch)
            timing = f"{_duration(elapsed)} elapsed, about {_duration(left)} left"
        text = f"epoch {epoch}/{self.n_epochs}, loss {loss:.6g}, {timing}"
        if self.terminal:
            filled = BAR_WIDTH * epoch // self.n_epochs
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            end = "\n" if final else ""
            # \r and clear-to-end-of-line: redraw in place, whatever the last line's length.
            self.stream.write(f"\r\x1b[K{self.name} [{bar}] {text}{end}")
        else:
            self.stream.write(f"{self.name}: {text}\n")
        self.stream.flush()
        self.shown_epoch = epoch


def _duration(seconds):
    """'0.25s', '42.1s', '3m05s', '2h07m'."""
    if seconds < 60:
        return f"{seconds:.2f}s" if seconds < 10 else f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
