/*
 * store_check — the consistency check (store_check.c): recompute usage,
 * mailbox counters and blob reference counts from the messages, check the
 * MIME records against the blobs, and optionally repair.
 */
#ifndef POSTNOOK_STORE_CHECK_H
#define POSTNOOK_STORE_CHECK_H

#include "store.h"

/*
 * Check the whole store in one txn: every user's usage and every
 * mailbox's counters against its messages, blob reference counts against
 * the messages sharing them, blobs nobody references, MIME records against
 * the blobs. Each problem is one line to report (may be NULL; a non-zero
 * return stops the check, which then fails). fix=1 repairs them all in
 * one write txn, committed only when the check ran through (the map is not
 * grown for it).
 * Returns 0 (problems found or not), STORE_EBUSY (a batch is open),
 * -ENOMEM, or a common error (with fix=1 STORE_EFULL: the map is full).
 */
int store_check(struct store *st, int fix, int (*report)(void *arg, const char *line), void *arg);

#endif
