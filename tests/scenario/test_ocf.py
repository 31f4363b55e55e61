"""The ocf type (docs/OCF.md) with Debian's resource-agents: describe-agent, the refusals at
create (validate-all, missing and unknown parameters, Pacemaker's tools, promotable
agents), Dummy and anything through create/monitor/kill/recover/remove, switchover and
failover between two nodes, IPaddr2 moving an address between two network namespaces,
ocf-tester against the supported agents, and the exit-code table end to end with the fake
agent of tests/helpers (one test per row).

The fake agent lives in a test OCF root (a copy of /usr/lib/ocf plus resource.d/lktest/fake)
that the daemons find through LK_OCF_ROOT in their environment."""

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

import cluster as ch
import lkapp
from cluster import wait_eq, wait_for
from netprogs import ANSWERING_LISTENER

REPO = Path(__file__).resolve().parents[2]
FAKE = REPO / "tests" / "helpers" / "fake_ocf_agent"
OCF_ROOT = Path("/usr/lib/ocf")
AGENTS = OCF_ROOT / "resource.d" / "heartbeat"
OCF_TESTER = shutil.which("ocf-tester") or "/usr/sbin/ocf-tester"

pytestmark = pytest.mark.skipif(not (AGENTS / "Dummy").exists(),
                                reason="resource-agents is not installed")


def error_of(p):
    """The one-line error of a failed lkcli --json run."""
    assert p.returncode != 0, p.stdout
    return json.loads(p.stderr)["error"]


def run_dir(monkeypatch, tmp_path, name):
    """Where the agents of node `name` keep their state and pid files (HA_RSCTMP and
    HA_VARRUN, passed on by lkd): each node its own, none in /run."""
    d = tmp_path / f"ocfrun-{name}"
    d.mkdir(exist_ok=True)
    monkeypatch.setenv("HA_RSCTMP", str(d))
    monkeypatch.setenv("HA_VARRUN", str(d))
    return d


def start_node(make_node, monkeypatch, tmp_path, name="n1"):
    n = make_node(name)
    n.ocf_run = run_dir(monkeypatch, tmp_path, name)
    n.start()
    return n


def build2(cluster, monkeypatch, tmp_path, netns=False):
    """Two started, meshed nodes, each with its own agents' run directory."""
    nodes = cluster.build(2, start=False, netns=netns)
    for n in nodes:
        n.ocf_run = run_dir(monkeypatch, tmp_path, n.name)
        n.start()
    cluster.mesh(nodes)
    cluster.configure(nodes, heartbeat_ms=ch.HB_MS, misses=ch.HB_MISSES)
    cluster.wait_all_alive(nodes)
    cluster.wait_all_synced(nodes)
    return nodes


@pytest.fixture
def fake_root(tmp_path, monkeypatch):
    """A test OCF root: a copy of /usr/lib/ocf plus resource.d/lktest/fake (the fake agent),
    given to the daemons started afterwards through LK_OCF_ROOT."""
    root = tmp_path / "ocf"
    shutil.copytree(OCF_ROOT, root, symlinks=True)
    prov = root / "resource.d" / "lktest"
    prov.mkdir(mode=0o755)
    shutil.copyfile(FAKE, prov / "fake")
    os.chmod(prov / "fake", 0o755)
    monkeypatch.setenv("LK_OCF_ROOT", str(root))
    return root


def create_ocf(n, tag, agent, *params, extra=(), check=True, json_out=False):
    args = ["resource", "create", "ocf", "--tag", tag, "--agent", agent]
    for p in params:
        args += ["--param", p]
    return n.cli(*args, *extra, check=check, json_out=json_out)


def events(n, tag, number=None):
    ev = n.log_events(tag=tag)
    return [e for e in ev if number is None or e["number"] == number]


def settings_of(n, tag):
    return n.cli_json("resource", "list", "--tag", tag)[0]["settings"]


def pids_with(marker):
    """Pids of live processes whose command line holds marker."""
    return [pid for pid, argv in lkapp.proc_cmdlines().items() if marker in " ".join(argv)]


def cgroup_of(pid):
    """The cgroup v2 path of a process ("" when gone): a resource's processes live in
    <node>-<id>/<tag>.res (anything starts its program through su, which drops LKROOT)."""
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            for line in f:
                if line.startswith("0::"):
                    return line[3:].strip()
    except OSError:
        pass
    return ""


def runs_on(pid, node, tag):
    parts = cgroup_of(pid).split("/")
    return len(parts) >= 2 and parts[-1] == f"{tag}.res" and parts[-2].startswith(
        f"{node.name}-")


# ---------------------------------------------------------------------- describe-agent


def test_describe_agent_ipaddr2(node):
    data = node.cli_json("resource", "describe-agent", "heartbeat:IPaddr2")
    assert data["agent"] == "heartbeat:IPaddr2"
    params = {p["name"]: p for p in data["parameters"]}
    assert params["ip"]["required"] and params["ip"]["unique"]
    assert not params["cidr_netmask"]["required"]
    assert not params["ip"]["secret"]
    assert data["advised"]["action-timeout"] == "20"
    assert data["advised"]["quickchk-interval"] == "10"
    assert not data["promotable"]
    # The text form names the same things; "ocf:" and a plain name mean heartbeat.
    out = node.cli("resource", "describe-agent", "ocf:heartbeat:IPaddr2").stdout
    assert out.startswith("heartbeat:IPaddr2 (version "), out
    assert "  ip " in out and "required unique" in out, out
    assert "quickchk-interval  10 s" in out, out
    assert node.cli_json("resource", "describe-agent", "Dummy")["agent"] == "heartbeat:Dummy"


def test_describe_agent_reads_every_installed_agent(node):
    """Every agent of resource-agents is described from its own meta-data, or refused for
    the Pacemaker tools it calls: no meta-data the parser cannot read."""
    described, refused = [], []
    for agent in sorted(p.name for p in AGENTS.iterdir() if not p.name.startswith(".")
                        and p.is_file()):
        p = node.cli("resource", "describe-agent", f"heartbeat:{agent}", json_out=True,
                     check=False)
        if p.returncode == 0:
            data = json.loads(p.stdout)
            assert data["agent"] == f"heartbeat:{agent}"
            assert all(x["name"] for x in data["parameters"]), agent
            assert {"start", "stop"} <= {a["name"] for a in data["actions"]}, agent
            described.append(agent)
        else:
            assert "needs Pacemaker's tools (" in error_of(p), (agent, p.stderr)
            refused.append(agent)
    assert {"Dummy", "anything", "IPaddr2", "Filesystem", "apache"} <= set(described)
    assert {"mysql", "Stateful", "pgsql"} <= set(refused)


def test_describe_agent_refusals(node):
    p = node.cli("resource", "describe-agent", "heartbeat:NoSuchAgent", json_out=True,
                 check=False)
    assert error_of(p) == ("OCF agent heartbeat:NoSuchAgent is not installed on this node "
                           "(no /usr/lib/ocf/resource.d/heartbeat/NoSuchAgent)")
    p = node.cli("resource", "describe-agent", "heartbeat:../../x", json_out=True, check=False)
    assert p.returncode == 2 and "invalid OCF agent" in error_of(p)
    p = node.cli("resource", "describe-agent", "heartbeat:mysql", json_out=True, check=False)
    assert "needs Pacemaker's tools (" in error_of(p)
    p = node.cli("resource", "describe-agent", json_out=True, check=False)
    assert p.returncode == 2


# ---------------------------------------------------------------------- refusals


def test_create_refusals_change_nothing(make_node, monkeypatch, tmp_path):
    n = start_node(make_node, monkeypatch, tmp_path)
    before = n.snapshot()
    cases = [
        (["heartbeat:IPaddr2"], "heartbeat:IPaddr2 needs parameter 'ip' (--param ip=...)"),
        (["heartbeat:IPaddr2", "ip=192.0.2.77", "cidr_netmask=24", "nic=nonexistent0"],
         "heartbeat:IPaddr2 refused by its validate-all (exit 6, OCF_ERR_CONFIGURED): "),
        (["heartbeat:Dummy", "sate=/tmp/x"],
         "heartbeat:Dummy has no parameter 'sate' (lkcli resource describe-agent "
         "heartbeat:Dummy)"),
        (["heartbeat:Dummy", "OCF_CHECK_LEVEL=deep"], "OCF_CHECK_LEVEL must be a number"),
        (["heartbeat:mysql"], "heartbeat:mysql needs Pacemaker's tools ("),
        (["heartbeat:Stateful"], "needs Pacemaker's tools"),
        (["heartbeat:NoSuchAgent"], "OCF agent heartbeat:NoSuchAgent is not installed on this "
                                    "node"),
    ]
    for args, want in cases:
        p = create_ocf(n, "r1", *args, check=False, json_out=True)
        assert want in error_of(p), (args, p.stderr)
        assert n.resource("r1") is None
        assert n.snapshot() == before, args
    # validate-all's own reason, not a generic one.
    p = create_ocf(n, "r1", "heartbeat:IPaddr2", "ip=192.0.2.77", "cidr_netmask=24",
                   "nic=nonexistent0", check=False, json_out=True)
    assert len(error_of(p).split("OCF_ERR_CONFIGURED): ", 1)[1]) > 0
    refusals = events(n, "r1", 1541)
    assert len(refusals) == len(cases) + 1, refusals
    assert "heartbeat:mysql" in refusals[4]["message"]


def test_dummy_create_monitor_recover_remove(make_node, monkeypatch, tmp_path):
    n = start_node(make_node, monkeypatch, tmp_path)
    # No state parameter: Dummy's default, ${HA_RSCTMP}/Dummy-d1.state, in this node's dir.
    state = n.ocf_run / "Dummy-d1.state"
    p = create_ocf(n, "d1", "ocf:heartbeat:Dummy", extra=["--quickchk-interval", "1"])
    assert "created and in service" in p.stdout, p.stdout
    assert n.state("d1") == "ISP" and state.exists()
    line = n.ins_line("d1")
    assert line[1:3] == ["ocf", "heartbeat:Dummy"], line
    s = settings_of(n, "d1")
    # The agent's advice where the user gave nothing; the user's value where given.
    assert (s["action-timeout"], s["quickchk-timeout"], s["quickchk-interval"]) == (
        "20", "20", "1"), s
    assert [e["number"] for e in events(n, "d1")][:2] == [1540, 1100]

    # The "application" dies: the next monitor says 7 (not running), recover brings it back.
    state.unlink()
    wait_for(lambda: events(n, "d1", 1502), what="d1 recovered")
    assert state.exists()
    assert n.state("d1") == "ISP"
    assert events(n, "d1", 1500), "no failed check event"

    n.cli("resource", "remove", "--tag", "d1")
    assert n.state("d1") == "OSU" and not state.exists()
    # resource test runs the agent as lkd would: monitor says 7, with its reason.
    p = n.cli("resource", "test", "--tag", "d1", "--action", "quickchk", json_out=True,
              check=False)
    assert p.returncode == 1
    t = json.loads(p.stdout)
    assert (t["exit_status"], t["verdict"]) == (7, "not-running"), t
    assert t["description"] == "exit status 7: No process state file found", t
    n.cli("resource", "restore", "--tag", "d1")
    assert n.state("d1") == "ISP" and state.exists()
    n.cli("resource", "remove", "--tag", "d1")
    n.cli("resource", "delete", "--tag", "d1")
    assert n.resource("d1") is None and not state.exists()


def test_anything_kill_recover_remove(make_node, monkeypatch, tmp_path):
    n = start_node(make_node, monkeypatch, tmp_path)
    marker = str(700000000 + os.getpid() % 100000000)
    create_ocf(n, "a1", "heartbeat:anything", "binfile=/bin/sleep",
               f"cmdline_options={marker}", extra=["--quickchk-interval", "1"])
    assert n.state("a1") == "ISP"
    [pid] = wait_for(lambda: pids_with(f"sleep {marker}"), what="the application")
    assert runs_on(pid, n, "a1"), cgroup_of(pid)
    os.kill(pid, signal.SIGKILL)
    # Noticed (its cgroup emptied, or the monitor), recovered in place: a new process.
    wait_for(lambda: events(n, "a1", 1502), what="a1 recovered")
    [pid2] = wait_for(lambda: pids_with(f"sleep {marker}"), what="the new application")
    assert pid2 != pid
    assert n.state("a1") == "ISP"
    n.cli("resource", "remove", "--tag", "a1")
    wait_for(lambda: not pids_with(f"sleep {marker}"), what="the application stopped")
    assert n.state("a1") == "OSU"


def test_parameters_secret_by_name_never_shown(make_node, monkeypatch, tmp_path, fake_root):
    n = start_node(make_node, monkeypatch, tmp_path)
    ctl = tmp_path / "ctl"
    ctl.mkdir()
    secret = f"hunter{os.getpid()}xyz"
    create_ocf(n, "f1", "lktest:fake", f"dir={ctl}", f"password={secret}",
               extra=["--no-in-service"])
    shown = n.cli_json("resource", "list", "--tag", "f1")[0]
    assert shown["params"] == {"dir": str(ctl), "password": "***"}, shown
    n.cli("resource", "restore", "--tag", "f1")
    # The agent got it; nothing shows it.
    texts = [n.cli("status").stdout, n.cli("status", json_out=True).stdout,
             n.cli("resource", "list").stdout, n.cli("log", "-n", "1000").stdout,
             n.ins_list_raw().stdout, (n.root / "log" / "lk.log").read_text(errors="replace")
             if (n.root / "log" / "lk.log").exists() else ""]
    for t in texts:
        assert secret not in t
    # A parameter change runs validate-all again: refused, nothing changed.
    p = n.cli("resource", "config", "--tag", "f1", "--param", "dir=/nonexistent/ctl",
              check=False, json_out=True)
    assert error_of(p) == ("lktest:fake refused by its validate-all (exit 6, "
                           "OCF_ERR_CONFIGURED): directory /nonexistent/ctl does not exist")
    assert n.cli_json("resource", "list", "--tag", "f1")[0]["params"]["dir"] == str(ctl)
    # A secret the agent echoes in its reason is scrubbed: refusals, events, status.
    p = n.cli("resource", "config", "--tag", "f1", "--param", f"dir=/nonexistent/{secret}",
              "--secret", "dir", check=False, json_out=True)
    assert error_of(p) == ("lktest:fake refused by its validate-all (exit 6, "
                           "OCF_ERR_CONFIGURED): directory *** does not exist")
    (ctl / "monitor.rc").write_text("1\n")
    wait_for(lambda: events(n, "f1", 1500), what="a failed check")
    (ctl / "monitor.rc").unlink()
    failed = events(n, "f1", 1500)[0]
    assert "fake monitor exits 1 on n1 (password ***)" in failed["message"]
    assert secret not in failed["message"]
    for e in events(n, "f1"):
        assert secret not in e["message"], e
    # The run's output tail, attached to the event (log, status --json), is masked too, and
    # so is what resource test shows.
    (ctl / "start.rc").write_text("1\n")
    p = n.cli("resource", "test", "--tag", "f1", "--action", "restore", json_out=True,
              check=False)
    (ctl / "start.rc").unlink()
    assert f"(password {'*' * len(secret)})" in json.loads(p.stdout)["output"], p.stdout
    for t in texts + [p.stdout, n.cli("log", "-n", "1000").stdout,
                      n.cli("status", json_out=True).stdout, n.cli("status").stdout,
                      n.cli("resource", "why", "--tag", "f1").stdout]:
        assert secret not in t
    # A promotable agent is refused at create.
    prom = fake_root / "resource.d" / "lktest" / "prom"
    prom.write_text("#!/bin/sh\n[ \"$1\" = meta-data ] || exit 0\n"
                    "echo '<resource-agent name=\"prom\"><actions><action name=\"promote\"/>"
                    "</actions></resource-agent>'\n")
    os.chmod(prom, 0o755)
    p = create_ocf(n, "p1", "lktest:prom", check=False, json_out=True)
    assert error_of(p) == ("lktest:prom is a promotable agent (promote/demote): OpenKeeper "
                           "runs no promotable agents")
    assert n.resource("p1") is None


# ---------------------------------------------------------------------- two nodes


def test_dummy_switchover_and_failover(cluster, monkeypatch, tmp_path):
    n1, n2 = build2(cluster, monkeypatch, tmp_path)
    s1, s2 = n1.ocf_run / "Dummy-d1.state", n2.ocf_run / "Dummy-d1.state"
    create_ocf(n1, "d1", "heartbeat:Dummy", extra=["--quickchk-interval", "1"])
    n1.cli("resource", "extend", "--tag", "d1", "--node", "node2", "--priority", "10")
    for n in (n1, n2):
        wait_eq(lambda n=n: n.res_nodes("d1"), {"node1": "ISP", "node2": "OSU"})
    assert s1.exists() and not s2.exists()
    assert n2.ins_line("d1")[1:3] == ["ocf", "heartbeat:Dummy"]

    p = n1.cli("resource", "restore", "--tag", "d1", "--node", "node2")
    assert "node2: d1 ISP" in p.stdout, p.stdout
    assert s2.exists() and not s1.exists()
    for n in (n1, n2):
        wait_eq(lambda n=n: n.res_nodes("d1"), {"node1": "OSU", "node2": "ISP"})

    # node2 crashes: node1 takes over.
    n2.kill9_all()
    cluster.wait_dead([n1], n2)
    wait_for(lambda: n1.state("d1") == "ISP", what="d1 taken over by node1")
    assert s1.exists()


def test_anything_fails_over_when_killed(cluster, monkeypatch, tmp_path):
    n1, n2 = build2(cluster, monkeypatch, tmp_path)
    marker = str(800000000 + os.getpid() % 100000000)
    create_ocf(n1, "a1", "heartbeat:anything", "binfile=/bin/sleep",
               f"cmdline_options={marker}",
               extra=["--quickchk-interval", "1", "--local-recovery", "off"])
    n1.cli("resource", "extend", "--tag", "a1", "--node", "node2", "--priority", "10")
    wait_eq(lambda: n2.res_nodes("a1"), {"node1": "ISP", "node2": "OSU"})
    [pid] = wait_for(lambda: pids_with(f"sleep {marker}"), what="the application")
    assert runs_on(pid, n1, "a1"), cgroup_of(pid)

    os.kill(pid, signal.SIGKILL)
    wait_eq(lambda: n2.res_nodes("a1"), {"node1": "OSF", "node2": "ISP"},
            what="a1 failed over to node2")
    [pid2] = wait_for(lambda: pids_with(f"sleep {marker}"), what="the application on node2")
    assert runs_on(pid2, n2, "a1"), cgroup_of(pid2)

    # And switched back by hand: one copy, on node1.
    n2.cli("resource", "restore", "--tag", "a1", "--node", "node1")
    wait_for(lambda: [p for p in pids_with(f"sleep {marker}") if runs_on(p, n1, "a1")],
             what="the application back on node1")
    assert len(pids_with(f"sleep {marker}")) == 1
    n1.cli("resource", "remove", "--tag", "a1")
    wait_for(lambda: not pids_with(f"sleep {marker}"), what="the application stopped")


# ---------------------------------------------------------------------- the exit-code table

# One row per code: where the fake agent returns it on node1, and what must follow.
# kind: ok, failed (recovered, then failed over), hard (failed over, no recover),
# installed (start fails on node1: node2 takes it), configured (OSF, no failover),
# not-running (a check: recovered in place), degraded (a warning, nothing else).
TABLE = [
    (0, "monitor", "ok"),
    (1, "monitor", "failed"),
    (2, "monitor", "hard"),
    (3, "monitor", "hard"),
    (4, "monitor", "hard"),
    (5, "start", "installed"),
    (6, "monitor", "configured"),
    (7, "monitor", "not-running"),
    (8, "monitor", "failed"),
    (9, "monitor", "failed"),
    (190, "monitor", "degraded"),
    (191, "monitor", "degraded"),
]


def calls(ctl):
    f = ctl / "calls"
    return f.read_text().splitlines() if f.exists() else []


@pytest.mark.parametrize("code,op,kind", TABLE, ids=[f"{c}-{o}" for c, o, _ in TABLE])
def test_exit_code_table(cluster, monkeypatch, tmp_path, fake_root, code, op, kind):
    n1, n2 = build2(cluster, monkeypatch, tmp_path)
    ctl = tmp_path / "ctl"
    (ctl / "node1").mkdir(parents=True)
    create_ocf(n1, "f1", "lktest:fake", f"dir={ctl}",
               extra=["--no-in-service", "--quickchk-interval", "1", "--max-recoveries", "1"])
    s = settings_of(n1, "f1")
    # The fake agent advises start 21 s / stop 22 s, monitor 7 s every 3 s: the user's
    # interval wins, the rest is the advice.
    assert (s["action-timeout"], s["quickchk-timeout"], s["deepchk-interval"]) == (
        "22", "7", "30"), s
    n1.cli("resource", "extend", "--tag", "f1", "--node", "node2", "--priority", "10")
    wait_eq(lambda: n2.res_nodes("f1"), {"node1": "OSU", "node2": "OSU"})
    rc = ctl / "node1" / f"{op}.rc"
    if op == "start":
        rc.write_text(f"{code}\n")
    n1.cli("resource", "restore", "--tag", "f1", check=False)
    if op == "monitor":
        wait_eq(lambda: n1.res_nodes("f1"), {"node1": "ISP", "node2": "OSU"})
        wait_for(lambda: any(c.startswith("monitor node1 interval=1000 level=0 timeout=7000")
                             for c in calls(ctl)), what="a check on node1")
        rc.write_text(f"{code}\n")
    reason = f"fake {op} exits {code} on node1"

    def numbers(n):
        return [e["number"] for e in events(n, "f1")]

    if kind == "ok":
        ch.holds(lambda: n1.res_nodes("f1") == {"node1": "ISP", "node2": "OSU"}, 3)
        assert 1500 not in numbers(n1)
    elif kind == "failed":
        wait_eq(lambda: n2.res_nodes("f1"), {"node1": "OSF", "node2": "ISP"}, timeout=60,
                what="f1 failed over after a local recovery")
        assert 1501 in numbers(n1), numbers(n1)  # recovered once in place first
        assert any(reason in e["message"] for e in events(n1, "f1", 1500))
    elif kind == "hard":
        wait_eq(lambda: n2.res_nodes("f1"), {"node1": "OSF", "node2": "ISP"}, timeout=60,
                what="f1 failed over at once")
        assert 1501 not in numbers(n1), numbers(n1)  # no local retry
        assert any(reason in e["message"] for e in events(n1, "f1", 1534))
    elif kind == "installed":
        wait_eq(lambda: n2.res_nodes("f1"), {"node1": "OSF", "node2": "ISP"}, timeout=60,
                what="f1 restored on node2, the next node")
        assert any(reason in e["message"] for e in events(n1, "f1", 1531))
        starts = [c.split(" interval")[0] for c in calls(ctl) if c.startswith("start")]
        assert starts == ["start node1", "start node2"], starts  # no retry on node1
        # Both nodes show node1 unable to run it (status, --json and text).
        for n in (n1, n2):
            wait_for(lambda n=n: {x["node"]: x["unable"] for x in n.resource("f1")["nodes"]}
                     == {"node1": True, "node2": False}, what=f"{n.name}: node1 unable")
        assert n1.resource("f1")["unable"]
    elif kind == "configured":
        wait_eq(lambda: n1.res_nodes("f1"), {"node1": "OSF", "node2": "OSU"}, timeout=60)
        assert any(reason in e["message"] for e in events(n1, "f1", 1532))
        assert n1.resource("f1")["not_configured"]
        # why names the agent's own reason.
        assert reason in n1.cli("resource", "why", "--tag", "f1").stdout
        ch.holds(lambda: n2.res_nodes("f1") == {"node1": "OSF", "node2": "OSU"}, 3,
                 what="no failover anywhere")
        assert not any(c.startswith("start node2") for c in calls(ctl))
    elif kind == "not-running":
        # The agent's own "not running": the state file is gone.
        rc.unlink()
        (ctl / "node1.running").unlink()
        wait_for(lambda: 1502 in numbers(n1), what="f1 recovered in place")
        assert n1.res_nodes("f1") == {"node1": "ISP", "node2": "OSU"}
    elif kind == "degraded":
        wait_for(lambda: 1530 in numbers(n1), what="the degraded warning")
        assert any(reason in e["message"] for e in events(n1, "f1", 1530))
        ch.holds(lambda: n1.res_nodes("f1") == {"node1": "ISP", "node2": "OSU"}, 3)
        assert 1500 not in numbers(n1) and 1501 not in numbers(n1)


def test_exit_code_7_at_the_probe_is_cleanly_stopped(make_node, monkeypatch, tmp_path,
                                                      fake_root):
    """7 at the start-up probe (interval 0): stopped, no clean-up stop, then restored as
    init says; 1 at the probe is a failure: the clean-up stop runs before the restore."""
    n = start_node(make_node, monkeypatch, tmp_path)
    ctl = tmp_path / "ctl"
    ctl.mkdir()
    create_ocf(n, "f1", "lktest:fake", f"dir={ctl}", extra=["--quickchk-interval", "1"])
    assert n.state("f1") == "ISP"
    for code, cleanup in ((7, False), (1, True)):
        n.stop(force=True)
        if code == 7:
            (ctl / "n1.running").unlink()
        else:
            (ctl / "monitor.rc").write_text("1\n")
        mark = len(calls(ctl))
        n.start()
        wait_for(lambda: n.state("f1") == "ISP" and any(
            c.startswith("start n1") for c in calls(ctl)[mark:]), what="f1 restored")
        (ctl / "monitor.rc").unlink(missing_ok=True)
        after = [c.split(" interval")[0] for c in calls(ctl)[mark:]]
        assert after[0] == "monitor n1", after
        assert calls(ctl)[mark].startswith("monitor n1 interval=0 level=0"), calls(ctl)[mark]
        first_start = after.index("start n1")
        assert ("stop n1" in after[:first_start]) == cleanup, after
        if code == 7:
            assert [e for e in events(n, "f1", 1533)], "no stopped-at-probe event"


# ---------------------------------------------------------------------- IPaddr2, namespaces


def has_address(cluster, ns, vip):
    out = cluster.ip("-o", "-4", "addr", "show", ns=ns).stdout
    return f" {vip}/24 " in out


CLIENT = """
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
    print(c.recv(64).decode())
except OSError:
    print("")
"""


@pytest.fixture
def listeners():
    """Starts, in a namespace, a TCP listener on every address that answers with a name;
    ends them at teardown (by pid)."""
    procs = []

    def start(ns, port, name):
        procs.append(subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c",
                                       ANSWERING_LISTENER, str(port), name]))

    yield start
    for p in procs:
        p.kill()
        p.wait(timeout=30)


def answers(ns, address, port):
    """Who answers at address:port, asked from namespace ns ("" when nobody)."""
    p = subprocess.run(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c", CLIENT, address,
                        str(port)], capture_output=True, text=True, timeout=30)
    return p.stdout.strip()


def ipaddr2_cluster(cluster, monkeypatch, tmp_path):
    """Two nodes, each lkd in its own network namespace, a veth between them carrying a
    /24 of their own; returns (n1, n2, ns1, ns2, dev1, dev2, vip)."""
    n1, n2 = build2(cluster, monkeypatch, tmp_path, netns=True)
    link = cluster.links[frozenset(("node1", "node2"))]
    (ns1, dev1), (ns2, dev2) = link["dev"]["node1"], link["dev"]["node2"]
    net = f"10.88.{os.getpid() % 250}"
    cluster.ip("addr", "add", f"{net}.1/24", "dev", dev1, ns=ns1)
    cluster.ip("addr", "add", f"{net}.2/24", "dev", dev2, ns=ns2)
    return n1, n2, ns1, ns2, dev1, dev2, f"{net}.100"


def test_ipaddr2_moves_an_address_between_namespaces(cluster, monkeypatch, tmp_path, netns_ok,
                                                     listeners):
    n1, n2, ns1, ns2, dev1, dev2, vip = ipaddr2_cluster(cluster, monkeypatch, tmp_path)
    port = ch.free_port()
    listeners(ns1, port, "node1")
    listeners(ns2, port, "node2")
    create_ocf(n1, "vip", "heartbeat:IPaddr2", f"ip={vip}", "cidr_netmask=24",
               extra=["--quickchk-interval", "1"])
    assert has_address(cluster, ns1, vip) and not has_address(cluster, ns2, vip)
    wait_eq(lambda: answers(ns2, vip, port), "node1", what="node1 answering at the address")
    n1.cli("resource", "extend", "--tag", "vip", "--node", "node2", "--priority", "10")
    wait_eq(lambda: n2.res_nodes("vip"), {"node1": "ISP", "node2": "OSU"})

    p = n1.cli("resource", "restore", "--tag", "vip", "--node", "node2")
    assert "node2: vip ISP" in p.stdout, p.stdout
    assert has_address(cluster, ns2, vip) and not has_address(cluster, ns1, vip)
    wait_eq(lambda: answers(ns1, vip, port), "node2", what="node2 answering at the address")

    # Removed behind the cluster's back: the monitor notices, recover puts it back.
    cluster.ip("addr", "del", f"{vip}/24", "dev", dev2, ns=ns2)
    wait_for(lambda: events(n2, "vip", 1502), what="vip recovered on node2")
    assert has_address(cluster, ns2, vip)

    # And back by a switchover, then out of service everywhere.
    n2.cli("resource", "restore", "--tag", "vip", "--node", "node1")
    assert has_address(cluster, ns1, vip) and not has_address(cluster, ns2, vip)
    n1.cli("resource", "remove", "--tag", "vip")
    assert not has_address(cluster, ns1, vip) and not has_address(cluster, ns2, vip)


def test_ipaddr2_fails_over_when_its_node_dies(cluster, monkeypatch, tmp_path, netns_ok):
    n1, n2, ns1, ns2, dev1, dev2, vip = ipaddr2_cluster(cluster, monkeypatch, tmp_path)
    create_ocf(n1, "vip", "heartbeat:IPaddr2", f"ip={vip}", "cidr_netmask=24",
               extra=["--quickchk-interval", "1"])
    n1.cli("resource", "extend", "--tag", "vip", "--node", "node2", "--priority", "10")
    wait_eq(lambda: n2.res_nodes("vip"), {"node1": "ISP", "node2": "OSU"})
    # node1's namespace loses its link and its daemon: node2 takes the address over.
    cluster.ip("link", "set", dev1, "down", ns=ns1)
    n1.kill9_all()
    cluster.wait_dead([n2], n1)
    wait_for(lambda: n2.state("vip") == "ISP", what="vip taken over by node2")
    assert has_address(cluster, ns2, vip)


# ---------------------------------------------------------------------- ocf-tester

SUPPORTED = ["Dummy", "anything", "IPaddr2"]


@pytest.mark.parametrize("agent", SUPPORTED)
def test_ocf_tester_passes(agent, tmp_path):
    """ocf-tester (resource-agents) against every agent docs/OCF.md lists as supported."""
    run = tmp_path / "run"
    run.mkdir()
    env = dict(os.environ, HA_RSCTMP=str(run), HA_VARRUN=str(run), LANG="C")
    marker = str(600000000 + os.getpid() % 100000000)
    argv = [OCF_TESTER, "-n", f"t{agent.lower()}"]
    ns = None
    if agent == "Dummy":
        argv += ["-o", f"state={run}/d.state"]
    elif agent == "anything":
        argv += ["-o", "binfile=/bin/sleep", "-o", f"cmdline_options={marker}", "-o",
                 f"pidfile={run}/a.pid"]
    else:
        why = ch.netns_usable()
        if why:
            pytest.skip(why)
        ns = f"okt-{os.getpid()}-tester"
        subprocess.run(["ip", "netns", "add", ns], check=True, timeout=30)
    try:
        if ns:
            for args in (["link", "add", "okv0", "type", "veth", "peer", "name", "okv1"],
                         ["addr", "add", "10.89.7.1/24", "dev", "okv0"],
                         ["link", "set", "okv0", "up"], ["link", "set", "okv1", "up"],
                         ["link", "set", "lo", "up"]):
                subprocess.run(["ip", "-n", ns] + args, check=True, timeout=30)
            argv = ["ip", "netns", "exec", ns] + argv + ["-o", "ip=10.89.7.100", "-o",
                                                         "cidr_netmask=24"]
        p = subprocess.run(argv + [str(AGENTS / agent)], capture_output=True, text=True,
                           timeout=600, env=env)
        assert p.returncode == 0, p.stdout + p.stderr
        assert f"{AGENTS / agent} passed all tests" in p.stdout, p.stdout
        assert not pids_with(f"sleep {marker}")
    finally:
        if ns:
            subprocess.run(["ip", "netns", "del", ns], timeout=30)


def test_ocf_child_under_a_gen_parent_moves_with_its_hierarchy(cluster, monkeypatch, tmp_path):
    n1, n2 = build2(cluster, monkeypatch, tmp_path)
    app = cluster.app("web")
    n1.create("web", app.restore, app.remove, "--quickchk", app.quickchk)
    create_ocf(n1, "d1", "heartbeat:Dummy", extra=["--quickchk-interval", "1"])
    n1.cli("dependency", "create", "--parent", "web", "--child", "d1")
    n1.cli("resource", "extend", "--tag", "web", "--node", "node2", "--priority", "10")
    for tag in ("web", "d1"):
        wait_eq(lambda tag=tag: n2.res_nodes(tag), {"node1": "ISP", "node2": "OSU"})
    p = n1.cli("resource", "restore", "--tag", "web", "--node", "node2")
    assert "node2: web ISP" in p.stdout and "node2: d1 ISP" in p.stdout, p.stdout
    assert app.runs_only_on(n2)
    assert (n2.ocf_run / "Dummy-d1.state").exists()
    assert not (n1.ocf_run / "Dummy-d1.state").exists()
    # The child's "application" dies on node2: recovered in place, the parent untouched.
    (n2.ocf_run / "Dummy-d1.state").unlink()
    wait_for(lambda: events(n2, "d1", 1502), what="d1 recovered on node2")
    assert app.runs_only_on(n2)


def test_agent_missing_on_a_node_makes_it_unable(cluster, monkeypatch, tmp_path, fake_root):
    """node1's OCF root lacks the agent (the package is not installed there): a switchover
    to node1 finds it not installed, marks node1 unable and the resource runs on node2."""
    nodes = cluster.build(2, start=False)
    empty = tmp_path / "ocf-empty"
    (empty / "resource.d").mkdir(parents=True)
    for n, root in zip(nodes, (empty, fake_root)):
        n.ocf_run = run_dir(monkeypatch, tmp_path, n.name)
        monkeypatch.setenv("LK_OCF_ROOT", str(root))
        n.start()
    cluster.mesh(nodes)
    cluster.configure(nodes, heartbeat_ms=ch.HB_MS, misses=ch.HB_MISSES)
    cluster.wait_all_alive(nodes)
    cluster.wait_all_synced(nodes)
    n1, n2 = nodes
    ctl = tmp_path / "ctl"
    ctl.mkdir()
    # Created where the agent is (node2), extended to node1.
    create_ocf(n2, "f1", "lktest:fake", f"dir={ctl}", extra=["--quickchk-interval", "1"])
    n2.cli("resource", "extend", "--tag", "f1", "--node", "node1", "--priority", "10")
    wait_eq(lambda: n1.res_nodes("f1"), {"node1": "OSU", "node2": "ISP"})
    n2.cli("resource", "restore", "--tag", "f1", "--node", "node1", check=False)
    wait_eq(lambda: n2.res_nodes("f1"), {"node1": "OSF", "node2": "ISP"}, timeout=60,
            what="f1 back on node2")
    wait_for(lambda: {x["node"]: x["unable"] for x in n2.resource("f1")["nodes"]}
             == {"node1": True, "node2": False}, what="node1 unable")
    assert events(n1, "f1", 1531), "no not-installed event on node1"


def test_deepchk_depth_default_and_configured(make_node, monkeypatch, tmp_path, fake_root):
    """quickchk = monitor at OCF_CHECK_LEVEL 0, deepchk = monitor at 10 unless the parameter
    OCF_CHECK_LEVEL says otherwise (not passed as OCF_RESKEY_OCF_CHECK_LEVEL)."""
    n = start_node(make_node, monkeypatch, tmp_path)
    ctl = tmp_path / "ctl"
    ctl.mkdir()
    create_ocf(n, "f1", "lktest:fake", f"dir={ctl}",
               extra=["--quickchk-interval", "1", "--deepchk-interval", "1"])

    def levels():
        return {c.split(" level=")[1].split()[0] for c in calls(ctl)
                if c.startswith("monitor n1 interval=1000 ")}

    wait_for(lambda: {"0", "10"} <= levels(), what="quick and deep monitors")
    n.cli("resource", "config", "--tag", "f1", "--param", "OCF_CHECK_LEVEL=20")
    wait_for(lambda: "20" in levels(), what="the deep monitor at level 20")
    p = n.cli("resource", "config", "--tag", "f1", "--param", "OCF_CHECK_LEVEL=deep",
              check=False, json_out=True)
    assert "OCF_CHECK_LEVEL must be a number from 0 to 1000" in error_of(p)
