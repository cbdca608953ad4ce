"""Builders of model files, valid and hostile, for the persistence tests (not a test module).

`raw_zip` writes a zip archive byte by byte from what each entry claims (sizes, CRC,
flags, compression method), so a test can forge what zipfile refuses to write.
"""
import functools
import io
import struct
import zipfile
import zlib

import numpy as np

import linreg


def fitted_model(k=2, dtype=np.float64, Estimator=linreg.SGDRegressor):
    """A small fitted model (4 features; k outputs, None for 1-D) and its X."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 4)).astype(dtype)
    y = X @ rng.standard_normal((4,) if k is None else (4, k)) + 0.5
    seeded = {"random_state": 0} if Estimator is linreg.SGDRegressor else {}
    return Estimator(lr=0.05, epochs=3, **seeded).fit(X, y.astype(dtype)), X


def model_bytes(model):
    buffer = io.BytesIO()
    model.save(buffer)
    return buffer.getvalue()


def members_of(data):
    """{member name without ".npy": array} as plain numpy reads them."""
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def npy(array):
    """The .npy bytes numpy writes for `array`."""
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def npy_header(header, n_data_bytes=0, version=(1, 0), header_length=None):
    """A .npy file start: magic, header length, `header` (a str, padded as numpy pads
    it), then n_data_bytes zero bytes. header_length overrides the length field."""
    text = header.encode("latin1")
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    length_format = "<H" if version == (1, 0) else "<I"
    length = len(text) if header_length is None else header_length
    return (b"\x93NUMPY" + bytes(version) + struct.pack(length_format, length) + text
            + bytes(n_data_bytes))


def zip_of(members, compression=zipfile.ZIP_STORED):
    """A zip archive of {name: bytes} (".npy" appended to each name), via zipfile."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name + ".npy", data)
    return buffer.getvalue()


def npz_of(arrays, compression=zipfile.ZIP_STORED):
    return zip_of({name: npy(array) for name, array in arrays.items()}, compression)


def deflate(data):
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


@functools.lru_cache(maxsize=None)
def deflated_with_zeros(prefix, n_mib):
    """(raw deflate stream, CRC-32, size) of `prefix` followed by n_mib MiB of zero
    bytes, built in well under a second: the prefix and one MiB of zeros compressed with
    full flushes (so each stands alone), the MiB block repeated."""
    chunk = bytes(2**20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    final = compressor.flush()  # an empty last block
    crc = zlib.crc32(prefix)
    for _ in range(n_mib):
        crc = zlib.crc32(chunk, crc)
    return head + block * n_mib + final, crc, len(prefix) + n_mib * 2**20


class Entry:
    """One archive entry as `raw_zip` writes it; every field can lie."""

    def __init__(self, name, payload, *, method=0, file_size=None, crc=None, flags=0,
                 raw=None):
        self.name = name.encode() if isinstance(name, str) else name
        # payload: the member's content; raw: its stored bytes (default: payload,
        # deflated when method is 8)
        if raw is None:
            raw = deflate(payload) if method == zipfile.ZIP_DEFLATED else payload
        self.raw = raw
        self.method = method
        self.file_size = len(payload) if file_size is None else file_size
        self.crc = zlib.crc32(payload) if crc is None else crc
        self.flags = flags


def raw_zip(entries):
    """The bytes of a zip archive holding `entries` exactly as they claim."""
    out = bytearray()
    central = bytearray()
    for entry in entries:
        offset = len(out)
        fields = (20, entry.flags, entry.method, 0, 0x21, entry.crc, len(entry.raw),
                  entry.file_size, len(entry.name), 0)
        out += struct.pack("<4s5HLLLHH", b"PK\x03\x04", *fields) + entry.name + entry.raw
        central += struct.pack("<4s6HLLLHHHHHLL", b"PK\x01\x02", 20, *fields, 0, 0, 0, 0,
                               offset) + entry.name
    end = struct.pack("<4s4HLLH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
                      len(central), len(out), 0)
    return bytes(out + central + end)


def entries_of(data):
    """A valid archive's members as stored Entry objects, in order."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [Entry(info.filename, archive.read(info)) for info in archive.infolist()]
