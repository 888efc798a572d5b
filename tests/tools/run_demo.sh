#!/bin/sh
# make run: a demo instance on loopback with a demo user, a self-made
# certificate and a test message, then the daemon in the foreground.
set -e
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
dir=${POSTNOOK_DEMO_DIR:-$(pwd)/build/demo}
mkdir -p "$dir"
conf=$dir/postnook.conf
cat > "$conf" <<CONF
# Demo configuration written by make run.
datadir = $dir/data
hostname = localhost
log = stderr
plaintext_auth = loopback
listen = pop3 tls 127.0.0.1:9950
listen = pop3 starttls 127.0.0.1:1100
listen = imap tls 127.0.0.1:9930
listen = imap starttls 127.0.0.1:1430
CONF
if ! "$bin" user -c "$conf" list 2>/dev/null | grep -q '^demo '; then
  echo demo | "$bin" user -c "$conf" add demo --quota 100M
  printf 'From: Postnook <postnook@localhost>\nTo: demo@localhost\nSubject: Welcome to postnook\n\nThis message was delivered by postnook deliver.\nYour mail client found the server.\n' |
    "$bin" deliver -c "$conf" demo
fi
cat <<MSG

  postnook demo — connection settings for your mail app
  -----------------------------------------------------
  Server:    127.0.0.1 (or localhost)
  IMAP:      port 9930, security SSL/TLS   (like 993)
             port 1430, security STARTTLS  (like 143)
  POP3:      port 9950, security SSL/TLS   (like 995)
             port 1100, security STARTTLS  (like 110)
  User name: demo
  Password:  demo
  The certificate is self-made: accept it in your app after checking the
  fingerprint printed below. Try:  curl -k pop3s://demo:demo@localhost:9950/1
  or:        curl -k 'imaps://demo:demo@localhost:9930/INBOX;UID=1'
  Data directory: $dir/data   (Ctrl-C stops the server)

MSG
exec "$bin" serve -c "$conf" -f
