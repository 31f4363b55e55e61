"""The life of one gen/app resource on one node: create, restore, remove, delete, with a
real background process, real script copies and real events."""

import json
import os
import stat

from conftest import one_line_error

ACTIONS = ("restore", "remove", "quickchk", "deepchk", "recover")


def numbers(events, tag):
    return [e["number"] for e in events if e["tag"] == tag]


def test_full_lifecycle(node):
    app = node.app("app1")
    originals = {"restore": app.restore.read_bytes(), "remove": app.remove.read_bytes(),
                 "quickchk": app.quickchk.read_bytes()}

    p = node.cli("resource", "create", "gen", *app.create_args())
    assert "created and in service (ISP)" in p.stdout
    assert len(app.pids()) == 1, "restore must have started exactly one process"
    assert app.restore_count() == 1

    r = node.resource("app1")
    assert (r["state"], r["reason"]) == ("ISP", "restore action has succeeded")
    f = node.ins_line("app1")
    assert len(f) == 17
    assert f[:9] == ["n1", "gen", "app", "app1", "app1", "", "ISP",
                     "restore action has succeeded", "AUTORES_ISP"]
    assert f[9] == "" and f[12] == ""
    assert f[10:12] == ["0", "0"]
    assert f[15:] == ["1", "INTELLIGENT"]
    # The default separator is Ctrl-A, LifeKeeper's.
    raw = node.ins_list_raw(sep="\x01").stdout
    default = node.run([node.bin("ins_list"), "--root", node.root], check=True).stdout
    assert default == raw and len(default.rstrip("\n").split("\x01")) == 17

    # Script copies: mode 0700, same bytes; the originals are never read again.
    for action, content in originals.items():
        copy = node.script_copy(action, "app1")
        assert copy.read_bytes() == content
        assert stat.S_IMODE(copy.stat().st_mode) == 0o700
    for action in ("deepchk", "recover"):
        assert not node.script_copy(action, "app1").exists()
    for path in (app.restore, app.remove, app.quickchk):
        path.unlink()

    p = node.cli("resource", "remove", "--tag", "app1")
    assert "is out of service (OSU)" in p.stdout
    assert app.pids() == []
    r = node.resource("app1")
    assert (r["state"], r["reason"]) == ("OSU", "remove action has succeeded")
    assert node.ins_line("app1")[6] == "OSU"

    p = node.cli("resource", "restore", "--tag", "app1")
    assert "is in service (ISP)" in p.stdout
    assert len(app.pids()) == 1
    assert node.state("app1") == "ISP"
    assert app.restore_count() == 2

    # Deleting a resource in service is refused and changes nothing.
    before = node.snapshot()
    p = node.cli("resource", "delete", "--tag", "app1", check=False)
    assert p.returncode == 1
    assert "in service" in one_line_error(p)
    assert node.snapshot() == before
    assert len(app.pids()) == 1

    node.cli("resource", "remove", "--tag", "app1")
    assert app.pids() == []
    p = node.cli("resource", "delete", "--tag", "app1")
    assert "deleted" in p.stdout
    assert node.ins_list() == []
    assert node.resource("app1") is None
    for action in ACTIONS:
        assert not node.script_copy(action, "app1").exists()
    assert node.copies() == {}

    nums = numbers(node.log_events(), "app1")
    assert nums[0] == 1100
    for n in (1200, 1201, 1203, 1204, 1101):
        assert n in nums, (n, nums)
    assert nums.count(1201) == 2 and nums.count(1204) == 2
    assert nums[-1] == 1101


def test_no_in_service_does_not_run_restore(node):
    flag = node.work / "restored"
    restore = node.script(f"#!/bin/sh\ntouch {flag}\n")
    remove = node.script("#!/bin/sh\nexit 0\n")
    p = node.create("lazy", restore, remove, "--no-in-service")
    assert "created" in p.stdout
    r = node.resource("lazy")
    assert r["state"] == "OSU"
    assert not flag.exists()
    assert node.ins_line("lazy")[6] == "OSU"
    assert 1200 not in numbers(node.log_events(), "lazy")

    node.cli("resource", "restore", "--tag", "lazy")
    assert flag.exists()
    assert node.state("lazy") == "ISP"


def test_failing_restore(node):
    restore = node.script("""\
        #!/bin/sh
        echo "starting the thing"
        echo "cannot bind port 4242: diagnostic-7fd1" >&2
        exit 1
        """)
    remove = node.script("#!/bin/sh\nexit 0\n")
    p = node.create("bad", restore, remove, check=False)
    assert p.returncode == 1
    line = one_line_error(p)
    assert "restore action failed: exit status 1" in line

    r = node.resource("bad")
    assert r["state"] == "OSF"
    assert "restore action failed: exit status 1" in r["reason"]
    f = node.ins_line("bad")
    assert f[6] == "OSF" and "restore action failed: exit status 1" in f[7]

    failed = [e for e in node.log_events(tag="bad") if e["number"] == 1202]
    assert len(failed) == 1
    assert failed[0]["severity"] == "ERROR"
    assert "diagnostic-7fd1" in failed[0]["detail"]
    assert "starting the thing" in failed[0]["detail"]
    # The text log carries the tail too, indented under the event.
    log = (node.root / "log" / "lk.log").read_text()
    assert "diagnostic-7fd1" in log

    # A failed resource can be restored again once fixed, through restore.
    node.cli("resource", "update-script", "--tag", "bad", "--action", "restore", "--file",
             node.script("#!/bin/sh\nexit 0\n"))
    node.cli("resource", "restore", "--tag", "bad")
    assert node.state("bad") == "ISP"


def test_resource_test_shows_output_and_verdict(node):
    app = node.app("t1")
    node.cli("resource", "create", "gen", *app.create_args(), "--no-in-service")
    before = node.resource("t1")
    events_before = len(node.log_events())

    p = node.cli("resource", "test", "--tag", "t1", "--action", "quickchk", check=False)
    assert p.returncode == 1
    assert "t1 does not run" in p.stdout
    assert "FAILURE" in p.stdout and "exit status 1" in p.stdout
    assert node.resource("t1") == before
    assert len(node.log_events()) == events_before

    node.cli("resource", "restore", "--tag", "t1")
    before = node.resource("t1")
    events_before = len(node.log_events())
    p = node.cli("resource", "test", "--tag", "t1", "--action", "quickchk")
    assert p.returncode == 0
    assert "t1 runs (pid" in p.stdout
    assert "verdict: success" in p.stdout

    data = node.cli_json("resource", "test", "--tag", "t1", "--action", "quickchk")
    assert data["ok"] is True and "t1 runs" in data["output"]

    # Nothing changed: state, reason, the process, the event log.
    assert node.resource("t1") == before
    assert len(app.pids()) == 1
    assert len(node.log_events()) == events_before
    assert app.restore_count() == 1

    # An action without a script: a clear refusal.
    p = node.cli("resource", "test", "--tag", "t1", "--action", "deepchk", check=False)
    assert p.returncode == 1
    assert "deepchk" in one_line_error(p)


def test_update_script_replaces_the_copy(node):
    v1 = node.work / "v1"
    v2 = node.work / "v2"
    restore = node.script(f"#!/bin/sh\ntouch {v1}\n")
    remove = node.script("#!/bin/sh\nexit 0\n")
    node.create("up", restore, remove, "--no-in-service")
    new = node.script(f"#!/bin/sh\n# version 2\ntouch {v2}\n")
    p = node.cli("resource", "update-script", "--tag", "up", "--action", "restore", "--file", new)
    assert "replaced" in p.stdout
    copy = node.script_copy("restore", "up")
    assert copy.read_bytes() == new.read_bytes()
    assert stat.S_IMODE(copy.stat().st_mode) == 0o700
    new.unlink()
    node.cli("resource", "restore", "--tag", "up")
    assert v2.exists() and not v1.exists()
    assert 1103 in numbers(node.log_events(), "up")

    # A script for an action the resource did not have yet.
    chk = node.script("#!/bin/sh\necho deep-ok\n")
    node.cli("resource", "update-script", "--tag", "up", "--action", "deepchk", "--file", chk)
    assert node.script_copy("deepchk", "up").read_bytes() == chk.read_bytes()
    p = node.cli("resource", "test", "--tag", "up", "--action", "deepchk")
    assert "deep-ok" in p.stdout


def test_config_changes_settings(node):
    app = node.app("cfg")
    node.cli("resource", "create", "gen", *app.create_args(), "--no-in-service")
    f = node.ins_line("cfg")
    assert f[13:15] == ["10", "60"]
    p = node.cli("resource", "config", "--tag", "cfg", "--quickchk-interval", "0.5",
                 "--deepchk-interval", "120", "--local-recovery", "off",
                 "--switchback", "automatic", "--init", "INIT_OSU")
    assert "0.5" in p.stdout
    f = node.ins_line("cfg")
    assert f[13] == "0.5"
    assert f[14] == "120"
    assert f[15] == "0"
    assert f[16] == "AUTOMATIC"
    assert f[8] == "INIT_OSU"
    s = node.resource("cfg")["settings"]
    assert s["quickchk-interval"] == "0.5" and s["deepchk-interval"] == "120"
    configured = [e for e in node.log_events(tag="cfg") if e["number"] == 1102]
    assert configured and "quickchk-interval=0.5" in configured[-1]["message"]

    # Settings given at creation.
    app2 = node.app("cfg2")
    node.cli("resource", "create", "gen", *app2.create_args(), "--no-in-service",
             "--quickchk-interval", "2.25", "--id", "cfg2-id", "--app-info", "some info")
    f = node.ins_line("cfg2")
    assert f[4:6] == ["cfg2-id", "some info"]
    assert f[13] == "2.25"

    # A bad value is refused and changes nothing.
    before = node.snapshot()
    p = node.cli("resource", "config", "--tag", "cfg", "--quickchk-interval", "soon",
                 check=False)
    assert p.returncode == 2
    one_line_error(p)
    assert node.snapshot() == before


def test_lk_err_from_a_script(node):
    restore = node.script("""\
        #!/bin/sh
        lk_err -c ERROR -n 12345 -p myproc "hello from restore"
        """)
    remove = node.script("#!/bin/sh\nexit 0\n")
    node.create("talk", restore, remove)
    ev = [e for e in node.log_events() if e["number"] == 12345]
    assert len(ev) == 1
    e = ev[0]
    assert e["tag"] == "talk"
    assert e["message"] == "hello from restore"
    assert e["severity"] == "ERROR"
    assert e["process"] == "myproc"
    assert e["node"] == "n1"
    log = (node.root / "log" / "lk.log").read_text()
    assert "12345" in log and "hello from restore" in log


def test_environment_contract(node):
    out = node.work / "env-out"
    out.mkdir()
    restore = node.script(f"""\
        #!/bin/sh
        n=$(ls {out} | wc -l)
        d={out}/run$n
        mkdir $d
        env > $d/env
        echo "$#" > $d/argc
        pwd > $d/pwd
        cat > $d/stdin
        readlink /proc/$$/fd/0 > $d/fd0
        cut -d' ' -f6 /proc/$$/stat > $d/sid
        echo $$ > $d/pid
        """)
    remove = node.script("#!/bin/sh\nexit 0\n")
    node.create("envt", restore, remove, "--no-in-service", "--id", "env-id",
                "--app-info", "info with spaces")
    node.cli("resource", "test", "--tag", "envt", "--action", "restore")
    node.cli("resource", "restore", "--tag", "envt")
    root = os.path.realpath(node.root)
    envs = []
    for d in (out / "run0", out / "run1"):
        env = dict(line.split("=", 1) for line in (d / "env").read_text().splitlines())
        for sh_own in ("PWD", "SHLVL", "_", "OLDPWD"):
            env.pop(sh_own, None)
        assert set(env) == {"LKROOT", "LK_TAG", "LK_ID", "LK_APP_INFO", "LK_ACTION", "LK_NODE",
                            "PATH", "LANG", "LK_HELPERS", "PERL5LIB"}, env
        # Issue 14: the Perl API's and the gen/app libraries' directories.
        assert env["PERL5LIB"] == f"{root}/lib/perl:{root}/lkadm/subsys/gen/app/lib"
        # Issue 13: the directory of the resource's helper files (none here).
        assert env["LK_HELPERS"] == f"{root}/subsys/gen/resources/app/helpers/envt"
        assert env["LKROOT"] == root
        assert env["LK_TAG"] == "envt"
        assert env["LK_ID"] == "env-id"
        assert env["LK_APP_INFO"] == "info with spaces"
        assert env["LK_ACTION"] == "restore"
        assert env["LK_NODE"] == "n1"
        assert env["PATH"].startswith(f"{root}/bin:")
        assert "/usr/bin" in env["PATH"].split(":") and "/bin" in env["PATH"].split(":")
        assert env["LANG"] == "C"
        assert (d / "argc").read_text().strip() == "0"
        assert (d / "pwd").read_text().strip() == root
        assert (d / "stdin").read_bytes() == b""
        assert (d / "fd0").read_text().strip() == "/dev/null"
        # A new session: the script leads its own.
        assert (d / "sid").read_text().strip() == (d / "pid").read_text().strip()
        envs.append(env)
    # resource test gives exactly the environment the daemon gives.
    assert envs[0] == envs[1]


def test_json_results_of_commands(node):
    app = node.app("js")
    data = json.loads(node.cli("--json", "resource", "create", "gen",
                               *app.create_args()).stdout)
    assert data["tag"] == "js" and data["state"] == "ISP"
    data = node.cli_json("resource", "remove", "--tag", "js")
    assert data["state"] == "OSU"
    data = node.cli_json("resource", "restore", "--tag", "js")
    assert data["state"] == "ISP"
    node.cli("resource", "remove", "--tag", "js")
    data = node.cli_json("resource", "delete", "--tag", "js")
    assert data["tag"] == "js"
