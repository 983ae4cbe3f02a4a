/*
 * page_delta.hpp -- the byte delta between two images of a page, in the
 * fragment format of PostgreSQL's generic WAL records (generic_xlog.c):
 * a sequence of (uint16 offset, uint16 length, length bytes of new data).
 *
 * Why not GenericXLogFinish's own: it compares the two images one byte at a
 * time over the whole page, and a graph insert logs dozens of records that
 * each change a few dozen bytes of an 8 KiB page (a neighbour list), so
 * that loop was about a quarter of an insert. This encoder skips equal
 * stretches a word at a time and emits the same kind of fragments
 * (neighbouring changes merged when fewer than kMergeGap equal bytes lie
 * between them), so generic_redo replays them unchanged.
 *
 * Like generic WAL, a page is two regions: [0, lower) and [upper, size), the
 * hole between them is zero after redo. Bytes of the old image outside its
 * own regions are not trusted (they were the old hole) and are always
 * written when they fall in a new region.
 */
#ifndef VX_CORE_PAGE_DELTA_HPP
#define VX_CORE_PAGE_DELTA_HPP

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace vx::core {

/* Bytes of one fragment header (offset and length, uint16 each). */
inline constexpr uint32_t kDeltaFragmentHeader = 4;
/* Equal bytes between two changes up to which one fragment covers both (a header costs as much). */
inline constexpr uint32_t kMergeGap = kDeltaFragmentHeader;

/* The most bytes delta_between writes for a page of page_size bytes (two headers plus the page). */
constexpr size_t
max_delta_bytes(size_t page_size) noexcept
{
	return page_size + 2 * kDeltaFragmentHeader;
}

/* One page image and the bounds of its hole. */
struct PageImage
{
	const char *bytes;
	uint32_t lower; /* the hole is [lower, upper) */
	uint32_t upper;
};

namespace detail {

inline char *
write_fragment(char *out, uint32_t offset, uint32_t length, const char *data) noexcept
{
	uint16_t o = static_cast<uint16_t>(offset), l = static_cast<uint16_t>(length);
	std::memcpy(out, &o, sizeof o);
	std::memcpy(out + 2, &l, sizeof l);
	std::memcpy(out + kDeltaFragmentHeader, data, length);
	return out + kDeltaFragmentHeader + length;
}

/* First index in [i, end) where a and b differ, or end; a word at a time. */
inline uint32_t
first_difference(const char *a, const char *b, uint32_t i, uint32_t end) noexcept
{
	while (i + 8 <= end) {
		uint64_t x, y;
		std::memcpy(&x, a + i, 8);
		std::memcpy(&y, b + i, 8);
		if (x != y)
			break;
		i += 8;
	}
	while (i < end && a[i] == b[i])
		i++;
	return i;
}

/*
 * Fragments turning old into target over [start, end); old's bytes outside
 * [valid_start, valid_end) count as different. Returns the new end of out.
 */
inline char *
region_delta(const char *old, const char *target, uint32_t start, uint32_t end, uint32_t valid_start,
			 uint32_t valid_end, char *out) noexcept
{
	auto differs = [&](uint32_t k) { return k < valid_start || k >= valid_end || old[k] != target[k]; };
	uint32_t i = start;

	while (i < end) {
		if (i >= valid_start && i < valid_end)
			i = first_difference(old, target, i, valid_end < end ? valid_end : end);
		if (i >= end)
			break;
		uint32_t begin = i, last = i; /* last: the last differing byte so far */
		for (i++; i < end && i - last <= kMergeGap; i++)
			if (differs(i))
				last = i;
		out = write_fragment(out, begin, last + 1 - begin, target + begin);
		i = last + 1;
	}
	return out;
}

} // namespace detail

/*
 * Write to out (room for max_delta_bytes(page_size)) the fragments that turn
 * old into target outside target's hole; returns the bytes written (0: the
 * regions are equal).
 */
inline size_t
delta_between(const PageImage &old, const PageImage &target, uint32_t page_size, char *out) noexcept
{
	char *end = detail::region_delta(old.bytes, target.bytes, 0, target.lower, 0, old.lower, out);
	end = detail::region_delta(old.bytes, target.bytes, target.upper, page_size, old.upper, page_size, end);
	return static_cast<size_t>(end - out);
}

/* Replay delta onto page (generic_redo's order: the fragments, then the caller zeroes the hole). */
inline void
apply_delta(char *page, const char *delta, size_t bytes) noexcept
{
	const char *p = delta, *end = delta + bytes;
	while (p < end) {
		uint16_t offset, length;
		std::memcpy(&offset, p, sizeof offset);
		std::memcpy(&length, p + 2, sizeof length);
		std::memcpy(page + offset, p + kDeltaFragmentHeader, length);
		p += kDeltaFragmentHeader + length;
	}
}

} // namespace vx::core

#endif /* VX_CORE_PAGE_DELTA_HPP */
