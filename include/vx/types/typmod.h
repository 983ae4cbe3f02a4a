/*
 * typmod.h -- the dimension type modifier shared by vector, halfvec, sparsevec.
 */
#ifndef VX_TYPES_TYPMOD_H
#define VX_TYPES_TYPMOD_H

#include "vx/pg.h"

/* Parse `type(n)`: exactly one integer in 1..max_dim (pgvector's messages). */
static inline int32
ParseDimensionTypmod(ArrayType *ta, const char *type_name, int max_dim)
{
	int n;
	int32 *tl = ArrayGetIntegerTypmods(ta, &n);

	if (n != 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid type modifier")));

	if (*tl < 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("dimensions for type %s must be at least 1", type_name)));

	if (*tl > max_dim)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("dimensions for type %s cannot exceed %d", type_name, max_dim)));

	return *tl;
}

#endif /* VX_TYPES_TYPMOD_H */
