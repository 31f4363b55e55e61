"""The containment settings of a resource (issue 10): `--watch cgroup|pidfile|none` and
`--kill-mode control-group|process|none`. Their defaults, set at create and by config,
shown by `resource config`, kept across an lkd restart, carried to a peer with the rest of
the definition; a bad value, or `watch pidfile` without a pidfile, is refused with one
line and changes nothing. What lkd does with them is tested with containment itself."""

import base64
import json
import socket

from conftest import one_line_error, wait_for

OK_SCRIPT = "#!/bin/sh\nexit 0\n"


def scripts(node):
    return node.script(OK_SCRIPT, "ok-restore"), node.script(OK_SCRIPT, "ok-remove")


def settings(node, tag):
    return node.resource(tag)["settings"]


def shown(node, tag):
    """{name: value} as `resource config --tag T` prints them (text)."""
    p = node.cli("resource", "config", "--tag", tag)
    lines = p.stdout.splitlines()
    assert lines[0] == f"resource '{tag}' settings:", p.stdout
    out = {}
    for line in lines[1:]:
        name, _, value = line.strip().partition(" ")
        out[name] = value.strip()
    return out


def before(node):
    """What a refused command must leave as it was."""
    defs = node.cli_json("resource", "list")
    return node.snapshot(), json.dumps(defs, sort_keys=True)


def request(node, cmd, args):
    """One request on lkd's socket, as a client that skips lkcli's own checks."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    try:
        s.connect(str(node.root / "run" / "lkd.sock"))
        s.sendall(json.dumps({"v": 1, "cmd": cmd, "args": args}).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    replies = [json.loads(line) for line in data.splitlines() if line.strip()]
    return [r for r in replies if "progress" not in r][-1]


def test_defaults_set_shown_and_kept_across_a_restart(node):
    restore, remove = scripts(node)
    node.create("plain", restore, remove, "--no-in-service")
    s = settings(node, "plain")
    assert (s["watch"], s["kill-mode"]) == ("cgroup", "control-group"), s
    text = shown(node, "plain")
    assert (text["watch"], text["kill-mode"]) == ("cgroup", "control-group"), text

    # At creation, with the pidfile that watch pidfile needs.
    pf = node.work / "app.pid"
    node.create("shared", restore, remove, "--no-in-service", "--pidfile", pf,
                "--watch", "pidfile", "--kill-mode", "process")
    s = settings(node, "shared")
    assert (s["watch"], s["kill-mode"], s["pidfile"]) == ("pidfile", "process", str(pf)), s

    # By config, each value once; the change is logged like any other setting.
    for watch, kill in (("none", "none"), ("pidfile", "control-group")):
        extra = ["--pidfile", pf] if watch == "pidfile" else []
        node.cli("resource", "config", "--tag", "plain", "--watch", watch, "--kill-mode", kill,
                 *extra)
        s = settings(node, "plain")
        assert (s["watch"], s["kill-mode"]) == (watch, kill), s
        text = shown(node, "plain")
        assert (text["watch"], text["kill-mode"]) == (watch, kill), text
    configured = [e["message"] for e in node.log_events(tag="plain") if e["number"] == 1102]
    assert any("watch=none" in m and "kill-mode=none" in m for m in configured), configured
    node.cli("resource", "config", "--tag", "plain", "--watch", "cgroup", "--kill-mode", "none")

    node.stop()
    node.start()
    s = settings(node, "plain")
    assert (s["watch"], s["kill-mode"]) == ("cgroup", "none"), s
    s = settings(node, "shared")
    assert (s["watch"], s["kill-mode"], s["pidfile"]) == ("pidfile", "process", str(pf)), s


def test_bad_values_are_refused_and_change_nothing(node):
    restore, remove = scripts(node)
    pf = node.work / "app.pid"
    node.create("idle", restore, remove, "--no-in-service")
    node.create("watched", restore, remove, "--no-in-service", "--pidfile", pf,
                "--watch", "pidfile")
    was = before(node)

    for args, why in (
            (("--watch", "inotify"), "invalid watch 'inotify': expected cgroup, pidfile or none"),
            (("--watch", "CGROUP"), "invalid watch 'CGROUP'"),
            (("--watch", ""), "invalid watch ''"),
            (("--kill-mode", "mixed"),
             "invalid kill-mode 'mixed': expected control-group, process or none"),
            (("--kill-mode", "control_group"), "invalid kill-mode 'control_group'")):
        p = node.cli("resource", "config", "--tag", "idle", *args, check=False)
        assert p.returncode == 2, (args, p.returncode, p.stderr)
        assert why in one_line_error(p), (args, p.stderr)
        p = node.cli("resource", "create", "gen", "--tag", "fresh", "--restore", restore,
                     "--remove", remove, "--no-in-service", *args, check=False)
        assert p.returncode == 2, (args, p.returncode, p.stderr)
        assert why in one_line_error(p), (args, p.stderr)

    # watch pidfile needs a pidfile: at create, by config, and when the pidfile goes.
    p = node.cli("resource", "create", "gen", "--tag", "fresh", "--restore", restore,
                 "--remove", remove, "--no-in-service", "--watch", "pidfile", check=False)
    assert p.returncode == 2, p
    assert "watch pidfile needs --pidfile" in one_line_error(p)
    p = node.cli("resource", "config", "--tag", "idle", "--watch", "pidfile", check=False)
    assert p.returncode != 0
    assert "watch pidfile needs --pidfile" in one_line_error(p)
    p = node.cli("resource", "config", "--tag", "watched", "--pidfile", "", check=False)
    assert p.returncode != 0
    assert "watch pidfile needs --pidfile" in one_line_error(p)

    # lkd checks it again for a client that does not.
    ok = base64.b64encode(OK_SCRIPT.encode()).decode()
    reply = request(node, "resource.create",
                    {"type": "gen", "tag": "sneaky", "in_service": False,
                     "scripts": {"restore": ok, "remove": ok},
                     "settings": {"watch": "pidfile"}})
    assert reply["ok"] is False and reply["code"] in (1, 2), reply
    assert reply["error"] == "watch pidfile needs --pidfile", reply
    reply = request(node, "resource.config",
                    {"tag": "idle", "settings": {"kill-mode": "process", "watch": "pidfile"}})
    assert reply["ok"] is False and "watch pidfile needs --pidfile" in reply["error"], reply

    assert before(node) == was
    assert node.resource("fresh") is None and node.resource("sneaky") is None
    # Both in one change, in either order, are accepted.
    node.cli("resource", "config", "--tag", "idle", "--watch", "pidfile", "--pidfile", pf)
    assert settings(node, "idle")["watch"] == "pidfile"
    node.cli("resource", "config", "--tag", "watched", "--watch", "cgroup", "--pidfile", "")
    s = settings(node, "watched")
    assert (s["watch"], s["pidfile"]) == ("cgroup", ""), s


def test_settings_travel_to_a_peer(cluster):
    n1, n2 = cluster.build(2)
    app = cluster.app("app1")
    n1.create("app1", app.restore, app.remove, "--no-in-service", "--kill-mode", "process")
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "2")
    wait_for(lambda: n2.resource("app1"), what="app1 on node2")
    s = n2.resource("app1")["settings"]
    assert (s["watch"], s["kill-mode"]) == ("cgroup", "process"), s

    n1.cli("resource", "config", "--tag", "app1", "--watch", "none", "--kill-mode", "none")
    wait_for(lambda: (n2.resource("app1")["settings"]["watch"],
                      n2.resource("app1")["settings"]["kill-mode"]) == ("none", "none"),
             what="node2 to receive watch none, kill-mode none")
    # And back from the peer.
    n2.cli("resource", "config", "--tag", "app1", "--watch", "cgroup")
    wait_for(lambda: n1.resource("app1")["settings"]["watch"] == "cgroup",
             what="node1 to receive watch cgroup")
    assert n1.resource("app1")["settings"]["kill-mode"] == "none"


def test_control_characters_in_a_choice_keep_the_error_on_one_line(node):
    restore, remove = scripts(node)
    node.create("idle", restore, remove, "--no-in-service")
    was = before(node)
    for key in ("watch", "kill-mode", "switchback", "init", "monitor"):
        p = node.cli("resource", "config", "--tag", "idle", f"--{key}", "cgroup\nnone",
                     check=False)
        assert p.returncode == 2, (key, p.returncode, p.stderr)
        line = one_line_error(p)
        assert f"invalid {key}: contains a control character; expected" in line, line
    assert before(node) == was
