/*
 * aggregates.cpp -- transition, combine and final functions of avg(vector)
 * and avg(halfvec). sum() needs none: it is vector_add / halfvec_add.
 *
 * The state is a float8[] {n, s_1, ..., s_dim}: the row count and the
 * per-dimension sums in double, exactly pgvector's state, so that partial
 * states are interchangeable with pgvector's and results agree to the bit.
 * The initial state '{0}' has no sums; the first row fixes the dimension and
 * any later row (or partial state, in a parallel plan) of another dimension
 * is an error ("expected N dimensions, not M"). A sum that overflows double is
 * "value out of range: overflow". avg of no rows is NULL.
 *
 * Called as an aggregate, the transition and combine functions update the
 * state array in place (as float8_accum does) instead of building a new array
 * per row; called directly from SQL they never modify their arguments.
 */
#include "vx/pg.h"

#include "vx/kernels/kernels.hpp"
#include "vx/types/checks.h"
#include "vx/types/halfvec.h"
#include "vx/types/vector.h"

#include <cmath>
#include <cstring>

/* A new 1-D float8[] of n elements, laid out as construct_array would; data left for the caller. */
static ArrayType *
NewStateArray(int n)
{
	Size size = ARR_OVERHEAD_NONULLS(1) + n * sizeof(float8);
	ArrayType *result = (ArrayType *)palloc0(size);

	SET_VARSIZE(result, size);
	result->ndim = 1;
	result->dataoffset = 0;
	result->elemtype = FLOAT8OID;
	ARR_DIMS(result)[0] = n;
	ARR_LBOUND(result)[0] = 1;
	return result;
}

/*
 * Add one row of dim values (get(i) as double) to the state in argument 0:
 * the common body of vector_accum and halfvec_accum.
 */
template <typename Get>
static ArrayType *
AccumState(FunctionCallInfo fcinfo, const char *caller, int dim, Get get)
{
	ArrayType *statearray = PG_GETARG_ARRAYTYPE_P(0);
	float8 *state = CheckStateArray(statearray, caller);
	int state_dim = StateDims(statearray);
	ArrayType *result;
	float8 *out;

	if (state_dim == 0) {
		/* first row: the sums are the row itself */
		result = NewStateArray(dim + 1);
		out = (float8 *)ARR_DATA_PTR(result);
		out[0] = state[0] + 1.0;
		for (int i = 0; i < dim; i++)
			out[i + 1] = get(i);
		return result;
	}

	CheckExpectedDim(state_dim, dim);

	/* in an aggregate the state is ours to modify; otherwise build a new one */
	result = AggCheckCallContext(fcinfo, NULL) ? statearray : NewStateArray(dim + 1);
	out = (float8 *)ARR_DATA_PTR(result);
	out[0] = state[0] + 1.0;
	for (int i = 0; i < dim; i++) {
		double v = state[i + 1] + get(i);

		if (std::isinf(v))
			float_overflow_error();
		out[i + 1] = v;
	}
	return result;
}

/* avg(vector) transition: add a row. */
VX_FUNCTION(vector_accum)
{
	Vector *newval = PG_GETARG_VECTOR_P(1);
	const float *x = newval->x;

	PG_RETURN_ARRAYTYPE_P(AccumState(fcinfo, "vector_accum", newval->dim, [x](int i) { return (double)x[i]; }));
}

/* avg(halfvec) transition: add a row. */
VX_FUNCTION(halfvec_accum)
{
	HalfVector *newval = PG_GETARG_HALFVEC_P(1);
	const half *x = newval->x;

	PG_RETURN_ARRAYTYPE_P(AccumState(fcinfo, "halfvec_accum", newval->dim,
									 [x](int i) { return (double)vx::kernels::half_to_float(x[i]); }));
}

/* A copy of a state array (same layout). */
static ArrayType *
CopyState(ArrayType *statearray)
{
	ArrayType *result = NewStateArray(StateDims(statearray) + 1);

	memcpy(ARR_DATA_PTR(result), ARR_DATA_PTR(statearray), (StateDims(statearray) + 1) * sizeof(float8));
	return result;
}

/*
 * Merge two partial states (parallel aggregation); shared by avg(vector) and
 * avg(halfvec) since their states are alike. An empty side (n = 0) yields the
 * other side; otherwise the dimensions must match.
 */
VX_FUNCTION(vector_combine)
{
	ArrayType *statearray1 = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType *statearray2 = PG_GETARG_ARRAYTYPE_P(1);
	float8 *state1 = CheckStateArray(statearray1, "vector_combine");
	float8 *state2 = CheckStateArray(statearray2, "vector_combine");
	bool in_agg = AggCheckCallContext(fcinfo, NULL) != 0;
	int dim;
	ArrayType *result;
	float8 *out;

	if (state1[0] == 0.0)
		PG_RETURN_ARRAYTYPE_P(CopyState(statearray2));
	if (state2[0] == 0.0)
		PG_RETURN_ARRAYTYPE_P(in_agg ? statearray1 : CopyState(statearray1));

	dim = StateDims(statearray1);
	CheckExpectedDim(dim, StateDims(statearray2));

	result = in_agg ? statearray1 : NewStateArray(dim + 1);
	out = (float8 *)ARR_DATA_PTR(result);
	out[0] = state1[0] + state2[0];
	for (int i = 1; i <= dim; i++) {
		double v = state1[i] + state2[i];

		if (std::isinf(v))
			float_overflow_error();
		out[i] = v;
	}
	PG_RETURN_ARRAYTYPE_P(result);
}

/* The state's row count and dimension for a final function; false for no rows (NULL result). */
static bool
StateForFinal(ArrayType *statearray, const char *caller, float8 **state, int *dim)
{
	*state = CheckStateArray(statearray, caller);
	if ((*state)[0] == 0.0)
		return false; /* SQL defines avg of no rows as NULL */
	*dim = StateDims(statearray);
	return true;
}

/* avg(vector) final: sums / n, rounded to float. */
VX_FUNCTION(vector_avg)
{
	float8 *state;
	int dim;
	Vector *result;

	if (!StateForFinal(PG_GETARG_ARRAYTYPE_P(0), "vector_avg", &state, &dim))
		PG_RETURN_NULL();

	CheckDim(dim, "vector", VECTOR_MAX_DIM);
	result = InitVector(dim);
	for (int i = 0; i < dim; i++) {
		result->x[i] = (float)(state[i + 1] / state[0]);
		CheckFloatElement(result->x[i], "vector");
	}
	PG_RETURN_VECTOR_P(result);
}

/* avg(halfvec) final: sums / n, rounded to float and then to half. */
VX_FUNCTION(halfvec_avg)
{
	float8 *state;
	int dim;
	HalfVector *result;

	if (!StateForFinal(PG_GETARG_ARRAYTYPE_P(0), "halfvec_avg", &state, &dim))
		PG_RETURN_NULL();

	CheckDim(dim, "halfvec", HALFVEC_MAX_DIM);
	result = InitHalfVector(dim);
	for (int i = 0; i < dim; i++) {
		result->x[i] = Float4ToHalfChecked((float)(state[i + 1] / state[0]));
		CheckHalfElement(result->x[i]);
	}
	PG_RETURN_HALFVEC_P(result);
}
