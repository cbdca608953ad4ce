"""The Gram pass's products: the sum over blocks of centred rows S of SᵀS, in double,
by the compiled kernel where the build has one, else by NumPy's BLAS.

The choice. NumPy's wheels link OpenBLAS, which runs its Haswell kernels (256-bit FMAs)
on CPUs it does not know, this VM's AVX-512 Zen 5 among them; the avx512 build's
kernel (`add_gram_products`, linreg/_kernels/gram_products.pxi) uses the 512-bit FMAs:
on one thread 2.0-2.2x OpenBLAS's syrk at d >= 512 and 1.5x at d = 64 (float64; float32
likewise). Other builds, and blocks in Fortran order (the kernel packs rows), take
BLAS's syrk. Accuracy in double: float64 products and sums are in double either way;
float32 products are summed in float32 over GRAM_SLAB_ROWS (512) rows by the kernel,
over a block of up to 4096 rows by BLAS, then promoted to double.
"""
import numpy as np

from linreg import _compiled
from linreg._blas import judged_blas_threads, judged_threads

__all__ = ["PRODUCT_ROW_PADDING", "block_products", "syrk_work"]

#: A block's product goes into a matrix whose rows are this many elements longer than
#: d: OpenBLAS's syrk writing rows 2^k elements apart ran slower (cache sets; one
#: thread, thread time, 2^23 elements in 4096-row blocks: float64 87.6 against 84.4 ms
#: at d = 512, 304 against 295 at 2048; float32 38.7 / 37.1 and 150 / 140).
PRODUCT_ROW_PADDING = 8


def syrk_work(rows, d):
    """(rows, columns) of the pass over rows with as much work as the syrk of (rows, d)
    rows (rows d^2 / 2 multiply-adds, at about 8 per element of a pass: the thread
    policy's size threshold, 2^21 elements, is then about two milliseconds of either)."""
    return rows, max(1, d * d // 16)


def block_products(centred, n, rows, d, width, dtype, n_threads, c_order=True):
    """(XtX, XtY, yy): the sum of SᵀS over the blocks S = centred(start, threads), start
    = 0, rows, 2 rows, ... < n (each (min(rows, n - start), width) of `dtype`, C-ordered
    when `c_order`; `threads`: how many the pass may use making it), added up in double
    in block order: XtX its first d columns' (d, d)
    square (symmetric, C order), XtY its (d, width - d) corner and yy the trace of the
    rest (None and 0.0 when width == d). `centred` is called once per block, in order.

    One thread count for the whole pass, from the kernels' thread policy, judged over
    it; the bits do not depend on n_threads: the kernel's threads and BLAS's split the
    product's entries, never a sum (tests/threads checks it). Ctrl-C is seen between
    two blocks."""
    if _compiled.build.has_gram_products and c_order:
        product = np.zeros((width, width))
        _compiled_products(centred, n, rows, width, dtype, n_threads, product)
        # Summed in XtX itself, mirrored in place, when the targets are not columns.
        XtX = product if width == d else np.empty((d, d))
        _compiled.build.mirror_lower(product, XtX)
        if width == d:
            return XtX, None, 0.0
        return XtX, product[d:, :d].T.copy(), float(np.trace(product[d:, d:]))
    return _blas_products(centred, n, rows, d, width, dtype, n_threads)


def _compiled_products(centred, n, rows, width, dtype, n_threads, product):
    """Add the lower triangle of the blocks' SᵀS into `product` (double, width x width)
    by `add_gram_products`, as many threads as the policy gives the pass."""
    build = _compiled.build
    lanes = build.gram_products_lanes(np.dtype(dtype).itemsize)
    with judged_threads(*syrk_work(n, width), n_threads) as threads:
        packed = np.empty(threads * build.GRAM_SLAB_ROWS * (-(-width // lanes) * lanes),
                          dtype=dtype)
        for start in range(0, n, rows):
            build.add_gram_products(centred(start, threads), product, packed, threads,
                                    start + rows >= n)


def _blas_products(centred, n, rows, d, width, dtype, n_threads):
    """`block_products` through NumPy's BLAS: each block's syrk (S.T @ S, which NumPy
    hands to syrk), added into XtX, XtY and yy in block order."""
    single = np.dtype(dtype) == np.float32
    XtX, XtY, yy = np.empty((d, d)), np.zeros((d, width - d)), 0.0
    product = np.empty((width, width + PRODUCT_ROW_PADDING), dtype=dtype)[:, :width]
    # One thread count for the whole pass: OpenBLAS lost its gain when the count changed
    # from block to block (d = 512: 6.2 ms a block with 2 threads against 4.4 ms).
    # float32 on one BLAS thread: OpenBLAS's ssyrk (unlike dsyrk) changed the bits with
    # its partition among threads (d + k >= 32; tests/threads).
    with judged_blas_threads(*syrk_work(n, width), 1 if single else n_threads):
        for start in range(0, n, rows):
            S = centred(start, 1)
            np.matmul(S.T, S, out=product)
            block = product
            if single and not np.isfinite(product).all():
                # Squares past float32's range (centred values of 1.8e19 and up): this
                # block in double instead, so that raw data of any float32 scale works.
                wide = S.astype(np.float64)
                block = wide.T @ wide
            if start == 0:
                XtX[...] = block[:d, :d]
            else:
                XtX += block[:d, :d]
            if width > d:
                XtY += block[:d, d:]
                yy += float(np.trace(block[d:, d:], dtype=np.float64))
    return XtX, (XtY if width > d else None), yy
