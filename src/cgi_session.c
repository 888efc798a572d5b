/*
 * cgi_session — admin sessions, CSRF tokens and sign-in delays.
 *
 * The CGI is a process per request, so its state lives in the store
 * (store_kv_*, keys under "cgi/"):
 *   "s/" + hex(SHA-256(token))[0..32]  -> created(8) seen(8) csrf(16)
 *   "f/" + client address              -> failures(4) last(8, ms)
 * The cookie holds the random 32-byte token; the store only its hash, so a
 * copy of the store does not hand out live sessions. A session ends after
 * SESS_IDLE seconds without a request or SESS_MAX seconds in all; "seen" is
 * written at most every SESS_TOUCH seconds (a write is an fsync on flash).
 * Sign-in failures from one address make it wait 2, 4, 8 ... 30 s before the
 * next attempt is even checked; they are forgotten after 15 minutes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bearssl.h>

#include "sysconfig.h"
#include "auth.h"
#include "cgi.h"
#include "store_admin.h"

#if CONFIG_CGI

#define SESS_IDLE (30 * 60)
#define SESS_MAX (12 * 3600)
#define SESS_TOUCH 300
#define SESS_REC_LEN (8 + 8 + 16)
#define SESS_KEEP 32                    /* live sessions kept; older ones are dropped */
#define FAIL_REC_LEN (4 + 8)
#define FAIL_FORGET (15 * 60)
#define FAIL_WAIT_MAX 30
#define COOKIE_SID "pn_sid"
#define COOKIE_PRE "pn_pre"

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* 1 if s is exactly n lowercase hex digits. */
static int is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[n] == '\0';
}

/* Store key of a token: "s/" + the first 16 bytes of its SHA-256, in hex. */
static void sess_key(const char *token, char key[40])
{
	br_sha256_context h;
	unsigned char d[32];

	br_sha256_init(&h);
	br_sha256_update(&h, token, strlen(token));
	br_sha256_out(&h, d);
	memcpy(key, "s/", 2);
	hex(d, 16, key + 2);
}

/* Cookie attributes shared by every cookie we set. */
static void cookie_attrs(struct cgi_req *r, long max_age)
{
	cgi_printf(&r->head, "; Path=%s; Max-Age=%ld; HttpOnly; SameSite=Strict%s\r\n",
	           r->script[0] ? r->script : "/", max_age, r->https ? "; Secure" : "");
}

/* Look the session up (see cgi.h). */
int cgi_session_load(struct cgi_req *r)
{
	char token[CGI_TOKEN_HEX + 8];
	unsigned char rec[SESS_REC_LEN];
	size_t len;
	uint64_t now = (uint64_t)time(NULL), created, seen;
	int rc;

	r->signed_in = 0;
	if (cgi_cookie_get(getenv("HTTP_COOKIE"), COOKIE_SID, token, sizeof token) != 0 ||
	    !is_hex(token, CGI_TOKEN_HEX))
		return 0;
	sess_key(token, r->sid_key);
	rc = store_kv_get(r->st, r->sid_key, rec, sizeof rec, &len);
	if (rc == STORE_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	if (len != SESS_REC_LEN)
		return 0;
	created = get64(rec);
	seen = get64(rec + 8);
	if (now > created + SESS_MAX || now > seen + SESS_IDLE || seen > now + 60) {
		store_kv_put(r->st, r->sid_key, NULL, 0);
		return 0;
	}
	r->signed_in = 1;
	hex(rec + 16, 16, r->csrf);
	if (now >= seen + SESS_TOUCH) {
		put64(rec + 8, now);
		store_kv_put(r->st, r->sid_key, rec, sizeof rec);
	}
	return 0;
}

struct prune_arg {
	uint64_t now;
};

/* Drop sessions that have expired. */
static int sess_expired(void *arg, const void *val, size_t len)
{
	const struct prune_arg *a = arg;
	const unsigned char *v = val;

	if (len != SESS_REC_LEN)
		return 1;
	return a->now > get64(v) + SESS_MAX || a->now > get64(v + 8) + SESS_IDLE;
}

/* Drop everything (used when too many sessions pile up). */
static int sess_all(void *arg, const void *val, size_t len)
{
	(void)arg;
	(void)val;
	(void)len;
	return 1;
}

/* New session: random token and CSRF secret, record, cookie. */
int cgi_session_create(struct cgi_req *r)
{
	unsigned char raw[32], rec[SESS_REC_LEN];
	char token[CGI_TOKEN_HEX + 1];
	struct prune_arg pa;
	uint64_t now = (uint64_t)time(NULL);
	unsigned kept = 0;
	int rc;

	pa.now = now;
	if (store_kv_prune(r->st, "s/", sess_expired, &pa, &kept) == 0 && kept >= SESS_KEEP)
		store_kv_prune(r->st, "s/", sess_all, NULL, NULL);
	rc = auth_random(raw, sizeof raw);
	if (rc == 0)
		rc = auth_random(rec + 16, 16);
	if (rc)
		return rc;
	hex(raw, sizeof raw, token);
	put64(rec, now);
	put64(rec + 8, now);
	sess_key(token, r->sid_key);
	rc = store_kv_put(r->st, r->sid_key, rec, sizeof rec);
	if (rc)
		return rc;
	r->signed_in = 1;
	hex(rec + 16, 16, r->csrf);
	cgi_printf(&r->head, "Set-Cookie: " COOKIE_SID "=%s", token);
	cookie_attrs(r, SESS_MAX);
	/* The pre-session token has done its job. */
	cgi_put(&r->head, "Set-Cookie: " COOKIE_PRE "=");
	cookie_attrs(r, 0);
	explicit_bzero(raw, sizeof raw);
	explicit_bzero(token, sizeof token);
	return 0;
}

/* Sign out. */
void cgi_session_end(struct cgi_req *r)
{
	if (r->signed_in)
		store_kv_put(r->st, r->sid_key, NULL, 0);
	r->signed_in = 0;
	cgi_put(&r->head, "Set-Cookie: " COOKIE_SID "=");
	cookie_attrs(r, 0);
}

/* 1 if the POSTed csrf field equals the session's token. */
int cgi_csrf_ok(const struct cgi_req *r)
{
	const char *t = cgi_form_get(&r->form, "csrf");

	if (!r->signed_in || !t || strlen(t) != CGI_CSRF_HEX)
		return 0;
	return auth_equal(t, r->csrf, CGI_CSRF_HEX);
}

/* Store key of this client's failure record. */
static void fail_key(const struct cgi_req *r, char key[80])
{
	snprintf(key, 80, "f/%.64s", r->remote && *r->remote ? r->remote : "unknown");
}

/* Milliseconds to wait after n failures: 2, 4, 8, 16, then FAIL_WAIT_MAX seconds. */
static uint64_t fail_wait_ms(uint32_t n)
{
	if (n == 0)
		return 0;
	return 1000ull * (n > 4 ? FAIL_WAIT_MAX : 1u << n);
}

/* Wall-clock milliseconds (the records outlive the process). */
static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Read this client's failures: count and time of the last one. */
static uint32_t fail_get(struct cgi_req *r, uint64_t *last)
{
	unsigned char rec[FAIL_REC_LEN];
	char key[80];
	size_t len;
	uint32_t n;

	fail_key(r, key);
	if (store_kv_get(r->st, key, rec, sizeof rec, &len) != 0 || len != FAIL_REC_LEN)
		return 0;
	n = (uint32_t)rec[0] << 24 | (uint32_t)rec[1] << 16 | (uint32_t)rec[2] << 8 | rec[3];
	*last = get64(rec + 4);
	if (now_ms() > *last + FAIL_FORGET * 1000ull)
		return 0;
	return n;
}

unsigned cgi_signin_wait(struct cgi_req *r)
{
	uint64_t last = 0, now = now_ms();
	uint32_t n = fail_get(r, &last);
	uint64_t w = fail_wait_ms(n);

	if (n == 0 || now >= last + w)
		return 0;
	return (unsigned)((last + w - now + 999) / 1000);
}

unsigned cgi_signin_failed(struct cgi_req *r)
{
	unsigned char rec[FAIL_REC_LEN];
	uint64_t last = 0;
	uint32_t n = fail_get(r, &last) + 1;
	char key[80];

	rec[0] = (unsigned char)(n >> 24);
	rec[1] = (unsigned char)(n >> 16);
	rec[2] = (unsigned char)(n >> 8);
	rec[3] = (unsigned char)n;
	put64(rec + 4, now_ms());
	fail_key(r, key);
	store_kv_put(r->st, key, rec, sizeof rec);
	/* The answer itself is slowed too: 500 ms, then 1 s, capped at 3 s. */
	return n == 1 ? 500 : n == 2 ? 1000 : 3000;
}

void cgi_signin_ok(struct cgi_req *r)
{
	char key[80];
	uint64_t last;

	if (fail_get(r, &last) == 0)
		return;
	fail_key(r, key);
	store_kv_put(r->st, key, NULL, 0);
}

/* Double-submit token of the sign-in form. */
const char *cgi_presession_token(struct cgi_req *r)
{
	static char tok[CGI_CSRF_HEX + 1];
	unsigned char raw[16];

	if (cgi_cookie_get(getenv("HTTP_COOKIE"), COOKIE_PRE, tok, sizeof tok) == 0 && is_hex(tok, CGI_CSRF_HEX))
		return tok;
	if (auth_random(raw, sizeof raw) != 0)
		return "";
	hex(raw, sizeof raw, tok);
	cgi_printf(&r->head, "Set-Cookie: " COOKIE_PRE "=%s", tok);
	cookie_attrs(r, 3600);
	return tok;
}

int cgi_presession_ok(const struct cgi_req *r)
{
	char tok[CGI_CSRF_HEX + 8];
	const char *t = cgi_form_get(&r->form, "csrf");

	if (!t || strlen(t) != CGI_CSRF_HEX ||
	    cgi_cookie_get(getenv("HTTP_COOKIE"), COOKIE_PRE, tok, sizeof tok) != 0 || !is_hex(tok, CGI_CSRF_HEX))
		return 0;
	return auth_equal(t, tok, CGI_CSRF_HEX);
}

#endif
