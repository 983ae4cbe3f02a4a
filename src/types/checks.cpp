/*
 * checks.cpp -- the cold error paths of include/vx/types/checks.h.
 *
 * Message texts and SQLSTATEs are pgvector 0.8's. These functions never
 * return; keeping them out of line keeps the inline checks small.
 */
#include "vx/pg.h"

#include "vx/types/checks.h"

/* "<type> must have at least 1 dimension" */
void
ReportDimTooSmall(const char *type_name)
{
	ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("%s must have at least 1 dimension", type_name)));
	pg_unreachable();
}

/* "<type> cannot have more than N dimensions" */
void
ReportDimTooLarge(const char *type_name, int max_dim)
{
	ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					errmsg("%s cannot have more than %d dimensions", type_name, max_dim)));
	pg_unreachable();
}

/* Typmod mismatch. */
void
ReportExpectedDim(int32 typmod, int dim)
{
	ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("expected %d dimensions, not %d", typmod, dim)));
	pg_unreachable();
}

/* Operands of different dimensions. */
void
ReportDifferentDims(const char *type_name, int a, int b)
{
	ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("different %s dimensions %d and %d", type_name, a, b)));
	pg_unreachable();
}

/* NaN or infinity in an element. */
void
ReportNonFinite(const char *type_name, bool is_nan)
{
	if (is_nan)
		ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("NaN not allowed in %s", type_name)));
	ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("infinite value not allowed in %s", type_name)));
	pg_unreachable();
}

/* A finite float beyond half's range, printed as the shortest float text. */
void
ReportHalfOutOfRange(float value)
{
	char buf[FLOAT_SHORTEST_DECIMAL_LEN];

	float_to_shortest_decimal_buf(value, buf);
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE), errmsg("\"%s\" is out of range for type halfvec", buf)));
	pg_unreachable();
}

/* Malformed text literal, optionally with pgvector's detail line. */
void
ReportTextSyntax(const char *type_name, const char *lit, const char *detail)
{
	if (detail != nullptr)
		ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						errmsg("invalid input syntax for type %s: \"%s\"", type_name, lit), errdetail("%s", detail)));
	ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					errmsg("invalid input syntax for type %s: \"%s\"", type_name, lit)));
	pg_unreachable();
}

/* A number in a text literal outside the element type's range, quoted as written. */
void
ReportTextOutOfRange(const char *type_name, const char *start, const char *end)
{
	ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					errmsg("\"%s\" is out of range for type %s", pnstrdup(start, end - start), type_name)));
	pg_unreachable();
}

/* Binary input whose reserved field is not zero. */
void
ReportUnusedNonZero(int unused)
{
	ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("expected unused to be 0, not %d", unused)));
	pg_unreachable();
}
