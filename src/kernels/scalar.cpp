/*
 * scalar.cpp -- portable reference kernels.
 *
 * These are the test oracle for every SIMD level and the fallback on CPUs
 * without one. They accumulate in float32 in index order, exactly as the
 * definitions read; no reassociation flags are used on this file.
 */
#include "vx/kernels/kernels.hpp"

#include <cmath>
#include <cstring>

#include "vx/cpp_only.hpp"

namespace vx::kernels {

float
half_to_float(uint16_t h) noexcept
{
	uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
	uint32_t exponent = (h >> 10) & 0x1fu;
	uint32_t mantissa = h & 0x3ffu;
	uint32_t bits;

	if (exponent == 0x1f) {
		bits = sign | 0x7f800000u | (mantissa << 13) | (mantissa != 0 ? 0x400000u : 0); /* inf, or quiet nan as F16C */
	} else if (exponent != 0) {
		bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
	} else if (mantissa == 0) {
		bits = sign; /* signed zero */
	} else {
		/* subnormal half: normalize into a float */
		int shift = 0;
		while ((mantissa & 0x400u) == 0) {
			mantissa <<= 1;
			shift++;
		}
		mantissa &= 0x3ffu;
		bits = sign | (static_cast<uint32_t>(113 - shift) << 23) | (mantissa << 13);
	}
	float f;
	std::memcpy(&f, &bits, sizeof(f));
	return f;
}

uint16_t
float_to_half(float f) noexcept
{
	uint32_t bits;
	std::memcpy(&bits, &f, sizeof(bits));
	uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
	uint32_t abs = bits & 0x7fffffffu;

	if (abs > 0x7f800000u) /* nan: quiet, payload truncated (as F16C does) */
		return static_cast<uint16_t>(sign | 0x7e00u | ((abs & 0x7fffffu) >> 13));
	if (abs == 0x7f800000u) /* inf */
		return sign | 0x7c00u;
	if (abs >= 0x477ff000u) /* rounds to >= 65520: overflow to inf */
		return sign | 0x7c00u;
	if (abs < 0x33000001u) /* below half the smallest subnormal: zero */
		return sign;

	int32_t exponent = static_cast<int32_t>(abs >> 23) - 127;
	uint32_t mantissa = (abs & 0x7fffffu) | 0x800000u;
	int shift = exponent >= -14 ? 13 : 13 + (-14 - exponent); /* subnormals lose more bits */
	uint32_t half_mantissa = mantissa >> shift;
	uint32_t rest = mantissa & ((1u << shift) - 1);
	uint32_t halfway = 1u << (shift - 1);

	/* round to nearest, ties to even */
	if (rest > halfway || (rest == halfway && (half_mantissa & 1u)))
		half_mantissa++;

	uint32_t result;
	if (exponent >= -14)
		result = (static_cast<uint32_t>(exponent + 15) << 10) + (half_mantissa - 0x400u); /* carry bumps exponent */
	else
		result = half_mantissa; /* may carry into the smallest normal, which is correct */
	return static_cast<uint16_t>(sign | result);
}

namespace {

/* An element as float: floats as they are, IEEE half bits widened (exactly). */
inline float
widen(float x) noexcept
{
	return x;
}

inline float
widen(uint16_t h) noexcept
{
	return half_to_float(h);
}

/* The pair kernels over float or half elements, each a plain loop in index order. */
template <class T>
float
l2sq(const T *a, const T *b, size_t n) noexcept
{
	float sum = 0;
	for (size_t i = 0; i < n; i++) {
		float d = widen(a[i]) - widen(b[i]);
		sum += d * d;
	}
	return sum;
}

template <class T>
float
ip(const T *a, const T *b, size_t n) noexcept
{
	float sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += widen(a[i]) * widen(b[i]);
	return sum;
}

template <class T>
CosineParts
cosine(const T *a, const T *b, size_t n) noexcept
{
	CosineParts p{0, 0, 0};
	for (size_t i = 0; i < n; i++) {
		float x = widen(a[i]);
		float y = widen(b[i]);
		p.dot += x * y;
		p.norm_a += x * x;
		p.norm_b += y * y;
	}
	return p;
}

template <class T>
float
l1(const T *a, const T *b, size_t n) noexcept
{
	float sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += std::fabs(widen(a[i]) - widen(b[i]));
	return sum;
}

void
f16_to_f32(const uint16_t *in, float *out, size_t n) noexcept
{
	for (size_t i = 0; i < n; i++)
		out[i] = half_to_float(in[i]);
}

uint64_t
hamming(const uint8_t *a, const uint8_t *b, size_t nbytes) noexcept
{
	uint64_t count = 0;
	for (size_t i = 0; i < nbytes; i++)
		count += static_cast<uint64_t>(__builtin_popcount(static_cast<unsigned>(a[i] ^ b[i])));
	return count;
}

JaccardCounts
jaccard(const uint8_t *a, const uint8_t *b, size_t nbytes) noexcept
{
	JaccardCounts c{0, 0, 0};
	for (size_t i = 0; i < nbytes; i++) {
		c.both += static_cast<uint64_t>(__builtin_popcount(static_cast<unsigned>(a[i] & b[i])));
		c.a += static_cast<uint64_t>(__builtin_popcount(a[i]));
		c.b += static_cast<uint64_t>(__builtin_popcount(b[i]));
	}
	return c;
}

/* Bit-plane dot product: popcount of every plane pair, weighted by 2^(j+k), word by word. */
uint64_t
bitplane_dot(const uint8_t *a, uint32_t a_bits, const uint8_t *b, uint32_t b_bits, size_t plane_bytes) noexcept
{
	uint64_t sum = 0;
	for (uint32_t j = 0; j < a_bits; j++)
		for (uint32_t k = 0; k < b_bits; k++) {
			uint64_t count = 0;
			for (size_t i = 0; i < plane_bytes; i += 8) {
				uint64_t x, y;
				std::memcpy(&x, a + j * plane_bytes + i, 8);
				std::memcpy(&y, b + k * plane_bytes + i, 8);
				count += static_cast<uint64_t>(__builtin_popcountll(x & y));
			}
			sum += count << (j + k);
		}
	return sum;
}

/* code_dot word by word, from its definition (see KernelTable::code_dot). */
uint64_t
code_dot(const uint8_t *code, const uint8_t *spread, const uint64_t *shift, uint32_t query_bits,
		 size_t code_bytes) noexcept
{
	uint64_t sum = 0;
	for (size_t i = 0; i < code_bytes; i += 8) {
		uint64_t x;
		std::memcpy(&x, code + i, 8);
		for (uint32_t k = 0; k < query_bits; k++) {
			uint64_t y;
			std::memcpy(&y, spread + k * code_bytes + i, 8);
			sum += static_cast<uint64_t>(__builtin_popcountll(x & y)) << (shift[i / 8] + k);
		}
	}
	return sum;
}

/* One query against four vectors: four calls of the single-pair kernel. */
template <class T, float (*Kernel)(const T *, const T *, size_t) noexcept>
void
batch4(const T *q, const T *const *v, size_t n, float *out) noexcept
{
	for (int j = 0; j < 4; j++)
		out[j] = Kernel(q, v[j], n);
}

} // namespace

extern const KernelTable kScalarTable;
constinit const KernelTable kScalarTable = {
	Level::Scalar,
	"scalar",
	l2sq<float>,
	ip<float>,
	cosine<float>,
	l1<float>,
	l2sq<uint16_t>,
	ip<uint16_t>,
	cosine<uint16_t>,
	l1<uint16_t>,
	f16_to_f32,
	hamming,
	jaccard,
	batch4<float, l2sq<float>>,
	batch4<float, ip<float>>,
	batch4<float, l1<float>>,
	batch4<uint16_t, l2sq<uint16_t>>,
	batch4<uint16_t, ip<uint16_t>>,
	batch4<uint16_t, l1<uint16_t>>,
	bitplane_dot,
	code_dot,
};

float
sparse_ip(const int32_t *ia, const float *va, int na, const int32_t *ib, const float *vb, int nb) noexcept
{
	float sum = 0;
	int i = 0, j = 0;
	while (i < na && j < nb) {
		if (ia[i] == ib[j])
			sum += va[i++] * vb[j++];
		else if (ia[i] < ib[j])
			i++;
		else
			j++;
	}
	return sum;
}

namespace {

/*
 * Sum of term(d) over the union of both index lists, in index order, d being
 * the difference of the two values at that index (a missing element is 0;
 * the sign of d is not defined, which both terms ignore): the merge join of
 * sparse_l2sq and sparse_l1.
 */
template <class Term>
inline float
sparse_union_sum(const int32_t *ia, const float *va, int na, const int32_t *ib, const float *vb, int nb,
				 Term term) noexcept
{
	float sum = 0;
	int i = 0, j = 0;
	while (i < na || j < nb) {
		float d;
		if (j >= nb || (i < na && ia[i] < ib[j]))
			d = va[i++];
		else if (i >= na || ib[j] < ia[i])
			d = vb[j++];
		else
			d = va[i++] - vb[j++];
		sum += term(d);
	}
	return sum;
}

} // namespace

float
sparse_l2sq(const int32_t *ia, const float *va, int na, const int32_t *ib, const float *vb, int nb) noexcept
{
	return sparse_union_sum(ia, va, na, ib, vb, nb, [](float d) { return d * d; });
}

float
sparse_l1(const int32_t *ia, const float *va, int na, const int32_t *ib, const float *vb, int nb) noexcept
{
	return sparse_union_sum(ia, va, na, ib, vb, nb, [](float d) { return std::fabs(d); });
}

} // namespace vx::kernels
