"""GDRegressor and SGDRegressor against a torch.optim.SGD loop, epoch by epoch (issue 13).

The torch loop is the one a user would write: W (d, k) and b (k,) as parameters in two
param groups, weight decay on W alone, loss = mean((X_B W + b - Y_B)**2) per batch, one
optimizer step per batch, in float64, rows in their order. linreg's side is the estimator
with the mapped options (weight_decay=wd is penalty="l2", alpha=wd), a numeric lr and no
preconditioning; its callback records coef_ and intercept_ after every epoch. Losses and
coefficients must agree to 1e-10 relative.
"""
import numpy as np
import pytest

import linreg

torch = pytest.importorskip(
    "torch", reason="PyTorch is not installed: the `test` extra brings torch==2.13.0 (CPU) on "
                    "x86_64 Python 3.11 only; elsewhere install it to run the parity tests")

RTOL = 1e-10

#: (momentum, dampening, nesterov, weight_decay): each torch option alone and together.
OPTIONS = {
    "weight-decay": (0.0, 0.0, False, 0.1),
    "momentum": (0.9, 0.0, False, 0.0),
    "momentum-dampening-decay": (0.9, 0.3, False, 0.1),
    "nesterov-decay": (0.9, 0.0, True, 0.1),
    "nesterov": (0.5, 0.0, True, 0.0),
}


def problem(n, d=4, k=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * [0.5, 1.0, 1.5, 2.0][:d] + 0.5
    shape = (n,) if k is None else (n, k)
    Y = X @ rng.standard_normal((d,) if k is None else (d, k)) + 1.0 + 0.3 * rng.standard_normal(shape)
    return X, Y


def torch_train(X, Y, lr, options, epochs, batch_size, fit_intercept=True, lr_lambda=None):
    """The user's torch loop; returns (epoch losses, [(W, b) after each epoch]). With
    lr_lambda, a LambdaLR scheduler stepped after every epoch."""
    momentum, dampening, nesterov, weight_decay = options
    X_t = torch.tensor(X, dtype=torch.float64)
    Y_t = torch.tensor(Y.reshape(len(Y), -1), dtype=torch.float64)
    n, d, k = X.shape[0], X.shape[1], Y_t.shape[1]
    W = torch.zeros((d, k), dtype=torch.float64, requires_grad=True)
    b = torch.zeros(k, dtype=torch.float64, requires_grad=fit_intercept)
    groups = [{"params": [W], "weight_decay": weight_decay}]
    if fit_intercept:
        groups.append({"params": [b], "weight_decay": 0.0})
    optimizer = torch.optim.SGD(groups, lr=lr, momentum=momentum, dampening=dampening,
                                nesterov=nesterov)
    scheduler = (None if lr_lambda is None
                 else torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda))
    losses, params = [], []
    for _ in range(epochs):
        sse = 0.0
        for start in range(0, n, batch_size):
            rows = slice(start, start + batch_size)
            optimizer.zero_grad()
            loss = ((X_t[rows] @ W + b - Y_t[rows]) ** 2).mean()
            loss.backward()
            optimizer.step()
            sse += loss.item() * Y_t[rows].numel()
        losses.append(sse / Y_t.numel())
        params.append((W.detach().numpy().copy(), b.detach().numpy().copy()))
        if scheduler is not None:
            scheduler.step()
    return np.array(losses), params


def linreg_train(model, X, Y):
    """Fit with a callback that records (coef_, intercept_) after every epoch."""
    recorded = []

    def record(epoch, loss, fitted):
        recorded.append((np.array(fitted.coef_, copy=True), np.array(fitted.intercept_)))

    model.set_params(callback=record).fit(X, Y)
    return model.loss_curve_, recorded


def assert_same_trajectory(ours, theirs, y_1d):
    losses, recorded = ours
    torch_losses, torch_params = theirs
    np.testing.assert_allclose(losses, torch_losses, rtol=RTOL)
    assert len(recorded) == len(torch_params)
    for epoch, ((coef, intercept), (W, b)) in enumerate(zip(recorded, torch_params), 1):
        W_expected = W[:, 0] if y_1d else W.T
        b_expected = b[0] if y_1d else b
        np.testing.assert_allclose(coef, W_expected, rtol=RTOL, atol=RTOL * np.abs(W).max(),
                                   err_msg=f"coef_ after epoch {epoch}")
        np.testing.assert_allclose(intercept, b_expected, rtol=RTOL,
                                   atol=RTOL * max(np.abs(b).max(), 1e-300),
                                   err_msg=f"intercept_ after epoch {epoch}")


def mapped(options):
    """linreg's parameters for torch.optim.SGD's options."""
    momentum, dampening, nesterov, weight_decay = options
    return dict(momentum=momentum, dampening=dampening, nesterov=nesterov,
                penalty="l2" if weight_decay else None, alpha=weight_decay)


@pytest.mark.parametrize("k", [None, 2], ids=["y1d", "k2"])
@pytest.mark.parametrize("method", ["fused", "gram"])
@pytest.mark.parametrize("name", list(OPTIONS))
def test_gd_follows_torch_sgd(name, method, k):
    X, Y = problem(80, k=k)
    options = OPTIONS[name]
    theirs = torch_train(X, Y, 0.05, options, 30, batch_size=len(X))
    model = linreg.GDRegressor(lr=0.05, epochs=30, method=method, precondition=False,
                               **mapped(options))
    assert_same_trajectory(linreg_train(model, X, Y), theirs, k is None)
    assert model.t_ == 30


@pytest.mark.parametrize("k", [None, 2], ids=["y1d", "k2"])
@pytest.mark.parametrize("name", list(OPTIONS))
def test_mini_batch_sgd_follows_torch_sgd(name, k):
    X, Y = problem(90, k=k)
    options = OPTIONS[name]
    theirs = torch_train(X, Y, 0.02, options, 6, batch_size=16)  # a short last batch
    model = linreg.SGDRegressor(lr=0.02, epochs=6, batch_size=16, shuffle=False,
                                precondition=False, **mapped(options))
    assert_same_trajectory(linreg_train(model, X, Y), theirs, k is None)
    assert model.t_ == 6 * 6


@pytest.mark.parametrize("k", [None, 2], ids=["y1d", "k2"])
@pytest.mark.parametrize("name", list(OPTIONS))
def test_per_sample_sgd_follows_torch_sgd_with_batches_of_one(name, k):
    X, Y = problem(50, k=k)
    options = OPTIONS[name]
    theirs = torch_train(X, Y, 0.01, options, 3, batch_size=1)
    model = linreg.SGDRegressor(lr=0.01, epochs=3, batch_size=1, shuffle=False,
                                precondition=False, **mapped(options))
    assert_same_trajectory(linreg_train(model, X, Y), theirs, k is None)


@pytest.mark.parametrize("batch_size", [1, 16, None], ids=["per-sample", "batch16", "gd"])
def test_without_an_intercept_b_is_a_constant_in_torch_too(batch_size):
    X, Y = problem(64)
    options = OPTIONS["nesterov-decay"]
    if batch_size is None:
        theirs = torch_train(X, Y, 0.05, options, 10, len(X), fit_intercept=False)
        model = linreg.GDRegressor(lr=0.05, epochs=10, precondition=False,
                                   fit_intercept=False, **mapped(options))
    else:
        theirs = torch_train(X, Y, 0.01, options, 3, batch_size, fit_intercept=False)
        model = linreg.SGDRegressor(lr=0.01, epochs=3, batch_size=batch_size, shuffle=False,
                                    precondition=False, fit_intercept=False, **mapped(options))
    assert_same_trajectory(linreg_train(model, X, Y), theirs, False)


def test_warm_start_is_one_torch_optimizer_across_fits():
    # torch keeps its momentum buffer across loops over the data; so do warm fits.
    X, Y = problem(80)
    options = OPTIONS["momentum-dampening-decay"]
    torch_losses, torch_params = torch_train(X, Y, 0.05, options, 20, batch_size=len(X))
    model = linreg.GDRegressor(lr=0.05, epochs=8, precondition=False, warm_start=True,
                               **mapped(options)).fit(X, Y)
    model.set_params(epochs=12).fit(X, Y)
    np.testing.assert_allclose(model.loss_curve_, torch_losses, rtol=RTOL)
    np.testing.assert_allclose(model.coef_, torch_params[-1][0].T, rtol=RTOL)


#: Callable lr_schedule factors, as torch's LambdaLR takes them.
LAMBDAS = {
    "step": lambda epoch: 0.5 ** (epoch // 4),
    "warm-up-then-cosine": lambda epoch: min(1.0, (epoch + 1) / 3) * 0.5 * (
        1 + np.cos(np.pi * epoch / 12)),
}


@pytest.mark.parametrize("batch_size", [None, 16, 1], ids=["gd", "batch16", "per-sample"])
@pytest.mark.parametrize("schedule", list(LAMBDAS))
def test_a_callable_lr_schedule_is_torchs_lambda_lr(schedule, batch_size):
    X, Y = problem(64)
    options = OPTIONS["nesterov-decay"]
    lr_lambda = LAMBDAS[schedule]
    epochs = 12 if batch_size is None else 5
    theirs = torch_train(X, Y, 0.05, options, epochs, batch_size or len(X),
                         lr_lambda=lr_lambda)
    if batch_size is None:
        model = linreg.GDRegressor(lr=0.05, epochs=epochs, precondition=False,
                                   lr_schedule=lr_lambda, **mapped(options))
    else:
        model = linreg.SGDRegressor(lr=0.05, epochs=epochs, batch_size=batch_size,
                                    shuffle=False, precondition=False, lr_schedule=lr_lambda,
                                    **mapped(options))
    assert_same_trajectory(linreg_train(model, X, Y), theirs, False)
