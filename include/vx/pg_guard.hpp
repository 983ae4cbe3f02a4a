/*
 * pg_guard.hpp -- the boundary between C++ exceptions and PostgreSQL errors.
 *
 * pg_guard(fn, args...) runs core (C++) code that may throw. Any exception is
 * caught, its message copied into palloc'd memory, and only after the catch
 * block has fully exited (so every C++ destructor has run) is it re-raised as
 * ereport(ERROR). Never ereport inside a catch: the longjmp would skip the
 * exception object's destructor and leave the C++ runtime's state behind.
 *
 * Expected user errors (bad dimensions, bad options) are checked in the PG zone
 * before core code is called, so a caught exception is an internal error or an
 * out-of-memory condition.
 */
#ifndef VX_PG_GUARD_HPP
#define VX_PG_GUARD_HPP

#include "vx/pg.h"

#include <exception>
#include <new>
#include <type_traits>
#include <utility>

namespace vx {

namespace detail {

/* Raised after the catch has exited; kept out of line so callers stay small. */
[[noreturn]] inline void
raise_cpp_error(int sqlstate, const char *message)
{
	ereport(ERROR, (errcode(sqlstate), errmsg("%s", message)));
	pg_unreachable();
}

} // namespace detail

/* Run fn(args...) and turn any escaping C++ exception into ereport(ERROR). */
template <typename Fn, typename... Args>
auto
pg_guard(Fn &&fn, Args &&...args) -> decltype(fn(std::forward<Args>(args)...))
{
	using Result = decltype(fn(std::forward<Args>(args)...));
	const char *message = nullptr;
	int sqlstate = ERRCODE_INTERNAL_ERROR;
	try {
		if constexpr (std::is_void_v<Result>) {
			fn(std::forward<Args>(args)...);
			return;
		} else {
			return fn(std::forward<Args>(args)...);
		}
	} catch (const std::bad_alloc &) {
		sqlstate = ERRCODE_OUT_OF_MEMORY;
		message = "out of memory";
	} catch (const std::exception &e) {
		/* pstrdup may itself fail; a failing palloc longjmps from inside the catch,
		 * which is exactly what we avoid, so copy into a static buffer instead. */
		static char buffer[512];
		strlcpy(buffer, e.what(), sizeof(buffer));
		message = buffer;
	} catch (...) {
		message = "unknown C++ exception";
	}
	detail::raise_cpp_error(sqlstate, message);
}

} // namespace vx

#endif /* VX_PG_GUARD_HPP */
