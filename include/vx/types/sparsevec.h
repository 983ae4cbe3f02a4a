/*
 * sparsevec.h -- the `sparsevec` datum, byte-identical to pgvector's.
 *
 *   int32 vl_len_; int32 dim; int32 nnz; int32 unused;
 *   int32 indices[nnz]   0-based, strictly increasing
 *   float4 values[nnz]   non-zero, finite
 *
 * The text form is 1-based: {1:1.5,3:2}/5.
 */
#ifndef VX_TYPES_SPARSEVEC_H
#define VX_TYPES_SPARSEVEC_H

#include "vx/pg.h"

#include <cstddef>

#define SPARSEVEC_MAX_DIM 1000000000
#define SPARSEVEC_MAX_NNZ 16000

#define SPARSEVEC_SIZE(_nnz) (offsetof(SparseVector, indices) + (_nnz) * sizeof(int32) + (_nnz) * sizeof(float))
#define SPARSEVEC_VALUES(x) ((float *) (((char *) (x)) + offsetof(SparseVector, indices) + (x)->nnz * sizeof(int32)))
#define DatumGetSparseVector(x) ((SparseVector *) PG_DETOAST_DATUM(x))
#define PG_GETARG_SPARSEVEC_P(x) DatumGetSparseVector(PG_GETARG_DATUM(x))
#define PG_RETURN_SPARSEVEC_P(x) PG_RETURN_POINTER(x)

typedef struct SparseVector
{
	int32 vl_len_; /* varlena header (do not touch directly!) */
	int32 dim;	   /* number of dimensions */
	int32 nnz;	   /* number of non-zero elements */
	int32 unused;  /* reserved for future use, always zero */
	int32 indices[FLEXIBLE_ARRAY_MEMBER];
} SparseVector;

static_assert(offsetof(SparseVector, dim) == 4, "sparsevec layout must match pgvector");
static_assert(offsetof(SparseVector, nnz) == 8, "sparsevec layout must match pgvector");
static_assert(offsetof(SparseVector, indices) == 16, "sparsevec layout must match pgvector");

/* Allocate a zeroed sparsevec (palloc; caller checks dim and nnz). */
static inline SparseVector *
InitSparseVector(int dim, int nnz)
{
	Size size = SPARSEVEC_SIZE(nnz);
	SparseVector *result = (SparseVector *) palloc0(size);

	SET_VARSIZE(result, size);
	result->dim = dim;
	result->nnz = nnz;
	return result;
}

#endif /* VX_TYPES_SPARSEVEC_H */
