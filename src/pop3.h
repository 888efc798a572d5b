/*
 * pop3 — the POP3 server (RFC 1939, 2449 CAPA, 2595 STLS, 3206 response
 * codes, 5034 SASL PLAIN). The maildrop is the user's INBOX, snapshotted at
 * login; deletions are applied at QUIT in one group-committed transaction.
 * Built when CONFIG_POP3 is on; the parser below is what the fuzzer drives.
 */
#ifndef POSTNOOK_POP3_H
#define POSTNOOK_POP3_H

#include <stddef.h>
#include <stdint.h>

/* RFC 2449: command lines are at most 255 octets including CRLF. */
#define POP3_LINE_MAX 255
/* Arguments per command we accept (TOP has two). */
#define POP3_MAX_ARGS 2

enum pop3_cmd {
	POP3_C_UNKNOWN, POP3_C_CAPA, POP3_C_USER, POP3_C_PASS, POP3_C_AUTH, POP3_C_STLS,
	POP3_C_STAT, POP3_C_LIST, POP3_C_RETR, POP3_C_DELE, POP3_C_NOOP, POP3_C_RSET,
	POP3_C_QUIT, POP3_C_TOP, POP3_C_UIDL, POP3_C_APOP,
};

/* A parsed command line: name and up to POP3_MAX_ARGS arguments, in place. */
struct pop3_parsed {
	enum pop3_cmd cmd;
	size_t nargs;
	char *args[POP3_MAX_ARGS];
	char *rest;          /* the unsplit text after the command name ("" if none) */
};

struct proto_ops;
/* The protocol, for the daemon's table (serve.c). */
extern const struct proto_ops pop3_ops;

/* Parse one command line in place (for the session and the fuzzer). 0 or -EINVAL. */
int pop3_parse(char *line, size_t len, struct pop3_parsed *out);

#endif
