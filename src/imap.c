/*
 * imap — the IMAP dispatcher: the protocol's proto_ops (greeting, command
 * lines, timers, close), the assembly of a command with its literals in
 * the input buffer, the command table and the session commands
 * (CAPABILITY ... AUTHENTICATE, ID, ENABLE, NAMESPACE, IDLE). The other
 * commands are in the handler files; replies go out through imap_reply.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "commit.h"
#include "conn.h"
#include "imap_int.h"
#include "log.h"
#include "login.h"
#include "sasl.h"
#include "store.h"
#include "store_mbox.h"
#include "store_user.h"

#if CONFIG_IMAP

#define CAPS_COMMON "IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UNSELECT UIDPLUS MOVE " \
                    "CHILDREN SPECIAL-USE QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE STATUS=SIZE"

/* The capability list for this session's state, into buf. */
static void caps(struct conn *c, char *buf, size_t cap)
{
	struct imap_sess *s = imap_of(c);
	int plain = conn_plain_ok(c, conn_env.cfg->plaintext);
	int stls = !c->tls && c->lst->tls == CFG_TLS_STARTTLS && conn_env.creds;

	if (s->state == IMAP_NOTAUTH)
		snprintf(buf, cap, CAPS_COMMON " APPENDLIMIT=%" PRIu64 "%s%s", imap_appendlimit(),
		         stls ? " STARTTLS" : "", plain ? " AUTH=PLAIN" : " LOGINDISABLED");
	else
		snprintf(buf, cap, CAPS_COMMON " APPENDLIMIT=%" PRIu64, imap_appendlimit());
}

/* --- NOT AUTHENTICATED -------------------------------------------------- */

static void imap_start(struct conn *c)
{
	struct imap_sess *s = imap_of(c);
	char cap[512];

	s->state = IMAP_NOTAUTH;
	s->spool.fd = -1;
	caps(c, cap, sizeof cap);
	conn_printf(c, "* OK [CAPABILITY %s] postnook IMAP4rev1 ready\r\n", cap);
	login_timer(c);
}

static int imap_cmd_capability(struct conn *c, struct imap_p *p)
{
	char cap[512];

	caps(c, cap, sizeof cap);
	conn_printf(c, "* CAPABILITY %s\r\n", cap);
	imap_done(c, "OK CAPABILITY completed");
	return 0;
}

static int imap_cmd_noop(struct conn *c, struct imap_p *p)
{
	imap_done(c, "OK NOOP completed");
	return 0;
}

static int imap_cmd_logout(struct conn *c, struct imap_p *p)
{
	struct imap_sess *s = imap_of(c);

	conn_printf(c, "* BYE postnook logging out\r\n");
	if (s->state == IMAP_SELECTED)
		imap_view_close(c);
	s->state = IMAP_LOGOUT;
	s->no_expunge = 1;
	imap_done(c, "OK LOGOUT completed");
	return 0;
}

static int imap_cmd_starttls(struct conn *c, struct imap_p *p)
{
	struct imap_sess *s = imap_of(c);

	if (c->tls || c->lst->tls != CFG_TLS_STARTTLS || !conn_env.creds) {
		imap_done(c, "NO STARTTLS is not available here");
		return 0;
	}
	conn_printf(c, "%s OK Begin TLS negotiation now\r\n", s->tag);
	return conn_starttls(c);
}

/* Refuse a password on a connection the policy does not allow. 1 if refused. */
static int plain_refused(struct conn *c)
{
	int rc = login_plain_check(c);

	if (rc == LOGIN_ESTARTTLS)
		imap_done(c, "NO [PRIVACYREQUIRED] Passwords are not accepted before encryption: use STARTTLS first");
	else if (rc < 0)
		imap_done(c, "NO [PRIVACYREQUIRED] Passwords are not accepted on this unencrypted port: use the TLS port");
	return rc < 0;
}

/* Check a name and password; answers now (signed in, store error) or after a delay (failure). */
static int login(struct conn *c, const char *name, const char *pass, size_t passlen)
{
	struct imap_sess *s = imap_of(c);
	struct store_user u;
	int rc;

	rc = login_check(c, name, pass, passlen, &s->failures, &u);
	if (rc == STORE_EAUTH)
		return 0;               /* imap_timer answers once the delay is over */
	if (rc < 0) {
		imap_done(c, "NO [UNAVAILABLE] The mail store is not available; try again later");
		return 0;
	}
	rc = store_mbox_ensure_defaults(conn_env.store, u.id);
	if (rc < 0)
		conn_log(c, LOG_LVL_WARN, "cannot create the default mailboxes of '%s': %s", u.name,
		         store_strerror(rc));
	s->user_id = u.id;
	snprintf(s->user, sizeof s->user, "%s", u.name);
	s->state = IMAP_AUTH;
	conn_log(c, LOG_LVL_INFO, "imap login user '%s'%s", u.name, c->tls ? " (tls)" : "");
	{
		char cap[512];
		caps(c, cap, sizeof cap);
		imap_done(c, "OK [CAPABILITY %s] Logged in", cap);
	}
	conn_set_timer(c, imap_timeout_ms());
	return 0;
}

static int imap_cmd_login(struct conn *c, struct imap_p *p)
{
	struct imap_str us, ps;
	char name[STORE_NAME_MAX + 2], pass[512];

	if (imap_p_sp(p) || imap_p_astring(p, &us) || imap_p_sp(p) || imap_p_astring(p, &ps) ||
	    !imap_p_eol(p)) {
		imap_bad(c, p);
		return 0;
	}
	if (plain_refused(c))
		return 0;
	if (imap_str_copy(&us, name, sizeof name) || imap_str_copy(&ps, pass, sizeof pass)) {
		/* too long to be right: a failure like any other (delay, count, log) */
		snprintf(name, sizeof name, "%.*s", (int)(us.len < sizeof name ? us.len : sizeof name - 1), us.s);
		memset(pass, 0, sizeof pass);
		login_fail(c, name, &imap_of(c)->failures);
		return 0;
	}
	{
		int rc = login(c, name, pass, strlen(pass));
		memset(pass, 0, sizeof pass);
		return rc;
	}
}

/* Decode and check a SASL PLAIN response. */
static int sasl_plain(struct conn *c, const char *b64, size_t len)
{
	unsigned char msg[768];
	const char *name, *pw;
	size_t pwlen;
	int rc;

	imap_of(c)->sub = IMAP_SUB_NONE;
	rc = sasl_plain_response(b64, len, msg, sizeof msg, &name, &pw, &pwlen);
	if (rc == -ECANCELED) {
		imap_done(c, "BAD Authentication cancelled");
		rc = 0;
	} else if (rc < 0) {
		imap_done(c, "BAD Malformed SASL PLAIN response");
		rc = 0;
	} else {
		rc = login(c, name, pw, pwlen);
	}
	memset(msg, 0, sizeof msg);
	return rc;
}

static int imap_cmd_authenticate(struct conn *c, struct imap_p *p)
{
	struct imap_str mech, ir = { NULL, 0, 0 };

	if (imap_p_sp(p) || imap_p_atom(p, &mech)) {
		imap_bad(c, p);
		return 0;
	}
	if (imap_p_accept(p, ' ') && imap_p_atom(p, &ir)) {
		/* '=' is an atom char, base64 too */
		imap_bad(c, p);
		return 0;
	}
	if (!imap_p_eol(p)) {
		imap_p_fail(p, "Unexpected text after the mechanism");
		imap_bad(c, p);
		return 0;
	}
	if (!imap_str_is(&mech, "PLAIN")) {
		imap_done(c, "NO Unsupported mechanism; PLAIN is available");
		return 0;
	}
	if (plain_refused(c))
		return 0;
	if (ir.s)
		return sasl_plain(c, ir.s, ir.len);
	imap_of(c)->sub = IMAP_SUB_SASL;
	conn_printf(c, "+ \r\n");
	return 0;
}

/* --- any state ---------------------------------------------------------- */

static int imap_cmd_id(struct conn *c, struct imap_p *p)
{
	struct imap_str k, v;

	/* ID NIL or ID ("key" "value" ...): checked, then ignored. */
	if (imap_p_sp(p))
		goto bad;
	if (imap_p_peek(p) == '(') {
		imap_p_open(p);
		while (!p->err && imap_p_peek(p) != ')') {
			if (imap_p_string(p, &k) || imap_p_sp(p) || imap_p_nstring(p, &v))
				goto bad;
			if (imap_p_peek(p) == ' ')
				imap_p_sp(p);
		}
		imap_p_close(p);
	} else if (imap_p_nstring(p, &v) || v.s) {
		imap_p_fail(p, "Expected NIL or a list");
	}
	if (p->err || !imap_p_eol(p))
		goto bad;
	conn_printf(c, "* ID (\"name\" \"postnook\" \"vendor\" \"postnook\")\r\n");
	imap_done(c, "OK ID completed");
	return 0;
bad:
	imap_bad(c, p);
	return 0;
}

static int imap_cmd_enable(struct conn *c, struct imap_p *p)
{
	struct imap_str a;

	do {
		if (imap_p_sp(p) || imap_p_atom(p, &a)) {
			imap_bad(c, p);
			return 0;
		}
	} while (!imap_p_eol(p));
	/* No extension that ENABLE turns on (CONDSTORE, UTF8=ACCEPT) is offered. */
	conn_printf(c, "* ENABLED\r\n");
	imap_done(c, "OK ENABLE completed");
	return 0;
}

static int imap_cmd_namespace(struct conn *c, struct imap_p *p)
{
	conn_printf(c, "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n");
	imap_done(c, "OK NAMESPACE completed");
	return 0;
}

static int imap_cmd_idle(struct conn *c, struct imap_p *p)
{
	struct imap_sess *s = imap_of(c);

	s->sub = IMAP_SUB_IDLE;
	s->idle_done = 0;
	conn_printf(c, "+ idling\r\n");
	if (s->state == IMAP_SELECTED) {
		imap_view_idle(c, 1);
		imap_view_sync(s->sv.v);
		if (imap_updates_pending(c))
			imap_job_start(c, NULL);
	}
	conn_set_timer(c, (int64_t)IMAP_IDLE_KEEPALIVE_S * 1000);
	return 0;
}

/* DONE (or anything else) ends IDLE. */
static int idle_line(struct conn *c, const char *line, size_t len)
{
	struct imap_sess *s = imap_of(c);

	if (s->state == IMAP_SELECTED)
		imap_view_idle(c, 0);
	s->idle_done = 1;
	s->job.kind = JOB_NONE;
	if (len == 4 && !strncasecmp(line, "DONE", 4))
		imap_done(c, "OK IDLE terminated");
	else
		imap_done(c, "BAD Expected DONE");
	conn_set_timer(c, imap_timeout_ms());
	return 0;
}

/* --- the command table -------------------------------------------------- */

enum { IN_NOTAUTH = 1, IN_AUTH = 2, IN_SELECTED = 4, IN_ANY = 7, IN_LOGGED = 6 };
enum {
	CF_UID = 1,             /* valid after UID */
	/* The last argument is a message literal that the handler takes in raw
	 * mode (conn_expect_raw) instead of the connection reading it into the
	 * line: the handler sees the line up to the literal, whose size is in
	 * s->lit. The command is only known with that literal. */
	CF_LITERAL = 2,
};

static const struct imap_cmd_def {
	const char *name;
	uint8_t states;
	uint8_t flags;
	int (*fn)(struct conn *c, struct imap_p *p);
} cmds[] = {
	{ "CAPABILITY", IN_ANY, 0, imap_cmd_capability },
	{ "NOOP", IN_ANY, 0, imap_cmd_noop },
	{ "LOGOUT", IN_ANY, 0, imap_cmd_logout },
	{ "ID", IN_ANY, 0, imap_cmd_id },
	{ "STARTTLS", IN_NOTAUTH, 0, imap_cmd_starttls },
	{ "LOGIN", IN_NOTAUTH, 0, imap_cmd_login },
	{ "AUTHENTICATE", IN_NOTAUTH, 0, imap_cmd_authenticate },
	{ "ENABLE", IN_LOGGED, 0, imap_cmd_enable },
	{ "NAMESPACE", IN_LOGGED, 0, imap_cmd_namespace },
	{ "IDLE", IN_LOGGED, 0, imap_cmd_idle },
	{ "SELECT", IN_LOGGED, 0, imap_cmd_select },
	{ "EXAMINE", IN_LOGGED, 0, imap_cmd_examine },
	{ "CREATE", IN_LOGGED, 0, imap_cmd_create },
	{ "DELETE", IN_LOGGED, 0, imap_cmd_delete },
	{ "RENAME", IN_LOGGED, 0, imap_cmd_rename },
	{ "SUBSCRIBE", IN_LOGGED, 0, imap_cmd_subscribe },
	{ "UNSUBSCRIBE", IN_LOGGED, 0, imap_cmd_unsubscribe },
	{ "LIST", IN_LOGGED, 0, imap_cmd_list },
	{ "LSUB", IN_LOGGED, 0, imap_cmd_lsub },
	{ "STATUS", IN_LOGGED, 0, imap_cmd_status },
	{ "GETQUOTA", IN_LOGGED, 0, imap_cmd_getquota },
	{ "GETQUOTAROOT", IN_LOGGED, 0, imap_cmd_getquotaroot },
	{ "APPEND", IN_LOGGED, CF_LITERAL, imap_cmd_append },
	{ "CHECK", IN_SELECTED, 0, imap_cmd_check },
	{ "CLOSE", IN_SELECTED, 0, imap_cmd_close },
	{ "UNSELECT", IN_SELECTED, 0, imap_cmd_unselect },
	{ "EXPUNGE", IN_SELECTED, CF_UID, imap_cmd_expunge },
	{ "SEARCH", IN_SELECTED, CF_UID, imap_cmd_search },
	{ "FETCH", IN_SELECTED, CF_UID, imap_cmd_fetch },
	{ "STORE", IN_SELECTED, CF_UID, imap_cmd_store },
	{ "COPY", IN_SELECTED, CF_UID, imap_cmd_copy },
	{ "MOVE", IN_SELECTED, CF_UID, imap_cmd_move },
};

/* The head of a command line, parsed once each time the line is handed over. */
struct head {
	struct imap_p p;                /* after the name (or at the error) */
	struct imap_str tag;
	int tag_ok;                     /* a valid tag of at most IMAP_TAG_MAX bytes */
	int name_ok;                    /* the name (after UID, if any) parsed */
	int uid;                        /* a UID command */
	const struct imap_cmd_def *def; /* NULL: unknown, or not a UID command */
};

static void head_parse(struct head *h, const char *line, size_t len)
{
	struct imap_str name;
	size_t i;

	memset(h, 0, sizeof *h);
	imap_p_init(&h->p, line, len);
	if (imap_p_tag(&h->p, &h->tag) || h->tag.len > IMAP_TAG_MAX)
		return;
	h->tag_ok = 1;
	if (imap_p_sp(&h->p) || imap_p_atom(&h->p, &name)) {
		imap_p_fail(&h->p, "Missing command");
		return;
	}
	if (imap_str_is(&name, "UID")) {
		h->uid = 1;
		if (imap_p_sp(&h->p) || imap_p_atom(&h->p, &name))
			return;
	}
	h->name_ok = 1;
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (imap_str_is(&name, cmds[i].name)) {
			if (!h->uid || cmds[i].flags & CF_UID)
				h->def = &cmds[i];
			break;
		}
}

/*
 * Trace a whole command (trace.h): LOGIN is shown up to its user name and
 * AUTHENTICATE up to its mechanism, the rest masked; a line whose head did
 * not parse is masked after any LOGIN or AUTHENTICATE in it, or after a NUL.
 */
static void trace_cmd(struct conn *c, const struct head *h, const char *line, size_t len)
{
	struct imap_p q = h->p;
	struct imap_str a;
	const char *w;
	int masked = 0;

	if (!c->trace)
		return;
	if (h->def && (h->def->fn == imap_cmd_login || h->def->fn == imap_cmd_authenticate)) {
		int login = h->def->fn == imap_cmd_login;
		masked = 1;
		if (!imap_p_sp(&q) && !(login ? imap_p_astring(&q, &a) : imap_p_atom(&q, &a)) && !q.err) {
			masked = login || q.p < line + len;
			len = (size_t)(q.p - line);
		} else {
			len = (size_t)(h->p.p - line);
		}
	} else if (!h->def && ((w = strcasestr(line, "LOGIN")) || (w = strcasestr(line, "AUTHENTICATE")))) {
		masked = 1;
		len = (size_t)(w - line) + (*w == 'A' || *w == 'a' ? 12 : 5);
	} else if (!h->def && (w = memchr(line, '\0', len))) {
		masked = 1;             /* strcasestr stops at a NUL (from a literal): mask the rest */
		len = (size_t)(w - line);
	}
	conn_trace_in(c, line, len, masked);
}

static void tag_set(struct imap_sess *s, const struct head *h)
{
	memcpy(s->tag, h->tag.s, h->tag.len);
	s->tag[h->tag.len] = '\0';
}

/* One assembled command: state check, handler. literal: a CF_LITERAL
 * command's message literal follows (h->p ends before it). */
static int dispatch(struct conn *c, struct head *h, int literal)
{
	struct imap_sess *s = imap_of(c);
	const struct imap_cmd_def *def = h->def;
	int in;

	memset(&s->job, 0, sizeof s->job);
	s->no_expunge = 0;
	if (!h->tag_ok) {
		conn_printf(c, "* BAD %s\r\n", h->tag.len > IMAP_TAG_MAX && !h->p.err ? "Tag too long" : "Invalid tag");
		return 0;
	}
	tag_set(s, h);
	if (!h->name_ok) {
		imap_bad(c, &h->p);
		return 0;
	}
	if (def && !(def->flags & CF_LITERAL) != !literal)
		def = NULL;
	if (!def) {
		s->no_expunge = 1;
		imap_done(c, "BAD Unknown command");
		return 0;
	}
	in = s->state == IMAP_NOTAUTH ? IN_NOTAUTH : s->state == IMAP_AUTH ? IN_AUTH : IN_SELECTED;
	if (!(def->states & in)) {
		s->no_expunge = 1;
		imap_done(c, "BAD %s", in == IN_NOTAUTH ? "Log in first"
		                     : in == IN_SELECTED && def->states == IN_NOTAUTH ? "Already logged in"
		                     : def->states == IN_SELECTED ? "Select a mailbox first"
		                     : "Already logged in");
		return literal ? imap_append_drop(c) : 0;
	}
	s->job.uid = (uint8_t)h->uid;
	if (s->state == IMAP_SELECTED)
		imap_view_sync(s->sv.v);
	return def->fn(c, &h->p);
}

/* Start of the newest line segment of a command being assembled. */
static size_t seg_start(const struct imap_sess *s, const char *line)
{
	if (!s->lit.count)
		return 0;
	return s->lit.prev + (line[s->lit.prev] == '\r' ? 2 : 1) + (size_t)s->lit.n;
}

static void lit_reset(struct imap_sess *s)
{
	memset(&s->lit, 0, sizeof s->lit);
}

static void toolong_end(struct conn *c, const char *tail, size_t len);

/* proto_ops.line: a command line (with its literals so far): assemble or dispatch. */
static int imap_line(struct conn *c, char *line, size_t len)
{
	struct imap_sess *s = imap_of(c);
	struct head h;
	size_t seg;
	uint64_t n;
	int plus, t, rc;

	switch (s->sub) {
	case IMAP_SUB_SASL:
		conn_trace_in(c, line, 0, 1);
		return sasl_plain(c, line, len);
	case IMAP_SUB_IDLE:
		conn_trace_in(c, line, len, 0);
		return idle_line(c, line, len);
	case IMAP_SUB_APPEND_EOL:
		conn_trace_in(c, line, len, 0);
		imap_append_eol(c, len);
		return 0;
	case IMAP_SUB_TOOLONG:
		toolong_end(c, line, len);
		return 0;
	default:
		break;
	}
	if (s->state == IMAP_NOTAUTH)
		login_timer(c);
	else
		conn_set_timer(c, imap_timeout_ms());
	seg = seg_start(s, line);
	if (seg > len)
		seg = len;
	t = imap_literal_tail(line + seg, len - seg, &n, &plus);
	head_parse(&h, line, len);
	if (t == 0) {
		trace_cmd(c, &h, line, len);
		lit_reset(s);
		return dispatch(c, &h, 0);
	}
	/* The command goes on after a literal. A size with too many digits is
	 * refused below like any literal too large. */
	if (t < 0)
		n = UINT64_MAX / 2;
	if (h.def && h.def->flags & CF_LITERAL) {
		/* A message literal comes after the first argument: the command
		 * takes it; a literal before that is read into the line. */
		const char *brace = memrchr(line + seg, '{', len - seg);
		size_t at = brace ? (size_t)(brace - line) : len;
		if (at > 0 && line[at - 1] == ' ' && line + at - 1 > h.p.p) {
			trace_cmd(c, &h, line, len);
			h.p.end = line + at - 1;
			s->lit.n = n;
			s->lit.plus = (uint8_t)plus;
			rc = dispatch(c, &h, 1);
			lit_reset(s);
			return rc;
		}
	}
	if (s->lit.count >= IMAP_LITERALS_MAX || (plus && n > IMAP_LITERAL_PLUS_MAX) ||
	    (uint64_t)len + 2 + n + 2 > IMAP_CMD_MAX) {
		trace_cmd(c, &h, line, len);
		if (h.tag_ok)
			tag_set(s, &h);
		else
			strcpy(s->tag, "*");
		lit_reset(s);
		memset(&s->job, 0, sizeof s->job);
		s->no_expunge = 1;
		if (plus) {
			/* RFC 7888 LITERAL-: the bytes are on their way; refuse and close. */
			imap_done(c, "BAD [TOOBIG] Literal too large (the limit is %d octets)", IMAP_LITERAL_PLUS_MAX);
			s->state = IMAP_LOGOUT;
		} else {
			imap_done(c, "NO [TOOBIG] Command too long with this literal (the limit is %d octets)",
			          IMAP_CMD_MAX);
		}
		return 0;
	}
	if (!plus)
		conn_printf(c, "+ Ready for literal data\r\n");
	s->lit.count++;
	s->lit.prev = len;
	s->lit.n = n;
	s->lit.plus = (uint8_t)plus;
	return 1 + (int)n;
}

/*
 * The end of an over-long command (its last bytes, or the line after a
 * literal it announced): a non-synchronizing literal announced there is
 * on its way and dropped too (LITERAL-'s limit still holds: past it, as
 * for any command, BAD and the connection closes); then the command is
 * answered, with its tag, BAD [TOOBIG] — unless it was a refused APPEND's
 * rest, answered already.
 */
static void toolong_end(struct conn *c, const char *tail, size_t len)
{
	struct imap_sess *s = imap_of(c);
	uint64_t n;
	int plus, big;

	s->sub = IMAP_SUB_NONE;
	if (imap_literal_tail(tail, len, &n, &plus) == 1 && plus && n <= IMAP_LITERAL_PLUS_MAX) {
		s->sub = n ? IMAP_SUB_DISCARD : IMAP_SUB_TOOLONG;
		s->spool.fd = -1;
		s->spool.size = n;
		s->spool.got = 0;
		conn_expect_raw(c, n);
		return;
	}
	s->toolong = 0;
	big = imap_literal_tail(tail, len, &n, &plus) == 1 && plus;
	if (!s->tag[0] && !big)
		return;
	if (!s->tag[0])
		strcpy(s->tag, "*");
	memset(&s->job, 0, sizeof s->job);
	s->no_expunge = 1;
	if (big) {
		imap_done(c, "BAD [TOOBIG] Literal too large (the limit is %d octets)", IMAP_LITERAL_PLUS_MAX);
		s->state = IMAP_LOGOUT;
		return;
	}
	imap_done(c, "BAD [TOOBIG] Command line too long (the limit is %d octets)", IMAP_CMD_MAX);
}

/*
 * proto_ops.too_long: a command line over IMAP_CMD_MAX. When it overflows
 * (end 0, its first bytes), note whose it is: the tag at its start, or
 * the command it belongs to (AUTHENTICATE's response, IDLE's DONE, the
 * rest of an APPEND), or "*" when no tag can be read there. The rest is
 * dropped by the connection; at its end (end 1, its last bytes) the
 * client gets its answer, so it does not wait for a tag that never comes.
 */
static void imap_too_long(struct conn *c, const char *bytes, size_t len, int end)
{
	struct imap_sess *s = imap_of(c);
	struct imap_p p;
	struct imap_str tag;

	if (end) {
		toolong_end(c, bytes, len);
		return;
	}
	lit_reset(s);
	if (s->sub == IMAP_SUB_IDLE && s->state == IMAP_SELECTED)
		imap_view_idle(c, 0);
	if (s->sub == IMAP_SUB_APPEND_EOL) {
		if (s->spool.fd < 0)
			s->tag[0] = '\0';      /* refused before its literal: answered */
		imap_append_abort(c);
	} else if (s->sub == IMAP_SUB_NONE) {
		imap_p_init(&p, bytes, len);
		if (imap_p_tag(&p, &tag) == 0 && tag.len <= IMAP_TAG_MAX && imap_p_peek(&p) == ' ') {
			memcpy(s->tag, tag.s, tag.len);
			s->tag[tag.len] = '\0';
		} else {
			strcpy(s->tag, "*");
		}
	}
	s->sub = IMAP_SUB_TOOLONG;
	s->toolong = 1;
	if (s->state == IMAP_NOTAUTH)
		login_timer(c);
	else
		conn_set_timer(c, imap_timeout_ms());
}

/* --- timers, close --------------------------------------------------------- */

static void imap_timer(struct conn *c)
{
	struct imap_sess *s = imap_of(c);

	if (s->wr != WR_NONE && !(c->flags & CONN_F_COMMIT)) {
		commit_queue(c);            /* retry after the store was busy */
		return;
	}
	if (c->flags & CONN_F_HOLD && !(c->flags & CONN_F_COMMIT)) {
		/* The delayed answer to a failed login; the last one says why the
		 * connection closes (RFC 3501 7.1.5: BYE, then the tagged reply). */
		if (login_resume(c, s->failures) == LOGIN_ETOOMANY) {
			conn_printf(c, "* BYE Too many failed logins\r\n");
			s->state = IMAP_LOGOUT;     /* closes after the answer */
		}
		imap_done(c, "NO [AUTHENTICATIONFAILED] Invalid user name or password");
		return;
	}
	if (s->sub == IMAP_SUB_IDLE && !(c->flags & CONN_F_STREAMING) && c->out_off == c->out_len) {
		/* the last output was taken: keep alive; else the client no longer reads */
		conn_printf(c, "* OK Still here\r\n");
		conn_set_timer(c, (int64_t)IMAP_IDLE_KEEPALIVE_S * 1000);
		return;
	}
	conn_printf(c, "* BYE Autologout; idle for too long\r\n");
	c->flags &= ~(unsigned)CONN_F_STREAMING;
	conn_close_after(c);
}

static void imap_close(struct conn *c)
{
	struct imap_sess *s = imap_of(c);

	if (s->sv.v)
		imap_view_close(c);     /* also after a BYE for a deleted mailbox */
	imap_append_abort(c);
	if (s->user_id)
		conn_log(c, LOG_LVL_INFO, "imap logout user '%s'", s->user);
	memset(s, 0, sizeof *s);
	s->spool.fd = -1;
}

/* proto_ops.bye: the daemon is shutting down (RFC 3501 7.1.5). */
static void imap_bye(struct conn *c)
{
	struct imap_sess *s = imap_of(c);

	if (s->state == IMAP_LOGOUT)
		return;                     /* its BYE is out already (LOGOUT, too many failures) */
	if (s->sub == IMAP_SUB_IDLE) {
		if (s->state == IMAP_SELECTED)
			imap_view_idle(c, 0);   /* no update after the BYE */
		s->sub = IMAP_SUB_NONE;
	}
	conn_printf(c, "* BYE [UNAVAILABLE] Server shutting down\r\n");
}

/* The signed-in user, or NULL before login. */
static const char *imap_user(const struct conn *c)
{
	const struct imap_sess *s = imap_of(c);

	return s->user_id ? s->user : NULL;
}

const struct proto_ops imap_ops = {
	.name = "imap",
	.sess_size = sizeof(struct imap_sess),
	.busy = "* BYE [UNAVAILABLE] Too many connections from your address\r\n",
	.start = imap_start,
	.line = imap_line,
	.raw = imap_append_raw,
	.too_long = imap_too_long,
	.stream = imap_stream,
	.commit = imap_write_commit,
	.committed = imap_write_committed,
	.timer = imap_timer,
	.close = imap_close,
	.user = imap_user,
	.mbox_changed = imap_view_notify,
	.shutdown = imap_view_shutdown,
	.bye = imap_bye,
};

#endif
