"""Messages from an AUTHENTICATED peer (docs/CLUSTER.md, "Messages between nodes"): a raw
client that holds the cluster key and completes the HELLO/nonce handshake sends MESSAGE
frames (type 3) and heartbeats (type 2) with malformed content. "Every field is
validated; a bad message is logged (1642) and changes nothing."

Set-up for every test: node1 and node2 (real daemons), app1 created and in service on
node1, extended to node2 (priority 2). The raw client authenticates either as "evil" (a
name configured on node1 with `lkcli commpath create --node evil --address <unused>`) or
as "node2" while the real node2 is stopped.

After every case: the daemon is the same process and answers `lkcli status` quickly;
app1 is ISP on node1 (same application pid) and OSU on node2; app1's definition
(`lkcli resource list --json`), the script copies, node1's lk.conf (bytes) and the
cluster settings are unchanged; node1's ownership record of app1 (as node1 sends it in
its state message) is unchanged; event 1642 is logged where the daemon rejects.
Malformed cases are checked one by one inside a batch; every failing case is reported
(the batch stops early only when app1 is no longer where it was, as later cases could not
be judged). The teardown fails the test on any sanitizer report (run with
LK_BUILD=<build-tests-asan>) and on app1 ever running on two nodes.
"""

import base64
import json
import os
import socket
import struct
import time

import pytest

from cluster import free_port, holds, wait_eq, wait_for
from test_cluster_frames import HELLO, HEARTBEAT, MAGIC, MESSAGE, frame, key_of

STATUS_MAX_S = 5.0  # "answers lkcli status quickly"
BIG_GEN = 1_000_000
INT64_MAX = 2**63 - 1


# ---------------------------------------------------------------------- the raw peer


class Peer:
    """An authenticated raw peer: one connection, HELLO with our nonce, the node's HELLO
    bound to it, a first heartbeat carrying the node's nonce (which makes us ALIVE), then
    MESSAGE frames. It reads what the node sends with a buffer of its own."""

    def __init__(self, node, key, name, info=None):
        self.node = node
        self.key = key
        self.name = name
        self.info = info if info is not None else {}
        self.sock = None
        self.buf = b""
        self.seq = 0
        self.nonce = int.from_bytes(os.urandom(8), "big")
        self.peer_nonce = None
        self.node_info = None
        self.closed = False

    # --- frames
    def _frame(self):
        self.sock.settimeout(0.2)
        while True:
            if len(self.buf) >= 28:
                assert self.buf[:4] == MAGIC, self.buf[:16]
                ftype, _f, _r, session, seq, n = struct.unpack(">BBHQQI", self.buf[4:28])
                if len(self.buf) >= 28 + n + 32:
                    body = self.buf[28:28 + n]
                    self.buf = self.buf[28 + n + 32:]
                    return ftype, session, body
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                return None
            except (ConnectionResetError, BrokenPipeError):
                chunk = b""
            if not chunk:
                self.closed = True
                raise EOFError("the node closed the connection")
            self.buf += chunk

    def next_frame(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            f = self._frame()
            if f:
                return f
        return None

    def connect(self):
        self.sock = socket.create_connection(("127.0.0.1", self.node.port), timeout=10)
        self.seq += 1
        hello = {"node": self.name, "witness": False, "info": self.info, "dead_ms": 600,
                 "nonce": f"{self.nonce:016x}"}
        self.sock.sendall(frame(self.key, HELLO, self.nonce, self.seq, hello))
        f = self.next_frame(10)
        assert f and f[0] == HELLO, f"no HELLO from {self.node.name}: {f!r}"
        assert f[1] == self.nonce
        h = json.loads(f[2])
        self.peer_nonce = int(h["nonce"], 16)
        self.node_info = h.get("info")
        self.heartbeat({"alive": [self.node.name], "sseq": 0})
        return self

    def send_raw(self, ftype, payload):
        self.seq += 1
        data = frame(self.key, ftype, self.peer_nonce, self.seq, payload)
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            self.closed = True

    def heartbeat(self, payload):
        self.send_raw(HEARTBEAT, payload)

    def message(self, payload):
        self.send_raw(MESSAGE, payload)

    def barrier(self, timeout=20):
        """Sends a sum and waits for the node's "synced" answer: every message sent before
        it has been handled (messages are handled in order on one connection). Returns the
        last state message the node sent on the way (or None), or raises EOFError."""
        self.heartbeat({"alive": [self.node.name], "sseq": 0})
        self.message({"t": "sum", "sum": {}})
        return self.wait_for_message("synced", timeout)

    def wait_for_message(self, t, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            f = self.next_frame(0.5)
            if f and f[0] == MESSAGE:
                m = json.loads(f[2])
                if m.get("t") == t:
                    return m
        raise AssertionError(f"no {t!r} message from {self.node.name} in {timeout} s "
                             "(the daemon stalls?)")

    def node_state(self):
        """The node's state message, asked for after everything sent so far was handled."""
        self.barrier()
        self.message({"t": "state?"})
        return self.wait_for_message("state")

    def close(self):
        if self.sock:
            self.sock.close()
            self.sock = None


# ---------------------------------------------------------------------- the set-up


class Bench:
    """node1 (holding app1), node2 (app1 extended to it), the raw peer's name and key, and
    the baseline every case is compared against."""

    def __init__(self, cluster, peer_name="evil", misses=None):
        self.cluster = cluster
        self.n1, self.n2 = cluster.build(2) if misses is None else cluster.build(2, misses=misses)
        n1, n2 = self.n1, self.n2
        self.app = cluster.app("app1")
        n1.create("app1", self.app.restore, self.app.remove, "--quickchk", self.app.quickchk)
        n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "2")
        wait_eq(lambda: n2.state("app1"), "OSU", what="app1 extended to node2")
        wait_eq(lambda: n1.state("app1"), "ISP", what="app1 in service on node1")
        wait_for(lambda: self.app.runs_only_on(n1), what="app1 running on node1")
        self.key = key_of(n1)
        self.peer_name = peer_name
        if peer_name == "evil":
            n1.cli("commpath", "create", "--node", "evil", "--address",
                   f"127.0.0.1:{free_port()}")
        elif peer_name == "node2":
            n2.stop()
            wait_eq(lambda: n1.peer_state("node2"), "DEAD", what="node1 to see node2 DEAD")
        # The node's HELLO info (its settings and their version), for a quiet HELLO.
        p = Peer(n1, self.key, peer_name).connect()
        self.hello_info = {"witness": False, "settings": p.node_info.get("settings"),
                           "ver": p.node_info.get("ver")}
        p.close()
        self.baseline()

    def peer(self):
        return Peer(self.n1, self.key, self.peer_name, info=self.hello_info).connect()

    def owner_record(self):
        p = self.peer()
        try:
            return p.node_state()["own"].get("app1")
        finally:
            p.close()

    def baseline(self):
        n1 = self.n1
        self.pid = n1.daemon_pid()
        self.app_pid = self.app.nodes()["node1"]
        self.res_list = self.definitions()
        self.copies = n1.copies()
        self.conf = (n1.root / "etc" / "lk.conf").read_bytes()
        self.settings = n1.settings()
        self.rec = self.owner_record()
        assert self.rec and self.rec["o"] == "node1", self.rec
        if self.n2.daemon_running():
            self.copies2 = self.n2.copies()

    def definitions(self):
        """`lkcli resource list --json` without "usage": the cgroup's live figures, which
        change whenever app1's quickchk runs in it (every 10 s), message or not."""
        out = self.n1.cli_json("resource", "list")
        for r in out:
            r.pop("usage", None)
        return out

    def count_1642(self):
        return len(self.n1.events(1642))

    def problems(self, what, before_1642=None, expect_1642=False, record=True):
        """Everything that differs from the baseline, as a list of strings."""
        n1, n2 = self.n1, self.n2
        out = []
        pid = n1.daemon_pid()
        if pid != self.pid or not n1.daemon_running():
            return [f"{what}: lkd of node1 is gone (pid {self.pid} -> {pid}); lkd.out:\n"
                    + self.lkd_out()]
        t0 = time.monotonic()
        p = n1.cli("status", check=False, timeout=30)
        took = time.monotonic() - t0
        if p.returncode != 0 or took > STATUS_MAX_S:
            out.append(f"{what}: lkcli status exited {p.returncode} after {took:.1f} s: "
                       f"{p.stderr.strip()}")
        st = n1.state("app1")
        if st != "ISP":
            out.append(f"{what}: app1 is {st} on node1, not ISP")
        if self.app.nodes().get("node1") != self.app_pid or len(self.app.nodes()) != 1:
            out.append(f"{what}: app1's processes changed: {self.app_pid} on node1 -> "
                       f"{self.app.nodes()}")
        if n2.daemon_running() and n2.state("app1") != "OSU":
            out.append(f"{what}: app1 is {n2.state('app1')} on node2, not OSU")
        res_list = self.definitions()
        if res_list != self.res_list:
            out.append(f"{what}: resource list changed:\n{self.res_list}\n->\n{res_list}")
        if n1.copies() != self.copies:
            out.append(f"{what}: node1's script copies changed: "
                       f"{sorted(self.copies)} -> {sorted(n1.copies())}")
        if n2.daemon_running() and n2.copies() != self.copies2:
            out.append(f"{what}: node2's script copies changed")
        conf = (n1.root / "etc" / "lk.conf").read_bytes()
        if conf != self.conf:
            out.append(f"{what}: node1's lk.conf changed:\n{self.conf.decode()}\n->\n"
                       f"{conf.decode()}")
        settings = n1.settings()
        if settings != self.settings:
            out.append(f"{what}: settings changed: {self.settings} -> {settings}")
        if record:
            rec = self.owner_record()
            if rec != self.rec:
                out.append(f"{what}: node1's ownership record of app1 changed: {self.rec} -> "
                           f"{rec}")
        if expect_1642 and before_1642 is not None:
            n = self.count_1642()
            if n <= before_1642:
                out.append(f"{what}: no event 1642 (data-rejected) logged")
        return out

    def lkd_out(self):
        try:
            return (self.n1.root / "log" / "lkd.out").read_text(errors="replace")[-6000:]
        except OSError as e:
            return f"(no lkd.out: {e})"

    def run(self, cases, heartbeat=False):
        """cases: (name, payload, expect_1642[, kind]) with kind "message" (default),
        "heartbeat", or "drop" (a payload net.c must drop: the connection closes)."""
        failures = []
        for case in cases:
            name, payload, expect = case[:3]
            kind = case[3] if len(case) > 3 else ("heartbeat" if heartbeat else "message")
            before = self.count_1642()
            before_1604 = len(self.n1.events(1604))
            p = self.peer()
            try:
                ftype = HEARTBEAT if kind in ("heartbeat", "drop-hb") else MESSAGE
                p.send_raw(ftype, payload)
                if kind.startswith("drop"):
                    try:
                        p.barrier(timeout=10)
                        failures.append(f"{name}: the node kept the connection after a "
                                        "payload that is not a JSON object")
                    except EOFError:
                        pass
                    wait_for(lambda: len(self.n1.events(1604)) > before_1604,
                             what=f"{name}: event 1604 for the dropped frame", timeout=10)
                else:
                    try:
                        p.barrier()
                    except EOFError:
                        failures.append(f"{name}: node1 closed the authenticated connection")
            except AssertionError as e:
                failures.append(f"{name}: {e}")
            finally:
                p.close()
            found = self.problems(name, before, expect)
            failures += found
            if found and (self.n1.state("app1") != "ISP" or not self.n1.daemon_running()):
                failures.append(f"(batch stopped after {name}: app1 left node1 or lkd died)")
                break
            if found:
                self.baseline()  # judge the next case against what is there now
        return failures

    def report(self, failures):
        if failures:
            rejects = "\n".join(e["message"] for e in self.n1.events(1642)[-40:])
            pytest.fail("\n".join(failures) + "\n\nnode1 1642 events:\n" + rejects
                        + "\n\nnode1 log:\n" + self.n1.log_text(80), pytrace=False)


@pytest.fixture(params=["evil", "node2"])
def bench(cluster, request):
    return Bench(cluster, request.param)


@pytest.fixture
def evil_bench(cluster):
    return Bench(cluster, "evil")


@pytest.fixture
def evil_bench_patient(cluster):
    """The same with a 3 s dead time: parsing the 7 MiB cases can keep an lkd built with
    AddressSanitizer on a loaded machine from sending heartbeats for more than 600 ms,
    and node2 would take app1 over for a reason that is not the message's content."""
    return Bench(cluster, "evil", misses=15)


# ---------------------------------------------------------------------- the cases


def rec(**over):
    """A well-formed ownership record naming node2 with a big generation: if a malformed
    variant of it were accepted, node1 would hand app1 to node2 (visible)."""
    r = {"g": BIG_GEN, "s": 0, "o": "node2", "a": True, "l": False, "k": False, "x": False,
         "t": [], "f": [], "r": "test"}
    r.update(over)
    return r


def state(own=None, res=None, seq=1, **extra):
    m = {"t": "state", "seq": seq, "res": {} if res is None else res,
         "own": {} if own is None else own}
    m.update(extra)
    return m


def without(d, key):
    d = dict(d)
    d.pop(key)
    return d


STATE_CASES = [
    ("state without res", without(state(), "res"), True),
    ("state without own", without(state(), "own"), True),
    ("state without seq", without(state(), "seq"), True),
    ("state res is a list", state(res=[]), True),
    ("state own is a string", state(own="app1"), True),
    ("state seq is a string", state(seq="1"), True),
    ("state seq is a float", state(seq=1.5), True),
    ("state res: unknown state name", state(res={"app1": ["RUNNING", "none", True]}), True),
    ("state res: unknown pending name", state(res={"app1": ["ISP", "dance", True]}), True),
    ("state res: 2 elements", state(res={"app1": ["ISP", "none"]}), True),
    ("state res: 4 elements", state(res={"app1": ["ISP", "none", True, 1]}), True),
    ("state res: non-boolean", state(res={"app1": ["ISP", "none", 1]}), True),
    ("state res: not an array", state(res={"app1": "ISP"}), True),
    ("state res: numbers", state(res={"app1": [1, 2, True]}), True),
    ("own: negative generation", state(own={"app1": rec(g=-1)}), True),
    ("own: negative sequence", state(own={"app1": rec(s=-5)}), True),
    ("own: owner with spaces", state(own={"app1": rec(o="node 2")}), True),
    ("own: owner of 200 chars", state(own={"app1": rec(o="n" * 200)}), True),
    ("own: owner with a slash", state(own={"app1": rec(o="../node2")}), True),
    ("own: owner not a string", state(own={"app1": rec(o=2)}), True),
    ("own: 9 keys", state(own={"app1": without(rec(), "r")}), True),
    ("own: 11 keys", state(own={"app1": dict(rec(), z=1)}), True),
    ("own: not an object", state(own={"app1": [BIG_GEN, "node2"]}), True),
    ("own: generation a string", state(own={"app1": rec(g=str(BIG_GEN))}), True),
    ("own: generation a float", state(own={"app1": rec(g=1e9)}), True),
    ("own: active not boolean", state(own={"app1": rec(a=1)}), True),
    ("own: tried 1000 entries", state(own={"app1": rec(t=[f"n{i}" for i in range(1000)])}),
     True),
    ("own: tried not strings", state(own={"app1": rec(t=[1, 2])}), True),
    ("own: tried bad names", state(own={"app1": rec(t=["a b"])}), True),
    ("own: tried is an object", state(own={"app1": rec(t={})}), True),
    ("own: failovers out of order", state(own={"app1": rec(f=[300, 200, 100])}), True),
    ("own: failovers negative", state(own={"app1": rec(f=[-1])}), True),
    ("own: failovers 1000", state(own={"app1": rec(f=list(range(1000)))}), True),
    ("own: failovers strings", state(own={"app1": rec(f=["1"])}), True),
    ("own: reason of 5000 chars", state(own={"app1": rec(r="x" * 5000)}), True),
    # jansson cannot hold it: the payload does not parse, net.c drops the frame (1604).
    ("own: generation above int64", state(own={"app1": rec(g=2**64)}), False, "drop"),
]


def script_b64(text):
    return base64.b64encode(text.encode() if isinstance(text, str) else text).decode()


def app1_object(bench, **over):
    """app1's object as node1 would send it, with a newer version (so that only the
    validation can keep it out), then modified."""
    res = [r for r in bench.res_list if r.get("tag") == "app1"]
    assert res, bench.res_list
    resource = {k: v for k, v in res[0].items() if k not in (
        "state", "reason", "pending", "target_in_service", "check_failures_in_row",
        "local_recoveries", "nodes")}
    scripts = {}
    for action in resource.get("scripts", []):
        scripts[action] = base64.b64encode(bench.n1.script_copy(action, "app1").read_bytes()
                                           ).decode()
    obj = {"tag": "app1", "version": [INT64_MAX // 2, bench.peer_name], "deleted": False,
           "resource": resource, "scripts": scripts, "children": [],
           "nodes": {"node1": 1, "node2": 2}}
    obj.update(over)
    return obj


def obj_cases(bench):
    o = lambda **kw: {"t": "obj", "obj": app1_object(bench, **kw)}  # noqa: E731
    good = app1_object(bench)
    restore = good["scripts"]["restore"]
    sc = lambda **kw: dict(good["scripts"], **kw)  # noqa: E731
    big = "#!/bin/sh\n" + "#" * (1024 * 1024 + 100) + "\n"
    cases = [
        ("obj missing", {"t": "obj"}, True),
        ("obj is a string", {"t": "obj", "obj": "app1"}, True),
        ("obj without tag", {"t": "obj", "obj": without(good, "tag")}, True),
        ("obj bad base64", o(scripts=sc(restore="@@@not base64@@@")), True),
        ("obj base64 not a string", o(scripts=sc(restore=12)), True),
        ("obj script without #!", o(scripts=sc(restore=script_b64("echo hi\nexit 0\n"))), True),
        ("obj empty script", o(scripts=sc(restore="")), True),
        ("obj script 1 MiB+", o(scripts=sc(restore=script_b64(big))), True),
            ("obj unknown action", o(scripts=sc(dance=restore)), True),
        ("obj priority 0", o(nodes={"node1": 0, "node2": 2}), True),
        ("obj priority negative", o(nodes={"node1": -1, "node2": 2}), True),
        ("obj priority huge", o(nodes={"node1": 2**40, "node2": 2}), True),
        ("obj priority a string", o(nodes={"node1": "1", "node2": 2}), True),
        ("obj duplicate priorities", o(nodes={"node1": 1, "node2": 1}), True),
        ("obj nodes a list", o(nodes=["node1", "node2"]), True),
        ("obj node name with space", o(nodes={"node1": 1, "node 2": 2}), True),
        ("obj tag with slashes", {"t": "obj", "obj": dict(good, tag="../../etc/app1")}, True),
        ("obj tag with a slash", {"t": "obj", "obj": dict(good, tag="a/b")}, True),
        ("obj tag of 200 chars", {"t": "obj", "obj": dict(good, tag="a" * 200)}, True),
        ("obj children naming itself", o(children=["app1"]), True),
        ("obj children twice", o(children=["x1", "x1"]), True),
        ("obj children not strings", o(children=[1]), True),
        ("obj children a string", o(children="app1"), True),
        ("obj version 0", o(version=[0, "evil"]), True),
        ("obj version negative", o(version=[-5, "evil"]), True),
        ("obj version bad node", o(version=[5, "a b"]), True),
        ("obj version a string", o(version="5"), True),
        ("obj deleted not boolean", o(deleted="yes"), True),
        ("obj resource tag differs", o(resource=dict(good["resource"], tag="other")), True),
        ("obj resource not an object", o(resource="app1"), True),
        ("obj script listed but missing", o(scripts=without(good["scripts"], "remove")), True),
    ]
    return cases


SETTINGS_BAD = [
    ("heartbeat-interval-ms 0", {"heartbeat-interval-ms": "0"}),
    ("heartbeat-interval-ms abc", {"heartbeat-interval-ms": "abc"}),
    ("heartbeat-interval-ms 99999999999", {"heartbeat-interval-ms": "99999999999"}),
    ("heartbeat-misses -1", {"heartbeat-misses": "-1"}),
    ("fence-script relative", {"fence-script": "bin/fence"}),
    ("fence-script with newline", {"fence-script": "/bin/true\n[cluster]"}),
    ("unknown key", {"no-such-setting": "1"}),
    ("quorum bogus", {"quorum": "all-of-them"}),
    ("non-string value", {"heartbeat-interval-ms": 500}),
    ("null value", {"heartbeat-misses": None}),
    ("list value", {"quorum": ["none"]}),
    ("one good, one bad", {"heartbeat-misses": "5", "heartbeat-interval-ms": "0"}),
]


def settings_cases():
    cases = []
    for name, values in SETTINGS_BAD:
        cases.append((f"settings {name}", {"t": "settings", "settings": values,
                                           "ver": [INT64_MAX // 2, "evil"]}, True))
    good = {"heartbeat-misses": "7"}
    for name, ver in [("ver a string", "abc"), ("ver empty", []), ("ver 1 element", [10**9]),
                      ("ver negative", [-1, "evil"]), ("ver bad node", [10**9, "a b"]),
                      ("ver node not a string", [10**9, 5]), ("ver counter a string",
                                                               ["9999999", "evil"]),
                      ("ver 3 elements", [10**9, "evil", 1]), ("ver missing", None)]:
        m = {"t": "settings", "settings": good}
        if ver is not None:
            m["ver"] = ver
        # The daemon treats a bad version as older (answers with its own settings): no 1642.
        cases.append((f"settings {name}", m, False))
    cases.append(("settings not an object", {"t": "settings", "settings": "x",
                                             "ver": [INT64_MAX // 2, "evil"]}, True))
    return cases


REQUEST_CASES = [
    ("switch unknown tag", {"t": "switch", "tag": "nosuch", "to": "node2"}, True),
    ("switch tag not a string", {"t": "switch", "tag": 1, "to": "node2"}, True),
    ("switch to not a string", {"t": "switch", "tag": "app1", "to": ["node2"]}, True),
    ("switch to missing", {"t": "switch", "tag": "app1"}, True),
    ("switch to with spaces", {"t": "switch", "tag": "app1", "to": "node 2"}, True),
    ("switch to of 200 chars", {"t": "switch", "tag": "app1", "to": "n" * 200}, True),
    ("switch to with a slash", {"t": "switch", "tag": "app1", "to": "../node2"}, True),
    ("switch to a node app1 is not extended to", {"t": "switch", "tag": "app1",
                                                  "to": "node9"}, False),
    ("switch to the sender, not extended", {"t": "switch", "tag": "app1", "to": "evil"}, False),
    ("remove unknown tag", {"t": "remove", "tag": "nosuch", "whole": True}, True),
    ("remove tag not a string", {"t": "remove", "tag": ["app1"], "whole": True}, True),
    ("remove tag missing", {"t": "remove", "whole": True}, True),
    ("remove tag an object", {"t": "remove", "tag": {"app1": 1}}, True),
]


def misc_cases():
    seven_mib = b'{"t":"sum","sum":[' + b",".join([b"123456"] * (7 * 1024 * 1024 // 7)) + b"]}"
    seven_mib_array = b"[" + b",".join([b"123456"] * (7 * 1024 * 1024 // 7)) + b"]"
    deep = b'{"t":"sum","sum":' + b"[" * 10000 + b"]" * 10000 + b"}"
    return [
        ("sum non-object", {"t": "sum", "sum": [1, 2, 3]}, False),
        ("sum a string", {"t": "sum", "sum": "app1"}, False),
        ("sum missing", {"t": "sum"}, False),
        ("sum bad versions", {"t": "sum", "sum": {"app1": "x", "nosuch": [1, 2, 3]}}, False),
        ("sum huge", {"t": "sum", "sum": {f"t{i}": [INT64_MAX, "evil"] for i in range(100000)}},
         False),
        ("sum app1 huge version", {"t": "sum", "sum": {"app1": [INT64_MAX, "zzz"]}}, False),
        ("unknown t", {"t": "launch-missiles"}, True),
        ("t is a number", {"t": 3}, True),
        ("t is null", {"t": None}, True),
        ("t missing", {"tag": "app1"}, True),
        ("synced with bad objects", {"t": "synced", "objects": "many"}, False),
        ("deeply nested JSON (10000)", deep, False, "drop"),
        ("7 MiB array of numbers", seven_mib_array, False, "drop"),
        ("7 MiB sum array", seven_mib, False),
        ("message payload a number", b"42", False, "drop"),
        ("message payload not JSON", b"{\"t\":", False, "drop"),
        ("message with duplicate keys", b'{"t":"state?","t":"switch"}', False, "drop"),
    ]


HEARTBEAT_CASES = [
    ("heartbeat a list", [1, 2], False, "drop-hb"),
    ("heartbeat a string", "alive", False, "drop-hb"),
    ("heartbeat null", None, False, "drop-hb"),
    ("heartbeat alive a string", {"alive": "node1", "sseq": 1}, False),
    ("heartbeat alive numbers", {"alive": [1, 2, None, {}], "sseq": 1}, False),
    ("heartbeat alive 100000 names", {"alive": [f"n{i}" for i in range(100000)]}, False),
    ("heartbeat vote an object", {"alive": [], "vote": {"node1": True}}, False),
    ("heartbeat vote for node1", {"alive": ["node1"], "vote": ["node1"]}, False),
    ("heartbeat sseq a string", {"alive": [], "sseq": "12"}, False),
    ("heartbeat sseq negative", {"alive": [], "sseq": -1}, False),
    ("heartbeat sseq huge", {"alive": [], "sseq": INT64_MAX}, False),
    ("heartbeat sseq float", {"alive": [], "sseq": 1.5}, False),
]


# ---------------------------------------------------------------------- the tests


def test_malformed_state_messages_change_nothing(bench):
    bench.report(bench.run(STATE_CASES))


def test_malformed_objects_change_nothing(bench):
    bench.report(bench.run(obj_cases(bench)))


def test_delete_of_app1_in_service_is_refused(bench):
    """A delete (and an unextend from node1) of app1 while it is in service on node1:
    refused, nothing deleted (replica.c: -EBUSY). The daemon does not log 1642 for this
    refusal (cluster.c on_obj skips -EBUSY), so none is required here."""
    b = bench
    b.report(b.run([
        ("obj deleted:true for app1 in service",
         {"t": "obj", "obj": {"tag": "app1", "version": [10**15, b.peer_name], "deleted": True,
                              "nodes": {"node1": 1, "node2": 2}}}, False),
        ("obj unextending app1 from node1",
         {"t": "obj", "obj": app1_object(b, nodes={"node2": 2})}, False),
    ]))


def test_refused_delete_with_the_largest_version_leaves_node1_working(bench):
    """The same refused delete with version INT64_MAX. A refused object must change
    nothing, also not node1's data clock: afterwards a local change must still work."""
    b = bench
    failures = b.run([
        ("obj deleted:true for app1, version INT64_MAX",
         {"t": "obj", "obj": {"tag": "app1", "version": [INT64_MAX, b.peer_name],
                              "deleted": True, "nodes": {"node1": 1, "node2": 2}}}, False),
    ])
    probe = b.cluster.app("probe")
    p = b.n1.create("probe", probe.restore, probe.remove, check=False)
    if p.returncode != 0:
        failures.append("after the refused object node1 cannot create a resource: "
                        f"exit {p.returncode}, stderr {p.stderr.strip()!r}; lkd of node1 "
                        f"{'still runs' if b.n1.daemon_running() else 'is GONE'} "
                        f"(pid {b.pid} -> {b.n1.daemon_pid()}); lkd.out:\n{b.lkd_out()}")
    else:
        b.n1.cli("resource", "delete", "--tag", "probe", check=False)
    b.report(failures)


def test_malformed_settings_change_nothing(bench):
    bench.report(bench.run(settings_cases()))


def test_malformed_switch_and_remove_change_nothing(bench):
    bench.report(bench.run(REQUEST_CASES))


def test_malformed_sums_types_and_payloads(evil_bench_patient):
    evil_bench_patient.report(evil_bench_patient.run(misc_cases()))


def test_malformed_heartbeats(bench):
    bench.report(bench.run(HEARTBEAT_CASES))


def test_switch_to_the_holder_itself_does_not_bounce_app1(evil_bench):
    """A switch request naming the node that already holds app1: there is nothing to
    switch; app1 must not be taken out of service and restored."""
    b = evil_bench
    b.report(b.run([("switch app1 to node1 (its holder)",
                     {"t": "switch", "tag": "app1", "to": "node1"}, False)]))


def test_record_naming_or_sent_by_a_node_outside_the_hierarchy_is_refused(evil_bench):
    """Well-formed ownership records for app1 from the configured peer "evil", where app1 is
    not extended: one naming evil as owner with a huge generation, one naming node2 (a
    member of app1's hierarchy). Only a node the resource is extended to speaks about it,
    and only about owners it is extended to (docs/CLUSTER.md, Messages between nodes):
    both are refused (1642) and nothing changes; app1 keeps running on node1 only."""
    b = evil_bench
    p = b.peer()
    try:
        before = b.count_1642()
        p.message(state(own={"app1": rec(o="evil", g=BIG_GEN)}))
        p.barrier()
        problems = b.problems("record naming evil", before, expect_1642=True)
        before = b.count_1642()
        p.message(state(own={"app1": rec(o="node2", g=BIG_GEN)}))
        p.barrier()
        problems += b.problems("record about app1 sent by evil", before, expect_1642=True)
        # Keep evil ALIVE a while: nothing may move meanwhile.
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            p.heartbeat({"alive": ["node1"], "sseq": 0})
            time.sleep(0.1)
        problems += b.problems("while evil stays ALIVE")
    finally:
        p.close()
    assert not problems, "\n".join(problems)


def test_record_with_the_largest_generation_does_not_break_node1(evil_bench):
    """The same with generation INT64_MAX: the takeover that follows writes generation +
    1, which must still be a record that node1 sends, node2 accepts (no 1642 there) and
    node1 loads again after a restart."""
    b = evil_bench
    n1, n2 = b.n1, b.n2
    p = b.peer()
    try:
        p.message(state(own={"app1": rec(o="evil", g=INT64_MAX)}))
        p.barrier()
    finally:
        p.close()
    wait_eq(lambda: n1.peer_state("evil"), "DEAD", what="evil DEAD after the close")
    wait_for(lambda: len(b.app.running_on()) == 1, timeout=30,
             what="app1 back in service on one node")
    time.sleep(2)
    failures = []
    rec_after = b.owner_record()
    if not rec_after or not isinstance(rec_after.get("g"), int) or rec_after["g"] < 0:
        failures.append(f"node1 sends app1's record with a negative generation: {rec_after}")
    bad2 = [e["message"] for e in n2.events(1642)]
    if bad2:
        failures.append(f"node2 rejects node1's state: {bad2[-3:]}")
    n1.stop(force=True, check=False)
    st = n1.start(check=False)
    if st.returncode != 0:
        failures.append(f"node1 does not start again: {st.stderr.strip()} {st.stdout.strip()}")
    else:
        wait_for(lambda: n1.daemon_running(), what="node1 restarted")
        time.sleep(2)
        wait_for(lambda: len(b.app.running_on()) <= 1, what="app1 on one node at most")
        bad1 = [e["message"] for e in n1.events(1642)]
        print("after restart: node1", n1.state("app1"), "node2", n2.state("app1"),
              "runs on", b.app.running_on(), "1642 on node1:", bad1[-3:])
        if b.app.running_on() != ["node1"] or n1.state("app1") != "ISP":
            failures.append(f"after node1's restart app1 runs on {b.app.running_on()}, "
                            f"node1 shows {n1.state('app1')}, node2 {n2.state('app1')}")
    if failures:
        pytest.fail("\n".join(failures) + "\n\nnode1 log:\n" + n1.log_text(40)
                    + "\n\nnode2 log:\n" + n2.log_text(20), pytrace=False)


def test_remove_request_from_a_node_outside_the_hierarchy(evil_bench):
    """A well-formed remove request for app1 from "evil", a configured node that app1 is
    not extended to (no node that holds app1's definition sends it: lkcli on a node
    without app1 has no such tag). Expected: refused (1642), app1 stays in service."""
    b = evil_bench
    b.report(b.run([("remove app1 from a node outside its hierarchy",
                     {"t": "remove", "tag": "app1", "whole": True}, True)]))
