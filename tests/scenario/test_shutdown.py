"""Stopping lkd: the shutdown order main.c owns (docs/ARCHITECTURE.md, issue 9).

Plain `lkstop` takes the node's applications out of service, waits until nothing is busy,
tells the peers that the node leaves on purpose (a stop is not a failure: nothing fails
over), closes the comm paths and stops the loop. The daemon must exit cleanly: it logs
"lkd stopped" (only the clean exit path does), removes its pidfile, and its stderr
(log/lkd.out) holds no assertion.
"""

import cluster as ch
from cluster import holds, wait_eq, wait_for

import lkapp


def clean_exit(node, pid):
    """Asserts the daemon with this pid ended through main's clean exit path."""
    wait_for(lambda: not lkapp.pid_alive(pid), timeout=30, what=f"{node.name}'s lkd to exit")
    out = node.root / "log" / "lkd.out"
    text = out.read_text(errors="replace") if out.exists() else ""
    assert "Assertion" not in text and "Aborted" not in text, text[-4000:]
    log = (node.root / "log" / "lk.log").read_text(errors="replace")
    assert any("lkd stopped" in line for line in log.splitlines()[-20:]), log[-3000:]
    assert not (node.root / "run" / "lkd.pid").exists(), "pidfile left behind (unclean exit)"


def test_plain_lkstop_of_a_clustered_holder(cluster):
    n1, n2 = cluster.build(2)
    app = cluster.app("app1")
    n1.create("app1", app.restore, app.remove, "--quickchk", app.quickchk)
    wait_for(lambda: app.runs_only_on(n1), what="app1 on node1")
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "10")
    for n in (n1, n2):
        wait_eq(lambda n=n: n.res_nodes("app1"), {"node1": "ISP", "node2": "OSU"},
                what=f"{n.name}'s view of app1 after extend")

    pid = n1.daemon_pid()
    p = n1.stop()
    assert p.returncode == 0, p.stderr
    assert not app.nodes(), f"app1 still runs after lkstop: {app.nodes()}"
    clean_exit(n1, pid)

    # node2 heard that node1 left on purpose: it does not take app1 over.
    wait_for(lambda: n2.peer_state("node1") not in ("ALIVE", None),
             what="node2 to see node1 gone")
    holds(lambda: not app.nodes() and n2.state("app1") == "OSU",
          3 * ch.HB_MS * ch.HB_MISSES / 1000, what="app1 out of service everywhere")
    assert not cluster.observer.ever_ran_on(app, "node2")


def test_lkstop_force_of_a_clustered_holder(cluster):
    n1, n2 = cluster.build(2)
    app = cluster.app("app1")
    n1.create("app1", app.restore, app.remove, "--quickchk", app.quickchk)
    wait_for(lambda: app.runs_only_on(n1), what="app1 on node1")
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "10")
    wait_eq(lambda: n2.res_nodes("app1"), {"node1": "ISP", "node2": "OSU"},
            what="node2's view of app1 after extend")

    pid = n1.daemon_pid()
    p = n1.stop(force=True)
    assert p.returncode == 0, p.stderr
    clean_exit(n1, pid)
    # -f leaves the application running, and the peers know it: no takeover.
    assert app.runs_only_on(n1), app.nodes()
    holds(lambda: app.runs_only_on(n1) and n2.state("app1") == "OSU",
          3 * ch.HB_MS * ch.HB_MISSES / 1000, what="app1 stays on node1 only")


def test_plain_lkstop_of_a_single_node(node):
    app = lkapp.App(node.work, "app1")
    node.create("app1", app.restore, app.remove, "--quickchk", app.quickchk)
    wait_for(app.running, what="app1 running")
    pid = node.daemon_pid()
    assert node.stop().returncode == 0
    assert not app.running()
    clean_exit(node, pid)
