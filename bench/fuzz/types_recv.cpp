/*
 * types_recv.cpp -- fuzz target: binary input (recv) of vector, halfvec,
 * sparsevec.
 *
 * Input: byte 0 picks the type (mod 3), byte 1 the typmod (FuzzTypmod), the
 * rest is the message. Properties: recv either returns a valid value of the
 * right dimensions or raises a clear ERROR; and for an accepted value, send
 * writes back exactly the bytes recv consumed, which recv reads back to the
 * same value.
 */
#include "types_common.h"

extern "C" int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	vx::kernels::kernels_init();
	return 0;
}

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sigjmp_buf jb;

	if (size < 2)
		return 0;
	vx_fuzz_jmp = &jb;
	if (sigsetjmp(jb, 0) == 0) {
		int t = data[0] % 3;
		int32 typmod = FuzzTypmod(data[1]);
		int len = (int) (size - 2);
		/* the message in a chunk of its exact size (+ PG's trailing NUL), so ASan sees overreads */
		char *msg = (char *) palloc(len + 1);
		StringInfoData buf;
		Datum value;
		bytea *sent;
		StringInfoData buf2;
		Datum again;

		memcpy(msg, data + 2, len);
		msg[len] = '\0';
		buf.data = msg;
		buf.len = len;
		buf.maxlen = len + 1;
		buf.cursor = 0;
		value = FuzzCallInput(kFuzzTypes[t].recv, PointerGetDatum(&buf), typmod);
		FuzzCheckValue(t, value, typmod);

		sent = (bytea *) DatumGetPointer(FuzzCall1(kFuzzTypes[t].send, value));
		if ((int) VARSIZE(sent) - VARHDRSZ != buf.cursor || memcmp(VARDATA(sent), msg, buf.cursor) != 0)
			vx_fuzz_fail("%s: send does not reproduce the %d bytes recv consumed", kFuzzTypes[t].name, buf.cursor);

		buf2.data = VARDATA(sent);
		buf2.len = VARSIZE(sent) - VARHDRSZ;
		buf2.maxlen = buf2.len;
		buf2.cursor = 0;
		again = FuzzCallInput(kFuzzTypes[t].recv, PointerGetDatum(&buf2), typmod);
		FuzzCheckSame(t, value, again, "send and recv");
	} else
		vx_fuzz_check_error();
	vx_fuzz_jmp = nullptr;
	vx_fuzz_reset_memory();
	return 0;
}
