/*
 * verify.cpp -- vx_ivfflat_verify(index): an amcheck-style walk of an
 * ivfflat index, one row per problem found, none for a healthy index.
 *
 * Checks: the metapage (magic, version, geometry); the directory chain
 * (in range, no cycle, directory pages only, exactly `lists` items of the
 * right size, each center a datum of the index's kind and dimensions);
 * every list chain (in range, entry pages only, no page in two chains or
 * twice in one, the insert page on the chain); every entry (size, a datum
 * of the index's dimensions, a valid heap TID). Pages reached by no chain
 * are not problems: an extension whose record was lost in a crash leaves
 * such a page, which nothing points to. Pages are read one at a time under
 * a share lock, so the walk runs beside inserts (a chain may grow while it
 * is walked; that is not a problem either).
 */
#include "vx/pg.h"

#include "vx/am/verify.h"
#include "vx/ivfflat/ivfflat.h"

typedef struct IvfflatVerifyState
{
	VxVerifyOutput out;
	Relation index;
	BlockNumber nblocks;
	IvfflatMetaPageData meta;
	const VxElemTraits *traits;
	uint8 *owner; /* per block: 0 unseen, 1 directory, 2 entry */
	BlockNumber *starts;
	BlockNumber *inserts;
	uint32 nlists;
	uint64 entries;
} IvfflatVerifyState;

/* Check the metapage; false if nothing else can be checked. */
static bool
IvfflatVerifyMeta(IvfflatVerifyState *vs)
{
	Buffer buf;
	Page page;
	IvfflatMetaPage m;
	bool ok = true;

	if (vs->nblocks == 0) {
		VxVerifyReport(&vs->out, "index has no blocks");
		return false;
	}
	buf = ReadBuffer(vs->index, IVFFLAT_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	m = IvfflatPageGetMeta(page);
	if (PageIsNew(page)) {
		VxVerifyReport(&vs->out, "metapage: uninitialized");
		ok = false;
	} else if (m->magic == IVFFLAT_PGVECTOR_MAGIC) {
		VxVerifyReport(&vs->out, "metapage: magic %08X, expected %08X (built by pgvector)", m->magic, IVFFLAT_MAGIC);
		ok = false;
	} else if (m->magic != IVFFLAT_MAGIC) {
		VxVerifyReport(&vs->out, "metapage: magic %08X, expected %08X", m->magic, IVFFLAT_MAGIC);
		ok = false;
	} else if (m->version != IVFFLAT_VERSION) {
		VxVerifyReport(&vs->out, "metapage: format version %u, expected %u", m->version, IVFFLAT_VERSION);
		ok = false;
	} else {
		memcpy(&vs->meta, m, sizeof(vs->meta));
		if (vs->meta.lists < IVFFLAT_MIN_LISTS || vs->meta.lists > IVFFLAT_MAX_LISTS) {
			VxVerifyReport(&vs->out, "metapage: lists %u out of range", vs->meta.lists);
			ok = false;
		}
		if (!VxDistanceSupported((VxElemKind) vs->meta.elem_kind, (VxMetric) vs->meta.metric)) {
			VxVerifyReport(&vs->out, "metapage: invalid element kind %u or metric %u", vs->meta.elem_kind,
						   vs->meta.metric);
			ok = false;
		} else if (vs->meta.center_size !=
				   MAXALIGN(VxElemTraitsOf((VxElemKind) vs->meta.elem_kind)->datum_size(vs->meta.dimensions, 0))) {
			VxVerifyReport(&vs->out, "metapage: center size %u does not match %u dimensions", vs->meta.center_size,
						   vs->meta.dimensions);
			ok = false;
		}
		if (vs->meta.first_directory == InvalidBlockNumber || vs->meta.first_directory >= vs->nblocks) {
			VxVerifyReport(&vs->out, "metapage: first directory block %u out of range", vs->meta.first_directory);
			ok = false;
		}
	}
	UnlockReleaseBuffer(buf);
	if (ok)
		vs->traits = VxElemTraitsOf((VxElemKind) vs->meta.elem_kind);
	return ok;
}

/* Whether a datum of size bytes at p is a value of the index's kind and dimensions. */
static bool
IvfflatVerifyDatum(IvfflatVerifyState *vs, const char *p, Size size)
{
	if (size < VARHDRSZ || VARSIZE_ANY(p) > size)
		return false;
	if (VARSIZE_ANY(p) != vs->traits->datum_size(vs->meta.dimensions, 0))
		return false;
	return vs->traits->dimensions(p) == vs->meta.dimensions;
}

/* Walk the directory, collecting the lists. */
static void
IvfflatVerifyDirectory(IvfflatVerifyState *vs)
{
	BlockNumber blkno = vs->meta.first_directory;
	Size item_size = IVFFLAT_LIST_SIZE(vs->meta.center_size);

	while (blkno != InvalidBlockNumber) {
		Buffer buf;
		Page page;
		OffsetNumber maxoff;

		if (blkno >= vs->nblocks) {
			VxVerifyReport(&vs->out, "directory: link to block %u past the end (%u blocks)", blkno, vs->nblocks);
			return;
		}
		if (vs->owner[blkno] != 0) {
			VxVerifyReport(&vs->out, "directory: block %u reached twice (cycle)", blkno);
			return;
		}
		vs->owner[blkno] = 1;
		buf = ReadBuffer(vs->index, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (PageIsNew(page) || PageGetSpecialSize(page) != MAXALIGN(sizeof(IvfflatPageOpaqueData)) ||
			IvfflatPageGetOpaque(page)->page_id != IVFFLAT_PAGE_ID ||
			IvfflatPageGetOpaque(page)->page_type != IVFFLAT_PAGE_DIRECTORY) {
			VxVerifyReport(&vs->out, "block %u: not a directory page", blkno);
			UnlockReleaseBuffer(buf);
			return;
		}
		maxoff = PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++) {
			ItemId iid = PageGetItemId(page, off);
			IvfflatList list;

			if (!ItemIdIsNormal(iid) || ItemIdGetLength(iid) != item_size) {
				VxVerifyReport(&vs->out, "block %u item %u: not a list item", blkno, off);
				continue;
			}
			list = (IvfflatList) PageGetItem(page, iid);
			if (!IvfflatVerifyDatum(vs, IVFFLAT_LIST_CENTER(list), vs->meta.center_size))
				VxVerifyReport(&vs->out, "block %u item %u: center is not a %s of %u dimensions", blkno, off,
							   vs->traits->type_name, vs->meta.dimensions);
			if (vs->nlists < vs->meta.lists) {
				vs->starts[vs->nlists] = list->start;
				vs->inserts[vs->nlists] = list->insert;
			}
			vs->nlists++;
		}
		blkno = IvfflatPageGetOpaque(page)->next;
		UnlockReleaseBuffer(buf);
	}
	if (vs->nlists != vs->meta.lists)
		VxVerifyReport(&vs->out, "directory: %u lists, metapage says %u", vs->nlists, vs->meta.lists);
	vs->nlists = Min(vs->nlists, vs->meta.lists);
}

/* Walk one list's chain. */
static void
IvfflatVerifyList(IvfflatVerifyState *vs, uint32 l)
{
	BlockNumber blkno = vs->starts[l];
	bool insert_seen = false;

	if (blkno == InvalidBlockNumber) {
		VxVerifyReport(&vs->out, "list %u: no first page", l);
		return;
	}
	while (blkno != InvalidBlockNumber) {
		Buffer buf;
		Page page;
		OffsetNumber maxoff;

		if (blkno >= vs->nblocks) {
			/* a concurrent insert may have extended the relation since nblocks was read */
			vs->nblocks = RelationGetNumberOfBlocks(vs->index);
			if (blkno >= vs->nblocks) {
				VxVerifyReport(&vs->out, "list %u: link to block %u past the end", l, blkno);
				return;
			}
			vs->owner = (uint8 *) repalloc_huge(vs->owner, vs->nblocks);
		}
		if (vs->owner[blkno] != 0) {
			VxVerifyReport(&vs->out, "list %u: block %u already reached (cycle or shared page)", l, blkno);
			return;
		}
		vs->owner[blkno] = 2;
		if (blkno == vs->inserts[l])
			insert_seen = true;
		buf = ReadBuffer(vs->index, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (PageIsNew(page) || PageGetSpecialSize(page) != MAXALIGN(sizeof(IvfflatPageOpaqueData)) ||
			IvfflatPageGetOpaque(page)->page_id != IVFFLAT_PAGE_ID ||
			IvfflatPageGetOpaque(page)->page_type != IVFFLAT_PAGE_ENTRY) {
			VxVerifyReport(&vs->out, "list %u: block %u is not an entry page", l, blkno);
			UnlockReleaseBuffer(buf);
			return;
		}
		maxoff = PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++) {
			ItemId iid = PageGetItemId(page, off);
			IvfflatEntryData *e;

			if (!ItemIdIsNormal(iid) || ItemIdGetLength(iid) < IVFFLAT_ENTRY_SIZE(VARHDRSZ)) {
				VxVerifyReport(&vs->out, "block %u item %u: not an entry", blkno, off);
				continue;
			}
			e = (IvfflatEntryData *) PageGetItem(page, iid);
			if (!ItemPointerIsValid(&e->tid))
				VxVerifyReport(&vs->out, "block %u item %u: invalid heap TID", blkno, off);
			if (!IvfflatVerifyDatum(vs, IVFFLAT_ENTRY_VALUE(e), ItemIdGetLength(iid) - MAXALIGN(sizeof(IvfflatEntryData))))
				VxVerifyReport(&vs->out, "block %u item %u: value is not a %s of %u dimensions", blkno, off,
							   vs->traits->type_name, vs->meta.dimensions);
			vs->entries++;
		}
		blkno = IvfflatPageGetOpaque(page)->next;
		UnlockReleaseBuffer(buf);
	}
	if (!insert_seen)
		VxVerifyReport(&vs->out, "list %u: insert page %u is not on its chain", l, vs->inserts[l]);
}

VX_FUNCTION(vx_ivfflat_verify)
{
	Oid indexoid = PG_GETARG_OID(0);
	IvfflatVerifyState vs;
	Relation heap;
	MemoryContext work_ctx;
	MemoryContext old;

	MemSet(&vs, 0, sizeof(vs));
	VxVerifyBegin(fcinfo, &vs.out);

	work_ctx = AllocSetContextCreate(CurrentMemoryContext, "ivfflat verify", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(work_ctx);
	vs.index = VxVerifyOpen(indexoid, "ivfflat", ivfflatbuild, &heap);
	vs.nblocks = RelationGetNumberOfBlocks(vs.index);
	if (IvfflatVerifyMeta(&vs)) {
		vs.owner = (uint8 *) MemoryContextAllocExtended(work_ctx, Max(vs.nblocks, 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		vs.owner[0] = 1;
		vs.starts = palloc_array(BlockNumber, vs.meta.lists);
		vs.inserts = palloc_array(BlockNumber, vs.meta.lists);
		IvfflatVerifyDirectory(&vs);
		for (uint32 l = 0; l < vs.nlists; l++) {
			CHECK_FOR_INTERRUPTS();
			IvfflatVerifyList(&vs, l);
		}
	}
	VxVerifyEnd(&vs.out);
	VxVerifyClose(vs.index, heap);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(work_ctx);
	return (Datum) 0;
}
