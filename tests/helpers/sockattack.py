"""Local attacks on lkd's command socket, for tests/scenario/test_hard_socket.py and
bench/local_attack.py. Runs as whatever user starts it (the tests start it as a guest with
runuser, feeding this file on stdin: `python3 - MODE SOCKET SECONDS [N]`), attacks for
SECONDS and prints one JSON object of counts on stdout.

Modes:
  longlines N  N connections, each sending a 16 MiB request line with no newline, again
               and again (a new connection when lkd closes one)
  idle N       holds up to N connections that never send anything, opening a new one
               whenever lkd closes one; counts what lkd refused or closed
  flood N      N threads asking `status` as fast as lkd answers
  mix N        longlines N/3, idle 10 N, flood 2, at once
"""

import json
import os
import select
import socket
import sys
import threading
import time

CHUNK = b"a" * 65536
LINE = 16 * 1024 * 1024
STATUS = b'{"v":1,"cmd":"status"}\n'


class Counts:
    def __init__(self):
        self.lock = threading.Lock()
        self.c = {}

    def add(self, key, n=1):
        with self.lock:
            self.c[key] = self.c.get(key, 0) + n

    def max(self, key, v):
        with self.lock:
            self.c[key] = max(self.c.get(key, 0), v)


def connect(path, timeout=5.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def longlines(path, deadline, counts):
    while time.monotonic() < deadline:
        try:
            s = connect(path)
        except OSError:
            counts.add("connect_failed")
            time.sleep(0.01)
            continue
        counts.add("long_connections")
        sent = 0
        try:
            s.settimeout(2.0)
            while sent < LINE and time.monotonic() < deadline:
                s.sendall(CHUNK)
                sent += len(CHUNK)
        except OSError:
            counts.add("long_closed_by_lkd")
        finally:
            counts.add("long_bytes", sent)
            s.close()


def idle(path, deadline, counts, n):
    held = []
    while time.monotonic() < deadline:
        while len(held) < n and time.monotonic() < deadline:
            try:
                s = connect(path, timeout=1.0)
            except OSError:
                counts.add("connect_failed")
                break
            held.append(s)
            counts.add("idle_opened")
        counts.max("idle_max_held", len(held))
        if not held:
            time.sleep(0.05)
            continue
        for s in _poll(held):
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if b"busy" in data:
                counts.add("idle_refused_busy")
            else:
                counts.add("idle_closed_by_lkd")
            s.close()
            held.remove(s)
    counts.max("idle_held_at_end", len(held))
    for s in held:
        s.close()


def _poll(socks):
    p = select.poll()
    by_fd = {s.fileno(): s for s in socks}
    for fd in by_fd:
        p.register(fd, select.POLLIN | select.POLLHUP)
    return [by_fd[fd] for fd, _ in p.poll(50)]


def flood(path, deadline, counts):
    while time.monotonic() < deadline:
        try:
            s = connect(path)
            s.sendall(STATUS)
            data = b""
            while not data.endswith(b"\n"):
                b = s.recv(65536)
                if not b:
                    break
                data += b
            s.close()
        except OSError:
            counts.add("flood_error")
            continue
        if b'"ok":true' in data:
            counts.add("flood_ok")
        elif b"busy" in data:
            counts.add("flood_shed")
        else:
            counts.add("flood_other")


def main(argv):
    mode, path, seconds = argv[0], argv[1], float(argv[2])
    n = int(argv[3]) if len(argv) > 3 else 1
    deadline = time.monotonic() + seconds
    counts = Counts()
    threads = []

    def spawn(fn, *args):
        t = threading.Thread(target=fn, args=(path, deadline, counts) + args, daemon=True)
        t.start()
        threads.append(t)

    if mode == "longlines":
        for _ in range(n):
            spawn(longlines)
    elif mode == "idle":
        spawn(idle, n)
    elif mode == "flood":
        for _ in range(n):
            spawn(flood)
    elif mode == "mix":
        for _ in range(max(1, n // 3)):
            spawn(longlines)
        spawn(idle, 10 * n)
        for _ in range(2):
            spawn(flood)
    else:
        print(f"unknown mode {mode!r}", file=sys.stderr)
        return 2
    print(json.dumps({"ready": True, "pid": os.getpid()}), flush=True)
    for t in threads:
        t.join(seconds + 30)
    print(json.dumps(counts.c), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
