/*
 * vector.cpp -- the `vector` type: I/O, typmod, distances and operators.
 *
 * A vector is {varlena header, int16 dim, int16 unused = 0, float4 x[dim]},
 * byte-identical to pgvector 0.8, with 1 <= dim <= VECTOR_MAX_DIM and every
 * element finite. Every constructor below (text, binary, arithmetic) keeps
 * those invariants, so functions that only read vectors trust them.
 *
 * The bodies are shared with halfvec: each SQL-callable function here is a
 * thin wrapper around a template of dense.h instantiated for Vector.
 *
 * Distances call the active KernelTable once per call (no fmgr per element)
 * and, like pgvector, accumulate in float32 and return float8. vector_norm
 * and l2_normalize accumulate in float8 instead, because pgvector does and
 * their results are visible to users digit for digit.
 */
#include "vx/pg.h"

#include "vx/types/checks.h"
#include "vx/types/dense.h"
#include "vx/types/typmod.h"
#include "vx/types/vector.h"

#include <cmath>

/* A zeroed vector of dim elements (the caller checks dim); exported for other extensions. */
Vector *
InitVector(int dim)
{
	Size size = VECTOR_SIZE(dim);
	Vector *result = (Vector *)palloc0(size);

	SET_VARSIZE(result, size);
	result->dim = dim;
	return result;
}

/* Log "msg = [...]" at INFO; exported (pgvector's debugging aid). */
void
PrintVector(char *msg, Vector *vector)
{
	char *out = DenseOut(vector);

	elog(INFO, "%s = %s", msg, out);
	pfree(out);
}

/* The btree order (DenseCmp); exported for other extensions. */
int
vector_cmp_internal(Vector *a, Vector *b)
{
	return DenseCmp(a, b);
}

/* Text input "[1,2,3]" with optional whitespace; see DenseIn. */
VX_FUNCTION(vector_in) { PG_RETURN_VECTOR_P(DenseIn<Vector>(PG_GETARG_CSTRING(0), PG_GETARG_INT32(2))); }

/* Text output, each element in float4out's shortest exact form. */
VX_FUNCTION(vector_out)
{
	Vector *v = PG_GETARG_VECTOR_P(0);
	char *result = DenseOut(v);

	PG_FREE_IF_COPY(v, 0);
	PG_RETURN_CSTRING(result);
}

/* vector(n): n in 1..VECTOR_MAX_DIM. */
VX_FUNCTION(vector_typmod_in)
{
	ArrayType *ta = PG_GETARG_ARRAYTYPE_P(0);

	PG_RETURN_INT32(ParseDimensionTypmod(ta, "vector", VECTOR_MAX_DIM));
}

/* Binary input; see DenseRecv. */
VX_FUNCTION(vector_recv)
{
	PG_RETURN_VECTOR_P(DenseRecv<Vector>((StringInfo)PG_GETARG_POINTER(0), PG_GETARG_INT32(2)));
}

/* Binary output: the inverse of vector_recv. */
VX_FUNCTION(vector_send) { PG_RETURN_BYTEA_P(DenseSend(PG_GETARG_VECTOR_P(0))); }

/* Cast vector to vector(n): only checks the dimension. */
VX_FUNCTION(vector)
{
	Vector *vec = PG_GETARG_VECTOR_P(0);
	int32 typmod = PG_GETARG_INT32(1);

	CheckExpectedDim(typmod, vec->dim);
	PG_RETURN_VECTOR_P(vec);
}

/* Euclidean distance. */
VX_FUNCTION(l2_distance)
{
	PG_RETURN_FLOAT8(DenseDistance<DenseMetric::L2>(PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1)));
}

/* Squared Euclidean distance (index support: saves the sqrt). */
VX_FUNCTION(vector_l2_squared_distance)
{
	PG_RETURN_FLOAT8(DenseDistance<DenseMetric::L2Squared>(PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1)));
}

/* Inner product. */
VX_FUNCTION(inner_product)
{
	PG_RETURN_FLOAT8(DenseDistance<DenseMetric::InnerProduct>(PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1)));
}

/* Negative inner product: the <#> operator, so that smaller is closer. */
VX_FUNCTION(vector_negative_inner_product)
{
	PG_RETURN_FLOAT8(DenseDistance<DenseMetric::NegativeInnerProduct>(PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1)));
}

/* Cosine distance 1 - cos(a, b); NaN if either vector is zero. */
VX_FUNCTION(cosine_distance)
{
	PG_RETURN_FLOAT8(DenseDistance<DenseMetric::Cosine>(PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1)));
}

/* Angular distance of unit vectors (ivfflat spherical k-means support). */
VX_FUNCTION(vector_spherical_distance)
{
	PG_RETURN_FLOAT8(DenseDistance<DenseMetric::Spherical>(PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1)));
}

/* Taxicab distance. */
VX_FUNCTION(l1_distance)
{
	PG_RETURN_FLOAT8(DenseDistance<DenseMetric::L1>(PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1)));
}

/* Number of dimensions. */
VX_FUNCTION(vector_dims) { PG_RETURN_INT32(PG_GETARG_VECTOR_P(0)->dim); }

/* Euclidean norm, accumulated in float8. */
VX_FUNCTION(vector_norm) { PG_RETURN_FLOAT8(std::sqrt(DenseNormSquared(PG_GETARG_VECTOR_P(0)))); }

/* a / |a|; the zero vector stays zero. */
VX_FUNCTION(l2_normalize) { PG_RETURN_VECTOR_P(DenseNormalize(PG_GETARG_VECTOR_P(0))); }

/* One bit per element, set where the element is > 0 (MSB first). */
VX_FUNCTION(binary_quantize) { PG_RETURN_VARBIT_P(DenseBinaryQuantize(PG_GETARG_VECTOR_P(0))); }

/* Elements start .. start + count - 1 (1-based), clipped to the vector. */
VX_FUNCTION(subvector)
{
	PG_RETURN_VECTOR_P(DenseSubvector(PG_GETARG_VECTOR_P(0), PG_GETARG_INT32(1), PG_GETARG_INT32(2)));
}

/* a + b */
VX_FUNCTION(vector_add) { PG_RETURN_VECTOR_P(DenseArith<'+'>(PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1))); }

/* a - b */
VX_FUNCTION(vector_sub) { PG_RETURN_VECTOR_P(DenseArith<'-'>(PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1))); }

/* Element-wise a * b. */
VX_FUNCTION(vector_mul) { PG_RETURN_VECTOR_P(DenseArith<'*'>(PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1))); }

/* a || b */
VX_FUNCTION(vector_concat) { PG_RETURN_VECTOR_P(DenseConcat(PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1))); }

/* The comparison operators, all through DenseCmp. */
VX_CMP_FUNCTION(vector_lt, DenseCmp, PG_GETARG_VECTOR_P, c < 0)
VX_CMP_FUNCTION(vector_le, DenseCmp, PG_GETARG_VECTOR_P, c <= 0)
VX_CMP_FUNCTION(vector_eq, DenseCmp, PG_GETARG_VECTOR_P, c == 0)
VX_CMP_FUNCTION(vector_ne, DenseCmp, PG_GETARG_VECTOR_P, c != 0)
VX_CMP_FUNCTION(vector_ge, DenseCmp, PG_GETARG_VECTOR_P, c >= 0)
VX_CMP_FUNCTION(vector_gt, DenseCmp, PG_GETARG_VECTOR_P, c > 0)

/* btree support function 1. */
VX_FUNCTION(vector_cmp) { PG_RETURN_INT32(DenseCmp(PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1))); }
