/*
 * store_admin — what the web page (postnook.cgi) keeps in the store
 * (store_admin.c): the admin password verifier and small records
 * (sessions, sign-in failures) under "cgi/KEY" in "meta". The rules of
 * store.h apply.
 */
#ifndef POSTNOOK_STORE_ADMIN_H
#define POSTNOOK_STORE_ADMIN_H

#include <stddef.h>

#include "store.h"

/*
 * Set the admin password (a PBKDF2 verifier like users'); only_first=1
 * refuses to replace one that is set.
 * Returns 0, STORE_EINVAL (empty password), STORE_EEXIST (only_first and
 * a password is set), -errno (no random salt), or a common error.
 */
int store_admin_set(struct store *st, const char *pass, size_t passlen, int only_first);
/*
 * Check the admin password (constant-time comparison).
 * Returns 0, STORE_EAUTH (wrong password), STORE_ENOTFOUND (none set yet),
 * STORE_ECORRUPT (a bad record or iteration count), or a common error.
 */
int store_admin_auth(struct store *st, const char *pass, size_t passlen);
/* Returns 1 (an admin password is set), 0 (none), or a common error. */
int store_admin_isset(struct store *st);

/*
 * Small records under "cgi/KEY" in "meta" (sessions, sign-in failures).
 * Keys are 1..123 bytes.
 */

/*
 * Copy the record under key into val (cap bytes); *len gets its size.
 * Returns 0, STORE_EINVAL (key NULL, empty or too long), STORE_ENOTFOUND
 * (no record), STORE_ECORRUPT (the record is larger than cap), or a common
 * error.
 */
int store_kv_get(struct store *st, const char *key, void *val, size_t cap, size_t *len);
/*
 * Store len bytes under key, replacing any; len 0 deletes the record
 * (absent is fine).
 * Returns 0, STORE_EINVAL (key NULL, empty or too long), or a common error.
 */
int store_kv_put(struct store *st, const char *key, const void *val, size_t len);
/*
 * Delete the records under "cgi/" prefix for which drop returns non-zero,
 * in one write txn (drop must not call the store); *kept (may be NULL)
 * gets the number of the others.
 * Returns 0, STORE_EINVAL (prefix NULL, empty or too long), or a common
 * error.
 */
int store_kv_prune(struct store *st, const char *prefix, int (*drop)(void *arg, const void *val, size_t len),
                   void *arg, unsigned *kept);

#endif
