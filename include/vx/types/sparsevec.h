/*
 * sparsevec.h -- the `sparsevec` datum inside the extension.
 *
 * The struct, limits, SPARSEVEC_SIZE and SPARSEVEC_VALUES are defined once,
 * in the C header other extensions include
 * (include/extension/vector/sparsevec.h, installed like pgvector's); this
 * file adds the layout checks:
 *
 *   int32 vl_len_; int32 dim; int32 nnz; int32 unused;
 *   int32 indices[nnz]   0-based, strictly increasing
 *   float4 values[nnz]   non-zero, finite
 *
 * The text form is 1-based: {1:1.5,3:2}/5. InitSparseVector is defined in
 * src/types/sparsevec.cpp (exported, C linkage).
 */
#ifndef VX_TYPES_SPARSEVEC_H
#define VX_TYPES_SPARSEVEC_H

#include "vx/pg.h"

#include "extension/vector/sparsevec.h"

#include <cstddef>

static_assert(offsetof(SparseVector, dim) == 4, "sparsevec layout must match pgvector");
static_assert(offsetof(SparseVector, nnz) == 8, "sparsevec layout must match pgvector");
static_assert(offsetof(SparseVector, indices) == 16, "sparsevec layout must match pgvector");
static_assert(sizeof(SparseVector) == 16, "sparsevec layout must match pgvector");

#endif /* VX_TYPES_SPARSEVEC_H */
