"""Cluster, more scenarios: the fence script, lkstop --switchover, the quorum-none warning
and the witness, the witness breaking a tie in a partition, an unrecoverable resource
failure that fails its hierarchy over (#3 → #5), remove --hierarchy forwarded and restore
as a switchover to this node, delete refused while in service elsewhere and the delete's
tombstone.

Real daemons and real scripts, through the colleague's harness (tests/helpers/cluster.py):
every test waits for conditions with generous bounds and never asserts a timing; the
`cluster` fixture's teardown fails a test whose application ever ran on two nodes at once
outside a declared fencing window (none is declared here)."""

import os
import re
import signal

import pytest

import cluster as ch
from cluster import holds, wait_eq, wait_for

QUIET = 3  # seconds a "nothing happens" / "stays so" condition must keep holding


# ---------------------------------------------------------------------- helpers


def seqs(node, number):
    """The sequence numbers of node's events with this number, in order."""
    return sorted(e["seq"] for e in node.events(number))


def one_app_copy(app):
    """True when the application runs on exactly one node, as one process."""
    n = app.nodes()
    return len(n) == 1 and len(next(iter(n.values()))) == 1


def quorum(node):
    q = node.node_list()["quorum"]
    return q["mode"], q["voters"], q["votes"], q["quorate"]


def journal_after(cluster, mark, action, node_name):
    """The tags of `action` runs on node_name in the journal after line `mark`."""
    out = []
    for line in cluster.journal_lines()[mark:]:
        parts = line.split()
        if len(parts) == 3 and parts[0] == action and parts[2] == node_name:
            out.append(parts[1])
    return out


def extended_app(cluster, holder, other, tag="app1", priority=2, extra=()):
    """An application created (in service) on holder and extended to other."""
    app = cluster.app(tag)
    holder.create(tag, app.restore, app.remove, "--quickchk", app.quickchk, *extra)
    wait_for(lambda: app.runs_only_on(holder), what=f"{tag} on {holder.name}")
    holder.cli("resource", "extend", "--tag", tag, "--node", other.name,
               "--priority", str(priority))
    wait_eq(lambda: other.state(tag), "OSU", what=f"{tag} extended to {other.name}")
    return app


def chain(cluster, holder, tags):
    """tags[0] → tags[1] → … (each depends on the next), in service on holder."""
    apps = [cluster.app(t) for t in tags]
    for a in reversed(apps):
        holder.create(a.tag, a.restore, a.remove, "--quickchk", a.quickchk)
    for parent, child in zip(tags, tags[1:]):
        holder.cli("dependency", "create", "--parent", parent, "--child", child)
    for a in apps:
        wait_for(lambda a=a: a.runs_only_on(holder), what=f"{a.tag} on {holder.name}")
    return apps


def two_with_witness(cluster):
    """node1 and node2 on 127.0.0.1 plus a running witness: majority of three voters."""
    n1, n2 = cluster.build(2)
    w = cluster.add_node("witness1", witness=True)
    w.start()
    cluster.configure([n1, n2], witness=w.addr)
    for n in (n1, n2):
        wait_eq(lambda n=n: quorum(n), ("majority", 3, 3, True), what=f"{n.name}'s quorum")
    return n1, n2, w


# ---------------------------------------------------------------------- 1. fence script


def test_fence_script_gates_the_takeover(cluster, tmp_path):
    """Two nodes, quorum none (no witness): only the fence script stands between the
    crash of the owner and the takeover. While it exits 1 nothing is taken over (1630,
    1632, retried); once it exits 0 the survivor takes over (1631, then 1621)."""
    n1, n2 = cluster.build(2)
    assert n1.node_list()["quorum"]["mode"] == "none"

    script, fence_log, control = ch.fence_hook(tmp_path)
    st = os.stat(script)
    assert st.st_uid == 0 and st.st_mode & 0o777 == 0o755, oct(st.st_mode)
    cluster.configure([n1, n2], fence_script=str(script))

    app = extended_app(cluster, n1, n2)
    n1.kill9_all()  # node1 crashed: daemon and application
    cluster.wait_dead([n2], n1)
    wait_for(lambda: n2.has_event(1630), what="event 1630 (fencing started) on node2")
    wait_for(lambda: n2.has_event(1632), what="event 1632 (fencing failed) on node2")
    # Several seconds with a failing fence script (it is retried): no takeover.
    holds(lambda: not app.nodes() and n2.state("app1") != "ISP", 7,
          what="no takeover while the fence script fails")
    assert not n2.has_event(1621), n2.log_text()
    assert not n2.has_event(1631), n2.log_text()
    assert not cluster.observer.ever_ran_on(app, n2)
    assert "node1" in n2.events(1630)[0]["message"], n2.events(1630)
    # It is retried (every 5 s): a second failed run, still no takeover.
    wait_for(lambda: len(seqs(n2, 1632)) >= 2, timeout=30, what="the fence script retried")
    assert not app.nodes() and not n2.has_event(1621), n2.log_text()

    with open(control, "w") as f:
        f.write("0\n")
    wait_for(lambda: app.runs_only_on(n2), timeout=45, what="node2 to take over once fenced")
    wait_eq(lambda: n2.state("app1"), "ISP", what="app1 ISP on node2")
    ok, takeover = seqs(n2, 1631), seqs(n2, 1621)
    assert ok and takeover, n2.log_text()
    assert ok[0] < takeover[0], f"1621 came before 1631: 1631 at {ok}, 1621 at {takeover}"
    assert max(seqs(n2, 1632)) < ok[0], "a fence failure logged after the success"

    lines = open(fence_log).read().splitlines()
    assert len(lines) >= 2, lines  # at least one failed run and the successful one
    assert all(line == "node1 node2" for line in lines), lines
    holds(lambda: app.runs_only_on(n2), QUIET, what="app1 stays on node2")


# ---------------------------------------------------------------------- 2. lkstop --switchover


def test_lkstop_switchover_moves_every_hierarchy_then_stops(cluster):
    n1, n2 = cluster.build(2)
    a_top, a_leaf = chain(cluster, n1, ("atop", "aleaf"))
    b = cluster.app("bsolo")
    n1.create("bsolo", b.restore, b.remove, "--quickchk", b.quickchk)
    wait_for(lambda: b.runs_only_on(n1), what="bsolo on node1")
    n1.cli("resource", "extend", "--tag", "atop", "--node", "node2", "--priority", "7")
    n1.cli("resource", "extend", "--tag", "bsolo", "--node", "node2", "--priority", "3")
    apps = (a_top, a_leaf, b)
    for a in apps:
        wait_eq(lambda a=a: n2.state(a.tag), "OSU", what=f"{a.tag} extended to node2")
    mark = len(cluster.journal_lines())

    p = n1.run([n1.bin("lkstop"), "--root", n1.root, "--switchover"], check=True)
    wait_for(lambda: not n1.daemon_running(), what="node1's lkd to exit after lkstop --switchover")
    for a in apps:
        wait_for(lambda a=a: a.runs_only_on(n2), what=f"{a.tag} in service on node2")
        wait_eq(lambda a=a: n2.state(a.tag), "ISP", what=f"{a.tag} ISP on node2")
    holds(lambda: all(a.runs_only_on(n2) for a in apps), QUIET,
          what="every application runs once, on node2")
    assert not n2.has_event(1621), "a takeover (failover) instead of a switchover:\n" + \
        n2.log_text()
    assert not n2.has_event(1620), n2.log_text()
    # Each application was started exactly once on node2 (children first) and never
    # anywhere else after the switchover began.
    restores = journal_after(cluster, mark, "restore", "node2")
    assert sorted(restores) == ["aleaf", "atop", "bsolo"], restores
    assert restores.index("aleaf") < restores.index("atop"), restores
    assert journal_after(cluster, mark, "restore", "node1") == [], cluster.journal_lines()
    for a in apps:
        hist = [nodes for _, nodes in cluster.observer.history[a.marker]]
        assert all(len(nodes) <= 1 for nodes in hist), (a.tag, hist)
    assert p.returncode == 0


# ---------------------------------------------------------------------- 3. quorum none warning


def test_status_warns_about_quorum_none_until_a_witness_is_configured(cluster):
    n1, n2 = cluster.build(2)
    for n in (n1, n2):
        assert n.node_list()["quorum"]["mode"] == "none", n.node_list()["quorum"]
        text = n.cli("status").stdout
        assert "quorum is none" in text, text

    w = cluster.add_node("witness1", witness=True)
    w.start()
    n1.cli("cluster", "config", "--witness", w.addr)
    for n in (n1, n2):
        wait_for(lambda n=n: n.settings().get("witness") == w.addr,
                 what=f"{n.name} to have the witness setting")
        wait_eq(lambda n=n: quorum(n), ("majority", 3, 3, True), what=f"{n.name}'s quorum")
        wait_for(lambda n=n: "quorum is none" not in n.cli("status").stdout,
                 what=f"{n.name}'s status without the quorum-none warning")
        q = n.cli_json("node", "list")["quorum"]
        assert q["mode"] == "majority" and q["voters"] == 3, q
        assert not any("quorum is none" in x for x in n.status()["cluster"]["warnings"])


# ---------------------------------------------------------------------- 4. witness tie-break


def witness_mesh(cluster):
    """node1, node2 and witness1, each in its own network namespace with a veth link
    between every two (the colleague's make_mesh). The witness has one service address
    (on its loopback) that both nodes reach over their own link to it: the witness
    setting is cluster-wide, so it must be the same address for both."""
    n1, n2, w = cluster.make_mesh(["node1", "node2", "witness1"])
    w.witness = True
    pid = os.getpid() % 250
    w_ip = f"10.78.{pid}.1"
    cluster.ip("addr", "add", f"{w_ip}/32", "dev", "lo", ns=w.netns)
    for n in (n1, n2):
        link = cluster.links[frozenset((n.name, w.name))]
        cluster.ip("route", "add", f"{w_ip}/32", "via", link["addr"][w.name], ns=n.netns)
    for n in (n1, n2, w):
        n.start()
    cluster.mesh([n1, n2])
    cluster.configure([n1, n2], heartbeat_ms=ch.HB_MS, misses=ch.HB_MISSES,
                      witness=f"{w_ip}:{w.port}")
    cluster.wait_all_alive([n1, n2])
    for n in (n1, n2):
        wait_eq(lambda n=n: quorum(n), ("majority", 3, 3, True), what=f"{n.name}'s quorum")
    return n1, n2, w


@pytest.mark.parametrize("holder_name", ["node1", "node2"])
def test_witness_breaks_the_tie_when_the_two_nodes_are_cut(cluster, netns_ok, holder_name):
    n1, n2, w = witness_mesh(cluster)
    app = extended_app(cluster, n1, n2)
    if holder_name == "node2":
        n1.cli("resource", "restore", "--tag", "app1", "--node", "node2")
    holder = cluster.node(holder_name)
    wait_for(lambda: app.runs_only_on(holder), what=f"app1 on {holder_name}")

    cluster.cut(n1, n2)  # both still see the witness
    cluster.wait_dead([n1], n2)
    cluster.wait_dead([n2], n1)

    def quorate():
        return [n.name for n in (n1, n2) if n.node_list()["quorum"]["quorate"]]

    winner_name = wait_for(lambda: (lambda q: q[0] if len(q) == 1 else None)(quorate()),
                           what="exactly one of the two nodes to keep quorum")
    winner = cluster.node(winner_name)
    loser = n2 if winner is n1 else n1
    wait_for(lambda: loser.has_event(1611), what=f"{loser.name} to lose quorum (1611)")
    wait_for(lambda: app.runs_only_on(winner), what=f"app1 in service on {winner_name} only")
    wait_eq(lambda: winner.state("app1"), "ISP", what=f"app1 ISP on {winner_name}")
    wait_eq(lambda: loser.state("app1"), "OSU", what=f"app1 out of service on {loser.name}")
    holds(lambda: app.runs_only_on(winner) and quorate() == [winner_name], 5,
          what=f"app1 only on {winner_name}, the only quorate node, during the cut")
    if winner is holder:
        assert not winner.has_event(1621), "the quorate holder took its own hierarchy over"
    else:
        assert winner.has_event(1621), winner.log_text()
    assert not loser.has_event(1621), loser.log_text()

    cluster.heal(n1, n2)
    cluster.wait_all_alive([n1, n2])
    for n in (n1, n2):
        wait_for(lambda n=n: n.node_list()["quorum"]["quorate"], what=f"{n.name} quorate")
    holds(lambda: one_app_copy(app), QUIET, what="one copy of app1 after healing")
    assert app.runs_only_on(winner), app.nodes()
    for n in (n1, n2):
        wait_eq(lambda n=n: n.res_nodes("app1"), {winner_name: "ISP", loser.name: "OSU"},
                what=f"{n.name}'s view after healing")


# ---------------------------------------------------------------------- 5. failure → failover


def test_unrecoverable_failure_fails_the_hierarchy_over(cluster):
    n1, n2 = cluster.build(2)
    # No recover script: a failed check cannot be repaired on node1.
    app = extended_app(cluster, n1, n2, extra=("--quickchk-interval", "0.5", "--watch", "none"))
    assert n1.resource("app1")["settings"]["quickchk-interval"] in ("0.5", 0.5, "0.5 s"), \
        n1.resource("app1")["settings"]
    [pid] = app.nodes()["node1"]
    os.kill(pid, signal.SIGKILL)  # the application dies on node1; lkd stays

    wait_for(lambda: n1.has_event(1629), what="event 1629 (failing over) on node1")
    wait_for(lambda: app.runs_only_on(n2), what="app1 failed over to node2")
    wait_eq(lambda: n2.state("app1"), "ISP", what="app1 ISP on node2")
    wait_eq(lambda: n1.state("app1"), "OSF", what="app1 OSF on node1")
    wait_for(lambda: n1.has_event(1620), what="event 1620 (failover) on node1")
    msg1620 = n1.events(1620)[-1]["message"]
    assert "node1" in msg1620 and "node2" in msg1620, msg1620

    why = n1.cli_json("resource", "why", "--tag", "app1")
    assert why["state"] == "OSF", why
    assert re.search(r"fail(s|ing)? over", why["reason"]), why["reason"]
    text = n1.cli("resource", "why", "--tag", "app1").stdout
    assert "quickchk" in text and "failed" in text, text
    assert "no incident recorded" not in text, text
    assert not n2.has_event(1621), "a node-death takeover instead of a hand-over"
    holds(lambda: app.runs_only_on(n2), QUIET, what="app1 stays on node2")
    assert n1.state("app1") == "OSF"


# ---------------------------------------------------------------------- 6. remove / restore


def test_forwarded_remove_hierarchy_and_restore_as_switchover_here(cluster):
    n1, n2 = cluster.build(2)
    top, leaf = chain(cluster, n1, ("top", "leaf"))
    n1.cli("resource", "extend", "--tag", "top", "--node", "node2", "--priority", "2")
    for a in (top, leaf):
        wait_eq(lambda a=a: n2.state(a.tag), "OSU", what=f"{a.tag} extended to node2")

    # remove --hierarchy on node2, which holds nothing: forwarded to node1, whole tree.
    n2.cli("resource", "remove", "--tag", "top", "--hierarchy")
    wait_for(lambda: not top.nodes() and not leaf.nodes(), what="the tree stopped everywhere")
    for n in (n1, n2):
        for t in ("top", "leaf"):
            wait_eq(lambda n=n, t=t: n.res_nodes(t), {"node1": "OSU", "node2": "OSU"},
                    what=f"{n.name}'s view of {t} after the forwarded remove --hierarchy")
    assert not cluster.observer.ever_ran_on(top, n2)

    n1.cli("resource", "restore", "--tag", "top")
    for a in (top, leaf):
        wait_for(lambda a=a: a.runs_only_on(n1), what=f"{a.tag} back on node1")

    # restore on node2, which does not hold it, while node1 does: a switchover to node2.
    p = n2.cli("resource", "restore", "--tag", "top")
    for line in ("node1: top OSU", "node1: leaf OSU", "node2: leaf ISP", "node2: top ISP"):
        assert line in p.stdout, p.stdout
    assert p.stdout.index("node2: leaf ISP") < p.stdout.index("node2: top ISP"), p.stdout
    for a in (top, leaf):
        assert a.runs_only_on(n2), (a.tag, a.nodes())
    for n in (n1, n2):
        for t in ("top", "leaf"):
            wait_eq(lambda n=n, t=t: n.res_nodes(t), {"node1": "OSU", "node2": "ISP"},
                    what=f"{n.name}'s view of {t} after the switchover")
    holds(lambda: top.runs_only_on(n2) and leaf.runs_only_on(n2), QUIET,
          what="the tree stays on node2")


# ---------------------------------------------------------------------- 7. delete


def test_delete_refused_while_in_service_elsewhere_then_tombstone(cluster):
    n1, n2 = cluster.build(2)
    app = extended_app(cluster, n1, n2)

    p = n2.cli("resource", "delete", "--tag", "app1", check=False)
    assert p.returncode != 0, p.stdout
    assert len(p.stderr.splitlines()) == 1 and "in service" in p.stderr, p.stderr
    for n in (n1, n2):
        assert n.resource("app1") is not None, f"{n.name} lost app1 after a refused delete"
    assert app.runs_only_on(n1)
    assert n1.state("app1") == "ISP"

    n2.cli("resource", "remove", "--tag", "app1")
    wait_for(lambda: not app.nodes(), what="app1 out of service")
    wait_eq(lambda: n2.res_nodes("app1"), {"node1": "OSU", "node2": "OSU"},
            what="node2 sees app1 OSU everywhere")
    n2.cli("resource", "delete", "--tag", "app1")
    assert n2.resource("app1") is None
    wait_for(lambda: n1.resource("app1") is None, what="the delete to reach node1")
    wait_for(lambda: not n1.script_copy("restore", "app1").exists(),
             what="node1's script copies deleted")

    n1.stop()
    n1.start()
    cluster.wait_all_alive([n1, n2])
    holds(lambda: n1.resource("app1") is None and n2.resource("app1") is None, QUIET,
          what="app1 stays deleted on both nodes after node1's restart")
    assert not app.nodes()


def test_delete_while_a_node_is_away_is_not_undone_by_its_return(cluster):
    """The tombstone's point: node1 holds an older copy when it comes back; it must not
    bring the resource back, on either node."""
    n1, n2 = cluster.build(2)
    app = extended_app(cluster, n1, n2)
    n1.stop()  # takes app1 out of service (left): no failover
    cluster.wait_dead([n2], n1)
    wait_for(lambda: not app.nodes(), what="app1 stopped by lkstop")
    n2.cli("resource", "delete", "--tag", "app1")
    assert n2.resource("app1") is None

    n1.start()
    cluster.wait_all_alive([n1, n2])
    wait_for(lambda: n1.resource("app1") is None, what="node1 to drop its stale app1")
    holds(lambda: n1.resource("app1") is None and n2.resource("app1") is None, QUIET,
          what="app1 stays deleted on both nodes")
    assert not app.nodes()
    assert not n1.script_copy("restore", "app1").exists()
