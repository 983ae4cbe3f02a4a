/*
 * visited.hpp -- epoch-tagged visited set over dense element ids.
 *
 * One 16-bit tag per id lives in caller memory. An id is "visited" when its
 * tag equals the current epoch, so reset() is a single increment; only when
 * the epoch wraps (every 65535 resets) is the tag array cleared. The set owns
 * nothing and has a trivial destructor, so it may live across calls that
 * longjmp (see hnsw_algo.hpp). Not thread-safe: one per searching thread.
 *
 * Invariant: every id passed in is < capacity() (checked in debug builds).
 */
#ifndef VX_CORE_VISITED_HPP
#define VX_CORE_VISITED_HPP

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace vx::core {

class VisitedSet
{
public:
	/* Bytes of tag memory needed for ids 0..capacity-1. */
	static constexpr size_t
	bytes_for(uint32_t capacity) noexcept
	{
		return sizeof(uint16_t) * static_cast<size_t>(capacity);
	}

	VisitedSet() noexcept = default;

	/* Wrap caller memory of bytes_for(capacity) bytes; clears it once. */
	VisitedSet(uint16_t *tags, uint32_t capacity) noexcept : tags_(tags), capacity_(capacity), epoch_(1)
	{
		std::memset(tags_, 0, bytes_for(capacity_));
	}

	/* Forget every id (O(1) except once per 65535 calls). */
	void
	reset() noexcept
	{
		if (++epoch_ == 0) {
			std::memset(tags_, 0, bytes_for(capacity_));
			epoch_ = 1;
		}
	}

	/* Mark id; return true if it was already marked. */
	bool
	test_and_set(uint32_t id) noexcept
	{
		assert(id < capacity_);
		if (tags_[id] == epoch_)
			return true;
		tags_[id] = epoch_;
		return false;
	}

	/* Is id marked? */
	bool
	contains(uint32_t id) const noexcept
	{
		assert(id < capacity_);
		return tags_[id] == epoch_;
	}

	/* Hint the tag of id into cache ahead of test_and_set. */
	void
	prefetch(uint32_t id) const noexcept
	{
		__builtin_prefetch(tags_ + id, 1, 3);
	}

	/* Largest id + 1 the set can hold. */
	uint32_t
	capacity() const noexcept
	{
		return capacity_;
	}

private:
	uint16_t *tags_ = nullptr;
	uint32_t capacity_ = 0;
	uint16_t epoch_ = 1;
};

} // namespace vx::core

#endif /* VX_CORE_VISITED_HPP */
