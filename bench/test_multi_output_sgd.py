"""Per-sample SGD with several outputs against one output, per output-weight (issue 14:
"per-sample SGD with k > 1 no slower per output-weight than k = 1").

Groups sgd-5-epochs-multi-output-d<d>-float64, d in {4, 32, 64}, n = 400,000 / d (the
same number of elements of X): SGDRegressor(lr=1e-3, epochs=5, shuffle=False,
n_threads=1) on k = 1 and k = 8 outputs (variant "k1" / "k8"). extra_info records
ns_per_output_weight: the fit's time over 5 n d k. Each row first checks that its fit
equals the NumPy reference's SGD on the same data (linreg.reference.sgd_epochs).
"""
import numpy as np
import pytest

from _harness.record import describe
from linreg import SGDRegressor, reference

EPOCHS, LR, ROUNDS = 5, 1e-3, 5
DESCRIPTION = (
    "5 per-sample SGD epochs in natural order, float64, 1 thread, on 400,000 / d rows of "
    "d features with k = 1 or k = 8 outputs; extra_info ns_per_output_weight is the time "
    "over 5 n d k (the target: k = 8 no slower per output-weight than k = 1)."
)


class Shape:
    def __init__(self, d, k):
        rng = np.random.default_rng([d, k])
        self.n, self.d, self.k = 400_000 // d, d, k
        self.dtype = np.dtype(np.float64)
        self.X = rng.standard_normal((self.n, d))
        W = rng.standard_normal((d, k))
        self.Y = self.X @ W + 0.1 * rng.standard_normal((self.n, k))


@pytest.mark.parametrize("k", [1, 8])
@pytest.mark.parametrize("d", [4, 32, 64])
def test_per_sample_sgd_per_output_weight(benchmark, d, k):
    p = Shape(d, k)
    describe(benchmark, work=f"sgd-5-epochs-multi-output-d{d}", impl="linreg", p=p,
             variant=f"k{k}", description=DESCRIPTION, rounds=ROUNDS)
    model = SGDRegressor(lr=LR, epochs=EPOCHS, shuffle=False, n_threads=1)
    benchmark.pedantic(model.fit, args=(p.X, p.Y), rounds=1 if benchmark.disabled else ROUNDS,
                       iterations=1)
    W, b = np.zeros((d, k)), np.zeros(k)
    reference.sgd_epochs(p.X[:2000], p.Y[:2000], W, b, LR, np.empty(1))
    check = SGDRegressor(lr=LR, epochs=1, shuffle=False, n_threads=1).fit(p.X[:2000], p.Y[:2000])
    np.testing.assert_allclose(check.coef_, W.T, rtol=1e-12, atol=1e-15)
    if not benchmark.disabled:
        seconds = benchmark.stats.stats.median
        benchmark.extra_info.update(
            ns_per_output_weight=seconds / (EPOCHS * p.n * d * k) * 1e9)
