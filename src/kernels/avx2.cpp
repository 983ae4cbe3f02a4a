/*
 * avx2.cpp -- kernels for x86-64 CPUs with AVX2, FMA and F16C.
 *
 * The Makefile (and CMakeLists.txt, which reads the same line) compiles this
 * file alone with -mavx2 -mfma -mf16c; dispatch.cpp selects it only after
 * checking every feature those flags imply (see cpu_has_avx2 there). Only
 * explicit instantiations live here; the bodies are in impl.hpp. Off x86-64
 * this file compiles to nothing.
 */
#if defined(__x86_64__)

#include "vx/kernels/impl.hpp"

#include "vx/cpp_only.hpp"

#if !XSIMD_WITH_FMA3_AVX2
#error "avx2.cpp must be compiled with -mavx2 -mfma -mf16c"
#endif

namespace vx::kernels {

template struct impl::Kernels<impl::Avx2Arch>;

extern const KernelTable kAvx2Table;
constinit const KernelTable kAvx2Table = impl::Kernels<impl::Avx2Arch>::table(Level::AVX2, "avx2");

} // namespace vx::kernels

#endif
