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

/* Walk a mailbox's messages in UID order with uid < uid_below (0 = all). */
int store_msg_scan_below(struct store *st, uint32_t mbox, uint32_t uid_below,
                         int (*cb)(void *arg, const struct store_msg *m), void *arg);
/*
 * Walk the message records of mbox with uid >= from in UID order in one
 * read txn; cb must not call the store. A non-zero cb return stops the walk
 * and is returned.
 */
int store_msg_walk_from(struct store *st, uint32_t mbox, uint32_t from,
                        int (*cb)(void *arg, const struct store_msg *m), void *arg);
int store_msg_get(struct store *st, uint32_t mbox, uint32_t uid, struct store_msg *out);
/*
 * Copy up to len bytes of message (mbox, uid) from offset off into buf;
 * *got is set to the bytes copied (0 at the end). STORE_ENOTFOUND if the
 * message was expunged meanwhile.
 */
int store_msg_read(struct store *st, uint32_t mbox, uint32_t uid, uint64_t off,
                   void *buf, size_t len, size_t *got);
/*
 * Store one message (CRLF line ends) in the user's mailbox, checking and
 * updating the quota, in one transaction. *uid gets the new UID.
 * STORE_EQUOTA when over quota, STORE_EFULL at map_max.
 */
int store_deliver(struct store *st, const char *user, const char *mbox_name,
                  const void *msg, size_t len, int64_t internaldate, uint32_t *uid);

#endif
