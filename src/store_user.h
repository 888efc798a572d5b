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

/* Validate a user name: 0 or STORE_EINVAL. */
int store_user_name_check(const char *name);
/* Create a user with an INBOX (UIDVALIDITY from the clock). quota 0 = none. */
int store_user_add(struct store *st, const char *name, const char *pass, size_t passlen,
                   uint64_t quota_bytes, uint32_t quota_msgs);
/* Delete a user, all mailboxes and messages (blob refs dropped). */
int store_user_del(struct store *st, const char *name);
int store_user_passwd(struct store *st, const char *name, const char *pass, size_t passlen);
int store_user_set_quota(struct store *st, const char *name, uint64_t quota_bytes, uint32_t quota_msgs);
int store_user_get(struct store *st, const char *name, struct store_user *out);
/* Call cb for each user in name order; a non-zero return from cb stops and is returned. */
int store_user_list(struct store *st, int (*cb)(void *arg, const struct store_user *u), void *arg);
/*
 * Check a password. 0 and *user filled on success, STORE_EAUTH for an
 * unknown user or a wrong password (the same work is done in both cases,
 * and the comparison is constant-time).
 */
int store_auth(struct store *st, const char *name, const char *pass, size_t passlen,
               struct store_user *user);

#endif
