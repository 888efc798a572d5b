/* pop3 — POP3 sessions: a state enum, a command table, and body streaming. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commit.h"
#include "conn.h"
#include "log.h"
#include "login.h"
#include "pop3.h"
#include "sasl.h"
#include "store.h"
#include "store_batch.h"
#include "store_mbox.h"
#include "store_msg.h"
#include "store_user.h"

#if CONFIG_POP3

enum pop3_state {
	POP3_AUTH,          /* AUTHORIZATION: before login */
	POP3_AUTH_SASL,     /* waiting for the SASL PLAIN response line */
	POP3_TRANS,         /* TRANSACTION */
	POP3_UPDATE,        /* QUIT received, deletes being committed */
};

struct pop3_sess {
	enum pop3_state state;
	char user[65];                /* name given by USER */
	uint32_t user_id;
	uint32_t mbox;                /* INBOX id */
	uint32_t uidvalidity;
	uint32_t nmsgs;               /* messages in the snapshot */
	uint32_t *uids;               /* snapshot: UIDs in order (heap, at login) */
	uint32_t *sizes;              /* their sizes */
	uint8_t *deleted;             /* bitmap, nmsgs bits */
	uint32_t ndeleted;
	uint64_t total, deleted_bytes;
	uint32_t nretr;
	unsigned failures;            /* failed logins on this connection */
	/* Body streaming (RETR/TOP). */
	uint32_t st_uid;              /* RETR/TOP: the message; LIST/UIDL: next index */
	uint64_t st_off, st_size;
	int st_kind;                  /* what is being streamed (pop3.c's ST_*) */
	long st_top;                  /* TOP: body lines still to send; -1 = all */
	uint32_t st_linelen;          /* bytes (CR excluded) in the current line so far */
	uint8_t st_bol;               /* at the beginning of a line */
	uint8_t st_inbody;            /* past the header/body separator */
	uint8_t st_cr;                /* last byte seen was CR */
};

/* The POP3 session of connection c. */
static struct pop3_sess *pop3_of(const struct conn *c)
{
	return conn_sess(c);
}

/* What the stream callback is producing. */
enum { ST_NONE, ST_LIST, ST_UIDL, ST_BODY };

/* Sessions in TRANSACTION state, for [IN-USE] (RFC 2449/3206). */
static struct conn **trans;       /* grows with peak sessions; never on the hot path */
static size_t ntrans, trans_cap;

static int trans_add(struct conn *c)
{
	if (ntrans == trans_cap) {
		size_t cap = trans_cap ? trans_cap * 2 : 16;
		struct conn **n = realloc(trans, cap * sizeof *n);
		if (!n)
			return -ENOMEM;
		trans = n;
		trans_cap = cap;
	}
	trans[ntrans++] = c;
	return 0;
}

static void trans_del(struct conn *c)
{
	size_t i;

	for (i = 0; i < ntrans; i++)
		if (trans[i] == c) {
			trans[i] = trans[--ntrans];
			return;
		}
}

static int in_use(uint32_t user_id)
{
	size_t i;

	for (i = 0; i < ntrans; i++)
		if (pop3_of(trans[i])->user_id == user_id)
			return 1;
	return 0;
}

/* Queue a one-line reply; the queue is empty when a command is taken, so it fits. */
#define reply(c, ...) conn_printf((c), __VA_ARGS__)

static void snapshot_free(struct pop3_sess *s)
{
	free(s->uids);
	free(s->sizes);
	free(s->deleted);
	s->uids = s->sizes = NULL;
	s->deleted = NULL;
	s->nmsgs = 0;
}

static int is_deleted(const struct pop3_sess *s, uint32_t i)
{
	return s->deleted[i / 8] >> (i % 8) & 1;
}

struct snap {
	struct pop3_sess *s;
	uint32_t cap;
};

static int snap_add(void *arg, const struct store_msg *m)
{
	struct snap *sn = arg;
	struct pop3_sess *s = sn->s;

	if (s->nmsgs == sn->cap) {
		uint32_t cap = sn->cap ? sn->cap * 2 : 64;
		uint32_t *u = realloc(s->uids, cap * sizeof *u);
		if (!u)
			return -ENOMEM;
		s->uids = u;
		u = realloc(s->sizes, cap * sizeof *u);
		if (!u)
			return -ENOMEM;
		s->sizes = u;
		sn->cap = cap;
	}
	s->uids[s->nmsgs] = m->uid;
	s->sizes[s->nmsgs] = m->size > UINT32_MAX ? UINT32_MAX : (uint32_t)m->size;
	s->total += m->size;
	s->nmsgs++;
	return 0;
}

/* Take the maildrop snapshot: every INBOX message present at login. */
static int snapshot_take(struct pop3_sess *s)
{
	struct store_mbox mb;
	struct snap sn = { s, 0 };
	int rc;

	rc = store_mbox_get(conn_env.store, s->user_id, "INBOX", &mb);
	if (rc < 0)
		return rc;
	s->mbox = mb.id;
	s->uidvalidity = mb.uidvalidity;
	s->total = 0;
	rc = store_msg_scan_below(conn_env.store, mb.id, mb.uidnext, snap_add, &sn);
	if (rc == 0) {
		s->deleted = calloc(s->nmsgs / 8 + 1, 1);
		if (!s->deleted)
			rc = -ENOMEM;
	}
	if (rc < 0)
		snapshot_free(s);
	return rc;
}

/* Parse a message number argument: 1..nmsgs, not deleted. -1 on error (reply sent). */
static long msgno(struct conn *c, const char *arg)
{
	struct pop3_sess *s = pop3_of(c);
	unsigned long long n;

	if (cfg_parse_uint(arg, 1, UINT32_MAX, &n) < 0 || n > s->nmsgs) {
		reply(c, "-ERR No such message\r\n");
		return -1;
	}
	if (is_deleted(s, (uint32_t)n - 1)) {
		reply(c, "-ERR Message %llu is deleted\r\n", n);
		return -1;
	}
	return (long)n - 1;
}

static void greeting(struct conn *c)
{
	pop3_of(c)->state = POP3_AUTH;
	reply(c, "+OK postnook POP3 server ready\r\n");
	login_timer(c);
}

/* --- AUTHORIZATION ------------------------------------------------- */

static int pop3_cmd_capa(struct conn *c, struct pop3_parsed *p)
{
	struct pop3_sess *s = pop3_of(c);
	int auth = s->state == POP3_AUTH;
	int plain = conn_plain_ok(c, conn_env.cfg->plaintext);

	reply(c, "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
	         "PIPELINING\r\n%s%s%sIMPLEMENTATION postnook\r\n.\r\n",
	      auth && plain ? "USER\r\nSASL PLAIN\r\n" : "",
	      auth && !c->tls && c->lst->tls == CFG_TLS_STARTTLS && conn_env.creds ? "STLS\r\n" : "",
	      auth ? "" : "EXPIRE NEVER\r\n");
	return 0;
}

/* Refuse a password on a connection the policy does not allow. 1 if refused. */
static int plain_refused(struct conn *c)
{
	int rc = login_plain_check(c);

	if (rc == LOGIN_ESTARTTLS)
		reply(c, "-ERR [AUTH] Passwords are not accepted before encryption: use STLS first\r\n");
	else if (rc < 0)
		reply(c, "-ERR [AUTH] Passwords are not accepted on this unencrypted port: use the TLS port\r\n");
	return rc < 0;
}

static int pop3_cmd_user(struct conn *c, struct pop3_parsed *p)
{
	struct pop3_sess *s = pop3_of(c);

	if (plain_refused(c))
		return 0;
	if (strlen(p->args[0]) >= sizeof s->user) {
		reply(c, "-ERR [AUTH] Invalid user name or password\r\n");
		return 0;
	}
	strcpy(s->user, p->args[0]);
	reply(c, "+OK Send your password\r\n");
	return 0;
}

/*
 * Check a user name and password (in AUTHORIZATION state); answers now
 * (signed in, refused) or after a delay (failure). Signed in, the session
 * moves to TRANSACTION with its maildrop snapshot.
 */
static int login(struct conn *c, const char *name, const char *pass, size_t passlen)
{
	struct pop3_sess *s = pop3_of(c);
	struct store_user u;
	int rc;

	rc = login_check(c, name, pass, passlen, &s->failures, &u);
	if (rc == STORE_EAUTH) {
		s->user[0] = '\0';      /* PASS needs a new USER; pop3_timer answers */
		return 0;
	}
	if (rc < 0) {
		reply(c, "-ERR [SYS/TEMP] The mail store is not available; try again later\r\n");
		return 0;
	}
	if (in_use(u.id)) {
		conn_log(c, LOG_LVL_INFO, "user '%s' refused: maildrop in use", u.name);
		reply(c, "-ERR [IN-USE] Your mailbox is open in another POP3 session\r\n");
		return 0;
	}
	s->user_id = u.id;
	snprintf(s->user, sizeof s->user, "%s", u.name);
	rc = snapshot_take(s);
	if (rc == 0)
		rc = trans_add(c);
	if (rc < 0) {
		snapshot_free(s);
		conn_log(c, LOG_LVL_ERR, "cannot open maildrop of '%s': %s", u.name, store_strerror(rc));
		reply(c, "-ERR [SYS/TEMP] Cannot open your mailbox now; try again later\r\n");
		return 0;
	}
	s->state = POP3_TRANS;
	conn_log(c, LOG_LVL_INFO, "login user '%s'%s, %" PRIu32 " messages", u.name,
	         c->tls ? " (tls)" : "", s->nmsgs);
	reply(c, "+OK Logged in: %" PRIu32 " messages (%" PRIu64 " octets)\r\n", s->nmsgs, s->total);
	conn_set_timer(c, (int64_t)conn_env.cfg->pop3_timeout * 1000);
	return 0;
}

static int pop3_cmd_pass(struct conn *c, struct pop3_parsed *p)
{
	struct pop3_sess *s = pop3_of(c);

	if (!s->user[0]) {
		reply(c, "-ERR Send USER first\r\n");
		return 0;
	}
	return login(c, s->user, p->args[0], strlen(p->args[0]));
}

/* Decode and check a SASL PLAIN response line. */
static int sasl_plain(struct conn *c, const char *b64, size_t len)
{
	unsigned char msg[768];
	const char *name, *pw;
	size_t pwlen;
	int rc;

	pop3_of(c)->state = POP3_AUTH;
	rc = sasl_plain_response(b64, len, msg, sizeof msg, &name, &pw, &pwlen);
	if (rc == -ECANCELED) {
		reply(c, "-ERR Authentication cancelled\r\n");
		rc = 0;
	} else if (rc < 0) {
		reply(c, "-ERR Malformed SASL PLAIN response\r\n");
		rc = 0;
	} else {
		rc = login(c, name, pw, pwlen);
	}
	memset(msg, 0, sizeof msg);
	return rc;
}

static int pop3_cmd_auth(struct conn *c, struct pop3_parsed *p)
{
	if (p->nargs == 0) {
		reply(c, "+OK Mechanisms follow\r\nPLAIN\r\n.\r\n");
		return 0;
	}
	if (strcasecmp(p->args[0], "PLAIN")) {
		reply(c, "-ERR Unsupported mechanism; PLAIN is available\r\n");
		return 0;
	}
	if (plain_refused(c))
		return 0;
	if (p->nargs == 2)
		return sasl_plain(c, p->args[1], strlen(p->args[1]));
	pop3_of(c)->state = POP3_AUTH_SASL;
	reply(c, "+ \r\n");
	return 0;
}

static int pop3_cmd_stls(struct conn *c, struct pop3_parsed *p)
{
	if (c->tls || c->lst->tls != CFG_TLS_STARTTLS || !conn_env.creds) {
		reply(c, "-ERR STLS is not available here\r\n");
		return 0;
	}
	reply(c, "+OK Begin TLS negotiation\r\n");
	/* RFC 2595: forget anything learned before TLS (a USER name). */
	pop3_of(c)->user[0] = '\0';
	return conn_starttls(c);
}

static int pop3_cmd_apop(struct conn *c, struct pop3_parsed *p)
{
	reply(c, "-ERR APOP is not supported: use USER/PASS or AUTH PLAIN over TLS\r\n");
	return 0;
}

/* --- TRANSACTION --------------------------------------------------- */

static int pop3_cmd_stat(struct conn *c, struct pop3_parsed *p)
{
	struct pop3_sess *s = pop3_of(c);

	reply(c, "+OK %" PRIu32 " %" PRIu64 "\r\n", s->nmsgs - s->ndeleted, s->total - s->deleted_bytes);
	return 0;
}

/* Start a multi-line listing (LIST or UIDL), produced by the stream callback. */
static void listing(struct conn *c, int kind, const char *head)
{
	struct pop3_sess *s = pop3_of(c);

	reply(c, "+OK %s\r\n", head);
	s->st_uid = 0;            /* index of the next message to list */
	s->st_kind = kind;
	c->flags |= CONN_F_STREAMING;
}

static int pop3_cmd_list(struct conn *c, struct pop3_parsed *p)
{
	struct pop3_sess *s = pop3_of(c);
	long i;

	if (p->nargs == 0) {
		listing(c, ST_LIST, "Scan listing follows");
		return 0;
	}
	if ((i = msgno(c, p->args[0])) >= 0)
		reply(c, "+OK %ld %" PRIu32 "\r\n", i + 1, s->sizes[i]);
	return 0;
}

static int pop3_cmd_uidl(struct conn *c, struct pop3_parsed *p)
{
	struct pop3_sess *s = pop3_of(c);
	long i;

	if (p->nargs == 0) {
		listing(c, ST_UIDL, "Unique-id listing follows");
		return 0;
	}
	if ((i = msgno(c, p->args[0])) >= 0)
		reply(c, "+OK %ld %08" PRIx32 "%08" PRIx32 "\r\n", i + 1, s->uidvalidity, s->uids[i]);
	return 0;
}

/* Start streaming message i: all of it (lines < 0) or headers and `lines` body lines. */
static void body(struct conn *c, long i, long lines)
{
	struct pop3_sess *s = pop3_of(c);

	reply(c, "+OK %" PRIu32 " octets\r\n", s->sizes[i]);
	s->st_uid = s->uids[i];
	s->st_off = 0;
	s->st_size = s->sizes[i];
	s->st_kind = ST_BODY;
	s->st_bol = 1;
	s->st_inbody = 0;
	s->st_cr = 0;
	s->st_top = lines;
	s->st_linelen = 0;
	c->flags |= CONN_F_STREAMING;
}

/* Is message i still in the store (another session may have removed it)? */
static int present(struct conn *c, long i)
{
	struct store_msg m;
	int rc = store_msg_get(conn_env.store, pop3_of(c)->mbox, pop3_of(c)->uids[i], &m);

	if (rc == 0)
		return 1;
	if (rc == STORE_ENOTFOUND)
		reply(c, "-ERR Message %ld was removed by another session\r\n", i + 1);
	else
		reply(c, "-ERR [SYS/TEMP] The mail store is not available; try again later\r\n");
	return 0;
}

static int pop3_cmd_retr(struct conn *c, struct pop3_parsed *p)
{
	long i = msgno(c, p->args[0]);

	if (i >= 0 && present(c, i)) {
		pop3_of(c)->nretr++;
		body(c, i, -1);
	}
	return 0;
}

static int pop3_cmd_top(struct conn *c, struct pop3_parsed *p)
{
	unsigned long long n;
	long i = msgno(c, p->args[0]);

	if (i < 0)
		return 0;
	if (cfg_parse_uint(p->args[1], 0, 1000000000, &n) < 0) {
		reply(c, "-ERR Invalid line count\r\n");
		return 0;
	}
	if (present(c, i))
		body(c, i, (long)n);
	return 0;
}

static int pop3_cmd_dele(struct conn *c, struct pop3_parsed *p)
{
	struct pop3_sess *s = pop3_of(c);
	long i = msgno(c, p->args[0]);

	if (i < 0)
		return 0;
	s->deleted[i / 8] |= (uint8_t)(1u << (i % 8));
	s->ndeleted++;
	s->deleted_bytes += s->sizes[i];
	reply(c, "+OK Message %ld deleted\r\n", i + 1);
	return 0;
}

static int pop3_cmd_noop(struct conn *c, struct pop3_parsed *p)
{
	reply(c, "+OK\r\n");
	return 0;
}

static int pop3_cmd_rset(struct conn *c, struct pop3_parsed *p)
{
	struct pop3_sess *s = pop3_of(c);

	memset(s->deleted, 0, s->nmsgs / 8 + 1);
	s->ndeleted = 0;
	s->deleted_bytes = 0;
	reply(c, "+OK %" PRIu32 " messages\r\n", s->nmsgs);
	return 0;
}

static int pop3_cmd_quit(struct conn *c, struct pop3_parsed *p)
{
	struct pop3_sess *s = pop3_of(c);

	if (s->state != POP3_TRANS || s->ndeleted == 0) {
		if (s->state == POP3_TRANS)
			conn_log(c, LOG_LVL_INFO, "logout user '%s', %" PRIu32 " retrieved, 0 deleted", s->user,
			         s->nretr);
		reply(c, "+OK Bye\r\n");
		conn_close_after(c);
		return 0;
	}
	/* UPDATE state: the deletions go into this turn's group commit. */
	s->state = POP3_UPDATE;
	commit_queue(c);
	return 0;
}

/* --- the command table --------------------------------------------- */

enum { IN_AUTH = 1, IN_TRANS = 2 };

static const struct pop3_cmd_def {
	enum pop3_cmd cmd;
	uint8_t states;
	uint8_t min_args, max_args;
	int (*fn)(struct conn *c, struct pop3_parsed *p);
} cmds[] = {
	{ POP3_C_CAPA, IN_AUTH | IN_TRANS, 0, 0, pop3_cmd_capa },
	{ POP3_C_USER, IN_AUTH, 1, 1, pop3_cmd_user },
	{ POP3_C_PASS, IN_AUTH, 1, 1, pop3_cmd_pass },
	{ POP3_C_AUTH, IN_AUTH, 0, 2, pop3_cmd_auth },
	{ POP3_C_STLS, IN_AUTH, 0, 0, pop3_cmd_stls },
	{ POP3_C_APOP, IN_AUTH, 0, 2, pop3_cmd_apop },
	{ POP3_C_STAT, IN_TRANS, 0, 0, pop3_cmd_stat },
	{ POP3_C_LIST, IN_TRANS, 0, 1, pop3_cmd_list },
	{ POP3_C_UIDL, IN_TRANS, 0, 1, pop3_cmd_uidl },
	{ POP3_C_RETR, IN_TRANS, 1, 1, pop3_cmd_retr },
	{ POP3_C_TOP, IN_TRANS, 2, 2, pop3_cmd_top },
	{ POP3_C_DELE, IN_TRANS, 1, 1, pop3_cmd_dele },
	{ POP3_C_NOOP, IN_TRANS, 0, 0, pop3_cmd_noop },
	{ POP3_C_RSET, IN_TRANS, 0, 0, pop3_cmd_rset },
	{ POP3_C_QUIT, IN_AUTH | IN_TRANS, 0, 0, pop3_cmd_quit },
};

/* The trace of a command line (trace.h): PASS's argument, AUTH's initial
 * response and a SASL response line are masked. */
static void trace_line(struct conn *c, const char *line, size_t len)
{
	const struct pop3_sess *s = pop3_of(c);
	const char *sp;

	if (!c->trace)
		return;
	if (s->state == POP3_AUTH_SASL)
		conn_trace_in(c, line, 0, 1);
	else if (len > 4 && !strncasecmp(line, "PASS", 4))
		conn_trace_in(c, line, 4, 1);
	else if (len > 5 && !strncasecmp(line, "AUTH ", 5) && (sp = memchr(line + 5, ' ', len - 5)) != NULL)
		conn_trace_in(c, line, (size_t)(sp - line), 1);
	else
		conn_trace_in(c, line, len, 0);
}

/* One command line: check length, parse, check state and arguments, act. */
static int pop3_line(struct conn *c, char *line, size_t len)
{
	struct pop3_sess *s = pop3_of(c);
	struct pop3_parsed p;
	size_t i;
	int in;

	trace_line(c, line, len);
	if (s->state == POP3_AUTH_SASL)
		return sasl_plain(c, line, len);
	if (s->state == POP3_TRANS)
		conn_set_timer(c, (int64_t)conn_env.cfg->pop3_timeout * 1000);
	else
		login_timer(c);
	if (len + 2 > POP3_LINE_MAX) {
		reply(c, "-ERR Line too long (the limit is %d octets)\r\n", POP3_LINE_MAX);
		return 0;
	}
	if (pop3_parse(line, len, &p) < 0) {
		reply(c, p.cmd == POP3_C_UNKNOWN ? "-ERR Unknown command\r\n" : "-ERR Invalid arguments\r\n");
		return 0;
	}
	in = s->state == POP3_TRANS ? IN_TRANS : IN_AUTH;
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		if (cmds[i].cmd != p.cmd)
			continue;
		if (!(cmds[i].states & in)) {
			reply(c, in == IN_AUTH ? "-ERR Log in first\r\n" : "-ERR Not allowed after login\r\n");
			return 0;
		}
		if (p.nargs < cmds[i].min_args || p.nargs > cmds[i].max_args) {
			reply(c, "-ERR Wrong number of arguments\r\n");
			return 0;
		}
		return cmds[i].fn(c, &p);
	}
	reply(c, "-ERR Unknown command\r\n");
	return 0;
}

/* proto_ops.too_long: answered at once; the rest of the line is dropped. */
static void pop3_too_long(struct conn *c, const char *bytes, size_t len, int end)
{
	if (end)
		return;
	if (pop3_of(c)->state == POP3_AUTH_SASL)
		pop3_of(c)->state = POP3_AUTH;
	reply(c, "-ERR Line too long (the limit is %d octets)\r\n", POP3_LINE_MAX);
}

/* --- streaming ------------------------------------------------------ */

/* LIST/UIDL lines while there is room. 1 when the listing is complete. */
static int stream_listing(struct conn *c)
{
	struct pop3_sess *s = pop3_of(c);

	while (s->st_uid < s->nmsgs) {
		uint32_t i = s->st_uid;
		int rc = 0;
		if (!is_deleted(s, i)) {
			if (s->st_kind == ST_LIST)
				rc = conn_printf(c, "%" PRIu32 " %" PRIu32 "\r\n", i + 1, s->sizes[i]);
			else
				rc = conn_printf(c, "%" PRIu32 " %08" PRIx32 "%08" PRIx32 "\r\n", i + 1,
				                 s->uidvalidity, s->uids[i]);
		}
		if (rc < 0)
			return 0;
		s->st_uid++;
	}
	if (conn_write(c, ".\r\n", 3) < 0)
		return 0;
	s->st_kind = ST_NONE;
	return 1;
}

/* The next chunk of a RETR/TOP body, dot-stuffed. 1 when complete, <0 on a store error. */
static int stream_body(struct conn *c)
{
	static unsigned char chunk[16384];   /* one loop, one stream at a time */
	struct pop3_sess *s = pop3_of(c);
	size_t room, got, i, o = 0, want;
	unsigned char *out = conn_stream_buf(c, &room);
	int rc, done = 0;

	if (room < 8)
		return 0;
	room -= 5;                /* keep space for a final CRLF and ".\r\n" */
	want = room < sizeof chunk ? room : sizeof chunk;
	rc = store_msg_read(conn_env.store, s->mbox, s->st_uid, s->st_off, chunk, want, &got);
	if (rc < 0) {
		conn_log(c, LOG_LVL_ERR, "message uid %" PRIu32 " unreadable: %s", s->st_uid, store_strerror(rc));
		return rc;
	}
	/* Each input byte makes at most two output bytes (a stuffed dot). */
	for (i = 0; i < got && !done && o + 2 <= room; i++) {
		unsigned char b = chunk[i];
		if (s->st_bol && b == '.')
			out[o++] = '.';
		out[o++] = b;
		s->st_bol = 0;
		if (b != '\n') {
			if (b != '\r')
				s->st_linelen++;
			continue;
		}
		s->st_bol = 1;
		if (s->st_top >= 0) {
			if (!s->st_inbody) {
				if (s->st_linelen == 0) {
					s->st_inbody = 1;
					done = s->st_top == 0;
				}
			} else if (--s->st_top == 0) {
				done = 1;
			}
		}
		s->st_linelen = 0;
	}
	s->st_off += i;
	if (got == 0 || s->st_off >= s->st_size)
		done = 1;
	if (done) {
		if (!s->st_bol) {
			out[o++] = '\r';
			out[o++] = '\n';
		}
		memcpy(out + o, ".\r\n", 3);
		o += 3;
		s->st_kind = ST_NONE;
	}
	conn_stream_commit(c, o);
	return done;
}

static int pop3_stream(struct conn *c)
{
	conn_set_timer(c, (int64_t)conn_env.cfg->pop3_timeout * 1000);  /* a slow download is not idle */
	return pop3_of(c)->st_kind == ST_BODY ? stream_body(c) : stream_listing(c);
}

/* --- commit, timers, close ------------------------------------------ */

static int pop3_commit(struct conn *c, struct store_batch *b)
{
	struct pop3_sess *s = pop3_of(c);
	uint32_t batch[64];
	size_t n = 0;
	uint32_t i;
	int rc;

	for (i = 0; i < s->nmsgs; i++) {
		if (!is_deleted(s, i))
			continue;
		batch[n++] = s->uids[i];
		if (n == sizeof batch / sizeof batch[0]) {
			if ((rc = store_batch_expunge(b, s->mbox, batch, n)) < 0)
				return rc;
			n = 0;
		}
	}
	return n ? store_batch_expunge(b, s->mbox, batch, n) : 0;
}

static void pop3_committed(struct conn *c, int err)
{
	struct pop3_sess *s = pop3_of(c);

	if (err) {
		conn_log(c, LOG_LVL_ERR, "deleting messages of '%s' failed: %s", s->user, store_strerror(err));
		if (err == STORE_EFULL || err == -ENOSPC)
			reply(c, "-ERR [SYS/TEMP] The mail store is full: could not delete the messages; they are kept\r\n");
		else
			reply(c, "-ERR [SYS/TEMP] Could not delete the messages (%s); they are kept\r\n",
			      store_strerror(err));
	} else {
		conn_log(c, LOG_LVL_INFO, "logout user '%s', %" PRIu32 " retrieved, %" PRIu32 " deleted", s->user,
		         s->nretr, s->ndeleted);
		reply(c, "+OK Bye: %" PRIu32 " messages deleted\r\n", s->ndeleted);
	}
	conn_close_after(c);
}

static void pop3_timer(struct conn *c)
{
	struct pop3_sess *s = pop3_of(c);

	if (c->flags & CONN_F_HOLD) {
		/* The delayed answer to a failed login. */
		if (login_resume(c, s->failures) == LOGIN_ETOOMANY) {
			/* No line may follow a reply in POP3: this one says why it closes. */
			reply(c, "-ERR [AUTH] Invalid user name or password; too many failed logins, closing\r\n");
			conn_close_after(c);
		} else {
			reply(c, "-ERR [AUTH] Invalid user name or password\r\n");
		}
		return;
	}
	reply(c, "-ERR Idle for too long; closing\r\n");
	conn_close_after(c);
	c->flags &= ~(unsigned)CONN_F_STREAMING;
}

static void pop3_close(struct conn *c)
{
	struct pop3_sess *s = pop3_of(c);

	if (s->state == POP3_TRANS || s->state == POP3_UPDATE)
		trans_del(c);
	snapshot_free(s);
	s->state = POP3_AUTH;
}

/* proto_ops.bye: the daemon is shutting down. POP3 has no unsolicited
 * reply: the client takes this as the answer to its next (or pending)
 * command, then finds the connection closed; nothing is deleted. */
static void pop3_bye(struct conn *c)
{
	reply(c, "-ERR [SYS/TEMP] Server shutting down\r\n");
}

/* The signed-in user, or NULL before login. */
static const char *pop3_user(const struct conn *c)
{
	const struct pop3_sess *s = pop3_of(c);

	return s->user_id ? s->user : NULL;
}

const struct proto_ops pop3_ops = {
	.name = "pop3",
	.sess_size = sizeof(struct pop3_sess),
	.busy = "-ERR [SYS/TEMP] Too many connections from your address\r\n",
	.start = greeting,
	.line = pop3_line,
	.too_long = pop3_too_long,
	.stream = pop3_stream,
	.commit = pop3_commit,
	.committed = pop3_committed,
	.timer = pop3_timer,
	.close = pop3_close,
	.user = pop3_user,
	.bye = pop3_bye,
};

#endif
