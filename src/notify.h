/*
 * notify — the daemon's local datagram socket (DATADIR/notify.sock).
 * deliver, the CGI and user admin send a tiny datagram after they change
 * the store so the daemon's waiting sessions see new mail within a second.
 * Message: "M <user-id> <mailbox-id>\n" (mailbox changed) or "R\n" (reload).
 */
#ifndef POSTNOOK_NOTIFY_H
#define POSTNOOK_NOTIFY_H

#include <stdint.h>

/* Daemon side: bind the socket (unlinking a stale one). Returns fd or -errno. */
int notify_listen(const char *datadir);
/* Read one datagram; *kind 'M' or 'R'. 0, -EAGAIN when none, -EINVAL if malformed. */
int notify_recv(int fd, char *kind, uint32_t *user, uint32_t *mbox);
/* Sender side: best effort, never blocks; a daemon that is not running is fine. */
void notify_send_mbox(const char *datadir, uint32_t user, uint32_t mbox);
/* Sender side: ask the daemon to re-read its config ("R\n"); best effort, like the above. */
void notify_send_reload(const char *datadir);

#endif
