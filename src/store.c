/* store — the LMDB environment: open/close, errors, transactions, map growth. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store_int.h"

#define STORE_MAXDBS 10

/* Map an LMDB or errno code to a store error (0 stays 0). */
int store_err(int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case MDB_NOTFOUND:
		return STORE_ENOTFOUND;
	case MDB_KEYEXIST:
		return STORE_EEXIST;
	case MDB_MAP_FULL:
		return STORE_EFULL;
	case MDB_READERS_FULL:
	case MDB_BAD_RSLOT:
	case MDB_TXN_FULL:
		return STORE_EBUSY;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
	case MDB_BAD_VALSIZE:
		return STORE_ECORRUPT;
	}
	if (rc > 0)
		return -rc;     /* errno */
	if (rc >= STORE_ENOTFOUND && rc <= STORE_EDB)
		return rc;      /* already ours */
	return STORE_EDB;
}

/* Name a store error or -errno. */
const char *store_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case STORE_ENOTFOUND:
		return "no such user, mailbox or message";
	case STORE_EEXIST:
		return "already exists";
	case STORE_EQUOTA:
		return "quota exceeded";
	case STORE_EFULL:
		return "store full (map at its maximum size)";
	case STORE_EBUSY:
		return "store busy";
	case STORE_EAUTH:
		return "authentication failed";
	case STORE_EINVAL:
		return "invalid argument";
	case STORE_ECORRUPT:
		return "store record corrupt or of an unknown version";
	case STORE_ETOOBIG:
		return "message too large";
	case STORE_EDB:
		return "database error";
	}
	if (err < 0 && err > -4096)
		return strerror(-err);
	return "unknown error";
}

/* Begin a write txn (nested under parent if given); picks up a map grown by another process. */
int store_wbegin(struct store *st, MDB_txn *parent, MDB_txn **txn)
{
	int rc;

	if (st->readonly)
		return -EROFS;
	for (int tries = 0; tries < 8; tries++) {
		rc = mdb_txn_begin(st->env, parent, 0, txn);
		if (rc != MDB_MAP_RESIZED || parent)
			return store_err(rc);
		rc = mdb_env_set_mapsize(st->env, 0);
		if (rc)
			return store_err(rc);
	}
	return STORE_EBUSY;
}

/* Make the shared read txn current (renewing it). 0 or a store error. */
int store_rbegin(struct store *st, MDB_txn **txn)
{
	int rc;

	for (int tries = 0; tries < 8; tries++) {
		if (st->rtxn)
			rc = mdb_txn_renew(st->rtxn);
		else
			rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &st->rtxn);
		if (rc == 0) {
			*txn = st->rtxn;
			return 0;
		}
		if (st->rtxn) {
			mdb_txn_abort(st->rtxn);
			st->rtxn = NULL;
		}
		if (rc == MDB_BAD_RSLOT)
			continue;       /* our reader slot was taken away: start afresh */
		if (rc != MDB_MAP_RESIZED)
			return store_err(rc);
		/* Another process grew the map: adopt its size. */
		rc = mdb_env_set_mapsize(st->env, 0);
		if (rc)
			return store_err(rc);
	}
	return STORE_EBUSY;
}

/* Reset the shared read txn so no snapshot is held between calls. */
void store_rend(struct store *st)
{
	if (st->rtxn)
		mdb_txn_reset(st->rtxn);
}

/* Double the map, up to map_max. 0, or STORE_EFULL when already at map_max. */
int store_grow(struct store *st)
{
	MDB_envinfo info;
	uint64_t cur, next;
	int rc;

	rc = mdb_env_info(st->env, &info);
	if (rc)
		return store_err(rc);
	cur = info.me_mapsize;
	if (cur >= st->map_max)
		return STORE_EFULL;
	next = cur * 2 < st->map_max ? cur * 2 : st->map_max;
	if ((size_t)next != next)
		return STORE_EFULL;     /* beyond this board's address space */
	rc = mdb_env_set_mapsize(st->env, (size_t)next);
	if (rc == ENOMEM)
		return STORE_EFULL;
	return store_err(rc);
}

/* Run fn in a committed write txn, growing the map and retrying when it fills. */
int store_write(struct store *st, int (*fn)(struct store *st, MDB_txn *txn, void *arg), void *arg)
{
	MDB_txn *txn;
	int rc;

	if (st->batch.active)
		return STORE_EBUSY;     /* one write txn per process: finish the batch first */
	for (;;) {
		rc = store_wbegin(st, NULL, &txn);
		if (rc)
			return rc;
		rc = fn(st, txn, arg);
		if (rc == 0)
			rc = store_err(mdb_txn_commit(txn));
		else
			mdb_txn_abort(txn);
		if (rc != STORE_EFULL)
			return rc;
		rc = store_grow(st);
		if (rc)
			return rc;
	}
}

/* Open (or create) the named databases and check the format version. */
static int store_open_dbs(struct store *st, MDB_txn *txn)
{
	static const struct {
		const char *name;
		size_t off;
	} dbs[] = {
		{ "users", offsetof(struct store, users) },
		{ "userids", offsetof(struct store, userids) },
		{ "mboxes", offsetof(struct store, mboxes) },
		{ "mboxids", offsetof(struct store, mboxids) },
		{ "msgs", offsetof(struct store, msgs) },
		{ "blobs", offsetof(struct store, blobs) },
		{ "blobrefs", offsetof(struct store, blobrefs) },
		{ "meta", offsetof(struct store, meta) },
		{ "mime", offsetof(struct store, mime) },
	};
	unsigned flags = st->readonly ? 0 : MDB_CREATE;
	unsigned char ver[4];
	MDB_val k = { 7, "version" }, v;
	int rc;

	for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++) {
		rc = mdb_dbi_open(txn, dbs[i].name, flags, (MDB_dbi *)((char *)st + dbs[i].off));
		if (rc == MDB_NOTFOUND && st->readonly && dbs[i].off == offsetof(struct store, mime))
			continue;       /* older store: records are parsed on the fly */
		if (rc)
			return store_err(rc);
	}
	rc = mdb_get(txn, st->meta, &k, &v);
	if (rc == MDB_NOTFOUND && !st->readonly) {
		store_put32(ver, STORE_FORMAT_VERSION);
		v.mv_size = 4;
		v.mv_data = ver;
		return store_err(mdb_put(txn, st->meta, &k, &v, 0));
	}
	if (rc)
		return store_err(rc);
	if (v.mv_size != 4 || store_get32(v.mv_data) > STORE_FORMAT_VERSION)
		return STORE_ECORRUPT;
	return 0;
}

/* Open (creating if needed) the store in dir. 0 and *out set, or an error. */
int store_open(struct store **out, const char *dir, const struct store_opts *opts)
{
	struct store *st;
	MDB_txn *txn;
	unsigned flags = 0;
	int rc;

	*out = NULL;
	if (!dir || !*dir || !opts)
		return STORE_EINVAL;
	if (!opts->readonly && mkdir(dir, 0750) < 0 && errno != EEXIST)
		return -errno;
	st = calloc(1, sizeof *st);
	if (!st)
		return -ENOMEM;
	st->readonly = opts->readonly;
	st->map_max = opts->map_max > opts->map_size ? opts->map_max : opts->map_size;
	rc = mdb_env_create(&st->env);
	if (rc)
		goto fail;
	rc = mdb_env_set_maxdbs(st->env, STORE_MAXDBS);
	if (rc == 0 && opts->map_size)
		rc = mdb_env_set_mapsize(st->env, (size_t)opts->map_size);
	if (rc)
		goto fail;
	if (opts->nosync)
		flags |= MDB_NOSYNC;
	if (opts->readonly)
		flags |= MDB_RDONLY;
	rc = mdb_env_open(st->env, dir, flags, 0660);
	if (rc)
		goto fail;
	mdb_reader_check(st->env, NULL);        /* free slots of crashed processes */
	if (opts->readonly) {
		rc = store_rbegin(st, &txn);
		if (rc == 0) {
			/* commit, not reset: a reset read txn drops the handles it opened */
			rc = store_open_dbs(st, txn);
			if (rc == 0)
				rc = store_err(mdb_txn_commit(txn));
			else
				mdb_txn_abort(txn);
			st->rtxn = NULL;
		}
	} else {
		for (;;) {
			rc = store_wbegin(st, NULL, &txn);
			if (rc)
				break;
			rc = store_open_dbs(st, txn);
			if (rc == 0)
				rc = store_err(mdb_txn_commit(txn));
			else
				mdb_txn_abort(txn);
			if (rc != STORE_EFULL || store_grow(st) != 0)
				break;
		}
	}
	if (rc)
		goto fail_mapped;
	if (!opts->readonly)
		store_mime_upgrade(st, NULL);   /* once per MIME record version; on failure reads parse on the fly */
	*out = st;
	return 0;
fail:
	rc = store_err(rc);
fail_mapped:
	store_close(st);
	return rc;
}

/* Close the store; NULL is fine. */
void store_close(struct store *st)
{
	if (!st)
		return;
	if (st->batch.active)
		store_batch_abort(&st->batch);
	if (st->rtxn)
		mdb_txn_abort(st->rtxn);
	if (st->env)
		mdb_env_close(st->env);
	free(st);
}

/* Report the map size, its maximum and the bytes in use. */
int store_mapinfo(struct store *st, uint64_t *map_size, uint64_t *map_max, uint64_t *used)
{
	MDB_envinfo info;
	MDB_stat stat;
	int rc;

	rc = mdb_env_info(st->env, &info);
	if (rc == 0)
		rc = mdb_env_stat(st->env, &stat);
	if (rc)
		return store_err(rc);
	if (map_size)
		*map_size = info.me_mapsize;
	if (map_max)
		*map_max = st->map_max;
	if (used)
		*used = ((uint64_t)info.me_last_pgno + 1) * stat.ms_psize;
	return 0;
}
