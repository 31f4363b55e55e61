"""Hardening (issue 11, item 5): files a user can influence. A pidfile replaced by a FIFO,
lk.conf as a FIFO, a symbolic link or a FIFO given as a script file, a fence script that is
world-writable, owned by another user or missing. Each must give a clear one-line error or
event, never hang a daemon or a command, and change nothing.

Every command here runs with a timeout far shorter than the harness's: on the code before
this work the pidfile and lk.conf cases hung for ever, and the test fails on the timeout
instead of waiting for it."""

import os
import pwd
import signal
import stat
import subprocess

import pytest

import cluster as ch
from cluster import holds, wait_eq
from conftest import one_line_error, wait_for

SHORT = 20  # seconds a command may take here; a hang fails the test
QUIET = 3   # seconds a "nothing happens" condition must keep holding
NOBODY = pwd.getpwnam("nobody").pw_uid


def unblock_fifo(path):
    """Lets a process blocked opening the FIFO at path for reading go on (it then reads
    end-of-file): an open for writing that does not wait. Used only to clean up after the
    code this work fixes."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
    except OSError:
        pass


def events(node, number, tag=None):
    return [e for e in node.log_events(tag=tag) if e["number"] == number]


# ------------------------------------------------------------------ pidfiles


def pidfile_app(node, tag):
    """An application (`sleep <marker>`) whose restore writes its pid to the pidfile and to
    a state file the quickchk reads; recover restarts it and writes the state file only (the
    application would write its pidfile itself: here what the test put there stays)."""
    m = node.marker()
    d = node.work / f"app-{tag}"
    d.mkdir(parents=True, exist_ok=True)
    pf, state = d / "app.pid", d / "state"
    start = f"setsid sleep {m} </dev/null >/dev/null 2>&1 &\necho $! > {state}\n"
    restore = node.script(f"#!/bin/sh\n{start}echo $! > {pf}.tmp && mv {pf}.tmp {pf}\n",
                          name=f"{tag}-restore")
    recover = node.script(f"#!/bin/sh\necho run >> {d}/recovers\n{start}", name=f"{tag}-recover")
    remove = node.script(f"#!/bin/sh\nkill -9 $(cat {state}) 2>/dev/null\nexit 0\n",
                         name=f"{tag}-remove")
    quickchk = node.script(f"""\
#!/bin/sh
echo run >> {d}/quickchks
pid=$(cat {state} 2>/dev/null)
[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && \
  [ "$(sed 's/.*) //' /proc/$pid/stat | cut -d' ' -f1)" != Z ]
""", name=f"{tag}-quickchk")
    return d, pf, state, restore, remove, quickchk, recover


def count_lines(path):
    try:
        return len(path.read_text().splitlines())
    except FileNotFoundError:
        return 0


def test_fifo_pidfile_does_not_freeze_the_node(node):
    """The application's pidfile is replaced by a FIFO (its directory is the
    application's): lkd keeps answering, checking and recovering, and says once that it
    cannot watch the process of that pidfile because it is a FIFO."""
    node.start()
    d, pf, state, restore, remove, quickchk, recover = pidfile_app(node, "fp")
    node.create("fp", restore, remove, "--quickchk", quickchk, "--recover", recover,
                "--quickchk-interval", "0.2", "--pidfile", pf)
    wait_eq(lambda: node.state("fp"), "ISP", what="fp in service")
    app = int(state.read_text())
    # The pidfile is watched: replace it by a FIFO, then end the application. Its exit is
    # seen through the pidfd, the recovery restarts it, and the watch is set up again from
    # the pidfile, which is now a FIFO.
    pf.unlink()
    os.mkfifo(pf)
    try:
        os.kill(app, signal.SIGKILL)
        wait_for(lambda: count_lines(d / "recovers") >= 1, what="the recovery")
        wait_for(lambda: events(node, 1510, "fp"), timeout=SHORT, what="event 1510")
        line = events(node, 1510, "fp")[0]["message"]
        assert str(pf) in line and "FIFO" in line, line
        # The node answers and its checks go on.
        for _ in range(5):
            p = node.cli("status", timeout=SHORT)
            assert "fp" in p.stdout
        n = count_lines(d / "quickchks")
        wait_for(lambda: count_lines(d / "quickchks") >= n + 3, timeout=SHORT,
                 what="checks go on")
        assert node.state("fp") == "ISP"
        # Said once, not at every check.
        holds(lambda: len(events(node, 1510, "fp")) == 1, QUIET, what="1510 said once")
        # The checks still catch a failure.
        os.kill(int(state.read_text()), signal.SIGKILL)
        wait_for(lambda: count_lines(d / "recovers") >= 2, timeout=SHORT,
                 what="recovered by the checks")
    finally:
        unblock_fifo(pf)


def test_pidfile_that_is_a_directory_or_a_link_is_a_clear_problem(node):
    """A pidfile path that names a directory or a symbolic link: one clear event each, the
    checks keep the resource protected."""
    node.start()
    for tag, make, why in [("pd", lambda p: p.mkdir(), "directory"),
                           ("pl", lambda p: p.symlink_to("/etc/hostname"), "symbolic link")]:
        d, pf, state, restore, remove, quickchk, recover = pidfile_app(node, tag)
        odd = d / "odd.pid"
        make(odd)
        node.create(tag, restore, remove, "--quickchk", quickchk, "--recover", recover,
                    "--quickchk-interval", "0.2", "--pidfile", odd)
        wait_for(lambda tag=tag: events(node, 1510, tag), timeout=SHORT, what=f"1510 of {tag}")
        line = events(node, 1510, tag)[0]["message"]
        assert str(odd) in line and why in line, line
        assert node.state(tag) == "ISP"


# ------------------------------------------------------------------ lk.conf


def test_fifo_lk_conf_is_refused_at_start(node):
    """etc/lk.conf replaced by a FIFO: lkstart and lkd refuse it at once in one line that
    names the file, and do not hang."""
    node.start()
    node.stop()
    conf = node.root / "etc" / "lk.conf"
    conf.unlink()
    os.mkfifo(conf)
    try:
        for argv in ([node.bin("lkstart"), "--root", node.root, "--no-guard"],
                     [node.bin("lkd"), "--root", node.root]):
            try:
                p = node.run(argv, timeout=SHORT)
            except subprocess.TimeoutExpired:
                pytest.fail(f"{argv[0]} hung on a FIFO lk.conf")
            line = one_line_error(p)
            assert str(conf) in line and "FIFO" in line, line
        assert not node.daemon_running()
    finally:
        unblock_fifo(conf)


def test_fifo_lk_log_is_refused_at_start(node):
    """log/lk.log replaced by a FIFO: lkd refuses to start in one line naming the file, at
    once, instead of blocking in the open for ever."""
    node.start()
    node.stop()
    log = node.root / "log" / "lk.log"
    log.unlink()
    os.mkfifo(log)
    try:
        try:
            p = node.run([node.bin("lkd"), "--root", node.root], timeout=SHORT)
        except subprocess.TimeoutExpired:
            pytest.fail("lkd hung on a FIFO lk.log")
        line = one_line_error(p)
        assert "lk.log" in line and "not a regular file" in line, line
        assert not node.daemon_running()
    finally:
        unblock_fifo(log)


def test_lk_conf_writable_by_others_is_refused_at_start(node):
    """lk.conf writable by others could name any fence script: refused, in one line."""
    node.start()
    node.stop()
    conf = node.root / "etc" / "lk.conf"
    os.chmod(conf, 0o666)
    p = node.run([node.bin("lkstart"), "--root", node.root, "--no-guard"], timeout=SHORT)
    line = one_line_error(p)
    assert str(conf) in line and "writable by group or others" in line, line
    assert not node.daemon_running()
    os.chmod(conf, 0o644)
    node.start()


def test_fifo_cluster_key_is_refused_at_start(node, tmp_path):
    """etc/authkey replaced by a FIFO: lkd refuses to start, in one line, at once; and a
    FIFO given to `lkstart --authkey` for a new root is refused by lkstart itself."""
    node.start()
    node.stop()
    key = node.root / "etc" / "authkey"
    key.unlink()
    os.mkfifo(key)
    fifo = tmp_path / "key-fifo"
    os.mkfifo(fifo)
    try:
        p = node.run([node.bin("lkstart"), "--root", node.root, "--no-guard"], timeout=SHORT)
        line = one_line_error(p)
        assert str(key) in line and "FIFO" in line, line
        assert not node.daemon_running()
        p = node.run([node.bin("lkstart"), "--root", tmp_path / "new-root", "--node", "n9",
                      "--listen", "127.0.0.1:1", "--no-guard", "--authkey", fifo], timeout=SHORT)
        line = one_line_error(p)
        assert str(fifo) in line and "FIFO" in line, line
        assert not (tmp_path / "new-root" / "etc" / "lk.conf").exists()
    finally:
        unblock_fifo(key)
        unblock_fifo(fifo)


# ------------------------------------------------------------------ script files


@pytest.fixture
def scripts(node):
    node.start()
    ok = "#!/bin/sh\nexit 0\n"
    restore, remove = node.script(ok, "ok-restore"), node.script(ok, "ok-remove")
    node.create("idle", restore, remove, "--no-in-service")
    return restore, remove


def test_symlink_script_file_is_refused(node, scripts):
    restore, remove = scripts
    link = node.work / "link-restore"
    link.symlink_to(restore)
    before = node.snapshot()
    p = node.cli("resource", "create", "gen", "--tag", "fresh", "--restore", link,
                 "--remove", remove, check=False, timeout=SHORT)
    line = one_line_error(p)
    assert p.returncode == 2 and str(link) in line and "symbolic link" in line, line
    assert str(restore) in line, line  # the file to give instead
    p = node.cli("resource", "update-script", "--tag", "idle", "--action", "restore", "--file",
                 link, check=False, timeout=SHORT)
    line = one_line_error(p)
    assert p.returncode == 2 and "symbolic link" in line, line
    assert node.snapshot() == before


def test_fifo_script_file_is_refused_without_hanging(node, scripts):
    restore, remove = scripts
    fifo = node.work / "fifo-restore"
    os.mkfifo(fifo)
    before = node.snapshot()
    try:
        for args in (["resource", "create", "gen", "--tag", "fresh", "--restore", fifo,
                      "--remove", remove],
                     ["resource", "update-script", "--tag", "idle", "--action", "restore",
                      "--file", fifo]):
            p = node.cli(*args, check=False, timeout=SHORT)
            line = one_line_error(p)
            assert p.returncode == 2 and str(fifo) in line and "FIFO" in line, line
        assert node.snapshot() == before
    finally:
        unblock_fifo(fifo)


# ------------------------------------------------------------------ the fence hook


def fence_dir(tmp_path):
    d = tmp_path / "fence"
    d.mkdir(mode=0o755)
    os.chmod(d, 0o755)
    return d


def write_hook(path, mode=0o755):
    path.write_text("#!/bin/sh\nexit 0\n")
    os.chmod(path, mode)
    return path


def conf_bytes(node):
    return (node.root / "etc" / "lk.conf").read_bytes()


@pytest.mark.parametrize("case", ["world-writable, owned by nobody", "owned by nobody",
                                  "world-writable", "missing", "a FIFO", "a symbolic link",
                                  "not executable", "in a world-writable directory"])
def test_insecure_fence_script_is_refused_when_set(node, tmp_path, case):
    node.start()
    d = fence_dir(tmp_path)
    hook = d / "fence.sh"
    why = {"world-writable, owned by nobody": "owned by uid",
           "owned by nobody": "owned by uid", "world-writable": "writable by group or others",
           "missing": "No such file", "a FIFO": "not a regular file",
           "a symbolic link": "symbolic link", "not executable": "not executable",
           "in a world-writable directory": "writable by group or others"}[case]
    if case == "world-writable, owned by nobody":
        write_hook(hook, 0o777)
        os.chown(hook, NOBODY, -1)
        os.chmod(hook, 0o777)
    elif case == "owned by nobody":
        write_hook(hook)
        os.chown(hook, NOBODY, -1)
    elif case == "world-writable":
        write_hook(hook, 0o777)
    elif case == "a FIFO":
        os.mkfifo(hook)
    elif case == "a symbolic link":
        hook.symlink_to(write_hook(d / "real.sh"))
    elif case == "not executable":
        write_hook(hook, 0o644)
    elif case == "in a world-writable directory":
        sub = d / "open"
        sub.mkdir()
        os.chmod(sub, 0o777)
        hook = write_hook(sub / "fence.sh")
    before = (node.cli_json("cluster", "config")["settings"], conf_bytes(node))
    p = node.cli("cluster", "config", "--fence-script", hook, check=False, timeout=SHORT)
    line = one_line_error(p)
    assert p.returncode == 2, (p.returncode, line)
    assert str(hook) in line or str(d) in line, line
    assert why in line, line
    assert (node.cli_json("cluster", "config")["settings"], conf_bytes(node)) == before


def test_secure_fence_script_is_accepted(node, tmp_path):
    """The check is not a blanket refusal: root's 0755 script in root's 0755 directory
    under the sticky /tmp is set."""
    node.start()
    hook = write_hook(fence_dir(tmp_path) / "fence.sh")
    node.cli("cluster", "config", "--fence-script", hook, timeout=SHORT)
    assert node.cli_json("cluster", "config")["settings"]["fence-script"] == str(hook)
    node.cli("cluster", "config", "--fence-script", "", timeout=SHORT)


def test_fence_script_unusable_here_is_said_at_start(node, tmp_path):
    """The settings are the cluster's, the hook is each node's file: a node whose hook
    became insecure says so when it starts (1521), and still starts."""
    node.start()
    hook = write_hook(fence_dir(tmp_path) / "fence.sh")
    node.cli("cluster", "config", "--fence-script", hook, timeout=SHORT)
    assert not events(node, 1521)
    node.stop()
    os.chmod(hook, 0o777)
    node.start()
    line = events(node, 1521)[0]["message"]
    assert str(hook) in line and "writable by group or others" in line, line


def test_fence_script_made_insecure_after_being_set_is_not_run(cluster, tmp_path):
    """Two nodes, quorum none: the fence script was fine when set, then became
    world-writable and another user's. node2 must fence node1 before taking over: it
    refuses to run the script (1520, retried), takes nothing over, and once the script is
    safe again runs it and takes over."""
    n1, n2 = cluster.build(2)
    script, fence_log, control = ch.fence_hook(tmp_path, status=0)
    cluster.configure([n1, n2], fence_script=str(script))
    app = cluster.app("app1")
    n1.create("app1", app.restore, app.remove, "--quickchk", app.quickchk)
    wait_for(lambda: app.runs_only_on(n1), what="app1 on node1")
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "2")
    wait_eq(lambda: n2.state("app1"), "OSU", what="app1 extended to node2")

    os.chown(script, NOBODY, -1)
    os.chmod(script, 0o777)
    n1.kill9_all()
    cluster.wait_dead([n2], n1)
    wait_for(lambda: len(n2.events(1520)) >= 2, timeout=45, what="1520 twice (retried)")
    line = n2.events(1520)[0]["message"]
    assert "node1" in line and str(script) in line and "owned by uid" in line, line
    assert not os.path.exists(fence_log), "the insecure fence script ran"
    assert not n2.has_event(1630), n2.log_text()
    holds(lambda: not app.nodes() and n2.state("app1") != "ISP", QUIET,
          what="no takeover while the fence script is refused")

    os.chown(script, 0, -1)
    os.chmod(script, 0o755)
    wait_for(lambda: app.runs_only_on(n2), timeout=45, what="node2 takes over once fenced")
    assert n2.has_event(1631), n2.log_text()
    assert open(fence_log).read().splitlines() == ["node1 node2"]
