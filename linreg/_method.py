"""GDRegressor(method="auto"): "fused" or "gram", costed with measured speeds.

One decision for data in memory and data in blocks (Dask, chunks);
`linreg.estimators.choose_method` is its public face. A plain count of multiply-adds
(the rule before issue 14: "gram" once epochs * k exceeded about d / 4) prices every
multiply-add alike, but the two paths run at very different speeds:

- a fused epoch streams X once through linreg's compiled kernel: about a pass over X
  for one output (memory-bound), plus a multiply-add rate per output, plus a cost per
  row that shows at small d (float32 most);
- the Gram statistics (`linreg._gram`) multiply blocks of centred rows through NumPy's
  BLAS, or the avx512 build's own kernel (in double for float64, in float32 for
  float32 data, at twice the rate), which run several times more multiply-adds a
  nanosecond than a pass over X; after them every epoch is O(d^2 k), whatever n.

`method_costs` prices each path in nanoseconds with the constants of COSTS_NS and
"auto" takes the cheaper. For one output and up to 16 features it takes both times per
row from NARROW_ROW_NS, measured width by width: the loops there are compiled per width
and their times do not follow a line in d. For C-ordered data of up to
`COMPILED_GRAM_MAX_FEATURES` features (by dtype and build: 20 and 16 in the avx512 build,
32 and 16 otherwise) the statistics come from the compiled pass (`linreg._gram`),
costed with the compiled_* constants (COMPILED_COSTS_NS_AVX512 in the avx512 build),
fitted to its times within about 15%; wider, from the blocks' products, which the
avx512 build computes with its own kernel (its gram_* constants there). The least epoch
budget for which "auto" takes "gram" (the calibration's sizes, k = 1, avx512 build) is
then 5, 4, 8, 8, 9, 12 and 35 at d = 8, 16, 32, 48, 64, 128 and 512 in float64 and 5,
6, 7, 9, 10, 14 and 45 in float32. Measured break-evens after issue 14's sixth round
(the products' kernel; one thread, GDRegressor fits as below) at d = 32, 64, 128 and
512: 7.2, 9.3, 11.7 and 34.8 in float64, 8.0, 8.4, 14.3 and 50.5 in float32; before it
(third round, d = 8, 16, 32, 48, 64, 128, 512): 5.3, 3.9, 7.6, 8.2, 11.6, 24, 61 and
5.1, 5.7, 10.0, 10.1, 11.6, 18.9, 90. The model's flips are within about 1.2x of
those, so near one "auto" can take up to about 1.2x the faster method's time; the bench
rows (half and twice the flip) are clear of it.

How the constants were first measured (issue 14's 2-core machine, NumPy 2 with
OpenBLAS, single-threaded: n_threads=1, which also limits BLAS; the minimum of 5 runs,
after the fused pass's prefetching and the float32 Gram pass of issue 14's second
round; the third round's BLAS path reads X once, so float64's gram_* and fused_pass
were refitted to the break-evens above): for
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

from linreg import _compiled
from linreg._gram import COMPILED_GRAM_MAX_FEATURES

__all__ = ["choose_method", "method_costs", "AUTO_GRAM_MAX_FEATURES", "COSTS_NS",
           "COMPILED_COSTS_NS_AVX512", "NARROW_ROW_NS"]

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
    np.dtype(np.float64): dict(fused_pass=0.10, fused_output=0.075, fused_row=0.6,
                               gram_product=0.045, gram_pass=0.45, gram_output=0.107,
                               gram_row=12.0, gram_epoch=0.17,
                               compiled_product=0.08, compiled_pass=0.0,
                               compiled_row=1.6),
    np.dtype(np.float32): dict(fused_pass=0.0, fused_output=0.09, fused_row=1.0,
                               gram_product=0.022, gram_pass=0.45, gram_output=0.107,
                               gram_row=7.0, gram_epoch=0.17,
                               compiled_product=0.075, compiled_pass=0.0,
                               compiled_row=1.7),
}


#: The avx512 build's constants: its compiled pass, whose loops for 8 features and more
#: run with 8-double vectors (float64 at d = 24..64: 31, 43, 59, 75, 96 and 136 ns a
#: row, within 15% of these; float32 at d = 20 and 24: 25 and 26), and its own kernel
#: for the blocks' products (`linreg._gram_products`: 512-bit FMAs, about twice
#: OpenBLAS's Haswell syrk). The statistics through that kernel took, one thread, the
#: minimum of 5 runs, (n, d) = (1e5, 32), (5e4, 64), (2.5e4, 128), (8e3, 512), (4096,
#: 2048): 32, 83, 222, 3000 and 53800 ns a row in float64, 24, 57, 151, 1880 and 27800
#: in float32; these constants give 48, 97, 256, 2930 and 43100 (the conjugate-gradient
#: point of short, wide data is not modelled), and 26, 63, 172, 1860 and 26300. float64's
#: gram_row (20, against the 2 these times alone would give) matches the measured
#: break-evens of whole fits (see the module's note).
COMPILED_COSTS_NS_AVX512 = {
    np.dtype(np.float64): dict(compiled_product=0.06, compiled_pass=0.3,
                               gram_product=0.02, gram_pass=0.45, gram_row=20.0),
    np.dtype(np.float32): dict(compiled_product=0.07, compiled_pass=0.3,
                               gram_product=0.012, gram_pass=0.45, gram_row=2.0),
}


#: One output and up to 16 features: nanoseconds per row of a fused epoch and of the
#: compiled Gram statistics, measured for each width (index d; one thread, 2e5 rows,
#: the minimum of 7 runs, `bench/calibrate_narrow.py`, avx512 build; the avx2 build's
#: are the same within 10% but at d = 8 and 16, where its statistics take 1.1x). The loops there are compiled per width (rows of 8 elements
#: have loops of their own), so their times do not follow a line in d: a fused epoch at
#: d = 8 took less than at d = 4 in both dtypes.
NARROW_ROW_NS = {
    np.dtype(np.float64): dict(
        fused=(0, 1.15, 0.92, 1.13, 1.51, 1.74, 1.97, 2.27, 1.12, 2.14, 2.4, 2.72, 2.66,
               3.29, 3.27, 3.83, 3.75),
        gram=(0, 1.3, 2.1, 3.9, 2.7, 4.4, 4.7, 5.5, 5.2, 7.8, 8.6, 10.8, 9.1, 13.0, 13.6,
              16.3, 13.2)),
    np.dtype(np.float32): dict(
        fused=(0, 1.52, 1.2, 1.49, 1.32, 1.59, 1.88, 2.33, 1.16, 1.82, 1.83, 1.82, 1.82,
               1.85, 1.84, 1.88, 1.9),
        gram=(0, 1.1, 2.2, 4.0, 2.9, 4.4, 5.1, 5.6, 5.5, 8.3, 9.0, 10.6, 9.0, 12.5, 12.8,
              15.8, 10.3)),
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
    if _compiled.simd == "avx512":
        c = {**c, **COMPILED_COSTS_NS_AVX512[dtype]}
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
