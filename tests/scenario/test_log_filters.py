"""The `log` command's filters (severity, number, before, node), applied by lkd in SQL and,
with cluster:true, by every peer asked ("events?" carries them): each filter returns exactly
the matching events, the newest n of them; a bad filter value is refused with one line and
nothing read. lkweb's /api/v1/events pages ask with them (test_web_api.py)."""

import time

from test_resource_settings_containment import request
from test_why_cluster import extended_app

ALL = 1000  # more than these tests write


def log(asker, **args):
    reply = request(asker, "log", dict({"n": ALL}, **args))
    assert reply["ok"] is True, reply
    return reply["data"]["events"]


def write(node, marks):
    """lk_err events (severity, number), a distinct millisecond each."""
    for sev, number in marks:
        node.lk_err("-c", sev, "-n", str(number), f"mark {number} {sev}", check=True)
        time.sleep(0.01)


def key(e):
    return (e["node"], e["time_ms"], e["number"], e["severity"], e["message"])


def check_filters(asker, cluster=False):
    extra = {"cluster": True} if cluster else {}
    every = log(asker, **extra)
    assert len(every) < ALL, "the test's events must all fit"
    nodes = {e["node"] for e in every}
    mine = [e for e in every if 9300 <= e["number"] < 9310]
    assert mine, every
    for sev in ("ERROR", "WARNING", "INFO"):
        got = log(asker, severity=sev, **extra)
        assert [key(e) for e in got] == [key(e) for e in every if e["severity"] == sev], sev
    got = log(asker, number=9301, **extra)
    want = [key(e) for e in every if e["number"] == 9301]
    assert len(want) == 2 * len(nodes) and [key(e) for e in got] == want, got
    cut = [e for e in mine if e["number"] == 9303][-1]["time_ms"]
    got = log(asker, before=cut, **extra)
    assert got and [key(e) for e in got] == [key(e) for e in every if e["time_ms"] < cut], got
    for name in nodes:
        got = log(asker, node=name, severity="INFO", **extra)
        want = [key(e) for e in every if e["node"] == name and e["severity"] == "INFO"]
        assert got and [key(e) for e in got] == want, name
    # n bounds the matching ones: the newest.
    got = log(asker, number=9301, n=1, **extra)
    assert [key(e) for e in got] == [key(e) for e in every if e["number"] == 9301][-1:], got
    got = log(asker, severity="WARNING", number=9302, before=cut, **extra)
    want = [key(e) for e in every
            if e["severity"] == "WARNING" and e["number"] == 9302 and e["time_ms"] < cut]
    assert got and [key(e) for e in got] == want, got


MARKS = [("INFO", 9301), ("WARNING", 9302), ("ERROR", 9303), ("INFO", 9301), ("WARNING", 9302)]


def test_log_filters_on_one_node(node):
    write(node, MARKS)
    check_filters(node)


def test_log_filters_with_cluster_over_two_nodes(cluster):
    n1, n2 = cluster.build(2)
    extended_app(cluster, n1, n2)
    for m in MARKS:
        write(n1, [m])
        write(n2, [m])
    every = log(n1, cluster=True)
    assert {"node1", "node2"} <= {e["node"] for e in every}, every
    check_filters(n1, cluster=True)
    check_filters(n2, cluster=True)


def test_log_refuses_bad_filters_with_one_line(node):
    bad = [{"severity": "DEBUG"}, {"severity": 1}, {"number": -1}, {"number": 1000000000},
           {"number": "5"}, {"before": 0}, {"before": "x"}, {"before": -3},
           {"node": "no/such node"}, {"node": 7}]
    for args in bad:
        for extra in ({}, {"cluster": True}):
            reply = request(node, "log", dict({"n": 5}, **args, **extra))
            assert reply["ok"] is False, (args, reply)
            assert reply["error"] and "\n" not in reply["error"], reply
            assert list(args)[0] in reply["error"], reply
    reply = request(node, "log", {"n": 5, "follow": True, "severity": "INFO"})
    assert reply["ok"] is False and "--follow" in reply["error"], reply


def test_lkcli_log_severity_and_number(node):
    write(node, MARKS)
    got = node.cli_json("log", "-n", "1000", "--severity", "WARNING", "--number", "9302")
    assert [e["number"] for e in got] == [9302, 9302], got
    got = node.cli_json("log", "-n", "1", "--severity", "INFO")
    assert len(got) == 1 and got[0]["number"] == 9301, got
    for args in (["--severity", "DEBUG"], ["--number", "-1"], ["--number", "1000000000"]):
        p = node.cli("log", *args, check=False)
        assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, (args, p.stderr)
