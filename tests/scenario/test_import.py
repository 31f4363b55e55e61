"""`lkcli import lifekeeper FILE` (docs/LIFEKEEPER.md "Importing a LifeKeeper
configuration"): a LifeKeeper export (ins_list, then #dep_list and #eqv_list sections) and
a copy of its gen/app script tree recreated in a real two-node cluster.

- The dump: web depends on db, cfg alone, an IP resource (comm/ip) that is skipped; two
  LifeKeeper systems lkA (priority 1) and lkB (priority 10) mapped to node1 and node2.
- --dry-run prints the numbered lkcli commands and changes nothing.
- The import creates the three resources out of service with their id, info, check
  intervals, local recovery and switchback, the dependency, and extends both hierarchies
  to node2 with LifeKeeper's priority; --restore brings them in service at the end.
- Refusals (nothing created): a tag that exists, a missing or invalid script, an unknown
  node, a bad dump line.
- `--script-args lifekeeper` (the resource setting) and `cluster tunables --file` are
  planned always; they run when this lkcli has them, and the test checks whichever holds.
"""

import json
import shutil

from cluster import wait_for

SEP = "\x01"


def ins(system, tag, info="", quick="180", deep="300", lr="1", sb="INTELLIGENT",
        app="gen", typ="app", init="AUTORES_ISP"):
    return SEP.join([system, app, typ, tag, f"{tag}-id", info, "ISP",
                     "restore action has succeeded", init, "", "0", "0", "", quick, deep, lr,
                     sb])


def eqv(tag, prio=1, other_prio=10):
    return SEP.join(["lkA", tag, "lkB", tag, "SHARED", str(prio), str(other_prio)])


def dump_text():
    lines = [ins("lkA", "web", info="port=80 dir=/srv/www"),
             ins("lkA", "db", quick="60", deep="600", lr="0", sb="AUTOMATIC"),
             ins("lkA", "cfg", info="conf", init="INIT_OSU"),
             ins("lkA", "ip-10", info="10.0.0.1", app="comm", typ="ip"),
             "#dep_list",
             SEP.join(["web", "db"]),
             SEP.join(["web", "ip-10"]),
             "#eqv_list",
             eqv("web"), eqv("db"), eqv("cfg"), eqv("ip-10")]
    return "\n".join(lines) + "\n"


def lk_tree(cluster, apps, cfg_log):
    """The copied subsys/gen/resources/app tree: the ClusterApps' scripts under
    LifeKeeper's names, and cfg's scripts, which note their arguments."""
    tree = cluster.work / "lk-app"
    for app in apps:
        for action, src in (("!restore", app.restore), ("!remove", app.remove),
                            ("!quickCheck", app.quickchk)):
            d = tree / "actions" / action
            d.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, d / app.tag)
    for action in ("!restore", "!remove"):
        p = tree / "actions" / action / "cfg"
        p.write_text(f'#!/bin/sh\necho "{action} $*" >> {cfg_log}\nexit 0\n')
        p.chmod(0o755)
    rec = tree / "recovery" / "!recover"
    rec.mkdir(parents=True)
    (rec / "cfg").write_text("#!/bin/sh\nexit 0\n")
    (rec / "cfg").chmod(0o755)
    return tree


def knows(n, *words):
    p = n.cli(*words, "--help", check=False)
    return p.returncode == 0


def build_import(cluster):
    n1, n2 = cluster.build(2)
    web, db = cluster.app("web"), cluster.app("db")
    cfg_log = cluster.work / "cfg.log"
    tree = lk_tree(cluster, [web, db], cfg_log)
    dump = cluster.work / "lk-export.txt"
    dump.write_text(dump_text())
    tunables = cluster.work / "LifeKeeper"
    tunables.write_text("# LifeKeeper's tunables\nLKCHECKINTERVAL=120\n"
                        "GLOBAL_NAS_APP_SKIP_REMOVE=0\n")
    return n1, n2, web, db, tree, dump, tunables, cfg_log


def tags(n):
    return sorted(r["tag"] for r in n.status()["resources"])


def import_args(dump, tree, *extra):
    return ["import", "lifekeeper", str(dump), "--scripts", str(tree), "--map", "lkA=node1",
            "--map", "lkB=node2", *extra]


def test_import_three_resources_two_nodes(cluster):
    n1, n2, web, db, tree, dump, tunables, cfg_log = build_import(cluster)

    # The dry run: the numbered steps, nothing done.
    p = n1.cli(*import_args(dump, tree, "--tunables", tunables, "--dry-run"))
    out = p.stdout
    assert "skipped: 'ip-10'" in out and "only gen/app" in out
    assert "dependency 'web' -> 'ip-10' is not imported" in out
    steps = [line for line in out.splitlines() if line[:1].isdigit()]
    assert len(steps) == 7, out
    assert steps[0].startswith("1. lkcli --root ")
    assert "resource create gen --tag db" in steps[0]
    assert "--no-in-service" in steps[0] and "--script-args lifekeeper" in steps[0]
    assert "'" + str(tree / "actions" / "!restore" / "db") + "'" in steps[0]
    assert any("dependency create --parent web --child db" in s for s in steps)
    assert any("resource extend --tag web --node node2 --priority 10" in s for s in steps)
    assert any("resource extend --tag cfg --node node2 --priority 10" in s for s in steps)
    assert steps[-1].endswith("cluster tunables --file " + str(tunables))
    plan = n1.cli_json(*import_args(dump, tree, "--tunables", tunables, "--dry-run"))
    assert plan["dry_run"] is True and plan["source"] == "lkA" and plan["node"] == "node1"
    assert [s["kind"] for s in plan["steps"]] == ["create"] * 3 + ["dependency"] + \
        ["extend"] * 2 + ["tunables"]
    assert all(s["result"] == "planned" for s in plan["steps"])
    assert plan["skipped"] == [{"tag": "ip-10", "why": "its type is comm/ip: only gen/app "
                                                         "resources are imported"}]
    assert tags(n1) == [] and tags(n2) == []

    # The import.
    res = n1.cli_json(*import_args(dump, tree, "--tunables", tunables))
    assert res["imported"] is True, res
    results = {s["kind"]: s["result"] for s in res["steps"]}
    script_args = knows(n1, "resource", "create", "gen") and \
        "--script-args" in n1.cli("resource", "create", "gen", "--help").stdout
    tunables_known = "cluster tunables" in n1.cli("--help").stdout
    assert results["create"] == "done" and results["extend"] == "done"
    assert results["tunables"] == ("done" if tunables_known else "left out")
    for n in (n1, n2):
        wait_for(lambda: tags(n) == ["cfg", "db", "web"], timeout=60,
                 what=f"the three resources on {n.name}")
    # Never in service: no script ran, no application runs.
    assert web.running_on() == [] and db.running_on() == []
    assert not cfg_log.exists()
    for tag in ("web", "db", "cfg"):
        r = n1.resource(tag)
        assert r["state"] == "OSU", r
        prios = {x["node"]: x["priority"] for x in r["nodes"]}
        assert prios == {"node1": 1, "node2": 10}, (tag, r["nodes"])
    w = n1.ins_line("web")
    assert w[4] == "web-id" and w[5] == "port=80 dir=/srv/www"
    assert w[13] == "180" and w[14] == "300" and w[15] == "1" and w[16] == "INTELLIGENT"
    d = n1.ins_line("db")
    assert d[13] == "60" and d[14] == "600" and d[15] == "0" and d[16] == "AUTOMATIC"
    assert n1.ins_line("cfg")[8] == "INIT_OSU"
    deps = n1.cli_json("dependency", "list")
    assert [(x["parent"], x["child"]) for x in deps] == [("web", "db")]
    # The scripts are LifeKeeper's: quickchk is !quickCheck's copy; cfg has no quick check
    # and a recover script.
    copy = n2.script_copy("quickchk", "web")
    wait_for(lambda: copy.exists(), what="web's quickchk copy on node2")
    assert copy.read_text() == web.quickchk.read_text()
    if script_args:
        assert n1.resource("cfg")["settings"]["script-args"] == "lifekeeper"
    if tunables_known:
        assert "LKCHECKINTERVAL" in json.dumps(n1.cli_json("cluster", "tunables"))

    # In service by hand afterwards: the hierarchy's restores run with the scripts.
    n1.cli("resource", "restore", "--tag", "web")
    wait_for(lambda: web.runs_only_on(n1) and db.runs_only_on(n1), what="web and db on node1")
    n1.cli("resource", "restore", "--tag", "cfg")
    wait_for(lambda: cfg_log.exists(), what="cfg's restore")
    line = cfg_log.read_text().splitlines()[0]
    assert line.startswith("!restore")
    if script_args:
        assert line == "!restore -t cfg -i cfg-id", line


def test_import_refusals_change_nothing_then_restore(cluster):
    n1, n2, web, db, tree, dump, tunables, cfg_log = build_import(cluster)

    def refused(*extra, code=None, text=None, dump_path=dump, tree_path=tree):
        p = n1.cli(*import_args(dump_path, tree_path, *extra), check=False)
        assert p.returncode != 0, p.stdout
        if code is not None:
            assert p.returncode == code, (p.returncode, p.stderr)
        err = p.stderr.strip()
        assert len(err.splitlines()) == 1, err
        if text:
            assert text in err, err
        return err

    # A node that is not a member (lkB without --map is a node called lkB).
    p = n1.cli("import", "lifekeeper", str(dump), "--scripts", str(tree), check=False)
    assert p.returncode == 1 and "node 'lkA' is not a member" in p.stderr, p.stderr
    # A missing script, then a script without #!.
    restore = tree / "actions" / "!restore" / "web"
    saved = restore.read_bytes()
    restore.unlink()
    refused(code=2, text="no such file")
    restore.write_text("echo no interpreter line\n")
    refused(code=2, text="web")
    restore.write_bytes(saved)
    restore.chmod(0o755)
    # A bad dump: the line is named.
    bad = cluster.work / "bad.txt"
    bad.write_text(dump_text().replace("AUTOMATIC", "SOMETIMES"))
    refused(code=2, text="line 2", dump_path=bad)
    # A tag that exists already: refused before anything is created.
    n1.cli("resource", "create", "gen", "--tag", "db", "--restore", str(db.restore),
           "--remove", str(db.remove), "--no-in-service")
    refused(code=1, text="'db' exists already")
    assert tags(n1) == ["db"]
    # Bad options.
    refused("--intervals", "hours", code=2, text="seconds or minutes")
    refused("--map", "nonsense", code=2, text="LKNODE=NODE")
    n1.cli("resource", "delete", "--tag", "db")
    wait_for(lambda: tags(n1) == [] and tags(n2) == [], what="db gone")
    assert web.running_on() == [] and db.running_on() == [] and not cfg_log.exists()

    # --restore: in service at the end, on node1 (priority 1).
    p = n1.cli(*import_args(dump, tree, "--restore"))
    assert "imported 3 resources from LifeKeeper system lkA" in p.stdout, p.stdout
    wait_for(lambda: web.runs_only_on(n1) and db.runs_only_on(n1), what="web and db on node1")
    wait_for(lambda: n1.state("web") == "ISP" and n1.state("cfg") == "ISP",
             what="web and cfg ISP")
    assert n2.res_nodes("web") == {"node1": "ISP", "node2": "OSU"}
    # A second import of the same dump is refused whole.
    refused(code=1, text="exists already")


def test_import_dry_run_without_lkd_and_bad_files(make_node, tmp_path):
    n = make_node("n1")  # never started
    tree = tmp_path / "tree"
    for action in ("!restore", "!remove"):
        d = tree / "actions" / action
        d.mkdir(parents=True)
        (d / "web").write_text("#!/bin/sh\nexit 0\n")
    dump = tmp_path / "dump.txt"
    dump.write_text(",".join(["lk1", "gen", "app", "web", "", "", "OSU", "", "INIT_OSU", "",
                              "0", "0", "", "3", "5", "Y", "automatic"]) + "\n")
    p = n.cli("import", "lifekeeper", str(dump), "--scripts", str(tree), "--dry-run",
              "--intervals", "minutes", check=False)
    assert p.returncode == 0, p.stderr
    assert "lkd was not reachable" in p.stdout
    assert "1. lkcli --root" in p.stdout
    assert "--quickchk-interval 180 --deepchk-interval 300" in p.stdout
    assert "--local-recovery on" in p.stdout and "--switchback automatic" in p.stdout
    # Without lkd, the real run fails with lkd's exit status (3) and does nothing.
    p = n.cli("import", "lifekeeper", str(dump), "--scripts", str(tree), check=False)
    assert p.returncode == 3, (p.returncode, p.stderr)
    # Files that are not dumps.
    for content, what in ((b"", "no ins_list record"), (b"\x00\x01", "NUL"),
                          (b"just some text\n", "line 1")):
        dump.write_bytes(content)
        p = n.cli("import", "lifekeeper", str(dump), "--dry-run", check=False)
        assert p.returncode == 2 and what in p.stderr, (content, p.stderr)
        assert len(p.stderr.strip().splitlines()) == 1
    p = n.cli("import", "lifekeeper", str(tmp_path), "--dry-run", check=False)
    assert p.returncode == 2 and "not a regular file" in p.stderr
    p = n.cli("import", "lifekeeper", check=False)
    assert p.returncode == 2 and "one FILE" in p.stderr
    p = n.cli("import", "windows", str(dump), check=False)
    assert p.returncode == 2 and "import lifekeeper FILE" in p.stderr


def test_import_step_failure_deletes_what_it_created(cluster):
    """node2 frozen (SIGSTOP) as the import starts: either the check sees it is not ALIVE
    (nothing created) or the creates on node1 succeed and the extend to node2 fails; then
    the resources this run created are deleted again. Nothing is left either way."""
    n1, n2, web, db, tree, dump, tunables, cfg_log = build_import(cluster)
    n2.sigstop()
    p = n1.cli(*import_args(dump, tree), check=False, timeout=120)
    assert p.returncode != 0, p.stdout
    if "step" in p.stderr:
        assert "removing what this import created" in p.stderr, p.stderr
        assert "rolling back: lkcli resource delete --tag web" in p.stdout, p.stdout
    else:
        assert "node 'node2' is not ALIVE" in p.stderr, p.stderr
    assert tags(n1) == []
    n2.sigcont()
    cluster.wait_all_alive(timeout=60)
    wait_for(lambda: tags(n2) == [], timeout=60, what="nothing on node2")
    assert web.running_on() == [] and db.running_on() == [] and not cfg_log.exists()
