"""The Gram statistics of a Fortran-ordered X (a DataFrame's values) of few features come
from the compiled pass, its rows transposed into C order in cache
(`gram_products_by_columns`, linreg/_kernels/columns.pxi), not from BLAS: the same
centred sums as a C-ordered X's, to rounding, for any n_threads."""
import numpy as np
import pytest

from linreg import _gram, kernels


def centred_products(X, Y):
    """(XtX, XtY, yy) around the exact means, in long double."""
    Xl, Yl = X.astype(np.longdouble), Y.astype(np.longdouble)
    Xc, Yc = Xl - Xl.mean(axis=0), Yl - Yl.mean(axis=0)
    return Xc.T @ Xc, Xc.T @ Yc, float((Yc * Yc).sum())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("d", [1, 2, 3, 5, 8, 13, 16])
@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("n", [7, 1003, 50_001])  # tail rows; several chunks at 50,001
def test_fortran_statistics_are_the_centred_sums(impl, dtype, d, k, n):
    rng = np.random.default_rng(d * 100 + k)
    X = np.asfortranarray((rng.standard_normal((n, d)) * 3 + 5).astype(dtype))
    Y = rng.standard_normal((n, k)).astype(dtype)
    stats = kernels.gram_statistics(X, Y, n_threads=2)
    XtX, XtY, yy = centred_products(X, Y)
    scale = float(np.abs(XtX).max())
    np.testing.assert_allclose(stats.XtX, XtX.astype(np.float64), rtol=1e-12, atol=1e-12 * scale)
    np.testing.assert_allclose(stats.XtY, XtY.astype(np.float64), rtol=1e-12,
                               atol=1e-12 * np.sqrt(scale * yy))
    assert stats.yy == pytest.approx(yy, rel=1e-12)
    np.testing.assert_allclose(stats.mean_X, X.astype(np.float64).mean(axis=0), rtol=1e-13)


def test_fortran_statistics_take_the_compiled_pass_not_blas(impl, monkeypatch):
    def blas_path(*args, **kwargs):
        raise AssertionError("a Fortran-ordered X of 8 features went through BLAS")

    monkeypatch.setattr(_gram, "_centred_products", blas_path)
    rng = np.random.default_rng(0)
    X = np.asfortranarray(rng.standard_normal((10_000, 8)))
    y = rng.standard_normal(10_000)
    stats = kernels.gram_statistics(X, y)
    c_order = kernels.gram_statistics(np.ascontiguousarray(X), y)
    np.testing.assert_allclose(stats.XtX, c_order.XtX, rtol=1e-13,
                               atol=1e-13 * np.abs(c_order.XtX).max())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fortran_statistics_do_not_depend_on_the_thread_count(impl, dtype):
    rng = np.random.default_rng(1)
    X = np.asfortranarray(rng.standard_normal((300_001, 12)).astype(dtype))
    Y = rng.standard_normal((300_001, 2)).astype(dtype)
    runs = [kernels.gram_statistics(X, Y, n_threads=t) for t in (1, 2, 3)]
    for other in runs[1:]:
        for name in ("XtX", "XtY", "mean_X", "ref_W"):
            np.testing.assert_array_equal(getattr(other, name), getattr(runs[0], name))
        assert other.yy == runs[0].yy


def test_weighted_or_wide_fortran_statistics_take_the_products_path(impl, monkeypatch):
    """Weighted, or wider than the compiled pass by columns: with the build's own
    products kernel (avx512) one read, its blocks copied into C order; through BLAS
    (other builds) the means first, then Fortran-ordered blocks."""
    calls = []
    for name in ("_centred_products", "_one_pass_products"):
        original = getattr(_gram, name)
        monkeypatch.setattr(_gram, name, lambda *a, _name=name, _f=original, **kw:
                            calls.append((_name, a[0].shape)) or _f(*a, **kw))
    rng = np.random.default_rng(2)
    X = np.asfortranarray(rng.standard_normal((2_000, 8)))
    kernels.gram_statistics(X, rng.standard_normal(2_000), sample_weight=rng.random(2_000))
    wide = np.asfortranarray(
        rng.standard_normal((2_000, _gram.COMPILED_FORTRAN_GRAM_MAX_FEATURES + 1)))
    kernels.gram_statistics(wide, rng.standard_normal(2_000))
    path = "_one_pass_products" if impl.has_gram_products else "_centred_products"
    assert calls == [(path, (2_000, 8)), (path, wide.shape)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_fortran_statistics_equal_c_order(impl, dtype, weighted):
    """Where a Fortran-ordered X takes the one read (the avx512 build), its blocks are
    copied into C order before the same centring and products: the statistics are those
    of the C-ordered X to the last bit (float32's residual sum at the reference point
    comes from the fused pass, whose sums over columns run in another order). Through
    BLAS (two reads, Fortran-ordered blocks) they agree to rounding."""
    rng = np.random.default_rng(3)
    X = (rng.standard_normal((9_001, 37)) * 3 + 10).astype(dtype)
    y = (X @ rng.standard_normal(37) + rng.standard_normal(9_001)).astype(dtype)
    w = rng.random(9_001) if weighted else None
    c_order = kernels.gram_statistics(X, y, sample_weight=w, n_threads=2)
    fortran = kernels.gram_statistics(np.asfortranarray(X), y, sample_weight=w, n_threads=1)
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    for name in ("XtX", "XtY", "mean_X", "mean_Y", "ref_W"):
        if impl.has_gram_products:
            np.testing.assert_array_equal(getattr(fortran, name), getattr(c_order, name))
        else:
            got, want = getattr(fortran, name), getattr(c_order, name)
            assert np.abs(got - want).max() <= rtol * np.abs(want).max(), name
    assert fortran.yy == pytest.approx(c_order.yy, rel=0 if impl.has_gram_products else rtol)
    assert fortran.ref_sse == pytest.approx(c_order.ref_sse, rel=rtol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("d", [1, 3, 4, 7, 8, 9, 12, 16, 17, 24, 31, 32, 40])
@pytest.mark.parametrize("n", [4096, 4133])  # columns 16 KB apart (a shared cache set), or not
def test_rows_of_columns_copies_a_block_exactly(impl, dtype, d, n):
    # The Gram pass's block copy of a Fortran-ordered X into C order (eight columns at a
    # time through the block, 8 x 8 or 4 x 4 transposes): every block length against
    # the lines (8 float64, 16 float32 rows) and the prefetch distance, from a start
    # that is not on a line, every value in its place.
    rng = np.random.default_rng(d)
    X = np.asfortranarray(rng.standard_normal((n, d)).astype(dtype))
    for start, m in [(0, 1), (3, 15), (5, 16), (17, 33), (1, 129), (40, 255), (0, 4096 - 7),
                     (n - 300, 300)]:
        out = np.full((m, d), np.nan, dtype=dtype)
        impl.rows_of_columns(X.T, start, out)
        np.testing.assert_array_equal(out, X[start:start + m])
