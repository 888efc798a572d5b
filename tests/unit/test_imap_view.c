/*
 * test_imap_view — the shared mailbox views (src/imap_view.c), told as the
 * clients hear them.
 *
 * Every session is a real IMAP session: a connection slot from
 * conn_adopt on one end of a socketpair, imap_ops as its protocol, the
 * real loop turned one step at a time (loop_run_once(0): nothing sleeps)
 * and the group commit at each turn's end, over a real store in a temp
 * directory. The test plays the clients (LOGIN, SELECT, NOOP, IDLE ...)
 * and changes the store as another process would (store_deliver, a
 * store_batch of flag changes or expunges), then tells the daemon the way
 * serve.c does when a notify datagram names the mailbox
 * (imap_ops.mbox_changed). It asserts the lines each client is sent
 * (EXISTS, EXPUNGE, RECENT, FETCH FLAGS, BYE) and, through the view API of
 * imap_int.h, the sequence number <-> index mapping each session sees.
 *
 * Cases: tombstones and expunge generations across three sessions, the
 * compaction once all were told, the per-session seq/index cache across
 * a compaction; the flag-change ring (own changes not echoed, exactly
 * IMAP_FLAG_RING changes behind and one more); \Recent (SELECT claims,
 * EXAMINE and STATUS do not, two read-write sessions told in turn,
 * IMAP_RECENT_RANGES overflow); IDLE woken by new mail and expunges;
 * views kept after the last session (IMAP_VIEW_KEEP, least recently
 * used freed, its \Recent mark written); a mailbox deleted under a session.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "commit.h"
#include "conn.h"
#include "imap_int.h"
#include "loop.h"
#include "store.h"
#include "store_batch.h"
#include "store_mbox.h"
#include "store_msg.h"
#include "store_user.h"
#include "check.h"

static struct store *st;
static uint32_t user_id;

/* --- clients -------------------------------------------------------------- */

struct client {
	int fd;                 /* the client's end of the socketpair */
	struct conn *c;         /* the server's session */
	char buf[1 << 16];      /* what it was sent since the last command */
	size_t len;
	int eof;
};

/* Read what the server sent (never blocks). */
static void cl_read(struct client *k)
{
	for (;;) {
		ssize_t n = read(k->fd, k->buf + k->len, sizeof k->buf - 1 - k->len);
		if (n > 0) {
			k->len += (size_t)n;
			k->buf[k->len] = '\0';
			continue;
		}
		if (n == 0)
			k->eof = 1;
		return;
	}
}

/* Turn the loop until it has been quiet for three turns; read k's output. */
static void settle(struct client *k)
{
	int quiet = 0;

	for (int i = 0; i < 5000 && quiet < 3; i++) {
		size_t before = k ? k->len : 0;
		int rc = loop_run_once(0);
		if (k)
			cl_read(k);
		quiet = rc == 0 && (!k || k->len == before) ? quiet + 1 : 0;
	}
}

/* Has the tagged reply to tag arrived (a whole line)? */
static int tagged(const struct client *k, const char *tag)
{
	size_t tl = strlen(tag);
	const char *p = k->buf;

	while (p && *p) {
		if (!strncmp(p, tag, tl) && p[tl] == ' ' && strstr(p, "\r\n"))
			return 1;
		p = strstr(p, "\r\n");
		if (p)
			p += 2;
	}
	return 0;
}

/* Send one command line (tag first); everything sent back up to its tagged reply
 * (in a buffer the next call reuses). */
static const char *cmd(struct client *k, const char *line)
{
	static char reply[sizeof ((struct client *)0)->buf];
	char tag[32];

	cl_read(k);
	CHECK_MSG(k->len == 0, "no output before the command");
	k->len = 0;
	k->buf[0] = '\0';
	if (sscanf(line, "%31s", tag) != 1)
		return "";
	if (write(k->fd, line, strlen(line)) < 0 || write(k->fd, "\r\n", 2) < 0)
		return "";
	for (int i = 0; i < 5000 && !tagged(k, tag) && !k->eof; i++) {
		loop_run_once(0);
		cl_read(k);
	}
	settle(k);
	memcpy(reply, k->buf, k->len + 1);
	k->len = 0;
	k->buf[0] = '\0';
	return reply;
}

/* What k was sent without a command since the last one (IDLE updates). */
static const char *pushed(struct client *k)
{
	static char copy[sizeof ((struct client *)0)->buf];

	settle(k);
	memcpy(copy, k->buf, k->len + 1);
	k->len = 0;
	k->buf[0] = '\0';
	return copy;
}

/* A new IMAP connection, greeted and logged in as alice. */
static void cl_open(struct client *k)
{
	struct sockaddr_storage peer;
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&peer;
	struct cfg_listen lst = { .proto = CFG_PROTO_IMAP, .tls = CFG_TLS_NONE, .addr = "127.0.0.1", .port = 143 };
	int sv[2];

	memset(k, 0, sizeof *k);
	k->fd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		CHECK_MSG(0, "socketpair");
		return;
	}
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	k->fd = sv[0];
	memset(&peer, 0, sizeof peer);
	sin->sin_family = AF_INET;
	sin->sin_port = htons(50000);
	sin->sin_addr.s_addr = htonl(0x7f000001);
	CHECK_RC(conn_adopt(sv[1], &peer, &lst, &imap_ops, &k->c), 0);
	CHECK(!strncmp(pushed(k), "* OK [CAPABILITY IMAP4rev1 ", 27));
	CHECK(!strncmp(cmd(k, "l LOGIN alice secret"), "l OK ", 5));
}

/* Log out (the session leaves its view) and close the client's end. */
static void cl_close(struct client *k)
{
	if (k->c && k->c->id && !k->eof)
		CHECK(strstr(cmd(k, "z LOGOUT"), "z OK LOGOUT completed\r\n") != NULL);
	settle(k);
	CHECK(k->eof);
	close(k->fd);
	k->fd = -1;
	k->c = NULL;
}

/* The view k's session has selected (the one place the test reads the session struct). */
static struct imap_view *view_of(const struct client *k)
{
	return imap_of(k->c)->sv.v;
}

static uint32_t exists_of(const struct client *k)
{
	return imap_of(k->c)->sv.exists;
}

/*
 * What k numbers its messages: seq i is uids[i - 1]. Checked both ways
 * (imap_view_idx and imap_view_seq) and in an order that makes the
 * per-session cache go forward, back and jump: the highest first (so a
 * cache left from before a compaction would be used if its layout check
 * failed), then up, then down.
 */
static void check_map_at(const struct client *k, const uint32_t *uids, uint32_t n, int line)
{
	struct imap_view *v = view_of(k);
	uint32_t seq, idx;
	int ok = v && exists_of(k) == n;

	for (int pass = 0; ok && pass < 3; pass++) {
		for (uint32_t i = 0; ok && i < n; i++) {
			seq = pass == 0 ? (i == 0 ? n : i) : pass == 1 ? i + 1 : n - i;
			idx = imap_view_idx(k->c, seq);
			ok = idx < v->n && v->e[idx].uid == uids[seq - 1] && imap_view_visible(k->c, idx);
			ok = ok && imap_view_seq(k->c, idx) == seq;
		}
	}
	ok = ok && imap_view_idx(k->c, n + 1) == UINT32_MAX && imap_view_idx(k->c, 0) == UINT32_MAX;
	check_at(ok, __FILE__, line, "the session's seq <-> uid map");
}
#define check_map(k, ...) \
	check_map_at((k), (const uint32_t[]){ __VA_ARGS__ }, \
	             sizeof((const uint32_t[]){ __VA_ARGS__ }) / sizeof(uint32_t), __LINE__)

/* --- the store, changed as another process would ------------------------------ */

static uint32_t mbox_id(const char *name)
{
	struct store_mbox mb;

	return store_mbox_get(st, user_id, name, &mb) == 0 ? mb.id : 0;
}

/* Deliver a small message to name; its UID. */
static uint32_t deliver(const char *name)
{
	static unsigned n;
	char msg[128];
	uint32_t uid = 0;
	int len = snprintf(msg, sizeof msg, "Subject: m%u\r\nFrom: a@b\r\n\r\nbody %u\r\n", n, n);

	n++;
	CHECK_RC(store_deliver(st, "alice", name, msg, (size_t)len, 1700000000, &uid), 0);
	return uid;
}

/* Flags of one message, in a batch of its own. */
static void ext_flags(uint32_t mbox, uint32_t uid, int mode, uint32_t flags)
{
	struct store_batch *b;
	uint32_t nf;
	uint64_t ms;

	CHECK_RC(store_batch_begin(st, &b), 0);
	CHECK_RC(store_batch_flags(b, mbox, uid, mode, flags, &nf, &ms), 0);
	CHECK_RC(store_batch_end(b), 0);
}

static void ext_expunge(uint32_t mbox, uint32_t uid)
{
	struct store_batch *b;

	CHECK_RC(store_batch_begin(st, &b), 0);
	CHECK_RC(store_batch_expunge(b, mbox, &uid, 1), 0);
	CHECK_RC(store_batch_end(b), 0);
}

/* What serve.c does with a notify datagram naming mbox. */
static void notify(uint32_t mbox)
{
	imap_ops.mbox_changed(mbox);
}

/* --- the cases -------------------------------------------------------------- */

/* Tombstones, expunge generations, compaction, the seq map and its cache. */
static void test_expunge(void)
{
	static struct client A, B, C;
	struct imap_view *v;
	uint32_t box;

	CHECK_RC(store_mbox_create(st, user_id, "Exp", NULL), 0);
	box = mbox_id("Exp");
	for (int i = 0; i < 5; i++)
		deliver("Exp");
	cl_open(&A);
	cl_open(&B);
	CHECK(strstr(cmd(&A, "a1 SELECT Exp"), "* 5 EXISTS\r\n* 5 RECENT\r\n") != NULL);
	CHECK(strstr(cmd(&B, "b1 SELECT Exp"), "* 5 EXISTS\r\n* 0 RECENT\r\n") != NULL);
	v = view_of(&A);
	CHECK(v && view_of(&B) == v && v->nsess == 2 && v->n == 5 && v->ntomb == 0);
	check_map(&A, 1, 2, 3, 4, 5);

	/* uid 2 goes (generation 1): a tombstone until both sessions are told */
	ext_expunge(box, 2);
	notify(box);
	CHECK(v->gen == 1 && v->ntomb == 1 && v->n == 5);
	CHECK(imap_updates_pending(A.c) && imap_updates_pending(B.c));
	/* FETCH may not announce it (RFC 3501 7.4.1): B still numbers 5 messages */
	CHECK_STR(cmd(&B, "b2 FETCH 1:* (UID)"),
	          "* 1 FETCH (UID 1)\r\n* 3 FETCH (UID 3)\r\n* 4 FETCH (UID 4)\r\n* 5 FETCH (UID 5)\r\n"
	          "b2 OK [EXPUNGEISSUED] Some messages were already expunged\r\n");
	check_map(&B, 1, 2, 3, 4, 5);
	/* A's cached pair (index 2 = seq 3) is wrong once A is told: nothing
	 * moves in the array, so only forgetting it on the way keeps it right */
	CHECK_RC((int)imap_view_seq(A.c, 2), 3);
	/* uid 2 was \Recent in A: the new count follows (RFC 3501 7.3.2) */
	CHECK_STR(cmd(&A, "a2 NOOP"), "* 2 EXPUNGE\r\n* 4 RECENT\r\na2 OK NOOP completed\r\n");
	CHECK_RC((int)imap_view_seq(A.c, 2), 2);
	CHECK(!imap_updates_pending(A.c));
	check_map(&A, 1, 3, 4, 5);
	CHECK(v->n == 5 && v->ntomb == 1);     /* B has not been told */

	/* uid 4 goes (generation 2); A is told, B still not */
	ext_expunge(box, 4);
	notify(box);
	CHECK(v->gen == 2 && v->ntomb == 2);
	CHECK_STR(cmd(&A, "a3 NOOP"), "* 3 EXPUNGE\r\n* 3 RECENT\r\na3 OK NOOP completed\r\n");
	check_map(&A, 1, 3, 5);
	check_map(&B, 1, 2, 3, 4, 5);

	/* a third session sees no tombstone */
	cl_open(&C);
	CHECK(strstr(cmd(&C, "c1 SELECT Exp"), "* 3 EXISTS\r\n") != NULL);
	check_map(&C, 1, 3, 5);
	CHECK(v->nsess == 3 && v->n == 5);

	/* B hears both generations at once, highest first, and the view compacts */
	CHECK_STR(cmd(&B, "b3 NOOP"), "* 4 EXPUNGE\r\n* 2 EXPUNGE\r\nb3 OK NOOP completed\r\n");
	CHECK(v->n == 3 && v->ntomb == 0);
	check_map(&A, 1, 3, 5);
	check_map(&B, 1, 3, 5);
	check_map(&C, 1, 3, 5);

	/* new mail, told to all */
	for (int i = 0; i < 3; i++)
		deliver("Exp");
	notify(box);
	CHECK(strstr(cmd(&A, "a4 NOOP"), "* 6 EXISTS\r\n") != NULL);
	CHECK(strstr(cmd(&B, "b4 NOOP"), "* 6 EXISTS\r\n") != NULL);
	CHECK(strstr(cmd(&C, "c2 NOOP"), "* 6 EXISTS\r\n") != NULL);
	check_map(&C, 1, 3, 5, 6, 7, 8);

	/* A expunges uid 3 itself (its own EXPUNGE through the group commit):
	 * generation 3, told to A at once and to C; B is not told */
	CHECK_STR(cmd(&A, "a5 STORE 2 +FLAGS.SILENT (\\Deleted)"), "a5 OK STORE completed\r\n");
	CHECK_STR(cmd(&A, "a6 EXPUNGE"), "* 2 EXPUNGE\r\n* 5 RECENT\r\na6 OK EXPUNGE completed\r\n");
	CHECK(v->gen == 3 && v->ntomb == 1);
	CHECK_STR(cmd(&C, "c3 NOOP"), "* 2 EXPUNGE\r\nc3 OK NOOP completed\r\n");
	/* uid 7 goes (generation 4): only A is told */
	ext_expunge(box, 7);
	notify(box);
	CHECK_STR(cmd(&A, "a7 NOOP"), "* 4 EXPUNGE\r\n* 4 RECENT\r\na7 OK NOOP completed\r\n");
	check_map(&A, 1, 5, 6, 8);
	check_map(&B, 1, 3, 5, 6, 7, 8);
	check_map(&C, 1, 5, 6, 7, 8);
	CHECK(v->n == 6 && v->ntomb == 2);
	/* leave cached pairs that the compaction below makes wrong: C's seq 5
	 * at index 5 (uid 8), A's index 2 (uid 5) at seq 2 */
	CHECK(imap_view_idx(C.c, 5) == 5 && imap_view_seq(A.c, 2) == 2);
	/* B is told both: uid 3 can go (all told), uid 7 stays for C; the
	 * entries move, so the cached pairs must not be used */
	CHECK_STR(cmd(&B, "b5 NOOP"), "* 5 EXPUNGE\r\n* 2 EXPUNGE\r\nb5 OK NOOP completed\r\n");
	CHECK(v->n == 5 && v->ntomb == 1);
	CHECK_RC((int)imap_view_idx(C.c, 5), 4);
	CHECK_RC((int)imap_view_seq(A.c, 2), 3);
	check_map(&C, 1, 5, 6, 7, 8);
	check_map(&B, 1, 5, 6, 8);
	check_map(&A, 1, 5, 6, 8);
	/* UID FETCH may announce expunges: C hears of uid 7 with it */
	CHECK_STR(cmd(&C, "c4 UID FETCH 6:* (FLAGS)"),
	          "* 3 FETCH (UID 6 FLAGS ())\r\n* 5 FETCH (UID 8 FLAGS ())\r\n* 4 EXPUNGE\r\n"
	          "c4 OK UID FETCH completed\r\n");
	CHECK(v->n == 4 && v->ntomb == 0);
	check_map(&C, 1, 5, 6, 8);

	cl_close(&A);
	cl_close(&B);
	cl_close(&C);
}

/* The flag-change ring: others' changes told, own ones not echoed, falling behind. */
static void test_flags(void)
{
	static struct client A, B;
	char want[256];
	const char *r;
	struct imap_view *v;
	uint32_t box;
	unsigned lines;

	CHECK_RC(store_mbox_create(st, user_id, "Flags", NULL), 0);
	box = mbox_id("Flags");
	for (int i = 0; i < 3; i++)
		deliver("Flags");
	cl_open(&A);
	cl_open(&B);
	cmd(&A, "a1 SELECT Flags");
	v = view_of(&A);
	CHECK(v && v->ring == NULL);            /* a lone session has nobody to tell */
	cmd(&B, "b1 SELECT Flags");
	CHECK(v->ring != NULL);

	/* a change from outside: both are told, with \Recent where it is theirs */
	ext_flags(box, 2, STORE_FLAGS_ADD, STORE_F_SEEN);
	notify(box);
	CHECK_STR(cmd(&B, "b2 NOOP"), "* 2 FETCH (UID 2 FLAGS (\\Seen))\r\nb2 OK NOOP completed\r\n");
	CHECK_STR(cmd(&A, "a2 NOOP"), "* 2 FETCH (UID 2 FLAGS (\\Seen \\Recent))\r\na2 OK NOOP completed\r\n");

	/* A's own STORE: its FETCH reply once, no echo afterwards; B is told */
	CHECK_STR(cmd(&A, "a3 STORE 1 +FLAGS (\\Flagged)"),
	          "* 1 FETCH (FLAGS (\\Flagged \\Recent))\r\na3 OK STORE completed\r\n");
	CHECK_STR(cmd(&A, "a4 NOOP"), "a4 OK NOOP completed\r\n");
	CHECK_STR(cmd(&B, "b3 NOOP"), "* 1 FETCH (UID 1 FLAGS (\\Flagged))\r\nb3 OK NOOP completed\r\n");
	CHECK_STR(cmd(&A, "a5 STORE 3 +FLAGS.SILENT (\\Deleted)"), "a5 OK STORE completed\r\n");
	CHECK_STR(cmd(&B, "b4 NOOP"), "* 3 FETCH (UID 3 FLAGS (\\Deleted))\r\nb4 OK NOOP completed\r\n");
	/* B's STORE: A is told */
	CHECK_STR(cmd(&B, "b5 STORE 3 -FLAGS.SILENT (\\Deleted)"), "b5 OK STORE completed\r\n");
	CHECK_STR(cmd(&A, "a6 NOOP"), "* 3 FETCH (UID 3 FLAGS (\\Recent))\r\na6 OK NOOP completed\r\n");

	/* exactly IMAP_FLAG_RING changes behind: B is told each from the ring */
	for (unsigned i = 0; i < IMAP_FLAG_RING; i++) {
		ext_flags(box, 2, i % 2 ? STORE_FLAGS_DEL : STORE_FLAGS_ADD, STORE_F_ANSWERED);
		notify(box);
	}
	r = cmd(&B, "b6 NOOP");
	lines = 0;
	for (const char *p = r; (p = strstr(p, "* 2 FETCH (UID 2 FLAGS (\\Seen))\r\n")) != NULL; p++)
		lines++;
	CHECK_RC((int)lines, IMAP_FLAG_RING);
	snprintf(want, sizeof want, "* 2 FETCH (UID 2 FLAGS (\\Seen))\r\nb6 OK NOOP completed\r\n");
	CHECK(strlen(r) == lines * 33 + 22 && !strcmp(r + strlen(r) - strlen(want), want));

	/* one more: B fell behind the ring and is sent the flags of every message */
	for (unsigned i = 0; i <= IMAP_FLAG_RING; i++) {
		ext_flags(box, 2, i % 2 ? STORE_FLAGS_DEL : STORE_FLAGS_ADD, STORE_F_ANSWERED);
		notify(box);
	}
	CHECK_STR(cmd(&B, "b7 NOOP"),
	          "* 1 FETCH (UID 1 FLAGS (\\Flagged))\r\n* 2 FETCH (UID 2 FLAGS (\\Seen \\Answered))\r\n"
	          "* 3 FETCH (UID 3 FLAGS ())\r\nb7 OK NOOP completed\r\n");
	/* so did A, which also hears each message once, with its \Recent */
	CHECK_STR(cmd(&A, "a7 NOOP"),
	          "* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))\r\n* 2 FETCH (UID 2 FLAGS (\\Seen \\Answered \\Recent))\r\n"
	          "* 3 FETCH (UID 3 FLAGS (\\Recent))\r\na7 OK NOOP completed\r\n");

	/* the ring stays while a session is left, goes with the last */
	cl_close(&B);
	CHECK(view_of(&A) == v && v->nsess == 1 && v->ring != NULL);
	CHECK_STR(cmd(&A, "a8 UNSELECT"), "a8 OK UNSELECT completed\r\n");
	CHECK(v->nsess == 0 && v->ring == NULL);   /* kept for the next SELECT, without its ring */
	cl_close(&A);
}

/* \Recent ranges of one session, as a model: the last IMAP_RECENT_RANGES claims. */
struct rmodel {
	uint32_t lo[IMAP_RECENT_RANGES], hi[IMAP_RECENT_RANGES];
	unsigned n;
};

static void rm_claim(struct rmodel *m, uint32_t lo, uint32_t hi)
{
	if (m->n && m->hi[m->n - 1] == lo) {
		m->hi[m->n - 1] = hi;           /* nobody claimed in between */
		return;
	}
	if (m->n == IMAP_RECENT_RANGES) {
		memmove(m->lo, m->lo + 1, (m->n - 1) * sizeof m->lo[0]);
		memmove(m->hi, m->hi + 1, (m->n - 1) * sizeof m->hi[0]);
		m->n--;
	}
	m->lo[m->n] = lo;
	m->hi[m->n] = hi;
	m->n++;
}

static unsigned rm_count(const struct rmodel *m)
{
	unsigned c = 0;

	for (unsigned i = 0; i < m->n; i++)
		c += m->hi[i] - m->lo[i];
	return c;
}

/* \Recent (RFC 3501 2.3.2): claimed by SELECT, shown by EXAMINE and STATUS. */
static void test_recent(void)
{
	static struct client A, B, C, D;
	struct rmodel ma = { { 0 }, { 0 }, 0 }, mb = { { 0 }, { 0 }, 0 };
	char line[128], want[128];
	uint32_t box, last = 3;

	CHECK_RC(store_mbox_create(st, user_id, "Rec", NULL), 0);
	box = mbox_id("Rec");
	for (int i = 0; i < 3; i++)
		deliver("Rec");
	cl_open(&A);
	cl_open(&B);
	cl_open(&C);
	cl_open(&D);
	/* EXAMINE shows the unclaimed messages \Recent and claims none */
	CHECK(strstr(cmd(&C, "c1 EXAMINE Rec"), "* 3 EXISTS\r\n* 3 RECENT\r\n") != NULL);
	CHECK_STR(cmd(&C, "c2 FETCH 1 FLAGS"), "* 1 FETCH (FLAGS (\\Recent))\r\nc2 OK FETCH completed\r\n");
	CHECK(strstr(cmd(&D, "d1 STATUS Rec (RECENT)"), "* STATUS \"Rec\" (RECENT 3)\r\n") != NULL);
	/* SELECT claims them: nobody else sees them \Recent any more */
	CHECK(strstr(cmd(&A, "a1 SELECT Rec"), "* 3 EXISTS\r\n* 3 RECENT\r\n") != NULL);
	rm_claim(&ma, 1, 4);
	CHECK(strstr(cmd(&D, "d2 STATUS Rec (RECENT)"), "(RECENT 0)") != NULL);
	CHECK(strstr(cmd(&B, "b1 SELECT Rec"), "* 3 EXISTS\r\n* 0 RECENT\r\n") != NULL);
	CHECK(strstr(cmd(&D, "d3 EXAMINE Rec"), "* 3 EXISTS\r\n* 0 RECENT\r\n") != NULL);
	CHECK_RC((int)imap_view_recent(A.c), 3);
	CHECK(imap_view_is_recent(A.c, 1) && !imap_view_is_recent(B.c, 1));

	/* new mail, two read-write sessions told in turn: the first told claims
	 * it; each claim after another session's opens a new range; past
	 * IMAP_RECENT_RANGES the oldest range stops being \Recent */
	for (unsigned k = 0; k < 2 * IMAP_RECENT_RANGES + 2; k++) {
		struct client *first = k % 2 ? &A : &B, *second = k % 2 ? &B : &A;
		struct rmodel *mf = k % 2 ? &ma : &mb, *ms = k % 2 ? &mb : &ma;
		uint32_t uid = deliver("Rec");
		CHECK_RC((int)uid, (int)++last);
		notify(box);
		rm_claim(mf, uid, uid + 1);
		snprintf(line, sizeof line, "x%u NOOP", k);
		snprintf(want, sizeof want, "* %u EXISTS\r\n* %u RECENT\r\nx%u OK NOOP completed\r\n", uid,
		         rm_count(mf), k);
		CHECK_STR(cmd(first, line), want);
		snprintf(want, sizeof want, "* %u EXISTS\r\n* %u RECENT\r\nx%u OK NOOP completed\r\n", uid,
		         rm_count(ms), k);
		CHECK_STR(cmd(second, line), want);
		CHECK_RC((int)imap_view_recent(A.c), (int)rm_count(&ma));
		CHECK_RC((int)imap_view_recent(B.c), (int)rm_count(&mb));
	}
	/* the SELECT's range was dropped; the last uid is A's, the one before B's */
	CHECK(ma.lo[0] > 3 && last % 2 == 1);
	CHECK_STR(cmd(&A, "a2 FETCH 1 FLAGS"), "* 1 FETCH (FLAGS ())\r\na2 OK FETCH completed\r\n");
	snprintf(line, sizeof line, "a3 UID FETCH %u:* FLAGS", last - 1);
	snprintf(want, sizeof want, "* %u FETCH (UID %u FLAGS ())\r\n* %u FETCH (UID %u FLAGS (\\Recent))\r\n"
	         "a3 OK UID FETCH completed\r\n", last - 1, last - 1, last, last);
	CHECK_STR(cmd(&A, line), want);
	/* the read-only sessions never claimed: C still shows its first three */
	snprintf(want, sizeof want, "* %u EXISTS\r\n* 3 RECENT\r\nc3 OK NOOP completed\r\n", last);
	CHECK_STR(cmd(&C, "c3 NOOP"), want);
	/* everything is claimed: STATUS and a new EXAMINE show none */
	cl_close(&D);
	cl_open(&D);
	CHECK(strstr(cmd(&D, "d4 STATUS Rec (RECENT)"), "(RECENT 0)") != NULL);
	/* a read-only session told first shows new mail without claiming it */
	deliver("Rec");
	notify(box);
	last++;
	snprintf(want, sizeof want, "* %u EXISTS\r\n* 4 RECENT\r\nc4 OK NOOP completed\r\n", last);
	CHECK_STR(cmd(&C, "c4 NOOP"), want);
	rm_claim(&ma, last, last + 1);
	snprintf(want, sizeof want, "* %u EXISTS\r\n* %u RECENT\r\na4 OK NOOP completed\r\n", last, rm_count(&ma));
	CHECK_STR(cmd(&A, "a4 NOOP"), want);
	cl_close(&A);
	cl_close(&B);
	cl_close(&C);
	cl_close(&D);
}

/* IDLE: new mail and expunges are pushed without a command. */
static void test_idle(void)
{
	static struct client A, B;
	uint32_t box;

	CHECK_RC(store_mbox_create(st, user_id, "Idle", NULL), 0);
	box = mbox_id("Idle");
	deliver("Idle");
	cl_open(&A);
	cl_open(&B);
	cmd(&A, "a1 SELECT Idle");
	cmd(&B, "b1 SELECT Idle");
	CHECK(write(A.fd, "a2 IDLE\r\n", 9) == 9);
	CHECK_STR(pushed(&A), "+ idling\r\n");
	CHECK(view_of(&A)->nidle == 1);
	deliver("Idle");
	notify(box);
	CHECK_STR(pushed(&A), "* 2 EXISTS\r\n* 2 RECENT\r\n");
	/* another session's expunge: IDLE may announce it */
	CHECK_STR(cmd(&B, "b2 STORE 1 +FLAGS.SILENT (\\Deleted)"),
	          "* 2 EXISTS\r\n* 0 RECENT\r\nb2 OK STORE completed\r\n");
	CHECK_STR(pushed(&A), "* 1 FETCH (UID 1 FLAGS (\\Deleted \\Recent))\r\n");
	CHECK_STR(cmd(&B, "b3 EXPUNGE"), "* 1 EXPUNGE\r\nb3 OK EXPUNGE completed\r\n");
	CHECK_STR(pushed(&A), "* 1 EXPUNGE\r\n* 1 RECENT\r\n");
	CHECK(write(A.fd, "DONE\r\n", 6) == 6);
	CHECK_STR(pushed(&A), "a2 OK IDLE terminated\r\n");
	CHECK(view_of(&A)->nidle == 0);
	check_map(&A, 2);
	cl_close(&A);
	cl_close(&B);
}

/* Views without sessions are kept (IMAP_VIEW_KEEP), the least recently used freed. */
static void test_keep(void)
{
	static struct client A;
	char name[16], line[64];
	struct imap_view *v0 = NULL;
	struct store_mbox mb;
	uint32_t kid;

	for (int i = 0; i <= IMAP_VIEW_KEEP + 1; i++) {
		snprintf(name, sizeof name, "K%d", i);
		CHECK_RC(store_mbox_create(st, user_id, name, NULL), 0);
		deliver(name);
	}
	cl_open(&A);
	/* K0 .. K(KEEP-1): each new, then kept without its session */
	for (int i = 0; i < IMAP_VIEW_KEEP; i++) {
		snprintf(line, sizeof line, "s%d SELECT K%d", i, i);
		CHECK(strstr(cmd(&A, line), "* 1 EXISTS\r\n* 1 RECENT\r\n") != NULL);
		CHECK(view_of(&A)->used == 0);         /* made for this SELECT */
		if (i == 0)
			v0 = view_of(&A);
		snprintf(line, sizeof line, "u%d UNSELECT", i);
		cmd(&A, line);
	}
	CHECK(v0->nsess == 0 && v0->used != 0);
	/* mail for a kept view: it is brought up to date at the next SELECT */
	deliver("K0");
	CHECK(strstr(cmd(&A, "a1 SELECT K0"), "* 2 EXISTS\r\n* 1 RECENT\r\n") != NULL);
	CHECK(view_of(&A) == v0 && v0->used != 0);
	cmd(&A, "a2 UNSELECT");
	/* one more kept view than IMAP_VIEW_KEEP: the least recently used (K1) is freed,
	 * and the \Recent mark its SELECT claimed is written to the store first */
	snprintf(line, sizeof line, "a3 SELECT K%d", IMAP_VIEW_KEEP);
	cmd(&A, line);
	cmd(&A, "a4 UNSELECT");
	CHECK(store_mbox_get(st, user_id, "K1", &mb) == 0 && mb.recent_uid == 2);
	CHECK(strstr(cmd(&A, "a5 SELECT K0"), "* 2 EXISTS\r\n* 0 RECENT\r\n") != NULL);
	CHECK(view_of(&A) == v0 && v0->used != 0);   /* still kept */
	cmd(&A, "a6 UNSELECT");
	CHECK(strstr(cmd(&A, "a7 SELECT K1"), "* 1 EXISTS\r\n* 0 RECENT\r\n") != NULL);
	CHECK(view_of(&A)->used == 0);               /* made again */
	cmd(&A, "a8 UNSELECT");

	/* a kept view of a mailbox deleted and created again is not used for the new one */
	snprintf(name, sizeof name, "K%d", IMAP_VIEW_KEEP + 1);
	snprintf(line, sizeof line, "a9 SELECT %s", name);
	CHECK(strstr(cmd(&A, line), "* 1 EXISTS\r\n") != NULL);
	cmd(&A, "a10 UNSELECT");
	kid = mbox_id(name);
	CHECK_RC(store_mbox_delete(st, user_id, name, NULL), 0);
	notify(kid);
	CHECK_RC(store_mbox_create(st, user_id, name, NULL), 0);
	snprintf(line, sizeof line, "a11 SELECT %s", name);
	CHECK(strstr(cmd(&A, line), "* 0 EXISTS\r\n* 0 RECENT\r\n") != NULL);
	CHECK(view_of(&A)->used == 0 && view_of(&A)->mbox == mbox_id(name));
	cl_close(&A);
}

/* A mailbox deleted under a session: BYE (RFC 3501 7.1.5 allows it) and the end. */
static void test_deleted(void)
{
	static struct client A, B;
	uint32_t box;

	CHECK_RC(store_mbox_create(st, user_id, "Gone", NULL), 0);
	box = mbox_id("Gone");
	deliver("Gone");
	cl_open(&A);
	cl_open(&B);
	cmd(&A, "a1 SELECT Gone");
	cmd(&B, "b1 EXAMINE Gone");
	/* deleted by another session of the daemon */
	CHECK_STR(cmd(&A, "a2 DELETE Gone"), "a2 OK DELETE completed\r\n");
	CHECK_STR(cmd(&B, "b2 NOOP"), "* BYE The selected mailbox was deleted\r\nb2 OK NOOP completed\r\n");
	CHECK(B.eof);
	cl_close(&B);
	/* deleted from outside (the CGI, `postnook user del`), told by a datagram */
	CHECK_RC(store_mbox_create(st, user_id, "Gone", NULL), 0);
	box = mbox_id("Gone");
	cmd(&A, "a3 SELECT Gone");
	CHECK_RC(store_mbox_delete(st, user_id, "Gone", NULL), 0);
	notify(box);
	CHECK(view_of(&A)->gone);
	/* UID: a sequence set naming no message of the empty mailbox is BAD */
	CHECK_STR(cmd(&A, "a4 UID FETCH 1:* FLAGS"), "* BYE The selected mailbox was deleted\r\na4 OK UID FETCH completed\r\n");
	CHECK(A.eof);
	cl_close(&A);
}

int main(void)
{
	char dir[] = "/tmp/test_imap_view.XXXXXX";
	struct store_opts o = { .map_size = 1 << 20, .map_max = 64 << 20, .nosync = 1 };
	struct store_user u;
	static struct cfg cfg;

	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(dir) || store_open(dir, &o, &st) != 0) {
		printf("cannot open a store in %s\n", dir);
		return 1;
	}
	CHECK_RC(store_user_add(st, "alice", "secret", 6, 0, 0), 0);
	CHECK_RC(store_user_get(st, "alice", &u), 0);
	user_id = u.id;
	cfg_defaults(&cfg);
	snprintf(cfg.datadir, sizeof cfg.datadir, "%s", dir);
	conn_env.cfg = &cfg;
	conn_env.store = st;
	if (loop_init(32) < 0 || conn_init(16, 0, imap_ops.sess_size) < 0) {
		printf("out of memory\n");
		return 1;
	}
	commit_init(st);
	loop_set_turn_end(commit_run);

	test_expunge();
	test_flags();
	test_recent();
	test_idle();
	test_keep();
	test_deleted();

	CHECK_RC((int)conn_count(-1), 0);
	imap_ops.shutdown();
	store_close(st);
	{
		char cmdline[128];
		snprintf(cmdline, sizeof cmdline, "rm -rf %s", dir);
		if (system(cmdline) != 0)
			printf("could not remove %s\n", dir);
	}
	return check_done();
}
