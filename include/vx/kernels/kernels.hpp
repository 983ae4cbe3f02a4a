/*
 * kernels.hpp -- distance kernels, resolved once to the best ISA of the CPU.
 *
 * Callers fetch the active KernelTable once per operation (a SQL call, a
 * scan, a build) and call through its function pointers; there is no
 * per-distance dispatch and no fmgr call. Every kernel is noexcept, takes
 * unaligned pointers, and accumulates in float32 like pgvector does, so
 * results agree with pgvector to the last few ulps. No PG headers here.
 *
 * Levels: Scalar (portable reference, also the test oracle), Baseline (SSE2 on
 * x86-64, NEON on aarch64: what every CPU of the architecture has), AVX2 (with
 * FMA and F16C), AVX512 (F/BW/DQ/VL). kernels_init() picks the highest level
 * the CPU supports; a lower one can be forced for debugging and benchmarks.
 */
#ifndef VX_KERNELS_KERNELS_HPP
#define VX_KERNELS_KERNELS_HPP

#include <cstddef>
#include <cstdint>

namespace vx::kernels {

enum class Level : int { Scalar = 0, Baseline = 1, AVX2 = 2, AVX512 = 3 };

inline constexpr int kLevelCount = 4;

/* Dot product and both squared norms, for cosine distance. */
struct CosineParts
{
	float dot;
	float norm_a; /* sum of a[i]^2 */
	float norm_b; /* sum of b[i]^2 */
};

/* Popcounts for Jaccard distance on bit strings. */
struct JaccardCounts
{
	uint64_t both;	/* popcount(a & b) */
	uint64_t a;		/* popcount(a) */
	uint64_t b;		/* popcount(b) */
};

struct KernelTable
{
	Level level;
	const char *name; /* "scalar", "sse2", "neon", "avx2", "avx512" */

	/* float32 vectors of n elements */
	float (*l2sq_f32)(const float *a, const float *b, size_t n) noexcept;
	float (*ip_f32)(const float *a, const float *b, size_t n) noexcept;
	CosineParts (*cosine_f32)(const float *a, const float *b, size_t n) noexcept;
	float (*l1_f32)(const float *a, const float *b, size_t n) noexcept;

	/* IEEE binary16 vectors (raw bits), accumulated in float32 */
	float (*l2sq_f16)(const uint16_t *a, const uint16_t *b, size_t n) noexcept;
	float (*ip_f16)(const uint16_t *a, const uint16_t *b, size_t n) noexcept;
	CosineParts (*cosine_f16)(const uint16_t *a, const uint16_t *b, size_t n) noexcept;
	float (*l1_f16)(const uint16_t *a, const uint16_t *b, size_t n) noexcept;
	void (*f16_to_f32)(const uint16_t *in, float *out, size_t n) noexcept;

	/* bit strings of nbytes bytes */
	uint64_t (*hamming)(const uint8_t *a, const uint8_t *b, size_t nbytes) noexcept;
	JaccardCounts (*jaccard)(const uint8_t *a, const uint8_t *b, size_t nbytes) noexcept;

	/*
	 * One query q against four vectors v[0..3] of n elements each (graph
	 * search scores a neighbour list four at a time): out[j] = dist(q, v[j]).
	 * Each result equals the single-pair kernel's up to summation order.
	 */
	void (*l2sq_f32_batch4)(const float *q, const float *const *v, size_t n, float *out) noexcept;
	void (*ip_f32_batch4)(const float *q, const float *const *v, size_t n, float *out) noexcept;
	void (*l1_f32_batch4)(const float *q, const float *const *v, size_t n, float *out) noexcept;
	void (*l2sq_f16_batch4)(const uint16_t *q, const uint16_t *const *v, size_t n, float *out) noexcept;
	void (*ip_f16_batch4)(const uint16_t *q, const uint16_t *const *v, size_t n, float *out) noexcept;
	void (*l1_f16_batch4)(const uint16_t *q, const uint16_t *const *v, size_t n, float *out) noexcept;

	/*
	 * Dot product of two vectors of unsigned integers stored as bit planes:
	 * a holds a_bits planes of plane_bytes bytes (plane j holds bit j of
	 * every element, element i at bit i % 8 of byte i / 8), b holds b_bits
	 * planes of the same size. Returns sum over i of a_i * b_i, that is
	 * sum over j < a_bits, k < b_bits of 2^(j+k) * popcount(a_j & b_k).
	 * plane_bytes must be a multiple of 8; bits are 1..8 (the RaBitQ
	 * estimator of vx/core/rabitq.hpp).
	 */
	uint64_t (*bitplane_dot)(const uint8_t *a, uint32_t a_bits, const uint8_t *b, uint32_t b_bits,
							 size_t plane_bytes) noexcept;

	/*
	 * bitplane_dot of a code against a query laid out to match it: code is
	 * code_bytes bytes (its planes one after another; a multiple of 8);
	 * spread holds, for each query plane k < query_bits, a block of
	 * code_bytes bytes that repeats plane k once per code plane; shift[w]
	 * is the code plane of the code's 64-bit word w (room for code_bytes / 8
	 * words rounded up to a multiple of 8). Returns the sum over words w and
	 * k of popcount(code_w & block_k_w) << (shift[w] + k), which is
	 * bitplane_dot(code, .., query planes, query_bits, ..). One pass over the
	 * code in full vectors: a 256-dimension 2-bit code is one 64-byte vector
	 * here, where bitplane_dot works on eight half-empty ones.
	 */
	uint64_t (*code_dot)(const uint8_t *code, const uint8_t *spread, const uint64_t *shift, uint32_t query_bits,
						 size_t code_bytes) noexcept;
};

/* Sparse vectors: strictly increasing 0-based indices; merge-join kernels. */
float sparse_ip(const int32_t *ia, const float *va, int na, const int32_t *ib, const float *vb, int nb) noexcept;
float sparse_l2sq(const int32_t *ia, const float *va, int na, const int32_t *ib, const float *vb, int nb) noexcept;
float sparse_l1(const int32_t *ia, const float *va, int na, const int32_t *ib, const float *vb, int nb) noexcept;

/* Scalar IEEE half <-> float conversion (round to nearest even; overflow gives inf). */
float half_to_float(uint16_t h) noexcept;
uint16_t float_to_half(float f) noexcept;

/* Highest level this CPU and this build support. */
Level detect_level() noexcept;

/* Highest level <= requested that this CPU and build support (Scalar at worst). */
Level available_level(Level requested) noexcept;

/* Table for a level, or nullptr if the CPU or the build lacks it. */
const KernelTable *table_for(Level level) noexcept;

/* Select the active table: available_level(requested). Returns the level chosen. */
Level kernels_init(Level requested = Level::AVX512) noexcept;

/* The active table (kernels_init() must have run; _PG_init does it). */
const KernelTable &active() noexcept;

} // namespace vx::kernels

#endif /* VX_KERNELS_KERNELS_HPP */
