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
"""
import platform
import sys

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

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
        depends=["linreg/_kernels.pxi"],
        include_dirs=[numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=base_args + extra,
    )
    for name, extra in variants.items()
]

setup(ext_modules=cythonize(extensions))
