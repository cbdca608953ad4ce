# The shuffling generator: splitmix64 driving a Fisher-Yates shuffle.


cdef inline uint64_t _splitmix64(uint64_t* state) noexcept nogil:
    """Next output of the splitmix64 generator (Steele, Lea and Flood, 2014)."""
    state[0] += <uint64_t> 0x9E3779B97F4A7C15
    cdef uint64_t z = state[0]
    z = (z ^ (z >> 30)) * <uint64_t> 0xBF58476D1CE4E5B9
    z = (z ^ (z >> 27)) * <uint64_t> 0x94D049BB133111EB
    return z ^ (z >> 31)


cdef int _shuffle(Py_ssize_t* order, Py_ssize_t m, uint64_t* state) noexcept nogil:
    """Fisher-Yates shuffle of order[:m] in place. The modulo bias is below m / 2**64.

    Returns 1, with `order` part shuffled, when Ctrl-C interrupted it (a shuffle of
    10**8 rows takes seconds: its swaps are cache misses), else 0.
    """
    cdef Py_ssize_t i, j, tmp
    for i in range(m - 1, 0, -1):
        j = <Py_ssize_t> (_splitmix64(state) % <uint64_t> (i + 1))
        tmp = order[i]; order[i] = order[j]; order[j] = tmp
        if (i & ((1 << 20) - 1)) == 0 and _interrupt_requested():
            return 1
    return 0
