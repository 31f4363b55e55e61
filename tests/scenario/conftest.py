"""Scenario test fixtures: a real lkd on a fresh root per test, driven by the real commands.

The binaries come from $LK_BUILD (absolute; default <repo>/build), so the same suite runs
against the plain and the ASan + UBSan builds. Every subprocess has a timeout. Teardown
stops the daemon (lkstop -f, then SIGKILL), kills every process the test's scripts left
(found by the node's root path, LKROOT in their environment, or an app's marker), and
fails the test if a sanitizer reported anything in the daemon's log/lkd.out or in the
stderr of any command.
"""

import contextlib
import fcntl
import grp
import json
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "helpers"))

import lkapp  # noqa: E402
from ports import free_port  # noqa: E402,F401

BUILD = Path(os.environ.get("LK_BUILD") or REPO / "build")
CMD_TIMEOUT = 60
SANITIZER_WORDS = ("AddressSanitizer", "runtime error:", "LeakSanitizer")
ROLE_GROUPS = {"admin": "lkadmin", "oper": "lkoper", "guest": "lkguest"}
# The socket is 0660 with a POSIX ACL for the three groups (docs/DESIGN.md, Roles): each
# test user is in its own role group only, so the ACL is what lets it in.
USER_GROUPS = {"admin": "lkadmin", "oper": "lkoper", "guest": "lkguest"}
# Named after this test run's pid: two runs on one machine (two checkouts) never create,
# use or delete each other's users.
TEST_USERS = {role: f"lkt{os.getpid()}{role[0]}" for role in ("admin", "oper", "guest", "none")}


def pytest_configure(config):
    # make scenario runs the suite in two passes (Makefile, README.md "Tests"): every test
    # not marked serial, several at a time (pytest -n), then the serial ones one by one.
    config.addinivalue_line(
        "markers", "serial: a test that bounds a wall-clock figure (a loop turn, an answer "
        "time): run alone, never beside other tests")
    # The run's temporary directories go in a fresh directory of this run's own (workers
    # of pytest -n get theirs inside it), not in /tmp/pytest-of-root: every pytest run that
    # starts on this machine sets that one back to 0700, which would shut the test users
    # out of a `traversable` test's node. Removed at the end when every test passed; a
    # failed run's stays for a look, until three newer runs exist (RUNS_KEPT).
    if config.option.basetemp is None and not hasattr(config, "workerinput"):
        remove_old_runs()
        top = Path(tempfile.mkdtemp(prefix=RUN_PREFIX))
        lock = open(top / "lock", "w")
        fcntl.flock(lock, fcntl.LOCK_EX)  # held while the run lives: not an old run
        config._lk_run = (top, lock)
        config.option.basetemp = str(top / "run")


def pytest_sessionfinish(session, exitstatus):
    run = getattr(session.config, "_lk_run", None)
    if run and exitstatus == 0:
        shutil.rmtree(run[0], ignore_errors=True)


RUN_PREFIX = "lk-scenario-"
RUNS_KEPT = 3


def remove_old_runs():
    """Removes the directories of earlier runs but the newest RUNS_KEPT, never one whose
    run still lives (it holds the flock of its "lock" file) nor one without that file."""
    tops = []
    for p in Path(tempfile.gettempdir()).glob(RUN_PREFIX + "*"):
        try:
            st = p.lstat()
        except OSError:
            continue  # another run removed it
        if stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid():
            tops.append((st.st_mtime, p))
    tops.sort(reverse=True)
    for _, top in tops[RUNS_KEPT:]:
        try:
            with open(top / "lock") as f:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                shutil.rmtree(top)
        except OSError:
            pass


def _clean_env():
    env = dict(os.environ)
    env.pop("LKROOT", None)
    env.pop("LK_TAG", None)
    env["LANG"] = "C"
    return env


class Node:
    """One node: a root directory, its daemon and the commands that talk to it."""

    def __init__(self, tmp_path, name="n1"):
        self.name = name
        self.root = tmp_path / f"root-{name}"
        self.work = tmp_path / f"work-{name}"
        self.work.mkdir(parents=True, exist_ok=True)
        self.markers = []
        self.guard = False  # lkstart starts lkguard beside lkd (issue 10)
        self.sanitizer_reports = []
        self._script_no = 0

    # ------------------------------------------------------------ running commands

    def bin(self, name):
        return str(BUILD / name)

    def run(self, argv, check=False, user=None, timeout=CMD_TIMEOUT, input=None, env=None):
        """Runs argv (as user, if given); returns the CompletedProcess (text)."""
        argv = [str(a) for a in argv]
        if user:
            argv = ["runuser", "-u", user, "--"] + argv
        p = subprocess.run(argv, capture_output=True, text=True, errors="replace",
                           timeout=timeout, input=input if input is not None else "",
                           env=env or _clean_env())
        for word in SANITIZER_WORDS:
            if word in p.stderr:
                self.sanitizer_reports.append(f"{argv}: {p.stderr[-4000:]}")
                break
        if check and p.returncode != 0:
            raise AssertionError(f"{argv} exited {p.returncode}\nstdout: {p.stdout}\n"
                                 f"stderr: {p.stderr}")
        return p

    def cli(self, *args, check=True, json_out=False, user=None, timeout=CMD_TIMEOUT):
        argv = [self.bin("lkcli"), "--root", self.root]
        if json_out:
            argv.append("--json")
        return self.run(argv + list(args), check=check, user=user, timeout=timeout)

    def cli_json(self, *args, user=None):
        p = self.cli(*args, json_out=True, user=user)
        return json.loads(p.stdout)

    def start(self, check=True):
        # Each node listens for comm paths on a port of its own (the default 7400 would
        # make parallel runs and other daemons on this machine collide). The port is
        # written into lk.conf at the first start; later starts reuse it.
        # No guard unless the test asks for one (node.guard = True): most tests are about
        # lkd itself, and the guard changes what a killed or frozen lkd leaves behind.
        return self.run([self.bin("lkstart"), "--root", self.root, "--node", self.name,
                         "--listen", f"127.0.0.1:{free_port()}"]
                        + ([] if self.guard else ["--no-guard"]), check=check)

    def stop(self, force=False, check=True, timeout=CMD_TIMEOUT):
        argv = [self.bin("lkstop"), "--root", self.root]
        if force:
            argv.append("-f")
        return self.run(argv, check=check, timeout=timeout)

    def status(self):
        return self.cli_json("status")

    def resource(self, tag):
        """The resource dict from status, or None; without "usage" (its cgroup's live
        figures, which change as the application runs)."""
        for r in self.status()["resources"]:
            if r["tag"] == tag:
                r.pop("usage", None)
                return r
        return None

    def state(self, tag):
        r = self.resource(tag)
        return r["state"] if r else None

    def ins_list_raw(self, sep=",", tag=None, check=True):
        argv = [self.bin("ins_list"), "--root", self.root, "-f", sep]
        if tag:
            argv += ["-t", tag]
        return self.run(argv, check=check)

    def ins_list(self, sep=",", tag=None):
        """ins_list lines split into fields."""
        out = self.ins_list_raw(sep=sep, tag=tag).stdout
        return [line.split(sep) for line in out.splitlines()]

    def ins_line(self, tag):
        lines = [f for f in self.ins_list() if f[3] == tag]
        assert len(lines) == 1, lines
        return lines[0]

    def log_events(self, n=10000, tag=None):
        args = ["log", "-n", str(n)]
        if tag:
            args += ["--tag", tag]
        return self.cli_json(*args)

    def lk_err(self, *args, check=False, env=None):
        return self.run([self.bin("lk_err"), "--root", self.root] + list(args), check=check,
                        env=env)

    # ------------------------------------------------------------ the daemon process

    def daemon_pid(self):
        try:
            return int((self.root / "run" / "lkd.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def daemon_running(self):
        pid = self.daemon_pid()
        if not pid or not lkapp.pid_alive(pid):
            return False
        try:
            return "lkd" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            return False

    def kill9(self):
        pid = self.daemon_pid()
        assert pid and lkapp.pid_alive(pid), "lkd is not running"
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not lkapp.pid_alive(pid), what="lkd to die after SIGKILL")

    # ------------------------------------------------------------ scripts and apps

    def app(self, tag, **kwargs):
        """An App (see lkapp) whose scripts live in this node's work directory."""
        a = lkapp.App(self.work, tag, **kwargs)
        self.markers.append(a.marker)
        return a

    def marker(self):
        m = lkapp.new_marker()
        self.markers.append(m)
        return m

    def script(self, text, name=None, mode=0o755):
        """Writes a script into the work directory; returns its path."""
        self._script_no += 1
        path = self.work / "scripts" / (name or f"s{self._script_no}")
        return lkapp.write_script(path, text, mode)

    def create(self, tag, restore, remove, *extra, check=True):
        return self.cli("resource", "create", "gen", "--tag", tag, "--restore", restore,
                        "--remove", remove, *extra, check=check)

    def script_copy(self, action, tag):
        return self.root / "subsys" / "gen" / "resources" / "app" / "actions" / action / tag

    def script_runs(self, action, tag):
        """Pids of live processes running the script copy (e.g. an orphaned restore)."""
        copy = str(self.script_copy(action, tag))
        return [pid for pid, argv in lkapp.proc_cmdlines().items() if copy in argv]

    def copies(self):
        """{relative path: bytes} of every file under subsys/ (script copies)."""
        base = self.root / "subsys"
        out = {}
        if base.exists():
            for p in sorted(base.rglob("*")):
                if p.is_file():
                    out[str(p.relative_to(base))] = p.read_bytes()
        return out

    def snapshot(self):
        """What must not change after a refused command."""
        return (self.ins_list_raw().stdout, self.copies())

    # ------------------------------------------------------------ teardown

    def _leftovers(self):
        me = os.getpid()
        root = str(self.root)
        env_key = f"LKROOT={root}".encode()
        found = []
        for pid, argv in lkapp.proc_cmdlines().items():
            if pid == me:
                continue
            line = " ".join(argv)
            hit = root in line or any(m in argv or f"sleep {m}" in line for m in self.markers)
            if not hit:
                try:
                    with open(f"/proc/{pid}/environ", "rb") as f:
                        hit = env_key in f.read().split(b"\0")
                except OSError:
                    pass
            if hit:
                found.append(pid)
        return found

    def teardown(self):
        problems = []
        if self.daemon_running():
            try:
                self.stop(force=True, check=False, timeout=30)
            except subprocess.TimeoutExpired:
                problems.append("lkstop -f timed out at teardown")
            pid = self.daemon_pid()
            if pid and self.daemon_running():
                os.kill(pid, signal.SIGKILL)
        for _ in range(20):
            pids = self._leftovers()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)
        problems += remove_cgroups(self.root)
        out = self.root / "log" / "lkd.out"
        if out.exists():
            text = out.read_text(errors="replace")
            for word in SANITIZER_WORDS:
                if word in text:
                    problems.append(f"{out} contains {word!r}:\n{text[-6000:]}")
                    break
        problems += self.sanitizer_reports
        return problems


def remove_cgroups(root):
    """Kills what is left in the node's resource cgroups (run/cgroup names its subtree)
    and removes them. Returns problems (a cgroup that would not go)."""
    base_file = Path(root) / "run" / "cgroup"
    if not base_file.exists():
        return []
    base = Path(base_file.read_text().strip())
    if not base.is_dir() or "openkeeper" not in base.parts:
        return []
    problems = []
    for cg in [p for p in base.iterdir() if p.is_dir()] + [base]:
        try:
            (cg / "cgroup.kill").write_text("1")
        except OSError:
            pass
        for _ in range(100):
            try:
                cg.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.05)
        else:
            problems.append(f"cgroup {cg} would not go")
    return problems


def wait_for(predicate, timeout=30, interval=0.05, what=None):
    """Polls predicate until it returns something truthy; returns that, or fails."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for "
                                 f"{what or predicate}; last value: {last!r}")
        time.sleep(interval)


def one_line_error(p):
    """Asserts p failed with exactly one line on stderr; returns that line."""
    assert p.returncode != 0, f"expected a failure, got 0\nstdout: {p.stdout}"
    lines = p.stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}: {p.stderr!r}"
    assert lines[0].strip(), "empty error line"
    return lines[0]


@pytest.fixture
def make_node(tmp_path):
    """Factory: make_node(name) → a Node with a fresh root (not started)."""
    os.chmod(tmp_path, 0o755)
    nodes = []

    def make(name="n1"):
        n = Node(tmp_path, name)
        nodes.append(n)
        return n

    yield make
    problems = []
    for n in nodes:
        problems += n.teardown()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def node(make_node):
    """A started node 'n1'."""
    n = make_node("n1")
    n.start()
    return n


# ------------------------------------------------------------------ users and roles


def _group_exists(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def _user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


# Test runs at once (the workers of `pytest -n`, other checkouts) create and delete users
# and role groups under this lock: useradd/groupadd refuse to run while another holds the
# passwd lock, and a group must not go while another run is adding its users to it. A
# role group that a test run created is named in USERS_GROUPS_MADE, so that the last run
# using it removes it, whichever run created it.
USERS_LOCK = Path("/run/lock/openkeeper-test-users.lock")
USERS_GROUPS_MADE = Path("/run/lock/openkeeper-test-groups")


@contextlib.contextmanager
def users_lock():
    with open(USERS_LOCK, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _groups_made():
    try:
        return set(USERS_GROUPS_MADE.read_text().split())
    except FileNotFoundError:
        return set()


def _set_groups_made(groups):
    if groups:
        USERS_GROUPS_MADE.write_text("".join(f"{g}\n" for g in sorted(groups)))
    else:
        USERS_GROUPS_MADE.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def lk_users():
    """Test users by role: admin (lkadmin), oper (lkoper), guest (lkguest), none.
    Creates the role groups that are missing and the users; removes what it created."""
    if os.geteuid() != 0:
        pytest.skip("creating test users needs root")
    with users_lock():
        made = _groups_made()
        for g in ROLE_GROUPS.values():
            if not _group_exists(g):
                subprocess.run(["groupadd", g], check=True, timeout=CMD_TIMEOUT)
                made.add(g)
        _set_groups_made(made)
        for role, user in TEST_USERS.items():
            if _user_exists(user):
                subprocess.run(["userdel", user], check=False, timeout=CMD_TIMEOUT)
            argv = ["useradd", "-M", "-N", "-s", "/usr/sbin/nologin"]
            if role in USER_GROUPS:
                argv += ["-G", USER_GROUPS[role]]
            subprocess.run(argv + [user], check=True, timeout=CMD_TIMEOUT)
    yield dict(TEST_USERS)
    with users_lock():
        for user in TEST_USERS.values():
            subprocess.run(["userdel", user], check=False, timeout=CMD_TIMEOUT,
                           capture_output=True)
        made = _groups_made()
        for g in sorted(made & set(ROLE_GROUPS.values())):
            # Another run's users may still be in a group a test run created: it stays
            # for them, and the last of them removes it.
            try:
                others = set(grp.getgrnam(g).gr_mem)
            except KeyError:
                made.discard(g)
                continue
            if not others:
                subprocess.run(["groupdel", g], check=False, timeout=CMD_TIMEOUT,
                               capture_output=True)
                made.discard(g)
        _set_groups_made(made)


@pytest.fixture
def traversable(tmp_path):
    """Makes tmp_path and its parents searchable by other users (pytest makes its base
    directory 0700), so that a test user can reach a node's root. The parents are this
    run's own (pytest_configure), which no other pytest run changes back."""
    p = tmp_path
    while str(p) not in ("/", "/tmp"):
        mode = os.stat(p).st_mode & 0o7777
        os.chmod(p, mode | 0o055)
        p = p.parent
    return tmp_path


# ------------------------------------------------------------------ clusters


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keeps the call phase's report on the item, for the cluster fixture's teardown."""
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call":
        item._lk_rep_call = rep


@pytest.fixture
def cluster(tmp_path, request):
    """A multi-node Cluster (tests/helpers/cluster.py) with its observer running; its
    teardown stops every daemon and process, deletes its network namespaces, and fails
    the test if an application ran on two nodes outside a declared fencing window."""
    import cluster as clustermod

    os.chmod(tmp_path, 0o755)
    c = clustermod.Cluster(tmp_path, Node, request)
    yield c
    rep = getattr(request.node, "_lk_rep_call", None)
    if rep is not None and rep.failed:
        # The event logs of every node go with the failure report.
        rep.sections.append(("cluster event logs", c.logs()))
    problems = c.teardown()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def netns_ok():
    """Skips the test when network namespaces cannot be used here."""
    import cluster as clustermod

    why = clustermod.netns_usable()
    if why:
        pytest.skip(why)


def sanitized_build():
    """Whether LK_BUILD is the ASan + UBSan build (its lkd carries the ASan runtime): tests
    of big hierarchies size themselves down there."""
    try:
        return b"__asan_init" in (BUILD / "lkd").read_bytes()
    except OSError:
        return False


def socket_reply(node, cmd, args, timeout=120):
    """One request over the node's run/lkd.sock, as lkcli sends it; the final reply (progress
    lines skipped), whether it succeeded or not."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(str(node.root / "run" / "lkd.sock"))
        s.sendall((json.dumps({"v": 1, "cmd": cmd, "args": args}) + "\n").encode())
        buf = b""
        while True:
            while b"\n" not in buf:
                chunk = s.recv(1 << 20)
                assert chunk, f"{cmd}: lkd closed the connection"
                buf += chunk
            line, buf = buf.split(b"\n", 1)
            msg = json.loads(line)
            if "progress" not in msg:
                return msg
    finally:
        s.close()


def socket_request(node, cmd, args, timeout=120):
    """socket_reply, asserting it succeeded; the final reply's data."""
    msg = socket_reply(node, cmd, args, timeout)
    assert msg.get("ok"), f"{cmd} {args}: {msg.get('error')}"
    return msg.get("data")
