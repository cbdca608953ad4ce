# Passes over rows of X: the residual sums that make a gradient, and predictions.
#
# Everything is built on one primitive, `_accumulate_rows`: for a run of rows of X it
# computes the residuals and adds r_i x_i into a gradient accumulator, so X is read from
# memory exactly once per pass. Rows are taken four at a time: the four dot products run
# side by side (their latencies overlap instead of chaining), and the four rank-one
# updates of the gradient are summed before they touch the accumulator, so it is loaded
# and stored once per four rows. The four rows stay in L1 between the two uses.
#
# Reading X at the speed of `X @ w` (one thread) takes two more things: consecutive rows
# are prefetched a few groups of four ahead (`_prefetch_distance`), and for one output
# the loop keeps its loop-invariant values in locals and is compiled once per short row
# width with d a constant (`_one_output_by_d`). Rows of 8 elements (AVX2 build) take
# the C loops of one_output.pxi, 8 float32 or 4 float64 rows a step with their dot
# products reduced together (1 thread, X of 2^24 elements, ratios to `X @ w` in the same
# run: float32 1.19x -> 0.85x, about 24 GB/s; float64 0.97x -> 0.82x, about 28 GB/s),
# and so do whole passes over float32 rows of 5 to 32 and float64 rows of 5 to 16
# (`_rows_of_n`), one to four vectors a row, with sample weights too (`_weighted_rows`).
# Rows of 1 to 4 elements for 1 to 4 outputs, in whole passes and predictions, are split
# into columns a step at a time (short_rows.pxi); 2 to 4 float32 outputs on longer rows
# take few_outputs.pxi's steps, and five outputs or more the tiles of outputs.pxi.
#
# Rows of d = 2048 float64 (1.25x the time of `X @ w`) are unchanged. Tried in C and
# measured slower in place: a software-pipelined loop (the next group's dot products and
# the previous group's gradient terms in one loop over the columns: 1.34-1.44x), and two
# phases over four rows with vector intrinsics (1.34x). In a standalone C harness the
# latter reached 30 GB/s (1.16x) on a 64-byte-aligned X but lost 9% at NumPy's usual
# 16-byte offset (rows' vector loads then straddle cache lines); aligning the loads
# would make the lanes' summation order depend on X's address.


cdef double _accumulate_rows(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    const Py_ssize_t* rows,
    Py_ssize_t start,
    Py_ssize_t stop,
    const WorkBuffers* work,
    double* grad_by_output,
    double* grad_bias,
    bint whole_pass=False,
) noexcept nogil:
    """Add sum_i w_i r_i x_i into grad_by_output (k, d) and sum_i w_i r_i into grad_bias
    (k,); return sum_i w_i |r_i|^2 (w_i: work.sample_weight, or 1).

    The rows are rows[start:stop] when `rows` is not NULL, else start..stop-1. The
    weights are read from `work`, which is not written, so threads may share it.
    Three copies of the loop are compiled: with and without sample weights (a test of
    the weights inside it cost a float64 pass 27%), and one output without them.
    `whole_pass`: called by `_pass_over_rows` (GD, `loss_and_grad`; rows NULL), whose
    narrow rows take the C loops of one_output.pxi, row_vectors.pxi and short_rows.pxi,
    weighted or not; SGD's mini-batches keep the loop that
    `_accumulate_copied_rows` shares, so that a Fortran-ordered X trains bit for bit
    as a C-ordered one (row_copies.pxi).
    """
    # Five outputs or more: vectorized across outputs (outputs.pxi). Below that a tile of
    # 8 lanes is mostly empty and the loop below is as fast or faster; so it is for
    # float64 with k = 32 in the avx2 build (1.16x the time of this loop at d = 4: Y's
    # rows are read a tile at a time, not in order), so float64 takes the tiles up to
    # LINREG_OUTPUT_TILES_F64_MAX_K outputs.
    if (Y.shape[1] > OUTPUT_TILE // 2 and LINREG_OUTPUT_TILES
            and (floating is float or Y.shape[1] <= LINREG_OUTPUT_TILES_F64_MAX_K)):
        if work.sample_weight == NULL:
            return _sums_over_outputs(X, Y, rows, start, stop, work, grad_by_output, grad_bias,
                                      NULL)
        return _sums_over_outputs(X, Y, rows, start, stop, work, grad_by_output, grad_bias,
                                  work.sample_weight)
    # Whole passes (rows NULL) over rows of 1 to 4 elements, weighted or not.
    if whole_pass and _short_rows_take(X.shape[1], Y.shape[1]):
        return _short_rows(X, Y, start, stop, work, grad_by_output, grad_bias)
    if work.sample_weight == NULL:
        if Y.shape[1] == 1:
            if (whole_pass and LINREG_ROWS_OF_8
                    and _rows_of_n_wins(X.shape[1], sizeof(floating))):
                return _rows_of_n(X, Y, rows, start, stop, work, grad_by_output, grad_bias)
            if whole_pass or X.shape[1] != 8:
                return _one_output_by_d(X, Y, rows, start, stop, work, grad_by_output, grad_bias)
            if floating is float:
                return _one_output_f32_8_rank4(X, Y, rows, start, stop, work, grad_by_output, grad_bias)
            return _one_output_f64_any(X, Y, rows, start, stop, work, grad_by_output, grad_bias)
        if floating is float and whole_pass and _few_outputs_take(X.shape[1], Y.shape[1]):
            return _few_outputs_f32(X, Y, start, stop, work, grad_by_output, grad_bias)
        return _sums_over_rows(X, Y, rows, start, stop, work, grad_by_output, grad_bias, NULL,
                               NULL)
    if whole_pass and _weighted_rows_take(X.shape[1], Y.shape[1], sizeof(floating)):
        return _weighted_rows(X, Y, start, stop, work, grad_by_output, grad_bias)
    return _sums_over_rows(X, Y, rows, start, stop, work, grad_by_output, grad_bias,
                           work.sample_weight, NULL)


cdef double _accumulate_copied_rows(
    const floating[:, ::1] Xt,
    const floating[:, :] Y,
    const Py_ssize_t* rows,
    Py_ssize_t start,
    Py_ssize_t stop,
    const WorkBuffers* work,
    RowCopies* copies,
) noexcept nogil:
    """`_accumulate_rows` into work.grad_by_output and work.grad_bias for the Fortran-ordered
    X = Xt.T, its rows read through `copies` (row_copies.pxi): the same sums, bit for bit."""
    if work.sample_weight == NULL:
        return _sums_over_rows(Xt, Y, rows, start, stop, work, work.grad_by_output,
                               work.grad_bias, NULL, copies)
    return _sums_over_rows(Xt, Y, rows, start, stop, work, work.grad_by_output, work.grad_bias,
                           work.sample_weight, copies)


# Row widths known when compiling: `_sums_one_output` is fused over these empty types,
# so that Cython writes one C function per width, in which d is a constant.
cdef struct RowWidthAny:
    char unused
cdef struct RowWidth2:
    char unused
cdef struct RowWidth3:
    char unused
cdef struct RowWidth4:
    char unused
cdef struct RowWidth5:
    char unused
cdef struct RowWidth6:
    char unused
cdef struct RowWidth7:
    char unused
cdef struct RowWidth8:
    char unused

ctypedef fused row_width:
    RowWidthAny
    RowWidth2
    RowWidth3
    RowWidth4
    RowWidth5
    RowWidth6
    RowWidth7
    RowWidth8


cdef inline Py_ssize_t _row_width(row_width width, Py_ssize_t d) noexcept nogil:
    """The constant for the width's type; d for RowWidthAny."""
    if row_width is RowWidth2:
        return 2
    elif row_width is RowWidth3:
        return 3
    elif row_width is RowWidth4:
        return 4
    elif row_width is RowWidth5:
        return 5
    elif row_width is RowWidth6:
        return 6
    elif row_width is RowWidth7:
        return 7
    elif row_width is RowWidth8:
        return 8
    else:
        return d


cdef inline double _one_output_by_d(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    const Py_ssize_t* rows,
    Py_ssize_t start,
    Py_ssize_t stop,
    const WorkBuffers* work,
    double* grad_by_output,
    double* grad_bias,
) noexcept nogil:
    """`_sums_one_output`, compiled with d a constant for rows of 2 to 8 elements (float32;
    float64: 2 and 3; d = 8 in the AVX2 build: `_rows_of_8`), so that its loops over a row unroll into a few instructions: for
    rows of a few elements the loops' set-up, vector tails and reductions cost more than
    the arithmetic (float32 at d = 4: 1.8x the time of `X @ w`, 0.9x with d a constant).

    Each width is its own C function, called through a table (`_ONE_OUTPUT_LOOPS_*`):
    called directly, gcc inlined them all into one function, where any change to one
    moved registers in all (float32 at d = 4 went from 0.9x to 1.25x with sse spilled).
    """
    cdef Py_ssize_t d = X.shape[1]
    if floating is float:
        return _ONE_OUTPUT_LOOPS_F32[d if d <= 8 else 0](X, Y, rows, start, stop, work, grad_by_output, grad_bias)
    else:
        return _ONE_OUTPUT_LOOPS_F64[d if d <= 8 else 0](X, Y, rows, start, stop, work, grad_by_output, grad_bias)


ctypedef double (*OneOutputLoopF32)(
    const float[:, ::1] X, const float[:, :] Y, const Py_ssize_t* rows, Py_ssize_t start,
    Py_ssize_t stop, const WorkBuffers* work, double* grad_by_output, double* grad_bias,
) noexcept nogil
ctypedef double (*OneOutputLoopF64)(
    const double[:, ::1] X, const double[:, :] Y, const Py_ssize_t* rows, Py_ssize_t start,
    Py_ssize_t stop, const WorkBuffers* work, double* grad_by_output, double* grad_bias,
) noexcept nogil

cdef double _one_output_f32_any(
    const float[:, ::1] X, const float[:, :] Y, const Py_ssize_t* rows, Py_ssize_t start,
    Py_ssize_t stop, const WorkBuffers* work, double* grad_by_output, double* grad_bias,
) noexcept nogil:
    cdef RowWidthAny width
    return _sums_one_output(X, Y, rows, start, stop, work, grad_by_output, grad_bias, width)


cdef double _one_output_f32_2(
    const float[:, ::1] X, const float[:, :] Y, const Py_ssize_t* rows, Py_ssize_t start,
    Py_ssize_t stop, const WorkBuffers* work, double* grad_by_output, double* grad_bias,
) noexcept nogil:
    cdef RowWidth2 width
    return _sums_one_output(X, Y, rows, start, stop, work, grad_by_output, grad_bias, width)


cdef double _one_output_f32_3(
    const float[:, ::1] X, const float[:, :] Y, const Py_ssize_t* rows, Py_ssize_t start,
    Py_ssize_t stop, const WorkBuffers* work, double* grad_by_output, double* grad_bias,
) noexcept nogil:
    cdef RowWidth3 width
    return _sums_one_output(X, Y, rows, start, stop, work, grad_by_output, grad_bias, width)


cdef double _one_output_f32_4(
    const float[:, ::1] X, const float[:, :] Y, const Py_ssize_t* rows, Py_ssize_t start,
    Py_ssize_t stop, const WorkBuffers* work, double* grad_by_output, double* grad_bias,
) noexcept nogil:
    cdef RowWidth4 width
    return _sums_one_output(X, Y, rows, start, stop, work, grad_by_output, grad_bias, width)


cdef double _one_output_f32_5(
    const float[:, ::1] X, const float[:, :] Y, const Py_ssize_t* rows, Py_ssize_t start,
    Py_ssize_t stop, const WorkBuffers* work, double* grad_by_output, double* grad_bias,
) noexcept nogil:
    cdef RowWidth5 width
    return _sums_one_output(X, Y, rows, start, stop, work, grad_by_output, grad_bias, width)


cdef double _one_output_f32_6(
    const float[:, ::1] X, const float[:, :] Y, const Py_ssize_t* rows, Py_ssize_t start,
    Py_ssize_t stop, const WorkBuffers* work, double* grad_by_output, double* grad_bias,
) noexcept nogil:
    cdef RowWidth6 width
    return _sums_one_output(X, Y, rows, start, stop, work, grad_by_output, grad_bias, width)


cdef double _one_output_f32_7(
    const float[:, ::1] X, const float[:, :] Y, const Py_ssize_t* rows, Py_ssize_t start,
    Py_ssize_t stop, const WorkBuffers* work, double* grad_by_output, double* grad_bias,
) noexcept nogil:
    cdef RowWidth7 width
    return _sums_one_output(X, Y, rows, start, stop, work, grad_by_output, grad_bias, width)


cdef double _one_output_f32_8_rank4(
    const float[:, ::1] X, const float[:, :] Y, const Py_ssize_t* rows, Py_ssize_t start,
    Py_ssize_t stop, const WorkBuffers* work, double* grad_by_output, double* grad_bias,
) noexcept nogil:
    cdef RowWidth8 width
    return _sums_one_output(X, Y, rows, start, stop, work, grad_by_output, grad_bias, width)


cdef double _one_output_f32_8(
    const float[:, ::1] X, const float[:, :] Y, const Py_ssize_t* rows, Py_ssize_t start,
    Py_ssize_t stop, const WorkBuffers* work, double* grad_by_output, double* grad_bias,
) noexcept nogil:
    return _rows_of_8(X, Y, rows, start, stop, work, grad_by_output, grad_bias)


cdef double _one_output_f64_any(
    const double[:, ::1] X, const double[:, :] Y, const Py_ssize_t* rows, Py_ssize_t start,
    Py_ssize_t stop, const WorkBuffers* work, double* grad_by_output, double* grad_bias,
) noexcept nogil:
    cdef RowWidthAny width
    return _sums_one_output(X, Y, rows, start, stop, work, grad_by_output, grad_bias, width)


cdef double _one_output_f64_2(
    const double[:, ::1] X, const double[:, :] Y, const Py_ssize_t* rows, Py_ssize_t start,
    Py_ssize_t stop, const WorkBuffers* work, double* grad_by_output, double* grad_bias,
) noexcept nogil:
    cdef RowWidth2 width
    return _sums_one_output(X, Y, rows, start, stop, work, grad_by_output, grad_bias, width)


cdef double _one_output_f64_3(
    const double[:, ::1] X, const double[:, :] Y, const Py_ssize_t* rows, Py_ssize_t start,
    Py_ssize_t stop, const WorkBuffers* work, double* grad_by_output, double* grad_bias,
) noexcept nogil:
    cdef RowWidth3 width
    return _sums_one_output(X, Y, rows, start, stop, work, grad_by_output, grad_bias, width)


cdef double _one_output_f64_8(
    const double[:, ::1] X, const double[:, :] Y, const Py_ssize_t* rows, Py_ssize_t start,
    Py_ssize_t stop, const WorkBuffers* work, double* grad_by_output, double* grad_bias,
) noexcept nogil:
    return _rows_of_8(X, Y, rows, start, stop, work, grad_by_output, grad_bias)


# Indexed by d (0 and 1: any d). Filled when the module loads: a table gcc cannot see
# through keeps the loops apart.
cdef OneOutputLoopF32 _ONE_OUTPUT_LOOPS_F32[9]
cdef OneOutputLoopF64 _ONE_OUTPUT_LOOPS_F64[9]
_ONE_OUTPUT_LOOPS_F32[0] = _one_output_f32_any
_ONE_OUTPUT_LOOPS_F32[1] = _one_output_f32_any
_ONE_OUTPUT_LOOPS_F32[2] = _one_output_f32_2
_ONE_OUTPUT_LOOPS_F32[3] = _one_output_f32_3
_ONE_OUTPUT_LOOPS_F32[4] = _one_output_f32_4
_ONE_OUTPUT_LOOPS_F32[5] = _one_output_f32_5
_ONE_OUTPUT_LOOPS_F32[6] = _one_output_f32_6
_ONE_OUTPUT_LOOPS_F32[7] = _one_output_f32_7
_ONE_OUTPUT_LOOPS_F32[8] = _one_output_f32_8
_ONE_OUTPUT_LOOPS_F64[0] = _one_output_f64_any
_ONE_OUTPUT_LOOPS_F64[1] = _one_output_f64_any
_ONE_OUTPUT_LOOPS_F64[2] = _one_output_f64_2
_ONE_OUTPUT_LOOPS_F64[3] = _one_output_f64_3
_ONE_OUTPUT_LOOPS_F64[4] = _one_output_f64_any
_ONE_OUTPUT_LOOPS_F64[5] = _one_output_f64_any
_ONE_OUTPUT_LOOPS_F64[6] = _one_output_f64_any
_ONE_OUTPUT_LOOPS_F64[7] = _one_output_f64_any
_ONE_OUTPUT_LOOPS_F64[8] = _one_output_f64_8


cdef inline double _sums_one_output(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    const Py_ssize_t* rows,
    Py_ssize_t start,
    Py_ssize_t stop,
    const WorkBuffers* work,
    double* grad_by_output,
    double* grad_bias,
    row_width width,
) noexcept nogil:
    """`_sums_over_rows` for one output and no sample weights, the same arithmetic with
    the weights, the bias, Y's address and the bias gradient held in locals: the
    general loop reloads them for every four rows (its stores into the gradient might
    alias them), which at small d cost as much as the arithmetic (float32, d = 4: 1.8x
    the time of `X @ w`). `width`'s type gives d when it is a constant (`_one_output_by_d`)."""
    cdef Py_ssize_t d = _row_width(width, X.shape[1])
    cdef Py_ssize_t t = start, j, i0, i1, i2, i3
    cdef Py_ssize_t y_step = Y.strides[0] // <Py_ssize_t> sizeof(floating)
    cdef const floating* y = &Y[0, 0]
    cdef const floating* w = _weights(<const floating*> NULL, work, 0, d)  # NULL: its type
    cdef const floating* x0
    cdef const floating* x1
    cdef const floating* x2
    cdef const floating* x3
    cdef double s[4]
    cdef double bias = work.bias[0], bias_sum = grad_bias[0], sse = 0.0
    cdef double r0, r1, r2, r3
    cdef const char* ahead
    cdef Py_ssize_t group_bytes = 4 * d * <Py_ssize_t> sizeof(floating)
    cdef Py_ssize_t distance = _prefetch_distance(group_bytes) if rows == NULL else 0
    cdef bint head = False  # long rows: prefetch the heads of the next group's rows
    cdef const char* prefetch_end = <const char*> &X[0, 0] + X.shape[0] * d * <Py_ssize_t> sizeof(floating)
    if rows == NULL and group_bytes > PREFETCH_MAX_GROUP_BYTES:
        distance = group_bytes
        head = True
    while t + 4 <= stop:
        if rows != NULL:
            i0 = rows[t]; i1 = rows[t + 1]; i2 = rows[t + 2]; i3 = rows[t + 3]
        else:
            i0 = t; i1 = t + 1; i2 = t + 2; i3 = t + 3
        x0 = &X[i0, 0]; x1 = &X[i1, 0]; x2 = &X[i2, 0]; x3 = &X[i3, 0]
        ahead = NULL
        if distance != 0 and <const char*> x0 + distance + group_bytes <= prefetch_end:
            ahead = <const char*> x0 + distance
        _dot4(x0, x1, x2, x3, w, d, s, NULL if head else ahead)
        r0 = s[0] + bias - y[i0 * y_step]
        r1 = s[1] + bias - y[i1 * y_step]
        r2 = s[2] + bias - y[i2 * y_step]
        r3 = s[3] + bias - y[i3 * y_step]
        sse += (r0 * r0 + r1 * r1) + (r2 * r2 + r3 * r3)
        bias_sum += (r0 + r1) + (r2 + r3)
        if head and ahead != NULL:
            _add_rank4_long_rows(grad_by_output, x0, x1, x2, x3, r0, r1, r2, r3, d, ahead)
        else:
            _add_rank4(grad_by_output, x0, x1, x2, x3, r0, r1, r2, r3, d, ahead)
        t += 4
    while t < stop:
        i0 = rows[t] if rows != NULL else t
        x0 = &X[i0, 0]
        r0 = _dot(x0, w, d) + bias - y[i0 * y_step]
        sse += r0 * r0
        bias_sum += r0
        for j in range(d):
            grad_by_output[j] = grad_by_output[j] + r0 * x0[j]
        t += 1
    grad_bias[0] = bias_sum
    return sse


cdef inline double _sums_over_rows(
    const floating[:, ::1] X,
    const floating[:, :] Y,
    const Py_ssize_t* rows,
    Py_ssize_t start,
    Py_ssize_t stop,
    const WorkBuffers* work,
    double* grad_by_output,
    double* grad_bias,
    const double* sample_weight,
    RowCopies* copies,
) noexcept nogil:
    """`_accumulate_rows` with the weights as an argument, inlined with NULL or not; with
    `copies` (not NULL: X is a Fortran-ordered array's transpose), the rows are read
    from their copies, four at a time (the copies' capacity is a multiple of 4)."""
    cdef Py_ssize_t d = X.shape[1] if copies == NULL else X.shape[0], k = Y.shape[1]
    cdef Py_ssize_t t = start, j, o, i0, i1, i2, i3
    cdef const floating* x0
    cdef const floating* x1
    cdef const floating* x2
    cdef const floating* x3
    cdef double* g
    cdef double s[4]
    cdef double r0, r1, r2, r3, q0, q1, q2, q3
    cdef double sse = 0.0
    cdef Py_ssize_t group_bytes = 4 * d * <Py_ssize_t> sizeof(floating)
    cdef Py_ssize_t distance = 0
    cdef const char* prefetch_end = <const char*> &X[0, 0] + X.shape[0] * d * <Py_ssize_t> sizeof(floating)
    if rows == NULL and copies == NULL and group_bytes >= PREFETCH_MIN_GROUP_BYTES_OUTPUTS:
        distance = _prefetch_distance(group_bytes)
    while t + 4 <= stop:
        if rows != NULL:
            i0 = rows[t]; i1 = rows[t + 1]; i2 = rows[t + 2]; i3 = rows[t + 3]
        else:
            i0 = t; i1 = t + 1; i2 = t + 2; i3 = t + 3
        if copies == NULL:
            x0 = &X[i0, 0]; x1 = &X[i1, 0]; x2 = &X[i2, 0]; x3 = &X[i3, 0]
            if distance != 0 and <const char*> x0 + distance + group_bytes <= prefetch_end:
                # The group ahead all at once, not spread over `_dot4` and `_add_rank4`
                # as for one output (NULL below): their tests of it, 2k per group, cost
                # k = 8 at d = 4 and 16 up to 7%; spread, k = 8 at d = 256 took 1.15x the
                # time of `X @ W` instead of 1.35x.
                _prefetch_span(<const char*> x0 + distance, 0, group_bytes)
        else:
            x3 = _copied_row(X, rows, t + 3, copies)  # rows t..t+3 copied
            x0 = _copied_row(X, rows, t, copies)
            x1 = _copied_row(X, rows, t + 1, copies)
            x2 = _copied_row(X, rows, t + 2, copies)
        for o in range(k):
            _dot4(x0, x1, x2, x3, _weights(x0, work, o, d), d, s, NULL)
            r0 = s[0] + work.bias[o] - Y[i0, o]
            r1 = s[1] + work.bias[o] - Y[i1, o]
            r2 = s[2] + work.bias[o] - Y[i2, o]
            r3 = s[3] + work.bias[o] - Y[i3, o]
            if sample_weight == NULL:
                q0 = r0; q1 = r1; q2 = r2; q3 = r3
            else:
                q0 = sample_weight[i0] * r0; q1 = sample_weight[i1] * r1
                q2 = sample_weight[i2] * r2; q3 = sample_weight[i3] * r3
            sse += (q0 * r0 + q1 * r1) + (q2 * r2 + q3 * r3)
            grad_bias[o] += (q0 + q1) + (q2 + q3)
            _add_rank4(grad_by_output + o * d, x0, x1, x2, x3, q0, q1, q2, q3, d, NULL)
        t += 4
    while t < stop:
        i0 = rows[t] if rows != NULL else t
        x0 = &X[i0, 0] if copies == NULL else _copied_row(X, rows, t, copies)
        for o in range(k):
            r0 = _dot(x0, _weights(x0, work, o, d), d) + work.bias[o] - Y[i0, o]
            q0 = r0 if sample_weight == NULL else sample_weight[i0] * r0
            sse += q0 * r0
            grad_bias[o] += q0
            g = grad_by_output + o * d
            for j in range(d):
                g[j] = g[j] + q0 * x0[j]
        t += 1
    return sse


cdef inline Py_ssize_t _prefetch_distance(Py_ssize_t group) noexcept nogil:
    """How far ahead (bytes) a pass over consecutive rows prefetches, for groups of four
    rows of `group` bytes; 0 for not at all: a multiple of the group, at least
    PREFETCH_DISTANCE_BYTES; only for groups of PREFETCH_MIN_GROUP_BYTES to
    PREFETCH_MAX_GROUP_BYTES (dot.pxi). (A function of the group's size alone, so that
    the loops compiled with d a constant have no prefetching code left.)

    Four rows read side by side are four streams, each a few cache lines long before it
    jumps: the hardware prefetcher ramps up on each too late, and fetches nothing while
    `_add_rank4` works from L1. Prefetching a few groups ahead (a float64 pass at d = 256:
    1.75x the time of `X @ w` before, 1.0-1.1x after; float32: 3.0x, 0.8-0.9x; d = 64:
    1.85x, 0.7x) changes no arithmetic. Groups of 256 bytes or less (float64, d <= 8)
    lost.
    """
    if group < PREFETCH_MIN_GROUP_BYTES or group > PREFETCH_MAX_GROUP_BYTES:
        return 0
    return group * ((PREFETCH_DISTANCE_BYTES + group - 1) // group)


cdef double _pass_over_rows(
    const floating[:, ::1] X, const floating[:, :] Y, WorkBuffers* work, int n_threads,
    floating[:, ::1] row_blocks=None,
) noexcept nogil:
    """Residual sums over all rows into work.grad_by_output and work.grad_bias; returns
    the SSE.

    With several chunks (large n), threads take chunks; each chunk sums into its own
    buffer and the buffers are added in chunk order, so the thread count does not
    change a single bit of the result.
    """
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], k = Y.shape[1]
    cdef Py_ssize_t n_chunks = work.n_chunks, stride = work.chunk_stride, c, j
    cdef Py_ssize_t at_sse = d * k + k  # grad_by_output (d*k), then grad_bias (k), then the SSE
    cdef double* sums
    cdef double sse = 0.0
    cdef ThreadPlan plan
    cdef long long began
    if work.by_columns:  # X is a Fortran-ordered array's transpose (columns.pxi)
        return _pass_over_columns(X, Y, work, n_threads, row_blocks)
    _zero_grad(work, d, k)
    if n_chunks == 1:
        return _accumulate_rows(X, Y, NULL, 0, n, work, work.grad_by_output, work.grad_bias,
                                True)
    n_threads = _plan_threads(&plan, n, d, n_chunks, n_threads)  # platform.pxi
    with parallel(num_threads=n_threads):
        linreg_free_cpu()  # platform.pxi: kept off the caller's CPU between passes only
        for c in prange(n_chunks, schedule="dynamic"):
            began = _chunk_begin(&plan)
            sums = work.chunk_sums + c * stride
            memset(sums, 0, at_sse * sizeof(double))
            sums[at_sse] = _accumulate_rows(
                X, Y, NULL, c * n // n_chunks, (c + 1) * n // n_chunks, work, sums,
                sums + d * k, True
            )
            _chunk_end(&plan, began)
        linreg_keep_off_cpu(plan.caller_cpu)  # the next wake-up on another CPU
    _end_plan(&plan, n_chunks)
    for c in range(n_chunks):
        sums = work.chunk_sums + c * stride
        for j in range(at_sse):
            work.grad_by_output[j] += sums[j]  # then grad_bias: laid out alike in both
        sse += sums[at_sse]
    return sse


cdef void _predict_rows(
    const floating[:, ::1] X, floating[:, :] out, const WorkBuffers* work, Py_ssize_t start,
    Py_ssize_t stop,
) noexcept nogil:
    cdef Py_ssize_t d = X.shape[1], k = out.shape[1], i = start, o
    cdef const floating* x0
    cdef double s[4]
    cdef const floating* w
    cdef floating* po
    cdef Py_ssize_t step, group_bytes, distance
    cdef const char* prefetch_end
    cdef double bias
    if _short_predict_takes(d, k):
        _short_predict(X, out, work, start, stop)
        return
    if floating is float and _few_outputs_take(d, k) and d <= 20:
        # Steps of 8 rows, each output's sums by one hadd tree (few_outputs.pxi); the rows
        # after the last step in the loop below. Time / `X @ W`, before -> after, k = 2..4:
        # d = 8 2.2-2.8 -> 1.5, d = 16 1.5-1.9 -> 1.1-1.2, d = 20 1.5-2.0 -> 1.1-1.2; from
        # 24 elements on the loop below, four vectors a row, was as fast or faster (d = 24,
        # k = 3: 2.12 ms against 2.49; d = 32, k = 2: 1.50 against 1.71).
        i = _few_outputs_predict_f32(X, out, work, start, stop)
    # Five outputs or more: the fused pass's tiles (outputs.pxi). Except float64 rows of
    # 16 elements with a partial tile, where the loop below (four vectors a row, its
    # sweet spot) took 0.79-0.80x the tiles' time (k = 5, 12); at d = 4, 8, 32 and 64
    # and for full tiles the tiles took 0.45-0.97x its time (float32: 0.36-0.66x).
    if (k > OUTPUT_TILE // 2 and LINREG_OUTPUT_TILES
            and (floating is float
                 or (k <= LINREG_OUTPUT_TILES_F64_MAX_K
                     and (d != 16 or k % OUTPUT_TILE == 0)))
            and _predict_over_outputs(X, out, work, start, stop)):
        return
    if k == 1:
        # One output: weights, bias and output hoisted (the loop below: 1.45x a fused
        # pass's time), rows prefetched as the fused pass's (float32, d = 256: 2.14 ms
        # without, 0.84 fused); rows of 8 to 32 float32, 5 to 8 float64 (row_predict.pxi).
        w = _weights(<const floating*> NULL, work, 0, d)  # NULL: only its type counts
        bias = work.bias[0]
        po = &out[0, 0]
        step = out.strides[0] // sizeof(floating)
        group_bytes = 4 * d * <Py_ssize_t> sizeof(floating)
        distance = _prefetch_distance(group_bytes)
        prefetch_end = <const char*> &X[0, 0] + stop * d * <Py_ssize_t> sizeof(floating)
        i = _predict_row_steps(&X[0, 0], d, i, stop, w, bias, po, step)
        while i + 4 <= stop:
            x0 = &X[i, 0]
            if distance != 0 and <const char*> x0 + distance + group_bytes <= prefetch_end:
                _prefetch_span(<const char*> x0 + distance, 0, group_bytes)
            _dot4(x0, x0 + d, x0 + 2 * d, x0 + 3 * d, w, d, s, NULL)
            po[i * step] = <floating> (s[0] + bias)
            po[(i + 1) * step] = <floating> (s[1] + bias)
            po[(i + 2) * step] = <floating> (s[2] + bias)
            po[(i + 3) * step] = <floating> (s[3] + bias)
            i += 4
    while i + 4 <= stop:
        x0 = &X[i, 0]
        for o in range(k):
            _dot4(x0, x0 + d, x0 + 2 * d, x0 + 3 * d, _weights(x0, work, o, d), d, s, NULL)
            out[i, o] = <floating> (s[0] + work.bias[o])
            out[i + 1, o] = <floating> (s[1] + work.bias[o])
            out[i + 2, o] = <floating> (s[2] + work.bias[o])
            out[i + 3, o] = <floating> (s[3] + work.bias[o])
        i += 4
    while i < stop:
        x0 = &X[i, 0]
        for o in range(k):
            out[i, o] = <floating> (_dot(x0, _weights(x0, work, o, d), d) + work.bias[o])
        i += 1
