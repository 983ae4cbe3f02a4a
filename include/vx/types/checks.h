/*
 * checks.h -- validation shared by the vector types (PG zone).
 *
 * Every user-facing check that more than one type performs lives here, with
 * pgvector 0.8's exact message texts and SQLSTATEs: dimension limits, typmod
 * mismatches, "different ... dimensions", non-finite elements, half range,
 * the aggregate state array and binary_quantize's bit string.
 * Checks are inline and cheap on the success path; each error is raised from
 * a cold, out-of-line function so per-element loops stay tight.
 *
 * Type names are passed in ("vector", "halfvec", "sparsevec") so that the
 * messages read exactly like pgvector's for each type.
 */
#ifndef VX_TYPES_CHECKS_H
#define VX_TYPES_CHECKS_H

#include "vx/pg.h"

#include "vx/kernels/kernels.hpp"
#include "vx/types/halfvec.h"

#include <cmath>

/* Cold error paths (checks.cpp). */
pg_attribute_noreturn() void ReportDimTooSmall(const char *type_name);
pg_attribute_noreturn() void ReportDimTooLarge(const char *type_name, int max_dim);
pg_attribute_noreturn() void ReportExpectedDim(int32 typmod, int dim);
pg_attribute_noreturn() void ReportDifferentDims(const char *type_name, int a, int b);
pg_attribute_noreturn() void ReportNonFinite(const char *type_name, bool is_nan);
pg_attribute_noreturn() void ReportHalfOutOfRange(float value);
pg_attribute_noreturn() void ReportTextSyntax(const char *type_name, const char *lit, const char *detail);
pg_attribute_noreturn() void ReportTextOutOfRange(const char *type_name, const char *start, const char *end);
pg_attribute_noreturn() void ReportUnusedNonZero(int unused);

/* Dimension count within 1..max_dim. */
static inline void
CheckDim(int dim, const char *type_name, int max_dim)
{
	if (unlikely(dim < 1))
		ReportDimTooSmall(type_name);
	if (unlikely(dim > max_dim))
		ReportDimTooLarge(type_name, max_dim);
}

/* Dimension count matches the type modifier (-1 means unconstrained). */
static inline void
CheckExpectedDim(int32 typmod, int dim)
{
	if (unlikely(typmod != -1 && typmod != dim))
		ReportExpectedDim(typmod, dim);
}

/* A value of dim elements fits type_name and the target typmod (limits first, as pgvector). */
static inline void
CheckTypeDim(int dim, int32 typmod, const char *type_name, int max_dim)
{
	CheckDim(dim, type_name, max_dim);
	CheckExpectedDim(typmod, dim);
}

/* Both operands of a binary operation have the same dimensions. */
static inline void
CheckSameDims(int a, int b, const char *type_name)
{
	if (unlikely(a != b))
		ReportDifferentDims(type_name, a, b);
}

/* A float element is finite. */
static inline void
CheckFloatElement(float value, const char *type_name)
{
	if (unlikely(std::isnan(value) || std::isinf(value)))
		ReportNonFinite(type_name, std::isnan(value));
}

/* Raw IEEE half predicates (bit tests, no conversion). */
static inline bool
HalfIsInf(half h)
{
	return (h & 0x7fff) == 0x7c00;
}

static inline bool
HalfIsNonFinite(half h)
{
	return (h & 0x7c00) == 0x7c00;
}

static inline bool
HalfIsZero(half h)
{
	return (h & 0x7fff) == 0;
}

/* A half element is finite. */
static inline void
CheckHalfElement(half value)
{
	if (unlikely(HalfIsNonFinite(value)))
		ReportNonFinite("halfvec", !HalfIsInf(value));
}

/* float -> half; a finite value that overflows half is out of range (inf stays inf). */
static inline half
Float4ToHalfChecked(float value)
{
	half h = vx::kernels::float_to_half(value);

	if (unlikely(HalfIsInf(h)) && !std::isinf(value))
		ReportHalfOutOfRange(value);
	return h;
}

/* The whitespace pgvector skips in text input (array_isspace's set). */
static inline bool
VectorIsSpace(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

/*
 * The avg() state: float8[] {n, sum_1, ..., sum_dim}, 1-D, no NULLs.
 * Returns its data; a malformed array is an internal error, as in pgvector.
 */
static inline float8 *
CheckStateArray(ArrayType *statearray, const char *caller)
{
	if (ARR_NDIM(statearray) != 1 || ARR_DIMS(statearray)[0] < 1 || ARR_HASNULL(statearray) ||
		ARR_ELEMTYPE(statearray) != FLOAT8OID)
		elog(ERROR, "%s: expected state array", caller);
	return (float8 *)ARR_DATA_PTR(statearray);
}

/* Number of summed dimensions held by a state array. */
static inline int
StateDims(ArrayType *statearray)
{
	return ARR_DIMS(statearray)[0] - 1;
}

/* Allocate a zeroed bit string of dim bits (binary_quantize's result). */
static inline VarBit *
InitBitVector(int dim)
{
	int size = VARBITTOTALLEN(dim);
	VarBit *result = (VarBit *)palloc0(size);

	SET_VARSIZE(result, size);
	VARBITLEN(result) = dim;
	return result;
}

#endif /* VX_TYPES_CHECKS_H */
