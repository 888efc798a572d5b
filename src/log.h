/*
 * log — one line per event to syslog or stderr.
 * Never pass a password or a SASL response to these functions.
 */
#ifndef POSTNOOK_LOG_H
#define POSTNOOK_LOG_H

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* target: "stderr" or "syslog"; ident is the program name. */
void log_open(const char *ident, const char *target);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)

#endif
