"""Argument checking shared by the public kernels and the estimators.

The compiled kernels run with bounds checks off, so everything that could make them read
or write out of bounds is checked here, with an error that names the argument: the data
(X, Y, sample_weight, row indices), parameter and output buffers, learning rates,
integer settings, thread counts, and outputs that would overlap inputs.

Turning foreign inputs (data frames, nullable dtypes, masked arrays, tensors, object
arrays) into numpy arrays, and checking data frames' feature names, is
linreg._foreign_inputs' job; `feature_names` and `check_feature_names` are importable
from here too.
"""
import numbers
import os

import numpy as np

from linreg import _compiled
from linreg._foreign_inputs import (
    KEPT_DTYPES,
    as_numeric_array,
    check_feature_names,
    feature_names,
    warn_at_caller,
    without_mask,
)

__all__ = [
    "check_sample_weight",
    "as_data_matrix",
    "as_targets",
    "feature_names",
    "check_feature_names",
    "cast_to_dtype",
    "check_param",
    "check_lr",
    "check_int",
    "check_n_threads",
    "check_order",
    "check_no_overlap",
    "all_finite",
    "raise_if_not_finite",
    "available_cpus",
    "ThreadCountWarning",
    "INT64_MAX",
    "C_INT_MAX",
    "MAX_THREADS_PER_CPU",
    "MAX_OVERLAP_WORK",
]

#: Largest value `check_int` returns: what a C int64_t / Py_ssize_t holds.
INT64_MAX = 2**63 - 1
_INT64_MIN = -(2**63)
#: Largest thread count: OpenMP takes it as a C int.
C_INT_MAX = 2**31 - 1
#: n_threads above this many per available CPU is capped (with a ThreadCountWarning):
#: more only adds contention, and tens of thousands of threads crash OpenMP.
MAX_THREADS_PER_CPU = 4
#: Effort np.shares_memory may spend on one pair of arrays before `check_no_overlap`
#: assumes the worst. Pairs of 1-D/2-D views take far less (a few microseconds).
MAX_OVERLAP_WORK = 10**6

# numpy >= 1.25 has it in numpy.exceptions; older versions at the top level.
_TooHardError = getattr(getattr(np, "exceptions", np), "TooHardError")


class ThreadCountWarning(UserWarning):
    """n_threads was more than MAX_THREADS_PER_CPU x the available CPUs and was capped."""


def as_data_matrix(X, name="X"):
    """Return X as a 2-D C- or Fortran-contiguous float32 or float64 array.

    A C- or Fortran-contiguous float32/float64 array is returned as is (never copied:
    every kernel reads both layouts); float32 stays float32. Other real dtypes become
    float64; other layouts are copied to C order. A masked array without masked entries, or a
    tensor that requires grad, is used through its data (detached), also without a copy.
    """
    X = as_numeric_array(X, name)
    if X.ndim != 2:
        hint = (
            f" Reshape your data with {name}.reshape(-1, 1) if it has a single feature or "
            f"{name}.reshape(1, -1) if it is a single sample."
            if X.ndim == 1 else ""
        )
        raise ValueError(
            f"{name} must be 2-D of shape (n_samples, n_features), got {X.ndim}-D shape "
            f"{X.shape}.{hint}"
        )
    if X.shape[0] == 0:
        raise ValueError(
            f"{name} has 0 sample(s) (shape={X.shape}) while a minimum of 1 is required."
        )
    if X.shape[1] == 0:
        raise ValueError(
            f"{name} has 0 feature(s) (shape={X.shape}) while a minimum of 1 is required."
        )
    dtype = X.dtype if X.dtype in KEPT_DTYPES else np.dtype(np.float64)
    if X.dtype == dtype and X.flags.f_contiguous and not X.flags.c_contiguous:
        return X  # the kernels read columns of a Fortran-ordered X in place
    return np.ascontiguousarray(X, dtype=dtype)


def as_targets(Y, n_samples, dtype, name="Y"):
    """Return Y as a 1-D (n,) or 2-D (n, k) array of `dtype`; copied only to convert dtype
    or when its strides are not whole elements.

    `dtype` is X's: a value that fits Y's dtype but not X's float32 is a ValueError that
    says so (not "contains NaN or infinity", which is what the cast would make of it).
    """
    Y = as_numeric_array(Y, name)
    if Y.ndim not in (1, 2):
        raise ValueError(
            f"{name} must be 1-D (n_samples,) or 2-D (n_samples, n_outputs), "
            f"got {Y.ndim}-D shape {Y.shape}"
        )
    if Y.shape[0] != n_samples:
        raise ValueError(
            f"{name} has {Y.shape[0]} samples but X has {n_samples}: they must match"
        )
    if Y.ndim == 2 and Y.shape[1] == 0:
        raise ValueError(f"{name} needs at least one output column, got shape {Y.shape}")
    Y = _cast(Y, dtype, name, copy=False, what=_range_of_x)
    # The kernels step through Y by whole elements (strides // itemsize): a Y whose
    # strides are not (a field of a packed record array) is read from a copy.
    if any(stride % Y.itemsize for stride in Y.strides):
        Y = np.ascontiguousarray(Y)
    return Y


def _range_of_x(name, dtype, largest):
    hint = ": pass X as float64" if dtype == np.float32 else ""
    return (f"{name} holds values beyond the {dtype} range of X "
            f"(largest |value| {largest:.3g}){hint}")


def _cast(array, dtype, name, copy, what, order="K"):
    """array.astype(dtype), refusing finite values that the cast makes infinite.

    Only a cast to a float type of smaller range can overflow (float64 -> float32,
    longdouble -> float64); only then is the result checked, at the cost of one pass
    over it, less than the cast itself.
    """
    dtype = np.dtype(dtype)
    narrowing = (array.dtype.kind == "f" and dtype.kind == "f"
                 and np.finfo(array.dtype).max > np.finfo(dtype).max)
    if not narrowing:
        return array.astype(dtype, order=order, copy=copy)
    with np.errstate(over="ignore"):  # detected below, with a better message
        converted = array.astype(dtype, order=order, copy=copy)
    if not all_finite(converted):
        source_finite = np.isfinite(array)
        if (source_finite & ~np.isfinite(converted)).any():
            largest = float(np.abs(array[source_finite]).max())
            raise ValueError(what(name, dtype, largest))
    return converted


def cast_to_dtype(array, dtype, name, *, dtype_of="X"):
    """A new C-contiguous copy of `array` in `dtype`, refusing values that do not fit.

    Parameters
    ----------
    array : array-like
        For instance a fitted model's coef_ (float64) to continue training in float32.
    dtype : numpy dtype
        The dtype of `dtype_of`, the array it will be used with.
    name : str
        The argument's name, for the error message.
    dtype_of : str, default "X"

    Returns
    -------
    ndarray of `dtype`, C-contiguous, writable, sharing no memory with `array`

    Raises
    ------
    ValueError
        When a finite value of `array` is beyond the range of `dtype` (it would become
        infinite), naming `name`.
    """
    def what(name, dtype, largest):
        hint = f": pass {dtype_of} as float64" if dtype == np.float32 else ""
        return (f"{name} holds values beyond the range of {dtype} (the dtype of "
                f"{dtype_of}) (largest |value| {largest:.3g}){hint}")

    return _cast(np.asarray(array), dtype, name, copy=True, what=what, order="C")


def check_param(array, name, shape, dtype, writable=False, contiguous=False):
    """Check a caller-provided parameter or output buffer; it is never converted."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(array).__name__}")
    without_mask(array, name)
    if array.dtype != dtype:
        raise TypeError(f"{name} must have dtype {dtype} (the dtype of X), got {array.dtype}")
    if array.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {array.shape}")
    if writable and not array.flags.writeable:
        raise ValueError(f"{name} is written to in place, but it is read-only")
    if contiguous and not array.flags.c_contiguous:
        raise ValueError(f"{name} is updated in place and must be C-contiguous")
    return array


def check_lr(lr, name="lr"):
    """A learning rate: a positive finite real number, returned as float."""
    if type(lr) is not float and (
        isinstance(lr, (bool, np.bool_)) or not isinstance(lr, numbers.Real)
    ):
        raise TypeError(f"{name} must be a real number, got {type(lr).__name__}")
    lr = float(lr)
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"{name} must be a positive finite number, got {lr}")
    return lr


def _shown(value):
    """An int for a message: in full up to 24 digits, else its first digits and length."""
    text = str(value)
    digits = len(text.lstrip("-"))
    return text if digits <= 24 else f"{text[:6]}... ({digits} digits)"


def check_int(value, name, low, high=None):
    """An integer in [low, high], returned as int.

    Whatever the bounds, the result fits in int64 (the kernels take Py_ssize_t and
    double): high=None means INT64_MAX, and a bound beyond int64 is narrowed to it.
    """
    if type(value) is not int and (
        isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral)
    ):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    value = int(value)
    low_in_range = max(low, _INT64_MIN)
    high_in_range = INT64_MAX if high is None else min(high, INT64_MAX)
    if value < low_in_range or value > high_in_range:
        if high is None and value >= low_in_range:
            bound = f"between {low} and 2**63 - 1"
        elif high is None:
            bound = f">= {_shown(low_in_range)}"
        elif high > INT64_MAX:
            bound = f"between {_shown(low_in_range)} and 2**63 - 1"
        else:
            bound = f"between {_shown(low_in_range)} and {high}"
        raise ValueError(f"{name} must be {bound}, got {_shown(value)}")
    return value


def available_cpus():
    """CPUs this process may run on: its affinity mask where the OS has one, else
    os.cpu_count() (1 when even that is unknown)."""
    if hasattr(os, "sched_getaffinity"):
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except OSError:
            pass
    return os.cpu_count() or 1


def check_n_threads(n_threads):
    """A thread count for the kernels: None, or an int from 1 up.

    Parameters
    ----------
    n_threads : int or None
        None is returned as is (the caller resolves it to OpenMP's default).

    Returns
    -------
    int or None
        n_threads, capped at MAX_THREADS_PER_CPU x `available_cpus()` with a
        ThreadCountWarning: OpenMP cannot create tens of thousands of threads (200000
        crashed the process) and more than a few per CPU only add contention. The
        result does not depend on the thread count.

    Raises
    ------
    TypeError
        If n_threads is not an integer.
    ValueError
        If n_threads < 1 or n_threads >= 2**31 (OpenMP takes a C int).
    """
    if n_threads is None:
        return None
    n_threads = check_int(n_threads, "n_threads", 1, C_INT_MAX)
    if n_threads > MAX_THREADS_PER_CPU:  # only then is the CPU count needed
        cpus = available_cpus()
        limit = MAX_THREADS_PER_CPU * cpus
        if n_threads > limit:
            warn_at_caller(
                f"n_threads={n_threads} is more than {MAX_THREADS_PER_CPU} x the "
                f"{cpus} CPUs available; using {limit}",
                ThreadCountWarning,
            )
            return limit
    return n_threads


def check_order(order, n_samples, name="order"):
    """Row indices: a non-empty 1-D integer array with values in [0, n_samples), as intp."""
    order = np.asarray(without_mask(order, name))
    if order.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an array of integer row indices, got dtype {order.dtype}")
    if order.ndim != 1 or order.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {order.shape}")
    low, high = order.min(), order.max()
    if low < 0 or high >= n_samples:
        raise ValueError(
            f"{name} holds row indices from {low} to {high}, outside [0, {n_samples})"
        )
    return np.ascontiguousarray(order, dtype=np.intp)


def _named_arrays(named):
    """[(name, ndarray)] from a dict whose values are arrays, None, or tuples of them;
    anything that is not an ndarray is skipped (numpy cannot write through it), and so is
    an array listed twice under one name (X as given is often X as converted)."""
    pairs = []
    for name, value in named.items():
        if isinstance(value, np.ndarray):
            pairs.append((name, value))
        elif type(value) is tuple:
            kept = set()
            for array in value:
                if isinstance(array, np.ndarray) and id(array) not in kept:
                    kept.add(id(array))
                    pairs.append((name, array))
    return pairs


def check_no_overlap(outputs, inputs):
    """Refuse any output that shares memory with an input or with another output.

    A kernel writing into an output that overlaps what it reads gets wrong results, and
    one that overwrites validated row indices (`order`) reads out of bounds; a write into
    a caller's input breaks the promise that inputs are never modified.

    Parameters
    ----------
    outputs : dict of str to ndarray or None
        The arrays the kernel writes, by argument name (None: not given).
    inputs : dict of str to ndarray, None or tuple of them
        The arrays it reads, by argument name. A tuple holds several arrays of one
        argument, e.g. X as the caller passed it and as converted for the kernel: writing
        into either is refused. Values that are not ndarrays are skipped.

    Raises
    ------
    ValueError
        Naming both arguments. Overlap is decided exactly by np.shares_memory, with
        up to MAX_OVERLAP_WORK effort per pair; a pair it cannot settle within that is
        refused too (a false alarm is possible there, a missed overlap is not).
    """
    written = _named_arrays(outputs)
    others = written + _named_arrays(inputs)
    for index, (name, array) in enumerate(written):
        for other_name, other in others[index + 1:]:
            if other_name == name:
                continue
            try:
                # max_work passed by position: as a keyword it costs twice as much.
                shared = np.shares_memory(array, other, MAX_OVERLAP_WORK)
            except _TooHardError:
                raise ValueError(
                    f"{name} may share memory with {other_name} (their layouts are too "
                    f"intricate to tell): {name} is written in place, so pass arrays that "
                    "do not view one buffer"
                ) from None
            if shared:
                raise ValueError(
                    f"{name} shares memory with {other_name}: {name} is written in place, "
                    f"so it must not overlap {other_name}"
                )


def all_finite(array):
    """True when no entry is NaN or infinite; allocates nothing for C- or Fortran-
    contiguous 2-D arrays."""
    if array.dtype in KEPT_DTYPES and array.ndim == 2 and array.flags.f_contiguous:
        array = array.T  # C-contiguous, the same entries
    if array.dtype in KEPT_DTYPES and array.flags.c_contiguous and array.size:
        return _compiled.build.all_finite(array.reshape(array.shape[0], -1))
    return bool(np.isfinite(array).all())


def raise_if_not_finite(**arrays):
    """Raise ValueError naming the first argument that holds NaN or infinity."""
    for name, array in arrays.items():
        if not all_finite(array):
            raise ValueError(f"{name} contains NaN or infinity")


def check_sample_weight(sample_weight, n_samples, name="sample_weight"):
    """None, or the weights as a C-contiguous float64 array of shape (n_samples,):
    finite, non-negative, not all zero. A float64 C-contiguous array is used as is."""
    if sample_weight is None:
        return None
    weights = as_numeric_array(sample_weight, name)
    if weights.ndim != 1 or weights.shape[0] != n_samples:
        raise ValueError(f"{name} must have shape ({n_samples},) (one weight per sample), "
                         f"got {weights.shape}")
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    # One compiled read of the weights, which are checked on every call of a kernel (with
    # np.isfinite(...).all() and two comparisons, 8M weights took 7 ms, a fused pass over
    # 8M float32 rows of one element 6 ms).
    status = _compiled.build.weights_status(weights)
    if status == 1:
        raise ValueError(f"{name} contains NaN or infinity")
    if status == 2:
        raise ValueError(f"{name} must be non-negative, got a minimum of {weights.min():g}")
    if status == 3:
        raise ValueError(f"{name} is all zero: no sample would count")
    return weights
