/*
 * notify — tiny datagrams on DATADIR/notify.sock telling the daemon that
 * the store changed ("M <user> <mbox>\n") or that it should reload ("R\n").
 * Senders never wait: the daemon may be down, busy or not installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sysconfig.h"
#include "log.h"
#include "notify.h"

#define NOTIFY_NAME "/notify.sock"
#define NOTIFY_MSG_MAX 32       /* "M 4294967295 4294967295\n" is 24 bytes */

/* Build the socket address for datadir; 0 or -ENAMETOOLONG / -EINVAL. */
static int notify_addr(const char *datadir, struct sockaddr_un *sa)
{
	size_t dlen;

	if (datadir == NULL || *datadir == '\0')
		return -EINVAL;
	dlen = strlen(datadir);
	if (dlen + sizeof(NOTIFY_NAME) > sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, datadir, dlen);
	memcpy(sa->sun_path + dlen, NOTIFY_NAME, sizeof(NOTIFY_NAME));
	return 0;
}

/* Bind the daemon's socket (mode 0660, non-blocking, close-on-exec). fd or -errno. */
int notify_listen(const char *datadir)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old;
	int fd, rc;

	rc = notify_addr(datadir, &sa);
	if (rc < 0)
		return rc;
	/* Remove a socket left by a daemon that died, but never a file of another kind. */
	if (lstat(sa.sun_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		if (unlink(sa.sun_path) < 0 && errno != ENOENT)
			return -errno;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The umask makes the socket 0660 from the moment it exists; chmod makes it exact. */
	old = umask(0117);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || chmod(sa.sun_path, 0660) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* Parse a canonical decimal u32 (no sign, no leading zero) at *s, advancing it. 0 or -1. */
static int notify_u32(const char **s, const char *end, uint32_t *out)
{
	const char *p = *s;
	uint64_t n = 0;

	if (p >= end || *p < '0' || *p > '9')
		return -1;
	if (*p == '0' && p + 1 < end && p[1] >= '0' && p[1] <= '9')
		return -1;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (uint64_t)(*p - '0');
		if (n > UINT32_MAX)
			return -1;
	}
	*out = (uint32_t)n;
	*s = p;
	return 0;
}

/* Read one datagram: 0 with *kind 'M' or 'R', -EAGAIN when none is queued, -EINVAL if malformed, else -errno. */
int notify_recv(int fd, char *kind, uint32_t *user, uint32_t *mbox)
{
	char buf[NOTIFY_MSG_MAX];
	const char *p, *end;
	ssize_t n;

	do
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	/* MSG_TRUNC reports the real length: an oversized datagram is malformed. */
	if (n == 0 || (size_t)n > sizeof(buf))
		return -EINVAL;
	end = buf + n;
	if (n == 2 && buf[0] == 'R' && buf[1] == '\n') {
		*kind = 'R';
		*user = 0;
		*mbox = 0;
		return 0;
	}
	if (n < 6 || buf[0] != 'M' || buf[1] != ' ')
		return -EINVAL;
	p = buf + 2;
	if (notify_u32(&p, end, user) < 0 || p >= end || *p++ != ' ')
		return -EINVAL;
	if (notify_u32(&p, end, mbox) < 0 || p >= end || *p++ != '\n' || p != end)
		return -EINVAL;
	*kind = 'M';
	return 0;
}

/* Send one datagram, best effort: a daemon that is down or busy is not an error. */
static void notify_send(const char *datadir, const char *msg, size_t len)
{
	struct sockaddr_un sa;
	int fd, rc;

	rc = notify_addr(datadir, &sa);
	if (rc < 0) {
		log_warn("notify: socket path in %s is too long", datadir != NULL ? datadir : "(none)");
		return;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("notify: socket: %s", strerror(errno));
		return;
	}
	if (sendto(fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
	    errno != ENOENT && errno != ECONNREFUSED && errno != EAGAIN && errno != EWOULDBLOCK)
		log_warn("notify: %s: %s", sa.sun_path, strerror(errno));
	close(fd);
}

/* Tell the daemon that mailbox mbox of user changed. */
void notify_send_mbox(const char *datadir, uint32_t user, uint32_t mbox)
{
	char msg[NOTIFY_MSG_MAX];
	int n = snprintf(msg, sizeof(msg), "M %lu %lu\n", (unsigned long)user, (unsigned long)mbox);

	if (n > 0 && (size_t)n < sizeof(msg))
		notify_send(datadir, msg, (size_t)n);
}

/* Ask the daemon to re-read its configuration. */
void notify_send_reload(const char *datadir)
{
	notify_send(datadir, "R\n", 2);
}
