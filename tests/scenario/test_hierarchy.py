"""Resource hierarchies (issue #4): dependencies, restore and remove in dependency order
with independent branches in parallel, failure propagation, delete rules, the status
tree, the generic root, and kill -9 in the middle of a hierarchy restore, with a real
daemon and real scripts.

The scripts append `start <tag> <action> <time>` and `end <tag> <action> <time>` to one
shared file (tests/helpers/hier.py): order is checked from it, and concurrency by
overlapping intervals. Timing is only ever asserted as "before" or "at the same time",
never as a figure.
"""

import re
import subprocess

import pytest

import hier
from conftest import CMD_TIMEOUT, one_line_error, wait_for
from hier import ActionLog, HApp, create, depend, deps, idle_states, states

TEMPLATES = hier.lkapp.__file__.rsplit("/tests/", 1)[0] + "/templates"


def settle(node, timeout=30):
    """Waits until nothing is pending anywhere; returns {tag: state}."""
    return wait_for(lambda: idle_states(node), timeout=timeout, what="the node to be idle")


def line_error(p, status=1):
    """One stderr line and the exit status; returns the line."""
    line = one_line_error(p)
    assert p.returncode == status, (p.returncode, p.stderr)
    return line


# ------------------------------------------------------------------ dependency commands


def test_dependency_create_list_delete_and_every_refusal(node):
    log = ActionLog(node)
    s = log.script()
    for tag in ("a", "b", "c", "x"):
        create(node, tag, s)
    create(node, "up", s)
    node.cli("resource", "restore", "--tag", "up")

    p = node.cli("dependency", "create", "--parent", "b", "--child", "c")
    assert p.stdout == "dependency created: 'b' depends on 'c'\n"
    depend(node, "c", "a")
    assert node.cli("dependency", "list").stdout == "b -> c\nc -> a\n"
    assert deps(node) == [("b", "c"), ("c", "a")]
    before = (deps(node), node.snapshot())

    def refused(args, status, *words):
        p = node.cli("dependency", *args, check=False)
        line = line_error(p, status)
        for w in words:
            assert w in line, (w, line)
        assert (deps(node), node.snapshot()) == before, "a refused command changed something"
        return line

    refused(["create", "--parent", "nope", "--child", "a"], 1, "no resource", "'nope'")
    refused(["create", "--parent", "a", "--child", "nope"], 1, "no resource", "'nope'")
    refused(["create", "--parent", "a", "--child", "a"], 1, "itself", "'a'")
    refused(["create", "--parent", "b", "--child", "c"], 1, "already depends", "'b'", "'c'")
    line = refused(["create", "--parent", "a", "--child", "b"], 1, "cycle")
    assert line.endswith("a -> b -> c -> a"), line
    refused(["create", "--parent", "c", "--child", "b"], 1, "cycle", "c -> b -> c")
    # A parent in service cannot get a child that is out of service.
    line = refused(["create", "--parent", "up", "--child", "x"], 1, "'up' is in service",
                   "'x' is OSU")
    refused(["delete", "--parent", "a", "--child", "b"], 1, "'a' does not depend on 'b'")
    refused(["delete", "--parent", "c", "--child", "b"], 1, "does not depend")
    refused(["delete", "--parent", "nope", "--child", "b"], 1, "no resource", "'nope'")
    refused(["create", "--parent", "a"], 2, "missing --child")
    refused(["create", "--child", "a"], 2, "missing --parent")
    refused(["create", "--parent", "a", "--child", "b", "--bogus", "1"], 2)
    refused(["frobnicate"], 2, "unknown verb")
    refused(["list", "extra"], 2, "unexpected argument")
    refused([], 2, "missing verb")

    # The reverse order is fine: a child in service under a parent out of service.
    depend(node, "x", "up")
    p = node.cli("dependency", "delete", "--parent", "x", "--child", "up")
    assert p.stdout == "dependency deleted: 'x' no longer depends on 'up'\n"
    node.cli("dependency", "delete", "--parent", "b", "--child", "c")
    assert node.cli("dependency", "list").stdout == "c -> a\n"
    msgs = [e["message"] for e in node.log_events()]
    assert "dependency created: 'b' depends on 'c'" in msgs
    assert "dependency deleted: 'b' no longer depends on 'c'" in msgs
    # Nothing but the restore of 'up' ran.
    assert {e.tag for e in log.entries()} == {"up"}


def test_dependencies_survive_a_restart(node):
    log = ActionLog(node)
    s = log.script()
    for tag in ("top", "mid", "low"):
        create(node, tag, s)
    depend(node, "top", "mid")
    depend(node, "mid", "low")
    node.stop()
    node.start()
    assert deps(node) == [("mid", "low"), ("top", "mid")]
    node.cli("resource", "restore", "--tag", "top")
    assert log.order("restore") == ["low", "mid", "top"]


def test_dependency_change_refused_while_the_hierarchy_is_busy(node):
    log = ActionLog(node)
    slow = log.script(sleep=1.5)
    create(node, "p", slow)
    create(node, "c", slow)
    create(node, "d", slow)
    depend(node, "p", "c")
    argv = [node.bin("lkcli"), "--root", str(node.root), "resource", "restore", "--tag", "p"]
    cli = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: log.count("c", "restore") == 1, what="c's restore to start")
        p = node.cli("dependency", "create", "--parent", "p", "--child", "d", check=False)
        assert "busy" in line_error(p)
        p = node.cli("dependency", "delete", "--parent", "p", "--child", "c", check=False)
        assert "busy" in line_error(p)
        p = node.cli("resource", "remove", "--tag", "c", check=False)
        assert "busy" in line_error(p)
        out, err = cli.communicate(timeout=CMD_TIMEOUT)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    assert cli.returncode == 0, (out, err)
    assert deps(node) == [("p", "c")]
    assert settle(node) == {"p": "ISP", "c": "ISP", "d": "OSU"}


# ------------------------------------------------------------------ restore


def test_restore_children_first_branches_together_diamond_once(node):
    """root -> a -> shared, root -> b -> shared (a diamond), root -> c -> c1, root -> d."""
    log = ActionLog(node)
    s = log.script(sleep=0.3)
    for tag in ("root", "a", "b", "shared", "c", "c1", "d"):
        create(node, tag, s)
    edges = [("root", "a"), ("root", "b"), ("a", "shared"), ("b", "shared"), ("root", "c"),
             ("c", "c1"), ("root", "d")]
    for p, c in edges:
        depend(node, p, c)

    p = node.cli("resource", "restore", "--tag", "root")
    assert "is in service" in p.stdout
    assert settle(node) == {t: "ISP" for t in ("root", "a", "b", "shared", "c", "c1", "d")}
    for tag in ("root", "a", "b", "shared", "c", "c1", "d"):
        assert log.count(tag, "restore") == 1, log.text()
    for p_, c in edges:
        log.assert_before(c, p_, "restore")
    # Independent branches at the same time: the three leaves, then a and b.
    log.assert_overlap(["shared", "c1", "d"], "restore")
    log.assert_overlap(["a", "b"], "restore")
    assert log.order("restore")[-1] == "root"
    # c runs as soon as c1 is up: the diamond beside it does not hold it back.
    log.assert_overlap(["a", "b", "c"], "restore")


def test_restore_of_a_middle_member_leaves_its_parent_alone(node):
    log = ActionLog(node)
    s = log.script()
    for tag in ("top", "mid", "low"):
        create(node, tag, s)
    depend(node, "top", "mid")
    depend(node, "mid", "low")
    node.cli("resource", "restore", "--tag", "mid")
    assert settle(node) == {"top": "OSU", "mid": "ISP", "low": "ISP"}
    assert log.order("restore") == ["low", "mid"]


def test_failing_child_in_one_of_three_branches(node):
    """root -> b1 -> l1, root -> b2 -> l2 (fails), root -> b3 -> l3."""
    log = ActionLog(node)
    ok, slow = log.script(sleep=0.2), log.script(sleep=1)
    bad = log.script(sleep=0.2, fail=True)
    create(node, "root", ok)
    for i in (1, 2, 3):
        create(node, f"b{i}", ok)
        create(node, f"l{i}", bad if i == 2 else slow, ok)
        depend(node, "root", f"b{i}")
        depend(node, f"b{i}", f"l{i}")

    p = node.cli("resource", "restore", "--tag", "root", check=False)
    line = line_error(p)
    assert "root" in line and "child 'b2' is OSF" in line, line
    # The command ends when the whole hierarchy has: the other branches are done.
    final = idle_states(node)
    assert final == {"root": "OSF", "b1": "ISP", "l1": "ISP", "b2": "OSF", "l2": "OSF",
                     "b3": "ISP", "l3": "ISP"}, final
    res = {r["tag"]: r for r in node.status()["resources"]}
    assert res["b2"]["reason"] == "restore not attempted: child 'l2' is OSF (failed)"
    assert res["root"]["reason"] == "restore not attempted: child 'b2' is OSF (failed)"
    assert res["l2"]["reason"].startswith("restore action failed: exit status 1")
    # Neither b2 nor the root ran; the other branches did, after their leaves.
    assert log.count("b2", "restore") == 0 and log.count("root", "restore") == 0
    log.assert_before("l1", "b1", "restore")
    log.assert_before("l3", "b3", "restore")
    log.assert_overlap(["l1", "l2", "l3"], "restore")
    # The reasons are in the event log too.
    msgs = [e["message"] for e in node.log_events(tag="root")]
    assert any("child 'b2' is OSF" in m for m in msgs), msgs

    # Fixed, a new restore of the root brings up only what is missing.
    node.cli("resource", "update-script", "--tag", "l2", "--action", "restore", "--file", ok)
    node.cli("resource", "restore", "--tag", "root")
    assert set(settle(node).values()) == {"ISP"}
    assert log.count("l1", "restore") == 1 and log.count("l2", "restore") == 2
    assert log.order("restore")[-3:] == ["l2", "b2", "root"], log.text()


# ------------------------------------------------------------------ remove


def test_remove_of_a_child_removes_ancestors_first(node):
    """top -> mid -> low, top -> side; remove of low: top, mid, low; side stays."""
    log = ActionLog(node)
    s = log.script(sleep=0.1)
    for tag in ("top", "mid", "low", "side"):
        create(node, tag, s)
    depend(node, "top", "mid")
    depend(node, "mid", "low")
    depend(node, "top", "side")
    node.cli("resource", "restore", "--tag", "top")

    p = node.cli("resource", "remove", "--tag", "low")
    assert "is out of service" in p.stdout
    assert settle(node) == {"top": "OSU", "mid": "OSU", "low": "OSU", "side": "ISP"}
    assert log.order("remove") == ["top", "mid", "low"]
    log.assert_before("top", "mid", "remove")
    log.assert_before("mid", "low", "remove")
    intents = {r["tag"]: r["target_in_service"] for r in node.status()["resources"]}
    assert intents == {"top": False, "mid": False, "low": False, "side": True}


def test_shared_child_is_removed_after_both_roots(node):
    """p1 -> c, p2 -> c: the seed system's shared-child ordering bug must not exist."""
    log = ActionLog(node)
    fast, slow = log.script(sleep=0.1), log.script(sleep=0.6)
    create(node, "c", fast)
    create(node, "p1", fast)
    create(node, "p2", fast, slow)  # p2's remove is slow: c must wait for it
    depend(node, "p1", "c")
    depend(node, "p2", "c")
    node.cli("resource", "restore", "--tag", "p1")
    node.cli("resource", "restore", "--tag", "p2")
    assert log.count("c", "restore") == 1

    # Remove of one root alone leaves the shared child (and the other root) in service.
    node.cli("resource", "remove", "--tag", "p1")
    assert settle(node) == {"c": "ISP", "p1": "OSU", "p2": "ISP"}
    assert log.order("remove") == ["p1"]
    node.cli("resource", "restore", "--tag", "p1")
    assert log.count("c", "restore") == 1, "c was in service: not restored again"

    node.cli("resource", "remove", "--tag", "c")
    assert settle(node) == {"c": "OSU", "p1": "OSU", "p2": "OSU"}
    order = log.order("remove")
    assert order[0] == "p1" and sorted(order[1:3]) == ["p1", "p2"] and order[3:] == ["c"], order
    runs = log.runs("remove")
    c_start = [s for t, s, _ in runs if t == "c"][0]
    for tag, start, end in runs[1:3]:
        assert end <= c_start, f"{tag} ended after c started\n{log.text()}"
    # Both parents went at the same time.
    one, two = runs[1], runs[2]
    assert max(one[1], two[1]) < min(one[2], two[2]), log.text()


def test_deep_chain_of_50(node):
    log = ActionLog(node)
    s = log.script()
    tags = [f"l{i:02d}" for i in range(50)]
    for t in tags:
        create(node, t, s)
    for below, above in zip(tags, tags[1:]):
        depend(node, above, below)

    node.cli("resource", "restore", "--tag", tags[-1], timeout=120)
    assert set(settle(node).values()) == {"ISP"}
    assert log.order("restore") == tags
    runs = log.runs("restore")
    for (t1, _, e1), (t2, s2, _) in zip(runs, runs[1:]):
        assert e1 <= s2, f"{t1} ended after {t2} started"

    node.cli("resource", "remove", "--tag", tags[0], timeout=120)
    assert set(settle(node).values()) == {"OSU"}
    assert log.order("remove") == tags[::-1]
    runs = log.runs("remove")
    for (t1, _, e1), (t2, s2, _) in zip(runs, runs[1:]):
        assert e1 <= s2, f"{t1} ended after {t2} started"


# ------------------------------------------------------------------ delete


def test_delete_rules(node):
    """root -> a -> a1, root -> b -> shared, other -> shared."""
    log = ActionLog(node)
    s = log.script()
    for tag in ("root", "a", "a1", "b", "other", "shared"):
        create(node, tag, s)
    depend(node, "root", "a")
    depend(node, "a", "a1")
    depend(node, "root", "b")
    depend(node, "b", "shared")
    depend(node, "other", "shared")

    def refused(args, *words):
        before = (node.snapshot(), deps(node), states(node))
        p = node.cli("resource", "delete", *args, check=False)
        line = line_error(p)
        for w in words:
            assert w in line, (w, line)
        after = (node.snapshot(), deps(node), states(node))
        assert after == before, "a refused delete changed something"
        return line

    # A resource with parents cannot go on its own, nor with its tree.
    refused(["--tag", "a"], "'a' has parents")
    refused(["--tag", "a1", "--hierarchy"], "'a1' has parents")
    refused(["--tag", "nope", "--hierarchy"], "'nope'")
    # A member of the tree is also a child of another tree: nothing deleted.
    refused(["--tag", "root", "--hierarchy"], "'shared'", "outside", "nothing deleted")
    node.cli("dependency", "delete", "--parent", "other", "--child", "shared")
    # A member in service: nothing deleted.
    node.cli("resource", "restore", "--tag", "a")
    line = refused(["--tag", "root", "--hierarchy"], "in service", "nothing deleted")
    assert "'a'" in line or "'a1'" in line, line
    node.cli("resource", "remove", "--tag", "a1")
    assert settle(node)["a1"] == "OSU"

    p = node.cli("resource", "delete", "--tag", "root", "--hierarchy")
    assert sorted(p.stdout.splitlines()) == sorted(
        f"resource '{t}' deleted" for t in ("root", "a", "a1", "b", "shared"))
    assert sorted(states(node)) == ["other"]
    assert deps(node) == []
    assert node.copies() and all(k.endswith("/other") for k in node.copies()), node.copies()
    assert [f[3] for f in node.ins_list()] == ["other"]
    # The whole tree is gone for good, also after a restart.
    node.stop()
    node.start()
    assert sorted(states(node)) == ["other"] and deps(node) == []
    # A plain delete of a resource without parents still works.
    node.cli("resource", "delete", "--tag", "other")
    assert states(node) == {}


def test_delete_of_a_root_without_hierarchy_keeps_the_children(node):
    log = ActionLog(node)
    s = log.script()
    create(node, "root", s)
    create(node, "kid", s)
    depend(node, "root", "kid")
    p = node.cli("resource", "delete", "--tag", "root")
    assert p.stdout == "resource 'root' deleted\n"
    assert states(node) == {"kid": ("OSU", "")}
    assert deps(node) == []
    # The dependency went with it, also across a restart.
    node.stop()
    node.start()
    assert deps(node) == []


# ------------------------------------------------------------------ status


ROW = re.compile(r"^  ( *\S.*?)\s+(OSU|OSF|ISP|ISU)\s+\S+\s+\d+\s+\d+  ")


def tree_rows(out):
    """[(label, state)] of the resource rows of lkcli status."""
    return [(m.group(1), m.group(2)) for m in map(ROW.match, out.splitlines()) if m]


def trees(out):
    """The hierarchies drawn by lkcli status, each the list of its rows, in any order
    (sorted): a row that starts at the left starts a new one."""
    blocks = []
    for label, state in tree_rows(out):
        if not label.startswith((" ", "|", "`")):
            blocks.append([])
        blocks[-1].append((label, state))
    return sorted(blocks)


def test_status_draws_the_tree_and_json_nests(node):
    log = ActionLog(node)
    s = log.script()
    for tag in ("web", "db", "fs", "ip", "alone"):
        create(node, tag, s)
    depend(node, "web", "db")
    depend(node, "web", "ip")
    depend(node, "db", "fs")
    node.cli("resource", "restore", "--tag", "db")

    out = node.cli("status").stdout
    assert trees(out) == [[("alone", "OSU")],
                          [("web", "OSU"), ("|-- db", "ISP"), ("|   `-- fs", "ISP"),
                           ("`-- ip", "OSU")]], out

    data = node.status()
    roots = {h["tag"]: h for h in data["hierarchies"]}
    assert sorted(roots) == ["alone", "web"]
    web = roots["web"]
    assert web["state"] == "OSU"
    kids = {c["tag"]: c for c in web["children"]}
    assert sorted(kids) == ["db", "ip"]
    assert kids["db"]["state"] == "ISP"
    assert kids["db"]["reason"] == "restore action has succeeded"
    assert [c["tag"] for c in kids["db"]["children"]] == ["fs"]
    assert kids["db"]["children"][0]["children"] == []
    assert kids["ip"]["children"] == [] and roots["alone"]["children"] == []
    assert sorted((d["parent"], d["child"]) for d in data["dependencies"]) == [
        ("db", "fs"), ("web", "db"), ("web", "ip")]
    # The flat list is still there, one entry per resource.
    assert sorted(r["tag"] for r in data["resources"]) == ["alone", "db", "fs", "ip", "web"]


def test_status_shows_a_shared_child_under_each_parent(node):
    log = ActionLog(node)
    s = log.script()
    for tag in ("p1", "p2", "c", "g"):
        create(node, tag, s)
    depend(node, "p1", "c")
    depend(node, "p2", "c")
    depend(node, "c", "g")
    out = node.cli("status").stdout
    assert trees(out) == [[("p1", "OSU"), ("`-- c", "OSU"), ("    `-- g", "OSU")],
                          [("p2", "OSU"), ("`-- c", "OSU"), ("    `-- g", "OSU")]], out
    roots = node.status()["hierarchies"]
    assert sorted((h["tag"], [c["tag"] for c in h["children"]]) for h in roots) == [
        ("p1", ["c"]), ("p2", ["c"])]


# ------------------------------------------------------------------ monitoring


def test_failed_check_on_a_child_removes_its_parents(node):
    """top -> mid -> low, top -> side: low's quickchk fails, no recover: low OSF, and the
    rest of the hierarchy is handled together (SPEC §4): top, then mid and side, removed;
    then low itself, which may still run (issue 9)."""
    log = ActionLog(node)
    s = log.script(sleep=0.1)
    flag = node.work / "low-ok"
    flag.touch()
    chk = node.script(f"#!/bin/sh\n[ -e {flag} ]\n")
    create(node, "low", s, s, "--quickchk", chk, "--quickchk-interval", "0.2")
    for tag in ("mid", "top", "side"):
        create(node, tag, s)
    depend(node, "top", "mid")
    depend(node, "mid", "low")
    depend(node, "top", "side")
    node.cli("resource", "restore", "--tag", "top")
    assert set(settle(node).values()) == {"ISP"}

    flag.unlink()
    wait_for(lambda: node.state("low") == "OSF", what="low OSF")
    final = settle(node)
    assert final == {"low": "OSF", "mid": "OSU", "top": "OSU", "side": "OSU"}, final
    assert sorted(log.order("remove")) == ["low", "mid", "side", "top"]
    log.assert_before("top", "mid", "remove")
    log.assert_before("top", "side", "remove")
    log.assert_before("mid", "low", "remove")
    assert log.count("low", "remove") == 1, "the failed resource is removed too"
    res = {r["tag"]: r for r in node.status()["resources"]}
    assert res["low"]["reason"] == (
        "quickchk failed: exit status 1; no backup node to fail over to")
    # They keep their intent: the next restore of the top brings the whole stack back.
    assert res["mid"]["target_in_service"] and res["top"]["target_in_service"]
    nums = [e["number"] for e in node.log_events(tag="low")]
    assert 1500 in nums and 1505 in nums

    # A restart does not retry the failed child on its own, not even for its parents:
    # they say why they stay out of service.
    node.stop()
    node.start()
    final = settle(node)
    assert final == {"low": "OSF", "mid": "OSF", "top": "OSF", "side": "ISP"}, final
    assert log.count("low", "restore") == 1, log.text()
    res = {r["tag"]: r for r in node.status()["resources"]}
    assert res["mid"]["reason"] == "restore not attempted: child 'low' is OSF (failed)"
    assert res["top"]["reason"] == "restore not attempted: child 'mid' is OSF (failed)"

    # The operator's restore of the top brings the whole stack back, low first.
    flag.touch()
    node.cli("resource", "restore", "--tag", "top")
    assert set(settle(node).values()) == {"ISP"}
    assert log.order("restore")[-3:] == ["low", "mid", "top"]


def test_checks_of_a_sibling_pause_while_the_hierarchy_acts(node):
    """root -> sib, root -> kid; sib is checked every 0.1 s. Remove of kid removes root
    first (1.5 s): no check of sib starts meanwhile; afterwards they go on."""
    log = ActionLog(node)
    counter = node.work / "sib-checks"
    counter.touch()
    chk = node.script(f"#!/bin/sh\necho x >> {counter}\nexit 0\n")
    s = log.script()
    slow = node.script(f"""\
#!/bin/sh
wc -l < {counter} > {node.work}/at-start
sleep 1.5
wc -l < {counter} > {node.work}/at-end
""")
    create(node, "sib", s, s, "--quickchk", chk, "--quickchk-interval", "0.1")
    create(node, "root", s, slow)
    create(node, "kid", s)
    depend(node, "root", "sib")
    depend(node, "root", "kid")
    node.cli("resource", "restore", "--tag", "root")
    checks = lambda: len(counter.read_text().splitlines())  # noqa: E731
    wait_for(lambda: checks() >= 3, what="checks of sib")

    node.cli("resource", "remove", "--tag", "kid")
    assert settle(node) == {"root": "OSU", "kid": "OSU", "sib": "ISP"}
    start = int((node.work / "at-start").read_text())
    end = int((node.work / "at-end").read_text())
    # One check may have been starting as the remove began; none in 1.5 s after that.
    assert end - start <= 1, f"{end - start} checks of sib ran while root was removed"
    n = checks()
    wait_for(lambda: checks() >= n + 3, what="the checks of sib to resume")


# ------------------------------------------------------------------ lkstop and kill -9


def test_lkstop_takes_a_hierarchy_down_top_first_and_lkstart_restores_it(node):
    log = ActionLog(node)
    s = log.script(sleep=0.1)
    for tag in ("top", "mid", "low"):
        create(node, tag, s)
    depend(node, "top", "mid")
    depend(node, "mid", "low")
    node.cli("resource", "restore", "--tag", "top")
    node.stop()
    assert log.order("remove") == ["top", "mid", "low"]
    node.start()
    assert set(settle(node).values()) == {"ISP"}
    assert log.order("restore") == ["low", "mid", "top"] * 2


def test_lkstop_during_a_hierarchy_restore_ends(node):
    """lkstop while p waits for c1 and c2: p's queued restore is dropped, c1 and c2 are
    removed once their restores end, lkstop returns; lkstart brings all three back."""
    log = ActionLog(node)
    fast, slow = log.script(sleep=0.2), log.script(sleep=1)
    create(node, "p", fast)
    create(node, "c1", fast)
    create(node, "c2", slow, fast)
    depend(node, "p", "c1")
    depend(node, "p", "c2")
    argv = [node.bin("lkcli"), "--root", str(node.root), "resource", "restore", "--tag", "p"]
    cli = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: log.count("c2", "restore") == 1, what="c2's restore to start")
        p = node.stop(timeout=20)
        assert p.returncode == 0, p.stderr
        out, err = cli.communicate(timeout=CMD_TIMEOUT)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    assert cli.returncode in (1, 3), (out, err)
    assert not node.daemon_running()
    assert log.count("p", "restore") == 0, log.text()
    for tag in ("c1", "c2"):
        assert log.count(tag, "restore") == 1 and log.count(tag, "remove") == 1, log.text()
        assert log.interval(tag, "restore")[1] <= log.interval(tag, "remove")[0]

    node.start()
    assert set(settle(node).values()) == {"ISP"}
    runs = log.runs("restore")
    assert [t for t, _, _ in runs][-1] == "p", log.text()
    p_start = runs[-1][1]
    assert all(e <= p_start for t, _, e in runs[-3:-1]), log.text()


def test_kill9_in_the_middle_of_a_hierarchy_restore(node):
    """top -> mid -> slow (restore sleeps 3 s), top -> quick. lkd is killed while slow's
    restore runs and mid and top wait; lkstart: slow is probed, the orphaned restore
    and the new one start the application once, and mid and top follow in order."""
    log = ActionLog(node)
    apps = {"top": HApp(node, log, "top"), "mid": HApp(node, log, "mid"),
            "slow": HApp(node, log, "slow", delay=3), "quick": HApp(node, log, "quick")}
    for a in apps.values():
        a.create()
    depend(node, "top", "mid")
    depend(node, "mid", "slow")
    depend(node, "top", "quick")
    argv = [node.bin("lkcli"), "--root", str(node.root), "resource", "restore", "--tag", "top"]
    cli = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: log.count("slow", "restore") == 1 and
                 [e for e in log.entries() if e.kind == "end" and e.tag == "quick"],
                 what="slow's restore running, quick's done")
        wait_for(lambda: states(node).get("quick") == ("ISP", ""), what="quick ISP")
        before = states(node)
        assert before["top"] == ("OSU", "restore-wait"), before
        assert before["mid"] == ("OSU", "restore-wait"), before
        assert before["slow"] == ("OSU", "restore"), before
        node.kill9()
        out, err = cli.communicate(timeout=CMD_TIMEOUT)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    assert cli.returncode == 3, (out, err)

    node.start()
    final = settle(node, timeout=60)
    assert final == {t: "ISP" for t in apps}, final
    wait_for(lambda: not node.script_runs("restore", "slow"), what="every restore of slow")
    for tag, a in apps.items():
        assert len(a.pids()) == 1, f"{tag} runs {len(a.pids())} times\n{log.text()}"
    # After the restart: quick was probed and found running, not restored again; mid and
    # top kept waiting (their queued restores are in the store) until slow was in
    # service, then ran once each, in order.
    assert log.count("quick", "restore") == 1, log.text()
    assert log.count("mid", "restore") == 1 and log.count("top", "restore") == 1, log.text()
    slow_ends = [e.t for e in log.entries()
                 if e.tag == "slow" and e.kind == "end" and e.action == "restore"]
    assert max(slow_ends) <= log.interval("mid", "restore")[0], log.text()
    log.assert_before("mid", "top", "restore")
    log.assert_before("quick", "top", "restore")
    events = node.log_events()
    slow_nums = [e["number"] for e in events if e["tag"] == "slow"]
    assert 1003 in slow_nums, "the interrupted restore is reported"
    assert 1210 in [e["number"] for e in events if e["tag"] == "quick"]
    if 1211 in slow_nums:
        # The probe ran before the orphaned restore had started the application: slow
        # was cleaned up (remove) and restored again; the lock in its restore let only
        # one of the two start the application.
        assert log.count("slow", "restore") == 2 and log.count("slow", "remove") == 1
    else:
        assert 1210 in slow_nums and log.count("slow", "restore") == 1
    assert not [e for e in events if e["tag"] in ("mid", "top") and e["number"] == 1003]


def test_kill9_in_the_middle_of_a_hierarchy_remove(node):
    """top -> mid -> low, all in service; remove of low: top goes, then mid's remove
    (3 s) is cut by kill -9 while low waits. lkstart finishes the operator's remove in
    order: mid again (remove is idempotent), then low; nothing is restored."""
    log = ActionLog(node)
    apps = {"top": HApp(node, log, "top"), "mid": HApp(node, log, "mid", remove_delay=3),
            "low": HApp(node, log, "low")}
    for a in apps.values():
        a.create()
    depend(node, "top", "mid")
    depend(node, "mid", "low")
    node.cli("resource", "restore", "--tag", "top")
    assert all(len(a.pids()) == 1 for a in apps.values())
    argv = [node.bin("lkcli"), "--root", str(node.root), "resource", "remove", "--tag", "low"]
    cli = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: log.count("mid", "remove") == 1, what="mid's remove to start")
        before = states(node)
        assert before == {"top": ("OSU", ""), "mid": ("ISP", "remove"),
                          "low": ("ISP", "remove-wait")}, before
        node.kill9()
        out, err = cli.communicate(timeout=CMD_TIMEOUT)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    assert cli.returncode == 3, (out, err)

    node.start()
    assert settle(node, timeout=60) == {"top": "OSU", "mid": "OSU", "low": "OSU"}
    wait_for(lambda: not node.script_runs("remove", "mid"), what="every remove of mid")
    for tag, a in apps.items():
        assert a.pids() == [], f"{tag} still runs\n{log.text()}"
    assert log.count("top", "remove") == 1 and log.count("low", "remove") == 1, log.text()
    assert log.count("mid", "remove") == 2, log.text()
    assert max(e.t for e in log.entries() if e.tag == "mid" and e.kind == "end") <= \
        log.interval("low", "remove")[0], log.text()
    assert all(log.count(t, "restore") == 1 for t in apps), log.text()
    intents = {r["tag"]: r["target_in_service"] for r in node.status()["resources"]}
    assert intents == {"top": False, "mid": False, "low": False}
    assert 1003 in [e["number"] for e in node.log_events(tag="mid")]


def test_restart_probes_a_child_before_restoring_its_parent(node):
    """a -> b; a (no check script) is killed -9 in its restore, and b's application dies
    too (as in a reboot). At the start a can only be restored again, and 'a' sorts before
    'b': its restore must still wait until b has been probed and restored."""
    log = ActionLog(node)
    a, b = HApp(node, log, "a", delay=1.5), HApp(node, log, "b")
    a.create(quickchk=False)
    b.create()
    depend(node, "a", "b")
    argv = [node.bin("lkcli"), "--root", str(node.root), "resource", "restore", "--tag", "a"]
    cli = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: log.count("a", "restore") == 1, what="a's restore to start")
        node.kill9()
        cli.communicate(timeout=CMD_TIMEOUT)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    wait_for(lambda: not node.script_runs("restore", "a"), what="the orphaned restore of a")
    b.kill()

    node.start()
    assert settle(node) == {"a": "ISP", "b": "ISP"}
    assert len(a.pids()) == 1 and len(b.pids()) == 1
    b_runs = [r for r in log.runs("restore") if r[0] == "b"]
    a_runs = [r for r in log.runs("restore") if r[0] == "a"]
    assert len(b_runs) == 2 and len(a_runs) == 2, log.text()
    assert b_runs[1][2] <= a_runs[1][1], f"a restored before b was back\n{log.text()}"
    nums = [e["number"] for e in node.log_events(tag="b")]
    assert 1211 in nums, "b is probed, and found dead"


# ------------------------------------------------------------------ generic root


def generic_root_bundle(node, log):
    """bundle -> web -> db, bundle -> mail -> spool, with templates/generic_root."""
    s = log.script(sleep=0.3)
    node.cli("resource", "create", "gen", "--tag", "bundle", "--no-in-service",
             "--restore", f"{TEMPLATES}/generic_root/root.sh",
             "--remove", f"{TEMPLATES}/generic_root/root.sh")
    for tag in ("web", "db", "mail", "spool"):
        create(node, tag, s)
    depend(node, "web", "db")
    depend(node, "mail", "spool")
    depend(node, "bundle", "web")
    depend(node, "bundle", "mail")


def test_generic_root_restores_both_trees(node):
    log = ActionLog(node)
    generic_root_bundle(node, log)
    node.cli("resource", "restore", "--tag", "bundle")
    assert settle(node) == {t: "ISP" for t in ("bundle", "web", "db", "mail", "spool")}
    log.assert_before("db", "web", "restore")
    log.assert_before("spool", "mail", "restore")
    log.assert_overlap(["db", "spool"], "restore")
    log.assert_overlap(["web", "mail"], "restore")
    out = node.cli("status").stdout
    assert tree_rows(out) == [("bundle", "ISP"), ("|-- mail", "ISP"), ("|   `-- spool", "ISP"),
                              ("`-- web", "ISP"), ("    `-- db", "ISP")] or tree_rows(out) == [
        ("bundle", "ISP"), ("|-- web", "ISP"), ("|   `-- db", "ISP"), ("`-- mail", "ISP"),
        ("    `-- spool", "ISP")], out

    # Remove of a leaf takes down what depends on it, the generic root included; the
    # other tree is not touched.
    node.cli("resource", "remove", "--tag", "db")
    assert settle(node) == {"bundle": "OSU", "web": "OSU", "db": "OSU", "mail": "ISP",
                            "spool": "ISP"}
    assert log.order("remove") == ["web", "db"]  # the generic root logs nothing
    ends = [e for e in node.log_events() if e["number"] == 1204]
    assert [e["tag"] for e in ends] == ["bundle", "web", "db"], ends


def test_generic_root_remove_takes_both_trees_down(node):
    log = ActionLog(node)
    generic_root_bundle(node, log)
    node.cli("resource", "restore", "--tag", "bundle")
    # Without --hierarchy only the generic root itself goes (nothing depends on it).
    node.cli("resource", "remove", "--tag", "bundle")
    assert settle(node) == {"bundle": "OSU", "web": "ISP", "db": "ISP", "mail": "ISP",
                            "spool": "ISP"}
    node.cli("resource", "restore", "--tag", "bundle")
    node.cli("resource", "remove", "--tag", "bundle", "--hierarchy")
    assert settle(node) == {t: "OSU" for t in ("bundle", "web", "db", "mail", "spool")}
    log.assert_before("web", "db", "remove")
    log.assert_before("mail", "spool", "remove")
    log.assert_overlap(["web", "mail"], "remove")
