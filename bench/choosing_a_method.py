"""Draw docs/choosing-a-method.png: loss against time for GD, GD with momentum, SGD and
mini-batch SGD on one data set (README, "Choosing a method").

    python bench/choosing_a_method.py [docs/choosing-a-method.png]

Needs matplotlib (``pip install ".[plot]"``). Each estimator is fitted once, without a
callback (which would make every epoch a return to Python and distort the times); the
time of epoch i is the fit's time spread evenly over its epochs, which holds for these
solvers (every epoch costs the same: one pass over X), except Gram GD, whose first epoch
comes after its statistics pass (timed apart, as a fit of one epoch). The y axis
is the excess loss over the least-squares loss (NumPy's lstsq), so every curve aims at
the same floor. Prints each curve's end point.
"""
import sys
import time
from pathlib import Path

import numpy as np

import linreg

N_SAMPLES, N_FEATURES, SEED = 100_000, 20, 0


def data():
    """Raw data of mixed units: features with scales 1e-2..1e2 and correlated pairs."""
    rng = np.random.default_rng(SEED)
    Z = rng.normal(size=(N_SAMPLES, N_FEATURES))
    Z[:, 1::2] = 0.8 * Z[:, 0::2] + 0.6 * Z[:, 1::2]  # correlated pairs
    scales = 10.0 ** rng.uniform(-2, 2, size=N_FEATURES)
    X = Z * scales + rng.normal(size=N_FEATURES) * scales
    y = Z @ rng.normal(size=N_FEATURES) + 5.0 + 0.5 * rng.normal(size=N_SAMPLES)
    return X, y


def least_squares_loss(X, y):
    A = np.column_stack([X, np.ones(len(X))])
    solution = np.linalg.lstsq(A, y, rcond=None)[0]
    return float(np.mean((A @ solution - y) ** 2))


#: One stopping rule for all (lr="auto"'s own rules differ by method, and with a user's
#: momentum the loss is not monotone, which its GD rule reads as "stopped improving"):
#: stop after 10 epochs without improving the loss by 1e-9 of the least-squares loss,
#: within an epoch budget of about 2 s each.
def METHODS(floor):
    stop = {"tol": 1e-9 * floor, "n_iter_no_change": 10}
    return [
        ("GD (full batch)", linreg.GDRegressor(method="fused", epochs=600, **stop)),
        ("GD, method='gram' (the default here)",
         linreg.GDRegressor(method="gram", epochs=600, **stop)),
        ("GD + Nesterov momentum 0.9",
         linreg.GDRegressor(method="fused", epochs=600, momentum=0.9, nesterov=True, **stop)),
        ("SGD (one sample per step)", linreg.SGDRegressor(random_state=0, epochs=60, **stop)),
        ("mini-batch SGD (64 per step)",
         linreg.SGDRegressor(random_state=0, epochs=300, batch_size=64, **stop)),
    ]


def _seconds_of_one_epoch(model, X, y):
    start = time.perf_counter()
    model.set_params(epochs=1).fit(X, y)
    return time.perf_counter() - start


def main(argv):
    out = Path(argv[1]) if len(argv) > 1 else Path("docs/choosing-a-method.png")
    import warnings

    from matplotlib.figure import Figure

    X, y = data()
    floor = least_squares_loss(X, y)
    figure = Figure(figsize=(7.5, 4.8), dpi=100)
    ax = figure.add_subplot()
    for label, model in METHODS(floor):
        model.fit(X[:2000], y[:2000])  # warm-up: first-call costs are not the method's
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a capped budget is the point of the picture
            start = time.perf_counter()
            model.fit(X, y)
            seconds = time.perf_counter() - start
        losses = np.asarray(model.loss_curve_)
        times = seconds * np.arange(1, len(losses) + 1) / len(losses)
        if model.get_params().get("method") == "gram":
            # Its first epoch comes after the statistics pass: timed apart, by a fit of
            # one epoch; the other epochs share the rest evenly.
            first = _seconds_of_one_epoch(model, X, y)
            times = first + (seconds - first) * np.arange(len(losses)) / max(len(losses) - 1, 1)
        excess = np.maximum(losses - floor, 1e-16 * floor)
        ax.plot(times, excess / floor, label=f"{label}: {len(losses)} epochs")
        print(f"{label:32s} {len(losses):5d} epochs  {seconds:7.3f} s  "
              f"excess loss {excess[-1] / floor:.2e} of the least-squares loss")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("seconds (the fit's time, spread evenly over its epochs)")
    ax.set_ylabel("(loss - least-squares loss) / least-squares loss")
    ax.set_title(f"lr='auto' on raw data, n = {N_SAMPLES:,}, d = {N_FEATURES}, float64")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
