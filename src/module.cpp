/*
 * module.cpp -- module magic, _PG_init and the extension's settings.
 *
 * _PG_init selects the distance kernels for this CPU once per backend and
 * defines the settings (the hnsw.* and diskann.* settings and reloptions in HnswInit and DiskannInit). vector.simd_level is a debug setting: it forces a
 * lower kernel level (to compare levels or rule a SIMD kernel out), and SHOW
 * reports the level in use. A level the CPU or build lacks is lowered to the
 * best available one by the check hook, so the setting always names the
 * level that is active.
 */
#include "vx/pg.h"

#include "vx/diskann/diskann.h"
#include "vx/hnsw/hnsw.h"
#include "vx/ivfflat/ivfflat.h"
#include "vx/kernels/kernels.hpp"

extern "C" {
VX_MODULE_MAGIC;
PGDLLEXPORT void _PG_init(void);
}

/* Names of vx::kernels::Level values, in enum order. */
static const struct config_enum_entry simd_level_options[] = {
	{"scalar", static_cast<int>(vx::kernels::Level::Scalar), false},
	{"baseline", static_cast<int>(vx::kernels::Level::Baseline), false},
	{"avx2", static_cast<int>(vx::kernels::Level::AVX2), false},
	{"avx512", static_cast<int>(vx::kernels::Level::AVX512), false},
	{NULL, 0, false},
};

static int simd_level_setting;

/* Lower a requested level to the best one this CPU and build support. */
static bool
check_simd_level(int *newval, void **extra, GucSource source)
{
	*newval = static_cast<int>(vx::kernels::available_level(static_cast<vx::kernels::Level>(*newval)));
	return true;
}

/* Switch this backend's kernels to the (already lowered) level. */
static void
assign_simd_level(int newval, void *extra)
{
	vx::kernels::kernels_init(static_cast<vx::kernels::Level>(newval));
}

/* Called once when the backend loads vector.so. */
void
_PG_init(void)
{
	int best = static_cast<int>(vx::kernels::kernels_init());

	DefineCustomEnumVariable("vector.simd_level", "Sets the SIMD level of the distance kernels (for debugging).",
							 "Defaults to the best level this CPU supports; a higher level is lowered to it.",
							 &simd_level_setting, best, simd_level_options, PGC_USERSET, GUC_NOT_IN_SAMPLE,
							 check_simd_level, assign_simd_level, NULL);

	HnswInit();
	DiskannInit();
	IvfflatInit();

#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("vector");
#else
	EmitWarningsOnPlaceholders("vector");
#endif
}
