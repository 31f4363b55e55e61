"""`lkcli resource why` and `lkcli log --cluster` across nodes (issue 9, "'Why' only knows
check failures"), with real daemons and real scripts.

`why` gathers the events of the tag's hierarchy from every live node it is extended to
("events?" / "events" messages, docs/CLUSTER.md), merges them by time and shows the last
incident from its first failure to now, the root cause first: after a node death and a
takeover, the survivor tells both with the node names; after a restore that failed on the
other node, the node that asks shows that node's failure with the script's output line.
`log --cluster` merges the live nodes' events by time with a node column. Malformed
"events?" and "events" messages from an authenticated peer are refused (1642) and change
nothing (the bench of test_cluster_messages.py).
"""

import json
import os
import time

import pytest

from cluster import wait_eq, wait_for
from test_cluster_messages import Bench

NODE_DEAD, TAKEOVER, RESTORE_FAILED, DATA_REJECTED = 1603, 1621, 1202, 1642


def extended_app(cluster, holder, other, tag="app1"):
    """An application in service on holder, extended to other (priority 2)."""
    app = cluster.app(tag)
    holder.create(tag, app.restore, app.remove, "--quickchk", app.quickchk)
    wait_for(lambda: app.runs_only_on(holder), what=f"{tag} on {holder.name}")
    holder.cli("resource", "extend", "--tag", tag, "--node", other.name, "--priority", "2")
    wait_eq(lambda: other.state(tag), "OSU", what=f"{tag} extended to {other.name}")
    return app


def index_of(incident, node, number):
    for i, e in enumerate(incident):
        if e["node"] == node and e["number"] == number:
            return i
    raise AssertionError(f"no event {number} of {node} in the incident: "
                         f"{[(e['node'], e['number'], e['message']) for e in incident]}")


# ---------------------------------------------------------------------- node death


def test_why_after_a_node_death_shows_the_death_and_the_takeover(cluster):
    n1, n2 = cluster.build(2)
    app = extended_app(cluster, n1, n2)
    before = n2.cli("resource", "why", "--tag", "app1").stdout
    assert "no incident recorded" in before, before

    n1.kill9_all()  # lkd and the application of node1: the node crashed
    wait_for(lambda: app.runs_only_on(n2), what="app1 taken over by node2")
    wait_eq(lambda: n2.state("app1"), "ISP", what="app1 ISP on node2")

    data = n2.cli_json("resource", "why", "--tag", "app1")
    incident = data["incident"]
    dead = index_of(incident, "node2", NODE_DEAD)
    takeover = index_of(incident, "node2", TAKEOVER)
    assert dead < takeover, incident
    assert "node1" in incident[dead]["message"], incident[dead]
    assert "node node1 is dead" in incident[takeover]["message"], incident[takeover]
    assert all(e["node"] == "node2" for e in incident), incident
    assert data["root_cause"]["node"] == "node2", data["root_cause"]
    assert data["root_cause"]["number"] == NODE_DEAD, data["root_cause"]
    assert {"node": "node1", "why": "not alive"} in data["missing"], data["missing"]

    text = n2.cli("resource", "why", "--tag", "app1").stdout
    lines = text.splitlines()
    assert lines[0].startswith("root cause: node2: node node1 is DEAD"), text
    assert "no incident recorded" not in text, text
    assert "node1: not alive" in text, text
    [tk] = [ln for ln in lines if f" {TAKEOVER} " in ln]
    assert " node2 " in tk and "node node1 is dead" in tk, tk
    assert text.index(f" {NODE_DEAD} ") < text.index(f" {TAKEOVER} "), text


def test_why_after_the_failover_limit_names_the_node_death_and_the_limit(cluster):
    """Two nodes, one failover allowed: node1 dies (node2 takes over), comes back, then
    node2 dies; node1 leaves app1 out of service (1622). `why` on node1 tells it."""
    n1, n2 = cluster.build(2)
    app = extended_app(cluster, n1, n2)
    n1.kill9_all()
    wait_for(lambda: app.runs_only_on(n2), what="first failover to node2")
    n1.start()
    cluster.wait_all_alive([n1, n2])
    wait_eq(lambda: n1.state("app1"), "OSU", what="node1 back, app1 OSU there")
    n2.kill9_all()
    wait_for(lambda: n1.has_event(1622), what="event 1622 (failover limit) on node1")

    data = n1.cli_json("resource", "why", "--tag", "app1")
    incident = data["incident"]
    dead = index_of(incident, "node1", NODE_DEAD)
    limit = index_of(incident, "node1", 1622)
    assert dead < limit and "node2" in incident[dead]["message"], incident
    assert data["root_cause"]["number"] == NODE_DEAD, data["root_cause"]
    assert data["root_cause"]["line"].startswith("node1: node node2 is DEAD"), data
    assert {"node": "node2", "why": "not alive"} in data["missing"], data["missing"]
    # node1's own crash belongs to the earlier incident (it was healthy on node1 since).
    assert all(e["time_ms"] >= incident[dead]["time_ms"] for e in incident), incident


# ---------------------------------------------------------------------- failed restore


def test_why_shows_the_restore_that_failed_on_the_other_node_first(cluster):
    n1, n2 = cluster.build(2)
    app = extended_app(cluster, n1, n2)
    app.fail_on(n2)  # node2's restore prints why and exits 1

    p = n1.cli("resource", "restore", "--tag", "app1", "--node", "node2", check=False,
               timeout=120)
    assert p.returncode != 0, p.stdout
    wait_for(lambda: n2.has_event(RESTORE_FAILED), what="node2's restore to fail")
    wait_for(lambda: app.runs_only_on(n1), what="app1 back on node1")
    wait_eq(lambda: n1.state("app1"), "ISP", what="app1 ISP on node1 again")

    data = n1.cli_json("resource", "why", "--tag", "app1")
    root = data["root_cause"]
    assert root and root["node"] == "node2" and root["number"] == RESTORE_FAILED, data
    assert root["cause"] == "app1: restore refused on node2 (fail file)", root
    assert "exit status 1" in root["line"], root
    incident = data["incident"]
    failed = index_of(incident, "node2", RESTORE_FAILED)
    assert "app1: restore refused on node2 (fail file)" in incident[failed]["detail"]
    assert data["missing"] == [], data["missing"]
    times = [e["time_ms"] for e in incident]
    assert times == sorted(times), incident

    text = n1.cli("resource", "why", "--tag", "app1").stdout
    first = text.splitlines()[0]
    assert first.startswith("root cause: node2: app1: restore action failed: exit status 1"), text
    assert first.endswith(": app1: restore refused on node2 (fail file)"), text
    # The timeline has a node column: node2's failure is shown on node1.
    [line] = [ln for ln in text.splitlines() if f" {RESTORE_FAILED} " in ln]
    assert " node2 " in line, text
    assert "    | app1: restore refused on node2 (fail file)" in text, text
    # Only node1's own log, as before: node2's failure is not in it.
    assert not n1.has_event(RESTORE_FAILED), "node2's event copied into node1's log"


def test_why_names_the_script_s_lk_err_message_as_the_cause(cluster):
    """A restore that says why with lk_err before it exits 1: that message is the cause."""
    n1, n2 = cluster.build(2)
    app = extended_app(cluster, n1, n2)
    restore = n2.script_copy("restore", "app1")
    restore.write_text("#!/bin/sh\n"
                       f"{n2.bin('lk_err')} -c ERROR -n 9301 -p restore "
                       "'cannot bind 10.9.9.9: in use'\n"
                       "echo 'giving up'\nexit 1\n")

    p = n1.cli("resource", "restore", "--tag", "app1", "--node", "node2", check=False,
               timeout=120)
    assert p.returncode != 0, p.stdout
    wait_for(lambda: n2.has_event(RESTORE_FAILED), what="node2's restore to fail")
    wait_eq(lambda: n1.state("app1"), "ISP", what="app1 ISP on node1 again")
    data = n1.cli_json("resource", "why", "--tag", "app1")
    root = data["root_cause"]
    assert root["node"] == "node2" and root["number"] == RESTORE_FAILED, data
    assert root["cause"] == "cannot bind 10.9.9.9: in use", root
    index_of(data["incident"], "node2", 9301)  # the script's own message is in the timeline
    first = n1.cli("resource", "why", "--tag", "app1").stdout.splitlines()[0]
    assert first.endswith("exit status 1: cannot bind 10.9.9.9: in use"), first


# ---------------------------------------------------------------------- log --cluster


def test_log_cluster_interleaves_both_nodes_by_time(cluster):
    n1, n2 = cluster.build(2)
    extended_app(cluster, n1, n2)
    order = []
    for i in range(6):
        node = (n1, n2)[i % 2]
        node.lk_err("-c", "INFO", "-n", str(9200 + i), f"marker {i} from {node.name}",
                    check=True)
        order.append((node.name, 9200 + i))
        time.sleep(0.01)  # distinct milliseconds: the order by time is the order written

    assert not any(e["number"] == 9201 for e in n1.log_events()), "node2's event in node1's log"
    for asker in (n1, n2):
        events = asker.cli_json("log", "--cluster", "-n", "200")
        mine = [(e["node"], e["number"]) for e in events if 9200 <= e["number"] < 9206]
        assert mine == order, (asker.name, mine)
        times = [e["time_ms"] for e in events]
        assert times == sorted(times), asker.name
        assert {e["node"] for e in events} == {"node1", "node2"}, asker.name

        text = asker.cli("log", "--cluster", "-n", "200").stdout
        lines = [ln for ln in text.splitlines() if "marker " in ln]
        assert len(lines) == 6, text
        for (name, number), line in zip(order, lines):
            assert f" {name} " in line and f" {number} " in line, line

    # --tag: that tag's events of both nodes (node2's written by a script of app1).
    env = dict(os.environ, LANG="C", LK_TAG="app1")
    env.pop("LKROOT", None)
    n2.lk_err("-c", "WARNING", "-n", "9290", "app1 note from node2", check=True, env=env)
    tagged = n1.cli_json("log", "--cluster", "--tag", "app1", "-n", "200")
    assert tagged and all(e["tag"] == "app1" for e in tagged), tagged
    assert {"node1", "node2"} <= {e["node"] for e in tagged}, tagged
    assert tagged[-1]["number"] == 9290 and tagged[-1]["node"] == "node2", tagged[-1]

    # -n bounds the merged list; --follow cannot be merged.
    assert len(n1.cli_json("log", "--cluster", "-n", "3")) == 3
    p = n1.cli("log", "--cluster", "--follow", check=False)
    assert p.returncode == 2 and "--cluster" in p.stderr, p.stderr


def test_log_cluster_names_a_node_that_does_not_answer(cluster):
    n1, n2 = cluster.build(2)
    extended_app(cluster, n1, n2)
    n2.sigstop()  # alive for a moment, answers nothing
    try:
        p = n1.cli("log", "--cluster", "-n", "20", timeout=60)
        assert "node2: no answer" in p.stdout or "node2: not alive" in p.stdout, p.stdout
    finally:
        n2.sigcont()


# ---------------------------------------------------------------------- bad messages


def rec(**over):
    r = {"seq": 1, "time_ms": 1_700_000_000_000, "node": "SENDER", "severity": "ERROR",
         "number": 1202, "tag": "app1", "process": "lkd", "message": "restore action failed",
         "detail": ""}
    r.update(over)
    return r


def events_cases(sender):
    def reply(*records, **fields):
        m = {"t": "events", "id": 7, "events": [
            {k: (sender if v == "SENDER" else v) for k, v in r.items()} for r in records]}
        m.update(fields)
        return m

    return [
        ("events? without id", {"t": "events?", "limit": 5}, True),
        ("events? id a string", {"t": "events?", "id": "1", "limit": 5}, True),
        ("events? id 0", {"t": "events?", "id": 0, "limit": 5}, True),
        ("events? limit 0", {"t": "events?", "id": 1, "limit": 0}, True),
        ("events? limit 201", {"t": "events?", "id": 1, "limit": 201}, True),
        ("events? limit huge", {"t": "events?", "id": 1, "limit": 2**62}, True),
        ("events? limit a float", {"t": "events?", "id": 1, "limit": 1.5}, True),
        ("events? tag a number", {"t": "events?", "id": 1, "limit": 5, "tag": 7}, True),
        ("events? unknown tag", {"t": "events?", "id": 1, "limit": 5, "tag": "nosuch"}, True),
        ("events without id", {"t": "events", "events": []}, True),
        ("events not an array", reply(events={"a": 1}), True),
        ("events 201 records", reply(*[rec(seq=i + 1) for i in range(201)]), True),
        ("events record not an object", reply(events=[1]), True),
        ("events record of another node", reply(rec(node="node1")), True),
        ("events record with a control character", reply(rec(message="a\x1b[2Jb")), True),
        ("events record with a newline in message", reply(rec(message="a\nb")), True),
        ("events record detail too long", reply(rec(detail="x" * 5000)), True),
        ("events record time negative", reply(rec(time_ms=-1)), True),
        ("events record time a string", reply(rec(time_ms="now")), True),
        ("events record bad tag", reply(rec(tag="no such/tag")), True),
        ("events record severity DEBUG", reply(rec(severity="DEBUG")), True),
        ("events record number negative", reply(rec(number=-5)), True),
        ("events record missing message", reply({k: v for k, v in rec().items()
                                                 if k != "message"}), True),
        ("events record extra field", reply(rec(extra=1)), True),
        ("events record process too long", reply(rec(process="p" * 100)), True),
        # Well formed, but nobody asked: dropped quietly.
        ("events nobody asked for", reply(rec()), False),
    ]


@pytest.fixture(params=["evil", "node2"])
def bench(cluster, request):
    return Bench(cluster, request.param)


def test_malformed_events_messages_are_refused(bench):
    bench.report(bench.run(events_cases(bench.peer_name)))


def test_events_request_is_answered_only_about_what_the_sender_may_see(bench):
    b = bench
    p = b.peer()
    try:
        p.message({"t": "events?", "id": 41, "limit": 50})
        m = p.wait_for_message("events")
        assert m["id"] == 41 and 0 < len(m["events"]) <= 50, m
        assert all(e["node"] == "node1" for e in m["events"]), m
        before = b.count_1642()
        p.message({"t": "events?", "id": 42, "limit": 50, "tag": "app1"})
        if b.peer_name == "node2":  # app1 is extended to node2: answered, app1 only
            m = p.wait_for_message("events")
            assert m["id"] == 42 and m["events"], m
            assert all(e["tag"] in ("app1", "") for e in m["events"]), m
            assert any(e["tag"] == "app1" for e in m["events"]), m
        else:  # not to evil: refused, no answer
            p.barrier()
            wait_for(lambda: b.count_1642() > before, what="1642 for evil's request")
            assert "not extended to the sender" in b.n1.events(DATA_REJECTED)[-1]["message"]
    finally:
        p.close()
    b.report(b.problems("events requests"))


# ---------------------------------------------------------------------- refused switchover


def test_why_tells_a_refused_switchover(cluster):
    n1, n2 = cluster.build(2)
    app = cluster.app("app1")
    n1.create("app1", app.restore, app.remove, "--quickchk", app.quickchk)
    wait_eq(lambda: n1.state("app1"), "ISP", what="app1 ISP on node1")
    # app1 is not extended to node2: the switchover is refused, nothing moves.
    p = n1.cli("resource", "restore", "--tag", "app1", "--node", "node2", check=False)
    assert p.returncode == 1, (p.returncode, p.stderr)
    reason = p.stderr.strip().split(": ", 1)[-1]
    assert app.runs_only_on(n1)
    [refused] = n1.events(1633)
    assert refused["tag"] == "app1" and refused["message"].startswith(
        "switchover to node2 refused: "), refused
    data = n1.cli_json("resource", "why", "--tag", "app1")
    assert [e["number"] for e in data["incident"]] == [1633], data["incident"]
    assert data["root_cause"]["line"].startswith("node1: app1: switchover to node2 refused"), data
    assert reason in data["root_cause"]["line"], (reason, data["root_cause"])
    # A switchover to this node itself is a restore, not a refused switchover.
    n1.cli("resource", "restore", "--tag", "app1", "--node", "node1", check=False)
    assert len(n1.events(1633)) == 1
