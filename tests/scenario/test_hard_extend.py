"""Hardening (issue 11, item 7): a peer applying hundreds of definitions keeps its loop
turning, and an extend of a large hierarchy answers.

Two nodes, each with its lkguard (the guard fences a node whose loop stops: here that is
what failed). A chain of N resources (r0 depends on r1, ... r(N-1)) is created on node1
and the whole hierarchy extended to node2 with `lkcli resource extend`. Before the fix
node2 applied every object it received in one loop turn (1.3 s at 300, 3.7 s at 1,000 on
a loaded 2-core machine, and more under ASan), and node1 built and ordered them in one
turn too: status did not answer meanwhile, and a long enough turn got a node fenced by its
guard. Now:
- the extend answers, with progress lines while node2 catches up;
- node2 keeps answering status while it applies them, and some answers show it part way;
- neither lkd is fenced, and node2's worst loop turn (status --json "loop") stays under
  a generous bound;
- a node that comes back after every definition changed catches up the same way, and a
  kill -9 in the middle of that catch-up leaves a store the next resync completes.
"""

import base64
import json
import os
import signal
import subprocess
import sys
import threading

import pytest

from conftest import sanitized_build
from conftest import socket_request as request
from cluster import wait_for


# 1,000 resources on the plain build; under ASan + UBSan (a run that looks for memory
# errors) 300 walk the same code in a third of the time, and failed before the fix too.
N = 300 if sanitized_build() else 1000
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))  # status nests the chain
STATUS_BOUND_S = 3     # each status answer on node2 while it applies the definitions
WORST_TURN_MS = 500    # node2's worst loop turn (wall clock) over the whole test
OPERATION_BOUND_S = 900


def guard_pid(node):
    try:
        return int((node.root / "run" / "lkguard.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


class StatusPoller(threading.Thread):
    """`lkcli --json status` on node every ~100 ms until stopped: notes each answer that
    did not come within STATUS_BOUND_S, and each count of resources with info `want`."""

    def __init__(self, node, want):
        super().__init__(daemon=True)
        self.node = node
        self.want = want
        self.stop_event = threading.Event()
        self.late = []
        self.counts = []

    def run(self):
        argv = [self.node.bin("lkcli"), "--root", str(self.node.root), "--json", "status"]
        while not self.stop_event.is_set():
            try:
                p = subprocess.run(argv, capture_output=True, text=True, timeout=STATUS_BOUND_S)
            except subprocess.TimeoutExpired:
                self.late.append("no answer within %d s" % STATUS_BOUND_S)
                continue
            if p.returncode != 0:
                # Not started yet, or killed by the test: not a stall.
                if not any(w in p.stderr for w in ("cannot connect", "is not running")):
                    self.late.append(f"status failed: {p.stderr.strip()}")
                self.stop_event.wait(0.1)
                continue
            res = json.loads(p.stdout)["resources"]
            self.counts.append(sum(1 for r in res if r.get("info") == self.want))
            self.stop_event.wait(0.1)

    def finish(self):
        self.stop_event.set()
        self.join(timeout=STATUS_BOUND_S + 10)

    def saw_part_way(self):
        return any(0 < c < N for c in self.counts)


def make_chain(n1):
    ok = base64.b64encode(b"#!/bin/sh\nexit 0\n").decode()
    for i in range(N):
        request(n1, "resource.create", {
            "type": "gen", "tag": f"r{i}", "scripts": {"restore": ok, "remove": ok},
            "settings": {}, "info": "first", "in_service": False})
    for i in range(N - 1):
        request(n1, "dependency.create", {"parent": f"r{i}", "child": f"r{i + 1}"})


def count_with(node, info):
    try:
        res = node.status()["resources"]
    except (AssertionError, ValueError):
        return -1
    return sum(1 for r in res if r.get("info") == info)


def worst_turn_ms(node):
    return node.status()["loop"]["max_stall_ms"]


def guarded_pair(cluster):
    n1, n2 = cluster.build(2, guard=True)
    for n in (n1, n2):
        wait_for(lambda n=n: n.status()["guard"]["running"], what=f"{n.name}'s guard")
    return n1, n2


def extend_chain(n1, n2):
    poller = StatusPoller(n2, "first")
    poller.start()
    try:
        p = n1.cli("resource", "extend", "--tag", "r0", "--node", "node2", check=False,
                   timeout=OPERATION_BOUND_S)
    finally:
        poller.finish()
    return p, poller


@pytest.mark.serial  # a wall-clock bound on the loop: run alone (conftest.py)
def test_extending_a_large_hierarchy_answers_and_the_peer_keeps_turning(cluster):
    n1, n2 = guarded_pair(cluster)
    make_chain(n1)
    pids = (n1.daemon_pid(), n2.daemon_pid(), guard_pid(n2))

    p, poller = extend_chain(n1, n2)
    assert p.returncode == 0, f"the extend did not answer: {p.stderr}\n{n2.log_text()}"
    assert "extended to node node2" in p.stdout, p.stdout
    # It said how far node2 got while it waited.
    assert "node node2: " in p.stdout and f" of {N} resources defined" in p.stdout, p.stdout
    assert alive(pids[0]) and alive(pids[1]), "a node was fenced:\n" + n2.log_text()
    assert (n1.daemon_pid(), n2.daemon_pid(), guard_pid(n2)) == pids
    assert poller.late == [], poller.late[:5]
    assert poller.saw_part_way(), f"no status answer while node2 applied them: {poller.counts}"
    assert count_with(n2, "first") == N
    assert len(n2.cli_json("dependency", "list")) == N - 1
    assert worst_turn_ms(n2) < WORST_TURN_MS, n2.status()["loop"]
    assert n2.peer_state("node1") == "ALIVE" and n1.peer_state("node2") == "ALIVE"


@pytest.mark.serial  # a wall-clock bound on the loop: run alone (conftest.py)
def test_a_rejoining_node_catches_up_hundreds_of_definitions_across_a_kill(cluster):
    n1, n2 = guarded_pair(cluster)
    make_chain(n1)
    p, _ = extend_chain(n1, n2)
    assert p.returncode == 0, p.stderr
    assert count_with(n2, "first") == N

    # node2 away while every definition changes on node1.
    n2.stop()
    wait_for(lambda: n1.peer_state("node2") == "DEAD", what="node2 DEAD on node1")
    for i in range(N):
        request(n1, "resource.config", {"tag": f"r{i}", "info": "second"})

    # It comes back and receives them (during its start: lkstart answers once it is up to
    # date), status polled all along; killed with -9 part way, it starts again and the
    # next exchange completes what it had not applied.
    poller = StatusPoller(n2, "second")
    poller.start()
    starter = threading.Thread(target=n2.start, kwargs={"check": False}, daemon=True)
    starter.start()
    try:
        wait_for(lambda: count_with(n2, "second") > 0 or not starter.is_alive(),
                 timeout=OPERATION_BOUND_S, interval=0.02, what="node2 to start applying")
        pid = n2.daemon_pid()
        assert pid and alive(pid), "node2 did not start:\n" + n2.log_text()
        # (Each object costs a few disk syncs: 1,000 take seconds, 300 under ASan too.)
        assert count_with(n2, "second") < N, "node2 caught up before it could be killed"
        poller.finish()  # (a status in flight would fail with the kill)
        os.kill(pid, signal.SIGKILL)
        starter.join(timeout=120)
    finally:
        poller.finish()
    assert poller.late == [], poller.late[:5]
    wait_for(lambda: not alive(pid), what="node2's lkd gone")
    poller = StatusPoller(n2, "second")
    poller.start()
    try:
        n2.start()
        pid = n2.daemon_pid()
        wait_for(lambda: count_with(n2, "second") == N or not alive(pid),
                 timeout=OPERATION_BOUND_S, interval=0.5, what="node2 to catch up")
    finally:
        poller.finish()
    assert alive(pid), "node2 was fenced while it caught up:\n" + n2.log_text()
    assert poller.late == [], poller.late[:5]
    assert count_with(n2, "second") == N
    assert len(n2.cli_json("dependency", "list")) == N - 1
    # node2's worst turn is its start-up's here (every resource loaded in one turn, not
    # this test's subject); node1, which sent them, is held to the bound.
    assert worst_turn_ms(n1) < WORST_TURN_MS, n1.status()["loop"]
