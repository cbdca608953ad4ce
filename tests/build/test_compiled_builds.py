"""The tests exercise the installed, compiled package, and both compiled variants.

If linreg were imported from the source tree, or the kernels came from anything but a
compiled extension module, every other test would be testing the wrong thing.
"""
import importlib
import importlib.machinery
import platform
import types
from pathlib import Path

import pytest

import linreg
import linreg.kernels as kernels
from linreg import _compiled
from _helpers import IMPLS

REPO_ROOT = Path(__file__).resolve().parents[2]  # tests/build/ -> the repository
EXTENSION_SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)
KERNEL_FUNCTIONS = ["loss_and_grad", "predict", "gd_epochs", "sgd_epochs", "gd_epochs_gram", "all_finite"]


def test_kernels_come_from_a_compiled_module(impl):
    module = _compiled.build
    assert module is impl
    assert module.__file__.endswith(EXTENSION_SUFFIXES), module.__file__
    for name in KERNEL_FUNCTIONS:
        func = getattr(module, name)
        # Cython functions, not Python ones.
        assert not isinstance(func, types.FunctionType), name
        assert type(func).__name__ in ("cython_function_or_method", "fused_cython_function")


def test_default_kernels_are_compiled_and_named_by_simd():
    assert kernels.simd in ("avx2", "generic")
    assert _compiled.build.__name__ == f"linreg._kernels_{kernels.simd}"
    assert _compiled.build.__file__.endswith(EXTENSION_SUFFIXES)


def test_the_installed_package_is_tested():
    source_package = REPO_ROOT / "linreg"
    # Else the check below would pass for any path (say, after this file moves again).
    assert (source_package / "__init__.py").is_file(), source_package
    for module in (linreg, kernels, linreg.reference, _compiled.build):
        path = Path(module.__file__).resolve()
        assert not path.is_relative_to(source_package), (
            f"{module.__name__} was imported from the source tree ({path}); "
            "install the package and run pytest from the repository root"
        )
    # The extension modules sit next to the installed Python files.
    installed_dir = Path(linreg.__file__).resolve().parent
    assert Path(_compiled.build.__file__).resolve().parent == installed_dir


def test_both_variants_are_tested_on_an_avx2_machine():
    import linreg._kernels_generic as generic

    assert "generic" in IMPLS
    if generic.cpu_has_avx2_fma() and platform.machine().lower() in ("x86_64", "amd64"):
        # setup.py builds the AVX2 variant on x86-64, so it must be there to be tested.
        assert "avx2" in IMPLS
        assert kernels.simd == "avx2"


def test_cpu_check_is_a_bool():
    for name in IMPLS:
        module = importlib.import_module(f"linreg._kernels_{name}")
        assert module.cpu_has_avx2_fma() in (True, False)


@pytest.mark.parametrize("choice", ["generic", "GENERIC", "auto", "avx2"])
def test_linreg_simd_selects_the_kernels(monkeypatch, choice):
    monkeypatch.setenv("LINREG_SIMD", choice)
    if choice.lower() == "avx2" and "avx2" not in IMPLS:
        with pytest.raises(ImportError, match="LINREG_SIMD=avx2"):
            _compiled.select_build()
        return
    name, module = _compiled.select_build()
    expected = "generic" if choice.lower() == "generic" else IMPLS[-1]
    assert name == expected
    assert module is importlib.import_module(f"linreg._kernels_{expected}")


def test_linreg_simd_rejects_unknown_values(monkeypatch):
    monkeypatch.setenv("LINREG_SIMD", "sse9")
    with pytest.raises(ImportError, match="LINREG_SIMD must be auto, generic or avx2"):
        _compiled.select_build()
