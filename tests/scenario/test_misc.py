"""The event log (lkcli log, --follow, lk.log), lk_err, ins_list options and --json."""

import json
import os
import select
import subprocess
import time

from conftest import CMD_TIMEOUT, one_line_error, wait_for


def test_log_n_prints_that_many_lines(node):
    for i in range(5):
        node.lk_err("-c", "INFO", "-n", str(9100 + i), f"message number {i}", check=True)
    p = node.cli("log", "-n", "3")
    lines = p.stdout.splitlines()
    assert len(lines) == 3
    for i, line in zip((2, 3, 4), lines):
        assert f"message number {i}" in line and str(9100 + i) in line
        assert "INFO" in line and " n1 " in line
    assert node.cli("log", "-n", "0").stdout == ""
    events = node.log_events(n=3)
    assert [e["number"] for e in events] == [9102, 9103, 9104]


def _read_line(proc, timeout=20):
    """One line from proc's stdout, or fail after timeout."""
    deadline = time.monotonic() + timeout
    buf = b""
    fd = proc.stdout.fileno()
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        assert left > 0, f"no line from {proc.args} within {timeout} s (got {buf!r})"
        r, _, _ = select.select([fd], [], [], left)
        if r:
            chunk = os.read(fd, 4096)
            assert chunk, f"{proc.args} closed its output (got {buf!r})"
            buf += chunk
    return buf.partition(b"\n")[0].decode()


def _follow(node, *extra):
    argv = [node.bin("lkcli"), "--root", str(node.root)] + list(extra) + ["log", "--follow",
                                                                         "-n", "0"]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_log_follow_streams_new_events(node):
    proc = _follow(node)
    try:
        # The follower is registered once the daemon saw the request; repeat the event
        # until it arrives rather than guessing when that is.
        def poke_and_check():
            node.lk_err("-c", "WARNING", "-n", "4242", "follow-me", check=True)
            r, _, _ = select.select([proc.stdout.fileno()], [], [], 0.2)
            return bool(r)

        wait_for(poke_and_check, what="the follower to print")
        line = _read_line(proc)
        assert "follow-me" in line and "4242" in line and "WARNING" in line
        assert proc.poll() is None, "--follow must keep running"
    finally:
        proc.kill()
        proc.communicate(timeout=CMD_TIMEOUT)
    assert node.status()["node"] == "n1"


def test_log_follow_json(node):
    proc = _follow(node, "--json")
    try:
        def poke_and_check():
            node.lk_err("-c", "ERROR", "-n", "4343", "json-follow", check=True)
            r, _, _ = select.select([proc.stdout.fileno()], [], [], 0.2)
            return bool(r)

        wait_for(poke_and_check, what="the follower to print")
        event = json.loads(_read_line(proc))
        assert event["number"] == 4343 and event["message"] == "json-follow"
        assert event["severity"] == "ERROR" and event["node"] == "n1"
    finally:
        proc.kill()
        proc.communicate(timeout=CMD_TIMEOUT)


def test_lk_log_file_and_lk_err(node):
    node.lk_err("-c", "ERROR", "-n", "777", "-p", "myscript", "written", "as", "words",
                check=True)
    node.lk_err("-c", "FRS_WARN", "-n", "778", "seed category", check=True)
    restore = node.script("#!/bin/sh\nexit 0\n")
    node.create("logged", restore, restore)
    events = node.log_events()
    e777 = [e for e in events if e["number"] == 777][0]
    assert e777["message"] == "written as words" and e777["process"] == "myscript"
    assert e777["tag"] == ""
    assert [e for e in events if e["number"] == 778][0]["severity"] == "WARNING"
    log = (node.root / "log" / "lk.log").read_text().splitlines()
    assert any("777" in line and "written as words" in line and "ERROR" in line
               for line in log)
    assert any("logged" in line and "1100" in line for line in log)
    assert any("logged" in line and "1201" in line for line in log)
    assert any("1000" in line and "lkd started" in line for line in log)
    # Every event in the database is in the file, in order.
    numbers_in_file = [int(line.split()[4]) for line in log if not line.startswith("    |")]
    assert numbers_in_file == [e["number"] for e in events]


def test_lk_err_rejects_bad_input(node):
    before = len(node.log_events())
    for args in (["-c", "LOUD", "-n", "1", "m"], ["-n", "1", "m"], ["-c", "INFO", "m"],
                 ["-c", "INFO", "-n", "-5", "m"], ["-c", "INFO", "-n", "1"]):
        p = node.lk_err(*args)
        assert p.returncode == 2, (args, p.stderr)
        one_line_error(p)
    assert len(node.log_events()) == before


def test_ins_list_options(node):
    a = node.app("alpha")
    b = node.app("beta")
    node.cli("resource", "create", "gen", *a.create_args(), "--app-info", "x:y,z")
    node.cli("resource", "create", "gen", *b.create_args(), "--no-in-service")
    lines = node.ins_list(sep="|")
    assert [f[3] for f in lines] == ["alpha", "beta"]
    assert all(len(f) == 17 for f in lines)
    only = node.ins_list(sep="|", tag="beta")
    assert len(only) == 1 and only[0][3] == "beta" and only[0][6] == "OSU"
    # A separator that occurs in a field is escaped (\054), never a broken line.
    p = node.ins_list_raw(sep=",", check=True)
    lines = p.stdout.splitlines()
    assert all(len(line.split(",")) == 17 for line in lines), p.stdout
    assert lines[0].split(",")[5] == "x:y\\054z"


def test_json_outputs_parse(node):
    app = node.app("js")
    node.cli("resource", "create", "gen", *app.create_args())
    status = node.status()
    assert status["node"] == "n1" and status["resources"][0]["tag"] == "js"
    assert isinstance(status["events"], list)
    events = node.cli_json("log", "-n", "3")
    assert isinstance(events, list) and len(events) == 3
    assert all({"number", "severity", "message", "tag", "time_ms"} <= set(e) for e in events)
    resources = node.cli_json("resource", "list")
    assert [r["tag"] for r in resources] == ["js"]
    one = node.cli_json("resource", "list", "--tag", "js")
    assert one[0]["state"] == "ISP"
    config = node.cli_json("resource", "config", "--tag", "js", "--deepchk-interval", "30")
    assert config["settings"]["deepchk-interval"] == "30"
    test = node.cli_json("resource", "test", "--tag", "js", "--action", "quickchk")
    assert test["ok"] is True and test["outcome"] and "duration_ms" in test
    assert "js runs" in test["output"]
