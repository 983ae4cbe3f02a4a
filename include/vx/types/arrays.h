/*
 * arrays.h -- PostgreSQL array helpers shared by the casts and the avg()
 * aggregates (PG zone).
 *
 * Input: the array argument of array_to_vector, array_to_halfvec and
 * array_to_sparsevec is validated in pgvector's order (1-D, no NULLs,
 * dimension limits, typmod) and its int4/float4/float8/numeric elements are
 * read as float4. Fixed-width elements are read in place (no
 * deconstruct_array, no catalog lookup); only numeric needs a function call
 * per element.
 *
 * Output: flat 1-D float4[] and float8[] arrays (no NULL bitmap, lower bound
 * 1) built the way construct_array would lay them out, with the data left for
 * the caller to fill.
 */
#ifndef VX_TYPES_ARRAYS_H
#define VX_TYPES_ARRAYS_H

#include "vx/pg.h"

#include "vx/types/checks.h"

#include <cstring>
#include <type_traits>

/*
 * Validate the array argument of a cast to type_name in pgvector's order
 * (1-D, no NULLs, dimension limits, typmod); returns its length.
 */
static inline int
CheckInputArray(ArrayType *array, int32 typmod, const char *type_name, int max_dim)
{
	int n;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("array must be 1-D")));

	if (ARR_HASNULL(array) && array_contains_nulls(array))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("array must not contain nulls")));

	n = ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array));
	CheckTypeDim(n, typmod, type_name, max_dim);
	return n;
}

/* Call store(i, (float) element_i) for n elements of type T stored back to back at data. */
template <typename T, typename Store>
static inline void
ForEachFixedFloat(const char *data, int n, Store store)
{
	for (int i = 0; i < n; i++) {
		T v;

		memcpy(&v, data + i * sizeof(T), sizeof(v));
		store(i, (float)v);
	}
}

/*
 * Call store(i, (float) element_i) for the n elements of an array that passed
 * CheckInputArray; int4/float8 round to the nearest float, numeric goes
 * through numeric_float4 (which raises its own range errors).
 */
template <typename Store>
static inline void
ForEachArrayFloat(ArrayType *array, int n, Store store)
{
	switch (ARR_ELEMTYPE(array)) {
	case INT4OID:
		ForEachFixedFloat<int32>(ARR_DATA_PTR(array), n, store);
		break;
	case FLOAT4OID:
		ForEachFixedFloat<float4>(ARR_DATA_PTR(array), n, store);
		break;
	case FLOAT8OID:
		ForEachFixedFloat<float8>(ARR_DATA_PTR(array), n, store);
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

/* A new 1-D float4[] (T = float4) or float8[] (T = float8) of n zeroed elements. */
template <typename T>
static inline ArrayType *
NewFloatArray(int n)
{
	static_assert(std::is_same_v<T, float4> || std::is_same_v<T, float8>, "float4[] or float8[]");
	Size size = ARR_OVERHEAD_NONULLS(1) + n * sizeof(T);
	ArrayType *result = (ArrayType *)palloc0(size);

	SET_VARSIZE(result, size);
	result->ndim = 1;
	result->dataoffset = 0;
	result->elemtype = std::is_same_v<T, float4> ? FLOAT4OID : FLOAT8OID;
	ARR_DIMS(result)[0] = n;
	ARR_LBOUND(result)[0] = 1;
	return result;
}

#endif /* VX_TYPES_ARRAYS_H */
