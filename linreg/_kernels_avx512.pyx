# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Kernels built with AVX-512 (F, DQ, VL, BW) besides AVX2 and FMA, preferring 512-bit
vectors; linreg.kernels uses them only on CPUs (and OSes) that have all of these.

Unchecked: call them through `linreg.kernels`. The code is in _kernels/ (README.md there is the design note).
"""
include "_kernels/kernels.pxi"
