/*
 * hnsw_algo.cpp -- the non-template parts of the HNSW core: levels,
 * normalisation, scratch and arena layouts, and the spinlock slow path.
 *
 * Everything here is pure computation on caller memory; no allocation, no
 * PG. Layout functions return 0 bytes for invalid parameters rather than
 * failing, so the PG zone can validate options in one place.
 */
#include "vx/core/hnsw_algo.hpp"
#include "vx/core/carve.hpp"
#include "vx/core/hnsw_graph.hpp"

#include <cmath>
#include <thread>

#include "vx/cpp_only.hpp"

namespace vx::core {

namespace {

/* Round up to a multiple of 64 bytes (one cache line). */
constexpr uint64_t
round64(uint64_t n) noexcept
{
	return (n + 63) & ~static_cast<uint64_t>(63);
}

/* Frontier capacity of a search scratch: room for the useful candidates plus slack between compactions. */
constexpr uint32_t
frontier_capacity(uint32_t max_ef, uint32_t max_degree) noexcept
{
	return 2 * max_ef + 2 * max_degree;
}

} // namespace

int
level_from_uniform(double u, double ml) noexcept
{
	if (!(u > 0.0))
		return kMaxLevel; /* -ln(0) is infinite */
	if (u > 1.0)
		u = 1.0;
	double level = std::floor(-std::log(u) * ml);
	return level >= kMaxLevel ? kMaxLevel : static_cast<int>(level);
}

bool
normalize_f32(float *v, size_t n) noexcept
{
	double norm = 0.0;
	for (size_t i = 0; i < n; i++)
		norm += static_cast<double>(v[i]) * static_cast<double>(v[i]);
	norm = std::sqrt(norm);
	if (norm == 0.0)
		return false;
	for (size_t i = 0; i < n; i++)
		v[i] = static_cast<float>(v[i] / norm);
	return true;
}

bool
normalize_f16(uint16_t *v, size_t n) noexcept
{
	double norm = 0.0;
	for (size_t i = 0; i < n; i++) {
		double x = kernels::half_to_float(v[i]);
		norm += x * x;
	}
	norm = std::sqrt(norm);
	if (norm == 0.0)
		return false;
	for (size_t i = 0; i < n; i++)
		v[i] = kernels::float_to_half(static_cast<float>(kernels::half_to_float(v[i]) / norm));
	return true;
}

void
sort_candidates(Candidate *cand, uint32_t n, uint32_t base) noexcept
{
	for (uint32_t i = 1; i < n; i++) {
		Candidate c = cand[i];
		uint32_t j = i;
		while (j > 0 && nearer_from(c, cand[j - 1], base)) {
			cand[j] = cand[j - 1];
			j--;
		}
		cand[j] = c;
	}
}

size_t
SearchScratch::bytes_needed(uint32_t max_ef, uint32_t max_degree) noexcept
{
	return Carver::round8(sizeof(Candidate) * frontier_capacity(max_ef, max_degree)) +
		   Carver::round8(sizeof(Candidate) * max_ef) + 2 * Carver::round8(sizeof(uint32_t) * max_degree);
}

bool
SearchScratch::carve(void *mem, size_t bytes, uint32_t max_ef, uint32_t max_degree, SearchScratch *out) noexcept
{
	Carver c(mem, bytes);
	SearchScratch s;
	s.candidate_capacity = frontier_capacity(max_ef, max_degree);
	s.candidates = c.take<Candidate>(s.candidate_capacity);
	s.max_ef = max_ef;
	s.results = c.take<Candidate>(max_ef);
	s.max_degree = max_degree;
	s.neighbor_buf = c.take<uint32_t>(max_degree);
	s.pending = c.take<uint32_t>(max_degree);
	if (!c.ok() || max_ef == 0)
		return false;
	*out = s;
	return true;
}

HnswGraphLayout
hnsw_graph_layout(const HnswGraphParams &p) noexcept
{
	HnswGraphLayout l{};
	if (p.m < 2 || p.m > 100 || p.ef_construction < 1 || p.ef_construction > 10000 || p.value_bytes == 0 ||
		p.capacity == 0 || p.capacity >= kInvalidId || p.keep_pruned > 1 || p.insert_degree0 > 2 * p.m)
		return l;

	uint64_t n = p.capacity;
	uint32_t m0 = 2 * p.m;
	l.node_stride = static_cast<uint32_t>(sizeof(NodeHead) + sizeof(uint32_t) * m0);
	l.value_stride = static_cast<uint32_t>(round64(p.value_bytes));
	l.upper_stride = static_cast<uint32_t>(sizeof(uint32_t) * (1 + p.m));

	/*
	 * Upper lists: an element has level >= l with probability m^-l, so it owns
	 * q/(1-q) lists on average (q = 1/m), variance q/(1-q)^2. Provision the
	 * mean plus 8 standard deviations and a little for tiny graphs.
	 */
	double q = 1.0 / p.m;
	double mean = static_cast<double>(n) * q / (1.0 - q);
	double sd = std::sqrt(static_cast<double>(n) * q) / (1.0 - q);
	double upper = std::ceil(mean + 8.0 * sd) + 4 * kMaxLevel;
	if (upper >= static_cast<double>(kInvalidId))
		return l;
	l.upper_capacity = static_cast<uint32_t>(upper);

	uint64_t off = round64(sizeof(HnswGraphHeader));
	l.nodes_off = off;
	off = round64(off + n * l.node_stride);
	l.values_off = off;
	off = round64(off + n * l.value_stride);
	l.payloads_off = off;
	off = round64(off + n * p.payload_bytes);
	l.upper_off = off;
	off = round64(off + static_cast<uint64_t>(l.upper_capacity) * l.upper_stride);
	l.total_bytes = off;
	return l;
}

uint32_t
hnsw_graph_capacity_for(size_t bytes, const HnswGraphParams &p) noexcept
{
	HnswGraphParams q = p;
	uint32_t lo = 0, hi = kInvalidId - 1; /* lo fits (or is 0), hi + 1 does not */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo + 1) / 2;
		q.capacity = mid;
		HnswGraphLayout l = hnsw_graph_layout(q);
		if (l.total_bytes != 0 && l.total_bytes <= bytes)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

size_t
InsertScratch::bytes_needed(uint32_t m, uint32_t ef_construction, uint32_t visited_capacity) noexcept
{
	uint32_t m0 = 2 * m;
	uint32_t npruned = ef_construction > m0 + 1 ? ef_construction : m0 + 1;
	return Carver::round8(VisitedSet::bytes_for(visited_capacity)) + SearchScratch::bytes_needed(ef_construction, m0) +
		   Carver::round8(sizeof(Candidate) * ef_construction) +
		   Carver::round8(sizeof(Candidate) * (kMaxLevel + 1) * m0) + Carver::round8(sizeof(Candidate) * npruned) +
		   Carver::round8(sizeof(Candidate) * (m0 + 1)) + Carver::round8(sizeof(Candidate) * m0);
}

bool
InsertScratch::carve(void *mem, size_t bytes, uint32_t m, uint32_t ef_construction, uint32_t visited_capacity,
					 InsertScratch *out) noexcept
{
	uint32_t m0 = 2 * m;
	uint32_t npruned = ef_construction > m0 + 1 ? ef_construction : m0 + 1;
	size_t search_bytes = SearchScratch::bytes_needed(ef_construction, m0);
	Carver c(mem, bytes);
	uint16_t *tags = c.take<uint16_t>(visited_capacity);
	std::byte *search_mem = c.take<std::byte>(search_bytes);
	InsertScratch s;
	s.w = c.take<Candidate>(ef_construction);
	s.m0 = m0;
	s.selected = c.take<Candidate>(static_cast<size_t>(kMaxLevel + 1) * m0);
	s.pruned = c.take<Candidate>(npruned);
	s.shrink = c.take<Candidate>(m0 + 1);
	s.shrink_out = c.take<Candidate>(m0);
	if (!c.ok() || !SearchScratch::carve(search_mem, search_bytes, ef_construction, m0, &s.search))
		return false;
	s.visited = VisitedSet(tags, visited_capacity);
	*out = s;
	return true;
}

void
spin_lock_slow(uint8_t *word) noexcept
{
	std::atomic_ref<uint8_t> lock(*word);
	for (uint32_t spins = 0;; spins++) {
		/* Test before test-and-set: spin on a shared cache line, not on writes. */
		if (lock.load(std::memory_order_relaxed) == 0 && lock.exchange(1, std::memory_order_acquire) == 0)
			return;
		if (spins < 100) {
#if defined(__x86_64__) || defined(__i386__)
			__builtin_ia32_pause();
#elif defined(__aarch64__)
			__asm__ __volatile__("yield");
#endif
		} else {
			/* The holder may be descheduled (2 cores, more workers): give the CPU away. */
			std::this_thread::yield();
		}
	}
}

} // namespace vx::core
