/*
 * store_user — accounts (store_user.c): add, delete, password, quota,
 * lookup, list, authenticate. The rules of store.h apply.
 */
#ifndef POSTNOOK_STORE_USER_H
#define POSTNOOK_STORE_USER_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define STORE_NAME_MAX     64   /* user names: [a-z0-9._-], 1..64 bytes */

struct store_user {
	uint32_t id;
	char name[STORE_NAME_MAX + 1];
	uint64_t quota_bytes;    /* 0 = unlimited */
	uint32_t quota_msgs;     /* 0 = unlimited */
	uint64_t used_bytes;     /* sum of sizes of all the user's messages */
	uint32_t used_msgs;
	uint32_t iterations;     /* PBKDF2 iterations of the stored verifier */
};

/*
 * Validate a user name: 1..STORE_NAME_MAX bytes of [a-z0-9._-], starting
 * with [a-z0-9]. Returns 0 or STORE_EINVAL (NULL or not such a name).
 */
int store_user_name_check(const char *name);
/*
 * Create a user with the default mailboxes (store_mbox.h; UIDVALIDITY from
 * the clock); quota 0 = none. The password's PBKDF2 verifier is computed
 * before the write txn begins.
 * Returns 0, STORE_EINVAL (a name store_user_name_check refuses, or an
 * empty password), STORE_EEXIST (the name is taken), STORE_EFULL (user or
 * mailbox ids used up), -errno (no random salt), or a common error.
 */
int store_user_add(struct store *st, const char *name, const char *pass, size_t passlen,
                   uint64_t quota_bytes, uint32_t quota_msgs);
/*
 * Delete a user, all mailboxes and messages (blob refs dropped).
 * Returns 0, STORE_ENOTFOUND (no such user, or a malformed name), or a
 * common error.
 */
int store_user_del(struct store *st, const char *name);
/*
 * Set a new password (fresh salt, this build's iteration count).
 * Returns 0, STORE_ENOTFOUND (no such user, or a malformed name),
 * STORE_EINVAL (empty password), -errno (no random salt), or a common error.
 */
int store_user_passwd(struct store *st, const char *name, const char *pass, size_t passlen);
/*
 * Set a user's quota (0 = unlimited); usage above it is kept, new mail
 * refused. Returns 0, STORE_ENOTFOUND (no such user, or a malformed name),
 * or a common error.
 */
int store_user_set_quota(struct store *st, const char *name, uint64_t quota_bytes, uint32_t quota_msgs);
/*
 * Copy a user's public record into *out.
 * Returns 0, STORE_ENOTFOUND (no such user, or a malformed name), or a
 * common error.
 */
int store_user_get(struct store *st, const char *name, struct store_user *out);
/*
 * Call cb for each user in name order. Each user is read in its own short
 * read txn, so cb may call the store.
 * Returns 0, cb's non-zero return (which stops the walk), or a common error.
 */
int store_user_list(struct store *st, int (*cb)(void *arg, const struct store_user *u), void *arg);
/*
 * Check a password; on success *user gets the user's record. An unknown
 * user costs the same PBKDF2 work, and the comparison is constant-time.
 * Returns 0, STORE_EAUTH (unknown or malformed name, wrong or empty
 * password), or a common error.
 */
int store_auth(struct store *st, const char *name, const char *pass, size_t passlen,
               struct store_user *user);

#endif
