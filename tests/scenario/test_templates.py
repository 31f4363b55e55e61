"""The script templates (templates/, issue 13): each language's one script, switching on
LK_ACTION, with its helper library, really runs an application - a small Python HTTP
server the template starts - through restore, quickchk, deepchk, a kill, recover and
remove: by hand, with the scrubbed environment and LK_HELPERS the daemon gives, and on a
real lkd, where the script is installed as all five actions and the library passed with
--helper. The systemd template runs against a stand-in systemctl; the shell files pass
shellcheck, the Perl files perl -c."""

import os
import re
import shutil
import signal
import socket
import subprocess
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO, free_port, wait_for

TEMPLATES = REPO / "templates"
PY = "/usr/bin/python3"

# language: (directory, script, library, {setting line pattern: replacement format})
LANGS = {
    "sh": ("sh", "app.sh", "lib.sh", {
        r"^APP_CMD=.*$": "APP_CMD='" + PY + " -m http.server {port} --bind 127.0.0.1'",
        r"^APP_DIR=.*$": "APP_DIR='{dir}'",
        r"^APP_PORT=.*$": "APP_PORT=127.0.0.1:{port}",
    }),
    "python": ("python", "app.py", "lib.py", {
        r"^APP_CMD = .*$": 'APP_CMD = ["' + PY + '", "-m", "http.server", "{port}", "--bind", '
                           '"127.0.0.1"]',
        r"^APP_DIR = .*$": 'APP_DIR = "{dir}"',
        r"^APP_PORT = .*$": 'APP_PORT = ("127.0.0.1", {port})',
    }),
    "perl": ("perl", "app.pl", "lib.pl", {
        r"^my @APP_CMD = .*$": "my @APP_CMD = ('" + PY + "', '-m', 'http.server', '{port}', "
                               "'--bind', '127.0.0.1');",
        r"^my \$APP_DIR = .*$": "my $APP_DIR = '{dir}';",
        r"^my \$APP_PORT = .*$": "my $APP_PORT = '127.0.0.1:{port}';",
    }),
}
ACTIONS = ("restore", "remove", "quickchk", "deepchk", "recover")


class Web:
    """One language's template adapted to serve a directory over HTTP on a free port:
    the script in `scripts/`, the library alone in `helpers/` (so the script can only
    find it through LK_HELPERS), the served page in `www/`, the state in `state/`."""

    def __init__(self, base, lang):
        self.lang = lang
        d, script, lib, settings = LANGS[lang]
        self.port = free_port()
        self.base = base
        for sub in ("scripts", "helpers", "www", "state"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(base, 0o755)
        self.page = f"served by the {lang} template {os.getpid()}-{self.port}\n"
        (base / "www" / "index.html").write_text(self.page)
        text = (TEMPLATES / d / script).read_text()
        for pattern, repl in settings.items():
            text, n = re.subn(pattern, repl.format(port=self.port, dir=base / "www"), text,
                              flags=re.M)
            assert n == 1, f"{script}: the setting {pattern} is not there once ({n})"
        self.script = base / "scripts" / script
        self.script.write_text(text)
        self.script.chmod(0o755)
        self.lib = base / "helpers" / lib
        shutil.copyfile(TEMPLATES / d / lib, self.lib)
        self.lib.chmod(0o644)
        self.state = base / "state"
        self.pidfile = self.state / "app.pid"

    def run(self, action, helpers=None, lkroot=None):
        """Runs the script as the daemon would: no arguments, stdin /dev/null, a scrubbed
        environment, a session of its own. Returns the CompletedProcess."""
        root = lkroot or self.base
        env = {"LKROOT": str(root), "LK_TAG": "web", "LK_ID": "web",
               "LK_APP_INFO": str(self.state), "LK_ACTION": action, "LK_NODE": "n1",
               "LK_HELPERS": str(helpers if helpers is not None else self.lib.parent),
               "PATH": f"{root}/bin:/usr/bin:/bin", "LANG": "C"}
        return subprocess.run([str(self.script)], cwd=root, env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=120,
                              start_new_session=True)

    def pid(self):
        try:
            return int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None

    def serves(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=5) as r:
                return r.status == 200 and r.read().decode() == self.page
        except OSError:
            return False

    def cleanup(self):
        pid = self.pid()
        if pid and alive_app(pid):
            os.kill(pid, signal.SIGKILL)


def alive_app(pid):
    """PID runs the HTTP server (not a zombie, not a recycled pid)."""
    try:
        return b"http.server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def ok(p, *numbers):
    """The run exited 0 and said each of the message numbers (stderr: no lk_err here)."""
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    for n in numbers:
        assert f"(No. {n})" in p.stderr, (n, p.stderr)
    return p


def failed(p, *numbers):
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    for n in numbers:
        assert f"(No. {n})" in p.stderr, (n, p.stderr)
    return p


# ------------------------------------------------------------------ by hand


@pytest.mark.parametrize("lang", sorted(LANGS))
def test_template_by_hand_runs_the_application_through_every_action(tmp_path, lang):
    web = Web(tmp_path, lang)
    try:
        # Nothing runs yet: the checks fail, remove is idempotent.
        failed(web.run("quickchk"), 10201)
        ok(web.run("remove"), 10101)

        ok(web.run("restore"), 10002)
        first = web.pid()
        assert first and alive_app(first) and web.serves()
        # Started detached: a session of its own, its output in the state directory.
        assert os.getsid(first) == first
        assert (web.state / "app.log").exists()
        assert ok(web.run("quickchk")).stderr == ""
        assert ok(web.run("deepchk")).stderr == ""
        ok(web.run("restore"), 10001)
        assert web.pid() == first, "restore started a second copy"

        # Stopped (SIGSTOP): the process is there, so quickchk passes; deepchk's
        # app_check fails.
        os.kill(first, signal.SIGSTOP)
        try:
            ok(web.run("quickchk"))
            p = failed(web.run("deepchk"), 10301)
            assert "stopped" in p.stderr, p.stderr
        finally:
            os.kill(first, signal.SIGCONT)

        # Killed: both checks fail; recover starts a new one.
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: not alive_app(first), what="the killed server to go")
        failed(web.run("quickchk"), 10202)
        failed(web.run("deepchk"), 10202)
        ok(web.run("recover"), 10002, 10401)
        second = web.pid()
        assert second and second != first and alive_app(second) and web.serves()

        ok(web.run("remove"), 10102)
        assert not alive_app(second) and not web.pidfile.exists() and not web.serves()
        failed(web.run("quickchk"), 10201)
        ok(web.run("remove"), 10101)

        # The library's directory (OpenKeeper's copy of the helpers) is left as it was.
        assert os.listdir(web.lib.parent) == [web.lib.name]

        # An action the script does not know is a failure, and says so.
        p = failed(web.run("bogus"), 10010)
        assert "unknown LK_ACTION 'bogus'" in p.stderr, p.stderr
    finally:
        web.cleanup()


@pytest.mark.parametrize("lang", sorted(LANGS))
def test_template_without_its_library_fails_and_names_helper(tmp_path, lang):
    web = Web(tmp_path, lang)
    empty = tmp_path / "no-helpers"
    empty.mkdir()
    for action in ("restore", "quickchk"):
        p = web.run(action, helpers=empty)
        assert p.returncode == 1, (p.returncode, p.stderr)
        lib = LANGS[lang][2]
        assert f"helper library {empty}/{lib} missing" in p.stderr, p.stderr
        assert f"--helper {lib}" in p.stderr, p.stderr
    assert web.pid() is None and not web.serves()


@pytest.mark.parametrize("lang", sorted(LANGS))
def test_template_fails_when_the_application_exits_at_once(tmp_path, lang):
    web = Web(tmp_path, lang)
    # The port is taken (bound, not listening: nothing answers on it either, and neither
    # socket has SO_REUSEADDR's sharing): the server exits at once, restore says so.
    with socket.socket() as s:
        s.bind(("127.0.0.1", web.port))
        p = failed(web.run("restore"), 10003)
        assert "app.log" in p.stderr and "Address already in use" in p.stderr, p.stderr
    assert web.pid() is None


# ------------------------------------------------------------------ on a real lkd


def lkd_has_helpers():
    p = subprocess.run([str(Path(os.environ.get("LK_BUILD") or REPO / "build") / "lkcli"),
                        "resource", "create", "--help"], capture_output=True, text=True)
    return "--helper" in p.stdout + p.stderr


def cgroup_pids(node, tag):
    base = Path((node.root / "run" / "cgroup").read_text().strip())
    try:
        return [int(x) for x in (base / f"{tag}.res" / "cgroup.procs").read_text().split()]
    except OSError:
        return []


@pytest.mark.skipif(not lkd_has_helpers(),
                    reason="lkcli resource create has no --helper yet (issue 13's helper "
                           "files, branch i13-model): the library cannot reach LK_HELPERS")
@pytest.mark.parametrize("lang", sorted(LANGS))
def test_template_on_lkd_restore_kill_recover_remove(node, tmp_path, lang):
    web = Web(tmp_path / "web", lang)
    try:
        s = str(web.script)
        node.cli("resource", "create", "gen", "--tag", "web", "--app-info", str(web.state),
                 *[a for action in ACTIONS for a in (f"--{action}", s)],
                 "--helper", str(web.lib), "--quickchk-interval", "1",
                 "--deepchk-interval", "2")
        wait_for(lambda: node.state("web") == "ISP", what="web in service")
        first = web.pid()
        assert first and alive_app(first) and web.serves()
        # The library went where LK_HELPERS points, and the server lives in the
        # resource's cgroup, alone once restore has exited.
        copy = node.root / "subsys/gen/resources/app/helpers/web" / web.lib.name
        assert copy.read_bytes() == web.lib.read_bytes()
        wait_for(lambda: cgroup_pids(node, "web") == [first],
                 what="the server alone in the resource's cgroup")
        # The script is installed as every action.
        for action in ACTIONS:
            assert node.script_copy(action, "web").read_bytes() == web.script.read_bytes()
        assert 10002 in [e["number"] for e in node.log_events(tag="web")]

        # Killed: lkd notices, runs the script as recover, and it serves again.
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: 10401 in [e["number"] for e in node.log_events(tag="web")],
                 timeout=60, what="event 10401 (recover restarted the application)")
        wait_for(lambda: node.state("web") == "ISP", what="web in service again")
        second = web.pid()
        assert second and second != first and alive_app(second)
        wait_for(web.serves, what="the recovered server to answer")

        # The installed copy, run as the daemon runs it, finds its library.
        p = node.cli("resource", "test", "--tag", "web", "--action", "deepchk", check=False)
        assert p.returncode == 0, p.stdout + p.stderr

        node.cli("resource", "remove", "--tag", "web")
        wait_for(lambda: node.state("web") == "OSU", what="web out of service")
        assert not alive_app(second) and not web.serves() and not web.pidfile.exists()
        assert 10102 in [e["number"] for e in node.log_events(tag="web")]
    finally:
        web.cleanup()


# ------------------------------------------------------------------ the systemd template

FAKE_SYSTEMCTL = """\
#!/bin/sh
# A stand-in systemctl: one unit whose state is a file; a unit named fail.service
# fails to start.
f=$LKROOT/unit.state
[ -s "$f" ] || echo inactive >"$f"
echo "$*" >>"$LKROOT/systemctl.calls"
cmd=$1; shift
[ "$1" = --no-block ] && shift
[ "$1" = --quiet ] && shift
case $cmd in
    is-active) s=$(cat "$f"); [ -n "$QUIET" ] || echo "$s"; [ "$s" = active ] ;;
    start) case $1 in fail.service) echo failed ;; *) echo active ;; esac >"$f" ;;
    stop|kill) echo inactive >"$f" ;;
    reset-failed) [ "$(cat "$f")" = failed ] && echo inactive >"$f"; exit 0 ;;
    status) echo "$1 - $(cat "$f")" ;;
    *) exit 1 ;;
esac
"""


def run_service(root, unit, action):
    env = {"LKROOT": str(root), "LK_TAG": "svc", "LK_ID": "svc", "LK_APP_INFO": unit,
           "LK_ACTION": action, "LK_NODE": "n1", "LK_HELPERS": str(TEMPLATES / "sh"),
           "PATH": f"{root}/bin:/usr/bin:/bin", "LANG": "C"}
    return subprocess.run([str(TEMPLATES / "example_service" / "service.sh")], cwd=root,
                          env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=120)


def test_service_template_switches_on_the_action(tmp_path):
    (tmp_path / "bin").mkdir()
    fake = tmp_path / "bin" / "systemctl"
    fake.write_text(FAKE_SYSTEMCTL)
    fake.chmod(0o755)
    state = tmp_path / "unit.state"

    ok(run_service(tmp_path, "web.service", "restore"), 11002)
    assert state.read_text() == "active\n"
    ok(run_service(tmp_path, "web.service", "restore"), 11001)
    assert ok(run_service(tmp_path, "web.service", "quickchk")).stderr == ""
    state.write_text("failed\n")
    failed(run_service(tmp_path, "web.service", "quickchk"), 11201)
    ok(run_service(tmp_path, "web.service", "recover"), 11101, 11002, 11401)
    assert state.read_text() == "active\n"
    ok(run_service(tmp_path, "web.service", "remove"), 11102)
    assert state.read_text() == "inactive\n"
    ok(run_service(tmp_path, "web.service", "remove"), 11101)
    calls = (tmp_path / "systemctl.calls").read_text()
    assert "start --no-block web.service" in calls and "stop --no-block web.service" in calls

    failed(run_service(tmp_path, "fail.service", "restore"), 11004)
    failed(run_service(tmp_path, "", "restore"), 11009)
    failed(run_service(tmp_path, "web.service", "deepchk"), 10010)


# ------------------------------------------------------------------ static checks


@pytest.mark.skipif(shutil.which("shellcheck") is None,
                    reason="shellcheck is not installed (scripts/install-deps.sh installs it)")
def test_shell_templates_pass_shellcheck():
    files = [TEMPLATES / "sh" / "app.sh", TEMPLATES / "sh" / "lib.sh",
             TEMPLATES / "example_service" / "service.sh",
             TEMPLATES / "generic_root" / "root.sh"]
    p = subprocess.run(["shellcheck", "-x", *map(str, files)], capture_output=True,
                       text=True, cwd=TEMPLATES)
    assert p.returncode == 0, p.stdout + p.stderr


def test_perl_and_python_templates_compile():
    for f in ("perl/app.pl", "perl/lib.pl"):
        p = subprocess.run(["perl", "-c", str(TEMPLATES / f)], capture_output=True, text=True,
                           env={"PATH": "/usr/bin:/bin", "LK_HELPERS": str(TEMPLATES / "perl")})
        assert p.returncode == 0, (f, p.stderr)
    for f in ("python/app.py", "python/lib.py"):
        compile((TEMPLATES / f).read_text(), f, "exec")


def test_every_template_script_is_one_file_for_every_action():
    """No set keeps a copy per action any more: one executable script per set."""
    for d in ("sh", "perl", "python", "example_service", "generic_root"):
        names = sorted(p.name for p in (TEMPLATES / d).iterdir() if p.is_file())
        assert not set(names) & set(ACTIONS), (d, names)
        scripts = [n for n in names if os.access(TEMPLATES / d / n, os.X_OK)]
        assert len(scripts) == 1, (d, scripts)
