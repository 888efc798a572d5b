/*
 * cgi_page_signin — sign in, sign out, and the first-run "choose the admin
 * password" form (offered only to a browser allowed by admin_setup:
 * loopback, LAN, or never).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sysconfig.h"
#include "cgi.h"
#include "store_admin.h"

#if CONFIG_CGI

#define ADMIN_PASS_MIN 8
#define ADMIN_PASS_MAX 1024

/* May this browser set the first password? */
static int setup_allowed(const struct cgi_req *r)
{
	switch (r->cfg.admin_setup) {
	case CFG_PLAIN_LOOPBACK: return r->loopback;
	case CFG_PLAIN_LAN: return r->lan;
	default: return 0;
	}
}

/* The sign-in or set-up form; err shown under the password field. */
static void signin_form(struct cgi_req *r, int setup, const char *err)
{
	struct cgi_buf *b = &r->out;
	const char *pre = cgi_presession_token(r);

	cgi_page_begin(r, setup ? "Welcome" : "Sign in", NAV_NONE);
	cgi_put(b, "<div style=\"max-width:420px;margin:4vh auto 0\">");
	if (setup) {
		cgi_put(b, "<h1>Welcome to postnook</h1><p class=\"lead\">Choose the password that protects this page. "
		           "You will use it to manage users, ports and the certificate.</p>");
	} else {
		cgi_put(b, "<h1>Sign in</h1><p class=\"lead\">Manage the mail server on ");
		cgi_esc(b, r->cfg.hostname);
		cgi_put(b, ".</p>");
	}
	cgi_printf(b, "<form class=\"card\" method=\"post\" action=\"%s/signin\">"
	              "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
	              "<input type=\"hidden\" name=\"action\" value=\"%s\">",
	           r->script, pre, setup ? "setup" : "signin");
	cgi_printf(b, "<div class=\"field%s\"><label for=\"pw\">%s</label>"
	              "<input type=\"password\" id=\"pw\" name=\"password\" autocomplete=\"%s\" required%s autofocus>",
	           err && *err ? " bad" : "", setup ? "New admin password" : "Admin password",
	           setup ? "new-password" : "current-password",
	           err && *err ? " aria-invalid=\"true\" aria-describedby=\"pw-err\"" : "");
	cgi_field_err(r, "pw-err", err);
	cgi_put(b, "</div>");
	if (setup)
		cgi_printf(b, "<div class=\"field\"><label for=\"pw2\">Repeat the password</label>"
		              "<input type=\"password\" id=\"pw2\" name=\"password2\" autocomplete=\"new-password\" required>"
		              "<p class=\"hint\">At least %d characters. A few unrelated words make a good one.</p></div>",
		           ADMIN_PASS_MIN);
	cgi_printf(b, "<button>%s</button></form>", setup ? "Set password and continue" : "Sign in");
	if (!setup)
		cgi_put(b, "<p class=\"small\">Forgot it? On the router run <code>postnook admin passwd</code>.</p>");
	cgi_put(b, "</div>");
	cgi_page_end(r);
}

/* Shown when no password is set and this browser may not set one. */
static void setup_refused(struct cgi_req *r)
{
	cgi_page_begin(r, "Set up", NAV_NONE);
	cgi_put(&r->out, "<div style=\"max-width:520px;margin:4vh auto 0\"><h1>No admin password yet</h1>"
	                 "<div class=\"card\"><p>For safety the first password can only be chosen ");
	cgi_put(&r->out, r->cfg.admin_setup == CFG_PLAIN_LOOPBACK ? "on the router itself"
	                 : r->cfg.admin_setup == CFG_PLAIN_LAN ? "from your home network" : "on the command line");
	cgi_put(&r->out, ".</p><p>Log in to the router (for example over SSH) and run:</p>"
	                 "<p><code>postnook admin passwd</code></p><p>Then reload this page.</p></div></div>");
	cgi_page_end(r);
}

/* GET: the form. POST: sign in or set the first password. */
int cgi_page_signin(struct cgi_req *r)
{
	const char *action = cgi_form_get(&r->form, "action"), *pw = cgi_form_get(&r->form, "password");
	int isset = store_admin_isset(r->st), rc;
	unsigned wait;
	char msg[160];

	if (isset < 0)
		return isset;
	if (r->signed_in && strcmp(r->method, "POST"))
		return cgi_redirect(r, "/overview");
	if (!isset && !setup_allowed(r)) {
		setup_refused(r);
		return 0;
	}
	if (strcmp(r->method, "POST")) {
		signin_form(r, !isset, NULL);
		return 0;
	}
	if (!cgi_presession_ok(r))
		return cgi_error(r, 403, "Request refused",
		                 "The sign-in form's security token is missing or wrong. Reload the page and try again.");
	if (!pw)
		pw = "";
	if (!isset) {
		const char *pw2 = cgi_form_get(&r->form, "password2");
		size_t n = strlen(pw);
		if (!action || strcmp(action, "setup"))
			return cgi_redirect(r, "/signin");
		if (n < ADMIN_PASS_MIN || n > ADMIN_PASS_MAX) {
			snprintf(msg, sizeof msg, "Use at least %d characters (at most %d).", ADMIN_PASS_MIN, ADMIN_PASS_MAX);
			signin_form(r, 1, msg);
			return 0;
		}
		if (!pw2 || strcmp(pw, pw2)) {
			signin_form(r, 1, "The two passwords are not the same.");
			return 0;
		}
		rc = store_admin_set(r->st, pw, n, 1);
		if (rc == STORE_EEXIST)
			return cgi_redirect(r, "/signin");
		if (rc == 0)
			rc = cgi_session_create(r);
		if (rc)
			return rc;
		return cgi_redirect(r, "/overview");
	}
	wait = cgi_signin_wait(r);
	if (wait) {
		snprintf(msg, sizeof msg, "Too many wrong passwords from this address: wait %u second%s and try again.",
		         wait, wait == 1 ? "" : "s");
		r->status = 429;
		signin_form(r, 0, msg);
		return 0;
	}
	rc = store_admin_auth(r->st, pw, strlen(pw));
	if (rc == STORE_EAUTH) {
		unsigned ms = cgi_signin_failed(r);
		struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		signin_form(r, 0, "That password is not right.");
		return 0;
	}
	if (rc)
		return rc;
	cgi_signin_ok(r);
	rc = cgi_session_create(r);
	if (rc)
		return rc;
	return cgi_redirect(r, "/overview");
}

/* POST /signout. */
int cgi_page_signout(struct cgi_req *r)
{
	cgi_session_end(r);
	return cgi_redirect(r, "/signin");
}

#endif
