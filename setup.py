"""Build the compiled kernels of linreg.

Flags: -O3 with -fassociative-math (plus the two flags it needs to take effect) lets gcc
vectorize the floating-point reductions of the kernels. -ffast-math is not used: it lets
the compiler drop NaN/inf checks and, linked into a shared object, changes the
floating-point mode of the whole process.

No -march: the kernels are built from one source as several extension modules,
`_kernels_generic` for the baseline instruction set (it runs on any x86-64 CPU) and, on
x86-64, `_kernels_avx2` with -mavx2 -mfma and `_kernels_avx512`; `linreg._compiled`
loads one only after checking the CPU at run time. AVX2+FMA doubles the arithmetic per
instruction; float32 data needs it to be read at memory speed.

`_kernels_avx512` is the AVX2 build plus kernels written for AVX-512 (F, DQ, VL, BW; the
multi-output tiles of outputs.pxi, 8 doubles a register): those functions alone are
compiled for it, with gcc's target attribute (LINREG_AVX512_TARGET), and called only on
CPUs that have it. The whole module compiled with -mavx512f -mavx512dq -mavx512vl
-mavx512bw (with -mprefer-vector-width=512 or without) was slower than the AVX2 build on
a Zen 5 where gcc 12 vectorized plain loops on its own: per-sample SGD at d = 64
1.56x the time, two outputs at d = 4 1.25x, the fused pass at d = 256 1.14-1.24x, for
gains of at most 8% elsewhere.

OpenMP: the build probes the compiler for it and, without it, builds the kernels
single-threaded with a notice instead of failing.
"""
import glob
import os
import platform
import sys
import tempfile

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


def openmp_flags(compiler):
    """(compile, link) flags for OpenMP, or None when this compiler cannot build with it."""
    if compiler.compiler_type == "msvc":
        candidates = [(["/openmp"], [])]
    else:
        candidates = [(["-fopenmp"], ["-fopenmp"]), (["-Xpreprocessor", "-fopenmp"], ["-lomp"])]
    probe = "#include <omp.h>\nint main(void) { return omp_get_max_threads() > 0 ? 0 : 1; }\n"
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "probe_openmp.c")
        with open(source, "w") as file:
            file.write(probe)
        for compile_args, link_args in candidates:
            try:
                objects = compiler.compile([source], output_dir=tmp, extra_postargs=compile_args)
                compiler.link_executable(objects, os.path.join(tmp, "probe_openmp"),
                                         extra_postargs=link_args)
            except Exception:  # any compiler or linker failure means "not this way"
                continue
            return compile_args, link_args
    return None


class BuildWithOpenMP(build_ext):
    """build_ext that adds OpenMP where the compiler has it, and builds serially if not."""

    def build_extensions(self):
        flags = openmp_flags(self.compiler)
        if flags is None:
            print("linreg: NOTICE: this compiler has no OpenMP; building the kernels "
                  "single-threaded (n_threads will have no effect)", file=sys.stderr)
        else:
            for extension in self.extensions:
                extension.extra_compile_args += flags[0]
                extension.extra_link_args += flags[1]
        super().build_extensions()

if sys.platform == "win32":
    base_args, avx2_args = ["/O2", "/fp:precise"], ["/arch:AVX2"]
else:
    base_args = ["-O3", "-fassociative-math", "-fno-signed-zeros", "-fno-trapping-math"]
    avx2_args = ["-mavx2", "-mfma"]

# name -> (compile flags, macros). The AVX-512 functions' target: the features
# linreg_cpu_has_avx512 (platform.pxi) checks at run time, all of them.
variants = {"generic": ([], [])}
if platform.machine().lower() in ("x86_64", "amd64"):
    variants["avx2"] = (avx2_args, [])
    if sys.platform != "win32":  # gcc's and clang's target attribute and CPU check
        variants["avx512"] = (avx2_args, [
            ("LINREG_AVX512_KERNELS", "1"),
            ("LINREG_AVX512_TARGET", '"avx512f,avx512dq,avx512vl,avx512bw"')])

extensions = [
    Extension(
        f"linreg._kernels_{name}",
        sources=[f"linreg/_kernels_{name}.pyx"],
        depends=sorted(glob.glob("linreg/_kernels/*.pxi")),
        include_dirs=[numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")] + macros,
        extra_compile_args=base_args + extra,
    )
    for name, (extra, macros) in variants.items()
]

setup(ext_modules=cythonize(extensions), cmdclass={"build_ext": BuildWithOpenMP})
