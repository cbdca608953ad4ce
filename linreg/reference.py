"""Plain-NumPy twins of the kernels in `linreg.kernels`, with the same signatures.

They are the oracle of the tests and the baseline of the benchmarks, so they are written
the way a NumPy expert would write them: BLAS for the products, in-place operations and
`out=` instead of temporaries, and work in the input dtype. They do no argument checking:
call them with arguments that `linreg.kernels` would accept as they are (float32 or
float64 arrays of matching dtypes, X 2-D, 1-D W with 1-D Y, b of shape (n_outputs,)).

The loss is the mean over all n*k entries of R**2 with R = XW + b - Y; its gradients are
dW = 2/(n k) X^T R and db = 2/(n k) sum_i R_i.
"""
import numpy as np

from linreg._structs import GramStatistics

__all__ = [
    "loss_and_grad",
    "predict",
    "gd_epochs",
    "sgd_epoch",
    "sgd_epochs",
    "shuffle",
    "gram_statistics",
    "gd_epochs_gram",
    "precondition",
    "gd_train",
    "sgd_train",
    "sgd_sklearn_rule",
    "sklearn_optimal_t0",
]


def loss_and_grad(X, Y, W, b, grad_W, grad_b, sample_weight=None):
    """Loss, with dL/dW written into grad_W and dL/db into grad_b; see linreg.kernels."""
    R = X @ W  # the one temporary, (n,) or (n, k)
    R += b
    R -= Y
    if sample_weight is None:
        total = R.size
        weighted = R
    else:
        total = float(np.sum(sample_weight)) * (R.size // R.shape[0])
        weighted = R * (sample_weight if R.ndim == 1 else sample_weight[:, None])
    scale = 2.0 / total
    loss = float(np.vdot(weighted, R)) / total
    np.matmul(X.T, weighted, out=grad_W)
    grad_W *= scale
    if R.ndim == 1:
        grad_b[0] = weighted.sum()
    else:
        weighted.sum(axis=0, out=grad_b)
    grad_b *= scale
    return loss


def predict(X, W, b, out=None):
    """XW + b, into `out` when given; see linreg.kernels."""
    out = np.matmul(X, W, out=out)
    out += b
    return out


def _step_if_finite(W, b, lr, grad_W, grad_b):
    """W -= lr * grad_W and b -= lr * grad_b unless a new value would be non-finite.

    Overwrites the gradients with the new values; returns whether the step was applied.
    """
    grad_W *= -lr
    grad_W += W
    grad_b *= -lr
    grad_b += b
    if not (np.isfinite(grad_W).all() and np.isfinite(grad_b).all()):
        return False
    W[...] = grad_W
    b[...] = grad_b
    return True


def _should_stop(loss, early_stop):
    """scikit-learn's stopping rule on a `linreg.kernels.new_early_stop` state."""
    if early_stop is None:
        return False
    tol, patience = early_stop["tol"][0], early_stop["n_iter_no_change"][0]
    best = early_stop["best_loss"][0]
    early_stop["bad_epochs"] = early_stop["bad_epochs"][0] + 1 if loss > best - tol else 0
    early_stop["best_loss"] = min(best, loss)
    early_stop["stopped"] = early_stop["bad_epochs"][0] >= patience
    return bool(early_stop["stopped"][0])


def gd_epochs(X, Y, W, b, lr, loss_out, *, early_stop=None):
    """Up to len(loss_out) full-batch GD epochs in place; see linreg.kernels."""
    grad_W = np.empty_like(W)
    grad_b = np.empty_like(b)
    for epoch in range(loss_out.shape[0]):
        loss = loss_and_grad(X, Y, W, b, grad_W, grad_b)
        loss_out[epoch] = loss
        if not np.isfinite(loss) or not _step_if_finite(W, b, lr, grad_W, grad_b):
            return epoch
        if _should_stop(loss, early_stop):
            return epoch + 1
    return loss_out.shape[0]


def sgd_epoch(X, Y, W, b, lr, order=None, batch_size=1):
    """One epoch of (mini-batch) SGD in place, returning its mean loss; see linreg.kernels."""
    rows = np.arange(X.shape[0]) if order is None else order
    if batch_size == 1:
        # Per-sample updates are not checked one by one: keep the epoch's start and
        # restore it if the epoch ends with non-finite parameters.
        W_start, b_start = W.copy(), b.copy()
        if Y.ndim == 1:
            loss = _sgd_per_sample_1d(X, Y, W, b, lr, rows)
        else:
            loss = _sgd_batches(X, Y, W, b, lr, rows, 1)
        if not (np.isfinite(W).all() and np.isfinite(b).all()):
            W[...] = W_start
            b[...] = b_start
            return np.inf
        return loss
    return _sgd_batches(X, Y, W, b, lr, rows, batch_size)


def _sgd_batches(X, Y, W, b, lr, rows, batch_size):
    """SGD with one update per batch of rows, each checked before it is applied."""
    n_outputs = 1 if Y.ndim == 1 else Y.shape[1]
    grad_W = np.empty_like(W)
    grad_b = np.empty_like(b)
    sse = 0.0
    for start in range(0, rows.shape[0], batch_size):
        batch = rows[start : start + batch_size]
        loss = loss_and_grad(X[batch], Y[batch], W, b, grad_W, grad_b)
        if not np.isfinite(loss):
            return loss
        sse += loss * (batch.shape[0] * n_outputs)
        if not _step_if_finite(W, b, lr, grad_W, grad_b):
            return np.inf
    return sse / (rows.shape[0] * n_outputs)


def sgd_epochs(X, Y, W, b, lr, loss_out, *, order=None, batch_size=1, rng_state=None,
               early_stop=None):
    """Up to len(loss_out) SGD epochs in place, shuffling `order` each epoch when
    rng_state is given; see linreg.kernels."""
    for epoch in range(loss_out.shape[0]):
        if rng_state is not None:
            shuffle(order, rng_state)
        loss = sgd_epoch(X, Y, W, b, lr, order, batch_size)
        loss_out[epoch] = loss
        if not np.isfinite(loss):
            return epoch
        if _should_stop(loss, early_stop):
            return epoch + 1
    return loss_out.shape[0]


_MASK64 = (1 << 64) - 1


def _splitmix64(state):
    """Next output of splitmix64 on the Python-int state [s]; advances it."""
    state[0] = (state[0] + 0x9E3779B97F4A7C15) & _MASK64
    z = state[0]
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def shuffle(order, rng_state):
    """Fisher-Yates shuffle of `order` in place, driven by splitmix64 (uint64 rng_state[0])."""
    state = [int(rng_state[0])]
    for i in range(order.shape[0] - 1, 0, -1):
        j = _splitmix64(state) % (i + 1)
        order[i], order[j] = order[j], order[i]
    rng_state[0] = state[0]


def _sgd_per_sample_1d(X, y, w, b, lr, rows):
    """Per-sample SGD for one output: the hand-written loop a NumPy user would write."""
    step = 2.0 * lr
    sse = 0.0
    for i in rows:
        x = X[i]
        r = x.dot(w) + b[0] - y[i]
        if not np.isfinite(r):
            return r
        sse += r * r
        c = step * r
        w -= c * x
        b[0] -= c
    return float(sse) / rows.shape[0]


def gram_statistics(X, Y, sample_weight=None):
    """The centred statistics of (X, Y) in float64; see linreg.kernels.gram_statistics.

    The reference point is the least-squares solution (min-norm), in X's dtype.
    """
    y_1d = Y.ndim == 1
    Y2 = Y.reshape(X.shape[0], -1)
    w = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, float)
    total = float(w.sum())
    mean_X = (w @ X.astype(np.float64)) / total
    mean_Y = (w @ Y2.astype(np.float64)) / total
    Xc = X - mean_X  # float64, a full copy: fine for an oracle
    Yc = Y2 - mean_Y
    XtX, XtY = (Xc.T * w) @ Xc, (Xc.T * w) @ Yc
    ref_W = np.linalg.lstsq(XtX, XtY, rcond=None)[0].astype(X.dtype).astype(np.float64)
    R = Xc @ ref_W - Yc
    return GramStatistics(X.shape[0], mean_X, mean_Y, XtX, XtY, float(np.vdot(Yc * w[:, None], Yc)),
                          y_1d, ref_W, XtX @ ref_W - XtY, float(np.vdot(R * w[:, None], R)), total)


def gd_epochs_gram(stats, W, b, lr, loss_out, *, early_stop=None):
    """GD epochs from the statistics; see linreg.kernels.gd_epochs_gram.

    With c0 = W^T mean_X + b - mean_Y and D = W - ref_W: X^T R = XtX D + ref_grad +
    n mean_X c0^T, sum_i R_i = n c0, and sum R^2 = max(ref_sse + <D, 2 ref_grad + XtX D>,
    0) + n |c0|^2 (the expansion that does not cancel, see linreg/_kernels/gram.pxi).
    """
    n = stats.weight_total
    W2 = W.reshape(stats.XtY.shape[0], -1)
    nk = n * W2.shape[1]
    grad_W = np.empty_like(W)
    grad_b = np.empty_like(b)
    for epoch in range(loss_out.shape[0]):
        Wd = W2.astype(np.float64)
        c0 = Wd.T @ stats.mean_X + b - stats.mean_Y
        D = Wd - stats.ref_W
        GD = stats.XtX @ D
        centred = stats.ref_sse + np.vdot(D, 2.0 * stats.ref_grad + GD)
        sse = max(centred, 0.0) + n * np.vdot(c0, c0)
        loss = sse / nk
        loss_out[epoch] = loss
        grad_W[...] = ((GD + stats.ref_grad + n * np.outer(stats.mean_X, c0)) * (2.0 / nk)).reshape(W.shape)
        grad_b[...] = n * c0 * (2.0 / nk)
        if not np.isfinite(loss) or not _step_if_finite(W, b, lr, grad_W, grad_b):
            return epoch
        if _should_stop(loss, early_stop):
            return epoch + 1
    return loss_out.shape[0]


# -- the step rules of linreg/_kernels/step.pxi --------------------------------------------


def precondition(grad_W, grad_b, centre, inv_var, fit_intercept=True):
    """The step direction of GD on centred, scaled features, mapped back to (W, b).

    grad_W (d, k) and grad_b (k,) in float64; returns (q, g_b - centre.q) where
    q = (grad_W - centre grad_b) * inv_var (see `_precondition` in step.pxi). Without an
    intercept the features are only scaled: (grad_W * inv_var, 0).
    """
    if not fit_intercept:
        return grad_W * inv_var[:, None], np.zeros_like(grad_b)
    q = (grad_W - np.outer(centre, grad_b)) * inv_var[:, None]
    return q, grad_b - centre @ q


class _Direction:
    """The step direction of `_direction` in step.pxi, with its velocity: the loss
    gradient + l2 W (never b), b's part zeroed without an intercept, preconditioned, then
    torch.optim.SGD's momentum (the first step sets the velocity to the gradient)."""

    def __init__(self, rule, centre, inv_var):
        self.rule, self.centre, self.inv_var = rule, centre, inv_var
        self.velocity = None

    def __call__(self, g_W, g_b, W):
        rule = self.rule
        if rule.l2:
            g_W = g_W + rule.l2 * W
        if not rule.fit_intercept:
            g_b = np.zeros_like(g_b)
        if rule.precondition:
            g_W, g_b = precondition(g_W, g_b, self.centre, self.inv_var, rule.fit_intercept)
        g = np.vstack([g_W, g_b[None, :]])
        if rule.momentum:
            self.velocity = g.copy() if self.velocity is None else (
                rule.momentum * self.velocity + (1.0 - rule.dampening) * g)
            g = g + rule.momentum * self.velocity if rule.nesterov else self.velocity
        return g[:-1], g[-1]


def gd_train(X, Y, W, b, rule, n_epochs, centre=None, inv_var=None, lr_factors=None):
    """`n_epochs` full-batch GD epochs with a `linreg._structs.StepRule` (its lr,
    momentum, dampening, nesterov, precondition, l2, fit_intercept), in float64; W (d, k),
    b (k,) updated in place. Returns the losses. The NumPy twin of the compiled loop with
    these options. `lr_factors` (one per epoch): epoch e steps with lr * lr_factors[e] (a
    callable lr_schedule, as torch's LambdaLR)."""
    direction = _Direction(rule, centre, inv_var)
    losses = []
    for epoch in range(n_epochs):
        lr = rule.lr * (1.0 if lr_factors is None else lr_factors[epoch])
        R = X @ W + b - Y
        losses.append(float(np.vdot(R, R)) / R.size)
        g_W, g_b = direction((2.0 / R.size) * (X.T @ R), (2.0 / R.size) * R.sum(axis=0), W)
        W -= lr * g_W
        b -= lr * g_b
    return np.array(losses)


def sgd_train(X, Y, W, b, rule, n_epochs, centre=None, inv_var=None, lr_factors=None):
    """SGD in natural order with a StepRule (lr, batch_size, momentum, dampening,
    nesterov, precondition, l2, fit_intercept, average_start), in float64. Returns
    (losses, W_average, b_average); W (d, k), b (k,) updated in place. The average is of
    the iterates after update number average_start (None without).

    Per sample without momentum, L2 is scikit-learn's decay W *= max(0, 1 - lr l2)
    before the sample's update (with preconditioning it is the dense direction's
    + l2 W); with momentum, and for batches, the direction is gd_train's. `lr_factors`
    as in gd_train, one per epoch."""
    n, k = Y.shape
    direction = _Direction(rule, centre, inv_var)
    W_avg, b_avg, averaged, t = np.zeros_like(W), np.zeros_like(b), 0, 0
    dense = rule.batch_size > 1 or rule.momentum or (rule.precondition and rule.l2)
    losses = []
    for epoch in range(n_epochs):
        lr = rule.lr * (1.0 if lr_factors is None else lr_factors[epoch])
        sse = 0.0
        for start in range(0, n, rule.batch_size):
            rows = slice(start, start + rule.batch_size)
            R = X[rows] @ W + b - Y[rows]
            sse += float(np.vdot(R, R))
            g_W, g_b = (2.0 / R.size) * (X[rows].T @ R), (2.0 / R.size) * R.sum(axis=0)
            if dense:
                g_W, g_b = direction(g_W, g_b, W)
            else:
                if rule.precondition:
                    g_W, g_b = precondition(g_W, g_b, centre, inv_var, rule.fit_intercept)
                if rule.l2:
                    W *= max(0.0, 1.0 - lr * rule.l2)
                if not rule.fit_intercept:
                    g_b = np.zeros_like(g_b)
            W -= lr * g_W
            b -= lr * g_b
            t += 1
            if 0 <= rule.average_start < t:
                averaged += 1
                W_avg += (W - W_avg) / averaged
                b_avg += (b - b_avg) / averaged
        losses.append(sse / (n * k))
    if not averaged:
        return np.array(losses), None, None
    return np.array(losses), W_avg, b_avg


# -- scikit-learn's per-sample SGD, in linreg's units ---------------------------------------


def sklearn_optimal_t0(alpha):
    """scikit-learn's t0 of learning_rate="optimal" for the squared loss, for linreg's
    alpha (scikit-learn's alpha is half of it): the t at which the step starts."""
    alpha_sk = alpha / 2.0
    typw = np.sqrt(1.0 / np.sqrt(alpha_sk))
    # scikit-learn divides typw by max(1, dloss(y=1, p=-typw)); the squared loss's dloss
    # is p - y = -typw - 1 < 1 there, so the initial step is typw itself.
    initial_eta0 = typw
    return 1.0 / (initial_eta0 * alpha_sk)


def sgd_sklearn_rule(X, y, w, b, *, lr, epochs, penalty=None, alpha=0.0001, l1_ratio=0.15,
                     schedule="constant", power_t=0.25, average=0, sample_weight=None,
                     fit_intercept=True, tol=None, n_iter_no_change=5):
    """Per-sample SGD on one output in natural order, in float64, with scikit-learn's
    update order and bookkeeping (sklearn/linear_model/_sgd_fast.pyx.tp and its
    WeightVector), in linreg's units: the loss (p - y)^2 + alpha R(w), so scikit-learn's
    eta is 2 * lr_t and its alpha is alpha / 2.

    w is kept as scale * v (the L2 shrink is O(1): scale *= max(0, 1 - (1 - l1_ratio)
    lr_t alpha)); for each sample, t counted from 1: p = x.w + b; u = -2 lr_t (p - y) s
    (s the sample's weight); v += x u / scale; b += u; the average (from update
    `average`) is kept lazily as (a_w + a v) / a_b, Bottou's trick, which sees changes
    of v through the adds only; then the L1 part truncates each weight towards zero by
    the cumulative penalty (Tsuruoka et al., 2009). "adaptive" divides lr by 5 after
    n_iter_no_change epochs without improving the epoch's mean loss by tol (scikit-
    learn's tol is tol / 2 here). w (d,) and b (1,) are updated in place.

    An epoch's loss is linreg's: the weighted mean sum_i s_i (p_i - y_i)^2 / sum_i s_i
    (scikit-learn's stopping rule judges the unweighted mean; the two agree without
    weights).

    Returns (losses, w_average, b_average, epochs_run); the averages are None without
    averaging.
    """
    n, d = X.shape
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    rho = {None: 0.0, "l2": 0.0, "l1": 1.0, "elasticnet": l1_ratio}[penalty]
    shrinks = penalty in ("l2", "elasticnet")
    truncates = penalty in ("l1", "elasticnet")
    t0 = sklearn_optimal_t0(alpha) if schedule == "optimal" else 0.0
    v, scale = w.astype(float).copy(), 1.0
    a_w, a_a, a_b, b_avg = np.zeros(d), 0.0, 1.0, 0.0
    q = np.zeros(d)  # the L1 penalty each weight has received
    u_l1 = 0.0  # the L1 penalty each weight could have received
    t, eta_factor = 1, 1.0
    best, bad = np.inf, 0
    losses = []

    def reset_scale():
        nonlocal scale, a_w, a_a, a_b
        if average:
            a_w = (a_w + a_a * v) / a_b
            a_a, a_b = 0.0, 1.0
        v[:] *= scale
        scale = 1.0

    epochs_run = epochs
    for epoch in range(epochs):
        sse = 0.0
        for i in range(n):
            p = scale * (X[i] @ v) + b[0]
            if schedule == "optimal":
                lr_t = 1.0 / (alpha * (t0 + t - 1))
            elif schedule == "invscaling":
                lr_t = lr / t**power_t
            else:
                lr_t = lr * eta_factor
            sse += s[i] * (p - y[i]) ** 2
            update = -2.0 * lr_t * float(np.clip(p - y[i], -1e12, 1e12)) * s[i]
            if shrinks:
                scale *= max(0.0, 1.0 - (1.0 - rho) * lr_t * alpha)
                if scale < 1e-9:
                    reset_scale()
            if update != 0.0:
                v += X[i] * (update / scale)
            if fit_intercept:
                b[0] += update
            if 0 < average <= t:
                count = t - average + 1
                a_w += a_a * X[i] * (-update / scale)
                if count > 1:
                    a_b /= 1.0 - 1.0 / count
                a_a += (1.0 / count) * a_b * scale
                b_avg += (b[0] - b_avg) / count
            if truncates:
                u_l1 += rho * lr_t * alpha
                before = v.copy()
                positive, negative = scale * v > 0, scale * v < 0
                v[positive] = np.maximum(0.0, v[positive] - (u_l1 + q[positive]) / scale)
                v[negative] = np.minimum(0.0, v[negative] + (u_l1 - q[negative]) / scale)
                q += scale * (v - before)
            t += 1
        loss = sse / s.sum()
        losses.append(loss)
        if tol is not None:
            bad = bad + 1 if loss > best - tol else 0
            best = min(best, loss)
            if bad >= n_iter_no_change:
                if schedule == "adaptive" and 2.0 * lr * eta_factor > 1e-6:
                    eta_factor /= 5.0
                    bad = 0
                else:
                    epochs_run = epoch + 1
                    break
    reset_scale()
    w[:] = v
    if not average:
        return np.array(losses), None, None, epochs_run
    return np.array(losses), a_w, np.array([b_avg]), epochs_run


def fista_train(X, Y, W, b, *, lr, momentum, l1, n_epochs, batch_size=None):
    """GD (or mini-batches of batch_size rows, in order) with an L1 penalty l1 |W|_1 by
    FISTA with a constant momentum, in float64, without preconditioning: the gradient of
    the batch's MSE at y, x' = soft_threshold(y - lr g, lr l1) (W only, never b), then
    y = x' + momentum (x' - x). W (d, k) and b (k,) end as the last x, updated in place.
    Returns the epochs' losses (each the mean of its batches' losses at y, weighted by
    their sizes). The NumPy twin of `_fista_step` in linreg/_kernels/step.pxi."""
    n = X.shape[0]
    batch_size = batch_size or n
    x_W, x_b = W.copy(), b.copy()
    y_W, y_b = W.copy(), b.copy()
    losses = []
    for _ in range(n_epochs):
        sse = 0.0
        for start in range(0, n, batch_size):
            rows = slice(start, start + batch_size)
            R = X[rows] @ y_W + y_b - Y[rows]
            sse += float(np.vdot(R, R))
            g_W, g_b = (2.0 / R.size) * (X[rows].T @ R), (2.0 / R.size) * R.sum(axis=0)
            c_W, c_b = y_W - lr * g_W, y_b - lr * g_b
            new_W = np.sign(c_W) * np.maximum(np.abs(c_W) - lr * l1, 0.0)
            y_W, y_b = new_W + momentum * (new_W - x_W), c_b + momentum * (c_b - x_b)
            x_W, x_b = new_W, c_b
        losses.append(sse / Y.size)
    W[...] = x_W
    b[...] = x_b
    return np.array(losses)
