#!/usr/bin/python3
"""Benchmark: a keyless flood of bad frames on a node's comm port (issue 11, item 4).

One node; N connections to its comm port, each sending one malformed frame, as fast as
one client goes. Measured: the flood's rate, the frames the node counted as dropped
(`commpath list`), the events it wrote (`lkcli log`: frame-dropped 1604 and in all), the
growth of log/lk.log, and lkd's CPU time (/proc). Before issue 11 every dropped frame was
one event; now the events are a burst and summaries (docs/DESIGN.md, "Hardening: events
under a flood"). Prints a small table and, with --json, one JSON object.
"""
import argparse
import json
import os
import socket
import time

from common import Node, proc_stat, wait_for

GARBAGE = b"GET / HTTP/1.0\r\n\r\n"


def port_of(node):
    with open(os.path.join(node.root, "etc", "lk.conf")) as f:
        for line in f:
            if line.startswith("listen"):
                return int(line.rsplit(":", 1)[1])
    raise RuntimeError("no listen address in lk.conf")


def dropped(node):
    out = node.cmd("lkcli", "--json", "commpath", "list", capture=True).stdout
    return sum(sum(e["dropped"].values()) for e in json.loads(out) if e["name"] is None)


def cpu_s(pid):
    utime, stime, _, _ = proc_stat(pid)
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def run(build, frames):
    node = Node(build)
    try:
        node.start()
        port = port_of(node)
        lk_log = os.path.join(node.root, "log", "lk.log")
        base_events = len(node.events(10000))
        base_bytes = os.path.getsize(lk_log)
        base_dropped = dropped(node)
        pid = node.pid()
        cpu0 = cpu_s(pid)
        t0 = time.monotonic()
        for _ in range(frames):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            try:
                s.sendall(GARBAGE)
            except OSError:
                pass
            s.close()
        wait_for(lambda: dropped(node) >= base_dropped + frames, timeout=600, step=0.2)
        took = time.monotonic() - t0
        cpu = cpu_s(pid) - cpu0
        # The last summary goes out at the end of its 10 s interval.
        time.sleep(11)
        events = node.events(10000)[base_events:]
        return {
            "frames": frames,
            "seconds": round(took, 2),
            "frames_per_s": round(frames / took),
            "dropped_counted": dropped(node) - base_dropped,
            "events": len(events),
            "events_1604": len([e for e in events if e["number"] == 1604]),
            "lk_log_bytes": os.path.getsize(lk_log) - base_bytes,
            "lkd_cpu_s": round(cpu, 2),
        }
    finally:
        node.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--frames", type=int, default=5000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    r = run(args.build, args.frames)
    if args.json:
        print(json.dumps(r))
        return
    print(f"{'frames':>8} {'s':>6} {'frames/s':>9} {'dropped':>8} {'events':>7} "
          f"{'1604':>6} {'lk.log B':>9} {'lkd cpu s':>9}")
    print(f"{r['frames']:>8} {r['seconds']:>6} {r['frames_per_s']:>9} {r['dropped_counted']:>8} "
          f"{r['events']:>7} {r['events_1604']:>6} {r['lk_log_bytes']:>9} {r['lkd_cpu_s']:>9}")


if __name__ == "__main__":
    main()
