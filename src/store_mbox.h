/*
 * store_mbox — the mailbox tree (store_mbox.c): lookup, list, create,
 * delete, rename (with children), the \Recent marks, subscriptions, and
 * the keyword names of a mailbox. The rules of store.h apply: 0 or a
 * negative store error; a call that writes commits and syncs before it
 * returns.
 *
 * Subscriptions and keyword names live in "meta" under their own prefixes
 * ("sub/" u32 user, name -> "" and "kw/" u32 mailbox -> NUL-separated
 * names), so they need no database of their own. A message's keywords are
 * bits 8.. of its flags (store.h).
 */
#ifndef POSTNOOK_STORE_MBOX_H
#define POSTNOOK_STORE_MBOX_H

#include <stdint.h>

#include "store.h"

#define STORE_MBOX_NAME_MAX 255 /* mailbox names, bytes (modified UTF-7) */

struct store_mbox {
	uint32_t id;
	uint32_t user;
	uint32_t uidvalidity;
	uint32_t uidnext;        /* never decreases: UIDs are never reused */
	uint64_t highestmodseq;
	uint32_t count;          /* messages in the mailbox */
	uint64_t bytes;          /* their total size */
	uint32_t flags;          /* STORE_MBOX_NOSELECT */
	uint32_t recent_uid;     /* IMAP \Recent: no session has claimed UIDs >= this */
};

/* store_mbox.flags */
enum {
	/* A name kept only for its children (IMAP DELETE of a mailbox with
	 * inferiors): no messages, not selectable; store_mbox_get and
	 * store_mbox_get_id answer STORE_ENOTFOUND for it. */
	STORE_MBOX_NOSELECT = 1 << 0,
};

/* The mailboxes every user has (SPECIAL-USE); created at user add and at login. */
extern const char *const store_mbox_defaults[];
extern const unsigned store_mbox_ndefaults;

/* A selectable mailbox by name: STORE_ENOTFOUND also for a \Noselect name. */
int store_mbox_get(struct store *st, uint32_t user, const char *name, struct store_mbox *out);
/* Any mailbox record by name, a \Noselect one included (flags tell). */
int store_mbox_get_any(struct store *st, uint32_t user, const char *name, struct store_mbox *out);
/* Mailbox by id; name (STORE_MBOX_NAME_MAX + 1 bytes) may be NULL. */
int store_mbox_get_id(struct store *st, uint32_t id, struct store_mbox *out, char *name);
/* Call cb for each mailbox of user in name order (a non-zero cb return stops and is returned). */
int store_mbox_list(struct store *st, uint32_t user,
                    int (*cb)(void *arg, const char *name, const struct store_mbox *mb), void *arg);
/* Create name (and missing parents, as mailboxes). STORE_EEXIST if it
 * exists; a \Noselect name becomes a new mailbox (new id, UIDVALIDITY). */
int store_mbox_create(struct store *st, uint32_t user, const char *name, struct store_mbox *out);
/* Create the default mailboxes a user is missing. */
int store_mbox_ensure_defaults(struct store *st, uint32_t user);
/*
 * Delete name with its messages (not INBOX). RFC 3501 6.3.4: when name has
 * inferiors ("name/..."), the name stays as an empty \Noselect record with
 * a new id (*noselect = 1; it may be NULL); a \Noselect name with
 * inferiors cannot be deleted (STORE_EINVAL), one without is removed. When
 * the last inferior of a \Noselect name goes, the name stays (\Noselect,
 * without children) until it is deleted itself.
 */
int store_mbox_delete(struct store *st, uint32_t user, const char *name, int *noselect);
/* Rename from and its children to to. INBOX: its messages move to a new
 * mailbox to and INBOX stays, empty. STORE_EEXIST, STORE_ENOTFOUND. */
int store_mbox_rename(struct store *st, uint32_t user, const char *from, const char *to);
/*
 * Move the \Recent marks (store_mbox.recent_uid) of mailboxes mbox[i] up
 * to uid[i] (never down, never past UIDNEXT), in one transaction; mailboxes
 * gone meanwhile are skipped. The record's HIGHESTMODSEQ does not change.
 */
int store_mbox_recent(struct store *st, const uint32_t *mbox, const uint32_t *uid, unsigned n);
/* Subscribe (on=1) or unsubscribe name (it need not exist). */
int store_mbox_subscribe(struct store *st, uint32_t user, const char *name, int on);
/* Call cb for each subscribed name of user, in name order. */
int store_mbox_list_subscribed(struct store *st, uint32_t user, int (*cb)(void *arg, const char *name),
                               void *arg);
/* The keyword names of a mailbox: names[i] is keyword i; *n of them. */
int store_kw_get(struct store *st, uint32_t mbox, char names[STORE_KW_MAX][STORE_KW_LEN + 1], unsigned *n);

#endif
