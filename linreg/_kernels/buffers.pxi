# Work buffers of one kernel call: the model's weights laid out by output, the gradient
# sums, and the partial sums of the chunks that threads fill. All are O(d k) (the chunk
# sums O(chunks d k)), allocated per call, never X-sized.

cdef struct WorkBuffers:
    double* w_by_output        # (k, d): W transposed, in double
    float* w_by_output_f32     # (k, d): the same in float32 (read for float32 data only)
    double* grad_by_output     # (k, d): sum over rows of r_i x_i, transposed
    double* grad_bias          # (k,): sum over rows of r_i
    double* bias               # (k,)
    double* direction          # ((d + 1) k): a step's direction, laid out like a model slot
    double* velocity           # ((d + 1) k): the velocity a step would leave
    const double* sample_weight  # (n,): each row's weight in the sums; NULL: all 1
    double weight_total        # sum of the weights of all rows (n without weights)
    double pass_weight_total   # the same over the rows an SGD epoch visits
    Py_ssize_t n_chunks        # chunks of a pass over all rows (see MIN_CHUNK_ROWS)
    double* chunk_sums         # per chunk: grad_by_output, grad_bias, sse; NULL for one chunk
    Py_ssize_t chunk_stride    # doubles from one chunk's sums to the next (whole lines)
    void* chunk_block          # what to free for chunk_sums


cdef inline Py_ssize_t _whole_lines(Py_ssize_t n_doubles) noexcept nogil:
    """n_doubles rounded up to whole 64-byte cache lines (8 doubles)."""
    return (n_doubles + 7) // 8 * 8


cdef double* _alloc_lines(Py_ssize_t n_doubles, void** block) noexcept nogil:
    """Room for n_doubles starting on a cache line; free(block[0]) releases it.

    Threads write their chunks' partial sums side by side: if two chunks shared a cache
    line, the line would bounce between the cores on every update (a 2-thread float32
    pass ran slower than 1 thread, depending on where malloc had put the sums).
    """
    block[0] = malloc(n_doubles * sizeof(double) + 64)
    if block[0] == NULL:
        return NULL
    return <double*> ((<size_t> block[0] + 63) & ~(<size_t> 63))


cdef int _work_alloc(WorkBuffers* work, Py_ssize_t d, Py_ssize_t k, Py_ssize_t n_rows=0) except -1:
    """Buffers for a problem with d features and k outputs; chunk buffers for n_rows."""
    cdef double* block = <double*> malloc((2 * d * k + 2 * k + 2 * (d + 1) * k) * sizeof(double))
    cdef float* block32 = <float*> malloc(d * k * sizeof(float))
    work.chunk_stride = _whole_lines(d * k + k + 1)
    work.n_chunks = _n_chunks(n_rows, d, work.chunk_stride)
    work.chunk_sums = NULL
    work.chunk_block = NULL
    work.sample_weight = NULL
    work.weight_total = <double> n_rows
    work.pass_weight_total = <double> n_rows
    if work.n_chunks > 1:
        work.chunk_sums = _alloc_lines(work.n_chunks * work.chunk_stride, &work.chunk_block)
    if block == NULL or block32 == NULL or (work.n_chunks > 1 and work.chunk_sums == NULL):
        free(block)
        free(block32)
        free(work.chunk_block)
        raise MemoryError()
    work.w_by_output = block
    work.grad_by_output = block + d * k
    work.grad_bias = block + 2 * d * k  # right after grad_by_output: summed as one run
    work.bias = block + 2 * d * k + k
    work.direction = block + 2 * d * k + 2 * k
    work.velocity = work.direction + (d + 1) * k
    work.w_by_output_f32 = block32
    return 0


cdef inline void _work_free(WorkBuffers* work) noexcept nogil:
    free(work.w_by_output)
    free(work.w_by_output_f32)
    free(work.chunk_block)


cdef void _load_params(const floating[:, :] W, const floating[:] b, WorkBuffers* work) noexcept nogil:
    cdef Py_ssize_t d = W.shape[0], k = W.shape[1], j, o
    for o in range(k):
        for j in range(d):
            work.w_by_output[o * d + j] = W[j, o]
            work.w_by_output_f32[o * d + j] = <float> W[j, o]
        work.bias[o] = b[o]


cdef void _load_model(floating[:, :, ::1] model, WorkBuffers* work, int slot=0) noexcept nogil:
    """`_load_params` from a slot of a model (0, the parameters: W's d rows, then b)."""
    cdef Py_ssize_t d = model.shape[1] - 1, k = model.shape[2], j, o
    cdef const floating* p = &model[slot, 0, 0]
    for o in range(k):
        for j in range(d):
            work.w_by_output[o * d + j] = p[j * k + o]
            work.w_by_output_f32[o * d + j] = <float> p[j * k + o]
        work.bias[o] = p[d * k + o]


cdef void _copy_model(floating[:, :, ::1] model, double* backup, bint restore) noexcept nogil:
    """backup = every slot of model, or the reverse (exact: either dtype fits in double)."""
    cdef Py_ssize_t i, n = model.shape[0] * model.shape[1] * model.shape[2]
    cdef floating* p = &model[0, 0, 0]
    if restore:
        for i in range(n):
            p[i] = <floating> backup[i]
    else:
        for i in range(n):
            backup[i] = p[i]


cdef bint _model_finite(floating[:, :, ::1] model) noexcept nogil:
    """Whether the parameters (slot 0) are all finite."""
    cdef Py_ssize_t i, n = model.shape[1] * model.shape[2]
    cdef const floating* p = &model[0, 0, 0]
    cdef bint finite = True
    for i in range(n):
        finite &= isfinite(p[i])
    return finite


cdef inline void _zero_grad(WorkBuffers* work, Py_ssize_t d, Py_ssize_t k) noexcept nogil:
    memset(work.grad_by_output, 0, d * k * sizeof(double))
    memset(work.grad_bias, 0, k * sizeof(double))


cdef inline const floating* _weights(const floating* x, const WorkBuffers* work, Py_ssize_t o, Py_ssize_t d) noexcept nogil:
    """Output o's weights in the dtype of x (whose only role is to pick the dtype)."""
    if floating is float:
        return work.w_by_output_f32 + o * d
    else:
        return work.w_by_output + o * d
