"""pytest fixtures for the postnook end-to-end tests.

make_server(**config) -> Server   a fresh data dir + config (not started)
server                            started, users alice and bob, all three listeners
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from postnook_fixture import BIN, SAN, Server  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


def pytest_collection_modifyitems(config, items):
    if not os.path.exists(BIN):
        skip = pytest.mark.skip(reason="postnook binary not built: %s" % BIN)
        for item in items:
            item.add_marker(skip)


@pytest.fixture
def make_server(tmp_path, request):
    servers = []

    def make(users=("alice", "bob"), start=False, base=None, **opts):
        n = len(servers)
        srv = Server(base or (tmp_path / ("srv%d" % n)), **opts)
        servers.append(srv)
        for u in users:
            srv.add_user(u)
        if start:
            srv.start()
        return srv

    yield make

    problems = []
    for srv in servers:
        try:
            srv.stop()
        except AssertionError as e:
            problems.append(str(e))
        if SAN:
            problems += srv.sanitizer_reports()
        # Show the daemon log of a failed test.
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            sys.stderr.write("\n--- postnook log (%s) ---\n%s\n" % (srv.dir, srv.log()[-6000:]))
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def server(make_server):
    return make_server(start=True)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def pytest_sessionfinish(session):
    """A worker's end: drop this run's port registry (ports still in use by
    the other worker's servers stay taken in that worker's own set)."""
    import shutil
    import postnook_fixture
    if postnook_fixture._PORT_DIR:
        shutil.rmtree(postnook_fixture._PORT_DIR, ignore_errors=True)
