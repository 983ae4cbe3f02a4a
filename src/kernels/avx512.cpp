/*
 * avx512.cpp -- kernels for x86-64 CPUs with AVX-512 F/BW/DQ/VL (plus the
 * AVX2, FMA and F16C every such CPU has).
 *
 * The Makefile (and CMakeLists.txt, which reads the same line) compiles this
 * file alone with those -m flags; dispatch.cpp selects it only after checking
 * every feature they imply, and that the OS saves the AVX-512 state. Popcounts
 * use vpshufb nibble lookups (AVX512BW), not VPOPCNTDQ, which is not checked.
 * Only explicit instantiations live here; the bodies are in impl.hpp. Off
 * x86-64 this file compiles to nothing.
 */
#if defined(__x86_64__)

#include "vx/kernels/impl.hpp"

#include "vx/cpp_only.hpp"

#if !XSIMD_WITH_AVX512BW || !defined(__AVX512VL__) || !XSIMD_WITH_FMA3_AVX2
#error "avx512.cpp must be compiled with -mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma -mf16c"
#endif

namespace vx::kernels {

template struct impl::Kernels<impl::Avx512Arch>;

extern const KernelTable kAvx512Table;
constinit const KernelTable kAvx512Table = impl::Kernels<impl::Avx512Arch>::table(Level::AVX512, "avx512");

} // namespace vx::kernels

#endif
