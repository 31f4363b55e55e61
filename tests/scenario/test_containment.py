"""Containment (issue 10) on one node, with real cgroups, real daemons and real scripts:
every run of a resource lives in the resource's cgroup, a daemonized application's death
is seen without a pidfile, a remove that leaves a child behind has it killed and logged,
a run cut short by lkd's death is waited for (never run twice beside itself), and without
containment everything falls back and says why."""

import os
import signal
import subprocess
import time
from pathlib import Path

import lkapp
from conftest import wait_for

QUIET = 2


def base(node):
    return Path((node.root / "run" / "cgroup").read_text().strip())


def cgroup_pids(node, tag):
    try:
        text = (base(node) / f"{tag}.res" / "cgroup.procs").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def daemon_app(node, tag, recover=False):
    """A restore that daemonizes `sleep <marker>` with a double fork and setsid, writing no
    pidfile anywhere lkd is told of; returns (marker, restore, remove, quickchk, recover)."""
    m = lkapp.new_marker()
    pf = f'"$LKROOT/app-{tag}.pid"'
    restore = node.script(f"""\
        #!/bin/bash
        ( setsid bash -c 'echo $$ > {pf}; exec sleep {m}' </dev/null >/dev/null 2>&1 & ) &
        for i in $(seq 100); do [ -s {pf} ] && break; sleep 0.02; done
        exit 0
        """)
    remove = node.script(f"""\
        #!/bin/bash
        [ -s {pf} ] && kill $(cat {pf}) 2>/dev/null
        rm -f {pf}
        exit 0
        """)
    # A check that would see the death only at the next tick (an hour away).
    quickchk = node.script(f"""\
        #!/bin/bash
        [ -s {pf} ] && kill -0 $(cat {pf}) 2>/dev/null
        """)
    node.markers.append(m)
    return m, restore, remove, quickchk


def leaving_restore(node):
    """A restore that leaves `sleep <marker>` running in a session of its own (a double
    fork and setsid) and tells nobody; returns (marker, restore)."""
    m = lkapp.new_marker()
    node.markers.append(m)
    return m, node.script(f"""\
        #!/bin/bash
        ( setsid sleep {m} </dev/null >/dev/null 2>&1 & ) &
        exit 0
        """)


def running(m):
    return [pid for pid, argv in lkapp.proc_cmdlines().items() if argv == ["sleep", m]]


def test_status_shows_containment_and_usage(node):
    node.start()
    m, restore, remove, quickchk = daemon_app(node, "app1")
    node.create("app1", restore, remove, "--quickchk", quickchk)
    st = node.cli_json("status")
    assert st["containment"]["on"] is True, st["containment"]
    assert str(base(node)) == st["containment"]["base"]
    res = [r for r in st["resources"] if r["tag"] == "app1"][0]
    assert res["usage"]["procs"] == 1, res["usage"]
    assert res["usage"]["cpu_usec"] >= 0
    text = node.cli("status").stdout
    assert f"containment: on ({base(node)})" in text, text
    assert "[1 proc, cpu " in text, text
    # The daemonized application is in the resource's cgroup, not the daemon's.
    pids = running(m)
    assert len(pids) == 1 and cgroup_pids(node, "app1") == pids, (pids, cgroup_pids(node, "app1"))


def test_daemonized_death_is_seen_without_pidfile(node):
    node.start()
    m, restore, remove, quickchk = daemon_app(node, "app1")
    node.create("app1", restore, remove, "--quickchk", quickchk, "--quickchk-interval", "3600",
                "--recover", restore)
    wait_for(lambda: len(running(m)) == 1, what="the daemonized app")
    first = running(m)[0]
    os.kill(first, signal.SIGKILL)
    # Seen from cgroup.events (no pidfile, the next check an hour away): recovered in place.
    wait_for(lambda: 1512 in [e["number"] for e in node.log_events(tag="app1")],
             what="event 1512 (every process exited)")
    wait_for(lambda: len(running(m)) == 1 and running(m)[0] != first, what="the app recovered")
    wait_for(lambda: node.state("app1") == "ISP", what="ISP after the recovery")
    # The new process runs (and app1 reads ISP, as it did all along) before the recover
    # script has exited: 1502 comes when it has.
    wait_for(lambda: 1502 in [e["number"] for e in node.log_events(tag="app1")],
             what="event 1502 (recovered)")


def test_restore_that_leaves_nothing_is_not_watched(node):
    """A resource whose restore leaves no process (a virtual address) is never failed for
    an empty cgroup, even though its checks run in that cgroup."""
    node.start()
    ok = node.script("#!/bin/sh\nexit 0\n")
    node.create("ip1", ok, ok, "--quickchk", ok, "--quickchk-interval", "0.2")
    time.sleep(QUIET)
    assert node.state("ip1") == "ISP"
    assert 1512 not in [e["number"] for e in node.log_events(tag="ip1")]


def test_remove_that_leaves_a_child_has_it_killed_and_logged(node):
    node.start()
    m, restore = leaving_restore(node)
    lazy_remove = node.script("#!/bin/sh\necho 'forgot to stop it'\nexit 0\n")
    node.create("app1", restore, lazy_remove)
    wait_for(lambda: len(running(m)) == 1, what="the app")
    left = running(m)[0]
    node.cli("resource", "remove", "--tag", "app1")
    assert not lkapp.pid_alive(left), "the child the remove left is still alive"
    ev = [e for e in node.log_events(tag="app1") if e["number"] == 1513]
    assert ev and f"{left} (sleep {m})" in ev[-1]["message"], ev
    assert node.state("app1") == "OSU"

    # kill-mode process: what the remove leaves is left (today's behaviour).
    node.cli("resource", "config", "--tag", "app1", "--kill-mode", "process")
    node.cli("resource", "restore", "--tag", "app1")
    wait_for(lambda: len(running(m)) == 1, what="the app again")
    again = running(m)[0]
    node.cli("resource", "remove", "--tag", "app1")
    assert lkapp.pid_alive(again), "kill-mode process killed the child"
    os.kill(again, signal.SIGKILL)


def test_failed_remove_is_followed_by_the_kill(node):
    """A remove that fails: everything in the cgroup is killed, and since nothing is left
    the resource is out of service (not 'remove failed: may still run')."""
    node.start()
    m, restore = leaving_restore(node)
    bad_remove = node.script("#!/bin/sh\necho 'cannot stop it'\nexit 1\n")
    node.create("app1", restore, bad_remove)
    wait_for(lambda: len(running(m)) == 1, what="the app")
    node.cli("resource", "remove", "--tag", "app1", check=False)
    wait_for(lambda: not running(m), what="the app killed after the failed remove")
    wait_for(lambda: node.state("app1") == "OSU", what="OSU")
    r = node.resource("app1")
    assert not r.get("stop_failed"), r
    assert 1514 in [e["number"] for e in node.log_events(tag="app1")]


def test_failed_remove_of_what_is_not_a_process_stands(node):
    """A resource whose restore leaves no process (an address, a mount): its empty cgroup
    proves nothing, so a failed remove stays "remove failed: may still be running"."""
    node.start()
    ok = node.script("#!/bin/sh\nexit 0\n")
    bad_remove = node.script("#!/bin/sh\necho 'address still up'\nexit 1\n")
    node.create("ip1", ok, bad_remove)
    node.cli("resource", "remove", "--tag", "ip1", check=False)
    wait_for(lambda: node.state("ip1") == "OSF", what="OSF")
    assert node.resource("ip1").get("stop_failed") is True, node.resource("ip1")
    assert 1514 not in [e["number"] for e in node.log_events(tag="ip1")]


def test_crash_during_a_slow_restore_runs_one_instance(node):
    node.start()
    m = lkapp.new_marker()
    node.markers.append(m)
    starts = node.work / "starts"
    pf = '"$LKROOT/app1.pid"'
    restore = node.script(f"""\
        #!/bin/bash
        sleep 3
        echo start >> {starts}
        ( setsid bash -c 'echo $$ > {pf}; exec sleep {m}' </dev/null >/dev/null 2>&1 & ) &
        for i in $(seq 100); do [ -s {pf} ] && break; sleep 0.02; done
        exit 0
        """)
    remove = node.script(f"#!/bin/bash\n[ -s {pf} ] && kill $(cat {pf}); rm -f {pf}; exit 0\n")
    quickchk = node.script(f"#!/bin/bash\n[ -s {pf} ] && kill -0 $(cat {pf}) 2>/dev/null\n")
    p = subprocess.Popen([node.bin("lkcli"), "--root", str(node.root), "resource", "create", "gen",
                          "--tag", "app1", "--restore", str(restore), "--remove", str(remove),
                          "--quickchk", str(quickchk)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    wait_for(lambda: node.script_runs("restore", "app1"), what="the slow restore to run")
    os.kill(node.daemon_pid(), signal.SIGKILL)
    p.wait(timeout=30)
    node.start()
    wait_for(lambda: node.state("app1") == "ISP", timeout=60, what="ISP after the restart")
    time.sleep(QUIET)
    assert len(running(m)) == 1, running(m)
    assert starts.read_text().count("start") == 1, starts.read_text()
    assert node.state("app1") == "ISP"
    assert 1516 in [e["number"] for e in node.log_events(tag="app1")]


def test_without_containment_everything_falls_back(node):
    node.start()
    node.stop()
    conf = node.root / "etc" / "lk.conf"
    text = conf.read_text()
    conf.write_text(text.replace("[node]\n", "[node]\ncontainment = off\n", 1))
    node.start()
    st = node.cli_json("status")
    assert st["containment"] == {"on": False, "why": "off in lk.conf"}, st["containment"]
    assert "containment: off (off in lk.conf)" in node.cli("status").stdout
    m, restore = leaving_restore(node)
    lazy_remove = node.script("#!/bin/sh\nexit 0\n")
    node.create("app1", restore, lazy_remove)
    wait_for(lambda: len(running(m)) == 1, what="the app")
    res = [r for r in node.cli_json("status")["resources"] if r["tag"] == "app1"][0]
    assert res["usage"] is None
    # What needs containment is refused, naming why; nothing changes.
    before = node.snapshot()
    p = node.cli("resource", "config", "--tag", "app1", "--watch", "cgroup", check=False)
    assert p.returncode != 0 and "containment" in p.stderr and "off in lk.conf" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert node.snapshot() == before
    # The remove's leftover stays: nothing can find it.
    left = running(m)[0]
    node.cli("resource", "remove", "--tag", "app1")
    assert lkapp.pid_alive(left)
    os.kill(left, signal.SIGKILL)
    assert not (node.root / "run" / "cgroup").exists()


def test_a_cgroup_killed_with_sigkill_runs_the_next_restore(node):
    """A leftover that ignores SIGTERM is killed through cgroup.kill; the resource's next
    runs still work (a killed cgroup is renewed: some kernels kill what is cloned into a
    cgroup once killed)."""
    node.start()
    m = lkapp.new_marker()
    node.markers.append(m)
    restore = node.script(f"""\
        #!/bin/bash
        ( setsid bash -c 'trap "" TERM; exec sleep {m}' </dev/null >/dev/null 2>&1 & ) &
        for i in $(seq 100); do pgrep -f -x "sleep {m}" >/dev/null && break; sleep 0.02; done
        exit 0
        """)
    lazy_remove = node.script("#!/bin/sh\nexit 0\n")
    node.create("app1", restore, lazy_remove)
    wait_for(lambda: len(running(m)) == 1, what="the app")
    node.cli("resource", "remove", "--tag", "app1", timeout=60)
    assert not running(m)
    assert 1513 in [e["number"] for e in node.log_events(tag="app1")]
    node.cli("resource", "restore", "--tag", "app1")
    wait_for(lambda: len(running(m)) == 1, what="the app after the SIGKILL of its cgroup")
    assert node.state("app1") == "ISP"
