/*
 * elem.h -- what a graph index stores per element, shared by the index
 * access methods (hnsw, diskann): the element kinds, the metrics, the type
 * info an opclass's support function returns, and one traits row per kind.
 *
 * Why: every AM needs the same per-kind facts (how many dimensions a datum
 * has, how large the largest datum of a column is, where its raw elements
 * start, how to rebuild a datum from them). They used to be switches spread
 * over the hnsw files; here they are one table (VxElemTraitsOf), so adding
 * an element kind is one row plus its type info and opclasses
 * (ARCHITECTURE.md).
 *
 * The numeric values of VxElemKind and VxMetric are stored in index
 * metapages: never renumber them.
 *
 * sparsevec has no fixed size: its largest datum depends on a cap on the
 * non-zero elements that the AM chooses (hnsw: HNSW_MAX_SPARSE_NNZ, 1000, as
 * pgvector). So datum_size and raw_bytes take that cap as an argument
 * (max_nnz); dense kinds ignore it. No cap lives here.
 */
#ifndef VX_AM_ELEM_H
#define VX_AM_ELEM_H

#include "vx/pg.h"

/* Element storage kinds (what a vector slot holds); stored in metapages. */
typedef enum VxElemKind
{
	VX_ELEM_F32 = 1,	/* vector */
	VX_ELEM_F16 = 2,	/* halfvec */
	VX_ELEM_BIT = 3,	/* bit */
	VX_ELEM_SPARSE = 4	/* sparsevec */
} VxElemKind;

/* Metrics (which kernel; cosine is inner product over normalized vectors); stored in metapages. */
typedef enum VxMetric
{
	VX_METRIC_L2 = 1,
	VX_METRIC_IP = 2,
	VX_METRIC_COSINE = 3,
	VX_METRIC_L1 = 4,
	VX_METRIC_HAMMING = 5,
	VX_METRIC_JACCARD = 6
} VxMetric;

/*
 * What an opclass indexes. The type-info support functions (FUNCTION 3 of
 * the halfvec, bit and sparsevec opclasses: hnsw_halfvec_support, ...)
 * return a pointer to a static one of these, as pgvector's return their own
 * type-info struct; vector opclasses have no FUNCTION 3 (VxGetTypeInfo).
 */
typedef struct VxTypeInfo
{
	VxElemKind kind;
	int max_dimensions; /* of the column, for the build-time check */
	const char *type_name;
} VxTypeInfo;

/*
 * Per-kind facts about datums. "Raw" elements are what distance kernels
 * read: the float or half array of vector/halfvec, the bytes of bit, and the
 * whole datum for sparsevec (its kernels take indices and values).
 */
typedef struct VxElemTraits
{
	VxElemKind kind;
	const char *type_name; /* "vector", ...: for pgvector's messages */
	uint32 elem_size;	   /* bytes per element for dense kinds (vector, halfvec), 0 otherwise */
	uint32 elem_offset;	   /* offset of the elements in the datum, dense kinds (else 0) */
	/* dimensions of a datum: elements, or bits for bit */
	uint32 (*dimensions)(const char *datum);
	/* largest datum of a column of these dimensions (sparsevec: max_nnz non-zeros) */
	Size (*datum_size)(uint32 dimensions, uint32 max_nnz);
	/* bytes of the raw elements of such a datum (sparsevec: the whole datum of max_nnz non-zeros) */
	uint32 (*raw_bytes)(uint32 dimensions, uint32 max_nnz);
	/* start of the raw elements of a datum */
	const void *(*raw)(const char *datum);
	/* write the datum whose raw elements are raw into dest (datum_size bytes at most) */
	void (*make_datum)(const void *raw, uint32 dimensions, char *dest);
	/* cosine: the SQL functions computing the L2 norm and the normalized value (NULL for bit) */
	PGFunction norm;
	PGFunction normalize;
} VxElemTraits;

/* The traits of kind; ERROR (INDEX_CORRUPTED) for a kind that does not exist. */
const VxElemTraits *VxElemTraitsOf(VxElemKind kind);

#endif /* VX_AM_ELEM_H */
