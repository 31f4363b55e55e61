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
#include <string.h>

#include <cmocka.h>

#include "engine.h"

#define SEC          1000000ULL
#define LINE_MAX_LEN (LK_REASON_MAX + 128)

/* Check scripts a case's resource has, besides restore and remove (always present). */
#define NOCHK 0u
#define Q     (1u << LK_ACTION_QUICKCHK)
#define D     (1u << LK_ACTION_DEEPCHK)
#define QD    (Q | D)

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
    } ev;
    int ret;
    const char *plan[LK_PLAN_MAX + 1]; /* NULL-terminated */
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
#define NOTHING        .plan = {NULL}

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
         PLAN("COMMIT app1 OSF pending=- target=in reason=restore action failed: exit status 1",
              "LOG app1 1202 ERROR restore action failed: exit status 1")},
        {"run-finished/restore-signal", RES(OSF, RESTORE, IN, NOCHK, AUTORES_ISP),
         FINISHED(RESTORE, KILLED(SIGKILL)), 0,
         PLAN("COMMIT app1 OSF pending=- target=in reason=restore action failed: killed by "
              "signal 9 (SIGKILL)",
              "LOG app1 1202 ERROR restore action failed: killed by signal 9 (SIGKILL)")},
        {"run-finished/restore-timeout", RES(OSU, RESTORE, IN, NOCHK, AUTORES_ISP),
         FINISHED(RESTORE, TIMEOUT(300)), 0,
         PLAN("COMMIT app1 OSF pending=- target=in reason=restore action failed: timed out "
              "after 300 s",
              "LOG app1 1202 ERROR restore action failed: timed out after 300 s")},
        {"run-finished/restore-not-found", RES(OSU, RESTORE, IN, NOCHK, AUTORES_ISP),
         FINISHED(RESTORE, EXEC_FAILED(ENOENT)), 0,
         PLAN("COMMIT app1 OSF pending=- target=in reason=restore action failed: could not "
              "execute: script not found",
              "LOG app1 1202 ERROR restore action failed: could not execute: script not found")},

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
         PLAN("COMMIT app1 OSF pending=- target=out reason=remove action failed: exit status 2",
              "LOG app1 1205 ERROR remove action failed: exit status 2")},
        {"run-finished/remove-timeout", RES(OSF, REMOVE, OUT, NOCHK, AUTORES_ISP),
         FINISHED(REMOVE, TIMEOUT(5)), 0,
         PLAN("COMMIT app1 OSF pending=- target=out reason=remove action failed: timed out "
              "after 5 s",
              "LOG app1 1205 ERROR remove action failed: timed out after 5 s")},

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
         PLAN("COMMIT app1 OSF pending=- target=in reason=remove action failed: exit status 1",
              "LOG app1 1205 ERROR remove action failed: exit status 1")},
        {"run-finished/wrong-action-for-pending", RES(OSU, RESTORE, IN, Q, AUTORES_ISP),
         FINISHED(REMOVE, OK), -EINVAL, NOTHING},
        {"run-finished/probe-failed-INIT_OSU", RES(ISP, PROBE, IN, Q, INIT_OSU),
         FINISHED(QUICKCHK, EXIT(7)), 0,
         PLAN("LOG app1 1211 WARNING quickchk at start-up failed: exit status 7",
              START_REMOVE(ISP, out))},

        /* STARTUP: an interrupted action */
        {"startup/pending-remove", RES(ISP, REMOVE, OUT, Q, AUTORES_ISP), EVENT(STARTUP), 0,
         PLAN(INTERRUPTED("remove"), START_REMOVE(ISP, out))},
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
    /* A neighbour that no case names: its presence must change nothing. */
    make_resource(&app2, "app2", LK_STATE_ISP, LK_PENDING_NONE, true, Q, LK_INIT_AUTORES_ISP);
    struct lk_resource *const list[] = {&app2, &app1};
    struct lk_view view = {.resources = list, .count = 2, .node = "node1"};

    struct lk_event ev = {
            .type = c->ev.type,
            .tag = c->ev.tag ? c->ev.tag : "app1",
            .action = c->ev.action,
            .result = c->ev.result,
    };
    struct lk_resource before;
    memcpy(&before, &app1, sizeof(before));
    struct lk_plan plan;
    memset(&plan, 0x5a, sizeof(plan)); /* the engine must empty it first */
    plan.count = 3;
    int r = lk_engine_decide(&view, &ev, &plan);

    size_t expected = 0;
    while (c->plan[expected]) {
        expected++;
    }
    bool same = r == c->ret && plan.count == expected;
    char lines[LK_PLAN_MAX][LINE_MAX_LEN];
    for (size_t i = 0; i < plan.count && i < LK_PLAN_MAX; i++) {
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
        for (size_t i = 0; i < plan.count && i < LK_PLAN_MAX; i++) {
            print_error("  actual:   %s\n", lines[i]);
        }
    }
    if (memcmp(&before, &app1, sizeof(before)) != 0) {
        print_error("case '%s': the engine changed the view\n", c->name);
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
    struct lk_plan plan;
    plan.count = 5;
    assert_int_equal(lk_engine_decide(&view, &ev, &plan), -ENOENT);
    assert_int_equal(plan.count, 0);
}

static void lk_engine_decide__empty_view_is_enoent(void **state)
{
    (void) state;
    struct lk_view view = {.resources = NULL, .count = 0, .node = "node1"};
    struct lk_event ev = {.type = LK_EV_STARTUP, .tag = "app1"};
    struct lk_plan plan;
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
            res->state = act->state;
            res->pending = act->pending;
            res->target_in_service = act->target_in_service;
            snprintf(res->reason, sizeof(res->reason), "%s", act->text);
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
    /* Finish whatever run the plan started. */
    while (planned_run(plan) != LK_ACTION_NONE) {
        struct lk_event done = {.type = LK_EV_RUN_FINISHED, .tag = res->tag};
        done.action = planned_run(plan);
        done.result.outcome = run_ok ? LK_OUTCOME_SUCCESS : LK_OUTCOME_EXIT;
        done.result.exit_status = run_ok ? 0 : 1;
        assert_int_equal(lk_engine_decide(&view, &done, plan), 0);
        apply_commits(res, plan);
    }
}

static void lk_engine_decide__operator_restore_then_lkstop_then_start(void **state)
{
    (void) state;
    struct lk_plan plan;
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

static void lk_engine_decide__operator_remove_survives_restart(void **state)
{
    (void) state;
    struct lk_plan plan;
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
    struct lk_plan plan;
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
    struct lk_plan plan;
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
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_engine_decide__null_tag_is_enoent),
            cmocka_unit_test(lk_engine_decide__empty_view_is_enoent),
            cmocka_unit_test(lk_engine_decide__table),
            cmocka_unit_test(lk_engine_decide__operator_restore_then_lkstop_then_start),
            cmocka_unit_test(lk_engine_decide__operator_remove_survives_restart),
            cmocka_unit_test(lk_engine_decide__crash_while_in_service_probe_finds_it_running),
            cmocka_unit_test(lk_engine_decide__failed_restore_needs_operator),
            cmocka_unit_test(lk_act_format__unknown_type),
            cmocka_unit_test(lk_act_format__truncates),
            cmocka_unit_test(lk_act_format__each_type),
            cmocka_unit_test(lk_event_type_name__all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
