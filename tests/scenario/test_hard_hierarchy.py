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

The loop's turns (the second half of item 7): a tree whose root has 300 branches (each
becomes ready at once: 300 restores start together), and 1,000 resources handled by the
start-up and by lkstop, must not hold the loop for long: `status --json`'s "loop"
(max_stall_ms, the worst turn since lkd started) stays under LOOP_BOUND_MS and `ping`
answers throughout. Before the work was spread across turns, the 300 starts held the loop
about 1.5 s (the guard fenced the node) and the 1,000-resource start-up 3.8 s (ping waited
11.8 s, the start-up running before the loop's first turn).
"""

import base64
import json
import socket
import subprocess
import sys
import threading
import time

import pytest

from conftest import sanitized_build
from conftest import socket_request as request


# 1,000 resources on the plain build (the size); under ASan + UBSan, whose run of
# the suite looks for memory errors, 300 walk the same code at a third of the time.
N = 300 if sanitized_build() else 1000
# status --json nests the hierarchy tree: a 1,000-deep chain is 2,000 levels of JSON.
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
STATUS_BOUND_S = 3      # each status answer, while the hierarchy is restored or removed
OPERATION_BOUND_S = 900  # the whole restore, the whole remove
# The loop's turns: the branches of a tree started at once, the resources of a start-up.
BRANCHES = 150 if sanitized_build() else 300
MANY = 300 if sanitized_build() else 1000
# The worst loop turn allowed (a bound on a stall, generous on a loaded machine: the goal
# is ~20 ms, and the stalls this catches were 1.5 s and more).
LOOP_BOUND_MS = 500
PING_BOUND_S = 3


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


@pytest.mark.serial  # a wall-clock bound on the loop: run alone (conftest.py)
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


class Pinger(threading.Thread):
    """Sends `ping` every ~20 ms until stopped; notes each that got no answer within
    PING_BOUND_S while lkd was up (a refused connection while it is down is not one)."""

    def __init__(self, node):
        super().__init__(daemon=True)
        self.node = node
        self.stop_event = threading.Event()
        self.late = []
        self.answers = 0

    def run(self):
        path = str(self.node.root / "run" / "lkd.sock")
        while not self.stop_event.is_set():
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(PING_BOUND_S)
            try:
                s.connect(path)
                s.sendall(b'{"v": 1, "cmd": "ping", "args": {}}\n')
                buf = b""
                while b"\n" not in buf:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    buf += chunk
                if buf:
                    self.answers += 1
            except socket.timeout:
                self.late.append("no ping answer within %d s" % PING_BOUND_S)
            except OSError:
                pass  # lkd not up (restarting, stopped)
            finally:
                s.close()
            self.stop_event.wait(0.02)

    def finish(self):
        self.stop_event.set()
        self.join(timeout=PING_BOUND_S + 10)


def create_tree(node, n, log):
    """r0 with n - 1 branches r1..r(n-1), each restore and remove appending to log."""
    body = f'#!/bin/sh\necho "$LK_ACTION $LK_TAG" >> {log}\nexit 0\n'
    script = base64.b64encode(body.encode()).decode()
    for i in range(n):
        request(node, "resource.create", {
            "type": "gen", "tag": f"r{i}", "scripts": {"restore": script, "remove": script},
            "settings": {}, "in_service": False})
    for i in range(1, n):
        request(node, "dependency.create", {"parent": "r0", "child": f"r{i}"})


def worst_turn_ms(node):
    return request(node, "status", {})["loop"]["max_stall_ms"]


def all_isp(node, n):
    res = states(node)
    return len(res) == n and all(s == ("ISP", "") or s == ("ISP", "none")
                                 for s in res.values())


@pytest.mark.serial  # a wall-clock bound on the loop: run alone (conftest.py)
def test_a_wide_tree_starts_its_branches_across_loop_turns_with_the_guard_on(node):
    """300 branches become ready at once: their restores start over many turns, not one.
    The guard watches the loop; the node must not be fenced, ping must answer, and the
    worst turn stay under the bound. Then the whole tree is removed the same way."""
    node.stop(force=True)
    node.guard = True
    node.start()
    log = node.work / "actions.log"
    log.touch()
    create_tree(node, BRANCHES, log)
    before = worst_turn_ms(node)
    assert before < LOOP_BOUND_MS, f"setting up already stalled the loop {before} ms"

    pinger = Pinger(node)
    pinger.start()
    try:
        node.cli("resource", "restore", "--tag", "r0", timeout=OPERATION_BOUND_S)
        restored = worst_turn_ms(node)
        node.cli("resource", "remove", "--tag", "r0", "--hierarchy", timeout=OPERATION_BOUND_S)
    finally:
        pinger.finish()
    assert node.daemon_running(), "lkd is gone (fenced?)"
    assert pinger.late == [], pinger.late
    assert pinger.answers > 0
    worst = worst_turn_ms(node)
    assert restored < LOOP_BOUND_MS, f"the restore held the loop {restored} ms in one turn"
    assert worst < LOOP_BOUND_MS, f"the remove held the loop {worst} ms in one turn"
    lines = log.read_text().splitlines()
    # Every branch restored once, before the root; then the root removed before them.
    restores = [x for x in lines if x.startswith("restore ")]
    removes = [x for x in lines if x.startswith("remove ")]
    assert sorted(restores) == sorted(f"restore r{i}" for i in range(BRANCHES))
    assert restores[-1] == "restore r0"
    assert sorted(removes) == sorted(f"remove r{i}" for i in range(BRANCHES))
    assert removes[0] == "remove r0"
    assert set(s for s, _ in states(node).values()) == {"OSU"}


@pytest.mark.serial  # a wall-clock bound on the loop: run alone (conftest.py)
def test_a_start_up_and_a_stop_of_a_thousand_resources_keep_the_loop_turning(node):
    """1,000 resources in service; lkd stopped leaving them running, then started: the
    start-up handles each (here: a restore, there being no check to probe with) across
    turns; then lkstop takes them all out of service the same way. ping answers all along,
    the worst turn stays under the bound, and every resource ends as it should."""
    log = node.work / "actions.log"
    log.touch()
    create_tree(node, MANY, log)
    node.cli("resource", "restore", "--tag", "r0", timeout=OPERATION_BOUND_S)
    node.stop(force=True)
    log.write_text("")

    pinger = Pinger(node)
    pinger.start()
    try:
        node.start()
        wait_isp = time.monotonic() + OPERATION_BOUND_S
        while not all_isp(node, MANY):
            assert time.monotonic() < wait_isp, "the start-up did not end"
            time.sleep(0.5)
        started = worst_turn_ms(node)
        assert started < LOOP_BOUND_MS, f"the start-up held the loop {started} ms in one turn"
        restores = [x for x in log.read_text().splitlines() if x.startswith("restore ")]
        assert sorted(restores) == sorted(f"restore r{i}" for i in range(MANY))
        assert restores[-1] == "restore r0"

        # lkstop: every resource removed; the last status answered before lkd left shows
        # the worst turn of the stop so far.
        log.write_text("")
        worst = [0.0]
        stopping = threading.Event()

        def poll_loop():
            while not stopping.is_set():
                try:
                    worst[0] = max(worst[0], worst_turn_ms(node))
                except (OSError, AssertionError, ValueError):
                    pass
                stopping.wait(0.2)

        poller = threading.Thread(target=poll_loop, daemon=True)
        poller.start()
        node.stop(timeout=OPERATION_BOUND_S)
        stopping.set()
        poller.join(timeout=30)
    finally:
        pinger.finish()
    assert pinger.late == [], pinger.late
    assert worst[0] < LOOP_BOUND_MS, f"the stop held the loop {worst[0]} ms in one turn"
    removes = [x for x in log.read_text().splitlines() if x.startswith("remove ")]
    assert sorted(removes) == sorted(f"remove r{i}" for i in range(MANY))
    assert removes[0] == "remove r0"


def test_lkd_killed_while_starts_are_queued_recovers_at_the_next_start(node):
    """kill -9 of lkd while the branches' restores are still being started (some queued,
    never started): the next start finds them interrupted (pending in the store) and
    brings the tree in service, each branch before the root."""
    log = node.work / "actions.log"
    log.touch()
    create_tree(node, BRANCHES, log)
    p = subprocess.Popen([node.bin("lkcli"), "--root", str(node.root), "resource", "restore",
                          "--tag", "r0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(log.read_text().splitlines()) < 5:
            assert time.monotonic() < deadline, "no restore started"
            time.sleep(0.005)
        node.kill9()
    finally:
        p.wait(timeout=60)
    node.start()
    deadline = time.monotonic() + OPERATION_BOUND_S
    while not all_isp(node, BRANCHES):
        assert time.monotonic() < deadline, "the tree did not come back in service"
        time.sleep(0.5)
    lines = log.read_text().splitlines()
    assert set(lines) == set(f"restore r{i}" for i in range(BRANCHES))
    assert lines[-1] == "restore r0"
