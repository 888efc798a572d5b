/* test_store — the LMDB store on a temp directory: users, auth, delivery, quota, batches, growth, check. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/wait.h>

#include "store.h"
#include "store_batch.h"
#include "store_check.h"
#include "store_mbox.h"
#include "store_msg.h"
#include "store_user.h"
#include "store_int.h"     /* white-box: damage counters for store_check */
#include "check.h"

static int count_report(void *arg, const char *line)
{
	(*(int *)arg)++;
	printf("  check: %s\n", line);
	return 0;
}

/* Assert a user's usage. */
static void usage_is(struct store *st, const char *name, uint64_t bytes, uint32_t msgs, int line)
{
	struct store_user u;
	int rc = store_user_get(st, name, &u);

	check_at(rc == 0 && u.used_bytes == bytes && u.used_msgs == msgs, __FILE__, line, "usage");
	if (rc == 0 && (u.used_bytes != bytes || u.used_msgs != msgs))
		printf("  %s: used %llu/%u, want %llu/%u\n", name, (unsigned long long)u.used_bytes,
		       (unsigned)u.used_msgs, (unsigned long long)bytes, (unsigned)msgs);
}

static int scan_count(void *arg, const struct store_msg *m)
{
	(void)m;
	(*(int *)arg)++;
	return 0;
}

static int list_names(void *arg, const struct store_user *u)
{
	strcat(arg, u->name);
	strcat(arg, ",");
	return 0;
}

static void rmtree(const char *dir)
{
	char p[512];

	snprintf(p, sizeof p, "%s/data.mdb", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/lock.mdb", dir);
	unlink(p);
	rmdir(dir);
}

static void test_basic(const char *dir)
{
	struct store_opts o = { .map_size = 1 << 20, .map_max = 16 << 20, .nosync = 1 };
	struct store *st;
	struct store_user u;
	struct store_mbox mb;
	struct store_msg m;
	char msg[10000], buf[4096], names[256] = "";
	uint32_t uid;
	size_t got;
	int n, problems;

	for (size_t i = 0; i < sizeof msg; i++)
		msg[i] = (char)('a' + i % 26);
	CHECK_RC(store_open(dir, &o, &st), 0);
	if (!st)
		return;
	struct stat sb;
	CHECK(stat(dir, &sb) == 0 && (sb.st_mode & 0777) == 0750);

	CHECK_RC(store_err(MDB_NOTFOUND), STORE_ENOTFOUND);
	CHECK_RC(store_err(MDB_MAP_FULL), STORE_EFULL);
	CHECK_RC(store_err(STORE_ECORRUPT), STORE_ECORRUPT);
	CHECK_RC(store_err(ENOSPC), -ENOSPC);
	CHECK(strcmp(store_strerror(STORE_EQUOTA), "quota exceeded") == 0);
	CHECK_RC(store_user_name_check("alice"), 0);
	CHECK_RC(store_user_name_check("Alice"), STORE_EINVAL);
	CHECK_RC(store_user_name_check(".x"), STORE_EINVAL);
	CHECK_RC(store_user_name_check(""), STORE_EINVAL);
	CHECK_RC(store_user_name_check("a/b"), STORE_EINVAL);

	CHECK_RC(store_user_add(st, "alice", "secret", 6, 25000, 0), 0);
	CHECK_RC(store_user_add(st, "bob", "hunter2", 7, 0, 2), 0);
	CHECK_RC(store_user_add(st, "carol", "x", 1, 0, 0), 0);
	CHECK_RC(store_user_add(st, "alice", "other", 5, 0, 0), STORE_EEXIST);
	CHECK_RC(store_user_add(st, "BAD", "x", 1, 0, 0), STORE_EINVAL);
	CHECK_RC(store_user_add(st, "empty", "", 0, 0, 0), STORE_EINVAL);
	CHECK_RC(store_user_list(st, list_names, names), 0);
	CHECK(strcmp(names, "alice,bob,carol,") == 0);

	CHECK_RC(store_auth(st, "alice", "secret", 6, &u), 0);
	CHECK(strcmp(u.name, "alice") == 0 && u.quota_bytes == 25000 && u.iterations > 0);
	CHECK_RC(store_auth(st, "alice", "Secret", 6, &u), STORE_EAUTH);
	CHECK_RC(store_auth(st, "alice", "", 0, &u), STORE_EAUTH);
	CHECK_RC(store_auth(st, "nobody", "secret", 6, &u), STORE_EAUTH);
	CHECK_RC(store_auth(st, "../x", "secret", 6, &u), STORE_EAUTH);
	CHECK_RC(store_user_passwd(st, "alice", "new pass", 8), 0);
	CHECK_RC(store_auth(st, "alice", "secret", 6, &u), STORE_EAUTH);
	CHECK_RC(store_auth(st, "alice", "new pass", 8, &u), 0);
	CHECK_RC(store_user_passwd(st, "nobody", "x", 1), STORE_ENOTFOUND);

	/* delivery and byte quota (25000) */
	CHECK_RC(store_user_get(st, "alice", &u), 0);
	CHECK_RC(store_mbox_get(st, u.id, "INBOX", &mb), 0);
	CHECK(mb.uidnext == 1 && mb.count == 0 && mb.uidvalidity > 0);
	CHECK_RC(store_mbox_get(st, u.id, "Nope", &mb), STORE_ENOTFOUND);
	CHECK_RC(store_deliver(st, "alice", "INBOX", msg, 10000, 1700000000, &uid), 0);
	CHECK(uid == 1);
	usage_is(st, "alice", 10000, 1, __LINE__);
	CHECK_RC(store_deliver(st, "alice", "INBOX", msg, 10000, 1700000001, &uid), 0);
	CHECK(uid == 2);
	CHECK_RC(store_deliver(st, "alice", "INBOX", msg, 10000, 1700000002, &uid), STORE_EQUOTA);
	usage_is(st, "alice", 20000, 2, __LINE__);
	CHECK_RC(store_deliver(st, "alice", "INBOX", msg, 5000, 1700000003, &uid), 0);
	CHECK(uid == 3);
	usage_is(st, "alice", 25000, 3, __LINE__);
	CHECK_RC(store_deliver(st, "alice", "INBOX", msg, 1, 0, &uid), STORE_EQUOTA);
	CHECK_RC(store_deliver(st, "nobody", "INBOX", msg, 1, 0, &uid), STORE_ENOTFOUND);
	CHECK_RC(store_deliver(st, "alice", "Nope", msg, 1, 0, &uid), STORE_ENOTFOUND);

	/* count quota (2) */
	CHECK_RC(store_deliver(st, "bob", "INBOX", "a\r\n", 3, 0, &uid), 0);
	CHECK_RC(store_deliver(st, "bob", "INBOX", "bb\r\n", 4, 0, &uid), 0);
	CHECK_RC(store_deliver(st, "bob", "INBOX", "c\r\n", 3, 0, &uid), STORE_EQUOTA);
	usage_is(st, "bob", 7, 2, __LINE__);
	CHECK_RC(store_user_set_quota(st, "bob", 0, 3), 0);
	CHECK_RC(store_deliver(st, "bob", "INBOX", "c\r\n", 3, 0, &uid), 0);
	usage_is(st, "bob", 10, 3, __LINE__);

	/* read back in chunks */
	CHECK_RC(store_msg_get(st, mb.id, 1, &m), 0);
	CHECK(m.uid == 1 && m.size == 10000 && m.internaldate == 1700000000 && m.flags == 0 && m.modseq == 1);
	{
		uint64_t off = 0;
		int same = 1, rc;
		while ((rc = store_msg_read(st, mb.id, 1, off, buf, sizeof buf, &got)) == 0 && got > 0) {
			same &= memcmp(buf, msg + off, got) == 0;
			off += got;
		}
		CHECK(rc == 0 && off == 10000 && same);
		CHECK_RC(store_msg_read(st, mb.id, 3, 4990, buf, sizeof buf, &got), 0);
		CHECK(got == 10 && memcmp(buf, msg + 4990, 10) == 0);
		CHECK_RC(store_msg_read(st, mb.id, 99, 0, buf, sizeof buf, &got), STORE_ENOTFOUND);
	}
	n = 0;
	CHECK_RC(store_msg_scan_below(st, mb.id, 0, scan_count, &n), 0);
	CHECK(n == 3);
	n = 0;
	CHECK_RC(store_msg_scan_below(st, mb.id, 3, scan_count, &n), 0);
	CHECK(n == 2);

	/* batch: an aborted batch leaves nothing; run again with the first part only */
	{
		struct store_batch *b;
		uint32_t u1[] = { 1, 77 }, u2[] = { 2, 3 };
		CHECK_RC(store_batch_begin(st, &b), 0);
		CHECK_RC(store_batch_expunge(b, mb.id, u1, 2), 0);
		CHECK_RC(store_batch_expunge(b, mb.id, u2, 2), 0);
		CHECK_RC(store_deliver(st, "alice", "INBOX", msg, 1, 0, &uid), STORE_EBUSY);
		store_batch_abort(b);
		CHECK_RC(store_msg_get(st, mb.id, 1, &m), 0);
		CHECK_RC(store_msg_get(st, mb.id, 3, &m), 0);
		CHECK_RC(store_batch_begin(st, &b), 0);
		CHECK_RC(store_batch_expunge(b, mb.id, u1, 2), 0);
		CHECK_RC(store_batch_end(b), 0);
	}
	usage_is(st, "alice", 15000, 2, __LINE__);
	CHECK_RC(store_msg_get(st, mb.id, 1, &m), STORE_ENOTFOUND);
	CHECK_RC(store_msg_get(st, mb.id, 2, &m), 0);
	CHECK_RC(store_mbox_get(st, u.id, "INBOX", &mb), 0);
	CHECK(mb.count == 2 && mb.bytes == 15000 && mb.uidnext == 4 && mb.highestmodseq == 4);
	/* uids are never reused */
	CHECK_RC(store_deliver(st, "alice", "INBOX", msg, 100, 0, &uid), 0);
	CHECK(uid == 4);
	/* expunge the newest, deliver again: still a fresh uid */
	{
		struct store_batch *b;
		uint32_t u4 = 4;
		CHECK_RC(store_batch_begin(st, &b), 0);
		CHECK_RC(store_batch_expunge(b, mb.id, &u4, 1), 0);
		CHECK_RC(store_batch_end(b), 0);
	}
	CHECK_RC(store_deliver(st, "alice", "INBOX", msg, 100, 0, &uid), 0);
	CHECK(uid == 5);
	usage_is(st, "alice", 15100, 3, __LINE__);

	problems = 0;
	CHECK_RC(store_check(st, 0, count_report, &problems), 0);
	CHECK(problems == 0);

	/* user deletion frees everything; a new user with the same name starts empty */
	CHECK_RC(store_user_del(st, "alice"), 0);
	CHECK_RC(store_user_get(st, "alice", &u), STORE_ENOTFOUND);
	CHECK_RC(store_user_del(st, "alice"), STORE_ENOTFOUND);
	CHECK_RC(store_user_add(st, "alice", "again", 5, 0, 0), 0);
	usage_is(st, "alice", 0, 0, __LINE__);
	{
		struct store_user u2;
		struct store_mbox mb2;
		CHECK_RC(store_user_get(st, "alice", &u2), 0);
		CHECK(u2.id != u.id);
		CHECK_RC(store_mbox_get(st, u2.id, "INBOX", &mb2), 0);
		CHECK(mb2.id != mb.id && mb2.uidvalidity != mb.uidvalidity);
	}
	problems = 0;
	CHECK_RC(store_check(st, 0, count_report, &problems), 0);
	CHECK(problems == 0);
	store_close(st);

	/* reopen: everything persisted */
	o.nosync = 0;
	CHECK_RC(store_open(dir, &o, &st), 0);
	if (!st)
		return;
	usage_is(st, "bob", 10, 3, __LINE__);
	CHECK_RC(store_auth(st, "bob", "hunter2", 7, &u), 0);
	store_close(st);
}

static void test_growth(const char *dir)
{
	struct store_opts o = { .map_size = 64 << 10, .map_max = 1 << 20, .nosync = 1 };
	struct store *st;
	static char msg[50000];
	uint64_t size0, size, max, used;
	uint32_t uid, last = 0;
	int rc, stored = 0, problems = 0;

	memset(msg, 'x', sizeof msg);
	CHECK_RC(store_open(dir, &o, &st), 0);
	if (!st)
		return;
	CHECK_RC(store_mapinfo(st, &size0, &max, &used), 0);
	CHECK(size0 == 64 << 10 && max == 1 << 20);
	CHECK_RC(store_user_add(st, "dave", "pw", 2, 0, 0), 0);
	while ((rc = store_deliver(st, "dave", "INBOX", msg, sizeof msg, 0, &uid)) == 0) {
		stored++;
		last = uid;
	}
	CHECK_RC(rc, STORE_EFULL);
	CHECK_RC(store_mapinfo(st, &size, &max, &used), 0);
	printf("map grew from %llu to %llu bytes; %d messages of %zu bytes before STORE_EFULL\n",
	       (unsigned long long)size0, (unsigned long long)size, stored, sizeof msg);
	CHECK(size == 1 << 20 && stored >= 10);
	usage_is(st, "dave", (uint64_t)stored * sizeof msg, (uint32_t)stored, __LINE__);
	/* still usable: small writes, expunge, then a big one fits again */
	CHECK_RC(store_deliver(st, "dave", "INBOX", "hi\r\n", 4, 0, &uid), 0);
	{
		struct store_batch *b;
		uint32_t uids[] = { 1, 2, 3 };
		CHECK_RC(store_batch_begin(st, &b), 0);
		CHECK_RC(store_batch_expunge(b, 1, uids, 3), 0);
		CHECK_RC(store_batch_end(b), 0);
	}
	/* LMDB reuses pages freed by txn N from txn N+2 on: one small write in between */
	CHECK_RC(store_deliver(st, "dave", "INBOX", "yo\r\n", 4, 0, &uid), 0);
	CHECK_RC(store_deliver(st, "dave", "INBOX", msg, sizeof msg, 0, &uid), 0);
	CHECK(uid == last + 3);
	usage_is(st, "dave", (uint64_t)(stored - 2) * sizeof msg + 8, (uint32_t)stored, __LINE__);
	CHECK_RC(store_check(st, 0, count_report, &problems), 0);
	CHECK(problems == 0);
	store_close(st);

	/* a second open with a smaller initial size keeps working */
	o.map_size = 64 << 10;
	CHECK_RC(store_open(dir, &o, &st), 0);
	if (st) {
		CHECK_RC(store_deliver(st, "dave", "INBOX", "x\r\n", 3, 0, &uid), 0);
		store_close(st);
	}
}

/* A map grown by another process is adopted; filled to map_max, writes fail cleanly and the store stays usable. */
static void test_batch_full(const char *dir)
{
	struct store_opts o = { .map_size = 64 << 10, .map_max = 4 << 20, .nosync = 1 };
	struct store *st;
	struct store_batch *b;
	struct store_mbox mb;
	struct store_user u;
	static char msg[40000];
	uint64_t s1, s2, max;
	uint32_t uid, uids[64];
	int rc, n = 0, problems = 0;
	pid_t pid;

	memset(msg, 'y', sizeof msg);
	CHECK_RC(store_open(dir, &o, &st), 0);
	if (!st)
		return;
	CHECK_RC(store_user_add(st, "erin", "pw", 2, 0, 0), 0);
	/* fill the initial 64 KiB nearly: deliveries that grow it come from another process */
	CHECK_RC(store_mapinfo(st, &s1, &max, NULL), 0);
	pid = fork();
	if (pid == 0) {
		struct store *cs;
		int crc = store_open(dir, &o, &cs);
		for (int i = 0; crc == 0 && i < 20; i++)
			crc = store_deliver(cs, "erin", "INBOX", msg, sizeof msg, 0, &uid);
		store_close(cs);
		_exit(crc ? 1 : 0);
	}
	CHECK(pid > 0 && waitpid(pid, &rc, 0) == pid && WIFEXITED(rc) && WEXITSTATUS(rc) == 0);
	/* this process still has the small map: reads and writes must adopt the new size */
	usage_is(st, "erin", 20 * sizeof msg, 20, __LINE__);
	CHECK_RC(store_deliver(st, "erin", "INBOX", "a\r\n", 3, 0, &uid), 0);
	CHECK(uid == 21);
	CHECK_RC(store_mapinfo(st, &s2, &max, NULL), 0);
	CHECK(s2 > s1);

	CHECK_RC(store_user_get(st, "erin", &u), 0);
	CHECK_RC(store_mbox_get(st, u.id, "INBOX", &mb), 0);
	for (uint32_t i = 0; i < 20; i++)
		uids[i] = i + 1;
	/* expunging touches few pages: it should simply work */
	CHECK_RC(store_batch_begin(st, &b), 0);
	CHECK_RC(store_batch_expunge(b, mb.id, uids, 5), 0);
	CHECK_RC(store_batch_begin(st, &b), STORE_EBUSY);
	CHECK_RC(store_batch_end(&st->batch), 0);   /* b was cleared by the refused begin */
	usage_is(st, "erin", 15 * sizeof msg + 3, 16, __LINE__);

	/* damage counters behind the store's back; check finds them, fix repairs */
	{
		MDB_txn *txn;
		struct store_urec r;
		unsigned char kb[8], vb[4];
		MDB_val k = { 8, kb }, v = { 4, vb };
		CHECK(mdb_txn_begin(st->env, NULL, 0, &txn) == 0);
		CHECK_RC(store_urec_get(st, txn, "erin", &r), 0);
		r.u.used_bytes += 7;
		r.u.used_msgs = 0;
		CHECK_RC(store_urec_put(st, txn, &r), 0);
		store_put64(kb, 21);        /* blob of uid 21 */
		store_put32(vb, 5);
		CHECK(mdb_put(txn, st->blobrefs, &k, &v, 0) == 0);
		CHECK(mdb_txn_commit(txn) == 0);
	}
	CHECK_RC(store_check(st, 0, count_report, &problems), 0);
	CHECK(problems == 2);
	problems = 0;
	CHECK_RC(store_check(st, 1, count_report, &problems), 0);
	CHECK(problems == 2);
	problems = 0;
	CHECK_RC(store_check(st, 0, count_report, &problems), 0);
	CHECK(problems == 0);
	usage_is(st, "erin", 15 * sizeof msg + 3, 16, __LINE__);

	/* fill in a batch until the map is at max: EBUSY (then grown) or EFULL, store usable */
	for (int round = 0; round < 200; round++) {
		rc = store_deliver(st, "erin", "INBOX", msg, sizeof msg, 0, &uid);
		if (rc)
			break;
		n++;
	}
	CHECK_RC(rc, STORE_EFULL);
	CHECK_RC(store_batch_begin(st, &b), 0);
	uids[0] = 21;
	rc = store_batch_expunge(b, mb.id, uids, 1);
	if (rc == 0)
		rc = store_batch_end(b);
	else
		store_batch_abort(b);
	CHECK(rc == 0 || rc == STORE_EFULL);
	problems = 0;
	CHECK_RC(store_check(st, 0, count_report, &problems), 0);
	CHECK(problems == 0);
	store_close(st);
}

int main(void)
{
	char dir[] = "/tmp/pn-store-XXXXXX";
	char sub[64], sub2[64];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(sub, sizeof sub, "%s/data", dir);      /* store_open creates it */
	test_basic(sub);
	snprintf(sub2, sizeof sub2, "%s/grow", dir);
	test_growth(sub2);
	char sub3[64];
	snprintf(sub3, sizeof sub3, "%s/batch", dir);
	test_batch_full(sub3);
	rmtree(sub);
	rmtree(sub2);
	rmtree(sub3);
	rmdir(dir);
	return check_done();
}
