/*
 * kmeans.hpp -- k-means clustering of float vectors for the ivfflat index
 * (the centers of its inverted lists).
 *
 * Lloyd's algorithm after a k-means++ seeding (D^2 sampling), with
 * Hamerly's bounds so that samples that cannot change cluster cost no
 * distance computation (the result is plain Lloyd's), on caller
 * memory: samples (n x dim floats), centers (k x dim, the result) and a
 * scratch area of kmeans_scratch_bytes(n, k, dim) bytes. Distances go
 * through the given kernel table (squared L2, or inner product for
 * spherical k-means), four centers per call, so the assignment step runs
 * at the SIMD level of the machine.
 *
 * Spherical mode (inner-product and cosine opclasses): every center is
 * normalized after each update and samples are assigned by the largest
 * inner product; the caller normalizes the samples for cosine. Empty
 * clusters are re-seeded with the sample farthest from its center. With
 * fewer samples than centers, the samples become the first centers and
 * the rest are seeded random Gaussian vectors (normalized if spherical);
 * n == 0 gives random centers only.
 *
 * Deterministic for a given seed and kernel level. noexcept; polls
 * *interrupt (may be null) once per assignment pass.
 */
#ifndef VX_CORE_KMEANS_HPP
#define VX_CORE_KMEANS_HPP

#include <cstddef>
#include <cstdint>

#include "vx/core/status.hpp"
#include "vx/kernels/kernels.hpp"

namespace vx::core {

struct KmeansParams
{
	uint32_t dim = 0;
	uint32_t k = 0;
	uint32_t max_iterations = 25; /* Lloyd passes after seeding (stops early when stable) */
	bool spherical = false;		  /* maximize the inner product with normalized centers */
	uint64_t seed = 42;
};

/* Statistics of a run (for tests and debugging). */
struct KmeansStats
{
	uint32_t iterations = 0; /* Lloyd passes made */
	double inertia = 0;		 /* sum over samples of the squared L2 (or 1 - ip) to their center */
};

/* Scratch bytes kmeans() needs for n samples, k centers of dim dimensions. */
size_t kmeans_scratch_bytes(uint32_t n, uint32_t k, uint32_t dim) noexcept;

/*
 * Cluster samples[n x dim] into centers[k x dim]. scratch must hold
 * kmeans_scratch_bytes(n, k, dim) bytes, 8-aligned. InvalidArgument for
 * dim == 0, k == 0 or a null pointer; Interrupted when *interrupt became
 * non-zero (centers are then unspecified).
 */
Status kmeans(const kernels::KernelTable &kt, const float *samples, uint32_t n, const KmeansParams &params,
			  float *centers, void *scratch, const volatile int *interrupt, KmeansStats *stats = nullptr) noexcept;

/* Index of the center nearest to v (largest inner product if spherical): the assignment rule. */
uint32_t kmeans_nearest(const kernels::KernelTable &kt, const float *v, const float *centers, uint32_t k,
						uint32_t dim, bool spherical, float *best_distance = nullptr) noexcept;

} // namespace vx::core

#endif /* VX_CORE_KMEANS_HPP */
