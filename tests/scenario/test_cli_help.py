"""The commands' help, version and JSON (issue 12, item 5): every command answers
--version and --help; `lkcli <command> --help` names exactly the options the command
accepts (found by trying every option name on it), each with its default, and the
defaults it prints are the ones lkd gives a new resource and a new cluster; settings show
the values that apply; --json covers errors, ins_list, lkstart and lkstop; lkstart
without --listen never listens on every address.
"""

import json
import os
import re
import socket

import pytest

from conftest import BUILD, REPO, free_port, one_line_error

CLUSTER_SETTINGS = ("heartbeat-interval-ms", "heartbeat-misses", "quorum", "quorum-loss-action",
                    "witness", "fence-script", "max-failovers", "failover-window",
                    "min-protocol", "remote-exec")
COMMANDS = ("lkcli", "lkstart", "lkstop", "ins_list", "lk_err", "lkd", "lkguard", "lcduname",
            "lcdstatus", "ins_setinfo", "ins_gettag", "ins_setchkint", "ins_setas", "eqv_list",
            "dep_list", "sys_getstate", "sendevent", "lcdremexec", "lcdrcp")
RESOURCE_SETTINGS = ("quickchk-interval", "deepchk-interval", "quickchk-timeout",
                     "deepchk-timeout", "check-failures", "local-recovery", "max-recoveries",
                     "recovery-window", "switchback", "monitor-timeout-action", "action-timeout",
                     "start-grace", "pidfile", "monitor", "init", "watch", "kill-mode",
                     "quickchk-check", "deepchk-check", "script-args")


def version():
    m = re.search(r"project\('openkeeper'.*?version\s*:\s*'([^']+)'",
                  (REPO / "meson.build").read_text(), re.S)
    assert m
    return m.group(1)


def lkcli_commands(node):
    """The commands `lkcli --help` lists, as the words that name them up to the first
    option ("status", "resource create gen", "log", "web token create")."""
    p = node.run([node.bin("lkcli"), "--help"])
    assert p.returncode == 0 and p.stderr == ""
    paths = []
    for line in p.stdout.splitlines():
        if not line.startswith("  ") or line.startswith("   "):
            continue
        words = []
        for word in line.split():
            if not re.fullmatch(r"[a-z][a-z-]*", word):
                break
            words.append(word)
        if words:
            paths.append(" ".join(words))
    assert len(paths) >= 20, p.stdout
    return paths


def help_options(text):
    """{name: {"default": text or None, "required": bool}} from a command's help."""
    options = {}
    blocks = re.split(r"^(?=  --)", text.split("\nGlobal options:")[0], flags=re.M)
    for block in blocks[1:]:
        name = re.match(r"  --([a-z][a-z-]*)", block).group(1)
        d = re.search(r"^      default: (.*)$", block, re.M)
        options[name] = {"default": d.group(1) if d else None,
                         "required": bool(re.search(r"^      required$", block, re.M))}
        assert d or options[name]["required"], f"--{name} has no default:\n{block}"
    return options


def command_help(node, path):
    p = node.run([node.bin("lkcli")] + path.split() + ["--help"])
    assert p.returncode == 0, (path, p.stdout, p.stderr)
    assert p.stderr == "", (path, p.stderr)
    assert p.stdout.startswith(f"usage: lkcli {path}"), (path, p.stdout[:200])
    assert "--root DIR" in p.stdout and "--json" in p.stdout
    return p.stdout


# ------------------------------------------------------------------ --version, --help


def test_every_command_answers_version_and_help(make_node):
    n = make_node("n1")
    v = version()
    for cmd in COMMANDS:
        p = n.run([n.bin(cmd), "--version"])
        assert p.returncode == 0, (cmd, p.stderr)
        assert p.stdout == f"{cmd} (OpenKeeper) {v}\n", p.stdout
        assert p.stderr == ""
        p = n.run([n.bin(cmd), "--help"])
        assert p.returncode == 0, (cmd, p.stderr)
        assert p.stdout.startswith(f"usage: {cmd}"), (cmd, p.stdout)
        assert "--version" in p.stdout and p.stderr == ""
        # A usage error is still one line on stderr and exit status 2.
        p = n.run([n.bin(cmd), "--no-such-option"])
        assert p.returncode == 2, (cmd, p.returncode, p.stdout, p.stderr)
        assert p.stdout == ""
        assert p.stderr.strip(), cmd
    # A group of commands lists its verbs.
    p = n.run([n.bin("lkcli"), "resource", "--help"])
    assert p.returncode == 0 and "lkcli resource create" in p.stdout
    assert "lkcli resource why" in p.stdout


def test_every_lkcli_command_help_names_exactly_the_options_it_accepts(make_node, tmp_path):
    n = make_node("n1")
    paths = lkcli_commands(n)
    helps = {path: help_options(command_help(n, path)) for path in paths}
    universe = set(RESOURCE_SETTINGS) | {"bogus-option", "node", "tag", "json-x"}
    for opts in helps.values():
        universe |= set(opts)
    nowhere = tmp_path / "no-root"  # nothing listens there: parsing is all that runs
    for path in paths:
        accepted = set()
        for name in sorted(universe):
            p = n.run([n.bin("lkcli"), "--root", nowhere] + path.split() + [f"--{name}=1"])
            err = p.stderr
            assert p.returncode != 0, (path, name)
            if f"unknown option '--{name}'" in err or f"unexpected argument '--{name}" in err:
                continue
            accepted.add(name)
        assert accepted == set(helps[path]), (path, sorted(accepted), sorted(helps[path]))
    # The settings are options of create and config, with a default each.
    for path in ("resource create gen", "resource config"):
        for key in RESOURCE_SETTINGS:
            assert helps[path][key]["default"] is not None, (path, key)
    assert helps["log"]["lines"]["default"] == "20"


def setting_text(value):
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def test_help_defaults_are_the_ones_lkd_applies(node):
    create = help_options(command_help(node, "resource create gen"))
    config = help_options(command_help(node, "resource config"))
    app = node.app("plain")
    node.cli("resource", "create", "gen", *app.create_args(), "--no-in-service")
    [res] = node.cli_json("resource", "list", "--tag", "plain")
    assert set(res["settings"]) == set(RESOURCE_SETTINGS)
    for key, value in res["settings"].items():
        shown = create[key]["default"]
        assert config[key]["default"] == shown, key
        want = setting_text(value)
        if want == "":
            assert shown == "none", (key, shown)
        else:
            assert shown.split(" ")[0].lower() == want.lower(), (key, shown, value)
    # Left at their defaults, every setting is listed as such.
    assert sorted(res["defaults"]) == sorted(RESOURCE_SETTINGS)

    cluster = help_options(command_help(node, "cluster config"))
    data = node.cli_json("cluster", "config")
    # Every option is a setting; every setting of SPEC §5.1 and later ones is an option.
    assert set(cluster) <= set(data["settings"])
    assert set(CLUSTER_SETTINGS) <= set(cluster)
    for key in cluster:
        value = data["settings"][key]
        shown = cluster[key]["default"]
        if value == "":
            assert shown.startswith("auto") or shown == "none", (key, shown)
        else:
            assert shown.split(" ")[0] == value, (key, shown, value)
    assert sorted(data["defaults"]) == sorted(data["settings"])


# ------------------------------------------------------------------ effective values


def settings_lines(text):
    return {m.group(1): m.group(2) for m in re.finditer(r"^ *([a-z-]+) +(\S.*)$", text, re.M)}


def test_settings_show_the_values_that_apply(node):
    app = node.app("eff")
    node.cli("resource", "create", "gen", *app.create_args(), "--no-in-service")
    lines = settings_lines(node.cli("resource", "config", "--tag", "eff").stdout)
    assert lines["quickchk-timeout"] == "10 (the quickchk-interval)", lines
    assert lines["deepchk-timeout"] == "120 (twice the deepchk-interval)", lines
    assert lines["pidfile"] == "none", lines
    assert lines["action-timeout"] == "300", lines
    # Changed: the derived timeouts follow.
    node.cli("resource", "config", "--tag", "eff", "--quickchk-interval", "4",
             "--deepchk-interval", "7", "--action-timeout", "0")
    out = node.cli("resource", "list", "--tag", "eff").stdout
    lines = settings_lines(out)
    assert lines["quickchk-interval"] == "4", out
    assert lines["quickchk-timeout"] == "4 (the quickchk-interval)", out
    assert lines["deepchk-timeout"] == "14 (twice the deepchk-interval)", out
    assert lines["action-timeout"] == "0 (no limit)", out
    [res] = node.cli_json("resource", "list", "--tag", "eff")
    assert res["settings"]["quickchk-timeout"] == "0"  # what is set: derived
    assert res["effective"]["quickchk-timeout"] == "4"
    assert res["effective"]["deepchk-timeout"] == "14"
    assert "quickchk-interval" not in res["defaults"]
    assert "quickchk-timeout" in res["defaults"]
    # status carries the same.
    status = node.status()
    [r] = [r for r in status["resources"] if r["tag"] == "eff"]
    assert r["effective"] == res["effective"]

    # Cluster settings: a value on every line, never "(default)" or nothing.
    out = node.cli("cluster", "config").stdout
    lines = settings_lines(out)
    assert set(CLUSTER_SETTINGS) <= set(lines), out
    for key, shown in lines.items():
        assert not shown.startswith("("), (key, shown)
    # One node: quorum none, one failover, no witness, no fence script.
    assert lines["quorum"] == "none (auto, from the node count)", out
    assert lines["max-failovers"] == "1 (auto, from the node count)", out
    assert lines["witness"] == "none", out
    data = node.cli_json("cluster", "config")
    assert data["effective"]["quorum"] == "none" and data["settings"]["quorum"] == ""
    assert data["effective"]["max-failovers"] == "1"
    node.cli("cluster", "config", "--max-failovers", "2")
    data = node.cli_json("cluster", "config")
    assert data["effective"]["max-failovers"] == "2"
    assert "max-failovers" not in data["defaults"]
    assert settings_lines(node.cli("cluster", "config").stdout)["max-failovers"] == "2"


# ------------------------------------------------------------------ --json


def json_error(p, code):
    """The JSON error of a failed command: one object on stderr, nothing on stdout."""
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    assert p.stdout == ""
    line = one_line_error(p)
    err = json.loads(line)
    assert set(err) == {"error", "code"} and err["code"] == code, err
    assert err["error"] and "\n" not in err["error"]
    return err["error"]


def test_json_errors(node, tmp_path):
    p = node.cli("resource", "list", "--tag", "nope", json_out=True, check=False)
    assert "no resource with tag 'nope'" in json_error(p, 1)
    p = node.cli("resource", "create", "gen", "--tag", "x", json_out=True, check=False)
    assert "missing --restore" in json_error(p, 2)
    p = node.cli("log", "-n", "lots", json_out=True, check=False)
    assert "invalid -n 'lots'" in json_error(p, 2)
    p = node.cli("no-such-command", json_out=True, check=False)
    assert "unknown command" in json_error(p, 2)
    nowhere = tmp_path / "nowhere"
    p = node.run([node.bin("lkcli"), "--json", "--root", nowhere, "status"])
    assert "not running" in json_error(p, 3)
    p = node.run([node.bin("ins_list"), "--json", "--root", node.root, "-t", "nope"])
    assert "no resource with tag 'nope'" in json_error(p, 1)
    p = node.run([node.bin("lkstop"), "--json", "--root", nowhere])
    json_error(p, 3)
    p = node.run([node.bin("lkstart"), "--json", "--root", nowhere, "--listen", "nowhere:1"])
    assert "--listen" in json_error(p, 2)
    assert not nowhere.exists()
    # Without --json, the same error is the one line of text it always was.
    p = node.cli("resource", "list", "--tag", "nope", check=False)
    assert one_line_error(p) == "lkcli: no resource with tag 'nope'"


def test_ins_list_json_names_the_seventeen_fields(node):
    for tag in ("one", "two"):
        app = node.app(tag)
        node.cli("resource", "create", "gen", *app.create_args(), "--no-in-service",
                 "--app-info", f"info of {tag}")
    node.cli("resource", "config", "--tag", "two", "--switchback", "automatic")
    p = node.run([node.bin("ins_list"), "--json", "--root", node.root])
    assert p.returncode == 0, p.stderr
    objs = json.loads(p.stdout)
    names = ["node", "app", "type", "tag", "id", "info", "state", "reason", "init",
             "reserved10", "check_failures", "local_recoveries", "reserved13",
             "quickchk_interval", "deepchk_interval", "local_recovery", "switchback"]
    lines = node.ins_list(sep="|")
    assert len(objs) == len(lines) == 2
    for obj, fields in zip(objs, lines):
        assert list(obj) == sorted(names) or set(obj) == set(names)
        assert [obj[k] for k in names] == fields, (obj, fields)
    p = node.run([node.bin("ins_list"), "--json", "--root", node.root, "-t", "two"])
    [two] = json.loads(p.stdout)
    assert two["switchback"] == "AUTOMATIC" and two["info"] == "info of two"


def test_lkstart_and_lkstop_json(make_node):
    n = make_node("n1")
    port = free_port()
    argv = [n.bin("lkstart"), "--json", "--root", n.root, "--node", "n1", "--listen",
            f"127.0.0.1:{port}", "--no-guard"]
    p = n.run(argv)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["started"] is True and out["created"] is True
    assert out["already_running"] is False
    assert out["node"] == "n1" and out["pid"] == n.daemon_pid()
    assert out["listen"] == f"127.0.0.1:{port}" and out["listen_chosen"] is False
    assert out["guard"] == "off"
    p = n.run(argv)
    out = json.loads(p.stdout)
    assert out["already_running"] is True and out["started"] is False
    assert out["created"] is False
    pid = n.daemon_pid()
    p = n.run([n.bin("lkstop"), "--json", "--root", n.root])
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out == {"stopped": True, "mode": "stop", "pid": pid, "root": str(n.root),
                   "applications_left_running": False, "progress": out["progress"]}
    assert not n.daemon_running()


# ------------------------------------------------------------------ lkstart's listen


def port_free(port):
    for addr in ("127.0.0.1", "0.0.0.0"):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((addr, port))
            except OSError:
                return False
    return True


def listening(pid):
    """The local addresses pid listens on (TCP)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        f = line.split()
        if f[3] == "0A" and f[9] in inodes:
            ip, port = f[1].split(":")
            quad = ".".join(str(int(ip[i:i + 2], 16)) for i in (6, 4, 2, 0))
            found.append(f"{quad}:{int(port, 16)}")
    return found


def test_lkstart_without_listen_takes_localhost_for_a_single_node(make_node):
    if not port_free(7400):
        pytest.skip("port 7400, lkstart's default, is in use on this machine")
    n = make_node("n1")
    p = n.run([n.bin("lkstart"), "--root", n.root, "--node", "n1", "--no-guard"])
    assert p.returncode == 0, p.stderr
    said = [line for line in p.stdout.splitlines() if "--listen" in line]
    assert len(said) == 1 and "127.0.0.1:7400" in said[0] and "single node" in said[0], p.stdout
    conf = (n.root / "etc" / "lk.conf").read_text()
    assert "listen = 127.0.0.1:7400\n" in conf
    assert listening(n.daemon_pid()) == ["127.0.0.1:7400"]
    n.stop()


def test_lkstart_with_peers_and_no_listen_is_refused(make_node):
    n = make_node("n1")
    n.start()
    n.cli("commpath", "create", "--node", "n2", "--address", f"127.0.0.1:{free_port()}")
    n.stop()
    conf = n.root / "etc" / "lk.conf"
    text = conf.read_text()
    assert "[peer n2]" in text
    text = "".join(line for line in text.splitlines(True) if not line.startswith("listen"))
    conf.write_text(text)
    mode = conf.stat().st_mode
    p = n.run([n.bin("lkstart"), "--root", n.root, "--no-guard"])
    line = one_line_error(p)
    assert p.returncode == 2
    assert "--listen ADDR:PORT" in line and "peers" in line, line
    assert not n.daemon_running()
    assert conf.read_text() == text
    # Given one, lkstart writes it into lk.conf and lkd listens there.
    port = free_port()
    p = n.run([n.bin("lkstart"), "--root", n.root, "--no-guard", "--listen", f"127.0.0.1:{port}"])
    assert p.returncode == 0, p.stderr
    after = conf.read_text()
    assert conf.stat().st_mode == mode
    assert after.count("listen = ") == 1 and f"listen = 127.0.0.1:{port}\n" in after, after
    assert listening(n.daemon_pid()) == [f"127.0.0.1:{port}"]
