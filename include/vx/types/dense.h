/*
 * dense.h -- code shared by the two dense types, vector and halfvec (PG zone).
 *
 * Both types have the same text form "[x1,x2,...]", the same binary header
 * (int16 dim, int16 unused = 0, big-endian), the same subvector() argument
 * rules and the same way of turning kernel sums into cosine and spherical
 * distances. The element type differs, so the element-specific step (range
 * check + conversion, or reading an element back as float) is a callable
 * passed in; everything else is written once here.
 */
#ifndef VX_TYPES_DENSE_H
#define VX_TYPES_DENSE_H

#include "vx/pg.h"

#include "vx/kernels/kernels.hpp"
#include "vx/types/checks.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

/*
 * Upper bound on the element count of a dense text literal: commas + 1, capped
 * at max_dim. Lets the parser write straight into a result of this capacity.
 */
static inline int
DenseTextCapacity(const char *lit, int max_dim)
{
	int commas = 0;

	for (const char *p = lit; *p != '\0'; p++)
		commas += (*p == ',');
	return commas < max_dim ? commas + 1 : max_dim;
}

/*
 * Parse "[x1, x2, ...]" like pgvector: whitespace around brackets, numbers
 * and commas; numbers as strtof reads them; nothing but whitespace after ']'.
 * For each number, store(i, value, start, end) range-checks, converts and
 * stores element i (the capacity from DenseTextCapacity is never exceeded).
 * Returns the number of elements (at least 1). Errors are pgvector's, in
 * pgvector's order.
 */
template <typename Store>
static inline int
ParseDenseText(const char *lit, const char *type_name, int max_dim, Store store)
{
	const char *pt = lit;
	int dim = 0;

	while (VectorIsSpace(*pt))
		pt++;

	if (*pt != '[')
		ReportTextSyntax(type_name, lit, "Vector contents must start with \"[\".");
	pt++;

	while (VectorIsSpace(*pt))
		pt++;

	if (*pt == ']')
		ReportDimTooSmall(type_name);

	for (;;) {
		char *end;
		float value;

		if (dim == max_dim)
			ReportDimTooLarge(type_name, max_dim);

		while (VectorIsSpace(*pt))
			pt++;

		/* strtof would skip more whitespace kinds; an empty element is a syntax error */
		if (*pt == '\0')
			ReportTextSyntax(type_name, lit, nullptr);

		/* strtof, like float4in: no double rounding; LC_NUMERIC is C in a backend */
		errno = 0;
		value = strtof(pt, &end);
		if (end == pt)
			ReportTextSyntax(type_name, lit, nullptr);

		store(dim, value, pt, end);
		dim++;

		pt = end;
		while (VectorIsSpace(*pt))
			pt++;

		if (*pt == ',')
			pt++;
		else if (*pt == ']') {
			pt++;
			break;
		} else
			ReportTextSyntax(type_name, lit, nullptr);
	}

	while (VectorIsSpace(*pt))
		pt++;

	if (*pt != '\0')
		ReportTextSyntax(type_name, lit, "Junk after closing right brace.");

	return dim;
}

/*
 * Format "[x1,x2,...]" with each element (as float) in float4out's shortest
 * exact form, as pgvector does for both types. get(i) returns element i.
 */
template <typename Get>
static inline char *
FormatDenseText(int dim, Get get)
{
	/* per element: at most FLOAT_SHORTEST_DECIMAL_LEN - 1 chars plus a separator; then "[", "]", NUL */
	char *buf = (char *)palloc(FLOAT_SHORTEST_DECIMAL_LEN * dim + 2);
	char *ptr = buf;

	*ptr++ = '[';
	for (int i = 0; i < dim; i++) {
		if (i > 0)
			*ptr++ = ',';
		ptr += float_to_shortest_decimal_bufn(get(i), ptr);
	}
	*ptr++ = ']';
	*ptr = '\0';
	return buf;
}

/*
 * Read the binary header {int16 dim, int16 unused} and validate it in
 * pgvector's order: dimension limits, typmod, then unused == 0.
 */
static inline int
RecvDenseHeader(StringInfo buf, int32 typmod, const char *type_name, int max_dim)
{
	int16 dim = (int16)pq_getmsgint(buf, sizeof(int16));
	int16 unused = (int16)pq_getmsgint(buf, sizeof(int16));

	CheckDim(dim, type_name, max_dim);
	CheckExpectedDim(typmod, dim);
	if (unlikely(unused != 0))
		ReportUnusedNonZero(unused);
	return dim;
}

/*
 * Pointer to the next n bytes of a binary message, or nullptr if fewer are
 * left (the caller then uses the pq_getmsg* call that raises PG's error).
 */
static inline const char *
RecvRawBytes(StringInfo buf, int n)
{
	if (buf->len - buf->cursor < n)
		return nullptr;
	const char *p = buf->data + buf->cursor;
	buf->cursor += n;
	return p;
}

/*
 * subvector(v, start, count): 1-based start, clipped to the vector like
 * substring(); the result must keep at least one element. Returns the result
 * dimension and sets *first to the 0-based first element.
 */
static inline int
SubvectorBounds(int dim, int32 start, int32 count, const char *type_name, int max_dim, int *first)
{
	int32 end;

	if (count < 1)
		ReportDimTooSmall(type_name);

	/* start + count > dim, written so that it cannot overflow (dim >= 0, count >= 1) */
	if (start > dim - count)
		end = dim + 1;
	else
		end = start + count;

	if (start < 1)
		start = 1;
	else if (start > dim)
		ReportDimTooSmall(type_name);

	CheckDim(end - start, type_name, max_dim);
	*first = start - 1;
	return end - start;
}

/*
 * Cosine distance from the kernel's float sums: similarity in double,
 * sqrt(|a|^2 * |b|^2) as one root, clamped to [-1, 1]. A zero vector gives
 * 0/0 = NaN, which the clamp leaves alone (pgvector returns NaN too).
 */
static inline double
CosineDistanceFromParts(vx::kernels::CosineParts p)
{
	double similarity = (double)p.dot / std::sqrt((double)p.norm_a * (double)p.norm_b);

	if (similarity > 1)
		similarity = 1;
	else if (similarity < -1)
		similarity = -1;
	return 1 - similarity;
}

/* Angular distance in [0, 1] for unit vectors, from their inner product. */
static inline double
SphericalDistanceFromIp(float ip)
{
	double distance = (double)ip;

	/* rounding can push |ip| of unit vectors past 1, where acos is NaN */
	if (distance > 1)
		distance = 1;
	else if (distance < -1)
		distance = -1;
	return std::acos(distance) / M_PI;
}

#endif /* VX_TYPES_DENSE_H */
