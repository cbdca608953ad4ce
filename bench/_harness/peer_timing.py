"""What every peer script does once its check fit passed: time the same fit again.

Imported by the peer scripts, which run as their own processes with this folder first on
their import path; it imports nothing but the standard library and NumPy.
"""
import time

import numpy as np

__all__ = ["time_refits"]


def time_refits(refit, rounds, expected_coef, coef_of):
    """Time `rounds` calls of refit(); each must give `expected_coef` again (read from
    its result by coef_of). Returns (times in seconds, an error message or None)."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        result = refit()
        times.append(time.perf_counter() - start)
        if not np.array_equal(coef_of(result), expected_coef):
            return times, "a timed fit gave other coefficients than the check fit"
    return times, None
