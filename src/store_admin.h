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

/* Set the admin password (PBKDF2 like users'); only_first=1 fails with STORE_EEXIST if one is set. */
int store_admin_set(struct store *st, const char *pass, size_t passlen, int only_first);
/* 0, STORE_EAUTH (wrong), STORE_ENOTFOUND (none set yet) or an error. */
int store_admin_auth(struct store *st, const char *pass, size_t passlen);
/* 1 if an admin password is set, 0 if not, or an error. */
int store_admin_isset(struct store *st);
/* Small records under "cgi/KEY" in "meta" (sessions, sign-in failures): get, put (len 0 deletes), prune. */
int store_kv_get(struct store *st, const char *key, void *val, size_t cap, size_t *len);
int store_kv_put(struct store *st, const char *key, const void *val, size_t len);
int store_kv_prune(struct store *st, const char *prefix, int (*drop)(void *arg, const void *val, size_t len),
                   void *arg, unsigned *kept);

#endif
