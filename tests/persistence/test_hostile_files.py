"""linreg.load on hostile and malformed files: a ValueError, with bounded memory, always.

Each case is a file someone could hand over: compression bombs, lying sizes and headers,
encryption and compression methods the format does not use, metadata built to exhaust
the parser, and models whose shapes or numbers cannot be right.
"""
import io
import re
import tracemalloc
import zipfile

import numpy as np
import pytest
from _archives import (
    Entry,
    deflated_with_zeros,
    entries_of,
    fitted_model,
    members_of,
    model_bytes,
    npy,
    npy_header,
    npz_of,
    raw_zip,
)

import linreg


@pytest.fixture(scope="module")
def valid():
    """A fitted two-output model's file."""
    return model_bytes(fitted_model(k=2)[0])


def replaced(data, name, entry):
    """`data` with member `name` (no ".npy") replaced by `entry` (None: removed)."""
    entries = [e for e in entries_of(data) if e.name != (name + ".npy").encode()]
    return raw_zip(entries + ([entry] if entry is not None else []))


def load_with_peak(data):
    """(ValueError message or the model, peak bytes traced while loading `data`)."""
    tracemalloc.start()
    try:
        try:
            result = linreg.load(io.BytesIO(data))
        except ValueError as exc:
            result = str(exc)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def loss_curve_bomb(valid, n_mib, claimed_size=None):
    """`valid` whose loss_curve_ is n_mib MiB of zeros (a valid array, shape and CRC
    right), deflated to about n_mib kB."""
    header = npy_header("{'descr': '<f8', 'fortran_order': False, 'shape': (%d,), }"
                        % (n_mib * 2**17))
    raw, crc, size = deflated_with_zeros(header, n_mib)
    entry = Entry("loss_curve_.npy", b"", method=zipfile.ZIP_DEFLATED, raw=raw, crc=crc,
                  file_size=size if claimed_size is None else claimed_size)
    return replaced(valid, "loss_curve_", entry)


def test_a_compression_bomb_is_refused_before_decompressing(valid):
    # 1 GiB of zeros in a 1 MB file: numpy would read it all (and find a valid model).
    bomb = loss_curve_bomb(valid, 1024)
    assert len(bomb) < 1_100_000
    result, peak = load_with_peak(bomb)
    assert isinstance(result, str) and "compression bomb" in result, result
    assert peak < 4 * 2**20


def test_a_bomb_under_a_lying_size_reads_no_more_than_declared(valid):
    result, peak = load_with_peak(loss_curve_bomb(valid, 1024, claimed_size=2000))
    assert isinstance(result, str) and "linreg model file" in result, result
    assert peak < 4 * 2**20


def test_the_bound_is_on_expansion_not_on_the_size_of_a_model(valid):
    # 8 MiB of zero losses deflate to 8 kB: over MAX_EXPANSION x the file + 1 MiB.
    result, _ = load_with_peak(loss_curve_bomb(valid, 8))
    assert "compression bomb" in result
    # The same curve stored (as linreg writes) is a valid model of a large file.
    contents = members_of(valid)
    contents["loss_curve_"] = np.zeros(2**20)
    model = linreg.load(io.BytesIO(npz_of(contents)))
    assert model.loss_curve_.shape == (2**20,)


HUGE_SHAPE = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }"


@pytest.mark.parametrize(
    "entry, match",
    [
        # 8 TB declared in a .npy header over 16 bytes: numpy allocates it first.
        (Entry("loss_curve_.npy", npy_header(HUGE_SHAPE, 16)), "does not match"),
        # A 2 GiB .npy header length: numpy reads that much before checking it.
        (Entry("loss_curve_.npy", npy_header("{}", version=(2, 0), header_length=2**31)),
         "header"),
        (Entry("loss_curve_.npy", npy(np.ones(3)), method=zipfile.ZIP_DEFLATED,
               raw=b"\xff" * 40), "corrupt compressed data"),
        (Entry("loss_curve_.npy", npy(np.ones(3)), flags=0x1), "encrypted"),
        (Entry("loss_curve_.npy", npy(np.ones(3)), flags=0x40), "encrypted"),
        (Entry("loss_curve_.npy", npy(np.ones(3)), method=99, raw=b"xx"),
         "compression method 99"),
        (Entry("loss_curve_.npy", npy(np.ones(3)), method=zipfile.ZIP_STORED,
               file_size=10**6), "inconsistent sizes"),
        (Entry("loss_curve_.npy", npy(np.ones(3)), crc=0), "CRC"),
        (Entry("loss_curve_.npy", npy(np.ones(3))[:100]), "truncated|header"),
        (Entry("loss_curve_.npy", b"PK\x03\x04" + bytes(200)), "magic"),
        (Entry("loss_curve_.npy", npy_header("{'descr': '<f8', 'fortran_order': False, "
                                             "'shape': (2L,), }", 16)), "header"),
        (Entry("loss_curve_.npy", npy_header("[" * 190 + "]" * 190)), "header"),
        (Entry("loss_curve_.npy", npy_header("{'descr': '<f8', 'fortran_order': False, "
                                             "'shape': (True,), }", 8)), "shape"),
        (Entry("loss_curve_.npy", npy_header("{'descr': '<f8', 'fortran_order': False, "
                                             "'shape': (-8,), }", 8)), "shape"),
        (Entry("loss_curve_.npy", npy_header("{'descr': 'O', 'fortran_order': False, "
                                             "'shape': (1,), }", 8)), "float64"),
        (Entry("loss_curve_.npy", npy(np.ones(3)) + b"extra"), "does not match"),
    ],
    ids=["huge shape", "huge header", "corrupt deflate", "encrypted", "strong encryption",
         "unknown compression", "stored size lie", "bad crc", "truncated member",
         "not npy", "python 2 header", "nested header", "bool shape", "negative shape",
         "object dtype", "trailing bytes"],
)
def test_malformed_members_are_refused(valid, entry, match):
    result, peak = load_with_peak(replaced(valid, "loss_curve_", entry))
    assert isinstance(result, str), "loaded"
    assert "linreg model file" in result
    assert re.search(match, result), result
    assert peak < 4 * 2**20


def test_bzip2_and_lzma_members_are_refused(valid):
    # zipfile would decompress them (bzip2 expands zeros a millionfold); the format
    # uses stored and deflated members only.
    for method in (zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        with zipfile.ZipFile(io.BytesIO(valid)) as archive:
            contents = {info.filename: archive.read(info) for info in archive.infolist()}
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=method) as archive:
            for name, data in contents.items():
                archive.writestr(name, data)
        with pytest.raises(ValueError, match=f"compression method {method}"):
            linreg.load(io.BytesIO(buffer.getvalue()))


def test_deflated_files_written_by_numpy_load(valid):
    # numpy.savez_compressed of the same members: a valid model file.
    model = linreg.load(io.BytesIO(npz_of(members_of(valid), zipfile.ZIP_DEFLATED)))
    np.testing.assert_array_equal(model.coef_, linreg.load(io.BytesIO(valid)).coef_)


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda e: e + [Entry("evil.npy", npy(np.ones(3)))], "unknown members 'evil.npy'"),
        (lambda e: e + [Entry("readme.txt", b"hello")], "unknown members"),
        (lambda e: e + [e[-1]], "appears twice"),
        (lambda e: [x for x in e if x.name != b"version.npy"], "version"),
        (lambda e: [x for x in e if x.name != b"params.npy"], "'params'"),
    ],
    ids=["unknown npy", "unknown file", "duplicate", "no version", "no params"],
)
def test_unexpected_member_sets_are_refused(valid, mutate, match):
    with pytest.raises(ValueError, match=match):
        linreg.load(io.BytesIO(raw_zip(mutate(entries_of(valid)))))


def with_params(valid, text):
    contents = members_of(valid)
    contents["params"] = np.array(text)
    return io.BytesIO(npz_of(contents))


@pytest.mark.parametrize(
    "text, match",
    [
        ("[" * 60000 + "]" * 5000, "not a flat JSON object"),
        ('{"lr": ' + "[" * 30000 + "]" * 30000 + "}", "not a flat JSON object"),
        ('{"lr": {"a": 1}}', "not a flat JSON object"),
        ('{"lr": [0.1]}', "not a flat JSON object"),
        ('["lr", 0.1]', "not a JSON object"),
        ('"lr"', "not a JSON object"),
        ('{"epochs": 1' + "0" * 5000 + "}", "invalid parameters"),
        ('{"lr": 0.1, "shuffle": "' + "x" * 70000 + '"}', "at most 65536"),
        ('{"lr": 0.1', "invalid parameters"),
    ],
    ids=["nested arrays", "nested value", "dict value", "list value", "array",
         "string", "huge int", "too long", "unterminated"],
)
def test_hostile_parameters_are_refused(valid, text, match):
    with pytest.raises(ValueError, match=match):
        linreg.load(with_params(valid, text))


def test_brackets_inside_parameter_strings_are_text(valid):
    # A "[" or "{" inside a string is not nesting: the object below is flat.
    model = linreg.load(with_params(valid, '{"lr": 0.5, "epochs": 7}'))
    assert (model.lr, model.epochs) == (0.5, 7)
    with pytest.raises(ValueError, match="invalid parameters for SGDRegressor.*x"):
        linreg.load(with_params(valid, '{"lr": 0.5, "x[{": "]{\\"["}'))


def test_text_members_must_be_unicode(valid):
    # numpy raises SystemError converting a code point past U+10FFFF to str.
    bad = npy_header("{'descr': '<U1', 'fortran_order': False, 'shape': (), }")
    bad += (0x110000).to_bytes(4, "little")
    with pytest.raises(ValueError, match="not valid Unicode"):
        linreg.load(io.BytesIO(replaced(valid, "estimator", Entry("estimator.npy", bad))))


def change(valid, **arrays):
    contents = members_of(valid)
    for name, value in arrays.items():
        if value is None:
            del contents[name]
        else:
            contents[name] = value
    return io.BytesIO(npz_of(contents))


@pytest.mark.parametrize(
    "arrays, match",
    [
        ({"coef_": np.ones((0, 4)), "intercept_": np.ones(0)},
         "at least one feature and one output"),
        ({"coef_": np.ones((2, 0)), "n_features_in_": np.array(0)},
         "n_features_in_ must be at least 1"),
        ({"coef_": np.ones(0), "intercept_": np.array(0.0), "n_features_in_": np.array(0)},
         "n_features_in_ must be at least 1"),
        ({"version": np.array(0)}, "version 0"),
        ({"version": np.array(-1)}, "version -1"),
        ({"version": np.array(1.0)}, "'version' must be an integer"),
        ({"version": np.array([1])}, "'version' must be an integer"),
        ({"version": np.array(True)}, "'version' must be an integer"),
        ({"n_iter_": np.array(-3)}, "n_iter_ must be a non-negative"),
        ({"n_iter_": np.array(2.5)}, "'n_iter_' must be an integer"),
        ({"n_features_in_": np.array(4.0)}, "'n_features_in_' must be an integer"),
        ({"n_features_in_": np.array(5)}, "coef_ and n_features_in_ disagree"),
        ({"coef_": np.ones((2, 2, 4))}, "1-D or 2-D float array"),
        ({"coef_": np.ones((2, 4), dtype=np.float16)}, "1-D or 2-D float array"),
        ({"intercept_": np.ones(2, dtype=np.float32)}, "intercept_ of shape"),
        ({"intercept_": np.ones((2, 1))}, "intercept_ of shape"),
        ({"loss_curve_": np.ones(3, dtype=np.float32)}, "loss_curve_"),
        ({"estimator": np.array(["SGDRegressor"])}, "must be a text"),
        ({"estimator": np.array("x" * 65)}, "at most 64"),
        ({"format": np.array(b"linreg-model")}, "must be a text"),
        ({"format": None}, "linreg-model"),
    ],
)
def test_impossible_models_are_refused(valid, arrays, match):
    with pytest.raises(ValueError, match=match):
        linreg.load(change(valid, **arrays))


def test_other_byte_orders_and_fortran_order_load_exactly(valid):
    contents = members_of(valid)
    original = linreg.load(io.BytesIO(valid))
    big_endian = {name: a.astype(a.dtype.newbyteorder(">")) for name, a in contents.items()}
    big_endian["coef_"] = np.asfortranarray(big_endian["coef_"])
    model = linreg.load(io.BytesIO(npz_of(big_endian)))
    np.testing.assert_array_equal(model.coef_, original.coef_)
    assert model.coef_.dtype == np.float64 and model.coef_.dtype.isnative
    np.testing.assert_array_equal(model.intercept_, original.intercept_)
    np.testing.assert_array_equal(model.loss_curve_, original.loss_curve_)
    assert model.get_params() == original.get_params()
    X = np.ones((3, 4))
    np.testing.assert_array_equal(model.predict(X), original.predict(X))
