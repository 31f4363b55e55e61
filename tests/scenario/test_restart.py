"""Stopping and starting the daemon: lkstop, lkstop -f, kill -9 at a bad moment, SIGTERM,
and one daemon per root."""

import os
import signal
import subprocess

from conftest import CMD_TIMEOUT, one_line_error, wait_for


def settled(node, tag, state):
    """The resource is in state with no action pending."""
    r = node.resource(tag)
    return r and r["state"] == state and r["pending"] in ("", "none")


def test_lkstop_force_leaves_app_running_and_start_skips_restore(node):
    app = node.app("web")
    node.cli("resource", "create", "gen", *app.create_args())
    pids = app.pids()
    assert len(pids) == 1 and app.restore_count() == 1

    p = node.stop(force=True)
    assert "applications left running" in p.stdout
    assert not node.daemon_running()
    assert app.pids() == pids, "lkstop -f must leave the application running"

    node.start()
    wait_for(lambda: settled(node, "web", "ISP"), what="web ISP after start")
    r = node.resource("web")
    assert "quickchk" in r["reason"] and "restore not needed" in r["reason"]
    assert app.restore_count() == 1, "restore must not run when the probe passes"
    assert app.pids() == pids
    assert any(e["number"] == 1210 for e in node.log_events(tag="web"))
    assert node.ins_line("web")[6] == "ISP"


def test_lkstop_removes_and_start_restores(node):
    app = node.app("db")
    node.cli("resource", "create", "gen", *app.create_args())
    assert len(app.pids()) == 1

    p = node.stop()
    assert "db: remove action has succeeded" in p.stdout
    assert not node.daemon_running()
    assert app.pids() == [], "lkstop must take the application out of service"
    assert app.remove_count() == 1
    log = (node.root / "log" / "lk.log").read_text()
    assert "remove action has succeeded" in log

    node.start()
    wait_for(lambda: settled(node, "db", "ISP"), what="db ISP after start")
    assert len(app.pids()) == 1
    assert app.restore_count() == 2
    assert node.resource("db")["reason"] == "restore action has succeeded"
    assert node.ins_line("db")[8] == "AUTORES_ISP"


def test_init_osu_is_not_restored_at_start(node):
    app = node.app("manual")
    auto = node.app("auto")
    node.cli("resource", "create", "gen", *app.create_args(), "--init", "INIT_OSU")
    node.cli("resource", "create", "gen", *auto.create_args())
    assert app.running() and auto.running()
    node.stop()
    assert not app.running() and not auto.running()

    node.start()
    wait_for(lambda: settled(node, "auto", "ISP"), what="auto ISP after start")
    r = node.resource("manual")
    assert r["state"] == "OSU" and r["pending"] in ("", "none")
    assert app.restore_count() == 1
    assert not app.running()
    assert len(auto.pids()) == 1
    # It can still be restored by hand.
    node.cli("resource", "restore", "--tag", "manual")
    assert len(app.pids()) == 1


def _kill9_during_restore(node, app):
    node.cli("resource", "create", "gen", *app.create_args(), "--no-in-service")
    argv = [node.bin("lkcli"), "--root", str(node.root), "resource", "restore", "--tag", app.tag]
    cli = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: app.restore_count() == 1, what="the restore script to start")
        node.kill9()
        out, err = cli.communicate(timeout=CMD_TIMEOUT)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    assert cli.returncode == 3, (out, err)
    assert not app.running(), "the restore is still sleeping"

    node.start()
    wait_for(lambda: settled(node, app.tag, "ISP"), what=f"{app.tag} ISP after restart")
    # Both restores (the orphan of the killed daemon and the new one) must have ended
    # before counting processes.
    wait_for(lambda: not node.script_runs("restore", app.tag), what="every restore to end")
    assert len(app.pids()) == 1, "the application must run exactly once"
    assert node.state(app.tag) == "ISP"
    assert node.ins_line(app.tag)[6] == "ISP"
    nums = [e["number"] for e in node.log_events(tag=app.tag)]
    assert 1003 in nums, "the interrupted restore must be reported"
    return nums


def test_kill9_during_restore_then_start_is_consistent(node):
    app = node.app("slow", restore_delay=5)
    nums = _kill9_during_restore(node, app)
    assert 1211 in nums or 1210 in nums, "the resource must be probed, not assumed"


def test_kill9_during_restore_without_check_script_restores_again(node):
    app = node.app("slownochk", restore_delay=5, quickchk=False)
    nums = _kill9_during_restore(node, app)
    assert 1212 in nums, "without a check script the start must say it cannot probe"
    assert app.restore_count() == 2


def test_second_lkstart_says_already_running(node):
    pid = node.daemon_pid()
    p = node.start()
    assert p.returncode == 0
    assert "already running" in p.stdout
    assert node.daemon_pid() == pid
    assert node.daemon_running()


def test_two_daemons_never_share_a_root(node):
    pid = node.daemon_pid()
    for argv in ([node.bin("lkd"), "--root", node.root], [node.bin("lkd"), "-f", "--root",
                                                          node.root]):
        p = node.run(argv)
        assert p.returncode == 1
        assert "already running" in one_line_error(p)
    assert node.daemon_pid() == pid
    assert node.daemon_running()
    assert node.status()["pid"] == pid


def test_sigterm_stops_daemon_like_lkstop_force(node):
    app = node.app("term")
    node.cli("resource", "create", "gen", *app.create_args())
    # The application's process may still be between fork and exec when restore returns.
    pids = wait_for(lambda: app.pids(), what="the application to run")
    pid = node.daemon_pid()
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not node.daemon_running(), what="lkd to exit on SIGTERM")
    assert app.pids() == pids
    assert not (node.root / "run" / "lkd.sock").exists()
    p = node.cli("status", check=False)
    assert p.returncode == 3
    node.start()
    wait_for(lambda: settled(node, "term", "ISP"), what="term ISP after start")
    assert app.restore_count() == 1 and app.pids() == pids


def test_command_killed_during_restore_does_not_stop_it(node):
    app = node.app("bg", restore_delay=1)
    node.cli("resource", "create", "gen", *app.create_args(), "--no-in-service")
    argv = [node.bin("lkcli"), "--root", str(node.root), "resource", "restore", "--tag", "bg"]
    cli = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: app.restore_count() == 1, what="the restore script to start")
    finally:
        cli.kill()
        cli.wait(timeout=CMD_TIMEOUT)
    wait_for(lambda: settled(node, "bg", "ISP"), what="bg ISP without its command")
    assert len(app.pids()) == 1
    assert node.daemon_running()


def test_lkstop_during_restore_waits_then_removes(node):
    app = node.app("late", restore_delay=1)
    node.cli("resource", "create", "gen", *app.create_args(), "--no-in-service")
    argv = [node.bin("lkcli"), "--root", str(node.root), "resource", "restore", "--tag", "late"]
    cli = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: app.restore_count() == 1, what="the restore script to start")
        p = node.stop()
        assert "late: remove action has succeeded" in p.stdout
        cli.communicate(timeout=CMD_TIMEOUT)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    assert not node.daemon_running()
    assert app.pids() == [], "lkstop must not leave the application running"
    assert app.remove_count() == 1
