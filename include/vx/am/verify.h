/*
 * verify.h -- the plumbing every amcheck-style verify function of the index
 * access methods needs (vx_hnsw_verify, the diskann one): a SQL function
 * RETURNS TABLE (problem text) with one row per problem found, none for a
 * healthy index.
 *
 * Why: the walk over pages is the AM's own, but the rest is the same for
 * every AM and must behave the same: materialized result set, at most
 * VX_VERIFY_MAX_ROWS rows then one "... and N more problems" row, the
 * tolerance argument, and opening the index as amcheck does (table locked
 * first, owner only, no other session's temp index, no unlogged index
 * during recovery, only valid indexes).
 *
 * Usage, inside the VX_FUNCTION:
 *
 *   VxVerifyOutput out;
 *   Relation heap;
 *   VxVerifyBegin(fcinfo, &out);                      (before any other work)
 *   tolerance = VxVerifyTolerance(PG_GETARG_FLOAT8(1));
 *   index = VxVerifyOpen(indexoid, "hnsw", hnswbuild, &heap);
 *   ... VxVerifyReport(&out, "block %u: ...", blkno); ...
 *   VxVerifyEnd(&out);
 *   VxVerifyClose(index, heap);
 *   return (Datum) 0;
 */
#ifndef VX_AM_VERIFY_H
#define VX_AM_VERIFY_H

#include "vx/pg.h"

/* Problems returned as rows before the rest are only counted. */
#define VX_VERIFY_MAX_ROWS 1000

/* The result set of a verify function. */
typedef struct VxVerifyOutput
{
	Tuplestorestate *store; /* in the per-query context */
	TupleDesc desc;			/* (problem text) */
	uint64 nproblems;		/* reported so far, rows or not */
} VxVerifyOutput;

/* Check the call accepts a materialized set and set up the (problem text) result; ERROR otherwise. */
void VxVerifyBegin(FunctionCallInfo fcinfo, VxVerifyOutput *out);

/* Add one problem row (only counted once VX_VERIFY_MAX_ROWS rows were returned). */
void VxVerifyReport(VxVerifyOutput *out, const char *fmt, ...) pg_attribute_printf(2, 3);

/* Add the "... and N more problems" row if rows were left out. */
void VxVerifyEnd(VxVerifyOutput *out);

/* The tolerance argument, checked ("tolerance must be between 0 and 1"). */
double VxVerifyTolerance(double tolerance);

/*
 * Open index and its table with AccessShareLock (table first); ERROR unless
 * it is an index of the AM whose ambuild is ambuild ("\"x\" is not an hnsw
 * index", with am_name) and the user may verify it now.
 */
Relation VxVerifyOpen(Oid indexoid, const char *am_name, ambuild_function ambuild, Relation *heap);

/* Close what VxVerifyOpen opened. */
void VxVerifyClose(Relation index, Relation heap);

#endif /* VX_AM_VERIFY_H */
