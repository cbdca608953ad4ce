# Compiled kernels of linreg, in the order they build on each other. Included whole by
# `_kernels_generic.pyx`, `_kernels_avx2.pyx` and `_kernels_avx512.pyx`, so that hot helpers
# inline across files. The design note is README.md in this folder.

from cython cimport floating

include "platform.pxi"
include "buffers.pxi"
include "row_copies.pxi"
include "dot.pxi"
include "outputs.pxi"
include "one_output.pxi"
include "row_vectors.pxi"
include "row_predict.pxi"
include "short_rows.pxi"
include "short_predict.pxi"
include "few_outputs.pxi"
include "rows.pxi"
include "step.pxi"
include "stopping.pxi"
include "random.pxi"
include "gram.pxi"
include "gram_products.pxi"
include "per_sample.pxi"
include "loops.pxi"
include "entry.pxi"
include "columns.pxi"
include "column_rows.pxi"
include "column_entry.pxi"
include "gram_columns.pxi"
include "distributed.pxi"
