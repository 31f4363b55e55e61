/* The gen/app type: a resource's own scripts, one per action, copied under
 * $LKROOT/subsys/gen/resources/app/actions/<action>/<TAG> (scripts.c owns the copies and
 * the environment; this file only adapts them to the type table). A script's exit status
 * 0 is success and anything else a failure: classify leaves the verdict BY_OUTCOME, so
 * gen/app resources behave exactly as before the table existed. With the setting
 * script-args lifekeeper every script is called as LifeKeeper calls it: `-t TAG -i ID`.
 *
 * Events that enter: the table's calls from the loop (restype.c). It must never run a
 * script itself nor decide what a result means beyond the exit status. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restype.h"
#include "scripts.h"

static int check(const struct lk_resource *res, char *err, size_t err_size)
{
    if (strcmp(res->type, "app") != 0) {
        snprintf(err, err_size, "resource type must be 'app' for app 'gen', not '%.*s'",
                 (int) sizeof(res->type), res->type);
        return -EINVAL;
    }
    return 0;
}

static bool has_action(const struct lk_resource *res, enum lk_action action)
{
    return res->has_script[action];
}

static int add_env(const char *name, const char *value, void *userdata)
{
    return lk_type_run_env(userdata, name, value);
}

static int prepare(const struct lk_type_ctx *ctx, const struct lk_resource *res,
                   enum lk_action action, unsigned flags, struct lk_type_run *run, char *err,
                   size_t err_size)
{
    (void) flags;
    struct lk_script_run *script = malloc(sizeof(*script));
    if (!script) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    lk_scripts_prepare(ctx->root, ctx->node_name, res, action, script);
    snprintf(run->path, sizeof(run->path), "%s", script->path);
    int r = 0;
    for (size_t i = 0; r == 0 && script->env[i]; i++) {
        const char *eq = strchr(script->env[i], '=');
        if (!eq) {
            continue;
        }
        char name[64];
        snprintf(name, sizeof(name), "%.*s", (int) (eq - script->env[i]), script->env[i]);
        r = lk_type_run_env(run, name, eq + 1);
    }
    /* The tunables after OpenKeeper's own variables, which they never replace. */
    if (r == 0) {
        r = lk_scripts_env_tunables(ctx->tunables, add_env, run);
    }
    run->spec = script->spec;
    run->spec.path = run->path;
    run->spec.env = run->env;
    run->spec.argv = NULL;
    free(script);
    /* LifeKeeper's gen/app scripts take `-t TAG -i ID` (getopts 't:i:'), for every action:
     * argv[0] is the copy's path, as without arguments. */
    if (r == 0 && res->settings.script_args == LK_SCRIPT_ARGS_LIFEKEEPER) {
        const char *const args[] = {run->path, "-t", res->tag, "-i", res->id};
        for (size_t i = 0; r == 0 && i < sizeof(args) / sizeof(args[0]); i++) {
            r = lk_type_run_arg(run, args[i]);
        }
    }
    if (r < 0) {
        snprintf(err, err_size, "cannot prepare the script's run: %s", strerror(-r));
    }
    return r;
}

static void describe(const struct lk_resource *res, char *buf, size_t size)
{
    (void) res;
    snprintf(buf, size, "gen/app");
}

const struct lk_type_ops lk_type_genapp = {
        .app = "gen",
        .script_args = true,
        .check = check,
        .has_action = has_action,
        .prepare = prepare,
        .classify = NULL,
        .describe = describe,
        .admit = NULL,
};
