/*
 * page_common.h -- what the index page targets share: a fake index
 * relation (only its name is read, by the error messages), pages of
 * exactly BLCKSZ bytes (so ASan flags any access beyond a page), and the
 * damage: after the parameter bytes, each 3 input bytes are one patch
 * (16-bit position in the pages, byte value) applied to valid pages that
 * the target built with the access method's own code.
 */
#ifndef VX_FUZZ_PAGE_COMMON_H
#define VX_FUZZ_PAGE_COMMON_H

#include "shim.h"

#include <cstring>

/* A relation whose name is "fuzz_idx". */
static inline Relation
FuzzIndexRelation(void)
{
	static RelationData rel;
	static FormData_pg_class cls;

	strcpy(NameStr(cls.relname), "fuzz_idx");
	rel.rd_rel = &cls;
	return &rel;
}

/* A zeroed page in a chunk of exactly BLCKSZ bytes. */
static inline Page
FuzzPage(void)
{
	return (Page) palloc0(BLCKSZ);
}

/* Apply the patches in data[0 .. size) to pages[0 .. npages) (positions taken modulo their total size). */
static inline void
FuzzDamage(Page *pages, int npages, const uint8_t *data, size_t size)
{
	for (size_t i = 0; i + 3 <= size; i += 3) {
		uint32 pos = ((uint32) data[i] << 8 | data[i + 1]) % (uint32) (npages * BLCKSZ);

		pages[pos / BLCKSZ][pos % BLCKSZ] = (char) data[i + 2];
	}
}

#endif /* VX_FUZZ_PAGE_COMMON_H */
