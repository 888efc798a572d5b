/*
 * cfg — parse the configuration file into a struct cfg.
 *
 * The text is parsed in place, line by line, into a scratch copy of the
 * struct; only a file without any error is copied to the caller, so a bad
 * file (at start-up or on SIGHUP) changes nothing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sysconfig.h"
#include "cfg.h"

#define CFG_IMAP_BUILT CONFIG_IMAP

#define CFG_FILE_MAX 65536u     /* bytes in a config file */
#define CFG_LINE_MAX 1024u      /* a line of this many bytes (newline excluded) is an error */
#define CFG_MSG_MAX 256u

#define KIB 1024ull
#define MIB (1024ull * KIB)
#define GIB (1024ull * MIB)

/* The notify socket lives in datadir, so datadir must leave room for it in sun_path. */
#define CFG_NOTIFY_NAME "/notify.sock"
#define CFG_DATADIR_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - sizeof(CFG_NOTIFY_NAME))

struct cfg_parser;
typedef int (*cfg_setter)(struct cfg_parser *p, const char *val);

struct cfg_key {
	const char *name;
	cfg_setter set;
	int repeatable;
};

/* Everything one parse needs; the result stays in c until the very end. */
struct cfg_parser {
	struct cfg c;
	unsigned line;                  /* current line, 1-based */
	unsigned seen[32];              /* per key: line it was first given on, 0 = not given */
	unsigned listen_line[CFG_MAX_LISTEN];
	char msg[CFG_MSG_MAX];
};

static int cfg_bad(struct cfg_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Record an error message for the current line; always returns -1. */
static int cfg_bad(struct cfg_parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* Range-checked decimal parse: digits only, no sign, no spaces. 0 or -1. */
int cfg_parse_uint(const char *s, unsigned long long min, unsigned long long max, unsigned long long *out)
{
	unsigned long long n = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		unsigned d;
		if (*s < '0' || *s > '9')
			return -1;
		d = (unsigned)(*s - '0');
		if (n > (~0ull - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	if (n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

/* Parse a byte count with an optional binary suffix (K, M, G, T, optionally followed by B or iB). 0 or -1. */
int cfg_parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "kmgt";
	char digits[24];
	size_t nd = 0;
	unsigned long long n;
	unsigned shift = 0;
	const char *u;

	if (s == NULL)
		return -1;
	while (s[nd] >= '0' && s[nd] <= '9')
		nd++;
	if (nd == 0 || nd >= sizeof(digits))
		return -1;
	memcpy(digits, s, nd);
	digits[nd] = '\0';
	if (cfg_parse_uint(digits, 0, UINT64_MAX, &n) < 0)
		return -1;
	s += nd;
	if (*s != '\0') {
		char ch = (char)(*s | 0x20);
		u = ch != '\0' ? strchr(units, ch) : NULL;
		if (u != NULL) {
			shift = 10u * (unsigned)(u - units + 1);
			s++;
			if ((*s | 0x20) == 'i' && (s[1] | 0x20) == 'b')
				s += 2;
			else if ((*s | 0x20) == 'b')
				s++;
		} else if (ch == 'b') {
			s++;
		}
		if (*s != '\0')
			return -1;
	}
	if (shift > 0 && n > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)n << shift;
	return 0;
}

/* Shortest exact rendering of a size for messages: "64M", "1536K", "100". */
static const char *cfg_fmt_size(uint64_t v, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	int i = -1;

	while (i < 3 && v >= 1024 && v % 1024 == 0) {
		v /= 1024;
		i++;
	}
	if (i < 0)
		snprintf(buf, len, "%llu", (unsigned long long)v);
	else
		snprintf(buf, len, "%llu%c", (unsigned long long)v, units[i]);
	return buf;
}

/* 1 if s is a DNS host name: dot-separated labels of 1..63 letters, digits, hyphens, not starting or ending with a hyphen. */
static int cfg_is_hostname(const char *s, size_t max)
{
	size_t len = strlen(s), label = 0, i;

	if (len == 0 || len > max || len > 253)
		return 0;
	for (i = 0; i <= len; i++) {
		char ch = s[i];
		if (ch == '.' || ch == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-'))
			return 0;
		if (label == 0 && ch == '-')
			return 0;
		label++;
	}
	return 1;
}

/* Copy a string value into a fixed field; -1 if it does not fit. */
static int cfg_set_str(struct cfg_parser *p, char *dst, size_t size, const char *key, const char *val)
{
	size_t len = strlen(val);

	if (len >= size)
		return cfg_bad(p, "%s is too long (at most %zu bytes)", key, size - 1);
	memcpy(dst, val, len + 1);
	return 0;
}

/* Pick val out of a NULL-terminated list of words; index or -1. */
static int cfg_word(const char *val, const char *const *words)
{
	int i;

	for (i = 0; words[i] != NULL; i++)
		if (strcmp(val, words[i]) == 0)
			return i;
	return -1;
}

static int cfg_set_datadir(struct cfg_parser *p, const char *v)
{
	if (*v == '\0')
		return cfg_bad(p, "datadir must not be empty");
	if (strlen(v) > CFG_DATADIR_MAX)
		return cfg_bad(p, "datadir is too long (at most %zu bytes, so that %s fits a socket address)",
			       CFG_DATADIR_MAX, &CFG_NOTIFY_NAME[1]);
	return cfg_set_str(p, p->c.datadir, sizeof(p->c.datadir), "datadir", v);
}

static int cfg_set_hostname(struct cfg_parser *p, const char *v)
{
	if (!cfg_is_hostname(v, sizeof(p->c.hostname) - 1))
		return cfg_bad(p, "hostname must be a DNS name such as mail.example.org");
	return cfg_set_str(p, p->c.hostname, sizeof(p->c.hostname), "hostname", v);
}

static int cfg_set_user(struct cfg_parser *p, const char *v)
{
	const char *s;

	for (s = v; *s != '\0'; s++) {
		char ch = *s;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '_' || ch == '.' || (ch == '-' && s != v)))
			return cfg_bad(p, "user must be a system user name (letters, digits, '.', '_', '-')");
	}
	return cfg_set_str(p, p->c.run_as, sizeof(p->c.run_as), "user", v);
}

static int cfg_set_cert(struct cfg_parser *p, const char *v)
{
	return cfg_set_str(p, p->c.cert, sizeof(p->c.cert), "cert", v);
}

static int cfg_set_key(struct cfg_parser *p, const char *v)
{
	return cfg_set_str(p, p->c.key, sizeof(p->c.key), "key", v);
}

static int cfg_set_pidfile(struct cfg_parser *p, const char *v)
{
	return cfg_set_str(p, p->c.pidfile, sizeof(p->c.pidfile), "pidfile", v);
}

static int cfg_set_log(struct cfg_parser *p, const char *v)
{
	static const char *const words[] = { "syslog", "stderr", NULL };

	if (cfg_word(v, words) < 0)
		return cfg_bad(p, "log must be syslog or stderr");
	return cfg_set_str(p, p->c.log, sizeof(p->c.log), "log", v);
}

/* Split "ADDRESS:PORT" ("1.2.3.4:995" or "[::1]:995") into a canonical address and a port. */
static int cfg_parse_hostport(struct cfg_parser *p, const char *s, struct cfg_listen *l)
{
	char host[64];
	const char *colon, *hs;
	size_t hlen;
	unsigned long long port;
	unsigned char bin[16];
	int af;

	if (*s == '[') {
		const char *end = strchr(s, ']');
		if (end == NULL || end[1] != ':')
			return cfg_bad(p, "listen address must be IPv4 or [IPv6] followed by :PORT");
		hs = s + 1;
		hlen = (size_t)(end - hs);
		colon = end + 1;
		af = AF_INET6;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return cfg_bad(p, "listen address needs a port, e.g. 0.0.0.0:995");
		hs = s;
		hlen = (size_t)(colon - s);
		if (memchr(hs, ':', hlen) != NULL)
			return cfg_bad(p, "IPv6 listen addresses must be in brackets, e.g. [::]:995");
		af = AF_INET;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return cfg_bad(p, "listen address must be a numeric IPv4 address or [IPv6]");
	memcpy(host, hs, hlen);
	host[hlen] = '\0';
	if (inet_pton(af, host, bin) != 1)
		return cfg_bad(p, "listen address must be a numeric IPv4 address or [IPv6]");
	if (cfg_parse_uint(colon + 1, 1, 65535, &port) < 0)
		return cfg_bad(p, "listen port must be between 1 and 65535");
	/* Canonical text, so "::0" and "::" are seen as the same address. */
	if (inet_ntop(af, bin, l->addr, sizeof(l->addr)) == NULL)
		return cfg_bad(p, "listen address must be a numeric IPv4 address or [IPv6]");
	l->port = (uint16_t)port;
	return 0;
}

/* listen = PROTO MODE ADDRESS:PORT; the first listen line replaces the default listeners. */
static int cfg_set_listen(struct cfg_parser *p, const char *v)
{
	static const char *const protos[] = { "pop3", "imap", NULL };
	static const char *const modes[] = { "none", "starttls", "tls", NULL };
	char buf[CFG_LINE_MAX];
	char *tok[4], *save = NULL;
	struct cfg_listen l;
	size_t n = 0, i;
	int proto, mode;

	if (strlen(v) >= sizeof(buf))
		return cfg_bad(p, "listen value is too long");
	memcpy(buf, v, strlen(v) + 1);
	for (tok[n] = strtok_r(buf, " ", &save); tok[n] != NULL && n < 3; tok[n] = strtok_r(NULL, " ", &save))
		n++;
	if (n != 3 || tok[3] != NULL)
		return cfg_bad(p, "listen must be PROTO MODE ADDRESS:PORT, e.g. pop3 tls 0.0.0.0:995");

	proto = cfg_word(tok[0], protos);
	if (proto < 0)
		return cfg_bad(p, "listen protocol must be pop3 or imap");
	if ((proto == CFG_PROTO_IMAP && !CFG_IMAP_BUILT) || (proto == CFG_PROTO_POP3 && !CONFIG_POP3))
		return cfg_bad(p, "%s is not available in this build", tok[0]);
	mode = cfg_word(tok[1], modes);
	if (mode < 0)
		return cfg_bad(p, "listen mode must be tls, starttls or none");
	if (mode != CFG_TLS_NONE && !CONFIG_TLS)
		return cfg_bad(p, "%s is not available in this build", tok[1]);

	memset(&l, 0, sizeof(l));
	l.proto = (enum cfg_proto)proto;
	l.tls = (enum cfg_tls)mode;
	if (cfg_parse_hostport(p, tok[2], &l) < 0)
		return -1;

	if (p->listen_line[0] == 0)
		p->c.nlisten = 0;
	for (i = 0; i < p->c.nlisten; i++)
		if (p->c.listen[i].port == l.port && strcmp(p->c.listen[i].addr, l.addr) == 0)
			return cfg_bad(p, "listen %s is already used on line %u", tok[2], p->listen_line[i]);
	if (p->c.nlisten >= CFG_MAX_LISTEN)
		return cfg_bad(p, "too many listen lines (at most %d)", CFG_MAX_LISTEN);
	p->listen_line[p->c.nlisten] = p->line;
	p->c.listen[p->c.nlisten++] = l;
	return 0;
}

static int cfg_set_plaintext(struct cfg_parser *p, const char *v)
{
	static const char *const words[] = { "never", "loopback", "lan", "always", NULL };
	int i = cfg_word(v, words);

	if (i < 0)
		return cfg_bad(p, "plaintext_auth must be never, loopback, lan or always");
	p->c.plaintext = (enum cfg_plain)i;
	return 0;
}

/* Shared by the numeric keys: parse v into *dst within [min, max]. */
static int cfg_set_num(struct cfg_parser *p, unsigned *dst, const char *key, const char *v, unsigned min, unsigned max)
{
	unsigned long long n;

	if (cfg_parse_uint(v, min, max, &n) < 0)
		return cfg_bad(p, "%s must be between %u and %u", key, min, max);
	*dst = (unsigned)n;
	return 0;
}

static int cfg_set_max_connections(struct cfg_parser *p, const char *v)
{
	return cfg_set_num(p, &p->c.max_connections, "max_connections", v, 1, CONFIG_MAX_CONNS);
}

/* Checked against max_connections once the whole file is read. */
static int cfg_set_max_per_ip(struct cfg_parser *p, const char *v)
{
	return cfg_set_num(p, &p->c.max_per_ip, "max_per_ip", v, 1, CONFIG_MAX_CONNS);
}

static int cfg_set_pop3_timeout(struct cfg_parser *p, const char *v)
{
	return cfg_set_num(p, &p->c.pop3_timeout, "pop3_timeout", v, 600, 86400);
}

/* RFC 3501 5.4: an autologout timer of at least 30 minutes. */
static int cfg_set_imap_timeout(struct cfg_parser *p, const char *v)
{
	return cfg_set_num(p, &p->c.imap_timeout, "imap_timeout", v, 1800, 86400);
}

/* How often views with IDLE sessions look for changes made by other
 * processes (those that send no notify datagram): latency against wakeups. */
static int cfg_set_imap_idle_poll(struct cfg_parser *p, const char *v)
{
	return cfg_set_num(p, &p->c.imap_idle_poll, "imap_idle_poll", v, 100, 10000);
}

static int cfg_set_login_timeout(struct cfg_parser *p, const char *v)
{
	return cfg_set_num(p, &p->c.login_timeout, "login_timeout", v, 10, 600);
}

static int cfg_set_sync(struct cfg_parser *p, const char *v)
{
	static const char *const words[] = { "off", "full", NULL };
	int i = cfg_word(v, words);

	if (i < 0)
		return cfg_bad(p, "sync must be full or off");
	p->c.sync = i;
	return 0;
}

/* The most a map may be: 1G where address space is 32 bits. */
static uint64_t cfg_map_limit(void)
{
	return sizeof(void *) >= 8 ? UINT64_MAX : GIB;
}

static int cfg_set_map_size(struct cfg_parser *p, const char *v)
{
	uint64_t n;

	if (cfg_parse_size(v, &n) < 0 || n < MIB || n > cfg_map_limit())
		return cfg_bad(p, sizeof(void *) >= 8 ? "map_size must be a size of at least 1M, e.g. 64M"
			       : "map_size must be a size between 1M and 1G on a 32-bit system");
	p->c.map_size = n;
	return 0;
}

/* Checked against map_size once the whole file is read. */
static int cfg_set_map_max(struct cfg_parser *p, const char *v)
{
	uint64_t n;

	if (cfg_parse_size(v, &n) < 0 || n < MIB || n > cfg_map_limit())
		return cfg_bad(p, sizeof(void *) >= 8 ? "map_max must be a size of at least 1M, e.g. 1G"
			       : "map_max must be a size between 1M and 1G on a 32-bit system");
	p->c.map_max = n;
	return 0;
}

static int cfg_set_quota(struct cfg_parser *p, const char *v)
{
	static const char *const words[] = { "temporary", "permanent", NULL };
	int i = cfg_word(v, words);

	if (i < 0)
		return cfg_bad(p, "quota_exceeded must be temporary or permanent");
	p->c.quota_mode = (enum cfg_quota_mode)i;
	return 0;
}

/* Who may set the first admin password on the web page (postnook.cgi). */
static int cfg_set_admin_setup(struct cfg_parser *p, const char *v)
{
	static const char *const words[] = { "never", "loopback", "lan", NULL };
	int i = cfg_word(v, words);

	if (i < 0)
		return cfg_bad(p, "admin_setup must be never, loopback or lan");
	p->c.admin_setup = (enum cfg_plain)i;
	return 0;
}

static int cfg_is_blank(char ch);

/* trace = NAME-OR-ADDRESS, ...: whose sessions the protocol trace records.
 * Kept canonical (addresses as inet_ntop writes them, ", " between items). */
static int cfg_set_trace(struct cfg_parser *p, const char *v)
{
	char buf[CFG_LINE_MAX], *item, *save = NULL;
	size_t n = 0, used = 0;

	if (!CONFIG_TRACE && *v)
		return cfg_bad(p, "trace: this build has no protocol trace (CONFIG_TRACE)");
	snprintf(buf, sizeof(buf), "%s", v);
	p->c.trace[0] = '\0';
	for (item = strtok_r(buf, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
		char canon[66];
		unsigned char bin[16];
		size_t len;
		const char *s;

		while (cfg_is_blank(*item))
			item++;
		for (len = strlen(item); len > 0 && cfg_is_blank(item[len - 1]); len--)
			;
		item[len] = '\0';
		if (len == 0)
			continue;
		if (++n > CFG_TRACE_MAX)
			return cfg_bad(p, "trace names at most %d users or addresses", CFG_TRACE_MAX);
		if (item[0] == '[' && item[len - 1] == ']') {
			item[--len] = '\0';
			item++;
			len--;
		}
		if (inet_pton(AF_INET, item, bin) == 1)
			inet_ntop(AF_INET, bin, canon, sizeof(canon));
		else if (inet_pton(AF_INET6, item, bin) == 1)
			inet_ntop(AF_INET6, bin, canon, sizeof(canon));
		else {
			for (s = item; (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
			               *s == '-'; s++)
				;
			if (*s != '\0' || s - item > 64 || (strchr(item, '.') && strspn(item, "0123456789.") == len))
				return cfg_bad(p, "trace: '%.64s' is neither a user name nor a numeric IP address", item);
			snprintf(canon, sizeof(canon), "%s", item);
		}
		used += (size_t)snprintf(p->c.trace + used, sizeof(p->c.trace) - used, "%s%s", used ? ", " : "", canon);
	}
	return 0;
}

enum {
	K_DATADIR, K_HOSTNAME, K_USER, K_CERT, K_KEY, K_PIDFILE, K_LOG, K_LISTEN, K_PLAINTEXT,
	K_MAXCONN, K_MAXPERIP, K_POP3TO, K_IMAPTO, K_IMAPPOLL, K_LOGINTO, K_SYNC, K_MAPSIZE, K_MAPMAX, K_QUOTA, K_ADMINSETUP, K_TRACE, K_COUNT
};

static const struct cfg_key cfg_keys[K_COUNT] = {
	[K_DATADIR] = { "datadir", cfg_set_datadir, 0 },
	[K_HOSTNAME] = { "hostname", cfg_set_hostname, 0 },
	[K_USER] = { "user", cfg_set_user, 0 },
	[K_CERT] = { "cert", cfg_set_cert, 0 },
	[K_KEY] = { "key", cfg_set_key, 0 },
	[K_PIDFILE] = { "pidfile", cfg_set_pidfile, 0 },
	[K_LOG] = { "log", cfg_set_log, 0 },
	[K_LISTEN] = { "listen", cfg_set_listen, 1 },
	[K_PLAINTEXT] = { "plaintext_auth", cfg_set_plaintext, 0 },
	[K_MAXCONN] = { "max_connections", cfg_set_max_connections, 0 },
	[K_MAXPERIP] = { "max_per_ip", cfg_set_max_per_ip, 0 },
	[K_POP3TO] = { "pop3_timeout", cfg_set_pop3_timeout, 0 },
	[K_IMAPTO] = { "imap_timeout", cfg_set_imap_timeout, 0 },
	[K_IMAPPOLL] = { "imap_idle_poll", cfg_set_imap_idle_poll, 0 },
	[K_LOGINTO] = { "login_timeout", cfg_set_login_timeout, 0 },
	[K_SYNC] = { "sync", cfg_set_sync, 0 },
	[K_MAPSIZE] = { "map_size", cfg_set_map_size, 0 },
	[K_MAPMAX] = { "map_max", cfg_set_map_max, 0 },
	[K_QUOTA] = { "quota_exceeded", cfg_set_quota, 0 },
	[K_ADMINSETUP] = { "admin_setup", cfg_set_admin_setup, 0 },
	[K_TRACE] = { "trace", cfg_set_trace, 0 },
};

/* Fill c with the defaults documented in cfg.h and the README. */
void cfg_defaults(struct cfg *c)
{
	char host[256];

	memset(c, 0, sizeof(*c));
	snprintf(c->datadir, sizeof(c->datadir), "%s", "/var/lib/postnook");
	memset(host, 0, sizeof(host));
	if (gethostname(host, sizeof(host) - 1) < 0 || !cfg_is_hostname(host, sizeof(c->hostname) - 1))
		snprintf(host, sizeof(host), "%s", "localhost");
	memcpy(c->hostname, host, strlen(host) + 1);     /* fits: checked above */
	snprintf(c->log, sizeof(c->log), "%s", "syslog");
	/* The classic ports: IMAP 993/143 (when built) and POP3 995/110. */
	if (CFG_IMAP_BUILT && CONFIG_TLS)
		c->listen[c->nlisten++] = (struct cfg_listen){ CFG_PROTO_IMAP, CFG_TLS_IMPLICIT, "0.0.0.0", 993 };
	if (CFG_IMAP_BUILT)
		c->listen[c->nlisten++] = (struct cfg_listen){ CFG_PROTO_IMAP,
			CONFIG_TLS ? CFG_TLS_STARTTLS : CFG_TLS_NONE, "0.0.0.0", 143 };
	if (CONFIG_POP3 && CONFIG_TLS)
		c->listen[c->nlisten++] = (struct cfg_listen){ CFG_PROTO_POP3, CFG_TLS_IMPLICIT, "0.0.0.0", 995 };
	if (CONFIG_POP3)
		c->listen[c->nlisten++] = (struct cfg_listen){ CFG_PROTO_POP3,
			CONFIG_TLS ? CFG_TLS_STARTTLS : CFG_TLS_NONE, "0.0.0.0", 110 };
	c->plaintext = CFG_PLAIN_LOOPBACK;
	c->max_connections = SYS_DEFAULT_MAX_CONNECTIONS;
	c->max_per_ip = 32;
	c->pop3_timeout = 600;
	c->imap_timeout = 1800;
	c->imap_idle_poll = 500;
	c->login_timeout = 60;
	c->sync = 1;
	c->map_size = 64 * MIB;
	c->map_max = sizeof(void *) >= 8 ? GIB : 256 * MIB;
	c->quota_mode = CFG_QUOTA_TEMPORARY;
	c->admin_setup = CFG_PLAIN_LAN;
}

static int cfg_is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* 1 if s holds a control character (C0 or DEL). */
static int cfg_has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* Parse one line of len bytes (no newline). 0 or -1 with p->msg set. */
static int cfg_parse_line(struct cfg_parser *p, const char *text, size_t len)
{
	char line[CFG_LINE_MAX];
	char *key, *val, *eq, *end;
	int i;

	if (len >= CFG_LINE_MAX)
		return cfg_bad(p, "line is longer than %u bytes", CFG_LINE_MAX - 1);
	if (memchr(text, '\0', len) != NULL)
		return cfg_bad(p, "NUL byte in line");
	memcpy(line, text, len);
	line[len] = '\0';
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';

	key = line;
	while (cfg_is_blank(*key))
		key++;
	if (*key == '\0' || *key == '#')
		return 0;
	eq = strchr(key, '=');
	if (eq == NULL)
		return cfg_bad(p, "expected 'key = value'");
	val = eq + 1;
	for (end = eq; end > key && cfg_is_blank(end[-1]); end--)
		;
	*end = '\0';
	while (cfg_is_blank(*val))
		val++;
	for (end = val + strlen(val); end > val && cfg_is_blank(end[-1]); end--)
		;
	*end = '\0';
	if (*key == '\0')
		return cfg_bad(p, "expected 'key = value'");
	if (cfg_has_ctl(key) || cfg_has_ctl(val))
		return cfg_bad(p, "control character in line");

	for (i = 0; i < K_COUNT; i++)
		if (strcmp(key, cfg_keys[i].name) == 0)
			break;
	if (i == K_COUNT)
		return cfg_bad(p, "unknown key '%.64s'", key);
	if (p->seen[i] != 0 && !cfg_keys[i].repeatable)
		return cfg_bad(p, "%s is given twice (first on line %u)", key, p->seen[i]);
	if (cfg_keys[i].set(p, val) < 0)
		return -1;
	if (p->seen[i] == 0)
		p->seen[i] = p->line;
	return 0;
}

/* Checks that need the whole file: pairs of keys. 0 or -1 with p->line and p->msg set. */
static int cfg_check_whole(struct cfg_parser *p)
{
	struct cfg *c = &p->c;
	char a[32];

	if ((c->cert[0] != '\0') != (c->key[0] != '\0')) {
		p->line = c->cert[0] != '\0' ? p->seen[K_CERT] : p->seen[K_KEY];
		return cfg_bad(p, "cert and key must be given together");
	}
	if (p->seen[K_MAXPERIP] == 0) {
		if (c->max_per_ip > c->max_connections)
			c->max_per_ip = c->max_connections;
	} else if (c->max_per_ip > c->max_connections) {
		p->line = p->seen[K_MAXPERIP];
		return cfg_bad(p, "max_per_ip must be between 1 and max_connections (%u)", c->max_connections);
	}
	if (p->seen[K_MAPMAX] == 0) {
		if (c->map_max < c->map_size)
			c->map_max = c->map_size;
	} else if (c->map_max < c->map_size) {
		p->line = p->seen[K_MAPMAX];
		return cfg_bad(p, "map_max must be at least map_size (%s)", cfg_fmt_size(c->map_size, a, sizeof(a)));
	}
	return 0;
}

/* Write "NAME:LINE: msg" (or "NAME: msg" when line is 0) into err. */
static void cfg_set_err(char *err, size_t errlen, const char *name, unsigned line, const char *msg)
{
	if (err == NULL || errlen == 0)
		return;
	if (line > 0)
		snprintf(err, errlen, "%s:%u: %s", name, line, msg);
	else
		snprintf(err, errlen, "%s: %s", name, msg);
}

/* Parse len bytes of config text into c (defaults first); c is untouched on error. 0 or -1 with err set. */
int cfg_parse(struct cfg *c, const char *name, const char *text, size_t len, char *err, size_t errlen)
{
	struct cfg_parser *p;
	size_t pos = 0;
	int rc = -1;

	if (name == NULL)
		name = "config";
	if (len > CFG_FILE_MAX) {
		cfg_set_err(err, errlen, name, 0, "file is larger than 64 KiB");
		return -1;
	}
	if (text == NULL && len > 0) {
		cfg_set_err(err, errlen, name, 0, "no text");
		return -1;
	}
	/* A struct cfg is a few KiB: keep it off small thread stacks. */
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		cfg_set_err(err, errlen, name, 0, "out of memory");
		return -1;
	}
	cfg_defaults(&p->c);
	while (pos < len) {
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t llen = nl != NULL ? (size_t)(nl - start) : len - pos;

		p->line++;
		if (cfg_parse_line(p, start, llen) < 0)
			goto out;
		pos += llen + (nl != NULL);
	}
	if (cfg_check_whole(p) < 0)
		goto out;
	*c = p->c;
	rc = 0;
out:
	if (rc < 0)
		cfg_set_err(err, errlen, name, p->line, p->msg);
	free(p);
	return rc;
}

/* Read a config file of at most 64 KiB and parse it. 0 or -1 with err set. */
int cfg_load(struct cfg *c, const char *path, char *err, size_t errlen)
{
	char msg[CFG_MSG_MAX];
	struct stat st;
	char *buf;
	size_t len = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(msg, sizeof(msg), "cannot open: %s", strerror(errno));
		cfg_set_err(err, errlen, path, 0, msg);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		cfg_set_err(err, errlen, path, 0, "not a regular file");
		return -1;
	}
	buf = malloc(CFG_FILE_MAX + 1);
	if (buf == NULL) {
		close(fd);
		cfg_set_err(err, errlen, path, 0, "out of memory");
		return -1;
	}
	/* Read one byte more than allowed, so a too-large file is noticed. */
	while (len < CFG_FILE_MAX + 1) {
		ssize_t n = read(fd, buf + len, CFG_FILE_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(msg, sizeof(msg), "cannot read: %s", strerror(errno));
			cfg_set_err(err, errlen, path, 0, msg);
			close(fd);
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	rc = cfg_parse(c, path, buf, len, err, errlen);
	free(buf);
	return rc;
}
