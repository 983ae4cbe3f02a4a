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
#include "vx/types/halfvec.h"
#include "vx/types/sparsevec.h"
#include "vx/types/typmod.h"
#include "vx/types/vector.h"

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>

/* One parsed element of the text form, sorted by index before storing. */
typedef struct SparseInputElement
{
	int32 index; /* 0-based */
	float value;
} SparseInputElement;

/* Error unless both operands have the same number of dimensions. */
static inline void
SparsevecCheckDims(const SparseVector *a, const SparseVector *b)
{
	if (a->dim != b->dim)
		ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
						errmsg("different sparsevec dimensions %d and %d", a->dim, b->dim)));
}

/* Error unless dim matches the type modifier (-1 means none). */
static inline void
SparsevecCheckExpectedDim(int32 typmod, int dim)
{
	if (typmod != -1 && typmod != dim)
		ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("expected %d dimensions, not %d", typmod, dim)));
}

/* Error unless 1 <= dim <= SPARSEVEC_MAX_DIM. */
static inline void
SparsevecCheckDim(long dim)
{
	if (dim < 1)
		ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("sparsevec must have at least 1 dimension")));

	if (dim > SPARSEVEC_MAX_DIM)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("sparsevec cannot have more than %d dimensions", SPARSEVEC_MAX_DIM)));
}

/* Error unless 0 <= nnz <= min(SPARSEVEC_MAX_NNZ, dim). */
static inline void
SparsevecCheckNnz(int nnz, int dim)
{
	if (nnz < 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION), errmsg("sparsevec cannot have negative number of elements")));

	if (nnz > SPARSEVEC_MAX_NNZ)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("sparsevec cannot have more than %d non-zero elements", SPARSEVEC_MAX_NNZ)));

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

/* Error if value is NaN or infinite. */
static inline void
SparsevecCheckElement(float value)
{
	if (std::isnan(value))
		ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("NaN not allowed in sparsevec")));

	if (std::isinf(value))
		ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("infinite value not allowed in sparsevec")));
}

/* The vector-type dimension check used by sparsevec -> vector (pgvector's texts). */
static inline void
VectorCheckDimForCast(int dim)
{
	if (dim < 1)
		ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("vector must have at least 1 dimension")));

	if (dim > VECTOR_MAX_DIM)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("vector cannot have more than %d dimensions", VECTOR_MAX_DIM)));
}

/* The halfvec-type dimension check used by sparsevec -> halfvec (pgvector's texts). */
static inline void
HalfvecCheckDimForCast(int dim)
{
	if (dim < 1)
		ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("halfvec must have at least 1 dimension")));

	if (dim > HALFVEC_MAX_DIM)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("halfvec cannot have more than %d dimensions", HALFVEC_MAX_DIM)));
}

/* Whitespace as PostgreSQL's array parser sees it (scanner_isspace). */
static inline bool
SparsevecIsSpace(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* Skip whitespace; returns the first non-space position. */
static inline char *
SparsevecSkipSpace(char *pt)
{
	while (SparsevecIsSpace(*pt))
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

/* Raise the generic syntax error for the literal (no detail). */
[[noreturn]] static void
SparsevecSyntaxError(const char *lit)
{
	ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					errmsg("invalid input syntax for type sparsevec: \"%s\"", lit)));
	pg_unreachable();
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
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("sparsevec cannot have more than %d non-zero elements", SPARSEVEC_MAX_NNZ)));

	elements = palloc_array(SparseInputElement, maxNnz);

	pt = SparsevecSkipSpace(lit);

	if (*pt != '{')
		ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						errmsg("invalid input syntax for type sparsevec: \"%s\"", lit),
						errdetail("Vector contents must start with \"{\".")));

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
				SparsevecSyntaxError(lit);

			index = strtol(pt, &end, 10);
			if (end == pt)
				SparsevecSyntaxError(lit);

			/* Keep index - 1 representable; CheckIndex rejects it later */
			index = SparsevecClamp(index, (long) INT_MIN + 1, INT_MAX);

			pt = SparsevecSkipSpace(end);
			if (*pt != ':')
				SparsevecSyntaxError(lit);

			pt = SparsevecSkipSpace(pt + 1);

			/* strtof (not strtod) avoids double rounding, as float4in does */
			errno = 0;
			value = strtof(pt, &end);
			if (end == pt)
				SparsevecSyntaxError(lit);

			if (errno == ERANGE && (value == 0 || std::isinf(value)))
				ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
								errmsg("\"%s\" is out of range for type sparsevec", pnstrdup(pt, end - pt))));

			SparsevecCheckElement(value);

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
				SparsevecSyntaxError(lit);
		}
	}

	pt = SparsevecSkipSpace(pt);
	if (*pt != '/')
		ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						errmsg("invalid input syntax for type sparsevec: \"%s\"", lit),
						errdetail("Unexpected end of input.")));

	pt = SparsevecSkipSpace(pt + 1);

	dim = strtol(pt, &end, 10);
	if (end == pt)
		SparsevecSyntaxError(lit);
	dim = SparsevecClamp(dim, INT_MIN, INT_MAX);

	pt = SparsevecSkipSpace(end);
	if (*pt != '\0')
		ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						errmsg("invalid input syntax for type sparsevec: \"%s\"", lit),
						errdetail("Junk after closing.")));

	SparsevecCheckDim(dim);
	SparsevecCheckExpectedDim(typmod, (int) dim);

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

	SparsevecCheckDim(dim);
	SparsevecCheckNnz(nnz, dim);
	SparsevecCheckExpectedDim(typmod, dim);

	if (unused != 0)
		ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("expected unused to be 0, not %d", unused)));

	result = InitSparseVector(dim, nnz);
	values = SPARSEVEC_VALUES(result);

	for (int i = 0; i < nnz; i++) {
		result->indices[i] = (int32) pq_getmsgint(buf, sizeof(int32));
		SparsevecCheckIndex(result->indices, i, dim);
	}

	for (int i = 0; i < nnz; i++) {
		values[i] = pq_getmsgfloat4(buf);
		SparsevecCheckElement(values[i]);

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

	SparsevecCheckExpectedDim(typmod, svec->dim);

	PG_RETURN_SPARSEVEC_P(svec);
}

/* vector -> sparsevec: keep the non-zero elements (-0 counts as zero). */
VX_FUNCTION(vector_to_sparsevec)
{
	Vector *vec = PG_GETARG_VECTOR_P(0);
	int32 typmod = PG_GETARG_INT32(1);
	int dim = vec->dim;
	int nnz = 0;
	int j = 0;
	SparseVector *result;
	float *values;

	SparsevecCheckDim(dim);
	SparsevecCheckExpectedDim(typmod, dim);

	for (int i = 0; i < dim; i++)
		nnz += vec->x[i] != 0;

	result = InitSparseVector(dim, nnz);
	values = SPARSEVEC_VALUES(result);
	for (int i = 0; i < dim; i++) {
		if (vec->x[i] != 0) {
			result->indices[j] = i;
			values[j] = vec->x[i];
			j++;
		}
	}

	PG_RETURN_SPARSEVEC_P(result);
}

/* sparsevec -> vector: scatter the stored elements into a zeroed vector. */
VX_FUNCTION(sparsevec_to_vector)
{
	SparseVector *svec = PG_GETARG_SPARSEVEC_P(0);
	int32 typmod = PG_GETARG_INT32(1);
	float *values = SPARSEVEC_VALUES(svec);
	Vector *result;

	VectorCheckDimForCast(svec->dim);
	SparsevecCheckExpectedDim(typmod, svec->dim);

	result = InitVector(svec->dim);
	for (int i = 0; i < svec->nnz; i++) {
		int32 index = svec->indices[i];

		/* A stored datum with a bad index would write out of bounds */
		if (index < 0 || index >= svec->dim)
			elog(ERROR, "sparsevec index out of bounds");
		result->x[index] = values[i];
	}

	PG_RETURN_VECTOR_P(result);
}

/* True for +0 and -0 in IEEE half (raw bits). */
static inline bool
SparsevecHalfIsZero(half h)
{
	return (h & 0x7fff) == 0;
}

/* halfvec -> sparsevec: keep the non-zero elements (either signed zero is zero). */
VX_FUNCTION(halfvec_to_sparsevec)
{
	HalfVector *vec = PG_GETARG_HALFVEC_P(0);
	int32 typmod = PG_GETARG_INT32(1);
	int dim = vec->dim;
	int nnz = 0;
	int j = 0;
	SparseVector *result;
	float *values;

	SparsevecCheckDim(dim);
	SparsevecCheckExpectedDim(typmod, dim);

	for (int i = 0; i < dim; i++)
		nnz += !SparsevecHalfIsZero(vec->x[i]);

	result = InitSparseVector(dim, nnz);
	values = SPARSEVEC_VALUES(result);
	for (int i = 0; i < dim; i++) {
		if (!SparsevecHalfIsZero(vec->x[i])) {
			result->indices[j] = i;
			values[j] = vx::kernels::half_to_float(vec->x[i]);
			j++;
		}
	}

	PG_RETURN_SPARSEVEC_P(result);
}

/* sparsevec -> halfvec: values that overflow half precision are an error. */
VX_FUNCTION(sparsevec_to_halfvec)
{
	SparseVector *svec = PG_GETARG_SPARSEVEC_P(0);
	int32 typmod = PG_GETARG_INT32(1);
	float *values = SPARSEVEC_VALUES(svec);
	HalfVector *result;

	HalfvecCheckDimForCast(svec->dim);
	SparsevecCheckExpectedDim(typmod, svec->dim);

	result = InitHalfVector(svec->dim);
	for (int i = 0; i < svec->nnz; i++) {
		int32 index = svec->indices[i];
		half h = vx::kernels::float_to_half(values[i]);

		if (index < 0 || index >= svec->dim)
			elog(ERROR, "sparsevec index out of bounds");

		/* finite in, infinite out: the value is beyond half's range */
		if ((h & 0x7fff) == 0x7c00 && !std::isinf(values[i])) {
			char buf[FLOAT_SHORTEST_DECIMAL_LEN];

			float_to_shortest_decimal_buf(values[i], buf);
			ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
							errmsg("\"%s\" is out of range for type halfvec", buf)));
		}
		result->x[index] = h;
	}

	PG_RETURN_HALFVEC_P(result);
}

/* Element i of an int4/float4/float8/numeric array as float (numeric via numeric_float4). */
static inline float
SparsevecArrayElement(Oid elemtype, Datum d)
{
	switch (elemtype) {
	case INT4OID:
		return (float) DatumGetInt32(d);
	case FLOAT4OID:
		return DatumGetFloat4(d);
	case FLOAT8OID:
		return (float) DatumGetFloat8(d);
	default: /* NUMERICOID, checked by the caller */
		return DatumGetFloat4(DirectFunctionCall1(numeric_float4, d));
	}
}

/* int4[], real[], double precision[], numeric[] -> sparsevec (one symbol for all four). */
VX_FUNCTION(array_to_sparsevec)
{
	ArrayType *array = PG_GETARG_ARRAYTYPE_P(0);
	int32 typmod = PG_GETARG_INT32(1);
	Oid elemtype = ARR_ELEMTYPE(array);
	int16 typlen;
	bool typbyval;
	char typalign;
	Datum *elems;
	int nelems;
	float *dense;
	int nnz = 0;
	int j = 0;
	SparseVector *result;
	float *values;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("array must be 1-D")));

	if (ARR_HASNULL(array) && array_contains_nulls(array))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("array must not contain nulls")));

	if (elemtype != INT4OID && elemtype != FLOAT4OID && elemtype != FLOAT8OID && elemtype != NUMERICOID)
		ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("unsupported array type")));

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(array, elemtype, typlen, typbyval, typalign, &elems, NULL, &nelems);

	SparsevecCheckDim(nelems);
	SparsevecCheckExpectedDim(typmod, nelems);

	/* Convert once (numeric conversion is not free), then count and compact */
	dense = palloc_array(float, nelems);
	for (int i = 0; i < nelems; i++) {
		dense[i] = SparsevecArrayElement(elemtype, elems[i]);
		nnz += dense[i] != 0; /* NaN counts: it is rejected below */
	}

	/*
	 * Like pgvector, the non-zero count is not limited to SPARSEVEC_MAX_NNZ
	 * here; only the text input and recv enforce that limit.
	 */
	result = InitSparseVector(nelems, nnz);
	values = SPARSEVEC_VALUES(result);
	for (int i = 0; i < nelems; i++) {
		if (dense[i] != 0) {
			result->indices[j] = i;
			values[j] = dense[i];
			j++;
		}
	}

	/* Elements point into the array when pass-by-reference: free only the list */
	pfree(elems);
	pfree(dense);

	for (int i = 0; i < nnz; i++)
		SparsevecCheckElement(values[i]);

	PG_RETURN_SPARSEVEC_P(result);
}

/* Squared L2 distance of two same-dimension sparse vectors (float32 accumulation). */
static float
SparsevecL2SquaredDistance(SparseVector *a, SparseVector *b)
{
	return vx::kernels::sparse_l2sq(a->indices, SPARSEVEC_VALUES(a), a->nnz, b->indices, SPARSEVEC_VALUES(b), b->nnz);
}

/* Inner product of two same-dimension sparse vectors (float32 accumulation). */
static float
SparsevecInnerProduct(SparseVector *a, SparseVector *b)
{
	return vx::kernels::sparse_ip(a->indices, SPARSEVEC_VALUES(a), a->nnz, b->indices, SPARSEVEC_VALUES(b), b->nnz);
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
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0);
	SparseVector *b = PG_GETARG_SPARSEVEC_P(1);

	SparsevecCheckDims(a, b);

	PG_RETURN_FLOAT8(sqrt((double) SparsevecL2SquaredDistance(a, b)));
}

/* Squared L2 distance (support function; saves the sqrt). */
VX_FUNCTION(sparsevec_l2_squared_distance)
{
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0);
	SparseVector *b = PG_GETARG_SPARSEVEC_P(1);

	SparsevecCheckDims(a, b);

	PG_RETURN_FLOAT8((double) SparsevecL2SquaredDistance(a, b));
}

/* inner_product(sparsevec, sparsevec). */
VX_FUNCTION(sparsevec_inner_product)
{
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0);
	SparseVector *b = PG_GETARG_SPARSEVEC_P(1);

	SparsevecCheckDims(a, b);

	PG_RETURN_FLOAT8((double) SparsevecInnerProduct(a, b));
}

/* Negative inner product: the <#> operator. */
VX_FUNCTION(sparsevec_negative_inner_product)
{
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0);
	SparseVector *b = PG_GETARG_SPARSEVEC_P(1);

	SparsevecCheckDims(a, b);

	PG_RETURN_FLOAT8((double) -SparsevecInnerProduct(a, b));
}

/* cosine_distance and <=>: 1 - cos, clamped to [0, 2]; NaN for a zero vector. */
VX_FUNCTION(sparsevec_cosine_distance)
{
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0);
	SparseVector *b = PG_GETARG_SPARSEVEC_P(1);
	double similarity;

	SparsevecCheckDims(a, b);

	similarity = (double) SparsevecInnerProduct(a, b);
	/* sqrt(a * b) rather than sqrt(a) * sqrt(b), as pgvector */
	similarity /= sqrt((double) SparsevecSquaredNormF32(a) * (double) SparsevecSquaredNormF32(b));

	/* NaN compares false both ways and stays NaN */
	if (similarity > 1)
		similarity = 1;
	else if (similarity < -1)
		similarity = -1;

	PG_RETURN_FLOAT8(1 - similarity);
}

/* l1_distance and <+>. */
VX_FUNCTION(sparsevec_l1_distance)
{
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0);
	SparseVector *b = PG_GETARG_SPARSEVEC_P(1);

	SparsevecCheckDims(a, b);

	PG_RETURN_FLOAT8(
		(double) vx::kernels::sparse_l1(a->indices, SPARSEVEC_VALUES(a), a->nnz, b->indices, SPARSEVEC_VALUES(b), b->nnz));
}

/* l2_norm(sparsevec), accumulated in float64. */
VX_FUNCTION(sparsevec_l2_norm)
{
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0);

	PG_RETURN_FLOAT8(sqrt(SparsevecSquaredNormF64(a)));
}

/* l2_normalize(sparsevec): zero vector stays zero; values that underflow are dropped. */
VX_FUNCTION(sparsevec_l2_normalize)
{
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0);
	float *ax = SPARSEVEC_VALUES(a);
	double norm = sqrt(SparsevecSquaredNormF64(a));
	float *scaled;
	int nnz = 0;
	int j = 0;
	SparseVector *result;
	float *rx;

	if (norm == 0)
		PG_RETURN_SPARSEVEC_P(InitSparseVector(a->dim, 0));

	scaled = palloc_array(float, a->nnz);
	for (int i = 0; i < a->nnz; i++) {
		scaled[i] = (float) (ax[i] / norm);
		if (std::isinf(scaled[i]))
			float_overflow_error();
		nnz += scaled[i] != 0;
	}

	result = InitSparseVector(a->dim, nnz);
	rx = SPARSEVEC_VALUES(result);
	for (int i = 0; i < a->nnz; i++) {
		if (scaled[i] != 0) {
			result->indices[j] = a->indices[i];
			rx[j] = scaled[i];
			j++;
		}
	}
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

/* Operator <. */
VX_FUNCTION(sparsevec_lt)
{
	PG_RETURN_BOOL(SparsevecCompare(PG_GETARG_SPARSEVEC_P(0), PG_GETARG_SPARSEVEC_P(1)) < 0);
}

/* Operator <=. */
VX_FUNCTION(sparsevec_le)
{
	PG_RETURN_BOOL(SparsevecCompare(PG_GETARG_SPARSEVEC_P(0), PG_GETARG_SPARSEVEC_P(1)) <= 0);
}

/* Operator =. */
VX_FUNCTION(sparsevec_eq)
{
	PG_RETURN_BOOL(SparsevecCompare(PG_GETARG_SPARSEVEC_P(0), PG_GETARG_SPARSEVEC_P(1)) == 0);
}

/* Operator <>. */
VX_FUNCTION(sparsevec_ne)
{
	PG_RETURN_BOOL(SparsevecCompare(PG_GETARG_SPARSEVEC_P(0), PG_GETARG_SPARSEVEC_P(1)) != 0);
}

/* Operator >=. */
VX_FUNCTION(sparsevec_ge)
{
	PG_RETURN_BOOL(SparsevecCompare(PG_GETARG_SPARSEVEC_P(0), PG_GETARG_SPARSEVEC_P(1)) >= 0);
}

/* Operator >. */
VX_FUNCTION(sparsevec_gt)
{
	PG_RETURN_BOOL(SparsevecCompare(PG_GETARG_SPARSEVEC_P(0), PG_GETARG_SPARSEVEC_P(1)) > 0);
}

/* btree support function 1. */
VX_FUNCTION(sparsevec_cmp)
{
	PG_RETURN_INT32(SparsevecCompare(PG_GETARG_SPARSEVEC_P(0), PG_GETARG_SPARSEVEC_P(1)));
}
