"""GDRegressor.fit (and SGDRegressor.fit) on a re-iterable of (X, y) chunks, without
Dask (issue 15): the same statistics merge as on a cluster, equal to the in-memory fit.
No Dask needed: these run wherever linreg does."""
import numpy as np
import pytest

import linreg
from _blocked_data import make_data, relative


def chunked(X, y, sizes, w=None):
    out, start = [], 0
    for size in sizes:
        part = slice(start, start + size)
        out.append((X[part], y[part]) if w is None else (X[part], y[part], w[part]))
        start += size
    return out


@pytest.mark.parametrize("params", [
    dict(), dict(method="fused", lr=0.002, epochs=20),
    # FISTA: the gradient at the extrapolated point, which the blocks must be sent.
    dict(method="fused", lr=0.002, epochs=20, penalty="l1", alpha=0.5, momentum=0.8,
         nesterov=True, precondition=False),
], ids=["auto", "fused", "fused-fista"])
def test_chunks_fit_like_their_concatenation(params):
    X, y = make_data(k=2)
    w = np.random.default_rng(4).uniform(0.5, 2.0, size=X.shape[0])
    for weights in (None, w):
        chunks = chunked(X, y, (1000, 3, 1000), weights)
        blocked = linreg.GDRegressor(**params).fit(chunks)
        local = linreg.GDRegressor(**params).fit(X, y, sample_weight=weights)
        assert relative(blocked.coef_, local.coef_) < 1e-10
        assert blocked.n_iter_ == local.n_iter_


def test_in_order_sgd_over_chunks_is_exact():
    X, y = make_data()
    params = dict(lr=0.0005, epochs=2, shuffle=False, batch_size=9)
    blocked = linreg.SGDRegressor(**params).fit(chunked(X, y, (1000, 3, 1000)))
    local = linreg.SGDRegressor(**params).fit(X, y)
    np.testing.assert_array_equal(blocked.coef_, local.coef_)


def test_one_shot_iterators_and_bad_chunks_are_refused():
    X, y = make_data()
    with pytest.raises(TypeError, match="re-iterable"):
        linreg.GDRegressor().fit(iter(chunked(X, y, (1000, 1003))))
    with pytest.raises(ValueError, match="chunk 1 has 4 features"):
        linreg.GDRegressor().fit([(X[:10], y[:10]), (X[10:20, :4], y[10:20])])
    with pytest.raises(ValueError, match="requires y"):  # rows as lists are not chunks
        linreg.GDRegressor().fit([[1.0, 2.0], [3.0, 4.0]])



@pytest.mark.parametrize(("bad", "message"), [
    (np.nan, "sample_weight contains NaN or infinity"),
    (np.inf, "sample_weight contains NaN or infinity"),
    (-1.0, "sample_weight must be non-negative"),
], ids=["nan", "inf", "negative"])
def test_a_chunk_with_one_bad_weight_is_refused_by_name(bad, message):
    """Each chunk's weights are checked as it is read (`weights_status`); a chunk whose
    weights are all zero is not an error (the other chunks count)."""
    X, y = make_data()
    sizes = (1000, X.shape[0] - 1000)
    w = np.ones(X.shape[0])
    w[1500] = bad  # in the second chunk
    with pytest.raises(ValueError, match=message):
        linreg.GDRegressor(method="fused", epochs=2).fit(chunked(X, y, sizes, w))
    w[:] = 1.0
    w[:1000] = 0.0
    model = linreg.GDRegressor(method="fused", epochs=2).fit(chunked(X, y, sizes, w))
    assert np.all(np.isfinite(model.coef_))
