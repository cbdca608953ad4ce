"""Saving: atomic replacement of the file, what `path` may be, linreg.save."""
import contextlib
import io
import os
import stat
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
from _archives import fitted_model, members_of

import linreg


@pytest.fixture
def old_file(tmp_path):
    """A saved model at tmp_path / "model.linreg": (its path, its bytes)."""
    path = tmp_path / "model.linreg"
    fitted_model(k=None)[0].save(path)
    return path, path.read_bytes()


def test_a_save_failing_part_way_leaves_the_previous_file(old_file, monkeypatch):
    path, before = old_file
    real_write_array = np.lib.format.write_array
    calls = []

    def write_array_then_fail(file, array, *args, **kwargs):
        calls.append(array.shape)
        if len(calls) == 5:  # after four members went to the file
            file.write(b"\x00" * 100)
            raise OSError(28, "No space left on device")
        return real_write_array(file, array, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", write_array_then_fail)
    with pytest.raises(OSError, match="No space left"):
        fitted_model(k=3)[0].save(path)
    assert len(calls) == 5
    assert path.read_bytes() == before
    assert linreg.load(path).coef_.shape == (4,)
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.linreg"]  # no temp file


def test_an_interrupted_save_leaves_the_previous_file(old_file, monkeypatch):
    path, before = old_file

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np.lib.format, "write_array", interrupted)
    with pytest.raises(KeyboardInterrupt):
        linreg.save(fitted_model(k=3)[0], path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.linreg"]


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_file_size_limit_hit_during_save_leaves_the_previous_file(old_file):
    # A real failure: the kernel refuses writes past RLIMIT_FSIZE (EFBIG), as a full
    # disk or a quota would; the new model (800 features) is larger than the limit.
    path, before = old_file
    script = textwrap.dedent(f"""
        import resource, signal, sys
        import numpy as np
        import linreg
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG, not a killed process
        model = linreg.GDRegressor(epochs=2).fit(np.ones((3, 800)), np.ones(3))
        resource.setrlimit(resource.RLIMIT_FSIZE, ({len(before) + 1000}, resource.RLIM_INFINITY))
        try:
            model.save({str(path)!r})
        except OSError as exc:
            print("OSError", exc.errno)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=path.parent, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "OSError", result.stdout
    assert path.read_bytes() == before
    assert linreg.load(path).n_features_in_ == 4
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.linreg"]


def test_the_file_is_synced_before_it_replaces_the_old_one(old_file, monkeypatch):
    path, _ = old_file
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(descriptor):
        events.append(("fsync", stat.S_ISREG(os.fstat(descriptor).st_mode)))
        return real_fsync(descriptor)

    def replace(source, target):
        events.append(("replace", os.fspath(target) == os.path.realpath(path)))
        return real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    fitted_model(k=3)[0].save(path)
    # the new file's data, then the rename, then (where possible) the directory
    assert events[:2] == [("fsync", True), ("replace", True)]
    assert linreg.load(path).coef_.shape == (3, 4)


def test_a_successful_save_replaces_the_file_and_leaves_nothing_else(old_file):
    path, before = old_file
    fitted_model(k=3)[0].save(path)
    assert path.read_bytes() != before
    assert linreg.load(path).coef_.shape == (3, 4)
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.linreg"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_permissions_are_those_open_would_give(old_file, tmp_path):
    path, _ = old_file
    os.chmod(path, 0o640)
    fitted_model()[0].save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640  # the existing file's
    umask = os.umask(0o022)
    os.umask(umask)
    fitted_model()[0].save(tmp_path / "new")
    assert stat.S_IMODE(os.stat(tmp_path / "new").st_mode) == 0o666 & ~umask  # not 0o600


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges")
def test_saving_through_a_symbolic_link_replaces_its_target(old_file, tmp_path):
    path, _ = old_file
    link = tmp_path / "link"
    link.symlink_to(path.name)
    fitted_model(k=3)[0].save(link)
    assert link.is_symlink()
    assert linreg.load(path).coef_.shape == (3, 4)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_saving_to_a_named_pipe_writes_through_it(tmp_path):
    # A pipe or device (/dev/stdout) is a stream to write into, not a file to replace.
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()))
    reader.start()
    model, X = fitted_model(k=2)
    try:
        model.save(pipe)
    finally:
        if not received:  # unblock the reader if save failed before opening the pipe
            with contextlib.suppress(OSError):
                os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(timeout=60)
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)
    np.testing.assert_array_equal(linreg.load(io.BytesIO(received[0])).predict(X),
                                  model.predict(X))


def test_a_directory_is_not_a_target(tmp_path):
    with pytest.raises(IsADirectoryError):
        fitted_model()[0].save(tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("path", [3.5, None, [b"m"], bytearray(b"m"), object()],
                         ids=["float", "None", "list", "bytearray", "object"])
def test_non_path_arguments_are_a_type_error(path):
    model = fitted_model()[0]
    with pytest.raises(TypeError, match="path must be a file name"):
        model.save(path)
    with pytest.raises(TypeError, match="path must be a file name"):
        linreg.save(model, path)
    with pytest.raises(TypeError, match="path must be a file name"):
        linreg.load(path)


@pytest.mark.parametrize("descriptor_of", [lambda fd: fd, lambda fd: True],
                         ids=["int", "bool"])
def test_an_integer_is_not_a_file_descriptor(tmp_path, descriptor_of):
    # open(3, "wb") writes to file descriptor 3 and closes it: save(True) closed stdout.
    fd = os.open(tmp_path / "victim", os.O_RDWR | os.O_CREAT)
    try:
        target = descriptor_of(fd)
        with pytest.raises(TypeError, match="path must be a file name.*got (int|bool)"):
            fitted_model()[0].save(target)
        with pytest.raises(TypeError, match="path must be a file name.*got (int|bool)"):
            linreg.load(target)
        os.fstat(fd)  # still open
        assert (tmp_path / "victim").read_bytes() == b""
    finally:
        os.close(fd)


def test_bytes_paths_are_file_names(tmp_path):
    model = fitted_model()[0]
    name = os.fsencode(tmp_path / "model.linreg")
    model.save(name)
    np.testing.assert_array_equal(linreg.load(name).coef_, model.coef_)
    np.testing.assert_array_equal(linreg.load(os.fsdecode(name)).coef_, model.coef_)


def test_binary_file_objects_round_trip():
    model, X = fitted_model(k=2)
    buffer = io.BytesIO()
    model.save(buffer)
    np.testing.assert_array_equal(linreg.load(io.BytesIO(buffer.getvalue())).predict(X),
                                  model.predict(X))
    buffer.seek(0)
    np.testing.assert_array_equal(linreg.load(buffer).predict(X), model.predict(X))


def test_text_file_objects_are_a_type_error(tmp_path):
    model = fitted_model()[0]
    with open(tmp_path / "m", "w") as text:
        with pytest.raises(TypeError, match="binary mode"):
            model.save(text)
    model.save(tmp_path / "m")
    with open(tmp_path / "m") as text:
        with pytest.raises(TypeError, match="binary mode"):
            linreg.load(text)


def test_linreg_save_is_model_save(tmp_path):
    model = fitted_model(k=2)[0]
    linreg.save(model, tmp_path / "a")
    model.save(tmp_path / "b")
    a, b = members_of((tmp_path / "a").read_bytes()), members_of((tmp_path / "b").read_bytes())
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
    with pytest.raises(TypeError, match="model must be a GDRegressor or SGDRegressor"):
        linreg.save("model", tmp_path / "c")
    assert "save" in linreg.__all__


def test_a_model_the_format_cannot_hold_is_refused_at_save(tmp_path, old_file):
    path, before = old_file
    model = fitted_model()[0].set_params(n_threads="x" * 70000)  # checked at fit, not here
    with pytest.raises(ValueError, match="cannot write this model file.*at most 65536"):
        model.save(path)
    assert path.read_bytes() == before


def test_the_warning_for_unsavable_parameters_points_at_the_caller(tmp_path):
    model = fitted_model()[0].set_params(callback=print)
    for save in (model.save, lambda path: linreg.save(model, path)):
        with pytest.warns(UserWarning, match="callback=.*cannot be saved") as record:
            save(tmp_path / "m")
        assert record[0].filename == __file__
