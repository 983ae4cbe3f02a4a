/*
 * kmeans_test.cpp -- GoogleTest for vx/core/kmeans.hpp: known, well
 * separated clusters are found; the nearest-center rule matches a scalar
 * brute force; the SIMD level and the scalar reference give the same
 * clustering; the result is a fixed point of a plain (brute-force) Lloyd
 * step, so the bounds that let samples skip distances never keep a sample
 * in the wrong cluster; spherical centers are unit vectors; fewer samples
 * than centers; bad arguments and interrupts.
 */
#include "vx/core/kmeans.hpp"
#include "vx/kernels/kernels.hpp"

#include "test_data.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>
#include <vector>

namespace vx::core {
namespace {

/* Run kmeans with its own scratch. */
Status
run(const kernels::KernelTable &kt, const std::vector<float> &x, uint32_t n, const KmeansParams &p,
	std::vector<float> &centers, KmeansStats *stats = nullptr, const volatile int *interrupt = nullptr)
{
	std::vector<uint64_t> scratch(kmeans_scratch_bytes(n, p.k, p.dim) / 8 + 1);
	centers.assign((size_t) p.k * p.dim, 0.0f);
	return kmeans(kt, x.data(), n, p, centers.data(), scratch.data(), interrupt, stats);
}

/* Points around `truth` centers spaced far apart: label i / per is the true cluster. */
std::vector<float>
separated(uint32_t k, uint32_t per, uint32_t dim, std::vector<float> &truth, uint64_t seed)
{
	std::mt19937_64 rng(seed);
	std::normal_distribution<float> noise(0.0f, 1.0f);
	std::vector<float> x((size_t) k * per * dim);
	truth.assign((size_t) k * dim, 0.0f);
	for (uint32_t c = 0; c < k; c++)
		for (uint32_t j = 0; j < dim; j++)
			truth[(size_t) c * dim + j] = 100.0f * noise(rng);
	for (uint32_t c = 0; c < k; c++)
		for (uint32_t i = 0; i < per; i++)
			for (uint32_t j = 0; j < dim; j++)
				x[((size_t) c * per + i) * dim + j] = truth[(size_t) c * dim + j] + noise(rng);
	return x;
}

TEST(Kmeans, FindsSeparatedClusters)
{
	const uint32_t k = 12, per = 200, dim = 24;
	std::vector<float> truth, centers;
	std::vector<float> x = separated(k, per, dim, truth, 7);
	KmeansParams p;
	p.dim = dim;
	p.k = k;
	ASSERT_EQ(run(test::algo_kernels(), x, k * per, p, centers), Status::Ok);

	/* each true center has exactly one found center within 0.5 (the noise mean over 200 points is ~0.07) */
	std::set<uint32_t> used;
	for (uint32_t c = 0; c < k; c++) {
		uint32_t found = kmeans_nearest(*kernels::table_for(kernels::Level::Scalar), &truth[(size_t) c * dim],
										centers.data(), k, dim, false);
		float d = kernels::table_for(kernels::Level::Scalar)->l2sq_f32(&truth[(size_t) c * dim],
																		&centers[(size_t) found * dim], dim);
		EXPECT_LT(std::sqrt(d), 0.5f) << "true cluster " << c;
		used.insert(found);
	}
	EXPECT_EQ(used.size(), k);
}

TEST(Kmeans, NearestMatchesScalarBruteForce)
{
	const auto &fast = test::algo_kernels();
	const uint32_t dims[] = {1, 3, 16, 33, 128};
	for (uint32_t dim : dims)
		for (bool spherical : {false, true}) {
			std::vector<float> x = test::gaussian_clusters(300, dim, 5, 11 + dim);
			std::vector<float> c = test::gaussian_clusters(37, dim, 5, 99 + dim);
			for (uint32_t i = 0; i < 300; i++) {
				const float *v = &x[(size_t) i * dim];
				uint32_t want = 0;
				double want_d = INFINITY;
				for (uint32_t j = 0; j < 37; j++) {
					double d = 0;
					for (uint32_t t = 0; t < dim; t++) {
						double a = v[t], b = c[(size_t) j * dim + t];
						d += spherical ? -a * b : (a - b) * (a - b);
					}
					if (d < want_d) {
						want_d = d;
						want = j;
					}
				}
				float got_d;
				uint32_t got = kmeans_nearest(fast, v, c.data(), 37, dim, spherical, &got_d);
				/* a tie within float rounding may pick the other one: compare distances */
				if (got != want)
					EXPECT_NEAR(got_d, want_d, 1e-3 * (1 + std::fabs(want_d))) << "dim " << dim;
				else
					EXPECT_NEAR(got_d, want_d, 1e-3 * (1 + std::fabs(want_d)));
			}
		}
}

/* One brute-force Lloyd step (scalar, double sums) from centers c; returns the largest center move. */
double
lloyd_step_move(const std::vector<float> &x, uint32_t n, uint32_t dim, uint32_t k, const std::vector<float> &c,
				bool spherical)
{
	std::vector<double> sums((size_t) k * dim, 0.0);
	std::vector<uint32_t> counts(k, 0);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t best = 0;
		double best_d = INFINITY;
		for (uint32_t j = 0; j < k; j++) {
			double d = 0;
			for (uint32_t t = 0; t < dim; t++) {
				double a = x[(size_t) i * dim + t], b = c[(size_t) j * dim + t];
				d += spherical ? -a * b : (a - b) * (a - b);
			}
			if (d < best_d) {
				best_d = d;
				best = j;
			}
		}
		counts[best]++;
		for (uint32_t t = 0; t < dim; t++)
			sums[(size_t) best * dim + t] += x[(size_t) i * dim + t];
	}
	double worst = 0;
	for (uint32_t j = 0; j < k; j++) {
		if (counts[j] == 0)
			return INFINITY;
		std::vector<double> m(dim);
		double norm = 0;
		for (uint32_t t = 0; t < dim; t++) {
			m[t] = sums[(size_t) j * dim + t] / counts[j];
			norm += m[t] * m[t];
		}
		double move = 0;
		for (uint32_t t = 0; t < dim; t++) {
			double v = spherical ? m[t] / std::sqrt(norm) : m[t];
			move += (v - c[(size_t) j * dim + t]) * (v - c[(size_t) j * dim + t]);
		}
		worst = std::max(worst, std::sqrt(move));
	}
	return worst;
}

TEST(Kmeans, ConvergesToALloydFixedPoint)
{
	/* n < 1000: the 0.1% early stop only fires when no sample moved, i.e. at convergence */
	const uint32_t n = 900, dim = 12, k = 15;
	for (bool spherical : {false, true}) {
		std::vector<float> x = test::gaussian_clusters(n, dim, 6, 17 + spherical);
		std::vector<float> c;
		KmeansParams p;
		p.dim = dim;
		p.k = k;
		p.spherical = spherical;
		p.max_iterations = 200;
		KmeansStats st;
		ASSERT_EQ(run(test::algo_kernels(), x, n, p, c, &st), Status::Ok);
		EXPECT_LT(st.iterations, p.max_iterations) << "spherical " << spherical;
		EXPECT_LT(lloyd_step_move(x, n, dim, k, c, spherical), 1e-4) << "spherical " << spherical;
	}
}

TEST(Kmeans, SimdLevelMatchesScalarReference)
{
	const uint32_t dim = 32, n = 2000;
	std::vector<float> x = test::gaussian_clusters(n, dim, 10, 5);
	std::vector<float> a, b;
	KmeansParams p;
	p.dim = dim;
	p.k = 10;
	KmeansStats sa, sb;
	ASSERT_EQ(run(*kernels::table_for(kernels::Level::Scalar), x, n, p, a, &sa), Status::Ok);
	ASSERT_EQ(run(test::algo_kernels(), x, n, p, b, &sb), Status::Ok);
	/* float summation order differs between levels, so compare the quality, and the centers loosely */
	EXPECT_NEAR(sa.inertia, sb.inertia, 0.01 * sa.inertia);
	for (uint32_t c = 0; c < p.k; c++) {
		uint32_t m = kmeans_nearest(*kernels::table_for(kernels::Level::Scalar), &a[(size_t) c * dim], b.data(),
									p.k, dim, false);
		float d = kernels::table_for(kernels::Level::Scalar)->l2sq_f32(&a[(size_t) c * dim], &b[(size_t) m * dim], dim);
		EXPECT_LT(std::sqrt(d), 0.5f);
	}
}

TEST(Kmeans, InertiaBeatsRandomCenters)
{
	const uint32_t dim = 16, n = 3000;
	std::vector<float> x = test::gaussian_clusters(n, dim, 20, 3);
	std::vector<float> c;
	KmeansParams p;
	p.dim = dim;
	p.k = 20;
	KmeansStats s;
	ASSERT_EQ(run(test::algo_kernels(), x, n, p, c, &s), Status::Ok);
	EXPECT_GE(s.iterations, 1u);
	/* inertia of the first 20 samples taken as centers */
	double random_inertia = 0;
	for (uint32_t i = 0; i < n; i++) {
		float d;
		kmeans_nearest(test::algo_kernels(), &x[(size_t) i * dim], x.data(), 20, dim, false, &d);
		random_inertia += d;
	}
	EXPECT_LT(s.inertia, 0.8 * random_inertia);
}

TEST(Kmeans, SphericalCentersAreUnit)
{
	const uint32_t dim = 8, n = 500;
	std::vector<float> x = test::gaussian_clusters(n, dim, 4, 9);
	std::vector<float> c;
	KmeansParams p;
	p.dim = dim;
	p.k = 6;
	p.spherical = true;
	ASSERT_EQ(run(test::algo_kernels(), x, n, p, c), Status::Ok);
	for (uint32_t j = 0; j < p.k; j++) {
		double norm = 0;
		for (uint32_t t = 0; t < dim; t++)
			norm += (double) c[j * dim + t] * c[j * dim + t];
		EXPECT_NEAR(norm, 1.0, 1e-5);
	}
}

TEST(Kmeans, FewerSamplesThanCenters)
{
	const uint32_t dim = 4;
	std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8};
	std::vector<float> c;
	KmeansParams p;
	p.dim = dim;
	p.k = 5;
	ASSERT_EQ(run(test::algo_kernels(), x, 2, p, c), Status::Ok);
	for (uint32_t t = 0; t < 8; t++)
		EXPECT_EQ(c[t], x[t]);
	for (uint32_t t = 8; t < 20; t++)
		EXPECT_TRUE(std::isfinite(c[t]));
	/* no samples at all: random finite centers */
	ASSERT_EQ(run(test::algo_kernels(), x, 0, p, c), Status::Ok);
	for (float v : c)
		EXPECT_TRUE(std::isfinite(v));
}

TEST(Kmeans, BadArgumentsAndInterrupt)
{
	std::vector<float> x = test::gaussian_clusters(100, 4, 2, 1), c;
	KmeansParams p;
	p.dim = 0;
	p.k = 2;
	EXPECT_EQ(run(test::algo_kernels(), x, 100, p, c), Status::InvalidArgument);
	p.dim = 4;
	p.k = 0;
	std::vector<uint64_t> scratch(16);
	float one[4];
	EXPECT_EQ(kmeans(test::algo_kernels(), x.data(), 100, p, one, scratch.data(), nullptr), Status::InvalidArgument);
	p.k = 2;
	volatile int flag = 1;
	EXPECT_EQ(run(test::algo_kernels(), x, 100, p, c, nullptr, &flag), Status::Interrupted);
}

} // namespace
} // namespace vx::core
