"""lkd's diagnostic level: `log-level` in lk.conf's [node] (err, warning, notice, info,
debug). At debug the decision log (each event the engine got and each act it planned) is
written to lkd's stderr, log/lkd.out; at the default level it is not; LKD_DEBUG in the
environment still turns it on; a bad level refuses the start with one line."""

from conftest import _clean_env, one_line_error, wait_for


def set_log_level(node, value):
    conf = node.root / "etc" / "lk.conf"
    lines = conf.read_text().splitlines(keepends=True)
    lines = [l for l in lines if not l.startswith("log-level")]
    i = next(i for i, l in enumerate(lines) if l.startswith("name ="))
    lines.insert(i + 1, f"log-level = {value}\n")
    conf.write_text("".join(lines))


def restore_one(node, tag):
    restore = node.script("#!/bin/sh\nexit 0\n")
    remove = node.script("#!/bin/sh\nexit 0\n")
    node.create(tag, restore, remove)
    assert node.state(tag) == "ISP"


def decision_lines(node):
    out = (node.root / "log" / "lkd.out").read_text(errors="replace")
    return [l for l in out.splitlines() if l.startswith("lkd: event ")]


def test_debug_level_writes_the_decision_log(make_node):
    n = make_node("n1")
    n.start()
    restore_one(n, "quiet")
    assert decision_lines(n) == [], "no decision log at the default level"
    n.stop()

    set_log_level(n, "debug")
    n.start()
    restore_one(n, "loud")
    wait_for(lambda: any("loud" in l for l in decision_lines(n)),
             what="the decision log of 'loud' in log/lkd.out")
    out = (n.root / "log" / "lkd.out").read_text(errors="replace").splitlines()
    # Each event line is followed by its acts, indented.
    i = next(i for i, l in enumerate(out) if l.startswith("lkd: event ") and "loud" in l)
    assert out[i + 1].startswith("lkd:   "), out[i:i + 3]
    # lk.conf rewrites keep the level.
    n.cli("cluster", "config", "--heartbeat-misses", "4")
    assert "log-level = debug\n" in (n.root / "etc" / "lk.conf").read_text()


def test_lkd_debug_environment_is_an_alias(make_node):
    n = make_node("n1")
    n.start()
    n.stop()
    env = _clean_env()
    env["LKD_DEBUG"] = "1"
    n.run([n.bin("lkstart"), "--root", n.root], check=True, env=env)
    restore_one(n, "viaenv")
    wait_for(lambda: any("viaenv" in l for l in decision_lines(n)),
             what="the decision log of 'viaenv' in log/lkd.out")


def test_bad_log_level_refuses_the_start(make_node):
    n = make_node("n1")
    n.start()
    n.stop()
    set_log_level(n, "verbose")
    p = n.run([n.bin("lkstart"), "--root", n.root])
    line = one_line_error(p)
    assert "invalid log-level 'verbose'" in line and "debug" in line, line
    assert ":3:" in line or "lk.conf" in line, line
    assert not n.daemon_running()
