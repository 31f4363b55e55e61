/* Unit tests for type_ocf.c against a real uv loop, the real runner and real agents:
 * Debian's heartbeat:Dummy (from /usr/lib/ocf) and the fake agent of tests/helpers
 * (LK_FAKE_OCF_AGENT), installed in a test OCF root (LK_OCF_ROOT) made under a mkdtemp
 * directory. prepare's argv, environment and timeouts; runs of every action classified by
 * the table; admit: advised settings, the given ones kept, missing and unknown parameters,
 * validate-all's refusal with its reason, a promotable agent, Pacemaker's tools, an agent
 * that is not installed. Assertions are made after uv_run() returns. */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <cmocka.h>

#include "env_get.h"
#include "ocf.h"
#include "paramfile.h"
#include "params.h"
#include "restype.h"
#include "runner.h"
#include "type_ocf.h"

#define GUARD_MS 60000

struct fixture {
    char dir[PATH_MAX];      /* LKROOT of the runs */
    char ocf_root[PATH_MAX]; /* the test OCF root, with resource.d/test/fake */
    uv_loop_t loop;
    uv_timer_t guard;
    struct lk_type_ctx ctx;
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove(path);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static void copy_file(const char *from, const char *to, mode_t mode)
{
    FILE *in = fopen(from, "r");
    assert_non_null(in);
    FILE *out = fopen(to, "w");
    assert_non_null(out);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
        assert_int_equal(fwrite(buf, 1, n, out), n);
    }
    fclose(in);
    fclose(out);
    assert_int_equal(chmod(to, mode), 0);
}

static void guard_cb(uv_timer_t *t)
{
    uv_stop(t->loop);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_type_ocf.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(chmod(f->dir, 0755), 0);
    char path[PATH_MAX + 64];
    snprintf(f->ocf_root, sizeof(f->ocf_root), "%s/ocf", f->dir);
    assert_int_equal(mkdir(f->ocf_root, 0755), 0);
    snprintf(path, sizeof(path), "%s/resource.d", f->ocf_root);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/resource.d/test", f->ocf_root);
    assert_int_equal(mkdir(path, 0755), 0);
    const char *fake = getenv("LK_FAKE_OCF_AGENT");
    assert_non_null(fake);
    snprintf(path, sizeof(path), "%s/resource.d/test/fake", f->ocf_root);
    copy_file(fake, path, 0755);
    snprintf(path, sizeof(path), "%s/ctl", f->dir);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(uv_timer_init(&f->loop, &f->guard), 0);
    uv_timer_start(&f->guard, guard_cb, GUARD_MS, 0);
    uv_unref((uv_handle_t *) &f->guard);
    f->ctx.root = f->dir;
    f->ctx.node_name = "n1";
    f->ctx.exe_dir = "/nonexistent";
    unsetenv(LK_OCF_ROOT_ENV);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    uv_close((uv_handle_t *) &f->guard, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    assert_int_equal(lk_run_count(), 0);
    (void) nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    unsetenv(LK_OCF_ROOT_ENV);
    free(f);
    return 0;
}

static void use_test_root(struct fixture *f)
{
    setenv(LK_OCF_ROOT_ENV, f->ocf_root, 1);
}

static void init_res(struct lk_resource *res, const char *tag, const char *agent)
{
    memset(res, 0, sizeof(*res));
    snprintf(res->tag, sizeof(res->tag), "%s", tag);
    snprintf(res->id, sizeof(res->id), "%s", tag);
    snprintf(res->app, sizeof(res->app), "ocf");
    snprintf(res->type, sizeof(res->type), "%s", agent);
    lk_settings_init(&res->settings);
    lk_type_fill_actions(res);
}

/* ------------------------------------------------------------------ runs */

struct run_done {
    int calls;
    struct lk_result result;
    char output[LK_RUN_OUTPUT_MAX + 1];
};

static void run_cb(struct lk_run *run, const struct lk_result *result, const char *output,
                   size_t output_len, void *userdata)
{
    (void) run;
    struct run_done *d = userdata;
    d->calls++;
    d->result = *result;
    memcpy(d->output, output, output_len);
    d->output[output_len] = '\0';
}

/* Prepares, runs and classifies action of res; returns the classified result. */
static struct lk_result run_action(struct fixture *f, const struct lk_resource *res,
                                   enum lk_action action, unsigned flags)
{
    struct lk_type_run run;
    char err[512];
    assert_int_equal(lk_type_prepare(&f->ctx, res, action, flags, &run, err, sizeof(err)), 0);
    struct run_done d = {0};
    assert_int_equal(lk_run_start(&f->loop, &run.spec, run_cb, &d, NULL), 0);
    lk_type_run_free(&run);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(d.calls, 1);
    lk_type_classify(res, action, flags, &d.result, d.output, strlen(d.output));
    return d.result;
}

static struct lk_result run_action(struct fixture *f, const struct lk_resource *res,
                                   enum lk_action action, unsigned flags);

static void type_ocf_check__names(void **state)
{
    (void) state;
    struct lk_resource res;
    char err[256];
    init_res(&res, "t", "heartbeat:Dummy");
    assert_int_equal(lk_type_check(&res, err, sizeof(err)), 0);
    snprintf(res.type, sizeof(res.type), "heartbeat:../x");
    assert_int_equal(lk_type_check(&res, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "invalid OCF agent"));
    for (int a = 0; a < LK_ACTION_COUNT; a++) {
        assert_true(res.has_script[a]);
    }
    char buf[300];
    snprintf(res.type, sizeof(res.type), "heartbeat:IPaddr2");
    assert_string_equal(lk_type_describe(&res, buf, sizeof(buf)), "ocf heartbeat:IPaddr2");
}

static void type_ocf_prepare__argv_env_timeouts(void **state)
{
    struct fixture *f = *state;
    struct lk_resource res;
    init_res(&res, "d1", "heartbeat:Dummy");
    res.settings.quickchk_interval_usec = 5000000;
    res.settings.quickchk_timeout_usec = 0;
    res.settings.action_timeout_usec = 20000000;
    struct lk_params p = {0};
    char err[512];
    assert_int_equal(lk_params_set(&p, "fake", "x y", false, err, sizeof(err)), 0);
    assert_int_equal(lk_params_set(&p, "OCF_CHECK_LEVEL", "20", false, err, sizeof(err)), 0);
    assert_int_equal(lk_params_write(f->dir, "d1", &p, err, sizeof(err)), 0);
    lk_params_free(&p);

    struct lk_type_run run;
    assert_int_equal(lk_type_prepare(&f->ctx, &res, LK_ACTION_RESTORE, 0, &run, err, sizeof(err)),
                     0);
    assert_string_equal(run.spec.path, "/usr/lib/ocf/resource.d/heartbeat/Dummy");
    assert_string_equal(run.spec.argv[0], "/usr/lib/ocf/resource.d/heartbeat/Dummy");
    assert_string_equal(run.spec.argv[1], "start");
    assert_null(run.spec.argv[2]);
    assert_string_equal(run.spec.secure_root, "/");
    assert_string_equal(run.spec.cwd, f->dir);
    assert_int_equal(run.spec.timeout_usec, 20000000);
    assert_string_equal(lk_test_env_get(run.spec.env, "OCF_RESKEY_fake"), "x y");
    assert_null(lk_test_env_get(run.spec.env, "OCF_RESKEY_OCF_CHECK_LEVEL"));
    assert_null(lk_test_env_get(run.spec.env, "OCF_CHECK_LEVEL"));
    assert_string_equal(lk_test_env_get(run.spec.env, "OCF_RESKEY_CRM_meta_timeout"), "20000");
    assert_string_equal(lk_test_env_get(run.spec.env, "OCF_RESKEY_CRM_meta_interval"), "0");
    assert_string_equal(lk_test_env_get(run.spec.env, "OCF_RESOURCE_INSTANCE"), "d1");
    assert_string_equal(lk_test_env_get(run.spec.env, "LK_NODE"), "n1");
    lk_type_run_free(&run);

    assert_int_equal(lk_type_prepare(&f->ctx, &res, LK_ACTION_QUICKCHK, 0, &run, err, sizeof(err)),
                     0);
    assert_string_equal(run.spec.argv[1], "monitor");
    assert_string_equal(lk_test_env_get(run.spec.env, "OCF_CHECK_LEVEL"), "0");
    assert_string_equal(lk_test_env_get(run.spec.env, "OCF_RESKEY_CRM_meta_interval"), "5000");
    assert_string_equal(lk_test_env_get(run.spec.env, "OCF_RESKEY_CRM_meta_timeout"), "5000");
    lk_type_run_free(&run);

    assert_int_equal(lk_type_prepare(&f->ctx, &res, LK_ACTION_QUICKCHK, LK_TYPE_PROBE, &run, err,
                                     sizeof(err)),
                     0);
    assert_string_equal(lk_test_env_get(run.spec.env, "OCF_RESKEY_CRM_meta_interval"), "0");
    lk_type_run_free(&run);

    assert_int_equal(lk_type_prepare(&f->ctx, &res, LK_ACTION_DEEPCHK, 0, &run, err, sizeof(err)),
                     0);
    assert_string_equal(lk_test_env_get(run.spec.env, "OCF_CHECK_LEVEL"), "20");
    assert_string_equal(lk_test_env_get(run.spec.env, "OCF_RESKEY_CRM_meta_interval"), "60000");
    lk_type_run_free(&run);

    assert_int_equal(lk_type_prepare(&f->ctx, &res, LK_ACTION_RECOVER, 0, &run, err, sizeof(err)),
                     0);
    assert_string_equal(run.spec.path, "/bin/sh");
    assert_string_equal(run.spec.argv[1], "-c");
    assert_string_equal(run.spec.argv[3], "/usr/lib/ocf/resource.d/heartbeat/Dummy");
    assert_int_equal(run.spec.timeout_usec, 40000000);
    lk_type_run_free(&run);

    /* A monitor that is not the probe never says interval 0, even with monitoring off. */
    res.settings.quickchk_interval_usec = 0;
    assert_int_equal(lk_type_prepare(&f->ctx, &res, LK_ACTION_QUICKCHK, 0, &run, err, sizeof(err)),
                     0);
    assert_string_equal(lk_test_env_get(run.spec.env, "OCF_RESKEY_CRM_meta_interval"), "1000");
    lk_type_run_free(&run);
}

static void type_ocf_prepare__not_installed_agent(void **state)
{
    struct fixture *f = *state;
    struct lk_resource res;
    init_res(&res, "d1", "heartbeat:NoSuchAgent");
    char err[512];
    struct lk_type_run run;
    /* prepare succeeds; the runner says the agent cannot be executed: not installed. */
    struct lk_result r = run_action(f, &res, LK_ACTION_RESTORE, 0);
    assert_int_equal(r.outcome, LK_OUTCOME_EXEC_FAILED);
    assert_int_equal(r.verdict, LK_VERDICT_NOT_INSTALLED);
    assert_int_equal(lk_type_prepare(&f->ctx, &res, LK_ACTION_RECOVER, 0, &run, err, sizeof(err)),
                     -ENOENT);
    assert_non_null(strstr(err, "is not installed on this node"));
}

static void type_ocf_runs__dummy_lifecycle(void **state)
{
    struct fixture *f = *state;
    struct lk_resource res;
    init_res(&res, "d1", "heartbeat:Dummy");
    res.settings.action_timeout_usec = 30000000;
    char statefile[PATH_MAX + 32], err[512];
    snprintf(statefile, sizeof(statefile), "%s/dummy.state", f->dir);
    struct lk_params p = {0};
    assert_int_equal(lk_params_set(&p, "state", statefile, false, err, sizeof(err)), 0);
    assert_int_equal(lk_params_write(f->dir, "d1", &p, err, sizeof(err)), 0);
    lk_params_free(&p);

    struct lk_result r = run_action(f, &res, LK_ACTION_QUICKCHK, LK_TYPE_PROBE);
    assert_int_equal(r.exit_status, 7);
    assert_int_equal(r.verdict, LK_VERDICT_NOT_RUNNING);
    r = run_action(f, &res, LK_ACTION_REMOVE, 0);
    assert_int_equal(r.verdict, LK_VERDICT_OK);
    r = run_action(f, &res, LK_ACTION_RESTORE, 0);
    assert_int_equal(r.verdict, LK_VERDICT_OK);
    assert_int_equal(access(statefile, F_OK), 0);
    r = run_action(f, &res, LK_ACTION_QUICKCHK, 0);
    assert_int_equal(r.verdict, LK_VERDICT_OK);
    r = run_action(f, &res, LK_ACTION_DEEPCHK, 0);
    assert_int_equal(r.verdict, LK_VERDICT_OK);
    r = run_action(f, &res, LK_ACTION_RECOVER, 0);
    assert_int_equal(r.verdict, LK_VERDICT_OK);
    assert_int_equal(access(statefile, F_OK), 0);
    r = run_action(f, &res, LK_ACTION_REMOVE, 0);
    assert_int_equal(r.verdict, LK_VERDICT_OK);
    assert_int_not_equal(access(statefile, F_OK), 0);
    r = run_action(f, &res, LK_ACTION_QUICKCHK, 0);
    assert_int_equal(r.exit_status, 7);
    assert_int_equal(r.verdict, LK_VERDICT_NOT_RUNNING);
}

static void set_rc(struct fixture *f, const char *op, const char *rc)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/ctl/%s.rc", f->dir, op);
    if (rc) {
        write_file(path, rc, 0644);
    } else {
        (void) unlink(path);
    }
}

static void fake_res(struct fixture *f, struct lk_resource *res)
{
    use_test_root(f);
    init_res(res, "fk", "test:fake");
    char ctl[PATH_MAX + 8], err[512];
    snprintf(ctl, sizeof(ctl), "%s/ctl", f->dir);
    struct lk_params p = {0};
    assert_int_equal(lk_params_set(&p, "dir", ctl, false, err, sizeof(err)), 0);
    assert_int_equal(lk_params_write(f->dir, "fk", &p, err, sizeof(err)), 0);
    lk_params_free(&p);
}

static void type_ocf_runs__fake_codes_and_reason(void **state)
{
    struct fixture *f = *state;
    struct lk_resource res;
    fake_res(f, &res);
    set_rc(f, "start", "6");
    struct lk_result r = run_action(f, &res, LK_ACTION_RESTORE, 0);
    assert_int_equal(r.verdict, LK_VERDICT_NOT_CONFIGURED);
    assert_string_equal(r.exit_reason, "fake start exits 6 on n1");
    char desc[600];
    lk_result_describe(&r, desc, sizeof(desc));
    assert_string_equal(desc, "exit status 6: fake start exits 6 on n1");
    set_rc(f, "start", NULL);
    set_rc(f, "monitor", "190");
    r = run_action(f, &res, LK_ACTION_QUICKCHK, 0);
    assert_int_equal(r.verdict, LK_VERDICT_DEGRADED);
    assert_true(lk_result_ok(&r));
    set_rc(f, "monitor", "5");
    r = run_action(f, &res, LK_ACTION_QUICKCHK, LK_TYPE_PROBE);
    assert_int_equal(r.verdict, LK_VERDICT_NOT_INSTALLED);
    set_rc(f, "monitor", "2");
    r = run_action(f, &res, LK_ACTION_DEEPCHK, 0);
    assert_int_equal(r.verdict, LK_VERDICT_HARD);
    /* recover: a failing stop ends it with stop's code. */
    set_rc(f, "monitor", NULL);
    set_rc(f, "stop", "1");
    r = run_action(f, &res, LK_ACTION_RECOVER, 0);
    assert_int_equal(r.exit_status, 1);
    assert_int_equal(r.verdict, LK_VERDICT_FAILED);
    assert_string_equal(r.exit_reason, "fake stop exits 1 on n1");
    set_rc(f, "stop", "7");
    r = run_action(f, &res, LK_ACTION_REMOVE, 0);
    assert_int_equal(r.verdict, LK_VERDICT_OK);
}

static void type_ocf_classify__secrets_scrubbed_from_the_reason(void **state)
{
    struct fixture *f = *state;
    struct lk_resource res;
    fake_res(f, &res);
    char ctl[PATH_MAX + 8], err[512];
    snprintf(ctl, sizeof(ctl), "%s/ctl", f->dir);
    struct lk_params p = {0};
    assert_int_equal(lk_params_set(&p, "dir", ctl, false, err, sizeof(err)), 0);
    /* Secret by its name, not marked. */
    assert_int_equal(lk_params_set(&p, "password", "s3cr3t-pw", false, err, sizeof(err)), 0);
    assert_int_equal(lk_params_write(f->dir, "fk", &p, err, sizeof(err)), 0);
    lk_params_free(&p);
    set_rc(f, "monitor", "1");
    struct lk_result r = run_action(f, &res, LK_ACTION_QUICKCHK, 0);
    assert_int_equal(r.verdict, LK_VERDICT_FAILED);
    assert_string_equal(r.exit_reason, "fake monitor exits 1 on n1 (password ***)");
    /* The output tail, masked in place, its length kept. */
    char out[] = "x s3cr3t-pw y s3cr3t-pw";
    lk_type_ocf_scrub_output(f->dir, &res, out, strlen(out));
    assert_string_equal(out, "x ********* y *********");
}

/* ------------------------------------------------------------------ admit */

struct admit_done {
    int calls;
    int status;
    char err[1024];
};

static void admit_cb(int status, const char *err, void *userdata)
{
    struct admit_done *d = userdata;
    d->calls++;
    d->status = status;
    snprintf(d->err, sizeof(d->err), "%s", err ? err : "");
}

/* Runs admit to its end; returns its status (the synchronous one when it did not start). */
static int admit_run(struct fixture *f, struct lk_resource *res, const struct lk_params *p,
                     unsigned given, char *err, size_t err_size)
{
    struct admit_done d = {0};
    int r = lk_type_admit(&f->loop, &f->ctx, res, p, given, admit_cb, &d, err, err_size);
    if (r != 0) {
        uv_run(&f->loop, UV_RUN_DEFAULT);
        assert_int_equal(d.calls, 0);
        return r;
    }
    /* Never from inside the hook. */
    assert_int_equal(d.calls, 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(d.calls, 1);
    snprintf(err, err_size, "%s", d.err);
    return d.status;
}

static void type_ocf_admit__dummy_gets_advised_settings(void **state)
{
    struct fixture *f = *state;
    struct lk_resource res;
    init_res(&res, "d1", "ocf:heartbeat:Dummy");
    char err[1024];
    assert_int_equal(admit_run(f, &res, NULL, LK_TYPE_GIVEN_QUICKCHK_INTERVAL, err, sizeof(err)),
                     0);
    assert_string_equal(res.type, "heartbeat:Dummy");
    assert_int_equal(res.settings.action_timeout_usec, 20000000);
    assert_int_equal(res.settings.quickchk_timeout_usec, 20000000);
    /* Given by the user: kept. */
    assert_int_equal(res.settings.quickchk_interval_usec, 10000000);
    /* Dummy advises no deep monitor: the defaults stay. */
    assert_int_equal(res.settings.deepchk_interval_usec, 60000000);
    assert_int_equal(res.settings.deepchk_timeout_usec, 0);
    /* No meta-data file is left behind. */
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof(cmd), "ls -A %s | grep -q ocf-meta", f->dir);
    assert_int_not_equal(system(cmd), 0);
}

static void type_ocf_admit__fake_advice_and_given(void **state)
{
    struct fixture *f = *state;
    struct lk_resource res;
    fake_res(f, &res);
    struct lk_params p = {0};
    char err[1024], ctl[PATH_MAX + 8];
    snprintf(ctl, sizeof(ctl), "%s/ctl", f->dir);
    assert_int_equal(lk_params_set(&p, "dir", ctl, false, err, sizeof(err)), 0);
    res.settings.action_timeout_usec = 99000000;
    assert_int_equal(admit_run(f, &res, &p, LK_TYPE_GIVEN_ACTION_TIMEOUT, err, sizeof(err)), 0);
    assert_int_equal(res.settings.action_timeout_usec, 99000000);
    assert_int_equal(res.settings.quickchk_interval_usec, 3000000);
    assert_int_equal(res.settings.quickchk_timeout_usec, 7000000);
    assert_int_equal(res.settings.deepchk_interval_usec, 30000000);
    assert_int_equal(res.settings.deepchk_timeout_usec, 9000000);
    lk_params_free(&p);
}

static void type_ocf_admit__refusals(void **state)
{
    struct fixture *f = *state;
    struct lk_resource res;
    char err[1024];
    /* Not installed: refused at once. */
    init_res(&res, "x", "heartbeat:NoSuchAgent");
    assert_int_equal(admit_run(f, &res, NULL, 0, err, sizeof(err)), -ENOENT);
    assert_string_equal(err, "OCF agent heartbeat:NoSuchAgent is not installed on this node (no "
                             "/usr/lib/ocf/resource.d/heartbeat/NoSuchAgent)");
    /* Pacemaker's tools: refused at once, naming them. */
    init_res(&res, "x", "heartbeat:mysql");
    assert_int_equal(admit_run(f, &res, NULL, 0, err, sizeof(err)), -ENOTSUP);
    assert_non_null(strstr(err, "heartbeat:mysql needs Pacemaker's tools ("));
    /* A required parameter missing: refused before anything but meta-data runs. */
    init_res(&res, "x", "heartbeat:IPaddr2");
    assert_int_equal(admit_run(f, &res, NULL, 0, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "heartbeat:IPaddr2 needs parameter 'ip' (--param ip=...)");
    /* An unknown parameter. */
    struct lk_params p = {0};
    assert_int_equal(lk_params_set(&p, "sate", "x", false, err, sizeof(err)), 0);
    init_res(&res, "x", "heartbeat:Dummy");
    assert_int_equal(admit_run(f, &res, &p, 0, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "has no parameter 'sate'"));
    lk_params_free(&p);

    /* validate-all refuses, with the agent's reason; it ran with the parameters. */
    fake_res(f, &res);
    assert_int_equal(lk_params_set(&p, "dir", "/nonexistent/dir", false, err, sizeof(err)), 0);
    assert_int_equal(admit_run(f, &res, &p, 0, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "test:fake refused by its validate-all (exit 6, OCF_ERR_CONFIGURED): "
                             "directory /nonexistent/dir does not exist");
    lk_params_free(&p);
}

static void type_ocf_admit__promotable_refused(void **state)
{
    struct fixture *f = *state;
    use_test_root(f);
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/resource.d/test/prom", f->ocf_root);
    write_file(path,
               "#!/bin/sh\n"
               "[ \"$1\" = meta-data ] || exit 0\n"
               "echo '<resource-agent name=\"prom\"><parameters/><actions>"
               "<action name=\"start\" timeout=\"5s\"/><action name=\"promote\" timeout=\"5s\"/>"
               "</actions></resource-agent>'\n",
               0755);
    struct lk_resource res;
    init_res(&res, "p", "test:prom");
    char err[1024];
    assert_int_equal(admit_run(f, &res, NULL, 0, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "test:prom is a promotable agent (promote/demote): OpenKeeper runs "
                             "no promotable agents");
    /* Meta-data that is not XML. */
    write_file(path, "#!/bin/sh\necho usage: prom\n", 0755);
    assert_int_equal(admit_run(f, &res, NULL, 0, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "test:prom: the agent's meta-data is not XML");
    /* An agent others can write is refused before it runs. */
    assert_int_equal(chmod(path, 0777), 0);
    assert_int_equal(admit_run(f, &res, NULL, 0, err, sizeof(err)), -EPERM);
    assert_non_null(strstr(err, "writable"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(type_ocf_check__names),
            cmocka_unit_test_setup_teardown(type_ocf_prepare__argv_env_timeouts, setup, teardown),
            cmocka_unit_test_setup_teardown(type_ocf_prepare__not_installed_agent, setup, teardown),
            cmocka_unit_test_setup_teardown(type_ocf_runs__dummy_lifecycle, setup, teardown),
            cmocka_unit_test_setup_teardown(type_ocf_runs__fake_codes_and_reason, setup, teardown),
            cmocka_unit_test_setup_teardown(type_ocf_classify__secrets_scrubbed_from_the_reason,
                                            setup, teardown),
            cmocka_unit_test_setup_teardown(type_ocf_admit__dummy_gets_advised_settings, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(type_ocf_admit__fake_advice_and_given, setup, teardown),
            cmocka_unit_test_setup_teardown(type_ocf_admit__refusals, setup, teardown),
            cmocka_unit_test_setup_teardown(type_ocf_admit__promotable_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
