/*
 * cgi — postnook.cgi: read one CGI/1.1 request, route it, write the answer.
 *
 * Limits: QUERY_STRING up to CGI_QUERY_MAX bytes, a body up to
 * CGI_BODY_MAX bytes of application/x-www-form-urlencoded (a larger
 * CONTENT_LENGTH is refused with 413 before reading), only GET/HEAD/POST.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "sysconfig.h"
#include "cgi.h"
#include "cmd.h"

#if CONFIG_CGI

enum { R_PUBLIC = 1, R_POST = 2 };

/* The routes: path, flags, handler. Pages not public need a session. */
static const struct {
	const char *path;
	unsigned flags;
	int (*page)(struct cgi_req *r);
} cgi_routes[] = {
	{ "/signin", R_PUBLIC | R_POST, cgi_page_signin },
	{ "/signout", R_POST, cgi_page_signout },
	{ "/overview", 0, cgi_page_overview },
	{ "/protocols", R_POST, cgi_page_proto },
	{ "/users", R_POST, cgi_page_users },
	{ "/certificate", R_POST, cgi_page_cert },
	{ "/device", R_POST, cgi_page_device },
	{ "/device/mobileconfig", 0, cgi_page_mobileconfig },
#if CONFIG_TRACE
	{ "/trace", R_POST, cgi_page_trace },
#endif
	{ "/ca.crt", R_PUBLIC, cgi_page_cacert },
	{ "/mail/config-v1.1.xml", R_PUBLIC, cgi_page_autoconfig },
	{ "/.well-known/autoconfig/mail/config-v1.1.xml", R_PUBLIC, cgi_page_autoconfig },
	{ "/autoconfig", R_PUBLIC, cgi_page_autoconfig },
};

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 303: return "See Other";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	}
	return "Internal Server Error";
}

int cgi_error(struct cgi_req *r, int status, const char *title, const char *msg)
{
	r->status = status;
	r->ctype = "text/html; charset=utf-8";
	cgi_buf_init(&r->out, r->out.p, r->out.cap);
	cgi_page_begin(r, title, r->signed_in ? NAV_PLAIN : NAV_NONE);
	cgi_printf(&r->out, "<h1>");
	cgi_esc(&r->out, title);
	cgi_put(&r->out, "</h1><div class=\"card\"><p>");
	cgi_esc(&r->out, msg);
	cgi_printf(&r->out, "</p><p><a class=\"btn sec\" href=\"%s/overview\">Back to the overview</a></p></div>", r->script);
	cgi_page_end(r);
	return 0;
}

int cgi_redirect(struct cgi_req *r, const char *path)
{
	r->status = 303;
	cgi_printf(&r->head, "Location: %s%s\r\n", r->script, path);
	cgi_buf_init(&r->out, r->out.p, r->out.cap);
	return 0;
}

/* Classify REMOTE_ADDR: loopback, and LAN (private, link-local, ULA, loopback). */
static void classify_peer(struct cgi_req *r)
{
	unsigned char a[16];

	r->loopback = r->lan = 0;
	if (inet_pton(AF_INET, r->remote, a) == 1) {
		r->loopback = a[0] == 127;
		r->lan = r->loopback || a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
		         (a[0] == 192 && a[1] == 168) || (a[0] == 169 && a[1] == 254);
	} else if (inet_pton(AF_INET6, r->remote, a) == 1) {
		static const unsigned char lo[16] = { [15] = 1 }, v4[12] = { [10] = 0xff, [11] = 0xff };
		if (!memcmp(a, v4, 12)) {
			r->loopback = a[12] == 127;
			r->lan = r->loopback || a[12] == 10 || (a[12] == 172 && (a[13] & 0xf0) == 16) ||
			         (a[12] == 192 && a[13] == 168) || (a[12] == 169 && a[13] == 254);
		} else {
			r->loopback = !memcmp(a, lo, 16);
			r->lan = r->loopback || (a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80);
		}
	}
}

/* Read exactly n bytes of the body from stdin. 0 or -EIO. */
static int read_body(char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = read(STDIN_FILENO, buf + got, n - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -EIO;
		got += (size_t)k;
	}
	return 0;
}

/* Write all of buf to stdout. */
static void write_all(const char *buf, size_t n)
{
	while (n) {
		ssize_t k = write(STDOUT_FILENO, buf, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return;
		buf += k;
		n -= (size_t)k;
	}
}

/* Send the response: status, headers, body. */
static void respond(struct cgi_req *r, int head_only)
{
	static char hdr[CGI_HEAD_MAX + 512];
	int n;

	if (r->out.full) {
		/* A page outgrew its buffer: a bug, but never a truncated page. */
		cgi_buf_init(&r->head, r->head.p, r->head.cap);
		cgi_error(r, 500, "Page too large", "This page did not fit its buffer. Please report it.");
	}
	n = snprintf(hdr, sizeof hdr,
	             "Status: %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	             "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n"
	             "Referrer-Policy: same-origin\r\n"
	             "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
	             "form-action 'self'; frame-ancestors 'none'; base-uri 'none'\r\n%s\r\n",
	             r->status, reason(r->status), r->ctype ? r->ctype : "text/html; charset=utf-8", r->out.len,
	             r->head.p);
	if (n < 0 || (size_t)n >= sizeof hdr)
		n = snprintf(hdr, sizeof hdr, "Status: 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
	write_all(hdr, (size_t)n);
	if (!head_only)
		write_all(r->out.p, r->out.len);
}

/* Is protocol p built in? Ask the config parser, the one authority on listeners. */
int cgi_proto_built(enum cfg_proto p)
{
	static const char imap[] = "listen = imap tls 127.0.0.1:993\n", pop3[] = "listen = pop3 tls 127.0.0.1:995\n";
	const char *probe = p == CFG_PROTO_IMAP ? imap : pop3;
	struct cfg c;
	char err[CFG_ERR_MAX];

	return cfg_parse(&c, "probe", probe, strlen(probe), err, sizeof err) == 0;
}

/* Open the store the way the daemon does (read-write: sessions live there). */
static int open_store(struct cgi_req *r)
{
	struct store_opts so;

	memset(&so, 0, sizeof so);
	so.map_size = r->cfg.map_size;
	so.map_max = r->cfg.map_max;
	so.nosync = !r->cfg.sync;
	return store_open(r->cfg.datadir, &so, &r->st);
}

/* Route one request; fills r's response. */
static void route(struct cgi_req *r, int post)
{
	size_t i;
	int rc;

	if (!r->path[0] || !strcmp(r->path, "/")) {
		cgi_redirect(r, r->signed_in ? "/overview" : "/signin");
		return;
	}
	for (i = 0; i < sizeof cgi_routes / sizeof cgi_routes[0]; i++)
		if (!strcmp(r->path, cgi_routes[i].path))
			break;
	if (i == sizeof cgi_routes / sizeof cgi_routes[0]) {
		cgi_error(r, 404, "Not found", "There is no such page.");
		return;
	}
	if (post && !(cgi_routes[i].flags & R_POST)) {
		cgi_put(&r->head, "Allow: GET, HEAD\r\n");
		cgi_error(r, 405, "Method not allowed", "This page cannot take a form.");
		return;
	}
	if (!(cgi_routes[i].flags & R_PUBLIC)) {
		if (!r->signed_in && post) {
			cgi_error(r, 403, "Signed out", "Your session has ended, so nothing was changed. Please sign in again.");
			return;
		}
		if (!r->signed_in) {
			cgi_redirect(r, "/signin");
			return;
		}
		if (post && !cgi_csrf_ok(r)) {
			cgi_error(r, 403, "Request refused",
			          "The form's security token is missing or wrong, so nothing was changed. "
			          "Reload the page and try again.");
			return;
		}
	}
	rc = cgi_routes[i].page(r);
	if (rc < 0)
		cgi_error(r, 500, "Something went wrong", store_strerror(rc));
}

/* postnook.cgi: the whole request. Returns the process exit status. */
int cgi_main(int argc, char **argv)
{
	static char page[CGI_PAGE_MAX], head[CGI_HEAD_MAX], body[CGI_BODY_MAX + 1], query[CGI_QUERY_MAX + 1];
	static struct cgi_req req;
	struct cgi_req *r = &req;
	const char *method = getenv("REQUEST_METHOD"), *qs = getenv("QUERY_STRING");
	const char *clen = getenv("CONTENT_LENGTH"), *ctype = getenv("CONTENT_TYPE"), *pi = getenv("PATH_INFO");
	const char *https = getenv("HTTPS");
	char err[CFG_ERR_MAX];
	int post = 0, head_only = 0;

	(void)argc;
	(void)argv;
	if (!method) {
		fprintf(stderr, "postnook.cgi: run by a web server as a CGI program (REQUEST_METHOD is not set)\n");
		return 64;
	}
	memset(r, 0, sizeof *r);
	cgi_buf_init(&r->out, page, sizeof page);
	cgi_buf_init(&r->head, head, sizeof head);
	r->status = 200;
	r->method = method;
	r->script = getenv("SCRIPT_NAME") ? getenv("SCRIPT_NAME") : "";
	if (strlen(r->script) > 200 || strpbrk(r->script, "\"<>'\r\n &"))
		r->script = "/cgi-bin/postnook.cgi";
	r->remote = getenv("REMOTE_ADDR") ? getenv("REMOTE_ADDR") : "";
	r->host = getenv("HTTP_HOST") ? getenv("HTTP_HOST") : "";
	r->https = (https && (!strcasecmp(https, "on") || !strcmp(https, "1"))) ||
	           (getenv("REQUEST_SCHEME") && !strcmp(getenv("REQUEST_SCHEME"), "https"));
	classify_peer(r);
	r->conf_path = cmd_default_conf();
	cfg_defaults(&r->cfg);

	if (!strcmp(method, "POST")) {
		post = 1;
	} else if (!strcmp(method, "HEAD")) {
		head_only = 1;
	} else if (strcmp(method, "GET")) {
		cgi_put(&r->head, "Allow: GET, HEAD, POST\r\n");
		cgi_error(r, 405, "Method not allowed", "Only GET and POST are used here.");
		goto send;
	}
	if (qs && strlen(qs) > CGI_QUERY_MAX) {
		cgi_error(r, 400, "Bad request", "The address is too long.");
		goto send;
	}
	snprintf(query, sizeof query, "%s", qs ? qs : "");
	if (cgi_form_parse(&r->query, query, strlen(query)) < 0) {
		cgi_error(r, 400, "Bad request", "The address could not be read.");
		goto send;
	}
	if (post) {
		unsigned long long n = 0;
		if (!ctype || strncasecmp(ctype, "application/x-www-form-urlencoded", 33) ||
		    (ctype[33] && ctype[33] != ';')) {
			cgi_error(r, 415, "Unsupported form", "Forms must be sent as application/x-www-form-urlencoded.");
			goto send;
		}
		if (!clen || cfg_parse_uint(clen, 0, ~0ull, &n) < 0 || n > CGI_BODY_MAX) {
			cgi_error(r, 413, "Form too large", "The form is larger than this page accepts (48 KB).");
			goto send;
		}
		if (read_body(body, (size_t)n) < 0 || cgi_form_parse(&r->form, body, (size_t)n) < 0) {
			cgi_error(r, 400, "Bad request", "The form could not be read.");
			goto send;
		}
	}
	r->path = pi ? pi : "";
	/* Run as the interpreter of a file named config-v1.1.xml (uhttpd, busybox httpd): autoconfig. */
	if (!r->path[0] && strlen(r->script) >= 15 && !strcmp(r->script + strlen(r->script) - 15, "config-v1.1.xml"))
		r->path = "/mail/config-v1.1.xml";
	if (!r->path[0] && cgi_form_get(&r->query, "page")) {
		static char p[48];
		snprintf(p, sizeof p, "/%s", cgi_form_get(&r->query, "page"));
		r->path = p;
	}
	if (cfg_load(&r->cfg, r->conf_path, err, sizeof err) < 0) {
		cgi_error(r, 500, "Configuration unreadable", err);
		goto send;
	}
	if (!strcmp(r->path, "/autoconfig") || !strcmp(r->path, "/mail/config-v1.1.xml") ||
	    !strcmp(r->path, "/.well-known/autoconfig/mail/config-v1.1.xml")) {
		/* Public and read-only: without the store it still answers (guessing the outgoing server). */
		if (cmd_store_check(NULL, r->cfg.datadir) != 0 || open_store(r) != 0)
			r->st = NULL;   /* and no store made where there was none */
	} else {
		int rc = open_store(r);
		if (rc == 0)
			rc = cgi_session_load(r);
		if (rc) {
			snprintf(err, sizeof err, "The mail store in %.200s cannot be opened: %.80s. "
			         "The web server's user needs the group that may write it (see the documentation).",
			         r->cfg.datadir, store_strerror(rc));
			cgi_error(r, 500, "Mail store unavailable", err);
			goto send;
		}
	}
	route(r, post);
send:
	respond(r, head_only);
	store_close(r->st);
	return 0;
}

#endif
