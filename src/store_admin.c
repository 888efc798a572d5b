/*
 * store_admin — what the web page (postnook.cgi) keeps in the store:
 * the admin password verifier and small records (sessions, sign-in
 * failures) in the "meta" database under keys starting with "cgi/".
 *
 * The verifier is PBKDF2-HMAC-SHA256 like a user's: record
 * version(1) iterations(4) salt(16) hash(32) under the key "admin".
 */
#include <errno.h>
#include <string.h>

#include "sysconfig.h"
#include "store_admin.h"
#include "store_int.h"

#define ADMIN_KEY "admin"
#define ADMIN_REC_LEN (1 + 4 + AUTH_SALT_LEN + AUTH_HASH_LEN)
#define KV_PREFIX "cgi/"
#define KV_KEY_MAX 128

struct admin_put {
	unsigned char rec[ADMIN_REC_LEN];
	int only_first;
};

/* Write txn body of store_admin_set: refuses to replace when only_first. */
static int store_admin_put_txn(struct store *st, MDB_txn *txn, void *arg)
{
	struct admin_put *a = arg;
	MDB_val k = { sizeof ADMIN_KEY - 1, ADMIN_KEY }, v = { sizeof a->rec, a->rec };
	int rc;

	rc = mdb_put(txn, st->meta, &k, &v, a->only_first ? MDB_NOOVERWRITE : 0);
	return rc == MDB_KEYEXIST ? STORE_EEXIST : store_err(rc);
}

/* Set the admin password (only_first: STORE_EEXIST if one is set already). */
int store_admin_set(struct store *st, const char *pass, size_t passlen, int only_first)
{
	struct admin_put a;
	unsigned char salt[AUTH_SALT_LEN];
	int rc;

	if (!pass || passlen == 0)
		return STORE_EINVAL;
	rc = auth_random(salt, sizeof salt);
	if (rc)
		return rc;
	a.only_first = only_first;
	a.rec[0] = STORE_REC_VERSION;
	store_put32(a.rec + 1, CONFIG_PBKDF2_ITERATIONS);
	memcpy(a.rec + 5, salt, sizeof salt);
	rc = auth_pbkdf2_sha256(pass, passlen, salt, sizeof salt, CONFIG_PBKDF2_ITERATIONS,
	                        a.rec + 5 + AUTH_SALT_LEN, AUTH_HASH_LEN);
	if (rc == 0)
		rc = store_write(st, store_admin_put_txn, &a);
	memset(&a, 0, sizeof a);
	return rc;
}

/* Copy the admin record out; 0, STORE_ENOTFOUND (none set) or an error. */
static int store_admin_get(struct store *st, unsigned char rec[ADMIN_REC_LEN])
{
	MDB_val k = { sizeof ADMIN_KEY - 1, ADMIN_KEY }, v;
	MDB_txn *txn;
	int rc;

	rc = store_rbegin(st, &txn);
	if (rc)
		return rc;
	rc = store_err(mdb_get(txn, st->meta, &k, &v));
	if (rc == 0 && (v.mv_size < ADMIN_REC_LEN || ((unsigned char *)v.mv_data)[0] != STORE_REC_VERSION))
		rc = STORE_ECORRUPT;
	if (rc == 0)
		memcpy(rec, v.mv_data, ADMIN_REC_LEN);
	store_rend(st);
	return rc;
}

/* 1 if an admin password is set, 0 if not, or an error. */
int store_admin_isset(struct store *st)
{
	unsigned char rec[ADMIN_REC_LEN];
	int rc = store_admin_get(st, rec);

	return rc == 0 ? 1 : rc == STORE_ENOTFOUND ? 0 : rc;
}

/* Check the admin password: 0, STORE_EAUTH, STORE_ENOTFOUND (none set) or an error. */
int store_admin_auth(struct store *st, const char *pass, size_t passlen)
{
	unsigned char rec[ADMIN_REC_LEN], hash[AUTH_HASH_LEN];
	uint32_t iter;
	int rc;

	rc = store_admin_get(st, rec);
	if (rc)
		return rc;
	iter = store_get32(rec + 1);
	if (iter == 0 || iter > 10000000)
		return STORE_ECORRUPT;
	rc = auth_pbkdf2_sha256(pass, passlen, rec + 5, AUTH_SALT_LEN, iter, hash, sizeof hash);
	if (rc == 0 && !auth_equal(hash, rec + 5 + AUTH_SALT_LEN, AUTH_HASH_LEN))
		rc = STORE_EAUTH;
	memset(hash, 0, sizeof hash);
	return rc;
}

/* Build "cgi/" + key into out; its length, or STORE_EINVAL. */
static int store_kv_key(const char *key, char out[KV_KEY_MAX])
{
	size_t n = key ? strlen(key) : 0;

	if (n == 0 || n + sizeof KV_PREFIX > KV_KEY_MAX)
		return STORE_EINVAL;
	memcpy(out, KV_PREFIX, sizeof KV_PREFIX - 1);
	memcpy(out + sizeof KV_PREFIX - 1, key, n);
	return (int)(n + sizeof KV_PREFIX - 1);
}

/* Read the small record under key into val (cap bytes); *len its size. */
int store_kv_get(struct store *st, const char *key, void *val, size_t cap, size_t *len)
{
	char kb[KV_KEY_MAX];
	int n = store_kv_key(key, kb), rc;
	MDB_val k, v;
	MDB_txn *txn;

	if (n < 0)
		return n;
	k.mv_size = (size_t)n;
	k.mv_data = kb;
	rc = store_rbegin(st, &txn);
	if (rc)
		return rc;
	rc = store_err(mdb_get(txn, st->meta, &k, &v));
	if (rc == 0 && v.mv_size > cap)
		rc = STORE_ECORRUPT;
	if (rc == 0) {
		memcpy(val, v.mv_data, v.mv_size);
		*len = v.mv_size;
	}
	store_rend(st);
	return rc;
}

struct kv_put {
	MDB_val k, v;
};

/* Write txn body of store_kv_put: put, or delete when the value is empty. */
static int store_kv_put_txn(struct store *st, MDB_txn *txn, void *arg)
{
	struct kv_put *p = arg;
	int rc;

	if (p->v.mv_size == 0) {
		rc = mdb_del(txn, st->meta, &p->k, NULL);
		return rc == MDB_NOTFOUND ? 0 : store_err(rc);
	}
	return store_err(mdb_put(txn, st->meta, &p->k, &p->v, 0));
}

/* Store len bytes under key (len 0 deletes it); durable on return. */
int store_kv_put(struct store *st, const char *key, const void *val, size_t len)
{
	char kb[KV_KEY_MAX];
	int n = store_kv_key(key, kb);
	struct kv_put p;

	if (n < 0)
		return n;
	p.k.mv_size = (size_t)n;
	p.k.mv_data = kb;
	p.v.mv_size = len;
	p.v.mv_data = (void *)val;
	return store_write(st, store_kv_put_txn, &p);
}

struct kv_prune {
	char prefix[KV_KEY_MAX];
	size_t plen;
	int (*drop)(void *arg, const void *val, size_t len);
	void *arg;
	unsigned kept;
};

/* Write txn body of store_kv_prune: walk the prefix, delete what drop() picks. */
static int store_kv_prune_txn(struct store *st, MDB_txn *txn, void *arg)
{
	struct kv_prune *p = arg;
	MDB_cursor *cur;
	MDB_val k = { p->plen, p->prefix }, v;
	int rc;

	p->kept = 0;
	rc = mdb_cursor_open(txn, st->meta, &cur);
	if (rc)
		return store_err(rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size >= p->plen && !memcmp(k.mv_data, p->prefix, p->plen)) {
		if (p->drop(p->arg, v.mv_data, v.mv_size)) {
			rc = mdb_cursor_del(cur, 0);
			if (rc)
				break;
			/* After a delete LMDB's MDB_NEXT yields the record that followed. */
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
			continue;
		}
		p->kept++;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : store_err(rc);
}

/* Delete the records under prefix for which drop() returns non-zero; *kept counts the rest. */
int store_kv_prune(struct store *st, const char *prefix, int (*drop)(void *arg, const void *val, size_t len),
                   void *arg, unsigned *kept)
{
	struct kv_prune p;
	int n = store_kv_key(prefix, p.prefix), rc;

	if (kept)
		*kept = 0;      /* also on a failure before the walk */
	if (n < 0)
		return n;
	p.kept = 0;
	p.plen = (size_t)n;
	p.drop = drop;
	p.arg = arg;
	rc = store_write(st, store_kv_prune_txn, &p);
	if (kept)
		*kept = p.kept;
	return rc;
}
