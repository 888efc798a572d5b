/*
 * pop3 — the POP3 server (RFC 1939, 2449 CAPA, 2595 STLS, 3206 response
 * codes, 5034 SASL PLAIN). The maildrop is the user's INBOX, snapshotted at
 * login; deletions are applied at QUIT in one group-committed transaction.
 */
#ifndef POSTNOOK_POP3_H
#define POSTNOOK_POP3_H

#include <stddef.h>
#include <stdint.h>

/* RFC 2449: command lines are at most 255 octets including CRLF. */
#define POP3_LINE_MAX 255
/* Arguments per command we accept (TOP has two). */
#define POP3_MAX_ARGS 2

enum pop3_state {
	POP3_AUTH,          /* AUTHORIZATION: before login */
	POP3_AUTH_SASL,     /* waiting for the SASL PLAIN response line */
	POP3_TRANS,         /* TRANSACTION */
	POP3_UPDATE,        /* QUIT received, deletes being committed */
};

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

struct pop3_sess {
	enum pop3_state state;
	char user[65];                /* name given by USER */
	uint32_t user_id;
	uint32_t mbox;                /* INBOX id */
	uint32_t uidvalidity;
	uint32_t nmsgs;               /* messages in the snapshot */
	uint32_t *uids;               /* snapshot: UIDs in order (heap, at login) */
	uint32_t *sizes;              /* their sizes */
	uint8_t *deleted;             /* bitmap, nmsgs bits */
	uint32_t ndeleted;
	uint64_t total, deleted_bytes;
	uint32_t nretr;
	unsigned failures;            /* failed logins on this connection */
	/* Body streaming (RETR/TOP). */
	uint32_t st_uid;              /* RETR/TOP: the message; LIST/UIDL: next index */
	uint64_t st_off, st_size;
	int st_kind;                  /* what is being streamed (pop3.c's ST_*) */
	long st_top;                  /* TOP: body lines still to send; -1 = all */
	uint32_t st_linelen;          /* bytes (CR excluded) in the current line so far */
	uint8_t st_bol;               /* at the beginning of a line */
	uint8_t st_inbody;            /* past the header/body separator */
	uint8_t st_cr;                /* last byte seen was CR */
};

struct conn;
extern const struct proto_ops pop3_ops;

/* Parse one command line in place (for the session and the fuzzer). 0 or -EINVAL. */
int pop3_parse(char *line, size_t len, struct pop3_parsed *out);

#endif
