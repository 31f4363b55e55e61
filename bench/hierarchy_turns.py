#!/usr/bin/python3
"""Benchmark: the loop's worst turn while lkd handles a wide hierarchy (issue 11, item 7).

For each size n (default 100, 1000 and 5000): a tree of n resources whose root r0 has
n - 1 children (each a branch with no child of its own: every branch becomes ready at
once), restore and remove `exit 0`, no checks, lkd without the guard (a long stall is then
measured, not fenced). Phases, each with `ping` sent every ~20 ms over the socket:

- restore: `resource.restore r0` (n - 1 restores start at once, then the root's);
- startup: `lkstop -f` (the applications keep running), then `lkstart`: the start-up
  handles every resource (its end waited for with ins_list, which builds no status);
- status: one `status` request's answer time (median of 5), everything in service, and
  the worst turn while the 5 were built (20 s after the start-up);
- stop: `lkstop` (the applications out of service: a remove for each).

For each phase: the loop's worst turn ("loop".recent_max_stall_ms and recent_max_cpu_ms
of `status --json` right after it: the last 10 to 20 s) and the worst ping answer. Prints
a table, then JSON.
"""
import json
import statistics
import subprocess
import threading
import time

from common import Client, Node, create_quiet, free_ports, size_args, sizes


class Pinger(threading.Thread):
    """`ping` every ~20 ms until stopped; the worst answer time (connection refused while
    lkd is not up is not counted)."""

    def __init__(self, root):
        super().__init__(daemon=True)
        self.client = Client(root)
        self.worst = 0.0
        self.count = 0
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            t0 = time.monotonic()
            try:
                self.client.call("ping", {}, timeout=120)
            except (OSError, RuntimeError):
                self.done.wait(0.02)
                continue
            dt = time.monotonic() - t0
            self.count += 1
            self.worst = max(self.worst, dt)
            self.done.wait(max(0.0, 0.02 - dt))

    def stop(self):
        self.done.set()
        self.join()
        return round(self.worst * 1000, 1)


def loop_stats(cli):
    loop = cli.call("status", {}, timeout=600).get("loop", {})
    return loop.get("recent_max_stall_ms"), loop.get("recent_max_cpu_ms")


def count_state(node, state):
    """How many resources are in state (ins_list reads the store: no status built)."""
    r = subprocess.run([f"{node.build}/ins_list", "--root", node.root, "-f", ","],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=60)
    if r.returncode != 0:
        return -1
    return sum(1 for line in r.stdout.splitlines() if f",{state}," in f",{line},")


def phase(node, row, name, fn, cli):
    pinger = Pinger(node.root)
    pinger.start()
    t0 = time.monotonic()
    fn()
    row[name + "_s"] = round(time.monotonic() - t0, 2)
    row[name + "_ping_max_ms"] = pinger.stop()
    if name != "stop":
        row[name + "_worst_turn_ms"], row[name + "_worst_turn_cpu_ms"] = loop_stats(cli)


def one(build, n):
    node = Node(build)
    port = free_ports(1)[0]

    def start():
        node.cmd("lkstart", "--no-guard", "--node", node.name, "--listen", f"127.0.0.1:{port}")

    try:
        start()
        cli = Client(node.root)
        create_quiet(cli, n, [("r0", f"r{i}") for i in range(1, n)])
        time.sleep(11)  # the creation's turns out of the recent window
        row = {"resources": n}
        phase(node, row, "restore", lambda: cli.call("resource.restore", {"tag": "r0"}), cli)
        def restart():
            node.cmd("lkstop", "-f")
            start()
            deadline = time.monotonic() + 3600
            while count_state(node, "ISP") < n and time.monotonic() < deadline:
                time.sleep(0.2)

        phase(node, row, "startup", restart, cli)
        time.sleep(21)  # the start-up's turns out of the recent window
        times = []
        for _ in range(5):
            t0 = time.monotonic()
            cli.call("status", {}, timeout=600)
            times.append(time.monotonic() - t0)
        row["status_ms"] = round(statistics.median(times) * 1000, 1)
        row["status_worst_turn_ms"], row["status_worst_turn_cpu_ms"] = loop_stats(cli)

        phase(node, row, "stop", lambda: node.cmd("lkstop"), cli)
        return row
    finally:
        node.close()


def main():
    args = size_args().parse_args()
    rows = []
    print(f"{'n':>6} {'restore':>24} {'status':>16} {'start-up':>24} {'stop':>16}")
    print(f"{'':>6} {'s / turn ms / ping ms':>24} {'ms / turn ms':>16} "
          f"{'s / turn ms / ping ms':>24} {'s / ping ms':>16}")
    for n in sizes(args.sizes):
        r = one(args.build, n)
        rows.append(r)
        print(f"{n:>6} {r['restore_s']:>7} / {r['restore_worst_turn_ms']:>6} / "
              f"{r['restore_ping_max_ms']:>6} {r['status_ms']:>7} / "
              f"{r['status_worst_turn_ms']:>6} {r['startup_s']:>7} / "
              f"{r['startup_worst_turn_ms']:>6} / {r['startup_ping_max_ms']:>6} "
              f"{r['stop_s']:>7} / {r['stop_ping_max_ms']:>6}", flush=True)
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
