"""Shared helpers for the benchmarks: a node in a temporary root, scripts, /proc readers."""
import json
import os
import shutil
import subprocess
import tempfile
import time


class Node:
    def __init__(self, build, name="bench"):
        self.build = os.path.abspath(build)
        self.tmp = tempfile.mkdtemp(prefix="lkbench-")
        os.chmod(self.tmp, 0o755)
        self.root = os.path.join(self.tmp, "root")
        self.name = name

    def cmd(self, prog, *args, check=True, capture=False):
        return subprocess.run([f"{self.build}/{prog}", "--root", self.root, *args], check=check,
                              stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                              text=True)

    def start(self):
        self.cmd("lkstart", "--node", self.name)

    def pid(self):
        with open(os.path.join(self.root, "run", "lkd.pid")) as f:
            return int(f.read().strip())

    def script(self, name, body):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write("#!/bin/sh\n" + body)
        os.chmod(path, 0o755)
        return path

    def events(self, n=200):
        out = self.cmd("lkcli", "--json", "log", "-n", str(n), capture=True).stdout
        return json.loads(out)

    def close(self):
        # Plain lkstop: the applications the benchmark started are removed too.
        r = subprocess.run([f"{self.build}/lkstop", "--root", self.root],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if r.returncode != 0:
            subprocess.run([f"{self.build}/lkstop", "-f", "--root", self.root],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.tmp, ignore_errors=True)


def proc_stat(pid):
    """(utime, stime, cutime, cstime) in clock ticks, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    fields = data[data.rindex(")") + 2:].split()
    return tuple(int(fields[i]) for i in (11, 12, 13, 14))


def alive(pid):
    """True when pid runs and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return False
    return data[data.rindex(")") + 2] not in "ZX"


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def wait_for(pred, timeout, step=0.005):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return None
