"""The multi-node harness for the cluster scenario tests (docs/CLUSTER.md, SPEC §5).

A Cluster is a set of ClusterNodes (each a conftest.Node: its own root, daemon and
commands) that share one cluster key, optionally each in its own network namespace with
veth links between them, plus an Observer: a thread that samples /proc every ~20 ms and
records, for every ClusterApp, the set of nodes on which the application runs. At
teardown the harness fails the test if an application ever ran on two nodes at once
outside a window the test declared with `with cluster.fencing_window(): ...` (the
documented cases where two copies may briefly exist: a frozen owner whose peer took over,
a partition with quorum none on both sides).

A ClusterApp's scripts are replicated to every node, so the application's process name
carries the node: restore starts `okapp:<MARKER>:<LK_NODE>` (a `sleep`, renamed with
`exec -a`) in its own session and keeps its pid in $LKROOT/okapp-<TAG>.pid; quickchk
checks that pid; remove kills it and waits until it is gone. Every run of restore and
remove also appends "<action> <tag> <node>" to a shared journal (the order of actions
across the cluster). A file $LKROOT/okapp-<TAG>.fail makes restore fail on that node.

Teardown (Cluster.teardown, called by the `cluster` fixture even on failure): stops the
observer, stops every daemon (lkstop -f, then SIGKILL; SIGCONT first if it was stopped),
kills every process left by the nodes' scripts (root path or LKROOT in the environment,
or an app marker), ends the private mount namespaces it made (MountNamespace: the holder
killed by its pid, then nothing may be left in the namespace), deletes the network
namespaces it created, and reports sanitizer findings and double-running applications.

A node may run behind a prefix (add_node(prefix=...)): argv words put before lkstart, e.g.
`nsenter -t HOLDER -m --` so that its lkd, and every script lkd runs, live in a private
mount namespace of the test's (cluster.mount_namespace) where /opt/LifeKeeper and
/etc/default exist for that node only. run_in and cli_in run a command behind the prefix.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import lkapp
from ports import free_port  # noqa: F401 (the tests take it from here)

CMD_TIMEOUT = 60
HB_MS = 200
HB_MISSES = 3


def app_nodes(marker):
    """{node: [pids]} of the live processes of the app with this marker."""
    prefix = f"okapp:{marker}:"
    out = {}
    for pid, argv in lkapp.proc_cmdlines().items():
        if argv and argv[0].startswith(prefix):
            out.setdefault(argv[0][len(prefix):], []).append(pid)
    return out


def wait_for(predicate, timeout=30, interval=0.05, what=None):
    """Polls predicate until it returns something truthy; returns that, or fails."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for "
                                 f"{what or predicate}; last value: {last!r}")
        time.sleep(interval)


def wait_eq(getter, expected, timeout=30, interval=0.05, what=None):
    """Polls getter() until it equals expected; fails showing the last value."""
    deadline = time.monotonic() + timeout
    while True:
        last = getter()
        if last == expected:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for "
                                 f"{what or getter} == {expected!r}; last value: {last!r}")
        time.sleep(interval)


def holds(predicate, duration, interval=0.05, what=None):
    """Asserts predicate stays truthy for duration seconds."""
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        v = predicate()
        assert v, f"{what or predicate} stopped holding: {v!r}"
        time.sleep(interval)


# ---------------------------------------------------------------------- the application


def fence_hook(tmp_path, status=1):
    """A fence script that logs "<fenced node> <node running it>" to fence_log and exits
    with the number in control (status at first): root-owned, 0755, in a fresh 0755
    directory (tmp_path is 0755, its parents root's 0700 pytest directories: nobody else
    can change it). Returns (script, fence_log, control)."""
    fdir = tempfile.mkdtemp(prefix="fence-", dir=tmp_path)
    os.chmod(fdir, 0o755)
    fence_log = os.path.join(fdir, "fence.log")
    control = os.path.join(fdir, "control")
    with open(control, "w") as f:
        f.write(f"{status}\n")
    script = lkapp.write_script(os.path.join(fdir, "fence.sh"), f"""\
#!/bin/bash
echo "$LK_FENCE_NODE $LK_NODE" >> {fence_log}
exit "$(cat {control})"
""", 0o755)
    return script, fence_log, control


class ClusterApp:
    """A protected application whose process name tells on which node it runs."""

    def __init__(self, cluster, tag, quickchk=True, restore_delay=0):
        self.cluster = cluster
        self.tag = tag
        self.marker = lkapp.new_marker()
        self.dir = cluster.work / f"app-{tag}"
        self.dir.mkdir(parents=True, exist_ok=True)
        journal = cluster.journal
        m = self.marker
        pf = f'"$LKROOT/okapp-{tag}.pid"'
        running = (f'[ -s {pf} ] && grep -q "okapp:{m}:" /proc/$(cat {pf})/cmdline '
                   f'2>/dev/null')
        delay = f"sleep {restore_delay}\n" if restore_delay else ""
        self.restore = lkapp.write_script(self.dir / "restore", f"""\
#!/bin/bash
# restore of {tag}: starts okapp:{m}:$LK_NODE in its own session (idempotent)
echo "restore {tag} $LK_NODE" >> {journal}
{delay}if [ -e "$LKROOT/okapp-{tag}.fail" ]; then
    echo "{tag}: restore refused on $LK_NODE (fail file)"
    exit 1
fi
exec 9> "$LKROOT/okapp-{tag}.lock"
flock 9
if {running}; then
    echo "{tag} already runs on $LK_NODE (pid $(cat {pf}))"
    exit 0
fi
setsid bash -c 'exec -a "okapp:{m}:$LK_NODE" sleep 99999999' </dev/null >/dev/null 2>&1 9>&- &
pid=$!
echo $pid > {pf}
i=0
while ! grep -q "okapp:{m}:" /proc/$pid/cmdline 2>/dev/null && [ $i -lt 300 ]; do
    sleep 0.01; i=$((i + 1))
done
echo "{tag} started on $LK_NODE (pid $pid)"
exit 0
""")
        self.remove = lkapp.write_script(self.dir / "remove", f"""\
#!/bin/bash
# remove of {tag}: kills okapp:{m}:$LK_NODE and waits until it is gone
echo "remove {tag} $LK_NODE" >> {journal}
if [ -s {pf} ]; then
    pid=$(cat {pf})
    grep -q "okapp:{m}:" /proc/$pid/cmdline 2>/dev/null && kill $pid
    i=0
    while grep -q "okapp:{m}:" /proc/$pid/cmdline 2>/dev/null && [ $i -lt 400 ]; do
        sleep 0.025; i=$((i + 1))
    done
    if grep -q "okapp:{m}:" /proc/$pid/cmdline 2>/dev/null; then
        echo "{tag} does not stop"; exit 1
    fi
    rm -f {pf}
fi
echo "{tag} stopped on $LK_NODE"
exit 0
""")
        self.quickchk = None
        if quickchk:
            self.quickchk = lkapp.write_script(self.dir / "quickchk", f"""\
#!/bin/bash
# quickchk of {tag} (a zombie has an empty cmdline: dead)
if {running}; then
    exit 0
fi
echo "{tag} does not run on $LK_NODE"
exit 1
""")
        cluster.observer.watch(self)

    def create_args(self):
        args = ["--tag", self.tag, "--restore", str(self.restore), "--remove", str(self.remove)]
        if self.quickchk:
            args += ["--quickchk", str(self.quickchk)]
        return args

    def nodes(self):
        """{node: [pids]} where the application runs now."""
        return app_nodes(self.marker)

    def running_on(self):
        """The sorted list of nodes where it runs now."""
        return sorted(self.nodes())

    def runs_only_on(self, node):
        """True when it runs on exactly node (a name or a ClusterNode), once."""
        name = getattr(node, "name", node)
        n = self.nodes()
        return list(n) == [name] and len(n[name]) == 1

    def fail_on(self, node, fail=True):
        """Makes restore fail (or work again) on node."""
        f = Path(node.root) / f"okapp-{self.tag}.fail"
        if fail:
            f.write_text("fail\n")
        else:
            f.unlink(missing_ok=True)


# ---------------------------------------------------------------------- the observer


class Observer(threading.Thread):
    """Samples /proc every ~20 ms; records where each watched app runs, and every moment
    it ran on two nodes at once (allowed inside a declared fencing window)."""

    def __init__(self, interval=0.02):
        super().__init__(daemon=True, name="okapp-observer")
        self.interval = interval
        self.apps = {}  # marker -> tag
        self.lock = threading.Lock()
        self.window_depth = 0
        self.windows = []  # (start, end) monotonic
        self.history = {}  # marker -> [(t, tuple(nodes))] at every change
        self.violations = []  # (t, tag, nodes)
        self.allowed_doubles = []  # (t, tag, nodes) inside a window
        self.samples = 0
        self._stop_event = threading.Event()
        self.error = None

    def watch(self, app):
        with self.lock:
            self.apps[app.marker] = app.tag
            self.history.setdefault(app.marker, [(time.monotonic(), ())])

    def in_window(self):
        with self.lock:
            return self.window_depth > 0

    @contextlib.contextmanager
    def window(self):
        with self.lock:
            self.window_depth += 1
            start = time.monotonic()
        try:
            yield
        finally:
            # One more sample inside the window, so what was true at its end is judged in it.
            self.sample()
            with self.lock:
                self.window_depth -= 1
                self.windows.append((start, time.monotonic()))

    def sample(self):
        with self.lock:
            markers = dict(self.apps)
            window_before = self.window_depth > 0
        if not markers:
            return
        seen = {m: set() for m in markers}
        for pid, argv in lkapp.proc_cmdlines().items():
            a0 = argv[0] if argv else ""
            if not a0.startswith("okapp:"):
                continue
            parts = a0.split(":", 2)
            if len(parts) == 3 and parts[1] in seen:
                seen[parts[1]].add(parts[2])
        now = time.monotonic()
        with self.lock:
            allowed = window_before or self.window_depth > 0
            self.samples += 1
            for m, nodes in seen.items():
                cur = tuple(sorted(nodes))
                hist = self.history.setdefault(m, [(now, ())])
                if hist[-1][1] != cur:
                    hist.append((now, cur))
                if len(cur) > 1:
                    (self.allowed_doubles if allowed else self.violations).append(
                        (now, markers[m], cur))

    def run(self):
        try:
            while not self._stop_event.is_set():
                self.sample()
                self._stop_event.wait(self.interval)
        except Exception as e:  # noqa: BLE001 - reported at teardown
            self.error = repr(e)

    def stop(self):
        self._stop_event.set()
        self.join(timeout=10)

    def ever_ran_on(self, app, node):
        name = getattr(node, "name", node)
        with self.lock:
            return any(name in nodes for _, nodes in self.history.get(app.marker, []))

    def report(self, t0):
        """Teardown problems: double runs outside fencing windows."""
        problems = []
        if self.error:
            problems.append(f"observer failed: {self.error}")
        if self.violations:
            first = self.violations[0]
            by_tag = {}
            for t, tag, nodes in self.violations:
                by_tag.setdefault(tag, []).append((t, nodes))
            lines = [f"  {tag}: {len(v)} samples, first at +{v[0][0] - t0:.2f} s on {v[0][1]}, "
                     f"last at +{v[-1][0] - t0:.2f} s" for tag, v in by_tag.items()]
            problems.append("an application ran on two nodes at once outside a fencing window "
                            f"(first: {first[1]} on {first[2]}):\n" + "\n".join(lines))
        return problems


# ---------------------------------------------------------------------- nodes


def make_node_class(Node):
    """ClusterNode, derived from conftest's Node (passed in to avoid a circular import)."""

    class ClusterNode(Node):
        def __init__(self, cluster, name, address, port, netns=None, witness=False,
                     prefix=None):
            super().__init__(cluster.tmp_path, name)
            self.cluster = cluster
            self.address = address  # where peers reach it
            self.port = port
            self.netns = netns
            # argv words put before lkstart (and before `ip netns exec`): e.g. a
            # MountNamespace's enter(), so lkd and every script it runs live in it.
            self.prefix = list(prefix or [])
            self.witness = witness
            self.listen = f"{'0.0.0.0' if netns else address}:{port}"
            self.stopped_pid = None  # SIGSTOPped daemon

        @property
        def addr(self):
            return f"{self.address}:{self.port}"

        def start(self, check=True, extra=()):
            argv = [self.bin("lkstart"), "--root", self.root, "--node", self.name,
                    "--listen", self.listen]
            first = self.cluster.key_node
            if first is not None and first is not self:
                argv += ["--authkey", first.root / "etc" / "authkey"]
            if self.witness:
                argv.append("--witness")
            if not self.guard:
                argv.append("--no-guard")
            argv += list(extra)
            if self.netns:
                argv = ["ip", "netns", "exec", self.netns] + argv
            argv = self.prefix + argv
            p = self.run(argv, check=check)
            if self.cluster.key_node is None and p.returncode == 0:
                self.cluster.key_node = self
            return p

        def run_in(self, argv, check=False, timeout=CMD_TIMEOUT, env=None):
            """Runs argv where this node's lkd runs (behind its prefix)."""
            return self.run(self.prefix + [str(a) for a in argv], check=check, timeout=timeout,
                            env=env)

        def cli_in(self, *args, check=True, timeout=CMD_TIMEOUT):
            """lkcli behind the node's prefix (what needs the node's mount namespace)."""
            return self.run_in([self.bin("lkcli"), "--root", self.root] + list(args),
                               check=check, timeout=timeout)

        # --- cluster views
        def node_list(self):
            return self.cli_json("node", "list")

        def peer_state(self, peer):
            name = getattr(peer, "name", peer)
            for n in self.node_list()["nodes"]:
                if n["name"] == name:
                    return n["state"]
            return None

        def commpaths(self):
            return self.cli_json("commpath", "list")

        def settings(self):
            return self.cli_json("cluster", "config")["settings"]

        def res_nodes(self, tag):
            """{node: state} of tag as this node sees it (status "nodes")."""
            r = self.resource(tag)
            if not r:
                return {}
            return {n["node"]: n["state"] for n in r.get("nodes", [])}

        def events(self, number=None, tag=None):
            ev = self.log_events(tag=tag)
            if number is not None:
                ev = [e for e in ev if e["number"] == number]
            return ev

        def has_event(self, number, text=None):
            return any(text is None or text in e["message"] for e in self.events(number))

        def log_text(self, n=300):
            p = self.cli("log", "-n", str(n), check=False, timeout=20)
            if p.returncode != 0:
                try:
                    return (self.root / "log" / "lk.log").read_text(errors="replace")[-20000:]
                except OSError:
                    return f"(no log: {p.stderr.strip()})"
            return p.stdout

        # --- killing
        def script_pids(self):
            """Pids of every process this node's scripts started (LKROOT in the
            environment, the root on the command line, or an app marker with this node)."""
            me = os.getpid()
            root = str(self.root)
            env_key = f"LKROOT={root}".encode()
            markers = list(self.cluster.observer.apps)
            daemon = self.daemon_pid()
            found = []
            for pid, argv in lkapp.proc_cmdlines().items():
                if pid in (me, daemon):
                    continue
                a0 = argv[0] if argv else ""
                hit = any(a0 == f"okapp:{m}:{self.name}" for m in markers)
                if not hit and argv and "lkd" not in a0:
                    hit = root in " ".join(argv)
                if not hit:
                    try:
                        with open(f"/proc/{pid}/environ", "rb") as f:
                            hit = env_key in f.read().split(b"\0")
                    except OSError:
                        pass
                if hit:
                    found.append(pid)
            return found

        def kill9_all(self):
            """SIGKILL of the daemon and of every process its scripts started: the node
            crashed."""
            pid = self.daemon_pid()
            assert pid and lkapp.pid_alive(pid), f"lkd of {self.name} is not running"
            # A crash ends the daemon and its applications at the same moment. A scan of
            # /proc can take longer on a loaded machine than a peer takes to see the
            # connection close and start its copy: the processes are found first, then
            # killed together with the daemon; the loop below ends any that came later.
            doomed = self.script_pids()
            os.kill(pid, signal.SIGKILL)
            for p in doomed:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            for _ in range(40):
                pids = self.script_pids()
                if not pids:
                    break
                for p in pids:
                    try:
                        os.kill(p, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                time.sleep(0.05)
            wait_for(lambda: not lkapp.pid_alive(pid), what=f"lkd of {self.name} to die")
            wait_for(lambda: not self.script_pids(), what=f"{self.name}'s processes to die")

        def sigstop(self):
            pid = self.daemon_pid()
            assert pid and lkapp.pid_alive(pid)
            os.kill(pid, signal.SIGSTOP)
            self.stopped_pid = pid

        def sigcont(self):
            if self.stopped_pid:
                try:
                    os.kill(self.stopped_pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
                self.stopped_pid = None

        def _leftovers(self):
            found = set(super()._leftovers())
            prefixes = tuple(f"okapp:{m}:{self.name}" for m in self.cluster.observer.apps)
            for pid, argv in lkapp.proc_cmdlines().items():
                if argv and argv[0] in prefixes:
                    found.add(pid)
            return sorted(found)

        def teardown(self):
            self.sigcont()
            return super().teardown()

    return ClusterNode


# ---------------------------------------------------------------------- the cluster


class Cluster:
    def __init__(self, tmp_path, node_class, request=None):
        self.tmp_path = Path(tmp_path)
        self.work = self.tmp_path / "cluster-work"
        self.work.mkdir(parents=True, exist_ok=True)
        self.journal = self.work / "journal"
        self.journal.touch()
        self.Node = make_node_class(node_class)
        self.nodes = []
        self.key_node = None
        self.namespaces = []
        self.links = {}  # frozenset(names) -> (ns_a, dev_a, ns_b, dev_b)
        self.observer = Observer()
        self.observer.start()
        self.t0 = time.monotonic()
        self.request = request
        self.holders = []  # MountNamespaces, ended after the nodes at teardown

    # --- building
    def add_node(self, name, netns=None, address="127.0.0.1", port=None, witness=False,
                 prefix=None):
        n = self.Node(self, name, address, port or free_port(), netns=netns, witness=witness,
                      prefix=prefix)
        self.nodes.append(n)
        return n

    def mount_namespace(self, name):
        """A private mount namespace (MountNamespace) ended at teardown, after the nodes
        whose lkd runs in it."""
        h = MountNamespace(self.work / f"mntns-{name}")
        self.holders.append(h)
        h.start()
        return h

    def add_nodes(self, count, prefix="node"):
        return [self.add_node(f"{prefix}{len(self.nodes) + 1}") for _ in range(count)]

    def node(self, name):
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def members(self):
        return [n for n in self.nodes if not n.witness]

    def connect(self, a, b, addr_of_b=None):
        """Comm paths both ways between a and b."""
        a.cli("commpath", "create", "--node", b.name, "--address", addr_of_b or b.addr)
        b.cli("commpath", "create", "--node", a.name, "--address", a.addr if not a.netns
              else self._link_addr(b, a))

    def _link_addr(self, frm, to):
        """The address of `to` on the veth link between frm and to."""
        return f"{self.links[frozenset((frm.name, to.name))]['addr'][to.name]}:{to.port}"

    def build(self, count=2, heartbeat_ms=HB_MS, misses=HB_MISSES, netns=False, start=True,
              guard=False, **settings):
        """count started nodes, fully meshed, with the given heartbeat; returns them.
        guard: each node runs with its lkguard."""
        names = [f"node{i + 1}" for i in range(count)]
        if netns:
            nodes = self.make_mesh(names)
        else:
            nodes = [self.add_node(n) for n in names]
        for n in nodes:
            n.guard = guard
        if not start:
            return nodes
        for n in nodes:
            n.start()
        self.mesh(nodes)
        self.configure(nodes, heartbeat_ms=heartbeat_ms, misses=misses, **settings)
        self.wait_all_alive(nodes)
        self.wait_all_synced(nodes)
        return nodes

    def mesh(self, nodes):
        for i, a in enumerate(nodes):
            for b in nodes[i + 1:]:
                if a.netns:
                    self.connect(a, b, self._link_addr(a, b))
                else:
                    self.connect(a, b)

    def configure(self, nodes=None, heartbeat_ms=None, misses=None, **settings):
        """lkcli cluster config on the first node; waits until every node shows it."""
        nodes = nodes or self.members()
        args = []
        want = {}
        if heartbeat_ms is not None:
            args += ["--heartbeat-interval-ms", str(heartbeat_ms)]
            want["heartbeat-interval-ms"] = str(heartbeat_ms)
        if misses is not None:
            args += ["--heartbeat-misses", str(misses)]
            want["heartbeat-misses"] = str(misses)
        for k, v in settings.items():
            key = k.replace("_", "-")
            args += [f"--{key}", str(v)]
            want[key] = str(v)
        if not args:
            return
        self.wait_all_alive(nodes)
        nodes[0].cli("cluster", "config", *args)
        for n in nodes:
            wait_for(lambda n=n: all(n.settings().get(k) == v for k, v in want.items()),
                     what=f"{n.name} to have the cluster settings {want}")

    def wait_all_alive(self, nodes=None, timeout=30):
        nodes = nodes or self.members()
        for n in nodes:
            for p in nodes:
                if p is n:
                    continue
                wait_for(lambda n=n, p=p: n.peer_state(p) == "ALIVE", timeout=timeout,
                         what=f"{n.name} to see {p.name} ALIVE")

    def wait_all_synced(self, nodes=None, timeout=30):
        """Until every node has every other's data, states and view of the members (node
        list: synced): before that a restore is refused ("has just come back")."""
        nodes = nodes or self.members()
        names = {n.name for n in nodes}

        def synced(n):
            peers = [e for e in n.node_list()["nodes"] if e["name"] in names and not e["self"]]
            return len(peers) == len(nodes) - 1 and all(e["synced"] for e in peers)

        for n in nodes:
            wait_for(lambda n=n: synced(n), timeout=timeout,
                     what=f"{n.name} to have every other node's data and state")

    def wait_dead(self, observer_nodes, dead, timeout=30):
        for n in observer_nodes:
            wait_for(lambda n=n: n.peer_state(dead) == "DEAD", timeout=timeout,
                     what=f"{n.name} to see {dead.name} DEAD")

    # --- namespaces
    def _ns_name(self):
        self._ns_seq = getattr(self, "_ns_seq", 0) + 1
        return f"okt-{os.getpid()}-{len(self.namespaces) + 1}-{self._ns_seq}"

    def ip(self, *args, ns=None, check=True):
        argv = ["ip"] + ([ "-n", ns] if ns else []) + [str(a) for a in args]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=CMD_TIMEOUT)
        if check and p.returncode != 0:
            raise AssertionError(f"{argv} exited {p.returncode}: {p.stderr.strip()}")
        return p

    def make_mesh(self, names, port=7400, net=77):
        """One network namespace per node, a veth pair (/30) between every two; returns
        the (not started) nodes, listening on 0.0.0.0:port inside their namespace."""
        nss = {}
        for name in names:
            ns = self._ns_name()
            self.ip("netns", "add", ns)
            self.namespaces.append(ns)
            self.ip("link", "set", "lo", "up", ns=ns)
            nss[name] = ns
        link_no = 0
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                link_no += 1
                base = 4 * link_no
                addr_a = f"10.{net}.{os.getpid() % 250}.{base + 1}"
                addr_b = f"10.{net}.{os.getpid() % 250}.{base + 2}"
                dev_a, dev_b = f"ok{i}{names.index(b)}a", f"ok{i}{names.index(b)}b"
                self.ip("link", "add", dev_a, "netns", nss[a], "type", "veth", "peer", "name",
                        dev_b, "netns", nss[b])
                self.ip("addr", "add", f"{addr_a}/30", "dev", dev_a, ns=nss[a])
                self.ip("addr", "add", f"{addr_b}/30", "dev", dev_b, ns=nss[b])
                self.ip("link", "set", dev_a, "up", ns=nss[a])
                self.ip("link", "set", dev_b, "up", ns=nss[b])
                self.links[frozenset((a, b))] = {
                    "addr": {a: addr_a, b: addr_b},
                    "dev": {a: (nss[a], dev_a), b: (nss[b], dev_b)},
                }
        nodes = []
        for name in names:
            # The address peers use depends on the link: _link_addr; address is a label.
            nodes.append(self.add_node(name, netns=nss[name], address="0.0.0.0", port=port))
        return nodes

    def set_link(self, a, b, up):
        link = self.links[frozenset((getattr(a, "name", a), getattr(b, "name", b)))]
        for ns, dev in link["dev"].values():
            self.ip("link", "set", dev, "up" if up else "down", ns=ns)

    def cut(self, a, b):
        self.set_link(a, b, False)

    def heal(self, a, b):
        self.set_link(a, b, True)

    # --- the fencing window
    @contextlib.contextmanager
    def fencing_window(self):
        """Declares the documented window in which two copies may run at once."""
        with self.observer.window():
            yield

    def app(self, tag, **kwargs):
        return ClusterApp(self, tag, **kwargs)

    def journal_lines(self):
        return self.journal.read_text().splitlines()

    def logs(self):
        """Every node's event log, for failure messages."""
        out = []
        for n in self.nodes:
            try:
                out.append(f"---- {n.name} ----\n{n.log_text()}")
            except Exception as e:  # noqa: BLE001
                out.append(f"---- {n.name}: cannot read log: {e!r}")
        return "\n".join(out)

    # --- teardown
    def teardown(self):
        problems = []
        self.observer.sample()
        self.observer.stop()
        problems += self.observer.report(self.t0)
        if problems:
            problems.append("event logs:\n" + self.logs())
        for n in self.nodes:
            n.sigcont()
        for n in self.nodes:
            try:
                problems += n.teardown()
            except Exception as e:  # noqa: BLE001
                problems.append(f"teardown of {n.name} failed: {e!r}")
        for h in self.holders:
            problems += h.close()
        for ns in self.namespaces:
            p = subprocess.run(["ip", "netns", "del", ns], capture_output=True, text=True,
                               timeout=CMD_TIMEOUT)
            if p.returncode != 0:
                problems.append(f"ip netns del {ns}: {p.stderr.strip()}")
        return problems


# ------------------------------------------------------------ private mount namespaces


def mount_ns_of(pid):
    """The mount namespace of pid ("mnt:[N]"), or None when it is gone."""
    try:
        return os.readlink(f"/proc/{pid}/ns/mnt")
    except OSError:
        return None


def pids_in_mount_ns(ns):
    """Pids of the live processes whose mount namespace is ns."""
    found = []
    for d in os.listdir("/proc"):
        if d.isdigit() and mount_ns_of(d) == ns:
            found.append(int(d))
    return found


def mount_namespaces_usable():
    """None when this test can make private mount namespaces, else the reason."""
    if os.geteuid() != 0:
        return "private mount namespaces need root"
    for tool in ("unshare", "nsenter", "mount", "umount"):
        if not shutil.which(tool):
            return f"{tool} is not installed"
    try:
        p = subprocess.run(["unshare", "-m", "--propagation", "private", "true"],
                           capture_output=True, text=True, timeout=CMD_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unshare -m is not usable: {e}"
    if p.returncode != 0:
        return f"unshare -m failed: {p.stderr.strip()}"
    return None


class MountNamespace:
    """A private mount namespace held open by one process of its own (the holder:
    `unshare -m --propagation private` running a sleep), so that /opt/LifeKeeper and
    /etc/default/LifeKeeper* can exist for one node's lkd and scripts and nowhere else.

    bind(src, dst) bind-mounts a directory of the test's over dst inside it (never on the
    machine: the namespace's mounts are private, none propagates back); enter() is the
    argv prefix (nsenter) that runs a command inside it; path(p) is p as seen from inside
    (through /proc/HOLDER/root); mounts() its mount points. close() kills the holder by
    its pid and reports a problem if any process is still in the namespace (the nodes'
    daemons and scripts must be gone first: the namespace, and every mount made in it,
    ends with its last process)."""

    def __init__(self, work):
        self.work = Path(work)
        self.work.mkdir(parents=True, exist_ok=True)
        self.proc = None
        self.ns = None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def start(self):
        self.proc = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "--", "sleep", "infinity"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        mine = mount_ns_of(os.getpid())

        def entered():
            if self.proc.poll() is not None:
                raise AssertionError(f"unshare exited {self.proc.returncode}: "
                                     f"{self.proc.stderr.read().decode(errors='replace')}")
            ns = mount_ns_of(self.proc.pid)
            return ns if ns and ns != mine else None

        self.ns = wait_for(entered, timeout=CMD_TIMEOUT, what="the holder's mount namespace")
        return self

    def enter(self):
        return ["nsenter", "-t", str(self.pid), "-m", "--"]

    def run(self, *argv, check=True):
        p = subprocess.run(self.enter() + [str(a) for a in argv], capture_output=True,
                           text=True, timeout=CMD_TIMEOUT, stdin=subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise AssertionError(f"in the namespace: {list(argv)} exited {p.returncode}: "
                                 f"{p.stderr.strip()}")
        return p

    def bind(self, src, dst):
        """src (a directory of the test's) over dst inside the namespace; dst is made
        inside when missing (its parent must be writable there)."""
        self.run("mkdir", "-p", dst)
        self.run("mount", "--bind", src, dst)

    def mounts(self):
        """{mount point: source root} of the namespace (its mountinfo)."""
        out = {}
        with open(f"/proc/{self.pid}/mountinfo") as f:
            for line in f:
                w = line.split()
                out[w[4].replace("\\040", " ")] = w[3]
        return out

    def path(self, p):
        """p inside the namespace, as a path this process can open."""
        return Path(f"/proc/{self.pid}/root") / str(p).lstrip("/")

    def close(self):
        problems = []
        if not self.proc:
            return problems
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=CMD_TIMEOUT)
        except subprocess.TimeoutExpired:
            problems.append(f"the mount namespace holder {self.proc.pid} did not die")
        if self.proc.stderr:
            self.proc.stderr.close()
        if self.ns:
            left = pids_in_mount_ns(self.ns)
            if left:
                problems.append(f"processes still in the mount namespace {self.ns}: {left}")
        self.proc = None
        return problems


def netns_usable():
    """None when `ip netns` works here, else the reason it does not."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    name = f"okt-{os.getpid()}-probe"
    try:
        p = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True,
                           timeout=CMD_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"ip netns is not usable: {e}"
    if p.returncode != 0:
        return f"ip netns add failed: {p.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=CMD_TIMEOUT)
    return None
