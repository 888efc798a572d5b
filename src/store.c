/* store — the LMDB environment: open/close, errors, transactions, map growth. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "store.h"
#include "store_batch.h"
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
		return "the mail store is full";
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
	case STORE_ELIMIT:
		return "too many keywords in the mailbox";
	}
	if (err < 0 && err > -4096)
		return strerror(-err);
	return "unknown error";
}

/*
 * Map size and the data file. With MDB_WRITEMAP, LMDB truncates data.mdb to
 * its map size whenever it maps it (open, resize). Another process may have
 * a larger map: cutting the file under it would turn its next write past the
 * new end into SIGBUS. So no process maps less than the file's current size,
 * and the check and the resize happen under an flock on the data file (held
 * for microseconds; the daemon, deliver, `user` and the CGI all take it).
 * The blocks of a new map size are reserved first (fallocate): a full disk
 * is then an error at growth time instead of SIGBUS when a hole is written.
 * Where the filesystem cannot reserve (EOPNOTSUPP) the file stays sparse.
 */
static int store_file_size(int fd, uint64_t *size)
{
	struct stat sb;

	if (fstat(fd, &sb) < 0)
		return -errno;
	*size = sb.st_size > 0 ? (uint64_t)sb.st_size : 0;
	return 0;
}

/* Reserve the file's blocks up to size. 0 (also where reserving is not supported) or -errno. */
static int store_file_reserve(int fd, uint64_t size)
{
	if ((off_t)size < 0 || (uint64_t)(off_t)size != size)
		return -EFBIG;
	if (fallocate(fd, 0, 0, (off_t)size) == 0)
		return 0;
	if (errno == EOPNOTSUPP || errno == ENOSYS)
		return 0;       /* e.g. some FAT drivers: sparse, as LMDB leaves it */
	return -errno;
}

/* Resize the map to size (0: the size recorded by the last commit), never below the file. */
static int store_resize(struct store *st, uint64_t size)
{
	uint64_t fsize = 0;
	int fd, rc;

	if (mdb_env_get_fd(st->env, &fd) != 0 || flock(fd, LOCK_EX) < 0)
		return STORE_EDB;
	rc = store_file_size(fd, &fsize);
	if (rc == 0 && size && fsize < size && !st->readonly)
		rc = store_file_reserve(fd, size);
	if (rc == 0) {
		if (size < fsize)
			size = fsize;       /* someone's map is that large already */
		if ((size_t)size != size)
			rc = STORE_EFULL;
		else
			rc = mdb_env_set_mapsize(st->env, (size_t)size);
		if (rc == ENOMEM)
			rc = STORE_EFULL;
		rc = store_err(rc);
	}
	flock(fd, LOCK_UN);
	return rc;
}

/* Another process grew the map (MDB_MAP_RESIZED): map the new size. */
static int store_adopt(struct store *st)
{
	MDB_envinfo info;
	int fd;
	uint64_t fsize = 0;

	/* The file is as large as the largest map; a read-only store or one
	 * whose file is no larger than our map takes the committed size. */
	if (mdb_env_info(st->env, &info) == 0 && mdb_env_get_fd(st->env, &fd) == 0 &&
	    store_file_size(fd, &fsize) == 0 && fsize > info.me_mapsize && !st->readonly)
		return store_resize(st, fsize);
	return store_resize(st, 0);
}

/* Begin a write txn; picks up a map grown by another process. */
int store_wbegin(struct store *st, MDB_txn **txn)
{
	int rc;

	if (st->readonly)
		return -EROFS;
	for (int tries = 0; tries < 8; tries++) {
		rc = mdb_txn_begin(st->env, NULL, 0, txn);
		if (rc != MDB_MAP_RESIZED)
			return store_err(rc);
		rc = store_adopt(st);
		if (rc)
			return rc;
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
		rc = store_adopt(st);
		if (rc)
			return rc;
	}
	return STORE_EBUSY;
}

/* Reset the shared read txn so no snapshot is held between calls. */
void store_rend(struct store *st)
{
	if (st->rtxn)
		mdb_txn_reset(st->rtxn);
}

/* The most the map may become: map_max, or less where the file system
 * cannot give that much (the file's size plus its free space), never below
 * the current map. */
static uint64_t store_ceiling(struct store *st, uint64_t cur)
{
	struct statvfs fs;
	uint64_t fsize = 0, lim = st->map_max;
	int fd;

	if (mdb_env_get_fd(st->env, &fd) == 0 && store_file_size(fd, &fsize) == 0 && fstatvfs(fd, &fs) == 0 &&
	    fsize + (uint64_t)fs.f_bavail * fs.f_frsize < lim)
		lim = (fsize + (uint64_t)fs.f_bavail * fs.f_frsize) & ~(uint64_t)0xffff;
	return lim > cur ? lim : cur;
}

/* Double the map, up to map_max; where the disk cannot give that, grow by
 * what it can. 0, STORE_EFULL when already at map_max, or -ENOSPC. */
int store_grow(struct store *st)
{
	MDB_envinfo info;
	uint64_t cur, next, fsize = 0;
	int fd, rc;

	rc = mdb_env_info(st->env, &info);
	if (rc)
		return store_err(rc);
	cur = info.me_mapsize;
	if (mdb_env_get_fd(st->env, &fd) == 0 && store_file_size(fd, &fsize) == 0 && fsize > cur)
		return store_resize(st, fsize);     /* another process grew it: take that first */
	if (cur >= st->map_max)
		return STORE_EFULL;
	next = cur * 2 < st->map_max ? cur * 2 : st->map_max;
	if ((size_t)next != next)
		return STORE_EFULL;     /* beyond this board's address space */
	rc = store_resize(st, next);
	if (rc != -ENOSPC)
		return rc;
	next = store_ceiling(st, cur);  /* the disk is nearly full: take what it has */
	return next > cur ? store_resize(st, next) : -ENOSPC;
}

/* The pages on LMDB's free list (reusable once no reader needs them). */
static uint64_t store_free_pages(struct store *st)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t n = 0;
	size_t cnt;

	if (store_rbegin(st, &txn))
		return 0;
	if (mdb_cursor_open(txn, 0, &cur) == 0) {
		while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0)
			if (v.mv_size >= sizeof cnt) {
				memcpy(&cnt, v.mv_data, sizeof cnt);
				n += cnt;
			}
		mdb_cursor_close(cur);
	}
	store_rend(st);
	return n;
}

/*
 * The reserve: room held back from new mail for deletions, which need
 * free pages too (LMDB copies every page it changes). 1/64 of the most
 * the map may become, at least 256 KiB, at most 16 MiB.
 */
static uint64_t store_reserve(uint64_t ceiling)
{
	uint64_t r = ceiling / 64;

	return r < 256 * 1024 ? 256 * 1024 : r > 16 * 1024 * 1024 ? 16 * 1024 * 1024 : r;
}

/* Room for size bytes of new mail that leaves the reserve free: 0 or
 * STORE_EFULL. The free list is walked only when the store is nearly full. */
int store_room(struct store *st, uint64_t size)
{
	MDB_envinfo info;
	MDB_stat stat;
	uint64_t ceiling, used, need, freed;

	if (mdb_env_info(st->env, &info) || mdb_env_stat(st->env, &stat))
		return 0;       /* not known: let LMDB say */
	ceiling = store_ceiling(st, info.me_mapsize);
	used = ((uint64_t)info.me_last_pgno + 1) * stat.ms_psize;
	need = size + size / 16 + 16 * (uint64_t)stat.ms_psize + store_reserve(ceiling);
	if (used <= ceiling && ceiling - used >= need)
		return 0;
	/* nearly full: count the free list too */
	freed = store_free_pages(st) * stat.ms_psize;
	used = freed < used ? used - freed : 0;
	return used <= ceiling && ceiling - used >= need ? 0 : STORE_EFULL;
}

/*
 * The map is full at map_max, but messages may have been deleted: LMDB
 * reuses a page freed by transaction N only once a later transaction has
 * committed (the previous snapshot must stay intact until then). Commit one
 * tiny write so those pages become usable. 0 (retry the failed write once),
 * or an error (also when that write finds no room either).
 */
int store_reclaim(struct store *st)
{
	MDB_txn *txn;
	uint64_t n;
	int rc = store_wbegin(st, &txn);

	if (rc)
		return rc;
	rc = store_meta_next(st, txn, "reclaim", &n);      /* the tiny write */
	if (rc == 0)
		rc = store_err(mdb_txn_commit(txn));
	else
		mdb_txn_abort(txn);
	return rc;
}

/* After a write failed with STORE_EFULL: grow the map, or at map_max or a
 * full disk reclaim freed pages (once per *tried). 0: run the write again;
 * else the error (STORE_EFULL also when the disk is full). */
int store_make_room(struct store *st, int *tried)
{
	int rc = store_grow(st);

	if (rc == -ENOSPC)
		rc = STORE_EFULL;       /* the disk cannot hold a larger map: as full as at map_max */
	if (rc != STORE_EFULL || *tried)
		return rc;
	*tried = 1;
	return store_reclaim(st) == 0 ? 0 : rc;
}

/* Run fn in a committed write txn, growing the map and retrying when it fills. */
int store_write(struct store *st, int (*fn)(struct store *st, MDB_txn *txn, void *arg), void *arg)
{
	MDB_txn *txn;
	int rc, reclaimed = 0;

	if (st->batch.active)
		return STORE_EBUSY;     /* one write txn per process: finish the batch first */
	for (;;) {
		rc = store_wbegin(st, &txn);
		if (rc)
			return rc;
		rc = fn(st, txn, arg);
		if (rc == 0)
			rc = store_err(mdb_txn_commit(txn));
		else
			mdb_txn_abort(txn);
		if (rc != STORE_EFULL)
			return rc;
		rc = store_make_room(st, &reclaimed);
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

/*
 * mdb_env_open for writing with the map at least map_size and never smaller
 * than the data file (see store_resize), under the file's flock; the blocks
 * up to the map size are reserved. An LMDB or errno code.
 */
static int store_open_sized(struct store *st, const char *dir, uint64_t map_size, unsigned flags)
{
	char path[4096];
	uint64_t fsize = 0;
	mode_t um;
	int fd, rc;

	if ((size_t)snprintf(path, sizeof path, "%s/data.mdb", dir) >= sizeof path)
		return ENAMETOOLONG;
	/* 0660 whoever makes the store (`user add` under umask 022 too): the
	 * web page's user writes it through the shared group (README) */
	um = umask(007);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660);
	umask(um);
	if (fd < 0)
		return errno;
	if (flock(fd, LOCK_EX) < 0 || store_file_size(fd, &fsize) < 0) {
		rc = errno;
		close(fd);
		return rc;
	}
	if (fsize == 0) {
		/* a new store: LMDB writes its meta pages first (a file of zeros
		 * would not be one); the blocks are reserved once it has */
	} else if (map_size > fsize) {
		rc = store_file_reserve(fd, map_size);
		if (rc == -ENOSPC && fsize)
			map_size = fsize;       /* disk full: keep what the file has, writes report EFULL */
		else if (rc) {
			close(fd);
			return -rc;
		}
	} else {
		map_size = fsize;
	}
	rc = 0;
	if (map_size) {
		if ((size_t)map_size != map_size)
			map_size = SIZE_MAX & ~(uint64_t)0xfffff;
		rc = mdb_env_set_mapsize(st->env, (size_t)map_size);
	}
	if (rc == 0) {
		um = umask(007);        /* lock.mdb: 0660 too */
		rc = mdb_env_open(st->env, dir, flags, 0660);
		umask(um);
	}
	if (rc == 0 && fsize == 0 && store_file_size(fd, &fsize) == 0)
		rc = -store_file_reserve(fd, fsize);
	close(fd);      /* also drops the flock; LMDB has its own descriptor */
	return rc;
}

/* Open (creating if needed) the store in dir. 0 and *out set, or an error. */
int store_open(const char *dir, const struct store_opts *opts, struct store **out)
{
	struct store *st;
	MDB_txn *txn;
	unsigned flags = 0;
	int rc, reclaimed = 0;

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
	if (rc)
		goto fail;
	if (opts->nosync)
		flags |= MDB_NOSYNC;
	if (opts->readonly) {
		flags |= MDB_RDONLY;
		if (opts->map_size)
			rc = mdb_env_set_mapsize(st->env, (size_t)opts->map_size);
		if (rc == 0)
			rc = mdb_env_open(st->env, dir, flags, 0660);
	} else {
		/* Every writer (daemon, deliver, user, the CGI) uses MDB_WRITEMAP:
		 * a blob put with MDB_RESERVE is then written straight into the
		 * file-backed map instead of dirty pages in the heap, and LMDB asks
		 * that processes do not mix the flag. It rules out nested txns. */
		rc = store_open_sized(st, dir, opts->map_size, flags | MDB_WRITEMAP);
		if (rc == EINVAL || rc == ENODEV) {
			/* A filesystem without shared writable mappings (JFFS2, an
			 * OpenWrt overlay on NOR flash): every process lands here, so
			 * they still agree; the blob is then copied through the heap. */
			mdb_env_close(st->env);
			st->env = NULL;
			rc = mdb_env_create(&st->env);
			if (rc == 0)
				rc = mdb_env_set_maxdbs(st->env, STORE_MAXDBS);
			if (rc == 0)
				rc = store_open_sized(st, dir, opts->map_size, flags);
		}
	}
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
			rc = store_wbegin(st, &txn);
			if (rc)
				break;
			rc = store_open_dbs(st, txn);
			if (rc == 0)
				rc = store_err(mdb_txn_commit(txn));
			else
				mdb_txn_abort(txn);
			if (rc != STORE_EFULL || store_make_room(st, &reclaimed) != 0)
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

/* The map's size, its page size and the bytes up to its last page. */
static int map_usage(struct store *st, uint64_t *map_size, uint64_t *psize, uint64_t *used)
{
	MDB_envinfo info;
	MDB_stat stat;
	int rc;

	rc = mdb_env_info(st->env, &info);
	if (rc == 0)
		rc = mdb_env_stat(st->env, &stat);
	if (rc)
		return store_err(rc);
	*map_size = info.me_mapsize;
	*psize = stat.ms_psize;
	*used = ((uint64_t)info.me_last_pgno + 1) * stat.ms_psize;
	return 0;
}

/* Report the map size, its maximum and the bytes in use. */
int store_mapinfo(struct store *st, uint64_t *map_size, uint64_t *map_max, uint64_t *used)
{
	uint64_t ms, ps, u;
	int rc = map_usage(st, &ms, &ps, &u);

	if (rc)
		return rc;
	if (map_size)
		*map_size = ms;
	if (map_max)
		*map_max = st->map_max;
	if (used)
		*used = u;
	return 0;
}

/* How full the store is: bytes in use (free-list pages not counted) and the
 * most the map may become (map_max, or less where the disk is the limit). */
int store_fill(struct store *st, uint64_t *used, uint64_t *ceiling)
{
	uint64_t ms, ps, u, f;
	int rc = map_usage(st, &ms, &ps, &u);

	if (rc)
		return rc;
	f = store_free_pages(st) * ps;
	*used = f < u ? u - f : 0;
	*ceiling = store_ceiling(st, ms);
	return 0;
}
