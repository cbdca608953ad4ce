"""The Gram statistics' BLAS path (d above the compiled path's width) reads a C-ordered X
once: it centres the rows at a shift estimated from a sample of rows and corrects the
sums for the shift's offset from the mean at the end (linreg._gram._one_pass_products).
These tests hold it to the accuracy of exact centring on data whose sample is far from
the mean: a large offset with a drift, sorted rows, and weights the sample misses (where
only the fallback to the two-pass way keeps the statistics accurate)."""
import numpy as np
import pytest

from linreg import _gram, kernels

DTYPES = [np.float64, np.float32]
# Against the exact statistics, on the correlation scale (XtX, XtY) or relative (yy):
# float64 is rounded to ~1e-16, float32's products are float32 in blocks (~1e-7).
TOLERANCE = {np.float64: 1e-12, np.float32: 2e-6}


#: Features above both dtypes' compiled-path widths in every build: the BLAS path.
D_BLAS = max(_gram.COMPILED_GRAM_MAX_FEATURES.values()) + 8


def _oracle(X, Y, w):
    """The exact centred statistics (long double, the means taken first)."""
    Xd, Yd = X.astype(np.longdouble), Y.astype(np.longdouble)
    w = np.ones(X.shape[0], np.longdouble) if w is None else w.astype(np.longdouble)
    total = w.sum()
    mean_X, mean_Y = (w @ Xd) / total, (w @ Yd) / total
    Xc, Yc = Xd - mean_X, Yd - mean_Y
    return (mean_X, mean_Y, (Xc * w[:, None]).T @ Xc, (Xc * w[:, None]).T @ Yc,
            (w[:, None] * Yc * Yc).sum())


def _errors(stats, X, Y, w):
    mean_X, mean_Y, XtX, XtY, yy = _oracle(X, Y, w)
    root_X = np.sqrt(np.diag(XtX))
    root_Y = np.sqrt(np.einsum("ij,ij->j", *(2 * [(Y - mean_Y) * np.sqrt(
        np.ones(X.shape[0]) if w is None else w)[:, None]])))
    spread_X = root_X / np.sqrt(w.sum() if w is not None else X.shape[0])
    # The mean's own rounding (a few ulps of it) is not an error of the method.
    mean_error = np.abs(stats.mean_X - mean_X) - 4 * np.finfo(np.float64).eps * np.abs(mean_X)
    return {
        "mean_X": float(np.max(np.maximum(mean_error, 0) / spread_X)),
        "XtX": float(np.max(np.abs(stats.XtX - XtX) / np.outer(root_X, root_X))),
        "XtY": float(np.max(np.abs(stats.XtY - XtY) / np.outer(root_X, root_Y))),
        "yy": float(abs(stats.yy - yy) / yy),
    }


def _drifting(dtype, n=12_000, d=None, seed=0):
    """Columns of mean ~1e6 and spread ~1 around a trend over the rows, rows sorted by
    the trend: the first rows are far below the mean."""
    d = D_BLAS if d is None else d
    rng = np.random.default_rng(seed)
    trend = np.sort(rng.uniform(-3, 3, n))
    X = 1e6 + rng.standard_normal((n, d)) + np.outer(trend, rng.uniform(0.5, 2, d))
    y = X @ rng.standard_normal(d) * 1e-3 + trend + rng.standard_normal(n)
    return X.astype(dtype), y.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_drifting_sorted_data_with_a_large_offset(dtype, weighted):
    X, y = _drifting(dtype)
    w = np.random.default_rng(1).uniform(0.1, 2, X.shape[0]) if weighted else None
    stats = kernels.gram_statistics(X, y, sample_weight=w, n_threads=1)
    errors = _errors(stats, X, y[:, None], w)
    assert max(errors.values()) <= TOLERANCE[dtype], errors


@pytest.mark.parametrize("dtype", DTYPES)
def test_heavy_rows_the_shift_sample_misses(dtype):
    # Rows 0, 2, 4, ... weigh 1e-9 and sit 1e3 above the rest; the odd rows carry the
    # weight. 255 * 80 + 1 rows: the evenly spread sample rows all fall on even rows, so
    # the shift is ~1e3 from the weighted mean, whose correction cancels ~1e6 times the
    # centred sums: only reading the rows again at the mean keeps them accurate.
    n, d = 255 * 80 + 1, D_BLAS
    rng = np.random.default_rng(2)
    X = 1e6 + rng.standard_normal((n, d))
    X[::2] += 1e3
    y = X @ rng.standard_normal(d) + rng.standard_normal(n)
    X, y = X.astype(dtype), y.astype(dtype)
    w = np.ones(n)
    w[::2] = 1e-9
    stats = kernels.gram_statistics(X, y, sample_weight=w, n_threads=1)
    errors = _errors(stats, X, y[:, None], w)
    assert max(errors.values()) <= TOLERANCE[dtype], errors


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", [1, 3, 12], ids=["one-output", "3-outputs", "12-outputs"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_one_pass_statistics_are_exact_and_thread_independent(dtype, k, weighted):
    # 1 and 3 outputs: X^T Y in the compiled centring loop; 12: k more syrk columns.
    rng = np.random.default_rng(k)
    n, d = 9_000, 72
    X = (rng.standard_normal((n, d)) * rng.uniform(0.5, 3, d)
         + rng.uniform(-5, 5, d)).astype(dtype)
    Y = (X @ rng.standard_normal((d, k)) + rng.standard_normal((n, k))).astype(dtype)
    w = rng.uniform(0, 2, n) if weighted else None
    one = kernels.gram_statistics(X, Y, sample_weight=w, n_threads=1)
    two = kernels.gram_statistics(X, Y, sample_weight=w, n_threads=2)
    for field in ("mean_X", "mean_Y", "XtX", "XtY", "ref_W", "ref_grad"):
        np.testing.assert_array_equal(getattr(one, field), getattr(two, field), field)
    assert one.yy == two.yy and one.ref_sse == two.ref_sse
    errors = _errors(one, X, Y, w)
    # float32 with at most 8 outputs: X^T Y and |Y|^2 are summed in double.
    limit = TOLERANCE[dtype] if dtype == np.float32 and k > 8 else 1e-12
    assert errors["XtY"] <= limit and errors["yy"] <= limit, errors
    assert errors["XtX"] <= TOLERANCE[dtype] and errors["mean_X"] <= 1e-12, errors
