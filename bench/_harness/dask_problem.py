"""The Dask benchmark's problem (bench/test_dask.py), made on a running cluster: the same
X and y for every caller with the same sizes, so that the dask-ml peer, which must run in a
process (and on a cluster) of its own, fits the same data as linreg.

Imports Dask only (no linreg, no scikit-learn).
"""
import dask.array as da
import distributed

__all__ = ["N_FEATURES", "make_problem"]

N_FEATURES = 16


def make_problem(client, n, block):
    """(X, y) persisted on `client`'s workers: X (n, 16) in blocks of `block` rows, its
    columns of scales 1..16 around 3; y = X w + 1 + N(0, 1), w from -2 to 2."""
    rng = da.random.default_rng(0)
    X = rng.normal(size=(n, N_FEATURES), chunks=(block, N_FEATURES)) * da.arange(
        1.0, N_FEATURES + 1.0) + 3.0
    y = X @ da.linspace(-2.0, 2.0, N_FEATURES) + 1.0 + rng.normal(size=n, chunks=block)
    X, y = client.persist([X, y])
    distributed.wait([X, y])
    return X, y
