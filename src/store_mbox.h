/*
 * store_mbox — the store's mailbox tree and the message writes IMAP needs:
 * create, delete, rename (with children), subscriptions, keywords, flag
 * changes, COPY sharing blobs, APPEND from a spooled file, and a fast walk
 * of a mailbox's message records. Same rules as store.h: 0 or a negative
 * store error; plain calls commit and sync before returning; the
 * store_batch_* calls run inside a group-commit part.
 *
 * Subscriptions and keyword names live in "meta" under their own prefixes
 * ("sub/" u32 user, name -> "" and "kw/" u32 mailbox -> NUL-separated
 * names), so they need no database of their own. A message's keywords are
 * bits 8.. of its flags: bit 8+i is keyword i of its mailbox.
 */
#ifndef POSTNOOK_STORE_MBOX_H
#define POSTNOOK_STORE_MBOX_H

#include <stdint.h>

#include "store.h"

#define STORE_KW_MAX 24         /* keywords per mailbox (flag bits 8..31) */
#define STORE_KW_LEN 64         /* bytes of a keyword name */
#define STORE_F_KW_SHIFT 8
#define STORE_F_SYSTEM 0xffu

/* The mailboxes every user has (SPECIAL-USE); created at user add and at login. */
extern const char *const store_mbox_defaults[];
extern const unsigned store_mbox_ndefaults;

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
/*
 * Move the \Recent marks (store_mbox.recent_uid) of mailboxes mbox[i] up
 * to uid[i] (never down, never past UIDNEXT), in one transaction; mailboxes
 * gone meanwhile are skipped. The record's HIGHESTMODSEQ does not change.
 */
int store_mbox_recent(struct store *st, const uint32_t *mbox, const uint32_t *uid, unsigned n);
/* Rename from and its children to to. INBOX: its messages move to a new
 * mailbox to and INBOX stays, empty. STORE_EEXIST, STORE_ENOTFOUND. */
int store_mbox_rename(struct store *st, uint32_t user, const char *from, const char *to);
/* Subscribe (on=1) or unsubscribe name (it need not exist). */
int store_mbox_subscribe(struct store *st, uint32_t user, const char *name, int on);
/* Call cb for each subscribed name of user, in name order. */
int store_mbox_list_subscribed(struct store *st, uint32_t user, int (*cb)(void *arg, const char *name),
                               void *arg);
/* Mailbox by id; name (STORE_MBOX_NAME_MAX + 1 bytes) may be NULL. */
int store_mbox_get_id(struct store *st, uint32_t id, struct store_mbox *out, char *name);

/* The keyword names of a mailbox: names[i] is keyword i; *n of them. */
int store_kw_get(struct store *st, uint32_t mbox, char names[STORE_KW_MAX][STORE_KW_LEN + 1], unsigned *n);

/*
 * Walk the message records of mbox with uid >= from in UID order in one
 * read txn; cb must not call the store. A non-zero cb return stops the walk
 * and is returned.
 */
int store_msg_walk_from(struct store *st, uint32_t mbox, uint32_t from,
                        int (*cb)(void *arg, const struct store_msg *m), void *arg);

/* --- writes inside a group-commit part ---------------------------------- */

/* store_msg_walk_from inside the batch (sees the batch's own writes). */
int store_batch_walk_from(struct store_batch *b, uint32_t mbox, uint32_t from,
                          int (*cb)(void *arg, const struct store_msg *m), void *arg);

enum { STORE_FLAGS_SET, STORE_FLAGS_ADD, STORE_FLAGS_DEL };
/*
 * Add keyword names to mbox's list where missing; bits gets their flag
 * bits. STORE_EFULL (as STORE_EINVAL) when the list has no room.
 */
int store_batch_kw_bits(struct store_batch *b, uint32_t mbox, const char (*names)[STORE_KW_LEN + 1],
                        unsigned n, uint32_t *bits);
/* Change the flags of (mbox, uid); *out gets the new flags. A changed
 * message gets a new modseq (*modseq, 0 if unchanged). STORE_ENOTFOUND if it is gone. */
int store_batch_flags(struct store_batch *b, uint32_t mbox, uint32_t uid, int mode, uint32_t flags,
                      uint32_t *out, uint64_t *modseq);
/*
 * Copy message (src, uid) into dst sharing its blob (no bytes copied),
 * with the same flags (keywords dropped) and date; *newuid gets its UID.
 * STORE_EQUOTA over the owner's quota, STORE_ENOTFOUND if it is gone.
 */
int store_batch_copy(struct store_batch *b, uint32_t src, uint32_t uid, uint32_t dst, uint32_t *newuid);
/*
 * Store a message of size bytes read from fd (offset 0) into mbox with
 * flags and date; *uid gets its UID. The bytes go straight from the file
 * into the map, a chunk at a time. STORE_EQUOTA, STORE_ETOOBIG, STORE_EBUSY
 * (map full: grown after the batch, retry).
 */
int store_batch_append_fd(struct store_batch *b, uint32_t mbox, int fd, uint64_t size, uint32_t flags,
                          int64_t date, uint32_t *uid);

#endif
