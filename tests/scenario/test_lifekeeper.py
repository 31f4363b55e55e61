"""LifeKeeper migration, end to end: a gen/app library in SIOS's calling style
(tests/helpers/lkperl: Perl, `use LK;`, scripts run as `restore -t TAG -i ID` by
`#!/opt/LifeKeeper/bin/perl` after `require '/etc/default/LifeKeeper.pl'`, tunables from the
environment, lcdremexec to the other node) runs unchanged on a two-node OpenKeeper cluster.

Each node's lkd runs in a private mount namespace of the test's (cluster.MountNamespace):
there, and only there, /opt and /etc/default are directories of the test's (bind mounts;
lkcli lifekeeper-setup fills them with LifeKeeper's paths), and /usr/local/sbin holds the
stand-in `mount` that turns the library's `mount -t nfs nas:/export DIR` into a bind mount
of a directory of the test's. Nothing is made on the machine itself: the namespaces end
with their holder process at teardown, and the tests check that nothing is left.

What this file owns: the scenario and the namespace plumbing's own tests. It must never
touch the machine's /opt, /etc/default or mounts, and never kill a process it did not
start. The parts built elsewhere (script args, LK.pm, lifekeeper-setup, tunables,
lcdremexec/lcdrcp, ins_setstate/ins_setinfo, the `!restore` paths) are probed first; a
test that needs a missing one is skipped naming it.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import cluster as ch
import pytest
from cluster import wait_eq, wait_for
from conftest import BUILD, REPO, _clean_env

LKPERL = REPO / "tests" / "helpers" / "lkperl"
SCRIPTS = ("restore", "remove", "quickCheck")
EXPORT = "nas:/export"
MP = "/opt/nas/data"
INFO = f"{EXPORT} {MP}"
LIB_DIR = "/opt/LifeKeeper/lkadm/subsys/gen/app/lib"
LK_ACTIONS = "/opt/LifeKeeper/subsys/gen/resources/app/actions"

pytestmark = pytest.mark.skipif(ch.mount_namespaces_usable() is not None,
                                reason=str(ch.mount_namespaces_usable()))


# ------------------------------------------------------------------ what exists yet


def _lkcli_help(*words):
    p = subprocess.run([str(BUILD / "lkcli"), *words, "--help"], capture_output=True, text=True,
                       timeout=ch.CMD_TIMEOUT, env=_clean_env())
    return p.returncode == 0, p.stdout + p.stderr


def missing_pieces(*need):
    """The pieces of need (letters of the contract) this build lacks, each as a line
    naming the probe that failed."""
    found = []
    if "A" in need:
        ok, text = _lkcli_help("resource", "create", "gen")
        if "--script-args" not in text:
            found.append("A: `lkcli resource create gen --help` has no --script-args")
        ok, _ = _lkcli_help("lifekeeper-setup")
        if not ok:
            found.append("A: `lkcli lifekeeper-setup` does not exist")
        if not (REPO / "perl" / "LK.pm").exists():
            found.append("A: perl/LK.pm does not exist")
    if "B" in need:
        ok, _ = _lkcli_help("cluster", "tunables")
        if not ok:
            found.append("B: `lkcli cluster tunables` does not exist")
    if "C" in need:
        for cmd in ("lcdremexec", "lcdrcp"):
            if not (BUILD / cmd).exists():
                found.append(f"C: {BUILD / cmd} does not exist")
        ok, text = _lkcli_help("cluster", "config")
        if "--remote-exec" not in text:
            found.append("C: `lkcli cluster config --help` has no --remote-exec")
    if "D" in need:
        for cmd in ("ins_setstate", "ins_setinfo"):
            if not (BUILD / cmd).exists():
                found.append(f"D/E: {BUILD / cmd} does not exist")
    if "E" in need:
        # What LK.pm runs for the library: LK::lcduname, LK::eqv_list, LK::sys_getstate.
        for cmd in ("lcduname", "eqv_list", "sys_getstate"):
            if not (BUILD / cmd).exists():
                found.append(f"E: {BUILD / cmd} does not exist")
    return found


def skip_unless(*need):
    gone = missing_pieces(*need)
    if gone:
        pytest.skip("waits for: " + "; ".join(gone))


# ------------------------------------------------------------------ the plumbing


class LkHost:
    """One node's private world: its mount namespace with /opt, /etc/default and
    /usr/local/sbin bound from directories of the test's, the stand-in mount and its map
    of exports, and the mount point MP."""

    def __init__(self, cluster, name, export_dir):
        self.name = name
        self.ns = cluster.mount_namespace(name)
        self.dir = cluster.work / f"host-{name}"
        self.opt = self.dir / "opt"
        self.etc_default = self.dir / "etc-default"
        self.sbin = self.dir / "sbin"
        (self.opt / MP.removeprefix("/opt/")).mkdir(parents=True)
        # /etc/default as the machine has it, so the namespace's other programs see the
        # files they expect; LifeKeeper's files are added to the copy only.
        shutil.copytree("/etc/default", self.etc_default, symlinks=True)
        self.sbin.mkdir()
        shutil.copy2(LKPERL / "mount", self.sbin / "mount")
        (self.sbin / "nfs-exports").write_text(f"{EXPORT} {export_dir}\n")
        self.ns.bind(self.opt, "/opt")
        self.ns.bind(self.etc_default, "/etc/default")
        self.ns.bind(self.sbin, "/usr/local/sbin")

    def mounted(self):
        return MP in self.ns.mounts()

    def nfs_mounts(self):
        try:
            return (self.sbin / "mount.log").read_text().splitlines()
        except FileNotFoundError:
            return []


def lk_cluster(cluster, tmp_path):
    """Two started nodes, each in its LkHost, meshed and alive; returns (hosts, nodes)
    and the export directory (a file hello.txt in it)."""
    export = tmp_path / "nas-export"
    export.mkdir()
    (export / "hello.txt").write_text("hello from the NAS\n")
    hosts, nodes = [], []
    for name in ("node1", "node2"):
        h = LkHost(cluster, name, export)
        hosts.append(h)
        nodes.append(cluster.add_node(name, prefix=h.ns.enter()))
    for n in nodes:
        n.start()
    cluster.mesh(nodes)
    cluster.configure(nodes, heartbeat_ms=ch.HB_MS, misses=ch.HB_MISSES)
    cluster.wait_all_alive(nodes)
    cluster.wait_all_synced(nodes)
    return hosts, nodes, export


def machine_paths():
    """The LifeKeeper paths on the machine itself (outside every namespace) that exist."""
    return {p for p in ("/opt/LifeKeeper", "/etc/default/LifeKeeper",
                        "/etc/default/LifeKeeper.pl", "/opt/nas") if os.path.lexists(p)}


def test_mount_namespace_holder_binds_inside_only_and_ends(tmp_path):
    """The holder: a bind mount made in it is seen there, not on the machine; close()
    kills it by its pid and the namespace is gone."""
    before = machine_paths()
    h = ch.MountNamespace(tmp_path / "ns").start()
    try:
        src = tmp_path / "src"
        src.mkdir()
        (src / "marker").write_text("inside\n")
        mine = ch.mount_ns_of(os.getpid())
        assert h.ns != mine
        h.bind(src, "/opt")
        assert h.mounts()["/opt"].endswith(str(src)), h.mounts()["/opt"]
        assert h.path("/opt/marker").read_text() == "inside\n"
        assert h.run("cat", "/opt/marker").stdout == "inside\n"
        assert not Path("/opt/marker").exists(), "the bind mount leaked to the machine"
        with open("/proc/self/mountinfo") as f:
            assert str(src) not in f.read()
        # A mount made inside by a command run through enter() stays inside too.
        (src / "sub").mkdir()
        other = tmp_path / "other"
        other.mkdir()
        h.run("mount", "--bind", other, "/opt/sub")
        assert "/opt/sub" in h.mounts()
        pid, ns = h.pid, h.ns
        assert ch.pids_in_mount_ns(ns) == [pid]
    finally:
        problems = h.close()
    assert problems == []
    assert ch.mount_ns_of(pid) is None
    assert ch.pids_in_mount_ns(ns) == []
    assert h.close() == [], "close() twice is nothing"
    assert machine_paths() == before


def test_mount_namespace_close_reports_what_is_left(tmp_path):
    """A process still in the namespace when the holder dies is a problem named by
    close() (the nodes must be stopped first); the test ends it itself."""
    h = ch.MountNamespace(tmp_path / "ns").start()
    straggler = subprocess.Popen(h.enter() + ["sleep", "60"], stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: straggler.pid in ch.pids_in_mount_ns(h.ns)
                 or any(ch.mount_ns_of(p) == h.ns for p in _children(straggler.pid)),
                 what="the straggler inside")
        problems = h.close()
        assert len(problems) == 1 and "still in the mount namespace" in problems[0], problems
    finally:
        straggler.kill()
        straggler.wait(timeout=ch.CMD_TIMEOUT)


def _children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def test_stand_in_mount_bind_mounts_the_export_inside_the_node_namespace(cluster, tmp_path):
    """Two nodes behind the nsenter prefix: each lkd lives in its own namespace, and a
    gen/app resource's `mount -t nfs` (the stand-in, first on the scripts' PATH) is a real
    bind mount there only; a switchover moves it; the namespaces end at teardown."""
    before = machine_paths()
    hosts, (n1, n2), export = lk_cluster(cluster, tmp_path)
    for h, n in zip(hosts, (n1, n2)):
        assert ch.mount_ns_of(n.daemon_pid()) == h.ns.ns, f"lkd of {n.name} is not inside"
        assert h.ns.path("/etc/default/locale").exists() == Path("/etc/default/locale").exists()
    restore = n1.script("#!/bin/sh\nexec mount -t nfs -o rw,hard " + EXPORT + " " + MP + "\n",
                        name="restore")
    remove = n1.script("#!/bin/sh\ngrep -qs ' " + MP + " ' /proc/mounts || exit 0\n"
                       "exec umount " + MP + "\n", name="remove")
    check = n1.script("#!/bin/sh\nexec grep -qs ' " + MP + " ' /proc/mounts\n", name="quickchk")
    n1.create("nas0", restore, remove, "--quickchk", check, "--quickchk-interval", "1")
    wait_for(lambda: n1.state("nas0") == "ISP", what="nas0 ISP on node1")
    assert hosts[0].mounted() and not hosts[1].mounted()
    assert hosts[0].ns.path(MP + "/hello.txt").read_text() == "hello from the NAS\n"
    assert hosts[0].nfs_mounts() == [f"nfs {EXPORT} {MP} rw,hard"]
    with open("/proc/self/mountinfo") as f:
        assert f" {MP} " not in f.read(), "the mount leaked to the machine"

    n1.cli("resource", "extend", "--tag", "nas0", "--node", "node2", "--priority", "10")
    wait_eq(lambda: n2.res_nodes("nas0"), {"node1": "ISP", "node2": "OSU"}, what="extended")
    n1.cli("resource", "restore", "--tag", "nas0", "--node", "node2")
    wait_for(lambda: hosts[1].mounted() and not hosts[0].mounted(), what="the mount on node2")
    assert hosts[1].ns.path(MP + "/hello.txt").read_text() == "hello from the NAS\n"
    # Written through node2's mount, read on the NAS itself.
    hosts[1].ns.path(MP + "/from-node2").write_text("2\n")
    assert (export / "from-node2").read_text() == "2\n"

    # The teardown's order, by hand: daemons and their scripts first, then the holders;
    # nothing is left in either namespace, and the machine never saw any of it.
    for n in (n1, n2):
        assert n.teardown() == []
    for h in hosts:
        ns = h.ns.ns
        assert h.ns.close() == []
        assert ch.pids_in_mount_ns(ns) == []
    assert machine_paths() == before


# ------------------------------------------------------------------ the library alone


STUB_LK = r"""# A stand-in for LK.pm, for the library's own test only: this node is $ENV{STUB_NODE},
# the resource's record holds $ENV{STUB_INFO} as its info, no other system.
package LK;
use strict;
use warnings;
our ($UNKNOWN, $ALIVE, $DEAD) = (0, 1, 2);
sub lcduname { return $ENV{STUB_NODE}; }
sub ins_list {
    my ($dest, $top, $app, $typ, $tag, $id) = @_;
    my @f = ($ENV{STUB_NODE}, 'gen', 'app', $tag, $id, $ENV{STUB_INFO}, 'ISP');
    my $rec = join("\001", @f);
    return wantarray ? ($rec) : $rec;
}
sub eqv_list {
    my ($dest, $sys, $tag) = @_;
    return map { join("\x01", $sys, $tag, $_, $tag, 'SHARED', 1, 10) }
        grep { $_ ne '' } split(/,/, $ENV{STUB_OTHERS} // '');
}
sub sys_getstate { return $ENV{STUB_OTHER_STATE} // $ALIVE; }
1;
"""

# lcdremexec's stand-in for the same test: "the other node" is this namespace.
STUB_LCDREMEXEC = """#!/bin/sh
[ "$1" = -d ] && [ "$3" = -- ] || { echo "usage: lcdremexec -d NODE -- COMMAND" >&2; exit 2; }
node=$2
shift 3
echo "$node $*" >>"${0%/*}/lcdremexec.log"
exec /bin/sh -c "$*"
"""

STUB_ENTRY = r"""# A stand-in for /etc/default/LifeKeeper.pl, for the library's own test only.
unshift(@INC, '{stub}', '{lib}');
1;
"""


def test_okNas_library_runs_with_a_stand_in_LK(tmp_path):
    """The library and its three scripts, unchanged, against a stub LK.pm in a namespace
    of their own: -t/-i parsing, the info field, the stand-in mount, the tunables from
    the environment (mount options, GLOBAL_NAS_APP_SKIP_REMOVE), the exit statuses."""
    if not shutil.which("perl"):
        pytest.skip("perl is not installed")
    stub = tmp_path / "stub"
    stub.mkdir()
    (stub / "LK.pm").write_text(STUB_LK)
    etc_default = tmp_path / "etc-default"
    etc_default.mkdir()
    (etc_default / "LifeKeeper.pl").write_text(
        STUB_ENTRY.replace("{stub}", str(stub)).replace("{lib}", str(LKPERL / "lib")))
    opt = tmp_path / "opt"
    (opt / "LifeKeeper" / "bin").mkdir(parents=True)
    (opt / "LifeKeeper" / "bin" / "perl").symlink_to(shutil.which("perl"))
    (opt / "nas" / "data").mkdir(parents=True)
    sbin = tmp_path / "sbin"
    sbin.mkdir()
    shutil.copy2(LKPERL / "mount", sbin / "mount")
    export = tmp_path / "export"
    export.mkdir()
    (export / "hello.txt").write_text("hi\n")
    (sbin / "nfs-exports").write_text(f"{EXPORT} {export}\n")
    journal = tmp_path / "journal"
    lkroot = tmp_path / "lkroot"
    lkbin = lkroot / "bin"
    h = ch.MountNamespace(tmp_path / "ns").start()
    try:
        h.bind(opt, "/opt")
        h.bind(etc_default, "/etc/default")
        h.bind(sbin, "/usr/local/sbin")

        def run(script, *args, **env):
            e = dict(_clean_env(), PATH="/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
                     STUB_NODE="node1", STUB_INFO=INFO, OKNAS_JOURNAL=str(journal),
                     LKROOT=str(lkroot))
            e.update(env)
            return subprocess.run(h.enter() + [str(LKPERL / script), *args], env=e,
                                  capture_output=True, text=True, timeout=ch.CMD_TIMEOUT,
                                  stdin=subprocess.DEVNULL)

        for s in SCRIPTS:
            p = run(s)
            assert p.returncode == 2 and f"usage: {s} -t TAG -i ID" in p.stderr, p
        p = run("quickCheck", "-t", "nas1", "-i", "id1")
        assert p.returncode == 1, p
        p = run("restore", "-t", "nas1", "-i", "id1", OKNAS_MOUNT_OPTIONS="rw,hard,timeo=600")
        assert p.returncode == 0, p
        assert MP in h.mounts()
        assert h.path(MP + "/hello.txt").read_text() == "hi\n"
        assert (sbin / "mount.log").read_text() == f"nfs {EXPORT} {MP} rw,hard,timeo=600\n"
        assert run("quickCheck", "-t", "nas1", "-i", "id1").returncode == 0
        assert run("restore", "-t", "nas1", "-i", "id1").returncode == 0, "restore twice"
        assert len((sbin / "mount.log").read_text().splitlines()) == 1
        p = run("remove", "-t", "nas1", "-i", "id1", GLOBAL_NAS_APP_SKIP_REMOVE="1")
        assert p.returncode == 0 and MP in h.mounts(), p
        p = run("remove", "-t", "nas1", "-i", "id1", GLOBAL_NAS_APP_SKIP_REMOVE="0")
        assert p.returncode == 0 and MP not in h.mounts(), p
        assert run("quickCheck", "-t", "nas1", "-i", "id1").returncode == 1
        # A bad info field, an export the NAS does not have: refused, nothing mounted.
        p = run("restore", "-t", "nas1", "-i", "id1", STUB_INFO="nas:/export /opt/x; rm -rf /")
        assert p.returncode == 1 and MP not in h.mounts(), p
        p = run("restore", "-t", "nas1", "-i", "id1", STUB_INFO=f"nas:/nope {MP}")
        assert p.returncode == 1 and MP not in h.mounts(), p
        # Another node, alive, still holding the mount (here: this namespace's mount):
        # restore unmounts it "there" through lcdremexec, then mounts it here.
        lkbin.mkdir(parents=True)
        (lkbin / "lcdremexec").write_text(STUB_LCDREMEXEC)
        (lkbin / "lcdremexec").chmod(0o755)
        assert run("restore", "-t", "nas1", "-i", "id1", STUB_INFO=INFO).returncode == 0
        p = run("restore", "-t", "nas1", "-i", "id1", STUB_OTHERS="node2")
        assert p.returncode == 0 and MP in h.mounts(), p
        assert (lkbin / "lcdremexec.log").read_text().splitlines() == [
            f"node2 grep -qs ' {MP} ' /proc/mounts", f"node2 umount {MP}"]
        # The other node not mounted, then dead: asked once, then not at all.
        run("remove", "-t", "nas1", "-i", "id1")
        p = run("restore", "-t", "nas1", "-i", "id1", STUB_OTHERS="node2")
        assert p.returncode == 0 and MP in h.mounts(), p
        run("remove", "-t", "nas1", "-i", "id1")
        p = run("restore", "-t", "nas1", "-i", "id1", STUB_OTHERS="node2",
                STUB_OTHER_STATE="2")
        assert p.returncode == 0 and MP in h.mounts(), p
        assert len((lkbin / "lcdremexec.log").read_text().splitlines()) == 3
        assert run("remove", "-t", "nas1", "-i", "id1").returncode == 0
        assert MP not in h.mounts()
        assert journal.read_text().splitlines() == [
            f"node1 quickCheck nas1 {MP} is not mounted",
            f"node1 restore nas1 mounted {EXPORT} on {MP} (rw,hard,timeo=600)",
            f"node1 restore nas1 {MP} already mounted",
            f"node1 remove nas1 GLOBAL_NAS_APP_SKIP_REMOVE=1: {MP} left mounted",
            f"node1 remove nas1 unmounted {MP}",
            f"node1 quickCheck nas1 {MP} is not mounted",
            'node1 restore nas1 the info field is not "SERVER:/EXPORT MOUNTPOINT"',
            f"node1 restore nas1 mount of nas:/nope on {MP} failed",
            f"node1 restore nas1 mounted {EXPORT} on {MP} (rw,hard)",
            "node1 restore nas1 still mounted on node2: unmounting it there",
            "node1 restore nas1 unmounted on node2 through lcdremexec",
            f"node1 restore nas1 mounted {EXPORT} on {MP} (rw,hard)",
            f"node1 remove nas1 unmounted {MP}",
            "node1 restore nas1 checked node2: not mounted (status 1)",
            f"node1 restore nas1 mounted {EXPORT} on {MP} (rw,hard)",
            f"node1 remove nas1 unmounted {MP}",
            f"node1 restore nas1 mounted {EXPORT} on {MP} (rw,hard)",
            f"node1 remove nas1 unmounted {MP}",
        ]
    finally:
        assert h.close() == []


# ------------------------------------------------------------------ end to end


def lk_env(node):
    """The environment of a LifeKeeper command an administrator runs on node."""
    return dict(_clean_env(), LKROOT=str(node.root))


def lk(node, cmd, *args, check=True):
    """/opt/LifeKeeper/bin/CMD on node, inside its namespace (LifeKeeper's path)."""
    return node.run_in([f"/opt/LifeKeeper/bin/{cmd}", *args], check=check, env=lk_env(node))


def tunables_text(node):
    """The node's tunables file as lkd wrote it, or "" while there is none."""
    try:
        return (node.root / "etc" / "default" / "LifeKeeper").read_text(errors="replace")
    except FileNotFoundError:
        return ""


TUNABLE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*?)\s*$")


def tunables(node):
    """{KEY: VALUE} of the node's tunables file, read as LifeKeeper's file is (comments,
    `export `, one level of quotes)."""
    out = {}
    for line in tunables_text(node).splitlines():
        m = TUNABLE.match(line)
        if m:
            v = m.group(2)
            if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
                v = v[1:-1]
            out[m.group(1)] = v
    return out


def set_tunables(nodes, *pairs):
    """lkcli cluster tunables --set on the first node; waits until every node has them."""
    args = []
    for pair in pairs:
        args += ["--set", pair]
    nodes[0].cli("cluster", "tunables", *args)
    want = dict(p.split("=", 1) for p in pairs)
    for n in nodes:
        wait_for(lambda n=n: all(tunables(n).get(k) == v for k, v in want.items()),
                 what=f"the tunables {want} on {n.name}")


def journal_lines(journal):
    try:
        return journal.read_text().splitlines()
    except FileNotFoundError:
        return []


def lifekeeper_world(cluster, tmp_path):
    """The two nodes, lifekeeper-setup run in each namespace, the tunables, remote-exec
    on, the library installed as SIOS's update script does (cp here, lcdrcp there), and
    nas1 created in service on node1 with --script-args lifekeeper and extended to node2.
    Returns (hosts, nodes, journal)."""
    before = machine_paths()
    hosts, (n1, n2), export = lk_cluster(cluster, tmp_path)
    for h, n in zip(hosts, (n1, n2)):
        if not (n.root / "lib" / "perl" / "LK.pm").exists():
            pytest.skip(f"waits for: A: lkd did not install {n.root}/lib/perl/LK.pm")
        p = n.cli_in("lifekeeper-setup")
        # Seen from inside the namespace (its symlinks resolve there as lkd's scripts see
        # them), never from outside.
        for path in ("/opt/LifeKeeper/bin/perl", "/etc/default/LifeKeeper.pl",
                     "/opt/LifeKeeper/lib/perl/LK.pm", "/opt/LifeKeeper/bin/lcdremexec",
                     "/opt/LifeKeeper/bin/ins_list", LIB_DIR, LK_ACTIONS):
            assert h.ns.run("test", "-e", path, check=False).returncode == 0, \
                f"{path} missing in {n.name}'s namespace after lifekeeper-setup:\n{p.stdout}"
        again = n.cli_in("lifekeeper-setup")  # idempotent
        assert again.returncode == 0, again
    assert machine_paths() == before, "lifekeeper-setup inside a namespace touched the machine"

    journal = tmp_path / "okNas.journal"
    set_tunables((n1, n2), "GLOBAL_NAS_APP_SKIP_REMOVE=0", f"OKNAS_JOURNAL={journal}",
                 "OKNAS_MOUNT_OPTIONS=rw,hard,timeo=600")
    # /etc/default/LifeKeeper, LifeKeeper's name, is the cluster's tunables on each node.
    for h in hosts:
        assert h.ns.run("grep", "-q", "OKNAS_JOURNAL", "/etc/default/LifeKeeper",
                        check=False).returncode == 0
    n1.cli("cluster", "config", "--remote-exec", "on")
    # The scenario fails over twice (a failed quickCheck, then a crash): more than the
    # default budget of nodes - 1 failovers in 6 h allows.
    n1.cli("cluster", "config", "--max-failovers", "4")
    for n in (n1, n2):
        wait_for(lambda n=n: n.settings().get("remote-exec") == "on"
                 and str(n.settings().get("max-failovers")) == "4",
                 what=f"remote-exec on and max-failovers 4 at {n.name}")

    # The library: copied here, then to node2 with lcdrcp, as SIOS's update script does
    # (to LifeKeeper's path: on node2 it resolves through lifekeeper-setup's symlink).
    n1.run_in(["cp", LKPERL / "lib" / "okNas.pm", f"{LIB_DIR}/okNas.pm"], check=True)
    lk(n1, "lcdrcp", LKPERL / "lib" / "okNas.pm", f"node2:{LIB_DIR}/")
    assert (n2.root / "lkadm" / "subsys" / "gen" / "app" / "lib" / "okNas.pm").read_bytes() \
        == (LKPERL / "lib" / "okNas.pm").read_bytes()

    n1.cli("resource", "create", "gen", "--tag", "nas1", "--id", "nas1-id",
           "--restore", LKPERL / "restore", "--remove", LKPERL / "remove",
           "--quickchk", LKPERL / "quickCheck", "--quickchk-interval", "1",
           "--app-info", INFO, "--script-args", "lifekeeper", "--local-recovery", "off")
    wait_for(lambda: n1.state("nas1") == "ISP", what="nas1 ISP on node1")
    n1.cli("resource", "extend", "--tag", "nas1", "--node", "node2", "--priority", "10")
    for n in (n1, n2):
        wait_eq(lambda n=n: n.res_nodes("nas1"), {"node1": "ISP", "node2": "OSU"},
                what=f"{n.name}'s view of nas1 after extend")
    return hosts, (n1, n2), journal


def test_lifekeeper_nas_library_switchover_quickcheck_and_failover(cluster, tmp_path):
    """The scenario: restore mounts on node1 (the tunables' options, -t/-i, the info
    through LK::ins_list); switchover to node2 with GLOBAL_NAS_APP_SKIP_REMOVE=0 (node1's
    remove unmounts; node2's restore asks node1 through lcdremexec); back with it 1 (node2's
    remove leaves the mount; node1's restore unmounts it on node2 through lcdremexec); a
    broken mount found by quickCheck fails over; a killed node fails over."""
    skip_unless("A", "B", "C", "E")
    hosts, (n1, n2), journal = lifekeeper_world(cluster, tmp_path)
    h1, h2 = hosts
    assert h1.mounted() and not h2.mounted()
    assert h1.nfs_mounts() == [f"nfs {EXPORT} {MP} rw,hard,timeo=600"]
    assert f"node1 restore nas1 mounted {EXPORT} on {MP} (rw,hard,timeo=600)" \
        in journal_lines(journal)
    assert h1.ns.path(MP + "/hello.txt").read_text() == "hello from the NAS\n"

    # Switchover to node2: node1 unmounts (the tunable says remove does).
    n1.cli("resource", "restore", "--tag", "nas1", "--node", "node2")
    wait_for(lambda: h2.mounted() and not h1.mounted(), what="nas1 mounted on node2 only")
    lines = journal_lines(journal)
    assert f"node1 remove nas1 unmounted {MP}" in lines, lines
    assert "node2 restore nas1 checked node1: not mounted (status 1)" in lines, lines

    # GLOBAL_NAS_APP_SKIP_REMOVE=1, back to node1: node2 leaves the mount, node1's restore
    # unmounts it there through lcdremexec before mounting here.
    set_tunables((n1, n2), "GLOBAL_NAS_APP_SKIP_REMOVE=1")
    n1.cli("resource", "restore", "--tag", "nas1", "--node", "node1")
    wait_for(lambda: h1.mounted() and not h2.mounted(), what="nas1 mounted on node1 only")
    lines = journal_lines(journal)
    assert f"node2 remove nas1 GLOBAL_NAS_APP_SKIP_REMOVE=1: {MP} left mounted" in lines, lines
    assert "node1 restore nas1 still mounted on node2: unmounting it there" in lines, lines
    assert "node1 restore nas1 unmounted on node2 through lcdremexec" in lines, lines
    set_tunables((n1, n2), "GLOBAL_NAS_APP_SKIP_REMOVE=0")

    # quickCheck: the mount taken away behind lkd's back fails the check; no recover
    # script, local recovery off: nas1 fails over to node2.
    h1.ns.run("umount", MP)
    wait_for(lambda: n2.state("nas1") == "ISP" and h2.mounted(), timeout=60,
             what="nas1 failed over to node2 after quickCheck failed")
    assert any("quickchk" in e["message"] for e in n1.events(1500)), "no 1500 on node1"
    assert f"node1 quickCheck nas1 {MP} is not mounted" in journal_lines(journal)

    # A crash of node2: node1 takes nas1 over (the library does not ask a dead node).
    n2.kill9_all()
    wait_for(lambda: n1.state("nas1") == "ISP" and h1.mounted(), timeout=60,
             what="nas1 failed over to node1 after node2 died")


def test_lifekeeper_update_script_by_the_restore_path(cluster, tmp_path):
    """SIOS's update script, unchanged in its steps: ins_setstate OSU (the mount left as it
    is), `cp -vf` over `!restore/TAG` here, a check and an lcdrcp there, ins_setinfo here
    and on node2, ins_setstate ISP; the new restore is the copy on both nodes and runs at
    the next switchover."""
    skip_unless("A", "B", "C", "D", "E")
    hosts, (n1, n2), journal = lifekeeper_world(cluster, tmp_path)
    h1, h2 = hosts
    lk_restore = f"{LK_ACTIONS}/!restore/nas1"
    if not h1.ns.path(lk_restore).exists():
        pytest.skip(f"waits for: F: {lk_restore} was not written")
    new = (LKPERL / "restore").read_text().replace(
        "exit okNas::restore(", "okNas::journal('restore', $opt_t, 'v2');\nexit okNas::restore(")
    assert new != (LKPERL / "restore").read_text()
    v2 = tmp_path / "restore.v2"
    v2.write_text(new)
    v2.chmod(0o755)

    lk(n1, "ins_setstate", "-t", "nas1", "-S", "OSU", "-R", "updating the scripts")
    wait_for(lambda: n1.state("nas1") == "OSU", what="nas1 OSU by ins_setstate")
    assert h1.mounted(), "ins_setstate OSU must leave the application as it is"
    n1.run_in(["cp", "-vf", v2, lk_restore], check=True)
    assert lk(n1, "lcdremexec", "-d", "node2", "--", f"[ -f {lk_restore} ]",
              check=False).returncode == 0
    lk(n1, "lcdrcp", v2, f"node2:{lk_restore}")
    lk(n1, "ins_setinfo", "-t", "nas1", "-v", INFO)
    lk(n1, "ins_setinfo", "-d", "node2", "-t", "nas1", "-v", INFO)
    lk(n1, "ins_setstate", "-t", "nas1", "-S", "ISP", "-R", "scripts updated")
    wait_for(lambda: n1.state("nas1") == "ISP", what="nas1 ISP by ins_setstate")
    for n in (n1, n2):
        wait_for(lambda n=n: n.script_copy("restore", "nas1").read_bytes() == new.encode(),
                 what=f"the new restore copy on {n.name}")
    n1.cli("resource", "restore", "--tag", "nas1", "--node", "node2")
    wait_for(lambda: h2.mounted() and not h1.mounted(), what="nas1 on node2")
    assert "node2 restore nas1 v2" in journal_lines(journal)
