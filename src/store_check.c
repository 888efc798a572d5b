/*
 * store_check — recompute usage and reference counts from the messages and
 * compare them with the stored counters; optionally repair.
 * Runs in one txn (a write txn when fixing, so the repair is atomic).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store_check.h"
#include "store_int.h"

struct store_chk {
	struct store *st;
	MDB_txn *txn;
	int fix;
	int (*report)(void *arg, const char *line);
	void *arg;
	uint64_t *blobs;        /* blob id of every message, then sorted */
	size_t nblobs, capblobs;
	unsigned problems;
};

struct store_chk_fix {
	uint64_t blob;
	uint32_t refs;          /* 0: delete blob and refcount */
};

/* Report one problem line. */
static int store_chk_say(struct store_chk *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int store_chk_say(struct store_chk *c, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	c->problems++;
	return c->report ? c->report(c->arg, line) : 0;
}

/* Append val (elem bytes) to a growable array of such elements. */
static int store_chk_push(const void *val, size_t elem, void **arr, size_t *n, size_t *cap)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		void *p = realloc(*arr, ncap * elem);
		if (!p)
			return -ENOMEM;
		*arr = p;
		*cap = ncap;
	}
	memcpy((char *)*arr + *n * elem, val, elem);
	(*n)++;
	return 0;
}

/* Count one mailbox's messages and bytes, collecting blob ids. */
static int store_chk_mbox(struct store_chk *c, uint32_t mbox, uint32_t *count, uint64_t *bytes)
{
	unsigned char kb[8];
	MDB_cursor *cur;
	MDB_val k = { 8, kb }, v;
	struct store_msg m;
	int rc;

	*count = 0;
	*bytes = 0;
	rc = mdb_cursor_open(c->txn, c->st->msgs, &cur);
	if (rc)
		return store_err(rc);
	store_msgkey(mbox, 0, kb);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 || store_get32(k.mv_data) != mbox)
			break;
		rc = store_msg_decode(&k, &v, &m);
		if (rc)
			break;
		(*count)++;
		*bytes += m.size;
		rc = store_chk_push(&m.blob, sizeof m.blob, (void **)&c->blobs, &c->nblobs, &c->capblobs);
		if (rc)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : store_err(rc);
}

/* Check one user's mailboxes and usage. */
static int store_chk_user(struct store_chk *c, const char *uname)
{
	struct store_urec r;
	struct store_mbox mb;
	char (*names)[STORE_MBOX_NAME_MAX + 1] = NULL;
	size_t n = 0, cap = 0;
	unsigned char kb[4];
	MDB_cursor *cur;
	MDB_val k = { 4, kb }, v;
	uint64_t ubytes = 0, bytes;
	uint32_t umsgs = 0, count;
	int rc;

	rc = store_urec_get(c->st, c->txn, uname, &r);
	if (rc)
		return rc;
	/* collect the mailbox names first: no cursor stays open across repairs */
	rc = mdb_cursor_open(c->txn, c->st->mboxes, &cur);
	if (rc)
		return store_err(rc);
	store_put32(kb, r.u.id);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		char nb[STORE_MBOX_NAME_MAX + 1];
		if (k.mv_size < 5 || store_get32(k.mv_data) != r.u.id)
			break;
		if (k.mv_size > 4 + STORE_MBOX_NAME_MAX) {
			rc = STORE_ECORRUPT;
			break;
		}
		memcpy(nb, (char *)k.mv_data + 4, k.mv_size - 4);
		nb[k.mv_size - 4] = '\0';
		rc = store_chk_push(nb, sizeof nb, (void **)&names, &n, &cap);
		if (rc)
			break;
	}
	mdb_cursor_close(cur);
	rc = rc == MDB_NOTFOUND ? 0 : store_err(rc);

	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = store_mrec_get(c->st, c->txn, r.u.id, names[i], &mb);
		if (rc == 0)
			rc = store_chk_mbox(c, mb.id, &count, &bytes);
		if (rc)
			break;
		ubytes += bytes;
		umsgs += count;
		if (mb.count == count && mb.bytes == bytes)
			continue;
		rc = store_chk_say(c, "user %s mailbox %s: count %u bytes %llu, messages say %u and %llu",
		                   uname, names[i], (unsigned)mb.count, (unsigned long long)mb.bytes,
		                   (unsigned)count, (unsigned long long)bytes);
		if (rc == 0 && c->fix) {
			mb.count = count;
			mb.bytes = bytes;
			rc = store_mrec_put(c->st, c->txn, &mb, names[i]);
		}
	}
	free(names);
	if (rc)
		return rc;
	if (r.u.used_msgs != umsgs || r.u.used_bytes != ubytes) {
		rc = store_chk_say(c, "user %s: usage %u messages %llu bytes, messages say %u and %llu",
		                   uname, (unsigned)r.u.used_msgs, (unsigned long long)r.u.used_bytes,
		                   (unsigned)umsgs, (unsigned long long)ubytes);
		if (rc == 0 && c->fix) {
			r.u.used_msgs = umsgs;
			r.u.used_bytes = ubytes;
			rc = store_urec_put(c->st, c->txn, &r);
		}
	}
	memset(&r, 0, sizeof r);
	return rc;
}

static int store_chk_cmp64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* How many messages reference blob (c->blobs sorted). */
static uint32_t store_chk_refs(const struct store_chk *c, uint64_t blob)
{
	size_t lo = 0, hi = c->nblobs;
	uint32_t n = 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->blobs[mid] < blob)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo < c->nblobs && c->blobs[lo] == blob) {
		n++;
		lo++;
	}
	return n;
}

/* Compare refcounts and blobs with the message references. */
static int store_chk_blobs(struct store_chk *c)
{
	struct store_chk_fix *fx = NULL, f;
	size_t nfx = 0, capfx = 0;
	MDB_cursor *cur;
	MDB_val k, v;
	unsigned char kb[8], vb[4];
	int rc;

	qsort(c->blobs, c->nblobs, sizeof c->blobs[0], store_chk_cmp64);
	/* every stored refcount against the references */
	rc = mdb_cursor_open(c->txn, c->st->blobrefs, &cur);
	if (rc)
		return store_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 || v.mv_size != 4) {
			rc = STORE_ECORRUPT;
			break;
		}
		f.blob = store_get64(k.mv_data);
		f.refs = store_chk_refs(c, f.blob);
		if (f.refs == store_get32(v.mv_data))
			continue;
		rc = store_chk_say(c, "blob %llu: refcount %u, messages say %u", (unsigned long long)f.blob,
		                   (unsigned)store_get32(v.mv_data), (unsigned)f.refs);
		if (rc == 0)
			rc = store_chk_push(&f, sizeof f, (void **)&fx, &nfx, &capfx);
		if (rc)
			break;
	}
	mdb_cursor_close(cur);
	rc = rc == MDB_NOTFOUND ? 0 : store_err(rc);
	/* every referenced blob: present, with a refcount */
	for (size_t i = 0; i < c->nblobs && rc == 0; i++) {
		if (i > 0 && c->blobs[i] == c->blobs[i - 1])
			continue;
		store_put64(kb, c->blobs[i]);
		k.mv_size = 8;
		k.mv_data = kb;
		if (mdb_get(c->txn, c->st->blobs, &k, &v) == MDB_NOTFOUND)
			rc = store_chk_say(c, "blob %llu: referenced but missing (message lost)",
			                   (unsigned long long)c->blobs[i]);
		if (rc == 0 && mdb_get(c->txn, c->st->blobrefs, &k, &v) == MDB_NOTFOUND) {
			f.blob = c->blobs[i];
			f.refs = store_chk_refs(c, f.blob);
			rc = store_chk_say(c, "blob %llu: no refcount, messages say %u",
			                   (unsigned long long)f.blob, (unsigned)f.refs);
			if (rc == 0)
				rc = store_chk_push(&f, sizeof f, (void **)&fx, &nfx, &capfx);
		}
	}
	/* blobs nobody references and that have no refcount */
	if (rc == 0)
		rc = store_err(mdb_cursor_open(c->txn, c->st->blobs, &cur));
	if (rc == 0) {
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			MDB_val rv;
			if (k.mv_size != 8) {
				rc = STORE_ECORRUPT;
				break;
			}
			f.blob = store_get64(k.mv_data);
			if (store_chk_refs(c, f.blob) || mdb_get(c->txn, c->st->blobrefs, &k, &rv) == 0)
				continue;
			f.refs = 0;
			rc = store_chk_say(c, "blob %llu: not referenced (%zu bytes)", (unsigned long long)f.blob,
			                   v.mv_size);
			if (rc == 0)
				rc = store_chk_push(&f, sizeof f, (void **)&fx, &nfx, &capfx);
			if (rc)
				break;
		}
		mdb_cursor_close(cur);
		rc = rc == MDB_NOTFOUND ? 0 : store_err(rc);
	}
	for (size_t i = 0; i < nfx && rc == 0 && c->fix; i++) {
		store_put64(kb, fx[i].blob);
		k.mv_size = 8;
		k.mv_data = kb;
		if (fx[i].refs) {
			store_put32(vb, fx[i].refs);
			v.mv_size = 4;
			v.mv_data = vb;
			rc = store_err(mdb_put(c->txn, c->st->blobrefs, &k, &v, 0));
		} else {
			rc = mdb_del(c->txn, c->st->blobrefs, &k, NULL);
			if (rc == 0 || rc == MDB_NOTFOUND)
				rc = mdb_del(c->txn, c->st->blobs, &k, NULL);
			rc = rc == MDB_NOTFOUND ? 0 : store_err(rc);
		}
	}
	free(fx);
	return rc;
}

/* Report (and with fix, repair) usage, mailbox counters and blob refcounts. */
int store_check(struct store *st, int fix, int (*report)(void *arg, const char *line), void *arg)
{
	struct store_chk c = { .st = st, .fix = fix, .report = report, .arg = arg };
	char (*users)[STORE_NAME_MAX + 1] = NULL;
	size_t nusers = 0, capusers = 0;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if (st->batch.active)
		return STORE_EBUSY;
	rc = fix ? store_wbegin(st, &c.txn) : store_rbegin(st, &c.txn);
	if (rc)
		return rc;
	rc = store_err(mdb_cursor_open(c.txn, st->users, &cur));
	if (rc == 0) {
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			char nb[STORE_NAME_MAX + 1];
			if (k.mv_size == 0 || k.mv_size > STORE_NAME_MAX) {
				rc = STORE_ECORRUPT;
				break;
			}
			memcpy(nb, k.mv_data, k.mv_size);
			nb[k.mv_size] = '\0';
			rc = store_chk_push(nb, sizeof nb, (void **)&users, &nusers, &capusers);
			if (rc)
				break;
		}
		mdb_cursor_close(cur);
		rc = rc == MDB_NOTFOUND ? 0 : store_err(rc);
	}
	for (size_t i = 0; i < nusers && rc == 0; i++)
		rc = store_chk_user(&c, users[i]);
	if (rc == 0)
		rc = store_chk_blobs(&c);
	if (rc == 0)
		rc = store_mime_check(st, c.txn, fix, report, arg, &c.problems);
	free(users);
	free(c.blobs);
	if (!fix) {
		store_rend(st);
		return rc;
	}
	if (rc == 0)
		return store_err(mdb_txn_commit(c.txn));
	mdb_txn_abort(c.txn);
	return rc;
}

/* --- keyword names that are not atoms -------------------------------------- */

/*
 * Is name a keyword to keep: an IMAP atom (RFC 3501 flag-keyword) and not
 * the head of a FETCH section item ("BODY[", "BODY.PEEK[", "BINARY[" ...),
 * which is what the FETCH bug stored? '[' alone is an ATOM-CHAR (Dovecot
 * keeps "a[b" too), so a user's name with '[' stays.
 */
static int kw_valid(const char *name)
{
	static const char *const heads[] = { "BODY[", "BODY.PEEK[", "BINARY[", "BINARY.PEEK[", "BINARY.SIZE[" };

	if (!*name)
		return 0;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("(){%*\"\\]", *p))
			return 0;
	for (unsigned i = 0; i < sizeof heads / sizeof heads[0]; i++)
		if (!strncasecmp(name, heads[i], strlen(heads[i])))
			return 0;
	return 1;
}

/* Mailbox ids whose keyword list (meta "kw/" + id) names a non-atom. */
static int kw_bad_lists(struct store *st, MDB_txn *txn, uint32_t **ids, size_t *n, size_t *cap)
{
	char names[STORE_KW_MAX][STORE_KW_LEN + 1];
	unsigned char kb[7] = "kw/";
	MDB_cursor *cur;
	MDB_val k = { 3, kb }, v;
	unsigned nk;
	int rc, err = 0;

	rc = mdb_cursor_open(txn, st->meta, &cur);
	if (rc)
		return store_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < 3 || memcmp(k.mv_data, "kw/", 3))
			break;
		if (k.mv_size != 7)
			continue;
		store_kw_decode(&v, names, &nk);
		for (unsigned i = 0; i < nk; i++)
			if (!kw_valid(names[i])) {
				uint32_t id = store_get32((const unsigned char *)k.mv_data + 3);
				err = store_chk_push(&id, sizeof id, (void **)ids, n, cap);
				break;
			}
		if (err)
			break;
	}
	mdb_cursor_close(cur);
	return err ? err : rc == MDB_NOTFOUND ? 0 : store_err(rc);
}

/* Drop mailbox mbox's non-atom keywords and renumber its messages' bits; *removed += names dropped. */
static int kw_repair(struct store *st, MDB_txn *txn, uint32_t mbox, unsigned *removed, char *example)
{
	char names[STORE_KW_MAX][STORE_KW_LEN + 1], name[STORE_MBOX_NAME_MAX + 1];
	unsigned char kb[8], buf[STORE_KW_MAX * (STORE_KW_LEN + 1)], rec[STORE_MSGREC_LEN];
	int map[STORE_KW_MAX];
	unsigned nk, keep = 0;
	struct store_mbox mb;
	struct store_msg m;
	MDB_cursor *cur;
	MDB_val k = { 7, kb }, v;
	size_t len = 0;
	int rc, err = 0;

	store_kw_key(mbox, kb);
	rc = mdb_get(txn, st->meta, &k, &v);
	if (rc)
		return rc == MDB_NOTFOUND ? 0 : store_err(rc);
	store_kw_decode(&v, names, &nk);
	for (unsigned i = 0; i < nk; i++) {
		map[i] = -1;
		if (!kw_valid(names[i])) {
			if (example && !*removed) {
				/* for the log: printable ASCII only */
				for (unsigned j = 0;; j++) {
					unsigned char ch = (unsigned char)names[i][j];
					example[j] = (char)(ch == 0 || (ch >= ' ' && ch < 0x7f) ? ch : '?');
					if (!ch)
						break;
				}
			}
			(*removed)++;
			continue;
		}
		map[i] = (int)keep++;
		memmove(buf + len, names[i], strlen(names[i]) + 1);
		len += strlen(names[i]) + 1;
	}
	v.mv_size = len;
	v.mv_data = buf;
	rc = keep ? mdb_put(txn, st->meta, &k, &v, 0) : mdb_del(txn, st->meta, &k, NULL);
	if (rc)
		return store_err(rc);
	rc = store_mrec_get_id(st, txn, mbox, &mb, name);
	if (rc)
		return rc == STORE_ENOTFOUND ? 0 : rc;  /* a list left by a deleted mailbox: no messages */
	rc = mdb_cursor_open(txn, st->msgs, &cur);
	if (rc)
		return store_err(rc);
	store_msgkey(mbox, 0, kb);
	k.mv_size = 8;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint32_t nf;
		if (k.mv_size != 8 || store_get32(k.mv_data) != mbox)
			break;
		if ((err = store_msg_decode(&k, &v, &m)) != 0)
			break;
		nf = m.flags & STORE_F_SYSTEM;
		for (unsigned i = 0; i < nk; i++)
			if (m.flags & (1u << (STORE_F_KW_SHIFT + i)) && map[i] >= 0)
				nf |= 1u << (STORE_F_KW_SHIFT + map[i]);
		if (nf == m.flags)
			continue;
		m.flags = nf;
		m.modseq = ++mb.highestmodseq;
		store_msg_encode(&m, rec);
		v.mv_size = sizeof rec;
		v.mv_data = rec;
		if ((rc = mdb_cursor_put(cur, &k, &v, MDB_CURRENT)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (err || (rc && rc != MDB_NOTFOUND))
		return err ? err : store_err(rc);
	return store_mrec_put(st, txn, &mb, name);
}

/* Find and repair keyword lists naming non-atoms (one write txn, only when needed). */
int store_check_keywords(struct store *st, unsigned *removed, unsigned *mboxes, char *example)
{
	uint32_t *ids = NULL;
	size_t n = 0, cap = 0;
	unsigned gone = 0;
	MDB_txn *txn;
	int rc;

	if (removed)
		*removed = 0;
	if (mboxes)
		*mboxes = 0;
	if (example)
		*example = '\0';
	rc = store_rbegin(st, &txn);
	if (rc)
		return rc;
	rc = kw_bad_lists(st, txn, &ids, &n, &cap);
	store_rend(st);
	if (rc || n == 0) {
		free(ids);
		return rc;
	}
	rc = store_wbegin(st, &txn);
	if (rc) {
		free(ids);
		return rc;
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = kw_repair(st, txn, ids[i], &gone, example);
	free(ids);
	if (rc == 0)
		rc = store_err(mdb_txn_commit(txn));
	else
		mdb_txn_abort(txn);
	if (rc == 0 && removed)
		*removed = gone;
	if (rc == 0 && mboxes)
		*mboxes = (unsigned)n;
	return rc;
}
