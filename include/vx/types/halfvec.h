/*
 * halfvec.h -- the `halfvec` datum inside the extension.
 *
 * The struct, `half`, limits and macros are defined once, in the C header
 * other extensions include (include/extension/vector/halfvec.h, installed
 * like pgvector's); this file adds the layout checks:
 *
 *   int32 vl_len_; int16 dim; int16 unused; half x[dim]   (IEEE binary16)
 *
 * In C++ `half` is the raw 16 bits (uint16) so that the PG zone never
 * depends on compiler support for _Float16; conversions live in the kernels.
 * InitHalfVector is defined in src/types/halfvec.cpp (exported, C linkage).
 */
#ifndef VX_TYPES_HALFVEC_H
#define VX_TYPES_HALFVEC_H

#include "vx/pg.h"

#include "extension/vector/halfvec.h"

#include <cstddef>
#include <cstdint>
#include <type_traits>

static_assert(std::is_same_v<half, uint16_t>, "the extension works on half's raw bits");
static_assert(offsetof(HalfVector, dim) == 4, "halfvec layout must match pgvector");
static_assert(offsetof(HalfVector, x) == 8, "halfvec layout must match pgvector");
static_assert(sizeof(HalfVector) == 8, "halfvec layout must match pgvector");

#endif /* VX_TYPES_HALFVEC_H */
