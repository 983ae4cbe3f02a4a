/*
 * insert.cpp -- aminsert for hnsw, and the on-page insert that builds also
 * use once their in-memory graph is full.
 *
 * An insert is a sequence of WAL records (generic WAL, at most 4 pages
 * each), every one of which leaves a valid index:
 *   1. allocate: under the metapage's exclusive lock pop an id vacuum freed
 *      (metapage and its graph page in one record), or take next_id: create
 *      and initialize the element's pages if it is the first on them (one
 *      record per new page, full image), then advance next_id (metapage
 *      record). A crash after this leaks the id: its record stays UNUSED and
 *      nothing points to it.
 *   2. reserve: if the element has upper levels, add an empty item for it on
 *      its extent's upper page (lowering the level until one fits). Until
 *      step 3 the record is UNUSED, so nobody reads the item.
 *   3. search (no lock held except one share lock at a time): greedy descent
 *      and ef_construction-wide beam searches with the vx::core algorithms
 *      over the pages, then the neighbour heuristic per level.
 *   4. write the element: vector slot, graph record (LIVE, level-0
 *      neighbours) and upper lists in one record over the upper, graph and
 *      vector pages. A slot on more vector pages than that record has room
 *      for (4 pages in all) has its later pages written first, in records of
 *      up to 4 pages, while the record is still UNUSED; the page with the
 *      slot's version is always in the element's record, so a slot that
 *      shows the new version is complete. From here the element is complete
 *      but unreachable.
 *   5. back-links: one record per neighbour list changed. The list is read
 *      under a share lock, the new list (append, or the heuristic over the
 *      old list plus the new element when full) computed with no lock held,
 *      then written under an exclusive lock only if the list is unchanged
 *      (else retried, and after a few races given up: a missing back-link
 *      costs recall, never validity).
 *   6. entry point: an element above the current top level (or the first
 *      one) becomes the entry point (metapage record).
 *
 * Lock order: the metapage before any other page; other pages in increasing
 * block number (upper < graph < vector within an extent); vector pages are
 * locked last and never held while waiting for another lock; steps 3 and 5
 * hold at most one content lock at a time. An insert that may change the
 * entry point (index empty, or level above the top) holds a heavyweight
 * page lock (HNSW_UPDATE_LOCK) from before allocation to after step 6, so
 * two such inserts cannot both miss each other; other inserts and all scans
 * never take it.
 *
 * In a build (building = true) the same code runs without WAL: the relation
 * is WAL-logged whole at the end. A serial build takes no heavyweight lock
 * (nobody else inserts); a parallel build's participants do. Builds keep one
 * inserter (HnswInserterData) across rows, so pins stay cached between
 * inserts.
 */
#include "vx/pg.h"

#include "vx/am/visited.h"
#include "vx/am/writer.h"
#include "vx/core/hnsw_algo.hpp"
#include "vx/hnsw/hnsw.h"
#include "vx/hnsw/page_view.hpp"

using vx::core::Candidate;

/* Attempts to add one back-link before giving up on a list that keeps changing. */
#define HNSW_LINK_RETRIES 3

/* Initialize the page at blkno, extending the relation up to it (caller holds the metapage lock). */
static void
HnswPreparePage(Relation index, const HnswMetaPageData *meta, BlockNumber blkno, bool building)
{
	VxWriter w;
	Buffer buf;

	if (blkno >= RelationGetNumberOfBlocks(index)) {
		/* extension is serialized by the metapage lock: blocks come in order */
		for (;;) {
			BlockNumber got;

			buf = VxNewBuffer(index, MAIN_FORKNUM);
			got = BufferGetBlockNumber(buf);
			VxWriterStart(&w, index, building);
			HnswInitBlockPage(meta, got, VxWriterPage(&w, buf, true));
			VxWriterFinish(&w);
			UnlockReleaseBuffer(buf);
			if (got >= blkno)
				return;
		}
	}

	/* the page exists; it is all zeros if a crash came between extension and its WAL record */
	buf = ReadBuffer(index, blkno);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	if (PageIsNew(BufferGetPage(buf))) {
		VxWriterStart(&w, index, building);
		HnswInitBlockPage(meta, blkno, VxWriterPage(&w, buf, true));
		VxWriterFinish(&w);
	}
	UnlockReleaseBuffer(buf);
}

/* Step 1: a free id or the next one, with its pages ready; *meta is refreshed (entry point as of now). */
static HnswId
HnswAllocateId(Relation index, HnswMetaPageData *meta, bool building)
{
	Buffer metabuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	HnswMetaPage cur;
	HnswAddress a;
	HnswId id;
	VxWriter w;
	HnswMetaPage upd;
	BlockNumber first_new;

	/* exclusive: ids are handed out, and the relation extended, under this lock */
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	cur = HnswCheckMetaPage(index, BufferGetPage(metabuf));

	if (cur->free_head != HNSW_INVALID_ID) {
		/* reuse an id vacuum freed: its pages exist; pop it from the free list */
		Buffer gbuf;
		HnswGraphRecord *rec;

		id = cur->free_head;
		a = HnswAddressOf(cur, id);
		gbuf = ReadBuffer(index, a.graph_block);
		/* the graph page after the metapage: block order */
		LockBuffer(gbuf, BUFFER_LOCK_EXCLUSIVE);
		HnswCheckPage(index, BufferGetPage(gbuf), HNSW_PAGE_GRAPH, a.graph_block);
		rec = HnswRecordAt(BufferGetPage(gbuf), cur, a.record_index);
		if (id >= cur->next_id || rec->flags != HNSW_RECORD_UNUSED)
			ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
							errmsg("index \"%s\" has a corrupted free list at element %u", RelationGetRelationName(index),
								   id),
							errhint("REINDEX the index.")));

		VxWriterStart(&w, index, building);
		upd = HnswPageGetMeta(VxWriterPage(&w, metabuf, false));
		rec = HnswRecordAt(VxWriterPage(&w, gbuf, false), cur, a.record_index);
		upd->free_head = rec->next_free;
		upd->live_count++;
		rec->next_free = HNSW_INVALID_ID;
		*meta = *upd;
		VxWriterFinish(&w);
		UnlockReleaseBuffer(gbuf);
		UnlockReleaseBuffer(metabuf);
		return id;
	}

	id = cur->next_id;
	if (id == HNSW_INVALID_ID - 1)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED), errmsg("hnsw index has too many elements")));
	a = HnswAddressOf(cur, id);

	/* the element's pages, when it is the first to use them, in block order */
	if (id % HnswExtentElements(cur) == 0)
		HnswPreparePage(index, cur, a.upper_block, building);
	if (a.record_index == 0)
		HnswPreparePage(index, cur, a.graph_block, building);
	/* the vector pages no earlier slot of the group touches (a slot may share its first page with the previous one) */
	first_new = a.record_index == 0 ? a.vector_block : Max(a.vector_block, HnswLastBlockOf(cur, id - 1) + 1);
	for (BlockNumber b = first_new; b < a.vector_block + a.vector_pages; b++)
		HnswPreparePage(index, cur, b, building);

	VxWriterStart(&w, index, building);
	upd = HnswPageGetMeta(VxWriterPage(&w, metabuf, false));
	upd->next_id = id + 1;
	upd->live_count++;
	*meta = *upd;
	VxWriterFinish(&w);
	UnlockReleaseBuffer(metabuf);
	return id;
}

/* Step 2: an empty upper item for id, lowering level until it fits; returns the level. */
static int
HnswReserveUpperItem(Relation index, const HnswMetaPageData *meta, HnswId id, int level, bool building,
					 OffsetNumber *offset)
{
	HnswAddress a = HnswAddressOf(meta, id);
	Buffer buf;
	Page page;

	*offset = InvalidOffsetNumber;
	if (level == 0)
		return 0;

	buf = ReadBuffer(index, a.upper_block);
	/* exclusive: items are added here by concurrent inserts of the same extent */
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	HnswCheckPage(index, page, HNSW_PAGE_UPPER, a.upper_block);
	while (level > 0 && !HnswUpperFits(page, level, meta->m))
		level--;
	if (level > 0) {
		VxWriter w;

		VxWriterStart(&w, index, building);
		*offset = HnswAddUpperItem(VxWriterPage(&w, buf, false), id, level, meta->m);
		VxWriterFinish(&w);
		if (*offset == InvalidOffsetNumber)
			elog(ERROR, "hnsw upper page %u has no room though it reported some", a.upper_block);
	}
	UnlockReleaseBuffer(buf);
	return level;
}

/* Scratch of one insert: the core's, plus lists as read and written. */
typedef struct HnswInsertScratch
{
	vx::core::InsertScratch core;
	vx::core::InsertParams params;
	HnswId *list;	  /* 2m: a neighbour list as read */
	HnswId *new_list; /* 2m */
	HnswPairDistance pair;
} HnswInsertScratch;

/* Allocate the scratch for this geometry (current memory context). */
static void
HnswInitInsertScratch(HnswInsertScratch *s, HnswView view)
{
	uint32 m = view->meta.m;
	uint32 ef = view->meta.ef_construction;
	/* visited capacity 1: the backend's visited set is swapped in for the search */
	size_t bytes = vx::core::InsertScratch::bytes_needed(m, ef, 1);

	if (!vx::core::InsertScratch::carve(palloc(bytes), bytes, m, ef, 1, &s->core))
		elog(ERROR, "could not set up hnsw insert scratch");
	/* m picks on every level, like the build's core graph; back-links fill level 0 to 2m */
	s->params = vx::core::InsertParams{m, ef, m, true};
	s->list = palloc_array(HnswId, 2 * m);
	s->new_list = palloc_array(HnswId, 2 * m);
	HnswPairDistanceInit(&s->pair, view, Max(ef, 2 * m + 1) + 1);
}

/*
 * Step 3: the new element's neighbours on levels min(level, top)..0, by
 * vx::core's insert search over the pages; returns the highest level with
 * picks (-1 for the first element). The search never enters id itself (a
 * reused id can still be named by stale links) and never picks it.
 */
static int
HnswFindNeighbors(HnswView view, HnswInsertScratch *s, const char *datum, HnswId id, int level)
{
	const HnswMetaPageData *meta = &view->meta;
	HnswPageGraph graph{view, meta->next_id, id};
	HnswPageDistance dist{view, datum};
	bool cached;
	vx::core::VisitedSet *set;
	int top;

	if (meta->entry_id == HNSW_INVALID_ID)
		return -1;

	set = VxVisitedAcquire(meta->next_id, &cached);
	s->core.visited = *set;
	s->pair.clear();
	top = vx::core::find_insert_neighbors(graph, dist, s->pair, meta->entry_id, meta->entry_level, level, id, id,
										  s->params, s->core);
	*set = s->core.visited; /* keep the epoch the searches advanced */
	VxVisitedRelease(set, cached);
	return top;
}

/* Next version of a slot (never 0, which marks a slot never written). */
static inline uint32
HnswNextVersion(uint32 version)
{
	return version + 1 == 0 ? 1 : version + 1;
}

/* Step 4: write vector, record and upper lists of the new element. */
static void
HnswWriteElement(Relation index, HnswView view, HnswInsertScratch *s, int top, HnswId id, int level,
				 OffsetNumber upper_offset, const char *datum, ItemPointer tid, bool building)
{
	const HnswMetaPageData *meta = &view->meta;
	HnswAddress a = HnswAddressOf(meta, id);
	/* the element's record holds upper (level > 0) and graph page, then the slot's first vector pages */
	uint32 inline_pages = Min(a.vector_pages, (uint32) MAX_GENERIC_XLOG_PAGES - (level > 0 ? 2 : 1));
	Buffer ubuf = InvalidBuffer;
	Buffer gbuf;
	Buffer vbufs[MAX_GENERIC_XLOG_PAGES];
	Page vpages[MAX_GENERIC_XLOG_PAGES];
	Page upage = NULL;
	Page gpage;
	HnswGraphRecord *rec;
	uint32 version;
	VxWriter w;

	/*
	 * The slot's pages beyond those go first, up to 4 pages per record, while
	 * the record is still UNUSED (nobody reads the slot for this element); the
	 * slot's version lies on its first page, written below.
	 */
	for (uint32 first = inline_pages; first < a.vector_pages; first += MAX_GENERIC_XLOG_PAGES) {
		uint32 count = Min((uint32) MAX_GENERIC_XLOG_PAGES, a.vector_pages - first);

		VxWriterStart(&w, index, building);
		for (uint32 p = 0; p < count; p++) {
			vbufs[p] = ReadBuffer(index, a.vector_block + first + p);
			/* exclusive, in block order; no other lock is held */
			LockBuffer(vbufs[p], BUFFER_LOCK_EXCLUSIVE);
			vpages[p] = VxWriterPage(&w, vbufs[p], false);
		}
		HnswWriteVectorSlot(vpages, meta, a.vector_offset, 0, datum, first, count);
		VxWriterFinish(&w);
		for (uint32 p = 0; p < count; p++)
			UnlockReleaseBuffer(vbufs[p]);
	}

	/* exclusive locks in block order: upper < graph < vector */
	if (level > 0) {
		ubuf = ReadBuffer(index, a.upper_block);
		LockBuffer(ubuf, BUFFER_LOCK_EXCLUSIVE);
	}
	gbuf = ReadBuffer(index, a.graph_block);
	LockBuffer(gbuf, BUFFER_LOCK_EXCLUSIVE);
	for (uint32 p = 0; p < inline_pages; p++) {
		vbufs[p] = ReadBuffer(index, a.vector_block + p);
		LockBuffer(vbufs[p], BUFFER_LOCK_EXCLUSIVE);
	}

	VxWriterStart(&w, index, building);
	if (level > 0)
		upage = VxWriterPage(&w, ubuf, false);
	gpage = VxWriterPage(&w, gbuf, false);
	rec = HnswRecordAt(gpage, meta, a.record_index);
	version = HnswNextVersion(rec->version);
	for (uint32 p = 0; p < inline_pages; p++)
		vpages[p] = VxWriterPage(&w, vbufs[p], false);
	HnswWriteVectorSlot(vpages, meta, a.vector_offset, version, datum, 0, inline_pages);

	rec->flags = HNSW_RECORD_LIVE;
	rec->level = level;
	rec->nneighbors = top >= 0 ? s->core.selected_count[0] : 0;
	rec->version = version;
	rec->heap_tid = *tid;
	rec->upper_offset = upper_offset;
	rec->next_free = HNSW_INVALID_ID;
	for (uint32 i = 0; i < rec->nneighbors; i++)
		rec->neighbors[i] = s->core.selected_at(0)[i].id;

	if (level > 0) {
		HnswUpperItem *item = (HnswUpperItem *) PageGetItem(upage, PageGetItemId(upage, upper_offset));

		if (item->id != id || item->level != level)
			elog(ERROR, "hnsw upper item %u of block %u does not belong to element %u", upper_offset, a.upper_block,
				 id);
		for (int l = 1; l <= level; l++) {
			HnswUpperList *list = HnswUpperListAt(item, meta->m, l);

			list->count = l <= top ? s->core.selected_count[l] : 0;
			for (uint32 i = 0; i < list->count; i++)
				list->ids[i] = s->core.selected_at(l)[i].id;
		}
	}
	VxWriterFinish(&w);

	for (uint32 p = 0; p < inline_pages; p++)
		UnlockReleaseBuffer(vbufs[p]);
	UnlockReleaseBuffer(gbuf);
	if (BufferIsValid(ubuf))
		UnlockReleaseBuffer(ubuf);
}

/* Whether id is among ids[0..n). */
bool
HnswListHas(const HnswId *ids, int n, HnswId id)
{
	for (int i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/*
 * Write new_list (new_n ids) as nb's list on level if the list still is
 * list (n ids) and nb's record still has version: the optimistic check of
 * step 5. Returns false when the list changed meanwhile.
 */
bool
HnswReplaceList(Relation index, const HnswMetaPageData *meta, HnswId nb, int level, const HnswRecordInfo *info,
				const HnswId *list, int n, const HnswId *new_list, int new_n, bool building)
{
	HnswAddress a = HnswAddressOf(meta, nb);
	BlockNumber blkno = level == 0 ? a.graph_block : a.upper_block;
	Buffer buf = ReadBuffer(index, blkno);
	Page page;
	bool same = false;
	uint16 *count = NULL;
	HnswId *ids = NULL;

	/* exclusive lock on the one page holding the list (no other lock is held) */
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	if (level == 0) {
		HnswGraphRecord *rec = HnswRecordAt(page, meta, a.record_index);

		same = rec->version == info->version && (rec->flags & (HNSW_RECORD_LIVE | HNSW_RECORD_DELETED)) &&
			   rec->nneighbors == n && memcmp(rec->neighbors, list, n * sizeof(HnswId)) == 0;
	} else if (info->upper_offset != InvalidOffsetNumber && info->upper_offset <= PageGetMaxOffsetNumber(page)) {
		HnswUpperItem *item = (HnswUpperItem *) PageGetItem(page, PageGetItemId(page, info->upper_offset));
		HnswUpperList *ul = HnswUpperListAt(item, meta->m, level);

		same = item->id == nb && item->level >= level && ul->count == n &&
			   memcmp(ul->ids, list, n * sizeof(HnswId)) == 0;
	}

	if (same) {
		VxWriter w;
		Page wpage;

		VxWriterStart(&w, index, building);
		wpage = VxWriterPage(&w, buf, false);
		if (level == 0) {
			HnswGraphRecord *rec = HnswRecordAt(wpage, meta, a.record_index);

			count = &rec->nneighbors;
			ids = rec->neighbors;
		} else {
			HnswUpperItem *item = (HnswUpperItem *) PageGetItem(wpage, PageGetItemId(wpage, info->upper_offset));
			HnswUpperList *ul = HnswUpperListAt(item, meta->m, level);

			count = &ul->count;
			ids = ul->ids;
		}
		memcpy(ids, new_list, new_n * sizeof(HnswId));
		*count = new_n;
		VxWriterFinish(&w);
	}
	UnlockReleaseBuffer(buf);
	return same;
}

/* Step 5: add the link nb -> id on level (d: their distance); the list written never names nb itself. */
static void
HnswAddLink(Relation index, HnswView view, HnswInsertScratch *s, HnswId nb, HnswId id, float d, int level,
			bool building)
{
	const HnswMetaPageData *meta = &view->meta;
	int cap = level == 0 ? 2 * meta->m : meta->m;

	if (nb == id)
		return;
	for (int attempt = 0; attempt < HNSW_LINK_RETRIES; attempt++) {
		HnswRecordInfo info;
		int n = HnswViewRecord(view, nb, level, s->list, &info);
		int new_n;

		if (n < 0 || level > info.level || HnswListHas(s->list, n, id))
			return;

		if (n < cap && !HnswListHas(s->list, n, nb)) {
			memcpy(s->new_list, s->list, n * sizeof(HnswId));
			s->new_list[n] = id;
			new_n = n + 1;
		} else {
			/* full (or naming nb): the core's reselection over the neighbours plus the new element, seen from nb */
			HnswPairDistance *pair = &s->pair;
			auto from_nb = [pair, nb](uint32_t other) { return (*pair)(nb, other); };

			pair->clear();
			new_n = (int) vx::core::reselect_neighbors(nb, s->list, n, Candidate{d, id}, cap, true, from_nb, *pair,
													   s->core);
			for (int i = 0; i < new_n; i++)
				s->new_list[i] = s->core.shrink_out[i].id;
			if (!HnswListHas(s->new_list, new_n, id))
				return; /* the new element did not make it: nothing to write */
		}

		if (HnswReplaceList(index, meta, nb, level, &info, s->list, n, s->new_list, new_n, building))
			return;
	}
}

/* Step 6: make id the entry point if it is above the top level (caller holds the update lock). */
static void
HnswUpdateEntry(Relation index, HnswId id, int level, bool building)
{
	Buffer metabuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	HnswMetaPage cur;

	/* exclusive: the entry point is mutable metapage state */
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	cur = HnswCheckMetaPage(index, BufferGetPage(metabuf));
	if (cur->entry_id == HNSW_INVALID_ID || level > cur->entry_level) {
		VxWriter w;
		HnswMetaPage upd;

		VxWriterStart(&w, index, building);
		upd = HnswPageGetMeta(VxWriterPage(&w, metabuf, false));
		upd->entry_id = id;
		upd->entry_level = level;
		VxWriterFinish(&w);
	}
	UnlockReleaseBuffer(metabuf);
}

/*
 * Set up an inserter for index: distance, scratch and a page view whose pins
 * stay cached from one insert to the next. building: inside CREATE INDEX (no
 * WAL); lock_entry: take the heavyweight update lock around entry-point
 * changes (always outside builds; a parallel build's participants also need
 * it, a serial build has no one to race with). Levels come from prng.
 */
void
HnswInserterInit(HnswInserter ins, Relation index, bool building, bool lock_entry, pg_prng_state *prng)
{
	HnswInsertScratch *s = palloc_object(HnswInsertScratch);

	ins->index = index;
	ins->building = building;
	ins->lock_entry = lock_entry;
	ins->prng = prng;
	ins->meta = *HnswGetCachedMeta(index); /* the geometry; each insert rereads the metapage */
	HnswInitDistance(&ins->dist, &ins->meta);
	HnswViewInit(&ins->view, index, &ins->meta, &ins->dist);
	HnswInitInsertScratch(s, &ins->view);
	ins->scratch = s;
}

/* Insert a prepared datum (detoasted, checked, normalized for cosine) with its heap TID. */
void
HnswInserterInsert(HnswInserter ins, const char *datum, ItemPointer tid)
{
	Relation index = ins->index;
	HnswMetaPageData *meta = &ins->meta;
	HnswInsertScratch *s = (HnswInsertScratch *) ins->scratch;
	bool building = ins->building;
	OffsetNumber upper_offset;
	HnswId id;
	uint32 dimensions;
	int level;
	int top;
	bool locked = false;

	HnswReadMeta(index, meta);
	dimensions = VxElemTraitsOf(ins->dist.kind)->dimensions(datum);
	if (dimensions != meta->dimensions)
		elog(ERROR, "hnsw index value has %u dimensions, expected %u", dimensions, meta->dimensions);
	level = HnswRandomLevel(ins->prng, meta->m);

	/* an insert that may become the entry point excludes others doing the same */
	if (ins->lock_entry && (meta->entry_id == HNSW_INVALID_ID || level > meta->entry_level)) {
		LockPage(index, HNSW_UPDATE_LOCK, ExclusiveLock);
		locked = true;
	}

	id = HnswAllocateId(index, meta, building);
	level = HnswReserveUpperItem(index, meta, id, level, building, &upper_offset);

	/* the view searches what this insert saw of the metapage (entry point, id limit) */
	ins->view.meta = *meta;
	top = HnswFindNeighbors(&ins->view, s, datum, id, level);
	HnswWriteElement(index, &ins->view, s, top, id, level, upper_offset, datum, tid, building);

	/* back-links (reselect_neighbors uses other parts of the core scratch than the picks) */
	for (int l = top; l >= 0; l--)
		for (uint32 i = 0; i < s->core.selected_count[l]; i++)
			HnswAddLink(index, &ins->view, s, s->core.selected_at(l)[i].id, id, s->core.selected_at(l)[i].dist, l,
						building);

	if (meta->entry_id == HNSW_INVALID_ID || level > meta->entry_level)
		HnswUpdateEntry(index, id, level, building);

	if (locked)
		UnlockPage(index, HNSW_UPDATE_LOCK, ExclusiveLock);
}

/* Drop the inserter's cached pins (its memory belongs to the caller's context). */
void
HnswInserterEnd(HnswInserter ins)
{
	HnswViewReleasePins(&ins->view);
}

/* Insert one prepared datum with a fresh inserter (aminsert). */
void
HnswInsertValue(Relation index, const char *datum, ItemPointer tid, bool building)
{
	HnswInserterData ins;

	HnswInserterInit(&ins, index, building, !building, &pg_global_prng_state);
	HnswInserterInsert(&ins, datum, tid);
	HnswInserterEnd(&ins);
}

/* aminsert: index one new heap tuple. */
bool
hnswinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid, Relation heap,
		   IndexUniqueCheck checkUnique, bool indexUnchanged, IndexInfo *indexInfo)
{
	MemoryContext ctx;
	MemoryContext old;
	const HnswMetaPageData *geometry;
	VxDistanceData dist;
	Datum value;
	bool skip;

	if (isnull[0])
		return false;

	ctx = AllocSetContextCreate(CurrentMemoryContext, "Hnsw insert temporary context", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(ctx);

	geometry = HnswGetCachedMeta(index);
	HnswInitDistance(&dist, geometry);
	value = HnswPrepareValue(&dist, values[0], true, &skip);
	if (!skip) {
		/* a column without typmod can hold other dimensions: pgvector's error, not an internal one */
		VxCheckQuery(&dist, DatumGetPointer(value));
		HnswInsertValue(index, DatumGetPointer(value), heap_tid, false);
	}

	MemoryContextSwitchTo(old);
	MemoryContextDelete(ctx);
	return false;
}
