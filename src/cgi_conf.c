/*
 * cgi_conf — change the config file the way a careful admin would: edit
 * only the lines of the keys a page owns (comments and every other line
 * stay as they are), check the result with the daemon's own parser, write
 * it atomically (temp file, fsync, rename; the previous file kept as
 * FILE.bak), then ask the daemon to reload and wait for its report in
 * DATADIR/status.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sysconfig.h"
#include "cgi.h"
#include "notify.h"
#include "serve_status.h"

#if CONFIG_CGI

#define CONF_MAX 65536

/* Read the whole config file (at most CONF_MAX bytes) into buf. Length or -errno. */
static long conf_read(const char *path, char *buf, size_t cap)
{
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	while (len < cap) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;
			close(fd);
			return e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	return len >= cap ? -EFBIG : (long)len;
}

/* The key of a config line ("  listen = ..." -> "listen"), copied to key; 0 if none. */
static int conf_line_key(const char *line, size_t len, char *key, size_t cap)
{
	size_t i = 0, k = 0;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len || line[i] == '#')
		return 0;
	while (i < len && line[i] != '=' && line[i] != ' ' && line[i] != '\t' && k + 1 < cap)
		key[k++] = line[i++];
	key[k] = '\0';
	return k > 0;
}

/* Write text to path atomically, keeping the old file as path.bak. 0 or -errno. */
static int conf_write(const char *path, const char *text, size_t len)
{
	char tmp[CFG_PATH_MAX + 16], bak[CFG_PATH_MAX + 16], dir[CFG_PATH_MAX + 16], *slash;
	struct stat st;
	mode_t mode = 0640;
	int fd, dfd, have_old;
	size_t off = 0;

	if (strlen(path) >= CFG_PATH_MAX)
		return -ENAMETOOLONG;
	snprintf(tmp, sizeof tmp, "%s.new", path);
	snprintf(bak, sizeof bak, "%s.bak", path);
	have_old = stat(path, &st) == 0;
	if (have_old)
		mode = st.st_mode & 0777;
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	if (have_old && fchown(fd, st.st_uid, st.st_gid) < 0) {
		/* not root: the file stays ours, which the docs ask for */
	}
	fchmod(fd, mode);
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? -errno : -EIO;
			close(fd);
			unlink(tmp);
			return e;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		int e = -errno;
		unlink(tmp);
		return e;
	}
	if (have_old) {
		unlink(bak);
		if (link(path, bak) < 0) {
			/* a filesystem without hard links: go on without a backup */
		}
	}
	if (rename(tmp, path) < 0) {
		int e = -errno;
		unlink(tmp);
		return e;
	}
	snprintf(dir, sizeof dir, "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
		snprintf(dir, sizeof dir, ".");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* Edit, check and write the config (see cgi.h). */
int cgi_conf_update(struct cgi_req *r, const char *const *keys, size_t nkeys, const char *newlines,
                    char *err, size_t errlen)
{
	static char old[CONF_MAX], out[CONF_MAX + 4096];
	struct cgi_buf b;
	struct cfg check;
	long len = conf_read(r->conf_path, old, sizeof old);
	size_t pos = 0, i;
	int placed = 0, rc;

	if (len < 0) {
		snprintf(err, errlen, "cannot read %s: %s", r->conf_path, strerror((int)-len));
		return -1;
	}
	cgi_buf_init(&b, out, sizeof out);
	while (pos < (size_t)len) {
		const char *line = old + pos, *nl = memchr(line, '\n', (size_t)len - pos);
		size_t llen = nl ? (size_t)(nl - line) : (size_t)len - pos;
		char key[40];
		int drop = 0;

		pos += llen + (nl != NULL);
		if (conf_line_key(line, llen, key, sizeof key))
			for (i = 0; i < nkeys; i++)
				drop |= !strcmp(key, keys[i]);
		if (drop) {
			if (!placed)
				cgi_put(&b, newlines);
			placed = 1;
			continue;
		}
		cgi_putn(&b, line, llen);
		cgi_put(&b, "\n");
	}
	if (!placed)
		cgi_put(&b, newlines);
	if (b.full) {
		snprintf(err, errlen, "the configuration would be too large");
		return -1;
	}
	/* The daemon's own parser decides; nothing is written on error. */
	if (cfg_parse(&check, r->conf_path, out, b.len, err, errlen) < 0)
		return -1;
	if (strcmp(check.datadir, r->cfg.datadir)) {
		snprintf(err, errlen, "the data directory would change");
		return -1;
	}
	rc = conf_write(r->conf_path, out, b.len);
	if (rc < 0) {
		snprintf(err, errlen, "cannot write %s: %s", r->conf_path, strerror(-rc));
		return -1;
	}
	r->cfg = check;
	return 0;
}

/* pid from a pidfile, or 0. */
static long pid_from_file(const char *path)
{
	char buf[32];
	unsigned long long v;
	ssize_t n;
	int fd;

	if (!path[0] || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n ")] = '\0';
	return cfg_parse_uint(buf, 1, 0x7fffffff, &v) == 0 ? (long)v : 0;
}

/* A process with this pid exists (EPERM: it does, but runs as another user). */
static int pid_alive(long pid)
{
	return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

long cgi_daemon_pid(const struct cgi_req *r)
{
	struct serve_status s;
	long pid;

	if (serve_status_read(r->cfg.datadir, &s) == 0 && pid_alive(s.pid))
		return s.pid;
	pid = pid_from_file(r->cfg.pidfile);
	return pid_alive(pid) ? pid : 0;
}

/* Ask for a reload (SIGHUP when we may signal it, else the notify socket) and wait for the report. */
void cgi_conf_reload(struct cgi_req *r, struct cgi_reload *out)
{
	struct serve_status before, now;
	long pid = cgi_daemon_pid(r);
	int have_before, i;

	memset(out, 0, sizeof *out);
	if (!pid) {
		snprintf(out->msg, sizeof out->msg, "the mail server is not running; the settings apply when it starts");
		return;
	}
	out->running = 1;
	have_before = serve_status_read(r->cfg.datadir, &before) == 0;
	if (kill((pid_t)pid, SIGHUP) < 0)
		notify_send_reload(r->cfg.datadir);
	out->tried = 1;
	if (!have_before) {
		snprintf(out->msg, sizeof out->msg, "the mail server was asked to reload (it does not report its state)");
		return;
	}
	/* Up to 3 s (60 x 50 ms): a reload takes a few milliseconds. */
	for (i = 0; i < 60; i++) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		if (serve_status_read(r->cfg.datadir, &now) == 0 &&
		    (now.reloads != before.reloads || now.pid != before.pid)) {
			out->answered = 1;
			out->ok = now.reload_ok;
			snprintf(out->msg, sizeof out->msg, "%s", now.reload_msg);
			return;
		}
		nanosleep(&ts, NULL);
	}
	snprintf(out->msg, sizeof out->msg, "the mail server did not confirm the reload within 3 seconds");
}

/* One notice for "saved" + the reload outcome. */
void cgi_reload_notice(struct cgi_req *r, const char *what, const struct cgi_reload *rl)
{
	char msg[400];

	if (rl->answered && rl->ok)
		snprintf(msg, sizeof msg, "%s saved. The mail server reloaded and uses them now.", what);
	else if (rl->answered)
		snprintf(msg, sizeof msg, "%s saved, but the mail server reported a problem: %s.%s", what, rl->msg,
		         strstr(rl->msg, "listeners") ? " Another program may use that port; a port below 1024 needs a "
		                                        "restart of the server when it runs as its own user." : "");
	else
		snprintf(msg, sizeof msg, "%s saved; %s.", what, rl->msg);
	cgi_notice(r, rl->answered && !rl->ok ? "err" : rl->answered || !rl->running ? "ok" : "info", msg);
}

#endif
