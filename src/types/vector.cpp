/*
 * vector.cpp -- the `vector` type: I/O, typmod, distances and operators.
 *
 * A vector is {varlena header, int16 dim, int16 unused = 0, float4 x[dim]},
 * byte-identical to pgvector 0.8, with 1 <= dim <= VECTOR_MAX_DIM and every
 * element finite. Every constructor below (text, binary, arithmetic) keeps
 * those invariants, so functions that only read vectors trust them.
 *
 * Distances call the active KernelTable once per call (no fmgr per element)
 * and, like pgvector, accumulate in float32 and return float8. vector_norm
 * and l2_normalize accumulate in float8 instead, because pgvector does and
 * their results are visible to users digit for digit.
 */
#include "vx/pg.h"

#include "vx/kernels/kernels.hpp"
#include "vx/types/checks.h"
#include "vx/types/dense.h"
#include "vx/types/typmod.h"
#include "vx/types/vector.h"

#include <cmath>
#include <cstring>

#define VECTOR_NAME "vector"

/* Both operands of a vector operator have the same dimensions. */
static inline void
CheckVectorDims(const Vector *a, const Vector *b)
{
	CheckSameDims(a->dim, b->dim, VECTOR_NAME);
}

/* Text to vector: "[1,2,3]" with optional whitespace; see ParseDenseText. */
VX_FUNCTION(vector_in)
{
	char *lit = PG_GETARG_CSTRING(0);
	int32 typmod = PG_GETARG_INT32(2);
	Vector *result = InitVector(DenseTextCapacity(lit, VECTOR_MAX_DIM));
	float *x = result->x;
	int dim;

	dim = ParseDenseText(lit, VECTOR_NAME, VECTOR_MAX_DIM, [x](int i, float value, const char *start, const char *end) {
		/* strtof overflow; an underflow to 0 or a denormal is accepted, as in pgvector */
		if (errno == ERANGE && std::isinf(value))
			ReportTextOutOfRange(VECTOR_NAME, start, end);
		CheckFloatElement(value, VECTOR_NAME);
		x[i] = value;
	});
	CheckExpectedDim(typmod, dim);

	/* shrink to the parsed size (the allocation may hold a few extra elements) */
	SET_VARSIZE(result, VECTOR_SIZE(dim));
	result->dim = dim;
	PG_RETURN_VECTOR_P(result);
}

/* Vector to text, each element in float4out's shortest exact form. */
VX_FUNCTION(vector_out)
{
	Vector *vector = PG_GETARG_VECTOR_P(0);
	const float *x = vector->x;
	char *result = FormatDenseText(vector->dim, [x](int i) { return x[i]; });

	PG_FREE_IF_COPY(vector, 0);
	PG_RETURN_CSTRING(result);
}

/* vector(n): n in 1..VECTOR_MAX_DIM. */
VX_FUNCTION(vector_typmod_in)
{
	ArrayType *ta = PG_GETARG_ARRAYTYPE_P(0);

	PG_RETURN_INT32(ParseDimensionTypmod(ta, VECTOR_NAME, VECTOR_MAX_DIM));
}

/* Binary input: int16 dim, int16 unused (0), dim big-endian float4. */
VX_FUNCTION(vector_recv)
{
	StringInfo buf = (StringInfo)PG_GETARG_POINTER(0);
	int32 typmod = PG_GETARG_INT32(2);
	int dim = RecvDenseHeader(buf, typmod, VECTOR_NAME, VECTOR_MAX_DIM);
	Vector *result = InitVector(dim);

	for (int i = 0; i < dim; i++) {
		const char *p = RecvRawBytes(buf, sizeof(uint32));
		float value;

		if (p != nullptr) {
			uint32 bits;

			memcpy(&bits, p, sizeof(bits));
			bits = pg_ntoh32(bits);
			memcpy(&value, &bits, sizeof(value));
		} else
			value = pq_getmsgfloat4(buf); /* raises "insufficient data left in message" */

		CheckFloatElement(value, VECTOR_NAME);
		result->x[i] = value;
	}
	PG_RETURN_VECTOR_P(result);
}

/* Binary output: the inverse of vector_recv. */
VX_FUNCTION(vector_send)
{
	Vector *vec = PG_GETARG_VECTOR_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	enlargeStringInfo(&buf, 2 * sizeof(int16) + vec->dim * sizeof(float));
	pq_writeint16(&buf, (uint16)vec->dim);
	pq_writeint16(&buf, (uint16)vec->unused);
	for (int i = 0; i < vec->dim; i++) {
		uint32 bits;

		memcpy(&bits, &vec->x[i], sizeof(bits));
		pq_writeint32(&buf, bits);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

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
	Vector *a = PG_GETARG_VECTOR_P(0);
	Vector *b = PG_GETARG_VECTOR_P(1);

	CheckVectorDims(a, b);
	PG_RETURN_FLOAT8(std::sqrt((double)vx::kernels::active().l2sq_f32(a->x, b->x, a->dim)));
}

/* Squared Euclidean distance (index support: saves the sqrt). */
VX_FUNCTION(vector_l2_squared_distance)
{
	Vector *a = PG_GETARG_VECTOR_P(0);
	Vector *b = PG_GETARG_VECTOR_P(1);

	CheckVectorDims(a, b);
	PG_RETURN_FLOAT8((double)vx::kernels::active().l2sq_f32(a->x, b->x, a->dim));
}

/* Inner product. */
VX_FUNCTION(inner_product)
{
	Vector *a = PG_GETARG_VECTOR_P(0);
	Vector *b = PG_GETARG_VECTOR_P(1);

	CheckVectorDims(a, b);
	PG_RETURN_FLOAT8((double)vx::kernels::active().ip_f32(a->x, b->x, a->dim));
}

/* Negative inner product: the <#> operator, so that smaller is closer. */
VX_FUNCTION(vector_negative_inner_product)
{
	Vector *a = PG_GETARG_VECTOR_P(0);
	Vector *b = PG_GETARG_VECTOR_P(1);

	CheckVectorDims(a, b);
	PG_RETURN_FLOAT8((double)-vx::kernels::active().ip_f32(a->x, b->x, a->dim));
}

/* Cosine distance 1 - cos(a, b); NaN if either vector is zero. */
VX_FUNCTION(cosine_distance)
{
	Vector *a = PG_GETARG_VECTOR_P(0);
	Vector *b = PG_GETARG_VECTOR_P(1);

	CheckVectorDims(a, b);
	PG_RETURN_FLOAT8(CosineDistanceFromParts(vx::kernels::active().cosine_f32(a->x, b->x, a->dim)));
}

/* Angular distance of unit vectors (ivfflat spherical k-means support). */
VX_FUNCTION(vector_spherical_distance)
{
	Vector *a = PG_GETARG_VECTOR_P(0);
	Vector *b = PG_GETARG_VECTOR_P(1);

	CheckVectorDims(a, b);
	PG_RETURN_FLOAT8(SphericalDistanceFromIp(vx::kernels::active().ip_f32(a->x, b->x, a->dim)));
}

/* Taxicab distance. */
VX_FUNCTION(l1_distance)
{
	Vector *a = PG_GETARG_VECTOR_P(0);
	Vector *b = PG_GETARG_VECTOR_P(1);

	CheckVectorDims(a, b);
	PG_RETURN_FLOAT8((double)vx::kernels::active().l1_f32(a->x, b->x, a->dim));
}

/* Number of dimensions. */
VX_FUNCTION(vector_dims)
{
	Vector *a = PG_GETARG_VECTOR_P(0);

	PG_RETURN_INT32(a->dim);
}

/* Sum of squares in float8 (pgvector's norm precision). */
static double
VectorNormSquared(const Vector *a)
{
	double norm = 0;

	for (int i = 0; i < a->dim; i++)
		norm += (double)a->x[i] * (double)a->x[i];
	return norm;
}

/* Euclidean norm. */
VX_FUNCTION(vector_norm)
{
	Vector *a = PG_GETARG_VECTOR_P(0);

	PG_RETURN_FLOAT8(std::sqrt(VectorNormSquared(a)));
}

/* a / |a|; the zero vector stays zero. */
VX_FUNCTION(l2_normalize)
{
	Vector *a = PG_GETARG_VECTOR_P(0);
	double norm = std::sqrt(VectorNormSquared(a));
	Vector *result = InitVector(a->dim);

	if (norm > 0) {
		for (int i = 0; i < a->dim; i++)
			result->x[i] = (float)(a->x[i] / norm);

		/* denormal inputs can have a norm so small that the quotient overflows */
		for (int i = 0; i < a->dim; i++)
			if (std::isinf(result->x[i]))
				float_overflow_error();
	}
	PG_RETURN_VECTOR_P(result);
}

/* One bit per element, set where the element is > 0 (bit i is element i, MSB first). */
VX_FUNCTION(binary_quantize)
{
	Vector *a = PG_GETARG_VECTOR_P(0);
	VarBit *result = InitBitVector(a->dim);
	unsigned char *rx = VARBITS(result);

	for (int i = 0; i < a->dim; i++)
		rx[i / 8] |= (unsigned char)((a->x[i] > 0) << (7 - (i % 8)));
	PG_RETURN_VARBIT_P(result);
}

/* Elements start .. start + count - 1 (1-based), clipped to the vector. */
VX_FUNCTION(subvector)
{
	Vector *a = PG_GETARG_VECTOR_P(0);
	int first;
	int dim = SubvectorBounds(a->dim, PG_GETARG_INT32(1), PG_GETARG_INT32(2), VECTOR_NAME, VECTOR_MAX_DIM, &first);
	Vector *result = InitVector(dim);

	memcpy(result->x, a->x + first, dim * sizeof(float));
	PG_RETURN_VECTOR_P(result);
}

/* Element-wise a op b, with PG's float overflow (and for op = *, underflow) errors. */
template <char Op>
static Vector *
VectorArith(const Vector *a, const Vector *b)
{
	const float *ax = a->x;
	const float *bx = b->x;
	Vector *result;
	float *rx;
	int dim = a->dim;

	CheckVectorDims(a, b);
	result = InitVector(dim);
	rx = result->x;

	/* branch-free loops the compiler can vectorize; checks in a second pass */
	for (int i = 0; i < dim; i++)
		rx[i] = Op == '+' ? ax[i] + bx[i] : Op == '-' ? ax[i] - bx[i] : ax[i] * bx[i];

	for (int i = 0; i < dim; i++) {
		if (std::isinf(rx[i]))
			float_overflow_error();
		if (Op == '*' && rx[i] == 0 && !(ax[i] == 0 || bx[i] == 0))
			float_underflow_error();
	}
	return result;
}

/* a + b */
VX_FUNCTION(vector_add) { PG_RETURN_VECTOR_P(VectorArith<'+'>(PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1))); }

/* a - b */
VX_FUNCTION(vector_sub) { PG_RETURN_VECTOR_P(VectorArith<'-'>(PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1))); }

/* Element-wise a * b. */
VX_FUNCTION(vector_mul) { PG_RETURN_VECTOR_P(VectorArith<'*'>(PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1))); }

/* a || b */
VX_FUNCTION(vector_concat)
{
	Vector *a = PG_GETARG_VECTOR_P(0);
	Vector *b = PG_GETARG_VECTOR_P(1);
	int dim = a->dim + b->dim;
	Vector *result;

	CheckDim(dim, VECTOR_NAME, VECTOR_MAX_DIM);
	result = InitVector(dim);
	memcpy(result->x, a->x, a->dim * sizeof(float));
	memcpy(result->x + a->dim, b->x, b->dim * sizeof(float));
	PG_RETURN_VECTOR_P(result);
}

/*
 * Total order for btree: element by element, then the shorter vector first
 * (like PG arrays), so vectors of different dimensions compare too.
 */
static int
VectorCmp(const Vector *a, const Vector *b)
{
	int dim = Min(a->dim, b->dim);

	for (int i = 0; i < dim; i++) {
		if (a->x[i] < b->x[i])
			return -1;
		if (a->x[i] > b->x[i])
			return 1;
	}
	return (a->dim > b->dim) - (a->dim < b->dim);
}

/* The comparison operators, all through VectorCmp. */
#define VECTOR_CMP_FUNCTION(name, test)                                                                                \
	VX_FUNCTION(name)                                                                                                  \
	{                                                                                                                  \
		int c = VectorCmp(PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1));                                               \
		PG_RETURN_BOOL(test);                                                                                          \
	}

VECTOR_CMP_FUNCTION(vector_lt, c < 0)
VECTOR_CMP_FUNCTION(vector_le, c <= 0)
VECTOR_CMP_FUNCTION(vector_eq, c == 0)
VECTOR_CMP_FUNCTION(vector_ne, c != 0)
VECTOR_CMP_FUNCTION(vector_ge, c >= 0)
VECTOR_CMP_FUNCTION(vector_gt, c > 0)

/* btree support function 1. */
VX_FUNCTION(vector_cmp) { PG_RETURN_INT32(VectorCmp(PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1))); }
