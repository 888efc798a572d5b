/*
 * fuzz_imap_session — arbitrary bytes as what one client sends to a whole
 * IMAP session (imap_ops) on a real connection and store, before and after
 * login (the user "fuzz", password "secret"; the seeds log in first).
 * How the harness runs it: fuzz_session.h.
 */
#include "fuzz_session.h"
#include "imap.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fs_quiet_argv(argc, argv);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fs_run(&imap_ops, CFG_PROTO_IMAP, data, size);
}
