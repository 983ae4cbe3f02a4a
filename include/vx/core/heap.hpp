/*
 * heap.hpp -- bounded binary heaps of (distance, id) on caller memory.
 *
 * MaxHeap keeps the farthest candidate on top (the result set of a beam
 * search: the top is the bound a new candidate must beat); MinHeap keeps the
 * nearest on top (the frontier still to expand). Both order by distance and
 * break ties by id, so runs are deterministic. They never allocate: the
 * caller passes an array and its capacity, and push() on a full heap is a
 * caller bug (asserted). Trivially destructible, so safe in search loops that
 * may longjmp.
 */
#ifndef VX_CORE_HEAP_HPP
#define VX_CORE_HEAP_HPP

#include <cassert>
#include <cstdint>

namespace vx::core {

/* A graph element and its distance to the current query. */
struct Candidate
{
	float dist;
	uint32_t id;
};

/* Strict order used everywhere: smaller distance first, then smaller id. */
inline bool
nearer(const Candidate &a, const Candidate &b) noexcept
{
	return a.dist < b.dist || (a.dist == b.dist && a.id < b.id);
}

namespace detail {

/* Binary heap over caller memory; the top is the farthest if MaxTop, else the nearest. */
template <bool MaxTop>
class BinaryHeap
{
public:
	BinaryHeap() noexcept = default;

	/* Use buf[0..capacity) as heap storage; starts empty. */
	BinaryHeap(Candidate *buf, uint32_t capacity) noexcept : a_(buf), cap_(capacity) {}

	uint32_t size() const noexcept { return n_; }
	uint32_t capacity() const noexcept { return cap_; }
	bool empty() const noexcept { return n_ == 0; }
	bool full() const noexcept { return n_ >= cap_; }
	void clear() noexcept { n_ = 0; }
	const Candidate &top() const noexcept { return a_[0]; }
	const Candidate *data() const noexcept { return a_; }

	/* Insert c; the heap must not be full. */
	void
	push(Candidate c) noexcept
	{
		assert(n_ < cap_);
		uint32_t i = n_++;
		while (i > 0) {
			uint32_t parent = (i - 1) / 2;
			if (!above(c, a_[parent]))
				break;
			a_[i] = a_[parent];
			i = parent;
		}
		a_[i] = c;
	}

	/* Remove the top; the heap must not be empty. */
	void
	pop() noexcept
	{
		assert(n_ > 0);
		Candidate last = a_[--n_];
		if (n_ > 0)
			sift_down(0, last);
	}

	/* Replace the top by c (one sift instead of pop + push). */
	void
	replace_top(Candidate c) noexcept
	{
		assert(n_ > 0);
		sift_down(0, c);
	}

	/*
	 * Keep the capacity() candidates that are least "above": for a MaxHeap the
	 * nearest ones, for a MinHeap the farthest. Returns whether c was kept.
	 */
	bool
	push_bounded(Candidate c) noexcept
	{
		if (n_ < cap_) {
			push(c);
			return true;
		}
		if (cap_ == 0 || !above(a_[0], c))
			return false;
		replace_top(c);
		return true;
	}

	/* Drop every candidate farther than bound, then restore the heap order. */
	void
	remove_farther_than(float bound) noexcept
	{
		uint32_t k = 0;
		for (uint32_t i = 0; i < n_; i++)
			if (!(a_[i].dist > bound))
				a_[k++] = a_[i];
		n_ = k;
		for (uint32_t i = n_ / 2; i-- > 0;)
			sift_down(i, a_[i]);
	}

	/* Empty the heap into out[0..size()) in ascending distance order; returns the count. */
	uint32_t
	drain_sorted(Candidate *out) noexcept
	{
		uint32_t count = n_;
		for (uint32_t k = 0; k < count; k++) {
			out[MaxTop ? count - 1 - k : k] = a_[0];
			pop();
		}
		return count;
	}

private:
	/* Should a sit closer to the top than b? */
	static bool
	above(const Candidate &a, const Candidate &b) noexcept
	{
		return MaxTop ? nearer(b, a) : nearer(a, b);
	}

	/* Place c at hole i and move it down to its position. */
	void
	sift_down(uint32_t i, Candidate c) noexcept
	{
		for (;;) {
			uint32_t child = 2 * i + 1;
			if (child >= n_)
				break;
			if (child + 1 < n_ && above(a_[child + 1], a_[child]))
				child++;
			if (!above(a_[child], c))
				break;
			a_[i] = a_[child];
			i = child;
		}
		a_[i] = c;
	}

	Candidate *a_ = nullptr;
	uint32_t n_ = 0;
	uint32_t cap_ = 0;
};

} // namespace detail

/* Farthest on top: the bounded result set of a beam search. */
using MaxHeap = detail::BinaryHeap<true>;
/* Nearest on top: the frontier of candidates to expand. */
using MinHeap = detail::BinaryHeap<false>;

} // namespace vx::core

#endif /* VX_CORE_HEAP_HPP */
