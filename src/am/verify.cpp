/*
 * verify.cpp -- the shared plumbing of the verify functions
 * (include/vx/am/verify.h): result set, problem rows, tolerance argument,
 * opening the index.
 *
 * The result is a materialized tuplestore in the per-query context, so the
 * caller may walk the index in a private memory context and delete it
 * before returning; tuplestore_putvalues copies each row into the store.
 */
#include "vx/pg.h"

#include "vx/am/verify.h"

#include <cstring>

/* Check the call accepts a materialized set and set up the (problem text) result. */
void
VxVerifyBegin(FunctionCallInfo fcinfo, VxVerifyOutput *out)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext old;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) || !(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						errmsg("set-valued function called in context that cannot accept a set")));

	/* the result lives in the per-query context; the caller's walk may use its own */
	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	out->desc = CreateTemplateTupleDesc(1);
	TupleDescInitEntry(out->desc, (AttrNumber) 1, "problem", TEXTOID, -1, 0);
	out->desc = BlessTupleDesc(out->desc);
	out->store = tuplestore_begin_heap(true, false, work_mem);
	out->nproblems = 0;
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = out->store;
	rsinfo->setDesc = out->desc;
	MemoryContextSwitchTo(old);
}

/* Add one problem row (or only count it once VX_VERIFY_MAX_ROWS were returned). */
void
VxVerifyReport(VxVerifyOutput *out, const char *fmt, ...)
{
	StringInfoData buf;
	Datum value;
	bool isnull = false;

	out->nproblems++;
	if (out->nproblems > VX_VERIFY_MAX_ROWS)
		return;
	initStringInfo(&buf);
	for (;;) {
		va_list args;
		int needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&buf, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	value = CStringGetTextDatum(buf.data);
	tuplestore_putvalues(out->store, out->desc, &value, &isnull);
	pfree(buf.data);
}

/* Add the "... and N more problems" row if rows were left out. */
void
VxVerifyEnd(VxVerifyOutput *out)
{
	if (out->nproblems > VX_VERIFY_MAX_ROWS) {
		uint64 more = out->nproblems - VX_VERIFY_MAX_ROWS;

		out->nproblems = 0; /* so that this row is stored */
		VxVerifyReport(out, "... and %lu more problems", (unsigned long) more);
	}
}

/* The tolerance argument, checked. */
double
VxVerifyTolerance(double tolerance)
{
	if (!(tolerance >= 0 && tolerance <= 1))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("tolerance must be between 0 and 1")));
	return tolerance;
}

/*
 * "a" or "an" before an AM name in a message. AM names are read letter by
 * letter when they are initialisms (hnsw: "an aitch..."), as words
 * otherwise (diskann): "an" before a vowel or an h.
 */
static const char *
VxArticle(const char *am_name)
{
	return strchr("aeiouh", am_name[0]) != NULL ? "an" : "a";
}

/* Open the index (and lock its table first, as amcheck does); error unless it is one of the AM's. */
Relation
VxVerifyOpen(Oid indexoid, const char *am_name, ambuild_function ambuild, Relation *heap)
{
	Oid heapoid = IndexGetRelation(indexoid, true);
	Relation index;

	/* the table first, then the index: the order every other lock taker uses */
	*heap = OidIsValid(heapoid) ? table_open(heapoid, AccessShareLock) : NULL;
	index = relation_open(indexoid, AccessShareLock);
	if (index->rd_rel->relkind != RELKIND_INDEX || index->rd_indam == NULL || index->rd_indam->ambuild != ambuild)
		ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
						errmsg("\"%s\" is not %s %s index", RelationGetRelationName(index), VxArticle(am_name),
							   am_name)));
	if (*heap == NULL || heapoid != IndexGetRelation(indexoid, false))
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
						errmsg("could not open parent table of index \"%s\"", RelationGetRelationName(index))));
#if PG_VERSION_NUM >= 160000
	if (!object_ownercheck(RelationRelationId, indexoid, GetUserId()))
#else
	if (!pg_class_ownercheck(indexoid, GetUserId()))
#endif
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_INDEX, RelationGetRelationName(index));
	if (RELATION_IS_OTHER_TEMP(index))
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						errmsg("cannot access temporary tables of other sessions")));
	if (!RelationNeedsWAL(index) && index->rd_rel->relpersistence == RELPERSISTENCE_UNLOGGED && RecoveryInProgress())
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						errmsg("cannot verify unlogged index \"%s\" during recovery", RelationGetRelationName(index))));
	if (!index->rd_index->indisvalid)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						errmsg("cannot verify index \"%s\"", RelationGetRelationName(index)),
						errdetail("Index is not valid.")));
	return index;
}

/* Close what VxVerifyOpen opened (locks released as the relations close). */
void
VxVerifyClose(Relation index, Relation heap)
{
	relation_close(index, AccessShareLock);
	table_close(heap, AccessShareLock);
}
