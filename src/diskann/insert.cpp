/*
 * insert.cpp -- aminsert for diskann, also used by builds whose rows no
 * longer fit in maintenance_work_mem (then without WAL).
 *
 * An insert is FreshDiskANN's: search the graph from the entry point with
 * list size search_list_size (estimated squared L2 distances from the new
 * vector's exact values to the nodes' codes), robust-prune the nodes it
 * expanded into the new node's list, write the node, then add a back-link
 * to each chosen neighbour, re-pruning a neighbour's full list.
 *
 * WAL records, each leaving a valid index on its own:
 *   1. allocate the id: pop the free list (metapage + the freed node's page)
 *      or advance next_id (metapage, plus a new node page as a full image
 *      when the id is the first of its page). Crash after it: a leaked id
 *      whose record stays UNUSED; nothing points to it. With storage_layout
 *      plain a new node page is preceded by records (up to 4 pages each)
 *      that initialize its extent's vector pages: the relation is extended
 *      by the node page (left uninitialized until the allocation record)
 *      and then by its vector pages, which are logged first. Crash after
 *      them: vector pages nothing addresses yet (next_id did not move), and
 *      a new node page that the next allocation initializes, re-initializing
 *      whatever of the extent is missing.
 *   2. the node: LIVE, code, factors, heap TID, neighbours (its page), and
 *      for plain its stored vector on the vector page(s) of its extent, in
 *      the same record when node page and vector pages are at most 4; a
 *      vector spanning more pages has its first chunks written by records
 *      of their own before, while the id is still UNUSED (nothing reads the
 *      vector of a node that is not LIVE). Crash after it: a complete node
 *      nothing points to yet (unreachable, not wrong).
 *   3. one back-link per neighbour (that neighbour's page). Crash in
 *      between: some back-links missing, recall only.
 *   4. the entry point, only when the index was empty (metapage).
 * A list only ever names nodes whose record 2 is durable, so no link
 * dangles. Back-links are optimistic: a neighbour's list is read under a
 * share lock, the new list computed with no lock held, and written under an
 * exclusive lock only if the node's version and list are unchanged (three
 * attempts).
 *
 * Locks: the metapage before any node page; one node page at a time
 * otherwise. No heavyweight lock, except that an insert into an empty index
 * takes the update lock (DISKANN_UPDATE_LOCK) from before it allocates its
 * id until it has set the entry point, so two such inserts cannot both miss
 * each other.
 */
#include "vx/pg.h"

#include "vx/am/arena.h"
#include "vx/am/visited.h"
#include "vx/core/vamana.hpp"
#include "vx/diskann/diskann.h"
#include "vx/diskann/page_view.hpp"

#include <algorithm>

/* A node's header and code, copied out of its page (what pruning compares). */
typedef struct DiskannNodeCopy
{
	DiskannId id;
	uint8 flags;
	char *bytes; /* DISKANN_NODE_HEADER_SIZE + code_bytes */
} DiskannNodeCopy;

/* Scratch memory of an insert: from its arena while it runs (no per-row malloc), else palloc. */
static void *
DiskannScratch(DiskannIndex di, Size bytes)
{
	return di->arena != NULL ? VxArenaAlloc(di->arena, bytes) : palloc(bytes);
}

/* Free p from DiskannScratch (the arena's memory is only given back at the end of the insert). */
static void
DiskannScratchFree(DiskannIndex di, void *p)
{
	if (di->arena != NULL)
		VxArenaFree(di->arena, p);
	else
		pfree(p);
}

/*
 * Robust-prune candidates (their copies in nodes[0..n), their distances to
 * the base in cand[i].dist, cand[i].id = index into nodes) into at most R
 * ids written to out; returns the count. Pair distances are estimated from
 * both codes, except for candidate `exact` (or UINT32_MAX: none), the new
 * node, whose exact values are known: its pairs use the asymmetric estimate
 * from qc, which is about twice as accurate.
 */
static int
DiskannPrune(DiskannIndex di, vx::core::Candidate *cand, uint32 n, char **nodes, DiskannId *node_ids,
			 uint32 exact, const vx::core::QueryCode *qc, DiskannId *out)
{
	vx::core::Candidate *kept = (vx::core::Candidate *) DiskannScratch(di, sizeof(vx::core::Candidate) * Max(n, 1U));
	float *occlude = (float *) DiskannScratch(di, sizeof(float) * Max(n, 1U));
	uint32 nkept;

	std::sort(cand, cand + n, [](const vx::core::Candidate &a, const vx::core::Candidate &b) {
		return vx::core::nearer(a, b);
	});
	nkept = vx::core::robust_prune(
		cand, n, di->meta.max_alpha, di->meta.num_neighbors,
		[&](uint32_t a, uint32_t b) {
			if (a == exact || b == exact) {
				const DiskannNode *other = (const DiskannNode *) nodes[a == exact ? b : a];

				return di->quantizer.estimate(*qc, DiskannNodeCode((DiskannNode *) other), *DiskannNodeFactors(other),
											  vx::core::EstimateMetric::L2sq);
			}
			return DiskannPairL2(di, (const DiskannNode *) nodes[a], (const DiskannNode *) nodes[b]);
		},
		kept, occlude);
	for (uint32 i = 0; i < nkept; i++)
		out[i] = node_ids[kept[i].id];
	DiskannScratchFree(di, kept);
	DiskannScratchFree(di, occlude);
	return (int) nkept;
}

/*
 * Replace node id's list old_ids[0..old_n) by new_ids[0..new_n) if the node
 * still has that version, is LIVE and still has that list (one WAL record);
 * false when it changed meanwhile.
 */
bool
DiskannReplaceNeighbors(DiskannIndex di, DiskannId id, uint32 version, const DiskannId *old_ids, int old_n,
						const DiskannId *new_ids, int new_n, bool building)
{
	const DiskannMetaPageData *meta = &di->meta;
	BlockNumber blkno = DiskannNodeBlock(meta, id);
	Buffer buf = ReadBuffer(di->index, blkno);
	DiskannNode *node;
	bool same;

	/* exclusive: the list is rewritten under this lock only */
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	node = DiskannNodeOf(BufferGetPage(buf), meta, id);
	same = node->flags == DISKANN_NODE_LIVE && node->version == version && node->nneighbors == old_n &&
		   memcmp(DiskannNodeNeighbors(node, meta), old_ids, sizeof(DiskannId) * old_n) == 0;
	if (same) {
		VxWriter w;
		DiskannNode *dst;

		VxWriterStart(&w, di->index, building);
		dst = DiskannNodeOf(VxWriterPage(&w, buf, false), meta, id);
		memcpy(DiskannNodeNeighbors(dst, meta), new_ids, sizeof(DiskannId) * new_n);
		dst->nneighbors = (uint16) new_n;
		VxWriterFinish(&w);
	}
	UnlockReleaseBuffer(buf);
	return same;
}

/*
 * Plain: the vector pages of the extent whose node page is node_block (just
 * extended or found new, exclusively locked by the caller with the
 * metapage), extended where missing and initialized, as full images in
 * records of up to 4 pages. Already initialized ones (a crash between these
 * records and the allocation) are left as they are: their contents are
 * overwritten when their nodes are written.
 */
static void
DiskannExtendVectorPages(Relation index, const DiskannMetaPageData *meta, BlockNumber node_block, bool building)
{
	for (uint32 first = 1; first <= meta->vector_pages; first += MAX_GENERIC_XLOG_PAGES) {
		uint32 last = Min(first + MAX_GENERIC_XLOG_PAGES - 1, meta->vector_pages);
		Buffer bufs[MAX_GENERIC_XLOG_PAGES];
		bool init[MAX_GENERIC_XLOG_PAGES];
		bool any = false;
		VxWriter w;

		for (uint32 k = first; k <= last; k++) {
			BlockNumber blkno = node_block + k;
			Buffer buf;

			/* extension is serialized by the metapage lock the caller holds */
			if (blkno >= RelationGetNumberOfBlocks(index))
				buf = VxNewBuffer(index, MAIN_FORKNUM);
			else {
				buf = ReadBuffer(index, blkno);
				LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
			}
			if (BufferGetBlockNumber(buf) != blkno)
				elog(ERROR, "diskann index \"%s\" extended to block %u, expected %u", RelationGetRelationName(index),
					 BufferGetBlockNumber(buf), blkno);
			bufs[k - first] = buf;
			init[k - first] = PageIsNew(BufferGetPage(buf)) ||
							  PageGetSpecialSize(BufferGetPage(buf)) != MAXALIGN(sizeof(DiskannPageOpaqueData)) ||
							  DiskannPageGetOpaque(BufferGetPage(buf))->page_type != DISKANN_PAGE_VECTOR;
			any = any || init[k - first];
		}
		if (any) {
			VxWriterStart(&w, index, building);
			for (uint32 k = first; k <= last; k++)
				if (init[k - first])
					DiskannInitVectorPage(VxWriterPage(&w, bufs[k - first], true), meta, k);
			VxWriterFinish(&w);
		}
		for (uint32 k = first; k <= last; k++)
			UnlockReleaseBuffer(bufs[k - first]);
	}
}

/* Allocate an id (WAL record 1); returns it with the version its node will get. */
static DiskannId
DiskannAllocate(DiskannIndex di, bool building, uint32 *version)
{
	Relation index = di->index;
	Buffer metabuf = ReadBuffer(index, DISKANN_METAPAGE_BLKNO);
	DiskannMetaPage meta;
	DiskannId id;
	BlockNumber blkno;
	Buffer nodebuf;
	VxWriter w;
	DiskannMetaPage wmeta;

	/* exclusive on the metapage: id allocation and relation extension are serialized here */
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	meta = DiskannCheckMetaPage(index, BufferGetPage(metabuf));

	if (meta->free_head != DISKANN_INVALID_ID) {
		DiskannNode *node;

		id = meta->free_head;
		blkno = DiskannNodeBlock(meta, id);
		nodebuf = ReadBuffer(index, blkno);
		LockBuffer(nodebuf, BUFFER_LOCK_EXCLUSIVE); /* metapage < node page: the lock order */
		DiskannCheckPage(index, BufferGetPage(nodebuf), DISKANN_PAGE_NODE, blkno);
		node = DiskannNodeOf(BufferGetPage(nodebuf), meta, id);
		if (node->flags != DISKANN_NODE_UNUSED)
			ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
							errmsg("diskann index \"%s\" has a free list entry %u that is in use",
								   RelationGetRelationName(index), id),
							errhint("REINDEX the index.")));
		VxWriterStart(&w, index, building);
		wmeta = DiskannPageGetMeta(VxWriterPage(&w, metabuf, false));
		node = DiskannNodeOf(VxWriterPage(&w, nodebuf, false), meta, id);
		wmeta->free_head = node->next_free;
		wmeta->live_count++;
		node->next_free = DISKANN_INVALID_ID;
		*version = node->version + 1;
	} else {
		bool fresh;
		Page page;

		id = meta->next_id;
		if (id == DISKANN_INVALID_ID)
			ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
							errmsg("diskann index \"%s\" cannot hold more nodes", RelationGetRelationName(index))));
		blkno = DiskannNodeBlock(meta, id);
		fresh = blkno >= RelationGetNumberOfBlocks(index);
		if (fresh)
			nodebuf = VxNewBuffer(index, MAIN_FORKNUM);
		else {
			nodebuf = ReadBuffer(index, blkno);
			LockBuffer(nodebuf, BUFFER_LOCK_EXCLUSIVE);
			/* a page extended before a crash, never initialized */
			fresh = PageIsNew(BufferGetPage(nodebuf));
		}
		if (BufferGetBlockNumber(nodebuf) != blkno)
			elog(ERROR, "diskann index \"%s\" extended to block %u, expected %u", RelationGetRelationName(index),
				 BufferGetBlockNumber(nodebuf), blkno);
		if (fresh && meta->vector_pages > 0)
			DiskannExtendVectorPages(index, meta, blkno, building);
		VxWriterStart(&w, index, building);
		wmeta = DiskannPageGetMeta(VxWriterPage(&w, metabuf, false));
		page = VxWriterPage(&w, nodebuf, fresh);
		if (fresh) {
			DiskannInitPage(page, DISKANN_PAGE_NODE);
			((PageHeader) page)->pd_lower = (LocationIndex) (PageGetContents(page) +
															 (Size) meta->nodes_per_page * meta->node_size -
															 (char *) page);
		}
		*version = DiskannNodeOf(page, meta, id)->version + 1;
		wmeta->next_id = id + 1;
		wmeta->live_count++;
	}
	VxWriterFinish(&w);
	memcpy(&di->meta, meta, sizeof(di->meta));
	UnlockReleaseBuffer(nodebuf);
	UnlockReleaseBuffer(metabuf);
	return id;
}

/* Plain: write chunks [first, last) of id's stored vector (raw: the row's elements) into the registered pages. */
static void
DiskannWriteVectorChunks(DiskannIndex di, VxWriter *w, DiskannId id, const char *raw, uint32 first, uint32 last,
						 Buffer *bufs)
{
	for (uint32 j = first; j < last; j++) {
		uint32 offset;
		uint32 len;

		(void) DiskannVectorChunk(&di->meta, id, j, &offset, &len);
		memcpy(PageGetContents(VxWriterPage(w, bufs[j - first], false)) + offset,
			   raw + (Size) j * DISKANN_PAGE_CAPACITY, len);
	}
}

/* Pin and exclusively lock the vector pages of chunks [first, last) of id's vector. */
static void
DiskannLockVectorChunks(DiskannIndex di, DiskannId id, uint32 first, uint32 last, Buffer *bufs)
{
	for (uint32 j = first; j < last; j++) {
		uint32 offset;
		uint32 len;
		BlockNumber blkno = DiskannVectorChunk(&di->meta, id, j, &offset, &len);

		bufs[j - first] = ReadBuffer(di->index, blkno);
		LockBuffer(bufs[j - first], BUFFER_LOCK_EXCLUSIVE);
		DiskannCheckPage(di->index, BufferGetPage(bufs[j - first]), DISKANN_PAGE_VECTOR, blkno);
	}
}

/*
 * Write the new node (WAL record 2), with its stored vector (plain): the
 * chunks that do not fit the node's record first, in records of their own
 * (the node is not LIVE yet, so nothing reads them), then the node page and
 * the last chunks (at most 3 pages) in one record. Lock order: the node page
 * before its vector pages.
 */
static void
DiskannWriteNode(DiskannIndex di, DiskannId id, uint32 version, ItemPointer tid, const uint8 *code,
				 const vx::core::CodeFactors *factors, const DiskannLabels *labels, const DiskannId *ids, int n,
				 const char *raw, bool building)
{
	const DiskannMetaPageData *meta = &di->meta;
	Buffer buf;
	Buffer vbufs[MAX_GENERIC_XLOG_PAGES];
	uint32 nchunks = meta->vector_pages > 0 ? meta->pages_per_vector : 0;
	uint32 with_node = Min(nchunks, (uint32) MAX_GENERIC_XLOG_PAGES - 1); /* the last chunks, in the node's record */
	VxWriter w;
	DiskannNode *node;

	for (uint32 first = 0; first < nchunks - with_node; first += MAX_GENERIC_XLOG_PAGES) {
		uint32 last = Min(first + MAX_GENERIC_XLOG_PAGES, nchunks - with_node);

		DiskannLockVectorChunks(di, id, first, last, vbufs);
		VxWriterStart(&w, di->index, building);
		DiskannWriteVectorChunks(di, &w, id, raw, first, last, vbufs);
		VxWriterFinish(&w);
		for (uint32 j = first; j < last; j++)
			UnlockReleaseBuffer(vbufs[j - first]);
	}

	buf = ReadBuffer(di->index, DiskannNodeBlock(meta, id));
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	DiskannLockVectorChunks(di, id, nchunks - with_node, nchunks, vbufs);
	VxWriterStart(&w, di->index, building);
	node = DiskannNodeOf(VxWriterPage(&w, buf, false), meta, id);
	node->flags = DISKANN_NODE_LIVE;
	node->version = version;
	node->heap_tid = *tid;
	node->next_free = DISKANN_INVALID_ID;
	node->nneighbors = (uint16) n;
	memcpy(node->factors, factors, sizeof(node->factors));
	memcpy(DiskannNodeCode(node), code, meta->code_bytes);
	DiskannStoreLabels(node, meta, labels);
	memcpy(DiskannNodeNeighbors(node, meta), ids, sizeof(DiskannId) * n);
	DiskannWriteVectorChunks(di, &w, id, raw, nchunks - with_node, nchunks, vbufs);
	VxWriterFinish(&w);
	for (uint32 j = nchunks - with_node; j < nchunks; j++)
		UnlockReleaseBuffer(vbufs[j - (nchunks - with_node)]);
	UnlockReleaseBuffer(buf);
}

/*
 * Add a back-link to id on neighbour nb (WAL record 3): append when there is
 * room, else re-prune the list plus id, written only when id is kept (a list
 * that rejects id stays as it was: no page write and no WAL). new_node: id's header and code; qc:
 * its exact values as a query. With force, id replaces the last entry of a
 * full list instead (the orphan guard of DiskannInsertValue). Returns
 * whether nb's list names id afterwards.
 */
static bool
DiskannAddBackLink(DiskannIndex di, DiskannId nb, DiskannId id, const char *new_node, const vx::core::QueryCode *qc,
				   bool force, bool building)
{
	const DiskannMetaPageData *meta = &di->meta;
	Size copy_size = DISKANN_NODE_HEADER_SIZE + meta->code_bytes;
	uint32 R = meta->num_neighbors;
	char *base = (char *) DiskannScratch(di, copy_size);
	DiskannId *ids = (DiskannId *) DiskannScratch(di, sizeof(DiskannId) * (R + 1));
	DiskannId *new_ids = (DiskannId *) DiskannScratch(di, sizeof(DiskannId) * (R + 1));
	DiskannId *cand_ids = (DiskannId *) DiskannScratch(di, sizeof(DiskannId) * (R + 1));
	char **nodes = (char **) DiskannScratch(di, sizeof(char *) * (R + 1));
	char *arena = (char *) DiskannScratch(di, copy_size * (R + 1));
	vx::core::Candidate *cand = (vx::core::Candidate *) DiskannScratch(di, sizeof(vx::core::Candidate) * (R + 1));
	bool linked = false;

	for (int attempt = 0; attempt < 3; attempt++) {
		int n;
		int new_n;
		uint32 version;

		if (!DiskannReadNode(di, nb, base, ids, &n))
			break;
		if (((DiskannNode *) base)->flags != DISKANN_NODE_LIVE)
			break; /* deleted or freed meanwhile: no link to add */
		version = ((DiskannNode *) base)->version;
		for (int i = 0; i < n && !linked; i++)
			linked = ids[i] == id;
		if (linked)
			break;

		if ((uint32) n < R) {
			memcpy(new_ids, ids, sizeof(DiskannId) * n);
			new_ids[n] = id;
			new_n = n + 1;
		} else if (force) {
			memcpy(new_ids, ids, sizeof(DiskannId) * n);
			new_ids[n - 1] = id; /* the farthest kept entry: lists are kept nearest first */
			new_n = n;
		} else {
			uint32 ncand = 0;
			uint32 exact = UINT32_MAX;

			for (int i = 0; i <= n; i++) {
				DiskannId cid = i < n ? ids[i] : id;
				char *copy = arena + (Size) ncand * copy_size;
				float d;

				if (cid == nb)
					continue;
				if (i < n) {
					if (cid >= meta->next_id || !DiskannReadNode(di, cid, copy, NULL, NULL) ||
						((DiskannNode *) copy)->flags != DISKANN_NODE_LIVE)
						continue; /* links to freed or deleted nodes go now */
					d = DiskannPairL2(di, (const DiskannNode *) base, (const DiskannNode *) copy);
				} else {
					memcpy(copy, new_node, copy_size);
					exact = ncand;
					d = di->quantizer.estimate(*qc, DiskannNodeCode((DiskannNode *) base),
											   *DiskannNodeFactors((DiskannNode *) base), vx::core::EstimateMetric::L2sq);
				}
				nodes[ncand] = copy;
				cand_ids[ncand] = cid;
				cand[ncand] = vx::core::Candidate{d, ncand};
				ncand++;
			}
			new_n = DiskannPrune(di, cand, ncand, nodes, cand_ids, exact, qc, new_ids);
			bool kept = false;
			for (int i = 0; i < new_n && !kept; i++)
				kept = new_ids[i] == id;
			if (!kept)
				break; /* the list stays as it was (a valid pruned list): no page write, no WAL */
		}
		if (DiskannReplaceNeighbors(di, nb, version, ids, n, new_ids, new_n, building)) {
			for (int i = 0; i < new_n && !linked; i++)
				linked = new_ids[i] == id;
			break;
		}
	}
	DiskannScratchFree(di, base);
	DiskannScratchFree(di, ids);
	DiskannScratchFree(di, new_ids);
	DiskannScratchFree(di, cand_ids);
	DiskannScratchFree(di, nodes);
	DiskannScratchFree(di, arena);
	DiskannScratchFree(di, cand);
	return linked;
}

/* Whether the metapage lacks the entry point or the start of one of labels (they need record 4). */
static bool
DiskannStartsMissing(DiskannMetaPage meta, const DiskannLabels *labels)
{
	int n = DiskannStoredLabels(labels->count, DISKANN_MAX_NODE_LABELS);
	DiskannId ignored;

	if (meta->entry_id == DISKANN_INVALID_ID)
		return true;
	for (int i = 0; i < n; i++)
		if (!DiskannLabelEntryFind(meta, labels->values[i], &ignored) &&
			meta->nlabel_entries < DISKANN_MAX_LABEL_ENTRIES)
			return true;
	return false;
}

/*
 * Make id the entry point if the index has none, and the start point of each
 * of its labels that has none while the table has room (WAL record 4, only
 * when something is missing: checked under a share lock first).
 */
static void
DiskannSetStarts(DiskannIndex di, DiskannId id, const DiskannLabels *labels, bool building)
{
	Buffer metabuf = ReadBuffer(di->index, DISKANN_METAPAGE_BLKNO);
	DiskannMetaPage meta;
	int n = DiskannStoredLabels(labels->count, DISKANN_MAX_NODE_LABELS);

	LockBuffer(metabuf, BUFFER_LOCK_SHARE);
	meta = DiskannCheckMetaPage(di->index, BufferGetPage(metabuf));
	if (!DiskannStartsMissing(meta, labels)) {
		UnlockReleaseBuffer(metabuf);
		return;
	}
	/* exclusive, and look again: another insert may have set them meanwhile */
	LockBuffer(metabuf, BUFFER_LOCK_UNLOCK);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	meta = DiskannCheckMetaPage(di->index, BufferGetPage(metabuf));
	if (DiskannStartsMissing(meta, labels)) {
		VxWriter w;
		Page page;
		DiskannMetaPage wmeta;
		DiskannId ignored;

		VxWriterStart(&w, di->index, building);
		page = VxWriterPage(&w, metabuf, false);
		wmeta = DiskannPageGetMeta(page);
		if (wmeta->entry_id == DISKANN_INVALID_ID)
			wmeta->entry_id = id;
		for (int i = 0; i < n; i++)
			if (!DiskannLabelEntryFind(wmeta, labels->values[i], &ignored))
				DiskannLabelEntrySet(wmeta, labels->values[i], id);
		DiskannMetaSetLower(page);
		VxWriterFinish(&w);
	}
	UnlockReleaseBuffer(metabuf);
}

/*
 * Insert one prepared value (detoasted, normalized for cosine) with its heap
 * TID; raw: the value as the column stores it (detoasted, not normalized),
 * whose elements a plain index keeps on its vector pages (memory_optimized:
 * not read).
 */
void
DiskannInsertValue(DiskannIndex di, const char *datum, const char *raw, const DiskannLabels *labels, ItemPointer tid,
				   bool building)
{
	const DiskannMetaPageData *meta = &di->meta;
	Size copy_size;
	uint8 *code;
	vx::core::CodeFactors factors;
	vx::core::QueryCode qc;
	DiskannId id;
	uint32 version;
	bool locked = false;
	bool linked = false;
	DiskannId *chosen;
	int nchosen = 0;
	char *new_node;

	di->arena = VxArenaAcquire();
	DiskannIndexRefreshMeta(di);
	if (!building && meta->entry_id == DISKANN_INVALID_ID) {
		/* the first insert into an empty index: see the file comment */
		LockPage(di->index, DISKANN_UPDATE_LOCK, ExclusiveLock);
		locked = true;
		DiskannIndexRefreshMeta(di);
	}

	code = (uint8 *) palloc0(meta->code_bytes);
	DiskannToFloat(di, datum, di->fvec);
	if (locked && meta->next_id == 0)
		DiskannSetCenter(di, di->fvec, building); /* the first row of an index built empty */
	di->quantizer.encode(di->fvec, code, &factors, di->work);
	qc.planes = (uint8 *) palloc0(di->quantizer.query_bytes());
	di->quantizer.prepare_query(di->fvec, &qc, di->work);

	id = DiskannAllocate(di, building, &version);
	chosen = (DiskannId *) DiskannScratch(di, sizeof(DiskannId) * meta->num_neighbors);
	copy_size = DISKANN_NODE_HEADER_SIZE + meta->code_bytes;

	if (meta->entry_id != DISKANN_INVALID_ID) {
		uint32 L = Max((uint32) meta->search_list_size, (uint32) meta->num_neighbors);
		uint32 max_expanded = 4 * L;
		DiskannPageGraph graph{di, meta->next_id, id};
		DiskannPageDistance dist{di, &qc, vx::core::EstimateMetric::L2sq, NULL};
		bool cached;
		vx::core::VisitedSet *visited = VxVisitedAcquire(meta->next_id, &cached);
		size_t bytes = vx::core::SearchScratch::bytes_needed(L, meta->num_neighbors);
		vx::core::SearchScratch scratch;
		vx::core::Candidate *best = (vx::core::Candidate *) DiskannScratch(di, sizeof(vx::core::Candidate) * L);
		vx::core::Candidate *expanded = (vx::core::Candidate *) DiskannScratch(di, sizeof(vx::core::Candidate) * max_expanded);
		uint32 nexpanded = 0;
		uint32 ncand = 0;
		char **nodes = (char **) DiskannScratch(di, sizeof(char *) * max_expanded);
		DiskannId *node_ids = (DiskannId *) DiskannScratch(di, sizeof(DiskannId) * max_expanded);
		char *arena = (char *) DiskannScratch(di, copy_size * max_expanded);
		uint32 start = meta->entry_id;

		if (!vx::core::SearchScratch::carve(DiskannScratch(di, bytes), bytes, L, meta->num_neighbors, &scratch))
			elog(ERROR, "could not set up diskann insert scratch");
		visited->reset();
		visited->test_and_set(id);
		if (start != id)
			vx::core::greedy_search(graph, dist, &start, 1, L, *visited, scratch, best, expanded, max_expanded,
									&nexpanded);
		VxVisitedRelease(visited, cached);

		/* prune candidates: the expanded nodes that are live, with their codes */
		for (uint32 i = 0; i < nexpanded; i++) {
			char *copy = arena + (Size) ncand * copy_size;

			if (expanded[i].id == id || !DiskannReadNode(di, expanded[i].id, copy, NULL, NULL) ||
				((DiskannNode *) copy)->flags != DISKANN_NODE_LIVE)
				continue;
			nodes[ncand] = copy;
			node_ids[ncand] = expanded[i].id;
			expanded[ncand] = vx::core::Candidate{expanded[i].dist, ncand};
			ncand++;
		}
		nchosen = DiskannPrune(di, expanded, ncand, nodes, node_ids, UINT32_MAX, NULL, chosen);
	}

	DiskannWriteNode(di, id, version, tid, code, &factors, labels, chosen, nchosen,
					 (const char *) VxElemTraitsOf((VxElemKind) meta->elem_kind)->raw(raw), building);

	new_node = (char *) palloc0(copy_size);
	((DiskannNode *) new_node)->flags = DISKANN_NODE_LIVE;
	memcpy(((DiskannNode *) new_node)->factors, &factors, sizeof(factors));
	memcpy(DiskannNodeCode((DiskannNode *) new_node), code, meta->code_bytes);
	for (int i = 0; i < nchosen; i++)
		linked = DiskannAddBackLink(di, chosen[i], id, new_node, &qc, false, building) || linked;
	/*
	 * The orphan guard: when every neighbour pruned the new node away (codes
	 * estimate distances, so a prune can misjudge), the nearest one takes it
	 * in place of its farthest entry; a node without in-links would never be
	 * found.
	 */
	if (nchosen > 0 && !linked)
		DiskannAddBackLink(di, chosen[0], id, new_node, &qc, true, building);

	DiskannSetStarts(di, id, labels, building);
	if (locked)
		UnlockPage(di->index, DISKANN_UPDATE_LOCK, ExclusiveLock);
	VxArenaRelease(di->arena);
	di->arena = NULL;
}

/* aminsert: index one row (NULLs and zero vectors under cosine are not indexed). */
bool
diskanninsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid, Relation heap,
			  IndexUniqueCheck checkUnique, bool indexUnchanged, IndexInfo *indexInfo)
{
	MemoryContext ctx;
	MemoryContext old;
	DiskannIndexData di;
	Datum value;
	bool skip;

	if (isnull[0])
		return false;

	ctx = AllocSetContextCreate(CurrentMemoryContext, "Diskann insert context", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(ctx);
	DiskannOpenIndex(&di, index);
	value = VxPrepareValue(&di.dist, values[0], true, &skip);
	if (!skip) {
		const char *datum = DatumGetPointer(value);
		DiskannLabels labels;

		labels.count = 0;
		if (di.meta.label_capacity > 0)
			DiskannReadLabels(values[1], isnull[1], &labels);
		if (VxElemTraitsOf((VxElemKind) di.meta.elem_kind)->dimensions(datum) != di.meta.dimensions)
			VxCheckQuery(&di.dist, datum);
		DiskannInsertValue(&di, datum,
						   di.meta.vector_pages > 0 ? DatumGetPointer(PG_DETOAST_DATUM(values[0])) : datum, &labels,
						   heap_tid, false);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(ctx);
	return false;
}
