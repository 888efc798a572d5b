/*
 * fuzz_pop3_session — arbitrary bytes as what one client sends to a whole
 * POP3 session (pop3_ops) on a real connection and store, before and after
 * login (the user "fuzz", password "secret"; the seeds log in first).
 * How the harness runs it: fuzz_session.h.
 */
#include "fuzz_session.h"
#include "pop3.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fs_quiet_argv(argc, argv);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fs_run(&pop3_ops, CFG_PROTO_POP3, data, size);
}
