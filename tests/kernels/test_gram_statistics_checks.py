"""gd_epochs_gram trusts every field of its GramStatistics, so linreg.kernels checks
every field, against the others (issue 10: an inconsistent one read out of bounds)."""
import numpy as np
import pytest

from linreg import kernels


@pytest.fixture
def stats():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 4))
    Y = rng.standard_normal((50, 2))
    return kernels.gram_statistics(X, Y)


def call(stats):
    # The problem of the fixture: 4 features, 2 outputs.
    return kernels.gd_epochs_gram(stats, np.zeros((4, 2)), np.zeros(2), 0.01, np.empty(3))


BAD_FIELDS = {
    "XtX too small": ("XtX", lambda s: np.eye(2)),
    "XtX not square": ("XtX", lambda s: np.zeros((4, 3))),
    "XtX float32": ("XtX", lambda s: s.XtX.astype(np.float32)),
    "XtX Fortran": ("XtX", lambda s: np.asfortranarray(s.XtX + np.arange(4))),
    "XtX NaN": ("XtX", lambda s: np.full((4, 4), np.nan)),
    "mean_X short": ("mean_X", lambda s: s.mean_X[:2].copy()),
    "mean_Y long": ("mean_Y", lambda s: np.zeros(5)),
    "XtY 1-D": ("XtY", lambda s: s.XtY[:, 0].copy()),
    "XtY 0 outputs": ("XtY", lambda s: np.zeros((4, 0))),
    "ref_W shape": ("ref_W", lambda s: np.zeros((3, 2))),
    "ref_grad inf": ("ref_grad", lambda s: np.full((4, 2), np.inf)),
    "n_samples 0": ("n_samples", lambda s: 0),
    "n_samples huge": ("n_samples", lambda s: 10**400),
    "n_samples float": ("n_samples", lambda s: 50.5),
    "yy negative": ("yy", lambda s: -1.0),
    "yy NaN": ("yy", lambda s: np.nan),
    "ref_sse string": ("ref_sse", lambda s: "0"),
    "y_1d with 2 outputs": ("y_1d", lambda s: True),
    "XtX a list": ("XtX", lambda s: s.XtX.tolist()),
}


@pytest.mark.parametrize("case", list(BAD_FIELDS))
def test_inconsistent_statistics_are_refused(stats, case):
    field, make = BAD_FIELDS[case]
    with pytest.raises((ValueError, TypeError), match=rf"stats\.{field}|stats"):
        call(stats._replace(**{field: make(stats)}))


def test_not_a_gram_statistics_is_a_type_error(stats):
    with pytest.raises(TypeError, match="gram_statistics"):
        call(tuple(stats))


def test_consistent_statistics_run(stats):
    assert call(stats) == 3
