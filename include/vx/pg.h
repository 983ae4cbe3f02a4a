/*
 * pg.h -- the one place that includes PostgreSQL headers.
 *
 * Every PG-zone translation unit includes this file first and nothing else
 * from PostgreSQL directly. PG headers are C: they are wrapped in extern "C",
 * and the macros from port.h that collide with the C++ standard library are
 * removed afterwards. PG_VERSION_NUM shims live at the bottom.
 */
#ifndef VX_PG_H
#define VX_PG_H

/* PG headers are not warning-clean under C++ -Wextra; silence them only here. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wregister"
#pragma GCC diagnostic ignored "-Wdeprecated-enum-enum-conversion"
extern "C" {
#include "postgres.h"

#include "access/amapi.h"
#include "access/amvalidate.h"
#include "access/parallel.h"
#include "access/generic_xlog.h"
#include "access/relation.h"
#include "access/relscan.h"
#include "access/reloptions.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "executor/instrument.h"
#include "optimizer/optimizer.h"
#include "optimizer/plancat.h"
#include "pgstat.h"
#include "storage/buf_internals.h"
#include "storage/bufmgr.h"
#include "storage/condition_variable.h"
#include "storage/indexfsm.h"
#include "storage/lmgr.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/selfuncs.h"
#include "utils/snapmgr.h"
#include "utils/spccache.h"
#include "utils/syscache.h"
#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#if PG_VERSION_NUM >= 150000
#include "common/pg_prng.h"
#endif
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "port.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/varbit.h"
}
#pragma GCC diagnostic pop

/* port.h redefines these to pg_* wrappers; C++ headers want the real ones. */
#undef printf
#undef fprintf
#undef sprintf
#undef snprintf
#undef vsnprintf
#undef vfprintf
#undef strerror
#undef qsort
#undef bsearch

#if PG_VERSION_NUM < 130000
#error "vector requires PostgreSQL 13 or later"
#endif

/* palloc_object/palloc_array appeared in PG 16. */
#ifndef palloc_object
#define palloc_object(type) ((type *) palloc(sizeof(type)))
#define palloc_array(type, count) ((type *) palloc(sizeof(type) * (count)))
#define palloc0_object(type) ((type *) palloc0(sizeof(type)))
#define palloc0_array(type, count) ((type *) palloc0(sizeof(type) * (count)))
#endif

/* PG_MODULE_MAGIC_EXT is PG 18+; older servers take the plain form. */
#ifndef PG_MODULE_MAGIC_EXT
#define VX_MODULE_MAGIC PG_MODULE_MAGIC
#else
#define VX_MODULE_MAGIC PG_MODULE_MAGIC_EXT(.name = "vector", .version = "0.8.6")
#endif

/*
 * Declare an SQL-callable function with C linkage. PG_FUNCTION_INFO_V1 emits
 * the info function with extern "C" already (via PGDLLEXPORT + extern), but the
 * function itself must be declared extern "C" so the symbol name is unmangled.
 */
#define VX_FUNCTION(name)                                                                                              \
	extern "C" {                                                                                                       \
	PGDLLEXPORT Datum name(PG_FUNCTION_ARGS);                                                                          \
	PG_FUNCTION_INFO_V1(name);                                                                                         \
	}                                                                                                                  \
	Datum name(PG_FUNCTION_ARGS)

#endif /* VX_PG_H */
