/*
 * imap_mbox — mailbox commands: CREATE, DELETE, RENAME, SUBSCRIBE,
 * UNSUBSCRIBE, LIST, LSUB, STATUS, SELECT, EXAMINE, UNSELECT, CHECK,
 * GETQUOTA, GETQUOTAROOT.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "imap_int.h"
#include "log.h"
#include "store_mbox.h"
#include "store_msg.h"
#include "store_user.h"

#if CONFIG_IMAP

#define LIST_WINDOW 16          /* mailboxes listed per stream call */
#define PATTERN_MAX (2 * STORE_MBOX_NAME_MAX)

static const char *const special[][2] = {
	{ "Sent", "\\Sent" }, { "Drafts", "\\Drafts" }, { "Trash", "\\Trash" },
	{ "Junk", "\\Junk" }, { "Archive", "\\Archive" },
};

/* The SPECIAL-USE attribute of a top-level name, or NULL. */
static const char *special_use(const char *name)
{
	for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
		if (!strcmp(name, special[i][0]))
			return special[i][1];
	return NULL;
}

_Static_assert(IMAP_MBOX_NAME_MAX == STORE_MBOX_NAME_MAX, "imap.h's mailbox name limit is the store's");

/* A mailbox argument into buf (IMAP_MBOX_NAME_MAX + 1 bytes); 0, or -1 with the BAD or NO sent. */
static int mbox_arg(struct conn *c, struct imap_p *p, char *buf)
{
	if (imap_p_mbox(p, buf) == 0)
		return 0;
	imap_reject(c, p);
	return -1;
}

/* The name must be valid to be created; 0 or -1 (NO sent). */
static int name_ok(struct conn *c, const char *name)
{
	if (imap_mbox_name_check(name) < 0) {
		imap_done(c, "NO [CANNOT] Invalid mailbox name (modified UTF-7, '/' between levels, no '*' or '%%')");
		return -1;
	}
	return 0;
}

static int args_end(struct conn *c, struct imap_p *p)
{
	if (!imap_p_eol(p)) {
		imap_p_fail(p, "Unexpected arguments");
		imap_bad(c, p);
		return -1;
	}
	return 0;
}

/* --- CREATE, DELETE, RENAME, (UN)SUBSCRIBE ------------------------------ */

int imap_cmd_create(struct conn *c, struct imap_p *p)
{
	char name[STORE_MBOX_NAME_MAX + 1];
	size_t n;
	int rc;

	if (mbox_arg(c, p, name) || args_end(c, p))
		return 0;
	n = strlen(name);
	if (n > 1 && name[n - 1] == '/')
		name[n - 1] = '\0';     /* RFC 3501: a trailing delimiter is a hint */
	if (name_ok(c, name))
		return 0;
	rc = store_mbox_create(conn_env.store, imap_of(c)->user_id, name, NULL);
	if (rc < 0)
		imap_store_no(c, rc, "CREATE");
	else
		imap_done(c, "OK CREATE completed");
	return 0;
}

struct child_arg {
	const char *prefix;
	size_t len;
	int found;
};

static int child_cb(void *arg, const char *name, const struct store_mbox *mb)
{
	struct child_arg *a = arg;

	if (!strncmp(name, a->prefix, a->len) && name[a->len] == '/') {
		a->found = 1;
		return 1;
	}
	return 0;
}

/* Does name have children? */
static int has_children(struct conn *c, const char *name)
{
	struct child_arg a = { name, strlen(name), 0 };

	store_mbox_list(conn_env.store, imap_of(c)->user_id, child_cb, &a);
	return a.found;
}

/*
 * RFC 3501 6.3.4: a mailbox with inferiors loses its messages and keeps its
 * name as \Noselect (and its subscription); a \Noselect name with
 * inferiors cannot be deleted; one without is removed.
 */
int imap_cmd_delete(struct conn *c, struct imap_p *p)
{
	char name[STORE_MBOX_NAME_MAX + 1];
	struct store_mbox mb;
	int rc, noselect = 0;

	if (mbox_arg(c, p, name) || args_end(c, p))
		return 0;
	if (!strcmp(name, "INBOX")) {
		imap_done(c, "NO [CANNOT] INBOX cannot be deleted");
		return 0;
	}
	if ((rc = store_mbox_get_any(conn_env.store, imap_of(c)->user_id, name, &mb)) < 0) {
		imap_store_no(c, rc, "DELETE");
		return 0;
	}
	if (mb.flags & STORE_MBOX_NOSELECT && has_children(c, name)) {
		imap_done(c, "NO [HASCHILDREN] DELETE: the name is \\Noselect and has inferiors; delete them first");
		return 0;
	}
	if (imap_of(c)->state == IMAP_SELECTED && imap_of(c)->sv.v && imap_of(c)->sv.v->mbox == mb.id) {
		imap_view_close(c);
		imap_of(c)->state = IMAP_AUTH;
	}
	rc = store_mbox_delete(conn_env.store, imap_of(c)->user_id, name, &noselect);
	if (rc == STORE_EINVAL) {
		imap_done(c, "NO [HASCHILDREN] DELETE: the name is \\Noselect and has inferiors; delete them first");
		return 0;
	}
	if (rc < 0) {
		imap_store_no(c, rc, "DELETE");
		return 0;
	}
	if (!noselect)
		store_mbox_subscribe(conn_env.store, imap_of(c)->user_id, name, 0);
	imap_view_notify(mb.id);
	imap_done(c, "OK DELETE completed");
	return 0;
}

int imap_cmd_rename(struct conn *c, struct imap_p *p)
{
	char from[STORE_MBOX_NAME_MAX + 1], to[STORE_MBOX_NAME_MAX + 1];
	int rc;

	if (mbox_arg(c, p, from) || mbox_arg(c, p, to) || args_end(c, p))
		return 0;
	if (name_ok(c, to))
		return 0;
	rc = store_mbox_rename(conn_env.store, imap_of(c)->user_id, from, to);
	if (rc < 0)
		imap_store_no(c, rc, "RENAME");
	else
		imap_done(c, "OK RENAME completed");
	return 0;
}

static int subscribe(struct conn *c, struct imap_p *p, int on)
{
	char name[STORE_MBOX_NAME_MAX + 1];
	int rc;

	if (mbox_arg(c, p, name) || args_end(c, p) || (on && name_ok(c, name)))
		return 0;
	rc = store_mbox_subscribe(conn_env.store, imap_of(c)->user_id, name, on);
	if (rc < 0)
		imap_store_no(c, rc, on ? "SUBSCRIBE" : "UNSUBSCRIBE");
	else
		imap_done(c, "OK %s completed", on ? "SUBSCRIBE" : "UNSUBSCRIBE");
	return 0;
}

int imap_cmd_subscribe(struct conn *c, struct imap_p *p)
{
	return subscribe(c, p, 1);
}

int imap_cmd_unsubscribe(struct conn *c, struct imap_p *p)
{
	return subscribe(c, p, 0);
}

/* --- LIST / LSUB ------------------------------------------------------------ */

/*
 * Does name match pattern ('*' anything, '%' anything but '/')? A DP over
 * the two strings, O(len(pattern) * len(name)), no recursion.
 */
static int pattern_match(const char *pat, const char *name)
{
	unsigned char row[STORE_MBOX_NAME_MAX + 2], next[STORE_MBOX_NAME_MAX + 2];
	size_t n = strlen(name), i, j;

	if (n > STORE_MBOX_NAME_MAX)
		return 0;
	memset(row, 0, n + 1);
	row[0] = 1;
	for (i = 0; pat[i]; i++) {
		char pc = pat[i];
		memset(next, 0, n + 1);
		for (j = 0; j <= n; j++) {
			if (pc == '*' || pc == '%') {
				/* skip zero chars, or extend a match by one */
				if (row[j] || (j > 0 && next[j - 1] && (pc == '*' || name[j - 1] != '/')))
					next[j] = 1;
			} else if (j > 0 && row[j - 1] && name[j - 1] == pc) {
				next[j] = 1;
			}
		}
		memcpy(row, next, n + 1);
	}
	return row[n];
}

/* Match with INBOX case-insensitive (the pattern's INBOX prefix is folded). */
static int list_match(const char *pat, const char *name)
{
	char folded[PATTERN_MAX + 1];

	if (!strncasecmp(pat, "INBOX", 5) && (pat[5] == '\0' || pat[5] == '/' || pat[5] == '*' || pat[5] == '%')) {
		snprintf(folded, sizeof folded, "INBOX%s", pat + 5);
		pat = folded;
	}
	return pattern_match(pat, name);
}

/* Write "name" as an IMAP quoted string (names are printable ASCII without '"'/'\\'? escape anyway). */
static int print_list(struct conn *c, const char *cmd, const char *attrs, const char *name)
{
	char q[2 * STORE_MBOX_NAME_MAX + 3];
	size_t o = 0;

	q[o++] = '"';
	for (const char *s = name; *s; s++) {
		if (*s == '"' || *s == '\\')
			q[o++] = '\\';
		q[o++] = *s;
	}
	q[o++] = '"';
	q[o] = '\0';
	return conn_printf(c, "* %s (%s) \"/\" %s\r\n", cmd, attrs, q);
}

/* A window of mailbox names being listed. */
struct list_win {
	const char *pat;
	uint32_t skip, seen;        /* names to skip (already listed), names passed */
	unsigned n;
	int lsub;
	char names[LIST_WINDOW][STORE_MBOX_NAME_MAX + 1];
	uint8_t children[LIST_WINDOW];
	uint8_t noselect[LIST_WINDOW];
	uint16_t parent[LIST_WINDOW];   /* LSUB: bytes of the \Noselect parent to list first, 0 none */
	int more;                   /* names remain after the window */
	char last[STORE_MBOX_NAME_MAX + 1];  /* LSUB: the subscribed name passed before */
};

static struct list_win win;     /* one loop, one stream call at a time */

static int win_cb(void *arg, const char *name, const struct store_mbox *mb)
{
	struct list_win *w = arg;
	unsigned i;

	/* Is it a child of a name in the window? */
	for (i = 0; i < w->n; i++) {
		size_t l = strlen(w->names[i]);
		if (!strncmp(name, w->names[i], l) && name[l] == '/')
			w->children[i] = 1;
	}
	if (w->seen++ < w->skip)
		return 0;
	if (w->n == LIST_WINDOW) {
		w->more = 1;
		/* Past every window name's children range? ('/' + 1 == '0') */
		for (i = 0; i < w->n; i++) {
			size_t l = strlen(w->names[i]);
			if (strncmp(name, w->names[i], l) <= 0 && (name[l] == '\0' || (unsigned char)name[l] <= '/'))
				return 0;
		}
		return 1;
	}
	snprintf(w->names[w->n], sizeof w->names[0], "%s", name);
	w->children[w->n] = 0;
	w->noselect[w->n] = (mb->flags & STORE_MBOX_NOSELECT) != 0;
	w->n++;
	return 0;
}

/*
 * RFC 3501 6.3.9: LSUB with '%' lists a parent of a subscribed name that
 * the pattern matches, though only the child is subscribed, as \Noselect.
 * Without '*' the pattern matches names of one depth only, so the parent
 * is the name's prefix of that depth. The bytes of that prefix when it
 * matches and prev (the subscribed name before, in order) did not already
 * bring it (names below one parent are adjacent), else 0.
 */
static size_t lsub_parent(const char *pat, const char *name, const char *prev)
{
	char p[STORE_MBOX_NAME_MAX + 1];
	size_t k = 0, i;

	if (strchr(pat, '*'))
		return 0;
	for (i = 0; pat[i]; i++)
		k += pat[i] == '/';
	for (i = 0; name[i] && (name[i] != '/' || k--); i++)
		;
	if (!name[i] || list_match(pat, name))
		return 0;
	memcpy(p, name, i);
	p[i] = '\0';
	if (!list_match(pat, p) || (!strncmp(prev, name, i + 1)))
		return 0;
	return i;
}

static int sub_cb(void *arg, const char *name)
{
	struct list_win *w = arg;
	size_t parent = lsub_parent(w->pat, name, w->last);

	snprintf(w->last, sizeof w->last, "%s", name);
	if (w->seen++ < w->skip)
		return 0;
	if (w->n == LIST_WINDOW) {
		w->more = 1;
		return 1;
	}
	snprintf(w->names[w->n], sizeof w->names[0], "%s", name);
	w->children[w->n] = 0;
	w->noselect[w->n] = 0;
	w->parent[w->n] = (uint16_t)parent;
	w->n++;
	return 0;
}

/* The LIST/LSUB responses. The pattern is kept in the command line:
 * job.args .. job.args_end (copied per call). */
static int list_stream(struct conn *c)
{
	struct imap_sess *s = imap_of(c);
	struct imap_job *j = &s->job;
	char pat[PATTERN_MAX + 1];
	size_t pl = (size_t)(j->args_end - j->args);
	int rc;

	memcpy(pat, j->args, pl);
	pat[pl] = '\0';
	memset(&win, 0, offsetof(struct list_win, names));
	win.more = 0;
	win.last[0] = '\0';
	win.pat = pat;
	win.skip = j->cur;
	win.lsub = j->flags;
	rc = j->flags ? store_mbox_list_subscribed(conn_env.store, s->user_id, sub_cb, &win)
	              : store_mbox_list(conn_env.store, s->user_id, win_cb, &win);
	if (rc < 0) {
		imap_store_no(c, rc, j->flags ? "LSUB" : "LIST");
		return 1;
	}
	for (unsigned i = 0; i < win.n; i++) {
		char attrs[64];
		const char *su;
		if (win.parent[i]) {
			/* a parent only its children are subscribed to (unless it is itself) */
			win.names[i][win.parent[i]] = '\0';
			if (store_mbox_is_subscribed(conn_env.store, s->user_id, win.names[i]) == 0 &&
			    print_list(c, "LSUB", "\\Noselect", win.names[i]) < 0)
				return 0;
		} else if (list_match(pat, win.names[i])) {
			if (win.lsub) {
				/* a subscribed name kept only for its children says so */
				struct store_mbox mb;
				attrs[0] = '\0';
				if (store_mbox_get_any(conn_env.store, s->user_id, win.names[i], &mb) == 0 &&
				    mb.flags & STORE_MBOX_NOSELECT)
					snprintf(attrs, sizeof attrs, "\\Noselect %s",
					         has_children(c, win.names[i]) ? "\\HasChildren" : "\\HasNoChildren");
			} else {
				su = win.noselect[i] ? NULL : special_use(win.names[i]);
				snprintf(attrs, sizeof attrs, "%s%s%s%s", win.noselect[i] ? "\\Noselect " : "",
				         win.children[i] ? "\\HasChildren" : "\\HasNoChildren", su ? " " : "", su ? su : "");
			}
			if (print_list(c, win.lsub ? "LSUB" : "LIST", attrs, win.names[i]) < 0)
				return 0;
		}
		j->cur++;
	}
	return win.more ? 0 : 1;
}

static int list(struct conn *c, struct imap_p *p, int lsub)
{
	struct imap_sess *s = imap_of(c);
	struct imap_str ref, pat;
	char r[STORE_MBOX_NAME_MAX + 1], pt[STORE_MBOX_NAME_MAX + 1];
	char *line;
	size_t rl, n;

	if (imap_p_sp(p) || imap_p_astring(p, &ref) || imap_p_sp(p) || imap_p_listmbox(p, &pat)) {
		imap_bad(c, p);
		return 0;
	}
	if (!lsub && imap_p_accept(p, ' ')) {
		/* LIST-EXTENDED return options (SPECIAL-USE, CHILDREN) are what we return anyway. */
		struct imap_str kw;
		if (imap_p_atom(p, &kw) || !imap_str_is(&kw, "RETURN") || imap_p_sp(p) || imap_p_open(p)) {
			imap_bad(c, p);
			return 0;
		}
		while (!p->err && imap_p_peek(p) != ')')
			if (imap_p_atom(p, &kw) || (imap_p_peek(p) == ' ' && imap_p_sp(p)))
				break;
		if (imap_p_close(p)) {
			imap_bad(c, p);
			return 0;
		}
	}
	if (args_end(c, p))
		return 0;
	if (imap_str_copy(&ref, r, sizeof r) || imap_str_copy(&pat, pt, sizeof pt)) {
		imap_done(c, "NO [CANNOT] Name too long");
		return 0;
	}
	if (!pt[0]) {
		if (!lsub)
			conn_printf(c, "* LIST (\\Noselect) \"/\" \"\"\r\n");
		imap_done(c, "OK %s completed", lsub ? "LSUB" : "LIST");
		return 0;
	}
	/* The full pattern (reference + mailbox pattern) replaces the command text
	 * in place: it is never longer than what it replaces. */
	rl = strlen(r);
	n = rl + strlen(pt);
	line = (char *)ref.s;
	if (n > (size_t)(p->end - ref.s)) {
		imap_done(c, "NO [CANNOT] Pattern too long");
		return 0;
	}
	memcpy(line, r, rl);
	memcpy(line + rl, pt, strlen(pt));
	s->job.args = line;
	s->job.args_end = line + n;
	s->job.cur = 0;
	s->job.flags = (uint8_t)lsub;
	conn_keep_line(c);
	imap_job_start(c, list_stream);
	imap_done(c, "OK %s completed", lsub ? "LSUB" : "LIST");
	return 0;
}

int imap_cmd_list(struct conn *c, struct imap_p *p)
{
	return list(c, p, 0);
}

int imap_cmd_lsub(struct conn *c, struct imap_p *p)
{
	return list(c, p, 1);
}

/* --- STATUS ----------------------------------------------------------------- */

struct unseen_arg {
	uint32_t unseen;
	uint32_t first;         /* UID of the first unseen message, 0 if none */
};

static int unseen_cb(void *arg, const struct store_msg *m)
{
	struct unseen_arg *a = arg;

	if (!(m->flags & STORE_F_SEEN)) {
		if (!a->first)
			a->first = m->uid;
		a->unseen++;
	}
	return 0;
}

static int count_cb(void *arg, const struct store_msg *m)
{
	(*(uint32_t *)arg)++;
	return 0;
}

/* Stop at the first message without \Seen (SELECT's [UNSEEN n]). */
static int first_unseen_cb(void *arg, const struct store_msg *m)
{
	struct unseen_arg *a = arg;

	if (m->flags & STORE_F_SEEN)
		return 0;
	a->first = m->uid;
	return 1;
}

int imap_cmd_status(struct conn *c, struct imap_p *p)
{
	char name[STORE_MBOX_NAME_MAX + 1], out[256];
	struct store_mbox mb;
	struct imap_str it;
	unsigned want = 0;
	size_t n = 0;
	int rc;

	if (imap_p_mbox(p, name) || imap_p_sp(p) || imap_p_open(p)) {
		imap_reject(c, p);
		return 0;
	}
	do {
		static const char *const items[] = { "MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "SIZE" };
		unsigned i;
		if (imap_p_atom(p, &it))
			break;
		for (i = 0; i < 6; i++)
			if (imap_str_is(&it, items[i]))
				break;
		if (i == 6) {
			imap_p_fail(p, "Unknown STATUS item");
			break;
		}
		want |= 1u << i;
	} while (imap_p_accept(p, ' '));
	if (imap_p_close(p) || args_end(c, p)) {
		if (p->err)
			imap_bad(c, p);
		return 0;
	}
	rc = store_mbox_get(conn_env.store, imap_of(c)->user_id, name, &mb);
	if (rc < 0) {
		imap_store_no(c, rc, "STATUS");
		return 0;
	}
	if (want & 1)
		n += (size_t)snprintf(out + n, sizeof out - n, " MESSAGES %" PRIu32, mb.count);
	if (want & 2) {
		/* the messages no session has claimed; STATUS does not claim them */
		uint32_t recent = 0;
		store_msg_walk_from(conn_env.store, mb.id, imap_view_recent_mark(&mb), count_cb, &recent);
		n += (size_t)snprintf(out + n, sizeof out - n, " RECENT %" PRIu32, recent);
	}
	if (want & 4)
		n += (size_t)snprintf(out + n, sizeof out - n, " UIDNEXT %" PRIu32, mb.uidnext);
	if (want & 8)
		n += (size_t)snprintf(out + n, sizeof out - n, " UIDVALIDITY %" PRIu32, mb.uidvalidity);
	if (want & 16) {
		struct unseen_arg a = { 0, 0 };
		rc = store_msg_walk_from(conn_env.store, mb.id, 0, unseen_cb, &a);
		n += (size_t)snprintf(out + n, sizeof out - n, " UNSEEN %" PRIu32, a.unseen);
	}
	if (want & 32)
		n += (size_t)snprintf(out + n, sizeof out - n, " SIZE %" PRIu64, mb.bytes);
	conn_printf(c, "* STATUS \"%s\" (%s)\r\n", name, n ? out + 1 : "");
	imap_done(c, "OK STATUS completed");
	return 0;
}

/* --- SELECT / EXAMINE / CLOSE / UNSELECT -------------------------------------- */

int imap_check_select(struct imap_p *p, char *name)
{
	if (imap_p_mbox(p, name))
		return p->err;
	if (imap_p_accept(p, ' '))
		return imap_p_fail(p, "SELECT parameters are not supported");    /* CONDSTORE ... are not offered */
	if (!imap_p_eol(p))
		return imap_p_fail(p, "Unexpected arguments");
	return 0;
}

/* SELECT (ro 0), EXAMINE (ro 1): open the mailbox's view and describe it. */
static int selectx(struct conn *c, struct imap_p *p, int ro)
{
	struct imap_sess *s = imap_of(c);
	char name[IMAP_MBOX_NAME_MAX + 1], fl[IMAP_FLAGS_BUF];
	struct store_mbox mb;
	struct unseen_arg ua = { 0, 0 };
	int rc;

	if (imap_check_select(p, name)) {
		imap_reject(c, p);
		return 0;
	}
	if (s->state == IMAP_SELECTED) {
		imap_view_close(c);
		s->state = IMAP_AUTH;
	}
	rc = store_mbox_get(conn_env.store, s->user_id, name, &mb);
	if (rc < 0) {
		imap_store_no(c, rc, ro ? "EXAMINE" : "SELECT");
		return 0;
	}
	rc = imap_view_open(c, &mb, !ro);
	if (rc < 0) {
		imap_done(c, "NO [SERVERBUG] Cannot open the mailbox now");
		return 0;
	}
	s->state = IMAP_SELECTED;
	s->readonly = (uint8_t)ro;
	store_msg_walk_from(conn_env.store, mb.id, 0, first_unseen_cb, &ua);
	imap_flag_list(mb.id, fl, sizeof fl, 0, NULL);
	conn_printf(c, "* FLAGS (%s)\r\n", fl);
	imap_flag_list(mb.id, fl, sizeof fl, 1, NULL);
	if (conn_printf(c, "* OK [PERMANENTFLAGS (%s)] Flags permitted\r\n", ro ? "" : fl) < 0)
		s->sv.kw_perm = 1;      /* long keywords: it follows once there is room (imap_kw_announce) */
	conn_printf(c, "* %" PRIu32 " EXISTS\r\n* %" PRIu32 " RECENT\r\n", s->sv.exists, imap_view_recent(c));
	if (ua.first) {
		uint32_t idx = imap_view_lower(s->sv.v, ua.first);
		if (idx < s->sv.v->n && s->sv.v->e[idx].uid == ua.first && imap_view_visible(c, idx))
			conn_printf(c, "* OK [UNSEEN %" PRIu32 "] First unseen\r\n", imap_view_seq(c, idx));
	}
	conn_printf(c, "* OK [UIDVALIDITY %" PRIu32 "] UIDs valid\r\n* OK [UIDNEXT %" PRIu32 "] Predicted next UID\r\n",
	            mb.uidvalidity, s->sv.uid_limit > mb.uidnext ? s->sv.uid_limit : mb.uidnext);
	s->no_expunge = 1;
	imap_done(c, "OK [%s] %s completed", ro ? "READ-ONLY" : "READ-WRITE", ro ? "EXAMINE" : "SELECT");
	return 0;
}

int imap_cmd_select(struct conn *c, struct imap_p *p)
{
	return selectx(c, p, 0);
}

int imap_cmd_examine(struct conn *c, struct imap_p *p)
{
	return selectx(c, p, 1);
}

int imap_cmd_unselect(struct conn *c, struct imap_p *p)
{
	if (args_end(c, p))
		return 0;
	imap_view_close(c);
	imap_of(c)->state = IMAP_AUTH;
	imap_done(c, "OK UNSELECT completed");
	return 0;
}

int imap_cmd_check(struct conn *c, struct imap_p *p)
{
	if (args_end(c, p))
		return 0;
	imap_done(c, "OK CHECK completed");
	return 0;
}

/* --- QUOTA (RFC 9208): one root "" per user ------------------------------------ */

static void quota_line(struct conn *c)
{
	struct store_user u;
	char res[128];
	size_t n = 0;

	res[0] = '\0';
	if (store_user_get(conn_env.store, imap_of(c)->user, &u) == 0) {
		if (u.quota_bytes)
			n += (size_t)snprintf(res + n, sizeof res - n, "STORAGE %" PRIu64 " %" PRIu64,
			                      (u.used_bytes + 1023) / 1024, u.quota_bytes / 1024);
		if (u.quota_msgs)
			n += (size_t)snprintf(res + n, sizeof res - n, "%sMESSAGE %" PRIu32 " %" PRIu32, n ? " " : "",
			                      u.used_msgs, u.quota_msgs);
	}
	conn_printf(c, "* QUOTA \"\" (%s)\r\n", res);
}

int imap_cmd_getquota(struct conn *c, struct imap_p *p)
{
	struct imap_str root;

	if (imap_p_sp(p) || imap_p_astring(p, &root) || args_end(c, p)) {
		if (p->err)
			imap_bad(c, p);
		return 0;
	}
	if (root.len) {
		imap_done(c, "NO [NONEXISTENT] No such quota root");
		return 0;
	}
	quota_line(c);
	imap_done(c, "OK GETQUOTA completed");
	return 0;
}

int imap_cmd_getquotaroot(struct conn *c, struct imap_p *p)
{
	char name[STORE_MBOX_NAME_MAX + 1];
	struct store_mbox mb;
	int rc;

	if (mbox_arg(c, p, name) || args_end(c, p))
		return 0;
	rc = store_mbox_get(conn_env.store, imap_of(c)->user_id, name, &mb);
	if (rc < 0) {
		imap_store_no(c, rc, "GETQUOTAROOT");
		return 0;
	}
	conn_printf(c, "* QUOTAROOT \"%s\" \"\"\r\n", name);
	quota_line(c);
	imap_done(c, "OK GETQUOTAROOT completed");
	return 0;
}

#endif
