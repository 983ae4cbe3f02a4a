/*
 * vacuum.cpp -- ambulkdelete and amvacuumcleanup for diskann:
 * FreshDiskANN-style delete consolidation.
 *
 * ambulkdelete makes four passes over the node pages, in block order:
 *   1. mark: LIVE nodes whose heap tuple is dead become DELETED (one WAL
 *      record per page that changed); a bitmap collects every DELETED id.
 *      Deleted nodes stay traversable but are never returned.
 *   2. repair: every LIVE node whose list names a deleted node gets a new
 *      list, robust-pruned from its live neighbours plus the live neighbours
 *      of its deleted ones (estimated distances from the codes), written
 *      optimistically as an insert's back-link is (three attempts).
 *   3. entry point: a deleted entry point is replaced by a live node (one of
 *      its live neighbours, else the first live node).
 *   4. free: DELETED nodes become UNUSED and join the metapage's free list
 *      (one record per page over the metapage and the node page, locked in
 *      that order); inserts pop ids from it before extending the relation.
 *
 * A link to a freed id written by a concurrent insert after pass 2 names an
 * UNUSED node (no neighbours, never returned) or, once reused, another node:
 * an odd edge, never a dangling one.
 */
#include "vx/pg.h"

#include "vx/core/vamana.hpp"
#include "vx/diskann/diskann.h"

#include <algorithm>

typedef struct DiskannVacuumState
{
	IndexVacuumInfo *info;
	IndexBulkDeleteResult *stats;
	DiskannIndexData di;
	DiskannId n;   /* next_id when the vacuum started */
	bool *deleted; /* n flags */
	uint64 ndeleted;
	DiskannId *label_live; /* per label (uint16 of it): a live node that has it, or DISKANN_INVALID_ID */
} DiskannVacuumState;

/* Node pages holding ids below n. */
static uint32
DiskannNodePages(const DiskannMetaPageData *meta, DiskannId n)
{
	return (n + meta->nodes_per_page - 1) / meta->nodes_per_page;
}

/* Read a node page of the vacuum (with its buffer access strategy). */
static Buffer
DiskannVacuumRead(DiskannVacuumState *vs, BlockNumber blkno)
{
	return ReadBufferExtended(vs->di.index, MAIN_FORKNUM, blkno, RBM_NORMAL, vs->info->strategy);
}

/* Pass 1: mark the nodes of dead tuples DELETED. */
static void
DiskannVacuumMark(DiskannVacuumState *vs, IndexBulkDeleteCallback callback, void *callback_state)
{
	const DiskannMetaPageData *meta = &vs->di.meta;
	uint32 npages = DiskannNodePages(meta, vs->n);

	for (uint32 p = 0; p < npages; p++) {
		BlockNumber blkno = DiskannNodePageBlock(meta, p);
		Buffer buf = DiskannVacuumRead(vs, blkno);
		Page page;
		VxWriter w;
		Page wpage = NULL;

		vacuum_delay_point();
		/* exclusive: the page may change, and the callback is cheap */
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		page = BufferGetPage(buf);
		DiskannCheckPage(vs->di.index, page, DISKANN_PAGE_NODE, blkno);
		for (uint32 i = 0; i < meta->nodes_per_page; i++) {
			DiskannId id = p * meta->nodes_per_page + i;
			DiskannNode *node;

			if (id >= vs->n)
				break;
			node = DiskannNodeAt(page, meta, i);
			if (node->flags == DISKANN_NODE_DELETED) {
				vs->deleted[id] = true; /* left by a vacuum that did not finish */
				vs->ndeleted++;
			} else if (node->flags == DISKANN_NODE_LIVE) {
				if (callback(&node->heap_tid, callback_state)) {
					if (wpage == NULL) {
						VxWriterStart(&w, vs->di.index, false);
						wpage = VxWriterPage(&w, buf, false);
					}
					DiskannNodeAt(wpage, meta, i)->flags = DISKANN_NODE_DELETED;
					vs->deleted[id] = true;
					vs->ndeleted++;
					vs->stats->tuples_removed++;
				} else {
					vs->stats->num_index_tuples++;
					if (vs->label_live != NULL)
						for (int k = 0; k < DiskannStoredLabels(node->nlabels, meta->label_capacity); k++)
							vs->label_live[(uint16) DiskannNodeLabels(node, meta)[k]] = id;
				}
			}
		}
		if (wpage != NULL)
			VxWriterFinish(&w);
		UnlockReleaseBuffer(buf);
	}
}

/* Whether id is a candidate to link to: below n, not the base, not deleted, not already taken. */
static bool
DiskannVacuumCandidate(DiskannVacuumState *vs, DiskannId id, DiskannId base, const DiskannId *taken, int ntaken)
{
	if (id >= vs->n || id == base || vs->deleted[id])
		return false;
	for (int i = 0; i < ntaken; i++)
		if (taken[i] == id)
			return false;
	return true;
}

/* Pass 2 for one live node: replace its list if it names a deleted node. */
static void
DiskannVacuumRepairNode(DiskannVacuumState *vs, DiskannId id)
{
	DiskannIndex di = &vs->di;
	const DiskannMetaPageData *meta = &di->meta;
	uint32 R = meta->num_neighbors;
	Size copy_size = DISKANN_NODE_HEADER_SIZE + meta->code_bytes;
	uint32 max_cand = R + R * R;
	char *base = (char *) palloc(copy_size);
	DiskannId *ids = (DiskannId *) palloc(sizeof(DiskannId) * R);
	DiskannId *sub = (DiskannId *) palloc(sizeof(DiskannId) * R);
	DiskannId *cand_ids = (DiskannId *) palloc(sizeof(DiskannId) * max_cand);
	DiskannId *new_ids = (DiskannId *) palloc(sizeof(DiskannId) * R);
	char *scratch = (char *) palloc(copy_size);

	for (int attempt = 0; attempt < 3; attempt++) {
		int n;
		int ncand = 0;
		bool names_deleted = false;
		uint32 version;
		vx::core::Candidate *cand;
		char **nodes;
		char *arena;
		int kept = 0;

		if (!DiskannReadNode(&vs->di, id, base, ids, &n) || ((DiskannNode *) base)->flags != DISKANN_NODE_LIVE)
			break;
		version = ((DiskannNode *) base)->version;
		for (int i = 0; i < n; i++)
			names_deleted = names_deleted || (ids[i] < vs->n && vs->deleted[ids[i]]);
		if (!names_deleted)
			break;

		/* candidates: live neighbours, and the live neighbours of deleted ones */
		for (int i = 0; i < n; i++) {
			if (ids[i] < vs->n && vs->deleted[ids[i]]) {
				int nsub;

				if (!DiskannReadNode(&vs->di, ids[i], scratch, sub, &nsub))
					continue;
				for (int j = 0; j < nsub; j++)
					if (DiskannVacuumCandidate(vs, sub[j], id, cand_ids, ncand))
						cand_ids[ncand++] = sub[j];
			} else if (DiskannVacuumCandidate(vs, ids[i], id, cand_ids, ncand))
				cand_ids[ncand++] = ids[i];
		}

		cand = (vx::core::Candidate *) palloc(sizeof(vx::core::Candidate) * Max(ncand, 1));
		nodes = (char **) palloc(sizeof(char *) * Max(ncand, 1));
		arena = (char *) palloc(copy_size * Max(ncand, 1));
		{
			int m = 0;

			for (int i = 0; i < ncand; i++) {
				char *copy = arena + (Size) m * copy_size;

				if (!DiskannReadNode(&vs->di, cand_ids[i], copy, NULL, NULL) ||
					((DiskannNode *) copy)->flags != DISKANN_NODE_LIVE)
					continue;
				nodes[m] = copy;
				cand_ids[m] = cand_ids[i];
				cand[m] = vx::core::Candidate{
					DiskannPairL2(di, (const DiskannNode *) base, (const DiskannNode *) copy), (uint32) m};
				m++;
			}
			ncand = m;
		}
		if (ncand > 0) {
			vx::core::Candidate *out = (vx::core::Candidate *) palloc(sizeof(vx::core::Candidate) * R);
			float *occlude = (float *) palloc(sizeof(float) * ncand);

			std::sort(cand, cand + ncand,
					  [](const vx::core::Candidate &a, const vx::core::Candidate &b) { return vx::core::nearer(a, b); });
			kept = (int) vx::core::robust_prune(
				cand, (uint32) ncand, meta->max_alpha, R,
				[&](uint32_t a, uint32_t b) {
					return DiskannPairL2(di, (const DiskannNode *) nodes[a], (const DiskannNode *) nodes[b]);
				},
				out, occlude);
			for (int i = 0; i < kept; i++)
				new_ids[i] = cand_ids[out[i].id];
			pfree(out);
			pfree(occlude);
		}
		pfree(cand);
		pfree(nodes);
		pfree(arena);
		if (DiskannReplaceNeighbors(di, id, version, ids, n, new_ids, kept, false))
			break;
	}
	pfree(base);
	pfree(ids);
	pfree(sub);
	pfree(cand_ids);
	pfree(new_ids);
	pfree(scratch);
}

/* Pass 2: repair the lists that name deleted nodes. */
static void
DiskannVacuumRepair(DiskannVacuumState *vs)
{
	const DiskannMetaPageData *meta = &vs->di.meta;
	uint32 npages = DiskannNodePages(meta, vs->n);
	MemoryContext ctx = AllocSetContextCreate(CurrentMemoryContext, "Diskann vacuum repair", ALLOCSET_DEFAULT_SIZES);
	DiskannId *ids = (DiskannId *) palloc(sizeof(DiskannId) * meta->num_neighbors);
	char *bytes = (char *) palloc(DISKANN_NODE_HEADER_SIZE + meta->code_bytes);

	for (DiskannId id = 0; id < vs->n; id++) {
		int n;
		bool names_deleted = false;

		if (id % meta->nodes_per_page == 0)
			vacuum_delay_point();
		if (vs->deleted[id] || !DiskannReadNode(&vs->di, id, bytes, ids, &n) ||
			((DiskannNode *) bytes)->flags != DISKANN_NODE_LIVE)
			continue;
		for (int i = 0; i < n && !names_deleted; i++)
			names_deleted = ids[i] < vs->n && vs->deleted[ids[i]];
		if (!names_deleted)
			continue;
		MemoryContext old = MemoryContextSwitchTo(ctx);
		DiskannVacuumRepairNode(vs, id);
		MemoryContextSwitchTo(old);
		MemoryContextReset(ctx);
	}
	(void) npages;
	pfree(ids);
	pfree(bytes);
	MemoryContextDelete(ctx);
}

/*
 * Pass 3's metapage record: the entry point old_entry (unless
 * DISKANN_INVALID_ID, or changed meanwhile) becomes new_entry, and label
 * start points on deleted nodes move to a live node of their label, or go.
 */
static void
DiskannVacuumLabelStarts(DiskannVacuumState *vs, DiskannId old_entry, DiskannId new_entry)
{
	DiskannIndex di = &vs->di;
	Buffer metabuf = ReadBuffer(di->index, DISKANN_METAPAGE_BLKNO);
	DiskannMetaPage meta;
	bool stale = false;
	VxWriter w;
	Page page;
	DiskannMetaPage wmeta;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	meta = DiskannCheckMetaPage(di->index, BufferGetPage(metabuf));
	for (int i = 0; i < meta->nlabel_entries && !stale; i++) {
		DiskannId id = DiskannMetaLabels(meta)[i].id;

		stale = id < vs->n && vs->deleted[id];
	}
	if (!stale && (old_entry == DISKANN_INVALID_ID || meta->entry_id != old_entry)) {
		UnlockReleaseBuffer(metabuf);
		return;
	}
	VxWriterStart(&w, di->index, false);
	page = VxWriterPage(&w, metabuf, false);
	wmeta = DiskannPageGetMeta(page);
	if (old_entry != DISKANN_INVALID_ID && wmeta->entry_id == old_entry)
		wmeta->entry_id = new_entry;
	for (int i = wmeta->nlabel_entries - 1; i >= 0; i--) {
		DiskannLabelEntry *e = &DiskannMetaLabels(wmeta)[i];

		if (e->id < vs->n && vs->deleted[e->id])
			DiskannLabelEntrySet(wmeta, e->label,
								 vs->label_live != NULL ? vs->label_live[(uint16) e->label] : DISKANN_INVALID_ID);
	}
	DiskannMetaSetLower(page);
	VxWriterFinish(&w);
	UnlockReleaseBuffer(metabuf);
}

/* Pass 3: a deleted entry point is replaced by a live node. */
static void
DiskannVacuumEntry(DiskannVacuumState *vs)
{
	DiskannIndex di = &vs->di;
	const DiskannMetaPageData *meta = &di->meta;
	DiskannId old_entry;
	DiskannId new_entry = DISKANN_INVALID_ID;
	DiskannId *ids = (DiskannId *) palloc(sizeof(DiskannId) * meta->num_neighbors);
	char *bytes = (char *) palloc(DISKANN_NODE_HEADER_SIZE + meta->code_bytes);
	int n;

	DiskannIndexRefreshMeta(di);
	old_entry = meta->entry_id;
	if (old_entry == DISKANN_INVALID_ID || old_entry >= vs->n || !vs->deleted[old_entry]) {
		DiskannVacuumLabelStarts(vs, DISKANN_INVALID_ID, DISKANN_INVALID_ID);
		return;
	}

	/* a live neighbour of the old entry keeps searches starting near where they did */
	if (DiskannReadNode(&vs->di, old_entry, bytes, ids, &n))
		for (int i = 0; i < n && new_entry == DISKANN_INVALID_ID; i++)
			if (ids[i] < vs->n && !vs->deleted[ids[i]] && DiskannReadNode(&vs->di, ids[i], bytes, NULL, NULL) &&
				((DiskannNode *) bytes)->flags == DISKANN_NODE_LIVE)
				new_entry = ids[i];
	for (DiskannId id = 0; id < vs->n && new_entry == DISKANN_INVALID_ID; id++)
		if (!vs->deleted[id] && DiskannReadNode(&vs->di, id, bytes, NULL, NULL) &&
			((DiskannNode *) bytes)->flags == DISKANN_NODE_LIVE)
			new_entry = id;

	DiskannVacuumLabelStarts(vs, old_entry, new_entry);
	pfree(ids);
	pfree(bytes);
}

/* Pass 4: deleted nodes become UNUSED and join the free list. */
static void
DiskannVacuumFree(DiskannVacuumState *vs)
{
	DiskannIndex di = &vs->di;
	const DiskannMetaPageData *meta = &di->meta;
	uint32 npages = DiskannNodePages(meta, vs->n);

	for (uint32 p = 0; p < npages; p++) {
		BlockNumber blkno = DiskannNodePageBlock(meta, p);
		bool any = false;
		Buffer metabuf;
		Buffer buf;
		VxWriter w;
		DiskannMetaPage wmeta;
		Page wpage;

		for (uint32 i = 0; i < meta->nodes_per_page && !any; i++) {
			DiskannId id = p * meta->nodes_per_page + i;

			any = id < vs->n && vs->deleted[id];
		}
		if (!any)
			continue;
		vacuum_delay_point();

		/* the metapage first, then the node page: the lock order */
		metabuf = ReadBuffer(di->index, DISKANN_METAPAGE_BLKNO);
		LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
		buf = DiskannVacuumRead(vs, blkno);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		VxWriterStart(&w, di->index, false);
		wmeta = DiskannPageGetMeta(VxWriterPage(&w, metabuf, false));
		wpage = VxWriterPage(&w, buf, false);
		for (uint32 i = 0; i < meta->nodes_per_page; i++) {
			DiskannId id = p * meta->nodes_per_page + i;
			DiskannNode *node;

			if (id >= vs->n || !vs->deleted[id])
				continue;
			node = DiskannNodeAt(wpage, meta, i);
			if (node->flags != DISKANN_NODE_DELETED)
				continue;
			if (wmeta->entry_id == id)
				continue; /* no live node was left to replace it: keep it until one exists */
			node->flags = DISKANN_NODE_UNUSED;
			node->nneighbors = 0;
			node->next_free = wmeta->free_head;
			wmeta->free_head = id;
			if (wmeta->live_count > 0)
				wmeta->live_count--;
		}
		VxWriterFinish(&w);
		UnlockReleaseBuffer(buf);
		UnlockReleaseBuffer(metabuf);
	}
}

/* ambulkdelete: mark, repair, entry point, free. */
IndexBulkDeleteResult *
diskannbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats, IndexBulkDeleteCallback callback,
				  void *callback_state)
{
	MemoryContext ctx = AllocSetContextCreate(CurrentMemoryContext, "Diskann vacuum context", ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(ctx);
	DiskannVacuumState vs;

	if (stats == NULL)
		stats = (IndexBulkDeleteResult *) MemoryContextAllocZero(old, sizeof(IndexBulkDeleteResult));
	MemSet(&vs, 0, sizeof(vs));
	vs.info = info;
	vs.stats = stats;
	DiskannOpenIndex(&vs.di, info->index);
	vs.n = vs.di.meta.next_id;
	vs.deleted = (bool *) MemoryContextAllocExtended(ctx, (Size) vs.n + 1, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	if (vs.di.meta.label_capacity > 0) {
		vs.label_live = (DiskannId *) palloc(sizeof(DiskannId) * 65536);
		for (int l = 0; l < 65536; l++)
			vs.label_live[l] = DISKANN_INVALID_ID;
	}

	DiskannVacuumMark(&vs, callback, callback_state);
	if (vs.ndeleted > 0) {
		DiskannVacuumRepair(&vs);
		DiskannVacuumEntry(&vs);
		DiskannVacuumFree(&vs);
	}
	stats->num_pages = RelationGetNumberOfBlocks(info->index);

	MemoryContextSwitchTo(old);
	MemoryContextDelete(ctx);
	return stats;
}

/* amvacuumcleanup: statistics (counted from the pages when no bulk delete ran). */
IndexBulkDeleteResult *
diskannvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	DiskannMetaPageData meta;

	if (info->analyze_only)
		return stats;
	if (stats == NULL) {
		stats = palloc0_object(IndexBulkDeleteResult);
		DiskannReadMeta(info->index, &meta);
		for (uint32 p = 0; p < DiskannNodePages(&meta, meta.next_id); p++) {
			Buffer buf = ReadBufferExtended(info->index, MAIN_FORKNUM, DiskannNodePageBlock(&meta, p), RBM_NORMAL,
											info->strategy);

			LockBuffer(buf, BUFFER_LOCK_SHARE);
			for (uint32 i = 0; i < meta.nodes_per_page; i++)
				if (p * meta.nodes_per_page + i < meta.next_id &&
					DiskannNodeAt(BufferGetPage(buf), &meta, i)->flags == DISKANN_NODE_LIVE)
					stats->num_index_tuples++;
			UnlockReleaseBuffer(buf);
		}
	}
	stats->num_pages = RelationGetNumberOfBlocks(info->index);
	return stats;
}
