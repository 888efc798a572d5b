/*
 * cgi_page_users — users and quotas: a usage bar per user against their
 * quota; add a user (name, password, quota with units), change a password,
 * change a quota, delete (after a confirmation step). Changes go straight
 * to the store, which is safe alongside the running daemon (LMDB's lock).
 */
#include <stdio.h>
#include <string.h>

#include "sysconfig.h"
#include "cgi.h"
#include "notify.h"
#include "serve_status.h"
#include "store_user.h"

#if CONFIG_CGI

#define USER_PASS_MIN 6
#define USER_PASS_MAX 1023

struct add_errs {
	char name[160], pass[160], quota[160];
};

struct list_ctx {
	struct cgi_req *r;
	const char *open_user;          /* user whose form had an error (its details open) */
	const char *open_what;          /* "passwd" or "quota" */
	const char *err;                /* that error */
	const char *quota_val;          /* that submitted quota */
	unsigned n;
	struct serve_status st;         /* who is signed in now (st.nusers 0 if unknown) */
};

/* Quota in words: "2 GB", "no limit". */
static void quota_text(uint64_t q, char *out, size_t cap)
{
	if (q)
		cgi_fmt_size(q, out, cap);
	else
		snprintf(out, cap, "no limit");
}

/* A quota as the input field shows it: "2 GB" exact when possible. */
static void quota_field(uint64_t q, char *out, size_t cap)
{
	static const char *const u[] = { "KB", "MB", "GB", "TB" };
	int i = -1;

	if (!q) {
		out[0] = '\0';
		return;
	}
	while (i < 3 && q % 1024 == 0) {
		q /= 1024;
		i++;
	}
	if (i < 0)
		snprintf(out, cap, "%llu bytes", (unsigned long long)q);
	else
		snprintf(out, cap, "%llu %s", (unsigned long long)q, u[i]);
}

/* One user's row: usage, bar, and the three small forms. */
static int user_row(void *arg, const struct store_user *u)
{
	struct list_ctx *lc = arg;
	struct cgi_req *r = lc->r;
	struct cgi_buf *b = &r->out;
	char used[32], quota[32], qf[40], label[128];
	int open_pw = lc->open_user && !strcmp(lc->open_user, u->name) && !strcmp(lc->open_what, "passwd");
	int open_q = lc->open_user && !strcmp(lc->open_user, u->name) && !strcmp(lc->open_what, "quota");

	lc->n++;
	cgi_fmt_size(u->used_bytes, used, sizeof used);
	quota_text(u->quota_bytes, quota, sizeof quota);
	quota_field(u->quota_bytes, qf, sizeof qf);
	snprintf(label, sizeof label, "%s used of %s", used, quota);
	cgi_put(b, "<div class=\"user\"><div class=\"uhead\"><span class=\"uname\">");
	cgi_esc(b, u->name);
	{
		unsigned i, imap = 0, pop3 = 0;
		for (i = 0; i < lc->st.nusers; i++)
			if (!strcmp(lc->st.users[i].name, u->name))
				*(lc->st.users[i].proto == CFG_PROTO_IMAP ? &imap : &pop3) += 1;
		if (imap || pop3)
			cgi_printf(b, "<span class=\"dot\" aria-hidden=\"true\"></span><span class=\"small\">connected (%s%s%s)"
			              "</span>", imap ? "IMAP" : "", imap && pop3 ? ", " : "", pop3 ? "POP3" : "");
	}
	cgi_printf(b, "</span><span class=\"small\">%u message%s · %s %s %s", (unsigned)u->used_msgs,
	           u->used_msgs == 1 ? "" : "s", used, u->quota_bytes ? "of" : "·", quota);
	if (u->quota_bytes)
		cgi_printf(b, " (%u%%)", (unsigned)(u->used_bytes >= u->quota_bytes ? 100
		                                    : u->used_bytes * 100 / u->quota_bytes));
	if (u->quota_msgs)
		cgi_printf(b, " · at most %u messages", (unsigned)u->quota_msgs);
	cgi_put(b, "</span></div>");
	cgi_bar(r, u->used_bytes, u->quota_bytes, label);
	cgi_put(b, "<div class=\"uforms\">");

	/* Change password */
	cgi_printf(b, "<details%s><summary>Change password</summary><form method=\"post\" action=\"%s/users\">",
	           open_pw ? " open" : "", r->script);
	cgi_csrf_input(r);
	cgi_put(b, "<input type=\"hidden\" name=\"action\" value=\"passwd\"><input type=\"hidden\" name=\"user\" value=\"");
	cgi_esc(b, u->name);
	cgi_printf(b, "\"><div class=\"field%s\"><label for=\"pw-", open_pw ? " bad" : "");
	cgi_esc(b, u->name);
	cgi_put(b, "\">New password for ");
	cgi_esc(b, u->name);
	cgi_put(b, "</label><input type=\"password\" autocomplete=\"new-password\" name=\"password\" id=\"pw-");
	cgi_esc(b, u->name);
	cgi_put(b, "\">");
	if (open_pw)
		cgi_field_err(r, "pw-err", lc->err);
	cgi_put(b, "</div><button>Set password</button></form></details>");

	/* Change quota */
	cgi_printf(b, "<details%s><summary>Change quota</summary><form method=\"post\" action=\"%s/users\">",
	           open_q ? " open" : "", r->script);
	cgi_csrf_input(r);
	cgi_put(b, "<input type=\"hidden\" name=\"action\" value=\"quota\"><input type=\"hidden\" name=\"user\" value=\"");
	cgi_esc(b, u->name);
	cgi_printf(b, "\"><div class=\"field%s\"><label for=\"q-", open_q ? " bad" : "");
	cgi_esc(b, u->name);
	cgi_put(b, "\">Quota for ");
	cgi_esc(b, u->name);
	cgi_put(b, "</label><input type=\"text\" name=\"quota\" placeholder=\"no limit\" id=\"q-");
	cgi_esc(b, u->name);
	cgi_put(b, "\" value=\"");
	cgi_esc(b, open_q && lc->quota_val ? lc->quota_val : qf);
	cgi_put(b, "\">");
	if (open_q)
		cgi_field_err(r, "q-err", lc->err);
	cgi_put(b, "<p class=\"hint\">For example 500 MB or 2 GB; empty for no limit.</p></div>"
	           "<button>Set quota</button></form></details>");

	/* Delete: first step asks */
	cgi_printf(b, "<form class=\"udel\" method=\"post\" action=\"%s/users\">", r->script);
	cgi_csrf_input(r);
	cgi_put(b, "<input type=\"hidden\" name=\"action\" value=\"delask\"><input type=\"hidden\" name=\"user\" value=\"");
	cgi_esc(b, u->name);
	cgi_put(b, "\"><button class=\"sec\" aria-label=\"Delete ");
	cgi_esc(b, u->name);
	cgi_put(b, "\">Delete…</button></form></div></div>");
	return 0;
}

/* The add-user card; values kept after an error (never the password). */
static void add_form(struct cgi_req *r, const struct add_errs *e, const char *name, const char *quota)
{
	struct cgi_buf *b = &r->out;

	cgi_printf(b, "<form class=\"card\" method=\"post\" action=\"%s/users\" aria-labelledby=\"h-add\" novalidate>"
	              "<h2 id=\"h-add\">Add a user</h2>", r->script);
	cgi_csrf_input(r);
	cgi_put(b, "<input type=\"hidden\" name=\"action\" value=\"add\"><div class=\"row\">");
	cgi_printf(b, "<div class=\"field%s\"><label for=\"add-name\">User name</label><input type=\"text\" id=\"add-name\" "
	              "name=\"name\" autocomplete=\"off\" autocapitalize=\"none\" spellcheck=\"false\" maxlength=\"80\" "
	              "aria-describedby=\"add-name-hint%s\" value=\"", e->name[0] ? " bad" : "", e->name[0] ? " add-name-err" : "");
	cgi_esc(b, name ? name : "");
	cgi_put(b, "\"><p class=\"hint\" id=\"add-name-hint\">Lowercase letters, digits and . _ - (what the mail app asks as "
	           "\"user name\").</p>");
	cgi_field_err(r, "add-name-err", e->name);
	cgi_printf(b, "</div><div class=\"field%s\"><label for=\"add-pw\">Password</label><input type=\"password\" id=\"add-pw\" "
	              "name=\"password\" autocomplete=\"new-password\">", e->pass[0] ? " bad" : "");
	cgi_printf(b, "<p class=\"hint\">At least %d characters.</p>", USER_PASS_MIN);
	cgi_field_err(r, "add-pw-err", e->pass);
	cgi_printf(b, "</div><div class=\"field%s\"><label for=\"add-quota\">Quota</label><input type=\"text\" id=\"add-quota\" "
	              "name=\"quota\" placeholder=\"no limit\" value=\"", e->quota[0] ? " bad" : "");
	cgi_esc(b, quota ? quota : "");
	cgi_put(b, "\"><p class=\"hint\">How much mail this user may keep: 500 MB, 2 GB … Empty for no limit.</p>");
	cgi_field_err(r, "add-quota-err", e->quota);
	cgi_put(b, "</div></div><button>Add user</button></form>");
}

/* The confirmation step of a delete. */
static int del_confirm(struct cgi_req *r, const struct store_user *u)
{
	struct cgi_buf *b = &r->out;
	char used[32];

	cgi_fmt_size(u->used_bytes, used, sizeof used);
	cgi_page_begin(r, "Delete user", NAV_USERS);
	cgi_put(b, "<h1>Delete ");
	cgi_esc(b, u->name);
	cgi_printf(b, "?</h1><div class=\"card\"><p>This removes the account and all of its mail: <strong>%u message%s, %s</strong>. "
	              "It cannot be undone.</p><form method=\"post\" action=\"%s/users\" class=\"acts\">",
	           (unsigned)u->used_msgs, u->used_msgs == 1 ? "" : "s", used, r->script);
	cgi_csrf_input(r);
	cgi_put(b, "<input type=\"hidden\" name=\"action\" value=\"del\"><input type=\"hidden\" name=\"confirm\" value=\"yes\">"
	           "<input type=\"hidden\" name=\"user\" value=\"");
	cgi_esc(b, u->name);
	cgi_put(b, "\"><button class=\"danger\">Delete ");
	cgi_esc(b, u->name);
	cgi_printf(b, " and the mail</button><a class=\"btn sec\" href=\"%s/users\">Keep</a></form></div>", r->script);
	cgi_page_end(r);
	return 0;
}

int cgi_page_users(struct cgi_req *r)
{
	const char *action = cgi_form_get(&r->form, "action"), *user = cgi_form_get(&r->form, "user");
	const char *name = cgi_form_get(&r->form, "name"), *pw = cgi_form_get(&r->form, "password");
	const char *quota = cgi_form_get(&r->form, "quota");
	struct add_errs e;
	struct list_ctx lc;
	struct store_user u;
	char ok[200] = "", fail[200] = "", rowerr[200] = "";
	uint64_t q = 0;
	size_t pl = pw ? strlen(pw) : 0;
	int rc, add_failed = 0;

	memset(&e, 0, sizeof e);
	memset(&lc, 0, sizeof lc);
	if (!action)
		action = "";
	if (!strcmp(action, "add")) {
		if (!name || !*name)
			snprintf(e.name, sizeof e.name, "Enter a user name.");
		else if (store_user_name_check(name))
			snprintf(e.name, sizeof e.name, "Use 1 to %d lowercase letters, digits, dots, dashes or underscores, "
			         "starting with a letter or digit.", STORE_NAME_MAX);
		if (pl < USER_PASS_MIN || pl > USER_PASS_MAX)
			snprintf(e.pass, sizeof e.pass, "Use at least %d characters.", USER_PASS_MIN);
		if (cgi_parse_size(quota, &q) < 0)
			snprintf(e.quota, sizeof e.quota, "Write a size such as 500 MB or 2 GB, or leave it empty for no limit.");
		else if (q && q < 1024 * 1024)
			snprintf(e.quota, sizeof e.quota, "At least 1 MB (or empty for no limit).");
		if (!e.name[0] && !e.pass[0] && !e.quota[0]) {
			rc = store_user_add(r->st, name, pw, pl, q, 0);
			if (rc == STORE_EEXIST)
				snprintf(e.name, sizeof e.name, "There is already a user called %s.", name);
			else if (rc)
				return rc;
			else
				snprintf(ok, sizeof ok, "User %s added.", name);
		}
		add_failed = e.name[0] || e.pass[0] || e.quota[0];
	} else if (!strcmp(action, "passwd") || !strcmp(action, "quota") || !strcmp(action, "delask") ||
	           !strcmp(action, "del")) {
		rc = user ? store_user_get(r->st, user, &u) : STORE_ENOTFOUND;
		if (rc == STORE_ENOTFOUND) {
			snprintf(fail, sizeof fail, "There is no user called %.64s (any more).", user ? user : "");
		} else if (rc) {
			return rc;
		} else if (!strcmp(action, "passwd")) {
			if (pl < USER_PASS_MIN || pl > USER_PASS_MAX) {
				snprintf(rowerr, sizeof rowerr, "Use at least %d characters.", USER_PASS_MIN);
			} else {
				rc = store_user_passwd(r->st, user, pw, pl);
				if (rc)
					return rc;
				snprintf(ok, sizeof ok, "Password of %s changed.", user);
			}
		} else if (!strcmp(action, "quota")) {
			if (cgi_parse_size(quota, &q) < 0)
				snprintf(rowerr, sizeof rowerr, "Write a size such as 500 MB or 2 GB, or leave it empty for no limit.");
			else if (q && q < 1024 * 1024)
				snprintf(rowerr, sizeof rowerr, "At least 1 MB (or empty for no limit).");
			else {
				rc = store_user_set_quota(r->st, user, q, u.quota_msgs);
				if (rc)
					return rc;
				snprintf(ok, sizeof ok, "Quota of %s set.", user);
			}
		} else if (!strcmp(action, "delask")) {
			return del_confirm(r, &u);
		} else {
			const char *c = cgi_form_get(&r->form, "confirm");
			if (!c || strcmp(c, "yes"))
				return del_confirm(r, &u);
			rc = store_user_del(r->st, user);
			if (rc)
				return rc;
			notify_send_mbox(r->cfg.datadir, u.id, 0);
			snprintf(ok, sizeof ok, "User %s and all of their mail deleted.", user);
		}
		if (rowerr[0]) {
			lc.open_user = user;
			lc.open_what = action;
			lc.err = rowerr;
			lc.quota_val = quota;
		}
	} else if (action[0]) {
		snprintf(fail, sizeof fail, "Unknown action.");
	}

	cgi_page_begin(r, "Users and quotas", NAV_USERS);
	cgi_put(&r->out, "<h1>Users and quotas</h1><p class=\"lead\">Everyone who fetches mail from this server, "
	                 "and how much each may keep.</p>");
	if (ok[0])
		cgi_notice(r, "ok", ok);
	if (fail[0])
		cgi_notice(r, "err", fail);
	if (add_failed || rowerr[0])
		cgi_notice(r, "err", "Nothing was changed: please correct the field marked below.");
	cgi_put(&r->out, "<section class=\"card\" aria-labelledby=\"h-users\"><h2 id=\"h-users\">Users</h2>");
	lc.r = r;
	if (!cgi_daemon_pid(r) || serve_status_read(r->cfg.datadir, &lc.st) != 0)
		lc.st.nusers = 0;
	rc = store_user_list(r->st, user_row, &lc);
	if (rc)
		return rc;
	if (!lc.n)
		cgi_put(&r->out, "<p class=\"small\">No users yet. Add the first one below.</p>");
	cgi_put(&r->out, "</section>");
	add_form(r, &e, add_failed ? name : NULL, add_failed ? quota : NULL);
	cgi_page_end(r);
	return 0;
}

#endif
