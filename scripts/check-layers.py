#!/usr/bin/env python3
"""The include picture of src/ and the layer rule the build enforces.

Each folder is a layer: src/lib < io < core < cluster < api < main.c (src/daemon), and
src/cli sits on src/lib alone, src/cli/compat on src/cli and src/lib. A file may include headers of its own layer and of the
layers below it, never above. The build gives each layer only the include paths of its own
and lower layers; this check also refuses relative paths ("../x.h") that would get around
them, and prints the picture:

  scripts/check-layers.py            check; one line per violation, exit 1 if any
  scripts/check-layers.py --graph    every "file -> header" edge between project files
  scripts/check-layers.py --summary  edges counted layer to layer
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ORDER = ['src/lib', 'src/daemon/io', 'src/daemon/core', 'src/daemon/cluster',
         'src/daemon/api', 'src/daemon']
CLI = 'src/cli'
COMPAT = 'src/cli/compat'  # the LifeKeeper commands: on src/cli's client and src/lib
GUARD = 'src/guard'  # lkguard: on src/lib alone, as the commands
WEBHOOK = 'src/webhook'  # lk_webhook (alerts): on src/lib alone, as the commands
WEB = 'src/web'  # lkweb: on src/lib alone, talks to lkd over its socket
SYSTEMD = 'src/systemd'  # lk_systemd (systemd resources): on src/lib alone, as the commands
COMPAT = 'src/cli/compat'  # LifeKeeper's commands: on src/cli's client and src/lib
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of(path):
    folder = os.path.dirname(path)
    if folder in (CLI, COMPAT, GUARD, WEBHOOK, WEB, SYSTEMD):
        return folder
    return folder if folder in ORDER else None


def allowed(layer):
    if layer == COMPAT:
        return [COMPAT, CLI, 'src/lib']
    if layer in (CLI, GUARD, WEBHOOK, WEB, SYSTEMD):
        return [layer, 'src/lib']
    return ORDER[:ORDER.index(layer) + 1]


def main():
    files = []
    for top in ('src',):
        for dirpath, _, names in os.walk(os.path.join(ROOT, top)):
            for n in sorted(names):
                if n.endswith(('.c', '.h')):
                    files.append(os.path.relpath(os.path.join(dirpath, n), ROOT))
    headers = {}
    for f in files:
        if f.endswith('.h'):
            headers.setdefault(os.path.basename(f), []).append(f)
    edges, problems = [], []
    for f in sorted(files):
        layer = layer_of(f)
        if layer is None:
            problems.append(f'{f}: not in a layer folder')
            continue
        text = open(os.path.join(ROOT, f), encoding='utf-8').read()
        for inc in INCLUDE.findall(text):
            if '/' in inc:
                problems.append(f'{f}: includes "{inc}": a path; use the layer include paths')
                continue
            found = [h for h in headers.get(inc, []) if os.path.dirname(h) in allowed(layer)]
            if not found:
                where = headers.get(inc)
                problems.append(f'{f}: includes "{inc}" from a layer above ({", ".join(where)})'
                                if where else f'{f}: includes "{inc}", which is not a project header')
                continue
            edges.append((f, found[0]))
    if '--graph' in sys.argv:
        for a, b in edges:
            print(f'{a} -> {b}')
    if '--summary' in sys.argv:
        counts = {}
        for a, b in edges:
            key = (layer_of(a), layer_of(b))
            counts[key] = counts.get(key, 0) + 1
        for (a, b), n in sorted(counts.items()):
            print(f'{a:22} -> {b:22} {n}')
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
