"""Monitoring and local recovery (issue #3, SPEC §3 "Timeouts", "Monitoring and
recovery"): check timeouts (1517), the failure path, the recovery-loop limit, the pidfd
watch, ISU, the start grace and `resource why`, with a real daemon and real scripts.

Intervals are sub-second so that every test is short. Timing is only ever asserted as
"before X happened" (with generous bounds), never as a figure. Scripts that look at the
application read the state field of /proc/PID/stat: in this sandbox an application killed
with SIGKILL may stay a zombie for a while, and a zombie is dead.
"""

import fcntl
import os
import re
import signal
import subprocess
import time

from conftest import lkapp, wait_for


# ------------------------------------------------------------------ helpers


def events(node, tag):
    return node.log_events(tag=tag)


def numbers(node, tag):
    return [e["number"] for e in events(node, tag)]


def count(node, tag, number):
    return numbers(node, tag).count(number)


def settled(node, tag, state):
    """The resource is in state with nothing pending."""
    r = node.resource(tag)
    return r is not None and r["state"] == state and r["pending"] in ("", "none")


def lines(path):
    try:
        return path.read_text().splitlines()
    except FileNotFoundError:
        return []


# A shell function for scripts: is this pid alive (a zombie is not)?
ALIVE = r"""
alive() {
    [ -n "$1" ] || return 1
    st=$(sed 's/.*) //' /proc/$1/stat 2>/dev/null | cut -d' ' -f1)
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
"""


class Svc:
    """A protected application (`sleep <marker>` in its own session) with scripts that
    count their runs in files: restore, remove, quickchk, recover. quickchk follows a
    plan file (see set_plan), and otherwise checks that the application runs."""

    def __init__(self, node, tag, remove_delay=0, recover=True, recover_delay=0,
                 recover_fails=False):
        self.node, self.tag = node, tag
        self.marker = node.marker()  # the application: sleep <marker>
        self.hang = node.marker()    # a hung check: sleep <hang>
        self.dir = node.work / f"svc-{tag}"
        self.dir.mkdir(parents=True, exist_ok=True)
        d, m, pf = self.dir, self.marker, self.dir / "app.pid"
        self.pidfile = pf
        start = f"""\
setsid sleep {m} </dev/null >/dev/null 2>&1 &
echo $! > {pf}.tmp && mv {pf}.tmp {pf}
"""
        self.restore = node.script(f"""\
#!/bin/sh
echo "$(date +%s.%N)" >> {d}/restores
{start}
echo "{tag} started (pid $(cat {pf}))"
echo "$(date +%s.%N)" >> {d}/restored
""", name=f"{tag}-restore")
        self.remove = node.script(f"""\
#!/bin/sh
{ALIVE}
echo "$(date +%s.%N)" >> {d}/removes
sleep {remove_delay}
wc -l < {d}/quickchks > {d}/remove-start 2>/dev/null || echo 0 > {d}/remove-start
sleep {remove_delay}
pid=$(cat {pf} 2>/dev/null)
alive "$pid" && kill -9 "$pid"
rm -f {pf}
wc -l < {d}/quickchks > {d}/remove-end 2>/dev/null || echo 0 > {d}/remove-end
echo "{tag} stopped"
""", name=f"{tag}-remove")
        # The plan: one outcome per line (ok, fail, hang, app), taken from the top; the last
        # line repeats. "app" (and no plan at all) checks the application.
        self.plan = d / "plan"
        self.quickchk = node.script(f"""\
#!/bin/sh
{ALIVE}
echo "$(date +%s.%N) $$" >> {d}/quickchks
exec 8>>{d}/plan.lock
flock 8
what=$(head -n 1 {d}/plan 2>/dev/null)
if [ "$(wc -l < {d}/plan 2>/dev/null || echo 0)" -gt 1 ]; then
    sed -i 1d {d}/plan
fi
exec 8>&-
case "$what" in
ok)   echo "{tag}: scripted ok"; exit 0 ;;
fail) echo "{tag}: disk /data is full (scripted failure)"; exit 3 ;;
hang) echo "{tag}: checking, slowly"; exec sleep {self.hang} ;;
esac
pid=$(cat {pf} 2>/dev/null)
if alive "$pid"; then
    echo "{tag} runs (pid $pid)"
    exit 0
fi
echo "{tag} does not run (pid '$pid')"
exit 1
""", name=f"{tag}-quickchk")
        self.recover = None
        if recover:
            tail = (f'echo "cannot repair {tag}: no space left"; exit 1' if recover_fails
                    else f'{start}echo "{tag} restarted by recover (pid $(cat {pf}))"')
            self.recover = node.script(f"""\
#!/bin/sh
{ALIVE}
wc -l < {d}/quickchks > {d}/recover-start
echo "$(date +%s.%N)" >> {d}/recovers
sleep {recover_delay}
wc -l < {d}/quickchks > {d}/recover-end
pid=$(cat {pf} 2>/dev/null)
alive "$pid" && kill -9 "$pid"
{tail}
""", name=f"{tag}-recover")

    def create_args(self, *settings):
        args = ["--tag", self.tag, "--restore", self.restore, "--remove", self.remove,
                "--quickchk", self.quickchk]
        if self.recover:
            args += ["--recover", self.recover]
        return args + list(settings)

    def create(self, *settings):
        self.node.cli("resource", "create", "gen", *self.create_args(*settings))

    def set_plan(self, *outcomes):
        """Replaces the quickchk plan, under the lock the quickchk takes."""
        with open(self.dir / "plan.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            tmp = self.dir / "plan.tmp"
            tmp.write_text("".join(o + "\n" for o in outcomes))
            os.replace(tmp, self.plan)

    def app_pid(self):
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if lkapp.pid_alive(pid) else None

    def kill_app(self):
        pid = self.app_pid()
        assert pid, "the application does not run"
        os.kill(pid, signal.SIGKILL)
        return pid

    def runs(self, name):
        return len(lines(self.dir / name))

    def quickchks(self):
        return self.runs("quickchks")

    def hung_checks(self):
        return lkapp.pids_with_argv(["sleep", self.hang])


def wait_settled(node, tag, state, timeout=30):
    wait_for(lambda: settled(node, tag, state), timeout=timeout, what=f"{tag} {state}")


# ------------------------------------------------------------------ check timeouts


# Written from LifeKeeper's documented text (SPEC §3), not from catalog.c: "Process:
# lkd(PID)" is the daemon, "PID=" the check, no period after the tag, "(Partner PID=0)".
T1517 = re.compile(r"^Process: lkd\((\d+)\) \*WARNING\* \(No\. 1517\) System Failure Detected! "
                   r"(quick|deep) Check process \(PID=(\d+)\) did not return in ([0-9.]+) "
                   r"seconds for resource (\S+) Aborting check process\. \(Partner PID=0\)$")


def t1517(message):
    """(kind, check pid, seconds, tag, lkd pid) of a 1517 message, or None."""
    m = T1517.match(message)
    return m and (m.group(2), int(m.group(3)), m.group(4), m.group(5), int(m.group(1)))


def test_hung_quickchk_is_killed_logged_and_ignored(node):
    svc = Svc(node, "hq")
    svc.set_plan("hang")
    svc.create("--quickchk-interval", "0.5")

    timeouts = wait_for(lambda: [e for e in events(node, "hq") if e["number"] == 1517],
                        what="a 1517 event")
    ev = timeouts[0]
    assert ev["severity"] == "WARNING"
    m = t1517(ev["message"])
    assert m, ev["message"]
    kind, pid, secs, tag, lkd = m
    assert kind == "quick" and secs == "0.5" and tag == "hq"
    assert lkd == node.daemon_pid(), (lkd, node.daemon_pid())
    assert "quick Check process (PID=" in ev["message"]
    # lk.log holds the text verbatim, as LifeKeeper's log does: a monitor's pattern for
    # LifeKeeper matches it.
    wait_for(lambda: ev["message"] in (node.root / "log" / "lk.log").read_text(errors="replace"),
             what="the 1517 text in lk.log")
    # The pid is the check script's (it ran `exec sleep`, so the same process), and it
    # was killed at about its interval: long before its sleep would have ended.
    started = {int(line.split()[1]): float(line.split()[0]) for line in lines(svc.dir / "quickchks")}
    assert pid in started, (pid, started)
    assert ev["time_ms"] / 1000 - started[pid] < 10
    assert not lkapp.pid_alive(pid), "the hung check process must be killed"
    assert "checking, slowly" in ev["detail"]

    # The next check runs on schedule and is killed too; nothing else happens.
    wait_for(lambda: count(node, "hq", 1517) >= 2, what="a second 1517")
    r = node.resource("hq")
    assert r["state"] == "ISP" and r["pending"] in ("", "none")
    assert r["check_failures_in_row"] == 0 and r["local_recoveries"] == 0
    assert r["reason"] == "restore action has succeeded"
    nums = numbers(node, "hq")
    assert not {1500, 1501, 1502, 1503, 1505} & set(nums), nums
    assert svc.runs("recovers") == 0, "recover must not run after a check timeout"
    assert svc.runs("restores") == 1
    # Every hung check but the one running now is gone.
    assert len(svc.hung_checks()) <= 1


def test_hung_deepchk_is_killed_at_twice_its_interval(node):
    svc = Svc(node, "hd")
    svc.set_plan("hang")
    # The same script as deepchk; quickchk off.
    node.cli("resource", "create", "gen", "--tag", "hd", "--restore", svc.restore, "--remove",
             svc.remove, "--deepchk", svc.quickchk, "--recover", svc.recover,
             "--quickchk-interval", "0", "--deepchk-interval", "0.5")

    ev = wait_for(lambda: [e for e in events(node, "hd") if e["number"] == 1517],
                  what="a 1517 event")[0]
    m = t1517(ev["message"])
    assert m, ev["message"]
    kind, pid, secs, tag, lkd = m
    assert kind == "deep" and tag == "hd" and lkd == node.daemon_pid()
    assert "deep Check process (PID=" in ev["message"]
    assert secs == "1", "deepchk times out at 2 x its interval"
    started = {int(line.split()[1]): float(line.split()[0]) for line in lines(svc.dir / "quickchks")}
    elapsed = ev["time_ms"] / 1000 - started[pid]
    assert 0.8 < elapsed < 10, elapsed
    assert not lkapp.pid_alive(pid)
    assert settled(node, "hd", "ISP")
    assert svc.runs("recovers") == 0
    assert 1500 not in numbers(node, "hd")


def test_timeout_action_fail_counts_as_failed_check(node):
    svc = Svc(node, "tf")
    svc.set_plan("hang", "app")
    svc.create("--quickchk-interval", "0.3", "--monitor-timeout-action", "fail")

    wait_for(lambda: count(node, "tf", 1502) >= 1, what="recovered after a timeout")
    nums = numbers(node, "tf")
    assert nums.index(1517) < nums.index(1500) < nums.index(1501) < nums.index(1502)
    failed = [e for e in events(node, "tf") if e["number"] == 1500][0]
    assert "quickchk failed: timed out after 0.3 s" in failed["message"]
    wait_settled(node, "tf", "ISP")
    assert svc.runs("recovers") == 1


# ------------------------------------------------------------------ the failure path


def test_failing_quickchk_runs_recover_not_restore(node):
    svc = Svc(node, "fq")
    # The check finds the death (the cgroup watch, issue 10, would first).
    svc.create("--watch", "none", "--quickchk-interval", "0.2")
    assert svc.runs("restores") == 1
    old = svc.kill_app()

    wait_for(lambda: count(node, "fq", 1502) >= 1, what="1502 recovered")
    wait_settled(node, "fq", "ISP")
    new = svc.app_pid()
    assert new and new != old, "recover must have started the application again"
    r = node.resource("fq")
    assert r["reason"] == "recovered in place by recover; restore not run"
    assert r["local_recoveries"] == 1 and r["check_failures_in_row"] == 0
    assert svc.runs("restores") == 1, "restore must not run again"
    assert svc.runs("removes") == 0
    assert svc.runs("recovers") == 1
    nums = numbers(node, "fq")
    assert nums.index(1500) < nums.index(1501) < nums.index(1502)
    failed = [e for e in events(node, "fq") if e["number"] == 1500][0]
    assert failed["message"].startswith("quickchk failed: exit status 1 (1 of 1 in a row)")
    assert "does not run" in failed["detail"]
    f = node.ins_line("fq")
    assert f[6] == "ISP" and f[10] == "0" and f[11] == "1"
    # Monitoring goes on after a recovery.
    n = svc.quickchks()
    wait_for(lambda: svc.quickchks() >= n + 2, what="checks after the recovery")
    assert settled(node, "fq", "ISP")


def test_failing_recover_makes_osf(node):
    svc = Svc(node, "fr", recover_fails=True)
    # The check finds the death (the cgroup watch, issue 10, would first).
    svc.create("--watch", "none", "--quickchk-interval", "0.2")
    svc.kill_app()

    wait_settled(node, "fr", "OSF")
    r = node.resource("fr")
    assert "quickchk failed: exit status 1" in r["reason"]
    assert "recover failed: exit status 1" in r["reason"]
    assert "in progress" not in r["reason"]
    nums = numbers(node, "fr")
    for n in (1500, 1501, 1503, 1505):
        assert n in nums, (n, nums)
    assert 1502 not in nums
    failed = [e for e in events(node, "fr") if e["number"] == 1503][0]
    assert "cannot repair fr: no space left" in failed["detail"]
    assert svc.runs("restores") == 1 and svc.runs("recovers") == 1
    assert node.ins_line("fr")[6] == "OSF"
    # No more checks once out of service.
    n = svc.quickchks()
    time.sleep(0.6)
    assert svc.quickchks() == n


def test_no_recover_script_makes_osf(node):
    svc = Svc(node, "nr", recover=False)
    # The check finds the death (the cgroup watch, issue 10, would first).
    svc.create("--watch", "none", "--quickchk-interval", "0.2")
    svc.kill_app()

    wait_settled(node, "nr", "OSF")
    r = node.resource("nr")
    assert r["reason"] == "quickchk failed: exit status 1; no backup node to fail over to"
    nums = numbers(node, "nr")
    assert 1500 in nums and 1505 in nums and 1501 not in nums
    assert svc.runs("restores") == 1
    f = node.ins_line("nr")
    assert (f[6], f[10], f[11]) == ("OSF", "1", "0"), "the failure that made it OSF counts"


def test_local_recovery_off_makes_osf(node):
    svc = Svc(node, "lr")
    svc.create("--quickchk-interval", "0.2", "--local-recovery", "off")
    svc.kill_app()
    wait_settled(node, "lr", "OSF")
    assert svc.runs("recovers") == 0
    assert 1505 in numbers(node, "lr")


def test_check_failures_three_in_a_row(node):
    svc = Svc(node, "cf")
    # Two failures, then the check hangs: a timeout (ignored) changes nothing, so the
    # count stays at 2 for us to see.
    svc.set_plan("fail", "fail", "hang")
    svc.create("--quickchk-interval", "0.2", "--check-failures", "3")

    wait_for(lambda: count(node, "cf", 1517) >= 1, what="the hang after two failures")
    msgs = [e["message"] for e in events(node, "cf") if e["number"] == 1500]
    assert len(msgs) == 2, msgs
    assert "(1 of 3 in a row)" in msgs[0] and "(2 of 3 in a row)" in msgs[1]
    assert "exit status 3" in msgs[0]
    assert node.resource("cf")["check_failures_in_row"] == 2
    f = node.ins_line("cf")
    assert (f[6], f[10], f[11]) == ("ISP", "2", "0")
    assert svc.runs("recovers") == 0, "two failures of three must not start recover"
    assert 1501 not in numbers(node, "cf")

    # The third failure in a row does.
    svc.set_plan("fail", "app")
    wait_for(lambda: count(node, "cf", 1502) >= 1, what="recovered after the third failure")
    msgs = [e["message"] for e in events(node, "cf") if e["number"] == 1500]
    assert "(3 of 3 in a row)" in msgs[-1]
    wait_settled(node, "cf", "ISP")
    assert svc.runs("recovers") == 1
    f = node.ins_line("cf")
    assert (f[10], f[11]) == ("0", "1")


def test_success_between_failures_starts_the_count_again(node):
    svc = Svc(node, "sb")
    svc.set_plan("fail", "fail", "ok", "fail", "fail", "ok")
    svc.create("--quickchk-interval", "0.2", "--check-failures", "3")
    wait_for(lambda: lines(svc.plan) == ["ok"] and svc.quickchks() >= 7,
             what="the plan played out")
    msgs = [e["message"] for e in events(node, "sb") if e["number"] == 1500]
    assert len(msgs) == 4 and all("of 3 in a row" in m for m in msgs)
    assert "(3 of 3" not in " ".join(msgs)
    assert svc.runs("recovers") == 0
    assert node.resource("sb")["check_failures_in_row"] == 0


def test_recovery_loop_limit_and_reset(node):
    svc = Svc(node, "rl")
    # The check finds the death (the cgroup watch, issue 10, would first).
    svc.create("--watch", "none", "--quickchk-interval", "0.2", "--max-recoveries", "2", "--recovery-window", "600")

    for i in (1, 2):
        svc.kill_app()
        wait_for(lambda: count(node, "rl", 1502) >= i, what=f"recovery {i}")
        wait_settled(node, "rl", "ISP")
        wait_for(lambda: svc.app_pid(), what="the application again")
        f = node.ins_line("rl")
        assert (f[10], f[11]) == ("0", str(i))

    # The third failure within the window: unrecoverable here.
    svc.kill_app()
    wait_settled(node, "rl", "OSF")
    assert svc.runs("recovers") == 2
    r = node.resource("rl")
    assert "2 local recoveries within 600 s" in r["reason"]
    assert "quickchk failed" in r["reason"]
    limit = [e for e in events(node, "rl") if e["number"] == 1504]
    assert len(limit) == 1 and limit[0]["severity"] == "ERROR"
    assert "treated as unrecoverable" in limit[0]["message"]
    assert 1505 in numbers(node, "rl")
    f = node.ins_line("rl")
    assert (f[6], f[10], f[11]) == ("OSF", "1", "2")
    row = [ln.split() for ln in node.cli("status").stdout.splitlines() if ln.split()[:1] == ["rl"]]
    assert row and row[0][1:5] == ["OSF", "-", "1", "2"], row

    p = node.cli("resource", "reset", "--tag", "rl")
    assert "counters cleared" in p.stdout
    f = node.ins_line("rl")
    assert (f[6], f[10], f[11]) == ("OSF", "0", "0"), "reset clears, it does not restore"
    assert 1509 in numbers(node, "rl")

    # After a reset the recovery budget is whole again.
    node.cli("resource", "restore", "--tag", "rl")
    wait_settled(node, "rl", "ISP")
    svc.kill_app()
    wait_for(lambda: count(node, "rl", 1502) >= 3, what="a local recovery after reset")
    wait_settled(node, "rl", "ISP")
    assert node.ins_line("rl")[11] == "1"


# ------------------------------------------------------------------ the pidfd watch


def test_pidfd_detects_kill9_long_before_the_check(node):
    svc = Svc(node, "pf")
    svc.create("--quickchk-interval", "60", "--pidfile", svc.pidfile)
    old = svc.app_pid()
    assert old

    t0 = time.monotonic()
    svc.kill_app()
    wait_for(lambda: count(node, "pf", 1502) >= 1, timeout=10,
             what="recovered through the pidfd watch")
    assert time.monotonic() - t0 < 10
    wait_settled(node, "pf", "ISP")
    new = svc.app_pid()
    assert new and new != old
    assert svc.quickchks() == 0, "no check ran: the pidfd watch noticed"
    exited = [e for e in events(node, "pf") if e["number"] == 1506]
    assert len(exited) == 1 and f"process {old} " in exited[0]["message"]
    assert str(svc.pidfile) in exited[0]["message"]
    assert svc.runs("restores") == 1

    # recover rewrote the pidfile: the new process is the one watched now.
    svc.kill_app()
    wait_for(lambda: count(node, "pf", 1502) >= 2, timeout=10, what="the new pid watched")
    exited = [e for e in events(node, "pf") if e["number"] == 1506]
    assert len(exited) == 2 and f"process {new} " in exited[1]["message"]
    wait_settled(node, "pf", "ISP")
    assert svc.quickchks() == 0


def _dead_pid():
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_stale_pidfile_is_a_failure(node):
    pf = node.work / "stale.pid"
    restore = node.script(f"""\
#!/bin/sh
echo {_dead_pid()} > {pf}
""")
    remove = node.script("#!/bin/sh\nexit 0\n")
    node.create("st", restore, remove, "--pidfile", pf, "--quickchk-interval", "60", check=False)
    wait_settled(node, "st", "OSF")
    r = node.resource("st")
    assert "from pidfile exited" in r["reason"]
    assert 1506 in numbers(node, "st")


def test_reused_pid_is_a_failure(node):
    """The pidfile names a live process that started after the pidfile was written: the
    pid was reused, the application is gone."""
    m = node.marker()
    pf = node.work / "reused.pid"
    other = subprocess.Popen(["sleep", m], start_new_session=True)
    try:
        restore = node.script(f"""\
#!/bin/sh
echo {other.pid} > {pf}
touch -d '1 hour ago' {pf}
""")
        remove = node.script("#!/bin/sh\nexit 0\n")
        node.create("ru", restore, remove, "--pidfile", pf, "--quickchk-interval", "60",
                    check=False)
        wait_settled(node, "ru", "OSF")
        assert 1506 in numbers(node, "ru")
        assert other.poll() is None, "the daemon must not touch a process it does not own"
    finally:
        other.kill()
        other.wait()


def test_missing_pidfile_leaves_checks_in_charge(node):
    svc = Svc(node, "mp")
    missing = node.work / "nowhere.pid"
    svc.create("--quickchk-interval", "0.2", "--pidfile", missing)
    n = svc.quickchks()
    wait_for(lambda: svc.quickchks() >= n + 3, what="checks go on")
    assert settled(node, "mp", "ISP")
    problems = [e for e in events(node, "mp") if e["number"] == 1510]
    assert problems and str(missing) in problems[0]["message"]
    # Said once, not at every check.
    assert len(problems) == 1, [e["message"] for e in problems]
    # The checks still catch a failure.
    svc.kill_app()
    wait_for(lambda: count(node, "mp", 1502) >= 1, what="recovered by the checks")


# ------------------------------------------------------------------ how checks run


def test_check_with_background_grandchild_is_judged_at_exit(node):
    svc = Svc(node, "gc")
    m = node.marker()
    runs = node.work / "gc-runs"
    chk = node.script(f"""\
#!/bin/sh
echo run >> {runs}
sleep {m} &
echo "started a helper that keeps stdout open"
exit 0
""")
    node.cli("resource", "create", "gen", "--tag", "gc", "--restore", svc.restore, "--remove",
             svc.remove, "--quickchk", chk, "--quickchk-interval", "0.3")
    wait_for(lambda: len(lines(runs)) >= 4, what="several checks")
    nums = numbers(node, "gc")
    assert 1517 not in nums and 1500 not in nums, nums
    assert settled(node, "gc", "ISP")


def test_sub_second_interval(node):
    svc = Svc(node, "ss")
    svc.create("--quickchk-interval", "0.2")
    wait_for(lambda: svc.quickchks() >= 1, what="a first check")
    n0, t0 = svc.quickchks(), time.monotonic()
    time.sleep(2)
    n1, t1 = svc.quickchks(), time.monotonic()
    assert n1 - n0 >= 4, f"{n1 - n0} checks in {t1 - t0:.1f} s at 0.2 s"
    # No bunching: never more than one per interval (generous for slow machines).
    assert n1 - n0 <= (t1 - t0) / 0.2 + 2
    assert settled(node, "ss", "ISP")
    assert 1500 not in numbers(node, "ss")


def test_monitoring_pauses_during_remove_and_recover(node):
    svc = Svc(node, "pa", remove_delay=1, recover_delay=2)
    svc.create("--quickchk-interval", "0.2")
    wait_for(lambda: svc.quickchks() >= 3, what="checks running")

    # A remove of 2 s: its script reads the check count 1 s in and at its end.
    node.cli("resource", "remove", "--tag", "pa")
    start = int((svc.dir / "remove-start").read_text())
    end = int((svc.dir / "remove-end").read_text())
    assert start == end, f"{end - start} checks ran during remove"
    n = svc.quickchks()
    time.sleep(0.6)
    assert svc.quickchks() == n, "no checks while out of service"

    # A recover of 2 s.
    node.cli("resource", "restore", "--tag", "pa")
    wait_for(lambda: svc.quickchks() >= n + 2, what="checks after restore")
    svc.set_plan("fail", "app")
    wait_for(lambda: count(node, "pa", 1502) >= 1, timeout=30, what="recovered")
    start = int((svc.dir / "recover-start").read_text())
    end = int((svc.dir / "recover-end").read_text())
    assert start == end, f"{end - start} checks ran during recover"
    wait_settled(node, "pa", "ISP")


def test_monitoring_pauses_during_isu(node):
    svc = Svc(node, "iu")
    svc.create("--quickchk-interval", "0.2")
    wait_for(lambda: svc.quickchks() >= 2, what="checks running")

    node.cli("resource", "config", "--tag", "iu", "--monitor", "off")
    wait_settled(node, "iu", "ISU")
    r = node.resource("iu")
    assert r["reason"] == "in service, unprotected: monitoring suspended"
    assert node.ins_line("iu")[6] == "ISU"
    assert 1507 in numbers(node, "iu")
    time.sleep(0.3)  # a check that was running when monitoring stopped ends
    n = svc.quickchks()
    # A dead application goes unnoticed while monitoring is suspended.
    svc.kill_app()
    time.sleep(1)
    assert svc.quickchks() == n, "no checks while ISU"
    assert settled(node, "iu", "ISU")
    assert svc.runs("recovers") == 0

    node.cli("resource", "config", "--tag", "iu", "--monitor", "on")
    assert 1508 in numbers(node, "iu")
    wait_for(lambda: svc.quickchks() > n, what="checks again")
    # ...and then the dead application is noticed and recovered.
    wait_for(lambda: count(node, "iu", 1502) >= 1, what="recovered after monitoring resumed")
    wait_settled(node, "iu", "ISP")


def test_start_grace_delays_the_first_check(node):
    svc = Svc(node, "sg")
    svc.create("--quickchk-interval", "0.2", "--start-grace", "2")
    wait_for(lambda: svc.quickchks() >= 1, what="a first check")
    restored = float(lines(svc.dir / "restored")[0])
    first = float(lines(svc.dir / "quickchks")[0].split()[0])
    assert first - restored >= 1.5, f"first check {first - restored:.2f} s after restore"


# ------------------------------------------------------------------ why


def test_why_tells_the_last_incident(node):
    svc = Svc(node, "wy")
    # The check finds the death (the cgroup watch, issue 10, would first).
    svc.create("--watch", "none", "--quickchk-interval", "0.2")
    p = node.cli("resource", "why", "--tag", "wy")
    assert "no incident" in p.stdout

    svc.set_plan("fail", "app")
    wait_for(lambda: count(node, "wy", 1502) >= 1, what="recovered")
    wait_settled(node, "wy", "ISP")
    out = node.cli("resource", "why", "--tag", "wy").stdout
    assert "resource 'wy' is ISP" in out
    assert "local recoveries: 1" in out
    assert "quickchk failed: exit status 3" in out, out
    assert "| wy: disk /data is full (scripted failure)" in out, out
    assert "running recover" in out
    assert "recovered in place by recover" in out
    assert out.index(" 1500 ") < out.index(" 1501 ") < out.index(" 1502 ")

    data = node.cli_json("resource", "why", "--tag", "wy")
    assert [e["number"] for e in data["incident"]] == [1500, 1501, 1502]

    # A later incident replaces it: the application dies, recover cannot help.
    node.script_copy("recover", "wy").write_text(
        "#!/bin/sh\necho 'cannot repair wy: no space left'\nexit 1\n")
    svc.kill_app()
    wait_settled(node, "wy", "OSF")
    out = node.cli("resource", "why", "--tag", "wy").stdout
    assert "resource 'wy' is OSF" in out
    assert "quickchk failed: exit status 1" in out
    assert "| wy does not run" in out
    assert "recover failed: exit status 1" in out
    assert "| cannot repair wy: no space left" in out
    assert "no backup node" in out
    assert "disk /data is full" not in out, "only the last incident"
