/* sasl — base64 and the SASL PLAIN message (RFC 4616), shared by POP3 and IMAP. */
#ifndef POSTNOOK_SASL_H
#define POSTNOOK_SASL_H

#include <stddef.h>

/* Decode base64 (RFC 4648, padding required, no whitespace) into out.
 * *outlen gets the length. 0, or -EINVAL (malformed) / -ENOSPC (too long). */
int sasl_b64_decode(const char *in, size_t inlen, unsigned char *out, size_t cap, size_t *outlen);
/* Encode len bytes; out must hold 4*((len+2)/3)+1. Returns the length. */
size_t sasl_b64_encode(const unsigned char *in, size_t len, char *out);
/*
 * Split a decoded PLAIN message "authzid NUL authcid NUL passwd" in place.
 * authzid must be empty or equal to authcid (no proxy login). 0 or -EINVAL.
 */
int sasl_plain_split(unsigned char *msg, size_t len, const char **user, const char **pass,
                     size_t *passlen);
/*
 * A client's SASL PLAIN response line (AUTHENTICATE/AUTH continuation or
 * initial response): "*" cancels (RFC 4422), "=" is an empty response
 * (RFC 4959, 5034), anything else is base64, decoded into msg (cap bytes,
 * one kept for the terminator) and split by sasl_plain_split; *user and
 * *pass then point into msg, which the caller wipes after use.
 * 0, -ECANCELED ("*"), or -EINVAL / -ENOSPC (malformed, or longer than msg).
 */
int sasl_plain_response(const char *line, size_t len, unsigned char *msg, size_t cap,
                        const char **user, const char **pass, size_t *passlen);

#endif
