/* test_store_mbox — mailbox tree, subscriptions, keywords, flags, COPY and APPEND-from-file on a temp store. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imap.h"
#include "store.h"
#include "store_batch.h"
#include "store_check.h"
#include "store_mbox.h"
#include "store_msg.h"
#include "store_user.h"
#include "store_int.h"
#include "check.h"

struct names {
	char buf[2048];
	size_t len;
};

static int collect(void *arg, const char *name, const struct store_mbox *mb)
{
	struct names *n = arg;
	n->len += (size_t)snprintf(n->buf + n->len, sizeof n->buf - n->len, "%s,", name);
	return 0;
}

static int collect_sub(void *arg, const char *name)
{
	return collect(arg, name, NULL);
}

static const char *list(struct store *st, uint32_t user, struct names *n)
{
	n->len = 0;
	n->buf[0] = '\0';
	store_mbox_list(st, user, collect, n);
	return n->buf;
}

static int count_msgs(void *arg, const struct store_msg *m)
{
	(*(unsigned *)arg)++;
	return 0;
}

int main(void)
{
	char dir[] = "/tmp/test_store_mbox.XXXXXX";
	struct store_opts o = { .map_size = 1 << 20, .map_max = 64 << 20, .nosync = 1 };
	struct store *st;
	struct store_user u;
	struct store_mbox mb, trash;
	struct store_batch *b;
	struct names n;
	uint32_t uid, nu, nf, bits;
	uint64_t ms;
	unsigned cnt;

	if (!mkdtemp(dir) || store_open(dir, &o, &st) != 0) {
		printf("cannot open a store in %s\n", dir);
		return 1;
	}
	CHECK(store_user_add(st, "alice", "pw", 2, 0, 0) == 0);
	CHECK(store_user_get(st, "alice", &u) == 0);
	/* default mailboxes */
	CHECK(!strcmp(list(st, u.id, &n), "Archive,Drafts,INBOX,Junk,Sent,Trash,"));
	CHECK(store_mbox_ensure_defaults(st, u.id) == 0);
	/* create with parents, exists */
	CHECK(store_mbox_create(st, u.id, "A/B/C", NULL) == 0);
	CHECK(store_mbox_create(st, u.id, "A/B", NULL) == STORE_EEXIST);
	CHECK(strstr(list(st, u.id, &n), "A,A/B,A/B/C,") != NULL);
	/* rename with children */
	CHECK(store_mbox_rename(st, u.id, "A", "Z") == 0);
	CHECK(strstr(list(st, u.id, &n), "Z,Z/B,Z/B/C,") != NULL && !strstr(n.buf, "A/"));
	CHECK(store_mbox_rename(st, u.id, "Z", "Z/B/X") == STORE_EINVAL);
	CHECK(store_mbox_rename(st, u.id, "Z", "Sent") == STORE_EEXIST);
	CHECK(store_mbox_rename(st, u.id, "Nope", "Q") == STORE_ENOTFOUND);
	/* delete */
	CHECK(store_mbox_delete(st, u.id, "Z/B/C", NULL) == 0);
	CHECK(store_mbox_delete(st, u.id, "Z/B/C", NULL) == STORE_ENOTFOUND);
	CHECK(store_mbox_delete(st, u.id, "INBOX", NULL) == STORE_EINVAL);
	/* subscriptions */
	CHECK(store_mbox_subscribe(st, u.id, "Z", 1) == 0);
	CHECK(store_mbox_subscribe(st, u.id, "INBOX", 1) == 0);
	CHECK(store_mbox_subscribe(st, u.id, "Z", 0) == 0);
	n.len = 0;
	n.buf[0] = '\0';
	store_mbox_list_subscribed(st, u.id, collect_sub, &n);
	/* user add subscribed the special-use defaults */
	CHECK(!strcmp(n.buf, "Archive,Drafts,INBOX,Junk,Sent,Trash,"));
	CHECK(store_mbox_is_subscribed(st, u.id, "INBOX") == 1);
	CHECK(store_mbox_is_subscribed(st, u.id, "Z") == 0);
	CHECK(store_mbox_is_subscribed(st, u.id, "") == STORE_EINVAL);
	/* once marked, the defaults are not subscribed again */
	CHECK(store_mbox_subscribe(st, u.id, "Junk", 0) == 0);
	CHECK(store_mbox_ensure_defaults(st, u.id) == 0);
	CHECK(store_mbox_is_subscribed(st, u.id, "Junk") == 0);
	/* one the defaults make again is */
	CHECK(store_mbox_delete(st, u.id, "Drafts", NULL) == 0);
	CHECK(store_mbox_subscribe(st, u.id, "Drafts", 0) == 0);
	CHECK(store_mbox_ensure_defaults(st, u.id) == 0);
	CHECK(store_mbox_is_subscribed(st, u.id, "Drafts") == 1);

	/* messages: deliver, flags and keywords, copy sharing the blob */
	CHECK(store_deliver(st, "alice", "INBOX", "Subject: a\r\n\r\nx\r\n", 17, 1000, &uid) == 0);
	CHECK(store_mbox_get(st, u.id, "INBOX", &mb) == 0 && store_mbox_get(st, u.id, "Trash", &trash) == 0);
	CHECK(store_batch_begin(st, &b) == 0);
	{
		const char kw[2][STORE_KW_LEN + 1] = { "$Work", "$Label1" };
		CHECK(store_batch_kw_bits(b, mb.id, kw, 2, &bits) == 0);
		CHECK(bits == (3u << STORE_F_KW_SHIFT));
	}
	CHECK(store_batch_flags(b, mb.id, uid, STORE_FLAGS_ADD, STORE_F_SEEN | bits, &nf, &ms) == 0);
	CHECK(nf == (STORE_F_SEEN | bits) && ms > 0);
	CHECK(store_batch_flags(b, mb.id, uid, STORE_FLAGS_ADD, STORE_F_SEEN, &nf, &ms) == 0 && ms == 0);
	CHECK(store_batch_copy(b, mb.id, uid, trash.id, &nu) == 0 && nu == 1);
	CHECK(store_batch_end(b) == 0);
	{
		char names[STORE_KW_MAX][STORE_KW_LEN + 1];
		unsigned nk;
		CHECK(store_kw_get(st, mb.id, names, &nk) == 0 && nk == 2 && !strcmp(names[1], "$Label1"));
	}
	CHECK(store_user_get(st, "alice", &u) == 0 && u.used_msgs == 2 && u.used_bytes == 34);
	{
		struct store_msg m;
		char names[STORE_KW_MAX][STORE_KW_LEN + 1];
		unsigned nk;
		/* the copy keeps its keywords, named in the target's own list */
		CHECK(store_msg_get(st, trash.id, 1, &m) == 0 && m.flags == (STORE_F_SEEN | (3u << STORE_F_KW_SHIFT)));
		CHECK(store_kw_get(st, trash.id, names, &nk) == 0 && nk == 2 && !strcmp(names[0], "$Work"));
	}
	/* a keyword list in the target in another order: the bits are renumbered;
	 * a full one: STORE_ELIMIT and nothing copied */
	{
		struct store_mbox arch;
		struct store_msg m;
		char full[STORE_KW_MAX][STORE_KW_LEN + 1];
		CHECK(store_mbox_get(st, u.id, "Archive", &arch) == 0);
		CHECK(store_batch_begin(st, &b) == 0);
		{
			const char kw[2][STORE_KW_LEN + 1] = { "$Other", "$Label1" };
			CHECK(store_batch_kw_bits(b, arch.id, kw, 2, &bits) == 0);
		}
		CHECK(store_batch_copy(b, mb.id, uid, arch.id, &nu) == 0 && nu == 1);
		CHECK(store_batch_end(b) == 0);
		/* $Work is new there (bit 2), $Label1 is its bit 1 */
		CHECK(store_msg_get(st, arch.id, 1, &m) == 0 && m.flags == (STORE_F_SEEN | (6u << STORE_F_KW_SHIFT)));
		for (unsigned i = 0; i < STORE_KW_MAX; i++)
			snprintf(full[i], sizeof full[i], "$k%u", i);
		CHECK(store_batch_begin(st, &b) == 0);
		CHECK(store_batch_kw_bits(b, trash.id, (const char (*)[STORE_KW_LEN + 1])full, STORE_KW_MAX, &bits) ==
		      STORE_ELIMIT);
		store_batch_abort(b);
		CHECK(store_batch_begin(st, &b) == 0);
		CHECK(store_batch_kw_bits(b, arch.id, (const char (*)[STORE_KW_LEN + 1])full, STORE_KW_MAX - 3, &bits) == 0);
		CHECK(store_batch_end(b) == 0);
		CHECK(store_batch_begin(st, &b) == 0);
		CHECK(store_batch_copy(b, trash.id, 1, arch.id, &nu) == 0);      /* $Work, $Label1 are there */
		CHECK(store_batch_kw_bits(b, arch.id, (const char (*)[STORE_KW_LEN + 1])&full[STORE_KW_MAX - 3], 1,
		                          &bits) == STORE_ELIMIT);
		store_batch_abort(b);
		CHECK(store_mbox_delete(st, u.id, "Archive", NULL) == 0);
		CHECK(store_mbox_create(st, u.id, "Archive", NULL) == 0);
	}
	/* keyword names that are not atoms ("BODY[", from an old FETCH bug) are
	 * removed at start, the messages' bits renumbered */
	{
		const char kw[3][STORE_KW_LEN + 1] = { "BODY[", "a[b", "a b" };
		char names[STORE_KW_MAX][STORE_KW_LEN + 1], ex[STORE_KW_LEN + 1];
		unsigned removed, mboxes, nk;
		struct store_msg m;
		CHECK(store_check_keywords(st, &removed, &mboxes, ex) == 0 && removed == 0 && mboxes == 0 && !ex[0]);
		CHECK(store_batch_begin(st, &b) == 0);
		CHECK(store_batch_kw_bits(b, trash.id, kw, 3, &bits) == 0 && bits == (28u << STORE_F_KW_SHIFT));
		CHECK(store_batch_flags(b, trash.id, 1, STORE_FLAGS_SET, STORE_F_SEEN | (0x1du << STORE_F_KW_SHIFT), &nf,
		                        &ms) == 0);
		CHECK(store_batch_end(b) == 0);
		/* Trash: $Work $Label1 BODY[ a[b "a b"; message 1 has $Work BODY[ a[b "a b"
		 * ('[' is an ATOM-CHAR: "a[b" stays) */
		CHECK(store_check_keywords(st, &removed, &mboxes, ex) == 0 && removed == 2 && mboxes == 1);
		CHECK(!strcmp(ex, "BODY["));
		CHECK(store_kw_get(st, trash.id, names, &nk) == 0 && nk == 3 && !strcmp(names[2], "a[b"));
		CHECK(store_msg_get(st, trash.id, 1, &m) == 0 && m.flags == (STORE_F_SEEN | (5u << STORE_F_KW_SHIFT)));
		CHECK(store_check_keywords(st, &removed, &mboxes, ex) == 0 && removed == 0);
	}
	/* APPEND from a spool file */
	{
		int fd = open(dir, O_TMPFILE | O_RDWR, 0600);
		char buf[32];
		size_t got;
		CHECK(fd >= 0 && write(fd, "Subject: f\r\n\r\nfile\r\n", 20) == 20);
		CHECK(store_batch_begin(st, &b) == 0);
		CHECK(store_batch_append_fd(b, mb.id, fd, 20, STORE_F_DRAFT, 2000, &nu) == 0 && nu == 2);
		CHECK(store_batch_end(b) == 0);
		CHECK(store_msg_read(st, mb.id, 2, 14, buf, sizeof buf, &got) == 0 && got == 6 && !memcmp(buf, "file\r\n", 6));
		close(fd);
	}
	/* delete a mailbox with messages: usage goes down */
	CHECK(store_mbox_delete(st, u.id, "Trash", NULL) == 0);
	CHECK(store_user_get(st, "alice", &u) == 0 && u.used_msgs == 2);
	cnt = 0;
	CHECK(store_msg_walk_from(st, mb.id, 0, count_msgs, &cnt) == 0 && cnt == 2);
	/* INBOX rename: messages move, INBOX stays empty */
	CHECK(store_mbox_rename(st, u.id, "INBOX", "Old") == 0);
	CHECK(store_mbox_get(st, u.id, "INBOX", &mb) == 0 && mb.count == 0);
	CHECK(store_mbox_get(st, u.id, "Old", &mb) == 0 && mb.count == 2);
	/* DELETE with inferiors (RFC 3501 6.3.4): messages go, the name stays \Noselect */
	{
		struct store_mbox p0, p1, any;
		int ns = -1;
		CHECK(store_mbox_create(st, u.id, "P/Kid", NULL) == 0);
		CHECK(store_mbox_get(st, u.id, "P", &p0) == 0 && p0.flags == 0 && p0.recent_uid == 1);
		CHECK(store_deliver(st, "alice", "Old", "Subject: p\r\n\r\np\r\n", 17, 1000, &uid) == 0);
		CHECK(store_batch_begin(st, &b) == 0);
		CHECK(store_batch_copy(b, mb.id, uid, p0.id, &nu) == 0);
		CHECK(store_batch_end(b) == 0);
		CHECK(store_user_get(st, "alice", &u) == 0 && u.used_msgs == 4);
		CHECK(store_mbox_delete(st, u.id, "P", &ns) == 0 && ns == 1);
		CHECK(store_user_get(st, "alice", &u) == 0 && u.used_msgs == 3);
		cnt = 0;
		CHECK(store_msg_walk_from(st, p0.id, 0, count_msgs, &cnt) == 0 && cnt == 0);
		CHECK(store_mbox_get(st, u.id, "P", &p1) == STORE_ENOTFOUND);
		CHECK(store_mbox_get_any(st, u.id, "P", &p1) == 0 && p1.flags == STORE_MBOX_NOSELECT);
		CHECK(p1.id != p0.id && p1.uidvalidity != p0.uidvalidity && p1.count == 0);
		CHECK(store_mbox_get_id(st, p1.id, &any, NULL) == STORE_ENOTFOUND);
		CHECK(store_mbox_get_id(st, p0.id, &any, NULL) == STORE_ENOTFOUND);
		CHECK(strstr(list(st, u.id, &n), "P,P/Kid,") != NULL);
		CHECK(store_deliver(st, "alice", "P", "Subject: p\r\n\r\np\r\n", 17, 1000, &uid) == STORE_ENOTFOUND);
		CHECK(store_mbox_delete(st, u.id, "P", &ns) == STORE_EINVAL);   /* \Noselect with inferiors */
		/* RENAME moves the \Noselect name with its children */
		CHECK(store_mbox_rename(st, u.id, "P", "Q") == 0);
		CHECK(strstr(list(st, u.id, &n), "Q,Q/Kid,") != NULL && !strstr(n.buf, "P,"));
		CHECK(store_mbox_get_any(st, u.id, "Q", &any) == 0 && any.flags == STORE_MBOX_NOSELECT && any.id == p1.id);
		/* the last child goes: the parent stays, \Noselect */
		CHECK(store_mbox_delete(st, u.id, "Q/Kid", &ns) == 0 && ns == 0);
		CHECK(store_mbox_get_any(st, u.id, "Q", &any) == 0 && any.flags == STORE_MBOX_NOSELECT);
		/* CREATE makes it a new mailbox: new id and UIDVALIDITY, UIDs from 1 */
		CHECK(store_mbox_create(st, u.id, "Q", &any) == 0);
		CHECK(any.flags == 0 && any.id != p1.id && any.uidvalidity > p1.uidvalidity && any.uidnext == 1);
		CHECK(store_mbox_create(st, u.id, "Q", NULL) == STORE_EEXIST);
		CHECK(store_mbox_get(st, u.id, "Q", &any) == 0);
		/* a \Noselect name without inferiors is removed */
		CHECK(store_mbox_create(st, u.id, "R/S", NULL) == 0);
		CHECK(store_mbox_delete(st, u.id, "R", &ns) == 0 && ns == 1);
		CHECK(store_mbox_delete(st, u.id, "R/S", &ns) == 0 && ns == 0);
		CHECK(store_mbox_delete(st, u.id, "R", &ns) == 0 && ns == 0);
		CHECK(store_mbox_get_any(st, u.id, "R", &any) == STORE_ENOTFOUND);
		/* CREATE below a \Noselect name leaves it \Noselect */
		CHECK(store_mbox_create(st, u.id, "T/U", NULL) == 0 && store_mbox_delete(st, u.id, "T", NULL) == 0);
		CHECK(store_mbox_create(st, u.id, "T/V/W", NULL) == 0);
		CHECK(store_mbox_get_any(st, u.id, "T", &any) == 0 && any.flags == STORE_MBOX_NOSELECT);
		/* a \Noselect default mailbox is not re-created at login */
		CHECK(store_mbox_create(st, u.id, "Junk/Spam", NULL) == 0 && store_mbox_delete(st, u.id, "Junk", NULL) == 0);
		CHECK(store_mbox_ensure_defaults(st, u.id) == 0);
		CHECK(store_mbox_get_any(st, u.id, "Junk", &any) == 0 && any.flags == STORE_MBOX_NOSELECT);
	}
	/* \Recent marks: only up, never past UIDNEXT, HIGHESTMODSEQ untouched */
	{
		struct store_mbox a0, a1;
		uint32_t ids[2], uids[2];
		CHECK(store_mbox_get(st, u.id, "Old", &a0) == 0 && a0.recent_uid == 1 && a0.uidnext == 4);
		ids[0] = a0.id, uids[0] = 3;
		ids[1] = 999999, uids[1] = 5;               /* no such mailbox: skipped */
		CHECK(store_mbox_recent(st, ids, uids, 2) == 0);
		CHECK(store_mbox_get(st, u.id, "Old", &a1) == 0 && a1.recent_uid == 3);
		CHECK(a1.highestmodseq == a0.highestmodseq && a1.uidnext == a0.uidnext && a1.count == a0.count);
		uids[0] = 2;
		CHECK(store_mbox_recent(st, ids, uids, 1) == 0);
		CHECK(store_mbox_get(st, u.id, "Old", &a1) == 0 && a1.recent_uid == 3);   /* never down */
		uids[0] = 100;
		CHECK(store_mbox_recent(st, ids, uids, 1) == 0);
		CHECK(store_mbox_get(st, u.id, "Old", &a1) == 0 && a1.recent_uid == 4);   /* UIDNEXT at most */
		CHECK(store_deliver(st, "alice", "Old", "Subject: r\r\n\r\nr\r\n", 17, 1000, &uid) == 0);
		CHECK(store_mbox_get(st, u.id, "Old", &a1) == 0 && a1.recent_uid == 4 && a1.uidnext == 5);
	}
	/* mailbox records: a record from before flags and the \Recent mark reads
	 * as selectable with nothing recent; a longer one of the version is read */
	{
		unsigned char rec[STORE_MREC_LEN + 8];
		struct store_mbox m = { .id = 7, .user = 1, .uidvalidity = 9, .uidnext = 42, .highestmodseq = 5,
		                        .count = 3, .bytes = 99, .flags = STORE_MBOX_NOSELECT, .recent_uid = 40 }, d;
		MDB_val v = { STORE_MREC_MIN, rec };
		store_mbox_encode(&m, rec);
		CHECK(store_mbox_decode(&v, &d) == 0 && d.uidnext == 42 && d.flags == 0 && d.recent_uid == 42);
		v.mv_size = STORE_MREC_LEN;
		CHECK(store_mbox_decode(&v, &d) == 0 && d.flags == STORE_MBOX_NOSELECT && d.recent_uid == 40 &&
		      d.bytes == 99);
		v.mv_size = STORE_MREC_LEN + 8;
		CHECK(store_mbox_decode(&v, &d) == 0 && d.recent_uid == 40);
		v.mv_size = STORE_MREC_MIN - 1;
		CHECK(store_mbox_decode(&v, &d) == STORE_ECORRUPT);
	}
	/* mailbox names (modified UTF-7) */
	CHECK(imap_mbox_name_check("&ZeVnLIqe-") == 0 && imap_mbox_name_check("a&-b") == 0);
	CHECK(imap_mbox_name_check("&Jjo") < 0 && imap_mbox_name_check("a//b") < 0 && imap_mbox_name_check("x%") < 0);

	store_close(st);
	{
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		if (system(cmd) != 0)
			printf("could not remove %s\n", dir);
	}
	return check_done();
}
