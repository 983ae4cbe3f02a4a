/*
 * meta.h -- the format check of an index metapage, shared by the index
 * access methods that share pgvector's names (hnsw, ivfflat).
 *
 * Why: a database upgraded from pgvector keeps its hnsw and ivfflat indexes
 * in pgvector's page format under the same access method names. Every read
 * of a metapage must refuse such an index (and any other magic, version or
 * an uninitialized page) with the same messages and a REINDEX hint, never
 * misread it. The AM reads its own magic and version fields and says
 * whether the page's special space is its own; this does the rest.
 */
#ifndef VX_AM_META_H
#define VX_AM_META_H

#include "vx/pg.h"

/* What an AM knows of a metapage before trusting it. */
typedef struct VxMetaFormat
{
	const char *am_name;   /* "hnsw": for the messages */
	uint32 magic;		   /* read from the page */
	uint32 version;		   /* read from the page */
	bool ours;			   /* the page's special space (page id, page type) is the AM's metapage's */
	uint32 expected_magic; /* this extension's */
	uint32 expected_version;
	uint32 pgvector_magic; /* pgvector's metapage magic of the same AM */
} VxMetaFormat;

/*
 * ERROR unless page (index's metapage) is in this extension's format:
 * uninitialized (XX002), pgvector's (0A000), another magic or page (XX002,
 * the magic in DETAIL), another version (0A000); each with a REINDEX hint.
 */
void VxCheckMetaFormat(Relation index, Page page, const VxMetaFormat *f);

#endif /* VX_AM_META_H */
