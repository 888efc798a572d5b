/*
 * conn_trace — the protocol trace of a connection (trace.h): which
 * connections are traced, the command lines the protocols hand over
 * (already masked), the replies as they are queued, cut into lines, and
 * message data (streamed bodies, literals read raw) summarised by size.
 * State lives in a small pool, not in the slots: an untraced connection
 * pays one byte (conn.trace).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "conn_int.h"
#include "log.h"
#include "trace.h"

#if CONFIG_TRACE

/* Connections traced at once; more are logged and left untraced. */
#define CONN_TRACE_SLOTS 16

static struct conn_trace {
	uint32_t id;                   /* the traced connection; 0 = free */
	uint32_t more;                 /* bytes of the reply line beyond part */
	size_t plen;                   /* bytes of the reply line so far in part */
	uint64_t body, raw;            /* message data sent / literal data taken, not yet reported */
	char part[TRACE_TEXT_MAX];
} traces[CONN_TRACE_SLOTS];

static void put(const struct conn *c, const char *dir, const char *text, size_t len)
{
	trace_write(conn_env.cfg->datadir, c->id, dir, text, len);
}

/* Report message data counted since the last line. */
static void flush_data(const struct conn *c, struct conn_trace *t)
{
	char msg[64];

	if (t->raw) {
		put(c, "C:", msg, (size_t)snprintf(msg, sizeof msg, "[%llu bytes of literal data]",
		                                   (unsigned long long)t->raw));
		t->raw = 0;
	}
	if (t->body) {
		put(c, "S:", msg, (size_t)snprintf(msg, sizeof msg, "[%llu bytes of message data]",
		                                   (unsigned long long)t->body));
		t->body = 0;
	}
}

static void event(const struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void event(const struct conn *c, const char *fmt, ...)
{
	char msg[160];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	put(c, "*", msg, n < 0 ? 0 : (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
}

/* Start tracing c (why: what matched). */
static void start(struct conn *c, const char *why)
{
	size_t i;

	for (i = 0; i < CONN_TRACE_SLOTS && traces[i].id; i++)
		;
	if (i == CONN_TRACE_SLOTS) {
		conn_log(c, LOG_LVL_WARN, "not traced: %d connections are traced already", CONN_TRACE_SLOTS);
		return;
	}
	memset(&traces[i], 0, sizeof traces[i]);
	traces[i].id = c->id;
	c->trace = (uint8_t)(i + 1);
	event(c, "trace on (%s): %s %s port %u%s", why, c->ops->name, c->peer_str, c->listen.port,
	      c->tls || c->listen.tls == CFG_TLS_IMPLICIT ? " (tls)" : "");
}

/* Stop tracing c, with a last event line "what (why)". */
static void stop(struct conn *c, const char *what, const char *why)
{
	struct conn_trace *t = &traces[c->trace - 1];

	if (t->plen)
		put(c, "S:", t->part, t->plen + t->more);
	flush_data(c, t);
	event(c, "%s (%s)", what, why);
	t->id = 0;
	c->trace = 0;
}

void conn_trace_stop(struct conn *c, const char *why)
{
	if (conn_traced(c))
		stop(c, "closed", why);
}

/* Should c be traced now (its address, its signed-in user)? Start or stop. */
static void check(struct conn *c, const char *user)
{
	int want = trace_wanted(conn_env.cfg, &c->peer, user);

	if (want && !c->trace)
		start(c, user ? "user" : "address");
	else if (!want && c->trace)
		stop(c, "trace off", "no longer in the config's trace list");
}

void conn_trace_connect(struct conn *c)
{
	if (trace_wanted(conn_env.cfg, &c->peer, NULL))
		start(c, "address");
}

void conn_trace_login(struct conn *c, const char *user)
{
	if (!c->trace && trace_wanted(conn_env.cfg, &c->peer, user))
		start(c, "user");
}

static void reload_one(void *arg, const struct conn *cc)
{
	struct conn *c = (struct conn *)(uintptr_t)cc;   /* conn_foreach hands out const */

	(void)arg;
	check(c, c->ops->user(c));
}

void conn_trace_reload(void)
{
	trace_close();
	conn_foreach(reload_one, NULL);
}

void conn_trace_in(struct conn *c, const char *text, size_t show, int masked)
{
	struct conn_trace *t;
	char line[TRACE_TEXT_MAX + 8];
	size_t n = show < TRACE_TEXT_MAX ? show : TRACE_TEXT_MAX;

	if (!conn_traced(c))
		return;
	t = &traces[c->trace - 1];
	flush_data(c, t);
	if (!masked) {
		put(c, "C:", text, show);
		return;
	}
	memcpy(line, text, n);
	memcpy(line + n, n ? " ***" : "***", n ? 4 : 3);
	put(c, "C:", line, n + (n ? 4 : 3));
}

void conn_trace_out(struct conn *c, const void *data, size_t len)
{
	struct conn_trace *t = &traces[c->trace - 1];
	const char *p = data, *end = p + len;

	if (t->body || t->raw)
		flush_data(c, t);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p), fit = n;
		if (fit > TRACE_TEXT_MAX - t->plen)
			fit = TRACE_TEXT_MAX - t->plen;
		memcpy(t->part + t->plen, p, fit);
		t->plen += fit;
		t->more += (uint32_t)(n - fit);
		if (!nl)
			break;
		if (t->plen && t->part[t->plen - 1] == '\r' && !t->more)
			t->plen--;
		put(c, "S:", t->part, t->plen + t->more);
		t->plen = t->more = 0;
		p = nl + 1;
	}
}

void conn_trace_data(struct conn *c, size_t n, int in)
{
	struct conn_trace *t = &traces[c->trace - 1];

	if (in)
		t->raw += n;
	else
		t->body += n;
}

void conn_trace_note(struct conn *c, const char *what)
{
	if (conn_traced(c))
		event(c, "%s", what);
}

#else /* !CONFIG_TRACE */

void conn_trace_stop(struct conn *c, const char *why) { (void)c; (void)why; }
void conn_trace_connect(struct conn *c) { (void)c; }
void conn_trace_login(struct conn *c, const char *user) { (void)c; (void)user; }
void conn_trace_reload(void) { }
void conn_trace_in(struct conn *c, const char *text, size_t show, int masked) { (void)c; (void)text; (void)show; (void)masked; }
void conn_trace_out(struct conn *c, const void *data, size_t len) { (void)c; (void)data; (void)len; }
void conn_trace_data(struct conn *c, size_t n, int in) { (void)c; (void)n; (void)in; }
void conn_trace_note(struct conn *c, const char *what) { (void)c; (void)what; }

#endif
