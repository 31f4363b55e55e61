"""Built-in checks (issue 13, docs/CHECKS.md): `--check tcp:…`, `http://…` and `process`,
run inside lkd without a process, against real listeners this test starts on 127.0.0.1:
a port that answers and then closes, HTTP servers with the wrong status or body, a port
that accepts and never answers, a real process killed; a two-node hierarchy failing over
on a failing built-in check; bad SPECs refused; `resource test` of a built-in check.

Each listener counts the connections it accepted: that is how a test knows the checks
really ran (no process is started for them, so there is none to count). Timing is only
ever asserted as "before X happened", with generous bounds.
"""

import base64
import http.server
import os
import signal
import socket
import sys
import threading
import time

import pytest
from conftest import free_port, one_line_error, socket_request, wait_for

import cluster as ch


# ------------------------------------------------------------------ listeners


class Listener:
    """A TCP listener on 127.0.0.1 in a thread: accepts and closes (mode "close"),
    accepts and says nothing, keeping the connection (mode "silent")."""

    def __init__(self, mode="close", port=None):
        self.mode = mode
        self.accepted = 0
        self.held = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port or 0))
        self.port = self.sock.getsockname()[1]
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.accepted += 1
            if self.mode == "silent":
                self.held.append(conn)
            else:
                conn.close()

    def close(self):
        self.running = False
        self.thread.join(timeout=5)
        self.sock.close()
        for c in self.held:
            c.close()


class Web:
    """An HTTP server in a thread answering every GET with status and body (changeable)."""

    def __init__(self, status=200, body=b"state=ok\n"):
        self.status, self.body, self.hits = status, body, 0
        web = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                web.hits += 1
                web.paths.append(self.path)
                self.send_response(web.status)
                self.send_header("Content-Length", str(len(web.body)))
                self.end_headers()
                self.wfile.write(web.body)

            def log_message(self, *args):
                pass

        self.paths = []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# ------------------------------------------------------------------ helpers


def numbers(node, tag):
    return [e["number"] for e in node.log_events(tag=tag)]


def details(node, tag, number):
    return [(e.get("message", ""), e.get("detail", "")) for e in node.log_events(tag=tag)
            if e["number"] == number]


def settled(node, tag, state):
    r = node.resource(tag)
    return r is not None and r["state"] == state and r["pending"] in ("", "none")


def plain(node, tag, *extra, check=True):
    """A resource whose restore and remove do nothing (no quickchk script)."""
    ok = node.script("#!/bin/sh\nexit 0\n")
    return node.create(tag, ok, ok, "--watch", "none", *extra, check=check)


def why(node, tag):
    return node.cli("resource", "why", "--tag", tag).stdout


# ------------------------------------------------------------------ tcp


def test_tcp_check_counts_up_then_fails_when_the_port_closes(node):
    lis = Listener()
    try:
        plain(node, "tc", "--check", f"tcp:127.0.0.1:{lis.port}", "--quickchk-interval", "0.2",
              "--local-recovery", "off")
        assert settled(node, "tc", "ISP")
        r = node.resource("tc")
        assert r["settings"]["quickchk-check"] == f"tcp:127.0.0.1:{lis.port}"
        assert r["settings"]["deepchk-check"] == ""
        assert "quickchk" not in r["scripts"], r["scripts"]
        # The checks run: the listener sees them, and nothing fails.
        wait_for(lambda: lis.accepted >= 5, what="five tcp checks")
        assert 1500 not in numbers(node, "tc")
        assert settled(node, "tc", "ISP")
    finally:
        lis.close()
    # The port is closed now: connection refused, a failed check, no backup node: OSF.
    wait_for(lambda: settled(node, "tc", "OSF"), what="tc OSF after the port closed")
    out = why(node, "tc")
    assert "quickchk failed" in out, out
    assert f"tcp 127.0.0.1:{lis.port}: connect: connection refused" in out, out
    assert 1500 in numbers(node, "tc")


def test_resource_test_runs_the_builtin_check(node):
    lis = Listener()
    port = lis.port
    try:
        plain(node, "rt", "--check", f"tcp:127.0.0.1:{port}", "--quickchk-interval", "0")
        before = lis.accepted
        data = node.cli_json("resource", "test", "--tag", "rt", "--action", "quickchk")
        assert data["ok"] is True, data
        assert data["outcome"] == "success", data
        assert f"tcp 127.0.0.1:{port}: connected" in data["output"], data
        # The kernel completes the connection before the listener's thread accepts it:
        # wait for the count, then check the one check made exactly one connection.
        wait_for(lambda: lis.accepted >= before + 1, what="the test's connection accepted")
        assert lis.accepted == before + 1
        p = node.cli("resource", "test", "--tag", "rt", "--action", "quickchk")
        assert p.returncode == 0, p.stderr
    finally:
        lis.close()
    # The port is closed: the verdict says so, exit 1, as a failing script's test.
    p = node.cli("resource", "test", "--tag", "rt", "--action", "quickchk", check=False)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert f"tcp 127.0.0.1:{port}: connect: connection refused" in p.stdout, p.stdout
    assert "--- verdict: FAILURE: exit status 1" in p.stdout, p.stdout
    # A deepchk with neither script nor built-in check is still refused.
    p = node.cli("resource", "test", "--tag", "rt", "--action", "deepchk", check=False)
    assert "has no deepchk script" in one_line_error(p)


# ------------------------------------------------------------------ http


def test_http_check_status_and_body(node):
    web = Web(status=200, body=b"state=ok\n")
    try:
        plain(node, "hs", "--check", f"http://127.0.0.1:{web.port}/health~state=ok",
              "--quickchk-interval", "0.2", "--local-recovery", "off", "--check-failures", "2")
        wait_for(lambda: web.hits >= 4, what="four GETs")
        assert web.paths[0] == "/health"
        assert 1500 not in numbers(node, "hs")
        # The body changes: the check fails (twice in a row: OSF).
        web.body = b"state=starting\n"
        wait_for(lambda: settled(node, "hs", "OSF"), what="hs OSF on the wrong body")
        out = why(node, "hs")
        assert "does not hold 'state=ok'" in out, out
        assert "(2 of 2 in a row)" in out, out

        # The status: 503 where 200 is expected.
        web.body, web.status = b"state=ok\n", 503
        plain(node, "h5", "--check", f"http://127.0.0.1:{web.port}/", "--quickchk-interval",
              "0.2", "--local-recovery", "off")
        wait_for(lambda: settled(node, "h5", "OSF"), what="h5 OSF on status 503")
        out = why(node, "h5")
        assert "status 503, expected 200" in out, out

        # An expected status other than 200 passes.
        plain(node, "h3", "--check", f"http://127.0.0.1:{web.port}/x=503",
              "--quickchk-interval", "0.2", "--local-recovery", "off")
        hits = web.hits
        wait_for(lambda: web.hits >= hits + 4, what="four more GETs")
        assert settled(node, "h3", "ISP")
        assert 1500 not in numbers(node, "h3")
    finally:
        web.close()


def test_http_port_that_accepts_and_never_answers_times_out(node):
    lis = Listener(mode="silent")
    try:
        plain(node, "hang", "--check", f"http://127.0.0.1:{lis.port}/", "--quickchk-interval",
              "0.5", "--quickchk-timeout", "0.4", "--monitor-timeout-action", "fail",
              "--local-recovery", "off")
        wait_for(lambda: settled(node, "hang", "OSF"), what="hang OSF after a timeout")
        wait_for(lambda: lis.accepted >= 1, what="the hanging check's connection accepted")
        evs = node.log_events(tag="hang")
        timeouts = [e for e in evs if e["number"] == 1517]
        assert timeouts, [e["number"] for e in evs]
        assert "did not return in 0.4 seconds" in timeouts[0]["message"], timeouts[0]
        failed = [e for e in evs if e["number"] == 1500]
        assert failed and "timed out after 0.4 s" in failed[0]["message"], failed
        assert "no complete answer within 0.4 s" in why(node, "hang")
    finally:
        lis.close()


def test_timeout_ignored_by_default_warns_only(node):
    lis = Listener(mode="silent")
    try:
        plain(node, "hi", "--check", f"http://127.0.0.1:{lis.port}/", "--quickchk-interval",
              "0.3", "--quickchk-timeout", "0.2")
        wait_for(lambda: numbers(node, "hi").count(1517) >= 2, what="two 1517 events")
        assert 1500 not in numbers(node, "hi")
        assert settled(node, "hi", "ISP")
    finally:
        lis.close()


# ------------------------------------------------------------------ process


def test_process_check_notices_a_killed_process(node):
    pf = node.work / "app.pid"
    m = node.marker()
    restore = node.script(f"""#!/bin/sh
setsid sleep {m} </dev/null >/dev/null 2>&1 &
echo $! > {pf}
""")
    remove = node.script(f"""#!/bin/sh
[ -s {pf} ] && kill $(cat {pf}) 2>/dev/null
rm -f {pf}
exit 0
""")
    node.create("pc", restore, remove, "--recover", restore, "--check", "process", "--pidfile",
                str(pf), "--watch", "none", "--quickchk-interval", "0.2")
    assert settled(node, "pc", "ISP")
    pid = int(pf.read_text())
    time.sleep(1)  # a few checks pass while it runs
    assert 1500 not in numbers(node, "pc")
    data = node.cli_json("resource", "test", "--tag", "pc", "--action", "quickchk")
    assert data["ok"] and f"process {pid} of the pidfile is running" in data["output"], data
    os.kill(pid, signal.SIGKILL)
    # A failed check, then a local recovery (recover starts it again): a new process.
    wait_for(lambda: 1500 in numbers(node, "pc"), what="the failed process check")
    out = why(node, "pc")
    assert f"process {pid} of the pidfile {pf} is not running" in out, out
    wait_for(lambda: 1502 in numbers(node, "pc"), what="pc recovered")
    wait_for(lambda: settled(node, "pc", "ISP") and pf.exists() and int(pf.read_text()) != pid,
             what="pc in service with a new process")
    # Then killed again with the recovery budget spent: the check fails, OSF.
    node.cli("resource", "config", "--tag", "pc", "--max-recoveries", "1")
    pid = int(pf.read_text())
    time.sleep(0.5)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: settled(node, "pc", "OSF"), what="pc OSF once the budget is spent")


def test_process_check_without_pidfile_looks_at_the_cgroup(node):
    assert node.status()["containment"]["on"] is True
    m = node.marker()
    restore = node.script(f"#!/bin/sh\nsetsid sleep {m} </dev/null >/dev/null 2>&1 &\n")
    ok = node.script("#!/bin/sh\nexit 0\n")
    node.create("cg", restore, ok, "--check", "process", "--watch", "none",
                "--quickchk-interval", "0.2", "--local-recovery", "off")
    assert settled(node, "cg", "ISP")
    data = node.cli_json("resource", "test", "--tag", "cg", "--action", "quickchk")
    assert data["ok"] and "the resource's cgroup holds a process" in data["output"], data
    [pid] = [p for p, argv in ch.lkapp.proc_cmdlines().items() if argv == ["sleep", m]]
    time.sleep(0.6)
    assert 1500 not in numbers(node, "cg")
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: settled(node, "cg", "OSF"), what="cg OSF once its cgroup is empty")
    assert "process: no process left in the resource's cgroup" in why(node, "cg")


# ------------------------------------------------------------------ refusals


def test_bad_specs_refused_one_line_nothing_changed(node):
    ok = node.script("#!/bin/sh\nexit 0\n")
    before = node.snapshot()
    for spec, words in (("tcp:localhost:80", "no name lookup"),
                        ("tcp:127.0.0.1:0", "port must be a number from 1 to 65535"),
                        ("http://127.0.0.1:80", "missing the path"),
                        ("https://127.0.0.1/", "no TLS"),
                        ("http://127.0.0.1/=700", "status must be from 100 to 599"),
                        ("proc", "expected tcp:HOST:PORT")):
        p = node.create("bad", ok, ok, "--check", spec, check=False)
        line = one_line_error(p)
        assert words in line and "quickchk-check" in line, line
        p = node.create("bad", ok, ok, "--deepchk-check", spec, check=False)
        assert "deepchk-check" in one_line_error(p)
    p = node.create("bad", ok, ok, "--check", "http://127.0.0.1/\x01", check=False)
    assert "control character" in one_line_error(p)
    assert p.returncode == 2
    assert node.snapshot() == before
    # lkd refuses them too (lkcli checks first): a request straight on the socket.
    b64 = base64.b64encode(b"#!/bin/sh\nexit 0\n").decode()
    for key, spec in (("quickchk-check", "tcp:localhost:80"),
                      ("deepchk-check", "http://127.0.0.1/a b"),
                      ("quickchk-check", "http://127.0.0.1/\r\nX-Evil: 1")):
        with pytest.raises(AssertionError) as e:
            socket_request(node, "resource.create", {
                "type": "gen", "tag": "bad", "scripts": {"restore": b64, "remove": b64},
                "settings": {key: spec}})
        assert f"{key}: invalid check" in str(e.value), str(e.value)
    assert node.snapshot() == before

    lis = Listener()
    try:
        node.create("good", ok, ok, "--check", f"tcp:127.0.0.1:{lis.port}")
        settings = node.resource("good")["settings"]
        before = node.snapshot()
        p = node.cli("resource", "config", "--tag", "good", "--check", "tcp:nowhere:1",
                     "--quickchk-interval", "3", check=False)
        assert "no name lookup" in one_line_error(p)
        assert node.resource("good")["settings"] == settings
        assert node.snapshot() == before
        # config changes it, and "" removes it.
        node.cli("resource", "config", "--tag", "good", "--deepchk-check", "process")
        assert node.resource("good")["settings"]["deepchk-check"] == "process"
        node.cli("resource", "config", "--tag", "good", "--check", "")
        assert node.resource("good")["settings"]["quickchk-check"] == ""
    finally:
        lis.close()


def test_process_check_needs_a_pidfile_without_containment(make_node):
    node = make_node("n1")
    node.start()
    node.stop()
    conf = node.root / "etc" / "lk.conf"
    conf.write_text(conf.read_text().replace("[node]\n", "[node]\ncontainment = off\n", 1))
    node.start()
    ok = node.script("#!/bin/sh\nexit 0\n")
    before = node.snapshot()
    p = node.create("np", ok, ok, "--check", "process", check=False)
    line = one_line_error(p)
    assert "the process check needs --pidfile or containment" in line, line
    assert "off in lk.conf" in line, line
    assert node.snapshot() == before
    pf = node.work / "np.pid"
    node.create("np", ok, ok, "--deepchk-check", "process", "--pidfile", str(pf), "--watch",
                "pidfile")
    before = node.snapshot()
    p = node.cli("resource", "config", "--tag", "np", "--pidfile", "", "--watch", "none",
                 check=False)
    assert "the process check needs --pidfile" in one_line_error(p)
    assert node.snapshot() == before
    assert node.resource("np")["settings"]["pidfile"] == str(pf)


def test_builtin_check_survives_a_restart_and_probes_at_start(node):
    lis = Listener()
    restores = node.work / "restores"
    restore = node.script(f"#!/bin/sh\necho x >> {restores}\n")
    ok = node.script("#!/bin/sh\nexit 0\n")
    try:
        node.create("rs", restore, ok, "--check", f"tcp:127.0.0.1:{lis.port}",
                    "--quickchk-interval", "0.3", "--watch", "none")
        assert restores.read_text().count("x") == 1
        node.kill9()  # lkd dies; the resource was in service (AUTORES_ISP)
        seen = lis.accepted
        node.start()
        # The start-up probe is the built-in check (there is no quickchk script): it
        # connects, so the resource is in service again without a second restore.
        wait_for(lambda: settled(node, "rs", "ISP"), what="rs ISP after the restart")
        wait_for(lambda: lis.accepted > seen, what="a check after the restart")
        assert restores.read_text().count("x") == 1, "restore ran again: no probe"
        r = node.resource("rs")
        assert r["settings"]["quickchk-check"] == f"tcp:127.0.0.1:{lis.port}"
    finally:
        lis.close()


# ------------------------------------------------------------------ failover


LISTENER = r"""
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
while True:
    c, _ = s.accept()
    c.close()
"""


def test_failover_of_a_hierarchy_on_a_failing_builtin_check(cluster):
    n1, n2 = cluster.build(2)
    port = free_port()
    prog = cluster.work / "listener.py"
    prog.write_text(LISTENER)
    pf = '"$LKROOT/web.pid"'
    journal = cluster.journal
    restore = ch.lkapp.write_script(cluster.work / "web-restore", f"""#!/bin/bash
echo "restore web $LK_NODE" >> {journal}
setsid {sys.executable} {prog} {port} </dev/null >/dev/null 2>&1 &
echo $! > {pf}
for i in $(seq 200); do
    {sys.executable} -c 'import socket,sys; socket.create_connection(("127.0.0.1", {port}), 1)' \
        2>/dev/null && exit 0
    sleep 0.05
done
echo "web: the listener did not come up"
exit 1
""")
    remove = ch.lkapp.write_script(cluster.work / "web-remove", f"""#!/bin/bash
echo "remove web $LK_NODE" >> {journal}
[ -s {pf} ] && kill $(cat {pf}) 2>/dev/null
rm -f {pf}
exit 0
""")
    base = cluster.app("base")
    n1.create("base", base.restore, base.remove, "--quickchk", base.quickchk)
    n1.create("web", restore, remove, "--check", f"tcp:127.0.0.1:{port}",
              "--quickchk-interval", "0.3", "--local-recovery", "off", "--watch", "none")
    n1.cli("dependency", "create", "--parent", "web", "--child", "base")
    n1.cli("resource", "extend", "--tag", "web", "--node", "node2", "--priority", "2")
    for t in ("web", "base"):
        ch.wait_eq(lambda t=t: n2.state(t), "OSU", what=f"{t} extended to node2")
    assert n2.resource("web")["settings"]["quickchk-check"] == f"tcp:127.0.0.1:{port}"

    # The listener dies on node1 (nothing else notices: watch none): the built-in check
    # fails, no local recovery, the hierarchy moves to node2.
    pid = int((n1.root / "web.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: base.runs_only_on(n2), timeout=60, what="base failed over to node2")
    ch.wait_eq(lambda: n2.state("web"), "ISP", timeout=60, what="web ISP on node2")
    ch.wait_eq(lambda: n1.state("web"), "OSF", timeout=60, what="web OSF on node1")
    assert n1.has_event(1500), n1.log_text()
    assert (n2.root / "web.pid").exists()
    # node2's own checks pass against its listener.
    time.sleep(1)
    assert not n2.has_event(1500), n2.log_text()
