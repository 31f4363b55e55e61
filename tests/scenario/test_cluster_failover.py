"""Cluster: failover after a crash, a frozen owner, a failed restore on the first target,
the failover limit, automatic switchback, lkstop is not a failure, the orphan rule."""

import cluster as ch
from cluster import holds, wait_eq, wait_for

QUIET = 3  # seconds a "nothing happens" condition must keep holding


def make_hierarchy(cluster, holder, tags=("top", "mid", "leaf")):
    """top → mid → leaf (top depends on mid, mid on leaf), in service on holder."""
    apps = [cluster.app(t) for t in tags]
    for a in reversed(apps):
        holder.create(a.tag, a.restore, a.remove, "--quickchk", a.quickchk)
    for parent, child in zip(tags, tags[1:]):
        holder.cli("dependency", "create", "--parent", parent, "--child", child)
    for a in apps:
        wait_for(lambda a=a: a.runs_only_on(holder), what=f"{a.tag} on {holder.name}")
    return apps


def journal_on(cluster, node, action):
    """The tags of `action` runs on node, in order."""
    out = []
    for line in cluster.journal_lines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == action and parts[2] == node.name:
            out.append(parts[1])
    return out


def test_kill9_active_node_fails_over_children_first(cluster):
    n1, n2 = cluster.build(2)
    apps = make_hierarchy(cluster, n1)
    n1.cli("resource", "extend", "--tag", "top", "--node", "node2", "--priority", "2")
    for t in ("top", "mid", "leaf"):
        wait_eq(lambda t=t: n2.state(t), "OSU", what=f"{t} extended to node2")
    mark = len(cluster.journal_lines())

    n1.kill9_all()  # the daemon and every process its scripts started: node1 crashed
    for a in apps:
        wait_for(lambda a=a: a.runs_only_on(n2), what=f"{a.tag} taken over by node2")
        wait_eq(lambda a=a: n2.state(a.tag), "ISP", what=f"{a.tag} ISP on node2")
    restores = [line.split()[1] for line in cluster.journal_lines()[mark:]
                if line.startswith("restore ") and line.endswith(" node2")]
    assert restores == ["leaf", "mid", "top"], restores
    assert n2.has_event(1621) or n2.has_event(1620), n2.log_text()

    # The crashed node comes back: it sees the newer generation and starts nothing.
    n1_restores = journal_on(cluster, n1, "restore")
    n1.start()
    cluster.wait_all_alive([n1, n2])
    for a in apps:
        wait_eq(lambda a=a: n1.state(a.tag), "OSU", what=f"{a.tag} OSU on the restarted node1")
    holds(lambda: all(a.runs_only_on(n2) for a in apps), QUIET,
          what="the hierarchy runs only on node2")
    assert journal_on(cluster, n1, "restore") == n1_restores, "node1 ran restore again"
    for a in apps:
        assert n2.res_nodes(a.tag) == {"node1": "OSU", "node2": "ISP"}, n2.res_nodes(a.tag)


def test_sigstop_owner_resumes_and_removes_its_copy(cluster):
    n1, n2 = cluster.build(2)
    app = cluster.app("app1")
    n1.create("app1", app.restore, app.remove, "--quickchk", app.quickchk)
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "2")
    wait_eq(lambda: n2.state("app1"), "OSU")

    # Two nodes with quorum none: while node1 is frozen its copy keeps running and node2
    # takes over: the documented window, until the resumed node1 has removed its copy.
    with cluster.fencing_window():
        n1.sigstop()
        wait_for(lambda: "node2" in app.nodes(), what="node2 to take over from frozen node1")
        wait_eq(lambda: n2.state("app1"), "ISP")
        n1.sigcont()
        wait_for(lambda: app.runs_only_on(n2), what="the resumed node1 to remove its copy")
    wait_for(lambda: n1.has_event(1623), what="event 1623 on node1")
    wait_eq(lambda: n1.state("app1"), "OSU")
    cluster.wait_all_alive([n1, n2])
    holds(lambda: app.runs_only_on(n2), QUIET, what="app1 only on node2 after the resume")
    assert n1.res_nodes("app1") == {"node1": "OSU", "node2": "ISP"}, n1.res_nodes("app1")


def test_failed_restore_on_first_target_goes_to_the_next(cluster):
    n1, n2, n3 = cluster.build(3)
    app = cluster.app("app1")
    n1.create("app1", app.restore, app.remove, "--quickchk", app.quickchk)
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "2")
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node3", "--priority", "3")
    wait_eq(lambda: n3.state("app1"), "OSU")
    app.fail_on(n2)

    n1.kill9_all()
    wait_for(lambda: app.runs_only_on(n3), what="app1 on node3 after node2's restore failed")
    wait_eq(lambda: n3.state("app1"), "ISP")
    assert journal_on(cluster, n2, "restore") == ["app1"], cluster.journal_lines()
    wait_eq(lambda: n2.state("app1"), "OSF", what="app1 OSF on node2")
    assert not app.nodes().get("node2")
    holds(lambda: app.runs_only_on(n3), QUIET, what="app1 stays on node3")


def test_failover_limit_leaves_the_hierarchy_out_of_service(cluster):
    # Two nodes, default max-failovers = nodes - 1 = 1 within the window.
    n1, n2 = cluster.build(2)
    assert n1.settings()["max-failovers"] in ("", "1"), n1.settings()
    app = cluster.app("app1")
    n1.create("app1", app.restore, app.remove, "--quickchk", app.quickchk)
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "2")
    wait_eq(lambda: n2.state("app1"), "OSU")

    n1.kill9_all()
    wait_for(lambda: app.runs_only_on(n2), what="first failover to node2")
    n1.start()
    cluster.wait_all_alive([n1, n2])
    wait_eq(lambda: n1.state("app1"), "OSU")

    n2.kill9_all()
    wait_for(lambda: n1.has_event(1622), what="event 1622 (failover limit) on node1")
    holds(lambda: not app.nodes(), QUIET, what="app1 out of service after the limit")
    assert n1.state("app1") in ("OSF", "OSU"), n1.state("app1")
    assert n1.state("app1") == "OSF", "the hierarchy must be left OSF (design: Failover)"


def test_raised_failover_limit_allows_repeated_failovers(cluster):
    n1, n2 = cluster.build(2, max_failovers=10)
    app = cluster.app("app1")
    n1.create("app1", app.restore, app.remove, "--quickchk", app.quickchk)
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "2")
    wait_eq(lambda: n2.state("app1"), "OSU")
    holder, other = n1, n2
    for round_no in range(3):
        holder.kill9_all()
        wait_for(lambda: app.runs_only_on(other), what=f"failover {round_no + 1} to {other.name}")
        holder.start()
        cluster.wait_all_alive([n1, n2])
        wait_eq(lambda: holder.state("app1"), "OSU")
        holder, other = other, holder
    assert not n1.has_event(1622) and not n2.has_event(1622)


def test_automatic_switchback(cluster):
    n1, n2 = cluster.build(2)
    app = cluster.app("app1")
    n1.create("app1", app.restore, app.remove, "--quickchk", app.quickchk,
              "--switchback", "automatic")
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "2")
    wait_eq(lambda: n2.state("app1"), "OSU")
    assert n2.resource("app1")["settings"]["switchback"] == "AUTOMATIC"

    n1.kill9_all()
    wait_for(lambda: app.runs_only_on(n2), what="takeover by node2")
    n1.start()
    wait_for(lambda: app.runs_only_on(n1), what="automatic switchback to node1")
    for n in (n1, n2):
        wait_eq(lambda n=n: n.res_nodes("app1"), {"node1": "ISP", "node2": "OSU"},
                what=f"{n.name}'s view after the switchback")
    wait_for(lambda: n1.has_event(1626) or n2.has_event(1626), what="event 1626")
    holds(lambda: app.runs_only_on(n1), QUIET, what="app1 stays on node1")


def test_intelligent_switchback_stays(cluster):
    n1, n2 = cluster.build(2)
    app = cluster.app("app1")
    n1.create("app1", app.restore, app.remove, "--quickchk", app.quickchk)
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "2")
    wait_eq(lambda: n2.state("app1"), "OSU")
    n1.kill9_all()
    wait_for(lambda: app.runs_only_on(n2), what="takeover by node2")
    n1.start()
    cluster.wait_all_alive([n1, n2])
    holds(lambda: app.runs_only_on(n2), QUIET, what="app1 stays on node2 (intelligent)")


def test_lkstop_of_the_holder_is_not_a_failover(cluster):
    n1, n2 = cluster.build(2)
    app = cluster.app("app1")
    n1.create("app1", app.restore, app.remove, "--quickchk", app.quickchk)
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "2")
    wait_eq(lambda: n2.state("app1"), "OSU")

    n1.stop()  # takes app1 out of service, then stops: node1 left
    wait_for(lambda: not app.nodes(), what="app1 stopped by lkstop")
    cluster.wait_dead([n2], n1)
    holds(lambda: not app.nodes(), QUIET, what="no takeover after lkstop")
    assert n2.state("app1") == "OSU"
    assert not n2.has_event(1621)


def test_lkstop_force_of_the_holder_is_not_a_failover(cluster):
    n1, n2 = cluster.build(2)
    app = cluster.app("app1")
    n1.create("app1", app.restore, app.remove, "--quickchk", app.quickchk)
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "2")
    wait_eq(lambda: n2.state("app1"), "OSU")

    n1.stop(force=True)  # the daemon leaves, the application keeps running on node1
    cluster.wait_dead([n2], n1)
    holds(lambda: app.runs_only_on(n1), QUIET, what="app1 still (only) on node1")
    assert n2.state("app1") == "OSU"
    # node1 comes back: it finds its application running (probe) and keeps it.
    n1.start()
    cluster.wait_all_alive([n1, n2])
    wait_eq(lambda: n1.state("app1"), "ISP")
    holds(lambda: app.runs_only_on(n1), QUIET, what="app1 stays on node1 after the restart")


def test_orphan_rule_best_live_node_brings_it_up(cluster):
    """The holder left with lkstop (no failover); when another node (re)starts while the
    hierarchy is in service nowhere, the best live node brings it up."""
    n1, n2, n3 = cluster.build(3)
    app = cluster.app("app1")
    n1.create("app1", app.restore, app.remove, "--quickchk", app.quickchk)
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "2")
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node3", "--priority", "3")
    wait_eq(lambda: n3.state("app1"), "OSU")

    n1.stop()
    wait_for(lambda: not app.nodes(), what="app1 stopped by lkstop")
    n3.stop(force=True)
    holds(lambda: not app.nodes(), QUIET, what="nothing restarts app1 while nobody joins")
    n3.start()
    # The best live node (node2, priority 2) brings it up; not node3.
    wait_for(lambda: app.runs_only_on(n2), what="the orphan rule on node2")
    wait_for(lambda: n2.has_event(1627) or n3.has_event(1627), what="event 1627")
    holds(lambda: app.runs_only_on(n2), QUIET, what="app1 only on node2")
    assert not cluster.observer.ever_ran_on(app, n3)
