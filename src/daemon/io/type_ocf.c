/* The ocf type: a resource run by an OCF resource agent (docs/OCF.md), its type the agent
 * ("heartbeat:IPaddr2"), its parameters in io/paramfile's file. restore runs `start`,
 * remove `stop`, quickchk `monitor` at OCF_CHECK_LEVEL 0, deepchk `monitor` at the
 * configured depth (default 10), recover `stop` then `start` in one /bin/sh run; a run's
 * result is classified by lib/ocf's exit-code table. At create and at every parameter
 * change, admit reads the agent (Pacemaker tools), runs `meta-data` (the parameters, the
 * advised timeouts, promotable or not) and `validate-all` through the runner. Secret
 * parameter values an agent echoes are replaced by "***" in the reasons it gives.
 *
 * Events that enter: the table's calls from the loop (restype.c), and the runner's
 * callbacks of admit's two runs. It must never decide what a verdict does to a resource
 * (the engine does), nor write the definition (admit only fills res->settings). */
#include "type_ocf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ocf.h"
#include "paramfile.h"
#include "params.h"
#include "restype.h"
#include "safeopen.h"
#include "scripts.h"

#define AGENT_READ_MAX        (8 * 1024 * 1024) /* bytes of an agent scanned for Pacemaker tools */
#define META_MAX              (1024 * 1024)     /* bytes of meta-data read */
#define META_TIMEOUT_USEC     (30 * 1000000ULL) /* meta-data's own bound (the agents advise 5 s) */
#define VALIDATE_DEFAULT_USEC (60 * 1000000ULL)
#define VALIDATE_MAX_USEC     (300 * 1000000ULL) /* what meta-data may advise at most */

/* recover: stop, then start; a stop that finds it stopped (7) is a stop that worked. The
 * agent is $0, so the shell never interprets its path. */
#define RECOVER_SCRIPT                                                                             \
    "\"$0\" stop; rc=$?; if [ $rc -ne 0 ] && [ $rc -ne 7 ]; then exit $rc; fi; exec \"$0\" start"

/* The runner's argv is char *const *: writable copies of the fixed arguments. */
static char arg_sh[] = "/bin/sh";
static char arg_c[] = "-c";
static char arg_meta[] = "exec \"$0\" meta-data > \"$1\"";
static char arg_validate[] = "validate-all";

/* The root of the node this lkd runs (one per process), noted by prepare for classify,
 * which the table gives no context: where the parameters to scrub from a reason are. */
static char node_root[LK_PATH_MAX];

static int agent_of(const struct lk_resource *res, struct lk_ocf_agent *agent, char *path,
                    size_t path_size, char *err, size_t err_size)
{
    int r = lk_ocf_agent_parse(res->type, agent, err, err_size);
    if (r < 0) {
        return r;
    }
    lk_ocf_agent_path(lk_ocf_root(), agent, path, path_size);
    return 0;
}

static int check(const struct lk_resource *res, char *err, size_t err_size)
{
    struct lk_ocf_agent agent;
    if (strcmp(res->app, "ocf") != 0) {
        snprintf(err, err_size, "not an ocf resource");
        return -EINVAL;
    }
    return lk_ocf_agent_parse(res->type, &agent, err, err_size);
}

static bool has_action(const struct lk_resource *res, enum lk_action action)
{
    (void) res;
    return (unsigned) action < LK_ACTION_COUNT;
}

/* The agent's file must pass the check every script lkd runs passes (owned by root, not
 * writable by others, no symbolic link), from "/" down. */
static int agent_safe(const char *path, char *err, size_t err_size)
{
    char msg[512];
    int r = lk_safeopen_check_tree("/", path, "OCF agent", msg, sizeof(msg));
    if (r > 0) {
        snprintf(err, err_size, "%s", msg);
        return -EPERM;
    }
    if (r == -ENOENT) {
        snprintf(err, err_size, "OCF agent '%s' is not installed on this node", path);
        return r;
    }
    if (r < 0) {
        snprintf(err, err_size, "cannot examine OCF agent '%s': %s", path, strerror(-r));
        return r;
    }
    if (access(path, X_OK) < 0) {
        r = -errno;
        snprintf(err, err_size, "OCF agent '%s' is not executable", path);
        return r;
    }
    return 0;
}

/* The parameters as lib/ocf's borrowed values (pointing into p). */
static struct lk_ocf_value *values_of(const struct lk_params *p)
{
    size_t n = p ? p->count : 0;
    struct lk_ocf_value *v = calloc(n + 1, sizeof(*v));
    for (size_t i = 0; v && i < n; i++) {
        v[i].name = p->items[i].name;
        v[i].value = p->items[i].value;
    }
    return v;
}

/* Moves a heap environment from lk_ocf_env_build into run. */
static void take_env(struct lk_type_run *run, char **env)
{
    size_t n = 0;
    while (env[n]) {
        n++;
    }
    run->env = env;
    run->env_count = n;
    run->env_cap = n + 1;
    run->spec.env = env;
}

/* The bound of one run: the scripts' (lk_scripts_timeout), but a recover is two operations
 * in one run, each with the action timeout. */
static uint64_t run_timeout_usec(const struct lk_resource *res, enum lk_action action)
{
    if (action == LK_ACTION_RECOVER) {
        return 2 * res->settings.action_timeout_usec;
    }
    return lk_scripts_timeout(res, action);
}

static uint64_t interval_ms(const struct lk_resource *res, enum lk_action action, unsigned flags)
{
    if (flags & LK_TYPE_PROBE) {
        return 0;
    }
    uint64_t usec = 0;
    if (action == LK_ACTION_QUICKCHK) {
        usec = res->settings.quickchk_interval_usec;
    } else if (action == LK_ACTION_DEEPCHK) {
        usec = res->settings.deepchk_interval_usec;
    } else {
        return 0;
    }
    /* Interval 0 tells the agent "this is a probe" (ocf_is_probe): a check that is not the
     * start-up probe (monitoring off, `resource test`) says at least 1 s. */
    uint64_t ms = usec / 1000;
    return ms ? ms : 1000;
}

static int prepare(const struct lk_type_ctx *ctx, const struct lk_resource *res,
                   enum lk_action action, unsigned flags, struct lk_type_run *run, char *err,
                   size_t err_size)
{
    struct lk_ocf_agent agent;
    char agent_path[LK_PATH_MAX];
    int r = agent_of(res, &agent, agent_path, sizeof(agent_path), err, err_size);
    if (r < 0) {
        return r;
    }
    snprintf(node_root, sizeof(node_root), "%s", ctx->root);
    const char *op = lk_ocf_operation(action);
    if (!op) {
        snprintf(err, err_size, "no OCF operation for action %d", (int) action);
        return -EINVAL;
    }
    struct lk_params params = {0};
    r = lk_params_read(ctx->root, res->tag, &params, err, err_size);
    if (r < 0) {
        return r;
    }
    struct lk_ocf_value *values = values_of(&params);
    if (!values) {
        lk_params_free(&params);
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    int level = -1;
    if (action == LK_ACTION_QUICKCHK) {
        level = 0;
    } else if (action == LK_ACTION_DEEPCHK) {
        level = (flags & LK_TYPE_PROBE) ? 0 : LK_OCF_DEEP_DEPTH;
        if (!(flags & LK_TYPE_PROBE) && lk_ocf_deep_level(values, params.count, &level) < 0) {
            level = LK_OCF_DEEP_DEPTH;
        }
    }
    uint64_t timeout_usec = run_timeout_usec(res, action);
    struct lk_ocf_env_spec es = {
            .ocf_root = lk_ocf_root(),
            .lkroot = ctx->root,
            .node = ctx->node_name,
            .instance = res->tag,
            .agent = &agent,
            .action = lk_action_name(action),
            .params = values,
            .param_count = params.count,
            .timeout_ms = timeout_usec / 1000,
            .interval_ms = interval_ms(res, action, flags),
            .check_level = level,
    };
    char **env = NULL;
    r = lk_ocf_env_build(&es, &env);
    free(values);
    lk_params_free(&params);
    if (r < 0) {
        snprintf(err, err_size, "cannot build the environment of %s: %s", res->tag, strerror(-r));
        return r;
    }
    take_env(run, env);
    if (action == LK_ACTION_RECOVER) {
        /* The runner checks the file it executes (/bin/sh here), so the agent is checked
         * now, as it is for every other action. */
        r = agent_safe(agent_path, err, err_size);
        if (r < 0) {
            return r;
        }
        snprintf(run->path, sizeof(run->path), "/bin/sh");
        r = lk_type_run_arg(run, "/bin/sh");
        r = r ? r : lk_type_run_arg(run, "-c");
        r = r ? r : lk_type_run_arg(run, RECOVER_SCRIPT);
        r = r ? r : lk_type_run_arg(run, agent_path);
        run->spec.secure_root = NULL;
    } else {
        snprintf(run->path, sizeof(run->path), "%s", agent_path);
        r = lk_type_run_arg(run, agent_path);
        r = r ? r : lk_type_run_arg(run, op);
        run->spec.secure_root = "/";
    }
    if (r < 0) {
        snprintf(err, err_size, "out of memory");
        return r;
    }
    run->spec.path = run->path;
    run->spec.cwd = ctx->root;
    run->spec.timeout_usec = timeout_usec;
    run->spec.kill_grace_usec = 0;
    return 0;
}

/* Replaces the values of res's secret parameters in text by "***". */
static void scrub_secrets(const char *root, const char *tag, char *text, size_t size)
{
    struct lk_params params = {0};
    char err[256];
    if (!root[0] || lk_params_read(root, tag, &params, err, sizeof(err)) < 0) {
        return;
    }
    for (size_t i = 0; i < params.count; i++) {
        if (params.items[i].secret || lk_ocf_secret_name(params.items[i].name)) {
            lk_ocf_scrub(text, size, params.items[i].value);
        }
    }
    lk_params_free(&params);
}

void lk_type_ocf_scrub_output(const char *root, const struct lk_resource *res, char *text,
                              size_t len)
{
    struct lk_params params = {0};
    char err[256];
    if (!root || !root[0] || len == 0 ||
        lk_params_read(root, res->tag, &params, err, sizeof(err)) < 0) {
        return;
    }
    for (size_t i = 0; i < params.count; i++) {
        const char *v = params.items[i].value;
        size_t vlen = strlen(v);
        if (vlen == 0 || vlen > len ||
            !(params.items[i].secret || lk_ocf_secret_name(params.items[i].name))) {
            continue;
        }
        for (size_t at = 0; at + vlen <= len; at++) {
            if (memcmp(text + at, v, vlen) == 0) {
                memset(text + at, '*', vlen);
                at += vlen - 1;
            }
        }
    }
    lk_params_free(&params);
}

static void scrub(const struct lk_type_ctx *ctx, const struct lk_resource *res, char *text,
                  size_t len)
{
    lk_type_ocf_scrub_output(ctx->root, res, text, len);
}

static void classify(const struct lk_resource *res, enum lk_action action, unsigned flags,
                     struct lk_result *result, const char *output, size_t output_len)
{
    lk_ocf_classify(lk_ocf_context_of(action, (flags & LK_TYPE_PROBE) != 0), result, output,
                    output_len);
    if (result->exit_reason[0]) {
        scrub_secrets(node_root, res->tag, result->exit_reason, sizeof(result->exit_reason));
    }
}

static void describe(const struct lk_resource *res, char *buf, size_t size)
{
    snprintf(buf, size, "ocf %.*s", (int) (sizeof(res->type) - 1), res->type);
}

/* ---------------------------------------------------------------- meta-data */

static int read_small(const char *path, size_t max, char **ret, size_t *ret_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        return -errno;
    }
    char *buf = malloc(max + 1);
    if (!buf) {
        (void) close(fd);
        return -ENOMEM;
    }
    size_t len = 0;
    while (len < max) {
        ssize_t n = read(fd, buf + len, max - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            int r = -errno;
            free(buf);
            (void) close(fd);
            return r;
        }
        if (n == 0) {
            break;
        }
        len += (size_t) n;
    }
    (void) close(fd);
    buf[len] = '\0';
    *ret = buf;
    *ret_len = len;
    return 0;
}

/* The last non-empty line of output, for a refusal without an ocf-exit-reason. */
static void last_line(const char *output, size_t len, char *buf, size_t size)
{
    while (len > 0 && (output[len - 1] == '\n' || output[len - 1] == ' ')) {
        len--;
    }
    size_t start = len;
    while (start > 0 && output[start - 1] != '\n') {
        start--;
    }
    size_t n = len - start < size - 1 ? len - start : size - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) output[start + i];
        buf[i] = c < 0x20 ? ' ' : (char) c;
    }
    buf[n] = '\0';
}

/* One run of `meta-data`. */
struct meta_job {
    char name[LK_OCF_PROVIDER_MAX + LK_OCF_AGENT_MAX + 2];
    char path[LK_PATH_MAX];
    char out_path[LK_PATH_MAX + 64];
    char *argv[6];
    char **env;
    lk_type_ocf_meta_cb cb;
    void *userdata;
};

static void meta_job_free(struct meta_job *j)
{
    if (j->out_path[0]) {
        (void) unlink(j->out_path);
    }
    lk_ocf_env_free(j->env);
    free(j);
}

static void meta_finish(struct meta_job *j, int status, const struct lk_ocf_meta *meta,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void meta_finish(struct meta_job *j, int status, const struct lk_ocf_meta *meta,
                        const char *fmt, ...)
{
    char err[1024] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, sizeof(err), fmt, ap);
        va_end(ap);
    }
    char name[sizeof(j->name)];
    snprintf(name, sizeof(name), "%s", j->name);
    lk_type_ocf_meta_cb cb = j->cb;
    void *userdata = j->userdata;
    meta_job_free(j);
    cb(status, status < 0 ? err : NULL, meta, name, userdata);
}

static void meta_done(struct lk_run *run, const struct lk_result *result, const char *output,
                      size_t output_len, void *userdata)
{
    (void) run;
    struct meta_job *j = userdata;
    if (result->outcome != LK_OUTCOME_SUCCESS) {
        char desc[320], line[200];
        lk_result_describe(result, desc, sizeof(desc));
        last_line(output, output_len, line, sizeof(line));
        meta_finish(j, -EINVAL, NULL, "meta-data of %s failed: %s%s%s", j->name, desc,
                    line[0] ? ": " : "", line);
        return;
    }
    char *xml = NULL;
    size_t len = 0;
    int r = read_small(j->out_path, META_MAX, &xml, &len);
    if (r < 0) {
        meta_finish(j, r, NULL, "cannot read the meta-data of %s: %s", j->name, strerror(-r));
        return;
    }
    char err[512];
    struct lk_ocf_meta meta;
    r = lk_ocf_meta_parse(xml, len, &meta, err, sizeof(err));
    free(xml);
    if (r < 0) {
        meta_finish(j, r, NULL, "%s: %s", j->name, err);
        return;
    }
    meta_finish(j, 0, &meta, NULL);
    lk_ocf_meta_free(&meta);
}

/* Reads the agent and refuses one that calls Pacemaker's tools. */
static int scan_agent(const char *name, const char *path, char *err, size_t err_size)
{
    char *text = NULL;
    size_t len = 0;
    int r = read_small(path, AGENT_READ_MAX, &text, &len);
    if (r < 0) {
        snprintf(err, err_size, "cannot read OCF agent '%s': %s", path, strerror(-r));
        return r;
    }
    char which[256];
    int n = lk_ocf_pacemaker_tools(text, len, which, sizeof(which));
    free(text);
    if (n > 0) {
        snprintf(err, err_size,
                 "%s needs Pacemaker's tools (%s), which OpenKeeper does not provide: this agent "
                 "is not supported",
                 name, which);
        return -ENOTSUP;
    }
    return 0;
}

int lk_type_ocf_meta(uv_loop_t *loop, const char *root, const char *node, const char *agent_text,
                     lk_type_ocf_meta_cb cb, void *userdata, char *err, size_t err_size)
{
    struct lk_ocf_agent agent;
    int r = lk_ocf_agent_parse(agent_text, &agent, err, err_size);
    if (r < 0) {
        return r;
    }
    struct meta_job *j = calloc(1, sizeof(*j));
    if (!j) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    j->cb = cb;
    j->userdata = userdata;
    lk_ocf_agent_format(&agent, j->name, sizeof(j->name));
    lk_ocf_agent_path(lk_ocf_root(), &agent, j->path, sizeof(j->path));
    r = agent_safe(j->path, err, err_size);
    if (r == -ENOENT) {
        snprintf(err, err_size, "OCF agent %s is not installed on this node (no %s)", j->name,
                 j->path);
    }
    r = r < 0 ? r : scan_agent(j->name, j->path, err, err_size);
    if (r < 0) {
        meta_job_free(j);
        return r;
    }
    /* meta-data is longer than the runner keeps of a run's output: the agent writes it to a
     * private file (0600, in $LKROOT), read and removed when it has exited. */
    snprintf(j->out_path, sizeof(j->out_path), "%s/.ocf-meta-data.XXXXXX", root);
    int fd = mkstemp(j->out_path);
    if (fd < 0) {
        r = -errno;
        snprintf(err, err_size, "cannot create a file in '%s': %s", root, strerror(-r));
        j->out_path[0] = '\0';
        meta_job_free(j);
        return r;
    }
    (void) close(fd);
    struct lk_ocf_env_spec es = {
            .ocf_root = lk_ocf_root(),
            .lkroot = root,
            .node = node,
            .instance = agent.name,
            .agent = &agent,
            .action = "meta-data",
            .timeout_ms = META_TIMEOUT_USEC / 1000,
            .check_level = -1,
    };
    r = lk_ocf_env_build(&es, &j->env);
    if (r < 0) {
        snprintf(err, err_size, "out of memory");
        meta_job_free(j);
        return r;
    }
    j->argv[0] = arg_sh;
    j->argv[1] = arg_c;
    j->argv[2] = arg_meta;
    j->argv[3] = j->path;
    j->argv[4] = j->out_path;
    j->argv[5] = NULL;
    struct lk_run_spec spec = {
            .path = "/bin/sh",
            .argv = j->argv,
            .cwd = root,
            .env = j->env,
            .timeout_usec = META_TIMEOUT_USEC,
    };
    r = lk_run_start(loop, &spec, meta_done, j, NULL);
    if (r < 0) {
        snprintf(err, err_size, "cannot run meta-data of %s: %s", j->name, strerror(-r));
        meta_job_free(j);
        return r;
    }
    return 0;
}

/* ---------------------------------------------------------------- admit */

/* One admission: meta-data, then validate-all. */
struct admit {
    uv_loop_t *loop;
    char root[LK_PATH_MAX];
    char node[LK_TAG_MAX + 1];
    struct lk_resource *res;
    const struct lk_params *params;
    unsigned given;
    lk_type_admit_cb cb;
    void *userdata;
    struct lk_ocf_agent agent;
    char agent_name[LK_OCF_PROVIDER_MAX + LK_OCF_AGENT_MAX + 2];
    char agent_path[LK_PATH_MAX];
    uint64_t validate_usec;
    char *argv[3];
    char **env;
};

static void admit_free(struct admit *a)
{
    lk_ocf_env_free(a->env);
    free(a);
}

static void admit_finish(struct admit *a, int status, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void admit_finish(struct admit *a, int status, const char *fmt, ...)
{
    char err[1024] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, sizeof(err), fmt, ap);
        va_end(ap);
    }
    lk_type_admit_cb cb = a->cb;
    void *userdata = a->userdata;
    admit_free(a);
    cb(status, status < 0 ? err : NULL, userdata);
}

static void validate_done(struct lk_run *run, const struct lk_result *result, const char *output,
                          size_t output_len, void *userdata)
{
    (void) run;
    struct admit *a = userdata;
    if (result->outcome == LK_OUTCOME_SUCCESS) {
        admit_finish(a, 0, NULL);
        return;
    }
    char reason[256];
    if (!lk_ocf_exit_reason(output, output_len, reason, sizeof(reason))) {
        last_line(output, output_len, reason, sizeof(reason));
    }
    if (result->outcome == LK_OUTCOME_EXIT) {
        admit_finish(a, -EINVAL, "%s refused by its validate-all (exit %d, %s)%s%s", a->agent_name,
                     result->exit_status, lk_ocf_code_name(result->exit_status),
                     reason[0] ? ": " : "", reason);
        return;
    }
    char desc[320];
    lk_result_describe(result, desc, sizeof(desc));
    admit_finish(a, -EINVAL, "validate-all of %s failed: %s", a->agent_name, desc);
}

static void start_validate(struct admit *a)
{
    struct lk_ocf_value *values = values_of(a->params);
    if (!values) {
        admit_finish(a, -ENOMEM, "out of memory");
        return;
    }
    struct lk_ocf_env_spec es = {
            .ocf_root = lk_ocf_root(),
            .lkroot = a->root,
            .node = a->node,
            .instance = a->res->tag,
            .agent = &a->agent,
            .action = "validate-all",
            .params = values,
            .param_count = a->params ? a->params->count : 0,
            .timeout_ms = a->validate_usec / 1000,
            .check_level = -1,
    };
    int r = lk_ocf_env_build(&es, &a->env);
    free(values);
    if (r < 0) {
        admit_finish(a, r, "out of memory");
        return;
    }
    a->argv[0] = a->agent_path;
    a->argv[1] = arg_validate;
    a->argv[2] = NULL;
    struct lk_run_spec spec = {
            .path = a->agent_path,
            .argv = a->argv,
            .cwd = a->root,
            .env = a->env,
            .timeout_usec = a->validate_usec,
            .secure_root = "/",
    };
    r = lk_run_start(a->loop, &spec, validate_done, a, NULL);
    if (r < 0) {
        admit_finish(a, r, "cannot run validate-all of %s: %s", a->agent_name, strerror(-r));
    }
}

/* Fills the settings the user did not give with what the meta-data advises. */
static void apply_advice(struct admit *a, const struct lk_ocf_meta *meta)
{
    static const struct {
        const char *key;
        unsigned bit;
    } keys[] = {
            {"action-timeout", LK_TYPE_GIVEN_ACTION_TIMEOUT},
            {"quickchk-interval", LK_TYPE_GIVEN_QUICKCHK_INTERVAL},
            {"quickchk-timeout", LK_TYPE_GIVEN_QUICKCHK_TIMEOUT},
            {"deepchk-interval", LK_TYPE_GIVEN_DEEPCHK_INTERVAL},
            {"deepchk-timeout", LK_TYPE_GIVEN_DEEPCHK_TIMEOUT},
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char value[32], err[256];
        if (a->given & keys[i].bit) {
            continue;
        }
        if (!lk_ocf_meta_advised(meta, keys[i].key, value, sizeof(value))) {
            continue;
        }
        struct lk_settings next = a->res->settings;
        /* An advice the settings cannot take (out of range) is skipped, not an error. */
        if (lk_settings_set(&next, keys[i].key, value, err, sizeof(err)) == 0 &&
            lk_settings_check(&next, err, sizeof(err)) == 0) {
            a->res->settings = next;
        }
    }
}

static void admit_meta_done(int status, const char *err, const struct lk_ocf_meta *meta,
                            const char *agent, void *userdata)
{
    (void) agent;
    struct admit *a = userdata;
    if (status < 0) {
        admit_finish(a, status, "%s", err);
        return;
    }
    if (meta->promotable) {
        admit_finish(a, -EINVAL,
                     "%s is a promotable agent (promote/demote): OpenKeeper runs no promotable "
                     "agents",
                     a->agent_name);
        return;
    }
    struct lk_ocf_value *values = values_of(a->params);
    if (!values) {
        admit_finish(a, -ENOMEM, "out of memory");
        return;
    }
    char cerr[512];
    int r = lk_ocf_meta_check_params(meta, a->agent_name, values, a->params ? a->params->count : 0,
                                     cerr, sizeof(cerr));
    free(values);
    if (r < 0) {
        admit_finish(a, r, "%s", cerr);
        return;
    }
    apply_advice(a, meta);
    const struct lk_ocf_action *v = lk_ocf_meta_action(meta, "validate-all", false);
    /* The agent's advice is outside input: a create waits at most 5 minutes for it (bounded
     * in ms, before the product could overflow). */
    uint64_t ms = v && v->timeout_ms ? v->timeout_ms : VALIDATE_DEFAULT_USEC / 1000;
    a->validate_usec = (ms < VALIDATE_MAX_USEC / 1000 ? ms : VALIDATE_MAX_USEC / 1000) * 1000;
    start_validate(a);
}

static int admit(uv_loop_t *loop, const struct lk_type_ctx *ctx, struct lk_resource *res,
                 const struct lk_params *params, unsigned given, lk_type_admit_cb cb,
                 void *userdata, char *err, size_t err_size)
{
    struct admit *a = calloc(1, sizeof(*a));
    if (!a) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    a->loop = loop;
    snprintf(a->root, sizeof(a->root), "%s", ctx->root);
    snprintf(a->node, sizeof(a->node), "%s", ctx->node_name ? ctx->node_name : "");
    a->res = res;
    a->params = params;
    a->given = given;
    a->cb = cb;
    a->userdata = userdata;
    int r = agent_of(res, &a->agent, a->agent_path, sizeof(a->agent_path), err, err_size);
    if (r < 0) {
        free(a);
        return r;
    }
    /* The stored type is the agent's plain name: "ocf:heartbeat:X" and "X" become
     * "heartbeat:X". */
    lk_ocf_agent_format(&a->agent, a->agent_name, sizeof(a->agent_name));
    snprintf(res->type, sizeof(res->type), "%s", a->agent_name);
    r = lk_type_ocf_meta(loop, a->root, a->node, a->agent_name, admit_meta_done, a, err, err_size);
    if (r < 0) {
        free(a);
        return r;
    }
    return 0;
}

const struct lk_type_ops lk_type_ocf = {
        .app = "ocf",
        .check = check,
        .has_action = has_action,
        .prepare = prepare,
        .classify = classify,
        .describe = describe,
        .admit = admit,
        .scrub = scrub,
};
