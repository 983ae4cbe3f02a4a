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
 */
#include "vx/pg.h"

#include "vx/kernels/kernels.hpp"
#include "vx/types/arrays.h"
#include "vx/types/checks.h"
#include "vx/types/dense.h"
#include "vx/types/halfvec.h"
#include "vx/types/vector.h"

#include <cstring>

/*
 * An array (checked by CheckInputArray) to a vector or halfvec: every element
 * converted first, then each checked for NaN/infinity, as in pgvector.
 */
template <typename V>
static V *
DenseFromArray(ArrayType *array, int32 typmod)
{
	typedef DenseTraits<V> T;
	int n = CheckInputArray(array, typmod, T::kName, T::kMaxDim);
	V *result = T::Init(n);
	typename T::Elem *x = result->x;

	ForEachArrayFloat(array, n, [x](int i, float v) { x[i] = T::FromFloatChecked(v); });
	for (int i = 0; i < n; i++)
		T::CheckElement(x[i]);
	return result;
}

/* int4[] / float4[] / float8[] / numeric[] to vector. */
VX_FUNCTION(array_to_vector)
{
	PG_RETURN_VECTOR_P(DenseFromArray<Vector>(PG_GETARG_ARRAYTYPE_P(0), PG_GETARG_INT32(1)));
}

/* vector to real[]. */
VX_FUNCTION(vector_to_float4)
{
	Vector *vec = PG_GETARG_VECTOR_P(0);
	ArrayType *result = NewFloatArray<float4>(vec->dim);

	memcpy(ARR_DATA_PTR(result), vec->x, vec->dim * sizeof(float));
	PG_RETURN_ARRAYTYPE_P(result);
}

/* int4[] / float4[] / float8[] / numeric[] to halfvec. */
VX_FUNCTION(array_to_halfvec)
{
	PG_RETURN_HALFVEC_P(DenseFromArray<HalfVector>(PG_GETARG_ARRAYTYPE_P(0), PG_GETARG_INT32(1)));
}

/* halfvec to real[] (exact: every half is a float). */
VX_FUNCTION(halfvec_to_float4)
{
	HalfVector *vec = PG_GETARG_HALFVEC_P(0);
	ArrayType *result = NewFloatArray<float4>(vec->dim);

	vx::kernels::active().f16_to_f32(vec->x, (float *)ARR_DATA_PTR(result), vec->dim);
	PG_RETURN_ARRAYTYPE_P(result);
}

/* vector to halfvec: round to nearest half; values beyond half's range are errors. */
VX_FUNCTION(vector_to_halfvec)
{
	Vector *vec = PG_GETARG_VECTOR_P(0);
	int32 typmod = PG_GETARG_INT32(1);
	HalfVector *result;

	CheckTypeDim(vec->dim, typmod, "halfvec", HALFVEC_MAX_DIM);

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

	CheckTypeDim(vec->dim, typmod, "vector", VECTOR_MAX_DIM);

	result = InitVector(vec->dim);
	vx::kernels::active().f16_to_f32(vec->x, result->x, vec->dim);
	PG_RETURN_VECTOR_P(result);
}
