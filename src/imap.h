/*
 * imap — the IMAP4rev1 server (RFC 3501) with IDLE, UIDPLUS, MOVE,
 * NAMESPACE, ID, ENABLE, UNSELECT, LITERAL+, CHILDREN, SPECIAL-USE,
 * SASL-IR, QUOTA and APPENDLIMIT.
 *
 * A command is assembled in the connection's input buffer, small literals
 * included (the connection keeps the line and waits for the literal and
 * the rest); APPEND streams its message literal to a temporary file in the
 * data directory instead. Replies are produced by the stream callback:
 * the command's own output (FETCH, SEARCH, LIST ...), then the untagged
 * updates the command may carry, then the tagged completion.
 *
 * Sessions that select the same mailbox share one view of it (imap_view.c):
 * its UIDs in order, expunged UIDs that some session has not been told of,
 * and a ring of recent flag changes. A session keeps only a few counters
 * into that view, so a selected mailbox costs it nothing per message.
 */
#ifndef POSTNOOK_IMAP_H
#define POSTNOOK_IMAP_H

#include <stddef.h>
#include <stdint.h>

#include "sysconfig.h"

/* --- limits (each answered with BAD or NO, never a crash) ---------------- */

/* Tag bytes; a longer tag is answered "* BAD". */
#define IMAP_TAG_MAX 64
/* A whole command (lines and the literals inside) is at most the input
 * buffer, CONFIG_LINE_MAX bytes; a literal that would not fit is refused. */
#define IMAP_CMD_MAX CONFIG_LINE_MAX
/* Largest non-synchronizing literal (LITERAL- rule, RFC 7888): bigger {n+} is BAD. */
#define IMAP_LITERAL_PLUS_MAX 4096
/* Literals in one command (APPEND's message literal is not counted). */
#define IMAP_LITERALS_MAX 16
/* Nesting of parenthesised lists (FETCH items, SEARCH keys, flag lists). */
#define IMAP_NEST_MAX 8
/* Distinct ranges of a sequence set once it is normalised (merged and
 * de-duplicated before it is acted on); more: NO [LIMIT]. A set that fits
 * a command line has at most about 1,700 distinct ranges; the buffer
 * that merges them is one for the daemon, 16 bytes a range. */
#define IMAP_SET_RANGES_MAX 1024
/* SEARCH keys in one command, OR/NOT included. */
#define IMAP_SEARCH_KEYS_MAX 64
/* BODY[...] sections in one FETCH. */
#define IMAP_FETCH_SECT_MAX 16
/* Keywords per mailbox (they live in the message flags' upper bits: the
 * store's STORE_KW_MAX); an APPEND naming more is answered NO [LIMIT]. */
#define IMAP_KEYWORDS_MAX 24
/* Bytes of a keyword name (the store's STORE_KW_LEN); a longer one is BAD. */
#define IMAP_KEYWORD_LEN 64
/* Bytes of a mailbox name (the store's STORE_MBOX_NAME_MAX); longer: NO [CANNOT]. */
#define IMAP_MBOX_NAME_MAX 255
/* Flag changes remembered per shared view for other sessions; a session
 * that falls further behind is sent the flags of all its messages. */
#define IMAP_FLAG_RING 256
/* A write that found the store busy (STORE_EBUSY, e.g. its readers table
 * full) is run again this often, a moment apart, before NO [UNAVAILABLE].
 * (A full map is grown by the group commit itself.) */
#define IMAP_COMMIT_RETRIES 16
/* Views of mailboxes no session has selected any more, kept so that the
 * next SELECT need not read the mailbox again (8 bytes per message each). */
#define IMAP_VIEW_KEEP 4
/* UID ranges a session keeps \Recent: another read-write session told of
 * new mail in between splits them; past this many the oldest range stops
 * being \Recent in the session (8 bytes each per session). */
#define IMAP_RECENT_RANGES 4
/* Failed logins before the connection is closed: LOGIN_MAX_FAILURES (login.h).
 * The autologout and how often views with IDLE sessions look at the store
 * for outside changes are runtime settings: the config keys imap_timeout
 * and imap_idle_poll (cfg.h). */
/* IDLE keepalive interval (NAT boxes drop silent connections). */
#define IMAP_IDLE_KEEPALIVE_S 110
/* \Recent marks claimed by sessions are written at most this late (one
 * transaction for all mailboxes); a crash before loses only the claim, so
 * the messages are \Recent once more, which RFC 3501 allows. */
#define IMAP_RECENT_FLUSH_MS 2000

/* A string from the command (in the input buffer; not NUL-terminated). */
struct imap_str {
	const char *s;
	size_t len;
	int q;                  /* a quoted string: escapes still in (imap_str_copy removes them) */
};

/* Parser cursor over an assembled command. */
struct imap_p {
	const char *p, *end;
	int err;                /* sticky: 0, or -EINVAL (BAD) or -EPERM (NO, imap_p_no) with msg set */
	const char *msg;        /* what was wrong, for the BAD or NO reply */
	int depth;
};

struct proto_ops;
/* The protocol, for the daemon's table (serve.c); its hooks are the only
 * way other modules reach IMAP sessions. */
extern const struct proto_ops imap_ops;

/* --- imap_parse.c: the command parser (bounded, in place) --------------- */

void imap_p_init(struct imap_p *p, const char *s, size_t len);
/* Fail with a message (the first failure sticks). Returns -EINVAL. */
int imap_p_fail(struct imap_p *p, const char *msg);
/* Refuse well-formed arguments the server cannot take (a name too long, a
 * charset it lacks): the reply is NO with msg ("[CODE] text"). Sticky like
 * a failure. Returns -EPERM. */
int imap_p_no(struct imap_p *p, const char *msg);
int imap_p_sp(struct imap_p *p);
/* At the end of the command? (only when no error) */
int imap_p_eol(struct imap_p *p);
int imap_p_peek(const struct imap_p *p);
/* An atom (ATOM-CHAR+). */
int imap_p_atom(struct imap_p *p, struct imap_str *out);
/* A tag (ASTRING-CHAR except '+'). */
int imap_p_tag(struct imap_p *p, struct imap_str *out);
/* A quoted string or a literal; *quoted tells which (quoted strings are
 * returned with their escapes: use imap_str_copy). */
int imap_p_string(struct imap_p *p, struct imap_str *out);
/* astring: atom chars plus ']' or a string. */
int imap_p_astring(struct imap_p *p, struct imap_str *out);
/* nstring: NIL (out->s = NULL) or a string. */
int imap_p_nstring(struct imap_p *p, struct imap_str *out);
/* A list-mailbox: list-chars (with % and *) or a string. */
int imap_p_listmbox(struct imap_p *p, struct imap_str *out);
/* A number (u32 range, or u63 when big). */
int imap_p_number(struct imap_p *p, uint32_t *out);
int imap_p_number64(struct imap_p *p, uint64_t *out);
/* Open/close a parenthesised list (depth bounded by IMAP_NEST_MAX). */
int imap_p_open(struct imap_p *p);
int imap_p_close(struct imap_p *p);
/* Does the next char match c (case-sensitive)? Consumes it if so. */
int imap_p_accept(struct imap_p *p, char c);
/* A sequence set: checked syntax, normalised in place (ranges in order,
 * merged, each number once; the rest of the command moves up behind the
 * shorter text, p->end with it); out covers its text. More than
 * IMAP_SET_RANGES_MAX ranges once merged: -EPERM, NO [LIMIT]. */
int imap_p_seqset(struct imap_p *p, struct imap_str *out);
/* A flag: \Word or a keyword atom. */
int imap_p_flag(struct imap_p *p, struct imap_str *out);
/*
 * A flag list "(...)" (or, when paren_required is 0, flags separated by
 * spaces). The system flags go into *sys as the store's bits (\Seen 1,
 * \Answered 2, \Flagged 4, \Deleted 8, \Draft 16; \Recent is accepted and
 * ignored). The keywords go into kw[] (up to kw_max; kw may be NULL), each
 * once (compared case-insensitively), and *nkw counts them: past kw_max,
 * or without kw, every further keyword counts. An unknown system flag or a
 * keyword longer than IMAP_KEYWORD_LEN fails. 0 or -EINVAL.
 */
int imap_p_flags(struct imap_p *p, int paren_required, uint32_t *sys, struct imap_str *kw, unsigned kw_max,
                 unsigned *nkw);
/* A mailbox argument (SP astring) copied into buf (IMAP_MBOX_NAME_MAX + 1
 * bytes), INBOX case-folded. 0, -EINVAL (BAD) or -EPERM (NO: too long). */
int imap_p_mbox(struct imap_p *p, char *buf);
/* Copy a parsed string (unescaping a quoted one) into buf with a NUL. 0 or -ENOSPC. */
int imap_str_copy(const struct imap_str *s, char *buf, size_t cap);
/* Case-insensitive compare with a C string. */
int imap_str_is(const struct imap_str *s, const char *word);
/*
 * Walk a checked sequence set (text set..end): the next range at *pos,
 * with '*' as star; lo <= hi on return. 1 with a range, 0 at the end.
 * *lo and *hi hold the range returned before (0 and 0 before the first):
 * a range reaching below it is cut above it, or skipped when it lies
 * inside, so a set normalised by imap_p_seqset yields no number twice,
 * even when '*' turns out to be inside an earlier range ("1:5,*"); when
 * '*' falls in a gap between earlier ranges ("1:3,7:9,20:*" with 5 the
 * highest), that range yields star alone (nothing exists above star).
 */
int imap_set_next(const char *set, const char **pos, const char *end, uint32_t star, uint32_t *lo, uint32_t *hi);
/* Does the set contain n? */
int imap_set_has(const char *set, const char *end, uint32_t star, uint32_t n);
/*
 * If a command line ends with a literal announcement {n} or {n+}, set *n and
 * *plus and return 1; 0 if it does not; -EINVAL if the braces are bad.
 */
int imap_literal_tail(const char *line, size_t len, uint64_t *n, int *plus);
/* Is s a valid mailbox name (modified UTF-7, no empty levels, length)? 0 or -EINVAL. */
int imap_mbox_name_check(const char *name);

#endif
