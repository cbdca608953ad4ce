# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Kernels built for the baseline instruction set of the target (any x86-64 CPU).

Unchecked: call them through `linreg.kernels`. The code is in _kernels/ (README.md there is the design note).
"""
include "_kernels/kernels.pxi"
