/*
 * cmd — the faces of the multi-call binary. main.c dispatches on argv[0]
 * ("postnook.cgi") or on the first argument (serve, deliver, user).
 * Each returns the process exit status. argv[0] is the sub-command name.
 * Every face accepts -c FILE; the default config path is $POSTNOOK_CONF,
 * else CMD_DEFAULT_CONF.
 */
#ifndef POSTNOOK_CMD_H
#define POSTNOOK_CMD_H

#define CMD_DEFAULT_CONF "/etc/postnook/postnook.conf"
#define POSTNOOK_VERSION "0.1"

int cmd_serve_main(int argc, char **argv);
int cmd_deliver_main(int argc, char **argv);
int cmd_user_main(int argc, char **argv);
/* `postnook admin passwd`: the web page's admin password (cmd_admin.c). */
int cmd_admin_main(int argc, char **argv);
/* postnook.cgi: one CGI/1.1 request from the environment and stdin (cgi.c). */
int cgi_main(int argc, char **argv);
/* The config path to use when -c was not given. */
const char *cmd_default_conf(void);

#endif
