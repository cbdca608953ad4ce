"""Property-based test (hypothesis) of the estimators over shapes, dtypes, memory layouts
and values (issue 6); the strategies are in ../_strategies.py.

Every fit either trains a finite model (finite coef_, intercept_, loss_curve_ and, unless
they overflow the dtype, finite predictions) or raises one of the documented errors:
ValueError / TypeError naming the bad argument, or DivergenceError. A failed fit leaves
the model unfitted, and the validated C-contiguous copy of the data trains to the same
bits. Never a crash, a hang, or a silent NaN or infinity.
"""
import re
import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import linreg
from _strategies import examples, problems, stable_lr


@st.composite
def estimators(draw, n):
    kind = draw(st.sampled_from(["GD", "SGD"]))
    epochs = draw(st.integers(1, 4))
    params = {"epochs": epochs}
    if kind == "SGD":
        params.update(batch_size=draw(st.integers(1, n)), shuffle=draw(st.booleans()),
                      random_state=draw(st.integers(0, 2**32 - 1)))
    cls = linreg.GDRegressor if kind == "GD" else linreg.SGDRegressor
    return cls, params


def outcome(make_model, X, y):
    """('fitted', model) | ('diverged', model, error) | ('refused', model, error)."""
    model = make_model()
    try:
        model.fit(X, y)
    except linreg.DivergenceError as error:
        return "diverged", model, error
    except (ValueError, TypeError) as error:
        return "refused", model, error
    return "fitted", model, None


@given(data=st.data(), p=problems(params=False), log_lr=st.integers(-6, 300), huge=st.booleans())
@settings(max_examples=examples(100))
def test_estimators_fit_and_predict_finite_or_raise(data, p, log_lr, huge):
    cls, params = data.draw(estimators(p.n))
    lr = stable_lr(p, 0.5) * (10.0 ** log_lr if huge else 10.0 ** min(log_lr, 0))
    lr = min(lr, 1e300) if lr > 0 else 1e-300
    params["lr"] = lr
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        kind, model, error = outcome(lambda: cls(**params), p.X, p.Y)
    data_error = None
    if not np.isfinite(p.Xv).all():
        data_error = r"\bX contains NaN or infinity"
    elif not np.isfinite(p.Yv).all():
        data_error = r"\by contains NaN or infinity"
    if data_error is not None:
        assert kind == "refused" and re.search(data_error, str(error)), (kind, error)
        assert not hasattr(model, "coef_"), "a refused fit left a fitted model"
        return
    assert kind != "refused", f"valid input refused: {error!r}"
    if not huge:
        assert kind == "fitted", f"diverged at a stable lr: {error!r}"
    if kind == "diverged":
        # A failed fit leaves the (unfitted) model unfitted; the losses come with the error.
        assert 1 <= error.epoch <= params["epochs"] and error.lr == lr
        assert len(error.losses) == error.epoch - 1 and np.isfinite(error.losses).all()
        assert not hasattr(model, "coef_"), "a diverged fit left a fitted model"
        return
    assert np.isfinite(model.coef_).all() and np.isfinite(model.intercept_).all()
    assert np.isfinite(model.loss_curve_).all()
    assert model.coef_.dtype == p.wdt
    assert model.n_iter_ == params["epochs"] == len(model.loss_curve_)
    try:
        prediction = model.predict(p.X)
    except ValueError as predict_error:
        # Finite weights whose predictions overflow the dtype: refused, never returned.
        assert huge and "overflowed" in str(predict_error), predict_error
    else:
        assert prediction.shape == p.Y.shape and prediction.dtype == p.wdt
        assert np.isfinite(prediction).all()
    # Layout and dtype conversions change nothing: the validated C-contiguous copy trains
    # to the same bits, or fails the same way.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        again = outcome(lambda: cls(**params), p.Xv, p.Yv)
    assert again[0] == kind
    if kind == "diverged":
        assert again[2].epoch == error.epoch
    np.testing.assert_array_equal(again[1].coef_, model.coef_)
    np.testing.assert_array_equal(again[1].intercept_, model.intercept_)
    np.testing.assert_array_equal(again[1].loss_curve_, model.loss_curve_)
