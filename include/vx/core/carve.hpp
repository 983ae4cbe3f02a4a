/*
 * carve.hpp -- lay several arrays out in one caller buffer (scratch memory of
 * searches and builds), so that the PG zone allocates a scratch with a
 * single palloc and core code never allocates.
 *
 * Every array starts 8-byte aligned (the buffer itself must be). A take()
 * that does not fit makes the carver fail for good, so a layout is checked
 * once, at the end, with ok(). A measuring carver (measure()) hands out no
 * memory and only adds up used(): one layout function then serves both
 * bytes_needed() and carve(). Trivially destructible.
 */
#ifndef VX_CORE_CARVE_HPP
#define VX_CORE_CARVE_HPP

#include <cstddef>

namespace vx::core {

/* Bump allocator over one caller buffer; every take() is 8-byte aligned. */
class Carver
{
public:
	Carver(void *mem, size_t bytes) noexcept : p_(static_cast<std::byte *>(mem)), left_(bytes) {}

	/* A carver that only counts the bytes of its take()s (which return nullptr). */
	static Carver
	measure() noexcept
	{
		Carver c(nullptr, 0);
		c.measuring_ = true;
		return c;
	}

	/* n objects of T, or nullptr (and every later take fails) when the buffer is too small. */
	template <class T>
	T *
	take(size_t n) noexcept
	{
		size_t bytes = round8(n * sizeof(T));
		used_ += bytes;
		if (measuring_)
			return nullptr;
		if (p_ == nullptr || bytes > left_) {
			p_ = nullptr;
			return nullptr;
		}
		T *out = reinterpret_cast<T *>(p_);
		p_ += bytes;
		left_ -= bytes;
		return out;
	}

	/* Did every take() fit? */
	bool ok() const noexcept { return p_ != nullptr; }

	/* Bytes taken so far (by a measuring carver: the bytes a real one needs). */
	size_t used() const noexcept { return used_; }

	/* Round up to a multiple of 8 bytes. */
	static size_t round8(size_t n) noexcept { return (n + 7) & ~static_cast<size_t>(7); }

private:
	std::byte *p_;
	size_t left_;
	size_t used_ = 0;
	bool measuring_ = false;
};

} // namespace vx::core

#endif /* VX_CORE_CARVE_HPP */
