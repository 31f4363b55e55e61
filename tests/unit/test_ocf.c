/* Unit tests for ocf.c: one case per row of the exit-code table (every context of the
 * code), lk_ocf_classify, the ocf-exit-reason line, agent names, the Pacemaker tools
 * scan, the environment of a run, durations, and the meta-data parse (parameters, secrets,
 * advised timeouts, promotable agents). Pure: no loop, no files, no agent runs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "env_get.h"
#include "ocf.h"

/* The expected verdict of one code in each context: probe, start, stop, monitor, other. */
static void expect_row(int status, const char *name, const enum lk_verdict v[LK_OCF_CTX_COUNT],
                       const enum lk_ocf_severity s[LK_OCF_CTX_COUNT])
{
    for (int c = 0; c < LK_OCF_CTX_COUNT; c++) {
        struct lk_ocf_code code = lk_ocf_code(status, (enum lk_ocf_context) c);
        assert_int_equal(code.verdict, v[c]);
        assert_int_equal(code.severity, s[c]);
        assert_string_equal(code.name, name);
    }
}

#define I LK_OCF_SEVERITY_INFO
#define W LK_OCF_SEVERITY_WARNING
#define E LK_OCF_SEVERITY_ERR

static void lk_ocf_code__0_success_everywhere(void **state)
{
    (void) state;
    const enum lk_verdict v[] = {LK_VERDICT_OK, LK_VERDICT_OK, LK_VERDICT_OK, LK_VERDICT_OK,
                                 LK_VERDICT_OK};
    const enum lk_ocf_severity s[] = {I, I, I, I, I};
    expect_row(0, "OCF_SUCCESS", v, s);
}

static void lk_ocf_code__1_generic_is_a_failure(void **state)
{
    (void) state;
    const enum lk_verdict v[] = {LK_VERDICT_FAILED, LK_VERDICT_FAILED, LK_VERDICT_FAILED,
                                 LK_VERDICT_FAILED, LK_VERDICT_FAILED};
    const enum lk_ocf_severity s[] = {W, E, E, W, E};
    expect_row(1, "OCF_ERR_GENERIC", v, s);
}

static void expect_hard(int status, const char *name)
{
    const enum lk_verdict v[] = {LK_VERDICT_HARD, LK_VERDICT_HARD, LK_VERDICT_HARD, LK_VERDICT_HARD,
                                 LK_VERDICT_HARD};
    const enum lk_ocf_severity s[] = {E, E, E, E, E};
    expect_row(status, name, v, s);
}

static void lk_ocf_code__2_args_is_hard(void **state)
{
    (void) state;
    expect_hard(2, "OCF_ERR_ARGS");
}

static void lk_ocf_code__3_unimplemented_is_hard(void **state)
{
    (void) state;
    expect_hard(3, "OCF_ERR_UNIMPLEMENTED");
}

static void lk_ocf_code__4_perm_is_hard(void **state)
{
    (void) state;
    expect_hard(4, "OCF_ERR_PERM");
}

static void lk_ocf_code__5_installed_means_not_on_this_node(void **state)
{
    (void) state;
    const enum lk_verdict v[] = {LK_VERDICT_NOT_INSTALLED, LK_VERDICT_NOT_INSTALLED,
                                 LK_VERDICT_NOT_INSTALLED, LK_VERDICT_NOT_INSTALLED,
                                 LK_VERDICT_NOT_INSTALLED};
    const enum lk_ocf_severity s[] = {E, E, E, E, E};
    expect_row(5, "OCF_ERR_INSTALLED", v, s);
}

static void lk_ocf_code__6_configured_means_nowhere(void **state)
{
    (void) state;
    const enum lk_verdict v[] = {LK_VERDICT_NOT_CONFIGURED, LK_VERDICT_NOT_CONFIGURED,
                                 LK_VERDICT_NOT_CONFIGURED, LK_VERDICT_NOT_CONFIGURED,
                                 LK_VERDICT_NOT_CONFIGURED};
    const enum lk_ocf_severity s[] = {E, E, E, E, E};
    expect_row(6, "OCF_ERR_CONFIGURED", v, s);
}

static void lk_ocf_code__7_not_running_depends_on_context(void **state)
{
    (void) state;
    /* Probe: cleanly stopped (info); start: it did not start; stop: already stopped;
     * monitor: it died (a failed check); recover: it did not come back. */
    const enum lk_verdict v[] = {LK_VERDICT_NOT_RUNNING, LK_VERDICT_FAILED, LK_VERDICT_OK,
                                 LK_VERDICT_NOT_RUNNING, LK_VERDICT_FAILED};
    const enum lk_ocf_severity s[] = {I, E, I, W, E};
    expect_row(7, "OCF_NOT_RUNNING", v, s);
}

static void lk_ocf_code__8_running_master_is_a_failure(void **state)
{
    (void) state;
    const enum lk_verdict v[] = {LK_VERDICT_FAILED, LK_VERDICT_FAILED, LK_VERDICT_FAILED,
                                 LK_VERDICT_FAILED, LK_VERDICT_FAILED};
    const enum lk_ocf_severity s[] = {E, E, E, E, E};
    expect_row(8, "OCF_RUNNING_MASTER", v, s);
}

static void lk_ocf_code__9_failed_master_is_a_failure(void **state)
{
    (void) state;
    const enum lk_verdict v[] = {LK_VERDICT_FAILED, LK_VERDICT_FAILED, LK_VERDICT_FAILED,
                                 LK_VERDICT_FAILED, LK_VERDICT_FAILED};
    const enum lk_ocf_severity s[] = {E, E, E, E, E};
    expect_row(9, "OCF_FAILED_MASTER", v, s);
}

static void lk_ocf_code__190_degraded_warns_but_stop_fails(void **state)
{
    (void) state;
    const enum lk_verdict v[] = {LK_VERDICT_DEGRADED, LK_VERDICT_DEGRADED, LK_VERDICT_FAILED,
                                 LK_VERDICT_DEGRADED, LK_VERDICT_DEGRADED};
    const enum lk_ocf_severity s[] = {W, W, E, W, W};
    expect_row(190, "OCF_DEGRADED", v, s);
}

static void lk_ocf_code__191_degraded_master_warns_but_stop_fails(void **state)
{
    (void) state;
    const enum lk_verdict v[] = {LK_VERDICT_DEGRADED, LK_VERDICT_DEGRADED, LK_VERDICT_FAILED,
                                 LK_VERDICT_DEGRADED, LK_VERDICT_DEGRADED};
    const enum lk_ocf_severity s[] = {W, W, E, W, W};
    expect_row(191, "OCF_DEGRADED_MASTER", v, s);
}

static void lk_ocf_code__unknown_codes_are_failures(void **state)
{
    (void) state;
    const enum lk_verdict v[] = {LK_VERDICT_FAILED, LK_VERDICT_FAILED, LK_VERDICT_FAILED,
                                 LK_VERDICT_FAILED, LK_VERDICT_FAILED};
    const enum lk_ocf_severity s[] = {E, E, E, E, E};
    expect_row(10, "unknown", v, s);
    expect_row(99, "unknown", v, s);
    expect_row(255, "unknown", v, s);
    expect_row(-1, "unknown", v, s);
}

static void lk_ocf_code__out_of_range_context_is_other(void **state)
{
    (void) state;
    assert_int_equal(lk_ocf_code(7, LK_OCF_CTX_COUNT).verdict, LK_VERDICT_FAILED);
    assert_string_equal(lk_ocf_context_name(LK_OCF_CTX_COUNT), "other");
    assert_string_equal(lk_ocf_context_name(LK_OCF_CTX_PROBE), "probe");
    assert_string_equal(lk_ocf_severity_name(LK_OCF_SEVERITY_WARNING), "warning");
}

static void lk_ocf_context_of__actions(void **state)
{
    (void) state;
    assert_int_equal(lk_ocf_context_of(LK_ACTION_RESTORE, false), LK_OCF_CTX_START);
    assert_int_equal(lk_ocf_context_of(LK_ACTION_REMOVE, true), LK_OCF_CTX_STOP);
    assert_int_equal(lk_ocf_context_of(LK_ACTION_QUICKCHK, false), LK_OCF_CTX_MONITOR);
    assert_int_equal(lk_ocf_context_of(LK_ACTION_QUICKCHK, true), LK_OCF_CTX_PROBE);
    assert_int_equal(lk_ocf_context_of(LK_ACTION_DEEPCHK, false), LK_OCF_CTX_MONITOR);
    assert_int_equal(lk_ocf_context_of(LK_ACTION_RECOVER, false), LK_OCF_CTX_OTHER);
    assert_string_equal(lk_ocf_operation(LK_ACTION_RESTORE), "start");
    assert_string_equal(lk_ocf_operation(LK_ACTION_REMOVE), "stop");
    assert_string_equal(lk_ocf_operation(LK_ACTION_DEEPCHK), "monitor");
    assert_string_equal(lk_ocf_operation(LK_ACTION_RECOVER), "recover");
    assert_null(lk_ocf_operation(LK_ACTION_COUNT));
}

static void lk_ocf_classify__signal_and_timeout_stay_by_outcome(void **state)
{
    (void) state;
    struct lk_result r = {.outcome = LK_OUTCOME_TIMEOUT, .verdict = LK_VERDICT_OK};
    const char out[] = "ocf-exit-reason:slow\n";
    lk_ocf_classify(LK_OCF_CTX_START, &r, out, strlen(out));
    assert_int_equal(r.verdict, LK_VERDICT_BY_OUTCOME);
    assert_string_equal(r.exit_reason, "slow");
    r.outcome = LK_OUTCOME_SIGNAL;
    lk_ocf_classify(LK_OCF_CTX_START, &r, NULL, 0);
    assert_int_equal(r.verdict, LK_VERDICT_BY_OUTCOME);
    assert_string_equal(r.exit_reason, "");
    /* No agent on this node: not installed; any other exec failure: by outcome. */
    r.outcome = LK_OUTCOME_EXEC_FAILED;
    r.exec_errno = ENOENT;
    lk_ocf_classify(LK_OCF_CTX_PROBE, &r, NULL, 0);
    assert_int_equal(r.verdict, LK_VERDICT_NOT_INSTALLED);
    r.exec_errno = EACCES;
    lk_ocf_classify(LK_OCF_CTX_START, &r, NULL, 0);
    assert_int_equal(r.verdict, LK_VERDICT_BY_OUTCOME);
    r.outcome = LK_OUTCOME_REFUSED;
    lk_ocf_classify(LK_OCF_CTX_START, &r, NULL, 0);
    assert_int_equal(r.verdict, LK_VERDICT_BY_OUTCOME);
}

static void lk_ocf_classify__exit_statuses(void **state)
{
    (void) state;
    struct lk_result r = {.outcome = LK_OUTCOME_EXIT, .exit_status = 7};
    lk_ocf_classify(LK_OCF_CTX_PROBE, &r, "", 0);
    assert_int_equal(r.verdict, LK_VERDICT_NOT_RUNNING);
    lk_ocf_classify(LK_OCF_CTX_STOP, &r, "", 0);
    assert_int_equal(r.verdict, LK_VERDICT_OK);
    r.exit_status = 6;
    const char out[] = "IPaddr2(x)[1]: ERROR: bad\nocf-exit-reason:IP address (the ip "
                       "parameter) is mandatory\n";
    lk_ocf_classify(LK_OCF_CTX_OTHER, &r, out, strlen(out));
    assert_int_equal(r.verdict, LK_VERDICT_NOT_CONFIGURED);
    assert_string_equal(r.exit_reason, "IP address (the ip parameter) is mandatory");
    r.outcome = LK_OUTCOME_SUCCESS;
    r.exit_status = 0;
    lk_ocf_classify(LK_OCF_CTX_MONITOR, &r, "", 0);
    assert_int_equal(r.verdict, LK_VERDICT_OK);
}

static void lk_ocf_exit_reason__none(void **state)
{
    (void) state;
    char buf[64] = "x";
    assert_false(lk_ocf_exit_reason(NULL, 0, buf, sizeof(buf)));
    assert_string_equal(buf, "");
    const char out[] = "INFO: hello\n  ocf-exit-reason:indented is not one\nERROR: x";
    assert_false(lk_ocf_exit_reason(out, strlen(out), buf, sizeof(buf)));
    assert_false(lk_ocf_exit_reason(out, strlen(out), buf, 0));
}

static void lk_ocf_exit_reason__last_line_wins(void **state)
{
    (void) state;
    char buf[64];
    const char out[] = "ocf-exit-reason:first\nnoise\nocf-exit-reason:  second one \r\ntail";
    assert_true(lk_ocf_exit_reason(out, strlen(out), buf, sizeof(buf)));
    assert_string_equal(buf, "second one");
    /* Without a final newline, and at the very start. */
    const char last[] = "x\nocf-exit-reason:end";
    assert_true(lk_ocf_exit_reason(last, strlen(last), buf, sizeof(buf)));
    assert_string_equal(buf, "end");
    /* An empty reason is still a reason line. */
    const char empty[] = "ocf-exit-reason:\n";
    assert_true(lk_ocf_exit_reason(empty, strlen(empty), buf, sizeof(buf)));
    assert_string_equal(buf, "");
}

static void lk_ocf_exit_reason__control_chars_and_truncation(void **state)
{
    (void) state;
    char buf[8];
    const char out[] = "ocf-exit-reason:a\tb\x1b[0mcdefghij\n";
    assert_true(lk_ocf_exit_reason(out, strlen(out), buf, sizeof(buf)));
    assert_string_equal(buf, "a b [0m");
    /* Output with a NUL inside is handled by length: the NUL is one more control character. */
    const char nul[] = "ocf-exit-reason:z\0y";
    char big[32];
    assert_true(lk_ocf_exit_reason(nul, sizeof(nul) - 1, big, sizeof(big)));
    assert_string_equal(big, "z y");
}

static void lk_ocf_scrub__secrets_become_stars(void **state)
{
    (void) state;
    char buf[64] = "login pw=hunter2 failed: hunter2";
    lk_ocf_scrub(buf, sizeof(buf), "hunter2");
    assert_string_equal(buf, "login pw=*** failed: ***");
    lk_ocf_scrub(buf, sizeof(buf), "");
    lk_ocf_scrub(buf, sizeof(buf), NULL);
    lk_ocf_scrub(buf, sizeof(buf), "absent");
    assert_string_equal(buf, "login pw=*** failed: ***");
    /* A short secret grows the text: cut at the buffer, never past it. */
    char small[8] = "a-a-a-a";
    lk_ocf_scrub(small, sizeof(small), "a");
    assert_string_equal(small, "***-***");
}

static void lk_ocf_agent_parse__errors(void **state)
{
    (void) state;
    struct lk_ocf_agent a;
    char err[256];
    const char *bad[] = {"",          "heartbeat:",    ":Dummy",       "heartbeat:../x",
                         "a/b:Dummy", "heartbeat:a/b", "heartbeat:.x", "ocf:",
                         "a:b:c",     "heartbeat:-x",  "heart beat:x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(lk_ocf_agent_parse(bad[i], &a, err, sizeof(err)), -EINVAL);
        assert_true(strlen(err) > 0);
    }
    assert_int_equal(lk_ocf_agent_parse(NULL, &a, err, sizeof(err)), -EINVAL);
    char longname[200];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(lk_ocf_agent_parse(longname, &a, err, sizeof(err)), -EINVAL);
}

static void lk_ocf_agent_parse__forms(void **state)
{
    (void) state;
    struct lk_ocf_agent a;
    char err[256], buf[256];
    assert_int_equal(lk_ocf_agent_parse("heartbeat:IPaddr2", &a, err, sizeof(err)), 0);
    assert_string_equal(a.provider, "heartbeat");
    assert_string_equal(a.name, "IPaddr2");
    assert_int_equal(lk_ocf_agent_parse("ocf:pacemaker:Dummy", &a, err, sizeof(err)), 0);
    assert_string_equal(a.provider, "pacemaker");
    assert_string_equal(lk_ocf_agent_format(&a, buf, sizeof(buf)), "pacemaker:Dummy");
    assert_int_equal(lk_ocf_agent_parse("anything", &a, err, sizeof(err)), 0);
    assert_string_equal(a.provider, "heartbeat");
    assert_string_equal(a.name, "anything");
    assert_string_equal(lk_ocf_agent_path("/usr/lib/ocf", &a, buf, sizeof(buf)),
                        "/usr/lib/ocf/resource.d/heartbeat/anything");
    assert_int_equal(lk_ocf_agent_parse("my-co:app_1.2+x", &a, err, sizeof(err)), 0);
}

static void lk_ocf_root__env(void **state)
{
    (void) state;
    unsetenv(LK_OCF_ROOT_ENV);
    assert_string_equal(lk_ocf_root(), "/usr/lib/ocf");
    setenv(LK_OCF_ROOT_ENV, "relative", 1);
    assert_string_equal(lk_ocf_root(), "/usr/lib/ocf");
    setenv(LK_OCF_ROOT_ENV, "/tmp/ocf", 1);
    assert_string_equal(lk_ocf_root(), "/tmp/ocf");
    unsetenv(LK_OCF_ROOT_ENV);
}

static void lk_ocf_pacemaker_tools__found_and_not(void **state)
{
    (void) state;
    char which[128];
    const char plain[] = "#!/bin/sh\n. ${OCF_FUNCTIONS_DIR}/ocf-shellfuncs\nip addr add\n"
                         "my_crm_nodes=1\ncrm_node_x=2\n";
    assert_int_equal(lk_ocf_pacemaker_tools(plain, strlen(plain), which, sizeof(which)), 0);
    assert_string_equal(which, "");
    const char uses[] = "x=$(crm_node -n)\n${HA_SBIN_DIR}/crm_attribute -n x\n"
                        "ocf_promotion_score -v 10\ncrm_attribute again\n";
    assert_int_equal(lk_ocf_pacemaker_tools(uses, strlen(uses), which, sizeof(which)), 3);
    assert_string_equal(which, "crm_attribute, crm_node, ocf_promotion_score");
    /* At the very end of the text, and a truncated list still counts. */
    const char end[] = "attrd_updater";
    char small[4];
    assert_int_equal(lk_ocf_pacemaker_tools(end, strlen(end), small, sizeof(small)), 1);
    assert_string_equal(small, "att");
}

static void lk_ocf_env_build__bad_parameter_name(void **state)
{
    (void) state;
    struct lk_ocf_agent a = {"heartbeat", "Dummy"};
    struct lk_ocf_value params[] = {{"bad=name", "v"}};
    struct lk_ocf_env_spec spec = {.ocf_root = "/usr/lib/ocf",
                                   .lkroot = "/opt/lk",
                                   .instance = "t",
                                   .agent = &a,
                                   .params = params,
                                   .param_count = 1,
                                   .check_level = -1};
    char **env = (char **) 1;
    assert_int_equal(lk_ocf_env_build(&spec, &env), -EINVAL);
    assert_ptr_equal(env, (char **) 1);
    params[0].name = "";
    assert_int_equal(lk_ocf_env_build(&spec, &env), -EINVAL);
    params[0].name = "ok";
    params[0].value = NULL;
    assert_int_equal(lk_ocf_env_build(&spec, &env), -EINVAL);
}

static void lk_ocf_env_build__monitor(void **state)
{
    (void) state;
    struct lk_ocf_agent a = {"heartbeat", "IPaddr2"};
    struct lk_ocf_value params[] = {
            {"ip", "10.0.0.5"}, {"cidr_netmask", "24"}, {"OCF_CHECK_LEVEL", "20"}};
    struct lk_ocf_env_spec spec = {.ocf_root = "/usr/lib/ocf",
                                   .lkroot = "/opt/lk",
                                   .node = "n1",
                                   .instance = "vip",
                                   .agent = &a,
                                   .action = "deepchk",
                                   .params = params,
                                   .param_count = 3,
                                   .timeout_ms = 20000,
                                   .interval_ms = 60000,
                                   .check_level = 20};
    char **env = NULL;
    assert_int_equal(lk_ocf_env_build(&spec, &env), 0);
    assert_string_equal(lk_test_env_get(env, "OCF_ROOT"), "/usr/lib/ocf");
    assert_string_equal(lk_test_env_get(env, "OCF_FUNCTIONS_DIR"), "/usr/lib/ocf/lib/heartbeat");
    assert_string_equal(lk_test_env_get(env, "OCF_RA_VERSION_MAJOR"), "1");
    assert_string_equal(lk_test_env_get(env, "OCF_RA_VERSION_MINOR"), "1");
    assert_string_equal(lk_test_env_get(env, "OCF_RESOURCE_INSTANCE"), "vip");
    assert_string_equal(lk_test_env_get(env, "OCF_RESOURCE_TYPE"), "IPaddr2");
    assert_string_equal(lk_test_env_get(env, "OCF_RESOURCE_PROVIDER"), "heartbeat");
    assert_string_equal(lk_test_env_get(env, "OCF_RESKEY_ip"), "10.0.0.5");
    assert_string_equal(lk_test_env_get(env, "OCF_RESKEY_cidr_netmask"), "24");
    assert_null(lk_test_env_get(env, "OCF_RESKEY_OCF_CHECK_LEVEL"));
    assert_string_equal(lk_test_env_get(env, "OCF_RESKEY_CRM_meta_timeout"), "20000");
    assert_string_equal(lk_test_env_get(env, "OCF_RESKEY_CRM_meta_interval"), "60000");
    assert_string_equal(lk_test_env_get(env, "OCF_CHECK_LEVEL"), "20");
    assert_string_equal(lk_test_env_get(env, "LANG"), "C");
    assert_string_equal(lk_test_env_get(env, "LK_TAG"), "vip");
    assert_string_equal(lk_test_env_get(env, "LK_NODE"), "n1");
    assert_string_equal(lk_test_env_get(env, "LK_ACTION"), "deepchk");
    assert_string_equal(lk_test_env_get(env, "LKROOT"), "/opt/lk");
    assert_non_null(strstr(lk_test_env_get(env, "PATH"), "/opt/lk/bin:"));
    assert_null(lk_test_env_get(env, "HA_RSCTMP"));
    lk_ocf_env_free(env);
    /* HA_RSCTMP and HA_VARRUN are passed on when set (absolute). */
    setenv("HA_RSCTMP", "/run/n1", 1);
    setenv("HA_VARRUN", "relative", 1);
    assert_int_equal(lk_ocf_env_build(&spec, &env), 0);
    assert_string_equal(lk_test_env_get(env, "HA_RSCTMP"), "/run/n1");
    assert_null(lk_test_env_get(env, "HA_VARRUN"));
    lk_ocf_env_free(env);
    unsetenv("HA_RSCTMP");
    unsetenv("HA_VARRUN");
    lk_ocf_env_free(NULL);
}

static void lk_ocf_env_build__probe_has_interval_0_and_no_level(void **state)
{
    (void) state;
    struct lk_ocf_agent a = {"heartbeat", "Dummy"};
    struct lk_ocf_env_spec spec = {.ocf_root = "/r",
                                   .lkroot = "/l",
                                   .instance = "d",
                                   .agent = &a,
                                   .timeout_ms = 5000,
                                   .check_level = -1};
    char **env = NULL;
    assert_int_equal(lk_ocf_env_build(&spec, &env), 0);
    assert_string_equal(lk_test_env_get(env, "OCF_RESKEY_CRM_meta_interval"), "0");
    assert_null(lk_test_env_get(env, "OCF_CHECK_LEVEL"));
    assert_string_equal(lk_test_env_get(env, "LK_NODE"), "");
    lk_ocf_env_free(env);
    spec.check_level = 0;
    assert_int_equal(lk_ocf_env_build(&spec, &env), 0);
    assert_string_equal(lk_test_env_get(env, "OCF_CHECK_LEVEL"), "0");
    lk_ocf_env_free(env);
}

static void lk_ocf_deep_level__default_given_bad(void **state)
{
    (void) state;
    int level = -5;
    assert_int_equal(lk_ocf_deep_level(NULL, 0, &level), 0);
    assert_int_equal(level, 10);
    struct lk_ocf_value p[] = {{"ip", "x"}, {"OCF_CHECK_LEVEL", "20"}};
    assert_int_equal(lk_ocf_deep_level(p, 2, &level), 0);
    assert_int_equal(level, 20);
    const char *bad[] = {"", "-1", "1001", "abc", "10x", "99999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        p[1].value = bad[i];
        level = 3;
        assert_int_equal(lk_ocf_deep_level(p, 2, &level), -EINVAL);
        assert_int_equal(level, 3);
    }
}

static void lk_ocf_duration_ms__forms(void **state)
{
    (void) state;
    uint64_t ms = 7;
    const char *bad[] = {NULL, "", "s", "-1", "20x", "1 2", "20 ss", "99999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(lk_ocf_duration_ms(bad[i], &ms), -EINVAL);
    }
    assert_int_equal(ms, 7);
    assert_int_equal(lk_ocf_duration_ms("20s", &ms), 0);
    assert_int_equal(ms, 20000);
    assert_int_equal(lk_ocf_duration_ms("20", &ms), 0);
    assert_int_equal(ms, 20000);
    assert_int_equal(lk_ocf_duration_ms(" 90000ms ", &ms), 0);
    assert_int_equal(ms, 90000);
    assert_int_equal(lk_ocf_duration_ms("2m", &ms), 0);
    assert_int_equal(ms, 120000);
    assert_int_equal(lk_ocf_duration_ms("2min", &ms), 0);
    assert_int_equal(ms, 120000);
    assert_int_equal(lk_ocf_duration_ms("1h", &ms), 0);
    assert_int_equal(ms, 3600000);
    assert_int_equal(lk_ocf_duration_ms("15 S", &ms), 0);
    assert_int_equal(ms, 15000);
}

static const char ipaddr_xml[] =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">\n"
        "<resource-agent name=\"IPaddr2\" version=\"1.0\">\n"
        "<version>1.0</version>\n"
        "<longdesc lang=\"en\">long</longdesc>\n"
        "<shortdesc lang=\"en\">Manages virtual\n   IPv4 and IPv6 addresses</shortdesc>\n"
        "<parameters>\n"
        "<parameter name=\"ip\" unique=\"1\" required=\"1\">\n"
        "<shortdesc lang=\"en\">IPv4 or IPv6 address</shortdesc>\n"
        "<content type=\"string\" default=\"\" />\n"
        "</parameter>\n"
        "<parameter name=\"cidr_netmask\">\n"
        "<content type=\"string\" default=\"\"/>\n"
        "</parameter>\n"
        "<parameter name=\"lvs_support\" reloadable=\"1\">\n"
        "<content type=\"boolean\" default=\"false\"/>\n"
        "</parameter>\n"
        "<parameter name=\"admin_password\" unique-group=\"g\">\n"
        "<content type=\"string\"/>\n"
        "</parameter>\n"
        "<parameter name=\"ssl_key\"><content type=\"string\"/></parameter>\n"
        "<parameter name=\"keyfile\"/>\n"
        "</parameters>\n"
        "<actions>\n"
        "<action name=\"start\"   timeout=\"20s\" />\n"
        "<action name=\"stop\"    timeout=\"25s\" />\n"
        "<action name=\"status\" depth=\"0\"  timeout=\"20s\" interval=\"10s\" />\n"
        "<action name=\"monitor\" depth=\"0\"  timeout=\"21s\" interval=\"11s\" />\n"
        "<action name=\"monitor\" depth=\"10\" timeout=\"100s\" interval=\"2min\" />\n"
        "<action name=\"monitor\" role=\"Master\" depth=\"0\" timeout=\"1s\" interval=\"1s\" />\n"
        "<action name=\"meta-data\"  timeout=\"5s\" />\n"
        "<action name=\"validate-all\"  timeout=\"bogus\" />\n"
        "</actions>\n"
        "</resource-agent>\n";

static void lk_ocf_meta_parse__errors(void **state)
{
    (void) state;
    struct lk_ocf_meta m;
    char err[256];
    memset(&m, 0x5a, sizeof(m));
    assert_int_equal(lk_ocf_meta_parse(NULL, 0, &m, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "the agent printed no meta-data");
    const char notxml[] = "usage: Dummy {start|stop}";
    assert_int_equal(lk_ocf_meta_parse(notxml, strlen(notxml), &m, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "the agent's meta-data is not XML");
    const char other[] = "<html><body/></html>";
    assert_int_equal(lk_ocf_meta_parse(other, strlen(other), &m, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "the agent's meta-data has no <resource-agent> element");
    /* An external entity is never fetched: libxml2 refuses it in an attribute, and an
     * element's content keeps the reference unresolved. */
    const char ent[] = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM "
                       "\"file:///etc/passwd\">]><resource-agent name=\"&x;\"/>";
    assert_int_equal(lk_ocf_meta_parse(ent, strlen(ent), &m, err, sizeof(err)), -EINVAL);
    const char ent2[] = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM "
                        "\"file:///etc/passwd\">]><resource-agent name=\"a\">"
                        "<shortdesc>&x;</shortdesc></resource-agent>";
    struct lk_ocf_meta ok;
    assert_int_equal(lk_ocf_meta_parse(ent2, strlen(ent2), &ok, err, sizeof(err)), 0);
    assert_null(strstr(ok.shortdesc, "root:"));
    lk_ocf_meta_free(&ok);
    /* A parameter no definition could give (fuzz_ocf): no name, a name too long or with
     * other characters; the message is one line and never quotes a control byte. */
    const char *bad_params[] = {
            "<parameter required=\"1\"/>",
            "<parameter name=\"\"/>",
            "<parameter name=\"ip-addr\"/>",
            "<parameter name=\"a&#10;b\"/>",
            "<parameter "
            "name=\"x123456789012345678901234567890123456789012345678901234567890123\"/>",
    };
    for (size_t i = 0; i < sizeof(bad_params) / sizeof(bad_params[0]); i++) {
        char xml[512];
        snprintf(xml, sizeof(xml),
                 "<resource-agent name=\"a\"><parameters><parameter name=\"ok\"/>%s"
                 "</parameters></resource-agent>",
                 bad_params[i]);
        err[0] = '\0';
        assert_int_equal(lk_ocf_meta_parse(xml, strlen(xml), &m, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "the agent's meta-data: parameter 2: "));
        assert_null(strpbrk(err, "\r\n"));
    }
    lk_ocf_meta_free(NULL);
}

static void lk_ocf_meta_parse__ipaddr(void **state)
{
    (void) state;
    struct lk_ocf_meta m;
    char err[256];
    assert_int_equal(lk_ocf_meta_parse(ipaddr_xml, strlen(ipaddr_xml), &m, err, sizeof(err)), 0);
    assert_string_equal(m.name, "IPaddr2");
    assert_string_equal(m.version, "1.0");
    assert_string_equal(m.shortdesc, "Manages virtual IPv4 and IPv6 addresses");
    assert_int_equal(m.param_count, 6);
    const struct lk_ocf_param *ip = lk_ocf_meta_param(&m, "ip");
    assert_non_null(ip);
    assert_true(ip->required);
    assert_true(ip->unique);
    assert_false(ip->secret);
    assert_string_equal(ip->content_type, "string");
    assert_string_equal(ip->default_value, "");
    assert_string_equal(ip->shortdesc, "IPv4 or IPv6 address");
    const struct lk_ocf_param *lvs = lk_ocf_meta_param(&m, "lvs_support");
    assert_true(lvs->reloadable);
    assert_false(lvs->required);
    assert_string_equal(lvs->default_value, "false");
    const struct lk_ocf_param *pw = lk_ocf_meta_param(&m, "admin_password");
    assert_true(pw->secret);
    assert_true(pw->unique);
    assert_null(pw->default_value);
    assert_true(lk_ocf_meta_param(&m, "ssl_key")->secret);
    const struct lk_ocf_param *kf = lk_ocf_meta_param(&m, "keyfile");
    assert_false(kf->secret);
    assert_string_equal(kf->content_type, "");
    assert_string_equal(kf->shortdesc, "");
    assert_null(lk_ocf_meta_param(&m, "nope"));
    assert_false(m.promotable);

    assert_int_equal(m.action_count, 8);
    assert_int_equal(lk_ocf_meta_action(&m, "stop", false)->timeout_ms, 25000);
    const struct lk_ocf_action *mon = lk_ocf_meta_action(&m, "monitor", false);
    assert_int_equal(mon->timeout_ms, 21000);
    assert_int_equal(mon->interval_ms, 11000);
    const struct lk_ocf_action *deep = lk_ocf_meta_action(&m, "monitor", true);
    assert_int_equal(deep->depth, 10);
    assert_int_equal(deep->interval_ms, 120000);
    assert_int_equal(lk_ocf_meta_action(&m, "validate-all", false)->timeout_ms, 0);
    assert_null(lk_ocf_meta_action(&m, "promote", false));

    char buf[32];
    assert_string_equal(lk_ocf_meta_advised(&m, "action-timeout", buf, sizeof(buf)), "25");
    assert_string_equal(lk_ocf_meta_advised(&m, "quickchk-interval", buf, sizeof(buf)), "11");
    assert_string_equal(lk_ocf_meta_advised(&m, "quickchk-timeout", buf, sizeof(buf)), "21");
    assert_string_equal(lk_ocf_meta_advised(&m, "deepchk-interval", buf, sizeof(buf)), "120");
    assert_string_equal(lk_ocf_meta_advised(&m, "deepchk-timeout", buf, sizeof(buf)), "100");
    assert_null(lk_ocf_meta_advised(&m, "init", buf, sizeof(buf)));

    json_t *j = lk_ocf_meta_json(&m, "heartbeat:IPaddr2");
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "agent")), "heartbeat:IPaddr2");
    json_t *p0 = json_array_get(json_object_get(j, "parameters"), 0);
    assert_string_equal(json_string_value(json_object_get(p0, "name")), "ip");
    assert_true(json_is_true(json_object_get(p0, "required")));
    json_t *adv = json_object_get(j, "advised");
    assert_string_equal(json_string_value(json_object_get(adv, "quickchk-interval")), "11");
    json_decref(j);
    lk_ocf_meta_free(&m);
}

static void lk_ocf_meta_parse__promotable_and_fractions(void **state)
{
    (void) state;
    const char xml[] = "<resource-agent name=\"Stateful\"><parameters/><actions>"
                       "<action name=\"start\" timeout=\"1500ms\"/>"
                       "<action name=\"promote\" timeout=\"10s\"/>"
                       "<action name=\"monitor\" timeout=\"250ms\" interval=\"10s\"/>"
                       "</actions></resource-agent>";
    struct lk_ocf_meta m;
    char err[256], buf[32];
    assert_int_equal(lk_ocf_meta_parse(xml, strlen(xml), &m, err, sizeof(err)), 0);
    assert_true(m.promotable);
    assert_int_equal(m.param_count, 0);
    assert_string_equal(lk_ocf_meta_advised(&m, "action-timeout", buf, sizeof(buf)), "1.5");
    assert_string_equal(lk_ocf_meta_advised(&m, "quickchk-timeout", buf, sizeof(buf)), "0.25");
    assert_null(lk_ocf_meta_advised(&m, "deepchk-interval", buf, sizeof(buf)));
    lk_ocf_meta_free(&m);
}

static void lk_ocf_meta_check_params__refusals(void **state)
{
    (void) state;
    struct lk_ocf_meta m;
    char err[256];
    assert_int_equal(lk_ocf_meta_parse(ipaddr_xml, strlen(ipaddr_xml), &m, err, sizeof(err)), 0);
    assert_int_equal(lk_ocf_meta_check_params(&m, "heartbeat:IPaddr2", NULL, 0, err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "heartbeat:IPaddr2 needs parameter 'ip' (--param ip=...)");
    struct lk_ocf_value p[] = {{"cidr_netmask", "24"}, {"sate", "x"}};
    assert_int_equal(lk_ocf_meta_check_params(&m, "heartbeat:IPaddr2", p, 2, err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "heartbeat:IPaddr2 has no parameter 'sate' (lkcli resource "
                             "describe-agent heartbeat:IPaddr2)");
    struct lk_ocf_value q[] = {{"ip", "10.0.0.1"}, {"OCF_CHECK_LEVEL", "x"}};
    assert_int_equal(lk_ocf_meta_check_params(&m, "heartbeat:IPaddr2", q, 2, err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "OCF_CHECK_LEVEL must be a number from 0 to 1000");
    q[1].value = "20";
    assert_int_equal(lk_ocf_meta_check_params(&m, "heartbeat:IPaddr2", q, 2, err, sizeof(err)), 0);
    lk_ocf_meta_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_ocf_code__0_success_everywhere),
            cmocka_unit_test(lk_ocf_code__1_generic_is_a_failure),
            cmocka_unit_test(lk_ocf_code__2_args_is_hard),
            cmocka_unit_test(lk_ocf_code__3_unimplemented_is_hard),
            cmocka_unit_test(lk_ocf_code__4_perm_is_hard),
            cmocka_unit_test(lk_ocf_code__5_installed_means_not_on_this_node),
            cmocka_unit_test(lk_ocf_code__6_configured_means_nowhere),
            cmocka_unit_test(lk_ocf_code__7_not_running_depends_on_context),
            cmocka_unit_test(lk_ocf_code__8_running_master_is_a_failure),
            cmocka_unit_test(lk_ocf_code__9_failed_master_is_a_failure),
            cmocka_unit_test(lk_ocf_code__190_degraded_warns_but_stop_fails),
            cmocka_unit_test(lk_ocf_code__191_degraded_master_warns_but_stop_fails),
            cmocka_unit_test(lk_ocf_code__unknown_codes_are_failures),
            cmocka_unit_test(lk_ocf_code__out_of_range_context_is_other),
            cmocka_unit_test(lk_ocf_context_of__actions),
            cmocka_unit_test(lk_ocf_classify__signal_and_timeout_stay_by_outcome),
            cmocka_unit_test(lk_ocf_classify__exit_statuses),
            cmocka_unit_test(lk_ocf_exit_reason__none),
            cmocka_unit_test(lk_ocf_exit_reason__last_line_wins),
            cmocka_unit_test(lk_ocf_exit_reason__control_chars_and_truncation),
            cmocka_unit_test(lk_ocf_scrub__secrets_become_stars),
            cmocka_unit_test(lk_ocf_agent_parse__errors),
            cmocka_unit_test(lk_ocf_agent_parse__forms),
            cmocka_unit_test(lk_ocf_root__env),
            cmocka_unit_test(lk_ocf_pacemaker_tools__found_and_not),
            cmocka_unit_test(lk_ocf_env_build__bad_parameter_name),
            cmocka_unit_test(lk_ocf_env_build__monitor),
            cmocka_unit_test(lk_ocf_env_build__probe_has_interval_0_and_no_level),
            cmocka_unit_test(lk_ocf_deep_level__default_given_bad),
            cmocka_unit_test(lk_ocf_duration_ms__forms),
            cmocka_unit_test(lk_ocf_meta_parse__errors),
            cmocka_unit_test(lk_ocf_meta_parse__ipaddr),
            cmocka_unit_test(lk_ocf_meta_parse__promotable_and_fractions),
            cmocka_unit_test(lk_ocf_meta_check_params__refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
