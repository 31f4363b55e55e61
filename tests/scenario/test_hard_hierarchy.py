"""Hardening (issue 11, item 7): a large hierarchy is restored and removed while the node
keeps answering.

A chain of 1,000 resources (r0 depends on r1, which depends on r2, ... r999), each with a
restore and a remove script that append "<action> <tag>" to one file. Restoring r0 runs
the 1,000 restores one after the other, children first; removing r999 runs the 1,000
removes, parents first. While each runs, `lkcli status --json` is asked again and again:
every answer must come within a generous bound (a liveness condition, not a speed
figure: before the fix each step of the walk blocked the loop for seconds at this size),
and some answers must show the operation under way, or the polling proved nothing.

The resources and dependencies are created over the local socket, one request each, as
lkcli sends them (without starting 2,000 processes).
"""

import base64
import json
import os
import socket
import subprocess
import sys
import threading


def sanitized_build():
    """Whether LK_BUILD is the ASan + UBSan build (its lkd carries the ASan runtime)."""
    lkd = os.path.join(os.environ.get("LK_BUILD", "build"), "lkd")
    try:
        with open(lkd, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


# 1,000 resources on the plain build (the size); under ASan + UBSan, whose run of
# the suite looks for memory errors, 300 walk the same code at a third of the time.
N = 300 if sanitized_build() else 1000
# status --json nests the hierarchy tree: a 1,000-deep chain is 2,000 levels of JSON.
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
STATUS_BOUND_S = 3      # each status answer, while the hierarchy is restored or removed
OPERATION_BOUND_S = 900  # the whole restore, the whole remove


def request(node, cmd, args):
    """One request over run/lkd.sock; the final reply's data (progress lines skipped)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    try:
        s.connect(str(node.root / "run" / "lkd.sock"))
        s.sendall((json.dumps({"v": 1, "cmd": cmd, "args": args}) + "\n").encode())
        buf = b""
        while True:
            while b"\n" not in buf:
                chunk = s.recv(65536)
                assert chunk, f"{cmd}: lkd closed the connection"
                buf += chunk
            line, buf = buf.split(b"\n", 1)
            msg = json.loads(line)
            if "progress" in msg:
                continue
            assert msg.get("ok"), f"{cmd} {args}: {msg.get('error')}"
            return msg.get("data")
    finally:
        s.close()


class StatusPoller(threading.Thread):
    """Asks `lkcli status --json` every ~50 ms until stopped; notes each answer that did
    not come within STATUS_BOUND_S, and whether any answer showed an action pending."""

    def __init__(self, node):
        super().__init__(daemon=True)
        self.node = node
        self.stop_event = threading.Event()
        self.late = []
        self.answers = 0
        self.saw_pending = 0

    def run(self):
        argv = [self.node.bin("lkcli"), "--root", str(self.node.root), "--json", "status"]
        while not self.stop_event.is_set():
            try:
                p = subprocess.run(argv, capture_output=True, text=True, timeout=STATUS_BOUND_S)
            except subprocess.TimeoutExpired:
                self.late.append("no answer within %d s" % STATUS_BOUND_S)
                continue
            if p.returncode != 0:
                self.late.append(f"status failed: {p.stderr.strip()}")
                continue
            self.answers += 1
            resources = json.loads(p.stdout)["resources"]
            self.saw_pending += any(r["pending"] not in ("", "none") for r in resources)
            self.stop_event.wait(0.05)

    def finish(self):
        self.stop_event.set()
        self.join(timeout=STATUS_BOUND_S + 10)


def states(node):
    return {r["tag"]: (r["state"], r.get("pending")) for r in node.status()["resources"]}


def run_polled(node, *args):
    """Runs `lkcli <args>` (a whole-hierarchy action) while status is polled; returns the
    poller once both ended."""
    poller = StatusPoller(node)
    poller.start()
    try:
        p = node.cli(*args, check=False, timeout=OPERATION_BOUND_S)
    finally:
        poller.finish()
    assert p.returncode == 0, p.stderr
    return poller


def test_a_thousand_resource_chain_restores_and_removes_while_status_answers(node):
    log = node.work / "actions.log"
    log.touch()
    body = f'#!/bin/sh\necho "$LK_ACTION $LK_TAG" >> {log}\nexit 0\n'
    script = base64.b64encode(body.encode()).decode()
    for i in range(N):
        request(node, "resource.create", {
            "type": "gen", "tag": f"r{i}", "scripts": {"restore": script, "remove": script},
            "settings": {}, "in_service": False})
    for i in range(N - 1):
        request(node, "dependency.create", {"parent": f"r{i}", "child": f"r{i + 1}"})
    assert len(node.cli_json("dependency", "list")) == N - 1
    assert set(s for s, _ in states(node).values()) == {"OSU"}

    poller = run_polled(node, "resource", "restore", "--tag", "r0")
    assert poller.late == [], poller.late
    assert poller.saw_pending > 0, "no status answer came while the restore ran"
    assert set(s for s, _ in states(node).values()) == {"ISP"}
    lines = log.read_text().splitlines()
    assert lines == [f"restore r{i}" for i in reversed(range(N))], "restore order"

    log.write_text("")
    poller = run_polled(node, "resource", "remove", "--tag", f"r{N - 1}")
    assert poller.late == [], poller.late
    assert poller.saw_pending > 0, "no status answer came while the remove ran"
    assert set(states(node).values()) == {("OSU", "")} or \
        set(states(node).values()) == {("OSU", "none")}
    lines = log.read_text().splitlines()
    assert lines == [f"remove r{i}" for i in range(N)], "remove order"
