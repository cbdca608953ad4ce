# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Kernels built with -mavx2 -mfma; linreg.kernels uses them only on CPUs that have both.

Unchecked: call them through `linreg.kernels`. The code is in _kernels/ (README.md there is the design note).
"""
include "_kernels/kernels.pxi"
