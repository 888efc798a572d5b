/* cmd — what every face of the multi-call binary shares. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cmd.h"

/* The config path to use when -c was not given: $POSTNOOK_CONF, else the default. */
const char *cmd_default_conf(void)
{
	const char *env = getenv("POSTNOOK_CONF");

	return env && *env ? env : CMD_DEFAULT_CONF;
}

/* Is there a store in dir? 0, or -errno after "postnook FACE: no store in DIR" or why it cannot be reached (face NULL: silent). */
int cmd_store_check(const char *face, const char *dir)
{
	char path[4096];
	struct stat sb;
	int rc;

	if ((size_t)snprintf(path, sizeof path, "%s/data.mdb", dir) >= sizeof path)
		rc = -ENAMETOOLONG;
	else if (stat(path, &sb) == 0)
		return 0;
	else
		rc = -errno;
	if (!face)
		return rc;
	if (rc == -ENOENT || rc == -ENOTDIR)
		fprintf(stderr, "postnook %s: no store in %s\n", face, dir);
	else
		fprintf(stderr, "postnook %s: cannot open the store in %s: %s\n", face, dir, strerror(-rc));
	return rc;
}

/* Read one line from fd into buf (newline stripped). Length, or -1 (too long / error / EOF before any byte). */
static int cmd_read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	char c;

	for (;;) {
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return n > 0 ? (int)n : -1;
		if (c == '\n')
			break;
		if (n + 1 >= cap)
			return -1;
		buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return (int)n;
}

/* Prompt on the terminal without echo. Length or -1. */
static int cmd_prompt(const char *prompt, char *buf, size_t cap)
{
	struct termios old, quiet;
	int n, restored;

	fputs(prompt, stderr);
	fflush(stderr);
	if (tcgetattr(STDIN_FILENO, &old) < 0)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) < 0)
		return -1;
	n = cmd_read_line(STDIN_FILENO, buf, cap);
	restored = tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fputc('\n', stderr);
	return restored < 0 ? -1 : n;
}

/*
 * Get a new password into buf: stdin's first line, or on a terminal prompt
 * twice without echo. Length (0 for an empty line: the caller's policy), or
 * -1 with the reason printed and buf wiped.
 */
int cmd_password_read(const char *face, const char *prompt, char *buf, size_t cap)
{
	char again[CMD_PASS_MAX];
	int n;

	if (cap > sizeof again)
		cap = sizeof again;
	if (isatty(STDIN_FILENO)) {
		n = cmd_prompt(prompt, buf, cap);
		if (n > 0) {
			int m = cmd_prompt("Repeat password: ", again, sizeof again);
			if (m != n || memcmp(buf, again, (size_t)n) != 0) {
				memset(again, 0, sizeof again);
				memset(buf, 0, cap);
				fprintf(stderr, "postnook %s: passwords do not match\n", face);
				return -1;
			}
			memset(again, 0, sizeof again);
		}
	} else {
		n = cmd_read_line(STDIN_FILENO, buf, cap);
	}
	if (n < 0) {
		memset(buf, 0, cap);
		fprintf(stderr, "postnook %s: no password on stdin (or longer than %zu bytes)\n", face, cap - 1);
	}
	return n;
}
