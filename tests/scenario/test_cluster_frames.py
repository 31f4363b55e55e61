"""Bad frames on a node's listen port (src/lib/wire.h): garbage, an oversized length, a
wrong key, replays. Each is dropped, counted under its kind in `commpath list --json`
("dropped"), logged as event 1604; the daemon keeps answering and its peer stays ALIVE."""

import hashlib
import hmac
import json
import os
import socket
import struct
import time

from cluster import holds, wait_for

MAGIC = b"OKW1"
HELLO, HEARTBEAT, MESSAGE = 1, 2, 3


def frame(key, ftype, session, seq, payload, length=None):
    payload = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    n = len(payload) if length is None else length
    head = MAGIC + struct.pack(">BBHQQI", ftype, 0, 0, session, seq, n)
    return head + payload + hmac.new(key, head + payload, hashlib.sha256).digest()


def read_frame(sock, key, timeout=10):
    """Reads one frame from sock; returns (type, session, seq, payload bytes)."""
    sock.settimeout(timeout)
    buf = b""
    while len(buf) < 28:
        chunk = sock.recv(65536)
        assert chunk, "connection closed before a frame arrived"
        buf += chunk
    assert buf[:4] == MAGIC, buf[:16]
    ftype, _flags, _res, session, seq, n = struct.unpack(">BBHQQI", buf[4:28])
    while len(buf) < 28 + n + 32:
        chunk = sock.recv(65536)
        assert chunk, "connection closed inside a frame"
        buf += chunk
    mac = hmac.new(key, buf[:28 + n], hashlib.sha256).digest()
    assert mac == buf[28 + n:28 + n + 32], "bad HMAC from the node"
    return ftype, session, seq, buf[28:28 + n]


class Ghost:
    """A client holding the cluster key that speaks the handshake (docs: net.h,
    Freshness): its HELLO carries its own nonce; the node answers with a HELLO that
    carries the node's nonce; every later frame carries the node's nonce as session."""

    def __init__(self, node, key, name="ghost"):
        self.key = key
        self.name = name
        self.sock = socket.create_connection(("127.0.0.1", node.port), timeout=10)
        self.sent = b""
        self.seq = 0
        self.nonce = int.from_bytes(os.urandom(8), "big")
        self.peer_nonce = None

    def send_raw(self, data):
        self.sent += data
        self.sock.sendall(data)

    def hello(self):
        self.seq += 1
        payload = {"node": self.name, "witness": False, "info": {}, "dead_ms": 600,
                   "nonce": f"{self.nonce:016x}"}
        self.send_raw(frame(self.key, HELLO, self.nonce, self.seq, payload))
        ftype, session, _seq, body = read_frame(self.sock, self.key)
        assert ftype == HELLO, ftype
        assert session == self.nonce, "the node's HELLO is not bound to our nonce"
        self.peer_nonce = int(json.loads(body)["nonce"], 16)

    def heartbeat(self, seq=None):
        if seq is None:
            self.seq += 1
            seq = self.seq
        data = frame(self.key, HEARTBEAT, self.peer_nonce, seq, {})
        self.send_raw(data)
        return data

    def close(self):
        self.sock.close()


def key_of(node):
    return bytes.fromhex((node.root / "etc" / "authkey").read_text().strip())


def send(node, data, linger=0.5):
    """Opens a connection to node's listen port, sends data, reads until the node closes
    it (or linger seconds); returns what came back."""
    s = socket.create_connection(("127.0.0.1", node.port), timeout=10)
    got = b""
    try:
        s.sendall(data)
        s.settimeout(linger)
        deadline = time.monotonic() + linger
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            got += chunk
    finally:
        s.close()
    return got


def entries(node):
    return node.commpaths()


def dropped_by(node, name):
    """The "dropped" counters of the entry called name (None: unidentified senders, summed)."""
    total = {}
    for e in entries(node):
        if e["name"] == name:
            for k, v in e["dropped"].items():
                total[k] = total.get(k, 0) + v
    return total


def count_1604(node):
    return len(node.events(1604))


def check_alive(n1, n2):
    assert n1.cli("status", check=False, timeout=20).returncode == 0
    assert n1.peer_state(n2) == "ALIVE"


def test_bad_frames_are_dropped_and_counted(cluster):
    n1, n2 = cluster.build(2)
    key = key_of(n1)
    dead_before = len([e for e in n1.events(1603) if "node2" in e["message"]])
    base = count_1604(n1)

    # 1. garbage
    send(n1, b"GET / HTTP/1.0\r\n\r\n")
    wait_for(lambda: dropped_by(n1, None).get("malformed", 0) >= 1,
             what="garbage counted as malformed (unidentified sender)")
    anon = [e for e in entries(n1) if e["name"] is None]
    assert anon and anon[0]["state"] != "ALIVE", anon

    # 2. a header announcing an oversized payload (over 8 MiB), no payload
    session = int(time.time() * 1e6)
    head = MAGIC + struct.pack(">BBHQQI", HELLO, 0, 0, session, 1, 0xFFFFFFF0)
    send(n1, head)
    wait_for(lambda: dropped_by(n1, None).get("oversized", 0) >= 1,
             what="an oversized length counted as oversized")

    # 3. a well-formed frame with a wrong key
    wrong = os.urandom(32)
    send(n1, frame(wrong, HELLO, session, 1, {"node": "intruder", "witness": False,
                                               "nonce": "0123456789abcdef"}))
    wait_for(lambda: dropped_by(n1, None).get("unauthenticated", 0) >= 1,
             what="a wrong key counted as unauthenticated")
    assert "intruder" not in [e["name"] for e in entries(n1)]

    # 4. a valid HELLO, a heartbeat, and the heartbeat again (a reused seq)
    g = Ghost(n1, key)
    try:
        g.hello()
        g.heartbeat()
        wait_for(lambda: "ghost" in [e["name"] for e in entries(n1)], what="ghost heard")
        g.heartbeat(seq=g.seq)  # the same seq again
        time.sleep(0.3)
    finally:
        g.close()
    wait_for(lambda: dropped_by(n1, "ghost").get("replayed", 0) >= 1,
             what="a reused seq counted as replayed under the sender's name")

    wait_for(lambda: count_1604(n1) >= base + 4, what="event 1604 for every dropped frame")
    kinds = " ".join(e["message"] for e in n1.events(1604))
    assert "127.0.0.1" in kinds and "ghost" in kinds, kinds
    totals = n1.commpaths()
    assert isinstance(totals, list)
    check_alive(n1, n2)
    dead_after = len([e for e in n1.events(1603) if "node2" in e["message"]])
    assert dead_after == dead_before, "node2 went DEAD during the bad frames"
    holds(lambda: n1.peer_state(n2) == "ALIVE", 1.5, what="node2 stays ALIVE")
    assert n2.peer_state(n1) == "ALIVE"
    assert not n1.node_list()["nodes"] or all(
        x["name"] != "intruder" for x in n1.node_list()["nodes"])


def test_replayed_connection_is_dropped(cluster):
    """Frames of an earlier connection (its session) sent again on a new one are replays
    (docs/CLUSTER.md, Transport: a session id so that frames of an old connection are
    replays)."""
    n1, n2 = cluster.build(2)
    key = key_of(n1)
    g = Ghost(n1, key)
    try:
        g.hello()
        g.heartbeat()
        g.heartbeat()
        wait_for(lambda: "ghost" in [e["name"] for e in entries(n1)], what="ghost heard once")
    finally:
        g.close()
    captured = g.sent
    before = dropped_by(n1, "ghost").get("replayed", 0)
    base = count_1604(n1)
    send(n1, captured)  # the same bytes again, on a new connection
    wait_for(lambda: dropped_by(n1, "ghost").get("replayed", 0) == before + 1,
             what="the replayed connection counted as replayed", timeout=10)
    assert count_1604(n1) > base
    check_alive(n1, n2)


def test_many_strangers_do_not_hurt(cluster):
    """A burst of connections that say nothing, and of random bytes, then the node still
    answers and its peer is still ALIVE."""
    n1, n2 = cluster.build(2)
    socks = []
    try:
        for _ in range(50):
            socks.append(socket.create_connection(("127.0.0.1", n1.port), timeout=10))
        for s in socks[:25]:
            s.sendall(os.urandom(200))
    finally:
        for s in socks:
            s.close()
    wait_for(lambda: dropped_by(n1, None).get("malformed", 0) >= 1, what="random bytes dropped")
    check_alive(n1, n2)
    holds(lambda: n1.peer_state(n2) == "ALIVE", 1.5, what="node2 stays ALIVE")
