/*
 * vector.h -- the `vector` datum for C (and C++) code outside this extension.
 *
 * Installed as $(includedir_server)/extension/vector/vector.h, the path and
 * names pgvector 0.8 uses, so an extension written against pgvector's header
 * compiles unchanged against ours:
 *
 *   #include "postgres.h"
 *   #include "fmgr.h"
 *   #include "vector.h"      (with -I$(includedir_server)/extension/vector)
 *
 *   Vector *v = PG_GETARG_VECTOR_P(0);   then v->dim, v->x[0 .. dim-1]
 *
 * The layout is frozen (pgvector's bytes, checked with static asserts inside
 * the extension):
 *
 *   int32 vl_len_   varlena header, set with SET_VARSIZE
 *   int16 dim       number of elements, 1 .. VECTOR_MAX_DIM
 *   int16 unused    always 0
 *   float x[dim]    finite float4 values
 *
 * The functions declared here are exported by vector.so with C linkage; a
 * module calling them must be loaded after vector.so (any use of the vector
 * type in the session loads it, as with pgvector).
 *
 * This header is plain C and is also the extension's own definition of the
 * struct (include/vx/types/vector.h includes it), so there is one layout.
 */
#ifndef VECTOR_H
#define VECTOR_H

#include "postgres.h"

#include "fmgr.h"

#define VECTOR_MAX_DIM 16000

#define VECTOR_SIZE(_dim) (offsetof(Vector, x) + sizeof(float) * (_dim))
#define DatumGetVector(x) ((Vector *) PG_DETOAST_DATUM(x))
#define PG_GETARG_VECTOR_P(x) DatumGetVector(PG_GETARG_DATUM(x))
#define PG_RETURN_VECTOR_P(x) PG_RETURN_POINTER(x)

typedef struct Vector
{
	int32		vl_len_;		/* varlena header (do not touch directly!) */
	int16		dim;			/* number of dimensions */
	int16		unused;			/* reserved for future use, always zero */
	float		x[FLEXIBLE_ARRAY_MEMBER];
} Vector;

#ifdef __cplusplus
extern "C"
{
#endif

/* A zeroed vector of dim elements in the current memory context (dim is not checked). */
extern PGDLLEXPORT Vector *InitVector(int dim);

/* Log "msg = [x1,x2,...]" at INFO (a debugging aid). */
extern PGDLLEXPORT void PrintVector(char *msg, Vector *vector);

/* The btree order of vector: <0, 0 or >0 (element by element, then the shorter first). */
extern PGDLLEXPORT int vector_cmp_internal(Vector *a, Vector *b);

#ifdef __cplusplus
}
#endif

#endif							/* VECTOR_H */
