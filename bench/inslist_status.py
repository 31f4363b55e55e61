#!/usr/bin/python3
"""Benchmark: ins_list and lkcli status with 1000 resources, and the daemon's RSS.

Creates a node in a temporary root, creates N resources with trivial scripts
(--no-in-service), then times `ins_list` and `lkcli status --json` (median of 20 runs
each) and reads VmRSS of lkd from /proc. Prints one JSON object.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time

from common import free_ports, rss_kib


def timed(cmd, runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), min(times), max(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    ap.add_argument("--resources", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    b = os.path.abspath(args.build)
    tmp = tempfile.mkdtemp(prefix="lkbench-")
    root = os.path.join(tmp, "root")
    try:
        subprocess.run([f"{b}/lkstart", "--root", root, "--node", "bench", "--listen",
                        f"127.0.0.1:{free_ports(1)[0]}"], check=True,
                       stdout=subprocess.DEVNULL)
        script = os.path.join(tmp, "ok")
        with open(script, "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(script, 0o755)
        t0 = time.perf_counter()
        for i in range(args.resources):
            subprocess.run([f"{b}/lkcli", "--root", root, "resource", "create", "gen",
                            "--tag", f"r{i:04d}", "--restore", script, "--remove", script,
                            "--quickchk", script, "--no-in-service"],
                           check=True, stdout=subprocess.DEVNULL)
        create_s = time.perf_counter() - t0
        with open(os.path.join(root, "run", "lkd.pid")) as f:
            pid = int(f.read().strip())
        ins = timed([f"{b}/ins_list", "--root", root], args.runs)
        st = timed([f"{b}/lkcli", "--root", root, "status", "--json"], args.runs)
        result = {
            "resources": args.resources,
            "create_total_s": round(create_s, 2),
            "create_per_resource_ms": round(create_s * 1000 / args.resources, 2),
            "ins_list_ms": {"median": round(ins[0], 2), "min": round(ins[1], 2),
                            "max": round(ins[2], 2)},
            "status_ms": {"median": round(st[0], 2), "min": round(st[1], 2),
                          "max": round(st[2], 2)},
            "lkd_rss_kib": rss_kib(pid),
            "targets": {"ins_list_ms": 10, "lkd_rss_kib": 20480},
        }
        print(json.dumps(result, indent=2))
    finally:
        subprocess.run([f"{b}/lkstop", "-f", "--root", root], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
