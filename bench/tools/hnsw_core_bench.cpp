/*
 * hnsw_core_bench.cpp -- build time, recall@10 and QPS of the in-memory HNSW
 * core on an fvecs dataset (default: debian-d256, cosine), to print next to
 * hnswlib's numbers from bench/tools/hnswlib_ref.py run in the same session.
 *
 *   hnsw_core_bench [--data DIR] [--metric cos|l2] [--m 16] [--efc 64]
 *                   [--threads 1,2] [--ef 10,20,40,64,100,200]
 *                   [--kernel active|scalar|baseline|avx2|avx512] [--keep-pruned 0|1]
 *                   [--degree0 N] [--prefetch-lines N] [--limit N] [--repeat 5] [--seed 1234]
 *
 * Cosine normalises base and query vectors and uses the negative inner
 * product (as the PG zone will). Builds use build_rows() on a Concurrent
 * graph for threads > 1 and a SingleThreaded one for 1. Queries run
 * single-threaded, one at a time, with hnsw_search(), best of --repeat passes
 * (the machine is shared and noisy); recall@10 is against
 * the dataset's exact ground truth (0-based base row numbers).
 *
 * --kernel picks a KernelTable level (default: the best the CPU has).
 *
 * Build: cmake target hnsw_core_bench, or by hand
 *   g++ -std=c++20 -O2 -Iinclude bench/tools/hnsw_core_bench.cpp plus every .cpp of src/core, src/kernels
 * (the per-ISA kernel files then need their Makefile flags; CMake applies them).
 */
#include "vx/core/hnsw_algo.hpp"
#include "vx/core/hnsw_graph.hpp"
#include "vx/kernels/kernels.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "vecs_file.hpp"

namespace {

using namespace vx::core;
using vx::bench::parse_list;
using vx::bench::read_vecs;

/* Distance computations of the calling thread (build statistics). */
thread_local uint64_t t_distances = 0;

/* Wraps a metric to count its calls per thread. */
template <class Metric>
struct Counted
{
	Metric inner;

	float
	operator()(const void *a, const void *b) const noexcept
	{
		t_distances++;
		return inner(a, b);
	}
};

/* Seconds since an arbitrary origin. */
double
now()
{
	return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Options
{
	std::string data = "/work/shared/datasets/debian-d256";
	std::string metric = "cos";
	std::string kernel = "active";
	uint32_t m = 16, efc = 64, keep_pruned = 1, degree0 = 0, limit = 0, prefetch_lines = 0, repeat = 5, seed = 1234;
	bool prefetch_set = false;
	std::vector<uint32_t> threads{1, 2};
	std::vector<uint32_t> efs{10, 20, 40, 64, 100, 200};
};

/* Build with the given number of threads and report; Graph policy chosen by the caller. */
template <class Policy, class Metric>
void
run(const Options &o, uint32_t nthreads, const std::vector<float> &base, uint32_t n, uint32_t dim,
	const std::vector<float> &queries, uint32_t nq, const std::vector<int32_t> &gt, uint32_t gt_k, const Metric &metric)
{
	HnswGraphParams p;
	p.m = o.m;
	p.ef_construction = o.efc;
	p.value_bytes = dim * sizeof(float);
	p.payload_bytes = sizeof(uint32_t);
	p.capacity = n;
	p.keep_pruned = o.keep_pruned;
	p.insert_degree0 = o.degree0;
	HnswGraphLayout layout = hnsw_graph_layout(p);
	std::byte *arena = new (std::align_val_t(64)) std::byte[layout.total_bytes];
	HnswGraph<Policy> g;
	if (HnswGraph<Policy>::create(arena, layout.total_bytes, p, &g) != Status::Ok) {
		std::fprintf(stderr, "create failed\n");
		std::exit(1);
	}
	if (o.prefetch_set)
		g.set_prefetch_lines(o.prefetch_lines);

	uint32_t cursor = 0;
	std::atomic<uint64_t> build_distances{0};
	std::vector<std::thread> threads;
	double t0 = now();
	for (uint32_t t = 0; t < nthreads; t++) {
		threads.emplace_back([&, t] {
			std::vector<uint64_t> mem(insert_scratch_bytes(p) / 8 + 1);
			InsertScratch s;
			carve_insert_scratch(mem.data(), mem.size() * 8, p, &s);
			SplitMix64 rng{o.seed + t};
			uint32_t row_id;
			auto row = [&](uint32_t i, const void **value, const void **payload) {
				*value = &base[static_cast<size_t>(i) * dim];
				row_id = i;
				*payload = &row_id;
			};
			t_distances = 0;
			Status st = build_rows(g, n, &cursor, row, Counted<Metric>{metric}, rng, s, nullptr);
			if (st != Status::Ok)
				std::fprintf(stderr, "build: %s\n", status_name(st));
			build_distances += t_distances;
		});
	}
	for (std::thread &th : threads)
		th.join();
	double build = now() - t0;
	uint32_t bad;
	const char *err = g.verify(&bad);
	double avg0 = 0;
	uint32_t buf[256];
	for (uint32_t i = 0; i < g.size(); i++)
		avg0 += static_cast<double>(g.neighbors(i, 0, buf).size());
	std::printf("build threads=%u m=%u efc=%u keep_pruned=%u degree0=%u: %.2f s  (%.0f bytes/element, "
				"avg level-0 degree %.1f, max level %d, %.0f distances/insert%s%s)\n",
				nthreads, o.m, o.efc, o.keep_pruned, g.params().insert_degree0, build, g.bytes_per_element(),
				avg0 / g.size(), g.max_level(), static_cast<double>(build_distances.load()) / n, err ? ", VERIFY FAILED: " : "", err ? err : "");

	/* Queries through a read-only view (no locks), as a scan would after the flush. */
	HnswGraph<SingleThreaded> ro;
	HnswGraph<SingleThreaded>::attach(arena, layout.total_bytes, &ro);
	uint32_t max_ef = *std::max_element(o.efs.begin(), o.efs.end());
	std::vector<uint64_t> smem(SearchScratch::bytes_needed(max_ef, ro.max_degree()) / 8 + 1);
	SearchScratch s;
	SearchScratch::carve(smem.data(), smem.size() * 8, max_ef, ro.max_degree(), &s);
	SearchStats stats;
	s.stats = &stats;
	std::vector<uint16_t> tags(n);
	VisitedSet visited(tags.data(), n);
	std::vector<Candidate> out(max_ef);
	for (uint32_t ef : o.efs) {
		uint64_t hits = 0;
		double best = 1e30;
		for (uint32_t rep = 0; rep < o.repeat; rep++) {
			hits = 0;
			stats = SearchStats{};
			double q0 = now();
			for (uint32_t q = 0; q < nq; q++) {
				auto dist = ro.query_distance(metric, &queries[static_cast<size_t>(q) * dim]);
				uint32_t got = hnsw_search(ro, dist, std::max<uint32_t>(ef, 10), visited, s, out.data());
				const int32_t *t = &gt[static_cast<size_t>(q) * gt_k];
				for (uint32_t j = 0; j < std::min<uint32_t>(got, 10); j++) {
					uint32_t row;
					std::memcpy(&row, ro.payload(out[j].id), sizeof(row));
					hits += std::find(t, t + 10, static_cast<int32_t>(row)) != t + 10;
				}
			}
			best = std::min(best, now() - q0);
		}
		std::printf("  ef=%-4u recall@10=%.4f  QPS=%8.0f  dist/query=%.0f\n", ef, hits / (10.0 * nq), nq / best,
					static_cast<double>(stats.distances) / nq);
	}
	::operator delete[](arena, std::align_val_t(64));
}

} // namespace

int
main(int argc, char **argv)
{
	Options o;
	for (int i = 1; i + 1 < argc; i += 2) {
		std::string k = argv[i];
		const char *v = argv[i + 1];
		if (k == "--data")
			o.data = v;
		else if (k == "--metric")
			o.metric = v;
		else if (k == "--kernel")
			o.kernel = v;
		else if (k == "--m")
			o.m = std::atoi(v);
		else if (k == "--efc")
			o.efc = std::atoi(v);
		else if (k == "--keep-pruned")
			o.keep_pruned = std::atoi(v);
		else if (k == "--degree0")
			o.degree0 = std::atoi(v);
		else if (k == "--seed")
			o.seed = std::atoi(v);
		else if (k == "--repeat")
			o.repeat = std::max(1, std::atoi(v));
		else if (k == "--limit")
			o.limit = std::atoi(v);
		else if (k == "--prefetch-lines") {
			o.prefetch_lines = std::atoi(v);
			o.prefetch_set = true;
		} else if (k == "--threads")
			o.threads = parse_list(v);
		else if (k == "--ef")
			o.efs = parse_list(v);
		else {
			std::fprintf(stderr, "unknown option %s\n", k.c_str());
			return 2;
		}
	}

	uint32_t dim = 0, n = 0, qdim = 0, nq = 0, gt_k = 0, ngt = 0;
	std::vector<float> base = read_vecs<float>(o.data + "/base.fvecs", &dim, &n);
	std::vector<float> queries = read_vecs<float>(o.data + "/query.fvecs", &qdim, &nq);
	std::vector<int32_t> gt = read_vecs<int32_t>(o.data + "/gt_" + o.metric + ".ivecs", &gt_k, &ngt);
	if (qdim != dim || ngt != nq || gt_k < 10) {
		std::fprintf(stderr, "dataset shape mismatch\n");
		return 1;
	}
	if (o.limit > 0 && o.limit < nq)
		nq = o.limit;
	bool cos = o.metric == "cos";
	if (cos) {
		for (uint32_t i = 0; i < n; i++)
			normalize_f32(&base[static_cast<size_t>(i) * dim], dim);
		for (uint32_t i = 0; i < nq; i++)
			normalize_f32(&queries[static_cast<size_t>(i) * dim], dim);
	}

	static const char *const kLevels[] = {"scalar", "baseline", "avx2", "avx512"};
	vx::kernels::Level want = vx::kernels::Level::AVX512;
	for (int l = 0; l < vx::kernels::kLevelCount; l++)
		if (o.kernel == kLevels[l])
			want = static_cast<vx::kernels::Level>(l);
	vx::kernels::kernels_init(want);
	const vx::kernels::KernelTable &kt = vx::kernels::active();
	auto ip = kt.ip_f32;
	auto l2 = kt.l2sq_f32;
	std::printf("dataset %s: %u x %u, %u queries, metric %s, kernel %s\n", o.data.c_str(), n, dim, nq,
				o.metric.c_str(), kt.name);

	for (uint32_t t : o.threads) {
		if (cos) {
			MetricF32NegIp metric{ip, dim};
			if (t == 1)
				run<SingleThreaded>(o, t, base, n, dim, queries, nq, gt, gt_k, metric);
			else
				run<Concurrent>(o, t, base, n, dim, queries, nq, gt, gt_k, metric);
		} else {
			MetricF32 metric{l2, dim};
			if (t == 1)
				run<SingleThreaded>(o, t, base, n, dim, queries, nq, gt, gt_k, metric);
			else
				run<Concurrent>(o, t, base, n, dim, queries, nq, gt, gt_k, metric);
		}
	}
	return 0;
}
