/*
 * vacuum.cpp -- ambulkdelete and amvacuumcleanup for hnsw: mark, repair,
 * move the entry point, free.
 *
 * ambulkdelete runs four passes over the graph pages, in block order:
 *   1. mark: records whose heap tuple is dead become HNSW_RECORD_DELETED (one
 *      WAL record per graph page). Deleted elements stay traversable, so
 *      connectivity is unchanged, and are never returned by scans. The ids
 *      of all deleted elements go into a bitmap (id -> deleted), the levels
 *      of live ones into an array.
 *   2. repair: every live element with a deleted neighbour on some level, or
 *      one below that level (a stale link, see below), gets that list
 *      recomputed with the vx::core heuristic over its live neighbours of the
 *      level, the nearest live elements a search of the level from the
 *      element finds (through deleted elements, which keep their links until
 *      pass 4) and the live neighbours of its deleted ones, and written like
 *      an insert's back-link: read under a share lock, computed unlocked,
 *      replaced under an exclusive lock only if unchanged (else retried, then
 *      given up: recall only). 2b: each element repaired with a search gets a
 *      back-link from each of its new neighbours, written the same way. 2c:
 *      the elements inserted since pass 1 (new ids, and freed ids reused)
 *      get their lists that name deleted elements repaired too (one hop), in
 *      rounds until no more came.
 *   3. entry point: if it is deleted, the live element of the highest level
 *      seen in pass 1 replaces it (under the heavyweight update lock that
 *      inserts changing the entry point also take).
 *   4. free: deleted records become HNSW_RECORD_UNUSED and are chained into
 *      the metapage's free list (through next_free), their upper items
 *      removed without moving other items' line pointers; inserts reuse
 *      them (insert.cpp). One WAL record per graph page over the metapage,
 *      the upper page and the graph page (locked in that, block, order).
 * A link to a freed id that a concurrent insert wrote after pass 2 names an
 * UNUSED record (no neighbours, never returned) or, once reused, another
 * live element: an odd edge, never a dangling one. Record and slot versions
 * change at reuse. Such links are not copied on: inserts never link to
 * their own id nor, on an upper level, to an element below it, and the next
 * VACUUM's repair replaces upper links to elements below their level.
 * Stale links naming UNUSED records are left alone (the next reuse turns
 * them into odd edges; removing them would need each record re-read).
 *
 * Scans need no coordination with vacuum: under an MVCC snapshot a TID they
 * collected before a record was marked or reused names a row their snapshot
 * cannot see, which the heap fetch skips.
 *
 * amvacuumcleanup counts live records when no bulk delete ran.
 */
#include "vx/pg.h"

#include "vx/am/visited.h"
#include "vx/am/writer.h"
#include "vx/core/hnsw_algo.hpp"
#include "vx/hnsw/hnsw.h"
#include "vx/hnsw/page_view.hpp"

using vx::core::Candidate;

/* Attempts to replace one list that keeps changing under concurrent inserts. */
#define HNSW_REPAIR_RETRIES 3

/* levels[] of an id that was not LIVE in pass 1 (deleted, unused, or beyond next_id). */
#define HNSW_LEVEL_UNKNOWN 0xFF

typedef struct HnswVacuumState
{
	IndexVacuumInfo *info;
	Relation index;
	HnswMetaPageData meta; /* as read at the start: ids below next_id are visited */
	BlockNumber nblocks;
	uint8 *deleted; /* bitmap over ids */
	uint8 *levels;	/* per id: level if LIVE in pass 1 (fixed while live), else HNSW_LEVEL_UNKNOWN */
	uint64 ndeleted;
	uint64 live;
	HnswId top_id; /* live element of the highest level */
	int top_level;

	/* repair */
	VxDistanceData dist;
	HnswViewData view;
	HnswPairDistance pair;
	uint32 cap;		  /* candidates the current stage of a repair may reach */
	uint32 hop_cap;	  /* one hop: max(ef_construction, 2m) */
	uint32 max_cap;	  /* with the search's: hop_cap + search_ef (array sizes) */
	Candidate *cand;
	Candidate *out;
	Candidate *pruned;
	HnswId *list;
	HnswId *other;
	HnswId *new_list;

	/* the repair's search around an element (live results only) */
	vx::core::VisitedSet *visited;
	bool visited_cached;
	vx::core::SearchScratch scratch;
	Candidate *found;
	uint32 search_ef;
	char *datum; /* the repaired element's vector */
	uint8 *repaired; /* bitmap over ids: some list of the element was replaced in pass 2 */
	HnswId limit;	 /* ids below this may be candidates: meta.next_id, later the current one */
} HnswVacuumState;

/* Is id marked deleted in the bitmap? */
static inline bool
HnswIsDeleted(const HnswVacuumState *vs, HnswId id)
{
	return id < vs->meta.next_id && (vs->deleted[id / 8] & (1 << (id % 8))) != 0;
}

/*
 * Is id, LIVE in pass 1, below level? A list on level naming it holds a
 * stale link: written by an insert after an earlier VACUUM's repair pass, to
 * an id that VACUUM freed and an insert then reused at a lower level.
 */
static inline bool
HnswIsBelow(const HnswVacuumState *vs, HnswId id, int level)
{
	return level > 0 && id < vs->meta.next_id && vs->levels[id] != HNSW_LEVEL_UNKNOWN && vs->levels[id] < level;
}

/* Read the graph page of the group starting at first, locked as asked; InvalidBuffer if it does not exist. */
static Buffer
HnswVacuumGraphPage(HnswVacuumState *vs, HnswId first, int mode)
{
	HnswAddress a = HnswAddressOf(&vs->meta, first);
	Buffer buf;

	if (a.graph_block >= vs->nblocks)
		return InvalidBuffer; /* allocation of this id never reached its pages (crash) */
	vacuum_delay_point();
	buf = ReadBufferExtended(vs->index, MAIN_FORKNUM, a.graph_block, RBM_NORMAL, vs->info->strategy);
	LockBuffer(buf, mode);
	if (PageIsNew(BufferGetPage(buf))) {
		UnlockReleaseBuffer(buf);
		return InvalidBuffer;
	}
	HnswCheckPage(vs->index, BufferGetPage(buf), HNSW_PAGE_GRAPH, a.graph_block);
	return buf;
}

/* Pass 1: mark dead records deleted (when callback is given), fill the bitmap, count live ones. */
static void
HnswVacuumMark(HnswVacuumState *vs, IndexBulkDeleteResult *stats, IndexBulkDeleteCallback callback,
			   void *callback_state)
{
	const HnswMetaPageData *meta = &vs->meta;
	uint32 *marked = palloc_array(uint32, meta->records_per_page);

	for (HnswId first = 0; first < meta->next_id; first += meta->records_per_page) {
		uint32 nrecords = Min(meta->records_per_page, meta->next_id - first);
		/* exclusive when marking: concurrent inserts rewrite neighbour lists on this page */
		Buffer buf = HnswVacuumGraphPage(vs, first, callback != NULL ? BUFFER_LOCK_EXCLUSIVE : BUFFER_LOCK_SHARE);
		Page page;
		int nmarked = 0;

		if (!BufferIsValid(buf))
			continue;
		page = BufferGetPage(buf);
		for (uint32 i = 0; i < nrecords; i++) {
			HnswGraphRecord *rec = HnswRecordAt(page, meta, i);
			HnswId id = first + i;

			if (rec->flags & HNSW_RECORD_LIVE) {
				if (callback != NULL && callback(&rec->heap_tid, callback_state))
					marked[nmarked++] = i;
				else {
					vs->live++;
					if (vs->levels != NULL)
						vs->levels[id] = rec->level;
					if (rec->level > vs->top_level) {
						vs->top_level = rec->level;
						vs->top_id = id;
					}
					continue;
				}
			} else if (!(rec->flags & HNSW_RECORD_DELETED))
				continue;
			if (vs->deleted != NULL) {
				vs->deleted[id / 8] |= 1 << (id % 8);
				vs->ndeleted++;
			}
		}

		if (nmarked > 0) {
			VxWriter w;

			VxWriterStart(&w, vs->index, false);
			page = VxWriterPage(&w, buf, false);
			for (int j = 0; j < nmarked; j++)
				HnswRecordAt(page, meta, marked[j])->flags = HNSW_RECORD_DELETED;
			VxWriterFinish(&w);
			stats->tuples_removed += nmarked;
		}
		UnlockReleaseBuffer(buf);
	}
	pfree(marked);
}

/* Add id to the candidate ids[0..*n) of a list on level unless present, deleted, below level, self or beyond cap. */
static inline void
HnswAddCandidate(HnswVacuumState *vs, HnswId self, HnswId id, int level, HnswId *ids, uint32 *n)
{
	if (*n >= vs->cap || id == self || HnswIsDeleted(vs, id) || HnswIsBelow(vs, id, level) ||
		id >= vs->limit || HnswListHas(ids, (int) *n, id))
		return;
	ids[(*n)++] = id;
}

/* Pass 2 for one list: recompute element e's list on level if it names a deleted element or one below level. */
static void
HnswRepairList(HnswVacuumState *vs, HnswId e, int level)
{
	int cap = level == 0 ? 2 * vs->meta.m : vs->meta.m;

	for (int attempt = 0; attempt < HNSW_REPAIR_RETRIES; attempt++) {
		HnswRecordInfo info;
		int n = HnswViewRecord(&vs->view, e, level, vs->list, &info);
		bool any_bad = false;
		bool searched = false;
		int ndeleted = 0;
		uint32 nc = 0;
		int k;

		if (n < 0 || !(info.flags & HNSW_RECORD_LIVE) || level > info.level)
			return;
		for (int i = 0; i < n; i++) {
			ndeleted += HnswIsDeleted(vs, vs->list[i]) ? 1 : 0;
			any_bad = any_bad || HnswIsDeleted(vs, vs->list[i]) || HnswIsBelow(vs, vs->list[i], level);
		}
		if (!any_bad)
			return;

		/*
		 * candidates: the live neighbours, then the live neighbours of the
		 * deleted ones (one hop); if that makes fewer than ef_construction or
		 * more than half the list was deleted (most of the neighbourhood is
		 * gone, as when most of a sparse graph is deleted), also the nearest live elements a search of the level
		 * from e itself finds, through deleted elements too (they keep their
		 * links until pass 4). One hop alone then left recall well below a
		 * fresh build's; searching for every repaired list made a VACUUM
		 * after a few deletes cost a rebuild (pgvector searches from the
		 * entry point for every one).
		 */
		vs->cap = vs->hop_cap;
		for (int i = 0; i < n; i++)
			HnswAddCandidate(vs, e, vs->list[i], level, vs->new_list, &nc);
		for (int i = 0; i < n && nc < vs->cap; i++) {
			HnswRecordInfo dinfo;
			int dn;

			if (!HnswIsDeleted(vs, vs->list[i]))
				continue;
			dn = HnswViewRecord(&vs->view, vs->list[i], level, vs->other, &dinfo);
			for (int j = 0; j < dn; j++)
				HnswAddCandidate(vs, e, vs->other[j], level, vs->new_list, &nc);
		}
		/* (elements allocated since pass 1 are beyond the visited set: one hop only) */
		if ((nc < (uint32) vs->meta.ef_construction || 2 * ndeleted > n) && e < vs->meta.next_id &&
			HnswViewCopyVector(&vs->view, e, vs->datum) == info.version) {
			HnswPageGraph graph{&vs->view, vs->meta.next_id, HNSW_INVALID_ID};
			HnswPageDistance dist{&vs->view, vs->datum};
			Candidate start[2] = {{0.0f, e}, {0.0f, e}};
			uint32 nstart = 1;
			uint32 nfound;

			/*
			 * Also from where a search from the entry point arrives (as an
			 * insert's): around e alone the search stays in e's cluster, and
			 * links between clusters that deleted elements held are not
			 * replaced.
			 */
			if (vs->meta.entry_id != HNSW_INVALID_ID && vs->meta.entry_id != e && vs->meta.entry_level > level) {
				Candidate cur{dist(vs->meta.entry_id), vs->meta.entry_id};

				for (int l = vs->meta.entry_level; l > level; l--)
					cur = vx::core::greedy_search_layer(graph, dist, cur, l, vs->scratch);
				if (cur.id != e)
					start[nstart++] = cur;
			}
			vs->cap = vs->max_cap;
			vs->visited->reset();
			nfound = vx::core::search_layer_accepting(graph, dist, start, nstart, level, vs->search_ef, *vs->visited,
													  vs->scratch, vs->found, [vs, e, level](uint32_t id) {
														  return id != e && !HnswIsDeleted(vs, id) &&
																 !HnswIsBelow(vs, id, level);
													  });
			for (uint32 i = 0; i < nfound; i++)
				HnswAddCandidate(vs, e, vs->found[i].id, level, vs->new_list, &nc);
			searched = true;
		}

		vs->pair.clear();
		for (uint32 i = 0; i < nc; i++)
			vs->cand[i] = Candidate{vs->pair(e, vs->new_list[i]), vs->new_list[i]};
		vx::core::sort_candidates(vs->cand, nc, e);
		k = (int) vx::core::select_neighbors_heuristic(vs->cand, nc, cap, true, vs->pair, vs->out, vs->pruned);
		for (int i = 0; i < k; i++)
			vs->new_list[i] = vs->out[i].id;

		if (HnswReplaceList(vs->index, &vs->meta, e, level, &info, vs->list, n, vs->new_list, k, false)) {
			/* back-links (2b) only where most of the neighbourhood went: there in-links were lost too */
			if (searched)
				vs->repaired[e / 8] |= 1 << (e % 8);
			return;
		}
	}
}

/*
 * Pass 2b for one link: add e to nb's list on level (nb is one of e's new
 * neighbours), by the heuristic from nb when the list is full; written like
 * a back-link (optimistic, three attempts). Without it the elements whose
 * incoming links all came from deleted ones stay unreachable: a repaired
 * list points out of an element, never into it.
 */
static void
HnswVacuumBackLink(HnswVacuumState *vs, HnswId nb, HnswId e, int level)
{
	int cap = level == 0 ? 2 * vs->meta.m : vs->meta.m;

	for (int attempt = 0; attempt < HNSW_REPAIR_RETRIES; attempt++) {
		HnswRecordInfo info;
		int n = HnswViewRecord(&vs->view, nb, level, vs->list, &info);
		uint32 nc = 0;
		int k;

		if (n < 0 || !(info.flags & HNSW_RECORD_LIVE) || level > info.level || HnswListHas(vs->list, n, e))
			return;
		for (int i = 0; i < n; i++)
			HnswAddCandidate(vs, nb, vs->list[i], level, vs->new_list, &nc);
		HnswAddCandidate(vs, nb, e, level, vs->new_list, &nc);
		if (!HnswListHas(vs->new_list, (int) nc, e))
			return;
		k = (int) nc;
		if (k > cap) {
			vs->pair.clear();
			for (uint32 i = 0; i < nc; i++)
				vs->cand[i] = Candidate{vs->pair(nb, vs->new_list[i]), vs->new_list[i]};
			vx::core::sort_candidates(vs->cand, nc, nb);
			k = (int) vx::core::select_neighbors_heuristic(vs->cand, nc, cap, true, vs->pair, vs->out, vs->pruned);
			for (int i = 0; i < k; i++)
				vs->new_list[i] = vs->out[i].id;
			if (!HnswListHas(vs->new_list, k, e))
				return; /* e did not make it */
		}
		if (HnswReplaceList(vs->index, &vs->meta, nb, level, &info, vs->list, n, vs->new_list, k, false))
			return;
	}
}

/*
 * Pass 2 over ids [from, to): repair the live elements' lists that name
 * deleted elements. only_since_mark: of the ids pass 1 saw, only those that
 * were not LIVE then (an insert may have reused a freed one since).
 */
static void
HnswVacuumRepairRange(HnswVacuumState *vs, HnswId from, HnswId to, bool only_since_mark)
{
	for (HnswId id = from; id < to; id++) {
		HnswRecordInfo info;

		if (id % vs->meta.records_per_page == 0)
			vacuum_delay_point();
		if (only_since_mark && id < vs->meta.next_id && vs->levels[id] != HNSW_LEVEL_UNKNOWN)
			continue;
		if (HnswIsDeleted(vs, id) || HnswViewRecord(&vs->view, id, 0, NULL, &info) < 0 ||
			!(info.flags & HNSW_RECORD_LIVE))
			continue;
		for (int l = info.level; l >= 0; l--)
			HnswRepairList(vs, id, l);
	}
}

/* Pass 2: repair every live element's lists that name deleted elements. */
static void
HnswVacuumRepair(HnswVacuumState *vs)
{
	const HnswMetaPageData *meta = &vs->meta;
	uint32 m0 = 2 * meta->m;

	/* one hop gives fewer than ef_construction when the search runs, which adds its 2 * ef_construction */
	vs->search_ef = 2 * meta->ef_construction;
	vs->hop_cap = Max((uint32) meta->ef_construction, m0);
	vs->max_cap = vs->hop_cap + vs->search_ef;
	vs->cap = vs->max_cap;
	HnswInitDistance(&vs->dist, meta);
	HnswViewInit(&vs->view, vs->index, meta, &vs->dist);
	HnswPairDistanceInit(&vs->pair, &vs->view, vs->max_cap + 1);
	{
		/* a frontier four times the usual: most of what the search meets may be deleted */
		uint32 max_ef = 4 * vs->search_ef;
		size_t bytes = vx::core::SearchScratch::bytes_needed(max_ef, m0);

		if (!vx::core::SearchScratch::carve(palloc(bytes), bytes, max_ef, m0, &vs->scratch))
			elog(ERROR, "could not set up hnsw vacuum search scratch");
		vs->found = palloc_array(Candidate, max_ef);
		vs->datum = (char *) palloc(meta->vector_slot_size);
		vs->visited = VxVisitedAcquire(meta->next_id, &vs->visited_cached);
		vs->repaired = (uint8 *) palloc0(meta->next_id / 8 + 1);
	}
	vs->cand = palloc_array(Candidate, vs->max_cap);
	vs->out = palloc_array(Candidate, vs->max_cap);
	vs->pruned = palloc_array(Candidate, vs->max_cap);
	vs->list = palloc_array(HnswId, m0);
	vs->other = palloc_array(HnswId, m0);
	vs->new_list = palloc_array(HnswId, vs->max_cap);

	vs->limit = meta->next_id;
	HnswVacuumRepairRange(vs, 0, meta->next_id, false);

	/* 2b: links back to the repaired elements from their new neighbours */
	vs->cap = vs->max_cap;
	for (HnswId id = 0; id < meta->next_id; id++) {
		HnswRecordInfo info;

		if (!(vs->repaired[id / 8] & (1 << (id % 8))))
			continue;
		if (id % meta->records_per_page == 0)
			vacuum_delay_point();
		if (HnswViewRecord(&vs->view, id, 0, NULL, &info) < 0 || !(info.flags & HNSW_RECORD_LIVE))
			continue;
		for (int l = info.level; l >= 0; l--) {
			HnswId *nbs = vs->other;
			int n = HnswViewRecord(&vs->view, id, l, nbs, &info);

			for (int i = 0; i < n; i++)
				if (!HnswIsDeleted(vs, nbs[i]) && !HnswIsBelow(vs, nbs[i], l) && nbs[i] < meta->next_id)
					HnswVacuumBackLink(vs, nbs[i], id, l);
		}
	}

	/*
	 * 2c: elements inserted since pass 1 may link to elements it marked (an
	 * insert's search traverses them like any other): repair their lists
	 * too, until no more elements came meanwhile (a few rounds at most: each
	 * takes less time than the last), or pass 4 would leave them links to
	 * freed ids. An insert still running after the last round can leave
	 * such a link: an odd edge to an UNUSED record, never a dangling one
	 * (see the file comment).
	 */
	for (int round = 0; round < 8; round++) {
		HnswMetaPageData now;
		bool grew;

		HnswReadMeta(vs->index, &now);
		grew = now.next_id > vs->limit;
		if (round > 0 && !grew)
			break;
		vs->limit = Max(vs->limit, now.next_id);
		HnswVacuumRepairRange(vs, 0, vs->limit, true);
	}
	HnswViewReleasePins(&vs->view);
	VxVisitedRelease(vs->visited, vs->visited_cached);
	vs->visited = NULL;
}

/* Pass 3: replace a deleted entry point by the live element of the highest level. */
static void
HnswVacuumEntry(HnswVacuumState *vs)
{
	Buffer metabuf;
	HnswMetaPage cur;

	/* the lock inserts take to change the entry point: no insert raises it meanwhile */
	LockPage(vs->index, HNSW_UPDATE_LOCK, ExclusiveLock);
	metabuf = ReadBufferExtended(vs->index, MAIN_FORKNUM, HNSW_METAPAGE_BLKNO, RBM_NORMAL, vs->info->strategy);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	cur = HnswCheckMetaPage(vs->index, BufferGetPage(metabuf));
	if (cur->entry_id != HNSW_INVALID_ID && HnswIsDeleted(vs, cur->entry_id)) {
		VxWriter w;
		HnswMetaPage upd;

		VxWriterStart(&w, vs->index, false);
		upd = HnswPageGetMeta(VxWriterPage(&w, metabuf, false));
		upd->entry_id = vs->top_id;
		upd->entry_level = vs->top_id == HNSW_INVALID_ID ? -1 : vs->top_level;
		VxWriterFinish(&w);
	}
	UnlockReleaseBuffer(metabuf);
	UnlockPage(vs->index, HNSW_UPDATE_LOCK, ExclusiveLock);
}

/* Pass 4: free the deleted records of every graph page into the metapage's free list. */
static void
HnswVacuumFree(HnswVacuumState *vs)
{
	const HnswMetaPageData *meta = &vs->meta;

	for (HnswId first = 0; first < meta->next_id; first += meta->records_per_page) {
		uint32 nrecords = Min(meta->records_per_page, meta->next_id - first);
		HnswAddress a = HnswAddressOf(meta, first);
		bool any = false;
		Buffer metabuf;
		Buffer ubuf;
		Buffer gbuf;
		VxWriter w;
		HnswMetaPage mp;
		Page upage;
		Page gpage;

		for (uint32 i = 0; i < nrecords && !any; i++)
			any = HnswIsDeleted(vs, first + i);
		if (!any || a.graph_block >= vs->nblocks)
			continue;
		vacuum_delay_point();

		/* exclusive locks in block order: metapage (free list), upper page, graph page */
		metabuf = ReadBufferExtended(vs->index, MAIN_FORKNUM, HNSW_METAPAGE_BLKNO, RBM_NORMAL, vs->info->strategy);
		LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
		ubuf = ReadBufferExtended(vs->index, MAIN_FORKNUM, a.upper_block, RBM_NORMAL, vs->info->strategy);
		LockBuffer(ubuf, BUFFER_LOCK_EXCLUSIVE);
		gbuf = ReadBufferExtended(vs->index, MAIN_FORKNUM, a.graph_block, RBM_NORMAL, vs->info->strategy);
		LockBuffer(gbuf, BUFFER_LOCK_EXCLUSIVE);

		VxWriterStart(&w, vs->index, false);
		mp = HnswCheckMetaPage(vs->index, VxWriterPage(&w, metabuf, false));
		upage = VxWriterPage(&w, ubuf, false);
		gpage = VxWriterPage(&w, gbuf, false);
		HnswCheckPage(vs->index, upage, HNSW_PAGE_UPPER, a.upper_block);
		HnswCheckPage(vs->index, gpage, HNSW_PAGE_GRAPH, a.graph_block);
		for (uint32 i = 0; i < nrecords; i++) {
			HnswGraphRecord *rec = HnswRecordAt(gpage, meta, i);
			HnswId id = first + i;

			/* still deleted (a reuse cannot have happened: it is not on the free list yet), not the entry */
			if (!HnswIsDeleted(vs, id) || rec->flags != HNSW_RECORD_DELETED || id == mp->entry_id)
				continue;
			if (rec->upper_offset != InvalidOffsetNumber && rec->upper_offset <= PageGetMaxOffsetNumber(upage)) {
				ItemId iid = PageGetItemId(upage, rec->upper_offset);

				if (ItemIdIsNormal(iid) && ((HnswUpperItem *) PageGetItem(upage, iid))->id == id)
					PageIndexTupleDeleteNoCompact(upage, rec->upper_offset);
			}
			rec->flags = HNSW_RECORD_UNUSED;
			rec->level = 0;
			rec->nneighbors = 0;
			rec->upper_offset = InvalidOffsetNumber;
			rec->next_free = mp->free_head;
			mp->free_head = id;
		}
		VxWriterFinish(&w);
		UnlockReleaseBuffer(gbuf);
		UnlockReleaseBuffer(ubuf);
		UnlockReleaseBuffer(metabuf);
	}
}

/* Store the live count in the metapage (a statistic for costing). */
static void
HnswVacuumSetLive(HnswVacuumState *vs)
{
	Buffer metabuf = ReadBufferExtended(vs->index, MAIN_FORKNUM, HNSW_METAPAGE_BLKNO, RBM_NORMAL, vs->info->strategy);
	VxWriter w;

	/* exclusive: live_count is mutable metapage state */
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	VxWriterStart(&w, vs->index, false);
	HnswCheckMetaPage(vs->index, VxWriterPage(&w, metabuf, false))->live_count = vs->live;
	VxWriterFinish(&w);
	UnlockReleaseBuffer(metabuf);
}

/* Set up the state shared by the passes. */
static void
HnswVacuumInit(HnswVacuumState *vs, IndexVacuumInfo *info, bool with_bitmap)
{
	MemSet(vs, 0, sizeof(*vs));
	vs->info = info;
	vs->index = info->index;
	HnswReadMeta(vs->index, &vs->meta);
	vs->nblocks = RelationGetNumberOfBlocks(vs->index);
	vs->top_id = HNSW_INVALID_ID;
	vs->top_level = -1;
	if (with_bitmap) {
		vs->deleted = (uint8 *) palloc0(vs->meta.next_id / 8 + 1);
		vs->levels = (uint8 *) MemoryContextAllocHuge(CurrentMemoryContext, (Size) vs->meta.next_id + 1);
		memset(vs->levels, HNSW_LEVEL_UNKNOWN, (Size) vs->meta.next_id + 1);
	}
}

/* ambulkdelete: mark dead entries, repair the graph around them, free their ids. */
IndexBulkDeleteResult *
hnswbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats, IndexBulkDeleteCallback callback,
			   void *callback_state)
{
	HnswVacuumState vs;

	if (stats == NULL)
		stats = palloc0_object(IndexBulkDeleteResult);

	HnswVacuumInit(&vs, info, true);
	HnswVacuumMark(&vs, stats, callback, callback_state);
	if (vs.ndeleted > 0) {
		HnswVacuumRepair(&vs);
		HnswVacuumEntry(&vs);
		HnswVacuumFree(&vs);
	}
	HnswVacuumSetLive(&vs);

	stats->num_index_tuples = (double) vs.live;
	stats->estimated_count = false;
	stats->num_pages = RelationGetNumberOfBlocks(info->index);
	return stats;
}

/* amvacuumcleanup: statistics (counted when bulkdelete did not run). */
IndexBulkDeleteResult *
hnswvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	HnswVacuumState vs;

	if (info->analyze_only || stats != NULL)
		return stats;

	stats = palloc0_object(IndexBulkDeleteResult);
	HnswVacuumInit(&vs, info, false);
	HnswVacuumMark(&vs, stats, NULL, NULL);
	stats->num_index_tuples = (double) vs.live;
	stats->estimated_count = false;
	stats->num_pages = RelationGetNumberOfBlocks(info->index);
	return stats;
}
