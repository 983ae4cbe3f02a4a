/*
 * build_parallel.cpp -- parallel diskann builds: PostgreSQL parallel workers
 * link one Vamana graph in dynamic shared memory.
 *
 * The graph phase is nearly all of a build's time (the heap scan and the
 * page writes are a few percent), so only it runs in parallel. When
 * plan_create_index_workers() grants workers, the leader creates a parallel
 * context before its heap scan, whose segment holds:
 *   - DiskannBuildShared: the geometry, the build's parameters and the
 *     core's VamanaShared step counters;
 *   - the rows' vectors (the leader loads them straight there, so they are
 *     not copied), the quantizer's center and the rows' codes (the searches
 *     estimate with them), the neighbour lists with the build's slack, their
 *     counts and one lock byte per row.
 * The segment is sized for the rows maintenance_work_mem allows and the
 * table is estimated to hold (with a margin; rows beyond it are inserted on
 * pages, as when memory runs out). Once the rows are loaded, the center and
 * the medoid chosen, the leader launches the workers, and every participant
 * encodes chunks of rows claimed from a shared counter, waits until every
 * chunk is encoded, then runs vx::core::vamana_build_shared with its own
 * scratch: steps are handed out one at a time, lists are read and written
 * under their node's lock.
 * The leader then waits for the workers and writes the pages from the
 * segment as a serial build does. Workers touch no relation and no buffer:
 * they only need the segment. Errors in workers reach the leader through the
 * parallel infrastructure (its interrupt check between steps).
 */
#include "vx/pg.h"

#include "vx/am/parallel.h"
#include "vx/diskann/build.h"

/* Keys of the parallel context's table of contents */
#define DISKANN_KEY_SHARED UINT64CONST(0x5658444100000001)
#define DISKANN_KEY_QUERY_TEXT UINT64CONST(0x5658444100000002)

/* The segment's header; the arrays follow at the offsets given. */
typedef struct DiskannBuildShared
{
	/* geometry, set at creation */
	uint32 max_rows;
	uint32 dims;   /* floats per vector */
	uint32 stride; /* ids per neighbour list */
	uint32 code_bytes;
	Size vectors_offset;
	Size center_offset;
	Size codes_offset;
	Size factors_offset;
	Size ids_offset;
	Size counts_offset;
	Size locks_offset;

	/* the build, set by the leader before it launches the workers */
	uint32 nrows;
	uint32 medoid;
	uint32 R;
	uint32 L;
	float max_alpha;
	bool two_pass;
	uint32 first_pass_L;
	uint64 seed;
	DiskannMetaPageData meta; /* what the quantizer needs: code_dimensions, bits, seed */
	pg_atomic_uint32 encode_next; /* the next chunk of DISKANN_ENCODE_CHUNK rows to encode */
	pg_atomic_uint32 encode_done; /* chunks encoded */
	vx::core::VamanaShared vamana;
} DiskannBuildShared;

/* Rows a participant encodes at a time. */
#define DISKANN_ENCODE_CHUNK 512

struct DiskannParallelBuild
{
	ParallelContext *pcxt;
	DiskannBuildShared *shared;
};

/* Lay out the segment's arrays after the header (64-byte aligned); returns the total size. */
static Size
DiskannSharedLayout(DiskannBuildShared *shared, uint32 max_rows, uint32 dims, uint32 stride, uint32 code_bytes)
{
	Size offset = TYPEALIGN(64, sizeof(DiskannBuildShared));

	shared->max_rows = max_rows;
	shared->dims = dims;
	shared->stride = stride;
	shared->code_bytes = code_bytes;
	shared->vectors_offset = offset;
	offset = TYPEALIGN(64, add_size(offset, mul_size(mul_size(max_rows, dims), sizeof(float))));
	shared->center_offset = offset;
	offset = TYPEALIGN(64, add_size(offset, mul_size(dims, sizeof(float))));
	shared->codes_offset = offset;
	offset = TYPEALIGN(64, add_size(offset, mul_size(max_rows, code_bytes)));
	shared->factors_offset = offset;
	offset = TYPEALIGN(64, add_size(offset, mul_size(max_rows, sizeof(vx::core::CodeFactors))));
	shared->ids_offset = offset;
	offset = TYPEALIGN(64, add_size(offset, mul_size(mul_size(max_rows, stride), sizeof(uint32))));
	shared->counts_offset = offset;
	offset = TYPEALIGN(64, add_size(offset, mul_size(max_rows, sizeof(uint32))));
	shared->locks_offset = offset;
	return add_size(offset, max_rows);
}

/* The graph over the segment's arrays, as each process maps them. */
static vx::core::VamanaGraph
DiskannSharedGraph(DiskannBuildShared *shared)
{
	vx::core::VamanaGraph graph{};

	graph.ids = (uint32 *) ((char *) shared + shared->ids_offset);
	graph.counts = (uint32 *) ((char *) shared + shared->counts_offset);
	graph.n = shared->nrows;
	graph.R = shared->R;
	graph.cap = shared->stride;
	graph.medoid = shared->medoid;
	return graph;
}

/* One participant's share of the graph: steps until none is left. */
static void
DiskannSharedRun(DiskannBuildShared *shared, bool leader)
{
	vx::core::VamanaGraph graph = DiskannSharedGraph(shared);
	vx::core::VamanaBuildParams params{shared->R,		 shared->L,		   shared->max_alpha,
									   shared->seed,	 shared->two_pass, shared->first_pass_L};
	vx::core::VamanaScratch scratch = DiskannBuildScratch(graph, params);
	vx::core::Quantizer quantizer =
		DiskannQuantizerFor(&shared->meta, (const float *) ((char *) shared + shared->center_offset));
	uint8 *code_space = (uint8 *) ((char *) shared + shared->codes_offset);
	vx::core::CodeFactors *factor_space = (vx::core::CodeFactors *) ((char *) shared + shared->factors_offset);
	DiskannBuildCodes codes{&quantizer, code_space, factor_space};
	const float *vectors = (const float *) ((char *) shared + shared->vectors_offset);
	DiskannBuildPair pair = DiskannMakeBuildPair(vectors, shared->dims, &codes);
	uint32 nchunks = (shared->nrows + DISKANN_ENCODE_CHUNK - 1) / DISKANN_ENCODE_CHUNK;
	uint32 chunk;

	/* the codes first: the graph's searches read them (a failed participant's error reaches the others) */
	while ((chunk = pg_atomic_fetch_add_u32(&shared->encode_next, 1)) < nchunks) {
		uint32 first = chunk * DISKANN_ENCODE_CHUNK;

		DiskannEncodeRows(&quantizer, vectors, first, Min(first + DISKANN_ENCODE_CHUNK, shared->nrows),
						  code_space, factor_space, pair.work);
		pg_atomic_fetch_add_u32(&shared->encode_done, 1);
		CHECK_FOR_INTERRUPTS();
	}
	while (pg_atomic_read_u32(&shared->encode_done) < nchunks) {
		CHECK_FOR_INTERRUPTS();
		pg_usleep(100);
	}
	vx::core::VamanaNodeLocks locks{(uint8_t *) ((char *) shared + shared->locks_offset)};

	DiskannRunBuild([&](const volatile sig_atomic_t *interrupt) {
		return vx::core::vamana_build_shared(graph, params, pair, scratch, shared->vamana, locks, interrupt,
											 [leader](uint64_t done) {
												 if (leader)
													 pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE,
																				  (int64) done);
											 });
	});
}

/*
 * Leader, before the heap scan: a parallel context with room for max_rows
 * rows of dims floats and lists of stride ids, for up to nworkers workers.
 * NULL when no segment could be had: the caller builds serially.
 */
DiskannParallelBuild *
DiskannParallelBegin(int nworkers, uint32 max_rows, uint32 dims, uint32 stride, uint32 code_bytes)
{
	ParallelContext *pcxt;
	DiskannParallelBuild *par;
	DiskannBuildShared layout;
	DiskannBuildShared *shared;
	Size bytes = DiskannSharedLayout(&layout, max_rows, dims, stride, code_bytes);

	EnterParallelMode();
	pcxt = CreateParallelContext("vector", "DiskannParallelBuildMain", nworkers);
	shm_toc_estimate_chunk(&pcxt->estimator, bytes);
	shm_toc_estimate_keys(&pcxt->estimator, 1);
	VxParallelEstimateQueryText(pcxt);
	InitializeParallelDSM(pcxt);
	if (pcxt->seg == NULL) {
		DestroyParallelContext(pcxt);
		ExitParallelMode();
		return NULL;
	}

	shared = (DiskannBuildShared *) shm_toc_allocate(pcxt->toc, bytes);
	memcpy(shared, &layout, sizeof(layout));
	shm_toc_insert(pcxt->toc, DISKANN_KEY_SHARED, shared);
	VxParallelStoreQueryText(pcxt, DISKANN_KEY_QUERY_TEXT);

	par = (DiskannParallelBuild *) palloc0(sizeof(DiskannParallelBuild));
	par->pcxt = pcxt;
	par->shared = shared;
	return par;
}

/* Where the leader loads the rows' vectors (room for the segment's rows). */
float *
DiskannParallelVectors(DiskannParallelBuild *par)
{
	return (float *) ((char *) par->shared + par->shared->vectors_offset);
}

/* Where the leader puts the quantizer's center and the rows' codes (room for the segment's rows). */
void
DiskannParallelCodeSpace(DiskannParallelBuild *par, float **center, uint8 **codes, vx::core::CodeFactors **factors)
{
	char *base = (char *) par->shared;

	*center = (float *) (base + par->shared->center_offset);
	*codes = (uint8 *) (base + par->shared->codes_offset);
	*factors = (vx::core::CodeFactors *) (base + par->shared->factors_offset);
}

/*
 * Leader: link graph->n loaded and encoded rows with the workers (graph's
 * medoid, R and cap set; its arrays are pointed at the segment's; meta says
 * how the rows were encoded) and wait for them.
 */
void
DiskannParallelGraph(DiskannParallelBuild *par, vx::core::VamanaGraph *graph,
					 const vx::core::VamanaBuildParams *params, const DiskannMetaPageData *meta)
{
	DiskannBuildShared *shared = par->shared;

	Assert(graph->n <= shared->max_rows && graph->stride() == shared->stride);
	shared->nrows = graph->n;
	shared->medoid = graph->medoid;
	shared->R = graph->R;
	shared->L = params->L;
	shared->max_alpha = params->max_alpha;
	shared->two_pass = params->two_pass;
	shared->first_pass_L = params->first_pass_L;
	shared->seed = params->seed;
	shared->meta = *meta;
	Assert(meta->code_bytes == shared->code_bytes);
	pg_atomic_init_u32(&shared->encode_next, 0);
	pg_atomic_init_u32(&shared->encode_done, 0);
	MemSet(&shared->vamana, 0, sizeof(shared->vamana));
	MemSet((char *) shared + shared->counts_offset, 0, sizeof(uint32) * (Size) graph->n);
	MemSet((char *) shared + shared->locks_offset, 0, graph->n);
	*graph = DiskannSharedGraph(shared);

	if (graph->n > 0) {
		LaunchParallelWorkers(par->pcxt);
		ereport(DEBUG1, (errmsg_internal("using %d parallel workers", par->pcxt->nworkers_launched)));
		DiskannSharedRun(shared, true);
		WaitForParallelWorkersToFinish(par->pcxt);
	}
}

/* Leader: end the parallel context (the segment and the vectors in it go away). */
void
DiskannParallelEnd(DiskannParallelBuild *par)
{
	DestroyParallelContext(par->pcxt);
	ExitParallelMode();
	pfree(par);
}

/* Entry point of a parallel build worker (found by name in the "vector" library). */
void
DiskannParallelBuildMain(dsm_segment *seg, shm_toc *toc)
{
	VxParallelWorkerQueryText(toc, DISKANN_KEY_QUERY_TEXT);
	DiskannSharedRun((DiskannBuildShared *) shm_toc_lookup(toc, DISKANN_KEY_SHARED, false), false);
}
