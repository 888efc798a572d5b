/* test_cfg — known answers for the config parser (src/cfg.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sysconfig.h"
#include "cfg.h"
#include "check.h"

#define STR(x) #x
#define XSTR(x) STR(x)

static struct cfg c;
static char err[CFG_ERR_MAX];

/* Parse a NUL-terminated text as "t.conf"; returns cfg_parse's result. */
static int parse_raw(const char *text)
{
	err[0] = '\0';
	return cfg_parse(&c, "t.conf", text, strlen(text), err, sizeof(err));
}

/*
 * Parse text as "t.conf". The listen tests are written for POP3; a build
 * without POP3 (CONFIG_POP3=n) parses them as IMAP listeners, so the same
 * address, port and mode checks run there too.
 */
static int parse(const char *text)
{
	static char copy[4096];
	char *p;

	if (CONFIG_POP3 || strlen(text) >= sizeof copy)
		return parse_raw(text);
	strcpy(copy, text);
	for (p = copy; (p = strstr(p, "= pop3 ")) != NULL; p += 7)
		memcpy(p, "= imap ", 7);
	return parse_raw(copy);
}

/* Expect text to fail with exactly the message want. */
static void expect_err(const char *text, const char *want, int line)
{
	int rc = parse(text);

	if (rc == -1 && strcmp(err, want) == 0) {
		passed++;
		return;
	}
	failed++;
	printf("FAIL line %d: rc %d, got \"%s\", want \"%s\"\n", line, rc, err, want);
}
#define ERR(text, want) expect_err((text), (want), __LINE__)

static void expect_ok(const char *text, int line)
{
	int rc = parse(text);

	if (rc == 0) {
		passed++;
		return;
	}
	failed++;
	printf("FAIL line %d: rc %d, err \"%s\"\n", line, rc, err);
}
#define OK(text) expect_ok((text), __LINE__)

static void test_defaults(void)
{
	char host[256] = "";

	OK("");
	CHECK(strcmp(c.datadir, "/var/lib/postnook") == 0);
	CHECK(c.hostname[0] != '\0');
	if (gethostname(host, sizeof(host) - 1) == 0 && strchr(host, '_') == NULL && strlen(host) < sizeof(c.hostname))
		CHECK(strcmp(c.hostname, host) == 0);
	CHECK(strcmp(c.run_as, "") == 0);
	CHECK(strcmp(c.cert, "") == 0 && strcmp(c.key, "") == 0 && strcmp(c.pidfile, "") == 0);
	CHECK(strcmp(c.log, "syslog") == 0);
	/* the classic ports: IMAP 993 and 143, POP3 995 and 110, each when built */
	CHECK(c.nlisten == (CONFIG_IMAP ? 2u : 0u) + (CONFIG_POP3 ? 2u : 0u));
#if CONFIG_IMAP
	CHECK(c.listen[0].proto == CFG_PROTO_IMAP && c.listen[0].tls == CFG_TLS_IMPLICIT);
	CHECK(strcmp(c.listen[0].addr, "0.0.0.0") == 0 && c.listen[0].port == 993);
	CHECK(c.listen[1].proto == CFG_PROTO_IMAP && c.listen[1].tls == CFG_TLS_STARTTLS);
	CHECK(strcmp(c.listen[1].addr, "0.0.0.0") == 0 && c.listen[1].port == 143);
#endif
#if CONFIG_POP3
	{
		const struct cfg_listen *l = &c.listen[c.nlisten - 2];

		CHECK(l[0].proto == CFG_PROTO_POP3 && l[0].tls == CFG_TLS_IMPLICIT);
		CHECK(strcmp(l[0].addr, "0.0.0.0") == 0 && l[0].port == 995);
		CHECK(l[1].proto == CFG_PROTO_POP3 && l[1].tls == CFG_TLS_STARTTLS);
		CHECK(strcmp(l[1].addr, "0.0.0.0") == 0 && l[1].port == 110);
	}
#endif
	CHECK(c.plaintext == CFG_PLAIN_LOOPBACK);
	CHECK(c.max_connections == (CONFIG_MAX_CONNS < 256 ? CONFIG_MAX_CONNS : 256));
	CHECK(c.max_per_ip == 32);
	CHECK(c.pop3_timeout == 600);
	CHECK(c.login_timeout == 60);
	CHECK(c.sync == 1);
	CHECK(c.map_size == 64ull << 20);
	CHECK(c.map_max == (sizeof(void *) == 8 ? 1ull << 30 : 256ull << 20));
	CHECK(c.quota_mode == CFG_QUOTA_TEMPORARY);

	/* comments, blank lines, whitespace, CRLF */
	OK("# a comment\n\n   \n\t# indented comment\r\n  datadir\t=  /srv/mail  \r\n");
	CHECK(strcmp(c.datadir, "/srv/mail") == 0);
	OK("datadir=/x");  /* no newline at the end */
	CHECK(strcmp(c.datadir, "/x") == 0);
}

static void test_keys(void)
{
	OK("datadir = /data/pn\n"
	   "hostname = mail.example.org\n"
	   "user = postnook\n"
	   "cert = /etc/ssl/pn.crt\n"
	   "key = /etc/ssl/pn.key\n"
	   "pidfile = /run/postnook.pid\n"
	   "log = stderr\n"
	   "listen = pop3 tls 192.168.1.1:995\n"
	   "listen = pop3 none [::1]:1110\n"
	   "plaintext_auth = lan\n"
	   "max_connections = 40\n"
	   "max_per_ip = 10\n"
	   "pop3_timeout = 86400\n"
	   "login_timeout = 10\n"
	   "sync = off\n"
	   "map_size = 16M\n"
	   "map_max = 512M\n"
	   "quota_exceeded = permanent\n");
	CHECK(strcmp(c.datadir, "/data/pn") == 0);
	CHECK(strcmp(c.hostname, "mail.example.org") == 0);
	CHECK(strcmp(c.run_as, "postnook") == 0);
	CHECK(strcmp(c.cert, "/etc/ssl/pn.crt") == 0 && strcmp(c.key, "/etc/ssl/pn.key") == 0);
	CHECK(strcmp(c.pidfile, "/run/postnook.pid") == 0);
	CHECK(strcmp(c.log, "stderr") == 0);
	CHECK(c.nlisten == 2);
	CHECK(c.listen[0].tls == CFG_TLS_IMPLICIT && strcmp(c.listen[0].addr, "192.168.1.1") == 0 && c.listen[0].port == 995);
	CHECK(c.listen[1].tls == CFG_TLS_NONE && strcmp(c.listen[1].addr, "::1") == 0 && c.listen[1].port == 1110);
	CHECK(c.plaintext == CFG_PLAIN_LAN);
	CHECK(c.max_connections == 40 && c.max_per_ip == 10);
	CHECK(c.pop3_timeout == 86400 && c.login_timeout == 10);
	CHECK(c.sync == 0);
	CHECK(c.map_size == 16ull << 20 && c.map_max == 512ull << 20);
	CHECK(c.quota_mode == CFG_QUOTA_PERMANENT);

	OK("plaintext_auth = never\n");
	CHECK(c.plaintext == CFG_PLAIN_NEVER);
	OK("plaintext_auth = always\nsync = full\nquota_exceeded = temporary\nlog = syslog\n");
	CHECK(c.plaintext == CFG_PLAIN_ALWAYS && c.sync == 1 && c.quota_mode == CFG_QUOTA_TEMPORARY);
	OK("user =\n");
	CHECK(c.run_as[0] == '\0');
	OK("max_connections = 1\nmax_per_ip = 1\npop3_timeout = 600\nlogin_timeout = 600\n");
	CHECK(c.max_connections == 1 && c.max_per_ip == 1 && c.login_timeout == 600);
	/* max_per_ip's default follows a smaller max_connections */
	OK("max_connections = 8\n");
	CHECK(c.max_per_ip == 8);
	/* map_max's default follows a larger map_size */
	if (sizeof(void *) == 8) {
		OK("map_size = 4G\n");
		CHECK(c.map_size == 4ull << 30 && c.map_max == 4ull << 30);
	}
}

static void test_errors(void)
{
	char big[2100];

	ERR("datadir = /a\n\n# x\nfoo = 1\n", "t.conf:4: unknown key 'foo'");
	ERR("datadir\n", "t.conf:1: expected 'key = value'");
	ERR(" = x\n", "t.conf:1: expected 'key = value'");
	ERR("datadir = /a\ndatadir = /b\n", "t.conf:2: datadir is given twice (first on line 1)");
	ERR("datadir =\n", "t.conf:1: datadir must not be empty");
	ERR("datadir = /a\tb\n", "t.conf:1: control character in line");
	ERR("datadir = /a\x1b[2Jb\n", "t.conf:1: control character in line");
	ERR("datadir = /a\rb\n", "t.conf:1: control character in line");
	ERR("datadir = /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	    "t.conf:1: datadir is too long (at most 95 bytes, so that notify.sock fits a socket address)");
	ERR("hostname = -bad.example\n", "t.conf:1: hostname must be a DNS name such as mail.example.org");
	ERR("hostname = a..b\n", "t.conf:1: hostname must be a DNS name such as mail.example.org");
	ERR("hostname = under_score\n", "t.conf:1: hostname must be a DNS name such as mail.example.org");
	ERR("hostname =\n", "t.conf:1: hostname must be a DNS name such as mail.example.org");
	ERR("user = -root\n", "t.conf:1: user must be a system user name (letters, digits, '.', '_', '-')");
	ERR("user = a b\n", "t.conf:1: user must be a system user name (letters, digits, '.', '_', '-')");
	ERR("user = abcdefghijabcdefghijabcdefghij12\n", "t.conf:1: user is too long (at most 31 bytes)");
	ERR("log = file\n", "t.conf:1: log must be syslog or stderr");
	ERR("plaintext_auth = yes\n", "t.conf:1: plaintext_auth must be never, loopback, lan or always");
	ERR("\n\n\n\n\n\nmax_connections = 0\n", "t.conf:7: max_connections must be between 1 and " XSTR(CONFIG_MAX_CONNS));
	ERR("max_connections = 1025\n", "t.conf:1: max_connections must be between 1 and " XSTR(CONFIG_MAX_CONNS));
	ERR("max_connections = -1\n", "t.conf:1: max_connections must be between 1 and " XSTR(CONFIG_MAX_CONNS));
	ERR("max_connections = +5\n", "t.conf:1: max_connections must be between 1 and " XSTR(CONFIG_MAX_CONNS));
	ERR("max_connections = 5 0\n", "t.conf:1: max_connections must be between 1 and " XSTR(CONFIG_MAX_CONNS));
	ERR("max_connections = 0x10\n", "t.conf:1: max_connections must be between 1 and " XSTR(CONFIG_MAX_CONNS));
	ERR("max_connections = 99999999999999999999999\n", "t.conf:1: max_connections must be between 1 and " XSTR(CONFIG_MAX_CONNS));
	ERR("max_per_ip = 0\n", "t.conf:1: max_per_ip must be between 1 and " XSTR(CONFIG_MAX_CONNS));
	/* values that fit a board's smaller CONFIG_MAX_CONNS (64 on the minimal router build) */
	ERR("max_per_ip = 50\nmax_connections = 40\n", "t.conf:1: max_per_ip must be between 1 and max_connections (40)");
	ERR("max_connections = 40\nmax_per_ip = 41\n", "t.conf:2: max_per_ip must be between 1 and max_connections (40)");
	ERR("pop3_timeout = 599\n", "t.conf:1: pop3_timeout must be between 600 and 86400");
	ERR("pop3_timeout = 86401\n", "t.conf:1: pop3_timeout must be between 600 and 86400");
	ERR("login_timeout = 9\n", "t.conf:1: login_timeout must be between 10 and 600");
	ERR("login_timeout = 601\n", "t.conf:1: login_timeout must be between 10 and 600");
	ERR("sync = normal\n", "t.conf:1: sync must be full or off");
	ERR("quota_exceeded = bounce\n", "t.conf:1: quota_exceeded must be temporary or permanent");
	if (sizeof(void *) == 8) {
		ERR("map_size = 1023K\n", "t.conf:1: map_size must be a size of at least 1M, e.g. 64M");
		ERR("map_size = 64X\n", "t.conf:1: map_size must be a size of at least 1M, e.g. 64M");
		ERR("map_size = 20000000T\n", "t.conf:1: map_size must be a size of at least 1M, e.g. 64M");
		ERR("map_max = lots\n", "t.conf:1: map_max must be a size of at least 1M, e.g. 1G");
		ERR("map_size = 64M\nmap_max = 32M\n", "t.conf:2: map_max must be at least map_size (64M)");
		ERR("map_max = 32M\nmap_size = 48M\n", "t.conf:1: map_max must be at least map_size (48M)");
	}
	if (sizeof(void *) == 4) {      /* run by the cross builds under qemu-user */
		ERR("map_size = 2G\n", "t.conf:1: map_size must be a size between 1M and 1G on a 32-bit system");
		ERR("map_max = 1025M\n", "t.conf:1: map_max must be a size between 1M and 1G on a 32-bit system");
		OK("map_size = 512M\n");
		CHECK(c.map_size == 512ull << 20 && c.map_max == 512ull << 20);
		OK("map_max = 1G\n");
		CHECK(c.map_max == 1ull << 30);
	}
	ERR("cert = /c.pem\n", "t.conf:1: cert and key must be given together");
	ERR("\nkey = /k.pem\n", "t.conf:2: cert and key must be given together");
	ERR("quota_exceeded = temporary\nquota_exceeded = temporary\n",
	    "t.conf:2: quota_exceeded is given twice (first on line 1)");

	/* a 2000-byte line, and the longest allowed line (1023 bytes) */
	memset(big, 'a', sizeof(big));
	memcpy(big, "pidfile = /", 11);
	big[2000] = '\n';
	big[2001] = '\0';
	ERR(big, "t.conf:1: line is longer than 1023 bytes");
	big[1024] = '\n';
	big[1025] = '\0';
	ERR(big, "t.conf:1: line is longer than 1023 bytes");
	big[1023] = '\n';
	big[1024] = '\0';
	ERR(big, "t.conf:1: pidfile is too long (at most 255 bytes)");
	memcpy(big, "# comment", 9);
	OK(big);

	/* a NUL byte inside the file */
	{
		static const char nul[] = "datadir = /a\nhostname = x\0y\n";
		int rc = cfg_parse(&c, "t.conf", nul, sizeof(nul) - 1, err, sizeof(err));
		CHECK(rc == -1 && strcmp(err, "t.conf:2: NUL byte in line") == 0);
	}
	/* a file over 64 KiB */
	{
		size_t n = 65537;
		char *t = malloc(n);
		int rc;
		memset(t, '\n', n);
		rc = cfg_parse(&c, "t.conf", t, n, err, sizeof(err));
		CHECK(rc == -1 && strcmp(err, "t.conf: file is larger than 64 KiB") == 0);
		CHECK(cfg_parse(&c, "t.conf", t, n - 1, err, sizeof(err)) == 0);
		free(t);
	}
	/* nothing of a bad file is used */
	OK("datadir = /good\n");
	CHECK(parse("datadir = /bad\nfoo = 1\n") == -1);
	CHECK(strcmp(c.datadir, "/good") == 0);
	/* a short error buffer truncates, a NULL one is fine */
	CHECK(cfg_parse(&c, "t.conf", "foo = 1", 7, err, 8) == -1 && strcmp(err, "t.conf:") == 0);
	CHECK(cfg_parse(&c, "t.conf", "foo = 1", 7, NULL, 0) == -1);
}

static void test_listen(void)
{
	OK("listen = pop3 starttls 127.0.0.1:110\n");
	CHECK(c.nlisten == 1 && c.listen[0].tls == CFG_TLS_STARTTLS && c.listen[0].port == 110);
	CHECK(strcmp(c.listen[0].addr, "127.0.0.1") == 0);
	OK("listen = pop3 tls [::]:995\nlisten = pop3  starttls  [fe80::1:2]:110\nlisten = pop3 none 0.0.0.0:995\n");
	CHECK(c.nlisten == 3);
	CHECK(strcmp(c.listen[0].addr, "::") == 0 && c.listen[0].port == 995);
	CHECK(strcmp(c.listen[1].addr, "fe80::1:2") == 0 && c.listen[1].port == 110);
	CHECK(strcmp(c.listen[2].addr, "0.0.0.0") == 0 && c.listen[2].tls == CFG_TLS_NONE);
	OK("listen = pop3 tls 10.0.0.1:1\nlisten = pop3 tls 10.0.0.1:65535\n");
	CHECK(c.listen[0].port == 1 && c.listen[1].port == 65535);

	ERR("listen = pop3 tls 0.0.0.0:995\nlisten = pop3 starttls 0.0.0.0:995\n",
	    "t.conf:2: listen 0.0.0.0:995 is already used on line 1");
	/* the same IPv6 address written two ways */
	ERR("listen = pop3 tls [::]:995\n\nlisten = pop3 tls [0::0]:995\n",
	    "t.conf:3: listen [0::0]:995 is already used on line 1");
#if CONFIG_IMAP
	OK("listen = imap tls 0.0.0.0:993\n");
	CHECK(c.nlisten == 1 && c.listen[0].proto == CFG_PROTO_IMAP && c.listen[0].port == 993);
#else
	ERR("listen = imap tls 0.0.0.0:993\n", "t.conf:1: imap is not available in this build");
#endif
#if !CONFIG_POP3
	CHECK(parse_raw("listen = pop3 tls 0.0.0.0:995\n") == -1 &&
	      strcmp(err, "t.conf:1: pop3 is not available in this build") == 0);
#endif
	ERR("listen = smtp tls 0.0.0.0:25\n", "t.conf:1: listen protocol must be pop3 or imap");
	ERR("listen = pop3 ssl 0.0.0.0:995\n", "t.conf:1: listen mode must be tls, starttls or none");
	ERR("listen = pop3 tls\n", "t.conf:1: listen must be PROTO MODE ADDRESS:PORT, e.g. pop3 tls 0.0.0.0:995");
	ERR("listen =\n", "t.conf:1: listen must be PROTO MODE ADDRESS:PORT, e.g. pop3 tls 0.0.0.0:995");
	ERR("listen = pop3 tls 0.0.0.0:995 x\n", "t.conf:1: listen must be PROTO MODE ADDRESS:PORT, e.g. pop3 tls 0.0.0.0:995");
	ERR("listen = pop3 tls 0.0.0.0\n", "t.conf:1: listen address needs a port, e.g. 0.0.0.0:995");
	ERR("listen = pop3 tls ::1:995\n", "t.conf:1: IPv6 listen addresses must be in brackets, e.g. [::]:995");
	ERR("listen = pop3 tls [::1]995\n", "t.conf:1: listen address must be IPv4 or [IPv6] followed by :PORT");
	ERR("listen = pop3 tls [::1:995\n", "t.conf:1: listen address must be IPv4 or [IPv6] followed by :PORT");
	ERR("listen = pop3 tls localhost:995\n", "t.conf:1: listen address must be a numeric IPv4 address or [IPv6]");
	ERR("listen = pop3 tls 256.0.0.1:995\n", "t.conf:1: listen address must be a numeric IPv4 address or [IPv6]");
	ERR("listen = pop3 tls [1.2.3.4]:995\n", "t.conf:1: listen address must be a numeric IPv4 address or [IPv6]");
	ERR("listen = pop3 tls :995\n", "t.conf:1: listen address must be a numeric IPv4 address or [IPv6]");
	ERR("listen = pop3 tls 0.0.0.0:0\n", "t.conf:1: listen port must be between 1 and 65535");
	ERR("listen = pop3 tls 0.0.0.0:65536\n", "t.conf:1: listen port must be between 1 and 65535");
	ERR("listen = pop3 tls 0.0.0.0:\n", "t.conf:1: listen port must be between 1 and 65535");
	ERR("listen = pop3 tls 0.0.0.0:99x\n", "t.conf:1: listen port must be between 1 and 65535");
	{
		char text[2048];
		size_t off = 0;
		int i;
		for (i = 0; i < CFG_MAX_LISTEN + 1; i++)
			off += (size_t)snprintf(text + off, sizeof(text) - off, "listen = pop3 tls 10.0.0.1:%d\n", 1000 + i);
		ERR(text, "t.conf:17: too many listen lines (at most 16)");
		text[off - 32] = '\0';
		OK(text);
		CHECK(c.nlisten == CFG_MAX_LISTEN);
	}
}

static void test_numbers(void)
{
	unsigned long long n;
	uint64_t s;

	CHECK(cfg_parse_uint("0", 0, 10, &n) == 0 && n == 0);
	CHECK(cfg_parse_uint("007", 0, 10, &n) == 0 && n == 7);
	CHECK(cfg_parse_uint("18446744073709551615", 0, ~0ull, &n) == 0 && n == ~0ull);
	CHECK(cfg_parse_uint("18446744073709551616", 0, ~0ull, &n) == -1);
	CHECK(cfg_parse_uint("99999999999999999999", 0, ~0ull, &n) == -1);
	CHECK(cfg_parse_uint("11", 0, 10, &n) == -1);
	CHECK(cfg_parse_uint("4", 5, 10, &n) == -1);
	CHECK(cfg_parse_uint("", 0, 10, &n) == -1);
	CHECK(cfg_parse_uint("-1", 0, 10, &n) == -1);
	CHECK(cfg_parse_uint("+1", 0, 10, &n) == -1);
	CHECK(cfg_parse_uint(" 1", 0, 10, &n) == -1);
	CHECK(cfg_parse_uint("1 ", 0, 10, &n) == -1);
	CHECK(cfg_parse_uint("1.0", 0, 10, &n) == -1);

	CHECK(cfg_parse_size("0", &s) == 0 && s == 0);
	CHECK(cfg_parse_size("123", &s) == 0 && s == 123);
	CHECK(cfg_parse_size("123B", &s) == 0 && s == 123);
	CHECK(cfg_parse_size("64K", &s) == 0 && s == 64ull << 10);
	CHECK(cfg_parse_size("64k", &s) == 0 && s == 64ull << 10);
	CHECK(cfg_parse_size("64KiB", &s) == 0 && s == 64ull << 10);
	CHECK(cfg_parse_size("500M", &s) == 0 && s == 500ull << 20);
	CHECK(cfg_parse_size("500MB", &s) == 0 && s == 500ull << 20);
	CHECK(cfg_parse_size("500mb", &s) == 0 && s == 500ull << 20);
	CHECK(cfg_parse_size("2G", &s) == 0 && s == 2ull << 30);
	CHECK(cfg_parse_size("2GB", &s) == 0 && s == 2ull << 30);
	CHECK(cfg_parse_size("1T", &s) == 0 && s == 1ull << 40);
	CHECK(cfg_parse_size("16777215T", &s) == 0 && s == 16777215ull << 40);
	CHECK(cfg_parse_size("16777216T", &s) == -1);
	CHECK(cfg_parse_size("17179869183G", &s) == 0 && s == 17179869183ull << 30);
	CHECK(cfg_parse_size("17179869184G", &s) == -1);
	CHECK(cfg_parse_size("18446744073709551615", &s) == 0 && s == UINT64_MAX);
	CHECK(cfg_parse_size("18446744073709551616", &s) == -1);
	CHECK(cfg_parse_size("123456789012345678901234567890", &s) == -1);
	CHECK(cfg_parse_size("", &s) == -1);
	CHECK(cfg_parse_size("M", &s) == -1);
	CHECK(cfg_parse_size("-1M", &s) == -1);
	CHECK(cfg_parse_size("64 M", &s) == -1);
	CHECK(cfg_parse_size("64MM", &s) == -1);
	CHECK(cfg_parse_size("64MBB", &s) == -1);
	CHECK(cfg_parse_size("64Mi", &s) == -1);
	CHECK(cfg_parse_size("64P", &s) == -1);
	CHECK(cfg_parse_size("1.5G", &s) == -1);
	CHECK(cfg_parse_size("64M ", &s) == -1);
}

static void test_load(void)
{
	char path[] = "/tmp/test_cfg_XXXXXX";
	int fd = mkstemp(path);
	static const char text[] = "# test\nmax_connections = 9\n";

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(write(fd, text, sizeof(text) - 1) == (ssize_t)sizeof(text) - 1);
	close(fd);
	err[0] = '\0';
	CHECK(cfg_load(&c, path, err, sizeof(err)) == 0 && c.max_connections == 9);
	unlink(path);
	CHECK(cfg_load(&c, path, err, sizeof(err)) == -1);
	CHECK(strstr(err, "cannot open: No such file or directory") != NULL);
	CHECK(cfg_load(&c, "/tmp", err, sizeof(err)) == -1 && strcmp(err, "/tmp: not a regular file") == 0);
}

/* trace: users and addresses, kept canonical; at most CFG_TRACE_MAX. */
static void test_trace(void)
{
	if (!CONFIG_TRACE) {
		ERR("trace = alice\n", "t.conf:1: trace: this build has no protocol trace (CONFIG_TRACE)");
		return;
	}
	OK("trace =\n");
	CHECK(strcmp(c.trace, "") == 0);
	OK("trace = alice ,[::0001],  192.168.1.23,,bob.smith_2-x\n");
	CHECK(strcmp(c.trace, "alice, ::1, 192.168.1.23, bob.smith_2-x") == 0);
	OK("trace = 1,2,3,4,5,6,7,8\n");
	CHECK(strcmp(c.trace, "1, 2, 3, 4, 5, 6, 7, 8") == 0);
	ERR("trace = 1,2,3,4,5,6,7,8,9\n", "t.conf:1: trace names at most 8 users or addresses");
	ERR("trace = Alice\n", "t.conf:1: trace: 'Alice' is neither a user name nor a numeric IP address");
	ERR("trace = 10.0.0.256\n", "t.conf:1: trace: '10.0.0.256' is neither a user name nor a numeric IP address");
	ERR("trace = [1.2.3]\n", "t.conf:1: trace: '1.2.3' is neither a user name nor a numeric IP address");
	ERR("trace = fe80::1::2\n", "t.conf:1: trace: 'fe80::1::2' is neither a user name nor a numeric IP address");
}

int main(void)
{
	test_trace();
	test_defaults();
	test_keys();
	test_errors();
	test_listen();
	test_numbers();
	test_load();
	return check_done();
}
