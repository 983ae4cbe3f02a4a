/*
 * types_common.h -- what the two type targets share: the SQL functions
 * under test, calling them through an fcinfo, and the invariants every
 * accepted value must satisfy (the ones vector.cpp, halfvec.cpp and
 * sparsevec.cpp promise to the rest of the extension).
 */
#ifndef VX_FUZZ_TYPES_COMMON_H
#define VX_FUZZ_TYPES_COMMON_H

#include "shim.h"

#include "vx/types/checks.h"
#include "vx/types/halfvec.h"
#include "vx/types/sparsevec.h"
#include "vx/types/vector.h"

#include <cmath>
#include <cstring>

extern "C" {
Datum vector_in(PG_FUNCTION_ARGS);
Datum vector_out(PG_FUNCTION_ARGS);
Datum vector_recv(PG_FUNCTION_ARGS);
Datum vector_send(PG_FUNCTION_ARGS);
Datum halfvec_in(PG_FUNCTION_ARGS);
Datum halfvec_out(PG_FUNCTION_ARGS);
Datum halfvec_recv(PG_FUNCTION_ARGS);
Datum halfvec_send(PG_FUNCTION_ARGS);
Datum sparsevec_in(PG_FUNCTION_ARGS);
Datum sparsevec_out(PG_FUNCTION_ARGS);
Datum sparsevec_recv(PG_FUNCTION_ARGS);
Datum sparsevec_send(PG_FUNCTION_ARGS);
}

/* The functions of one type. */
struct VxFuzzType
{
	const char *name;
	PGFunction in, out, recv, send;
};

static const VxFuzzType kFuzzTypes[3] = {
	{"vector", vector_in, vector_out, vector_recv, vector_send},
	{"halfvec", halfvec_in, halfvec_out, halfvec_recv, halfvec_send},
	{"sparsevec", sparsevec_in, sparsevec_out, sparsevec_recv, sparsevec_send},
};

/* typmod from a selector byte: -1 half the time, else 1..128 (small dims are reachable). */
static inline int32
FuzzTypmod(uint8_t b)
{
	return (b & 0x80) ? -1 : (int32) (b & 0x7f) + 1;
}

/* Call f(a0, InvalidOid, typmod), the calling convention of in and recv. */
static inline Datum
FuzzCallInput(PGFunction f, Datum a0, int32 typmod)
{
	FunctionCallInfo fcinfo = vx_fuzz_fcinfo(3);

	fcinfo->args[0].value = a0;
	fcinfo->args[1].value = ObjectIdGetDatum(InvalidOid);
	fcinfo->args[2].value = Int32GetDatum(typmod);
	return f(fcinfo);
}

/* Call f(a0) (out and send). */
static inline Datum
FuzzCall1(PGFunction f, Datum a0)
{
	FunctionCallInfo fcinfo = vx_fuzz_fcinfo(1);

	fcinfo->args[0].value = a0;
	return f(fcinfo);
}

/* Abort unless value (of kFuzzTypes[t]) is valid and fits typmod. */
static inline void
FuzzCheckValue(int t, Datum value, int32 typmod)
{
	const char *p = (const char *) DatumGetPointer(value);

	if (!VARATT_IS_4B_U(p))
		vx_fuzz_fail("%s: result is not a plain varlena", kFuzzTypes[t].name);
	if (t == 0) {
		const Vector *v = (const Vector *) p;

		if (v->dim < 1 || v->dim > VECTOR_MAX_DIM || VARSIZE(v) != VECTOR_SIZE(v->dim) || v->unused != 0)
			vx_fuzz_fail("vector: bad header dim %d size %u unused %d", v->dim, (unsigned) VARSIZE(v), v->unused);
		for (int i = 0; i < v->dim; i++)
			if (!std::isfinite(v->x[i]))
				vx_fuzz_fail("vector: element %d is not finite", i);
		if (typmod != -1 && v->dim != typmod)
			vx_fuzz_fail("vector: %d dimensions accepted for typmod %d", v->dim, typmod);
	} else if (t == 1) {
		const HalfVector *v = (const HalfVector *) p;

		if (v->dim < 1 || v->dim > HALFVEC_MAX_DIM || VARSIZE(v) != HALFVEC_SIZE(v->dim) || v->unused != 0)
			vx_fuzz_fail("halfvec: bad header dim %d size %u unused %d", v->dim, (unsigned) VARSIZE(v), v->unused);
		for (int i = 0; i < v->dim; i++)
			if (HalfIsNonFinite(v->x[i]))
				vx_fuzz_fail("halfvec: element %d is not finite", i);
		if (typmod != -1 && v->dim != typmod)
			vx_fuzz_fail("halfvec: %d dimensions accepted for typmod %d", v->dim, typmod);
	} else {
		const SparseVector *v = (const SparseVector *) p;
		const float *values;

		if (v->dim < 1 || v->dim > SPARSEVEC_MAX_DIM || v->nnz < 0 || v->nnz > SPARSEVEC_MAX_NNZ || v->nnz > v->dim ||
			VARSIZE(v) != SPARSEVEC_SIZE(v->nnz) || v->unused != 0)
			vx_fuzz_fail("sparsevec: bad header dim %d nnz %d size %u", v->dim, v->nnz, (unsigned) VARSIZE(v));
		values = SPARSEVEC_VALUES(v);
		for (int i = 0; i < v->nnz; i++) {
			if (v->indices[i] < 0 || v->indices[i] >= v->dim || (i > 0 && v->indices[i] <= v->indices[i - 1]))
				vx_fuzz_fail("sparsevec: index %d (%d) out of order or range", i, v->indices[i]);
			if (!std::isfinite(values[i]) || values[i] == 0)
				vx_fuzz_fail("sparsevec: value %d is zero or not finite", i);
		}
		if (typmod != -1 && v->dim != typmod)
			vx_fuzz_fail("sparsevec: %d dimensions accepted for typmod %d", v->dim, typmod);
	}
}

/* Abort unless a and b are the same bytes. */
static inline void
FuzzCheckSame(int t, Datum a, Datum b, const char *what)
{
	const char *pa = (const char *) DatumGetPointer(a);
	const char *pb = (const char *) DatumGetPointer(b);

	if (VARSIZE(pa) != VARSIZE(pb) || memcmp(pa, pb, VARSIZE(pa)) != 0)
		vx_fuzz_fail("%s: %s changed the value", kFuzzTypes[t].name, what);
}

#endif /* VX_FUZZ_TYPES_COMMON_H */
