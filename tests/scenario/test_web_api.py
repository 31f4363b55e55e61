"""The web console's HTTP API (lkweb, docs/WEB.md) against real daemons: every endpoint and
every role, the tokens (create, list, revoke: a revoked token is refused at once and its
sessions end), login, session and logout, CSRF, bad requests, slow and many clients (the
node's heartbeats unaffected), lkd frozen (504) or gone (503), the events merged across
both nodes and filtered, a switchover through the API, lkstart --web and lkstop, TLS.

The HTTP client is the standard library's (http.client, socket, ssl) only."""

import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import threading
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families
from conftest import BUILD, free_port, one_line_error  # noqa: F401
from cluster import holds, wait_eq, wait_for

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; connect-src 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}
SANITIZER_WORDS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer")
LKD_TIMEOUT_S = 2


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # {lower-case name: value}; Set-Cookie joined by "\n"
        self.body = body

    @property
    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


class Web:
    """One lkweb beside a node's lkd, started as an operator would (it detaches)."""

    def __init__(self, node, ui, tls=False, rate=1000):
        self.node = node
        # lkweb's request rates (--rate): high here, where the tests are not about them
        # (test_web_limits.py is, with the default rates).
        self.rate = rate
        self.ui = ui
        self.port = free_port()
        self.host = "127.0.0.1"
        self.tls = tls
        self.pid = None

    def start(self, extra=()):
        argv = [str(BUILD / "lkweb"), "--root", str(self.node.root), "--listen",
                f"{self.host}:{self.port}", "--ui", str(self.ui), "--lkd-timeout",
                str(LKD_TIMEOUT_S)] + (["--rate", str(self.rate)] if self.rate else [])
        argv += list(extra)
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        scheme = "https" if self.tls else "http"
        assert f"lkweb listening on {scheme}://{self.host}:{self.port}/" in p.stdout, p.stdout
        self.pid = int((self.node.root / "run" / "lkweb.pid").read_text().split()[0])
        return p

    def alive(self):
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
        except (OSError, IndexError):
            return False

    def stop(self):
        """SIGTERM: lkweb stops cleanly (its pidfile removed, "stopped" in its log)."""
        if self.pid and self.alive():
            os.kill(self.pid, signal.SIGTERM)
            wait_for(lambda: not self.alive(), timeout=30, what="lkweb to exit on SIGTERM")
            assert not (self.node.root / "run" / "lkweb.pid").exists()
            assert "lkweb: stopped" in self.log()
        self.pid = None

    def log(self):
        try:
            return (self.node.root / "log" / "lkweb.out").read_text(errors="replace")
        except OSError:
            return ""

    def sanitizer_findings(self):
        text = self.log()
        return [w for w in SANITIZER_WORDS if w in text]

    def conn(self, source="127.0.0.2", timeout=60):
        src = (source, 0) if source else None
        if self.tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout,
                                               source_address=src, context=ctx)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout,
                                          source_address=src)

    def request(self, method, path, body=None, token=None, headers=None, raw=None,
                source="127.0.0.2", timeout=60):
        """One request on a new connection (from source: the tests' own address, so that
        the per-address limit other tests exhaust from 127.0.0.1 does not apply)."""
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        c = self.conn(source, timeout)
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            headers = {}
            for k, v in r.getheaders():
                k = k.lower()
                headers[k] = headers[k] + "\n" + v if k in headers else v
            return Reply(r.status, headers, r.read().decode(errors="replace"))
        finally:
            c.close()

    def get(self, path, token=None, **kw):
        return self.request("GET", path, token=token, **kw)

    def post(self, path, body=None, token=None, **kw):
        return self.request("POST", path, body=body, token=token, **kw)


def assert_secure(r):
    for k, v in SECURITY_HEADERS.items():
        assert r.headers.get(k) == v, (k, r.headers)


def assert_error(r, status, code=None, text=None):
    assert r.status == status, r
    assert r.headers.get("content-type") == "application/json", r.headers
    assert_secure(r)
    j = r.json
    assert set(j) == {"error", "code"}, j
    assert isinstance(j["error"], str) and j["error"] and "\n" not in j["error"], j
    if code is not None:
        assert j["code"] == code, j
    if text is not None:
        assert text in j["error"], j


def make_ui(tmp_path):
    ui = tmp_path / "ui"
    ui.mkdir()
    (ui / "index.html").write_text("<!doctype html><title>OpenKeeper</title>\n")
    (ui / "app.js").write_text("console.log('ok');\n")
    (ui / "style.css").write_text("body{}\n")
    (ui / ".hidden").write_text("secret\n")
    (tmp_path / "outside.txt").write_text("outside\n")
    os.symlink(tmp_path / "outside.txt", ui / "link.js")
    (ui / "sub").mkdir()
    (ui / "sub" / "inner.css").write_text("p{}\n")
    os.symlink(tmp_path, ui / "linkdir")
    return ui


def token(node, role, name=None):
    args = ["web", "token", "create", "--role", role] + (["--name", name] if name else [])
    return node.cli_json(*args)


@pytest.fixture
def web_of(tmp_path):
    """web_of(node) -> a started Web; every one is stopped (SIGTERM) and checked for
    sanitizer findings at teardown."""
    made = []
    ui = make_ui(tmp_path)

    def make(node, tls=False, start=True, rate=1000):
        w = Web(node, ui, tls=tls, rate=rate)
        made.append(w)
        if start:
            w.start()
        return w

    yield make
    problems = []
    for w in made:
        if w.pid and w.alive():
            w.stop()
        problems += [f"lkweb of {w.node.name}: {x}\n{w.log()[-4000:]}"
                     for x in w.sanitizer_findings()]
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def extended_app(cluster, n1):
    app = cluster.app("app1")
    n1.create("app1", app.restore, app.remove, "--quickchk", app.quickchk)
    wait_for(lambda: app.runs_only_on(n1), what="app1 on node1")
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "10")
    return app


# ---------------------------------------------------------------------- endpoints and roles

def test_every_endpoint_every_role_and_a_switchover(cluster, web_of):
    n1, n2 = cluster.build(2)
    app = extended_app(cluster, n1)
    web = web_of(n1)
    admin, oper, guest = token(n1, "admin"), token(n1, "operator", "ops"), token(n1, "guest")
    assert admin["token"].startswith("lk_") and len(admin["token"]) == 46
    assert (oper["role"], oper["name"], guest["name"]) == ("operator", "ops", "guest")

    # No token, a bad token, a token of another form: 401, never data.
    for t in (None, "lk_" + "A" * 43, "nonsense", admin["token"] + "x"):
        assert_error(web.get("/api/v1/status", token=t), 401, 4)
    assert_error(web.get("/api/v1/status", headers={"Authorization": "Basic eDp5"}), 401, 4)

    # Every read, as a guest: lkd's data under "data".
    g = guest["token"]
    reads = {
        "/api/v1/status": lambda d: d["node"] == "node1" and
        any(r["tag"] == "app1" for r in d["resources"]),
        "/api/v1/nodes": lambda d: {x["name"] for x in d["nodes"]} == {"node1", "node2"},
        "/api/v1/commpaths": lambda d: "node2" in json.dumps(d),
        "/api/v1/resources": lambda d: [r["tag"] for r in d["resources"]] == ["app1"],
        "/api/v1/resources/app1": lambda d: d["resources"][0]["tag"] == "app1",
        "/api/v1/resources/app1/why": lambda d: isinstance(d, dict),
        "/api/v1/dependencies": lambda d: isinstance(d, dict),
        "/api/v1/cluster/config": lambda d: d["settings"]["heartbeat-interval-ms"] == "200",
        "/api/v1/events": lambda d: len(d["events"]) > 0,
        "/api/v1/session": lambda d: d == {"role": "guest", "name": "guest", "csrf": "",
                                           "node": "node1"},
    }
    for path, ok in reads.items():
        r = web.get(path, token=g)
        assert r.status == 200, (path, r)
        assert r.headers["content-type"] == "application/json"
        assert_secure(r)
        assert set(r.json) == {"data"}, (path, r)
        assert ok(r.json["data"]), (path, r.json)
    # HEAD of a read: its headers, no body.
    r = web.request("HEAD", "/api/v1/status", token=g)
    assert r.status == 200 and r.body == "", r

    # A guest cannot act: 403 from lkd's role check (the request runs "as" guest).
    for verb, body in (("restore", {}), ("remove", {}), ("switchover", {"node": "node2"}),
                       ("reset", {}), ("monitor", {"on": False})):
        assert_error(web.post(f"/api/v1/resources/app1/{verb}", body, token=g), 403, 4,
                     "permission denied")
    assert app.runs_only_on(n1)

    # An operator resets and switches over, but monitoring is the admin's (as in lkd).
    o = oper["token"]
    r = web.post("/api/v1/resources/app1/reset", {}, token=o)
    assert r.status == 200 and set(r.json) == {"data", "progress"}, r
    assert_error(web.post("/api/v1/resources/app1/monitor", {"on": False}, token=o), 403, 4)

    r = web.post("/api/v1/resources/app1/switchover", {"node": "node2"}, token=o)
    assert r.status == 200, r
    assert any("node2: app1 ISP" in line for line in r.json["progress"]), r.json
    assert app.runs_only_on(n2), app.nodes()
    for n in (n1, n2):
        wait_eq(lambda n=n: n.res_nodes("app1"), {"node1": "OSU", "node2": "ISP"},
                what=f"{n.name}'s view of app1 after the API's switchover")
    # The hierarchy moved: the API says so too.
    nodes = {x["node"]: x["state"]
             for x in web.get("/api/v1/resources/app1", token=g).json["data"]["resources"][0]
             ["nodes"]}
    assert nodes == {"node1": "OSU", "node2": "ISP"}, nodes
    # And back with restore {"node"}.
    r = web.post("/api/v1/resources/app1/restore", {"node": "node1"}, token=o)
    assert r.status == 200, r
    assert any("node1: app1 ISP" in line for line in r.json["progress"]), r.json
    wait_for(lambda: app.runs_only_on(n1), what=f"app1 on node1 only after {r.json}")

    # The admin turns monitoring off and on.
    a = admin["token"]
    r = web.post("/api/v1/resources/app1/monitor", {"on": False}, token=a)
    assert r.status == 200, r
    wait_for(lambda: n1.resource("app1")["settings"]["monitor"] is False, what="monitor off")
    assert n1.state("app1") == "ISU"
    r = web.post("/api/v1/resources/app1/monitor", {"on": True}, token=a)
    assert r.status == 200, r
    wait_for(lambda: n1.resource("app1")["settings"]["monitor"] is True, what="monitor on")
    wait_for(lambda: n1.state("app1") == "ISP", what="app1 ISP again")

    # A failed action is a 409 with lkd's message: switching over to a node that does not
    # exist.
    assert_error(web.post("/api/v1/resources/app1/switchover", {"node": "node9"}, token=o),
                 409, 1)

    # The events of both nodes, merged; each filter keeps only what it names.
    ev = web.get("/api/v1/events?limit=1000", token=g).json["data"]
    assert {e["node"] for e in ev["events"]} == {"node1", "node2"}, ev["events"][-5:]
    times = [e["time_ms"] for e in ev["events"]]
    assert times == sorted(times), "events are not merged by time, newest last"
    for query, check in (("node=node2", lambda e: e["node"] == "node2"),
                         ("tag=app1", lambda e: e["tag"] == "app1"),
                         ("severity=INFO", lambda e: e["severity"] == "INFO"),
                         ("number=1625", lambda e: e["number"] == 1625)):
        got = web.get(f"/api/v1/events?limit=1000&{query}", token=g).json["data"]["events"]
        assert got and all(check(e) for e in got), (query, got[:3])
    both = web.get("/api/v1/events?limit=1000&node=node1&tag=app1", token=g).json["data"]
    assert both["events"] and all(e["node"] == "node1" and e["tag"] == "app1"
                                  for e in both["events"])
    # Paging: the newest 3, then the 3 before them, with no overlap.
    p1 = web.get("/api/v1/events?limit=3", token=g).json["data"]
    assert len(p1["events"]) == 3 and p1["events"] == ev["events"][-3:]
    assert p1["next_before"] == p1["events"][0]["time_ms"]
    p2 = web.get(f"/api/v1/events?limit=3&before={p1['next_before']}", token=g).json["data"]
    assert len(p2["events"]) == 3
    assert all(e["time_ms"] < p1["next_before"] for e in p2["events"])
    for q in ("limit=0", "limit=1001", "limit=x", "severity=LOUD", "node=-x", "tag=a%20b",
              "number=-1", "before=soon", "colour=red"):
        assert_error(web.get(f"/api/v1/events?{q}", token=g), 400, 2)

    # Bad requests: each a JSON error with the right status, nothing changed.
    url = "/api/v1/resources/app1/restore"
    assert_error(web.post(url, raw=b'{"node": ', token=o), 400, 2, "malformed JSON")
    assert_error(web.post(url, raw=b'[1, 2]', token=o), 400, 2)
    assert_error(web.post(url, raw=b'{"node":"node2","node":"node1"}', token=o), 400, 2)
    assert_error(web.post(url, {"node": 2}, token=o), 400, 2, "must be a string")
    assert_error(web.post(url, {"node": "../x"}, token=o), 400, 2)
    assert_error(web.post(url, {"nodes": "node2"}, token=o), 400, 2, "unknown field")
    assert_error(web.post("/api/v1/resources/app1/remove", {"hierarchy": "yes"}, token=o),
                 400, 2)
    assert_error(web.post("/api/v1/resources/app1/monitor", {"on": 1}, token=a), 400, 2)
    assert_error(web.post("/api/v1/resources/app1/monitor", {}, token=a), 400, 2)
    assert_error(web.post("/api/v1/resources/app1/switchover", {}, token=o), 400, 2)
    assert_error(web.post(url, raw=b"x" * (64 * 1024 + 1), token=o), 413, 2)
    # A chunked body (no Content-Length) over the bound: 413 too.
    c = web.conn()
    c.putrequest("POST", url)
    c.putheader("Authorization", f"Bearer {o}")
    c.putheader("Transfer-Encoding", "chunked")
    c.endheaders()
    for _ in range(20):
        c.send(b"1000\r\n" + b"y" * 4096 + b"\r\n")
    c.send(b"0\r\n\r\n")
    resp = c.getresponse()
    assert resp.status == 413, resp.status
    c.close()
    # Headers over the connection's memory: libmicrohttpd's own 431, and on it goes.
    with socket.create_connection((web.host, web.port), timeout=30,
                                  source_address=("127.0.0.2", 0)) as s:
        s.sendall(b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 +
                  b"\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 431 ")
    assert web.get("/api/v1/status", token=g).status == 200
    assert_error(web.get("/api/v1/resources/nope", token=g), 404, 1, "no resource")
    assert_error(web.get("/api/v1/resources/nope/why", token=g), 404, 1)
    assert_error(web.post("/api/v1/resources/nope/reset", {}, token=o), 404, 1)
    for bad in ("-x", "a%20b", ".hidden", "x" * 200, "%C3%A9"):
        assert_error(web.get(f"/api/v1/resources/{bad}", token=g), 400, 2)
    for path in ("/api/v1/nothing", "/api/v2/status", "/api/v1/resources/app1/explode",
                 "/api/v1/resources/app1/why/more", "/api/v1/resources/"):
        assert_error(web.get(path, token=g), 404, 2)
    assert_error(web.get(url, token=o), 405, 2)
    assert_error(web.post("/api/v1/status", {}, token=g), 405, 2)
    assert_error(web.request("DELETE", "/api/v1/resources/app1", token=a), 405, 2)
    assert app.runs_only_on(n1), app.nodes()

    # /metrics: a token is needed (metrics-auth defaults to on); then lkd's exposition
    # text, parsed as Prometheus parses it: this node's own figures.
    assert_error(web.get("/metrics"), 401, 4)
    r = web.get("/metrics", token=g)
    assert r.status == 200, r
    assert r.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples = {(smp.name, frozenset(smp.labels.items())): smp.value
               for fam in text_string_to_metric_families(r.body) for smp in fam.samples}
    assert samples[("openkeeper_node_up", frozenset({("node", n1.name)}))] == 1, samples
    assert samples[("openkeeper_resource_state",
                    frozenset({("tag", "app1"), ("state", "ISP")}))] == 1, samples

    # The dashboard's files: right types, nothing outside the folder, no hidden file, no
    # link followed.
    r = web.get("/")
    assert r.status == 200 and "<title>OpenKeeper</title>" in r.body, r
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert_secure(r)
    assert web.get("/ui/app.js").headers["content-type"] == "text/javascript; charset=utf-8"
    assert web.get("/ui/style.css").headers["content-type"] == "text/css; charset=utf-8"
    assert web.get("/ui/sub/inner.css").body == "p{}\n"
    for path in ("/ui/../outside.txt", "/ui/%2e%2e/outside.txt", "/ui/.hidden",
                 "/ui/link.js", "/ui/linkdir/outside.txt", "/ui/none.js", "/ui/", "/etc/passwd", "/ui//app.js"):
        assert_error(web.get(path), 404, 2)
    assert_error(web.post("/", {}), 405, 2)

    # Tokens: listed without secrets; a revoked token is refused at once.
    listed = n1.cli_json("web", "token", "list")
    assert {t["id"] for t in listed} == {admin["id"], oper["id"], guest["id"]}
    assert all("token" not in t and "hash" not in t for t in listed), listed
    text = (n1.root / "etc" / "web-tokens").read_text()
    assert os.stat(n1.root / "etc" / "web-tokens").st_mode & 0o777 == 0o600
    assert all(t["token"] not in text for t in (admin, oper, guest))
    n1.cli("web", "token", "revoke", "--id", oper["id"])
    assert_error(web.get("/api/v1/status", token=o), 401, 4)
    assert_error(web.post("/api/v1/resources/app1/reset", {}, token=o), 401, 4)
    assert web.get("/api/v1/status", token=g).status == 200
    # Token management is lkd's and the admin's: a guest on the socket is refused, bad
    # input is a one-line usage error.
    p = n1.cli("web", "token", "create", "--role", "root", check=False)
    assert p.returncode == 2 and "invalid role" in one_line_error(p)
    p = n1.cli("web", "token", "revoke", "--id", oper["id"], check=False)
    assert p.returncode == 1 and "no web token" in one_line_error(p)
    p = n1.cli("web", "token", "create", "--role", "guest", "--name", "a b", check=False)
    assert p.returncode == 2, p.stderr
    # A token of node1 is not node2's: tokens are per node.
    web2 = web_of(n2)
    assert_error(web2.get("/api/v1/status", token=g), 401, 4)


# ---------------------------------------------------------------------- sessions and CSRF

def login(web, tok, **kw):
    r = web.post("/api/v1/login", {"token": tok}, **kw)
    assert r.status == 200, r
    cookie = r.headers["set-cookie"]
    sid = cookie.split(";")[0].split("=", 1)[1]
    return r, cookie, f"lk_session={sid}"


def read_sse(sock_file, until, timeout=40):
    """Reads SSE blocks from the stream until until(event, data) is true; returns them."""
    seen = []
    deadline = time.monotonic() + timeout
    event, data = None, []
    while time.monotonic() < deadline:
        line = sock_file.readline()
        if not line:
            raise AssertionError(f"stream ended; seen {seen[-5:]}")
        line = line.decode().rstrip("\r\n")
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
        elif line == "" and event:
            seen.append((event, "\n".join(data)))
            if until(event, "\n".join(data)):
                return seen
            event, data = None, []
    raise AssertionError(f"timed out; seen {seen[-5:]}")


def open_stream(web, headers):
    s = socket.create_connection((web.host, web.port), timeout=60,
                                 source_address=("127.0.0.2", 0))
    h = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    s.sendall(f"GET /api/v1/stream HTTP/1.1\r\nHost: {web.host}:{web.port}\r\n"
              f"Connection: close\r\n{h}\r\n".encode())
    f = s.makefile("rb")
    status = f.readline().decode()
    assert " 200 " in status, status + f.read(500).decode(errors="replace")
    while f.readline() not in (b"\r\n", b""):
        pass  # headers
    return s, f


def test_sessions_csrf_stream_and_revocation(cluster, web_of):
    n1, n2 = cluster.build(2)
    app = extended_app(cluster, n1)
    web = web_of(n1)
    oper, guest = token(n1, "operator", "alice"), token(n1, "guest")
    host = f"{web.host}:{web.port}"

    assert_error(web.post("/api/v1/login", {"token": "lk_" + "B" * 43}), 401, 4)
    assert_error(web.post("/api/v1/login", {"token": 5}), 400, 2)
    assert_error(web.post("/api/v1/login", raw=b"{"), 400, 2)
    assert_error(web.get("/api/v1/login"), 405, 2)
    assert_error(web.post("/api/v1/login", {"token": oper["token"]},
                          headers={"Origin": "http://evil.example"}), 403, 4, "Origin")
    r, set_cookie, cookie = login(web, oper["token"], headers={"Origin": f"http://{host}"})
    assert_secure(r)
    flags = [f.strip() for f in set_cookie.split(";")[1:]]
    assert sorted(flags) == ["HttpOnly", "Path=/", "SameSite=Strict"], set_cookie
    csrf = r.json["data"]["csrf"]
    assert r.json["data"]["role"] == "operator" and r.json["data"]["name"] == "alice"
    assert len(csrf) >= 32

    s = web.get("/api/v1/session", headers={"Cookie": cookie})
    assert s.status == 200 and s.json["data"] == {"role": "operator", "name": "alice",
                                                  "csrf": csrf, "node": "node1"}, s
    assert web.get("/api/v1/status", headers={"Cookie": cookie}).status == 200
    assert_error(web.get("/api/v1/session", headers={"Cookie": "lk_session=forged"}), 401, 4)

    # CSRF: a cookie POST needs the session's X-CSRF-Token, and a present Origin must be
    # this server's.
    url = "/api/v1/resources/app1/reset"
    assert_error(web.post(url, {}, headers={"Cookie": cookie}), 403, 4, "X-CSRF-Token")
    assert_error(web.post(url, {}, headers={"Cookie": cookie, "X-CSRF-Token": ("y" if csrf[0] == "x" else "x") + csrf[1:]}),
                 403, 4)
    assert_error(web.post(url, {}, headers={"Cookie": cookie, "X-CSRF-Token": csrf,
                                            "Origin": "http://evil.example"}), 403, 4)
    assert_error(web.post(url, {}, headers={"Cookie": cookie, "X-CSRF-Token": csrf,
                                            "Origin": f"https://{host}"}), 403, 4)
    assert_error(web.post(url, {}, token=guest["token"],
                          headers={"Origin": "http://evil.example"}), 403, 4)
    r = web.post(url, {}, headers={"Cookie": cookie, "X-CSRF-Token": csrf,
                                   "Origin": f"http://{host}"})
    assert r.status == 200, r
    r = web.post(url, {}, headers={"Cookie": cookie, "X-CSRF-Token": csrf})
    assert r.status == 200, r

    # The live stream, on the session: an event of either node's lkd on node1's stream
    # (node1's own here), then "changed".
    sock, f = open_stream(web, {"Cookie": cookie})
    n1.lk_err("-c", "INFO", "-n", "1234", "-p", "webtest", "hello from the test", check=True)
    seen = read_sse(f, lambda e, d: e == "lkevent" and "hello from the test" in d)
    ev = json.loads(seen[-1][1])
    assert ev["number"] == 1234 and ev["process"] == "webtest" and ev["node"] == "node1", ev
    read_sse(f, lambda e, d: e == "changed")

    # A Bearer stream too, for a guest.
    gsock, gf = open_stream(web, {"Authorization": f"Bearer {guest['token']}"})
    n1.lk_err("-c", "WARNING", "-n", "1235", "-p", "webtest", "second event", check=True)
    read_sse(gf, lambda e, d: e == "lkevent" and "second event" in d)
    gsock.close()

    # Revoking the token ends its session at the next request, and its stream at the next
    # ping (15 s).
    n1.cli("web", "token", "revoke", "--id", oper["id"])
    assert_error(web.get("/api/v1/session", headers={"Cookie": cookie}), 401, 4)
    assert_error(web.post(url, {}, headers={"Cookie": cookie, "X-CSRF-Token": csrf}), 401, 4)
    sock.settimeout(45)
    deadline = time.monotonic() + 45
    ended = False
    while time.monotonic() < deadline:
        if f.readline() in (b"", b"0\r\n"):  # closed, or the last chunk
            ended = True
            break
    assert ended, "the revoked token's stream did not end"
    sock.close()

    # Logout ends a session; its cookie no longer works.
    r, _, cookie2 = login(web, guest["token"])
    csrf2 = r.json["data"]["csrf"]
    assert_error(web.post("/api/v1/logout", {}, headers={"Cookie": cookie2}), 403, 4)
    r = web.post("/api/v1/logout", {}, headers={"Cookie": cookie2, "X-CSRF-Token": csrf2})
    assert r.status == 200 and "Max-Age=0" in r.headers["set-cookie"], r
    assert_error(web.get("/api/v1/session", headers={"Cookie": cookie2}), 401, 4)
    assert app.runs_only_on(n1)


# ---------------------------------------------------------------------- slow and many clients

def test_slow_and_many_clients_do_not_stall_the_api_or_the_heartbeats(cluster, web_of):
    n1, n2 = cluster.build(2)
    web = web_of(n1)
    g = token(n1, "guest")["token"]
    assert web.get("/api/v1/status", token=g).status == 200

    # Slow clients: half a request header each, then silence.
    slow = []
    for _ in range(20):
        s = socket.create_connection((web.host, web.port), timeout=10,
                                     source_address=("127.0.0.3", 0))
        s.sendall(b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\nAuthor")
        slow.append(s)
    # Others are served meanwhile, and node2 keeps seeing node1 alive for many heartbeat
    # timeouts (200 ms x 3).
    t_end = time.monotonic() + 4
    while time.monotonic() < t_end:
        r = web.get("/api/v1/nodes", token=g, timeout=20)
        assert r.status == 200, r
        assert n2.peer_state("node1") == "ALIVE"
    holds(lambda: n2.peer_state("node1") == "ALIVE", 2, what="node1 ALIVE on node2")

    # A flood of requests with well-formed tokens that are not valid (lkd checks each):
    # 401s (or 503 when lkweb's lkd calls are all taken), while node1 stays ALIVE.
    statuses = []

    def flood(i):
        bad = "lk_" + ("%043d" % i)
        for _ in range(40):
            statuses.append(web.get("/api/v1/status", token=bad,
                                    source=f"127.0.1.{i + 1}", timeout=30).status)

    threads = [threading.Thread(target=flood, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(statuses) == 320 and set(statuses) <= {401, 503}, sorted(set(statuses))
    assert n2.peer_state("node1") == "ALIVE"
    assert web.get("/api/v1/status", token=g).status == 200

    # Many clients: 500 idle connections from one address. Those past the limits are
    # closed at once (never left hanging), the API still answers from another address.
    idle, refused = [], 0
    for _ in range(500):
        try:
            s = socket.create_connection((web.host, web.port), timeout=10,
                                         source_address=("127.0.0.1", 0))
            idle.append(s)
        except OSError:
            refused += 1

    def closed(s):
        s.settimeout(0.01)
        try:
            return s.recv(1) == b""
        except (ConnectionResetError, BrokenPipeError):
            return True
        except (socket.timeout, BlockingIOError):
            return False

    def count_closed():
        return refused + sum(1 for s in idle if closed(s))

    wait_for(lambda: count_closed() >= 400, timeout=30,
             what="connections past the limits to be closed")
    r = web.get("/api/v1/status", token=g, timeout=20)
    assert r.status == 200, r
    assert n2.peer_state("node1") == "ALIVE" and n1.peer_state("node2") == "ALIVE"
    for s in slow + idle:
        s.close()
    # Still serving once they are gone.
    assert web.get("/api/v1/status", token=g).status == 200
    assert not any(e["message"].startswith("node node1") and "DEAD" in e["message"]
                   for e in n2.events()), "node2 saw node1 DEAD"


# ---------------------------------------------------------------------- lkd frozen or gone

def test_lkd_frozen_gives_504_gone_gives_503_and_lkweb_stops_cleanly(cluster, web_of):
    n1, n2 = cluster.build(2)
    web = web_of(n1)
    g = token(n1, "guest")["token"]
    assert web.get("/api/v1/status", token=g).status == 200

    with cluster.fencing_window():
        n1.sigstop()
        try:
            t0 = time.monotonic()
            r = web.get("/api/v1/status", token=g, timeout=60)
            assert_error(r, 504, 3, "did not answer in time")
            assert time.monotonic() - t0 < 30
            # The static files do not need lkd.
            assert web.get("/").status == 200
        finally:
            n1.sigcont()
    wait_for(lambda: web.get("/api/v1/status", token=g).status == 200, timeout=30,
             what="the API to answer again once lkd runs")

    pid = n1.daemon_pid()
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not os.path.exists(f"/proc/{pid}/stat") or
             open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] in "ZX",
             what="lkd to die")
    assert_error(web.get("/api/v1/status", token=g), 503, 3, "not reachable")
    assert_error(web.post("/api/v1/login", {"token": g}), 503, 3)
    assert web.alive()
    web.stop()


# ---------------------------------------------------------------------- lkstart --web, lkstop

def test_lkstart_web_starts_it_lkstop_stops_it(node, tmp_path):
    port = free_port()
    p = node.run([node.bin("lkstart"), "--root", node.root, "--node", node.name, "--listen",
                  f"127.0.0.1:{free_port()}", "--no-guard", "--web", f"127.0.0.1:{port}"],
                 check=True)
    assert f"lkweb listening on http://127.0.0.1:{port}/" in p.stdout, p.stdout
    conf = (node.root / "etc" / "lk.conf").read_text()
    assert "\n[web]\nenabled = yes\nlisten = 127.0.0.1:" + str(port) in conf, conf
    pidfile = node.root / "run" / "lkweb.pid"
    pid, start = (int(x) for x in pidfile.read_text().split())
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/api/v1/session")
    assert c.getresponse().status == 401
    c.close()
    # lkd rewrites lk.conf (a comm path): the [web] section stays.
    node.cli("commpath", "create", "--node", "peer1", "--address", "127.0.0.1:1")
    assert "\n[web]\nlisten = 127.0.0.1:%d\nenabled = yes\n" % port in \
        (node.root / "etc" / "lk.conf").read_text()
    # lkstart again: lkweb is not started twice.
    p = node.run([node.bin("lkstart"), "--root", node.root, "--no-guard"], check=True)
    assert int(pidfile.read_text().split()[0]) == pid
    node.stop()
    wait_for(lambda: not os.path.exists(f"/proc/{pid}"), what="lkweb to stop with lkstop")
    assert not pidfile.exists()
    out = (node.root / "log" / "lkweb.out").read_text()
    assert "lkweb: stopped" in out
    assert not [w for w in SANITIZER_WORDS if w in out], out
    # enabled = yes in lk.conf starts it without --web.
    node.run([node.bin("lkstart"), "--root", node.root, "--no-guard"], check=True)
    wait_for(lambda: pidfile.exists(), what="lkweb started from lk.conf")
    pid2 = int(pidfile.read_text().split()[0])
    assert pid2 != pid
    # A stale pidfile (a pid of someone else) is never signalled by lkstop.
    node.stop()
    wait_for(lambda: not os.path.exists(f"/proc/{pid2}"), what="lkweb to stop")
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        pidfile.write_text(f"{sleeper.pid} 12345\n")
        node.start()
        node.stop()
        assert sleeper.poll() is None, "lkstop signalled a process that is not lkweb"
    finally:
        sleeper.kill()
        sleeper.wait()
    # Bad [web] settings: lkd refuses the file with the line, lkweb too.
    bad = (node.root / "etc" / "lk.conf").read_text().replace("enabled = yes",
                                                              "enabled = maybe")
    (node.root / "etc" / "lk.conf").write_text(bad)
    p = node.run([node.bin("lkweb"), "--root", node.root, "--foreground"])
    assert p.returncode == 1 and "invalid enabled 'maybe'" in p.stderr, p.stderr
    p = node.start(check=False)
    assert p.returncode != 0 and "enabled" in p.stderr, p.stderr


def test_lkweb_options(node):
    p = node.run([node.bin("lkweb"), "--version"])
    assert p.returncode == 0 and p.stdout.startswith("lkweb "), p.stdout
    p = node.run([node.bin("lkweb"), "--help"])
    assert p.returncode == 0 and "--listen ADDR:PORT" in p.stdout and "--ui DIR" in p.stdout
    for argv, text in ((["--listen", "nowhere"], "invalid --listen"),
                       (["--lkd-timeout", "0"], "invalid --lkd-timeout"),
                       (["--bogus"], "unknown option"), (["--root"], "needs a value"),
                       (["extra"], "unexpected argument")):
        p = node.run([node.bin("lkweb")] + argv)
        assert p.returncode == 2 and text in one_line_error(p), (argv, p.stderr)
    node.start()
    port = free_port()
    # Listening where someone else listens: one line, exit 1.
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
        s.listen()
        p = node.run([node.bin("lkweb"), "--root", node.root, "--listen", f"127.0.0.1:{port}"])
        assert p.returncode == 1 and "cannot listen" in one_line_error(p), p.stderr


# ---------------------------------------------------------------------- TLS

def test_tls(node, web_of, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    node.start()
    conf = node.root / "etc" / "lk.conf"
    conf.write_text(conf.read_text() + f"\n[web]\ntls-cert = {cert}\ntls-key = {key}\n")
    web = web_of(node, tls=True, start=False)
    web.start()
    g = token(node, "guest")["token"]
    r = web.get("/api/v1/status", token=g)
    assert r.status == 200 and r.json["data"]["node"] == node.name, r
    assert_secure(r)
    r = web.post("/api/v1/login", {"token": g})
    assert r.status == 200 and "; Secure" in r.headers["set-cookie"], r.headers
    # Plain HTTP to the TLS port gets no API answer.
    c = http.client.HTTPConnection(web.host, web.port, timeout=10)
    with pytest.raises((http.client.HTTPException, OSError)):
        c.request("GET", "/api/v1/status")
        resp = c.getresponse()
        assert resp.status != 200
        raise OSError("not TLS")
    c.close()
