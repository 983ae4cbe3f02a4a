/*
 * vector.h -- the `vector` datum, byte-identical to pgvector's.
 *
 *   int32 vl_len_   varlena header
 *   int16 dim       number of elements
 *   int16 unused    always 0
 *   float4 x[dim]
 *
 * Other extensions read these bytes directly, so the layout is frozen and
 * checked with static_asserts.
 */
#ifndef VX_TYPES_VECTOR_H
#define VX_TYPES_VECTOR_H

#include "vx/pg.h"

#include <cstddef>

#define VECTOR_MAX_DIM 16000

#define VECTOR_SIZE(_dim) (offsetof(Vector, x) + sizeof(float) * (_dim))
#define DatumGetVector(x) ((Vector *) PG_DETOAST_DATUM(x))
#define PG_GETARG_VECTOR_P(x) DatumGetVector(PG_GETARG_DATUM(x))
#define PG_RETURN_VECTOR_P(x) PG_RETURN_POINTER(x)

typedef struct Vector
{
	int32 vl_len_; /* varlena header (do not touch directly!) */
	int16 dim;	   /* number of dimensions */
	int16 unused;  /* reserved for future use, always zero */
	float x[FLEXIBLE_ARRAY_MEMBER];
} Vector;

static_assert(offsetof(Vector, dim) == 4, "vector layout must match pgvector");
static_assert(offsetof(Vector, unused) == 6, "vector layout must match pgvector");
static_assert(offsetof(Vector, x) == 8, "vector layout must match pgvector");

/* Allocate a zeroed vector of dim elements (palloc; caller checks dim). */
static inline Vector *
InitVector(int dim)
{
	Size size = VECTOR_SIZE(dim);
	Vector *result = (Vector *) palloc0(size);

	SET_VARSIZE(result, size);
	result->dim = dim;
	return result;
}

#endif /* VX_TYPES_VECTOR_H */
