"""The tunables (docs/LIFEKEEPER.md "Tunables"): LifeKeeper's /etc/default/LifeKeeper as
the cluster setting `lkcli cluster tunables` changes, stored as $LKROOT/etc/default/
LifeKeeper on every node, replicated with the cluster settings, in every gen/app script's
environment (reserved keys skipped); an administrator's edit of the file becomes a
cluster-wide change, a bad edit is refused with an event naming its line and the
tunables in force stay; bad input is refused with one line and nothing changes."""

import json
import os
import time

from cluster import wait_eq, wait_for
from conftest import one_line_error

EV_CHANGED, EV_FROM_PEER, EV_REFUSED, EV_RESERVED = 1730, 1731, 1732, 1733
EV_UNWATCHED, EV_SETTINGS_MISMATCH = 1734, 1605


def tunfile(node):
    return node.root / "etc" / "default" / "LifeKeeper"


def listing(node):
    return node.cli_json("cluster", "tunables")


def values(node):
    return {t["key"]: t["value"] for t in listing(node)["tunables"]}


def env_script(node, out):
    """A restore that writes its environment, one variable a line, to out."""
    return node.script(f"#!/bin/sh\nenv > {out}.tmp && mv {out}.tmp {out}\nexit 0\n")


def read_env(path):
    env = {}
    for line in path.read_text().splitlines():
        k, _, v = line.partition("=")
        env[k] = v
    return env


def event_texts(node, number):
    return [e["message"] for e in node.log_events() if e["number"] == number]


def test_set_replicates_to_file_and_scripts_get_them_reserved_skipped(cluster, tmp_path):
    n1, n2 = cluster.build(2)
    p = n1.cli("cluster", "tunables", "--set", "GLOBAL_NAS_APP_SKIP_REMOVE=1", "--set",
               "LKCHECKINTERVAL=120", "--set", "PATH=/nowhere", "--set", "MSG=it's $HOME x",
               "--set", "LK_TAG=forged")
    assert "changed on every reachable node: set GLOBAL_NAS_APP_SKIP_REMOVE" in p.stdout
    assert "PATH" in p.stdout and "not passed to scripts" in p.stdout
    assert "'$' kept as written" in p.stdout
    want = {"GLOBAL_NAS_APP_SKIP_REMOVE": "1", "LKCHECKINTERVAL": "120", "PATH": "/nowhere",
            "MSG": "it's $HOME x", "LK_TAG": "forged"}
    # Replicated: the same text on node2, as LifeKeeper's file.
    text = listing(n1)["text"]
    wait_eq(lambda: listing(n2)["text"], text, what="node2's tunables")
    for n in (n1, n2):
        assert tunfile(n).read_text() == text
        assert oct(tunfile(n).stat().st_mode & 0o777) == "0o644"
        assert oct((n.root / "etc" / "default").stat().st_mode & 0o777) == "0o755"
        assert values(n) == want
        reserved = {t["key"] for t in listing(n)["tunables"] if not t["exported"]}
        assert reserved == {"PATH", "LK_TAG"}
    assert any("GLOBAL_NAS_APP_SKIP_REMOVE" in m and "lkcli cluster tunables" in m
               for m in event_texts(n1, EV_CHANGED))
    assert any("PATH" in m and "LK_TAG" in m for m in event_texts(n1, EV_RESERVED))
    wait_for(lambda: any("node1" in m and "LKCHECKINTERVAL" in m
                         for m in event_texts(n2, EV_FROM_PEER)), what="1731 on node2")

    # A script gets them, after OpenKeeper's own variables, which they never replace.
    out = tmp_path / "env-restore"
    remove = n1.script("#!/bin/sh\nexit 0\n")
    n1.create("tun", env_script(n1, out), remove)
    wait_for(lambda: out.exists(), what="the restore to run")
    env = read_env(out)
    assert env["GLOBAL_NAS_APP_SKIP_REMOVE"] == "1"
    assert env["LKCHECKINTERVAL"] == "120"
    assert env["MSG"] == "it's $HOME x"
    assert env["LK_TAG"] == "tun"
    assert env["PATH"].startswith(f"{n1.root}/bin:")
    assert env["LKROOT"] == str(n1.root)

    # --unset on node2 removes the key everywhere; the next run no longer gets it.
    n2.cli("cluster", "tunables", "--unset", "MSG")
    wait_for(lambda: "MSG" not in values(n1), what="MSG gone on node1")
    assert "MSG" not in tunfile(n1).read_text()
    out.unlink()
    n1.cli("resource", "test", "--tag", "tun", "--action", "restore")
    env = read_env(out)
    assert "MSG" not in env
    assert env["LKCHECKINTERVAL"] == "120"
    assert env["LK_TAG"] == "tun"


def test_hand_edit_is_a_cluster_change_and_a_bad_one_is_refused(cluster):
    n1, n2 = cluster.build(2)
    n1.cli("cluster", "tunables", "--set", "A=1")
    wait_eq(lambda: values(n2), {"A": "1"}, what="A on node2")

    # An administrator edits node1's file in place (as `cp -f` or an editor saving).
    edited = "# edited by hand\nA=2\nexport B='two words'\n"
    with open(tunfile(n1), "w") as f:
        f.write(edited)
    wait_eq(lambda: listing(n2)["text"], edited, what="the edit to reach node2")
    assert tunfile(n2).read_text() == edited
    assert values(n1) == {"A": "2", "B": "two words"}
    assert any("edit of" in m and "LifeKeeper" in m for m in event_texts(n1, EV_CHANGED))

    # A bad edit on node2: refused with an event naming the line, the file left as the
    # administrator wrote it, the tunables in force unchanged on both nodes.
    bad = "A=3\nB=two words\n"
    with open(tunfile(n2), "w") as f:
        f.write(bad)
    wait_for(lambda: any("line 2" in m for m in event_texts(n2, EV_REFUSED)),
             what="1732 naming line 2")
    assert tunfile(n2).read_text() == bad
    assert values(n2) == {"A": "2", "B": "two words"}
    assert values(n1) == {"A": "2", "B": "two words"}
    assert len([m for m in event_texts(n2, EV_REFUSED) if "line 2" in m]) == 1

    # Fixed by hand (written through a rename, as many editors do): taken everywhere.
    fixed = "A=3\nB='two words'\n"
    tmp = tunfile(n2).with_name(".edit")
    tmp.write_text(fixed)
    os.rename(tmp, tunfile(n2))
    wait_eq(lambda: values(n1), {"A": "3", "B": "two words"}, what="the fix on node1")
    assert tunfile(n1).read_text() == fixed


def test_file_option_refusals_and_restart(node, tmp_path, lk_users):
    lifekeeper = tmp_path / "LifeKeeper"
    lifekeeper.write_text("# /etc/default/LifeKeeper\nLKROOT=/opt/LifeKeeper\n"
                          "PATH=/opt/LifeKeeper/bin:/bin:/usr/bin\n"
                          "export LKCHECKINTERVAL=\"120\"\nLKSYSLOGSELECTOR=local6\n"
                          "export LKROOT PATH\n")
    data = json.loads(node.cli("cluster", "tunables", "--file", lifekeeper, json_out=True).stdout)
    assert data["text"] == lifekeeper.read_text()
    assert tunfile(node).read_text() == lifekeeper.read_text()
    assert {t["key"]: t["exported"] for t in data["tunables"]} == {
        "LKROOT": False, "PATH": False, "LKCHECKINTERVAL": True, "LKSYSLOGSELECTOR": True}
    before = tunfile(node).read_text()

    bad_file = tmp_path / "bad"
    bad_file.write_text("A=1\nA = 2\n")
    for args, words in [
        (["--set", "1A=x"], "invalid tunable name"),
        (["--set", "NOEQUALS"], "expected KEY=VALUE"),
        (["--set", "A=\x01"], "control character"),
        (["--unset", "NOPE"], "no tunable named 'NOPE'"),
        (["--file", bad_file], "line 2: expected KEY=VALUE without spaces around '='"),
        (["--file", tmp_path / "missing"], "cannot read tunables file"),
        (["--bogus"], "--bogus"),
    ]:
        p = node.cli("cluster", "tunables", *args, check=False)
        assert words in one_line_error(p), (args, p.stderr)
        assert p.returncode == 2, (args, p.returncode)
    p = node.cli("cluster", "config", "--tunables", "A=1", check=False)
    assert p.returncode == 2
    for role in ("oper", "guest"):
        p = node.cli("cluster", "tunables", "--set", "A=1", user=lk_users[role], check=False)
        one_line_error(p)
    assert tunfile(node).read_text() == before
    assert not event_texts(node, EV_REFUSED)

    # Edited while lkd is stopped: taken at start as a change; a bad file at start is
    # refused and what was in force stays.
    node.stop()
    tunfile(node).write_text(before + "ADDED=yes\n")
    node.start()
    assert values(node)["ADDED"] == "yes"
    assert any("while lkd was stopped" in m for m in event_texts(node, EV_CHANGED))
    node.stop()
    tunfile(node).write_text("BROKEN='\n")
    node.start()
    assert any("line 1: unterminated single quote" in m for m in event_texts(node, EV_REFUSED))
    assert values(node)["ADDED"] == "yes"
    assert tunfile(node).read_text() == "BROKEN='\n"
    # The file removed while stopped is written again from what is in force.
    node.stop()
    tunfile(node).unlink()
    node.start()
    assert "ADDED=yes" in tunfile(node).read_text()


def test_large_tunables_reach_a_node_that_was_stopped(cluster, tmp_path):
    """64 KiB of tunables, most of it characters JSON escapes, never go in a HELLO (a
    connection may send at most 64 KiB before it is ALIVE): the HELLO carries a digest,
    and the node with the newer version sends the text once connected."""
    n1, n2 = cluster.build(2)
    n2.stop()
    lines = [f"K{i}='" + '"\\' * 28 + "'\n" for i in range(1000)]
    big = "".join(lines)[:65000]
    big = big[: big.rfind("\n") + 1]
    f = tmp_path / "big"
    f.write_text(big)
    assert len(big) > 60000
    n1.cli("cluster", "tunables", "--file", f)
    n2.start()
    cluster.wait_all_alive([n1, n2])
    wait_eq(lambda: listing(n2)["text"], big, timeout=60, what="the text on node2")
    assert tunfile(n2).read_text() == big
    for n in (n1, n2):
        wait_for(lambda n=n: not any("differ" in w or "mismatch" in w
                                     for w in n.status()["cluster"]["warnings"]),
                 what=f"no settings warning on {n.name}")
    # node2 took the newer settings from node1's message: neither said they differ.
    assert not event_texts(n2, EV_SETTINGS_MISMATCH)
    assert not event_texts(n1, EV_SETTINGS_MISMATCH)
    # Both up with the same text: a restart of either connects with the digest alone.
    n1.stop()
    n1.start()
    cluster.wait_all_alive([n1, n2])
    assert listing(n1)["text"] == big


def test_a_hand_edit_written_in_two_steps_is_never_taken_half(node):
    """A writer that truncates the file and writes it in two steps with a pause (a script's
    `{ echo A=1; sleep 1; echo B=2; } > file`): nothing is taken until it closes the file,
    neither the empty file (which would clear the tunables everywhere) nor the first half."""
    node.cli("cluster", "tunables", "--set", "KEEP=1", "--set", "OTHER=2")
    fd = os.open(tunfile(node), os.O_WRONLY | os.O_TRUNC)
    try:
        time.sleep(0.8)
        assert values(node) == {"KEEP": "1", "OTHER": "2"}
        os.write(fd, b"KEEP=1\n")
        time.sleep(0.8)
        assert values(node) == {"KEEP": "1", "OTHER": "2"}
        os.write(fd, b"OTHER=3\n")
    finally:
        os.close(fd)
    wait_eq(lambda: values(node), {"KEEP": "1", "OTHER": "3"}, what="the whole edit taken")
    changes = [m for m in event_texts(node, EV_CHANGED) if "edit of" in m]
    assert len(changes) == 1, changes


def test_killed_between_lkd_copy_and_the_file_the_old_file_is_not_taken(node):
    """lkd killed after it wrote its copy of new tunables (var/tunables) but before the file:
    the next start finds the old text in the file, older than the copy. It is written again
    from the copy, not taken as an edit made while lkd was stopped (which would undo the
    change on every node); an edit made after that is still taken."""
    node.cli("cluster", "tunables", "--set", "A=1")
    node.stop(force=True)
    time.sleep(0.05)
    (node.root / "var" / "tunables").write_text("A=2\n")
    node.start()
    assert values(node) == {"A": "2"}
    assert tunfile(node).read_text() == "A=2\n"
    assert not any("while lkd was stopped" in m for m in event_texts(node, EV_CHANGED))
    node.stop()
    tunfile(node).write_text("A=3\n")
    node.start()
    assert values(node) == {"A": "3"}


def test_an_edit_not_taken_yet_replaced_by_a_change_is_reported(cluster):
    """A change (a peer's, or the command's) writes the file: an edit the watch has not
    taken yet, or a refused one, is replaced; an event says so, never silently."""
    n1, n2 = cluster.build(2)
    n1.cli("cluster", "tunables", "--set", "A=1")
    wait_eq(lambda: values(n2), {"A": "1"}, what="A on node2")
    # node2's administrator is writing the file (still open) when node1's change comes.
    fd = os.open(tunfile(n2), os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, b"A=1\nMINE=1\n")
        n1.cli("cluster", "tunables", "--set", "B=2")
        wait_eq(lambda: values(n2), {"A": "1", "B": "2"}, what="B on node2")
    finally:
        os.close(fd)
    wait_for(lambda: any("edit it again" in m and "node node1" in m
                         for m in event_texts(n2, EV_UNWATCHED)), what="1734 on node2")
    # A refused file replaced by the command on the same node.
    tunfile(n1).write_text("BAD='\n")
    wait_for(lambda: event_texts(n1, EV_REFUSED), what="1732 on node1")
    n1.cli("cluster", "tunables", "--set", "C=3")
    assert any("edit it again" in m and "lkcli cluster tunables" in m
               for m in event_texts(n1, EV_UNWATCHED))
    assert "C=3" in tunfile(n1).read_text()


def test_a_mode_fixed_or_a_link_made_is_read(node, tmp_path):
    """chmod of a refused file (IN_ATTRIB) and a symbolic link made in the file's place
    (IN_CREATE alone) are read as edits are."""
    node.cli("cluster", "tunables", "--set", "A=1")
    tmp = tunfile(node).with_name(".edit")
    tmp.write_text("A=2\n")
    os.chmod(tmp, 0o666)
    os.rename(tmp, tunfile(node))
    wait_for(lambda: event_texts(node, EV_REFUSED), what="1732 for a file others may write")
    assert values(node) == {"A": "1"}
    os.chmod(tunfile(node), 0o644)
    wait_eq(lambda: values(node), {"A": "2"}, what="the file taken once its mode is fixed")
    target = node.root / "etc" / "LifeKeeper.real"
    target.write_text("A=3\n")
    os.chmod(target, 0o644)
    tunfile(node).unlink()
    time.sleep(0.5)
    os.symlink(target, tunfile(node))
    wait_eq(lambda: values(node), {"A": "3"}, what="the link's file taken")
