/*
 * cgi — postnook.cgi, the web configuration page (CGI/1.1, RFC 3875).
 *
 * One process per request: cgi.c reads the environment and a body of at
 * most CGI_BODY_MAX bytes, opens the config and the store, checks the
 * session, routes to one page handler (cgi_page_*.c) and writes one
 * response whose body was built in a fixed buffer (so Content-Length is
 * exact and a page cannot grow without bound). No shell is ever run.
 *
 * Files: cgi_parse.c (form/query/cookie parsers), cgi_html.c (escaper,
 * page shell, stylesheet), cgi_session.c (sessions, CSRF, sign-in delays),
 * cgi_conf.c (atomic config rewrite + reload), cgi_cert.c (certificate
 * facts), cgi_page_*.c (pages).
 */
#ifndef POSTNOOK_CGI_H
#define POSTNOOK_CGI_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "store.h"

#define CGI_BODY_MAX (48 * 1024)   /* request body: a pasted certificate chain and key fit */
#define CGI_QUERY_MAX 2048          /* QUERY_STRING */
#define CGI_FIELDS_MAX 64           /* name=value pairs in one form or query */
#define CGI_PAGE_MAX (96 * 1024)    /* response body buffer (pages stay far below 20 KB) */
#define CGI_HEAD_MAX 1024           /* extra response header lines */
#define CGI_TOKEN_HEX 64            /* session token: 32 random bytes in hex */
#define CGI_CSRF_HEX 32             /* CSRF token: 16 random bytes in hex */

/* --- cgi_parse.c: bounded parsers ------------------------------------ */

struct cgi_field {
	const char *name;
	const char *value;
};

struct cgi_form {
	struct cgi_field f[CGI_FIELDS_MAX];
	size_t n;
};

/*
 * Parse application/x-www-form-urlencoded text of len bytes in buf, decoding
 * in place ('+' is a space, %XX a byte); buf needs len + 1 bytes. Names and
 * values are NUL-terminated inside buf. A field whose value decodes to a NUL
 * byte or a bad escape makes the whole form -EINVAL; more than
 * CGI_FIELDS_MAX fields -E2BIG. 0 on success.
 */
int cgi_form_parse(struct cgi_form *form, char *buf, size_t len);
/* The value of the first field called name, or NULL. */
const char *cgi_form_get(const struct cgi_form *form, const char *name);
/*
 * Find cookie name in a Cookie header ("a=1; b=2") and copy its value to
 * out (cap bytes with the NUL). 0, -ENOENT if absent, -E2BIG if too long.
 */
int cgi_cookie_get(const char *header, const char *name, char *out, size_t cap);
/*
 * A size as people type it: "500 MB", "2 GB", "1.5G", "750M", "2048 KiB";
 * "", "0", "none", "unlimited" are 0 (no limit). Binary units. 0 or -EINVAL.
 */
int cgi_parse_size(const char *s, uint64_t *out);
/* A port: 1..65535, digits only (spaces around allowed). 0 or -EINVAL. */
int cgi_parse_port(const char *s, uint16_t *out);

/* --- cgi_html.c: output ----------------------------------------------- */

struct cgi_buf {
	char *p;
	size_t len, cap;
	int full;                       /* something did not fit (sticky) */
};

void cgi_buf_init(struct cgi_buf *b, char *mem, size_t cap);
void cgi_put(struct cgi_buf *b, const char *s);
void cgi_putn(struct cgi_buf *b, const char *s, size_t n);
void cgi_printf(struct cgi_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s HTML-escaped (& < > " ' ), safe in text and quoted attributes. */
void cgi_esc(struct cgi_buf *b, const char *s);
/*
 * Escape src into dst (cap bytes, always NUL-terminated when cap > 0).
 * Returns the length the full escaped text needs (without the NUL), so a
 * result >= cap means it was cut.
 */
size_t cgi_html_escape(char *dst, size_t cap, const char *src);
/* "512 bytes", "1.2 KB", "34 MB", "2.0 GB" (binary units, as people say them). */
void cgi_fmt_size(uint64_t v, char *out, size_t cap);
/* "2026-11-23 19:40" in local time. */
void cgi_fmt_time(int64_t t, char *out, size_t cap);

/* --- the request (cgi.c) ---------------------------------------------- */

enum cgi_nav { NAV_NONE, NAV_PLAIN, NAV_OVERVIEW, NAV_PROTO, NAV_USERS, NAV_CERT, NAV_DEVICE, NAV_TRACE };

struct cgi_req {
	const char *method;             /* "GET" or "POST" */
	const char *path;               /* PATH_INFO or ?page=, "" for the start page */
	const char *script;             /* SCRIPT_NAME, the base of every link */
	const char *remote;             /* REMOTE_ADDR */
	const char *host;               /* HTTP_HOST (for the device page) or "" */
	int https, lan, loopback;       /* request came over HTTPS; peer is LAN / loopback */
	struct cgi_form query, form;    /* the query string and the POSTed form */
	const char *conf_path;
	struct cfg cfg;
	struct store *st;
	int signed_in;
	char csrf[CGI_CSRF_HEX + 1];    /* the session's CSRF token (when signed in) */
	char sid_key[40];               /* store key of the session ("s/...") */
	int status;                     /* HTTP status of the response */
	const char *ctype;              /* Content-Type */
	struct cgi_buf head;            /* extra header lines, each ending CRLF */
	struct cgi_buf out;             /* the body */
};

/* Respond with a short HTML error page (status 403, 404, 500 ...). Returns 0. */
int cgi_error(struct cgi_req *r, int status, const char *title, const char *msg);
/* Respond 303 See Other to SCRIPT_NAME + path. Returns 0. */
int cgi_redirect(struct cgi_req *r, const char *path);
/* Is protocol p part of this build (the config parser accepts its listener)? */
int cgi_proto_built(enum cfg_proto p);

/* --- cgi_html.c: page shell -------------------------------------------- */

/* <!doctype html> ... <main>: the head with the inline stylesheet, the header and the navigation. */
void cgi_page_begin(struct cgi_req *r, const char *title, enum cgi_nav nav);
/* </main> and the footer. */
void cgi_page_end(struct cgi_req *r);
/* A notice box: kind "ok", "err" or "info"; text escaped. */
void cgi_notice(struct cgi_req *r, const char *kind, const char *text);
/* The hidden CSRF input of a form. */
void cgi_csrf_input(struct cgi_req *r);
/* An error line under a field (nothing when msg is empty); id ties it to the input's aria-describedby. */
void cgi_field_err(struct cgi_req *r, const char *id, const char *msg);
/* A usage bar: used of total (total 0 = no limit), with a text label. */
void cgi_bar(struct cgi_req *r, uint64_t used, uint64_t total, const char *label);

/* --- cgi_session.c ------------------------------------------------------ */

/* Look the session cookie up; sets r->signed_in and r->csrf. 0 or a store error. */
int cgi_session_load(struct cgi_req *r);
/* 1 if the form's csrf field matches the session's token (constant time). */
int cgi_csrf_ok(const struct cgi_req *r);
/* Start a session after a good sign-in: store record + Set-Cookie. 0 or an error. */
int cgi_session_create(struct cgi_req *r);
/* Sign out: delete the record, expire the cookie. */
void cgi_session_end(struct cgi_req *r);
/* Seconds this address must still wait before another sign-in attempt (0 = none). */
unsigned cgi_signin_wait(struct cgi_req *r);
/* Record a failed sign-in; returns the delay in ms to serve before answering. */
unsigned cgi_signin_failed(struct cgi_req *r);
/* Forget this address's failures. */
void cgi_signin_ok(struct cgi_req *r);
/* The pre-session token for the sign-in form (double-submit cookie); sets the cookie when new. */
const char *cgi_presession_token(struct cgi_req *r);
/* 1 if the sign-in form's token matches its cookie. */
int cgi_presession_ok(const struct cgi_req *r);

/* --- cgi_conf.c --------------------------------------------------------- */

struct cgi_reload {
	int tried;                      /* the daemon was asked to reload */
	int running;                    /* a daemon is running */
	int answered;                   /* it reported the reload within the wait */
	int ok;                         /* ... successfully */
	char msg[160];                  /* its message, or why nothing happened */
};

/*
 * Replace every line of the given keys in the config file by newlines
 * (text of "key = value\n" lines; "" removes them), placed where the first
 * of those keys was (else at the end). The result is parsed with
 * cfg_parse() first: on error nothing is written and err says why. Then
 * written atomically (temp file, fsync, rename; the old file kept as
 * FILE.bak). 0, or -1 with err set.
 */
int cgi_conf_update(struct cgi_req *r, const char *const *keys, size_t nkeys, const char *newlines,
                    char *err, size_t errlen);
/* Ask the running daemon to reload and wait (up to ~3 s) for its report. */
void cgi_conf_reload(struct cgi_req *r, struct cgi_reload *out);
/* Show the outcome of a save + reload as a notice. */
void cgi_reload_notice(struct cgi_req *r, const char *what, const struct cgi_reload *rl);
/* Is a daemon running? pid from the status file or pidfile, checked with kill(pid, 0). */
long cgi_daemon_pid(const struct cgi_req *r);

/* --- cgi_cert.c: certificate facts ------------------------------------- */

/* A certificate described: the one in use (configured, else the self-made one in datadir). */
struct cgi_cert {
	int loaded;                     /* 1 if the certificate file could be read */
	int from_daemon;                /* not readable here: fingerprint as the daemon reports it */
	char cert_path[CFG_PATH_MAX + 16], key_path[CFG_PATH_MAX + 16];
	int self_made;                  /* the one postnook made (datadir/cert.pem) */
	char fingerprint[96];           /* "AB:CD:..." SHA-256 of the leaf */
	int64_t not_before, not_after;  /* Unix time */
	char keydesc[48];               /* "ECDSA P-256", "RSA 2048-bit" */
	char subject[128];              /* the leaf's CN when printable */
	char err[160];                  /* why it did not load */
};
/*
 * Describe the certificate in use (configured, else DATADIR/cert.pem) from
 * its file; when that cannot be read but a daemon runs, its fingerprint as
 * the daemon reports it. 0, -errno, -ENOTSUP (no TLS in this build) or a
 * tls error, with out->err saying why.
 */
int cgi_cert_info(const struct cgi_req *r, struct cgi_cert *out);
/* Check a certificate and key pair (the key must match) and describe the certificate. 0 or a tls error. */
int cgi_cert_load(const char *cert, const char *key, struct cgi_cert *out);
/* Describe the household CA (DATADIR/ca.pem). 0, -errno or a tls error. */
int cgi_cert_ca(const struct cgi_req *r, struct cgi_cert *out);
/* The household CA as PEM text into buf (cap bytes, NUL-terminated). Its length, or -errno / -EFBIG. */
long cgi_cert_ca_pem(const struct cgi_req *r, char *buf, size_t cap);

/* The daemon's last automatic renewal of the self-made certificate (DATADIR/cert.renewed). */
struct cgi_renewal {
	int64_t when;
	char old_fp[96], new_fp[96];    /* old_fp "-" when there was none */
	char reason[200];
};
/* 0, or -ENOENT (never renewed) / -EINVAL (unreadable). */
int cgi_cert_renewal(const struct cgi_req *r, struct cgi_renewal *out);

/* --- pages --------------------------------------------------------------- */

int cgi_page_signin(struct cgi_req *r);
int cgi_page_signout(struct cgi_req *r);
int cgi_page_overview(struct cgi_req *r);
int cgi_page_proto(struct cgi_req *r);
int cgi_page_users(struct cgi_req *r);
int cgi_page_cert(struct cgi_req *r);
int cgi_page_device(struct cgi_req *r);
int cgi_page_trace(struct cgi_req *r);
/* Public: Thunderbird's config-v1.1.xml. */
int cgi_page_autoconfig(struct cgi_req *r);
/* Apple .mobileconfig for one user (signed in). */
int cgi_page_mobileconfig(struct cgi_req *r);
/* Public: the household CA's certificate, for devices to install. */
int cgi_page_cacert(struct cgi_req *r);

#endif
