/*
 * commit — the group commit: every write that sessions queue during one
 * loop turn goes into one LMDB write transaction with one sync, run at the
 * turn's end (the loop's turn-end hook). A session queues itself with
 * commit_queue() and takes no command until its proto_ops->committed has
 * been called with the outcome of its part.
 *
 * The parts share the transaction without nesting (the store uses
 * MDB_WRITEMAP): when one part fails, the batch is aborted, that session
 * alone gets its error and the batch runs again with the others. A full
 * map is grown (at map_max: its freed pages reclaimed once) and the batch
 * run again. So a protocol's ->commit may run more than once per turn and
 * must change nothing but the transaction and outputs it rewrites whole.
 */
#ifndef POSTNOOK_COMMIT_H
#define POSTNOOK_COMMIT_H

struct conn;
struct store;

/* The store the batches write to (set once by the daemon). */
void commit_init(struct store *st);
/* Queue c's write for this turn's batch and hold its commands meanwhile. */
void commit_queue(struct conn *c);
/* c is closing: take it off the queue (its part does not run). */
void commit_cancel(struct conn *c);
/* Run the batch for every queued session (the loop's turn-end hook). */
void commit_run(void);

#endif
