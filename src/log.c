/*
 * log — one line per event, to syslog (LOG_MAIL) or to stderr.
 *
 * Messages often carry client-supplied text (user names, commands), so
 * control characters are replaced before the line leaves the process:
 * nobody can forge a second log line or drive the admin's terminal.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "sysconfig.h"
#include "log.h"

#define LOG_LINE_MAX 1024

static char log_ident[32] = "postnook";
static int log_to_syslog;

static const char *const log_names[] = {
	[LOG_LVL_ERR] = "ERR",
	[LOG_LVL_WARN] = "WARN",
	[LOG_LVL_INFO] = "INFO",
	[LOG_LVL_DEBUG] = "DEBUG",
};

static const int log_prios[] = {
	[LOG_LVL_ERR] = LOG_ERR,
	[LOG_LVL_WARN] = LOG_WARNING,
	[LOG_LVL_INFO] = LOG_INFO,
	[LOG_LVL_DEBUG] = LOG_DEBUG,
};

/* Choose the target ("syslog", anything else means stderr) and the program name; may be called again on reload. */
void log_open(const char *ident, const char *target)
{
	if (log_to_syslog)
		closelog();
	if (ident != NULL && *ident != '\0')
		snprintf(log_ident, sizeof(log_ident), "%s", ident);
	log_to_syslog = target != NULL && strcmp(target, "syslog") == 0;
	/* openlog keeps the pointer: log_ident is static and outlives it. */
	if (log_to_syslog)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* Replace C0 controls and DEL with '?', in place. */
static void log_sanitize(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* Format and emit one line; errno is preserved so callers can log before using it. */
void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX], line[LOG_LINE_MAX + 96], stamp[32];
	int saved = errno;
	unsigned l = (unsigned)lvl;
	va_list ap;
	struct tm tm;
	time_t now;
	int n;

	if (l >= sizeof(log_names) / sizeof(log_names[0]))
		l = LOG_LVL_ERR;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		snprintf(msg, sizeof(msg), "(unformattable message)");
	log_sanitize(msg);

	if (log_to_syslog) {
		syslog(log_prios[l], "%s", msg);
	} else {
		now = time(NULL);
		if (localtime_r(&now, &tm) == NULL || strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm) == 0)
			snprintf(stamp, sizeof(stamp), "-");
		n = snprintf(line, sizeof(line), "%s %s[%ld]: %s %s\n", stamp, log_ident, (long)getpid(),
			     log_names[l], msg);
		if (n > 0) {
			size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
			if ((size_t)n >= sizeof(line))
				line[len - 1] = '\n';
			/* One write per line, so lines from deliver and the daemon do not interleave. */
			if (write(STDERR_FILENO, line, len) < 0) {
				/* nowhere left to report it */
			}
		}
	}
	errno = saved;
}
