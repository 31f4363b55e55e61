#!/usr/bin/python3
"""Benchmark: detection + recovery latency after `kill -9` of the protected application.

One node, one resource whose restore/recover start `sleep` under a marker and write a
pidfile; quickchk checks the pid. The application is killed with SIGKILL at a random
moment of the check cycle; we measure until a new application process runs (polling every
5 ms). 20 runs with a 1 s quickchk interval, without and with --pidfile (pidfd watch).
The recover script's own duration (from event 1502) is reported next to it. Prints JSON.
Targets (issue #3): median <= 0.6 s without pidfile; <= 50 ms plus recover's own time
with it.
"""
import argparse
import json
import os
import random
import re
import statistics
import time

from common import ONE_CHECK as CHECK, ONE_STOP as STOP, Node, kill_and_wait

START = """
d=$(dirname "$0"); state=%(state)s
setsid sleep 100000 </dev/null >/dev/null 2>&1 &
echo $! > "$state/pid"
exit 0
"""


def run_series(build, runs, pidfile):
    node = Node(build)
    try:
        node.start()
        state = os.path.join(node.tmp, "state")
        os.makedirs(state)
        tag = "app"
        v = {"state": state, "tag": tag}
        start = node.script("start", START % v)
        args = ["resource", "create", "gen", "--tag", tag, "--restore", start,
                "--remove", node.script("stop", STOP % v),
                "--quickchk", node.script("check", CHECK % v), "--recover", start,
                "--quickchk-interval", "1", "--max-recoveries", "100",
                "--recovery-window", "1"]
        if pidfile:
            args += ["--pidfile", os.path.join(state, "pid")]
        node.cmd("lkcli", *args)
        latencies = []
        for _ in range(runs):
            time.sleep(0.3 + random.random())
            latencies.append(kill_and_wait(state) * 1000)
        durations = [int(m.group(1)) for e in node.events(400)
                     if e["number"] == 1502
                     for m in [re.search(r"\((\d+) ms\)", e["message"])] if m]
        return {
            "runs": runs,
            "latency_ms": {"median": round(statistics.median(latencies), 1),
                           "p90": round(sorted(latencies)[int(0.9 * len(latencies)) - 1], 1),
                           "min": round(min(latencies), 1), "max": round(max(latencies), 1)},
            "recover_script_ms_median": statistics.median(durations) if durations else None,
        }
    finally:
        node.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    result = {
        "quickchk_interval_s": 1,
        "without_pidfile": run_series(args.build, args.runs, False),
        "with_pidfile": run_series(args.build, args.runs, True),
        "targets": {"without_pidfile_median_ms": 600,
                    "with_pidfile_median_ms": "50 + recover script time"},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
