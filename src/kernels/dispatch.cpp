/*
 * dispatch.cpp -- choose the kernel table once, at load time.
 *
 * The active table is a plain pointer written by kernels_init() (from
 * _PG_init, or when the debug setting vector.simd_level changes) and read by
 * every caller. Backends are single-threaded, so no synchronisation is needed.
 */
#include "vx/kernels/kernels.hpp"

#include "vx/cpp_only.hpp"

namespace vx::kernels {

extern const KernelTable kScalarTable;

namespace {
const KernelTable *g_active = &kScalarTable;
} // namespace

Level
detect_level() noexcept
{
	return Level::Scalar;
}

const KernelTable *
table_for(Level level) noexcept
{
	if (level == Level::Scalar)
		return &kScalarTable;
	return nullptr;
}

Level
kernels_init(Level requested) noexcept
{
	Level level = requested < detect_level() ? requested : detect_level();
	while (table_for(level) == nullptr)
		level = static_cast<Level>(static_cast<int>(level) - 1);
	g_active = table_for(level);
	return level;
}

const KernelTable &
active() noexcept
{
	return *g_active;
}

} // namespace vx::kernels
