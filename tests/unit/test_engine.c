/* Unit tests for engine.c, in the style of Pacemaker's scheduler regression tests: one
 * table of cases, each a resource (state, pending action, intent, check scripts, init
 * strategy), one event, and the plan the engine must produce, written exactly as
 * lk_act_format prints it. One loop runs every case and prints, for each mismatch, the
 * case's name with the expected and the actual lines.
 *
 * The table follows the rows documented at the top of src/lib/engine.c: error cases
 * first, then one block per event type. A few scenario tests after it chain decisions
 * (plan → resource → next event) the way the executor does. Pure: no loop, no files. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decision_check.h"
#include "engine.h"

#define LK_TEST_PLAN_MAX 64
#define SEC              1000000ULL
#define LINE_MAX_LEN     (LK_REASON_MAX + 128)

/* Check scripts a case's resource has, besides restore and remove (always present). */
#define NOCHK 0u
#define Q     (1u << LK_ACTION_QUICKCHK)
#define D     (1u << LK_ACTION_DEEPCHK)
#define QD    (Q | D)
#define R     (1u << LK_ACTION_RECOVER)

/* Monitoring cases: "now" on the monotonic clock, far enough from 0 that recoveries
 * hours ago fit before it. */
#define NOW (100000 * SEC)

#define IN  true
#define OUT false

struct engine_case {
    const char *name;
    struct {
        enum lk_state state;
        enum lk_pending pending;
        bool target_in_service;
        unsigned checks;
        enum lk_init init;
    } res;
    struct {
        enum lk_event_type type;
        const char *tag; /* NULL: the case's resource, "app1" */
        enum lk_action action;
        struct lk_result result;
        uint64_t now_usec;
        int pid;
        const char *detail;
        bool preempt;
    } ev;
    int ret;
    const char *plan[LK_TEST_PLAN_MAX + 1]; /* NULL-terminated */
    /* More of the resource, for the monitoring rows; zero means the default. */
    struct {
        uint32_t failures;   /* check failures in a row so far */
        uint32_t recoveries; /* local recoveries so far */
        const char *reason;  /* NULL: PRIOR */
        bool monitor_off;
        bool local_recovery_off;
        bool timeout_fail;       /* monitor-timeout-action fail */
        uint32_t check_failures; /* 0: the default (1) */
        uint32_t max_recoveries; /* 0: the default (3) */
        uint32_t window;         /* recovery-window in s; 0: the default (600) */
        uint32_t ago[8];         /* local recoveries that started this many s before NOW */
        bool holding;            /* the view: resumed after a freeze, peers not heard */
        bool stop_failed;        /* a remove failed before: may still run */
        bool unable;             /* its type was not installed here */
        bool not_configured;     /* its type said it is not configured */
    } with;
};

#define RES(st, pend, target, checks, init)                                                        \
    .res = {LK_STATE_##st, LK_PENDING_##pend, target, checks, LK_INIT_##init}
#define EVENT(t)           .ev = {.type = LK_EV_##t}
#define EVENT_TAG(t, name) .ev = {.type = LK_EV_##t, .tag = (name)}
#define FINISHED(act, ...)                                                                         \
    .ev = {.type = LK_EV_RUN_FINISHED,                                                             \
           .action = LK_ACTION_##act,                                                              \
           .result = {__VA_ARGS__, .duration_usec = 1234 * 1000, .pid = 4321}}
#define OK             .outcome = LK_OUTCOME_SUCCESS, .exit_status = 0
#define EXIT(n)        .outcome = LK_OUTCOME_EXIT, .exit_status = (n)
#define KILLED(sig)    .outcome = LK_OUTCOME_SIGNAL, .term_signal = (sig)
#define TIMEOUT(s)     .outcome = LK_OUTCOME_TIMEOUT, .timeout_usec = SEC * (s)
#define EXEC_FAILED(e) .outcome = LK_OUTCOME_EXEC_FAILED, .exec_errno = (e)
#define PLAN(...)      .plan = {__VA_ARGS__, NULL}
/* A result its type classified (issue 13): exit status n, verdict v, the agent's reason. */
#define VERDICT(v, n)                                                                              \
    .outcome = LK_OUTCOME_EXIT, .exit_status = (n), .verdict = LK_VERDICT_##v, .exit_reason = "why"
#define WITH(...) .with = {__VA_ARGS__}
/* A scheduled check of app1 ended at NOW. */
#define CHECKED(act, ...)                                                                          \
    .ev = {.type = LK_EV_CHECK_FINISHED,                                                           \
           .action = LK_ACTION_##act,                                                              \
           .result = {__VA_ARGS__, .duration_usec = 1234 * 1000, .pid = 4321},                     \
           .now_usec = NOW,                                                                        \
           .pid = 2100}
/* The process of app1's pidfile exited, noticed at NOW. */
#define EXITED(p, file)                                                                            \
    .ev = {.type = LK_EV_PROCESS_EXITED, .now_usec = NOW, .pid = (p), .detail = (file)}
/* app1's cgroup became empty (the cgroup watch), noticed at NOW: EXITED(0, CGROUP). */
#define CGROUP "/sys/fs/cgroup/unified/lkd/openkeeper/n1-5f3a/app1.res"
#define L1512                                                                                      \
    "LOG app1 1512 WARNING every process of the resource exited (its cgroup " CGROUP " is empty)"
#define TIMEOUT_USEC(u) .outcome = LK_OUTCOME_TIMEOUT, .timeout_usec = (u)
/* The cluster removes app1's hierarchy: another node holds it now (issue 9). */
#define PREEMPT         .ev = {.type = LK_EV_REMOVE_REQUESTED, .preempt = true}
#define NOTHING         .plan = {NULL}

/* A state set by hand (ins_setstate) with the operator's reason (NULL: none), and the
 * events it logs. */
#define SET_BY_HAND(t, why) .ev = {.type = LK_EV_##t, .detail = (why)}
#define SET_IN(st, why)                                                                            \
    "LOG app1 1745 INFO state set to " st " by hand (" why                                         \
    "): restore not run, monitoring follows the state"
#define SET_OUT(why)                                                                               \
    "LOG app1 1746 INFO state set to OSU by hand (" why                                            \
    "): remove not run, the application is left as it is, unmonitored"

/* The reason every case's resource starts with; a commit that only changes the intent
 * keeps it. */
#define PRIOR "prior reason"

/* The three acts that start a restore or a remove, as lk_act_format prints them. */
#define START_RESTORE(st)                                                                          \
    "COMMIT app1 " #st " pending=restore target=in reason=restore in progress",                    \
            "LOG app1 1200 INFO restore started", "RUN app1 restore"
#define START_REMOVE(st, target)                                                                   \
    "COMMIT app1 " #st " pending=remove target=" #target " reason=remove in progress",             \
            "LOG app1 1203 INFO remove started", "RUN app1 remove"
#define INTERRUPTED(what)                                                                          \
    "LOG app1 1003 WARNING " what " was interrupted by a daemon stop or crash; finishing it "      \
    "safely"
#define PROBE_IMPOSSIBLE                                                                           \
    "LOG app1 1212 WARNING no quickchk or deepchk script to probe with at start-up; running "      \
    "restore"

/* Monitoring: a failed quickchk (n of m in a row), the cause it gives, the three acts that
 * start a recover, the two of the failover seam on a node with no backup, a check timeout
 * in the SPEC's words, the reset's event. */
#define QFAILED(n, m)                                                                              \
    "LOG app1 1500 WARNING quickchk failed: exit status 1 (" #n " of " #m " in a row)"
#define QCAUSE "quickchk failed: exit status 1"
#define START_RECOVER(cause, recoveries)                                                           \
    "COMMIT app1 ISP pending=recover target=in failures=0 recoveries=" #recoveries                 \
    " +recovery reason=" cause "; recover in progress",                                            \
            "LOG app1 1501 WARNING " cause "; running recover", "RUN app1 recover"
#define FAIL_OVER(cause, counters)                                                                 \
    "COMMIT app1 OSF pending=fail-remove target=in" counters " reason=" cause                      \
    "; no backup node to fail over to",                                                            \
            "LOG app1 1505 ERROR resource failed (" cause                                          \
            "); no backup node to fail over to: OSF",                                              \
            "LOG app1 1203 INFO remove started", "RUN app1 remove"
#define T1517(kind, secs)                                                                          \
    "LOG app1 1517 WARNING Process: lkd(2100) *WARNING* (No. 1517) System Failure Detected! " kind \
    " Check process (PID=4321) did not return in " secs " seconds for resource app1 Aborting "     \
    "check process. (Partner PID=0)"
#define RESET_LOG "LOG app1 1509 INFO check-failure and local-recovery counters cleared"

static const struct engine_case cases[] = {
        /* Errors: the plan stays empty. */
        {"error/unknown-tag-restore", RES(OSU, NONE, IN, NOCHK, AUTORES_ISP),
         EVENT_TAG(RESTORE_REQUESTED, "nope"), -ENOENT, NOTHING},
        {"error/unknown-tag-startup", RES(ISP, NONE, IN, Q, AUTORES_ISP),
         EVENT_TAG(STARTUP, "nope"), -ENOENT, NOTHING},
        {"error/unknown-tag-run-finished", RES(OSU, RESTORE, IN, NOCHK, AUTORES_ISP),
         EVENT_TAG(RUN_FINISHED, "nope"), -ENOENT, NOTHING},
        {"error/tag-prefix-is-not-the-tag", RES(OSU, NONE, IN, NOCHK, AUTORES_ISP),
         EVENT_TAG(RESTORE_REQUESTED, "app"), -ENOENT, NOTHING},
        {"error/run-finished-nothing-pending-ISP", RES(ISP, NONE, IN, Q, AUTORES_ISP),
         FINISHED(RESTORE, OK), -EINVAL, NOTHING},
        {"error/run-finished-nothing-pending-OSU", RES(OSU, NONE, OUT, Q, AUTORES_ISP),
         FINISHED(REMOVE, EXIT(1)), -EINVAL, NOTHING},
        {"error/unknown-event-type", RES(OSU, NONE, IN, NOCHK, AUTORES_ISP), EVENT(COUNT), -EINVAL,
         NOTHING},

        /* RESTORE_REQUESTED */
        {"restore-requested/OSU", RES(OSU, NONE, OUT, NOCHK, AUTORES_ISP), EVENT(RESTORE_REQUESTED),
         0, PLAN(START_RESTORE(OSU))},
        {"restore-requested/OSF", RES(OSF, NONE, IN, Q, AUTORES_ISP), EVENT(RESTORE_REQUESTED), 0,
         PLAN(START_RESTORE(OSF))},
        {"restore-requested/OSU-INIT_OSU", RES(OSU, NONE, OUT, NOCHK, INIT_OSU),
         EVENT(RESTORE_REQUESTED), 0, PLAN(START_RESTORE(OSU))},
        {"restore-requested/ISP", RES(ISP, NONE, IN, Q, AUTORES_ISP), EVENT(RESTORE_REQUESTED), 0,
         NOTHING},
        {"restore-requested/ISU", RES(ISU, NONE, IN, Q, AUTORES_ISP), EVENT(RESTORE_REQUESTED), 0,
         NOTHING},
        {"restore-requested/ISP-intent-out", RES(ISP, NONE, OUT, Q, AUTORES_ISP),
         EVENT(RESTORE_REQUESTED), 0, PLAN("COMMIT app1 ISP pending=- target=in reason=" PRIOR)},
        {"restore-requested/busy-restore", RES(OSU, RESTORE, IN, NOCHK, AUTORES_ISP),
         EVENT(RESTORE_REQUESTED), 0,
         PLAN("REFUSE app1 resource 'app1' is busy: restore in progress")},
        {"restore-requested/busy-remove", RES(ISP, REMOVE, OUT, NOCHK, AUTORES_ISP),
         EVENT(RESTORE_REQUESTED), 0,
         PLAN("REFUSE app1 resource 'app1' is busy: remove in progress")},
        {"restore-requested/busy-probe", RES(ISP, PROBE, IN, Q, AUTORES_ISP),
         EVENT(RESTORE_REQUESTED), 0,
         PLAN("REFUSE app1 resource 'app1' is busy: probe in progress")},

        /* REMOVE_REQUESTED */
        {"remove-requested/ISP", RES(ISP, NONE, IN, Q, AUTORES_ISP), EVENT(REMOVE_REQUESTED), 0,
         PLAN(START_REMOVE(ISP, out))},
        {"remove-requested/ISU", RES(ISU, NONE, IN, Q, AUTORES_ISP), EVENT(REMOVE_REQUESTED), 0,
         PLAN(START_REMOVE(ISU, out))},
        {"remove-requested/OSU-intent-in", RES(OSU, NONE, IN, NOCHK, AUTORES_ISP),
         EVENT(REMOVE_REQUESTED), 0, PLAN("COMMIT app1 OSU pending=- target=out reason=" PRIOR)},
        {"remove-requested/OSU-intent-out", RES(OSU, NONE, OUT, NOCHK, AUTORES_ISP),
         EVENT(REMOVE_REQUESTED), 0, NOTHING},
        {"remove-requested/OSF", RES(OSF, NONE, IN, NOCHK, AUTORES_ISP), EVENT(REMOVE_REQUESTED), 0,
         PLAN(START_REMOVE(OSF, out))},
        {"remove-requested/OSF-stop-failed", RES(OSF, NONE, IN, NOCHK, AUTORES_ISP),
         WITH(.stop_failed = true), EVENT(REMOVE_REQUESTED), 0,
         PLAN("COMMIT app1 OSF pending=remove target=out stop-failed reason=remove in progress",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},
        {"remove-requested/busy-fail-remove", RES(OSF, FAIL_REMOVE, IN, NOCHK, AUTORES_ISP),
         EVENT(REMOVE_REQUESTED), 0,
         PLAN("REFUSE app1 resource 'app1' is busy: fail-remove in progress")},
        /* REMOVE_REQUESTED with preempt (the cluster's): never refused for busy; queued
         * restores dropped, running actions finish first with the intent "out" */
        {"remove-requested/preempt-ISP", RES(ISP, NONE, IN, Q, AUTORES_ISP), PREEMPT, 0,
         PLAN(START_REMOVE(ISP, out))},
        {"remove-requested/preempt-OSF", RES(OSF, NONE, IN, Q, AUTORES_ISP), PREEMPT, 0,
         PLAN(START_REMOVE(OSF, out))},
        {"remove-requested/preempt-OSU-intent-in", RES(OSU, NONE, IN, Q, AUTORES_ISP), PREEMPT, 0,
         PLAN("COMMIT app1 OSU pending=- target=out reason=" PRIOR)},
        {"remove-requested/preempt-OSU-intent-out", RES(OSU, NONE, OUT, Q, AUTORES_ISP), PREEMPT, 0,
         NOTHING},
        {"remove-requested/preempt-restore-wait", RES(OSU, RESTORE_WAIT, IN, Q, AUTORES_ISP),
         PREEMPT, 0,
         PLAN("COMMIT app1 OSU pending=- target=out reason=restore not started: the hierarchy was "
              "removed")},
        {"remove-requested/preempt-restore-running", RES(OSU, RESTORE, IN, Q, AUTORES_ISP), PREEMPT,
         0, PLAN("COMMIT app1 OSU pending=restore target=out reason=" PRIOR)},
        {"remove-requested/preempt-recover-running", RES(ISP, RECOVER, IN, Q | R, AUTORES_ISP),
         PREEMPT, 0, PLAN("COMMIT app1 ISP pending=recover target=out reason=" PRIOR)},
        {"remove-requested/preempt-cleanup-running", RES(OSF, CLEANUP, IN, Q, AUTORES_ISP), PREEMPT,
         0, PLAN("COMMIT app1 OSF pending=cleanup target=out reason=" PRIOR)},
        {"remove-requested/preempt-remove-of-lkstop", RES(ISP, REMOVE, IN, Q, AUTORES_ISP), PREEMPT,
         0, PLAN("COMMIT app1 ISP pending=remove target=out reason=" PRIOR)},
        {"remove-requested/preempt-remove-running", RES(ISP, REMOVE, OUT, Q, AUTORES_ISP), PREEMPT,
         0, NOTHING},
        {"remove-requested/preempt-remove-wait", RES(ISP, REMOVE_WAIT, OUT, Q, AUTORES_ISP),
         PREEMPT, 0, NOTHING},
        {"remove-requested/preempt-probe-running", RES(ISP, PROBE, IN, Q, AUTORES_ISP), PREEMPT, 0,
         NOTHING},
        {"remove-requested/preempt-fail-remove-running", RES(OSF, FAIL_REMOVE, IN, Q, AUTORES_ISP),
         PREEMPT, 0, NOTHING},
        {"remove-requested/preempt-fail-remove-wait",
         RES(OSF, FAIL_REMOVE_WAIT, IN, Q, AUTORES_ISP), PREEMPT, 0, NOTHING},
        {"remove-requested/busy-restore", RES(OSU, RESTORE, IN, NOCHK, AUTORES_ISP),
         EVENT(REMOVE_REQUESTED), 0,
         PLAN("REFUSE app1 resource 'app1' is busy: restore in progress")},
        {"remove-requested/busy-remove", RES(ISP, REMOVE, OUT, NOCHK, AUTORES_ISP),
         EVENT(REMOVE_REQUESTED), 0,
         PLAN("REFUSE app1 resource 'app1' is busy: remove in progress")},
        {"remove-requested/busy-probe", RES(ISP, PROBE, IN, D, AUTORES_ISP),
         EVENT(REMOVE_REQUESTED), 0,
         PLAN("REFUSE app1 resource 'app1' is busy: probe in progress")},

        /* RUN_FINISHED: restore */
        {"run-finished/restore-ok", RES(OSU, RESTORE, IN, NOCHK, AUTORES_ISP),
         FINISHED(RESTORE, OK), 0,
         PLAN("COMMIT app1 ISP pending=- target=in reason=restore action has succeeded",
              "LOG app1 1201 INFO restore action has succeeded (1234 ms)")},
        {"run-finished/restore-exit-1", RES(OSU, RESTORE, IN, NOCHK, AUTORES_ISP),
         FINISHED(RESTORE, EXIT(1)), 0,
         PLAN("COMMIT app1 OSF pending=fail-remove target=in reason=restore action failed: exit "
              "status 1",
              "LOG app1 1202 ERROR restore action failed: exit status 1",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},
        {"run-finished/restore-signal", RES(OSF, RESTORE, IN, NOCHK, AUTORES_ISP),
         FINISHED(RESTORE, KILLED(SIGKILL)), 0,
         PLAN("COMMIT app1 OSF pending=fail-remove target=in reason=restore action failed: "
              "killed by signal 9 (SIGKILL)",
              "LOG app1 1202 ERROR restore action failed: killed by signal 9 (SIGKILL)",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},
        {"run-finished/restore-timeout", RES(OSU, RESTORE, IN, NOCHK, AUTORES_ISP),
         FINISHED(RESTORE, TIMEOUT(300)), 0,
         PLAN("COMMIT app1 OSF pending=fail-remove target=in reason=restore action failed: timed "
              "out after 300 s",
              "LOG app1 1202 ERROR restore action failed: timed out after 300 s",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},
        {"run-finished/restore-not-found", RES(OSU, RESTORE, IN, NOCHK, AUTORES_ISP),
         FINISHED(RESTORE, EXEC_FAILED(ENOENT)), 0,
         PLAN("COMMIT app1 OSF pending=fail-remove target=in reason=restore action failed: could "
              "not execute: script not found",
              "LOG app1 1202 ERROR restore action failed: could not execute: script not found",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},

        /* RUN_FINISHED: remove (target as committed when the remove started) */
        {"run-finished/remove-ok", RES(ISP, REMOVE, OUT, NOCHK, AUTORES_ISP), FINISHED(REMOVE, OK),
         0,
         PLAN("COMMIT app1 OSU pending=- target=out reason=remove action has succeeded",
              "LOG app1 1204 INFO remove action has succeeded (1234 ms)")},
        {"run-finished/remove-ok-after-shutdown", RES(ISP, REMOVE, IN, NOCHK, AUTORES_ISP),
         FINISHED(REMOVE, OK), 0,
         PLAN("COMMIT app1 OSU pending=- target=in reason=remove action has succeeded",
              "LOG app1 1204 INFO remove action has succeeded (1234 ms)")},
        {"run-finished/remove-exit-2", RES(ISP, REMOVE, OUT, NOCHK, AUTORES_ISP),
         FINISHED(REMOVE, EXIT(2)), 0,
         PLAN("COMMIT app1 OSF pending=- target=out stop-failed reason=remove failed: may still be "
              "running (exit status 2)",
              "LOG app1 1205 ERROR remove action failed: exit status 2")},
        {"run-finished/remove-timeout", RES(OSF, REMOVE, OUT, NOCHK, AUTORES_ISP),
         FINISHED(REMOVE, TIMEOUT(5)), 0,
         PLAN("COMMIT app1 OSF pending=- target=out stop-failed reason=remove failed: may still be "
              "running (timed out after 5 s)",
              "LOG app1 1205 ERROR remove action failed: timed out after 5 s")},

        {"run-finished/remove-ok-clears-stop-failed", RES(OSF, REMOVE, OUT, NOCHK, AUTORES_ISP),
         WITH(.stop_failed = true), FINISHED(REMOVE, OK), 0,
         PLAN("COMMIT app1 OSU pending=- target=out reason=remove action has succeeded",
              "LOG app1 1204 INFO remove action has succeeded (1234 ms)")},
        {"run-finished/remove-failed-after-shutdown", RES(ISP, REMOVE, IN, NOCHK, AUTORES_ISP),
         FINISHED(REMOVE, EXIT(1)), 0,
         PLAN("COMMIT app1 OSF pending=- target=in stop-failed reason=remove failed: may still be "
              "running (exit status 1)",
              "LOG app1 1205 ERROR remove action failed: exit status 1")},

        /* RUN_FINISHED: the remove after a failure (check, restore, recover): OSF either way,
         * the cause kept; a failed one says the application may still run */
        {"run-finished/fail-remove-ok", RES(OSF, FAIL_REMOVE, IN, Q, AUTORES_ISP),
         WITH(.reason = QCAUSE "; failing over to a backup node"), FINISHED(REMOVE, OK), 0,
         PLAN("COMMIT app1 OSF pending=- target=in reason=" QCAUSE
              "; failing over to a backup node",
              "LOG app1 1204 INFO remove action has succeeded (1234 ms)")},
        {"run-finished/fail-remove-ok-clears-stop-failed",
         RES(OSF, FAIL_REMOVE, IN, Q, AUTORES_ISP),
         WITH(.stop_failed = true, .reason = "restore action failed: exit status 1"),
         FINISHED(REMOVE, OK), 0,
         PLAN("COMMIT app1 OSF pending=- target=in reason=restore action failed: exit status 1",
              "LOG app1 1204 INFO remove action has succeeded (1234 ms)")},
        {"run-finished/fail-remove-failed", RES(OSF, FAIL_REMOVE, IN, Q, AUTORES_ISP),
         WITH(.reason = QCAUSE "; no backup node to fail over to"), FINISHED(REMOVE, EXIT(1)), 0,
         PLAN("COMMIT app1 OSF pending=- target=in stop-failed reason=remove failed: may still be "
              "running (exit status 1); after: " QCAUSE "; no backup node to fail over to",
              "LOG app1 1205 ERROR remove action failed: exit status 1")},
        {"run-finished/fail-remove-timeout", RES(OSF, FAIL_REMOVE, OUT, Q, AUTORES_ISP),
         WITH(.reason = "restore action failed: exit status 1"), FINISHED(REMOVE, TIMEOUT(5)), 0,
         PLAN("COMMIT app1 OSF pending=- target=out stop-failed reason=remove failed: may still be "
              "running (timed out after 5 s); after: restore action failed: exit status 1",
              "LOG app1 1205 ERROR remove action failed: timed out after 5 s")},
        {"run-finished/fail-remove-wrong-action", RES(OSF, FAIL_REMOVE, IN, Q, AUTORES_ISP),
         FINISHED(RESTORE, OK), -EINVAL, NOTHING},
        {"run-finished/fail-remove-wait-is-not-running",
         RES(OSF, FAIL_REMOVE_WAIT, IN, Q, AUTORES_ISP), FINISHED(REMOVE, OK), -EINVAL, NOTHING},
        {"run-finished/restore-ok-keeps-stop-failed", RES(OSF, RESTORE, IN, NOCHK, AUTORES_ISP),
         WITH(.stop_failed = true), FINISHED(RESTORE, OK), 0,
         PLAN("COMMIT app1 ISP pending=- target=in stop-failed reason=restore action has succeeded",
              "LOG app1 1201 INFO restore action has succeeded (1234 ms)")},
        {"run-finished/restore-failed-with-intent-out", RES(OSU, RESTORE, OUT, NOCHK, AUTORES_ISP),
         FINISHED(RESTORE, EXIT(1)), 0,
         PLAN("COMMIT app1 OSF pending=fail-remove target=out reason=restore action failed: exit "
              "status 1",
              "LOG app1 1202 ERROR restore action failed: exit status 1",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},

        /* RUN_FINISHED after a preempt (intent "out" while the action ran): out again */
        {"run-finished/restore-ok-after-preempt", RES(OSU, RESTORE, OUT, Q, AUTORES_ISP),
         FINISHED(RESTORE, OK), 0,
         PLAN("COMMIT app1 ISP pending=remove target=out reason=remove in progress",
              "LOG app1 1201 INFO restore action has succeeded (1234 ms)",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},
        {"run-finished/recover-ok-after-preempt", RES(ISP, RECOVER, OUT, Q | R, AUTORES_ISP),
         WITH(.recoveries = 1), FINISHED(RECOVER, OK), 0,
         PLAN("COMMIT app1 ISP pending=remove target=out failures=0 recoveries=1 reason=remove in "
              "progress",
              "LOG app1 1502 INFO recovered in place by recover (1234 ms); restore not run",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},
        {"run-finished/cleanup-ok-after-preempt", RES(OSF, CLEANUP, OUT, Q, AUTORES_ISP),
         FINISHED(REMOVE, OK), 0,
         PLAN("COMMIT app1 OSU pending=- target=out reason=remove action has succeeded",
              "LOG app1 1204 INFO remove action has succeeded (1234 ms)")},

        /* RUN_FINISHED: probe, for each init strategy */
        {"run-finished/probe-ok-AUTORES_ISP", RES(ISP, PROBE, IN, Q, AUTORES_ISP),
         FINISHED(QUICKCHK, OK), 0,
         PLAN("COMMIT app1 ISP pending=- target=in reason=in service: quickchk at start-up "
              "succeeded; restore not needed",
              "LOG app1 1210 INFO quickchk at start-up succeeded: the application runs, "
              "restore not needed")},
        {"run-finished/probe-ok-INIT_ISP-deepchk", RES(OSU, PROBE, IN, D, INIT_ISP),
         FINISHED(DEEPCHK, OK), 0,
         PLAN("COMMIT app1 ISP pending=- target=in reason=in service: deepchk at start-up "
              "succeeded; restore not needed",
              "LOG app1 1210 INFO deepchk at start-up succeeded: the application runs, "
              "restore not needed")},
        {"run-finished/probe-ok-INIT_OSU", RES(ISP, PROBE, OUT, Q, INIT_OSU),
         FINISHED(QUICKCHK, OK), 0,
         PLAN("COMMIT app1 ISP pending=- target=in reason=in service: quickchk at start-up "
              "succeeded; restore not needed",
              "LOG app1 1210 INFO quickchk at start-up succeeded: the application runs, "
              "restore not needed")},
        {"run-finished/probe-failed-AUTORES_ISP", RES(ISP, PROBE, IN, Q, AUTORES_ISP),
         FINISHED(QUICKCHK, EXIT(1)), 0,
         PLAN("LOG app1 1211 WARNING quickchk at start-up failed: exit status 1",
              "COMMIT app1 OSF pending=cleanup target=in reason=quickchk at start-up failed: "
              "exit status 1; removing before restore",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},
        {"run-finished/probe-failed-INIT_ISP", RES(OSU, PROBE, IN, D, INIT_ISP),
         FINISHED(DEEPCHK, TIMEOUT(5)), 0,
         PLAN("LOG app1 1211 WARNING deepchk at start-up failed: timed out after 5 s",
              "COMMIT app1 OSF pending=cleanup target=in reason=deepchk at start-up failed: "
              "timed out after 5 s; removing before restore",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},
        {"run-finished/cleanup-ok-restores", RES(OSF, CLEANUP, IN, Q, AUTORES_ISP),
         FINISHED(REMOVE, OK), 0,
         PLAN("LOG app1 1204 INFO remove action has succeeded (1234 ms)", START_RESTORE(OSF))},
        {"run-finished/cleanup-failed-is-OSF", RES(OSF, CLEANUP, IN, Q, AUTORES_ISP),
         FINISHED(REMOVE, EXIT(1)), 0,
         PLAN("COMMIT app1 OSF pending=- target=in stop-failed reason=remove failed: may still be "
              "running (exit status 1)",
              "LOG app1 1205 ERROR remove action failed: exit status 1")},
        {"run-finished/cleanup-ok-clears-stop-failed", RES(OSF, CLEANUP, IN, Q, AUTORES_ISP),
         WITH(.stop_failed = true), FINISHED(REMOVE, OK), 0,
         PLAN("LOG app1 1204 INFO remove action has succeeded (1234 ms)", START_RESTORE(OSF))},
        {"run-finished/wrong-action-for-pending", RES(OSU, RESTORE, IN, Q, AUTORES_ISP),
         FINISHED(REMOVE, OK), -EINVAL, NOTHING},
        {"run-finished/probe-failed-INIT_OSU", RES(ISP, PROBE, IN, Q, INIT_OSU),
         FINISHED(QUICKCHK, EXIT(7)), 0,
         PLAN("LOG app1 1211 WARNING quickchk at start-up failed: exit status 7",
              START_REMOVE(ISP, out))},

        /* STARTUP: an interrupted action */
        {"startup/pending-remove", RES(ISP, REMOVE, OUT, Q, AUTORES_ISP), EVENT(STARTUP), 0,
         PLAN(INTERRUPTED("remove"), START_REMOVE(ISP, out))},
        {"startup/pending-fail-remove", RES(OSF, FAIL_REMOVE, IN, Q, AUTORES_ISP),
         WITH(.reason = QCAUSE "; failing over to a backup node"), EVENT(STARTUP), 0,
         PLAN(INTERRUPTED("remove"),
              "COMMIT app1 OSF pending=fail-remove target=in reason=" QCAUSE
              "; failing over to a backup node",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},
        {"startup/pending-fail-remove-wait", RES(OSF, FAIL_REMOVE_WAIT, IN, Q, INIT_ISP),
         WITH(.reason = "restore action failed: exit status 1", .stop_failed = true),
         EVENT(STARTUP), 0,
         PLAN("COMMIT app1 OSF pending=fail-remove target=in stop-failed reason=restore action "
              "failed: exit status 1",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},
        {"startup/pending-remove-from-shutdown", RES(ISP, REMOVE, IN, Q, AUTORES_ISP),
         EVENT(STARTUP), 0,
         PLAN(INTERRUPTED("remove"),
              "COMMIT app1 ISP pending=probe target=in reason=probing with quickchk after start",
              "RUN app1 quickchk")},
        {"startup/pending-restore", RES(OSU, RESTORE, IN, QD, AUTORES_ISP), EVENT(STARTUP), 0,
         PLAN(INTERRUPTED("restore"),
              "COMMIT app1 OSU pending=probe target=in reason=probing with quickchk after start",
              "RUN app1 quickchk")},
        {"startup/pending-restore-no-check", RES(OSU, RESTORE, IN, NOCHK, AUTORES_ISP),
         EVENT(STARTUP), 0, PLAN(INTERRUPTED("restore"), PROBE_IMPOSSIBLE, START_RESTORE(OSU))},
        {"startup/pending-restore-no-check-INIT_OSU", RES(OSU, RESTORE, IN, NOCHK, INIT_OSU),
         EVENT(STARTUP), 0, PLAN(INTERRUPTED("restore"), START_REMOVE(OSU, out))},
        {"startup/pending-probe", RES(ISP, PROBE, IN, D, AUTORES_ISP), EVENT(STARTUP), 0,
         PLAN(INTERRUPTED("probe"),
              "COMMIT app1 ISP pending=probe target=in reason=probing with deepchk after start",
              "RUN app1 deepchk")},

        /* STARTUP: in service before the daemon stopped (a crash, or no lkstop) */
        {"startup/ISP-quickchk", RES(ISP, NONE, IN, Q, AUTORES_ISP), EVENT(STARTUP), 0,
         PLAN("COMMIT app1 ISP pending=probe target=in reason=probing with quickchk after start",
              "RUN app1 quickchk")},
        {"startup/ISP-quickchk-preferred-over-deepchk", RES(ISP, NONE, IN, QD, INIT_OSU),
         EVENT(STARTUP), 0,
         PLAN("COMMIT app1 ISP pending=probe target=in reason=probing with quickchk after start",
              "RUN app1 quickchk")},
        {"startup/ISP-only-deepchk", RES(ISP, NONE, IN, D, AUTORES_ISP), EVENT(STARTUP), 0,
         PLAN("COMMIT app1 ISP pending=probe target=in reason=probing with deepchk after start",
              "RUN app1 deepchk")},
        {"startup/ISU-quickchk", RES(ISU, NONE, IN, Q, AUTORES_ISP), EVENT(STARTUP), 0,
         PLAN("COMMIT app1 ISU pending=probe target=in reason=probing with quickchk after start",
              "RUN app1 quickchk")},
        {"startup/ISP-no-check-AUTORES_ISP", RES(ISP, NONE, IN, NOCHK, AUTORES_ISP), EVENT(STARTUP),
         0, PLAN(PROBE_IMPOSSIBLE, START_RESTORE(ISP))},
        {"startup/ISP-no-check-INIT_ISP", RES(ISP, NONE, IN, NOCHK, INIT_ISP), EVENT(STARTUP), 0,
         PLAN(PROBE_IMPOSSIBLE, START_RESTORE(ISP))},
        {"startup/ISP-no-check-INIT_OSU", RES(ISP, NONE, IN, NOCHK, INIT_OSU), EVENT(STARTUP), 0,
         PLAN(START_REMOVE(ISP, out))},

        /* STARTUP: out of service */
        {"startup/OSU-intent-in-AUTORES_ISP", RES(OSU, NONE, IN, Q, AUTORES_ISP), EVENT(STARTUP), 0,
         PLAN(START_RESTORE(OSU))},
        {"startup/OSU-intent-out-AUTORES_ISP", RES(OSU, NONE, OUT, Q, AUTORES_ISP), EVENT(STARTUP),
         0, NOTHING},
        {"startup/OSU-intent-out-INIT_ISP", RES(OSU, NONE, OUT, NOCHK, INIT_ISP), EVENT(STARTUP), 0,
         PLAN(START_RESTORE(OSU))},
        {"startup/OSU-intent-in-INIT_OSU", RES(OSU, NONE, IN, Q, INIT_OSU), EVENT(STARTUP), 0,
         NOTHING},
        {"startup/OSF-AUTORES_ISP", RES(OSF, NONE, IN, Q, AUTORES_ISP), EVENT(STARTUP), 0, NOTHING},
        {"startup/OSF-INIT_OSU", RES(OSF, NONE, IN, Q, INIT_OSU), EVENT(STARTUP), 0, NOTHING},
        {"startup/OSF-INIT_ISP", RES(OSF, NONE, OUT, Q, INIT_ISP), EVENT(STARTUP), 0,
         PLAN(START_RESTORE(OSF))},

        /* SHUTDOWN */
        {"shutdown/ISP", RES(ISP, NONE, IN, Q, AUTORES_ISP), EVENT(SHUTDOWN), 0,
         PLAN(START_REMOVE(ISP, in))},
        {"shutdown/ISP-intent-out", RES(ISP, NONE, OUT, Q, AUTORES_ISP), EVENT(SHUTDOWN), 0,
         PLAN(START_REMOVE(ISP, out))},
        {"shutdown/ISU", RES(ISU, NONE, IN, NOCHK, INIT_OSU), EVENT(SHUTDOWN), 0,
         PLAN(START_REMOVE(ISU, in))},
        {"shutdown/OSU", RES(OSU, NONE, IN, Q, AUTORES_ISP), EVENT(SHUTDOWN), 0, NOTHING},
        {"shutdown/OSF", RES(OSF, NONE, IN, Q, AUTORES_ISP), EVENT(SHUTDOWN), 0, NOTHING},
        {"shutdown/busy-restore", RES(OSU, RESTORE, IN, Q, AUTORES_ISP), EVENT(SHUTDOWN), 0,
         NOTHING},
        {"shutdown/busy-remove", RES(ISP, REMOVE, OUT, Q, AUTORES_ISP), EVENT(SHUTDOWN), 0,
         NOTHING},
        {"shutdown/busy-probe", RES(ISP, PROBE, IN, Q, AUTORES_ISP), EVENT(SHUTDOWN), 0, NOTHING},

        /* Busy with a recover: requests are refused, lkstop waits for it. */
        {"restore-requested/busy-recover", RES(ISP, RECOVER, IN, Q | R, AUTORES_ISP),
         EVENT(RESTORE_REQUESTED), 0,
         PLAN("REFUSE app1 resource 'app1' is busy: recover in progress")},
        {"remove-requested/busy-recover", RES(ISP, RECOVER, IN, Q | R, AUTORES_ISP),
         EVENT(REMOVE_REQUESTED), 0,
         PLAN("REFUSE app1 resource 'app1' is busy: recover in progress")},
        {"shutdown/busy-recover", RES(ISP, RECOVER, IN, Q | R, AUTORES_ISP), EVENT(SHUTDOWN), 0,
         NOTHING},
        {"startup/pending-recover", RES(ISP, RECOVER, IN, Q | R, AUTORES_ISP), EVENT(STARTUP), 0,
         PLAN(INTERRUPTED("recover"),
              "COMMIT app1 ISP pending=probe target=in reason=probing with quickchk after start",
              "RUN app1 quickchk")},

        /* CHECK_FINISHED: success */
        {"check-finished/ok", RES(ISP, NONE, IN, Q | R, AUTORES_ISP), CHECKED(QUICKCHK, OK), 0,
         NOTHING},
        {"check-finished/deepchk-ok", RES(ISP, NONE, IN, D | R, AUTORES_ISP), CHECKED(DEEPCHK, OK),
         0, NOTHING},
        {"check-finished/ok-clears-failures", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.failures = 2, .recoveries = 1, .check_failures = 3), CHECKED(QUICKCHK, OK), 0,
         PLAN("COMMIT app1 ISP pending=- target=in failures=0 recoveries=1 reason=" PRIOR)},

        /* CHECK_FINISHED: failures below check-failures only count */
        {"check-finished/failed-1-of-3", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.check_failures = 3), CHECKED(QUICKCHK, EXIT(1)), 0,
         PLAN(QFAILED(1, 3),
              "COMMIT app1 ISP pending=- target=in failures=1 recoveries=0 reason=" PRIOR)},
        {"check-finished/failed-2-of-3", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.failures = 1, .check_failures = 3), CHECKED(QUICKCHK, EXIT(1)), 0,
         PLAN(QFAILED(2, 3),
              "COMMIT app1 ISP pending=- target=in failures=2 recoveries=0 reason=" PRIOR)},
        {"check-finished/failed-2-of-3-no-recover-script", RES(ISP, NONE, IN, Q, AUTORES_ISP),
         WITH(.failures = 1, .check_failures = 3), CHECKED(QUICKCHK, EXIT(1)), 0,
         PLAN(QFAILED(2, 3),
              "COMMIT app1 ISP pending=- target=in failures=2 recoveries=0 reason=" PRIOR)},

        /* CHECK_FINISHED: at check-failures, recover in place */
        {"check-finished/failed-recovers", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         CHECKED(QUICKCHK, EXIT(1)), 0, PLAN(QFAILED(1, 1), START_RECOVER(QCAUSE, 1))},
        {"check-finished/failed-3-of-3-recovers", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.failures = 2, .recoveries = 1, .check_failures = 3), CHECKED(QUICKCHK, EXIT(1)), 0,
         PLAN(QFAILED(3, 3), START_RECOVER(QCAUSE, 2))},
        {"check-finished/killed-by-signal-recovers", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         CHECKED(QUICKCHK, KILLED(SIGSEGV)), 0,
         PLAN("LOG app1 1500 WARNING quickchk failed: killed by signal 11 (SIGSEGV) (1 of 1 in a "
              "row)",
              START_RECOVER("quickchk failed: killed by signal 11 (SIGSEGV)", 1))},
        {"check-finished/deepchk-failed-recovers", RES(ISP, NONE, IN, QD | R, AUTORES_ISP),
         CHECKED(DEEPCHK, EXIT(1)), 0,
         PLAN("LOG app1 1500 WARNING deepchk failed: exit status 1 (1 of 1 in a row)",
              START_RECOVER("deepchk failed: exit status 1", 1))},

        /* CHECK_FINISHED: no local recovery → the failover seam (OSF on a lone node) */
        {"check-finished/failed-no-recover-script", RES(ISP, NONE, IN, Q, AUTORES_ISP),
         CHECKED(QUICKCHK, EXIT(1)), 0,
         PLAN(QFAILED(1, 1), FAIL_OVER(QCAUSE, " failures=1 recoveries=0"))},
        {"check-finished/failed-local-recovery-off", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.local_recovery_off = true), CHECKED(QUICKCHK, EXIT(1)), 0,
         PLAN(QFAILED(1, 1), FAIL_OVER(QCAUSE, " failures=1 recoveries=0"))},
        {"check-finished/failed-3-of-3-no-recover-script", RES(ISP, NONE, IN, Q, AUTORES_ISP),
         WITH(.failures = 2, .check_failures = 3), CHECKED(QUICKCHK, EXIT(1)), 0,
         PLAN(QFAILED(3, 3), FAIL_OVER(QCAUSE, " failures=3 recoveries=0"))},
        {"check-finished/failed-intent-out-keeps-intent", RES(ISP, NONE, OUT, Q, AUTORES_ISP),
         CHECKED(QUICKCHK, EXIT(1)), 0,
         PLAN(QFAILED(1, 1),
              "COMMIT app1 OSF pending=fail-remove target=out failures=1 recoveries=0 "
              "reason=" QCAUSE "; no backup node to fail over to",
              "LOG app1 1505 ERROR resource failed (" QCAUSE "); no backup node to fail over to: "
              "OSF",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},

        /* CHECK_FINISHED: the recovery-loop limit (max-recoveries within recovery-window) */
        {"check-finished/failed-recovery-limit", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.recoveries = 3, .ago = {10, 100, 500}), CHECKED(QUICKCHK, EXIT(1)), 0,
         PLAN(QFAILED(1, 1),
              "LOG app1 1504 ERROR 3 local recoveries within 600 s: treated as unrecoverable here",
              FAIL_OVER(QCAUSE "; 3 local recoveries within 600 s", " failures=1 recoveries=3"))},
        {"check-finished/failed-recovery-limit-2-in-60", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.recoveries = 5, .max_recoveries = 2, .window = 60, .ago = {3000, 59, 1, 61}),
         CHECKED(QUICKCHK, EXIT(1)), 0,
         PLAN(QFAILED(1, 1),
              "LOG app1 1504 ERROR 2 local recoveries within 60 s: treated as unrecoverable here",
              FAIL_OVER(QCAUSE "; 2 local recoveries within 60 s", " failures=1 recoveries=5"))},
        {"check-finished/failed-old-recoveries-do-not-count",
         RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.recoveries = 3, .max_recoveries = 1, .ago = {600, 601, 5000}),
         CHECKED(QUICKCHK, EXIT(1)), 0, PLAN(QFAILED(1, 1), START_RECOVER(QCAUSE, 4))},
        {"check-finished/failed-window-edge", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.recoveries = 2, .max_recoveries = 2, .ago = {599, 600}), CHECKED(QUICKCHK, EXIT(1)),
         0, PLAN(QFAILED(1, 1), START_RECOVER(QCAUSE, 3))},
        {"check-finished/failed-below-limit-recovers", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.recoveries = 2, .ago = {10, 20}), CHECKED(QUICKCHK, EXIT(1)), 0,
         PLAN(QFAILED(1, 1), START_RECOVER(QCAUSE, 3))},

        /* CHECK_FINISHED: a check that did not return in time (1517) */
        {"check-finished/timeout-ignored", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         CHECKED(QUICKCHK, TIMEOUT(10)), 0, PLAN(T1517("quick", "10"))},
        {"check-finished/timeout-ignored-sub-second", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         CHECKED(QUICKCHK, TIMEOUT_USEC(200000)), 0, PLAN(T1517("quick", "0.2"))},
        {"check-finished/timeout-ignored-keeps-count", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.failures = 1, .check_failures = 2), CHECKED(QUICKCHK, TIMEOUT(10)), 0,
         PLAN(T1517("quick", "10"))},
        {"check-finished/deepchk-timeout-ignored", RES(ISP, NONE, IN, QD | R, AUTORES_ISP),
         CHECKED(DEEPCHK, TIMEOUT(120)), 0, PLAN(T1517("deep", "120"))},
        {"check-finished/timeout-fail-recovers", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.timeout_fail = true), CHECKED(QUICKCHK, TIMEOUT(10)), 0,
         PLAN(T1517("quick", "10"),
              "LOG app1 1500 WARNING quickchk failed: timed out after 10 s (1 of 1 in a row)",
              START_RECOVER("quickchk failed: timed out after 10 s", 1))},
        {"check-finished/timeout-fail-no-recover-script", RES(ISP, NONE, IN, Q, AUTORES_ISP),
         WITH(.timeout_fail = true), CHECKED(QUICKCHK, TIMEOUT(10)), 0,
         PLAN(T1517("quick", "10"),
              "LOG app1 1500 WARNING quickchk failed: timed out after 10 s (1 of 1 in a row)",
              FAIL_OVER("quickchk failed: timed out after 10 s", " failures=1 recoveries=0"))},
        {"check-finished/deepchk-timeout-fail-1-of-2", RES(ISP, NONE, IN, D | R, AUTORES_ISP),
         WITH(.timeout_fail = true, .check_failures = 2), CHECKED(DEEPCHK, TIMEOUT(60)), 0,
         PLAN(T1517("deep", "60"),
              "LOG app1 1500 WARNING deepchk failed: timed out after 60 s (1 of 2 in a row)",
              "COMMIT app1 ISP pending=- target=in failures=1 recoveries=0 reason=" PRIOR)},

        /* CHECK_FINISHED: a result that no longer describes the resource is dropped */
        {"check-finished/not-monitored-OSU", RES(OSU, NONE, IN, Q | R, AUTORES_ISP),
         CHECKED(QUICKCHK, EXIT(1)), 0, NOTHING},
        {"check-finished/not-monitored-OSF", RES(OSF, NONE, IN, Q | R, AUTORES_ISP),
         CHECKED(QUICKCHK, EXIT(1)), 0, NOTHING},
        {"check-finished/not-monitored-OSU-restoring-monitor-off",
         RES(OSU, RESTORE, IN, Q | R, AUTORES_ISP), WITH(.monitor_off = true),
         CHECKED(QUICKCHK, EXIT(1)), 0, NOTHING},
        {"check-finished/not-monitored-ISU", RES(ISU, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.monitor_off = true), CHECKED(QUICKCHK, EXIT(1)), 0, NOTHING},
        {"check-finished/not-monitored-ISU-timeout", RES(ISU, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.monitor_off = true), CHECKED(QUICKCHK, TIMEOUT(10)), 0, NOTHING},
        {"check-finished/not-monitored-recovering", RES(ISP, RECOVER, IN, Q | R, AUTORES_ISP),
         CHECKED(QUICKCHK, EXIT(1)), 0, NOTHING},
        {"check-finished/not-monitored-removing", RES(ISP, REMOVE, OUT, Q | R, AUTORES_ISP),
         CHECKED(DEEPCHK, TIMEOUT(5)), 0, NOTHING},
        {"check-finished/not-monitored-probing", RES(ISP, PROBE, IN, Q | R, AUTORES_ISP),
         CHECKED(QUICKCHK, EXIT(1)), 0, NOTHING},
        {"check-finished/not-a-check", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         CHECKED(RECOVER, EXIT(1)), -EINVAL, NOTHING},

        /* PROCESS_EXITED: the pidfile's process is gone, a failed check at once */
        {"process-exited/recovers", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         EXITED(777, "/run/app.pid"), 0,
         PLAN("LOG app1 1506 WARNING process 777 (pidfile /run/app.pid) exited",
              START_RECOVER("process 777 from pidfile exited", 1))},
        {"process-exited/ignores-check-failures", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.check_failures = 3), EXITED(777, "/run/app.pid"), 0,
         PLAN("LOG app1 1506 WARNING process 777 (pidfile /run/app.pid) exited",
              START_RECOVER("process 777 from pidfile exited", 1))},
        {"process-exited/no-recover-script", RES(ISP, NONE, IN, NOCHK, AUTORES_ISP),
         EXITED(777, "/run/app.pid"), 0,
         PLAN("LOG app1 1506 WARNING process 777 (pidfile /run/app.pid) exited",
              FAIL_OVER("process 777 from pidfile exited", ""))},
        {"process-exited/recovery-limit", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.recoveries = 3, .ago = {1, 2, 3}), EXITED(777, "/run/app.pid"), 0,
         PLAN("LOG app1 1506 WARNING process 777 (pidfile /run/app.pid) exited",
              "LOG app1 1504 ERROR 3 local recoveries within 600 s: treated as unrecoverable here",
              FAIL_OVER("process 777 from pidfile exited; 3 local recoveries within 600 s",
                        " failures=0 recoveries=3"))},
        {"process-exited/not-monitored-OSU", RES(OSU, NONE, IN, Q | R, AUTORES_ISP),
         EXITED(777, "/run/app.pid"), 0, NOTHING},
        {"process-exited/not-monitored-ISU", RES(ISU, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.monitor_off = true), EXITED(777, "/run/app.pid"), 0, NOTHING},
        {"process-exited/during-restore", RES(OSU, RESTORE, IN, Q | R, AUTORES_ISP),
         EXITED(777, "/run/app.pid"), 0, NOTHING},
        {"process-exited/during-recover", RES(ISP, RECOVER, IN, Q | R, AUTORES_ISP),
         EXITED(777, "/run/app.pid"), 0, NOTHING},

        /* PROCESS_EXITED with pid 0: the cgroup watch saw the resource's cgroup empty
         * (issue 10), a failed check at once like a pidfile's process */
        {"cgroup-empty/recovers", RES(ISP, NONE, IN, Q | R, AUTORES_ISP), EXITED(0, CGROUP), 0,
         PLAN(L1512, START_RECOVER("every process of the resource exited", 1))},
        {"cgroup-empty/ignores-check-failures", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.check_failures = 3, .failures = 1), EXITED(0, CGROUP), 0,
         PLAN(L1512, START_RECOVER("every process of the resource exited", 1))},
        {"cgroup-empty/no-recover-script", RES(ISP, NONE, IN, NOCHK, AUTORES_ISP),
         EXITED(0, CGROUP), 0, PLAN(L1512, FAIL_OVER("every process of the resource exited", ""))},
        {"cgroup-empty/local-recovery-off", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.local_recovery_off = true), EXITED(0, CGROUP), 0,
         PLAN(L1512, FAIL_OVER("every process of the resource exited", ""))},
        {"cgroup-empty/recovery-limit", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.recoveries = 3, .ago = {1, 2, 3}), EXITED(0, CGROUP), 0,
         PLAN(L1512,
              "LOG app1 1504 ERROR 3 local recoveries within 600 s: treated as unrecoverable here",
              FAIL_OVER("every process of the resource exited; 3 local recoveries within 600 s",
                        " failures=0 recoveries=3"))},
        {"cgroup-empty/without-a-path", RES(ISP, NONE, IN, NOCHK, AUTORES_ISP), EXITED(0, NULL), 0,
         PLAN("LOG app1 1512 WARNING every process of the resource exited (its cgroup  is empty)",
              FAIL_OVER("every process of the resource exited", ""))},
        {"cgroup-empty/not-monitored-OSU", RES(OSU, NONE, IN, Q | R, AUTORES_ISP),
         EXITED(0, CGROUP), 0, NOTHING},
        {"cgroup-empty/not-monitored-OSF", RES(OSF, NONE, IN, Q | R, AUTORES_ISP),
         EXITED(0, CGROUP), 0, NOTHING},
        {"cgroup-empty/not-monitored-ISU", RES(ISU, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.monitor_off = true), EXITED(0, CGROUP), 0, NOTHING},
        {"cgroup-empty/during-restore", RES(OSU, RESTORE, IN, Q | R, AUTORES_ISP),
         EXITED(0, CGROUP), 0, NOTHING},
        {"cgroup-empty/during-recover", RES(ISP, RECOVER, IN, Q | R, AUTORES_ISP),
         EXITED(0, CGROUP), 0, NOTHING},
        {"cgroup-empty/during-remove", RES(ISP, REMOVE, OUT, Q | R, AUTORES_ISP), EXITED(0, CGROUP),
         0, NOTHING},

        /* Holding (resumed after a freeze, the peers not heard yet): checks and exits are
         * dropped, whatever they say; other events are decided as usual. */
        {"holding/check-failed-dropped", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.holding = true), CHECKED(QUICKCHK, EXIT(1)), 0, NOTHING},
        {"holding/check-failed-no-recover-dropped", RES(ISP, NONE, IN, Q, AUTORES_ISP),
         WITH(.holding = true), CHECKED(QUICKCHK, EXIT(1)), 0, NOTHING},
        {"holding/check-ok-keeps-failures", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.holding = true, .failures = 2, .check_failures = 3), CHECKED(QUICKCHK, OK), 0,
         NOTHING},
        {"holding/check-timeout-dropped", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.holding = true), CHECKED(QUICKCHK, TIMEOUT(5)), 0, NOTHING},
        {"holding/process-exited-dropped", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.holding = true), EXITED(777, "/run/app.pid"), 0, NOTHING},
        {"holding/cgroup-empty-dropped", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.holding = true), EXITED(0, CGROUP), 0, NOTHING},
        {"holding/check-of-unknown-tag-dropped", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.holding = true),
         .ev = {.type = LK_EV_CHECK_FINISHED,
                .tag = "nosuch",
                .action = LK_ACTION_QUICKCHK,
                .result = {EXIT(1)},
                .now_usec = NOW},
         0, NOTHING},
        {"holding/remove-requested-decided", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.holding = true), EVENT(REMOVE_REQUESTED), 0, PLAN(START_REMOVE(ISP, out))},
        {"process-exited/during-remove", RES(ISP, REMOVE, OUT, Q | R, AUTORES_ISP),
         EXITED(777, "/run/app.pid"), 0, NOTHING},

        /* RUN_FINISHED: recover */
        {"run-finished/recover-ok", RES(ISP, RECOVER, IN, Q | R, AUTORES_ISP),
         WITH(.recoveries = 1, .reason = QCAUSE "; recover in progress"), FINISHED(RECOVER, OK), 0,
         PLAN("COMMIT app1 ISP pending=- target=in failures=0 recoveries=1 reason=recovered in "
              "place by recover; restore not run",
              "LOG app1 1502 INFO recovered in place by recover (1234 ms); restore not run")},
        {"run-finished/recover-ok-monitor-off-is-ISU", RES(ISP, RECOVER, IN, Q | R, AUTORES_ISP),
         WITH(.recoveries = 1, .monitor_off = true, .reason = QCAUSE "; recover in progress"),
         FINISHED(RECOVER, OK), 0,
         PLAN("COMMIT app1 ISU pending=- target=in failures=0 recoveries=1 reason=recovered in "
              "place by recover; restore not run",
              "LOG app1 1502 INFO recovered in place by recover (1234 ms); restore not run")},
        {"run-finished/recover-failed", RES(ISP, RECOVER, IN, Q | R, AUTORES_ISP),
         WITH(.recoveries = 1, .reason = QCAUSE "; recover in progress"),
         FINISHED(RECOVER, EXIT(1)), 0,
         PLAN("LOG app1 1503 ERROR recover failed: exit status 1",
              FAIL_OVER(QCAUSE "; recover failed: exit status 1", " failures=0 recoveries=1"))},
        {"run-finished/recover-timeout", RES(ISP, RECOVER, IN, Q | R, AUTORES_ISP),
         WITH(.recoveries = 2, .reason = "deepchk failed: exit status 3; recover in progress"),
         FINISHED(RECOVER, TIMEOUT(300)), 0,
         PLAN("LOG app1 1503 ERROR recover failed: timed out after 300 s",
              FAIL_OVER("deepchk failed: exit status 3; recover failed: timed out after 300 s",
                        " failures=0 recoveries=2"))},
        {"run-finished/recover-failed-after-process-exit",
         RES(ISP, RECOVER, IN, Q | R, AUTORES_ISP),
         WITH(.recoveries = 1, .reason = "process 777 from pidfile exited; recover in progress"),
         FINISHED(RECOVER, KILLED(SIGKILL)), 0,
         PLAN("LOG app1 1503 ERROR recover failed: killed by signal 9 (SIGKILL)",
              FAIL_OVER("process 777 from pidfile exited; recover failed: killed by signal 9 "
                        "(SIGKILL)",
                        " failures=0 recoveries=1"))},
        {"run-finished/recover-failed-odd-reason", RES(ISP, RECOVER, IN, Q | R, AUTORES_ISP),
         WITH(.recoveries = 1), FINISHED(RECOVER, EXIT(1)), 0,
         PLAN("LOG app1 1503 ERROR recover failed: exit status 1",
              FAIL_OVER(PRIOR "; recover failed: exit status 1", " failures=0 recoveries=1"))},
        {"run-finished/recover-wrong-action", RES(ISP, RECOVER, IN, Q | R, AUTORES_ISP),
         FINISHED(QUICKCHK, OK), -EINVAL, NOTHING},
        {"run-finished/recover-unexpected", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         FINISHED(RECOVER, OK), -EINVAL, NOTHING},

        /* RUN_FINISHED: in service with monitoring off is ISU; counters */
        {"run-finished/restore-ok-monitor-off-is-ISU", RES(OSU, RESTORE, IN, Q, AUTORES_ISP),
         WITH(.monitor_off = true), FINISHED(RESTORE, OK), 0,
         PLAN("COMMIT app1 ISU pending=- target=in reason=restore action has succeeded",
              "LOG app1 1201 INFO restore action has succeeded (1234 ms)")},
        {"run-finished/restore-ok-clears-failures", RES(OSF, RESTORE, IN, Q | R, AUTORES_ISP),
         WITH(.failures = 2, .recoveries = 2), FINISHED(RESTORE, OK), 0,
         PLAN("COMMIT app1 ISP pending=- target=in failures=0 recoveries=2 reason=restore action "
              "has succeeded",
              "LOG app1 1201 INFO restore action has succeeded (1234 ms)")},
        {"run-finished/probe-ok-monitor-off-is-ISU", RES(ISU, PROBE, IN, Q, AUTORES_ISP),
         WITH(.monitor_off = true), FINISHED(QUICKCHK, OK), 0,
         PLAN("COMMIT app1 ISU pending=- target=in reason=in service: quickchk at start-up "
              "succeeded; restore not needed",
              "LOG app1 1210 INFO quickchk at start-up succeeded: the application runs, "
              "restore not needed")},

        /* SETTINGS_CHANGED: monitoring off ↔ on is ISP ↔ ISU while in service and idle */
        {"settings-changed/monitor-off-ISP", RES(ISP, NONE, IN, Q, AUTORES_ISP),
         WITH(.monitor_off = true), EVENT(SETTINGS_CHANGED), 0,
         PLAN("COMMIT app1 ISU pending=- target=in reason=in service, unprotected: monitoring "
              "suspended",
              "LOG app1 1507 INFO monitoring suspended: in service, unprotected (ISU)")},
        {"settings-changed/monitor-off-keeps-counters", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.monitor_off = true, .failures = 1, .recoveries = 2), EVENT(SETTINGS_CHANGED), 0,
         PLAN("COMMIT app1 ISU pending=- target=in failures=1 recoveries=2 reason=in service, "
              "unprotected: monitoring suspended",
              "LOG app1 1507 INFO monitoring suspended: in service, unprotected (ISU)")},
        {"settings-changed/monitor-on-ISU", RES(ISU, NONE, IN, Q, AUTORES_ISP),
         EVENT(SETTINGS_CHANGED), 0,
         PLAN("COMMIT app1 ISP pending=- target=in reason=in service, protected: monitoring "
              "resumed",
              "LOG app1 1508 INFO monitoring resumed: in service, protected (ISP)")},
        {"settings-changed/monitor-on-ISP", RES(ISP, NONE, IN, Q, AUTORES_ISP),
         EVENT(SETTINGS_CHANGED), 0, NOTHING},
        {"settings-changed/monitor-off-ISU", RES(ISU, NONE, IN, Q, AUTORES_ISP),
         WITH(.monitor_off = true), EVENT(SETTINGS_CHANGED), 0, NOTHING},
        {"settings-changed/monitor-on-OSU", RES(OSU, NONE, IN, Q, AUTORES_ISP),
         EVENT(SETTINGS_CHANGED), 0, NOTHING},
        {"settings-changed/monitor-off-OSU", RES(OSU, NONE, OUT, Q, AUTORES_ISP),
         WITH(.monitor_off = true), EVENT(SETTINGS_CHANGED), 0, NOTHING},
        {"settings-changed/monitor-off-OSF", RES(OSF, NONE, IN, Q, AUTORES_ISP),
         WITH(.monitor_off = true), EVENT(SETTINGS_CHANGED), 0, NOTHING},
        {"settings-changed/monitor-off-while-recovering", RES(ISP, RECOVER, IN, Q | R, AUTORES_ISP),
         WITH(.monitor_off = true), EVENT(SETTINGS_CHANGED), 0, NOTHING},
        {"settings-changed/monitor-off-while-restoring", RES(OSU, RESTORE, IN, Q, AUTORES_ISP),
         WITH(.monitor_off = true), EVENT(SETTINGS_CHANGED), 0, NOTHING},

        /* Verdicts of the resource's type (issue 13): one row per verdict and context. */
        {"verdict/restore-degraded", RES(OSU, RESTORE, IN, Q, AUTORES_ISP),
         FINISHED(RESTORE, VERDICT(DEGRADED, 190)), 0,
         PLAN("LOG app1 1530 WARNING restore reports the resource degraded: exit status 190: why; "
              "still in service, no recovery",
              "COMMIT app1 ISP pending=- target=in reason=restore action has succeeded",
              "LOG app1 1201 INFO restore action has succeeded (1234 ms)")},
        {"verdict/restore-not-running", RES(OSU, RESTORE, IN, Q, AUTORES_ISP),
         FINISHED(RESTORE, VERDICT(NOT_RUNNING, 7)), 0,
         PLAN("COMMIT app1 OSF pending=fail-remove target=in reason=restore action failed: not "
              "running: exit status 7: why",
              "LOG app1 1202 ERROR restore action failed: not running: exit status 7: why",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},
        {"verdict/restore-hard", RES(OSU, RESTORE, IN, Q, AUTORES_ISP),
         FINISHED(RESTORE, VERDICT(HARD, 2)), 0,
         PLAN("LOG app1 1534 ERROR restore failed hard (exit status 2: why); no local retry or "
              "recovery",
              "COMMIT app1 OSF pending=fail-remove target=in reason=restore action failed: hard "
              "error: exit status 2: why",
              "LOG app1 1202 ERROR restore action failed: hard error: exit status 2: why",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},
        {"verdict/restore-not-installed", RES(OSU, RESTORE, IN, Q, AUTORES_ISP),
         FINISHED(RESTORE, VERDICT(NOT_INSTALLED, 5)), 0,
         PLAN("LOG app1 1531 ERROR restore: not installed on this node (exit status 5: why); this "
              "node is marked unable to run the resource",
              "COMMIT app1 OSF pending=fail-remove target=in unable reason=restore action failed: "
              "not installed on this node: exit status 5: why",
              "LOG app1 1202 ERROR restore action failed: not installed on this node: exit status "
              "5: why",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},
        {"verdict/restore-not-configured", RES(OSU, RESTORE, IN, Q, AUTORES_ISP),
         FINISHED(RESTORE, VERDICT(NOT_CONFIGURED, 6)), 0,
         PLAN("LOG app1 1532 ERROR restore: the resource is not configured correctly (exit status "
              "6: why); no failover anywhere until resource reset",
              "COMMIT app1 OSF pending=fail-remove target=in not-configured reason=restore action "
              "failed: not configured: exit status 6: why",
              "LOG app1 1202 ERROR restore action failed: not configured: exit status 6: why",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},
        {"verdict/restore-pending", RES(OSU, RESTORE, IN, Q, AUTORES_ISP),
         FINISHED(RESTORE, VERDICT(PENDING, 1)), 0,
         PLAN("COMMIT app1 OSF pending=fail-remove target=in reason=restore action failed: exit "
              "status 1: why",
              "LOG app1 1202 ERROR restore action failed: exit status 1: why",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},
        {"verdict/remove-degraded", RES(ISP, REMOVE, OUT, Q, AUTORES_ISP),
         FINISHED(REMOVE, VERDICT(DEGRADED, 190)), 0,
         PLAN("COMMIT app1 OSU pending=- target=out reason=remove action has succeeded",
              "LOG app1 1204 INFO remove action has succeeded (1234 ms)")},
        {"verdict/remove-not-running", RES(ISP, REMOVE, OUT, Q, AUTORES_ISP),
         FINISHED(REMOVE, VERDICT(NOT_RUNNING, 7)), 0,
         PLAN("COMMIT app1 OSU pending=- target=out reason=remove action has succeeded",
              "LOG app1 1204 INFO remove action has succeeded (1234 ms)")},
        {"verdict/remove-hard", RES(ISP, REMOVE, OUT, Q, AUTORES_ISP),
         FINISHED(REMOVE, VERDICT(HARD, 2)), 0,
         PLAN("LOG app1 1534 ERROR remove failed hard (exit status 2: why); no local retry or "
              "recovery",
              "COMMIT app1 OSF pending=- target=out stop-failed reason=remove failed: may still be "
              "running (hard error: exit status 2: why)",
              "LOG app1 1205 ERROR remove action failed: hard error: exit status 2: why")},
        {"verdict/remove-not-installed", RES(ISP, REMOVE, OUT, Q, AUTORES_ISP),
         FINISHED(REMOVE, VERDICT(NOT_INSTALLED, 5)), 0,
         PLAN("LOG app1 1531 ERROR remove: not installed on this node (exit status 5: why); this "
              "node is marked unable to run the resource",
              "COMMIT app1 OSU pending=- target=out unable reason=remove action has succeeded",
              "LOG app1 1204 INFO remove action has succeeded (1234 ms)")},
        {"verdict/remove-not-configured", RES(ISP, REMOVE, OUT, Q, AUTORES_ISP),
         FINISHED(REMOVE, VERDICT(NOT_CONFIGURED, 6)), 0,
         PLAN("LOG app1 1532 ERROR remove: the resource is not configured correctly (exit status "
              "6: why); no failover anywhere until resource reset",
              "COMMIT app1 OSF pending=- target=out stop-failed not-configured reason=remove "
              "failed: may still be running (not configured: exit status 6: why)",
              "LOG app1 1205 ERROR remove action failed: not configured: exit status 6: why")},
        {"verdict/remove-pending", RES(ISP, REMOVE, OUT, Q, AUTORES_ISP),
         FINISHED(REMOVE, VERDICT(PENDING, 1)), 0,
         PLAN("COMMIT app1 OSF pending=- target=out stop-failed reason=remove failed: may still be "
              "running (exit status 1: why)",
              "LOG app1 1205 ERROR remove action failed: exit status 1: why")},
        {"verdict/fail-remove-degraded", RES(OSF, FAIL_REMOVE, IN, Q, AUTORES_ISP),
         FINISHED(REMOVE, VERDICT(DEGRADED, 190)), 0,
         PLAN("COMMIT app1 OSF pending=- target=in reason=prior reason",
              "LOG app1 1204 INFO remove action has succeeded (1234 ms)")},
        {"verdict/fail-remove-not-running", RES(OSF, FAIL_REMOVE, IN, Q, AUTORES_ISP),
         FINISHED(REMOVE, VERDICT(NOT_RUNNING, 7)), 0,
         PLAN("COMMIT app1 OSF pending=- target=in reason=prior reason",
              "LOG app1 1204 INFO remove action has succeeded (1234 ms)")},
        {"verdict/fail-remove-hard", RES(OSF, FAIL_REMOVE, IN, Q, AUTORES_ISP),
         FINISHED(REMOVE, VERDICT(HARD, 2)), 0,
         PLAN("LOG app1 1534 ERROR remove failed hard (exit status 2: why); no local retry or "
              "recovery",
              "COMMIT app1 OSF pending=- target=in stop-failed reason=remove failed: may still be "
              "running (hard error: exit status 2: why); after: prior reason",
              "LOG app1 1205 ERROR remove action failed: hard error: exit status 2: why")},
        {"verdict/fail-remove-not-installed", RES(OSF, FAIL_REMOVE, IN, Q, AUTORES_ISP),
         FINISHED(REMOVE, VERDICT(NOT_INSTALLED, 5)), 0,
         PLAN("LOG app1 1531 ERROR remove: not installed on this node (exit status 5: why); this "
              "node is marked unable to run the resource",
              "COMMIT app1 OSF pending=- target=in unable reason=prior reason",
              "LOG app1 1204 INFO remove action has succeeded (1234 ms)")},
        {"verdict/fail-remove-not-configured", RES(OSF, FAIL_REMOVE, IN, Q, AUTORES_ISP),
         FINISHED(REMOVE, VERDICT(NOT_CONFIGURED, 6)), 0,
         PLAN("LOG app1 1532 ERROR remove: the resource is not configured correctly (exit status "
              "6: why); no failover anywhere until resource reset",
              "COMMIT app1 OSF pending=- target=in stop-failed not-configured reason=remove "
              "failed: may still be running (not configured: exit status 6: why); after: prior "
              "reason",
              "LOG app1 1205 ERROR remove action failed: not configured: exit status 6: why")},
        {"verdict/fail-remove-pending", RES(OSF, FAIL_REMOVE, IN, Q, AUTORES_ISP),
         FINISHED(REMOVE, VERDICT(PENDING, 1)), 0,
         PLAN("COMMIT app1 OSF pending=- target=in stop-failed reason=remove failed: may still be "
              "running (exit status 1: why); after: prior reason",
              "LOG app1 1205 ERROR remove action failed: exit status 1: why")},
        {"verdict/check-degraded", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.failures = 1, .check_failures = 3), CHECKED(QUICKCHK, VERDICT(DEGRADED, 190)), 0,
         PLAN("LOG app1 1530 WARNING quickchk reports the resource degraded: exit status 190: why; "
              "still in service, no recovery",
              "COMMIT app1 ISP pending=- target=in reason=prior reason")},
        {"verdict/check-not-running", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.failures = 1, .check_failures = 3), CHECKED(QUICKCHK, VERDICT(NOT_RUNNING, 7)), 0,
         PLAN("LOG app1 1500 WARNING quickchk failed: not running: exit status 7: why (2 of 3 in a "
              "row)",
              "COMMIT app1 ISP pending=- target=in failures=2 recoveries=0 reason=prior reason")},
        {"verdict/check-hard", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.failures = 1, .check_failures = 3), CHECKED(QUICKCHK, VERDICT(HARD, 2)), 0,
         PLAN("LOG app1 1534 ERROR quickchk failed hard (exit status 2: why); no local retry or "
              "recovery",
              "COMMIT app1 OSF pending=fail-remove target=in failures=1 recoveries=0 "
              "reason=quickchk failed: hard error: exit status 2: why; no backup node to fail over "
              "to",
              "LOG app1 1505 ERROR resource failed (quickchk failed: hard error: exit status 2: "
              "why); no backup node to fail over to: OSF",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},
        {"verdict/check-not-installed", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.failures = 1, .check_failures = 3), CHECKED(QUICKCHK, VERDICT(NOT_INSTALLED, 5)), 0,
         PLAN("LOG app1 1531 ERROR quickchk: not installed on this node (exit status 5: why); this "
              "node is marked unable to run the resource",
              "COMMIT app1 OSF pending=fail-remove target=in failures=1 recoveries=0 unable "
              "reason=quickchk failed: not installed on this node: exit status 5: why; no backup "
              "node to fail over to",
              "LOG app1 1505 ERROR resource failed (quickchk failed: not installed on this node: "
              "exit status 5: why); no backup node to fail over to: OSF",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},
        {"verdict/check-not-configured", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.failures = 1, .check_failures = 3), CHECKED(QUICKCHK, VERDICT(NOT_CONFIGURED, 6)), 0,
         PLAN("LOG app1 1532 ERROR quickchk: the resource is not configured correctly (exit status "
              "6: why); no failover anywhere until resource reset",
              "COMMIT app1 OSF pending=fail-remove target=in failures=1 recoveries=0 "
              "not-configured reason=quickchk failed: not configured: exit status 6: why; no "
              "failover: not configured",
              "LOG app1 1505 ERROR resource failed (quickchk failed: not configured: exit status "
              "6: why); no backup node to fail over to: OSF",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},
        {"verdict/check-pending", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.failures = 1, .check_failures = 3), CHECKED(QUICKCHK, VERDICT(PENDING, 1)), 0,
         NOTHING},
        {"verdict/probe-degraded", RES(ISP, PROBE, IN, Q, AUTORES_ISP),
         FINISHED(QUICKCHK, VERDICT(DEGRADED, 190)), 0,
         PLAN("LOG app1 1530 WARNING quickchk reports the resource degraded: exit status 190: why; "
              "still in service, no recovery",
              "COMMIT app1 ISP pending=- target=in reason=in service: quickchk at start-up "
              "succeeded; restore not needed",
              "LOG app1 1210 INFO quickchk at start-up succeeded: the application runs, restore "
              "not needed")},
        {"verdict/probe-not-running", RES(ISP, PROBE, IN, Q, AUTORES_ISP),
         FINISHED(QUICKCHK, VERDICT(NOT_RUNNING, 7)), 0,
         PLAN("LOG app1 1533 INFO quickchk at start-up: the application is cleanly stopped",
              "COMMIT app1 OSU pending=- target=in reason=quickchk at start-up found it stopped; "
              "restoring",
              "COMMIT app1 OSU pending=restore target=in reason=restore in progress",
              "LOG app1 1200 INFO restore started", "RUN app1 restore")},
        {"verdict/probe-hard", RES(ISP, PROBE, IN, Q, AUTORES_ISP),
         FINISHED(QUICKCHK, VERDICT(HARD, 2)), 0,
         PLAN("LOG app1 1534 ERROR quickchk failed hard (exit status 2: why); no local retry or "
              "recovery",
              "LOG app1 1211 WARNING quickchk at start-up failed: hard error: exit status 2: why",
              "COMMIT app1 OSF pending=fail-remove target=in reason=quickchk at start-up failed: "
              "hard error: exit status 2: why; no backup node to fail over to",
              "LOG app1 1505 ERROR resource failed (quickchk at start-up failed: hard error: exit "
              "status 2: why); no backup node to fail over to: OSF",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},
        {"verdict/probe-not-installed", RES(ISP, PROBE, IN, Q, AUTORES_ISP),
         FINISHED(QUICKCHK, VERDICT(NOT_INSTALLED, 5)), 0,
         PLAN("LOG app1 1531 ERROR quickchk: not installed on this node (exit status 5: why); this "
              "node is marked unable to run the resource",
              "LOG app1 1211 WARNING quickchk at start-up failed: not installed on this node: exit "
              "status 5: why",
              "COMMIT app1 OSF pending=fail-remove target=in unable reason=quickchk at start-up "
              "failed: not installed on this node: exit status 5: why; no backup node to fail over "
              "to",
              "LOG app1 1505 ERROR resource failed (quickchk at start-up failed: not installed on "
              "this node: exit status 5: why); no backup node to fail over to: OSF",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},
        {"verdict/probe-not-configured", RES(ISP, PROBE, IN, Q, AUTORES_ISP),
         FINISHED(QUICKCHK, VERDICT(NOT_CONFIGURED, 6)), 0,
         PLAN("LOG app1 1532 ERROR quickchk: the resource is not configured correctly (exit status "
              "6: why); no failover anywhere until resource reset",
              "LOG app1 1211 WARNING quickchk at start-up failed: not configured: exit status 6: "
              "why",
              "COMMIT app1 OSF pending=fail-remove target=in not-configured reason=quickchk at "
              "start-up failed: not configured: exit status 6: why; no failover: not configured",
              "LOG app1 1505 ERROR resource failed (quickchk at start-up failed: not configured: "
              "exit status 6: why); no backup node to fail over to: OSF",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},
        {"verdict/probe-pending", RES(ISP, PROBE, IN, Q, AUTORES_ISP),
         FINISHED(QUICKCHK, VERDICT(PENDING, 1)), 0,
         PLAN("LOG app1 1211 WARNING quickchk at start-up failed: exit status 1: why",
              "COMMIT app1 OSF pending=cleanup target=in reason=quickchk at start-up failed: exit "
              "status 1: why; removing before restore",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},
        {"verdict/probe-not-running-INIT_OSU", RES(ISP, PROBE, IN, Q, INIT_OSU),
         FINISHED(QUICKCHK, VERDICT(NOT_RUNNING, 7)), 0,
         PLAN("LOG app1 1533 INFO quickchk at start-up: the application is cleanly stopped",
              "COMMIT app1 OSU pending=- target=out reason=out of service: quickchk at start-up "
              "found it stopped")},
        {"verdict/probe-not-running-INIT_ISP-deepchk", RES(OSU, PROBE, IN, D, INIT_ISP),
         FINISHED(DEEPCHK, VERDICT(NOT_RUNNING, 7)), 0,
         PLAN("LOG app1 1533 INFO deepchk at start-up: the application is cleanly stopped",
              "COMMIT app1 OSU pending=- target=in reason=deepchk at start-up found it stopped; "
              "restoring",
              "COMMIT app1 OSU pending=restore target=in reason=restore in progress",
              "LOG app1 1200 INFO restore started", "RUN app1 restore")},
        {"verdict/recover-degraded", RES(ISP, RECOVER, IN, Q | R, AUTORES_ISP),
         WITH(.recoveries = 1, .reason = QCAUSE "; recover in progress"),
         FINISHED(RECOVER, VERDICT(DEGRADED, 190)), 0,
         PLAN("LOG app1 1530 WARNING recover reports the resource degraded: exit status 190: why; "
              "still in service, no recovery",
              "COMMIT app1 ISP pending=- target=in failures=0 recoveries=1 reason=recovered in "
              "place by recover; restore not run",
              "LOG app1 1502 INFO recovered in place by recover (1234 ms); restore not run")},
        {"verdict/recover-not-running", RES(ISP, RECOVER, IN, Q | R, AUTORES_ISP),
         WITH(.recoveries = 1, .reason = QCAUSE "; recover in progress"),
         FINISHED(RECOVER, VERDICT(NOT_RUNNING, 7)), 0,
         PLAN("LOG app1 1503 ERROR recover failed: not running: exit status 7: why",
              "COMMIT app1 OSF pending=fail-remove target=in failures=0 recoveries=1 "
              "reason=quickchk failed: exit status 1; recover failed: not running: exit status 7: "
              "why; no backup node to fail over to",
              "LOG app1 1505 ERROR resource failed (quickchk failed: exit status 1; recover "
              "failed: not running: exit status 7: why); no backup node to fail over to: OSF",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},
        {"verdict/recover-hard", RES(ISP, RECOVER, IN, Q | R, AUTORES_ISP),
         WITH(.recoveries = 1, .reason = QCAUSE "; recover in progress"),
         FINISHED(RECOVER, VERDICT(HARD, 2)), 0,
         PLAN("LOG app1 1534 ERROR recover failed hard (exit status 2: why); no local retry or "
              "recovery",
              "LOG app1 1503 ERROR recover failed: hard error: exit status 2: why",
              "COMMIT app1 OSF pending=fail-remove target=in failures=0 recoveries=1 "
              "reason=quickchk failed: exit status 1; recover failed: hard error: exit status 2: "
              "why; no backup node to fail over to",
              "LOG app1 1505 ERROR resource failed (quickchk failed: exit status 1; recover "
              "failed: hard error: exit status 2: why); no backup node to fail over to: OSF",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},
        {"verdict/recover-not-installed", RES(ISP, RECOVER, IN, Q | R, AUTORES_ISP),
         WITH(.recoveries = 1, .reason = QCAUSE "; recover in progress"),
         FINISHED(RECOVER, VERDICT(NOT_INSTALLED, 5)), 0,
         PLAN("LOG app1 1531 ERROR recover: not installed on this node (exit status 5: why); this "
              "node is marked unable to run the resource",
              "LOG app1 1503 ERROR recover failed: not installed on this node: exit status 5: why",
              "COMMIT app1 OSF pending=fail-remove target=in failures=0 recoveries=1 unable "
              "reason=quickchk failed: exit status 1; recover failed: not installed on this node: "
              "exit status 5: why; no backup node to fail over to",
              "LOG app1 1505 ERROR resource failed (quickchk failed: exit status 1; recover "
              "failed: not installed on this node: exit status 5: why); no backup node to fail "
              "over to: OSF",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},
        {"verdict/recover-not-configured", RES(ISP, RECOVER, IN, Q | R, AUTORES_ISP),
         WITH(.recoveries = 1, .reason = QCAUSE "; recover in progress"),
         FINISHED(RECOVER, VERDICT(NOT_CONFIGURED, 6)), 0,
         PLAN("LOG app1 1532 ERROR recover: the resource is not configured correctly (exit status "
              "6: why); no failover anywhere until resource reset",
              "LOG app1 1503 ERROR recover failed: not configured: exit status 6: why",
              "COMMIT app1 OSF pending=fail-remove target=in failures=0 recoveries=1 "
              "not-configured reason=quickchk failed: exit status 1; recover failed: not "
              "configured: exit status 6: why; no failover: not configured",
              "LOG app1 1505 ERROR resource failed (quickchk failed: exit status 1; recover "
              "failed: not configured: exit status 6: why); no backup node to fail over to: OSF",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},
        {"verdict/recover-pending", RES(ISP, RECOVER, IN, Q | R, AUTORES_ISP),
         WITH(.recoveries = 1, .reason = QCAUSE "; recover in progress"),
         FINISHED(RECOVER, VERDICT(PENDING, 1)), 0,
         PLAN("LOG app1 1503 ERROR recover failed: exit status 1: why",
              "COMMIT app1 OSF pending=fail-remove target=in failures=0 recoveries=1 "
              "reason=quickchk failed: exit status 1; recover failed: exit status 1: why; no "
              "backup node to fail over to",
              "LOG app1 1505 ERROR resource failed (quickchk failed: exit status 1; recover "
              "failed: exit status 1: why); no backup node to fail over to: OSF",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},
        {"verdict/cleanup-not-installed", RES(OSF, CLEANUP, IN, Q, AUTORES_ISP),
         FINISHED(REMOVE, VERDICT(NOT_INSTALLED, 5)), 0,
         PLAN("LOG app1 1531 ERROR remove: not installed on this node (exit status 5: why); this "
              "node is marked unable to run the resource",
              "LOG app1 1204 INFO remove action has succeeded (1234 ms)",
              "COMMIT app1 OSF pending=- target=in unable reason=remove before restore: not "
              "installed on this node: exit status 5: why")},
        {"verdict/check-exit-0-classified-hard", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         CHECKED(QUICKCHK, OK, .verdict = LK_VERDICT_HARD), 0,
         PLAN("LOG app1 1534 ERROR quickchk failed hard (exit status 0); no local retry or "
              "recovery",
              "COMMIT app1 OSF pending=fail-remove target=in reason=quickchk failed: hard error: "
              "exit status 0; no backup node to fail over to",
              "LOG app1 1505 ERROR resource failed (quickchk failed: hard error: exit status 0); "
              "no backup node to fail over to: OSF",
              "LOG app1 1203 INFO remove started", "RUN app1 remove")},
        {"verdict/check-timeout-unclassified", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.check_failures = 3), CHECKED(QUICKCHK, TIMEOUT(5)), 0, PLAN(T1517("quick", "5"))},
        {"reset/unable", RES(OSF, NONE, IN, Q, AUTORES_ISP), WITH(.unable = true), EVENT(RESET), 0,
         PLAN("COMMIT app1 OSF pending=- target=in -recoveries reason=prior reason",
              "LOG app1 1509 INFO check-failure and local-recovery counters cleared",
              "LOG app1 1535 WARNING an operator cleared 'not installed on this node: unable' "
              "(resource reset)")},
        {"reset/not-configured", RES(OSF, NONE, IN, Q, AUTORES_ISP), WITH(.not_configured = true),
         EVENT(RESET), 0,
         PLAN("COMMIT app1 OSF pending=- target=in -recoveries reason=prior reason",
              "LOG app1 1509 INFO check-failure and local-recovery counters cleared",
              "LOG app1 1535 WARNING an operator cleared 'not configured: no failover' (resource "
              "reset)")},
        {"verdict/restore-ok-keeps-unable", RES(OSF, RESTORE, IN, Q, AUTORES_ISP),
         WITH(.unable = true), FINISHED(RESTORE, OK), 0,
         PLAN("COMMIT app1 ISP pending=- target=in unable reason=restore action has succeeded",
              "LOG app1 1201 INFO restore action has succeeded (1234 ms)")},
        /* RESET: counters and the recovery window cleared, nothing else changes, except
         * "may still be running", which the operator vouches is no longer true */
        {"reset/stop-failed", RES(OSF, NONE, IN, Q, AUTORES_ISP),
         WITH(.stop_failed = true, .reason = "remove failed: may still be running (exit status 1)"),
         EVENT(RESET), 0,
         PLAN("COMMIT app1 OSF pending=- target=in -recoveries reason=remove failed: may still be "
              "running (exit status 1); cleared by an operator: taken as stopped",
              RESET_LOG,
              "LOG app1 1511 WARNING an operator cleared 'remove failed: may still be running' "
              "(resource reset): the application is taken as stopped here")},
        {"reset/ISP", RES(ISP, NONE, IN, Q | R, AUTORES_ISP),
         WITH(.failures = 2, .recoveries = 3, .ago = {10, 20, 30}), EVENT(RESET), 0,
         PLAN("COMMIT app1 ISP pending=- target=in -recoveries reason=" PRIOR, RESET_LOG)},
        {"reset/OSF", RES(OSF, NONE, IN, Q | R, AUTORES_ISP), WITH(.recoveries = 4), EVENT(RESET),
         0, PLAN("COMMIT app1 OSF pending=- target=in -recoveries reason=" PRIOR, RESET_LOG)},
        {"reset/nothing-to-clear", RES(OSU, NONE, OUT, Q, AUTORES_ISP), EVENT(RESET), 0,
         PLAN("COMMIT app1 OSU pending=- target=out -recoveries reason=" PRIOR, RESET_LOG)},
        {"reset/while-recovering", RES(ISP, RECOVER, IN, Q | R, AUTORES_ISP),
         WITH(.recoveries = 1, .reason = QCAUSE "; recover in progress"), EVENT(RESET), 0,
         PLAN("COMMIT app1 ISP pending=recover target=in -recoveries reason=" QCAUSE
              "; recover in progress",
              RESET_LOG)},

        /* MARK_IN (ins_setstate ISP/ISU): in service without a restore; refused while
         * busy or unable; the failures in a row start afresh; the flags stay */
        {"mark-in/OSU", RES(OSU, NONE, OUT, Q, AUTORES_ISP), SET_BY_HAND(MARK_IN, "upgraded"), 0,
         PLAN("COMMIT app1 ISP pending=- target=in reason=upgraded", SET_IN("ISP", "upgraded"))},
        {"mark-in/OSF-default-reason", RES(OSF, NONE, IN, Q, AUTORES_ISP), WITH(.failures = 2),
         SET_BY_HAND(MARK_IN, NULL), 0,
         PLAN("COMMIT app1 ISP pending=- target=in reason=set by hand",
              SET_IN("ISP", "set by hand"))},
        {"mark-in/monitor-off-is-ISU", RES(OSU, NONE, OUT, Q, AUTORES_ISP),
         WITH(.monitor_off = true), SET_BY_HAND(MARK_IN, "by hand"), 0,
         PLAN("COMMIT app1 ISU pending=- target=in reason=by hand", SET_IN("ISU", "by hand"))},
        {"mark-in/ISP-again-new-reason", RES(ISP, NONE, IN, Q, AUTORES_ISP),
         SET_BY_HAND(MARK_IN, "still up"), 0,
         PLAN("COMMIT app1 ISP pending=- target=in reason=still up", SET_IN("ISP", "still up"))},
        {"mark-in/keeps-stop-failed-and-recoveries", RES(OSF, NONE, IN, Q, AUTORES_ISP),
         WITH(.stop_failed = true, .recoveries = 2), SET_BY_HAND(MARK_IN, "x"), 0,
         PLAN("COMMIT app1 ISP pending=- target=in failures=0 recoveries=2 stop-failed reason=x",
              SET_IN("ISP", "x"))},
        {"mark-in/busy", RES(OSU, RESTORE, IN, Q, AUTORES_ISP), SET_BY_HAND(MARK_IN, "x"), 0,
         PLAN("REFUSE app1 resource 'app1' is busy: restore in progress")},
        {"mark-in/unable", RES(OSF, NONE, IN, Q, AUTORES_ISP), WITH(.unable = true),
         SET_BY_HAND(MARK_IN, "x"), 0,
         PLAN("REFUSE app1 resource 'app1' is marked not installed on this node: it cannot be in "
              "service here; 'lkcli resource reset' first")},
        {"mark-in/not-configured", RES(OSF, NONE, IN, Q, AUTORES_ISP), WITH(.not_configured = true),
         SET_BY_HAND(MARK_IN, "x"), 0,
         PLAN("REFUSE app1 resource 'app1' is marked not configured: it cannot be in service "
              "here; 'lkcli resource reset' first")},
        {"mark-in/unknown-tag", RES(OSU, NONE, OUT, Q, AUTORES_ISP),
         .ev = {.type = LK_EV_MARK_IN, .tag = "nope"}, -ENOENT, NOTHING},

        /* MARK_OUT (ins_setstate OSU): out of service without a remove, intent out */
        {"mark-out/ISP", RES(ISP, NONE, IN, Q, AUTORES_ISP), WITH(.failures = 1),
         SET_BY_HAND(MARK_OUT, "maintenance"), 0,
         PLAN("COMMIT app1 OSU pending=- target=out reason=maintenance", SET_OUT("maintenance"))},
        {"mark-out/ISU", RES(ISU, NONE, IN, Q, AUTORES_ISP), WITH(.monitor_off = true),
         SET_BY_HAND(MARK_OUT, NULL), 0,
         PLAN("COMMIT app1 OSU pending=- target=out reason=set by hand", SET_OUT("set by hand"))},
        {"mark-out/OSF-keeps-stop-failed", RES(OSF, NONE, IN, Q, AUTORES_ISP),
         WITH(.stop_failed = true), SET_BY_HAND(MARK_OUT, "m"), 0,
         PLAN("COMMIT app1 OSU pending=- target=out stop-failed reason=m", SET_OUT("m"))},
        {"mark-out/OSU-again", RES(OSU, NONE, OUT, Q, AUTORES_ISP), SET_BY_HAND(MARK_OUT, "m"), 0,
         PLAN("COMMIT app1 OSU pending=- target=out reason=m", SET_OUT("m"))},
        {"mark-out/busy-probe", RES(ISP, PROBE, IN, Q, AUTORES_ISP), SET_BY_HAND(MARK_OUT, "m"), 0,
         PLAN("REFUSE app1 resource 'app1' is busy: probe in progress")},
        {"mark-out/busy-recover", RES(ISP, RECOVER, IN, Q | R, AUTORES_ISP),
         SET_BY_HAND(MARK_OUT, "m"), 0,
         PLAN("REFUSE app1 resource 'app1' is busy: recover in progress")},
};

static void make_resource(struct lk_resource *res, const char *tag, enum lk_state state,
                          enum lk_pending pending, bool target, unsigned checks, enum lk_init init)
{
    memset(res, 0, sizeof(*res));
    snprintf(res->tag, sizeof(res->tag), "%s", tag);
    snprintf(res->id, sizeof(res->id), "%s-id", tag);
    snprintf(res->app, sizeof(res->app), "gen");
    snprintf(res->type, sizeof(res->type), "app");
    lk_settings_init(&res->settings);
    res->settings.init = init;
    res->has_script[LK_ACTION_RESTORE] = true;
    res->has_script[LK_ACTION_REMOVE] = true;
    for (int a = 0; a < LK_ACTION_COUNT; a++) {
        if (checks & (1u << a)) {
            res->has_script[a] = true;
        }
    }
    res->state = state;
    res->pending = pending;
    res->target_in_service = target;
    snprintf(res->reason, sizeof(res->reason), PRIOR);
}

/* The monitoring side of a case's resource: counters, settings and recovery history. */
static void apply_with(struct lk_resource *res, const struct engine_case *c)
{
    res->check_failures_in_row = c->with.failures;
    res->local_recoveries = c->with.recoveries;
    res->stop_failed = c->with.stop_failed;
    res->unable = c->with.unable;
    res->not_configured = c->with.not_configured;
    if (c->with.reason) {
        snprintf(res->reason, sizeof(res->reason), "%s", c->with.reason);
    }
    res->settings.monitor = !c->with.monitor_off;
    res->settings.local_recovery = !c->with.local_recovery_off;
    if (c->with.timeout_fail) {
        res->settings.monitor_timeout_action = LK_TIMEOUT_ACTION_FAIL;
    }
    if (c->with.check_failures) {
        res->settings.check_failures = c->with.check_failures;
    }
    if (c->with.max_recoveries) {
        res->settings.max_recoveries = c->with.max_recoveries;
    }
    if (c->with.window) {
        res->settings.recovery_window_usec = c->with.window * SEC;
    }
    for (size_t i = 0; i < sizeof(c->with.ago) / sizeof(c->with.ago[0]) && c->with.ago[i]; i++) {
        lk_resource_note_recovery(res, NOW - c->with.ago[i] * SEC);
    }
}

/* Properties every plan has, whatever the case: acts name a known tag, every COMMIT comes
 * before the RUN it protects, at most one RUN, and a REFUSE stands alone. */
static bool plan_well_formed(const struct lk_plan *plan, const char *name)
{
    size_t runs = 0, refuses = 0;
    bool ok = true;
    for (size_t i = 0; i < plan->count; i++) {
        const struct lk_act *act = &plan->acts[i];
        if (act->type == LK_ACT_RUN) {
            runs++;
        } else if (act->type == LK_ACT_REFUSE) {
            refuses++;
        } else if (act->type == LK_ACT_COMMIT && runs > 0) {
            print_error("case '%s': COMMIT after RUN\n", name);
            ok = false;
        }
    }
    if (runs > 1 || (refuses > 0 && plan->count != 1)) {
        print_error("case '%s': %zu runs, %zu refusals in a plan of %zu\n", name, runs, refuses,
                    plan->count);
        ok = false;
    }
    return ok;
}

static bool run_case(const struct engine_case *c)
{
    struct lk_resource app1, app2;
    make_resource(&app1, "app1", c->res.state, c->res.pending, c->res.target_in_service,
                  c->res.checks, c->res.init);
    apply_with(&app1, c);
    /* A neighbour that no case names: its presence must change nothing. */
    make_resource(&app2, "app2", LK_STATE_ISP, LK_PENDING_NONE, true, Q, LK_INIT_AUTORES_ISP);
    struct lk_resource *const list[] = {&app2, &app1};
    struct lk_view view = {
            .resources = list, .count = 2, .node = "node1", .holding = c->with.holding};

    struct lk_event ev = {
            .type = c->ev.type,
            .tag = c->ev.tag ? c->ev.tag : "app1",
            .action = c->ev.action,
            .result = c->ev.result,
            .now_usec = c->ev.now_usec,
            .pid = c->ev.pid,
            .detail = c->ev.detail,
            .preempt = c->ev.preempt,
    };
    struct lk_resource before;
    memcpy(&before, &app1, sizeof(before));
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    /* A plan that still holds acts from before: the engine must empty it first. */
    plan.acts = calloc(4, sizeof(*plan.acts));
    assert_non_null(plan.acts);
    plan.capacity = 4;
    plan.count = 3;
    int r = lk_engine_decide(&view, &ev, &plan);

    size_t expected = 0;
    while (c->plan[expected]) {
        expected++;
    }
    bool same = r == c->ret && plan.count == expected;
    char lines[LK_TEST_PLAN_MAX][LINE_MAX_LEN];
    for (size_t i = 0; i < plan.count && i < LK_TEST_PLAN_MAX; i++) {
        lk_act_format(&plan.acts[i], lines[i], sizeof(lines[i]));
        if (i < expected && strcmp(lines[i], c->plan[i]) != 0) {
            same = false;
        }
    }
    if (!same) {
        print_error("case '%s': expected %d and %zu acts, got %d and %zu acts\n", c->name, c->ret,
                    expected, r, plan.count);
        for (size_t i = 0; i < expected; i++) {
            print_error("  expected: %s\n", c->plan[i]);
        }
        for (size_t i = 0; i < plan.count && i < LK_TEST_PLAN_MAX; i++) {
            print_error("  actual:   %s\n", lines[i]);
        }
    }
    if (memcmp(&before, &app1, sizeof(before)) != 0) {
        print_error("case '%s': the engine changed the view\n", c->name);
        same = false;
    }
    if (r == 0 && !lk_test_replays_alike(lk_decision_engine_json(&view, &ev, &plan), c->name)) {
        same = false;
    }
    return plan_well_formed(&plan, c->name) && same;
}

static void lk_engine_decide__table(void **state)
{
    (void) state;
    size_t failed = 0, n = sizeof(cases) / sizeof(cases[0]);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cases[i].name, cases[j].name) == 0) {
                fail_msg("two cases are named '%s'", cases[i].name);
            }
        }
        if (!run_case(&cases[i])) {
            failed++;
        }
    }
    if (failed) {
        fail_msg("%zu of %zu engine cases failed", failed, n);
    }
}

static void lk_engine_decide__null_tag_is_enoent(void **state)
{
    (void) state;
    struct lk_resource app1;
    make_resource(&app1, "app1", LK_STATE_OSU, LK_PENDING_NONE, true, 0, LK_INIT_AUTORES_ISP);
    struct lk_resource *const list[] = {&app1};
    struct lk_view view = {.resources = list, .count = 1, .node = "node1"};
    struct lk_event ev = {.type = LK_EV_RESTORE_REQUESTED, .tag = NULL};
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    plan.count = 5;
    assert_int_equal(lk_engine_decide(&view, &ev, &plan), -ENOENT);
    assert_int_equal(plan.count, 0);
}

static void lk_engine_decide__empty_view_is_enoent(void **state)
{
    (void) state;
    struct lk_view view = {.resources = NULL, .count = 0, .node = "node1"};
    struct lk_event ev = {.type = LK_EV_STARTUP, .tag = "app1"};
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    plan.count = 5;
    assert_int_equal(lk_engine_decide(&view, &ev, &plan), -ENOENT);
    assert_int_equal(plan.count, 0);
}

/* Scenarios: apply each plan's COMMIT to the resource, as the executor does, and feed the
 * next event. */

static void apply_commits(struct lk_resource *res, const struct lk_plan *plan)
{
    for (size_t i = 0; i < plan->count; i++) {
        const struct lk_act *act = &plan->acts[i];
        if (act->type == LK_ACT_COMMIT && strcmp(act->tag, res->tag) == 0) {
            lk_act_apply(act, res);
        }
    }
}

static enum lk_action planned_run(const struct lk_plan *plan)
{
    for (size_t i = 0; i < plan->count; i++) {
        if (plan->acts[i].type == LK_ACT_RUN) {
            return plan->acts[i].action;
        }
    }
    return LK_ACTION_NONE;
}

static void feed(struct lk_resource *res, enum lk_event_type type, bool run_ok,
                 struct lk_plan *plan)
{
    struct lk_resource *const list[] = {res};
    struct lk_view view = {.resources = list, .count = 1, .node = "node1"};
    struct lk_event ev = {.type = type, .tag = res->tag};
    assert_int_equal(lk_engine_decide(&view, &ev, plan), 0);
    apply_commits(res, plan);
    /* Finish whatever run the plan started: the first ends as run_ok says, what follows
     * it (the remove after a failure) succeeds. */
    for (bool first = true; planned_run(plan) != LK_ACTION_NONE; first = false) {
        struct lk_event done = {.type = LK_EV_RUN_FINISHED, .tag = res->tag};
        done.action = planned_run(plan);
        bool ok = run_ok || !first;
        done.result.outcome = ok ? LK_OUTCOME_SUCCESS : LK_OUTCOME_EXIT;
        done.result.exit_status = ok ? 0 : 1;
        assert_int_equal(lk_engine_decide(&view, &done, plan), 0);
        apply_commits(res, plan);
    }
}

static void lk_engine_decide__operator_restore_then_lkstop_then_start(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct lk_resource res;
    make_resource(&res, "app1", LK_STATE_OSU, LK_PENDING_NONE, false, Q, LK_INIT_AUTORES_ISP);

    feed(&res, LK_EV_RESTORE_REQUESTED, true, &plan);
    assert_int_equal(res.state, LK_STATE_ISP);
    assert_int_equal(res.pending, LK_PENDING_NONE);
    assert_true(res.target_in_service);

    /* lkstop takes it out but remembers that it was wanted in service... */
    feed(&res, LK_EV_SHUTDOWN, true, &plan);
    assert_int_equal(res.state, LK_STATE_OSU);
    assert_true(res.target_in_service);

    /* ...so that the next start brings it back. */
    feed(&res, LK_EV_STARTUP, true, &plan);
    assert_int_equal(res.state, LK_STATE_ISP);
    assert_int_equal(res.pending, LK_PENDING_NONE);
}

/* One decision about res alone, its commits applied; returns the run it started. */
static enum lk_action decide_alone(struct lk_resource *res, const struct lk_event *ev,
                                   struct lk_plan *plan)
{
    struct lk_resource *const list[] = {res};
    struct lk_view view = {.resources = list, .count = 1, .node = "node1"};
    assert_int_equal(lk_engine_decide(&view, ev, plan), 0);
    apply_commits(res, plan);
    return planned_run(plan);
}

static struct lk_event finished(const char *tag, enum lk_action action, int status,
                                enum lk_verdict verdict)
{
    struct lk_event ev = {.type = LK_EV_RUN_FINISHED, .tag = tag, .action = action};
    ev.result.outcome = status ? LK_OUTCOME_EXIT : LK_OUTCOME_SUCCESS;
    ev.result.exit_status = status;
    ev.result.verdict = verdict;
    return ev;
}

/* An OCF agent cleanly stopped at start-up (7 on the probe): restored, no clean-up remove. */
static void lk_engine_decide__probe_finds_it_stopped_then_restores(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct lk_resource res;
    make_resource(&res, "app1", LK_STATE_ISP, LK_PENDING_NONE, true, Q, LK_INIT_AUTORES_ISP);
    struct lk_event start = {.type = LK_EV_STARTUP, .tag = "app1"};
    assert_int_equal(decide_alone(&res, &start, &plan), LK_ACTION_QUICKCHK);
    struct lk_event probe = finished("app1", LK_ACTION_QUICKCHK, 7, LK_VERDICT_NOT_RUNNING);
    /* The next run is the restore: no remove before it. */
    assert_int_equal(decide_alone(&res, &probe, &plan), LK_ACTION_RESTORE);
    assert_int_equal(res.pending, LK_PENDING_RESTORE);
    struct lk_event restored = finished("app1", LK_ACTION_RESTORE, 0, LK_VERDICT_OK);
    assert_int_equal(decide_alone(&res, &restored, &plan), LK_ACTION_NONE);
    assert_int_equal(res.state, LK_STATE_ISP);
}

/* Not installed, found by a check: failed over at once (not counted, no recover), the
 * remove that follows says not installed too and counts as done, the node stays unable
 * (stored) until an operator's reset. */
static void lk_engine_decide__not_installed_until_reset(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct lk_resource res;
    make_resource(&res, "app1", LK_STATE_ISP, LK_PENDING_NONE, true, Q | R, LK_INIT_AUTORES_ISP);
    res.settings.check_failures = 3;
    struct lk_event check = {.type = LK_EV_CHECK_FINISHED,
                             .tag = "app1",
                             .action = LK_ACTION_QUICKCHK,
                             .now_usec = NOW};
    check.result.outcome = LK_OUTCOME_EXIT;
    check.result.exit_status = 5;
    check.result.verdict = LK_VERDICT_NOT_INSTALLED;
    assert_int_equal(decide_alone(&res, &check, &plan), LK_ACTION_REMOVE);
    assert_true(res.unable);
    assert_int_equal(res.check_failures_in_row, 0);
    assert_int_equal(res.local_recoveries, 0);
    struct lk_event removed = finished("app1", LK_ACTION_REMOVE, 5, LK_VERDICT_NOT_INSTALLED);
    assert_int_equal(decide_alone(&res, &removed, &plan), LK_ACTION_NONE);
    assert_int_equal(res.state, LK_STATE_OSF);
    assert_int_equal(res.pending, LK_PENDING_NONE);
    assert_false(res.stop_failed);
    assert_true(res.unable);
    assert_non_null(strstr(res.reason, "not installed on this node"));
    struct lk_event reset = {.type = LK_EV_RESET, .tag = "app1"};
    assert_int_equal(decide_alone(&res, &reset, &plan), LK_ACTION_NONE);
    assert_false(res.unable);
    assert_int_equal(res.state, LK_STATE_OSF);
}

/* Pending checks (systemd reloading) count for nothing: three in a row leave the failure
 * count where it was. */
static void lk_engine_decide__pending_checks_are_not_counted(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct lk_resource res;
    make_resource(&res, "app1", LK_STATE_ISP, LK_PENDING_NONE, true, Q | R, LK_INIT_AUTORES_ISP);
    res.settings.check_failures = 2;
    res.check_failures_in_row = 1;
    struct lk_event check = {.type = LK_EV_CHECK_FINISHED,
                             .tag = "app1",
                             .action = LK_ACTION_QUICKCHK,
                             .now_usec = NOW};
    check.result.outcome = LK_OUTCOME_EXIT;
    check.result.exit_status = 1;
    check.result.verdict = LK_VERDICT_PENDING;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(decide_alone(&res, &check, &plan), LK_ACTION_NONE);
        assert_int_equal(plan.count, 0);
    }
    assert_int_equal(res.check_failures_in_row, 1);
    assert_int_equal(res.state, LK_STATE_ISP);
}

static void lk_engine_decide__operator_remove_survives_restart(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct lk_resource res;
    make_resource(&res, "app1", LK_STATE_ISP, LK_PENDING_NONE, true, Q, LK_INIT_AUTORES_ISP);

    feed(&res, LK_EV_REMOVE_REQUESTED, true, &plan);
    assert_int_equal(res.state, LK_STATE_OSU);
    assert_false(res.target_in_service);

    feed(&res, LK_EV_STARTUP, true, &plan);
    assert_int_equal(plan.count, 0);
    assert_int_equal(res.state, LK_STATE_OSU);
}

static void lk_engine_decide__crash_while_in_service_probe_finds_it_running(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct lk_resource res;
    make_resource(&res, "app1", LK_STATE_ISP, LK_PENDING_NONE, true, Q, LK_INIT_AUTORES_ISP);

    feed(&res, LK_EV_STARTUP, true, &plan);
    /* The last plan is the probe's result: no restore was run. */
    assert_int_equal(res.state, LK_STATE_ISP);
    assert_int_equal(res.pending, LK_PENDING_NONE);
    assert_int_equal(planned_run(&plan), LK_ACTION_NONE);
    assert_string_equal(res.reason,
                        "in service: quickchk at start-up succeeded; restore not needed");
}

static void lk_engine_decide__failed_restore_needs_operator(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct lk_resource res;
    make_resource(&res, "app1", LK_STATE_OSU, LK_PENDING_NONE, true, Q, LK_INIT_AUTORES_ISP);

    feed(&res, LK_EV_RESTORE_REQUESTED, false, &plan);
    assert_int_equal(res.state, LK_STATE_OSF);
    assert_string_equal(res.reason, "restore action failed: exit status 1");

    /* A restart does not retry a failed resource on its own. */
    feed(&res, LK_EV_STARTUP, true, &plan);
    assert_int_equal(plan.count, 0);
    assert_int_equal(res.state, LK_STATE_OSF);

    /* A remove cleans it up to OSU. */
    feed(&res, LK_EV_REMOVE_REQUESTED, true, &plan);
    assert_int_equal(res.state, LK_STATE_OSU);
    assert_false(res.target_in_service);
}

/* A scheduled check of res ends at now with exit status 0 or 1; whatever run the plan
 * starts (recover, say) ends with recover_ok, and what follows that (the remove after a
 * failure) succeeds. Returns the check's plan's run, if any. */
static enum lk_action check(struct lk_resource *res, bool ok, uint64_t now, bool recover_ok,
                            struct lk_plan *plan)
{
    struct lk_resource *const list[] = {res};
    struct lk_view view = {.resources = list, .count = 1, .node = "node1"};
    struct lk_event ev = {.type = LK_EV_CHECK_FINISHED,
                          .tag = res->tag,
                          .action = LK_ACTION_QUICKCHK,
                          .now_usec = now};
    ev.result.outcome = ok ? LK_OUTCOME_SUCCESS : LK_OUTCOME_EXIT;
    ev.result.exit_status = ok ? 0 : 1;
    assert_int_equal(lk_engine_decide(&view, &ev, plan), 0);
    apply_commits(res, plan);
    enum lk_action started = planned_run(plan);
    for (enum lk_action next = started; next != LK_ACTION_NONE; next = planned_run(plan)) {
        struct lk_event done = {.type = LK_EV_RUN_FINISHED, .tag = res->tag, .action = next};
        bool run_ok = recover_ok || next != started;
        done.result.outcome = run_ok ? LK_OUTCOME_SUCCESS : LK_OUTCOME_EXIT;
        done.result.exit_status = run_ok ? 0 : 1;
        assert_int_equal(lk_engine_decide(&view, &done, plan), 0);
        apply_commits(res, plan);
    }
    return started;
}

static void lk_engine_decide__check_failures_must_be_in_a_row(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct lk_resource res;
    make_resource(&res, "app1", LK_STATE_ISP, LK_PENDING_NONE, true, Q | R, LK_INIT_AUTORES_ISP);
    res.settings.check_failures = 3;

    assert_int_equal(check(&res, false, NOW, true, &plan), LK_ACTION_NONE);
    assert_int_equal(check(&res, false, NOW + SEC, true, &plan), LK_ACTION_NONE);
    assert_int_equal(res.check_failures_in_row, 2);
    /* A success in between starts the count again. */
    assert_int_equal(check(&res, true, NOW + 2 * SEC, true, &plan), LK_ACTION_NONE);
    assert_int_equal(res.check_failures_in_row, 0);
    assert_int_equal(check(&res, false, NOW + 3 * SEC, true, &plan), LK_ACTION_NONE);
    assert_int_equal(check(&res, false, NOW + 4 * SEC, true, &plan), LK_ACTION_NONE);
    assert_int_equal(res.local_recoveries, 0);
    /* The third in a row: recover, which works; restore is not run. */
    assert_int_equal(check(&res, false, NOW + 5 * SEC, true, &plan), LK_ACTION_RECOVER);
    assert_int_equal(res.state, LK_STATE_ISP);
    assert_int_equal(res.pending, LK_PENDING_NONE);
    assert_int_equal(res.check_failures_in_row, 0);
    assert_int_equal(res.local_recoveries, 1);
    assert_string_equal(res.reason, "recovered in place by recover; restore not run");
}

static void lk_engine_decide__recovery_loop_limit_then_reset(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct lk_resource res;
    make_resource(&res, "app1", LK_STATE_ISP, LK_PENDING_NONE, true, Q | R, LK_INIT_AUTORES_ISP);
    res.settings.max_recoveries = 2;

    assert_int_equal(check(&res, false, NOW, true, &plan), LK_ACTION_RECOVER);
    assert_int_equal(check(&res, false, NOW + 10 * SEC, true, &plan), LK_ACTION_RECOVER);
    assert_int_equal(res.state, LK_STATE_ISP);
    assert_int_equal(res.local_recoveries, 2);
    assert_int_equal(lk_resource_recoveries_in_window(&res, NOW + 20 * SEC), 2);

    /* The third within the window: unrecoverable here, removed, OSF. */
    assert_int_equal(check(&res, false, NOW + 20 * SEC, true, &plan), LK_ACTION_REMOVE);
    assert_int_equal(res.pending, LK_PENDING_NONE);
    assert_int_equal(res.state, LK_STATE_OSF);
    assert_string_equal(res.reason, "quickchk failed: exit status 1; 2 local recoveries within "
                                    "600 s; no backup node to fail over to");

    /* The operator clears the counters and the window, and restores. */
    feed(&res, LK_EV_RESET, true, &plan);
    assert_int_equal(res.local_recoveries, 0);
    assert_int_equal(res.check_failures_in_row, 0);
    assert_int_equal(lk_resource_recoveries_in_window(&res, NOW + 30 * SEC), 0);
    feed(&res, LK_EV_RESTORE_REQUESTED, true, &plan);
    assert_int_equal(res.state, LK_STATE_ISP);

    /* Recovered locally again, well within the old window. */
    assert_int_equal(check(&res, false, NOW + 30 * SEC, true, &plan), LK_ACTION_RECOVER);
    assert_int_equal(res.state, LK_STATE_ISP);
    assert_int_equal(res.local_recoveries, 1);
}

static void lk_engine_decide__recovery_window_slides(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct lk_resource res;
    make_resource(&res, "app1", LK_STATE_ISP, LK_PENDING_NONE, true, Q | R, LK_INIT_AUTORES_ISP);
    res.settings.max_recoveries = 2;
    res.settings.recovery_window_usec = 60 * SEC;

    /* One recovery every 40 s never has two others within 60 s before it. */
    for (uint64_t i = 0; i < 10; i++) {
        assert_int_equal(check(&res, false, NOW + i * 40 * SEC, true, &plan), LK_ACTION_RECOVER);
        assert_int_equal(res.state, LK_STATE_ISP);
    }
    assert_int_equal(res.local_recoveries, 10);
    /* Every 20 s does. */
    assert_int_equal(check(&res, false, NOW + 380 * SEC, true, &plan), LK_ACTION_RECOVER);
    assert_int_equal(check(&res, false, NOW + 400 * SEC, true, &plan), LK_ACTION_REMOVE);
    assert_int_equal(res.state, LK_STATE_OSF);
}

static void lk_engine_decide__failed_recover_is_osf_with_the_whole_story(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct lk_resource res;
    make_resource(&res, "app1", LK_STATE_ISP, LK_PENDING_NONE, true, D | R, LK_INIT_AUTORES_ISP);
    struct lk_resource *const list[] = {&res};
    struct lk_view view = {.resources = list, .count = 1, .node = "node1"};
    struct lk_event ev = {.type = LK_EV_CHECK_FINISHED,
                          .tag = "app1",
                          .action = LK_ACTION_DEEPCHK,
                          .now_usec = NOW};
    ev.result.outcome = LK_OUTCOME_SIGNAL;
    ev.result.term_signal = SIGABRT;
    assert_int_equal(lk_engine_decide(&view, &ev, &plan), 0);
    apply_commits(&res, &plan);
    assert_int_equal(res.pending, LK_PENDING_RECOVER);

    struct lk_event done = {.type = LK_EV_RUN_FINISHED, .tag = "app1", .action = LK_ACTION_RECOVER};
    done.result.outcome = LK_OUTCOME_EXIT;
    done.result.exit_status = 1;
    assert_int_equal(lk_engine_decide(&view, &done, &plan), 0);
    apply_commits(&res, &plan);
    /* OSF, but removed before anything else: the application may still run. */
    assert_int_equal(res.state, LK_STATE_OSF);
    assert_int_equal(res.pending, LK_PENDING_FAIL_REMOVE);
    assert_int_equal(planned_run(&plan), LK_ACTION_REMOVE);
    struct lk_event removed = {
            .type = LK_EV_RUN_FINISHED, .tag = "app1", .action = LK_ACTION_REMOVE};
    removed.result.outcome = LK_OUTCOME_SUCCESS;
    assert_int_equal(lk_engine_decide(&view, &removed, &plan), 0);
    apply_commits(&res, &plan);
    assert_int_equal(res.state, LK_STATE_OSF);
    assert_int_equal(res.pending, LK_PENDING_NONE);
    assert_false(res.stop_failed);
    assert_string_equal(res.reason, "deepchk failed: killed by signal 6 (SIGABRT); recover failed: "
                                    "exit status 1; no backup node to fail over to");
    /* No restore follows, and a later check result is dropped. */
    assert_int_equal(planned_run(&plan), LK_ACTION_NONE);
    assert_int_equal(lk_engine_decide(&view, &ev, &plan), 0);
    assert_int_equal(plan.count, 0);
}

/* Hierarchies (#4): views of several resources joined by dependencies. Each test builds a
 * hierarchy, feeds events one at a time, applies every plan's COMMITs to the resources
 * (as the executor does) and checks the plans line by line, or the runs they start. */

#define HIER_MAX 64

struct hier {
    struct lk_resource res[HIER_MAX];
    struct lk_resource *list[HIER_MAX];
    struct lk_dep deps[HIER_MAX];
    struct lk_view view;
};

static struct hier *hier_new(void)
{
    struct hier *h = calloc(1, sizeof(*h));
    assert_non_null(h);
    h->view.resources = h->list;
    h->view.deps = h->deps;
    h->view.node = "node1";
    return h;
}

static struct lk_resource *hier_add(struct hier *h, const char *tag, enum lk_state state,
                                    enum lk_pending pending, bool target, unsigned checks)
{
    assert_true(h->view.count < HIER_MAX);
    struct lk_resource *res = &h->res[h->view.count];
    make_resource(res, tag, state, pending, target, checks, LK_INIT_AUTORES_ISP);
    h->list[h->view.count++] = res;
    return res;
}

static void hier_dep(struct hier *h, const char *parent, const char *child)
{
    assert_true(h->view.dep_count < HIER_MAX);
    struct lk_dep *d = &h->deps[h->view.dep_count++];
    snprintf(d->parent, sizeof(d->parent), "%s", parent);
    snprintf(d->child, sizeof(d->child), "%s", child);
}

static struct lk_resource *hier_get(struct hier *h, const char *tag)
{
    size_t i = 0;
    while (i < h->view.count && strcmp(h->res[i].tag, tag) != 0) {
        i++;
    }
    if (i == h->view.count) {
        fail_msg("no resource '%s' in the hierarchy", tag);
    }
    return &h->res[i < HIER_MAX ? i : 0];
}

/* Decides ev and applies the plan's COMMITs to every resource. */
static int hier_event(struct hier *h, const struct lk_event *ev, struct lk_plan *plan)
{
    int r = lk_engine_decide(&h->view, ev, plan);
    for (size_t i = 0; i < h->view.count; i++) {
        apply_commits(&h->res[i], plan);
    }
    return r;
}

static void hier_request(struct hier *h, enum lk_event_type type, const char *tag,
                         struct lk_plan *plan)
{
    struct lk_event ev = {.type = type, .tag = tag};
    assert_int_equal(hier_event(h, &ev, plan), 0);
}

/* A run of tag ended, with exit status 0 or 1. */
static void hier_finish(struct hier *h, const char *tag, enum lk_action action, bool ok,
                        struct lk_plan *plan)
{
    struct lk_event ev = {.type = LK_EV_RUN_FINISHED, .tag = tag, .action = action};
    ev.result.outcome = ok ? LK_OUTCOME_SUCCESS : LK_OUTCOME_EXIT;
    ev.result.exit_status = ok ? 0 : 1;
    ev.result.duration_usec = 1234 * 1000;
    assert_int_equal(hier_event(h, &ev, plan), 0);
}

/* The plan, as lk_act_format prints it, must be exactly the NULL-terminated lines. */
static void expect_plan_(const struct lk_plan *plan, const char *where, ...)
{
    const char *want[LK_TEST_PLAN_MAX + 1];
    size_t n = 0;
    va_list ap;
    va_start(ap, where);
    for (const char *s; n < LK_TEST_PLAN_MAX && (s = va_arg(ap, const char *));) {
        want[n++] = s;
    }
    va_end(ap);
    bool same = plan->count == n;
    char line[LINE_MAX_LEN];
    for (size_t i = 0; same && i < n; i++) {
        same = strcmp(lk_act_format(&plan->acts[i], line, sizeof(line)), want[i]) == 0;
    }
    if (!same) {
        print_error("%s: expected %zu acts, got %zu\n", where, n, plan->count);
        for (size_t i = 0; i < n; i++) {
            print_error("  expected: %s\n", want[i]);
        }
        for (size_t i = 0; i < plan->count; i++) {
            print_error("  actual:   %s\n", lk_act_format(&plan->acts[i], line, sizeof(line)));
        }
        fail_msg("%s: plan differs", where);
    }
}
#define STR_(x)                #x
#define STR(x)                 STR_(x)
#define expect_plan(plan, ...) expect_plan_((plan), __FILE__ ":" STR(__LINE__), __VA_ARGS__, NULL)
#define expect_no_plan(plan)   expect_plan_((plan), __FILE__ ":" STR(__LINE__), NULL)

/* The runs a plan starts, "tag action" joined by ", ", in plan order. */
static const char *runs_of(const struct lk_plan *plan)
{
    static char buf[4096];
    buf[0] = '\0';
    for (size_t i = 0; i < plan->count; i++) {
        if (plan->acts[i].type != LK_ACT_RUN) {
            continue;
        }
        size_t len = strlen(buf);
        snprintf(buf + len, sizeof(buf) - len, "%s%s %s", len ? ", " : "", plan->acts[i].tag,
                 lk_action_name(plan->acts[i].action));
    }
    return buf;
}

/* "tag STATE[/pending]" of every resource, in view order, joined by ", ". */
static const char *states_of(const struct hier *h)
{
    static char buf[4096];
    buf[0] = '\0';
    for (size_t i = 0; i < h->view.count; i++) {
        const struct lk_resource *res = &h->res[i];
        size_t len = strlen(buf);
        snprintf(buf + len, sizeof(buf) - len, "%s%s %s%s%s", len ? ", " : "", res->tag,
                 lk_state_name(res->state), res->pending ? "/" : "", lk_pending_name(res->pending));
    }
    return buf;
}

#define W_RESTORE(tag, st)                                                                         \
    "COMMIT " tag " " st " pending=restore-wait target=in reason=waiting to restore"
#define W_REMOVE(tag, st, target)                                                                  \
    "COMMIT " tag " " st " pending=remove-wait target=" target " reason=waiting to remove"
#define RESTORING(tag, st)                                                                         \
    "COMMIT " tag " " st " pending=restore target=in reason=restore in progress"
#define REMOVING(tag, st, target)                                                                  \
    "COMMIT " tag " " st " pending=remove target=" target " reason=remove in progress"
#define RESTORE_RUN(tag) "LOG " tag " 1200 INFO restore started", "RUN " tag " restore"
#define REMOVE_RUN(tag)  "LOG " tag " 1203 INFO remove started", "RUN " tag " remove"
#define RESTORED(tag)                                                                              \
    "COMMIT " tag " ISP pending=- target=in reason=restore action has succeeded",                  \
            "LOG " tag " 1201 INFO restore action has succeeded (1234 ms)"
#define REMOVED(tag, target)                                                                       \
    "COMMIT " tag " OSU pending=- target=" target " reason=remove action has succeeded",           \
            "LOG " tag " 1204 INFO remove action has succeeded (1234 ms)"

/* root → a, root → b: restore of the root queues all three and starts the leaves only;
 * the root starts when the last of its children is in service. */
static void lk_engine_decide__hierarchy_restore_starts_leaves_then_parent(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct hier *h = hier_new();
    hier_add(h, "root", LK_STATE_OSU, LK_PENDING_NONE, false, Q);
    hier_add(h, "a", LK_STATE_OSU, LK_PENDING_NONE, false, Q);
    hier_add(h, "b", LK_STATE_OSU, LK_PENDING_NONE, false, Q);
    hier_dep(h, "root", "a");
    hier_dep(h, "root", "b");

    hier_request(h, LK_EV_RESTORE_REQUESTED, "root", &plan);
    expect_plan(&plan, W_RESTORE("root", "OSU"), RESTORING("a", "OSU"), RESTORING("b", "OSU"),
                RESTORE_RUN("a"), RESTORE_RUN("b"));
    assert_string_equal(states_of(h), "root OSU/restore-wait, a OSU/restore, b OSU/restore");

    /* One child in service: the root still waits for the other. */
    hier_finish(h, "b", LK_ACTION_RESTORE, true, &plan);
    expect_plan(&plan, RESTORED("b"));
    hier_finish(h, "a", LK_ACTION_RESTORE, true, &plan);
    expect_plan(&plan, RESTORED("a"), RESTORING("root", "OSU"), RESTORE_RUN("root"));
    hier_finish(h, "root", LK_ACTION_RESTORE, true, &plan);
    expect_plan(&plan, RESTORED("root"));
    assert_string_equal(states_of(h), "root ISP, a ISP, b ISP");

    /* Restore of a member already in service: nothing to do. */
    hier_request(h, LK_EV_RESTORE_REQUESTED, "root", &plan);
    expect_no_plan(&plan);
    free(h);
}

/* A child already in service is not restored again; restore of a child alone does not
 * touch its parent. */
static void lk_engine_decide__hierarchy_restore_skips_children_in_service(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct hier *h = hier_new();
    hier_add(h, "root", LK_STATE_OSU, LK_PENDING_NONE, false, Q);
    hier_add(h, "a", LK_STATE_OSU, LK_PENDING_NONE, false, Q);
    hier_add(h, "b", LK_STATE_ISP, LK_PENDING_NONE, true, Q);
    hier_dep(h, "root", "a");
    hier_dep(h, "root", "b");

    hier_request(h, LK_EV_RESTORE_REQUESTED, "a", &plan);
    expect_plan(&plan, RESTORING("a", "OSU"), RESTORE_RUN("a"));
    hier_finish(h, "a", LK_ACTION_RESTORE, true, &plan);
    expect_plan(&plan, RESTORED("a"));
    assert_string_equal(states_of(h), "root OSU, a ISP, b ISP");

    /* Both children in service: the root starts at once. */
    hier_request(h, LK_EV_RESTORE_REQUESTED, "root", &plan);
    expect_plan(&plan, RESTORING("root", "OSU"), RESTORE_RUN("root"));
    free(h);
}

/* root → a → c, root → b → c: the shared child is queued and restored once, first; a and
 * b then together; the root last. */
static void lk_engine_decide__hierarchy_diamond_restores_shared_child_once(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct hier *h = hier_new();
    hier_add(h, "root", LK_STATE_OSU, LK_PENDING_NONE, false, Q);
    hier_add(h, "a", LK_STATE_OSU, LK_PENDING_NONE, false, Q);
    hier_add(h, "b", LK_STATE_OSU, LK_PENDING_NONE, false, Q);
    hier_add(h, "c", LK_STATE_OSU, LK_PENDING_NONE, false, Q);
    hier_dep(h, "root", "a");
    hier_dep(h, "root", "b");
    hier_dep(h, "a", "c");
    hier_dep(h, "b", "c");

    hier_request(h, LK_EV_RESTORE_REQUESTED, "root", &plan);
    expect_plan(&plan, W_RESTORE("root", "OSU"), W_RESTORE("a", "OSU"), RESTORING("c", "OSU"),
                W_RESTORE("b", "OSU"), RESTORE_RUN("c"));
    hier_finish(h, "c", LK_ACTION_RESTORE, true, &plan);
    assert_string_equal(runs_of(&plan), "a restore, b restore");
    hier_finish(h, "a", LK_ACTION_RESTORE, true, &plan);
    assert_string_equal(runs_of(&plan), "");
    hier_finish(h, "b", LK_ACTION_RESTORE, true, &plan);
    assert_string_equal(runs_of(&plan), "root restore");
    hier_finish(h, "root", LK_ACTION_RESTORE, true, &plan);
    assert_string_equal(states_of(h), "root ISP, a ISP, b ISP, c ISP");
    free(h);
}

/* root → a → a1, root → b → b1, root → c → c1: b1 fails and is removed (it may be half
 * up); then b and the root become OSF naming the child that failed, the a and c branches
 * still finish. */
static void lk_engine_decide__hierarchy_failed_child_fails_ancestors_only(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct hier *h = hier_new();
    hier_add(h, "root", LK_STATE_OSU, LK_PENDING_NONE, false, Q);
    const char *branches[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        char leaf[8];
        snprintf(leaf, sizeof(leaf), "%s1", branches[i]);
        hier_add(h, branches[i], LK_STATE_OSU, LK_PENDING_NONE, false, Q);
        hier_add(h, leaf, LK_STATE_OSU, LK_PENDING_NONE, false, Q);
        hier_dep(h, "root", branches[i]);
        hier_dep(h, branches[i], leaf);
    }
    hier_request(h, LK_EV_RESTORE_REQUESTED, "root", &plan);
    assert_string_equal(runs_of(&plan), "a1 restore, b1 restore, c1 restore");

    hier_finish(h, "b1", LK_ACTION_RESTORE, false, &plan);
    expect_plan(&plan,
                "COMMIT b1 OSF pending=fail-remove target=in reason=restore action failed: exit "
                "status 1",
                "LOG b1 1202 ERROR restore action failed: exit status 1", REMOVE_RUN("b1"));
    assert_string_equal(states_of(h), "root OSU/restore-wait, a OSU/restore-wait, a1 OSU/restore, "
                                      "b OSU/restore-wait, b1 OSF/fail-remove, c OSU/restore-wait, "
                                      "c1 OSU/restore");
    hier_finish(h, "b1", LK_ACTION_REMOVE, true, &plan);
    expect_plan(
            &plan, "COMMIT b1 OSF pending=- target=in reason=restore action failed: exit status 1",
            "LOG b1 1204 INFO remove action has succeeded (1234 ms)",
            "COMMIT b OSF pending=- target=in reason=restore not attempted: child 'b1' is OSF "
            "(failed)",
            "LOG b 1202 ERROR restore action failed: restore not attempted: child 'b1' is OSF "
            "(failed)",
            "COMMIT root OSF pending=- target=in reason=restore not attempted: child 'b' is OSF "
            "(failed)",
            "LOG root 1202 ERROR restore action failed: restore not attempted: child 'b' is "
            "OSF (failed)");
    assert_string_equal(states_of(h),
                        "root OSF, a OSU/restore-wait, a1 OSU/restore, b OSF, b1 OSF, "
                        "c OSU/restore-wait, c1 OSU/restore");

    /* The independent branches go on. */
    hier_finish(h, "a1", LK_ACTION_RESTORE, true, &plan);
    assert_string_equal(runs_of(&plan), "a restore");
    hier_finish(h, "c1", LK_ACTION_RESTORE, true, &plan);
    assert_string_equal(runs_of(&plan), "c restore");
    hier_finish(h, "a", LK_ACTION_RESTORE, true, &plan);
    hier_finish(h, "c", LK_ACTION_RESTORE, true, &plan);
    assert_string_equal(runs_of(&plan), "");
    assert_string_equal(states_of(h), "root OSF, a ISP, a1 ISP, b OSF, b1 OSF, c ISP, c1 ISP");
    free(h);
}

/* top → mid → low, all in service: remove of low removes top, then mid, then low. */
static void lk_engine_decide__hierarchy_remove_of_child_removes_ancestors_first(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct hier *h = hier_new();
    hier_add(h, "low", LK_STATE_ISP, LK_PENDING_NONE, true, Q);
    hier_add(h, "mid", LK_STATE_ISP, LK_PENDING_NONE, true, Q);
    hier_add(h, "top", LK_STATE_ISP, LK_PENDING_NONE, true, Q);
    hier_dep(h, "top", "mid");
    hier_dep(h, "mid", "low");

    hier_request(h, LK_EV_REMOVE_REQUESTED, "low", &plan);
    expect_plan(&plan, W_REMOVE("low", "ISP", "out"), W_REMOVE("mid", "ISP", "out"),
                REMOVING("top", "ISP", "out"), REMOVE_RUN("top"));
    hier_finish(h, "top", LK_ACTION_REMOVE, true, &plan);
    expect_plan(&plan, REMOVED("top", "out"), REMOVING("mid", "ISP", "out"), REMOVE_RUN("mid"));
    hier_finish(h, "mid", LK_ACTION_REMOVE, true, &plan);
    expect_plan(&plan, REMOVED("mid", "out"), REMOVING("low", "ISP", "out"), REMOVE_RUN("low"));
    hier_finish(h, "low", LK_ACTION_REMOVE, true, &plan);
    expect_plan(&plan, REMOVED("low", "out"));
    assert_string_equal(states_of(h), "low OSU, mid OSU, top OSU");

    /* Restore of the top brings them back bottom-up. */
    hier_request(h, LK_EV_RESTORE_REQUESTED, "top", &plan);
    assert_string_equal(runs_of(&plan), "low restore");
    hier_finish(h, "low", LK_ACTION_RESTORE, true, &plan);
    assert_string_equal(runs_of(&plan), "mid restore");
    hier_finish(h, "mid", LK_ACTION_RESTORE, true, &plan);
    assert_string_equal(runs_of(&plan), "top restore");
    free(h);
}

/* p1 → c, p2 → c (two roots share a child; the seed system's bug removed them in the
 * wrong order): c is removed only once both parents are out of service, whichever of
 * them ends first; remove of p1 alone leaves c and p2 in service. */
static void lk_engine_decide__hierarchy_shared_child_removed_after_all_parents(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct hier *h = hier_new();
    /* The child first in the view: an order by view position would start it first. */
    hier_add(h, "c", LK_STATE_ISP, LK_PENDING_NONE, true, Q);
    hier_add(h, "p1", LK_STATE_ISP, LK_PENDING_NONE, true, Q);
    hier_add(h, "p2", LK_STATE_ISP, LK_PENDING_NONE, true, Q);
    hier_dep(h, "p1", "c");
    hier_dep(h, "p2", "c");

    hier_request(h, LK_EV_REMOVE_REQUESTED, "p1", &plan);
    expect_plan(&plan, REMOVING("p1", "ISP", "out"), REMOVE_RUN("p1"));
    hier_finish(h, "p1", LK_ACTION_REMOVE, true, &plan);
    expect_plan(&plan, REMOVED("p1", "out"));
    assert_string_equal(states_of(h), "c ISP, p1 OSU, p2 ISP");

    hier_request(h, LK_EV_RESTORE_REQUESTED, "p1", &plan);
    expect_plan(&plan, RESTORING("p1", "OSU"), RESTORE_RUN("p1"));
    hier_finish(h, "p1", LK_ACTION_RESTORE, true, &plan);

    hier_request(h, LK_EV_REMOVE_REQUESTED, "c", &plan);
    expect_plan(&plan, W_REMOVE("c", "ISP", "out"), REMOVING("p1", "ISP", "out"),
                REMOVING("p2", "ISP", "out"), REMOVE_RUN("p1"), REMOVE_RUN("p2"));
    hier_finish(h, "p2", LK_ACTION_REMOVE, true, &plan);
    expect_plan(&plan, REMOVED("p2", "out"));
    assert_int_equal(hier_get(h, "c")->pending, LK_PENDING_REMOVE_WAIT);
    hier_finish(h, "p1", LK_ACTION_REMOVE, true, &plan);
    expect_plan(&plan, REMOVED("p1", "out"), REMOVING("c", "ISP", "out"), REMOVE_RUN("c"));
    hier_finish(h, "c", LK_ACTION_REMOVE, true, &plan);
    assert_string_equal(states_of(h), "c OSU, p1 OSU, p2 OSU");
    free(h);
}

/* One action per hierarchy: while any member has something pending, a restore or remove
 * of another member is refused; an unrelated resource is not held up. */
static void lk_engine_decide__hierarchy_busy_refuses_other_members(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct hier *h = hier_new();
    hier_add(h, "a", LK_STATE_OSU, LK_PENDING_RESTORE, true, Q);
    hier_add(h, "root", LK_STATE_OSU, LK_PENDING_RESTORE_WAIT, true, Q);
    hier_add(h, "b", LK_STATE_ISP, LK_PENDING_NONE, true, Q);
    hier_add(h, "other", LK_STATE_ISP, LK_PENDING_NONE, true, Q);
    hier_dep(h, "root", "a");
    hier_dep(h, "root", "b");

    hier_request(h, LK_EV_REMOVE_REQUESTED, "b", &plan);
    expect_plan(&plan, "REFUSE b the hierarchy of 'b' is busy: restore in progress on 'a'");
    hier_request(h, LK_EV_RESTORE_REQUESTED, "b", &plan);
    expect_plan(&plan, "REFUSE b the hierarchy of 'b' is busy: restore in progress on 'a'");
    hier_request(h, LK_EV_REMOVE_REQUESTED, "root", &plan);
    expect_plan(&plan, "REFUSE root resource 'root' is busy: restore-wait in progress");
    hier_request(h, LK_EV_RESTORE_REQUESTED, "a", &plan);
    expect_plan(&plan, "REFUSE a resource 'a' is busy: restore in progress");
    assert_string_equal(states_of(h), "a OSU/restore, root OSU/restore-wait, b ISP, other ISP");

    hier_request(h, LK_EV_REMOVE_REQUESTED, "other", &plan);
    expect_plan(&plan, REMOVING("other", "ISP", "out"), REMOVE_RUN("other"));

    assert_ptr_equal(lk_engine_hierarchy_busy(&h->view, "b"), hier_get(h, "a"));
    assert_ptr_equal(lk_engine_hierarchy_busy(&h->view, "root"), hier_get(h, "root"));
    assert_ptr_equal(lk_engine_hierarchy_busy(&h->view, "other"), hier_get(h, "other"));
    hier_get(h, "other")->pending = LK_PENDING_NONE;
    assert_null(lk_engine_hierarchy_busy(&h->view, "other"));
    assert_null(lk_engine_hierarchy_busy(&h->view, "nope"));
    free(h);
}

/* root → child: a state set by hand keeps the order of a hierarchy (a parent is in service
 * only over children in service): OSU of the child is refused while the root is in service,
 * ISP of the root while the child is out; in the right order both go, and nothing runs. */
static void lk_engine_decide__hierarchy_state_by_hand_keeps_the_order(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct hier *h = hier_new();
    hier_add(h, "child", LK_STATE_ISP, LK_PENDING_NONE, true, Q);
    hier_add(h, "root", LK_STATE_ISP, LK_PENDING_NONE, true, Q);
    hier_add(h, "other", LK_STATE_OSU, LK_PENDING_NONE, false, Q);
    hier_dep(h, "root", "child");

    struct lk_event out = {.type = LK_EV_MARK_OUT, .tag = "child", .detail = "m"};
    assert_int_equal(hier_event(h, &out, &plan), 0);
    expect_plan(&plan, "REFUSE child resource 'root' depends on 'child' and is ISP here: set it "
                       "OSU first");
    out.tag = "root";
    assert_int_equal(hier_event(h, &out, &plan), 0);
    assert_string_equal(runs_of(&plan), "");
    out.tag = "child";
    assert_int_equal(hier_event(h, &out, &plan), 0);
    assert_string_equal(runs_of(&plan), "");
    assert_string_equal(states_of(h), "child OSU, root OSU, other OSU");
    assert_false(hier_get(h, "root")->target_in_service);

    struct lk_event in = {.type = LK_EV_MARK_IN, .tag = "root", .detail = "back"};
    assert_int_equal(hier_event(h, &in, &plan), 0);
    expect_plan(&plan, "REFUSE root resource 'root' depends on 'child', which is OSU here: set it "
                       "in service first");
    in.tag = "child";
    assert_int_equal(hier_event(h, &in, &plan), 0);
    in.tag = "root";
    assert_int_equal(hier_event(h, &in, &plan), 0);
    assert_string_equal(runs_of(&plan), "");
    assert_string_equal(states_of(h), "child ISP, root ISP, other OSU");
    assert_string_equal(hier_get(h, "root")->reason, "back");
    assert_true(hier_get(h, "root")->target_in_service);

    /* A child only dependencies name (not defined here) refuses too. */
    hier_dep(h, "other", "ghost");
    in.tag = "other";
    assert_int_equal(hier_event(h, &in, &plan), 0);
    expect_plan(&plan, "REFUSE other resource 'other' depends on 'ghost', which is not defined "
                       "here");
    free(h);
}

/* A whole-hierarchy remove of an out-of-service parent still removes its children in
 * service (start-up found the child running while another node owns the hierarchy; the
 * cluster asks for the whole hierarchy by its root: issue 9 S3, lksim seed 11). */
static void lk_engine_decide__hierarchy_remove_whole_of_an_OSU_root(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct hier *h = hier_new();
    hier_add(h, "ip", LK_STATE_ISP, LK_PENDING_NONE, true, Q);
    hier_add(h, "app", LK_STATE_OSU, LK_PENDING_NONE, false, Q);
    hier_dep(h, "app", "ip");

    struct lk_event ev = {.type = LK_EV_REMOVE_REQUESTED, .tag = "app", .whole_hierarchy = true};
    assert_int_equal(hier_event(h, &ev, &plan), 0);
    expect_plan(&plan, REMOVING("ip", "ISP", "out"), REMOVE_RUN("ip"));
    hier_finish(h, "ip", LK_ACTION_REMOVE, true, &plan);
    expect_plan(&plan, REMOVED("ip", "out"));
    assert_string_equal(states_of(h), "ip OSU, app OSU");

    /* Not whole: the OSU resource alone, nothing else changes. */
    h->res[0].state = LK_STATE_ISP;
    ev.whole_hierarchy = false;
    assert_int_equal(hier_event(h, &ev, &plan), 0);
    expect_no_plan(&plan);
    free(h);
}

/* The cluster preempts a hierarchy that is being restored here (another node holds it
 * now): top -> mid -> low, top -> side; low and side in service, mid's restore running,
 * top queued. Never refused: top's queued restore is dropped, side (its parent out) is
 * removed at once, low waits for mid, whose restore ends and leads to its remove. */
static void lk_engine_decide__hierarchy_preempt_during_restore(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct hier *h = hier_new();
    hier_add(h, "low", LK_STATE_ISP, LK_PENDING_NONE, true, Q);
    hier_add(h, "mid", LK_STATE_OSU, LK_PENDING_RESTORE, true, Q);
    hier_add(h, "top", LK_STATE_OSU, LK_PENDING_RESTORE_WAIT, true, Q);
    hier_add(h, "side", LK_STATE_ISP, LK_PENDING_NONE, true, Q);
    hier_dep(h, "top", "mid");
    hier_dep(h, "mid", "low");
    hier_dep(h, "top", "side");

    /* Without preempt, busy: refused. */
    struct lk_event ev = {.type = LK_EV_REMOVE_REQUESTED, .tag = "top", .whole_hierarchy = true};
    assert_int_equal(hier_event(h, &ev, &plan), 0);
    expect_plan(&plan, "REFUSE top resource 'top' is busy: restore-wait in progress");

    ev.preempt = true;
    assert_int_equal(hier_event(h, &ev, &plan), 0);
    expect_plan(&plan, "COMMIT mid OSU pending=restore target=out reason=" PRIOR,
                "COMMIT top OSU pending=- target=out reason=restore not started: the hierarchy "
                "was removed",
                W_REMOVE("low", "ISP", "out"), REMOVING("side", "ISP", "out"), REMOVE_RUN("side"));
    assert_string_equal(states_of(h), "low ISP/remove-wait, mid OSU/restore, top OSU, "
                                      "side ISP/remove");
    /* A second preempt (the coordinator asks again) changes nothing. */
    assert_int_equal(hier_event(h, &ev, &plan), 0);
    expect_no_plan(&plan);

    hier_finish(h, "side", LK_ACTION_REMOVE, true, &plan);
    expect_plan(&plan, REMOVED("side", "out"));
    /* The running restore ends: mid is in service for a moment, then removed; then low. */
    hier_finish(h, "mid", LK_ACTION_RESTORE, true, &plan);
    expect_plan(&plan, REMOVING("mid", "ISP", "out"),
                "LOG mid 1201 INFO restore action has succeeded (1234 ms)", REMOVE_RUN("mid"));
    hier_finish(h, "mid", LK_ACTION_REMOVE, true, &plan);
    expect_plan(&plan, REMOVED("mid", "out"), REMOVING("low", "ISP", "out"), REMOVE_RUN("low"));
    hier_finish(h, "low", LK_ACTION_REMOVE, true, &plan);
    expect_plan(&plan, REMOVED("low", "out"));
    assert_string_equal(states_of(h), "low OSU, mid OSU, top OSU, side OSU");
    for (size_t i = 0; i < h->view.count; i++) {
        assert_false(h->res[i].target_in_service);
    }
    free(h);
}

/* A preempted restore that fails: removed like any failed restore (OSF), then its child. */
static void lk_engine_decide__hierarchy_preempt_then_restore_fails(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct hier *h = hier_new();
    hier_add(h, "low", LK_STATE_ISP, LK_PENDING_NONE, true, Q);
    hier_add(h, "top", LK_STATE_OSU, LK_PENDING_RESTORE, true, Q);
    hier_dep(h, "top", "low");
    struct lk_event ev = {
            .type = LK_EV_REMOVE_REQUESTED, .tag = "low", .whole_hierarchy = true, .preempt = true};
    assert_int_equal(hier_event(h, &ev, &plan), 0);
    expect_plan(&plan, "COMMIT top OSU pending=restore target=out reason=" PRIOR,
                W_REMOVE("low", "ISP", "out"));
    hier_finish(h, "top", LK_ACTION_RESTORE, false, &plan);
    expect_plan(&plan,
                "COMMIT top OSF pending=fail-remove target=out reason=restore action failed: exit "
                "status 1",
                "LOG top 1202 ERROR restore action failed: exit status 1", REMOVE_RUN("top"));
    hier_finish(h, "top", LK_ACTION_REMOVE, true, &plan);
    expect_plan(&plan,
                "COMMIT top OSF pending=- target=out reason=restore action failed: exit status 1",
                "LOG top 1204 INFO remove action has succeeded (1234 ms)",
                REMOVING("low", "ISP", "out"), REMOVE_RUN("low"));
    hier_finish(h, "low", LK_ACTION_REMOVE, true, &plan);
    assert_string_equal(states_of(h), "low OSU, top OSF");
    free(h);
}

static bool always(const void *ctx, const char *tag)
{
    (void) ctx;
    (void) tag;
    return true;
}

/* Start-up of a node whose hierarchy another node owns (INIT_OSU: probe, remove a copy
 * found running): parent -> child, both in service before. The child's probe fails first:
 * its removal waits for the parent, still probing. The parent's probe finds it running:
 * it is removed first, then the child; nothing stays queued (issue 9: lkstart hung, the
 * parent's application ran on next to the owner's copy). */
static void
lk_engine_decide__hierarchy_startup_owned_elsewhere_child_probe_fails_first(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct hier *h = hier_new();
    h->view.owned_elsewhere = always;
    hier_add(h, "child", LK_STATE_ISP, LK_PENDING_NONE, true, Q);
    hier_add(h, "parent", LK_STATE_ISP, LK_PENDING_NONE, true, Q);
    hier_dep(h, "parent", "child");

    hier_request(h, LK_EV_STARTUP, "child", &plan);
    assert_string_equal(runs_of(&plan), "child quickchk");
    hier_request(h, LK_EV_STARTUP, "parent", &plan);
    assert_string_equal(runs_of(&plan), "parent quickchk");

    hier_finish(h, "child", LK_ACTION_QUICKCHK, false, &plan);
    expect_plan(&plan, "LOG child 1211 WARNING quickchk at start-up failed: exit status 1",
                W_REMOVE("child", "ISP", "out"));
    hier_finish(h, "parent", LK_ACTION_QUICKCHK, true, &plan);
    expect_plan(&plan,
                "COMMIT parent ISP pending=- target=in reason=in service: quickchk at start-up "
                "succeeded; restore not needed",
                "LOG parent 1210 INFO quickchk at start-up succeeded: the application runs, "
                "restore not needed",
                REMOVING("parent", "ISP", "out"), REMOVE_RUN("parent"));
    hier_finish(h, "parent", LK_ACTION_REMOVE, true, &plan);
    expect_plan(&plan, REMOVED("parent", "out"), REMOVING("child", "ISP", "out"),
                REMOVE_RUN("child"));
    hier_finish(h, "child", LK_ACTION_REMOVE, true, &plan);
    expect_plan(&plan, REMOVED("child", "out"));
    assert_string_equal(states_of(h), "child OSU, parent OSU");
    free(h);
}

/* A start-up probe failed while no owner was known, so the clean-up remove runs before a
 * restore; the owner's records arrive meanwhile (owned elsewhere now). When the remove
 * succeeds nothing is restored, and the parent found running is removed too. */
static void lk_engine_decide__hierarchy_startup_cleanup_then_owned_elsewhere(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct hier *h = hier_new();
    hier_add(h, "child", LK_STATE_OSF, LK_PENDING_CLEANUP, true, Q);
    hier_add(h, "parent", LK_STATE_ISP, LK_PENDING_NONE, true, Q);
    hier_dep(h, "parent", "child");
    h->view.owned_elsewhere = always;
    hier_finish(h, "child", LK_ACTION_REMOVE, true, &plan);
    assert_string_equal(runs_of(&plan), "parent remove");
    hier_finish(h, "parent", LK_ACTION_REMOVE, true, &plan);
    assert_string_equal(runs_of(&plan), "");
    assert_string_equal(states_of(h), "child OSU, parent OSU");
    free(h);
}

/* The same rule outside start-up: a failed child waits for its parent's restore, which
 * succeeds; the parent is then removed (keeping its intent), then the child. */
static void lk_engine_decide__hierarchy_failed_child_pulls_in_a_parent_restored_later(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct hier *h = hier_new();
    hier_add(h, "child", LK_STATE_OSF, LK_PENDING_FAIL_REMOVE_WAIT, true, Q);
    hier_add(h, "parent", LK_STATE_OSU, LK_PENDING_RESTORE, true, Q);
    hier_dep(h, "parent", "child");
    snprintf(hier_get(h, "child")->reason, LK_REASON_MAX, "%s", QCAUSE);
    hier_finish(h, "parent", LK_ACTION_RESTORE, true, &plan);
    expect_plan(&plan, RESTORED("parent"), REMOVING("parent", "ISP", "in"), REMOVE_RUN("parent"));
    hier_finish(h, "parent", LK_ACTION_REMOVE, true, &plan);
    expect_plan(&plan, REMOVED("parent", "in"),
                "COMMIT child OSF pending=fail-remove target=in reason=" QCAUSE,
                REMOVE_RUN("child"));
    free(h);
}

static void lk_engine_would_cycle__prints_the_cycle(void **state)
{
    (void) state;
    struct hier *h = hier_new();
    char buf[256];
    hier_add(h, "a", LK_STATE_OSU, LK_PENDING_NONE, false, Q);
    hier_add(h, "b", LK_STATE_OSU, LK_PENDING_NONE, false, Q);
    hier_add(h, "c", LK_STATE_OSU, LK_PENDING_NONE, false, Q);
    hier_add(h, "x", LK_STATE_OSU, LK_PENDING_NONE, false, Q);
    hier_add(h, "y", LK_STATE_OSU, LK_PENDING_NONE, false, Q);

    /* Nothing yet: only the self-dependency is a cycle. */
    assert_false(lk_engine_would_cycle(&h->view, "a", "b", buf, sizeof(buf)));
    assert_true(lk_engine_would_cycle(&h->view, "a", "a", buf, sizeof(buf)));
    assert_string_equal(buf, "a -> a");

    hier_dep(h, "b", "c");
    hier_dep(h, "c", "a");
    assert_true(lk_engine_would_cycle(&h->view, "a", "b", buf, sizeof(buf)));
    assert_string_equal(buf, "a -> b -> c -> a");

    /* A dead end explored first must not stay in the printed path. */
    hier_dep(h, "b", "x");
    hier_dep(h, "x", "y");
    h->view.dep_count = 0;
    hier_dep(h, "b", "x");
    hier_dep(h, "x", "y");
    hier_dep(h, "b", "c");
    hier_dep(h, "c", "a");
    assert_true(lk_engine_would_cycle(&h->view, "a", "b", buf, sizeof(buf)));
    assert_string_equal(buf, "a -> b -> c -> a");

    /* A diamond is not a cycle; neither is a second path to the same child. */
    h->view.dep_count = 0;
    hier_dep(h, "a", "b");
    hier_dep(h, "a", "c");
    hier_dep(h, "b", "x");
    hier_dep(h, "c", "x");
    assert_false(lk_engine_would_cycle(&h->view, "a", "x", buf, sizeof(buf)));
    assert_false(lk_engine_would_cycle(&h->view, "y", "a", buf, sizeof(buf)));
    assert_true(lk_engine_would_cycle(&h->view, "x", "a", buf, sizeof(buf)));
    assert_string_equal(buf, "x -> a -> b -> x");

    /* A small buffer is cut, never overrun. */
    char small[8];
    assert_true(lk_engine_would_cycle(&h->view, "x", "a", small, sizeof(small)));
    assert_string_equal(small, "x -> a ");
    free(h);
}

static void lk_engine_connected__through_parents_and_children(void **state)
{
    (void) state;
    struct hier *h = hier_new();
    hier_add(h, "p1", LK_STATE_OSU, LK_PENDING_NONE, false, Q);
    hier_add(h, "p2", LK_STATE_OSU, LK_PENDING_NONE, false, Q);
    hier_add(h, "c", LK_STATE_OSU, LK_PENDING_NONE, false, Q);
    hier_add(h, "g", LK_STATE_OSU, LK_PENDING_NONE, false, Q);
    hier_add(h, "alone", LK_STATE_OSU, LK_PENDING_NONE, false, Q);
    assert_true(lk_engine_connected(&h->view, "alone", "alone"));
    assert_false(lk_engine_connected(&h->view, "p1", "p2"));

    hier_dep(h, "p1", "c");
    hier_dep(h, "p2", "c");
    hier_dep(h, "c", "g");
    /* Up, down, and across a shared child. */
    assert_true(lk_engine_connected(&h->view, "p1", "c"));
    assert_true(lk_engine_connected(&h->view, "c", "p1"));
    assert_true(lk_engine_connected(&h->view, "p1", "p2"));
    assert_true(lk_engine_connected(&h->view, "g", "p2"));
    assert_false(lk_engine_connected(&h->view, "alone", "p1"));
    assert_false(lk_engine_connected(&h->view, "g", "alone"));
    assert_false(lk_engine_connected(&h->view, "nope", "g"));
    free(h);
}

/* A failed check of a child with no recover: the child is OSF and everything that
 * depends on it is removed, top down, keeping the intent "in service"; the child last. */
static void lk_engine_decide__hierarchy_failed_check_removes_the_hierarchy_top_down(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct hier *h = hier_new();
    hier_add(h, "low", LK_STATE_ISP, LK_PENDING_NONE, true, Q);
    hier_add(h, "mid", LK_STATE_ISP, LK_PENDING_NONE, true, Q);
    hier_add(h, "top", LK_STATE_ISP, LK_PENDING_NONE, true, Q);
    hier_add(h, "side", LK_STATE_ISP, LK_PENDING_NONE, true, Q);
    hier_dep(h, "top", "mid");
    hier_dep(h, "mid", "low");
    hier_dep(h, "top", "side");

    struct lk_event ev = {.type = LK_EV_CHECK_FINISHED,
                          .tag = "low",
                          .action = LK_ACTION_QUICKCHK,
                          .now_usec = NOW};
    ev.result.outcome = LK_OUTCOME_EXIT;
    ev.result.exit_status = 1;
    assert_int_equal(hier_event(h, &ev, &plan), 0);
    expect_plan(&plan, "LOG low 1500 WARNING quickchk failed: exit status 1 (1 of 1 in a row)",
                "COMMIT low OSF pending=fail-remove-wait target=in failures=1 recoveries=0 "
                "reason=quickchk failed: exit status 1; no backup node to fail over to",
                "LOG low 1505 ERROR resource failed (quickchk failed: exit status 1); no backup "
                "node to fail over to: OSF",
                W_REMOVE("mid", "ISP", "in"), REMOVING("top", "ISP", "in"),
                W_REMOVE("side", "ISP", "in"), REMOVE_RUN("top"));

    /* Checks of the other members wait while the hierarchy is busy. */
    ev.tag = "side";
    assert_int_equal(hier_event(h, &ev, &plan), 0);
    expect_no_plan(&plan);

    /* The whole hierarchy is handled together: after the top, both of its children. */
    hier_finish(h, "top", LK_ACTION_REMOVE, true, &plan);
    expect_plan(&plan, REMOVED("top", "in"), REMOVING("mid", "ISP", "in"), REMOVE_RUN("mid"),
                REMOVING("side", "ISP", "in"), REMOVE_RUN("side"));
    hier_finish(h, "mid", LK_ACTION_REMOVE, true, &plan);
    /* Then the failed child itself: it may still run; it stays OSF with its cause. */
    expect_plan(&plan, REMOVED("mid", "in"),
                "COMMIT low OSF pending=fail-remove target=in failures=1 recoveries=0 "
                "reason=quickchk failed: exit status 1; no backup node to fail over to",
                REMOVE_RUN("low"));
    hier_finish(h, "side", LK_ACTION_REMOVE, true, &plan);
    expect_plan(&plan, REMOVED("side", "in"));
    assert_string_equal(states_of(h), "low OSF/fail-remove, mid OSU, top OSU, side OSU");
    hier_finish(h, "low", LK_ACTION_REMOVE, true, &plan);
    expect_plan(&plan,
                "COMMIT low OSF pending=- target=in failures=1 recoveries=0 reason=quickchk "
                "failed: exit status 1; no backup node to fail over to",
                "LOG low 1204 INFO remove action has succeeded (1234 ms)");
    assert_string_equal(states_of(h), "low OSF, mid OSU, top OSU, side OSU");

    /* The next restore of the top brings the whole hierarchy back: the leaves first, the
     * failed child among them. */
    hier_request(h, LK_EV_RESTORE_REQUESTED, "top", &plan);
    assert_string_equal(runs_of(&plan), "low restore, side restore");
    free(h);
}

/* Startup after a crash in the middle of a hierarchy restore: the queued parent waits for
 * its child, whose interrupted restore is probed first; then the parent is restored. */
static void lk_engine_decide__hierarchy_startup_waits_for_the_childs_probe(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct hier *h = hier_new();
    hier_add(h, "child", LK_STATE_OSU, LK_PENDING_RESTORE, true, Q);
    hier_add(h, "done", LK_STATE_ISP, LK_PENDING_NONE, true, Q);
    hier_add(h, "parent", LK_STATE_OSU, LK_PENDING_RESTORE_WAIT, true, Q);
    hier_dep(h, "parent", "child");
    hier_dep(h, "parent", "done");

    /* lkd feeds STARTUP to every resource in tag order. */
    hier_request(h, LK_EV_STARTUP, "child", &plan);
    expect_plan(&plan,
                "LOG child 1003 WARNING restore was interrupted by a daemon stop or crash; "
                "finishing it safely",
                "COMMIT child OSU pending=probe target=in reason=probing with quickchk after start",
                "RUN child quickchk");
    hier_request(h, LK_EV_STARTUP, "done", &plan);
    expect_plan(&plan,
                "COMMIT done ISP pending=probe target=in reason=probing with quickchk after start",
                "RUN done quickchk");
    hier_request(h, LK_EV_STARTUP, "parent", &plan);
    expect_no_plan(&plan);

    /* The probe says the child never came up: cleaned, restored, then the parent. */
    hier_finish(h, "child", LK_ACTION_QUICKCHK, false, &plan);
    assert_string_equal(runs_of(&plan), "child remove");
    hier_finish(h, "done", LK_ACTION_QUICKCHK, true, &plan);
    assert_string_equal(runs_of(&plan), "");
    hier_finish(h, "child", LK_ACTION_REMOVE, true, &plan);
    assert_string_equal(runs_of(&plan), "child restore");
    assert_int_equal(hier_get(h, "parent")->pending, LK_PENDING_RESTORE_WAIT);
    hier_finish(h, "child", LK_ACTION_RESTORE, true, &plan);
    expect_plan(&plan, RESTORED("child"), RESTORING("parent", "OSU"), RESTORE_RUN("parent"));
    hier_finish(h, "parent", LK_ACTION_RESTORE, true, &plan);
    assert_string_equal(states_of(h), "child ISP, done ISP, parent ISP");
    free(h);
}

/* The same crash, but the child's restore had finished its work: the probe passes and the
 * parent starts without a second restore of the child. */
static void lk_engine_decide__hierarchy_startup_probe_ok_starts_the_parent(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct hier *h = hier_new();
    hier_add(h, "child", LK_STATE_OSU, LK_PENDING_RESTORE, true, Q);
    hier_add(h, "parent", LK_STATE_OSU, LK_PENDING_RESTORE_WAIT, true, Q);
    hier_dep(h, "parent", "child");

    hier_request(h, LK_EV_STARTUP, "child", &plan);
    assert_string_equal(runs_of(&plan), "child quickchk");
    hier_request(h, LK_EV_STARTUP, "parent", &plan);
    expect_no_plan(&plan);
    hier_finish(h, "child", LK_ACTION_QUICKCHK, true, &plan);
    expect_plan(&plan,
                "COMMIT child ISP pending=- target=in reason=in service: quickchk at start-up "
                "succeeded; restore not needed",
                "LOG child 1210 INFO quickchk at start-up succeeded: the application runs, "
                "restore not needed",
                RESTORING("parent", "OSU"), RESTORE_RUN("parent"));
    free(h);
}

/* 50 levels: restore runs strictly bottom-up, remove strictly top-down, one at a time. */
static void lk_engine_decide__hierarchy_deep_chain(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct hier *h = hier_new();
    char tag[16], below[16], want[64];
    for (int i = 0; i < 50; i++) {
        snprintf(tag, sizeof(tag), "l%02d", i);
        hier_add(h, tag, LK_STATE_OSU, LK_PENDING_NONE, false, Q);
        if (i > 0) {
            snprintf(below, sizeof(below), "l%02d", i - 1);
            hier_dep(h, tag, below);
        }
    }
    hier_request(h, LK_EV_RESTORE_REQUESTED, "l49", &plan);
    for (int i = 0; i < 50; i++) {
        snprintf(tag, sizeof(tag), "l%02d", i);
        snprintf(want, sizeof(want), "%s restore", tag);
        assert_string_equal(runs_of(&plan), want);
        hier_finish(h, tag, LK_ACTION_RESTORE, true, &plan);
    }
    assert_string_equal(runs_of(&plan), "");
    hier_request(h, LK_EV_REMOVE_REQUESTED, "l00", &plan);
    for (int i = 49; i >= 0; i--) {
        snprintf(tag, sizeof(tag), "l%02d", i);
        snprintf(want, sizeof(want), "%s remove", tag);
        assert_string_equal(runs_of(&plan), want);
        hier_finish(h, tag, LK_ACTION_REMOVE, true, &plan);
    }
    for (int i = 0; i < 50; i++) {
        assert_int_equal(h->res[i].state, LK_STATE_OSU);
        assert_int_equal(h->res[i].pending, LK_PENDING_NONE);
        assert_false(h->res[i].target_in_service);
    }
    free(h);
}

/* lkstop while a parent waits for its children: queued restores are dropped (intent kept)
 * and what is in service is removed; before, the parent waited for a child that waited,
 * queued for removal, for the parent, and lkstop never ended. */
static void lk_engine_decide__hierarchy_shutdown_during_restore_ends(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct hier *h = hier_new();
    hier_add(h, "c1", LK_STATE_OSU, LK_PENDING_NONE, false, Q);
    hier_add(h, "c2", LK_STATE_OSU, LK_PENDING_NONE, false, Q);
    hier_add(h, "p", LK_STATE_OSU, LK_PENDING_NONE, false, Q);
    hier_dep(h, "p", "c1");
    hier_dep(h, "p", "c2");
    hier_request(h, LK_EV_RESTORE_REQUESTED, "p", &plan);
    assert_string_equal(runs_of(&plan), "c1 restore, c2 restore");

    /* lkstop feeds SHUTDOWN to every resource, then again to each whose run ends. */
    hier_request(h, LK_EV_SHUTDOWN, "c1", &plan);
    expect_plan(&plan, "COMMIT p OSU pending=- target=in reason=restore not started: the daemon "
                       "is stopping");
    hier_request(h, LK_EV_SHUTDOWN, "c2", &plan);
    expect_no_plan(&plan);
    hier_request(h, LK_EV_SHUTDOWN, "p", &plan);
    expect_no_plan(&plan);
    hier_finish(h, "c1", LK_ACTION_RESTORE, true, &plan);
    expect_plan(&plan, RESTORED("c1"));
    hier_request(h, LK_EV_SHUTDOWN, "c1", &plan);
    expect_plan(&plan, REMOVING("c1", "ISP", "in"), REMOVE_RUN("c1"));
    hier_finish(h, "c2", LK_ACTION_RESTORE, true, &plan);
    hier_request(h, LK_EV_SHUTDOWN, "c2", &plan);
    assert_string_equal(runs_of(&plan), "c2 remove");
    hier_finish(h, "c1", LK_ACTION_REMOVE, true, &plan);
    hier_finish(h, "c2", LK_ACTION_REMOVE, true, &plan);
    assert_string_equal(states_of(h), "c1 OSU, c2 OSU, p OSU");
    for (size_t i = 0; i < h->view.count; i++) {
        assert_true(h->res[i].target_in_service);
    }

    /* The next start restores the hierarchy in order. */
    hier_request(h, LK_EV_STARTUP, "c1", &plan);
    assert_string_equal(runs_of(&plan), "c1 restore");
    hier_request(h, LK_EV_STARTUP, "c2", &plan);
    assert_string_equal(runs_of(&plan), "c2 restore");
    hier_request(h, LK_EV_STARTUP, "p", &plan);
    assert_string_equal(runs_of(&plan), "");
    assert_int_equal(hier_get(h, "p")->pending, LK_PENDING_RESTORE_WAIT);
    hier_finish(h, "c1", LK_ACTION_RESTORE, true, &plan);
    hier_finish(h, "c2", LK_ACTION_RESTORE, true, &plan);
    assert_string_equal(runs_of(&plan), "p restore");
    free(h);
}

/* A restart does not retry a failed resource on its own, not even for its parents: low
 * failed for good and its parents were removed keeping their intent; at the next start
 * they cannot be restored without it, and say so. */
static void lk_engine_decide__hierarchy_startup_does_not_retry_a_failed_child(void **state)
{
    (void) state;
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct hier *h = hier_new();
    hier_add(h, "low", LK_STATE_OSF, LK_PENDING_NONE, true, Q);
    hier_add(h, "mid", LK_STATE_OSU, LK_PENDING_NONE, true, Q);
    hier_add(h, "top", LK_STATE_OSU, LK_PENDING_NONE, true, Q);
    hier_dep(h, "top", "mid");
    hier_dep(h, "mid", "low");

    /* lkd feeds STARTUP children first. */
    hier_request(h, LK_EV_STARTUP, "low", &plan);
    expect_no_plan(&plan);
    hier_request(h, LK_EV_STARTUP, "mid", &plan);
    expect_plan(&plan, W_RESTORE("mid", "OSU"),
                "COMMIT mid OSF pending=- target=in reason=restore not attempted: child 'low' is "
                "OSF (failed)",
                "LOG mid 1202 ERROR restore action failed: restore not attempted: child 'low' is "
                "OSF (failed)");
    hier_request(h, LK_EV_STARTUP, "top", &plan);
    assert_string_equal(runs_of(&plan), "");
    assert_string_equal(states_of(h), "low OSF, mid OSF, top OSF");
    assert_string_equal(hier_get(h, "top")->reason,
                        "restore not attempted: child 'mid' is OSF (failed)");

    /* The operator's restore retries the whole hierarchy, the failed child first. */
    hier_request(h, LK_EV_RESTORE_REQUESTED, "top", &plan);
    assert_string_equal(runs_of(&plan), "low restore");
    free(h);
}

/* lk_act_format */

static void lk_act_format__unknown_type(void **state)
{
    (void) state;
    struct lk_act act = {.type = LK_ACT_COUNT};
    char buf[64];
    assert_ptr_equal(lk_act_format(&act, buf, sizeof(buf)), buf);
    assert_string_equal(buf, "?");
}

static void lk_act_format__truncates(void **state)
{
    (void) state;
    struct lk_act act = {.type = LK_ACT_RUN, .tag = "app1", .action = LK_ACTION_RESTORE};
    char buf[8];
    lk_act_format(&act, buf, sizeof(buf));
    assert_string_equal(buf, "RUN app");
}

static void lk_act_format__each_type(void **state)
{
    (void) state;
    char buf[LINE_MAX_LEN];

    struct lk_act commit = {.type = LK_ACT_COMMIT,
                            .tag = "app1",
                            .state = LK_STATE_OSF,
                            .pending = LK_PENDING_NONE,
                            .target_in_service = false,
                            .text = "why not"};
    assert_string_equal(lk_act_format(&commit, buf, sizeof(buf)),
                        "COMMIT app1 OSF pending=- target=out reason=why not");
    commit.state = LK_STATE_ISU;
    commit.pending = LK_PENDING_PROBE;
    commit.target_in_service = true;
    commit.text[0] = '\0';
    assert_string_equal(lk_act_format(&commit, buf, sizeof(buf)),
                        "COMMIT app1 ISU pending=probe target=in reason=");
    commit.pending = LK_PENDING_RECOVER;
    commit.check_failures_in_row = 0;
    commit.local_recoveries = 2;
    commit.recovery_at_usec = 1;
    assert_string_equal(lk_act_format(&commit, buf, sizeof(buf)),
                        "COMMIT app1 ISU pending=recover target=in failures=0 recoveries=2 "
                        "+recovery reason=");
    commit.pending = LK_PENDING_NONE;
    commit.check_failures_in_row = 3;
    commit.local_recoveries = 0;
    commit.recovery_at_usec = 0;
    commit.forget_recoveries = true;
    assert_string_equal(lk_act_format(&commit, buf, sizeof(buf)),
                        "COMMIT app1 ISU pending=- target=in failures=3 recoveries=0 -recoveries "
                        "reason=");

    static const char *const runs[LK_ACTION_COUNT] = {
            "RUN app1 restore", "RUN app1 remove",  "RUN app1 quickchk",
            "RUN app1 deepchk", "RUN app1 recover",
    };
    for (int a = 0; a < LK_ACTION_COUNT; a++) {
        struct lk_act run = {.type = LK_ACT_RUN, .tag = "app1", .action = (enum lk_action) a};
        assert_string_equal(lk_act_format(&run, buf, sizeof(buf)), runs[a]);
    }

    struct lk_act log = {.type = LK_ACT_LOG,
                         .tag = "app1",
                         .number = 1517,
                         .severity = LK_SEV_WARNING,
                         .text = "check timed out"};
    assert_string_equal(lk_act_format(&log, buf, sizeof(buf)),
                        "LOG app1 1517 WARNING check timed out");
    log.severity = LK_SEV_ERROR;
    log.number = 1202;
    assert_string_equal(lk_act_format(&log, buf, sizeof(buf)),
                        "LOG app1 1202 ERROR check timed out");

    struct lk_act refuse = {.type = LK_ACT_REFUSE, .tag = "app1", .text = "busy"};
    assert_string_equal(lk_act_format(&refuse, buf, sizeof(buf)), "REFUSE app1 busy");
}

static void lk_event_type_name__all(void **state)
{
    (void) state;
    assert_string_equal(lk_event_type_name(LK_EV_COUNT), "?");
    assert_string_equal(lk_event_type_name(LK_EV_RESTORE_REQUESTED), "restore-requested");
    assert_string_equal(lk_event_type_name(LK_EV_REMOVE_REQUESTED), "remove-requested");
    assert_string_equal(lk_event_type_name(LK_EV_RUN_FINISHED), "run-finished");
    assert_string_equal(lk_event_type_name(LK_EV_STARTUP), "startup");
    assert_string_equal(lk_event_type_name(LK_EV_SHUTDOWN), "shutdown");
    assert_string_equal(lk_event_type_name(LK_EV_CHECK_FINISHED), "check-finished");
    assert_string_equal(lk_event_type_name(LK_EV_PROCESS_EXITED), "process-exited");
    assert_string_equal(lk_event_type_name(LK_EV_SETTINGS_CHANGED), "settings-changed");
    assert_string_equal(lk_event_type_name(LK_EV_RESET), "reset");
    assert_string_equal(lk_event_type_name(LK_EV_MARK_IN), "mark-in");
    assert_string_equal(lk_event_type_name(LK_EV_MARK_OUT), "mark-out");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_engine_decide__null_tag_is_enoent),
            cmocka_unit_test(lk_engine_decide__empty_view_is_enoent),
            cmocka_unit_test(lk_engine_decide__table),
            cmocka_unit_test(lk_engine_decide__operator_restore_then_lkstop_then_start),
            cmocka_unit_test(lk_engine_decide__operator_remove_survives_restart),
            cmocka_unit_test(lk_engine_decide__probe_finds_it_stopped_then_restores),
            cmocka_unit_test(lk_engine_decide__not_installed_until_reset),
            cmocka_unit_test(lk_engine_decide__pending_checks_are_not_counted),
            cmocka_unit_test(lk_engine_decide__crash_while_in_service_probe_finds_it_running),
            cmocka_unit_test(lk_engine_decide__failed_restore_needs_operator),
            cmocka_unit_test(lk_engine_decide__check_failures_must_be_in_a_row),
            cmocka_unit_test(lk_engine_decide__recovery_loop_limit_then_reset),
            cmocka_unit_test(lk_engine_decide__recovery_window_slides),
            cmocka_unit_test(lk_engine_decide__failed_recover_is_osf_with_the_whole_story),
            cmocka_unit_test(lk_engine_decide__hierarchy_restore_starts_leaves_then_parent),
            cmocka_unit_test(lk_engine_decide__hierarchy_restore_skips_children_in_service),
            cmocka_unit_test(lk_engine_decide__hierarchy_diamond_restores_shared_child_once),
            cmocka_unit_test(lk_engine_decide__hierarchy_failed_child_fails_ancestors_only),
            cmocka_unit_test(lk_engine_decide__hierarchy_remove_of_child_removes_ancestors_first),
            cmocka_unit_test(lk_engine_decide__hierarchy_shared_child_removed_after_all_parents),
            cmocka_unit_test(lk_engine_decide__hierarchy_busy_refuses_other_members),
            cmocka_unit_test(lk_engine_decide__hierarchy_state_by_hand_keeps_the_order),
            cmocka_unit_test(
                    lk_engine_decide__hierarchy_failed_check_removes_the_hierarchy_top_down),
            cmocka_unit_test(lk_engine_decide__hierarchy_startup_waits_for_the_childs_probe),
            cmocka_unit_test(lk_engine_decide__hierarchy_startup_probe_ok_starts_the_parent),
            cmocka_unit_test(lk_engine_decide__hierarchy_deep_chain),
            cmocka_unit_test(lk_engine_decide__hierarchy_shutdown_during_restore_ends),
            cmocka_unit_test(lk_engine_decide__hierarchy_startup_does_not_retry_a_failed_child),
            cmocka_unit_test(lk_engine_decide__hierarchy_remove_whole_of_an_OSU_root),
            cmocka_unit_test(lk_engine_decide__hierarchy_preempt_during_restore),
            cmocka_unit_test(lk_engine_decide__hierarchy_preempt_then_restore_fails),
            cmocka_unit_test(
                    lk_engine_decide__hierarchy_startup_owned_elsewhere_child_probe_fails_first),
            cmocka_unit_test(lk_engine_decide__hierarchy_startup_cleanup_then_owned_elsewhere),
            cmocka_unit_test(
                    lk_engine_decide__hierarchy_failed_child_pulls_in_a_parent_restored_later),
            cmocka_unit_test(lk_engine_would_cycle__prints_the_cycle),
            cmocka_unit_test(lk_engine_connected__through_parents_and_children),
            cmocka_unit_test(lk_act_format__unknown_type),
            cmocka_unit_test(lk_act_format__truncates),
            cmocka_unit_test(lk_act_format__each_type),
            cmocka_unit_test(lk_event_type_name__all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
