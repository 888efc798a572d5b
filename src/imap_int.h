/* imap_int — what the imap_*.c files share (not for other modules). */
#ifndef POSTNOOK_IMAP_INT_H
#define POSTNOOK_IMAP_INT_H

#include "conn.h"
#include "imap.h"
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
	uint32_t kw_gen;            /* keyword list generation announced (FLAGS) */
};

/* Streamed output in progress. */
struct imap_job {
	uint8_t kind;               /* imap.c's JOB_* */
	uint8_t phase;              /* UPD_* while sending updates */
	uint8_t uid;                /* a UID command (sets are UIDs; updates limited) */
	uint8_t item;               /* FETCH: item index within the current message */
	uint8_t open;               /* FETCH: "* n FETCH (" already sent for cur */
	uint8_t flags;              /* command specific */
	const char *set, *set_end;  /* the sequence set (in the kept line) */
	const char *pos;            /* next range in the set */
	const char *args, *args_end;/* the rest of the command (FETCH items, SEARCH keys) */
	uint32_t lo, hi, cur;       /* current range and next number in it */
	uint64_t off, total;        /* FETCH: bytes of the current literal sent / its size */
	uint32_t u_cursor, u_gen, u_count;  /* updates: position, target generation, count */
	uint32_t m_uid, m_seq;      /* FETCH: the message being sent */
	uint8_t done_range;         /* the current range is finished */
	uint8_t missed;             /* messages were skipped (expunged meanwhile) */
};

struct imap_sess {
	enum imap_state state;
	uint8_t sub;                /* enum imap_sub */
	uint8_t readonly;           /* EXAMINE */
	uint8_t enabled;            /* ENABLE'd extensions (none that change replies yet) */
	uint8_t no_expunge;         /* the running command may not announce expunges */
	uint8_t silent;             /* STORE .SILENT */
	uint8_t wr;                 /* pending group-commit write (imap_write.c's WR_*) */
	uint8_t idle_done;          /* IDLE ended by DONE: send the tagged OK */
	unsigned failures;
	uint32_t user_id;
	char user[65];
	char tag[IMAP_TAG_MAX + 1];
	char done[512];             /* the tagged completion, sent after the updates */
	struct imap_sv sv;
	struct imap_job job;
	int64_t idle_since;         /* ms: IDLE start or last keepalive */
	/* group-commit arguments (the command line is kept while they run) */
	uint32_t wr_mbox, wr_uidvalidity, wr_uid, wr_uid2, wr_count;
	uint32_t wr_flags, wr_mode;
	unsigned wr_retries;        /* commits retried after the map grew */
	int wr_rc;
	uint64_t own_lo, own_hi;    /* modseqs of this session's own flag changes (not echoed) */
	/* literal assembly: the command so far has lit_prev bytes, then a literal of lit_n */
	size_t lit_prev;
	uint64_t lit_n;
	unsigned nlit;
	/* APPEND streaming */
	int app_fd;                 /* temp file in the data dir, or -1 */
	uint64_t app_size, app_got;
	int64_t app_date;
};

/* The IMAP session of connection c. */
static inline struct imap_sess *imap_of(const struct conn *c)
{
	return conn_sess(c);
}

/* Streamed output kinds (imap_job.kind). */
enum {
	JOB_NONE,
	JOB_FETCH,      /* FETCH / UID FETCH / STORE results (imap_fetch.c) */
	JOB_SEARCH,     /* SEARCH results (imap_search.c) */
	JOB_LIST,       /* LIST/LSUB (imap_mbox.c) */
	JOB_UPDATES,    /* untagged updates before the tagged reply (imap_view.c) */
	JOB_TAGGED,     /* the tagged reply in s->done */
};

/* Set the tagged completion ("OK ...", "NO ...", "BAD ...") and start the
 * update + tagged phases (unless a body job was started first: then they
 * follow it). */
void imap_done(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Tagged BAD from a parser error. */
void imap_bad(struct conn *c, const struct imap_p *p);
/* Start job kind: its stream runs, then updates, then the tagged reply in s->done. */
void imap_job_start(struct conn *c, int kind);
/* Reply for a store error ("NO [...] text"). */
void imap_store_no(struct conn *c, int err, const char *what);
/* Parse a mailbox name argument into buf (INBOX case-folded); 0 or -1 (BAD/NO sent). */
int imap_mbox_arg(struct conn *c, struct imap_p *p, char *buf);
/* The SPECIAL-USE attribute of a top-level name, or NULL. */
const char *imap_special_use(const char *name);
/* Format the flags word as "\\Seen \\Answered kw ..." into buf. */
size_t imap_flags_fmt(struct conn *c, uint32_t flags, char *buf, size_t cap, int recent);
/* Parse a flag list "(...)" or a single flag into *flags (keywords get bits via the store in the
 * commit; names are kept in the line). 0 or -1 (BAD sent). */
int imap_flags_parse(struct conn *c, struct imap_p *p, int list_required, uint32_t *flags);
/* The APPENDLIMIT in bytes. */
uint64_t imap_appendlimit(void);

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
/* APPEND: the command line up to the message literal of n bytes. */
int imap_append_start(struct conn *c, char *line, size_t len, uint64_t n, int plus);
int imap_append_raw(struct conn *c, const unsigned char *data, size_t len);
void imap_append_eol(struct conn *c, size_t len);
void imap_append_abort(struct conn *c);

/* Streams: 1 done, 0 more to come, <0 close. */
int imap_list_stream(struct conn *c);
int imap_fetch_stream(struct conn *c);
int imap_search_stream(struct conn *c);

/* Pending group-commit writes (imap_sess.wr). */
enum { WR_NONE, WR_SEEN, WR_STORE, WR_EXPUNGE, WR_CLOSE, WR_COPY, WR_MOVE, WR_APPEND };
/* FETCH jobs started from other commands (imap_fetch.c). */
void imap_fetch_flags_job(struct conn *c, const struct imap_str *set);
void imap_fetch_after_seen(struct conn *c);

/* Group commit for the write commands (imap_write.c). */
int imap_write_commit(struct conn *c, struct store_batch *b);
void imap_write_committed(struct conn *c, int err);

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
