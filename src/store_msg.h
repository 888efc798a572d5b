/*
 * store_msg — messages (store_msg.c): a record by UID, the two ways to go
 * through a mailbox's records, streaming reads of the bytes, delivery. The
 * rules of store.h apply.
 *
 * store_msg_scan_below and store_msg_walk_from both call cb for records in
 * UID order; they differ in which records and in what cb may do:
 *   scan_below  uid < uid_below, copied out a chunk per read txn: cb may
 *               call the store (and may see a message expunged meanwhile)
 *   walk_from   uid >= from, in one read txn: cb must not call the store
 */
#ifndef POSTNOOK_STORE_MSG_H
#define POSTNOOK_STORE_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/*
 * Call cb for each message of mbox with uid < uid_below (0 = all) in UID
 * order. Records are copied out a chunk at a time, each chunk in its own
 * read txn, so cb may call the store; a message expunged meanwhile may
 * still be reported from the chunk in hand.
 * Returns 0, cb's non-zero return (which stops the scan), or a common error.
 */
int store_msg_scan_below(struct store *st, uint32_t mbox, uint32_t uid_below,
                         int (*cb)(void *arg, const struct store_msg *m), void *arg);
/*
 * Call cb for each message record of mbox with uid >= from in UID order,
 * in one read txn: cb must not call the store.
 * Returns 0, cb's non-zero return (which stops the walk), or a common error.
 */
int store_msg_walk_from(struct store *st, uint32_t mbox, uint32_t from,
                        int (*cb)(void *arg, const struct store_msg *m), void *arg);
/*
 * Copy message (mbox, uid)'s record into *out.
 * Returns 0, STORE_ENOTFOUND (no such message), or a common error.
 */
int store_msg_get(struct store *st, uint32_t mbox, uint32_t uid, struct store_msg *out);
/*
 * Copy up to len bytes of message (mbox, uid) from offset off into buf;
 * *got is set to the bytes copied (0 at or past the end).
 * Returns 0, STORE_ENOTFOUND (no such message: expunged meanwhile),
 * STORE_ECORRUPT (the message's blob is missing), or a common error.
 */
int store_msg_read(struct store *st, uint32_t mbox, uint32_t uid, uint64_t off,
                   void *buf, size_t len, size_t *got);
/*
 * Store one message (CRLF line ends) in the user's mailbox, checking and
 * updating the quota, in one transaction; *uid (may be NULL) gets the new
 * UID.
 * Returns 0, STORE_EINVAL (user or mbox_name NULL, msg NULL with len > 0),
 * STORE_ENOTFOUND (no such user or mailbox, a \Noselect one, or a
 * malformed user name), STORE_ETOOBIG (len over CONFIG_MAX_MESSAGE MiB),
 * STORE_EQUOTA (over the user's quota), STORE_EFULL (the mailbox's UIDs or
 * the user's message count used up, or the map full), or a common error.
 */
int store_deliver(struct store *st, const char *user, const char *mbox_name,
                  const void *msg, size_t len, int64_t internaldate, uint32_t *uid);

#endif
