/*
 * pages.cpp -- geometry, page initialization, the metapage, the quantizer's
 * center pages, and what every diskann operation opens first: the index's
 * metapage, distance, quantizer and center (DiskannOpenIndex).
 *
 * Arrays (node records, center floats) live below pd_lower so that
 * generic WAL's full-page images, which leave out the pd_lower..pd_upper
 * hole, contain them.
 */
#include "vx/pg.h"

#include "vx/am/recent.h"
#include "vx/core/prefetch.hpp"
#include "vx/diskann/diskann.h"
#include "vx/kernels/kernels.hpp"
#include "vx/types/halfvec.h"
#include "vx/types/vector.h"

/* Seed of the quantizer's rotation: a constant, so builds are reproducible. */
#define DISKANN_ROTATION_SEED UINT64CONST(0x5658444953454544)

/*
 * Derive the geometry (code_bytes, center_pages, node_size, nodes_per_page,
 * and the vector tier's vector_bytes, vectors_per_page, pages_per_vector,
 * vector_pages) from what is indexed (code_dimensions, bits, label_capacity,
 * num_neighbors; storage_layout, dimensions and elem_kind for the vector
 * tier); returns the node size, which the caller checks against a page. The
 * one formula for a build and for checking a metapage.
 *
 * The plain layout's extents: each node page is followed by the vector pages
 * of its nodes_per_page nodes. A vector that fits a page shares it with
 * others (V = capacity / vector_bytes a page, K = ceil(nodes_per_page / V)
 * pages an extent); a larger one spans P = ceil(vector_bytes / capacity)
 * consecutive pages of its own (K = nodes_per_page * P), so 16,000
 * dimensions work. memory_optimized: no vector tier (K = 0), the layout of
 * before the tier existed.
 */
static Size
DiskannDeriveGeometry(DiskannMetaPageData *meta)
{
	vx::core::Quantizer q;
	Size node_size;

	q.dims = meta->code_dimensions;
	q.bits = (uint32_t) meta->bits;
	meta->code_bytes = q.code_bytes();
	meta->center_pages =
		(uint32) (((Size) meta->code_dimensions * sizeof(float) + DISKANN_PAGE_CAPACITY - 1) / DISKANN_PAGE_CAPACITY);
	node_size = DISKANN_NODE_HEADER_SIZE + meta->code_bytes + DiskannLabelBytes(meta) +
				(Size) meta->num_neighbors * sizeof(DiskannId);
	meta->node_size = (uint32) node_size;
	meta->nodes_per_page = node_size <= DISKANN_PAGE_CAPACITY ? (uint32) (DISKANN_PAGE_CAPACITY / node_size) : 0;

	meta->vector_bytes = 0;
	meta->vectors_per_page = 0;
	meta->pages_per_vector = 0;
	meta->vector_pages = 0;
	if (meta->storage_layout == DISKANN_LAYOUT_PLAIN && meta->nodes_per_page > 0 &&
		(meta->elem_kind == VX_ELEM_F32 || meta->elem_kind == VX_ELEM_F16)) {
		const VxElemTraits *traits = VxElemTraitsOf((VxElemKind) meta->elem_kind);

		meta->vector_bytes = (uint32) traits->elem_size * meta->dimensions;
		if (meta->vector_bytes <= DISKANN_PAGE_CAPACITY) {
			meta->vectors_per_page = (uint32) (DISKANN_PAGE_CAPACITY / meta->vector_bytes);
			meta->pages_per_vector = 1;
			meta->vector_pages = (meta->nodes_per_page + meta->vectors_per_page - 1) / meta->vectors_per_page;
		} else {
			meta->pages_per_vector = (meta->vector_bytes + DISKANN_PAGE_CAPACITY - 1) / DISKANN_PAGE_CAPACITY;
			meta->vector_pages = meta->nodes_per_page * meta->pages_per_vector;
		}
	}
	return node_size;
}

/* Fill in what is indexed and the geometry (no I/O); errors for what cannot fit a page. */
void
DiskannComputeGeometry(DiskannMetaPageData *meta, VxElemKind kind, VxMetric metric, uint32 dimensions,
					   uint32 code_dimensions, int num_neighbors, int search_list_size, double max_alpha, int layout,
					   int bits, int label_capacity)
{
	Size node_size;

	MemSet(meta, 0, sizeof(*meta));
	meta->magic = DISKANN_MAGIC;
	meta->version = DISKANN_VERSION;
	meta->dimensions = dimensions;
	meta->elem_kind = (uint16) kind;
	meta->metric = (uint16) metric;
	meta->num_neighbors = (uint16) num_neighbors;
	meta->search_list_size = (uint16) search_list_size;
	meta->max_alpha = (float4) max_alpha;
	meta->storage_layout = (uint16) layout;
	meta->bits = (uint16) bits;
	meta->code_dimensions = code_dimensions;
	meta->seed = DISKANN_ROTATION_SEED;
	meta->label_capacity = (uint16) label_capacity;

	node_size = DiskannDeriveGeometry(meta);
	if (node_size > DISKANN_PAGE_CAPACITY)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("diskann node of %zu bytes does not fit on a page", node_size),
				 errdetail("A node holds the code of %u dimensions at %d bits each, %d labels and %d neighbours.",
						   code_dimensions, bits, label_capacity, num_neighbors),
				 errhint("Lower num_bits_per_dimension, num_neighbors or num_dimensions.")));
	meta->entry_id = DISKANN_INVALID_ID;
	meta->next_id = 0;
	meta->free_head = DISKANN_INVALID_ID;
	meta->live_count = 0;
}

/* Initialize an empty page of the given type. */
void
DiskannInitPage(Page page, uint16 page_type)
{
	DiskannPageOpaque opaque;

	PageInit(page, BLCKSZ, sizeof(DiskannPageOpaqueData));
	opaque = DiskannPageGetOpaque(page);
	opaque->page_type = page_type;
	opaque->page_id = DISKANN_PAGE_ID;
}

/* Set a metapage's pd_lower past its label table (after the table changed). */
void
DiskannMetaSetLower(Page page)
{
	DiskannMetaPage meta = DiskannPageGetMeta(page);

	((PageHeader) page)->pd_lower = (LocationIndex) ((char *) (DiskannMetaLabels(meta) + meta->nlabel_entries) -
													 (char *) page);
}

/* Write the metapage contents, label table included (page already initialized as META). */
void
DiskannWriteMetaPage(Page page, const DiskannMetaPageData *meta)
{
	memcpy(PageGetContents(page), meta, sizeof(*meta) + sizeof(DiskannLabelEntry) * meta->nlabel_entries);
	DiskannMetaSetLower(page);
}

/*
 * Whether a metapage's parameters are in range and its geometry is the one
 * they give (so every node record, code, label and neighbour array the
 * readers address lies inside a node page). Damage that passes the magic
 * and version checks must be refused here, never read.
 */
static bool
DiskannMetaGeometryValid(const DiskannMetaPageData *meta)
{
	DiskannMetaPageData derived;

	if (meta->elem_kind != VX_ELEM_F32 && meta->elem_kind != VX_ELEM_F16)
		return false;
	if (meta->metric != VX_METRIC_L2 && meta->metric != VX_METRIC_IP && meta->metric != VX_METRIC_COSINE)
		return false;
	if (meta->dimensions == 0 || meta->dimensions > DISKANN_MAX_DIM || meta->bits == 0 ||
		meta->bits > DISKANN_MAX_BITS || meta->code_dimensions == 0 || meta->code_dimensions > meta->dimensions ||
		meta->num_neighbors == 0 || meta->label_capacity > DISKANN_MAX_NODE_LABELS ||
		meta->nlabel_entries > DISKANN_MAX_LABEL_ENTRIES ||
		(meta->storage_layout != DISKANN_LAYOUT_MEMORY_OPTIMIZED && meta->storage_layout != DISKANN_LAYOUT_PLAIN))
		return false;
	memcpy(&derived, meta, sizeof(derived));
	if (DiskannDeriveGeometry(&derived) > DISKANN_PAGE_CAPACITY)
		return false;
	return derived.code_bytes == meta->code_bytes && derived.center_pages == meta->center_pages &&
		   derived.node_size == meta->node_size && derived.nodes_per_page == meta->nodes_per_page &&
		   derived.vector_bytes == meta->vector_bytes && derived.vectors_per_page == meta->vectors_per_page &&
		   derived.pages_per_vector == meta->pages_per_vector && derived.vector_pages == meta->vector_pages;
}

/* The metapage contents, or an error when the page is not a diskann metapage of this version. */
DiskannMetaPage
DiskannCheckMetaPage(Relation index, Page page)
{
	DiskannMetaPage meta = DiskannPageGetMeta(page);

	if (PageIsNew(page) || ((PageHeader) page)->pd_special != BLCKSZ - MAXALIGN(sizeof(DiskannPageOpaqueData)) ||
		DiskannPageGetOpaque(page)->page_id != DISKANN_PAGE_ID || meta->magic != DISKANN_MAGIC) {
		ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
						errmsg("index \"%s\" is not a valid diskann index", RelationGetRelationName(index)),
						errdetail("The metapage has no diskann magic number."),
						errhint("REINDEX the index (REINDEX INDEX %s).", RelationGetRelationName(index))));
	}
	if (meta->version != DISKANN_VERSION)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						errmsg("index \"%s\" has diskann format version %u, this extension reads version %d",
							   RelationGetRelationName(index), meta->version, DISKANN_VERSION),
						errhint("REINDEX the index (REINDEX INDEX %s).", RelationGetRelationName(index))));
	if (!DiskannMetaGeometryValid(meta))
		ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
						errmsg("index \"%s\" has an invalid diskann metapage", RelationGetRelationName(index)),
						errhint("REINDEX the index (REINDEX INDEX %s).", RelationGetRelationName(index))));
	return meta;
}

/* Copy the metapage contents (share lock held only while copying). */
void
DiskannReadMeta(Relation index, DiskannMetaPageData *meta)
{
	Buffer buf = ReadBuffer(index, DISKANN_METAPAGE_BLKNO);

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	memcpy(meta, DiskannCheckMetaPage(index, BufferGetPage(buf)), sizeof(*meta));
	UnlockReleaseBuffer(buf);
}

/* Error unless a page is ours and of the expected type. */
void
DiskannCheckPage(Relation index, Page page, uint16 page_type, BlockNumber blkno)
{
	if (PageIsNew(page) || ((PageHeader) page)->pd_special != BLCKSZ - MAXALIGN(sizeof(DiskannPageOpaqueData)) ||
		DiskannPageGetOpaque(page)->page_id != DISKANN_PAGE_ID ||
		DiskannPageGetOpaque(page)->page_type != page_type)
		ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
						errmsg("index \"%s\" has an unexpected page at block %u", RelationGetRelationName(index),
							   blkno),
						errhint("REINDEX the index (REINDEX INDEX %s).", RelationGetRelationName(index))));
}

/*
 * Write the center pages (blocks 1..center_pages) of a build into fork,
 * without WAL (the build logs the whole relation at the end). The metapage
 * must already exist as block 0.
 */
void
DiskannWriteCenter(Relation index, ForkNumber fork, const DiskannMetaPageData *meta, const float *center)
{
	Size total = (Size) meta->code_dimensions * sizeof(float);
	Size done = 0;

	for (uint32 p = 0; p < meta->center_pages; p++) {
		Buffer buf = VxNewBuffer(index, fork);
		Page page = BufferGetPage(buf);
		Size n = Min(total - done, (Size) DISKANN_PAGE_CAPACITY);

		Assert(BufferGetBlockNumber(buf) == 1 + p);
		DiskannInitPage(page, DISKANN_PAGE_CENTER);
		memcpy(PageGetContents(page), (const char *) center + done, n);
		((PageHeader) page)->pd_lower = (LocationIndex) ((char *) PageGetContents(page) + n - (char *) page);
		MarkBufferDirty(buf);
		UnlockReleaseBuffer(buf);
		done += n;
	}
}

/* Initialize vector page k (1 .. vector_pages) of an extent: pd_lower covers its slots or its chunk. */
void
DiskannInitVectorPage(Page page, const DiskannMetaPageData *meta, uint32 k)
{
	DiskannInitPage(page, DISKANN_PAGE_VECTOR);
	((PageHeader) page)->pd_lower =
		(LocationIndex) (PageGetContents(page) + DiskannVectorPageBytes(meta, k) - (char *) page);
}

/*
 * Copy node id's stored vector (vector_bytes raw elements) into raw, if the
 * node is still LIVE with that version; false otherwise (deleted, or freed
 * and reused since the caller read it). The node page stays share-locked
 * while the vector pages are read, one at a time after it (the lock order:
 * a node page before its vector pages), so an insert reusing the id, which
 * needs the node page's exclusive lock to free it first, cannot write the
 * vector in between.
 */
bool
DiskannReadVector(DiskannIndex di, DiskannId id, uint32 version, char *raw)
{
	const DiskannMetaPageData *meta = &di->meta;
	Buffer nodebuf;
	DiskannNode *node;
	Size done = 0;
	bool ok;

	if (id >= meta->next_id)
		return false;
	nodebuf = DiskannPinNodePage(di, DiskannNodeBlock(meta, id));
	LockBuffer(nodebuf, BUFFER_LOCK_SHARE);
	node = DiskannNodeOf(BufferGetPage(nodebuf), meta, id);
	ok = node->flags == DISKANN_NODE_LIVE && node->version == version;
	for (uint32 j = 0; ok && j < meta->pages_per_vector; j++) {
		uint32 offset;
		uint32 len;
		BlockNumber blkno = DiskannVectorChunk(meta, id, j, &offset, &len);
		Buffer buf = ReadBuffer(di->index, blkno);
		Page page;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		DiskannCheckPage(di->index, page, DISKANN_PAGE_VECTOR, blkno);
		memcpy(raw + done, PageGetContents(page) + offset, len);
		UnlockReleaseBuffer(buf);
		done += len;
	}
	UnlockReleaseBuffer(nodebuf);
	return ok;
}

/* Plain: start reading node id's vector page(s) (PrefetchBuffer: a hint, nothing when they are in shared buffers). */
void
DiskannPrefetchVector(DiskannIndex di, DiskannId id)
{
	for (uint32 j = 0; j < di->meta.pages_per_vector; j++) {
		uint32 offset;
		uint32 len;

		PrefetchBuffer(di->index, MAIN_FORKNUM, DiskannVectorChunk(&di->meta, id, j, &offset, &len));
	}
}

/* Read the center floats from the center pages. */
static void
DiskannReadCenter(Relation index, const DiskannMetaPageData *meta, float *center)
{
	Size total = (Size) meta->code_dimensions * sizeof(float);
	Size done = 0;

	for (uint32 p = 0; p < meta->center_pages; p++) {
		Buffer buf = ReadBuffer(index, 1 + p);
		Page page = BufferGetPage(buf);
		Size n = Min(total - done, (Size) DISKANN_PAGE_CAPACITY);

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		DiskannCheckPage(index, page, DISKANN_PAGE_CENTER, 1 + p);
		memcpy((char *) center + done, PageGetContents(page), n);
		UnlockReleaseBuffer(buf);
		done += n;
	}
}

/*
 * Rewrite the center pages of an empty index (next_id 0) with center: its
 * first insert sets the center to its own vector, since an index built on an
 * empty table has the mean of no rows, the origin, which for data far from
 * the origin leaves every code the same. WAL-logged (3 pages a record: the
 * index stays empty, so every record leaves it valid); the caller holds the
 * update lock that serializes inserts into an empty index.
 */
void
DiskannSetCenter(DiskannIndex di, const float *center, bool building)
{
	Size total = (Size) di->meta.code_dimensions * sizeof(float);
	Size done = 0;

	for (uint32 first = 0; first < di->meta.center_pages; first += MAX_GENERIC_XLOG_PAGES - 1) {
		uint32 last = Min(first + MAX_GENERIC_XLOG_PAGES - 1, di->meta.center_pages);
		Buffer bufs[MAX_GENERIC_XLOG_PAGES];
		VxWriter w;

		for (uint32 p = first; p < last; p++) {
			bufs[p - first] = ReadBuffer(di->index, 1 + p);
			LockBuffer(bufs[p - first], BUFFER_LOCK_EXCLUSIVE);
			DiskannCheckPage(di->index, BufferGetPage(bufs[p - first]), DISKANN_PAGE_CENTER, 1 + p);
		}
		VxWriterStart(&w, di->index, building);
		for (uint32 p = first; p < last; p++) {
			Page page = VxWriterPage(&w, bufs[p - first], false);
			Size n = Min(total - done, (Size) DISKANN_PAGE_CAPACITY);

			memcpy(PageGetContents(page), (const char *) center + done, n);
			done += n;
		}
		VxWriterFinish(&w);
		for (uint32 p = first; p < last; p++)
			UnlockReleaseBuffer(bufs[p - first]);
	}
	memcpy(di->center, center, total);
	di->quantizer.set_center(di->center);
	di->center_of_empty = false;
}

/* The quantizer of an index with meta and center, on the active kernels (center is referenced, not copied). */
vx::core::Quantizer
DiskannQuantizerFor(const DiskannMetaPageData *meta, const float *center)
{
	vx::core::Quantizer q;

	q.dims = meta->code_dimensions;
	q.bits = meta->bits;
	q.seed = meta->seed;
	q.set_center(center);
	q.bitplane_dot = vx::kernels::active().bitplane_dot;
	q.code_dot = vx::kernels::active().code_dot;
	return q;
}

/* Bind the quantizer of di to its meta and center. */
static void
DiskannBindQuantizer(DiskannIndex di)
{
	di->quantizer = DiskannQuantizerFor(&di->meta, di->center);
	di->est_metric = di->meta.metric == VX_METRIC_L2 ? vx::core::EstimateMetric::L2sq : vx::core::EstimateMetric::NegIp;
}

/*
 * Open an index for searching or inserting (in the current memory context):
 * metapage, distance, quantizer with its center, scratch.
 */
void
DiskannOpenIndex(DiskannIndex di, Relation index)
{
	MemSet(di, 0, sizeof(*di));
	di->index = index;
	DiskannReadMeta(index, &di->meta);
	VxInitDistance(&di->dist, (VxElemKind) di->meta.elem_kind, (VxMetric) di->meta.metric, di->meta.dimensions);
	di->center = (float *) palloc(sizeof(float) * di->meta.code_dimensions);
	DiskannReadCenter(index, &di->meta, di->center);
	di->center_of_empty = di->meta.next_id == 0;
	DiskannBindQuantizer(di);
	di->work = (float *) palloc(sizeof(float) * Max(di->quantizer.work_floats(), (size_t) 1));
	di->fvec = (float *) palloc(sizeof(float) * di->meta.code_dimensions);
	di->recent = VxRecentTableFor(index);
}

/*
 * Node page blkno pinned (not locked): re-pinned where the backend last saw
 * it, without the buffer-mapping lookup, else read and its type checked.
 */
Buffer
DiskannPinNodePage(DiskannIndex di, BlockNumber blkno)
{
	bool fresh;
	Buffer buf = VxRecentRead(di->index, di->recent, blkno, &fresh);

	if (fresh) {
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		DiskannCheckPage(di->index, BufferGetPage(buf), DISKANN_PAGE_NODE, blkno);
		LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	}
	return buf;
}

/*
 * Start fetching node id: when its page was seen recently, the buffer
 * descriptor and the lines of the record's header and code (no pin, no
 * lock: a hint);
 * else a read of the block (PrefetchBuffer: the OS reads it ahead when it is
 * not in shared buffers), so the nodes of one hop are fetched together.
 */
void
DiskannPrefetchNode(DiskannIndex di, DiskannId id)
{
	BlockNumber blkno = DiskannNodeBlock(&di->meta, id);
	Buffer buf = VxRecentPeek(di->recent, blkno);

	if (BufferIsValid(buf) && !BufferIsLocal(buf)) {
		__builtin_prefetch(GetBufferDescriptor(buf - 1), 1, 3);
		/* what an estimate reads */
		vx::core::prefetch_bytes(DiskannNodeOf(BufferGetPage(buf), &di->meta, id),
								 DISKANN_NODE_HEADER_SIZE + di->meta.code_bytes);
	} else
		PrefetchBuffer(di->index, MAIN_FORKNUM, blkno);
}

/* Re-read the mutable part of the metapage (entry point, next_id). */
void
DiskannIndexRefreshMeta(DiskannIndex di)
{
	DiskannReadMeta(di->index, &di->meta);
	if (di->center_of_empty && di->meta.next_id > 0) {
		/* the first insert set the center since it was read (DiskannSetCenter) */
		DiskannReadCenter(di->index, &di->meta, di->center);
		di->quantizer.set_center(di->center);
		di->center_of_empty = false;
	}
}

/* The quantized part (the first code_dimensions elements) of a vector or halfvec datum, as float32. */
void
DiskannToFloat(DiskannIndex di, const char *datum, float *out)
{
	if (di->meta.elem_kind == VX_ELEM_F16)
		vx::kernels::active().f16_to_f32((const uint16_t *) ((const HalfVector *) datum)->x, out,
										 di->meta.code_dimensions);
	else
		memcpy(out, ((const Vector *) datum)->x, sizeof(float) * di->meta.code_dimensions);
}

/* Code and factors of a (prepared) datum. */
void
DiskannEncode(DiskannIndex di, const char *datum, uint8 *code, vx::core::CodeFactors *factors)
{
	DiskannToFloat(di, datum, di->fvec);
	di->quantizer.encode(di->fvec, code, factors, di->work);
}

/* Estimated squared L2 distance between two nodes (what pruning compares). */
float
DiskannPairL2(const DiskannIndexData *di, const DiskannNode *a, const DiskannNode *b)
{
	return di->quantizer.estimate_pair(DiskannNodeCode((DiskannNode *) a), *DiskannNodeFactors(a),
									   DiskannNodeCode((DiskannNode *) b), *DiskannNodeFactors(b),
									   vx::core::EstimateMetric::L2sq);
}

/* Whether node flags are one of the defined values. */
uint32
DiskannNodeFlagsValid(uint8 flags)
{
	return flags == DISKANN_NODE_UNUSED || flags == DISKANN_NODE_LIVE || flags == DISKANN_NODE_DELETED;
}

/* Copy node id's header and code (and its neighbour ids into ids, if not NULL); false if id is not below next_id. */
bool
DiskannReadNode(DiskannIndex di, DiskannId id, char *bytes, DiskannId *ids, int *nids)
{
	const DiskannMetaPageData *meta = &di->meta;
	BlockNumber blkno = DiskannNodeBlock(meta, id);
	Buffer buf;
	Page page;
	DiskannNode *node;

	if (id >= meta->next_id)
		return false;
	buf = DiskannPinNodePage(di, blkno);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	node = DiskannNodeOf(page, meta, id);
	memcpy(bytes, node, DISKANN_NODE_HEADER_SIZE + meta->code_bytes);
	if (ids != NULL) {
		*nids = Min((int) node->nneighbors, (int) meta->num_neighbors);
		memcpy(ids, DiskannNodeNeighbors(node, meta), sizeof(DiskannId) * *nids);
	}
	UnlockReleaseBuffer(buf);
	return true;
}
