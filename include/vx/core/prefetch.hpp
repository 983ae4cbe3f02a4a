/*
 * prefetch.hpp -- a software prefetch of a byte range: every cache line it
 * touches, for reading, into all cache levels. The in-memory graphs, the
 * build's codes and the diskann node pages use it for what a search reads
 * next.
 */
#ifndef VX_CORE_PREFETCH_HPP
#define VX_CORE_PREFETCH_HPP

#include <cstddef>

namespace vx::core {

/* Start fetching [p, p + n), n > 0 (a range that ends mid-line gets its last line too). */
inline void
prefetch_bytes(const void *p, size_t n) noexcept
{
	const char *begin = static_cast<const char *>(p), *end = begin + n;
	for (const char *q = begin; q < end; q += 64)
		__builtin_prefetch(q, 0, 3);
	__builtin_prefetch(end - 1, 0, 3);
}

} // namespace vx::core

#endif /* VX_CORE_PREFETCH_HPP */
