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
 *
 * The bodies are shared with vector: each SQL-callable function here is a
 * thin wrapper around a template of dense.h instantiated for HalfVector.
 */
#include "vx/pg.h"

#include "vx/types/checks.h"
#include "vx/types/dense.h"
#include "vx/types/halfvec.h"
#include "vx/types/typmod.h"

#include <cmath>

/* A zeroed halfvec of dim elements (the caller checks dim); exported for other extensions. */
HalfVector *
InitHalfVector(int dim)
{
	Size size = HALFVEC_SIZE(dim);
	HalfVector *result = (HalfVector *)palloc0(size);

	SET_VARSIZE(result, size);
	result->dim = dim;
	return result;
}

/* Text input "[1,2,3]" with optional whitespace; see DenseIn. */
VX_FUNCTION(halfvec_in) { PG_RETURN_HALFVEC_P(DenseIn<HalfVector>(PG_GETARG_CSTRING(0), PG_GETARG_INT32(2))); }

/* Text output, each element in float4out's shortest exact form. */
VX_FUNCTION(halfvec_out)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);
	char *result = DenseOut(v);

	PG_FREE_IF_COPY(v, 0);
	PG_RETURN_CSTRING(result);
}

/* halfvec(n): n in 1..HALFVEC_MAX_DIM. */
VX_FUNCTION(halfvec_typmod_in)
{
	ArrayType *ta = PG_GETARG_ARRAYTYPE_P(0);

	PG_RETURN_INT32(ParseDimensionTypmod(ta, "halfvec", HALFVEC_MAX_DIM));
}

/* Binary input; see DenseRecv. */
VX_FUNCTION(halfvec_recv)
{
	PG_RETURN_HALFVEC_P(DenseRecv<HalfVector>((StringInfo)PG_GETARG_POINTER(0), PG_GETARG_INT32(2)));
}

/* Binary output: the inverse of halfvec_recv. */
VX_FUNCTION(halfvec_send) { PG_RETURN_BYTEA_P(DenseSend(PG_GETARG_HALFVEC_P(0))); }

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
	PG_RETURN_FLOAT8(DenseDistance<DenseMetric::L2>(PG_GETARG_HALFVEC_P(0), PG_GETARG_HALFVEC_P(1)));
}

/* Squared Euclidean distance (index support: saves the sqrt). */
VX_FUNCTION(halfvec_l2_squared_distance)
{
	PG_RETURN_FLOAT8(DenseDistance<DenseMetric::L2Squared>(PG_GETARG_HALFVEC_P(0), PG_GETARG_HALFVEC_P(1)));
}

/* Inner product. */
VX_FUNCTION(halfvec_inner_product)
{
	PG_RETURN_FLOAT8(DenseDistance<DenseMetric::InnerProduct>(PG_GETARG_HALFVEC_P(0), PG_GETARG_HALFVEC_P(1)));
}

/* Negative inner product: the <#> operator, so that smaller is closer. */
VX_FUNCTION(halfvec_negative_inner_product)
{
	PG_RETURN_FLOAT8(DenseDistance<DenseMetric::NegativeInnerProduct>(PG_GETARG_HALFVEC_P(0), PG_GETARG_HALFVEC_P(1)));
}

/* Cosine distance 1 - cos(a, b); NaN if either vector is zero. */
VX_FUNCTION(halfvec_cosine_distance)
{
	PG_RETURN_FLOAT8(DenseDistance<DenseMetric::Cosine>(PG_GETARG_HALFVEC_P(0), PG_GETARG_HALFVEC_P(1)));
}

/* Angular distance of unit vectors (ivfflat spherical k-means support). */
VX_FUNCTION(halfvec_spherical_distance)
{
	PG_RETURN_FLOAT8(DenseDistance<DenseMetric::Spherical>(PG_GETARG_HALFVEC_P(0), PG_GETARG_HALFVEC_P(1)));
}

/* Taxicab distance. */
VX_FUNCTION(halfvec_l1_distance)
{
	PG_RETURN_FLOAT8(DenseDistance<DenseMetric::L1>(PG_GETARG_HALFVEC_P(0), PG_GETARG_HALFVEC_P(1)));
}

/* Number of dimensions. */
VX_FUNCTION(halfvec_vector_dims) { PG_RETURN_INT32(PG_GETARG_HALFVEC_P(0)->dim); }

/* Euclidean norm, accumulated in float8. */
VX_FUNCTION(halfvec_l2_norm) { PG_RETURN_FLOAT8(std::sqrt(DenseNormSquared(PG_GETARG_HALFVEC_P(0)))); }

/* a / |a|, each quotient rounded to float and then to half; the zero vector stays zero. */
VX_FUNCTION(halfvec_l2_normalize) { PG_RETURN_HALFVEC_P(DenseNormalize(PG_GETARG_HALFVEC_P(0))); }

/* One bit per element, set where the element is > 0 (MSB first). */
VX_FUNCTION(halfvec_binary_quantize) { PG_RETURN_VARBIT_P(DenseBinaryQuantize(PG_GETARG_HALFVEC_P(0))); }

/* Elements start .. start + count - 1 (1-based), clipped to the vector. */
VX_FUNCTION(halfvec_subvector)
{
	PG_RETURN_HALFVEC_P(DenseSubvector(PG_GETARG_HALFVEC_P(0), PG_GETARG_INT32(1), PG_GETARG_INT32(2)));
}

/* a + b */
VX_FUNCTION(halfvec_add) { PG_RETURN_HALFVEC_P(DenseArith<'+'>(PG_GETARG_HALFVEC_P(0), PG_GETARG_HALFVEC_P(1))); }

/* a - b */
VX_FUNCTION(halfvec_sub) { PG_RETURN_HALFVEC_P(DenseArith<'-'>(PG_GETARG_HALFVEC_P(0), PG_GETARG_HALFVEC_P(1))); }

/* Element-wise a * b. */
VX_FUNCTION(halfvec_mul) { PG_RETURN_HALFVEC_P(DenseArith<'*'>(PG_GETARG_HALFVEC_P(0), PG_GETARG_HALFVEC_P(1))); }

/* a || b */
VX_FUNCTION(halfvec_concat) { PG_RETURN_HALFVEC_P(DenseConcat(PG_GETARG_HALFVEC_P(0), PG_GETARG_HALFVEC_P(1))); }

/* The comparison operators, all through DenseCmp. */
VX_CMP_FUNCTION(halfvec_lt, DenseCmp, PG_GETARG_HALFVEC_P, c < 0)
VX_CMP_FUNCTION(halfvec_le, DenseCmp, PG_GETARG_HALFVEC_P, c <= 0)
VX_CMP_FUNCTION(halfvec_eq, DenseCmp, PG_GETARG_HALFVEC_P, c == 0)
VX_CMP_FUNCTION(halfvec_ne, DenseCmp, PG_GETARG_HALFVEC_P, c != 0)
VX_CMP_FUNCTION(halfvec_ge, DenseCmp, PG_GETARG_HALFVEC_P, c >= 0)
VX_CMP_FUNCTION(halfvec_gt, DenseCmp, PG_GETARG_HALFVEC_P, c > 0)

/* btree support function 1. */
VX_FUNCTION(halfvec_cmp) { PG_RETURN_INT32(DenseCmp(PG_GETARG_HALFVEC_P(0), PG_GETARG_HALFVEC_P(1))); }
