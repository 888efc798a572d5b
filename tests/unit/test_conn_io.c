/*
 * test_conn_io — the connection layer's input and output rules (src/conn_io.c)
 * driven through the real loop, with a protocol of the test's own.
 *
 * Each case opens a socketpair, hands one end to the connection layer
 * (conn_adopt) and plays the client on the other; the loop runs one turn
 * at a time (loop_run_once with timeout 0), so nothing sleeps. The test
 * protocol records what the layer hands it (lines, raw bytes, over-long
 * lines, closes) and reacts to a tiny command language:
 *   "... {n}"   a literal follows: returns 1 + n (the command is handed again whole)
 *   RAW n       the next n bytes go to ->raw
 *   KEEP        keep the line and stream KEEP_STEPS replies that read it
 *   HOLD        keep the line and hold: no command until the test releases it
 *   DELAY       hold, released by the connection's timer (a failed login's pattern)
 *   BIG n       stream an n-byte reply
 *   MED         a MED_LINE-byte reply queued at once
 *   COMMIT      queue for the group commit (a real store batch)
 *   QUIT        reply and close after the reply is sent
 *   ERR         return <0: the connection closes
 *   anything else: the reply "+LINE\r\n"
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "commit.h"
#include "conn.h"
#include "loop.h"
#include "store.h"
#include "store_batch.h"
#include "check.h"

/* KEEP's reply: KEEP_STEPS lines of KEEP_LINE bytes (a quarter of the output
 * queue, so a line fits whenever the layer asks for more), 32 KiB in all:
 * more than a small socket buffer holds. MED's reply: 3/4 of the queue. */
#define KEEP_LINE (CONN_OUT_SIZE / 4)
#define KEEP_PAD (KEEP_LINE - 7)
#define KEEP_STEPS (32768 / KEEP_LINE)
#define MED_LINE (CONN_OUT_SIZE * 3 / 4)

/* What the protocol was handed, for the current case. */
static struct {
	char lines[4 * CONN_IN_SIZE];   /* each line, then '|' */
	size_t lines_len;
	unsigned nend;              /* too_long calls at the end of an over-long line */
	char tail[CONN_TAIL_MAX + 1], head0;
	unsigned nlines, ntoo_long, nclose, ncommit, ncommitted, ntimer, nstream_bad, nbye;
	unsigned char raw[256];
	size_t raw_len;
	unsigned nraw;
	int committed_err;
	unsigned queued_at_line;        /* ->line found output still queued */
} R;

/* Per-connection state of the test protocol (conn_sess). */
struct tsess {
	int stream;                     /* 0 none, 1 KEEP, 2 BIG */
	unsigned step;
	size_t big_left;
	const char *kept;               /* the kept line, in the input buffer */
	char copy[64];                  /* what it said when kept */
};

static int record_line(const char *line, size_t len)
{
	if (R.lines_len + len + 1 < sizeof R.lines) {
		memcpy(R.lines + R.lines_len, line, len);
		R.lines_len += len;
		R.lines[R.lines_len++] = '|';
		R.lines[R.lines_len] = '\0';
	}
	return (int)++R.nlines;
}

static void t_start(struct conn *c)
{
	conn_printf(c, "hi\r\n");
}

static int t_line(struct conn *c, char *line, size_t len)
{
	struct tsess *s = conn_sess(c);
	unsigned long n;

	if (c->out_len != c->out_off || (c->flags & CONN_F_STREAMING))
		R.queued_at_line++;
	if (strlen(line) != len)
		return -1;
	/* a literal announcement ends the line: the rest comes later */
	if (len > 2 && line[len - 1] == '}') {
		const char *b = strrchr(line, '{');
		if (b && sscanf(b, "{%lu}", &n) == 1) {
			conn_printf(c, "+ go\r\n");
			return 1 + (int)n;
		}
	}
	record_line(line, len);
	if (sscanf(line, "RAW %lu", &n) == 1) {
		conn_expect_raw(c, n);
	} else if (!strcmp(line, "KEEP") || !strcmp(line, "HOLD")) {
		conn_keep_line(c);
		s->kept = line;
		snprintf(s->copy, sizeof s->copy, "%s", line);
		if (line[0] == 'H') {
			conn_hold(c, 1);
		} else {
			s->stream = 1;
			s->step = 0;
			c->flags |= CONN_F_STREAMING;
		}
	} else if (!strcmp(line, "DELAY")) {
		conn_hold(c, 1);
		conn_set_timer(c, 0);
	} else if (sscanf(line, "BIG %lu", &n) == 1) {
		s->stream = 2;
		s->big_left = n;
		c->flags |= CONN_F_STREAMING;
	} else if (!strcmp(line, "MED")) {
		if (conn_printf(c, "%-*s\r\n", MED_LINE - 2, "m") < 0)
			R.queued_at_line++;
	} else if (!strcmp(line, "COMMIT")) {
		commit_queue(c);
	} else if (!strcmp(line, "QUIT")) {
		conn_printf(c, "bye\r\n");
		conn_close_after(c);
	} else if (!strcmp(line, "ERR")) {
		return -1;
	} else if (len < 200) {
		conn_printf(c, "+%s\r\n", line);
	} else {
		conn_printf(c, "+%zu\r\n", len);
	}
	return 0;
}

static int t_raw(struct conn *c, const unsigned char *data, size_t len)
{
	R.nraw++;
	if (R.raw_len + len <= sizeof R.raw) {
		memcpy(R.raw + R.raw_len, data, len);
		R.raw_len += len;
	}
	return 0;
}

/* Counts the overflows (end 0, answered at once, the head's first byte
 * kept) and records each line end's tail (end 1) in R.tail. */
static void t_too_long(struct conn *c, const char *bytes, size_t len, int end)
{
	if (end) {
		R.nend++;
		snprintf(R.tail, sizeof R.tail, "%.*s", (int)len, bytes);
		return;
	}
	R.ntoo_long++;
	R.head0 = len == CONN_IN_SIZE ? bytes[0] : 0;
	conn_printf(c, "-too long\r\n");
}

static int t_stream(struct conn *c)
{
	struct tsess *s = conn_sess(c);

	if (s->stream == 1) {
		/* the kept line must not have moved or changed meanwhile */
		if (strcmp(s->kept, s->copy))
			R.nstream_bad++;
		if (conn_printf(c, "k%03u %-*s\r\n", s->step, KEEP_PAD, s->kept) < 0)
			return 0;
		if (++s->step < KEEP_STEPS)
			return 0;
		s->stream = 0;
		return 1;
	}
	if (s->stream == 2) {
		size_t room, n, i;
		unsigned char *p = conn_stream_buf(c, &room);
		n = room < s->big_left ? room : s->big_left;
		for (i = 0; i < n; i++)
			p[i] = s->big_left - i <= 2 ? (s->big_left - i == 2 ? '\r' : '\n') : 'x';
		conn_stream_commit(c, n);
		s->big_left -= n;
		if (s->big_left)
			return 0;
		s->stream = 0;
		return 1;
	}
	return 1;
}

static int t_commit(struct conn *c, struct store_batch *b)
{
	R.ncommit++;
	return 0;
}

static void t_committed(struct conn *c, int err)
{
	R.ncommitted++;
	R.committed_err = err;
	conn_printf(c, "committed\r\n");
}

static void t_timer(struct conn *c)
{
	R.ntimer++;
	if (c->flags & CONN_F_HOLD) {
		conn_hold(c, 0);
		conn_printf(c, "delayed\r\n");
	}
}

static void t_close(struct conn *c)
{
	R.nclose++;
}

static const char *t_user(const struct conn *c)
{
	return NULL;
}

/* Shutdown's last line: it must come between replies, never inside one. */
static void t_bye(struct conn *c)
{
	R.nbye++;
	if (c->flags & CONN_F_STREAMING)
		R.nstream_bad++;
	conn_printf(c, "* last\r\n");
}

static const struct proto_ops test_ops = {
	.name = "test",
	.sess_size = sizeof(struct tsess),
	.busy = "busy\r\n",
	.start = t_start,
	.line = t_line,
	.raw = t_raw,
	.too_long = t_too_long,
	.stream = t_stream,
	.commit = t_commit,
	.committed = t_committed,
	.timer = t_timer,
	.close = t_close,
	.user = t_user,
	.bye = t_bye,
};

/* --- the client side ------------------------------------------------------ */

static int cfd = -1;              /* the client's end */
static struct conn *cc;           /* the server's connection */
static char out[1 << 19];         /* what the client read */
static size_t out_len;
static int eof;                   /* the client read EOF */

/* Run turns until nothing happens for three turns in a row (at most n turns). */
static void settle(int n)
{
	int quiet = 0;

	while (n-- > 0 && quiet < 3)
		quiet = loop_run_once(0) == 0 ? quiet + 1 : 0;
}

/* Read what the server sent so far (never blocks). */
static void drain(void)
{
	for (;;) {
		ssize_t n = read(cfd, out + out_len, sizeof out - 1 - out_len);
		if (n > 0) {
			out_len += (size_t)n;
			out[out_len] = '\0';
			continue;
		}
		if (n == 0)
			eof = 1;
		return;
	}
}

/* Settle, then read: what a client would have seen by now. */
static void settle_drain(void)
{
	for (int i = 0; i < 100; i++) {
		size_t before = out_len;
		settle(1000);
		drain();
		if (out_len == before)
			return;
	}
}

/* Write all of len bytes, running turns while the socket is full. */
static void send_bytes(const void *p, size_t len)
{
	const char *s = p;

	while (len) {
		ssize_t n = write(cfd, s, len);
		if (n < 0 && errno == EAGAIN) {
			loop_run_once(0);
			drain();
			continue;
		}
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

static void send_str(const char *s)
{
	send_bytes(s, strlen(s));
}

/* A fresh connection: the record cleared, the greeting read. 0 or -1. */
static int open_conn(void)
{
	struct sockaddr_storage peer;
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&peer;
	struct cfg_listen lst = { .proto = CFG_PROTO_IMAP, .tls = CFG_TLS_NONE, .addr = "127.0.0.1", .port = 143 };
	int sv[2], rc;

	memset(&R, 0, sizeof R);
	out_len = 0;
	out[0] = '\0';
	eof = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -1;
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	cfd = sv[0];
	memset(&peer, 0, sizeof peer);
	sin->sin_family = AF_INET;
	sin->sin_port = htons(40000);
	sin->sin_addr.s_addr = htonl(0x7f000001);
	rc = conn_adopt(sv[1], &peer, &lst, &test_ops, &cc);
	CHECK_RC(rc, 0);
	if (rc < 0)
		return -1;
	settle_drain();
	CHECK_STR(out, "hi\r\n");
	out_len = 0;
	out[0] = '\0';
	return 0;
}

static void close_conn(void)
{
	if (conn_count(-1))
		conn_close_all();
	close(cfd);
	cfd = -1;
	cc = NULL;
}

/* --- the cases ------------------------------------------------------------ */

/* Forget what was handed over and read so far (the connection stays). */
static void rec_clear(void)
{
	R.lines_len = 0;
	R.lines[0] = '\0';
	R.nlines = R.ntoo_long = R.nend = 0;
	R.tail[0] = R.head0 = 0;
	out_len = 0;
	out[0] = '\0';
}

/* Make the server's socket buffer small, so that a client that does not read blocks it soon. */
static void small_sndbuf(void)
{
	int small = 4096;

	setsockopt(cc->lfd.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
}

/* KEEP's whole reply, as the client reads it. */
static size_t keep_reply(char *buf, size_t cap)
{
	size_t n = 0;

	for (unsigned i = 0; i < KEEP_STEPS && n < cap; i++)
		n += (size_t)snprintf(buf + n, cap - n, "k%03u %-*s\r\n", i, KEEP_PAD, "KEEP");
	return n;
}

static void test_lines(void)
{
	/* CRLF and bare LF end a line; an empty line is a line; a CR alone is not */
	if (open_conn())
		return;
	send_str("one\r\ntwo\n\r\nthr\ree\r\n");
	settle_drain();
	CHECK_STR(R.lines, "one|two||thr\ree|");
	CHECK_STR(out, "+one\r\n+two\r\n+\r\n+thr\ree\r\n");
	/* a line split across many writes, a turn after each byte */
	rec_clear();
	for (const char *p = "split across writes\r\n"; *p; p++) {
		send_bytes(p, 1);
		loop_run_once(0);
	}
	settle_drain();
	CHECK_STR(R.lines, "split across writes|");
	CHECK_STR(out, "+split across writes\r\n");
	/* the CR of a CRLF in one write, its LF in the next */
	rec_clear();
	send_str("cr\r");
	settle(50);
	CHECK_RC((int)R.nlines, 0);
	send_str("\n");
	settle(50);
	CHECK_STR(R.lines, "cr|");
	CHECK_RC((int)R.queued_at_line, 0);
	close_conn();
}

static void test_too_long(void)
{
	static char big[3 * CONN_IN_SIZE + 64];

	if (open_conn())
		return;
	/* the longest line that fits: CONN_IN_SIZE bytes with its CRLF */
	memset(big, 'a', CONN_IN_SIZE - 2);
	memcpy(big + CONN_IN_SIZE - 2, "\r\n", 2);
	send_bytes(big, CONN_IN_SIZE);
	settle_drain();
	CHECK_RC((int)R.nlines, 1);
	CHECK_RC((int)R.ntoo_long, 0);
	CHECK_RC((int)R.lines_len, CONN_IN_SIZE - 2 + 1);
	/* one byte more does not fit: discarded up to its end, reported once, the session goes on */
	rec_clear();
	memset(big, 'b', CONN_IN_SIZE - 1);
	memcpy(big + CONN_IN_SIZE - 1, "\r\nnext\r\n", 8);
	send_bytes(big, CONN_IN_SIZE - 1 + 8);
	settle_drain();
	CHECK_RC((int)R.ntoo_long, 1);
	CHECK_RC((int)R.nend, 1);
	CHECK_RC(R.head0, 'b');
	CHECK_STR(R.tail, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	CHECK_STR(R.lines, "next|");
	CHECK_STR(out, "-too long\r\n+next\r\n");
	/* a line of three buffers, in pieces with turns between: still one report */
	rec_clear();
	memset(big, 'c', sizeof big);
	for (size_t off = 0; off < 3 * CONN_IN_SIZE; off += 1000) {
		send_bytes(big + off, 3 * CONN_IN_SIZE - off < 1000 ? 3 * CONN_IN_SIZE - off : 1000);
		loop_run_once(0);
	}
	send_str("{12+}\r\nafter\r\n");
	settle_drain();
	CHECK_RC((int)R.ntoo_long, 1);
	/* the end's last bytes survive the pieces: a literal it announces can be seen */
	CHECK_RC((int)R.nend, 1);
	CHECK_STR(R.tail, "ccccccccccccccccccccccccccc{12+}");
	CHECK_STR(R.lines, "after|");
	CHECK_STR(out, "-too long\r\n+after\r\n");
	CHECK_RC((int)conn_count(-1), 1);
	close_conn();
}

static void test_literal(void)
{
	static char lit[CONN_IN_SIZE];
	char head[32];
	size_t hl, n;

	if (open_conn())
		return;
	/* the command is handed again whole once the literal and the next line are in */
	send_str("A {5}\r\n");
	settle_drain();
	CHECK_RC((int)R.nlines, 0);
	CHECK_STR(out, "+ go\r\n");
	send_str("he\nlo");                      /* the literal may hold a LF */
	settle(100);
	CHECK_RC((int)R.nlines, 0);
	send_str(" B");
	settle(100);
	CHECK_RC((int)R.nlines, 0);
	send_str("\r\nnext\r\n");
	settle_drain();
	CHECK_STR(R.lines, "A {5}\r\nhe\nlo B|next|");
	/* two literals in one command, all in one write */
	rec_clear();
	send_str("C {2}\r\nxy {3}\r\nabc D\r\n");
	settle_drain();
	CHECK_STR(R.lines, "C {2}\r\nxy {3}\r\nabc D|");
	CHECK_STR(out, "+ go\r\n+ go\r\n+C {2}\r\nxy {3}\r\nabc D\r\n");
	/* a literal that cannot fit the input buffer closes the connection */
	rec_clear();
	send_str("E {9000}\r\n");
	settle_drain();
	CHECK_RC((int)R.nlines, 0);
	CHECK_RC((int)R.nclose, 1);
	CHECK_RC((int)conn_count(-1), 0);
	CHECK(eof);
	close_conn();

	/* the largest literal that fits: the line, the literal and a CRLF fill the buffer */
	if (open_conn())
		return;
	hl = (size_t)snprintf(head, sizeof head, "F {%d}\r\n", CONN_IN_SIZE - 10);
	n = CONN_IN_SIZE - hl - 2;
	snprintf(head, sizeof head, "F {%zu}\r\n", n);
	CHECK_RC((int)strlen(head), (int)hl);
	send_str(head);
	memset(lit, 'L', n);
	send_bytes(lit, n);
	send_str("\r\n");
	settle_drain();
	CHECK_RC((int)R.nlines, 1);
	CHECK_RC((int)R.lines_len, CONN_IN_SIZE - 2 + 1);
	CHECK_RC((int)R.nclose, 0);
	/* one byte more closes */
	snprintf(head, sizeof head, "G {%zu}\r\n", n + 1);
	send_str(head);
	settle_drain();
	CHECK_RC((int)R.nclose, 1);
	CHECK(eof);
	close_conn();
}

static void test_keep_hold(void)
{
	static char want[KEEP_STEPS * KEEP_LINE + 64];
	struct tsess *s;
	size_t wl;

	if (open_conn())
		return;
	/* KEEP: the line stays put while its stream waits for the client and more input arrives */
	small_sndbuf();
	s = conn_sess(cc);
	send_str("KEEP\r\n");
	settle(200);
	CHECK(cc->flags & CONN_F_STREAMING);
	send_str("x1\r\nx2\r\n");
	settle(200);
	CHECK_STR(R.lines, "KEEP|");            /* nothing taken while the reply streams */
	CHECK(s->kept == (const char *)cc->in && !strcmp(s->kept, "KEEP"));
	CHECK(cc->in_len > 6);                  /* x1 and x2 wait behind it */
	settle_drain();
	wl = keep_reply(want, sizeof want);
	memcpy(want + wl, "+x1\r\n+x2\r\n", 11);
	CHECK_RC((int)out_len, (int)wl + 10);
	CHECK(!strcmp(out, want));
	CHECK_RC((int)R.nstream_bad, 0);
	CHECK_STR(R.lines, "KEEP|x1|x2|");
	/* HOLD: no command is taken while held; the kept line stays at the front */
	rec_clear();
	send_str("HOLD\r\ny1\r\ny2\r\n");
	settle_drain();
	CHECK_STR(R.lines, "HOLD|");
	CHECK(cc->flags & CONN_F_HOLD);
	CHECK(s->kept == (const char *)cc->in && !strcmp(s->kept, "HOLD"));
	/* released: the next commands are taken (conn_kick: on the next turn) */
	conn_hold(cc, 0);
	conn_kick(cc);
	settle_drain();
	CHECK_STR(R.lines, "HOLD|y1|y2|");
	CHECK_STR(out, "+y1\r\n+y2\r\n");
	/* DELAY: held until the connection's timer fires, then the rest goes on */
	rec_clear();
	send_str("DELAY\r\nz1\r\n");
	loop_run_once(0);
	CHECK_STR(R.lines, "DELAY|");
	CHECK_RC((int)R.ntimer, 0);
	settle_drain();
	CHECK_RC((int)R.ntimer, 1);
	CHECK_STR(R.lines, "DELAY|z1|");
	CHECK_STR(out, "delayed\r\n+z1\r\n");
	close_conn();
}

static void test_raw(void)
{
	if (open_conn())
		return;
	/* RAW 10: the next 10 bytes go to ->raw whatever they hold, then lines again */
	send_str("RAW 10\r\n0123\n");
	settle(100);
	send_str("56789tail\r\n");
	settle_drain();
	CHECK(R.raw_len == 10 && !memcmp(R.raw, "0123\n56789", 10));
	CHECK(R.nraw >= 2);
	CHECK_STR(R.lines, "RAW 10|tail|");
	/* raw bytes in the same write as the command; RAW 0 asks for nothing */
	rec_clear();
	R.raw_len = 0;
	send_str("RAW 3\r\nabcRAW 0\r\nend\r\n");
	settle_drain();
	CHECK(R.raw_len == 3 && !memcmp(R.raw, "abc", 3));
	CHECK_STR(R.lines, "RAW 3|RAW 0|end|");
	close_conn();
}

static void test_backpressure(void)
{
	static char want[KEEP_STEPS * KEEP_LINE + 64];
	size_t total = 0, lf = 0, wl;

	if (open_conn())
		return;
	/* a client that sends 20 commands at once and reads nothing */
	small_sndbuf();
	for (int i = 0; i < 20; i++) {
		send_str("BIG 3000\r\n");
		total += 3000;
	}
	settle(2000);
	CHECK(R.nlines >= 1 && R.nlines < 20);
	CHECK_RC((int)R.queued_at_line, 0);
	/* the client reads: every command is taken, in order, never with a reply queued */
	for (int i = 0; i < 10000 && out_len < total; i++) {
		loop_run_once(0);
		drain();
	}
	settle_drain();
	CHECK_RC((int)R.nlines, 20);
	CHECK_RC((int)out_len, (int)total);
	for (size_t i = 0; i < out_len; i++)
		lf += out[i] == '\n';
	CHECK_RC((int)lf, 20);
	CHECK_RC((int)R.queued_at_line, 0);
	/* the same with replies queued whole in the output queue */
	rec_clear();
	for (int i = 0; i < 40; i++)
		send_str("MED\r\n");
	settle(2000);
	CHECK(R.nlines >= 1 && R.nlines < 40);
	for (int i = 0; i < 10000 && out_len < 40 * MED_LINE; i++) {
		loop_run_once(0);
		drain();
	}
	settle_drain();
	CHECK_RC((int)R.nlines, 40);
	CHECK_RC((int)out_len, 40 * MED_LINE);
	CHECK_RC((int)R.queued_at_line, 0);
	/* commands pipelined behind a streamed reply are taken after it, QUIT's close last */
	rec_clear();
	send_str("KEEP\r\nQUIT\r\nnever\r\n");
	for (int i = 0; i < 1000 && !eof; i++) {
		loop_run_once(0);
		drain();
	}
	wl = keep_reply(want, sizeof want);
	memcpy(want + wl, "bye\r\n", 6);
	CHECK(!strcmp(out, want));
	CHECK_STR(R.lines, "KEEP|QUIT|");
	CHECK(eof);
	CHECK_RC((int)R.nclose, 1);
	CHECK_RC((int)R.queued_at_line, 0);
	close_conn();
}

static void test_eof_and_errors(void)
{
	/* EOF: the complete lines before it are answered, a partial one is dropped */
	if (open_conn())
		return;
	send_str("a\r\nb\r\npartial");
	shutdown(cfd, SHUT_WR);
	settle_drain();
	CHECK_STR(R.lines, "a|b|");
	CHECK_STR(out, "+a\r\n+b\r\n");
	CHECK(eof);
	CHECK_RC((int)R.nclose, 1);
	CHECK_RC((int)conn_count(-1), 0);
	close_conn();
	/* EOF from a client that still reads (it shut its sending side only):
	 * a long reply goes out whole, then the replies to the commands sent
	 * before the EOF, then the close */
	if (open_conn())
		return;
	small_sndbuf();
	send_str("BIG 300000\r\nafter\r\n");
	shutdown(cfd, SHUT_WR);
	for (int i = 0; i < 100000 && !eof; i++) {
		loop_run_once(0);
		if (i % 4 == 0)         /* a slow reader */
			drain();
	}
	CHECK(eof);
	CHECK_RC((int)out_len, 300000 + 8);
	CHECK(out_len > 8 && !strcmp(out + out_len - 8, "+after\r\n"));
	CHECK_STR(R.lines, "BIG 300000|after|");
	CHECK_RC((int)R.nclose, 1);
	close_conn();
	/* EOF behind a group commit: the commit runs (a real store batch), its
	 * reply and the pipelined command's go out, then the connection closes */
	if (open_conn())
		return;
	send_str("COMMIT\r\nafter\r\n");
	shutdown(cfd, SHUT_WR);
	settle_drain();
	CHECK_RC((int)R.ncommit, 1);
	CHECK_RC((int)R.ncommitted, 1);
	CHECK_RC(R.committed_err, 0);
	CHECK_STR(R.lines, "COMMIT|after|");
	CHECK_STR(out, "committed\r\n+after\r\n");
	CHECK(eof);
	CHECK_RC((int)R.nclose, 1);
	close_conn();
	/* a protocol error closes the connection at once; later commands are not taken */
	if (open_conn())
		return;
	send_str("ok\r\nERR\r\nafter\r\n");
	settle_drain();
	CHECK_STR(R.lines, "ok|ERR|");
	CHECK(eof);
	CHECK_RC((int)R.nclose, 1);
	close_conn();
	/* the peer goes away entirely */
	if (open_conn())
		return;
	send_str("x\r\n");
	close(cfd);
	cfd = -1;
	settle(100);
	CHECK_RC((int)R.nclose, 1);
	CHECK_RC((int)conn_count(-1), 0);
	close_conn();
}

/* Shutdown (conn_bye_all): no command is taken any more; the protocol's
 * last line goes out after the reply in progress, then the close. */
static void test_bye(void)
{
	/* between commands; a pipelined command is not taken */
	if (open_conn())
		return;
	send_str("a\r\n");
	settle_drain();
	conn_bye_all();
	send_str("b\r\n");
	settle_drain();
	CHECK_STR(out, "+a\r\n* last\r\n");
	CHECK_STR(R.lines, "a|");
	CHECK(eof);
	CHECK_RC((int)R.nbye, 1);
	CHECK_RC((int)R.nclose, 1);
	close_conn();
	/* in the middle of a long reply that the client reads slowly: the
	 * reply is finished first, then the last line */
	if (open_conn())
		return;
	small_sndbuf();
	send_str("BIG 300000\r\n");
	for (int i = 0; i < 20; i++)
		loop_run_once(0);
	CHECK(cc->flags & CONN_F_STREAMING);
	conn_bye_all();
	for (int i = 0; i < 100000 && !eof; i++) {
		loop_run_once(0);
		if (i % 4 == 0)
			drain();
	}
	CHECK(eof);
	CHECK_RC((int)out_len, 300000 + 8);
	CHECK(out_len > 8 && !strcmp(out + out_len - 8, "* last\r\n"));
	CHECK_RC((int)R.nbye, 1);
	CHECK_RC((int)R.nstream_bad, 0);
	close_conn();
	/* held (a delayed answer pending): the delay's timer no longer fires */
	if (open_conn())
		return;
	send_str("HOLD\r\n");
	settle_drain();
	conn_bye_all();
	settle_drain();
	CHECK_STR(out, "* last\r\n");
	CHECK(eof);
	CHECK_RC((int)R.ntimer, 0);
	close_conn();
	/* after QUIT (its reply is its last word): nothing more */
	if (open_conn())
		return;
	small_sndbuf();
	send_str("BIG 300000\r\nQUIT\r\n");
	for (int i = 0; i < 100000 && !(cc->flags & CONN_F_CLOSE_AFTER); i++) {
		loop_run_once(0);
		drain();
	}
	conn_bye_all();
	for (int i = 0; i < 100000 && !eof; i++) {
		loop_run_once(0);
		drain();
	}
	CHECK(eof);
	CHECK(out_len > 5 && !strcmp(out + out_len - 5, "bye\r\n"));
	CHECK_RC((int)R.nbye, 0);
	close_conn();
}

int main(void)
{
	char dir[] = "/tmp/test_conn_io.XXXXXX";
	struct store_opts o = { .map_size = 1 << 20, .map_max = 16 << 20, .nosync = 1 };
	struct store *st = NULL;
	static struct cfg cfg;

	if (!mkdtemp(dir) || store_open(dir, &o, &st) != 0) {
		printf("cannot open a store in %s\n", dir);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);        /* as the daemon: a closed peer is an error return */
	cfg_defaults(&cfg);
	conn_env.cfg = &cfg;
	conn_env.store = st;
	if (loop_init(16) < 0 || conn_init(4, 0, test_ops.sess_size) < 0) {
		printf("out of memory\n");
		return 1;
	}
	commit_init(st);
	loop_set_turn_end(commit_run);

	test_lines();
	test_too_long();
	test_literal();
	test_keep_hold();
	test_raw();
	test_backpressure();
	test_eof_and_errors();
	test_bye();

	store_close(st);
	{
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		if (system(cmd) != 0)
			printf("could not remove %s\n", dir);
	}
	return check_done();
}
