"""An operator's restore follows the takeover's rule (issue 9, X7): a hierarchy is
restored only after every other copy is known gone. A record not meant to run (an
operator removed the hierarchy) does not make its dead owner gone: cut off before it was
declared dead, an operator may have restored it there. With a fence script the restore
elsewhere is refused, naming the owner in one line, until the script has fenced it.

Two nodes and a witness (majority quorum, 3 voters), real daemons and real scripts,
through the cluster harness (tests/helpers/cluster.py); every test waits for conditions
with generous bounds and never asserts a timing."""

import os

import cluster as ch
from cluster import holds, wait_eq, wait_for

QUIET = 3  # seconds a "nothing happens" condition must keep holding


def two_with_witness_and_fence(cluster, tmp_path):
    n1, n2 = cluster.build(2)
    w = cluster.add_node("witness1", witness=True)
    w.start()
    script, fence_log, control = ch.fence_hook(tmp_path)
    cluster.configure([n1, n2], witness=w.addr, fence_script=str(script))
    for n in (n1, n2):
        wait_eq(lambda n=n: (lambda q: (q["mode"], q["voters"], q["votes"], q["quorate"]))(
            n.node_list()["quorum"]), ("majority", 3, 3, True), what=f"{n.name}'s quorum")
    return n1, n2, fence_log, control


def test_operator_restore_waits_for_the_fence_of_a_dead_owner_of_a_removed_hierarchy(
        cluster, tmp_path):
    n1, n2, fence_log, control = two_with_witness_and_fence(cluster, tmp_path)
    app = cluster.app("app1")
    n1.create("app1", app.restore, app.remove, "--quickchk", app.quickchk)
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "2")
    wait_eq(lambda: n2.state("app1"), "OSU", what="app1 extended to node2")
    wait_for(lambda: app.runs_only_on(n1), what="app1 on node1")
    other = cluster.app("app2")  # its states tell when node2 has node1's later messages
    n1.create("app2", other.restore, other.remove)
    n1.cli("resource", "extend", "--tag", "app2", "--node", "node2", "--priority", "2")
    wait_for(lambda: other.runs_only_on(n1), what="app2 on node1")
    # Out of service by the operator: the record still names node1, not meant to run.
    n1.cli("resource", "remove", "--tag", "app1")
    wait_for(lambda: not app.nodes(), what="app1 out of service")
    # Messages from node1 arrive in order: once node2 sees app2 out on node1, it has the
    # record node1 wrote for app1 before.
    n1.cli("resource", "remove", "--tag", "app2")
    wait_eq(lambda: n2.res_nodes("app2").get("node1"), "OSU",
            what="node2 to see app2 out on node1")

    n1.kill9_all()  # node1 is gone for node2: it may as well be cut off and restoring
    cluster.wait_dead([n2], n1)
    p = n2.cli("resource", "restore", "--tag", "app1", check=False)
    assert p.returncode != 0, p.stdout
    err = (p.stderr + p.stdout).strip()
    assert "node 'node1' owns the hierarchy of 'app1' and is not fenced" in err, err
    assert "fence" in err and "\n" not in err, err  # what happens next, in one line
    wait_for(lambda: os.path.exists(fence_log), what="the fence script ran against node1")
    holds(lambda: not app.nodes(), QUIET, what="nothing restored while node1 is not fenced")

    # Once the fence script succeeds the operator's restore goes on. Nothing else asks
    # for the fence (the record is not meant to run): the operator tries again, and each
    # try runs the script once the retry pause after its last failure has passed.
    with open(control, "w") as f:
        f.write("0\n")
    wait_for(lambda: n2.cli("resource", "restore", "--tag", "app1", check=False).returncode == 0,
             timeout=60, interval=1, what="the operator's restore accepted once node1 is fenced")
    assert n2.has_event(1631), "node1 fenced (1631)"
    wait_for(lambda: app.runs_only_on(n2), timeout=45, what="app1 on node2 once fenced")
    lines = open(fence_log).read().splitlines()
    assert lines and all(line == "node1 node2" for line in lines), lines
