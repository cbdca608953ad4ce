"""The model file format: what a file holds, how it is read safely and written atomically.

A model file is a zip archive of NumPy ``.npy`` members (what ``numpy.savez`` writes),
holding strings and numbers only, never a pickle:

    format          text     "linreg-model"
    version         integer  1 or 2 (this module reads 1 to VERSION)
    estimator       text     the class name, "GDRegressor" or "SGDRegressor"
    params          text     the constructor parameters as a flat JSON object
    and, for a fitted model, all of:
    coef_           float32 or float64, (n_features,) or (n_outputs, n_features)
    intercept_      coef_'s dtype, () or (n_outputs,)
    loss_curve_     float64, (n_epochs,)
    n_iter_         integer >= 0
    n_features_in_  integer, equal to coef_.shape[-1]
    and, for a model fitted on a data frame with string column names (version 2 only):
    feature_names_in_  text  a JSON array of n_features_in_ strings

A file without feature_names_in_ is written as version 1, so that a linreg that reads
version 1 only still loads it; one with it is version 2, which such a linreg refuses
with "upgrade linreg" rather than with an unknown member. The names are one JSON text,
not an array of str: numpy's fixed-width str arrays pad every name to the longest one
and drop trailing NUL characters.

This module knows the format: `read` turns a file into ``{member name: array}`` and
`write` does the reverse; linreg.persistence turns those arrays into an estimator. The
bounded reading of one zip member and its ``.npy`` header (the limits below) is
linreg._safe_npz's, the only linreg module this one imports (it imports none); the
limits are importable from here too.

Reading never trusts the file. Before it decompresses a member it checks, from the
archive's table of contents, that the member is one of those above, stored or deflated,
not encrypted, and that all members together stay within
``MAX_EXPANSION * file size + EXPANSION_ALLOWANCE`` bytes once decompressed. It then
parses the member's ``.npy`` header itself (at most MAX_HEADER_BYTES) and checks the
declared dtype and shape against the format and against the members read before it
(n_features_in_ before coef_, coef_ before intercept_, n_features_in_ before
feature_names_in_), before it allocates the member's data, which it reads in bounded
chunks up to exactly the declared size (zipfile then checks the CRC). The names of
feature_names_in_ become Python str objects, which cost more than their text: reading
charges the bound for them too. Every problem is a ValueError.

Writing a file name goes through a new file in the same directory, flushed to disk and
then renamed over the target, so a save that fails part-way leaves the previous file
as it was.
"""
import contextlib
import io
import json
import numbers
import os
import stat
import warnings
import zipfile
import zlib

import numpy as np

from linreg._safe_npz import (
    EXPANSION_ALLOWANCE,
    MALFORMED,
    MAX_EXPANSION,
    MAX_HEADER_BYTES,
    Budget,
    FormatError,
    read_npy_member,
)

__all__ = [
    "FORMAT",
    "VERSION",
    "MEMBERS",
    "FITTED",
    "OPTIONAL_FITTED",
    "MAX_EXPANSION",
    "EXPANSION_ALLOWANCE",
    "MAX_HEADER_BYTES",
    "MAX_TEXT_CHARS",
    "members",
    "read",
    "write",
    "decode_feature_names",
]

FORMAT = "linreg-model"
VERSION = 2
#: The fitted attributes a file holds (all of them or none).
FITTED = ("coef_", "intercept_", "loss_curve_", "n_iter_", "n_features_in_")
#: Fitted attributes a fitted model may or may not have (version 2 on).
OPTIONAL_FITTED = ("feature_names_in_",)
#: Every member a file may hold, in the order they are written and read: the small
#: scalars first, so that the arrays' shapes can be checked against them.
MEMBERS = ("format", "version", "estimator", "params", "n_iter_", "n_features_in_",
           "coef_", "intercept_", "loss_curve_", "feature_names_in_")
#: The members each format version may hold.
_VERSION_MEMBERS = {1: MEMBERS[:-1], 2: MEMBERS}

#: Text members' longest value, in characters (feature_names_in_ has no fixed limit:
#: the expansion bound limits it, as it does the arrays).
MAX_TEXT_CHARS = {"format": 64, "estimator": 64, "params": 65536}
#: What reading charges the expansion bound for each feature name, on top of its text:
#: the Python str object (49 bytes and up), the list's and the object array's pointers.
_BYTES_PER_NAME = 72

_INTEGER_MEMBERS = ("version", "n_iter_", "n_features_in_")


def members(estimator, params, fitted=None):
    """The members of the file for one model, {name: array}, ready for `write`.

    Parameters
    ----------
    estimator : str
        The estimator's class name.
    params : dict
        Its constructor parameters. None, bool, int, float and str values are kept;
        anything else (a callback, a random Generator) is saved as None, with a
        UserWarning: it is code or generator state, which a file of numbers cannot hold.
    fitted : dict or None, default None
        The FITTED attributes of a fitted model ({name: value}), and any of the
        OPTIONAL_FITTED it has; None for an unfitted one.

    Returns
    -------
    dict of str to ndarray
    """
    arrays = {
        "format": np.array(FORMAT),
        # The oldest version that holds these members (2 with feature names, below).
        "version": np.array(1, dtype=np.int64),
        "estimator": np.array(estimator),
        "params": np.array(json.dumps(_portable_params(params))),
    }
    if fitted is not None:
        coef = np.asarray(fitted["coef_"])
        arrays.update(
            n_iter_=np.array(fitted["n_iter_"], dtype=np.int64),
            n_features_in_=np.array(fitted["n_features_in_"], dtype=np.int64),
            coef_=coef,
            intercept_=np.asarray(fitted["intercept_"], dtype=coef.dtype),  # exact: from coef
            loss_curve_=np.asarray(fitted["loss_curve_"]),
        )
        names = fitted.get("feature_names_in_")
        if names is not None:
            # ensure_ascii (the default) escapes every non-ASCII character, lone
            # surrogates included, so any Python str round-trips.
            arrays["feature_names_in_"] = np.array(json.dumps([str(n) for n in names]))
            arrays["version"] = np.array(2, dtype=np.int64)
    return arrays


def decode_feature_names(member):
    """The feature names held by a feature_names_in_ member, as a list of str.

    Raises
    ------
    ValueError
        If the member's text is not a JSON array of strings.
    """
    try:
        names = json.loads(str(member[()]))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError; nesting too deep
        raise FormatError(f"feature_names_in_ is not valid JSON ({exc})") from None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise FormatError("feature_names_in_ must be a JSON array of strings")
    return names


def _portable_params(params):
    """The parameters as JSON values; other values become None, with a warning."""
    portable = {}
    for name, value in params.items():
        if isinstance(value, (bool, np.bool_)):
            portable[name] = bool(value)
        elif value is None or isinstance(value, str):
            portable[name] = value
        elif isinstance(value, numbers.Integral):
            portable[name] = int(value)
        elif isinstance(value, numbers.Real):
            portable[name] = float(value)
        else:
            # stacklevel 5: the user's save call, through model.save or linreg.save,
            # the model's _model_file_members, members() and this function.
            warnings.warn(
                f"{name}={value!r} cannot be saved (it is code or generator state); "
                f"the loaded model has {name}=None",
                UserWarning,
                stacklevel=5,
            )
            portable[name] = None
    return portable


# -- writing ---------------------------------------------------------------------------


def write(path, arrays):
    """Write a model file holding `arrays` ({member name: array}, as from `members`).

    Parameters
    ----------
    path : str, bytes or os.PathLike, or a binary file object with write()
        A file name is written atomically: the archive goes to a new file in the same
        directory, is flushed to disk (fsync), then renamed over `path`; if anything
        fails, that new file is removed and a file already at `path` is left as it was.
        The file at `path` keeps its permission bits; a symbolic link is followed (its
        target is replaced), and a device or pipe is written through. A file object
        is written at its current position (no atomicity: that is the caller's).
    arrays : dict of str to array_like
        Checked against the format first, so that a file `read` would refuse is never
        written.

    Raises
    ------
    TypeError
        If `path` is neither a file name nor a binary file object.
    ValueError
        If `arrays` does not fit the format.
    OSError
        If the file cannot be written; the previous file is then intact.
    """
    if hasattr(path, "write") and not isinstance(path, (str, bytes, os.PathLike)):
        if isinstance(path, io.TextIOBase):
            raise TypeError("path is a text file object: open the file in binary mode ('wb')")
        arrays = _checked_for_writing(arrays)
        _write_archive(path, arrays)
        return
    path = _file_name(path, "a binary file object with write()")
    arrays = _checked_for_writing(arrays)
    target = os.path.realpath(path)  # through symbolic links, as open(path, "wb") writes
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        # /dev/null, a named pipe: a stream, not a file that can be replaced.
        with open(target, "wb") as file:
            _write_archive(file, arrays)
        return
    directory, name = os.path.split(target)
    descriptor, temporary = _new_file_beside(directory, name)
    try:
        with os.fdopen(descriptor, "wb") as file:
            if mode is not None:
                os.chmod(temporary, stat.S_IMODE(mode))
            _write_archive(file, arrays)
            file.flush()
            os.fsync(file.fileno())  # the data are on disk before the name points at them
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)


def _file_name(path, alternative):
    """`path` as a str file name, or a TypeError naming it."""
    # Not an int: open() would take it as a file descriptor (save(True) wrote to stdout
    # and closed it).
    if isinstance(path, bytes):
        return os.fsdecode(path)
    if isinstance(path, (str, os.PathLike)):
        path = os.fspath(path)
        return os.fsdecode(path) if isinstance(path, bytes) else path
    raise TypeError(
        f"path must be a file name (str, bytes or os.PathLike) or {alternative}, "
        f"got {type(path).__name__}"
    )


def _new_file_beside(directory, name):
    """A new, empty file in `directory`: (descriptor, its path)."""
    for _ in range(100):
        temporary = os.path.join(directory, f".{name}.{os.urandom(6).hex()}.tmp")
        try:
            # 0o666 less the umask, as open(path, "wb") would create the file.
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file in {directory!r}")


def _fsync_directory(directory):
    """Make the rename itself durable, where the system allows it (not on Windows)."""
    try:
        descriptor = os.open(directory or os.curdir, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _write_archive(file, arrays):
    """The archive numpy.savez writes: stored (uncompressed) .npy members, zip64 headers."""
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED,
                         allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def _checked_for_writing(arrays):
    """`arrays` as ndarrays in MEMBERS order, or a ValueError naming what does not fit."""
    unknown = sorted(set(arrays) - set(MEMBERS))
    if unknown:
        raise ValueError(f"a model file cannot hold {unknown}; its members are {MEMBERS}")
    checked = {name: np.asarray(arrays[name]) for name in MEMBERS if name in arrays}
    problem = _check_layout(checked)
    if problem is None:
        for name, array in checked.items():
            problem = _check_header(name, array.shape, array.dtype, checked)
            if problem is None:
                problem = _check_value(name, array, checked)
            if problem is not None:
                break
    if problem is not None:
        raise ValueError(f"cannot write this model file: {problem}")
    return checked


# -- reading ---------------------------------------------------------------------------


def read(path):
    """Read a model file into {member name: array}, checked against the format.

    Parameters
    ----------
    path : str, bytes or os.PathLike, or a binary file object with read() and seek()

    Returns
    -------
    dict of str to ndarray
        The members present: "format", "version", "estimator", "params" always, the
        FITTED ones too for a fitted model. Arrays are in native byte order; text
        members are 0-d str arrays of valid Unicode.

    Raises
    ------
    TypeError
        If `path` is neither a file name nor a binary file object.
    FileNotFoundError
        If there is no such file.
    ValueError
        When the file cannot be read (a directory, no permission), is not a model file
        of a version this module reads, or breaks any of the format's limits (see the
        module's docstring); the message says why.
    """
    if hasattr(path, "read") and not isinstance(path, (str, bytes, os.PathLike)):
        if isinstance(path, io.TextIOBase):
            raise TypeError("path is a text file object: open the file in binary mode ('rb')")
        if not (hasattr(path, "seek") and getattr(path, "seekable", lambda: True)()):
            raise TypeError("path is a file object without seek(): a zip archive is read "
                            "from its end, so pass a file name or a seekable file")
        return _read_file(path, getattr(path, "name", "the file object"))
    path = _file_name(path, "a binary file object with read() and seek()")
    try:
        file = open(path, "rb")
    except FileNotFoundError:
        raise
    except OSError as exc:  # a directory, no permission: not a file linreg can read
        raise ValueError(f"{path} is not a readable linreg model file: {exc}") from None
    with file:
        return _read_file(file, path)


def _read_file(file, name):
    try:
        start = file.tell()
        size = file.seek(0, os.SEEK_END) - start
        file.seek(start)
        with zipfile.ZipFile(file) as archive:
            return _read_archive(archive, size)
    except _NewerVersion as exc:
        raise ValueError(f"{name} {exc}") from None
    except FormatError as exc:
        raise ValueError(f"{name} is not a valid linreg model file: {exc}") from None
    except zlib.error as exc:
        raise ValueError(f"{name} is not a readable linreg model file: corrupt compressed "
                         f"data ({exc})") from None
    except MALFORMED as exc:
        # What zipfile and numpy raise on a broken archive (RecursionError, a
        # RuntimeError, included: none is expected, but a file must not raise anything
        # but a ValueError).
        raise ValueError(f"{name} is not a readable linreg model file: corrupt or "
                         f"truncated zip archive ({type(exc).__name__}: {exc})") from None


class _NewerVersion(FormatError):
    """A file of a format version after VERSION: valid, maybe, but not for this linreg."""


def _read_archive(archive, file_size):
    entries = {}
    for info in archive.infolist():
        if info.filename in entries:
            raise FormatError(f"member {info.filename!r} appears twice")
        entries[info.filename] = info
    budget = Budget(file_size)
    contents = {}

    def read_member(name):
        contents[name] = _read_member(archive, entries[name + ".npy"], name, file_size,
                                      budget, contents)

    # The marker and version first: another version may define other members.
    if "format.npy" not in entries:
        raise FormatError(f"no {FORMAT!r} marker")
    read_member("format")
    if "version.npy" not in entries:
        raise FormatError("it has no 'version' member")
    read_member("version")
    version = int(contents["version"])
    allowed = _VERSION_MEMBERS[version]
    unknown = sorted(set(entries) - {name + ".npy" for name in allowed})
    if unknown:
        shown = ", ".join(repr(name) for name in unknown[:5])
        raise FormatError(f"unknown members {shown}{', ...' if len(unknown) > 5 else ''}; "
                          f"version {version} files hold {', '.join(allowed)}")
    for name in ("estimator", "params"):
        if name + ".npy" not in entries:
            raise FormatError(f"it has no {name!r} member")
    problem = _check_fitted_set({name for name in MEMBERS if name + ".npy" in entries})
    if problem is not None:
        raise FormatError(problem)
    for name in MEMBERS[2:]:
        if name + ".npy" in entries:
            if name == "feature_names_in_":
                # Their text is charged with the member; the str objects cost more.
                budget.take(f"{name} (as Python strings)",
                            _BYTES_PER_NAME * int(contents["n_features_in_"]))
            read_member(name)
    return contents


def _read_member(archive, info, name, file_size, budget, contents):
    """One member as an array, its header checked against the format and `contents`
    (the members read before it) before its data are read."""
    array = read_npy_member(
        archive, info, name, file_size, budget,
        check_header=lambda shape, dtype: _check_header(name, shape, dtype, contents),
    )
    problem = _check_value(name, array, contents)
    if problem is not None:
        raise FormatError(problem)
    return array




def _check_layout(arrays):
    """The member set rules that `_read_archive` checks as it goes."""
    for name in ("format", "version", "estimator", "params"):
        if name not in arrays:
            return f"it has no {name!r} member"
    problem = _check_fitted_set(set(arrays))
    if problem is None and "feature_names_in_" in arrays and int(arrays["version"]) < 2:
        problem = "feature_names_in_ needs format version 2"
    return problem


def _check_fitted_set(names):
    """Why a file holding the members `names` is not one model, or None."""
    present = [name for name in FITTED if name in names]
    if present and len(present) != len(FITTED):
        return f"incomplete model, missing {sorted(set(FITTED) - set(present))}"
    optional = sorted(set(OPTIONAL_FITTED) & set(names))
    if optional and not present:
        return f"{optional} without the fitted model ({', '.join(FITTED)})"
    return None


def _check_header(name, shape, dtype, contents):
    """Why a member of this shape and dtype cannot be in a model file, or None.

    `contents` holds the members before it in MEMBERS order (those present)."""
    shape = tuple(shape)
    where = f"member {name!r}"
    if name in MAX_TEXT_CHARS:
        if shape != () or dtype.kind != "U" or dtype.itemsize == 0:
            return f"{where} must be a text (a 0-d str array), got {dtype} {shape}"
        if dtype.itemsize // 4 > MAX_TEXT_CHARS[name]:
            return (f"{where} holds {dtype.itemsize // 4} characters; at most "
                    f"{MAX_TEXT_CHARS[name]}")
        return None
    if name == "feature_names_in_":
        if shape != () or dtype.kind != "U" or dtype.itemsize == 0:
            return f"{where} must be a text (a 0-d str array), got {dtype} {shape}"
        return None
    if name in _INTEGER_MEMBERS:
        if shape != () or dtype.kind not in "iu":
            return f"{where} must be an integer, got {dtype} {shape}"
        return None
    is_float = dtype.kind == "f" and dtype.itemsize in (4, 8)
    if name == "coef_":
        if not is_float or len(shape) not in (1, 2):
            return f"coef_ must be a 1-D or 2-D float array, got {dtype} {shape}"
        n_features = contents.get("n_features_in_")
        if n_features is not None and shape[-1] != int(n_features):
            return (f"coef_ and n_features_in_ disagree: coef_ has shape {shape}, "
                    f"n_features_in_ is {int(n_features)}")
        if 0 in shape:
            return f"coef_ of shape {shape}: a model has at least one feature and one output"
        return None
    if name == "intercept_":
        coef = contents.get("coef_")
        if coef is not None and (
            shape != coef.shape[:-1] or dtype.newbyteorder("=") != coef.dtype
        ):
            return (f"intercept_ of shape {shape} and dtype {dtype} does not match coef_ "
                    f"{coef.shape} {coef.dtype}")
        if not is_float or len(shape) > 1:
            return f"intercept_ must be a float scalar or 1-D array, got {dtype} {shape}"
        return None
    if name == "loss_curve_":
        if dtype.kind != "f" or dtype.itemsize != 8 or len(shape) != 1:
            return f"loss_curve_ must be a 1-D float64 array, got {dtype} {shape}"
        return None
    return f"unknown member {name!r}"


def _check_value(name, array, contents):
    """Why the value of a small member cannot be in a model file, or None."""
    if name in MAX_TEXT_CHARS or name == "feature_names_in_":
        codes = np.frombuffer(array.tobytes(), dtype=np.uint32)
        # numpy raises SystemError converting code points past U+10FFFF to str, and a
        # lone surrogate cannot be printed: neither is text.
        if ((codes > 0x10FFFF) | ((codes >= 0xD800) & (codes <= 0xDFFF))).any():
            return f"member {name!r} is not valid Unicode text"
        if name == "format" and str(array[()]) != FORMAT:
            return f"no {FORMAT!r} marker"
        if name == "feature_names_in_":
            try:
                n_names = len(decode_feature_names(array))
            except FormatError as exc:
                return str(exc)
            n_features = int(contents["n_features_in_"])
            if n_names != n_features:
                return (f"feature_names_in_ holds {n_names} names, but n_features_in_ "
                        f"is {n_features}")
        return None
    if name == "version":
        version = int(array)
        if version > VERSION:
            raise _NewerVersion(f"was written in format version {version}; this linreg "
                                f"reads up to version {VERSION}: upgrade linreg")
        if version < 1:
            return f"invalid format version {version} (versions start at 1)"
        return None
    if name == "n_iter_" and int(array) < 0:
        return f"n_iter_ must be a non-negative integer, got {int(array)}"
    if name == "n_features_in_" and int(array) < 1:
        return f"n_features_in_ must be at least 1, got {int(array)}"
    return None
