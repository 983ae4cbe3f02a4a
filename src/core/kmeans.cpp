/*
 * kmeans.cpp -- k-means++ seeding and Lloyd iterations with Hamerly's
 * bounds (kmeans.hpp).
 *
 * Memory: everything lives in the caller's samples, centers and scratch
 * (per-center float sums, previous centers, counts, drifts and half
 * separations; per-sample assignment and two bounds); nothing is
 * allocated, nothing throws.
 */
#include "vx/core/kmeans.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "vx/core/hnsw_algo.hpp" /* SplitMix64 */

#include "vx/cpp_only.hpp"

namespace vx::core {

namespace {

/* 8-byte aligned size. */
constexpr size_t
align8(size_t n) noexcept
{
	return (n + 7) & ~size_t{7};
}

/* Distance of the assignment rule: squared L2, or -ip for spherical. */
inline float
rule_distance(const kernels::KernelTable &kt, const float *a, const float *b, uint32_t dim, bool spherical) noexcept
{
	return spherical ? -kt.ip_f32(a, b, dim) : kt.l2sq_f32(a, b, dim);
}

/* A non-negative spread of a rule distance (for D^2 sampling and inertia). */
inline double
spread(float d, bool spherical) noexcept
{
	double s = spherical ? 1.0 + (double) d : (double) d;
	return s > 0 ? s : 0;
}

/* Scale v to unit length; a zero vector becomes e_0. */
void
normalize(float *v, uint32_t dim) noexcept
{
	double norm = 0;
	for (uint32_t i = 0; i < dim; i++)
		norm += (double) v[i] * v[i];
	if (!(norm > 0)) {
		std::memset(v, 0, sizeof(float) * dim);
		v[0] = 1.0f;
		return;
	}
	norm = std::sqrt(norm);
	for (uint32_t i = 0; i < dim; i++)
		v[i] = (float) (v[i] / norm);
}

/* A standard normal deviate (Box-Muller). */
float
gaussian(SplitMix64 &rng) noexcept
{
	double u1 = rng.uniform();
	double u2 = rng.uniform();
	return (float) (std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
}

} // namespace

size_t
kmeans_scratch_bytes(uint32_t n, uint32_t k, uint32_t dim) noexcept
{
	/* sums, old centers; counts, drifts, half-separations; per sample: assignment, upper and lower bound */
	return 2 * align8(sizeof(float) * (size_t) k * dim) + align8(sizeof(uint32_t) * (size_t) k) +
		   2 * align8(sizeof(float) * (size_t) k) + align8(sizeof(uint32_t) * (size_t) n) +
		   2 * align8(sizeof(float) * (size_t) n);
}

uint32_t
kmeans_nearest(const kernels::KernelTable &kt, const float *v, const float *centers, uint32_t k, uint32_t dim,
			   bool spherical, float *best_distance) noexcept
{
	uint32_t best = 0;
	float best_d = INFINITY;
	uint32_t c = 0;

	for (; c + 4 <= k; c += 4) {
		const float *vs[4] = {centers + (size_t) c * dim, centers + (size_t) (c + 1) * dim,
							  centers + (size_t) (c + 2) * dim, centers + (size_t) (c + 3) * dim};
		float out[4];

		if (spherical) {
			kt.ip_f32_batch4(v, vs, dim, out);
			for (float &o : out)
				o = -o;
		} else
			kt.l2sq_f32_batch4(v, vs, dim, out);
		for (uint32_t j = 0; j < 4; j++)
			if (out[j] < best_d) {
				best_d = out[j];
				best = c + j;
			}
	}
	for (; c < k; c++) {
		float d = rule_distance(kt, v, centers + (size_t) c * dim, dim, spherical);
		if (d < best_d) {
			best_d = d;
			best = c;
		}
	}
	if (best_distance != nullptr)
		*best_distance = best_d;
	return best;
}

namespace {

/* Nearest and second-nearest center of v by squared L2: index, and both Euclidean distances. */
uint32_t
nearest_two(const kernels::KernelTable &kt, const float *v, const float *centers, uint32_t k, uint32_t dim,
			float *d1, float *d2) noexcept
{
	uint32_t best = 0;
	float b1 = INFINITY;
	float b2 = INFINITY;
	uint32_t c = 0;

	for (; c + 4 <= k; c += 4) {
		const float *vs[4] = {centers + (size_t) c * dim, centers + (size_t) (c + 1) * dim,
							  centers + (size_t) (c + 2) * dim, centers + (size_t) (c + 3) * dim};
		float out[4];

		kt.l2sq_f32_batch4(v, vs, dim, out);
		for (uint32_t j = 0; j < 4; j++) {
			if (out[j] < b1) {
				b2 = b1;
				b1 = out[j];
				best = c + j;
			} else if (out[j] < b2)
				b2 = out[j];
		}
	}
	for (; c < k; c++) {
		float d = kt.l2sq_f32(v, centers + (size_t) c * dim, dim);
		if (d < b1) {
			b2 = b1;
			b1 = d;
			best = c;
		} else if (d < b2)
			b2 = d;
	}
	*d1 = std::sqrt(std::max(b1, 0.0f));
	*d2 = std::isinf(b2) ? INFINITY : std::sqrt(std::max(b2, 0.0f));
	return best;
}

} // namespace

/*
 * Lloyd passes with Hamerly's bounds: per sample an upper bound u on the
 * distance to its center and a lower bound l on the distance to every
 * other center; a sample whose u is below max(l, half the distance from
 * its center to the nearest other center) cannot change cluster and costs
 * no distance. Euclidean distances: for spherical k-means the centers are
 * unit vectors, where the nearest by L2 is the largest inner product.
 * Bounds move by the centers' drift after each update; the clustering is
 * the one plain Lloyd passes give (up to float rounding in the bounds,
 * which are kept conservative by a small slack).
 */
Status
kmeans(const kernels::KernelTable &kt, const float *samples, uint32_t n, const KmeansParams &params, float *centers,
	   void *scratch, const volatile int *interrupt, KmeansStats *stats) noexcept
{
	const uint32_t dim = params.dim;
	const uint32_t k = params.k;
	const bool spherical = params.spherical;
	SplitMix64 rng{params.seed ^ 0x6b6d65616e73ull};
	char *p = static_cast<char *>(scratch);
	float *sums;
	float *old;
	uint32_t *counts;
	float *drift;
	float *half_sep;
	uint32_t *assign;
	float *upper;
	float *lower;
	KmeansStats local;

	if (dim == 0 || k == 0 || centers == nullptr || scratch == nullptr || (n > 0 && samples == nullptr))
		return Status::InvalidArgument;
	sums = reinterpret_cast<float *>(p);
	p += align8(sizeof(float) * (size_t) k * dim);
	old = reinterpret_cast<float *>(p);
	p += align8(sizeof(float) * (size_t) k * dim);
	counts = reinterpret_cast<uint32_t *>(p);
	p += align8(sizeof(uint32_t) * (size_t) k);
	drift = reinterpret_cast<float *>(p);
	p += align8(sizeof(float) * (size_t) k);
	half_sep = reinterpret_cast<float *>(p);
	p += align8(sizeof(float) * (size_t) k);
	assign = reinterpret_cast<uint32_t *>(p);
	p += align8(sizeof(uint32_t) * (size_t) n);
	upper = reinterpret_cast<float *>(p);
	p += align8(sizeof(float) * (size_t) n);
	lower = reinterpret_cast<float *>(p);

	/* Fewer samples than centers: the samples, then random centers. */
	if (n <= k) {
		for (uint32_t c = 0; c < k; c++) {
			float *dst = centers + (size_t) c * dim;
			if (c < n)
				std::memcpy(dst, samples + (size_t) c * dim, sizeof(float) * dim);
			else
				for (uint32_t i = 0; i < dim; i++)
					dst[i] = gaussian(rng);
			if (spherical)
				normalize(dst, dim);
		}
		if (stats != nullptr)
			*stats = local;
		return Status::Ok;
	}

	/* k-means++ seeding: each next center drawn with probability proportional to its spread (upper as scratch). */
	{
		float *mind = upper;
		uint32_t first = (uint32_t) (rng.next() % n);
		std::memcpy(centers, samples + (size_t) first * dim, sizeof(float) * dim);
		if (spherical)
			normalize(centers, dim);
		for (uint32_t i = 0; i < n; i++)
			mind[i] = (float) spread(rule_distance(kt, samples + (size_t) i * dim, centers, dim, spherical), spherical);
		for (uint32_t c = 1; c < k; c++) {
			double total = 0;
			double target;
			uint32_t pick = n - 1;
			float *dst = centers + (size_t) c * dim;

			if (interrupt != nullptr && *interrupt)
				return Status::Interrupted;
			for (uint32_t i = 0; i < n; i++)
				total += mind[i];
			target = rng.uniform() * total;
			if (total > 0) {
				for (uint32_t i = 0; i < n; i++) {
					target -= mind[i];
					if (target <= 0) {
						pick = i;
						break;
					}
				}
			} else
				pick = (uint32_t) (rng.next() % n);
			std::memcpy(dst, samples + (size_t) pick * dim, sizeof(float) * dim);
			if (spherical)
				normalize(dst, dim);
			for (uint32_t i = 0; i < n; i++) {
				float d = (float) spread(rule_distance(kt, samples + (size_t) i * dim, dst, dim, spherical), spherical);
				if (d < mind[i])
					mind[i] = d;
			}
		}
	}

	/* First assignment: exact bounds. */
	if (interrupt != nullptr && *interrupt)
		return Status::Interrupted;
	for (uint32_t i = 0; i < n; i++)
		assign[i] = nearest_two(kt, samples + (size_t) i * dim, centers, k, dim, &upper[i], &lower[i]);

	for (uint32_t iter = 0; iter < params.max_iterations; iter++) {
		uint32_t changed = 0;
		bool reseeded = false;
		float max1 = 0, max2 = 0;
		uint32_t max1_c = 0;

		if (interrupt != nullptr && *interrupt)
			return Status::Interrupted;

		/* update: means of the members; empty clusters take the sample farthest from its center */
		std::memcpy(old, centers, sizeof(float) * (size_t) k * dim);
		std::memset(sums, 0, sizeof(float) * (size_t) k * dim);
		std::memset(counts, 0, sizeof(uint32_t) * k);
		for (uint32_t i = 0; i < n; i++) {
			float *s = sums + (size_t) assign[i] * dim;
			const float *v = samples + (size_t) i * dim;
			for (uint32_t j = 0; j < dim; j++)
				s[j] += v[j];
			counts[assign[i]]++;
		}
		for (uint32_t c = 0; c < k; c++) {
			float *dst = centers + (size_t) c * dim;
			if (counts[c] == 0) {
				uint32_t far = 0;
				for (uint32_t i = 1; i < n; i++)
					if (upper[i] > upper[far])
						far = i;
				std::memcpy(dst, samples + (size_t) far * dim, sizeof(float) * dim);
				upper[far] = 0;
				reseeded = true;
			} else {
				const float *s = sums + (size_t) c * dim;
				for (uint32_t j = 0; j < dim; j++)
					dst[j] = s[j] / (float) counts[c];
			}
			if (spherical)
				normalize(dst, dim);
			drift[c] = std::sqrt(std::max(kt.l2sq_f32(old + (size_t) c * dim, dst, dim), 0.0f));
			if (drift[c] > max1) {
				max2 = max1;
				max1 = drift[c];
				max1_c = c;
			} else if (drift[c] > max2)
				max2 = drift[c];
		}

		/* bounds follow the drift (a reseed invalidates them: recompute everything) */
		for (uint32_t i = 0; i < n; i++) {
			if (reseeded) {
				upper[i] = INFINITY;
				lower[i] = 0;
				continue;
			}
			upper[i] += drift[assign[i]] * 1.0001f + 1e-6f;
			lower[i] -= (assign[i] == max1_c ? max2 : max1) * 1.0001f + 1e-6f;
		}
		/* half the distance from each center to its nearest other center */
		for (uint32_t c = 0; c < k; c++) {
			float best = INFINITY;
			for (uint32_t o = 0; o < k; o++)
				if (o != c) {
					float d = kt.l2sq_f32(centers + (size_t) c * dim, centers + (size_t) o * dim, dim);
					if (d < best)
						best = d;
				}
			half_sep[c] = std::isinf(best) ? INFINITY : 0.5f * std::sqrt(std::max(best, 0.0f)) * 0.9999f;
		}

		/* assignment, skipping samples the bounds settle */
		for (uint32_t i = 0; i < n; i++) {
			const float *v = samples + (size_t) i * dim;
			float bound = std::max(half_sep[assign[i]], lower[i]);
			uint32_t c;

			if (upper[i] <= bound)
				continue;
			upper[i] = std::sqrt(std::max(kt.l2sq_f32(v, centers + (size_t) assign[i] * dim, dim), 0.0f)) * 1.0001f;
			if (upper[i] <= bound)
				continue;
			c = nearest_two(kt, v, centers, k, dim, &upper[i], &lower[i]);
			if (c != assign[i]) {
				changed++;
				assign[i] = c;
			}
		}
		local.iterations = iter + 1;
		if (changed == 0 || (uint64_t) changed * 1000 < n)
			break;
	}

	/* exact inertia of the final assignment */
	local.inertia = 0;
	for (uint32_t i = 0; i < n; i++) {
		float d = rule_distance(kt, samples + (size_t) i * dim, centers + (size_t) assign[i] * dim, dim, spherical);
		local.inertia += spread(d, spherical);
	}
	if (stats != nullptr)
		*stats = local;
	return Status::Ok;
}

} // namespace vx::core
