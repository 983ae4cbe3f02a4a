/*
 * vx_consumer.c -- a C extension module that reads and builds vector,
 * halfvec and sparsevec datums through the headers the vector extension
 * installs (vector.h, halfvec.h, sparsevec.h, pgvector 0.8's names), the
 * way other extensions use pgvector's. Test 055 builds it against the staged
 * installation and checks every function's result in SQL.
 *
 * The Init* functions, PrintVector and vector_cmp_internal are resolved in
 * vector.so, so vector.so must be loaded first (LOAD 'vector').
 */
#include "postgres.h"

#include <string.h>

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "halfvec.h"
#include "sparsevec.h"
#include "vector.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(vxc_vector_sum);
PG_FUNCTION_INFO_V1(vxc_vector_make);
PG_FUNCTION_INFO_V1(vxc_vector_cmp);
PG_FUNCTION_INFO_V1(vxc_vector_print);
PG_FUNCTION_INFO_V1(vxc_halfvec_dims);
PG_FUNCTION_INFO_V1(vxc_halfvec_bits);
PG_FUNCTION_INFO_V1(vxc_halfvec_make);
PG_FUNCTION_INFO_V1(vxc_sparsevec_nnz);
PG_FUNCTION_INFO_V1(vxc_sparsevec_sum);
PG_FUNCTION_INFO_V1(vxc_sparsevec_indices);
PG_FUNCTION_INFO_V1(vxc_sparsevec_make);
PG_FUNCTION_INFO_V1(vxc_constants);

/* Sum of a vector's elements (also checks VARSIZE against VECTOR_SIZE). */
Datum
vxc_vector_sum(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	double		sum = 0;
	int			i;

	if (VARSIZE(v) != VECTOR_SIZE(v->dim) || v->unused != 0)
		elog(ERROR, "unexpected vector size %u for %d dimensions", (unsigned) VARSIZE(v), v->dim);
	for (i = 0; i < v->dim; i++)
		sum += v->x[i];
	PG_RETURN_FLOAT8(sum);
}

/* [1,2,...,n] built with InitVector. */
Datum
vxc_vector_make(PG_FUNCTION_ARGS)
{
	int32		n = PG_GETARG_INT32(0);
	Vector	   *v = InitVector(n);
	int			i;

	for (i = 0; i < n; i++)
		v->x[i] = (float) (i + 1);
	PG_RETURN_VECTOR_P(v);
}

/* vector_cmp_internal(a, b) reduced to -1, 0, 1. */
Datum
vxc_vector_cmp(PG_FUNCTION_ARGS)
{
	int			c = vector_cmp_internal(PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1));

	PG_RETURN_INT32((c > 0) - (c < 0));
}

/* PrintVector("vxc", v): an INFO message. */
Datum
vxc_vector_print(PG_FUNCTION_ARGS)
{
	PrintVector("vxc", PG_GETARG_VECTOR_P(0));
	PG_RETURN_VOID();
}

/* A halfvec's dimensions (also checks VARSIZE against HALFVEC_SIZE). */
Datum
vxc_halfvec_dims(PG_FUNCTION_ARGS)
{
	HalfVector *h = PG_GETARG_HALFVEC_P(0);

	if (VARSIZE(h) != HALFVEC_SIZE(h->dim) || sizeof(half) != 2)
		elog(ERROR, "unexpected halfvec size %u for %d dimensions", (unsigned) VARSIZE(h), h->dim);
	PG_RETURN_INT32(h->dim);
}

/* The raw IEEE binary16 bits of element i (0-based). */
Datum
vxc_halfvec_bits(PG_FUNCTION_ARGS)
{
	HalfVector *h = PG_GETARG_HALFVEC_P(0);
	int32		i = PG_GETARG_INT32(1);
	uint16		bits;

	if (i < 0 || i >= h->dim)
		elog(ERROR, "element %d out of range", i);
	memcpy(&bits, &h->x[i], sizeof(bits));
	PG_RETURN_INT32(bits);
}

/* A zero halfvec of n dimensions built with InitHalfVector. */
Datum
vxc_halfvec_make(PG_FUNCTION_ARGS)
{
	PG_RETURN_HALFVEC_P(InitHalfVector(PG_GETARG_INT32(0)));
}

/* A sparsevec's nnz (also checks VARSIZE against SPARSEVEC_SIZE). */
Datum
vxc_sparsevec_nnz(PG_FUNCTION_ARGS)
{
	SparseVector *s = PG_GETARG_SPARSEVEC_P(0);

	if (VARSIZE(s) != SPARSEVEC_SIZE(s->nnz))
		elog(ERROR, "unexpected sparsevec size %u for %d elements", (unsigned) VARSIZE(s), s->nnz);
	PG_RETURN_INT32(s->nnz);
}

/* Sum of a sparsevec's values (SPARSEVEC_VALUES). */
Datum
vxc_sparsevec_sum(PG_FUNCTION_ARGS)
{
	SparseVector *s = PG_GETARG_SPARSEVEC_P(0);
	float	   *values = SPARSEVEC_VALUES(s);
	double		sum = 0;
	int			i;

	for (i = 0; i < s->nnz; i++)
		sum += values[i];
	PG_RETURN_FLOAT8(sum);
}

/* "dim: i1 i2 ..." with the stored 0-based indices. */
Datum
vxc_sparsevec_indices(PG_FUNCTION_ARGS)
{
	SparseVector *s = PG_GETARG_SPARSEVEC_P(0);
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfo(&buf, "%d:", s->dim);
	for (i = 0; i < s->nnz; i++)
		appendStringInfo(&buf, " %d", s->indices[i]);
	PG_RETURN_TEXT_P(cstring_to_text(buf.data));
}

/* {1:1,2:2,...,nnz:nnz}/dim built with InitSparseVector. */
Datum
vxc_sparsevec_make(PG_FUNCTION_ARGS)
{
	int32		dim = PG_GETARG_INT32(0);
	int32		nnz = PG_GETARG_INT32(1);
	SparseVector *s = InitSparseVector(dim, nnz);
	float	   *values = SPARSEVEC_VALUES(s);
	int			i;

	for (i = 0; i < nnz; i++)
	{
		s->indices[i] = i;
		values[i] = (float) (i + 1);
	}
	PG_RETURN_SPARSEVEC_P(s);
}

/* The limits and sizes the headers define. */
Datum
vxc_constants(PG_FUNCTION_ARGS)
{
	char		buf[256];

	snprintf(buf, sizeof(buf), "%d %d %d %d %d %d %d %d",
			 VECTOR_MAX_DIM, HALFVEC_MAX_DIM, SPARSEVEC_MAX_DIM, SPARSEVEC_MAX_NNZ, HALF_MAX,
			 (int) VECTOR_SIZE(3), (int) HALFVEC_SIZE(3), (int) SPARSEVEC_SIZE(3));
	PG_RETURN_TEXT_P(cstring_to_text(buf));
}
