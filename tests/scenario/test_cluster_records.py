"""Cluster: ownership records that must not take a healthy hierarchy down (issue 9, the rule
that records converge; docs/CLUSTER.md "A takeover the limit refused moves nothing").

Two nodes without a witness (quorum none), each in its own network namespace so that the
link between them can be cut. The failover budget (default: 1 failover within 6 h) is
spent by a real failover first; then, cut off from the holder, the other node finds the
holder DEAD with the budget used and leaves the hierarchy out of service (1622) with a
record of the next generation that names nobody. The holder never handed the hierarchy
over: at the heal it keeps running it, and both nodes end with the same record.

Real daemons and real scripts (tests/helpers/cluster.py); every wait has a generous bound
and no assertion depends on timing. The Observer fails the test if the application ever
runs on both nodes (no fencing window is declared: only the holder ever runs it)."""

import os
import signal

from cluster import holds, wait_eq, wait_for

QUIET = 3  # seconds a "stays so" condition must keep holding
SPENT = "1 of 1 failovers used in the last 6 h: the next failure leaves it out of service"


def budget(node, tag="app1"):
    for h in node.status()["hierarchies"]:
        if h["tag"] == tag:
            return h.get("budget")
    return None


def test_a_takeover_refused_by_the_limit_during_a_cut_moves_nothing(cluster, netns_ok):
    n1, n2 = cluster.build(2, netns=True)  # two nodes: quorum none, both sides act
    app = cluster.app("app1")
    n1.create("app1", app.restore, app.remove, "--quickchk", app.quickchk,
              "--quickchk-interval", "0.5")
    wait_for(lambda: app.runs_only_on(n1), what="app1 on node1")
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "2")
    wait_eq(lambda: n2.state("app1"), "OSU", what="app1 extended to node2")

    # A real failure spends the budget: app1 fails over to node2.
    [pid] = app.nodes()["node1"]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: app.runs_only_on(n2), what="app1 failed over to node2")
    wait_eq(lambda: n2.state("app1"), "ISP", what="app1 ISP on node2")
    wait_eq(lambda: budget(n1), SPENT, what="node1 sees the budget spent")

    # Cut: node1 finds node2 DEAD, the budget used, and leaves the hierarchy out of
    # service (1622) instead of taking it over. node2 keeps running it.
    cluster.cut(n1, n2)
    cluster.wait_dead([n1], n2)
    wait_for(lambda: n1.has_event(1622), what="node1 refuses the takeover (1622)")
    assert app.runs_only_on(n2), app.nodes()

    # Heal: the refused takeover's record does not take node2's healthy copy down.
    cluster.heal(n1, n2)
    cluster.wait_all_alive([n1, n2])
    for n in (n1, n2):
        wait_eq(lambda n=n: n.res_nodes("app1").get("node2"), "ISP",
                what=f"{n.name} sees app1 ISP on node2 after the heal")
        # The same record on both (the budget is read from it): still spent.
        wait_eq(lambda n=n: budget(n), SPENT, what=f"{n.name}'s budget after the heal")
    holds(lambda: app.runs_only_on(n2) and n2.state("app1") == "ISP", QUIET,
          what="app1 stays on node2 after the heal")
    assert not n2.has_event(1628), n2.log_text()
    assert not n2.has_event(1623), n2.log_text()
