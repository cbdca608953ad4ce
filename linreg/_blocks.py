"""Data held in blocks of rows, and the two ways work runs over them.

Two kinds of blocked data reach the estimators:

- Dask collections (arrays, data frames, series), detected by duck typing on Dask's
  collection protocol (`__dask_graph__`), so Dask is imported only when the user passed
  one. Work runs on the active `distributed.Client`, or Dask's default scheduler: every
  block is read where it lives, and only small results (sums, the model) travel.
- A re-iterable of (X, y) or (X, y, sample_weight) chunks (a list, or an object whose
  `__iter__` starts again each time), read one chunk at a time in this process.

Work over blocks has two shapes: `tree_reduce` maps a function over every block and
merges the results pairwise in a fixed tree (adjacent pairs, level by level), so the
result does not depend on which worker finished first; `chain` passes a carried value
through the blocks one after the other (the model moving to the data).

This module imports nothing from linreg but `_validation` and `exceptions`; the
functions it runs on blocks come from `linreg._blocked_solvers`.
"""
import numbers

import numpy as np

from linreg._validation import as_data_matrix, as_targets
from linreg.exceptions import WorkerLostError

__all__ = ["is_dask_collection", "is_chunk_iterable", "DaskBlocks", "ChunkBlocks",
           "as_dask_array", "fixed_tree"]


def is_dask_collection(obj):
    """True for a Dask collection (array, data frame, series, delayed), without importing
    Dask: Dask's own test (`dask.is_dask_collection`) calls `__dask_graph__`."""
    if isinstance(obj, type):
        return False
    method = getattr(obj, "__dask_graph__", None)
    if method is None or not callable(method):
        return False
    try:
        return method() is not None
    except (AttributeError, TypeError):
        return False


def is_chunk_iterable(X, y):
    """True when fit was given an iterable of chunks in place of X (and no y): not an
    array, a data frame, a string or a mapping."""
    if y is not None or isinstance(X, (np.ndarray, str, bytes, dict)):
        return False
    if isinstance(X, (list, tuple)):  # rows as lists are data, chunks are tuples
        return len(X) > 0 and all(isinstance(chunk, tuple) for chunk in X)
    if hasattr(X, "__array__") or hasattr(X, "columns") or hasattr(X, "shape"):
        return False
    return hasattr(X, "__iter__")


def fixed_tree(items, merge):
    """Merge `items` pairwise, adjacent pairs level by level: ((0 1) (2 3)) ((4 5) 6)...
    The same tree whatever order the items were computed in."""
    level = list(items)
    if not level:
        raise ValueError("there are no blocks of rows to merge")
    while len(level) > 1:
        level = [merge(level[i], level[i + 1]) if i + 1 < len(level) else level[i]
                 for i in range(0, len(level), 2)]
    return level[0]


def _is_lost_worker(error):
    """Whether `error` is Dask's way of saying a worker or its data was lost (as opposed
    to an error raised by the work itself, which passes through unchanged)."""
    names = {cls.__name__ for cls in type(error).__mro__}
    module = type(error).__module__ or ""
    return bool(names & {"KilledWorker", "CancelledError", "FutureCancelledError",
                         "CommClosedError"}) or (module.startswith("distributed")
                                                 and "Closed" in type(error).__name__)


def _dask_modules():
    """dask and dask.array, imported here only: the user passed a Dask collection."""
    try:
        import dask
        import dask.array as da
    except ImportError as error:  # pragma: no cover - a Dask collection implies dask
        raise ImportError("fitting Dask collections needs dask[array]: "
                          "pip install 'linreg[dask]'") from error
    return dask, da


def as_dask_array(value, name, n_dims):
    """A Dask collection (array, data frame, series) as a Dask array of `n_dims` (1 or
    2) or fewer dimensions, rows in chunks (chunk sizes computed when unknown)."""
    dask, da = _dask_modules()
    if hasattr(value, "to_dask_array"):  # data frames and series
        value = value.to_dask_array(lengths=True)
    elif not hasattr(value, "chunks") or not hasattr(value, "rechunk"):
        raise TypeError(f"{name} must be a Dask array, data frame or series, got "
                        f"{type(value).__name__}")
    if value.ndim > n_dims or value.ndim == 0:
        raise ValueError(f"{name} must have 1 to {n_dims} dimensions, got shape {value.shape}")
    if any(np.isnan(size) for size in value.chunks[0]):
        value = value.compute_chunk_sizes()
    return value


def _float_dtype(dtype, name):
    """The dtype the kernels train in: float32 stays, other real types become float64."""
    dtype = np.dtype(dtype)
    if dtype == np.float32 or dtype == np.float64:
        return dtype
    if dtype.kind in "biuf":
        return np.dtype(np.float64)
    raise TypeError(f"{name} must hold real numbers, got dtype {dtype}")


class DaskBlocks:
    """X, Y (2-D) and sample weights (or None) as Dask arrays with the same row chunks
    and X's columns in one chunk. `n_samples`, `n_features`, `n_outputs`, `dtype`,
    `y_1d`, `n_blocks` describe them; nothing is computed until work runs."""

    reorderable = True  # blocks can be visited in any order

    def __init__(self, X, y, sample_weight=None):
        dask, da = _dask_modules()
        X = as_dask_array(X, "X", 2)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
        if X.shape[1] < 1 or X.shape[0] < 1:
            raise ValueError(f"X must have at least one row and one column, got {X.shape}")
        if X.numblocks[1] > 1:  # a row's features in one block: the kernels read rows
            X = X.rechunk({1: -1})
        self.dtype = _float_dtype(X.dtype, "X")
        Y = self._aligned(y, X, "y", 2, da)
        if Y.shape[0] != X.shape[0]:
            raise ValueError(f"y has {Y.shape[0]} rows, but X has {X.shape[0]}")
        _float_dtype(Y.dtype, "y")
        self.y_1d = Y.ndim == 1
        if self.y_1d:
            Y = Y[:, None]
        if Y.numblocks[1] > 1:
            Y = Y.rechunk({1: -1})
        weights = None
        if sample_weight is not None:
            weights = self._aligned(sample_weight, X, "sample_weight", 1, da)
            if weights.ndim != 1 or weights.shape[0] != X.shape[0]:
                raise ValueError(f"sample_weight must have shape ({X.shape[0]},), got "
                                 f"{weights.shape}")
        self.X, self.Y, self.sample_weight = X, Y, weights
        self.n_samples, self.n_features = int(X.shape[0]), int(X.shape[1])
        self.n_outputs = int(Y.shape[1])
        self.n_blocks = X.numblocks[0]
        self.row_counts = [int(size) for size in X.chunks[0]]
        self.has_weights = weights is not None
        self.weights_on = True  # False: passes that ignore the weights (see _blocked_solvers)

    @staticmethod
    def _aligned(value, X, name, n_dims, da):
        """`value` (Dask or in memory) as a Dask array chunked by X's rows."""
        if is_dask_collection(value):
            value = as_dask_array(value, name, n_dims)
        else:
            value = np.asarray(value) if not isinstance(value, np.ndarray) else value
            if value.ndim == 0 or value.ndim > n_dims:
                raise ValueError(f"{name} must have 1 to {n_dims} dimensions, got shape "
                                 f"{value.shape}")
            value = da.from_array(value, chunks=(X.chunks[0],) + value.shape[1:])
        if value.shape[0] == X.shape[0] and value.chunks[0] != X.chunks[0]:
            value = value.rechunk({0: X.chunks[0]})
        return value

    def _parts(self):
        """Per block: (X block, Y block, weights block or None), as Dask delayed."""
        xs = self.X.to_delayed().ravel()
        ys = self.Y.to_delayed().ravel()
        ws = (self.sample_weight.to_delayed().ravel()
              if self.sample_weight is not None and self.weights_on else [None] * len(xs))
        return list(zip(xs, ys, ws))

    def persist(self):
        """Keep the blocks in the workers' memory for a fit of many passes, when a
        distributed client is active (with the local scheduler, each pass reads them
        again from their source, so memory stays bounded by a few blocks)."""
        try:
            from distributed import default_client
            default_client()
        except (ImportError, ValueError):
            return
        dask, _ = _dask_modules()
        self.X, self.Y = dask.persist(self.X, self.Y)
        if self.sample_weight is not None:
            (self.sample_weight,) = dask.persist(self.sample_weight)

    def _compute(self, value):
        dask, _ = _dask_modules()
        try:
            (result,) = dask.compute(value)
        except Exception as error:  # noqa: BLE001 - re-raised, as is or with a clear name
            if _is_lost_worker(error):
                raise WorkerLostError(
                    "a Dask worker holding blocks of X was lost during the fit "
                    f"({type(error).__name__}: {error}); the model was left as it was "
                    "before the call: fit again") from error
            raise
        return result

    def tree_reduce(self, block_function, merge, *args, with_targets=True):
        """merge(...) over block_function(X_b, Y_b, w_b, *args) of every block (only
        X_b, w_b and args when not with_targets), in the fixed tree of `fixed_tree`."""
        dask, _ = _dask_modules()
        shared = [dask.delayed(arg) if isinstance(arg, np.ndarray) else arg for arg in args]
        task = dask.delayed(block_function, pure=True)
        merge_task = dask.delayed(merge, pure=True)
        if with_targets:
            parts = [task(x, y, w, *shared) for x, y, w in self._parts()]
        else:
            parts = [task(x, w, *shared) for x, _, w in self._parts()]
        return self._compute(fixed_tree(parts, merge_task))

    def chain(self, block_function, carry, order, *args):
        """carry = block_function(carry, X_b, Y_b, w_b, is_last, *args) for the blocks in
        `order`: one task after the other, each where its block lives."""
        dask, _ = _dask_modules()
        parts = self._parts()
        task = dask.delayed(block_function, pure=False)
        shared = [dask.delayed(arg) if isinstance(arg, np.ndarray) else arg for arg in args]
        value = dask.delayed(carry, traverse=False)
        for position, index in enumerate(order):
            x, y, w = parts[index]
            value = task(value, x, y, w, position == len(order) - 1, *shared)
        return self._compute(value)


class ChunkBlocks:
    """A re-iterable of (X, y) or (X, y, sample_weight) chunks as blocks: read one at a
    time in this process. The first pass (at construction) checks that every chunk has
    the same features and outputs and counts the rows."""

    reorderable = False  # chunks come in the iterable's order

    def __init__(self, chunks):
        if iter(chunks) is chunks:
            raise TypeError(
                "X must be a re-iterable of (X, y) chunks (a list, or an object whose "
                "__iter__ starts again each time), not a one-shot iterator or generator: "
                "training reads the chunks more than once")
        self._chunks = chunks
        self.row_counts = []
        self.dtype = None
        self.n_features = self.n_outputs = self.y_1d = None
        self.weights_on = True
        weighted = set()
        for X, Y, w in self._read():
            self.row_counts.append(X.shape[0])
            weighted.add(w is not None)
        if not self.row_counts:
            raise ValueError("X is an empty iterable of chunks: there is nothing to fit")
        if len(weighted) > 1:
            raise ValueError("either every chunk has sample weights or none has")
        self.has_weights = weighted.pop()
        self.n_samples = sum(self.row_counts)
        self.n_blocks = len(self.row_counts)

    def _read(self):
        """Each chunk as (X, Y (2-D), weights or None), checked, in the first chunk's
        dtype; the shapes must agree with the first chunk's."""
        for number, chunk in enumerate(self._chunks):
            if not isinstance(chunk, (tuple, list)) or len(chunk) not in (2, 3):
                raise TypeError(f"chunk {number} must be a tuple (X, y) or (X, y, "
                                f"sample_weight), got {type(chunk).__name__}")
            X = as_data_matrix(chunk[0], name=f"X of chunk {number}")
            if self.dtype is None:
                self.dtype, self.n_features = X.dtype, X.shape[1]
            elif X.dtype != self.dtype:
                X = X.astype(self.dtype)
            if X.shape[1] != self.n_features:
                raise ValueError(f"chunk {number} has {X.shape[1]} features, chunk 0 has "
                                 f"{self.n_features}")
            Y = as_targets(chunk[1], X.shape[0], self.dtype, name=f"y of chunk {number}")
            if self.y_1d is None:
                self.y_1d = Y.ndim == 1
                self.n_outputs = 1 if Y.ndim == 1 else Y.shape[1]
            if (Y.ndim == 1) != self.y_1d or Y.reshape(X.shape[0], -1).shape[1] != self.n_outputs:
                raise ValueError(f"y of chunk {number} has shape {Y.shape}, unlike chunk 0's")
            w = None
            if len(chunk) == 3 and chunk[2] is not None and self.weights_on:
                # Checked (finite, >= 0) by the block functions, like a Dask block's.
                w = np.asarray(chunk[2], dtype=np.float64)
            yield X, Y.reshape(X.shape[0], -1), w

    def persist(self):
        """Nothing to keep: chunks are read again on every pass."""

    def tree_reduce(self, block_function, merge, *args, with_targets=True):
        """`DaskBlocks.tree_reduce`, streamed: a stack of partial results merged like a
        binary counter, which builds the same tree as `fixed_tree` in O(log blocks)
        memory."""
        stack = []  # (number of blocks merged, result)
        for X, Y, w in self._read():
            result = block_function(X, Y, w, *args) if with_targets else block_function(X, w, *args)
            size = 1
            while stack and stack[-1][0] == size:
                result = merge(stack.pop()[1], result)
                size *= 2
            stack.append((size, result))
        result = stack.pop()[1]
        while stack:
            result = merge(stack.pop()[1], result)
        return result

    def chain(self, block_function, carry, order, *args):
        """`DaskBlocks.chain` in this process; the chunks are read in their order, so
        `order` must be the identity (shuffle the rows inside each chunk only)."""
        if list(order) != list(range(self.n_blocks)):
            raise ValueError("chunks from an iterable are visited in their order")
        for position, (X, Y, w) in enumerate(self._read()):
            carry = block_function(carry, X, Y, w, position == self.n_blocks - 1, *args)
        return carry


def check_weights_positive(total, name="sample_weight"):
    """The summed weights must be positive and finite (else there is nothing to fit)."""
    if not isinstance(total, numbers.Real) or not (np.isfinite(total) and total > 0):
        raise ValueError(f"{name} must sum to a finite number > 0, got {total!r}")
