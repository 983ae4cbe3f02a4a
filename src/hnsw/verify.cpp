/*
 * verify.cpp -- vx_hnsw_verify(index regclass, tolerance float8): an
 * amcheck-style structural check of an hnsw index. It returns one row of text
 * per problem found; no rows means the index is healthy.
 *
 * The walk, in passes over the pages (each page share-locked alone and only
 * while it is read, except that a graph page stays share-locked while the
 * vector pages of its group are read, which follows the AM's lock order
 * graph < vector; the vector pages of a slot that straddles pages are
 * share-locked together, in block order, as readers of the AM do):
 *   1. metapage: page header, magic, format version, the geometry recomputed
 *      from (kind, metric, dimensions, m, ef_construction) and compared field
 *      by field, agreement with the opclass and the column's dimensions,
 *      entry point and free-list head in range, enough blocks for every
 *      allocated id;
 *   2. blocks: every block's page_id and page type as HnswBlockType predicts,
 *      fixed arrays (records; the page's part of the slot stream) covered by
 *      pd_lower; a new (all-zero) page only above the
 *      last block an allocated id needs (a crash after extending);
 *   3. elements (ids below next_id, per extent): record flags valid; for
 *      LIVE/DELETED records level <= HnswGetMaxLevel(m), nneighbors <= 2m,
 *      version != 0, a valid heap TID, the vector slot's version equal to the
 *      record's and its datum of the index's dimensions; then the extent's
 *      upper page: items well-formed (unused line pointers are those of items
 *      vacuum removed), and an item of the element's level at the record's
 *      upper_offset iff the level is >= 1;
 *   4. links: every level-0 and upper list: counts within capacity, ids below
 *      next_id, not the element itself, no duplicates, naming a record that
 *      was in the graph at some time (never one that was never written);
 *   5. entry point: in the graph, at entry_level (and none iff no element);
 *   6. reachability: a breadth-first walk of the level-0 lists from the entry
 *      point (through DELETED elements too, as scans do);
 *   7. free list: from free_head, only UNUSED records, ids below next_id, no
 *      cycle.
 *
 * Soft findings cost recall, not validity, and a healthy graph can have a
 * few; each kind is reported only when its count exceeds tolerance times the
 * number of LIVE elements (default 0.01; 0 reports every one):
 *   - LIVE elements not reachable from the entry point at level 0 (an HNSW
 *     graph can leave an element without incoming links; README: about 2 in
 *     50k);
 *   - links to freed ids (an UNUSED record that was written once: version
 *     > 0) and upper-level links to an element whose level is now lower: a
 *     link an insert wrote while VACUUM repaired and freed (vacuum.cpp calls
 *     it an odd edge), or one whose repair VACUUM gave up after races.
 *
 * Documented crash states are not problems: an allocated id whose record is
 * still UNUSED (leaked), an upper item that belongs to no record (leaked
 * reservation), initialized or all-zero pages beyond the last allocated id,
 * an element whose level exceeds entry_level (crash before the entry point
 * update), and missing back-links.
 *
 * Concurrency: the metapage is read once; ids allocated afterwards are not
 * checked. A link that pass 4 finds to a record not in the graph, or at or
 * above next_id, is read again before it is judged (a concurrent insert may
 * have written it since); the free list is judged only if free_head did not
 * change during the walk. So concurrent inserts and VACUUM cause no hard
 * reports; soft counts are exact only on a quiescent index.
 *
 * Memory: about 9 bytes per element (flags, level, upper offset, visited bit,
 * BFS queue) in a private memory context; at most VX_VERIFY_MAX_ROWS rows
 * are returned, then one row counts the rest (the result set, the tolerance
 * argument and the checks on opening the index are include/vx/am/verify.h's).
 */
#include "vx/pg.h"

#include "vx/am/verify.h"
#include "vx/hnsw/hnsw.h"

/* What a pass learned about each id below next_id. */
typedef struct HnswVerifyState
{
	Relation index;
	HnswMetaPageData meta; /* as read at the start */
	BlockNumber nblocks;
	BlockNumber last_needed; /* last block an allocated id needs, or 0 */
	int max_level;
	BufferAccessStrategy strategy;

	uint8 *flags;				 /* record flags as read in pass 3 */
	uint8 *levels;				 /* record levels as read in pass 3 */
	OffsetNumber *upper_offsets; /* record upper_offset as read in pass 3 */
	uint64 nlive;
	uint64 ndeleted;
	uint64 nunused;
	uint64 nleaked_items;

	/* soft findings (reported above tolerance * nlive) */
	double tolerance;
	uint64 nstale;		  /* links to freed ids */
	char *first_stale;	  /* description of the first one */
	uint64 nlow;		  /* upper links to elements of a lower level */
	char *first_low;

	VxVerifyOutput out; /* the result rows (include/vx/am/verify.h) */
	char *page; /* BLCKSZ scratch for page copies */
	char *datum; /* vector_slot_size scratch for a slot's datum */
} HnswVerifyState;

/* Whether record flags name an element in the graph. */
static inline bool
HnswVerifyInGraph(uint8 flags)
{
	return flags == HNSW_RECORD_LIVE || flags == HNSW_RECORD_DELETED;
}

/* Read block blkno pinned and share-locked (the caller unlocks and releases). */
static Buffer
HnswVerifyRead(HnswVerifyState *vs, BlockNumber blkno)
{
	Buffer buf = ReadBufferExtended(vs->index, MAIN_FORKNUM, blkno, RBM_NORMAL, vs->strategy);

	/* share lock: concurrent inserts and vacuum change these pages under exclusive locks */
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	return buf;
}

/* Copy block blkno into vs->page under a share lock held only for the copy. */
static Page
HnswVerifyCopy(HnswVerifyState *vs, BlockNumber blkno)
{
	Buffer buf = HnswVerifyRead(vs, blkno);

	memcpy(vs->page, BufferGetPage(buf), BLCKSZ);
	UnlockReleaseBuffer(buf);
	return (Page) vs->page;
}

/* ---- pass 1: metapage ---- */

/* Whether the metapage's identity fields are usable for the geometry recomputation. */
static bool
HnswVerifyMetaFields(HnswVerifyState *vs, const HnswMetaPageData *meta)
{
	uint32 max_dimensions;
	bool ok = true;

	if (meta->elem_kind < VX_ELEM_F32 || meta->elem_kind > VX_ELEM_SPARSE) {
		VxVerifyReport(&vs->out, "metapage: element kind %u is unknown", meta->elem_kind);
		ok = false;
	}
	if (meta->metric < VX_METRIC_L2 || meta->metric > VX_METRIC_JACCARD) {
		VxVerifyReport(&vs->out, "metapage: metric %u is unknown", meta->metric);
		ok = false;
	}
	max_dimensions = meta->elem_kind == VX_ELEM_BIT ? HNSW_MAX_BIT_DIM
					 : meta->elem_kind == VX_ELEM_SPARSE ? (uint32) INT32_MAX
														 : HNSW_MAX_DIM;
	if (meta->dimensions < 1 || meta->dimensions > max_dimensions) {
		VxVerifyReport(&vs->out, "metapage: dimensions %u out of range", meta->dimensions);
		ok = false;
	}
	if (meta->m < HNSW_MIN_M || meta->m > HNSW_MAX_M) {
		VxVerifyReport(&vs->out, "metapage: m %u out of range %d..%d", meta->m, HNSW_MIN_M, HNSW_MAX_M);
		ok = false;
	}
	if (meta->ef_construction < HNSW_MIN_EF_CONSTRUCTION || meta->ef_construction > HNSW_MAX_EF_CONSTRUCTION) {
		VxVerifyReport(&vs->out, "metapage: ef_construction %u out of range %d..%d", meta->ef_construction,
					   HNSW_MIN_EF_CONSTRUCTION, HNSW_MAX_EF_CONSTRUCTION);
		ok = false;
	}
	return ok;
}

/* Compare one geometry field with its recomputed value. */
static bool
HnswVerifyGeometryField(HnswVerifyState *vs, const char *name, uint32 have, uint32 want)
{
	if (have == want)
		return true;
	VxVerifyReport(&vs->out, "metapage: %s is %u, the geometry gives %u", name, have, want);
	return false;
}

/* Check the metapage; false when nothing else can be checked. */
static bool
HnswVerifyMeta(HnswVerifyState *vs)
{
	HnswMetaPageData *meta = &vs->meta;
	HnswMetaPageData want;
	Page page;
	HnswPageOpaque opaque;
	const VxTypeInfo *typeinfo;
	bool ok = true;

	if (vs->nblocks == 0) {
		VxVerifyReport(&vs->out, "metapage: the index has no blocks");
		return false;
	}
	page = HnswVerifyCopy(vs, HNSW_METAPAGE_BLKNO);
	opaque = HnswPageGetOpaque(page);
	if (PageIsNew(page)) {
		VxVerifyReport(&vs->out, "metapage: block 0 is uninitialized");
		return false;
	}
	/* pgvector's metapage has its own page id: say what it is, as the AM's metapage check does */
	if (HnswPageGetMeta(page)->magic == HNSW_PGVECTOR_MAGIC) {
		VxVerifyReport(&vs->out, "metapage: magic %08X, expected %08X (built by pgvector)", HNSW_PGVECTOR_MAGIC,
					   HNSW_MAGIC);
		return false;
	}
	if (opaque->page_id != HNSW_PAGE_ID || opaque->page_type != HNSW_PAGE_META) {
		VxVerifyReport(&vs->out, "metapage: block 0 has page id %04X and type %u, expected %04X and %u",
					   opaque->page_id, opaque->page_type, HNSW_PAGE_ID, HNSW_PAGE_META);
		return false;
	}
	memcpy(meta, HnswPageGetMeta(page), sizeof(HnswMetaPageData));
	/* counted after the metapage: inserts extend the relation before they advance next_id */
	vs->nblocks = RelationGetNumberOfBlocks(vs->index);
	if (meta->magic != HNSW_MAGIC) {
		VxVerifyReport(&vs->out, "metapage: magic %08X, expected %08X", meta->magic, HNSW_MAGIC);
		return false;
	}
	if (meta->version != HNSW_VERSION) {
		VxVerifyReport(&vs->out, "metapage: format version %u, expected %u", meta->version, HNSW_VERSION);
		return false;
	}
	if (((PageHeader) page)->pd_lower < (PageGetContents(page) - page) + sizeof(HnswMetaPageData))
		VxVerifyReport(&vs->out, "metapage: pd_lower %u does not cover the metapage contents",
					   ((PageHeader) page)->pd_lower);
	if (!HnswVerifyMetaFields(vs, meta))
		return false;
	vs->max_level = HnswGetMaxLevel(meta->m);

	HnswComputeGeometry(&want, (VxElemKind) meta->elem_kind, (VxMetric) meta->metric, meta->dimensions, meta->m,
						meta->ef_construction);
	ok &= HnswVerifyGeometryField(vs, "record_size", meta->record_size, want.record_size);
	ok &= HnswVerifyGeometryField(vs, "records_per_page", meta->records_per_page, want.records_per_page);
	ok &= HnswVerifyGeometryField(vs, "vector_slot_size", meta->vector_slot_size, want.vector_slot_size);
	ok &= HnswVerifyGeometryField(vs, "slots_per_run", meta->slots_per_run, want.slots_per_run);
	ok &= HnswVerifyGeometryField(vs, "pages_per_run", meta->pages_per_run, want.pages_per_run);
	ok &= HnswVerifyGeometryField(vs, "vector_pages_per_group", meta->vector_pages_per_group,
								  want.vector_pages_per_group);
	ok &= HnswVerifyGeometryField(vs, "groups_per_extent", meta->groups_per_extent, want.groups_per_extent);
	if (!ok)
		return false;

	/* what the catalog says the index is */
	typeinfo = VxGetTypeInfo(vs->index, HNSW_TYPE_INFO_PROC);
	if (typeinfo->kind != meta->elem_kind)
		VxVerifyReport(&vs->out, "metapage: element kind %u, the opclass indexes kind %u", meta->elem_kind,
					   typeinfo->kind);
	else if (VxGetMetric(vs->index, typeinfo->kind, "hnsw") != meta->metric)
		VxVerifyReport(&vs->out, "metapage: metric %u, the opclass has metric %u", meta->metric,
					   VxGetMetric(vs->index, typeinfo->kind, "hnsw"));
	/*
	 * ALTER TABLE ... TYPE vector (dropping the typmod) keeps the index, so
	 * only a column that still has dimensions must agree. m and
	 * ef_construction are not compared with the reloptions: ALTER INDEX ...
	 * SET changes those without a rebuild, and the metapage's values stay the
	 * index's until the next REINDEX.
	 */
	if (TupleDescAttr(vs->index->rd_att, 0)->atttypmod >= 0 &&
		(int32) meta->dimensions != TupleDescAttr(vs->index->rd_att, 0)->atttypmod)
		VxVerifyReport(&vs->out, "metapage: dimensions %u, the column has %d", meta->dimensions,
					   TupleDescAttr(vs->index->rd_att, 0)->atttypmod);

	/* mutable state */
	if (meta->entry_id == HNSW_INVALID_ID) {
		if (meta->entry_level != -1)
			VxVerifyReport(&vs->out, "metapage: no entry point but entry_level %d", meta->entry_level);
	} else {
		if (meta->entry_id >= meta->next_id)
			VxVerifyReport(&vs->out, "metapage: entry point %u is not below next_id %u", meta->entry_id, meta->next_id);
		if (meta->entry_level < 0 || meta->entry_level > vs->max_level)
			VxVerifyReport(&vs->out, "metapage: entry_level %d out of range 0..%d", meta->entry_level, vs->max_level);
	}
	if (meta->free_head != HNSW_INVALID_ID && meta->free_head >= meta->next_id)
		VxVerifyReport(&vs->out, "metapage: free_head %u is not below next_id %u", meta->free_head, meta->next_id);
	if (meta->next_id == HNSW_INVALID_ID) {
		VxVerifyReport(&vs->out, "metapage: next_id is the invalid id");
		return false;
	}

	vs->last_needed = meta->next_id > 0 ? HnswLastBlockOf(meta, meta->next_id - 1) : 0;
	if (vs->last_needed >= vs->nblocks) {
		VxVerifyReport(&vs->out, "metapage: next_id %u needs block %u, the index has %u blocks", meta->next_id,
					   vs->last_needed, vs->nblocks);
		return false;
	}
	return true;
}

/* ---- pass 2: blocks ---- */

/* Check every block's identity and fixed-array coverage. */
static void
HnswVerifyBlocks(HnswVerifyState *vs)
{
	const HnswMetaPageData *meta = &vs->meta;
	Size graph_bytes = (Size) meta->records_per_page * meta->record_size;

	for (BlockNumber blkno = 1; blkno < vs->nblocks; blkno++) {
		Page page;
		HnswPageOpaque opaque;
		uint16 want = HnswBlockType(meta, blkno);
		Size need = 0;

		CHECK_FOR_INTERRUPTS();
		page = HnswVerifyCopy(vs, blkno);
		if (PageIsNew(page)) {
			/* a crash between extending the relation and logging the page leaves zeros */
			if (meta->next_id > 0 && blkno <= vs->last_needed)
				VxVerifyReport(&vs->out, "block %u: uninitialized, but allocated ids need blocks up to %u", blkno,
							   vs->last_needed);
			continue;
		}
		opaque = HnswPageGetOpaque(page);
		if (((PageHeader) page)->pd_special != BLCKSZ - MAXALIGN(sizeof(HnswPageOpaqueData)) ||
			opaque->page_id != HNSW_PAGE_ID) {
			VxVerifyReport(&vs->out, "block %u: not an hnsw page (special %u, page id %04X)", blkno,
						   ((PageHeader) page)->pd_special, opaque->page_id);
			continue;
		}
		if (opaque->page_type != want) {
			VxVerifyReport(&vs->out, "block %u: page type %u, the geometry gives %u", blkno, opaque->page_type, want);
			continue;
		}
		if (want == HNSW_PAGE_GRAPH)
			need = graph_bytes;
		else if (want == HNSW_PAGE_VECTOR)
			need = HnswVectorPageBytes(meta, blkno);
		if (((PageHeader) page)->pd_lower < (PageGetContents(page) - page) + need)
			VxVerifyReport(&vs->out, "block %u: pd_lower %u does not cover the page's %zu bytes of slots", blkno,
						   ((PageHeader) page)->pd_lower, need);
	}
}

/* ---- pass 3: elements ---- */

/* Check a vector slot read as (slot_version, datum) against its element's record version. */
static void
HnswVerifySlot(HnswVerifyState *vs, HnswId id, uint32 slot_version, const char *datum, uint32 version)
{
	const HnswMetaPageData *meta = &vs->meta;
	Size max_size = meta->vector_slot_size - HNSW_VECTOR_HEADER_SIZE;
	uint32 dimensions;

	if (slot_version != version) {
		VxVerifyReport(&vs->out, "element %u: vector slot version %u, record version %u", id, slot_version, version);
		return;
	}
	if (VARATT_IS_EXTENDED(datum) || VARSIZE_ANY(datum) > max_size) {
		VxVerifyReport(&vs->out, "element %u: stored datum of %zu bytes does not fit its %zu-byte slot", id,
					   (Size) VARSIZE_ANY(datum), max_size);
		return;
	}
	dimensions = VxElemTraitsOf((VxElemKind) meta->elem_kind)->dimensions(datum);
	if (dimensions != meta->dimensions)
		VxVerifyReport(&vs->out, "element %u: stored vector has %u dimensions, the index %u", id, dimensions,
					   meta->dimensions);
}

/*
 * The vector pages a group's check holds share-locked: blocks first ..
 * first + n - 1, a window that only moves forward (slots come in block
 * order), so its locks are taken in block order.
 */
typedef struct HnswVerifyWindow
{
	BlockNumber first;
	uint32 n;
	Buffer bufs[HNSW_MAX_SLOT_PAGES];
} HnswVerifyWindow;

/* Move the window to blocks [blkno, blkno + n): release those below, lock the new ones above. */
static void
HnswVerifyWindowMove(HnswVerifyState *vs, HnswVerifyWindow *w, BlockNumber blkno, uint32 n)
{
	uint32 drop = 0;

	while (drop < w->n && w->first + drop < blkno)
		UnlockReleaseBuffer(w->bufs[drop++]);
	if (drop == w->n) {
		w->first = blkno;
		w->n = 0;
	} else {
		memmove(w->bufs, w->bufs + drop, (w->n - drop) * sizeof(Buffer));
		w->first += drop;
		w->n -= drop;
	}
	while (w->n < n) {
		w->bufs[w->n] = HnswVerifyRead(vs, w->first + w->n);
		w->n++;
	}
}

/* Check the records of the group starting at first (count ids) and their vector slots. */
static void
HnswVerifyGroup(HnswVerifyState *vs, HnswId first, uint32 count)
{
	const HnswMetaPageData *meta = &vs->meta;
	HnswAddress a = HnswAddressOf(meta, first);
	Buffer gbuf = HnswVerifyRead(vs, a.graph_block);
	Page gpage = BufferGetPage(gbuf);
	HnswVerifyWindow w;

	/* pass 2 reported a page of the wrong kind; its contents mean nothing */
	if (PageIsNew(gpage) || HnswPageGetOpaque(gpage)->page_type != HNSW_PAGE_GRAPH) {
		UnlockReleaseBuffer(gbuf);
		for (uint32 i = 0; i < count; i++)
			vs->flags[first + i] = HNSW_RECORD_UNUSED;
		return;
	}

	w.first = a.graph_block + 1;
	w.n = 0;
	for (uint32 i = 0; i < count; i++) {
		HnswId id = first + i;
		HnswGraphRecord *rec = HnswRecordAt(gpage, meta, i);
		HnswAddress ea = HnswAddressOf(meta, id);
		Page pages[HNSW_MAX_SLOT_PAGES];
		uint32 slot_version;
		bool readable = true;

		vs->flags[id] = rec->flags;
		vs->levels[id] = rec->level;
		vs->upper_offsets[id] = rec->upper_offset;
		if (rec->flags == HNSW_RECORD_UNUSED) {
			vs->nunused++;
			continue;
		}
		if (!HnswVerifyInGraph(rec->flags)) {
			VxVerifyReport(&vs->out, "element %u: invalid record flags 0x%02X", id, rec->flags);
			continue;
		}
		if (rec->flags == HNSW_RECORD_LIVE)
			vs->nlive++;
		else
			vs->ndeleted++;

		if (rec->level > vs->max_level)
			VxVerifyReport(&vs->out, "element %u: level %u above the maximum %d", id, rec->level, vs->max_level);
		if (rec->nneighbors > 2 * meta->m)
			VxVerifyReport(&vs->out, "element %u: %u level-0 neighbours, capacity %u", id, rec->nneighbors,
						   2 * meta->m);
		if (!ItemPointerIsValid(&rec->heap_tid))
			VxVerifyReport(&vs->out, "element %u: invalid heap TID", id);
		if ((rec->level >= 1) != (rec->upper_offset != InvalidOffsetNumber))
			VxVerifyReport(&vs->out, "element %u: level %u with upper item offset %u", id, rec->level,
						   rec->upper_offset);
		if (rec->version == 0) {
			VxVerifyReport(&vs->out, "element %u: record version 0", id);
			continue;
		}

		/* the slot's vector pages, share-locked under the graph page's lock (lock order graph < vector) */
		HnswVerifyWindowMove(vs, &w, ea.vector_block, ea.vector_pages);
		for (uint32 p = 0; p < ea.vector_pages; p++) {
			pages[p] = BufferGetPage(w.bufs[p]);
			if (PageIsNew(pages[p]) || HnswPageGetOpaque(pages[p])->page_type != HNSW_PAGE_VECTOR)
				readable = false; /* reported by pass 2 */
		}
		if (!readable)
			continue;
		HnswReadSlot(pages, meta, ea.vector_offset, &slot_version, vs->datum);
		HnswVerifySlot(vs, id, slot_version, vs->datum, rec->version);
	}
	HnswVerifyWindowMove(vs, &w, InvalidBlockNumber, 0);
	UnlockReleaseBuffer(gbuf);
}

/*
 * What is wrong between element id's record and its upper item as of now
 * (NULL: nothing). Both pages are share-locked together, upper page first
 * (the AM's block order), so that no insert or vacuum is halfway between
 * them: inserts write a record and its item in one step, vacuum frees both
 * in one step.
 */
static char *
HnswVerifyUpperNow(HnswVerifyState *vs, HnswId id)
{
	const HnswMetaPageData *meta = &vs->meta;
	HnswAddress a = HnswAddressOf(meta, id);
	Buffer ubuf = HnswVerifyRead(vs, a.upper_block);
	Buffer gbuf = HnswVerifyRead(vs, a.graph_block);
	Page upage = BufferGetPage(ubuf);
	HnswGraphRecord *rec = HnswRecordAt(BufferGetPage(gbuf), meta, a.record_index);
	char *problem = NULL;

	if (HnswVerifyInGraph(rec->flags) && rec->level >= 1) {
		OffsetNumber off = rec->upper_offset;
		ItemId iid = off >= FirstOffsetNumber && off <= PageGetMaxOffsetNumber(upage) ? PageGetItemId(upage, off) : NULL;
		HnswUpperItem *item = iid != NULL && ItemIdIsNormal(iid) && ItemIdGetLength(iid) >= sizeof(HnswUpperItem)
								  ? (HnswUpperItem *) PageGetItem(upage, iid)
								  : NULL;

		if (item == NULL || item->id != id)
			problem = psprintf("element %u: level %u but no upper item of its own at offset %u of block %u", id,
							   rec->level, off, a.upper_block);
		else if (item->level != rec->level)
			problem = psprintf("element %u: upper item has level %u, record level %u", id, item->level, rec->level);
	}
	UnlockReleaseBuffer(gbuf);
	UnlockReleaseBuffer(ubuf);
	return problem;
}

/* Report what HnswVerifyUpperNow finds for id (a mismatch seen in copies taken at different times). */
static void
HnswVerifyUpperRecheck(HnswVerifyState *vs, HnswId id)
{
	char *problem = HnswVerifyUpperNow(vs, id);

	if (problem != NULL)
		VxVerifyReport(&vs->out, "%s", problem);
}

/*
 * Check the upper page of the extent whose ids start at first (count ids
 * below next_id), after its records were read: an item added before a record
 * was written is then always in the copy. A mismatch between a record and
 * the copy is checked again with both pages locked (VACUUM may have freed
 * the element, and an insert reused its id, in between).
 */
static void
HnswVerifyUpperPage(HnswVerifyState *vs, HnswId first, uint32 count)
{
	const HnswMetaPageData *meta = &vs->meta;
	HnswAddress a = HnswAddressOf(meta, first);
	uint32 per_extent = HnswExtentElements(meta);
	Page page = HnswVerifyCopy(vs, a.upper_block);
	OffsetNumber maxoff;
	uint8 *found = (uint8 *) palloc0(count);

	if (PageIsNew(page) || HnswPageGetOpaque(page)->page_type != HNSW_PAGE_UPPER) {
		pfree(found);
		return; /* reported by pass 2 */
	}
	maxoff = PageGetMaxOffsetNumber(page);
	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++) {
		ItemId iid = PageGetItemId(page, off);
		HnswUpperItem *item;

		if (!ItemIdIsUsed(iid))
			continue; /* an item vacuum removed */
		if (!ItemIdIsNormal(iid)) {
			VxVerifyReport(&vs->out, "block %u: upper item %u is not a normal item", a.upper_block, off);
			continue;
		}
		if (ItemIdGetLength(iid) < sizeof(HnswUpperItem) ||
			ItemIdGetOffset(iid) + ItemIdGetLength(iid) > ((PageHeader) page)->pd_special) {
			VxVerifyReport(&vs->out, "block %u: upper item %u has a bad length %u", a.upper_block, off,
						   ItemIdGetLength(iid));
			continue;
		}
		item = (HnswUpperItem *) PageGetItem(page, iid);
		if (item->level < 1 || item->level > vs->max_level ||
			ItemIdGetLength(iid) != HnswUpperItemSize(meta->m, item->level)) {
			VxVerifyReport(&vs->out, "block %u: upper item %u has level %u and length %u", a.upper_block, off,
						   item->level, ItemIdGetLength(iid));
			continue;
		}
		if (item->id < first || item->id >= first + per_extent) {
			VxVerifyReport(&vs->out, "block %u: upper item %u belongs to element %u of another extent", a.upper_block,
						   off, item->id);
			continue;
		}
		if (item->id >= first + count)
			continue; /* allocated after the metapage was read */
		if (!HnswVerifyInGraph(vs->flags[item->id]) || vs->upper_offsets[item->id] != off) {
			vs->nleaked_items++; /* a reservation whose insert never completed */
			continue;
		}
		found[item->id - first] = 1;
		if (item->level != vs->levels[item->id])
			HnswVerifyUpperRecheck(vs, item->id);
		for (int l = 1; l <= item->level; l++)
			if (HnswUpperListAt(item, meta->m, l)->count > meta->m)
				VxVerifyReport(&vs->out, "element %u: %u neighbours at level %d, capacity %u", item->id,
							   HnswUpperListAt(item, meta->m, l)->count, l, meta->m);
	}

	for (uint32 i = 0; i < count; i++) {
		HnswId id = first + i;

		if (HnswVerifyInGraph(vs->flags[id]) && vs->levels[id] >= 1 && !found[i])
			HnswVerifyUpperRecheck(vs, id);
	}
	pfree(found);
}

/* Check every record, vector slot and upper item of ids below next_id. */
static void
HnswVerifyElements(HnswVerifyState *vs)
{
	const HnswMetaPageData *meta = &vs->meta;
	uint32 per_extent = HnswExtentElements(meta);

	for (HnswId ext = 0; ext < meta->next_id; ext += per_extent) {
		uint32 ext_count = Min(per_extent, meta->next_id - ext);

		for (uint32 g = 0; g < ext_count; g += meta->records_per_page) {
			CHECK_FOR_INTERRUPTS();
			HnswVerifyGroup(vs, ext + g, Min(meta->records_per_page, ext_count - g));
		}
		HnswVerifyUpperPage(vs, ext, ext_count);
	}
}

/* ---- pass 4: links ---- */

/* Flags and version of id's record as of now (re-read), and the current next_id. */
static uint8
HnswVerifyRecheck(HnswVerifyState *vs, HnswId id, HnswId *next_id, uint32 *version)
{
	HnswMetaPageData now;
	HnswAddress a;
	Buffer buf;
	uint8 flags = HNSW_RECORD_UNUSED;

	*version = 0;
	HnswReadMeta(vs->index, &now);
	*next_id = now.next_id;
	if (id >= now.next_id)
		return HNSW_RECORD_UNUSED;
	a = HnswAddressOf(&vs->meta, id);
	if (a.graph_block >= RelationGetNumberOfBlocks(vs->index))
		return HNSW_RECORD_UNUSED;
	buf = HnswVerifyRead(vs, a.graph_block);
	if (!PageIsNew(BufferGetPage(buf)) && HnswPageGetOpaque(BufferGetPage(buf))->page_type == HNSW_PAGE_GRAPH) {
		HnswGraphRecord *rec = HnswRecordAt(BufferGetPage(buf), &vs->meta, a.record_index);

		flags = rec->flags;
		*version = rec->version;
	}
	UnlockReleaseBuffer(buf);
	return flags;
}

/* Check one neighbour list of element id at level (n ids). */
static void
HnswVerifyList(HnswVerifyState *vs, HnswId id, int level, const HnswId *ids, int n)
{
	const HnswMetaPageData *meta = &vs->meta;

	for (int i = 0; i < n; i++) {
		HnswId nb = ids[i];

		if (nb == id) {
			VxVerifyReport(&vs->out, "element %u: links to itself at level %d", id, level);
			continue;
		}
		for (int j = 0; j < i; j++)
			if (ids[j] == nb) {
				VxVerifyReport(&vs->out, "element %u: neighbour %u appears twice at level %d", id, nb, level);
				break;
			}
		if (nb >= meta->next_id || !HnswVerifyInGraph(vs->flags[nb])) {
			/* maybe written by an insert after this walk read it: look again */
			HnswId next_id;
			uint32 version;
			uint8 flags = HnswVerifyRecheck(vs, nb, &next_id, &version);

			if (nb >= next_id)
				VxVerifyReport(&vs->out, "element %u: neighbour %u at level %d is not below next_id %u", id, nb, level,
							   next_id);
			else if (flags == HNSW_RECORD_UNUSED && version != 0) {
				/* a freed id: soft */
				if (vs->nstale++ == 0)
					vs->first_stale = psprintf("element %u -> %u at level %d", id, nb, level);
			} else if (!HnswVerifyInGraph(flags))
				VxVerifyReport(&vs->out, "element %u: neighbour %u at level %d is not in the graph (flags 0x%02X)", id,
							   nb, level, flags);
			continue;
		}
		if (vs->levels[nb] < level) {
			/* a link to a freed id that was reused at a lower level: soft */
			if (vs->nlow++ == 0)
				vs->first_low = psprintf("element %u -> %u at level %d, which has level %u", id, nb, level,
										 vs->levels[nb]);
		}
	}
}

/* Check every level-0 and upper neighbour list of the elements in the graph (page copies; rechecks do not touch them). */
static void
HnswVerifyLinks(HnswVerifyState *vs)
{
	const HnswMetaPageData *meta = &vs->meta;
	uint32 per_extent = HnswExtentElements(meta);

	for (HnswId ext = 0; ext < meta->next_id; ext += per_extent) {
		uint32 ext_count = Min(per_extent, meta->next_id - ext);
		Page page;

		for (uint32 g = 0; g < ext_count; g += meta->records_per_page) {
			HnswId first = ext + g;
			uint32 count = Min(meta->records_per_page, ext_count - g);

			CHECK_FOR_INTERRUPTS();
			page = HnswVerifyCopy(vs, HnswAddressOf(meta, first).graph_block);
			if (PageIsNew(page) || HnswPageGetOpaque(page)->page_type != HNSW_PAGE_GRAPH)
				continue;
			for (uint32 i = 0; i < count; i++) {
				HnswGraphRecord *rec = HnswRecordAt(page, meta, i);

				if (HnswVerifyInGraph(vs->flags[first + i]) && HnswVerifyInGraph(rec->flags))
					HnswVerifyList(vs, first + i, 0, rec->neighbors, Min((int) rec->nneighbors, 2 * (int) meta->m));
			}
		}

		page = HnswVerifyCopy(vs, HnswAddressOf(meta, ext).upper_block);
		if (PageIsNew(page) || HnswPageGetOpaque(page)->page_type != HNSW_PAGE_UPPER)
			continue;
		for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); off++) {
			ItemId iid = PageGetItemId(page, off);
			HnswUpperItem *item;

			if (!ItemIdIsNormal(iid) || ItemIdGetLength(iid) < sizeof(HnswUpperItem))
				continue;
			item = (HnswUpperItem *) PageGetItem(page, iid);
			/* only the items pass 3 matched to their record (so well-formed and of the record's level) */
			if (item->id < ext || item->id >= ext + ext_count || !HnswVerifyInGraph(vs->flags[item->id]) ||
				vs->upper_offsets[item->id] != off || vs->levels[item->id] != item->level ||
				item->level > vs->max_level || ItemIdGetLength(iid) != HnswUpperItemSize(meta->m, item->level))
				continue;
			for (int l = 1; l <= item->level; l++) {
				HnswUpperList *list = HnswUpperListAt(item, meta->m, l);

				HnswVerifyList(vs, item->id, l, list->ids, Min((int) list->count, (int) meta->m));
			}
		}
	}
}

/* ---- passes 5 to 7: entry point, reachability, free list ---- */

/* Whether a soft finding's count is to be reported. */
static bool
HnswVerifyOverTolerance(const HnswVerifyState *vs, uint64 count)
{
	return count > 0 && (double) count > vs->tolerance * (double) vs->nlive;
}

/* Report the soft link findings of pass 4 that exceed the tolerance. */
static void
HnswVerifySoftLinks(HnswVerifyState *vs)
{
	if (HnswVerifyOverTolerance(vs, vs->nstale))
		VxVerifyReport(&vs->out, "links: %lu links name freed ids (first: %s; tolerance %g)",
					   (unsigned long) vs->nstale, vs->first_stale, vs->tolerance);
	if (HnswVerifyOverTolerance(vs, vs->nlow))
		VxVerifyReport(&vs->out,
					   "links: %lu upper-level links name elements of a lower level (first: %s; tolerance %g)",
					   (unsigned long) vs->nlow, vs->first_low, vs->tolerance);
}

/* The entry point is an element in the graph at entry_level; none iff no id was allocated. */
static void
HnswVerifyEntry(HnswVerifyState *vs)
{
	const HnswMetaPageData *meta = &vs->meta;
	HnswId entry = meta->entry_id;
	HnswMetaPageData now;
	char *problem = NULL;

	if (entry == HNSW_INVALID_ID) {
		/* a crash before the first element's entry point update leaves it so: reported as unreachable */
		if (vs->nlive + vs->ndeleted > 0)
			problem = psprintf("entry point: none, but %lu elements are in the graph",
							   (unsigned long) (vs->nlive + vs->ndeleted));
	} else if (entry >= meta->next_id)
		return; /* reported by pass 1 */
	else if (!HnswVerifyInGraph(vs->flags[entry]))
		problem = psprintf("entry point: element %u is not in the graph (flags 0x%02X)", entry, vs->flags[entry]);
	else if (vs->levels[entry] != meta->entry_level)
		problem = psprintf("entry point: element %u has level %u, the metapage says %d", entry, vs->levels[entry],
						   meta->entry_level);
	if (problem == NULL)
		return;
	/* the records were read after the metapage: judge only if the entry point did not move meanwhile */
	HnswReadMeta(vs->index, &now);
	if (now.entry_id == meta->entry_id && now.entry_level == meta->entry_level)
		VxVerifyReport(&vs->out, "%s", problem);
}

/* Breadth-first walk of the level-0 lists from the entry point; reports too many unreachable LIVE elements. */
static void
HnswVerifyReachable(HnswVerifyState *vs)
{
	const HnswMetaPageData *meta = &vs->meta;
	HnswId n = meta->next_id;
	uint8 *visited;
	HnswId *queue;
	uint32 head = 0;
	uint32 tail = 0;
	uint64 unreachable = 0;
	HnswId first_unreachable = HNSW_INVALID_ID;

	if (vs->nlive == 0)
		return;
	visited = (uint8 *) MemoryContextAllocHuge(CurrentMemoryContext, n / 8 + 1);
	MemSet(visited, 0, n / 8 + 1);
	queue = (HnswId *) MemoryContextAllocHuge(CurrentMemoryContext, (Size) n * sizeof(HnswId));

	if (meta->entry_id < n && HnswVerifyInGraph(vs->flags[meta->entry_id])) {
		visited[meta->entry_id / 8] |= 1 << (meta->entry_id % 8);
		queue[tail++] = meta->entry_id;
	}
	while (head < tail) {
		HnswId id = queue[head++];
		HnswAddress a = HnswAddressOf(meta, id);
		Buffer buf;
		HnswGraphRecord *rec;
		int count;

		CHECK_FOR_INTERRUPTS();
		buf = HnswVerifyRead(vs, a.graph_block);
		rec = HnswRecordAt(BufferGetPage(buf), meta, a.record_index);
		count = HnswVerifyInGraph(rec->flags) ? Min((int) rec->nneighbors, 2 * (int) meta->m) : 0;
		for (int i = 0; i < count; i++) {
			HnswId nb = rec->neighbors[i];

			/* UNUSED or out-of-range neighbours were reported by pass 4; scans skip them too */
			if (nb >= n || !HnswVerifyInGraph(vs->flags[nb]) || (visited[nb / 8] & (1 << (nb % 8))))
				continue;
			visited[nb / 8] |= 1 << (nb % 8);
			queue[tail++] = nb;
		}
		UnlockReleaseBuffer(buf);
	}

	for (HnswId id = 0; id < n; id++)
		if (vs->flags[id] == HNSW_RECORD_LIVE && !(visited[id / 8] & (1 << (id % 8)))) {
			if (unreachable++ == 0)
				first_unreachable = id;
		}
	if (HnswVerifyOverTolerance(vs, unreachable))
		VxVerifyReport(&vs->out,
					   "reachability: %lu of %lu live elements are not reachable from the entry point at level 0 "
					   "(first: element %u; tolerance %g)",
					   (unsigned long) unreachable, (unsigned long) vs->nlive, first_unreachable, vs->tolerance);
	elog(DEBUG1,
		 "hnsw verify of \"%s\": %lu live, %lu deleted, %lu unused, %lu unreachable, %lu leaked upper items, "
		 "%lu links to freed ids, %lu links to lower levels",
		 RelationGetRelationName(vs->index), (unsigned long) vs->nlive, (unsigned long) vs->ndeleted,
		 (unsigned long) vs->nunused, (unsigned long) unreachable, (unsigned long) vs->nleaked_items,
		 (unsigned long) vs->nstale, (unsigned long) vs->nlow);
	pfree(visited);
	pfree(queue);
}

/* Whether free_head is still what the walk started from (else the list changed under it). */
static bool
HnswVerifyFreeListStable(HnswVerifyState *vs)
{
	HnswMetaPageData now;

	HnswReadMeta(vs->index, &now);
	return now.free_head == vs->meta.free_head;
}

/* The free list holds only UNUSED records below next_id and ends; judged only if it did not change meanwhile. */
static void
HnswVerifyFreeList(HnswVerifyState *vs)
{
	const HnswMetaPageData *meta = &vs->meta;
	HnswId id = meta->free_head;
	uint8 *seen;
	char *problem = NULL;

	if (id == HNSW_INVALID_ID || id >= meta->next_id)
		return; /* empty, or reported by pass 1 */
	seen = (uint8 *) MemoryContextAllocHuge(CurrentMemoryContext, meta->next_id / 8 + 1);
	MemSet(seen, 0, meta->next_id / 8 + 1);
	while (id != HNSW_INVALID_ID) {
		HnswAddress a;
		Buffer buf;
		HnswGraphRecord *rec;
		uint8 flags;
		HnswId next;

		CHECK_FOR_INTERRUPTS();
		if (id >= meta->next_id) {
			problem = psprintf("free list: element %u is not below next_id %u", id, meta->next_id);
			break;
		}
		if (seen[id / 8] & (1 << (id % 8))) {
			problem = psprintf("free list: cycle at element %u", id);
			break;
		}
		seen[id / 8] |= 1 << (id % 8);
		a = HnswAddressOf(meta, id);
		buf = HnswVerifyRead(vs, a.graph_block);
		rec = HnswRecordAt(BufferGetPage(buf), meta, a.record_index);
		flags = rec->flags;
		next = rec->next_free;
		UnlockReleaseBuffer(buf);
		if (flags != HNSW_RECORD_UNUSED) {
			problem = psprintf("free list: element %u has flags 0x%02X, not unused", id, flags);
			break;
		}
		id = next;
	}
	/* an insert that popped an id, or a vacuum that pushed some, makes the walk meaningless */
	if (problem != NULL && HnswVerifyFreeListStable(vs))
		VxVerifyReport(&vs->out, "%s", problem);
	pfree(seen);
}

/* ---- the SQL function ---- */

/*
 * vx_hnsw_verify(index regclass, tolerance float8) RETURNS TABLE (problem text):
 * one row per problem found, none for a healthy index.
 */
VX_FUNCTION(vx_hnsw_verify)
{
	Oid indexoid = PG_GETARG_OID(0);
	MemoryContext work_ctx;
	MemoryContext old;
	HnswVerifyState vs;
	Relation heap;

	MemSet(&vs, 0, sizeof(vs));
	VxVerifyBegin(fcinfo, &vs.out);
	vs.tolerance = VxVerifyTolerance(PG_GETARG_FLOAT8(1));

	/* the walk's memory in its own context; tuplestore_putvalues copies rows into the store's */
	work_ctx = AllocSetContextCreate(CurrentMemoryContext, "Hnsw verify context", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(work_ctx);

	vs.index = VxVerifyOpen(indexoid, "hnsw", hnswbuild, &heap);
	vs.nblocks = RelationGetNumberOfBlocks(vs.index);
	vs.strategy = GetAccessStrategy(BAS_BULKREAD);
	vs.page = (char *) palloc(BLCKSZ);

	if (HnswVerifyMeta(&vs)) {
		HnswId n = vs.meta.next_id;

		vs.datum = (char *) palloc(vs.meta.vector_slot_size);
		vs.flags = (uint8 *) MemoryContextAllocHuge(work_ctx, (Size) n + 1);
		vs.levels = (uint8 *) MemoryContextAllocHuge(work_ctx, (Size) n + 1);
		vs.upper_offsets = (OffsetNumber *) MemoryContextAllocHuge(work_ctx, ((Size) n + 1) * sizeof(OffsetNumber));

		HnswVerifyBlocks(&vs);
		HnswVerifyElements(&vs);
		HnswVerifyLinks(&vs);
		HnswVerifyEntry(&vs);
		HnswVerifyReachable(&vs);
		HnswVerifySoftLinks(&vs);
		HnswVerifyFreeList(&vs);
	}
	VxVerifyEnd(&vs.out);

	FreeAccessStrategy(vs.strategy);
	VxVerifyClose(vs.index, heap);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(work_ctx);
	return (Datum) 0;
}
