/* Unit tests for the systemd type (io/type_systemd.c) and unit names (src/systemd/
 * unitname.c): which names a resource may have, the lk_systemd run each action prepares
 * (argv, environment, timeout), the exit-status table of classify per action (one case per
 * row of docs/SYSTEMD.md's table) with the reason taken from the last output line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "env_get.h"
#include "restype.h"
#include "sdunit.h"
#include "type_systemd.h"

static void unit_resource(struct lk_resource *res, const char *unit)
{
    memset(res, 0, sizeof(*res));
    snprintf(res->tag, sizeof(res->tag), "web");
    snprintf(res->id, sizeof(res->id), "web");
    snprintf(res->app, sizeof(res->app), "systemd");
    snprintf(res->type, sizeof(res->type), "%s", unit);
    lk_settings_init(&res->settings);
    lk_type_fill_actions(res);
}

static void lk_unit_name_valid__accepts_units_refuses_the_rest(void **state)
{
    (void) state;
    const char *good[] = {"nginx.service", "getty@tty1.service", "a-b_c:d.socket",
                          "x.target",      "srv-data.mount",     "back\\x2dup.timer"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_true(lk_unit_name_valid(good[i], NULL, 0));
    }
    struct {
        const char *name;
        const char *says;
    } bad[] = {
            {"", "empty"},
            {"nginx", "no unit type"},
            {"nginx.conf", "no unit type"},
            {"getty@.service", "template"},
            {"a@b@c.service", "more than one"},
            {".service", "must start"},
            {"-x.service", "must start"},
            {"ng inx.service", "character"},
            {"../etc.service", "character"},
            {"x/y.service", "character"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[256] = "";
        assert_false(lk_unit_name_valid(bad[i].name, err, sizeof(err)));
        assert_non_null(strstr(err, bad[i].says));
        assert_null(strchr(err, '\n'));
    }
    char longname[300];
    memset(longname, 'a', 260);
    snprintf(longname + 260, sizeof(longname) - 260, ".service");
    assert_false(lk_unit_name_valid(longname, NULL, 0));
    assert_true(lk_unit_is_service("a.service"));
    assert_false(lk_unit_is_service("a.socket"));
}

static void lk_type_check__systemd_needs_a_startable_unit(void **state)
{
    (void) state;
    struct lk_resource res;
    char err[256] = "";
    unit_resource(&res, "nginx.service");
    assert_ptr_equal(lk_type_find("systemd"), &lk_type_systemd);
    assert_int_equal(lk_type_check(&res, err, sizeof(err)), 0);
    unit_resource(&res, "nginx@.service");
    assert_int_equal(lk_type_check(&res, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "systemd resource: unit name 'nginx@.service' is a template"));
    for (int a = 0; a < LK_ACTION_COUNT; a++) {
        unit_resource(&res, "nginx.service");
        assert_true(res.has_script[a]);
    }
}

static void lk_type_prepare__systemd_runs_lk_systemd(void **state)
{
    (void) state;
    struct lk_resource res;
    unit_resource(&res, "nginx.service");
    res.settings.action_timeout_usec = 20 * 1000000ULL;
    struct lk_type_ctx ctx = {.root = "/opt/lk", .node_name = "n1", .exe_dir = "/nonexistent"};
    setenv(LK_SYSTEMD_ENV_BUS, "unix:path=/run/x/systemd/private", 1);
    struct {
        enum lk_action action;
        const char *verb;
        bool watch;
    } rows[] = {
            {LK_ACTION_RESTORE, "start", true},   {LK_ACTION_REMOVE, "stop", false},
            {LK_ACTION_RECOVER, "restart", true}, {LK_ACTION_QUICKCHK, "status", false},
            {LK_ACTION_DEEPCHK, "status", false},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct lk_type_run run;
        char err[256] = "";
        assert_int_equal(lk_type_prepare(&ctx, &res, rows[i].action, 0, &run, err, sizeof(err)), 0);
        assert_string_equal(run.spec.path, "/nonexistent/lk_systemd");
        assert_non_null(run.spec.argv);
        assert_string_equal(run.spec.argv[1], rows[i].verb);
        assert_string_equal(run.spec.argv[2], "nginx.service");
        assert_null(run.spec.argv[3]);
        assert_string_equal(lk_test_env_get(run.spec.env, "LKROOT"), "/opt/lk");
        assert_string_equal(lk_test_env_get(run.spec.env, "LK_TAG"), "web");
        assert_string_equal(lk_test_env_get(run.spec.env, LK_SYSTEMD_ENV_BUS),
                            "unix:path=/run/x/systemd/private");
        assert_int_equal(lk_test_env_get(run.spec.env, LK_SYSTEMD_ENV_WATCH) != NULL,
                         rows[i].watch);
        if (rows[i].action == LK_ACTION_RESTORE) {
            assert_string_equal(lk_test_env_get(run.spec.env, LK_SYSTEMD_ENV_TIMEOUT), "20000");
            assert_int_equal(run.spec.timeout_usec, 20 * 1000000ULL);
        }
        assert_null(run.spec.secure_root);
        lk_type_run_free(&run);
    }
    unsetenv(LK_SYSTEMD_ENV_BUS);
    struct lk_type_run run;
    assert_int_equal(
            lk_type_systemd_prepare_hold(&ctx, "web", "nginx.service", true, 1000000, &run), 0);
    assert_string_equal(run.spec.argv[1], "own");
    assert_null(lk_test_env_get(run.spec.env, LK_SYSTEMD_ENV_BUS));
    lk_type_run_free(&run);
}

static enum lk_verdict classify(enum lk_action action, unsigned flags, int status,
                                const char *output, char *reason, size_t size)
{
    struct lk_resource res;
    unit_resource(&res, "nginx.service");
    struct lk_result r = {.outcome = status ? LK_OUTCOME_EXIT : LK_OUTCOME_SUCCESS,
                          .exit_status = status};
    lk_type_classify(&res, action, flags, &r, output, strlen(output));
    if (reason) {
        snprintf(reason, size, "%s", r.exit_reason);
    }
    return r.verdict;
}

static void lk_type_classify__systemd_exit_table(void **state)
{
    (void) state;
    const enum lk_action R = LK_ACTION_RESTORE, S = LK_ACTION_REMOVE, Q = LK_ACTION_QUICKCHK,
                         C = LK_ACTION_RECOVER;
    const unsigned P = LK_TYPE_PROBE;
    struct {
        enum lk_action action;
        unsigned flags;
        int status;
        enum lk_verdict want;
    } rows[] = {
            {R, 0, LK_SD_EXIT_OK, LK_VERDICT_OK},
            {R, 0, LK_SD_EXIT_FAILED, LK_VERDICT_FAILED},
            {R, 0, LK_SD_EXIT_NOT_FOUND, LK_VERDICT_NOT_INSTALLED},
            {R, 0, LK_SD_EXIT_NO_MANAGER, LK_VERDICT_NOT_INSTALLED},
            {R, 0, LK_SD_EXIT_PENDING, LK_VERDICT_PENDING},
            {R, 0, LK_SD_EXIT_USAGE, LK_VERDICT_NOT_CONFIGURED},
            {C, 0, LK_SD_EXIT_NOT_FOUND, LK_VERDICT_NOT_INSTALLED},
            {C, 0, LK_SD_EXIT_FAILED, LK_VERDICT_FAILED},
            {S, 0, LK_SD_EXIT_OK, LK_VERDICT_OK},
            {S, 0, LK_SD_EXIT_NOT_FOUND, LK_VERDICT_NOT_RUNNING},
            {S, 0, LK_SD_EXIT_NO_MANAGER, LK_VERDICT_FAILED},
            {S, 0, LK_SD_EXIT_PENDING, LK_VERDICT_PENDING},
            {Q, 0, LK_SD_EXIT_OK, LK_VERDICT_OK},
            {Q, 0, LK_SD_EXIT_INACTIVE, LK_VERDICT_NOT_RUNNING},
            {Q, 0, LK_SD_EXIT_FAILED, LK_VERDICT_FAILED},
            {Q, 0, LK_SD_EXIT_PENDING, LK_VERDICT_PENDING},
            {Q, 0, LK_SD_EXIT_NOT_FOUND, LK_VERDICT_FAILED},
            {Q, 0, LK_SD_EXIT_NO_MANAGER, LK_VERDICT_FAILED},
            {Q, P, LK_SD_EXIT_INACTIVE, LK_VERDICT_NOT_RUNNING},
            {Q, P, LK_SD_EXIT_FAILED, LK_VERDICT_NOT_RUNNING},
            {Q, P, LK_SD_EXIT_NOT_FOUND, LK_VERDICT_NOT_RUNNING},
            {Q, P, LK_SD_EXIT_NO_MANAGER, LK_VERDICT_NOT_INSTALLED},
            {Q, 0, 3, LK_VERDICT_FAILED},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        enum lk_verdict got = classify(rows[i].action, rows[i].flags, rows[i].status, "", NULL, 0);
        if (got != rows[i].want) {
            fail_msg("row %zu: %s exit %d gave %s, want %s", i, lk_action_name(rows[i].action),
                     rows[i].status, lk_verdict_name(got), lk_verdict_name(rows[i].want));
        }
    }
}

static void lk_type_classify__systemd_reason_is_the_last_line(void **state)
{
    (void) state;
    char reason[256];
    classify(LK_ACTION_QUICKCHK, 0, 1,
             "noise\nlk_systemd: nginx.service is failed (failed, result exit-code)\n", reason,
             sizeof(reason));
    assert_string_equal(reason, "nginx.service is failed (failed, result exit-code)");
    classify(LK_ACTION_RESTORE, 0, 75, "lk_systemd: pending: StartUnit: Connection timed out",
             reason, sizeof(reason));
    assert_string_equal(reason, "pending: StartUnit: Connection timed out");
    /* Killed or timed out: as any script, the verdict left to the outcome. */
    struct lk_resource res;
    unit_resource(&res, "nginx.service");
    struct lk_result r = {.outcome = LK_OUTCOME_TIMEOUT};
    lk_type_classify(&res, LK_ACTION_RESTORE, 0, &r, "x", 1);
    assert_int_equal(r.verdict, LK_VERDICT_BY_OUTCOME);
    assert_int_equal(lk_result_verdict(&r), LK_VERDICT_FAILED);
    char buf[128];
    assert_string_equal(lk_type_describe(&res, buf, sizeof(buf)), "systemd nginx.service");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_unit_name_valid__accepts_units_refuses_the_rest),
            cmocka_unit_test(lk_type_check__systemd_needs_a_startable_unit),
            cmocka_unit_test(lk_type_prepare__systemd_runs_lk_systemd),
            cmocka_unit_test(lk_type_classify__systemd_exit_table),
            cmocka_unit_test(lk_type_classify__systemd_reason_is_the_last_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
