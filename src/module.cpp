/*
 * module.cpp -- module magic and _PG_init.
 */
#include "vx/pg.h"

#include "vx/kernels/kernels.hpp"

extern "C" {
VX_MODULE_MAGIC;
PGDLLEXPORT void _PG_init(void);
}

/* Called once when the backend loads vector.so. */
void
_PG_init(void)
{
	vx::kernels::kernels_init();
}
