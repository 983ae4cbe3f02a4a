/*
 * rabitq.hpp -- extended RaBitQ: compact codes of B bits per dimension and
 * an asymmetric distance estimator with a quantized query, for the graph
 * traversal of the diskann access method (exact re-ranking follows).
 *
 * Why: a Vamana search touches a few thousand vectors per query; reading
 * and scoring full float vectors for all of them costs I/O and time, while
 * a B-bit code is 32/B times smaller and is scored with popcounts. Ranking
 * by the estimate and re-ranking a short list exactly keeps recall (table
 * below). References: Gao & Long, "RaBitQ" (SIGMOD 2024); Gao et al.,
 * "Practical and asymptotically optimal quantization of high-dimensional
 * vectors in Euclidean space" (extended RaBitQ, SIGMOD 2025).
 *
 * Rotation. R is an orthogonal "FHT-Kac" transform without padding: with
 * k = the largest power of two <= dims, four rounds of (multiply every
 * coordinate by a random sign, then a Walsh-Hadamard transform scaled by
 * 1/sqrt(k) on x[0..k) in even rounds, on x[dims-k..dims) in odd rounds).
 * Sign flips and the scaled transform on a coordinate subset are each
 * orthogonal, so R is too (norms and inner products are kept up to float
 * rounding). The signs of round t come from SplitMix64 seeded by a hash of
 * (seed, t), 64 coordinates per draw: no tables, the same R for the same
 * seed everywhere. The two overlapping windows mix every coordinate with
 * every other one when k < dims.
 *
 * Encoding x (center c, or the origin when center is nullptr):
 *   r = R(x - c), norm = |r|, o = r / norm (unit).
 *   L = 2^B levels; code u_i in [0, L-1]; y_i = 2 u_i - (L - 1) is a point
 *   of the odd lattice {-(L-1), .., -1, 1, .., L-1}.
 *   B = 1: y = sign(o) (u_i = [o_i >= 0]).
 *   B > 1: u_i(t) = clamp(round((t o_i + L - 1) / 2), 0, L - 1), i.e. y is
 *   t o rounded to the odd lattice (clamped at +-(L - 1)); t is chosen by
 *   cos(y, o) = <y, o> / |y|, the quantity extended RaBitQ maximizes. Up
 *   to kMaxWalkBits bits, t is exact: cos(y(t), o) is constant between the
 *   breakpoints t = 2j / |o_i| where a coordinate moves up a level, and a
 *   merge of (L - 2) / 2 sorted runs visits them in order. Per 256-d row
 *   (debian, one core): 2 bits 17 us, 3 bits 31-50 us, 4 bits 63 us; the
 *   grid below 50-52 us at any width. Past kMaxWalkBits, the grid: the sign
 *   code (t -> 0) and kScaleGrid values t_m = kScaleRange t_max m /
 *   kScaleGrid, where t_max = (L - 1) / max|o_i| puts the largest
 *   coordinate on the top level. Going past t_max clips the few largest
 *   coordinates, which the best uniform quantizer of a bell-shaped
 *   distribution does: with the grid stopping at t_max the 2-bit L2 error
 *   was 0.029 (5000 x 256) and 0.018 (2000 x 768); up to 3 t_max, 0.018 and
 *   0.011; a 1024-point grid up to 4 t_max gave the same to 4 digits. Since
 *   the sign code is a candidate, B > 1 never encodes worse than B = 1.
 *   The code is stored as B bit planes of plane_bytes() bytes (plane j holds
 *   bit j of every u_i; dimension i at bit i % 8 of byte i / 8; bits past
 *   dims are 0), plus CodeFactors:
 *     norm = |r|, ip_scale = norm / <y, o>, sum_y = sum y_i, y_norm = |y|,
 *     center_ip = <c, x - c> (0 without a center).
 *   With o = cos * y/|y| + e (e orthogonal to y), the RaBitQ estimator of
 *   <o, v> for a rotated v is <y, v> / <y, o>, hence <r, v> ~ ip_scale <y, v>.
 *   A zero residual (x == c) gets norm 0, ip_scale 0 and y = (1, .., 1):
 *   every estimate stays finite and the residual contributes 0.
 *
 * Query (prepare_query): qr = R(q - c); qmin = min qr_i, delta = (max qr_i
 * - qmin) / (2^kQueryBits - 1) (0 when all coordinates are equal, then qu =
 * 0 and qmin alone is exact); qu_i = round((qr_i - qmin) / delta), stored
 * as kQueryBits planes; sum_q = sum qr_i, sum_qu = sum qu_i, norm_sq =
 * |qr|^2, center_ip = <c, q>. Rounding to the nearest level is biased
 * outwards for bell-shaped coordinates (a level's centre lies farther out
 * than the mean of the values it takes), which inflates <y, qr> by a few
 * percent (~delta^2 / (12 var)); RaBitQ's randomized rounding is unbiased,
 * but a seeded dither measured lower recall (top-20 recall, 4-bit queries,
 * 256-d L2: 0.836 vs 0.854 with 2-bit codes, 0.984 vs 0.994 with 4-bit),
 * the bias being nearly uniform across candidates, so rounding stays.
 *
 * Estimator (estimate): qr_i ~ qmin + delta qu_i, so
 *   <y, qr> ~ qmin sum_y + delta sum y_i qu_i
 *           = qmin sum_y + delta (2 <u, qu> - (L - 1) sum_qu),
 *   <u, qu> = bitplane_dot(code, B, planes, kQueryBits) (one popcount pass;
 *   code_dot computes it from a copy of the planes laid out like a code);
 *   ip_est = ip_scale <y, qr>  (estimates <r, qr>).
 *   L2sq:  |x - q|^2 = |r - qr|^2 (R orthogonal) ~ norm^2 + norm_sq - 2 ip_est.
 *   NegIp: <x, q> = <c, q> + <x - c, q> and <x - c, q> = <x - c, q - c> +
 *          <x - c, c> = <r, qr> + <c, x - c>, so
 *          -<x, q> ~ -(qc.center_ip + ip_est + f.center_ip).
 *   (<x - c, q> is not <r, qr>: the center term is what makes a non-zero
 *   center work for inner products.) Estimates can be slightly negative.
 *
 * Pairs (estimate_pair, for pruning lists during a build): with the stored
 * codes only, <r_a, r_b> ~ ip_scale_a ip_scale_b <y_a, y_b>, the RaBitQ
 * correction applied on both sides (= norm_a norm_b cos(y_a, y_b) /
 * (cos(y_a, o_a) cos(y_b, o_b))), where
 *   <y_a, y_b> = 4 <u_a, u_b> - 2 (L-1) (sum_u_a + sum_u_b) + (L-1)^2 dims,
 *   sum_u = (sum_y + (L - 1) dims) / 2 (all exact integers);
 *   L2sq = max(0, norm_a^2 + norm_b^2 - 2 <r_a, r_b>);
 *   NegIp = -(|c|^2 + center_ip_a + center_ip_b + <r_a, r_b>), from
 *   <x_a, x_b> = <c + d_a, c + d_b>. |c|^2 is center_norm_sq: set_center()
 *   computes it; a negative value (the default) makes estimate_pair compute
 *   it from center on every call (correct, slower).
 *   The plain cosine of the codes, norm_a norm_b cos(y_a, y_b), has a 20%
 *   lower error on random pairs at 1 bit but twice the error on the pairs
 *   that pruning compares, near ones (128-d mixture, mean relative L2sq error
 *   over each point's 20 nearest: 1 bit 0.41 vs 0.20, 2 bits 0.14 vs 0.07,
 *   4 bits 0.021 vs 0.019), so the corrected form is used.
 *
 * Integers (dot products up to 255 * 255 * 16000, sums up to 255 * 16000)
 * are combined in int64 and only then converted: no float rounding there.
 *
 * Choice of kQueryBits, measured with bench/tools/rabitq_measure.cpp
 * (seeded Gaussian mixture: 32 clusters, centres N(0, 1), points centre +
 * N(0, 1); center = the data mean; 500 queries from the same mixture;
 * NegIp ("cos") on normalized data, its relative error taken on the cosine
 * distance 1 + NegIp; recall@10 = share of the exact top 10 found among
 * the top 100 by estimate re-ranked exactly; in parentheses the same with
 * only the top 20 re-ranked, which separates the variants better; SBQ is
 * pgvectorscale's baseline: bit = x_i > mean_i, symmetric Hamming distance,
 * same re-ranking):
 *
 *                     5000 x 256                   2000 x 768
 *    metric  B Bq  rel.err recall@10 (top 20)   rel.err recall@10 (top 20)
 *    L2      1  4   0.0387    0.9876 (0.5920)    0.0223    1.0000 (0.7784)
 *    L2      1  6   0.0381    0.9886 (0.5952)    0.0219    1.0000 (0.7826)
 *    L2      1  8   0.0380    0.9894 (0.5972)    0.0219    1.0000 (0.7824)
 *    L2      2  4   0.0193    1.0000 (0.8528)    0.0113    1.0000 (0.9312)
 *    L2      2  6   0.0185    1.0000 (0.8620)    0.0107    1.0000 (0.9420)
 *    L2      2  8   0.0184    1.0000 (0.8628)    0.0107    1.0000 (0.9400)
 *    L2      4  4   0.0076    1.0000 (0.9924)    0.0047    1.0000 (0.9978)
 *    L2      4  6   0.0054    1.0000 (0.9978)    0.0032    1.0000 (0.9996)
 *    L2      4  8   0.0052    1.0000 (0.9980)    0.0031    1.0000 (0.9996)
 *    L2     SBQ 1 bit            0.9288 (0.4062)              1.0000 (0.6150)
 *    cos     1  4   0.0387    0.9870 (0.5748)    0.0223    1.0000 (0.7666)
 *    cos     1  6   0.0381    0.9864 (0.5778)    0.0219    1.0000 (0.7726)
 *    cos     1  8   0.0381    0.9866 (0.5792)    0.0219    1.0000 (0.7734)
 *    cos     2  4   0.0193    1.0000 (0.8414)    0.0113    1.0000 (0.9316)
 *    cos     2  6   0.0185    1.0000 (0.8496)    0.0107    1.0000 (0.9380)
 *    cos     2  8   0.0184    1.0000 (0.8492)    0.0107    1.0000 (0.9362)
 *    cos     4  4   0.0076    1.0000 (0.9912)    0.0047    1.0000 (0.9966)
 *    cos     4  6   0.0054    1.0000 (0.9986)    0.0032    1.0000 (0.9996)
 *    cos     4  8   0.0052    1.0000 (0.9990)    0.0031    1.0000 (0.9998)
 *    cos    SBQ 1 bit            0.9438 (0.4522)              1.0000 (0.6558)
 *
 * The rule "smallest query width whose recall@10 is within 0.002 of 8 bits"
 * picks 4 (largest gap 0.0018, 1-bit codes, 5000 x 256 L2). With a short
 * re-rank list and codes of 2 or more bits, 6 query bits would gain up to
 * 0.01 of top-20 recall for 1.5 times the popcount work. Every RaBitQ
 * width beats SBQ: at 1 bit recall@10 0.988 vs 0.929 (L2, 256-d), and
 * 0.59 vs 0.41 with 20 re-ranked. The 768-d set saturates at 100 re-ranked
 * (a cluster holds ~60 points).
 *
 * Every function is noexcept, allocates nothing and works on caller memory
 * (code, factors, query planes, the work array of work_floats() floats).
 * A Quantizer is read-only once set up and may be shared by threads; work
 * arrays and QueryCodes may not.
 */
#ifndef VX_CORE_RABITQ_HPP
#define VX_CORE_RABITQ_HPP

#include <cstddef>
#include <cstdint>

#include "vx/core/prefetch.hpp"

namespace vx::core {

/* Squared L2; negative inner product (cosine uses NegIp over normalized vectors). */
enum class EstimateMetric { L2sq, NegIp };

/* Per-code factors, stored beside each code (see the file comment). */
struct CodeFactors
{
	float norm;		 /* |r| = |R(x - c)| */
	float ip_scale;	 /* norm / <y, o>: <r, v> ~ ip_scale <y, v> */
	float sum_y;	 /* sum of y_i = 2 u_i - (L - 1) */
	float y_norm;	 /* |y| */
	float center_ip; /* <c, x - c>; 0 without a center */
};
static_assert(sizeof(CodeFactors) == 20, "CodeFactors is stored on disk beside each code");

/*
 * A prepared query; planes points to caller memory of Quantizer::query_bytes().
 * A query of kQueryBits planes also gets them in code_dot's form
 * (KernelTable::code_dot), in the same memory after the planes: spread and
 * shift below; other widths leave those null and estimate uses bitplane_dot.
 */
struct QueryCode
{
	uint8_t *planes;
	const uint8_t *spread = nullptr; /* kQueryBits blocks of code_bytes() */
	const uint64_t *shift = nullptr; /* code plane of each word of a code */
	float qmin;		 /* min of qr_i */
	float delta;	 /* quantization step of the query (0: all qr_i equal) */
	float sum_q;	 /* sum of qr_i */
	float sum_qu;	 /* sum of the quantized values qu_i */
	float norm_sq;	 /* |qr|^2 */
	float center_ip; /* <c, q>; 0 without a center */
	uint32_t bits;	 /* planes: kQueryBits (other widths only through prepare_query_bits) */
};

/* Bits per dimension of a prepared query (chosen by measurement: file comment). */
inline constexpr uint32_t kQueryBits = 4;

/* Largest code width. */
inline constexpr uint32_t kMaxCodeBits = 8;

/* Values of t tried for codes of more than one bit, evenly spaced up to kScaleRange * (L - 1) / max|o_i|. */
inline constexpr uint32_t kScaleGrid = 64;
inline constexpr double kScaleRange = 3.0;
/* Codes of up to this many bits find t exactly by walking its breakpoints; wider ones use the grid (faster there). */
inline constexpr uint32_t kMaxWalkBits = 3;

/* Rounds of the FHT-Kac rotation. */
inline constexpr uint32_t kRotationRounds = 4;

/* A quantizer: dimensions, code width, rotation seed, center and the popcount kernel. */
struct Quantizer
{
	uint32_t dims = 0;
	uint32_t bits = 1; /* 1..kMaxCodeBits */
	uint64_t seed = 0;
	const float *center = nullptr; /* dims floats, or nullptr = origin */
	uint64_t (*bitplane_dot)(const uint8_t *, uint32_t, const uint8_t *, uint32_t, size_t) noexcept =
		nullptr; /* from a KernelTable */
	uint64_t (*code_dot)(const uint8_t *, const uint8_t *, const uint64_t *, uint32_t, size_t) noexcept =
		nullptr; /* from the same KernelTable (null: estimates use bitplane_dot) */
	float center_norm_sq = -1.0f; /* |c|^2, or negative: computed by estimate_pair on each call */

	/* Set center (nullptr = origin) and center_norm_sq. */
	void set_center(const float *c) noexcept;

	/* Bytes of one bit plane: ceil(dims / 64) * 8. */
	uint32_t
	plane_bytes() const noexcept
	{
		return (dims + 63) / 64 * 8;
	}

	/* Bytes of one code: bits planes. */
	uint32_t
	code_bytes() const noexcept
	{
		return bits * plane_bytes();
	}

	/* Words of a code_dot shift table: one per word of a code, rounded up to a whole 64-byte vector. */
	uint32_t
	shift_words() const noexcept
	{
		return (code_bytes() / 8 + 7) / 8 * 8;
	}

	/* Bytes of a prepared query: kQueryBits planes, the same spread over a code's layout, the shift table. */
	uint32_t
	query_bytes() const noexcept
	{
		return kQueryBits * plane_bytes() + kQueryBits * code_bytes() + shift_words() * 8;
	}

	/* Scratch floats encode, prepare_query and rotate need. */
	size_t
	work_floats() const noexcept
	{
		return 2 * static_cast<size_t>(dims); /* the residual, then encode's sorted magnitudes or the levels */
	}

	/* Apply R to v[0..dims) in place (orthogonal, deterministic from seed); work is not used. */
	void rotate(float *v, float *work) const noexcept;

	/* Code (code_bytes()) and factors of x; work: work_floats() floats. */
	void encode(const float *x, uint8_t *code, CodeFactors *f, float *work) const noexcept;

	/* Prepare q into qc (qc->planes: query_bytes() of caller memory); work: work_floats() floats. */
	void prepare_query(const float *q, QueryCode *qc, float *work) const noexcept;

	/* Lay qc's planes out for code_dot (prepare_query does, when code_dot is set). */
	void spread_planes(QueryCode *qc) const noexcept;

	/* prepare_query with query_bits (1..8) planes instead of kQueryBits: for measurements. */
	void prepare_query_bits(const float *q, uint32_t query_bits, QueryCode *qc, float *work) const noexcept;

	/* Estimated distance between the prepared query and an encoded vector. */
	float estimate(const QueryCode &qc, const uint8_t *code, const CodeFactors &f, EstimateMetric m) const noexcept;

	/* Estimated distance between two encoded vectors. */
	float estimate_pair(const uint8_t *code_a, const CodeFactors &fa, const uint8_t *code_b, const CodeFactors &fb,
						EstimateMetric m) const noexcept;
};

/*
 * QueryDistance (hnsw_algo.hpp) from a prepared query to rows encoded in
 * memory: row id's code at codes + id * code_bytes, its factors at
 * factors[id]. What a build's searches estimate with (vamana.hpp).
 */
struct CodeDistance
{
	const Quantizer *quantizer;
	const QueryCode *query;
	const uint8_t *codes;
	const CodeFactors *factors;
	EstimateMetric metric;

	float
	operator()(uint32_t id) const noexcept
	{
		return quantizer->estimate(*query, codes + static_cast<size_t>(id) * quantizer->code_bytes(), factors[id],
								   metric);
	}

	/* every cache line of the code and the factors (a 64-byte code at an unaligned address spans two) */
	void
	prefetch(uint32_t id) const noexcept
	{
		const size_t bytes = quantizer->code_bytes();
		prefetch_bytes(codes + static_cast<size_t>(id) * bytes, bytes);
		prefetch_bytes(factors + id, sizeof(CodeFactors));
	}
};

} // namespace vx::core

#endif /* VX_CORE_RABITQ_HPP */
