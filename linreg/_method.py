"""GDRegressor(method="auto"): "fused" or "gram", costed with measured speeds.

One decision for data in memory and data in blocks (Dask, chunks);
`linreg.estimators.choose_method` is its public face. A plain count of multiply-adds
(the rule before issue 14: "gram" once epochs * k exceeded about d / 4) prices every
multiply-add alike, but the two paths run at very different speeds:

- a fused epoch streams X once through linreg's compiled kernel: about a pass over X
  for one output (memory-bound), plus a multiply-add rate per output, plus a cost per
  row that shows at small d (float32 most);
- the Gram statistics (`linreg._gram`) multiply blocks of centred rows through NumPy's
  BLAS (in double for float64, in float32 for float32 data, at twice the rate), and
  BLAS runs several times more multiply-adds a nanosecond than a pass over X; after
  them every epoch is O(d^2 k), whatever n.

`method_costs` prices each path in nanoseconds with the constants of COSTS_NS and
"auto" takes the cheaper. For one output and up to 16 features it takes both times per
row from NARROW_ROW_NS, measured width by width: the loops there are compiled per width
and their times do not follow a line in d. For C-ordered data of up to 48 features
(float64; 16 in float32) the statistics come from the compiled pass (`linreg._gram`),
costed with the compiled_* constants, fitted to its times (5.3, 12.7, 54 and 94 ns per
row at d = 8, 16, 32, 48 in float64) within about 15%. The least epoch budget for
which "auto" takes "gram" (the calibration's sizes, k = 1) is then 6, 5, 9, 16, 26 and
94 at d = 8, 16, 32, 64, 128 and 512 in float64 (measured break-evens: 4.9, 3.8, 9.0,
22, 28, 73) and 6, 5, 14, 21, 77 at d = 8, 16, 64, 128, 512 in float32 (measured: 5.6,
4.2, 12.5, 18.6, 84).

How the constants were measured (issue 14's 2-core machine, NumPy 2 with OpenBLAS,
single-threaded: n_threads=1, which also limits BLAS; the minimum of 5 runs, after the
fused pass's prefetching and the float32 Gram pass of issue 14's second round): for
each dtype and (n, d) in {(2e5, 8), (1e5, 32), (5e4, 64), (2.5e4, 128), (8e3, 512)}, a
fused epoch is the slope of GDRegressor(lr=1e-4, method="fused", precondition=False,
tol=None).fit's time between 5 and 45 epochs; the statistics are
`linreg._gram.gram_statistics_of`'s time; a gram epoch is the slope of the gram fit's
time between 2 and 402 epochs. A fused epoch took 0.23, 0.17, 0.14, 0.16 and 0.20 ns
per element of X in float64 (d = 8..512) and 0.21, 0.15, 0.11, 0.10, 0.09 in float32;
at d = 16, k = 8 (the tiles of outputs.pxi) 0.64 and 0.70. The statistics took 20-25,
68-84, 183-193, 522-569 and 7100-7500 ns per row in float64, and 15, 37, 89, 231 and
3300 in float32; a gram epoch 44 us at d = 512. The constants fit those times within
about 20% (bench/test_method_choice.py checks the outcome: "auto" against both
methods). With more threads both paths speed up alike (the kernels' and BLAS's
threads), so the ratio, and the choice, is taken to hold.
"""
import numpy as np

from linreg._gram import COMPILED_GRAM_MAX_FEATURES

__all__ = ["choose_method", "method_costs", "AUTO_GRAM_MAX_FEATURES", "COSTS_NS",
           "NARROW_ROW_NS"]

#: "auto" takes "gram" only up to this many features (the statistics are d*d doubles,
#: and on blocks each block sends them once: 128 MB at d = 4096).
AUTO_GRAM_MAX_FEATURES = 4096

#: Nanoseconds per unit of work (one thread), by the training dtype. fused_pass: per
#: element of X an epoch; fused_output: per element and output (k outputs' multiply-
#: adds); fused_row: per row an epoch. gram_product: per multiply-add of the product
#: (n d (d + 1) / 2, through BLAS, in X's dtype); gram_pass: per element
#: of X (means, centring); gram_output: per element and output (X^T Y); gram_row: per
#: row; gram_epoch: per multiply-add of an epoch on the statistics (d^2 k). The
#: compiled_* constants replace gram_product, gram_pass and gram_row where the
#: statistics come from the compiled pass (up to `COMPILED_GRAM_MAX_FEATURES`).
COSTS_NS = {
    np.dtype(np.float64): dict(fused_pass=0.08, fused_output=0.075, fused_row=0.6,
                               gram_product=0.05, gram_pass=0.66, gram_output=0.107,
                               gram_row=12.0, gram_epoch=0.17,
                               compiled_product=0.08, compiled_pass=0.0,
                               compiled_row=1.6),
    np.dtype(np.float32): dict(fused_pass=0.0, fused_output=0.09, fused_row=1.0,
                               gram_product=0.022, gram_pass=0.45, gram_output=0.107,
                               gram_row=7.0, gram_epoch=0.17,
                               compiled_product=0.075, compiled_pass=0.0,
                               compiled_row=1.7),
}


#: One output and up to 16 features: nanoseconds per row of a fused epoch and of the
#: compiled Gram statistics, measured for each width (index d; one thread, 2e5 rows,
#: the minimum of 7 runs). The loops there are compiled per width (rows of 8 elements
#: have loops of their own), so their times do not follow a line in d: a fused epoch at
#: d = 8 took less than at d = 4 in both dtypes.
NARROW_ROW_NS = {
    np.dtype(np.float64): dict(
        fused=(0, 1.0, 0.84, 1.0, 1.4, 1.7, 1.9, 2.2, 1.0, 2.1, 2.3, 2.6, 2.3, 2.8, 3.2,
               3.6, 3.3),
        gram=(0, 1.3, 2.1, 3.9, 2.7, 4.4, 4.7, 5.2, 5.2, 7.3, 7.7, 10.5, 8.8, 12.5, 13.2,
              15.5, 15.0)),
    np.dtype(np.float32): dict(
        fused=(0, 1.5, 1.2, 1.5, 1.3, 1.6, 1.9, 2.3, 1.1, 2.9, 3.2, 3.8, 3.4, 3.8, 4.3,
               4.9, 2.8),
        gram=(0, 1.1, 2.2, 4.0, 3.0, 4.4, 5.2, 5.4, 6.2, 7.7, 8.5, 9.9, 8.7, 12.0, 12.3,
              14.5, 12.2)),
}


def method_costs(n_samples, n_features, n_outputs, epochs, dtype=np.float64):
    """(fused, gram): the modelled time, in nanoseconds on one thread, of `epochs`
    epochs of each path.

    fused = epochs n (d (fused_pass + k fused_output) + fused_row)
    gram  = n (d (d + 1) / 2 gram_product + d (gram_pass + k gram_output) + gram_row)
            + epochs d^2 k gram_epoch

    with the constants of COSTS_NS for `dtype` (float32's for float32, else float64's),
    the compiled_* ones for the product, pass and row where the statistics of C-ordered
    data come from the compiled pass (d up to COMPILED_GRAM_MAX_FEATURES for the dtype).
    One output and up to 16 features: the measured times per row of NARROW_ROW_NS for
    the epoch and the statistics instead.
    """
    n, d, k = n_samples, n_features, n_outputs
    dtype = np.dtype(dtype) if np.dtype(dtype) in COSTS_NS else np.dtype(np.float64)
    c = COSTS_NS[dtype]
    gram_epochs = epochs * d * d * k * c["gram_epoch"]
    if k == 1 and 1 <= d < len(NARROW_ROW_NS[dtype]["fused"]):
        narrow = NARROW_ROW_NS[dtype]
        return epochs * n * narrow["fused"][d], n * narrow["gram"][d] + gram_epochs
    path = "compiled_" if d <= COMPILED_GRAM_MAX_FEATURES[dtype] else "gram_"
    fused = epochs * n * (d * (c["fused_pass"] + k * c["fused_output"]) + c["fused_row"])
    gram = (n * (d * (d + 1) / 2 * c[path + "product"]
                 + d * (c[path + "pass"] + k * c["gram_output"]) + c[path + "row"])
            + gram_epochs)
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
