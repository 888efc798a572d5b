/*
 * trace — the protocol trace: what chosen clients and the server said to
 * each other, line by line, for a router owner whose phone misbehaves.
 *
 * The config key `trace` names users and numeric client addresses
 * (cfg.h). A connection from a named address is traced from its connect,
 * one of a named user from its login (conn.h: conn_trace_*). Lines go to
 * DATADIR/trace.log, which is renamed to trace.log.1 when the next line
 * would take it past TRACE_FILE_MAX (so at most twice that is kept):
 *   2026-12-03 15:40:01.123 conn 17 C: a LOGIN alice ***
 * Each line's text is cut at TRACE_TEXT_MAX bytes (the rest is counted),
 * control bytes become '?'. The protocols mask secrets before they call
 * (passwords, SASL data); message data is summarised by its size.
 * Built when CONFIG_TRACE=y. No allocation; one open file descriptor while
 * something is traced.
 */
#ifndef POSTNOOK_TRACE_H
#define POSTNOOK_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cfg.h"

#define TRACE_FILE_MAX (256 * 1024)    /* bytes of trace.log before it is rotated */
#define TRACE_TEXT_MAX 200             /* bytes of one traced line shown */
#define TRACE_FILE "trace.log"

/* Is a client at peer (and, signed in, user; NULL before login) to be traced under c? */
int trace_wanted(const struct cfg *c, const struct sockaddr_storage *peer, const char *user);
/*
 * Append one line "TIME conn ID DIR text" to DATADIR/trace.log (dir "C:",
 * "S:" or "*" for events), rotating the file at TRACE_FILE_MAX. Errors are
 * logged once and the line is dropped: the trace never disturbs a session.
 */
void trace_write(const char *datadir, uint32_t id, const char *dir, const char *text, size_t len);
/* Close the file (a reload reopens it: it may have been removed). */
void trace_close(void);

#endif
