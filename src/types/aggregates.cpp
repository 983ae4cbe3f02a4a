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
 * Called as an aggregate, the transition function updates the state array in
 * place (as float8_accum does) instead of building a new array per row; the
 * combine function (once per worker) always builds a new one. Called directly
 * from SQL they never modify their arguments, and a state whose sums exceed
 * the type's dimension limit, or counts rows without sums, is an error
 * ("vector cannot have more than 16000 dimensions", "vector must have at
 * least 1 dimension"), as in pgvector 0.8.6.
 */
#include "vx/pg.h"

#include "vx/kernels/kernels.hpp"
#include "vx/types/arrays.h"
#include "vx/types/checks.h"
#include "vx/types/dense.h"
#include "vx/types/halfvec.h"
#include "vx/types/vector.h"

#include <cmath>
#include <cstring>

/*
 * Add one row (a vector or halfvec) to the state in argument 0: the body of
 * vector_accum and halfvec_accum.
 */
template <typename V>
static ArrayType *
AccumState(FunctionCallInfo fcinfo, const char *caller, const V *row)
{
	typedef DenseTraits<V> T;
	ArrayType *statearray = PG_GETARG_ARRAYTYPE_P(0);
	int dim = row->dim;
	float8 *state = CheckStateArray(statearray, caller);
	int state_dim = StateDims(statearray);
	ArrayType *result;
	float8 *out;

	if (state_dim == 0) {
		/* first row: the sums are the row itself */
		result = NewFloatArray<float8>(dim + 1);
		out = (float8 *)ARR_DATA_PTR(result);
		out[0] = state[0] + 1.0;
		for (int i = 0; i < dim; i++)
			out[i + 1] = (double)T::ToFloat(row->x[i]);
		return result;
	}

	CheckExpectedDim(state_dim, dim);

	/* in an aggregate the state is ours to modify; otherwise build a new one */
	result = AggCheckCallContext(fcinfo, NULL) ? statearray : NewFloatArray<float8>(dim + 1);
	out = (float8 *)ARR_DATA_PTR(result);
	out[0] = state[0] + 1.0;
	for (int i = 0; i < dim; i++) {
		double v = state[i + 1] + (double)T::ToFloat(row->x[i]);

		if (std::isinf(v))
			float_overflow_error();
		out[i + 1] = v;
	}
	return result;
}

/* avg(vector) transition: add a row. */
VX_FUNCTION(vector_accum) { PG_RETURN_ARRAYTYPE_P(AccumState(fcinfo, "vector_accum", PG_GETARG_VECTOR_P(1))); }

/* avg(halfvec) transition: add a row. */
VX_FUNCTION(halfvec_accum) { PG_RETURN_ARRAYTYPE_P(AccumState(fcinfo, "halfvec_accum", PG_GETARG_HALFVEC_P(1))); }

/*
 * Merge two partial states (parallel aggregation); shared by avg(vector) and
 * avg(halfvec) since their states are alike (so its messages say "vector",
 * as pgvector's). A side without sums (the initial '{0}') yields the other
 * side; otherwise the dimensions must match. The sums' count is checked
 * against the type's limits, so a hand-made state called from SQL (an
 * oversized one, or counts without sums) is an error, never a result.
 */
VX_FUNCTION(vector_combine)
{
	ArrayType *statearray1 = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType *statearray2 = PG_GETARG_ARRAYTYPE_P(1);
	float8 *state1 = CheckStateArray(statearray1, "vector_combine");
	float8 *state2 = CheckStateArray(statearray2, "vector_combine");
	int dim1 = StateDims(statearray1);
	int dim2 = StateDims(statearray2);
	int dim = dim1 != 0 ? dim1 : dim2;
	ArrayType *result;
	float8 *out;

	if (dim != 0)
		CheckDim(dim, "vector", VECTOR_MAX_DIM);
	if (dim1 != 0 && dim2 != 0)
		CheckExpectedDim(dim1, dim2);

	/* a new array each time: either side may be a constant or the other's */
	result = NewFloatArray<float8>(dim + 1);
	out = (float8 *)ARR_DATA_PTR(result);
	out[0] = state1[0] + state2[0];
	for (int i = 1; i <= dim; i++) {
		double v = (dim1 != 0 ? state1[i] : 0.0) + (dim2 != 0 ? state2[i] : 0.0);

		if (std::isinf(v))
			float_overflow_error();
		out[i] = v;
	}
	PG_RETURN_ARRAYTYPE_P(result);
}

/*
 * avg() final function: sums / n, rounded to float and then to the element
 * type (pgvector's order of operations); nullptr for no rows.
 */
template <typename V>
static V *
AvgFromState(ArrayType *statearray, const char *caller)
{
	typedef DenseTraits<V> T;
	float8 *state = CheckStateArray(statearray, caller);
	int dim = StateDims(statearray);
	V *result;

	if (state[0] == 0.0)
		return nullptr;

	CheckDim(dim, T::kName, T::kMaxDim);
	result = T::Init(dim);
	for (int i = 0; i < dim; i++) {
		result->x[i] = T::FromFloatChecked((float)(state[i + 1] / state[0]));
		T::CheckElement(result->x[i]);
	}
	return result;
}

/* avg(vector) final; SQL defines avg of no rows as NULL. */
VX_FUNCTION(vector_avg)
{
	Vector *result = AvgFromState<Vector>(PG_GETARG_ARRAYTYPE_P(0), "vector_avg");

	if (result == nullptr)
		PG_RETURN_NULL();
	PG_RETURN_VECTOR_P(result);
}

/* avg(halfvec) final; NULL for no rows. */
VX_FUNCTION(halfvec_avg)
{
	HalfVector *result = AvgFromState<HalfVector>(PG_GETARG_ARRAYTYPE_P(0), "halfvec_avg");

	if (result == nullptr)
		PG_RETURN_NULL();
	PG_RETURN_HALFVEC_P(result);
}
