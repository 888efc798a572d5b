/*
 * sysconfig — what the Kconfig choices (config.h, generated) imply: values
 * derived from them, and combinations that cannot work refused at compile
 * time with a message that says which symbol to change (Dropbear's
 * sysoptions.h). Include it instead of config.h.
 *
 * Kconfig's ranges already bound each number; the checks below are the
 * ones the code relies on, so a hand-edited .config cannot build a binary
 * that would misbehave at run time.
 */
#ifndef POSTNOOK_SYSCONFIG_H
#define POSTNOOK_SYSCONFIG_H

#include <stdint.h>

#include "config.h"

/* --- impossible combinations ---------------------------------------- */

#if !CONFIG_IMAP && !CONFIG_POP3
#error "no protocol: a daemon needs CONFIG_IMAP or CONFIG_POP3 (make menuconfig, Protocols)"
#endif

/* A command line of every protocol must fit the input buffer: POP3's 255
 * octets (RFC 2449), IMAP's LOGIN with a 64-byte name and a long password. */
#if CONFIG_LINE_MAX < 512
#error "CONFIG_LINE_MAX must be at least 512 bytes"
#endif

/* Some replies are formatted whole into the output queue and wait for room
 * there: IMAP's tagged completion (up to 512 bytes), and a flag list with
 * 24 keywords of 64 bytes (FETCH FLAGS, its untagged update, FLAGS and
 * PERMANENTFLAGS: up to about 1.7 KiB, imap_int.h's IMAP_FLAGS_BUF).
 * A smaller queue would never have the room and the session would spin. */
#if CONFIG_OUTBUF < 1024
#error "CONFIG_OUTBUF must be at least 1024 bytes"
#endif
#if CONFIG_IMAP && CONFIG_OUTBUF < 2048
#error "CONFIG_OUTBUF must be at least 2048 bytes with CONFIG_IMAP (a FETCH FLAGS line with 24 keywords)"
#endif

/* BearSSL's output buffer holds one record: at least 1 KiB of payload plus
 * its header and MAC, at most a full 16 KiB record. */
#if CONFIG_TLS && (CONFIG_TLS_OUTBUF < 1024 || CONFIG_TLS_OUTBUF > 16469)
#error "CONFIG_TLS_OUTBUF must be 1024..16469 bytes"
#endif

#if CONFIG_MAX_CONNS < 4
#error "CONFIG_MAX_CONNS must be at least 4"
#endif

/* Sizes in MiB are turned into bytes in 32-bit arithmetic in places. */
#if CONFIG_MAX_MESSAGE < 1 || CONFIG_MAX_MESSAGE > 2047
#error "CONFIG_MAX_MESSAGE must be 1..2047 MiB"
#endif

/* --- derived values ---------------------------------------------------- */

/* Protocols in this build (the daemon's table has one entry for each). */
#define SYS_PROTOCOLS (CONFIG_IMAP + CONFIG_POP3)

/* The largest message deliver and APPEND take, in bytes. */
#define SYS_MESSAGE_MAX ((uint64_t)CONFIG_MAX_MESSAGE * 1024 * 1024)

/* The default for the config key max_connections: 256, or fewer slots. */
#define SYS_DEFAULT_MAX_CONNECTIONS (CONFIG_MAX_CONNS < 256 ? CONFIG_MAX_CONNS : 256)

#endif
