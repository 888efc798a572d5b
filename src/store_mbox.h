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

/*
 * Copy the selectable mailbox (user, name) into *out.
 * Returns 0, STORE_ENOTFOUND (no such mailbox, a \Noselect name, or a name
 * empty or over STORE_MBOX_NAME_MAX), STORE_EINVAL (name NULL), or a
 * common error.
 */
int store_mbox_get(struct store *st, uint32_t user, const char *name, struct store_mbox *out);
/*
 * Copy any mailbox record (user, name) into *out, a \Noselect one included
 * (its flags tell).
 * Returns 0, STORE_ENOTFOUND (no such name, or one empty or over
 * STORE_MBOX_NAME_MAX), STORE_EINVAL (name NULL), or a common error.
 */
int store_mbox_get_any(struct store *st, uint32_t user, const char *name, struct store_mbox *out);
/*
 * Copy mailbox id's record into *out and its name into name
 * (STORE_MBOX_NAME_MAX + 1 bytes; may be NULL).
 * Returns 0, STORE_ENOTFOUND (no such id, a \Noselect mailbox, or an index
 * entry that does not match its record), or a common error.
 */
int store_mbox_get_id(struct store *st, uint32_t id, struct store_mbox *out, char *name);
/*
 * Call cb for each mailbox record of user in name order, \Noselect ones
 * included, in one read txn: cb must not call the store.
 * Returns 0, cb's non-zero return (which stops the walk), or a common error.
 */
int store_mbox_list(struct store *st, uint32_t user,
                    int (*cb)(void *arg, const char *name, const struct store_mbox *mb), void *arg);
/*
 * Create name, and its missing parents as mailboxes; *out (may be NULL)
 * gets the record. A \Noselect name becomes a new mailbox (new id,
 * UIDVALIDITY). The user is not looked up.
 * Returns 0, STORE_EINVAL (name NULL, empty or over STORE_MBOX_NAME_MAX),
 * STORE_EEXIST (a selectable mailbox has the name), STORE_EFULL (mailbox
 * ids used up), or a common error.
 */
int store_mbox_create(struct store *st, uint32_t user, const char *name, struct store_mbox *out);
/*
 * Create the default mailboxes (store_mbox_defaults) a user is missing and
 * subscribe the special-use ones it creates; a user made before defaults
 * were subscribed has them subscribed once (a meta mark records it, so an
 * UNSUBSCRIBE later stays). A cheap read when nothing is to do.
 * Returns 0, STORE_EFULL (mailbox ids used up), or a common error.
 */
int store_mbox_ensure_defaults(struct store *st, uint32_t user);
/*
 * Delete name with its messages (not INBOX). RFC 3501 6.3.4: when name has
 * inferiors ("name/..."), the name stays as an empty \Noselect record with
 * a new id (*noselect = 1; it may be NULL); a \Noselect name with
 * inferiors cannot be deleted, one without is removed. When the last
 * inferior of a \Noselect name goes, the name stays (\Noselect, without
 * children) until it is deleted itself.
 * Returns 0, STORE_EINVAL (name NULL or INBOX, or a \Noselect name with
 * inferiors), STORE_ENOTFOUND (no such name), STORE_EFULL (mailbox ids
 * used up, for the \Noselect record), or a common error.
 */
int store_mbox_delete(struct store *st, uint32_t user, const char *name, int *noselect);
/*
 * Rename from and its children to to (creating to's missing parents).
 * INBOX: its messages move to a new mailbox to and INBOX stays, empty; its
 * children are not renamed.
 * Returns 0, STORE_EINVAL (a name NULL; to empty, over
 * STORE_MBOX_NAME_MAX or INBOX; to inside from's own subtree; a child's
 * new name too long), STORE_ENOTFOUND (no mailbox from), STORE_EEXIST (to,
 * or a child's new name, exists), STORE_EFULL (mailbox ids used up), or a
 * common error.
 */
int store_mbox_rename(struct store *st, uint32_t user, const char *from, const char *to);
/*
 * Move the \Recent marks (store_mbox.recent_uid) of mailboxes mbox[i] up
 * to uid[i] (never down, never past UIDNEXT), in one transaction; mailboxes
 * gone meanwhile are skipped. The record's HIGHESTMODSEQ does not change.
 * Returns 0, STORE_EINVAL (mbox or uid NULL with n > 0), or a common error.
 */
int store_mbox_recent(struct store *st, const uint32_t *mbox, const uint32_t *uid, unsigned n);
/*
 * Subscribe (on=1) or unsubscribe name (it need not exist).
 * Returns 0, STORE_EINVAL (name NULL, empty or over STORE_MBOX_NAME_MAX),
 * or a common error.
 */
int store_mbox_subscribe(struct store *st, uint32_t user, const char *name, int on);
/*
 * Is name subscribed by user? Returns 1, 0, STORE_EINVAL (name NULL,
 * empty or over STORE_MBOX_NAME_MAX), or a common error.
 */
int store_mbox_is_subscribed(struct store *st, uint32_t user, const char *name);
/*
 * Call cb for each subscribed name of user in name order, in one read txn:
 * cb must not call the store.
 * Returns 0, cb's non-zero return (which stops the walk), or a common error.
 */
int store_mbox_list_subscribed(struct store *st, uint32_t user, int (*cb)(void *arg, const char *name),
                               void *arg);
/*
 * The keyword names of mailbox mbox: names[i] is keyword i, *n of them (0
 * for a mailbox without keywords or without a record).
 * Returns 0 or a common error.
 */
int store_kw_get(struct store *st, uint32_t mbox, char names[STORE_KW_MAX][STORE_KW_LEN + 1], unsigned *n);

#endif
