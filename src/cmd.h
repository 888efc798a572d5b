/*
 * cmd — the faces of the multi-call binary. main.c dispatches on argv[0]
 * ("postnook.cgi") or on the first argument (serve, deliver, user).
 * Each returns the process exit status. argv[0] is the sub-command name.
 * Every face accepts -c FILE; the default config path is $POSTNOOK_CONF,
 * else CMD_DEFAULT_CONF.
 */
#ifndef POSTNOOK_CMD_H
#define POSTNOOK_CMD_H

#include <stddef.h>

#define CMD_DEFAULT_CONF "/etc/postnook/postnook.conf"
#define POSTNOOK_VERSION "0.1"
#define CMD_PASS_MAX 1024           /* a password read by cmd_password_read, with its NUL */

int cmd_serve_main(int argc, char **argv);
int cmd_deliver_main(int argc, char **argv);
int cmd_user_main(int argc, char **argv);
/* `postnook admin passwd`: the web page's admin password (cmd_admin.c). */
int cmd_admin_main(int argc, char **argv);
/* postnook.cgi: one CGI/1.1 request from the environment and stdin (cgi.c). */
int cgi_main(int argc, char **argv);
/* The config path to use when -c was not given. */
const char *cmd_default_conf(void);
/*
 * Does dir hold a store (DIR/data.mdb)? 0; else -errno after printing
 * "postnook FACE: no store in DIR" (missing) or why it cannot be reached
 * (face NULL: nothing printed).
 * Faces that only read or change what exists call it before store_open,
 * which would create a store.
 */
int cmd_store_check(const char *face, const char *dir);
/*
 * A new password into buf (cap bytes with the NUL, at most CMD_PASS_MAX are
 * used): stdin's first line (a CR before the newline dropped), or on a
 * terminal prompt (no echo), then "Repeat password: " must give the same.
 * Returns the length (0 for an empty line: the caller decides), or -1 after
 * printing "postnook FACE: " and why (the two differ; nothing on stdin, or
 * too long) and wiping buf.
 */
int cmd_password_read(const char *face, const char *prompt, char *buf, size_t cap);

#endif
