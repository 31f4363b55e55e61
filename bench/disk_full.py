#!/usr/bin/python3
"""Benchmark: a killed application on a node whose disk is full (issue 11, item 3).

One node whose root is a 48 MiB tmpfs of its own (needs root to mount it), one resource
watched by its pidfile (restore and recover start `sleep` and write the pidfile, which
lives outside the root). The application is killed with SIGKILL, 20 times with room on
the disk, then 20 times with the root filled until ENOSPC (the first failed write frees
the 4 MiB reserve; it is filled again, so that the runs after it go on from memory
alone). We measure until a new application process runs (polling every 5 ms), then how
long the node takes to say its database is writable again once the filler is deleted
(catch-up, retried every second). Prints a table and a JSON object.
Before issue 11 the application stayed dead with a full disk (no recovery at all).
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import time

from common import ONE_STOP as STOP, Node, kill_and_wait, summary_ms, wait_for

START = """
state=%(state)s
setsid sleep 100000 </dev/null >/dev/null 2>&1 &
echo $! > "$state/pid"
exit 0
"""


def fill(path):
    """Writes path/filler until ENOSPC; returns its path."""
    filler = os.path.join(path, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 20, 1 << 16, 4096, 512, 1):
            chunk = b"\0" * size
            while True:
                try:
                    os.write(fd, chunk)
                except OSError:
                    break
    finally:
        os.close(fd)
    return filler


def store(node):
    out = node.cmd("lkcli", "--json", "status", capture=True).stdout
    return json.loads(out).get("store", {})


def kill_ms(state):
    """A short random pause, then the application killed: ms until it runs again."""
    time.sleep(0.2 + random.random() * 0.3)
    return kill_and_wait(state) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()

    node = Node(args.build)
    os.makedirs(node.root)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m,mode=0755", "tmpfs", node.root],
                   check=True)
    fillers = []
    try:
        node.start()
        state = os.path.join(node.tmp, "state")
        os.makedirs(state)
        v = {"state": state}
        start = node.script("start", START % v)
        node.cmd("lkcli", "resource", "create", "gen", "--tag", "app", "--restore", start,
                 "--remove", node.script("stop", STOP % v), "--recover", start,
                 "--pidfile", os.path.join(state, "pid"), "--quickchk-interval", "60",
                 "--max-recoveries", "100", "--recovery-window", "1")
        wait_for(lambda: os.path.exists(os.path.join(state, "pid")), 10)

        room = [kill_ms(state) for _ in range(args.runs)]

        fillers.append(fill(node.root))
        first = kill_ms(state)  # frees the reserve, written there
        fillers.append(fill(os.path.join(node.root, "var")))
        full = [kill_ms(state) for _ in range(args.runs)]
        st = store(node)
        if st.get("writable") is not False:
            raise SystemExit(f"the store should not be writable: {st}")

        t0 = time.monotonic()
        for f in fillers:
            os.unlink(f)
        fillers.clear()
        if not wait_for(lambda: store(node).get("writable") is True, 30, step=0.02):
            raise SystemExit("the store did not become writable again within 30 s")
        catch_up_ms = (time.monotonic() - t0) * 1000
    finally:
        for f in fillers:
            try:
                os.unlink(f)
            except OSError:
                pass
        try:
            node.close()
        finally:
            subprocess.run(["umount", "-l", node.root], check=False)
            shutil.rmtree(node.tmp, ignore_errors=True)

    result = {
        "runs": args.runs,
        "recovered_ms_room_on_disk": summary_ms(room),
        "recovered_ms_first_full_write": round(first, 1),
        "recovered_ms_disk_full_from_memory": summary_ms(full),
        "writable_again_after_space_returns_ms": round(catch_up_ms, 1),
        "kept_events_when_full": st.get("kept_events"),
    }
    print(f"{'case':<36} {'median ms':>10} {'p90 ms':>8}")
    for name, key in (("room on the disk", "recovered_ms_room_on_disk"),
                      ("disk full, from memory", "recovered_ms_disk_full_from_memory")):
        s = result[key]
        print(f"{name:<36} {s['median']:>10} {s['p90']:>8}")
    print(f"{'first full write (reserve freed)':<36} {result['recovered_ms_first_full_write']:>10}")
    print(f"{'writable again after space returns':<36} "
          f"{result['writable_again_after_space_returns_ms']:>10}")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
