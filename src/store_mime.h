/*
 * store_mime — MIME structure records (store_mime.c; the record and its
 * renderings are mime.h's).
 *
 * Every stored blob has a MIME record ("mime" database, keyed by blob id,
 * written in the blob's transaction and deleted with its last reference).
 * A message stored before records existed is parsed on the fly (nothing is
 * written back). The functions below run in one read txn and render straight
 * from the map; they return 0 or a store error or a mime.h error (-ENOENT: no
 * such part, -EINVAL: bad section spec).
 */
#ifndef POSTNOOK_STORE_MIME_H
#define POSTNOOK_STORE_MIME_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct mime_needle;

/* Copy the record of message (mbox, uid) into buf (cap >= MIME_REC_MAX always fits). */
int store_mime_get(struct store *st, uint32_t mbox, uint32_t uid, void *buf, size_t cap, size_t *len);
/* mime_render() of item what (MIME_R_ENVELOPE/BODY/BODYSTRUCTURE), render-and-skip. */
int store_mime_fetch(struct store *st, uint32_t mbox, uint32_t uid, int what, uint64_t off,
                     char *buf, size_t room, size_t *n, uint64_t *total);
/* BODY[spec] (spec = the text between the brackets), render-and-skip. */
int store_mime_section(struct store *st, uint32_t mbox, uint32_t uid, const char *spec, size_t speclen,
                       uint64_t off, char *buf, size_t room, size_t *n, uint64_t *total);
/* mime_search() on the message: 1 found, 0 not found, or an error. */
int store_mime_search(struct store *st, uint32_t mbox, uint32_t uid, int where, const char *field,
                      size_t fieldlen, const struct mime_needle *nd);

#endif
