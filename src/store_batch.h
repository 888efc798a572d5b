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

/*
 * Open the batch's write txn; *out gets the batch (the store's own: at
 * most one per store, nothing allocated).
 * Returns 0, STORE_EBUSY (a batch is open already), or a common error.
 */
int store_batch_begin(struct store *st, struct store_batch **out);
/*
 * Commit and sync the whole batch; the batch is gone either way.
 * Returns 0, STORE_EINVAL (b NULL or not open), STORE_EFULL (the map
 * filled at commit: store_make_room, then run the batch again), or a
 * common error.
 */
int store_batch_end(struct store_batch *b);
/* Abort without committing; NULL or a batch not open is ignored. */
void store_batch_abort(struct store_batch *b);

/*
 * --- writes inside a group-commit part --------------------------------
 * Each returns STORE_EINVAL when b is NULL or not open, and STORE_EFULL
 * when the map fills (abort, store_make_room, run the batch again). After
 * any error the txn is unusable: the caller aborts the batch.
 */

/*
 * store_msg_walk_from inside the batch: it sees the batch's own writes.
 * cb must not call the store.
 * Returns 0, STORE_EINVAL, cb's non-zero return (which stops the walk), or
 * a common error.
 */
int store_batch_walk_from(struct store_batch *b, uint32_t mbox, uint32_t from,
                          int (*cb)(void *arg, const struct store_msg *m), void *arg);
/*
 * Is there room for size more bytes of new mail that leaves the store's
 * reserve for deletions (store.h)? APPEND asks itself; COPY, which adds
 * records but shares the blobs, asks for 64 KiB; MOVE and deletions do not.
 * Returns 0, STORE_EINVAL, or STORE_EFULL.
 */
int store_batch_room(struct store_batch *b, uint64_t size);
/*
 * Remove the listed UIDs from mbox (blob refs dropped, mailbox and user
 * counters updated); UIDs not there are skipped.
 * Returns 0, STORE_EINVAL (also uids NULL with n > 0), STORE_ENOTFOUND (no
 * mailbox mbox), or a common error.
 */
int store_batch_expunge(struct store_batch *b, uint32_t mbox, const uint32_t *uids, size_t n);
/*
 * Add keyword names to mbox's list where missing; *bits gets the flag bits
 * of all n names. The mailbox is not looked up.
 * Returns 0, STORE_EINVAL, STORE_ELIMIT (the list has no room for a new
 * name, STORE_KW_MAX; nothing added), or a common error.
 */
int store_batch_kw_bits(struct store_batch *b, uint32_t mbox, const char (*names)[STORE_KW_LEN + 1],
                        unsigned n, uint32_t *bits);

enum { STORE_FLAGS_SET, STORE_FLAGS_ADD, STORE_FLAGS_DEL };
/*
 * Set, add or remove (mode: STORE_FLAGS_*) flags of message (mbox, uid);
 * *out gets its new flags. A changed message gets a new modseq (*modseq; 0
 * if unchanged).
 * Returns 0, STORE_EINVAL, STORE_ENOTFOUND (no such mailbox or message),
 * or a common error.
 */
int store_batch_flags(struct store_batch *b, uint32_t mbox, uint32_t uid, int mode, uint32_t flags,
                      uint32_t *out, uint64_t *modseq);
/*
 * Copy message (src, uid) into dst sharing its blob (no bytes copied),
 * with the same flags, keywords (added to dst's list where missing) and
 * date; *newuid gets its UID.
 * Returns 0, STORE_EINVAL, STORE_ENOTFOUND (no mailbox dst, or the message
 * is gone), STORE_EQUOTA (over the quota of dst's owner), STORE_ELIMIT
 * (dst's keyword list has no room for the message's keywords),
 * STORE_EFULL (also: dst's UIDs or the owner's message count used up), or
 * a common error.
 */
int store_batch_copy(struct store_batch *b, uint32_t src, uint32_t uid, uint32_t dst, uint32_t *newuid);
/*
 * Store a message of size bytes read from fd (offset 0) into mbox with
 * flags and date; *uid gets its UID. The bytes go straight from the file
 * into the map, a chunk at a time.
 * Returns 0, STORE_ETOOBIG (size over CONFIG_MAX_MESSAGE MiB),
 * STORE_EINVAL, STORE_ENOTFOUND (no mailbox mbox), STORE_EQUOTA (over the
 * owner's quota), STORE_EFULL (also: the mailbox's UIDs or the owner's
 * message count used up), -EIO (the file is shorter than size), -errno
 * (pread), or a common error.
 */
int store_batch_append_fd(struct store_batch *b, uint32_t mbox, int fd, uint64_t size, uint32_t flags,
                          int64_t date, uint32_t *uid);

#endif
