/* lkcli lifekeeper-setup: makes LifeKeeper's absolute paths resolve on a machine that never
 * had LifeKeeper, with symbolic links into this node's root (docs/LIFEKEEPER.md, "Scripts:
 * arguments, environment, Perl"): /opt/LifeKeeper/bin/perl to /usr/bin/perl, each
 * /opt/LifeKeeper/bin/<command> to $LKROOT/bin/<command>, /opt/LifeKeeper/lib/perl,
 * /etc/default/LifeKeeper and /etc/default/LifeKeeper.pl to their $LKROOT files, and
 * /opt/LifeKeeper/subsys and lkadm to $LKROOT's when the root is elsewhere.
 *
 * It plans every step first and refuses the whole (changing nothing) when a path is held
 * by something it did not make: a file, a directory, or a link to somewhere else (a real
 * LifeKeeper). It must never remove or overwrite anything; a link that is already right is
 * left as it is, so running it again changes nothing. --prefix DIR puts every path under
 * DIR instead of / (tests); --dry-run prints the steps and does none. */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "client.h"
#include "lifekeeper.h"
#include "lkcli.h"
#include "proto.h"

#define LK_HOME     "/opt/LifeKeeper"
#define SYSTEM_PERL "/usr/bin/perl"
#define MAX_STEPS   64

enum step_kind { STEP_MKDIR, STEP_LINK, STEP_KEEP, STEP_SKIP };

struct step {
    enum step_kind kind;
    char path[PATH_MAX];
    char target[PATH_MAX];
};

struct plan {
    struct step steps[MAX_STEPS];
    size_t n;
    char refused[PATH_MAX + 128]; /* why the whole is refused, or "" */
};

static struct step *add(struct plan *p, enum step_kind kind, const char *path, const char *target)
{
    if (p->n >= MAX_STEPS) {
        snprintf(p->refused, sizeof(p->refused), "too many steps");
        return NULL;
    }
    struct step *s = &p->steps[p->n++];
    s->kind = kind;
    snprintf(s->path, sizeof(s->path), "%s", path);
    snprintf(s->target, sizeof(s->target), "%s", target ? target : "");
    return s;
}

static bool planned_dir(const struct plan *p, const char *path)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->steps[i].kind == STEP_MKDIR && strcmp(p->steps[i].path, path) == 0) {
            return true;
        }
    }
    return false;
}

/* A directory that must exist: kept, or made (its parents first). A link to a directory
 * is followed (an administrator's own layout); anything else refuses the plan. */
static void plan_dir(struct plan *p, const char *path)
{
    if (p->refused[0] || planned_dir(p, path)) {
        return;
    }
    struct stat st;
    if (stat(path, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            snprintf(p->refused, sizeof(p->refused), "'%s' exists and is not a directory", path);
        }
        return;
    }
    char parent[PATH_MAX];
    snprintf(parent, sizeof(parent), "%s", path);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        plan_dir(p, parent);
    }
    (void) add(p, STEP_MKDIR, path, NULL);
}

/* A link path → target: kept when it is one already, refused when the path is anything
 * else. */
static void plan_link(struct plan *p, const char *path, const char *target)
{
    if (p->refused[0]) {
        return;
    }
    if (strcmp(path, target) == 0) {
        (void) add(p, STEP_SKIP, path, "it is the root's own file");
        return;
    }
    char parent[PATH_MAX];
    snprintf(parent, sizeof(parent), "%s", path);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        plan_dir(p, parent);
    }
    struct stat st;
    if (lstat(path, &st) < 0) {
        (void) add(p, STEP_LINK, path, target);
        return;
    }
    if (S_ISLNK(st.st_mode)) {
        char now[PATH_MAX];
        ssize_t n = readlink(path, now, sizeof(now) - 1);
        if (n >= 0) {
            now[n] = '\0';
            if (strcmp(now, target) == 0) {
                (void) add(p, STEP_KEEP, path, target);
                return;
            }
            snprintf(p->refused, sizeof(p->refused),
                     "'%s' is a link to '%s', not made by lifekeeper-setup", path, now);
            return;
        }
    }
    snprintf(p->refused, sizeof(p->refused), "'%s' exists (%s): is LifeKeeper installed?", path,
             S_ISDIR(st.st_mode) ? "a directory" : "a file");
}

static void build_plan(struct plan *p, const char *prefix, const char *root)
{
    char home[PATH_MAX], path[PATH_MAX], target[PATH_MAX];
    snprintf(home, sizeof(home), "%s" LK_HOME, prefix);
    snprintf(path, sizeof(path), "%s/bin/perl", home);
    plan_link(p, path, SYSTEM_PERL);
    for (size_t i = 0; lk_lifekeeper_commands[i]; i++) {
        snprintf(path, sizeof(path), "%s/bin/%s", home, lk_lifekeeper_commands[i]);
        snprintf(target, sizeof(target), "%s/bin/%s", root, lk_lifekeeper_commands[i]);
        if (access(target, X_OK) < 0) {
            (void) add(p, STEP_SKIP, path, "not installed in the root's bin (start lkd first)");
            continue;
        }
        plan_link(p, path, target);
    }
    snprintf(path, sizeof(path), "%s/lib/perl", home);
    snprintf(target, sizeof(target), "%s/lib/perl", root);
    plan_link(p, path, target);
    snprintf(path, sizeof(path), "%s/etc/default/LifeKeeper", prefix);
    snprintf(target, sizeof(target), "%s/etc/default/LifeKeeper", root);
    plan_link(p, path, target);
    snprintf(path, sizeof(path), "%s/etc/default/LifeKeeper.pl", prefix);
    snprintf(target, sizeof(target), "%s/etc/default/LifeKeeper.pl", root);
    plan_link(p, path, target);
    if (strcmp(root, LK_HOME) != 0) {
        static const char *const dirs[] = {"subsys", "lkadm"};
        for (size_t i = 0; i < 2; i++) {
            snprintf(path, sizeof(path), "%s/%s", home, dirs[i]);
            snprintf(target, sizeof(target), "%s/%s", root, dirs[i]);
            plan_link(p, path, target);
        }
    }
}

/* Root, or a member of lkadmin (SPEC §10's admin role). */
static bool is_admin(void)
{
    if (geteuid() == 0) {
        return true;
    }
    const struct group *g = getgrnam("lkadmin");
    if (!g) {
        return false;
    }
    gid_t groups[NGROUPS_MAX];
    int n = getgroups(NGROUPS_MAX, groups);
    for (int i = 0; i < n; i++) {
        if (groups[i] == g->gr_gid) {
            return true;
        }
    }
    return getegid() == g->gr_gid;
}

static const char *const kind_names[] = {"mkdir", "link", "keep", "skip"};

int lk_cmd_lifekeeper_setup(const struct lk_cli *cli, int argc, char **argv)
{
    struct lk_opt opts[] = {
            {.name = "dry-run", .help = "print the steps, do none of them"},
            {.name = "prefix",
             .has_value = true,
             .arg = "DIR",
             .help = "make the paths under DIR instead of / (tests)"},
    };
    const size_t n_opts = sizeof(opts) / sizeof(opts[0]);
    if (lk_args_parse(cli->prog, argc, argv, opts, n_opts, NULL, 0, NULL) != 0) {
        return LK_EXIT_USAGE;
    }
    if (!is_admin()) {
        return lk_fail(cli->prog, LK_EXIT_DENIED,
                       "lifekeeper-setup: permission denied: only root and members of lkadmin");
    }
    bool dry = lk_args_get(opts, n_opts, "dry-run")->seen;
    const char *prefix_arg = lk_args_get(opts, n_opts, "prefix")->value;
    char prefix[PATH_MAX] = "";
    if (prefix_arg) {
        if (prefix_arg[0] != '/' || !realpath(prefix_arg, prefix)) {
            return lk_fail(cli->prog, LK_EXIT_USAGE,
                           "lifekeeper-setup: --prefix '%s' must be an existing absolute directory",
                           prefix_arg);
        }
        if (strcmp(prefix, "/") == 0) {
            prefix[0] = '\0';
        }
    }
    char root[PATH_MAX];
    if (!realpath(cli->root, root)) {
        return lk_fail(cli->prog, LK_EXIT_FAILED,
                       "lifekeeper-setup: root '%s': %s (start lkd on it first)", cli->root,
                       strerror(errno));
    }
    struct plan *p = calloc(1, sizeof(*p));
    if (!p) {
        return lk_fail(cli->prog, LK_EXIT_FAILED, "out of memory");
    }
    build_plan(p, prefix, root);
    if (p->refused[0]) {
        int r = lk_fail(cli->prog, LK_EXIT_FAILED, "lifekeeper-setup: refused, nothing changed: %s",
                        p->refused);
        free(p);
        return r;
    }
    json_t *steps = cli->json ? json_array() : NULL;
    int rc = 0;
    for (size_t i = 0; i < p->n; i++) {
        const struct step *s = &p->steps[i];
        int r = 0;
        if (!dry && s->kind == STEP_MKDIR) {
            r = mkdir(s->path, 0755) < 0 && errno != EEXIST ? -errno : 0;
        } else if (!dry && s->kind == STEP_LINK) {
            r = symlink(s->target, s->path) < 0 ? -errno : 0;
        }
        if (r < 0) {
            rc = lk_fail(cli->prog, LK_EXIT_FAILED, "lifekeeper-setup: cannot %s '%s': %s",
                         kind_names[s->kind], s->path, strerror(-r));
            break;
        }
        if (steps) {
            json_array_append_new(steps,
                                  json_pack("{s:s, s:s, s:s, s:b}", "action", kind_names[s->kind],
                                            "path", s->path, "target", s->target, "done", !dry));
        } else if (s->kind == STEP_MKDIR) {
            printf("%s%s\n", dry ? "would make directory " : "made directory ", s->path);
        } else if (s->kind == STEP_LINK) {
            printf("%s%s -> %s\n", dry ? "would link " : "linked ", s->path, s->target);
        } else if (s->kind == STEP_KEEP) {
            printf("already linked %s -> %s\n", s->path, s->target);
        } else {
            printf("skipped %s: %s\n", s->path, s->target);
        }
    }
    free(p);
    if (steps) {
        if (rc == 0) {
            json_t *out = json_pack("{s:o, s:b}", "steps", steps, "dry_run", dry);
            lk_print_json(out);
            json_decref(out);
        } else {
            json_decref(steps);
        }
    }
    if (fflush(stdout) != 0 && rc == 0) {
        rc = lk_fail(cli->prog, LK_EXIT_FAILED, "cannot write the output");
    }
    return rc;
}
