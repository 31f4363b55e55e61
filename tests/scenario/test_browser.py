"""The dashboard in a real browser (docs/DASHBOARD.md): Debian's chromium, headless, driven by
playwright-core (tests/browser/dashboard.test.mjs) against lkweb on node1 of a real two-node
cluster.

The script signs in with an admin token, sees the hierarchy web (over db) in service on
node1, switches it over to node2 with the button and its confirmation, and sees it in
service on node2; then this side kills web's application on node2 by its pid and the
script sees the incident appear with its cause (and the failover back to node1). It
restores `slow` with its button and sees "restore in progress" while the restore script
waits for a gate this side opens. It saves
screenshots at 1366x768 and 390x844 under tests/artifacts/, signs in with a guest token and
finds no action button, and fails on any page or console error of the dashboard.

The test is skipped only when chromium cannot start here (the reason says why); a missing
node, npm or playwright-core, lkweb refusing to start, or any step of the script is a
failure.
"""

import os
import shutil
import signal
import subprocess
import threading
import urllib.error
import urllib.request

import pytest

from cluster import free_port, wait_eq, wait_for
from conftest import BUILD, REPO, SANITIZER_WORDS

CHROMIUM = os.environ.get("LK_CHROMIUM", "/usr/bin/chromium")
BROWSER_DIR = REPO / "tests" / "browser"
ARTIFACTS = REPO / "tests" / "artifacts"
SCRIPT_TIMEOUT = 600
SHOTS = ("dashboard-1366x768.png", "dashboard-390x844.png", "dashboard-guest-1366x768.png",
         "dashboard-confirm-1366x768.png", "dashboard-390x844-hierarchy.png",
         "dashboard-login-390x844.png")


def chromium_cannot_start():
    """None when headless chromium starts here, else the reason it does not."""
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is not installed (Debian package chromium)"
    try:
        p = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                            "--dump-dom", "about:blank"],
                           capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"{CHROMIUM} cannot start: {e!r}"
    if p.returncode != 0 or "<html" not in p.stdout:
        return (f"{CHROMIUM} cannot start headless (exit {p.returncode}): "
                f"{p.stderr.strip()[-500:]}")
    return None


def npm_ready():
    """playwright-core installed from the lock file (npm ci when node_modules is missing)."""
    for tool in ("node", "npm"):
        assert shutil.which(tool), f"{tool} is missing: scripts/install-deps.sh installs it"
    if not (BROWSER_DIR / "node_modules" / "playwright-core" / "package.json").exists():
        p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=BROWSER_DIR,
                           capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, f"npm ci in {BROWSER_DIR} failed:\n{p.stdout}\n{p.stderr}"


def http_status(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


class Lkweb:
    """lkweb on a node, in the foreground as a child of the test, ended by its pid."""

    def __init__(self, node, port):
        self.node = node
        self.url = f"http://127.0.0.1:{port}/"
        self.log = node.work / "lkweb.test.log"
        self.out = open(self.log, "w")
        self.proc = subprocess.Popen(
            [str(BUILD / "lkweb"), "--root", str(node.root), "--listen", f"127.0.0.1:{port}",
             "--ui", str(REPO / "web"), "--foreground"],
            stdout=self.out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def wait_ready(self):
        def ready():
            assert self.proc.poll() is None, (f"lkweb exited {self.proc.returncode}:\n"
                                              f"{self.log.read_text(errors='replace')}")
            return http_status(self.url + "api/v1/session") == 401
        wait_for(ready, timeout=60, interval=0.1, what="lkweb to answer (401 without a session)")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)
        self.out.close()


def token(node, role):
    t = node.cli_json("web", "token", "create", "--role", role, "--name", f"browser-{role}")
    assert t["role"] == role and t["token"].startswith("lk_"), t
    return t["token"]


def run_script(argv, on_kill, on_gate):
    """Runs the node script; calls on_kill() when it asks for the kill and answers KILLED,
    on_gate() when it asks for the gate and answers OPENED. Returns (exit code, output)."""
    # Its own process group: node and the chromium it starts end together (by the group's
    # id, the script's pid) if the script hangs or the test fails.
    proc = subprocess.Popen(argv, cwd=BROWSER_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, errors="replace",
                            start_new_session=True)

    def kill_group():
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    lines = []
    timer = threading.Timer(SCRIPT_TIMEOUT, kill_group)
    timer.start()
    try:
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            print(line, end="", flush=True)
            if line.startswith("KILL "):
                on_kill()
                proc.stdin.write("KILLED\n")
                proc.stdin.flush()
            elif line.startswith("GATE "):
                on_gate()
                proc.stdin.write("OPENED\n")
                proc.stdin.flush()
        rc = proc.wait(timeout=60)
    finally:
        timer.cancel()
        kill_group()  # what is left of the group (nothing after a clean end)
        proc.wait()
    return rc, "\n".join(lines)


def test_dashboard_in_a_browser(cluster, capsys):
    reason = chromium_cannot_start()
    if reason:
        pytest.skip(f"the browser test needs a working headless chromium: {reason}")
    npm_ready()

    n1, n2 = cluster.build(2)
    web = cluster.app("web")
    db = cluster.app("db")
    n1.create("db", db.restore, db.remove, "--quickchk", db.quickchk)
    n1.create("web", web.restore, web.remove, "--quickchk", web.quickchk)
    n1.cli("dependency", "create", "--parent", "web", "--child", "db")
    n1.cli("resource", "extend", "--tag", "web", "--node", "node2", "--priority", "10")
    for n in (n1, n2):
        wait_eq(lambda n=n: n.res_nodes("web"), {"node1": "ISP", "node2": "OSU"},
                what=f"{n.name}'s view of web after extend")
        wait_eq(lambda n=n: n.res_nodes("db"), {"node1": "ISP", "node2": "OSU"},
                what=f"{n.name}'s view of db after extend")
    assert web.runs_only_on(n1) and db.runs_only_on(n1)
    # slow: node1 only, out of service; its restore waits until the gate file exists (the
    # browser sees "restore in progress" in the meantime).
    gate = n1.work / "slow.gate"
    slow_restore = n1.script(f"""\
#!/bin/sh
i=0
while [ ! -e {gate} ] && [ $i -lt 3000 ]; do sleep 0.1; i=$((i + 1)); done
[ -e {gate} ]
""")
    slow_remove = n1.script("#!/bin/sh\nexit 0\n")
    n1.create("slow", slow_restore, slow_remove, "--no-in-service")
    assert n1.state("slow") == "OSU"

    admin = token(n1, "admin")
    guest = token(n1, "guest")
    operator = token(n1, "operator")
    lkweb = Lkweb(n1, free_port())
    try:
        lkweb.wait_ready()
        killed = {}

        def kill_web_on_node2():
            # The script saw web in service on node2: it must run there, once.
            wait_for(lambda: web.runs_only_on(n2), what="web running on node2 only")
            pid = web.nodes()["node2"][0]
            os.kill(pid, signal.SIGKILL)
            killed["pid"] = pid

        def open_gate():
            # The script saw the restore in progress: it is, and waits for the gate.
            assert n1.resource("slow")["pending"] == "restore", n1.resource("slow")
            gate.touch()
            killed["gate"] = True

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for shot in SHOTS:
            (ARTIFACTS / shot).unlink(missing_ok=True)
        rc, out = run_script(["node", "dashboard.test.mjs", "--url", lkweb.url,
                              "--admin-token", admin, "--guest-token", guest,
                              "--operator-token", operator, "--tag", "web",
                              "--child", "db", "--slow", "slow", "--artifacts", str(ARTIFACTS)],
                             kill_web_on_node2, open_gate)
        assert rc == 0 and out.rstrip().endswith("PASS"), (
            f"the browser test failed (exit {rc}):\n{out}\n--- lkweb log:\n"
            f"{lkweb.log.read_text(errors='replace')[-4000:]}\n--- cluster:\n{cluster.logs()}")
    finally:
        lkweb.stop()
    log = lkweb.log.read_text(errors="replace")
    for word in SANITIZER_WORDS:
        assert word not in log, f"lkweb's log has {word!r}:\n{log[-6000:]}"

    # What the browser showed is what happened: the switchover ran web on node2, the kill
    # there was the incident, and the hierarchy failed over back to node1.
    assert "pid" in killed, "the script never asked for the kill"
    assert "gate" in killed, "the script never asked for the gate"
    assert n1.state("slow") == "ISP"
    assert n1.resource("slow")["settings"]["monitor"] is True  # off, then on again
    assert cluster.observer.ever_ran_on(web, "node2")
    wait_for(lambda: web.runs_only_on(n1) and db.runs_only_on(n1), what="web and db back on node1")
    why = n1.cli_json("resource", "why", "--tag", "web")
    assert why["root_cause"]["node"] == "node2" and why["root_cause"]["tag"] == "web", why
    shots = [ARTIFACTS / shot for shot in SHOTS]
    for shot in shots:
        assert shot.exists() and shot.stat().st_size > 10000, f"no screenshot {shot}"
    with capsys.disabled():  # shown even when pytest captures the output
        print(f"\nbrowser test screenshots: {', '.join(str(s) for s in shots)}")
