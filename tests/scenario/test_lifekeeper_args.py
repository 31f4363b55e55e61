"""LifeKeeper's calling style for gen/app scripts (docs/LIFEKEEPER.md, "Scripts: arguments,
environment, Perl"): the setting script-args (none | lifekeeper: `-t TAG -i ID` for every
action), stored, replicated and refused for the types without scripts; the files lkd
installs into $LKROOT at start (LifeKeeper's commands, LK.pm, LifeKeeper.pl, the gen/app
library directory); the Perl API against a real lkd (perl/lk_api.t); and
`lkcli lifekeeper-setup` under a --prefix.
"""

import os
import stat
import subprocess
from pathlib import Path

from conftest import REPO, _clean_env, one_line_error, wait_for

LK_API_T = REPO / "tests" / "scenario" / "perl" / "lk_api.t"

ARGS_SCRIPT = """\
#!/bin/sh
echo "$LK_ACTION $#:$*" >> {out}
exit 0
"""


def recorded(path):
    return path.read_text().splitlines() if path.exists() else []


def args_resource(node, tag, *extra):
    out = node.work / f"args-{tag}"
    s = ARGS_SCRIPT.format(out=out)
    restore = node.script(s)
    remove = node.script(s)
    quick = node.script(s)
    deep = node.script(s)
    recover = node.script(s)
    node.create(tag, restore, remove, "--quickchk", quick, "--deepchk", deep, "--recover",
                recover, "--id", f"{tag}-id", "--quickchk-interval", "0",
                "--deepchk-interval", "0", "--no-in-service", *extra)
    return out


def test_script_args_lifekeeper_every_action(node):
    node.start()
    out = args_resource(node, "lkargs", "--script-args", "lifekeeper")
    res = node.cli_json("resource", "list", "--tag", "lkargs")[0]
    assert res["settings"]["script-args"] == "lifekeeper"
    for action in ("restore", "remove", "quickchk", "deepchk", "recover"):
        node.cli("resource", "test", "--tag", "lkargs", "--action", action)
    node.cli("resource", "restore", "--tag", "lkargs")
    node.cli("resource", "remove", "--tag", "lkargs")
    want = "4:-t lkargs -i lkargs-id"
    assert recorded(out) == [f"{a} {want}" for a in ("restore", "remove", "quickchk", "deepchk",
                                                      "recover", "restore", "remove")]

    # Back to none: no arguments (SPEC §3), the change an event as every config.
    node.cli("resource", "config", "--tag", "lkargs", "--script-args", "none")
    node.cli("resource", "test", "--tag", "lkargs", "--action", "restore")
    assert recorded(out)[-1] == "restore 0:"
    res = node.cli_json("resource", "list", "--tag", "lkargs")[0]
    assert res["settings"]["script-args"] == "none"
    assert "script-args" in res["defaults"]


def test_script_args_default_none_and_kept_over_restart(node):
    node.start()
    out = args_resource(node, "plain")
    node.cli("resource", "test", "--tag", "plain", "--action", "restore")
    assert recorded(out) == ["restore 0:"]
    node.cli("resource", "config", "--tag", "plain", "--script-args", "lifekeeper")
    node.stop()
    node.start()
    res = node.cli_json("resource", "list", "--tag", "plain")[0]
    assert res["settings"]["script-args"] == "lifekeeper"
    node.cli("resource", "test", "--tag", "plain", "--action", "remove")
    assert recorded(out)[-1] == "remove 4:-t plain -i plain-id"
    # The status detail and the help show it.
    detail = node.cli("resource", "show", "--tag", "plain", check=False)
    if detail.returncode == 0:
        assert "lifekeeper" in detail.stdout
    assert "--script-args" in node.cli("resource", "config", "--help").stdout


def test_script_args_refusals(node):
    node.start()
    out = args_resource(node, "ref")
    p = node.cli("resource", "config", "--tag", "ref", "--script-args", "perl", check=False)
    assert p.returncode == 2
    assert one_line_error(p) and "none or lifekeeper" in p.stderr
    p = node.cli("resource", "config", "--tag", "ref", "--script-args", "life\nkeeper",
                 check=False)
    assert p.returncode == 2 and "control character" in p.stderr
    assert node.cli_json("resource", "list", "--tag", "ref")[0]["settings"]["script-args"] == \
        "none"
    # The types without scripts refuse it (the type table's check), at create and config.
    p = node.cli("resource", "create", "ocf", "--tag", "dummy", "--agent",
                 "ocf:heartbeat:Dummy", "--script-args", "lifekeeper", "--no-in-service",
                 check=False)
    assert p.returncode == 2, p.stderr
    assert one_line_error(p) and "script-args lifekeeper" in p.stderr and "ocf" in p.stderr
    assert node.resource("dummy") is None
    p = node.cli("resource", "create", "systemd", "--tag", "unit", "--unit", "lkt-none.service",
                 "--script-args", "lifekeeper", "--no-in-service", check=False)
    assert p.returncode == 2, p.stderr
    assert node.resource("unit") is None
    assert recorded(out) == []


def test_script_args_replicated(cluster):
    n1, n2 = cluster.build(2)
    s = ARGS_SCRIPT.format(out=n1.work / "rep")
    restore, remove = n1.script(s), n1.script(s)
    n1.create("rep", restore, remove, "--no-in-service", "--script-args", "lifekeeper")
    n1.cli("resource", "extend", "--tag", "rep", "--node", n2.name)

    def on_n2():
        rows = n2.cli_json("resource", "list", "--tag", "rep")
        return rows and rows[0]["settings"]["script-args"] == "lifekeeper"

    wait_for(on_n2, what="script-args lifekeeper on node2")
    n1.cli("resource", "config", "--tag", "rep", "--script-args", "none")

    def none_on_n2():
        return n2.cli_json("resource", "list", "--tag", "rep")[0]["settings"][
            "script-args"] == "none"

    wait_for(none_on_n2, what="script-args none on node2")


def test_lkd_installs_lifekeeper_files(node):
    node.start()
    root = node.root
    for cmd in ("lk_err", "ins_list"):
        st = (root / "bin" / cmd).stat()
        assert stat.S_IMODE(st.st_mode) == 0o755, cmd
        assert (root / "bin" / cmd).read_bytes() == Path(node.bin(cmd)).read_bytes()
    lkpm = root / "lib" / "perl" / "LK.pm"
    entry = root / "etc" / "default" / "LifeKeeper.pl"
    assert lkpm.read_bytes() == (REPO / "perl" / "LK.pm").read_bytes()
    assert entry.read_bytes() == (REPO / "perl" / "LifeKeeper.pl").read_bytes()
    assert stat.S_IMODE(lkpm.stat().st_mode) == 0o644
    lib = root / "lkadm" / "subsys" / "gen" / "app" / "lib"
    assert lib.is_dir() and stat.S_IMODE(lib.stat().st_mode) == 0o755
    # A changed copy is put back at the next start; a command that is not built is named
    # on lkd's stderr once it is ready (log/lkd.out), lkstart stays silent, and lkd runs.
    (root / "lib" / "perl" / "LK.pm").write_text("1;\n")
    node.stop()
    p = node.start()
    assert p.stderr == ""
    built = [Path(node.bin(".")), Path(node.bin("src/cli/compat"))]
    absent = [c for c in ("ins_setstate", "lcdremexec") if not any((d / c).exists() for d in built)]
    if absent:
        out = root / "log" / "lkd.out"
        wait_for(lambda: all(c in out.read_text(errors="replace") for c in absent),
                 what="the missing commands named in lkd.out")
    assert lkpm.read_bytes() == (REPO / "perl" / "LK.pm").read_bytes()


def run_perl_api(node, tag, extra_env=None):
    env = _clean_env()
    env.update({"LKROOT": str(node.root), "LK_TEST_TAG": tag, "LK_TEST_ID": f"{tag}-id",
                "LK_TEST_INFO": "some info", "LK_TEST_NODE": node.name})
    env.update(extra_env or {})
    p = subprocess.run(["perl", str(LK_API_T)], capture_output=True, text=True, env=env,
                       timeout=120)
    assert p.returncode == 0, f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    assert "not ok" not in p.stdout
    return p


def test_perl_api_against_lkd(node):
    node.start()
    restore = node.script("#!/bin/sh\nexit 0\n")
    remove = node.script("#!/bin/sh\nexit 0\n")
    node.create("perlres", restore, remove, "--id", "perlres-id", "--app-info", "some info",
                "--no-in-service")
    tunables = node.root / "etc" / "default" / "LifeKeeper"
    if not tunables.exists():
        # Before lkd writes the tunables file itself (its own change), the test writes one.
        # (Values as a shell, and lkd, read them: "KT_TUNABLE=from the file" would be
        # KT_TUNABLE=from, then a command "the".)
        tunables.write_text("# test\nKT_TUNABLE='from the file'  # a comment\n"
                            "export KT_QUOTED='a b $c'\nKT_PRESET=\"from the file\"\n"
                            "PATH=/nowhere\nLK_TEST_TAG=not this\n")
        p = run_perl_api(node, "perlres", {"LK_TEST_TUNABLES": "1", "KT_PRESET": "preset"})
    else:
        p = run_perl_api(node, "perlres")
    assert "ok" in p.stdout


def test_lifekeeper_style_perl_script(node):
    """A gen/app script in LifeKeeper's style: Perl, the entry required, `use LK;`,
    getopts 't:i:', LK::ins_list on itself; run by lkd with script-args lifekeeper."""
    node.start()
    out = node.work / "perl-out"
    restore = node.script(f"""\
        #!/usr/bin/perl
        BEGIN {{ require "$ENV{{LKROOT}}/etc/default/LifeKeeper.pl"; }}
        use strict;
        use warnings;
        use Getopt::Std;
        use LK;
        our ($opt_t, $opt_i);
        getopts('t:i:') or exit 1;
        my $rec = LK::ins_list('', '', '', '', $opt_t, '');
        my @f = split(/\\x01/, $rec // '');
        open(my $fh, '>>', '{out}') or die;
        print $fh join('|', 'tag=' . $opt_t, 'id=' . $opt_i, 'info=' . ($f[5] // ''),
                        'inc=' . (scalar(grep {{ $_ eq "$LK::LKROOT/lib/perl" }} @INC))), "\\n";
        close($fh);
        exit 0;
        """)
    remove = node.script("#!/bin/sh\nexit 0\n")
    node.create("plk", restore, remove, "--id", "plk-id", "--app-info", "the info",
                "--script-args", "lifekeeper")
    wait_for(lambda: node.state("plk") == "ISP", what="plk in service")
    assert recorded(out) == ["tag=plk|id=plk-id|info=the info|inc=1"]


def test_lifekeeper_setup_prefix(node, tmp_path):
    node.start()
    root = Path(os.path.realpath(node.root))
    prefix = tmp_path / "sysroot"
    prefix.mkdir()
    dry = node.cli("lifekeeper-setup", "--prefix", prefix, "--dry-run")
    assert "would link" in dry.stdout
    assert list(prefix.iterdir()) == []

    first = node.cli("lifekeeper-setup", "--prefix", prefix).stdout
    home = prefix / "opt" / "LifeKeeper"
    assert os.readlink(home / "bin" / "perl") == "/usr/bin/perl"
    assert os.readlink(home / "bin" / "ins_list") == f"{root}/bin/ins_list"
    assert os.readlink(home / "bin" / "lk_err") == f"{root}/bin/lk_err"
    assert os.readlink(home / "lib" / "perl") == f"{root}/lib/perl"
    assert os.readlink(home / "subsys") == f"{root}/subsys"
    assert os.readlink(home / "lkadm") == f"{root}/lkadm"
    assert os.readlink(prefix / "etc" / "default" / "LifeKeeper") == \
        f"{root}/etc/default/LifeKeeper"
    assert os.readlink(prefix / "etc" / "default" / "LifeKeeper.pl") == \
        f"{root}/etc/default/LifeKeeper.pl"
    assert (home / "lib" / "perl" / "LK.pm").is_file()
    assert f"linked {home}/bin/perl -> /usr/bin/perl" in first

    # The entry through the link, LKROOT unset (a script run by hand): the root it links
    # into, @INC, and LK.pm's root.
    code = (f"BEGIN {{ require '{prefix}/etc/default/LifeKeeper.pl'; }} use LK; "
            "print \"$ENV{LKROOT}|$LK::LKROOT|\", "
            "scalar(grep { $_ eq \"$ENV{LKROOT}/lib/perl\" } @INC)")
    p = subprocess.run([str(home / "bin" / "perl"), "-e", code], capture_output=True, text=True,
                       env=_clean_env(), timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout == f"{root}|{root}|1"

    # Idempotent: nothing new, every link already there.
    again = node.cli("lifekeeper-setup", "--prefix", prefix).stdout
    assert "linked " not in again.replace("already linked", "")
    assert "already linked" in again
    js = node.cli_json("lifekeeper-setup", "--prefix", prefix)
    assert {s["action"] for s in js["steps"]} <= {"keep", "skip"}

    # A LifeKeeper that is really there: refused, naming the file, nothing changed.
    other = tmp_path / "real"
    (other / "opt" / "LifeKeeper" / "bin").mkdir(parents=True)
    real = other / "opt" / "LifeKeeper" / "bin" / "ins_list"
    real.write_text("#!/bin/sh\n")
    p = node.cli("lifekeeper-setup", "--prefix", other, check=False)
    assert p.returncode == 1 and one_line_error(p)
    assert str(real) in p.stderr
    assert sorted(os.listdir(other / "opt" / "LifeKeeper" / "bin")) == ["ins_list"]
    assert not (other / "etc").exists()

    # A link somewhere else is not ours either.
    (home / "lkadm").unlink()
    (home / "lkadm").symlink_to("/tmp")
    p = node.cli("lifekeeper-setup", "--prefix", prefix, check=False)
    assert p.returncode == 1 and f"{home}/lkadm" in p.stderr

    p = node.cli("lifekeeper-setup", "--prefix", "relative/dir", check=False)
    assert p.returncode == 2 and one_line_error(p)


def test_lifekeeper_setup_refused_for_non_admin(node, lk_users, tmp_path):
    node.start()
    prefix = tmp_path / "sysroot2"
    prefix.mkdir()
    p = node.cli("lifekeeper-setup", "--prefix", prefix, check=False, user=lk_users["oper"])
    assert p.returncode != 0 and one_line_error(p)
    assert list(prefix.iterdir()) == []


def test_lifekeeper_pl_reads_tunables_as_lkd_does(tmp_path):
    """A script run by hand gets its tunables from LifeKeeper.pl alone: the values must be
    those lkd gives a script it runs (src/lib/tunables.c, a shell's reading): an inline
    comment is not part of the value, quotes and backslashes are the shell's, and a line
    lkd refuses sets nothing."""
    root = tmp_path / "root"
    (root / "etc" / "default").mkdir(parents=True)
    (root / "lib" / "perl").mkdir(parents=True)
    (root / "etc" / "default" / "LifeKeeper").write_text(
        "KT_BARE=120  # seconds\n"
        "KT_DQ=\"a b\" # comment\n"
        "export KT_SQ='x y'\n"
        "KT_ESC=\"say \\\"hi\\\" \\$HOME\"\n"
        "KT_CAT='a'\"b\"c\n"
        "KT_BS=a\\ b\n"
        "KT_EMPTY=\n"
        "KT_DOLLAR=$HOME\n"
        "KT_BAD=a b\n"
        "KT_SEMI=a;b\n")
    code = ("BEGIN { require $ENV{KT_ENTRY}; } "
            "print join('|', map { defined $ENV{$_} ? \"[$ENV{$_}]\" : 'undef' } "
            "qw(KT_BARE KT_DQ KT_SQ KT_ESC KT_CAT KT_BS KT_EMPTY KT_DOLLAR KT_BAD KT_SEMI))")
    env = _clean_env()
    env.update({"LKROOT": str(root),
                "KT_ENTRY": str(REPO / "perl" / "LifeKeeper.pl")})
    p = subprocess.run(["perl", "-e", code], capture_output=True, text=True, env=env,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("|") == ["[120]", "[a b]", "[x y]", '[say "hi" $HOME]', "[abc]",
                                   "[a b]", "[]", "[$HOME]", "undef", "undef"]
