/*
 * kernels_test.cpp -- every SIMD level against the scalar reference.
 *
 * Distances: random data from fixed seeds, dimensions 1..33 plus 64 .. 16000,
 * start offsets of 0..3 elements into buffers of exactly the needed size (so
 * ASan catches any over-read). Float results are compared with the exact sum
 * (in double) of the same float32 terms; both the level and the scalar
 * reference must be within gamma(n) * sum|term|, the classical bound for any
 * order of float32 summation of n terms, so the tolerance scales with the
 * dimension and a missing or doubled element is still caught at small n.
 * Bit kernels, half conversions and sparse kernels must match exactly.
 * Levels the CPU lacks are reported as skipped, never passed.
 */
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "vx/kernels/kernels.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace vx::kernels {

/* gtest prints levels by number (instead of as raw bytes). */
void
PrintTo(Level level, std::ostream *os)
{
	*os << "level " << static_cast<int>(level);
}

namespace {

const std::vector<size_t> kDims = [] {
	std::vector<size_t> d;
	for (size_t n = 1; n <= 33; n++)
		d.push_back(n);
	for (size_t n : {63, 64, 65, 128, 255, 768, 1536, 2000, 16000})
		d.push_back(n);
	return d;
}();

constexpr double kU = 1.0 / (1 << 24); /* unit roundoff of float32 */

/* Error bound gamma(k) = k*u / (1 - k*u) of a k-operation float32 sum. */
double
gamma_bound(size_t k)
{
	double ku = static_cast<double>(k) * kU;
	return ku / (1 - ku);
}

/* Exact (double) sum of float32 terms and the tolerance a float32 sum of them may have. */
struct ExactSum
{
	double sum = 0;
	double abs_sum = 0;

	void
	add(double term)
	{
		sum += term;
		abs_sum += std::fabs(term);
	}
	double
	tolerance(size_t n) const
	{
		return gamma_bound(n + 2) * abs_sum + 1e-30;
	}
};

/* The float the element stands for. */
float
value(float x)
{
	return x;
}
float
value(uint16_t h)
{
	return half_to_float(h);
}

/* Exact references for the four metrics, from the same float32 terms the kernels form. */
template <class T>
ExactSum
exact_l2sq(const T *a, const T *b, size_t n)
{
	ExactSum s;
	for (size_t i = 0; i < n; i++) {
		float d = value(a[i]) - value(b[i]);
		s.add(static_cast<double>(d) * d);
	}
	return s;
}

template <class T>
ExactSum
exact_ip(const T *a, const T *b, size_t n)
{
	ExactSum s;
	for (size_t i = 0; i < n; i++)
		s.add(static_cast<double>(value(a[i])) * value(b[i]));
	return s;
}

template <class T>
ExactSum
exact_l1(const T *a, const T *b, size_t n)
{
	ExactSum s;
	for (size_t i = 0; i < n; i++)
		s.add(std::fabs(value(a[i]) - value(b[i])));
	return s;
}

/* Random test vectors of one element type, owned in exact-size buffers. */
template <class T>
class VectorPool
{
  public:
	/* A vector of n random elements starting `offset` elements into its buffer. */
	const T *
	make(size_t n, size_t offset, std::mt19937 &rng)
	{
		std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
		buffers_.emplace_back(offset + n);
		std::vector<T> &buf = buffers_.back();
		for (size_t i = 0; i < offset + n; i++) {
			if constexpr (std::is_same_v<T, float>)
				buf[i] = dist(rng);
			else
				buf[i] = float_to_half(dist(rng));
		}
		return buf.data() + offset;
	}

  private:
	std::vector<std::vector<T>> buffers_;
};

/* Check one float result against the exact sum and its bound. */
void
expect_close(float got, const ExactSum &exact, size_t n, const char *what)
{
	EXPECT_NEAR(got, exact.sum, exact.tolerance(n)) << what << " n=" << n;
}

/* ---- fixture over the SIMD levels ---------------------------------------- */

class LevelTest : public ::testing::TestWithParam<Level>
{
  protected:
	void
	SetUp() override
	{
		table_ = table_for(GetParam());
		if (table_ == nullptr)
			GTEST_SKIP() << "level " << static_cast<int>(GetParam()) << " not supported by this CPU or build";
		scalar_ = table_for(Level::Scalar);
		ASSERT_NE(scalar_, nullptr);
	}

	/* Runs check(n, offset_a, offset_b, rng) for every dimension and offset pair. */
	template <class Fn>
	void
	for_each_shape(Fn check)
	{
		std::mt19937 rng(12345);
		for (size_t n : kDims)
			for (size_t off = 0; off < 4; off++) {
				SCOPED_TRACE(::testing::Message() << "n=" << n << " offset=" << off);
				check(n, off, (off + 1) % 4, rng);
				if (::testing::Test::HasFailure())
					return;
			}
	}

	const KernelTable *table_ = nullptr;
	const KernelTable *scalar_ = nullptr;
};

/* Test name suffix of a level. */
std::string
level_label(const ::testing::TestParamInfo<Level> &info)
{
	switch (info.param) {
		case Level::Baseline:
			return "Baseline";
		case Level::AVX2:
			return "AVX2";
		case Level::AVX512:
			return "AVX512";
		default:
			return "Scalar";
	}
}

INSTANTIATE_TEST_SUITE_P(Simd, LevelTest, ::testing::Values(Level::Baseline, Level::AVX2, Level::AVX512), level_label);

/* The four float kernels of one element type against exact sums, for the level and for scalar. */
template <class T>
void
check_metrics(const KernelTable *t, const KernelTable *scalar, const T *a, const T *b, size_t n)
{
	/* call the f32 or the f16 entry of table k, by element type */
	auto call = [&](const KernelTable *k, auto f32, auto f16) {
		if constexpr (std::is_same_v<T, float>)
			return (k->*f32)(a, b, n);
		else
			return (k->*f16)(a, b, n);
	};
	ExactSum l2 = exact_l2sq(a, b, n), ip = exact_ip(a, b, n), l1 = exact_l1(a, b, n);
	ExactSum na = exact_ip(a, a, n), nb = exact_ip(b, b, n);
	for (const KernelTable *k : {t, scalar}) {
		SCOPED_TRACE(k->name);
		expect_close(call(k, &KernelTable::l2sq_f32, &KernelTable::l2sq_f16), l2, n, "l2sq");
		expect_close(call(k, &KernelTable::ip_f32, &KernelTable::ip_f16), ip, n, "ip");
		expect_close(call(k, &KernelTable::l1_f32, &KernelTable::l1_f16), l1, n, "l1");
		CosineParts c = call(k, &KernelTable::cosine_f32, &KernelTable::cosine_f16);
		expect_close(c.dot, ip, n, "cosine dot");
		expect_close(c.norm_a, na, n, "cosine norm_a");
		expect_close(c.norm_b, nb, n, "cosine norm_b");
	}
}

TEST_P(LevelTest, Float32Metrics)
{
	VectorPool<float> pool;
	for_each_shape([&](size_t n, size_t oa, size_t ob, std::mt19937 &rng) {
		check_metrics(table_, scalar_, pool.make(n, oa, rng), pool.make(n, ob, rng), n);
	});
}

TEST_P(LevelTest, Float16Metrics)
{
	VectorPool<uint16_t> pool;
	for_each_shape([&](size_t n, size_t oa, size_t ob, std::mt19937 &rng) {
		check_metrics(table_, scalar_, pool.make(n, oa, rng), pool.make(n, ob, rng), n);
	});
}

TEST_P(LevelTest, IdenticalVectorsGiveZeroDistance)
{
	VectorPool<float> pool;
	VectorPool<uint16_t> hpool;
	std::mt19937 rng(7);
	for (size_t n : kDims) {
		const float *a = pool.make(n, 1, rng);
		const uint16_t *h = hpool.make(n, 3, rng);
		EXPECT_EQ(table_->l2sq_f32(a, a, n), 0.0f) << n;
		EXPECT_EQ(table_->l1_f32(a, a, n), 0.0f) << n;
		EXPECT_EQ(table_->l2sq_f16(h, h, n), 0.0f) << n;
		EXPECT_EQ(table_->l1_f16(h, h, n), 0.0f) << n;
	}
}

TEST_P(LevelTest, EmptyVectors)
{
	float f = 1;
	uint16_t h = 0x3c00;
	uint8_t b = 0xff;
	EXPECT_EQ(table_->l2sq_f32(&f, &f, 0), 0.0f);
	EXPECT_EQ(table_->ip_f32(&f, &f, 0), 0.0f);
	EXPECT_EQ(table_->l1_f16(&h, &h, 0), 0.0f);
	EXPECT_EQ(table_->cosine_f16(&h, &h, 0).norm_a, 0.0f);
	EXPECT_EQ(table_->hamming(&b, &b, 0), 0u);
	EXPECT_EQ(table_->jaccard(&b, &b, 0).a, 0u);
}

/* batch4 kernels: each of the four results against the exact sum. */
template <class T, class Exact>
void
check_batch4(void (*kernel)(const T *, const T *const *, size_t, float *) noexcept, Exact exact, const T *q,
			 const T *const *v, size_t n, const char *what)
{
	float out[4] = {-1, -1, -1, -1};
	kernel(q, v, n, out);
	for (int j = 0; j < 4; j++) {
		SCOPED_TRACE(::testing::Message() << what << " j=" << j);
		expect_close(out[j], exact(q, v[j], n), n, what);
	}
}

TEST_P(LevelTest, Batch4)
{
	VectorPool<float> pool;
	VectorPool<uint16_t> hpool;
	for (const KernelTable *k : {table_, scalar_}) {
		SCOPED_TRACE(k->name);
		for_each_shape([&](size_t n, size_t oa, size_t ob, std::mt19937 &rng) {
			const float *q = pool.make(n, oa, rng);
			const float *v[4];
			const uint16_t *hq = hpool.make(n, ob, rng);
			const uint16_t *hv[4];
			for (size_t j = 0; j < 4; j++) {
				v[j] = pool.make(n, (oa + j) % 4, rng);
				hv[j] = hpool.make(n, (ob + j) % 4, rng);
			}
			check_batch4(k->l2sq_f32_batch4, exact_l2sq<float>, q, v, n, "l2sq_f32_batch4");
			check_batch4(k->ip_f32_batch4, exact_ip<float>, q, v, n, "ip_f32_batch4");
			check_batch4(k->l1_f32_batch4, exact_l1<float>, q, v, n, "l1_f32_batch4");
			check_batch4(k->l2sq_f16_batch4, exact_l2sq<uint16_t>, hq, hv, n, "l2sq_f16_batch4");
			check_batch4(k->ip_f16_batch4, exact_ip<uint16_t>, hq, hv, n, "ip_f16_batch4");
			check_batch4(k->l1_f16_batch4, exact_l1<uint16_t>, hq, hv, n, "l1_f16_batch4");
		});
	}
}

/* Bit-by-bit references for the bit kernels. */
uint64_t
bit_count(const uint8_t *a, size_t nbytes)
{
	uint64_t c = 0;
	for (size_t i = 0; i < nbytes * 8; i++)
		c += (a[i / 8] >> (i % 8)) & 1;
	return c;
}

/* Random bit strings in exact-size buffers (so ASan catches any over-read). */
class BitPool
{
  public:
	explicit BitPool(uint32_t seed) : rng_(seed) {}

	/* n bytes starting `offset` bytes into their buffer, each bit set with probability density %. */
	const uint8_t *
	make(size_t n, size_t offset, int density)
	{
		bufs_.emplace_back(offset + n);
		for (auto &byte : bufs_.back()) {
			uint8_t v = 0;
			for (int bit = 0; bit < 8; bit++)
				v |= static_cast<uint8_t>((static_cast<int>(rng_() % 100) < density) << bit);
			byte = v;
		}
		return bufs_.back().data() + offset;
	}

  private:
	std::mt19937 rng_;
	std::vector<std::vector<uint8_t>> bufs_;
};

TEST_P(LevelTest, HammingAndJaccard)
{
	BitPool pool(99);
	auto make = [&](size_t n, size_t off, int density) { return pool.make(n, off, density); };
	std::vector<size_t> sizes = kDims;
	for (size_t n : {127, 129, 192, 200, 1000, 8000})
		sizes.push_back(n);
	for (size_t n : sizes)
		for (size_t off = 0; off < 4; off++)
			for (int density : {0, 10, 50, 100}) {
				SCOPED_TRACE(::testing::Message() << "nbytes=" << n << " offset=" << off << " density=" << density);
				const uint8_t *a = make(n, off, density);
				const uint8_t *b = make(n, (off + 3) % 4, 50);
				std::vector<uint8_t> x(n), both(n);
				for (size_t i = 0; i < n; i++) {
					x[i] = a[i] ^ b[i];
					both[i] = a[i] & b[i];
				}
				ASSERT_EQ(table_->hamming(a, b, n), bit_count(x.data(), n));
				JaccardCounts c = table_->jaccard(a, b, n);
				ASSERT_EQ(c.both, bit_count(both.data(), n));
				ASSERT_EQ(c.a, bit_count(a, n));
				ASSERT_EQ(c.b, bit_count(b, n));
				ASSERT_EQ(scalar_->hamming(a, b, n), bit_count(x.data(), n));
				ASSERT_EQ(scalar_->jaccard(a, b, n).both, c.both);
			}
}

/* sum over elements of a_i * b_i, reading the planes element by element (the definition). */
uint64_t
bitplane_dot_by_element(const uint8_t *a, uint32_t a_bits, const uint8_t *b, uint32_t b_bits, size_t plane_bytes)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < plane_bytes * 8; i++) {
		uint64_t ua = 0, ub = 0;
		for (uint32_t j = 0; j < a_bits; j++)
			ua |= static_cast<uint64_t>((a[j * plane_bytes + i / 8] >> (i % 8)) & 1) << j;
		for (uint32_t k = 0; k < b_bits; k++)
			ub |= static_cast<uint64_t>((b[k * plane_bytes + i / 8] >> (i % 8)) & 1) << k;
		sum += ua * ub;
	}
	return sum;
}

TEST_P(LevelTest, BitplaneDot)
{
	BitPool pool(31337);
	/* `bits` planes at an offset into an exact-size buffer */
	auto make = [&](uint32_t bits, size_t plane_bytes, size_t off, int density) {
		return pool.make(bits * plane_bytes, off, density);
	};
	for (size_t plane_bytes : {8, 16, 24, 32, 40, 56, 64, 72, 96, 128, 136, 192, 2000})
		for (uint32_t a_bits = 1; a_bits <= 8; a_bits++)
			for (uint32_t b_bits = 1; b_bits <= 8; b_bits++) {
				SCOPED_TRACE(::testing::Message()
							 << "plane_bytes=" << plane_bytes << " a_bits=" << a_bits << " b_bits=" << b_bits);
				int density = (a_bits * 7 + b_bits * 13) % 3 == 0 ? 100 : 50;
				const uint8_t *a = make(a_bits, plane_bytes, b_bits % 4, density);
				const uint8_t *b = make(b_bits, plane_bytes, a_bits % 3, 50);
				uint64_t want = scalar_->bitplane_dot(a, a_bits, b, b_bits, plane_bytes);
				ASSERT_EQ(table_->bitplane_dot(a, a_bits, b, b_bits, plane_bytes), want);
				if (plane_bytes <= 96 && (a_bits + b_bits) % 3 == 0) { /* the reference against the definition */
					ASSERT_EQ(want, bitplane_dot_by_element(a, a_bits, b, b_bits, plane_bytes));
				}
			}
	/* all ones: sum over 8 * plane_bytes elements of (2^a_bits - 1) (2^b_bits - 1) */
	std::vector<uint8_t> ones(8 * 2000, 0xff);
	ASSERT_EQ(table_->bitplane_dot(ones.data(), 8, ones.data(), 8, 2000), uint64_t{255} * 255 * 16000);
	ASSERT_EQ(table_->bitplane_dot(ones.data(), 3, ones.data(), 1, 8), uint64_t{7} * 64);
}

/*
 * code_dot against bitplane_dot over the same planes: the query planes are
 * spread over the code's layout here, as KernelTable::code_dot describes
 * (not with the quantizer's code, so the two layouts are checked apart).
 */
TEST_P(LevelTest, CodeDot)
{
	BitPool pool(4242);
	for (size_t plane_bytes : {8, 16, 24, 32, 40, 64, 96, 136, 2000})
		for (uint32_t code_bits = 1; code_bits <= 8; code_bits++)
			for (uint32_t query_bits : {1u, 2u, 4u, 5u, 8u}) {
				SCOPED_TRACE(::testing::Message() << "plane_bytes=" << plane_bytes << " code_bits=" << code_bits
												  << " query_bits=" << query_bits);
				size_t code_bytes = code_bits * plane_bytes;
				const uint8_t *code = pool.make(code_bytes, query_bits % 4, code_bits % 3 == 0 ? 100 : 50);
				const uint8_t *planes = pool.make(query_bits * plane_bytes, 0, 50);
				std::vector<uint8_t> spread(query_bits * code_bytes);
				for (uint32_t k = 0; k < query_bits; k++)
					for (size_t i = 0; i < code_bytes; i++)
						spread[k * code_bytes + i] = planes[k * plane_bytes + i % plane_bytes];
				std::vector<uint64_t> shift((code_bytes / 8 + 7) / 8 * 8, 63); /* padding words: never used */
				for (size_t w = 0; w < code_bytes / 8; w++)
					shift[w] = w * 8 / plane_bytes;
				uint64_t want = scalar_->bitplane_dot(code, code_bits, planes, query_bits, plane_bytes);
				ASSERT_EQ(scalar_->code_dot(code, spread.data(), shift.data(), query_bits, code_bytes), want);
				ASSERT_EQ(table_->code_dot(code, spread.data(), shift.data(), query_bits, code_bytes), want);
			}
}

/* f16_to_f32 of every half, bit-exact against the scalar conversion. */
TEST_P(LevelTest, HalfToFloatAllValues)
{
	std::vector<uint16_t> all(65536);
	for (size_t i = 0; i < all.size(); i++)
		all[i] = static_cast<uint16_t>(i);
	std::vector<float> out(all.size());
	table_->f16_to_f32(all.data(), out.data(), all.size());
	for (size_t i = 0; i < all.size(); i++) {
		uint32_t got, want;
		float ref = half_to_float(all[i]);
		std::memcpy(&got, &out[i], 4);
		std::memcpy(&want, &ref, 4);
		ASSERT_EQ(got, want) << "half 0x" << std::hex << i;
	}
	/* short lengths and offsets: only n outputs are written */
	for (size_t n = 0; n <= 40; n++)
		for (size_t off = 0; off < 4; off++) {
			std::vector<uint16_t> in(all.begin() + 15000, all.begin() + 15000 + off + n);
			std::vector<float> res(n + 1, 42.0f);
			table_->f16_to_f32(in.data() + off, res.data(), n);
			for (size_t i = 0; i < n; i++)
				ASSERT_EQ(res[i], half_to_float(in[off + i])) << n << " " << off << " " << i;
			ASSERT_EQ(res[n], 42.0f) << "wrote past the end, n=" << n;
		}
}

/* ---- scalar half conversion against F16C ---------------------------------- */

#if defined(__x86_64__)
__attribute__((target("f16c"))) float
hw_half_to_float(uint16_t h)
{
	return _cvtsh_ss(h);
}

__attribute__((target("f16c"))) uint16_t
hw_float_to_half(float f)
{
	return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
}
#endif

/* Bits of a float. */
uint32_t
bits_of(float f)
{
	uint32_t b;
	std::memcpy(&b, &f, 4);
	return b;
}

/* Float of given bits. */
float
float_of(uint32_t b)
{
	float f;
	std::memcpy(&f, &b, 4);
	return f;
}

class HalfConversionTest : public ::testing::Test
{
  protected:
	void
	SetUp() override
	{
#if defined(__x86_64__)
		if (!__builtin_cpu_supports("f16c"))
			GTEST_SKIP() << "CPU lacks F16C, the hardware oracle";
#else
		GTEST_SKIP() << "F16C oracle is x86-64 only";
#endif
	}

	/* Scalar float_to_half must equal F16C for f. */
	static void
	check(float f)
	{
#if defined(__x86_64__)
		ASSERT_EQ(float_to_half(f), hw_float_to_half(f)) << "float bits 0x" << std::hex << bits_of(f);
#endif
	}
};

TEST_F(HalfConversionTest, HalfToFloatMatchesF16CForAllHalfs)
{
#if defined(__x86_64__)
	for (uint32_t h = 0; h < 65536; h++)
		ASSERT_EQ(bits_of(half_to_float(static_cast<uint16_t>(h))), bits_of(hw_half_to_float(static_cast<uint16_t>(h))))
			<< "half 0x" << std::hex << h;
#endif
}

TEST_F(HalfConversionTest, RoundTripOfAllHalfs)
{
	for (uint32_t h = 0; h < 65536; h++) {
		uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
		if (exp == 0x1f && mant != 0)
			continue; /* nan payloads gain the quiet bit */
		ASSERT_EQ(float_to_half(half_to_float(static_cast<uint16_t>(h))), h) << std::hex << h;
	}
}

TEST_F(HalfConversionTest, FloatToHalfAtEveryRoundingBoundary)
{
	/* Midpoints between neighbouring halfs (ties) and their float neighbours. */
	for (uint32_t h = 0; h < 0x7c00; h++) {
		double lo = half_to_float(static_cast<uint16_t>(h));
		double hi = h == 0x7bff ? 65536.0 : static_cast<double>(half_to_float(static_cast<uint16_t>(h + 1)));
		float mid = static_cast<float>((lo + hi) / 2); /* exact: halfs have 11 significant bits */
		ASSERT_EQ(static_cast<double>(mid), (lo + hi) / 2);
		for (int32_t delta = -2; delta <= 2; delta++)
			for (uint32_t sign : {0u, 0x80000000u}) {
				check(float_of((bits_of(mid) + static_cast<uint32_t>(delta)) | sign));
				check(float_of(bits_of(static_cast<float>(lo)) | sign));
			}
	}
}

TEST_F(HalfConversionTest, FloatToHalfOverAllFloatBitPatterns)
{
	/* A strided sweep over all 2^32 patterns: every exponent, many mantissas, nans, infs. */
	for (uint64_t b = 0; b < (uint64_t{1} << 32); b += 251)
		check(float_of(static_cast<uint32_t>(b)));
	std::mt19937 rng(4242);
	for (int i = 0; i < 2000000; i++)
		check(float_of(static_cast<uint32_t>(rng())));
}

TEST(HalfConversion, KnownValues)
{
	EXPECT_EQ(float_to_half(1.0f), 0x3c00);
	EXPECT_EQ(float_to_half(-2.0f), 0xc000);
	EXPECT_EQ(float_to_half(65504.0f), 0x7bff);			  /* largest half */
	EXPECT_EQ(float_to_half(65519.996f), 0x7bff);		  /* just below the overflow threshold */
	EXPECT_EQ(float_to_half(65520.0f), 0x7c00);			  /* rounds to inf */
	EXPECT_EQ(float_to_half(-1e10f), 0xfc00);			  /* -inf */
	EXPECT_EQ(float_to_half(std::ldexp(1.0f, -24)), 0x0001); /* smallest subnormal */
	EXPECT_EQ(float_to_half(std::ldexp(1.0f, -25)), 0x0000); /* tie to even: zero */
	EXPECT_EQ(float_to_half(std::ldexp(1.5f, -25)), 0x0001);
	EXPECT_EQ(float_to_half(std::ldexp(3.0f, -25)), 0x0002); /* 1.5 * 2^-24 ties to even 2 */
	EXPECT_EQ(float_to_half(std::ldexp(1.0f, -14)), 0x0400); /* smallest normal */
	EXPECT_EQ(float_to_half(1.0f + std::ldexp(1.0f, -11)), 0x3c00); /* tie to even: down */
	EXPECT_EQ(float_to_half(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02); /* tie to even: up */
	EXPECT_EQ(float_to_half(-0.0f), 0x8000);
	EXPECT_TRUE(std::isnan(half_to_float(float_to_half(std::nanf("")))));
	EXPECT_EQ(half_to_float(0x7c00), INFINITY);
	EXPECT_EQ(half_to_float(0x0001), std::ldexp(1.0f, -24));
	EXPECT_EQ(half_to_float(0x3555), 0.333251953125f);
}

/* ---- sparse kernels against the dense scalar kernels ---------------------- */

/* A random sparse vector of dimension dim: sorted unique indices, values in [-2,2]. */
struct Sparse
{
	std::vector<int32_t> idx;
	std::vector<float> val;
	std::vector<float> dense;
};

Sparse
random_sparse(int dim, double density, std::mt19937 &rng)
{
	Sparse s;
	s.dense.assign(static_cast<size_t>(dim), 0.0f);
	std::uniform_real_distribution<double> coin(0, 1);
	std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
	for (int i = 0; i < dim; i++)
		if (coin(rng) < density) {
			float v = dist(rng);
			s.idx.push_back(i);
			s.val.push_back(v);
			s.dense[static_cast<size_t>(i)] = v;
		}
	return s;
}

TEST(SparseKernels, MatchDenseScalarExactly)
{
	/* In index order, the dense sums only add exact zeros to the sparse ones. */
	const KernelTable *scalar = table_for(Level::Scalar);
	std::mt19937 rng(2024);
	for (int dim : {1, 2, 3, 7, 16, 100, 1000})
		for (double da : {0.0, 0.05, 0.5, 1.0})
			for (double db : {0.0, 0.3, 1.0})
				for (int rep = 0; rep < 5; rep++) {
					Sparse a = random_sparse(dim, da, rng), b = random_sparse(dim, db, rng);
					int na = static_cast<int>(a.idx.size()), nb = static_cast<int>(b.idx.size());
					size_t n = static_cast<size_t>(dim);
					SCOPED_TRACE(::testing::Message() << "dim=" << dim << " nnz=" << na << "," << nb);
					ASSERT_EQ(sparse_ip(a.idx.data(), a.val.data(), na, b.idx.data(), b.val.data(), nb),
							  scalar->ip_f32(a.dense.data(), b.dense.data(), n));
					ASSERT_EQ(sparse_l2sq(a.idx.data(), a.val.data(), na, b.idx.data(), b.val.data(), nb),
							  scalar->l2sq_f32(a.dense.data(), b.dense.data(), n));
					ASSERT_EQ(sparse_l1(a.idx.data(), a.val.data(), na, b.idx.data(), b.val.data(), nb),
							  scalar->l1_f32(a.dense.data(), b.dense.data(), n));
				}
}

/* ---- dispatcher ------------------------------------------------------------ */

/* What the CPU supports, according to the compiler runtime's own detection. */
Level
expected_level()
{
#if defined(__x86_64__)
	__builtin_cpu_init();
	bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c") &&
				__builtin_cpu_supports("popcnt") && __builtin_cpu_supports("sse4.2");
	bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
				  __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
	return avx512 ? Level::AVX512 : avx2 ? Level::AVX2 : Level::Baseline;
#elif defined(__aarch64__)
	return Level::Baseline;
#else
	return Level::Scalar;
#endif
}

TEST(Dispatch, DetectsTheCpuLevel)
{
	EXPECT_EQ(detect_level(), expected_level());
}

TEST(Dispatch, TablesExactlyUpToTheDetectedLevel)
{
	for (int l = 0; l < kLevelCount; l++) {
		Level level = static_cast<Level>(l);
		const KernelTable *t = table_for(level);
		if (level > detect_level()) {
			EXPECT_EQ(t, nullptr) << l;
			continue;
		}
		ASSERT_NE(t, nullptr) << l;
		EXPECT_EQ(t->level, level);
		EXPECT_NE(t->name, nullptr);
		/* every entry filled in */
		const void *const *slot = reinterpret_cast<const void *const *>(&t->l2sq_f32);
		const void *const *end = reinterpret_cast<const void *const *>(&t->code_dot) + 1;
		for (; slot < end; slot++)
			EXPECT_NE(*slot, nullptr) << "level " << l << " slot "
									  << (slot - reinterpret_cast<const void *const *>(&t->l2sq_f32));
	}
}

TEST(Dispatch, InitLowersToAvailableLevel)
{
	EXPECT_EQ(available_level(Level::Scalar), Level::Scalar);
	EXPECT_EQ(available_level(Level::AVX512), detect_level());
	for (int l = 0; l < kLevelCount; l++) {
		Level want = static_cast<Level>(l);
		Level got = kernels_init(want);
		EXPECT_EQ(got, want <= detect_level() ? want : detect_level());
		EXPECT_EQ(&active(), table_for(got));
		EXPECT_EQ(active().level, got);
	}
	EXPECT_EQ(kernels_init(), detect_level()); /* default: the best */
	EXPECT_EQ(active().level, detect_level());
}

} // namespace
} // namespace vx::kernels
