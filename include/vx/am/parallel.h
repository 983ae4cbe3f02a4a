/*
 * parallel.h -- what the parallel builds of the index access methods (hnsw,
 * diskann, ivfflat) share around PostgreSQL's parallel contexts.
 *
 * Why: a worker shows the leader's statement in pg_stat_activity and in
 * error contexts only if the leader ships debug_query_string through the
 * segment, as btree does; three builds did it the same way.
 */
#ifndef VX_AM_PARALLEL_H
#define VX_AM_PARALLEL_H

#include "vx/pg.h"

/* Count the query text in pcxt's estimate (before InitializeParallelDSM). */
void VxParallelEstimateQueryText(ParallelContext *pcxt);

/* Copy the query text into pcxt's segment under key (after InitializeParallelDSM). */
void VxParallelStoreQueryText(ParallelContext *pcxt, uint64 key);

/* Worker: take the leader's query text from toc and report it as this process's activity. */
void VxParallelWorkerQueryText(shm_toc *toc, uint64 key);

#endif /* VX_AM_PARALLEL_H */
