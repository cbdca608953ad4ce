# The inner loop of a pass over a Fortran-ordered X (columns.pxi): four columns of a block
# of rows, read a cache line (64 bytes of each column) at a time, that add their terms to
# the block's residuals and, in the same loop, sum the previous block's gradient terms,
# prefetching ahead of the residual loop once per line.
#
# In C because the sums must stay in vector registers across the block: in Cython, with
# the loop over rows cut into short runs between prefetches, each run's set-up (overlap
# checks of the pointers, sums across the vector lanes) cost about what its arithmetic
# did (float32 fused epoch 1.20-1.23x the C-order time, here 1.15-1.19x, both timed on
# thread CPU time with C and Fortran order interleaved; float64 about 1.3x either way,
# held by memory). AVX (the avx2 build) uses intrinsics: gcc's vector extensions
# converted float32 halves to double through the stack (1.7x). Other builds run the
# same loop in plain C (generic build, fused epoch: float64 2.2x -> 1.7x, float32 2.0x
# -> 1.4x).
#
# Precision as in the C-order pass: float32 sums the four products of a row in float32
# and adds them to the residual in double; the gradient's terms take the residuals
# rounded to float32 (AVX: 8 rows' terms a lane summed in float32, then in double; other
# builds in double); every other sum over rows is in double. The order of the sums over
# rows depends on the block's size only: the same bits for any number of threads.

cdef extern from *:
    """
    /* LINREG_PREFETCH: platform.pxi */
    /* float32 gradient: lines (16 rows) a lane sums in float32 before it is promoted to
       double, 2 rows a line: 8 rows, as the C-order pass sums 8 rows' terms in float32. */
    #define LCOL_F32_LINES 4
    #define LCOL_PREFETCH4(p, n) do { LINREG_PREFETCH(p); LINREG_PREFETCH((p) + (n));     \\
            LINREG_PREFETCH((p) + 2 * (n)); LINREG_PREFETCH((p) + 3 * (n)); } while (0)
    #if defined(__AVX__)
    #include <immintrin.h>
    #define LCOL_AVX 1
    static inline double lcol_lanes(__m256d v) {
        double l[4];
        _mm256_storeu_pd(l, v);
        return (l[0] + l[1]) + (l[2] + l[3]);
    }
    /* Eight float32 partial sums promoted and added in pairs: four doubles. */
    static inline __m256d lcol_promote(__m256 f) {
        return _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(f)),
                             _mm256_cvtps_pd(_mm256_extractf128_ps(f, 1)));
    }
    #else
    #define LCOL_AVX 0
    #endif

    /* Four columns (stride n): r[i] += sum_c a_c[i] w[c] for i < m_a, and
       g[c] += sum_i b_c[i] q[i] for i < m_b, in one pass over lines of rows. Before each
       line of a at row i, the line of four columns (stride n) at pf_lo + i (i < lo_stop)
       or pf_hi + (i - split) (split <= i < hi_stop; lo_stop <= split) is asked for. */
    static inline void lcol_block_d(const double* a, Py_ssize_t m_a, const double* b, Py_ssize_t m_b,
                             Py_ssize_t n, const double* w, double* r, const double* q,
                             double* g, const double* pf_lo, Py_ssize_t lo_stop,
                             const double* pf_hi, Py_ssize_t split, Py_ssize_t hi_stop)
    {
        const double* a1 = a + n; const double* a2 = a + 2 * n; const double* a3 = a + 3 * n;
        const double* b1 = b + n; const double* b2 = b + 2 * n; const double* b3 = b + 3 * n;
        const double w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
        Py_ssize_t la = m_a & ~(Py_ssize_t) 7, lb = m_b & ~(Py_ssize_t) 7;
        Py_ssize_t lines = la > lb ? la : lb, i, k;
        double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    #if LCOL_AVX
        const __m256d v0 = _mm256_set1_pd(w0), v1 = _mm256_set1_pd(w1);
        const __m256d v2 = _mm256_set1_pd(w2), v3 = _mm256_set1_pd(w3);
        __m256d g0 = _mm256_setzero_pd(), g1 = g0, g2 = g0, g3 = g0;
        __m256d h0 = g0, h1 = g0, h2 = g0, h3 = g0;
    #endif
        for (i = 0; i < lines; i += 8) {
            if (i < la) {
                if (i < lo_stop) LCOL_PREFETCH4(pf_lo + i, n);
                else if (i >= split && i < hi_stop) LCOL_PREFETCH4(pf_hi + (i - split), n);
    #if LCOL_AVX
                for (k = i; k < i + 8; k += 4) {
                    __m256d t = _mm256_add_pd(
                        _mm256_add_pd(_mm256_mul_pd(_mm256_loadu_pd(a + k), v0),
                                      _mm256_mul_pd(_mm256_loadu_pd(a1 + k), v1)),
                        _mm256_add_pd(_mm256_mul_pd(_mm256_loadu_pd(a2 + k), v2),
                                      _mm256_mul_pd(_mm256_loadu_pd(a3 + k), v3)));
                    _mm256_storeu_pd(r + k, _mm256_add_pd(_mm256_loadu_pd(r + k), t));
                }
    #else
                for (k = i; k < i + 8; k++)
                    r[k] += (a[k] * w0 + a1[k] * w1) + (a2[k] * w2 + a3[k] * w3);
    #endif
            }
            if (i < lb) {
    #if LCOL_AVX
                __m256d q0 = _mm256_loadu_pd(q + i), q1 = _mm256_loadu_pd(q + i + 4);
                g0 = _mm256_add_pd(g0, _mm256_mul_pd(_mm256_loadu_pd(b + i), q0));
                h0 = _mm256_add_pd(h0, _mm256_mul_pd(_mm256_loadu_pd(b + i + 4), q1));
                g1 = _mm256_add_pd(g1, _mm256_mul_pd(_mm256_loadu_pd(b1 + i), q0));
                h1 = _mm256_add_pd(h1, _mm256_mul_pd(_mm256_loadu_pd(b1 + i + 4), q1));
                g2 = _mm256_add_pd(g2, _mm256_mul_pd(_mm256_loadu_pd(b2 + i), q0));
                h2 = _mm256_add_pd(h2, _mm256_mul_pd(_mm256_loadu_pd(b2 + i + 4), q1));
                g3 = _mm256_add_pd(g3, _mm256_mul_pd(_mm256_loadu_pd(b3 + i), q0));
                h3 = _mm256_add_pd(h3, _mm256_mul_pd(_mm256_loadu_pd(b3 + i + 4), q1));
    #else
                for (k = i; k < i + 8; k++) {
                    double qk = q[k];
                    s0 += b[k] * qk; s1 += b1[k] * qk; s2 += b2[k] * qk; s3 += b3[k] * qk;
                }
    #endif
            }
        }
    #if LCOL_AVX
        s0 = lcol_lanes(_mm256_add_pd(g0, h0)); s1 = lcol_lanes(_mm256_add_pd(g1, h1));
        s2 = lcol_lanes(_mm256_add_pd(g2, h2)); s3 = lcol_lanes(_mm256_add_pd(g3, h3));
    #endif
        for (i = la; i < m_a; i++)
            r[i] += (a[i] * w0 + a1[i] * w1) + (a2[i] * w2 + a3[i] * w3);
        for (i = lb; i < m_b; i++) {
            double qi = q[i];
            s0 += b[i] * qi; s1 += b1[i] * qi; s2 += b2[i] * qi; s3 += b3[i] * qi;
        }
        if (m_b) { g[0] += s0; g[1] += s1; g[2] += s2; g[3] += s3; }
    }

    /* float32: lines of 16 rows; a row's four products summed in float32, then added to
       its residual in double; the gradient's products and sums in double. */
    static inline void lcol_block_f(const float* a, Py_ssize_t m_a, const float* b, Py_ssize_t m_b,
                             Py_ssize_t n, const float* w, double* r, const double* q,
                             const float* qf, double* g, const float* pf_lo, Py_ssize_t lo_stop,
                             const float* pf_hi, Py_ssize_t split, Py_ssize_t hi_stop)
    {
        const float* a1 = a + n; const float* a2 = a + 2 * n; const float* a3 = a + 3 * n;
        const float* b1 = b + n; const float* b2 = b + 2 * n; const float* b3 = b + 3 * n;
        const float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
        Py_ssize_t la = m_a & ~(Py_ssize_t) 15, lb = m_b & ~(Py_ssize_t) 15;
        Py_ssize_t lines = la > lb ? la : lb, i, k;
        double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    #if LCOL_AVX
        const __m256 v0 = _mm256_set1_ps(w0), v1 = _mm256_set1_ps(w1);
        const __m256 v2 = _mm256_set1_ps(w2), v3 = _mm256_set1_ps(w3);
        __m256d g0 = _mm256_setzero_pd(), g1 = g0, g2 = g0, g3 = g0;
        __m256 f0 = _mm256_setzero_ps(), f1 = f0, f2 = f0, f3 = f0;
    #endif
        for (i = 0; i < lines; i += 16) {
            if (i < la) {
                if (i < lo_stop) LCOL_PREFETCH4(pf_lo + i, n);
                else if (i >= split && i < hi_stop) LCOL_PREFETCH4(pf_hi + (i - split), n);
    #if LCOL_AVX
                for (k = i; k < i + 16; k += 8) {
                    __m256 t = _mm256_add_ps(
                        _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(a + k), v0),
                                      _mm256_mul_ps(_mm256_loadu_ps(a1 + k), v1)),
                        _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(a2 + k), v2),
                                      _mm256_mul_ps(_mm256_loadu_ps(a3 + k), v3)));
                    _mm256_storeu_pd(r + k, _mm256_add_pd(_mm256_loadu_pd(r + k),
                                     _mm256_cvtps_pd(_mm256_castps256_ps128(t))));
                    _mm256_storeu_pd(r + k + 4, _mm256_add_pd(_mm256_loadu_pd(r + k + 4),
                                     _mm256_cvtps_pd(_mm256_extractf128_ps(t, 1))));
                }
    #else
                for (k = i; k < i + 16; k++)
                    r[k] += (double) ((a[k] * w0 + a1[k] * w1) + (a2[k] * w2 + a3[k] * w3));
    #endif
            }
            if (i < lb) {
    #if LCOL_AVX
                /* float32 terms with the residuals rounded to float32 (qf), each lane
                   summing two rows a line, promoted every LCOL_F32_LINES lines */
                __m256 q0 = _mm256_loadu_ps(qf + i), q1 = _mm256_loadu_ps(qf + i + 8);
                f0 = _mm256_fmadd_ps(_mm256_loadu_ps(b + i + 8), q1,
                                     _mm256_fmadd_ps(_mm256_loadu_ps(b + i), q0, f0));
                f1 = _mm256_fmadd_ps(_mm256_loadu_ps(b1 + i + 8), q1,
                                     _mm256_fmadd_ps(_mm256_loadu_ps(b1 + i), q0, f1));
                f2 = _mm256_fmadd_ps(_mm256_loadu_ps(b2 + i + 8), q1,
                                     _mm256_fmadd_ps(_mm256_loadu_ps(b2 + i), q0, f2));
                f3 = _mm256_fmadd_ps(_mm256_loadu_ps(b3 + i + 8), q1,
                                     _mm256_fmadd_ps(_mm256_loadu_ps(b3 + i), q0, f3));
                if ((i / 16) % LCOL_F32_LINES == LCOL_F32_LINES - 1 || i + 16 >= lb) {
                    g0 = _mm256_add_pd(g0, lcol_promote(f0)); g1 = _mm256_add_pd(g1, lcol_promote(f1));
                    g2 = _mm256_add_pd(g2, lcol_promote(f2)); g3 = _mm256_add_pd(g3, lcol_promote(f3));
                    f0 = _mm256_setzero_ps(); f1 = f0; f2 = f0; f3 = f0;
                }
    #else
                for (k = i; k < i + 16; k++) {
                    double qk = q[k];
                    s0 += b[k] * qk; s1 += b1[k] * qk; s2 += b2[k] * qk; s3 += b3[k] * qk;
                }
    #endif
            }
        }
    #if LCOL_AVX
        s0 = lcol_lanes(g0); s1 = lcol_lanes(g1); s2 = lcol_lanes(g2); s3 = lcol_lanes(g3);
    #endif
        for (i = la; i < m_a; i++)
            r[i] += (double) ((a[i] * w0 + a1[i] * w1) + (a2[i] * w2 + a3[i] * w3));
        for (i = lb; i < m_b; i++) {
            double qi = q[i];
            s0 += b[i] * qi; s1 += b1[i] * qi; s2 += b2[i] * qi; s3 += b3[i] * qi;
        }
        if (m_b) { g[0] += s0; g[1] += s1; g[2] += s2; g[3] += s3; }
    }

    /* The ends of a block's residual loop, in C so that they run at L1 speed: the
       sums over rows have 16 partial sums each (gcc: two or four vector accumulators);
       in Cython, one accumulator's add latency and y and out read and written a
       strided element at a time took 0.3x (float32, d = 32) to 0.8x (d = 8) the time
       of the four-column loops. */
    #define LCOL_LANES 16
    /* r[i] = c - y[i * ys] (i < m): a block's residuals before its columns' terms. */
    static inline void lcol_start_d(double* restrict r, const double* restrict y,
                                    Py_ssize_t ys, double c, Py_ssize_t m)
    {
        Py_ssize_t i;
        if (ys == 1) for (i = 0; i < m; i++) r[i] = c - y[i];
        else for (i = 0; i < m; i++) r[i] = c - y[i * ys];
    }
    static inline void lcol_start_f(double* restrict r, const float* restrict y,
                                    Py_ssize_t ys, double c, Py_ssize_t m)
    {
        Py_ssize_t i;
        if (ys == 1) for (i = 0; i < m; i++) r[i] = c - (double) y[i];
        else for (i = 0; i < m; i++) r[i] = c - (double) y[i * ys];
    }
    /* out[i * os] = r[i] (i < m), rounded to the output's dtype. */
    static inline void lcol_store_d(double* restrict out, Py_ssize_t os,
                                    const double* restrict r, Py_ssize_t m)
    {
        Py_ssize_t i;
        if (os == 1) for (i = 0; i < m; i++) out[i] = r[i];
        else for (i = 0; i < m; i++) out[i * os] = r[i];
    }
    static inline void lcol_store_f(float* restrict out, Py_ssize_t os,
                                    const double* restrict r, Py_ssize_t m)
    {
        Py_ssize_t i;
        if (os == 1) for (i = 0; i < m; i++) out[i] = (float) r[i];
        else for (i = 0; i < m; i++) out[i * os] = (float) r[i];
    }
    /* With v_i = sw[i] (1 when sw is NULL), i < m: *sse += sum_i v_i r_i^2 and
       *total += sum_i v_i r_i; r_i becomes v_i r_i (the gradient's weights), and rf_i
       (rf not NULL) v_i r_i rounded to float32. */
    static inline void lcol_finish(double* restrict r, const double* restrict sw,
                                   Py_ssize_t m, double* sse, double* total,
                                   float* restrict rf)
    {
        double a[LCOL_LANES] = {0.0}, b[LCOL_LANES] = {0.0}, sa = 0.0, sb = 0.0;
        Py_ssize_t whole = m - m % LCOL_LANES, i, l;
        if (sw == NULL) {
            for (i = 0; i < whole; i += LCOL_LANES)
                for (l = 0; l < LCOL_LANES; l++) {
                    a[l] += r[i + l] * r[i + l];
                    b[l] += r[i + l];
                }
            for (i = whole; i < m; i++) { sa += r[i] * r[i]; sb += r[i]; }
        } else {
            for (i = 0; i < whole; i += LCOL_LANES)
                for (l = 0; l < LCOL_LANES; l++) {
                    double v = sw[i + l] * r[i + l];
                    a[l] += v * r[i + l];
                    b[l] += v;
                    r[i + l] = v;
                }
            for (i = whole; i < m; i++) {
                double v = sw[i] * r[i];
                sa += v * r[i]; sb += v; r[i] = v;
            }
        }
        if (rf != NULL)  /* float32 X: the gradient's terms take them in float32 */
            for (i = 0; i < m; i++) rf[i] = (float) r[i];
        for (l = LCOL_LANES / 2; l >= 1; l /= 2)  /* pairwise: a fixed order */
            for (i = 0; i < l; i++) { a[i] += a[i + l]; b[i] += b[i + l]; }
        *sse += a[0] + sa;
        *total += b[0] + sb;
    }

    /* The last d % 4 columns (nc of them, stride n), after the groups of four: their
       residual terms r[i] += a_c[i] w[c] in column order (the roundings of a loop per
       column) in one pass over r, and their gradient sums g[c] += sum_i b_c[i] q[i]
       with LCOL_LANES partial sums in a fixed order. In Cython, a loop per column that
       reloaded w and r took more time than a group of four (float32, d = 19: 1.6x the
       C-order fused pass, d = 20 1.1x). */
    #define LCOL_TAIL(T, CAST)                                                          \\
    static inline void lcol_tail_res_##T(const T* restrict a, Py_ssize_t n, int nc,       \\
                                         Py_ssize_t m, const T* w, double* restrict r) {  \\
        const T w0 = w[0], w1 = nc > 1 ? w[1] : 0, w2 = nc > 2 ? w[2] : 0;              \\
        const T* restrict a1 = a + n; const T* restrict a2 = a + 2 * n;                   \\
        Py_ssize_t i;                                                                    \\
        if (nc == 1) for (i = 0; i < m; i++) r[i] = r[i] + CAST(a[i] * w0);              \\
        else if (nc == 2)                                                                \\
            for (i = 0; i < m; i++) r[i] = (r[i] + CAST(a[i] * w0)) + CAST(a1[i] * w1);  \\
        else for (i = 0; i < m; i++)                                                     \\
            r[i] = ((r[i] + CAST(a[i] * w0)) + CAST(a1[i] * w1)) + CAST(a2[i] * w2);     \\
    }                                                                                    \\
    static inline void lcol_tail_grad_##T(const T* b, Py_ssize_t n, int nc, Py_ssize_t m, \\
                                          const double* restrict q, double* g) {          \\
        int c, l;                                                                        \\
        for (c = 0; c < nc; c++) {                                                       \\
            const T* restrict x = b + c * n;                                             \\
            double acc[LCOL_LANES] = {0.0}, tail = 0.0;                                  \\
            Py_ssize_t whole = m - m % LCOL_LANES, i;                                    \\
            for (i = 0; i < whole; i += LCOL_LANES)                                      \\
                for (l = 0; l < LCOL_LANES; l++) acc[l] += (double) x[i + l] * q[i + l]; \\
            for (i = whole; i < m; i++) tail += (double) x[i] * q[i];                    \\
            for (l = LCOL_LANES / 2; l >= 1; l /= 2)                                     \\
                for (i = 0; i < l; i++) acc[i] += acc[i + l];                            \\
            g[c] += acc[0] + tail;                                                       \\
        }                                                                                \\
    }
    #define LCOL_AS_DOUBLE(x) ((double) (x))
    LCOL_TAIL(double, LCOL_AS_DOUBLE)
    LCOL_TAIL(float, LCOL_AS_DOUBLE)
    """
    void lcol_start_d(double* r, const double* y, Py_ssize_t ys, double c, Py_ssize_t m) noexcept nogil
    void lcol_start_f(double* r, const float* y, Py_ssize_t ys, double c, Py_ssize_t m) noexcept nogil
    void lcol_store_d(double* out, Py_ssize_t os, const double* r, Py_ssize_t m) noexcept nogil
    void lcol_store_f(float* out, Py_ssize_t os, const double* r, Py_ssize_t m) noexcept nogil
    void lcol_tail_res_double(const double* a, Py_ssize_t n, int nc, Py_ssize_t m,
                              const double* w, double* r) noexcept nogil
    void lcol_tail_res_float(const float* a, Py_ssize_t n, int nc, Py_ssize_t m,
                             const float* w, double* r) noexcept nogil
    void lcol_tail_grad_double(const double* b, Py_ssize_t n, int nc, Py_ssize_t m,
                               const double* q, double* g) noexcept nogil
    void lcol_tail_grad_float(const float* b, Py_ssize_t n, int nc, Py_ssize_t m,
                              const double* q, double* g) noexcept nogil
    void lcol_finish(double* r, const double* sw, Py_ssize_t m, double* sse, double* total,
                     float* rf) noexcept nogil
    void lcol_block_d(const double* a, Py_ssize_t m_a, const double* b, Py_ssize_t m_b,
                      Py_ssize_t n, const double* w, double* r, const double* q, double* g,
                      const double* pf_lo, Py_ssize_t lo_stop, const double* pf_hi,
                      Py_ssize_t split, Py_ssize_t hi_stop) noexcept nogil
    void lcol_block_f(const float* a, Py_ssize_t m_a, const float* b, Py_ssize_t m_b,
                      Py_ssize_t n, const float* w, double* r, const double* q,
                      const float* qf, double* g,
                      const float* pf_lo, Py_ssize_t lo_stop, const float* pf_hi,
                      Py_ssize_t split, Py_ssize_t hi_stop) noexcept nogil


cdef inline void _start_residuals(
    double* r, const floating* y, Py_ssize_t ys, double bias, Py_ssize_t m,
) noexcept nogil:
    """r[i] = bias - y[i * ys] for i < m (column_lines.pxi)."""
    if floating is double:
        lcol_start_d(r, y, ys, bias, m)
    else:
        lcol_start_f(r, y, ys, bias, m)


cdef inline void _store_rows(
    floating* out, Py_ssize_t os, const double* r, Py_ssize_t m,
) noexcept nogil:
    """out[i * os] = r[i] for i < m, in out's dtype (column_lines.pxi)."""
    if floating is double:
        lcol_store_d(out, os, r, m)
    else:
        lcol_store_f(out, os, r, m)


cdef inline void _tail_residuals(
    const floating* a, Py_ssize_t n, Py_ssize_t nc, Py_ssize_t m, const floating* w, double* r,
) noexcept nogil:
    """r[i] += sum_c a[c n + i] w[c] for the last nc = d % 4 columns (column_lines.pxi)."""
    if floating is double:
        lcol_tail_res_double(a, n, <int> nc, m, w, r)
    else:
        lcol_tail_res_float(a, n, <int> nc, m, w, r)

