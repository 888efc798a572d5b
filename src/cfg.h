/*
 * cfg — the configuration file.
 *
 * Format: one "key = value" per line; '#' starts a comment line; blank lines
 * ignored; keys are unique except "listen", which may repeat. Every key, its
 * default and range are documented in README.md. A bad file yields an error
 * "FILE:LINE: what is wrong" and nothing of it is used.
 */
#ifndef POSTNOOK_CFG_H
#define POSTNOOK_CFG_H

#include <stddef.h>
#include <stdint.h>

#define CFG_MAX_LISTEN 16
#define CFG_PATH_MAX 256
#define CFG_ERR_MAX 512
#define CFG_TRACE_MAX 8         /* users and addresses in the trace key */

enum cfg_proto { CFG_PROTO_POP3, CFG_PROTO_IMAP, CFG_PROTO_N };
enum cfg_tls { CFG_TLS_NONE, CFG_TLS_STARTTLS, CFG_TLS_IMPLICIT };
/* Where a password may be sent without TLS. */
enum cfg_plain { CFG_PLAIN_NEVER, CFG_PLAIN_LOOPBACK, CFG_PLAIN_LAN, CFG_PLAIN_ALWAYS };
enum cfg_quota_mode { CFG_QUOTA_TEMPORARY, CFG_QUOTA_PERMANENT };

struct cfg_listen {
	enum cfg_proto proto;
	enum cfg_tls tls;
	char addr[64];          /* numeric IPv4 or IPv6 address, no brackets */
	uint16_t port;
};

struct cfg {
	char datadir[CFG_PATH_MAX];     /* datadir = /var/lib/postnook */
	char hostname[128];             /* hostname = (gethostname) */
	char run_as[32];                /* user = "" (stay as started), e.g. postnook */
	char cert[CFG_PATH_MAX];        /* cert = "" (self-made in datadir) */
	char key[CFG_PATH_MAX];         /* key = "" */
	char pidfile[CFG_PATH_MAX];     /* pidfile = "" (none) */
	char log[16];                   /* log = syslog | stderr */
	struct cfg_listen listen[CFG_MAX_LISTEN];
	size_t nlisten;
	enum cfg_plain plaintext;       /* plaintext_auth = loopback */
	unsigned max_connections;       /* 1..CONFIG_MAX_CONNS, default min(256, CONFIG_MAX_CONNS) */
	unsigned max_per_ip;            /* 1..max_connections, default 32 */
	unsigned pop3_timeout;          /* seconds, 600..86400, default 600 */
	unsigned imap_timeout;          /* seconds, 1800..86400, default 1800 (IMAP autologout) */
	unsigned imap_idle_poll;        /* ms, 100..10000, default 500 (views with IDLE sessions look at the store) */
	unsigned login_timeout;         /* seconds before login, 10..600, default 60 */
	int sync;                       /* sync = full (1) | off (0; tests only) */
	uint64_t map_size;              /* map_size = 64M */
	uint64_t map_max;               /* map_max = 1G (64-bit) */
	enum cfg_quota_mode quota_mode; /* quota_exceeded = temporary | permanent */
	enum cfg_plain admin_setup;     /* admin_setup = lan: who may set the first web admin password */
	/* trace = "" (off): users and numeric client addresses whose sessions
	 * the protocol trace records (trace.h), canonical: "alice, 192.168.1.23" */
	char trace[CFG_TRACE_MAX * 66];
};

/* Fill c with the defaults. */
void cfg_defaults(struct cfg *c);
/* Parse a whole file into c (defaults first). 0, or -1 with err set. */
int cfg_load(struct cfg *c, const char *path, char *err, size_t errlen);
/* Parse len bytes of text; name is used in messages. 0, or -1 with err set. */
int cfg_parse(struct cfg *c, const char *name, const char *text, size_t len, char *err, size_t errlen);
/* Parse "64M", "2G", "500MB", "1024" (bytes, suffixes K M G T, binary). 0 or -1. */
int cfg_parse_size(const char *s, uint64_t *out);
/* Range-checked unsigned parse (strtonum-like). 0 or -1. */
int cfg_parse_uint(const char *s, unsigned long long min, unsigned long long max, unsigned long long *out);

#endif
