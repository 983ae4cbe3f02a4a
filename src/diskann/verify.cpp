/*
 * verify.cpp -- vx_diskann_verify(index regclass, tolerance float8): an
 * amcheck-style structural check of a diskann index, one row of text per
 * problem found, none when the index is healthy.
 *
 * Passes (each page share-locked alone, only while it is copied):
 *   1. metapage: magic, version, the geometry recomputed from what is
 *      indexed and compared field by field, agreement with the column and
 *      the opclass, entry point and free-list head in range, enough blocks
 *      for every allocated id;
 *   2. blocks: page_id and page type of every block (metapage, center
 *      pages, node pages, and for plain the vector pages that follow each
 *      node page: the type is known from the block number); all-zero pages
 *      only beyond the last block an allocated id needs (a crash after
 *      extending);
 *   3. nodes: valid flags; for LIVE and DELETED nodes a version, a valid
 *      heap TID, at most num_neighbors neighbours; then every list: ids
 *      below next_id, not the node itself, no duplicates, naming a node that
 *      was written at some time;
 *   4. entry point: a node in the graph whenever a LIVE node exists;
 *   5. reachability: a breadth-first walk from the entry point (through
 *      DELETED nodes too, as searches do);
 *   6. free list: only UNUSED nodes below next_id, no cycle;
 *   7. plain: the vector of every LIVE node, read from its vector pages,
 *      encodes (normalized for cosine) to the code its node record holds.
 *
 * Soft findings cost recall, not validity: LIVE nodes the walk does not
 * reach, and links to freed nodes (a link an insert wrote while VACUUM
 * freed); each kind is reported only when its count exceeds tolerance times
 * the LIVE nodes (0 reports every one). Concurrent writers may cause soft
 * findings only: ids allocated after the metapage was read are not checked,
 * and the free list is judged only if its head did not move.
 */
#include "vx/pg.h"

#include "vx/am/verify.h"
#include "vx/diskann/diskann.h"

typedef struct DiskannVerifyState
{
	VxVerifyOutput out;
	Relation index;
	DiskannMetaPageData meta;
	BlockNumber nblocks;
	double tolerance;
	uint8 *flags;	  /* per id below next_id */
	uint32 *versions; /* per id */
	uint64 nlive;
	uint64 nstale;
	char *page;
} DiskannVerifyState;

/* Copy block blkno into vs->page (share lock held only while copying). */
static Page
DiskannVerifyCopy(DiskannVerifyState *vs, BlockNumber blkno)
{
	Buffer buf = ReadBuffer(vs->index, blkno);

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	memcpy(vs->page, BufferGetPage(buf), BLCKSZ);
	UnlockReleaseBuffer(buf);
	return (Page) vs->page;
}

/* Whether a copied page is ours, of the given type. */
static bool
DiskannVerifyPageIs(Page page, uint16 page_type)
{
	return !PageIsNew(page) && PageGetSpecialSize(page) == MAXALIGN(sizeof(DiskannPageOpaqueData)) &&
		   DiskannPageGetOpaque(page)->page_id == DISKANN_PAGE_ID && DiskannPageGetOpaque(page)->page_type == page_type;
}

/* next_id as the metapage has it now (concurrent inserts may have advanced it since the walk began). */
static DiskannId
DiskannVerifyNextId(DiskannVerifyState *vs)
{
	Buffer buf = ReadBuffer(vs->index, DISKANN_METAPAGE_BLKNO);
	DiskannId next_id;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	next_id = DiskannPageGetMeta(BufferGetPage(buf))->next_id;
	UnlockReleaseBuffer(buf);
	return next_id;
}

/*
 * Whether node id is still unwritten: read again before a link to it is
 * judged, since an insert may have written it after the flags pass read it
 * (the link was then written after the node, in WAL order).
 */
static bool
DiskannVerifyNeverWritten(DiskannVerifyState *vs, DiskannId id)
{
	Buffer buf = ReadBuffer(vs->index, DiskannNodeBlock(&vs->meta, id));
	DiskannNode *node;
	bool unwritten;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	node = DiskannNodeOf(BufferGetPage(buf), &vs->meta, id);
	unwritten = node->flags == DISKANN_NODE_UNUSED && node->version == 0;
	UnlockReleaseBuffer(buf);
	return unwritten;
}

/* Pass 1: the metapage; false when nothing else can be checked. */
static bool
DiskannVerifyMeta(DiskannVerifyState *vs)
{
	Page page = DiskannVerifyCopy(vs, DISKANN_METAPAGE_BLKNO);
	DiskannMetaPageData *m = &vs->meta;
	DiskannMetaPageData want;
	int column_dims = TupleDescAttr(vs->index->rd_att, 0)->atttypmod;

	if (!DiskannVerifyPageIs(page, DISKANN_PAGE_META)) {
		VxVerifyReport(&vs->out, "block 0: not a diskann metapage");
		return false;
	}
	memcpy(m, DiskannPageGetMeta(page), sizeof(*m));
	/* the size after the metapage: an insert extends the relation before it advances next_id */
	vs->nblocks = RelationGetNumberOfBlocks(vs->index);
	if (m->magic != DISKANN_MAGIC) {
		VxVerifyReport(&vs->out, "metapage: magic 0x%08X, expected 0x%08X", m->magic, DISKANN_MAGIC);
		return false;
	}
	if (m->version != DISKANN_VERSION) {
		VxVerifyReport(&vs->out, "metapage: format version %u, expected %d", m->version, DISKANN_VERSION);
		return false;
	}
	if (m->num_neighbors < DISKANN_MIN_NUM_NEIGHBORS || m->num_neighbors > DISKANN_MAX_NUM_NEIGHBORS ||
		m->bits == 0 || m->bits > DISKANN_MAX_BITS || m->code_dimensions == 0 || m->code_dimensions > m->dimensions ||
		(m->elem_kind != VX_ELEM_F32 && m->elem_kind != VX_ELEM_F16) ||
		(m->metric != VX_METRIC_L2 && m->metric != VX_METRIC_IP && m->metric != VX_METRIC_COSINE)) {
		VxVerifyReport(&vs->out, "metapage: invalid parameters (num_neighbors %u, bits %u, code dimensions %u of %u)",
					   m->num_neighbors, m->bits, m->code_dimensions, m->dimensions);
		return false;
	}
	DiskannComputeGeometry(&want, (VxElemKind) m->elem_kind, (VxMetric) m->metric, m->dimensions, m->code_dimensions,
						   m->num_neighbors, m->search_list_size, m->max_alpha, m->storage_layout, m->bits,
						   m->label_capacity);
	if (want.vector_bytes != m->vector_bytes || want.vectors_per_page != m->vectors_per_page ||
		want.pages_per_vector != m->pages_per_vector || want.vector_pages != m->vector_pages) {
		VxVerifyReport(&vs->out,
					   "metapage: vector tier geometry (vector %u bytes, %u a page, %u pages a vector, %u pages an "
					   "extent) differs from the one computed (%u, %u, %u, %u)",
					   m->vector_bytes, m->vectors_per_page, m->pages_per_vector, m->vector_pages, want.vector_bytes,
					   want.vectors_per_page, want.pages_per_vector, want.vector_pages);
		return false;
	}
	if (want.code_bytes != m->code_bytes || want.node_size != m->node_size ||
		want.nodes_per_page != m->nodes_per_page || want.center_pages != m->center_pages) {
		VxVerifyReport(&vs->out,
					   "metapage: geometry (code %u, node %u, per page %u, center pages %u) differs from the one "
					   "computed (%u, %u, %u, %u)",
					   m->code_bytes, m->node_size, m->nodes_per_page, m->center_pages, want.code_bytes,
					   want.node_size, want.nodes_per_page, want.center_pages);
		return false;
	}
	if (column_dims >= 0 && (uint32) column_dims != m->dimensions)
		VxVerifyReport(&vs->out, "metapage: %u dimensions, the column has %d", m->dimensions, column_dims);
	if (VxGetTypeInfo(vs->index, DISKANN_TYPE_INFO_PROC)->kind != (VxElemKind) m->elem_kind)
		VxVerifyReport(&vs->out, "metapage: element kind %u does not match the operator class", m->elem_kind);
	if (m->entry_id != DISKANN_INVALID_ID && m->entry_id >= m->next_id)
		VxVerifyReport(&vs->out, "metapage: entry point %u is not below next_id %u", m->entry_id, m->next_id);
	if (m->free_head != DISKANN_INVALID_ID && m->free_head >= m->next_id)
		VxVerifyReport(&vs->out, "metapage: free list head %u is not below next_id %u", m->free_head, m->next_id);
	if (m->next_id > 0 && DiskannNodeBlock(m, m->next_id - 1) + m->vector_pages >= vs->nblocks) {
		VxVerifyReport(&vs->out, "metapage: next_id %u needs block %u, the index has %u blocks", m->next_id,
					   DiskannNodeBlock(m, m->next_id - 1) + m->vector_pages, vs->nblocks);
		return false;
	}
	return true;
}

/* Pass 2: every block's type. */
static void
DiskannVerifyBlocks(DiskannVerifyState *vs)
{
	const DiskannMetaPageData *m = &vs->meta;
	BlockNumber last_needed =
		m->next_id > 0 ? DiskannNodeBlock(m, m->next_id - 1) + m->vector_pages : m->center_pages;

	for (BlockNumber blkno = 1; blkno < vs->nblocks; blkno++) {
		Page page = DiskannVerifyCopy(vs, blkno);
		uint16 type = DiskannBlockType(m, blkno);

		if (PageIsNew(page) && blkno > last_needed)
			continue; /* extended, then a crash before the id was allocated */
		if (!DiskannVerifyPageIs(page, type))
			VxVerifyReport(&vs->out, "block %u: not a diskann %s page", blkno,
						   type == DISKANN_PAGE_CENTER ? "center" : type == DISKANN_PAGE_NODE ? "node" : "vector");
		else if (type == DISKANN_PAGE_VECTOR &&
				 ((PageHeader) page)->pd_lower <
					 (Size) (PageGetContents(page) - (char *) page) +
						 DiskannVectorPageBytes(m, (blkno - DiskannFirstNodeBlock(m)) % (1 + m->vector_pages)))
			VxVerifyReport(&vs->out, "block %u: pd_lower %u does not cover the vectors", blkno,
						   ((PageHeader) page)->pd_lower);
		else if (type == DISKANN_PAGE_NODE &&
				 ((PageHeader) page)->pd_lower <
					 (Size) (PageGetContents(page) - (char *) page) + (Size) m->nodes_per_page * m->node_size)
			VxVerifyReport(&vs->out, "block %u: pd_lower %u does not cover the node records", blkno,
						   ((PageHeader) page)->pd_lower);
	}
}

/* Pass 3: nodes and their lists. */
static void
DiskannVerifyNodes(DiskannVerifyState *vs)
{
	const DiskannMetaPageData *m = &vs->meta;
	uint32 npages = (m->next_id + m->nodes_per_page - 1) / m->nodes_per_page;

	/* first the flags and versions of every node, then the links that name them */
	for (int pass = 0; pass < 2; pass++) {
		for (uint32 p = 0; p < npages; p++) {
			BlockNumber blkno = DiskannNodePageBlock(m, p);
			Page page = DiskannVerifyCopy(vs, blkno);

			if (!DiskannVerifyPageIs(page, DISKANN_PAGE_NODE))
				continue; /* reported by pass 2 */
			for (uint32 i = 0; i < m->nodes_per_page; i++) {
				DiskannId id = p * m->nodes_per_page + i;
				DiskannNode *node = DiskannNodeAt(page, m, i);
				const DiskannId *ids = DiskannNodeNeighbors(node, m);

				if (id >= m->next_id)
					break;
				if (pass == 0) {
					vs->flags[id] = node->flags;
					vs->versions[id] = node->version;
					if (!DiskannNodeFlagsValid(node->flags)) {
						VxVerifyReport(&vs->out, "node %u: invalid flags 0x%02X", id, node->flags);
						vs->flags[id] = DISKANN_NODE_UNUSED;
						continue;
					}
					if (node->flags == DISKANN_NODE_UNUSED)
						continue;
					if (node->flags == DISKANN_NODE_LIVE)
						vs->nlive++;
					if (node->version == 0)
						VxVerifyReport(&vs->out, "node %u: in the graph with version 0", id);
					if (!ItemPointerIsValid(&node->heap_tid))
						VxVerifyReport(&vs->out, "node %u: invalid heap TID", id);
					if (node->nlabels > m->label_capacity && node->nlabels != DISKANN_LABELS_OVERFLOW &&
						node->nlabels != DISKANN_LABELS_NULL)
						VxVerifyReport(&vs->out, "node %u: %u labels, at most %u", id, node->nlabels,
									   m->label_capacity);
					if (node->nneighbors > m->num_neighbors)
						VxVerifyReport(&vs->out, "node %u: %u neighbours, at most %u", id, node->nneighbors,
									   m->num_neighbors);
					continue;
				}
				if (node->flags == DISKANN_NODE_UNUSED || !DiskannNodeFlagsValid(node->flags))
					continue;
				for (uint32 k = 0; k < Min((uint32) node->nneighbors, (uint32) m->num_neighbors); k++) {
					DiskannId nb = ids[k];
					bool dup = false;

					for (uint32 j = 0; j < k && !dup; j++)
						dup = ids[j] == nb;
					if (nb >= m->next_id) {
						if (nb >= DiskannVerifyNextId(vs))
							VxVerifyReport(&vs->out, "node %u: neighbour %u is not below next_id %u", id, nb,
										   m->next_id);
						/* else: allocated after the walk began (a concurrent insert), not checked */
					}
					else if (nb == id)
						VxVerifyReport(&vs->out, "node %u: links to itself", id);
					else if (dup)
						VxVerifyReport(&vs->out, "node %u: neighbour %u listed twice", id, nb);
					else if (vs->flags[nb] == DISKANN_NODE_UNUSED && vs->versions[nb] == 0 &&
							 DiskannVerifyNeverWritten(vs, nb))
						VxVerifyReport(&vs->out, "node %u: neighbour %u was never written", id, nb);
					else if (vs->flags[nb] == DISKANN_NODE_UNUSED)
						vs->nstale++;
				}
			}
		}
	}
}

/* Pass 4 and 5: the entry point, and the nodes reachable from it. */
static void
DiskannVerifyReachable(DiskannVerifyState *vs)
{
	const DiskannMetaPageData *m = &vs->meta;
	DiskannId entry = m->entry_id;
	bool *seen;
	DiskannId *queue;
	uint64 head = 0;
	uint64 tail = 0;
	uint64 unreachable = 0;
	DiskannId first_unreachable = DISKANN_INVALID_ID;

	if (entry == DISKANN_INVALID_ID || entry >= m->next_id) {
		if (vs->nlive > 0)
			VxVerifyReport(&vs->out, "metapage: no entry point, but %llu live nodes", (unsigned long long) vs->nlive);
		return;
	}
	if (vs->flags[entry] == DISKANN_NODE_UNUSED) {
		VxVerifyReport(&vs->out, "metapage: entry point %u is not in the graph", entry);
		return;
	}

	seen = (bool *) MemoryContextAllocExtended(CurrentMemoryContext, (Size) m->next_id, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	queue = (DiskannId *) MemoryContextAllocHuge(CurrentMemoryContext, (Size) m->next_id * sizeof(DiskannId));
	seen[entry] = true;
	queue[tail++] = entry;
	while (head < tail) {
		DiskannId id = queue[head++];
		Page page = DiskannVerifyCopy(vs, DiskannNodeBlock(m, id));
		DiskannNode *node;
		const DiskannId *ids;

		if (!DiskannVerifyPageIs(page, DISKANN_PAGE_NODE))
			continue;
		node = DiskannNodeOf(page, m, id);
		ids = DiskannNodeNeighbors(node, m);
		if (node->flags == DISKANN_NODE_UNUSED)
			continue;
		for (uint32 k = 0; k < Min((uint32) node->nneighbors, (uint32) m->num_neighbors); k++)
			if (ids[k] < m->next_id && !seen[ids[k]] && vs->flags[ids[k]] != DISKANN_NODE_UNUSED) {
				seen[ids[k]] = true;
				queue[tail++] = ids[k];
			}
	}
	for (DiskannId id = 0; id < m->next_id; id++)
		if (vs->flags[id] == DISKANN_NODE_LIVE && !seen[id]) {
			if (unreachable++ == 0)
				first_unreachable = id;
		}
	if ((double) unreachable > vs->tolerance * (double) vs->nlive)
		VxVerifyReport(&vs->out, "%llu of %llu live nodes are not reachable from the entry point (first: %u)",
					   (unsigned long long) unreachable, (unsigned long long) vs->nlive, first_unreachable);
	if ((double) vs->nstale > vs->tolerance * (double) vs->nlive)
		VxVerifyReport(&vs->out, "%llu links name freed nodes", (unsigned long long) vs->nstale);
}

/* Pass 4b: every label start point is a node in the graph that has the label. */
static void
DiskannVerifyLabelStarts(DiskannVerifyState *vs)
{
	char meta_copy[BLCKSZ];
	DiskannMetaPage meta;

	memcpy(meta_copy, DiskannVerifyCopy(vs, DISKANN_METAPAGE_BLKNO), BLCKSZ);
	meta = DiskannPageGetMeta((Page) meta_copy);
	if (meta->nlabel_entries > DISKANN_MAX_LABEL_ENTRIES) {
		VxVerifyReport(&vs->out, "metapage: %u label start points, at most %d", meta->nlabel_entries,
					   DISKANN_MAX_LABEL_ENTRIES);
		return;
	}
	for (int i = 0; i < meta->nlabel_entries; i++) {
		DiskannLabelEntry *e = &DiskannMetaLabels(meta)[i];
		Page page;
		DiskannNode *node;
		bool has = false;

		if (i > 0 && DiskannMetaLabels(meta)[i - 1].label >= e->label)
			VxVerifyReport(&vs->out, "metapage: label start points out of order at label %d", e->label);
		if (e->id >= vs->meta.next_id)
			continue; /* a start set by an insert after the walk began */
		page = DiskannVerifyCopy(vs, DiskannNodeBlock(&vs->meta, e->id));
		if (!DiskannVerifyPageIs(page, DISKANN_PAGE_NODE))
			continue;
		node = DiskannNodeOf(page, &vs->meta, e->id);
		for (int k = 0; k < DiskannStoredLabels(node->nlabels, vs->meta.label_capacity) && !has; k++)
			has = DiskannNodeLabels(node, &vs->meta)[k] == e->label;
		if (node->flags == DISKANN_NODE_UNUSED)
			VxVerifyReport(&vs->out, "label %d: start point %u is not in the graph", e->label, e->id);
		else if (!has && node->nlabels != DISKANN_LABELS_OVERFLOW)
			VxVerifyReport(&vs->out, "label %d: start point %u does not have the label", e->label, e->id);
	}
}

/* Pass 6: the free list. */
static void
DiskannVerifyFreeList(DiskannVerifyState *vs)
{
	const DiskannMetaPageData *m = &vs->meta;
	DiskannMetaPageData now;
	DiskannId id = m->free_head;
	uint64 steps = 0;

	memcpy(&now, DiskannPageGetMeta(DiskannVerifyCopy(vs, DISKANN_METAPAGE_BLKNO)), sizeof(now));
	if (now.free_head != m->free_head)
		return; /* a concurrent insert or vacuum moved it */
	while (id != DISKANN_INVALID_ID) {
		Page page;
		DiskannNode *node;

		if (id >= m->next_id) {
			VxVerifyReport(&vs->out, "free list: id %u is not below next_id %u", id, m->next_id);
			return;
		}
		if (++steps > m->next_id) {
			VxVerifyReport(&vs->out, "free list: cycle");
			return;
		}
		page = DiskannVerifyCopy(vs, DiskannNodeBlock(m, id));
		if (!DiskannVerifyPageIs(page, DISKANN_PAGE_NODE))
			return;
		node = DiskannNodeOf(page, m, id);
		if (node->flags != DISKANN_NODE_UNUSED) {
			VxVerifyReport(&vs->out, "free list: node %u is in the graph", id);
			return;
		}
		id = node->next_free;
	}
}

/*
 * Pass 7 (plain): each LIVE node's stored vector, normalized for cosine and
 * encoded with the index's quantizer, gives the code of its node record
 * (builds and inserts encode the same value the same way).
 */
static void
DiskannVerifyVectors(DiskannVerifyState *vs)
{
	const DiskannMetaPageData *m = &vs->meta;
	DiskannIndexData di;
	const VxElemTraits *traits = VxElemTraitsOf((VxElemKind) m->elem_kind);
	char *datum = (char *) palloc0(traits->datum_size(m->dimensions, 0));
	char *raw = (char *) palloc0(m->vector_bytes);
	uint8 *code = (uint8 *) palloc0(m->code_bytes);
	uint8 *stored = (uint8 *) palloc0(m->code_bytes);
	uint64 mismatches = 0;
	DiskannId first_mismatch = DISKANN_INVALID_ID;
	MemoryContext node_ctx = AllocSetContextCreate(CurrentMemoryContext, "Diskann verify node", ALLOCSET_SMALL_SIZES);
	MemoryContext old;

	DiskannOpenIndex(&di, vs->index);
	for (DiskannId id = 0; id < m->next_id; id++) {
		Page page;
		Size done = 0;
		bool ok = true;
		Datum value;
		bool skip;
		vx::core::CodeFactors factors;
		uint32 version;

		if (vs->flags[id] != DISKANN_NODE_LIVE)
			continue;
		page = DiskannVerifyCopy(vs, DiskannNodeBlock(m, id));
		if (!DiskannVerifyPageIs(page, DISKANN_PAGE_NODE) || DiskannNodeOf(page, m, id)->flags != DISKANN_NODE_LIVE)
			continue; /* reported, or changed by a concurrent writer */
		memcpy(stored, DiskannNodeCode(DiskannNodeOf(page, m, id)), m->code_bytes);
		version = DiskannNodeOf(page, m, id)->version;
		for (uint32 j = 0; j < m->pages_per_vector && ok; j++) {
			uint32 offset;
			uint32 len;

			page = DiskannVerifyCopy(vs, DiskannVectorChunk(m, id, j, &offset, &len));
			ok = DiskannVerifyPageIs(page, DISKANN_PAGE_VECTOR);
			if (ok)
				memcpy(raw + done, PageGetContents(page) + offset, len);
			done += len;
		}
		if (!ok)
			continue; /* reported by pass 2 */
		/* a concurrent VACUUM and insert may have freed and reused the id between the copies */
		page = DiskannVerifyCopy(vs, DiskannNodeBlock(m, id));
		if (DiskannNodeOf(page, m, id)->flags != DISKANN_NODE_LIVE || DiskannNodeOf(page, m, id)->version != version)
			continue;
		traits->make_datum(raw, m->dimensions, datum);
		/* the normalized copy (cosine) lives until the next node */
		old = MemoryContextSwitchTo(node_ctx);
		value = VxPrepareValue(&di.dist, PointerGetDatum(datum), true, &skip);
		if (!skip)
			DiskannEncode(&di, DatumGetPointer(value), code, &factors);
		MemoryContextSwitchTo(old);
		MemoryContextReset(node_ctx);
		if (skip || memcmp(code, stored, m->code_bytes) != 0) {
			if (mismatches++ == 0)
				first_mismatch = id;
		}
	}
	MemoryContextDelete(node_ctx);
	if (mismatches > 0)
		VxVerifyReport(&vs->out, "%llu live nodes have a stored vector that does not give their code (first: %u)",
					   (unsigned long long) mismatches, first_mismatch);
}

/*
 * vx_diskann_verify(index regclass, tolerance float8) RETURNS TABLE (problem text):
 * one row per problem found, none for a healthy index.
 */
VX_FUNCTION(vx_diskann_verify)
{
	Oid indexoid = PG_GETARG_OID(0);
	DiskannVerifyState vs;
	Relation heap;
	MemoryContext work_ctx;
	MemoryContext old;

	MemSet(&vs, 0, sizeof(vs));
	VxVerifyBegin(fcinfo, &vs.out);
	vs.tolerance = VxVerifyTolerance(PG_GETARG_FLOAT8(1));

	work_ctx = AllocSetContextCreate(CurrentMemoryContext, "Diskann verify context", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(work_ctx);
	vs.index = VxVerifyOpen(indexoid, "diskann", diskannbuild, &heap);
	vs.nblocks = RelationGetNumberOfBlocks(vs.index);
	vs.page = (char *) palloc(BLCKSZ);

	if (DiskannVerifyMeta(&vs)) {
		vs.flags = (uint8 *) MemoryContextAllocExtended(work_ctx, (Size) vs.meta.next_id + 1, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		vs.versions = (uint32 *) MemoryContextAllocExtended(work_ctx, ((Size) vs.meta.next_id + 1) * sizeof(uint32), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		DiskannVerifyBlocks(&vs);
		DiskannVerifyNodes(&vs);
		DiskannVerifyReachable(&vs);
		DiskannVerifyLabelStarts(&vs);
		DiskannVerifyFreeList(&vs);
		if (vs.meta.vector_pages > 0)
			DiskannVerifyVectors(&vs);
	}
	VxVerifyEnd(&vs.out);
	VxVerifyClose(vs.index, heap);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(work_ctx);
	return (Datum) 0;
}
