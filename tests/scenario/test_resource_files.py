"""A resource's files besides its scripts (issue 13, items 2 and 5): helper files the scripts
share through $LK_HELPERS, on every node the resource is extended to; parameters stored per
resource and replicated, secret ones never shown (status, --json, resource list, ins_list,
events, logs: `name=***`); bad input refused with one line and nothing changed; delete
removes every file."""

import base64
import json
import stat

import pytest

from cluster import wait_for
from conftest import one_line_error, socket_reply

SECRET = "hunter2-s3cr3t-7f9a"  # a value no other output could contain by chance
OTHER_SECRET = "tr0ub4dor-8c1e-other"


def app_dir(node):
    return node.root / "subsys" / "gen" / "resources" / "app"


def helper_copy(node, tag, name):
    return app_dir(node) / "helpers" / tag / name


def params_file(node, tag):
    return app_dir(node) / "params" / tag


def write(path, text, mode=0o644):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def helper_scripts(work, journal):
    """restore and remove scripts that do their work through a function of lib.sh, a helper
    file, and the helper file's first version (it says which version wrote a line)."""
    lib = write(work / "lib" / "lib.sh", f"""\
# shared by the scripts of the resource
mark() {{ echo "$1 v1 $LK_NODE $LK_TAG" >> {journal}; }}
""")
    restore = write(work / "restore", """\
#!/bin/sh
. "$LK_HELPERS/lib.sh" || exit 1
mark restore
""", 0o755)
    remove = write(work / "remove", """\
#!/bin/sh
. "$LK_HELPERS/lib.sh" || exit 1
mark remove
""", 0o755)
    return lib, restore, remove


def journal_lines(journal):
    return journal.read_text().splitlines() if journal.exists() else []


def test_helpers_reach_the_scripts_on_every_node(cluster):
    n1, n2 = cluster.build(2)
    journal = cluster.work / "helpers.journal"
    lib, restore, remove = helper_scripts(cluster.work / "h1", journal)
    n1.cli("resource", "create", "gen", "--tag", "h1", "--restore", restore, "--remove",
           remove, "--helper", lib)
    # The restore found its helper through LK_HELPERS on this node.
    wait_for(lambda: "restore v1 node1 h1" in journal_lines(journal))
    copy = helper_copy(n1, "h1", "lib.sh")
    assert copy.read_bytes() == lib.read_bytes()
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert stat.S_IMODE(copy.parent.stat().st_mode) == 0o700
    assert n1.cli_json("resource", "list", "--tag", "h1")[0]["helpers"] == ["lib.sh"]

    # Extending copies the helper files to the new node.
    n1.cli("resource", "extend", "--tag", "h1", "--node", "node2", "--priority", "2")
    wait_for(lambda: helper_copy(n2, "h1", "lib.sh").exists())
    assert helper_copy(n2, "h1", "lib.sh").read_bytes() == lib.read_bytes()
    assert stat.S_IMODE(helper_copy(n2, "h1", "lib.sh").stat().st_mode) == 0o600

    # update-script --helper replaces it on every node; a second helper is added.
    v2 = write(cluster.work / "v2" / "lib.sh", lib.read_text().replace(" v1 ", " v2 "))
    extra = write(cluster.work / "v2" / "extra.sh", "EXTRA=1\n")
    p = n1.cli("resource", "update-script", "--tag", "h1", "--helper", v2, "--helper", extra)
    assert "helper file 'lib.sh' of 'h1' replaced" in p.stdout
    for n in (n1, n2):
        wait_for(lambda n=n: helper_copy(n, "h1", "lib.sh").exists() and
                 helper_copy(n, "h1", "lib.sh").read_bytes() == v2.read_bytes(),
                 what=f"the new lib.sh on {n.name}")
        wait_for(lambda n=n: helper_copy(n, "h1", "extra.sh").exists())
    assert n2.cli_json("resource", "list", "--tag", "h1")[0]["helpers"] == ["extra.sh", "lib.sh"]
    events = [e for e in n1.log_events(tag="h1") if e["number"] == 1571]
    assert events and "extra.sh" in events[-1]["message"] and "lib.sh" in events[-1]["message"]

    # The peer's scripts use the new version: a switchover runs them there.
    n1.cli("resource", "restore", "--tag", "h1", "--node", "node2")
    wait_for(lambda: "restore v2 node2 h1" in journal_lines(journal))
    assert "remove v2 node1 h1" in journal_lines(journal)

    # Delete removes the helper files on every node.
    n1.cli("resource", "remove", "--tag", "h1")
    wait_for(lambda: n1.state("h1") == "OSU" and n2.state("h1") == "OSU")
    n1.cli("resource", "delete", "--tag", "h1")
    for n in (n1, n2):
        wait_for(lambda n=n: n.resource("h1") is None)
        wait_for(lambda n=n: not (app_dir(n) / "helpers" / "h1").exists(),
                 what=f"helper files gone on {n.name}")


def every_output(node, tag):
    """Everything the node shows or writes about its resources, as text."""
    outs = []
    for args in (("status",), ("resource", "list"), ("resource", "list", "--tag", tag),
                 ("resource", "config", "--tag", tag), ("log", "-n", "1000"),
                 ("log", "-n", "1000", "--cluster"), ("resource", "why", "--tag", tag)):
        outs.append(node.cli(*args).stdout)
        outs.append(node.cli(*args, json_out=True).stdout)
    outs.append(node.ins_list_raw().stdout)
    outs.append(node.run([node.bin("ins_list"), "--root", node.root, "--json"]).stdout)
    # Every file of the node (logs, database, decision log, …) but the parameter file.
    keep = params_file(node, tag)
    for path in sorted(node.root.rglob("*")):
        if path.is_file() and path != keep and not path.is_socket():
            outs.append(path.read_bytes().decode(errors="replace"))
    return "\n".join(outs)


def test_parameters_are_replicated_and_secrets_never_shown(cluster):
    n1, n2 = cluster.build(2)
    # heartbeat:Dummy declares two parameters, state and fake: fake comes from a parameter
    # file, which makes it secret.
    pfile = write(cluster.work / "secret.params", f"# the agent's secret\nfake={SECRET}\n",
                  0o600)
    state = f"{cluster.work}/p1.state"
    n1.cli("resource", "create", "ocf", "--tag", "p1", "--agent", "ocf:heartbeat:Dummy",
           "--param", f"state={state}", "--param-file", pfile, "--no-in-service")
    shown = n1.cli_json("resource", "list", "--tag", "p1")[0]
    assert shown["app"] == "ocf" and shown["type"] == "heartbeat:Dummy"
    assert shown["params"] == {"state": state, "fake": "***"}
    line = n1.ins_line("p1")
    assert line[1:3] == ["ocf", "heartbeat:Dummy"], line
    # The stored file: 0600, the values in it, the mark.
    stored = json.loads(params_file(n1, "p1").read_text())
    assert stored == {"state": {"value": state}, "fake": {"value": SECRET, "secret": True}}
    assert stat.S_IMODE(params_file(n1, "p1").stat().st_mode) == 0o600

    n1.cli("resource", "extend", "--tag", "p1", "--node", "node2", "--priority", "2")
    wait_for(lambda: params_file(n2, "p1").exists())
    assert json.loads(params_file(n2, "p1").read_text()) == stored
    assert stat.S_IMODE(params_file(n2, "p1").stat().st_mode) == 0o600

    # config: a new value for the secret, another value made secret by --secret; on both
    # nodes.
    state2 = f"{cluster.work}/p1-{OTHER_SECRET}.state"
    p = n1.cli("resource", "config", "--tag", "p1", "--param", f"fake={OTHER_SECRET}",
               "--param", f"state={state2}", "--secret", "state")
    assert OTHER_SECRET not in p.stdout and "fake=***" in p.stdout and "state=***" in p.stdout
    want = {"state": {"value": state2, "secret": True},
            "fake": {"value": OTHER_SECRET, "secret": True}}
    for n in (n1, n2):
        wait_for(lambda n=n: json.loads(params_file(n, "p1").read_text()) == want,
                 what=f"the new parameters on {n.name}")
        assert n.cli_json("resource", "list", "--tag", "p1")[0]["params"] == {
            "state": "***", "fake": "***"}
    events = [e["message"] for e in n1.log_events(tag="p1") if e["number"] == 1570]
    assert len(events) == 2, events
    assert "fake=***" in events[0] and f"state={state}" in events[0], events
    assert "fake=***" in events[1] and "state=***" in events[1], events

    # Neither secret appears anywhere either node shows or writes.
    for n in (n1, n2):
        text = every_output(n, "p1")
        assert SECRET not in text, n.name
        assert OTHER_SECRET not in text, n.name
        assert base64.b64encode(SECRET.encode()).decode() not in text

    # Delete removes the parameter file on both nodes.
    n1.cli("resource", "delete", "--tag", "p1")
    for n in (n1, n2):
        wait_for(lambda n=n: not params_file(n, "p1").exists(),
                 what=f"the parameter file gone on {n.name}")


# ------------------------------------------------------------------ bad input


@pytest.fixture
def gen_node(node):
    journal = node.work / "journal"
    lib, restore, remove = helper_scripts(node.work / "g", journal)
    node.cli("resource", "create", "gen", "--tag", "g1", "--restore", restore, "--remove",
             remove, "--helper", lib, "--no-in-service")
    node.cli("resource", "create", "ocf", "--tag", "o1", "--agent", "heartbeat:Dummy",
             "--param", f"state={node.work}/o1.state", "--param", "fake=1", "--no-in-service")
    node.gen_scripts = (restore, remove)
    return node


def refused(node, before, *args):
    p = node.cli(*args, check=False)
    line = one_line_error(p)
    assert node.snapshot() == before, (args, line)
    return line


def test_bad_helpers_are_refused_and_change_nothing(gen_node):
    node = gen_node
    restore, remove = node.gen_scripts
    before = node.snapshot()
    d = node.work / "bad"
    hidden = write(d / ".hidden.sh", "x=1\n")
    spaced = write(d / "a b.sh", "x=1\n")
    long_name = write(d / ("x" * 65), "x=1\n")
    big = write(d / "big.sh", "#" * (1024 * 1024 + 1))
    empty = write(d / "empty.sh", "")
    twin_a = write(d / "a" / "same.sh", "a=1\n")
    twin_b = write(d / "b" / "same.sh", "b=1\n")
    half = [write(d / f"half{i}.sh", "#" * (600 * 1024)) for i in range(2)]
    link = d / "link.sh"
    link.symlink_to(twin_a)
    create = ("resource", "create", "gen", "--tag", "new", "--restore", restore, "--remove",
              remove, "--no-in-service")
    cases = {
        hidden: "must not start with '.'",
        spaced: "contains ' '",
        long_name: "too long",
        big: "too large",
        empty: "empty",
        d / "missing.sh": "no such file",
        link: "symbolic link",
    }
    for path, why in cases.items():
        assert why in refused(node, before, *create, "--helper", path), path
        assert why in refused(node, before, "resource", "update-script", "--tag", "g1",
                              "--helper", path), path
    assert "twice" in refused(node, before, *create, "--helper", twin_a, "--helper", twin_b)
    assert "together" in refused(node, before, *create, "--helper", half[0], "--helper",
                                 half[1])
    # The bound holds for what the resource ends with: one more next to lib.sh is fine...
    many = [write(d / "many" / f"h{i}.sh", "x=1\n") for i in range(33)]
    assert "more than 32" in refused(node, before, *create,
                                     *[a for h in many for a in ("--helper", h)])
    # ... and an ocf resource has no scripts to share helpers with.
    assert "gen" in refused(node, before, "resource", "create", "ocf", "--tag", "new",
                            "--agent", "heartbeat:Dummy", "--helper", twin_a)
    assert "gen" in refused(node, before, "resource", "update-script", "--tag", "o1",
                            "--helper", twin_a)
    # 31 more next to lib.sh make 32: accepted; one more is refused by lkd (33 in all).
    args = [a for h in many[:31] for a in ("--helper", h)]
    node.cli("resource", "update-script", "--tag", "g1", *args)
    before = node.snapshot()
    assert "too many helper files" in refused(node, before, "resource", "update-script",
                                              "--tag", "g1", "--helper", many[32])


def test_bad_parameters_are_refused_and_change_nothing(gen_node):
    node = gen_node
    restore, remove = node.gen_scripts
    before = node.snapshot()
    d = node.work / "bad"
    ocf = ("resource", "create", "ocf", "--tag", "new", "--agent", "heartbeat:Dummy",
           "--no-in-service")
    cases = [
        (("--param", "1x=3"), "must not start with a digit"),
        (("--param", "a-b=1"), "contains '-'"),
        (("--param", "novalue"), "NAME=VALUE"),
        (("--param", "a=1", "--param", "a=2"), "given twice"),
        (("--param", "a=1", "--secret", "b"), "--secret b"),
        (("--param", "v=" + "x" * 4097), "too long"),
        (("--param", "x" * 64 + "=1"), "too long"),
        (("--param-file", d / "missing.params"), "no such file"),
        (("--param-file", write(d / "bad.params", "ok=1\nnot a line\n", 0o600)), "line 2"),
        (("--param-file", write(d / "twice.params", "a=1\na=2\n", 0o600)), "line 2"),
    ]
    for extra, why in cases:
        assert why in refused(node, before, *ocf, *extra), extra
    # A gen resource takes app-info, not parameters; an ocf one takes no scripts.
    assert "parameters are for ocf" in refused(
        node, before, "resource", "create", "gen", "--tag", "new", "--restore", restore,
        "--remove", remove, "--param", "a=1")
    assert "gen" in refused(node, before, *ocf, "--restore", restore)
    assert "missing --agent" in refused(node, before, "resource", "create", "ocf", "--tag",
                                        "new")
    assert "parameters are for ocf" in refused(node, before, "resource", "config", "--tag",
                                               "g1", "--param", "a=1")
    assert "no parameter 'nope'" in refused(node, before, "resource", "config", "--tag", "o1",
                                            "--unset-param", "nope")
    assert "no such parameter" in refused(node, before, "resource", "config", "--tag", "o1",
                                          "--secret", "nope")
    # What works changes only what it names.
    node.cli("resource", "config", "--tag", "o1", "--unset-param", "fake")
    assert node.cli_json("resource", "list", "--tag", "o1")[0]["params"] == {
        "state": f"{node.work}/o1.state"}
    before = node.snapshot()
    too_many = [a for i in range(65) for a in ("--param", f"p{i}=1")]
    assert "more than 64" in refused(node, before, *ocf, *too_many)
    assert "type" in refused(node, before, "resource", "create", "ocf", "--tag", "new",
                             "--agent", "heartbeat:Dummy x")
    assert node.resource("new") is None


def _request(node, cmd, args):
    return socket_reply(node, cmd, args, timeout=60)


def test_the_daemon_checks_parameters_and_helpers_itself(gen_node):
    """What lkcli checks before sending, lkd checks again."""
    node = gen_node
    before = node.snapshot()

    def b64(data):
        return base64.b64encode(data).decode()

    ok = b64(b"#!/bin/sh\nexit 0\n")
    gen = {"app": "gen", "tag": "sneaky", "in_service": False,
           "scripts": {"restore": ok, "remove": ok}}
    ocf = {"app": "ocf", "type": "heartbeat:Dummy", "tag": "sneaky", "in_service": False}
    bad = [
        dict(gen, helpers={"../evil": b64(b"x")}),
        dict(gen, helpers={"a/b": b64(b"x")}),
        dict(gen, helpers={".x": b64(b"x")}),
        dict(gen, helpers={"ok.sh": "!!not base64!!"}),
        dict(gen, helpers={"ok.sh": ""}),
        dict(gen, helpers={"ok.sh": b64(b"#" * (1024 * 1024 + 1))}),
        dict(gen, helpers={f"h{i}": b64(b"x") for i in range(33)}),
        dict(gen, helpers=["lib.sh"]),
        dict(gen, params={"a": {"value": "1"}}),
        dict(ocf, params={"a-b": {"value": "1"}}),
        dict(ocf, params={"a": "1"}),
        dict(ocf, params={"a": {"value": 1}}),
        dict(ocf, params={"a": {"value": "1", "secret": "yes"}}),
        dict(ocf, params={"a": {"value": "x" * 4097}}),
        dict(ocf, params={"a": {"value": "a\u0000b"}}),
        dict(ocf, params={f"p{i}": {"value": "1"} for i in range(65)}),
        dict(ocf, scripts={"restore": ok}),
        dict(ocf, type="heartbeat:Dummy\nx"),
        dict(ocf, type="x" * 256),
        dict(ocf, type=""),
        dict(ocf, app="nfs"),
        dict(gen, type="Dummy"),
    ]
    for args in bad:
        msg = _request(node, "resource.create", args)
        assert msg.get("ok") is False, args
        assert "\n" not in msg["error"], msg
    for args in ({"tag": "g1", "helpers": {"../x": b64(b"x")}},
                 {"tag": "g1", "helpers": {}},
                 {"tag": "o1", "action": "restore", "content": ok}):
        msg = _request(node, "resource.update-script", args)
        assert msg.get("ok") is False, args
    for args in ({"tag": "o1", "params": {"a": {"value": "x" * 4097}}},
                 {"tag": "o1", "unset_params": "fake"},
                 {"tag": "o1", "secret_params": ["nope"]}):
        msg = _request(node, "resource.config", args)
        assert msg.get("ok") is False, args
    assert node.snapshot() == before
    assert node.resource("sneaky") is None
    # And the old form of a create (no app, "type": "gen") still works.
    msg = _request(node, "resource.create", {"type": "gen", "tag": "legacy",
                                             "in_service": False,
                                             "scripts": {"restore": ok, "remove": ok}})
    assert msg.get("ok") is True, msg
    assert node.ins_line("legacy")[1:3] == ["gen", "app"]
