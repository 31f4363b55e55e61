#!/usr/bin/python3
"""Benchmark: hierarchy operations at scale, and the loop's worst stall during them.

For each shape (a chain: r0 depends on r1, which depends on r2, ...; a tree: ri depends
on r(2i+1) and r(2i+2)) and each size (default 100, 1000 and 5000 resources, restore and
remove `exit 0`, no checks): the setup (creating the resources and the dependencies over
the local socket, one request each), then a quiet cycle, the restore of the root
(`resource.restore`: the whole hierarchy) and the remove of the whole hierarchy
(`resource.remove --hierarchy`), with lkd's own CPU time per resource (from /proc), then
(up to --poll-max resources) the same cycle while `lkcli status` is run every ~50 ms and
`ping` sent every ~20 ms: the worst answer times are the loop's worst stall as a client
sees it (status's includes lkcli's start and the status's own cost, which grows with the
number of resources; ping's does not). `--cluster 1000`: two nodes, a chain created on
node1 and extended to node2, a switchover each way and the failover after `kill -9` of
the holder's lkd, status and ping polled on the node that stays. Prints a table, how lkd's CPU per resource grows from the smallest
size to the largest (flat when the work is linear in the size), then JSON.
"""
import json
import os
import subprocess
import threading
import time

from common import (Client, Cluster, Node, chain, cpu_s, create_quiet, free_ports, size_args,
                    sizes, wait_for)


class Pinger(threading.Thread):
    """Sends `ping` over the socket every ~20 ms until stopped: its answer time is the
    loop's stall as a client sees it, without the cost of building a status."""

    def __init__(self, node):
        super().__init__(daemon=True)
        self.client = Client(node.root)
        self.times = []
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            t0 = time.monotonic()
            try:
                self.client.call("ping", {}, timeout=60)
            except (OSError, RuntimeError):
                pass
            dt = time.monotonic() - t0
            self.times.append(dt)
            self.done.wait(max(0.0, 0.02 - dt))


class Poller(threading.Thread):
    """Runs `lkcli status` every ~50 ms until stopped; keeps each answer's time. A
    Pinger runs beside it."""

    def __init__(self, node, status=True):
        super().__init__(daemon=True)
        self.node = node
        self.status = status
        self.times = []
        self.failed = 0
        self.done = threading.Event()
        self.pinger = Pinger(node)

    def start(self):
        self.pinger.start()
        super().start()

    def run(self):
        while self.status and not self.done.is_set():
            t0 = time.monotonic()
            r = subprocess.run([f"{self.node.build}/lkcli", "--root", self.node.root, "status"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            dt = time.monotonic() - t0
            if r.returncode != 0:
                self.failed += 1
            self.times.append(dt)
            self.done.wait(max(0.0, 0.05 - dt))

    def stop(self):
        self.done.set()
        self.join()
        self.pinger.done.set()
        self.pinger.join()
        pings = self.pinger.times
        return {"polls": len(self.times), "failed": self.failed,
                "max_ms": round(max(self.times) * 1000, 1) if self.times else None,
                "pings": len(pings),
                "ping_max_ms": round(max(pings) * 1000, 1) if pings else None}


def edges(shape, n):
    if shape == "chain":
        return chain(n)
    return [(f"r{(i - 1) // 2}", f"r{i}") for i in range(1, n)]


def one(build, shape, n, guard=True, poll_max=1000, status=True):
    node = Node(build)
    try:
        if guard:
            node.start()
        else:
            node.cmd("lkstart", "--no-guard", "--node", node.name, "--listen",
                     f"127.0.0.1:{free_ports(1)[0]}")
        cli = Client(node.root)
        t0 = time.monotonic()
        create(cli, shape, n)
        setup = time.monotonic() - t0

        pid = node.pid()
        row = {"shape": shape, "resources": n, "setup_s": round(setup, 2)}
        # A quiet cycle first: lkd's own CPU per resource, nothing else asking.
        for what, call in (("restore", lambda: cli.call("resource.restore", {"tag": "r0"})),
                           ("remove", lambda: cli.call("resource.remove",
                                                       {"tag": "r0", "hierarchy": True}))):
            t0, c0 = time.monotonic(), cpu_s(pid)
            call()
            row[what + "_s"] = round(time.monotonic() - t0, 2)
            row[what + "_lkd_cpu_ms_per_resource"] = round((cpu_s(pid) - c0) * 1000 / n, 2)
        # Then again while status and ping are polled: the worst answer times.
        for what, call in (("restore", lambda: cli.call("resource.restore", {"tag": "r0"})),
                           ("remove", lambda: cli.call("resource.remove",
                                                       {"tag": "r0", "hierarchy": True}))):
            if n > poll_max:
                break
            poll = Poller(node, status)
            poll.start()
            call()
            row[what + "_status"] = poll.stop()
        return row
    finally:
        node.close()


def create(cli, shape, n):
    create_quiet(cli, n, edges(shape, n))


def count_state(node, state):
    """How many of node's resources are in state and idle (None: no answer)."""
    r = subprocess.run([f"{node.build}/ins_list", "--root", node.root, "-f", ","],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=30)
    if r.returncode != 0:
        return None
    return sum(1 for line in r.stdout.splitlines() if f",{state}," in f",{line},")


def one_cluster(build, shape, n):
    """Two nodes: n resources created on node1, restored, extended to node2; a
    switchover to node2 (restore --node node2) and back; then node1's lkd killed
    (kill -9) while it holds the hierarchy: the failover to node2. Status is polled on
    the node that stays up."""
    cluster = Cluster(build, 2)
    row = {"shape": shape, "resources": n, "cluster": 2}
    try:
        cluster.start()
        n1, n2 = cluster[0], cluster[1]
        cli1 = Client(n1.root)
        t0 = time.monotonic()
        create(cli1, shape, n)
        cli1.call("resource.restore", {"tag": "r0"})
        cli1.call("resource.extend", {"tag": "r0", "node": n2.name, "priority": 10})
        if not wait_for(lambda: count_state(n2, "OSU") == n, 600, 0.5):
            raise SystemExit(f"node2 does not hold the {n} resources")
        row["setup_s"] = round(time.monotonic() - t0, 2)
        for key, to, off in (("switch_to_node2", n2, n1), ("switch_to_node1", n1, n2)):
            poll = Poller(to)
            poll.start()
            t0 = time.monotonic()
            Client(off.root).call("resource.restore", {"tag": "r0", "node": to.name})
            wait_for(lambda: count_state(to, "ISP") == n, 600, 0.2)
            row[key + "_s"] = round(time.monotonic() - t0, 2)
            row[key + "_status"] = poll.stop()
        poll = Poller(n2)
        poll.start()
        t0 = time.monotonic()
        os.kill(n1.pid(), 9)
        ok = wait_for(lambda: count_state(n2, "ISP") == n, 600, 0.2)
        row["failover_s"] = round(time.monotonic() - t0, 2) if ok else None
        row["failover_status"] = poll.stop()
        return row
    finally:
        cluster.close()


def main():
    ap = size_args()
    ap.add_argument("--shapes", default="chain,tree")
    ap.add_argument("--no-guard", action="store_true",
                    help="start lkd without lkguard (a long stall is then measured, not fenced)")
    ap.add_argument("--poll-max", type=int, default=1000,
                    help="the polled cycle (status and ping answer times) up to this size")
    ap.add_argument("--ping-only", action="store_true",
                    help="poll ping alone, without status (whose answer is built in one loop "
                         "turn and grows with the size): the loop's stall from the operation")
    ap.add_argument("--cluster", default="",
                    help="sizes for the two-node case (switchover, failover), e.g. 1000")
    args = ap.parse_args()
    rows = []
    for n in [int(x) for x in args.cluster.split(",") if x]:
        r = one_cluster(args.build, "chain", n)
        rows.append(r)
        print(f"cluster chain {n}: setup {r['setup_s']} s, switchover to node2 "
              f"{r['switch_to_node2_s']} s (status max {r['switch_to_node2_status']['max_ms']} "
              f"ms, ping max {r['switch_to_node2_status']['ping_max_ms']} ms), back {r['switch_to_node1_s']} s (status max "
              f"{r['switch_to_node1_status']['max_ms']} ms, ping max "
              f"{r['switch_to_node1_status']['ping_max_ms']} ms), failover {r['failover_s']} s "
              f"(status max {r['failover_status']['max_ms']} ms, ping max "
              f"{r['failover_status']['ping_max_ms']} ms)", flush=True)
    if args.cluster:
        args.shapes = ""
    for shape in [x for x in args.shapes.split(",") if x]:
        for n in sizes(args.sizes):
            try:
                rows.append(one(args.build, shape, n, guard=not args.no_guard,
                                poll_max=args.poll_max, status=not args.ping_only))
            except (RuntimeError, OSError) as e:
                print(f"{shape:>6} {n:>6}  failed: {e}", flush=True)
                rows.append({"shape": shape, "resources": n, "failed": str(e)})
                continue
            r = rows[-1]
            line = (f"{shape:>6} {n:>6}  setup {r['setup_s']:>7.2f} s  restore "
                    f"{r['restore_s']:>7.2f} s ({r['restore_lkd_cpu_ms_per_resource']} ms lkd cpu "
                    f"per resource)  remove {r['remove_s']:>7.2f} s "
                    f"({r['remove_lkd_cpu_ms_per_resource']} ms)")
            for what in ("restore", "remove"):
                st = r.get(what + "_status")
                if st:
                    line += (f"  {what}: status max {st['max_ms']} ms, ping max "
                             f"{st['ping_max_ms']} ms")
            print(line, flush=True)
    # Linear in the size: lkd's CPU per resource is flat across sizes (the ratio of the
    # largest to the smallest size's, per shape and operation; 1 is flat, n-fold is n²).
    for shape in {r["shape"] for r in rows if "restore_s" in r and "cluster" not in r}:
        done = sorted((r for r in rows if r["shape"] == shape and "restore_s" in r
                       and "cluster" not in r), key=lambda r: r["resources"])
        if len(done) > 1:
            for what in ("restore", "remove"):
                k = what + "_lkd_cpu_ms_per_resource"
                print(f"{shape:>6} {what}: lkd cpu per resource "
                      f"{done[0][k]} ms at {done[0]['resources']}, {done[-1][k]} ms at "
                      f"{done[-1]['resources']} (x{done[-1][k] / max(done[0][k], 0.01):.1f} "
                      f"for x{done[-1]['resources'] // done[0]['resources']} resources)",
                      flush=True)
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
