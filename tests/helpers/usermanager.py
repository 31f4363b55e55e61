"""A real systemd user manager for the systemd resource type's tests, fenced in.

This machine's PID 1 is not systemd. A `systemd --user` started plainly would take the
cgroup it finds itself in as its own and move processes around in it; on a host where the
test runs in the root cgroup that is every process of the machine. So the manager gets:

- a cgroup of its own, created under the test process's cgroup (cgroup v2), into which the
  launcher moves itself before anything else;
- a new cgroup namespace and a new mount namespace (`unshare -C -m`, private propagation),
  in which cgroup2 is mounted fresh on /sys/fs/cgroup: the manager sees its own cgroup as
  the root of a pure cgroup v2 tree, and nothing above it;
- XDG_RUNTIME_DIR, XDG_CONFIG_HOME and HOME in a directory of the test, so its sockets,
  units and state live there;
- the parent-death signal (SIGTERM) set on the launcher and kept across its execs, so a
  test process killed before its teardown does not leave the manager running (the empty
  fence cgroup it leaves is swept by the next start). It is reached on its private socket
  $XDG_RUNTIME_DIR/systemd/private (peer-to-peer D-Bus, no bus daemon).

The launcher checks each step (its cgroup as seen from inside is "/", the mount is
cgroup2) and execs systemd only if all hold. stop() ends the manager by its pid (SIGTERM:
a user manager starts exit.target and exits), then kills what is left in its cgroup with
cgroup.kill (only processes this fixture started can be there) and removes the cgroups,
deepest first. Nothing outside that cgroup is ever signalled or moved.

usable() says whether the machine allows all this and, if not, why (the tests skip with
that reason). `python3 usermanager.py` starts one, prints what it sees, and stops it.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

START_TIMEOUT = 60
STOP_TIMEOUT = 30

_LAUNCH = r"""
set -e
echo $$ > "$1/cgroup.procs"
exec unshare --cgroup --mount --propagation private -- sh -c '
set -e
grep -qx "0::/" /proc/self/cgroup || { echo "usermanager: not at the root of a new cgroup namespace" >&2; exit 90; }
mount -t cgroup2 cgroup2 /sys/fs/cgroup || { echo "usermanager: cannot mount cgroup2" >&2; exit 91; }
[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] || { echo "usermanager: /sys/fs/cgroup is not cgroup2" >&2; exit 92; }
if [ -d /run/systemd ]; then run=/run/systemd; else run=/run; fi
mount -t tmpfs -o mode=0755 tmpfs $run || { echo "usermanager: cannot mount $run" >&2; exit 93; }
mkdir -p /run/systemd/system
mount --bind "$0" /dev/console || { echo "usermanager: cannot bind the log on /dev/console" >&2; exit 94; }
exec systemd --user
' "$2"
"""


def cgroup2_mount():
    """The mount point of cgroup v2 and its root as mountinfo shows them, or (None, None)."""
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
    except OSError:
        return None, None
    for line in lines:
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields = left.split()
        if len(fields) >= 5 and right.split()[:1] == ["cgroup2"]:
            return fields[4].replace("\\040", " "), fields[3].replace("\\040", " ")
    return None, None


def own_cgroup_dir():
    """The directory of this process's cgroup v2, or None."""
    point, root = cgroup2_mount()
    if point is None:
        return None
    try:
        with open("/proc/self/cgroup", encoding="utf-8") as f:
            rel = next((ln[3:].strip() for ln in f if ln.startswith("0::")), None)
    except OSError:
        return None
    if rel is None:
        return None
    if root != "/" and rel.startswith(root):
        rel = rel[len(root):]
    path = Path(point) / rel.lstrip("/")
    return path if path.is_dir() else None


def usable():
    """(True, "") when a fenced user manager can be started here, else (False, why)."""
    if os.geteuid() != 0:
        return False, "needs root (a cgroup and namespaces of its own)"
    for prog in ("systemd", "unshare", "mount", "stat"):
        if shutil.which(prog) is None:
            return False, f"{prog} is not installed"
    cg = own_cgroup_dir()
    if cg is None:
        return False, "no cgroup v2 hierarchy mounted (the fence needs one)"
    if not os.access(cg, os.W_OK):
        return False, f"cannot create a cgroup under {cg}"
    return True, ""


def _die_with_parent():
    """preexec_fn: SIGTERM to the manager when the test process dies without its teardown
    (killed, timed out): a user manager exits on SIGTERM. Kept across exec."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def sweep_stale(parent):
    """Removes fence cgroups of this fixture (lk-usermgr-<pid>-*) whose creating process is
    gone and that hold no process any more (left by a test process killed before its
    teardown; its manager exited on the parent-death signal). Never touches a populated
    one."""
    for d in Path(parent).glob("lk-usermgr-*-*"):
        try:
            pid = int(d.name.split("-")[2])
        except (IndexError, ValueError):
            continue
        if Path(f"/proc/{pid}").exists():
            continue
        try:
            if "populated 0" not in (d / "cgroup.events").read_text():
                continue
        except OSError:
            continue
        for sub, _dirs, _files in sorted(os.walk(d), key=lambda w: -len(w[0])):
            try:
                os.rmdir(sub)
            except OSError:
                pass


def _kill_cgroup(path):
    """Kills every process in path's subtree (cgroup.kill, or SIGKILL per pid as a fallback),
    waits until it is empty, removes the cgroups deepest first. Returns problems."""
    problems = []
    path = Path(path)
    if not path.is_dir():
        return problems
    try:
        (path / "cgroup.kill").write_text("1")
    except OSError:
        for d, _dirs, _files in os.walk(path):
            try:
                pids = (Path(d) / "cgroup.procs").read_text().split()
            except OSError:
                continue
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline:
        try:
            if "populated 0" in (path / "cgroup.events").read_text():
                break
        except OSError:
            break
        time.sleep(0.05)
    for d, _dirs, _files in sorted(os.walk(path), key=lambda w: -len(w[0])):
        for _ in range(100):
            try:
                os.rmdir(d)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.05)
        else:
            problems.append(f"cgroup {d} would not go")
    return problems


class UserManager:
    """One fenced `systemd --user`. Use as a context manager, or start()/stop()."""

    def __init__(self, base=None):
        self._own_base = base is None
        self.base = Path(base or tempfile.mkdtemp(prefix="lk-usermgr-"))
        self.runtime = self.base / "run"
        self.config = self.base / "config"
        self.home = self.base / "home"
        self.unit_dir = self.config / "systemd" / "user"
        self.log = self.base / "systemd.log"
        self.cgroup = None
        self.proc = None
        self._conn = None

    @property
    def private_socket(self):
        return self.runtime / "systemd" / "private"

    @property
    def address(self):
        """The D-Bus address of the manager (peer-to-peer, its private socket)."""
        return f"unix:path={self.private_socket}"

    def env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "XDG_"))}
        env.update({"XDG_RUNTIME_DIR": str(self.runtime), "XDG_CONFIG_HOME": str(self.config),
                    "HOME": str(self.home), "SYSTEMD_LOG_TARGET": "console",
                    "SYSTEMD_LOG_LEVEL": "info", "LANG": "C"})
        return env

    def start(self):
        ok, why = usable()
        if not ok:
            raise RuntimeError(why)
        for d in (self.runtime, self.config, self.home, self.unit_dir):
            d.mkdir(parents=True, exist_ok=True)
        os.chmod(self.runtime, 0o700)
        sweep_stale(own_cgroup_dir())
        self.cgroup = own_cgroup_dir() / f"lk-usermgr-{os.getpid()}-{time.monotonic_ns()}"
        self.cgroup.mkdir()
        try:
            with open(self.log, "ab") as log:
                self.proc = subprocess.Popen(["sh", "-c", _LAUNCH, "sh", str(self.cgroup),
                                              str(self.log)],
                                             env=self.env(), stdin=subprocess.DEVNULL,
                                             stdout=log, stderr=subprocess.STDOUT,
                                             start_new_session=True,
                                             preexec_fn=_die_with_parent)
            self._wait_running()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_running(self):
        deadline = time.monotonic() + START_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"systemd --user exited {self.proc.returncode}: "
                                   f"{self.log_tail()}")
            if self.private_socket.exists():
                try:
                    last = self.manager_property("SystemState")
                    if last in ("running", "degraded"):
                        return
                except Exception as e:  # noqa: BLE001 (not up yet: any D-Bus error)
                    last = repr(e)
                    self.reconnect()
            time.sleep(0.1)
        raise RuntimeError(f"systemd --user not running after {START_TIMEOUT} s ({last}): "
                           f"{self.log_tail()}")

    def log_tail(self, size=2000):
        try:
            return self.log.read_text(errors="replace")[-size:]
        except OSError:
            return ""

    def stop(self):
        """Stops the manager by its pid, kills what is left in its cgroup, removes it.
        Returns problems (strings); never raises."""
        problems = []
        self.reconnect()
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                problems.append("systemd --user did not exit on SIGTERM")
                self.proc.kill()
                try:
                    self.proc.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    problems.append("systemd --user did not die on SIGKILL")
            except OSError:
                pass
        if self.cgroup is not None:
            problems += _kill_cgroup(self.cgroup)
            self.cgroup = None
        if self._own_base:
            shutil.rmtree(self.base, ignore_errors=True)
        return problems

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------ talking to it

    def _bus(self):
        import dbus  # python3-dbus

        if self._conn is None:
            conn = dbus.connection.Connection(self.address)
            # The first call on a fresh libdbus connection to the private socket can go
            # unanswered (seen with LoadUnit first; sd-bus clients such as lk_systemd are
            # not affected): a harmless Get goes first, and may itself fail.
            try:
                conn.call_blocking("org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                   "org.freedesktop.DBus.Properties", "Get", "ss",
                                   ("org.freedesktop.systemd1.Manager", "Version"), timeout=2)
            except dbus.exceptions.DBusException:
                pass
            self._conn = conn
        return self._conn

    def reconnect(self):
        """Drops the connection (closed first: libdbus would hand a stale one back)."""
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001 (already broken)
                pass
        self._conn = None

    def call(self, path, iface, method, signature="", args=(), timeout=30):
        """One method call; again on a new connection (for up to 10 s) while the old one
        is broken or refused (the manager re-executing)."""
        import dbus

        deadline = time.monotonic() + 10
        while True:
            try:
                return self._bus().call_blocking("org.freedesktop.systemd1", path, iface,
                                                 method, signature, tuple(args),
                                                 timeout=timeout)
            except dbus.exceptions.DBusException as e:
                if time.monotonic() > deadline or e.get_dbus_name() not in (
                        "org.freedesktop.DBus.Error.Disconnected",
                        "org.freedesktop.DBus.Error.NoReply",
                        "org.freedesktop.DBus.Error.NoServer"):
                    raise
                self.reconnect()
                time.sleep(0.1)

    def manager_call(self, method, signature="", args=()):
        return self.call("/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                         method, signature, args)

    def manager_property(self, name):
        return self.call("/org/freedesktop/systemd1", "org.freedesktop.DBus.Properties", "Get",
                         "ss", ("org.freedesktop.systemd1.Manager", name))

    def reload(self):
        self.manager_call("Reload")

    def unit_path(self, unit):
        return str(self.manager_call("LoadUnit", "s", (unit,)))

    def unit_property(self, unit, name, iface="org.freedesktop.systemd1.Unit"):
        return self.call(self.unit_path(unit), "org.freedesktop.DBus.Properties", "Get", "ss",
                         (iface, name))

    def active_state(self, unit):
        return str(self.unit_property(unit, "ActiveState"))

    def main_pid(self, unit):
        return int(self.unit_property(unit, "MainPID", "org.freedesktop.systemd1.Service"))

    def unit_file_state(self, unit):
        return str(self.manager_call("GetUnitFileState", "s", (unit,)))

    def write_unit(self, name, text):
        path = self.unit_dir / name
        path.write_text(text)
        return path

    def in_fence(self, pid):
        """True when pid's cgroup, seen from here, is inside the manager's cgroup."""
        if self.cgroup is None:
            return False
        try:
            with open(f"/proc/{pid}/cgroup", encoding="utf-8") as f:
                rel = next((ln[3:].strip() for ln in f if ln.startswith("0::")), "")
        except OSError:
            return False
        return ("/" + self.cgroup.name) in rel


if __name__ == "__main__":
    ok, why = usable()
    print("usable:", ok, why)
    if ok:
        with UserManager() as um:
            print("cgroup:", um.cgroup, "pid:", um.proc.pid)
            print("version:", um.manager_property("Version"))
            print("state:", um.manager_property("SystemState"))
            print("manager in fence:", um.in_fence(um.proc.pid))
            print("procs:", (um.cgroup / "cgroup.procs").read_text().split(),
                  sorted(p.name for p in um.cgroup.iterdir() if p.is_dir()))
            print("pid 1 cgroup:", Path("/proc/1/cgroup").read_text().splitlines()[-1])
            print("log:", um.log_tail(800))
        print("cgroup gone:", not um.base.exists())
