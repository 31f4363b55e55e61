"""Alert hooks (docs/ALERTS.md): replicated with the cluster settings, each event a node
logs delivered to the hooks that select it, in order, as JSON on stdin and LK_ALERT_*
variables (an executable) or as a signed HTTP POST (a webhook, through lk_webhook);
failures retried with a backoff and logged at most once a minute; a hanging hook killed
at its timeout without stalling lkd; bad input refused with one line, nothing changed."""

import hashlib
import hmac
import http.server
import json
import os
import socketserver
import stat
import threading

import lkapp
import pytest
from cluster import wait_eq, wait_for
from conftest import one_line_error, socket_request

SECRET = "s3cret-0123456789abcdef-ABCDEF"


def hook_dir(tmp_path, name="hooks"):
    """A root-owned 0755 directory for hook scripts (tmp_path's parents are root's)."""
    d = tmp_path / name
    d.mkdir(mode=0o755)
    os.chmod(d, 0o755)
    return d


def exec_hook(d, control=None):
    """A hook that appends its stdin (one JSON line) and its LK_ALERT_* numbers to
    events-$LK_ALERT_NODE.jsonl; when control names a file, it exits with the number in
    it (after recording the attempt in attempts-$LK_ALERT_NODE)."""
    gate = ""
    if control:
        gate = f"""\
echo "$LK_ALERT_SEQ $LK_ALERT_ATTEMPT" >> {d}/attempts-$LK_ALERT_NODE
st=$(cat {control})
[ "$st" = 0 ] || {{ echo "not now ($st)"; exit "$st"; }}
"""
    return lkapp.write_script(d / "hook.sh", f"""\
#!/bin/bash
body=$(cat)
{gate}printf '%s\\n' "$body" >> {d}/events-$LK_ALERT_NODE.jsonl
echo "$LK_ALERT_SEQ $LK_ALERT_NUMBER $LK_ALERT_SEVERITY $LK_ALERT_KIND $LK_ALERT_NAME" \
    >> {d}/env-$LK_ALERT_NODE
exit 0
""")


def lines(path):
    """The complete lines the hook has written so far: one it is still writing (no
    newline yet) is read at the next look."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    return [json.loads(x) for x in text[: text.rfind("\n") + 1].splitlines() if x.strip()]


class Receiver:
    """A webhook receiver on 127.0.0.1: checks the secret header and the signature of each
    POST, records (ok, event) in arrival order, answers 200 (403 when a check fails)."""

    def __init__(self):
        self.got = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                want = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                ok = (self.headers.get("X-OpenKeeper-Secret") == SECRET
                      and self.headers.get("X-OpenKeeper-Signature") == want
                      and self.headers.get("Content-Type") == "application/json")
                outer.got.append((ok, json.loads(body)))
                self.send_response(200 if ok else 403)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def secret_file(tmp_path):
    f = tmp_path / "webhook.secret"
    f.write_text(SECRET + "\n")
    os.chmod(f, 0o600)
    return f


def alerts(node):
    return {a["name"]: a for a in node.cli_json("cluster", "alert", "list")}


def test_failover_events_reach_exec_and_webhook_in_order(cluster, receiver, tmp_path):
    n1, n2 = cluster.build(2)
    d = hook_dir(tmp_path)
    script = exec_hook(d)
    n1.cli("cluster", "alert", "add", "--name", "log", "--exec", script, "--events", "all")
    n1.cli("cluster", "alert", "add", "--name", "web", "--webhook", receiver.url,
           "--secret-file", secret_file(tmp_path), "--events", "info,warning,error",
           "--timeout", "20")

    # Replicated: node2 has both hooks, the secret shown nowhere.
    wait_for(lambda: set(alerts(n2)) == {"log", "web"}, what="node2 to have both hooks")
    for n in (n1, n2):
        a = alerts(n)
        assert a["log"]["kind"] == "exec" and a["log"]["target"] == str(script)
        assert a["web"]["kind"] == "webhook" and a["web"]["secret"] == "set"
        assert a["web"]["target"] == receiver.url and a["web"]["timeout"] == 20
        for text in (n.cli("cluster", "alert", "list", json_out=True).stdout,
                     n.cli("status", json_out=True).stdout,
                     n.cli("cluster", "config", json_out=True).stdout, n.log_text()):
            assert SECRET not in text
        conf = n.root / "etc" / "lk.conf"
        assert stat.S_IMODE(os.stat(conf).st_mode) == 0o600  # it holds the secret
        assert "alerts" in n.status()

    app = cluster.app("app1")
    n1.create("app1", app.restore, app.remove, "--quickchk", app.quickchk)
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "2")
    wait_eq(lambda: n2.state("app1"), "OSU", what="app1 extended to node2")
    mark = max(e["seq"] for e in n2.log_events())

    n1.kill9_all()  # node1 crashed: node2 takes app1 over
    wait_for(lambda: app.runs_only_on(n2), what="app1 taken over by node2")
    wait_eq(lambda: n2.state("app1"), "ISP", what="app1 ISP on node2")
    takeover = wait_for(lambda: [e for e in n2.log_events()
                                 if e["seq"] > mark and e["number"] in (1620, 1621)],
                        what="node2's failover event")[0]
    expected = [e for e in n2.log_events() if mark < e["seq"] <= takeover["seq"]]
    want = [e["seq"] for e in expected]
    assert 1603 in [e["number"] for e in expected]  # node1 DEAD, then the takeover

    def got_exec():
        return [e["seq"] for e in lines(d / "events-node2.jsonl") if e["seq"] > mark]

    def got_web():
        return [e["seq"] for ok, e in list(receiver.got) if e["node"] == "node2" and e["seq"] > mark]

    wait_for(lambda: set(want) <= set(got_exec()), timeout=60, what="the exec hook's events")
    wait_for(lambda: set(want) <= set(got_web()), timeout=60, what="the webhook's events")
    # In order, each once (by seq), with the JSON `lkcli log --json` prints.
    for got in (got_exec(), got_web()):
        assert got == sorted(set(got)), got
    by_seq = {e["seq"]: e for e in lines(d / "events-node2.jsonl")}
    for e in expected:
        delivered = dict(by_seq[e["seq"]])
        assert delivered.pop("hook") == "log"
        assert delivered == e
    assert all(ok for ok, _ in receiver.got), "a POST without the right secret or signature"
    # The environment carries the same event.
    env = [x.split() for x in (d / "env-node2").read_text().splitlines()]
    assert [int(x[0]) for x in env if int(x[0]) > mark] == got_exec()
    row = next(x for x in env if int(x[0]) == takeover["seq"])
    assert row[1:] == [str(takeover["number"]), takeover["severity"], "event", "log"]
    counters = alerts(n2)
    assert counters["log"]["delivered"] >= len(want) and counters["log"]["failed"] == 0
    assert counters["web"]["delivered"] >= len(want) and counters["web"]["failed"] == 0

    # A delete on node2 reaches node1 when it is back.
    n2.cli("cluster", "alert", "delete", "--name", "web")
    assert set(alerts(n2)) == {"log"}
    n1.start()
    cluster.wait_all_alive([n1, n2])
    wait_for(lambda: set(alerts(n1)) == {"log"}, what="node1 to drop the deleted hook")


def test_failing_hook_is_retried_then_delivers_in_order(node, tmp_path):
    d = hook_dir(tmp_path)
    control = d / "control"
    control.write_text("1\n")
    script = exec_hook(d, control)
    node.cli("cluster", "alert", "add", "--name", "flaky", "--exec", script, "--events", "all")
    # Another hook watches the alerts' own events: it hears about the failing one.
    w = hook_dir(tmp_path, "watch")
    node.cli("cluster", "alert", "add", "--name", "watch", "--exec", exec_hook(w), "--events",
             "1715-1729")
    for i in range(3):
        node.lk_err("-c", "ERROR", "-n", str(9100 + i), "-p", "test", f"boom {i}", check=True)
    mine = [e["seq"] for e in node.log_events() if e["message"].startswith("boom ")]
    assert len(mine) == 3

    attempts = d / f"attempts-{node.name}"
    wait_for(lambda: attempts.exists() and len(attempts.read_text().split("\n")) > 3,
             timeout=30, what="three attempts (retried after 1 s, 2 s)")
    a = alerts(node)["flaky"]
    assert a["delivered"] == 0 and a["failed"] >= 3 and a["queued"] >= 3
    assert "exit status 1" in a["last_error"] and "not now (1)" in a["last_error"]
    # One failure event (1717) for the hook, however many attempts failed since.
    failed_events = [e for e in node.log_events() if e["number"] == 1717]
    assert len(failed_events) == 1 and "'flaky'" in failed_events[0]["message"]
    # Only the event being retried was tried: the others wait behind it, in order.
    tried = {int(x.split()[0]) for x in attempts.read_text().split("\n") if x}
    assert tried == {min(tried)}

    control.write_text("0\n")
    wait_for(lambda: set(mine) <= {e["seq"] for e in lines(d / f"events-{node.name}.jsonl")},
             timeout=60, what="the three events delivered once the hook works")
    got = [e["seq"] for e in lines(d / f"events-{node.name}.jsonl")]
    assert got == sorted(set(got)), got
    assert [s for s in got if s in mine] == mine
    # Its own failure and recovery events never went to the failing hook itself.
    assert not [e for e in lines(d / f"events-{node.name}.jsonl")
                if 1715 <= e["number"] <= 1729 and "'flaky'" in e["message"]]
    wait_for(lambda: any(e["number"] == 1720 for e in node.log_events()),
             what="the recovered event")
    wait_for(lambda: [e["number"] for e in lines(w / f"events-{node.name}.jsonl")
                      if "'flaky'" in e["message"]] == [1717, 1720],
             what="the watching hook to hear of flaky's failure and recovery")
    a = alerts(node)["flaky"]
    assert a["delivered"] >= 3 and a["gave_up"] == 0


def test_hanging_hook_is_killed_at_its_timeout_without_stalling_lkd(node, tmp_path):
    d = hook_dir(tmp_path)
    control = d / "hang"
    control.write_text("yes\n")
    script = lkapp.write_script(d / "hang.sh", f"""\
#!/bin/bash
cat > /dev/null
if [ "$(cat {control})" = yes ]; then
    sleep 1000 &
    echo $! > {d}/child
    echo $$ > {d}/pid
    wait
fi
echo "$LK_ALERT_SEQ" >> {d}/done
exit 0
""")
    node.cli("cluster", "alert", "add", "--name", "hang", "--exec", script, "--events", "error",
             "--timeout", "3")
    node.lk_err("-c", "ERROR", "-n", "9200", "-p", "test", "hang on", check=True)
    wait_for(lambda: (d / "pid").exists() and (d / "child").exists(), what="the hook to hang")
    pid, child = int((d / "pid").read_text()), int((d / "child").read_text())
    # lkd answers while the hook hangs.
    while os.path.exists(f"/proc/{pid}") and alerts(node)["hang"]["in_flight"]:
        assert node.status()["node"] == node.name
    # Killed at its timeout, with its process group (the background sleep too).
    wait_for(lambda: not os.path.exists(f"/proc/{pid}") and not os.path.exists(f"/proc/{child}"),
             timeout=30, what="the hanging hook and its child killed")
    wait_for(lambda: alerts(node)["hang"]["timeouts"] >= 1, what="the timeout counted")
    assert "timed out" in alerts(node)["hang"]["last_error"]
    control.write_text("no\n")
    wait_for(lambda: (d / "done").exists(), timeout=60, what="the retry to deliver")
    assert alerts(node)["hang"]["delivered"] == 1


def test_bad_alert_input_is_refused_with_one_line_and_nothing_changes(node, tmp_path):
    d = hook_dir(tmp_path)
    good = exec_hook(d)
    loose = lkapp.write_script(d / "loose.sh", "#!/bin/sh\nexit 0\n")
    os.chmod(loose, 0o777)
    secret = secret_file(tmp_path)
    short = tmp_path / "short.secret"
    short.write_text("abc\n")
    conf = node.root / "etc" / "lk.conf"
    before = conf.read_bytes()
    url = "http://127.0.0.1:9/hook"
    bad = [
        ["--name", "bad name", "--exec", good],
        ["--name", "-x", "--exec", good],
        ["--name", "rel", "--exec", "hooks/hook.sh"],
        ["--name", "loose", "--exec", loose],
        ["--name", "missing", "--exec", d / "nope.sh"],
        ["--name", "ftp", "--webhook", "ftp://127.0.0.1/x", "--secret-file", secret],
        ["--name", "nohost", "--webhook", "http:///x", "--secret-file", secret],
        ["--name", "creds", "--webhook", "http://u:p@127.0.0.1/x", "--secret-file", secret],
        ["--name", "space", "--webhook", "http://127.0.0.1/a b", "--secret-file", secret],
        ["--name", "nosecret", "--webhook", url],
        ["--name", "nofile", "--webhook", url, "--secret-file", tmp_path / "absent"],
        ["--name", "short", "--webhook", url, "--secret-file", short],
        ["--name", "both", "--exec", good, "--webhook", url, "--secret-file", secret],
        ["--name", "ev1", "--exec", good, "--events", "warning,bogus"],
        ["--name", "ev2", "--exec", good, "--events", "1700-1600"],
        ["--name", "ev3", "--exec", good, "--events", ""],
        ["--name", "t0", "--exec", good, "--timeout", "0"],
        ["--name", "t301", "--exec", good, "--timeout", "301"],
    ]
    for args in bad:
        p = node.cli("cluster", "alert", "add", *args, check=False)
        line = one_line_error(p)
        assert SECRET not in line, line
        assert conf.read_bytes() == before, args
    assert alerts(node) == {}
    one_line_error(node.cli("cluster", "config", "--alerts", "[]", check=False))
    one_line_error(node.cli("cluster", "alert", "delete", "--name", "ghost", check=False))

    # The limit: 16 hooks; a 17th and a second one of a name are refused.
    for i in range(16):
        node.cli("cluster", "alert", "add", "--name", f"h{i:02d}", "--exec", good)
    full = conf.read_bytes()
    one_line_error(node.cli("cluster", "alert", "add", "--name", "h99", "--exec", good,
                            check=False))
    one_line_error(node.cli("cluster", "alert", "add", "--name", "h00", "--exec", good,
                            check=False))
    assert conf.read_bytes() == full
    assert len(alerts(node)) == 16
    # lk.conf written with them reads back at the next start.
    node.stop(force=True)
    node.start()
    assert sorted(alerts(node)) == [f"h{i:02d}" for i in range(16)]
    assert alerts(node)["h00"]["events"] == "warning,error"
    assert alerts(node)["h00"]["timeout"] == 10


def test_full_queue_drops_the_oldest_waiting_events_and_says_so_once(node, tmp_path):
    d = hook_dir(tmp_path)
    control = d / "hang"
    control.write_text("yes\n")
    script = lkapp.write_script(d / "slow.sh", f"""\
#!/bin/bash
body=$(cat)
if [ "$(cat {control})" = yes ]; then
    echo $$ > {d}/pid
    sleep 1000
fi
printf '%s\\n' "$body" >> {d}/got.jsonl
""")
    node.cli("cluster", "alert", "add", "--name", "slow", "--exec", script, "--events", "error",
             "--timeout", "300")
    total = 1010
    socket_request(node, "log.write", {"category": "ERROR", "number": 9300, "process": "test",
                                       "message": "flood 0"})
    wait_for(lambda: (d / "pid").exists(), what="the first delivery to hang")
    for i in range(1, total):
        socket_request(node, "log.write", {"category": "ERROR", "number": 9300,
                                           "process": "test", "message": f"flood {i}"})
    mine = [e["seq"] for e in node.log_events() if e["message"].startswith("flood ")]
    assert len(mine) == total
    a = alerts(node)["slow"]
    # One in delivery, 1,000 waiting, the oldest waiting ones dropped.
    assert a["queued"] == 1001 and a["dropped"] == total - 1001, a
    drops = [e for e in node.log_events() if e["number"] == 1719]
    assert len(drops) == 1 and "'slow'" in drops[0]["message"], drops
    assert node.status()["node"] == node.name

    control.write_text("no\n")
    os.killpg(int((d / "pid").read_text()), 15)  # that attempt fails; the retry delivers
    wait_for(lambda: len(lines(d / "got.jsonl")) >= 1001, timeout=180,
             what="the kept events delivered")
    got = [e["seq"] for e in lines(d / "got.jsonl")]
    assert got == [mine[0]] + mine[total - 1000:]
    assert alerts(node)["slow"]["delivered"] == 1001
