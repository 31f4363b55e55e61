#!/usr/bin/python3
"""Benchmark: extending a large hierarchy to a peer, and a peer's resync after a rejoin.

Two nodes (lkstart's default: each with its lkguard). For each size (default 100 and
1000; 5000 with --sizes): a chain r0 -> r1 -> ... created on node1 over the local socket
(restore and remove `exit 0`, no checks), then `resource.extend` of r0 to node2 (the whole
hierarchy). Measured: the extend's answer time (the request returns when node2 reports
every resource), node2's and node1's worst loop turn from `status --json` ("loop":
wall clock and lkd's own CPU), the worst `ping` answer on node2 during it, and whether
node2's lkd survived (its guard fences it when its loop stalls). Then the rejoin: node2
stopped, every definition changed on node1 (`resource.config --info`), node2 started:
the time lkstart takes (it answers once node2 is up to date), and node2's worst turn
(which includes its start-up).
Prints a table, then JSON.
"""
import argparse
import json
import os
import sys
import threading
import time

from common import Client, Cluster, alive, chain, create_quiet, wait_for


class Pinger(threading.Thread):
    """`ping` every ~20 ms until stopped: its worst answer is the stall a client saw."""

    def __init__(self, node):
        super().__init__(daemon=True)
        self.client = Client(node.root)
        self.worst = 0.0
        self.failed = 0
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            t0 = time.monotonic()
            try:
                self.client.call("ping", {}, timeout=60)
            except (OSError, RuntimeError):
                self.failed += 1
            dt = time.monotonic() - t0
            self.worst = max(self.worst, dt)
            self.done.wait(max(0.0, 0.02 - dt))

    def stop(self):
        self.done.set()
        self.join()
        return {"ping_max_ms": round(self.worst * 1000, 1), "ping_failed": self.failed}


def status(node):
    return Client(node.root).call("status", {}, timeout=120)


def loop(node):
    lp = status(node)["loop"]
    return {"max_ms": lp["max_stall_ms"], "max_cpu_ms": lp["max_cpu_ms"]}


def resources(node):
    """node's resources, flat (resource.list: no hierarchy tree to nest)."""
    return Client(node.root).call("resource.list", {}, timeout=120)["resources"]


def versions_on(node, tags_wanted_info):
    """How many resources node holds with the wanted info."""
    try:
        res = resources(node)
    except (OSError, RuntimeError, ValueError):
        return -1
    return sum(1 for r in res if r.get("info") == tags_wanted_info)


def count_on(node):
    try:
        return len(resources(node))
    except (OSError, RuntimeError, ValueError):
        return -1


def one(build, n):
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 4 * n + 1000))
    cluster = Cluster(build, 2)
    row = {"resources": n}
    try:
        cluster.start()
        n1, n2 = cluster[0], cluster[1]
        c1 = Client(n1.root)
        t0 = time.monotonic()
        create_quiet(c1, n, chain(n))
        row["setup_s"] = round(time.monotonic() - t0, 1)
        pid2 = n2.pid()
        # lkd's worst turn counts from its start: node1's before the extend (its setup's
        # turns) tells whether the extend made a worse one.
        row["setup_loop_node1"] = loop(n1)
        ping = Pinger(n2)
        ping.start()
        t0 = time.monotonic()
        try:
            c1.call("resource.extend", {"tag": "r0", "node": "node2"})
            row["extend_s"] = round(time.monotonic() - t0, 2)
        except (OSError, RuntimeError) as e:
            row["extend_s"] = None
            row["extend_error"] = str(e)[:200]
        row.update(ping.stop())
        row["node2_survived"] = alive(pid2)
        if not row["node2_survived"]:
            return row
        # The worst turns first: a status (or a list) of thousands of resources is itself
        # a long turn, which the next reading would count.
        row["extend_loop_node2"] = loop(n2)
        row["extend_loop_node1"] = loop(n1)
        got = wait_for(lambda: count_on(n2) == n, 600, 0.5)
        row["all_on_node2_s"] = round(time.monotonic() - t0, 2) if got else None

        # The rejoin: node2 away while every definition changes; then its resync, which
        # lkstart waits for (a node starts once it is up to date with its peers).
        n2.cmd("lkstop", check=False)
        wait_for(lambda: not alive(pid2), 60, 0.1)
        for i in range(n):
            c1.call("resource.config", {"tag": f"r{i}", "info": "second"})
        ping = Pinger(n2)
        ping.start()
        t0 = time.monotonic()
        started = n2.cmd("lkstart", "--node", n2.name, "--listen", f"127.0.0.1:{n2.port}",
                         check=False).returncode == 0
        row["resync_s"] = round(time.monotonic() - t0, 2)
        row.update({"resync_" + k: v for k, v in ping.stop().items()})
        pid2 = n2.pid() if started else None
        row["resync_node2_survived"] = bool(started and alive(pid2))
        if row["resync_node2_survived"]:
            row["resync_loop_node2"] = loop(n2)
            row["resync_complete"] = versions_on(n2, "second") == n
        return row
    finally:
        cluster.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.environ.get("LK_BUILD", "build"))
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    args = ap.parse_args()
    rows = []
    for n in args.sizes:
        row = one(args.build, n)
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(f"{'n':>6} {'extend s':>9} {'node2 turn ms':>14} {'cpu ms':>8} {'ping ms':>8} "
          f"{'node1 turn':>10} {'resync s':>9} {'resync turn':>11} survived")
    for r in rows:
        e2 = r.get("extend_loop_node2", {})
        e1 = r.get("extend_loop_node1", {})
        rs = r.get("resync_loop_node2", {})
        print(f"{r['resources']:>6} {str(r.get('extend_s')):>9} {str(e2.get('max_ms')):>14} "
              f"{str(e2.get('max_cpu_ms')):>8} {str(r.get('ping_max_ms')):>8} "
              f"{str(e1.get('max_ms')):>10} {str(r.get('resync_s')):>9} "
              f"{str(rs.get('max_ms')):>11} {r.get('node2_survived')}/"
              f"{r.get('resync_node2_survived')}")
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
