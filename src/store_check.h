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

/*
 * Remove from every mailbox's keyword list the names that are not IMAP
 * atoms (RFC 3501 flag-keyword: no CTL, space, ( ) { % * " \ ], not
 * empty) or that begin like a FETCH section item ("BODY[", "BODY.PEEK[",
 * "BINARY[": what a FETCH could once store, issue 14), and clear or
 * renumber the keyword bits of their messages. The daemon runs it at
 * start: a read txn over the lists, and one write txn only when one is
 * bad. *removed and *mboxes (may be NULL) get the names removed and the
 * mailboxes repaired; *example (may be NULL, STORE_KW_LEN + 1 bytes) one
 * removed name.
 * Returns 0, -ENOMEM, or a common error (with a repair STORE_EFULL).
 */
int store_check_keywords(struct store *st, unsigned *removed, unsigned *mboxes, char *example);

#endif
