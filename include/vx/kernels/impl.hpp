/*
 * impl.hpp -- kernel bodies written once over xsimd, instantiated per ISA.
 *
 * Included only by the per-ISA translation units in src/kernels/ (baseline,
 * avx2, avx512). Each of them is compiled with exactly the -m flags of its
 * level and explicitly instantiates Kernels<Arch> for its own xsimd Arch; the
 * extern template declarations at the bottom stop any other TU from
 * instantiating a kernel for an ISA it was not compiled for.
 *
 * ODR safety: every kernel entry point is `flatten`, so the xsimd and std
 * inline helpers it uses are inlined into it and no out-of-line copy compiled
 * with, say, AVX-512 flags can be picked by the linker for a caller built
 * for SSE2. test/lib/isa_symbols.sh checks the objects for such shared
 * weak symbols.
 *
 * Shape of the float kernels: on AVX2/AVX-512 a long loop first consumes a
 * masked partial vector so that loads from the first operand are aligned
 * (split loads halve AVX-512 throughput); then eight independent accumulators
 * (four on SSE2) over eight vectors per iteration, which hides FMA latency so
 * that loads bound the loop; then two, one, and finally one zero-padded
 * partial vector (masked loads on AVX-512 and AVX2, register inserts on SSE2,
 * a small stack buffer elsewhere). Zero padding is neutral for every metric.
 * Everything accumulates in float32; summation order differs from the scalar
 * reference, so results agree within the usual n*eps bound.
 *
 * xsimd 8.x provides the arithmetic; what it lacks (half-float loads, byte
 * popcounts, masked tails) is below as overloads on xsimd's arch tags, the
 * most derived tag winning, each guarded by the XSIMD_WITH_* macro of the
 * flags it needs.
 */
#ifndef VX_KERNELS_IMPL_HPP
#define VX_KERNELS_IMPL_HPP

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include <xsimd/xsimd.hpp>

#include "vx/kernels/kernels.hpp"

#if defined(__GNUC__)
#define VX_FLATTEN __attribute__((flatten))
#define VX_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define VX_FLATTEN
#define VX_ALWAYS_INLINE inline
#endif

namespace vx::kernels::impl {

template <class A>
using F32 = xsimd::batch<float, A>;
template <class A>
using U8 = xsimd::batch<uint8_t, A>;
template <class A>
using U64 = xsimd::batch<uint64_t, A>;
template <class A>
using arch_tag = xsimd::kernel::requires_arch<A>;

/* ---- ISA primitives: generic fallbacks ---------------------------------- */

/* k < lanes floats from p, zero-padded (stack buffer: never reads past p+k). */
template <class A>
VX_ALWAYS_INLINE F32<A>
load_f32_tail(const float *p, size_t k, arch_tag<xsimd::generic>) noexcept
{
	alignas(64) float buf[F32<A>::size] = {};
	std::memcpy(buf, p, k * sizeof(float));
	return F32<A>::load_aligned(buf);
}

/* k < lanes bytes from p, zero-padded. */
template <class A>
VX_ALWAYS_INLINE U8<A>
load_u8_tail(const uint8_t *p, size_t k, arch_tag<xsimd::generic>) noexcept
{
	alignas(64) uint8_t buf[U8<A>::size] = {};
	std::memcpy(buf, p, k);
	return U8<A>::load_aligned(buf);
}

/* Store the first k < lanes floats of v to p. */
template <class A>
VX_ALWAYS_INLINE void
store_f32_tail(float *p, F32<A> v, size_t k, arch_tag<xsimd::generic>) noexcept
{
	alignas(64) float buf[F32<A>::size];
	v.store_aligned(buf);
	std::memcpy(p, buf, k * sizeof(float));
}

/* Sum of the lanes of a u64 batch. */
template <class A>
VX_ALWAYS_INLINE uint64_t
sum_u64(U64<A> v, arch_tag<xsimd::generic>) noexcept
{
	alignas(64) uint64_t buf[U64<A>::size];
	v.store_aligned(buf);
	uint64_t s = 0;
	for (size_t i = 0; i < U64<A>::size; i++)
		s += buf[i];
	return s;
}

/* Lane i of x shifted left by lane i of s (every lane of s < 64). */
template <class A>
VX_ALWAYS_INLINE U64<A>
shift_lanes(U64<A> x, U64<A> s, arch_tag<xsimd::generic>) noexcept
{
	alignas(64) uint64_t xs[U64<A>::size], ss[U64<A>::size];
	x.store_aligned(xs);
	s.store_aligned(ss);
	for (size_t i = 0; i < U64<A>::size; i++)
		xs[i] <<= ss[i];
	return U64<A>::load_aligned(xs);
}

/* ---- SSE2 (x86-64 baseline) --------------------------------------------- */
#if XSIMD_WITH_SSE2

/*
 * Exact half -> float without F16C: shift exponent and mantissa into float
 * position and scale by 2^112 (rebias 15 -> 127; also normalises subnormal
 * halfs exactly), then patch inf/NaN (quiet bit set, as F16C does) and the sign.
 */
static VX_ALWAYS_INLINE __m128
sse2_half4_to_float(__m128i h32) noexcept
{
	const __m128i em = _mm_and_si128(h32, _mm_set1_epi32(0x7fff));
	const __m128i sign = _mm_slli_epi32(_mm_xor_si128(h32, em), 16);
	const __m128i f = _mm_castps_si128(
		_mm_mul_ps(_mm_castsi128_ps(_mm_slli_epi32(em, 13)), _mm_castsi128_ps(_mm_set1_epi32(0x77800000))));
	/* inf/nan scaled to exponent 143 and the mantissa kept: set all exponent bits */
	const __m128i inf_exp = _mm_and_si128(_mm_cmpgt_epi32(em, _mm_set1_epi32(0x7bff)), _mm_set1_epi32(0x7f800000));
	const __m128i quiet = _mm_and_si128(_mm_cmpgt_epi32(em, _mm_set1_epi32(0x7c00)), _mm_set1_epi32(0x00400000));
	return _mm_castsi128_ps(_mm_or_si128(_mm_or_si128(f, inf_exp), _mm_or_si128(quiet, sign)));
}

/* Four halfs from p. */
template <class A>
VX_ALWAYS_INLINE F32<A>
load_f16(const uint16_t *p, arch_tag<xsimd::sse2>) noexcept
{
	__m128i h = _mm_loadl_epi64(reinterpret_cast<const __m128i *>(p));
	return sse2_half4_to_float(_mm_unpacklo_epi16(h, _mm_setzero_si128()));
}

/* k < 4 floats from p, zero-padded, without a store-forwarding stall. */
template <class A>
VX_ALWAYS_INLINE F32<A>
load_f32_tail(const float *p, size_t k, arch_tag<xsimd::sse2>) noexcept
{
	if (k == 1)
		return F32<A>(_mm_load_ss(p));
	__m128 lo = _mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i *>(p)));
	return F32<A>(k == 2 ? lo : _mm_movelh_ps(lo, _mm_load_ss(p + 2)));
}

/* k < 4 halfs from p, zero-padded. */
template <class A>
VX_ALWAYS_INLINE F32<A>
load_f16_tail(const uint16_t *p, size_t k, arch_tag<xsimd::sse2>) noexcept
{
	uint64_t bits = p[0];
	if (k > 1)
		bits |= static_cast<uint64_t>(p[1]) << 16;
	if (k > 2)
		bits |= static_cast<uint64_t>(p[2]) << 32;
	__m128i h = _mm_cvtsi64_si128(static_cast<long long>(bits));
	return F32<A>(sse2_half4_to_float(_mm_unpacklo_epi16(h, _mm_setzero_si128())));
}

/* Sum of the two u64 lanes. */
template <class A>
VX_ALWAYS_INLINE uint64_t
sum_u64(U64<A> v, arch_tag<xsimd::sse2>) noexcept
{
	__m128i x = v;
	return static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_add_epi64(x, _mm_unpackhi_epi64(x, x))));
}

/* Per-64-bit-lane popcount of x (SWAR bit counting, then psadbw). */
template <class A>
VX_ALWAYS_INLINE U64<A>
popcount_u64(U8<A> x, arch_tag<xsimd::sse2>) noexcept
{
	__m128i v = x;
	v = _mm_sub_epi8(v, _mm_and_si128(_mm_srli_epi16(v, 1), _mm_set1_epi8(0x55)));
	v = _mm_add_epi8(_mm_and_si128(v, _mm_set1_epi8(0x33)), _mm_and_si128(_mm_srli_epi16(v, 2), _mm_set1_epi8(0x33)));
	v = _mm_and_si128(_mm_add_epi8(v, _mm_srli_epi16(v, 4)), _mm_set1_epi8(0x0f));
	return U64<A>(_mm_sad_epu8(v, _mm_setzero_si128()));
}

#endif

/* ---- AVX2 + FMA + F16C --------------------------------------------------- */
#if XSIMD_WITH_AVX2

/* Eight halfs from p (F16C). */
template <class A>
VX_ALWAYS_INLINE F32<A>
load_f16(const uint16_t *p, arch_tag<xsimd::avx>) noexcept
{
	return F32<A>(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p))));
}

/* Sliding window of lane masks: 8 - k + window gives k leading all-ones lanes. */
alignas(64) static constexpr int32_t kAvxMaskWindow[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

/* k < 8 floats from p with a masked load (masked lanes never fault). */
template <class A>
VX_ALWAYS_INLINE F32<A>
load_f32_tail(const float *p, size_t k, arch_tag<xsimd::avx>) noexcept
{
	__m256i mask = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(kAvxMaskWindow + 8 - k));
	return F32<A>(_mm256_maskload_ps(p, mask));
}

/* k < 8 halfs from p: whole pairs with a masked 32-bit load, an odd last half inserted. */
template <class A>
VX_ALWAYS_INLINE F32<A>
load_f16_tail(const uint16_t *p, size_t k, arch_tag<xsimd::avx>) noexcept
{
	__m128i mask = _mm_loadu_si128(reinterpret_cast<const __m128i *>(kAvxMaskWindow + 8 - k / 2));
	__m128i h = _mm_maskload_epi32(reinterpret_cast<const int *>(p), mask);
	if (k & 1) {
		/* 16-bit lane k-1 of the window below is all ones, the others zero */
		static constexpr int16_t lane_window[15] = {0, 0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0};
		__m128i lane = _mm_loadu_si128(reinterpret_cast<const __m128i *>(lane_window + 8 - k));
		h = _mm_or_si128(h, _mm_and_si128(_mm_set1_epi16(static_cast<short>(p[k - 1])), lane));
	}
	return F32<A>(_mm256_cvtph_ps(h));
}

/* Sum of the four u64 lanes. */
template <class A>
VX_ALWAYS_INLINE uint64_t
sum_u64(U64<A> v, arch_tag<xsimd::avx>) noexcept
{
	__m256i x = v;
	__m128i y = _mm_add_epi64(_mm256_castsi256_si128(x), _mm256_extracti128_si256(x, 1));
	return static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_add_epi64(y, _mm_unpackhi_epi64(y, y))));
}

/* Lane i of x shifted left by lane i of s (vpsllvq). */
template <class A>
VX_ALWAYS_INLINE U64<A>
shift_lanes(U64<A> x, U64<A> s, arch_tag<xsimd::avx2>) noexcept
{
	return U64<A>(_mm256_sllv_epi64(x, s));
}

/* Per-64-bit-lane popcount of x (nibble table lookup with vpshufb, then vpsadbw). */
template <class A>
VX_ALWAYS_INLINE U64<A>
popcount_u64(U8<A> x, arch_tag<xsimd::avx>) noexcept
{
	const __m256i table = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, /* both lanes */
										   0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
	const __m256i low4 = _mm256_set1_epi8(0x0f);
	__m256i v = x;
	__m256i lo = _mm256_shuffle_epi8(table, _mm256_and_si256(v, low4));
	__m256i hi = _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(v, 4), low4));
	return U64<A>(_mm256_sad_epu8(_mm256_add_epi8(lo, hi), _mm256_setzero_si256()));
}

#endif

/* ---- AVX-512 F/BW/DQ/VL -------------------------------------------------- */
#if XSIMD_WITH_AVX512BW

/* Sixteen halfs from p. */
template <class A>
VX_ALWAYS_INLINE F32<A>
load_f16(const uint16_t *p, arch_tag<xsimd::avx512f>) noexcept
{
	/* maskz with a full mask: same instruction, but avoids GCC 12's bogus
	 * -Wmaybe-uninitialized on _mm512_undefined_ps (GCC PR 105593) */
	return F32<A>(_mm512_maskz_cvtph_ps(0xffff, _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p))));
}

/* k < 16 halfs from p, masked (zero-filled, never faults). */
template <class A>
VX_ALWAYS_INLINE F32<A>
load_f16_tail(const uint16_t *p, size_t k, arch_tag<xsimd::avx512f>) noexcept
{
	__mmask16 m = static_cast<__mmask16>((1u << k) - 1);
	return F32<A>(_mm512_maskz_cvtph_ps(0xffff, _mm256_maskz_loadu_epi16(m, p)));
}

/* k < 16 floats from p, masked. */
template <class A>
VX_ALWAYS_INLINE F32<A>
load_f32_tail(const float *p, size_t k, arch_tag<xsimd::avx512f>) noexcept
{
	return F32<A>(_mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << k) - 1), p));
}

/* Store the first k < 16 lanes of v, masked. */
template <class A>
VX_ALWAYS_INLINE void
store_f32_tail(float *p, F32<A> v, size_t k, arch_tag<xsimd::avx512f>) noexcept
{
	_mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << k) - 1), v);
}

/* k < 64 bytes from p, masked. */
template <class A>
VX_ALWAYS_INLINE U8<A>
load_u8_tail(const uint8_t *p, size_t k, arch_tag<xsimd::avx512f>) noexcept
{
	return U8<A>(_mm512_maskz_loadu_epi8((uint64_t{1} << k) - 1, p));
}

/* Sum of the eight u64 lanes (maskz extract: see load_f16 on GCC PR 105593). */
template <class A>
VX_ALWAYS_INLINE uint64_t
sum_u64(U64<A> v, arch_tag<xsimd::avx512f>) noexcept
{
	__m512i x = v;
	__m256i y =
		_mm256_add_epi64(_mm512_maskz_extracti64x4_epi64(0xff, x, 0), _mm512_maskz_extracti64x4_epi64(0xff, x, 1));
	__m128i z = _mm_add_epi64(_mm256_castsi256_si128(y), _mm256_extracti128_si256(y, 1));
	return static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_add_epi64(z, _mm_unpackhi_epi64(z, z))));
}

/* Lane i of x shifted left by lane i of s (vpsllvq). */
template <class A>
VX_ALWAYS_INLINE U64<A>
shift_lanes(U64<A> x, U64<A> s, arch_tag<xsimd::avx512f>) noexcept
{
	return U64<A>(_mm512_maskz_sllv_epi64(0xff, x, s)); /* maskz: GCC 12 PR 105593, as sum_u64 */
}

/* Per-64-bit-lane popcount of x (nibble table lookup with vpshufb, then vpsadbw). */
template <class A>
VX_ALWAYS_INLINE U64<A>
popcount_u64(U8<A> x, arch_tag<xsimd::avx512f>) noexcept
{
	/* bytes 0,1,1,2, 1,2,2,3, 1,2,2,3, 2,3,3,4 in every 128-bit lane */
	const __m512i table = _mm512_set4_epi32(0x04030302, 0x03020201, 0x03020201, 0x02010100);
	const __m512i low4 = _mm512_set1_epi8(0x0f);
	__m512i v = x;
	__m512i lo = _mm512_shuffle_epi8(table, _mm512_and_si512(v, low4));
	__m512i hi = _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi16(v, 4), low4));
	return U64<A>(_mm512_sad_epu8(_mm512_add_epi8(lo, hi), _mm512_setzero_si512()));
}

#endif

/* ---- NEON (aarch64 baseline) --------------------------------------------- */
#if XSIMD_WITH_NEON64

/* Four halfs from p (fcvtl; FP16 conversion is part of ARMv8 AdvSIMD). */
template <class A>
VX_ALWAYS_INLINE F32<A>
load_f16(const uint16_t *p, arch_tag<xsimd::neon64>) noexcept
{
	return F32<A>(vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))));
}

/* Per-64-bit-lane popcount of x (cnt, then pairwise widening adds). */
template <class A>
VX_ALWAYS_INLINE U64<A>
popcount_u64(U8<A> x, arch_tag<xsimd::neon64>) noexcept
{
	return U64<A>(vpaddlq_u32(vpaddlq_u16(vpaddlq_u8(vcntq_u8(x)))));
}

/* Lane i of x shifted left by lane i of s (ushl). */
template <class A>
VX_ALWAYS_INLINE U64<A>
shift_lanes(U64<A> x, U64<A> s, arch_tag<xsimd::neon64>) noexcept
{
	return U64<A>(vshlq_u64(x, vreinterpretq_s64_u64(s)));
}

#endif

/* k < lanes halfs from p, zero-padded (generic: via a stack buffer). */
template <class A>
VX_ALWAYS_INLINE F32<A>
load_f16_tail(const uint16_t *p, size_t k, arch_tag<xsimd::generic>) noexcept
{
	alignas(64) uint16_t buf[F32<A>::size] = {};
	std::memcpy(buf, p, k * sizeof(uint16_t));
	return load_f16<A>(buf, A{});
}

/* ---- element loaders ----------------------------------------------------- */

/* Loads float lanes from an array of T (float or IEEE half bits). */
template <class A, class T>
struct Loader;

template <class A>
struct Loader<A, float>
{
	static VX_ALWAYS_INLINE F32<A>
	full(const float *p) noexcept
	{
		return F32<A>::load_unaligned(p);
	}
	static VX_ALWAYS_INLINE F32<A>
	tail(const float *p, size_t k) noexcept
	{
		return load_f32_tail<A>(p, k, A{});
	}
};

template <class A>
struct Loader<A, uint16_t>
{
	static VX_ALWAYS_INLINE F32<A>
	full(const uint16_t *p) noexcept
	{
		return load_f16<A>(p, A{});
	}
	static VX_ALWAYS_INLINE F32<A>
	tail(const uint16_t *p, size_t k) noexcept
	{
		return load_f16_tail<A>(p, k, A{});
	}
};

/* ---- per-element accumulation steps -------------------------------------- */

/* Squared Euclidean: acc += (x - y)^2 */
struct L2Step
{
	template <class B>
	static VX_ALWAYS_INLINE B
	step(B acc, B x, B y) noexcept
	{
		B d = x - y;
		return xsimd::fma(d, d, acc);
	}
};

/* Inner product: acc += x * y */
struct IpStep
{
	template <class B>
	static VX_ALWAYS_INLINE B
	step(B acc, B x, B y) noexcept
	{
		return xsimd::fma(x, y, acc);
	}
};

/* Taxicab: acc += |x - y| */
struct L1Step
{
	template <class B>
	static VX_ALWAYS_INLINE B
	step(B acc, B x, B y) noexcept
	{
		return acc + xsimd::abs(x - y);
	}
};

/* ---- generic kernel bodies ------------------------------------------------ */

/*
 * Independent accumulators per kernel: enough to cover FMA latency (4 cycles,
 * 2 per cycle) so that loads, not the dependency chains, bound the loop. SSE2
 * has only 16 registers and its half conversion needs six constants, so it
 * gets four (it has no FMA and is bound by the conversion anyway).
 */
template <class A>
inline constexpr size_t kPairAccumulators = std::is_base_of_v<xsimd::sse2, A> ? 4 : 8;
inline constexpr size_t kCosineAccumulators = 4; /* times three sums */

/* Whether the ISA has cheap masked loads, so a loop can start with a partial
 * vector that aligns the first operand (split loads cost up to 2x on AVX-512). */
template <class A>
inline constexpr bool kAlignHead = std::is_base_of_v<xsimd::avx, A> || std::is_base_of_v<xsimd::avx512f, A>;

/* Elements to process before p is aligned to a full vector load, if worth it (else 0). */
template <class A, class T>
VX_ALWAYS_INLINE size_t
head_count(const T *p, size_t n) noexcept
{
	if constexpr (kAlignHead<A>) {
		constexpr size_t bytes = F32<A>::size * sizeof(T);
		size_t head = (bytes - reinterpret_cast<uintptr_t>(p) % bytes) % bytes / sizeof(T);
		return n >= 16 * F32<A>::size ? head : 0; /* short vectors: the peel costs more than splits */
	} else {
		return 0;
	}
}

/* Sum of an array of N (a power of two) batches, pairwise. */
template <size_t N, class B>
VX_ALWAYS_INLINE B
sum_batches(const B *acc) noexcept
{
	if constexpr (N == 1)
		return acc[0];
	else
		return sum_batches<N / 2>(acc) + sum_batches<N / 2>(acc + N / 2);
}

/* sum over i of Step(a[i], b[i]). */
template <class A, class Step, class T>
VX_ALWAYS_INLINE float
reduce_pair(const T *a, const T *b, size_t n) noexcept
{
	using B = F32<A>;
	using L = Loader<A, T>;
	constexpr size_t W = B::size, U = kPairAccumulators<A>;
	B acc[U];
#pragma GCC unroll 8
	for (size_t u = 0; u < U; u++)
		acc[u] = B(0.0f);
	if (size_t head = head_count<A>(a, n)) {
		acc[1] = Step::step(acc[1], L::tail(a, head), L::tail(b, head));
		a += head;
		b += head;
		n -= head;
	}
	size_t i = 0;
	for (; i + U * W <= n; i += U * W)
#pragma GCC unroll 8
		for (size_t u = 0; u < U; u++)
			acc[u] = Step::step(acc[u], L::full(a + i + u * W), L::full(b + i + u * W));
	for (; i + 2 * W <= n; i += 2 * W) {
		acc[0] = Step::step(acc[0], L::full(a + i), L::full(b + i));
		acc[1] = Step::step(acc[1], L::full(a + i + W), L::full(b + i + W));
	}
	if (i + W <= n) {
		acc[2] = Step::step(acc[2], L::full(a + i), L::full(b + i));
		i += W;
	}
	if (i < n)
		acc[3] = Step::step(acc[3], L::tail(a + i, n - i), L::tail(b + i, n - i));
	return xsimd::hadd(sum_batches<U>(acc));
}

/* One cosine step: dot += x * y, na += x * x, nb += y * y. */
template <class B>
VX_ALWAYS_INLINE void
cosine_step(B &dot, B &na, B &nb, B x, B y) noexcept
{
	dot = xsimd::fma(x, y, dot);
	na = xsimd::fma(x, x, na);
	nb = xsimd::fma(y, y, nb);
}

/* Dot product and both squared norms in one pass. */
template <class A, class T>
VX_ALWAYS_INLINE CosineParts
cosine_parts(const T *a, const T *b, size_t n) noexcept
{
	using B = F32<A>;
	using L = Loader<A, T>;
	constexpr size_t W = B::size, U = kCosineAccumulators;
	B dot[U], na[U], nb[U];
#pragma GCC unroll 8
	for (size_t u = 0; u < U; u++)
		dot[u] = na[u] = nb[u] = B(0.0f);
	/* partial vectors (alignment head, tail) go to accumulator 1 */
	if (size_t head = head_count<A>(a, n)) {
		cosine_step(dot[1], na[1], nb[1], L::tail(a, head), L::tail(b, head));
		a += head;
		b += head;
		n -= head;
	}
	size_t i = 0;
	for (; i + U * W <= n; i += U * W)
#pragma GCC unroll 8
		for (size_t u = 0; u < U; u++)
			cosine_step(dot[u], na[u], nb[u], L::full(a + i + u * W), L::full(b + i + u * W));
	for (; i + W <= n; i += W)
		cosine_step(dot[0], na[0], nb[0], L::full(a + i), L::full(b + i));
	if (i < n)
		cosine_step(dot[1], na[1], nb[1], L::tail(a + i, n - i), L::tail(b + i, n - i));
	return CosineParts{xsimd::hadd(sum_batches<U>(dot)), xsimd::hadd(sum_batches<U>(na)),
					   xsimd::hadd(sum_batches<U>(nb))};
}

/* One query q against four vectors v[0..3]: out[j] = sum Step(q[i], v[j][i]). */
template <class A, class Step, class T>
VX_ALWAYS_INLINE void
reduce_batch4(const T *q, const T *const *v, size_t n, float *out) noexcept
{
	using B = F32<A>;
	using L = Loader<A, T>;
	constexpr size_t W = B::size;
	const T *v0 = v[0], *v1 = v[1], *v2 = v[2], *v3 = v[3];
	B s0(0.0f), s1(0.0f), s2(0.0f), s3(0.0f), t0(0.0f), t1(0.0f), t2(0.0f), t3(0.0f);
	size_t i = 0;
	for (; i + 2 * W <= n; i += 2 * W) {
		B x = L::full(q + i);
		s0 = Step::step(s0, x, L::full(v0 + i));
		s1 = Step::step(s1, x, L::full(v1 + i));
		s2 = Step::step(s2, x, L::full(v2 + i));
		s3 = Step::step(s3, x, L::full(v3 + i));
		B y = L::full(q + i + W);
		t0 = Step::step(t0, y, L::full(v0 + i + W));
		t1 = Step::step(t1, y, L::full(v1 + i + W));
		t2 = Step::step(t2, y, L::full(v2 + i + W));
		t3 = Step::step(t3, y, L::full(v3 + i + W));
	}
	for (; i < n; i += W) {
		bool full = i + W <= n;
		size_t k = n - i;
		B x = full ? L::full(q + i) : L::tail(q + i, k);
		s0 = Step::step(s0, x, full ? L::full(v0 + i) : L::tail(v0 + i, k));
		s1 = Step::step(s1, x, full ? L::full(v1 + i) : L::tail(v1 + i, k));
		s2 = Step::step(s2, x, full ? L::full(v2 + i) : L::tail(v2 + i, k));
		s3 = Step::step(s3, x, full ? L::full(v3 + i) : L::tail(v3 + i, k));
	}
	out[0] = xsimd::hadd(s0 + t0);
	out[1] = xsimd::hadd(s1 + t1);
	out[2] = xsimd::hadd(s2 + t2);
	out[3] = xsimd::hadd(s3 + t3);
}

/* Whether byte tails are done with masked vector loads (else 64-bit scalar words). */
template <class A>
inline constexpr bool kMaskedByteTail = std::is_base_of_v<xsimd::avx512f, A>;

/* A 64-bit word from p (unaligned). */
static VX_ALWAYS_INLINE uint64_t
load_word(const uint8_t *p) noexcept
{
	uint64_t w;
	std::memcpy(&w, p, sizeof(w));
	return w;
}

/*
 * out[k] = popcount of combine[k](a, b) over nbytes bytes, for each combiner
 * (generic lambdas, applied to byte batches and to uint64_t words alike). The
 * index pack I numbers the combiners so that every accumulator index is a
 * constant and the accumulators stay in registers.
 */
template <class A, size_t... I, class... Combine>
VX_ALWAYS_INLINE void
popcounts_impl(std::index_sequence<I...>, const uint8_t *a, const uint8_t *b, size_t n, uint64_t *out,
			   Combine... combine) noexcept
{
	using V = U8<A>;
	constexpr size_t W = V::size;
	U64<A> acc0[] = {((void) I, U64<A>(uint64_t{0}))...};
	U64<A> acc1[] = {((void) I, U64<A>(uint64_t{0}))...};
	size_t i = 0;
	for (; i + 2 * W <= n; i += 2 * W) {
		V x0 = V::load_unaligned(a + i), y0 = V::load_unaligned(b + i);
		V x1 = V::load_unaligned(a + i + W), y1 = V::load_unaligned(b + i + W);
		((acc0[I] += popcount_u64<A>(combine(x0, y0), A{})), ...);
		((acc1[I] += popcount_u64<A>(combine(x1, y1), A{})), ...);
	}
	if (i + W <= n) {
		V x = V::load_unaligned(a + i), y = V::load_unaligned(b + i);
		((acc0[I] += popcount_u64<A>(combine(x, y), A{})), ...);
		i += W;
	}
	/* a masked tail after full vectors; short strings are cheaper word by word */
	if constexpr (kMaskedByteTail<A>) {
		if (i < n && n >= W) {
			V x = load_u8_tail<A>(a + i, n - i, A{}), y = load_u8_tail<A>(b + i, n - i, A{});
			((acc1[I] += popcount_u64<A>(combine(x, y), A{})), ...);
			i = n;
		}
	}
	if (i == 0) /* no vector work: skip the horizontal sums */
		((out[I] = 0), ...);
	else
		((out[I] = sum_u64<A>(acc0[I] + acc1[I], A{})), ...);
	for (; i + 8 <= n; i += 8) {
		uint64_t x = load_word(a + i), y = load_word(b + i);
		((out[I] += static_cast<uint64_t>(__builtin_popcountll(combine(x, y)))), ...);
	}
	for (; i < n; i++) {
		uint64_t x = a[i], y = b[i];
		((out[I] += static_cast<uint64_t>(__builtin_popcountll(combine(x, y)))), ...);
	}
}

/* See popcounts_impl. */
template <class A, class... Combine>
VX_ALWAYS_INLINE void
popcounts(const uint8_t *a, const uint8_t *b, size_t n, uint64_t *out, Combine... combine) noexcept
{
	popcounts_impl<A>(std::index_sequence_for<Combine...>{}, a, b, n, out, combine...);
}

/*
 * Per-lane sum over j < a_bits, k < b_bits of popcount(a_j & b_k) << (j + k)
 * for one vector of bytes of every plane (load(plane, i) reads the vector
 * of plane `plane` of a or b), the weights applied by Horner's scheme
 * (doubling by an add, which also avoids GCC 12's bogus
 * -Wmaybe-uninitialized on AVX-512 shifts, PR 105593).
 */
template <class A, class LoadA, class LoadB>
VX_ALWAYS_INLINE U64<A>
bitplane_vector(uint32_t a_bits, uint32_t b_bits, LoadA load_a, LoadB load_b) noexcept
{
	U64<A> total(uint64_t{0});
	for (uint32_t k = b_bits; k-- > 0;) {
		U8<A> y = load_b(k);
		U64<A> row(uint64_t{0});
		for (uint32_t j = a_bits; j-- > 0;)
			row = row + row + popcount_u64<A>(load_a(j) & y, A{});
		total = total + total + row;
	}
	return total;
}

/*
 * sum over j < a_bits, k < b_bits of popcount(a_j & b_k) << (j + k), the
 * planes being n bytes apart (n a multiple of 8). One pass over the planes
 * with one accumulator: for every vector of bytes, each b plane is loaded
 * once and each a plane once per b plane (from L1), and the per-lane counts
 * are weighted before they are added, so there is a single horizontal sum
 * instead of one per plane pair (which is what a_bits * b_bits calls of
 * popcounts() would cost; the planes of a 768-dimension vector are 96
 * bytes, so those fixed costs would dominate). Lanes cannot overflow: a
 * lane gains less than 64 << 15 per vector.
 */
template <class A>
VX_ALWAYS_INLINE uint64_t
bitplane_dot_impl(const uint8_t *a, uint32_t a_bits, const uint8_t *b, uint32_t b_bits, size_t n) noexcept
{
	using V = U8<A>;
	constexpr size_t W = V::size;
	U64<A> acc(uint64_t{0});
	bool vector_work = n >= W;
	size_t i = 0;
	for (; i + W <= n; i += W)
		acc += bitplane_vector<A>(
			a_bits, b_bits, [&](uint32_t j) { return V::load_unaligned(a + j * n + i); },
			[&](uint32_t k) { return V::load_unaligned(b + k * n + i); });
	/* a masked tail of three words or more; fewer are cheaper word by word */
	if constexpr (kMaskedByteTail<A>) {
		if (n - i >= 24) {
			size_t rest = n - i;
			acc += bitplane_vector<A>(
				a_bits, b_bits, [&](uint32_t j) { return load_u8_tail<A>(a + j * n + i, rest, A{}); },
				[&](uint32_t k) { return load_u8_tail<A>(b + k * n + i, rest, A{}); });
			i = n;
			vector_work = true;
		}
	}
	uint64_t sum = vector_work ? sum_u64<A>(acc, A{}) : 0; /* no vector work: skip the horizontal sum */
	for (; i < n; i += 8)
		for (uint32_t k = 0; k < b_bits; k++) {
			uint64_t y = load_word(b + k * n + i);
			for (uint32_t j = 0; j < a_bits; j++)
				sum += static_cast<uint64_t>(__builtin_popcountll(load_word(a + j * n + i) & y)) << (j + k);
		}
	return sum;
}

/*
 * See KernelTable::code_dot. For each vector of code bytes, the query
 * planes' popcounts are weighted by Horner's scheme in every lane, then each
 * lane is shifted by its code plane; the tail is a masked vector on
 * AVX-512, else words.
 */
template <class A>
VX_ALWAYS_INLINE uint64_t
code_dot_impl(const uint8_t *code, const uint8_t *spread, const uint64_t *shift, uint32_t query_bits,
			  size_t n) noexcept
{
	using V = U8<A>;
	constexpr size_t W = V::size;
	U64<A> acc(uint64_t{0});
	auto add_vector = [&](V c, size_t i, auto load_spread) {
		U64<A> t(uint64_t{0});
		for (uint32_t k = query_bits; k-- > 0;)
			t = t + t + popcount_u64<A>(c & load_spread(k), A{});
		acc += shift_lanes<A>(t, U64<A>::load_unaligned(shift + i / 8), A{});
	};
	size_t i = 0;
	for (; i + W <= n; i += W)
		add_vector(V::load_unaligned(code + i), i, [&](uint32_t k) { return V::load_unaligned(spread + k * n + i); });
	if constexpr (kMaskedByteTail<A>) {
		if (i < n) {
			size_t rest = n - i;
			add_vector(load_u8_tail<A>(code + i, rest, A{}), i,
					   [&](uint32_t k) { return load_u8_tail<A>(spread + k * n + i, rest, A{}); });
			i = n;
		}
	}
	uint64_t sum = i > 0 ? sum_u64<A>(acc, A{}) : 0;
	for (; i < n; i += 8) {
		uint64_t x = load_word(code + i);
		for (uint32_t k = 0; k < query_bits; k++)
			sum += static_cast<uint64_t>(__builtin_popcountll(x & load_word(spread + k * n + i))) << (shift[i / 8] + k);
	}
	return sum;
}

/* ---- the kernels of one ISA (the KernelTable entries) -------------------- */

/*
 * The entry points are the flatten functions below; the pair, cosine and
 * batch kernels are member templates over the step and the element type (T
 * is float or uint16_t half bits), instantiated by table() in the ISA's own
 * translation unit.
 */
template <class A>
struct Kernels
{
	/* sum over i of Step(a[i], b[i]) */
	template <class Step, class T>
	static VX_FLATTEN float
	pair(const T *a, const T *b, size_t n) noexcept
	{
		return reduce_pair<A, Step>(a, b, n);
	}

	/* dot product and both squared norms */
	template <class T>
	static VX_FLATTEN CosineParts
	cosine(const T *a, const T *b, size_t n) noexcept
	{
		return cosine_parts<A>(a, b, n);
	}

	/* out[j] = sum over i of Step(q[i], v[j][i]) for j < 4 */
	template <class Step, class T>
	static VX_FLATTEN void
	batch4(const T *q, const T *const *v, size_t n, float *out) noexcept
	{
		reduce_batch4<A, Step>(q, v, n, out);
	}

	/* half -> float conversion of n elements */
	static VX_FLATTEN void
	f16_to_f32(const uint16_t *in, float *out, size_t n) noexcept
	{
		constexpr size_t W = F32<A>::size;
		size_t i = 0;
		for (; i + W <= n; i += W)
			load_f16<A>(in + i, A{}).store_unaligned(out + i);
		if (i < n)
			store_f32_tail<A>(out + i, load_f16_tail<A>(in + i, n - i, A{}), n - i, A{});
	}

	/* popcount(a ^ b) */
	static VX_FLATTEN uint64_t
	hamming(const uint8_t *a, const uint8_t *b, size_t nbytes) noexcept
	{
		uint64_t count;
		popcounts<A>(a, b, nbytes, &count, [](auto x, auto y) { return x ^ y; });
		return count;
	}

	/* popcount(a & b), popcount(a), popcount(b) in one pass */
	static VX_FLATTEN JaccardCounts
	jaccard(const uint8_t *a, const uint8_t *b, size_t nbytes) noexcept
	{
		uint64_t c[3];
		popcounts<A>(
			a, b, nbytes, c, [](auto x, auto y) { return x & y; }, [](auto x, auto) { return x; },
			[](auto, auto y) { return y; });
		return JaccardCounts{c[0], c[1], c[2]};
	}

	/* sum over elements of a_i * b_i, both stored as bit planes (see KernelTable::bitplane_dot) */
	static VX_FLATTEN uint64_t
	bitplane_dot(const uint8_t *a, uint32_t a_bits, const uint8_t *b, uint32_t b_bits, size_t plane_bytes) noexcept
	{
		/* diskann's estimates (codes of 1 or 2 bits against 4-bit queries) with their plane loops unrolled */
		if (b_bits == 4 && a_bits == 1)
			return bitplane_dot_impl<A>(a, 1, b, 4, plane_bytes);
		if (b_bits == 4 && a_bits == 2)
			return bitplane_dot_impl<A>(a, 2, b, 4, plane_bytes);
		return bitplane_dot_impl<A>(a, a_bits, b, b_bits, plane_bytes);
	}

	/* see KernelTable::code_dot */
	static VX_FLATTEN uint64_t
	code_dot(const uint8_t *code, const uint8_t *spread, const uint64_t *shift, uint32_t query_bits,
			 size_t code_bytes) noexcept
	{
		if (query_bits == 4) /* diskann's queries: the plane loop unrolled */
			return code_dot_impl<A>(code, spread, shift, 4, code_bytes);
		return code_dot_impl<A>(code, spread, shift, query_bits, code_bytes);
	}

	/* The KernelTable of this ISA. */
	static constexpr KernelTable
	table(Level level, const char *name) noexcept
	{
		KernelTable t{};
		t.level = level;
		t.name = name;
		t.l2sq_f32 = pair<L2Step, float>;
		t.ip_f32 = pair<IpStep, float>;
		t.cosine_f32 = cosine<float>;
		t.l1_f32 = pair<L1Step, float>;
		t.l2sq_f16 = pair<L2Step, uint16_t>;
		t.ip_f16 = pair<IpStep, uint16_t>;
		t.cosine_f16 = cosine<uint16_t>;
		t.l1_f16 = pair<L1Step, uint16_t>;
		t.f16_to_f32 = f16_to_f32;
		t.hamming = hamming;
		t.jaccard = jaccard;
		t.l2sq_f32_batch4 = batch4<L2Step, float>;
		t.ip_f32_batch4 = batch4<IpStep, float>;
		t.l1_f32_batch4 = batch4<L1Step, float>;
		t.l2sq_f16_batch4 = batch4<L2Step, uint16_t>;
		t.ip_f16_batch4 = batch4<IpStep, uint16_t>;
		t.l1_f16_batch4 = batch4<L1Step, uint16_t>;
		t.bitplane_dot = bitplane_dot;
		t.code_dot = code_dot;
		return t;
	}
};

/* The xsimd Arch of each level; each is instantiated only in its own TU. */
#if defined(__x86_64__)
using BaselineArch = xsimd::sse2;
using Avx2Arch = xsimd::fma3<xsimd::avx2>;
using Avx512Arch = xsimd::avx512bw;
extern template struct Kernels<BaselineArch>;
extern template struct Kernels<Avx2Arch>;
extern template struct Kernels<Avx512Arch>;
#elif defined(__aarch64__)
using BaselineArch = xsimd::neon64;
extern template struct Kernels<BaselineArch>;
#endif

} // namespace vx::kernels::impl

#endif /* VX_KERNELS_IMPL_HPP */
