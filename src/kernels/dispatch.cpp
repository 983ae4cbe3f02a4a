/*
 * dispatch.cpp -- choose the kernel table once, at load time.
 *
 * detect_level() asks the CPU (cpuid) and the OS (xgetbv: are the YMM/ZMM
 * register states saved on context switch?) once and caches the answer. A
 * level is offered only if the CPU has every feature its translation unit was
 * compiled for, including the ones the -m flags imply (GCC's -mavx2 implies
 * SSE3..SSE4.2, POPCNT and XSAVE too), so no kernel can meet an unknown
 * instruction.
 *
 * The active table is a plain pointer written by kernels_init() (from
 * _PG_init, or when the debug setting vector.simd_level changes) and read by
 * every caller. Backends are single-threaded; standalone multi-threaded users
 * (unit tests, benchmarks) must call kernels_init() before starting threads.
 * This file is built without -m flags.
 */
#include "vx/kernels/kernels.hpp"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "vx/cpp_only.hpp"

namespace vx::kernels {

extern const KernelTable kScalarTable;
#if defined(__x86_64__) || defined(__aarch64__)
extern const KernelTable kBaselineTable;
#endif
#if defined(__x86_64__)
extern const KernelTable kAvx2Table;
extern const KernelTable kAvx512Table;
#endif

namespace {

const KernelTable *g_active = &kScalarTable;

#if defined(__x86_64__)

/* The CPU features behind the x86 levels. */
struct X86Features
{
	bool avx2;	 /* everything avx2.cpp is compiled for, and OS support for YMM state */
	bool avx512; /* everything avx512.cpp is compiled for, and OS support for ZMM state */
};

/* Read extended control register 0 (which register states the OS saves). */
uint64_t
read_xcr0() noexcept
{
	uint32_t eax, edx;
	__asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
	return (static_cast<uint64_t>(edx) << 32) | eax;
}

/* Query cpuid and xgetbv for the features the x86 levels need. */
X86Features
probe_x86() noexcept
{
	X86Features f{false, false};
	unsigned eax, ebx, ecx, edx;
	if (__get_cpuid_max(0, nullptr) < 7 || !__get_cpuid(1, &eax, &ebx, &ecx, &edx))
		return f;
	const bool sse3 = ecx & bit_SSE3, ssse3 = ecx & bit_SSSE3, fma = ecx & bit_FMA, sse41 = ecx & bit_SSE4_1,
			   sse42 = ecx & bit_SSE4_2, popcnt = ecx & bit_POPCNT, xsave = ecx & bit_XSAVE,
			   osxsave = ecx & bit_OSXSAVE, avx = ecx & bit_AVX, f16c = ecx & bit_F16C;
	if (!osxsave || !xsave)
		return f; /* xgetbv unavailable: the OS does not enable any AVX state */
	const uint64_t xcr0 = read_xcr0();
	const bool os_ymm = (xcr0 & 0x06) == 0x06; /* SSE and AVX state */
	const bool os_zmm = (xcr0 & 0xe6) == 0xe6; /* plus opmask, ZMM0-15 upper halves, ZMM16-31 */

	__cpuid_count(7, 0, eax, ebx, ecx, edx);
	const bool avx2 = ebx & bit_AVX2, avx512f = ebx & bit_AVX512F, avx512dq = ebx & bit_AVX512DQ,
			   avx512bw = ebx & bit_AVX512BW, avx512vl = ebx & bit_AVX512VL;

	f.avx2 = sse3 && ssse3 && sse41 && sse42 && popcnt && avx && avx2 && fma && f16c && os_ymm;
	f.avx512 = f.avx2 && avx512f && avx512dq && avx512bw && avx512vl && os_zmm;
	return f;
}

#endif

/* Probe the CPU; called once. */
Level
probe_level() noexcept
{
#if defined(__x86_64__)
	X86Features f = probe_x86();
	if (f.avx512)
		return Level::AVX512;
	if (f.avx2)
		return Level::AVX2;
	return Level::Baseline; /* SSE2 is part of x86-64 */
#elif defined(__aarch64__)
	return Level::Baseline; /* AdvSIMD is part of ARMv8-A */
#else
	return Level::Scalar;
#endif
}

} // namespace

Level
detect_level() noexcept
{
	static const Level detected = probe_level();
	return detected;
}

const KernelTable *
table_for(Level level) noexcept
{
	if (level > detect_level())
		return nullptr;
	switch (level) {
		case Level::Scalar:
			return &kScalarTable;
#if defined(__x86_64__) || defined(__aarch64__)
		case Level::Baseline:
			return &kBaselineTable;
#endif
#if defined(__x86_64__)
		case Level::AVX2:
			return &kAvx2Table;
		case Level::AVX512:
			return &kAvx512Table;
#endif
		default:
			return nullptr;
	}
}

Level
available_level(Level requested) noexcept
{
	Level level = requested < detect_level() ? requested : detect_level();
	while (level > Level::Scalar && table_for(level) == nullptr)
		level = static_cast<Level>(static_cast<int>(level) - 1);
	return level;
}

Level
kernels_init(Level requested) noexcept
{
	Level level = available_level(requested);
	g_active = table_for(level);
	return level;
}

const KernelTable &
active() noexcept
{
	return *g_active;
}

} // namespace vx::kernels
