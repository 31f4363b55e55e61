/* The systemd type (docs/SYSTEMD.md): a resource whose type is a unit name ("nginx.service")
 * and whose five actions are runs of the lk_systemd helper found beside lkd: restore =
 * `start`, remove = `stop`, quickchk and deepchk = `status`, recover = `restart`. restore and
 * recover leave an `lk_systemd watch` in the resource's cgroup, so the cgroup watch (monitor)
 * hears the unit go down at once. lkd's own LK_SYSTEMD_BUS (a D-Bus address) is passed on.
 *
 * Events that enter: the table's calls from the loop (restype.c), and for admit the end of
 * one `lk_systemd status` run. classify turns sdunit.h's exit statuses into verdicts;
 * the helper's last output line is the reason. It must never talk to the manager itself,
 * never block, and never decide what a verdict means for the resource (the engine does). */
#include "type_systemd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "params.h"
#include "restype.h"
#include "scripts.h"
#include "sdunit.h"

#define SYSTEM_PATH      "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define ADMIT_TIMEOUT_US (30 * 1000000ULL)

static int check(const struct lk_resource *res, char *err, size_t err_size)
{
    char why[256];
    char unit[sizeof(res->type) + 1];
    snprintf(unit, sizeof(unit), "%.*s", (int) sizeof(res->type), res->type);
    if (!lk_unit_name_valid(unit, why, sizeof(why))) {
        snprintf(err, err_size, "systemd resource: %s", why);
        return -EINVAL;
    }
    return 0;
}

static bool has_action(const struct lk_resource *res, enum lk_action action)
{
    (void) res;
    return (unsigned) action < LK_ACTION_COUNT;
}

/* lk_systemd beside lkd (the build tree, an installation into one directory), else in
 * ../libexec/openkeeper (lkd in sbin). */
static void find_helper(const char *exe_dir, char *buf, size_t size)
{
    const char *dir = exe_dir && *exe_dir ? exe_dir : lk_type_exe_dir();
    snprintf(buf, size, "%s/" LK_SYSTEMD_PROGRAM, dir);
    if (access(buf, X_OK) == 0) {
        return;
    }
    snprintf(buf, size, "%s/../libexec/openkeeper/" LK_SYSTEMD_PROGRAM, dir);
    if (access(buf, X_OK) == 0) {
        return;
    }
    snprintf(buf, size, "%s/" LK_SYSTEMD_PROGRAM, dir); /* it fails to execute, and says so */
}

static const char *verb_of(enum lk_action action)
{
    switch (action) {
    case LK_ACTION_RESTORE:
        return "start";
    case LK_ACTION_REMOVE:
        return "stop";
    case LK_ACTION_RECOVER:
        return "restart";
    default:
        return "status";
    }
}

/* Fills run for `lk_systemd <verb> <unit>` within timeout_usec. */
static int fill(const struct lk_type_ctx *ctx, const struct lk_resource *res, const char *verb,
                uint64_t timeout_usec, bool watch, struct lk_type_run *run)
{
    char unit[sizeof(res->type) + 1];
    snprintf(unit, sizeof(unit), "%.*s", (int) sizeof(res->type), res->type);
    find_helper(ctx->exe_dir, run->path, sizeof(run->path));
    char path_env[LK_PATH_MAX + 128];
    snprintf(path_env, sizeof(path_env), "%s/bin:%s", ctx->root, SYSTEM_PATH);
    char timeout_ms[32];
    uint64_t ms = timeout_usec / 1000;
    snprintf(timeout_ms, sizeof(timeout_ms), "%llu",
             (unsigned long long) (ms == 0            ? 0
                                   : ms > 86400000ULL ? 86400000ULL
                                                      : ms));
    const char *bus = getenv(LK_SYSTEMD_ENV_BUS);
    int r = lk_type_run_arg(run, run->path);
    r = r ? r : lk_type_run_arg(run, verb);
    r = r ? r : lk_type_run_arg(run, unit);
    r = r ? r : lk_type_run_env(run, "LKROOT", ctx->root);
    r = r ? r : lk_type_run_env(run, "LK_TAG", res->tag);
    r = r ? r : lk_type_run_env(run, "LK_NODE", ctx->node_name ? ctx->node_name : "");
    r = r ? r : lk_type_run_env(run, "PATH", path_env);
    r = r ? r : lk_type_run_env(run, "LANG", "C");
    if (ms > 0) {
        r = r ? r : lk_type_run_env(run, LK_SYSTEMD_ENV_TIMEOUT, timeout_ms);
    }
    if (bus && *bus) {
        r = r ? r : lk_type_run_env(run, LK_SYSTEMD_ENV_BUS, bus);
    }
    if (watch) {
        r = r ? r : lk_type_run_env(run, LK_SYSTEMD_ENV_WATCH, "1");
    }
    run->spec.path = run->path;
    run->spec.cwd = ctx->root;
    run->spec.timeout_usec = timeout_usec;
    run->spec.kill_grace_usec = 0;
    run->spec.secure_root = NULL; /* lkd's own helper, not a user's script */
    return r;
}

static int prepare(const struct lk_type_ctx *ctx, const struct lk_resource *res,
                   enum lk_action action, unsigned flags, struct lk_type_run *run, char *err,
                   size_t err_size)
{
    (void) flags;
    bool watch = action == LK_ACTION_RESTORE || action == LK_ACTION_RECOVER;
    int r = fill(ctx, res, verb_of(action), lk_scripts_timeout(res, action), watch, run);
    if (r < 0) {
        snprintf(err, err_size, "out of memory");
    }
    return r;
}

/* The helper's last non-empty line without its "lk_systemd: " prefix. */
static void last_line(const char *output, size_t len, char *buf, size_t size)
{
    buf[0] = '\0';
    while (len > 0 && (output[len - 1] == '\n' || output[len - 1] == '\r')) {
        len--;
    }
    size_t start = len;
    while (start > 0 && output[start - 1] != '\n') {
        start--;
    }
    const char *line = output + start;
    size_t n = len - start;
    static const char prefix[] = LK_SYSTEMD_PROGRAM ": ";
    if (n >= sizeof(prefix) - 1 && memcmp(line, prefix, sizeof(prefix) - 1) == 0) {
        line += sizeof(prefix) - 1;
        n -= sizeof(prefix) - 1;
    }
    snprintf(buf, size, "%.*s", (int) n, line);
    for (char *p = buf; *p; p++) {
        if ((unsigned char) *p < 0x20) {
            *p = ' ';
        }
    }
}

static enum lk_verdict verdict_of(enum lk_action action, unsigned flags, int status)
{
    bool check = action == LK_ACTION_QUICKCHK || action == LK_ACTION_DEEPCHK;
    bool probe = check && (flags & LK_TYPE_PROBE);
    switch (status) {
    case LK_SD_EXIT_OK:
        return LK_VERDICT_OK;
    case LK_SD_EXIT_PENDING:
        return LK_VERDICT_PENDING;
    case LK_SD_EXIT_USAGE:
        return LK_VERDICT_NOT_CONFIGURED;
    case LK_SD_EXIT_INACTIVE:
        return check ? LK_VERDICT_NOT_RUNNING : LK_VERDICT_FAILED;
    case LK_SD_EXIT_FAILED:
        /* A unit found failed at start-up is not running, like one found inactive. */
        return probe ? LK_VERDICT_NOT_RUNNING : LK_VERDICT_FAILED;
    case LK_SD_EXIT_NOT_FOUND:
        if (action == LK_ACTION_REMOVE || probe) {
            return LK_VERDICT_NOT_RUNNING;
        }
        return check ? LK_VERDICT_FAILED : LK_VERDICT_NOT_INSTALLED;
    case LK_SD_EXIT_NO_MANAGER:
        if (action == LK_ACTION_RESTORE || action == LK_ACTION_RECOVER || probe) {
            return LK_VERDICT_NOT_INSTALLED;
        }
        return LK_VERDICT_FAILED;
    default:
        return LK_VERDICT_FAILED;
    }
}

static void classify(const struct lk_resource *res, enum lk_action action, unsigned flags,
                     struct lk_result *result, const char *output, size_t output_len)
{
    (void) res;
    if (result->outcome != LK_OUTCOME_SUCCESS && result->outcome != LK_OUTCOME_EXIT) {
        return; /* timed out, killed, could not execute: as for any script */
    }
    result->verdict = verdict_of(action, flags, result->exit_status);
    if (output && output_len > 0) {
        last_line(output, output_len, result->exit_reason, sizeof(result->exit_reason));
    }
}

static void describe(const struct lk_resource *res, char *buf, size_t size)
{
    snprintf(buf, size, "systemd %.*s", (int) sizeof(res->type), res->type);
}

/* ---------------------------------------------------------------- admit */

struct admit {
    lk_type_admit_cb cb;
    void *userdata;
    char unit[sizeof(((struct lk_resource *) 0)->type) + 1];
};

static void admit_done(struct lk_run *run, const struct lk_result *result, const char *output,
                       size_t output_len, void *userdata)
{
    (void) run;
    struct admit *a = userdata;
    char line[256];
    last_line(output ? output : "", output ? output_len : 0, line, sizeof(line));
    char err[400] = "";
    int status = 0;
    if (result->outcome == LK_OUTCOME_SUCCESS || result->outcome == LK_OUTCOME_EXIT) {
        switch (result->exit_status) {
        case LK_SD_EXIT_OK:
        case LK_SD_EXIT_INACTIVE:
        case LK_SD_EXIT_FAILED:
        case LK_SD_EXIT_PENDING:
            break; /* the manager answered and knows the unit */
        default:
            status = -EINVAL;
            snprintf(err, sizeof(err), "systemd resource refused: %s",
                     line[0] ? line : "lk_systemd failed");
        }
    } else {
        char desc[300];
        status = -EINVAL;
        snprintf(err, sizeof(err), "systemd resource refused: cannot ask the manager about %s (%s)",
                 a->unit, lk_result_describe(result, desc, sizeof(desc)));
    }
    a->cb(status, status ? err : NULL, a->userdata);
    free(a);
}

static int admit(uv_loop_t *loop, const struct lk_type_ctx *ctx, struct lk_resource *res,
                 const struct lk_params *params, unsigned given, lk_type_admit_cb cb,
                 void *userdata, char *err, size_t err_size)
{
    (void) given;
    int r = check(res, err, err_size);
    if (r < 0) {
        return r;
    }
    if (params && params->count > 0) {
        snprintf(err, err_size,
                 "a systemd resource takes no parameters: the unit file is its configuration");
        return -EINVAL;
    }
    struct admit *a = calloc(1, sizeof(*a));
    struct lk_type_run *run = calloc(1, sizeof(*run));
    if (!a || !run) {
        free(a);
        free(run);
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    a->cb = cb;
    a->userdata = userdata;
    snprintf(a->unit, sizeof(a->unit), "%.*s", (int) sizeof(res->type), res->type);
    r = fill(ctx, res, "status", ADMIT_TIMEOUT_US, false, run);
    if (r == 0) {
        run->spec.env = run->env;
        run->spec.argv = run->argv;
        r = lk_run_start(loop, &run->spec, admit_done, a, NULL);
    }
    lk_type_run_free(run);
    free(run);
    if (r < 0) {
        free(a);
        snprintf(err, err_size, "cannot ask the systemd manager: %s", strerror(-r));
        return r;
    }
    return 0;
}

const struct lk_type_ops lk_type_systemd = {
        .app = "systemd",
        .check = check,
        .has_action = has_action,
        .prepare = prepare,
        .classify = classify,
        .describe = describe,
        .admit = admit,
};

int lk_type_systemd_prepare_hold(const struct lk_type_ctx *ctx, const char *tag, const char *unit,
                                 bool own, uint64_t timeout_usec, struct lk_type_run *run)
{
    memset(run, 0, sizeof(*run));
    struct lk_resource *res = calloc(1, sizeof(*res));
    if (!res) {
        return -ENOMEM;
    }
    snprintf(res->tag, sizeof(res->tag), "%s", tag);
    snprintf(res->type, sizeof(res->type), "%s", unit);
    int r = fill(ctx, res, own ? "own" : "release", timeout_usec, false, run);
    free(res);
    if (r < 0) {
        lk_type_run_free(run);
        return r;
    }
    run->spec.env = run->env;
    run->spec.argv = run->argv;
    return 0;
}
