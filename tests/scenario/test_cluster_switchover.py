"""Cluster: extend, switchover both ways, remove forwarded to the holder, unextend."""

import cluster as ch
from cluster import wait_eq, wait_for


def test_extend_switchover_both_ways_and_forwarded_remove(cluster):
    n1, n2 = cluster.build(2)
    app = cluster.app("app1")
    n1.create("app1", app.restore, app.remove, "--quickchk", app.quickchk)
    wait_for(lambda: app.runs_only_on(n1), what="app1 on node1")

    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "10")
    # extend returns when node2 reports it: both nodes show both definitions.
    for n in (n1, n2):
        wait_eq(lambda n=n: n.res_nodes("app1"), {"node1": "ISP", "node2": "OSU"},
                 what=f"{n.name}'s view of app1 after extend")
        prio = {x["node"]: x["priority"] for x in n.resource("app1")["nodes"]}
        assert prio == {"node1": 1, "node2": 10}, prio
    assert n2.state("app1") == "OSU"
    assert n2.script_copy("restore", "app1").read_bytes() == app.restore.read_bytes()

    # Switchover to node2, asked on node1: progress lines, then in service on node2 only.
    p = n1.cli("resource", "restore", "--tag", "app1", "--node", "node2")
    assert "node2: app1 ISP" in p.stdout, p.stdout
    assert "node1: app1 OSU" in p.stdout, p.stdout
    assert app.runs_only_on(n2), app.nodes()
    for n in (n1, n2):
        wait_eq(lambda n=n: n.res_nodes("app1"), {"node1": "OSU", "node2": "ISP"},
                 what=f"{n.name}'s view of app1 after the switchover to node2")
    assert n2.state("app1") == "ISP" and n1.state("app1") == "OSU"
    assert any(e["number"] == 1625 for e in n1.events() + n2.events()), "no event 1625"

    # And back, asked on the node that will hold it.
    p = n1.cli("resource", "restore", "--tag", "app1", "--node", "node1")
    assert "node1: app1 ISP" in p.stdout, p.stdout
    assert app.runs_only_on(n1), app.nodes()
    for n in (n1, n2):
        wait_eq(lambda n=n: n.res_nodes("app1"), {"node1": "ISP", "node2": "OSU"},
                 what=f"{n.name}'s view of app1 after the switchover back")

    # remove from the node that does not hold it: forwarded to node1.
    n2.cli("resource", "remove", "--tag", "app1")
    wait_for(lambda: not app.nodes(), what="app1 stopped everywhere")
    for n in (n1, n2):
        wait_eq(lambda n=n: n.res_nodes("app1"), {"node1": "OSU", "node2": "OSU"},
                 what=f"{n.name}'s view of app1 after the forwarded remove")
    assert not cluster.observer.ever_ran_on(app, "node3")


def test_unextend(cluster):
    n1, n2 = cluster.build(2)
    app = cluster.app("app1")
    n1.create("app1", app.restore, app.remove, "--quickchk", app.quickchk)
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "5")
    wait_for(lambda: n2.state("app1") == "OSU", what="app1 defined on node2")
    assert n2.script_copy("restore", "app1").exists()

    n1.cli("resource", "unextend", "--tag", "app1", "--node", "node2")
    for n in (n1, n2):
        wait_for(lambda n=n: set(n.res_nodes("app1")) == {"node1"} or n.resource("app1") is None,
                 what=f"{n.name}: app1 no longer on node2")
    wait_for(lambda: n2.resource("app1") is None, what="node2 has no app1 definition")
    wait_for(lambda: not n2.script_copy("restore", "app1").exists(),
             what="node2's script copies deleted")
    assert app.runs_only_on(n1)
    # A switchover to a node without the definition is refused.
    p = n1.cli("resource", "restore", "--tag", "app1", "--node", "node2", check=False)
    assert p.returncode != 0
    assert app.runs_only_on(n1)
    # And there is nothing to fail over to: node1 is killed, node2 does not take over.
    n1.kill9_all()
    cluster.wait_dead([n2], n1)
    ch.holds(lambda: not app.nodes(), 2, what="no copy of app1 anywhere")


def test_switchover_with_automatic_switchback_stays_where_the_operator_put_it(cluster):
    """Automatic switchback returns a hierarchy after a failover, when the better node
    comes back; an operator's switchover is not undone (and lkcli returns)."""
    n1, n2 = cluster.build(2)
    app = cluster.app("app1")
    n1.create("app1", app.restore, app.remove, "--quickchk", app.quickchk,
              "--switchback", "automatic")
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "2")
    wait_eq(lambda: n2.state("app1"), "OSU")
    n1.cli("resource", "restore", "--tag", "app1", "--node", "node2", timeout=30)
    ch.holds(lambda: app.runs_only_on(n2), 3, what="app1 stays on node2 after the switchover")
