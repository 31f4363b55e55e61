"""The LifeKeeper names of the script copies (issue 14, part F): every copy is also a file at
LifeKeeper's path (actions/!restore/TAG, !remove, !quickCheck, !deepCheck,
recovery/!recover/TAG) on every node the resource is defined on; a write there (in-place
`cp -f`, a rename into the directory) is an update-script of that action, replicated to
every node; a refused write is put back with an event; a file written in two steps is
never taken half; a stray file is removed; a removed file is put back; lkd start writes the
missing files of existing resources."""

import os
import shutil
import signal
import stat
import subprocess
import time

from cluster import wait_for

LK_DIRS = {
    "restore": "actions/!restore",
    "remove": "actions/!remove",
    "quickchk": "actions/!quickCheck",
    "deepchk": "actions/!deepCheck",
    "recover": "recovery/!recover",
}
TAKEN, REFUSED, UNKNOWN, PUT_BACK = 1755, 1756, 1757, 1758
SCRIPT_UPDATED = 1103


def lk_file(node, action, tag):
    return node.root / "subsys" / "gen" / "resources" / "app" / LK_DIRS[action] / tag


def read(path):
    try:
        return path.read_bytes()
    except OSError:
        return None


def cp_f(src, dst):
    """LifeKeeper's update scripts: `cp -vf script .../!restore/TAG` (an in-place write)."""
    subprocess.run(["cp", "-vf", str(src), str(dst)], check=True, capture_output=True,
                   timeout=30)


def two_nodes(cluster, tag="app1"):
    n1, n2 = cluster.build(2)
    app = cluster.app(tag)
    n1.create(tag, app.restore, app.remove, "--quickchk", app.quickchk, "--no-in-service")
    n1.cli("resource", "extend", "--tag", tag, "--node", "node2", "--priority", "2")
    wait_for(lambda: n2.state(tag) == "OSU", what=f"{tag} defined on node2")
    wait_for(lambda: read(lk_file(n2, "restore", tag)) is not None,
             what="node2's LifeKeeper restore file")
    return n1, n2, app


def v2_of(app, word="v2"):
    v2 = app.dir / f"restore.{word}"
    v2.write_text(app.restore.read_text().replace(f'echo "restore {app.tag} $LK_NODE"',
                                                  f'echo "restore {app.tag} $LK_NODE {word}"'))
    v2.chmod(0o755)
    return v2


def test_copies_written_at_lifekeeper_names_on_every_node_and_removed_with_them(cluster):
    n1, n2, app = two_nodes(cluster)
    for n in (n1, n2):
        for action, src in (("restore", app.restore), ("remove", app.remove),
                            ("quickchk", app.quickchk)):
            f = lk_file(n, action, "app1")
            st = os.lstat(f)
            assert stat.S_ISREG(st.st_mode), f"{f} is not a regular file"
            assert stat.S_IMODE(st.st_mode) == 0o700, oct(st.st_mode)
            assert f.read_bytes() == src.read_bytes() == n.script_copy(action, "app1").read_bytes()
            assert os.stat(f).st_ino != os.stat(n.script_copy(action, "app1")).st_ino
        assert not lk_file(n, "deepchk", "app1").exists()
        assert not lk_file(n, "recover", "app1").exists()

    # Unextending node2 removes its files; deleting removes node1's.
    n1.cli("resource", "unextend", "--tag", "app1", "--node", "node2")
    wait_for(lambda: not lk_file(n2, "restore", "app1").exists()
             and not lk_file(n2, "quickchk", "app1").exists(), what="node2's files removed")
    n1.cli("resource", "delete", "--tag", "app1")
    for action in LK_DIRS:
        assert not lk_file(n1, action, "app1").exists(), action
    assert n1.copies() == {}


def test_cp_f_on_node1_updates_every_node_and_the_next_restore_runs_it(cluster):
    n1, n2, app = two_nodes(cluster)
    v2 = v2_of(app)
    cp_f(v2, lk_file(n1, "restore", "app1"))

    for n in (n1, n2):
        wait_for(lambda n=n: read(n.script_copy("restore", "app1")) == v2.read_bytes(),
                 what=f"{n.name}'s restore copy replaced")
        wait_for(lambda n=n: read(lk_file(n, "restore", "app1")) == v2.read_bytes(),
                 what=f"{n.name}'s LifeKeeper restore file replaced")
    assert n1.has_event(TAKEN, "!restore/app1")
    assert n1.has_event(SCRIPT_UPDATED, "restore")
    st = os.lstat(lk_file(n1, "restore", "app1"))
    assert stat.S_IMODE(st.st_mode) == 0o700

    n1.cli("resource", "restore", "--tag", "app1", "--node", "node2")
    wait_for(lambda: app.runs_only_on(n2), what="app1 in service on node2")
    assert "restore app1 node2 v2" in cluster.journal_lines()


def test_a_write_survives_a_definition_arriving_before_it_is_taken(cluster):
    """SIOS's update script writes the file, then at once changes the info (here on the
    other node, so that the definition arrives from a peer within the settle time): the
    definition, whose scripts are unchanged, must not put the old script back over the
    administrator's write."""
    n1, n2, app = two_nodes(cluster)
    v2 = v2_of(app)
    cp_f(v2, lk_file(n1, "restore", "app1"))
    n2.cli("resource", "config", "--tag", "app1", "--app-info", "changed on node2")
    for n in (n1, n2):
        wait_for(lambda n=n: read(n.script_copy("restore", "app1")) == v2.read_bytes(),
                 what=f"{n.name}'s restore copy replaced despite the info change")
    assert n1.has_event(TAKEN, "!restore/app1")


def test_write_on_node2_replicates_to_node1_and_an_action_can_be_added(cluster):
    n1, n2, app = two_nodes(cluster)
    v3 = v2_of(app, "v3")
    # A rename into the directory (as lcdrcp's atomic write does), from another node's
    # point of view: node2's file.
    tmp = lk_file(n2, "restore", "app1").parent / ".incoming"
    shutil.copyfile(v3, tmp)
    os.rename(tmp, lk_file(n2, "restore", "app1"))
    wait_for(lambda: read(n1.script_copy("restore", "app1")) == v3.read_bytes(),
             what="node1's restore copy replaced from node2's write")
    wait_for(lambda: read(lk_file(n1, "restore", "app1")) == v3.read_bytes(),
             what="node1's LifeKeeper restore file replaced")
    assert n2.has_event(TAKEN, "!restore/app1")

    # A file for an action the resource lacks adds it, as update-script would.
    deep = app.dir / "deepchk"
    deep.write_text("#!/bin/sh\nexit 0\n")
    cp_f(deep, lk_file(n1, "deepchk", "app1"))
    wait_for(lambda: read(n2.script_copy("deepchk", "app1")) == deep.read_bytes(),
             what="the deep check added on node2")


def test_invalid_script_refused_with_an_event_and_the_file_put_back(cluster):
    n1, n2, app = two_nodes(cluster)
    before = app.restore.read_bytes()
    bad = app.dir / "bad"
    bad.write_text("echo no interpreter line\n")
    cp_f(bad, lk_file(n1, "restore", "app1"))
    wait_for(lambda: n1.has_event(REFUSED, "!restore/app1"), what="the refusal event")
    ev = [e for e in n1.events(REFUSED) if "!restore/app1" in e["message"]][-1]
    assert ev["severity"].lower() == "error", ev
    assert "#!" in ev["message"] or "interpreter" in ev["message"], ev["message"]
    assert "put back" in ev["message"], ev["message"]
    wait_for(lambda: read(lk_file(n1, "restore", "app1")) == before,
             what="the LifeKeeper file put back")
    assert n1.script_copy("restore", "app1").read_bytes() == before
    assert n2.script_copy("restore", "app1").read_bytes() == before
    assert not n1.has_event(TAKEN)

    # A group-writable file is refused too (anyone in the group could change the script).
    good = v2_of(app)
    target = lk_file(n1, "remove", "app1")
    tmp = target.parent / ".g"
    shutil.copyfile(good, tmp)
    os.chmod(tmp, 0o775)
    os.rename(tmp, target)
    wait_for(lambda: n1.has_event(REFUSED, "!remove/app1"), what="the refusal event")
    wait_for(lambda: read(target) == app.remove.read_bytes(), what="!remove put back")


def test_a_file_written_in_two_steps_is_never_taken_half(cluster):
    n1, n2, app = two_nodes(cluster)
    half = b"#!/bin/sh\necho half >> /dev/null\n"
    whole = half + b"echo whole >> /dev/null\nexit 0\n"
    target = lk_file(n1, "quickchk", "app1")
    # Both halves are valid scripts: only the watcher waiting for the writer tells them
    # apart. In place, as cp -f writes, with a pause of five settle times in between.
    with open(target, "r+b") as f:
        f.truncate(0)
        f.write(half)
        f.flush()
        os.fsync(f.fileno())
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            for n in (n1, n2):
                assert read(n.script_copy("quickchk", "app1")) != half, "taken half"
            time.sleep(0.05)
        f.write(whole[len(half):])
    for n in (n1, n2):
        wait_for(lambda n=n: read(n.script_copy("quickchk", "app1")) == whole,
                 what=f"{n.name}'s quick check copy replaced by the whole file")
    taken = [e for e in n1.events(TAKEN) if "!quickCheck/app1" in e["message"]]
    assert len(taken) == 1, taken
    assert str(len(whole)) in taken[0]["message"]


def test_same_content_is_nothing_stray_files_removed_removed_files_put_back(cluster):
    n1, n2, app = two_nodes(cluster)
    # The same content: nothing. Shown by a later write whose event arrives: the first
    # would have been logged before it.
    cp_f(app.remove, lk_file(n1, "remove", "app1"))
    v2 = v2_of(app)
    cp_f(v2, lk_file(n1, "restore", "app1"))
    wait_for(lambda: n1.has_event(TAKEN, "!restore/app1"), what="the restore taken")
    assert not n1.has_event(TAKEN, "!remove/app1")

    # A file for no resource defined here: removed, with an event.
    stray = lk_file(n1, "restore", "nosuch")
    stray.write_text("#!/bin/sh\nexit 0\n")
    wait_for(lambda: not stray.exists(), what="the stray file removed")
    assert n1.has_event(UNKNOWN, "nosuch")
    # Temporary names (a dot first) are left alone.
    tmp = lk_file(n1, "restore", ".scratch")
    tmp.write_text("#!/bin/sh\nexit 0\n")

    # A removed file comes back from the copy.
    os.unlink(lk_file(n2, "quickchk", "app1"))
    wait_for(lambda: read(lk_file(n2, "quickchk", "app1")) == app.quickchk.read_bytes(),
             what="node2's !quickCheck put back")
    assert n2.has_event(PUT_BACK, "!quickCheck/app1")
    assert tmp.exists()


def test_start_writes_missing_files_and_takes_a_write_made_while_stopped(cluster):
    n1, n2, app = two_nodes(cluster)
    n2.stop(force=True)
    cluster.wait_dead([n1], n2)
    # As after an upgrade from a version without them: node2's files are missing.
    for action in ("restore", "remove", "quickchk"):
        os.unlink(lk_file(n2, action, "app1"))
    # And node1's administrator replaced a script while node1's lkd is stopped.
    v2 = v2_of(app)
    n1.stop(force=True)
    shutil.copyfile(v2, lk_file(n1, "restore", "app1"))
    n1.start()
    wait_for(lambda: read(n1.script_copy("restore", "app1")) == v2.read_bytes(),
             what="node1 took the write made while it was stopped")
    n2.start()
    wait_for(lambda: read(lk_file(n2, "quickchk", "app1")) == app.quickchk.read_bytes(),
             what="node2 wrote its missing files")
    wait_for(lambda: read(lk_file(n2, "restore", "app1")) == v2.read_bytes()
             and read(n2.script_copy("restore", "app1")) == v2.read_bytes(),
             what="node2 got the new restore script")
    assert read(lk_file(n2, "remove", "app1")) == app.remove.read_bytes()
    assert not n2.has_event(PUT_BACK)


def test_killed_between_the_copy_and_its_lifekeeper_name_the_old_file_is_not_taken(cluster):
    """lkd killed after it wrote a new copy (update-script, or a peer's definition) but
    before it wrote the LifeKeeper name: the next start finds the old script there, older
    than the copy. It is put back from the copy, not taken as an administrator's write (which
    would put the old script back on every node)."""
    n1, n2, app = two_nodes(cluster)
    v2 = v2_of(app)
    n1.stop(force=True)
    time.sleep(0.05)
    # The state such a kill leaves: the copy new, the LifeKeeper name as it was.
    shutil.copyfile(v2, n1.script_copy("restore", "app1"))
    assert read(lk_file(n1, "restore", "app1")) == app.restore.read_bytes()
    n1.start()
    wait_for(lambda: read(lk_file(n1, "restore", "app1")) == v2.read_bytes(),
             what="node1's !restore put back from the copy")
    assert read(n1.script_copy("restore", "app1")) == v2.read_bytes()
    assert not n1.has_event(TAKEN)
    # node2 keeps its script: nothing old was replicated.
    time.sleep(0.5)
    assert read(n2.script_copy("restore", "app1")) == app.restore.read_bytes()
    assert not n2.has_event(SCRIPT_UPDATED)


def test_a_file_being_written_is_not_taken_half_after_an_overflow(node):
    """The watch's queue overflows (lkd stopped while thousands of notifications come) while
    a writer holds a file half written: the look at everything that follows leaves that file
    to its own wait for the writer's close."""
    restore = node.script("#!/bin/sh\necho restore\nexit 0\n")
    remove = node.script("#!/bin/sh\nexit 0\n")
    node.create("app1", restore, remove, "--no-in-service")
    path = lk_file(node, "restore", "app1")
    wait_for(lambda: read(path) is not None, what="the LifeKeeper restore file")
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, b"#!/bin/sh\necho half\n")
        time.sleep(0.5)
        pid = node.daemon_pid()
        os.kill(pid, signal.SIGSTOP)
        try:
            # Two names in turn: consecutive identical notifications would be merged.
            j = [os.open(path.parent / n, os.O_WRONLY | os.O_CREAT, 0o600)
                 for n in (".j1", ".j2")]
            for i in range(17000):
                os.write(j[i % 2], b"x")
            for f in j:
                os.close(f)
        finally:
            os.kill(pid, signal.SIGCONT)
        time.sleep(1.5)
        assert TAKEN not in [e["number"] for e in node.log_events()], "taken half"
        os.write(fd, b"echo whole\nexit 0\n")
    finally:
        os.close(fd)
    whole = b"#!/bin/sh\necho half\necho whole\nexit 0\n"
    wait_for(lambda: read(node.script_copy("restore", "app1")) == whole,
             what="the whole file taken")
