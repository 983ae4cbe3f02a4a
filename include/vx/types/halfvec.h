/*
 * halfvec.h -- the `halfvec` datum, byte-identical to pgvector's.
 *
 *   int32 vl_len_; int16 dim; int16 unused; half x[dim]   (IEEE binary16)
 *
 * `half` is stored as its raw 16 bits (uint16) so that the PG zone never
 * depends on compiler support for _Float16; conversions live in the kernels.
 */
#ifndef VX_TYPES_HALFVEC_H
#define VX_TYPES_HALFVEC_H

#include "vx/pg.h"

#include <cstddef>
#include <cstdint>

#define HALFVEC_MAX_DIM 16000

typedef uint16_t half;

#define HALFVEC_SIZE(_dim) (offsetof(HalfVector, x) + sizeof(half) * (_dim))
#define DatumGetHalfVector(x) ((HalfVector *) PG_DETOAST_DATUM(x))
#define PG_GETARG_HALFVEC_P(x) DatumGetHalfVector(PG_GETARG_DATUM(x))
#define PG_RETURN_HALFVEC_P(x) PG_RETURN_POINTER(x)

typedef struct HalfVector
{
	int32 vl_len_; /* varlena header (do not touch directly!) */
	int16 dim;	   /* number of dimensions */
	int16 unused;  /* reserved for future use, always zero */
	half x[FLEXIBLE_ARRAY_MEMBER];
} HalfVector;

static_assert(offsetof(HalfVector, dim) == 4, "halfvec layout must match pgvector");
static_assert(offsetof(HalfVector, x) == 8, "halfvec layout must match pgvector");

/* Allocate a zeroed halfvec of dim elements (palloc; caller checks dim). */
static inline HalfVector *
InitHalfVector(int dim)
{
	Size size = HALFVEC_SIZE(dim);
	HalfVector *result = (HalfVector *) palloc0(size);

	SET_VARSIZE(result, size);
	result->dim = dim;
	return result;
}

#endif /* VX_TYPES_HALFVEC_H */
