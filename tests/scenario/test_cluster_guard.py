"""The guard in a real cluster (issue 10): real lkd and lkguard processes, real cgroups,
and the harness's observer, which fails a test when an application ever ran on two nodes
at once outside a declared fencing window. None of the tests below declares one where the
guard can act: a killed or frozen lkd must never leave its application running beside the
peer's copy.

- kill -9 of lkd alone on the holder: the guard kills the application's cgroup at once and
  tells the peer, which takes over.
- SIGSTOP of lkd alone: the guard sees the liveness channel go quiet and does the same;
  the resumed lkd exits (fenced), it never acts.
- kill -9 of lkd on a lone node: the application has nowhere else to go and keeps running;
  the next lkd probes it (no restore).
- The whole node frozen (lkd and guard), then resumed: the guard sees the gap in its clock
  and fences before lkd acts.
"""

import os
import signal
import time

import lkapp
from cluster import holds, wait_eq, wait_for

QUIET = 3


def guard_pid(node):
    try:
        return int((node.root / "run" / "lkguard.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def guard_text(node):
    try:
        return (node.root / "log" / "lkguard.out").read_text(errors="replace")
    except OSError:
        return ""


def two_nodes_with_app(cluster, tag="app1"):
    n1, n2 = cluster.build(2, guard=True)
    app = cluster.app(tag)
    n1.create(tag, app.restore, app.remove, "--quickchk", app.quickchk)
    n1.cli("resource", "extend", "--tag", tag, "--node", "node2", "--priority", "2")
    wait_eq(lambda: n2.state(tag), "OSU", what=f"{tag} extended to node2")
    wait_for(lambda: app.runs_only_on(n1), what=f"{tag} on node1")
    # The guard watches, its plan names the hierarchy, and the peers know node1 is guarded.
    wait_for(lambda: n1.cli_json("status")["guard"]["running"], what="node1's guard")
    wait_for(lambda: "fenced by the guard" in
             [h.get("safety", "") for h in n1.cli_json("status")["hierarchies"]][0],
             what="the hierarchy fenced by the guard")
    text = n1.cli("status").stdout
    assert f"guard: running (pid {guard_pid(n1)}, last look " in text, text
    assert "    safety: fenced by the guard on daemon failure" in text, text
    return n1, n2, app


def test_kill9_of_lkd_alone_guard_kills_the_app_and_the_peer_takes_over(cluster):
    n1, n2, app = two_nodes_with_app(cluster)
    gpid = guard_pid(n1)
    assert gpid and lkapp.pid_alive(gpid)
    os.kill(n1.daemon_pid(), signal.SIGKILL)  # lkd alone: the application keeps running
    wait_for(lambda: app.runs_only_on(n2), what="node2 to take app1 over")
    wait_eq(lambda: n2.state("app1"), "ISP")
    assert n2.has_event(1672), n2.log_text()
    assert "fenced" in guard_text(n1), guard_text(n1)
    wait_for(lambda: not lkapp.pid_alive(gpid), what="node1's guard to exit after fencing")
    assert not cluster.observer.violations, cluster.observer.violations

    # node1 comes back with a new lkd (and guard): it sees node2's newer record, starts
    # nothing, and the peers forget what the old guard said.
    n1.start()
    cluster.wait_all_alive([n1, n2])
    wait_eq(lambda: n1.state("app1"), "OSU")
    holds(lambda: app.runs_only_on(n2), QUIET, what="app1 only on node2")


def test_sigstop_of_lkd_alone_is_fenced_by_the_guard(cluster):
    n1, n2, app = two_nodes_with_app(cluster)
    pid = n1.daemon_pid()
    n1.sigstop()
    wait_for(lambda: app.runs_only_on(n2), what="node2 to take app1 over from frozen node1")
    wait_eq(lambda: n2.state("app1"), "ISP")
    assert n2.has_event(1672), n2.log_text()
    # The resumed lkd reads that it was fenced and exits: it never acts again.
    n1.sigcont()
    wait_for(lambda: not lkapp.pid_alive(pid), what="the fenced lkd to exit")
    assert " 1671 " in (n1.root / "log" / "lk.log").read_text(), "no event 1671 in lk.log"
    holds(lambda: app.runs_only_on(n2), QUIET, what="app1 only on node2")


def test_kill9_of_lkd_on_a_lone_node_leaves_the_app_running(make_node):
    node = make_node("n1")
    node.guard = True
    node.start()
    app = lkapp.new_marker()
    node.markers.append(app)
    pf = '"$LKROOT/app.pid"'
    restore = node.script(f"""\
        #!/bin/bash
        ( setsid bash -c 'echo $$ > {pf}; exec sleep {app}' </dev/null >/dev/null 2>&1 & ) &
        for i in $(seq 100); do [ -s {pf} ] && break; sleep 0.02; done
        exit 0
        """)
    remove = node.script(f"#!/bin/bash\n[ -s {pf} ] && kill $(cat {pf}); rm -f {pf}; exit 0\n")
    quickchk = node.script(f"#!/bin/bash\n[ -s {pf} ] && kill -0 $(cat {pf}) 2>/dev/null\n")
    node.create("app1", restore, remove, "--quickchk", quickchk)
    pid = int((node.root / "app.pid").read_text())
    wait_for(lambda: guard_pid(node) and lkapp.pid_alive(guard_pid(node)), what="the guard")
    gpid = guard_pid(node)
    restores = len([e for e in node.log_events(tag="app1") if e["number"] == 1200])
    os.kill(node.daemon_pid(), signal.SIGKILL)
    wait_for(lambda: not lkapp.pid_alive(gpid), what="the guard to leave")
    assert lkapp.pid_alive(pid), "the guard killed an application with nowhere else to go"
    node.start()
    wait_for(lambda: node.state("app1") == "ISP", what="ISP after the restart")
    assert lkapp.pid_alive(pid)
    assert len([e for e in node.log_events(tag="app1") if e["number"] == 1200]) == restores
    assert 1210 in [e["number"] for e in node.log_events(tag="app1")]  # probed


def test_whole_node_frozen_then_resumed_is_fenced_by_its_guard(cluster):
    n1, n2, app = two_nodes_with_app(cluster)
    gpid = guard_pid(n1)
    pid = n1.daemon_pid()
    # The whole node pauses: lkd and its guard. node2 takes over after the dead time while
    # node1's copy still runs (no one there can act): the documented window, declared.
    with cluster.fencing_window():
        os.kill(gpid, signal.SIGSTOP)
        n1.sigstop()
        wait_for(lambda: "node2" in app.nodes(), what="node2 to take over")
        time.sleep(0.5)
        os.kill(gpid, signal.SIGCONT)
        n1.sigcont()
        # The guard sees the gap in its own clock and fences at once.
        wait_for(lambda: app.runs_only_on(n2), what="node1's copy killed by its guard")
    wait_for(lambda: not lkapp.pid_alive(pid), what="the fenced lkd to exit")
    assert "gap" in guard_text(n1) or "clock" in guard_text(n1), guard_text(n1)
    holds(lambda: app.runs_only_on(n2), QUIET, what="app1 only on node2")


def test_guard_feeds_the_configured_watchdog(make_node):
    """watchdog = on: the guard arms the device (here a plain file standing in for
    /dev/watchdog) and writes to it while lkd lives; status says so."""
    node = make_node("n1")
    node.guard = True
    node.start()
    node.stop()
    dev = node.work / "watchdog"
    dev.write_bytes(b"")
    conf = node.root / "etc" / "lk.conf"
    conf.write_text(conf.read_text().replace(
        "[node]\n", f"[node]\nwatchdog = on\nwatchdog-device = {dev}\n", 1))
    node.start()
    wait_for(lambda: node.cli_json("status")["guard"]["watchdog"], what="the watchdog armed")
    size = dev.stat().st_size
    wait_for(lambda: dev.stat().st_size > size, what="the guard to write to the watchdog")
    assert "watchdog armed" in node.cli("status").stdout, node.cli("status").stdout
    # A clean stop: the guard leaves, closing the watchdog with the magic character.
    gpid = guard_pid(node)
    node.stop()
    wait_for(lambda: not lkapp.pid_alive(gpid), what="the guard to leave after lkstop")
    assert dev.read_bytes().endswith(b"V"), dev.read_bytes()[-10:]


def test_a_lost_guard_is_told_and_lkstart_brings_it_back(make_node):
    node = make_node("n1")
    node.guard = True
    node.start()
    wait_for(lambda: node.cli_json("status")["guard"]["running"], what="the guard")
    gpid = guard_pid(node)
    os.kill(gpid, signal.SIGKILL)
    wait_for(lambda: not node.cli_json("status")["guard"]["running"], what="status to tell")
    assert "guard: not running" in node.cli("status").stdout
    node.start()  # lkd runs already: lkstart starts the missing guard
    wait_for(lambda: node.cli_json("status")["guard"]["running"], what="the guard again")
    assert guard_pid(node) != gpid
