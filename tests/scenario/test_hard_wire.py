"""Hardening (issue 11, item 8): the comm paths are encrypted, the HELLO says which protocol
and software version a node speaks, and a rolling upgrade from the previous release works.

The previous release (commit e9b39a8: authenticated frames, not encrypted, no versions in
the HELLO) is built once from the repository's history into <repo>/build-old and reused.
Between the two nodes every comm path goes through a small TCP relay in this test, which
keeps every byte it forwards: what an eavesdropper on the network would read.
"""

import fcntl
import json
import os
import signal
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from cluster import HB_MS, holds, wait_eq, wait_for

REPO = Path(__file__).resolve().parents[2]
OLD_COMMIT = "e9b39a8"
OLD_DIR = REPO / "build-old"
OLD_TARGETS = ["lkd", "lkcli", "lkstart", "lkstop", "lkguard", "ins_list", "lk_err"]


def old_build():
    """The binaries of the previous release (built once; skips without git history)."""
    build = OLD_DIR / "build"
    stamp = OLD_DIR / f"built-{OLD_COMMIT}"
    OLD_DIR.mkdir(exist_ok=True)
    with open(OLD_DIR / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists() and all((build / t).exists() for t in OLD_TARGETS):
            return build
        have = subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", f"{OLD_COMMIT}^{{commit}}"],
                              capture_output=True)
        if have.returncode != 0:
            pytest.skip(f"the previous release ({OLD_COMMIT}) is not in this checkout's git "
                        "history: cannot build an old node")
        src = OLD_DIR / "src"
        shutil.rmtree(src, ignore_errors=True)
        shutil.rmtree(build, ignore_errors=True)
        src.mkdir(parents=True)
        archive = subprocess.Popen(["git", "-C", str(REPO), "archive", OLD_COMMIT],
                                   stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", str(src)], stdin=archive.stdout, check=True)
        assert archive.wait() == 0
        subprocess.run(["meson", "setup", str(build), str(src)], check=True, capture_output=True,
                       timeout=600)
        subprocess.run(["ninja", "-C", str(build)] + OLD_TARGETS, check=True, capture_output=True,
                       timeout=3600)
        stamp.touch()
        return build


def use_build(node, build):
    """node runs the binaries of build from now on (its next start, its commands)."""
    node.bin = lambda name: str(Path(build) / name)


class Relay:
    """A TCP relay from a port of its own to target, keeping every byte both ways."""

    def __init__(self, target_port):
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.data = bytearray()
        self.socks = []
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def addr(self):
        return f"127.0.0.1:{self.port}"

    def _accept(self):
        while not self.stopping:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self.lock:
                self.socks += [client, server]
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client), daemon=True).start()

    def _pump(self, src, dst):
        while True:
            try:
                chunk = src.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            with self.lock:
                self.data += chunk
            try:
                dst.sendall(chunk)
            except OSError:
                break
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def captured(self):
        with self.lock:
            return bytes(self.data)

    def reset(self):
        with self.lock:
            self.data = bytearray()

    def stop(self):
        self.stopping = True
        self.listener.close()
        with self.lock:
            for s in self.socks:
                try:
                    s.close()
                except OSError:
                    pass


@pytest.fixture
def relays():
    made = []

    def make(target_port):
        r = Relay(target_port)
        made.append(r)
        return r

    yield make
    for r in made:
        r.stop()


def peer_entry(node, peer):
    for n in node.node_list()["nodes"]:
        if n["name"] == peer.name:
            return n
    return None


def peer_protocol(node, peer):
    e = peer_entry(node, peer)
    return (e["protocol"], e["version"]) if e and e.get("state") == "ALIVE" else None


def secret_app(cluster, tag, secret):
    """A cluster application whose restore script carries secret (as a password would)."""
    app = cluster.app(tag)
    text = app.restore.read_text()
    app.restore.write_text(text.replace("#!/bin/bash\n", f"#!/bin/bash\n# DB_PASSWORD={secret}\n",
                                        1))
    return app


def test_rolling_upgrade_from_the_previous_release(cluster, relays):
    old = old_build()
    new_node, old_node = cluster.add_node("node1"), cluster.add_node("node2")
    use_build(old_node, old)
    new_node.start()
    old_node.start()
    # Every comm path through a relay: node1 -> relay1 -> node2, node2 -> relay2 -> node1.
    to_old, to_new = relays(old_node.port), relays(new_node.port)
    new_node.cli("commpath", "create", "--node", "node2", "--address", to_old.addr)
    old_node.cli("commpath", "create", "--node", "node1", "--address", to_new.addr)
    cluster.wait_all_alive([new_node, old_node])

    # The new node knows the old one speaks protocol 1, says so loudly, and shows it.
    wait_eq(lambda: peer_protocol(new_node, old_node), (1, "unknown"),
            what="node1 to show node2 on protocol 1")
    wait_for(lambda: new_node.has_event(1690, "node2"), what="the protocol 1 warning on node1")
    warning = new_node.events(1690)[-1]["message"]
    assert "not encrypted" in warning and "upgrade" in warning, warning
    text = new_node.cli("node", "list").stdout
    line = [ln for ln in text.splitlines() if ln.startswith("node2 ")]
    assert line and "1 (in clear)" in line[0] and "unknown" in line[0], text
    paths = new_node.cli("commpath", "list").stdout
    assert "1 (in clear)" in paths and "encrypted" not in paths, paths
    # No key rotation over a path in clear: refused, nothing written.
    key_before = (new_node.root / "etc" / "authkey").read_text()
    p = new_node.cli("cluster", "rotate-key", check=False)
    assert p.returncode == 1 and "speaks protocol 1" in p.stderr, p
    assert (new_node.root / "etc" / "authkey").read_text() == key_before
    assert not (new_node.root / "etc" / "authkey.next").exists()

    # Cluster settings from the new node reach the old one (it does not know min-protocol).
    cluster.configure([new_node, old_node], heartbeat_ms=200, misses=5, max_failovers=10)
    assert not old_node.has_event(1642), old_node.log_text()

    # A resource fails over both ways between the old and the new node.
    secret1 = "s3cret-" + os.urandom(6).hex()
    app = secret_app(cluster, "web", secret1)
    new_node.create(app.tag, app.restore, app.remove, "--quickchk", app.quickchk,
                    "--app-info", f"dbpass={secret1}")
    wait_for(lambda: app.runs_only_on(new_node), what="web on node1")
    new_node.cli("resource", "extend", "--tag", "web", "--node", "node2", "--priority", "2")
    wait_eq(lambda: old_node.state("web"), "OSU", what="web extended to the old node2")
    # Protocol 1 is in clear: the relay read the script (so it sees what it must).
    assert secret1.encode() in to_old.captured() + to_new.captured()

    new_node.kill9_all()
    wait_for(lambda: app.runs_only_on(old_node), what="web failed over to the old node2")
    wait_eq(lambda: old_node.state("web"), "ISP", what="web ISP on node2")
    new_node.start()
    cluster.wait_all_alive([new_node, old_node])
    wait_eq(lambda: peer_protocol(new_node, old_node), (1, "unknown"),
            what="node1 to show node2 on protocol 1 again")
    old_node.kill9_all()
    wait_for(lambda: app.runs_only_on(new_node), what="web failed over back to the new node1")
    wait_eq(lambda: new_node.state("web"), "ISP", what="web ISP on node1")

    # The old node is upgraded: the same root, the new binaries.
    use_build(old_node, Path(os.environ.get("LK_BUILD") or REPO / "build"))
    old_node.start()
    cluster.wait_all_alive([new_node, old_node])
    wait_eq(lambda: peer_protocol(new_node, old_node)[0], 2, what="node1 to see node2 on 2")
    wait_eq(lambda: peer_protocol(old_node, new_node)[0], 2, what="node2 to see node1 on 2")
    assert peer_protocol(old_node, new_node)[1] != "unknown"
    wait_for(lambda: new_node.has_event(1692, "node2"), what="the protocol 2 event on node1")
    for n, p in ((new_node, old_node), (old_node, new_node)):
        entry = [e for e in n.node_list()["peers"] if e["name"] == p.name][0]
        alive = [c for c in entry["paths"] if c["state"] == "ALIVE"]
        assert alive and all(c["protocol"] == 2 and c["encrypted"] for c in alive), entry
    paths = new_node.cli("commpath", "list").stdout
    assert "2 (encrypted)" in paths and "in clear" not in paths, paths
    wait_eq(lambda: old_node.state("web"), "OSU", what="web OSU on the upgraded node2")

    # From now on nothing readable crosses the wire: a new resource's scripts and its
    # app-info, extended to the other node, and a failover with a script run.
    for r in (to_old, to_new):
        r.reset()
    secret2 = "s3cret-" + os.urandom(6).hex()
    app2 = secret_app(cluster, "db", secret2)
    new_node.create(app2.tag, app2.restore, app2.remove, "--quickchk", app2.quickchk,
                    "--app-info", f"dbpass={secret2}")
    wait_for(lambda: app2.runs_only_on(new_node), what="db on node1")
    new_node.cli("resource", "extend", "--tag", "db", "--node", "node2", "--priority", "2")
    wait_eq(lambda: old_node.state("db"), "OSU", what="db extended to node2")
    # It did cross: node2 holds the script and the app-info.
    assert secret2 in old_node.script_copy("restore", "db").read_text()
    assert secret2 in json.dumps(old_node.resource("db"))
    new_node.cli("resource", "restore", "--tag", "db", "--node", "node2")
    wait_for(lambda: app2.runs_only_on(old_node), what="db switched over to node2")
    captured = to_old.captured() + to_new.captured()
    assert len(captured) > 2000, len(captured)
    assert b"OKW2" in captured
    for word in (secret2.encode(), b"DB_PASSWORD", b"dbpass", b"okapp", b"restore"):
        assert word not in captured, word
    holds(lambda: app.runs_only_on(new_node), 1, what="web stays on node1")


def test_min_protocol_refuses_the_previous_release(cluster, relays):
    old = old_build()
    new_node, old_node = cluster.add_node("node1"), cluster.add_node("node2")
    use_build(old_node, old)
    new_node.start()
    old_node.start()
    new_node.cli("commpath", "create", "--node", "node2", "--address", old_node.addr)
    old_node.cli("commpath", "create", "--node", "node1", "--address", new_node.addr)
    cluster.wait_all_alive([new_node, old_node])

    bad = new_node.cli("cluster", "config", "--min-protocol", "3", check=False)
    assert bad.returncode != 0 and "min-protocol" in bad.stderr, bad
    new_node.cli("cluster", "config", "--min-protocol", "2")
    wait_eq(lambda: new_node.peer_state(old_node), "DEAD", what="node1 to refuse the old node2")
    wait_for(lambda: new_node.has_event(1691, "node2"), what="the refusal event on node1")
    msg = new_node.events(1691)[-1]["message"]
    assert "protocol 1" in msg and "requires protocol 2" in msg and "unknown" in msg, msg
    holds(lambda: new_node.peer_state(old_node) != "ALIVE", 2, what="node2 stays refused")
    assert new_node.settings()["min-protocol"] == "2"


def authkey(node, name="authkey"):
    p = node.root / "etc" / name
    return p.read_text().strip() if p.exists() else None


def pulses_accepted(node, peer):
    """How many of peer's pulses node accepted (its status, cluster.peers[].pulse)."""
    for p in node.status()["cluster"]["peers"]:
        if p["name"] == peer.name:
            return p["pulse"]["accepted"]
    return 0


def test_rotate_key_without_downtime(cluster, tmp_path):
    n1, n2, n3 = cluster.build(3)
    app = cluster.app("web")
    n1.create(app.tag, app.restore, app.remove, "--quickchk", app.quickchk)
    wait_for(lambda: app.runs_only_on(n1), what="web on node1")
    n1.cli("resource", "extend", "--tag", "web", "--node", "node2", "--priority", "2")
    wait_eq(lambda: n2.state("web"), "OSU", what="web extended to node2")
    n3.stop()
    cluster.wait_dead([n1, n2], n3)
    old = authkey(n1)
    assert authkey(n2) == old

    # Bad input: nothing changes.
    bad = tmp_path / "bad.key"
    bad.write_text("not a key\n")
    p = n1.cli("cluster", "rotate-key", "--key-file", bad, check=False)
    assert p.returncode == 2 and "is not a cluster key" in p.stderr, p
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    p = n1.cli("cluster", "rotate-key", "--key-file", n1.root / "etc" / "authkey", check=False)
    assert p.returncode == 2 and "current cluster key" in p.stderr, p
    assert authkey(n1) == old and authkey(n1, "authkey.next") is None

    dead_before = [len(n.events(1603)) for n in (n1, n2)]
    out = n1.cli_json("cluster", "rotate-key")
    assert out["acknowledged"] == ["node2"], out
    assert out["not_given"] == ["node3"], out
    new = authkey(n1)
    assert new != old and len(new) == 64
    wait_eq(lambda: authkey(n2), new, what="node2 to write the new key")
    for n in (n1, n2):
        assert authkey(n, "authkey.next") is None
        assert (n.root / "etc" / "authkey").stat().st_mode & 0o777 == 0o600
        assert n.has_event(1694)
    assert n1.has_event(1696, "node3")
    # The connections move to the new key (the old one is forgotten once unused) without
    # either node ever losing the other; the application never moved.
    holds(lambda: n1.peer_state(n2) == "ALIVE" and n2.peer_state(n1) == "ALIVE", 3,
          what="node1 and node2 keep hearing each other")
    assert [len(n.events(1603)) for n in (n1, n2)] == dead_before
    assert app.runs_only_on(n1)

    # A restarted node2 joins with the new key alone.
    n2.stop()
    cluster.wait_dead([n1], n2)
    n2.start()
    cluster.wait_all_alive([n1, n2])
    # Their pulses (liveness off the main loop) are under the new key too: node1 accepts
    # the restarted node2's, which node2 sends under the key it read from its file.
    before = pulses_accepted(n1, n2)
    wait_for(lambda: pulses_accepted(n1, n2) > before + 3,
             what="node1 to accept node2's pulses under the new key")

    # node3 was down: with the old key it is refused; with the new key copied, it joins.
    n3.start(check=False)
    wait_for(lambda: n1.has_event(1604, "node3") or n1.has_event(1604, "127.0.0.1"),
             what="node1 to refuse node3's old key")
    assert n1.peer_state(n3) != "ALIVE"
    n3.stop(check=False)
    (n3.root / "etc" / "authkey").write_text(new + "\n")
    n3.start()
    cluster.wait_all_alive([n1, n2, n3])
    n1.cli("resource", "restore", "--tag", "web", "--node", "node2")
    wait_for(lambda: app.runs_only_on(n2), what="web switched over to node2 after the rotation")


def test_guard_fenced_frame_after_a_key_rotation(cluster):
    """The guard signs its "fenced itself" frame with the cluster key: after a rotation it
    reads the new key (its plan names the replaced file), so the peer still believes it."""
    n1, n2 = cluster.build(2, guard=True)
    app = cluster.app("app1")
    n1.create("app1", app.restore, app.remove, "--quickchk", app.quickchk)
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "2")
    wait_eq(lambda: n2.state("app1"), "OSU", what="app1 extended to node2")
    wait_for(lambda: app.runs_only_on(n1), what="app1 on node1")
    wait_for(lambda: n1.cli_json("status")["guard"]["running"], what="node1's guard")

    n2.cli("cluster", "rotate-key")
    key_file = n1.root / "etc" / "authkey"
    wait_eq(lambda: key_file.read_text().strip(), authkey(n2), what="node1 to take the new key")

    def plan_current():
        st = key_file.stat()
        plan = json.loads((n1.root / "run" / "guard.plan").read_text())
        stamp = f"{st.st_ino}:{st.st_mtime_ns // 10**9}{st.st_mtime_ns % 10**9:09d}"
        return plan.get("authkey_stamp") == stamp and \
            n1.cli_json("status")["guard"].get("plan_current", True)

    wait_for(plan_current, what="node1's guard to run with the plan of the new key")
    # While the plan is rewritten node1's heartbeats say it is not guarded: node2 must have
    # heard a heartbeat sent since (one leaves every HB_MS), or it would take over at once
    # instead of waiting for the guard's word, and both copies would run for a moment.
    time.sleep(3 * HB_MS / 1000)
    wait_for(lambda: any(n["name"] == "node1" and n.get("guarded")
                         for n in n2.node_list()["nodes"]),
             what="node2 to hear that node1 is guarded again")
    wait_for(lambda: "fenced by the guard" in
             [h.get("safety", "") for h in n1.cli_json("status")["hierarchies"]][0],
             what="the hierarchy fenced by the guard")
    os.kill(n1.daemon_pid(), signal.SIGKILL)
    wait_for(lambda: app.runs_only_on(n2), what="node2 to take app1 over")
    wait_for(lambda: n2.has_event(1672, "node1"), what="node2 to believe node1's guard")


def test_rotate_key_refused_by_a_peer_changes_nothing(cluster):
    n1, n2 = cluster.build(2)
    old = authkey(n1)
    # node2 cannot write its next key (its temporary file's name is taken by a directory).
    (n2.root / "etc" / "authkey.next.tmp").mkdir()
    p = n1.cli("cluster", "rotate-key", check=False)
    assert p.returncode == 1, p
    assert "node node2 refused the new key" in p.stderr and "rotation aborted" in p.stderr, p
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    for n in (n1, n2):
        assert authkey(n) == old
        assert not (n.root / "etc" / "authkey.next").exists()
    assert n1.has_event(1695, "node2")
    # The cluster goes on with the old key: a restarted node joins.
    n2.stop()
    cluster.wait_dead([n1], n2)
    (n2.root / "etc" / "authkey.next.tmp").rmdir()
    n2.start()
    cluster.wait_all_alive([n1, n2])
    # And the rotation works once node2 can write.
    out = n1.cli_json("cluster", "rotate-key")
    assert out["acknowledged"] == ["node2"] and out["not_given"] == [], out
    wait_eq(lambda: authkey(n2), authkey(n1), what="node2 to take the new key")
    assert authkey(n1) != old
