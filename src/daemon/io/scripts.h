/* Script copies under $LKROOT/subsys/gen/resources/app/actions/<action>/<TAG>, the same
 * content at LifeKeeper's names (actions/!restore/<TAG> …, recovery/!recover/<TAG>), and the
 * environment each run gets (SPEC §3). Installing a copy is atomic: a temporary file in
 * the same directory, fsync, rename, fsync of the directory. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "resource.h"
#include "runner.h"

/* Path of tag's script copy for action under root ($LKROOT/subsys/gen/resources/app/
 * actions/<action>/<tag>). Returns buf. */
char *lk_scripts_path(const char *root, enum lk_action action, const char *tag, char *buf,
                      size_t size);

/* Directory of the LifeKeeper names of action's copies under root
 * ($LKROOT/subsys/gen/resources/app/actions/!restore, !remove, !quickCheck, !deepCheck,
 * or recovery/!recover). Returns buf. */
char *lk_scripts_lk_dir(const char *root, enum lk_action action, char *buf, size_t size);

/* Path of tag's copy for action at its LifeKeeper name (lk_scripts_lk_dir + "/" + tag).
 * Returns buf. */
char *lk_scripts_lk_path(const char *root, enum lk_action action, const char *tag, char *buf,
                         size_t size);

/* Writes content as the copy of tag's action script, mode 0700, then the same content at
 * its LifeKeeper name (a separate file, also 0700, also atomic). Returns 0 or -errno with
 * a one-line message in err. */
int lk_scripts_install(const char *root, const char *tag, enum lk_action action,
                       const void *content, size_t len, char *err, size_t err_size);

/* Writes content at the LifeKeeper name of tag's action script only (atomic, 0700): the
 * watcher puts a refused file back this way. Returns 0 or -errno with err. */
int lk_scripts_install_lk(const char *root, const char *tag, enum lk_action action,
                          const void *content, size_t len, char *err, size_t err_size);

/* Reads tag's copy for action (lk_name false) or the file at its LifeKeeper name (true)
 * through safeopen: a regular file, never a link or a FIFO, owned by root or lkd's user,
 * not writable by group or others, at most LK_SCRIPT_MAX_SIZE bytes. 0 with a malloc'ed
 * NUL-terminated *ret (the caller frees it), *ret_len and *ret_st (may be NULL); or -errno
 * with a one-line message naming the file in err (-ENOENT: it does not exist). */
int lk_scripts_read(const char *root, enum lk_action action, const char *tag, bool lk_name,
                    unsigned char **ret, size_t *ret_len, struct stat *ret_st, char *err,
                    size_t err_size);

/* Removes tag's copy for action and its LifeKeeper name; missing files are fine. */
void lk_scripts_remove(const char *root, enum lk_action action, const char *tag);

/* Creates path and its missing parents with mode (existing ones are left as they are).
 * Returns 0 or -errno. */
int lk_scripts_mkdir(const char *path, mode_t mode);

/* Removes every copy of tag's scripts, at both names; missing files are fine. */
void lk_scripts_remove_all(const char *root, const char *tag);

/* Everything a run of one script needs; filled by lk_scripts_prepare. */
/* LKROOT … LANG, LK_HELPERS (the helper files' directory), PERL5LIB (the Perl API's and the
 * gen/app libraries' directories: lib/lifekeeper.h) */
#define LK_SCRIPT_ENV_COUNT 10
struct lk_script_run {
    char path[LK_PATH_MAX + 256];
    char *env[LK_SCRIPT_ENV_COUNT + 1];
    char storage[LK_SCRIPT_ENV_COUNT][LK_PATH_MAX + 320];
    struct lk_run_spec spec;
};

/* Fills run for res's action on node node_name under root: path, the scrubbed environment, cwd
 * $LKROOT, the timeout from the resource's settings, and the permission check rooted at $LKROOT. */
void lk_scripts_prepare(const char *root, const char *node_name, const struct lk_resource *res,
                        enum lk_action action, struct lk_script_run *run);

/* The timeout a run of action gets for res, in µs (0 = none). */
uint64_t lk_scripts_timeout(const struct lk_resource *res, enum lk_action action);

/* The tunables (src/lib/tunables.h) a script's environment gets: add(name, value, userdata)
 * is called for each key of text, in the text's order, that is not reserved (LKROOT, PATH,
 * LANG, PERL5LIB, LK_*: lk_tunables_reserved) — every environment OpenKeeper builds for a
 * gen/app script, `resource test` and a remote command adds them after its own variables.
 * text NULL or "" adds nothing; a text that does not parse adds nothing (the setting is
 * always checked before it is in force). Returns 0, -ENOMEM, or the first negative value
 * add returned. */
typedef int (*lk_scripts_env_add_fn)(const char *name, const char *value, void *userdata);
int lk_scripts_env_tunables(const char *text, lk_scripts_env_add_fn add, void *userdata);
