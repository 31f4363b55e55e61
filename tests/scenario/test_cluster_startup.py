"""Cluster start-up and operator restores after a node death (issue 9, X6 and X7).

Two nodes without a witness run with quorum none. A node that restarts alone restores
nothing clustered before it has heard the other node once since it started (Corosync's
wait_for_all): its record may be stale. lkstart still returns and says why; `lkcli
status` says so too; the other node coming back, or an operator's restore, ends the wait.
An operator's restore of a hierarchy whose owner is dead and not fenced runs the fence
script first and is refused, naming the node, until it is fenced.

Real daemons and real scripts, through the cluster harness (tests/helpers/cluster.py);
every test waits for conditions with generous bounds and never asserts a timing."""

import os

import cluster as ch
from cluster import holds, wait_eq, wait_for

QUIET = 3  # seconds a "nothing happens" condition must keep holding


def extended_app(cluster, n1, n2):
    app = cluster.app("app1")
    n1.create("app1", app.restore, app.remove, "--quickchk", app.quickchk)
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "2")
    wait_eq(lambda: n2.state("app1"), "OSU", what="app1 extended to node2")
    wait_for(lambda: app.runs_only_on(n1), what="app1 on node1")
    return app


def restart_node1_alone(cluster):
    """node1 holds app1; node2 stops cleanly, node1 crashes with its application and
    starts again while node2 is still down: its record says node1 owns app1."""
    n1, n2 = cluster.build(2)
    assert n1.node_list()["quorum"]["mode"] == "none"
    app = extended_app(cluster, n1, n2)
    n2.stop()
    n1.kill9_all()  # the daemon and the application: node1 crashed
    wait_for(lambda: not app.nodes(), what="app1 gone with node1's crash")
    p = n1.start()
    return n1, n2, app, p


def test_restart_alone_waits_for_the_other_node(cluster):
    n1, n2, app, p = restart_node1_alone(cluster)
    # lkstart returned and said why nothing was restored.
    assert "waiting for node node2" in p.stdout, p.stdout
    holds(lambda: not app.nodes(), QUIET, what="nothing restored before node2 was heard")
    assert n1.state("app1") == "OSU", n1.state("app1")
    status = n1.cli("status").stdout
    assert "waiting for node node2" in status, status

    # node2 comes back: node1 has heard it, and restores what its record says it owns.
    n2.start()
    cluster.wait_all_alive([n1, n2])
    wait_for(lambda: app.runs_only_on(n1), timeout=45, what="app1 restored on node1")
    wait_eq(lambda: n1.state("app1"), "ISP", what="app1 ISP on node1")
    assert "waiting for node" not in n1.cli("status").stdout
    holds(lambda: app.runs_only_on(n1), QUIET, what="app1 stays on node1 only")


def test_restart_alone_operator_restore_overrides_the_wait(cluster):
    n1, n2, app, p = restart_node1_alone(cluster)
    assert "waiting for node node2" in p.stdout, p.stdout
    holds(lambda: not app.nodes(), QUIET, what="nothing restored before node2 was heard")
    # The operator says so: the restore brings it in service here anyway.
    n1.cli("resource", "restore", "--tag", "app1")
    wait_for(lambda: app.runs_only_on(n1), what="app1 restored on node1 by the operator")
    wait_eq(lambda: n1.state("app1"), "ISP", what="app1 ISP on node1")
    holds(lambda: app.runs_only_on(n1), QUIET, what="app1 stays on node1")


def test_operator_restore_of_a_dead_unfenced_owner_fences_first(cluster, tmp_path):
    n1, n2 = cluster.build(2)
    script, fence_log, control = ch.fence_hook(tmp_path)
    cluster.configure([n1, n2], fence_script=str(script))
    app = extended_app(cluster, n1, n2)

    n1.kill9_all()  # node1 crashed: daemon and application
    cluster.wait_dead([n2], n1)
    wait_for(lambda: n2.has_event(1632), what="the fence script failed on node2 (1632)")
    # The operator asks node2 to restore it: refused while node1 is not fenced, with the
    # node named and what happens next.
    p = n2.cli("resource", "restore", "--tag", "app1", check=False)
    assert p.returncode != 0, p.stdout
    err = p.stderr + p.stdout
    assert "node 'node1'" in err and "not fenced" in err, err
    assert "fence" in err, err
    assert "\n" not in err.strip(), err  # one line
    holds(lambda: not app.nodes(), QUIET, what="nothing restored while node1 is not fenced")

    # Once the fence script succeeds the takeover (or the operator's restore) goes on.
    with open(control, "w") as f:
        f.write("0\n")
    wait_for(lambda: n2.has_event(1631), timeout=45, what="node1 fenced (1631)")
    if not app.nodes():
        n2.cli("resource", "restore", "--tag", "app1", check=False)
    wait_for(lambda: app.runs_only_on(n2), timeout=45, what="app1 on node2 once fenced")
    lines = open(fence_log).read().splitlines()
    assert lines and all(line == "node1 node2" for line in lines), lines


def test_quorum_none_operator_restore_fences_a_dead_peer_first(cluster, tmp_path):
    """With quorum none a peer cut off from this node may restore the hierarchy on its
    side, whatever this node's record says: with a fence script an operator's restore
    fences every dead peer the hierarchy is extended to first (issue 9, X7)."""
    n1, n2 = cluster.build(2)
    assert n1.node_list()["quorum"]["mode"] == "none"
    script, fence_log, control = ch.fence_hook(tmp_path)
    cluster.configure([n1, n2], fence_script=str(script))
    app = extended_app(cluster, n1, n2)
    # Out of service: the record still names node1 (inactive); node2 owns nothing.
    n1.cli("resource", "remove", "--tag", "app1")
    wait_for(lambda: not app.nodes(), what="app1 out of service")

    n2.kill9_all()  # node2 is gone for node1: it may as well be cut off and restoring
    cluster.wait_dead([n1], n2)
    p = n1.cli("resource", "restore", "--tag", "app1", check=False)
    assert p.returncode != 0, p.stdout
    err = p.stderr + p.stdout
    assert "node 'node2'" in err and "not fenced" in err and "quorum none" in err, err
    assert "\n" not in err.strip(), err  # one line
    wait_for(lambda: os.path.exists(fence_log), what="the fence script ran against node2")
    holds(lambda: not app.nodes(), QUIET, what="nothing restored while node2 is not fenced")

    # Once the fence script succeeds, the operator's restore goes on.
    with open(control, "w") as f:
        f.write("0\n")

    def restored():
        return n1.cli("resource", "restore", "--tag", "app1", check=False).returncode == 0

    wait_for(restored, timeout=60, what="the restore accepted once node2 is fenced")
    assert n1.has_event(1631), "node2 fenced (1631)"
    wait_for(lambda: app.runs_only_on(n1), timeout=45, what="app1 on node1 once node2 fenced")
    lines = open(fence_log).read().splitlines()
    assert lines and all(line == "node2 node1" for line in lines), lines
