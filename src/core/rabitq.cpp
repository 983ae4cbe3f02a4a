/*
 * rabitq.cpp -- the extended RaBitQ quantizer of rabitq.hpp: rotation,
 * encoding (with the search of the lattice scale t), query preparation and
 * the two estimators. The math and its derivation are in the header.
 *
 * Pure computation on caller memory: no allocation, no PG, noexcept.
 * Sums that decide a code (norms, the cosine of each t) are taken in
 * double so that codes do not depend on float summation order.
 */
#include "vx/core/rabitq.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "vx/core/hnsw_algo.hpp" /* SplitMix64 */

#include "vx/cpp_only.hpp"

namespace vx::core {

namespace {

/* Largest power of two <= n (n >= 1). */
uint32_t
power_of_two_floor(uint32_t n) noexcept
{
	uint32_t k = 1;
	while (k <= n / 2)
		k *= 2;
	return k;
}

/* Seed of the sign draws of one rotation round: SplitMix64's finalizer over (seed, round). */
uint64_t
round_seed(uint64_t seed, uint32_t round) noexcept
{
	SplitMix64 mix{seed ^ (0xd1b54a32d192ed03ull * (round + 1))};
	return mix.next();
}

/* Multiply v[0..n) by the random signs of one round (64 coordinates per draw). */
void
flip_signs(float *v, uint32_t n, uint64_t seed, uint32_t round) noexcept
{
	SplitMix64 rng{round_seed(seed, round)};
	for (uint32_t i = 0; i < n; i += 64) {
		uint64_t signs = rng.next();
		uint32_t end = std::min(n, i + 64);
		for (uint32_t j = i; j < end; j++) {
			uint32_t bits;
			std::memcpy(&bits, &v[j], 4);
			bits ^= static_cast<uint32_t>((signs >> (j - i)) & 1) << 31;
			std::memcpy(&v[j], &bits, 4);
		}
	}
}

/* In-place Walsh-Hadamard transform of v[0..k) (k a power of two), scaled by 1/sqrt(k): orthogonal. */
void
fwht_normalized(float *v, uint32_t k) noexcept
{
	for (uint32_t h = 1; h < k; h *= 2)
		for (uint32_t i = 0; i < k; i += 2 * h)
			for (uint32_t j = i; j < i + h; j++) {
				float a = v[j], b = v[j + h];
				v[j] = a + b;
				v[j + h] = a - b;
			}
	float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(k)));
	for (uint32_t i = 0; i < k; i++)
		v[i] *= scale;
}

/*
 * Write the low `bits` bits of values[0..n) as bit planes of plane_bytes
 * each (plane j holds bit j of every value; value i at bit i % 8 of byte
 * i / 8; the rest zero). Eight values at a time: bit j of eight bytes
 * gathered into one byte by a multiply.
 */
void
pack_planes(const uint8_t *values, uint32_t n, uint32_t bits, uint8_t *planes, uint32_t plane_bytes) noexcept
{
	std::memset(planes, 0, static_cast<size_t>(bits) * plane_bytes);
	for (uint32_t i = 0; i < n; i += 8) {
		uint64_t chunk = 0;
		std::memcpy(&chunk, values + i, std::min(8u, n - i)); /* value i + k in byte k (little-endian) */
		for (uint32_t j = 0; j < bits; j++) {
			uint64_t b = (chunk >> j) & 0x0101010101010101ull;
			planes[static_cast<size_t>(j) * plane_bytes + i / 8] = static_cast<uint8_t>((b * 0x0102040810204080ull) >> 56);
		}
	}
}

/* Code of one coordinate r_i at lattice scale t (t = 0: the sign code). */
inline uint32_t
lattice_code(float r_i, double t, uint32_t top) noexcept
{
	if (t == 0.0)
		return r_i >= 0.0f ? (top + 1) / 2 : (top - 1) / 2; /* y = +1 or -1 */
	/* floor, clamped to [0, top]: clamping first makes the floor a truncation, which needs no libm call (the
	 * grid search of encode runs this 64 times per dimension) and gives the same code */
	double u = std::clamp((t * r_i + top) * 0.5 + 0.5, 0.0, static_cast<double>(top));
	return static_cast<uint32_t>(u);
}

/* cos(y, r) of the codes at scale t: <y, r> / (|y| |r|) without the constant |r|. */
double
lattice_cosine(const float *r, uint32_t n, double t, uint32_t top) noexcept
{
	double yr = 0, yy = 0;
	for (uint32_t i = 0; i < n; i++) {
		double y = 2.0 * lattice_code(r[i], t, top) - top;
		yr += y * r[i];
		yy += y * y;
	}
	return yr / std::sqrt(yy);
}

/* The best t of kScaleGrid values up to kScaleRange t_max, or 0 (the sign code): codes of many bits. */
double
best_scale_grid(const float *r, uint32_t n, uint32_t top, double max_abs) noexcept
{
	double t = 0.0, best = lattice_cosine(r, n, 0.0, top);
	double t_hi = kScaleRange * top / max_abs; /* on r's scale: t o_i = (t norm) r_i / norm */
	for (uint32_t m = 1; m <= kScaleGrid; m++) {
		double tm = t_hi * m / kScaleGrid;
		double c = lattice_cosine(r, n, tm, top);
		if (c > best) {
			best = c;
			t = tm;
		}
	}
	return t;
}

/*
 * The t of largest cos(y, r) over all t > 0, by walking its breakpoints (extended RaBitQ's exact
 * search): |y_i| = 1 + 2 min(floor(t |r_i| / 2), (top - 1) / 2), so |y_i| steps from 2j - 1 to 2j + 1
 * at t = 2j / |r_i|, adding 2 |r_i| to <y, r> and 8j to |y|^2. With the |r_i| sorted largest first
 * (n floats of work), the breakpoints of each step j come in increasing order, and merging the
 * (top - 1) / 2 runs visits all of them in order. cos is constant between breakpoints, so the answer
 * is the middle of the best interval (0 when the sign code is best). cos^2 = <y, r>^2 / |y|^2 is
 * compared (<y, r> >= 0).
 */
double
best_scale_walk(const float *r, uint32_t n, uint32_t top, float *sorted) noexcept
{
	constexpr uint32_t kMaxSteps = ((1u << kMaxWalkBits) - 2) / 2;
	const uint32_t steps = (top - 1) / 2;
	double yr = 0, yy = n;
	for (uint32_t i = 0; i < n; i++) {
		sorted[i] = std::fabs(r[i]);
		yr += sorted[i];
	}
	std::sort(sorted, sorted + n, [](float x, float y) { return x > y; });

	/* run j (step j + 1): next[j] indexes its next breakpoint head[j] = 2 (j + 1) / sorted[next[j]] */
	uint32_t next[kMaxSteps] = {};
	float head[kMaxSteps];
	auto advance = [&](uint32_t j) {
		head[j] = next[j] < n ? 2.0f * static_cast<float>(j + 1) / sorted[next[j]]
							  : std::numeric_limits<float>::infinity();
	};
	for (uint32_t j = 0; j < steps; j++)
		advance(j);
	double best = yr * yr / yy, best_t = 0.0;
	bool best_open = false; /* the best interval has no upper breakpoint yet */
	for (;;) {
		float t = head[0];
		for (uint32_t j = 1; j < steps; j++)
			t = std::min(t, head[j]);
		if (!std::isfinite(t)) /* done; a coordinate too small to ever step stays at +-1 */
			break;
		if (best_open) {
			best_t = 0.5 * (best_t + static_cast<double>(t));
			best_open = false;
		}
		/* every breakpoint at t, then the interval that starts there */
		for (uint32_t j = 0; j < steps; j++)
			while (head[j] == t) {
				yr += 2.0 * sorted[next[j]];
				yy += 8.0 * (j + 1);
				next[j]++;
				advance(j);
			}
		double c = yr * yr / yy;
		if (c > best) {
			best = c;
			best_t = t;
			best_open = true;
		}
	}
	if (best_open)
		best_t *= 2.0; /* past the last breakpoint: every coordinate at the top level */
	return best_t;
}

/* Sum of c_i * v_i in double (0 without a center). */
double
center_dot(const float *c, const float *v, uint32_t n) noexcept
{
	double s = 0;
	if (c != nullptr)
		for (uint32_t i = 0; i < n; i++)
			s += static_cast<double>(c[i]) * v[i];
	return s;
}

} // namespace

void
Quantizer::set_center(const float *c) noexcept
{
	center = c;
	center_norm_sq = static_cast<float>(center_dot(c, c, dims));
}

void
Quantizer::rotate(float *v, float *) const noexcept
{
	uint32_t k = power_of_two_floor(dims);
	for (uint32_t round = 0; round < kRotationRounds; round++) {
		flip_signs(v, dims, seed, round);
		fwht_normalized(round % 2 == 0 ? v : v + (dims - k), k);
	}
}

void
Quantizer::encode(const float *x, uint8_t *code, CodeFactors *f, float *work) const noexcept
{
	float *r = work;
	for (uint32_t i = 0; i < dims; i++)
		r[i] = center != nullptr ? x[i] - center[i] : x[i];
	double center_ip = center_dot(center, r, dims);
	rotate(r, nullptr);

	double norm_sq = 0, max_abs = 0;
	for (uint32_t i = 0; i < dims; i++) {
		norm_sq += static_cast<double>(r[i]) * r[i];
		max_abs = std::max(max_abs, std::fabs(static_cast<double>(r[i])));
	}

	/* the lattice scale: the sign code, or the t that maximizes cos(y, r) */
	const uint32_t top = (1u << bits) - 1; /* L - 1 */
	double t = 0.0;
	if (bits > 1 && max_abs > 0)
		t = bits <= kMaxWalkBits ? best_scale_walk(r, dims, top, work + dims) : best_scale_grid(r, dims, top, max_abs);

	uint8_t *u_all = reinterpret_cast<uint8_t *>(work + dims); /* the walk is done with that half */
	int64_t sum_y = 0;
	double yy = 0, yr = 0;
	for (uint32_t i = 0; i < dims; i++) {
		uint32_t u = lattice_code(norm_sq > 0 ? r[i] : 1.0f, t, top); /* zero residual: y = +1 */
		int64_t y = 2 * static_cast<int64_t>(u) - top;
		u_all[i] = static_cast<uint8_t>(u);
		sum_y += y;
		yy += static_cast<double>(y * y);
		yr += static_cast<double>(y) * r[i];
	}
	pack_planes(u_all, dims, bits, code, plane_bytes());
	f->norm = static_cast<float>(std::sqrt(norm_sq));
	f->ip_scale = yr > 0 ? static_cast<float>(norm_sq / yr) : 0.0f; /* norm / <y, o> = norm^2 / <y, r> */
	f->sum_y = static_cast<float>(sum_y);
	f->y_norm = static_cast<float>(std::sqrt(yy));
	f->center_ip = static_cast<float>(center_ip);
}

void
Quantizer::prepare_query(const float *q, QueryCode *qc, float *work) const noexcept
{
	prepare_query_bits(q, kQueryBits, qc, work);
}

void
Quantizer::prepare_query_bits(const float *q, uint32_t query_bits, QueryCode *qc, float *work) const noexcept
{
	float *qr = work;
	for (uint32_t i = 0; i < dims; i++)
		qr[i] = center != nullptr ? q[i] - center[i] : q[i];
	qc->center_ip = static_cast<float>(center_dot(center, q, dims));
	rotate(qr, nullptr);

	float qmin = qr[0], qmax = qr[0];
	double sum_q = 0, norm_sq = 0;
	for (uint32_t i = 0; i < dims; i++) {
		qmin = std::min(qmin, qr[i]);
		qmax = std::max(qmax, qr[i]);
		sum_q += qr[i];
		norm_sq += static_cast<double>(qr[i]) * qr[i];
	}
	const uint32_t top = (1u << query_bits) - 1;
	float delta = (qmax - qmin) / static_cast<float>(top);
	if (!(delta > 0)) /* all coordinates equal (or a denormal range): qmin alone is exact */
		delta = 0;

	uint8_t *qu_all = reinterpret_cast<uint8_t *>(work + dims);
	uint64_t sum_qu = 0;
	for (uint32_t i = 0; i < dims; i++) {
		uint32_t qu = 0;
		if (delta > 0)
			qu = static_cast<uint32_t>(std::clamp(std::floor((qr[i] - qmin) / delta + 0.5f), 0.0f,
												  static_cast<float>(top)));
		qu_all[i] = static_cast<uint8_t>(qu);
		sum_qu += qu;
	}
	pack_planes(qu_all, dims, query_bits, qc->planes, plane_bytes());
	qc->spread = nullptr;
	qc->shift = nullptr;
	if (query_bits == kQueryBits && code_dot != nullptr)
		spread_planes(qc);
	qc->qmin = qmin;
	qc->delta = delta;
	qc->sum_q = static_cast<float>(sum_q);
	qc->sum_qu = static_cast<float>(sum_qu);
	qc->norm_sq = static_cast<float>(norm_sq);
	qc->bits = query_bits;
}

/*
 * code_dot's copy of the query planes (after them in qc->planes): query
 * plane k repeated once per code plane, then the code plane of every word of
 * a code. The planes start 8-byte aligned in caller memory and every size
 * before the shift table is a multiple of 8, so the table is aligned too.
 */
void
Quantizer::spread_planes(QueryCode *qc) const noexcept
{
	const uint32_t pb = plane_bytes(), cb = code_bytes();
	uint8_t *spread = qc->planes + static_cast<size_t>(kQueryBits) * pb;
	for (uint32_t k = 0; k < kQueryBits; k++)
		for (uint32_t j = 0; j < bits; j++)
			std::memcpy(spread + static_cast<size_t>(k) * cb + static_cast<size_t>(j) * pb,
						qc->planes + static_cast<size_t>(k) * pb, pb);
	uint64_t *shift = reinterpret_cast<uint64_t *>(spread + static_cast<size_t>(kQueryBits) * cb);
	for (uint32_t w = 0; w < shift_words(); w++)
		shift[w] = w * 8 < cb ? w * 8 / pb : 0;
	qc->spread = spread;
	qc->shift = shift;
}

float
Quantizer::estimate(const QueryCode &qc, const uint8_t *code, const CodeFactors &f, EstimateMetric m) const noexcept
{
	const int64_t top = (int64_t{1} << bits) - 1;
	int64_t dot = static_cast<int64_t>(qc.spread != nullptr
										   ? code_dot(code, qc.spread, qc.shift, qc.bits, code_bytes())
										   : bitplane_dot(code, bits, qc.planes, qc.bits, plane_bytes()));
	int64_t y_qu = 2 * dot - top * static_cast<int64_t>(qc.sum_qu); /* sum y_i qu_i */
	double y_qr = static_cast<double>(qc.qmin) * f.sum_y + static_cast<double>(qc.delta) * static_cast<double>(y_qu);
	double ip_est = f.ip_scale * y_qr; /* ~ <r, qr> */
	if (m == EstimateMetric::L2sq)
		return static_cast<float>(static_cast<double>(f.norm) * f.norm + qc.norm_sq - 2.0 * ip_est);
	return static_cast<float>(-(qc.center_ip + ip_est + f.center_ip));
}

float
Quantizer::estimate_pair(const uint8_t *code_a, const CodeFactors &fa, const uint8_t *code_b, const CodeFactors &fb,
						 EstimateMetric m) const noexcept
{
	const int64_t top = (int64_t{1} << bits) - 1, d = dims;
	int64_t uu = static_cast<int64_t>(bitplane_dot(code_a, bits, code_b, bits, plane_bytes()));
	int64_t su_a = (static_cast<int64_t>(fa.sum_y) + top * d) / 2; /* sum of u_a */
	int64_t su_b = (static_cast<int64_t>(fb.sum_y) + top * d) / 2;
	int64_t yy = 4 * uu - 2 * top * (su_a + su_b) + top * top * d; /* <y_a, y_b> */
	double ip = static_cast<double>(fa.ip_scale) * fb.ip_scale * static_cast<double>(yy); /* ~ <r_a, r_b> */
	if (m == EstimateMetric::L2sq) {
		double l2 = static_cast<double>(fa.norm) * fa.norm + static_cast<double>(fb.norm) * fb.norm - 2.0 * ip;
		return static_cast<float>(l2 > 0 ? l2 : 0.0); /* a distance: never below 0 */
	}
	double c_sq = center_norm_sq >= 0 ? center_norm_sq : center_dot(center, center, dims);
	return static_cast<float>(-(c_sq + fa.center_ip + fb.center_ip + ip));
}

} // namespace vx::core
