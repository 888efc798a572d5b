/*
 * store_mime — MIME structure records (store_mime.c; the record and its
 * renderings are mime.h's).
 *
 * Every stored blob has a MIME record ("mime" database, keyed by blob id,
 * written in the blob's transaction and deleted with its last reference).
 * A message stored before records existed is parsed on the fly (nothing is
 * written back). The functions below run in one read txn and render straight
 * from the map. Besides store errors they return mime.h's (negative errno
 * values).
 */
#ifndef POSTNOOK_STORE_MIME_H
#define POSTNOOK_STORE_MIME_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct mime_needle;

/*
 * Copy the record of message (mbox, uid) into buf (cap >= MIME_REC_MAX
 * always fits); *len gets its size.
 * Returns 0, STORE_EINVAL (buf or len NULL), STORE_ENOTFOUND (no such
 * message), STORE_ECORRUPT (its blob is missing, or cannot be parsed),
 * -ENOSPC (cap too small), or a common error.
 */
int store_mime_get(struct store *st, uint32_t mbox, uint32_t uid, void *buf, size_t cap, size_t *len);
/*
 * mime_render() of item what (MIME_R_ENVELOPE/BODY/BODYSTRUCTURE) of
 * message (mbox, uid), render-and-skip (mime.h).
 * Returns 0, STORE_ENOTFOUND (no such message), STORE_ECORRUPT (as
 * store_mime_get), -EINVAL (bad what) or -EBADMSG (mime_render), or a
 * common error.
 */
int store_mime_fetch(struct store *st, uint32_t mbox, uint32_t uid, int what, uint64_t off,
                     char *buf, size_t room, size_t *n, uint64_t *total);
/*
 * BODY[spec] of message (mbox, uid) (spec = the text between the
 * brackets), render-and-skip.
 * Returns 0, STORE_ENOTFOUND (no such message), STORE_ECORRUPT (as
 * store_mime_get), -EINVAL (spec does not parse), -ENOENT (no such part),
 * -EBADMSG (mime_section), or a common error.
 */
int store_mime_section(struct store *st, uint32_t mbox, uint32_t uid, const char *spec, size_t speclen,
                       uint64_t off, char *buf, size_t room, size_t *n, uint64_t *total);
/*
 * mime_search() on message (mbox, uid).
 * Returns 1 (found), 0 (not found), STORE_ENOTFOUND (no such message),
 * STORE_ECORRUPT (as store_mime_get), -EBADMSG (mime_search), or a common
 * error.
 */
int store_mime_search(struct store *st, uint32_t mbox, uint32_t uid, int where, const char *field,
                      size_t fieldlen, const struct mime_needle *nd);

#endif
