"""Helpers for the hierarchy scenario tests (issue #4).

Every script of a hierarchy test appends to one shared file, the action log:

    start <tag> <action> <time>
    end <tag> <action> <time>

with <time> from `date +%s.%N`. The tests read the order of the actions and the
concurrency of independent branches (overlapping [start, end] intervals) from it. The
scripts take their tag and action from LK_TAG and LK_ACTION, so one script text serves
every resource.
"""

import collections
import json
import os
import signal

import lkapp
from conftest import wait_for

Entry = collections.namedtuple("Entry", "kind tag action t")


class ActionLog:
    """The shared action log of one test and the scripts that write to it."""

    def __init__(self, node):
        self.node = node
        self.path = node.work / "actions.log"
        self.path.touch()
        self._scripts = {}

    def script(self, sleep=0, fail=False, extra=""):
        """A restore or remove script that logs start and end, sleeps, then exits 1 if
        fail else 0. extra is shell run between the sleep and the end line."""
        key = (sleep, fail, extra)
        if key not in self._scripts:
            nap = f"sleep {sleep}\n" if sleep else ""
            self._scripts[key] = self.node.script(f"""\
#!/bin/sh
echo "start $LK_TAG $LK_ACTION $(date +%s.%N)" >> {self.path}
{nap}{extra}
echo "end $LK_TAG $LK_ACTION $(date +%s.%N)" >> {self.path}
exit {1 if fail else 0}
""")
        return self._scripts[key]

    def entries(self):
        out = []
        for line in self.path.read_text().splitlines():
            kind, tag, action, t = line.split()
            out.append(Entry(kind, tag, action, float(t)))
        return out

    def runs(self, action):
        """[(tag, start, end)] of every finished run of action, in start order."""
        starts = collections.defaultdict(list)
        done = []
        for e in self.entries():
            if e.action != action:
                continue
            if e.kind == "start":
                starts[e.tag].append(e.t)
            elif starts[e.tag]:
                done.append((e.tag, starts[e.tag].pop(0), e.t))
        return sorted(done, key=lambda r: r[1])

    def order(self, action):
        """Tags in the order their runs of action started."""
        return [tag for tag, _, _ in self.runs(action)]

    def count(self, tag, action):
        return sum(1 for e in self.entries() if e.kind == "start" and e.tag == tag
                   and e.action == action)

    def interval(self, tag, action):
        """(start, end) of the only run of action for tag."""
        mine = [(s, e) for t, s, e in self.runs(action) if t == tag]
        assert len(mine) == 1, f"{tag} {action}: {len(mine)} runs\n{self.text()}"
        return mine[0]

    def text(self):
        return self.path.read_text()

    def assert_before(self, first, then, action):
        """first's run of action ended before then's started."""
        a, b = self.interval(first, action), self.interval(then, action)
        assert a[1] <= b[0], (f"{first} {action} [{a[0]:.3f}, {a[1]:.3f}] must end before "
                              f"{then} {action} starts ({b[0]:.3f})\n{self.text()}")

    def assert_overlap(self, tags, action):
        """The runs of action of every tag in tags overlap: all were running at once."""
        ivs = [self.interval(t, action) for t in tags]
        latest_start = max(s for s, _ in ivs)
        earliest_end = min(e for _, e in ivs)
        assert latest_start < earliest_end, (f"{tags} {action} did not run together: "
                                             f"{ivs}\n{self.text()}")


class HApp:
    """A real application for the crash tests: restore starts `sleep <marker>` in its own
    session under a lock, idempotently, after `delay` seconds, writing its pid into a
    pidfile; remove kills it (after `remove_delay` seconds); quickchk checks it. restore
    and remove log to the action log."""

    def __init__(self, node, log, tag, delay=0, remove_delay=0):
        self.node, self.tag = node, tag
        self.marker = node.marker()
        d = node.work / f"happ-{tag}"
        d.mkdir(parents=True, exist_ok=True)
        pf = d / "app.pid"
        m = self.marker
        running = f'[ -s {pf} ] && grep -q "{m}" /proc/$(cat {pf})/cmdline 2>/dev/null'
        nap = f"sleep {delay}\n" if delay else ""
        log_start = f'echo "start $LK_TAG $LK_ACTION $(date +%s.%N)" >> {log.path}'
        log_end = f'echo "end $LK_TAG $LK_ACTION $(date +%s.%N)" >> {log.path}'
        self.restore = node.script(f"""\
#!/bin/sh
{log_start}
{nap}exec 9> {d}/lock
flock 9
if ! ( {running} ); then
    setsid sleep {m} </dev/null >/dev/null 2>&1 9>&- &
    echo $! > {pf}
    # exit only once the child is the application (exec'd), as a real restore would
    i=0
    while ! grep -q "{m}" /proc/$!/cmdline 2>/dev/null && [ $i -lt 400 ]; do
        sleep 0.01
        i=$((i + 1))
    done
fi
{log_end}
exit 0
""")
        self.remove = node.script(f"""\
#!/bin/sh
{log_start}
{f"sleep {remove_delay}" if remove_delay else ""}
if [ -s {pf} ]; then
    pid=$(cat {pf})
    grep -q "{m}" /proc/$pid/cmdline 2>/dev/null && kill $pid
    i=0
    while grep -q "{m}" /proc/$pid/cmdline 2>/dev/null && [ $i -lt 200 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    rm -f {pf}
fi
{log_end}
exit 0
""")
        self.quickchk = node.script(f"""\
#!/bin/sh
{running}
""")

    def create(self, *extra, quickchk=True):
        chk = ["--quickchk", self.quickchk, "--quickchk-interval", "60"] if quickchk else []
        self.node.cli("resource", "create", "gen", "--tag", self.tag, "--restore", self.restore,
                      "--remove", self.remove, *chk, "--no-in-service", *extra)

    def kill(self):
        """Kills the application, as a reboot would."""
        for pid in self.pids():
            os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not [p for p in self.pids() if lkapp.pid_alive(p)],
                 what=f"{self.tag}'s application to die")

    def pids(self):
        return lkapp.pids_with_argv(["sleep", self.marker])


def create(node, tag, restore, remove=None, *extra):
    """A resource created out of service."""
    node.cli("resource", "create", "gen", "--tag", tag, "--restore", restore, "--remove",
             remove or restore, "--no-in-service", *extra)


def depend(node, parent, child):
    node.cli("dependency", "create", "--parent", parent, "--child", child)


def deps(node):
    """The dependencies as a sorted list of (parent, child)."""
    out = json.loads(node.cli("dependency", "list", json_out=True).stdout)
    return sorted((d["parent"], d["child"]) for d in out)


def states(node):
    """{tag: (state, pending)} of every resource."""
    return {r["tag"]: (r["state"], r["pending"] or "") for r in node.status()["resources"]}


def idle_states(node):
    """{tag: state} once nothing is pending anywhere, else None."""
    s = states(node)
    if any(p not in ("", "none") for _, p in s.values()):
        return None
    return {t: st for t, (st, _) in s.items()}
