/*
 * serve_status — the daemon's state in DATADIR/status, for the web page.
 *
 * The daemon writes the file (temp file + rename, so a reader never sees
 * half of it) at start, after every reload and when the number of sessions
 * changes (checked every SERVE_STATUS_PERIOD_MS). The CGI reads it with
 * serve_status_read(). Format, one "key value" per line:
 *   pid 1234 / version 0.1 / started UNIX / updated UNIX
 *   reloads N / reload_time UNIX / reload_ok 0|1 / reload_msg TEXT
 *   sessions pop3 N / sessions imap N / fingerprint AB:CD:... (the certificate in use)
 *   listen PROTO MODE ADDRESS PORT     (the listeners in force)
 *   user NAME PROTO ADDRESS:PORT       (signed-in sessions, at most SERVE_STATUS_USERS)
 */
#ifndef POSTNOOK_SERVE_STATUS_H
#define POSTNOOK_SERVE_STATUS_H

#include <stdint.h>

#include "cfg.h"

#define SERVE_STATUS_PERIOD_MS 2000
#define SERVE_STATUS_MSG_MAX 160
#define SERVE_STATUS_USERS 64

struct serve_status_user {
	char name[65];
	int proto;                      /* enum cfg_proto */
	char peer[64];                  /* "address:port" */
};

struct serve_status {
	long pid;
	char version[16];
	int64_t started, updated;
	unsigned reloads;               /* reloads attempted since start */
	int64_t reload_time;
	int reload_ok;
	char reload_msg[SERVE_STATUS_MSG_MAX];
	unsigned sessions[2];           /* by enum cfg_proto */
	char fingerprint[96];           /* SHA-256 of the certificate in use, "" without TLS */
	struct cfg_listen listen[CFG_MAX_LISTEN];
	unsigned nlisten;
	struct serve_status_user users[SERVE_STATUS_USERS];
	unsigned nusers;                /* listed; more may be signed in (see sessions) */
};

/* Daemon: note the start (pid, time), write the file and check the session counts periodically. */
void serve_status_start(const struct cfg *in_force);
/* Daemon: a reload finished (ok 1) or failed (ok 0, msg says why); rewrites the file. */
void serve_status_reload(const struct cfg *in_force, int ok, const char *msg);
/* Daemon: shutting down; removes the file. */
void serve_status_stop(void);
/* Reader: parse DATADIR/status (bounded). 0, -ENOENT when absent, -EINVAL if malformed. */
int serve_status_read(const char *datadir, struct serve_status *out);

#endif
