/*
 * opclass.h -- validation of the operator classes of the graph index
 * methods (amvalidate): hnsw's and diskann's follow one shape, pgvector's.
 */
#ifndef VX_AM_OPCLASS_H
#define VX_AM_OPCLASS_H

#include "vx/pg.h"

/*
 * Validate an operator class of am_name: one ORDER BY operator (strategy 1)
 * returning float8, support function 1 (distance, two args of the input
 * type, float8), optional 2 (norm, one arg, float8) and type_info_proc (type
 * info, internal -> internal). Problems are reported as INFO, as the core
 * AMs do, and make the result false.
 */
bool VxValidateOpclass(Oid opclassoid, const char *am_name, uint16 type_info_proc);

#endif /* VX_AM_OPCLASS_H */
