#!/usr/bin/python3
"""Benchmark: restore of a wide hierarchy, parallel branches against the longest branch.

100 resources in 10 independent chains of 10, bundled under a generic root (restore and
remove `exit 0`); every other restore is `sleep 0.1`. We time `lkcli resource restore`
of the root (the longest branch alone needs 10 × 0.1 s = 1.0 s) and the remove, 3 runs.
Prints JSON. Target (issue #4): restore time ≤ 1.2 × the longest branch.
"""
import argparse
import json
import os
import statistics
import time

from common import Node


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    ap.add_argument("--branches", type=int, default=10)
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    node = Node(args.build)
    try:
        node.start()
        slow = node.script("slow", "sleep 0.1\nexit 0\n")
        ok = node.script("ok", "exit 0\n")
        root = os.path.join(os.path.dirname(__file__), "..", "templates", "generic_root")
        node.cmd("lkcli", "resource", "create", "gen", "--tag", "root",
                 "--restore", os.path.join(root, "root.sh"),
                 "--remove", os.path.join(root, "root.sh"), "--no-in-service")
        for b in range(args.branches):
            for d in range(args.depth):
                tag = f"b{b}-{d}"
                node.cmd("lkcli", "resource", "create", "gen", "--tag", tag, "--restore", slow,
                         "--remove", ok, "--no-in-service", "--quickchk-interval", "0",
                         "--deepchk-interval", "0")
                parent = f"b{b}-{d - 1}" if d > 0 else "root"
                node.cmd("lkcli", "dependency", "create", "--parent", parent, "--child", tag)
        restore, remove = [], []
        for _ in range(args.runs):
            t0 = time.monotonic()
            node.cmd("lkcli", "resource", "restore", "--tag", "root")
            restore.append(time.monotonic() - t0)
            t0 = time.monotonic()
            node.cmd("lkcli", "resource", "remove", "--tag", "b0-9")
            node.cmd("lkcli", "resource", "remove", "--tag", "root")
            for b in range(args.branches):
                node.cmd("lkcli", "resource", "remove", "--tag", f"b{b}-9")
            remove.append(time.monotonic() - t0)
        longest = args.depth * 0.1
        med = statistics.median(restore)
        print(json.dumps({
            "resources": args.branches * args.depth + 1,
            "branches": args.branches,
            "depth": args.depth,
            "longest_branch_s": longest,
            "restore_s": {"median": round(med, 3), "min": round(min(restore), 3),
                          "max": round(max(restore), 3)},
            "ratio_to_longest_branch": round(med / longest, 3),
            "remove_all_s_median": round(statistics.median(remove), 3),
            "target_ratio": 1.2,
        }, indent=2))
    finally:
        node.close()


if __name__ == "__main__":
    main()
