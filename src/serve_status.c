/* serve_status — write and read DATADIR/status (see serve_status.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "conn.h"
#include "loop.h"
#include "serve_status.h"
#include "tls.h"

#define STATUS_NAME "/status"
#define STATUS_FILE_MAX 16384

static struct serve_status cur;
static const struct cfg *in_force;
static char status_path[CFG_PATH_MAX + 16];
static struct loop_timer status_timer;
static uint64_t users_sig;                /* changes when sessions come, go or sign in */
static unsigned char fp_written[32];      /* the certificate fingerprint in the file (renewals change it) */

static const char *const proto_words[] = { "pop3", "imap" };
static const char *const mode_words[] = { "none", "starttls", "tls" };

struct user_walk {
	char *buf;
	size_t cap;
	int n;                          /* bytes written so far, or -1 when full */
	unsigned listed;
	uint64_t sig;
};

/* conn_foreach callback: one "user" line per signed-in session, and the change signature. */
static void user_line(void *arg, const struct conn *c)
{
	struct user_walk *w = arg;
	const char *name = c->ops->user(c);
	int k;

	w->sig = w->sig * 1000003u + c->id * 2u + (name != NULL);
	if (!name || !w->buf || w->n < 0 || w->listed >= SERVE_STATUS_USERS)
		return;
	k = snprintf(w->buf + w->n, w->cap - (size_t)w->n, "user %s %s %s\n", name, proto_words[c->listen.proto & 1],
	             c->peer_str);
	if (k < 0 || (size_t)k >= w->cap - (size_t)w->n) {
		w->buf[w->n] = '\0';
		w->n = -1;
		return;
	}
	w->n += k;
	w->listed++;
}

/* Write the file from cur: temp file + rename. Errors only cost freshness. */
static void status_write(void)
{
	char tmp[sizeof status_path + 8], buf[STATUS_FILE_MAX];
	size_t i;
	int n, fd;

	if (!status_path[0])
		return;
	cur.updated = (int64_t)time(NULL);
	n = snprintf(buf, sizeof buf,
	             "pid %ld\nversion %s\nstarted %lld\nupdated %lld\nreloads %u\nreload_time %lld\n"
	             "reload_ok %d\nreload_msg %s\nsessions pop3 %u\nsessions imap %u\n",
	             cur.pid, cur.version, (long long)cur.started, (long long)cur.updated, cur.reloads,
	             (long long)cur.reload_time, cur.reload_ok, cur.reload_msg, cur.sessions[0], cur.sessions[1]);
	if (CONFIG_TLS && conn_env.creds && n > 0 && (size_t)n < sizeof buf) {
		char fp[96];
		tls_fingerprint_str(conn_env.creds->fingerprint, fp);
		memcpy(fp_written, conn_env.creds->fingerprint, sizeof fp_written);
		n += snprintf(buf + n, sizeof buf - (size_t)n, "fingerprint %s\n", fp);
	}
	for (i = 0; in_force && i < in_force->nlisten && n > 0 && (size_t)n < sizeof buf; i++) {
		const struct cfg_listen *l = &in_force->listen[i];
		n += snprintf(buf + n, sizeof buf - (size_t)n, "listen %s %s %s %u\n", proto_words[l->proto & 1],
		              mode_words[l->tls <= CFG_TLS_IMPLICIT ? l->tls : 0], l->addr, l->port);
	}
	if (n < 0 || (size_t)n >= sizeof buf)
		return;
	{
		struct user_walk w = { buf, sizeof buf, n, 0, 0 };
		conn_foreach(user_line, &w);
		users_sig = w.sig;
		if (w.n > 0)
			n = w.n;
	}
	snprintf(tmp, sizeof tmp, "%s.tmp", status_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return;
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		unlink(tmp);
		return;
	}
	close(fd);
	if (rename(tmp, status_path) < 0)
		unlink(tmp);
}

/* Timer: rewrite the file when the session counts changed. */
static void status_tick(struct loop_timer *t)
{
	unsigned pop3 = conn_count(CFG_PROTO_POP3), imap = conn_count(CFG_PROTO_IMAP);
	struct user_walk w = { NULL, 0, 0, 0, 0 };

	conn_foreach(user_line, &w);
	if (pop3 != cur.sessions[0] || imap != cur.sessions[1] || w.sig != users_sig ||
	    (CONFIG_TLS && conn_env.creds && memcmp(conn_env.creds->fingerprint, fp_written, sizeof fp_written))) {
		cur.sessions[0] = pop3;
		cur.sessions[1] = imap;
		status_write();
	}
	loop_timer_set(t, SERVE_STATUS_PERIOD_MS);
}

/* Record the daemon's start and begin the periodic check. */
void serve_status_start(const struct cfg *c)
{
	in_force = c;
	snprintf(status_path, sizeof status_path, "%s%s", c->datadir, STATUS_NAME);
	/* cur is static (zero); its reader-side users[] is never touched here, so costs no RAM. */
	cur.pid = (long)getpid();
	snprintf(cur.version, sizeof cur.version, "%s", POSTNOOK_VERSION);
	cur.started = (int64_t)time(NULL);
	cur.reload_ok = 1;
	snprintf(cur.reload_msg, sizeof cur.reload_msg, "started");
	status_write();
	status_timer.cb = status_tick;
	loop_timer_set(&status_timer, SERVE_STATUS_PERIOD_MS);
}

/* Record a reload's outcome; the message loses control characters. */
void serve_status_reload(const struct cfg *c, int ok, const char *msg)
{
	char *p;

	in_force = c;
	cur.reloads++;
	cur.reload_time = (int64_t)time(NULL);
	cur.reload_ok = ok;
	snprintf(cur.reload_msg, sizeof cur.reload_msg, "%s", msg ? msg : "");
	for (p = cur.reload_msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	status_write();
}

/* Remove the file at shutdown: a stale file would claim a running daemon. */
void serve_status_stop(void)
{
	loop_timer_cancel(&status_timer);
	if (status_path[0])
		unlink(status_path);
}

/* Parse "listen PROTO MODE ADDRESS PORT" into l. 0 or -EINVAL. */
static int status_parse_listen(char *v, struct cfg_listen *l)
{
	char *tok[4], *save = NULL;
	unsigned long long port;
	int i, j;

	for (i = 0; i < 4; i++) {
		tok[i] = strtok_r(i ? NULL : v, " ", &save);
		if (!tok[i])
			return -EINVAL;
	}
	memset(l, 0, sizeof *l);
	for (j = 0; j < 2 && strcmp(tok[0], proto_words[j]); j++)
		;
	if (j == 2)
		return -EINVAL;
	l->proto = (enum cfg_proto)j;
	for (j = 0; j < 3 && strcmp(tok[1], mode_words[j]); j++)
		;
	if (j == 3 || strlen(tok[2]) >= sizeof l->addr || cfg_parse_uint(tok[3], 1, 65535, &port) < 0)
		return -EINVAL;
	l->tls = (enum cfg_tls)j;
	memcpy(l->addr, tok[2], strlen(tok[2]) + 1);
	l->port = (uint16_t)port;
	return 0;
}

/* Parse "user NAME PROTO ADDRESS:PORT" into u. 0 or -EINVAL. */
static int status_parse_user(char *v, struct serve_status_user *u)
{
	char *tok[3], *save = NULL;
	int i;

	for (i = 0; i < 3; i++) {
		tok[i] = strtok_r(i ? NULL : v, " ", &save);
		if (!tok[i])
			return -EINVAL;
	}
	if (strlen(tok[0]) >= sizeof u->name || strlen(tok[2]) >= sizeof u->peer)
		return -EINVAL;
	if (!strcmp(tok[1], "pop3"))
		u->proto = CFG_PROTO_POP3;
	else if (!strcmp(tok[1], "imap"))
		u->proto = CFG_PROTO_IMAP;
	else
		return -EINVAL;
	memcpy(u->name, tok[0], strlen(tok[0]) + 1);
	memcpy(u->peer, tok[2], strlen(tok[2]) + 1);
	return 0;
}

/* Read DATADIR/status into out. 0, -ENOENT or -EINVAL. */
int serve_status_read(const char *datadir, struct serve_status *out)
{
	char path[CFG_PATH_MAX + 16], buf[STATUS_FILE_MAX + 1], *line, *save = NULL;
	unsigned long long n;
	ssize_t len;
	int fd;

	memset(out, 0, sizeof *out);
	snprintf(path, sizeof path, "%s%s", datadir, STATUS_NAME);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	len = read(fd, buf, STATUS_FILE_MAX);
	close(fd);
	if (len <= 0)
		return -EINVAL;
	buf[len] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *v = strchr(line, ' ');
		if (!v)
			continue;
		*v++ = '\0';
		if (!strcmp(line, "pid") && cfg_parse_uint(v, 1, 0x7fffffff, &n) == 0)
			out->pid = (long)n;
		else if (!strcmp(line, "version"))
			snprintf(out->version, sizeof out->version, "%s", v);
		else if (!strcmp(line, "started") && cfg_parse_uint(v, 0, INT64_MAX, &n) == 0)
			out->started = (int64_t)n;
		else if (!strcmp(line, "updated") && cfg_parse_uint(v, 0, INT64_MAX, &n) == 0)
			out->updated = (int64_t)n;
		else if (!strcmp(line, "reloads") && cfg_parse_uint(v, 0, UINT32_MAX, &n) == 0)
			out->reloads = (unsigned)n;
		else if (!strcmp(line, "reload_time") && cfg_parse_uint(v, 0, INT64_MAX, &n) == 0)
			out->reload_time = (int64_t)n;
		else if (!strcmp(line, "reload_ok"))
			out->reload_ok = !strcmp(v, "1");
		else if (!strcmp(line, "fingerprint") && strlen(v) == 95)
			snprintf(out->fingerprint, sizeof out->fingerprint, "%s", v);
		else if (!strcmp(line, "reload_msg"))
			snprintf(out->reload_msg, sizeof out->reload_msg, "%s", v);
		else if (!strcmp(line, "sessions") && !strncmp(v, "pop3 ", 5) && cfg_parse_uint(v + 5, 0, UINT32_MAX, &n) == 0)
			out->sessions[CFG_PROTO_POP3] = (unsigned)n;
		else if (!strcmp(line, "sessions") && !strncmp(v, "imap ", 5) && cfg_parse_uint(v + 5, 0, UINT32_MAX, &n) == 0)
			out->sessions[CFG_PROTO_IMAP] = (unsigned)n;
		else if (!strcmp(line, "listen") && out->nlisten < CFG_MAX_LISTEN &&
		         status_parse_listen(v, &out->listen[out->nlisten]) == 0)
			out->nlisten++;
		else if (!strcmp(line, "user") && out->nusers < SERVE_STATUS_USERS &&
		         status_parse_user(v, &out->users[out->nusers]) == 0)
			out->nusers++;
	}
	return out->pid > 0 ? 0 : -EINVAL;
}
