#!/usr/bin/python3
"""Benchmark: switchover of a 10-resource hierarchy between two nodes.

Two nodes (node1, node2) on 127.0.0.1 with comm paths both ways; a chain of 10 resources
(r0 the root, each the parent of the next; restore and remove `exit 0`) created on node1
and extended to node2. We time `lkcli --root NODE1 resource restore --tag r0 --node node2`
(every resource out of service on node1, then in service on node2) and the way back
(`--node node1`, issued on node2: each command runs on the node that holds the hierarchy),
`--runs` times each, and check after every command that all 10 are ISP
on the target and OSU on the other node. Prints JSON.
"""
import argparse
import json
import os
import subprocess
import time

from common import Cluster, summary_ms, wait_for


def states(node):
    """{tag: state} of this node's own copies."""
    r = subprocess.run([f"{node.build}/lkcli", "--root", node.root, "--json", "status"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=5)
    return {res["tag"]: res["state"] + ("*" if res.get("pending") else "")
            for res in json.loads(r.stdout).get("resources", [])}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    ap.add_argument("--resources", type=int, default=10)
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    cluster = Cluster(args.build, 2)
    result = {"resources": args.resources, "shape": "chain", "runs": args.runs}
    try:
        cluster.start()
        n1, n2 = cluster[0], cluster[1]
        ok = cluster.script("ok", "exit 0\n")
        tags = [f"r{i}" for i in range(args.resources)]
        for i, tag in enumerate(tags):
            n1.cmd("lkcli", "resource", "create", "gen", "--tag", tag, "--restore", ok,
                   "--remove", ok, "--no-in-service", "--quickchk-interval", "0",
                   "--deepchk-interval", "0")
            if i:
                n1.cmd("lkcli", "dependency", "create", "--parent", tags[i - 1], "--child", tag)
        n1.cmd("lkcli", "resource", "restore", "--tag", tags[0])
        n1.cmd("lkcli", "resource", "extend", "--tag", tags[0], "--node", n2.name,
               "--priority", "10")

        def placed(on, off):
            a, b = states(on), states(off)
            return (all(a.get(t) == "ISP" for t in tags) and
                    all(b.get(t) == "OSU" for t in tags))

        if not wait_for(lambda: placed(n1, n2), 10, 0.05):
            raise SystemExit(f"not ISP on node1 / OSU on node2: {states(n1)} {states(n2)}")
        times = {"to_node2": [], "to_node1": []}
        for _ in range(args.runs):
            for key, to, off in (("to_node2", n2, n1), ("to_node1", n1, n2)):
                time.sleep(0.2)
                t0 = time.monotonic()
                off.cmd("lkcli", "resource", "restore", "--tag", tags[0], "--node", to.name)
                times[key].append((time.monotonic() - t0) * 1000)
                # the command returns when the switchover is complete: check at once
                if not placed(to, off):
                    # and, to tell "late" from "wrong", a second look a little later
                    late = wait_for(lambda: placed(to, off), 5, 0.01)
                    result.setdefault("problems", []).append(
                        f"lkcli returned before the hierarchy was ISP on {to.name} and OSU "
                        f"on {off.name}" + (" (it was, a moment later)" if late else
                                            f": {states(to)} / {states(off)}"))
        result["switchover_ms"] = {k: summary_ms(v) for k, v in times.items()}
        # The way back asked on the node that does not hold the hierarchy (node1 is where
        # it was created): must work as well.
        n1.cmd("lkcli", "resource", "restore", "--tag", tags[0], "--node", n2.name)
        r = subprocess.run([f"{n1.build}/lkcli", "--root", n1.root, "resource", "restore",
                            "--tag", tags[0], "--node", n1.name], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            result.setdefault("problems", []).append(
                f"on node1, 'resource restore --tag {tags[0]} --node node1' while node2 holds "
                f"it: exit {r.returncode}: {r.stderr.strip()}")
        print(json.dumps(result, indent=2))
    finally:
        cluster.close()


if __name__ == "__main__":
    main()
