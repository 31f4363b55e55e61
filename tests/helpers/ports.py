"""Ports for the daemons the tests start: free now, and not about to be taken by somebody
else before the daemon binds them.

A port the kernel hands out for bind(0) comes from the ephemeral range, the range every
outgoing connection of the machine also takes its source port from: with tests running in
parallel (pytest-xdist), some client's connect could take the port between the test's
check and lkd's bind ("address already in use"). These ports come from below that range,
a slice of it per xdist worker, starting at a random place, each checked free for TCP and
UDP (lkd's comm port is both: connections and pulses) before it is given out.
"""

import os
import random
import socket

_next = {}


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _slice():
    """(first, count) of this worker's ports, below the ephemeral range."""
    high = min(_ephemeral_low(), 65536) - 1
    low = 10000
    if high - low < 2000:
        return None
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    workers = max(int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1), index + 1)
    size = (high - low) // workers
    return low + index * size, size


def _bindable(port):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def free_port():
    """A port on 127.0.0.1 nothing uses right now, TCP and UDP."""
    part = _slice()
    if part:
        first, size = part
        start = _next.get(first, first + random.randrange(size))
        for i in range(size):
            port = first + (start - first + i) % size
            if _bindable(port):
                _next[first] = port + 1
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
