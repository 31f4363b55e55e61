"""lkguard on its own (issue 10, the guard): real processes, real cgroups, real sockets,
and no lkd. A fake lkd (a Python child) makes run/guard.feed with the page's layout
(src/lib/guard.h) and feeds it on a timer; the test writes run/guard.plan and bumps
plan_gen as lkd does. Real `sleep` processes run in cgroups the test makes under the
cgroup v2 mount; a fake peer listens on 127.0.0.1 and checks the fenced frame's magic,
type, session, seq, HMAC-SHA-256 and payload.

Page layout (little-endian, natural alignment), as guard.c's static asserts fix it:
  0 magic u32 | 4 version u32 | 8 lkd_pid i32 | 12 lkd_state u32 | 16 seq u64 |
  24 fed_mono_ns u64 | 32 plan_gen u64 | 40 dead_ms u64 | 48 guard_pid i32 | 52 fenced u32 |
  56 guard_mono_ns u64 | 64 watchdog_armed u32 | 68 plan_loaded u32 | 72 fence_why char[256]
"""

import hashlib
import hmac
import json
import mmap
import os
import secrets
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cluster import wait_for
from conftest import BUILD, SANITIZER_WORDS, free_port

LKGUARD = str(BUILD / "lkguard")
MAGIC = 0x4F4B4744
STARTING, RUNNING, STOPPED = 0, 1, 2
DEAD_MS = 3000
SLOW = 30  # generous bound for every wait

FAKE_LKD = r'''
import mmap, os, signal, struct, sys, time
root, dead_ms = sys.argv[1], int(sys.argv[2])
path = os.path.join(root, "run", "guard.feed")
tmp = path + ".new"
fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
os.ftruncate(fd, 4096)
m = mmap.mmap(fd, 4096)
os.close(fd)
struct.pack_into("<IiI", m, 4, 1, os.getpid(), 0)
struct.pack_into("<Q", m, 40, dead_ms)
struct.pack_into("<I", m, 0, 0x4F4B4744)
os.rename(tmp, path)
feeding = True
def stop_feeding(*_):
    global feeding
    feeding = False
def clean_stop(*_):
    struct.pack_into("<I", m, 12, 2)
    os._exit(0)
signal.signal(signal.SIGUSR1, stop_feeding)
signal.signal(signal.SIGUSR2, clean_stop)
print("ready", flush=True)
while True:
    if feeding:
        struct.pack_into("<Q", m, 24, time.monotonic_ns())
        struct.pack_into("<Q", m, 16, struct.unpack_from("<Q", m, 16)[0] + 1)
        struct.pack_into("<I", m, 12, 1)
    if struct.unpack_from("<I", m, 52)[0]:
        os._exit(3)  # fenced: lkd exits at its next feed
    time.sleep(0.05)
'''


def cgroup2_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split()[0] == "cgroup2":
                return Path(left.split()[4])
    return None


def pid_alive(pid):
    """Whether pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


class FakePeer:
    """A TCP listener on 127.0.0.1 that keeps every frame it receives, checked."""

    def __init__(self, key):
        self.key = key
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.frames = []  # (header dict, payload dict)
        self.errors = []
        self.connections = 0
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            self.connections += 1
            conn.settimeout(5)
            data = b""
            try:
                while True:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except OSError as e:
                self.errors.append(f"read: {e}")
            conn.close()
            self._check(data)

    def _check(self, data):
        if len(data) < 28 + 32:
            self.errors.append(f"short frame ({len(data)} bytes)")
            return
        magic, typ, flags, reserved, session, seq, plen = struct.unpack(">4sBBHQQI", data[:28])
        if len(data) != 28 + plen + 32:
            self.errors.append(f"frame of {len(data)} bytes, header says {28 + plen + 32}")
            return
        mac = hmac.new(self.key, data[:28 + plen], hashlib.sha256).digest()
        if not hmac.compare_digest(mac, data[28 + plen:]):
            self.errors.append("bad HMAC")
            return
        self.frames.append(({"magic": magic, "type": typ, "flags": flags, "reserved": reserved,
                             "session": session, "seq": seq},
                            json.loads(data[28:28 + plen])))

    def close(self):
        self.stopping = True
        self.thread.join(5)
        self.sock.close()


class Bench:
    """One test's world: a root, a fake lkd, a guard, cgroups with sleeps, a fake peer."""

    def __init__(self, tmp_path, mount):
        self.root = tmp_path / "root"
        for d in ("run", "log", "etc"):
            (self.root / d).mkdir(parents=True)
        self.key = secrets.token_bytes(32)
        (self.root / "etc" / "authkey").write_text(self.key.hex() + "\n")
        os.chmod(self.root / "etc" / "authkey", 0o600)
        self.incarnation = secrets.randbits(64)
        self.base = mount / f"lkguard-test-{os.getpid()}-{secrets.token_hex(4)}"
        self.base.mkdir()
        self.cgroups = []
        self.sleeps = []
        self.lkd = None
        self.guard = None
        self.guard_pid = None
        self.page = None
        self.peer = FakePeer(self.key)
        self.guard_log = tmp_path / "lkguard.stderr"

    # -------------------------------------------------------------- processes

    def cgroup(self, name):
        path = self.base / name
        path.mkdir()
        self.cgroups.append(path)
        return path

    def sleep_in(self, cgroup):
        procs = str(cgroup / "cgroup.procs")

        def enter():
            with open(procs, "w") as f:
                f.write(str(os.getpid()))

        p = subprocess.Popen(["sleep", "1000"], preexec_fn=enter)
        self.sleeps.append(p)
        wait_for(lambda: str(p.pid) in (cgroup / "cgroup.procs").read_text().split(), SLOW,
                 what=f"sleep {p.pid} in {cgroup}")
        return p

    def start_lkd(self, dead_ms=DEAD_MS):
        self.lkd = subprocess.Popen([sys.executable, "-c", FAKE_LKD, str(self.root), str(dead_ms)],
                                    stdout=subprocess.PIPE, text=True)
        assert self.lkd.stdout.readline().strip() == "ready"
        fd = os.open(self.root / "run" / "guard.feed", os.O_RDWR)
        self.page = mmap.mmap(fd, 4096)
        os.close(fd)
        assert self.u32(8) == self.lkd.pid

    def start_guard(self, foreground=True):
        argv = [LKGUARD, "--root", str(self.root)]
        if foreground:
            argv.append("--foreground")
            with open(self.guard_log, "ab") as log:
                self.guard = subprocess.Popen(argv, stdout=log, stderr=log)
            self.guard_pid = self.guard.pid
        else:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=SLOW)
            assert p.returncode == 0, p.stderr
            assert p.stderr == ""
            self.guard_pid = int((self.root / "run" / "lkguard.pid").read_text())
        wait_for(lambda: self.i32(48) == self.guard_pid, SLOW, what="guard_pid in the page")

    def guard_exited(self):
        if self.guard:
            return self.guard.poll() is not None
        return not pid_alive(self.guard_pid)

    def log(self):
        if self.guard:
            return self.guard_log.read_text()
        return (self.root / "log" / "lkguard.out").read_text()

    # -------------------------------------------------------------- the page and the plan

    def u32(self, off):
        return struct.unpack_from("<I", self.page, off)[0]

    def i32(self, off):
        return struct.unpack_from("<i", self.page, off)[0]

    def u64(self, off):
        return struct.unpack_from("<Q", self.page, off)[0]

    def fenced(self):
        return self.u32(52) == 1

    def why(self):
        return bytes(self.page[72:72 + 256]).split(b"\0")[0].decode()

    def plan(self, fence, peers=None, watchdog=None):
        return {"v": 1, "node": "node1", "incarnation": f"{self.incarnation:016x}",
                "dead_ms": DEAD_MS, "authkey": str(self.root / "etc" / "authkey"),
                "peers": peers if peers is not None
                else [{"name": "node2", "addresses": [self.peer.address]}],
                "fence": [{"hierarchy": h, "cgroups": [str(c) for c in cgs]} for h, cgs in fence],
                "watchdog": watchdog, "watchdog_timeout_s": 10 if watchdog else 0}

    def write_plan(self, plan):
        """As lkd does: tmp + rename, then plan_gen + 1."""
        path = self.root / "run" / "guard.plan"
        tmp = path.with_suffix(".new")
        tmp.write_text(plan if isinstance(plan, str) else json.dumps(plan))
        os.rename(tmp, path)
        struct.pack_into("<Q", self.page, 32, self.u64(32) + 1)
        return self.u64(32)

    # -------------------------------------------------------------- cleanup

    def close(self):
        """Ends every process and removes every cgroup the test made; returns what a
        sanitizer said in the guard's log, if anything."""
        for p in [self.lkd, self.guard] + self.sleeps:
            if p and p.poll() is None:
                p.kill()
                p.wait(10)
        if self.guard_pid and not self.guard and pid_alive(self.guard_pid):
            os.kill(self.guard_pid, signal.SIGKILL)
        for c in self.cgroups:
            wait_for(lambda: "populated 0" in (c / "cgroup.events").read_text(), SLOW)
            c.rmdir()
        self.base.rmdir()
        self.peer.close()
        if self.page is not None:
            self.page.close()
        for log in (self.guard_log, self.root / "log" / "lkguard.out"):
            text = log.read_text(errors="replace") if log.exists() else ""
            if any(w in text for w in SANITIZER_WORDS):
                return f"{log}:\n{text[-4000:]}"
        return None


@pytest.fixture
def bench(tmp_path):
    mount = cgroup2_mount()
    if mount is None or not (mount / "cgroup.kill").exists() and not any(
            (p / "cgroup.kill").exists() for p in mount.iterdir() if p.is_dir()):
        pytest.skip("no cgroup v2 with cgroup.kill on this machine")
    b = Bench(tmp_path, mount)
    yield b
    report = b.close()
    if report:
        pytest.fail(report, pytrace=False)


def wait_guard_exit(bench, code=0):
    wait_for(bench.guard_exited, SLOW, what="the guard's exit")
    if bench.guard:
        assert bench.guard.returncode == code, bench.log()


def check_frame(bench, hierarchies):
    wait_for(lambda: bench.peer.frames or bench.peer.errors, SLOW, what="a frame at the peer")
    assert bench.peer.errors == []
    header, payload = bench.peer.frames[0]
    assert header == {"magic": b"OKW1", "type": 4, "flags": 0, "reserved": 0,
                      "session": bench.incarnation, "seq": 1}
    assert payload["node"] == "node1"
    assert payload["incarnation"] == f"{bench.incarnation:016x}"
    assert payload["hierarchies"] == hierarchies
    assert payload["why"] == bench.why()
    return payload


def test_lkd_killed_fences_the_cgroups_and_tells_the_peers(bench):
    web, ip, db = bench.cgroup("web.res"), bench.cgroup("ip.res"), bench.cgroup("db.res")
    web_app, ip_app, db_app = bench.sleep_in(web), bench.sleep_in(ip), bench.sleep_in(db)
    refused = socket.socket()
    refused.bind(("127.0.0.1", 0))  # bound, never listening: the connect is refused
    refused_addr = f"127.0.0.1:{refused.getsockname()[1]}"
    bench.start_lkd()
    bench.write_plan(bench.plan(
            [("web", [web, ip, bench.base / "gone.res"]), ("db", [db])],
            peers=[{"name": "node2", "addresses": [bench.peer.address, refused_addr]}]))
    bench.start_guard()
    wait_for(lambda: "plan 1" in bench.log(), SLOW, what="the plan loaded")
    assert not bench.fenced()

    bench.lkd.kill()
    bench.lkd.wait(10)
    for app in (web_app, ip_app, db_app):
        assert app.wait(SLOW) == -signal.SIGKILL
    for c in (web, ip, db):
        assert "populated 0" in (c / "cgroup.events").read_text()
    wait_guard_exit(bench)
    refused.close()
    assert bench.fenced()
    assert f"lkd (pid {bench.lkd.pid}) exited without a clean stop" in bench.why()
    payload = check_frame(bench, ["web", "db"])
    assert "exited without a clean stop" in payload["why"]
    log = bench.log()
    assert f"lkguard: told node2 at {bench.peer.address}: node1 fenced itself (web, db)" in log
    assert f"lkguard: cannot tell node2 at {refused_addr}: Connection refused" in log
    assert "does not exist: nothing to kill" in log
    assert all(line.startswith("lkguard: ") for line in log.splitlines())


def test_stuck_liveness_channel_fences_after_half_the_dead_time(bench):
    web = bench.cgroup("web.res")
    app = bench.sleep_in(web)
    bench.start_lkd()
    bench.write_plan(bench.plan([("web", [web])]))
    bench.start_guard()
    wait_for(lambda: "plan 1" in bench.log(), SLOW)

    bench.lkd.send_signal(signal.SIGUSR1)  # alive, but no longer feeding
    assert app.wait(SLOW) == -signal.SIGKILL
    wait_for(bench.fenced, SLOW)
    assert "did not feed the guard for" in bench.why()
    check_frame(bench, ["web"])
    # The fake lkd sees page.fenced and exits, as lkd does; then the guard exits.
    assert bench.lkd.wait(SLOW) == 3
    wait_guard_exit(bench)
    assert "waiting for lkd" in bench.log()


def test_lkd_gone_before_the_guard_starts_fences_at_once(bench):
    web = bench.cgroup("web.res")
    app = bench.sleep_in(web)
    bench.start_lkd()
    bench.write_plan(bench.plan([("web", [web])]))
    wait_for(lambda: bench.u32(12) == RUNNING, SLOW)
    bench.lkd.kill()
    bench.lkd.wait(10)

    bench.start_guard()
    assert app.wait(SLOW) == -signal.SIGKILL
    wait_guard_exit(bench)
    assert bench.fenced()
    assert f"lkd (pid {bench.lkd.pid}) was gone when the guard started" == bench.why()
    check_frame(bench, ["web"])


def test_clean_stop_kills_nothing_and_tells_nobody(bench):
    web = bench.cgroup("web.res")
    app = bench.sleep_in(web)
    dog = bench.root / "watchdog"
    dog.write_bytes(b"")
    bench.start_lkd()
    bench.write_plan(bench.plan([("web", [web])], watchdog=str(dog)))
    bench.start_guard(foreground=False)  # detached, as lkstart starts it
    assert (bench.root / "run" / "lkguard.pid").read_text() == f"{bench.guard_pid}\n"
    wait_for(lambda: bench.u32(64) == 1, SLOW, what="the watchdog armed")

    bench.lkd.send_signal(signal.SIGUSR2)  # STOPPED, then exit
    assert bench.lkd.wait(SLOW) == 0
    wait_guard_exit(bench)
    assert not bench.fenced()
    assert app.poll() is None and str(app.pid) in (web / "cgroup.procs").read_text().split()
    assert bench.peer.connections == 0 and bench.peer.frames == []
    assert dog.read_bytes().endswith(b"V")  # the magic close: the kernel disarms it
    log = bench.log()
    assert "stopped cleanly; exiting" in log and "fencing" not in log


def test_hierarchy_not_in_the_fence_list_is_left_alone(bench):
    web, solo = bench.cgroup("web.res"), bench.cgroup("solo.res")
    web_app, solo_app = bench.sleep_in(web), bench.sleep_in(solo)
    bench.start_lkd()
    bench.write_plan(bench.plan([("web", [web]), ("solo", [solo])]))
    bench.start_guard()
    wait_for(lambda: "plan 1" in bench.log(), SLOW)
    # solo's backup node went away: lkd's next plan leaves it out.
    gen = bench.write_plan(bench.plan([("web", [web])]))
    wait_for(lambda: f"plan {gen}: node node1, 1 hierarchy to fence" in bench.log(), SLOW)

    bench.lkd.kill()
    bench.lkd.wait(10)
    assert web_app.wait(SLOW) == -signal.SIGKILL
    wait_guard_exit(bench)
    assert solo_app.poll() is None
    assert str(solo_app.pid) in (solo / "cgroup.procs").read_text().split()
    check_frame(bench, ["web"])


def test_nothing_to_fence_sends_no_frame(bench):
    solo = bench.cgroup("solo.res")
    app = bench.sleep_in(solo)
    bench.start_lkd()
    bench.write_plan(bench.plan([]))
    bench.start_guard()
    wait_for(lambda: "plan 1" in bench.log(), SLOW)
    bench.lkd.kill()
    bench.lkd.wait(10)
    wait_guard_exit(bench)
    assert bench.fenced()
    assert app.poll() is None
    assert bench.peer.connections == 0
    assert "nothing to kill, nobody to tell" in bench.log()


def test_node_paused_fences_on_the_clock_gap(bench):
    web = bench.cgroup("web.res")
    app = bench.sleep_in(web)
    bench.start_lkd()
    bench.write_plan(bench.plan([("web", [web])]))
    bench.start_guard()
    wait_for(lambda: "plan 1" in bench.log(), SLOW)

    # The whole node paused: the guard and lkd stop together and resume together.
    os.kill(bench.guard_pid, signal.SIGSTOP)
    os.kill(bench.lkd.pid, signal.SIGSTOP)
    time.sleep(DEAD_MS / 1000 + 1)
    os.kill(bench.lkd.pid, signal.SIGCONT)
    os.kill(bench.guard_pid, signal.SIGCONT)
    assert app.wait(SLOW) == -signal.SIGKILL
    wait_for(bench.fenced, SLOW)
    assert "clock jumped" in bench.why()
    check_frame(bench, ["web"])
    assert bench.lkd.wait(SLOW) == 3
    wait_guard_exit(bench)


def test_watchdog_is_fed_while_watching_and_not_after_the_fence(bench):
    web = bench.cgroup("web.res")
    bench.sleep_in(web)
    dog = bench.root / "watchdog"
    dog.write_bytes(b"")
    bench.start_lkd()
    bench.write_plan(bench.plan([("web", [web])], watchdog=str(dog)))
    bench.start_guard()
    wait_for(lambda: bench.u32(64) == 1, SLOW, what="the watchdog armed")
    wait_for(lambda: dog.stat().st_size >= 3, SLOW, what="three feeds of the watchdog")

    bench.lkd.send_signal(signal.SIGUSR1)
    wait_for(bench.fenced, SLOW)
    assert bench.u32(64) == 0
    size = dog.stat().st_size
    assert bench.lkd.wait(SLOW) == 3
    wait_guard_exit(bench)
    # No feed after the fence, and no magic close: the kernel would reset the node.
    assert dog.stat().st_size == size
    assert b"V" not in dog.read_bytes()
    assert "watchdog '%s' armed" % dog in bench.log()


def test_bad_plan_keeps_the_last_valid_one(bench):
    web = bench.cgroup("web.res")
    app = bench.sleep_in(web)
    bench.start_lkd()
    bench.write_plan(bench.plan([("web", [web])]))
    bench.start_guard()
    wait_for(lambda: "plan 1" in bench.log(), SLOW)

    bad = bench.plan([("web", [bench.base / ".." / "elsewhere"])])
    gen = bench.write_plan(bad)
    wait_for(lambda: f"cannot use plan {gen}" in bench.log(), SLOW)
    gen = bench.write_plan("{not json")
    wait_for(lambda: f"cannot use plan {gen}" in bench.log(), SLOW)
    assert "keeping the last valid plan" in bench.log()
    assert "contains '..'" in bench.log()

    bench.lkd.kill()
    bench.lkd.wait(10)
    assert app.wait(SLOW) == -signal.SIGKILL
    wait_guard_exit(bench)
    check_frame(bench, ["web"])


def test_one_guard_per_root(bench):
    bench.start_lkd()
    bench.start_guard()
    p = subprocess.run([LKGUARD, "--root", str(bench.root)], capture_output=True, text=True,
                       timeout=SLOW)
    assert p.returncode == 1
    assert p.stderr == f"lkguard: a guard is already running on this root (pid {bench.guard_pid})\n"
    assert bench.i32(48) == bench.guard_pid
    assert bench.guard.poll() is None


def test_missing_page_is_one_line_error(tmp_path):
    (tmp_path / "run").mkdir()
    p = subprocess.run([LKGUARD, "--root", str(tmp_path)], capture_output=True, text=True,
                       timeout=SLOW)
    assert p.returncode == 1
    assert p.stderr.count("\n") == 1 and p.stderr.startswith("lkguard: cannot open")
    (tmp_path / "run" / "guard.feed").write_bytes(b"\0" * 4096)
    p = subprocess.run([LKGUARD, "--root", str(tmp_path)], capture_output=True, text=True,
                       timeout=SLOW)
    assert p.returncode == 1
    assert p.stderr.count("\n") == 1 and "not a liveness page" in p.stderr
    p = subprocess.run([LKGUARD], capture_output=True, text=True, timeout=SLOW)
    assert p.returncode == 2


def fake_guard(node, text):
    """A stand-in for lkguard (LK_GUARD) that records its arguments, then runs text."""
    path = node.work / "fake-lkguard"
    path.write_text("#!/bin/sh\n"
                    f"echo \"$@\" >> '{node.work}/guard-args'\n" + text)
    path.chmod(0o755)
    return path


def lkstart(node, *extra, guard=None):
    env = dict(os.environ, LANG="C")
    env.pop("LKROOT", None)
    if guard:
        env["LK_GUARD"] = str(guard)
    return node.run([node.bin("lkstart"), "--root", node.root, "--node", node.name, "--listen",
                     f"127.0.0.1:{free_port()}", *extra], env=env)


def test_lkstart_starts_the_guard_with_the_root(make_node):
    node = make_node("n1")
    guard = fake_guard(node, "exit 0\n")
    p = lkstart(node, guard=guard)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    assert (node.work / "guard-args").read_text() == f"--root {node.root.resolve()}\n"


def test_lkstart_says_in_one_line_when_the_guard_does_not_start(make_node):
    node = make_node("n1")
    guard = fake_guard(node, "echo 'lkguard: cannot open the page' >&2\nexit 1\n")
    p = lkstart(node, guard=guard)
    assert p.returncode == 0
    assert p.stderr == ("lkstart: the guard did not start: cannot open the page; "
                        "lkd runs without it\n")
    assert node.daemon_running()


def test_lkstart_no_guard(make_node):
    node = make_node("n1")
    guard = fake_guard(node, "exit 0\n")
    p = lkstart(node, "--no-guard", guard=guard)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    assert node.daemon_running()
    assert not (node.work / "guard-args").exists()
