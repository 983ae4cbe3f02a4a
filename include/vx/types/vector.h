/*
 * vector.h -- the `vector` datum inside the extension.
 *
 * The struct, its limits and macros are defined once, in the C header other
 * extensions include (include/extension/vector/vector.h, installed as
 * extension/vector/vector.h like pgvector's); this file adds the checks that
 * the layout is pgvector's, byte for byte:
 *
 *   int32 vl_len_   varlena header
 *   int16 dim       number of elements
 *   int16 unused    always 0
 *   float4 x[dim]
 *
 * InitVector, PrintVector and vector_cmp_internal are defined in
 * src/types/vector.cpp and exported with C linkage.
 */
#ifndef VX_TYPES_VECTOR_H
#define VX_TYPES_VECTOR_H

#include "vx/pg.h"

#include "extension/vector/vector.h"

#include <cstddef>

static_assert(offsetof(Vector, dim) == 4, "vector layout must match pgvector");
static_assert(offsetof(Vector, unused) == 6, "vector layout must match pgvector");
static_assert(offsetof(Vector, x) == 8, "vector layout must match pgvector");
static_assert(sizeof(Vector) == 8, "vector layout must match pgvector");

#endif /* VX_TYPES_VECTOR_H */
