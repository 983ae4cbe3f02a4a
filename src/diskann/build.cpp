/*
 * build.cpp -- ambuild and ambuildempty for diskann.
 *
 * Phases:
 *   1. load: scan the heap; each non-NULL value is detoasted, normalized for
 *      cosine (zero vectors are not indexed, as with hnsw) and its quantized
 *      part (num_dimensions, or all) kept as float32 in memory with its TID;
 *   2. graph: the quantizer's center is the mean of the loaded vectors, every
 *      row is encoded, the entry point is the medoid (the vector nearest to
 *      the mean), and the graph is vx::core's Vamana (two passes, alpha 1
 *      then max_alpha, robust prune): searches estimate from the codes,
 *      pruning compares exact squared L2 distances;
 *   3. write: metapage, center pages and node pages in block order through
 *      the buffer manager without WAL (with storage_layout plain each node
 *      page is followed by the vector pages holding its nodes' full vectors,
 *      kept in memory since phase 1 as the column stores them: all
 *      dimensions, unnormalized), then the whole
 *      relation is WAL-logged with log_newpage_range when it needs WAL (and
 *      always for an unlogged table's init fork).
 *
 * Memory: the vectors, TIDs and the graph are bounded by
 * maintenance_work_mem. When the next row would not fit, the rows loaded so
 * far go through phases 2 and 3, and the remaining rows are inserted on
 * pages with the aminsert code (without WAL): slower per row, but no cliff
 * and no limit on the table's size.
 *
 * Parallel builds (build_parallel.cpp): when plan_create_index_workers()
 * grants workers, the rows' vectors are loaded into a parallel context's
 * shared memory and the workers and the leader link the graph of phase 2
 * together; phases 1 and 3 are the serial build's.
 *
 * Nothing is visible to other backends until the build commits, so no lock
 * is taken on the new pages beyond the buffer locks of writing them.
 */
#include "vx/pg.h"

#include "vx/diskann/build.h"

#include <algorithm>
#include <functional>
#include <type_traits>

/* Seed of the build's insertion order (reproducible builds). */
#define DISKANN_BUILD_SEED UINT64CONST(0x56584441424c4431)

typedef struct DiskannBuildState
{
	Relation heap;
	Relation index;
	ForkNumber fork;
	union
	{
		DiskannMetaPageData meta;
		char meta_space[DISKANN_PAGE_CAPACITY]; /* the metapage's label table follows meta */
	};
	VxDistanceData dist;

	/* phase 1: rows in memory */
	float *vectors; /* count x code_dimensions */
	char *full;		/* plain: count x vector_bytes, the rows' elements as stored (else NULL) */
	uint32 full_bytes; /* vector_bytes when full is a copy of its own; 0 when vectors already holds them (float4,
						* all dimensions quantized, not normalized) or memory_optimized */
	ItemPointerData *tids;
	bool has_labels;		/* a smallint[] label column */
	DiskannLabels *labels;	/* count rows' labels (has_labels) */
	int max_labels;			/* most labels of one row so far */
	uint32 count;
	uint32 allocated; /* rows the arrays have room for */
	uint32 capacity;  /* rows maintenance_work_mem allows */
	uint32 room;	  /* rows the arrays can ever hold: capacity, or a parallel build's segment rows */
	DiskannParallelBuild *parallel; /* the vectors and the graph are in its shared memory */
	bool on_pages;	  /* the rest goes through on-page inserts */
	DiskannIndexData di;

	double reltuples;
	double indtuples;
	MemoryContext build_ctx;
	MemoryContext tmp_ctx;
} DiskannBuildState;

/* Check the column and the options; messages in the style of hnsw's. */
static void
DiskannCheckBuildable(Relation index, const VxTypeInfo *typeinfo, int num_dimensions)
{
	int dimensions = TupleDescAttr(index->rd_att, 0)->atttypmod;

	if (typeinfo->kind != VX_ELEM_F32 && typeinfo->kind != VX_ELEM_F16)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("type not supported for diskann index"),
				 errhint("diskann indexes vector and halfvec columns.")));
	if (dimensions < 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("column does not have dimensions")));
	if (dimensions > DISKANN_MAX_DIM)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("column cannot have more than %d dimensions for diskann index", DISKANN_MAX_DIM)));
	if (num_dimensions > dimensions)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("num_dimensions (%d) cannot be greater than the column's dimensions (%d)",
							   num_dimensions, dimensions)));
}

/*
 * Bits per dimension when num_bits_per_dimension is 0: pgvectorscale's
 * choice (2 below 900 dimensions, else 1), raised for few dimensions so that
 * a code has at least 512 bits: below that the estimates are too coarse to
 * prune with (vacuum's repair lost links on 4-dimension data at 2 bits), and
 * such codes are small anyway.
 */
static int
DiskannDefaultBits(uint32 code_dimensions)
{
	int bits = code_dimensions < 900 ? 2 : 1;
	int floor_bits = (int) Min((512 + code_dimensions - 1) / code_dimensions, (uint32) DISKANN_MAX_BITS);

	return Max(bits, floor_bits);
}

/* Set up the build state: checks, geometry, distance. */
static void
DiskannBuildInit(DiskannBuildState *bs, Relation heap, Relation index, ForkNumber fork)
{
	const VxTypeInfo *typeinfo = VxGetTypeInfo(index, DISKANN_TYPE_INFO_PROC);
	int num_dimensions = DiskannGetNumDimensions(index);
	int dimensions;
	uint32 code_dimensions;
	int bits = DiskannGetBits(index);
	VxMetric metric;
	Size per_row;

	MemSet(bs, 0, sizeof(*bs));
	bs->heap = heap;
	bs->index = index;
	bs->fork = fork;

	DiskannCheckLabelColumn(index);
	bs->has_labels = IndexRelationGetNumberOfKeyAttributes(index) == 2;
	DiskannCheckBuildable(index, typeinfo, num_dimensions);
	metric = VxGetMetric(index, typeinfo->kind, "diskann");
	if (metric != VX_METRIC_L2 && metric != VX_METRIC_IP && metric != VX_METRIC_COSINE)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						errmsg("diskann index supports only l2, inner product and cosine distance")));

	dimensions = TupleDescAttr(index->rd_att, 0)->atttypmod;
	code_dimensions = num_dimensions > 0 ? (uint32) num_dimensions : (uint32) dimensions;
	if (bits == 0)
		bits = DiskannDefaultBits(code_dimensions);
	DiskannComputeGeometry(&bs->meta, typeinfo->kind, metric, (uint32) dimensions, code_dimensions,
						   DiskannGetNumNeighbors(index), DiskannGetSearchListSize(index), DiskannGetMaxAlpha(index),
						   DiskannGetStorageLayout(index), bits, bs->has_labels ? DISKANN_MIN_NODE_LABELS : 0);
	VxInitDistance(&bs->dist, typeinfo->kind, metric, (uint32) dimensions);

	/* plain: the stored vectors are those of phase 1 unless these are normalized, partial or halfvec */
	if (bs->meta.vector_bytes > 0 &&
		!(typeinfo->kind == VX_ELEM_F32 && metric != VX_METRIC_COSINE && code_dimensions == (uint32) dimensions))
		bs->full_bytes = bs->meta.vector_bytes;

	/* per row in memory: the vector, its code, its stored copy (plain), its TID, its labels, its neighbour list
	 * (with the build's slack) and count, the visited tag */
	per_row = (Size) code_dimensions * sizeof(float) + bs->meta.code_bytes + sizeof(vx::core::CodeFactors) +
			  bs->full_bytes + sizeof(ItemPointerData) +
			  (bs->has_labels ? sizeof(DiskannLabels) : 0) +
			  ((Size) vx::core::vamana_capacity_for(bs->meta.num_neighbors) + 1) * sizeof(uint32) + 2 * sizeof(uint16);
	bs->capacity = (uint32) Min((Size) Max((Size) maintenance_work_mem * 1024, (Size) 1024 * 1024) / per_row,
								(Size) (DISKANN_INVALID_ID - 1));
	bs->room = bs->capacity;

	bs->build_ctx = AllocSetContextCreate(CurrentMemoryContext, "Diskann build context", ALLOCSET_DEFAULT_SIZES);
	bs->tmp_ctx = AllocSetContextCreate(CurrentMemoryContext, "Diskann build temporary context",
										ALLOCSET_DEFAULT_SIZES);
}

/* Make room for one more row in memory (arrays grow by doubling up to the capacity). */
static void
DiskannBuildReserve(DiskannBuildState *bs)
{
	uint32 want;

	if (bs->count < bs->allocated)
		return;
	Assert(bs->parallel == NULL); /* its arrays have all their room from the start */
	want = Min(Max(bs->allocated * 2, 1024U), bs->capacity);
	if (bs->vectors == NULL) {
		bs->vectors =
			(float *) MemoryContextAllocHuge(bs->build_ctx, (Size) want * bs->meta.code_dimensions * sizeof(float));
		bs->tids = (ItemPointerData *) MemoryContextAllocHuge(bs->build_ctx, (Size) want * sizeof(ItemPointerData));
		if (bs->has_labels)
			bs->labels = (DiskannLabels *) MemoryContextAllocHuge(bs->build_ctx, (Size) want * sizeof(DiskannLabels));
		if (bs->full_bytes > 0)
			bs->full = (char *) MemoryContextAllocHuge(bs->build_ctx, (Size) want * bs->full_bytes);
	} else {
		bs->vectors = (float *) repalloc_huge(bs->vectors, (Size) want * bs->meta.code_dimensions * sizeof(float));
		bs->tids = (ItemPointerData *) repalloc_huge(bs->tids, (Size) want * sizeof(ItemPointerData));
		if (bs->has_labels)
			bs->labels = (DiskannLabels *) repalloc_huge(bs->labels, (Size) want * sizeof(DiskannLabels));
		if (bs->full_bytes > 0)
			bs->full = (char *) repalloc_huge(bs->full, (Size) want * bs->full_bytes);
	}
	bs->allocated = want;
}

/* Plain: row i's stored vector (vector_bytes of elements as the column has them). */
static const char *
DiskannBuildStored(const DiskannBuildState *bs, uint32 i)
{
	if (bs->full != NULL)
		return bs->full + (Size) i * bs->full_bytes;
	return (const char *) (bs->vectors + (Size) i * bs->meta.code_dimensions);
}

/* The mean of the rows in memory (the quantizer's center). */
static void
DiskannBuildCenter(DiskannBuildState *bs, float *center)
{
	uint32 dims = bs->meta.code_dimensions;
	double *sum = (double *) palloc0(sizeof(double) * dims);

	for (uint32 i = 0; i < bs->count; i++) {
		const float *v = bs->vectors + (Size) i * dims;

		for (uint32 j = 0; j < dims; j++)
			sum[j] += v[j];
	}
	for (uint32 j = 0; j < dims; j++)
		center[j] = bs->count > 0 ? (float) (sum[j] / bs->count) : 0.0f;
	pfree(sum);
}

/* A participant's scratch for builds of graph with params. */
vx::core::VamanaScratch
DiskannBuildScratch(const vx::core::VamanaGraph &graph, const vx::core::VamanaBuildParams &params)
{
	vx::core::VamanaScratch scratch;
	size_t bytes = vx::core::VamanaScratch::bytes_needed(graph.stride(), params.L, graph.n);

	if (!vx::core::VamanaScratch::carve(MemoryContextAllocHuge(CurrentMemoryContext, bytes), bytes, graph.stride(),
										params.L, graph.n, &scratch))
		elog(ERROR, "could not set up the diskann build scratch");
	return scratch;
}

/* A participant's build distances over the rows in memory and their codes (query scratch palloc'd here). */
DiskannBuildPair
DiskannMakeBuildPair(const float *vectors, uint32 dims, const DiskannBuildCodes *codes)
{
	DiskannBuildPair pair;

	static_cast<DiskannBuildPairL2 &>(pair) = DiskannBuildPairL2{vectors, dims, vx::kernels::active().l2sq_f32};
	pair.quantizer = codes->quantizer;
	pair.codes = codes->codes;
	pair.factors = codes->factors;
	pair.rows = vectors;
	pair.row_floats = dims;
	pair.query = (vx::core::QueryCode *) palloc0(sizeof(vx::core::QueryCode));
	pair.query->planes = (uint8_t *) palloc(codes->quantizer->query_bytes());
	pair.work = (float *) palloc(sizeof(float) * Max(codes->quantizer->work_floats(), (size_t) 1));
	return pair;
}

/*
 * The Vamana graph over the rows in memory and their codes; returns the
 * medoid. Its lists are in *ids and *counts: arrays of the caller's (serial)
 * or of the parallel build's segment.
 */
static uint32
DiskannBuildGraph(DiskannBuildState *bs, const DiskannBuildCodes *codes, uint32 **ids, uint32 **counts)
{
	const vx::kernels::KernelTable &kt = vx::kernels::active();
	uint32 dims = bs->meta.code_dimensions;
	const float *center = codes->quantizer->center;
	vx::core::VamanaGraph graph{};
	vx::core::VamanaBuildParams params{};

	graph.n = bs->count;
	graph.R = bs->meta.num_neighbors;
	graph.cap = vx::core::vamana_capacity_for(graph.R);
	graph.medoid = vx::core::find_medoid(
		bs->count, [&](uint32_t i) { return kt.l2sq_f32(bs->vectors + (Size) i * dims, center, dims); });
	params.R = bs->meta.num_neighbors;
	params.L = Max((uint32) bs->meta.search_list_size, (uint32) bs->meta.num_neighbors);
	params.max_alpha = bs->meta.max_alpha;
	params.seed = DISKANN_BUILD_SEED;
	params.two_pass = true;
	params.first_pass_L = vx::core::vamana_first_pass_width(params.L);

	/* progress counts the build's steps (insertions over both passes, then trims) */
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_DISKANN_PHASE_GRAPH);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL,
								 (int64) vx::core::vamana_build_steps(bs->count, params.two_pass));
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, 0);
	if (bs->parallel != NULL)
		DiskannParallelGraph(bs->parallel, &graph, &params, &bs->meta);
	else {
		MemoryContext old = MemoryContextSwitchTo(bs->build_ctx);
		DiskannBuildPair pair = DiskannMakeBuildPair(bs->vectors, dims, codes);
		vx::core::VamanaScratch scratch = DiskannBuildScratch(graph, params);

		MemoryContextSwitchTo(old);
		graph.ids = (uint32 *) MemoryContextAllocHuge(bs->build_ctx, (Size) bs->count * graph.stride() * sizeof(uint32));
		graph.counts = (uint32 *) MemoryContextAllocExtended(bs->build_ctx, (Size) bs->count * sizeof(uint32),
															 MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		DiskannRunBuild([&](const volatile sig_atomic_t *interrupt) {
			return vx::core::vamana_build(graph, params, pair, scratch, interrupt, [](uint64_t done) {
				pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) done);
			});
		});
	}
	*ids = graph.ids;
	*counts = graph.counts;
	return graph.medoid;
}

/* Write the metapage (block 0) of fork. */
static void
DiskannBuildWriteMeta(Relation index, ForkNumber fork, const DiskannMetaPageData *meta, bool exists)
{
	Buffer buf;
	Page page;

	if (exists) {
		buf = ReadBufferExtended(index, fork, DISKANN_METAPAGE_BLKNO, RBM_NORMAL, NULL);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	} else
		buf = VxNewBuffer(index, fork);
	page = BufferGetPage(buf);
	DiskannInitPage(page, DISKANN_PAGE_META);
	DiskannWriteMetaPage(page, meta);
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);
}

/*
 * Per-label start points (Filtered-DiskANN): for the most frequent labels
 * (as many as the metapage's table holds, and as their centroids fit in a
 * few MB), the row of the label nearest to the mean of the label's rows.
 */
static void
DiskannBuildLabelStarts(DiskannBuildState *bs, DiskannMetaPageData *meta)
{
	uint32 dims = meta->code_dimensions;
	uint32 *freq = (uint32 *) palloc0(sizeof(uint32) * 65536);
	int32 *slot = (int32 *) palloc(sizeof(int32) * 65536);
	int16 *chosen;
	int nchosen;
	int max_chosen = (int) Min((Size) DISKANN_MAX_LABEL_ENTRIES, (Size) (64 * 1024 * 1024) / (dims * sizeof(float)));
	float *sums;
	float *best;
	DiskannId *best_id;
	const vx::kernels::KernelTable &kt = vx::kernels::active();

	for (uint32 i = 0; i < bs->count; i++)
		for (int k = 0; k < DiskannStoredLabels(bs->labels[i].count, DISKANN_MAX_NODE_LABELS); k++)
			freq[(uint16) bs->labels[i].values[k]]++;
	/* the most frequent labels, then in label order (the table is sorted) */
	{
		uint32 *order = (uint32 *) palloc(sizeof(uint32) * 65536);
		uint32 nonzero = 0;

		for (uint32 l = 0; l < 65536; l++) {
			slot[l] = -1;
			if (freq[l] > 0)
				order[nonzero++] = l;
		}
		nchosen = (int) Min(nonzero, (uint32) max_chosen);
		std::partial_sort(order, order + nchosen, order + nonzero,
						  [&](uint32 a, uint32 b) { return freq[a] > freq[b] || (freq[a] == freq[b] && a < b); });
		chosen = (int16 *) palloc(sizeof(int16) * Max(nchosen, 1));
		for (int c = 0; c < nchosen; c++)
			chosen[c] = (int16) (uint16) order[c];
		std::sort(chosen, chosen + nchosen);
		for (int c = 0; c < nchosen; c++)
			slot[(uint16) chosen[c]] = c;
		pfree(order);
	}
	sums = (float *) MemoryContextAllocExtended(bs->build_ctx, (Size) Max(nchosen, 1) * dims * sizeof(float),
												MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	for (uint32 i = 0; i < bs->count; i++)
		for (int k = 0; k < DiskannStoredLabels(bs->labels[i].count, DISKANN_MAX_NODE_LABELS); k++) {
			int c = slot[(uint16) bs->labels[i].values[k]];

			if (c >= 0)
				for (uint32 j = 0; j < dims; j++)
					sums[(Size) c * dims + j] += bs->vectors[(Size) i * dims + j];
		}
	for (int c = 0; c < nchosen; c++) {
		float f = 1.0f / (float) freq[(uint16) chosen[c]];

		for (uint32 j = 0; j < dims; j++)
			sums[(Size) c * dims + j] *= f;
	}
	best = (float *) palloc(sizeof(float) * Max(nchosen, 1));
	best_id = (DiskannId *) palloc(sizeof(DiskannId) * Max(nchosen, 1));
	for (int c = 0; c < nchosen; c++) {
		best[c] = get_float4_infinity();
		best_id[c] = DISKANN_INVALID_ID;
	}
	for (uint32 i = 0; i < bs->count; i++)
		for (int k = 0; k < DiskannStoredLabels(bs->labels[i].count, DISKANN_MAX_NODE_LABELS); k++) {
			int c = slot[(uint16) bs->labels[i].values[k]];
			float d;

			if (c < 0)
				continue;
			d = kt.l2sq_f32(bs->vectors + (Size) i * dims, sums + (Size) c * dims, dims);
			if (best_id[c] == DISKANN_INVALID_ID || d < best[c]) {
				best[c] = d;
				best_id[c] = i;
			}
		}
	meta->nlabel_entries = 0;
	for (int c = 0; c < nchosen; c++)
		if (best_id[c] != DISKANN_INVALID_ID)
			DiskannLabelEntrySet(meta, chosen[c], best_id[c]);
	pfree(sums);
	pfree(best);
	pfree(best_id);
	pfree(chosen);
	pfree(slot);
	pfree(freq);
}

/* Phases 2 and 3 for the rows in memory: center, codes, graph, pages. */
static void
DiskannBuildWrite(DiskannBuildState *bs)
{
	DiskannMetaPageData *meta = &bs->meta;
	uint32 dims = meta->code_dimensions;
	float *center;
	uint8 *codes;
	vx::core::CodeFactors *factors;
	vx::core::Quantizer quantizer;
	DiskannBuildCodes built;
	uint32 *ids = NULL;
	uint32 *counts = NULL;
	uint32 medoid = 0;
	uint32 stride = vx::core::vamana_capacity_for(meta->num_neighbors); /* the in-memory graph's list room */
	uint32 npages;

	/* the codes: in the parallel build's segment (its workers search with them), else here */
	if (bs->parallel != NULL)
		DiskannParallelCodeSpace(bs->parallel, &center, &codes, &factors);
	else {
		center = (float *) palloc(sizeof(float) * dims);
		codes = (uint8 *) MemoryContextAllocHuge(bs->build_ctx, (Size) Max(bs->count, 1) * meta->code_bytes);
		factors = (vx::core::CodeFactors *) MemoryContextAllocHuge(
			bs->build_ctx, (Size) Max(bs->count, 1) * sizeof(vx::core::CodeFactors));
	}
	DiskannBuildCenter(bs, center);
	quantizer = DiskannQuantizerFor(meta, center);
	if (bs->parallel == NULL) { /* a parallel build's participants encode the rows first */
		float *work = (float *) palloc(sizeof(float) * Max(quantizer.work_floats(), (size_t) 1));

		for (uint32 i = 0; i < bs->count; i += 1024) {
			DiskannEncodeRows(&quantizer, bs->vectors, i, Min(i + 1024, bs->count), codes, factors, work);
			CHECK_FOR_INTERRUPTS();
		}
		pfree(work);
	}
	built = DiskannBuildCodes{&quantizer, codes, factors};
	if (bs->count > 0)
		medoid = DiskannBuildGraph(bs, &built, &ids, &counts);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_DISKANN_PHASE_WRITE);
	if (bs->has_labels) {
		/* room for the most labels a row had (rows with more later are rechecked), then the label starts */
		int capacity = Min(Max(bs->max_labels, DISKANN_MIN_NODE_LABELS), DISKANN_MAX_NODE_LABELS);

		DiskannComputeGeometry(meta, (VxElemKind) meta->elem_kind, (VxMetric) meta->metric, meta->dimensions,
							   meta->code_dimensions, meta->num_neighbors, meta->search_list_size, meta->max_alpha,
							   meta->storage_layout, meta->bits, (capacity + 1) & ~1);
	}
	meta->entry_id = bs->count > 0 ? medoid : DISKANN_INVALID_ID;
	meta->next_id = bs->count;
	meta->live_count = bs->count;
	if (bs->has_labels)
		DiskannBuildLabelStarts(bs, meta);
	DiskannBuildWriteMeta(bs->index, bs->fork, meta, false);
	DiskannWriteCenter(bs->index, bs->fork, meta, center);

	npages = (bs->count + meta->nodes_per_page - 1) / meta->nodes_per_page;
	for (uint32 p = 0; p < npages; p++) {
		Buffer buf = VxNewBuffer(bs->index, bs->fork);
		Page page = BufferGetPage(buf);
		uint32 first = p * meta->nodes_per_page;

		Assert(BufferGetBlockNumber(buf) == DiskannNodePageBlock(meta, p));
		DiskannInitPage(page, DISKANN_PAGE_NODE);
		((PageHeader) page)->pd_lower =
			(LocationIndex) (PageGetContents(page) + (Size) meta->nodes_per_page * meta->node_size - (char *) page);
		for (uint32 i = first; i < Min(first + meta->nodes_per_page, bs->count); i++) {
			DiskannNode *node = DiskannNodeAt(page, meta, i - first);

			node->flags = DISKANN_NODE_LIVE;
			node->version = 1;
			node->heap_tid = bs->tids[i];
			node->next_free = DISKANN_INVALID_ID;
			node->nneighbors = (uint16) counts[i];
			memcpy(DiskannNodeNeighbors(node, meta), ids + (Size) i * stride,
				   sizeof(uint32) * counts[i]);
			memcpy(DiskannNodeCode(node), codes + (Size) i * meta->code_bytes, meta->code_bytes);
			memcpy(node->factors, &factors[i], sizeof(vx::core::CodeFactors));
			if (bs->has_labels)
				DiskannStoreLabels(node, meta, &bs->labels[i]);
		}
		MarkBufferDirty(buf);
		UnlockReleaseBuffer(buf);

		/* plain: the extent's vector pages, right after its node page */
		for (uint32 k = 1; k <= meta->vector_pages; k++) {
			Buffer vbuf = VxNewBuffer(bs->index, bs->fork);
			Page vpage = BufferGetPage(vbuf);

			Assert(BufferGetBlockNumber(vbuf) == DiskannNodePageBlock(meta, p) + k);
			DiskannInitVectorPage(vpage, meta, k);
			MarkBufferDirty(vbuf);
			UnlockReleaseBuffer(vbuf);
		}
		for (uint32 i = first; i < Min(first + meta->nodes_per_page, bs->count) && meta->vector_pages > 0; i++) {
			Size done = 0;

			for (uint32 j = 0; j < meta->pages_per_vector; j++) {
				uint32 offset;
				uint32 len;
				BlockNumber blkno = DiskannVectorChunk(meta, i, j, &offset, &len);
				Buffer vbuf = ReadBufferExtended(bs->index, bs->fork, blkno, RBM_NORMAL, NULL);

				LockBuffer(vbuf, BUFFER_LOCK_EXCLUSIVE);
				memcpy(PageGetContents(BufferGetPage(vbuf)) + offset, DiskannBuildStored(bs, i) + done, len);
				MarkBufferDirty(vbuf);
				UnlockReleaseBuffer(vbuf);
				done += len;
			}
		}
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, Min(first + meta->nodes_per_page, bs->count));
		CHECK_FOR_INTERRUPTS();
	}

	/* the rows are on pages now: free the memory phase (a parallel build's segment goes with its context) */
	if (bs->parallel == NULL) {
		if (ids != NULL) {
			pfree(ids);
			pfree(counts);
		}
		pfree(codes);
		pfree(factors);
		pfree(center);
	}
}

/* Switch to on-page inserts for the remaining rows. */
static void
DiskannBuildStartOnPages(DiskannBuildState *bs)
{
	MemoryContext old;

	DiskannBuildWrite(bs);
	if (bs->parallel != NULL) {
		DiskannParallelEnd(bs->parallel); /* the vectors were in its segment */
		bs->parallel = NULL;
	} else
		pfree(bs->vectors);
	pfree(bs->tids);
	if (bs->labels != NULL)
		pfree(bs->labels);
	if (bs->full != NULL)
		pfree(bs->full);
	bs->full = NULL;
	bs->vectors = NULL;
	bs->tids = NULL;
	bs->labels = NULL;
	old = MemoryContextSwitchTo(bs->build_ctx);
	DiskannOpenIndex(&bs->di, bs->index);
	MemoryContextSwitchTo(old);
	bs->on_pages = true;
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_DISKANN_PHASE_LOAD);
}

/* Per heap tuple: prepare the value, then keep it in memory or insert it on pages. */
static void
DiskannBuildCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull, bool tupleIsAlive, void *state)
{
	DiskannBuildState *bs = (DiskannBuildState *) state;
	MemoryContext old;
	Datum value;
	bool skip;

	if (isnull[0])
		return;

	old = MemoryContextSwitchTo(bs->tmp_ctx);
	value = VxPrepareValue(&bs->dist, values[0], true, &skip);
	if (!skip) {
		const char *datum = DatumGetPointer(value);
		DiskannLabels labels;

		labels.count = 0;
		if (bs->has_labels)
			DiskannReadLabels(values[1], isnull[1], &labels);

		if (VxElemTraitsOf((VxElemKind) bs->meta.elem_kind)->dimensions(datum) != bs->meta.dimensions)
			VxCheckQuery(&bs->dist, datum); /* the dimension error of the type */
		if (!bs->on_pages && bs->count >= bs->room) {
			if (bs->room == bs->capacity)
				ereport(NOTICE, (errmsg("diskann graph no longer fits into maintenance_work_mem after " INT64_FORMAT
										" tuples",
										(int64) bs->count),
								 errdetail("Building will take significantly more time."),
								 errhint("Increase maintenance_work_mem to speed up builds.")));
			else
				ereport(DEBUG1, (errmsg_internal("diskann build: the table has more rows than the parallel build's "
												 "segment holds (%u); the rest are inserted on pages",
												 bs->room)));
			MemoryContextSwitchTo(old);
			DiskannBuildStartOnPages(bs);
			MemoryContextSwitchTo(bs->tmp_ctx);
		}
		if (bs->on_pages)
			DiskannInsertValue(&bs->di, datum,
							   bs->meta.vector_pages > 0 ? DatumGetPointer(PG_DETOAST_DATUM(values[0])) : datum,
							   &labels, tid, true);
		else {
			DiskannBuildReserve(bs);
			if (bs->meta.elem_kind == VX_ELEM_F16)
				vx::kernels::active().f16_to_f32((const uint16_t *) (datum + VxElemTraitsOf(VX_ELEM_F16)->elem_offset),
												 bs->vectors + (Size) bs->count * bs->meta.code_dimensions,
												 bs->meta.code_dimensions);
			else
				memcpy(bs->vectors + (Size) bs->count * bs->meta.code_dimensions,
					   datum + VxElemTraitsOf(VX_ELEM_F32)->elem_offset, sizeof(float) * bs->meta.code_dimensions);
			if (bs->full != NULL)
				memcpy(bs->full + (Size) bs->count * bs->full_bytes,
					   VxElemTraitsOf((VxElemKind) bs->meta.elem_kind)
						   ->raw(DatumGetPointer(PG_DETOAST_DATUM(values[0]))),
					   bs->meta.vector_bytes);
			if (bs->has_labels) {
				bs->labels[bs->count] = labels;
				bs->max_labels = Max(bs->max_labels, DiskannStoredLabels(labels.count, DISKANN_MAX_NODE_LABELS));
			}
			bs->tids[bs->count++] = *tid;
		}
		bs->indtuples++;
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmp_ctx);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) bs->indtuples);
}

/*
 * When the planner grants workers (max_parallel_maintenance_workers, the
 * table's parallel_workers, its size), load the rows into a parallel
 * context's segment: room for the rows memory allows and the table is
 * estimated to hold, with a margin (a miss only sends the rest to on-page
 * inserts). Serial when no worker is granted or no segment can be had.
 */
static void
DiskannBuildBeginParallel(DiskannBuildState *bs)
{
	int nworkers = plan_create_index_workers(RelationGetRelid(bs->heap), RelationGetRelid(bs->index));
	BlockNumber pages;
	double tuples;
	double allvisfrac;
	uint32 rows;

	if (nworkers <= 0)
		return;
	estimate_rel_size(bs->heap, NULL, &pages, &tuples, &allvisfrac);
	rows = (uint32) Min((double) bs->capacity, tuples * 1.2 + 1000);
	bs->parallel = DiskannParallelBegin(nworkers, rows, bs->meta.code_dimensions,
										vx::core::vamana_capacity_for(bs->meta.num_neighbors), bs->meta.code_bytes);
	if (bs->parallel == NULL)
		return;
	bs->room = rows;
	bs->allocated = rows;
	bs->vectors = DiskannParallelVectors(bs->parallel);
	bs->tids = (ItemPointerData *) MemoryContextAllocHuge(bs->build_ctx, (Size) rows * sizeof(ItemPointerData));
	if (bs->has_labels)
		bs->labels = (DiskannLabels *) MemoryContextAllocHuge(bs->build_ctx, (Size) rows * sizeof(DiskannLabels));
	if (bs->full_bytes > 0)
		bs->full = (char *) MemoryContextAllocHuge(bs->build_ctx, (Size) rows * bs->full_bytes);
}

/* Build the index into fork (MAIN for CREATE INDEX, INIT for an unlogged table's init fork). */
static void
DiskannBuildIndex(Relation heap, Relation index, IndexInfo *index_info, DiskannBuildState *bs, ForkNumber fork)
{
	DiskannBuildInit(bs, heap, index, fork);

	if (heap != NULL && fork == MAIN_FORKNUM)
		DiskannBuildBeginParallel(bs);
	if (heap != NULL) {
		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_DISKANN_PHASE_LOAD);
		bs->reltuples =
			table_index_build_scan(heap, index, index_info, true, true, DiskannBuildCallback, (void *) bs, NULL);
	}
	/* after a flush the on-page inserts keep the metapage up to date themselves */
	if (!bs->on_pages)
		DiskannBuildWrite(bs);
	if (bs->parallel != NULL)
		DiskannParallelEnd(bs->parallel);

	/* the pages were written without WAL; an unlogged table's init fork is always logged */
	VxLogBuiltIndex(index, fork);

	MemoryContextDelete(bs->build_ctx);
	MemoryContextDelete(bs->tmp_ctx);
}

/* ambuild: CREATE INDEX / REINDEX. */
IndexBuildResult *
diskannbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IndexBuildResult *result;
	DiskannBuildState bs;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
	DiskannBuildIndex(heap, index, indexInfo, &bs, MAIN_FORKNUM);

	result = palloc_object(IndexBuildResult);
	result->heap_tuples = bs.reltuples;
	result->index_tuples = bs.indtuples;
	return result;
}

/* ambuildempty: the init fork of an unlogged table's index (metapage and center pages). */
void
diskannbuildempty(Relation index)
{
	DiskannBuildState bs;

	DiskannBuildIndex(NULL, index, BuildIndexInfo(index), &bs, INIT_FORKNUM);
}
