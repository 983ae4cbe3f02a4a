/*
 * distance.cpp -- distance resolution for graph indexes
 * (include/vx/am/distance.h).
 *
 * Distance functions are templates over the element type and the kernel
 * (a member of KernelTable): one template per idea (a whole datum, a
 * partial range of elements, one query against four datums), instantiated
 * per (kind, metric) in one table, kDistances. Each instance makes exactly
 * the kernel call the former hand-written function made, negated for inner
 * product, so distances are bit-identical to those of earlier versions.
 *
 * The opclass readers identify the metric by the C address of support
 * function 1 (no SQL-visible name is trusted), as pgvector does.
 */
#include "vx/pg.h"

#include "vx/am/distance.h"
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
}

using vx::kernels::KernelTable;

namespace {

/* What an opclass without a type-info function indexes. */
const VxTypeInfo kVectorTypeInfo = {VX_ELEM_F32, VECTOR_MAX_DIM, "vector"};

/* The active kernel table of dist. */
inline const KernelTable *
Kernels(const VxDistanceData *dist)
{
	return (const KernelTable *) dist->kernels;
}

/* The elements of a dense datum (vector: float, halfvec: half). */
template <class Elem>
const Elem *DenseElems(const char *datum);

template <>
const float *
DenseElems<float>(const char *datum)
{
	return ((const Vector *) datum)->x;
}

template <>
const half *
DenseElems<half>(const char *datum)
{
	return ((const HalfVector *) datum)->x;
}

/* A kernel over two element arrays and its one-against-four form, as KernelTable members. */
template <class Elem>
using DenseKernel = float (*KernelTable::*)(const Elem *a, const Elem *b, size_t n) noexcept;
template <class Elem>
using DenseKernel4 = void (*KernelTable::*)(const Elem *q, const Elem *const *v, size_t n, float *out) noexcept;

/* Distances of a dense kind through one kernel; Negate for inner product (and cosine). */
template <class Elem, DenseKernel<Elem> Kernel, DenseKernel4<Elem> Kernel4, bool Negate>
struct Dense
{
	/* Whole datums. */
	static float
	full(const VxDistanceData *dist, const char *a, const char *b)
	{
		float d = (Kernels(dist)->*Kernel)(DenseElems<Elem>(a), DenseElems<Elem>(b), dist->dimensions);

		return Negate ? -d : d;
	}

	/*
	 * Elements [first, first + count) stored at elems: the internal distance
	 * is the sum of these over any split of the elements (a vector slot that
	 * straddles pages is computed piecewise, without a copy).
	 */
	static float
	partial(const VxDistanceData *dist, const char *q, uint32 first, uint32 count, const char *elems)
	{
		float d = (Kernels(dist)->*Kernel)(DenseElems<Elem>(q) + first, (const Elem *) elems, count);

		return Negate ? -d : d;
	}

	/* One query against four datums. */
	static void
	four(const VxDistanceData *dist, const char *q, const char *const *v, float *out)
	{
		const Elem *p[4];

		for (int j = 0; j < 4; j++)
			p[j] = DenseElems<Elem>(v[j]);
		(Kernels(dist)->*Kernel4)(DenseElems<Elem>(q), p, dist->dimensions, out);
		if (Negate)
			for (int j = 0; j < 4; j++)
				out[j] = -out[j];
	}
};

/* A sparse kernel over (indices, values, nnz) of both operands. */
typedef float (*SparseKernel)(const int32_t *ia, const float *va, int na, const int32_t *ib, const float *vb,
							  int nb) noexcept;

/* Distance of two sparsevec datums through one kernel; Negate for inner product (and cosine). */
template <SparseKernel Kernel, bool Negate>
float
SparseDistance(const VxDistanceData *dist, const char *a, const char *b)
{
	const SparseVector *sa = (const SparseVector *) a;
	const SparseVector *sb = (const SparseVector *) b;
	float d = Kernel(sa->indices, SPARSEVEC_VALUES(sa), sa->nnz, sb->indices, SPARSEVEC_VALUES(sb), sb->nnz);

	return Negate ? -d : d;
}

/* Hamming distance of two bit datums of the same length. */
float
BitHamming(const VxDistanceData *dist, const char *a, const char *b)
{
	const VarBit *va = (const VarBit *) a;

	return (float) Kernels(dist)->hamming(VARBITS(va), VARBITS((const VarBit *) b), VARBITBYTES(va));
}

/* Jaccard distance of two bit datums of the same length (1 when both are empty). */
float
BitJaccard(const VxDistanceData *dist, const char *a, const char *b)
{
	const VarBit *va = (const VarBit *) a;
	vx::kernels::JaccardCounts c = Kernels(dist)->jaccard(VARBITS(va), VARBITS((const VarBit *) b), VARBITBYTES(va));

	if (c.both == 0)
		return 1.0f;
	return (float) (1.0 - (double) c.both / (double) (c.a + c.b - c.both));
}

using F32L2 = Dense<float, &KernelTable::l2sq_f32, &KernelTable::l2sq_f32_batch4, false>;
using F32NegIp = Dense<float, &KernelTable::ip_f32, &KernelTable::ip_f32_batch4, true>;
using F32L1 = Dense<float, &KernelTable::l1_f32, &KernelTable::l1_f32_batch4, false>;
using F16L2 = Dense<half, &KernelTable::l2sq_f16, &KernelTable::l2sq_f16_batch4, false>;
using F16NegIp = Dense<half, &KernelTable::ip_f16, &KernelTable::ip_f16_batch4, true>;
using F16L1 = Dense<half, &KernelTable::l1_f16, &KernelTable::l1_f16_batch4, false>;

/* The distance functions of each supported (kind, metric). */
const struct
{
	VxElemKind kind;
	VxMetric metric;
	VxDistanceFn fn;
	void (*fn4)(const VxDistanceData *dist, const char *q, const char *const *v, float *out);
	VxPartialFn partial;
} kDistances[] = {
	{VX_ELEM_F32, VX_METRIC_L2, F32L2::full, F32L2::four, F32L2::partial},
	{VX_ELEM_F32, VX_METRIC_IP, F32NegIp::full, F32NegIp::four, F32NegIp::partial},
	{VX_ELEM_F32, VX_METRIC_COSINE, F32NegIp::full, F32NegIp::four, F32NegIp::partial},
	{VX_ELEM_F32, VX_METRIC_L1, F32L1::full, F32L1::four, F32L1::partial},
	{VX_ELEM_F16, VX_METRIC_L2, F16L2::full, F16L2::four, F16L2::partial},
	{VX_ELEM_F16, VX_METRIC_IP, F16NegIp::full, F16NegIp::four, F16NegIp::partial},
	{VX_ELEM_F16, VX_METRIC_COSINE, F16NegIp::full, F16NegIp::four, F16NegIp::partial},
	{VX_ELEM_F16, VX_METRIC_L1, F16L1::full, F16L1::four, F16L1::partial},
	{VX_ELEM_BIT, VX_METRIC_HAMMING, BitHamming, NULL, NULL},
	{VX_ELEM_BIT, VX_METRIC_JACCARD, BitJaccard, NULL, NULL},
	{VX_ELEM_SPARSE, VX_METRIC_L2, SparseDistance<vx::kernels::sparse_l2sq, false>, NULL, NULL},
	{VX_ELEM_SPARSE, VX_METRIC_IP, SparseDistance<vx::kernels::sparse_ip, true>, NULL, NULL},
	{VX_ELEM_SPARSE, VX_METRIC_COSINE, SparseDistance<vx::kernels::sparse_ip, true>, NULL, NULL},
	{VX_ELEM_SPARSE, VX_METRIC_L1, SparseDistance<vx::kernels::sparse_l1, false>, NULL, NULL},
};

/* The kDistances row of (kind, metric), or -1. */
int
DistanceRow(VxElemKind kind, VxMetric metric)
{
	for (size_t i = 0; i < lengthof(kDistances); i++)
		if (kDistances[i].kind == kind && kDistances[i].metric == metric)
			return (int) i;
	return -1;
}

} // namespace

/* Whether (kind, metric) is a combination VxInitDistance resolves. */
bool
VxDistanceSupported(VxElemKind kind, VxMetric metric)
{
	return DistanceRow(kind, metric) >= 0;
}

/* Resolve the distance functions of (kind, metric) on the active kernels. */
void
VxInitDistance(VxDistance dist, VxElemKind kind, VxMetric metric, uint32 dimensions)
{
	int row = DistanceRow(kind, metric);

	if (row < 0)
		ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
						errmsg("index has an invalid element kind %d or metric %d", (int) kind, (int) metric)));
	dist->kind = kind;
	dist->metric = metric;
	dist->dimensions = dimensions;
	dist->kernels = &vx::kernels::active();
	dist->fn = kDistances[row].fn;
	dist->fn4 = kDistances[row].fn4;
	dist->partial = kDistances[row].partial;
	dist->elem_size = dist->partial != NULL ? VxElemTraitsOf(kind)->elem_size : 0;
	dist->elem_offset = dist->partial != NULL ? VxElemTraitsOf(kind)->elem_offset : 0;
}

/* The operator's value (what ORDER BY sorts on) for an internal distance. */
double
VxOrderByValue(const VxDistanceData *dist, float distance)
{
	switch (dist->metric) {
	case VX_METRIC_L2:
		return sqrt((double) distance);
	case VX_METRIC_COSINE:
		/* 1 - cos of normalized vectors, clamped like cosine_distance */
		return Min(Max(1.0 + (double) distance, 0.0), 2.0);
	default:
		return (double) distance;
	}
}

/* The operator's distance of two raw values (see distance.h). */
float
VxExactDistance(const VxDistanceData *dist, const char *a, const char *b)
{
	vx::kernels::CosineParts c;
	double similarity;

	if (dist->metric != VX_METRIC_COSINE || (dist->kind != VX_ELEM_F32 && dist->kind != VX_ELEM_F16))
		return dist->fn(dist, a, b);
	if (dist->kind == VX_ELEM_F32)
		c = Kernels(dist)->cosine_f32(DenseElems<float>(a), DenseElems<float>(b), dist->dimensions);
	else
		c = Kernels(dist)->cosine_f16((const uint16_t *) DenseElems<half>(a), (const uint16_t *) DenseElems<half>(b),
									  dist->dimensions);
	/* as cosine_distance: float sums, the quotient in double, clamped (NaN stays NaN) */
	similarity = (double) c.dot / sqrt((double) c.norm_a * (double) c.norm_b);
	if (similarity > 1)
		similarity = 1;
	else if (similarity < -1)
		similarity = -1;
	return (float) -similarity;
}

/*
 * Detoast a value to index (for_index) or to search for, and normalize it
 * for cosine. A zero vector to index under cosine sets *skip and returns 0:
 * it is not indexed (pgvector's behaviour). A zero query is returned as is:
 * every element is then at the same distance, as with pgvector.
 */
Datum
VxPrepareValue(const VxDistanceData *dist, Datum value, bool for_index, bool *skip)
{
	const VxElemTraits *traits = VxElemTraitsOf(dist->kind);

	value = PointerGetDatum(PG_DETOAST_DATUM(value));
	*skip = false;

	if (dist->metric != VX_METRIC_COSINE || traits->normalize == NULL)
		return value;

	if (!(DatumGetFloat8(DirectFunctionCall1(traits->norm, value)) > 0)) {
		if (!for_index)
			return value;
		*skip = true;
		return (Datum) 0;
	}
	return DirectFunctionCall1(traits->normalize, value);
}

/* Error (as the distance function would) unless the query has the index's dimensions. */
void
VxCheckQuery(const VxDistanceData *dist, const char *query)
{
	const VxElemTraits *traits = VxElemTraitsOf(dist->kind);
	uint32 qdim = traits->dimensions(query);

	if (qdim == dist->dimensions)
		return;
	if (dist->kind == VX_ELEM_BIT)
		ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
						errmsg("different bit lengths %u and %u", qdim, dist->dimensions)));
	ReportDifferentDims(traits->type_name, (int) qdim, (int) dist->dimensions);
}

/* The opclass's type info: support function type_info_proc if present, else vector. */
const VxTypeInfo *
VxGetTypeInfo(Relation index, uint16 type_info_proc)
{
	FmgrInfo *procinfo;

	if (!OidIsValid(index_getprocid(index, 1, type_info_proc)))
		return &kVectorTypeInfo;
	procinfo = index_getprocinfo(index, 1, type_info_proc);
	return (const VxTypeInfo *) DatumGetPointer(FunctionCall0Coll(procinfo, InvalidOid));
}

/* The metric of the opclass: which distance function support function 1 is. */
VxMetric
VxGetMetric(Relation index, VxElemKind kind, const char *am_name)
{
	static const struct
	{
		PGFunction fn;
		VxElemKind kind;
		VxMetric metric;
	} known[] = {
		{vector_l2_squared_distance, VX_ELEM_F32, VX_METRIC_L2},
		{vector_negative_inner_product, VX_ELEM_F32, VX_METRIC_IP},
		{l1_distance, VX_ELEM_F32, VX_METRIC_L1},
		{halfvec_l2_squared_distance, VX_ELEM_F16, VX_METRIC_L2},
		{halfvec_negative_inner_product, VX_ELEM_F16, VX_METRIC_IP},
		{halfvec_l1_distance, VX_ELEM_F16, VX_METRIC_L1},
		{hamming_distance, VX_ELEM_BIT, VX_METRIC_HAMMING},
		{jaccard_distance, VX_ELEM_BIT, VX_METRIC_JACCARD},
		{sparsevec_l2_squared_distance, VX_ELEM_SPARSE, VX_METRIC_L2},
		{sparsevec_negative_inner_product, VX_ELEM_SPARSE, VX_METRIC_IP},
		{sparsevec_l1_distance, VX_ELEM_SPARSE, VX_METRIC_L1},
	};
	FmgrInfo *procinfo = index_getprocinfo(index, 1, VX_DISTANCE_PROC);
	bool has_norm = OidIsValid(index_getprocid(index, 1, VX_NORM_PROC));

	for (size_t i = 0; i < lengthof(known); i++) {
		if (known[i].fn != procinfo->fn_addr || known[i].kind != kind)
			continue;
		if (has_norm && known[i].metric == VX_METRIC_IP)
			return VX_METRIC_COSINE;
		if (has_norm)
			break;
		return known[i].metric;
	}

	ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					errmsg("%s index does not support distance function %s for this operator class", am_name,
						   format_procedure(procinfo->fn_oid)),
					errhint("Use one of the operator classes of the vector extension.")));
	pg_unreachable();
}
