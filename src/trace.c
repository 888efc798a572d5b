/* trace — the protocol trace file and who is traced (trace.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sysconfig.h"
#include "log.h"
#include "trace.h"

#if CONFIG_TRACE

static int trace_fd = -1;
static off_t trace_size;
static int trace_failed;        /* an error was logged: stay quiet until it works again */

/* The numeric address of peer ("192.168.1.23", "fe80::1"; a v4-mapped one as IPv4). */
static void trace_peer(const struct sockaddr_storage *peer, char *buf, size_t cap)
{
	buf[0] = '\0';
	if (peer->ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)peer)->sin_addr, buf, (socklen_t)cap);
	} else if (peer->ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)peer)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a))
			inet_ntop(AF_INET, a->s6_addr + 12, buf, (socklen_t)cap);
		else
			inet_ntop(AF_INET6, a, buf, (socklen_t)cap);
	}
}

int trace_wanted(const struct cfg *c, const struct sockaddr_storage *peer, const char *user)
{
	char addr[INET6_ADDRSTRLEN];
	const char *s = c->trace;

	if (!*s)
		return 0;
	trace_peer(peer, addr, sizeof addr);
	/* c->trace is canonical (cfg.c): items separated by ", ". */
	while (*s) {
		size_t n = strcspn(s, ",");
		if ((n == strlen(addr) && !memcmp(s, addr, n)) ||
		    (user && n == strlen(user) && !memcmp(s, user, n)))
			return 1;
		s += n;
		while (*s == ',' || *s == ' ')
			s++;
	}
	return 0;
}

/* Open DATADIR/trace.log for appending, moving a full one to trace.log.1. 0 or -errno. */
static int trace_open(const char *datadir, size_t need)
{
	char path[CFG_PATH_MAX + 16], old[CFG_PATH_MAX + 16];
	struct stat st;

	snprintf(path, sizeof path, "%s/" TRACE_FILE, datadir);
	if (trace_fd >= 0 && trace_size + (off_t)need <= TRACE_FILE_MAX)
		return 0;
	if (trace_fd >= 0) {
		snprintf(old, sizeof old, "%s/" TRACE_FILE ".1", datadir);
		trace_close();
		if (rename(path, old) < 0 && errno != ENOENT)
			return -errno;
	}
	trace_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (trace_fd < 0)
		return -errno;
	trace_size = fstat(trace_fd, &st) == 0 ? st.st_size : 0;
	if (trace_size + (off_t)need > TRACE_FILE_MAX && trace_size > 0)
		return trace_open(datadir, need);   /* an old full file: rotate it now */
	return 0;
}

void trace_write(const char *datadir, uint32_t id, const char *dir, const char *text, size_t len)
{
	char line[TRACE_TEXT_MAX + 128];
	struct timespec ts;
	struct tm tm;
	size_t n, i, show = len < TRACE_TEXT_MAX ? len : TRACE_TEXT_MAX;
	int rc;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof line - n, ".%03ld conn %u %s ", ts.tv_nsec / 1000000L, id, dir);
	for (i = 0; i < show; i++) {
		unsigned char ch = (unsigned char)text[i];
		line[n++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	if (show < len)
		n += (size_t)snprintf(line + n, sizeof line - n, " [... %zu bytes more]", len - show);
	line[n++] = '\n';
	rc = trace_open(datadir, n);
	if (rc == 0 && write(trace_fd, line, n) == (ssize_t)n) {
		trace_size += (off_t)n;
		trace_failed = 0;
		return;
	}
	if (!trace_failed)
		log_warn("protocol trace: cannot write %s/" TRACE_FILE ": %s", datadir,
		         strerror(rc < 0 ? -rc : errno ? errno : EIO));
	trace_failed = 1;
	trace_close();
}

void trace_close(void)
{
	if (trace_fd >= 0)
		close(trace_fd);
	trace_fd = -1;
}

#endif
