#!/usr/bin/python3
"""Benchmark: a systemd unit's failure noticed by subscription (docs/SYSTEMD.md, "Watch").

One node, one systemd resource on a real systemd user manager fenced in a cgroup and
cgroup + mount namespaces of its own (tests/helpers/usermanager.py; lkd reaches it through
LK_SYSTEMD_BUS). The unit is `sleep <marker>` with Restart=always (the cluster's drop-in
makes it Restart=no); quickchk every 30 s, so a check never finds the failure first. The
unit's main pid is killed with SIGKILL at a random moment; lk_systemd's watcher hears the
unit's PropertiesChanged (ActiveState failed), exits, and lkd's cgroup watch logs event
1512 and recovers (restart, event 1502). detection_ms = event 1512's time_ms (wall clock,
1 ms) minus the kill's wall clock; kill_to_active_ms = until the manager shows the unit
active again with a new main pid (polled every 2 ms over D-Bus). 20 runs. Prints JSON.
Target: median detection <= 50 ms.
"""
import argparse
import json
import os
import random
import signal
import sys
import time

from common import Node, detections_ms, summary_ms, wait_for

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "helpers"))
import usermanager  # noqa: E402

TAG = "unit"
UNIT = "lkbench-detect.service"
TARGET_MS = 50


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()

    ok, why = usermanager.usable()
    if not ok:
        print(json.dumps({"skipped": f"no fenced systemd user manager here: {why}"}))
        return
    um = usermanager.UserManager()
    node = None
    result = {"runs": args.runs, "quickchk_interval_s": 30, "watch": "lk_systemd watch in "
              "the resource's cgroup (PropertiesChanged)", "manager": "systemd --user, fenced"}
    try:
        um.start()
        marker = str(random.randint(1_000_000_000, 1_999_999_999))
        um.write_unit(UNIT, "[Service]\nExecStart=/bin/sleep %s\nRestart=always\n" % marker)
        um.reload()
        os.environ["LK_SYSTEMD_BUS"] = um.address
        node = Node(args.build)
        node.start()
        node.cmd("lkcli", "resource", "create", "systemd", "--tag", TAG, "--unit", UNIT,
                 "--quickchk-interval", "30", "--max-recoveries", "100",
                 "--recovery-window", "1")
        if not wait_for(lambda: um.active_state(UNIT) == "active", 10):
            raise SystemExit("the unit did not start")
        kills, latencies = [], []
        for i in range(args.runs):
            time.sleep(0.3 + random.random())
            if not wait_for(lambda: um.active_state(UNIT) == "active" and um.main_pid(UNIT), 10):
                raise SystemExit(f"run {i + 1}: the unit is not active")
            old = um.main_pid(UNIT)
            wall0, t0 = time.time() * 1000, time.monotonic()
            os.kill(old, signal.SIGKILL)
            back = lambda: (um.active_state(UNIT) == "active"  # noqa: E731
                            and um.main_pid(UNIT) not in (0, old))
            if not wait_for(back, 10, 0.002):
                raise SystemExit(f"run {i + 1}: the unit did not come back in 10 s")
            latencies.append((time.monotonic() - t0) * 1000)
            kills.append(wall0)
        events = sorted(node.events(1000), key=lambda e: e["time_ms"])
        detect, missed = detections_ms(events, kills)
        result["detection_ms"] = summary_ms(detect)
        result["kill_to_active_ms"] = summary_ms(latencies)
        result["detection_note"] = ("event 1512's time_ms (wall clock, ms) minus the kill's "
                                    "wall clock: +-1 ms")
        result["runs_without_1512"] = missed
        result["automatic_restarts_by_systemd"] = int(
            um.unit_property(UNIT, "NRestarts", "org.freedesktop.systemd1.Service"))
        result["target_ms"] = TARGET_MS
        if detect:
            result["pass"] = missed == 0 and sorted(detect)[len(detect) // 2] <= TARGET_MS
    finally:
        if node is not None:
            node.close()
        problems = um.stop()
        if problems:
            result["cleanup_problems"] = problems
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
