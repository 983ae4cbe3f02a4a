/*
 * build.h -- internals shared by the files of the hnsw build (PG zone):
 * build.cpp (ambuild, the serial flow, page writing), build_graph.cpp (the
 * in-memory graph) and build_parallel.cpp (parallel workers).
 *
 * The in-memory graph lives in one "build area": a header, the per-extent
 * upper-page room counters and the vx::core graph arena. The area is plain
 * memory for a serial build and part of the parallel context's dynamic
 * shared memory segment for a parallel one; it holds no pointers (each
 * process attaches at its own address), only offsets.
 */
#ifndef VX_HNSW_BUILD_H
#define VX_HNSW_BUILD_H

#include "vx/hnsw/hnsw.h"

/*
 * One process's handle on the build area (build_graph.cpp). Several
 * processes may insert at once when the area was created concurrent.
 */
typedef struct HnswBuildGraphData
{
	void *impl; /* the process's core handles and insert scratch (palloc) */
	const HnswMetaPageData *meta;
	const VxDistanceData *dist;
	HnswMemVectors mem; /* the graph's vectors, for on-page inserts after a flush */
} HnswBuildGraphData;

typedef HnswBuildGraphData *HnswBuildGraph;

/* build_graph.cpp */
Size HnswBuildAreaSize(const HnswMetaPageData *meta, Size budget, int participants, double max_elements);
void HnswBuildAreaCreate(char *area, const HnswMetaPageData *meta, Size budget, int participants, double max_elements);
void HnswBuildGraphAttach(HnswBuildGraph graph, char *area, const HnswMetaPageData *meta, const VxDistanceData *dist,
						  bool concurrent);
bool HnswBuildGraphInsert(HnswBuildGraph graph, int level, const char *datum, ItemPointer tid);
uint32 HnswBuildGraphSize(HnswBuildGraph graph);
ItemPointer HnswBuildGraphTid(HnswBuildGraph graph, HnswId id);
int HnswBuildGraphLevel(HnswBuildGraph graph, HnswId id);
int HnswBuildGraphNeighbors(HnswBuildGraph graph, HnswId id, int level, const uint32 **ids);
const char *HnswBuildGraphVector(HnswBuildGraph graph, HnswId id);
void HnswBuildGraphEntry(HnswBuildGraph graph, HnswId *entry_id, int16 *entry_level);
const HnswMemVectors *HnswBuildGraphMemVectors(HnswBuildGraph graph);

/* Where the build's rows go: the graph in memory, or pages once the graph was flushed. */
typedef enum HnswBuildPhase
{
	HNSW_BUILD_IN_MEMORY,
	HNSW_BUILD_FULL,	/* parallel: the graph is full, the leader is about to flush it */
	HNSW_BUILD_ON_PAGES /* the graph is on pages; rows are inserted there */
} HnswBuildPhase;

typedef struct HnswParallelBuildData *HnswParallelBuild;

/* One participant's build state (the leader's, or a parallel worker's). */
typedef struct HnswBuildState
{
	Relation heap;
	Relation index;
	IndexInfo *index_info;
	ForkNumber fork;

	HnswMetaPageData meta; /* geometry and, after the write, entry point and count */
	VxDistanceData dist;

	double reltuples; /* heap tuples seen (the leader's: all participants') */
	double indtuples; /* values indexed by this participant */

	HnswBuildGraphData graph; /* in-memory graph (build_graph.cpp) */
	HnswBuildPhase phase;	  /* as this participant last saw it */
	HnswInserterData inserter; /* on-page inserts, once the phase is HNSW_BUILD_ON_PAGES */

	HnswParallelBuild parallel; /* NULL for a serial build */
	bool leader;				/* runs ambuild (writes the pages) */

	pg_prng_state prng;
	MemoryContext graph_ctx;
	MemoryContext tmp_ctx;
} HnswBuildState;

/* build.cpp */
void HnswBuildStateInit(HnswBuildState *bs, Relation heap, Relation index, IndexInfo *index_info, ForkNumber fork,
						uint64 seed);
Size HnswBuildBudget(void);
void HnswBuildCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull, bool tupleIsAlive, void *state);
void HnswBuildNoticeFull(HnswBuildState *bs);
void HnswBuildFlush(HnswBuildState *bs);
void HnswBuildStartOnPages(HnswBuildState *bs);
void HnswBuildFinishScan(HnswBuildState *bs);

/* build_parallel.cpp */
bool HnswParallelBegin(HnswBuildState *bs, int nworkers, uint64 seed);
int HnswParallelParticipants(HnswBuildState *bs);
void HnswParallelLeaderScan(HnswBuildState *bs);
bool HnswParallelEnterGraph(HnswBuildState *bs);
void HnswParallelLeaveGraph(HnswBuildState *bs, bool added);
void HnswParallelWaitOnPages(HnswBuildState *bs);
void HnswParallelReportTuple(HnswBuildState *bs);
void HnswParallelEnd(HnswBuildState *bs);

#endif /* VX_HNSW_BUILD_H */
