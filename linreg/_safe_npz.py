"""Reading ``.npy`` members of a zip archive without trusting the archive.

linreg._model_file reads model files (``numpy.savez`` archives) through this module,
which knows zip and ``.npy`` only, not the model format: it imports nothing from linreg.

Before a member is decompressed, its entry in the archive's table of contents must say
stored or deflated, not encrypted or patched, with sizes that agree with each other and
with the file, and the member's declared size is charged to a `Budget`: all members
together may expand to at most ``MAX_EXPANSION * file size + EXPANSION_ALLOWANCE``
bytes. The ``.npy`` header is then parsed here (at most MAX_HEADER_BYTES) and handed to
the caller's check before the data are allocated; the data are read in bounded chunks
up to exactly the declared size (zipfile then checks the CRC). Every problem found is a
`FormatError` (a ValueError); `MALFORMED` lists what zipfile, zlib and numpy raise on a
broken archive, for the caller to turn into a ValueError too.
"""
import ast
import io
import math
import struct
import zipfile
import zlib

import numpy as np

__all__ = [
    "MAX_EXPANSION",
    "EXPANSION_ALLOWANCE",
    "MAX_HEADER_BYTES",
    "MALFORMED",
    "FormatError",
    "Budget",
    "read_npy_member",
]

#: Decompressed bytes, all members together, may be at most MAX_EXPANSION times the
#: file's size plus EXPANSION_ALLOWANCE. Deflate can expand about 1032x, which is how a
#: 1 MB file could claim 1 GiB; this bound keeps what a file can make `read` allocate
#: proportional to its size (a 20 kB file: under 2 MiB) without a fixed cap on the size
#: of a model or the length of its loss curve, which training does not have either.
#: linreg writes its members uncompressed (ratio 1), so its own files always fit.
#: A file recompressed with numpy.savez_compressed fits too unless it holds more than
#: 1 MiB of highly repetitive numbers: coefficients shrink about 1x, but the loss curve
#: of a long converged GD run repeats one value (18x at 5000 epochs, more beyond), and
#: such a file is refused (load it from the file linreg wrote).
MAX_EXPANSION = 32
EXPANSION_ALLOWANCE = 2**20
#: A member's .npy header (a short dict literal; numpy writes 118 bytes or so for the
#: shapes here) may be at most this long. numpy reads up to 4 GiB before checking.
MAX_HEADER_BYTES = 4096

_ZIP_ENCRYPTED = 0x01  # general purpose flag bits, which zipfile reports as errors
_ZIP_PATCHED = 0x20  # of other types (RuntimeError, NotImplementedError)
_ZIP_STRONG_ENCRYPTION = 0x40
_READ_CHUNK = 2**20
# What zipfile, zlib and numpy raise on a malformed archive; all become ValueError.
# (OSError: a seek to an offset the archive makes up; RuntimeError: encryption;
# NotImplementedError: a compression method; EOFError: a member cut short.)
MALFORMED = (ValueError, zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError,
             OSError, struct.error, NotImplementedError, RuntimeError, OverflowError)


class FormatError(ValueError):
    """What the format's checks find wrong with a file (the message says what)."""


class Budget:
    """How many more decompressed bytes the file may make `read` allocate."""

    def __init__(self, file_size):
        self.left = MAX_EXPANSION * file_size + EXPANSION_ALLOWANCE
        self.total = self.left

    def take(self, member, n_bytes):
        if n_bytes > self.left:
            raise FormatError(
                f"member {member!r} declares {n_bytes} bytes; all members together may "
                f"hold at most {self.total} (MAX_EXPANSION={MAX_EXPANSION} times the file's "
                f"size + {EXPANSION_ALLOWANCE}): a compression bomb or a corrupt size"
            )
        self.left -= n_bytes


def read_npy_member(archive, info, name, file_size, budget, check_header):
    """One ``.npy`` member of `archive` as an array in native byte order.

    Parameters
    ----------
    archive : zipfile.ZipFile
    info : zipfile.ZipInfo
        The member's entry in the table of contents.
    name : str
        The member's name, for the messages and the budget.
    file_size : int
        The archive's size in bytes.
    budget : Budget
        Charged with the member's declared (decompressed) size before it is opened.
    check_header : callable
        ``check_header(shape, dtype)``: why a member of this shape and dtype cannot be
        in the file (str), or None; called before the data are read.

    Raises
    ------
    FormatError
        Whatever is wrong, naming the member.
    """
    where = f"member {name!r}"
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise FormatError(f"{where} uses compression method {info.compress_type}; linreg "
                          "reads stored or deflated members only")
    if info.flag_bits & (_ZIP_ENCRYPTED | _ZIP_STRONG_ENCRYPTION | _ZIP_PATCHED):
        raise FormatError(f"{where} is encrypted or patched (zip flags {info.flag_bits:#x})")
    if info.compress_size > file_size or (
        info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size
    ):
        raise FormatError(f"{where} has inconsistent sizes ({info.compress_size} bytes "
                          f"stored, {info.file_size} declared, in a {file_size}-byte file)")
    budget.take(name, info.file_size)
    with archive.open(info) as stream:
        try:
            major_minor = np.lib.format.read_magic(stream)  # reads exactly 8 bytes
        except ValueError as exc:
            raise FormatError(f"{where} is not a .npy array ({exc})") from None
        if major_minor not in ((1, 0), (2, 0)):
            raise FormatError(f"{where}: .npy format version {major_minor} (linreg reads "
                              "1.0 and 2.0)")
        length_format = "<H" if major_minor == (1, 0) else "<I"
        length_bytes = _read_exactly(stream, struct.calcsize(length_format), where)
        (header_length,) = struct.unpack(length_format, length_bytes)
        if header_length > MAX_HEADER_BYTES:
            raise FormatError(f"{where}: a {header_length}-byte .npy header (at most "
                              f"{MAX_HEADER_BYTES})")
        header = _read_exactly(stream, header_length, where)
        shape, fortran_order, dtype = _parse_header(major_minor, length_bytes, header, where)
        problem = check_header(shape, dtype)
        if problem is not None:
            raise FormatError(problem)
        n_data = math.prod(shape) * dtype.itemsize
        if 8 + len(length_bytes) + header_length + n_data != info.file_size:
            raise FormatError(f"{where}: its .npy header declares {n_data} bytes of data, "
                              f"which does not match the member's size {info.file_size}")
        # Reading exactly file_size bytes also makes zipfile check the member's CRC.
        data = _read_exactly(stream, n_data, where)
    array = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran_order else "C")
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    return array


def _read_exactly(stream, n_bytes, where):
    """n_bytes from `stream`, read in bounded chunks; ValueError if it has fewer."""
    data = bytearray(n_bytes)
    view = memoryview(data)
    filled = 0
    while filled < n_bytes:
        chunk = stream.read(min(_READ_CHUNK, n_bytes - filled))
        if not chunk:
            raise FormatError(f"{where} is truncated ({filled} of {n_bytes} bytes)")
        view[filled : filled + len(chunk)] = chunk
        filled += len(chunk)
    return data


def _parse_header(major_minor, length_bytes, header, where):
    """(shape, fortran_order, dtype) from a bounded .npy header, via numpy's parser."""
    try:
        # numpy retries a header that is not a Python literal with a Python 2 filter
        # (and a warning); linreg never wrote such headers, so refuse them up front.
        if not isinstance(ast.literal_eval(header.decode("latin1")), dict):
            raise FormatError("not a dict")
        read_header = (np.lib.format.read_array_header_1_0 if major_minor == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran_order, dtype = read_header(io.BytesIO(bytes(length_bytes + header)),
                                                  max_header_size=MAX_HEADER_BYTES)
    except Exception as exc:  # noqa: BLE001 - numpy's parser of untrusted text raises
        # SyntaxError, TypeError, IndexError, ... : whatever it raises, the file is bad.
        raise FormatError(f"{where}: unreadable .npy header ({type(exc).__name__}: {exc})") \
            from None
    if not all(type(n) is int and n >= 0 for n in shape):  # bool is an int to numpy
        raise FormatError(f"{where}: invalid shape {shape!r}")
    return shape, fortran_order, dtype
