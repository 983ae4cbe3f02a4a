/*
 * dense.h -- code shared by the two dense types, vector and halfvec (PG zone).
 *
 * Both types are {varlena header, int16 dim, int16 unused = 0, elements} and
 * differ only in the element: float4, or IEEE half kept as raw bits. They
 * have the same text form "[x1,x2,...]", the same binary header, the same
 * subvector() argument rules, and the same definitions of every distance,
 * norm, arithmetic operator and btree order. DenseTraits<V> collects what
 * differs between the two (SQL name, limit, constructor, element conversion
 * and tests, kernel entries); the templates below are the one implementation
 * of each operation, and vector.cpp / halfvec.cpp keep the SQL-callable
 * symbols as thin wrappers around them. sparsevec shares the cosine step
 * (CosineDistanceFromParts) and the comparison-operator macro.
 *
 * Arithmetic on halfvec is done in float and rounded once to half, which is
 * the correctly rounded half result (float has more than 2 * 11 + 2
 * significand bits); for vector the conversions are the identity.
 */
#ifndef VX_TYPES_DENSE_H
#define VX_TYPES_DENSE_H

#include "vx/pg.h"

#include "vx/kernels/kernels.hpp"
#include "vx/types/checks.h"
#include "vx/types/halfvec.h"
#include "vx/types/vector.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

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
	/* unsigned, as pgvector 0.8.6 reads it: 0xFFFF is too many dimensions, not -1 */
	int dim = (int)(uint16)pq_getmsgint(buf, sizeof(int16));
	int16 unused = (int16)pq_getmsgint(buf, sizeof(int16));

	CheckTypeDim(dim, typmod, type_name, max_dim);
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

/* What differs between the dense types; specialized for Vector and HalfVector. */
template <typename V> struct DenseTraits;

template <> struct DenseTraits<Vector> {
	typedef float Elem;
	static constexpr const char *kName = "vector";
	static constexpr int kMaxDim = VECTOR_MAX_DIM;

	/* zeroed datum of dim elements */
	static Vector *Init(int dim) { return InitVector(dim); }
	/* element <-> float (exact both ways for vector) */
	static float ToFloat(float x) { return x; }
	static float FromFloat(float x) { return x; }
	/* FromFloat for user-visible conversions: a finite float never overflows a float */
	static float FromFloatChecked(float x) { return x; }
	/* NaN/infinity is an error ("... not allowed in vector") */
	static void CheckElement(float x) { CheckFloatElement(x, kName); }
	static bool IsInf(float x) { return std::isinf(x); }
	static bool IsZero(float x) { return x == 0; }
	static bool IsPositive(float x) { return x > 0; }
	/* a key with the element's order (btree) */
	static float OrderKey(float x) { return x; }
	/* binary I/O of one element: big-endian IEEE bits */
	static float RecvElement(StringInfo buf)
	{
		const char *p = RecvRawBytes(buf, sizeof(uint32));
		uint32 bits;
		float value;

		if (p == nullptr)
			return pq_getmsgfloat4(buf); /* raises "insufficient data left in message" */
		memcpy(&bits, p, sizeof(bits));
		bits = pg_ntoh32(bits);
		memcpy(&value, &bits, sizeof(value));
		return value;
	}
	static void SendElement(StringInfo buf, float x)
	{
		uint32 bits;

		memcpy(&bits, &x, sizeof(bits));
		pq_writeint32(buf, bits);
	}
	/* the active kernels for this element type */
	static float L2sq(const float *a, const float *b, int n) { return vx::kernels::active().l2sq_f32(a, b, n); }
	static float Ip(const float *a, const float *b, int n) { return vx::kernels::active().ip_f32(a, b, n); }
	static float L1(const float *a, const float *b, int n) { return vx::kernels::active().l1_f32(a, b, n); }
	static vx::kernels::CosineParts Cosine(const float *a, const float *b, int n)
	{
		return vx::kernels::active().cosine_f32(a, b, n);
	}
};

template <> struct DenseTraits<HalfVector> {
	typedef half Elem;
	static constexpr const char *kName = "halfvec";
	static constexpr int kMaxDim = HALFVEC_MAX_DIM;

	static HalfVector *Init(int dim) { return InitHalfVector(dim); }
	/* widening is exact; narrowing rounds to nearest even, overflow gives inf */
	static float ToFloat(half x) { return vx::kernels::half_to_float(x); }
	static half FromFloat(float x) { return vx::kernels::float_to_half(x); }
	/* a finite float beyond half's range is an error, never a silent infinity */
	static half FromFloatChecked(float x) { return Float4ToHalfChecked(x); }
	static void CheckElement(half x) { CheckHalfElement(x); }
	static bool IsInf(half x) { return HalfIsInf(x); }
	static bool IsZero(half x) { return HalfIsZero(x); }
	/* x > 0 for a finite half: sign bit clear and not (+)0 */
	static bool IsPositive(half x) { return x - 1u < 0x7fffu; }
	/* sign and magnitude to two's complement: the value's order; -0 and +0 both map to 0 */
	static int OrderKey(half x) { return (x & 0x8000) ? -(x & 0x7fff) : (x & 0x7fff); }
	static half RecvElement(StringInfo buf)
	{
		const char *p = RecvRawBytes(buf, sizeof(uint16));
		uint16 bits;

		if (p == nullptr)
			return (half)pq_getmsgint(buf, sizeof(uint16)); /* raises "insufficient data left in message" */
		memcpy(&bits, p, sizeof(bits));
		return pg_ntoh16(bits);
	}
	static void SendElement(StringInfo buf, half x) { pq_writeint16(buf, x); }
	static float L2sq(const half *a, const half *b, int n) { return vx::kernels::active().l2sq_f16(a, b, n); }
	static float Ip(const half *a, const half *b, int n) { return vx::kernels::active().ip_f16(a, b, n); }
	static float L1(const half *a, const half *b, int n) { return vx::kernels::active().l1_f16(a, b, n); }
	static vx::kernels::CosineParts Cosine(const half *a, const half *b, int n)
	{
		return vx::kernels::active().cosine_f16(a, b, n);
	}
};

/* Text input: "[x1, x2, ...]" (ParseDenseText), each number range-checked as the element type. */
template <typename V>
static inline V *
DenseIn(const char *lit, int32 typmod)
{
	typedef DenseTraits<V> T;
	V *result = T::Init(DenseTextCapacity(lit, T::kMaxDim));
	typename T::Elem *x = result->x;
	int dim;

	dim = ParseDenseText(lit, T::kName, T::kMaxDim, [x](int i, float value, const char *start, const char *end) {
		typename T::Elem e = T::FromFloat(value);

		/*
		 * beyond float (strtof overflow), or finite but beyond the element
		 * type: quoted as written; an underflow to 0 or a denormal is
		 * accepted, as in pgvector
		 */
		if ((errno == ERANGE && std::isinf(value)) || (T::IsInf(e) && !std::isinf(value)))
			ReportTextOutOfRange(T::kName, start, end);
		T::CheckElement(e);
		x[i] = e;
	});
	CheckExpectedDim(typmod, dim);

	/* shrink to the parsed size (the allocation may hold a few extra elements) */
	SET_VARSIZE(result, offsetof(V, x) + dim * sizeof(x[0]));
	result->dim = dim;
	return result;
}

/* Text output: each element as float, in float4out's shortest exact form. */
template <typename V>
static inline char *
DenseOut(const V *v)
{
	const typename DenseTraits<V>::Elem *x = v->x;

	return FormatDenseText(v->dim, [x](int i) { return DenseTraits<V>::ToFloat(x[i]); });
}

/* Binary input: int16 dim, int16 unused (0), dim big-endian elements; all validated. */
template <typename V>
static inline V *
DenseRecv(StringInfo buf, int32 typmod)
{
	typedef DenseTraits<V> T;
	int dim = RecvDenseHeader(buf, typmod, T::kName, T::kMaxDim);
	V *result = T::Init(dim);

	for (int i = 0; i < dim; i++) {
		typename T::Elem value = T::RecvElement(buf);

		T::CheckElement(value);
		result->x[i] = value;
	}
	return result;
}

/* Binary output: the inverse of DenseRecv. */
template <typename V>
static inline bytea *
DenseSend(const V *v)
{
	StringInfoData buf;

	pq_begintypsend(&buf);
	enlargeStringInfo(&buf, 2 * sizeof(int16) + v->dim * sizeof(v->x[0]));
	pq_writeint16(&buf, (uint16)v->dim);
	pq_writeint16(&buf, (uint16)v->unused);
	for (int i = 0; i < v->dim; i++)
		DenseTraits<V>::SendElement(&buf, v->x[i]);
	return pq_endtypsend(&buf);
}

/* Both operands of a binary operation have the same dimensions. */
template <typename V>
static inline void
DenseCheckDims(const V *a, const V *b)
{
	CheckSameDims(a->dim, b->dim, DenseTraits<V>::kName);
}

/* The metrics of the dense distance functions. */
enum class DenseMetric { L2, L2Squared, InnerProduct, NegativeInnerProduct, Cosine, Spherical, L1 };

/*
 * Distance M between a and b: one kernel call, which accumulates in float32
 * like pgvector, and the result widened to float8.
 */
template <DenseMetric M, typename V>
static inline double
DenseDistance(const V *a, const V *b)
{
	typedef DenseTraits<V> T;

	DenseCheckDims(a, b);
	if constexpr (M == DenseMetric::L2)
		return std::sqrt((double)T::L2sq(a->x, b->x, a->dim));
	else if constexpr (M == DenseMetric::L2Squared)
		return (double)T::L2sq(a->x, b->x, a->dim);
	else if constexpr (M == DenseMetric::InnerProduct)
		return (double)T::Ip(a->x, b->x, a->dim);
	else if constexpr (M == DenseMetric::NegativeInnerProduct)
		return (double)-T::Ip(a->x, b->x, a->dim);
	else if constexpr (M == DenseMetric::Cosine)
		return CosineDistanceFromParts(T::Cosine(a->x, b->x, a->dim));
	else if constexpr (M == DenseMetric::Spherical)
		return SphericalDistanceFromIp(T::Ip(a->x, b->x, a->dim));
	else
		return (double)T::L1(a->x, b->x, a->dim);
}

/* Sum of squares in float8 (pgvector's norm precision). */
template <typename V>
static inline double
DenseNormSquared(const V *a)
{
	double norm = 0;

	for (int i = 0; i < a->dim; i++) {
		double v = (double)DenseTraits<V>::ToFloat(a->x[i]);

		norm += v * v;
	}
	return norm;
}

/* a / |a|, each quotient rounded to float (then to the element); the zero vector stays zero. */
template <typename V>
static inline V *
DenseNormalize(const V *a)
{
	typedef DenseTraits<V> T;
	double norm = std::sqrt(DenseNormSquared(a));
	V *result = T::Init(a->dim);

	if (norm > 0) {
		for (int i = 0; i < a->dim; i++)
			result->x[i] = T::FromFloat((float)(T::ToFloat(a->x[i]) / norm));

		/* denormal inputs can have a norm so small that the quotient overflows */
		for (int i = 0; i < a->dim; i++)
			if (T::IsInf(result->x[i]))
				float_overflow_error();
	}
	return result;
}

/* One bit per element, set where the element is > 0 (bit i is element i, MSB first). */
template <typename V>
static inline VarBit *
DenseBinaryQuantize(const V *a)
{
	VarBit *result = InitBitVector(a->dim);
	unsigned char *rx = VARBITS(result);

	for (int i = 0; i < a->dim; i++)
		rx[i / 8] |= (unsigned char)(DenseTraits<V>::IsPositive(a->x[i]) << (7 - (i % 8)));
	return result;
}

/* Elements start .. start + count - 1 (1-based), clipped to the vector (see SubvectorBounds). */
template <typename V>
static inline V *
DenseSubvector(const V *a, int32 start, int32 count)
{
	typedef DenseTraits<V> T;
	int first;
	int dim = SubvectorBounds(a->dim, start, count, T::kName, T::kMaxDim, &first);
	V *result = T::Init(dim);

	memcpy(result->x, a->x + first, dim * sizeof(a->x[0]));
	return result;
}

/*
 * Element-wise a op b (op is '+', '-' or '*') in float, converted to the
 * element type, with PG's float overflow and (for '*') underflow errors.
 */
template <char Op, typename V>
static inline V *
DenseArith(const V *a, const V *b)
{
	typedef DenseTraits<V> T;
	const typename T::Elem *ax = a->x;
	const typename T::Elem *bx = b->x;
	typename T::Elem *rx;
	int dim = a->dim;
	V *result;

	DenseCheckDims(a, b);
	result = T::Init(dim);
	rx = result->x;

	/* branch-free loops the compiler can vectorize (for vector); checks in a second pass */
	for (int i = 0; i < dim; i++) {
		float x = T::ToFloat(ax[i]);
		float y = T::ToFloat(bx[i]);

		rx[i] = T::FromFloat(Op == '+' ? x + y : Op == '-' ? x - y : x * y);
	}

	for (int i = 0; i < dim; i++) {
		if (T::IsInf(rx[i]))
			float_overflow_error();
		if (Op == '*' && T::IsZero(rx[i]) && !(T::IsZero(ax[i]) || T::IsZero(bx[i])))
			float_underflow_error();
	}
	return result;
}

/* a || b; the result must fit the type's dimension limit. */
template <typename V>
static inline V *
DenseConcat(const V *a, const V *b)
{
	typedef DenseTraits<V> T;
	int dim = a->dim + b->dim;
	V *result;

	CheckDim(dim, T::kName, T::kMaxDim);
	result = T::Init(dim);
	memcpy(result->x, a->x, a->dim * sizeof(a->x[0]));
	memcpy(result->x + a->dim, b->x, b->dim * sizeof(b->x[0]));
	return result;
}

/*
 * Total order for btree: element by element, then the shorter vector first
 * (like PG arrays), so vectors of different dimensions compare too.
 */
template <typename V>
static inline int
DenseCmp(const V *a, const V *b)
{
	int dim = Min(a->dim, b->dim);

	for (int i = 0; i < dim; i++) {
		auto x = DenseTraits<V>::OrderKey(a->x[i]);
		auto y = DenseTraits<V>::OrderKey(b->x[i]);

		if (x < y)
			return -1;
		if (x > y)
			return 1;
	}
	return (a->dim > b->dim) - (a->dim < b->dim);
}

/*
 * A comparison operator: VX_FUNCTION(name) evaluating `test` on
 * c = cmp(getarg(0), getarg(1)), a three-way comparison (DenseCmp for the
 * dense types).
 */
#define VX_CMP_FUNCTION(name, cmp, getarg, test)                                                                       \
	VX_FUNCTION(name)                                                                                                  \
	{                                                                                                                  \
		int c = cmp(getarg(0), getarg(1));                                                                             \
		PG_RETURN_BOOL(test);                                                                                          \
	}

#endif /* VX_TYPES_DENSE_H */
