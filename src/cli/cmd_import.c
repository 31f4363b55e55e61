/* lkcli import lifekeeper FILE: recreates a LifeKeeper configuration (what ins_list,
 * dep_list and eqv_list printed) in this cluster. lkimport.c reads the dump and plans the
 * steps as lkcli commands; this file checks what the plan needs before anything is done
 * (the scripts are there and valid, no tag exists, every node is a live member), prints the
 * plan (--dry-run stops there), and runs each step through the same lkcli code an
 * administrator's command would run, so what --dry-run prints is what is done.
 * Never: creates anything when a check fails, leaves half an import behind when a step
 * fails before the restores (what this run created is deleted again), or brings a
 * resource in service unless --restore is given. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "client.h"
#include "help.h"
#include "lkcli.h"
#include "lkimport.h"
#include "readfile.h"
#include "resource.h"
#include "validate.h"

#define WHAT             "import lifekeeper"
#define DEFAULT_SCRIPTS  "/opt/LifeKeeper/subsys/gen/resources/app"
#define MAX_TUNABLES_LEN (64 * 1024)

static bool file_exists(const char *path, void *userdata)
{
    (void) userdata;
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Whether this lkcli takes `resource create --script-args` (the resource setting). */
static bool knows_script_args(void)
{
    for (size_t i = 0; lk_settings_keys[i]; i++) {
        if (strcmp(lk_settings_keys[i], "script-args") == 0) {
            return true;
        }
    }
    return false;
}

/* Whether this lkcli has `cluster tunables --file`. */
static bool knows_tunables_file(void)
{
    for (size_t i = 0; lk_help_commands[i].path; i++) {
        if (strcmp(lk_help_commands[i].path, "cluster tunables") == 0) {
            return strstr(lk_help_commands[i].synopsis, "--file") != NULL;
        }
    }
    return false;
}

/* What lkd says about the cluster: this node's name, and whether node is a live member. */
struct cluster_view {
    json_t *nodes; /* node.list's reply, NULL when lkd could not be asked */
    json_t *resources;
    const char *self;
};

static const char *sval(const json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return v ? v : "";
}

static const json_t *find_node(const struct cluster_view *v, const char *name)
{
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(v->nodes, "nodes"), i, n)
    {
        if (strcmp(sval(n, "name"), name) == 0) {
            return n;
        }
    }
    return NULL;
}

/* Every check that makes the import all or nothing; 0, or the exit status after one line
 * on stderr. view->nodes NULL: lkd was not asked (a dry run without lkd). */
static int check_plan(const struct lk_cli *cli, const struct lk_import_plan *plan,
                      const struct cluster_view *view, const char *tunables)
{
    for (size_t i = 0; i < plan->n_steps; i++) {
        const struct lk_import_step *s = &plan->steps[i];
        if (s->kind != LK_IMPORT_STEP_CREATE) {
            continue;
        }
        for (size_t a = 0; a + 1 < s->argc; a++) {
            const char *o = s->argv[a];
            if (strcmp(o, "--restore") == 0 || strcmp(o, "--remove") == 0 ||
                strcmp(o, "--quickchk") == 0 || strcmp(o, "--deepchk") == 0 ||
                strcmp(o, "--recover") == 0) {
                char what[64];
                snprintf(what, sizeof(what), "%s: '%s' %s", WHAT, s->tag, o + 2);
                char *b64 = lk_read_script(cli->prog, what, s->argv[a + 1]);
                if (!b64) {
                    return 2;
                }
                free(b64);
            }
        }
    }
    if (tunables) {
        struct stat st;
        /* st is read only when stat succeeded. */
        int sr = stat(tunables, &st) < 0 ? -errno : 0;
        if (sr < 0 || !S_ISREG(st.st_mode)) {
            return lk_fail(cli->prog, 2, WHAT ": tunables file '%s': %s", tunables,
                           sr < 0 && sr != -ENOENT ? strerror(-sr) : "no such regular file");
        }
        if (st.st_size > MAX_TUNABLES_LEN || access(tunables, R_OK) != 0) {
            return lk_fail(cli->prog, 2, WHAT ": tunables file '%s': %s", tunables,
                           st.st_size > MAX_TUNABLES_LEN ? "larger than 64 KiB" : "not readable");
        }
    }
    if (!view->nodes) {
        return 0;
    }
    for (size_t i = 0; i < plan->n_tags; i++) {
        size_t j;
        json_t *r;
        json_array_foreach(view->resources, j, r)
        {
            if (strcmp(sval(r, "tag"), plan->tags[i]) == 0) {
                return lk_fail(cli->prog, 1,
                               WHAT ": resource '%s' exists already: nothing was imported",
                               plan->tags[i]);
            }
        }
    }
    for (size_t i = 0; i < plan->n_nodes; i++) {
        const json_t *n = find_node(view, plan->nodes[i]);
        if (!n || json_is_true(json_object_get(n, "witness"))) {
            return lk_fail(cli->prog, 1,
                           WHAT ": node '%s' is not a member of this cluster (give "
                                "--map LKNODE=NODE): nothing was imported",
                           plan->nodes[i]);
        }
        if (strcmp(sval(n, "state"), "ALIVE") != 0) {
            return lk_fail(cli->prog, 1, WHAT ": node '%s' is not ALIVE: nothing was imported",
                           plan->nodes[i]);
        }
    }
    return 0;
}

/* Runs one lkcli command (argv without "lkcli") through lkcli's own code. */
static int dispatch(const struct lk_cli *cli, int argc, char **argv)
{
    if (strcmp(argv[0], "resource") == 0) {
        return lk_cmd_resource(cli, argc - 1, argv + 1);
    }
    if (strcmp(argv[0], "dependency") == 0) {
        return lk_cmd_dependency(cli, argc - 1, argv + 1);
    }
    if (strcmp(argv[0], "cluster") == 0) {
        return lk_cmd_cluster(cli, "cluster", argc - 1, argv + 1);
    }
    return lk_fail(cli->prog, 3, WHAT ": internal error: no command '%s'", argv[0]);
}

/* The step's words as they are run here: without what this lkcli does not know. NULL when
 * the whole step is left out; *ret_note says why. */
static char **runnable(const struct lk_import_step *s, char **buf, int *ret_argc,
                       const char **ret_note)
{
    *ret_note = NULL;
    if (s->kind == LK_IMPORT_STEP_TUNABLES && !knows_tunables_file()) {
        *ret_note = "this lkcli has no 'cluster tunables --file': set the tunables once it "
                    "has (the step above)";
        return NULL;
    }
    int n = 0;
    for (size_t i = 0; i < s->argc; i++) {
        if (s->kind == LK_IMPORT_STEP_CREATE && strcmp(s->argv[i], "--script-args") == 0 &&
            !knows_script_args()) {
            *ret_note = "this lkcli has no --script-args: the scripts are called without "
                        "-t TAG -i ID (set it with 'resource config' once it has)";
            i++;
            continue;
        }
        buf[n++] = s->argv[i];
    }
    buf[n] = NULL;
    *ret_argc = n;
    return buf;
}

/* stdout while a step runs: the step's own lines, or (--json) nowhere, so that the one
 * JSON object at the end is all there is. */
static int mute_stdout(void)
{
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (saved >= 0 && null >= 0) {
        (void) dup2(null, STDOUT_FILENO);
    }
    if (null >= 0) {
        close(null);
    }
    return saved;
}

static void unmute_stdout(int saved)
{
    fflush(stdout);
    if (saved >= 0) {
        (void) dup2(saved, STDOUT_FILENO);
        close(saved);
    }
}

/* Deletes what this run created, newest first (parents before their children). */
static void roll_back(const struct lk_cli *quiet, const struct lk_import_plan *plan, size_t upto)
{
    for (size_t i = upto; i-- > 0;) {
        const struct lk_import_step *s = &plan->steps[i];
        if (s->kind != LK_IMPORT_STEP_CREATE) {
            continue;
        }
        char w0[] = "resource", w1[] = "delete", w2[] = "--tag";
        char *argv[] = {w0, w1, w2, s->argv[4], NULL};
        if (!quiet->json) {
            printf("rolling back: lkcli resource delete --tag %s\n", s->tag);
        }
        int saved = quiet->json ? mute_stdout() : -1;
        (void) dispatch(quiet, 4, argv);
        if (quiet->json) {
            unmute_stdout(saved);
        }
    }
}

static const char *kind_name(enum lk_import_step_kind k)
{
    static const char *const names[] = {"create", "dependency", "extend", "tunables", "restore"};
    return names[k];
}

int lk_cmd_import(const struct lk_cli *cli, int argc, char **argv)
{
    const char *maps[LK_IMPORT_MAX_MAP];
    struct lk_opt opts[] = {
            {.name = "scripts",
             .has_value = true,
             .arg = "DIR",
             .help = "the copy of LifeKeeper's subsys/gen/resources/app tree "
                     "(actions/!restore/TAG …, recovery/!recover/TAG)",
             .dflt = DEFAULT_SCRIPTS},
            {.name = "tunables",
             .has_value = true,
             .arg = "FILE",
             .help = "LifeKeeper's /etc/default/LifeKeeper, made the cluster's tunables",
             .dflt = "none"},
            {.name = "map",
             .has_value = true,
             .arg = "LKNODE=NODE",
             .help = "the OpenKeeper node of a LifeKeeper system (repeatable)",
             .dflt = "the same name",
             .values = maps,
             .max_values = LK_IMPORT_MAX_MAP},
            {.name = "intervals",
             .has_value = true,
             .arg = "UNIT",
             .help = "the unit of ins_list's check intervals: seconds or minutes",
             .dflt = "seconds"},
            {.name = "restore", .help = "bring each imported hierarchy in service at the end"},
            {.name = "dry-run", .help = "print the numbered steps, change nothing"},
    };
    const size_t n_opts = sizeof(opts) / sizeof(opts[0]);
    const char *pos[3];
    size_t npos = 0;
    if (lk_args_parse(cli->prog, argc, argv, opts, n_opts, pos, 3, &npos) != 0) {
        return 2;
    }
    if (npos < 1 || strcmp(pos[0], "lifekeeper") != 0) {
        return lk_fail(cli->prog, 2,
                       "import: what to import from must be given first: "
                       "import lifekeeper FILE");
    }
    if (npos != 2) {
        return lk_fail(cli->prog, 2,
                       WHAT ": needs one FILE (ins_list output, optionally "
                            "with #dep_list and #eqv_list sections)");
    }
    const char *intervals = opts[3].value ? opts[3].value : "seconds";
    if (strcmp(intervals, "seconds") != 0 && strcmp(intervals, "minutes") != 0) {
        return lk_fail(cli->prog, 2, WHAT ": --intervals '%s': expected seconds or minutes",
                       intervals);
    }
    const char *from[LK_IMPORT_MAX_MAP], *to[LK_IMPORT_MAX_MAP];
    char map_buf[LK_IMPORT_MAX_MAP][2 * LK_TAG_MAX + 2];
    for (size_t i = 0; i < opts[2].count; i++) {
        const char *m = opts[2].values[i];
        const char *eq = strchr(m, '=');
        char err[256];
        if (!eq || strlen(m) >= sizeof(map_buf[i])) {
            return lk_fail(cli->prog, 2, WHAT ": --map '%s': expected LKNODE=NODE", m);
        }
        snprintf(map_buf[i], sizeof(map_buf[i]), "%s", m);
        map_buf[i][eq - m] = '\0';
        from[i] = map_buf[i];
        to[i] = map_buf[i] + (eq - m) + 1;
        if (!from[i][0] || strchr(from[i], '\001') || strchr(from[i], '\n')) {
            return lk_fail(cli->prog, 2, WHAT ": --map '%s': expected LKNODE=NODE", m);
        }
        if (lk_validate_tag(to[i], "node name", err, sizeof(err)) < 0) {
            return lk_fail(cli->prog, 2, WHAT ": --map '%s': %s", m, err);
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(from[j], from[i]) == 0) {
                return lk_fail(cli->prog, 2, WHAT ": --map %s is given twice", from[i]);
            }
        }
    }
    size_t len = 0;
    char *text = lk_read_small_file(cli->prog, WHAT ": dump", pos[1], LK_IMPORT_MAX_INPUT, true,
                                    true, &len);
    if (!text) {
        return 2;
    }
    struct lk_import_dump dump;
    char err[1024];
    int r = lk_import_parse(text, len, &dump, err, sizeof(err));
    free(text);
    if (r < 0) {
        return lk_fail(cli->prog, 2, WHAT ": '%s': %s", pos[1], err);
    }
    bool dry = opts[5].seen;
    /* What lkd knows: this node's name, the members, the tags. A dry run goes on without
     * lkd (the plan then names this node as the dump's system, unchecked). */
    struct cluster_view view = {0};
    json_t *res_data = NULL;
    r = lk_client_call(cli->prog, cli->root, LK_CMD_NODE_LIST, NULL, NULL, NULL, &view.nodes);
    if (r == 0) {
        r = lk_client_call(cli->prog, cli->root, LK_CMD_RES_LIST, NULL, NULL, NULL, &res_data);
    }
    if (r != 0) {
        json_decref(view.nodes);
        view.nodes = NULL;
        if (!dry) {
            lk_import_dump_done(&dump);
            return r;
        }
    }
    view.resources = json_object_get(res_data, "resources");
    size_t k;
    json_t *n;
    json_array_foreach(json_object_get(view.nodes, "nodes"), k, n)
    {
        if (json_is_true(json_object_get(n, "self"))) {
            view.self = json_string_value(json_object_get(n, "name"));
        }
    }
    /* Absolute, so that the printed commands work from any directory. */
    char *scripts_abs = opts[0].value ? realpath(opts[0].value, NULL) : NULL;
    char *tunables_abs = opts[1].value ? realpath(opts[1].value, NULL) : NULL;
    struct lk_import_options io = {
            .scripts_dir = scripts_abs     ? scripts_abs
                           : opts[0].value ? opts[0].value
                                           : DEFAULT_SCRIPTS,
            .tunables_file = tunables_abs ? tunables_abs : opts[1].value,
            .local_node = view.self,
            .map_from = from,
            .map_to = to,
            .n_map = opts[2].count,
            .intervals_minutes = strcmp(intervals, "minutes") == 0,
            .restore = opts[4].seen,
            .exists = file_exists,
    };
    struct lk_import_plan plan;
    r = lk_import_plan(&dump, &io, &plan, err, sizeof(err));
    lk_import_dump_done(&dump);
    free(scripts_abs);
    free(tunables_abs);
    if (r < 0) {
        json_decref(view.nodes);
        json_decref(res_data);
        return lk_fail(cli->prog, 2, WHAT ": '%s': %s", pos[1], err);
    }
    /* The commands as an administrator would type them: with --root when this one is not
     * the root lkcli finds by itself. */
    char prefix[4200];
    const char *env_root = getenv("LKROOT");
    bool own_root = strcmp(cli->root, env_root && env_root[0] ? env_root : LK_DEFAULT_ROOT) != 0;
    char *root_copy = strdup(cli->root);
    struct lk_import_step root_step = {.argv = &root_copy, .argc = root_copy ? 1 : 0};
    char *quoted_root = own_root ? lk_import_step_text(&root_step, "") : NULL;
    snprintf(prefix, sizeof(prefix), "lkcli%s%s", quoted_root ? " --root" : "",
             quoted_root ? quoted_root : "");
    free(quoted_root);
    free(root_copy);

    int check = check_plan(cli, &plan, &view, opts[1].value);
    json_t *out = json_pack("{s:b, s:s, s:s, s:o, s:o, s:o}", "dry_run", dry, "source", plan.source,
                            "node", view.self ? view.self : "", "steps", json_array(), "skipped",
                            json_array(), "warnings", json_array());
    for (size_t i = 0; i < plan.n_skipped; i++) {
        json_array_append_new(
                json_object_get(out, "skipped"),
                json_pack("{s:s, s:s}", "tag", plan.skipped[i].tag, "why", plan.skipped[i].why));
    }
    for (size_t i = 0; i < plan.n_warnings; i++) {
        json_array_append_new(json_object_get(out, "warnings"), json_string(plan.warnings[i]));
    }
    if (!view.nodes) {
        json_array_append_new(json_object_get(out, "warnings"),
                              json_string("lkd was not reachable: existing tags and nodes were "
                                          "not checked"));
    }
    json_t *steps = json_object_get(out, "steps");
    for (size_t i = 0; i < plan.n_steps; i++) {
        char *line = lk_import_step_text(&plan.steps[i], prefix);
        json_t *words = json_array();
        for (size_t j = 0; j < plan.steps[i].argc; j++) {
            json_array_append_new(words, json_string(plan.steps[i].argv[j]));
        }
        json_array_append_new(steps,
                              json_pack("{s:i, s:s, s:s, s:o, s:s}", "step", (int) i + 1, "kind",
                                        kind_name(plan.steps[i].kind), "command", line ? line : "",
                                        "argv", words, "result", dry ? "planned" : "not run"));
        free(line);
        /* What this lkcli leaves out of the step (options it does not have yet). */
        char *scratch[128];
        int scratch_n = 0;
        const char *note = NULL;
        if (plan.steps[i].argc < 127) {
            (void) runnable(&plan.steps[i], scratch, &scratch_n, &note);
        }
        if (note) {
            json_object_set_new(json_array_get(steps, i), "note", json_string(note));
        }
    }
    if (!cli->json) {
        printf("import from LifeKeeper system %s: %zu resource%s, %zu skipped, %zu step%s%s\n",
               plan.source, plan.n_tags, plan.n_tags == 1 ? "" : "s", plan.n_skipped, plan.n_steps,
               plan.n_steps == 1 ? "" : "s", dry ? " (dry run: nothing is done)" : "");
        for (size_t i = 0; i < plan.n_skipped; i++) {
            printf("skipped: '%s': %s\n", plan.skipped[i].tag, plan.skipped[i].why);
        }
        size_t i;
        json_t *w;
        json_array_foreach(json_object_get(out, "warnings"), i, w)
        {
            printf("warning: %s\n", json_string_value(w));
        }
        if (dry) {
            json_array_foreach(steps, i, w)
            {
                printf("%zu. %s\n", i + 1, json_string_value(json_object_get(w, "command")));
                if (json_object_get(w, "note")) {
                    printf("   note: %s\n", json_string_value(json_object_get(w, "note")));
                }
            }
        }
    }
    int status = check;
    if (dry || check != 0) {
        if (cli->json && check == 0) {
            lk_print_json(out);
        }
        goto out;
    }
    /* The run: each step as its own command; the first failure before the restores undoes
     * the creates. */
    struct lk_cli sub = *cli;
    char *words[128];
    for (size_t i = 0; i < plan.n_steps && status == 0; i++) {
        const struct lk_import_step *s = &plan.steps[i];
        json_t *st = json_array_get(steps, i);
        int wc = 0;
        const char *note = NULL;
        char **run = s->argc < 127 ? runnable(s, words, &wc, &note) : NULL;
        if (!cli->json) {
            printf("%zu/%zu. %s\n", i + 1, plan.n_steps,
                   json_string_value(json_object_get(st, "command")));
            if (note) {
                printf("  note: %s\n", note);
            }
        }
        if (!run) {
            json_object_set_new(st, "result", json_string("left out"));
            continue;
        }
        int saved = cli->json ? mute_stdout() : -1;
        int rc = dispatch(&sub, wc, run);
        if (cli->json) {
            unmute_stdout(saved);
        }
        json_object_set_new(st, "result", json_string(rc == 0 ? "done" : "failed"));
        if (rc != 0) {
            status = rc;
            if (s->kind != LK_IMPORT_STEP_RESTORE) {
                fprintf(stderr,
                        "%s: " WHAT ": step %zu failed: removing what this import "
                        "created\n",
                        cli->prog, i + 1);
                roll_back(&sub, &plan, i);
            }
        }
    }
    if (cli->json) {
        json_object_set_new(out, "imported", json_boolean(status == 0));
        lk_print_json(out);
    } else if (status == 0) {
        printf("imported %zu resource%s from LifeKeeper system %s\n", plan.n_tags,
               plan.n_tags == 1 ? "" : "s", plan.source);
    }
out:
    json_decref(out);
    json_decref(view.nodes);
    json_decref(res_data);
    lk_import_plan_done(&plan);
    return status;
}
