/*
 * auth — password hashing and randomness.
 * PBKDF2-HMAC-SHA256 (RFC 8018) built on BearSSL's HMAC; constant-time compare.
 */
#ifndef POSTNOOK_AUTH_H
#define POSTNOOK_AUTH_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_SALT_LEN 16
#define AUTH_HASH_LEN 32

/* Derive dklen bytes into out. Returns 0, or -EINVAL for iterations 0. */
int auth_pbkdf2_sha256(const void *pass, size_t passlen, const void *salt, size_t saltlen,
                       uint32_t iterations, void *out, size_t dklen);
/* 1 if a and b (len bytes) are equal, 0 otherwise; time independent of content. */
int auth_equal(const void *a, const void *b, size_t len);
/* Fill buf with len bytes from the kernel's CSPRNG (getrandom). 0 or -errno. */
int auth_random(void *buf, size_t len);

#endif
