#!/usr/bin/env python3
"""Turns decisions from lkd's debug log into golden cases (tests/golden/).

At log-level debug (lk.conf [node] log-level = debug, or LKD_DEBUG=1) lkd writes every
decision that does something as one line on its stderr, which lkstart keeps in
<root>/log/lkd.out:

    lkd: decision {"engine":"resource"|"placement","view":{...},"event":{...},"acts":[...]}

This script lists those lines, picks some (by engine, event type, tag, a text in the line,
or their index) and writes each as one golden file with a "name" and a "why":

    scripts/golden-from-log.py /var/lib/lk/log/lkd.out --list
    scripts/golden-from-log.py lkd.out --engine placement --tag app --grep WRITE_REC \\
        --index -1 --name "node death: takeover" --why "..." --out tests/golden/placement
    build/tests/unit/test_golden tests/golden     # replays them: must pass

Without --out, files go to tests/golden/<engine>/ beside this script. Exit status 1 with
one line on stderr when nothing matches or the log holds no decision line."""

import argparse
import json
import os
import re
import sys

PREFIX = "lkd: decision "


def read_decisions(path):
    """The decision objects of a log, in order."""
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            if not line.startswith(PREFIX):
                continue
            try:
                obj = json.loads(line[len(PREFIX):])
            except json.JSONDecodeError as e:
                sys.exit(f"golden-from-log: {path}:{number}: not a JSON decision: {e}")
            if not isinstance(obj, dict) or obj.get("engine") not in ("resource", "placement"):
                sys.exit(f"golden-from-log: {path}:{number}: not a decision object")
            out.append(obj)
    return out


def event_tag(d):
    ev = d.get("event", {})
    if ev.get("tag"):
        return ev["tag"]
    tags = d.get("view", {}).get("hier", {}).get("tags", [])
    return tags[0]["tag"] if tags else "-"


def tags_of(d):
    """Every tag the decision is about: the event's, and its hierarchy's."""
    tags = {event_tag(d)}
    for t in d.get("view", {}).get("hier", {}).get("tags", []):
        tags.add(t.get("tag"))
    return tags


def summary(i, d):
    acts = d.get("acts", [])
    first = acts[0] if acts else "(no act)"
    return (f"{i:4d} {d['engine']:9s} {d['event'].get('type', '?'):20s} {event_tag(d):16s} "
            f"{len(acts):2d} act(s): {first[:70]}")


def slug(text):
    s = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return s[:60] or "case"


def main():
    p = argparse.ArgumentParser(description="Write golden cases from lkd's decision log.")
    p.add_argument("log", help="lkd's stderr log (<root>/log/lkd.out)")
    p.add_argument("--list", action="store_true", help="list the matching decisions, write nothing")
    p.add_argument("--engine", choices=("resource", "placement"))
    p.add_argument("--event", help="event type, e.g. check-finished, reconcile")
    p.add_argument("--tag", help="a tag the decision is about (event or hierarchy)")
    p.add_argument("--grep", action="append", default=[],
                   help="a text the decision's line must contain (repeatable)")
    p.add_argument("--from", dest="first", type=int, default=0, metavar="N",
                   help="skip the log's first N decisions (those before the incident)")
    p.add_argument("--index", type=int, action="append",
                   help="pick the Nth matching decision (0 first, -1 last; repeatable)")
    p.add_argument("--name", help="the golden case's one-line name (file name from it)")
    p.add_argument("--why", help="one line: what the case shows and which incident it is from")
    p.add_argument("--out", help="folder to write into (default tests/golden/<engine>)")
    a = p.parse_args()

    try:
        decisions = read_decisions(a.log)
    except OSError as e:
        sys.exit(f"golden-from-log: {a.log}: {e.strerror}")
    if not decisions:
        sys.exit(f"golden-from-log: {a.log}: no decision line (is log-level debug?)")
    picked = []
    for i, d in enumerate(decisions):
        if i < a.first:
            continue
        line = json.dumps(d, separators=(",", ":"))
        if a.engine and d["engine"] != a.engine:
            continue
        if a.event and d["event"].get("type") != a.event:
            continue
        if a.tag and a.tag not in tags_of(d):
            continue
        if any(g not in line for g in a.grep):
            continue
        picked.append((i, d))
    if a.index:
        try:
            picked = [picked[n] for n in a.index]
        except IndexError:
            sys.exit(f"golden-from-log: index out of range: {len(picked)} decision(s) match")
    if not picked:
        sys.exit("golden-from-log: no decision matches")
    if a.list:
        for i, d in picked:
            print(summary(i, d))
        return 0
    if not a.name or not a.why or "\n" in a.name or "\n" in a.why:
        sys.exit("golden-from-log: --name and --why (one line each) are needed to write cases")

    here = os.path.dirname(os.path.abspath(__file__))
    for k, (i, d) in enumerate(picked):
        name = a.name if len(picked) == 1 else f"{a.name} ({k + 1}/{len(picked)})"
        out_dir = a.out or os.path.join(here, "..", "tests", "golden", d["engine"])
        os.makedirs(out_dir, exist_ok=True)
        path = os.path.join(out_dir, slug(name) + ".json")
        case = {"name": name, "why": a.why}
        case.update(d)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(case, f, indent=1)
            f.write("\n")
        print(f"{path}: decision {i} ({d['engine']} {d['event'].get('type')} {event_tag(d)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
