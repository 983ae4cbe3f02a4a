/*
 * baseline.cpp -- kernels for what every CPU of the architecture has:
 * SSE2 on x86-64, AdvSIMD (NEON) on aarch64.
 *
 * Built with the default flags of the build (no -m flags); only explicit
 * instantiations live here (the bodies are in impl.hpp). On other
 * architectures this file compiles to nothing and the dispatcher offers
 * only the scalar level.
 */
#if defined(__x86_64__) || defined(__aarch64__)

#include "vx/kernels/impl.hpp"

#include "vx/cpp_only.hpp"

namespace vx::kernels {

template struct impl::Kernels<impl::BaselineArch>;

#if defined(__x86_64__)
#define VX_BASELINE_NAME "sse2"
#else
#define VX_BASELINE_NAME "neon"
#endif

extern const KernelTable kBaselineTable;
constinit const KernelTable kBaselineTable =
	impl::Kernels<impl::BaselineArch>::table(Level::Baseline, VX_BASELINE_NAME);

} // namespace vx::kernels

#endif
