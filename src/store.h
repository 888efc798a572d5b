/*
 * store — the LMDB mailbox store.
 *
 * One LMDB environment in the data directory holds every user's mail.
 * Named databases (keys big-endian so cursors walk in order):
 *   "users"    name                -> struct store_user (id, PBKDF2 verifier, quota, usage)
 *   "userids"  u32 user id         -> name
 *   "mboxes"   u32 user, name      -> mailbox record (id, UIDVALIDITY, UIDNEXT, ..., flags, \Recent mark)
 *   "mboxids"  u32 mailbox id      -> u32 user, name (the "mboxes" key)
 *   "msgs"     u32 mbox, u32 uid   -> message record (blob id, size, flags, date, modseq)
 *   "blobs"    u64 blob id         -> raw message bytes (CRLF line ends)
 *   "blobrefs" u64 blob id         -> u32 reference count (COPY shares a blob)
 *   "meta"     "next_user", "next_mbox", "next_blob", "last_uidvalidity", "version"
 *
 * Rules (the caveats, as LMDB's header states its own):
 * - Every function returns 0 or a negative error: -errno for system errors,
 *   or one of STORE_E* below. store_strerror() names them.
 * - A function that writes commits and syncs before it returns 0: the caller
 *   may acknowledge the write to a client at once.
 * - Transactions never outlive a call, except the group-commit pair
 *   store_batch_begin()/store_batch_end(), which the daemon opens and closes
 *   within one loop turn.
 * - Reads copy data out before the read transaction ends; nothing returned
 *   points into the map.
 * - Not thread-safe; one struct store per process. Several processes (daemon,
 *   deliver, the CGI, user admin) may open the same directory at once: LMDB's
 *   lock file serialises writers.
 * - When the map fills, a write grows it (doubling, up to map_max) and is
 *   retried; at map_max it fails with STORE_EFULL (after one retry behind a
 *   tiny commit that makes freshly freed pages reusable).
 * - Writers open the environment with MDB_WRITEMAP: data.mdb is as large as
 *   the largest map (its blocks reserved where the filesystem can), and no
 *   transaction is nested.
 */
#ifndef POSTNOOK_STORE_H
#define POSTNOOK_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum {
	STORE_ENOTFOUND = -1000, /* no such user, mailbox or message */
	STORE_EEXIST,            /* user or mailbox already exists */
	STORE_EQUOTA,            /* the change would exceed the user's quota */
	STORE_EFULL,             /* the map is at map_max and full */
	STORE_EBUSY,             /* the environment is locked or readers table full */
	STORE_EAUTH,             /* wrong user name or password */
	STORE_EINVAL,            /* bad argument (name too long, bad characters, ...) */
	STORE_ECORRUPT,          /* a record has the wrong size or version */
	STORE_ETOOBIG,           /* message larger than the store accepts */
	STORE_EDB,               /* any other LMDB error (logged with its text) */
};

#define STORE_NAME_MAX     64   /* user names: [a-z0-9._-], 1..64 bytes */
#define STORE_MBOX_NAME_MAX 255 /* mailbox names, bytes (modified UTF-7) */

/* Message flags (bit set). */
enum {
	STORE_F_SEEN = 1 << 0,
	STORE_F_ANSWERED = 1 << 1,
	STORE_F_FLAGGED = 1 << 2,
	STORE_F_DELETED = 1 << 3,
	STORE_F_DRAFT = 1 << 4,
};

struct store_opts {
	uint64_t map_size;   /* initial map size in bytes (rounded to pages) */
	uint64_t map_max;    /* grow up to this many bytes; then STORE_EFULL */
	int nosync;          /* 1: MDB_NOSYNC (tests/benchmarks only, unsafe) */
	int readonly;        /* 1: open read-only (CGI overview) */
};

struct store_user {
	uint32_t id;
	char name[STORE_NAME_MAX + 1];
	uint64_t quota_bytes;    /* 0 = unlimited */
	uint32_t quota_msgs;     /* 0 = unlimited */
	uint64_t used_bytes;     /* sum of sizes of all the user's messages */
	uint32_t used_msgs;
	uint32_t iterations;     /* PBKDF2 iterations of the stored verifier */
};

struct store_mbox {
	uint32_t id;
	uint32_t user;
	uint32_t uidvalidity;
	uint32_t uidnext;        /* never decreases: UIDs are never reused */
	uint64_t highestmodseq;
	uint32_t count;          /* messages in the mailbox */
	uint64_t bytes;          /* their total size */
	uint32_t flags;          /* STORE_MBOX_NOSELECT */
	uint32_t recent_uid;     /* IMAP \Recent: no session has claimed UIDs >= this */
};

/* store_mbox.flags */
enum {
	/* A name kept only for its children (IMAP DELETE of a mailbox with
	 * inferiors): no messages, not selectable; store_mbox_get and
	 * store_mbox_get_id answer STORE_ENOTFOUND for it. */
	STORE_MBOX_NOSELECT = 1 << 0,
};

struct store_msg {
	uint32_t uid;
	uint32_t flags;          /* STORE_F_* */
	uint64_t blob;
	uint64_t size;           /* octets, CRLF line ends */
	int64_t internaldate;    /* seconds since the epoch */
	uint64_t modseq;
};

struct store;

/* Open (creating if needed, mode 0660 files) the store in dir. */
int store_open(const char *dir, const struct store_opts *opts, struct store **out);
void store_close(struct store *st);
const char *store_strerror(int err);
/* Current and maximum map size in bytes, and bytes in use (for reports). */
int store_mapinfo(struct store *st, uint64_t *map_size, uint64_t *map_max, uint64_t *used);

/* --- users ---------------------------------------------------------- */

/* Validate a user name: 0 or STORE_EINVAL. */
int store_user_name_check(const char *name);
/* Create a user with an INBOX (UIDVALIDITY from the clock). quota 0 = none. */
int store_user_add(struct store *st, const char *name, const char *pass, size_t passlen,
                   uint64_t quota_bytes, uint32_t quota_msgs);
/* Delete a user, all mailboxes and messages (blob refs dropped). */
int store_user_del(struct store *st, const char *name);
int store_user_passwd(struct store *st, const char *name, const char *pass, size_t passlen);
int store_user_set_quota(struct store *st, const char *name, uint64_t quota_bytes, uint32_t quota_msgs);
int store_user_get(struct store *st, const char *name, struct store_user *out);
/* Call cb for each user in name order; a non-zero return from cb stops and is returned. */
int store_user_list(struct store *st, int (*cb)(void *arg, const struct store_user *u), void *arg);
/*
 * Check a password. 0 and *user filled on success, STORE_EAUTH for an
 * unknown user or a wrong password (the same work is done in both cases,
 * and the comparison is constant-time).
 */
int store_auth(struct store *st, const char *name, const char *pass, size_t passlen,
               struct store_user *user);

/* --- mailboxes and messages ----------------------------------------- */

/* A selectable mailbox by name: STORE_ENOTFOUND also for a \Noselect name. */
int store_mbox_get(struct store *st, uint32_t user, const char *name, struct store_mbox *out);
/* Any mailbox record by name, a \Noselect one included (flags tell). */
int store_mbox_get_any(struct store *st, uint32_t user, const char *name, struct store_mbox *out);
/* Walk a mailbox's messages in UID order with uid < uid_below (0 = all). */
int store_msg_scan_below(struct store *st, uint32_t mbox, uint32_t uid_below,
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

/* --- group commit --------------------------------------------------- */

/*
 * A batch is one write transaction that collects the writes of many
 * sessions in one loop turn and is committed (one sync) at the end of the
 * turn. The sessions' parts are not nested transactions (the environment
 * uses MDB_WRITEMAP, which rules them out): when a part fails, the caller
 * aborts the whole batch and runs it again without that part, so the code
 * of a part must be re-runnable (no effect outside the txn that a second
 * run would see differently).
 */
struct store_batch;
int store_batch_begin(struct store *st, struct store_batch **out);
/* Remove messages by UID (blob refs dropped, usage updated) in the batch. */
int store_batch_expunge(struct store_batch *b, uint32_t mbox, const uint32_t *uids, size_t n);
/* Commit and sync the whole batch (0), or the error (the batch is gone). */
int store_batch_end(struct store_batch *b);
/* Abort without committing. */
void store_batch_abort(struct store_batch *b);
/*
 * After a write (a batch, or store_write's txn) failed with STORE_EFULL and
 * was aborted: grow the map; at map_max, once per *tried (start at 0),
 * commit a tiny write so pages freed by the last commit become reusable.
 * 0: run the write again; else STORE_EFULL, -ENOSPC or another error.
 */
int store_make_room(struct store *st, int *tried);

/* Re-check every user's usage against their messages; fix=1 repairs. */
int store_check(struct store *st, int fix, int (*report)(void *arg, const char *line), void *arg);

/* --- the web page's records (store_admin.c) ------------------------- */

/* Set the admin password (PBKDF2 like users'); only_first=1 fails with STORE_EEXIST if one is set. */
int store_admin_set(struct store *st, const char *pass, size_t passlen, int only_first);
/* 0, STORE_EAUTH (wrong), STORE_ENOTFOUND (none set yet) or an error. */
int store_admin_auth(struct store *st, const char *pass, size_t passlen);
/* 1 if an admin password is set, 0 if not, or an error. */
int store_admin_isset(struct store *st);
/* Small records under "cgi/KEY" in "meta" (sessions, sign-in failures): get, put (len 0 deletes), prune. */
int store_kv_get(struct store *st, const char *key, void *val, size_t cap, size_t *len);
int store_kv_put(struct store *st, const char *key, const void *val, size_t len);
int store_kv_prune(struct store *st, const char *prefix, int (*drop)(void *arg, const void *val, size_t len),
                   void *arg, unsigned *kept);

/* --- MIME structure records (store_mime.c; record and renderings in mime.h) --- */

/*
 * Every stored blob has a MIME record ("mime" database, keyed by blob id,
 * written in the blob's transaction and deleted with its last reference).
 * A message stored before records existed is parsed on the fly (nothing is
 * written back). The functions below run in one read txn and render straight
 * from the map; they return 0 or a store error or a mime.h error (-ENOENT: no
 * such part, -EINVAL: bad section spec).
 */
struct mime_needle;
/* Copy the record of message (mbox, uid) into buf (cap >= MIME_REC_MAX always fits). */
int store_mime_get(struct store *st, uint32_t mbox, uint32_t uid, void *buf, size_t cap, size_t *len);
/* mime_render() of item what (MIME_R_ENVELOPE/BODY/BODYSTRUCTURE), render-and-skip. */
int store_mime_fetch(struct store *st, uint32_t mbox, uint32_t uid, int what, uint64_t off,
                     char *buf, size_t room, size_t *n, uint64_t *total);
/* BODY[spec] (spec = the text between the brackets), render-and-skip. */
int store_mime_section(struct store *st, uint32_t mbox, uint32_t uid, const char *spec, size_t speclen,
                       uint64_t off, char *buf, size_t room, size_t *n, uint64_t *total);
/* mime_search() on the message: 1 found, 0 not found, or an error. */
int store_mime_search(struct store *st, uint32_t mbox, uint32_t uid, int where, const char *field,
                      size_t fieldlen, const struct mime_needle *nd);

#endif
