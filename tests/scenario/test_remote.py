"""Requests for another node and LifeKeeper's remote commands (issue 14): a request whose
envelope names another node is forwarded over the comm paths and answered there
(`ins_list -d` style reads and changes, here through lkcli's client with "node"), and
`lcdremexec` / `lcdrcp` run a command or write a file on another node through remote.exec and
remote.put, only with the cluster setting remote-exec = on and for an admin. Every use and
every refusal is an event; a node that dies mid-request ends it with status 9.
"""

import json
import os
import socket
import time

from cluster import wait_for

EXEC_RAN, EXEC_ASKED, REFUSED, PUT, FORWARD_FAILED = 1735, 1736, 1737, 1738, 1742


def lcd(node, prog, *args, user=None, env=None, timeout=60):
    e = dict(os.environ)
    e.pop("LK_TAG", None)
    e["LKROOT"] = str(node.root)
    e["LANG"] = "C"
    if env:
        e.update(env)
    return node.run([node.bin(prog)] + [str(a) for a in args], user=user, env=e, timeout=timeout)


def raw_call(node, req):
    """One request line on node's lkd.sock; the messages it got back."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(60)
    s.connect(str(node.root / "run" / "lkd.sock"))
    s.sendall((json.dumps(req) + "\n").encode())
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return [json.loads(line) for line in data.decode().splitlines() if line.strip()]


def on(cluster):
    n1, n2 = cluster.build(2)
    cluster.configure([n1, n2], remote_exec="on")
    return n1, n2


def test_lcdremexec_runs_on_the_other_node_with_output_and_status(cluster):
    n1, n2 = on(cluster)
    p = lcd(n1, "lcdremexec", "-d", "node2", "--", "echo out-$LK_NODE; echo err >&2; exit 7")
    assert p.returncode == 7, (p.returncode, p.stdout, p.stderr)
    assert "out-node2" in p.stdout and "err" in p.stdout, p.stdout
    # The environment is the gen/app scripts': LKROOT of node2, its bin on PATH, LANG=C.
    p = lcd(n1, "lcdremexec", "-d", "node2", "--", "echo", "$LKROOT", "$PATH", "$LANG")
    assert p.returncode == 0, p.stderr
    assert str(n2.root) in p.stdout and f"{n2.root}/bin" in p.stdout and p.stdout.split()[-1] == "C"
    assert n2.has_event(EXEC_RAN, "asked by node1 (uid 0, role admin")
    assert n1.has_event(EXEC_ASKED, "sent to node2")
    # On this node itself (-d its own name): runs here.
    p = lcd(n1, "lcdremexec", "-d", "node1", "--", "echo $LK_NODE")
    assert p.returncode == 0 and p.stdout.strip() == "node1", (p.stdout, p.stderr)
    # The tunables, as gen/app scripts get them (a reserved key never overrides LANG).
    n1.cli("cluster", "tunables", "--set", "NAS_MODE=remote", "--set", "LANG=de_DE")
    tunables = n2.root / "etc" / "default" / "LifeKeeper"
    wait_for(lambda: tunables.exists() and "NAS_MODE" in tunables.read_text(),
             what="the tunables on node2")
    p = lcd(n1, "lcdremexec", "-d", "node2", "--", "echo $NAS_MODE $LANG $PERL5LIB")
    assert p.returncode == 0, p.stderr
    mode, lang, perl5lib = p.stdout.split()
    assert (mode, lang) == ("remote", "C"), p.stdout
    assert perl5lib.startswith(f"{n2.root}/lib/perl"), p.stdout


def test_lcdremexec_timeout_is_124_and_the_command_is_killed(cluster):
    n1, n2 = on(cluster)
    marker = n2.work / "slept"
    t0 = time.monotonic()
    p = lcd(n1, "lcdremexec", "-d", "node2", "-t", "1", "--",
            f"sleep 30; touch {marker}")
    assert p.returncode == 124, (p.returncode, p.stdout, p.stderr)
    assert time.monotonic() - t0 < 20
    time.sleep(1)
    assert not marker.exists()


def test_refused_when_off_and_for_a_non_admin(cluster, lk_users, traversable):
    n1, n2 = cluster.build(2)
    p = lcd(n1, "lcdremexec", "-d", "node2", "--", "true")
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "remote-exec is off" in p.stderr
    wait_for(lambda: n2.has_event(REFUSED, "remote-exec is off"), what="refusal event")
    src = n1.work / "f.txt"
    src.write_text("x\n")
    p = lcd(n1, "lcdrcp", src, f"node2:{n2.work}/f.txt")
    assert p.returncode == 1 and "remote-exec is off" in p.stderr, p.stderr
    assert not (n2.work / "f.txt").exists()
    cluster.configure([n1, n2], remote_exec="on")
    p = lcd(n1, "lcdremexec", "-d", "node2", "--", "true", user=lk_users["oper"])
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "admin" in p.stderr
    wait_for(lambda: n2.has_event(REFUSED, "role operator"), what="refusal for the operator")
    p = lcd(n1, "lcdremexec", "-d", "node2", "--", "id -u", user=lk_users["admin"])
    assert p.returncode == 0 and p.stdout.strip() == "0", (p.stdout, p.stderr)


def test_unknown_node_is_9(cluster):
    n1, n2 = on(cluster)
    p = lcd(n1, "lcdremexec", "-d", "nosuch", "--", "true")
    assert p.returncode == 9, (p.returncode, p.stderr)
    assert "no node 'nosuch'" in p.stderr


def test_forwarded_read_and_change(cluster):
    n1, n2 = on(cluster)
    app = cluster.app("app1")
    n1.create("app1", app.restore, app.remove)
    wait_for(lambda: app.runs_only_on(n1), what="app1 on node1")
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "2")
    wait_for(lambda: n2.state("app1") == "OSU", what="app1 extended")
    # A read on node2 through node1: node2's view (OSU there).
    msgs = raw_call(n1, {"v": 1, "cmd": "resource.list", "args": {}, "node": "node2"})
    final = msgs[-1]
    assert final["ok"], final
    states = {r["tag"]: r["state"] for r in final["data"]["resources"]}
    assert states["app1"] == "OSU", final
    # A change on node2 through node1: app-info (one definition, replicated).
    msgs = raw_call(n1, {"v": 1, "cmd": "resource.config", "node": "node2",
                         "args": {"tag": "app1", "settings": {}, "info": "changed-on-2"}})
    assert msgs[-1]["ok"], msgs[-1]
    # Unknown node, and a non-string node.
    msgs = raw_call(n1, {"v": 1, "cmd": "status", "args": {}, "node": "nosuch"})
    assert not msgs[-1]["ok"] and msgs[-1]["code"] == 9 and "no node" in msgs[-1]["error"]
    msgs = raw_call(n1, {"v": 1, "cmd": "status", "args": {}, "node": 5})
    assert not msgs[-1]["ok"] and msgs[-1]["code"] == 2


def test_a_peer_killed_mid_request_is_9(cluster):
    n1, n2 = on(cluster)
    import subprocess
    e = dict(os.environ, LKROOT=str(n1.root), LANG="C")
    e.pop("LK_TAG", None)
    proc = subprocess.Popen([n1.bin("lcdremexec"), "-d", "node2", "--", "sleep 60"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e)
    wait_for(lambda: n2.has_event(EXEC_RAN, "sleep 60"), what="the command running on node2")
    n2.kill9_all()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 9, (proc.returncode, out, err)
    assert "communication with node2 failed" in err
    assert n1.has_event(FORWARD_FAILED)


def test_lcdrcp_content_mode_and_directory(cluster):
    n1, n2 = on(cluster)
    src = n1.work / "script.sh"
    src.write_bytes(b"#!/bin/sh\necho hello\n\x00\xff binary\n")
    os.chmod(src, 0o750)
    dest = n2.work / "copy.sh"
    p = lcd(n1, "lcdrcp", src, f"node2:{dest}")
    assert p.returncode == 0, p.stderr
    assert dest.read_bytes() == src.read_bytes()
    assert os.stat(dest).st_mode & 0o777 == 0o750
    assert n2.has_event(PUT, str(dest))
    # NODE:DIR keeps the file's name; several files go into a directory.
    other = n1.work / "other.txt"
    other.write_text("two\n")
    os.chmod(other, 0o644)
    d = n2.work / "dir"
    d.mkdir()
    p = lcd(n1, "lcdrcp", src, other, f"node2:{d}")
    assert p.returncode == 0, p.stderr
    assert (d / "script.sh").read_bytes() == src.read_bytes()
    assert (d / "other.txt").read_text() == "two\n"
    assert os.stat(d / "other.txt").st_mode & 0o777 == 0o644
    # Refusals: a relative path, '..', a missing directory; nothing written.
    for target, code in ((f"node2:rel/x", 5), (f"node2:{d}/../x", 2),
                         (f"node2:{n2.work}/nodir/x", 1)):
        p = lcd(n1, "lcdrcp", src, target)
        assert p.returncode == code, (target, p.returncode, p.stderr)
        assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert not (n2.work / "x").exists()
    assert not os.listdir(n2.work / "dir") == []
    assert sorted(os.listdir(d)) == ["other.txt", "script.sh"]


def test_output_over_1_mib_is_cut_with_a_marker_and_an_event(cluster):
    n1, n2 = on(cluster)
    p = lcd(n1, "lcdremexec", "-d", "node2", "--", "head -c 3000000 /dev/zero | tr '\\0' a")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("a" * 1000)
    assert p.stdout.split("\n[lcdremexec")[0] == "a" * (1024 * 1024)
    assert "[lcdremexec: output cut at 1 MiB]" in p.stdout
    assert n2.has_event(1740, "3000000 bytes")


def test_from_a_script_the_node_must_be_one_the_resource_is_extended_to(cluster):
    n1, n2 = on(cluster)
    app = cluster.app("app1")
    n1.create("app1", app.restore, app.remove)
    wait_for(lambda: app.runs_only_on(n1), what="app1 on node1")
    p = lcd(n1, "lcdremexec", "-d", "node2", "--", "echo $LK_TAG", env={"LK_TAG": "app1"})
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "not extended to node2" in p.stderr
    p = lcd(n1, "lcdremexec", "-d", "node2", "--", "true", env={"LK_TAG": "nosuch"})
    assert p.returncode == 1 and "does not exist" in p.stderr, p.stderr
    # Every refusal is an event, this one on the asking node.
    assert n1.has_event(REFUSED, "not extended to node2")
    assert n1.has_event(REFUSED, "'nosuch' does not exist")
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node2", "--priority", "2")
    wait_for(lambda: n2.state("app1") == "OSU", what="app1 extended")
    p = lcd(n1, "lcdremexec", "-d", "node2", "--", "echo $LK_TAG", env={"LK_TAG": "app1"})
    assert p.returncode == 0 and p.stdout.strip() == "app1", (p.stdout, p.stderr)
    assert n2.has_event(EXEC_RAN, "tag app1")


def test_the_command_does_not_outlive_its_client(cluster):
    """lcdremexec killed: node1's lkd tells node2 (req-end), which kills the command."""
    n1, n2 = on(cluster)
    import signal
    import subprocess
    marker = n2.work / "survived"
    e = dict(os.environ, LKROOT=str(n1.root), LANG="C")
    e.pop("LK_TAG", None)
    proc = subprocess.Popen([n1.bin("lcdremexec"), "-d", "node2", "--",
                             f"sleep 5; touch {marker}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e)
    wait_for(lambda: n2.has_event(EXEC_RAN, "survived"), what="the command running on node2")
    wait_for(lambda: n2.script_pids(), what="the command's process on node2")
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    wait_for(lambda: not n2.script_pids(), what="the command killed on node2", timeout=30)
    time.sleep(6)
    assert not marker.exists()


def test_remote_exec_setting_survives_a_restart_and_is_validated(cluster):
    n1, n2 = on(cluster)
    assert "remote-exec = on" in (n2.root / "etc" / "lk.conf").read_text()
    n2.stop()
    n2.start()
    cluster.wait_all_alive([n1, n2])
    assert n2.settings()["remote-exec"] == "on"
    p = n1.cli("cluster", "config", "--remote-exec", "maybe", check=False)
    assert p.returncode == 2 and "expected on or off" in p.stderr, (p.returncode, p.stderr)
    cluster.configure([n1, n2], remote_exec="off")
    p = lcd(n1, "lcdremexec", "-d", "node2", "--", "true")
    assert p.returncode == 1 and "remote-exec is off" in p.stderr



def test_guests_cannot_take_every_forward_slot_from_admins(cluster):
    """Requests in flight to one peer are bounded (16); a guest's may last its whole
    deadline (log --follow), so the last 4 slots are the admins': lcdremexec still runs."""
    n1, n2 = on(cluster)
    socks, refused = [], 0
    for _ in range(16):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(0.5)
        s.connect(str(n1.root / "run" / "lkd.sock"))
        s.sendall((json.dumps({"v": 1, "cmd": "log", "args": {"follow": True, "n": 1},
                               "as": "guest", "node": "node2"}) + "\n").encode())
        try:
            reply = json.loads(s.recv(65536).decode().splitlines()[0])
            if reply.get("ok") is False:
                assert reply["code"] == 9 and "in flight" in reply["error"], reply
                refused += 1
        except socket.timeout:
            pass  # following on node2
        socks.append(s)
    try:
        assert refused == 4, refused
        p = lcd(n1, "lcdremexec", "-d", "node2", "--", "echo admin-got-through")
        assert p.returncode == 0 and p.stdout.strip() == "admin-got-through", (p.returncode,
                                                                               p.stderr)
    finally:
        for s in socks:
            s.close()


def test_a_peer_restarted_mid_request_is_9_at_once(cluster):
    """node2's lkd crashes and is back at once (a long dead time): the request it never
    heard of ends with 9 at once, not at the forward's deadline an hour later, and the new
    lkd serves the next one."""
    n1, n2 = cluster.build(2, heartbeat_ms=1000, misses=30)
    cluster.configure([n1, n2], remote_exec="on")
    import subprocess
    e = dict(os.environ, LKROOT=str(n1.root), LANG="C")
    e.pop("LK_TAG", None)
    proc = subprocess.Popen([n1.bin("lcdremexec"), "-d", "node2", "-t", "600", "--",
                             "sleep 600"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e)
    wait_for(lambda: n2.has_event(EXEC_RAN, "sleep 600"), what="the command running on node2")
    n2.kill9_all()
    n2.start()
    t0 = time.monotonic()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 9, (proc.returncode, out, err)
    assert "communication with node2 failed" in err
    assert time.monotonic() - t0 < 25
    # The restarted node serves the next request (ids are not reused across restarts).
    p = lcd(n1, "lcdremexec", "-d", "node2", "--", "echo again")
    assert p.returncode == 0 and p.stdout.strip() == "again", (p.returncode, p.stdout, p.stderr)


def test_a_request_forwarded_from_the_witness_is_answered(cluster):
    """The witness keeps no cluster data, but its lkd forwards a request (`ins_list -d node1`
    on the witness's machine): the reply comes back, not a 9 after the ack's 10 s."""
    n1, n2 = cluster.build(2)
    w = cluster.add_node("witness1", witness=True)
    w.start()
    cluster.configure([n1, n2], witness=w.addr)
    wait_for(lambda: any(x.get("witness") and x["state"] == "ALIVE"
                         for x in n1.node_list()["nodes"]), what="node1 to see the witness")
    wait_for(lambda: any(x["name"] == "node1" and x["state"] == "ALIVE"
                         for x in w.node_list()["nodes"]), what="the witness to see node1")
    t0 = time.monotonic()
    msgs = raw_call(w, {"v": 1, "cmd": "node.list", "args": {}, "node": "node1"})
    assert msgs[-1]["ok"], msgs[-1]
    assert time.monotonic() - t0 < 5
    # Nothing is forwarded to the witness: it runs no commands.
    msgs = raw_call(n1, {"v": 1, "cmd": "status", "args": {}, "node": "witness1"})
    assert not msgs[-1]["ok"] and msgs[-1]["code"] == 9 and "witness" in msgs[-1]["error"]


def test_lcdrcp_through_symlinked_directories_as_lifekeeper_setup_makes_them(cluster):
    """SIOS's update script copies to /opt/LifeKeeper/... paths, which `lkcli lifekeeper-setup`
    makes symlinks to $LKROOT's directories: a directory symlink in the path (or as the
    destination directory) is followed; a symlink as the file itself is refused, never
    replaced by a file."""
    n1, n2 = on(cluster)
    opt = n2.work / "opt-LifeKeeper"
    opt.mkdir()
    (opt / "lkadm").symlink_to(n2.root / "lkadm")
    (opt / "perl").symlink_to(n2.work)
    src = n1.work / "lib.pm"
    src.write_text("1;\n")
    libdir = n2.root / "lkadm" / "subsys" / "gen" / "app" / "lib"
    p = lcd(n1, "lcdrcp", src, f"node2:{opt}/lkadm/subsys/gen/app/lib")
    assert p.returncode == 0, p.stderr
    assert (libdir / "lib.pm").read_text() == "1;\n"
    p = lcd(n1, "lcdrcp", src, f"node2:{opt}/perl")
    assert p.returncode == 0, p.stderr
    assert (n2.work / "lib.pm").read_text() == "1;\n"
    link = n2.work / "link.pm"
    link.symlink_to(n2.work / "lib.pm")
    src.write_text("2;\n")
    p = lcd(n1, "lcdrcp", src, f"node2:{link}")
    assert p.returncode == 1 and "not a regular file" in p.stderr, (p.returncode, p.stderr)
    assert link.is_symlink() and (n2.work / "lib.pm").read_text() == "1;\n"


def test_forward_messages_from_a_peer_malformed_or_claiming_a_role(cluster):
    """What node1's lkd does with req / rep / req-ok / req-end from an authenticated peer:
    malformed ones change nothing (an event, or an error reply), a role that is not one of
    the three is refused, "as" in the line never raises the role the peer gave, a line
    naming another node runs here (never forwarded again), and at most 16 are served for
    one peer at a time."""
    from test_cluster_frames import key_of
    from test_cluster_messages import INT64_MAX, Peer
    from cluster import free_port
    n1, n2 = on(cluster)
    n1.cli("commpath", "create", "--node", "evil", "--address", f"127.0.0.1:{free_port()}")
    pid = n1.daemon_pid()
    p = Peer(n1, key_of(n1), "evil").connect()

    def line(cmd, args, **env):
        return json.dumps(dict({"v": 1, "cmd": cmd, "args": args}, **env))

    def req(i, role, text, ms=10000, **over):
        return dict({"t": "req", "id": i, "role": role, "uid": 0, "line": text, "ms": ms}, **over)

    marker = n1.work / "evil-ran"
    exec_line = line("remote.exec", {"command": f"touch {marker}"})
    try:
        for m in ({"t": "req"}, {"t": "req", "id": "1", "role": "admin", "line": "{}", "ms": 1},
                  req(0, "admin", "{}"), req(-5, "admin", "{}"), req(2, "admin", 42),
                  req(3, None, "{}"), req(4, "admin", "{}", ms=0), req(4, "admin", "{}", ms=-1),
                  {"t": "rep", "id": 77, "msg": "not json", "end": True},
                  {"t": "rep", "id": "x", "msg": {}, "end": "yes"},
                  {"t": "req-ok", "id": [1]}, {"t": "req-end", "id": INT64_MAX},
                  {"t": "req-end"}):
            p.message(m)
        p.barrier()
        # Answered with an error: a role that is none of the three, a line that is not JSON,
        # a guest whose line says "as": "admin", and an unknown command.
        p.message(req(10, "root", exec_line))
        p.message(req(11, "admin", "{not json"))
        p.message(req(12, "guest", line("remote.exec", {"command": f"touch {marker}"},
                                        **{"as": "admin"})))
        p.message(req(13, "operator", exec_line, uid=2**40))
        p.message(req(14, "admin", line("status", {}, node="node2")))
        replies = {}
        deadline = time.monotonic() + 20
        while len(replies) < 5 and time.monotonic() < deadline:
            f = p.next_frame(0.5)
            if f and f[0] == 3:
                m = json.loads(f[2])
                if m.get("t") == "rep" and m.get("end"):
                    replies[m["id"]] = json.loads(m["msg"])
        assert set(replies) == {10, 11, 12, 13, 14}, replies
        for i in (10, 11, 12, 13):
            assert replies[i]["ok"] is False, (i, replies[i])
        assert "admin" in replies[12]["error"] and "admin" in replies[13]["error"], replies
        assert replies[14]["ok"] is True, replies[14]
        assert replies[14]["data"]["node"] == "node1", replies[14]["data"]["node"]
        assert not marker.exists()
        # The bound: 16 requests served for one peer, the 17th refused; a duplicate id is
        # the same request; req-end frees a slot.
        follow = line("log", {"follow": True, "n": 1})
        for i in range(100, 116):
            p.message(req(i, "guest", follow))
        p.message(req(100, "guest", follow))
        p.message(req(116, "guest", follow))
        got = None
        deadline = time.monotonic() + 20
        while got is None and time.monotonic() < deadline:
            f = p.next_frame(0.5)
            if f and f[0] == 3:
                m = json.loads(f[2])
                if m.get("t") == "rep" and m.get("end"):
                    got = m
        assert got and got["id"] == 116 and "too many" in json.loads(got["msg"])["error"], got
        p.message({"t": "req-end", "id": 100})
        p.message(req(117, "guest", line("ping", {})))
        got = None
        deadline = time.monotonic() + 20
        while got is None and time.monotonic() < deadline:
            f = p.next_frame(0.5)
            if f and f[0] == 3:
                m = json.loads(f[2])
                if m.get("t") == "rep" and m.get("end"):
                    got = m
        assert got and got["id"] == 117 and json.loads(got["msg"])["ok"], got
    finally:
        p.close()
    assert n1.daemon_pid() == pid
    assert n1.cli("status").returncode == 0


def test_lcdrcp_of_4_mib_crosses_the_comm_paths_and_more_is_refused(cluster):
    n1, n2 = on(cluster)
    big = n1.work / "big.bin"
    big.write_bytes(os.urandom(4 * 1024 * 1024))
    p = lcd(n1, "lcdrcp", big, f"node2:{n2.work}/big.bin")
    assert p.returncode == 0, p.stderr
    assert (n2.work / "big.bin").read_bytes() == big.read_bytes()
    with open(big, "ab") as f:
        f.write(b"x")
    p = lcd(n1, "lcdrcp", big, f"node2:{n2.work}/bigger.bin")
    assert p.returncode != 0 and "4 MiB" in p.stderr, (p.returncode, p.stderr)
    assert not (n2.work / "bigger.bin").exists()


def test_a_forwarded_follow_gets_each_message_as_it_comes(cluster):
    """Progress and follow messages of a forwarded request are relayed when sent, not one
    behind (held until the next one shows the former was not the final reply)."""
    n1, n2 = on(cluster)
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(0.5)
    s.connect(str(n1.root / "run" / "lkd.sock"))
    s.sendall((json.dumps({"v": 1, "cmd": "log", "args": {"follow": True, "n": 1},
                           "node": "node2"}) + "\n").encode())
    try:
        time.sleep(1)
        msgs = raw_call(n2, {"v": 1, "cmd": "log.write", "args": {
            "category": "INFO", "number": 4242, "message": "followed-marker"}})
        assert msgs[-1]["ok"], msgs
        data, deadline = b"", time.monotonic() + 5
        while b"followed-marker" not in data and time.monotonic() < deadline:
            try:
                data += s.recv(65536)
            except socket.timeout:
                pass
        assert b"followed-marker" in data, data
    finally:
        s.close()
