"""GDRegressor(method="auto"): "fused" or "gram", costed with measured speeds.

One decision for data in memory and data in blocks (Dask, chunks);
`linreg.estimators.choose_method` is its public face. A plain count of multiply-adds
(the rule before issue 14: "gram" once epochs * k exceeded about d / 4) prices every
multiply-add alike, but the two paths run at very different speeds:

- a fused epoch streams X once through linreg's compiled kernel: about a pass over X
  for one output (memory-bound), plus a multiply-add rate per output, plus a cost per
  row that shows at small d (float32 most);
- the Gram statistics (`linreg._gram`) multiply blocks of centred rows through NumPy's
  BLAS, promoted to double (about 1.1-1.4x NumPy's X.T @ X in float64 and 1.2-3x in
  float32 at d >= 128; more at small d, where centring and bookkeeping dominate), and
  BLAS runs several times more multiply-adds a nanosecond than a pass over X; after
  them every epoch is O(d^2 k), whatever n.

`method_costs` prices each path in nanoseconds with the constants of COSTS_NS and
"auto" takes the cheaper. The least epoch budget for which "auto" takes "gram" (n >> d,
k = 1) is then 7 at d = 8 and 32, 10 at d = 64, 17 at d = 128 and 55 at d = 512 in
float64 (float32: 6, 12, 20, 36, 132; measured break-evens: 6.9, 7.7, 9.3, 15.4, 55 and
5.4, 12.7, 21.6, 35.6, 145), where the old count said 4, 10, 18, 34 and 130.

How the constants were measured (issue 14's 2-core machine, NumPy 2 with OpenBLAS,
shared with other work, so single-threaded: n_threads=1, which also limits BLAS; the
minimum of 7 runs): for each dtype and (n, d, k) in {(2e5, 8, 1), (1e5, 32, 1),
(5e4, 64, 1), (5e4, 64, 8), (2.5e4, 128, 1), (8e3, 512, 1)}, a fused epoch is the slope
of GDRegressor(lr=1e-4, method="fused", precondition=False).fit's time between 5 and 45
epochs; the statistics are `linreg._gram.gram_statistics_of`'s time; a gram epoch is
the slope of the gram fit's time between 2 and 402 epochs. Per row, the statistics took
15, 58, 152, 508 and 6862 ns (d = 8..512, k = 1; 200 ns at d = 64, k = 8), both dtypes;
a fused epoch 0.25-0.28 ns per element of X in float64 (1.10 at k = 8) and 0.10-0.14
in float32 (0.36 at d = 8; 0.83 at k = 8); a gram epoch 44 us at d = 512. The constants
fit those times within 15% (bench/test_method_choice.py checks the outcome: "auto"
against both methods). With more threads both paths speed up alike (the kernels' and
BLAS's threads), so the ratio, and the choice, is taken to hold.
"""
import numpy as np

__all__ = ["choose_method", "method_costs", "AUTO_GRAM_MAX_FEATURES", "COSTS_NS"]

#: "auto" takes "gram" only up to this many features (the statistics are d*d doubles,
#: and on blocks each block sends them once: 128 MB at d = 4096).
AUTO_GRAM_MAX_FEATURES = 4096

#: Nanoseconds per unit of work (one thread), by the training dtype. fused_pass: per
#: element of X an epoch; fused_output: per element and output (k outputs' multiply-
#: adds); fused_row: per row an epoch. gram_product: per multiply-add of the product
#: (n d (d + 1) / 2, through BLAS, in double for both dtypes); gram_pass: per element
#: of X (means, centring); gram_output: per element and output (X^T Y); gram_row: per
#: row; gram_epoch: per multiply-add of an epoch on the statistics (d^2 k).
COSTS_NS = {
    np.dtype(np.float64): dict(fused_pass=0.13, fused_output=0.12, fused_row=0.3,
                               gram_product=0.05, gram_pass=0.66, gram_output=0.107,
                               gram_row=7.0, gram_epoch=0.17),
    np.dtype(np.float32): dict(fused_pass=0.0, fused_output=0.10, fused_row=2.0,
                               gram_product=0.05, gram_pass=0.66, gram_output=0.107,
                               gram_row=7.0, gram_epoch=0.17),
}


def method_costs(n_samples, n_features, n_outputs, epochs, dtype=np.float64):
    """(fused, gram): the modelled time, in nanoseconds on one thread, of `epochs`
    epochs of each path.

    fused = epochs n (d (fused_pass + k fused_output) + fused_row)
    gram  = n (d (d + 1) / 2 gram_product + d (gram_pass + k gram_output) + gram_row)
            + epochs d^2 k gram_epoch

    with the constants of COSTS_NS for `dtype` (float32's for float32, else float64's).
    """
    n, d, k = n_samples, n_features, n_outputs
    c = COSTS_NS.get(np.dtype(dtype), COSTS_NS[np.dtype(np.float64)])
    fused = epochs * n * (d * (c["fused_pass"] + k * c["fused_output"]) + c["fused_row"])
    gram = (n * (d * (d + 1) / 2 * c["gram_product"]
                 + d * (c["gram_pass"] + k * c["gram_output"]) + c["gram_row"])
            + epochs * d * d * k * c["gram_epoch"])
    return fused, gram


def choose_method(method, n_samples, n_features, n_outputs, epochs, dtype=np.float64):
    """What GDRegressor(method=...) uses for this problem: "fused" or "gram".

    "auto" takes the path that `method_costs` prices lower for data of `dtype`, and
    "gram" only up to AUTO_GRAM_MAX_FEATURES features. An explicit method is returned
    as it is; anything else raises ValueError.
    """
    if method not in ("auto", "fused", "gram"):
        raise ValueError(f"method must be one of 'auto', 'fused', 'gram', got {method!r}")
    if method != "auto":
        return method
    fused, gram = method_costs(n_samples, n_features, n_outputs, epochs, dtype)
    return "gram" if n_features <= AUTO_GRAM_MAX_FEATURES and gram < fused else "fused"
