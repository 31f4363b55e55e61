#!/usr/bin/python3
"""Benchmark: the cost of the `metrics` command (lkweb's /metrics, `lkcli metrics`) with
many resources. For each size (default 100, 1000 and 5000 resources, a chain, restore and
remove `exit 0`, no checks), after the whole chain was restored once (so every resource
has its restore-duration histogram): --runs `metrics` requests over the socket, one at a
time; the answer time (median, max, as a client sees it), lkd's own CPU time per request
(from /proc), the text's size and lines, and the worst turn of lkd's loop since it
started (openkeeper_loop_worst_turn_seconds, setup included): the text is built in one
turn. Prints a table, then JSON.
"""
import json
import statistics
import time

from common import Client, Node, chain, cpu_s, create_quiet, free_ports, size_args, sizes


def one(build, n, runs):
    node = Node(build)
    try:
        node.cmd("lkstart", "--no-guard", "--node", node.name, "--listen",
                 f"127.0.0.1:{free_ports(1)[0]}")
        cli = Client(node.root)
        create_quiet(cli, n, chain(n))
        cli.call("resource.restore", {"tag": "r0"})
        pid = node.pid()
        times = []
        c0 = cpu_s(pid)
        text = ""
        for _ in range(runs):
            t0 = time.monotonic()
            text = cli.call("metrics", {})["text"]
            times.append(time.monotonic() - t0)
        cpu_ms = (cpu_s(pid) - c0) * 1000 / runs
        # The text parses (python3-prometheus-client), and says what it must.
        from prometheus_client.parser import text_string_to_metric_families
        families = {f.name: f for f in text_string_to_metric_families(text)}
        states = [x for x in families["openkeeper_resource_state"].samples if x.value == 1]
        assert len(states) == n, len(states)
        # The loop's worst turn since start, as the metrics themselves report it (a status
        # of a long chain nests too deep for Python's json).
        worst = [line.split()[1] for line in text.splitlines()
                 if line.startswith("openkeeper_loop_worst_turn_seconds ")]
        return {"resources": n, "runs": runs,
                "answer_ms_median": round(statistics.median(times) * 1000, 1),
                "answer_ms_max": round(max(times) * 1000, 1),
                "lkd_cpu_ms_per_request": round(cpu_ms, 1),
                "text_bytes": len(text.encode()), "text_lines": text.count("\n"),
                "loop_max_stall_ms": round(float(worst[0]) * 1000, 1) if worst else None}
    finally:
        node.close()


def main():
    ap = size_args()
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    rows = []
    for n in sizes(args.sizes):
        r = one(args.build, n, args.runs)
        rows.append(r)
        print(f"{n:>6} resources: answer median {r['answer_ms_median']} ms (max "
              f"{r['answer_ms_max']} ms), lkd cpu {r['lkd_cpu_ms_per_request']} ms a request, "
              f"{r['text_bytes']} bytes in {r['text_lines']} lines, worst loop turn "
              f"{r['loop_max_stall_ms']} ms", flush=True)
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
