/*
 * sparsevec.cpp -- the `sparsevec` type: text and binary I/O, typmod, distance
 * functions, btree comparison, and the casts to and from vector, halfvec and
 * arrays. Behaviour (results, error texts, SQLSTATEs) follows pgvector 0.8.
 *
 * Invariants of every SparseVector this file produces or accepts from the
 * binary protocol (the text parser establishes them, recv checks them):
 *   - 1 <= dim <= SPARSEVEC_MAX_DIM, 0 <= nnz <= dim
 *   - indices are 0-based and strictly increasing, all < dim
 *   - values are finite and non-zero (a zero is simply not stored)
 * The text form is 1-based ({1:1.5,3:2}/5); the binary form is 0-based and
 * carries dim, nnz, unused(0), indices[nnz], values[nnz], all big-endian.
 *
 * Distances accumulate in float32 like pgvector, so results are the same to
 * the bit; merge-join kernels live in vx::kernels (sparse_ip, sparse_l2sq,
 * sparse_l1). Nothing here allocates outside palloc or holds C++ objects
 * across a call that may ereport.
 */
#include "vx/pg.h"

#include "vx/kernels/kernels.hpp"
#include "vx/types/arrays.h"
#include "vx/types/checks.h"
#include "vx/types/dense.h"
#include "vx/types/halfvec.h"
#include "vx/types/sparsevec.h"
#include "vx/types/typmod.h"
#include "vx/types/vector.h"

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>

/* A zeroed sparsevec of dim dimensions and nnz elements (not checked); exported for other extensions. */
SparseVector *
InitSparseVector(int dim, int nnz)
{
	Size size = SPARSEVEC_SIZE(nnz);
	SparseVector *result = (SparseVector *)palloc0(size);

	SET_VARSIZE(result, size);
	result->dim = dim;
	result->nnz = nnz;
	return result;
}

/* One parsed element of the text form, sorted by index before storing. */
typedef struct SparseInputElement
{
	int32 index; /* 0-based */
	float value;
} SparseInputElement;

/* Both operands of a binary operation have the same dimensions. */
static inline void
SparsevecCheckDims(const SparseVector *a, const SparseVector *b)
{
	CheckSameDims(a->dim, b->dim, "sparsevec");
}

/* More stored elements than a sparsevec may have. */
pg_attribute_noreturn() static void
SparsevecReportTooManyNnz()
{
	ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					errmsg("sparsevec cannot have more than %d non-zero elements", SPARSEVEC_MAX_NNZ)));
	pg_unreachable();
}

/* Error unless 0 <= nnz <= min(SPARSEVEC_MAX_NNZ, dim). */
static inline void
SparsevecCheckNnz(int nnz, int dim)
{
	if (nnz < 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION), errmsg("sparsevec cannot have negative number of elements")));

	if (nnz > SPARSEVEC_MAX_NNZ)
		SparsevecReportTooManyNnz();

	if (nnz > dim)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("sparsevec cannot have more elements than dimensions")));
}

/* Error unless indices[i] is in [0, dim) and greater than indices[i - 1]. */
static inline void
SparsevecCheckIndex(const int32 *indices, int i, int dim)
{
	int32 index = indices[i];

	if (index < 0 || index >= dim)
		ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("sparsevec index out of bounds")));

	if (i > 0) {
		if (index < indices[i - 1])
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION), errmsg("sparsevec indices must be in ascending order")));

		if (index == indices[i - 1])
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION), errmsg("sparsevec indices must not contain duplicates")));
	}
}

/* Skip whitespace (array_isspace's set); returns the first non-space position. */
static inline char *
SparsevecSkipSpace(char *pt)
{
	while (VectorIsSpace(*pt))
		pt++;
	return pt;
}

/* qsort comparator: ascending index. */
static int
SparsevecCompareElements(const void *a, const void *b)
{
	int32 ia = ((const SparseInputElement *) a)->index;
	int32 ib = ((const SparseInputElement *) b)->index;

	return (ia > ib) - (ia < ib);
}

/* Clamp a strtol result into [lo, hi] so later range checks report correctly. */
static inline long
SparsevecClamp(long v, long lo, long hi)
{
	return v < lo ? lo : (v > hi ? hi : v);
}

/* Parse {i:v,...}/dim (1-based indices, whitespace allowed between tokens). */
VX_FUNCTION(sparsevec_in)
{
	char *lit = PG_GETARG_CSTRING(0);
	int32 typmod = PG_GETARG_INT32(2);
	char *pt;
	char *end;
	long dim;
	int maxNnz = 1;
	int nnz = 0;
	SparseInputElement *elements;
	SparseVector *result;
	float *rvalues;

	/* Every element but the first needs a comma, which bounds nnz before parsing. */
	for (pt = lit; *pt != '\0'; pt++) {
		if (*pt == ',')
			maxNnz++;
	}

	if (maxNnz > SPARSEVEC_MAX_NNZ)
		SparsevecReportTooManyNnz();

	elements = palloc_array(SparseInputElement, maxNnz);

	pt = SparsevecSkipSpace(lit);

	if (*pt != '{')
		ReportTextSyntax("sparsevec", lit, "Vector contents must start with \"{\".");

	pt = SparsevecSkipSpace(pt + 1);

	if (*pt == '}')
		pt++;
	else {
		for (;;) {
			long index;
			float value;

			pt = SparsevecSkipSpace(pt);

			/* strtol would accept an empty string as 0 */
			if (*pt == '\0')
				ReportTextSyntax("sparsevec", lit, nullptr);

			index = strtol(pt, &end, 10);
			if (end == pt)
				ReportTextSyntax("sparsevec", lit, nullptr);

			/* Keep index - 1 representable; CheckIndex rejects it later */
			index = SparsevecClamp(index, (long) INT_MIN + 1, INT_MAX);

			pt = SparsevecSkipSpace(end);
			if (*pt != ':')
				ReportTextSyntax("sparsevec", lit, nullptr);

			pt = SparsevecSkipSpace(pt + 1);

			/* strtof (not strtod) avoids double rounding, as float4in does */
			errno = 0;
			value = strtof(pt, &end);
			if (end == pt)
				ReportTextSyntax("sparsevec", lit, nullptr);

			if (errno == ERANGE && (value == 0 || std::isinf(value)))
				ReportTextOutOfRange("sparsevec", pt, end);

			CheckFloatElement(value, "sparsevec");

			/* Zeros are valid input but never stored */
			if (value != 0) {
				/* maxNnz counted the commas, so this cannot overflow; stay defensive */
				if (nnz >= maxNnz)
					elog(ERROR, "sparsevec input buffer overrun");

				elements[nnz].index = (int32) (index - 1);
				elements[nnz].value = value;
				nnz++;
			}

			pt = SparsevecSkipSpace(end);
			if (*pt == ',')
				pt++;
			else if (*pt == '}') {
				pt++;
				break;
			} else
				ReportTextSyntax("sparsevec", lit, nullptr);
		}
	}

	pt = SparsevecSkipSpace(pt);
	if (*pt != '/')
		ReportTextSyntax("sparsevec", lit, "Unexpected end of input.");

	pt = SparsevecSkipSpace(pt + 1);

	dim = strtol(pt, &end, 10);
	if (end == pt)
		ReportTextSyntax("sparsevec", lit, nullptr);
	dim = SparsevecClamp(dim, INT_MIN, INT_MAX);

	pt = SparsevecSkipSpace(end);
	if (*pt != '\0')
		ReportTextSyntax("sparsevec", lit, "Junk after closing.");

	CheckTypeDim((int) dim, typmod, "sparsevec", SPARSEVEC_MAX_DIM);

	qsort(elements, nnz, sizeof(SparseInputElement), SparsevecCompareElements);

	result = InitSparseVector((int) dim, nnz);
	rvalues = SPARSEVEC_VALUES(result);
	for (int i = 0; i < nnz; i++) {
		result->indices[i] = elements[i].index;
		rvalues[i] = elements[i].value;
		SparsevecCheckIndex(result->indices, i, (int) dim);
	}

	pfree(elements);
	PG_RETURN_SPARSEVEC_P(result);
}

/* Format as {i:v,...}/dim with 1-based indices and shortest round-trip floats. */
VX_FUNCTION(sparsevec_out)
{
	SparseVector *svec = PG_GETARG_SPARSEVEC_P(0);
	float *values = SPARSEVEC_VALUES(svec);
	/* per element: 10 digits + ':' + float + ','; plus "{}/", 10 digits, '\0' */
	Size size = (Size) svec->nnz * (10 + 1 + FLOAT_SHORTEST_DECIMAL_LEN + 1) + 3 + 11 + 1;
	char *buf = (char *) palloc(size);
	char *ptr = buf;

	*ptr++ = '{';
	for (int i = 0; i < svec->nnz; i++) {
		if (i > 0)
			*ptr++ = ',';
		ptr += pg_ltoa(svec->indices[i] + 1, ptr);
		*ptr++ = ':';
		ptr += float_to_shortest_decimal_bufn(values[i], ptr);
	}
	*ptr++ = '}';
	*ptr++ = '/';
	ptr += pg_ltoa(svec->dim, ptr);
	*ptr = '\0';

	PG_FREE_IF_COPY(svec, 0);
	PG_RETURN_CSTRING(buf);
}

/* sparsevec(n): one integer in 1..SPARSEVEC_MAX_DIM. */
VX_FUNCTION(sparsevec_typmod_in)
{
	ArrayType *ta = PG_GETARG_ARRAYTYPE_P(0);

	PG_RETURN_INT32(ParseDimensionTypmod(ta, "sparsevec", SPARSEVEC_MAX_DIM));
}

/* Binary input: dim, nnz, unused, indices (0-based), values; fully validated. */
VX_FUNCTION(sparsevec_recv)
{
	StringInfo buf = (StringInfo) PG_GETARG_POINTER(0);
	int32 typmod = PG_GETARG_INT32(2);
	int32 dim = (int32) pq_getmsgint(buf, sizeof(int32));
	int32 nnz = (int32) pq_getmsgint(buf, sizeof(int32));
	int32 unused = (int32) pq_getmsgint(buf, sizeof(int32));
	SparseVector *result;
	float *values;

	CheckDim(dim, "sparsevec", SPARSEVEC_MAX_DIM);
	SparsevecCheckNnz(nnz, dim);
	CheckExpectedDim(typmod, dim);

	if (unused != 0)
		ReportUnusedNonZero(unused);

	result = InitSparseVector(dim, nnz);
	values = SPARSEVEC_VALUES(result);

	for (int i = 0; i < nnz; i++) {
		result->indices[i] = (int32) pq_getmsgint(buf, sizeof(int32));
		SparsevecCheckIndex(result->indices, i, dim);
	}

	for (int i = 0; i < nnz; i++) {
		values[i] = pq_getmsgfloat4(buf);
		CheckFloatElement(values[i], "sparsevec");

		if (values[i] == 0)
			ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
							errmsg("binary representation of sparsevec cannot contain zero values")));
	}

	PG_RETURN_SPARSEVEC_P(result);
}

/* Binary output: the mirror of sparsevec_recv. */
VX_FUNCTION(sparsevec_send)
{
	SparseVector *svec = PG_GETARG_SPARSEVEC_P(0);
	float *values = SPARSEVEC_VALUES(svec);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, svec->dim);
	pq_sendint32(&buf, svec->nnz);
	pq_sendint32(&buf, svec->unused);
	for (int i = 0; i < svec->nnz; i++)
		pq_sendint32(&buf, svec->indices[i]);
	for (int i = 0; i < svec->nnz; i++)
		pq_sendfloat4(&buf, values[i]);

	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* sparsevec -> sparsevec(n): only checks the type modifier. */
VX_FUNCTION(sparsevec)
{
	SparseVector *svec = PG_GETARG_SPARSEVEC_P(0);
	int32 typmod = PG_GETARG_INT32(1);

	CheckExpectedDim(typmod, svec->dim);

	PG_RETURN_SPARSEVEC_P(svec);
}

/*
 * A sparsevec of dimension dim holding the non-zero values of x[0..n), the
 * value x[i] at index indices[i] (or at i when indices is NULL; either way
 * increasing). -0 counts as zero; NaN counts as non-zero (callers reject it).
 */
static SparseVector *
SparsevecFromValues(int dim, const int32 *indices, const float *x, int n)
{
	int nnz = 0;
	SparseVector *result;
	float *values;

	for (int i = 0; i < n; i++)
		nnz += x[i] != 0;
	/* only an array can hold more (a vector or halfvec has at most 16000 elements) */
	if (nnz > SPARSEVEC_MAX_NNZ)
		SparsevecReportTooManyNnz();

	result = InitSparseVector(dim, nnz);
	values = SPARSEVEC_VALUES(result);
	for (int i = 0, j = 0; i < n; i++) {
		if (x[i] != 0) {
			result->indices[j] = indices != NULL ? indices[i] : i;
			values[j] = x[i];
			j++;
		}
	}
	return result;
}

/*
 * sparsevec -> vector or halfvec: the stored values scattered into a zeroed
 * V (to halfvec, a value beyond half's range is an error). A bad index in a
 * stored datum would write out of bounds: an internal error.
 */
template <typename V>
static V *
SparsevecToDense(const SparseVector *svec, int32 typmod)
{
	typedef DenseTraits<V> T;
	const float *values = SPARSEVEC_VALUES(svec);
	V *result;

	CheckTypeDim(svec->dim, typmod, T::kName, T::kMaxDim);
	result = T::Init(svec->dim);
	for (int i = 0; i < svec->nnz; i++) {
		int32 index = svec->indices[i];

		if (index < 0 || index >= svec->dim)
			elog(ERROR, "sparsevec index out of bounds");
		result->x[index] = T::FromFloatChecked(values[i]);
	}
	return result;
}

/* vector -> sparsevec: keep the non-zero elements (-0 counts as zero). */
VX_FUNCTION(vector_to_sparsevec)
{
	Vector *vec = PG_GETARG_VECTOR_P(0);
	int32 typmod = PG_GETARG_INT32(1);

	CheckTypeDim(vec->dim, typmod, "sparsevec", SPARSEVEC_MAX_DIM);
	PG_RETURN_SPARSEVEC_P(SparsevecFromValues(vec->dim, NULL, vec->x, vec->dim));
}

/* sparsevec -> vector. */
VX_FUNCTION(sparsevec_to_vector)
{
	PG_RETURN_VECTOR_P(SparsevecToDense<Vector>(PG_GETARG_SPARSEVEC_P(0), PG_GETARG_INT32(1)));
}

/* halfvec -> sparsevec: keep the non-zero elements (either signed zero is zero; widening is exact). */
VX_FUNCTION(halfvec_to_sparsevec)
{
	HalfVector *vec = PG_GETARG_HALFVEC_P(0);
	int32 typmod = PG_GETARG_INT32(1);
	float *x;
	SparseVector *result;

	CheckTypeDim(vec->dim, typmod, "sparsevec", SPARSEVEC_MAX_DIM);
	x = palloc_array(float, vec->dim);
	vx::kernels::active().f16_to_f32(vec->x, x, vec->dim);
	result = SparsevecFromValues(vec->dim, NULL, x, vec->dim);
	pfree(x);
	PG_RETURN_SPARSEVEC_P(result);
}

/* sparsevec -> halfvec: values that overflow half precision are an error. */
VX_FUNCTION(sparsevec_to_halfvec)
{
	PG_RETURN_HALFVEC_P(SparsevecToDense<HalfVector>(PG_GETARG_SPARSEVEC_P(0), PG_GETARG_INT32(1)));
}

/*
 * int4[], real[], double precision[], numeric[] -> sparsevec (one symbol for
 * all four). As in pgvector, every element is converted before any is checked
 * for NaN/infinity; then more than SPARSEVEC_MAX_NNZ non-zero elements is an
 * error, as in pgvector 0.8.6 (earlier releases built such a value).
 */
VX_FUNCTION(array_to_sparsevec)
{
	ArrayType *array = PG_GETARG_ARRAYTYPE_P(0);
	int32 typmod = PG_GETARG_INT32(1);
	int n = CheckInputArray(array, typmod, "sparsevec", SPARSEVEC_MAX_DIM);
	float *x = palloc_array(float, n);
	SparseVector *result;

	ForEachArrayFloat(array, n, [x](int i, float value) { x[i] = value; });
	for (int i = 0; i < n; i++)
		CheckFloatElement(x[i], "sparsevec");
	result = SparsevecFromValues(n, NULL, x, n);
	pfree(x);
	PG_RETURN_SPARSEVEC_P(result);
}

/* A merge-join kernel of vx::kernels (sparse_l2sq, sparse_ip, sparse_l1). */
typedef float (*SparseKernel)(const int32 *ia, const float *va, int na, const int32 *ib, const float *vb,
							  int nb) noexcept;

/* kernel(a, b) for operands of the same dimensions (float32 accumulation, as pgvector). */
static inline float
SparsevecMerge(SparseKernel kernel, const SparseVector *a, const SparseVector *b)
{
	SparsevecCheckDims(a, b);
	return kernel(a->indices, SPARSEVEC_VALUES(a), a->nnz, b->indices, SPARSEVEC_VALUES(b), b->nnz);
}

/* Sum of squares of the stored values, in float32 like pgvector's cosine. */
static float
SparsevecSquaredNormF32(SparseVector *a)
{
	float *ax = SPARSEVEC_VALUES(a);
	float norm = 0;

	for (int i = 0; i < a->nnz; i++)
		norm += ax[i] * ax[i];
	return norm;
}

/* Sum of squares of the stored values, in float64 (l2_norm, l2_normalize). */
static double
SparsevecSquaredNormF64(SparseVector *a)
{
	float *ax = SPARSEVEC_VALUES(a);
	double norm = 0;

	for (int i = 0; i < a->nnz; i++)
		norm += (double) ax[i] * (double) ax[i];
	return norm;
}

/* l2_distance(sparsevec, sparsevec) and the <-> operator. */
VX_FUNCTION(sparsevec_l2_distance)
{
	float l2sq = SparsevecMerge(vx::kernels::sparse_l2sq, PG_GETARG_SPARSEVEC_P(0), PG_GETARG_SPARSEVEC_P(1));

	PG_RETURN_FLOAT8(std::sqrt((double) l2sq));
}

/* Squared L2 distance (support function; saves the sqrt). */
VX_FUNCTION(sparsevec_l2_squared_distance)
{
	PG_RETURN_FLOAT8(
		(double) SparsevecMerge(vx::kernels::sparse_l2sq, PG_GETARG_SPARSEVEC_P(0), PG_GETARG_SPARSEVEC_P(1)));
}

/* inner_product(sparsevec, sparsevec). */
VX_FUNCTION(sparsevec_inner_product)
{
	PG_RETURN_FLOAT8(
		(double) SparsevecMerge(vx::kernels::sparse_ip, PG_GETARG_SPARSEVEC_P(0), PG_GETARG_SPARSEVEC_P(1)));
}

/* Negative inner product: the <#> operator. */
VX_FUNCTION(sparsevec_negative_inner_product)
{
	PG_RETURN_FLOAT8(
		(double) -SparsevecMerge(vx::kernels::sparse_ip, PG_GETARG_SPARSEVEC_P(0), PG_GETARG_SPARSEVEC_P(1)));
}

/* cosine_distance and <=>: 1 - cos, clamped to [0, 2]; NaN for a zero vector. */
VX_FUNCTION(sparsevec_cosine_distance)
{
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0);
	SparseVector *b = PG_GETARG_SPARSEVEC_P(1);
	float dot = SparsevecMerge(vx::kernels::sparse_ip, a, b);

	PG_RETURN_FLOAT8(CosineDistanceFromParts({dot, SparsevecSquaredNormF32(a), SparsevecSquaredNormF32(b)}));
}

/* l1_distance and <+>. */
VX_FUNCTION(sparsevec_l1_distance)
{
	PG_RETURN_FLOAT8(
		(double) SparsevecMerge(vx::kernels::sparse_l1, PG_GETARG_SPARSEVEC_P(0), PG_GETARG_SPARSEVEC_P(1)));
}

/* l2_norm(sparsevec), accumulated in float64. */
VX_FUNCTION(sparsevec_l2_norm)
{
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0);

	PG_RETURN_FLOAT8(std::sqrt(SparsevecSquaredNormF64(a)));
}

/* l2_normalize(sparsevec): zero vector stays zero; values that underflow are dropped. */
VX_FUNCTION(sparsevec_l2_normalize)
{
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0);
	float *ax = SPARSEVEC_VALUES(a);
	double norm = std::sqrt(SparsevecSquaredNormF64(a));
	float *scaled;
	SparseVector *result;

	if (norm == 0)
		PG_RETURN_SPARSEVEC_P(InitSparseVector(a->dim, 0));

	scaled = palloc_array(float, a->nnz);
	for (int i = 0; i < a->nnz; i++) {
		scaled[i] = (float) (ax[i] / norm);
		if (std::isinf(scaled[i]))
			float_overflow_error();
	}
	result = SparsevecFromValues(a->dim, a->indices, scaled, a->nnz);
	pfree(scaled);

	PG_RETURN_SPARSEVEC_P(result);
}

/*
 * Three-way comparison that orders sparse vectors like the dense arrays they
 * stand for: element by element first (a missing element is 0), then by
 * dimension, the same rule as PostgreSQL arrays and pgvector's vector type.
 */
static int
SparsevecCompare(SparseVector *a, SparseVector *b)
{
	float *ax = SPARSEVEC_VALUES(a);
	float *bx = SPARSEVEC_VALUES(b);
	int nnz = Min(a->nnz, b->nnz);

	for (int i = 0; i < nnz; i++) {
		/* a has a non-zero where b has 0 */
		if (a->indices[i] < b->indices[i])
			return ax[i] < 0 ? -1 : 1;

		/* b has a non-zero where a has 0 */
		if (a->indices[i] > b->indices[i])
			return bx[i] < 0 ? 1 : -1;

		if (ax[i] < bx[i])
			return -1;
		if (ax[i] > bx[i])
			return 1;
	}

	/* The longer list's next element decides if it lies within the other's dims */
	if (a->nnz < b->nnz && b->indices[nnz] < a->dim)
		return bx[nnz] < 0 ? 1 : -1;

	if (a->nnz > b->nnz && a->indices[nnz] < b->dim)
		return ax[nnz] < 0 ? -1 : 1;

	if (a->dim != b->dim)
		return a->dim < b->dim ? -1 : 1;

	return 0;
}

/* The comparison operators, all through SparsevecCompare. */
VX_CMP_FUNCTION(sparsevec_lt, SparsevecCompare, PG_GETARG_SPARSEVEC_P, c < 0)
VX_CMP_FUNCTION(sparsevec_le, SparsevecCompare, PG_GETARG_SPARSEVEC_P, c <= 0)
VX_CMP_FUNCTION(sparsevec_eq, SparsevecCompare, PG_GETARG_SPARSEVEC_P, c == 0)
VX_CMP_FUNCTION(sparsevec_ne, SparsevecCompare, PG_GETARG_SPARSEVEC_P, c != 0)
VX_CMP_FUNCTION(sparsevec_ge, SparsevecCompare, PG_GETARG_SPARSEVEC_P, c >= 0)
VX_CMP_FUNCTION(sparsevec_gt, SparsevecCompare, PG_GETARG_SPARSEVEC_P, c > 0)

/* btree support function 1. */
VX_FUNCTION(sparsevec_cmp)
{
	PG_RETURN_INT32(SparsevecCompare(PG_GETARG_SPARSEVEC_P(0), PG_GETARG_SPARSEVEC_P(1)));
}
