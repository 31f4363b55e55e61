"""The metrics command (docs/METRICS.md): this node's figures in the Prometheus text format,
read over lkd's socket as lkweb reads them and with `lkcli metrics`, parsed with Debian's
python3-prometheus-client. Real daemons, real scripts: a check made to fail by killing the
application and a local recovery, a switchover, a failover after kill -9 of the owner's
lkd, and the survivor still answering about itself."""

import os
import signal
import socket

from cluster import wait_eq, wait_for
from conftest import socket_request
from prometheus_client.parser import text_string_to_metric_families


class Scrape:
    """One exposition, parsed: every sample by name and labels."""

    def __init__(self, text):
        self.text = text
        self.families = {}
        self.samples = {}
        for fam in text_string_to_metric_families(text):
            assert fam.name not in self.families, f"family {fam.name} twice"
            self.families[fam.name] = fam
            for s in fam.samples:
                key = (s.name, frozenset(s.labels.items()))
                assert key not in self.samples, f"sample {key} twice"
                self.samples[key] = s.value

    def get(self, name, **labels):
        """The value of the sample with exactly these labels, or None."""
        return self.samples.get((name, frozenset(labels.items())))

    def series(self, name, **labels):
        """{frozenset(labels): value} of every sample of name whose labels include these."""
        want = set(labels.items())
        return {k[1]: v for k, v in self.samples.items() if k[0] == name and want <= k[1]}


def scrape(node):
    """The node's metrics over its socket (the JSON protocol lkcli and lkweb use)."""
    return Scrape(socket_request(node, "metrics", {})["text"])


def metric(node, name, **labels):
    return scrape(node).get(name, **labels)


def check_histogram(s, name, **labels):
    """The histogram's buckets are cumulative and end in +Inf == _count; returns _count."""
    buckets = sorted((float(dict(k)["le"]), v) for k, v in s.series(name + "_bucket",
                                                                   **labels).items())
    assert buckets, f"no {name} buckets for {labels}"
    counts = [v for _, v in buckets]
    assert counts == sorted(counts), buckets
    assert buckets[-1][0] == float("inf")
    count = s.get(name + "_count", **labels)
    assert buckets[-1][1] == count, (buckets, count)
    assert s.get(name + "_sum", **labels) >= 0
    return count


def test_metrics_of_a_single_node_and_who_may_read_them(node, lk_users, traversable):
    # lkcli metrics prints the text itself; a guest may read it, a user without a role not.
    p = node.cli("metrics", user=lk_users["guest"])
    s = Scrape(p.stdout)
    info = s.series("openkeeper_build_info")
    assert len(info) == 1 and list(info.values()) == [1], info
    labels = dict(next(iter(info)))
    assert labels["node"] == "n1" and labels["version"], labels
    for name, fam in s.families.items():
        assert name.startswith("openkeeper_"), name
        assert fam.documentation, f"{name} has no HELP"
        if fam.type == "counter":
            assert all(x.name.endswith("_total") for x in fam.samples), fam.samples
    assert s.get("openkeeper_node_up", node="n1") == 1
    assert s.get("openkeeper_quorum", mode="none") == 1
    assert s.get("openkeeper_events_total", severity="info") >= 1
    assert s.get("openkeeper_start_time_seconds") <= \
        s.get("openkeeper_last_config_change_timestamp_seconds")
    denied = node.cli("metrics", check=False, user=lk_users["none"])
    assert denied.returncode == 4 and "permission denied" in denied.stderr, denied.stderr
    bad = node.cli("metrics", "extra", check=False)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr
    data = node.cli_json("metrics")
    assert set(data) == {"text"}
    Scrape(data["text"])

    # A definition change moves the config timestamp and gives the resource its state.
    before = s.get("openkeeper_last_config_change_timestamp_seconds")
    app = node.app("one")
    node.cli("resource", "create", "gen", *app.create_args())
    s = scrape(node)
    assert s.get("openkeeper_last_config_change_timestamp_seconds") > before
    assert s.get("openkeeper_resource_state", tag="one", state="ISP") == 1
    for state in ("ISU", "OSU", "OSF"):
        assert s.get("openkeeper_resource_state", tag="one", state=state) == 0
    assert s.get("openkeeper_resource_busy", tag="one") == 0
    assert check_histogram(s, "openkeeper_action_duration_seconds", tag="one",
                           action="restore") == 1
    # A check that hangs is killed at its timeout (its interval) and counted as one.
    slow = node.app("slow")
    hang = node.script("#!/bin/sh\necho checking, slowly\nexec sleep 1000\n")
    node.cli("resource", "create", "gen", "--tag", "slow", "--restore", slow.restore,
             "--remove", slow.remove, "--quickchk", hang, "--quickchk-interval", "0.3")
    wait_for(lambda: (metric(node, "openkeeper_check_timeouts_total", tag="slow",
                             kind="quickchk") or 0) >= 1, what="a check timeout counted")
    s = scrape(node)
    timeouts = s.get("openkeeper_check_timeouts_total", tag="slow", kind="quickchk")
    assert s.get("openkeeper_check_failures_total", tag="slow", kind="quickchk") >= timeouts
    assert check_histogram(s, "openkeeper_check_duration_seconds", tag="slow",
                           kind="quickchk") == s.get("openkeeper_check_runs_total", tag="slow",
                                                     kind="quickchk")
    assert s.get("openkeeper_resource_state", tag="slow", state="ISP") == 1
    node.cli("resource", "remove", "--tag", "slow")
    node.cli("resource", "delete", "--tag", "slow")

    # A deleted resource's series go.
    node.cli("resource", "remove", "--tag", "one")
    node.cli("resource", "delete", "--tag", "one")
    s = scrape(node)
    assert not [k for k in s.samples if ("tag", "one") in k[1]], s.text


def test_metrics_follow_checks_recovery_switchover_and_failover(cluster):
    n1, n2 = cluster.build(2)
    app = cluster.app("app1")
    # The check finds the death (no cgroup watch), and recover (the idempotent restore
    # script) starts the application again in place.
    n1.create("app1", app.restore, app.remove, "--quickchk", app.quickchk,
              "--quickchk-interval", "0.3", "--recover", app.restore, "--watch", "none")
    wait_for(lambda: app.runs_only_on(n1), what="app1 on node1")
    wait_for(lambda: (metric(n1, "openkeeper_check_runs_total", tag="app1", kind="quickchk")
                      or 0) >= 2, what="quickchk runs counted on node1")
    s = scrape(n1)
    assert s.get("openkeeper_check_failures_total", tag="app1", kind="quickchk") == 0
    assert s.get("openkeeper_local_recoveries_total", tag="app1", result="success") is None

    # The application dies: the next quickchk fails, recover runs and succeeds.
    for pid in app.nodes()["node1"]:
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: metric(n1, "openkeeper_local_recoveries_total", tag="app1",
                            result="success") == 1, what="the recovery counted on node1")
    wait_for(lambda: app.runs_only_on(n1), what="app1 running again on node1")
    s = scrape(n1)
    runs = s.get("openkeeper_check_runs_total", tag="app1", kind="quickchk")
    failures = s.get("openkeeper_check_failures_total", tag="app1", kind="quickchk")
    assert failures >= 1 and runs > failures, (runs, failures)
    assert s.get("openkeeper_check_timeouts_total", tag="app1", kind="quickchk") == 0
    assert s.get("openkeeper_local_recoveries_total", tag="app1", result="failure") == 0
    assert check_histogram(s, "openkeeper_check_duration_seconds", tag="app1",
                           kind="quickchk") == runs
    assert check_histogram(s, "openkeeper_action_duration_seconds", tag="app1",
                           action="recover") == 1
    assert check_histogram(s, "openkeeper_action_duration_seconds", tag="app1",
                           action="restore") == 1
    assert s.get("openkeeper_events_total", severity="warning") >= 2  # 1500, 1501
    assert s.get("openkeeper_node_up", node="node2") == 1
    assert s.get("openkeeper_node_synced", node="node2") == 1
    assert s.get("openkeeper_commpath_up", peer="node2", address=n2.addr) == 1
    assert s.get("openkeeper_commpath_frames_dropped_total", peer="node2",
                 reason="malformed") == 0
    # Garbage on node1's comm port from a sender that never says who it is: counted by its
    # address, apart from the peers.
    with socket.create_connection(("127.0.0.1", n1.port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")

    def unknown_malformed():
        found = scrape(n1).series("openkeeper_commpath_frames_dropped_total", peer="",
                                  reason="malformed")
        return [dict(k)["source"] for k, v in found.items() if v >= 1]

    assert wait_for(unknown_malformed, what="the garbage counted") == ["127.0.0.1"]
    assert metric(n1, "openkeeper_commpath_frames_dropped_total", peer="node2",
                  reason="malformed") == 0
    assert s.get("openkeeper_quorum", mode="none") == 1
    assert s.get("openkeeper_quorum_voters") == 2

    # Switchover to node2: one switchover counted in the cluster, the remove on node1 and
    # the restore on node2 timed.
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "2")
    wait_eq(lambda: n2.state("app1"), "OSU", what="app1 extended to node2")
    s = scrape(n1)
    assert s.get("openkeeper_failover_budget_remaining", hierarchy="app1") == 1
    assert s.get("openkeeper_switchovers_total") == 0
    n1.cli("resource", "restore", "--tag", "app1", "--node", "node2")
    wait_for(lambda: app.runs_only_on(n2), what="app1 on node2 after the switchover")
    s1, s2 = scrape(n1), scrape(n2)
    assert s1.get("openkeeper_switchovers_total") + s2.get("openkeeper_switchovers_total") == 1
    assert check_histogram(s1, "openkeeper_action_duration_seconds", tag="app1",
                           action="remove") >= 1
    assert check_histogram(s2, "openkeeper_action_duration_seconds", tag="app1",
                           action="restore") >= 1
    assert s1.get("openkeeper_resource_state", tag="app1", state="OSU") == 1
    wait_eq(lambda: metric(n2, "openkeeper_resource_state", tag="app1", state="ISP"), 1,
            what="app1 ISP in node2's metrics")
    for s in (s1, s2):
        assert sum(s.series("openkeeper_failovers_total").values()) == 0, s.text

    # node2's lkd and everything it started die: node1 takes the hierarchy over and says
    # why; it answers about itself with its only peer gone.
    n2.kill9_all()
    wait_for(lambda: app.runs_only_on(n1), what="app1 taken over by node1")
    wait_for(lambda: metric(n1, "openkeeper_failovers_total", reason="node_dead") == 1,
             what="the failover counted on node1")
    wait_eq(lambda: metric(n1, "openkeeper_resource_state", tag="app1", state="ISP"), 1,
            what="app1 ISP in node1's metrics")
    s = scrape(n1)
    assert s.get("openkeeper_failovers_total", reason="resource_failed") == 0
    assert s.get("openkeeper_failovers_total", reason="other") == 0
    assert s.get("openkeeper_node_up", node="node2") == 0
    assert s.get("openkeeper_node_up", node="node1") == 1
    assert s.get("openkeeper_commpath_up", peer="node2", address=n2.addr) == 0
    assert s.get("openkeeper_failover_budget_remaining", hierarchy="app1") == 0
    assert s.get("openkeeper_events_total", severity="error") >= 1  # 1603 node dead
    p = n1.cli("metrics")
    assert Scrape(p.stdout).get("openkeeper_node_up", node="node2") == 0


def test_metrics_count_a_failover_after_a_resource_failed(cluster):
    n1, n2 = cluster.build(2)
    app = cluster.app("app1")
    # No local recovery: a failed check fails the resource, and its hierarchy moves.
    n1.create("app1", app.restore, app.remove, "--quickchk", app.quickchk,
              "--quickchk-interval", "0.3", "--local-recovery", "off", "--watch", "none")
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "2")
    wait_eq(lambda: n2.state("app1"), "OSU", what="app1 extended to node2")
    wait_for(lambda: (metric(n1, "openkeeper_check_runs_total", tag="app1", kind="quickchk")
                      or 0) >= 1, what="quickchk runs counted on node1")

    for pid in app.nodes()["node1"]:
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: app.runs_only_on(n2), what="app1 failed over to node2")
    wait_for(lambda: metric(n1, "openkeeper_failovers_total", reason="resource_failed") == 1,
             what="the failover counted on node1")
    s1, s2 = scrape(n1), scrape(n2)
    assert s1.get("openkeeper_failovers_total", reason="node_dead") == 0
    assert s1.get("openkeeper_check_failures_total", tag="app1", kind="quickchk") >= 1
    assert s1.get("openkeeper_local_recoveries_total", tag="app1", result="success") is None
    # The node that decided counts it; the one that took it restored, it did not decide.
    assert sum(s2.series("openkeeper_failovers_total").values()) == 0, s2.text
    assert s1.get("openkeeper_switchovers_total") == s2.get("openkeeper_switchovers_total") == 0
    wait_eq(lambda: metric(n2, "openkeeper_resource_state", tag="app1", state="ISP"), 1,
            what="app1 ISP in node2's metrics")
    for n in (n1, n2):
        wait_eq(lambda n=n: metric(n, "openkeeper_failover_budget_remaining", hierarchy="app1"),
                0, what=f"no failover left in {n.name}'s budget")


def test_metrics_show_quorum_and_the_witness(cluster):
    n1, n2 = cluster.build(2)
    w = cluster.add_node("witness1", witness=True)
    w.start()
    cluster.configure([n1, n2], witness=w.addr)
    for n in (n1, n2):
        wait_eq(lambda n=n: metric(n, "openkeeper_witness_up", witness="witness1"), 1,
                what=f"{n.name} to see the witness ALIVE")
        wait_eq(lambda n=n: metric(n, "openkeeper_quorum_votes"), 3,
                what=f"{n.name} to count 3 votes")
    s = scrape(n2)
    assert s.get("openkeeper_quorum", mode="majority") == 1
    assert s.get("openkeeper_quorum_voters") == 3
    assert s.get("openkeeper_quorum_votes_needed") == 2
    # The witness answers about itself too.
    sw = scrape(w)
    assert sw.get("openkeeper_node_up", node="witness1") == 1
    assert not sw.series("openkeeper_resource_state")

    w.kill9_all()
    wait_eq(lambda: metric(n2, "openkeeper_witness_up", witness="witness1"), 0,
            what="node2 to see the witness DEAD")
    wait_eq(lambda: metric(n2, "openkeeper_quorum_votes"), 2, what="node2 counts 2 votes")
    assert metric(n2, "openkeeper_quorum", mode="majority") == 1
    n1.kill9_all()
    wait_eq(lambda: metric(n2, "openkeeper_quorum", mode="majority"), 0,
            what="node2 alone to lose quorum")
    s = scrape(n2)
    assert s.get("openkeeper_quorum_votes") == 1
    assert s.get("openkeeper_quorum_votes_needed") == 2
    assert s.get("openkeeper_node_up", node="node1") == 0
    assert s.get("openkeeper_events_total", severity="error") >= 2  # 1603 node dead, 1611
