"""make install for real machines (issue 12, item 5; docs/PACKAGING.md).

The build is installed into a scratch DESTDIR (meson install --destdir, the step under
`make install DESTDIR=...`; the build's own prefix is read, never changed) and the tree is
checked as a package would be: the commands, the systemd units (verified by
systemd-analyze when it is there), the sysusers and tmpfiles files (applied to a scratch
root by systemd-sysusers / systemd-tmpfiles --root when they are there), the logrotate
rule, the bash completion (parsed, then run: subcommands, options, tags from a live lkd,
nothing and no noise without one) and every man page (rendered by man without a warning).

The sd_notify side runs a real lkd in the foreground under a notification socket the test
binds, as systemd would: READY=1 once it serves, WATCHDOG=1 pings while its loop turns and
none while it is stopped (SIGSTOP), pings again after SIGCONT, STOPPING=1 on lkstop. Nothing
here starts a systemd unit or touches the machine's systemd.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BUILD, REPO, _clean_env, wait_for

COMMANDS = {"bin": ["lkcli", "lkstart", "lkstop", "ins_list", "lk_err", "ins_setstate"], "sbin": ["lkd", "lkguard"]}
MAN_PAGES = ["man8/lkd.8", "man8/lkguard.8", "man8/lkcli.8", "man8/lkstart.8", "man8/lkstop.8",
             "man8/ins_list.8", "man8/lk_err.8", "man8/ins_setstate.8", "man8/lkweb.8", "man8/lk_webhook.8",
             "man8/lk_systemd.8", "man5/lk.conf.5"]
LKROOT = "/var/lib/openkeeper"


def build_dirs():
    """The build's install directories, as meson introspection gives them."""
    p = subprocess.run(["meson", "introspect", "--buildoptions", str(BUILD)],
                       capture_output=True, text=True, check=True)
    opts = {o["name"]: o["value"] for o in json.loads(p.stdout)}
    prefix = Path(opts["prefix"])

    def under(name):
        v = Path(opts[name])
        return v if v.is_absolute() else prefix / v

    return {"prefix": prefix, "bin": under("bindir"), "sbin": under("sbindir"),
            "datadir": under("datadir"), "mandir": under("mandir"),
            "sysconfdir": under("sysconfdir"), "lkroot": opts["lkroot"]}


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    """The build installed into a scratch DESTDIR: (destdir, dirs)."""
    dest = tmp_path_factory.mktemp("destdir")
    p = subprocess.run(["meson", "install", "-C", str(BUILD), "--no-rebuild", "--quiet",
                        "--destdir", str(dest)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    return dest, build_dirs()


def inside(dest, path):
    return dest / Path(path).relative_to("/")


def test_install_puts_every_file_in_place(staged):
    dest, d = staged
    for kind, names in COMMANDS.items():
        for name in names:
            f = inside(dest, d[kind] / name)
            assert f.is_file() and os.access(f, os.X_OK), f
    templates = inside(dest, d["datadir"] / "openkeeper" / "templates")
    for f in ("sh/app.sh", "sh/lib.sh", "python/app.py", "python/lib.py", "perl/app.pl",
              "perl/lib.pl", "example_service/service.sh", "generic_root/root.sh"):
        assert (templates / f).is_file(), f
    for f in ("sh/app.sh", "python/app.py", "perl/app.pl", "example_service/service.sh",
              "generic_root/root.sh"):
        assert os.access(templates / f, os.X_OK), f
    # The Perl API, where lkd looks for it (issue 14).
    for f in ("LK.pm", "LifeKeeper.pl"):
        assert inside(dest, d["datadir"] / "openkeeper" / "perl" / f).is_file(), f
    # The dashboard's files, where lkweb looks for them (once the tree has them).
    for f in (REPO / "web").glob("*") if (REPO / "web").is_dir() else []:
        assert inside(dest, d["datadir"] / "openkeeper" / "web" / f.name).exists(), f.name
    lib = d["prefix"] / "lib"
    expected = [lib / "systemd/system/lkd.service", lib / "systemd/system/lkweb.service",
                lib / "sysusers.d/openkeeper.conf", lib / "tmpfiles.d/openkeeper.conf",
                d["sysconfdir"] / "logrotate.d/openkeeper",
                d["sysconfdir"] / "profile.d/openkeeper.sh"]
    expected += [d["mandir"] / page for page in MAN_PAGES]
    for name in ["lkcli", "lkstart", "lkstop"]:
        expected.append(d["datadir"] / "bash-completion/completions" / name)
    missing = [str(f) for f in expected if not inside(dest, f).is_file()]
    assert not missing, f"not installed: {missing}"
    # Nothing is installed outside the prefix and sysconfdir.
    for f in dest.rglob("*"):
        if f.is_file():
            real = Path("/") / f.relative_to(dest)
            assert (str(real).startswith(str(d["prefix"]) + "/")
                    or str(real).startswith(str(d["sysconfdir"]) + "/")), real


def unit_text(dest, d, name):
    return inside(dest, d["prefix"] / "lib/systemd/system" / name).read_text()


def test_lkd_unit_runs_lkd_in_the_foreground_with_its_guard(staged):
    dest, d = staged
    text = unit_text(dest, d, "lkd.service")
    keys = dict(re.findall(r"^(\w+)=(.*)$", text, re.M))
    assert keys["Type"] == "notify" and keys["NotifyAccess"] == "main"
    root = d["lkroot"]
    assert keys["ExecStart"] == f"{d['sbin']}/lkd --foreground --root {root}"
    assert keys["ExecStartPost"] == f"-{d['sbin']}/lkguard --root {root}"
    assert keys["ExecStop"] == f"{d['bin']}/lkstop --root {root}"
    assert keys["KillMode"] == "process" and keys["Delegate"] == "yes"
    assert re.fullmatch(r"\d+s", keys["WatchdogSec"])
    web = dict(re.findall(r"^(\w+)=(.*)$", unit_text(dest, d, "lkweb.service"), re.M))
    assert web["ExecStart"] == f"{d['sbin']}/lkweb --root {root} --foreground"
    assert web["BindsTo"] == "lkd.service" and web["After"] == "lkd.service"


@pytest.mark.parametrize("unit", ["lkd.service", "lkweb.service"])
def test_units_pass_systemd_analyze_verify(staged, tmp_path, unit):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    dest, d = staged
    if unit == "lkweb.service" and not (BUILD / "lkweb").exists():
        pytest.skip("lkweb is not built in this tree")
    # The units name the installed paths; verify copies that name the staged ones (verify
    # checks that each Exec*= binary exists), next to each other (lkweb binds to lkd).
    for name in ["lkd.service", "lkweb.service"]:
        text = unit_text(dest, d, name)
        text = re.sub(r"^(Exec\w+=-?)(/\S+)", lambda m: m.group(1) + str(inside(dest, m.group(2))),
                      text, flags=re.M)
        (tmp_path / name).write_text(text)
    p = subprocess.run(["systemd-analyze", "verify", "--man=no", str(tmp_path / unit)],
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert p.returncode == 0 and not p.stderr.strip(), p.stdout + p.stderr


def test_sysusers_makes_the_three_groups(staged, tmp_path):
    dest, d = staged
    conf = inside(dest, d["prefix"] / "lib/sysusers.d/openkeeper.conf")
    lines = [ln.split() for ln in conf.read_text().splitlines() if ln and not ln.startswith("#")]
    assert sorted(ln[1] for ln in lines) == ["lkadmin", "lkguest", "lkoper"]
    assert all(ln[0] == "g" for ln in lines)
    if not shutil.which("systemd-sysusers"):
        return
    # Applied to a scratch root, never to this machine's /etc.
    scratch = tmp_path / "sysroot"
    (scratch / "etc").mkdir(parents=True)
    p = subprocess.run(["systemd-sysusers", f"--root={scratch}", str(conf)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    groups = [ln.split(":")[0] for ln in (scratch / "etc/group").read_text().splitlines()]
    assert {"lkadmin", "lkoper", "lkguest"} <= set(groups), groups


def test_tmpfiles_creates_the_root_with_lkd_modes(staged, tmp_path):
    dest, d = staged
    conf = inside(dest, d["prefix"] / "lib/tmpfiles.d/openkeeper.conf")
    root = d["lkroot"]
    modes = {}
    for ln in conf.read_text().splitlines():
        if ln and not ln.startswith("#"):
            kind, path, mode, user, group, _age = ln.split()
            assert kind == "d" and user == "root" and group == "root"
            modes[path] = mode
    assert modes == {root: "0755", f"{root}/etc": "0755", f"{root}/run": "0755",
                     f"{root}/log": "0755", f"{root}/db": "0700", f"{root}/bin": "0755",
                     f"{root}/var": "0755"}
    if not shutil.which("systemd-tmpfiles"):
        return
    scratch = tmp_path / "sysroot"
    scratch.mkdir()
    p = subprocess.run(["systemd-tmpfiles", "--create", f"--root={scratch}", str(conf)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    for path, mode in modes.items():
        st = inside(scratch, path).stat()
        assert oct(st.st_mode & 0o7777) == oct(int(mode, 8)), path


def test_logrotate_leaves_lkd_rotation_alone(staged):
    dest, d = staged
    text = inside(dest, d["sysconfdir"] / "logrotate.d/openkeeper").read_text()
    text = "\n".join(ln for ln in text.splitlines() if not ln.startswith("#"))
    blocks = dict(re.findall(r"^(\S[^\n]*?)\s*\{(.*?)^\}", text, re.M | re.S))
    root = d["lkroot"]
    lk = blocks[f"{root}/log/lk.log"].split()
    # lk.log is never renamed (lkd holds it open and renames it itself to lk.log.N):
    # copied to dated archives, which never collide with lkd's numbered ones.
    assert "copytruncate" in lk and "dateext" in lk and "compress" in lk and "create" not in lk
    outs = [k for k in blocks if k != f"{root}/log/lk.log"]
    assert len(outs) == 1 and f"{root}/log/lkd.out" in outs[0].split()
    assert "copytruncate" in blocks[outs[0]].split()
    if shutil.which("logrotate"):
        p = subprocess.run(["logrotate", "--debug", "--state", "/dev/null",
                            str(inside(dest, d["sysconfdir"] / "logrotate.d/openkeeper"))],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0 and "error" not in p.stderr.lower(), p.stderr


def test_every_man_page_renders_without_a_warning(staged):
    if not shutil.which("man"):
        pytest.fail("man is missing (man-db is in scripts/install-deps.sh)")
    dest, d = staged
    for page in MAN_PAGES:
        f = inside(dest, d["mandir"] / page)
        env = dict(_clean_env(), MANWIDTH="80")
        p = subprocess.run(["man", "-l", "--warnings", str(f)], capture_output=True, text=True,
                           timeout=60, env=env)
        assert p.returncode == 0 and p.stderr == "", f"{page}: {p.stderr}"
        name = Path(page).name.rsplit(".", 1)[0]
        assert re.search(r"^NAME\n\s+" + re.escape(name) + " - ", p.stdout, re.M), p.stdout[:400]
        assert "SEE ALSO" in p.stdout


def test_lkcli_page_names_every_command_and_setting(staged):
    dest, d = staged
    text = subprocess.run(["man", "-l", str(inside(dest, d["mandir"] / "man8/lkcli.8"))],
                          capture_output=True, text=True, env=dict(_clean_env(), MANWIDTH="200"),
                          timeout=60).stdout
    for words in ["status", "metrics", "log", "resource create gen", "resource restore",
                  "resource remove",
                  "resource delete", "resource extend", "resource unextend",
                  "resource update-script", "resource config", "resource test", "resource why",
                  "resource reset", "resource list", "resource describe-agent",
                  "dependency create", "dependency delete",
                  "dependency list", "node list", "commpath list", "commpath create",
                  "commpath delete", "cluster config", "cluster rotate-key", "web token create",
                  "lifekeeper-setup"]:
        assert re.search(r"^\s+" + re.escape(words) + r"\b", text, re.M), words
    # Every resource setting (src/lib/resource.c) and cluster setting (src/lib/settings.c).
    for key in ["quickchk-interval", "deepchk-interval", "quickchk-timeout", "deepchk-timeout",
                "check-failures", "local-recovery", "max-recoveries", "recovery-window",
                "switchback", "monitor-timeout-action", "action-timeout", "start-grace",
                "pidfile", "monitor", "init", "watch", "kill-mode", "script-args",
                "heartbeat-interval-ms",
                "heartbeat-misses", "quorum", "quorum-loss-action", "witness", "fence-script",
                "max-failovers", "failover-window", "min-protocol"]:
        assert f"--{key} " in text, key


def complete(comp_file, words, env_extra=None):
    """Runs bash completion of words (the last one being completed) with the installed
    file; returns (COMPREPLY, stderr)."""
    script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); '
              'COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; '
              'complete -p "$1" >/dev/null || exit 9; '
              'f=$(complete -p "$1" | sed -n "s/.*-F \\([^ ]*\\) .*/\\1/p"); '
              '"$f" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"; '
              'printf "%s\\n" "${COMPREPLY[@]}"')
    env = dict(_clean_env(), PATH=f"{BUILD}:{os.environ['PATH']}", **(env_extra or {}))
    p = subprocess.run(["bash", "--norc", "-c", script, "complete", str(comp_file)] + words,
                       capture_output=True, text=True, timeout=30, env=env)
    assert p.returncode == 0, p.stderr
    return sorted(w for w in p.stdout.split("\n") if w), p.stderr


def test_bash_completion(staged, make_node, tmp_path):
    dest, d = staged
    comp = d["datadir"] / "bash-completion/completions"
    for name in ["lkcli", "lkstart", "lkstop"]:
        p = subprocess.run(["bash", "-n", str(inside(dest, comp / name))], capture_output=True,
                           text=True, timeout=30)
        assert p.returncode == 0, p.stderr
    lkcli = inside(dest, comp / "lkcli")
    assert complete(lkcli, ["lkcli", ""])[0] == sorted(
        ["status", "metrics", "resource", "dependency", "log", "node", "commpath", "cluster",
         "web", "lifekeeper-setup"])
    assert complete(lkcli, ["lkcli", "--json", "res"])[0] == ["resource"]
    got = complete(lkcli, ["lkcli", "resource", ""])[0]
    assert {"create", "restore", "remove", "delete", "extend", "unextend", "update-script",
            "config", "test", "why", "reset", "list", "describe-agent"} == set(got)
    got = complete(lkcli, ["lkcli", "resource", "config", "--tag", "x", "--quick"])[0]
    assert got == ["--quickchk-interval", "--quickchk-timeout"]
    assert complete(lkcli, ["lkcli", "resource", "config", "--watch", ""])[0] == [
        "cgroup", "none", "pidfile"]
    assert complete(lkcli, ["lkcli", "cluster", ""])[0] == ["alert", "config", "rotate-key"]
    assert complete(lkcli, ["lkcli", "resource", "config", "--script-args", ""])[0] == [
        "lifekeeper", "none"]
    assert set(complete(lkcli, ["lkcli", "lifekeeper-setup", "--"])[0]) == {
        "--dry-run", "--json", "--help", "--prefix", "--root"}
    assert "--switchover" in complete(inside(dest, comp / "lkstop"), ["lkstop", "--"])[0]
    assert "--no-guard" in complete(inside(dest, comp / "lkstart"), ["lkstart", "--"])[0]

    # --tag: the tags of a live lkd (its root from --root or LKROOT) ...
    node = make_node("n1")
    node.start()
    for tag in ["web1", "web2", "db"]:
        app = node.app(tag)
        node.create(tag, app.restore, app.remove, "--no-in-service")
    got, err = complete(lkcli, ["lkcli", "--root", str(node.root), "resource", "restore",
                                "--tag", "we"])
    assert got == ["web1", "web2"] and err == ""
    got, err = complete(lkcli, ["lkcli", "--root", "=", str(node.root), "resource",
                                "reset", "--tag", "d"])
    assert got == ["db"] and err == ""
    got, err = complete(lkcli, ["lkcli", "resource", "why", "--tag", ""],
                        {"LKROOT": str(node.root)})
    assert got == ["db", "web1", "web2"] and err == ""
    # ... and nothing, silently, when no lkd answers there.
    empty = tmp_path / "no-node"
    empty.mkdir()
    got, err = complete(lkcli, ["lkcli", "--root", str(empty), "resource", "why", "--tag", ""])
    assert got == [] and err == ""


# ------------------------------------------------------------------ sd_notify


class NotifySocket:
    """The service manager's end: a datagram socket lkd's NOTIFY_SOCKET names."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages = []

    def read(self, seconds):
        """Every datagram that arrives within the next seconds."""
        deadline = time.monotonic() + seconds
        got = []
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                got.append(self.sock.recv(4096).decode())
            except socket.timeout:
                break
        self.messages += got
        return got

    def wait(self, predicate, timeout, what):
        """Reads until a datagram satisfies predicate; returns it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                msg = self.sock.recv(4096).decode()
            except socket.timeout:
                break
            self.messages += [msg]
            if predicate(msg):
                return msg
        raise AssertionError(f"no {what} within {timeout} s; got {self.messages[-10:]}")

    def close(self):
        self.sock.close()


def fields(msg):
    return dict(line.split("=", 1) for line in msg.splitlines() if "=" in line)


def process_state(pid):
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2]


def test_lkd_tells_systemd_ready_watchdog_and_stopping(make_node, tmp_path):
    node = make_node("n1")
    # The root as a packaged node has it: made once (lkstart), then lkd runs under the
    # service manager, in the foreground.
    node.start()
    node.stop(force=True)
    notify = NotifySocket(tmp_path / "notify.sock")
    watchdog_usec = 400000  # pings expected every 200 ms
    env = dict(_clean_env(), NOTIFY_SOCKET=notify.path, WATCHDOG_USEC=str(watchdog_usec))
    err = open(tmp_path / "lkd.stderr", "w")
    lkd = subprocess.Popen([str(BUILD / "lkd"), "--foreground", "--root", str(node.root)],
                           env=env, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
    try:
        ready = notify.wait(lambda m: "READY=1" in m.splitlines(), 60, "READY=1")
        # Ready means serving: the socket answers at once, and the comm paths listen.
        assert node.cli_json("status")
        assert "n1" in fields(ready)["STATUS"] and "serves" in fields(ready)["STATUS"]
        assert lkd.poll() is None

        notify.wait(lambda m: m == "WATCHDOG=1", 30, "a first WATCHDOG=1")
        notify.wait(lambda m: m == "WATCHDOG=1", 30, "a second WATCHDOG=1")

        # A stopped loop stops the pings: what was sent before SIGSTOP is drained, then
        # ten intervals pass without one.
        os.kill(lkd.pid, signal.SIGSTOP)
        wait_for(lambda: process_state(lkd.pid) == "T", what="lkd to be stopped")
        notify.read(0.3)
        silent = notify.read(10 * watchdog_usec / 2e6)
        assert "WATCHDOG=1" not in silent, silent
        os.kill(lkd.pid, signal.SIGCONT)
        notify.wait(lambda m: m == "WATCHDOG=1", 30, "WATCHDOG=1 after SIGCONT")

        p = node.stop(check=False)
        assert p.returncode == 0, p.stderr
        stopping = notify.wait(lambda m: "STOPPING=1" in m.splitlines(), 30, "STOPPING=1")
        assert "out of service" in fields(stopping)["STATUS"]
        assert lkd.wait(timeout=60) == 0
        assert not [m for m in notify.read(0.2) if "READY=1" in m]
    finally:
        if lkd.poll() is None:
            os.kill(lkd.pid, signal.SIGCONT)
            lkd.kill()
            lkd.wait()
        err.close()
        notify.close()
    assert "Assertion" not in (tmp_path / "lkd.stderr").read_text()


def test_sigterm_under_systemd_says_applications_keep_running(make_node, tmp_path):
    node = make_node("n1")
    node.start()
    node.stop(force=True)
    notify = NotifySocket(tmp_path / "notify.sock")
    env = dict(_clean_env(), NOTIFY_SOCKET=notify.path)
    lkd = subprocess.Popen([str(BUILD / "lkd"), "-f", "--root", str(node.root)], env=env,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        notify.wait(lambda m: "READY=1" in m.splitlines(), 60, "READY=1")
        # No WATCHDOG_USEC: no pings.
        assert "WATCHDOG=1" not in notify.read(0.5)
        lkd.send_signal(signal.SIGTERM)
        stopping = notify.wait(lambda m: "STOPPING=1" in m.splitlines(), 30, "STOPPING=1")
        assert "keep running" in fields(stopping)["STATUS"]
        assert lkd.wait(timeout=60) == 0
    finally:
        if lkd.poll() is None:
            lkd.kill()
            lkd.wait()
        notify.close()
