"""ins_setstate (issue 14): a state set by hand, no script run, on two real nodes.

OSU leaves the application running and stops its checks; ISP adopts a running
application (no restore) and the checks resume; ISU suspends monitoring; ISP is refused
while the hierarchy is in service on the peer (the central invariant); the reason shows
in ins_list's field 8 and in `lkcli status`; LifeKeeper's exit statuses."""

import os

import pytest

from cluster import holds, wait_eq, wait_for
from conftest import BUILD

QUIET = 3  # seconds a "nothing happens" condition must keep holding


def setstate(node, *args):
    """Runs build/ins_setstate against node; the CompletedProcess."""
    return node.run([node.bin("ins_setstate"), "--root", node.root] + list(args))


def runs_of(cluster, action, tag, node):
    return [line for line in cluster.journal_lines() if line == f"{action} {tag} {node.name}"]


def start_by_hand(app, node):
    """Starts app on node the way an administrator would during maintenance: its own
    restore script run by hand, outside lkd (so the journal gets a line, lkd runs nothing)."""
    env = dict(os.environ, LKROOT=str(node.root), LK_NODE=node.name)
    env.pop("LK_TAG", None)
    node.run([str(app.restore)], check=True, env=env)


def make_clustered(cluster, n1, n2, tag="app1"):
    app = cluster.app(tag)
    n1.create(tag, app.restore, app.remove, "--quickchk", app.quickchk,
              "--quickchk-interval", "0.3")
    wait_for(lambda: app.runs_only_on(n1), what=f"{tag} on node1")
    n1.cli("resource", "extend", "--tag", tag, "--node", "node2", "--priority", "10")
    for n in (n1, n2):
        wait_eq(lambda n=n: n.res_nodes(tag), {"node1": "ISP", "node2": "OSU"},
                what=f"{n.name}'s view of {tag} after extend")
    return app


def test_osu_leaves_it_running_unmonitored_then_isp_adopts_and_checks_resume(cluster):
    n1, n2 = cluster.build(2)
    app = make_clustered(cluster, n1, n2)
    removes = len(runs_of(cluster, "remove", "app1", n1))

    # OSU by hand: no remove, the application keeps running, the reason is the operator's.
    p = setstate(n1, "-t", "app1", "-S", "OSU", "-R", "upgrading the scripts")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "" and p.stderr == ""
    assert n1.state("app1") == "OSU"
    assert app.runs_only_on(n1), app.nodes()
    assert len(runs_of(cluster, "remove", "app1", n1)) == removes
    assert n1.ins_line("app1")[6:8] == ["OSU", "upgrading the scripts"]
    assert n1.resource("app1")["reason"] == "upgrading the scripts"
    assert n1.has_event(1746, "upgrading the scripts"), n1.log_text()
    for n in (n1, n2):
        wait_eq(lambda n=n: n.res_nodes("app1"), {"node1": "OSU", "node2": "OSU"},
                what=f"{n.name}'s view of app1 after OSU by hand")

    # Unmonitored: the application dies and nothing happens (no check, no recovery, no
    # failover: the cluster leaves the hierarchy out of service, as after a remove).
    restores = len(cluster.journal_lines())
    for pid in app.nodes()["node1"]:
        os.kill(pid, 9)
    wait_for(lambda: not app.nodes(), what="app1 gone")
    holds(lambda: not app.nodes() and n1.state("app1") == "OSU" and n2.state("app1") == "OSU",
          QUIET, what="nothing restores app1 while it is OSU by hand")
    assert len(cluster.journal_lines()) == restores, cluster.journal_lines()[restores:]

    # The administrator starts it by hand, then says so: ISP, no restore by lkd.
    start_by_hand(app, n1)
    wait_for(lambda: app.runs_only_on(n1), what="app1 started by hand")
    lines = len(cluster.journal_lines())
    p = setstate(n1, "-t", "app1", "-S", "ISP", "-R", "back after the upgrade")
    assert p.returncode == 0, p.stderr
    assert n1.state("app1") == "ISP"
    assert n1.ins_line("app1")[6:8] == ["ISP", "back after the upgrade"]
    assert n1.has_event(1745, "back after the upgrade"), n1.log_text()
    for n in (n1, n2):
        wait_eq(lambda n=n: n.res_nodes("app1"), {"node1": "ISP", "node2": "OSU"},
                what=f"{n.name}'s view of app1 after ISP by hand")
    holds(lambda: app.runs_only_on(n1), 1, what="app1 adopted where it runs")
    assert cluster.journal_lines()[lines:] == [], "a script ran for ISP by hand"

    # Monitored again: a death is noticed by the next check and the hierarchy fails over.
    for pid in app.nodes()["node1"]:
        os.kill(pid, 9)
    wait_for(lambda: app.runs_only_on(n2), what="app1 failed over to node2 after its check")
    wait_eq(lambda: n2.state("app1"), "ISP", what="app1 ISP on node2")


def test_isp_refused_while_in_service_on_the_peer(cluster):
    n1, n2 = cluster.build(2)
    app = make_clustered(cluster, n1, n2)

    for state in ("ISP", "ISU"):
        p = setstate(n2, "-t", "app1", "-S", state, "-R", "mine now")
        assert p.returncode == 5, (p.returncode, p.stderr)
        assert len(p.stderr.strip().splitlines()) == 1, p.stderr
        assert "node1" in p.stderr and "in service" in p.stderr, p.stderr
        assert n2.has_event(1747), n2.log_text()
    assert n2.state("app1") == "OSU" and n1.state("app1") == "ISP"
    assert n2.resource("app1")["settings"]["monitor"] is True
    holds(lambda: app.runs_only_on(n1) and n2.res_nodes("app1") == {"node1": "ISP", "node2": "OSU"},
          1, what="nothing changed after the refusals")

    # OSU on node1 (the application left running there, as the operator said), then ISP
    # on node2 is the operator's word: the record follows, node1 restores nothing.
    assert setstate(n1, "-t", "app1", "-S", "OSU").returncode == 0
    assert n1.ins_line("app1")[7] == "set by ins_setstate"
    wait_eq(lambda: n2.res_nodes("app1"), {"node1": "OSU", "node2": "OSU"},
            what="node2 sees app1 OSU on node1")
    for pid in app.nodes()["node1"]:
        os.kill(pid, 9)
    start_by_hand(app, n2)
    p = setstate(n2, "-t", "app1", "-S", "ISP")
    assert p.returncode == 0, p.stderr
    for n in (n1, n2):
        wait_eq(lambda n=n: n.res_nodes("app1"), {"node1": "OSU", "node2": "ISP"},
                what=f"{n.name}'s view of app1 held by node2")
    holds(lambda: app.runs_only_on(n2) and n1.state("app1") == "OSU", QUIET,
          what="node2 keeps it, node1 restores nothing")
    # And node1 may not take it back by hand while node2 holds it.
    p = setstate(n1, "-t", "app1", "-S", "ISP")
    assert p.returncode == 5 and "node2" in p.stderr, (p.returncode, p.stderr)


def test_isu_suspends_monitoring_and_isp_resumes_it(cluster):
    n1, n2 = cluster.build(2)
    app = make_clustered(cluster, n1, n2)

    assert setstate(n1, "-t", "app1", "-S", "ISU", "-R", "watching it myself").returncode == 0
    assert n1.state("app1") == "ISU"
    assert n1.ins_line("app1")[6:8] == ["ISU", "watching it myself"]
    for n in (n1, n2):  # monitoring is a setting of the resource: replicated
        wait_for(lambda n=n: n.resource("app1")["settings"]["monitor"] is False,
                 what=f"monitor off on {n.name}")
    wait_eq(lambda: n2.res_nodes("app1"), {"node1": "ISU", "node2": "OSU"},
            what="node2 sees app1 ISU on node1")
    # Unmonitored while ISU: the dead application is not noticed.
    for pid in app.nodes()["node1"]:
        os.kill(pid, 9)
    wait_for(lambda: not app.nodes(), what="app1 gone")
    holds(lambda: not app.nodes() and n1.state("app1") == "ISU", QUIET,
          what="nothing notices app1's death while ISU")

    start_by_hand(app, n1)
    assert setstate(n1, "-t", "app1", "-S", "ISP").returncode == 0
    assert n1.state("app1") == "ISP"
    assert n1.resource("app1")["settings"]["monitor"] is True
    for pid in app.nodes()["node1"]:
        os.kill(pid, 9)
    wait_for(lambda: app.runs_only_on(n2), what="app1 failed over once monitored again")


def test_exit_statuses_and_the_order_of_a_hierarchy(node):
    node.start()
    app = node.app("app1")
    node.create("app1", app.restore, app.remove, "--quickchk", app.quickchk)
    top = node.app("top")
    node.create("top", top.restore, top.remove)
    node.cli("dependency", "create", "--parent", "top", "--child", "app1")

    def check(status, *args, word=None):
        p = setstate(node, *args)
        assert p.returncode == status, (args, p.returncode, p.stdout, p.stderr)
        if status:
            assert len(p.stderr.strip().splitlines()) == 1, p.stderr
            assert p.stderr.startswith("ins_setstate: "), p.stderr
            if word:
                assert word in p.stderr, p.stderr
        return p

    check(2, "-S", "OSU", word="-t")
    check(2, "-t", "app1", word="-S")
    check(2, "-t", "app1", "-S", "BOGUS", word="ISP, ISU or OSU")
    check(2, "-t", "app1", "-S", "OSU", "-x")
    check(2, "-t", "app1", "-S", "OSU", "extra")
    check(5, "-t", "app1", "-S", "OSF", word="OSF")
    check(5, "-t", "app1", "-S", "OSU", "-R", "two\nlines", word="control character")
    check(5, "-t", "app1", "-S", "OSU", "-R", "x" * 300, word="too long")
    # A reason in Latin-1 (byte 0xe4) is refused, never dropped while the state is set.
    check(5, "-t", "top", "-S", "OSU", "-R", "Wartung l\udce4uft", word="UTF-8")
    assert node.state("top") == "ISP"
    check(5, "-t", "bad tag!", "-S", "OSU")
    check(7, "-t", "nope", "-S", "OSU", word="nope")
    # The order of a hierarchy: a child goes out only under parents out of service, a
    # parent comes in only over children in service.
    check(5, "-t", "app1", "-S", "OSU", word="top")
    assert node.state("app1") == "ISP"
    check(0, "-t", "top", "-S", "OSU", "-A")
    check(0, "-d", "n1", "-t", "app1", "-S", "OSU")  # -d this node: here
    check(5, "-t", "top", "-S", "ISP", word="app1")
    check(0, "-t", "app1", "-S", "ISP")
    check(0, "-t", "top", "-S", "ISP")
    assert node.state("top") == "ISP" and node.state("app1") == "ISP"
    assert app.running() and top.running()
    # lkd not running: a system call failed.
    node.stop(force=True)
    check(1, "-t", "app1", "-S", "OSU", word="not reachable")


def test_operator_may_set_a_state_guest_may_not(node, lk_users, traversable):
    node.start()
    app = node.app("app1")
    node.create("app1", app.restore, app.remove, "--quickchk", app.quickchk)
    p = node.run([node.bin("ins_setstate"), "--root", node.root, "-t", "app1", "-S", "OSU"],
                 user=lk_users["guest"])
    assert p.returncode == 1 and "permission denied" in p.stderr, (p.returncode, p.stderr)
    assert node.state("app1") == "ISP"
    p = node.run([node.bin("ins_setstate"), "--root", node.root, "-t", "app1", "-S", "OSU"],
                 user=lk_users["oper"])
    assert p.returncode == 0, p.stderr
    assert node.state("app1") == "OSU" and app.running()


def test_osu_by_hand_starts_no_failover_when_the_node_dies(cluster):
    n1, n2 = cluster.build(2)
    app = make_clustered(cluster, n1, n2)
    assert setstate(n1, "-t", "app1", "-S", "OSU", "-R", "maintenance").returncode == 0
    wait_eq(lambda: n2.res_nodes("app1"), {"node1": "OSU", "node2": "OSU"},
            what="node2 sees app1 OSU on node1")
    n1.kill9_all()
    cluster.wait_dead([n2], n1)
    holds(lambda: not app.nodes() and n2.state("app1") == "OSU", QUIET + 2,
          what="node2 does not take over a hierarchy set OSU by hand")
    assert not n2.has_event(1621), n2.log_text()


@pytest.mark.skipif(not (BUILD / "lcdremexec").exists(),
                    reason="-d another node needs the forwarding of requests (lcdremexec's part)")
def test_destsys_sets_the_state_on_the_other_node(cluster):
    n1, n2 = cluster.build(2)
    app = make_clustered(cluster, n1, n2)
    # Asked on node1, done on node2: refused there, as the hierarchy runs on node1.
    p = setstate(n1, "-d", "node2", "-t", "app1", "-S", "ISP")
    assert p.returncode == 5 and "node1" in p.stderr, (p.returncode, p.stderr)
    assert n2.has_event(1747), n2.log_text()
    # OSU on node2 (where it is OSU): its reason changes there, not here.
    assert setstate(n1, "-d", "node2", "-t", "app1", "-S", "OSU", "-R", "kept out").returncode == 0
    assert n2.ins_line("app1")[7] == "kept out"
    assert n1.state("app1") == "ISP" and app.runs_only_on(n1)
    p = setstate(n1, "-d", "node9", "-t", "app1", "-S", "OSU")
    assert p.returncode == 9, (p.returncode, p.stderr)
    n2.kill9_all()
    cluster.wait_dead([n1], n2)
    p = setstate(n1, "-d", "node2", "-t", "app1", "-S", "OSU")
    assert p.returncode == 9, (p.returncode, p.stderr)
