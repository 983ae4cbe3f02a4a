/*
 * bitvec.cpp -- distance functions on PostgreSQL's `bit` type (pgvector 0.8):
 * hamming_distance (<~>) and jaccard_distance (<%>).
 *
 * Both operands must have the same bit length. PostgreSQL keeps the padding
 * bits of the last byte zero (VARBIT_PAD), so the kernels can count whole
 * bytes. The popcount kernels come from the active KernelTable (SIMD where the
 * CPU has it); the Jaccard ratio is formed here in float64, and two strings
 * with no set bit in common (including two empty or all-zero strings) are at
 * distance 1, as in pgvector.
 */
#include "vx/pg.h"

#include "vx/kernels/kernels.hpp"

/* Error unless both bit strings have the same length. */
static inline void
BitCheckDims(VarBit *a, VarBit *b)
{
	if (VARBITLEN(a) != VARBITLEN(b))
		ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
						errmsg("different bit lengths %u and %u", VARBITLEN(a), VARBITLEN(b))));
}

/* hamming_distance(bit, bit): number of differing bits. */
VX_FUNCTION(hamming_distance)
{
	VarBit *a = PG_GETARG_VARBIT_P(0);
	VarBit *b = PG_GETARG_VARBIT_P(1);
	uint64 distance;

	BitCheckDims(a, b);

	distance = vx::kernels::active().hamming(VARBITS(a), VARBITS(b), VARBITBYTES(a));

	PG_RETURN_FLOAT8((double) distance);
}

/* jaccard_distance(bit, bit): 1 - |a & b| / |a | b|, or 1 when a & b is empty. */
VX_FUNCTION(jaccard_distance)
{
	VarBit *a = PG_GETARG_VARBIT_P(0);
	VarBit *b = PG_GETARG_VARBIT_P(1);
	vx::kernels::JaccardCounts counts;

	BitCheckDims(a, b);

	counts = vx::kernels::active().jaccard(VARBITS(a), VARBITS(b), VARBITBYTES(a));

	if (counts.both == 0)
		PG_RETURN_FLOAT8(1.0);

	PG_RETURN_FLOAT8(1.0 - (double) counts.both / (double) (counts.a + counts.b - counts.both));
}
