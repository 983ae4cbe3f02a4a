/*
 * halfvec.h -- the `halfvec` datum for C (and C++) code outside this extension.
 *
 * Installed beside vector.h in $(includedir_server)/extension/vector/, with
 * pgvector 0.8's names. Layout (pgvector's bytes):
 *
 *   int32 vl_len_   varlena header
 *   int16 dim       number of elements, 1 .. HALFVEC_MAX_DIM
 *   int16 unused    always 0
 *   half x[dim]     IEEE binary16, finite
 *
 * `half` is, as in pgvector, a macro for C: the raw 16 bits (uint16) on
 * x86, _Float16 on other targets whose compiler has it (where pgvector's
 * header picks _Float16 too). In C++ (the extension itself, which works on
 * the bits) it is a typedef of uint16. All are two bytes, so the layout is
 * the same everywhere.
 *
 * The extension's own definition of the struct (include/vx/types/halfvec.h
 * includes this file).
 */
#ifndef HALFVEC_H
#define HALFVEC_H

#define __STDC_WANT_IEC_60559_TYPES_EXT__

#include "postgres.h"

#include <float.h>

#include "fmgr.h"

#if defined(__cplusplus)
typedef uint16 half;			/* a typedef: a macro would rename every `half` in C++ headers */
#define HALF_MAX 65504
#elif defined(__FLT16_MAX__) && !defined(__x86_64__) && !defined(_M_AMD64) && !defined(__i386__) && \
	!defined(__FreeBSD__)
#define half _Float16
#define HALF_MAX FLT16_MAX
#else
#define half uint16
#define HALF_MAX 65504
#endif

#define HALFVEC_MAX_DIM 16000

#define HALFVEC_SIZE(_dim) (offsetof(HalfVector, x) + sizeof(half) * (_dim))
#define DatumGetHalfVector(x) ((HalfVector *) PG_DETOAST_DATUM(x))
#define PG_GETARG_HALFVEC_P(x) DatumGetHalfVector(PG_GETARG_DATUM(x))
#define PG_RETURN_HALFVEC_P(x) PG_RETURN_POINTER(x)

typedef struct HalfVector
{
	int32		vl_len_;		/* varlena header (do not touch directly!) */
	int16		dim;			/* number of dimensions */
	int16		unused;			/* reserved for future use, always zero */
	half		x[FLEXIBLE_ARRAY_MEMBER];
} HalfVector;

#ifdef __cplusplus
extern "C"
{
#endif

/* A zeroed halfvec of dim elements in the current memory context (dim is not checked). */
extern PGDLLEXPORT HalfVector *InitHalfVector(int dim);

#ifdef __cplusplus
}
#endif

#endif							/* HALFVEC_H */
