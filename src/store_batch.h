/*
 * store_batch — group commit (store_batch.c) and the writes a session
 * makes inside it: expunge, keywords, flag changes, COPY sharing blobs,
 * APPEND from a spooled file, and a walk that sees them.
 *
 * A batch is one write transaction that collects the writes of many
 * sessions in one loop turn and is committed (one sync) at the end of the
 * turn. The sessions' parts are not nested transactions (the environment
 * uses MDB_WRITEMAP, which rules them out): when a part fails, the caller
 * aborts the whole batch and runs it again without that part, so the code
 * of a part must be re-runnable (no effect outside the txn that a second
 * run would see differently). When the map fills (STORE_EFULL), the caller
 * aborts, calls store_make_room (store.h) and runs the batch again.
 */
#ifndef POSTNOOK_STORE_BATCH_H
#define POSTNOOK_STORE_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct store_batch;

int store_batch_begin(struct store *st, struct store_batch **out);
/* Commit and sync the whole batch (0), or the error (the batch is gone). */
int store_batch_end(struct store_batch *b);
/* Abort without committing. */
void store_batch_abort(struct store_batch *b);

/* --- writes inside a group-commit part ---------------------------------- */

/* store_msg_walk_from inside the batch (sees the batch's own writes). */
int store_batch_walk_from(struct store_batch *b, uint32_t mbox, uint32_t from,
                          int (*cb)(void *arg, const struct store_msg *m), void *arg);
/* Remove messages by UID (blob refs dropped, usage updated) in the batch. */
int store_batch_expunge(struct store_batch *b, uint32_t mbox, const uint32_t *uids, size_t n);
/*
 * Add keyword names to mbox's list where missing; bits gets their flag
 * bits. STORE_EFULL (as STORE_EINVAL) when the list has no room.
 */
int store_batch_kw_bits(struct store_batch *b, uint32_t mbox, const char (*names)[STORE_KW_LEN + 1],
                        unsigned n, uint32_t *bits);

enum { STORE_FLAGS_SET, STORE_FLAGS_ADD, STORE_FLAGS_DEL };
/* Change the flags of (mbox, uid); *out gets the new flags. A changed
 * message gets a new modseq (*modseq, 0 if unchanged). STORE_ENOTFOUND if it is gone. */
int store_batch_flags(struct store_batch *b, uint32_t mbox, uint32_t uid, int mode, uint32_t flags,
                      uint32_t *out, uint64_t *modseq);
/*
 * Copy message (src, uid) into dst sharing its blob (no bytes copied),
 * with the same flags (keywords dropped) and date; *newuid gets its UID.
 * STORE_EQUOTA over the owner's quota, STORE_ENOTFOUND if it is gone.
 */
int store_batch_copy(struct store_batch *b, uint32_t src, uint32_t uid, uint32_t dst, uint32_t *newuid);
/*
 * Store a message of size bytes read from fd (offset 0) into mbox with
 * flags and date; *uid gets its UID. The bytes go straight from the file
 * into the map, a chunk at a time. STORE_EQUOTA, STORE_ETOOBIG, STORE_EBUSY
 * (map full: grown after the batch, retry).
 */
int store_batch_append_fd(struct store_batch *b, uint32_t mbox, int fd, uint64_t size, uint32_t flags,
                          int64_t date, uint32_t *uid);

#endif
