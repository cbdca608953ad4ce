"""The tests exercise the installed, compiled package, and every compiled variant.

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
    assert kernels.simd in ("avx512", "avx2", "generic")
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


def _on_x86_64():
    return platform.machine().lower() in ("x86_64", "amd64")


def test_every_variant_the_cpu_runs_is_tested_and_the_widest_selected():
    import linreg._kernels_generic as generic

    assert "generic" in IMPLS
    # setup.py builds the AVX2 and AVX-512 variants on x86-64, so each the CPU can run
    # must be there to be tested, and "auto" picks the widest.
    if generic.cpu_has_avx2_fma() and _on_x86_64():
        assert "avx2" in IMPLS
    if generic.cpu_has_avx512() and _on_x86_64():
        assert "avx512" in IMPLS
        assert kernels.simd == "avx512"
    elif generic.cpu_has_avx2_fma() and _on_x86_64():
        assert kernels.simd == "avx2"
    assert IMPLS == _compiled.available_builds()


def test_cpu_checks_are_bools_and_agree_across_builds():
    answers = set()
    for name in IMPLS:
        module = importlib.import_module(f"linreg._kernels_{name}")
        answers.add((module.cpu_has_avx2_fma(), module.cpu_has_avx512()))
    assert len(answers) == 1
    has_avx2, has_avx512 = answers.pop()
    assert has_avx2 in (True, False) and has_avx512 in (True, False)
    # AVX-512 as checked includes AVX2 and FMA.
    assert has_avx2 or not has_avx512


def test_avx512_check_matches_proc_cpuinfo():
    import linreg._kernels_generic as generic

    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        pytest.skip("no /proc/cpuinfo")
    flags_line = next((line for line in cpuinfo.splitlines() if line.startswith("flags")), None)
    if flags_line is None or not _on_x86_64():
        pytest.skip("no x86 flags in /proc/cpuinfo")
    flags = set(flags_line.split(":", 1)[1].split())
    # The kernel lists the avx512 flags only when the OS saves their registers (XSAVE),
    # as gcc's check requires.
    wanted = {"avx2", "fma", "avx512f", "avx512dq", "avx512vl", "avx512bw"}
    assert generic.cpu_has_avx512() == wanted.issubset(flags)


@pytest.mark.parametrize("choice", ["generic", "GENERIC", "auto", "avx2", "AVX512", "avx512"])
def test_linreg_simd_selects_the_kernels(monkeypatch, choice):
    monkeypatch.setenv("LINREG_SIMD", choice)
    wanted = choice.lower()
    if wanted in ("avx2", "avx512") and wanted not in IMPLS:
        with pytest.raises(ImportError, match=f"LINREG_SIMD={wanted}, but this CPU"):
            _compiled.select_build()
        return
    name, module = _compiled.select_build()
    expected = IMPLS[-1] if wanted == "auto" else wanted
    assert name == expected
    assert module is importlib.import_module(f"linreg._kernels_{expected}")


def test_linreg_simd_refuses_a_build_the_cpu_lacks(monkeypatch):
    # As on a CPU without AVX-512 (or a package built without the variant).
    monkeypatch.setattr(_compiled, "available_builds", lambda: ["generic", "avx2"])
    monkeypatch.setenv("LINREG_SIMD", "avx512")
    with pytest.raises(ImportError, match=r"LINREG_SIMD=avx512, but this CPU or build has "
                                          r"no AVX-512 \(F, DQ, VL, BW\) kernels"):
        _compiled.select_build()
    monkeypatch.setenv("LINREG_SIMD", "auto")
    assert _compiled.select_build()[0] == "avx2"


def test_linreg_simd_rejects_unknown_values(monkeypatch):
    monkeypatch.setenv("LINREG_SIMD", "sse9")
    with pytest.raises(ImportError, match="LINREG_SIMD must be auto, generic, avx2 or avx512"):
        _compiled.select_build()
