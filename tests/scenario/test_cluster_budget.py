"""Cluster: the failover budget (issue 9, "Failures accumulate into an outage").

Two nodes, default max-failovers (nodes - 1 = 1 within 6 h). What counts against the
budget is a failover; an operator's switchover or `lkcli resource reset` starts it afresh,
the hand-back after a failed planned switchover is not a failover, and the nodes whose
restore failed are forgotten once the hierarchy runs again. Status shows the budget in
words.

Real daemons and real scripts (tests/helpers/cluster.py); every wait has a generous bound
and no assertion depends on timing. The application is killed, never lkd: an application
failure that monitoring cannot repair (no recover script) fails the hierarchy over."""

import os
import signal

from cluster import holds, wait_eq, wait_for

QUIET = 3  # seconds a "stays so" condition must keep holding
FRESH = "0 of 1 failovers used in the last 6 h"
SPENT = "1 of 1 failovers used in the last 6 h: the next failure leaves it out of service"


def extended_app(cluster, holder, other, tag="app1"):
    """app1 in service on holder (priority 1), extended to other (priority 2), checked
    every 0.5 s, without a recover script."""
    app = cluster.app(tag)
    # The failing check detects the death (the cgroup watch, issue 10, would first).
    holder.create(tag, app.restore, app.remove, "--quickchk", app.quickchk,
                  "--quickchk-interval", "0.5", "--watch", "none")
    wait_for(lambda: app.runs_only_on(holder), what=f"{tag} on {holder.name}")
    holder.cli("resource", "extend", "--tag", tag, "--node", other.name, "--priority", "2")
    wait_eq(lambda: other.state(tag), "OSU", what=f"{tag} extended to {other.name}")
    return app


def budget(node, tag="app1"):
    """The failover budget status shows for tag's hierarchy on node."""
    for h in node.status()["hierarchies"]:
        if h["tag"] == tag:
            return h.get("budget")
    return None


def kill_app(app, node):
    """The application dies on node (lkd stays): a failure its quickchk finds."""
    [pid] = app.nodes()[node.name]
    os.kill(pid, signal.SIGKILL)


def fail_over(app, frm, to):
    kill_app(app, frm)
    wait_for(lambda: app.runs_only_on(to), what=f"app1 failed over from {frm.name} to {to.name}")
    wait_eq(lambda: to.state("app1"), "ISP", what=f"app1 ISP on {to.name}")


def no_limit(*nodes):
    return not any(n.has_event(1622) or n.has_event(1624) for n in nodes)


def test_switchback_by_the_operator_starts_the_budget_afresh(cluster):
    n1, n2 = cluster.build(2)
    app = extended_app(cluster, n1, n2)
    wait_eq(lambda: budget(n1), FRESH, what="a fresh budget on node1")
    assert "failover budget: " + FRESH in n1.cli("status").stdout

    fail_over(app, n1, n2)
    wait_eq(lambda: budget(n2), SPENT, what="the budget spent, seen on node2")
    wait_eq(lambda: budget(n1), SPENT, what="the budget spent, seen on node1")
    assert "failover budget: " + SPENT in n2.cli("status").stdout

    # The operator puts it back on node1: a switchover, which starts the budget afresh.
    n2.cli("resource", "restore", "--tag", "app1", "--node", "node1")
    wait_for(lambda: app.runs_only_on(n1), what="app1 switched back to node1")
    wait_eq(lambda: n1.state("app1"), "ISP")
    wait_eq(lambda: budget(n1), FRESH, what="the operator's switchover reset the budget")

    # The next failure fails over again instead of leaving it out of service (1622).
    fail_over(app, n1, n2)
    assert n2.has_event(1620) or n1.has_event(1620)
    holds(lambda: app.runs_only_on(n2), QUIET, what="app1 stays on node2")
    assert no_limit(n1, n2), n1.log_text() + n2.log_text()
    wait_eq(lambda: budget(n2), SPENT)

    # Now the budget is spent: the next failure leaves it out of service (1622), and the
    # refusal says first what failed where, then the budget.
    kill_app(app, n2)
    wait_for(lambda: n2.has_event(1622), what="event 1622 (failover limit) on node2")
    msg = n2.events(1622)[-1]["message"]
    assert msg.startswith("app1 failed on node2: quickchk failed"), msg
    assert "1 of 1 failovers used in the last 6 h" in msg, msg
    holds(lambda: not app.nodes(), QUIET, what="app1 out of service after the limit")


def test_reset_clears_the_budget_and_the_failed_node_is_tried_again(cluster):
    n1, n2 = cluster.build(2)
    app = extended_app(cluster, n1, n2)
    fail_over(app, n1, n2)
    wait_eq(lambda: budget(n2), SPENT, what="the budget spent")

    n2.cli("resource", "reset", "--tag", "app1")
    wait_eq(lambda: budget(n2), FRESH, what="reset cleared the budget on node2")
    wait_eq(lambda: budget(n1), FRESH, what="node1 learns the cleared budget")

    # It fails on node2 now: node1, where it failed before, may have it again (that
    # failover is over: it ran on node2 since), within the fresh budget.
    fail_over(app, n2, n1)
    holds(lambda: app.runs_only_on(n1), QUIET, what="app1 stays on node1")
    assert no_limit(n1, n2), n1.log_text() + n2.log_text()


def test_failed_planned_switchover_hands_back_without_a_failover(cluster):
    n1, n2 = cluster.build(2)
    app = extended_app(cluster, n1, n2)
    app.fail_on(n2)  # restore refuses on node2

    p = n1.cli("resource", "restore", "--tag", "app1", "--node", "node2", check=False)
    assert p.returncode != 0, p.stdout + p.stderr
    wait_for(lambda: app.runs_only_on(n1), what="app1 handed back to node1")
    wait_eq(lambda: n1.state("app1"), "ISP", what="app1 ISP on node1 again")
    wait_eq(lambda: n2.state("app1"), "OSF", what="the failed restore left OSF on node2")
    wait_eq(lambda: budget(n1), FRESH, what="the hand-back did not count as a failover")

    # node2 is repaired; a real failure on node1 still has its failover.
    app.fail_on(n2, False)
    fail_over(app, n1, n2)
    holds(lambda: app.runs_only_on(n2), QUIET, what="app1 stays on node2")
    assert not n1.has_event(1622) and not n2.has_event(1622), n1.log_text() + n2.log_text()
    wait_eq(lambda: budget(n2), SPENT)


def test_restore_where_it_runs_starts_the_budget_afresh(cluster):
    n1, n2 = cluster.build(2)
    app = extended_app(cluster, n1, n2)
    fail_over(app, n1, n2)
    wait_eq(lambda: budget(n2), SPENT, what="the budget spent")

    # The operator restores it where it already runs: nothing moves, the budget starts
    # afresh (docs/CLUSTER.md: an operator's restore starts it afresh).
    n2.cli("resource", "restore", "--tag", "app1")
    wait_eq(lambda: budget(n2), FRESH, what="the restore on node2 reset the budget")
    wait_eq(lambda: budget(n1), FRESH, what="node1 learns the fresh budget")
    assert app.runs_only_on(n2)

    # The next failure fails over again instead of leaving it out of service (1622).
    fail_over(app, n2, n1)
    holds(lambda: app.runs_only_on(n1), QUIET, what="app1 stays on node1")
    assert no_limit(n1, n2), n1.log_text() + n2.log_text()


def test_restore_for_the_holder_typed_on_another_node_starts_the_budget_afresh(cluster):
    n1, n2 = cluster.build(2)
    app = extended_app(cluster, n1, n2)
    fail_over(app, n1, n2)
    wait_eq(lambda: budget(n1), SPENT, what="the budget spent, seen on node1")

    # Typed on node1 for node2, which already runs it: nothing moves, and node2 (the
    # holder, the only one that writes its record) starts the budget afresh.
    n1.cli("resource", "restore", "--tag", "app1", "--node", "node2")
    wait_eq(lambda: budget(n2), FRESH, what="node2 reset the budget asked by node1")
    wait_eq(lambda: budget(n1), FRESH, what="node1 learns the fresh budget")
    assert app.runs_only_on(n2)

    # The next failure fails over again instead of leaving it out of service (1622).
    fail_over(app, n2, n1)
    holds(lambda: app.runs_only_on(n1), QUIET, what="app1 stays on node1")
    assert no_limit(n1, n2), n1.log_text() + n2.log_text()


def test_orphan_takeover_after_lkstop_is_not_refused_by_a_spent_budget(cluster):
    """lkstop is not a failure: bringing up a hierarchy whose holder left with lkstop (the
    orphan rule, 1627) neither counts in the budget nor is refused by a spent one."""
    n1, n2, n3 = cluster.build(3)
    app = extended_app(cluster, n1, n2)
    n1.cli("resource", "extend", "--tag", "app1", "--node", "node3", "--priority", "3")
    wait_eq(lambda: n3.state("app1"), "OSU", what="app1 extended to node3")
    fail_over(app, n1, n2)
    fail_over(app, n2, n1)  # node1, where it failed before, is tried again: in service since
    spent = "2 of 2 failovers used in the last 6 h: the next failure leaves it out of service"
    wait_eq(lambda: budget(n1), spent, what="the budget spent")

    n1.stop()  # the holder leaves: not a failure, nobody takes it over yet
    wait_for(lambda: not app.nodes(), what="app1 stopped by lkstop")
    n3.stop(force=True)
    n3.start()  # a node starts: the best live node (node2) brings the orphan up
    wait_for(lambda: app.runs_only_on(n2), what="the orphan rule on node2")
    wait_eq(lambda: n2.state("app1"), "ISP", what="app1 ISP on node2")
    holds(lambda: app.runs_only_on(n2), QUIET, what="app1 stays on node2")
    assert not n2.has_event(1622) and not n3.has_event(1622), n2.log_text() + n3.log_text()
    wait_eq(lambda: budget(n2), spent, what="the orphan did not count as a failover")
