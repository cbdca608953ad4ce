"""Training over data held in blocks of rows (Dask workers, or chunks read one at a
time): the work each block does where it lives, how results are merged, and the solvers
`linreg.training.run_epochs` drives.

- Gram statistics: each block's centred sums from the compiled kernel, merged with Chan
  et al.'s formula for centred sums (exact algebra: the sums are re-centred on the
  merged means), then the reference point of the loss expansion (see gram.pxi) from the
  merged sums, with one more pass over the blocks only when the fit is nearly exact.
  GD then runs locally on `linreg.solvers.GramGD`: one pass over the data for any number
  of epochs.
- Fused GD (`BlockedFusedGD`): per epoch, each block's residual sums at the current
  model (`gradient_sums`, compiled), summed in a fixed tree, then the step on the caller's
  side with the in-memory step function (`gd_step_from_sums`): every option works.
- SGD (`BlockedSGD`): per epoch, the model goes through the blocks in order (`sgd_pass`
  on each), a partial batch carried from one block to the next, so that in order it
  trains exactly as on the concatenated rows.

Every block function checks its block (finite, shapes), since a Dask block is first
seen on its worker.
"""
from typing import NamedTuple

import numpy as np

from linreg import _compiled
from linreg._gram import check_gram_features, statistics_with_reference
from linreg._structs import TRAINING_STATE, Outcome, gradient_slot, reported_slot
from linreg._validation import all_finite, as_data_matrix, as_targets

__all__ = ["CentredSums", "block_arrays", "block_centred_sums", "merge_centred_sums",
           "blocked_gram_statistics", "blocked_moments", "blocked_row_norms",
           "blocked_gradient", "total_weight", "largest_weight", "BlockedFusedGD", "BlockedSGD", "placeholder_problem"]


class CentredSums(NamedTuple):
    """Sums of some rows about their own (weighted) means."""

    n_samples: int
    total: float  # the summed weights (n_samples without weights)
    mean_X: np.ndarray  # (d,)
    mean_Y: np.ndarray  # (k,)
    XtX: np.ndarray  # (d, d)
    XtY: np.ndarray  # (d, k)
    yy: float


def block_arrays(X, Y, w, dtype):
    """A block as the kernels take it: X C-contiguous in `dtype`, Y 2-D, weights float64
    or None; ValueError for non-finite values or negative weights."""
    X = as_data_matrix(X)
    if X.dtype != dtype or not X.flags.c_contiguous:
        # One block at a time (a Fortran-ordered block: a data frame's partition): the
        # block kernels read rows.
        X = np.ascontiguousarray(X, dtype=dtype)
    if not all_finite(X):
        raise ValueError("X contains NaN or infinity")
    if Y is not None:
        Y = as_targets(Y, X.shape[0], dtype, name="y").reshape(X.shape[0], -1)
        if not all_finite(Y):
            raise ValueError("y contains NaN or infinity")
    if w is not None:
        w = np.ascontiguousarray(np.asarray(w, dtype=np.float64).reshape(-1))
        if w.shape[0] != X.shape[0]:
            raise ValueError(f"sample_weight has {w.shape[0]} entries for {X.shape[0]} rows")
        # One compiled read, as check_sample_weight (a block's weights may all be zero).
        status = _compiled.build.weights_status(w)
        if status == 1:
            raise ValueError("sample_weight contains NaN or infinity")
        if status == 2:
            raise ValueError("sample_weight must be non-negative")
    return X, Y, w


def _weight_total(w, n):
    return float(n) if w is None else float(np.sum(w))


def block_weight_total(X, w, dtype):
    """The block's summed weights, as an array of one value."""
    X, _, w = block_arrays(X, None, w, dtype)
    return np.array([_weight_total(w, X.shape[0])])


def total_weight(blocks):
    """The weights of every block, summed (ValueError when that is not positive); the
    row count without weights."""
    if not blocks.has_weights:
        return float(blocks.n_samples)
    total = float(blocks.tree_reduce(block_weight_total, _add, blocks.dtype,
                                     with_targets=False)[0])
    if not total > 0:
        raise ValueError("sample_weight sums to zero: no sample would count")
    return total


def block_largest_weight(X, w, dtype):
    X, _, w = block_arrays(X, None, w, dtype)
    return np.array([0.0 if w is None or w.shape[0] == 0 else float(w.max())])


def largest_weight(blocks):
    """The largest sample weight of any block (1 without weights)."""
    if not blocks.has_weights:
        return 1.0
    return float(blocks.tree_reduce(block_largest_weight, np.maximum, blocks.dtype,
                                    with_targets=False)[0])


# -- Gram statistics --------------------------------------------------------------------

def block_centred_sums(X, Y, w, dtype, n_threads):
    """The block's CentredSums (None for a block without weight), from the compiled
    `gram_statistics` kernel: no reference point per block (the merged one is taken)."""
    X, Y, w = block_arrays(X, Y, w, dtype)
    total = _weight_total(w, X.shape[0])
    if X.shape[0] == 0 or total == 0:
        return None
    d, k = X.shape[1], Y.shape[1]
    mean_X, mean_Y = np.empty(d), np.empty(k)
    XtX, XtY = np.empty((d, d)), np.empty((d, k))
    yy = float(_compiled.build.gram_statistics(X, Y, mean_X, mean_Y, XtX, XtY, n_threads, w))
    return CentredSums(X.shape[0], total, mean_X, mean_Y, XtX, XtY, yy)


def merge_centred_sums(a, b):
    """The CentredSums of the rows of a and b together (Chan et al.): with weights
    n_a, n_b and delta = mean_b - mean_a, the means move by delta n_b / n and every
    centred cross-product gains delta delta^T n_a n_b / n."""
    if a is None or b is None:
        return a if b is None else b
    n = a.total + b.total
    dx, dy = b.mean_X - a.mean_X, b.mean_Y - a.mean_Y
    f = a.total * b.total / n
    return CentredSums(
        a.n_samples + b.n_samples, n,
        a.mean_X + dx * (b.total / n), a.mean_Y + dy * (b.total / n),
        a.XtX + b.XtX + f * np.outer(dx, dx), a.XtY + b.XtY + f * np.outer(dx, dy),
        a.yy + b.yy + f * float(dy @ dy))


def block_residual_sum(X, Y, w, dtype, mean_X, mean_Y, A, n_threads):
    """The block's part of |Xc A - Yc|^2 about the merged means (weighted), as an array
    of one value (so that merging is addition)."""
    X, Y, w = block_arrays(X, Y, w, dtype)
    if X.shape[0] == 0:
        return np.zeros(1)
    return np.array([_compiled.build.centred_residual_sum(X, Y, mean_X, mean_Y, A, n_threads,
                                                          w)])


def _add(a, b):
    return a + b


def blocked_gram_statistics(blocks, n_threads):
    """The GramStatistics of all blocks: one pass for the merged centred sums, and a
    second only when the best fit is nearly exact (see linreg._gram)."""
    check_gram_features(blocks.n_features)
    sums = blocks.tree_reduce(block_centred_sums, merge_centred_sums, blocks.dtype, n_threads)
    if sums is None:
        raise ValueError("sample_weight sums to zero: no sample would count")

    def residual_sum(a):
        return float(blocks.tree_reduce(block_residual_sum, _add, blocks.dtype, sums.mean_X,
                                        sums.mean_Y, np.ascontiguousarray(a), n_threads)[0])

    return statistics_with_reference(sums.n_samples, sums.mean_X, sums.mean_Y, sums.XtX,
                                     sums.XtY, sums.yy, blocks.y_1d, sums.total, residual_sum)


# -- column moments and row norms (the preconditioner and lr="auto") --------------------

def block_moments(X, Y, w, dtype, of_targets, n_threads):
    """(total weight, mean, centred sum of squares) of X's columns (Y's: of_targets)."""
    X, Y, w = block_arrays(X, Y, w, dtype)
    A = np.ascontiguousarray(Y) if of_targets else X
    total = _weight_total(w, A.shape[0])
    if A.shape[0] == 0 or total == 0:
        return None
    mean, var = np.empty(A.shape[1]), np.empty(A.shape[1])
    _compiled.build.column_moments(A, mean, var, n_threads, w)
    return total, mean, var * total


def _merge_moments(a, b):
    """Chan et al.'s merge of (total, mean, centred sum of squares)."""
    if a is None or b is None:
        return a if b is None else b
    n = a[0] + b[0]
    delta = b[1] - a[1]
    return n, a[1] + delta * (b[0] / n), a[2] + b[2] + delta**2 * (a[0] * b[0] / n)


def blocked_moments(blocks, n_threads, of_targets=False, weighted=True):
    """(mean, variance) of every column of X (of Y with of_targets), merged over blocks;
    unweighted unless `weighted` (the in-memory paths use them so)."""
    merged = _tree_maybe_unweighted(blocks, weighted, block_moments, _merge_moments,
                                    blocks.dtype, of_targets, n_threads)
    if merged is None:
        raise ValueError("sample_weight sums to zero: no sample would count")
    total, mean, m2 = merged
    return mean, m2 / total


def _tree_maybe_unweighted(blocks, weighted, function, merge, *args):
    """blocks.tree_reduce, the blocks' weights ignored unless `weighted`."""
    if weighted or not blocks.has_weights:
        return blocks.tree_reduce(function, merge, *args)
    blocks.weights_on = False
    try:
        return blocks.tree_reduce(function, merge, *args)
    finally:
        blocks.weights_on = True


def block_row_norms(X, Y, w, dtype, centre, inv_var, n_threads):
    """(largest, summed, count) of the block's centred, scaled squared row norms."""
    X, _, _ = block_arrays(X, None, None, dtype)
    if X.shape[0] == 0:
        return np.zeros(3)
    largest, mean = _compiled.build.scaled_row_norms(X, centre, inv_var, n_threads)
    return np.array([largest, mean * X.shape[0], X.shape[0]])


def _merge_norms(a, b):
    return np.array([max(a[0], b[0]), a[1] + b[1], a[2] + b[2]])


def blocked_row_norms(blocks, scaling, n_threads):
    """(max, mean) of |z_i|^2 over the centred, scaled rows of every block."""
    largest, total, count = blocks.tree_reduce(block_row_norms, _merge_norms, blocks.dtype,
                                               scaling.centre, scaling.inv_var, n_threads)
    return float(largest), float(total / count)


# -- fused GD ---------------------------------------------------------------------------

def block_gradient_sums(X, Y, w, dtype, W, b, n_threads):
    """The block's residual sums at (W, b) (see gradient_sums in distributed.pxi)."""
    X, Y, w = block_arrays(X, Y, w, dtype)
    sums = np.zeros(W.shape[0] * W.shape[1] + W.shape[1] + 1)
    if X.shape[0]:
        _compiled.build.gradient_sums(X, Y[:, :W.shape[1]], W, b, sums, n_threads, w)
    return sums


def blocked_sums(blocks, W, b, n_threads, weighted=True):
    """gradient_sums over every block, summed in the fixed tree."""
    return _tree_maybe_unweighted(blocks, weighted, block_gradient_sums, _add, blocks.dtype,
                                  np.ascontiguousarray(W), np.ascontiguousarray(b), n_threads)


def blocked_gradient(blocks, weight_total, n_threads):
    """gradient(w, b) for `linreg._auto.power_lambda_max`: dL/dW of the (weighted)
    single-output loss on Y's first column, rounded to the data's dtype as
    `loss_and_grad` rounds it."""
    def gradient(w, b):
        d = w.shape[0]
        sums = blocked_sums(blocks, w, b, n_threads)
        return (2.0 / weight_total * sums[:d]).astype(blocks.dtype).astype(np.float64)
    return gradient


def _snapshot(model, slot, snapshots, every, first_epoch, epoch):
    """`_snapshot` of stopping.pxi: row s holds the (s+1)-th logged epoch of this call."""
    if snapshots is None or every <= 0 or epoch % every:
        return
    row = epoch // every - first_epoch // every - 1
    if 0 <= row < snapshots.shape[0]:
        snapshots[row] = model[slot].reshape(-1)


def placeholder_problem(n_features, n_outputs, dtype):
    """Zero-row X (0, d) and Y (0, k): what a solver needs of data it does not read (its
    shape and dtype), for `linreg.solvers.GramGD` given merged statistics."""
    return np.empty((0, n_features), dtype=dtype), np.empty((0, n_outputs), dtype=dtype)


class _BlockedSolver:
    """What the blocked solvers share with linreg.solvers' (see _Solver there)."""

    def __init__(self, blocks, settings, weight_total):
        self.blocks, self.settings = blocks, settings
        self.weight_total = float(weight_total)
        self._struct = settings.as_struct()

    def _check(self, model, state):
        d, k = self.blocks.n_features, self.blocks.n_outputs
        if (model.dtype != self.blocks.dtype or model.shape[1:] != (d + 1, k)
                or not model.flags.c_contiguous):
            raise TypeError("model must come from new_model, in X's dtype")
        if state.dtype != TRAINING_STATE or state.shape != (1,):
            raise TypeError("state must come from linreg._structs.new_training_state")

    @property
    def work_per_epoch(self):
        return self.blocks.n_samples * self.blocks.n_features * self.blocks.n_outputs


class BlockedFusedGD(_BlockedSolver):
    """Full-batch GD over blocks: one round trip per epoch (the model out, each block's
    d k + k + 1 sums back, added in a fixed tree), the step taken here."""

    def run(self, model, state, history):
        self._check(model, state)
        loss_out, snapshots = history.losses, history.snapshots
        d = model.shape[1] - 1
        first_epoch = int(state["epoch"][0])
        rule = self.settings.step
        for epoch in range(loss_out.shape[0]):
            if history.lr_factors is not None:  # a callable lr_schedule, as _gd_loop
                state["lr_factor"] = history.lr_factors[epoch]
            # The gradient's point: the parameters, or FISTA's extrapolated point.
            at = gradient_slot(rule, state)
            sums = blocked_sums(self.blocks, model[at, :d], model[at, d],
                                self.settings.n_threads)
            loss_out[epoch] = _compiled.build.gd_step_from_sums(
                model, self._struct, state, sums, self.weight_total)
            if state["outcome"][0] == Outcome.DIVERGED:
                break
            _snapshot(model, reported_slot(rule, state), snapshots,
                      self.settings.snapshot_every, first_epoch, int(state["epoch"][0]))
            if state["outcome"][0] == Outcome.CONVERGED:
                break
        return int(state["epoch"][0]) - first_epoch


# -- SGD --------------------------------------------------------------------------------

class _Carry(NamedTuple):
    """What moves from block to block in an SGD epoch: the model and its state, the rows
    of a batch begun in an earlier block (with their weights), and the squared
    residuals so far."""

    model: np.ndarray
    state: np.ndarray
    pending: object  # (X, Y, weights or None) of < batch_size rows, or None
    sse: float


def _rows(X, Y, w, rows):
    return X[rows], Y[rows], None if w is None else w[rows]


def _joined(a, b):
    """Two (X, Y, weights) parts one after the other."""
    weights = None if a[2] is None else np.concatenate([a[2], b[2]])
    return np.concatenate([a[0], b[0]]), np.concatenate([a[1], b[1]]), weights


def block_sgd(carry, X, Y, w, is_last, dtype, settings, shuffle_rows):
    """carry through one block: its rows (shuffled from the state's generator when
    shuffle_rows) in batches, the first completing the batch the carry holds, the last
    rows of a block carried on unless it is the epoch's last block."""
    if not np.isfinite(carry.sse):  # an earlier block stopped the epoch
        return carry
    X, Y, w = block_arrays(X, Y, w, dtype)
    model, state = carry.model.copy(), carry.state.copy()
    batch_size = settings["step"]["batch_size"]
    order = np.arange(X.shape[0], dtype=np.intp)
    if shuffle_rows and X.shape[0] > 1:
        rng = np.array([state["rng"][0]], dtype=np.uint64)
        _compiled.build.shuffle(order, rng)
        state["rng"] = rng[0]
    sse, pending, start = carry.sse, carry.pending, 0
    if pending is not None:  # complete the batch begun in an earlier block
        start = min(batch_size - pending[0].shape[0], X.shape[0])
        pending = _joined(pending, _rows(X, Y, w, order[:start]))
        if pending[0].shape[0] == batch_size or (is_last and start == X.shape[0]):
            sse += _compiled.build.sgd_pass(pending[0], pending[1], model, settings, state,
                                            None, pending[2])
            pending = None
    if start < X.shape[0] and np.isfinite(sse):
        rest = order[start:]
        whole = rest.shape[0] if is_last else rest.shape[0] // batch_size * batch_size
        if whole:
            in_order = not shuffle_rows and start == 0 and whole == X.shape[0]
            rows = None if in_order else np.ascontiguousarray(rest[:whole])
            sse += _compiled.build.sgd_pass(X, Y, model, settings, state, rows, w)
        if whole < rest.shape[0]:
            pending = _rows(X, Y, w, rest[whole:])
    return _Carry(model, state, pending, sse)


class BlockedSGD(_BlockedSolver):
    """SGD over blocks, the model moving from block to block in order (in a shuffled
    order of blocks, rows shuffled inside each, with settings.shuffle: not a global
    shuffle). In order, the same updates as SGD on the concatenated rows."""

    def run(self, model, state, history):
        self._check(model, state)
        loss_out, snapshots = history.losses, history.snapshots
        first_epoch = int(state["epoch"][0])
        settings, rule = self.settings, self.settings.step
        blocks = self.blocks
        total, k = self.weight_total, blocks.n_outputs
        state["outcome"] = Outcome.RUNNING
        for epoch in range(loss_out.shape[0]):
            if history.lr_factors is not None:  # a callable lr_schedule, as _sgd_loop
                state["lr_factor"] = history.lr_factors[epoch]
            order = np.arange(blocks.n_blocks, dtype=np.intp)
            if settings.shuffle and blocks.reorderable and blocks.n_blocks > 1:
                rng = np.array([state["rng"][0]], dtype=np.uint64)
                _compiled.build.shuffle(order, rng)
                state["rng"] = rng[0]
            at_start = (model.copy(), state.copy())
            carry = blocks.chain(block_sgd, _Carry(model, state, None, 0.0), order,
                                 blocks.dtype, self._struct, settings.shuffle)
            model[...] = carry.model
            state[...] = carry.state
            sse = carry.sse
            if rule.batch_size == 1 and not (np.isfinite(sse) and all_finite(model[0])):
                # A per-sample epoch that ends non-finite is rolled back, as _sgd_loop does.
                model[...], state[...] = at_start
                sse = np.inf
            loss = sse / (total * k)
            loss_out[epoch] = loss
            if not np.isfinite(loss):
                state["outcome"] = Outcome.DIVERGED
                break
            judged = loss
            slot = reported_slot(rule, state)
            if settings.stop.on_average and slot:
                d = model.shape[1] - 1
                sums = blocked_sums(blocks, model[slot, :d], model[slot, d], settings.n_threads)
                judged = sums[-1] / (total * k)
            converged = _compiled.build.end_sgd_epoch(self._struct, state, judged)
            _snapshot(model, reported_slot(rule, state), snapshots, settings.snapshot_every,
                      first_epoch, int(state["epoch"][0]))
            if converged:
                break
        return int(state["epoch"][0]) - first_epoch
