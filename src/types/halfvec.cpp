/*
 * halfvec.cpp -- the `halfvec` type: I/O, typmod, distances and operators.
 *
 * A halfvec is {varlena header, int16 dim, int16 unused = 0, half x[dim]}
 * with IEEE binary16 elements stored as raw bits, byte-identical to pgvector
 * 0.8, with 1 <= dim <= HALFVEC_MAX_DIM and every element finite. Values
 * enter through float (text is read with strtof, then rounded to nearest
 * even half); a finite value beyond half's range (|x| >= 65520) is an error,
 * never a silent infinity.
 *
 * Distances call the active KernelTable's f16 kernels once per call; they
 * widen to float32 and accumulate in float32 like pgvector. Arithmetic is done
 * in float and rounded once to half, which gives the correctly rounded half
 * result (float has more than 2 * 11 + 2 significand bits).
 */
#include "vx/pg.h"

#include "vx/kernels/kernels.hpp"
#include "vx/types/checks.h"
#include "vx/types/dense.h"
#include "vx/types/halfvec.h"
#include "vx/types/typmod.h"

#include <cmath>
#include <cstring>

#define HALFVEC_NAME "halfvec"

using vx::kernels::float_to_half;
using vx::kernels::half_to_float;

/* Both operands of a halfvec operator have the same dimensions. */
static inline void
CheckHalfvecDims(const HalfVector *a, const HalfVector *b)
{
	CheckSameDims(a->dim, b->dim, HALFVEC_NAME);
}

/* Text to halfvec: vector's syntax; each number is read as float, then rounded to half. */
VX_FUNCTION(halfvec_in)
{
	char *lit = PG_GETARG_CSTRING(0);
	int32 typmod = PG_GETARG_INT32(2);
	HalfVector *result = InitHalfVector(DenseTextCapacity(lit, HALFVEC_MAX_DIM));
	half *x = result->x;
	int dim;

	dim =
		ParseDenseText(lit, HALFVEC_NAME, HALFVEC_MAX_DIM, [x](int i, float value, const char *start, const char *end) {
			half h = float_to_half(value);

			/* beyond float, or finite but beyond half: quoted as written */
			if ((errno == ERANGE && std::isinf(value)) || (HalfIsInf(h) && !std::isinf(value)))
				ReportTextOutOfRange(HALFVEC_NAME, start, end);
			CheckHalfElement(h);
			x[i] = h;
		});
	CheckExpectedDim(typmod, dim);

	/* shrink to the parsed size (the allocation may hold a few extra elements) */
	SET_VARSIZE(result, HALFVEC_SIZE(dim));
	result->dim = dim;
	PG_RETURN_HALFVEC_P(result);
}

/* Halfvec to text: each element widened to float, in float4out's shortest form. */
VX_FUNCTION(halfvec_out)
{
	HalfVector *vector = PG_GETARG_HALFVEC_P(0);
	const half *x = vector->x;
	char *result = FormatDenseText(vector->dim, [x](int i) { return half_to_float(x[i]); });

	PG_FREE_IF_COPY(vector, 0);
	PG_RETURN_CSTRING(result);
}

/* halfvec(n): n in 1..HALFVEC_MAX_DIM. */
VX_FUNCTION(halfvec_typmod_in)
{
	ArrayType *ta = PG_GETARG_ARRAYTYPE_P(0);

	PG_RETURN_INT32(ParseDimensionTypmod(ta, HALFVEC_NAME, HALFVEC_MAX_DIM));
}

/* Binary input: int16 dim, int16 unused (0), dim big-endian half bit patterns. */
VX_FUNCTION(halfvec_recv)
{
	StringInfo buf = (StringInfo)PG_GETARG_POINTER(0);
	int32 typmod = PG_GETARG_INT32(2);
	int dim = RecvDenseHeader(buf, typmod, HALFVEC_NAME, HALFVEC_MAX_DIM);
	HalfVector *result = InitHalfVector(dim);

	for (int i = 0; i < dim; i++) {
		const char *p = RecvRawBytes(buf, sizeof(uint16));
		half value;

		if (p != nullptr) {
			uint16 bits;

			memcpy(&bits, p, sizeof(bits));
			value = pg_ntoh16(bits);
		} else
			value = (half)pq_getmsgint(buf, sizeof(uint16)); /* raises "insufficient data left in message" */

		CheckHalfElement(value);
		result->x[i] = value;
	}
	PG_RETURN_HALFVEC_P(result);
}

/* Binary output: the inverse of halfvec_recv. */
VX_FUNCTION(halfvec_send)
{
	HalfVector *vec = PG_GETARG_HALFVEC_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	enlargeStringInfo(&buf, 2 * sizeof(int16) + vec->dim * sizeof(half));
	pq_writeint16(&buf, (uint16)vec->dim);
	pq_writeint16(&buf, (uint16)vec->unused);
	for (int i = 0; i < vec->dim; i++)
		pq_writeint16(&buf, vec->x[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Cast halfvec to halfvec(n): only checks the dimension. */
VX_FUNCTION(halfvec)
{
	HalfVector *vec = PG_GETARG_HALFVEC_P(0);
	int32 typmod = PG_GETARG_INT32(1);

	CheckExpectedDim(typmod, vec->dim);
	PG_RETURN_HALFVEC_P(vec);
}

/* Euclidean distance. */
VX_FUNCTION(halfvec_l2_distance)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);

	CheckHalfvecDims(a, b);
	PG_RETURN_FLOAT8(std::sqrt((double)vx::kernels::active().l2sq_f16(a->x, b->x, a->dim)));
}

/* Squared Euclidean distance (index support: saves the sqrt). */
VX_FUNCTION(halfvec_l2_squared_distance)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);

	CheckHalfvecDims(a, b);
	PG_RETURN_FLOAT8((double)vx::kernels::active().l2sq_f16(a->x, b->x, a->dim));
}

/* Inner product. */
VX_FUNCTION(halfvec_inner_product)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);

	CheckHalfvecDims(a, b);
	PG_RETURN_FLOAT8((double)vx::kernels::active().ip_f16(a->x, b->x, a->dim));
}

/* Negative inner product: the <#> operator. */
VX_FUNCTION(halfvec_negative_inner_product)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);

	CheckHalfvecDims(a, b);
	PG_RETURN_FLOAT8((double)-vx::kernels::active().ip_f16(a->x, b->x, a->dim));
}

/* Cosine distance 1 - cos(a, b); NaN if either vector is zero. */
VX_FUNCTION(halfvec_cosine_distance)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);

	CheckHalfvecDims(a, b);
	PG_RETURN_FLOAT8(CosineDistanceFromParts(vx::kernels::active().cosine_f16(a->x, b->x, a->dim)));
}

/* Angular distance of unit vectors (ivfflat spherical k-means support). */
VX_FUNCTION(halfvec_spherical_distance)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);

	CheckHalfvecDims(a, b);
	PG_RETURN_FLOAT8(SphericalDistanceFromIp(vx::kernels::active().ip_f16(a->x, b->x, a->dim)));
}

/* Taxicab distance. */
VX_FUNCTION(halfvec_l1_distance)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);

	CheckHalfvecDims(a, b);
	PG_RETURN_FLOAT8((double)vx::kernels::active().l1_f16(a->x, b->x, a->dim));
}

/* Number of dimensions. */
VX_FUNCTION(halfvec_vector_dims)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);

	PG_RETURN_INT32(a->dim);
}

/* Sum of squares in float8 (pgvector's norm precision). */
static double
HalfvecNormSquared(const HalfVector *a)
{
	double norm = 0;

	for (int i = 0; i < a->dim; i++) {
		double v = (double)half_to_float(a->x[i]);

		norm += v * v;
	}
	return norm;
}

/* Euclidean norm. */
VX_FUNCTION(halfvec_l2_norm)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);

	PG_RETURN_FLOAT8(std::sqrt(HalfvecNormSquared(a)));
}

/* a / |a|, each quotient rounded to float and then to half; zero stays zero. */
VX_FUNCTION(halfvec_l2_normalize)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	double norm = std::sqrt(HalfvecNormSquared(a));
	HalfVector *result = InitHalfVector(a->dim);

	if (norm > 0) {
		for (int i = 0; i < a->dim; i++)
			result->x[i] = float_to_half((float)(half_to_float(a->x[i]) / norm));

		for (int i = 0; i < a->dim; i++)
			if (HalfIsInf(result->x[i]))
				float_overflow_error();
	}
	PG_RETURN_HALFVEC_P(result);
}

/* One bit per element, set where the element is > 0 (MSB first). */
VX_FUNCTION(halfvec_binary_quantize)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	VarBit *result = InitBitVector(a->dim);
	unsigned char *rx = VARBITS(result);

	/* x > 0 for a finite half: sign bit clear and not (+)0 */
	for (int i = 0; i < a->dim; i++)
		rx[i / 8] |= (unsigned char)((a->x[i] - 1u < 0x7fffu) << (7 - (i % 8)));
	PG_RETURN_VARBIT_P(result);
}

/* Elements start .. start + count - 1 (1-based), clipped to the vector. */
VX_FUNCTION(halfvec_subvector)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	int first;
	int dim = SubvectorBounds(a->dim, PG_GETARG_INT32(1), PG_GETARG_INT32(2), HALFVEC_NAME, HALFVEC_MAX_DIM, &first);
	HalfVector *result = InitHalfVector(dim);

	memcpy(result->x, a->x + first, dim * sizeof(half));
	PG_RETURN_HALFVEC_P(result);
}

/* Element-wise a op b in float, rounded to half; overflow (and for *, underflow) errors. */
template <char Op>
static HalfVector *
HalfvecArith(const HalfVector *a, const HalfVector *b)
{
	const half *ax = a->x;
	const half *bx = b->x;
	HalfVector *result;
	half *rx;
	int dim = a->dim;

	CheckHalfvecDims(a, b);
	result = InitHalfVector(dim);
	rx = result->x;

	for (int i = 0; i < dim; i++) {
		float x = half_to_float(ax[i]);
		float y = half_to_float(bx[i]);

		rx[i] = float_to_half(Op == '+' ? x + y : Op == '-' ? x - y : x * y);
	}

	for (int i = 0; i < dim; i++) {
		if (HalfIsInf(rx[i]))
			float_overflow_error();
		if (Op == '*' && HalfIsZero(rx[i]) && !(HalfIsZero(ax[i]) || HalfIsZero(bx[i])))
			float_underflow_error();
	}
	return result;
}

/* a + b */
VX_FUNCTION(halfvec_add) { PG_RETURN_HALFVEC_P(HalfvecArith<'+'>(PG_GETARG_HALFVEC_P(0), PG_GETARG_HALFVEC_P(1))); }

/* a - b */
VX_FUNCTION(halfvec_sub) { PG_RETURN_HALFVEC_P(HalfvecArith<'-'>(PG_GETARG_HALFVEC_P(0), PG_GETARG_HALFVEC_P(1))); }

/* Element-wise a * b. */
VX_FUNCTION(halfvec_mul) { PG_RETURN_HALFVEC_P(HalfvecArith<'*'>(PG_GETARG_HALFVEC_P(0), PG_GETARG_HALFVEC_P(1))); }

/* a || b */
VX_FUNCTION(halfvec_concat)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);
	int dim = a->dim + b->dim;
	HalfVector *result;

	CheckDim(dim, HALFVEC_NAME, HALFVEC_MAX_DIM);
	result = InitHalfVector(dim);
	memcpy(result->x, a->x, a->dim * sizeof(half));
	memcpy(result->x + a->dim, b->x, b->dim * sizeof(half));
	PG_RETURN_HALFVEC_P(result);
}

/*
 * An integer with the same order as the value of a non-NaN half (sign and
 * magnitude to two's complement); -0 and +0 both map to 0.
 */
static inline int
HalfOrderKey(half h)
{
	int magnitude = h & 0x7fff;

	return (h & 0x8000) ? -magnitude : magnitude;
}

/* Total order for btree: by element values, then the shorter halfvec first. */
static int
HalfvecCmp(const HalfVector *a, const HalfVector *b)
{
	int dim = Min(a->dim, b->dim);

	for (int i = 0; i < dim; i++) {
		int x = HalfOrderKey(a->x[i]);
		int y = HalfOrderKey(b->x[i]);

		if (x < y)
			return -1;
		if (x > y)
			return 1;
	}
	return (a->dim > b->dim) - (a->dim < b->dim);
}

/* The comparison operators, all through HalfvecCmp. */
#define HALFVEC_CMP_FUNCTION(name, test)                                                                               \
	VX_FUNCTION(name)                                                                                                  \
	{                                                                                                                  \
		int c = HalfvecCmp(PG_GETARG_HALFVEC_P(0), PG_GETARG_HALFVEC_P(1));                                            \
		PG_RETURN_BOOL(test);                                                                                          \
	}

HALFVEC_CMP_FUNCTION(halfvec_lt, c < 0)
HALFVEC_CMP_FUNCTION(halfvec_le, c <= 0)
HALFVEC_CMP_FUNCTION(halfvec_eq, c == 0)
HALFVEC_CMP_FUNCTION(halfvec_ne, c != 0)
HALFVEC_CMP_FUNCTION(halfvec_ge, c >= 0)
HALFVEC_CMP_FUNCTION(halfvec_gt, c > 0)

/* btree support function 1. */
VX_FUNCTION(halfvec_cmp) { PG_RETURN_INT32(HalfvecCmp(PG_GETARG_HALFVEC_P(0), PG_GETARG_HALFVEC_P(1))); }
