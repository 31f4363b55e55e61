#!/usr/bin/python3
"""Benchmark: the daemon's CPU and memory while it monitors many resources.

N resources (default 1000) in service, each with a quickchk that is `exit 0`, every 10 s.
Over 60 s we read lkd's own CPU time (utime + stime) and its children's (cutime + cstime:
the check scripts, reaped by lkd) from /proc, and its RSS. Prints JSON.
Targets (issue #3): lkd <= 1 % of one core, RSS <= 20 MB.
"""
import argparse
import json
import os
import time

from common import Node, proc_stat, rss_kib


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    ap.add_argument("--resources", type=int, default=1000)
    ap.add_argument("--seconds", type=int, default=60)
    args = ap.parse_args()
    node = Node(args.build)
    try:
        node.start()
        ok = node.script("ok", "exit 0\n")
        for i in range(args.resources):
            node.cmd("lkcli", "resource", "create", "gen", "--tag", f"r{i:04d}", "--restore", ok,
                     "--remove", ok, "--quickchk", ok, "--quickchk-interval", "10",
                     "--deepchk-interval", "0")
        pid = node.pid()
        time.sleep(10)  # let the schedules spread over one interval
        hz = os.sysconf("SC_CLK_TCK")
        before = proc_stat(pid)
        t0 = time.monotonic()
        time.sleep(args.seconds)
        after = proc_stat(pid)
        wall = time.monotonic() - t0
        own = (after[0] + after[1] - before[0] - before[1]) / hz
        scripts = (after[2] + after[3] - before[2] - before[3]) / hz
        result = {
            "resources": args.resources,
            "quickchk_interval_s": 10,
            "seconds": round(wall, 1),
            "checks_expected": int(args.resources * wall / 10),
            "lkd_cpu_percent_of_one_core": round(100 * own / wall, 2),
            "scripts_cpu_percent_of_one_core": round(100 * scripts / wall, 2),
            "lkd_rss_kib": rss_kib(pid),
            "targets": {"lkd_cpu_percent": 1.0, "lkd_rss_kib": 20480},
        }
        print(json.dumps(result, indent=2))
    finally:
        node.close()


if __name__ == "__main__":
    main()
