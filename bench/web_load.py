#!/usr/bin/python3
"""Benchmark: the web console (lkweb, docs/WEB.md) under load, and what it costs lkd.

Two nodes (node1, node2) at 100 ms x 3 heartbeats (--heartbeat-ms), started without
lkguard (lkd's loop is what is measured, as in local_attack.py); on node1 one resource
(the pidfile application of common.py) extended to node2; lkweb on node1 (`lkweb --root
... --ui <repo>/web`), a guest and an operator token (`lkcli web token create`). Each
scenario runs while:

  - a probe client asks GET /api/v1/status every 100 ms, on a new connection each time,
    from its own address (127.0.0.2: lkweb's per-address limit is 32 connections);
  - root asks node1's and node2's `status` and node2's `node.list` over their sockets
    every 0.5 s.

Scenarios:

  idle       nothing else (the baseline)
  hammer     32 threads asking GET /api/v1/status and /api/v1/events?limit=100 (16 each;
             --events-query sets the latter's query)
             as fast as lkweb answers, keep-alive, for --seconds (20)
  slow       300 idle keep-alive connections (one request answered, then silence) and
             50 slow-loris clients (half a request header, then one byte every 5 s), from
             127.0.1.x (30 an address) and 127.0.2.x (25 an address), for 35 s; a
             connection lkweb closes is opened again a second later
  sse        60 live streams (GET /api/v1/stream) open while the resource is switched over
             to node2 and back 5 times through the API (POST .../switchover, operator)
  oversized  8 threads POSTing 1 MiB bodies (Content-Length: 1048576, guest) to
             /api/v1/resources/app/restore for 15 s: 413 expected, read no further
  fill       not a load: writes --events (5000) INFO events into node1's log (log.write),
             so that the scenarios after it meet the log of a node that has run a while
             (a filtered GET /api/v1/events asked lkd for the last 5000 before lkd
             applied the filters itself)

Default order (--scenarios): idle, hammer, slow, sse, oversized, fill, idle, hammer.

Per scenario: lkd's worst loop turn (the largest status "loop".recent_max_stall_ms
sampled, the worst turn of the last 10-20 s, for node1 and node2) and its CPU time
(recent_max_cpu_ms), the turns over 20 ms, whether node2 ever saw node1 other than ALIVE
or either node logged event 1603 (node DEAD), the probe's latency (p50, p99, max) and
failures, lkweb's and node1's lkd's CPU time (user + system, /proc/PID/stat), the load's
own counts. Prints a table, then one JSON line. Runs as root; takes about 4 minutes.
"""
import argparse
import collections
import http.client
import json
import os
import select
import selectors
import socket
import statistics
import subprocess
import sys
import threading
import time

from common import (CHECK, DOWN, UP, Client, Cluster, ClusterNode, free_ports, percentile,
                    proc_stat, wait_for)

HERE = os.path.dirname(os.path.abspath(__file__))
TICK_MS = 1000.0 / os.sysconf("SC_CLK_TCK")
PROBE_SRC = "127.0.0.2"
MIB = 1024 * 1024


def run_threads(threads, stop, counts, seconds):
    """Runs the load threads for seconds, then stops them; (elapsed s, the counts summed)."""
    t0 = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(60)
    el = time.monotonic() - t0
    total = collections.Counter()
    for c in counts:
        total.update(c)
    return el, total


def start_without_guard(self, authkey=None):
    """ClusterNode.start with --no-guard (see local_attack.py)."""
    args = ["--node", self.name, "--listen", f"127.0.0.1:{self.port}", "--no-guard"]
    if authkey:
        args += ["--authkey", authkey]
    self.cmd("lkstart", *args)


def cpu_ms(pid):
    """user + system CPU of pid so far, in ms (None once it is gone)."""
    try:
        u, s, _, _ = proc_stat(pid)
    except OSError:
        return None
    return (u + s) * TICK_MS


class Web:
    """lkweb on a node: started detached, stopped with SIGTERM."""

    def __init__(self, node, port, ui):
        self.node, self.port, self.ui = node, port, ui
        self.pid = None

    def start(self):
        r = subprocess.run([f"{self.node.build}/lkweb", "--root", self.node.root, "--listen",
                            f"127.0.0.1:{self.port}", "--ui", self.ui],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise SystemExit(f"lkweb did not start: {r.stderr.strip()}")
        with open(os.path.join(self.node.root, "run", "lkweb.pid")) as f:
            self.pid = int(f.read().split()[0])

    def stop(self):
        if self.pid:
            try:
                os.kill(self.pid, 15)
            except OSError:
                pass
            wait_for(lambda: cpu_ms(self.pid) is None, 30, 0.05)

    def conn(self, src, timeout=30):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout,
                                          source_address=(src, 0))

    def request(self, method, path, token, body=None, src=PROBE_SRC, timeout=30):
        """(status, parsed JSON or None) on a new connection."""
        c = self.conn(src, timeout)
        try:
            h = {"Authorization": f"Bearer {token}"}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                h["Content-Type"] = "application/json"
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            text = r.read()
            try:
                return r.status, json.loads(text)
            except ValueError:
                return r.status, None
        finally:
            c.close()


def token(node, role):
    out = node.cmd("lkcli", "--json", "web", "token", "create", "--role", role,
                   "--name", f"bench-{role}", capture=True).stdout
    d = json.loads(out)
    return d.get("token") or d["data"]["token"]


def dead_events(node):
    try:
        return len([e for e in node.events(2000) if e["number"] == 1603])
    except (subprocess.CalledProcessError, ValueError):
        return -1


def loop_of(node):
    try:
        return Client(node.root).call("status", {}, timeout=10).get("loop", {})
    except (OSError, RuntimeError, ValueError):
        return None


class Probe(threading.Thread):
    """GET /api/v1/status every 100 ms, a new connection each, from PROBE_SRC."""

    def __init__(self, web, tok):
        super().__init__(daemon=True)
        self.web, self.tok = web, tok
        self.stop_flag = threading.Event()
        self.lat, self.fail = [], collections.Counter()

    def run(self):
        nxt = time.monotonic()
        while not self.stop_flag.is_set():
            t0 = time.monotonic()
            try:
                st, _ = self.web.request("GET", "/api/v1/status", self.tok, timeout=20)
                if st == 200:
                    self.lat.append((time.monotonic() - t0) * 1000)
                else:
                    self.fail[str(st)] += 1
            except (OSError, http.client.HTTPException) as e:
                self.fail[type(e).__name__] += 1
            nxt += 0.1
            now = time.monotonic()
            if nxt < now:
                nxt = now
            self.stop_flag.wait(nxt - now)

    def result(self):
        v = self.lat
        return {"ok": len(v), "failed": dict(self.fail),
                "p50_ms": round(statistics.median(v), 1) if v else None,
                "p99_ms": round(percentile(v, 99), 1) if v else None,
                "max_ms": round(max(v), 1) if v else None}


class Sampler(threading.Thread):
    """Every 0.5 s: both nodes' loop figures, node2's view of node1."""

    def __init__(self, n1, n2):
        super().__init__(daemon=True)
        self.n1, self.n2 = n1, n2
        self.stop_flag = threading.Event()
        self.worst = {"node1": 0.0, "node2": 0.0}
        self.worst_cpu = {"node1": 0.0, "node2": 0.0}
        self.not_alive, self.status_failed, self.samples = [], 0, 0

    def sample(self):
        for name, node in (("node1", self.n1), ("node2", self.n2)):
            lp = loop_of(node)
            if lp is None:
                self.status_failed += 1
                continue
            self.worst[name] = max(self.worst[name], lp.get("recent_max_stall_ms", -1))
            self.worst_cpu[name] = max(self.worst_cpu[name], lp.get("recent_max_cpu_ms", -1))
        try:
            nodes = Client(self.n2.root).call("node.list", {}, timeout=10)["nodes"]
            st = {n["name"]: n["state"] for n in nodes}.get("node1")
        except (OSError, RuntimeError, ValueError, KeyError):
            st = "no answer"
        if st != "ALIVE":
            self.not_alive.append(st)
        self.samples += 1

    def run(self):
        while not self.stop_flag.wait(0.5):
            self.sample()


# ------------------------------------------------------------------------------ the loads

def load_idle(web, g, o, args):
    time.sleep(args.idle_seconds)
    return {}


def load_hammer(web, g, o, args):
    stop = threading.Event()
    counts = []

    def worker(i, path):
        c, cnt = None, collections.Counter()
        counts.append(cnt)
        src = f"127.0.1.{i // 16 + 1}"
        while not stop.is_set():
            try:
                if c is None:
                    c = web.conn(src, 30)
                c.request("GET", path, headers={"Authorization": f"Bearer {g}"})
                r = c.getresponse()
                r.read()
                cnt[f"{path.split('?')[0]} {r.status}"] += 1
                if r.will_close:
                    c.close()
                    c = None
            except (OSError, http.client.HTTPException) as e:
                cnt[type(e).__name__] += 1
                if c:
                    c.close()
                c = None
                time.sleep(0.05)
        if c:
            c.close()

    threads = [threading.Thread(target=worker, args=(i, "/api/v1/status" if i % 2 else
                                                     f"/api/v1/events?{args.events_query}"),
                                daemon=True)
               for i in range(args.hammer_threads)]
    el, total = run_threads(threads, stop, counts, args.seconds)
    ok = sum(v for k, v in total.items() if k.endswith(" 200"))
    return {"threads": args.hammer_threads, "answers": dict(total),
            "ok_per_s": round(ok / el, 1)}


def load_slow(web, g, o, args):
    """300 idle keep-alive connections, 50 slow-loris ones, one thread with epoll."""
    sel = selectors.DefaultSelector()
    conns = {}            # sock -> dict(kind, src, next_byte)
    reopen = []           # (when, kind, src)
    st = collections.Counter()
    req = (f"GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {g}\r\n"
           "Connection: keep-alive\r\n\r\n").encode()
    half = b"GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "

    def open_one(kind, src):
        try:
            s = socket.create_connection(("127.0.0.1", web.port), timeout=5,
                                         source_address=(src, 0))
            s.sendall(req if kind == "idle" else half)
        except OSError:
            st[f"{kind} open failed"] += 1
            reopen.append((time.monotonic() + 1, kind, src))
            return
        s.setblocking(False)
        st[f"{kind} opened"] += 1
        conns[s] = {"kind": kind, "src": src, "next": time.monotonic() + 5}
        sel.register(s, selectors.EVENT_READ)

    def close_one(s, why):
        info = conns.pop(s)
        sel.unregister(s)
        s.close()
        st[f"{info['kind']} {why}"] += 1
        reopen.append((time.monotonic() + 1, info["kind"], info["src"]))

    for i in range(args.idle):
        open_one("idle", f"127.0.1.{i // 30 + 1}")
    for i in range(args.loris):
        open_one("loris", f"127.0.2.{i // 25 + 1}")
    t_end = time.monotonic() + args.slow_seconds
    while time.monotonic() < t_end:
        for key, _ in sel.select(0.2):
            s = key.fileobj
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                close_one(s, "closed by lkweb")
            else:
                st[f"{conns[s]['kind']} answers"] += data.count(b"HTTP/1.1 ")
        now = time.monotonic()
        for s, info in list(conns.items()):
            if info["kind"] == "loris" and now >= info["next"]:
                info["next"] = now + 5
                try:
                    s.send(b"a")
                except OSError:
                    close_one(s, "closed by lkweb")
        due = [r for r in reopen if r[0] <= now]
        reopen[:] = [r for r in reopen if r[0] > now]
        for _, kind, src in due:
            open_one(kind, src)
    st["idle open at the end"] = sum(1 for i in conns.values() if i["kind"] == "idle")
    st["loris open at the end"] = sum(1 for i in conns.values() if i["kind"] == "loris")
    for s in list(conns):
        sel.unregister(s)
        s.close()
    return {"idle": args.idle, "loris": args.loris, "seconds": args.slow_seconds,
            "counts": dict(st)}


def load_sse(web, g, o, args):
    stop = threading.Event()
    streams = []

    def reader(i):
        s_info = {"opened": False, "lkevent": 0, "changed": 0, "ended_early": False}
        streams.append(s_info)
        try:
            s = socket.create_connection(("127.0.0.1", web.port), timeout=30,
                                         source_address=(f"127.0.3.{i // 30 + 1}", 0))
            s.sendall(f"GET /api/v1/stream HTTP/1.0\r\nHost: 127.0.0.1\r\n"
                      f"Authorization: Bearer {g}\r\n\r\n".encode())
            s.settimeout(0.5)
        except OSError:
            s_info["ended_early"] = True
            return
        buf = b""
        while not stop.is_set():
            try:
                data = s.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                data = b""
            if not data:
                s_info["ended_early"] = True
                break
            buf += data
            if not s_info["opened"] and b"\r\n" in buf:
                s_info["opened"] = buf.startswith(b"HTTP/1.1 200") or buf.startswith(
                    b"HTTP/1.0 200")
            *lines, buf = buf.split(b"\n")
            for line in lines:
                if line == b"event: lkevent":
                    s_info["lkevent"] += 1
                elif line == b"event: changed":
                    s_info["changed"] += 1
        s.close()

    threads = [threading.Thread(target=reader, args=(i,), daemon=True)
               for i in range(args.streams)]
    for t in threads:
        t.start()
    wait_for(lambda: sum(1 for s in streams if s["opened"]) >= args.streams, 20, 0.1)
    time.sleep(1)
    times, problems = {"to_node2": [], "to_node1": []}, []
    for _ in range(args.switchovers):
        for key, to in (("to_node2", "node2"), ("to_node1", "node1")):
            t0 = time.monotonic()
            try:
                code, body = web.request("POST", "/api/v1/resources/app/switchover", o,
                                         {"node": to}, src="127.0.0.3", timeout=600)
            except OSError as e:
                code, body = type(e).__name__, None
            ms = (time.monotonic() - t0) * 1000
            if code == 200:
                times[key].append(ms)
            else:
                problems.append(f"switchover to {to}: {code} {body}")
            time.sleep(1)
    time.sleep(2)
    stop.set()
    for t in threads:
        t.join(10)

    def summ(v):
        return {"runs": len(v), "median": round(statistics.median(v), 1) if v else None,
                "max": round(max(v), 1) if v else None}

    ev = [s["lkevent"] for s in streams if s["opened"]]
    return {"streams": args.streams, "opened": sum(1 for s in streams if s["opened"]),
            "ended_early": sum(1 for s in streams if s["ended_early"]),
            "lkevents_per_stream_min": min(ev) if ev else 0,
            "lkevents_per_stream_max": max(ev) if ev else 0,
            "switchover_ms": {k: summ(v) for k, v in times.items()}, "problems": problems}


def load_oversized(web, g, o, args):
    stop = threading.Event()
    counts = []
    head = (f"POST /api/v1/resources/app/restore HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {g}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {MIB}\r\n\r\n").encode()
    chunk = b"x" * 65536

    def worker(i):
        cnt = collections.Counter()
        counts.append(cnt)
        while not stop.is_set():
            sent = 0
            try:
                s = socket.create_connection(("127.0.0.1", web.port), timeout=10,
                                             source_address=(f"127.0.4.{i + 1}", 0))
            except OSError as e:
                cnt[f"connect {type(e).__name__}"] += 1
                time.sleep(0.05)
                continue
            try:
                s.sendall(head)
                resp = b""
                deadline = time.monotonic() + 10
                while sent < MIB:
                    r, w, _ = select.select([s], [s], [], 1)
                    if r:
                        break
                    if w:
                        sent += s.send(chunk[:MIB - sent])
                    if time.monotonic() > deadline:
                        cnt["body not taken in 10 s"] += 1
                        break
                s.settimeout(10)
                while b"\r\n" not in resp:
                    data = s.recv(4096)
                    if not data:
                        break
                    resp += data
                status = resp.split(b" ", 2)[1].decode() if resp.startswith(b"HTTP/") else \
                    "no answer"
                cnt[status] += 1
                cnt["body bytes sent"] += sent
            except OSError as e:
                cnt[type(e).__name__] += 1
            finally:
                s.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True)
               for i in range(args.big_threads)]
    el, total = run_threads(threads, stop, counts, args.big_seconds)
    sent = total.pop("body bytes sent", 0)
    n = sum(v for k, v in total.items() if k.isdigit())
    return {"threads": args.big_threads, "answers": dict(total),
            "per_s": round(n / el, 1),
            "body_kib_sent_per_request": round(sent / 1024 / n, 1) if n else None}


def fill_log(n1, count):
    """Writes count INFO events into node1's log over its socket (log.write, as root): the
    log of a node that has run for a while (lkd keeps up to 10,000 per severity)."""
    c, t0, done = Client(n1.root), time.monotonic(), 0
    for i in range(count):
        try:
            c.call("log.write", {"category": "INFO", "number": 90000, "process": "web_load",
                                 "message": f"web_load filler event {i}: a line of about the "
                                            f"length of lkd's own messages"}, timeout=30)
            done += 1
        except (OSError, RuntimeError):
            pass
    return {"scenario": "fill", "events_written": done,
            "seconds": round(time.monotonic() - t0, 1)}


LOADS = {"idle": load_idle, "hammer": load_hammer, "slow": load_slow, "sse": load_sse,
         "oversized": load_oversized}


def run_scenario(name, cl, web, g, o, args):
    n1, n2 = cl[0], cl[1]
    dead1, dead2 = dead_events(n1), dead_events(n2)
    wait_for(lambda: (loop_of(n1) or {}).get("recent_max_stall_ms", 99) < 20, 25, 0.5)
    before = loop_of(n1) or {}
    before2 = loop_of(n2) or {}
    lkd_pid = n1.pid()
    web0, lkd0 = cpu_ms(web.pid), cpu_ms(lkd_pid)
    # The probe's own guest token: lkweb's rates are per token (the hammer's is limited).
    probe, sampler = Probe(web, token(n1, "guest")), Sampler(n1, n2)
    t0 = time.monotonic()
    probe.start()
    sampler.start()
    load = LOADS[name](web, g, o, args)
    probe.stop_flag.set()
    sampler.stop_flag.set()
    probe.join(30)
    sampler.join(30)
    sampler.sample()
    el = time.monotonic() - t0
    web1, lkd1 = cpu_ms(web.pid), cpu_ms(lkd_pid)
    after, after2 = loop_of(n1) or {}, loop_of(n2) or {}
    d1, d2 = dead_events(n1), dead_events(n2)
    return {
        "scenario": name,
        "seconds": round(el, 1),
        "node1_worst_turn_ms": round(sampler.worst["node1"], 2),
        "node1_worst_turn_cpu_ms": round(sampler.worst_cpu["node1"], 2),
        "node1_turns_over_20ms": after.get("stalls_over_20ms", 0)
        - before.get("stalls_over_20ms", 0),
        "node2_worst_turn_ms": round(sampler.worst["node2"], 2),
        "node2_turns_over_20ms": after2.get("stalls_over_20ms", 0)
        - before2.get("stalls_over_20ms", 0),
        "node1_dead_seen_by_node2": sampler.not_alive,
        "node_dead_events": (d1 - dead1) + (d2 - dead2) if min(d1, d2, dead1, dead2) >= 0
        else "unknown",
        "root_status_failed": sampler.status_failed,
        "probe": probe.result(),
        "lkweb_cpu_ms": round(web1 - web0) if web1 is not None else "lkweb died",
        "lkd_cpu_ms": round(lkd1 - lkd0) if lkd1 is not None else "lkd died",
        "lkweb_alive": web1 is not None,
        "load": load,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--ui", default=os.path.join(HERE, "..", "web"))
    ap.add_argument("--scenarios", default="idle,hammer,slow,sse,oversized,fill,idle,hammer")
    ap.add_argument("--events", type=int, default=5000, help="events the fill step writes")
    ap.add_argument("--heartbeat-ms", type=int, default=100)
    ap.add_argument("--idle-seconds", type=float, default=10)
    ap.add_argument("--seconds", type=float, default=20, help="the hammer's")
    ap.add_argument("--hammer-threads", type=int, default=32)
    ap.add_argument("--events-query", default="limit=100", help="the hammer's /events query")
    ap.add_argument("--idle", type=int, default=300)
    ap.add_argument("--loris", type=int, default=50)
    ap.add_argument("--slow-seconds", type=float, default=35)
    ap.add_argument("--streams", type=int, default=60)
    ap.add_argument("--switchovers", type=int, default=5)
    ap.add_argument("--big-threads", type=int, default=8)
    ap.add_argument("--big-seconds", type=float, default=15)
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("web_load.py: run as root (lkweb connects to lkd as root)")
    ClusterNode.start = start_without_guard
    cl = Cluster(args.build, 2, ["--heartbeat-interval-ms", str(args.heartbeat_ms),
                                 "--heartbeat-misses", "3"])
    web, results = None, []
    try:
        cl.start()
        n1, n2 = cl[0], cl[1]
        state = os.path.join(cl.tmp, "state")
        os.makedirs(state)
        v = {"state": state}
        n1.cmd("lkcli", "resource", "create", "gen", "--tag", "app",
               "--restore", cl.script("up", UP % v), "--remove", cl.script("down", DOWN % v),
               "--quickchk", cl.script("check", CHECK % v), "--quickchk-interval", "5",
               "--local-recovery", "off")
        n1.cmd("lkcli", "resource", "extend", "--tag", "app", "--node", n2.name,
               "--priority", "10")
        g, o = token(n1, "guest"), token(n1, "operator")
        web = Web(n1, free_ports(1)[0], os.path.abspath(args.ui))
        web.start()
        time.sleep(2)
        filled = 0
        for name in args.scenarios.split(","):
            if name == "fill":
                results.append(fill_log(n1, args.events))
                filled += results[-1]["events_written"]
            else:
                results.append(run_scenario(name, cl, web, g, o, args))
                results[-1]["filler_events_in_log"] = filled
            print(f"# {name}: done", file=sys.stderr, flush=True)
    finally:
        if web:
            web.stop()
        cl.close()
    print(f"{'scenario':<10} {'n1 worst':>8} {'cpu':>5} {'>20ms':>5} {'n2 worst':>8} "
          f"{'DEAD':>5} {'p50':>6} {'p99':>6} {'max':>7} {'probe fail':>10} "
          f"{'lkweb cpu':>9} {'lkd cpu':>8}")
    for r in results:
        if r["scenario"] == "fill":
            print(f"fill       {r['events_written']} events written in {r['seconds']} s")
            continue
        p = r["probe"]
        dead = bool(r["node1_dead_seen_by_node2"]) or r["node_dead_events"] != 0
        print(f"{r['scenario']:<10} {r['node1_worst_turn_ms']:>8} "
              f"{r['node1_worst_turn_cpu_ms']:>5} {r['node1_turns_over_20ms']:>5} "
              f"{r['node2_worst_turn_ms']:>8} {str(dead):>5} {str(p['p50_ms']):>6} "
              f"{str(p['p99_ms']):>6} {str(p['max_ms']):>7} {sum(p['failed'].values()):>10} "
              f"{str(r['lkweb_cpu_ms']):>9} {str(r['lkd_cpu_ms']):>8}")
    print(json.dumps({"benchmark": "web_load", "heartbeat_ms": args.heartbeat_ms,
                      "results": results}))


if __name__ == "__main__":
    main()
