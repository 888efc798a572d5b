/*
 * store_int — private to src/store*.c: the struct behind struct store,
 * record layouts and the helpers the store files share.
 *
 * On-disk records are packed field by field, big-endian, behind a version
 * byte; a decoder accepts a longer record of its version (fields appended
 * later) and refuses a shorter one with STORE_ECORRUPT.
 */
#ifndef POSTNOOK_STORE_INT_H
#define POSTNOOK_STORE_INT_H

#include <lmdb.h>

#include "auth.h"
#include "store.h"
#include "store_mbox.h"
#include "store_user.h"

#define STORE_REC_VERSION 1
#define STORE_FORMAT_VERSION 1

struct store_batch {
	struct store *st;
	MDB_txn *txn;           /* the batch's write transaction (never nested: MDB_WRITEMAP) */
	uint64_t added;         /* bytes of new mail its parts took so far (the reserve check counts them) */
	int active;
};

struct store {
	MDB_env *env;
	MDB_dbi users, userids, mboxes, mboxids, msgs, blobs, blobrefs, meta;
	MDB_dbi mime;           /* 0 in a read-only store from before MIME records */
	MDB_txn *rtxn;          /* reusable read txn: reset between calls */
	uint64_t map_max;
	int readonly;
	struct store_batch batch; /* at most one batch at a time, no malloc */
};

/* User record: the public struct plus the verifier. */
struct store_urec {
	struct store_user u;
	unsigned char salt[AUTH_SALT_LEN];
	unsigned char hash[AUTH_HASH_LEN];
};

#define STORE_UREC_LEN (1 + 4 + 4 + AUTH_SALT_LEN + AUTH_HASH_LEN + 8 + 4 + 8 + 4)
#define STORE_MREC_LEN (1 + 4 + 4 + 4 + 4 + 8 + 4 + 8 + 4 + 4)
#define STORE_MREC_MIN (1 + 4 + 4 + 4 + 4 + 8 + 4 + 8)  /* before flags and recent_uid */
#define STORE_MSGREC_LEN (1 + 4 + 8 + 8 + 8 + 8)
#define STORE_MBOXKEY_MAX (4 + STORE_MBOX_NAME_MAX)

/* --- byte order helpers -------------------------------------------- */

static inline void store_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static inline void store_put64(unsigned char *p, uint64_t v)
{
	store_put32(p, (uint32_t)(v >> 32));
	store_put32(p + 4, (uint32_t)v);
}

static inline uint32_t store_get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t store_get64(const unsigned char *p)
{
	return (uint64_t)store_get32(p) << 32 | store_get32(p + 4);
}

/* --- store.c: environment, transactions, errors --------------------- */

/* Map an LMDB or errno code to a store error (0 stays 0). */
int store_err(int rc);
/* Begin a write txn (handles MDB_MAP_RESIZED). 0 or a store error. */
int store_wbegin(struct store *st, MDB_txn **txn);
/* Renew the shared read txn; store_rend() resets it. 0 or a store error. */
int store_rbegin(struct store *st, MDB_txn **txn);
void store_rend(struct store *st);
/*
 * Run fn in a write txn and commit it; when the map fills, abort, grow the
 * map and run fn again. fn returns 0 or a store error and must have no side
 * effects outside the txn.
 */
int store_write(struct store *st, int (*fn)(struct store *st, MDB_txn *txn, void *arg), void *arg);
/* Double the map (up to map_max). 0, STORE_EFULL at map_max, or -ENOSPC (disk full). */
int store_grow(struct store *st);
/*
 * Room for size more bytes of new mail (deliver, APPEND) that leaves the
 * reserve free for deletions: 0, or STORE_EFULL. Deletions, flag changes
 * and COPY (which shares the blob) do not ask. Call inside a write txn.
 */
int store_room(struct store *st, uint64_t size);
/* Commit a tiny write so pages freed by the last commit become reusable. */
int store_reclaim(struct store *st);

/* --- store_rec.c: records and lookups ------------------------------- */

void store_urec_encode(const struct store_urec *r, unsigned char out[STORE_UREC_LEN]);
int store_urec_decode(const MDB_val *v, struct store_urec *r);
void store_mbox_encode(const struct store_mbox *m, unsigned char out[STORE_MREC_LEN]);
int store_mbox_decode(const MDB_val *v, struct store_mbox *m);
void store_msg_encode(const struct store_msg *m, unsigned char out[STORE_MSGREC_LEN]);
int store_msg_decode(const MDB_val *key, const MDB_val *v, struct store_msg *m);

/* Key builders. */
size_t store_mboxkey(uint32_t user, const char *name, size_t namelen, unsigned char *out);
void store_msgkey(uint32_t mbox, uint32_t uid, unsigned char out[8]);

/* Allocate the next id from a "meta" counter (starting at 1). */
int store_meta_next(struct store *st, MDB_txn *txn, const char *key, uint64_t *id);

int store_urec_get(struct store *st, MDB_txn *txn, const char *name, struct store_urec *r);
int store_urec_put(struct store *st, MDB_txn *txn, const struct store_urec *r);
/* Find a user's record by id. */
int store_urec_get_id(struct store *st, MDB_txn *txn, uint32_t id, struct store_urec *r);
int store_mrec_get(struct store *st, MDB_txn *txn, uint32_t user, const char *name,
                   struct store_mbox *m);
/* Find a mailbox by id; name (STORE_MBOX_NAME_MAX+1 bytes) may be NULL. */
int store_mrec_get_id(struct store *st, MDB_txn *txn, uint32_t id, struct store_mbox *m, char *name);
int store_mrec_put(struct store *st, MDB_txn *txn, const struct store_mbox *m, const char *name);
/* Create a mailbox for user (new id, UIDVALIDITY from the clock). */
int store_mrec_create(struct store *st, MDB_txn *txn, uint32_t user, const char *name,
                      struct store_mbox *out);
/* Drop one reference to a blob, deleting it at zero. */
int store_blob_unref(struct store *st, MDB_txn *txn, uint64_t blob);
/*
 * Delete message uid of mailbox mbox: record removed, blob ref dropped.
 * *size gets its size. STORE_ENOTFOUND if it is not there. The caller
 * updates the mailbox and user counters.
 */
int store_msg_remove(struct store *st, MDB_txn *txn, uint32_t mbox, uint32_t uid, uint64_t *size);

/* --- store_msg.c: the walk that store_msg_walk_from and store_batch_walk_from share --- */

/* Call cb for each record of mbox with uid >= from in txn, in UID order;
 * a non-zero cb return stops the walk and is returned. */
int store_msg_walk_txn(struct store *st, MDB_txn *txn, uint32_t mbox, uint32_t from,
                       int (*cb)(void *arg, const struct store_msg *m), void *arg);

/* --- store_mbox.c: keyword lists ("kw/" u32 mailbox -> NUL-separated names, in "meta") --- */

/* The meta key of mbox's keyword list. */
void store_kw_key(uint32_t mbox, unsigned char kb[7]);
/* Decode a keyword list value into names; *n gets their number. */
void store_kw_decode(const MDB_val *v, char names[STORE_KW_MAX][STORE_KW_LEN + 1], unsigned *n);

/* --- store_mbox.c: the default mailboxes --- */

/*
 * Create the default mailboxes user lacks (store_mbox_defaults) in txn and
 * subscribe the special-use ones it creates (Dovecot's auto = subscribe).
 * A user without the meta mark "subdef/" u32 user (made before defaults
 * were subscribed) has every selectable special-use default subscribed,
 * once: the mark is then written, so a folder unsubscribed later stays so.
 */
int store_mbox_make_defaults(struct store *st, MDB_txn *txn, uint32_t user);
/* In txn: delete user's meta records, "sub/" u32 user ... and "subdef/" u32 user (store_user_del). */
int store_mbox_forget_user(struct store *st, MDB_txn *txn, uint32_t user);

/* --- store_mime.c: MIME records ("mime": u64 blob id -> mime.h record) --- */

/* Put blob's record (rec, len) in txn, replacing any. */
int store_mime_put(struct store *st, MDB_txn *txn, uint64_t blob, const void *rec, size_t len);
/* Parse blob (already written in txn) and put its record: call after every blob write. */
int store_mime_index(struct store *st, MDB_txn *txn, uint64_t blob);
/* Delete blob's record (absent is fine); store_blob_unref calls it at refcount zero. */
int store_mime_del(struct store *st, MDB_txn *txn, uint64_t blob);
/*
 * Give every blob without a valid record of MIME_REC_VERSION one, once per
 * version (meta "mime_version"); store_open runs it on a writable store.
 * *indexed (may be NULL) gets the number of records written.
 */
int store_mime_upgrade(struct store *st, unsigned *indexed);
/*
 * store_check's part: MIME records without their blob, blobs without a
 * valid record; with fix (txn writable) delete or write them. Each problem
 * goes to report and is counted in *problems.
 */
int store_mime_check(struct store *st, MDB_txn *txn, int fix, int (*report)(void *arg, const char *line),
                     void *arg, unsigned *problems);

#endif
