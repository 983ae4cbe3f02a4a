/*
 * support.cpp -- what is hnsw's own in what an opclass indexes and how
 * values are prepared; the shared part is include/vx/am/distance.h.
 *
 * An index is described by an element kind (from the opclass's type-info
 * support function 3, absent for vector: VxGetTypeInfo) and a metric
 * (VxGetMetric). Both are stored in the metapage at build time; scans and
 * inserts read them from there and resolve the distance once per operation
 * (HnswInitDistance).
 *
 * hnsw's limits live here: the type infos carry hnsw's maximum dimensions,
 * and a sparsevec to index may have at most HNSW_MAX_SPARSE_NNZ non-zeros
 * (pgvector's limit and message), since vector slots are sized for that.
 */
#include "vx/pg.h"

#include "vx/hnsw/hnsw.h"
#include "vx/types/sparsevec.h"
#include "vx/types/vector.h"

/* VxGetTypeInfo's default (vector) must carry hnsw's limit. */
static_assert(HNSW_MAX_DIM == VECTOR_MAX_DIM, "vector opclasses have no type-info function");

static const VxTypeInfo halfvec_type_info = {VX_ELEM_F16, HNSW_MAX_DIM, "halfvec"};
static const VxTypeInfo bit_type_info = {VX_ELEM_BIT, HNSW_MAX_BIT_DIM, "bit"};
static const VxTypeInfo sparsevec_type_info = {VX_ELEM_SPARSE, SPARSEVEC_MAX_DIM, "sparsevec"};

VX_FUNCTION(hnsw_halfvec_support)
{
	PG_RETURN_POINTER(&halfvec_type_info);
}

VX_FUNCTION(hnsw_bit_support)
{
	PG_RETURN_POINTER(&bit_type_info);
}

VX_FUNCTION(hnsw_sparsevec_support)
{
	PG_RETURN_POINTER(&sparsevec_type_info);
}

/* Resolve the distance of the index whose metapage is meta (ERROR for a kind or metric we do not know). */
void
HnswInitDistance(VxDistance dist, const HnswMetaPageData *meta)
{
	if (!VxDistanceSupported((VxElemKind) meta->elem_kind, (VxMetric) meta->metric))
		ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED), errmsg("hnsw index has an invalid element kind or metric")));
	VxInitDistance(dist, (VxElemKind) meta->elem_kind, (VxMetric) meta->metric, meta->dimensions);
}

/*
 * VxPrepareValue (detoast, cosine normalization, zero vectors not indexed),
 * after checking that a sparsevec to index fits its slot: before the
 * normalization, which may drop values that underflow.
 */
Datum
HnswPrepareValue(const VxDistanceData *dist, Datum value, bool for_index, bool *skip)
{
	if (for_index && dist->kind == VX_ELEM_SPARSE) {
		value = PointerGetDatum(PG_DETOAST_DATUM(value));
		if (((SparseVector *) DatumGetPointer(value))->nnz > HNSW_MAX_SPARSE_NNZ)
			ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
							errmsg("sparsevec cannot have more than %d non-zero elements for hnsw index",
								   HNSW_MAX_SPARSE_NNZ)));
	}
	return VxPrepareValue(dist, value, for_index, skip);
}
