/*
 * status.hpp -- result codes of Core-zone operations that can fail.
 *
 * Core code never throws for expected conditions and never calls PG; it
 * returns a Status and the PG zone turns it into ereport (or, for
 * Interrupted, into CHECK_FOR_INTERRUPTS outside any C++ frame).
 */
#ifndef VX_CORE_STATUS_HPP
#define VX_CORE_STATUS_HPP

namespace vx::core {

enum class Status : int {
	Ok = 0,
	Interrupted,	 /* the caller's interrupt flag was set; retry after handling it */
	OutOfMemory,	 /* a caller-provided arena or buffer is full */
	InvalidArgument, /* parameters out of range, or an arena that is not ours */
};

/* Short lower-case name of a status, for messages. */
constexpr const char *
status_name(Status s) noexcept
{
	switch (s) {
	case Status::Ok:
		return "ok";
	case Status::Interrupted:
		return "interrupted";
	case Status::OutOfMemory:
		return "out of memory";
	case Status::InvalidArgument:
		return "invalid argument";
	}
	return "unknown";
}

} // namespace vx::core

#endif /* VX_CORE_STATUS_HPP */
