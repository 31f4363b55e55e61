#!/usr/bin/python3
"""Benchmark: an OCF heartbeat:IPaddr2 address switched over between two network namespaces.

Two network namespaces joined by a veth pair carrying a /24 of their own (10.87.X.1 and .2);
one lkd in each (node1, node2, started with `ip netns exec`, each with its own HA_RSCTMP),
comm paths over the veth. An `ocf` resource `vip` (heartbeat:IPaddr2, ip 10.87.X.100/24)
created on node1 and extended to node2. We time `lkcli resource restore --tag vip --node
nodeN` (the address removed on one side by the agent's stop, added on the other by its
start, as lkd runs them), `--runs` times each way, and after each command the time until a
TCP listener in the target namespace answers at the address, asked from the other one
(gratuitous ARP and all). The command returns when the switchover is complete: the address
is checked at once to be in the target namespace only. Prints JSON. Needs root and
`ip netns`; removes its namespaces, daemons and files at the end.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from common import free_ports, remove_cgroups, summary_ms, wait_for

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "helpers"))
from netprogs import ANSWERING_LISTENER  # noqa: E402

CLIENT = """
import socket, sys, time
deadline = time.monotonic() + float(sys.argv[4])
t0 = time.monotonic()
while time.monotonic() < deadline:
    try:
        c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=0.2)
        if c.recv(64).decode() == sys.argv[3]:
            print(round((time.monotonic() - t0) * 1000, 1))
            sys.exit(0)
        c.close()
    except OSError:
        pass
    time.sleep(0.002)
print(-1)
"""


def ip(*args, ns=None, check=True):
    argv = ["ip"] + (["-n", ns] if ns else []) + [str(a) for a in args]
    return subprocess.run(argv, check=check, capture_output=True, text=True, timeout=60)


class NsNode:
    def __init__(self, build, tmp, name, ns, port, address):
        self.build, self.tmp, self.name, self.ns, self.port = build, tmp, name, ns, port
        self.address = address
        self.root = os.path.join(tmp, name)
        self.run_dir = os.path.join(tmp, f"ocfrun-{name}")
        os.makedirs(self.run_dir, exist_ok=True)

    def cmd(self, prog, *args, check=True, capture=False):
        return subprocess.run([f"{self.build}/{prog}", "--root", self.root, *args], check=check,
                              stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, timeout=120)

    def start(self, authkey=None):
        env = dict(os.environ, HA_RSCTMP=self.run_dir, HA_VARRUN=self.run_dir)
        argv = ["ip", "netns", "exec", self.ns, f"{self.build}/lkstart", "--root", self.root,
                "--node", self.name, "--listen", f"0.0.0.0:{self.port}", "--no-guard"]
        if authkey:
            argv += ["--authkey", authkey]
        subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL, timeout=120)

    def has(self, vip):
        return f" {vip}/24 " in ip("-o", "-4", "addr", "show", ns=self.ns).stdout

    def stop(self):
        for args in ([], ["-f"]):
            r = subprocess.run([f"{self.build}/lkstop", *args, "--root", self.root],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
            if r.returncode == 0:
                break
        remove_cgroups(self.root)


def answered_after(ns, vip, port, name, timeout=10.0):
    p = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", CLIENT, vip, str(port),
                        name, str(timeout)], capture_output=True, text=True, timeout=60)
    return float(p.stdout.strip() or -1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    if os.geteuid() != 0:
        raise SystemExit("needs root (network namespaces)")
    tmp = tempfile.mkdtemp(prefix="lkbench-")
    os.chmod(tmp, 0o755)
    tag = f"{os.getpid() % 100000}"
    nss = [f"okb-{tag}-1", f"okb-{tag}-2"]
    net = f"10.87.{os.getpid() % 250}"
    vip = f"{net}.100"
    devs = [f"okb{tag}a", f"okb{tag}b"]
    nodes, listeners = [], []
    result = {"agent": "heartbeat:IPaddr2", "runs": args.runs, "heartbeat": "200 ms x 3"}
    try:
        for ns in nss:
            ip("netns", "add", ns)
            ip("link", "set", "lo", "up", ns=ns)
        ip("link", "add", devs[0], "netns", nss[0], "type", "veth", "peer", "name", devs[1],
           "netns", nss[1])
        for i in range(2):
            ip("addr", "add", f"{net}.{i + 1}/24", "dev", devs[i], ns=nss[i])
            ip("link", "set", devs[i], "up", ns=nss[i])
        ports = free_ports(3)
        for i in range(2):
            nodes.append(NsNode(build, tmp, f"node{i + 1}", nss[i], ports[i], f"{net}.{i + 1}"))
        key = None
        for n in nodes:
            n.start(key)
            key = key or os.path.join(nodes[0].root, "etc", "authkey")
        n1, n2 = nodes
        n1.cmd("lkcli", "commpath", "create", "--node", "node2", "--address",
               f"{n2.address}:{n2.port}")
        n2.cmd("lkcli", "commpath", "create", "--node", "node1", "--address",
               f"{n1.address}:{n1.port}")
        n1.cmd("lkcli", "cluster", "config", "--heartbeat-interval-ms", "200",
               "--heartbeat-misses", "3")

        def alive():
            out = n1.cmd("lkcli", "--json", "node", "list", capture=True, check=False).stdout
            try:
                return any(x["name"] == "node2" and x["state"] == "ALIVE" and x.get("synced")
                           for x in json.loads(out)["nodes"])
            except (ValueError, KeyError):
                return False

        if not wait_for(alive, 30, 0.05):
            raise SystemExit("node2 never ALIVE and synced on node1")
        for n in nodes:
            listeners.append(subprocess.Popen(["ip", "netns", "exec", n.ns, sys.executable,
                                               "-c", ANSWERING_LISTENER, str(ports[2]), n.name]))
        t0 = time.monotonic()
        n1.cmd("lkcli", "resource", "create", "ocf", "--tag", "vip", "--agent",
               "heartbeat:IPaddr2", "--param", f"ip={vip}", "--param", "cidr_netmask=24",
               "--quickchk-interval", "5")
        result["create_ms"] = round((time.monotonic() - t0) * 1000, 1)
        n1.cmd("lkcli", "resource", "extend", "--tag", "vip", "--node", "node2", "--priority",
               "10")
        if not (n1.has(vip) and not n2.has(vip)):
            raise SystemExit("the address is not on node1 only after create")
        times = {"to_node2": [], "to_node1": []}
        reach = {"to_node2": [], "to_node1": []}
        for _ in range(args.runs):
            for key_, to, off in (("to_node2", n2, n1), ("to_node1", n1, n2)):
                time.sleep(0.3)
                t0 = time.monotonic()
                off.cmd("lkcli", "resource", "restore", "--tag", "vip", "--node", to.name)
                times[key_].append((time.monotonic() - t0) * 1000)
                if not (to.has(vip) and not off.has(vip)):
                    result.setdefault("problems", []).append(
                        f"lkcli returned before the address was on {to.name} only")
                ms = answered_after(off.ns, vip, ports[2], to.name)
                if ms < 0:
                    result.setdefault("problems", []).append(
                        f"{to.name} never answered at {vip} from {off.name}")
                else:
                    reach[key_].append(ms)
        result["switchover_ms"] = {k: summary_ms(v) for k, v in times.items()}
        result["answering_after_ms"] = {k: summary_ms(v) for k, v in reach.items()}
        n1.cmd("lkcli", "resource", "remove", "--tag", "vip", check=False)
    finally:
        for p in listeners:
            p.kill()
            p.wait(timeout=30)
        for n in nodes:
            n.stop()
        for ns in nss:
            ip("netns", "del", ns, check=False)
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
