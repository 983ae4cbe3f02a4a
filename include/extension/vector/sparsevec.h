/*
 * sparsevec.h -- the `sparsevec` datum for C (and C++) code outside this
 * extension.
 *
 * Installed beside vector.h in $(includedir_server)/extension/vector/, with
 * pgvector 0.8's names. Layout (pgvector's bytes):
 *
 *   int32 vl_len_         varlena header
 *   int32 dim             number of dimensions, 1 .. SPARSEVEC_MAX_DIM
 *   int32 nnz             number of stored (non-zero) elements, 0 .. SPARSEVEC_MAX_NNZ
 *   int32 unused          always 0
 *   int32 indices[nnz]    0-based, strictly increasing, < dim
 *   float values[nnz]     non-zero, finite; SPARSEVEC_VALUES(v) points at them
 *
 * (The text form is 1-based: {1:1.5,3:2}/5.) SPARSEVEC_SIZE and
 * SPARSEVEC_VALUES are inline functions so that their argument is evaluated
 * once. The extension's own definition of the struct
 * (include/vx/types/sparsevec.h includes this file).
 */
#ifndef SPARSEVEC_H
#define SPARSEVEC_H

#include "postgres.h"

#include "fmgr.h"

#define SPARSEVEC_MAX_DIM 1000000000
#define SPARSEVEC_MAX_NNZ 16000

#define DatumGetSparseVector(x) ((SparseVector *) PG_DETOAST_DATUM(x))
#define PG_GETARG_SPARSEVEC_P(x) DatumGetSparseVector(PG_GETARG_DATUM(x))
#define PG_RETURN_SPARSEVEC_P(x) PG_RETURN_POINTER(x)

typedef struct SparseVector
{
	int32		vl_len_;		/* varlena header (do not touch directly!) */
	int32		dim;			/* number of dimensions */
	int32		nnz;			/* number of non-zero elements */
	int32		unused;			/* reserved for future use, always zero */
	int32		indices[FLEXIBLE_ARRAY_MEMBER];
} SparseVector;

/* Bytes of a sparsevec holding nnz elements. */
static inline Size
SPARSEVEC_SIZE(int nnz)
{
	return offsetof(SparseVector, indices) + (Size) nnz * sizeof(int32) + (Size) nnz * sizeof(float);
}

/* The values array, right after the nnz indices. */
static inline float *
SPARSEVEC_VALUES(const SparseVector *x)
{
	return (float *) ((char *) x + offsetof(SparseVector, indices) + (Size) x->nnz * sizeof(int32));
}

#ifdef __cplusplus
extern "C"
{
#endif

/* A zeroed sparsevec with the given dim and nnz in the current memory context (not checked). */
extern PGDLLEXPORT SparseVector *InitSparseVector(int dim, int nnz);

#ifdef __cplusplus
}
#endif

#endif							/* SPARSEVEC_H */
