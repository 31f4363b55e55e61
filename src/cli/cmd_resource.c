/* lkcli resource …: create, restore, remove, delete, update-script, config, test, list.
 * Reads script, helper and parameter files here, with the caller's own permissions, and
 * sends their content; the daemon validates everything again. Long operations print each
 * step as lkd reports it. A secret parameter's value is sent, never printed: lkd answers
 * with "***" in its place. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "action.h"
#include "args.h"
#include "client.h"
#include "help.h"
#include "lkcli.h"
#include "output.h"
#include "params.h"
#include "readfile.h"
#include "resource.h"

#define N_SETTINGS 19

/* The options most verbs share, with their help (help.c). */
#define TAG_OPT(what)                                                                              \
    {                                                                                              \
        .name = "tag", .has_value = true, .arg = "T", .help = what, .required = true               \
    }
#define SCRIPT_OPT(action, what, dflt_text)                                                        \
    {                                                                                              \
        .name = action, .has_value = true, .arg = "FILE", .help = what " (copied to every node)",  \
        .dflt = dflt_text                                                                          \
    }
#define ACTION_OPT                                                                                 \
    {                                                                                              \
        .name = "action", .has_value = true, .arg = "A",                                           \
        .help = "restore, remove, quickchk, deepchk or recover", .required = true                  \
    }

/* The options every create/config accepts: the settings of SPEC §6, and --check, the short
 * name of --quickchk-check (docs/CHECKS.md). */
static size_t add_setting_opts(struct lk_opt *opts, size_t n)
{
    for (size_t i = 0; lk_settings_keys[i]; i++) {
        opts[n++] = lk_help_setting_opt(lk_settings_keys[i]);
    }
    opts[n++] = (struct lk_opt){
            .name = "check",
            .has_value = true,
            .arg = "SPEC",
            .help = "the quick check lkd runs itself, no script: tcp:HOST:PORT, "
                    "http://HOST:PORT/PATH[=STATUS][~BODY] or process (= --quickchk-check)",
            .dflt = "none"};
    return n;
}

/* The built-in check SPECs given, checked here before lkd is asked (it checks them again):
 * 0, or 2 after one line on stderr. */
static int check_specs(const struct lk_cli *cli, const char *verb, struct lk_opt *opts,
                       size_t n_opts)
{
    static const char *const names[][2] = {{"check", "quickchk-check"},
                                           {"quickchk-check", "quickchk-check"},
                                           {"deepchk-check", "deepchk-check"}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const struct lk_opt *o = lk_args_get(opts, n_opts, names[i][0]);
        struct lk_settings scratch;
        char err[512];
        lk_settings_init(&scratch);
        if (o && o->value &&
            lk_settings_set(&scratch, names[i][1], o->value, err, sizeof(err)) < 0) {
            return lk_fail(cli->prog, 2, "resource %s: %s", verb, err);
        }
    }
    return 0;
}

static json_t *settings_json(struct lk_opt *opts, size_t n_opts)
{
    json_t *settings = json_object();
    struct lk_opt *check = lk_args_get(opts, n_opts, "check");
    if (check && check->value) {
        json_object_set_new(settings, "quickchk-check", json_string(check->value));
    }
    for (size_t i = 0; lk_settings_keys[i]; i++) {
        struct lk_opt *o = lk_args_get(opts, n_opts, lk_settings_keys[i]);
        if (o && o->value) {
            json_object_set_new(settings, o->name, json_string(o->value));
        }
    }
    return settings;
}

/* The options that give parameters and helper files, with their help and the caller's array
 * (of LK_PARAMS_MAX, LK_HELPERS_MAX for --helper) that receives their values. */
#define PARAM_OPT(what, array)                                                                     \
    {                                                                                              \
        .name = "param", .has_value = true, .arg = "NAME=VALUE", .help = what " (repeatable)",     \
        .dflt = "none", .values = array, .max_values = LK_PARAMS_MAX                               \
    }
#define PARAM_FILE_OPT                                                                             \
    {                                                                                              \
        .name = "param-file", .has_value = true, .arg = "FILE",                                    \
        .help = "NAME=VALUE lines ('#' comments), each secret (keep it 0600)", .dflt = "none"      \
    }
#define SECRET_OPT(array)                                                                          \
    {                                                                                              \
        .name = "secret", .has_value = true, .arg = "NAME",                                        \
        .help = "show this parameter as *** everywhere (repeatable)", .dflt = "none",              \
        .values = array, .max_values = LK_PARAMS_MAX                                               \
    }
#define HELPER_OPT(what, array)                                                                    \
    {                                                                                              \
        .name = "helper", .has_value = true, .arg = "FILE", .help = what " (repeatable)",          \
        .dflt = "none", .values = array, .max_values = LK_HELPERS_MAX                              \
    }

/* The helper files named by --helper as {basename: base64}; NULL after an error. */
static json_t *helpers_json(const char *prog, const struct lk_opt *o)
{
    json_t *out = json_object();
    for (size_t i = 0; out && i < o->count; i++) {
        const char *path = o->values[i];
        const char *slash = strrchr(path, '/');
        const char *name = slash ? slash + 1 : path;
        char err[256];
        if (lk_params_check_helper_name(name, err, sizeof(err)) < 0) {
            lk_fail(prog, 2, "helper '%s': %s", path, err);
            json_decref(out);
            return NULL;
        }
        if (json_object_get(out, name)) {
            lk_fail(prog, 2, "helper file '%s' is given twice", name);
            json_decref(out);
            return NULL;
        }
        size_t len = 0;
        char *data =
                lk_read_small_file(prog, "helper", path, LK_SCRIPT_MAX_SIZE, false, false, &len);
        if (!data) {
            json_decref(out);
            return NULL;
        }
        size_t b64_len = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
        char *b64 = malloc(b64_len);
        if (b64) {
            sodium_bin2base64(b64, b64_len, (const unsigned char *) data, len,
                              sodium_base64_VARIANT_ORIGINAL);
            json_object_set_new(out, name, json_string(b64));
        }
        free(data);
        free(b64);
        if (!b64) {
            lk_fail(prog, 1, "out of memory");
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* The parameters of --param, --param-file (each secret) and --secret as the API's full
 * form; *ret_secrets: the --secret names not among them (config marks existing ones).
 * NULL after an error. */
static json_t *params_json(const char *prog, const struct lk_opt *param, const struct lk_opt *file,
                           const struct lk_opt *secret, json_t **ret_secrets)
{
    struct lk_params p = {0};
    char err[512];
    int r = 0;
    if (file->value) {
        size_t len = 0;
        char *text = lk_read_small_file(prog, "parameter file", file->value,
                                        (size_t) LK_PARAMS_MAX * (LK_PARAM_VALUE_MAX + 80), false,
                                        false, &len);
        if (!text) {
            return NULL;
        }
        r = lk_params_parse_file(&p, text, len, true, err, sizeof(err));
        sodium_memzero(text, len);
        free(text);
        if (r < 0) {
            lk_params_free(&p);
            lk_fail(prog, 2, "parameter file '%s': %s", file->value, err);
            return NULL;
        }
    }
    for (size_t i = 0; r == 0 && i < param->count; i++) {
        char name[LK_PARAM_NAME_MAX + 1];
        const char *value = NULL;
        r = lk_params_parse_assignment(param->values[i], name, &value, err, sizeof(err));
        if (r == 0 && lk_params_find(&p, name)) {
            r = lk_fail_einval(err, sizeof(err), "parameter '%s' is given twice", name);
        }
        if (r == 0) {
            r = lk_params_set(&p, name, value, false, err, sizeof(err));
        }
    }
    json_t *others = json_array();
    for (size_t i = 0; r == 0 && i < secret->count; i++) {
        if (lk_params_check_name(secret->values[i], err, sizeof(err)) < 0) {
            r = -EINVAL;
        } else if (lk_params_mark_secret(&p, secret->values[i]) < 0) {
            json_array_append_new(others, json_string(secret->values[i]));
        }
    }
    json_t *out = r == 0 ? lk_params_json(&p) : NULL;
    lk_params_free(&p);
    if (r < 0) {
        json_decref(others);
        lk_fail(prog, 2, "%s", err);
        return NULL;
    }
    *ret_secrets = others;
    return out;
}

/* The agent as lkd stores it: "ocf:heartbeat:IPaddr2" is "heartbeat:IPaddr2". */
static const char *agent_name(const char *agent)
{
    return strncmp(agent, "ocf:", 4) == 0 ? agent + 4 : agent;
}

/* Parameters and helper files of one resource as `resource list --tag` shows them. */
static void print_files(const json_t *res)
{
    json_t *params = json_object_get(res, "params");
    const char *key;
    json_t *v;
    if (json_object_size(params)) {
        printf("  parameters:\n");
    }
    json_object_foreach(params, key, v)
    {
        printf("    %s=%s\n", key, json_string_value(v));
    }
    const json_t *helpers = json_object_get(res, "helpers");
    if (json_array_size(helpers)) {
        printf("  helper files:");
        size_t i;
        json_array_foreach(helpers, i, v)
        {
            printf(" %s", json_string_value(v));
        }
        printf("\n");
    }
}

static int print_resource_result(const struct lk_cli *cli, json_t *data, const char *done)
{
    if (cli->json) {
        lk_print_json(data);
    } else if (!json_object_get(data, "state")) {
        /* Done by the cluster: where it ended. */
        const char *where = json_string_value(json_object_get(data, "node"));
        printf("resource '%s' %s%s%s\n", json_string_value(json_object_get(data, "tag")), done,
               where && where[0] ? " on " : " on every node", where && where[0] ? where : "");
    } else {
        printf("resource '%s' %s (%s): %s\n", json_string_value(json_object_get(data, "tag")), done,
               json_string_value(json_object_get(data, "state")),
               json_string_value(json_object_get(data, "reason")));
    }
    json_decref(data);
    return 0;
}

/* A setting's value as text, whatever JSON type carries it. */
static const char *value_text(const json_t *v, char *buf, size_t size)
{
    if (json_is_string(v)) {
        return json_string_value(v);
    }
    if (json_is_boolean(v)) {
        return json_is_true(v) ? "on" : "off";
    }
    snprintf(buf, size, "%lld", (long long) json_integer_value(v));
    return buf;
}

/* A resource's settings, one per line, each with the value that applies ("effective",
 * from lkd) and, in parentheses, what a 0 or an empty value stands for. Which are at their
 * default is in --json's "defaults" (the text keeps one value per line, as scripts read
 * it). */
static void print_settings(const json_t *res)
{
    const json_t *settings = json_object_get(res, "settings");
    const json_t *effective = json_object_get(res, "effective");
    for (size_t i = 0; lk_settings_keys[i]; i++) {
        const char *key = lk_settings_keys[i];
        const json_t *v = json_object_get(settings, key);
        if (!v) {
            continue;
        }
        char buf[32], ebuf[32];
        const char *raw = value_text(v, buf, sizeof(buf));
        const json_t *e = json_object_get(effective, key);
        const char *shown = e ? value_text(e, ebuf, sizeof(ebuf)) : raw;
        /* " (the quickchk-interval)" after the value, or "none" instead of nothing; a
         * check timeout whose interval is 0 (no periodic check) is the action-timeout. */
        const char *note = lk_help_value_note(key, raw);
        const char *interval = strcmp(key, "quickchk-timeout") == 0  ? "quickchk-interval"
                               : strcmp(key, "deepchk-timeout") == 0 ? "deepchk-interval"
                                                                     : NULL;
        char ibuf[32];
        if (interval && strcmp(raw, "0") == 0 &&
            strcmp(value_text(json_object_get(settings, interval), ibuf, sizeof(ibuf)), "0") == 0) {
            note = " (the action-timeout)";
        }
        if (!shown[0] && note[0] && note[0] != ' ') {
            printf("  %-24s %s\n", key, note);
        } else {
            printf("  %-24s %s%s\n", key, shown, note[0] == ' ' ? note : "");
        }
    }
}

static lk_progress_cb progress_for(const struct lk_cli *cli)
{
    return cli->json ? NULL : lk_print_progress;
}

static int need(const struct lk_cli *cli, const char *verb, struct lk_opt *o)
{
    if (!o->value) {
        return lk_fail(cli->prog, 2, "resource %s: missing --%s", verb, o->name);
    }
    return 0;
}

static int cmd_create(const struct lk_cli *cli, int argc, char **argv)
{
    const char *params[LK_PARAMS_MAX], *secrets[LK_PARAMS_MAX], *helpers[LK_HELPERS_MAX];
    struct lk_opt opts[48] = {
            TAG_OPT("the new resource's tag (its name)"),
            {.name = "id",
             .has_value = true,
             .arg = "ID",
             .help = "an identifier of its own (ins_list's 5th field)",
             .dflt = "the tag"},
            {.name = "app-info",
             .has_value = true,
             .arg = "S",
             .help = "free text kept with it (ins_list's 6th field)",
             .dflt = "empty"},
            {.name = "no-in-service", .help = "define it only; do not run restore"},
            SCRIPT_OPT("restore", "gen: the script that starts the application",
                       "none; gen: required"),
            SCRIPT_OPT("remove", "gen: the script that stops the application",
                       "none; gen: required"),
            SCRIPT_OPT("quickchk", "gen: the quick check, exit 0 when it runs", "none"),
            SCRIPT_OPT("deepchk", "gen: the deep check, exit 0 when it works", "none"),
            SCRIPT_OPT("recover", "gen: run after a failed check before a restore here", "none"),
            {.name = "agent",
             .has_value = true,
             .arg = "PROVIDER:AGENT",
             .help = "ocf: the resource agent (heartbeat:IPaddr2; ocf:heartbeat:IPaddr2 too)",
             .dflt = "none"},
            {.name = "unit",
             .has_value = true,
             .arg = "NAME",
             .help = "systemd: the unit (nginx.service)",
             .dflt = "none"},
            PARAM_OPT("ocf, systemd: a parameter", params),
            PARAM_FILE_OPT,
            SECRET_OPT(secrets),
            HELPER_OPT("gen: a file its scripts share, in $LK_HELPERS on every node", helpers),
    };
    size_t n = add_setting_opts(opts, 15);
    const char *pos[2];
    size_t npos = 0;
    if (lk_args_parse(cli->prog, argc, argv, opts, n, pos, 2, &npos) != 0) {
        return 2;
    }
    const char *app = npos == 1 ? pos[0] : "";
    bool gen = strcmp(app, "gen") == 0, ocf = strcmp(app, "ocf") == 0;
    if (npos != 1 || (!gen && !ocf && strcmp(app, "systemd") != 0)) {
        return lk_fail(cli->prog, 2,
                       "resource create: the type must be given first: "
                       "resource create gen|ocf|systemd --tag T ...");
    }
    if (need(cli, "create", &opts[0])) {
        return 2;
    }
    if (gen && (need(cli, "create", &opts[4]) || need(cli, "create", &opts[5]))) {
        return 2;
    }
    for (size_t i = 4; !gen && i <= 8; i++) {
        if (opts[i].value) {
            return lk_fail(cli->prog, 2,
                           "resource create: --%s is for gen resources: a%s %s "
                           "resource runs its %s",
                           opts[i].name, ocf ? "n" : "", app, ocf ? "agent" : "unit");
        }
    }
    const struct lk_opt *type_opt = gen ? NULL : ocf ? &opts[9] : &opts[10];
    const struct lk_opt *other_opt = gen ? NULL : ocf ? &opts[10] : &opts[9];
    if (type_opt && need(cli, "create", (struct lk_opt *) (uintptr_t) type_opt)) {
        return 2;
    }
    if ((gen && (opts[9].value || opts[10].value)) || (other_opt && other_opt->value)) {
        return lk_fail(cli->prog, 2, "resource create: --%s is not for a%s %s resource",
                       opts[9].value && (gen || other_opt == &opts[9]) ? "agent" : "unit",
                       ocf ? "n" : "", app);
    }
    if (gen && (opts[11].count || opts[12].value || opts[13].count)) {
        return lk_fail(cli->prog, 2,
                       "resource create: parameters are for ocf and systemd resources; a gen "
                       "resource's scripts get --app-info");
    }
    if (!gen && opts[14].count) {
        return lk_fail(cli->prog, 2, "resource create: --helper is for a gen resource's scripts");
    }
    /* Said before any script is read; lkd checks it again (and, for config, against the
     * pidfile the resource already has). */
    const struct lk_opt *watch = lk_args_get(opts, n, "watch");
    const struct lk_opt *pidfile = lk_args_get(opts, n, "pidfile");
    if (watch && watch->value && strcmp(watch->value, "pidfile") == 0 &&
        (!pidfile || !pidfile->value || !pidfile->value[0])) {
        return lk_fail(cli->prog, 2, "resource create: watch pidfile needs --pidfile");
    }
    if (check_specs(cli, "create", opts, n) != 0) {
        return 2;
    }
    json_t *unknown_secrets = NULL;
    json_t *param_obj = params_json(cli->prog, &opts[11], &opts[12], &opts[13], &unknown_secrets);
    if (!param_obj) {
        return 2;
    }
    if (json_array_size(unknown_secrets)) {
        json_decref(param_obj);
        int r = lk_fail(cli->prog, 2, "--secret %s: no such parameter is given",
                        json_string_value(json_array_get(unknown_secrets, 0)));
        json_decref(unknown_secrets);
        return r;
    }
    json_decref(unknown_secrets);
    json_t *helper_obj = helpers_json(cli->prog, &opts[14]);
    if (!helper_obj) {
        json_decref(param_obj);
        return 2;
    }
    json_t *scripts = json_object();
    for (size_t i = 4; i <= 8; i++) {
        if (!opts[i].value) {
            continue;
        }
        char *b64 = lk_read_script(cli->prog, opts[i].name, opts[i].value);
        if (!b64) {
            json_decref(scripts);
            json_decref(param_obj);
            json_decref(helper_obj);
            return 2;
        }
        json_object_set_new(scripts, opts[i].name, json_string(b64));
        free(b64);
    }
    const char *type = gen ? "app" : ocf ? agent_name(type_opt->value) : type_opt->value;
    json_t *args =
            json_pack("{s:s, s:s, s:s, s:o, s:o, s:b, s:o, s:o}", "app", app, "type", type, "tag",
                      opts[0].value, "scripts", scripts, "settings", settings_json(opts, n),
                      "in_service", !opts[3].seen, "params", param_obj, "helpers", helper_obj);
    if (opts[1].value) {
        json_object_set_new(args, "id", json_string(opts[1].value));
    }
    if (opts[2].value) {
        json_object_set_new(args, "info", json_string(opts[2].value));
    }
    json_t *data = NULL;
    int r = lk_client_call(cli->prog, cli->root, LK_CMD_RES_CREATE, args, progress_for(cli), NULL,
                           &data);
    if (r != 0) {
        return r;
    }
    return print_resource_result(cli, data, opts[3].seen ? "created" : "created and in service");
}

/* restore, remove, delete: --tag T (restore also --node N; remove and delete also
 * --hierarchy). */
static int cmd_simple(const struct lk_cli *cli, const char *verb, const char *cmd, int argc,
                      char **argv)
{
    struct lk_opt opts[] = {
            TAG_OPT("the resource"),
            {.name = "node",
             .has_value = true,
             .arg = "N",
             .help = "bring it in service on node N (a switchover when elsewhere)",
             .dflt = "this node"},
            {.name = "hierarchy",
             .help = strcmp(verb, "delete") == 0 ? "delete its whole tree (parents and children)"
                                                 : "take its whole tree out of service"},
    };
    /* The second option this verb takes: --node for restore, --hierarchy otherwise. */
    size_t second = strcmp(verb, "restore") == 0 ? 1 : 2;
    struct lk_opt accepted[] = {opts[0], opts[second]};
    if (lk_args_parse(cli->prog, argc, argv, accepted, 2, NULL, 0, NULL) != 0) {
        return 2;
    }
    opts[0] = accepted[0];
    opts[second] = accepted[1];
    if (need(cli, verb, &opts[0])) {
        return 2;
    }
    json_t *args = json_pack("{s:s}", "tag", opts[0].value);
    if (opts[1].value) {
        json_object_set_new(args, "node", json_string(opts[1].value));
    }
    if (opts[2].seen) {
        json_object_set_new(args, "hierarchy", json_true());
    }
    json_t *data = NULL;
    int r = lk_client_call(cli->prog, cli->root, cmd, args, progress_for(cli), NULL, &data);
    if (r != 0) {
        return r;
    }
    if (strcmp(verb, "delete") == 0) {
        if (cli->json) {
            lk_print_json(data);
        } else {
            size_t i;
            json_t *t;
            json_array_foreach(json_object_get(data, "deleted"), i, t)
            {
                printf("resource '%s' deleted\n", json_string_value(t));
            }
        }
        json_decref(data);
        return 0;
    }
    return print_resource_result(
            cli, data, strcmp(verb, "restore") == 0 ? "is in service" : "is out of service");
}

static int cmd_update_script(const struct lk_cli *cli, int argc, char **argv)
{
    const char *helpers[LK_HELPERS_MAX];
    struct lk_opt opts[] = {
            TAG_OPT("the resource"),
            {.name = "action",
             .has_value = true,
             .arg = "A",
             .help = "restore, remove, quickchk, deepchk or recover (with --file)",
             .dflt = "none"},
            {.name = "file",
             .has_value = true,
             .arg = "FILE",
             .help = "the new script of --action (copied to every node)",
             .dflt = "none"},
            HELPER_OPT("a helper file to add or replace, by its name (copied to every node)",
                       helpers),
    };
    if (lk_args_parse(cli->prog, argc, argv, opts, 4, NULL, 0, NULL) != 0) {
        return 2;
    }
    if (need(cli, "update-script", &opts[0])) {
        return 2;
    }
    if (opts[3].count == 0 || opts[1].value || opts[2].value) {
        if (need(cli, "update-script", &opts[1]) || need(cli, "update-script", &opts[2])) {
            return 2;
        }
        if (lk_action_from_name(opts[1].value) == LK_ACTION_NONE) {
            return lk_fail(cli->prog, 2,
                           "unknown action '%s': expected restore, remove, quickchk, deepchk or "
                           "recover",
                           opts[1].value);
        }
    }
    json_t *helper_obj = opts[3].count ? helpers_json(cli->prog, &opts[3]) : NULL;
    if (opts[3].count && !helper_obj) {
        return 2;
    }
    json_t *args = json_pack("{s:s}", "tag", opts[0].value);
    if (opts[1].value) {
        char *b64 = lk_read_script(cli->prog, opts[1].value, opts[2].value);
        if (!b64) {
            json_decref(args);
            json_decref(helper_obj);
            return 2;
        }
        json_object_set_new(args, "action", json_string(opts[1].value));
        json_object_set_new(args, "content", json_string(b64));
        free(b64);
    }
    if (helper_obj) {
        json_object_set_new(args, "helpers", helper_obj);
    }
    json_t *data = NULL;
    int r = lk_client_call(cli->prog, cli->root, LK_CMD_RES_UPDATE, args, NULL, NULL, &data);
    if (r != 0) {
        return r;
    }
    if (cli->json) {
        lk_print_json(data);
    } else {
        if (opts[1].value) {
            printf("%s script of '%s' replaced\n", opts[1].value, opts[0].value);
        }
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(data, "helpers"), i, v)
        {
            printf("helper file '%s' of '%s' replaced\n", json_string_value(v), opts[0].value);
        }
    }
    json_decref(data);
    return 0;
}

static int cmd_config(const struct lk_cli *cli, int argc, char **argv)
{
    const char *params[LK_PARAMS_MAX], *secrets[LK_PARAMS_MAX], *unset[LK_PARAMS_MAX];
    struct lk_opt opts[48] = {
            TAG_OPT("the resource"),
            {.name = "app-info",
             .has_value = true,
             .arg = "S",
             .help = "replace its free text (ins_list's 6th field)",
             .dflt = "unchanged"},
            PARAM_OPT("ocf, systemd: set a parameter", params),
            PARAM_FILE_OPT,
            SECRET_OPT(secrets),
            {.name = "unset-param",
             .has_value = true,
             .arg = "NAME",
             .help = "ocf, systemd: remove a parameter (repeatable)",
             .dflt = "none",
             .values = unset,
             .max_values = LK_PARAMS_MAX},
    };
    size_t n = add_setting_opts(opts, 6);
    if (lk_args_parse(cli->prog, argc, argv, opts, n, NULL, 0, NULL) != 0) {
        return 2;
    }
    if (need(cli, "config", &opts[0]) || check_specs(cli, "config", opts, n) != 0) {
        return 2;
    }
    json_t *args =
            json_pack("{s:s, s:o}", "tag", opts[0].value, "settings", settings_json(opts, n));
    if (opts[1].value) {
        json_object_set_new(args, "info", json_string(opts[1].value));
    }
    if (opts[2].count || opts[3].value || opts[4].count) {
        json_t *marks = NULL;
        json_t *given = params_json(cli->prog, &opts[2], &opts[3], &opts[4], &marks);
        if (!given) {
            json_decref(args);
            return 2;
        }
        json_object_set_new(args, "params", given);
        json_object_set_new(args, "secret_params", marks);
    }
    if (opts[5].count) {
        json_t *names = json_array();
        for (size_t i = 0; i < opts[5].count; i++) {
            json_array_append_new(names, json_string(opts[5].values[i]));
        }
        json_object_set_new(args, "unset_params", names);
    }
    json_t *data = NULL;
    int r = lk_client_call(cli->prog, cli->root, LK_CMD_RES_CONFIG, args, NULL, NULL, &data);
    if (r != 0) {
        return r;
    }
    if (cli->json) {
        lk_print_json(data);
    } else {
        printf("resource '%s' settings:\n", opts[0].value);
        print_settings(data);
        print_files(data);
    }
    json_decref(data);
    return 0;
}

static int cmd_test(const struct lk_cli *cli, int argc, char **argv)
{
    struct lk_opt opts[] = {
            TAG_OPT("the resource"),
            ACTION_OPT,
    };
    if (lk_args_parse(cli->prog, argc, argv, opts, 2, NULL, 0, NULL) != 0) {
        return 2;
    }
    if (need(cli, "test", &opts[0]) || need(cli, "test", &opts[1])) {
        return 2;
    }
    if (lk_action_from_name(opts[1].value) == LK_ACTION_NONE) {
        return lk_fail(cli->prog, 2,
                       "unknown action '%s': expected restore, remove, quickchk, deepchk or "
                       "recover",
                       opts[1].value);
    }
    json_t *args = json_pack("{s:s, s:s}", "tag", opts[0].value, "action", opts[1].value);
    json_t *data = NULL;
    int r = lk_client_call(cli->prog, cli->root, LK_CMD_RES_TEST, args, NULL, NULL, &data);
    if (r != 0) {
        return r;
    }
    bool ok = json_is_true(json_object_get(data, "ok"));
    if (cli->json) {
        lk_print_json(data);
    } else {
        const char *output = json_string_value(json_object_get(data, "output"));
        size_t len = json_string_length(json_object_get(data, "output"));
        printf("--- output of %s (last 4 KiB) ---\n", opts[1].value);
        fwrite(output ? output : "", 1, len, stdout);
        if (len > 0 && output[len - 1] != '\n') {
            putchar('\n');
        }
        printf("--- verdict: %s: %s in %lld ms ---\n", ok ? "success" : "FAILURE",
               json_string_value(json_object_get(data, "description")),
               (long long) json_integer_value(json_object_get(data, "duration_ms")));
    }
    json_decref(data);
    return ok ? 0 : 1;
}

static int cmd_list(const struct lk_cli *cli, int argc, char **argv)
{
    struct lk_opt opts[] = {{.name = "tag",
                             .has_value = true,
                             .arg = "T",
                             .help = "only this resource, with its settings",
                             .dflt = "every resource"}};
    if (lk_args_parse(cli->prog, argc, argv, opts, 1, NULL, 0, NULL) != 0) {
        return 2;
    }
    json_t *args = json_object();
    if (opts[0].value) {
        json_object_set_new(args, "tag", json_string(opts[0].value));
    }
    json_t *data = NULL;
    int r = lk_client_call(cli->prog, cli->root, LK_CMD_RES_LIST, args, NULL, NULL, &data);
    if (r != 0) {
        return r;
    }
    if (cli->json) {
        lk_print_json(json_object_get(data, "resources"));
    } else {
        size_t i;
        json_t *res;
        json_array_foreach(json_object_get(data, "resources"), i, res)
        {
            printf("%-24s %-5s %s\n", json_string_value(json_object_get(res, "tag")),
                   json_string_value(json_object_get(res, "state")),
                   json_string_value(json_object_get(res, "reason")));
            if (opts[0].value) {
                print_settings(res);
                print_files(res);
            }
        }
    }
    json_decref(data);
    return 0;
}

static int tag_only(const struct lk_cli *cli, const char *verb, int argc, char **argv,
                    json_t **ret_args)
{
    struct lk_opt opts[] = {TAG_OPT("the resource")};
    if (lk_args_parse(cli->prog, argc, argv, opts, 1, NULL, 0, NULL) != 0) {
        return 2;
    }
    if (need(cli, verb, &opts[0])) {
        return 2;
    }
    *ret_args = json_pack("{s:s}", "tag", opts[0].value);
    return 0;
}

static int cmd_reset(const struct lk_cli *cli, int argc, char **argv)
{
    json_t *args = NULL, *data = NULL;
    int r = tag_only(cli, "reset", argc, argv, &args);
    if (r == 0) {
        r = lk_client_call(cli->prog, cli->root, LK_CMD_RES_RESET, args, NULL, NULL, &data);
    }
    if (r != 0) {
        return r;
    }
    if (cli->json) {
        lk_print_json(data);
    } else {
        printf("resource '%s': check-failure and local-recovery counters cleared\n",
               json_string_value(json_object_get(data, "tag")));
        if (json_is_true(json_object_get(data, "stop_failed_cleared"))) {
            printf("resource '%s': 'remove failed: may still be running' cleared: you vouch that "
                   "its application no longer runs on this node\n",
                   json_string_value(json_object_get(data, "tag")));
        }
    }
    json_decref(data);
    return 0;
}

static int cmd_why(const struct lk_cli *cli, int argc, char **argv)
{
    json_t *args = NULL, *data = NULL;
    int r = tag_only(cli, "why", argc, argv, &args);
    if (r == 0) {
        r = lk_client_call(cli->prog, cli->root, LK_CMD_RES_WHY, args, NULL, NULL, &data);
    }
    if (r != 0) {
        return r;
    }
    if (cli->json) {
        lk_print_json(data);
        json_decref(data);
        return 0;
    }
    json_t *incident = json_object_get(data, "incident");
    const char *root =
            json_string_value(json_object_get(json_object_get(data, "root_cause"), "line"));
    if (root) {
        printf("root cause: %s\n", root);
    }
    printf("resource '%s' is %s: %s\n", json_string_value(json_object_get(data, "tag")),
           json_string_value(json_object_get(data, "state")),
           json_string_value(json_object_get(data, "reason")));
    printf("check failures in a row: %lld, local recoveries: %lld\n",
           (long long) json_integer_value(json_object_get(data, "check_failures_in_row")),
           (long long) json_integer_value(json_object_get(data, "local_recoveries")));
    size_t i;
    json_t *e;
    /* The nodes whose events are not in the timeline. */
    json_array_foreach(json_object_get(data, "missing"), i, e)
    {
        printf("%s: %s\n", json_string_value(json_object_get(e, "node")),
               json_string_value(json_object_get(e, "why")));
    }
    if (json_array_size(incident) == 0) {
        printf("no incident recorded: nothing has failed\n");
        json_decref(data);
        return 0;
    }
    printf("\nlast incident:\n");
    unsigned flags = LK_EVENT_DETAIL;
    if (json_is_true(json_object_get(data, "clustered"))) {
        flags |= LK_EVENT_NODE; /* one timeline across nodes: say whose each line is */
    }
    json_array_foreach(incident, i, e)
    {
        lk_print_event(e, "  ", flags);
    }
    json_decref(data);
    return 0;
}

int lk_cmd_resource(const struct lk_cli *cli, int argc, char **argv)
{
    if (argc < 1) {
        return lk_fail(cli->prog, 2, "resource: missing verb (see lkcli --help)");
    }
    const char *verb = argv[0];
    argc--;
    argv++;
    if (strcmp(verb, "create") == 0) {
        return cmd_create(cli, argc, argv);
    }
    if (strcmp(verb, "restore") == 0) {
        return cmd_simple(cli, verb, LK_CMD_RES_RESTORE, argc, argv);
    }
    if (strcmp(verb, "remove") == 0) {
        return cmd_simple(cli, verb, LK_CMD_RES_REMOVE, argc, argv);
    }
    if (strcmp(verb, "delete") == 0) {
        return cmd_simple(cli, verb, LK_CMD_RES_DELETE, argc, argv);
    }
    if (strcmp(verb, "update-script") == 0) {
        return cmd_update_script(cli, argc, argv);
    }
    if (strcmp(verb, "config") == 0) {
        return cmd_config(cli, argc, argv);
    }
    if (strcmp(verb, "test") == 0) {
        return cmd_test(cli, argc, argv);
    }
    if (strcmp(verb, "list") == 0) {
        return cmd_list(cli, argc, argv);
    }
    if (strcmp(verb, "why") == 0) {
        return cmd_why(cli, argc, argv);
    }
    if (strcmp(verb, "reset") == 0) {
        return cmd_reset(cli, argc, argv);
    }
    if (strcmp(verb, "describe-agent") == 0) {
        return lk_cmd_describe_agent(cli, argc, argv);
    }
    if (strcmp(verb, "extend") == 0 || strcmp(verb, "unextend") == 0) {
        return lk_cmd_extend(cli, strcmp(verb, "extend") == 0, argc, argv);
    }
    return lk_fail(cli->prog, 2, "resource: unknown verb '%s' (see lkcli --help)", verb);
}
