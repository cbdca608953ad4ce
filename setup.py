"""Build the compiled kernels of linreg.

Flags: -O3 with -fassociative-math (plus the two flags it needs to take effect) lets gcc
vectorize the floating-point reductions of the kernels. -ffast-math is not used: it lets
the compiler drop NaN/inf checks and, linked into a shared object, changes the
floating-point mode of the whole process.

No -march: the kernels are built twice from one source, `_kernels_generic` for the
baseline instruction set (it runs on any x86-64 CPU) and, on x86-64, `_kernels_avx2` with
-mavx2 -mfma, which `linreg.kernels` loads only after checking the CPU at run time.
AVX2+FMA doubles the arithmetic per instruction; float32 data needs it to be read at
memory speed.

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

variants = {"generic": []}
if platform.machine().lower() in ("x86_64", "amd64"):
    variants["avx2"] = avx2_args

extensions = [
    Extension(
        f"linreg._kernels_{name}",
        sources=[f"linreg/_kernels_{name}.pyx"],
        depends=sorted(glob.glob("linreg/_kernels/*.pxi")),
        include_dirs=[numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=base_args + extra,
    )
    for name, extra in variants.items()
]

setup(ext_modules=cythonize(extensions), cmdclass={"build_ext": BuildWithOpenMP})
