/*
 * store_check — the consistency check (store_check.c): recompute usage,
 * mailbox counters and blob reference counts from the messages, check the
 * MIME records against the blobs, and optionally repair.
 */
#ifndef POSTNOOK_STORE_CHECK_H
#define POSTNOOK_STORE_CHECK_H

#include "store.h"

/* Re-check every user's usage against their messages; fix=1 repairs. */
int store_check(struct store *st, int fix, int (*report)(void *arg, const char *line), void *arg);

#endif
