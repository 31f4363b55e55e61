"""Bad input, each case: a one-line error, a non-zero exit (the code SPEC §6 gives where the
commands set one), and nothing changed (ins_list and the script copies as before)."""

import base64
import json
import os
import socket
import stat
import time

import pytest

from conftest import one_line_error, wait_for

OK_SCRIPT = "#!/bin/sh\nexit 0\n"


@pytest.fixture
def ok_scripts(node):
    return node.script(OK_SCRIPT, "ok-restore"), node.script(OK_SCRIPT, "ok-remove")


@pytest.fixture
def populated(node, ok_scripts):
    """A node with one resource in service and one out of service."""
    restore, remove = ok_scripts
    node.create("existing", restore, remove, "--id", "existing-id")
    node.create("idle", restore, remove, "--no-in-service")
    return node


def refused(node, p, code=None):
    """Asserts a refused command: one line on stderr, the code if given; returns the line."""
    line = one_line_error(p)
    if code is not None:
        assert p.returncode == code, (p.returncode, line)
    return line


# ------------------------------------------------------------------ tags, ids, info


@pytest.mark.parametrize("tag, why", [
    ("", "empty"),
    ("a" * 129, "too long"),
    ("a/b", "'/'"),
    ("..", "'.'"),
    ("a b", "' '"),
    ("a\x1fb", "control character"),
    ("-lead", "'-'"),
])
def test_bad_tag(populated, ok_scripts, tag, why):
    node = populated
    before = node.snapshot()
    p = node.create(tag, *ok_scripts, check=False)
    line = refused(node, p, 2)
    assert why in line
    assert node.snapshot() == before


def test_longest_tag_is_accepted(node, ok_scripts):
    tag = "t" * 128
    node.create(tag, *ok_scripts, "--no-in-service")
    assert node.ins_line(tag)[3] == tag


@pytest.mark.parametrize("opt, value", [
    ("--id", "bad/id"),
    ("--id", "a" * 129),
    ("--app-info", "has\x1fseparator"),
    ("--app-info", "new\nline"),
    ("--app-info", "x" * 1025),
])
def test_bad_id_or_info(populated, ok_scripts, opt, value):
    node = populated
    before = node.snapshot()
    p = node.create("fresh", *ok_scripts, opt, value, check=False)
    refused(node, p, 2)
    assert node.snapshot() == before


def test_duplicate_tag(populated):
    node = populated
    before = node.snapshot()
    other = node.script("#!/bin/sh\necho other\n")
    p = node.create("existing", other, other, check=False)
    line = refused(node, p, 1)
    assert "existing" in line and "already exists" in line
    assert node.snapshot() == before


def test_duplicate_id(populated, ok_scripts):
    node = populated
    before = node.snapshot()
    p = node.create("another", *ok_scripts, "--id", "existing-id", check=False)
    line = refused(node, p, 1)
    assert "existing-id" in line
    assert node.snapshot() == before
    assert node.resource("another") is None


# ------------------------------------------------------------------ script files


def _bad_scripts(node):
    d = node.work / "bad"
    d.mkdir()
    empty = d / "empty"
    empty.write_bytes(b"")
    empty.chmod(0o755)
    directory = d / "directory"
    directory.mkdir()
    plain = d / "plain"
    plain.write_text("echo hi\n")
    plain.chmod(0o755)
    big = d / "big"
    big.write_bytes(b"#!/bin/sh\n" + b"#" * (1024 * 1024) + b"\nexit 0\n")
    big.chmod(0o755)
    fifo = d / "fifo"
    os.mkfifo(fifo)
    return {
        "missing": (d / "does-not-exist", "no such file"),
        "empty": (empty, "empty"),
        "directory": (directory, "directory"),
        "not executable by the kernel": (plain, "#!"),
        "over 1 MiB": (big, "too large"),
        "not a regular file": (fifo, "regular file"),
    }


@pytest.mark.parametrize("which", ["missing", "empty", "directory",
                                   "not executable by the kernel", "over 1 MiB",
                                   "not a regular file"])
@pytest.mark.parametrize("action", ["restore", "quickchk"])
def test_bad_script_at_create(populated, ok_scripts, which, action):
    node = populated
    path, why = _bad_scripts(node)[which]
    before = node.snapshot()
    restore, remove = ok_scripts
    args = ["resource", "create", "gen", "--tag", "fresh", "--remove", remove]
    if action == "restore":
        args += ["--restore", path]
    else:
        args += ["--restore", restore, "--quickchk", path]
    p = node.cli(*args, check=False)
    line = refused(node, p, 2)
    assert why in line and str(path) in line
    assert node.snapshot() == before


@pytest.mark.parametrize("which", ["missing", "empty", "directory",
                                   "not executable by the kernel", "over 1 MiB"])
def test_bad_script_at_update(populated, which):
    node = populated
    path, why = _bad_scripts(node)[which]
    before = node.snapshot()
    p = node.cli("resource", "update-script", "--tag", "idle", "--action", "restore",
                 "--file", path, check=False)
    line = refused(node, p, 2)
    assert why in line
    assert node.snapshot() == before


def test_script_of_exactly_1_mib_is_accepted(node, ok_scripts):
    head = b"#!/bin/sh\necho big-ok\nexit 0\n"
    path = node.work / "exact"
    path.write_bytes(head + b"#" * (1024 * 1024 - len(head) - 1) + b"\n")
    assert path.stat().st_size == 1024 * 1024
    node.create("exact", path, ok_scripts[1])
    assert node.state("exact") == "ISP"
    assert node.script_copy("restore", "exact").read_bytes() == path.read_bytes()


def test_unknown_action_and_option(populated, ok_scripts):
    node = populated
    before = node.snapshot()
    cases = [
        ("resource", "update-script", "--tag", "idle", "--action", "start", "--file",
         ok_scripts[0]),
        ("resource", "test", "--tag", "idle", "--action", "start"),
        ("resource", "create", "gen", "--tag", "fresh", "--restore", ok_scripts[0],
         "--remove", ok_scripts[1], "--bogus"),
        ("resource", "restore", "--tag", "idle", "--bogus"),
        ("resource", "config", "--tag", "idle", "--bogus", "1"),
        ("resource", "create", "gen", "--tag", "fresh", "--restore", ok_scripts[0]),
        ("resource", "create", "nope", "--tag", "fresh", "--restore", ok_scripts[0],
         "--remove", ok_scripts[1]),
        ("resource", "frobnicate", "--tag", "idle"),
        ("frobnicate",),
        ("status", "--bogus"),
        ("log", "--bogus"),
        ("log", "-n", "lots"),
    ]
    for args in cases:
        p = node.cli(*args, check=False)
        refused(node, p, 2)
    for argv in ([node.bin("ins_list"), "--root", node.root, "--bogus"],
                 [node.bin("ins_list"), "--root", node.root, "-f", "ab"],
                 [node.bin("lk_err"), "--root", node.root, "--bogus"],
                 [node.bin("lk_err"), "--root", node.root, "-c", "ERROR", "-n", "x", "msg"],
                 [node.bin("lk_err"), "--root", node.root, "-c", "ERROR", "-n", "1"],
                 [node.bin("lkstop"), "--root", node.root, "--bogus"],
                 [node.bin("lkstart"), "--root", node.root, "--bogus"]):
        p = node.run(argv)
        refused(node, p, 2)
    p = node.lk_err("-c", "NOSUCH", "-n", "1", "msg")
    refused(node, p, 2)
    assert node.snapshot() == before
    assert node.daemon_running()


def test_unknown_tag(populated):
    node = populated
    before = node.snapshot()
    for verb in ("restore", "remove", "delete"):
        p = node.cli("resource", verb, "--tag", "ghost", check=False)
        assert "ghost" in refused(node, p, 1)
    p = node.ins_list_raw(tag="ghost", check=False)
    refused(node, p, 1)
    assert node.snapshot() == before


def test_delete_in_service_is_refused(populated):
    node = populated
    before = node.snapshot()
    p = node.cli("resource", "delete", "--tag", "existing", check=False)
    assert "in service" in refused(node, p, 1)
    assert node.snapshot() == before
    assert node.state("existing") == "ISP"


# ------------------------------------------------------------------ daemon not reachable


def test_commands_while_daemon_is_down(make_node):
    never = make_node("never")  # its root does not even exist
    stopped = make_node("stopped")
    stopped.start()
    stopped.stop()
    for n in (never, stopped):
        for argv in ([n.bin("lkcli"), "--root", n.root, "status"],
                     [n.bin("lkcli"), "--root", n.root, "resource", "list"],
                     [n.bin("lkcli"), "--root", n.root, "log"],
                     [n.bin("ins_list"), "--root", n.root],
                     [n.bin("lk_err"), "--root", n.root, "-c", "INFO", "-n", "1", "hello"],
                     [n.bin("lkstop"), "--root", n.root],
                     [n.bin("lkstop"), "--root", n.root, "-f"]):
            p = n.run(argv)
            line = refused(n, p, 3)
            assert "not running" in line or "not reachable" in line, line
    assert not never.root.exists()


# ------------------------------------------------------------------ roles


def test_caller_without_role_is_denied(node, lk_users, traversable):
    for args in (("status",), ("resource", "list"), ("log",)):
        p = node.cli(*args, check=False, user=lk_users["none"])
        assert "permission denied" in refused(node, p, 4)
    p = node.run([node.bin("ins_list"), "--root", node.root], user=lk_users["none"])
    refused(node, p, 4)


def test_guest_may_read_but_not_change(populated, lk_users, traversable):
    node = populated
    guest = lk_users["guest"]
    data = node.cli_json("status", user=guest)
    assert {r["tag"] for r in data["resources"]} == {"existing", "idle"}
    node.run([node.bin("ins_list"), "--root", node.root], check=True, user=guest)
    node.cli("log", user=guest)
    before = node.snapshot()
    for args in (("resource", "remove", "--tag", "existing"),
                 ("resource", "restore", "--tag", "idle"),
                 ("resource", "config", "--tag", "idle", "--quickchk-interval", "5")):
        p = node.cli(*args, check=False, user=guest)
        assert "permission denied" in refused(node, p, 4)
    p = node.run([node.bin("lkstop"), "--root", node.root], user=guest)
    refused(node, p, 4)
    assert node.snapshot() == before
    assert node.daemon_running()


def test_operator_may_restore_and_remove_but_not_create(node, lk_users, traversable):
    oper = lk_users["oper"]
    app = node.app("opapp")
    node.cli("resource", "create", "gen", *app.create_args())
    for path in (app.dir, app.restore, app.remove, app.quickchk):
        os.chmod(path, 0o755)
    node.cli("resource", "remove", "--tag", "opapp", user=oper)
    assert not app.running()
    node.cli("resource", "restore", "--tag", "opapp", user=oper)
    assert len(app.pids()) == 1
    before = node.snapshot()
    for args in (["resource", "create", "gen", "--tag", "op2"] + app.create_args()[2:],
                 ["resource", "delete", "--tag", "opapp"],
                 ["resource", "update-script", "--tag", "opapp", "--action", "restore",
                  "--file", app.restore],
                 ["resource", "test", "--tag", "opapp", "--action", "quickchk"]):
        p = node.cli(*args, check=False, user=oper)
        assert "permission denied" in refused(node, p, 4)
    assert node.snapshot() == before


def test_admin_user_may_create(node, lk_users, traversable):
    admin = lk_users["admin"]
    app = node.app("adm")
    for path in (app.dir, app.restore, app.remove, app.quickchk):
        os.chmod(path, 0o755)
    node.cli("resource", "create", "gen", *app.create_args(), user=admin)
    assert len(app.pids()) == 1
    # The copies belong to root whoever created them.
    assert node.script_copy("restore", "adm").stat().st_uid == 0


def test_unreadable_script(node, ok_scripts, lk_users, traversable):
    admin = lk_users["admin"]
    secret = node.script(OK_SCRIPT, "secret", mode=0o700)
    before = node.snapshot()
    p = node.cli("resource", "create", "gen", "--tag", "sec", "--restore", secret,
                 "--remove", ok_scripts[1], check=False, user=admin)
    assert "not readable" in refused(node, p, 2)
    assert node.snapshot() == before


# ------------------------------------------------------------------ misbehaving scripts


def test_script_printing_100_mb(node):
    app = node.app("loud", restore_extra=(
        "yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c 100000000\n"
        "echo\necho TAIL-MARK-loud\n"))
    node.cli("resource", "create", "gen", *app.create_args())
    assert node.state("loud") == "ISP"
    assert len(app.pids()) == 1
    assert node.status()["node"] == "n1"
    data = node.cli_json("resource", "test", "--tag", "loud", "--action", "restore")
    assert data["ok"] is True
    out = data["output"]
    assert 0 < len(out.encode()) <= 4096
    assert "TAIL-MARK-loud" in out
    assert len(app.pids()) == 1


def test_restore_whose_child_never_exits_finishes(node):
    m = node.marker()
    restore = node.script(f"""\
        #!/bin/sh
        echo "starting a child that keeps stdout"
        sleep {m} &
        exit 0
        """)
    p = node.create("child", restore, node.script(OK_SCRIPT), check=False)
    assert p.returncode == 0, p.stderr
    assert node.state("child") == "ISP"
    # The child may not have exec'd sleep yet when restore's exit is reported (a loaded
    # machine): wait for it, then it must stay.
    wait_for(lambda: len(_pids_of_sleep(m)) == 1, what="the child, left alone")
    time.sleep(0.5)
    assert len(_pids_of_sleep(m)) == 1, "the child is left alone"


def test_restore_that_closes_stdout_and_hangs_times_out(node):
    m = node.marker()
    restore = node.script(f"""\
        #!/bin/sh
        echo "about to hang"
        exec >/dev/null 2>&1 </dev/null
        sleep {m}
        """)
    p = node.create("hang", restore, node.script(OK_SCRIPT), "--action-timeout", "1",
                    check=False)
    line = refused(node, p, 1)
    assert "timed out" in line
    r = node.resource("hang")
    assert r["state"] == "OSF" and "timed out" in r["reason"]
    wait_for(lambda: not _pids_of_sleep(m), what="the hanging script's group to be killed")
    assert node.status()["node"] == "n1"


def _pids_of_sleep(marker):
    from lkapp import pids_with_argv
    return pids_with_argv(["sleep", marker])


# ------------------------------------------------------------------ insecure paths


def test_group_writable_script_copy_is_refused(node):
    flag = node.work / "ran"
    restore = node.script(f"#!/bin/sh\ntouch {flag}\n")
    node.create("gw", restore, node.script(OK_SCRIPT), "--no-in-service")
    copy = node.script_copy("restore", "gw")
    os.chmod(copy, 0o720)
    p = node.cli("resource", "restore", "--tag", "gw", check=False)
    line = refused(node, p, 1)
    assert "writable" in line
    r = node.resource("gw")
    assert r["state"] == "OSF" and "writable" in r["reason"]
    assert not flag.exists(), "the script must not have run"
    assert any(e["number"] == 1300 for e in node.log_events(tag="gw"))
    os.chmod(copy, 0o700)
    node.cli("resource", "restore", "--tag", "gw")
    assert flag.exists()


def test_world_writable_root_is_refused(node):
    flag = node.work / "ran"
    restore = node.script(f"#!/bin/sh\ntouch {flag}\n")
    node.create("ow", restore, node.script(OK_SCRIPT), "--no-in-service")
    mode = stat.S_IMODE(node.root.stat().st_mode)
    os.chmod(node.root, mode | 0o002)
    try:
        p = node.cli("resource", "restore", "--tag", "ow", check=False)
        line = refused(node, p, 1)
        assert "writable" in line
        r = node.resource("ow")
        assert r["state"] == "OSF" and "writable" in r["reason"]
        assert not flag.exists()
        # resource test refuses the same way.
        p = node.cli("resource", "test", "--tag", "ow", "--action", "restore", check=False)
        assert p.returncode == 1 and "writable" in p.stdout + p.stderr
        assert not flag.exists()
    finally:
        os.chmod(node.root, mode)


# ------------------------------------------------------------------ the database


def test_corrupt_database_is_refused_and_left_alone(node, ok_scripts):
    node.create("keep", *ok_scripts, "--no-in-service")
    node.stop()
    db = node.root / "db" / "lk.db"
    garbage = bytes((i * 7919 + 13) % 251 for i in range(16384))
    db.write_bytes(garbage)
    p = node.start(check=False)
    line = refused(node, p, None)
    assert p.returncode != 0
    assert "database" in line
    assert db.read_bytes() == garbage
    assert not node.daemon_running()


def test_database_that_is_a_directory_is_refused(node, ok_scripts):
    node.stop()
    db = node.root / "db" / "lk.db"
    for f in node.root.glob("db/lk.db*"):
        f.unlink()
    db.mkdir()
    p = node.start(check=False)
    line = refused(node, p, None)
    assert "database" in line
    assert db.is_dir() and list(db.iterdir()) == []
    assert not node.daemon_running()


def test_database_of_another_program_is_refused(node):
    import sqlite3
    node.stop()
    db = node.root / "db" / "lk.db"
    for f in node.root.glob("db/lk.db*"):
        f.unlink()
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE foreign_thing (x INTEGER)")
    con.execute("INSERT INTO foreign_thing VALUES (42)")
    con.commit()
    con.close()
    content = db.read_bytes()
    p = node.start(check=False)
    line = refused(node, p, None)
    assert "database" in line
    assert db.read_bytes() == content


# ------------------------------------------------------------------ the protocol


def _exchange(node, payload, read_timeout=20):
    """Sends payload on a fresh connection; returns the parsed reply lines (may be empty
    when the daemon just closes)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(read_timeout)
    s.connect(str(node.root / "run" / "lkd.sock"))
    try:
        try:
            s.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                break
            if not b:
                break
            chunks.append(b)
    finally:
        s.close()
    data = b"".join(chunks)
    return [json.loads(line) for line in data.splitlines() if line.strip()]


def _assert_error_or_closed(replies, code=2):
    if replies:
        assert len(replies) == 1, replies
        assert replies[0]["ok"] is False and replies[0]["code"] == code, replies
        assert replies[0]["error"]


@pytest.mark.parametrize("payload", [
    b"garbage\n",
    b"[1, 2, 3]\n",
    b"\"just a string\"\n",
    b"{\"v\": 99, \"cmd\": \"status\"}\n",
    b"{\"v\": \"1\", \"cmd\": \"status\"}\n",
    b"{\"cmd\": \"status\"}\n",
    b"{\"v\": 1}\n",
    b"{\"v\": 1, \"cmd\": \"no.such.command\"}\n",
    b"{\"v\": 1, \"cmd\": 7}\n",
    b"{\"v\": 1, \"cmd\": \"status\", \"args\": [1]}\n",
    b"{\"v\": 1, \"cmd\": \"status\", \"cmd\": \"ping\"}\n",
    b"{\"v\": 1, \"cmd\": \"status\"\x00}\n",
    b"{\"v\": 1, \"cmd\": \"resource.restore\", \"args\": {\"tag\": 5}}\n",
    b"{\"v\": 1, \"cmd\": \"resource.create\", \"args\": {\"tag\": \"x\", \"scripts\": 3}}\n",
    b"{\"v\": 1, \"cmd\": \"resource.config\", \"args\": {\"tag\": \"idle\", "
    b"\"settings\": {\"quickchk-interval\": 5}}}\n",
    b"{\"v\": 1, \"cmd\": \"log\", \"args\": {\"n\": -1}}\n",
    b"{\"v\": 1, \"cmd\": \"shutdown\", \"args\": {\"mode\": \"sideways\"}}\n",
    b"\xff\xfe\xfd\n",
])
def test_malformed_requests(populated, payload):
    node = populated
    before = node.snapshot()
    replies = _exchange(node, payload)
    if replies:
        assert replies[-1]["ok"] is False, replies
        assert replies[-1]["code"] in (1, 2), replies
    assert node.snapshot() == before
    assert node.status()["node"] == "n1"


def test_requests_the_daemon_must_validate_itself(populated):
    """What lkcli checks before sending, lkd checks again."""
    node = populated
    before = node.snapshot()

    def b64(data):
        return base64.b64encode(data).decode()

    ok = b64(b"#!/bin/sh\nexit 0\n")
    bad = {
        "plain": b64(b"echo hi\n"),
        "empty": "",
        "not base64": "!!!not base64!!!",
        "too big": b64(b"#!/bin/sh\n" + b"#" * (1024 * 1024 + 10)),
    }
    for what, content in bad.items():
        req = {"v": 1, "cmd": "resource.create",
               "args": {"type": "gen", "tag": "sneaky", "in_service": False,
                        "scripts": {"restore": content, "remove": ok}}}
        replies = _exchange(node, json.dumps(req).encode() + b"\n")
        _assert_error_or_closed(replies)
        assert replies, what
    for args in ({"type": "gen", "tag": "sneaky", "scripts": {"remove": ok}},
                 {"type": "gen", "tag": "sneaky", "scripts": {"restore": ok, "remove": ok,
                                                               "start": ok}},
                 {"type": "vip", "tag": "sneaky", "scripts": {"restore": ok, "remove": ok}},
                 {"type": "gen", "tag": "../../etc", "scripts": {"restore": ok, "remove": ok}}):
        req = {"v": 1, "cmd": "resource.create", "args": args}
        replies = _exchange(node, json.dumps(req).encode() + b"\n")
        _assert_error_or_closed(replies)
        assert replies
    req = {"v": 1, "cmd": "resource.update-script",
           "args": {"tag": "idle", "action": "restore", "content": bad["plain"]}}
    _assert_error_or_closed(_exchange(node, json.dumps(req).encode() + b"\n"))
    assert node.snapshot() == before
    assert node.resource("sneaky") is None


def test_oversized_and_truncated_requests(populated):
    node = populated
    before = node.snapshot()
    # 17 MB without a newline: refused (or the connection closed), the daemon lives on.
    replies = _exchange(node, b"{\"v\": 1, \"cmd\": \"status\", \"args\": {\"x\": \"" +
                        b"a" * (17 * 1024 * 1024) + b"\"}}\n", read_timeout=60)
    _assert_error_or_closed(replies)
    # Half a request, then the client goes away.
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(node.root / "run" / "lkd.sock"))
    s.sendall(b"{\"v\": 1, \"cmd\": \"sta")
    s.close()
    # A connection that says nothing at all.
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(node.root / "run" / "lkd.sock"))
    s.close()
    # Many at once, left open while a real command runs.
    idle = []
    for _ in range(50):
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(str(node.root / "run" / "lkd.sock"))
        idle.append(c)
    try:
        assert node.status()["node"] == "n1"
    finally:
        for c in idle:
            c.close()
    time.sleep(0.1)
    assert node.snapshot() == before
    assert node.status()["node"] == "n1"
