/* Unit tests for restype.c, the resource-type table, and type_genapp.c, its gen/app entry:
 * lookup by app, the gen/app run (path, environment, no arguments), unknown apps refused
 * with a message, the environment/argument helpers, and classify leaving gen/app results
 * to their exit status. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "env_get.h"
#include "restype.h"
#include "scripts.h"

static void gen_resource(struct lk_resource *res)
{
    memset(res, 0, sizeof(*res));
    snprintf(res->tag, sizeof(res->tag), "app1");
    snprintf(res->id, sizeof(res->id), "id1");
    snprintf(res->app, sizeof(res->app), "gen");
    snprintf(res->type, sizeof(res->type), "app");
    snprintf(res->info, sizeof(res->info), "info");
    lk_settings_init(&res->settings);
    res->has_script[LK_ACTION_RESTORE] = true;
    res->has_script[LK_ACTION_REMOVE] = true;
    res->has_script[LK_ACTION_QUICKCHK] = true;
}

static void lk_type_find__known_and_unknown(void **state)
{
    (void) state;
    assert_ptr_equal(lk_type_find("gen"), &lk_type_genapp);
    assert_null(lk_type_find("nope"));
    assert_null(lk_type_find(""));
    assert_null(lk_type_find(NULL));
}

static void lk_type_prepare__genapp_is_the_script_copy(void **state)
{
    (void) state;
    struct lk_resource res;
    gen_resource(&res);
    struct lk_type_ctx ctx = {.root = "/opt/lk", .node_name = "n1"};
    struct lk_type_run run;
    char err[256] = "";
    assert_int_equal(
            lk_type_prepare(&ctx, &res, LK_ACTION_QUICKCHK, LK_TYPE_PROBE, &run, err, sizeof(err)),
            0);
    char want[LK_PATH_MAX + 256];
    lk_scripts_path("/opt/lk", LK_ACTION_QUICKCHK, "app1", want, sizeof(want));
    assert_string_equal(run.spec.path, want);
    assert_null(run.spec.argv);
    assert_string_equal(run.spec.cwd, "/opt/lk");
    assert_string_equal(run.spec.secure_root, "/opt/lk");
    assert_int_equal(run.spec.timeout_usec, lk_scripts_timeout(&res, LK_ACTION_QUICKCHK));
    assert_true(run.spec.timeout_usec > 0);
    assert_string_equal(lk_test_env_get(run.spec.env, "LKROOT"), "/opt/lk");
    assert_string_equal(lk_test_env_get(run.spec.env, "LK_TAG"), "app1");
    assert_string_equal(lk_test_env_get(run.spec.env, "LK_ACTION"), "quickchk");
    assert_string_equal(lk_test_env_get(run.spec.env, "LK_NODE"), "n1");
    assert_string_equal(lk_test_env_get(run.spec.env, "LK_APP_INFO"), "info");
    assert_non_null(lk_test_env_get(run.spec.env, "PATH"));
    lk_type_run_free(&run);
    assert_null(run.env);
}

/* The tunables come after OpenKeeper's variables, never replacing them, in the text's
 * order; a failing add stops the walk with its status. */
static int count_add(const char *name, const char *value, void *userdata)
{
    (void) name;
    (void) value;
    int *n = userdata;
    return ++*n == 2 ? -E2BIG : 0;
}

static void lk_type_prepare__genapp_gets_the_tunables_reserved_skipped(void **state)
{
    (void) state;
    struct lk_resource res;
    gen_resource(&res);
    struct lk_type_ctx ctx = {.root = "/opt/lk",
                              .node_name = "n1",
                              .tunables = "# LifeKeeper\nLKROOT=/opt/LifeKeeper\nPATH=/x\n"
                                          "export GLOBAL_NAS_APP_SKIP_REMOVE=1\nLK_TAG=forged\n"
                                          "PERL5LIB=/p\nLANG=de\nMSG='a $b'\n"};
    struct lk_type_run run;
    char err[256] = "";
    assert_int_equal(lk_type_prepare(&ctx, &res, LK_ACTION_RESTORE, 0, &run, err, sizeof(err)), 0);
    assert_string_equal(lk_test_env_get(run.spec.env, "LKROOT"), "/opt/lk");
    assert_string_equal(lk_test_env_get(run.spec.env, "LK_TAG"), "app1");
    assert_string_equal(lk_test_env_get(run.spec.env, "LANG"), "C");
    assert_string_equal(lk_test_env_get(run.spec.env, "PERL5LIB"),
                        "/opt/lk/lib/perl:/opt/lk/lkadm/subsys/gen/app/lib");
    assert_string_equal(lk_test_env_get(run.spec.env, "GLOBAL_NAS_APP_SKIP_REMOVE"), "1");
    assert_string_equal(lk_test_env_get(run.spec.env, "MSG"), "a $b");
    size_t paths = 0;
    for (size_t i = 0; run.spec.env[i]; i++) {
        paths += strncmp(run.spec.env[i], "PATH=", 5) == 0;
    }
    assert_int_equal(paths, 1);
    lk_type_run_free(&run);
    int n = 0;
    assert_int_equal(lk_scripts_env_tunables("A=1\nB=2\nC=3\n", count_add, &n), -E2BIG);
    assert_int_equal(n, 2);
    n = 0;
    assert_int_equal(lk_scripts_env_tunables(NULL, count_add, &n), 0);
    assert_int_equal(lk_scripts_env_tunables("bad line\n", count_add, &n), 0);
    assert_int_equal(n, 0);
}

static void lk_type_prepare__unknown_app_is_refused(void **state)
{
    (void) state;
    struct lk_resource res;
    gen_resource(&res);
    snprintf(res.app, sizeof(res.app), "zzz");
    struct lk_type_ctx ctx = {.root = "/opt/lk", .node_name = "n1"};
    struct lk_type_run run;
    char err[256] = "";
    assert_int_equal(lk_type_prepare(&ctx, &res, LK_ACTION_RESTORE, 0, &run, err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "unknown resource app 'zzz'");
    assert_int_equal(lk_type_check(&res, err, sizeof(err)), -EINVAL);
    assert_false(lk_type_has_action(&res, LK_ACTION_RESTORE));
    char buf[64];
    assert_string_equal(lk_type_describe(&res, buf, sizeof(buf)), "zzz/app");
}

static void lk_type_check__genapp_wants_type_app(void **state)
{
    (void) state;
    struct lk_resource res;
    gen_resource(&res);
    char err[256] = "";
    assert_int_equal(lk_type_check(&res, err, sizeof(err)), 0);
    snprintf(res.type, sizeof(res.type), "other");
    assert_int_equal(lk_type_check(&res, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "resource type must be 'app' for app 'gen', not 'other'");
}

static void lk_type_fill_actions__genapp_keeps_its_scripts(void **state)
{
    (void) state;
    struct lk_resource res;
    gen_resource(&res);
    lk_type_fill_actions(&res);
    assert_true(res.has_script[LK_ACTION_RESTORE]);
    assert_true(res.has_script[LK_ACTION_QUICKCHK]);
    assert_false(res.has_script[LK_ACTION_DEEPCHK]);
    assert_false(res.has_script[LK_ACTION_RECOVER]);
    char buf[64];
    assert_string_equal(lk_type_describe(&res, buf, sizeof(buf)), "gen/app");
}

static void lk_type_classify__genapp_leaves_the_exit_status(void **state)
{
    (void) state;
    struct lk_resource res;
    gen_resource(&res);
    struct lk_result r = {.outcome = LK_OUTCOME_EXIT, .exit_status = 7};
    lk_type_classify(&res, LK_ACTION_QUICKCHK, LK_TYPE_PROBE, &r, "x", 1);
    assert_int_equal(r.verdict, LK_VERDICT_BY_OUTCOME);
    assert_int_equal(lk_result_verdict(&r), LK_VERDICT_FAILED);
    assert_string_equal(r.exit_reason, "");
}

static void lk_type_admit__none_for_genapp(void **state)
{
    (void) state;
    struct lk_resource res;
    gen_resource(&res);
    char err[64];
    assert_int_equal(lk_type_admit(NULL, NULL, &res, NULL, 0, NULL, NULL, err, sizeof(err)), 1);
}

static void lk_type_run_env__and_arg_grow_and_free(void **state)
{
    (void) state;
    struct lk_type_run run;
    memset(&run, 0, sizeof(run));
    char name[32];
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof(name), "K%d", i);
        assert_int_equal(lk_type_run_env(&run, name, "v"), 0);
    }
    assert_int_equal(run.env_count, 100);
    assert_string_equal(run.env[99], "K99=v");
    assert_null(run.env[100]);
    for (int i = 0; i < 7; i++) {
        assert_int_equal(lk_type_run_arg(&run, "a"), 0);
    }
    assert_int_equal(lk_type_run_arg(&run, "a"), -E2BIG);
    assert_null(run.argv[7]);
    assert_ptr_equal(run.spec.argv, run.argv);
    lk_type_run_free(&run);
    assert_int_equal(run.argc, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_type_find__known_and_unknown),
            cmocka_unit_test(lk_type_prepare__genapp_is_the_script_copy),
            cmocka_unit_test(lk_type_prepare__genapp_gets_the_tunables_reserved_skipped),
            cmocka_unit_test(lk_type_prepare__unknown_app_is_refused),
            cmocka_unit_test(lk_type_check__genapp_wants_type_app),
            cmocka_unit_test(lk_type_fill_actions__genapp_keeps_its_scripts),
            cmocka_unit_test(lk_type_classify__genapp_leaves_the_exit_status),
            cmocka_unit_test(lk_type_admit__none_for_genapp),
            cmocka_unit_test(lk_type_run_env__and_arg_grow_and_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
