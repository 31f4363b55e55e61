"""Cluster: quorum. Three nodes in network namespaces with a cut link (minority and
majority sides), and two nodes with a witness."""

import pytest

from cluster import holds, wait_eq, wait_for

QUIET = 3


def three_in_namespaces(cluster, holder_name):
    n1, n2, n3 = cluster.build(3, netns=True)
    q = n1.node_list()["quorum"]
    assert q["mode"] == "majority" and q["voters"] == 3 and q["quorate"], q
    app = cluster.app("app1")
    n1.create("app1", app.restore, app.remove, "--quickchk", app.quickchk)
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "2")
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node3", "--priority", "3")
    wait_eq(lambda: n3.state("app1"), "OSU")
    holder = cluster.node(holder_name)
    if holder is not n1:
        n1.cli("resource", "restore", "--tag", "app1", "--node", holder_name)
    wait_for(lambda: app.runs_only_on(holder), what=f"app1 on {holder_name}")
    return n1, n2, n3, app


def test_partition_minority_holder_removes_majority_takes_over(cluster, netns_ok):
    n1, n2, n3, app = three_in_namespaces(cluster, "node3")
    cluster.cut(n3, n1)
    cluster.cut(n3, n2)
    # node3 alone: no quorum, it removes its hierarchy; node1 (best priority on the
    # majority side) takes it over. Never two copies: no fencing window declared.
    wait_for(lambda: n3.has_event(1611), what="node3 to lose quorum (1611)")
    wait_for(lambda: app.runs_only_on(n1), what="node1 to take over app1")
    wait_eq(lambda: n3.state("app1"), "OSU", what="app1 removed on the minority node3")
    wait_eq(lambda: n1.state("app1"), "ISP")
    assert not n1.node_list()["quorum"]["quorate"] is False
    assert n3.node_list()["quorum"]["quorate"] is False

    cluster.heal(n3, n1)
    cluster.heal(n3, n2)
    cluster.wait_all_alive([n1, n2, n3])
    wait_for(lambda: n3.node_list()["quorum"]["quorate"], what="node3 quorate again")
    holds(lambda: app.runs_only_on(n1), QUIET, what="exactly one copy (node1) after healing")
    for n in (n1, n2, n3):
        wait_eq(lambda n=n: n.res_nodes("app1"),
                {"node1": "ISP", "node2": "OSU", "node3": "OSU"},
                what=f"{n.name}'s view after healing")


def test_partition_majority_holder_keeps_it_minority_does_nothing(cluster, netns_ok):
    n1, n2, n3, app = three_in_namespaces(cluster, "node1")
    removes_before = [x for x in cluster.journal_lines() if x.startswith("remove ")]
    cluster.cut(n3, n1)
    cluster.cut(n3, n2)
    wait_for(lambda: n3.has_event(1611), what="node3 to lose quorum (1611)")
    cluster.wait_dead([n1, n2], n3)
    holds(lambda: app.runs_only_on(n1), QUIET, what="app1 stays on node1 during the cut")
    assert n1.state("app1") == "ISP"
    assert n3.state("app1") == "OSU"
    assert not n3.has_event(1621), "the minority took over"
    removes = [x for x in cluster.journal_lines() if x.startswith("remove ")]
    assert removes == removes_before, "something was removed: " + repr(removes)

    cluster.heal(n3, n1)
    cluster.heal(n3, n2)
    cluster.wait_all_alive([n1, n2, n3])
    holds(lambda: app.runs_only_on(n1), QUIET, what="app1 only on node1 after healing")


# ---------------------------------------------------------------------- witness


def two_with_witness(cluster):
    n1, n2 = cluster.build(2)
    w = cluster.add_node("witness1", witness=True)
    w.start()
    cluster.configure([n1, n2], witness=w.addr)
    for n in (n1, n2):
        wait_for(lambda n=n: n.peer_state(w) == "ALIVE" or any(
            x.get("witness") and x["state"] == "ALIVE" for x in n.node_list()["nodes"]),
            what=f"{n.name} to see the witness ALIVE")
        wait_eq(lambda n=n: (lambda q: (q["mode"], q["voters"], q["votes"], q["quorate"]))(
            n.node_list()["quorum"]), ("majority", 3, 3, True), what=f"{n.name}'s quorum")
    return n1, n2, w


def test_witness_gives_the_survivor_quorum(cluster):
    n1, n2, w = two_with_witness(cluster)
    assert not any("quorum is none" in x for x in n1.node_list()["warnings"])
    app = cluster.app("app1")
    n1.create("app1", app.restore, app.remove, "--quickchk", app.quickchk)
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "2")
    wait_eq(lambda: n2.state("app1"), "OSU")

    n1.kill9_all()
    wait_for(lambda: app.runs_only_on(n2), what="node2 (with the witness's vote) to take over")
    q = n2.node_list()["quorum"]
    assert q["quorate"] and q["votes"] == 2, q
    # The witness runs no resources.
    assert not cluster.observer.ever_ran_on(app, w)


def test_no_quorum_without_the_witness(cluster):
    n1, n2, w = two_with_witness(cluster)
    app1 = cluster.app("app1")
    n1.create("app1", app1.restore, app1.remove, "--quickchk", app1.quickchk)
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "2")
    app2 = cluster.app("app2")  # node2's own hierarchy
    n2.create("app2", app2.restore, app2.remove, "--quickchk", app2.quickchk)
    n2.cli("resource", "extend", "--tag", "app2", "--node", "node1", "--priority", "2")
    wait_eq(lambda: n2.state("app1"), "OSU")
    wait_eq(lambda: n1.state("app2"), "OSU")
    assert app2.runs_only_on(n2)

    w.kill9_all()
    wait_eq(lambda: n2.node_list()["quorum"]["votes"], 2, what="node2 counts 2 votes")
    assert n2.node_list()["quorum"]["quorate"]
    n1.kill9_all()
    # node2 alone: 1 of 3 votes. No takeover of app1, and (quorum-loss-action osu, the
    # default) node2 removes its own app2.
    wait_for(lambda: n2.has_event(1611), what="node2 to lose quorum (1611)")
    wait_for(lambda: not app2.nodes(), what="node2 to remove its own app2")
    wait_eq(lambda: n2.state("app2"), "OSU")
    holds(lambda: not app1.nodes() and not app2.nodes(), QUIET,
          what="nothing runs without quorum")
    assert not n2.has_event(1621)
    assert n2.node_list()["quorum"]["quorate"] is False


@pytest.mark.parametrize("action", ["none"])
def test_quorum_loss_action_none_keeps_own_hierarchies(cluster, action):
    n1, n2, w = two_with_witness(cluster)
    cluster.configure([n1, n2], quorum_loss_action=action)
    app2 = cluster.app("app2")
    n2.create("app2", app2.restore, app2.remove, "--quickchk", app2.quickchk)
    n2.cli("resource", "extend", "--tag", "app2", "--node", "node1", "--priority", "2")
    wait_eq(lambda: n1.state("app2"), "OSU")
    w.kill9_all()
    n1.kill9_all()
    wait_for(lambda: n2.has_event(1611), what="node2 to lose quorum (1611)")
    holds(lambda: app2.runs_only_on(n2), QUIET, what="app2 kept with quorum-loss-action none")
