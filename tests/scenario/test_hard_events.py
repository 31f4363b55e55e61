"""Events under a flood (issue 11, item 4; docs/DESIGN.md "Hardening: events under a
flood"). A keyless client that sends bad frames to the comm port made one event per
dropped frame (375 per second), which pushed the whole history out of the database, so
`why` forgot the last incident. Now:

- repeats of a node-level warning from one source are folded: the first 10 go out at
  once, the rest are counted and summarised once per 10 s ("... (repeated N times in the
  last 10 s)"), while the "dropped" counters of `commpath list` still count every frame;
- the event table keeps each severity's newest events apart, so an error-level incident
  stays in `lkcli log` and `why` after a flood;
- lk.log is rotated beyond [node] log-max-size into lk.log.1 .. lk.log.<log-keep>, and a
  bad value of either key refuses the start with one line.
"""

import re
import socket
import time

from cluster import wait_eq, wait_for
from conftest import one_line_error

FRAME_DROPPED, RESTORE_FAILED = 1604, 1202
BURST = 10  # events of a kind and source written before the folding starts (aggregate.h)
GARBAGE = b"GET / HTTP/1.0\r\n\r\n"
REPEATED = re.compile(r"\(repeated (\d+) times? in the last 10 s\)$")


def flood(node, count):
    """count keyless connections to node's comm port, each with one bad frame, as fast as
    they go: each is dropped (the stream cannot be trusted after a bad frame)."""
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", node.port), timeout=10)
        try:
            s.sendall(GARBAGE)
            # Wait for lkd to close it: one stranger at a time stays under the comm
            # port's limit per source address (a refused one would not be read).
            while s.recv(4096):
                pass
        except OSError:
            pass
        finally:
            s.close()


def malformed(node):
    """Frames from unidentified senders counted as malformed (`commpath list --json`)."""
    return sum(e["dropped"].get("malformed", 0) for e in node.commpaths() if e["name"] is None)


def stranger_events(node):
    return [e for e in node.events(FRAME_DROPPED) if "127.0.0.1" in e["message"]]


def folded_count(events):
    """How many dropped frames the events account for: one each, or a summary's N."""
    total = 0
    for e in events:
        m = REPEATED.search(e["message"])
        total += int(m.group(1)) if m else 1
    return total


def test_a_flood_of_bad_frames_is_one_event_and_summaries(cluster):
    n1, n2 = cluster.build(2)
    base_events = len(stranger_events(n1))
    base_dropped = malformed(n1)
    count = 2000
    t0 = time.monotonic()
    flood(n1, count)
    wait_for(lambda: malformed(n1) >= base_dropped + count, timeout=120,
             what="every frame of the flood counted as dropped")
    elapsed = time.monotonic() - t0
    # Every frame is accounted for: the first event and the summaries' counts (a summary
    # goes out at the end of each 10 s interval).
    wait_for(lambda: folded_count(stranger_events(n1)[base_events:]) >= count, timeout=60,
             what="the summary of the flood's dropped frames")
    new = stranger_events(n1)[base_events:]
    assert folded_count(new) == count, [e["message"] for e in new]
    # A burst of events, then at most one summary per 10 s of flood (and one for the last
    # part).
    plain = [e for e in new if not REPEATED.search(e["message"])]
    summaries = [e for e in new if REPEATED.search(e["message"])]
    assert len(plain) == BURST, [e["message"] for e in new]
    assert new[:BURST] == plain, [e["message"] for e in new]
    assert 1 <= len(summaries) <= int(elapsed / 10) + 2, [e["message"] for e in new]
    # Summaries are events like the others: in lk.log and of the same number.
    text = (n1.root / "log" / "lk.log").read_text(errors="replace")
    assert re.search(r" 1604 -: dropped a frame from 127\.0\.0\.1: .*\(repeated \d+ times", text)
    assert n1.peer_state(n2) == "ALIVE"


def test_an_error_incident_survives_a_flood(cluster):
    """A failed restore, then more bad frames than the database used to keep events: the
    failure is still in `lkcli log` and `lkcli resource why`."""
    n1, n2 = cluster.build(2)
    app = cluster.app("app1")
    app.fail_on(n1)
    n1.create("app1", app.restore, app.remove, "--quickchk", app.quickchk, check=False)
    wait_for(lambda: n1.events(RESTORE_FAILED, tag="app1"), what="app1's restore failed")
    wait_eq(lambda: n1.state("app1"), "OSF", what="app1 OSF on node1")

    base_dropped = malformed(n1)
    count = 10500  # beyond the 10 000 events the database kept in all
    flood(n1, count)
    wait_for(lambda: malformed(n1) >= base_dropped + count, timeout=300,
             what="every frame of the flood counted as dropped")

    failed = [e for e in n1.events() if e["number"] == RESTORE_FAILED]
    assert failed and failed[-1]["tag"] == "app1", "the failed restore left `lkcli log`"
    why = n1.cli_json("resource", "why", "--tag", "app1")
    assert why["root_cause"] and why["root_cause"]["number"] == RESTORE_FAILED, why
    text = n1.cli("resource", "why", "--tag", "app1").stdout
    assert "no incident recorded" not in text, text
    # The flood itself left a handful of events, not thousands.
    assert len(stranger_events(n1)) < 50


def test_an_error_outlives_a_flood_of_infos(make_node):
    """Events that are never folded (a script's lk_err messages): more infos than a
    severity keeps, after a failed restore. The infos push only infos out; the failure
    stays in `lkcli log --tag` and `why`."""
    n = make_node("n1")
    n.start()
    n.create("app1", n.script("#!/bin/sh\necho cannot start app1\nexit 1\n"),
             n.script("#!/bin/sh\nexit 0\n"), check=False)
    wait_for(lambda: n.log_events(tag="app1") and any(
        e["number"] == RESTORE_FAILED for e in n.log_events(tag="app1")),
        what="app1's restore failed")
    count = 10500  # beyond the 10 000 events the database kept in all
    p = n.run(["bash", "-c", f"seq 1 {count} | xargs -P 4 -I{{}} {n.bin('lk_err')} --root "
                             f"{n.root} -c INFO -n 9100 'flood {{}}'"], timeout=900)
    assert p.returncode == 0, p.stderr[-2000:]
    last = n.log_events(n=5)
    assert [e for e in last if e["number"] == 9100], last
    assert [e for e in n.log_events(tag="app1") if e["number"] == RESTORE_FAILED], \
        "the failed restore left the database"
    why = n.cli_json("resource", "why", "--tag", "app1")
    assert why["root_cause"] and why["root_cause"]["number"] == RESTORE_FAILED, why


def set_node_keys(node, **keys):
    conf = node.root / "etc" / "lk.conf"
    lines = conf.read_text().splitlines(keepends=True)
    names = [k.replace("_", "-") for k in keys]
    lines = [ln for ln in lines if not any(ln.startswith(n + " ") for n in names)]
    i = next(i for i, ln in enumerate(lines) if ln.startswith("name ="))
    for name, value in zip(names, keys.values()):
        lines.insert(i + 1, f"{name} = {value}\n")
    conf.write_text("".join(lines))


def test_lk_log_is_rotated_at_its_configured_size(make_node):
    n = make_node("n1")
    n.start()
    n.stop()
    set_node_keys(n, log_max_size="16K", log_keep="3")
    n.start()
    log = n.root / "log"
    body = "x" * 900
    total = 80  # about 75 KiB: four rotations and more
    for i in range(total):
        n.lk_err("-c", "INFO", "-n", "9100", f"line {i:04d} {body}", check=True)
    wait_for(lambda: (log / "lk.log.3").exists(), what="lk.log.3 after a few rotations")
    assert not (log / "lk.log.4").exists()
    # Each file ends at the first event past the size: bounded by the size and one event.
    for name in ("lk.log", "lk.log.1", "lk.log.2", "lk.log.3"):
        assert (log / name).stat().st_size < 16 * 1024 + 2048, name

    def numbers(name):
        return [int(m) for m in re.findall(r": line (\d{4}) x", (log / name).read_text())]

    newest, older = numbers("lk.log"), numbers("lk.log.1")
    # The newest line is in lk.log, the lines before it in lk.log.1, .2, .3 in order.
    assert newest and newest[-1] == total - 1, newest
    assert older and older[-1] < newest[0], (older, newest)
    assert numbers("lk.log.2")[-1] < older[0]
    assert numbers("lk.log.3")[-1] < numbers("lk.log.2")[0]
    # The database keeps what the files rotated away.
    assert len([e for e in n.log_events() if e["number"] == 9100]) == total
    # A rewrite of lk.conf keeps the keys.
    n.cli("cluster", "config", "--heartbeat-misses", "4")
    text = (n.root / "etc" / "lk.conf").read_text()
    assert "log-max-size = 16384\n" in text and "log-keep = 3\n" in text, text


def test_bad_log_rotation_keys_refuse_the_start(make_node):
    n = make_node("n1")
    n.start()
    n.stop()
    for key, value, words in (("log_max_size", "1K", "16K to 4G"),
                              ("log_max_size", "ten", "16K to 4G"),
                              ("log_max_size", "5T", "16K to 4G"),
                              ("log_keep", "0", "1 to 100"),
                              ("log_keep", "-1", "1 to 100")):
        set_node_keys(n, **{key: value})
        p = n.run([n.bin("lkstart"), "--root", n.root])
        line = one_line_error(p)
        name = key.replace("_", "-")
        assert f"invalid {name} '{value}'" in line and words in line, line
        assert "lk.conf" in line, line
        assert not n.daemon_running()
        set_node_keys(n, **{key: "5" if key == "log_keep" else "10M"})
    n.start()
    assert n.daemon_running()
