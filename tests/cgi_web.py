"""Helpers for the postnook.cgi end-to-end tests.

WebServer runs a real web server from Debian (lighttpd or busybox httpd) on
loopback, serving the postnook binary as /cgi-bin/postnook.cgi with
POSTNOOK_CONF pointing at a test Server's config. Browser drives Debian's
Chromium through playwright-core (tests/cgi/driver.js, one JSON command per
line). Screenshots go to tests/artifacts/screens/.
"""
import json
import os
import pathlib
import shutil
import subprocess
import time
import urllib.error
import urllib.request

from postnook_fixture import BIN, SAN, SLOW, free_port

ROOT = pathlib.Path(__file__).resolve().parent.parent
DRIVER = ROOT / "tests" / "cgi" / "driver.js"
NODE_MODULES = ROOT / "tests" / "cgi" / "node_modules" / "playwright-core"
SCREENS = ROOT / "tests" / "artifacts" / "screens"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CGI_PATH = "/cgi-bin/postnook.cgi"


def cgi_built():
    """Is the CGI in this build (CONFIG_CGI)? `postnook help` lists `admin` then."""
    try:
        out = subprocess.run([BIN, "help"], capture_output=True, timeout=30).stdout.decode()
    except OSError:
        return False
    return "\n  admin " in out


def missing_tools(server="lighttpd"):
    """What is missing to run the browser tests ('' when all is there)."""
    if not cgi_built():
        return "this build has no CGI (CONFIG_CGI=n)"
    need = {"lighttpd": "/usr/sbin/lighttpd", "busybox": "/bin/busybox"}
    for what, path in ((server, need.get(server, "")), ("chromium", CHROMIUM), ("node", shutil.which("node") or "")):
        if not path or not os.path.exists(path):
            return "%s not installed (make test-deps)" % what
    if not NODE_MODULES.exists():
        return "playwright-core not installed in tests/cgi (make test-deps)"
    return ""


class WebServer:
    """lighttpd or busybox httpd serving the CGI for one test Server."""

    def __init__(self, srv, kind="lighttpd", user=None):
        self.srv = srv
        self.kind = kind
        self.user = user               # (user, group) lighttpd switches to, or None
        self.dir = srv.dir / ("www-" + kind)
        self.docroot = self.dir / "htdocs"
        self.cgibin = self.docroot / "cgi-bin"
        self.cgibin.mkdir(parents=True, exist_ok=True)
        cgi = self.cgibin / "postnook.cgi"
        if not cgi.exists():
            cgi.symlink_to(BIN)
        self.port = free_port()
        self.errlog = self.dir / "error.log"
        self.proc = None

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def cgi(self):
        return self.base + CGI_PATH

    def start(self):
        env = dict(os.environ, POSTNOOK_CONF=str(self.srv.conf))
        if SAN:
            env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0:log_path=%s" % (self.dir / "asan")
        if self.kind == "lighttpd":
            conf = self.dir / "lighttpd.conf"
            conf.write_text(
                'server.document-root = "%(root)s"\n'
                'server.bind = "127.0.0.1"\n'
                "server.port = %(port)d\n"
                'server.errorlog = "%(err)s"\n'
                'server.modules = ("mod_alias", "mod_rewrite", "mod_setenv", "mod_cgi")\n'
                'cgi.assign = (".cgi" => "")\n'
                'setenv.add-environment = ("POSTNOOK_CONF" => "%(conf)s")\n'
                'url.rewrite-once = ("^/mail/config-v1\\.1\\.xml(\\?.*)?$" => "%(cgi)s/mail/config-v1.1.xml$1",\n'
                '  "^/\\.well-known/autoconfig/mail/config-v1\\.1\\.xml(\\?.*)?$" => "%(cgi)s/mail/config-v1.1.xml$1")\n'
                % {"root": self.docroot, "port": self.port, "err": self.errlog, "conf": self.srv.conf, "cgi": CGI_PATH}
                + ('server.username = "%s"\nserver.groupname = "%s"\n' % self.user if self.user else ""))
            cmd = ["/usr/sbin/lighttpd", "-D", "-f", str(conf)]
        else:
            # Thunderbird's autoconfig path: a placeholder file run by the CGI as its interpreter.
            (self.docroot / "mail").mkdir(exist_ok=True)
            (self.docroot / "mail" / "config-v1.1.xml").write_text("")
            (self.dir / "httpd.conf").write_text("*.xml:%s\n" % (self.cgibin / "postnook.cgi"))
            cmd = ["/bin/busybox", "httpd", "-f", "-vv", "-p", "127.0.0.1:%d" % self.port, "-h", str(self.docroot),
                   "-c", str(self.dir / "httpd.conf")]
        self.log = open(self.dir / "server.out", "ab")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, env=env)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.base + "/", timeout=2)
                return self
            except urllib.error.HTTPError:
                return self            # a 403/404 for / is fine: it answers
            except OSError:
                time.sleep(0.05)
        raise AssertionError("%s did not start; log:\n%s" % (self.kind, (self.dir / "server.out").read_text()))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def sanitizer_reports(self):
        found = []
        for p in list(self.dir.glob("asan*")) + [self.errlog, self.dir / "server.out"]:
            try:
                text = p.read_text(errors="replace")
            except OSError:
                continue
            for pat in ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer"):
                if pat in text:
                    i = text.index(pat)
                    found.append("%s: %s" % (p.name, text[max(0, i - 200):i + 2000]))
                    break
        return found


class Browser:
    """Headless Chromium through playwright-core: one command at a time."""

    def __init__(self):
        env = dict(os.environ, CHROMIUM=CHROMIUM, NODE_PATH=str(NODE_MODULES.parent))
        self.proc = subprocess.Popen(["node", str(DRIVER)], cwd=str(DRIVER.parent), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
        first = self._read()
        assert first["res"] == "ready", first

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError("browser driver died: %s" % self.proc.stderr.read()[-3000:])
        return json.loads(line)

    def do(self, op, **kw):
        kw["op"] = op
        self.proc.stdin.write(json.dumps(kw) + "\n")
        self.proc.stdin.flush()
        ans = self._read()
        if ans["err"]:
            raise AssertionError("browser %s %r failed: %s" % (op, kw, ans["err"][:2000]))
        return ans["res"]

    def goto(self, url):
        return self.do("goto", url=url)

    def fill(self, sel, value):
        return self.do("fill", sel=sel, value=value)

    def click(self, sel):
        return self.do("click", sel=sel)

    def text(self, sel="body"):
        return self.do("text", sel=sel)

    def html(self):
        return self.do("html")

    def value(self, sel):
        return self.do("value", sel=sel)

    def shots(self, name):
        """Screenshots at 1280 and 360 px; also checks nothing is wider than the phone screen."""
        SCREENS.mkdir(parents=True, exist_ok=True)
        for w in (1280, 360):
            self.do("screenshot", width=w, path=str(SCREENS / ("%s-%d.png" % (name, w))))
        width = self.do("scrollwidth", width=360)
        assert width <= 360, "%s is %d px wide on a 360 px screen" % (name, width)

    def close(self):
        try:
            self.do("close")
        except AssertionError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
