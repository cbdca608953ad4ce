"""The one way into compiled code: picks the kernels' build once, at import.

linreg's kernels are compiled from one source as up to three builds: `_kernels_generic`
for any CPU and, on x86-64, `_kernels_avx2` (AVX2 and FMA) and `_kernels_avx512`
(AVX-512 F/DQ/VL/BW besides). This module picks one: by default ("auto") the widest
the CPU can run, see `BUILD_ORDER`; ``LINREG_SIMD=generic`` forces the baseline,
``LINREG_SIMD=avx2`` or ``avx512`` require that build. It is the only module that imports
any of them. Everything else reads ``_compiled.build`` at call time, never
``from linreg._compiled import build``, so that the tests can point the whole package at
another build by patching this one name.

It imports nothing else from linreg.
"""
import contextlib
import importlib
import os

__all__ = ["build", "simd", "select_build", "available_builds", "for_layout"]

#: The spin libgomp's idle workers keep up before they sleep, set for it as it loads (see
#: _short_spin_while_loading): about 10-50 us, enough for the next pass of a loop to find
#: them awake, too short to slow what the process does next (its default spins for
#: milliseconds, and a BLAS call right after ran 1.8x slower).
GOMP_SPINCOUNT = "10000"
_WAIT_POLICY_VARS = ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")


def _libgomp_loaded():
    try:
        with open("/proc/self/maps") as maps:
            return "libgomp" in maps.read()
    except OSError:  # not Linux: libgomp, if used at all, reads the user's settings
        return True


@contextlib.contextmanager
def _short_spin_while_loading():
    """Set GOMP_SPINCOUNT while the kernels' libgomp loads (it reads it then, once), unless
    the user set a wait policy or libgomp is already loaded; put the environment back after
    (subprocesses do not inherit it). Yields a one-item list: whether the pool may be
    kept between calls (its workers then sleep soon after a call by themselves)."""
    keep = [any(os.environ.get(var) for var in _WAIT_POLICY_VARS)
            and os.environ.get("OMP_WAIT_POLICY", "").strip().lower() != "active"]
    if any(var in os.environ for var in _WAIT_POLICY_VARS) or _libgomp_loaded():
        yield keep
        return
    os.environ["GOMP_SPINCOUNT"] = GOMP_SPINCOUNT
    try:
        yield keep
    finally:
        os.environ.pop("GOMP_SPINCOUNT", None)
    keep[0] = True


try:
    with _short_spin_while_loading() as _keep_pool:
        from linreg import _kernels_generic
except ImportError as exc:  # pragma: no cover - only in an unbuilt source tree
    raise ImportError(
        f"linreg's compiled kernels are missing next to {os.path.dirname(__file__)}: this "
        "is the source tree, not the installed package (Python puts the current directory "
        "first on sys.path). Install with `pip install .`, then run Python from another "
        "directory."
    ) from exc


#: The builds, narrowest first: "auto" picks the last one available.
BUILD_ORDER = ("generic", "avx2", "avx512")
#: Build name -> (name of the generic build's CPU check, what the CPU must have).
_CPU_CHECKS = {"avx2": ("cpu_has_avx2_fma", "AVX2+FMA"),
               "avx512": ("cpu_has_avx512", "AVX-512 (F, DQ, VL, BW)")}


def available_builds():
    """Names of the builds this machine can run, narrowest first: "generic", then "avx2"
    and "avx512" where the CPU has their instructions and the package has the build."""
    names = ["generic"]
    for name in BUILD_ORDER[1:]:
        check, _ = _CPU_CHECKS[name]
        if not getattr(_kernels_generic, check)():
            continue
        try:
            importlib.import_module(f"linreg._kernels_{name}")
        except ImportError:  # built for a target without this variant
            continue
        names.append(name)
    return names


def load_build(name):
    """The compiled module of build `name` (one of BUILD_ORDER), its thread pool kept
    between calls when libgomp's workers sleep soon after a call by themselves."""
    module = importlib.import_module(f"linreg._kernels_{name}")
    module.keep_thread_pool(_keep_pool[0])
    return module


def select_build(choice=None):
    """(name, module) of the build to use; `choice` defaults to $LINREG_SIMD or "auto"."""
    if choice is None:
        choice = os.environ.get("LINREG_SIMD", "auto")
    choice = choice.lower()
    if choice != "auto" and choice not in BUILD_ORDER:
        raise ImportError(
            f"LINREG_SIMD must be auto, generic, avx2 or avx512, got {choice!r}")
    names = available_builds()
    if choice == "auto":
        name = names[-1]
    elif choice in names:
        name = choice
    else:
        raise ImportError(f"LINREG_SIMD={choice}, but this CPU or build has no "
                          f"{_CPU_CHECKS[choice][1]} kernels")
    return name, load_build(name)


#: Which build is in use ("avx512", "avx2" or "generic"), and its module.
simd, build = select_build()


def for_layout(name, X):
    """(kernel, array to pass it) for the 2-D X: ``build.<name>`` and X itself when X is
    C-contiguous, else ``build.<name>_by_columns`` and X.T, the C-contiguous (d, n)
    transpose of a Fortran-ordered X, which those kernels read in place (no copy)."""
    if X.flags.c_contiguous:
        return getattr(build, name), X
    if not X.flags.f_contiguous:
        raise ValueError(f"{name}: X must be C- or Fortran-contiguous")
    return getattr(build, f"{name}_by_columns"), X.T
