/*
 * vamana.cpp -- the non-template part of the Vamana core (vamana.hpp): the
 * layout of a builder's scratch in one caller buffer. One layout function
 * serves bytes_needed() (with a measuring carver) and carve(), so the two
 * cannot disagree.
 */
#include "vx/core/vamana.hpp"

#include "vx/core/carve.hpp"

#include "vx/cpp_only.hpp"

namespace vx::core {

namespace {

/* Take every array of a builder's scratch from c into s (null pointers when c only measures). */
void
layout(Carver &c, uint32_t R, uint32_t L, uint32_t n, size_t search_bytes, VamanaScratch *s, uint16_t **tags,
	   std::byte **search_mem) noexcept
{
	uint32_t max_expanded = VamanaScratch::max_expanded_for(L);
	size_t pool = static_cast<size_t>(max_expanded) + R + 1;
	*tags = c.take<uint16_t>(n);
	*search_mem = c.take<std::byte>(search_bytes);
	s->best = c.take<Candidate>(L);
	s->expanded = c.take<Candidate>(max_expanded);
	s->max_expanded = max_expanded;
	s->pool = c.take<Candidate>(pool);
	s->occlude = c.take<float>(pool);
	s->pruned = c.take<Candidate>(R);
	s->order = c.take<uint32_t>(n);
	s->R = R;
	s->L = L;
	s->n = n;
}

} // namespace

size_t
VamanaScratch::bytes_needed(uint32_t R, uint32_t L, uint32_t n) noexcept
{
	Carver c = Carver::measure();
	VamanaScratch s;
	uint16_t *tags;
	std::byte *search_mem;
	layout(c, R, L, n, SearchScratch::bytes_needed(L, R), &s, &tags, &search_mem);
	return c.used();
}

bool
VamanaScratch::carve(void *mem, size_t bytes, uint32_t R, uint32_t L, uint32_t n, VamanaScratch *out) noexcept
{
	if (R == 0 || L == 0)
		return false;
	Carver c(mem, bytes);
	VamanaScratch s;
	uint16_t *tags;
	std::byte *search_mem;
	size_t search_bytes = SearchScratch::bytes_needed(L, R);
	layout(c, R, L, n, search_bytes, &s, &tags, &search_mem);
	if (!c.ok() || !SearchScratch::carve(search_mem, search_bytes, L, R, &s.search))
		return false;
	s.visited = VisitedSet(tags, n);
	*out = s;
	return true;
}

} // namespace vx::core
