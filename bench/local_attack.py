#!/usr/bin/python3
"""Benchmark: local clients attacking lkd's command socket (issue 11, finding 1).

Two nodes (node1, node2) at 100 ms x 3 heartbeats; on node1 one resource (the pidfile
application of common.py) whose quickchk runs every second and counts its runs in a file,
extended to node2. A temporary user in lkguest (read-only; created and removed here) runs
each attack of tests/helpers/sockattack.py against node1's socket for --seconds:

  longlines  30 connections sending 16 MiB request lines, again and again
  idle       900 connections that never send anything (reopened when lkd closes them)
  flood      8 threads asking `status` as fast as lkd answers
  mix        10 long-line senders, 300 idle connections and 2 flooders at once

Root asks node1's `status` every 0.5 s meanwhile. Per attack it prints: the loop's worst
stall (status "loop".recent_max_stall_ms, the worst turn of the last 10-20 s, sampled) and
the worst turn's CPU time (recent_max_cpu_ms: lkd's own work; on a busy machine the stall
also holds the time other processes had the CPU), the turns over 20 ms, whether root's status always answered, the quickchk runs against those
expected, whether node2 kept node1 ALIVE with no node-dead event (heartbeats kept going),
and what lkd refused or shed. Target: worst stall < 20 ms per attack, nothing missed.
The nodes run without lkguard (lkd's loop is what is measured). Runs as root (it
creates the user); takes about 2 minutes.
"""
import argparse
import grp
import json
import os
import pwd
import subprocess
import sys
import time

from common import ONE_CHECK, ONE_STOP, Cluster, ClusterNode, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
ATTACK = os.path.join(HERE, "..", "tests", "helpers", "sockattack.py")
USER, GROUP = "lkb_guest", "lkguest"
ATTACKS = {"longlines": 30, "idle": 900, "flood": 8, "mix": 30}
UP = """
setsid sleep 2147483 </dev/null >/dev/null 2>&1 &
echo $! > %(state)s/pid
exit 0
"""
CHECK = """
echo run >> %(state)s/checks
""" + ONE_CHECK


def start_without_guard(self, authkey=None):
    """ClusterNode.start with --no-guard: what is measured is lkd's loop, and the guard
    fences a node whose own clock it sees jump on a machine this busy."""
    args = ["--node", self.name, "--listen", f"127.0.0.1:{self.port}", "--no-guard"]
    if authkey:
        args += ["--authkey", authkey]
    self.cmd("lkstart", *args)


def make_user():
    made_group = False
    try:
        grp.getgrnam(GROUP)
    except KeyError:
        subprocess.run(["groupadd", GROUP], check=True)
        made_group = True
    try:
        pwd.getpwnam(USER)
        subprocess.run(["userdel", USER], check=False)
    except KeyError:
        pass
    subprocess.run(["useradd", "-M", "-N", "-s", "/usr/sbin/nologin", "-G", GROUP, USER],
                   check=True)
    return made_group


def drop_user(made_group):
    subprocess.run(["userdel", USER], check=False, capture_output=True)
    if made_group:
        subprocess.run(["groupdel", GROUP], check=False, capture_output=True)


def status(node):
    r = subprocess.run([f"{node.build}/lkcli", "--root", node.root, "--json", "status"],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        return None
    return json.loads(r.stdout)


def peer_alive(node, peer):
    r = subprocess.run([f"{node.build}/lkcli", "--root", node.root, "--json", "node", "list"],
                       capture_output=True, text=True, timeout=30)
    try:
        return any(n["name"] == peer and n["state"] == "ALIVE"
                   for n in json.loads(r.stdout)["nodes"])
    except (ValueError, KeyError):
        return False


def dead_events(node):
    try:
        return len([e for e in node.events(2000) if e["number"] == 1603])
    except subprocess.CalledProcessError:
        return -1


def check_runs(state):
    try:
        with open(os.path.join(state, "checks")) as f:
            return len(f.readlines())
    except OSError:
        return 0


def loop_of(st, key):
    """A figure of status's "loop" (-1 from a build without it)."""
    return st.get("loop", {}).get(key, -1)


def quiet(node, timeout=25):
    """Waits until the recent stall window holds no attack's turn (under 20 ms)."""
    return wait_for(lambda: loop_of(status(node) or {}, "recent_max_stall_ms") < 20, timeout,
                    0.5)


def run_attack(cl, state, mode, n, seconds):
    n1, n2 = cl[0], cl[1]
    quiet(n1)
    before = status(n1)
    dead1, dead2 = dead_events(n1), dead_events(n2)
    runs0 = check_runs(state)
    sock = os.path.join(n1.root, "run", "lkd.sock")
    with open(ATTACK) as src:
        p = subprocess.Popen(["runuser", "-u", USER, "--", sys.executable, "-", mode, sock,
                              str(seconds), str(n)], stdin=src, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    p.stdout.readline()
    t0 = time.monotonic()
    worst, worst_cpu, answered, failed, alive_all = 0.0, 0.0, 0, 0, True
    while time.monotonic() - t0 < seconds:
        st = status(n1)
        if st is None:
            failed += 1
        else:
            answered += 1
            worst = max(worst, loop_of(st, "recent_max_stall_ms"))
            worst_cpu = max(worst_cpu, loop_of(st, "recent_max_cpu_ms"))
        alive_all = alive_all and peer_alive(n2, n1.name)
        time.sleep(0.5)
    out, _ = p.communicate(timeout=seconds + 90)
    counts = json.loads(out.strip().splitlines()[-1])
    elapsed = time.monotonic() - t0
    after = status(n1) or {}
    worst = max(worst, loop_of(after, "recent_max_stall_ms"))
    worst_cpu = max(worst_cpu, loop_of(after, "recent_max_cpu_ms"))
    refused_after = after.get("clients", {}).get("refused", {})
    refused_before = (before or {}).get("clients", {}).get("refused", {})
    refused = {k: v - refused_before.get(k, 0) for k, v in refused_after.items()}
    return {
        "attack": mode,
        "n": n,
        "worst_stall_ms": round(worst, 2),
        "worst_turn_cpu_ms": round(worst_cpu, 2),
        "stalls_over_20ms": loop_of(after, "stalls_over_20ms")
        - loop_of(before or {}, "stalls_over_20ms"),
        "root_status": f"{answered}/{answered + failed}",
        "checks": f"{check_runs(state) - runs0}/{int(elapsed)}",
        "heartbeats_kept": alive_all and dead_events(n2) == dead2 and dead_events(n1) == dead1,
        "refused": {k: v for k, v in refused.items() if v},
        "attacker": counts,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--attacks", default=",".join(ATTACKS))
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("local_attack.py: run as root (it creates a guest user)")
    made_group = make_user()
    ClusterNode.start = start_without_guard
    cl = Cluster(args.build, 2, ["--heartbeat-interval-ms", "100", "--heartbeat-misses", "3"])
    results = []
    try:
        cl.start()
        os.chmod(cl.tmp, 0o755)
        n1 = cl[0]
        state = os.path.join(cl.tmp, "state")
        os.makedirs(state)
        v = {"state": state}
        n1.cmd("lkcli", "resource", "create", "gen", "--tag", "app",
               "--restore", cl.script("up", UP % v), "--remove", cl.script("down", ONE_STOP % v),
               "--quickchk", cl.script("check", CHECK % v), "--quickchk-interval", "1")
        n1.cmd("lkcli", "resource", "extend", "--tag", "app", "--node", cl[1].name,
               "--priority", "10")
        time.sleep(2)
        for mode in args.attacks.split(","):
            results.append(run_attack(cl, state, mode, ATTACKS[mode], args.seconds))
    finally:
        cl.close()
        drop_user(made_group)
    print(f"{'attack':<10} {'n':>4} {'worst ms':>9} {'cpu ms':>7} {'>20ms':>6} {'status':>8} "
          f"{'checks':>7} {'hb kept':>8}  refused")
    for r in results:
        print(f"{r['attack']:<10} {r['n']:>4} {r['worst_stall_ms']:>9} "
              f"{r['worst_turn_cpu_ms']:>7} {r['stalls_over_20ms']:>6} {r['root_status']:>8} {r['checks']:>7} "
              f"{str(r['heartbeats_kept']):>8}  {r['refused']}")
    print(json.dumps({"benchmark": "local_attack", "heartbeat_ms": 100, "results": results}))


if __name__ == "__main__":
    main()
