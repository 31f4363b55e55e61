"""Hardening: a full or failing disk never hides a failure (issue 11, item 3).

The node's root is a small tmpfs of its own, filled by a file written until ENOSPC. Then
the store cannot be written, yet a killed application is recovered (or failed over),
its events reach lk.log, `status` says loudly that the database is not writable,
commands that need the store are refused with one line and change nothing, and once
space returns the node catches up: the events say so and the database holds what
memory held (checked in the database itself and after a restart of lkd).
"""
import errno
import os
import signal
import sqlite3
import subprocess

import pytest
from conftest import lkapp, one_line_error, wait_for

TMPFS_SIZE = "48m"
NOT_WRITABLE = "the node database is not writable"


@pytest.fixture
def tmpfs(tmp_path):
    """mount(path): a small tmpfs on path (made first). Set up before make_node (ask for
    it first), so it is unmounted after the nodes were stopped; lazily, whatever holds
    it."""
    mounted = []

    def mount(path, size=TMPFS_SIZE):
        path.mkdir(parents=True, exist_ok=True)
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs",
                            str(path)], capture_output=True, text=True)
        if p.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {p.stderr.strip()}")
        mounted.append(path)
        return path

    yield mount
    for path in reversed(mounted):
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def fill(path):
    """Writes path/filler until the filesystem is full (ENOSPC at every size down to one
    byte); returns the file."""
    filler = path / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 20, 1 << 16, 4096, 512, 1):
            chunk = b"\0" * size
            while True:
                try:
                    os.write(fd, chunk)
                except OSError as e:
                    assert e.errno in (errno.ENOSPC, errno.EDQUOT), e
                    break
    finally:
        os.close(fd)
    return filler


def lk_log(node):
    try:
        return (node.root / "log" / "lk.log").read_text(errors="replace")
    except FileNotFoundError:
        return ""


def log_numbers(node, tag=None):
    """The numbers of lk.log's events (of tag, if given), in order."""
    out = []
    for line in lk_log(node).splitlines():
        if not line or line.startswith(" "):
            continue
        # "<date> <time> <node> <severity> <number> <tag>: <message>"
        parts = line.split(None, 6)
        if len(parts) < 6 or not parts[4].isdigit():
            continue
        if tag is None or parts[5].rstrip(":") == tag:
            out.append(int(parts[4]))
    return out


def definitions_of(ins_list_text):
    """ins_list's lines without the state and its reason: what a definition change
    changes."""
    return [f[:6] + f[8:] for f in (line.split(",") for line in ins_list_text.splitlines())]


def definitions(node):
    return definitions_of(node.ins_list_raw().stdout)


def store_of(node):
    return node.status().get("store")


def settled(node, tag, state):
    r = node.resource(tag)
    return r is not None and r["state"] == state and r["pending"] in ("", "none")


def db_state(node, tag):
    """(state, recoveries) of tag in the node's database, read by sqlite itself."""
    con = sqlite3.connect(f"file:{node.root / 'db' / 'lk.db'}?mode=ro", uri=True, timeout=10)
    try:
        row = con.execute("SELECT state, recoveries FROM states WHERE tag = ? AND node = ?",
                          (tag, node.name)).fetchone()
    finally:
        con.close()
    return row


class Protected:
    """A pidfile-watched application: lkapp.App's scripts, its restore used as recover."""

    def __init__(self, node, tag):
        self.node, self.tag = node, tag
        self.app = node.app(tag)

    def create(self, *settings):
        self.node.cli("resource", "create", "gen", *self.app.create_args(), "--recover",
                      str(self.app.restore), "--pidfile", str(self.app.pidfile),
                      "--quickchk-interval", "60", *settings)

    def pid(self):
        try:
            pid = int(self.app.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if self.app.marker in " ".join(lkapp.proc_cmdlines().get(pid, [])) else None

    def kill(self):
        pid = self.pid()
        assert pid, "the application does not run"
        os.kill(pid, signal.SIGKILL)
        return pid


def full_node(tmpfs, make_node, name="n1"):
    n = make_node(name)
    tmpfs(n.root)
    n.start()
    return n


def test_full_root_killed_application_is_recovered_and_shown(tmpfs, make_node):
    n = full_node(tmpfs, make_node)
    svc = Protected(n, "web")
    svc.create()
    wait_for(lambda: settled(n, "web", "ISP"), what="web in service")
    assert store_of(n)["writable"] is True

    fill(n.root)
    old = svc.kill()
    # The failure is handled: the application runs again, recovered from memory.
    wait_for(lambda: svc.pid() and svc.pid() != old, timeout=30, what="web recovered")
    wait_for(lambda: settled(n, "web", "ISP"), what="web back in service")
    # The events went to lk.log: the process exit, the recovery, and the store's state.
    wait_for(lambda: {1506, 1502} <= set(log_numbers(n, "web")), what="1506 and 1502 in lk.log")
    assert 1011 in log_numbers(n)
    st = store_of(n)
    assert st["writable"] is False
    assert st["why"] and st["since"] > 0
    text = n.cli("status").stdout
    assert text.splitlines()[0].startswith("node database NOT WRITABLE"), text
    assert n.resource("web")["local_recoveries"] == 1


def test_full_root_refuses_definition_changes_and_keeps_resource_commands(tmpfs, make_node):
    n = full_node(tmpfs, make_node)
    svc = Protected(n, "web")
    svc.create()
    db = n.app("db")
    n.cli("resource", "create", "gen", *db.create_args())
    wait_for(lambda: settled(n, "web", "ISP") and settled(n, "db", "ISP"), what="in service")
    fill(n.root)
    old = svc.kill()
    wait_for(lambda: store_of(n)["writable"] is False and svc.pid() not in (None, old),
             what="the store not writable and web recovered")
    before = n.ins_list_raw().stdout
    assert definitions(n) == definitions_of(before)
    settings = n.cli_json("cluster", "config")["settings"]
    copies = n.copies()

    other = n.app("other")
    new_restore = n.script("#!/bin/sh\nexit 0\n")
    for argv in (["resource", "create", "gen", *other.create_args()],
                 ["resource", "config", "--tag", "web", "--quickchk-interval", "30"],
                 ["resource", "update-script", "--tag", "web", "--action", "restore", "--file",
                  new_restore],
                 ["dependency", "create", "--parent", "web", "--child", "db"],
                 ["cluster", "config", "--max-failovers", "3"]):
        line = one_line_error(n.cli(*argv, check=False))
        assert NOT_WRITABLE in line, (argv, line)
    assert definitions(n) == definitions_of(before)
    assert n.resource("other") is None
    assert n.status()["dependencies"] == []
    assert n.copies() == copies
    assert n.cli_json("cluster", "config")["settings"] == settings

    # Acting on a resource works from memory.
    n.cli("resource", "remove", "--tag", "web")
    assert settled(n, "web", "OSU") and svc.pid() is None
    line = one_line_error(n.cli("resource", "delete", "--tag", "web", check=False))
    assert NOT_WRITABLE in line, line
    assert n.resource("web") is not None
    n.cli("resource", "restore", "--tag", "web")
    assert settled(n, "web", "ISP") and svc.pid()
    assert definitions(n) == definitions_of(before)


def test_catch_up_when_space_returns(tmpfs, make_node):
    n = full_node(tmpfs, make_node)
    svc = Protected(n, "web")
    svc.create()
    wait_for(lambda: settled(n, "web", "ISP"), what="web in service")
    filler = fill(n.root)
    old = svc.kill()
    wait_for(lambda: store_of(n)["writable"] is False and svc.pid() not in (None, old),
             what="the store not writable and web recovered")
    wait_for(lambda: settled(n, "web", "ISP"), what="web back in service")
    assert store_of(n)["reserve"] is False

    # The reserve is used up too: now nothing reaches the disk, and the node goes on from
    # memory alone.
    more = fill(n.root / "var")
    old = svc.kill()
    wait_for(lambda: svc.pid() not in (None, old), what="web recovered from memory")
    wait_for(lambda: settled(n, "web", "ISP"), what="web back in service")
    assert n.resource("web")["local_recoveries"] == 2
    st = store_of(n)
    assert st["writable"] is False and st["dirty"] is True and st["kept_events"] > 0
    assert db_state(n, "web") == ("ISP", 1), "the database is behind memory"
    n.cli("resource", "remove", "--tag", "web")
    assert settled(n, "web", "OSU")
    assert db_state(n, "web")[0] == "ISP"

    filler.unlink()
    more.unlink()
    wait_for(lambda: store_of(n)["writable"] is True, what="the store writable again")
    assert 1012 in log_numbers(n)
    st = store_of(n)
    assert st["dirty"] is False and st["reserve"] is True
    # The database holds what memory held: the states, and the events it had missed.
    assert db_state(n, "web") == ("OSU", 2)
    assert [e["number"] for e in n.log_events(tag="web")].count(1502) == 2
    assert (n.root / "var" / "reserve").stat().st_size >= 4 << 20
    # And a definition change works again.
    n.cli("resource", "config", "--tag", "web", "--quickchk-interval", "30")

    n.stop(force=True)
    n.start()
    wait_for(lambda: n.resource("web") is not None, what="web loaded")
    r = n.resource("web")
    assert (r["state"], r["local_recoveries"]) == ("OSU", 2)
    assert store_of(n)["writable"] is True


def test_start_on_a_full_disk(tmpfs, make_node):
    """lkd starts on a full disk (the reserve makes room to open the database), says it
    is not writable, keeps its application, and catches up when space returns."""
    n = full_node(tmpfs, make_node)
    svc = Protected(n, "web")
    svc.create()
    wait_for(lambda: settled(n, "web", "ISP"), what="web in service")
    n.stop(force=True)
    filler = fill(n.root)

    n.start()
    wait_for(lambda: settled(n, "web", "ISP"), what="web probed in service")
    st = store_of(n)
    assert st["writable"] is False and st["reserve"] is False, st
    assert {1014, 1011} <= set(log_numbers(n))
    old = svc.kill()
    wait_for(lambda: svc.pid() not in (None, old), what="web recovered")
    wait_for(lambda: settled(n, "web", "ISP"), what="web back in service")

    filler.unlink()
    wait_for(lambda: store_of(n)["writable"] is True, what="the store writable again")
    assert db_state(n, "web") == ("ISP", 1)


def test_full_node_fails_over_to_its_peer(tmpfs, cluster):
    """node1's root is full: its application dies, it cannot recover it (no recover
    script), and the hierarchy fails over to node2 all the same."""
    from cluster import HB_MISSES, HB_MS

    n1, n2 = cluster.build(2, start=False)
    tmpfs(n1.root)
    for n in (n1, n2):
        n.start()
    cluster.mesh([n1, n2])
    cluster.configure([n1, n2], heartbeat_ms=HB_MS, misses=HB_MISSES)
    cluster.wait_all_alive([n1, n2])

    app = cluster.app("app1")
    n1.create("app1", app.restore, app.remove, "--quickchk", app.quickchk,
              "--quickchk-interval", "0.5", "--watch", "none")
    wait_for(lambda: app.runs_only_on(n1), what="app1 on node1")
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "2")
    wait_for(lambda: n2.state("app1") == "OSU", what="app1 extended to node2")

    fill(n1.root)
    [pid] = app.nodes()["node1"]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: app.runs_only_on(n2), timeout=60, what="app1 failed over to node2")
    wait_for(lambda: n2.state("app1") == "ISP", what="app1 ISP on node2")
    wait_for(lambda: n1.state("app1") in ("OSF", "OSU"), what="app1 out of service on node1")
    assert store_of(n1)["writable"] is False
    assert store_of(n2)["writable"] is True
    assert 1011 in log_numbers(n1)


def db_owner(node, tag):
    """(generation, owner) of tag's ownership record in the node's database."""
    con = sqlite3.connect(f"file:{node.root / 'db' / 'lk.db'}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute("SELECT generation, owner FROM ownership WHERE tag = ?",
                           (tag,)).fetchone()
    finally:
        con.close()


def test_full_node_takes_over_from_its_dead_peer(tmpfs, cluster):
    """node1's root is full and node2, which holds app1, crashes: node1 takes the
    hierarchy over with its ownership record in memory only, and writes the record once
    space returns."""
    from cluster import HB_MISSES, HB_MS

    n1, n2 = cluster.build(2, start=False)
    tmpfs(n1.root)
    for n in (n1, n2):
        n.start()
    cluster.mesh([n1, n2])
    cluster.configure([n1, n2], heartbeat_ms=HB_MS, misses=HB_MISSES)
    cluster.wait_all_alive([n1, n2])

    app = cluster.app("app1")
    n2.create("app1", app.restore, app.remove, "--quickchk", app.quickchk)
    wait_for(lambda: app.runs_only_on(n2), what="app1 on node2")
    n2.cli("resource", "extend", "--tag", "app1", "--node", "node1", "--priority", "2")
    wait_for(lambda: n1.state("app1") == "OSU", what="app1 extended to node1")
    before = db_owner(n1, "app1")

    filler = fill(n1.root)
    # A first write fails (an event from a script) and frees the reserve; that room is
    # filled too, so that the takeover's record cannot be written at all.
    n1.lk_err("-c", "INFO", "-n", "9100", "a message from a script", check=True)
    wait_for(lambda: store_of(n1)["reserve"] is False, what="the reserve freed")
    more = fill(n1.root / "var")
    n2.kill9_all()
    wait_for(lambda: app.runs_only_on(n1), timeout=60, what="app1 taken over by node1")
    wait_for(lambda: n1.state("app1") == "ISP", what="app1 ISP on node1")
    assert store_of(n1)["writable"] is False
    assert db_owner(n1, "app1") == before, "the record is in memory only"

    filler.unlink()
    more.unlink()
    wait_for(lambda: store_of(n1)["writable"] is True, what="node1's store writable again")
    gen, owner = db_owner(n1, "app1")
    assert owner == "node1" and (before is None or gen > before[0]), (before, gen, owner)
    assert db_state(n1, "app1")[0] == "ISP"
