"""Shared helpers for the benchmarks: a node in a temporary root, scripts, /proc readers,
the socket client, quiet resources (create_quiet) and the sizes benchmarks' options."""
import argparse
import base64
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time

YOUNG_S = 0.5


class Node:
    def __init__(self, build, name="bench"):
        self.build = os.path.abspath(build)
        self.tmp = tempfile.mkdtemp(prefix="lkbench-")
        os.chmod(self.tmp, 0o755)
        self.root = os.path.join(self.tmp, "root")
        self.name = name

    def cmd(self, prog, *args, check=True, capture=False):
        return subprocess.run([f"{self.build}/{prog}", "--root", self.root, *args], check=check,
                              stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                              text=True)

    def start(self):
        self.cmd("lkstart", "--node", self.name, "--listen", f"127.0.0.1:{free_ports(1)[0]}")

    def pid(self):
        with open(os.path.join(self.root, "run", "lkd.pid")) as f:
            return int(f.read().strip())

    def script(self, name, body):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write("#!/bin/sh\n" + body)
        os.chmod(path, 0o755)
        return path

    def events(self, n=200):
        out = self.cmd("lkcli", "--json", "log", "-n", str(n), capture=True).stdout
        return json.loads(out)

    def close(self):
        # Plain lkstop: the applications the benchmark started are removed too.
        r = subprocess.run([f"{self.build}/lkstop", "--root", self.root],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if r.returncode != 0:
            subprocess.run([f"{self.build}/lkstop", "-f", "--root", self.root],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        remove_cgroups(self.root)
        shutil.rmtree(self.tmp, ignore_errors=True)


def remove_cgroups(root):
    """Kills what is left in a node's resource cgroups (lkd names its subtree in
    run/cgroup) and removes them; True when nothing was left behind."""
    try:
        with open(os.path.join(root, "run", "cgroup")) as f:
            base = f.read().strip()
    except OSError:
        return True
    if not os.path.isdir(base) or "openkeeper" not in base.split(os.sep):
        return True
    ok = True
    subs = [os.path.join(base, d) for d in os.listdir(base)
            if os.path.isdir(os.path.join(base, d))]
    for cg in subs + [base]:
        try:
            with open(os.path.join(cg, "cgroup.kill"), "w") as f:
                f.write("1")
        except OSError:
            pass
        if not wait_for(lambda: rmdir_gone(cg), 5, 0.05):
            ok = False
    return ok


def rmdir_gone(path):
    try:
        os.rmdir(path)
    except FileNotFoundError:
        pass
    except OSError:
        return False
    return True


def proc_stat(pid):
    """(utime, stime, cutime, cstime) in clock ticks, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    fields = data[data.rindex(")") + 2:].split()
    return tuple(int(fields[i]) for i in (11, 12, 13, 14))


def cpu_s(pid):
    """The process's own CPU time so far (user + system), in seconds."""
    t = proc_stat(pid)
    return (t[0] + t[1]) / os.sysconf("SC_CLK_TCK")


def alive(pid):
    """True when pid runs and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return False
    return data[data.rindex(")") + 2] not in "ZX"


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def wait_for(pred, timeout, step=0.005):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return None


def free_ports(n):
    """n distinct TCP ports on 127.0.0.1 that were free a moment ago."""
    import socket
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def size_args(sizes="100,1000,5000"):
    """An argument parser with the sizes benchmarks' common options: --build (the build
    directory, ../build by default) and --sizes (a comma-separated list, see sizes())."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    ap.add_argument("--sizes", default=sizes)
    return ap


def sizes(text):
    """The sizes of --sizes ("100,1000") as a list of ints."""
    return [int(x) for x in text.split(",")]


def percentile(values, p):
    """The p-th percentile (nearest rank) of values, p in 0..100."""
    v = sorted(values)
    k = max(1, -(-len(v) * p // 100))      # ceil(n * p / 100), at least 1
    return v[int(k) - 1]


def summary_ms(values):
    """median / p90 / min / max of a list of milliseconds, rounded to 0.1 ms."""
    return {"runs": len(values),
            "median": round(statistics.median(values), 1) if values else None,
            "p90": round(percentile(values, 90), 1) if values else None,
            "min": round(min(values), 1) if values else None,
            "max": round(max(values), 1) if values else None}


def detections_ms(events, kills, number=1512):
    """For each kill (wall clock ms, in order), how long until the first event `number` at
    or after it and before the next kill: (those delays in ms, how many kills had none)."""
    detect, missed = [], 0
    for k, wall0 in enumerate(kills):
        until = kills[k + 1] if k + 1 < len(kills) else float("inf")
        hits = [e["time_ms"] for e in events
                if e["number"] == number and wall0 - 1 <= e["time_ms"] < until]
        if hits:
            detect.append(max(0.0, hits[0] - wall0))
        else:
            missed += 1
    return detect, missed


class ClusterNode(Node):
    """One node of a Cluster: a root in the cluster's temporary directory and a port."""

    def __init__(self, build, tmp, name, port):
        self.build = os.path.abspath(build)
        self.tmp = tmp
        self.root = os.path.join(tmp, name)
        self.name = name
        self.port = port

    def start(self, authkey=None):
        args = ["--node", self.name, "--listen", f"127.0.0.1:{self.port}"]
        if authkey:
            args += ["--authkey", authkey]
        self.cmd("lkstart", *args)

    def running(self):
        try:
            return alive(self.pid())
        except (OSError, ValueError):
            return False

    def stop(self):
        """lkstop (hierarchies out of service), else lkstop -f, else SIGKILL."""
        if not self.running():
            return
        pid = self.pid()
        try:
            os.kill(pid, 18)                   # SIGCONT, in case a benchmark froze it
        except OSError:
            pass
        for args in ([], ["-f"]):
            r = subprocess.run([f"{self.build}/lkstop", *args, "--root", self.root],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               timeout=60)
            if r.returncode == 0 and wait_for(lambda: not alive(pid), 10):
                return
        try:
            os.kill(pid, 9)
        except OSError:
            pass


class Cluster:
    """n nodes (node1..nodeN) on 127.0.0.1 under one temporary directory, sharing node1's
    cluster key, with a comm path both ways between every pair. close() stops them all
    (plain lkstop, so the applications the benchmark started are removed too)."""

    def __init__(self, build, n=2, settings=None):
        self.tmp = tempfile.mkdtemp(prefix="lkbench-")
        os.chmod(self.tmp, 0o755)
        self.nodes = [ClusterNode(build, self.tmp, f"node{i + 1}", port)
                      for i, port in enumerate(free_ports(n))]
        self.settings = settings or []

    def __getitem__(self, i):
        return self.nodes[i]

    def script(self, name, body):
        return self.nodes[0].script(name, body)

    def start(self, timeout=15):
        key = None
        for node in self.nodes:
            node.start(key)
            key = key or os.path.join(self.nodes[0].root, "etc", "authkey")
        for a in self.nodes:
            for b in self.nodes:
                if a is not b:
                    a.cmd("lkcli", "commpath", "create", "--node", b.name,
                          "--address", f"127.0.0.1:{b.port}")
        if not wait_for(self.all_alive, timeout, 0.05):
            raise SystemExit("the cluster's nodes did not all see each other ALIVE")
        if self.settings:
            self.nodes[0].cmd("lkcli", "cluster", "config", *self.settings)

    def peers_seen(self, node):
        """{name: state} of the cluster members as node sees them."""
        out = node.cmd("lkcli", "--json", "node", "list", capture=True, check=False).stdout
        try:
            data = json.loads(out)
        except ValueError:
            return {}
        nodes = data.get("nodes", data) if isinstance(data, dict) else data
        return {n["name"]: n["state"] for n in nodes}

    def all_alive(self):
        names = {n.name for n in self.nodes}
        for node in self.nodes:
            seen = self.peers_seen(node)
            if any(seen.get(name) != "ALIVE" for name in names):
                return False
        return True

    def close(self):
        for node in self.nodes:
            node.stop()
        for node in self.nodes:
            remove_cgroups(node.root)
        shutil.rmtree(self.tmp, ignore_errors=True)


class ProcObserver(threading.Thread):
    """Scans /proc every `step` s for processes whose argv[0] is one of `names` (a dict
    name -> label), independent of lkd. Keeps, per label, the pids seen running, the
    times (monotonic) they appeared and went, and the total time during which every label
    had a copy running at once. A process's argv[0] is read only while it is young (first
    seen less than YOUNG_S ago: a fork becomes the application by exec within
    milliseconds), so that a scan costs a listdir of /proc and little more."""

    def __init__(self, names, step=0.001):
        super().__init__(daemon=True)
        self.names, self.step = names, step
        self.lock = threading.Lock()
        self.running = {label: set() for label in names.values()}
        self.events = []            # (monotonic time, label, "up" | "down", pid)
        self.overlap_s = 0.0
        self.both_since = None
        self.scans, self.max_gap_s = 0, 0.0
        self.stop_flag = False
        self.first_seen = {}        # pid -> monotonic time first seen in /proc
        self.apps = {}              # pid -> label

    def scan(self):
        now = time.monotonic()
        pids = {int(p) for p in os.listdir("/proc") if p.isdigit()}
        changes = []
        for pid in list(self.apps):
            if pid not in pids or not alive(pid):
                changes.append((now, self.apps.pop(pid), "down", pid))
        for pid in list(self.first_seen):
            if pid not in pids:
                del self.first_seen[pid]
        for pid in pids:
            if pid in self.apps:
                continue
            seen = self.first_seen.setdefault(pid, now)
            if now - seen > YOUNG_S:
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv0 = f.read(256).split(b"\0", 1)[0].decode(errors="replace")
            except OSError:
                continue
            label = self.names.get(argv0)
            if label is not None and alive(pid):
                self.apps[pid] = label
                changes.append((now, label, "up", pid))
        with self.lock:
            for t, label, what, pid in changes:
                self.events.append((t, label, what, pid))
                (self.running[label].add if what == "up" else self.running[label].discard)(pid)
            both = all(self.running.values())
            if both and self.both_since is None:
                self.both_since = now
            elif not both and self.both_since is not None:
                self.overlap_s += now - self.both_since
                self.both_since = None
            self.scans += 1

    def run(self):
        last = time.monotonic()
        while not self.stop_flag:
            self.scan()
            now = time.monotonic()
            self.max_gap_s = max(self.max_gap_s, now - last)
            last = now
            time.sleep(self.step)

    def overlap(self):
        """Total overlap so far, the ongoing one included."""
        with self.lock:
            extra = time.monotonic() - self.both_since if self.both_since is not None else 0
            return self.overlap_s + extra

    def count(self, label):
        with self.lock:
            return len(self.running[label])

    def first(self, label, what, after):
        """Time of the first event (label, what) after `after`, or None."""
        with self.lock:
            for t, lab, w, _ in self.events:
                if t > after and lab == label and w == what:
                    return t
        return None


# The benchmarks' pidfile application (state/<node>.pid): UP starts a detached sleep,
# DOWN kills it, the check says whether it runs (a zombie does not).
UP = """
state=%(state)s
setsid sleep 2147483 </dev/null >/dev/null 2>&1 &
echo $! > "$state/$LK_NODE.pid.new" && mv -f "$state/$LK_NODE.pid.new" "$state/$LK_NODE.pid"
exit 0
"""
DOWN = """
state=%(state)s
pid=$(cat "$state/$LK_NODE.pid" 2>/dev/null) && kill -9 "$pid" 2>/dev/null
rm -f "$state/$LK_NODE.pid"
exit 0
"""
CHECK = """
pid=$(cat %(state)s/$LK_NODE.pid 2>/dev/null) || exit 1
s=$(cat /proc/$pid/stat 2>/dev/null) || exit 1
case "${s##*) }" in Z*|X*) exit 1;; esac
exit 0
"""


# The same for the one-node benchmarks' application (state/pid).
ONE_CHECK = """
pid=$(cat %(state)s/pid 2>/dev/null) || exit 1
s=$(cat /proc/$pid/stat 2>/dev/null) || exit 1
case "${s##*) }" in Z*|X*) exit 1;; esac
exit 0
"""
ONE_STOP = """
pid=$(cat %(state)s/pid 2>/dev/null) && kill -9 $pid 2>/dev/null
rm -f %(state)s/pid
exit 0
"""


def create_extended(cluster, tag, up, v):
    """The pidfile application tag (restore up, remove DOWN, quickchk CHECK every 5 s, no
    local recovery) in service on node1 and extended to node2 with priority 10."""
    n1, n2 = cluster[0], cluster[1]
    n1.cmd("lkcli", "resource", "create", "gen", "--tag", tag,
           "--restore", cluster.script("up", up % v),
           "--remove", cluster.script("down", DOWN % v),
           "--quickchk", cluster.script("check", CHECK % v),
           "--quickchk-interval", "5", "--local-recovery", "off")
    n1.cmd("lkcli", "resource", "extend", "--tag", tag, "--node", n2.name, "--priority", "10")
    return n1, n2


def kill_and_wait(state, timeout=10):
    """Kills the one-node application (state/pid) with SIGKILL and waits until a new one
    runs: the seconds from the kill to that (monotonic), or SystemExit."""
    old = int(open(os.path.join(state, "pid")).read())
    t0 = time.monotonic()
    os.kill(old, 9)

    def recovered():
        try:
            pid = int(open(os.path.join(state, "pid")).read())
        except (OSError, ValueError):
            return None
        return pid != old and alive(pid)

    if not wait_for(recovered, timeout):
        raise SystemExit(f"the application did not come back within {timeout} s")
    return time.monotonic() - t0


def app_pid(state, node):
    """The pid of the pidfile application on node (state/<node>.pid), None unless it runs."""
    try:
        with open(os.path.join(state, f"{node.name}.pid")) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return None
    return pid if alive(pid) else None


def chain(n):
    """The dependency edges (parent, child) of the chain r0 -> r1 -> ... -> r{n-1}."""
    return [(f"r{i}", f"r{i + 1}") for i in range(n - 1)]


def create_quiet(cli, n, edges):
    """Creates r0..r{n-1} through cli (a Client): gen resources whose restore and remove
    are `exit 0`, without checks, out of service; then the dependencies (parent, child)."""
    ok = base64.b64encode(b"#!/bin/sh\nexit 0\n").decode()
    for i in range(n):
        cli.call("resource.create", {
            "type": "gen", "tag": f"r{i}", "scripts": {"restore": ok, "remove": ok},
            "settings": {"quickchk-interval": "0", "deepchk-interval": "0"},
            "in_service": False})
    for parent, child in edges:
        cli.call("dependency.create", {"parent": parent, "child": child})


class Client:
    """One request per connection over run/lkd.sock, as lkcli does."""

    def __init__(self, root):
        self.path = os.path.join(root, "run", "lkd.sock")

    def call(self, cmd, args, timeout=3600):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(self.path)
            s.sendall((json.dumps({"v": 1, "cmd": cmd, "args": args}) + "\n").encode())
            buf = b""
            while True:
                while b"\n" not in buf:
                    chunk = s.recv(1 << 20)
                    if not chunk:
                        raise RuntimeError(f"{cmd}: connection closed")
                    buf += chunk
                line, buf = buf.split(b"\n", 1)
                msg = json.loads(line)
                if "progress" in msg:
                    continue
                if not msg.get("ok"):
                    raise RuntimeError(f"{cmd} {args}: {msg.get('error')}")
                return msg.get("data")
        finally:
            s.close()
