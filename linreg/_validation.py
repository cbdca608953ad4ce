"""Argument checking shared by the public kernels and the estimators.

The compiled kernels run with bounds checks off, so everything that could make them read
or write out of bounds is checked here, with an error that names the argument.

Data frames (pandas, polars, or anything with a `columns` attribute) are recognized by
duck typing: this module never imports pandas or polars, it only calls the methods of
the object the user passed.
"""
import decimal
import numbers
import os
import sys
import warnings

import numpy as np

from linreg import _compiled

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

_KEPT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
#: dtype kinds converted to float: bool, signed and unsigned integers, floats.
_REAL_KINDS = ("b", "i", "u", "f")

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


def _warn_at_caller(message, category):
    """Warn, attributing the warning to the first frame outside linreg: the user's call
    (the depth of linreg's own frames varies from one entry point to another)."""
    package_dir = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frame, level = sys._getframe(0), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        package_dir
    ):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def _without_mask(value, name):
    """The data of a masked array without masked entries (no copy); the value itself if
    it is no masked array. Masked entries would otherwise be used with whatever value
    hides under the mask."""
    if not isinstance(value, np.ma.MaskedArray):
        return value
    n_masked = int(np.ma.count_masked(value))
    if n_masked:
        raise ValueError(
            f"{name} is a masked array with {n_masked} masked "
            f"{'entry' if n_masked == 1 else 'entries'}; fill or drop them"
        )
    return np.ma.getdata(value)


def _detached(value, name):
    """`value.detach()` for a tensor that records gradients (torch's requires_grad), whose
    __array__ refuses to run; the detached tensor is a view of the same memory."""
    if isinstance(value, np.ndarray):
        return value
    try:
        records_gradients = getattr(value, "requires_grad", False) is True
        detach = getattr(value, "detach", None) if records_gradients else None
    except Exception:  # a foreign __getattr__ that fails: leave it to np.asarray
        return value
    if not callable(detach):
        return value
    try:
        return detach()
    except Exception as exc:
        raise TypeError(
            f"{name} requires grad, and {name}.detach() raised {type(exc).__name__}: {exc}"
        ) from exc


def _as_numeric_array(value, name):
    """np.asarray(value) with a clear error for what cannot be a float array.

    Object arrays that hold numbers become float64; a pandas or polars data frame is
    converted with at most one copy (see `_from_data_frame_library`).
    """
    if value is None:
        raise ValueError(f"{name} is None: expected an array-like of numbers")
    if type(value).__module__.startswith("scipy.sparse"):
        raise TypeError(
            f"{name} is a scipy sparse matrix, and sparse input is not supported: "
            f"pass a dense array ({name}.toarray())"
        )
    value = _detached(_without_mask(value, name), name)
    try:
        value = _from_data_frame_library(value, name)
        array = np.asarray(value)
    except (ValueError, TypeError) as exc:
        if isinstance(exc, _InputError):  # already says what is wrong, by name
            raise ValueError(str(exc)) from None
        raise ValueError(f"{name} could not be converted to a numeric array: {exc}") from None
    except MemoryError:
        raise
    except Exception as exc:  # whatever a foreign __array__ raises (RuntimeError, ...)
        raise TypeError(
            f"{name} could not be converted to a numeric array: {type(exc).__name__}: {exc}"
        ) from exc
    if array.dtype.kind == "O":
        array = _numbers_from_objects(array, name)
    if array.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {name} has dtype {array.dtype}")
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must hold real numbers (bool, int or float), got dtype {array.dtype}"
        )
    return array


class _InputError(ValueError):
    """A ValueError about the input's values (pd.NA, ...) found while converting it,
    whose message already names the argument: `_as_numeric_array` does not wrap it."""


def _is_real_number_type(kind):
    """Whether objects of type `kind` are real numbers that float() converts exactly as
    numpy does: Python's and numpy's ints, floats and bools, Fraction, Decimal."""
    if issubclass(kind, (np.bool_, decimal.Decimal)):
        return True
    return issubclass(kind, numbers.Real)


def _numbers_from_objects(array, name):
    """An object array that holds only real numbers, as float64 (scikit-learn converts
    such arrays too); any other content is a TypeError naming the argument and the type.

    Strings are refused although float() would parse some of them: "1.5" in a numeric
    array is almost always a column read as text by mistake. Complex numbers are a
    ValueError, as for a complex dtype.
    """
    kinds = {type(element) for element in array.flat}
    others = sorted((kind for kind in kinds if not _is_real_number_type(kind)),
                    key=lambda kind: kind.__qualname__)
    if others:
        if all(issubclass(kind, numbers.Complex) for kind in others):
            raise ValueError(f"Complex data not supported: {name} holds complex numbers")
        shown = ", ".join(kind.__qualname__ for kind in others[:5])
        reason = ""
        first = next(element for element in array.flat if type(element) is others[0])
        if isinstance(first, (str, bytes)):
            reason = " (text is not converted to numbers)"
        else:
            try:
                float(first)
            except TypeError as exc:  # why float() refuses it, in Python's words
                reason = f" ({exc})"
            except Exception:  # noqa: BLE001 - a foreign __float__ may raise anything
                pass
        raise TypeError(
            f"{name} must hold real numbers (bool, int or float), got dtype object "
            f"holding {shown}{reason}"
        )
    try:
        return array.astype(np.float64)
    except OverflowError as exc:  # an int beyond the float64 range
        raise ValueError(
            f"{name} holds a number beyond the float64 range: {exc}"
        ) from None
    except (ValueError, ArithmeticError) as exc:  # Decimal("sNaN"), ...
        raise ValueError(f"{name} could not be converted to float64: {exc}") from None


def _from_data_frame_library(value, name):
    """`value`, or an array made from it when it is a pandas or polars object for which
    np.asarray would copy twice or cannot convert (pandas' nullable dtypes).

    - A pandas DataFrame held in one block of one dtype is returned as is: np.asarray
      then gives a view of that block (column-major; as_data_matrix copies it to C order
      once). One held in several blocks (columns added one by one, pd.concat, mixed
      dtypes) would be copied twice (np.asarray interleaves it into a new column-major
      array, then the C-order copy): it is copied here once, column by column, into a
      C-order array of the dtype np.asarray would have chosen.
    - pandas' nullable dtypes (Int64, Float64, boolean, ...) become float64; a missing
      value (pd.NA) is a ValueError naming the argument and the column.
    - A polars DataFrame is asked for a C-order array directly (one copy, not two),
      unless its columns already form a column-major array (no copy, then one).

    Only the type's module name is looked at: neither library is imported here.
    """
    module = type(value).__module__
    if module.startswith("pandas"):
        if getattr(value, "ndim", None) == 2 and hasattr(value, "dtypes"):
            return _from_pandas_frame(value, name)
        dtype = getattr(value, "dtype", None)
        if getattr(value, "ndim", None) == 1 and not isinstance(dtype, np.dtype) \
                and getattr(dtype, "kind", None) in _REAL_KINDS:
            _refuse_pandas_missing(value, name, None)
            return value.to_numpy(dtype=np.float64)
        return value
    if module.startswith("polars") and hasattr(value, "columns") and hasattr(value, "to_numpy"):
        try:
            # Columns that lie side by side in one buffer are a column-major view (no
            # copy; as_data_matrix copies it to C order once) ...
            return value.to_numpy(allow_copy=False)
        except TypeError:  # an older polars without these arguments
            return value
        except Exception:  # noqa: BLE001 - "copy not allowed" (RuntimeError in polars 1
            pass  # and 2); a real problem is raised again by the call below
        # ... others are copied once, into C order (np.asarray would copy them into
        # Fortran order, then as_data_matrix into C order: twice).
        return value.to_numpy(order="c")
    return value


def _refuse_pandas_missing(series, name, label):
    """ValueError if a pandas Series of a nullable dtype holds pd.NA (`label`: its
    column, None for a Series given as the argument itself)."""
    n_missing = int(series.isna().sum())
    if n_missing:
        where = name if label is None else f"{name} column {label!r}"
        raise _InputError(
            f"{where} has {n_missing} missing value{'s' if n_missing > 1 else ''} "
            f"(pd.NA) out of {len(series)}: fill or drop them"
        )


def _from_pandas_frame(frame, name):
    """A pandas DataFrame as an ndarray with at most one copy (or the frame itself, for
    np.asarray to convert); see `_from_data_frame_library`."""
    dtypes = list(frame.dtypes)
    extension = [not isinstance(dtype, np.dtype) for dtype in dtypes]
    if not dtypes or not all(getattr(dtype, "kind", None) in _REAL_KINDS for dtype in dtypes):
        # Text, dates, categories, ...: np.asarray gives object or datetime arrays, which
        # _as_numeric_array converts when they hold numbers or refuses by dtype.
        return frame
    if not any(extension) and getattr(getattr(frame, "_mgr", None), "nblocks", None) == 1:
        return frame  # one block: np.asarray is a view (pandas' block manager, private)
    if any(extension):
        dtype = np.dtype(np.float64)
    else:
        dtype = np.result_type(*dtypes)
        if dtype not in _KEPT_DTYPES:
            dtype = np.dtype(np.float64)
    out = np.empty(frame.shape, dtype=dtype)
    numpy_columns = []
    for j, (label, column) in enumerate(frame.items()):
        if extension[j]:  # converted one column at a time: 1/n_features of X at most
            _refuse_pandas_missing(column, name, label)
            out[:, j] = column.to_numpy(dtype=np.float64)
        else:
            numpy_columns.append((j, column.to_numpy(copy=False)))  # a view
    _fill_columns(out, numpy_columns)
    return out


#: Rows `_fill_columns` writes at a time: 2 MiB of output at 32 float64 columns.
_ROWS_PER_BLOCK = 8192


def _fill_columns(out, columns):
    """out[:, j] = column for each (j, column) of `columns`, by blocks of rows.

    Writing whole columns one after the other into a C-order array touches every row's
    cache line once per column; a block of rows stays in cache while all the columns
    are written into it, which makes the copy as fast as numpy's own Fortran-to-C copy
    (25 ms against 50 ms for 160 MB at 32 columns)."""
    for start in range(0, out.shape[0], _ROWS_PER_BLOCK):
        rows = out[start:start + _ROWS_PER_BLOCK]
        for j, column in columns:
            rows[:, j] = column[start:start + _ROWS_PER_BLOCK]


def feature_names(X):
    """The column names of a data frame X, as scikit-learn's `feature_names_in_`.

    Parameters
    ----------
    X : object
        Anything; only a `columns` attribute is looked at (pandas, polars and other data
        frames have one; numpy arrays and lists do not).

    Returns
    -------
    ndarray of object dtype, shape (n_features,), holding str; or None
        None when X has no `columns`, none, or names that are not all strings (pandas'
        default integer labels, for instance): scikit-learn's rule.

    Raises
    ------
    TypeError
        When the names mix strings and other types, with scikit-learn's message.
    """
    if isinstance(X, np.ndarray):
        return None
    try:
        columns = getattr(X, "columns", None)
    except Exception:  # noqa: BLE001 - a foreign __getattr__ that fails: no names
        return None
    if columns is None or isinstance(columns, (str, bytes)):
        return None
    try:
        names = list(columns)
    except TypeError:  # not iterable
        return None
    if not names:
        return None
    is_text = [isinstance(label, str) for label in names]
    if all(is_text):
        return np.array([str(label) for label in names], dtype=object)
    if any(is_text):
        types = sorted({type(label).__qualname__ for label in names})
        raise TypeError(
            "Feature names are only supported if all input features have string names, "
            f"but your input has {types} as feature name / column name types. "
            "If you want feature names to be stored and validated, you must convert "
            "them all to strings, by using X.columns = X.columns.astype(str) for "
            "example. Otherwise you can remove feature / column names from your input "
            "data, or convert them all to a non-string data type."
        )
    return None


def check_feature_names(fitted_names, X, estimator_name):
    """Check X's column names against those seen in fit, as scikit-learn does.

    Parameters
    ----------
    fitted_names : ndarray of str or None
        The estimator's `feature_names_in_` (None: fitted without names).
    X : object
        The data given to predict, score or partial_fit, before any conversion.
    estimator_name : str
        For the messages.

    Raises
    ------
    ValueError
        When X has names that differ from `fitted_names` or are in another order; the
        message lists (up to 5 of each) the unexpected and the missing names.

    Warns
    -----
    UserWarning
        When only one of X and the fit had names (scikit-learn's two messages).
    """
    X_names = feature_names(X)
    if fitted_names is None and X_names is None:
        return
    if fitted_names is None:
        _warn_at_caller(f"X has feature names, but {estimator_name} was fitted without "
                        "feature names", UserWarning)
        return
    if X_names is None:
        _warn_at_caller(f"X does not have valid feature names, but {estimator_name} was "
                        "fitted with feature names", UserWarning)
        return
    if len(fitted_names) == len(X_names) and all(
        fitted == given for fitted, given in zip(fitted_names, X_names)
    ):
        return
    unexpected = sorted(set(X_names) - set(fitted_names))
    missing = sorted(set(fitted_names) - set(X_names))
    message = "The feature names should match those that were passed during fit.\n"
    if unexpected:
        message += "Feature names unseen at fit time:\n" + _listed(unexpected)
    if missing:
        message += "Feature names seen at fit time, yet now missing:\n" + _listed(missing)
    if not unexpected and not missing:
        message += "Feature names must be in the same order as they were in fit.\n"
    raise ValueError(message)


def _listed(names, most=5):
    """Names one per line, "- name", at most `most` of them then "- ..."."""
    lines = [f"- {name}\n" for name in names[:most]]
    return "".join(lines) + ("- ...\n" if len(names) > most else "")


def as_data_matrix(X, name="X"):
    """Return X as a 2-D C-contiguous float32 or float64 array.

    A C-contiguous float32/float64 array is returned as is (never copied); float32 stays
    float32. Other real dtypes become float64; other layouts are copied to C order,
    because the kernels stream rows of X. A masked array without masked entries, or a
    tensor that requires grad, is used through its data (detached), also without a copy.
    """
    X = _as_numeric_array(X, name)
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
    dtype = X.dtype if X.dtype in _KEPT_DTYPES else np.dtype(np.float64)
    return np.ascontiguousarray(X, dtype=dtype)


def as_targets(Y, n_samples, dtype, name="Y"):
    """Return Y as a 1-D (n,) or 2-D (n, k) array of `dtype`; copied only to convert dtype.

    `dtype` is X's: a value that fits Y's dtype but not X's float32 is a ValueError that
    says so (not "contains NaN or infinity", which is what the cast would make of it).
    """
    Y = _as_numeric_array(Y, name)
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
    return _cast(Y, dtype, name, copy=False, what=_range_of_x)


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
    _without_mask(array, name)
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
            _warn_at_caller(
                f"n_threads={n_threads} is more than {MAX_THREADS_PER_CPU} x the "
                f"{cpus} CPUs available; using {limit}",
                ThreadCountWarning,
            )
            return limit
    return n_threads


def check_order(order, n_samples, name="order"):
    """Row indices: a non-empty 1-D integer array with values in [0, n_samples), as intp."""
    order = np.asarray(_without_mask(order, name))
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
    """True when no entry is NaN or infinite; allocates nothing for C-contiguous arrays."""
    if array.dtype in _KEPT_DTYPES and array.flags.c_contiguous and array.size:
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
    weights = _as_numeric_array(sample_weight, name)
    if weights.ndim != 1 or weights.shape[0] != n_samples:
        raise ValueError(f"{name} must have shape ({n_samples},) (one weight per sample), "
                         f"got {weights.shape}")
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    if not np.isfinite(weights).all():
        raise ValueError(f"{name} contains NaN or infinity")
    if (weights < 0).any():
        raise ValueError(f"{name} must be non-negative, got a minimum of {weights.min():g}")
    if not weights.any():
        raise ValueError(f"{name} is all zero: no sample would count")
    return weights
