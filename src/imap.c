/*
 * imap — IMAP sessions: command assembly (literals), the command table,
 * the session commands (CAPABILITY ... AUTHENTICATE, IDLE), the reply
 * phases (a command's output, untagged updates, tagged completion),
 * timers and close.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
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
                    "CHILDREN SPECIAL-USE QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE"

uint64_t imap_appendlimit(void)
{
	return SYS_MESSAGE_MAX;
}

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

/* --- reply phases ----------------------------------------------------- */

void imap_job_start(struct conn *c, int kind)
{
	struct imap_sess *s = imap_of(c);

	s->job.kind = (uint8_t)kind;
	s->job.phase = 0;
	c->flags |= CONN_F_STREAMING;
}

void imap_done(struct conn *c, const char *fmt, ...)
{
	struct imap_sess *s = imap_of(c);
	size_t n;
	va_list ap;

	n = (size_t)snprintf(s->done, sizeof s->done, "%s ", s->tag);
	if (n >= sizeof s->done)
		n = 0;
	va_start(ap, fmt);
	vsnprintf(s->done + n, sizeof s->done - n - 2, fmt, ap);
	va_end(ap);
	strcat(s->done, "\r\n");
	if (s->job.kind == JOB_NONE)
		imap_job_start(c, JOB_UPDATES);
}

void imap_bad(struct conn *c, const struct imap_p *p)
{
	imap_of(c)->no_expunge = 1;
	imap_done(c, "BAD %s", p->msg ? p->msg : "Syntax error");
}

void imap_store_no(struct conn *c, int err, const char *what)
{
	switch (err) {
	case STORE_ENOTFOUND:
		imap_done(c, "NO [NONEXISTENT] %s: no such mailbox", what);
		break;
	case STORE_EEXIST:
		imap_done(c, "NO [ALREADYEXISTS] %s: mailbox already exists", what);
		break;
	case STORE_EQUOTA:
		imap_done(c, "NO [OVERQUOTA] %s: quota exceeded", what);
		break;
	case STORE_ETOOBIG:
		imap_done(c, "NO [TOOBIG] %s: message too large", what);
		break;
	case STORE_EINVAL:
		imap_done(c, "NO [CANNOT] %s: not possible", what);
		break;
	case STORE_EBUSY:
		imap_done(c, "NO [UNAVAILABLE] %s: the store is busy; try again", what);
		break;
	default:
		conn_log(c, LOG_LVL_ERR, "%s: %s", what, store_strerror(err));
		imap_done(c, "NO [SERVERBUG] %s: %s", what, store_strerror(err));
	}
}

/* The tagged reply. 1 when written. */
static int tagged_stream(struct conn *c)
{
	struct imap_sess *s = imap_of(c);

	if (conn_printf(c, "%s", s->done) < 0)
		return 0;
	s->job.kind = JOB_NONE;
	s->no_expunge = 0;
	if (s->state == IMAP_LOGOUT)
		conn_close_after(c);
	return 1;
}

static int imap_stream(struct conn *c)
{
	struct imap_sess *s = imap_of(c);
	int rc;

	conn_set_timer(c, (int64_t)IMAP_TIMEOUT_S * 1000);
	for (int rounds = 0; rounds < 8; rounds++) {
		switch (s->job.kind) {
		case JOB_FETCH:
			rc = imap_fetch_stream(c);
			break;
		case JOB_SEARCH:
			rc = imap_search_stream(c);
			break;
		case JOB_LIST:
			rc = imap_list_stream(c);
			break;
		case JOB_UPDATES:
			rc = imap_updates_stream(c);
			if (rc == 1 && s->sub == IMAP_SUB_IDLE && !s->idle_done) {
				s->job.kind = JOB_NONE;    /* IDLE goes on */
				return 1;
			}
			if (rc == 1) {
				s->job.kind = JOB_TAGGED;
				continue;
			}
			return rc;
		case JOB_TAGGED:
			if (s->idle_done) {
				s->idle_done = 0;
				s->sub = IMAP_SUB_NONE;
			}
			return tagged_stream(c);
		default:
			return 1;
		}
		if (rc != 1)
			return rc;
		s->job.kind = JOB_UPDATES;
		s->job.phase = 0;
	}
	return 0;
}

/* --- NOT AUTHENTICATED -------------------------------------------------- */

static void greeting(struct conn *c)
{
	struct imap_sess *s = imap_of(c);
	char cap[512];

	s->state = IMAP_NOTAUTH;
	s->app_fd = -1;
	caps(c, cap, sizeof cap);
	conn_printf(c, "* OK [CAPABILITY %s] postnook IMAP4rev1 ready\r\n", cap);
	conn_set_timer(c, (int64_t)conn_env.cfg->login_timeout * 1000);
}

static int cmd_capability(struct conn *c, struct imap_p *p)
{
	char cap[512];

	caps(c, cap, sizeof cap);
	conn_printf(c, "* CAPABILITY %s\r\n", cap);
	imap_done(c, "OK CAPABILITY completed");
	return 0;
}

static int cmd_noop(struct conn *c, struct imap_p *p)
{
	imap_done(c, "OK NOOP completed");
	return 0;
}

static int cmd_logout(struct conn *c, struct imap_p *p)
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

static int cmd_starttls(struct conn *c, struct imap_p *p)
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
	conn_set_timer(c, (int64_t)IMAP_TIMEOUT_S * 1000);
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
		imap_done(c, "NO [AUTHENTICATIONFAILED] Invalid user name or password");
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

static int cmd_id(struct conn *c, struct imap_p *p)
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

static int cmd_enable(struct conn *c, struct imap_p *p)
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

static int cmd_namespace(struct conn *c, struct imap_p *p)
{
	conn_printf(c, "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n");
	imap_done(c, "OK NAMESPACE completed");
	return 0;
}

static int cmd_idle(struct conn *c, struct imap_p *p)
{
	struct imap_sess *s = imap_of(c);

	s->sub = IMAP_SUB_IDLE;
	s->idle_done = 0;
	s->idle_since = loop_now();
	conn_printf(c, "+ idling\r\n");
	if (s->state == IMAP_SELECTED) {
		imap_view_idle(c, 1);
		imap_view_sync(s->sv.v);
		if (imap_updates_pending(c))
			imap_job_start(c, JOB_UPDATES);
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
	conn_set_timer(c, (int64_t)IMAP_TIMEOUT_S * 1000);
	return 0;
}

/* --- the command table -------------------------------------------------- */

enum { IN_NOTAUTH = 1, IN_AUTH = 2, IN_SELECTED = 4, IN_ANY = 7, IN_LOGGED = 6 };
enum { CF_UID = 1 };        /* valid after UID */

static const struct imap_cmd_def {
	const char *name;
	uint8_t states;
	uint8_t flags;
	int (*fn)(struct conn *c, struct imap_p *p);
} cmds[] = {
	{ "CAPABILITY", IN_ANY, 0, cmd_capability },
	{ "NOOP", IN_ANY, 0, cmd_noop },
	{ "LOGOUT", IN_ANY, 0, cmd_logout },
	{ "ID", IN_ANY, 0, cmd_id },
	{ "STARTTLS", IN_NOTAUTH, 0, cmd_starttls },
	{ "LOGIN", IN_NOTAUTH, 0, imap_cmd_login },
	{ "AUTHENTICATE", IN_NOTAUTH, 0, imap_cmd_authenticate },
	{ "ENABLE", IN_LOGGED, 0, cmd_enable },
	{ "NAMESPACE", IN_LOGGED, 0, cmd_namespace },
	{ "IDLE", IN_LOGGED, 0, cmd_idle },
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

/* One assembled command: tag, name, state check, handler. */
static int dispatch(struct conn *c, char *line, size_t len)
{
	struct imap_sess *s = imap_of(c);
	struct imap_p p;
	struct imap_str tag, name;
	int in, uid = 0;
	size_t i;

	memset(&s->job, 0, sizeof s->job);
	s->no_expunge = 0;
	imap_p_init(&p, line, len);
	if (imap_p_tag(&p, &tag) || tag.len > IMAP_TAG_MAX) {
		conn_printf(c, "* BAD %s\r\n", tag.len > IMAP_TAG_MAX && !p.err ? "Tag too long" : "Invalid tag");
		return 0;
	}
	memcpy(s->tag, tag.s, tag.len);
	s->tag[tag.len] = '\0';
	if (imap_p_sp(&p) || imap_p_atom(&p, &name)) {
		imap_p_fail(&p, "Missing command");
		imap_bad(c, &p);
		return 0;
	}
	if (imap_str_is(&name, "UID")) {
		uid = 1;
		if (imap_p_sp(&p) || imap_p_atom(&p, &name)) {
			imap_bad(c, &p);
			return 0;
		}
	}
	in = s->state == IMAP_NOTAUTH ? IN_NOTAUTH : s->state == IMAP_AUTH ? IN_AUTH : IN_SELECTED;
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		if (!imap_str_is(&name, cmds[i].name))
			continue;
		if (uid && !(cmds[i].flags & CF_UID))
			break;
		if (!(cmds[i].states & in)) {
			s->no_expunge = 1;
			imap_done(c, "BAD %s", in == IN_NOTAUTH ? "Log in first"
			                     : in == IN_SELECTED && cmds[i].states == IN_NOTAUTH ? "Already logged in"
			                     : cmds[i].states == IN_SELECTED ? "Select a mailbox first"
			                     : "Already logged in");
			return 0;
		}
		s->job.uid = (uint8_t)uid;
		if (s->state == IMAP_SELECTED)
			imap_view_sync(s->sv.v);
		return cmds[i].fn(c, &p);
	}
	s->no_expunge = 1;
	imap_done(c, "BAD Unknown command");
	return 0;
}

/* Start of the newest line segment of a command being assembled. */
static size_t seg_start(struct imap_sess *s, const char *line)
{
	if (!s->nlit)
		return 0;
	return s->lit_prev + (line[s->lit_prev] == '\r' ? 2 : 1) + (size_t)s->lit_n;
}

static void lit_reset(struct imap_sess *s)
{
	s->nlit = 0;
	s->lit_prev = 0;
	s->lit_n = 0;
}

/* A command line (possibly with literals so far): assemble or dispatch. */
static int imap_line(struct conn *c, char *line, size_t len)
{
	struct imap_sess *s = imap_of(c);
	size_t seg;
	uint64_t n;
	int plus, t;

	switch (s->sub) {
	case IMAP_SUB_SASL:
		return sasl_plain(c, line, len);
	case IMAP_SUB_IDLE:
		return idle_line(c, line, len);
	case IMAP_SUB_APPEND_EOL:
		imap_append_eol(c, len);
		return 0;
	default:
		break;
	}
	conn_set_timer(c, (int64_t)(s->state == IMAP_NOTAUTH ? conn_env.cfg->login_timeout : IMAP_TIMEOUT_S) *
	                  1000);
	seg = seg_start(s, line);
	if (seg > len)
		seg = len;
	t = imap_literal_tail(line + seg, len - seg, &n, &plus);
	if (t == 0) {
		lit_reset(s);
		return dispatch(c, line, len);
	}
	/* The command goes on after a literal. A size with too many digits is
	 * refused below like any literal too large. */
	if (t < 0)
		n = UINT64_MAX / 2;
	{
		/* APPEND's message literal streams to a spool file. */
		struct imap_p p;
		struct imap_str tag, name;
		imap_p_init(&p, line, len);
		if (imap_p_tag(&p, &tag) == 0 && tag.len <= IMAP_TAG_MAX && imap_p_sp(&p) == 0 &&
		    imap_p_atom(&p, &name) == 0 && imap_str_is(&name, "APPEND")) {
			memcpy(s->tag, tag.s, tag.len);
			s->tag[tag.len] = '\0';
			const char *brace = memrchr(line + seg, '{', len - seg);
			size_t head = brace ? (size_t)(brace - line) : len;
			/* The mailbox is the first argument; a literal after it is the message. */
			if (head > 0 && line[head - 1] == ' ' && line + head - 1 > p.p) {
				lit_reset(s);
				memset(&s->job, 0, sizeof s->job);
				return imap_append_start(c, line, head - 1, n, plus);
			}
		}
	}
	if (s->nlit >= IMAP_LITERALS_MAX || (plus && n > IMAP_LITERAL_PLUS_MAX) ||
	    (uint64_t)len + 2 + n + 2 > IMAP_CMD_MAX) {
		struct imap_p p;
		struct imap_str tag;
		imap_p_init(&p, line, len);
		if (imap_p_tag(&p, &tag) == 0 && tag.len <= IMAP_TAG_MAX) {
			memcpy(s->tag, tag.s, tag.len);
			s->tag[tag.len] = '\0';
		} else {
			strcpy(s->tag, "*");
		}
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
	s->nlit++;
	s->lit_prev = len;
	s->lit_n = n;
	return 1 + (int)n;
}

static int imap_raw(struct conn *c, const unsigned char *data, size_t len)
{
	return imap_append_raw(c, data, len);
}

static void imap_too_long(struct conn *c)
{
	struct imap_sess *s = imap_of(c);

	lit_reset(s);
	if (s->sub == IMAP_SUB_SASL)
		s->sub = IMAP_SUB_NONE;
	conn_printf(c, "* BAD Command line too long (the limit is %d octets)\r\n", IMAP_CMD_MAX);
}

/* --- timers, commit, close --------------------------------------------- */

static void imap_timer(struct conn *c)
{
	struct imap_sess *s = imap_of(c);

	if (s->wr != WR_NONE && !(c->flags & CONN_F_COMMIT)) {
		commit_queue(c);            /* retry after the map grew */
		return;
	}
	if (c->flags & CONN_F_HOLD && !(c->flags & CONN_F_COMMIT)) {
		/* The delayed answer to a failed login. */
		imap_done(c, "NO [AUTHENTICATIONFAILED] Invalid user name or password");
		if (login_resume(c, s->failures) == LOGIN_ETOOMANY)
			s->state = IMAP_LOGOUT;     /* closes after the answer */
		return;
	}
	if (s->sub == IMAP_SUB_IDLE) {
		if (!(c->flags & CONN_F_STREAMING))
			conn_printf(c, "* OK Still here\r\n");
		conn_set_timer(c, (int64_t)IMAP_IDLE_KEEPALIVE_S * 1000);
		return;
	}
	conn_printf(c, "* BYE Autologout; idle for too long\r\n");
	c->flags &= ~(unsigned)CONN_F_STREAMING;
	conn_close_after(c);
}

static int imap_commit(struct conn *c, struct store_batch *b)
{
	return imap_write_commit(c, b);
}

static void imap_committed(struct conn *c, int err)
{
	imap_write_committed(c, err);
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
	s->app_fd = -1;
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
	.start = greeting,
	.line = imap_line,
	.raw = imap_raw,
	.too_long = imap_too_long,
	.stream = imap_stream,
	.commit = imap_commit,
	.committed = imap_committed,
	.timer = imap_timer,
	.close = imap_close,
	.user = imap_user,
	.mbox_changed = imap_view_notify,
	.shutdown = imap_view_shutdown,
};

#endif
