"""The decision log closes the loop: two nodes at log-level debug, real incidents (a node
dies and the other takes over; a failed check fails the hierarchy over; an operator's
switchover), scripts/golden-from-log.py turns the decisions of the incidents into golden
cases, and the unit test binary replays them: the real decisions replay exactly.

With LK_GOLDEN_SAVE=<folder> the cases made here are also copied there (how the cases in
tests/golden/ were made)."""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import cluster as ch
from cluster import wait_eq, wait_for
from conftest import BUILD

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "golden-from-log.py"
PREFIX = "lkd: decision "


def lkd_out(node):
    return node.root / "log" / "lkd.out"


def decision_count(node):
    text = lkd_out(node).read_text(errors="replace")
    return sum(1 for line in text.splitlines() if line.startswith(PREFIX))


def golden(node, out, *args):
    """Runs golden-from-log.py on node's log; returns its stdout."""
    p = subprocess.run([sys.executable, str(SCRIPT), str(lkd_out(node)), "--out", str(out),
                        *args], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr + p.stdout
    return p.stdout


def replay(folder):
    """Runs the golden test binary on folder: every case must replay exactly."""
    p = subprocess.run([str(BUILD / "tests" / "unit" / "test_golden"), str(folder)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


def set_log_level(node, value):
    conf = node.root / "etc" / "lk.conf"
    lines = [l for l in conf.read_text().splitlines(keepends=True)
             if not l.startswith("log-level")]
    i = next(i for i, l in enumerate(lines) if l.startswith("name ="))
    lines.insert(i + 1, f"log-level = {value}\n")
    conf.write_text("".join(lines))


def start_debug(cluster):
    """Two nodes, each at log-level debug from its first decision on."""
    nodes = cluster.build(2, start=False)
    for n in nodes:
        n.start()
        n.stop()
        set_log_level(n, "debug")
        n.start()
    cluster.mesh(nodes)
    cluster.configure(nodes, heartbeat_ms=ch.HB_MS, misses=ch.HB_MISSES)
    cluster.wait_all_alive(nodes)
    return nodes


def test_real_incidents_replay_as_golden_cases(cluster, tmp_path):
    n1, n2 = start_debug(cluster)
    app = cluster.app("app1")
    # The failing check detects the death (the cgroup watch, issue 10, would first).
    n1.create("app1", app.restore, app.remove, "--quickchk", app.quickchk,
              "--quickchk-interval", "0.5", "--local-recovery", "off", "--watch", "none")
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "2")
    wait_eq(lambda: n2.state("app1"), "OSU", what="app1 extended to node2")
    cases = tmp_path / "cases"

    # 1. Node death: node1 crashes, node2 takes over.
    mark = decision_count(n2)
    n1.kill9_all()
    wait_for(lambda: app.runs_only_on(n2), what="app1 taken over by node2")
    wait_eq(lambda: n2.state("app1"), "ISP", what="app1 ISP on node2")
    listing = golden(n2, cases / "placement", "--from", str(mark), "--list",
                     "--engine", "placement", "--tag", "app1", "--grep", "WRITE_REC")
    assert "reconcile" in listing, listing
    golden(n2, cases / "placement", "--from", str(mark), "--engine", "placement",
           "--tag", "app1", "--grep", "WRITE_REC", "--grep", "owner=node2", "--index", "0",
           "--name", "node death: takeover by the backup",
           "--why", "node1 (the owner) was killed with kill -9 and its application with it; "
           "node2 declares it dead and takes the hierarchy over under a new generation")
    golden(n2, cases / "engine", "--from", str(mark), "--engine", "resource",
           "--tag", "app1", "--event", "run-finished", "--grep", "ISP", "--index", "0",
           "--name", "takeover restore finished: in service",
           "--why", "after node1's death node2 restored app1; the restore exited 0 and the "
           "engine commits ISP")

    # 2. Switchover: node1 comes back; the operator moves app1 to node1.
    n1.start()
    cluster.wait_all_alive([n1, n2])
    wait_eq(lambda: n1.state("app1"), "OSU", what="app1 OSU on the restarted node1")
    mark1, mark2 = decision_count(n1), decision_count(n2)

    # A restarted node refuses restores until its peer's data has arrived (an operator
    # is told to try again in a moment): so does the test.
    def switchover_accepted():
        p = n1.cli("resource", "restore", "--tag", "app1", "--node", "node1", check=False)
        if p.returncode == 0:
            return True
        assert "try again in a moment" in p.stderr, p.stderr
        return False

    wait_for(switchover_accepted, what="node1 to accept the switchover once it has node2's data")
    wait_for(lambda: app.runs_only_on(n1), what="app1 switched over to node1")
    wait_eq(lambda: n1.state("app1"), "ISP", what="app1 ISP on node1")
    golden(n2, cases / "placement", "--from", str(mark2), "--engine", "placement",
           "--event", "switch-message", "--tag", "app1", "--index", "0",
           "--name", "switchover: the holder hands over",
           "--why", "an operator ran lkcli resource restore --tag app1 --node node1 on node1; "
           "node2, the holder, gets the switch message and removes app1 for node1")
    golden(n1, cases / "placement", "--from", str(mark1), "--engine", "placement",
           "--tag", "app1", "--grep", '"o":"node1"', "--grep", "RESTORE app1", "--index", "0",
           "--name", "switchover: the target takes it",
           "--why", "after node2 removed app1 for the switchover and recorded node1 as the "
           "owner, node1 restores app1")

    # 3. A failed check: app1's process dies on node1; the check fails, it fails over.
    mark1 = decision_count(n1)
    for pid in app.nodes()["node1"]:
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: app.runs_only_on(n2), what="app1 failed over to node2")
    wait_eq(lambda: n2.state("app1"), "ISP", what="app1 ISP on node2 after the failover")
    golden(n1, cases / "engine", "--from", str(mark1), "--engine", "resource",
           "--event", "check-finished", "--tag", "app1", "--index", "0",
           "--name", "failed check without local recovery",
           "--why", "app1's process was killed on node1; its quickchk failed and, local "
           "recovery off, the engine leaves it failed (OSF) and removes it")
    golden(n1, cases / "placement", "--from", str(mark1), "--engine", "placement",
           "--tag", "app1", "--grep", "WRITE_REC", "--grep", "owner=node2", "--index", "0",
           "--name", "failover after a failed check",
           "--why", "app1's quickchk failed on node1 (the owner) and its remove ran; node1 "
           "hands the hierarchy to node2 under a new generation, as a failover (event 1620)")

    # The real decisions replay exactly.
    files = sorted(str(p.relative_to(cases)) for p in cases.rglob("*.json"))
    assert len(files) == 6, files
    out = replay(cases)
    assert "6 golden case(s), 0 failed" in out, out
    save = os.environ.get("LK_GOLDEN_SAVE")
    if save:
        shutil.copytree(cases, save, dirs_exist_ok=True)


def test_a_changed_decision_fails_the_replay(cluster, tmp_path):
    """The replay compares: a recorded act that the decider would not write fails it."""
    n1, n2 = start_debug(cluster)
    app = cluster.app("app2")
    n1.create("app2", app.restore, app.remove)
    n1.cli("resource", "extend", "--tag", "app2", "--node", "node2", "--priority", "2")
    wait_eq(lambda: n2.state("app2"), "OSU", what="app2 extended to node2")
    cases = tmp_path / "cases"
    golden(n1, cases, "--engine", "resource", "--tag", "app2", "--index", "0",
           "--name", "first decision", "--why", "the first decision about app2")
    assert "1 golden case(s), 0 failed" in replay(cases)
    (path,) = cases.glob("*.json")
    text = path.read_text()
    assert "ISP" in text or "RUN" in text, text
    path.write_text(text.replace('"acts": [\n', '"acts": [\n  "RUN app2 restore",\n', 1))
    p = subprocess.run([str(BUILD / "tests" / "unit" / "test_golden"), str(cases)],
                       capture_output=True, text=True)
    assert p.returncode != 0, p.stdout
    assert "differs from the recorded one" in p.stdout, p.stdout
    assert "recorded: RUN app2 restore" in p.stdout, p.stdout
