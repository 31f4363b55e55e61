/* Importing a LifeKeeper configuration (`lkcli import lifekeeper`): reading what
 * LifeKeeper's commands print (ins_list, then optionally "#dep_list" and "#eqv_list"
 * sections) and turning it into the numbered lkcli commands that recreate it.
 * Pure: no I/O, no daemon; the caller says which script files exist and runs the steps. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define LK_IMPORT_MAX_INPUT    (8u * 1024 * 1024) /* bytes of the dump */
#define LK_IMPORT_MAX_RECORDS  4096               /* lines of each section */
#define LK_IMPORT_MAX_MAP      64                 /* --map options */
#define LK_IMPORT_MAX_PRIORITY 1024

/* One ins_list record (SPEC §7's seventeen fields), strings owned by the dump. */
struct lk_import_resource {
    unsigned line;
    char *system, *app, *type, *tag, *id, *info, *init, *quick, *deep, *local_recovery, *switchback;
};

struct lk_import_dep {
    unsigned line;
    char *parent, *child;
};

/* One eqv_list record: tag on system has priority prio, its equivalent other_tag on
 * other_system has other_prio. */
struct lk_import_eqv {
    unsigned line;
    char *system, *tag, *other_system, *other_tag;
    unsigned prio, other_prio;
};

/* What lk_import_parse read; free with lk_import_dump_done. */
struct lk_import_dump {
    char sep; /* the field separator found */
    struct lk_import_resource *res;
    size_t n_res;
    struct lk_import_dep *deps;
    size_t n_deps;
    struct lk_import_eqv *eqvs;
    size_t n_eqvs;
};

/* Parses a dump: blank lines and '#' comments skipped, "#ins_list", "#dep_list" and
 * "#eqv_list" start a section (ins_list first, without its heading too). The separator is
 * the one of the first ins_list line: ^A, 0x1F, or else one of , : | TAB that splits it
 * into seventeen fields. `\ooo` (three octal digits) in a field is that byte (how our
 * ins_list escapes a separator inside a field). dep_list lines: `parent SEP child` (or
 * `system SEP parent SEP child`); eqv_list lines: the seven fields of LK::eqv_list.
 * Returns 0, or -EINVAL (err: one line naming the line number) / -ENOMEM. */
int lk_import_parse(const char *text, size_t len, struct lk_import_dump *ret_dump, char *err,
                    size_t err_size);
void lk_import_dump_done(struct lk_import_dump *dump);

enum lk_import_step_kind {
    LK_IMPORT_STEP_CREATE,
    LK_IMPORT_STEP_DEPENDENCY,
    LK_IMPORT_STEP_EXTEND,
    LK_IMPORT_STEP_TUNABLES,
    LK_IMPORT_STEP_RESTORE,
};

/* One lkcli command: argv without "lkcli" (argv[argc] is NULL), owned by the plan. */
struct lk_import_step {
    enum lk_import_step_kind kind;
    char **argv;
    size_t argc;
    const char *tag; /* the resource it is about (into argv), NULL for tunables */
};

struct lk_import_skip {
    char *tag, *why;
};

struct lk_import_plan {
    struct lk_import_step *steps;
    size_t n_steps;
    struct lk_import_skip *skipped; /* records not imported, with why */
    size_t n_skipped;
    char **warnings; /* what an administrator should know (priorities changed…) */
    size_t n_warnings;
    char **nodes; /* every OpenKeeper node the steps extend to (not the local one) */
    size_t n_nodes;
    char **tags; /* every tag the steps create */
    size_t n_tags;
    char *source; /* the LifeKeeper system the ins_list came from */
};

/* Whether the file at path exists (the caller's look; NULL: none does). */
typedef bool (*lk_import_exists_cb)(const char *path, void *userdata);

struct lk_import_options {
    const char *scripts_dir;   /* the copied subsys/gen/resources/app tree */
    const char *tunables_file; /* NULL: no tunables step */
    const char *local_node;    /* the node the commands run on (priority 1 there) */
    const char *const *map_from, *const *map_to; /* --map LKNODE=NODE */
    size_t n_map;
    bool intervals_minutes; /* ins_list's check intervals are minutes (default: seconds) */
    bool restore;           /* bring the roots in service at the end */
    lk_import_exists_cb exists;
    void *userdata;
};

/* Plans the import of dump: one create per gen/app resource (children first, never in
 * service: --no-in-service), its dependencies, extends of each hierarchy's roots with
 * the priorities of eqv_list, the tunables, then (restore) a restore of each root.
 * Returns 0, or -EINVAL (err: one line) when the dump cannot be imported as a whole (a
 * bad value, a dependency or equivalency naming no resource, a priority out of range),
 * or -ENOMEM. Free with lk_import_plan_done. */
int lk_import_plan(const struct lk_import_dump *dump, const struct lk_import_options *opts,
                   struct lk_import_plan *ret_plan, char *err, size_t err_size);
void lk_import_plan_done(struct lk_import_plan *plan);

/* A step as one shell command line ("lkcli resource create gen --tag 'a b' …"), with
 * prefix words before it ("lkcli --root /x"); words quoted with '' where a shell would
 * read them otherwise. Returns a malloc'ed string, NULL for ENOMEM. */
char *lk_import_step_text(const struct lk_import_step *step, const char *prefix);

/* The path of a script in the LifeKeeper tree: dir/actions/!restore/TAG for "restore",
 * "remove", "quickchk", "deepchk"; dir/recovery/!recover/TAG for "recover". Returns
 * the length, or -ENOSPC/-EINVAL. */
int lk_import_script_path(const char *dir, const char *action, const char *tag, char *buf,
                          size_t size);
