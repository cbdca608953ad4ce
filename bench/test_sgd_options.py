"""Per-sample SGD with scikit-learn's options against scikit-learn's SGDRegressor with the
same options (issue 13's figure): L2 penalty, "invscaling" and averaging.

Group sgd-l2-invscaling-average-10-epochs-float64: n = 100,000, d = 32 (the suite's
problem), 10 per-sample epochs, float64, single-threaded on both sides:

* linreg: SGDRegressor(lr=LR, epochs=10, penalty="l2", alpha=ALPHA,
  lr_schedule="invscaling", average=True, tol=None);
* sklearn: SGDRegressor(eta0=2 LR, max_iter=10, penalty="l2", alpha=ALPHA / 2,
  learning_rate="invscaling", average=True, tol=None), in a process of its own
  (bench/_harness/peer_sklearn_sgd.py): the same objective in scikit-learn's units.

Variant "natural-order" (shuffle off on both sides): the two trajectories are the same,
so scikit-learn's coefficients must equal linreg's to 1e-9 before it is timed. Variant
"shuffled" (random_state=0 on both sides, different generators): scikit-learn must reach
a training MSE within 1% of linreg's. Target: linreg >= 3x faster than scikit-learn.
"""
import numpy as np
import pytest

from _harness import peers
from _harness.record import describe
from linreg import SGDRegressor

N, D, EPOCHS = 100_000, 32, 10
LR, ALPHA = 0.005, 2e-4
ROUNDS = 5
WORK = "sgd-l2-invscaling-average-10-epochs"
SKLEARN_OPTIONS = dict(penalty="l2", alpha=ALPHA / 2, learning_rate="invscaling",
                       power_t=0.25, average=True)
DESCRIPTION = (
    f"{EPOCHS} per-sample SGD epochs on {N:,} x {D} float64 with an L2 penalty, the "
    "'invscaling' schedule and averaging: linreg's SGDRegressor(lr, penalty='l2', "
    "alpha, lr_schedule='invscaling', average=True) against scikit-learn's SGDRegressor "
    "with the same options in its units (eta0 = 2 lr, alpha / 2), single-threaded. "
    "natural-order: the same trajectory, checked to 1e-9; shuffled: random_state=0 on "
    "each side, scikit-learn's training MSE within 1% of linreg's."
)
VARIANTS = {"natural-order": False, "shuffled": True}


def linreg_model(shuffle):
    return SGDRegressor(lr=LR, epochs=EPOCHS, penalty="l2", alpha=ALPHA,
                        lr_schedule="invscaling", average=True, tol=None, shuffle=shuffle,
                        random_state=0 if shuffle else None, n_threads=1)


@pytest.mark.parametrize("impl", ["linreg", "sklearn"])
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_sgd_with_scikit_learns_options(benchmark, problem, data_files, variant, impl):
    p = problem(N, D)
    shuffle = VARIANTS[variant]
    describe(benchmark, work=WORK, impl=impl, p=p, variant=variant, description=DESCRIPTION,
             rounds=ROUNDS)
    mine = linreg_model(shuffle).fit(p.X, p.Y)
    mse = float(np.mean((mine.predict(p.X) - p.Y) ** 2))
    if impl == "linreg":
        model = linreg_model(shuffle)
        benchmark.extra_info.update(mse=mse)
        benchmark.pedantic(model.fit, args=(p.X, p.Y), rounds=ROUNDS, warmup_rounds=1,
                           iterations=1)
        if not shuffle:
            np.testing.assert_array_equal(model.coef_, mine.coef_)
        return
    peers.require_peer("sklearn")
    check = ({"max_mse": mse * 1.01} if shuffle else
             {"coef": np.asarray(mine.coef_).tolist(), "intercept": float(mine.intercept_),
              "rtol": 1e-9})
    files = data_files(("sgd", p.n, p.d, p.dtype.name), p.X, p.Y)
    request = dict(X=files[0], y=files[1], lr=LR, epochs=EPOCHS, shuffle=shuffle,
                   random_state=0 if shuffle else None, check=check, options=SKLEARN_OPTIONS)
    peers.sklearn_sgd_row(benchmark, request, ROUNDS, p.dtype.name)
