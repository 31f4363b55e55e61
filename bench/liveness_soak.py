#!/usr/bin/python3
"""Benchmark: false failovers under load, and a silent failure's time to failover, per
heartbeat interval (issue 11, item 2).

Soak: one two-node cluster per heartbeat interval (50, 100, 200, 500, 1000 ms by default,
misses 3), all running at the same time for --minutes, each with one pidfile application
in service on node1 and extended to node2, while the machine is saturated: 2 x cores
busy processes (CPU) and a loop of `dd ... conv=fsync` of 64 MiB in a temporary directory
(disk). Every node is a live process that nothing fails: each "node ... is DEAD" event
(1603) logged during the soak is a false node-dead, each takeover (1621) a false
failover, and each fence by a guard (1671: the guard saw the node paused or unfed) a
false fence, which also ends that node's lkd. Counted per interval from the nodes'
lk.log files, also every --report-every s.

Silent failure: then, per interval (still under the same load unless --no-load), --runs
times: SIGSTOP of the active node's lkd (every thread, its pulse thread too) and SIGKILL
of its application, or with --kind crash a SIGKILL of the lkd; measured from the signal to
the application running on the peer (its pidfile names a live process, polled every
5 ms). The stopped lkd is resumed (SIGCONT) and the roles swap for the next run.

Prints one table row per interval and, with --json, the figures as JSON.
Run it short to check it works (--minutes 2); the real soak is 30 minutes.
"""
import argparse
import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from common import UP, Cluster, alive, app_pid, create_extended, summary_ms, wait_for

TAG = "app"


class Load:
    """CPU hogs (2 x cores) and a dd/fsync loop: started, stopped, nothing left behind."""

    def __init__(self, cpu=True, disk=True):
        self.procs = []
        self.tmp = tempfile.mkdtemp(prefix="lkbench-disk-")
        self.cpu, self.disk = cpu, disk

    def start(self):
        if self.cpu:
            for _ in range(2 * (os.cpu_count() or 1)):
                self.procs.append(subprocess.Popen(["sh", "-c", "while :; do :; done"]))
        if self.disk:
            loop = (f'while :; do dd if=/dev/zero of="{self.tmp}/f" bs=1M count=64 '
                    f"conv=fsync 2>/dev/null; rm -f \"{self.tmp}/f\"; done")
            self.procs.append(subprocess.Popen(["sh", "-c", loop]))

    def stop(self):
        for p in self.procs:
            p.kill()
        for p in self.procs:
            p.wait()
        self.procs = []
        shutil.rmtree(self.tmp, ignore_errors=True)


def log_events(node):
    """(number, epoch ms) of every event in node's lk.log (and its rotated files)."""
    out = []
    logdir = os.path.join(node.root, "log")
    for name in sorted(os.listdir(logdir)) if os.path.isdir(logdir) else []:
        if not name.startswith("lk.log"):
            continue
        with open(os.path.join(logdir, name), errors="replace") as f:
            for line in f:
                # 2026-12-07 14:50:53.164Z node1 ERROR    1671 -: ...
                parts = line.split()
                if len(parts) < 5 or not parts[4].isdigit():
                    continue
                try:
                    t = datetime.datetime.strptime(f"{parts[0]} {parts[1]}",
                                                   "%Y-%m-%d %H:%M:%S.%fZ")
                except ValueError:
                    continue
                ms = t.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000
                out.append((int(parts[4]), ms))
    return out


class Series:
    def __init__(self, build, interval, misses, guard):
        self.interval, self.misses = interval, misses
        self.cluster = Cluster(build, 2, ["--heartbeat-interval-ms", str(interval),
                                          "--heartbeat-misses", str(misses),
                                          "--max-failovers", "1000"])
        self.state = None
        if not guard:
            for node in self.cluster.nodes:
                node.start = self._no_guard_start(node)

    @staticmethod
    def _no_guard_start(node):
        def start(authkey=None):
            args = ["--node", node.name, "--listen", f"127.0.0.1:{node.port}", "--no-guard"]
            node.cmd("lkstart", *(args + (["--authkey", authkey] if authkey else [])))
        return start

    def start(self):
        self.cluster.start()
        self.state = os.path.join(self.cluster.tmp, "state")
        os.makedirs(self.state)
        create_extended(self.cluster, TAG, UP, {"state": self.state})
        if not wait_for(lambda: app_pid(self.state, self.cluster[0]), 30, 0.05):
            raise RuntimeError(f"{self.interval} ms: the application did not start on node1")

    def lkd_exits(self):
        """The nodes whose lkd is gone, with the last lines of their lk.log."""
        gone = {}
        for node in self.cluster.nodes:
            if not node.running():
                try:
                    with open(os.path.join(node.root, "log", "lk.log"), errors="replace") as f:
                        gone[node.name] = f.read().splitlines()[-4:]
                except OSError as e:
                    gone[node.name] = [str(e)]
        return gone

    def false_events(self, since_ms):
        """False node-dead events (1603), takeovers (1621) and fences (1671) since
        since_ms, read from the nodes' lk.log: it holds them whether lkd still runs or
        not (a fenced lkd exits, and its events can no longer be asked for)."""
        counts = {1603: 0, 1621: 0, 1671: 0}
        for node in self.cluster.nodes:
            for number, when_ms in log_events(node):
                if number in counts and when_ms >= since_ms:
                    counts[number] += 1
        return counts[1603], counts[1621], counts[1671]

    def silent_failures(self, runs, kind):
        active, backup = self.cluster[0], self.cluster[1]
        if app_pid(self.state, backup) and not app_pid(self.state, active):
            active, backup = backup, active
        latencies, errors = [], []
        for i in range(runs):
            time.sleep(0.3 + 0.1 * (i % 5))
            lkd, app = active.pid(), app_pid(self.state, active)
            if app is None:
                errors.append(f"run {i + 1}: no application on {active.name}")
                break
            t0 = time.monotonic()
            os.kill(lkd, signal.SIGKILL if kind == "crash" else signal.SIGSTOP)
            os.kill(app, signal.SIGKILL)
            ok = wait_for(lambda: app_pid(self.state, backup), 30, 0.005)
            dt = (time.monotonic() - t0) * 1000
            if kind == "crash":
                wait_for(lambda: not alive(lkd), 5)
                active.start()
            else:
                os.kill(lkd, signal.SIGCONT)
                # With its guard, the stopped lkd was fenced and exits when it resumes.
                if wait_for(lambda: not alive(lkd), 3):
                    active.start()
            if not ok:
                errors.append(f"run {i + 1}: {backup.name} did not run it within 30 s")
                break
            latencies.append(dt)
            active, backup = backup, active
            if not wait_for(self.cluster.all_alive, 30, 0.05):
                errors.append(f"run {i + 1}: the nodes did not see each other again")
                break
        return latencies, errors

    def close(self):
        self.cluster.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--intervals", default="50,100,200,500,1000")
    ap.add_argument("--misses", type=int, default=3)
    ap.add_argument("--runs", type=int, default=5, help="silent failures per interval")
    ap.add_argument("--kind", choices=("silent", "crash"), default="silent")
    ap.add_argument("--report-every", type=float, default=60)
    ap.add_argument("--no-load", action="store_true")
    ap.add_argument("--no-guard", action="store_true", help="nodes without lkguard")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    intervals = [int(x) for x in args.intervals.split(",")]

    series, load = [], Load(cpu=not args.no_load, disk=not args.no_load)
    results = []
    try:
        for hb in intervals:
            s = Series(args.build, hb, args.misses, not args.no_guard)
            series.append(s)
            s.start()
        load.start()
        t_start = time.time() * 1000
        end = time.monotonic() + args.minutes * 60
        next_report = time.monotonic() + args.report_every
        while time.monotonic() < end:
            time.sleep(min(1, max(0, end - time.monotonic())))
            if time.monotonic() >= next_report:
                next_report += args.report_every
                counts = {s.interval: s.false_events(t_start) for s in series}
                print(f"[{(time.time() * 1000 - t_start) / 60000:.1f} min] false node-dead, "
                      f"takeovers, fences so far: {counts}", file=sys.stderr, flush=True)
        soak_ms = time.time() * 1000 - t_start
        for s in series:
            dead, takeovers, fences = s.false_events(t_start)
            gone = s.lkd_exits()
            if gone:
                lat, errors = [], [f"lkd exited during the soak: {gone}"]
            else:
                lat, errors = s.silent_failures(args.runs, args.kind)
            results.append({
                "heartbeat_interval_ms": s.interval, "heartbeat_misses": s.misses,
                "dead_ms": s.interval * s.misses, "soak_minutes": round(soak_ms / 60000, 2),
                "false_node_dead": dead, "false_takeovers": takeovers, "false_fences": fences,
                "failover_ms": summary_ms(lat), "errors": errors,
            })
    finally:
        load.stop()
        for s in series:
            s.close()

    load_text = "none" if args.no_load else f"{2 * (os.cpu_count() or 1)} CPU hogs + dd/fsync"
    print(f"liveness soak: {args.minutes} min, load: {load_text}, "
          f"{'no guard' if args.no_guard else 'with lkguard'}; {args.kind} failure, "
          f"{args.runs} runs per interval")
    print(f"{'heartbeat':>10} {'dead':>6} {'false dead':>10} {'false takeover':>14} "
          f"{'false fenced':>12} {'failover median':>15} {'max':>8}")
    for r in results:
        f = r["failover_ms"]
        print(f"{r['heartbeat_interval_ms']:>8}ms {r['dead_ms']:>4}ms {r['false_node_dead']:>10} "
              f"{r['false_takeovers']:>14} {r['false_fences']:>12} {str(f['median']) + ' ms':>15} "
              f"{str(f['max']) + ' ms':>8}" + (f"  ({'; '.join(r['errors'])})"
                                                 if r["errors"] else ""))
    if args.json:
        print(json.dumps({"minutes": args.minutes, "load": load_text, "kind": args.kind,
                          "series": results}, indent=2))


if __name__ == "__main__":
    main()
