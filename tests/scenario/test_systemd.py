"""The systemd resource type (docs/SYSTEMD.md) against a real systemd: a user manager per
node, fenced in a cgroup of its own and new cgroup and mount namespaces
(tests/helpers/usermanager.py), reached by lkd through LK_SYSTEMD_BUS. The units are
`sleep <marker>` services the tests write into each manager's unit directory; the tests
kill only main pids of units they started, and stop each manager by its pid.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "helpers"))

import lkapp  # noqa: E402
import usermanager  # noqa: E402
from cluster import wait_for  # noqa: E402

OWNED, RELEASED, OWN_FAILED = 1550, 1551, 1552
CHECK_FAILED, RECOVER_STARTED, RECOVERED = 1500, 1501, 1502
CGROUP_EMPTY, LEFTOVERS_KILLED = 1512, 1513


def _manager(tmp_path):
    ok, why = usermanager.usable()
    if not ok:
        pytest.skip(f"no fenced systemd user manager on this machine: {why}")
    m = usermanager.UserManager()
    try:
        m.start()
    except RuntimeError as e:
        problems = m.stop()
        pytest.skip(f"systemd --user does not start in its fence here: {e} {problems}")
    return m


@pytest.fixture
def managers(tmp_path):
    """A factory of fenced user managers; each is stopped (by its pid) and its cgroup
    removed at the end, whatever happened."""
    made = []

    def make():
        m = _manager(tmp_path)
        made.append(m)
        return m

    yield make
    problems = []
    for m in made:
        problems += m.stop()
    assert not problems, problems


def unit_text(marker, restart="always", install=True):
    return ("[Unit]\nDescription=OpenKeeper test unit\n"
            f"[Service]\nExecStart=/bin/sleep {marker}\nRestart={restart}\nRestartSec=100ms\n"
            + ("[Install]\nWantedBy=default.target\n" if install else ""))


def add_unit(um, name, marker, enable=True, **kw):
    um.write_unit(name, unit_text(marker, **kw))
    um.reload()
    if enable:
        um.manager_call("EnableUnitFiles", "asbb", ([name], False, False))
        assert um.unit_file_state(name) == "enabled"


def start_on(node, um, monkeypatch):
    """Starts node's lkd with LK_SYSTEMD_BUS pointing at um."""
    monkeypatch.setenv("LK_SYSTEMD_BUS", um.address)
    node.start()


def dropin(um, unit):
    return um.runtime / "systemd" / "user" / f"{unit}.d" / "90-openkeeper.conf"


def events(node, number, tag=None):
    return [e for e in node.log_events(tag=tag) if e["number"] == number]


def create(node, tag, unit, *extra, check=True):
    return node.cli("resource", "create", "systemd", "--tag", tag, "--unit", unit,
                    "--quickchk-interval", "30", *extra, check=check)


def test_create_hold_kill_recover_remove_delete(managers, make_node, monkeypatch):
    um = managers()
    n1 = make_node("n1")
    start_on(n1, um, monkeypatch)
    marker = lkapp.new_marker()
    unit = "lkt-a.service"
    add_unit(um, unit, marker)

    create(n1, "sd1", unit, "--max-recoveries", "20")
    assert n1.state("sd1") == "ISP"
    assert um.active_state(unit) == "active"
    # Held for the cluster: the drop-in, no autostart (was enabled), the events.
    wait_for(lambda: events(n1, OWNED, "sd1"), what="event 1550 (unit held)")
    text = dropin(um, unit).read_text()
    assert "Restart=no" in text and "After=lkd.service" in text, text
    assert "StartLimitIntervalSec=0" in text, text
    assert um.unit_file_state(unit) == "disabled"
    assert um.unit_property(unit, "Restart", "org.freedesktop.systemd1.Service") == "no"
    line = n1.ins_line("sd1")
    assert line[1:3] == ["systemd", unit], line

    # The unit's main process killed: the watch hears it at once (quickchk every 30 s),
    # systemd does not restart it (Restart=no), the cluster recovers it (restart) — more
    # often than systemd's own start limit (5 in 10 s) would allow.
    for i in range(7):
        pid = um.main_pid(unit)
        assert pid > 0 and um.in_fence(pid)
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda i=i: len(events(n1, RECOVERED, "sd1")) == i + 1, timeout=20,
                 what=f"recovery {i + 1} by restart")
        wait_for(lambda: um.active_state(unit) == "active", what="the unit active again")
        assert um.main_pid(unit) not in (0, pid)
    assert len(events(n1, CGROUP_EMPTY, "sd1")) == 7
    assert not events(n1, CHECK_FAILED, "sd1")  # the watch, not a quickchk, saw each one
    assert int(um.unit_property(unit, "NRestarts", "org.freedesktop.systemd1.Service")) == 0
    assert n1.state("sd1") == "ISP"

    n1.cli("resource", "remove", "--tag", "sd1")
    assert n1.state("sd1") == "OSU"
    assert um.active_state(unit) == "inactive"
    # The watcher left by restore went by itself before the remove ended: nothing killed.
    assert not events(n1, LEFTOVERS_KILLED, "sd1")

    # Deleted: the drop-in goes and the autostart comes back.
    n1.cli("resource", "delete", "--tag", "sd1")
    wait_for(lambda: events(n1, RELEASED), what="event 1551 (unit given back)")
    assert not dropin(um, unit).exists()
    assert um.unit_file_state(unit) == "enabled"
    records = n1.root / "subsys" / "gen" / "resources" / "systemd"
    assert not (records / "sd1").exists() and not (records / "sd1.watch").exists()


def build_two(cluster, managers, monkeypatch):
    """Two nodes, each with a user manager of its own (the same unit name on both, as on
    two machines); returns (n1, n2, um1, um2)."""
    import cluster as ch

    um1, um2 = managers(), managers()
    n1, n2 = cluster.build(2, start=False)
    start_on(n1, um1, monkeypatch)
    start_on(n2, um2, monkeypatch)
    cluster.mesh([n1, n2])
    cluster.configure([n1, n2], heartbeat_ms=ch.HB_MS, misses=ch.HB_MISSES)
    cluster.wait_all_alive([n1, n2])
    cluster.wait_all_synced([n1, n2])
    return n1, n2, um1, um2


def test_extend_switchover_failover_unextend(managers, cluster, monkeypatch):
    n1, n2, um1, um2 = build_two(cluster, managers, monkeypatch)
    unit = "lkt-b.service"
    marker = lkapp.new_marker()
    for um in (um1, um2):
        add_unit(um, unit, marker)

    create(n1, "sdb", unit, "--local-recovery", "off")
    assert n1.state("sdb") == "ISP"
    assert um1.active_state(unit) == "active" and um2.active_state(unit) == "inactive"

    # Extended: node2 holds the unit too (drop-in, autostart off) without starting it.
    n1.cli("resource", "extend", "--tag", "sdb", "--node", "node2", "--priority", "10")
    wait_for(lambda: n2.state("sdb") == "OSU", what="sdb defined on node2")
    wait_for(lambda: events(n2, OWNED, "sdb"), what="node2 holds the unit (1550)")
    assert dropin(um2, unit).exists()
    assert um2.unit_file_state(unit) == "disabled"
    assert um2.active_state(unit) == "inactive"

    # Switchover to node2 and back.
    n1.cli("resource", "restore", "--tag", "sdb", "--node", "node2")
    wait_for(lambda: n2.state("sdb") == "ISP" and n1.state("sdb") == "OSU",
             what="sdb in service on node2 only")
    assert um2.active_state(unit) == "active" and um1.active_state(unit) == "inactive"

    # The unit dies on node2: the watch tells at once, no local recovery: node1 takes over.
    pid = um2.main_pid(unit)
    assert pid > 0 and um2.in_fence(pid)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: um1.active_state(unit) == "active" and n1.state("sdb") == "ISP",
             timeout=30, what="sdb failed over to node1")
    assert um2.active_state(unit) in ("inactive", "failed")
    assert int(um2.unit_property(unit, "NRestarts", "org.freedesktop.systemd1.Service")) == 0
    assert events(n2, CGROUP_EMPTY, "sdb"), "the failure was not heard through the watch"

    # Unextended from node2: node2 gives the unit back as it found it.
    n1.cli("resource", "unextend", "--tag", "sdb", "--node", "node2")
    wait_for(lambda: n2.resource("sdb") is None, what="node2 has no sdb definition")
    wait_for(lambda: events(n2, RELEASED), what="node2 gave the unit back (1551)")
    assert not dropin(um2, unit).exists()
    assert um2.unit_file_state(unit) == "enabled"
    assert um1.unit_file_state(unit) == "disabled"  # node1 still holds it
    assert len(events(n1, OWNED, "sdb")) == 1, "held once, not at every definition change"
    assert n1.state("sdb") == "ISP"


def lk_systemd(um, *args, timeout_ms=20000, root=None, tag="t", wait=True):
    """Runs build/lk_systemd as lkd's runner would (LK_SYSTEMD_BUS, the budget)."""
    from conftest import BUILD

    env = {"PATH": "/usr/bin:/bin", "LANG": "C", "LK_SYSTEMD_BUS": um.address,
           "LK_SYSTEMD_TIMEOUT_MS": str(timeout_ms), "LK_TAG": tag}
    if root:
        env["LKROOT"] = str(root)
    argv = [str(BUILD / "lk_systemd"), *args]
    if not wait:
        return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)


def test_lk_systemd_pending_while_the_manager_does_not_answer(managers):
    um = managers()
    unit = "lkt-p.service"
    add_unit(um, unit, lkapp.new_marker(), enable=False)
    assert lk_systemd(um, "start", unit).returncode == 0
    # The manager frozen (our own process, SIGSTOP): no answer within the budget is
    # "pending", exit 75, one line, on time (budget 2 s: answers before 2 s).
    os.kill(um.proc.pid, signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        p = lk_systemd(um, "status", unit, timeout_ms=2000)
        took = time.monotonic() - t0
    finally:
        os.kill(um.proc.pid, signal.SIGCONT)
    assert p.returncode == 75, p.stdout
    assert p.stdout.startswith("lk_systemd: pending: ") and p.stdout.count("\n") == 1, p.stdout
    assert took < 2.0, took
    assert lk_systemd(um, "status", unit).returncode == 0


@pytest.mark.parametrize("method", ["Reload", "Reexecute"])
def test_lk_systemd_start_survives_reload_and_reexec(managers, method):
    """A daemon-reload or daemon-reexec while a start job runs: lk_systemd reconnects if it
    must, finds the job's end and reports the start, not a failure."""
    um = managers()
    unit = "lkt-r.service"
    marker = lkapp.new_marker()
    um.write_unit(unit, f"[Service]\nExecStartPre=/bin/sleep 1.5\nExecStart=/bin/sleep {marker}\n")
    um.reload()
    p = lk_systemd(um, "start", unit, wait=False)
    wait_for(lambda: um.active_state(unit) == "activating", what="the start job running")
    try:
        um.manager_call(method)
    except Exception:  # noqa: BLE001 (a re-execution drops the connection before answering)
        um.reconnect()
    out, _ = p.communicate(timeout=60)
    assert p.returncode == 0, out
    assert "started: active (running)" in out and out.count("\n") == 1, out
    wait_for(lambda: um.active_state(unit) == "active", what="the unit active")
    assert lk_systemd(um, "stop", unit).returncode == 0
    assert um.active_state(unit) == "inactive"


def refused(node, tag, unit, says):
    p = create(node, tag, unit, check=False)
    assert p.returncode != 0, p.stdout
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], p.stderr
    assert node.resource(tag) is None
    assert not (node.root / "subsys" / "gen" / "resources" / "systemd" / tag).exists()
    return lines[0]


def test_create_refused_with_one_line(managers, make_node, monkeypatch):
    um = managers()
    n1 = make_node("n1")
    start_on(n1, um, monkeypatch)
    add_unit(um, "lkt-c.service", lkapp.new_marker())
    refused(n1, "bad1", "lkt-c@.service", "is a template")
    refused(n1, "bad2", "lkt-c", "no unit type")
    refused(n1, "bad3", "lkt-none.service", "unit lkt-none.service not found on this node")
    p = create(n1, "bad4", "lkt-c.service", "--param", "port=80", check=False)
    assert p.returncode != 0 and "takes no parameters" in p.stderr, p.stderr
    assert n1.resource("bad4") is None
    assert um.unit_file_state("lkt-c.service") == "enabled"  # nothing was held
    assert not events(n1, OWNED)


def test_create_refused_without_a_manager(make_node, monkeypatch):
    if os.path.exists("/run/systemd/system"):
        pytest.skip("this machine was booted with systemd: the system manager answers")
    n1 = make_node("n1")
    monkeypatch.delenv("LK_SYSTEMD_BUS", raising=False)
    n1.start()
    line = refused(n1, "nosd", "lkt-d.service", "PID 1 is not systemd")
    assert "LK_SYSTEMD_BUS" in line, line
    n1.stop()
    monkeypatch.setenv("LK_SYSTEMD_BUS", "unix:path=/nonexistent/systemd/private")
    n1.start()
    refused(n1, "nosd", "lkt-d.service", "cannot reach the systemd manager")


def test_checks_pending_while_the_manager_is_frozen(managers, make_node, monkeypatch):
    """A manager that does not answer (frozen: our own process, SIGSTOP) makes the quickchk
    pending, not failed: with check-failures 1, a counted failure would recover at once."""
    from cluster import holds

    um = managers()
    n1 = make_node("n1")
    start_on(n1, um, monkeypatch)
    unit = "lkt-f.service"
    add_unit(um, unit, lkapp.new_marker(), enable=False)
    n1.cli("resource", "create", "systemd", "--tag", "sdf", "--unit", unit,
           "--quickchk-interval", "1", "--quickchk-timeout", "2", "--check-failures", "1")
    assert n1.state("sdf") == "ISP"
    os.kill(um.proc.pid, signal.SIGSTOP)
    try:
        holds(lambda: not events(n1, CHECK_FAILED, "sdf") and not events(n1, 1517, "sdf"), 5,
              what="no check failed or timed out while the manager is frozen")
    finally:
        os.kill(um.proc.pid, signal.SIGCONT)
    assert n1.state("sdf") == "ISP"
    assert not events(n1, RECOVER_STARTED, "sdf")
    assert um.active_state(unit) == "active"


def test_lkd_killed_and_started_again_finds_the_unit_and_its_watch(managers, make_node,
                                                                   monkeypatch):
    um = managers()
    n1 = make_node("n1")
    start_on(n1, um, monkeypatch)
    unit = "lkt-k.service"
    add_unit(um, unit, lkapp.new_marker())
    create(n1, "sdk", unit)
    pid = um.main_pid(unit)
    wait_for(lambda: events(n1, OWNED, "sdk"), what="event 1550")
    n1.kill9()
    start_on(n1, um, monkeypatch)
    # The start-up probe finds the unit running: in service, not started again.
    wait_for(lambda: n1.state("sdk") == "ISP", what="sdk ISP after lkd's restart")
    assert um.main_pid(unit) == pid
    wait_for(lambda: len(events(n1, OWNED, "sdk")) == 2, what="held again after the start")
    assert um.unit_file_state(unit) == "disabled" and dropin(um, unit).exists()
    # The watcher the first lkd left is still there: a kill is heard at once.
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: events(n1, RECOVERED, "sdk"), timeout=20, what="recovered after the kill")
    assert events(n1, CGROUP_EMPTY, "sdk") and not events(n1, CHECK_FAILED, "sdk")
    assert um.active_state(unit) == "active"


def test_hierarchy_systemd_parent_over_a_gen_child(managers, make_node, monkeypatch):
    """The unit depends on a gen/app child (an address, say): the child is restored first
    and removed last; the unit's failure is recovered in place, the child untouched."""
    um = managers()
    n1 = make_node("n1")
    start_on(n1, um, monkeypatch)
    unit = "lkt-h.service"
    add_unit(um, unit, lkapp.new_marker())
    child = n1.app("addr")
    n1.create("addr", child.restore, child.remove, "--quickchk", child.quickchk,
              "--no-in-service")
    create(n1, "web", unit, "--no-in-service")
    n1.cli("dependency", "create", "--parent", "web", "--child", "addr")
    n1.cli("resource", "restore", "--tag", "web")
    assert n1.state("web") == "ISP" and n1.state("addr") == "ISP"
    assert um.active_state(unit) == "active" and child.running()
    restored = [e["tag"] for e in n1.log_events() if e["number"] == 1201]
    assert restored == ["addr", "web"], restored

    os.kill(um.main_pid(unit), signal.SIGKILL)
    wait_for(lambda: events(n1, RECOVERED, "web"), timeout=20, what="web recovered")
    assert child.restore_count() == 1 and child.remove_count() == 0
    assert um.active_state(unit) == "active"

    n1.cli("resource", "remove", "--tag", "addr")
    assert n1.state("web") == "OSU" and n1.state("addr") == "OSU"
    removed = [e["tag"] for e in n1.log_events() if e["number"] == 1204]
    assert removed == ["web", "addr"], removed
    assert um.active_state(unit) == "inactive" and not child.running()


def test_hierarchy_ocf_child_under_a_systemd_parent_moves_and_fails_over(managers, cluster,
                                                                          monkeypatch, tmp_path):
    """Types mixed in one hierarchy (issue 13, item 6): a systemd unit over an OCF agent's
    resource, on two nodes each with its own manager and its own agents' run directory.
    The child is restored first, the hierarchy switches over whole, and the unit's death
    on the node that holds it fails the whole hierarchy over."""
    import cluster as ch

    um1, um2 = managers(), managers()
    n1, n2 = cluster.build(2, start=False)
    for n, um in ((n1, um1), (n2, um2)):
        n.ocf_run = tmp_path / f"ocfrun-{n.name}"
        n.ocf_run.mkdir()
        monkeypatch.setenv("HA_RSCTMP", str(n.ocf_run))
        monkeypatch.setenv("HA_VARRUN", str(n.ocf_run))
        start_on(n, um, monkeypatch)
    cluster.mesh([n1, n2])
    cluster.configure([n1, n2], heartbeat_ms=ch.HB_MS, misses=ch.HB_MISSES)
    cluster.wait_all_alive([n1, n2])
    cluster.wait_all_synced([n1, n2])
    unit = "lkt-m.service"
    marker = lkapp.new_marker()
    for um in (um1, um2):
        add_unit(um, unit, marker)
    state = "Dummy-d1.state"

    n1.cli("resource", "create", "ocf", "--tag", "d1", "--agent", "heartbeat:Dummy",
           "--quickchk-interval", "1", "--no-in-service")
    create(n1, "web", unit, "--no-in-service", "--local-recovery", "off")
    n1.cli("dependency", "create", "--parent", "web", "--child", "d1")
    n1.cli("resource", "restore", "--tag", "web")
    assert n1.state("web") == "ISP" and n1.state("d1") == "ISP"
    assert um1.active_state(unit) == "active" and (n1.ocf_run / state).exists()
    restored = [e["tag"] for e in n1.log_events() if e["number"] == 1201]
    assert restored == ["d1", "web"], restored

    n1.cli("resource", "extend", "--tag", "web", "--node", "node2", "--priority", "10")
    wait_for(lambda: n2.state("web") == "OSU" and n2.state("d1") == "OSU",
             what="the hierarchy defined on node2")

    # Switchover: both move, the unit and the agent's state with them.
    n1.cli("resource", "restore", "--tag", "web", "--node", "node2")
    wait_for(lambda: (n2.state("web"), n2.state("d1"), n1.state("web"), n1.state("d1"))
             == ("ISP", "ISP", "OSU", "OSU"), what="the hierarchy in service on node2 only")
    assert um2.active_state(unit) == "active" and um1.active_state(unit) == "inactive"
    assert (n2.ocf_run / state).exists() and not (n1.ocf_run / state).exists()

    # The unit dies on node2, no local recovery: node1 takes the whole hierarchy.
    pid = um2.main_pid(unit)
    assert pid > 0 and um2.in_fence(pid)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: (n1.state("web"), n1.state("d1")) == ("ISP", "ISP")
             and um1.active_state(unit) == "active", timeout=30,
             what="the hierarchy failed over to node1")
    wait_for(lambda: not (n2.ocf_run / state).exists(), what="node2 stopped the child")
    assert (n1.ocf_run / state).exists()
    assert um2.active_state(unit) in ("inactive", "failed")
