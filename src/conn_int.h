/* conn_int — what conn.c, conn_io.c, conn_tls.c and commit.c share, not for protocols. */
#ifndef POSTNOOK_CONN_INT_H
#define POSTNOOK_CONN_INT_H

#include "conn.h"

/* Move bytes both ways and feed complete lines to the protocol. */
void conn_run(struct conn *c);
/* Give back the bulk buffer c holds, if any (the slot is being released). */
void conn_bulk_release(struct conn *c);
/* TLS pool (conn_tls.c); without CONFIG_TLS these are no-ops/failures. */
int conn_tls_init(unsigned max);
int conn_tls_start(struct conn *c);
void conn_tls_release(struct conn *c);
/* Pump the engine: socket <-> records <-> c->in/c->out. Steps that moved bytes, or <0 to close. */
int conn_tls_pump(struct conn *c);
/* The engine's free plaintext buffer (room in *room if not NULL), or NULL
 * when it takes no application data now; then ack what was written. */
unsigned char *conn_tls_sendapp(struct conn *c, size_t *room);
void conn_tls_sendapp_ack(struct conn *c, size_t n);
/* Poll events the engine wants. */
short conn_tls_events(struct conn *c);
/* Queue a close_notify alert (after the records already queued). */
void conn_tls_close_notify(struct conn *c);

/* The trace (conn_trace.c): is c traced; start at connect if its address
 * is named; stop (closed, why); replies queued; message data counted
 * (in: literal bytes taken raw, else streamed bytes); an event line. */
#define conn_traced(c) (CONFIG_TRACE && (c)->trace)
void conn_trace_connect(struct conn *c);
void conn_trace_stop(struct conn *c, const char *why);
void conn_trace_out(struct conn *c, const void *data, size_t len);
void conn_trace_data(struct conn *c, size_t n, int in);
void conn_trace_note(struct conn *c, const char *what);

#endif
