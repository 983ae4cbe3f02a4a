/*
 * shim.h -- the harness side of the minimal PostgreSQL backend the fuzz
 * targets run in (shim.cpp).
 *
 * The extension's PG-zone code is linked unchanged against shim.cpp, which
 * implements what that code calls: palloc & co. on malloc (every chunk is
 * tracked and freed after each input, so ASan sees each allocation's exact
 * bounds), ereport/elog (the message is formatted, then an ERROR longjmps
 * back to the target's VX_FUZZ_TRY), and the pqformat/stringinfo calls of
 * the binary I/O functions. Functions the targets never reach are stubs
 * generated at build time that abort with their name (bench/fuzz/run).
 */
#ifndef VX_FUZZ_SHIM_H
#define VX_FUZZ_SHIM_H

#include "vx/pg.h"

#include <csetjmp>
#include <cstddef>
#include <cstdint>

/* The last error raised: its SQLSTATE, level and formatted message. */
struct VxFuzzError
{
	int sqlerrcode;
	int elevel;
	char message[1024];
};

extern VxFuzzError vx_fuzz_error;
extern sigjmp_buf *vx_fuzz_jmp;

/* Free every chunk palloc'd since the last call (end of one input). */
void vx_fuzz_reset_memory(void);

/* Abort (a finding) with a message: a property of the code under test failed. */
[[noreturn]] void vx_fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * An ERROR must be a clear one: a real SQLSTATE other than XX000 (elog's
 * "cannot happen" internal error) and a message. Aborts otherwise.
 */
void vx_fuzz_check_error(void);

/* A fresh fcinfo with up to 3 arguments (storage from palloc). */
FunctionCallInfo vx_fuzz_fcinfo(int nargs);

#endif /* VX_FUZZ_SHIM_H */
