/* store_rec — record encoding and the lookups the store files share. */
#include <string.h>
#include <time.h>

#include "store_int.h"

/* Pack a user record: version, id, iterations, salt, hash, quota, usage. */
void store_urec_encode(const struct store_urec *r, unsigned char out[STORE_UREC_LEN])
{
	unsigned char *p = out;

	*p++ = STORE_REC_VERSION;
	store_put32(p, r->u.id), p += 4;
	store_put32(p, r->u.iterations), p += 4;
	memcpy(p, r->salt, AUTH_SALT_LEN), p += AUTH_SALT_LEN;
	memcpy(p, r->hash, AUTH_HASH_LEN), p += AUTH_HASH_LEN;
	store_put64(p, r->u.quota_bytes), p += 8;
	store_put32(p, r->u.quota_msgs), p += 4;
	store_put64(p, r->u.used_bytes), p += 8;
	store_put32(p, r->u.used_msgs);
}

/* Unpack a user record (name left untouched). 0 or STORE_ECORRUPT. */
int store_urec_decode(const MDB_val *v, struct store_urec *r)
{
	const unsigned char *p = v->mv_data;

	if (v->mv_size < STORE_UREC_LEN || p[0] != STORE_REC_VERSION)
		return STORE_ECORRUPT;
	p++;
	r->u.id = store_get32(p), p += 4;
	r->u.iterations = store_get32(p), p += 4;
	memcpy(r->salt, p, AUTH_SALT_LEN), p += AUTH_SALT_LEN;
	memcpy(r->hash, p, AUTH_HASH_LEN), p += AUTH_HASH_LEN;
	r->u.quota_bytes = store_get64(p), p += 8;
	r->u.quota_msgs = store_get32(p), p += 4;
	r->u.used_bytes = store_get64(p), p += 8;
	r->u.used_msgs = store_get32(p);
	return 0;
}

/* Pack a mailbox record: version, id, user, uidvalidity, uidnext, highestmodseq, count, bytes,
 * flags, recent_uid (the last two appended later: see store_mbox_decode). */
void store_mbox_encode(const struct store_mbox *m, unsigned char out[STORE_MREC_LEN])
{
	unsigned char *p = out;

	*p++ = STORE_REC_VERSION;
	store_put32(p, m->id), p += 4;
	store_put32(p, m->user), p += 4;
	store_put32(p, m->uidvalidity), p += 4;
	store_put32(p, m->uidnext), p += 4;
	store_put64(p, m->highestmodseq), p += 8;
	store_put32(p, m->count), p += 4;
	store_put64(p, m->bytes), p += 8;
	store_put32(p, m->flags), p += 4;
	store_put32(p, m->recent_uid);
}

/*
 * Unpack a mailbox record. 0 or STORE_ECORRUPT. A record written before
 * flags and recent_uid were appended reads as flags 0 and recent_uid =
 * uidnext (nothing \Recent: what that build told clients after a restart).
 */
int store_mbox_decode(const MDB_val *v, struct store_mbox *m)
{
	const unsigned char *p = v->mv_data;

	if (v->mv_size < STORE_MREC_MIN || p[0] != STORE_REC_VERSION)
		return STORE_ECORRUPT;
	p++;
	m->id = store_get32(p), p += 4;
	m->user = store_get32(p), p += 4;
	m->uidvalidity = store_get32(p), p += 4;
	m->uidnext = store_get32(p), p += 4;
	m->highestmodseq = store_get64(p), p += 8;
	m->count = store_get32(p), p += 4;
	m->bytes = store_get64(p), p += 8;
	m->flags = 0;
	m->recent_uid = m->uidnext;
	if (v->mv_size >= STORE_MREC_MIN + 4)
		m->flags = store_get32(p);
	if (v->mv_size >= STORE_MREC_MIN + 8)
		m->recent_uid = store_get32(p + 4);
	return 0;
}

/* Pack a message record: version, flags, blob, size, internaldate, modseq. */
void store_msg_encode(const struct store_msg *m, unsigned char out[STORE_MSGREC_LEN])
{
	unsigned char *p = out;

	*p++ = STORE_REC_VERSION;
	store_put32(p, m->flags), p += 4;
	store_put64(p, m->blob), p += 8;
	store_put64(p, m->size), p += 8;
	store_put64(p, (uint64_t)m->internaldate), p += 8;
	store_put64(p, m->modseq);
}

/* Unpack a message record; the UID comes from the key. 0 or STORE_ECORRUPT. */
int store_msg_decode(const MDB_val *key, const MDB_val *v, struct store_msg *m)
{
	const unsigned char *p = v->mv_data;

	if (key->mv_size != 8 || v->mv_size < STORE_MSGREC_LEN || p[0] != STORE_REC_VERSION)
		return STORE_ECORRUPT;
	m->uid = store_get32((const unsigned char *)key->mv_data + 4);
	p++;
	m->flags = store_get32(p), p += 4;
	m->blob = store_get64(p), p += 8;
	m->size = store_get64(p), p += 8;
	m->internaldate = (int64_t)store_get64(p), p += 8;
	m->modseq = store_get64(p);
	return 0;
}

/* Build the "mboxes" key (user, name); returns its length. out holds STORE_MBOXKEY_MAX. */
size_t store_mboxkey(uint32_t user, const char *name, size_t namelen, unsigned char *out)
{
	store_put32(out, user);
	memcpy(out + 4, name, namelen);
	return 4 + namelen;
}

/* Build the "msgs" key (mbox, uid). */
void store_msgkey(uint32_t mbox, uint32_t uid, unsigned char out[8])
{
	store_put32(out, mbox);
	store_put32(out + 4, uid);
}

/* Read a u64 meta value; absent reads as dflt. */
static int store_meta_get(struct store *st, MDB_txn *txn, const char *key, uint64_t dflt, uint64_t *val)
{
	MDB_val k = { strlen(key), (void *)key }, v;
	int rc = mdb_get(txn, st->meta, &k, &v);

	if (rc == MDB_NOTFOUND) {
		*val = dflt;
		return 0;
	}
	if (rc)
		return store_err(rc);
	if (v.mv_size != 8)
		return STORE_ECORRUPT;
	*val = store_get64(v.mv_data);
	return 0;
}

static int store_meta_set(struct store *st, MDB_txn *txn, const char *key, uint64_t val)
{
	unsigned char buf[8];
	MDB_val k = { strlen(key), (void *)key }, v = { 8, buf };

	store_put64(buf, val);
	return store_err(mdb_put(txn, st->meta, &k, &v, 0));
}

/* Allocate the next id of a meta counter (first id 1). */
int store_meta_next(struct store *st, MDB_txn *txn, const char *key, uint64_t *id)
{
	int rc = store_meta_get(st, txn, key, 1, id);

	if (rc == 0)
		rc = store_meta_set(st, txn, key, *id + 1);
	return rc;
}

/* Look a user up by name. 0, STORE_ENOTFOUND or another error. */
int store_urec_get(struct store *st, MDB_txn *txn, const char *name, struct store_urec *r)
{
	size_t n = strlen(name);
	MDB_val k = { n, (void *)name }, v;
	int rc;

	if (n == 0 || n > STORE_NAME_MAX)
		return STORE_ENOTFOUND;
	rc = mdb_get(txn, st->users, &k, &v);
	if (rc)
		return store_err(rc);
	rc = store_urec_decode(&v, r);
	if (rc == 0) {
		memcpy(r->u.name, name, n);
		r->u.name[n] = '\0';
	}
	return rc;
}

/* Write a user record under its name. */
int store_urec_put(struct store *st, MDB_txn *txn, const struct store_urec *r)
{
	unsigned char buf[STORE_UREC_LEN];
	MDB_val k = { strlen(r->u.name), (void *)r->u.name }, v = { sizeof buf, buf };

	store_urec_encode(r, buf);
	return store_err(mdb_put(txn, st->users, &k, &v, 0));
}

/* Look a user up by id (through "userids"). */
int store_urec_get_id(struct store *st, MDB_txn *txn, uint32_t id, struct store_urec *r)
{
	unsigned char kb[4];
	char name[STORE_NAME_MAX + 1];
	MDB_val k = { 4, kb }, v;
	int rc;

	store_put32(kb, id);
	rc = mdb_get(txn, st->userids, &k, &v);
	if (rc)
		return store_err(rc);
	if (v.mv_size == 0 || v.mv_size > STORE_NAME_MAX)
		return STORE_ECORRUPT;
	memcpy(name, v.mv_data, v.mv_size);
	name[v.mv_size] = '\0';
	rc = store_urec_get(st, txn, name, r);
	if (rc == 0 && r->u.id != id)
		return STORE_ECORRUPT;
	return rc == STORE_ENOTFOUND ? STORE_ECORRUPT : rc;
}

/* Look a mailbox up by (user, name). */
int store_mrec_get(struct store *st, MDB_txn *txn, uint32_t user, const char *name, struct store_mbox *m)
{
	unsigned char kb[STORE_MBOXKEY_MAX];
	size_t n = strlen(name);
	MDB_val k, v;
	int rc;

	if (n == 0 || n > STORE_MBOX_NAME_MAX)
		return STORE_ENOTFOUND;
	k.mv_size = store_mboxkey(user, name, n, kb);
	k.mv_data = kb;
	rc = mdb_get(txn, st->mboxes, &k, &v);
	if (rc)
		return store_err(rc);
	return store_mbox_decode(&v, m);
}

/* Look a mailbox up by id (through "mboxids": id -> user, name). */
int store_mrec_get_id(struct store *st, MDB_txn *txn, uint32_t id, struct store_mbox *m, char *name)
{
	unsigned char kb[4];
	char nb[STORE_MBOX_NAME_MAX + 1];
	MDB_val k = { 4, kb }, v;
	int rc;

	store_put32(kb, id);
	rc = mdb_get(txn, st->mboxids, &k, &v);
	if (rc)
		return store_err(rc);
	if (v.mv_size <= 4 || v.mv_size > 4 + STORE_MBOX_NAME_MAX)
		return STORE_ECORRUPT;
	memcpy(nb, (char *)v.mv_data + 4, v.mv_size - 4);
	nb[v.mv_size - 4] = '\0';
	rc = store_mrec_get(st, txn, store_get32(v.mv_data), nb, m);
	if (rc == 0 && m->id != id)
		rc = STORE_ECORRUPT;
	if (rc == 0 && name)
		memcpy(name, nb, v.mv_size - 4 + 1);
	return rc == STORE_ENOTFOUND ? STORE_ECORRUPT : rc;
}

/* Write a mailbox record under (m->user, name). */
int store_mrec_put(struct store *st, MDB_txn *txn, const struct store_mbox *m, const char *name)
{
	unsigned char kb[STORE_MBOXKEY_MAX], buf[STORE_MREC_LEN];
	size_t n = strlen(name);
	MDB_val k, v = { sizeof buf, buf };

	if (n == 0 || n > STORE_MBOX_NAME_MAX)
		return STORE_EINVAL;
	k.mv_size = store_mboxkey(m->user, name, n, kb);
	k.mv_data = kb;
	store_mbox_encode(m, buf);
	return store_err(mdb_put(txn, st->mboxes, &k, &v, 0));
}

/*
 * Create mailbox name for user: a new id, UIDNEXT 1, and a UIDVALIDITY from
 * the clock that is also larger than any handed out before, so a mailbox
 * deleted and re-created within a second still gets a new one.
 */
int store_mrec_create(struct store *st, MDB_txn *txn, uint32_t user, const char *name, struct store_mbox *out)
{
	unsigned char kb[STORE_MBOXKEY_MAX], buf[STORE_MREC_LEN], idb[4];
	size_t n = strlen(name);
	uint64_t id, last, now = (uint64_t)time(NULL);
	MDB_val k, v;
	int rc;

	if (n == 0 || n > STORE_MBOX_NAME_MAX)
		return STORE_EINVAL;
	rc = store_meta_next(st, txn, "next_mbox", &id);
	if (rc == 0)
		rc = store_meta_get(st, txn, "last_uidvalidity", 0, &last);
	if (rc)
		return rc;
	if (id > UINT32_MAX)
		return STORE_EFULL;
	if (now <= last)
		now = last + 1;
	if (now > UINT32_MAX)
		now = 1;        /* 2106: wrap, still differs from the last one */
	rc = store_meta_set(st, txn, "last_uidvalidity", now);
	if (rc)
		return rc;
	memset(out, 0, sizeof *out);
	out->id = (uint32_t)id;
	out->user = user;
	out->uidvalidity = (uint32_t)now;
	out->uidnext = 1;
	out->recent_uid = 1;
	k.mv_size = store_mboxkey(user, name, n, kb);
	k.mv_data = kb;
	v.mv_size = sizeof buf;
	v.mv_data = buf;
	store_mbox_encode(out, buf);
	rc = mdb_put(txn, st->mboxes, &k, &v, MDB_NOOVERWRITE);
	if (rc)
		return store_err(rc);
	/* mboxids: id -> (user, name), the same bytes as the mboxes key */
	store_put32(idb, out->id);
	v = k;
	k.mv_size = 4;
	k.mv_data = idb;
	return store_err(mdb_put(txn, st->mboxids, &k, &v, MDB_NOOVERWRITE));
}

/* Drop one reference to a blob; at zero the blob itself is deleted. */
int store_blob_unref(struct store *st, MDB_txn *txn, uint64_t blob)
{
	unsigned char kb[8], vb[4];
	MDB_val k = { 8, kb }, v;
	uint32_t refs;
	int rc;

	store_put64(kb, blob);
	rc = mdb_get(txn, st->blobrefs, &k, &v);
	if (rc == MDB_NOTFOUND)
		refs = 1;       /* missing refcount: treat as the last reference */
	else if (rc)
		return store_err(rc);
	else if (v.mv_size != 4)
		return STORE_ECORRUPT;
	else
		refs = store_get32(v.mv_data);
	if (refs > 1) {
		store_put32(vb, refs - 1);
		v.mv_size = 4;
		v.mv_data = vb;
		return store_err(mdb_put(txn, st->blobrefs, &k, &v, 0));
	}
	rc = mdb_del(txn, st->blobrefs, &k, NULL);
	if (rc && rc != MDB_NOTFOUND)
		return store_err(rc);
	rc = mdb_del(txn, st->blobs, &k, NULL);
	if (rc && rc != MDB_NOTFOUND)
		return store_err(rc);
	return store_mime_del(st, txn, blob);
}

/* Delete one message record and its blob reference; *size gets its size. */
int store_msg_remove(struct store *st, MDB_txn *txn, uint32_t mbox, uint32_t uid, uint64_t *size)
{
	unsigned char kb[8];
	MDB_val k = { 8, kb }, v;
	struct store_msg m;
	int rc;

	store_msgkey(mbox, uid, kb);
	rc = mdb_get(txn, st->msgs, &k, &v);
	if (rc)
		return store_err(rc);
	rc = store_msg_decode(&k, &v, &m);
	if (rc)
		return rc;
	rc = mdb_del(txn, st->msgs, &k, NULL);
	if (rc)
		return store_err(rc);
	*size = m.size;
	return store_blob_unref(st, txn, m.blob);
}
