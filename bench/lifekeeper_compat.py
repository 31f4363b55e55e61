#!/usr/bin/python3
"""Benchmark: what LifeKeeper's habits cost on OpenKeeper (docs/LIFEKEEPER.md).

Two nodes on 127.0.0.1 (common.Cluster), remote-exec on, one gen/app resource `app1`
(restore and remove `exit 0`) in service on node1 and extended to node2. Times, `--runs`
times each, from the caller's side:

- `lcdremexec -d node2 -- true`: a command run on the other node over the comm paths;
- `ins_list -t app1` here and `ins_list -d node2 -t app1` (the request forwarded);
- `ins_setstate -S OSU` then `-S ISP` (no script runs): the command's answer;
- a LifeKeeper-style write: `cp -f NEW .../actions/!restore/app1` on node1 until node2's
  copy holds NEW (the watcher's settle time, define, replication);
- `lkcli cluster tunables --set K=V` on node1 until node2's tunables file holds it.

Prints one JSON object (median, p90, min, max in ms for each).
"""
import argparse
import json
import os
import shutil
import subprocess
import time

from common import Cluster, summary_ms, wait_for


def timed(cmd, env=None):
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=env)
    return (time.perf_counter() - t0) * 1000


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    cluster = Cluster(args.build, 2, settings=["--remote-exec", "on", "--max-failovers", "9"])
    result = {"runs": args.runs}
    try:
        cluster.start()
        n1, n2 = cluster[0], cluster[1]
        b = n1.build
        ok = cluster.script("ok", "exit 0\n")
        n1.cmd("lkcli", "resource", "create", "gen", "--tag", "app1", "--restore", ok,
               "--remove", ok, "--script-args", "lifekeeper")
        n1.cmd("lkcli", "resource", "extend", "--tag", "app1", "--node", "node2",
               "--priority", "10")
        if not wait_for(lambda: read(os.path.join(n2.root, "subsys/gen/resources/app/actions/"
                                                       "restore/app1")), 15, 0.05):
            raise SystemExit("app1 never reached node2")
        env = dict(os.environ, LKROOT=n1.root)
        env.pop("LK_TAG", None)

        result["lcdremexec_ms"] = summary_ms(
            [timed([f"{b}/lcdremexec", "-d", "node2", "--", "true"], env)
             for _ in range(args.runs)])
        result["ins_list_local_ms"] = summary_ms(
            [timed([f"{b}/ins_list", "-t", "app1"], env) for _ in range(args.runs)])
        result["ins_list_forwarded_ms"] = summary_ms(
            [timed([f"{b}/ins_list", "-d", "node2", "-t", "app1"], env)
             for _ in range(args.runs)])
        osu, isp = [], []
        for _ in range(args.runs):
            osu.append(timed([f"{b}/ins_setstate", "-t", "app1", "-S", "OSU", "-R", "bench"],
                             env))
            isp.append(timed([f"{b}/ins_setstate", "-t", "app1", "-S", "ISP"], env))
        result["ins_setstate_osu_ms"] = summary_ms(osu)
        result["ins_setstate_isp_ms"] = summary_ms(isp)

        lk_file = os.path.join(n1.root, "subsys/gen/resources/app/actions/!restore/app1")
        copy2 = os.path.join(n2.root, "subsys/gen/resources/app/actions/restore/app1")
        writes, missed = [], 0
        for i in range(args.runs):
            new = cluster.script(f"restore{i}", f"# version {i}\nexit 0\n")
            want = read(new)
            t0 = time.perf_counter()
            shutil.copyfile(new, lk_file)  # in place, as `cp -f` writes an existing file
            if wait_for(lambda: read(copy2) == want, 10, 0.002):
                writes.append((time.perf_counter() - t0) * 1000)
            else:
                missed += 1
        result["lk_path_write_to_peer_copy_ms"] = summary_ms(writes)
        result["lk_path_write_missed"] = missed

        tun2 = os.path.join(n2.root, "etc", "default", "LifeKeeper")
        tun, missed = [], 0
        for i in range(args.runs):
            t0 = time.perf_counter()
            n1.cmd("lkcli", "cluster", "tunables", "--set", f"BENCH_RUN={i}")
            if wait_for(lambda: f"BENCH_RUN={i}\n".encode() in (read(tun2) or b""), 10, 0.002):
                tun.append((time.perf_counter() - t0) * 1000)
            else:
                missed += 1
        result["tunables_set_to_peer_file_ms"] = summary_ms(tun)
        result["tunables_missed"] = missed
    finally:
        cluster.close()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
