/*
 * build.cpp -- ambuild and ambuildempty for ivfflat.
 *
 * 1. Sample (phase "performing k-means"): one heap scan keeps a uniform
 *    reservoir of max(50 * lists, 10000) values (pgvector's count) as
 *    floats, fewer if maintenance_work_mem cannot hold them with the k-means
 *    state; an ERROR (pgvector's text) if it cannot hold even one per list.
 *    Cosine values are normalized (zero vectors skipped, they are not
 *    indexed); inner-product samples too, since their k-means is spherical
 *    (pgvector's FUNCTION 4). Fewer samples than lists gives pgvector's
 *    "little data" NOTICE.
 * 2. k-means (src/core/kmeans.cpp) on the samples with the SIMD kernels;
 *    bit values are clustered as 0/1 floats (squared L2 = Hamming) and the
 *    centers rounded back to bits; halfvec centers are rounded to half.
 * 3. Pages (phase "assigning tuples"): metapage, directory pages, one empty
 *    entry page per list, then a second heap scan assigns each row to its
 *    nearest center (dist->fn over center datums) and appends it to that
 *    list's chain. No WAL: the whole relation is logged at the end
 *    (VxLogBuiltIndex; always for the init fork of an unlogged table).
 *
 * Serial: the k-means assignment is the costly part and runs at SIMD speed
 * on one core; a parallel heap scan for step 3 is left for later (XXX).
 */
#include "vx/pg.h"

#include "vx/am/writer.h"
#include "vx/core/hnsw_algo.hpp" /* SplitMix64 */
#include "vx/core/kmeans.hpp"
#include "vx/ivfflat/ivfflat.h"
#include "vx/kernels/kernels.hpp"
#include "vx/types/halfvec.h"
#include "vx/types/vector.h"

#include <cmath>

typedef struct IvfflatBuildState
{
	Relation heap;
	Relation index;
	ForkNumber fork;
	IvfflatMetaPageData meta;
	VxDistanceData dist;
	const VxElemTraits *traits;
	bool spherical;

	/* sampling */
	float *samples;
	uint32 nsamples;
	uint32 capacity;
	double seen;	/* values offered to the reservoir */
	double indexable; /* rows the assignment will index */
	vx::core::SplitMix64 rng;
	float *tmp; /* one value as floats */

	/* centers */
	char *centers; /* lists datums of meta.center_size bytes */
	IvfflatListLoc *locs;
	BlockNumber *start;	 /* first entry page of each list */
	BlockNumber *insert; /* last entry page of each list */

	double reltuples;
	double indtuples;
	MemoryContext tmp_ctx;
} IvfflatBuildState;

/* The elements of a prepared datum as floats into out (bit: 0/1); false for a zero vector under a spherical k-means. */
static bool
IvfflatToFloats(IvfflatBuildState *bs, const char *datum, float *out)
{
	uint32 dims = bs->meta.dimensions;

	switch ((VxElemKind) bs->meta.elem_kind) {
	case VX_ELEM_F32:
		memcpy(out, ((const Vector *) datum)->x, sizeof(float) * dims);
		break;
	case VX_ELEM_F16:
		vx::kernels::active().f16_to_f32((const uint16_t *) ((const HalfVector *) datum)->x, out, dims);
		break;
	case VX_ELEM_BIT: {
		const uint8 *bits = (const uint8 *) bs->traits->raw(datum);
		for (uint32 i = 0; i < dims; i++)
			out[i] = (bits[i / 8] & (0x80 >> (i % 8))) ? 1.0f : 0.0f;
		break;
	}
	default:
		elog(ERROR, "ivfflat does not index element kind %d", bs->meta.elem_kind);
	}
	if (bs->spherical) {
		double norm = 0;
		for (uint32 i = 0; i < dims; i++)
			norm += (double) out[i] * out[i];
		if (!(norm > 0))
			return false;
		norm = sqrt(norm);
		for (uint32 i = 0; i < dims; i++)
			out[i] = (float) (out[i] / norm);
	}
	return true;
}

/* Sampling callback: reservoir sampling of prepared values. */
static void
IvfflatSampleCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull, bool tupleIsAlive, void *state)
{
	IvfflatBuildState *bs = (IvfflatBuildState *) state;
	MemoryContext old;
	Datum value;
	bool skip;

	if (isnull[0])
		return;
	old = MemoryContextSwitchTo(bs->tmp_ctx);
	value = IvfflatPrepareValue(&bs->dist, values[0], true, &skip);
	if (!skip)
		bs->indexable += 1;
	if (!skip && IvfflatToFloats(bs, DatumGetPointer(value), bs->tmp)) {
		uint64 slot = UINT64_MAX;

		bs->seen += 1;
		if (bs->nsamples < bs->capacity)
			slot = bs->nsamples++;
		else {
			uint64 j = bs->rng.next() % (uint64) bs->seen;
			if (j < bs->capacity)
				slot = j;
		}
		if (slot != UINT64_MAX)
			memcpy(bs->samples + slot * bs->meta.dimensions, bs->tmp, sizeof(float) * bs->meta.dimensions);
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmp_ctx);
}

/* Sample the heap and run k-means; fills bs->centers with center datums. */
static void
IvfflatComputeCenters(IvfflatBuildState *bs, IndexInfo *indexInfo)
{
	uint32 dims = bs->meta.dimensions;
	uint32 lists = bs->meta.lists;
	Size per_sample = sizeof(float) * (Size) dims + 8; /* the value and kmeans' per-sample scratch */
	Size fixed = vx::core::kmeans_scratch_bytes(0, lists, dims) + sizeof(float) * (Size) lists * dims;
	Size budget = (Size) maintenance_work_mem * 1024;
	uint32 want = Max(lists * 50, 10000);
	float *centers;
	void *scratch;
	vx::core::KmeansParams params;
	vx::core::Status status;
	Size raw_bytes = bs->traits->raw_bytes(dims, 0);
	char *raw;

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_IVFFLAT_PHASE_KMEANS);

	if (bs->heap != NULL) {
		BlockNumber blocks = RelationGetNumberOfBlocks(bs->heap);
		double max_tuples = (double) blocks * MaxHeapTuplesPerPage;

		if (max_tuples < want)
			want = (uint32) Max(max_tuples, 1.0);
	} else
		want = 0;

	if (fixed + (Size) Min(want, lists) * per_sample > budget)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("memory required is %zu MB, maintenance_work_mem is %d MB",
							   (fixed + (Size) Min(want, lists) * per_sample) / (1024 * 1024) + 1,
							   maintenance_work_mem / 1024)));
	if (fixed + (Size) want * per_sample > budget)
		want = (uint32) ((budget - fixed) / per_sample);

	bs->capacity = want;
	bs->nsamples = 0;
	bs->seen = 0;
	bs->samples = (float *) MemoryContextAllocHuge(CurrentMemoryContext, Max(sizeof(float) * (Size) want * dims, 1));
	bs->tmp = (float *) palloc(sizeof(float) * dims);
	if (bs->heap != NULL) {
		table_index_build_scan(bs->heap, bs->index, indexInfo, true, true, IvfflatSampleCallback, (void *) bs, NULL);
		if (bs->nsamples < lists)
			ereport(NOTICE, (errmsg("ivfflat index created with little data"),
							 errdetail("This will cause low recall."),
							 errhint("Drop the index until the table has more data.")));
	}

	centers = (float *) MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * (Size) lists * dims);
	scratch = MemoryContextAllocHuge(CurrentMemoryContext, vx::core::kmeans_scratch_bytes(bs->nsamples, lists, dims));
	params.dim = dims;
	params.k = lists;
	params.spherical = bs->spherical;
	params.seed = 42;
	for (;;) {
		status = vx::core::kmeans(vx::kernels::active(), bs->samples, bs->nsamples, params, centers, scratch,
								  (const volatile int *) &InterruptPending);
		if (status != vx::core::Status::Interrupted)
			break;
		CHECK_FOR_INTERRUPTS();
	}
	if (status != vx::core::Status::Ok)
		elog(ERROR, "ivfflat k-means failed: %s", vx::core::status_name(status));
	pfree(scratch);
	pfree(bs->samples);
	bs->samples = NULL;

	/* centers as datums of the index's kind */
	raw = (char *) palloc0(raw_bytes);
	bs->centers = (char *) MemoryContextAllocHuge(CurrentMemoryContext, (Size) bs->meta.center_size * lists);
	memset(bs->centers, 0, (Size) bs->meta.center_size * lists);
	for (uint32 c = 0; c < lists; c++) {
		const float *v = centers + (Size) c * dims;

		switch ((VxElemKind) bs->meta.elem_kind) {
		case VX_ELEM_F32:
			memcpy(raw, v, sizeof(float) * dims);
			break;
		case VX_ELEM_F16:
			for (uint32 i = 0; i < dims; i++)
				((uint16 *) raw)[i] = vx::kernels::float_to_half(v[i]);
			break;
		case VX_ELEM_BIT:
			memset(raw, 0, raw_bytes);
			for (uint32 i = 0; i < dims; i++)
				if (v[i] >= 0.5f)
					raw[i / 8] |= (char) (0x80 >> (i % 8));
			break;
		default:
			break;
		}
		bs->traits->make_datum(raw, dims, bs->centers + (Size) c * bs->meta.center_size);
	}
	pfree(raw);
	pfree(centers);
}

/* Write the metapage, the directory and one empty entry page per list (no WAL). */
static void
IvfflatCreatePages(IvfflatBuildState *bs)
{
	Size item_size = IVFFLAT_LIST_SIZE(bs->meta.center_size);
	char *item = (char *) palloc0(item_size);
	Buffer buf;
	Page page;

	/* metapage: block 0 */
	buf = VxNewBuffer(bs->index, bs->fork);
	Assert(BufferGetBlockNumber(buf) == IVFFLAT_METAPAGE_BLKNO);
	page = BufferGetPage(buf);
	IvfflatInitPage(page, IVFFLAT_PAGE_META);
	bs->meta.first_directory = IVFFLAT_METAPAGE_BLKNO + 1;
	memcpy(PageGetContents(page), &bs->meta, sizeof(IvfflatMetaPageData));
	((PageHeader) page)->pd_lower = (PageGetContents(page) - page) + sizeof(IvfflatMetaPageData);
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);

	/* directory pages, entry pages not yet known */
	buf = InvalidBuffer;
	page = NULL;
	for (uint32 c = 0; c < bs->meta.lists; c++) {
		OffsetNumber off;

		if (page == NULL || PageGetFreeSpace(page) < item_size) {
			Buffer nbuf = VxNewBuffer(bs->index, bs->fork);

			IvfflatInitPage(BufferGetPage(nbuf), IVFFLAT_PAGE_DIRECTORY);
			if (BufferIsValid(buf)) {
				IvfflatPageGetOpaque(page)->next = BufferGetBlockNumber(nbuf);
				MarkBufferDirty(buf);
				UnlockReleaseBuffer(buf);
			}
			buf = nbuf;
			page = BufferGetPage(buf);
		}
		((IvfflatList) item)->start = InvalidBlockNumber;
		((IvfflatList) item)->insert = InvalidBlockNumber;
		memcpy(IVFFLAT_LIST_CENTER(item), bs->centers + (Size) c * bs->meta.center_size, bs->meta.center_size);
		off = PageAddItem(page, (Item) item, item_size, InvalidOffsetNumber, false, false);
		if (off == InvalidOffsetNumber)
			elog(ERROR, "failed to add index item to \"%s\"", RelationGetRelationName(bs->index));
		bs->locs[c].blkno = BufferGetBlockNumber(buf);
		bs->locs[c].offno = off;
	}
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);
	pfree(item);

	/* one entry page per list */
	for (uint32 c = 0; c < bs->meta.lists; c++) {
		buf = VxNewBuffer(bs->index, bs->fork);
		IvfflatInitPage(BufferGetPage(buf), IVFFLAT_PAGE_ENTRY);
		bs->start[c] = bs->insert[c] = BufferGetBlockNumber(buf);
		MarkBufferDirty(buf);
		UnlockReleaseBuffer(buf);
	}
}

/* Point every directory item at its first and last entry pages (no WAL). */
static void
IvfflatFinishDirectory(IvfflatBuildState *bs)
{
	Buffer buf = InvalidBuffer;

	for (uint32 c = 0; c < bs->meta.lists; c++) {
		IvfflatList list;
		Page page;

		if (!BufferIsValid(buf) || BufferGetBlockNumber(buf) != bs->locs[c].blkno) {
			if (BufferIsValid(buf)) {
				MarkBufferDirty(buf);
				UnlockReleaseBuffer(buf);
			}
			buf = ReadBufferExtended(bs->index, bs->fork, bs->locs[c].blkno, RBM_NORMAL, NULL);
			LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		}
		page = BufferGetPage(buf);
		list = (IvfflatList) PageGetItem(page, PageGetItemId(page, bs->locs[c].offno));
		list->start = bs->start[c];
		list->insert = bs->insert[c];
	}
	if (BufferIsValid(buf)) {
		MarkBufferDirty(buf);
		UnlockReleaseBuffer(buf);
	}
}

/* Assignment callback: append each row to its nearest list. */
static void
IvfflatAssignCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull, bool tupleIsAlive, void *state)
{
	IvfflatBuildState *bs = (IvfflatBuildState *) state;
	MemoryContext old;
	Datum value;
	bool skip;

	if (isnull[0])
		return;
	old = MemoryContextSwitchTo(bs->tmp_ctx);
	value = IvfflatPrepareValue(&bs->dist, values[0], true, &skip);
	if (!skip) {
		const char *datum = DatumGetPointer(value);
		uint32 best = 0;
		float best_d = INFINITY;
		uint32 lists = bs->meta.lists;
		uint32 c = 0;

		if (bs->dist.fn4 != NULL)
			for (; c + 4 <= lists; c += 4) {
				const char *v[4];
				float out[4];

				for (int j = 0; j < 4; j++)
					v[j] = bs->centers + (Size) (c + j) * bs->meta.center_size;
				bs->dist.fn4(&bs->dist, datum, v, out);
				for (int j = 0; j < 4; j++)
					if (out[j] < best_d) {
						best_d = out[j];
						best = c + j;
					}
			}
		for (; c < lists; c++) {
			float d = bs->dist.fn(&bs->dist, datum, bs->centers + (Size) c * bs->meta.center_size);
			if (d < best_d) {
				best_d = d;
				best = c;
			}
		}
		IvfflatAppendEntry(bs->index, bs->fork, &bs->insert[best], datum, tid, true);
		bs->indtuples++;
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) bs->indtuples);
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmp_ctx);
}

/* Build the index into fork (MAIN, or INIT for an unlogged table's empty index). */
static void
IvfflatBuildIndex(Relation heap, Relation index, IndexInfo *indexInfo, IvfflatBuildState *bs, ForkNumber fork)
{
	const VxTypeInfo *info = IvfflatTypeInfo(index);
	int dimensions = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;
	VxMetric metric;

	memset(bs, 0, sizeof(*bs));
	bs->heap = heap;
	bs->index = index;
	bs->fork = fork;
	bs->rng.state = 0x1f2e3d4c5b6a7988ull;

	if (dimensions < 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("column does not have dimensions")));
	if (dimensions > info->max_dimensions)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("column cannot have more than %d dimensions for ivfflat index", info->max_dimensions)));
	metric = VxGetMetric(index, info->kind, "ivfflat");
	if (!VxDistanceSupported(info->kind, metric) ||
		(metric != VX_METRIC_L2 && metric != VX_METRIC_IP && metric != VX_METRIC_COSINE &&
		 metric != VX_METRIC_HAMMING))
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("ivfflat does not support this operator class")));
	/* spherical k-means (pgvector's FUNCTION 4) needs more than one dimension */
	bs->spherical = OidIsValid(index_getprocid(index, 1, IVFFLAT_KMEANS_NORM_PROC));
	if (bs->spherical && dimensions == 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("dimensions must be greater than one for this opclass")));

	bs->traits = VxElemTraitsOf(info->kind);
	bs->meta.magic = IVFFLAT_MAGIC;
	bs->meta.version = IVFFLAT_VERSION;
	bs->meta.elem_kind = (uint16) info->kind;
	bs->meta.metric = (uint16) metric;
	bs->meta.dimensions = (uint32) dimensions;
	bs->meta.lists = (uint32) IvfflatGetLists(index);
	bs->meta.center_size = (uint32) MAXALIGN(bs->traits->datum_size(dimensions, 0));
	bs->meta.first_directory = InvalidBlockNumber;
	if (Max(IVFFLAT_LIST_SIZE(bs->meta.center_size), IVFFLAT_ENTRY_SIZE(bs->meta.center_size)) > IVFFLAT_MAX_ITEM_SIZE)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("column cannot have more than %d dimensions for ivfflat index", info->max_dimensions)));
	IvfflatInitDistance(&bs->dist, &bs->meta);

	bs->tmp_ctx = AllocSetContextCreate(CurrentMemoryContext, "ivfflat build tuple", ALLOCSET_DEFAULT_SIZES);
	bs->locs = palloc_array(IvfflatListLoc, bs->meta.lists);
	bs->start = palloc_array(BlockNumber, bs->meta.lists);
	bs->insert = palloc_array(BlockNumber, bs->meta.lists);

	IvfflatComputeCenters(bs, indexInfo);
	IvfflatCreatePages(bs);

	if (heap != NULL) {
		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_IVFFLAT_PHASE_ASSIGN);
		/* the sampling scan counted the rows to assign */
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, (int64) bs->indexable);
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, 0);
		bs->reltuples =
			table_index_build_scan(heap, index, indexInfo, true, true, IvfflatAssignCallback, (void *) bs, NULL);
	}
	IvfflatFinishDirectory(bs);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_IVFFLAT_PHASE_LOAD);
	/* the pages were written without WAL; an unlogged table's init fork is always logged */
	VxLogBuiltIndex(index, fork);
	MemoryContextDelete(bs->tmp_ctx);
}

/* ambuild: CREATE INDEX / REINDEX. */
IndexBuildResult *
ivfflatbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IndexBuildResult *result;
	IvfflatBuildState bs;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
	IvfflatBuildIndex(heap, index, indexInfo, &bs, MAIN_FORKNUM);

	result = palloc_object(IndexBuildResult);
	result->heap_tuples = bs.reltuples;
	result->index_tuples = bs.indtuples;
	return result;
}

/* ambuildempty: the init fork of an unlogged table's index (random centers, empty lists). */
void
ivfflatbuildempty(Relation index)
{
	IvfflatBuildState bs;

	IvfflatBuildIndex(NULL, index, BuildIndexInfo(index), &bs, INIT_FORKNUM);
}
