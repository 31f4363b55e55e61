"""Cluster safety (issue 9), continued: a stale copy is removed whole. Real daemons, real
scripts; the harness's Observer fails a test when an application ever ran on two nodes at
once outside a declared fencing window.

- A node restarts after another took its hierarchy over. Its start-up probe finds the
  parent stopped but the child still running: the cluster removes the hierarchy there by
  its root, and that remove must take the child down too (it used to return at once
  because the root was out of service, leaving the child running next to the owner's).
"""

import os
import signal

from cluster import holds, wait_eq, wait_for

import lkapp

QUIET = 3


def test_restarted_node_removes_a_child_left_running_under_a_stopped_root(cluster):
    n1, n2 = cluster.build(2)
    ip, app = cluster.app("ip"), cluster.app("app")
    for a in (ip, app):
        n1.create(a.tag, a.restore, a.remove, "--quickchk", a.quickchk)
    n1.cli("dependency", "create", "--parent", "app", "--child", "ip")
    for a in (ip, app):
        wait_for(lambda a=a: a.runs_only_on(n1), what=f"{a.tag} on node1")
    n1.cli("resource", "extend", "--tag", "app", "--node", "node2", "--priority", "2")
    for a in (ip, app):
        wait_eq(lambda a=a: n2.state(a.tag), "OSU", what=f"{a.tag} extended to node2")

    # node1's daemon crashes, its applications keep running: node2 takes the hierarchy
    # over (the documented window: a crashed daemon's copy runs until it restarts). While
    # node1 is down its 'app' process dies; 'ip' keeps running there.
    with cluster.fencing_window():
        pid = n1.daemon_pid()
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not lkapp.pid_alive(pid), what="lkd of node1 to die")
        for a in (ip, app):
            wait_for(lambda a=a: "node2" in a.nodes(), what=f"{a.tag} taken over by node2")
            wait_eq(lambda a=a: n2.state(a.tag), "ISP", what=f"{a.tag} ISP on node2")
        for p in app.nodes().get("node1", []):
            os.kill(p, signal.SIGKILL)
        wait_for(lambda: "node1" not in app.nodes(), what="node1's app process gone")
        assert "node1" in ip.nodes(), ip.nodes()

        # node1 restarts: its probe finds 'ip' running, 'app' not; node2 owns the
        # hierarchy, so node1 removes it, 'ip' included.
        n1.start()
        cluster.wait_all_alive([n1, n2])
        wait_for(lambda: ip.runs_only_on(n2), timeout=30,
                 what="the restarted node1 to remove its 'ip' copy")
    for a in (ip, app):
        wait_eq(lambda a=a: n1.state(a.tag), "OSU", what=f"{a.tag} OSU on node1")
    holds(lambda: ip.runs_only_on(n2) and app.runs_only_on(n2), QUIET,
          what="the hierarchy runs only on node2")
    for a in (ip, app):
        assert n2.res_nodes(a.tag) == {"node1": "OSU", "node2": "ISP"}, n2.res_nodes(a.tag)
