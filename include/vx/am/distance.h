/*
 * distance.h -- how a graph index computes distances, shared by the index
 * access methods (hnsw, diskann).
 *
 * An index is described by an element kind and a metric, both read from
 * the opclass at build time (VxGetTypeInfo, VxGetMetric) and stored in the
 * AM's metapage. VxInitDistance resolves them once per scan, build or insert
 * into function pointers over the active KernelTable: no fmgr call per
 * distance. Internal distances order like the operator's but skip its final
 * monotonic step (squared L2 instead of L2, the negative inner product of
 * normalized vectors instead of cosine distance); VxOrderByValue maps them
 * back to the operator's value.
 *
 * Values are prepared once per insert and per query (VxPrepareValue):
 * detoasted and normalized for cosine, where a zero vector is not indexed,
 * as in pgvector. AM-specific checks (hnsw's sparsevec non-zero cap) stay in
 * the AM, which calls VxPrepareValue after them.
 */
#ifndef VX_AM_DISTANCE_H
#define VX_AM_DISTANCE_H

#include "vx/pg.h"

#include "vx/am/elem.h"

/* Support functions of every graph opclass that VxGetMetric reads (pgvector's numbers). */
#define VX_DISTANCE_PROC 1 /* the distance function: identifies kind and metric */
#define VX_NORM_PROC 2	   /* present for cosine only */

struct VxDistanceData;

/* Internal distance between two datums of the index's kind (smaller is closer). */
typedef float (*VxDistanceFn)(const struct VxDistanceData *dist, const char *a, const char *b);

/* Terms of elements [first, first + count) of a dense datum, stored at elems, against datum q. */
typedef float (*VxPartialFn)(const struct VxDistanceData *dist, const char *q, uint32 first, uint32 count,
							 const char *elems);

/*
 * Distance evaluation for one index, resolved once per operation. For
 * cosine the stored vectors and the query are normalized, so the internal
 * distance is the negative inner product.
 */
typedef struct VxDistanceData
{
	VxElemKind kind;
	VxMetric metric;
	uint32 dimensions;
	VxDistanceFn fn;
	/* one query against four datums (NULL: call fn four times) */
	void (*fn4)(const struct VxDistanceData *dist, const char *q, const char *const *v, float *out);
	/* dense kinds: the distance is the sum of partial distances over any split of the elements (else NULL) */
	VxPartialFn partial;
	uint32 elem_size;	/* bytes per element (partial only) */
	uint32 elem_offset; /* offset of the elements in a datum (partial only) */
	const void *kernels; /* const vx::kernels::KernelTable * */
} VxDistanceData;

typedef VxDistanceData *VxDistance;

/* Whether (kind, metric) is a combination VxInitDistance resolves. */
bool VxDistanceSupported(VxElemKind kind, VxMetric metric);

/* Resolve the distance functions of (kind, metric) on the active kernels (ERROR if unsupported). */
void VxInitDistance(VxDistance dist, VxElemKind kind, VxMetric metric, uint32 dimensions);

/* The operator's value (what ORDER BY sorts on) for an internal distance. */
double VxOrderByValue(const VxDistanceData *dist, float distance);

/* ERROR (pgvector's "different ... dimensions") unless query has the index's dimensions. */
void VxCheckQuery(const VxDistanceData *dist, const char *query);

/*
 * The internal distance of two detoasted, unnormalized dense values as the
 * operator computes it (cosine: from the dot product and both norms, as
 * cosine_distance does, so -similarity; NaN for a zero vector): what a
 * re-rank from heap rows must compare. Other metrics: dist->fn.
 */
float VxExactDistance(const VxDistanceData *dist, const char *a, const char *b);

/* Detoast a value to index (for_index) or to search for and normalize it for cosine; *skip: a zero vector to index. */
Datum VxPrepareValue(const VxDistanceData *dist, Datum value, bool for_index, bool *skip);

/* The opclass's type info: support function type_info_proc of column 1 if present, else vector's. */
const VxTypeInfo *VxGetTypeInfo(Relation index, uint16 type_info_proc);

/* The opclass's metric: support function 1 identified by C address, 2 present = cosine (ERROR naming am_name). */
VxMetric VxGetMetric(Relation index, VxElemKind kind, const char *am_name);

#endif /* VX_AM_DISTANCE_H */
