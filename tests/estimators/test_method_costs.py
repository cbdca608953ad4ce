"""GDRegressor(method="auto") costs its choice with measured speeds (issue 14), one
decision for data in memory and in blocks (linreg._method). The Gram statistics go
through BLAS, much faster per multiply-add than a fused pass over X; a plain count of
multiply-adds (the old rule: "gram" once epochs * k > about d / 4) picked the slower
method near the boundary, both ways."""
import numpy as np
import pytest

import linreg
from linreg import _method
from linreg.estimators import choose_method


def old_multiply_add_count(n, d, k, epochs):
    fused = epochs * 2 * n * d * k
    gram = n * (d * (d + 1) // 2 + d * k + d + k) + epochs * (d * d * k + 2 * d * k)
    return "gram" if gram < fused else "fused"


@pytest.mark.parametrize("n, d, k, epochs, dtype, expected, old_rule_missed", [
    # Wide data: BLAS makes the statistics cheap; 110 epochs of fused passes cost more
    # (measured break-even ~73 epochs at d = 512, float64).
    (1_000_000, 512, 1, 110, np.float64, "gram", True),
    # Narrow data: the statistics (the compiled pass, two reads of X and d(d+1)/2
    # multiply-adds a row) cost about five fused passes at d = 8 (measured break-even
    # 4.9 epochs), so four epochs are "fused" and eight "gram"; the old count took
    # "gram" at four.
    (1_000_000, 8, 1, 4, np.float64, "fused", True),
    (1_000_000, 8, 1, 8, np.float64, "gram", False),
    # The dtype counts, which the old count ignored: measured break-evens at d = 128,
    # float32 / float64, ~19 / ~24 epochs with OpenBLAS's products (sgemm runs twice
    # dgemm's speed), ~14 / ~12 with the avx512 build's own kernel (float32 epochs run
    # at about twice float64's there too).
    (1_000_000, 128, 1, 22, np.float32, "gram", True),
    (1_000_000, 128, 1, 10, np.float64, "fused", False),
])
def test_the_boundary_follows_measured_speeds_not_multiply_adds(n, d, k, epochs, dtype,
                                                                expected, old_rule_missed):
    assert choose_method("auto", n, d, k, epochs, dtype) == expected
    assert _method.choose_method("auto", n, d, k, epochs, dtype) == expected
    assert (old_multiply_add_count(n, d, k, epochs) != expected) == old_rule_missed


def test_the_decision_flips_once_along_the_epochs():
    for dtype in (np.float32, np.float64):
        for d in (8, 64, 512):
            choices = [choose_method("auto", 10**6, d, 1, epochs, dtype)
                       for epochs in range(1, 400)]
            flip = choices.index("gram")
            assert set(choices[:flip]) == {"fused"} and set(choices[flip:]) == {"gram"}


def test_fits_in_memory_and_on_chunks_take_the_same_decision():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, 8))
    y = X @ rng.normal(size=8)
    params = dict(lr=0.01, epochs=2)  # below d = 8's break-even: "fused"
    local = linreg.GDRegressor(**params).fit(X, y)
    chunks = linreg.GDRegressor(**params).fit([(X[:1500], y[:1500]), (X[1500:], y[1500:])])
    assert local.method_ == chunks.method_ == "fused"
    params["epochs"] = 40
    local = linreg.GDRegressor(**params).fit(X, y)
    chunks = linreg.GDRegressor(**params).fit([(X[:1500], y[:1500]), (X[1500:], y[1500:])])
    assert local.method_ == chunks.method_ == "gram"


def test_bad_method_is_refused_by_name():
    with pytest.raises(ValueError, match="method must be one of"):
        choose_method("newton", 10, 2, 1, 5)
