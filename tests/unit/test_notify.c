/* test_notify — the notify socket (src/notify.c) and log lines (src/log.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sysconfig.h"
#include "log.h"
#include "notify.h"
#include "check.h"

static char dir[] = "/tmp/test_notify_XXXXXX";
static char sock[100];

/* Send raw bytes to the daemon socket, as a hostile local client might. */
static void send_raw(const void *buf, size_t len)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	CHECK(sendto(fd, buf, len, 0, (struct sockaddr *)&sa, sizeof(sa)) == (ssize_t)len);
	close(fd);
}

static int recv_one(int fd, char *kind, uint32_t *u, uint32_t *m)
{
	*kind = 0;
	*u = *m = 12345;
	return notify_recv(fd, kind, u, m);
}

static void test_notify(void)
{
	static const char *const bad[] = {
		"M 1 2", "M 01 2\n", "M 1 02\n", "M 4294967296 1\n", "M 1 4294967296\n", "M -1 2\n", "M +1 2\n",
		"M  1 2\n", "M 1  2\n", "M 1 2 \n", "M 1 2\n\n", "M 1\n", "M\n", "m 1 2\n", "R", "R\n\n", "R \n", "X\n",
		"\n", "M 1 2\r\n", "M 99999999999999999999 1\n",
	};
	char kind, big[100], longdir[200];
	uint32_t u, m;
	struct stat st;
	size_t i;
	int fd, fd2;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(sock, sizeof(sock), "%s/notify.sock", dir);

	/* sending with no daemon is silent and harmless */
	notify_send_mbox(dir, 1, 2);
	notify_send_reload(dir);

	fd = notify_listen(dir);
	CHECK(fd >= 0);
	CHECK(stat(sock, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0660);
	CHECK((fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
	CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);

	CHECK(recv_one(fd, &kind, &u, &m) == -EAGAIN);
	notify_send_mbox(dir, 7, 42);
	CHECK(recv_one(fd, &kind, &u, &m) == 0 && kind == 'M' && u == 7 && m == 42);
	notify_send_mbox(dir, 4294967295u, 0);
	CHECK(recv_one(fd, &kind, &u, &m) == 0 && kind == 'M' && u == 4294967295u && m == 0);
	notify_send_reload(dir);
	CHECK(recv_one(fd, &kind, &u, &m) == 0 && kind == 'R');
	CHECK(recv_one(fd, &kind, &u, &m) == -EAGAIN);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		send_raw(bad[i], strlen(bad[i]));
		if (recv_one(fd, &kind, &u, &m) != -EINVAL) {
			failed++;
			printf("FAIL: accepted \"%s\"\n", bad[i]);
		} else {
			passed++;
		}
	}
	send_raw("", 0);
	CHECK(recv_one(fd, &kind, &u, &m) == -EINVAL);
	memset(big, 'M', sizeof(big));
	send_raw(big, sizeof(big));
	CHECK(recv_one(fd, &kind, &u, &m) == -EINVAL);
	send_raw("M 3 4\n", 6);   /* a good one still works after the bad ones */
	CHECK(recv_one(fd, &kind, &u, &m) == 0 && kind == 'M' && u == 3 && m == 4);

	/* a second daemon start replaces the stale socket */
	fd2 = notify_listen(dir);
	CHECK(fd2 >= 0);
	notify_send_mbox(dir, 5, 6);
	CHECK(recv_one(fd2, &kind, &u, &m) == 0 && u == 5 && m == 6);
	close(fd2);
	close(fd);

	/* never unlink something that is not a socket */
	CHECK(unlink(sock) == 0);
	fd = open(sock, O_CREAT | O_WRONLY, 0600);
	close(fd);
	CHECK(notify_listen(dir) == -EEXIST);
	CHECK(unlink(sock) == 0);

	memset(longdir, 'a', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	CHECK(notify_listen(longdir) == -ENAMETOOLONG);
	notify_send_mbox(longdir, 1, 1);        /* logs a warning, nothing else */
	CHECK(notify_listen("") == -EINVAL);
	CHECK(rmdir(dir) == 0);
}

static void test_log(void)
{
	char path[] = "/tmp/test_log_XXXXXX", buf[4096], want[64], big[3000];
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	ssize_t n;
	char *nl;

	CHECK(fd >= 0 && saved >= 0);
	dup2(fd, STDERR_FILENO);
	log_open("tlog", "stderr");
	errno = EPIPE;
	log_info("user %s logged in", "evil\n2024-01-01 fake[1]: ERR x\x1b[2J\x7f");
	CHECK(errno == EPIPE);
	log_err("n=%d", 42);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_warn("%s", big);
	dup2(saved, STDERR_FILENO);
	close(saved);

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	unlink(path);
	CHECK(n > 0);
	if (n <= 0)
		return;
	buf[n] = '\0';
	snprintf(want, sizeof(want), " tlog[%ld]: INFO user evil?2024", (long)getpid());
	nl = strchr(buf, '\n');
	CHECK(nl != NULL && strstr(buf, want) != NULL && strstr(buf, want) < nl);
	CHECK(strstr(buf, "ERR x?[2J? logged in\n") != NULL);
	CHECK(buf[4] == '-' && buf[10] == ' ');      /* "YYYY-MM-DD HH:MM:SS " */
	CHECK(strstr(buf, "]: ERR n=42\n") != NULL);
	CHECK(strstr(buf, "]: WARN xxx") != NULL && buf[n - 1] == '\n');
	/* exactly three lines: nothing in a message can start a new one */
	CHECK(n > 0 && strchr(nl + 1, '\n') != NULL && strchr(strchr(nl + 1, '\n') + 1, '\n') == buf + n - 1);

	/* syslog target: must not crash; back to stderr afterwards */
	log_open("tlog", "syslog");
	log_msg(LOG_LVL_DEBUG, "test_notify: syslog line");
	log_open(NULL, "stderr");
}

int main(void)
{
	test_notify();
	test_log();
	return check_done();
}
