/*
 * store_mbox — the mailbox tree: lookup, list, create, delete, rename, the
 * \Recent marks, subscriptions, and the keyword names of each mailbox.
 */
#include <string.h>

#include "store_int.h"
#include "store_mbox.h"

/* Every user's mailboxes: INBOX and the RFC 6154 special-use ones. */
const char *const store_mbox_defaults[] = { "INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive" };
const unsigned store_mbox_ndefaults = sizeof store_mbox_defaults / sizeof store_mbox_defaults[0];

#define SUB_PREFIX "sub/"
#define SUB_KEY_MAX (4 + 4 + STORE_MBOX_NAME_MAX)

/* Walk user's "mboxes" keys in one read txn; cb gets the name and record. */
int store_mbox_list(struct store *st, uint32_t user,
                    int (*cb)(void *arg, const char *name, const struct store_mbox *mb), void *arg)
{
	unsigned char kb[4];
	char name[STORE_MBOX_NAME_MAX + 1];
	struct store_mbox mb;
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	int rc, cbrc = 0;

	rc = store_rbegin(st, &txn);
	if (rc)
		return rc;
	rc = mdb_cursor_open(txn, st->mboxes, &cur);
	if (rc) {
		store_rend(st);
		return store_err(rc);
	}
	store_put32(kb, user);
	k.mv_size = 4;
	k.mv_data = kb;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0) {
		if (k.mv_size <= 4 || k.mv_size > 4 + STORE_MBOX_NAME_MAX || memcmp(k.mv_data, kb, 4))
			break;
		memcpy(name, (char *)k.mv_data + 4, k.mv_size - 4);
		name[k.mv_size - 4] = '\0';
		rc = store_mbox_decode(&v, &mb);
		if (rc == 0)
			rc = cbrc = cb(arg, name, &mb);
		if (rc)
			break;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	store_rend(st);
	if (rc > 0 && cbrc)
		return rc;      /* the callback's own stop value */
	return rc == MDB_NOTFOUND ? 0 : store_err(rc);
}

struct mbox_arg {
	uint32_t user;
	const char *name, *to;
	struct store_mbox mb;
	int noselect;           /* delete: the name stayed, \Noselect, for its children */
};

/* Create name unless it exists; 1 if it did. */
static int mbox_make(struct store *st, MDB_txn *txn, uint32_t user, const char *name, struct store_mbox *out)
{
	int rc = store_mrec_get(st, txn, user, name, out);

	if (rc == 0)
		return 1;
	if (rc != STORE_ENOTFOUND)
		return rc;
	return store_mrec_create(st, txn, user, name, out);
}

/* Create the missing parents of name ("a/b/c": "a", "a/b"). */
static int mbox_parents(struct store *st, MDB_txn *txn, uint32_t user, const char *name)
{
	char buf[STORE_MBOX_NAME_MAX + 1];
	struct store_mbox mb;
	size_t i, n = strlen(name);

	if (n > STORE_MBOX_NAME_MAX)
		return STORE_EINVAL;
	for (i = 1; i < n; i++) {
		if (name[i] != '/')
			continue;
		memcpy(buf, name, i);
		buf[i] = '\0';
		int rc = mbox_make(st, txn, user, buf, &mb);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Delete the "mboxes" and "mboxids" entries of a mailbox. */
static int mbox_unlink(struct store *st, MDB_txn *txn, uint32_t user, const char *name, uint32_t id);

/* Does name have inferiors ("name/...")? 1, 0 or a store error. */
static int mbox_has_children(struct store *st, MDB_txn *txn, uint32_t user, const char *name)
{
	unsigned char kb[STORE_MBOXKEY_MAX + 1];
	size_t n = strlen(name), kl;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, found;

	if (n >= STORE_MBOX_NAME_MAX)
		return 0;       /* no room for a child's name */
	rc = mdb_cursor_open(txn, st->mboxes, &cur);
	if (rc)
		return store_err(rc);
	kl = store_mboxkey(user, name, n, kb);
	kb[kl++] = '/';
	k.mv_size = kl;
	k.mv_data = kb;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	found = rc == 0 && k.mv_size > kl && !memcmp(k.mv_data, kb, kl);
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return store_err(rc);
	return found;
}

static int create_txn(struct store *st, MDB_txn *txn, void *arg)
{
	struct mbox_arg *a = arg;
	int rc = mbox_parents(st, txn, a->user, a->name);

	if (rc == 0)
		rc = store_mrec_get(st, txn, a->user, a->name, &a->mb);
	if (rc == 0 && !(a->mb.flags & STORE_MBOX_NOSELECT))
		return STORE_EEXIST;
	/* A \Noselect name becomes a new mailbox: new id and UIDVALIDITY. */
	if (rc == 0)
		rc = mbox_unlink(st, txn, a->user, a->name, a->mb.id);
	else if (rc == STORE_ENOTFOUND)
		rc = 0;
	if (rc == 0)
		rc = store_mrec_create(st, txn, a->user, a->name, &a->mb);
	return rc;
}

int store_mbox_create(struct store *st, uint32_t user, const char *name, struct store_mbox *out)
{
	struct mbox_arg a = { .user = user, .name = name };
	int rc;

	if (!name || !*name || strlen(name) > STORE_MBOX_NAME_MAX)
		return STORE_EINVAL;
	rc = store_write(st, create_txn, &a);
	if (rc == 0 && out)
		*out = a.mb;
	return rc;
}

/* "subdef/" u32 user: the meta mark of a user whose defaults are subscribed. */
#define SUBDEF_KEY_LEN 11
static void subdef_key(uint32_t user, unsigned char kb[SUBDEF_KEY_LEN])
{
	memcpy(kb, "subdef/", 7);
	store_put32(kb + 7, user);
}

static size_t sub_key(uint32_t user, const char *name, unsigned char *kb);

int store_mbox_make_defaults(struct store *st, MDB_txn *txn, uint32_t user)
{
	unsigned char kb[SUB_KEY_MAX];
	MDB_val k = { SUBDEF_KEY_LEN, kb }, v;
	struct store_mbox mb;
	int rc, marked;

	subdef_key(user, kb);
	rc = mdb_get(txn, st->meta, &k, &v);
	if (rc && rc != MDB_NOTFOUND)
		return store_err(rc);
	marked = rc == 0;
	for (unsigned i = 0; i < store_mbox_ndefaults; i++) {
		const char *name = store_mbox_defaults[i];
		rc = mbox_make(st, txn, user, name, &mb);      /* 1: it was there */
		if (rc < 0)
			return rc;
		if (strcmp(name, "INBOX") && (rc == 0 || !marked) && !(mb.flags & STORE_MBOX_NOSELECT)) {
			k.mv_size = sub_key(user, name, kb);
			v.mv_size = 0;
			v.mv_data = "";
			if ((rc = mdb_put(txn, st->meta, &k, &v, 0)) != 0)
				return store_err(rc);
		}
	}
	if (marked)
		return 0;
	subdef_key(user, kb);
	k.mv_size = SUBDEF_KEY_LEN;
	v.mv_size = 0;
	v.mv_data = "";
	return store_err(mdb_put(txn, st->meta, &k, &v, 0));
}

int store_mbox_forget_user(struct store *st, MDB_txn *txn, uint32_t user)
{
	unsigned char kb[SUBDEF_KEY_LEN];
	MDB_val k = { 8, kb }, v;
	MDB_cursor *cur;
	int rc;

	memcpy(kb, SUB_PREFIX, 4);
	store_put32(kb + 4, user);
	rc = mdb_cursor_open(txn, st->meta, &cur);
	if (rc)
		return store_err(rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size > 8 && !memcmp(k.mv_data, kb, 8)) {
		rc = mdb_cursor_del(cur, 0);
		if (rc == 0)    /* after a delete MDB_NEXT yields the record that followed */
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return store_err(rc);
	subdef_key(user, kb);
	k.mv_size = SUBDEF_KEY_LEN;
	k.mv_data = kb;
	rc = mdb_del(txn, st->meta, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : store_err(rc);
}

static int defaults_txn(struct store *st, MDB_txn *txn, void *arg)
{
	return store_mbox_make_defaults(st, txn, ((struct mbox_arg *)arg)->user);
}

/* Create the default mailboxes a user lacks and subscribe them (a cheap
 * read when none is missing and the user's subscriptions are marked). */
int store_mbox_ensure_defaults(struct store *st, uint32_t user)
{
	struct mbox_arg a = { .user = user };
	unsigned char kb[SUBDEF_KEY_LEN];
	MDB_val k = { SUBDEF_KEY_LEN, kb }, v;
	struct store_mbox mb;
	MDB_txn *txn;
	int rc;

	subdef_key(user, kb);
	rc = store_rbegin(st, &txn);
	if (rc)
		return rc;
	rc = mdb_get(txn, st->meta, &k, &v);
	/* (a \Noselect default left by DELETE counts as there: it stays as it is) */
	for (unsigned i = 0; rc == 0 && i < store_mbox_ndefaults; i++)
		rc = store_mrec_get(st, txn, user, store_mbox_defaults[i], &mb);
	store_rend(st);
	if (rc == 0)
		return 0;
	return store_write(st, defaults_txn, &a);
}

/* Remove every message of a mailbox; *msgs and *bytes get what was removed. */
static int mbox_purge(struct store *st, MDB_txn *txn, uint32_t mbox, uint32_t *msgs, uint64_t *bytes)
{
	unsigned char kb[8];
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t size;
	int rc;

	*msgs = 0;
	*bytes = 0;
	for (;;) {
		rc = mdb_cursor_open(txn, st->msgs, &cur);
		if (rc)
			return store_err(rc);
		store_msgkey(mbox, 0, kb);
		k.mv_size = 8;
		k.mv_data = kb;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		uint32_t uid = 0;
		int found = rc == 0 && k.mv_size == 8 && store_get32(k.mv_data) == mbox;
		if (found)
			uid = store_get32((unsigned char *)k.mv_data + 4);
		mdb_cursor_close(cur);
		if (rc && rc != MDB_NOTFOUND)
			return store_err(rc);
		if (!found)
			return 0;
		rc = store_msg_remove(st, txn, mbox, uid, &size);
		if (rc)
			return rc;
		(*msgs)++;
		*bytes += size;
	}
}

/* Delete the "mboxes" and "mboxids" entries of a mailbox. */
static int mbox_unlink(struct store *st, MDB_txn *txn, uint32_t user, const char *name, uint32_t id)
{
	unsigned char kb[STORE_MBOXKEY_MAX], idb[4];
	MDB_val k;
	int rc;

	k.mv_size = store_mboxkey(user, name, strlen(name), kb);
	k.mv_data = kb;
	rc = mdb_del(txn, st->mboxes, &k, NULL);
	if (rc)
		return store_err(rc);
	store_put32(idb, id);
	k.mv_size = 4;
	k.mv_data = idb;
	rc = mdb_del(txn, st->mboxids, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : store_err(rc);
}

/* "kw/" + mailbox id: the meta key of a mailbox's keyword names. */
void store_kw_key(uint32_t mbox, unsigned char kb[7])
{
	memcpy(kb, "kw/", 3);
	store_put32(kb + 3, mbox);
}

static int delete_txn(struct store *st, MDB_txn *txn, void *arg)
{
	struct mbox_arg *a = arg;
	struct store_urec r;
	unsigned char kb[7];
	MDB_val k = { sizeof kb, kb };
	uint32_t msgs;
	uint64_t bytes;
	int rc, children;

	rc = store_mrec_get(st, txn, a->user, a->name, &a->mb);
	if (rc)
		return rc;
	children = mbox_has_children(st, txn, a->user, a->name);
	if (children < 0)
		return children;
	if (children && a->mb.flags & STORE_MBOX_NOSELECT)
		return STORE_EINVAL;    /* RFC 3501 6.3.4: inferiors and \Noselect */
	rc = mbox_purge(st, txn, a->mb.id, &msgs, &bytes);
	if (rc == 0)
		rc = mbox_unlink(st, txn, a->user, a->name, a->mb.id);
	if (rc == 0) {
		store_kw_key(a->mb.id, kb);
		rc = mdb_del(txn, st->meta, &k, NULL);
		rc = rc == MDB_NOTFOUND ? 0 : store_err(rc);
	}
	if (rc == 0 && msgs)
		rc = store_urec_get_id(st, txn, a->user, &r);
	if (rc == 0 && msgs) {
		r.u.used_msgs = r.u.used_msgs >= msgs ? r.u.used_msgs - msgs : 0;
		r.u.used_bytes = r.u.used_bytes >= bytes ? r.u.used_bytes - bytes : 0;
		rc = store_urec_put(st, txn, &r);
	}
	if (rc == 0 && children) {
		/* The name stays for its children: a new, empty \Noselect record
		 * (a new id, so nothing keyed by the old one sees it). */
		rc = store_mrec_create(st, txn, a->user, a->name, &a->mb);
		a->mb.flags = STORE_MBOX_NOSELECT;
		if (rc == 0)
			rc = store_mrec_put(st, txn, &a->mb, a->name);
		a->noselect = 1;
	}
	return rc;
}

int store_mbox_delete(struct store *st, uint32_t user, const char *name, int *noselect)
{
	struct mbox_arg a = { .user = user, .name = name };
	int rc;

	if (!name || !strcmp(name, "INBOX"))
		return STORE_EINVAL;
	rc = store_write(st, delete_txn, &a);
	if (noselect)
		*noselect = rc == 0 && a.noselect;
	return rc;
}

struct recent_arg {
	const uint32_t *mbox, *uid;
	unsigned n;
};

static int recent_txn(struct store *st, MDB_txn *txn, void *arg)
{
	struct recent_arg *a = arg;
	char name[STORE_MBOX_NAME_MAX + 1];
	struct store_mbox mb;

	for (unsigned i = 0; i < a->n; i++) {
		int rc = store_mrec_get_id(st, txn, a->mbox[i], &mb, name);
		if (rc == STORE_ECORRUPT || rc == STORE_ENOTFOUND)
			continue;   /* deleted meanwhile */
		if (rc)
			return rc;
		uint32_t uid = a->uid[i] < mb.uidnext ? a->uid[i] : mb.uidnext;
		if (uid <= mb.recent_uid)
			continue;   /* the mark only moves up */
		mb.recent_uid = uid;
		rc = store_mrec_put(st, txn, &mb, name);
		if (rc)
			return rc;
	}
	return 0;
}

int store_mbox_recent(struct store *st, const uint32_t *mbox, const uint32_t *uid, unsigned n)
{
	struct recent_arg a = { mbox, uid, n };

	if (n == 0)
		return 0;
	if (!mbox || !uid)
		return STORE_EINVAL;
	return store_write(st, recent_txn, &a);
}

/* Move one mailbox record from name to newname (same id). */
static int mbox_move(struct store *st, MDB_txn *txn, uint32_t user, const char *name, const char *newname)
{
	unsigned char kb[STORE_MBOXKEY_MAX], idb[4];
	struct store_mbox mb;
	MDB_val k, v;
	int rc;

	rc = store_mrec_get(st, txn, user, name, &mb);
	if (rc == 0)
		rc = mbox_unlink(st, txn, user, name, mb.id);
	if (rc)
		return rc;
	k.mv_size = store_mboxkey(user, newname, strlen(newname), kb);
	k.mv_data = kb;
	if (mdb_get(txn, st->mboxes, &k, &v) == 0)
		return STORE_EEXIST;
	rc = store_mrec_put(st, txn, &mb, newname);
	if (rc)
		return rc;
	store_put32(idb, mb.id);
	v = k;
	k.mv_size = 4;
	k.mv_data = idb;
	return store_err(mdb_put(txn, st->mboxids, &k, &v, 0));
}

/* Find the first mailbox of user at or after key name that is from or below it. */
static int next_child(struct store *st, MDB_txn *txn, uint32_t user, const char *from, char *out)
{
	unsigned char kb[STORE_MBOXKEY_MAX];
	size_t fl = strlen(from);
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, found = 0;

	rc = mdb_cursor_open(txn, st->mboxes, &cur);
	if (rc)
		return store_err(rc);
	k.mv_size = store_mboxkey(user, from, fl, kb);
	k.mv_data = kb;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0) {
		const char *n = (const char *)k.mv_data + 4;
		size_t nl = k.mv_size - 4;
		if (k.mv_size < 4 || store_get32(k.mv_data) != user || nl < fl || memcmp(n, from, fl))
			break;
		if (nl == fl || n[fl] == '/') {
			memcpy(out, n, nl);
			out[nl] = '\0';
			found = 1;
			break;
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return store_err(rc);
	return found;
}

static int rename_txn(struct store *st, MDB_txn *txn, void *arg)
{
	struct mbox_arg *a = arg;
	char name[STORE_MBOX_NAME_MAX + 1], to[STORE_MBOX_NAME_MAX + 2];
	size_t fl = strlen(a->name), tl = strlen(a->to);
	struct store_mbox mb;
	int rc;

	rc = store_mrec_get(st, txn, a->user, a->name, &mb);
	if (rc)
		return rc;
	if (store_mrec_get(st, txn, a->user, a->to, &mb) == 0)
		return STORE_EEXIST;
	rc = mbox_parents(st, txn, a->user, a->to);
	if (rc)
		return rc;
	if (!strcmp(a->name, "INBOX")) {
		/* RFC 3501: INBOX's messages move to the new name; INBOX stays, empty;
		 * its children are not renamed. */
		rc = mbox_move(st, txn, a->user, "INBOX", a->to);
		if (rc == 0)
			rc = store_mrec_create(st, txn, a->user, "INBOX", &mb);
		return rc;
	}
	/* The mailbox and its children, one at a time (keys change under the cursor). */
	while ((rc = next_child(st, txn, a->user, a->name, name)) == 1) {
		if (tl + strlen(name) - fl > STORE_MBOX_NAME_MAX)
			return STORE_EINVAL;
		memcpy(to, a->to, tl);
		memcpy(to + tl, name + fl, strlen(name) - fl + 1);
		rc = mbox_move(st, txn, a->user, name, to);
		if (rc)
			return rc;
	}
	return rc;
}

int store_mbox_rename(struct store *st, uint32_t user, const char *from, const char *to)
{
	struct mbox_arg a = { .user = user, .name = from, .to = to };
	size_t fl;

	if (!from || !to || !*to || strlen(to) > STORE_MBOX_NAME_MAX || !strcmp(to, "INBOX"))
		return STORE_EINVAL;
	fl = strlen(from);
	if (!strncmp(to, from, fl) && to[fl] == '/' && strcmp(from, "INBOX"))
		return STORE_EINVAL;    /* into its own subtree */
	return store_write(st, rename_txn, &a);
}

/* "sub/" u32 user name. */
static size_t sub_key(uint32_t user, const char *name, unsigned char *kb)
{
	size_t n = strlen(name);

	memcpy(kb, SUB_PREFIX, 4);
	store_put32(kb + 4, user);
	memcpy(kb + 8, name, n);
	return 8 + n;
}

struct sub_arg {
	uint32_t user;
	const char *name;
	int on;
};

static int sub_txn(struct store *st, MDB_txn *txn, void *arg)
{
	struct sub_arg *a = arg;
	unsigned char kb[SUB_KEY_MAX];
	MDB_val k = { sub_key(a->user, a->name, kb), kb }, v = { 0, (void *)"" };
	int rc;

	if (a->on)
		return store_err(mdb_put(txn, st->meta, &k, &v, 0));
	rc = mdb_del(txn, st->meta, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : store_err(rc);
}

int store_mbox_subscribe(struct store *st, uint32_t user, const char *name, int on)
{
	struct sub_arg a = { user, name, on };

	if (!name || !*name || strlen(name) > STORE_MBOX_NAME_MAX)
		return STORE_EINVAL;
	return store_write(st, sub_txn, &a);
}

int store_mbox_is_subscribed(struct store *st, uint32_t user, const char *name)
{
	unsigned char kb[SUB_KEY_MAX];
	MDB_txn *txn;
	MDB_val k, v;
	int rc;

	if (!name || !*name || strlen(name) > STORE_MBOX_NAME_MAX)
		return STORE_EINVAL;
	k.mv_size = sub_key(user, name, kb);
	k.mv_data = kb;
	rc = store_rbegin(st, &txn);
	if (rc)
		return rc;
	rc = mdb_get(txn, st->meta, &k, &v);
	store_rend(st);
	return rc == 0 ? 1 : rc == MDB_NOTFOUND ? 0 : store_err(rc);
}

int store_mbox_list_subscribed(struct store *st, uint32_t user, int (*cb)(void *arg, const char *name),
                               void *arg)
{
	unsigned char kb[8];
	char name[STORE_MBOX_NAME_MAX + 1];
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	int rc, cbrc = 0;

	rc = store_rbegin(st, &txn);
	if (rc)
		return rc;
	rc = mdb_cursor_open(txn, st->meta, &cur);
	if (rc) {
		store_rend(st);
		return store_err(rc);
	}
	memcpy(kb, SUB_PREFIX, 4);
	store_put32(kb + 4, user);
	k.mv_size = 8;
	k.mv_data = kb;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0) {
		if (k.mv_size <= 8 || k.mv_size > 8 + STORE_MBOX_NAME_MAX || memcmp(k.mv_data, kb, 8))
			break;
		memcpy(name, (char *)k.mv_data + 8, k.mv_size - 8);
		name[k.mv_size - 8] = '\0';
		rc = cbrc = cb(arg, name);
		if (rc)
			break;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	store_rend(st);
	if (rc > 0 && cbrc)
		return rc;      /* the callback's own stop value */
	return rc == MDB_NOTFOUND ? 0 : store_err(rc);
}

/* Copy mailbox (user, name) into out, \Noselect or not. */
int store_mbox_get_any(struct store *st, uint32_t user, const char *name, struct store_mbox *out)
{
	MDB_txn *txn;
	int rc;

	if (!name)
		return STORE_EINVAL;
	rc = store_rbegin(st, &txn);
	if (rc)
		return rc;
	rc = store_mrec_get(st, txn, user, name, out);
	store_rend(st);
	return rc;
}

/* Copy mailbox (user, name) into out; a \Noselect name is no mailbox. */
int store_mbox_get(struct store *st, uint32_t user, const char *name, struct store_mbox *out)
{
	int rc = store_mbox_get_any(st, user, name, out);

	return rc == 0 && out->flags & STORE_MBOX_NOSELECT ? STORE_ENOTFOUND : rc;
}

int store_mbox_get_id(struct store *st, uint32_t id, struct store_mbox *out, char *name)
{
	MDB_txn *txn;
	int rc = store_rbegin(st, &txn);

	if (rc)
		return rc;
	rc = store_mrec_get_id(st, txn, id, out, name);
	store_rend(st);
	if (rc == 0 && out->flags & STORE_MBOX_NOSELECT)
		return STORE_ENOTFOUND;
	return rc == STORE_ECORRUPT ? STORE_ENOTFOUND : rc;
}

/* Decode a keyword list value (NUL-separated names). */
void store_kw_decode(const MDB_val *v, char names[STORE_KW_MAX][STORE_KW_LEN + 1], unsigned *n)
{
	const char *p = v->mv_data, *end = p + v->mv_size;

	*n = 0;
	while (p < end && *n < STORE_KW_MAX) {
		size_t l = strnlen(p, (size_t)(end - p));
		if (l > STORE_KW_LEN)
			l = STORE_KW_LEN;
		memcpy(names[*n], p, l);
		names[*n][l] = '\0';
		(*n)++;
		p += strnlen(p, (size_t)(end - p)) + 1;
	}
}

int store_kw_get(struct store *st, uint32_t mbox, char names[STORE_KW_MAX][STORE_KW_LEN + 1], unsigned *n)
{
	unsigned char kb[7];
	MDB_val k = { sizeof kb, kb }, v;
	MDB_txn *txn;
	int rc;

	*n = 0;
	store_kw_key(mbox, kb);
	rc = store_rbegin(st, &txn);
	if (rc)
		return rc;
	rc = mdb_get(txn, st->meta, &k, &v);
	if (rc == 0)
		store_kw_decode(&v, names, n);
	store_rend(st);
	return rc == MDB_NOTFOUND ? 0 : store_err(rc);
}
