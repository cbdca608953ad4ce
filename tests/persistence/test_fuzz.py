"""Fuzzing linreg.load: whatever bytes it is given, it returns a valid model or raises
ValueError, never another exception (zlib.error, RuntimeError, MemoryError, ...).

The inputs start from valid files (stored as linreg writes them, and deflated as
numpy.savez_compressed writes them) and are corrupted byte-wise (flips, cuts,
insertions), or rebuilt with one member replaced by a forged .npy or raw bytes, under
zip entries whose sizes, CRC, flags and compression method may lie. Examples are few
and derandomized (the "ci" profile, tests/conftest.py) so the suite stays fast.
"""
import io
import zipfile

import numpy as np
from _archives import Entry, entries_of, fitted_model, members_of, model_bytes, npz_of, raw_zip
from hypothesis import given, settings
from hypothesis import strategies as st

import linreg

_MODEL, _X = fitted_model(k=2)
VALID = {
    "stored 2 outputs": model_bytes(_MODEL),
    "stored 1 output": model_bytes(fitted_model(k=None, dtype=np.float32)[0]),
    "unfitted": model_bytes(linreg.GDRegressor(tol=1e-3)),
}
VALID["deflated"] = npz_of(members_of(VALID["stored 2 outputs"]), zipfile.ZIP_DEFLATED)
MEMBER_NAMES = [name for name in members_of(VALID["stored 2 outputs"])]


def check_load(data):
    """The property: a valid, usable model, or a ValueError."""
    try:
        model = linreg.load(io.BytesIO(data))
    except ValueError:
        return
    assert isinstance(model, (linreg.GDRegressor, linreg.SGDRegressor))
    if hasattr(model, "coef_"):
        assert np.isfinite(model.coef_).all() and np.isfinite(model.intercept_).all()
        X = np.ones((2, model.n_features_in_))
        assert np.isfinite(model.predict(X)).all()


@st.composite
def corrupted_bytes(draw):
    data = bytearray(VALID[draw(st.sampled_from(sorted(VALID)))])
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "overwrite"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        else:  # 4 bytes: a size, an offset or a CRC field, say
            data[at : at + 4] = draw(st.sampled_from([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00",
                                                      b"\x00\x00\x00\x80", b"\x08\x00\x00\x00"]))
    return bytes(data)


@settings(max_examples=300)
@given(corrupted_bytes())
def test_corrupted_bytes_load_or_raise_value_error(data):
    check_load(data)


DESCRS = ["<f8", ">f8", "<f4", "<f2", "<i8", "|u1", "|b1", "<U12", "<U200", "<c16", "O",
          "|V8", "<M8[s]", "(2,)<f8", "[('a', '<f8')]"]


@st.composite
def forged_npy(draw):
    """A .npy whose header and data may disagree with each other and with the format."""
    shape = tuple(draw(st.lists(st.integers(-1, 5) | st.sampled_from([True, 2**40]),
                                max_size=3)))
    descr = draw(st.sampled_from(DESCRS))
    descr_text = descr if descr.startswith("[") else repr(descr)
    header = "{'descr': %s, 'fortran_order': %s, 'shape': %r, }" % (
        descr_text, draw(st.sampled_from(["False", "True", "0"])), shape)
    if draw(st.booleans()):
        header = draw(st.sampled_from(["{}", "[]", "{'descr': '<f8'}", "1/0", "{" * 50]))
    text = header.encode("latin1")
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    version = draw(st.sampled_from([(1, 0), (2, 0), (3, 0), (0, 9)]))
    length = len(text).to_bytes(2 if version == (1, 0) else 4, "little")
    return (b"\x93NUMPY" + bytes(version) + length + text
            + draw(st.binary(max_size=64)))


def rarely(draw):
    """True one time in four: the lies that end a load early stay a minority."""
    return draw(st.integers(0, 3)) == 3  # not 0: hypothesis favours small values


@st.composite
def rebuilt_archives(draw):
    entries = entries_of(VALID[draw(st.sampled_from(["stored 2 outputs", "deflated"]))])
    index = draw(st.integers(0, len(entries) - 1))
    payload = draw(forged_npy() | forged_npy() | st.binary(max_size=200)
                   | st.just(entries[draw(st.integers(0, len(entries) - 1))].raw))
    method = zipfile.ZIP_DEFLATED if draw(st.booleans()) else zipfile.ZIP_STORED
    flags = 0
    if rarely(draw):
        method = draw(st.sampled_from([zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA, 99]))
    if rarely(draw):
        flags = draw(st.sampled_from([0x1, 0x8, 0x20, 0x40, 0x800]))
    raw = None if method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) else payload
    entry = Entry(entries[index].name, payload, method=method, raw=raw, flags=flags)
    if rarely(draw):
        entry.file_size = draw(st.sampled_from([0, 1, len(payload) + 1, 2**31, 2**32 - 1]))
    if rarely(draw):
        entry.crc ^= 1
    entries[index] = entry
    if rarely(draw):  # one more member, maybe a duplicate name
        entries.append(Entry(draw(st.sampled_from([entries[0].name, b"extra.npy"])),
                             entries[0].raw))
    return raw_zip(entries)


@settings(max_examples=300)
@given(rebuilt_archives())
def test_rebuilt_archives_load_or_raise_value_error(data):
    check_load(data)


@settings(max_examples=100)
@given(st.sampled_from(MEMBER_NAMES), st.integers(0, 20))
def test_members_cut_short_load_or_raise_value_error(name, keep):
    contents = members_of(VALID["stored 2 outputs"])
    value = contents[name]
    contents[name] = value.reshape(-1)[:keep] if value.ndim else value
    check_load(npz_of(contents))
