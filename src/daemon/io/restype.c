/* The resource-type table: the one place that maps a definition's app ("gen", "ocf",
 * "systemd") to the code that prepares its runs, classifies their results, checks its
 * definitions and describes it. Callers (the executor, the monitor, `resource test`,
 * define and the api's create/config) go through lk_type_* and never compare app strings.
 *
 * Events that enter: none of its own; every function is called from the loop by the
 * callers above. Each type lives in its own io/type_<app>.c and adds one line to the
 * table below.
 *
 * It must never decide what a verdict means for a resource (the engine does), never run a
 * process itself (the types' admit hooks use the runner), and never keep state between
 * calls. */
#include "restype.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct lk_type_ops *const types[] = {
        &lk_type_genapp,
        &lk_type_ocf,
        &lk_type_systemd,
};

const char *lk_type_exe_dir(void)
{
    static char dir[LK_PATH_MAX];
    static bool known;
    if (!known) {
        known = true;
        ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
        dir[n > 0 ? n : 0] = '\0';
        char *slash = strrchr(dir, '/');
        if (slash) {
            *slash = '\0';
        } else {
            dir[0] = '\0';
        }
    }
    return dir;
}

const struct lk_type_ops *lk_type_find(const char *app)
{
    if (!app) {
        return NULL;
    }
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(types[i]->app, app) == 0) {
            return types[i];
        }
    }
    return NULL;
}

static const struct lk_type_ops *find_or_say(const struct lk_resource *res, char *err,
                                             size_t err_size)
{
    const struct lk_type_ops *ops = lk_type_find(res->app);
    if (!ops && err && err_size) {
        snprintf(err, err_size, "unknown resource app '%.*s'", (int) sizeof(res->app), res->app);
    }
    return ops;
}

int lk_type_check(const struct lk_resource *res, char *err, size_t err_size)
{
    const struct lk_type_ops *ops = find_or_say(res, err, err_size);
    if (!ops) {
        return -EINVAL;
    }
    if (!ops->script_args && res->settings.script_args != LK_SCRIPT_ARGS_NONE) {
        snprintf(err, err_size,
                 "script-args %s is for a gen resource's scripts; a %s resource has none",
                 lk_script_args_name(res->settings.script_args), ops->app);
        return -EINVAL;
    }
    return ops->check ? ops->check(res, err, err_size) : 0;
}

bool lk_type_has_action(const struct lk_resource *res, enum lk_action action)
{
    const struct lk_type_ops *ops = lk_type_find(res->app);
    if (!ops || (unsigned) action >= LK_ACTION_COUNT) {
        return false;
    }
    return ops->has_action ? ops->has_action(res, action) : true;
}

void lk_type_fill_actions(struct lk_resource *res)
{
    for (int a = 0; a < LK_ACTION_COUNT; a++) {
        res->has_script[a] = lk_type_has_action(res, (enum lk_action) a);
    }
}

int lk_type_prepare(const struct lk_type_ctx *ctx, const struct lk_resource *res,
                    enum lk_action action, unsigned flags, struct lk_type_run *run, char *err,
                    size_t err_size)
{
    memset(run, 0, sizeof(*run));
    const struct lk_type_ops *ops = find_or_say(res, err, err_size);
    if (!ops) {
        return -EINVAL;
    }
    if (!ops->prepare) {
        snprintf(err, err_size, "resource app '%s' cannot run actions", ops->app);
        return -ENOTSUP;
    }
    int r = ops->prepare(ctx, res, action, flags, run, err, err_size);
    if (r < 0) {
        lk_type_run_free(run);
        return r;
    }
    /* The helpers may have moved the arrays: point the spec at them only now. */
    if (!run->spec.path) {
        run->spec.path = run->path;
    }
    run->spec.env = run->env;
    run->spec.argv = run->argc > 0 ? run->argv : NULL;
    return 0;
}

void lk_type_run_free(struct lk_type_run *run)
{
    if (!run) {
        return;
    }
    for (size_t i = 0; i < run->env_count; i++) {
        free(run->env[i]);
    }
    free(run->env);
    for (size_t i = 0; i < run->argc; i++) {
        free(run->argv[i]);
    }
    if (run->priv && run->priv_free) {
        run->priv_free(run->priv);
    }
    memset(run, 0, sizeof(*run));
}

void lk_type_classify(const struct lk_resource *res, enum lk_action action, unsigned flags,
                      struct lk_result *result, const char *output, size_t output_len)
{
    const struct lk_type_ops *ops = lk_type_find(res->app);
    if (ops && ops->classify) {
        ops->classify(res, action, flags, result, output, output_len);
    }
}

const char *lk_type_read_run(const struct lk_type_ctx *ctx, const struct lk_resource *res,
                             enum lk_action action, unsigned flags, struct lk_result *result,
                             const char *output, size_t output_len, char *masked)
{
    const struct lk_type_ops *ops = lk_type_find(res->app);
    if (ops && ops->classify) {
        ops->classify(res, action, flags, result, output, output_len);
    }
    if (!ops || !ops->scrub || output_len == 0 || output_len > LK_RUN_OUTPUT_MAX) {
        return output;
    }
    memcpy(masked, output, output_len);
    ops->scrub(ctx, res, masked, output_len);
    return masked;
}

char *lk_type_describe(const struct lk_resource *res, char *buf, size_t size)
{
    if (!buf || size == 0) {
        return buf;
    }
    const struct lk_type_ops *ops = lk_type_find(res->app);
    if (ops && ops->describe) {
        ops->describe(res, buf, size);
    } else {
        snprintf(buf, size, "%.*s/%.*s", (int) sizeof(res->app), res->app, (int) sizeof(res->type),
                 res->type);
    }
    return buf;
}

int lk_type_admit(uv_loop_t *loop, const struct lk_type_ctx *ctx, struct lk_resource *res,
                  const struct lk_params *params, unsigned given, lk_type_admit_cb cb,
                  void *userdata, char *err, size_t err_size)
{
    const struct lk_type_ops *ops = find_or_say(res, err, err_size);
    if (!ops) {
        return -EINVAL;
    }
    if (!ops->admit) {
        return 1;
    }
    return ops->admit(loop, ctx, res, params, given, cb, userdata, err, err_size);
}

int lk_type_run_env(struct lk_type_run *run, const char *name, const char *value)
{
    if (run->env_count + 2 > run->env_cap) {
        size_t cap = run->env_cap ? run->env_cap * 2 : 16;
        char **env = realloc(run->env, cap * sizeof(*env));
        if (!env) {
            return -ENOMEM;
        }
        run->env = env;
        run->env_cap = cap;
    }
    size_t len = strlen(name) + 1 + strlen(value) + 1;
    char *s = malloc(len);
    if (!s) {
        return -ENOMEM;
    }
    snprintf(s, len, "%s=%s", name, value);
    run->env[run->env_count++] = s;
    run->env[run->env_count] = NULL;
    run->spec.env = run->env;
    return 0;
}

int lk_type_run_arg(struct lk_type_run *run, const char *arg)
{
    if (run->argc + 1 >= sizeof(run->argv) / sizeof(run->argv[0])) {
        return -E2BIG;
    }
    char *s = strdup(arg);
    if (!s) {
        return -ENOMEM;
    }
    run->argv[run->argc++] = s;
    run->argv[run->argc] = NULL;
    run->spec.argv = run->argv;
    return 0;
}
