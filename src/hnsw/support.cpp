/*
 * support.cpp -- what an hnsw opclass indexes and how distances are computed.
 *
 * An index is described by an element kind (vector, halfvec, bit, sparsevec:
 * from the opclass's type-info support function 3, absent for vector) and a
 * metric (from which C function support function 1 is, compared by address,
 * and whether support function 2, the norm, exists: cosine). Both are stored
 * in the metapage at build time; scans and inserts read them from there.
 *
 * Distances are computed by the KernelTable resolved once per operation,
 * through one function pointer per (kind, metric): no fmgr call per distance.
 * Internal distances order like the operator's but skip the final
 * monotonic step: squared L2 instead of L2, negative inner product of
 * normalized vectors instead of cosine distance. HnswOrderByValue maps them
 * back to the operator's value.
 *
 * Values are prepared once per insert and per query: detoasted, checked
 * (sparsevec non-zero count), and normalized for cosine, where a zero vector
 * is not indexed, as in pgvector.
 */
#include "vx/pg.h"

#include "vx/hnsw/hnsw.h"
#include "vx/kernels/kernels.hpp"
#include "vx/types/checks.h"
#include "vx/types/halfvec.h"
#include "vx/types/sparsevec.h"
#include "vx/types/vector.h"

#include <cmath>

/* SQL-callable functions of src/types whose addresses identify the metric. */
extern "C" {
Datum vector_l2_squared_distance(PG_FUNCTION_ARGS);
Datum vector_negative_inner_product(PG_FUNCTION_ARGS);
Datum l1_distance(PG_FUNCTION_ARGS);
Datum halfvec_l2_squared_distance(PG_FUNCTION_ARGS);
Datum halfvec_negative_inner_product(PG_FUNCTION_ARGS);
Datum halfvec_l1_distance(PG_FUNCTION_ARGS);
Datum hamming_distance(PG_FUNCTION_ARGS);
Datum jaccard_distance(PG_FUNCTION_ARGS);
Datum sparsevec_l2_squared_distance(PG_FUNCTION_ARGS);
Datum sparsevec_negative_inner_product(PG_FUNCTION_ARGS);
Datum sparsevec_l1_distance(PG_FUNCTION_ARGS);
Datum vector_norm(PG_FUNCTION_ARGS);
Datum l2_normalize(PG_FUNCTION_ARGS);
Datum halfvec_l2_norm(PG_FUNCTION_ARGS);
Datum halfvec_l2_normalize(PG_FUNCTION_ARGS);
Datum sparsevec_l2_norm(PG_FUNCTION_ARGS);
Datum sparsevec_l2_normalize(PG_FUNCTION_ARGS);
}

using vx::kernels::KernelTable;

static const HnswTypeInfo vector_type_info = {HNSW_ELEM_F32, HNSW_MAX_DIM, "vector"};
static const HnswTypeInfo halfvec_type_info = {HNSW_ELEM_F16, HNSW_MAX_DIM, "halfvec"};
static const HnswTypeInfo bit_type_info = {HNSW_ELEM_BIT, HNSW_MAX_BIT_DIM, "bit"};
static const HnswTypeInfo sparsevec_type_info = {HNSW_ELEM_SPARSE, SPARSEVEC_MAX_DIM, "sparsevec"};

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

/* The opclass's type info: support function 3 if present, else vector. */
const HnswTypeInfo *
HnswGetTypeInfo(Relation index)
{
	FmgrInfo *procinfo;

	if (!OidIsValid(index_getprocid(index, 1, HNSW_TYPE_INFO_PROC)))
		return &vector_type_info;
	procinfo = index_getprocinfo(index, 1, HNSW_TYPE_INFO_PROC);
	return (const HnswTypeInfo *) DatumGetPointer(FunctionCall0Coll(procinfo, InvalidOid));
}

/* The metric of the opclass: which distance function support function 1 is. */
HnswMetric
HnswGetMetric(Relation index, HnswElemKind kind)
{
	static const struct
	{
		PGFunction fn;
		HnswElemKind kind;
		HnswMetric metric;
	} known[] = {
		{vector_l2_squared_distance, HNSW_ELEM_F32, HNSW_METRIC_L2},
		{vector_negative_inner_product, HNSW_ELEM_F32, HNSW_METRIC_IP},
		{l1_distance, HNSW_ELEM_F32, HNSW_METRIC_L1},
		{halfvec_l2_squared_distance, HNSW_ELEM_F16, HNSW_METRIC_L2},
		{halfvec_negative_inner_product, HNSW_ELEM_F16, HNSW_METRIC_IP},
		{halfvec_l1_distance, HNSW_ELEM_F16, HNSW_METRIC_L1},
		{hamming_distance, HNSW_ELEM_BIT, HNSW_METRIC_HAMMING},
		{jaccard_distance, HNSW_ELEM_BIT, HNSW_METRIC_JACCARD},
		{sparsevec_l2_squared_distance, HNSW_ELEM_SPARSE, HNSW_METRIC_L2},
		{sparsevec_negative_inner_product, HNSW_ELEM_SPARSE, HNSW_METRIC_IP},
		{sparsevec_l1_distance, HNSW_ELEM_SPARSE, HNSW_METRIC_L1},
	};
	FmgrInfo *procinfo = index_getprocinfo(index, 1, HNSW_DISTANCE_PROC);
	bool has_norm = OidIsValid(index_getprocid(index, 1, HNSW_NORM_PROC));

	for (size_t i = 0; i < lengthof(known); i++) {
		if (known[i].fn != procinfo->fn_addr || known[i].kind != kind)
			continue;
		if (has_norm && known[i].metric == HNSW_METRIC_IP)
			return HNSW_METRIC_COSINE;
		if (has_norm)
			break;
		return known[i].metric;
	}

	ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					errmsg("hnsw index does not support distance function %s for this operator class",
						   format_procedure(procinfo->fn_oid)),
					errhint("Use one of the operator classes of the vector extension.")));
	pg_unreachable();
}

/* Elements of a datum: dims for vector/halfvec/sparsevec, bits for bit. */
uint32
HnswDatumDimensions(HnswElemKind kind, const char *datum)
{
	switch (kind) {
	case HNSW_ELEM_F32:
		return ((const Vector *) datum)->dim;
	case HNSW_ELEM_F16:
		return ((const HalfVector *) datum)->dim;
	case HNSW_ELEM_BIT:
		return VARBITLEN((const VarBit *) datum);
	case HNSW_ELEM_SPARSE:
		return ((const SparseVector *) datum)->dim;
	}
	pg_unreachable();
}

/* Largest datum of the kind with these dimensions (sparsevec: HNSW_MAX_SPARSE_NNZ non-zeros). */
Size
HnswDatumMaxSize(HnswElemKind kind, uint32 dimensions)
{
	switch (kind) {
	case HNSW_ELEM_F32:
		return VECTOR_SIZE(dimensions);
	case HNSW_ELEM_F16:
		return HALFVEC_SIZE(dimensions);
	case HNSW_ELEM_BIT:
		return VARBITTOTALLEN(dimensions);
	case HNSW_ELEM_SPARSE:
		return SPARSEVEC_SIZE(HNSW_MAX_SPARSE_NNZ);
	}
	pg_unreachable();
}

/* ---- distance functions, one per (kind, metric) ---- */

#define KT(dist) ((const KernelTable *) (dist)->kernels)
#define F32(datum) (((const Vector *) (datum))->x)
#define F16(datum) (((const HalfVector *) (datum))->x)

static float
DistF32L2(const HnswDistanceData *dist, const char *a, const char *b)
{
	return KT(dist)->l2sq_f32(F32(a), F32(b), dist->dimensions);
}

static float
DistF32NegIp(const HnswDistanceData *dist, const char *a, const char *b)
{
	return -KT(dist)->ip_f32(F32(a), F32(b), dist->dimensions);
}

static float
DistF32L1(const HnswDistanceData *dist, const char *a, const char *b)
{
	return KT(dist)->l1_f32(F32(a), F32(b), dist->dimensions);
}

static float
DistF16L2(const HnswDistanceData *dist, const char *a, const char *b)
{
	return KT(dist)->l2sq_f16(F16(a), F16(b), dist->dimensions);
}

static float
DistF16NegIp(const HnswDistanceData *dist, const char *a, const char *b)
{
	return -KT(dist)->ip_f16(F16(a), F16(b), dist->dimensions);
}

static float
DistF16L1(const HnswDistanceData *dist, const char *a, const char *b)
{
	return KT(dist)->l1_f16(F16(a), F16(b), dist->dimensions);
}

static float
DistBitHamming(const HnswDistanceData *dist, const char *a, const char *b)
{
	const VarBit *va = (const VarBit *) a;

	return (float) KT(dist)->hamming(VARBITS(va), VARBITS((const VarBit *) b), VARBITBYTES(va));
}

static float
DistBitJaccard(const HnswDistanceData *dist, const char *a, const char *b)
{
	const VarBit *va = (const VarBit *) a;
	vx::kernels::JaccardCounts c = KT(dist)->jaccard(VARBITS(va), VARBITS((const VarBit *) b), VARBITBYTES(va));

	if (c.both == 0)
		return 1.0f;
	return (float) (1.0 - (double) c.both / (double) (c.a + c.b - c.both));
}

#define SPARSE_ARGS(a, b)                                                                                              \
	((const SparseVector *) (a))->indices, SPARSEVEC_VALUES((const SparseVector *) (a)),                               \
		((const SparseVector *) (a))->nnz, ((const SparseVector *) (b))->indices,                                      \
		SPARSEVEC_VALUES((const SparseVector *) (b)), ((const SparseVector *) (b))->nnz

static float
DistSparseL2(const HnswDistanceData *dist, const char *a, const char *b)
{
	return vx::kernels::sparse_l2sq(SPARSE_ARGS(a, b));
}

static float
DistSparseNegIp(const HnswDistanceData *dist, const char *a, const char *b)
{
	return -vx::kernels::sparse_ip(SPARSE_ARGS(a, b));
}

static float
DistSparseL1(const HnswDistanceData *dist, const char *a, const char *b)
{
	return vx::kernels::sparse_l1(SPARSE_ARGS(a, b));
}

/*
 * Partial distances of dense kinds: the terms of elements [first, first +
 * count), whose stored values are at elems. The internal distance is the sum
 * of the partial distances over any split of the elements (a vector slot
 * that straddles pages is computed piecewise, without a copy).
 */
static float
PartF32L2(const HnswDistanceData *dist, const char *q, uint32 first, uint32 count, const char *elems)
{
	return KT(dist)->l2sq_f32(F32(q) + first, (const float *) elems, count);
}

static float
PartF32NegIp(const HnswDistanceData *dist, const char *q, uint32 first, uint32 count, const char *elems)
{
	return -KT(dist)->ip_f32(F32(q) + first, (const float *) elems, count);
}

static float
PartF32L1(const HnswDistanceData *dist, const char *q, uint32 first, uint32 count, const char *elems)
{
	return KT(dist)->l1_f32(F32(q) + first, (const float *) elems, count);
}

static float
PartF16L2(const HnswDistanceData *dist, const char *q, uint32 first, uint32 count, const char *elems)
{
	return KT(dist)->l2sq_f16(F16(q) + first, (const uint16_t *) elems, count);
}

static float
PartF16NegIp(const HnswDistanceData *dist, const char *q, uint32 first, uint32 count, const char *elems)
{
	return -KT(dist)->ip_f16(F16(q) + first, (const uint16_t *) elems, count);
}

static float
PartF16L1(const HnswDistanceData *dist, const char *q, uint32 first, uint32 count, const char *elems)
{
	return KT(dist)->l1_f16(F16(q) + first, (const uint16_t *) elems, count);
}

/* Four float32 datums' element pointers. */
static inline void
F32Pointers(const char *const *v, const float **out)
{
	for (int j = 0; j < 4; j++)
		out[j] = F32(v[j]);
}

/* Four halfvec datums' element pointers. */
static inline void
F16Pointers(const char *const *v, const uint16_t **out)
{
	for (int j = 0; j < 4; j++)
		out[j] = F16(v[j]);
}

static void
Dist4F32L2(const HnswDistanceData *dist, const char *q, const char *const *v, float *out)
{
	const float *p[4];

	F32Pointers(v, p);
	KT(dist)->l2sq_f32_batch4(F32(q), p, dist->dimensions, out);
}

static void
Dist4F32NegIp(const HnswDistanceData *dist, const char *q, const char *const *v, float *out)
{
	const float *p[4];

	F32Pointers(v, p);
	KT(dist)->ip_f32_batch4(F32(q), p, dist->dimensions, out);
	for (int j = 0; j < 4; j++)
		out[j] = -out[j];
}

static void
Dist4F32L1(const HnswDistanceData *dist, const char *q, const char *const *v, float *out)
{
	const float *p[4];

	F32Pointers(v, p);
	KT(dist)->l1_f32_batch4(F32(q), p, dist->dimensions, out);
}

static void
Dist4F16L2(const HnswDistanceData *dist, const char *q, const char *const *v, float *out)
{
	const uint16_t *p[4];

	F16Pointers(v, p);
	KT(dist)->l2sq_f16_batch4(F16(q), p, dist->dimensions, out);
}

static void
Dist4F16NegIp(const HnswDistanceData *dist, const char *q, const char *const *v, float *out)
{
	const uint16_t *p[4];

	F16Pointers(v, p);
	KT(dist)->ip_f16_batch4(F16(q), p, dist->dimensions, out);
	for (int j = 0; j < 4; j++)
		out[j] = -out[j];
}

static void
Dist4F16L1(const HnswDistanceData *dist, const char *q, const char *const *v, float *out)
{
	const uint16_t *p[4];

	F16Pointers(v, p);
	KT(dist)->l1_f16_batch4(F16(q), p, dist->dimensions, out);
}

/* Resolve the distance functions of (kind, metric) on the active kernels. */
void
HnswInitDistance(HnswDistance dist, HnswElemKind kind, HnswMetric metric, uint32 dimensions)
{
	bool ip = (metric == HNSW_METRIC_IP || metric == HNSW_METRIC_COSINE);

	dist->kind = kind;
	dist->metric = metric;
	dist->dimensions = dimensions;
	dist->kernels = &vx::kernels::active();
	dist->fn = NULL;
	dist->fn4 = NULL;
	dist->partial = NULL;
	dist->elem_size = 0;
	dist->elem_offset = 0;

	switch (kind) {
	case HNSW_ELEM_F32:
		dist->fn = metric == HNSW_METRIC_L2 ? DistF32L2 : ip ? DistF32NegIp : DistF32L1;
		dist->fn4 = metric == HNSW_METRIC_L2 ? Dist4F32L2 : ip ? Dist4F32NegIp : Dist4F32L1;
		dist->partial = metric == HNSW_METRIC_L2 ? PartF32L2 : ip ? PartF32NegIp : PartF32L1;
		dist->elem_size = sizeof(float);
		dist->elem_offset = offsetof(Vector, x);
		break;
	case HNSW_ELEM_F16:
		dist->fn = metric == HNSW_METRIC_L2 ? DistF16L2 : ip ? DistF16NegIp : DistF16L1;
		dist->fn4 = metric == HNSW_METRIC_L2 ? Dist4F16L2 : ip ? Dist4F16NegIp : Dist4F16L1;
		dist->partial = metric == HNSW_METRIC_L2 ? PartF16L2 : ip ? PartF16NegIp : PartF16L1;
		dist->elem_size = sizeof(half);
		dist->elem_offset = offsetof(HalfVector, x);
		break;
	case HNSW_ELEM_BIT:
		dist->fn = metric == HNSW_METRIC_JACCARD ? DistBitJaccard : DistBitHamming;
		break;
	case HNSW_ELEM_SPARSE:
		dist->fn = metric == HNSW_METRIC_L2 ? DistSparseL2 : ip ? DistSparseNegIp : DistSparseL1;
		break;
	}
	if (dist->fn == NULL || (kind == HNSW_ELEM_BIT) != (metric == HNSW_METRIC_HAMMING || metric == HNSW_METRIC_JACCARD))
		ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED), errmsg("hnsw index has an invalid element kind or metric")));
}

/* The operator's value (what ORDER BY sorts on) for an internal distance. */
double
HnswOrderByValue(const HnswDistanceData *dist, float distance)
{
	switch (dist->metric) {
	case HNSW_METRIC_L2:
		return sqrt((double) distance);
	case HNSW_METRIC_COSINE:
		/* 1 - cos of normalized vectors, clamped like cosine_distance */
		return Min(Max(1.0 + (double) distance, 0.0), 2.0);
	default:
		return (double) distance;
	}
}

/*
 * Detoast a value to index (for_index) or to search for, and normalize it
 * for cosine. A value to index is checked (sparsevec non-zero count) and a
 * zero vector under cosine sets *skip and returns 0: it is not indexed
 * (pgvector's behaviour). A zero query is returned as is: every element is
 * then at the same distance, as with pgvector.
 */
Datum
HnswPrepareValue(const HnswDistanceData *dist, Datum value, bool for_index, bool *skip)
{
	PGFunction norm_fn = NULL;
	PGFunction normalize_fn = NULL;

	value = PointerGetDatum(PG_DETOAST_DATUM(value));
	*skip = false;

	if (for_index && dist->kind == HNSW_ELEM_SPARSE &&
		((SparseVector *) DatumGetPointer(value))->nnz > HNSW_MAX_SPARSE_NNZ)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("sparsevec cannot have more than %d non-zero elements for hnsw index",
							   HNSW_MAX_SPARSE_NNZ)));

	if (dist->metric != HNSW_METRIC_COSINE)
		return value;

	switch (dist->kind) {
	case HNSW_ELEM_F32:
		norm_fn = vector_norm;
		normalize_fn = l2_normalize;
		break;
	case HNSW_ELEM_F16:
		norm_fn = halfvec_l2_norm;
		normalize_fn = halfvec_l2_normalize;
		break;
	case HNSW_ELEM_SPARSE:
		norm_fn = sparsevec_l2_norm;
		normalize_fn = sparsevec_l2_normalize;
		break;
	case HNSW_ELEM_BIT:
		return value;
	}

	if (!(DatumGetFloat8(DirectFunctionCall1(norm_fn, value)) > 0)) {
		if (!for_index)
			return value;
		*skip = true;
		return (Datum) 0;
	}
	return DirectFunctionCall1(normalize_fn, value);
}

/* Error (as the distance function would) unless the query has the index's dimensions. */
void
HnswCheckQuery(const HnswDistanceData *dist, const char *query)
{
	uint32 qdim = HnswDatumDimensions(dist->kind, query);

	if (qdim == dist->dimensions)
		return;

	switch (dist->kind) {
	case HNSW_ELEM_F32:
		ReportDifferentDims("vector", (int) qdim, (int) dist->dimensions);
	case HNSW_ELEM_F16:
		ReportDifferentDims("halfvec", (int) qdim, (int) dist->dimensions);
	case HNSW_ELEM_SPARSE:
		ReportDifferentDims("sparsevec", (int) qdim, (int) dist->dimensions);
	case HNSW_ELEM_BIT:
		ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
						errmsg("different bit lengths %u and %u", qdim, dist->dimensions)));
	}
}
