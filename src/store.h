/*
 * store — the LMDB mailbox store: the environment, its errors, and what
 * the topics below share.
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
 *   "mime"     u64 blob id         -> MIME structure record (mime.h)
 *   "meta"     "next_user", "next_mbox", "next_blob", "last_uidvalidity", "version", ...
 *
 * One public header per topic, each named after the file that implements it:
 *   store.h        the environment (open, close, map size), errors, the message record
 *   store_user.h   users: add, delete, password, quota, lookup, list, authenticate
 *   store_mbox.h   the mailbox tree, subscriptions, a mailbox's keyword names
 *   store_msg.h    messages: lookup, scan, walk, read, deliver
 *   store_batch.h  group commit and the writes inside it (expunge, flags, keywords, COPY, APPEND)
 *   store_mime.h   MIME structure: FETCH renderings and SEARCH from the record
 *   store_admin.h  the web page's records: the admin password, small key-value records
 *   store_check.h  the consistency check and repair
 * store_int.h is private to src/store*.c.
 *
 * Rules (the caveats, as LMDB's header states its own):
 * - Every function returns 0 or a negative error: -errno for system errors,
 *   or one of STORE_E* below. store_strerror() names them. Each function's
 *   comment lists the errors it returns itself; besides those, any call may
 *   return "a common error":
 *     STORE_EBUSY     LMDB's reader table is full, or other processes kept
 *                     resizing the map while the call began
 *     STORE_ECORRUPT  a record of the wrong size or version, or a damaged
 *                     environment
 *     STORE_EDB       any other LMDB error
 *     -errno          a system error (-ENOMEM, -EIO, ...)
 *   and a call that writes also:
 *     STORE_EFULL     the store is full: the map is at map_max (or as large
 *                     as the disk allows) and full, after the retries below;
 *                     new mail also gets it when only the reserve is left
 *     -EROFS          the store was opened read-only
 *     STORE_EBUSY     a group-commit batch is open (plain writes and
 *                     store_check fail until store_batch_end)
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
 * - When the map fills, a write grows it (doubling up to map_max; by what
 *   the disk can give when it cannot give that) and is retried; at its
 *   ceiling it fails with STORE_EFULL (after one retry behind a tiny commit
 *   that makes freshly freed pages reusable).
 * - The reserve: new mail (deliver, APPEND) is refused with STORE_EFULL
 *   when it would leave less than 1/64 of the ceiling (256 KiB..16 MiB)
 *   free, so deletions, which need free pages too, always find some.
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
	STORE_EFULL,             /* the store is full (map_max or the disk) */
	STORE_EBUSY,             /* the environment is locked or readers table full */
	STORE_EAUTH,             /* wrong user name or password */
	STORE_EINVAL,            /* bad argument (name too long, bad characters, ...) */
	STORE_ECORRUPT,          /* a record has the wrong size or version */
	STORE_ETOOBIG,           /* message larger than the store accepts */
	STORE_EDB,               /* any other LMDB error */
	STORE_ELIMIT,            /* a mailbox's keyword list is full (STORE_KW_MAX) */
};

/* Message flags (bit set). */
enum {
	STORE_F_SEEN = 1 << 0,
	STORE_F_ANSWERED = 1 << 1,
	STORE_F_FLAGGED = 1 << 2,
	STORE_F_DELETED = 1 << 3,
	STORE_F_DRAFT = 1 << 4,
};

/*
 * A message's keywords are bits 8.. of its flags: bit 8+i is keyword i of
 * its mailbox's list (store_kw_get in store_mbox.h reads the list,
 * store_batch_kw_bits in store_batch.h adds to it).
 */
#define STORE_KW_MAX 24         /* keywords per mailbox (flag bits 8..31) */
#define STORE_KW_LEN 64         /* bytes of a keyword name */
#define STORE_F_KW_SHIFT 8
#define STORE_F_SYSTEM 0xffu

struct store_opts {
	uint64_t map_size;   /* initial map size in bytes (rounded to pages) */
	uint64_t map_max;    /* grow up to this many bytes; then STORE_EFULL */
	int nosync;          /* 1: MDB_NOSYNC (tests/benchmarks only, unsafe) */
	int readonly;        /* 1: open read-only (CGI overview) */
};

/* A message record (store_msg.h reads them, store_batch.h writes them). */
struct store_msg {
	uint32_t uid;
	uint32_t flags;          /* STORE_F_* */
	uint64_t blob;
	uint64_t size;           /* octets, CRLF line ends */
	int64_t internaldate;    /* seconds since the epoch */
	uint64_t modseq;
};

struct store;

/*
 * Open the store in dir, creating it (directory mode 0750, files 0660)
 * unless opts->readonly; *out gets the handle, NULL on failure. A
 * writable open gives every blob a MIME record of the current version,
 * once (see store_mime.h).
 * Returns 0, STORE_EINVAL (dir NULL or empty, opts NULL), -ENOENT
 * (read-only: no store in dir), STORE_ENOTFOUND (read-only: an LMDB
 * environment without the store's databases), STORE_ECORRUPT (not an LMDB
 * environment, or a format newer than this build), or a common error.
 */
int store_open(const char *dir, const struct store_opts *opts, struct store **out);
/* Close the store, aborting a batch left open; NULL is fine. */
void store_close(struct store *st);
/* Name a store error or -errno (never NULL). */
const char *store_strerror(int err);
/*
 * Current and maximum map size in bytes, and bytes in use (for reports);
 * each pointer may be NULL. Returns 0 or a common error.
 */
int store_mapinfo(struct store *st, uint64_t *map_size, uint64_t *map_max, uint64_t *used);
/*
 * How full the store is: *used gets the bytes in use (pages on LMDB's free
 * list not counted), *ceiling the most the map may become (map_max, or the
 * data file plus the disk's free space when that is less). New mail stops
 * at the ceiling less the reserve. Returns 0 or a common error.
 */
int store_fill(struct store *st, uint64_t *used, uint64_t *ceiling);
/*
 * After a write (a batch, or store_write's txn) failed with STORE_EFULL and
 * was aborted: grow the map; at map_max, once per *tried (start at 0),
 * commit a tiny write so pages freed by the last commit become reusable.
 * Returns 0 (run the write again), STORE_EFULL (at map_max, this board's
 * address space or what the disk can hold, with nothing more to reclaim),
 * or a common error.
 */
int store_make_room(struct store *st, int *tried);

#endif
