/*
 * test_data.hpp -- seeded synthetic data and brute-force ground truth shared
 * by the core unit tests (hnsw_algo, rabitq, vamana, beam_search) and
 * bench/tools/rabitq_measure.cpp.
 *
 * Data are Gaussian clusters: centres N(0, 1) per coordinate, points centre
 * + N(0, 1), so the nearest neighbours of a point are mostly in its cluster
 * but not trivially so. Everything is seeded: tests are deterministic.
 */
#ifndef VX_TEST_UNIT_TEST_DATA_HPP
#define VX_TEST_UNIT_TEST_DATA_HPP

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "vx/core/heap.hpp"
#include "vx/kernels/kernels.hpp"

namespace vx::core::test {

/* Built with AddressSanitizer (GCC's macro, or clang's feature test)? */
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

/*
 * The kernel table the algorithm tests compute distances with: the CPU's
 * best level, except under the sanitizers, where the xsimd kernels run 100
 * times slower than in a release build (650 ns for a 32-d squared L2 with
 * AVX-512, against 50 ns for the scalar loop) and would make the graph
 * builds take minutes. The SIMD kernels themselves are checked against the
 * scalar ones, under the sanitizers too, by kernels_test.cpp.
 */
inline const kernels::KernelTable &
algo_kernels()
{
	return *kernels::table_for(kSanitized ? kernels::Level::Scalar : kernels::detect_level());
}

/* n points in dim dimensions from `clusters` Gaussian clusters, seeded. */
inline std::vector<float>
gaussian_clusters(uint32_t n, uint32_t dim, uint32_t clusters, uint64_t seed)
{
	std::mt19937_64 rng(seed);
	std::normal_distribution<float> normal(0.0f, 1.0f);
	std::vector<float> centers(static_cast<size_t>(clusters) * dim);
	for (float &c : centers)
		c = 1.0f * normal(rng);
	std::uniform_int_distribution<uint32_t> pick(0, clusters - 1);
	std::vector<float> out(static_cast<size_t>(n) * dim);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t c = pick(rng);
		for (uint32_t d = 0; d < dim; d++)
			out[static_cast<size_t>(i) * dim + d] = centers[static_cast<size_t>(c) * dim + d] + normal(rng);
	}
	return out;
}

/* Base rows and queries drawn from the same clusters. */
struct Dataset
{
	std::vector<float> base, queries;
};

/* n base rows and nq queries of dim dims from the same seeded cluster centres. */
inline Dataset
make_dataset(uint32_t n, uint32_t nq, uint32_t dim, uint32_t clusters, uint64_t seed)
{
	std::vector<float> all = gaussian_clusters(n + nq, dim, clusters, seed);
	Dataset d;
	d.base.assign(all.begin(), all.begin() + static_cast<size_t>(n) * dim);
	d.queries.assign(all.begin() + static_cast<size_t>(n) * dim, all.end());
	return d;
}

/* Exact top-k row numbers of each query under metric(query, row). */
template <class Metric>
std::vector<uint32_t>
brute_force(const std::vector<float> &base, const std::vector<float> &queries, uint32_t dim, uint32_t k,
			const Metric &metric)
{
	uint32_t n = static_cast<uint32_t>(base.size() / dim), nq = static_cast<uint32_t>(queries.size() / dim);
	std::vector<uint32_t> out(static_cast<size_t>(nq) * k);
	std::vector<Candidate> all(n);
	for (uint32_t q = 0; q < nq; q++) {
		for (uint32_t i = 0; i < n; i++)
			all[i] = Candidate{metric(&queries[static_cast<size_t>(q) * dim], &base[static_cast<size_t>(i) * dim]), i};
		std::partial_sort(all.begin(), all.begin() + k, all.end(), nearer);
		for (uint32_t j = 0; j < k; j++)
			out[static_cast<size_t>(q) * k + j] = all[j].id;
	}
	return out;
}

/* Ids reachable from start over level 0 of a GraphView of n elements (breadth-first), ascending. */
template <class View>
std::vector<uint32_t>
reachable_from(const View &view, uint32_t start, uint32_t n)
{
	std::vector<char> seen(n, 0);
	std::vector<uint32_t> queue{start}, buf(view.max_degree());
	seen[start] = 1;
	for (size_t head = 0; head < queue.size(); head++)
		for (uint32_t id : view.neighbors(queue[head], 0, buf.data()))
			if (!seen[id]) {
				seen[id] = 1;
				queue.push_back(id);
			}
	std::sort(queue.begin(), queue.end());
	return queue;
}

/* How many of the first min(n, k) ids of got[] are among truth[0..k). */
inline uint32_t
hits_at(const Candidate *got, uint32_t n, const uint32_t *truth, uint32_t k)
{
	uint32_t hits = 0;
	for (uint32_t j = 0; j < std::min(n, k); j++)
		hits += std::find(truth, truth + k, got[j].id) != truth + k;
	return hits;
}

} // namespace vx::core::test

#endif /* VX_TEST_UNIT_TEST_DATA_HPP */
