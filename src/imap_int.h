/* imap_int — what the imap_*.c files share (not for other modules).
 *
 * Who calls whom: imap.c (the dispatcher: proto_ops, command assembly, the
 * command table, the session commands) calls the handlers; the handlers
 * (imap_mbox.c, imap_fetch.c, imap_search.c, imap_write.c, imap_append.c)
 * call the reply module (imap_reply.c), the views (imap_view.c) and the
 * parser (imap_parse.c). imap_write.c, which runs every queued write in the
 * group commit, finishes FETCH and STORE with FETCH responses (imap_fetch.c)
 * and APPEND in imap_append.c. The reply module runs the updates phase,
 * which the views produce; the views start it and format flags with it.
 */
#ifndef POSTNOOK_IMAP_INT_H
#define POSTNOOK_IMAP_INT_H

#include "conn.h"
#include "imap.h"
#include "store_batch.h"
#include "store_mbox.h"

/* --- the session (conn_sess of an IMAP connection) --------------------- */

enum imap_state {
	IMAP_NOTAUTH,
	IMAP_AUTH,
	IMAP_SELECTED,
	IMAP_LOGOUT,
};

/* What the session is doing between commands. */
enum imap_sub {
	IMAP_SUB_NONE,
	IMAP_SUB_SASL,          /* AUTHENTICATE: waiting for the response line */
	IMAP_SUB_IDLE,          /* IDLE: waiting for DONE */
	IMAP_SUB_APPEND,        /* APPEND: message literal arriving (raw mode) */
	IMAP_SUB_APPEND_EOL,    /* APPEND: literal in, waiting for the end of the line */
	IMAP_SUB_DISCARD,       /* a refused literal arriving: drop it */
	IMAP_SUB_TOOLONG,       /* a command over IMAP_CMD_MAX: drop up to its end, then answer */
};

/* A session's window into a shared view (see imap_view.c). */
struct imap_sv {
	struct imap_view *v;
	struct conn *next;          /* next session on the same view */
	uint32_t uid_limit;         /* messages with uid < this have been announced */
	uint32_t seen_gen;          /* expunges up to this generation have been announced */
	uint32_t exists;            /* messages in this session's view */
	uint32_t ring_seen;         /* flag changes before this ring position are known */
	uint32_t recent[IMAP_RECENT_RANGES][2];  /* UIDs [lo, hi) \Recent in this session, oldest first */
	uint32_t nrecent;                        /* ranges in recent[] */
	uint32_t c_layout, c_seq, c_idx;  /* cached seq <-> index pair */
	uint32_t kw_told;           /* keywords of the mailbox's list announced (FLAGS) */
	uint8_t kw_perm;            /* FLAGS sent, its PERMANENTFLAGS not yet (imap_kw_announce) */
};

/* The literals of the command being assembled in the input buffer (imap.c). */
struct imap_lit {
	size_t prev;                /* bytes of the command before the newest literal */
	uint64_t n;                 /* the newest literal's size: one read into the command, or the
	                             * message literal handed to a CF_LITERAL command (APPEND) */
	uint8_t plus;               /* the newest was announced {n+} (LITERAL+: no "+" wanted) */
	uint8_t count;              /* literals in the command so far (IMAP_LITERALS_MAX) */
};

/* The phases of a command's output (imap_job.kind). */
enum {
	JOB_NONE,
	JOB_BODY,       /* the command's own responses: imap_job.body (FETCH, SEARCH, LIST) */
	JOB_UPDATES,    /* untagged updates before the tagged reply (imap_view.c) */
	JOB_TAGGED,     /* the tagged reply in s->done */
};

/*
 * The command's output in progress, run by imap_reply.c: the body stream
 * (if any), then the untagged updates, then the tagged completion.
 *
 * Lifetime: a FETCH, SEARCH or LIST job points into the command line that
 * the command kept in the input buffer (conn_keep_line): set, pos, args.
 * The connection keeps that line only until the command's stream (or
 * hold) ends, so a job lives no longer than its command's output; the
 * dispatcher clears it for the next command.
 */
struct imap_job {
	uint8_t kind;               /* JOB_*: the phase being produced */
	uint8_t phase;              /* JOB_UPDATES: imap_view.c's UPD_* */
	uint8_t uid;                /* a UID command (sets are UIDs; updates limited); read by its write too */
	uint8_t item;               /* FETCH: item index within the current message */
	uint8_t open;               /* FETCH: "* n FETCH (" sent for the message; SEARCH: "* SEARCH" sent */
	uint8_t flags;              /* FETCH: J_PREFIX (imap_fetch.c); LIST: 1 for LSUB */
	int (*body)(struct conn *c);  /* JOB_BODY: 1 done, 0 more to come, <0 close */
	const char *set, *set_end;  /* FETCH: the sequence set */
	const char *pos;            /* FETCH: next range in the set */
	const char *args, *args_end;/* FETCH items (or a macro's static text), SEARCH keys, LIST pattern */
	uint32_t lo, hi, cur;       /* FETCH: current range, next number in it; SEARCH: next UID; LIST: names done */
	uint64_t off, total;        /* FETCH: bytes of the current literal sent / its size */
	uint32_t u_cursor, u_gen, u_count;  /* updates: position, target generation, count */
	uint32_t m_uid, m_seq;      /* FETCH: the message being sent */
	uint8_t done_range;         /* FETCH: the current range is finished */
	uint8_t missed;             /* FETCH: messages were skipped (expunged meanwhile) */
	uint8_t seen;               /* FETCH after its implicit \Seen: report the flags it changed */
	uint8_t lead;               /* FETCH: an item went out before the list's first */
	uint8_t store;              /* FETCH: the responses of a STORE (its reply stays OK) */
	uint8_t recent_gone;        /* updates: \Recent messages were expunged (send RECENT) */
};

/* Bytes of a flag list's text: the system flags, \Recent or \*, and
 * every keyword of a full list (FLAGS, PERMANENTFLAGS, FETCH FLAGS). */
#define IMAP_FLAGS_BUF (64 + STORE_KW_MAX * (STORE_KW_LEN + 1))

/* Bytes of COPYUID's source set text; a longer one: no COPYUID (RFC 4315 allows). */
#define IMAP_COPYUID_MAX 200

/* Pending group-commit writes (imap_sess.wr): which member of imap_sess.w is set. */
enum { WR_NONE, WR_SEEN, WR_STORE, WR_EXPUNGE, WR_CLOSE, WR_COPY, WR_MOVE, WR_APPEND };

/*
 * The arguments of a write waiting for the group commit, one struct per
 * kind, set by the command and read by imap_write.c's commit. Pointers are
 * into the command line, which the command keeps (conn_keep_line) until
 * its reply is out. The commit may run more than once per batch: it
 * rewrites the members marked "out" whole each time.
 */
/* STORE, and FETCH's implicit \Seen (WR_STORE, WR_SEEN; the FETCH job waits in s->job). */
struct imap_wr_flags {
	const char *set, *set_end;  /* the sequence set */
	const char *kw, *kw_end;    /* STORE: the flag text, whose keyword names the commit reads */
	uint32_t flags;             /* system flags to set, add or remove */
	unsigned nkw;               /* keywords in the flag text */
	uint8_t mode;               /* STORE_FLAGS_SET, _ADD, _DEL */
	uint8_t silent;             /* FLAGS.SILENT: no FETCH responses */
};
/* COPY, MOVE (WR_COPY, WR_MOVE). */
struct imap_wr_copy {
	const char *set, *set_end;  /* the sequence set */
	uint32_t mbox, uidvalidity; /* the target mailbox */
	/* out, for COPYUID: the new UIDs (a part's copies are numbered in a
	 * row) and the source UIDs as set text, "" for no COPYUID (none
	 * copied, or the text would not fit) */
	uint32_t dst_lo, dst_hi;
	char src[IMAP_COPYUID_MAX];
};
/* EXPUNGE, UID EXPUNGE, CLOSE (WR_EXPUNGE, WR_CLOSE). */
struct imap_wr_expunge {
	const char *set, *set_end;  /* UID EXPUNGE: only these UIDs; NULL: every \Deleted message */
};
/* APPEND (WR_APPEND): set when its line is taken, before the message
 * streams (the line is gone by the commit). The keyword names wait in the
 * spool file behind the message (imap_append.c), not in the session. */
struct imap_wr_append {
	uint32_t mbox, uidvalidity; /* the target mailbox */
	uint32_t flags;             /* system flags */
	uint32_t nkw;               /* keyword names in the spool file */
	int64_t date;               /* INTERNALDATE */
	uint32_t uid;               /* out: the new message's UID (APPENDUID) */
};

/* APPEND's message literal arriving (imap_append.c). */
struct imap_spool {
	int fd;                     /* unlinked temporary file in the data dir, or -1 (refused: dropped) */
	uint64_t size, got;         /* literal bytes announced / arrived */
};

struct imap_sess {
	/* --- the session */
	enum imap_state state;
	uint8_t sub;                /* enum imap_sub: what the next input is */
	uint8_t readonly;           /* the selected mailbox was opened with EXAMINE */
	uint8_t idle_done;          /* IDLE ended by DONE: its tagged reply is due */
	uint8_t toolong;            /* dropping an over-long command (and the literals it announces) */
	unsigned failures;          /* failed logins (LOGIN_MAX_FAILURES) */
	uint32_t user_id;           /* 0 before login */
	char user[65];              /* the signed-in user's name */
	struct imap_sv sv;          /* the selected mailbox's view (sv.v NULL: none) */
	uint64_t own_lo, own_hi;    /* modseqs of this session's own flag changes (not echoed) */
	/* --- the command in progress */
	char tag[IMAP_TAG_MAX + 1];
	uint8_t no_expunge;         /* its updates may not include EXPUNGE (RFC 3501 7.4.1) */
	struct imap_lit lit;        /* its literals, while it is assembled */
	struct imap_job job;        /* its streamed output */
	char done[512];             /* its tagged completion, sent after the output and the updates */
	/* --- its write, waiting for the group commit (imap_write.c) */
	uint8_t wr;                 /* WR_*: which member of w is set */
	unsigned wr_retries;        /* commits retried after STORE_EBUSY */
	union {
		struct imap_wr_flags flags;
		struct imap_wr_copy copy;
		struct imap_wr_expunge expunge;
		struct imap_wr_append append;
	} w;
	struct imap_spool spool;    /* APPEND's message literal */
};

/* The IMAP session of connection c. */
static inline struct imap_sess *imap_of(const struct conn *c)
{
	return conn_sess(c);
}

/* The autologout (config imap_timeout) in ms. */
static inline int64_t imap_timeout_ms(void)
{
	return (int64_t)conn_env.cfg->imap_timeout * 1000;
}

/* The APPENDLIMIT in bytes (the store's message limit). */
static inline uint64_t imap_appendlimit(void)
{
	return SYS_MESSAGE_MAX;
}

/* --- imap_reply.c: the replies ------------------------------------------ */

/* Set the tagged completion ("OK ...", "NO ...", "BAD ...") and start the
 * update + tagged phases (unless a body job was started first: then they
 * follow it). */
void imap_done(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Tagged BAD from a parser error. */
void imap_bad(struct conn *c, const struct imap_p *p);
/* The tagged reply to a failed check half: NO when it refused (imap_p_no),
 * else BAD, with the parser's message. */
void imap_reject(struct conn *c, const struct imap_p *p);
/* Reply for a store error ("NO [...] text"). */
void imap_store_no(struct conn *c, int err, const char *what);
/* Start the command's output: body (FETCH, SEARCH, LIST responses; NULL
 * for none), then the updates, then the tagged reply in s->done. */
void imap_job_start(struct conn *c, int (*body)(struct conn *c));
/* proto_ops.stream: produce the phases of the job. 1 done, 0 more, <0 close. */
int imap_stream(struct conn *c);
/* Format the flags word as "\\Seen \\Answered kw ..." into buf. */
size_t imap_flags_fmt(struct conn *c, uint32_t flags, char *buf, size_t cap, int recent);
/* The flags of mailbox mbox for FLAGS (perm 0) and PERMANENTFLAGS (perm 1,
 * with \\* while the keyword list has room) into buf; *nk (may be NULL)
 * gets the keywords in the list. */
void imap_flag_list(uint32_t mbox, char *buf, size_t cap, int perm, unsigned *nk);
/* Keywords new to c's mailbox since it was told: "* FLAGS" and "* OK
 * [PERMANENTFLAGS]" (RFC 3501 7.2.6), before any FETCH carries them.
 * 1 done (or nothing new), 0 no room yet. */
int imap_kw_announce(struct conn *c);

/* --- check halves: parse and validate a command's arguments (after its
 * name) with no side effects, no store and no session, so that they can be
 * fuzzed alone. 0, or the parser's error (-EINVAL: BAD, -EPERM: NO) with
 * its message, for imap_reject. The handlers (imap_cmd_*) are the proceed
 * halves: a check, then what the session and the store say. ------------ */

/* STORE set [+|-]FLAGS[.SILENT] flags */
struct imap_store_args {
	struct imap_str set;
	const char *fl, *fl_end;    /* the flag text (the keyword names are read from it in the commit) */
	uint32_t flags;             /* system flags */
	unsigned nkw;               /* keywords named */
	uint8_t mode;               /* STORE_FLAGS_SET, _ADD, _DEL */
	uint8_t silent;             /* FLAGS.SILENT */
};
int imap_check_store(struct imap_p *p, struct imap_store_args *a);

/* COPY set mailbox, MOVE set mailbox */
struct imap_copy_args {
	struct imap_str set;
	char name[IMAP_MBOX_NAME_MAX + 1];
};
int imap_check_copy(struct imap_p *p, struct imap_copy_args *a);

/* FETCH set (items) | item | ALL | FAST | FULL */
struct imap_fetch_args {
	struct imap_str set;
	const char *items, *items_end;  /* in the line, or a macro's static text */
	int seen;                   /* a non-PEEK body item: FETCH sets \Seen */
};
int imap_check_fetch(struct imap_p *p, struct imap_fetch_args *a);

/* SEARCH [CHARSET c] keys */
struct imap_search_args {
	const char *keys, *keys_end;
};
int imap_check_search(struct imap_p *p, struct imap_search_args *a);

/* SELECT mailbox, EXAMINE mailbox: name gets IMAP_MBOX_NAME_MAX + 1 bytes. */
int imap_check_select(struct imap_p *p, char *name);

/* APPEND mailbox [(flags)] ["date-time"], up to the message literal */
struct imap_append_args {
	char name[IMAP_MBOX_NAME_MAX + 1];
	uint32_t flags;             /* system flags */
	unsigned nkw;               /* keywords, each once (compared case-insensitively) */
	char kw[IMAP_KEYWORDS_MAX][IMAP_KEYWORD_LEN + 1];
	int64_t date;               /* INTERNALDATE, when has_date */
	int has_date;
};
int imap_check_append(struct imap_p *p, struct imap_append_args *a);

/* --- command handlers (each parses its arguments after the name) ------- */
int imap_cmd_create(struct conn *c, struct imap_p *p);
int imap_cmd_delete(struct conn *c, struct imap_p *p);
int imap_cmd_rename(struct conn *c, struct imap_p *p);
int imap_cmd_subscribe(struct conn *c, struct imap_p *p);
int imap_cmd_unsubscribe(struct conn *c, struct imap_p *p);
int imap_cmd_list(struct conn *c, struct imap_p *p);
int imap_cmd_lsub(struct conn *c, struct imap_p *p);
int imap_cmd_status(struct conn *c, struct imap_p *p);
int imap_cmd_select(struct conn *c, struct imap_p *p);
int imap_cmd_examine(struct conn *c, struct imap_p *p);
int imap_cmd_close(struct conn *c, struct imap_p *p);
int imap_cmd_unselect(struct conn *c, struct imap_p *p);
int imap_cmd_getquota(struct conn *c, struct imap_p *p);
int imap_cmd_getquotaroot(struct conn *c, struct imap_p *p);
int imap_cmd_fetch(struct conn *c, struct imap_p *p);
int imap_cmd_search(struct conn *c, struct imap_p *p);
int imap_cmd_store(struct conn *c, struct imap_p *p);
int imap_cmd_copy(struct conn *c, struct imap_p *p);
int imap_cmd_move(struct conn *c, struct imap_p *p);
int imap_cmd_expunge(struct conn *c, struct imap_p *p);
int imap_cmd_check(struct conn *c, struct imap_p *p);
/* APPEND (a CF_LITERAL command): p ends before the message literal, whose
 * size s->lit.n (and s->lit.plus) the dispatcher set. */
int imap_cmd_append(struct conn *c, struct imap_p *p);

/* imap_fetch.c: FETCH responses that finish STORE and a FETCH whose \Seen
 * was committed (imap_write.c). */
void imap_fetch_flags_job(struct conn *c, const struct imap_str *set);
void imap_fetch_after_seen(struct conn *c);

/* imap_write.c: proto_ops.commit and .committed, for every write kind. */
int imap_write_commit(struct conn *c, struct store_batch *b);
void imap_write_committed(struct conn *c, int err);

/* imap_append.c: APPEND's literal and its part of the commit. */
/* proto_ops.raw: the message literal (or a refused one being dropped). 0. */
int imap_append_raw(struct conn *c, const unsigned char *data, size_t len);
/* The rest of the line after the literal (len bytes; it must be empty). */
void imap_append_eol(struct conn *c, size_t len);
/* An APPEND refused before its literal: a LITERAL+ literal is on its way
 * and is dropped (a synchronizing one was never asked for). 0. */
int imap_append_drop(struct conn *c);
/* Close the spool file (the session closes, or the APPEND is over). */
void imap_append_abort(struct conn *c);
/* WR_APPEND in the commit, and its reply once committed. */
int imap_append_commit(struct conn *c, struct store_batch *b);
void imap_append_committed(struct conn *c);

/* --- imap_view.c: shared views of selected mailboxes --------------------- */

struct imap_view_ent {
	uint32_t uid;
	uint32_t gone;          /* expunge generation, 0 = present */
};

struct imap_view {
	struct imap_view *next;
	uint32_t mbox, user, uidvalidity;
	uint64_t modseq;            /* the mailbox's HIGHESTMODSEQ when last synced */
	struct imap_view_ent *e;
	uint32_t n, cap;
	uint32_t ntomb;             /* entries with gone != 0 */
	uint32_t gen;               /* last expunge generation */
	uint32_t layout;            /* bumped when entries move (compaction) */
	uint32_t recent_upto;       /* UIDs below this have been given a \Recent owner */
	uint32_t recent_saved;      /* recent_upto as last written to the store */
	uint32_t ring_pos;          /* flag changes pushed so far */
	uint32_t nkw;               /* keywords in the mailbox's list when last synced */
	/* Allocated when a second session shares the view: a lone session
	 * has nobody to hear of flag changes (its own are not echoed). */
	struct imap_ring_ent { uint32_t uid; uint64_t modseq; } *ring;
	struct conn *sessions;
	unsigned nsess, nidle;
	uint32_t used;              /* LRU stamp while kept without sessions */
	int gone;                   /* the mailbox was deleted */
};

/* Attach c to the view of mailbox mb (creating and loading it); claim=1
 * (SELECT) makes the messages no session has claimed \Recent in c alone,
 * claim=0 (EXAMINE) shows them \Recent without claiming. 0 or <0. */
int imap_view_open(struct conn *c, const struct store_mbox *mb, int claim);
/* The first UID of mailbox mb no session has claimed (for STATUS RECENT). */
uint32_t imap_view_recent_mark(const struct store_mbox *mb);
void imap_view_close(struct conn *c);
/* Bring the view up to date with the store; wake IDLE sessions on changes. */
void imap_view_sync(struct imap_view *v);
/* A mailbox changed (this daemon's writes, a notify datagram): sync its view if open. */
void imap_view_notify(uint32_t mbox);
/* At daemon exit, after the sessions are closed: write pending \Recent marks. */
void imap_view_shutdown(void);
/* Index of message seq (1-based) in c's view, or UINT32_MAX. */
uint32_t imap_view_idx(struct conn *c, uint32_t seq);
/* Sequence number of entry idx in c's view (it must be visible). */
uint32_t imap_view_seq(struct conn *c, uint32_t idx);
/* First index with uid >= uid. */
uint32_t imap_view_lower(const struct imap_view *v, uint32_t uid);
/* Is entry idx in c's view? */
int imap_view_visible(const struct conn *c, uint32_t idx);
/*
 * A sequence set (not a UID command's) naming 0, a number beyond the
 * mailbox, or '*' in an empty one: answer BAD as Dovecot does (RFC 3501
 * 6.4.8) and return 1; else 0. SEARCH stays lenient.
 */
int imap_seq_beyond(struct conn *c, const struct imap_str *set, const char *cmd);
/* The largest UID in c's view (0 if empty). */
uint32_t imap_view_maxuid(struct conn *c);
/* Produce pending updates (expunges if allowed, EXISTS/RECENT, flag changes). 1 done. */
int imap_updates_stream(struct conn *c);
/* Has the view anything to tell c? */
int imap_updates_pending(const struct conn *c);
/* Session enters/leaves IDLE (counts idlers for the poll timer). */
void imap_view_idle(struct conn *c, int on);
/* \Recent messages in c's view. */
uint32_t imap_view_recent(struct conn *c);
/* Is uid \Recent in c's session? */
int imap_view_is_recent(const struct conn *c, uint32_t uid);
/* Skip flag-ring entries with modseq in [lo, hi] (this session's own STORE). */
void imap_view_own(struct conn *c, uint64_t lo, uint64_t hi);

#endif
