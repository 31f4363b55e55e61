"""The LifeKeeper commands (src/cli/compat, docs/LIFEKEEPER.md "The LifeKeeper commands"):
each against its documented options and LCDI exit statuses, on real daemons: ins_list's
full option set with Ctrl-A and escaped fields, ins_setinfo, ins_setas, ins_setchkint,
ins_gettag, eqv_list and lcdstatus on two nodes with their priorities, dep_list,
sys_getstate seeing a peer die, lcduname, sendevent's events 1750-1752, and -d DEST:
this node's own name works, an unknown or dead node is 9, another node is forwarded (when
this lkd can forward; skipped with the reason otherwise)."""

import json
import os

import pytest

from cluster import wait_for
from conftest import _clean_env, one_line_error

SEP = "\x01"


def run(node, cmd, *args, env=None, check_status=None):
    p = node.run([node.bin(cmd), "--root", node.root, *args], env=env)
    if check_status is not None:
        assert p.returncode == check_status, (cmd, args, p.returncode, p.stdout, p.stderr)
        if check_status != 0:
            one_line_error(p)
    return p


def records(text, sep=SEP):
    return [line.split(sep) for line in text.splitlines()]


def unescape(field):
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) + 0 and field[i + 1:i + 4].isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


@pytest.fixture
def hierarchy(node):
    """web depends on ip and fs; fs depends on disk; other stands alone. All OSU."""
    for tag, extra in (("disk", ["--id", "sdb1"]), ("fs", ["--id", "mnt-data"]),
                       ("ip", ["--id", "10.0.0.5"]), ("web", ["--id", "httpd"]),
                       ("other", ["--id", "other-id"])):
        app = node.app(tag)
        node.cli("resource", "create", "gen", *app.create_args(), "--no-in-service", *extra)
    for parent, child in (("web", "ip"), ("web", "fs"), ("fs", "disk")):
        node.cli("dependency", "create", "--parent", parent, "--child", child)
    return node


# ------------------------------------------------------------------ ins_list


def test_ins_list_default_separator_is_ctrl_a_and_fields_are_escaped(hierarchy):
    node = hierarchy
    info = "path=C:\\data, mode=rw"
    run(node, "ins_setinfo", "-t", "other", "-v", info, check_status=0)
    p = run(node, "ins_list", "-t", "other", check_status=0)
    [rec] = records(p.stdout)
    assert len(rec) == 17 and rec[3] == "other" and rec[4] == "other-id"
    # Ctrl-A is not in the text: only the backslash is escaped.
    assert rec[5] == "path=C:\\134data, mode=rw" and unescape(rec[5]) == info
    # With -f , the comma is escaped too, and the line still has seventeen fields.
    p = run(node, "ins_list", "-f,", "-t", "other", check_status=0)
    [rec] = records(p.stdout, ",")
    assert len(rec) == 17 and rec[5] == "path=C:\\134data\\054 mode=rw"
    assert unescape(rec[5]) == info
    # Every line of the node has seventeen fields whatever the separator.
    for sep in (SEP, ",", ":", "|", " "):
        out = run(node, "ins_list", "-f", sep, check_status=0).stdout
        assert all(len(r) == 17 for r in records(out, sep)), (sep, out)
    # --json is unchanged: the raw text, no escapes.
    objs = json.loads(run(node, "ins_list", "--json", "-t", "other", check_status=0).stdout)
    assert objs[0]["info"] == info


def test_ins_list_filters_and_hierarchies(hierarchy):
    node = hierarchy
    tags = lambda *a: [r[3] for r in records(run(node, "ins_list", *a, check_status=0).stdout)]
    assert sorted(tags()) == ["disk", "fs", "ip", "other", "web"]
    # -R: the top first, then the resources below it, depth first.
    top = tags("-R", "web")
    assert top[0] == "web" and sorted(top) == ["disk", "fs", "ip", "web"]
    assert top.index("fs") < top.index("disk")
    assert tags("-R", "fs") == ["fs", "disk"]
    # Several roots separated by Ctrl-A; a resource two roots share is listed once.
    assert tags("-R", f"fs{SEP}other") == ["fs", "disk", "other"]
    assert tags("-R", f"web{SEP}fs").count("disk") == 1
    assert tags("-i", "mnt-data") == ["fs"]
    assert tags("-i", "nothing") == []
    assert sorted(tags("-a", "gen", "-r", "app")) == ["disk", "fs", "ip", "other", "web"]
    assert tags("-a", "ocf") == [] and tags("-r", "volume") == []
    assert tags("-R", "web", "-i", "10.0.0.5") == ["ip"]
    # An unknown tag or root: one line, status 1 (as ins_list always said).
    for args in (("-t", "ghost"), ("-R", "ghost"), ("-R", f"web{SEP}ghost")):
        p = run(node, "ins_list", *args, check_status=1)
        assert "ghost" in p.stderr and p.stdout == ""
    # Separators that escapes would make ambiguous, and bad options: syntax errors.
    for args in (("-f", "\\"), ("-f", "0"), ("-f", "7"), ("-f", "ab"), ("-f", ""), ("-x",),
                 ("-t",), ("extra",)):
        run(node, "ins_list", *args, check_status=2)
    # -d with this node's own name is this node.
    assert sorted(tags("-d", "n1")) == sorted(tags())


def test_ins_list_hierarchy_of_stacked_diamonds_is_walked_once(node):
    """-R over a hierarchy of diamonds (c0 depends on a1 and b1, both on c1, ...): every
    resource once, in time linear in the hierarchy; walking a shared child once per path
    took 2^N steps (--json, and any lkd that does not format the lines)."""
    node.start()
    restore = node.script("#!/bin/sh\nexit 0\n")
    remove = node.script("#!/bin/sh\nexit 0\n")
    n = 22
    tags = ["c0"] + [f"{x}{k}" for k in range(1, n + 1) for x in "abc"]
    for tag in tags:
        node.create(tag, restore, remove, "--no-in-service")
    for k in range(1, n + 1):
        for parent, child in ((f"c{k - 1}", f"a{k}"), (f"c{k - 1}", f"b{k}"),
                              (f"a{k}", f"c{k}"), (f"b{k}", f"c{k}")):
            node.cli("dependency", "create", "--parent", parent, "--child", child)
    for args in (("--json",), ()):
        p = node.run([node.bin("ins_list"), "--root", node.root, "-R", "c0", *args],
                     timeout=20)
        assert p.returncode == 0, p.stderr
        listed = ([r["tag"] for r in json.loads(p.stdout)] if args
                  else [r[3] for r in records(p.stdout)])
        assert listed[0] == "c0" and sorted(listed) == sorted(tags)
        assert listed.index("a1") < listed.index("c1") < listed.index("a2")


# ------------------------------------------------------------------ setters


def test_setters_change_the_definition(hierarchy):
    node = hierarchy
    line = lambda: records(run(node, "ins_list", "-t", "other", check_status=0).stdout)[0]
    run(node, "ins_setinfo", "-t", "other", "-v", "new info", check_status=0)
    assert line()[5] == "new info"
    assert node.resource("other")["info"] == "new info"
    run(node, "ins_setinfo", "-t", "other", check_status=0)
    assert line()[5] == ""
    run(node, "ins_setas", "-t", "other", "-s", "AUTOMATIC", check_status=0)
    assert line()[16] == "AUTOMATIC"
    run(node, "ins_setas", "-t", "other", "-s", "intelligent", check_status=0)
    assert line()[16] == "INTELLIGENT"
    # Minutes, as LifeKeeper's; "s" for seconds; 0 turns the check off.
    run(node, "ins_setchkint", "-t", "other", "-c", "q", "-v", "3", check_status=0)
    run(node, "ins_setchkint", "-t", "other", "-c", "d", "-v", "90s", check_status=0)
    assert line()[13:15] == ["180", "90"]
    run(node, "ins_setchkint", "-t", "other", "-c", "d", "-v", "0", check_status=0)
    assert line()[14] == "0"
    assert node.resource("other")["settings"]["quickchk-interval"] == "180"
    # LCDI statuses: syntax 2, illegal argument 5, no such object 7; nothing changed.
    before = line()
    for cmd, args, status in (
            ("ins_setinfo", ("-v", "x"), 2),
            ("ins_setinfo", ("-t", "ghost", "-v", "x"), 7),
            ("ins_setinfo", ("-t", "other", "-v", "two\nlines"), 5),
            ("ins_setinfo", ("-t", "other", "-v", "x", "-q"), 2),
            ("ins_setas", ("-t", "other"), 2),
            ("ins_setas", ("-t", "other", "-s", "SOMETIMES"), 5),
            ("ins_setas", ("-t", "ghost", "-s", "AUTOMATIC"), 7),
            ("ins_setchkint", ("-t", "other", "-c", "q"), 2),
            ("ins_setchkint", ("-t", "other", "-c", "x", "-v", "3"), 5),
            ("ins_setchkint", ("-t", "other", "-c", "q", "-v", "-3"), 5),
            ("ins_setchkint", ("-t", "other", "-c", "q", "-v", "1441"), 5),
            ("ins_setchkint", ("-t", "other", "-c", "q", "-v", "soon"), 5),
            ("ins_setchkint", ("-t", "ghost", "-c", "q", "-v", "3"), 7)):
        run(node, cmd, *args, check_status=status)
    assert line() == before


def test_ins_gettag_and_dep_list(hierarchy):
    node = hierarchy
    assert run(node, "ins_gettag", "-i", "mnt-data", check_status=0).stdout == "fs\n"
    run(node, "ins_gettag", "-i", "nowhere", check_status=7)
    run(node, "ins_gettag", check_status=2)
    deps = lambda *a: sorted(tuple(r) for r in records(
        run(node, "dep_list", *a, check_status=0).stdout))
    every = [("fs", "disk"), ("web", "fs"), ("web", "ip")]
    assert deps() == every
    assert deps("-c", "web") == [("web", "fs"), ("web", "ip")]
    assert deps("-p", "fs") == [("web", "fs")]
    assert deps("-C", "web") == every
    assert deps("-C", "fs") == [("fs", "disk")]
    assert deps("-P", "disk") == [("fs", "disk"), ("web", "fs")]
    assert deps("-c", "other") == []
    assert deps("-r", "app", "-a", "gen") == every and deps("-a", "ocf") == []
    out = run(node, "dep_list", "-f", ":", "-c", "fs", check_status=0).stdout
    assert out == "fs:disk\n"
    run(node, "dep_list", "-c", "ghost", check_status=7)
    run(node, "dep_list", "-c", "web", "-p", "fs", check_status=2)


# ------------------------------------------------------------------ sendevent, lcduname


def test_sendevent_writes_an_event_with_its_severity(hierarchy):
    node = hierarchy
    env = dict(_clean_env(), LK_TAG="web")
    run(node, "sendevent", "-C", "genclass", "-E", "diskfull", "-m", "mymon", "-n", "fs",
        "-s", "MAJOR", "-x", "no room, on /data", "-d", "ignored data", "-o", "-i", "7",
        env=env, check_status=0)
    run(node, "sendevent", "-C", "genclass", "-E", "recovered", "-m", "mymon", "-n", "fs",
        "-s", "info", check_status=0)
    run(node, "sendevent", "-C", "genclass", "-E", "odd", "-m", "mymon", "-n", "fs",
        check_status=0)
    events = {e["number"]: e for e in node.log_events(n=50) if 1750 <= e["number"] <= 1754}
    assert set(events) == {1750, 1751, 1752}, events
    e = events[1752]
    assert e["severity"] == "ERROR" and e["tag"] == "web" and e["process"] == "sendevent"
    for word in ("genclass", "diskfull", "mymon", "fs", "no room, on /data"):
        assert word in e["message"], e
    assert events[1750]["severity"] == "INFO" and events[1750]["tag"] == ""
    assert events[1751]["severity"] == "WARNING"  # the default
    before = len(node.log_events())
    for args, status in ((("-C", "c", "-E", "e", "-m", "m"), 2),
                         (("-C", "c", "-E", "e", "-m", "m", "-n", "n", "-s", "loud"), 5),
                         (("-C", "c", "-E", "e", "-m", "m", "-n", "n", "-Q"), 2)):
        run(node, "sendevent", *args, check_status=status)
    assert len(node.log_events()) == before


def test_sendevent_reaches_the_alert_hooks(hierarchy, tmp_path):
    """sendevent's event is an event like any other: an alert hook selecting it gets it,
    with its number, severity and words (LifeKeeper's event notification)."""
    node = hierarchy
    d = tmp_path / "hooks"
    d.mkdir(mode=0o755)
    os.chmod(d, 0o755)
    hook = d / "hook.sh"
    hook.write_text(f"#!/bin/sh\ncat >> {d}/got\necho >> {d}/got\n"
                    f"echo \"$LK_ALERT_NUMBER $LK_ALERT_SEVERITY\" >> {d}/env\n")
    hook.chmod(0o755)
    node.cli("cluster", "alert", "add", "--name", "lk", "--exec", hook, "--events", "1751")
    run(node, "sendevent", "-C", "genclass", "-E", "nfshang", "-m", "nasmon", "-n", "nas1",
        env=dict(_clean_env(), LK_TAG="web"), check_status=0)
    got = d / "got"
    wait_for(lambda: got.exists() and "nfshang" in got.read_text(), what="the hook got it")
    event = json.loads(got.read_text().strip().splitlines()[0])
    assert event["number"] == 1751 and event["tag"] == "web", event
    assert "nasmon" in event["message"] and "nas1" in event["message"], event
    assert (d / "env").read_text().split() == ["1751", "WARNING"]


def test_lcduname_and_an_unreachable_lkd(make_node):
    n = make_node("alpha")
    n.start()
    assert run(n, "lcduname", check_status=0).stdout == "alpha\n"
    assert run(n, "lcduname", "-d", "alpha", check_status=0).stdout == "alpha\n"
    run(n, "lcduname", "-d", "nosuch", check_status=9)
    n.stop()
    # lkd not running: LCDI 1 (a system call failed), one line.
    for cmd, args in (("lcduname", ()), ("ins_setinfo", ("-t", "x", "-v", "y")),
                      ("eqv_list", ()), ("sys_getstate", ()), ("lcdstatus", ("-q",)),
                      ("sendevent", ("-C", "c", "-E", "e", "-m", "m", "-n", "n"))):
        p = run(n, cmd, *args, check_status=1)
        assert "not running" in p.stderr, p.stderr


# ------------------------------------------------------------------ two nodes


def test_two_nodes_eqv_list_lcdstatus_sys_getstate(cluster):
    n1, n2 = cluster.build(2)
    app = cluster.app("db")
    n1.create("db", app.restore, app.remove, "--no-in-service")
    n1.cli("resource", "extend", "--tag", "db", "--node", "node2", "--priority", "10")
    wait_for(lambda: n2.resource("db") is not None, what="db on node2")

    recs = records(run(n1, "eqv_list", check_status=0).stdout)
    assert recs == [["node1", "db", "node2", "db", "SHARED", "1", "10"]]
    recs = records(run(n2, "eqv_list", "-f", ",", check_status=0).stdout, ",")
    assert recs == [["node2", "db", "node1", "db", "SHARED", "10", "1"]]
    recs = records(run(n1, "eqv_list", "-s", "node2", "-t", "db", check_status=0).stdout)
    assert recs == [["node2", "db", "node1", "db", "SHARED", "10", "1"]]
    run(n1, "eqv_list", "-t", "ghost", check_status=7)
    assert run(n1, "eqv_list", "-s", "nobody", check_status=0).stdout == ""

    # lcdstatus: the short display's priorities and backup, then the comm paths.
    out = run(n1, "lcdstatus", "-q", check_status=0).stdout
    row = next(line.split() for line in out.splitlines() if " db " in f" {line} ")
    assert row[0] == "node1" and row[1:5] == ["db", "db", "OSU", "1"] and row[5] == "node1"
    assert any(line.split()[:2] == ["node2", "TCP"] for line in out.splitlines()), out
    out = run(n1, "lcdstatus", "-e", check_status=0).stdout
    assert next(line for line in out.splitlines() if " db " in line).split()[0] == "node2"
    out = run(n2, "lcdstatus", "-e", check_status=0).stdout
    row = next(line.split() for line in out.splitlines() if " db " in line)
    assert row[0] == "------" and row[4] == "10" and row[5] == "node1"
    long = run(n1, "lcdstatus", check_status=0).stdout
    assert "db:" in long and "state=OSU" in long and "Communication Status" in long
    run(n1, "lcdstatus", "-r", "ghost", check_status=7)

    # sys_getstate: ALIVE both ways, then DEAD once node2's lkd is gone.
    assert run(n1, "sys_getstate", "-s", "node2", check_status=0).stdout == "ALIVE\n"
    assert run(n2, "sys_getstate", "-s", "node1", check_status=0).stdout == "ALIVE\n"
    assert run(n1, "sys_getstate", check_status=0).stdout == "ALIVE\n"
    run(n1, "sys_getstate", "-s", "node9", check_status=7)
    # -d: this node's own name is local; an unknown node is 9.
    assert run(n1, "lcduname", "-d", "node1", check_status=0).stdout == "node1\n"
    run(n1, "ins_list", "-d", "node9", check_status=9)
    run(n1, "ins_setinfo", "-d", "node9", "-t", "db", "-v", "x", check_status=9)
    n2.kill9_all()
    wait_for(lambda: run(n1, "sys_getstate", "-s", "node2").stdout == "DEAD\n", timeout=60,
             what="node1 to see node2 DEAD")
    # A dead node cannot be asked: 9, nothing changed.
    p = run(n1, "ins_setinfo", "-d", "node2", "-t", "db", "-v", "x", check_status=9)
    assert "node2" in p.stderr
    assert n1.resource("db")["info"] == ""


def test_two_nodes_forwarding_with_d(cluster):
    n1, n2 = cluster.build(2)
    app = cluster.app("fw")
    n1.create("fw", app.restore, app.remove, "--no-in-service")
    n1.cli("resource", "extend", "--tag", "fw", "--node", "node2", "--priority", "2")
    wait_for(lambda: n2.resource("fw") is not None, what="fw on node2")
    p = run(n1, "ins_list", "-d", "node2", "-t", "fw")
    if p.returncode == 9 and "forwarding to another node is not available" in p.stderr:
        pytest.skip("this lkd cannot forward a request to another node yet (-d DEST needs "
                    "the forwarding of the request envelope's \"node\")")
    assert p.returncode == 0, p.stderr
    # The record comes from node2: its name in the first field, its state.
    [rec] = records(p.stdout)
    assert rec[0] == "node2" and rec[3] == "fw" and rec[6] == "OSU"
    assert run(n1, "lcduname", "-d", "node2", check_status=0).stdout == "node2\n"
    recs = records(run(n1, "eqv_list", "-d", "node2", check_status=0).stdout)
    assert recs == [["node2", "fw", "node1", "fw", "SHARED", "2", "1"]]
    # A change sent to node2 changes the one definition, seen on both nodes.
    run(n1, "ins_setinfo", "-d", "node2", "-t", "fw", "-v", "from node1", check_status=0)
    for n in (n1, n2):
        wait_for(lambda n=n: n.resource("fw")["info"] == "from node1",
                 what=f"{n.name} to see the new info")
