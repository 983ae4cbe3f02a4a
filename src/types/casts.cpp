/*
 * casts.cpp -- casts between vector, halfvec and PostgreSQL arrays.
 *
 *   int4[] / float4[] / float8[] / numeric[]  ->  vector, halfvec   (assignment)
 *   vector -> real[] (implicit), halfvec -> real[] (assignment)
 *   vector <-> halfvec
 *
 * Arrays must be one-dimensional, NULL-free and non-empty; every value goes
 * through float4 first (float8 and int4 round to the nearest float, numeric
 * goes through numeric_float4), then, for halfvec, to the nearest half with
 * an error for finite values beyond half's range. As in pgvector, all elements
 * are converted before any is checked for NaN/infinity, so a conversion error
 * anywhere wins over a non-finite element earlier in the array.
 *
 * Fixed-width element arrays are read in place (no deconstruct_array, no
 * catalog lookup); only numeric needs a per-element function call.
 */
#include "vx/pg.h"

#include "vx/kernels/kernels.hpp"
#include "vx/types/checks.h"
#include "vx/types/halfvec.h"
#include "vx/types/vector.h"

#include <cstring>

/*
 * Validate an array argument of array_to_vector/array_to_halfvec in pgvector's
 * order (1-D, no NULLs, dimension limits, typmod); returns its length.
 */
static int
CheckInputArray(ArrayType *array, int32 typmod, const char *type_name, int max_dim)
{
	int n;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("array must be 1-D")));

	if (ARR_HASNULL(array) && array_contains_nulls(array))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("array must not contain nulls")));

	n = ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array));
	CheckDim(n, type_name, max_dim);
	CheckExpectedDim(typmod, n);
	return n;
}

/* Call store(i, (float) element_i) for the n elements of a NULL-free 1-D array. */
template <typename Store>
static void
ForEachArrayFloat(ArrayType *array, int n, Store store)
{
	const char *data = ARR_DATA_PTR(array);

	switch (ARR_ELEMTYPE(array)) {
	case INT4OID:
		for (int i = 0; i < n; i++) {
			int32 v;

			memcpy(&v, data + i * sizeof(int32), sizeof(v));
			store(i, (float)v);
		}
		break;
	case FLOAT4OID:
		for (int i = 0; i < n; i++) {
			float v;

			memcpy(&v, data + i * sizeof(float), sizeof(v));
			store(i, v);
		}
		break;
	case FLOAT8OID:
		for (int i = 0; i < n; i++) {
			double v;

			memcpy(&v, data + i * sizeof(double), sizeof(v));
			store(i, (float)v);
		}
		break;
	case NUMERICOID: {
		Datum *elems;
		int nelems;

		deconstruct_array(array, NUMERICOID, -1, false, TYPALIGN_INT, &elems, NULL, &nelems);
		for (int i = 0; i < nelems; i++)
			store(i, DatumGetFloat4(DirectFunctionCall1(numeric_float4, elems[i])));
		pfree(elems);
		break;
	}
	default:
		ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("unsupported array type")));
	}
}

/* A new 1-D float4[] of n elements, laid out as construct_array would; data left for the caller. */
static ArrayType *
NewFloat4Array(int n)
{
	Size size = ARR_OVERHEAD_NONULLS(1) + n * sizeof(float4);
	ArrayType *result = (ArrayType *)palloc0(size);

	SET_VARSIZE(result, size);
	result->ndim = 1;
	result->dataoffset = 0;
	result->elemtype = FLOAT4OID;
	ARR_DIMS(result)[0] = n;
	ARR_LBOUND(result)[0] = 1;
	return result;
}

/* int4[] / float4[] / float8[] / numeric[] to vector. */
VX_FUNCTION(array_to_vector)
{
	ArrayType *array = PG_GETARG_ARRAYTYPE_P(0);
	int32 typmod = PG_GETARG_INT32(1);
	int n = CheckInputArray(array, typmod, "vector", VECTOR_MAX_DIM);
	Vector *result = InitVector(n);
	float *x = result->x;

	ForEachArrayFloat(array, n, [x](int i, float v) { x[i] = v; });
	for (int i = 0; i < n; i++)
		CheckFloatElement(x[i], "vector");
	PG_RETURN_VECTOR_P(result);
}

/* vector to real[]. */
VX_FUNCTION(vector_to_float4)
{
	Vector *vec = PG_GETARG_VECTOR_P(0);
	ArrayType *result = NewFloat4Array(vec->dim);

	memcpy(ARR_DATA_PTR(result), vec->x, vec->dim * sizeof(float));
	PG_RETURN_ARRAYTYPE_P(result);
}

/* int4[] / float4[] / float8[] / numeric[] to halfvec. */
VX_FUNCTION(array_to_halfvec)
{
	ArrayType *array = PG_GETARG_ARRAYTYPE_P(0);
	int32 typmod = PG_GETARG_INT32(1);
	int n = CheckInputArray(array, typmod, "halfvec", HALFVEC_MAX_DIM);
	HalfVector *result = InitHalfVector(n);
	half *x = result->x;

	ForEachArrayFloat(array, n, [x](int i, float v) { x[i] = Float4ToHalfChecked(v); });
	for (int i = 0; i < n; i++)
		CheckHalfElement(x[i]);
	PG_RETURN_HALFVEC_P(result);
}

/* halfvec to real[] (exact: every half is a float). */
VX_FUNCTION(halfvec_to_float4)
{
	HalfVector *vec = PG_GETARG_HALFVEC_P(0);
	ArrayType *result = NewFloat4Array(vec->dim);

	vx::kernels::active().f16_to_f32(vec->x, (float *)ARR_DATA_PTR(result), vec->dim);
	PG_RETURN_ARRAYTYPE_P(result);
}

/* vector to halfvec: round to nearest half; values beyond half's range are errors. */
VX_FUNCTION(vector_to_halfvec)
{
	Vector *vec = PG_GETARG_VECTOR_P(0);
	int32 typmod = PG_GETARG_INT32(1);
	HalfVector *result;

	CheckDim(vec->dim, "halfvec", HALFVEC_MAX_DIM);
	CheckExpectedDim(typmod, vec->dim);

	result = InitHalfVector(vec->dim);
	for (int i = 0; i < vec->dim; i++)
		result->x[i] = Float4ToHalfChecked(vec->x[i]);
	PG_RETURN_HALFVEC_P(result);
}

/* halfvec to vector (exact). */
VX_FUNCTION(halfvec_to_vector)
{
	HalfVector *vec = PG_GETARG_HALFVEC_P(0);
	int32 typmod = PG_GETARG_INT32(1);
	Vector *result;

	CheckDim(vec->dim, "vector", VECTOR_MAX_DIM);
	CheckExpectedDim(typmod, vec->dim);

	result = InitVector(vec->dim);
	vx::kernels::active().f16_to_f32(vec->x, result->x, vec->dim);
	PG_RETURN_VECTOR_P(result);
}
