/*
 * parallel.cpp -- the leader's query text in a parallel build's segment
 * (include/vx/am/parallel.h).
 */
#include "vx/pg.h"

#include "vx/am/parallel.h"

void
VxParallelEstimateQueryText(ParallelContext *pcxt)
{
	if (debug_query_string == NULL)
		return;
	shm_toc_estimate_chunk(&pcxt->estimator, strlen(debug_query_string) + 1);
	shm_toc_estimate_keys(&pcxt->estimator, 1);
}

void
VxParallelStoreQueryText(ParallelContext *pcxt, uint64 key)
{
	Size len;
	char *query;

	if (debug_query_string == NULL)
		return;
	len = strlen(debug_query_string) + 1;
	query = (char *) shm_toc_allocate(pcxt->toc, len);
	memcpy(query, debug_query_string, len);
	shm_toc_insert(pcxt->toc, key, query);
}

void
VxParallelWorkerQueryText(shm_toc *toc, uint64 key)
{
	debug_query_string = (const char *) shm_toc_lookup(toc, key, true);
	pgstat_report_activity(STATE_RUNNING, debug_query_string);
}
