"""Script generators for the scenario tests.

Every script is written per test into a work directory under the test's tmp_path (lkcli
resource create copies it; the original is never read again, so tests may delete it).

An App is a tiny protected application: restore starts a real background process,
`sleep <marker>`, in its own session and writes its pid into a pidfile; quickchk checks
that this pid still runs with the marker on its command line; remove kills it and waits
until it is gone. The marker is a number unique to the app, so that the tests can find
every process of the app in /proc (see pids()) and the teardown can kill what is left.
"""

import os
import random
import stat
import textwrap
from pathlib import Path

_used_markers = set()


def new_marker():
    """A unique number for `sleep <marker>`: huge, so it never ends by itself."""
    while True:
        m = str(random.randint(1_000_000_000, 1_999_999_999))
        if m not in _used_markers:
            _used_markers.add(m)
            return m


def write_script(path, text, mode=0o755):
    """Writes text (dedented, leading newline dropped) to path with mode; returns path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        text = textwrap.dedent(text).lstrip("\n").encode()
    path.write_bytes(text)
    os.chmod(path, mode)
    return path


def proc_cmdlines():
    """{pid: [argv...]} of every live process (zombies have an empty cmdline: skipped)."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                raw = f.read()
        except OSError:
            continue
        if not raw:
            continue
        out[int(entry)] = [a.decode(errors="replace") for a in raw.rstrip(b"\0").split(b"\0")]
    return out


def pids_with_argv(argv):
    """Pids of live processes whose argv is exactly argv."""
    return sorted(pid for pid, a in proc_cmdlines().items() if a == list(argv))


def pid_alive(pid):
    """True if pid runs and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return fields[0] != b"Z"
    except (OSError, IndexError):
        return False


class App:
    """A protected application with restore / remove / quickchk scripts.

    restore_delay: seconds restore sleeps before starting the app (for kill -9 tests).
    quickchk: whether the app has a quickchk script at all.
    Restore is idempotent: it starts nothing when the app already runs.
    """

    def __init__(self, workdir, tag, restore_delay=0, quickchk=True, restore_extra=""):
        self.tag = tag
        self.marker = new_marker()
        self.dir = Path(workdir) / f"app-{tag}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.pidfile = self.dir / "app.pid"
        self.restores = self.dir / "restores"
        self.removes = self.dir / "removes"
        m, pf = self.marker, self.pidfile
        running = f'[ -s {pf} ] && grep -q "{m}" /proc/$(cat {pf})/cmdline 2>/dev/null'
        delay = f"sleep {restore_delay}\n" if restore_delay else ""
        self.restore = write_script(self.dir / "restore", f"""\
#!/bin/sh
# restore of {tag}: starts `sleep {m}` in its own session (idempotent)
echo "restore $$" >> {self.restores}
{delay}{restore_extra}
# Two restores at once (say, one orphaned by a killed daemon and a new one) must not
# both start the application: check and start under a lock the application does not keep.
exec 9> {self.dir}/restore.lock
flock 9
if {running}; then
    echo "{tag} already runs (pid $(cat {pf}))"
    exit 0
fi
setsid sleep {m} </dev/null >/dev/null 2>&1 9>&- &
pid=$!
echo $pid > {pf}
# Started means running: wait (briefly) until the child has exec'd the application.
i=0
while ! grep -q "{m}" /proc/$pid/cmdline 2>/dev/null && [ $i -lt 200 ]; do
    sleep 0.01; i=$((i + 1))
done
echo "{tag} started (pid $pid)"
exit 0
""")
        self.remove = write_script(self.dir / "remove", f"""\
#!/bin/sh
# remove of {tag}: kills `sleep {m}` and waits until it is gone
echo "remove $$" >> {self.removes}
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
echo "{tag} stopped"
exit 0
""")
        self.quickchk = None
        if quickchk:
            self.quickchk = write_script(self.dir / "quickchk", f"""\
#!/bin/sh
# quickchk of {tag}
if {running}; then
    echo "{tag} runs (pid $(cat {pf}))"
    exit 0
fi
echo "{tag} does not run"
exit 1
""")

    def create_args(self):
        args = ["--tag", self.tag, "--restore", str(self.restore), "--remove", str(self.remove)]
        if self.quickchk:
            args += ["--quickchk", str(self.quickchk)]
        return args

    def pids(self):
        """Pids of the running application processes."""
        return pids_with_argv(["sleep", self.marker])

    def running(self):
        return len(self.pids()) > 0

    def restore_count(self):
        return _count_lines(self.restores)

    def remove_count(self):
        return _count_lines(self.removes)


def _count_lines(path):
    try:
        return len(Path(path).read_text().splitlines())
    except FileNotFoundError:
        return 0


def is_mode(path, mode):
    return stat.S_IMODE(os.stat(path).st_mode) == mode
