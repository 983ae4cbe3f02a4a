/*
 * kernels_bench.cpp -- Google Benchmark of the distance kernels per level.
 *
 * For every level this CPU supports (scalar beside each SIMD level) and dims
 * 128, 768, 1536: l2sq/ip/cosine/l1 on float32 and on half vectors, hamming
 * and jaccard on bit strings of that many bits, and the batch4 kernels. One
 * query is compared with four vectors in turn, all resident in L1/L2, so the
 * numbers are kernel cost, not memory bandwidth. The "per_dist" counter is
 * the time per distance (batch4 iterations compute four).
 *
 *   build/vx_micro_bench --benchmark_filter=l2sq_f32
 */
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "vx/kernels/kernels.hpp"

namespace {

using vx::kernels::KernelTable;
using vx::kernels::Level;

constexpr size_t kVectors = 4; /* database vectors cycled through per query */

/*
 * Where vector data starts relative to a 64-byte boundary. PostgreSQL datums
 * are only MAXALIGNed and the payload follows an 8-byte varlena header, so 8
 * is the realistic case; VX_BENCH_ALIGN_OFFSET=0 measures aligned data.
 */
size_t
data_offset()
{
	const char *env = std::getenv("VX_BENCH_ALIGN_OFFSET");
	return env ? static_cast<size_t>(std::atoi(env)) : 8;
}

/* n elements of T at data_offset() bytes past a 64-byte boundary. */
template <class T>
class Buffer
{
  public:
	explicit Buffer(size_t n) : storage_(n * sizeof(T) + 128)
	{
		auto base = reinterpret_cast<uintptr_t>(storage_.data());
		ptr_ = reinterpret_cast<T *>(((base + 63) & ~uintptr_t{63}) + data_offset());
	}
	T *
	data()
	{
		return ptr_;
	}

  private:
	std::vector<unsigned char> storage_;
	T *ptr_;
};

/* A query and kVectors vectors of n elements of T, random with a fixed seed. */
template <class T>
struct Data
{
	Buffer<T> q;
	std::vector<Buffer<T>> v;

	explicit Data(size_t n) : q(n)
	{
		std::mt19937 rng(1);
		std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
		auto fill = [&](Buffer<T> &x) {
			for (size_t i = 0; i < n; i++) {
				if constexpr (std::is_same_v<T, float>)
					x.data()[i] = dist(rng);
				else if constexpr (std::is_same_v<T, uint16_t>)
					x.data()[i] = vx::kernels::float_to_half(dist(rng));
				else
					x.data()[i] = static_cast<T>(rng());
			}
		};
		fill(q);
		for (size_t i = 0; i < kVectors; i++)
			fill(v.emplace_back(n));
	}
};

/* Report the time per distance as a counter. */
void
set_per_distance(benchmark::State &state, double distances_per_iteration)
{
	using C = benchmark::Counter;
	state.counters["per_dist"] = C(distances_per_iteration, C::kIsIterationInvariantRate | C::kInvert);
}

/* Benchmark kernel(q, v[i], n) for one table entry. */
template <class T, class Fn>
void
bench_pair(benchmark::State &state, Fn fn, size_t n)
{
	Data<T> d(n);
	size_t i = 0;
	for (auto _ : state) {
		auto r = fn(d.q.data(), d.v[i].data(), n);
		benchmark::DoNotOptimize(r);
		i = (i + 1) % kVectors;
	}
	set_per_distance(state, 1);
}

/* Benchmark a batch4 entry (four distances per iteration). */
template <class T>
void
bench_batch4(benchmark::State &state, void (*fn)(const T *, const T *const *, size_t, float *) noexcept, size_t n)
{
	Data<T> d(n);
	const T *v[4] = {d.v[0].data(), d.v[1].data(), d.v[2].data(), d.v[3].data()};
	float out[4];
	for (auto _ : state) {
		fn(d.q.data(), v, n, out);
		benchmark::DoNotOptimize(out);
		benchmark::ClobberMemory();
	}
	set_per_distance(state, 4);
}

/* Benchmark bitplane_dot: a code of a_bits planes against a 4-bit query, for n dimensions (diskann's estimate). */
void
bench_bitplane(benchmark::State &state, const KernelTable *t, uint32_t a_bits, size_t n)
{
	const size_t plane = (n + 63) / 64 * 8;
	Data<uint8_t> d(plane * 4);
	size_t i = 0;
	for (auto _ : state) {
		uint64_t r = t->bitplane_dot(d.v[i].data(), a_bits, d.q.data(), 4, plane);
		benchmark::DoNotOptimize(r);
		i = (i + 1) % kVectors;
	}
	set_per_distance(state, 1);
}

/* Register every kernel at every dim for one table. */
void
register_level(const KernelTable *t)
{
	const std::string level = t->name;
	for (size_t n : {128, 256, 768, 1536}) {
		/* register fn as kernel/level/n */
		auto add = [&](const char *kernel, auto fn) {
			std::string name = std::string(kernel) + "/" + level + "/" + std::to_string(n);
			benchmark::RegisterBenchmark(name.c_str(), fn);
		};
		using S = benchmark::State;
		add("l2sq_f32", [t, n](S &s) { bench_pair<float>(s, t->l2sq_f32, n); });
		add("ip_f32", [t, n](S &s) { bench_pair<float>(s, t->ip_f32, n); });
		add("cosine_f32", [t, n](S &s) { bench_pair<float>(s, t->cosine_f32, n); });
		add("l1_f32", [t, n](S &s) { bench_pair<float>(s, t->l1_f32, n); });
		add("l2sq_f16", [t, n](S &s) { bench_pair<uint16_t>(s, t->l2sq_f16, n); });
		add("ip_f16", [t, n](S &s) { bench_pair<uint16_t>(s, t->ip_f16, n); });
		add("cosine_f16", [t, n](S &s) { bench_pair<uint16_t>(s, t->cosine_f16, n); });
		add("l1_f16", [t, n](S &s) { bench_pair<uint16_t>(s, t->l1_f16, n); });
		/* bit strings of n bits */
		add("hamming", [t, n](S &s) { bench_pair<uint8_t>(s, t->hamming, n / 8); });
		add("jaccard", [t, n](S &s) { bench_pair<uint8_t>(s, t->jaccard, n / 8); });
		add("l2sq_f32_batch4", [t, n](S &s) { bench_batch4<float>(s, t->l2sq_f32_batch4, n); });
		add("ip_f16_batch4", [t, n](S &s) { bench_batch4<uint16_t>(s, t->ip_f16_batch4, n); });
		add("bitplane_1x4", [t, n](S &s) { bench_bitplane(s, t, 1, n); });
		add("bitplane_2x4", [t, n](S &s) { bench_bitplane(s, t, 2, n); });
	}
}

} // namespace

int
main(int argc, char **argv)
{
	for (int l = 0; l < vx::kernels::kLevelCount; l++)
		if (const KernelTable *t = vx::kernels::table_for(static_cast<Level>(l)))
			register_level(t);
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 1;
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}
