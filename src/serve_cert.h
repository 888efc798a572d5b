/*
 * serve_cert — the daemon's self-made certificate: the household CA in the
 * data directory and the server certificate it issues for every name the
 * router answers to, issued again when it is missing, not the CA's,
 * expiring (TLS_RENEW_DAYS) or lacking a configured name. A certificate the
 * owner configured (cert/key naming other files) is never touched.
 *
 * Each renewal is recorded in DATADIR/cert.renewed (mode 0640, one line:
 * "UNIXTIME OLD-FINGERPRINT|- NEW-FINGERPRINT REASON") for the web page.
 */
#ifndef POSTNOOK_SERVE_CERT_H
#define POSTNOOK_SERVE_CERT_H

#include "cfg.h"

#define SERVE_CERT_CHECK_MS (12 * 3600 * 1000)  /* how often the running daemon looks */
#define SERVE_CERT_RECORD "cert.renewed"

/* 1 if c uses the self-made certificate (no cert/key, or DATADIR/cert.pem and key.pem named). */
int serve_cert_self(const struct cfg *c);
/*
 * Make the household CA if needed and issue the server certificate again
 * when it is stale (see above); *issued = 1 when it did. Logs what it does.
 * 0 or a negative error (tls_strerror).
 */
int serve_cert_renew(const struct cfg *c, int *issued);

#endif
