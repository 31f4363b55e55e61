#!/usr/bin/python3
"""Benchmark: what a thousand checks cost lkd, built-in against scripts (issue 13).

Three runs, each on a fresh node with N resources (default 1000) in service whose restore
and remove are `exit 0`:
  builtin_tcp_1s   --check tcp:127.0.0.1:PORT every 1 s, against one listener this
                   benchmark runs (a thread that accepts and closes; it counts the
                   connections, so the checks are seen to run)
  script_10s       a quickchk script `exit 0` every 10 s (bench/monitor_load.py's case)
  script_1s        the same script every 1 s
After a settling time (the schedules spread over one interval), lkd's CPU time is read
from /proc/<pid>/stat over a fixed window: its own (utime + stime) and its reaped
children's (cutime + cstime: the check scripts). Prints JSON.
Target (issue 13): a thousand built-in checks every 1 s cost lkd less than a thousand
`exit 0` scripts every 10 s. "met" compares what lkd's /proc/<pid>/stat charges to lkd:
its own time plus its reaped children's (the scripts it runs are its cost); "own_met"
compares lkd's own time alone, which a script mostly spends in its child while a built-in
check spends it all in lkd (on loopback, the kernel's TCP work of both ends of each
connection is charged to the connecting process).
"""
import argparse
import base64
import json
import os
import socket
import threading
import time

from common import Client, Node, proc_stat, rss_kib


class Listener(threading.Thread):
    """Accepts on 127.0.0.1 and closes at once; counts the connections."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4096)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.running = True

    def run(self):
        while self.running:
            try:
                c, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.accepted += 1
            c.close()

    def stop(self):
        self.running = False
        self.join(5)
        self.sock.close()


def measure(build, resources, settle, seconds, settings, with_script, listener=None):
    node = Node(build)
    try:
        node.start()
        cli = Client(node.root)
        ok = base64.b64encode(b"#!/bin/sh\nexit 0\n").decode()
        scripts = {"restore": ok, "remove": ok}
        if with_script:
            scripts["quickchk"] = ok
        t_create = time.monotonic()
        for i in range(resources):
            cli.call("resource.create", {
                "type": "gen", "tag": f"r{i:04d}", "scripts": scripts,
                "settings": dict(settings, **{"deepchk-interval": "0", "watch": "none"}),
                "in_service": True})
        create_s = time.monotonic() - t_create
        pid = node.pid()
        time.sleep(settle)
        hz = os.sysconf("SC_CLK_TCK")
        seen0 = listener.accepted if listener else 0
        before = proc_stat(pid)
        t0 = time.monotonic()
        time.sleep(seconds)
        after = proc_stat(pid)
        wall = time.monotonic() - t0
        seen = (listener.accepted - seen0) if listener else None
        own = (after[0] + after[1] - before[0] - before[1]) / hz
        children = (after[2] + after[3] - before[2] - before[3]) / hz
        out = {
            "resources": resources,
            "settings": settings,
            "create_s": round(create_s, 1),
            "window_s": round(wall, 1),
            "lkd_cpu_s": round(own, 2),
            "lkd_cpu_percent_of_one_core": round(100 * own / wall, 2),
            "scripts_cpu_percent_of_one_core": round(100 * children / wall, 2),
            "total_cpu_percent_of_one_core": round(100 * (own + children) / wall, 2),
            "lkd_rss_kib": rss_kib(pid),
        }
        if seen is not None:
            out["checks_seen_by_the_listener"] = seen
            out["checks_per_s"] = round(seen / wall, 1)
        return out
    finally:
        node.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    ap.add_argument("--resources", type=int, default=1000)
    ap.add_argument("--settle", type=int, default=12)
    ap.add_argument("--seconds", type=int, default=30)
    args = ap.parse_args()

    lis = Listener()
    lis.start()
    try:
        builtin = measure(args.build, args.resources, args.settle, args.seconds,
                          {"quickchk-interval": "1",
                           "quickchk-check": f"tcp:127.0.0.1:{lis.port}"},
                          False, lis)
    finally:
        lis.stop()
    script10 = measure(args.build, args.resources, args.settle, args.seconds,
                       {"quickchk-interval": "10"}, True)
    script1 = measure(args.build, args.resources, args.settle, args.seconds,
                      {"quickchk-interval": "1"}, True)
    result = {
        "machine_cores": os.cpu_count(),
        "builtin_tcp_1s": builtin,
        "script_10s": script10,
        "script_1s": script1,
        "target": "builtin_tcp_1s total (lkd + its children) < script_10s total",
        "met": builtin["total_cpu_percent_of_one_core"]
        < script10["total_cpu_percent_of_one_core"],
        "own_met": builtin["lkd_cpu_s"] < script10["lkd_cpu_s"],
        "builtin_1s_vs_script_10s_total_ratio":
            round(builtin["total_cpu_percent_of_one_core"]
                  / script10["total_cpu_percent_of_one_core"], 3)
            if script10["total_cpu_percent_of_one_core"] else None,
        "builtin_1s_vs_script_10s_lkd_cpu_ratio":
            round(builtin["lkd_cpu_s"] / script10["lkd_cpu_s"], 3)
            if script10["lkd_cpu_s"] else None,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
