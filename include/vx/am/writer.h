/*
 * writer.h -- page writes of a graph index, shared by the index access
 * methods (hnsw, diskann).
 *
 * Why: both AMs follow the pgvector/bloom way (ARCHITECTURE.md, "A WAL
 * record"). A build writes its pages through the buffer manager without WAL
 * and logs the whole relation at the end (VxLogBuiltIndex); every change
 * after that is one generic WAL record (RM_GENERIC_ID, replayed by core
 * PostgreSQL's generic_redo) of at most MAX_GENERIC_XLOG_PAGES (4) pages
 * that leaves a valid index on its own. VxWriter is that record, or, when
 * building, the same set of pages just marked dirty, so the code that edits
 * pages is the same in both cases. It works as GenericXLog does (the caller
 * edits a copy of each page; finish computes the byte delta, applies it and
 * logs it) but computes the delta a word at a time (vx/core/page_delta.hpp)
 * and keeps its page copies in the VxWriter itself, not in a 64 KiB palloc.
 *
 * Usage: lock the buffers exclusively (in the AM's lock order), then
 * VxWriterStart, VxWriterPage per buffer (edit only the page it returns),
 * VxWriterFinish, then unlock. Registering a buffer twice returns the same
 * copy. An ERROR before finish leaves every page untouched (nothing to undo).
 */
#ifndef VX_AM_WRITER_H
#define VX_AM_WRITER_H

#include "vx/pg.h"

/* A set of page changes that becomes one WAL record (or plain dirty buffers in a build). */
typedef struct VxWriter
{
	bool building;
	bool logged; /* the relation needs WAL */
	int nbuffers;
	Buffer buffers[MAX_GENERIC_XLOG_PAGES];
	bool full_image[MAX_GENERIC_XLOG_PAGES];
	PGAlignedBlock images[MAX_GENERIC_XLOG_PAGES]; /* at run time: the pages as the caller edits them */
} VxWriter;

/* Start a record (building: no WAL, the pages are only marked dirty at finish). */
void VxWriterStart(VxWriter *w, Relation index, bool building);

/* The page to modify for buf, exclusively locked by the caller (full_image: new or rewritten whole). */
Page VxWriterPage(VxWriter *w, Buffer buf, bool full_image);

/* Apply and log (or just dirty) every registered page; the caller then unlocks them. */
void VxWriterFinish(VxWriter *w);

/* Extend fork by one page; returned pinned and exclusively locked, not initialized. */
Buffer VxNewBuffer(Relation index, ForkNumber fork);

/* End of a build that wrote fork without WAL: log every page when the relation needs WAL or fork is INIT. */
void VxLogBuiltIndex(Relation index, ForkNumber fork);

#endif /* VX_AM_WRITER_H */
