"""Time the seed tutorial's PyTorch loop in a process of its own (a script: peers.py runs it).

Why a separate process: PyTorch loads an OpenMP runtime (and MKL), whose worker threads
keep spinning for a while after a parallel region and would steal a core from whatever
the benchmark process times next. Importing torch only here keeps it out of the pytest
process; OMP_NUM_THREADS=1, MKL_NUM_THREADS=1, torch.set_num_threads(1) and threadpoolctl
pin it to one thread like linreg on the other side.

The loops are the seed tutorial's, as a PyTorch user writes them, on tensors made with
torch.from_numpy (X is not copied):

    W = torch.zeros(d, requires_grad=True); b = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([W, b], lr=lr)
    for epoch in range(epochs):                     # "gd": full batch
        pred = X @ W + b
        loss = ((pred - y) ** 2).mean()
        opt.zero_grad(); loss.backward(); opt.step()
        losses.append(loss.item())                  # linreg's loss_curve_

"sgd" is the same step on one sample at a time (`for i in order:` with X[i], y[i]), the
epoch's loss being the mean of the per-sample losses (linreg's per-sample SGD epoch);
the order is natural, or a new torch.randperm per epoch from torch.Generator(seed).
"seed" is "gd" on the seed's data printing the seed's ten log lines (into a StringIO:
linreg's side pays for the same capture).

Protocol: one JSON request on stdin, one JSON answer on stdout.

request = {
    "work": "gd" | "sgd" | "seed", "X": "X.npy", "y": "y.npy" (float32 or float64: the
    loop runs in that dtype), "lr": float, "epochs": int,
    "shuffle": bool ("sgd" only), "seed": int (torch.Generator seed when shuffling),
    "log_every": int ("seed" only), "rounds": how many fits to time,
    "check": {"coef": [...], "intercept": float, "losses": [...] (optional),
              "rtol": float, "atol": float (optional, absolute, default 0)}
             or {"max_mse": float}          (shuffled orders differ: loss only)
             or {"lines": [...]}            (the seed's log lines, exactly),
}
answer = {
    "times_s": [seconds of each timed fit], "coef": [...], "intercept": float,
    "losses": [...], "mse": training MSE, "check_fit_s": float, "lines": [...] ("seed"),
    "torch_version": str, "torch_threads": torch.get_num_threads(),
    "torch_interop_threads": int, "torch_blas": str, "threadpools": threadpool_info(),
}

The first fit is the check (and the warm-up): if it fails `check`, the answer is
{"error": ...} with exit status 1 and nothing is timed. Each timed fit (parameters and
optimizer created, all epochs run) is timed with time.perf_counter, and must give the
check fit's coefficients bit for bit.
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before NumPy (OpenBLAS) and torch (OpenMP, MKL) load

import contextlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402
from peer_timing import time_refits  # noqa: E402


def fit_gd(torch, X, y, lr, epochs, log_every=0):
    """The seed's loop, full batch: returns (W, b, losses)."""
    W = torch.zeros(X.shape[1], dtype=X.dtype, requires_grad=True)
    b = torch.zeros(1, dtype=X.dtype, requires_grad=True)
    opt = torch.optim.SGD([W, b], lr=lr)
    losses = []
    for epoch in range(epochs):
        pred = X @ W + b
        loss = ((pred - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if log_every and (epoch + 1) % log_every == 0:
            print(f"Epoch [{epoch + 1}/{epochs}], W: {W.item():.3f}, b: {b.item():.3f}, "
                  f"Loss: {loss.item():.4f}")
    return W, b, losses


def fit_sgd(torch, X, y, lr, epochs, shuffle, seed):
    """The seed's step on one sample at a time: returns (W, b, per-epoch mean losses)."""
    n = X.shape[0]
    W = torch.zeros(X.shape[1], dtype=X.dtype, requires_grad=True)
    b = torch.zeros(1, dtype=X.dtype, requires_grad=True)
    opt = torch.optim.SGD([W, b], lr=lr)
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    losses = []
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator).tolist() if shuffle else range(n)
        total = 0.0
        for i in order:
            pred = X[i] @ W + b
            loss = ((pred - y[i]) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        losses.append(total / n)
    return W, b, losses


def _fit(torch, request, X, y):
    work = request["work"]
    if work == "sgd":
        return fit_sgd(torch, X, y, request["lr"], request["epochs"], request["shuffle"],
                       request.get("seed", 0)), None
    if work == "gd":
        return fit_gd(torch, X, y, request["lr"], request["epochs"]), None
    if work == "seed":
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            result = fit_gd(torch, X, y, request["lr"], request["epochs"],
                            request["log_every"])
        return result, out.getvalue().splitlines()
    raise ValueError(f"unknown work {work!r}")


def _relative_difference(got, want):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    return float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-300)))


def _check(coef, intercept, losses, lines, mse, check):
    """None when the fit passes `check`, else a message."""
    if "coef" in check:
        rtol, atol = check["rtol"], check.get("atol", 0.0)
        pairs = [("coef", coef, check["coef"]), ("intercept", [intercept], [check["intercept"]])]
        if "losses" in check:
            pairs.append(("losses", losses, check["losses"]))
        for what, got, want in pairs:
            if not np.allclose(got, want, rtol=rtol, atol=atol):
                return (f"{what} differs from linreg's: max relative difference "
                        f"{_relative_difference(got, want):.3g} > rtol {rtol} (atol {atol})")
    if "max_mse" in check and not mse <= check["max_mse"]:
        return f"training MSE {mse:.6g} above {check['max_mse']:.6g}"
    if "lines" in check and lines != check["lines"]:
        return f"the log lines differ from linreg's:\n{lines}\n!=\n{check['lines']}"
    return None


def main():
    request = json.load(sys.stdin)
    X_np = np.load(request["X"])
    y_np = np.load(request["y"])
    with threadpool_limits(limits=1):
        import torch

        torch.set_num_threads(1)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:  # only settable once, before any inter-op work
            pass
        X = torch.from_numpy(X_np)  # shares X's memory: no copy
        y = torch.from_numpy(y_np)
        assert X.data_ptr() == X_np.ctypes.data

        start = time.perf_counter()
        (W, b, losses), lines = _fit(torch, request, X, y)  # the check fit, also warm-up
        check_fit_s = time.perf_counter() - start
        coef = W.detach().numpy().copy()
        intercept = float(b.detach()[0])
        with torch.no_grad():
            residual = (X @ W + b - y).numpy()
        mse = float(np.mean(residual.astype(np.float64) ** 2))
        error = _check(coef, intercept, losses, lines, mse, request["check"])
        if error:
            json.dump({"error": error}, sys.stdout)
            return 1

        times, error = time_refits(lambda: _fit(torch, request, X, y), request["rounds"], coef,
                                   lambda fitted: fitted[0][0].detach().numpy())
        if error:
            json.dump({"error": error}, sys.stdout)
            return 1

        config = torch.__config__.show()
        blas = [f"{what} {found.group(1)}" for what, pattern in (
            ("BLAS", r"BLAS_INFO=(\w+)"), ("CPU capability", r"CPU capability usage: (\w+)")
        ) for found in [re.search(pattern, config)] if found]
        answer = {
            "times_s": times,
            "coef": coef.tolist(),
            "intercept": intercept,
            "losses": [float(loss) for loss in losses],
            "mse": mse,
            "check_fit_s": check_fit_s,
            "lines": lines,
            "torch_version": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "torch_interop_threads": torch.get_num_interop_threads(),
            "torch_blas": "; ".join(blas),
            "threadpools": threadpool_info(),
        }
    json.dump(answer, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
