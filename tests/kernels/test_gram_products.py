"""The Gram pass's compiled products (`add_gram_products`, gram_products.pxi; the avx512
build): the lower triangle of SᵀS added into a double matrix, against the product in
float64 (and long double), at every edge of its tiles (8 rows by 3 vectors of columns),
its slabs (GRAM_SLAB_ROWS rows) and its packing (a vector of columns); the same bits for
any thread count; acc untouched outside S's width; float32 sums that overflow redone in
double; and `mirror_lower`, which makes the triangle whole."""
import importlib

import numpy as np
import pytest

from _helpers import IMPLS
from linreg import _gram_products, kernels

DTYPES = [np.float64, np.float32]
# Widths around every vector and tile edge: 1 to 2 vectors of float32 (16 lanes), a
# tile's 3 vectors of float64 (24) and of float32 (48), and past them.
WIDTHS = [1, 2, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 33, 47, 48, 49, 50, 64, 71, 97]


def _oracle(S):
    S = S.astype(np.longdouble)
    return S.T @ S


def _lower_error(acc, S):
    """The largest error of acc's lower triangle against SᵀS, relative to its largest
    entry."""
    want = _oracle(S)
    w = S.shape[1]
    lower = np.tril(np.ones((w, w), dtype=bool))
    return float(np.abs(acc[:w, :w][lower] - want[lower]).max() / np.abs(want).max())


def _products(build, S, n_threads=1, acc=None):
    lanes = build.gram_products_lanes(S.itemsize)
    padded = -(-S.shape[1] // lanes) * lanes
    acc = np.zeros((S.shape[1], S.shape[1])) if acc is None else acc
    packed = np.empty(max(1, n_threads) * build.GRAM_SLAB_ROWS * padded, dtype=S.dtype)
    build.add_gram_products(S, acc, packed, n_threads)
    return acc


@pytest.fixture(scope="module")
def build():
    """The avx512 build, whose kernel this is (the others take BLAS: test_builds_say_so)."""
    if "avx512" not in IMPLS:
        pytest.skip("this CPU cannot run the avx512 build")
    return importlib.import_module("linreg._kernels_avx512")


def test_builds_say_so(impl):
    """Only the avx512 build has the kernel; the others refuse the call."""
    assert impl.has_gram_products == impl.__name__.endswith("_avx512")
    if not impl.has_gram_products:
        S = np.ones((4, 3))
        with pytest.raises(RuntimeError, match="no compiled Gram products"):
            impl.add_gram_products(S, np.zeros((3, 3)), np.empty(4096), 1)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("width", WIDTHS)
def test_lower_triangle_matches_the_product(build, dtype, width):
    S = np.random.default_rng(width).standard_normal((300, width)).astype(dtype)
    # float32: products summed in float32 over a slab of 256 rows (~1e-7 relative).
    assert _lower_error(_products(build, S), S) <= (1e-14 if dtype == np.float64 else 1e-6)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("rows", [1, 3, 255, 256, 257, 511, 1000])
def test_every_slab_is_summed(build, dtype, rows):
    """Rows that fill no slab, one, one and a row, several with a tail."""
    S = np.random.default_rng(rows).standard_normal((rows, 29)).astype(dtype)
    assert _lower_error(_products(build, S), S) <= (1e-14 if dtype == np.float64 else 1e-6)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda t: np.dtype(t).name)
def test_adds_into_acc_and_leaves_the_rest(build, dtype):
    """acc is added into, not overwritten, and nothing outside S's width is written
    (acc wider and taller than S, its rows further apart than its width)."""
    S = np.random.default_rng(0).standard_normal((600, 21)).astype(dtype)
    big = np.full((40, 57), 7.0)
    acc = big[:30, :50]
    acc[:21, :21] = 1.0
    _products(build, S, acc=acc)
    assert _lower_error(acc[:21, :21] - 1.0, S) <= (1e-14 if dtype == np.float64 else 1e-6)
    outside = np.ones((40, 57), dtype=bool)
    outside[:21, :21] = False
    assert (big[outside] == 7.0).all()


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("width", [9, 64, 131])
def test_threads_change_no_bit(build, dtype, width):
    S = np.random.default_rng(width).standard_normal((2000, width)).astype(dtype) + 3
    one = _products(build, S, 1)
    for threads in (2, 3):
        assert np.array_equal(_products(build, S, threads), one)


def test_float32_sums_that_overflow_are_taken_in_double(build):
    """Squares past float32's range (values of 1e20): the tiles they reach are summed in
    double, so the products are finite and right; other tiles stay in float32."""
    rng = np.random.default_rng(3)
    S = rng.standard_normal((700, 40)).astype(np.float32)
    S[5, 30] = 1e20
    S[600, 31] = -3e19
    acc = _products(build, S)
    assert np.isfinite(np.tril(acc)).all()
    assert _lower_error(acc, S) <= 1e-6


def test_mirror_lower(impl):
    rng = np.random.default_rng(1)
    acc = rng.standard_normal((70, 75))
    out = np.empty((67, 67))
    impl.mirror_lower(acc, out)
    lower = np.tril(acc[:67, :67])
    assert np.array_equal(out, lower + np.tril(lower, -1).T)
    inplace = acc[:67, :67].copy()
    impl.mirror_lower(inplace, inplace)
    assert np.array_equal(inplace, out)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("width, d", [(70, 70), (79, 70)])
def test_block_products_against_blas(impl, dtype, width, d):
    """`block_products` over several blocks (the last one short), compiled or not:
    the statistics NumPy's BLAS gives, to the dtype's rounding; XtY and yy from the
    columns past d."""
    rng = np.random.default_rng(width)
    S_all = rng.standard_normal((9000, width)).astype(dtype)
    rows = 4096
    XtX, XtY, yy = _gram_products.block_products(lambda start, _: S_all[start:start + rows],
                                                 S_all.shape[0], rows, d, width, dtype, 2)
    want = _oracle(S_all)
    scale = float(np.abs(want).max())
    tol = 1e-14 if dtype == np.float64 else 1e-6
    assert np.array_equal(XtX, XtX.T)
    assert np.abs(XtX - want[:d, :d]).max() <= tol * scale
    if width == d:
        assert XtY is None and yy == 0.0
    else:
        assert np.abs(XtY - want[:d, d:]).max() <= tol * scale
        assert abs(yy - float(np.trace(want[d:, d:]))) <= tol * scale * (width - d)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda t: np.dtype(t).name)
def test_gram_statistics_on_every_build(impl, dtype):
    """kernels.gram_statistics on wide data (the products' path), on every build (the
    avx512 build's kernel, the others' BLAS): the centred XᵀX to the dtype's rounding,
    and the same bits for any thread count."""
    rng = np.random.default_rng(8)
    X = (rng.standard_normal((5000, 90)) + rng.uniform(-2, 2, 90)).astype(dtype)
    y = (X @ rng.standard_normal(90) + rng.standard_normal(5000)).astype(dtype)
    stats = kernels.gram_statistics(X, y, n_threads=1)
    again = kernels.gram_statistics(X, y, n_threads=2)
    assert np.array_equal(stats.XtX, again.XtX) and np.array_equal(stats.XtY, again.XtY)
    X64 = X.astype(np.float64)
    Xc = X64 - X64.mean(axis=0)
    want = Xc.T @ Xc
    tol = 1e-12 if dtype == np.float64 else 1e-6
    assert np.abs(stats.XtX - want).max() <= tol * np.abs(want).max()


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("k, weighted", [(1, False), (3, True), (10, False)])
def test_centring_threads_change_no_bit(impl, dtype, k, weighted):
    """centre_rows, which centres a block for the products: its runs of rows may go to
    several threads; the centred rows and every sum are the same bits, and the sums are
    those of the rows in double."""
    rng = np.random.default_rng(k)
    X = (rng.standard_normal((1100, 13)) + 5).astype(dtype)
    Y = (rng.standard_normal((1100, k)) - 2).astype(dtype)
    shift = np.concatenate([np.full(13, 5.0), np.full(k, -2.0)]).astype(dtype)
    w = rng.uniform(0.5, 2.0, 1100) if weighted else None
    width = 13 if k <= 8 else 13 + k
    results = []
    for threads in (1, 2, 3):
        out = np.empty((1100, width), dtype=dtype)
        sums = np.zeros(13 + k)
        cross = np.zeros(13 * k + 1) if k <= 8 else None
        impl.centre_rows(X, Y, shift, w, out, sums, cross, threads)
        results.append((out, sums, cross))
    for out, sums, cross in results[1:]:
        assert np.array_equal(out, results[0][0]) and np.array_equal(sums, results[0][1])
        assert cross is None or np.array_equal(cross, results[0][2])
    weights = np.ones(1100) if w is None else w
    centred = np.concatenate([X, Y], axis=1).astype(np.float64) - shift.astype(np.float64)
    assert np.allclose(results[0][1], weights @ centred, rtol=1e-12, atol=1e-9)
