/* store_user — accounts: add, delete, password, quota, lookup, list, authenticate. */
#include <string.h>

#include "sysconfig.h"
#include "store_int.h"
#include "store_mbox.h"
#include "store_user.h"

/* The mailboxes every new user gets: store_mbox_defaults (store_mbox.c). */

/* Validate a user name: 1..STORE_NAME_MAX of [a-z0-9._-], starting with [a-z0-9]. */
int store_user_name_check(const char *name)
{
	size_t n;

	if (!name)
		return STORE_EINVAL;
	n = strnlen(name, STORE_NAME_MAX + 1);
	if (n == 0 || n > STORE_NAME_MAX)
		return STORE_EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return STORE_EINVAL;
	}
	return 0;
}

/* Make a fresh verifier for pass: random salt, default iterations. */
static int store_verifier(const char *pass, size_t passlen, struct store_urec *r)
{
	int rc;

	if (!pass || passlen == 0)
		return STORE_EINVAL;
	rc = auth_random(r->salt, sizeof r->salt);
	if (rc)
		return rc;
	r->u.iterations = CONFIG_PBKDF2_ITERATIONS;
	return auth_pbkdf2_sha256(pass, passlen, r->salt, sizeof r->salt, r->u.iterations, r->hash,
	                          sizeof r->hash);
}

/* Write txn body of store_user_add: user record, id index, default mailboxes. */
static int store_user_add_txn(struct store *st, MDB_txn *txn, void *arg)
{
	struct store_urec *r = arg, old;
	unsigned char idb[4];
	uint64_t id;
	MDB_val k, v;
	int rc;

	rc = store_urec_get(st, txn, r->u.name, &old);
	if (rc == 0)
		return STORE_EEXIST;
	if (rc != STORE_ENOTFOUND)
		return rc;
	rc = store_meta_next(st, txn, "next_user", &id);
	if (rc)
		return rc;
	if (id > UINT32_MAX)
		return STORE_EFULL;
	r->u.id = (uint32_t)id;
	rc = store_urec_put(st, txn, r);
	if (rc)
		return rc;
	store_put32(idb, r->u.id);
	k.mv_size = 4;
	k.mv_data = idb;
	v.mv_size = strlen(r->u.name);
	v.mv_data = r->u.name;
	rc = mdb_put(txn, st->userids, &k, &v, MDB_NOOVERWRITE);
	if (rc)
		return store_err(rc);
	return store_mbox_make_defaults(st, txn, r->u.id);
}

/* Create a user with the default mailboxes. 0, STORE_EEXIST, STORE_EINVAL, ... */
int store_user_add(struct store *st, const char *name, const char *pass, size_t passlen,
                   uint64_t quota_bytes, uint32_t quota_msgs)
{
	struct store_urec r;
	int rc;

	rc = store_user_name_check(name);
	if (rc)
		return rc;
	memset(&r, 0, sizeof r);
	strcpy(r.u.name, name);        /* length checked above */
	r.u.quota_bytes = quota_bytes;
	r.u.quota_msgs = quota_msgs;
	rc = store_verifier(pass, passlen, &r);     /* slow: outside the write txn */
	if (rc == 0)
		rc = store_write(st, store_user_add_txn, &r);
	memset(&r, 0, sizeof r);
	return rc;
}

/* Delete every message of mailbox id (records and blob refs). */
static int store_mbox_purge(struct store *st, MDB_txn *txn, uint32_t mbox)
{
	unsigned char kb[8];
	MDB_cursor *cur;
	MDB_val k, v;
	struct store_msg m;
	int rc;

	rc = mdb_cursor_open(txn, st->msgs, &cur);
	if (rc)
		return store_err(rc);
	for (;;) {
		store_msgkey(mbox, 0, kb);
		k.mv_size = 8;
		k.mv_data = kb;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc == MDB_NOTFOUND || (rc == 0 && (k.mv_size != 8 || store_get32(k.mv_data) != mbox))) {
			rc = 0;
			break;
		}
		if (rc) {
			rc = store_err(rc);
			break;
		}
		rc = store_msg_decode(&k, &v, &m);
		if (rc == 0)
			rc = store_err(mdb_cursor_del(cur, 0));
		if (rc == 0)
			rc = store_blob_unref(st, txn, m.blob);
		if (rc)
			break;
	}
	mdb_cursor_close(cur);
	return rc;
}

/* Write txn body of store_user_del: mailboxes, messages, indexes, keyword
 * lists, subscriptions, the user. */
static int store_user_del_txn(struct store *st, MDB_txn *txn, void *arg)
{
	const char *name = arg;
	struct store_urec r;
	struct store_mbox mb;
	unsigned char kb[4], kwb[7];
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	rc = store_urec_get(st, txn, name, &r);
	if (rc)
		return rc;
	rc = mdb_cursor_open(txn, st->mboxes, &cur);
	if (rc)
		return store_err(rc);
	for (;;) {
		store_put32(kb, r.u.id);
		k.mv_size = 4;
		k.mv_data = kb;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc == MDB_NOTFOUND || (rc == 0 && (k.mv_size < 4 || store_get32(k.mv_data) != r.u.id))) {
			rc = 0;
			break;
		}
		if (rc) {
			rc = store_err(rc);
			break;
		}
		rc = store_mbox_decode(&v, &mb);
		if (rc == 0)
			rc = store_err(mdb_cursor_del(cur, 0));
		if (rc == 0)
			rc = store_mbox_purge(st, txn, mb.id);
		if (rc == 0) {
			store_put32(kb, mb.id);
			k.mv_size = 4;
			k.mv_data = kb;
			rc = mdb_del(txn, st->mboxids, &k, NULL);
			rc = rc == MDB_NOTFOUND ? 0 : store_err(rc);
		}
		if (rc == 0) {
			store_kw_key(mb.id, kwb);
			k.mv_size = sizeof kwb;
			k.mv_data = kwb;
			rc = mdb_del(txn, st->meta, &k, NULL);
			rc = rc == MDB_NOTFOUND ? 0 : store_err(rc);
		}
		if (rc)
			break;
	}
	mdb_cursor_close(cur);
	if (rc == 0)
		rc = store_mbox_forget_user(st, txn, r.u.id);
	if (rc)
		return rc;
	store_put32(kb, r.u.id);
	k.mv_size = 4;
	k.mv_data = kb;
	rc = mdb_del(txn, st->userids, &k, NULL);
	if (rc && rc != MDB_NOTFOUND)
		return store_err(rc);
	k.mv_size = strlen(name);
	k.mv_data = (void *)name;
	return store_err(mdb_del(txn, st->users, &k, NULL));
}

/* Messages one transaction of store_user_del removes before the last one:
 * a deletion needs free pages too, and a full store has only its reserve. */
#define STORE_DEL_CHUNK 256

struct store_user_trim {
	const char *name;
	unsigned left;          /* out: STORE_DEL_CHUNK minus the messages removed */
};

/* Write txn body: remove up to STORE_DEL_CHUNK of the user's messages,
 * keeping the mailbox and user counters right. */
static int store_user_trim_txn(struct store *st, MDB_txn *txn, void *arg)
{
	struct store_user_trim *t = arg;
	unsigned char kb[8];
	struct store_urec r;
	struct store_mbox mb;
	char name[STORE_MBOX_NAME_MAX + 1];
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t size;
	uint32_t next = 0;
	int rc;

	t->left = STORE_DEL_CHUNK;
	rc = store_urec_get(st, txn, t->name, &r);
	if (rc)
		return rc;
	rc = mdb_cursor_open(txn, st->msgs, &cur);
	if (rc)
		return store_err(rc);
	/* every mailbox id of the user, through the mailbox records */
	for (;;) {
		MDB_cursor *mc;
		unsigned char mk[4];
		MDB_val a = { 4, mk }, b;
		uint32_t n = 0;

		store_put32(mk, r.u.id);
		rc = mdb_cursor_open(txn, st->mboxes, &mc);
		if (rc) {
			rc = store_err(rc);
			break;
		}
		rc = mdb_cursor_get(mc, &a, &b, MDB_SET_RANGE);
		while (rc == 0 && a.mv_size >= 4 && store_get32(a.mv_data) == r.u.id) {
			if (store_mbox_decode(&b, &mb) == 0 && mb.id >= next && mb.count && (!n || mb.id < n))
				n = mb.id;
			rc = mdb_cursor_get(mc, &a, &b, MDB_NEXT);
		}
		mdb_cursor_close(mc);
		rc = rc == MDB_NOTFOUND || rc == 0 ? 0 : store_err(rc);
		if (rc || !n || !t->left)
			break;
		rc = store_mrec_get_id(st, txn, n, &mb, name);
		while (rc == 0 && t->left) {
			store_msgkey(n, 0, kb);
			k.mv_size = 8;
			k.mv_data = kb;
			rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
			if (rc == MDB_NOTFOUND || (rc == 0 && store_get32(k.mv_data) != n)) {
				rc = 0;
				mb.count = 0;   /* nothing left: the loop moves on */
				break;
			}
			rc = rc ? store_err(rc) : store_msg_remove(st, txn, n, store_get32((unsigned char *)k.mv_data + 4),
			                                           &size);
			if (rc == 0) {
				t->left--;
				mb.count = mb.count ? mb.count - 1 : 0;
				mb.bytes = mb.bytes >= size ? mb.bytes - size : 0;
				r.u.used_msgs = r.u.used_msgs ? r.u.used_msgs - 1 : 0;
				r.u.used_bytes = r.u.used_bytes >= size ? r.u.used_bytes - size : 0;
			}
		}
		if (rc == 0)
			rc = store_mrec_put(st, txn, &mb, name);
		if (rc)
			break;
		next = n + 1;
	}
	mdb_cursor_close(cur);
	return rc ? rc : store_urec_put(st, txn, &r);
}

/* Delete a user with all mailboxes and messages: the messages a chunk per
 * transaction, then the rest in one. 0 or STORE_ENOTFOUND, ... */
int store_user_del(struct store *st, const char *name)
{
	struct store_user_trim t = { name, 0 };
	int rc;

	if (store_user_name_check(name))
		return STORE_ENOTFOUND;
	do
		rc = store_write(st, store_user_trim_txn, &t);
	while (rc == 0 && t.left == 0);
	return rc ? rc : store_write(st, store_user_del_txn, (void *)name);
}

struct store_user_upd {
	const char *name;
	const struct store_urec *verifier;  /* new password, or NULL */
	uint64_t quota_bytes;
	uint32_t quota_msgs;
};

/* Write txn body: replace a user's verifier or quota. */
static int store_user_upd_txn(struct store *st, MDB_txn *txn, void *arg)
{
	struct store_user_upd *up = arg;
	struct store_urec r;
	int rc;

	rc = store_urec_get(st, txn, up->name, &r);
	if (rc)
		return rc;
	if (up->verifier) {
		memcpy(r.salt, up->verifier->salt, sizeof r.salt);
		memcpy(r.hash, up->verifier->hash, sizeof r.hash);
		r.u.iterations = up->verifier->u.iterations;
	} else {
		r.u.quota_bytes = up->quota_bytes;
		r.u.quota_msgs = up->quota_msgs;
	}
	rc = store_urec_put(st, txn, &r);
	memset(&r, 0, sizeof r);
	return rc;
}

/* Set a new password (fresh salt). 0, STORE_ENOTFOUND, STORE_EINVAL, ... */
int store_user_passwd(struct store *st, const char *name, const char *pass, size_t passlen)
{
	struct store_urec v;
	struct store_user_upd up = { name, &v, 0, 0 };
	int rc;

	if (store_user_name_check(name))
		return STORE_ENOTFOUND;
	memset(&v, 0, sizeof v);
	rc = store_verifier(pass, passlen, &v);
	if (rc == 0)
		rc = store_write(st, store_user_upd_txn, &up);
	memset(&v, 0, sizeof v);
	return rc;
}

/* Set a user's quota (0 = unlimited); usage above it is kept, new mail refused. */
int store_user_set_quota(struct store *st, const char *name, uint64_t quota_bytes, uint32_t quota_msgs)
{
	struct store_user_upd up = { name, NULL, quota_bytes, quota_msgs };

	if (store_user_name_check(name))
		return STORE_ENOTFOUND;
	return store_write(st, store_user_upd_txn, &up);
}

/* Copy a user's public record into out. */
int store_user_get(struct store *st, const char *name, struct store_user *out)
{
	struct store_urec r;
	MDB_txn *txn;
	int rc;

	if (store_user_name_check(name))
		return STORE_ENOTFOUND;
	rc = store_rbegin(st, &txn);
	if (rc)
		return rc;
	rc = store_urec_get(st, txn, name, &r);
	store_rend(st);
	if (rc == 0)
		*out = r.u;
	memset(&r, 0, sizeof r);
	return rc;
}

/*
 * Call cb for each user in name order. Each user is read in its own short
 * read txn, so cb may call other store functions.
 */
int store_user_list(struct store *st, int (*cb)(void *arg, const struct store_user *u), void *arg)
{
	char last[STORE_NAME_MAX + 1] = "";
	struct store_urec r;
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	int rc;

	for (;;) {
		rc = store_rbegin(st, &txn);
		if (rc)
			return rc;
		rc = mdb_cursor_open(txn, st->users, &cur);
		if (rc) {
			store_rend(st);
			return store_err(rc);
		}
		k.mv_size = strlen(last);
		k.mv_data = last;
		rc = mdb_cursor_get(cur, &k, &v, k.mv_size ? MDB_SET_RANGE : MDB_FIRST);
		if (rc == 0 && k.mv_size == strlen(last) && memcmp(k.mv_data, last, k.mv_size) == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		if (rc == 0 && (k.mv_size == 0 || k.mv_size > STORE_NAME_MAX))
			rc = STORE_ECORRUPT;
		else if (rc == 0)
			rc = store_urec_decode(&v, &r);
		else
			rc = store_err(rc);
		if (rc == 0) {
			memcpy(last, k.mv_data, k.mv_size);
			last[k.mv_size] = '\0';
			memcpy(r.u.name, last, k.mv_size + 1);
		}
		mdb_cursor_close(cur);
		store_rend(st);
		if (rc == STORE_ENOTFOUND)
			return 0;
		if (rc)
			return rc;
		rc = cb(arg, &r.u);
		if (rc)
			return rc;
	}
}

/*
 * Check a password: 0 and *user filled, or STORE_EAUTH. An unknown or
 * malformed name costs the same PBKDF2 work on a dummy salt.
 */
int store_auth(struct store *st, const char *name, const char *pass, size_t passlen,
               struct store_user *user)
{
	static const unsigned char dummy_salt[AUTH_SALT_LEN];
	unsigned char got[AUTH_HASH_LEN];
	struct store_urec r;
	MDB_txn *txn;
	int rc, ok;

	memset(&r, 0, sizeof r);
	rc = store_user_name_check(name) ? STORE_ENOTFOUND : 0;
	if (rc == 0) {
		rc = store_rbegin(st, &txn);
		if (rc)
			return rc;
		rc = store_urec_get(st, txn, name, &r);
		store_rend(st);
	}
	if (rc && rc != STORE_ENOTFOUND)
		return rc;
	if (rc == STORE_ENOTFOUND || r.u.iterations == 0) {
		memcpy(r.salt, dummy_salt, sizeof r.salt);
		r.u.iterations = CONFIG_PBKDF2_ITERATIONS;
		rc = STORE_ENOTFOUND;
	}
	if (auth_pbkdf2_sha256(pass ? pass : "", pass ? passlen : 0, r.salt, sizeof r.salt,
	                       r.u.iterations, got, sizeof got) != 0)
		rc = STORE_EAUTH;
	ok = auth_equal(got, r.hash, sizeof got);
	if (rc == 0 && ok && passlen > 0)
		*user = r.u;
	else
		rc = STORE_EAUTH;
	memset(got, 0, sizeof got);
	memset(&r, 0, sizeof r);
	return rc;
}
