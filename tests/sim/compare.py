#!/usr/bin/python3
"""Which seeds that fail with one build of the deciders are clean with another.

  tests/sim/compare.py BEFORE/lksim AFTER/lksim [lksim options, e.g. --seeds 1000 --faults 2]

Runs BEFORE over the seeds (--labels), then AFTER over the seeds that failed, and prints,
per label of BEFORE, how many of its seeds are clean with AFTER and what the others show
now. Both builds must take the same options (docs/SIMULATOR.md)."""
import collections
import subprocess
import sys


def labels(binary, args):
    out = subprocess.run([binary, *args, "--labels"], capture_output=True, text=True).stdout
    found = {}
    for line in out.splitlines():
        if line.startswith("seed "):
            seed, label = line[5:].split("\t", 1)
            found[int(seed)] = label
    return found


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    before, after, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if "--seed" not in args:
        args += ["--seed", "1"]
    was = labels(before, args)
    if not was:
        print("no seed fails with", before)
        return
    only = [a for i, a in enumerate(args) if a not in ("--seed", "--seeds")
            and (i == 0 or args[i - 1] not in ("--seed", "--seeds"))]
    now = {}
    seeds = sorted(was)
    for i in range(0, len(seeds), 200):
        chunk = ",".join(str(s) for s in seeds[i:i + 200])
        now.update(labels(after, only + ["--only", chunk]))
    by_label = collections.defaultdict(list)
    for seed, label in was.items():
        by_label[label].append(seed)
    print(f"{len(was)} seeds fail before; {len(now)} of them still fail after")
    for label in sorted(by_label):
        seeds = sorted(by_label[label])
        clean = [s for s in seeds if s not in now]
        still = collections.Counter(now[s] for s in seeds if s in now)
        print(f"{label}: {len(seeds)} seeds, {len(clean)} clean after"
              f" (e.g. {' '.join(map(str, clean[:6])) or '-'})")
        for other, count in still.most_common():
            example = [s for s in seeds if now.get(s) == other][:6]
            print(f"    still failing: {count} as [{other}] e.g. {' '.join(map(str, example))}")


if __name__ == "__main__":
    main()
