/*
 * graph.cpp -- reading the graph from pages: the page-backed graph view used
 * by scans and inserts.
 *
 * An element id maps to its graph record, vector slot and upper item by
 * arithmetic (HnswAddressOf). Every read takes a share lock on exactly one
 * page (or on the pages of one vector slot that straddles pages, see below),
 * copies or consumes what it needs and releases the lock(s) before the next
 * page is touched, so a reader never waits for a lock while holding one on
 * another kind of page and cannot take part in a deadlock.
 *
 * Pins are cached: a tiny direct-mapped table (block -> pinned Buffer) keeps
 * the last pages touched pinned, so repeated accesses to the same graph page
 * cost no pin (see HnswPinCacheSize for why it is tiny). Prefetch hints find
 * a vector's buffer in the backend's recent-buffer table without pinning it.
 * A page that is not pinned is re-pinned where the backend
 * last found it (ReadRecentBuffer, no buffer-mapping lookup), and only read
 * through ReadBuffer otherwise; its page type is checked then, once per pin
 * rather than per access.
 *
 * Vector slots: a slot that lies on one page (the common case) is read in
 * place under that page's share lock, as above. A slot that straddles pages
 * (packed groups, vectors larger than a page) is read while all its pages
 * are share-locked together, taken in increasing block order: vector pages
 * are locked last by everyone (README, lock order), so this cannot
 * deadlock, and what is read is one version of the slot. Dense vectors
 * (vector, halfvec) are still read in place: the distance is the sum of the
 * partial distances of the elements on each page; other kinds are copied
 * out first. When two of the slot's pages share an entry of the
 * direct-mapped pin cache, they get pins of their own meanwhile.
 *
 * Versions: a vector slot carries the version of the record it belongs to.
 * Readers remember the version seen with a distance and compare it with the
 * record's when they later use the element, so a slot reused by vacuum in
 * between is detected and skipped, never misattributed.
 */
#include "vx/pg.h"

#include "vx/am/recent.h"
#include "vx/hnsw/hnsw.h"
#include "vx/hnsw/page_view.hpp"

/*
 * Pins one view keeps. Few on purpose: a backend's first 8 pins live in a
 * small array, further ones in a hash table that every pin, unpin and lock
 * then searches. A search touches hundreds of vector pages about once each,
 * so a large cache mostly paid that hash; 4 entries keep the pages of the
 * element being expanded (measured on debian-d256, ef_search 20: 20-50% less
 * backend CPU per query than 256 entries).
 */
static uint32
HnswPinCacheSize(void)
{
	return 4;
}


/* Set up a view over index (meta is copied; dist and query may be set later). */
void
HnswViewInit(HnswView view, Relation index, const HnswMetaPageData *meta, const VxDistanceData *dist)
{
	uint32 size = HnswPinCacheSize();

	view->index = index;
	view->meta = *meta;
	view->dist = dist;
	view->cache_mask = size - 1;
	view->cache = palloc_array(HnswPinEntry, size);
	for (uint32 i = 0; i < size; i++) {
		view->cache[i].blkno = InvalidBlockNumber;
		view->cache[i].buf = InvalidBuffer;
	}
	/* a datum of a straddling slot is copied here; only packed runs and slots larger than a page straddle */
	view->scratch = (Size) meta->slots_per_run * meta->vector_slot_size > HNSW_PAGE_CAPACITY
						? (char *) palloc(meta->vector_slot_size)
						: NULL;
	view->recent = VxRecentTableFor(index);
	view->distances = 0;
	view->mem = NULL;
}

/* Resize the pin cache to size entries (a power of two), before the view pins anything. */
void
HnswViewSetPinCache(HnswView view, uint32 size)
{
	Assert(size > 0 && (size & (size - 1)) == 0);
	HnswViewReleasePins(view);
	pfree(view->cache);
	view->cache_mask = size - 1;
	view->cache = palloc_array(HnswPinEntry, size);
	for (uint32 i = 0; i < size; i++) {
		view->cache[i].blkno = InvalidBlockNumber;
		view->cache[i].buf = InvalidBuffer;
	}
}

/* Drop every cached pin (end of scan, or before the view's memory goes away). */
void
HnswViewReleasePins(HnswView view)
{
	for (uint32 i = 0; i <= view->cache_mask; i++) {
		if (BufferIsValid(view->cache[i].buf))
			ReleaseBuffer(view->cache[i].buf);
		view->cache[i].blkno = InvalidBlockNumber;
		view->cache[i].buf = InvalidBuffer;
	}
}

/* The pin-cache entry of blkno (direct-mapped). */
static inline uint32
HnswPinSlot(HnswView view, BlockNumber blkno)
{
	return (blkno * 0x9E3779B1U >> 7) & view->cache_mask;
}

/*
 * A pinned buffer for blkno: from the view's pin cache, else re-pinned where
 * the backend last saw it, else read (and its page type checked once).
 */
static Buffer
HnswViewPin(HnswView view, BlockNumber blkno, uint16 page_type)
{
	HnswPinEntry *e = &view->cache[HnswPinSlot(view, blkno)];
	Buffer buf;
	bool fresh;

	if (e->blkno == blkno)
		return e->buf;
	if (BufferIsValid(e->buf))
		ReleaseBuffer(e->buf);
	e->buf = InvalidBuffer;
	e->blkno = InvalidBlockNumber;

	buf = VxRecentRead(view->index, (VxRecentTable *) view->recent, blkno, &fresh);
	if (fresh) {
		/* a share lock for the header check: the page may be being initialized */
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		HnswCheckPage(view->index, BufferGetPage(buf), page_type, blkno);
		LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	}
	e->buf = buf;
	e->blkno = blkno;
	return buf;
}

/*
 * Read element id's record: flags, level, version, heap TID and, when
 * neighbors is given, its neighbour ids at `level` (level 0 from the record,
 * higher levels from the extent's upper page). Returns the neighbour count,
 * or -1 when the record is not in the graph (never written, or freed).
 * An element whose level is below `level` has no neighbours there (0).
 */
int
HnswViewRecord(HnswView view, HnswId id, int level, HnswId *neighbors, HnswRecordInfo *info)
{
	const HnswMetaPageData *meta = &view->meta;
	HnswAddress a = HnswAddressOf(meta, id);
	Buffer buf = HnswViewPin(view, a.graph_block, HNSW_PAGE_GRAPH);
	Page page;
	HnswGraphRecord *rec;
	OffsetNumber upper_offset;
	int n = 0;

	/* share lock: the record's neighbour list may be rewritten concurrently */
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	rec = HnswRecordAt(page, meta, a.record_index);
	if (!(rec->flags & (HNSW_RECORD_LIVE | HNSW_RECORD_DELETED))) {
		LockBuffer(buf, BUFFER_LOCK_UNLOCK);
		return -1;
	}
	info->flags = rec->flags;
	info->level = rec->level;
	info->version = rec->version;
	info->heap_tid = rec->heap_tid;
	info->upper_offset = upper_offset = rec->upper_offset;
	if (neighbors != NULL && level == 0) {
		n = Min((int) rec->nneighbors, 2 * (int) meta->m);
		memcpy(neighbors, rec->neighbors, n * sizeof(HnswId));
	}
	LockBuffer(buf, BUFFER_LOCK_UNLOCK);

	if (neighbors == NULL || level == 0 || level > info->level || upper_offset == InvalidOffsetNumber)
		return n;

	buf = HnswViewPin(view, a.upper_block, HNSW_PAGE_UPPER);
	/* share lock on the upper page, alone: the graph page lock is already released */
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	if (upper_offset <= PageGetMaxOffsetNumber(page)) {
		HnswUpperItem *item = (HnswUpperItem *) PageGetItem(page, PageGetItemId(page, upper_offset));

		/* the item belongs to this element unless the slot was reused meanwhile */
		if (item->id == id && item->level >= level) {
			HnswUpperList *list = HnswUpperListAt(item, meta->m, level);

			n = Min((int) list->count, (int) meta->m);
			memcpy(neighbors, list->ids, n * sizeof(HnswId));
		}
	}
	LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	return n;
}

/*
 * Pin and share-lock every page of a slot that straddles pages, in block
 * order (see the file comment); returns whether the pages got pins of their
 * own, for HnswViewUnlockSlot.
 */
static bool
HnswViewLockSlot(HnswView view, const HnswAddress *a, Buffer *bufs, Page *pages)
{
	bool own_pins = false;

	/*
	 * Pinning a page evicts the page of the same pin-cache entry: when two of
	 * the slot's pages share an entry, each gets a pin of our own while it is
	 * used.
	 */
	for (uint32 i = 1; i < a->vector_pages && !own_pins; i++)
		for (uint32 j = 0; j < i; j++)
			if (HnswPinSlot(view, a->vector_block + i) == HnswPinSlot(view, a->vector_block + j))
				own_pins = true;
	for (uint32 i = 0; i < a->vector_pages; i++) {
		bufs[i] = HnswViewPin(view, a->vector_block + i, HNSW_PAGE_VECTOR);
		if (own_pins)
			IncrBufferRefCount(bufs[i]);
	}
	/* share locks on every page of the slot at once: a writer may be changing it */
	for (uint32 i = 0; i < a->vector_pages; i++) {
		LockBuffer(bufs[i], BUFFER_LOCK_SHARE);
		pages[i] = BufferGetPage(bufs[i]);
	}
	return own_pins;
}

/* Release what HnswViewLockSlot took. */
static void
HnswViewUnlockSlot(const HnswAddress *a, Buffer *bufs, bool own_pins)
{
	for (uint32 i = 0; i < a->vector_pages; i++) {
		LockBuffer(bufs[i], BUFFER_LOCK_UNLOCK);
		if (own_pins)
			ReleaseBuffer(bufs[i]);
	}
}

/* Copy the datum of a slot that straddles pages into datum; returns the slot's version. */
static uint32
HnswViewReadStraddling(HnswView view, const HnswAddress *a, char *datum)
{
	Buffer bufs[HNSW_MAX_SLOT_PAGES];
	Page pages[HNSW_MAX_SLOT_PAGES];
	bool own_pins = HnswViewLockSlot(view, a, bufs, pages);
	uint32 version;

	HnswReadSlot(pages, &view->meta, a->vector_offset, &version, datum);
	HnswViewUnlockSlot(a, bufs, own_pins);
	return version;
}

/*
 * Distance from q to a dense vector in a slot that straddles pages, in
 * place: the partial distances of the elements on each page, summed (element
 * boundaries never straddle: slots and pages are 4-byte multiples). Returns
 * the slot's version, which lies whole on its first page.
 */
static uint32
HnswViewDistanceSplit(HnswView view, const HnswAddress *a, const char *q, float *distance)
{
	const VxDistanceData *dist = view->dist;
	Buffer bufs[HNSW_MAX_SLOT_PAGES];
	Page pages[HNSW_MAX_SLOT_PAGES];
	bool own_pins = HnswViewLockSlot(view, a, bufs, pages);
	uint32 version = HnswVectorSlotAt(pages[0], a->vector_offset)->version;
	/* the elements' bytes, in slot coordinates */
	Size start = HNSW_VECTOR_HEADER_SIZE + dist->elem_offset;
	Size end = start + (Size) dist->elem_size * dist->dimensions;
	float sum = 0;

	for (uint32 p = 0; p < a->vector_pages && version != 0; p++) {
		/* slot bytes on page p: [page_lo, page_hi) */
		Size page_lo = (Size) p * HNSW_PAGE_CAPACITY - (p == 0 ? 0 : a->vector_offset);
		Size page_hi = (Size) (p + 1) * HNSW_PAGE_CAPACITY - a->vector_offset;
		Size lo = Max(start, page_lo);
		Size hi = Min(end, page_hi);

		if (lo < hi)
			sum += dist->partial(dist, q, (lo - start) / dist->elem_size, (hi - lo) / dist->elem_size,
								 PageGetContents(pages[p]) + (a->vector_offset + lo) - (Size) p * HNSW_PAGE_CAPACITY);
	}
	HnswViewUnlockSlot(a, bufs, own_pins);
	*distance = sum;
	return version;
}

/*
 * Distance from datum q to element id's vector. Returns false when the slot
 * has never been written (version 0); *version is the slot's version, to be
 * matched against the record's.
 */
bool
HnswViewDistance(HnswView view, HnswId id, const char *q, float *distance, uint32 *version)
{
	HnswAddress a = HnswAddressOf(&view->meta, id);

	view->distances++;
	if (view->mem != NULL && id < view->mem->count) {
		/* a build's vector still in memory: the same bytes as on its page (version 1, as written) */
		*distance = view->mem->distance(view->mem->arg, q, id);
		*version = 1;
		return true;
	}
	if (likely(a.vector_pages == 1)) {
		Buffer buf = HnswViewPin(view, a.vector_block, HNSW_PAGE_VECTOR);
		HnswVectorSlot *slot;

		/* share lock while the kernel reads the slot in place */
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		slot = HnswVectorSlotAt(BufferGetPage(buf), a.vector_offset);
		*version = slot->version;
		if (slot->version != 0) {
			HnswCheckSlotDatum(view->index, &view->meta, id, HnswSlotDatum(slot));
			*distance = view->dist->fn(view->dist, q, HnswSlotDatum(slot));
		}
		LockBuffer(buf, BUFFER_LOCK_UNLOCK);
		return *version != 0;
	}

	if (view->dist->partial != NULL) {
		*version = HnswViewDistanceSplit(view, &a, q, distance);
		return *version != 0;
	}
	*version = HnswViewReadStraddling(view, &a, view->scratch);
	if (*version == 0)
		return false;
	HnswCheckSlotDatum(view->index, &view->meta, id, view->scratch);
	*distance = view->dist->fn(view->dist, q, view->scratch);
	return true;
}

/* Copy element id's datum into dest (vector_slot_size bytes); returns the slot version (0: empty). */
uint32
HnswViewCopyVector(HnswView view, HnswId id, char *dest)
{
	const HnswMetaPageData *meta = &view->meta;
	HnswAddress a = HnswAddressOf(meta, id);
	uint32 version;

	if (view->mem != NULL && id < view->mem->count) {
		view->mem->copy(view->mem->arg, id, dest);
		return 1;
	}
	if (a.vector_pages == 1) {
		Buffer buf = HnswViewPin(view, a.vector_block, HNSW_PAGE_VECTOR);
		HnswVectorSlot *slot;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		slot = HnswVectorSlotAt(BufferGetPage(buf), a.vector_offset);
		version = slot->version;
		memcpy(dest, HnswSlotDatum(slot), meta->vector_slot_size - HNSW_VECTOR_HEADER_SIZE);
		LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	} else
		version = HnswViewReadStraddling(view, &a, dest);
	if (version != 0)
		HnswCheckSlotDatum(view->index, meta, id, dest);
	return version;
}

/* Pair-distance table for up to n distinct elements (palloc in the current context). */
void
HnswPairDistanceInit(HnswPairDistance *pd, HnswView view, uint32 n)
{
	uint32 size = 4;

	while (size < 2 * (n + 2))
		size *= 2;
	pd->view = view;
	pd->count = palloc_object(uint32);
	pd->slot_bytes = view->meta.vector_slot_size;
	pd->mask = size - 1;
	pd->ids = palloc_array(HnswId, size);
	pd->vectors = (char *) palloc((Size) size * pd->slot_bytes);
	pd->clear();
}

/*
 * Start fetching the buffer of blkno, when it is pinned or was seen recently,
 * and the first `bytes` (at most 128) of its contents from offset: no pin,
 * no lock (a hint reads nothing; a stale recent buffer only wastes it).
 * Always inlined: GCC deems a function that only loads and prefetches free
 * of side effects and drops a call to it whose result is unused.
 */
static pg_attribute_always_inline void
HnswViewPrefetchBytes(HnswView view, BlockNumber blkno, uint32 offset, uint32 bytes)
{
	HnswPinEntry *e = &view->cache[HnswPinSlot(view, blkno)];
	Buffer buf;
	const char *p;

	if (e->blkno == blkno)
		buf = e->buf;
	else {
		buf = VxRecentPeek((VxRecentTable *) view->recent, blkno);
		if (!BufferIsValid(buf))
			return;
		if (!BufferIsLocal(buf))
			__builtin_prefetch(GetBufferDescriptor(buf - 1), 1, 3);
	}
	p = PageGetContents(BufferGetPage(buf)) + offset;
	for (uint32 off = 0; off < Min(bytes, 128U); off += 64)
		__builtin_prefetch(p + off, 0, 3);
}

/*
 * Prepare to compute the distance to id: start fetching the first cache
 * lines of its vector slot and, when the page is not pinned yet, the buffer
 * descriptor that pinning it will touch, so that the search's next pass
 * finds them arriving (hnswlib's pattern). The hardware prefetcher follows
 * the kernel from there on one page, but not onto the next page of a slot
 * that straddles (another buffer, anywhere in memory): such a slot gets the
 * same for its part on the next page.
 */
void
HnswViewPrefetch(HnswView view, HnswId id)
{
	const HnswMetaPageData *meta = &view->meta;
	HnswAddress a = HnswAddressOf(meta, id);
	uint32 on_first = Min(meta->vector_slot_size, (uint32) HNSW_PAGE_CAPACITY - a.vector_offset);

	if (view->mem != NULL && id < view->mem->count) {
		const char *p = (const char *) view->mem->address(view->mem->arg, id);

		for (uint32 off = 0; off < Min(meta->vector_slot_size, 128U); off += 64)
			__builtin_prefetch(p + off, 0, 3);
		return;
	}
	HnswViewPrefetchBytes(view, a.vector_block, a.vector_offset, on_first);
	if (a.vector_pages > 1)
		HnswViewPrefetchBytes(view, a.vector_block + 1, 0, meta->vector_slot_size - on_first);
}
