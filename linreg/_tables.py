"""Reading the data files of the `linreg` command: CSV, .npy, .npz and Parquet.

`read_table(path)` returns a `Table`: named columns of float64. CSV is read with NumPy
alone (its first row names the columns); Parquet needs pyarrow, imported only for a
Parquet file. Every problem a user can cause (a missing file, a column that is not a
number, a format we do not read) raises `TableError` with a one-line message naming
the file, the column and the row, for the command to print. Imports nothing from linreg.
"""
import csv
import os
import warnings
from typing import NamedTuple

import numpy as np

__all__ = ["Table", "TableError", "read_table", "FORMATS"]

FORMATS = ".csv, .npy, .npz or .parquet"


class TableError(ValueError):
    """A data file that cannot be used, with a message for the user (one line)."""


class Table(NamedTuple):
    """Columns of float64, named; `named` says whether the names came from the file
    (a CSV header, Parquet) or were made up ("0", "1", ... for an unnamed array).
    `not_numeric` maps the name of each column that holds something else than numbers
    (NaN in `values`) to why: using one raises TableError, ignoring one is fine."""

    names: list
    values: np.ndarray  # (n_rows, n_columns) float64
    named: bool
    not_numeric: dict = {}

    def column(self, name):
        """The column `name` (a name, or for unnamed columns an index such as "-1")."""
        return self.values[:, self.index(name)]

    def index(self, name):
        """The position of column `name`; TableError listing the columns if absent."""
        if name in self.not_numeric:
            raise TableError(self.not_numeric[name])
        if name in self.names:
            return self.names.index(name)
        if not self.named:
            try:
                position = int(name)
            except ValueError:
                position = None
            if position is not None and -len(self.names) <= position < len(self.names):
                return position % len(self.names)
        shown = ", ".join(repr(n) for n in self.names[:20])
        more = f" and {len(self.names) - 20} more" if len(self.names) > 20 else ""
        raise TableError(f"unknown column {name!r}: the columns are {shown}{more}")

    def select(self, names):
        """A (n_rows, len(names)) float64 array of the columns `names`, in that order."""
        return self.values[:, [self.index(name) for name in names]]


def read_table(path):
    """Read the data file `path` into a `Table`.

    Parameters
    ----------
    path : str
        A ``.csv`` file (comma-separated, the first row names the columns; every other
        row one sample), a ``.npy`` file holding a 2-D array (columns named "0", "1",
        ...), an ``.npz`` file holding one 2-D array, or ``X`` and ``y`` (y becomes the
        last column, named "y"), or a ``.parquet`` file (needs pyarrow).

    Returns
    -------
    Table

    Raises
    ------
    TableError
        A missing or unreadable file, an unknown format, a column that is not numeric
        (named, with the first row that is not), rows of different lengths.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "data.csv")
    >>> with open(path, "w") as file:
    ...     _ = file.write("x,y\\n1,3\\n2,6\\n")
    >>> table = read_table(path)
    >>> table.names, table.column("y").tolist()
    (['x', 'y'], [3.0, 6.0])
    """
    if not os.path.exists(path):
        raise TableError(f"{path}: no such file")
    if os.path.isdir(path):
        raise TableError(f"{path}: is a directory, not a data file")
    extension = os.path.splitext(path)[1].lower()
    readers = {".csv": _read_csv, ".txt": _read_csv, ".npy": _read_npy, ".npz": _read_npz,
               ".parquet": _read_parquet, ".pq": _read_parquet}
    if extension not in readers:
        raise TableError(f"{path}: unknown data format {extension or '(no extension)'!r}; "
                         f"linreg reads {FORMATS}")
    try:
        return readers[extension](path)
    except UnicodeDecodeError:  # before ValueError, its base: a binary file named .csv
        raise TableError(f"{path}: not a UTF-8 text file, so not CSV") from None
    except csv.Error as error:
        raise TableError(f"{path}: not readable as CSV ({error})") from None
    except OSError as error:
        raise TableError(f"{path}: cannot read it ({error.strerror or error})") from None


def _read_csv(path):
    with open(path, newline="", encoding="utf-8-sig") as file:
        header = next(csv.reader(file), None)
    if not header:
        raise TableError(f"{path}: empty file (a CSV file's first row names the columns)")
    names = [name.strip() for name in header]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise TableError(f"{path}: column names appear twice: {', '.join(map(repr, duplicated))}")
    try:
        # NumPy's fast parser, for the common case of plain numbers.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data": said below
            values = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2, dtype=np.float64,
                                encoding="utf-8-sig", comments=None)
    except ValueError:
        values, not_numeric = _parse_csv_slowly(path, names)  # quotes, or text cells
    else:
        not_numeric = {}
    if values.shape[0] == 0:
        raise TableError(f"{path}: no rows after the header")
    if values.shape[1] != len(names):
        raise TableError(f"{path}: the header names {len(names)} columns but the rows "
                         f"hold {values.shape[1]}")
    return Table(names, values, named=True, not_numeric=not_numeric)


def _parse_csv_slowly(path, names):
    """Parse with the csv module (quoted fields); a column that is not all numbers is
    recorded in `not_numeric` with its first bad cell, and only refused if used."""
    rows = []
    with open(path, newline="", encoding="utf-8-sig") as file:
        reader = csv.reader(file)
        next(reader)
        for line_number, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(names):
                raise TableError(f"{path}: line {line_number} holds {len(row)} fields, "
                                 f"the header {len(names)}")
            rows.append(row)
    values = np.full((len(rows), len(names)), np.nan)
    not_numeric = {}
    for j, name in enumerate(names):
        for i, row in enumerate(rows):
            try:
                values[i, j] = float(row[j])
            except ValueError:
                cell = row[j].strip()
                what = "is empty" if not cell else f"holds {cell!r}"
                not_numeric[name] = (
                    f"{path}: column {name!r} is not numeric (line {i + 2} {what}); linreg "
                    "trains on numbers only: choose the numeric columns with --features")
                break
    return values, not_numeric


def _as_float_columns(array, path, what):
    array = np.asarray(array)
    if array.dtype.kind not in "biuf":
        raise TableError(f"{path}: {what} is not numeric (dtype {array.dtype})")
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise TableError(f"{path}: {what} has {array.ndim} dimensions, linreg needs a table "
                         "(2-D: one row per sample)")
    return array.astype(np.float64)


def _read_npy(path):
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as error:  # pickled objects, or not a .npy file at all
        raise TableError(f"{path}: not a NumPy .npy file of numbers ({error})") from None
    values = _as_float_columns(array, path, "the array")
    return Table([str(i) for i in range(values.shape[1])], values, named=False)


def _read_npz(path):
    try:
        with np.load(path, allow_pickle=False) as archive:
            members = {name: archive[name] for name in archive.files}
    except (ValueError, OSError) as error:
        raise TableError(f"{path}: not a NumPy .npz file of numbers ({error})") from None
    if set(members) >= {"X", "y"}:
        X = _as_float_columns(members["X"], path, "X")
        y = _as_float_columns(members["y"], path, "y")
        if y.shape != (X.shape[0], 1):
            raise TableError(f"{path}: y must hold one value per row of X, got shape "
                             f"{members['y'].shape} for X of shape {members['X'].shape}")
        names = [str(i) for i in range(X.shape[1])] + ["y"]
        return Table(names, np.hstack([X, y]), named=False)
    if len(members) != 1:
        raise TableError(f"{path}: an .npz file must hold one array, or X and y; it holds "
                         f"{', '.join(sorted(members)) or 'nothing'}")
    (array,) = members.values()
    values = _as_float_columns(array, path, "the array")
    return Table([str(i) for i in range(values.shape[1])], values, named=False)


def _read_parquet(path):
    try:
        import pyarrow.parquet as parquet  # optional: only for Parquet files
    except ImportError:
        raise TableError(f"{path}: reading Parquet needs pyarrow (pip install pyarrow); "
                         "or save the data as CSV") from None
    try:
        table = parquet.read_table(path)
    except Exception as error:  # noqa: BLE001 - pyarrow's errors have no common base
        raise TableError(f"{path}: not a readable Parquet file ({error})") from None
    names = [str(name) for name in table.column_names]
    if not names or not table.num_rows:
        raise TableError(f"{path}: no data")
    columns, not_numeric = [], {}
    for name, column in zip(names, table.columns):
        values = column.to_numpy(zero_copy_only=False)
        if values.dtype.kind not in "biuf":
            not_numeric[name] = (f"{path}: column {name!r} is not numeric (type "
                                 f"{column.type}); linreg trains on numbers only: choose "
                                 "the numeric columns with --features")
            values = np.full(table.num_rows, np.nan)
        columns.append(values.astype(np.float64))
    return Table(names, np.column_stack(columns), named=True, not_numeric=not_numeric)
